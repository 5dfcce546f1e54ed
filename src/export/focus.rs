//! FOCUS 1.3 rows (the FinOps Open Cost and Usage Specification): one row per session x SKU x
//! day, as CSV or Parquet, for finance tools and query engines.

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::money::exact;
use crate::pricing::PriceTable;
use crate::rate::{Category, LineItem, RatedSession, MS_PER_HOUR, TOKENS_PER_PRICE_UNIT};
use crate::time::format_ms;

/// Column order of the export (FOCUS names, then `x_` extensions).
pub const COLUMNS: [&str; 39] = [
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
    "ContractedUnitPrice",
    "PricingCategory",
    "PricingUnit",
    "PricingQuantity",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ServiceCategory",
    "ServiceSubcategory",
    "ServiceName",
    "ProviderName",
    "PublisherName",
    "InvoiceIssuerName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "SkuId",
    "SkuPriceId",
    "Tags",
    "x_PricingVersion",
    "x_PriceEffective",
    "x_Agent",
    "x_Model",
    "x_Category",
];

/// One FOCUS row. Money and quantities are exact decimals.
#[derive(Clone, Debug, PartialEq)]
pub struct FocusRow {
    pub day: NaiveDate,
    pub charge_start: i64,
    pub charge_end: i64,
    pub billing_start: i64,
    pub billing_end: i64,
    pub description: String,
    pub cost: Decimal,
    pub list_unit_price: Decimal,
    pub pricing_unit: &'static str,
    pub pricing_quantity: Decimal,
    pub consumed_quantity: Decimal,
    pub consumed_unit: &'static str,
    pub resource_id: String,
    pub resource_name: Option<String>,
    pub sku_id: String,
    pub sku_price_id: String,
    pub tags: String,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub category: Category,
    pub price_effective: String,
}

fn midnight(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or_default()
}

fn month_bounds(d: NaiveDate) -> (i64, i64) {
    let first = d.with_day(1).unwrap_or(d);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    (midnight(first), midnight(next))
}

fn row(s: &RatedSession, i: &LineItem, scenario: Option<&str>) -> FocusRow {
    let model = i.model.as_deref().map(str::to_string);
    let (sku, description, pricing_unit, pricing_quantity, consumed_quantity, consumed_unit) =
        match i.category {
            Category::Runtime => {
                // A millisecond is 1/3,600,000 h, which has no finite decimal: hours are
                // rounded half-even to the 12 places of the Parquet decimals (an error under
                // 2e-9 ms), so CSV and Parquet give the same quantity.
                let hours = (Decimal::from(i.quantity) / Decimal::from(MS_PER_HOUR))
                    .round_dp_with_strategy(
                        super::columns::PARQUET_SCALE,
                        rust_decimal::RoundingStrategy::MidpointNearestEven,
                    );
                (
                    "managed-agents:session-runtime".to_string(),
                    "Claude Managed Agents session runtime".to_string(),
                    "Hours",
                    hours,
                    hours,
                    "Hours",
                )
            }
            Category::WebSearch => {
                let n = Decimal::from(i.quantity);
                (
                    "web-search".to_string(),
                    "Web search".to_string(),
                    "1000 Searches",
                    n / Decimal::from(1000),
                    n,
                    "Searches",
                )
            }
            c => {
                let m = model.clone().unwrap_or_else(|| "unknown-model".into());
                let what = match c {
                    Category::Input => "input tokens",
                    Category::Output => "output tokens",
                    Category::CacheWrite5m => "5-minute cache write tokens",
                    Category::CacheWrite1h => "1-hour cache write tokens",
                    _ => "cache read tokens",
                };
                let n = Decimal::from(i.quantity);
                (
                    format!("{m}:{}", c.name()),
                    format!("{m} {what}"),
                    "1M Tokens",
                    n / Decimal::from(TOKENS_PER_PRICE_UNIT),
                    n,
                    "Tokens",
                )
            }
        };
    let effective = format_ms(i.price_effective);
    let (billing_start, billing_end) = month_bounds(i.day);
    let mut tags = serde_json::Map::new();
    if let Some(a) = &i.agent {
        tags.insert("agent".into(), a.as_ref().into());
    }
    if let Some(m) = &model {
        tags.insert("model".into(), m.clone().into());
    }
    if let Some(sc) = scenario {
        tags.insert("scenario".into(), sc.into());
    }
    FocusRow {
        day: i.day,
        charge_start: midnight(i.day),
        charge_end: midnight(i.day.succ_opt().unwrap_or(i.day)),
        billing_start,
        billing_end,
        description,
        cost: i.amount,
        list_unit_price: i.rate,
        pricing_unit,
        pricing_quantity,
        consumed_quantity,
        consumed_unit,
        resource_id: s.usage.session_id.to_string(),
        resource_name: s.usage.title.as_deref().map(str::to_string),
        sku_price_id: format!("{sku}@{}", &effective[..10]),
        sku_id: sku,
        tags: serde_json::Value::Object(tags).to_string(),
        agent: i.agent.as_deref().map(str::to_string),
        model,
        category: i.category,
        price_effective: effective,
    }
}

/// Rows of every line item (items must be rated in UTC: FOCUS periods are UTC days).
pub fn rows(sessions: &[RatedSession], scenario: Option<&str>) -> Vec<FocusRow> {
    let mut out: Vec<FocusRow> = sessions
        .iter()
        .flat_map(|s| s.items.iter().map(move |i| row(s, i, scenario)))
        .collect();
    out.sort_by(|a, b| {
        (a.day, &a.resource_id, &a.sku_price_id).cmp(&(b.day, &b.resource_id, &b.sku_price_id))
    });
    out
}

pub struct Account<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

fn values<'r>(
    r: &'r FocusRow,
    table: &'r PriceTable,
    account: &'r Account,
) -> [Option<String>; 39] {
    let s = |x: &str| Some(x.to_string());
    let money = Some(exact(r.cost));
    [
        s(account.id),
        s(account.name),
        s("USD"),
        Some(format_ms(r.billing_start)),
        Some(format_ms(r.billing_end)),
        Some(format_ms(r.charge_start)),
        Some(format_ms(r.charge_end)),
        s("Usage"),
        None,
        Some(r.description.clone()),
        s("Usage-Based"),
        money.clone(),
        money.clone(),
        money.clone(),
        money,
        Some(exact(r.list_unit_price)),
        Some(exact(r.list_unit_price)),
        s("Standard"),
        s(r.pricing_unit),
        Some(exact(r.pricing_quantity)),
        Some(exact(r.consumed_quantity)),
        s(r.consumed_unit),
        s("AI and Machine Learning"),
        s("Generative AI"),
        s("Claude Managed Agents"),
        s("Anthropic"),
        s("Anthropic"),
        s("Anthropic"),
        Some(r.resource_id.clone()),
        r.resource_name.clone(),
        s("Managed Agents Session"),
        Some(r.sku_id.clone()),
        Some(r.sku_price_id.clone()),
        Some(r.tags.clone()),
        Some(table.version.clone()),
        Some(r.price_effective.clone()),
        r.agent.clone(),
        r.model.clone(),
        s(r.category.name()),
    ]
}

pub fn to_csv(rows: &[FocusRow], table: &PriceTable, account: &Account) -> Result<String> {
    let err = |e: csv::Error| Error::new(format!("writing FOCUS CSV: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS).map_err(err)?;
    for r in rows {
        w.write_record(
            values(r, table, account)
                .iter()
                .map(|v| v.as_deref().unwrap_or("")),
        )
        .map_err(err)?;
    }
    String::from_utf8(
        w.into_inner()
            .map_err(|e| Error::new(format!("writing FOCUS CSV: {e}")))?,
    )
    .map_err(|e| Error::new(e.to_string()))
}

const TIME_COLUMNS: [&str; 4] = [
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
];

fn polars_err(e: PolarsError) -> Error {
    Error::new(format!("writing Parquet: {e}"))
}

const DECIMAL_COLUMNS: [&str; 8] = [
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "ListUnitPrice",
    "ContractedUnitPrice",
    "PricingQuantity",
    "ConsumedQuantity",
];

/// The value of one of the [`DECIMAL_COLUMNS`] (amounts and FOCUS quantities).
fn decimal_value(r: &FocusRow, name: &str) -> Option<Decimal> {
    match name {
        "BilledCost" | "EffectiveCost" | "ListCost" | "ContractedCost" => Some(r.cost),
        "ListUnitPrice" | "ContractedUnitPrice" => Some(r.list_unit_price),
        "PricingQuantity" => Some(r.pricing_quantity),
        "ConsumedQuantity" => Some(r.consumed_quantity),
        _ => None,
    }
}

/// The rows as a typed frame: decimals as Decimal(38, 12), periods as UTC timestamps, text as
/// strings; the types do not depend on the rows, so every partition has the same schema.
pub fn frame(rows: &[FocusRow], table: &PriceTable, account: &Account) -> Result<DataFrame> {
    let cells: Vec<[Option<String>; 39]> = rows.iter().map(|r| values(r, table, account)).collect();
    let mut cols = Vec::with_capacity(COLUMNS.len());
    for (k, name) in COLUMNS.iter().enumerate() {
        let col = if DECIMAL_COLUMNS.contains(name) {
            super::columns::parquet_decimal(name, rows.iter().map(|r| decimal_value(r, name)))?
        } else if TIME_COLUMNS.contains(name) {
            super::columns::utc_millis(
                name,
                rows.iter().map(|r| match *name {
                    "BillingPeriodStart" => r.billing_start,
                    "BillingPeriodEnd" => r.billing_end,
                    "ChargePeriodStart" => r.charge_start,
                    _ => r.charge_end,
                }),
            )
        } else {
            let texts: Vec<Option<&str>> = cells.iter().map(|c| c[k].as_deref()).collect();
            Column::new((*name).into(), texts)
        };
        cols.push(col);
    }
    DataFrame::new_infer_height(cols).map_err(polars_err)
}
