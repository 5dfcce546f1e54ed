//! `agentmeter export`: FOCUS 1.3 rows (CSV, Parquet) that add up exactly to `meter`'s total,
//! with a schema and type check of every row.

use polars::prelude::*;
use rust_decimal::Decimal;
use serde_json::Value;

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

fn read_parquet(path: &std::path::Path) -> DataFrame {
    let f = std::fs::File::open(path).unwrap();
    ParquetReader::new(f).finish().unwrap()
}

fn billed_sum(df: &DataFrame) -> Decimal {
    sum_of(df, "BilledCost")
}

fn sum_of(df: &DataFrame, col: &str) -> Decimal {
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
        DataType::Decimal(38, _)
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
