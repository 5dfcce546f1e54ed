//! Every JSON output against its JSON Schema (docs/schema/NAME.json, draft 2020-12), which
//! is generated from the output's type (`agentmeter::schemas::documents`, schemars).
//!
//! - The files are what the types generate: refresh them with
//!   `AGENTMETER_UPDATE_DOCS=1 cargo test --test it -- json_schemas`; without the variable,
//!   a file that differs (or one too many, or one missing) fails.
//! - The real outputs of each command, run on bundled inputs, validate; every object in them
//!   is closed (one more key fails) and every key the program always writes is required
//!   (dropping it fails).
//! - The schemas say what they are (`$id`, title, the `schema` string the code writes), each
//!   field is described, shared definitions agree, the cost and token keys are the category
//!   table's, and docs/reference/json.md lists them all.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use agentmeter::category::{Category, CostColumn};
use serde_json::{json, Value};

use crate::common::*;

/// One JSON output agentmeter writes, and the keys it leaves out of some documents.
struct JsonOutput {
    /// Its schema's name (`agentmeter::schemas::Document::name`).
    name: &'static str,
    /// Keys the program leaves out of some documents (all others are always written).
    optional: &'static [&'static str],
}

const OUTPUTS: &[JsonOutput] = &[
    JsonOutput {
        name: "meter-v1",
        optional: &[
            "contract",
            "empty_files",
            "passed_over",
            "shard",
            "groups",
            "contracted_cost",
            "advisor",
            "commitment_shortfall",
            "credits_used",
            "billed",
        ],
    },
    JsonOutput {
        name: "projection-v1",
        optional: &["variants", "contract", "list_expected"],
    },
    JsonOutput {
        name: "compare-v1",
        optional: &[],
    },
    JsonOutput {
        name: "baseline-v1",
        optional: &["contract"],
    },
    JsonOutput {
        name: "check-v1",
        optional: &["contract", "list"],
    },
    JsonOutput {
        name: "check-notify-v1",
        optional: &[],
    },
    JsonOutput {
        name: "reconcile-v1",
        optional: &["invoiced", "usage_report", "contract", "contracted"],
    },
    JsonOutput {
        name: "anomalies-v1",
        optional: &[],
    },
    JsonOutput {
        name: "pricing-list-v1",
        optional: &[],
    },
    JsonOutput {
        name: "pricing-audit-v1",
        optional: &[],
    },
    JsonOutput {
        name: "notify-v1",
        optional: &[],
    },
];

fn output(name: &str) -> &'static JsonOutput {
    (OUTPUTS.iter().find(|o| o.name == name)).unwrap_or_else(|| panic!("{name} is not listed"))
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The documents and their schemas, as the types generate them (once per test binary).
fn documents() -> &'static [agentmeter::schemas::Document] {
    static DOCS: std::sync::OnceLock<Vec<agentmeter::schemas::Document>> =
        std::sync::OnceLock::new();
    DOCS.get_or_init(agentmeter::schemas::documents)
}

fn document(name: &str) -> &'static agentmeter::schemas::Document {
    (documents().iter().find(|d| d.name == name)).unwrap_or_else(|| panic!("no document {name}"))
}

/// `name`'s schema, generated from its type.
fn schema(name: &str) -> Value {
    document(name).schema.clone()
}

const SCHEMA_DIR: &str = "docs/schema";

/// A schema file's text: the schema pretty-printed, with a final newline.
fn schema_text(schema: &Value) -> String {
    serde_json::to_string_pretty(schema).unwrap() + "\n"
}

/// A validator of `name`'s schema (each schema stands alone: its definitions are in it).
fn validator(name: &str) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// JSON pointers of the objects in `doc` (the first 3 items of each array: the rest have the
/// same schema), with the key that holds each.
fn objects(doc: &Value, at: String, key: &str, out: &mut Vec<(String, String)>) {
    match doc {
        Value::Object(m) => {
            out.push((at.clone(), key.to_string()));
            for (k, v) in m {
                let escaped = k.replace('~', "~0").replace('/', "~1");
                objects(v, format!("{at}/{escaped}"), k, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate().take(3) {
                objects(v, format!("{at}/{i}"), key, out);
            }
        }
        _ => {}
    }
}

/// Objects whose keys are data (a session's metadata, a group's keys): any key may be missing.
const MAPS: [&str; 2] = ["metadata", "keys"];

/// `doc` is valid under `name`'s schema, says it is that schema, and the schema holds it
/// tight: a key added to any of its objects fails, and so does dropping any key that is not
/// one of the output's optional ones.
#[track_caller]
fn valid(name: &str, doc: &Value) {
    let out = output(name);
    let v = validator(name);
    let e = errors(&v, doc);
    let shown: String = doc.to_string().chars().take(4000).collect();
    assert!(e.is_empty(), "{name}:\n{}\nin {shown}", e.join("\n"));
    if let Some(s) = document(name).tag {
        assert_eq!(doc["schema"], s, "{name}");
    }
    let mut at = Vec::new();
    objects(doc, String::new(), "", &mut at);
    for (path, key) in at {
        let mut more = doc.clone();
        let o = more.pointer_mut(&path).unwrap().as_object_mut().unwrap();
        o.insert("not_in_the_schema".into(), Value::Null);
        assert!(
            !v.is_valid(&more),
            "{name}: an unknown key at {path:?} is accepted"
        );
        if MAPS.contains(&key.as_str()) {
            continue;
        }
        let keys: Vec<String> = doc
            .pointer(&path)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        for k in keys.iter().filter(|k| !out.optional.contains(&k.as_str())) {
            let mut less = doc.clone();
            less.pointer_mut(&path)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove(k);
            assert!(
                !v.is_valid(&less),
                "{name}: {path}/{k} may be left out, yet the program always writes it (require it, or list it in `optional`)"
            );
        }
    }
}

/// The JSON on a run's stdout, after checking it exited `code`.
#[track_caller]
fn json_out(r: &Run, code: i32) -> Value {
    assert_eq!(r.code, code, "{}{}", r.stdout, r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

#[track_caller]
fn json_file(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn examples() -> String {
    root().join("docs/examples").display().to_string()
}

fn path(p: &str) -> String {
    root().join(p).display().to_string()
}

/// One session object with nothing in it: a zero cost (a null ratio, null instants).
fn zero_session(tmp: &Tmp) -> String {
    let p = tmp.write(
        "zero/zero.ndjson",
        &ndjson(&[session("sesn_zero", "claude-opus-4-6")]),
    );
    p.display().to_string()
}

// ----- the outputs --------------------------------------------------------------------------

#[test]
fn meter_json_is_meter_v1() {
    let tmp = Tmp::new();
    let zero = zero_session(&tmp);
    let empty = tmp.write("zero/empty.ndjson", "").display().to_string();
    let busy = path("docs/examples/busy-sonnet.ndjson");
    let runs: Vec<Vec<String>> = vec![
        // The examples as they are; with an empty file, a file given twice, a session with
        // no usage.
        vec![examples()],
        vec![examples(), zero.clone(), empty, busy.clone(), busy],
        // A contract, every grouping, records skipped.
        vec![
            examples(),
            path("tests/fixtures/bad-line.ndjson"),
            "--skip-invalid".into(),
            "--contract".into(),
            path("contracts/example.toml"),
            "--group-by".into(),
            "day,week,month,model,agent,project".into(),
        ],
        // Shards, by file and by session.
        vec![examples(), "--shard".into(), "1/2".into()],
        vec![
            examples(),
            "--shard".into(),
            "2/2".into(),
            "--shard-by".into(),
            "session".into(),
        ],
        // Budgets (over 80%, reached) in sessions and groups.
        vec![
            crate::budgets::fleet(&tmp).display().to_string(),
            "--group-by".into(),
            "agent".into(),
        ],
    ];
    for args in runs {
        let r = run_within(
            60,
            ["meter", "--format", "json"]
                .iter()
                .map(|s| s.to_string())
                .chain(args),
        );
        valid("meter-v1", &json_out(&r, 0));
    }
    // Claude Code transcripts: advisors, the provider's own cost, lines dropped.
    let cc = crate::claude_code_2x::tree();
    let r = run_within(
        60,
        ["meter", cc.path("projects").to_str().unwrap(), "-f", "json"],
    );
    let v = json_out(&r, 0);
    assert!(v["totals"]["advisor"].is_array(), "{v:#}");
    valid("meter-v1", &v);
}

#[test]
fn project_json_is_projection_v1() {
    let tmp = Tmp::new();
    // budget.toml, small: every source of uncertainty, a model mix, a price change.
    let uncertain = tmp.write(
        "uncertain.toml",
        r#"name = "uncertain"
start = "2026-12-01"
months = 2

[[agent]]
name = "support"
model_mix = { "claude-opus-4-6" = 0.7, "claude-sonnet-4-6" = 0.3 }
sessions_per_day = { dist = "lognormal", p50 = 2, p90 = 3 }
growth_per_month = { dist = "normal", mean = "2%", sd = "1%" }
arrivals = "poisson"
[agent.session]
active_minutes = { dist = "lognormal", p50 = 6, p90 = 20 }
requests = { dist = "poisson", mean = 8 }
web_searches = { dist = "poisson", mean = 0.5 }
input_tokens = { dist = "lognormal", p50 = 2000, p90 = 6000 }
output_tokens = { dist = "lognormal", p50 = 500, p90 = 1500 }

[[price_change]]
effective = "2027-01-01"
probability = 0.5
runtime_usd_per_hour = { dist = "uniform", min = "0.08", max = "0.16" }
"#,
    );
    let opus_hour = path("scenarios/opus-hour.toml");
    for args in [
        vec![opus_hour.clone()],
        vec![
            opus_hour,
            "--model".into(),
            "claude-sonnet-4-6".into(),
            "--model".into(),
            "claude-opus-4-6".into(),
        ],
        vec![uncertain.display().to_string()],
    ] {
        let r = run_within(
            60,
            ["project", "--runs", "50", "--format", "json"]
                .iter()
                .map(|s| s.to_string())
                .chain(args),
        );
        valid("projection-v1", &json_out(&r, 0));
    }
}

#[test]
fn report_directories_hold_meter_v1_and_projection_v1() {
    let tmp = Tmp::new();
    let dir = tmp.path("report");
    let r = run_within(
        120,
        [
            "report",
            &examples(),
            "--scenario",
            &path("scenarios/opus-hour.toml"),
            "--runs",
            "50",
            "-o",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    valid("meter-v1", &json_file(&dir.join("meter.json")));
    valid("projection-v1", &json_file(&dir.join("projection.json")));
}

#[test]
fn compare_json_is_compare_v1_repriced_and_paired() {
    let tmp = Tmp::new();
    let zero = zero_session(&tmp);
    let r = run_within(
        60,
        [
            "compare",
            &examples(),
            &zero,
            "--model",
            "claude-opus-4-6",
            "--model",
            "claude-sonnet-4-6",
            "--token-scale",
            "claude-sonnet-4-6=1.2",
            "--pricing",
            &path("pricing/anthropic.toml"),
            "--pricing",
            &path("pricing/anthropic.toml"),
            "-f",
            "json",
        ],
    );
    let v = json_out(&r, 0);
    assert!(v.to_string().contains("\"ratio\":null"), "{v:#}");
    valid("compare-v1", &v);
    let r = run_within(60, ["compare", &examples(), "-f", "json"]);
    valid("compare-v1", &json_out(&r, 0));
    // Paired by session: three sessions on both sides, two only in A, one only in B.
    let only_b = tmp.write(
        "b/only.ndjson",
        &ndjson(&[
            session("sesn_only_b", "claude-sonnet-4-6"),
            ev("e1", "session.status_running", "2026-06-01T10:00:00Z"),
            request("e2", "2026-06-01T10:10:00Z", 1000, 100, 0, 0),
            ev("e3", "session.status_idle", "2026-06-01T10:20:00Z"),
        ]),
    );
    let report = tmp.path("paired");
    let r = run_within(
        120,
        [
            "compare",
            "--a",
            &examples(),
            "--b",
            &path("tests/fixtures/seed-example-cached.ndjson"),
            &path("tests/fixtures/seed-example-uncached.ndjson"),
            &path("tests/fixtures/multiagent.ndjson"),
            only_b.to_str().unwrap(),
            "--pair-by",
            "session",
            "-f",
            "json",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    let v = json_out(&r, 0);
    assert_eq!(v["mode"], "paired");
    valid("compare-v1", &v);
    valid("compare-v1", &json_file(&report.join("compare.json")));
}

#[test]
fn baseline_check_and_the_check_notification_are_baseline_v1_check_v1_and_notify() {
    use crate::budgets::{hook, seed, task_run};
    let tmp = Tmp::new();
    // alpha: 50,000 input in the baseline, 150,000 in the run (+70.9%: fails 10%); beta only
    // in the baseline (missing); gamma only in the run (new).
    let base = task_run(&tmp, "base", 50_000);
    let pr = task_run(&tmp, "pr", 150_000);
    tmp.write(
        "base/b.ndjson",
        &ndjson(&seed(
            "sesn_beta",
            json!({"title": "beta", "metadata": {"team": "x"}}),
            "end_turn",
        )),
    );
    tmp.write(
        "pr/c.ndjson",
        &ndjson(&seed("sesn_gamma", json!({"title": "gamma"}), "end_turn")),
    );
    let baseline = tmp.path("baseline.json");
    let r = run_within(
        60,
        [
            "baseline",
            base.to_str().unwrap(),
            "-o",
            baseline.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    valid("baseline-v1", &json_file(&baseline));
    let r = run_within(
        60,
        [
            "baseline",
            &examples(),
            "-o",
            tmp.path("examples.json").to_str().unwrap(),
            "--key",
            "session",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    valid("baseline-v1", &json_file(&tmp.path("examples.json")));

    let h = hook(&[]);
    let file = tmp.path("check.json");
    let r = run_within(
        60,
        [
            "check",
            pr.to_str().unwrap(),
            "--baseline",
            baseline.to_str().unwrap(),
            "--max-increase",
            "10%",
            "--per-task",
            "--json",
            file.to_str().unwrap(),
            "--format",
            "json",
            "--notify",
            &h.url,
        ],
    );
    let v = json_out(&r, 1);
    assert_eq!(v["passed"], false);
    assert!(
        !v["new_tasks"].as_array().unwrap().is_empty()
            && !v["missing_tasks"].as_array().unwrap().is_empty(),
        "{v:#}"
    );
    valid("check-v1", &v);
    assert_eq!(json_file(&file), v, "--json FILE and --format json differ");
    let got = h.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    // The notice of a failed check: the total and the failed tasks of the document, under
    // its own schema string.
    let notice = &got[0].1["agentmeter"];
    assert_eq!(notice["schema"], "agentmeter/check-notify-v1");
    assert_eq!(notice["total"], v["total"]);
    assert_eq!(notice["passed"], false);
    valid("check-notify-v1", notice);
    valid("notify-v1", &got[0].1);
    // A passing check.
    let r = run_within(
        60,
        [
            "check",
            base.to_str().unwrap(),
            "--baseline",
            baseline.to_str().unwrap(),
            "--max-increase",
            "10%",
            "-f",
            "json",
        ],
    );
    valid("check-v1", &json_out(&r, 0));
}

/// Under `--contract` (the bundled example: a discount, a commitment, a credit) each command's
/// JSON keeps its schema, with the contract's keys.
#[test]
fn contract_outputs_keep_their_schemas() {
    let tmp = Tmp::new();
    let contract = path("contracts/example.toml");
    let with = |args: &[&str]| -> Vec<String> {
        args.iter()
            .map(|s| s.to_string())
            .chain(["--contract".to_string(), contract.clone()])
            .collect()
    };
    let r = run_within(
        60,
        with(&[
            "project",
            &path("scenarios/opus-hour.toml"),
            "--runs",
            "20",
            "-f",
            "json",
        ]),
    );
    let v = json_out(&r, 0);
    assert!(
        v["contract"].is_object() && v["months"][0]["contract"].is_object(),
        "{v:#}"
    );
    valid("projection-v1", &v);
    let baseline = tmp.path("baseline.json");
    let r = run_within(
        60,
        with(&[
            "baseline",
            &examples(),
            "--key",
            "session",
            "-o",
            baseline.to_str().unwrap(),
        ]),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let b = json_file(&baseline);
    assert!(b["contract"].is_object(), "{b:#}");
    valid("baseline-v1", &b);
    let r = run_within(
        60,
        with(&[
            "check",
            &examples(),
            "--baseline",
            baseline.to_str().unwrap(),
            "--budget",
            "100",
            "-f",
            "json",
        ]),
    );
    let v = json_out(&r, 0);
    assert!(
        v["total"]["list"].is_object() && v["baseline"]["contract"].is_string(),
        "{v:#}"
    );
    valid("check-v1", &v);
    let cost = tmp.write(
        "cost.json",
        &serde_json::json!({"data": [{"starting_at": "2026-05-04T00:00:00Z", "ending_at": "2026-05-05T00:00:00Z", "results": [
            {"amount": "10", "currency": "USD", "cost_type": "tokens", "model": "claude-opus-4-6"}
        ]}], "has_more": false, "next_page": null})
        .to_string(),
    );
    let r = run_within(
        60,
        with(&[
            "reconcile",
            &examples(),
            "--cost-report",
            cost.to_str().unwrap(),
            "-f",
            "json",
        ]),
    );
    let v = json_out(&r, 0);
    assert!(
        v["contract"].is_object() && v["invoiced"]["by_day"][0]["contracted"].is_string(),
        "{v:#}"
    );
    valid("reconcile-v1", &v);
    // Grouped rows under a contract carry their contracted cost.
    let r = run_within(
        60,
        with(&[
            "meter",
            &examples(),
            "--group-by",
            "day,model",
            "-f",
            "json",
        ]),
    );
    let v = json_out(&r, 0);
    assert!(
        v["groups"]["rows"][0]["contracted_cost"]["total"].is_string(),
        "{v:#}"
    );
    valid("meter-v1", &v);
}

#[test]
fn reconcile_json_is_reconcile_v1() {
    use crate::reconcile::session_with;
    let tmp = Tmp::new();
    tmp.write(
        "runs/rounded.ndjson",
        &session_with("sesn_rounded", "71", 15_000),
    );
    tmp.write(
        "runs/planted.ndjson",
        &session_with("sesn_planted", "73", 15_800),
    );
    // The invoice and the usage report of 2026-05-01 (the two sessions' day).
    let day = |results: Value| {
        json!({"data": [{"starting_at": "2026-05-01T00:00:00Z", "ending_at": "2026-05-02T00:00:00Z",
                         "results": results}], "has_more": false, "next_page": null})
        .to_string()
    };
    let cost = tmp.write(
        "cost.json",
        &day(json!([
            {"amount": "50", "currency": "USD", "cost_type": "tokens", "model": "claude-opus-4-6", "token_type": "uncached_input_tokens"},
            {"amount": "77", "currency": "USD", "cost_type": "tokens", "model": "claude-opus-4-6", "token_type": "output_tokens"},
            {"amount": "16", "currency": "USD", "cost_type": "code_execution", "description": "Managed Agents session runtime"},
            {"amount": "3", "currency": "USD", "cost_type": "something_new"}
        ])),
    );
    let usage = tmp.write(
        "usage.json",
        &day(json!([
            {"uncached_input_tokens": 100_000, "output_tokens": 30_800, "cache_read_input_tokens": 0,
             "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
             "server_tool_use": {"web_search_requests": 0}, "model": "claude-opus-4-6"}
        ])),
    );
    let runs = tmp.path("runs");
    let unreported = path("docs/examples/seed-example-cached.ndjson");
    for extra in [
        vec![],
        vec![
            "--cost-report",
            cost.to_str().unwrap(),
            "--usage-report",
            usage.to_str().unwrap(),
        ],
    ] {
        let r = run_within(
            60,
            [
                "reconcile",
                runs.to_str().unwrap(),
                &unreported,
                "-f",
                "json",
            ]
            .into_iter()
            .chain(extra),
        );
        let v = json_out(&r, 0);
        assert!(
            v["sessions"].to_string().contains("\"flagged\":true"),
            "{v:#}"
        );
        valid("reconcile-v1", &v);
    }
}

#[test]
fn anomalies_json_and_its_notification_are_anomalies_v1_and_notify() {
    // Four Mondays of the seed session; on the last, 1,000,000 output tokens instead of 15,000
    // (as budgets.rs): one anomaly.
    let tmp = Tmp::new();
    let runs = crate::budgets::four_mondays(&tmp);
    let h = crate::budgets::hook(&[]);
    let r = run_within(
        60,
        [
            "anomalies",
            runs.to_str().unwrap(),
            "--weeks",
            "3",
            "--since",
            "2026-06-01",
            "--until",
            "2026-06-30",
            "--low",
            "-f",
            "json",
            "--notify",
            &h.url,
        ],
    );
    let v = json_out(&r, 0);
    assert_eq!(v["anomalies"].as_array().unwrap().len(), 1, "{v:#}");
    valid("anomalies-v1", &v);
    let got = h.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].1["agentmeter"], v);
    valid("notify-v1", &got[0].1);
    let r = run_within(
        60,
        ["anomalies", &examples(), "--by", "model", "-f", "json"],
    );
    valid("anomalies-v1", &json_out(&r, 0));
}

#[test]
fn watch_budget_alerts_are_notify() {
    use crate::budgets::{budget, hook, live, watch};
    // The session's own budget ($1.00, crossed at 70%), and --max-usd for one without.
    for (id, object, extra) in [
        (
            "sesn_live",
            json!({"budget": budget("100")}),
            vec!["--budget-alert", "70%"],
        ),
        (
            "sesn_free",
            json!({}),
            vec!["--budget-alert", "100%", "--max-usd", "0.50"],
        ),
    ] {
        let h = hook(&[]);
        let mock = live(id, object);
        let mut args = extra;
        args.extend(["--notify", &h.url]);
        let r = watch(&mock, id, &args);
        assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
        let got = h.got.lock().unwrap().clone();
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].1["agentmeter"]["session_id"], id);
        valid("notify-v1", &got[0].1);
    }
}

#[test]
fn pricing_list_and_audit_json_are_pricing_list_v1_and_pricing_audit_v1() {
    // 2026-03-01: Opus 4.6 with long-context and fast rates; 2026-09-01: the US multiplier.
    for at in ["2026-03-01", "2026-09-01"] {
        let r = run_within(60, ["pricing", "list", "--at", at, "-f", "json"]);
        valid("pricing-list-v1", &json_out(&r, 0));
    }
    let tmp = Tmp::new();
    let g = tmp.write("anthropic.yml", crate::pricing_cmd::GENAI);
    let l = tmp.write("model_prices.json", crate::pricing_cmd::LITELLM);
    let r = run_within(
        60,
        [
            "pricing",
            "audit",
            "--genai-prices",
            g.to_str().unwrap(),
            "--litellm",
            l.to_str().unwrap(),
            "--at",
            "2026-10-01",
            "-f",
            "json",
        ],
    );
    let v = json_out(&r, 1);
    assert!(
        !v["disagreements"].as_array().unwrap().is_empty()
            && !v["missing"].as_array().unwrap().is_empty(),
        "{v:#}"
    );
    valid("pricing-audit-v1", &v);
}

// ----- the checks of the checks ---------------------------------------------------------------

/// The mutation checks of [`valid`] themselves: a document with a key too many, one short or
/// one renamed fails; so does an amount written as a number, or to the cent where it is exact.
#[test]
fn the_schemas_refuse_an_unknown_key_a_missing_one_and_a_number_for_an_amount() {
    let r = run_within(60, ["meter", &examples(), "-f", "json"]);
    let doc = json_out(&r, 0);
    let v = validator("meter-v1");
    assert!(v.is_valid(&doc));
    let mut bad = doc.clone();
    bad["sessions"][0]["cost"]["surcharge"] = json!("0.01");
    assert!(!v.is_valid(&bad), "an unknown cost column");
    let mut bad = doc.clone();
    bad["totals"].as_object_mut().unwrap().remove("requests");
    assert!(!v.is_valid(&bad), "totals without requests");
    let mut bad = doc.clone();
    let t = bad["sessions"][0]["tokens"].as_object_mut().unwrap();
    let n = t.remove("cache_read").unwrap();
    t.insert("cache_reads".into(), n);
    assert!(!v.is_valid(&bad), "cache_read renamed cache_reads");
    let mut bad = doc.clone();
    bad["sessions"][0]["cost"]["total"] = json!(0.525);
    assert!(!v.is_valid(&bad), "an amount as a JSON number");
    for not_exact in ["0.50", "1e-3", "+1", ".5", "1.", "01"] {
        let mut bad = doc.clone();
        bad["sessions"][0]["cost"]["total"] = json!(not_exact);
        assert!(
            !v.is_valid(&bad),
            "{not_exact:?} is not an exact decimal as written"
        );
    }
    for exact in ["0", "-0.178", "12", "0.000000001"] {
        let mut ok = doc.clone();
        ok["sessions"][0]["cost"]["total"] = json!(exact);
        assert!(v.is_valid(&ok), "{exact:?}");
    }
    // The flattened parts of a projection are as closed and required as the rest: a month's
    // stats, its agents, the horizon's categories.
    let r = run_within(
        60,
        [
            "project",
            &path("scenarios/opus-hour.toml"),
            "--runs",
            "20",
            "-f",
            "json",
        ],
    );
    let doc = json_out(&r, 0);
    let v = validator("projection-v1");
    assert!(v.is_valid(&doc));
    for (at, key) in [
        ("/months/0", "p95"),
        ("/agents/0", "model"),
        ("/categories/0", "expected"),
        ("", "uncertainty"),
        ("", "total"),
    ] {
        let mut bad = doc.clone();
        let o = bad.pointer_mut(at).unwrap().as_object_mut().unwrap();
        assert!(o.remove(key).is_some(), "{at}/{key}");
        assert!(!v.is_valid(&bad), "{at}/{key} removed");
    }
    let mut bad = doc.clone();
    bad["uncertainty"] = json!(["per_session", "weather"]);
    assert!(!v.is_valid(&bad), "an unknown source of uncertainty");
    // One output under another's schema fails: the `schema` string is pinned.
    let mut bad = doc.clone();
    bad["schema"] = json!("agentmeter/projection-v2");
    assert!(!v.is_valid(&bad), "another schema string");
}

/// The schema strings in the code: each a literal `"agentmeter/NAME-vN"`.
fn schema_strings_in_the_code() -> BTreeMap<String, Vec<String>> {
    fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                rs_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    rs_files(&root().join("src"), &mut files);
    for c in std::fs::read_dir(root().join("crates")).unwrap() {
        rs_files(&c.unwrap().path().join("src"), &mut files);
    }
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, _) in text.match_indices("\"agentmeter/") {
            let rest = &text[i + 1..];
            let Some(end) = rest[1..].find('"') else {
                continue;
            };
            let s = &rest[..end + 1];
            let versioned = s
                .rsplit_once("-v")
                .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if versioned
                && s["agentmeter/".len()..]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                let at = f.strip_prefix(root()).unwrap().display().to_string();
                // The tests' own tag (core's schema.rs) names no output.
                if s != "agentmeter/test-v1" {
                    found.entry(s.to_string()).or_default().push(at);
                }
            }
        }
    }
    found
}

fn walk<'a>(v: &'a Value, at: String, f: &mut dyn FnMut(&str, &'a Value)) {
    f(&at, v);
    match v {
        Value::Object(m) => m.iter().for_each(|(k, x)| walk(x, format!("{at}/{k}"), f)),
        Value::Array(a) => {
            (a.iter().enumerate()).for_each(|(i, x)| walk(x, format!("{at}/{i}"), f))
        }
        _ => {}
    }
}

/// The first line where two texts differ: its number and each side's line.
fn first_difference(a: &str, b: &str) -> (usize, String, String) {
    let (mut la, mut lb) = (a.lines(), b.lines());
    let mut n = 0;
    loop {
        n += 1;
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (None, None) => return (n, String::new(), String::new()),
            (x, y) => {
                let show = |l: Option<&str>| l.map_or("(end of file)".into(), |l| format!("{l:?}"));
                return (n, show(x), show(y));
            }
        }
    }
}

const REFRESH: &str = "AGENTMETER_UPDATE_DOCS=1 cargo test --test it -- json_schemas";

/// The schema files are what the types generate, no more and no fewer:
/// `AGENTMETER_UPDATE_DOCS=1` writes them (and removes any other), else a difference fails.
#[test]
fn the_schema_files_are_generated_from_the_types() {
    let dir = root().join(SCHEMA_DIR);
    let generated: BTreeMap<String, String> = documents()
        .iter()
        .map(|d| (format!("{}.json", d.name), schema_text(&d.schema)))
        .collect();
    let on_disk = || -> BTreeSet<String> {
        std::fs::read_dir(&dir)
            .map(|r| {
                r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    if std::env::var_os("AGENTMETER_UPDATE_DOCS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(&dir).unwrap();
        for f in on_disk() {
            if !generated.contains_key(&f) {
                std::fs::remove_file(dir.join(&f)).unwrap();
            }
        }
        for (f, text) in &generated {
            std::fs::write(dir.join(f), text).unwrap();
        }
        return;
    }
    let files = on_disk();
    let wanted: BTreeSet<String> = generated.keys().cloned().collect();
    assert_eq!(
        files, wanted,
        "{SCHEMA_DIR} does not hold exactly the generated schemas; refresh it: {REFRESH}"
    );
    for (f, want) in &generated {
        let have = std::fs::read_to_string(dir.join(f)).unwrap();
        if &have != want {
            let (line, in_file, generated) = first_difference(&have, want);
            panic!(
                "{SCHEMA_DIR}/{f} is out of date with its type (first difference at line \
                 {line}:\n  file:      {in_file}\n  generated: {generated})\nrefresh it: {REFRESH}"
            );
        }
    }
}

/// The drift check finds a changed schema: a file's text and the generated one differ at
/// the first changed line.
#[test]
fn a_schema_that_drifts_is_found_at_its_first_changed_line() {
    let s = schema("meter-v1");
    let mut drifted = s.clone();
    drifted["$defs"]["tokens"]["required"]
        .as_array_mut()
        .unwrap()
        .pop();
    let (a, b) = (schema_text(&s), schema_text(&drifted));
    assert_ne!(a, b);
    let (line, x, y) = first_difference(&a, &b);
    assert!(line > 1 && x != y, "{line}: {x} {y}");
}

#[test]
fn every_output_is_listed_and_says_what_it_is() {
    let listed: BTreeSet<&str> = OUTPUTS.iter().map(|o| o.name).collect();
    let generated: BTreeSet<&str> = documents().iter().map(|d| d.name).collect();
    assert_eq!(
        listed, generated,
        "OUTPUTS and agentmeter::schemas::documents differ"
    );
    // Every schema string the code writes has a schema, and every tagged schema's string is
    // in the code.
    let in_code = schema_strings_in_the_code();
    let named: BTreeSet<&str> = documents().iter().filter_map(|d| d.tag).collect();
    for (s, at) in &in_code {
        assert!(
            named.contains(s.as_str()),
            "{s} (in {at:?}) has no schema in agentmeter::schemas::documents"
        );
    }
    for s in &named {
        assert!(
            in_code.contains_key(*s),
            "{s} is listed but the code never writes it"
        );
    }
    for d in documents() {
        let s = &d.schema;
        assert!(
            jsonschema::meta::is_valid(s),
            "{}: not a valid schema: {:?}",
            d.name,
            jsonschema::meta::validate(s).err().map(|e| e.to_string())
        );
        assert_eq!(
            s["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{}",
            d.name
        );
        assert_eq!(s["$id"], format!("urn:agentmeter:{}", d.name), "{}", d.name);
        let title = s["title"].as_str().unwrap_or_default();
        let description = s["description"].as_str().unwrap_or_default();
        assert!(!description.is_empty(), "{}: no description", d.name);
        match d.tag {
            Some(tag) => {
                assert_eq!(title, tag, "{}: title", d.name);
                assert_eq!(
                    d.name,
                    tag.strip_prefix("agentmeter/").unwrap(),
                    "the file is named after the schema"
                );
                // The schema pins the document's `schema` to its own string.
                let mut consts = Vec::new();
                walk(s, String::new(), &mut |at, v| {
                    if at.ends_with("/properties/schema") {
                        consts.push(v["const"].clone());
                    }
                });
                assert!(
                    !consts.is_empty() && consts.iter().all(|c| c == tag),
                    "{}: {consts:?}",
                    d.name
                );
            }
            None => assert!(title.starts_with("agentmeter "), "{}: {title:?}", d.name),
        }
        // Every field is described, in one line (what a `dependentSchemas` adds to a field
        // described elsewhere is not a field of its own).
        walk(s, String::new(), &mut |at, v| {
            if at.ends_with("/properties") && !at.contains("/dependentSchemas/") {
                for (k, field) in v.as_object().unwrap() {
                    let d = field["description"].as_str().unwrap_or_default();
                    assert!(
                        !d.is_empty() && !d.contains('\n'),
                        "{at}/{k} has no one-line description in {}",
                        s["$id"]
                    );
                }
            }
        });
        // Every object type that lists its properties is closed.
        walk(s, String::new(), &mut |at, v| {
            if v.get("type") == Some(&json!("object")) && v.get("properties").is_some() {
                assert_eq!(v["additionalProperties"], false, "{}: {at} is open", d.name);
            }
        });
    }
}

#[test]
fn definitions_shared_by_several_schemas_are_the_same_in_each() {
    let mut seen: BTreeMap<String, (String, Value)> = BTreeMap::new();
    for d in documents() {
        let defs = d.schema["$defs"].as_object().cloned().unwrap_or_default();
        for (k, def) in defs {
            match seen.get(&k) {
                Some((first, x)) => {
                    assert_eq!(x, &def, "$defs/{k} differs between {first} and {}", d.name)
                }
                None => {
                    seen.insert(k.clone(), (d.name.to_string(), def.clone()));
                }
            }
        }
    }
}

fn keys(v: &Value) -> Vec<String> {
    if let Some(e) = v["enum"].as_array() {
        return e.iter().map(|x| x.as_str().unwrap().to_string()).collect();
    }
    v["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// The keys that follow the charge categories are the category table's (a new category is a
/// new key in each of these, see ARCHITECTURE.md).
#[test]
fn cost_and_token_keys_are_the_category_tables() {
    let columns: Vec<String> = CostColumn::ALL
        .iter()
        .map(|c| c.key().to_string())
        .collect();
    let mut with_total = columns.clone();
    with_total.push("total".into());
    let tokens: Vec<String> = Category::tokens().map(|c| c.key().to_string()).collect();
    let mut quantities: Vec<String> = vec!["runtime_seconds".into()];
    quantities.extend(
        Category::ALL
            .iter()
            .skip(1)
            .map(|c| c.row().quantity_key.to_string()),
    );
    assert_eq!(Category::ALL[0], Category::Runtime);
    let usage_report: Vec<String> = (CostColumn::ALL.iter())
        .filter_map(|c| c.row().usage_report.map(|(k, _)| k.to_string()))
        .collect();
    let def = |name: &str, ptr: &str| {
        let s = schema(name);
        s.pointer(ptr)
            .unwrap_or_else(|| panic!("{name}: no {ptr}"))
            .clone()
    };
    for (name, ptr, want) in [
        ("meter-v1", "/$defs/cost", &with_total),
        ("compare-v1", "/$defs/cost", &with_total),
        ("projection-v1", "/$defs/columns", &columns),
        ("projection-v1", "/$defs/cost_column", &columns),
        ("anomalies-v1", "/$defs/cost_column", &columns),
        ("meter-v1", "/$defs/tokens", &tokens),
        ("compare-v1", "/$defs/tokens", &tokens),
        ("baseline-v1", "/$defs/tokens", &tokens),
        ("pricing-list-v1", "/$defs/rates", &tokens),
        ("reconcile-v1", "/$defs/what", &quantities),
        ("reconcile-v1", "/$defs/counts", &usage_report),
    ] {
        assert_eq!(&keys(&def(name, ptr)), want, "{name} {ptr}");
    }
    // Where the definitions are used: a projection's category and an anomaly's explanation
    // are cost columns.
    assert_eq!(
        def("projection-v1", "/$defs/category/properties/category/$ref"),
        "#/$defs/cost_column"
    );
    assert_eq!(
        def(
            "anomalies-v1",
            "/$defs/explained_by/properties/category/$ref"
        ),
        "#/$defs/cost_column"
    );
}

/// docs/reference/json.md lists every output with its schema file and schema string.
#[test]
fn the_json_reference_lists_every_schema() {
    let doc = std::fs::read_to_string(root().join("docs/reference/json.md")).unwrap();
    for d in documents() {
        let file = format!("../schema/{}.json", d.name);
        assert!(
            doc.contains(&file),
            "docs/reference/json.md does not link {file}"
        );
        if let Some(s) = d.tag {
            assert!(
                doc.contains(&format!("`{s}`")),
                "docs/reference/json.md does not name {s}"
            );
        }
    }
}
