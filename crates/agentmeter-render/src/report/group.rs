//! Aggregating rated line items by day, week or month (in a time zone), model, agent or
//! project. The amounts go
//! through polars as Decimal(38, s) columns (i128 mantissas at the largest scale any item
//! has), so the sums stay exact.

use std::collections::BTreeMap;

use chrono::Datelike;
use polars::prelude::*;
use rust_decimal::Decimal;

use crate::category::PerCategory;
use crate::contract::Billing;
use crate::error::{Error, Result};
use crate::rate::{ByCategory, Category, LineItem, RatedSession};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum GroupBy {
    #[default]
    Session,
    Day,
    /// ISO week (Monday to Sunday, in --tz), shown as `2026-W48`.
    Week,
    /// Calendar month (in --tz), shown as `2026-11`.
    Month,
    Model,
    Agent,
    /// The session's `project` (Claude Code: the project folder).
    Project,
}

impl GroupBy {
    /// Every key, in the order `--help` lists them.
    pub const ALL: [GroupBy; 7] = [
        GroupBy::Session,
        GroupBy::Day,
        GroupBy::Week,
        GroupBy::Month,
        GroupBy::Model,
        GroupBy::Agent,
        GroupBy::Project,
    ];

    pub fn name(self) -> &'static str {
        match self {
            GroupBy::Session => "session",
            GroupBy::Day => "day",
            GroupBy::Week => "week",
            GroupBy::Month => "month",
            GroupBy::Model => "model",
            GroupBy::Agent => "agent",
            GroupBy::Project => "project",
        }
    }
}

/// The names of several keys, as `--group-by` takes them: `day,model`.
pub fn names(by: &[GroupBy]) -> String {
    by.iter().map(|b| b.name()).collect::<Vec<_>>().join(",")
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupRow {
    /// One value per grouping key, in the order asked for.
    pub keys: Vec<String>,
    /// The values joined by a space, for one-column displays.
    pub key: String,
    /// Sessions with at least one item in the group.
    pub sessions: u64,
    /// Of those, sessions at or over 80% of their budget (or stopped at it), and those
    /// that reached it (`export::BudgetStatus`).
    pub budgets_over_80: u64,
    pub budgets_reached: u64,
    pub sums: ByCategory,
    /// Under a contract (`group_under`): what the user pays for the row's line items, per
    /// category (their list amounts less the discounts, as `contract::apply` gives them).
    pub contracted: Option<PerCategory<Decimal>>,
}

/// The key an item falls under; items without a model or agent go under "(none)".
const NONE_KEY: &str = "(none)";

fn polars_err(e: PolarsError) -> Error {
    Error::new(format!("aggregation failed: {e}"))
}

/// Separates the values of several keys inside the one key column polars groups by.
const SEP: char = '\u{1f}';

/// The value of one grouping key for a line item of session `s`, as a group row shows it.
pub fn key_of(by: GroupBy, s: &RatedSession, item: &LineItem) -> String {
    match by {
        GroupBy::Session => s.usage.session_id.to_string(),
        GroupBy::Day => item.day.to_string(),
        GroupBy::Week => {
            let w = item.day.iso_week();
            format!("{}-W{:02}", w.year(), w.week())
        }
        GroupBy::Month => item.day.format("%Y-%m").to_string(),
        GroupBy::Model => item.model.as_deref().unwrap_or(NONE_KEY).to_string(),
        GroupBy::Agent => item.agent.as_deref().unwrap_or(NONE_KEY).to_string(),
        GroupBy::Project => s
            .usage
            .metadata
            .get("project")
            .map_or(NONE_KEY, String::as_str)
            .to_string(),
    }
}

/// The values of several keys joined into the one key polars groups by.
fn joined_key(s: &RatedSession, item: &LineItem, by: &[GroupBy]) -> String {
    let key: Vec<String> = by.iter().map(|&b| key_of(b, s, item)).collect();
    key.join(&SEP.to_string())
}

/// Group by one or more keys and, under a contract, give each row what the user pays for its
/// line items (`billing` must be the sessions' own, from `contract::apply`).
pub fn group_under(
    sessions: &[RatedSession],
    by: &[GroupBy],
    billing: Option<&Billing>,
) -> Result<Vec<GroupRow>> {
    let mut rows = group(sessions, by)?;
    let Some(b) = billing else {
        return Ok(rows);
    };
    let mut paid: BTreeMap<String, PerCategory<Decimal>> = BTreeMap::new();
    for (s, terms) in sessions.iter().zip(&b.sessions) {
        for (item, t) in s.items.iter().zip(&terms.items) {
            paid.entry(joined_key(s, item, by)).or_default()[item.category] += t.amount;
        }
    }
    let sep = SEP.to_string();
    for r in &mut rows {
        r.contracted = Some(paid.remove(&r.keys.join(&sep)).unwrap_or_default());
    }
    Ok(rows)
}

/// Group by one or more keys. Day, week and month use each item's `day`, which the rater
/// computed in its zone (`--tz`).
pub fn group(sessions: &[RatedSession], by: &[GroupBy]) -> Result<Vec<GroupRow>> {
    let n: usize = sessions.iter().map(|s| s.items.len()).sum();
    let scale = sessions
        .iter()
        .flat_map(|s| &s.items)
        .map(|i| i.amount.scale())
        .max()
        .unwrap_or(0);
    let (mut keys, mut sess, mut cats, mut qty, mut amt) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    // Per key: the last flagged session counted (its items come together), and the counts.
    let mut budgets: BTreeMap<String, (usize, u64, u64)> = BTreeMap::new();
    for (si, s) in sessions.iter().enumerate() {
        let flag = crate::rate::BudgetStatus::of(s)
            .filter(crate::rate::BudgetStatus::flagged)
            .map(|b| b.reached);
        for item in &s.items {
            let key = joined_key(s, item, by);
            if let Some(reached) = flag {
                let b = budgets.entry(key.clone()).or_insert((usize::MAX, 0, 0));
                if b.0 != si {
                    *b = (si, b.1 + 1, b.2 + u64::from(reached));
                }
            }
            keys.push(key);
            sess.push(si as u32);
            cats.push(item.category as u32);
            qty.push(item.quantity);
            amt.push(Some(item.amount));
        }
    }
    let amount = crate::export::columns::decimal("amount", amt)?;
    let df = DataFrame::new_infer_height(vec![
        Column::new("key".into(), keys),
        Column::new("session".into(), sess),
        Column::new("category".into(), cats),
        Column::new("quantity".into(), qty),
        amount,
    ])
    .map_err(polars_err)?;

    let sums = df
        .clone()
        .lazy()
        .group_by([col("key"), col("category")])
        .agg([col("quantity").sum(), col("amount").sum()])
        .collect()
        .map_err(polars_err)?;
    let counts = df
        .lazy()
        .group_by([col("key")])
        .agg([col("session").n_unique().alias("sessions")])
        .collect()
        .map_err(polars_err)?;

    let mut rows: BTreeMap<String, GroupRow> = BTreeMap::new();
    let k = sums
        .column("key")
        .and_then(|c| c.str().cloned())
        .map_err(polars_err)?;
    let c = sums
        .column("category")
        .and_then(|c| c.u32().cloned())
        .map_err(polars_err)?;
    let q = sums
        .column("quantity")
        .and_then(|c| c.u64().cloned())
        .map_err(polars_err)?;
    let a = sums
        .column("amount")
        .and_then(|c| c.decimal().cloned())
        .map_err(polars_err)?;
    for i in 0..sums.height() {
        // The category column holds each item's category as its index in the table.
        let (Some(key), Some(&cat)) = (
            k.get(i),
            c.get(i).and_then(|c| Category::ALL.get(c as usize)),
        ) else {
            continue;
        };
        let quantity = q.get(i).unwrap_or(0);
        let amount = Decimal::from_i128_with_scale(a.physical().get(i).unwrap_or(0), scale);
        let row = rows.entry(key.to_string()).or_insert_with(|| {
            let keys: Vec<String> = key.split(SEP).map(String::from).collect();
            GroupRow {
                key: keys.join(" "),
                keys,
                ..Default::default()
            }
        });
        row.sums.add(cat, quantity, amount);
    }
    let ck = counts
        .column("key")
        .and_then(|c| c.str().cloned())
        .map_err(polars_err)?;
    let cs = counts
        .column("sessions")
        .and_then(|c| c.cast(&DataType::UInt64))
        .map_err(polars_err)?;
    let cs = cs.u64().map_err(polars_err)?;
    for i in 0..counts.height() {
        if let (Some(key), Some(n)) = (ck.get(i), cs.get(i)) {
            if let Some(row) = rows.get_mut(key) {
                row.sessions = n;
            }
        }
    }
    for (key, (_, over, reached)) in budgets {
        if let Some(row) = rows.get_mut(&key) {
            (row.budgets_over_80, row.budgets_reached) = (over, reached);
        }
    }
    Ok(rows.into_values().collect())
}
