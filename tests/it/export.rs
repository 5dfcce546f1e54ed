//! `agentmeter export`: FOCUS 1.3 rows (CSV, Parquet) that add up exactly to `meter`'s total,
//! with a schema and type check of every row.

use polars::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::common::*;

fn examples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples")
}

fn meter_total() -> Decimal {
    let r = run([
        "meter".as_ref(),
        examples().as_os_str(),
        "-f".as_ref(),
        "json".as_ref(),
    ]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    dec(v["totals"]["cost"]["total"].as_str().unwrap())
}

/// FOCUS 1.3 columns a usage row of ours must carry.
const REQUIRED: [&str; 27] = [
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "ListUnitPrice",
    "PricingUnit",
    "PricingQuantity",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ServiceCategory",
    "ServiceName",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "ResourceId",
    "SkuId",
];

#[test]
fn focus_csv_rows_are_well_typed_and_sum_to_the_meter_total() {
    let tmp = Tmp::new();
    let out = tmp.path("focus.csv");
    let r = run([
        "export".as_ref(),
        examples().as_os_str(),
        "--format".as_ref(),
        "focus-csv".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut rd = csv::Reader::from_path(&out).unwrap();
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
    for c in REQUIRED
        .iter()
        .chain(&["SkuPriceId", "Tags", "x_PricingVersion"])
    {
        assert!(header.iter().any(|h| h == c), "missing column {c}");
    }
    for h in &header {
        // FOCUS names are PascalCase; extensions start with x_.
        assert!(
            h.starts_with("x_") || h.chars().next().is_some_and(|c| c.is_ascii_uppercase()),
            "{h}"
        );
    }
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut billed = Decimal::ZERO;
    let mut n = 0;
    for rec in rd.records() {
        let rec = rec.unwrap();
        let get = |name: &str| rec.get(col(name)).unwrap().to_string();
        n += 1;
        let cost = dec(&get("BilledCost"));
        billed += cost;
        for c in ["EffectiveCost", "ListCost", "ContractedCost"] {
            assert_eq!(dec(&get(c)), cost, "{c}");
        }
        assert_eq!(get("BillingCurrency"), "USD");
        assert_eq!(get("ChargeCategory"), "Usage");
        assert_eq!(
            get("ChargeClass"),
            "",
            "ChargeClass is null for regular charges"
        );
        assert_eq!(get("ServiceCategory"), "AI and Machine Learning");
        for c in [
            "ChargePeriodStart",
            "ChargePeriodEnd",
            "BillingPeriodStart",
            "BillingPeriodEnd",
        ] {
            let t = get(c);
            assert!(
                t.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(&t).is_ok(),
                "{c} = {t}"
            );
        }
        let ms = |c: &str| {
            chrono::DateTime::parse_from_rfc3339(&get(c))
                .unwrap()
                .timestamp_millis()
        };
        assert_eq!(
            ms("ChargePeriodEnd") - ms("ChargePeriodStart"),
            86_400_000,
            "one row per day"
        );
        assert!(
            ms("BillingPeriodStart") <= ms("ChargePeriodStart")
                && ms("ChargePeriodEnd") <= ms("BillingPeriodEnd")
        );
        // Quantity x unit price = cost: exact for tokens and searches; runtime is rounded to
        // 9 places per session.
        let implied = dec(&get("PricingQuantity")) * dec(&get("ListUnitPrice"));
        let tolerance = if get("PricingUnit") == "Hours" {
            dec("0.000000001")
        } else {
            Decimal::ZERO
        };
        assert!(
            (implied - cost).abs() <= tolerance,
            "{implied} vs {cost} ({})",
            get("SkuId")
        );
        assert!(!get("ResourceId").is_empty() && !get("SkuPriceId").is_empty());
        let tags: Value = serde_json::from_str(&get("Tags")).unwrap();
        assert!(tags.is_object());
    }
    assert!(n > 20);
    assert_eq!(
        billed,
        meter_total(),
        "BilledCost sums exactly to meter's total"
    );
}

pub(crate) fn read_parquet(path: &std::path::Path) -> DataFrame {
    let f = std::fs::File::open(path).unwrap();
    ParquetReader::new(f).finish().unwrap()
}

fn billed_sum(df: &DataFrame) -> Decimal {
    sum_of(df, "BilledCost")
}

pub(crate) fn sum_of(df: &DataFrame, col: &str) -> Decimal {
    agentmeter::export::columns::decimals(df.column(col).unwrap())
        .unwrap()
        .into_iter()
        .flatten()
        .sum()
}

#[test]
fn focus_parquet_is_typed_partitioned_by_day_and_sums_to_the_total() {
    let tmp = Tmp::new();
    let one = tmp.path("focus.parquet");
    let r = run([
        "export".as_ref(),
        examples().as_os_str(),
        "--format".as_ref(),
        "focus-parquet".as_ref(),
        "-o".as_ref(),
        one.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let df = read_parquet(&one);
    assert!(
        matches!(df.column("ChargePeriodStart").unwrap().dtype(), DataType::Datetime(TimeUnit::Milliseconds, Some(tz)) if tz.as_str() == "UTC")
    );
    assert!(matches!(
        df.column("BilledCost").unwrap().dtype(),
        DataType::Decimal(38, 12)
    ));
    assert_eq!(df.column("ServiceName").unwrap().dtype(), &DataType::String);
    assert_eq!(billed_sum(&df), meter_total());

    let dir = tmp.path("by-day");
    let r = run([
        "export".as_ref(),
        examples().as_os_str(),
        "--format".as_ref(),
        "focus-parquet".as_ref(),
        "--partition".as_ref(),
        "day".as_ref(),
        "-o".as_ref(),
        dir.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut total = Decimal::ZERO;
    let mut days = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        days.push(e.file_name().to_string_lossy().into_owned());
        total += billed_sum(&read_parquet(&e.path().join("part-0.parquet")));
    }
    days.sort();
    assert_eq!(
        days,
        [
            "x_ChargeDate=2026-05-04",
            "x_ChargeDate=2026-06-10",
            "x_ChargeDate=2026-09-02",
            "x_ChargeDate=2026-10-05"
        ]
    );
    assert_eq!(total, meter_total());
    // An existing output is not replaced without --force.
    let again = run([
        "export".as_ref(),
        examples().as_os_str(),
        "--format".as_ref(),
        "focus-parquet".as_ref(),
        "-o".as_ref(),
        one.as_os_str(),
    ]);
    assert_eq!(again.code, 2);
}

#[test]
fn line_items_as_parquet() {
    let tmp = Tmp::new();
    let out = tmp.path("items.parquet");
    let r = run([
        "export".as_ref(),
        examples().as_os_str(),
        "--format".as_ref(),
        "parquet".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let df = read_parquet(&out);
    let sum = sum_of(&df, "amount");
    assert_eq!(sum, meter_total());
}

/// Two sessions over three UTC days, in two files. Shapes: session object, status events,
/// `span.model_request_end.model_usage` and `agent.tool_use` as in
/// ../shared/reference/managed-agents-api.md (the helpers in common.rs build them).
fn three_days(tmp: &Tmp) -> std::path::PathBuf {
    tmp.write(
        "in/a.ndjson",
        &ndjson(&[
            session("sesn_a", "claude-sonnet-4-6"),
            ev("a1", "session.status_running", "2026-06-10T23:30:00Z"),
            request("a2", "2026-06-10T23:45:00Z", 1000, 200, 0, 0),
            with(
                ev("a3", "agent.tool_use", "2026-06-11T00:10:00Z"),
                json!({"name": "web_search", "input": {"query": "q"}}),
            ),
            request("a4", "2026-06-11T00:20:00Z", 10, 100, 4000, 50_000),
            ev("a5", "session.status_idle", "2026-06-11T00:30:00Z"),
        ]),
    );
    tmp.write(
        "in/b.ndjson",
        &ndjson(&[
            session("sesn_b", "claude-haiku-4-5"),
            ev("b1", "session.status_running", "2026-06-12T08:00:00Z"),
            ev("b2", "session.status_idle", "2026-06-12T08:00:01.234Z"),
        ]),
    );
    tmp.path("in")
}

/// The total of [`three_days`], by hand from pricing/anthropic.toml (June 2026: runtime
/// $0.08/h; Sonnet 4.6 input 3, output 15, 5m cache write 3.75, cache read 0.30 per M; web
/// search $10 per 1,000; cache writes at 5m, the default TTL):
/// sesn_a: runtime 23:30-00:30 = 1 h x 0.08 = 0.08 (0.04 each day); 06-10 input
/// 1,000 x 3/M = 0.003, output 200 x 15/M = 0.003; 06-11 one search 0.01, input 10 x 3/M =
/// 0.00003, output 100 x 15/M = 0.0015, cache write 4,000 x 3.75/M = 0.015, cache read
/// 50,000 x 0.30/M = 0.015: 0.08 + 0.006 + 0.01 + 0.00003 + 0.0015 + 0.015 + 0.015 = 0.12753.
/// sesn_b (06-12, runtime only, the day's one row): 1,234 ms x 0.08 / 3,600,000 =
/// 0.0000274222..., half-even to 9 places 0.000027422.
/// Total 0.12753 + 0.000027422 = 0.127557422.
const THREE_DAYS_TOTAL: &str = "0.127557422";

fn meter_json_total(input: &std::path::Path) -> Decimal {
    let r = run([
        "meter".as_ref(),
        input.as_os_str(),
        "-f".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    dec(v["totals"]["cost"]["total"].as_str().unwrap())
}

fn export(input: &std::path::Path, format: &str, out: &std::path::Path, extra: &[&str]) -> Run {
    let mut args: Vec<std::ffi::OsString> = vec![
        "export".into(),
        input.into(),
        "--format".into(),
        format.into(),
        "-o".into(),
        out.into(),
    ];
    args.extend(extra.iter().map(Into::into));
    run(args)
}

/// Every Parquet file under `dir`, sorted.
fn parquet_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(parquet_files(&p));
        } else if p.extension().is_some_and(|x| x == "parquet") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The whole directory as one hive-partitioned dataset, summed by polars itself.
fn dataset_sum(dir: &std::path::Path, column: &str) -> (Decimal, DataFrame) {
    let args = ScanArgsParquet {
        hive_options: HiveOptions::new_enabled(),
        ..Default::default()
    };
    let lf = LazyFrame::scan_parquet(PlRefPath::try_from_path(dir).unwrap(), args).unwrap();
    let all = lf.clone().collect().unwrap();
    let sum = lf.select([col(column).sum()]).collect().unwrap();
    (sum_of(&sum, column), all)
}

#[test]
fn a_day_partitioned_export_reads_whole_as_one_dataset_with_meters_total() {
    let tmp = Tmp::new();
    let input = three_days(&tmp);
    let total = dec(THREE_DAYS_TOTAL);
    assert_eq!(meter_json_total(&input), total);

    for (format, column, rows) in [
        ("focus-parquet", "BilledCost", 10),
        ("parquet", "amount", 10),
    ] {
        let dir = tmp.path(format);
        let r = export(&input, format, &dir, &["--partition", "day"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let files = parquet_files(&dir);
        let days: Vec<String> = files
            .iter()
            .map(|f| f.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        assert_eq!(
            days,
            [
                "x_ChargeDate=2026-06-10/part-0.parquet",
                "x_ChargeDate=2026-06-11/part-0.parquet",
                "x_ChargeDate=2026-06-12/part-0.parquet"
            ],
            "{format}"
        );
        // One schema in every partition, the one-row day included (its amounts alone would
        // have needed 9 places, the others' fewer).
        let schemas: Vec<_> = files
            .iter()
            .map(|f| read_parquet(f).schema().clone())
            .collect();
        assert!(
            schemas.iter().all(|s| s == &schemas[0]),
            "{format}: {schemas:#?}"
        );
        assert_eq!(schemas[0].get(column), Some(&DataType::Decimal(38, 12)));
        assert_eq!(
            read_parquet(&files[2]).height(),
            1,
            "{format}: 06-12 is one row"
        );

        let (sum, all) = dataset_sum(&dir, column);
        assert_eq!(sum, total, "{format}: the engine's sum of the dataset");
        assert_eq!(sum_of(&all, column), total);
        // sesn_a: 06-10 runtime, input, output; 06-11 runtime, search, input, output,
        // cache write, cache read; sesn_b: 06-12 runtime = 3 + 6 + 1 = 10 rows.
        assert_eq!(all.height(), rows);
        assert!(all.column("x_ChargeDate").is_ok(), "the hive key is read");
    }
    // Runtime hours to 12 places: sesn_b's 1,234 ms = 0.000342777777777... h, half-even
    // 0.000342777778; x 0.08 = 0.00002742222224, within 1e-9 of the 9-place 0.000027422.
    let b = read_parquet(&parquet_files(&tmp.path("focus-parquet"))[2]);
    assert_eq!(sum_of(&b, "PricingQuantity"), dec("0.000342777778"));

    // Shards (`export --shard I/N`, one job each) are one table too: the same schema, and
    // together they sum to the total.
    let shards = tmp.path("shards");
    for i in ["1/2", "2/2"] {
        let out = shards.join(format!("shard-{}", &i[..1]));
        let r = export(
            &input,
            "focus-parquet",
            &out,
            &["--partition", "day", "--shard", i],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let files = parquet_files(&shards);
    assert_eq!(
        files.len(),
        3,
        "sesn_a's two days in one shard, sesn_b's day in the other"
    );
    let first = read_parquet(&files[0]).schema().clone();
    assert!(files.iter().all(|f| read_parquet(f).schema() == &first));
    let args = ScanArgsParquet {
        hive_options: HiveOptions::new_enabled(),
        ..Default::default()
    };
    let glob = shards.join("*/*/*.parquet");
    let all = LazyFrame::scan_parquet(PlRefPath::try_from_path(&glob).unwrap(), args)
        .unwrap()
        .select([col("BilledCost").sum()])
        .collect()
        .unwrap();
    assert_eq!(sum_of(&all, "BilledCost"), total);

    // The single-file exports and `meter --export` have the same schema as the partitions.
    let one = tmp.path("items.parquet");
    assert_eq!(export(&input, "parquet", &one, &[]).code, 0);
    let partitioned = read_parquet(&parquet_files(&tmp.path("parquet"))[0]);
    assert_eq!(read_parquet(&one).schema(), partitioned.schema());
    let usage = tmp.path("usage");
    let r = run([
        "meter".as_ref(),
        input.as_os_str(),
        "--export".as_ref(),
        usage.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let items = read_parquet(&usage.join("line_items.parquet"));
    assert_eq!(items.schema(), partitioned.schema());
    assert_eq!(sum_of(&items, "amount"), total);
    let sessions = read_parquet(&usage.join("sessions.parquet"));
    assert_eq!(sum_of(&sessions, "cost"), total);
    for c in ["active_ms", "requests", "input_tokens", "web_searches"] {
        assert_eq!(sessions.column(c).unwrap().dtype(), &DataType::Int64, "{c}");
    }
    assert_eq!(
        sessions.column("cost").unwrap().dtype(),
        &DataType::Decimal(38, 12)
    );
}

/// Names in `dir`, sorted (hidden ones too: no temporary directory may be left behind).
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn force_replaces_a_whole_export_and_nothing_else_does() {
    let tmp = Tmp::new();
    let input = three_days(&tmp);
    let dir = tmp.path("out/focus");
    let r = export(&input, "focus-parquet", &dir, &["--partition", "day"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(names(&dir).len(), 3);
    let before: Vec<Vec<u8>> = parquet_files(&dir)
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();

    // Without --force: refused, and the old export is as it was.
    let b_only = tmp.path("in/b.ndjson");
    let r = export(&b_only, "focus-parquet", &dir, &["--partition", "day"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("already exists") && r.stderr.contains("hint:"),
        "{}",
        r.stderr
    );
    let after: Vec<Vec<u8>> = parquet_files(&dir)
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();
    assert_eq!(before, after);

    // A run that fails while writing (a rate of 13 places cannot be Decimal(38, 12) without
    // rounding) leaves the old export too.
    let prices = tmp.write(
        "prices.toml",
        &format!(
            "{}\n[[runtime]]\neffective = \"2026-06-01T00:00:00Z\"\nusd_per_hour = \"0.0800000000001\"\n",
            agentmeter::pricing::BUNDLED
        ),
    );
    let r = export(
        &b_only,
        "focus-parquet",
        &dir,
        &[
            "--partition",
            "day",
            "--force",
            "--pricing",
            prices.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("Decimal(38, 12)"), "{}", r.stderr);
    assert_eq!(names(&dir).len(), 3);
    assert_eq!(names(&tmp.path("out")), ["focus"], "no temporary left");

    // With --force, fewer days over more: only the new days remain, and they sum to the new
    // total (sesn_b alone: 0.000027422, worked above).
    let r = export(
        &b_only,
        "focus-parquet",
        &dir,
        &["--partition", "day", "--force"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(names(&dir), ["x_ChargeDate=2026-06-12"]);
    assert_eq!(names(&tmp.path("out")), ["focus"], "no temporary left");
    assert_eq!(dataset_sum(&dir, "BilledCost").0, dec("0.000027422"));

    // `meter --export DIR` likewise: a stray file of an older run does not survive --force,
    // and an existing export is not replaced without it.
    let usage = tmp.path("out/usage");
    std::fs::create_dir_all(&usage).unwrap();
    std::fs::write(usage.join("old-shard.parquet"), "stale").unwrap();
    let meter_export = |force: bool| {
        let mut args = vec![
            "meter".as_ref(),
            b_only.as_os_str(),
            "--export".as_ref(),
            usage.as_os_str(),
        ];
        if force {
            args.push("--force".as_ref());
        }
        run(args)
    };
    let r = meter_export(false);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "refused before metering");
    assert_eq!(names(&usage), ["old-shard.parquet"]);
    let r = meter_export(true);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(names(&usage), ["line_items.parquet", "sessions.parquet"]);
    // --force replaces an export, not any directory: the inputs given as the output stay.
    let r = export(
        &input,
        "parquet",
        &input,
        &["--partition", "day", "--force"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is not an export"), "{}", r.stderr);
    assert_eq!(names(&input), ["a.ndjson", "b.ndjson"]);

    // A single file is written beside and renamed in: nothing else is left in its directory.
    let one = tmp.path("single/focus.parquet");
    std::fs::create_dir_all(one.parent().unwrap()).unwrap();
    assert_eq!(export(&b_only, "focus-parquet", &one, &[]).code, 0);
    assert_eq!(export(&input, "focus-parquet", &one, &[]).code, 2);
    assert_eq!(export(&input, "focus-parquet", &one, &["--force"]).code, 0);
    assert_eq!(names(&tmp.path("single")), ["focus.parquet"]);
    assert_eq!(billed_sum(&read_parquet(&one)), dec(THREE_DAYS_TOTAL));
}
