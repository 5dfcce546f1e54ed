//! Reconcile: what we computed beside what the provider reported for each session
//! (`usage.active_seconds`, token totals, `server_tool_use.web_search_requests`,
//! `usage.list_cost`), and beside what was invoiced (Admin API `cost_report`), by day and model.

pub mod json;

use std::collections::BTreeMap;

use rust_decimal::prelude::*;
use serde::Deserialize;

use crate::category::{Category, CostColumn, PerCategory, PerCostColumn};
use crate::contract::Billing;
use crate::error::{Error, Result};
use crate::rate::{LineItem, RatedSession};

/// When a difference is worth a flag: over `usd` dollars or `fraction` of the reported cost.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    pub usd: Decimal,
    pub fraction: Decimal,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            usd: Decimal::new(1, 2),
            fraction: Decimal::new(5, 3),
        }
    }
}

/// One quantity, ours and theirs.
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    pub what: &'static str,
    pub computed: Decimal,
    pub reported: Option<Decimal>,
    /// What the difference costs at the session's own unit price (USD).
    pub cost_impact: Decimal,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SessionCheck {
    pub session_id: String,
    pub computed_cost: Decimal,
    pub reported_cost: Option<Decimal>,
    pub quantities: Vec<Pair>,
    pub flagged: bool,
    /// The quantity whose difference explains most of the cost difference.
    pub explained_by: Option<&'static str>,
}

impl SessionCheck {
    pub fn difference(&self) -> Option<Decimal> {
        self.reported_cost.map(|r| self.computed_cost - r)
    }
}

/// The average unit price a session paid per category (USD per unit of quantity).
fn unit_prices(s: &RatedSession) -> PerCategory<Decimal> {
    let mut q = PerCategory::<u64>::default();
    let mut a = PerCategory::<Decimal>::default();
    for i in &s.items {
        q[i.category] += i.quantity;
        a[i.category] += i.amount;
    }
    PerCategory::from_fn(|k| {
        if q[k] == 0 {
            Decimal::ZERO
        } else {
            a[k] / Decimal::from(q[k])
        }
    })
}

pub fn check_session(s: &RatedSession, tol: Tolerance) -> Option<SessionCheck> {
    let p = s.usage.provider_reported.as_ref()?;
    let t = s.quantities.tokens;
    let price = unit_prices(s);
    let d = |x: u64| Decimal::from(x);
    let mut q = Vec::new();
    let mut push =
        |what: &'static str, computed: Decimal, reported: Option<Decimal>, unit: Decimal| {
            let cost_impact = reported.map_or(Decimal::ZERO, |r| (computed - r) * unit);
            q.push(Pair {
                what,
                computed,
                reported,
                cost_impact,
            });
        };
    // Runtime in seconds; its unit price per second is 1000 x the per-ms price.
    push(
        "runtime_seconds",
        Decimal::from(s.quantities.active_ms) / Decimal::from(1000),
        p.active_seconds,
        price[Category::Runtime] * Decimal::from(1000),
    );
    let tokens_known = p.tokens != Default::default();
    let rep = |v: u64| tokens_known.then_some(d(v));
    let pt = &p.tokens;
    for c in Category::tokens() {
        // Kinds that share a cost column (cache writes by TTL) only when the split is known.
        let shared = c.column().categories().count() > 1;
        if !shared || p.cache_split_known {
            push(c.row().quantity_key, d(t.get(c)), rep(pt.get(c)), price[c]);
        }
    }
    push(
        Category::WebSearch.row().quantity_key,
        d(s.quantities.web_searches),
        p.web_search_requests.map(d),
        price[Category::WebSearch],
    );
    let computed_cost = s.cost.total();
    let flagged = match p.list_cost_usd {
        Some(r) => (computed_cost - r).abs() > tol.usd.max(r.abs() * tol.fraction),
        None => false,
    };
    let explained_by = if flagged {
        q.iter()
            .filter(|x| !x.cost_impact.is_zero())
            .max_by_key(|x| x.cost_impact.abs())
            .map(|x| x.what)
    } else {
        None
    };
    Some(SessionCheck {
        session_id: s.usage.session_id.to_string(),
        computed_cost,
        reported_cost: p.list_cost_usd,
        quantities: q,
        flagged,
        explained_by,
    })
}

/// An Admin API report response: daily buckets of results (cost or usage).
#[derive(Deserialize)]
struct AdminReport<R> {
    data: Vec<AdminBucket<R>>,
}

#[derive(Deserialize)]
struct AdminBucket<R> {
    starting_at: String,
    results: Vec<R>,
}

/// Every result of the report files, with the UTC day of its bucket.
fn read_admin<R: serde::de::DeserializeOwned>(
    paths: &[std::path::PathBuf],
    what: &str,
) -> Result<Vec<(String, R)>> {
    let mut out = Vec::new();
    for p in paths {
        let text = crate::files::read_small(std::path::Path::new(p))?;
        let report: AdminReport<R> = serde_json::from_str(&text)
            .map_err(|e| Error::new(format!("{}: not a {what} response: {e}", p.display())))?;
        for b in report.data {
            let day = b
                .starting_at
                .get(..10)
                .unwrap_or(&b.starting_at)
                .to_string();
            out.extend(b.results.into_iter().map(|r| (day.clone(), r)));
        }
    }
    Ok(out)
}

#[derive(Deserialize)]
struct CostResult {
    amount: serde_json::Value,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    cost_type: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    model: Option<String>,
}

pub const RUNTIME_BUCKET: &str = bucket(Category::Runtime);
pub const SEARCH_BUCKET: &str = bucket(Category::WebSearch);

/// The invoice bucket of a charge that is not billed per model.
const fn bucket(c: Category) -> &'static str {
    match c.row().invoice_bucket {
        Some(b) => b,
        None => OTHER_BUCKET,
    }
}
pub const OTHER_BUCKET: &str = "(other)";

/// Where an invoiced row goes: a model's tokens, web search, runtime, or other (flagged).
fn bucket_of(r: &CostResult) -> String {
    let desc = r.description.as_deref().unwrap_or("").to_ascii_lowercase();
    match r.cost_type.as_deref() {
        Some("web_search") => SEARCH_BUCKET.into(),
        Some("tokens") => r.model.clone().unwrap_or_else(|| OTHER_BUCKET.into()),
        _ if desc.contains("runtime")
            || desc.contains("session")
            || desc.contains("managed agent") =>
        {
            RUNTIME_BUCKET.into()
        }
        Some("code_execution") => RUNTIME_BUCKET.into(),
        _ => OTHER_BUCKET.into(),
    }
}

/// Invoiced USD by (day, bucket) from cost_report files.
pub fn read_cost_reports(
    paths: &[std::path::PathBuf],
) -> Result<BTreeMap<(String, String), Decimal>> {
    let mut out: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for (day, r) in read_admin::<CostResult>(paths, "cost_report")? {
        if r.currency.as_deref().is_some_and(|c| c != "USD") {
            return Err(Error::new(format!(
                "cost report amounts in {} (only USD is supported)",
                r.currency.unwrap_or_default()
            )));
        }
        let cents = match &r.amount {
            serde_json::Value::String(s) => s.parse::<Decimal>().ok(),
            serde_json::Value::Number(n) => n.to_string().parse::<Decimal>().ok(),
            _ => None,
        }
        .ok_or_else(|| {
            Error::new(format!(
                "cost report of {day}: an amount is not a number of cents"
            ))
        })?;
        *out.entry((day, bucket_of(&r))).or_default() += cents / Decimal::ONE_HUNDRED;
    }
    Ok(out)
}

/// Our computed USD by (UTC day, bucket), in the buckets of the invoice.
pub fn computed_by_day(sessions: &[RatedSession]) -> BTreeMap<(String, String), Decimal> {
    by_day(sessions, |_, _, i| i.amount)
}

/// What the user pays under a contract (its discounts, per line item) by (UTC day, bucket):
/// what an invoice charges for usage. `billing` is the contract applied to `sessions`.
pub fn contracted_by_day(
    sessions: &[RatedSession],
    billing: &Billing,
) -> BTreeMap<(String, String), Decimal> {
    by_day(sessions, |k, j, _| billing.sessions[k].items[j].amount)
}

/// An amount of each line item (session `k`, item `j`) summed by (UTC day, bucket).
fn by_day(
    sessions: &[RatedSession],
    amount: impl Fn(usize, usize, &LineItem) -> Decimal,
) -> BTreeMap<(String, String), Decimal> {
    let mut out: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for (k, s) in sessions.iter().enumerate() {
        for (j, i) in s.items.iter().enumerate() {
            let bucket = match i.category.row().invoice_bucket {
                Some(b) => b.to_string(),
                None => i.model.as_deref().unwrap_or(OTHER_BUCKET).to_string(),
            };
            *out.entry((i.day.to_string(), bucket)).or_default() += amount(k, j, i);
        }
    }
    out
}

/// Token and search counts by cost column (cache writes of both TTLs together): the columns
/// an Admin usage report counts (`usage_report` in the table; runtime is not one).
pub type Counts = PerCostColumn<u64>;

#[derive(Deserialize, Default)]
struct CacheCreation {
    #[serde(default)]
    ephemeral_5m_input_tokens: u64,
    #[serde(default)]
    ephemeral_1h_input_tokens: u64,
}

#[derive(Deserialize, Default)]
struct ServerToolUse {
    #[serde(default)]
    web_search_requests: u64,
}

#[derive(Deserialize)]
struct UsageResult {
    #[serde(default)]
    uncached_input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: u64,
    #[serde(default)]
    cache_creation: CacheCreation,
    #[serde(default)]
    server_tool_use: ServerToolUse,
    #[serde(default)]
    model: Option<String>,
}

/// Reported counts by (day, model) from Admin API `usage_report/messages` responses.
pub fn read_usage_reports(
    paths: &[std::path::PathBuf],
) -> Result<BTreeMap<(String, String), Counts>> {
    let mut out: BTreeMap<(String, String), Counts> = BTreeMap::new();
    for (day, r) in read_admin::<UsageResult>(paths, "usage_report")? {
        let c = out
            .entry((day, r.model.unwrap_or_else(|| "(all models)".into())))
            .or_default();
        c[CostColumn::Input] += r.uncached_input_tokens;
        c[CostColumn::Output] += r.output_tokens;
        c[CostColumn::CacheWrite] +=
            r.cache_creation.ephemeral_5m_input_tokens + r.cache_creation.ephemeral_1h_input_tokens;
        c[CostColumn::CacheRead] += r.cache_read_input_tokens;
        c[CostColumn::WebSearch] += r.server_tool_use.web_search_requests;
    }
    Ok(out)
}

/// Our counts by (UTC day, model), from the line items.
pub fn computed_counts_by_day(sessions: &[RatedSession]) -> BTreeMap<(String, String), Counts> {
    let mut out: BTreeMap<(String, String), Counts> = BTreeMap::new();
    for s in sessions {
        for i in &s.items {
            let slot = i.category.column();
            if slot.row().usage_report.is_none() {
                continue;
            }
            out.entry((
                i.day.to_string(),
                i.model.as_deref().unwrap_or("(none)").to_string(),
            ))
            .or_default()[slot] += i.quantity;
        }
    }
    out
}
