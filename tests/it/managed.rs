//! Managed Agents inputs as the newer API writes them (reference/updates-2026-12.md §2): queued
//! events, advisor threads, and the workspace's default inference geo.

use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::common::*;

fn total(v: &Value) -> Decimal {
    let c = if v["totals"].is_object() {
        &v["totals"]["cost"]
    } else {
        &v["cost"]
    };
    dec(c["total"].as_str().unwrap())
}

fn meter_json(tmp: &Tmp, records: &[Value], extra: &[&str]) -> Value {
    let p = tmp.write("export.ndjson", &ndjson(records));
    let r = run(["meter", p.to_str().unwrap(), "-f", "json"]
        .into_iter()
        .chain(extra.iter().copied()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn queued_client_events_are_counted_not_errors_and_other_null_times_are_errors() {
    // `processed_at` is null on user.* (user.tool_result among them) and system.message while
    // the API has them queued (updates-2026-12.md §2, "Queued events"; the event shapes are
    // the SDK's BetaManagedAgentsUserToolResultEvent / system message event: id, type,
    // processed_at, plus content we leave out).
    let tmp = Tmp::new();
    let queued = |id: &str, kind: &str| json!({"id": id, "type": kind, "processed_at": null});
    let records = [
        session("sesn_q", "claude-opus-4-6"),
        // 10,000 x $5/M = 0.05 input; 2,000 x $25/M = 0.05 output: 0.10.
        request("e1", "2026-09-01T10:00:00Z", 10_000, 2_000, 0, 0),
        queued("e2", "user.message"),
        with(
            queued("e3", "user.tool_result"),
            json!({"tool_use_id": "e0"}),
        ),
        queued("e4", "system.message"),
    ];
    let v = meter_json(&tmp, &records, &[]);
    assert_eq!(v["dropped"]["queued_events"], 3);
    assert_eq!(v["dropped"]["invalid_records"], 0);
    assert_eq!(total(&v), dec("0.10"));
    // Anything else with a null processed_at is still bad input, named by file and line.
    let p = tmp.write(
        "bad.ndjson",
        &ndjson(&[
            session("sesn_q", "claude-opus-4-6"),
            queued("e5", "agent.message"),
        ]),
    );
    let r = run(["meter", p.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("bad.ndjson:2:") && r.stderr.contains("agent.message event e5"),
        "{}",
        r.stderr
    );
}

/// A session on Haiku 4.5 ("researcher") that consults an advisor on Opus 5. The advisor
/// thread's `agent` is `{"type": "advisor", "model": "claude-opus-5"}`: the SDK's
/// BetaManagedAgentsAdvisor (`model: str`, `type: "advisor"`, no name), the thread object
/// BetaManagedAgentsSessionThread (anthropic-sdk-python, types/beta/sessions/).
fn advised_session() -> Vec<Value> {
    let mut s = session("sesn_adv", "claude-haiku-4-5");
    s["agent"]["model"] = json!({"id": "claude-haiku-4-5"});
    vec![
        s,
        request("e1", "2026-09-01T10:00:00Z", 10_000, 1_000, 0, 0),
        json!({"type": "session_thread", "id": "sthr_adv", "session_id": "sesn_adv",
               "parent_thread_id": "sthr_primary", "status": "idle",
               "created_at": "2026-09-01T10:00:05Z", "updated_at": "2026-09-01T10:00:30Z",
               "agent": {"type": "advisor", "model": "claude-opus-5"}}),
        request("e2", "2026-09-01T10:00:20Z", 10_000, 2_000, 0, 0),
    ]
}

#[test]
fn an_advisor_thread_is_priced_at_its_model_and_grouped_as_the_advisor() {
    // Haiku 4.5: 10,000 x $1/M = 0.01 + 1,000 x $5/M = 0.005 -> 0.015.
    // Opus 5 advisor: 10,000 x $5/M = 0.05 + 2,000 x $25/M = 0.05 -> 0.10. Total 0.115.
    let tmp = Tmp::new();
    let v = meter_json(&tmp, &advised_session(), &["--group-by", "agent"]);
    assert_eq!(total(&v), dec("0.115"));
    let rows: Vec<(&str, Decimal)> = v["groups"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap(), total(r)))
        .collect();
    assert!(
        rows.contains(&("advisor", dec("0.10"))) && rows.contains(&("researcher", dec("0.015"))),
        "{rows:?}"
    );
    // Its consultations are the advisor spend, per model, as for Claude Code's iterations.
    let advisor = &v["totals"]["advisor"][0];
    assert_eq!(advisor["model"], "claude-opus-5");
    assert_eq!(advisor["consultations"], 1);
    assert_eq!(dec(advisor["cost"].as_str().unwrap()), dec("0.10"));
    // The advisor sets no geo, so it runs in the workspace's default: with `us`, Opus 5 (listed
    // by inference_geo_us) costs 0.10 x 1.1 = 0.11; Haiku 4.5 is not listed and stays 0.015.
    let v = meter_json(&tmp, &advised_session(), &["--default-inference-geo", "us"]);
    assert_eq!(total(&v), dec("0.125"));
}

/// An Opus 4.6 session on 2026-09-01 (after inference_geo_us took effect on 2026-08-06), its
/// agent's model config as `{"id", "speed"}` and `inference_geo` as given (SDK
/// BetaManagedAgentsModelConfig: inference_geo optional).
fn opus_session(geo: Option<&str>) -> Vec<Value> {
    let mut s = session("sesn_geo", "claude-opus-4-6");
    if let Some(g) = geo {
        s["agent"]["model"]["inference_geo"] = json!(g);
    }
    vec![
        s,
        request("e1", "2026-09-01T12:00:00Z", 100_000, 10_000, 0, 20_000),
    ]
}

#[test]
fn the_default_inference_geo_prices_agents_without_a_geo_and_an_explicit_geo_wins() {
    // Opus 4.6: 100,000 x $5/M = 0.50 input, 10,000 x $25/M = 0.25 output, 20,000 x $0.50/M
    // = 0.01 cache read: 0.76 at 1x. At 1.1x: 0.55 + 0.275 + 0.011 = 0.836.
    let tmp = Tmp::new();
    let total =
        |geo: Option<&str>, flag: &[&str]| total(&meter_json(&tmp, &opus_session(geo), flag));
    let us = ["--default-inference-geo", "us"];
    assert_eq!(total(None, &[]), dec("0.76"));
    assert_eq!(total(None, &us), dec("0.836"));
    // A geo the export states is the agent's own: the workspace default does not apply.
    assert_eq!(total(Some("global"), &us), dec("0.76"));
    assert_eq!(
        total(None, &["--default-inference-geo", "global"]),
        dec("0.76")
    );
    // Another command that meters exports takes the flag too: reconcile's computed cost.
    let p = tmp.write("geo.ndjson", &ndjson(&opus_session(None)));
    let r = run([
        "reconcile",
        p.to_str().unwrap(),
        "--default-inference-geo",
        "us",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("0.836"), "{}", r.stdout);
    // Only the geos the API has are accepted.
    let r = run([
        "meter",
        p.to_str().unwrap(),
        "--default-inference-geo",
        "eu",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("us") && r.stderr.contains("global"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_scenarios_default_inference_geo_prices_its_agents_like_the_flag() {
    // daily-research.toml (Sonnet 4.6, December 2026): runtime 31 x $0.04 = 1.24 (no geo
    // multiplier on runtime); tokens 31 x $0.18 = 5.58, x 1.1 = 6.138 in a `us` workspace.
    let tmp = Tmp::new();
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/daily-research.toml"),
    )
    .unwrap();
    let us = tmp.write(
        "us.toml",
        &text.replacen(
            "months = 12",
            "months = 1\ndefault_inference_geo = \"us\"",
            1,
        ),
    );
    let project = |file: &std::path::Path| {
        let r = run([
            "project",
            file.to_str().unwrap(),
            "--runs",
            "10",
            "--format",
            "json",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        v["months"][0].clone()
    };
    let m = project(&us);
    let d = |v: &Value| dec(v.as_str().unwrap());
    assert_eq!(d(&m["categories"]["runtime"]), dec("1.24"));
    assert_eq!(d(&m["expected"]), dec("7.378"));
    // An agent's own geo wins over the scenario's default.
    let global = tmp.write(
        "global.toml",
        &std::fs::read_to_string(&us).unwrap().replacen(
            "sessions_per_day",
            "inference_geo = \"global\"\nsessions_per_day",
            1,
        ),
    );
    assert_eq!(d(&project(&global)["expected"]), dec("6.82"));
    // `fit` keeps the default it metered with: the fitted scenario says it.
    let p = tmp.write("geo.ndjson", &ndjson(&opus_session(None)));
    let fitted = tmp.path("fitted.toml");
    let r = run([
        "fit",
        p.to_str().unwrap(),
        "--default-inference-geo",
        "us",
        "-o",
        fitted.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&fitted).unwrap();
    assert!(text.contains("default_inference_geo = \"us\""), "{text}");
}
