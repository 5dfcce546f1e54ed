//! FOCUS 1.3 rows (the FinOps Open Cost and Usage Specification): one row per session x SKU x
//! day, as CSV or Parquet, for finance tools and query engines. Under a contract, each month's
//! commitment shortfall and credits used are rows of their own, so `BilledCost` still sums to
//! what is billed.

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;
use rust_decimal::Decimal;

use crate::category::Sku;
use crate::contract::{Billing, Contract, ItemTerms};
use crate::error::{Error, Result};
use crate::money::exact;
use crate::pricing::PriceTable;
use crate::rate::{LineItem, RatedSession};
use crate::time::format_ms;

/// Column order of the export (FOCUS names, then `x_` extensions).
pub const COLUMNS: [&str; N] = [
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
    "ServiceProviderName",
    "HostProviderName",
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
    "x_ContractVersion",
    "x_ContractRow",
];
const N: usize = 43;

/// FOCUS 1.3 has no category of its own for a minimum-spend shortfall (ChargeCategory:
/// Usage, Purchase, Tax, Credit, Adjustment). Its worked example of a spend agreement billed
/// in arrears with a monthly minimum (appendix "SaaS Spend Agreements", scenario A2,
/// `specification/data/saas_examples/spend_agreements/saas_spend_agreements_a2.csv` in
/// FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec) bills the "Monthly unused fee" as
/// ChargeCategory `Usage` with ChargeFrequency `One-Time`, so that is what a shortfall row is.
pub const SHORTFALL_CHARGE_CATEGORY: &str = "Usage";
/// Credits are FOCUS's own category ("charges granted by the provider ... e.g. promotional
/// credits"), negative amounts.
pub const CREDIT_CHARGE_CATEGORY: &str = "Credit";

/// One FOCUS row. Money and quantities are exact decimals.
#[derive(Clone, Debug, PartialEq)]
pub struct FocusRow {
    /// The UTC day of the charge (a contract's rows: the last day of their month).
    pub day: NaiveDate,
    pub charge_start: i64,
    pub charge_end: i64,
    pub billing_start: i64,
    pub billing_end: i64,
    pub charge_category: &'static str,
    pub charge_frequency: &'static str,
    pub description: String,
    pub list_cost: Decimal,
    pub contracted_cost: Decimal,
    /// Billed and effective: after commitments and credits.
    pub billed_cost: Decimal,
    pub list_unit_price: Option<Decimal>,
    pub contracted_unit_price: Option<Decimal>,
    pub pricing_unit: Option<&'static str>,
    pub pricing_quantity: Option<Decimal>,
    pub consumed_quantity: Option<Decimal>,
    pub consumed_unit: Option<&'static str>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub sku_id: String,
    pub sku_price_id: String,
    pub tags: String,
    pub agent: Option<String>,
    pub model: Option<String>,
    /// `x_Category`: the charge category, `commitment_shortfall` or `credit`.
    pub category: &'static str,
    pub price_effective: Option<String>,
    pub contract_version: Option<String>,
    /// The contract row that changed the amount (`discount[0]@2026-01-01`).
    pub contract_row: Option<String>,
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

/// A line item under a contract, as its FOCUS row has it (and `line_items.parquet` under a
/// contract): what the user pays for it (its ContractedCost, and its BilledCost and
/// EffectiveCost too: commitments and credits are rows of their own), the contracted unit
/// price, and the discount row applied.
pub struct ItemCost {
    pub contracted: Decimal,
    pub unit_price: Decimal,
    pub row: Option<String>,
}

pub fn item_cost(i: &LineItem, c: &Contract, t: &ItemTerms) -> ItemCost {
    match t.discount {
        Some(d) => ItemCost {
            contracted: t.amount,
            unit_price: i.rate * (Decimal::ONE - c.discounts[d].fraction),
            row: Some(c.discount_ref(d)),
        },
        None => ItemCost {
            contracted: t.amount,
            unit_price: i.rate,
            row: None,
        },
    }
}

fn row(
    s: &RatedSession,
    i: &LineItem,
    terms: Option<(&Contract, &ItemTerms)>,
    scenario: Option<&str>,
) -> FocusRow {
    let model = i.model.as_deref().map(str::to_string);
    let row = i.category.row();
    let unit = row.unit;
    let n = Decimal::from(i.quantity);
    let per = Decimal::from(unit.per_rate());
    let (pricing_quantity, consumed_quantity) = if unit.focus_consumed_in_pricing_unit() {
        // A millisecond is 1/3,600,000 h, which has no finite decimal: hours are rounded
        // half-even to the 12 places of the Parquet decimals (an error under 2e-9 ms), so CSV
        // and Parquet give the same quantity.
        let q = (n / per).round_dp_with_strategy(
            super::columns::PARQUET_SCALE,
            rust_decimal::RoundingStrategy::MidpointNearestEven,
        );
        (q, q)
    } else {
        (n / per, n)
    };
    let (sku, description) = match row.sku {
        Sku::Fixed { id, description } => (id.to_string(), description.to_string()),
        Sku::PerModel { what } => {
            let m = model.clone().unwrap_or_else(|| "unknown-model".into());
            (format!("{m}:{}", row.key), format!("{m} {what}"))
        }
    };
    let (pricing_unit, consumed_unit) = (unit.focus_pricing_unit(), unit.focus_consumed_unit());
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
    let ItemCost {
        contracted,
        unit_price,
        row: contract_row,
    } = match terms {
        Some((c, t)) => item_cost(i, c, t),
        None => ItemCost {
            contracted: i.amount,
            unit_price: i.rate,
            row: None,
        },
    };
    FocusRow {
        day: i.day,
        charge_start: midnight(i.day),
        charge_end: midnight(i.day.succ_opt().unwrap_or(i.day)),
        billing_start,
        billing_end,
        charge_category: "Usage",
        charge_frequency: "Usage-Based",
        description,
        list_cost: i.amount,
        contracted_cost: contracted,
        billed_cost: contracted,
        list_unit_price: Some(i.rate),
        contracted_unit_price: Some(unit_price),
        pricing_unit: Some(pricing_unit),
        pricing_quantity: Some(pricing_quantity),
        consumed_quantity: Some(consumed_quantity),
        consumed_unit: Some(consumed_unit),
        resource_id: Some(s.usage.session_id.to_string()),
        resource_name: s.usage.title.as_deref().map(str::to_string),
        sku_price_id: format!("{sku}@{}", &effective[..10]),
        sku_id: sku,
        tags: serde_json::Value::Object(tags).to_string(),
        agent: i.agent.as_deref().map(str::to_string),
        model,
        category: i.category.key(),
        price_effective: Some(effective),
        contract_version: terms.map(|(c, _)| c.version.clone()),
        contract_row,
    }
}

/// A month's row of a contract: a shortfall (positive) or a credit used (negative), for the
/// whole month, dated on its last day.
fn contract_row(
    c: &Contract,
    first: NaiveDate,
    (category, charge_category): (&'static str, &'static str),
    row: String,
    description: String,
    amount: Decimal,
) -> FocusRow {
    let (billing_start, billing_end) = month_bounds(first);
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(first);
    // A shortfall is owed at contracted prices; a credit has no list or contracted price.
    let owed = if amount > Decimal::ZERO {
        amount
    } else {
        Decimal::ZERO
    };
    FocusRow {
        day: last,
        charge_start: billing_start,
        charge_end: billing_end,
        billing_start,
        billing_end,
        charge_category,
        charge_frequency: "One-Time",
        description,
        list_cost: owed,
        contracted_cost: owed,
        billed_cost: amount,
        list_unit_price: None,
        contracted_unit_price: None,
        pricing_unit: None,
        pricing_quantity: None,
        consumed_quantity: None,
        consumed_unit: None,
        resource_id: None,
        resource_name: None,
        sku_id: format!("contract:{category}"),
        sku_price_id: format!("{}:{row}", c.version),
        tags: "{}".into(),
        agent: None,
        model: None,
        category,
        price_effective: None,
        contract_version: Some(c.version.clone()),
        contract_row: Some(row),
    }
}

/// Each month's commitment shortfall and credits used, as their own rows.
pub fn contract_rows(b: &Billing) -> Vec<FocusRow> {
    let c = b.contract;
    let mut out = Vec::new();
    for m in &b.months {
        if let (Some((i, min)), true) = (m.commitment, m.shortfall > Decimal::ZERO) {
            out.push(contract_row(
                c,
                m.first,
                ("commitment_shortfall", SHORTFALL_CHARGE_CATEGORY),
                c.commitment_ref(i),
                format!(
                    "Commitment shortfall: {} contracted against a monthly minimum of {}",
                    exact(m.contracted),
                    exact(min)
                ),
                m.shortfall,
            ));
        }
        for &(i, used) in &m.credits {
            out.push(contract_row(
                c,
                m.first,
                ("credit", CREDIT_CHARGE_CATEGORY),
                c.credit_ref(i),
                format!(
                    "Credit of {} (expires {}) applied",
                    exact(c.credits[i].amount),
                    c.credits[i].expires
                ),
                -used,
            ));
        }
    }
    out
}

/// Rows of every line item (items must be rated in UTC: FOCUS periods are UTC days), and
/// under a contract its shortfalls and credits.
pub fn rows(
    sessions: &[RatedSession],
    billing: Option<&Billing>,
    scenario: Option<&str>,
) -> Vec<FocusRow> {
    let mut out: Vec<FocusRow> = (sessions.iter().enumerate())
        .flat_map(|(k, s)| {
            s.items.iter().enumerate().map(move |(j, i)| {
                let terms = billing.map(|b| (b.contract, &b.sessions[k].items[j]));
                row(s, i, terms, scenario)
            })
        })
        .collect();
    out.extend(billing.map(contract_rows).unwrap_or_default());
    out.sort_by(|a, b| {
        (a.day, &a.resource_id, &a.sku_price_id).cmp(&(b.day, &b.resource_id, &b.sku_price_id))
    });
    out
}

pub struct Account<'a> {
    pub id: &'a str,
    pub name: &'a str,
}

fn values<'r>(r: &'r FocusRow, table: &'r PriceTable, account: &'r Account) -> [Option<String>; N] {
    let s = |x: &str| Some(x.to_string());
    let usage = r.charge_category == "Usage";
    [
        s(account.id),
        s(account.name),
        s("USD"),
        Some(format_ms(r.billing_start)),
        Some(format_ms(r.billing_end)),
        Some(format_ms(r.charge_start)),
        Some(format_ms(r.charge_end)),
        s(r.charge_category),
        None,
        Some(r.description.clone()),
        s(r.charge_frequency),
        Some(exact(r.billed_cost)),
        Some(exact(r.billed_cost)),
        Some(exact(r.list_cost)),
        Some(exact(r.contracted_cost)),
        r.list_unit_price.map(exact),
        r.contracted_unit_price.map(exact),
        usage.then(|| "Standard".to_string()),
        r.pricing_unit.map(str::to_string),
        r.pricing_quantity.map(exact),
        r.consumed_quantity.map(exact),
        r.consumed_unit.map(str::to_string),
        s("AI and Machine Learning"),
        s("Generative AI"),
        s("Claude Managed Agents"),
        s("Anthropic"),
        // FOCUS 1.3 ServiceProviderName: the entity that made the services available.
        s("Anthropic"),
        // HostProviderName: where they run, which Anthropic does not let the customer choose
        // or see, so (as FOCUS says then) the service provider; null for rows that are not
        // about a resource (credits, shortfalls).
        r.resource_id.as_ref().map(|_| "Anthropic".to_string()),
        s("Anthropic"),
        s("Anthropic"),
        r.resource_id.clone(),
        r.resource_name.clone(),
        r.resource_id
            .as_ref()
            .map(|_| "Managed Agents Session".to_string()),
        Some(r.sku_id.clone()),
        Some(r.sku_price_id.clone()),
        Some(r.tags.clone()),
        Some(table.version.clone()),
        r.price_effective.clone(),
        r.agent.clone(),
        r.model.clone(),
        s(r.category),
        r.contract_version.clone(),
        r.contract_row.clone(),
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
        "BilledCost" | "EffectiveCost" => Some(r.billed_cost),
        "ListCost" => Some(r.list_cost),
        "ContractedCost" => Some(r.contracted_cost),
        "ListUnitPrice" => r.list_unit_price,
        "ContractedUnitPrice" => r.contracted_unit_price,
        "PricingQuantity" => r.pricing_quantity,
        "ConsumedQuantity" => r.consumed_quantity,
        _ => None,
    }
}

/// The rows as a typed frame: decimals as Decimal(38, 12), periods as UTC timestamps, text as
/// strings; the types do not depend on the rows, so every partition has the same schema.
pub fn frame(rows: &[FocusRow], table: &PriceTable, account: &Account) -> Result<DataFrame> {
    let cells: Vec<[Option<String>; N]> = rows.iter().map(|r| values(r, table, account)).collect();
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
