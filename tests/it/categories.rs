//! Every charge category in every output: each output format is run on a session that has a
//! non-zero amount in every category, and each row of `agentmeter::category` must show in it
//! (its key, its cost column's key or label, its FOCUS SKU). Adding a row to the table and
//! forgetting an output fails here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use agentmeter::category::{self, Category, CostColumn, Sku};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::common::*;

const MODEL: &str = "claude-sonnet-4-6";

/// One session with every charge: 30 minutes running, one request (1,000 input, 500 output,
/// 2,000 cache writes split 3:1 as 1,500 at 5m and 500 at 1h by the session's reported
/// ratio, 4,000 cache reads) and one web search.
fn every_charge(tmp: &Tmp) -> PathBuf {
    let mut obj = session("sesn_all", MODEL);
    obj["title"] = json!("every charge");
    obj["usage"] = json!({"cache_creation": {"ephemeral_5m_input_tokens": 300, "ephemeral_1h_input_tokens": 100}});
    tmp.write(
        "all.ndjson",
        &ndjson(&[
            obj,
            ev("e1", "session.status_running", "2026-06-10T10:00:00Z"),
            request("e2", "2026-06-10T10:05:00Z", 1_000, 500, 2_000, 4_000),
            with(
                ev("e3", "agent.tool_use", "2026-06-10T10:10:00Z"),
                json!({"name": "web_search", "input": {"query": "q"}}),
            ),
            ev("e4", "session.status_idle", "2026-06-10T10:30:00Z"),
        ]),
    )
}

/// What each category of [`every_charge`] costs at the bundled prices (Sonnet 4.6: $3 input,
/// $15 output, $3.75 5m writes, $6 1h writes, $0.30 reads per million; runtime $0.08 an
/// hour; $10 per 1,000 searches), and its quantity.
fn expected(c: Category) -> (u64, Decimal) {
    match c {
        // 1,800,000 ms = 0.5 h x $0.08.
        Category::Runtime => (1_800_000, dec("0.04")),
        // 1,000 x $3 / 1M.
        Category::Input => (1_000, dec("0.003")),
        // 500 x $15 / 1M.
        Category::Output => (500, dec("0.0075")),
        // 1,500 x $3.75 / 1M.
        Category::CacheWrite5m => (1_500, dec("0.005625")),
        // 500 x $6 / 1M.
        Category::CacheWrite1h => (500, dec("0.003")),
        // 4,000 x $0.30 / 1M.
        Category::CacheRead => (4_000, dec("0.0012")),
        // 1 x $10 / 1,000.
        Category::WebSearch => (1, dec("0.01")),
    }
}

fn meter(path: &Path, extra: &[&str]) -> String {
    let mut args = vec!["meter".to_string(), path.display().to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let r = run_within(60, &args);
    assert_eq!(r.code, 0, "meter {extra:?}: {}", r.stderr);
    r.stdout
}

/// A CSV's rows as maps of header -> value.
fn csv_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// The header line of a table (terminal or markdown), which names the columns.
fn header_line(table: &str) -> &str {
    table
        .lines()
        .find(|l| l.contains("Total"))
        .unwrap_or_else(|| panic!("no header line in\n{table}"))
}

fn assert_labels(what: &str, table: &str, tokens: bool) {
    let header = header_line(table);
    for c in category::ALL {
        let col = c.column();
        assert!(
            header.contains(col.label()),
            "{what}: no column {:?} for {c:?} in {header:?}",
            col.label()
        );
        if tokens && c.is_token() {
            let label = col
                .row()
                .token_label
                .expect("a token column has a --tokens label");
            assert!(header.contains(label), "{what}: no {label:?} for {c:?}");
        }
    }
}

/// The cost object of meter-v1: each category's column key, with the column's amount.
fn assert_cost(what: &str, cost: &Value) {
    for c in category::ALL {
        let col = c.column();
        let v = cost[col.key()]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no cost key {:?} for {c:?}", col.key()));
        let want: Decimal = col.categories().map(|k| expected(k).1).sum();
        assert_eq!(dec(v), want, "{what}: cost.{}", col.key());
    }
}

/// Quantities as meter-v1 has them: tokens under `tokens` by category key, the others under
/// their quantity key.
fn assert_quantities(what: &str, v: &Value) {
    for c in category::ALL {
        let got = if c.is_token() {
            &v["tokens"][c.key()]
        } else {
            &v[c.row().quantity_key]
        };
        assert_eq!(
            got.as_u64(),
            Some(expected(c).0),
            "{what}: quantity of {c:?}"
        );
    }
}

#[test]
fn every_category_in_every_output() {
    let tmp = Tmp::new();
    let path = every_charge(&tmp);

    // CSV: a row per category, its key, unit and amount.
    for extra in [
        &[][..],
        &["--group-by", "model"],
        &["--group-by", "day,agent"],
    ] {
        let args: Vec<&str> = ["-f", "csv"]
            .into_iter()
            .chain(extra.iter().copied())
            .collect();
        let rows = csv_rows(&meter(&path, &args));
        assert_eq!(rows.len(), category::COUNT, "csv {extra:?}");
        for c in category::ALL {
            let row = (rows.iter())
                .find(|r| r["category"] == c.key())
                .unwrap_or_else(|| panic!("csv {extra:?}: no row for {c:?}"));
            let (quantity, amount) = expected(c);
            assert_eq!(row["quantity"], quantity.to_string(), "csv {c:?}");
            assert_eq!(row["unit"], c.unit().key(), "csv {c:?}");
            assert_eq!(dec(&row["cost_usd"]), amount, "csv {c:?}");
        }
    }

    // JSON: the session, the totals and group rows.
    let v: Value = serde_json::from_str(&meter(&path, &["-f", "json"])).unwrap();
    assert_cost("json session", &v["sessions"][0]["cost"]);
    assert_quantities("json session", &v["sessions"][0]);
    assert_cost("json totals", &v["totals"]["cost"]);
    assert_quantities("json totals", &v["totals"]);
    let g: Value =
        serde_json::from_str(&meter(&path, &["-f", "json", "--group-by", "day"])).unwrap();
    assert_cost("json group", &g["groups"]["rows"][0]["cost"]);
    assert_quantities("json group", &g["groups"]["rows"][0]);

    // Tables: a column per cost column, and per token column with --tokens; the narrow table
    // puts every category under one of its labels.
    for format in ["table", "markdown"] {
        for extra in [&[][..], &["--group-by", "model"]] {
            let mut args = vec!["-f", format, "--tokens"];
            args.extend(extra);
            assert_labels(&format!("{format} {extra:?}"), &meter(&path, &args), true);
            let mut args = vec!["-f", format];
            args.extend(extra);
            assert_labels(&format!("{format} {extra:?}"), &meter(&path, &args), false);
        }
    }
    let narrow = meter(&path, &["--width", "90"]);
    for c in category::ALL {
        let label = c.column().row().compact_label;
        assert!(
            header_line(&narrow).contains(label),
            "narrow table: no {label:?} for {c:?}"
        );
    }

    // FOCUS: a row per category, its x_Category, SKU and description.
    let focus = tmp.path("focus.csv");
    let r = run_within(
        60,
        [
            "export".as_ref(),
            path.as_os_str(),
            "-f".as_ref(),
            "focus-csv".as_ref(),
            "-o".as_ref(),
            focus.as_os_str(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = csv_rows(&std::fs::read_to_string(&focus).unwrap());
    assert_eq!(rows.len(), category::COUNT);
    for c in category::ALL {
        let row = (rows.iter())
            .find(|r| r["x_Category"] == c.key())
            .unwrap_or_else(|| panic!("focus: no row for {c:?}"));
        let (sku, description) = match c.row().sku {
            Sku::Fixed { id, description } => (id.to_string(), description.to_string()),
            Sku::PerModel { what } => (format!("{MODEL}:{}", c.key()), format!("{MODEL} {what}")),
        };
        assert_eq!(row["SkuId"], sku, "focus {c:?}");
        assert_eq!(row["ChargeDescription"], description, "focus {c:?}");
        assert_eq!(
            row["PricingUnit"],
            c.unit().focus_pricing_unit(),
            "focus {c:?}"
        );
        assert_eq!(
            row["ConsumedUnit"],
            c.unit().focus_consumed_unit(),
            "focus {c:?}"
        );
        assert_eq!(dec(&row["ListCost"]), expected(c).1, "focus {c:?}");
    }

    // Line items and sessions as Parquet.
    let items = tmp.path("items.parquet");
    let r = run_within(
        60,
        [
            "export".as_ref(),
            path.as_os_str(),
            "-f".as_ref(),
            "parquet".as_ref(),
            "-o".as_ref(),
            items.as_os_str(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let df = crate::export::read_parquet(&items);
    let column = df.column("category").unwrap().str().unwrap();
    let cats: Vec<String> = (0..column.len())
        .map(|i| column.get(i).unwrap_or_default().to_string())
        .collect();
    for c in category::ALL {
        assert!(cats.iter().any(|k| k == c.key()), "line items: no {c:?}");
    }
    let dir = tmp.path("usage");
    meter(&path, &["--export", &dir.display().to_string()]);
    let df = crate::export::read_parquet(&dir.join("sessions.parquet"));
    for c in category::ALL {
        let col = df
            .column(c.row().quantity_key)
            .unwrap_or_else(|_| panic!("sessions.parquet: no {:?}", c.row().quantity_key));
        let n = col.cast(&polars::prelude::DataType::UInt64).unwrap();
        assert_eq!(
            n.u64().unwrap().get(0),
            Some(expected(c).0),
            "sessions.parquet {c:?}"
        );
    }

    // Comparison: the table's column labels and the JSON's cost keys.
    let cmp = [
        "compare",
        &path.display().to_string(),
        "--model",
        MODEL,
        "--model",
        "claude-opus-4-6",
    ];
    let r = run_within(60, cmp);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let by_cat = r.stdout.split("Totals by charge category").nth(1).unwrap();
    assert_labels("compare", by_cat, false);
    let r = run_within(60, cmp.iter().chain(&["-f", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_cost("compare json", &v["totals"][0]["cost"]);

    // Contracts: every category and column is a name `categories` takes.
    let bad = tmp.write(
        "c.toml",
        "schema = 1\nname = \"c\"\ncurrency = \"USD\"\n[[discount]]\neffective = \"2026-01-01\"\npercent = \"5%\"\ncategories = [\"nothing\"]\n",
    );
    let r = run_within(60, ["contract".as_ref(), "check".as_ref(), bad.as_os_str()]);
    assert_eq!(r.code, 2);
    let said = format!("{}{}", r.stdout, r.stderr);
    let known = said.split("known: ").nth(1).unwrap_or_default();
    let known: Vec<&str> = known
        .lines()
        .next()
        .unwrap_or_default()
        .split(", ")
        .collect();
    for c in category::ALL {
        assert!(
            known.contains(&c.key()),
            "contract: {c:?} not a known name: {known:?}"
        );
        assert!(
            known.contains(&c.column().key()),
            "contract: no {:?}",
            c.column()
        );
    }
    for c in category::ALL {
        let good = tmp.write(
            "one.toml",
            &format!("schema = 1\nname = \"c\"\ncurrency = \"USD\"\n[[discount]]\neffective = \"2026-01-01\"\npercent = \"10%\"\ncategories = [\"{}\"]\n", c.key()),
        );
        let v: Value = serde_json::from_str(&meter(
            &path,
            &["-f", "json", "--contract", &good.display().to_string()],
        ))
        .unwrap();
        // 10% off this category alone: its column's contracted amount is the list amount
        // less a tenth of this category's.
        let col = c.column();
        let list: Decimal = col.categories().map(|k| expected(k).1).sum();
        let want = list - expected(c).1 / Decimal::from(10);
        let got = dec(v["totals"]["contracted_cost"][col.key()].as_str().unwrap());
        assert_eq!(got, want, "contract on {c:?}");
    }

    // A fitted scenario names every token column's distribution.
    let fitted = tmp.path("fit.toml");
    let r = run_within(
        60,
        [
            "fit".as_ref(),
            path.as_os_str(),
            "-o".as_ref(),
            fitted.as_os_str(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&fitted).unwrap();
    for c in CostColumn::tokens() {
        let key = c.row().scenario_key.unwrap();
        assert!(text.contains(&format!("\n{key} = ")), "fit: no {key}");
    }
}

/// A scenario with every cost column: a session a day in December 2026, each 30 minutes, 2
/// requests (1,000 input, 500 output, 2,000 1-hour cache writes, 4,000 reads each) and a search.
const SCENARIO: &str = "name = \"every-charge\"\nstart = \"2026-12-01\"\nmonths = 1\n\
[[agent]]\nname = \"all\"\nmodel = \"claude-sonnet-4-6\"\nsessions_per_day = 1\n\
[agent.session]\nactive_minutes = 30\nrequests = 2\nweb_searches = 1\ninput_tokens = 1000\n\
output_tokens = 500\ncache_read_tokens = 4000\ncache_write_tokens = 2000\ncache_ttl = \"1h\"\n";

/// The scenario's expected cost per column over its month: 31 x a session's, which is
fn projected(c: CostColumn) -> Decimal {
    dec(match c {
        // 30 min x $0.08 an hour = 0.04; x 31 = 1.24.
        CostColumn::Runtime => "1.24",
        // 2 x 1,000 x $3 / 1M = 0.006; x 31 = 0.186.
        CostColumn::Input => "0.186",
        // 2 x 500 x $15 / 1M = 0.015; x 31 = 0.465.
        CostColumn::Output => "0.465",
        // 2 x 2,000 x $6 / 1M (1h) = 0.024; x 31 = 0.744.
        CostColumn::CacheWrite => "0.744",
        // 2 x 4,000 x $0.30 / 1M = 0.0024; x 31 = 0.0744.
        CostColumn::CacheRead => "0.0744",
        // 1 x $10 / 1,000 = 0.01; x 31 = 0.31.
        CostColumn::WebSearch => "0.31",
    })
}

#[test]
fn every_cost_column_in_projections_and_reports() {
    let tmp = Tmp::new();
    let scenario = tmp.write("every.toml", SCENARIO);
    let project = |format: &str| {
        let r = run_within(
            60,
            [
                "project".as_ref(),
                scenario.as_os_str(),
                "--runs".as_ref(),
                "50".as_ref(),
                "-f".as_ref(),
                format.as_ref(),
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    let v: Value = serde_json::from_str(&project("json")).unwrap();
    let cats = v["categories"].as_array().unwrap();
    for c in category::ALL {
        let col = c.column();
        let month = &v["months"][0]["categories"][col.key()];
        assert_eq!(
            dec(month.as_str().unwrap()),
            projected(col),
            "months[0] {col:?}"
        );
        let row = (cats.iter())
            .find(|r| r["category"] == col.key())
            .unwrap_or_else(|| panic!("projection json: no category {:?}", col.key()));
        assert_eq!(
            dec(row["expected"].as_str().unwrap()),
            projected(col),
            "{col:?}"
        );
    }
    for format in ["table", "markdown"] {
        let text = project(format);
        let by_cat = text.split("By charge category").nth(1).unwrap();
        for c in category::ALL {
            let key = c.column().key();
            assert!(
                by_cat
                    .lines()
                    .any(|l| l.trim_start_matches(['|', ' ']).starts_with(key)),
                "projection {format}: no row {key}"
            );
        }
    }

    // A report of the session and the scenario: its data files and the category table.
    let path = every_charge(&tmp);
    let dir = tmp.path("report");
    let r = run_within(
        120,
        [
            "report".as_ref(),
            path.as_os_str(),
            "--scenario".as_ref(),
            scenario.as_os_str(),
            "--runs".as_ref(),
            "50".as_ref(),
            "-o".as_ref(),
            dir.as_os_str(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let meter_csv = csv_rows(&read("meter.csv"));
    let daily_csv = csv_rows(&read("daily.csv"));
    let meter_json: Value = serde_json::from_str(&read("meter.json")).unwrap();
    let projection: Value = serde_json::from_str(&read("projection.json")).unwrap();
    assert_cost("report meter.json", &meter_json["totals"]["cost"]);
    let (md, html) = (read("report.md"), read("index.html"));
    for c in category::ALL {
        for (name, rows) in [("meter.csv", &meter_csv), ("daily.csv", &daily_csv)] {
            let row = (rows.iter()).find(|r| r["category"] == c.key());
            let row = row.unwrap_or_else(|| panic!("{name}: no {c:?}"));
            assert_eq!(dec(&row["cost_usd"]), expected(c).1, "{name} {c:?}");
        }
        let key = c.column().key();
        let in_projection = projection["categories"].as_array().unwrap();
        assert!(
            in_projection.iter().any(|r| r["category"] == key),
            "projection.json: {key}"
        );
        for (name, page) in [("report.md", &md), ("index.html", &html)] {
            assert!(page.contains(key), "{name}: no {key}");
        }
        for chart in ["cost-by-category.svg", "projection-by-agent.svg"] {
            assert!(read(chart).contains(key), "{chart}: no {key}");
        }
    }
}
