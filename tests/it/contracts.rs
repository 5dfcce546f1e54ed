//! `--contract FILE`: discounts, monthly commitments and credits applied after rating, on
//! `meter`, `export`, `baseline`/`check`, `reconcile` and `report` (`project` in
//! projection.rs). Every expected amount is worked out by hand below.
//!
//! Prices (bundled table, 2026): Opus 4.6 input $5/M, output $25/M, cache read $0.50/M;
//! Sonnet 4.6 input $3/M, output $15/M; runtime $0.08 per session-hour.
//!
//! - `opus_may` (2026-05-04): 1 h running, 100,000 in, 10,000 out, 20,000 cache read:
//!   runtime 0.08 + input 0.50 + output 0.25 + cache read 0.01 = 0.84 at list.
//! - `sonnet_june` (2026-06-05): 0.5 h running (0.04), 100,000 in (0.30), 10,000 out (0.15):
//!   0.49 at list.
//! - `opus_july` (2026-07-06): 1 h running (0.08), 200,000 in (1.00): 1.08 at list.

use rust_decimal::Decimal;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::*;

fn export(
    id: &str,
    model: &str,
    day: &str,
    hours_end: &str,
    input: u64,
    output: u64,
    read: u64,
) -> String {
    ndjson(&[
        session(id, model),
        ev(
            &format!("{id}_r"),
            "session.status_running",
            &format!("{day}T10:00:00Z"),
        ),
        request(
            &format!("{id}_q"),
            &format!("{day}T10:15:00Z"),
            input,
            output,
            0,
            read,
        ),
        ev(
            &format!("{id}_i"),
            "session.status_idle",
            &format!("{day}T{hours_end}Z"),
        ),
    ])
}

/// The three sessions of the header, one file each.
fn runs(tmp: &Tmp) -> std::path::PathBuf {
    tmp.write(
        "runs/a.ndjson",
        &export(
            "opus_may",
            "claude-opus-4-6",
            "2026-05-04",
            "11:00:00",
            100_000,
            10_000,
            20_000,
        ),
    );
    tmp.write(
        "runs/b.ndjson",
        &export(
            "sonnet_june",
            "claude-sonnet-4-6",
            "2026-06-05",
            "10:30:00",
            100_000,
            10_000,
            0,
        ),
    );
    tmp.write(
        "runs/c.ndjson",
        &export(
            "opus_july",
            "claude-opus-4-6",
            "2026-07-06",
            "11:00:00",
            200_000,
            0,
            0,
        ),
    );
    tmp.path("runs")
}

const HEAD: &str = "schema = 1\nname = \"acme\"\ncurrency = \"USD\"\n";

fn meter_json(tmp: &Tmp, only: &[&str], contract: &str) -> Value {
    let c = tmp.write("contract.toml", &format!("{HEAD}{contract}"));
    let dir = runs(tmp);
    let mut args: Vec<std::ffi::OsString> = vec!["meter".into()];
    args.extend(only.iter().map(|f| dir.join(f).into_os_string()));
    if only.is_empty() {
        args.push(dir.into_os_string());
    }
    args.extend([
        "--contract".into(),
        c.into_os_string(),
        "-f".into(),
        "json".into(),
    ]);
    let r = run_within(60, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

fn amount(v: &Value) -> Decimal {
    dec(v.as_str().unwrap_or_else(|| panic!("not an amount: {v}")))
}

const OPUS_15: &str =
    "[[discount]]\neffective = \"2026-01-01\"\npercent = \"15%\"\nmodels = [\"claude-opus-4-6\"]\n";

#[test]
fn a_discount_on_one_models_tokens_leaves_runtime_and_other_models_at_list() {
    let tmp = Tmp::new();
    let v = meter_json(&tmp, &["a.ndjson", "b.ndjson"], OPUS_15);
    let text = format!("{HEAD}{OPUS_15}");
    let sha = Sha256::digest(text.as_bytes());
    let hex: String = sha.iter().take(4).map(|b| format!("{b:02x}")).collect();
    assert_eq!(v["contract"]["name"], "acme");
    assert_eq!(v["contract"]["version"], format!("acme@{hex}"));
    let s = |id: &str| {
        v["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == id)
            .unwrap()
            .clone()
    };
    let opus = s("opus_may");
    // List stays list: 0.84.
    assert_eq!(amount(&opus["cost"]["total"]), dec("0.84"));
    let c = &opus["contracted_cost"];
    // Opus tokens at 85%: input 0.50 x 0.85 = 0.425, output 0.25 x 0.85 = 0.2125,
    // cache read 0.01 x 0.85 = 0.0085; runtime 0.08 is not a model's charge: at list.
    assert_eq!(amount(&c["input"]), dec("0.425"));
    assert_eq!(amount(&c["output"]), dec("0.2125"));
    assert_eq!(amount(&c["cache_read"]), dec("0.0085"));
    assert_eq!(amount(&c["runtime"]), dec("0.08"));
    // 0.425 + 0.2125 + 0.0085 + 0.08 = 0.726.
    assert_eq!(amount(&c["total"]), dec("0.726"));
    // Sonnet is not named: 0.04 + 0.30 + 0.15 = 0.49, at list.
    assert_eq!(
        amount(&s("sonnet_june")["contracted_cost"]["total"]),
        dec("0.49")
    );
    let t = &v["totals"];
    // 0.84 + 0.49 = 1.33 list; 0.726 + 0.49 = 1.216 contracted, and billed (no commitment
    // or credit).
    assert_eq!(amount(&t["cost"]["total"]), dec("1.33"));
    assert_eq!(amount(&t["contracted_cost"]["total"]), dec("1.216"));
    assert_eq!(amount(&t["commitment_shortfall"]), Decimal::ZERO);
    assert_eq!(amount(&t["credits_used"]), Decimal::ZERO);
    assert_eq!(amount(&t["billed"]), dec("1.216"));

    // The table: a Contracted column beside the list total.
    let c = tmp.path("contract.toml");
    let r = run_within(
        60,
        [
            "meter".as_ref(),
            tmp.path("runs/a.ndjson").as_os_str(),
            "--contract".as_ref(),
            c.as_os_str(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let header = r.stdout.lines().next().unwrap();
    assert!(header.ends_with("Total  Contracted"), "{header}");
    let row = r.stdout.lines().nth(2).unwrap();
    // $0.84 list, $0.726 shown to the cent (half away from zero): $0.73.
    assert!(row.ends_with("$0.84       $0.73"), "{row}");

    // CSV: the contracted amount beside each list one (0.50 -> 0.425; runtime 0.08 stays).
    let r = run_within(
        60,
        [
            "meter".as_ref(),
            tmp.path("runs/a.ndjson").as_os_str(),
            "--contract".as_ref(),
            c.as_os_str(),
            "-f".as_ref(),
            "csv".as_ref(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].ends_with(",cost_usd,pricing_version,contracted_usd,contract_version"),
        "{}",
        lines[0]
    );
    let line = |cat: &str| {
        let l = lines
            .iter()
            .find(|l| l.starts_with(&format!("opus_may,{cat},")))
            .unwrap();
        let f: Vec<&str> = l.split(',').collect();
        (dec(f[4]), dec(f[6]))
    };
    assert_eq!(line("input"), (dec("0.5"), dec("0.425")));
    assert_eq!(line("runtime"), (dec("0.08"), dec("0.08")));
}

#[test]
fn a_month_below_the_minimum_bills_the_shortfall_even_a_quiet_one() {
    let tmp = Tmp::new();
    let v = meter_json(
        &tmp,
        &["a.ndjson", "c.ndjson"],
        "[[commitment]]\neffective = \"2026-05-01\"\nmonthly_minimum_usd = \"1\"\n",
    );
    let months = v["contract"]["months"].as_array().unwrap();
    let m: Vec<(&str, Decimal)> = months
        .iter()
        .map(|m| (m["month"].as_str().unwrap(), amount(&m["shortfall"])))
        .collect();
    // May: 1 - 0.84 = 0.16; June has no usage at all: the whole 1; July: 1.08 >= 1: none.
    assert_eq!(
        m,
        [
            ("2026-05", dec("0.16")),
            ("2026-06", dec("1")),
            ("2026-07", Decimal::ZERO)
        ]
    );
    assert_eq!(months[1]["commitment"], "commitment[0]@2026-05-01");
    let t = &v["totals"];
    // Contracted 0.84 + 1.08 = 1.92 (no discount); shortfall 0.16 + 1 = 1.16;
    // billed 1.92 + 1.16 = 3.08.
    assert_eq!(amount(&t["contracted_cost"]["total"]), dec("1.92"));
    assert_eq!(amount(&t["commitment_shortfall"]), dec("1.16"));
    assert_eq!(amount(&t["billed"]), dec("3.08"));
}

#[test]
fn credits_are_used_oldest_first_across_months_and_not_after_they_expire() {
    let tmp = Tmp::new();
    let v = meter_json(
        &tmp,
        &["a.ndjson", "b.ndjson", "c.ndjson"],
        "[[credit]]\neffective = \"2026-06-01\"\namount_usd = \"0.50\"\nexpires = \"2026-06-30\"\n\
         [[credit]]\neffective = \"2026-05-01\"\namount_usd = \"1\"\nexpires = \"2026-06-30\"\n",
    );
    let months = v["contract"]["months"].as_array().unwrap();
    let used = |m: usize| -> Vec<(String, Decimal)> {
        months[m]["credits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["row"].as_str().unwrap().to_string(), amount(&c["used"])))
            .collect()
    };
    // May owes 0.84: credit[1] (the oldest, from 05-01) pays it, 1 - 0.84 = 0.16 left.
    assert_eq!(used(0), [("credit[1]@2026-05-01".to_string(), dec("0.84"))]);
    assert_eq!(amount(&months[0]["billed"]), Decimal::ZERO);
    // June owes 0.49: the rest of credit[1] (0.16) first, then credit[0] 0.49 - 0.16 = 0.33.
    assert_eq!(
        used(1),
        [
            ("credit[0]@2026-06-01".to_string(), dec("0.33")),
            ("credit[1]@2026-05-01".to_string(), dec("0.16"))
        ]
    );
    assert_eq!(amount(&months[1]["billed"]), Decimal::ZERO);
    // July: both expired on 06-30, so its 1.08 is billed whole; credit[0] keeps
    // 0.50 - 0.33 = 0.17, reported.
    assert!(used(2).is_empty());
    assert_eq!(amount(&months[2]["billed"]), dec("1.08"));
    let credits = v["contract"]["credits"].as_array().unwrap();
    assert_eq!(amount(&credits[0]["remaining"]), dec("0.17"));
    assert_eq!(amount(&credits[1]["remaining"]), Decimal::ZERO);
    let t = &v["totals"];
    // Used 0.84 + 0.16 + 0.33 = 1.33; billed 0.84 + 0.49 + 1.08 - 1.33 = 1.08.
    assert_eq!(amount(&t["credits_used"]), dec("1.33"));
    assert_eq!(amount(&t["billed"]), dec("1.08"));
}

#[test]
fn overlapping_discounts_are_refused_at_load_time() {
    let tmp = Tmp::new();
    let dir = runs(&tmp);
    let overlapping = "[[discount]]\neffective = \"2026-01-01\"\nuntil = \"2026-07-01\"\npercent = \"10%\"\nmodels = [\"claude-opus-4-6\"]\n\
                       [[discount]]\neffective = \"2026-06-01\"\npercent = \"5%\"\ncategories = [\"input\"]\n";
    let c = tmp.write("overlap.toml", &format!("{HEAD}{overlapping}"));
    let r = run_within(
        60,
        [
            "meter".as_ref(),
            dir.as_os_str(),
            "--contract".as_ref(),
            c.as_os_str(),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    let want = format!(
        "error: {}: discount[1]: overlaps discount[0] on input of claude-opus-4-6 from 2026-06-01",
        c.display()
    );
    assert!(r.stderr.starts_with(&want), "{}", r.stderr);
    assert!(
        r.stderr.contains("hint: run `agentmeter contract check"),
        "{}",
        r.stderr
    );
    let r = run_within(60, ["contract".as_ref(), "check".as_ref(), c.as_os_str()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stdout.contains("discount[1]: overlaps discount[0]"),
        "{}",
        r.stdout
    );
    // Ending the first where the second starts is fine.
    let ok = tmp.write(
        "ok.toml",
        &format!("{HEAD}{}", overlapping.replace("2026-07-01", "2026-06-01")),
    );
    let r = run_within(60, ["contract".as_ref(), "check".as_ref(), ok.as_os_str()]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("2 discount(s)"), "{}", r.stdout);
    // A contract given to `pricing check` is not a table, and the hint says where to go.
    let r = run_within(60, ["pricing".as_ref(), "check".as_ref(), ok.as_os_str()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("looks like a contract: `agentmeter contract check"),
        "{}",
        r.stderr
    );
}

#[test]
fn focus_rows_sum_to_the_billed_total_with_shortfall_and_credit_rows() {
    let tmp = Tmp::new();
    let contract = format!(
        "{OPUS_15}[[commitment]]\neffective = \"2026-05-01\"\nmonthly_minimum_usd = \"1\"\n\
         [[credit]]\neffective = \"2026-05-01\"\namount_usd = \"1\"\nexpires = \"2026-06-30\"\n"
    );
    let v = meter_json(&tmp, &[], &contract);
    // Contracted: May 0.726 (above), June 0.49, July 0.08 + 1.00 x 0.85 = 0.93: 2.146.
    // Shortfalls: 1 - 0.726 = 0.274, 1 - 0.49 = 0.51, 1 - 0.93 = 0.07: 0.854.
    // The credit pays May's 0.726 and then its shortfall 0.274: all of its 1.
    // Billed: 2.146 + 0.854 - 1 = 2.
    let t = &v["totals"];
    assert_eq!(amount(&t["contracted_cost"]["total"]), dec("2.146"));
    assert_eq!(amount(&t["commitment_shortfall"]), dec("0.854"));
    assert_eq!(amount(&t["credits_used"]), dec("1"));
    assert_eq!(amount(&t["billed"]), dec("2"));

    let out = tmp.path("focus.csv");
    let r = run_within(
        60,
        [
            "export".as_ref(),
            tmp.path("runs").as_os_str(),
            "--contract".as_ref(),
            tmp.path("contract.toml").as_os_str(),
            "--format".as_ref(),
            "focus-csv".as_ref(),
            "-o".as_ref(),
            out.as_os_str(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut rd = csv::Reader::from_path(&out).unwrap();
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
    let col = |n: &str| {
        header
            .iter()
            .position(|h| h == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let get = |r: &csv::StringRecord, n: &str| r.get(col(n)).unwrap().to_string();
    let sum = |n: &str, keep: &dyn Fn(&csv::StringRecord) -> bool| -> Decimal {
        rows.iter()
            .filter(|r| keep(r))
            .map(|r| dec(&get(r, n)))
            .sum()
    };
    let all = |_: &csv::StringRecord| true;
    assert_eq!(sum("BilledCost", &all), amount(&t["billed"]));
    assert_eq!(sum("EffectiveCost", &all), dec("2"));
    let usage = |r: &csv::StringRecord| {
        get(r, "x_Category") != "commitment_shortfall" && get(r, "ChargeCategory") == "Usage"
    };
    // ListCost of the usage rows: 0.84 + 0.49 + 1.08 = 2.41; ContractedCost 2.146.
    assert_eq!(sum("ListCost", &usage), dec("2.41"));
    assert_eq!(sum("ContractedCost", &usage), dec("2.146"));
    let credits: Vec<_> = rows
        .iter()
        .filter(|r| get(r, "ChargeCategory") == "Credit")
        .collect();
    assert_eq!(credits.len(), 1);
    assert_eq!(dec(&get(credits[0], "BilledCost")), dec("-1"));
    assert_eq!(get(credits[0], "x_ContractRow"), "credit[0]@2026-05-01");
    let shortfalls: Vec<_> = rows
        .iter()
        .filter(|r| get(r, "x_Category") == "commitment_shortfall")
        .collect();
    assert_eq!(shortfalls.len(), 3);
    assert_eq!(
        sum("BilledCost", &|r| get(r, "x_Category")
            == "commitment_shortfall"),
        dec("0.854")
    );
    assert!(shortfalls
        .iter()
        .all(|r| get(r, "ChargeFrequency") == "One-Time"
            && get(r, "ChargePeriodStart").ends_with("-01T00:00:00.000Z")));
    // Each discounted row names its row; a July Opus input row: list 1.00, contracted 0.85
    // at 5 x 0.85 = 4.25 per million.
    let july_input = rows
        .iter()
        .find(|r| get(r, "ResourceId") == "opus_july" && get(r, "x_Category") == "input")
        .unwrap();
    assert_eq!(dec(&get(july_input, "ListCost")), dec("1"));
    assert_eq!(dec(&get(july_input, "ContractedCost")), dec("0.85"));
    assert_eq!(dec(&get(july_input, "ContractedUnitPrice")), dec("4.25"));
    assert_eq!(get(july_input, "x_ContractRow"), "discount[0]@2026-01-01");
    assert!(rows
        .iter()
        .all(|r| get(r, "ServiceProviderName") == "Anthropic"
            && get(r, "x_ContractVersion").starts_with("acme@")));
}

#[test]
fn focus_parquet_under_a_contract_has_the_one_schema_and_sums_to_the_billed_total() {
    use polars::prelude::*;
    let tmp = Tmp::new();
    let contract = format!(
        "{OPUS_15}[[commitment]]\neffective = \"2026-05-01\"\nmonthly_minimum_usd = \"1\"\n\
         [[credit]]\neffective = \"2026-05-01\"\namount_usd = \"1\"\nexpires = \"2026-06-30\"\n"
    );
    let c = tmp.write("contract.toml", &format!("{HEAD}{contract}"));
    let dir = runs(&tmp);
    let export = |out: &std::path::Path, contract: bool| {
        let mut args: Vec<std::ffi::OsString> = vec![
            "export".into(),
            dir.clone().into_os_string(),
            "--format".into(),
            "focus-parquet".into(),
            "--partition".into(),
            "day".into(),
            "-o".into(),
            out.into(),
        ];
        if contract {
            args.extend(["--contract".into(), c.clone().into_os_string()]);
        }
        let r = run_within(60, &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    let (with, without) = (tmp.path("with"), tmp.path("without"));
    export(&with, true);
    export(&without, false);
    let files = |d: &std::path::Path| -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path().join("part-0.parquet"))
            .collect();
        v.sort();
        v
    };
    let read = |p: &std::path::Path| {
        ParquetReader::new(std::fs::File::open(p).unwrap())
            .finish()
            .unwrap()
    };
    let schema = read(&files(&without)[0]).schema().clone();
    let mut billed = Decimal::ZERO;
    for f in files(&with) {
        let df = read(&f);
        // Shortfall and credit rows (null unit prices, no resource) keep the schema too.
        assert_eq!(df.schema(), &schema, "{}", f.display());
        billed += agentmeter::export::columns::decimals(df.column("BilledCost").unwrap())
            .unwrap()
            .into_iter()
            .flatten()
            .sum::<Decimal>();
    }
    // As worked out above: 2.146 + 0.854 - 1 = 2.
    assert_eq!(billed, dec("2"));
    // Three shortfalls and the credit are dated on their months' last days: 05-31 (the
    // shortfall and the credit), 06-30, 07-31; plus the three days of usage.
    let days: Vec<String> = files(&with)
        .iter()
        .map(|f| {
            f.parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        days,
        [
            "x_ChargeDate=2026-05-04",
            "x_ChargeDate=2026-05-31",
            "x_ChargeDate=2026-06-05",
            "x_ChargeDate=2026-06-30",
            "x_ChargeDate=2026-07-06",
            "x_ChargeDate=2026-07-31"
        ]
    );
}

/// `baseline` and `check --contract`: what the user pays is judged, list shown beside it.
/// `opus_may` is 0.84 at list and, under OPUS_15, 0.08 + (0.50 + 0.25 + 0.01) x 0.85 = 0.726.
/// The same session with 200,000 input instead of 100,000 (`more`): list 0.08 + 1.00 + 0.25 +
/// 0.01 = 1.34; contracted 0.08 + 1.26 x 0.85 = 1.151.
#[test]
fn check_judges_what_the_user_pays_and_shows_list_beside_it() {
    let tmp = Tmp::new();
    let c = tmp.write("contract.toml", &format!("{HEAD}{OPUS_15}"));
    let a = runs(&tmp).join("a.ndjson");
    let more = tmp.write(
        "more/a.ndjson",
        &export(
            "opus_may",
            "claude-opus-4-6",
            "2026-05-04",
            "11:00:00",
            200_000,
            10_000,
            20_000,
        ),
    );
    let s = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let baseline = |name: &str, contract: bool| {
        let out = tmp.path(name);
        let mut args = vec![
            "baseline".to_string(),
            s(&a),
            "--key".into(),
            "session".into(),
            "-o".into(),
            s(&out),
        ];
        if contract {
            args.extend(["--contract".into(), s(&c)]);
        }
        let r = run_within(60, &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        (out, r.stderr)
    };
    let check = |base: &std::path::Path, run: &std::path::Path, extra: &[&str], contract: bool| {
        let mut args = vec!["check".to_string(), s(run), "--baseline".into(), s(base)];
        args.extend(extra.iter().map(|x| x.to_string()));
        if contract {
            args.extend(["--contract".into(), s(&c)]);
        }
        run_within(60, &args)
    };
    // The baseline records the contract, and the task's cost is what the user pays.
    let (paid, said) = baseline("paid.json", true);
    let b: Value = serde_json::from_str(&std::fs::read_to_string(&paid).unwrap()).unwrap();
    assert!(
        b["contract"]["version"]
            .as_str()
            .unwrap()
            .starts_with("acme@"),
        "{b:#}"
    );
    assert!(b["contract"]["text"].as_str().unwrap().contains("15%"));
    assert_eq!(b["total"], "0.726");
    assert_eq!(b["tasks"][0]["cost"], "0.726");
    assert!(
        said.contains("total $0.726 under contract acme@") && said.contains("($0.84 at list)"),
        "{said}"
    );
    // Without --contract the baseline is as it always was: no contract key, list costs.
    let (list, _) = baseline("list.json", false);
    let l: Value = serde_json::from_str(&std::fs::read_to_string(&list).unwrap()).unwrap();
    assert!(l.get("contract").is_none());
    assert_eq!(l["total"], "0.84");

    // A budget of $0.80: passes on what the user pays (0.726), fails at list (0.84).
    let r = check(&paid, &a, &["--budget", "0.80", "-f", "json"], true);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["contract"]["version"]
        .as_str()
        .unwrap()
        .starts_with("acme@"));
    assert_eq!(v["baseline"]["contract"], b["contract"]["version"]);
    let t = &v["total"];
    assert_eq!(
        (&t["baseline"], &t["current"], &t["change"]),
        (&json!("0.726"), &json!("0.726"), &json!("0"))
    );
    assert_eq!(t["list"], json!({"baseline": "0.84", "current": "0.84"}));
    // Today at list (no --contract), the baseline's side under the contract it recorded:
    // volume 0.726 - 0.726 = 0, price 0.84 - 0.726 = 0.114 (the discount not given), and
    // 0.84 > 0.80 fails.
    let r = check(&paid, &a, &["--budget", "0.80", "-f", "json"], false);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let t = &v["total"];
    assert_eq!(
        (&t["current"], &t["volume"], &t["price"]),
        (&json!("0.84"), &json!("0"), &json!("0.114"))
    );
    assert_eq!(t["failed"], json!(["$0.84 > budget $0.80"]));
    assert!(v.get("contract").is_none());
    assert!(
        v["notes"][0].as_str().unwrap().contains("pass --contract"),
        "{v:#}"
    );

    // The volume threshold too: +$0.45 allows the contracted increase 1.151 - 0.726 = 0.425,
    // not the list one 1.34 - 0.84 = 0.50.
    let r = check(
        &paid,
        &more,
        &["--max-increase-usd", "0.45", "--per-task"],
        true,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    // The comment: the list beside what is paid. 0.726 -> $0.73, 1.151 -> $1.15, list now
    // $1.34; +0.425 -> +$0.43, and 0.425 / 0.726 = 58.54% -> +58.5%.
    assert!(
        r.stdout
            .contains("| Task | Baseline | Now | List now | Change | Volume | Price | Threshold |"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "| opus_may | $0.73 | $1.15 | $1.34 | ▲ +$0.43 (+58.5%) | +$0.43 | $0.00 | ✅ |"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("At list prices: $0.84 → $1.34 (▲ +$0.50)"),
        "{}",
        r.stdout
    );
    let r = check(
        &list,
        &more,
        &["--max-increase-usd", "0.45", "--per-task"],
        false,
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("volume +$0.50 > max increase $0.45"),
        "{}",
        r.stdout
    );
    // Without any contract the comment has no list column.
    assert!(!r.stdout.contains("List now"), "{}", r.stdout);

    // A baseline at list checked under the contract: its side stays at list, so the discount
    // is the price part: price 0.726 - 0.84 = -0.114, volume 0; and a note says so.
    let r = check(&list, &a, &["--budget", "0.80", "-f", "json"], true);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let t = &v["total"];
    assert_eq!(
        (&t["baseline"], &t["current"], &t["volume"], &t["price"]),
        (
            &json!("0.84"),
            &json!("0.726"),
            &json!("0"),
            &json!("-0.114")
        )
    );
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("the baseline recorded no contract"),
        "{v:#}"
    );
}

/// `reconcile --contract`: an invoice is what the user pays. The seed's Opus hour
/// (reconcile.rs): tokens 0.25 + 0.375 = 0.625, runtime 0.08, list 0.705. Under 20% off Opus
/// tokens: 0.625 x 0.8 = 0.50, runtime 0.08: contracted 0.58. The invoice charges exactly that
/// (tokens 20 + 30 cents, runtime 8 cents): every row differs by 0 from the contracted amount,
/// by 0.125 from the list one. A $1 minimum in May adds a shortfall of 1 - 0.58 = 0.42.
#[test]
fn reconcile_compares_the_invoice_with_the_contracted_amounts() {
    let tmp = Tmp::new();
    tmp.write(
        "runs/a.ndjson",
        &crate::reconcile::session_with("sesn_a", "71", 15_000),
    );
    let c = tmp.write(
        "contract.toml",
        &format!("{HEAD}[[discount]]\neffective = \"2026-01-01\"\npercent = \"20%\"\nmodels = [\"claude-opus-4-6\"]\n\n[[commitment]]\neffective = \"2026-05-01\"\nmonthly_minimum_usd = \"1\"\n"),
    );
    let cost = tmp.write(
        "cost.json",
        &json!({"data": [{"starting_at": "2026-05-01T00:00:00Z", "ending_at": "2026-05-02T00:00:00Z", "results": [
            {"amount": "20", "currency": "USD", "cost_type": "tokens", "model": "claude-opus-4-6", "token_type": "uncached_input_tokens"},
            {"amount": "30", "currency": "USD", "cost_type": "tokens", "model": "claude-opus-4-6", "token_type": "output_tokens"},
            {"amount": "8", "currency": "USD", "cost_type": "code_execution", "description": "Managed Agents session runtime"}
        ]}], "has_more": false, "next_page": null})
        .to_string(),
    );
    let args = |json: bool| {
        let mut a = vec![
            "reconcile".to_string(),
            tmp.path("runs").display().to_string(),
            "--cost-report".into(),
            cost.display().to_string(),
            "--contract".into(),
            c.display().to_string(),
        ];
        if json {
            a.extend(["-f".into(), "json".into()]);
        }
        a
    };
    let r = run_within(60, args(true));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["totals"],
        json!({"computed": "0.705", "provider_reported": "0.71", "contracted": "0.58", "invoiced": "0.58"})
    );
    let rows = v["invoiced"]["by_day"].as_array().unwrap();
    let row = |bucket: &str| rows.iter().find(|r| r["bucket"] == bucket).unwrap().clone();
    assert_eq!(
        row("claude-opus-4-6"),
        json!({"day": "2026-05-01", "bucket": "claude-opus-4-6", "computed": "0.625", "contracted": "0.5", "invoiced": "0.5", "difference": "0"})
    );
    assert!(rows.iter().all(|r| r["difference"] == "0"), "{rows:?}");
    assert_eq!(v["contract"]["commitment_shortfall"], "0.42");
    assert_eq!(v["contract"]["billed"], "1");
    // The provider's list_cost (71 cents) is still compared with the list cost 0.705.
    assert_eq!(v["sessions"][0]["difference"], "-0.005");
    assert_eq!(v["sessions"][0]["flagged"], false);

    let r = run_within(60, args(false));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("Contracted (what the user pays) vs invoiced, by UTC day"),
        "{}",
        r.stdout
    );
    let total = r.stdout.lines().find(|l| l.starts_with("Total")).unwrap();
    // List $0.71 (0.705, half away), contracted $0.58, invoiced $0.58, difference $0.00.
    let cells: Vec<&str> = total.split_whitespace().collect();
    assert_eq!(
        cells,
        ["Total", "$0.71", "$0.58", "$0.58", "$0.00"],
        "{total}"
    );
    assert!(
        r.stdout.contains("2026-05: the contract also bills a commitment shortfall of $0.42 and uses $0.00 of credits"),
        "{}",
        r.stdout
    );
}

/// `report --contract`: list and contracted side by side in the summary and the tables.
/// `opus_may` alone: 0.84 at list, 0.726 under OPUS_15 ($0.73 to the cent).
#[test]
fn a_report_shows_list_and_contracted_side_by_side() {
    let tmp = Tmp::new();
    let c = tmp.write("contract.toml", &format!("{HEAD}{OPUS_15}"));
    let a = runs(&tmp).join("a.ndjson");
    let out = tmp.path("report");
    let r = run_within(
        120,
        [
            "report".as_ref(),
            a.as_os_str(),
            "--contract".as_ref(),
            c.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| Total cost at list prices | $0.84 |"), "{md}");
    assert!(
        md.contains("| Contracted (after the discounts) | $0.73 |"),
        "{md}"
    );
    // The top models: list $0.84, contracted $0.73, the share of the list total.
    assert!(
        md.contains("| claude-opus-4-6 | $0.84 | $0.73 | 100.0% |"),
        "{md}"
    );
    // By month: the Contracted column right after the list Total.
    let by_month = md.split("#### By month").nth(1).unwrap();
    let head = by_month.lines().find(|l| l.starts_with("| Month")).unwrap();
    assert!(head.ends_with("| Total | Contracted |"), "{head}");
    let may = by_month
        .lines()
        .find(|l| l.starts_with("| 2026-05"))
        .unwrap();
    assert!(may.ends_with("| $0.84 | $0.73 |"), "{may}");
    // The data: meter.json carries the contract (as `meter --contract -f json`).
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("meter.json")).unwrap()).unwrap();
    assert_eq!(json["totals"]["contracted_cost"]["total"], "0.726");
}

/// `meter --group-by month,model --contract`: every group row has what the user pays beside
/// its list cost, in every format. Under OPUS_15 (the sessions of the header):
/// - 2026-05 Opus (`opus_may`): list 0.84; contracted 0.08 + (0.50 + 0.25 + 0.01) x 0.85 =
///   0.08 + 0.646 = 0.726.
/// - 2026-06 Sonnet (`sonnet_june`): 0.49, no discount: 0.49.
/// - 2026-07 Opus (`opus_july`): list 1.08; contracted 0.08 + 1.00 x 0.85 = 0.93.
/// - Total: list 0.84 + 0.49 + 1.08 = 2.41; contracted 0.726 + 0.49 + 0.93 = 2.146.
#[test]
fn grouped_rows_show_contracted_beside_list_in_every_format() {
    let tmp = Tmp::new();
    let c = tmp.write("contract.toml", &format!("{HEAD}{OPUS_15}"));
    let dir = runs(&tmp);
    let meter = |format: &str, contract: bool| {
        let mut args: Vec<std::ffi::OsString> = vec![
            "meter".into(),
            dir.clone().into_os_string(),
            "--group-by".into(),
            "month,model".into(),
            "-f".into(),
            format.into(),
        ];
        if contract {
            args.extend(["--contract".into(), c.clone().into_os_string()]);
        }
        let r = run_within(60, &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    let v: Value = serde_json::from_str(&meter("json", true)).unwrap();
    let rows = v["groups"]["rows"].as_array().unwrap();
    let want = [
        ("2026-05 claude-opus-4-6", "0.84", "0.726"),
        ("2026-06 claude-sonnet-4-6", "0.49", "0.49"),
        ("2026-07 claude-opus-4-6", "1.08", "0.93"),
    ];
    assert_eq!(rows.len(), want.len());
    for (row, (key, list, paid)) in rows.iter().zip(want) {
        assert_eq!(row["key"], key);
        assert_eq!(amount(&row["cost"]["total"]), dec(list), "{key}");
        assert_eq!(amount(&row["contracted_cost"]["total"]), dec(paid), "{key}");
    }
    // July's input, by column: 1.00 at list, 0.85 contracted; its runtime 0.08 both.
    assert_eq!(amount(&rows[2]["contracted_cost"]["input"]), dec("0.85"));
    assert_eq!(amount(&rows[2]["contracted_cost"]["runtime"]), dec("0.08"));
    assert_eq!(
        amount(&v["totals"]["contracted_cost"]["total"]),
        dec("2.146")
    );
    // Without a contract a group row has no such key.
    let plain: Value = serde_json::from_str(&meter("json", false)).unwrap();
    assert!(plain["groups"]["rows"][0].get("contracted_cost").is_none());

    // CSV: contracted_usd and the contract's version on each group's category rows.
    let csv = meter("csv", true);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "month,model,category,quantity,unit,cost_usd,pricing_version,contracted_usd,contract_version"
    );
    let july_input = lines
        .find(|l| l.starts_with("2026-07,claude-opus-4-6,input,"))
        .unwrap();
    let cells: Vec<&str> = july_input.split(',').collect();
    assert_eq!((cells[3], cells[5], cells[7]), ("200000", "1", "0.85"));
    assert!(cells[8].starts_with("acme@"), "{july_input}");
    // The contracted amounts of all category rows add up to the contracted total.
    let paid: Decimal = csv
        .lines()
        .skip(1)
        .map(|l| dec(l.split(',').nth(7).unwrap()))
        .sum();
    assert_eq!(paid, dec("2.146"));
    assert!(!meter("csv", false).contains("contracted_usd"));

    // Table and markdown: a Contracted column after Total, to the cent (0.726 -> $0.73).
    let table = meter("table", true);
    let head = table.lines().next().unwrap();
    assert!(head.trim_end().ends_with("Total  Contracted"), "{table}");
    let may = table.lines().find(|l| l.starts_with("2026-05")).unwrap();
    assert!(may.trim_end().ends_with("$0.84       $0.73"), "{table}");
    let total = table.lines().find(|l| l.starts_with("Total")).unwrap();
    assert!(total.trim_end().ends_with("$2.41       $2.15"), "{table}");
    let md = meter("markdown", true);
    assert!(
        md.lines()
            .any(|l| l.starts_with("| 2026-07 | claude-opus-4-6 |")
                && l.ends_with("| $1.08 | $0.93 |")),
        "{md}"
    );
    assert!(!meter("table", false).contains("Contracted"));
}

/// One charge as both exports give it: (session, category, model, UTC day of its period's
/// start, ListCost, ContractedCost, EffectiveCost, BilledCost, contract row).
type Charge = (
    String,
    String,
    String,
    String,
    Decimal,
    Decimal,
    Decimal,
    Decimal,
    String,
);

/// The charges of a FOCUS CSV, sorted.
fn csv_charges(path: &std::path::Path) -> Vec<Charge> {
    let mut rd = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
    let mut out: Vec<Charge> = rd
        .records()
        .map(|r| {
            let r = r.unwrap();
            let get = |n: &str| r[header.iter().position(|h| h == n).unwrap()].to_string();
            (
                get("ResourceId"),
                get("x_Category"),
                get("x_Model"),
                get("ChargePeriodStart")[..10].to_string(),
                dec(&get("ListCost")),
                dec(&get("ContractedCost")),
                dec(&get("EffectiveCost")),
                dec(&get("BilledCost")),
                get("x_ContractRow"),
            )
        })
        .collect();
    out.sort();
    out
}

/// The charges of line items as Parquet (read back with polars), sorted.
fn parquet_charges(df: &polars::prelude::DataFrame) -> Vec<Charge> {
    use polars::prelude::*;
    let text = |n: &str| -> Vec<String> {
        let c = df.column(n).unwrap().str().unwrap().clone();
        (0..df.height())
            .map(|i| c.get(i).unwrap_or("").to_string())
            .collect()
    };
    let amounts = |n: &str| -> Vec<Decimal> {
        agentmeter::export::columns::decimals(df.column(n).unwrap())
            .unwrap()
            .into_iter()
            .map(|d| d.unwrap_or_else(|| panic!("{n}: a null amount")))
            .collect()
    };
    let start = df.column("start").unwrap().cast(&DataType::Int64).unwrap();
    let start = start.i64().unwrap();
    let (session, category, model, row) = (
        text("session_id"),
        text("category"),
        text("model"),
        text("contract_row"),
    );
    let (list, paid, effective, billed) = (
        amounts("list_cost"),
        amounts("contracted_cost"),
        amounts("effective_cost"),
        amounts("billed_cost"),
    );
    let mut out: Vec<Charge> = (0..df.height())
        .map(|i| {
            let day = chrono::DateTime::from_timestamp_millis(start.get(i).unwrap())
                .unwrap()
                .date_naive()
                .to_string();
            (
                session[i].clone(),
                category[i].clone(),
                model[i].clone(),
                day,
                list[i],
                paid[i],
                effective[i],
                billed[i],
                row[i].clone(),
            )
        })
        .collect();
    out.sort();
    out
}

/// `export --format parquet --contract` (whole and by day) and `meter --export DIR
/// --contract`: the line items carry the FOCUS amounts under the contract and the months'
/// shortfall and credit rows, equal to the FOCUS CSV's row for row. The amounts, as worked
/// out in `focus_rows_sum_to_the_billed_total_with_shortfall_and_credit_rows`: usage at list
/// 0.84 + 0.49 + 1.08 = 2.41, contracted 0.726 + 0.49 + 0.93 = 2.146; shortfalls 0.274 (May),
/// 0.51 (June), 0.07 (July) = 0.854; the credit's 1 used in May; billed 2.146 + 0.854 - 1 = 2.
#[test]
fn line_items_parquet_under_a_contract_equals_the_focus_csv() {
    use crate::export::{read_parquet, sum_of};
    let tmp = Tmp::new();
    let contract = format!(
        "{OPUS_15}[[commitment]]\neffective = \"2026-05-01\"\nmonthly_minimum_usd = \"1\"\n\
         [[credit]]\neffective = \"2026-05-01\"\namount_usd = \"1\"\nexpires = \"2026-06-30\"\n"
    );
    let c = tmp.write("contract.toml", &format!("{HEAD}{contract}"));
    let dir = runs(&tmp);
    let go = |args: &[&str]| {
        let mut all: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        all.insert(1, dir.clone().into_os_string());
        let r = run_within(60, &all);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r
    };
    let c = c.to_str().unwrap();
    let out = |name: &str| tmp.path(name).to_str().unwrap().to_string();
    go(&[
        "export",
        "--contract",
        c,
        "-f",
        "focus-csv",
        "-o",
        &out("focus.csv"),
    ]);
    let want = csv_charges(&tmp.path("focus.csv"));
    // Usage rows: opus_may runtime, input, output, cache read; sonnet_june runtime, input,
    // output; opus_july runtime, input (4 + 3 + 2 = 9); three shortfalls and one credit.
    assert_eq!(want.len(), 9 + 3 + 1);

    let r = go(&[
        "export",
        "--contract",
        c,
        "-f",
        "parquet",
        "-o",
        &out("items.parquet"),
    ]);
    assert!(
        r.stderr
            .contains("9 line items and 4 shortfall and credit row(s)")
            && r.stderr.contains("(billed_cost total 2)"),
        "{}",
        r.stderr
    );
    let df = read_parquet(&tmp.path("items.parquet"));
    assert_eq!(parquet_charges(&df), want);
    assert_eq!(sum_of(&df, "billed_cost"), dec("2"));
    assert_eq!(sum_of(&df, "effective_cost"), dec("2"));
    // `amount` stays the rated list amount: the contract's rows have none.
    assert_eq!(sum_of(&df, "amount"), dec("2.41"));
    // The July Opus input: 1.00 at list, at 5 x 0.85 = 4.25 per million, 0.85 paid.
    let rows = parquet_charges(&df);
    let july = rows
        .iter()
        .find(|r| r.0 == "opus_july" && r.1 == "input")
        .unwrap();
    assert_eq!(
        (july.4, july.5, july.7),
        (dec("1"), dec("0.85"), dec("0.85"))
    );
    assert_eq!(july.8, "discount[0]@2026-01-01");
    let shortfalls: Vec<&Charge> = rows
        .iter()
        .filter(|r| r.1 == "commitment_shortfall")
        .collect();
    let s: Vec<(&str, Decimal)> = shortfalls.iter().map(|r| (r.3.as_str(), r.7)).collect();
    assert_eq!(
        s,
        [
            ("2026-05-01", dec("0.274")),
            ("2026-06-01", dec("0.51")),
            ("2026-07-01", dec("0.07"))
        ]
    );
    let credit = rows.iter().find(|r| r.1 == "credit").unwrap();
    assert_eq!(
        (credit.4, credit.5, credit.7),
        (dec("0"), dec("0"), dec("-1"))
    );
    let rate =
        agentmeter::export::columns::decimals(df.column("contracted_rate").unwrap()).unwrap();
    let sessions = df.column("session_id").unwrap().str().unwrap().clone();
    let categories = df.column("category").unwrap().str().unwrap().clone();
    let i = (0..df.height())
        .find(|&i| sessions.get(i) == Some("opus_july") && categories.get(i) == Some("input"))
        .unwrap();
    assert_eq!(rate[i], Some(dec("4.25")));

    // By day: the same rows, the contract's on their months' last days.
    go(&[
        "export",
        "--contract",
        c,
        "-f",
        "parquet",
        "--partition",
        "day",
        "-o",
        &out("days"),
    ]);
    let mut parts: Vec<std::path::PathBuf> = std::fs::read_dir(tmp.path("days"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    parts.sort();
    let names: Vec<String> = parts
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "x_ChargeDate=2026-05-04",
            "x_ChargeDate=2026-05-31",
            "x_ChargeDate=2026-06-05",
            "x_ChargeDate=2026-06-30",
            "x_ChargeDate=2026-07-06",
            "x_ChargeDate=2026-07-31"
        ]
    );
    let mut all = Vec::new();
    for p in &parts {
        let df = read_parquet(&p.join("part-0.parquet"));
        // Every partition has one schema, contract rows (nulls) or not.
        assert_eq!(
            df.schema(),
            read_parquet(&tmp.path("items.parquet")).schema()
        );
        all.extend(parquet_charges(&df));
    }
    all.sort();
    assert_eq!(all, want);

    // meter --export: the same line items, and each session's contracted cost.
    go(&[
        "meter",
        "--contract",
        c,
        "--export",
        &out("meter"),
        "-f",
        "json",
    ]);
    let df = read_parquet(&tmp.path("meter/line_items.parquet"));
    assert_eq!(parquet_charges(&df), want);
    let s = read_parquet(&tmp.path("meter/sessions.parquet"));
    let ids = s.column("session_id").unwrap().str().unwrap().clone();
    let paid = agentmeter::export::columns::decimals(s.column("contracted_cost").unwrap()).unwrap();
    let mut by_id: Vec<(String, Decimal)> = (0..s.height())
        .map(|i| (ids.get(i).unwrap().to_string(), paid[i].unwrap()))
        .collect();
    by_id.sort();
    assert_eq!(
        by_id,
        [
            ("opus_july".to_string(), dec("0.93")),
            ("opus_may".to_string(), dec("0.726")),
            ("sonnet_june".to_string(), dec("0.49"))
        ]
    );

    // Without a contract the files are as before: no contract column, no contract row.
    go(&["meter", "--export", &out("plain"), "-f", "json"]);
    let df = read_parquet(&tmp.path("plain/line_items.parquet"));
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(
        names,
        [
            "session_id",
            "category",
            "model",
            "agent",
            "day",
            "start",
            "end",
            "quantity",
            "unit",
            "rate",
            "amount",
            "price_effective",
            "pricing_version"
        ]
    );
    assert_eq!(df.height(), 9);
    let s = read_parquet(&tmp.path("plain/sessions.parquet"));
    assert!(s.column("contracted_cost").is_err());
}
