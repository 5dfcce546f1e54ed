//! A report directory: `index.html` (self-contained: inline SVG charts and tables),
//! `report.md`, the data as CSV and JSON, and every chart as PNG and SVG.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rust_decimal::prelude::*;

use super::chart::{self, Chart};
use super::group::group_under;
use super::{GroupBy, GroupRow, MeterReport};
use crate::category::{CostColumn, PerCostColumn};
use crate::error::{Error, Result};
use crate::export::{self, projection, Grid};
use crate::money::{count, exact, usd};
use crate::project::Projection;
use crate::rate::Cost;

/// A part of a report: a heading, tables and notes.
pub struct Section {
    pub title: String,
    pub tables: Vec<Table>,
    pub notes: Vec<String>,
}

/// A table with an optional heading, and notes shown right under it.
pub struct Table {
    pub title: Option<String>,
    pub grid: Grid,
    pub notes: Vec<String>,
}

impl From<(Option<String>, Grid)> for Table {
    fn from((title, grid): (Option<String>, Grid)) -> Self {
        Table {
            title,
            grid,
            notes: Vec::new(),
        }
    }
}

/// A chart and its caption: what the chart shows and how to read it, beyond its title (which
/// the chart draws itself). An empty caption is left out.
pub struct Figure {
    /// The file stem of its PNG and SVG.
    pub name: String,
    pub chart: Chart,
    pub caption: String,
}

impl Figure {
    pub fn new(name: impl Into<String>, chart: Chart, caption: impl Into<String>) -> Self {
        Figure {
            name: name.into(),
            chart,
            caption: caption.into(),
        }
    }
}

/// What goes into a report, whatever produced it. The page leads with the answer: the
/// summary, then the tables, the charts, and last the row-level details.
#[derive(Default)]
pub struct Report {
    pub name: String,
    /// Input files and scenarios, as given.
    pub inputs: Vec<String>,
    pub pricing_versions: Vec<String>,
    /// Totals, percentiles and the largest shares.
    pub summary: Vec<Section>,
    /// Tables by month, model, agent and category.
    pub sections: Vec<Section>,
    pub charts: Vec<Figure>,
    /// Per-session rows, variants' full tables, notes on method.
    pub details: Vec<Section>,
    /// (file name, contents) of the data behind it.
    pub data: Vec<(String, String)>,
}

/// Sessions listed one by one on the page; all are in `meter.csv` and `meter.json`.
pub const DETAIL_SESSIONS: usize = 50;
/// Rows of a "top" table in the summary; the rest are summed in one row.
const TOP: usize = 5;

fn section(title: impl Into<String>, tables: Vec<(Option<String>, Grid)>) -> Section {
    Section {
        title: title.into(),
        tables: tables.into_iter().map(Table::from).collect(),
        notes: Vec::new(),
    }
}

fn share(part: Decimal, total: Decimal) -> String {
    if total.is_zero() {
        "-".into()
    } else {
        format!("{:.1}%", (part * Decimal::ONE_HUNDRED / total).round_dp(1))
    }
}

/// The largest `items` with their shares of `total`, the rest summed in one row.
fn top_shares(what: &str, mut items: Vec<(String, Decimal)>, total: Decimal) -> Grid {
    items.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    // One row more rather than an "others" row standing for a single item.
    let keep = if items.len() <= TOP + 1 {
        items.len()
    } else {
        TOP
    };
    let rest: Decimal = items.iter().skip(keep).map(|i| i.1).sum();
    let others = items.len() - keep;
    let mut rows: Vec<Vec<String>> = items
        .iter()
        .take(keep)
        .map(|(k, v)| vec![k.clone(), usd(*v), share(*v, total)])
        .collect();
    if others > 0 {
        rows.push(vec![
            format!("{others} others"),
            usd(rest),
            share(rest, total),
        ]);
    }
    Grid {
        header: vec![what.into(), "Cost".into(), "Share".into()],
        numeric: vec![false, true, true],
        rows,
        total: Vec::new(),
    }
}

/// A top-shares table with, under a contract, what the user pays for each row beside its
/// list cost (`paid` by the rows' keys; the "others" row sums the keys not shown).
fn with_paid(mut g: Grid, paid: Option<&BTreeMap<String, Decimal>>) -> Grid {
    let Some(paid) = paid else {
        return g;
    };
    let all: Decimal = paid.values().copied().sum();
    let mut shown = Decimal::ZERO;
    g.header.insert(2, "Contracted".into());
    g.numeric.insert(2, true);
    for r in &mut g.rows {
        let v = match paid.get(&r[0]) {
            Some(v) => {
                shown += v;
                *v
            }
            // The "N others" row: what the keys not shown come to.
            None => all - shown,
        };
        r.insert(2, usd(v));
    }
    g
}

/// Name/value rows.
pub fn facts(rows: Vec<(&str, String)>) -> Grid {
    Grid {
        header: vec![String::new(), String::new()],
        numeric: vec![false, true],
        rows: rows
            .into_iter()
            .map(|(k, v)| vec![k.to_string(), v])
            .collect(),
        total: Vec::new(),
    }
}

fn categories(cost: &Cost) -> Vec<(String, Decimal)> {
    (cost.iter())
        .map(|(c, v)| (c.key().to_string(), *v))
        .collect()
}

/// Keeps characters that are safe in a file name.
fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// How a projection is named on the page: the plan as written, or the model every agent was
/// priced as.
fn variant_name(p: &Projection) -> String {
    match &p.variant {
        None => format!("{} as written", p.scenario),
        Some(m) => format!("{}, every agent as {m}", p.scenario),
    }
}

impl Report {
    pub fn new(name: String, inputs: Vec<String>) -> Self {
        Report {
            name,
            inputs,
            ..Default::default()
        }
    }

    /// Metered sessions: a summary, tables by month, model, agent and category, charts, the
    /// dearest sessions, and the data (JSON, CSV, daily CSV).
    pub fn add_meter(&mut self, m: &MeterReport) -> Result<()> {
        self.pricing_versions.push(m.table.version.clone());
        let by = |key: GroupBy| -> Result<(GroupBy, Vec<GroupRow>)> {
            Ok((key, group_under(m.sessions, &[key], m.billing)?))
        };
        let (days, months, models, agents) = (
            by(GroupBy::Day)?,
            by(GroupBy::Month)?,
            by(GroupBy::Model)?,
            by(GroupBy::Agent)?,
        );
        let total = m.totals.cost.total();
        let keyed = |rows: &[GroupRow]| -> Vec<(String, Decimal)> {
            rows.iter()
                .map(|r| (r.key.clone(), r.sums.cost().total()))
                .collect()
        };
        let period = match (days.1.first(), days.1.last()) {
            (Some(a), Some(b)) if a.key == b.key => a.key.clone(),
            (Some(a), Some(b)) => format!("{} to {}", a.key, b.key),
            _ => "-".into(),
        };
        let per_session = if m.totals.sessions == 0 {
            Decimal::ZERO
        } else {
            total / Decimal::from(m.totals.sessions)
        };
        // Under a contract, what the user pays beside each list amount.
        let billing = m.billing;
        let paid_by = |rows: &[GroupRow]| -> Option<BTreeMap<String, Decimal>> {
            billing.map(|_| {
                (rows.iter())
                    .map(|r| (r.key.clone(), r.contracted.unwrap_or_default().total()))
                    .collect()
            })
        };
        let paid_categories: Option<BTreeMap<String, Decimal>> =
            billing.map(|b| categories(&b.contracted).into_iter().collect());
        let headline = match billing {
            None => vec![
                ("Total cost", usd(total)),
                ("Sessions", count(m.totals.sessions)),
                ("Per session, on average", usd(per_session)),
                ("Days", period),
            ],
            Some(b) => vec![
                ("Total cost at list prices", usd(total)),
                (
                    "Contracted (after the discounts)",
                    usd(b.contracted.total()),
                ),
                ("Billed (after commitments and credits)", usd(b.billed)),
                ("Contract", b.contract.version.clone()),
                ("Sessions", count(m.totals.sessions)),
                ("Per session, on average, at list prices", usd(per_session)),
                ("Days", period),
            ],
        };
        let mut summary = section(
            "Metered sessions",
            vec![
                (None, facts(headline)),
                (
                    Some("Top agents".into()),
                    with_paid(
                        top_shares("Agent", keyed(&agents.1), total),
                        paid_by(&agents.1).as_ref(),
                    ),
                ),
                (
                    Some("Top models".into()),
                    with_paid(
                        top_shares("Model", keyed(&models.1), total),
                        paid_by(&models.1).as_ref(),
                    ),
                ),
                (
                    Some("Top charge categories".into()),
                    with_paid(
                        top_shares("Category", categories(&m.totals.cost), total),
                        paid_categories.as_ref(),
                    ),
                ),
            ],
        );
        if let Some(b) = billing {
            // The meter's notes on the contract, as the page's sentences.
            summary.notes = (export::contract_notes(b, total).iter())
                .map(|n| format!("{}.", n.strip_prefix("note: ").unwrap_or(n)))
                .collect();
        }
        self.summary.push(summary);
        let grouped = |(key, rows): &(GroupBy, Vec<GroupRow>)| {
            let r = MeterReport {
                groups: Some((vec![*key], rows.clone())),
                ..m.clone()
            };
            // Under a contract the grid has what the user pays beside each list total.
            export::grid(&r).materialize()
        };
        let mut by_category = with_paid(
            top_shares("Category", categories(&m.totals.cost), total),
            paid_categories.as_ref(),
        );
        by_category.rows.sort_by_key(|r| {
            (CostColumn::ALL.iter())
                .position(|c| c.key() == r[0])
                .unwrap_or(usize::MAX)
        });
        by_category.total = vec!["Total".into(), usd(total), share(total, total)];
        if let Some(b) = billing {
            by_category.total.insert(2, usd(b.contracted.total()));
        }
        let mut tables = section(
            "Metered sessions",
            vec![
                (Some("By month".into()), grouped(&months)),
                (Some("By model".into()), grouped(&models)),
                (Some("By agent".into()), grouped(&agents)),
                (Some("By charge category".into()), by_category),
            ],
        );
        for (t, (key, rows)) in tables.tables[1..3].iter_mut().zip([&models, &agents]) {
            t.notes
                .extend(counted_in_each(*key, rows, m.totals.sessions));
        }
        self.sections.push(tables);
        self.details.push(dearest_sessions(m));
        self.data
            .push(("meter.json".into(), export::json::render(m)));
        self.data
            .push(("meter.csv".into(), export::csv::render(m)?));
        self.data.push((
            "daily.csv".into(),
            export::csv::render(&MeterReport {
                groups: Some((vec![GroupBy::Day], days.1.clone())),
                ..m.clone()
            })?,
        ));
        self.charts.extend(meter_charts(m, &days.1));
        Ok(())
    }

    /// Projections: the plan as written (the one without a variant, else the first) and each
    /// variant beside it; a summary, tables, charts per variant, and every variant's tables.
    pub fn add_projections(&mut self, ps: &[Projection]) {
        let Some(plan) = ps.iter().find(|p| p.variant.is_none()).or(ps.first()) else {
            return;
        };
        let others: Vec<&Projection> = ps.iter().filter(|p| !std::ptr::eq(*p, plan)).collect();
        self.pricing_versions
            .extend(ps.iter().map(|p| p.pricing_version.clone()));
        let months = plan.months.len();
        let from = plan
            .months
            .first()
            .map(|m| m.month.format("%Y-%m").to_string())
            .unwrap_or_default();
        let horizon = format!("{months} months from {from}");
        let t = &plan.total;
        // Every projection's horizon total, the plan first.
        let mut totals = Grid {
            header: ["Projection", "Expected", "p5", "p50", "p95", "vs plan"]
                .map(String::from)
                .to_vec(),
            numeric: vec![false, true, true, true, true, true],
            rows: Vec::new(),
            total: Vec::new(),
        };
        for p in std::iter::once(plan).chain(others.iter().copied()) {
            let ratio = if t.expected.is_zero() {
                "-".into()
            } else {
                format!("{:.2}x", (p.total.expected / t.expected).round_dp(2))
            };
            totals.rows.push(vec![
                variant_name(p),
                usd(p.total.expected),
                usd(p.total.p5),
                usd(p.total.p50),
                usd(p.total.p95),
                ratio,
            ]);
        }
        // Under a contract the amounts are what the user pays: the list expectation beside.
        if let Some(list) = std::iter::once(plan)
            .chain(others.iter().copied())
            .map(|p| p.contract.as_ref().map(|t| usd(t.list_total)))
            .collect::<Option<Vec<String>>>()
        {
            totals.header.insert(1, "List".into());
            totals.numeric.insert(1, true);
            for (r, l) in totals.rows.iter_mut().zip(list) {
                r.insert(1, l);
            }
        }
        let mut by_model: Vec<(String, Decimal)> = Vec::new();
        for a in &plan.agents {
            let cost: Decimal = a.by_category.values().sum();
            match by_model.iter_mut().find(|(m, _)| *m == a.model) {
                Some((_, c)) => *c += cost,
                None => by_model.push((a.model.clone(), cost)),
            }
        }
        let agent_costs = plan
            .agents
            .iter()
            .map(|a| (a.name.clone(), a.by_category.values().sum()))
            .collect();
        let expected = t.expected;
        let cat_costs = categories(&PerCostColumn::from_fn(|c| plan.categories[c].expected));
        let mut rows = vec![
            ("Horizon", horizon.clone()),
            ("Expected total (exact, from the means)", usd(expected)),
            ("p5 of simulated totals", usd(t.p5)),
            ("p50 (median)", usd(t.p50)),
            ("p95", usd(t.p95)),
            ("Runs", count(plan.runs as u64)),
        ];
        if let Some(terms) = &plan.contract {
            // Every amount above is what the user pays after the discounts.
            rows[1].0 = "Expected total, contracted (exact, from the means)";
            let c = &terms.contract;
            let mut extra = vec![("Expected total at list prices", usd(terms.list_total))];
            if !c.commitments.is_empty() || !c.credits.is_empty() {
                extra.push((
                    "Billed at the expected spend (commitments, credits)",
                    usd(terms.billed),
                ));
                // The same terms on each run: the band of the bill.
                let b = &terms.runs.total.billed;
                extra.extend([
                    ("Billed, p5 of the runs' bills", usd(b.p5)),
                    ("Billed, p50", usd(b.p50)),
                    ("Billed, p95", usd(b.p95)),
                ]);
            }
            extra.push(("Contract", c.version.clone()));
            rows.splice(2..2, extra);
        }
        let mut headline = facts(rows);
        headline.header = vec![variant_name(plan), String::new()];
        let band = sentence(&projection::uncertainty_statement(plan));
        let mut summary = vec![Table {
            title: None,
            grid: headline,
            notes: vec![band.clone()],
        }];
        if !others.is_empty() {
            // A variant's band said again only where it covers something else.
            let notes = (others.iter())
                .map(|p| (p, sentence(&projection::uncertainty_statement(p))))
                .filter(|(_, b)| *b != band)
                .map(|(p, b)| format!("{}: {b}", variant_name(p)))
                .collect();
            summary.push(Table {
                title: Some(format!("The plan and each model, over {horizon}")),
                grid: totals,
                notes,
            });
        }
        let tops = vec![
            (
                Some("Top agents (expected)".into()),
                top_shares("Agent", agent_costs, expected),
            ),
            (
                Some("Top models (expected)".into()),
                top_shares("Model", by_model.clone(), expected),
            ),
            (
                Some("Top charge categories (expected)".into()),
                top_shares("Category", cat_costs, expected),
            ),
        ];
        summary.extend(tops.into_iter().map(Table::from));
        self.summary.push(Section {
            title: format!("Projection: {}", variant_name(plan)),
            tables: summary,
            notes: Vec::new(),
        });

        let mut grids = projection::grids(plan).into_iter();
        let mut tables = Vec::new();
        if let Some((title, g)) = grids.next() {
            tables.push((Some(format!("By month: {title}")), g));
        }
        if !others.is_empty() {
            tables.push((
                Some("Expected spend per month, the plan and each model".into()),
                months_side_by_side(plan, &others),
            ));
        }
        let mut models = top_shares("Model", by_model, expected);
        models.header[1] = "Expected".into();
        tables.push((Some("By model, over the horizon (expected)".into()), models));
        tables.extend(grids.map(|(t, g)| (Some(t), g)));
        let mut sec = section(format!("Projection: {}", variant_name(plan)), tables);
        // What the agents' Budget columns are.
        if let Some(t) =
            (sec.tables.iter_mut()).find(|t| t.title.as_deref() == Some(projection::AGENTS_TITLE))
        {
            t.notes.push(sentence(&projection::budget_line(plan)));
        }
        self.sections.push(sec);
        for p in &others {
            self.details.push(section(
                format!("Projection: {}", variant_name(p)),
                projection::grids(p)
                    .into_iter()
                    .map(|(t, g)| (Some(t), g))
                    .collect(),
            ));
        }
        let mut notes: Vec<String> = ps.iter().flat_map(|p| p.notes.iter().cloned()).collect();
        notes.dedup();
        if !notes.is_empty() {
            self.details.push(Section {
                title: "Notes on the projection".into(),
                tables: Vec::new(),
                notes,
            });
        }
        self.data
            .push(("projection.json".into(), projection::json_doc(ps)));
        self.data
            .push(("projection.csv".into(), projection_csv(ps)));
        self.charts.extend(projection_charts(plan, &others));
    }
}

/// The per-session table of the dearest sessions, with a note on the rest.
fn dearest_sessions(m: &MeterReport) -> Section {
    let mut order: Vec<usize> = (0..m.sessions.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&m.sessions[a], &m.sessions[b]);
        b.cost
            .total()
            .cmp(&a.cost.total())
            .then_with(|| a.usage.session_id.cmp(&b.usage.session_id))
    });
    order.truncate(DETAIL_SESSIONS);
    let shown: Vec<crate::rate::RatedSession> =
        order.iter().map(|&i| m.sessions[i].clone()).collect();
    let n = m.sessions.len();
    // The contract's terms of the sessions shown, in their order (the month lines are the
    // whole bill's, in the summary).
    let billing = m.billing.map(|b| {
        let sessions: Vec<_> = order.iter().map(|&i| b.sessions[i].clone()).collect();
        let mut contracted = crate::rate::Cost::default();
        for t in &sessions {
            contracted += t.cost;
        }
        crate::contract::Billing {
            contract: b.contract,
            sessions,
            contracted,
            months: Vec::new(),
            credits: Vec::new(),
            shortfall: Decimal::ZERO,
            credits_used: Decimal::ZERO,
            billed: contracted.total(),
        }
    });
    let sub = MeterReport {
        sessions: &shown,
        totals: crate::rate::Totals::of(&shown),
        billing: billing.as_ref(),
        ..m.clone()
    };
    let mut g = export::grid(&sub).materialize();
    let mut notes = Vec::new();
    let title = if n > shown.len() {
        if let Some(c) = g.total.first_mut() {
            *c = format!("These {} sessions", shown.len());
        }
        let cost = sub.totals.cost.total();
        notes.push(format!(
            "The {} dearest of {} sessions ({}, {} of the total). Every session is in meter.csv and meter.json.",
            shown.len(),
            count(n as u64),
            usd(cost),
            share(cost, m.totals.cost.total())
        ));
        format!("The {} dearest sessions", shown.len())
    } else {
        "Sessions".into()
    };
    Section {
        title,
        tables: vec![(None, g).into()],
        notes,
    }
}

/// A note under a table by model or agent whose session counts add up to more than the
/// sessions: a session with items under several keys counts under each.
fn counted_in_each(key: GroupBy, rows: &[GroupRow], sessions: u64) -> Option<String> {
    let sum: u64 = rows.iter().map(|r| r.sessions).sum();
    (sum > sessions).then(|| {
        format!(
            "A session that used more than one {0} counts once under each {0}: the rows add up to {1} sessions, of {2} in all.",
            key.name(),
            count(sum),
            count(sessions)
        )
    })
}

/// A statement as a sentence: its first letter capitalised, a full stop at the end.
fn sentence(s: &str) -> String {
    let mut c = s.chars();
    let mut out: String = match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => return String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// Month | the plan | each variant: expected spend per month.
fn months_side_by_side(plan: &Projection, others: &[&Projection]) -> Grid {
    let all: Vec<&Projection> = std::iter::once(plan)
        .chain(others.iter().copied())
        .collect();
    let mut header = vec!["Month".to_string()];
    header.extend(all.iter().map(|p| match &p.variant {
        None => "As written".to_string(),
        Some(m) => m.clone(),
    }));
    let rows = plan
        .months
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut r = vec![m.month.format("%Y-%m").to_string()];
            r.extend(all.iter().map(|p| {
                p.months
                    .get(i)
                    .map_or("-".into(), |m| usd(m.stats.expected))
            }));
            r
        })
        .collect();
    let mut total = vec!["Total".to_string()];
    total.extend(all.iter().map(|p| usd(p.total.expected)));
    Grid {
        numeric: (0..header.len()).map(|i| i > 0).collect(),
        header,
        rows,
        total,
    }
}

fn f(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A table in a box of its own width: cells never break (an id stays whole), and a table wider
/// than the page scrolls sideways inside the box instead of the page.
pub fn html_table(g: &Grid) -> String {
    let mut s = String::from("<div class=\"t\"><table>\n");
    // Name/value tables have no header.
    if g.header.iter().any(|h| !h.is_empty()) {
        s.push_str("<thead><tr>");
        for (h, n) in g.header.iter().zip(&g.numeric) {
            let _ = write!(
                s,
                "<th{}>{}</th>",
                if *n { " class=\"n\"" } else { "" },
                esc(h)
            );
        }
        s.push_str("</tr></thead>\n");
    }
    s.push_str("<tbody>\n");
    let row = |s: &mut String, cells: &[String], class: &str| {
        let _ = write!(s, "<tr{class}>");
        for (c, n) in cells.iter().zip(&g.numeric) {
            let _ = write!(
                s,
                "<td{}>{}</td>",
                if *n { " class=\"n\"" } else { "" },
                esc(c)
            );
        }
        s.push_str("</tr>\n");
    };
    for r in &g.rows {
        row(&mut s, r, "");
    }
    if !g.total.is_empty() {
        row(&mut s, &g.total, " class=\"total\"");
    }
    s.push_str("</tbody></table></div>\n");
    s
}

/// Charts of the meter part: cost by category per model, and spend per day.
fn meter_charts(m: &MeterReport, days: &[GroupRow]) -> Vec<Figure> {
    let mut models: Vec<String> = Vec::new();
    let mut by_model: Vec<PerCostColumn<f64>> = Vec::new();
    for s in m.sessions {
        for i in &s.items {
            let key = i.model.as_deref().unwrap_or("(none)").to_string();
            let k = models.iter().position(|x| *x == key).unwrap_or_else(|| {
                models.push(key);
                by_model.push(PerCostColumn::default());
                models.len() - 1
            });
            let mut c = Cost::default();
            c.add_item(i.category, i.amount);
            for (col, slot) in by_model[k].iter_mut() {
                *slot += f(c[col]);
            }
        }
    }
    let series = CostColumn::ALL
        .iter()
        .map(|&c| (c.key().to_string(), by_model.iter().map(|m| m[c]).collect()))
        .collect();
    let (first, last) = (days.first(), days.last());
    let span = match (first, last) {
        (Some(a), Some(b)) if a.key != b.key => format!(", from {} to {}", a.key, b.key),
        (Some(a), _) => format!(", on {}", a.key),
        _ => String::new(),
    };
    vec![
        Figure::new(
            "cost-by-category",
            Chart::Stacked {
                title: "Cost by charge category, per model".into(),
                groups: models,
                series,
            },
            "One bar per model, its height the cost of the requests that model served, stacked \
             by charge category (legend); the figure above a bar is its total. A session's \
             running time counts under the model of the session.",
        ),
        Figure::new(
            "daily-spend",
            daily_chart(days),
            format!(
                "One bar per calendar day{span} (days in the report's time zone, --tz): that \
                 day's cost, every category together; a day without a bar cost nothing."
            ),
        ),
    ]
}

/// Spend per calendar day, days without spend included (up to ~3 years of days).
fn daily_chart(days: &[GroupRow]) -> Chart {
    let parsed: Vec<(chrono::NaiveDate, f64)> = days
        .iter()
        .filter_map(|d| {
            d.key
                .parse()
                .ok()
                .map(|day| (day, f(d.sums.cost().total())))
        })
        .collect();
    let (mut labels, mut values) = (Vec::new(), Vec::new());
    if let (Some(first), Some(last)) = (parsed.first(), parsed.last()) {
        let span = (last.0 - first.0).num_days();
        if (0..=1100).contains(&span) {
            let mut it = parsed.iter().peekable();
            for k in 0..=span {
                let day = first.0 + chrono::Days::new(k as u64);
                labels.push(day.to_string());
                values.push(match it.peek() {
                    Some((d, v)) if *d == day => {
                        it.next();
                        *v
                    }
                    _ => 0.0,
                });
            }
        } else {
            labels = parsed.iter().map(|p| p.0.to_string()).collect();
            values = parsed.iter().map(|p| p.1).collect();
        }
    }
    Chart::Daily {
        title: "Spend per day".into(),
        days: labels,
        values,
    }
}

/// Charts of the projection part: the fan and the histogram of the plan and of each variant,
/// each titled with what it shows; the plan's agents by category; the totals side by side.
fn projection_charts(plan: &Projection, others: &[&Projection]) -> Vec<Figure> {
    let mut out = Vec::new();
    for p in std::iter::once(plan).chain(others.iter().copied()) {
        let suffix = p
            .variant
            .as_deref()
            .map(|m| format!("-{}", file_safe(m)))
            .unwrap_or_default();
        let name = variant_name(p);
        let band = sentence(&projection::uncertainty_statement(p));
        out.push(Figure::new(
            format!("projection-fan{suffix}"),
            Chart::Fan {
                title: format!("{name}: spend per month (p5-p95, p50, expected)"),
                months: p
                    .months
                    .iter()
                    .map(|m| m.month.format("%Y-%m").to_string())
                    .collect(),
                p5: p.months.iter().map(|m| f(m.stats.p5)).collect(),
                p50: p.months.iter().map(|m| f(m.stats.p50)).collect(),
                p95: p.months.iter().map(|m| f(m.stats.p95)).collect(),
                expected: p.months.iter().map(|m| f(m.stats.expected)).collect(),
            },
            format!(
                "Each month's spend over the {} simulated runs: the shaded band runs from p5 to \
                 p95 (9 runs in 10 fall inside it), the solid line is the median (p50), the \
                 dashed line the exact expectation from the means. {band}",
                count(p.runs as u64)
            ),
        ));
        out.push(Figure::new(
            format!("projection-histogram{suffix}"),
            Chart::Histogram {
                title: format!(
                    "{name}: simulated totals over {} months ({} runs)",
                    p.months.len(),
                    p.runs
                ),
                bins: p.histogram.clone(),
                marks: vec![
                    ("p5".into(), f(p.total.p5)),
                    ("p50".into(), f(p.total.p50)),
                    ("p95".into(), f(p.total.p95)),
                ],
                interval: None,
                x_desc: "Total over the horizon (USD)".into(),
                y_desc: "Runs".into(),
            },
            format!(
                "How the runs' totals over the horizon are spread: each bar counts the runs whose \
                 total falls in its range; the lines mark p5, p50 and p95 (the legend gives \
                 their values). The exact expected total is {}.",
                usd(p.total.expected)
            ),
        ));
    }
    out.push(Figure::new(
        "projection-by-agent",
        Chart::Stacked {
            title: format!(
                "{}: expected cost by charge category, per agent",
                variant_name(plan)
            ),
            groups: plan
                .agents
                .iter()
                .map(|a| agent_label(&a.name, &a.model))
                .collect(),
            series: CostColumn::ALL
                .iter()
                .map(|&c| {
                    (
                        c.key().to_string(),
                        plan.agents.iter().map(|a| f(a.by_category[c])).collect(),
                    )
                })
                .collect(),
        },
        format!(
            "One bar per agent of the plan, labelled with the model it runs on: its expected \
             cost over the {} months, stacked by charge category (legend), the total above it.",
            plan.months.len()
        ),
    ));
    if !others.is_empty() {
        let all: Vec<&Projection> = std::iter::once(plan)
            .chain(others.iter().copied())
            .collect();
        out.push(Figure::new(
            "model-comparison",
            Chart::Comparison {
                title: format!(
                    "{}: the plan as written and every agent as each model (expected, p5-p95)",
                    plan.scenario
                ),
                labels: all
                    .iter()
                    .map(|p| p.variant.clone().unwrap_or_else(|| "as written".into()))
                    .collect(),
                expected: all.iter().map(|p| f(p.total.expected)).collect(),
                p5: all.iter().map(|p| f(p.total.p5)).collect(),
                p95: all.iter().map(|p| f(p.total.p95)).collect(),
            },
            "One bar per pricing, its height the expected total over the horizon (the figure \
             beside it): the scenario with its own models (as written), then every agent \
             priced as each model; the black line runs from p5 to p95 of the simulated totals. \
             The same quantities are priced each time: another model may not use the same \
             tokens for the same work.",
        ));
    }
    out
}

/// An agent and its model, the model named once: an agent of a `model_mix` is already named
/// `name (model)`.
fn agent_label(name: &str, model: &str) -> String {
    if name.ends_with(&format!(" ({model})")) {
        name.to_string()
    } else {
        format!("{name} ({model})")
    }
}

fn write_file(dir: &Path, name: &str, text: &str, written: &mut Vec<PathBuf>) -> Result<()> {
    let p = dir.join(name);
    std::fs::write(&p, text).map_err(|e| Error::io(&p, e))?;
    written.push(p);
    Ok(())
}

fn projection_csv(ps: &[Projection]) -> String {
    let mut s = String::from(
        "model,month,expected_sessions,expected,mean,p5,p50,p95,p99,pricing_version\n",
    );
    for p in ps {
        for m in &p.months {
            let st = &m.stats;
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{},{},{}",
                p.variant.as_deref().unwrap_or(""),
                m.month.format("%Y-%m"),
                exact(m.expected_sessions.round_dp(6)),
                exact(st.expected),
                exact(st.mean),
                exact(st.p5),
                exact(st.p50),
                exact(st.p95),
                exact(st.p99),
                p.pricing_version
            );
        }
    }
    s
}

/// Write the report's files into `dir` (a fresh directory the caller swaps into place), adding
/// each path written to `written`.
pub fn write_into(dir: &Path, r: &Report, written: &mut Vec<PathBuf>) -> Result<()> {
    let generated = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut versions = r.pricing_versions.clone();
    versions.sort();
    versions.dedup();
    let meta = format!(
        "Generated {generated} by agentmeter {}. Prices: {}. Inputs: {}.",
        env!("CARGO_PKG_VERSION"),
        versions.join(", "),
        r.inputs.join(", ")
    );
    let mut html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title>\n<style>\
         body{{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}}\
         table{{border-collapse:collapse;font-size:14px}}th,td{{padding:4px 10px;border-bottom:1px solid #ddd}}td{{white-space:nowrap}}.t{{overflow-x:auto;margin:1em 0}}\
         th{{background:#f4f4f4;text-align:left}}td.n,th.n{{text-align:right;font-variant-numeric:tabular-nums}}\
         tr.total td{{font-weight:bold;border-top:2px solid #999}}figure{{margin:1.5em 0}}svg{{max-width:100%;height:auto}}\
         .meta{{color:#555;font-size:14px}}</style></head><body>\n<h1>{0}</h1>\n<p class=\"meta\">{1}</p>\n",
        esc(&r.name),
        esc(&meta)
    );
    let mut md = format!("# {}\n\n{meta}\n\n", r.name);
    for (name, contents) in &r.data {
        write_file(dir, name, contents, written)?;
    }
    let part = |html: &mut String, md: &mut String, title: &str, secs: &[Section]| {
        if secs.is_empty() {
            return;
        }
        let _ = writeln!(html, "<h2 id=\"{}\">{title}</h2>", title.to_lowercase());
        let _ = write!(md, "## {title}\n\n");
        for sec in secs {
            let _ = writeln!(html, "<h3>{}</h3>", esc(&sec.title));
            let _ = write!(md, "### {}\n\n", sec.title);
            let note = |html: &mut String, md: &mut String, n: &str| {
                let _ = writeln!(html, "<p class=\"meta\">Note: {}</p>", esc(n));
                let _ = writeln!(md, "Note: {n}\n");
            };
            for t in &sec.tables {
                if let Some(title) = &t.title {
                    let _ = writeln!(html, "<h4>{}</h4>", esc(title));
                    let _ = write!(md, "#### {title}\n\n");
                }
                html.push_str(&html_table(&t.grid));
                let _ = writeln!(md, "{}", export::markdown::render(&t.grid));
                for n in &t.notes {
                    note(html, md, n);
                }
            }
            for n in &sec.notes {
                note(html, md, n);
            }
        }
    };
    part(&mut html, &mut md, "Summary", &r.summary);
    part(&mut html, &mut md, "Tables", &r.sections);
    if !r.charts.is_empty() {
        html.push_str("<h2 id=\"charts\">Charts</h2>\n");
        md.push_str("## Charts\n\n");
    }
    for Figure {
        name,
        chart: c,
        caption,
    } in &r.charts
    {
        let svg = chart::to_svg(c)?;
        write_file(dir, &format!("{name}.svg"), &svg, written)?;
        let png = dir.join(format!("{name}.png"));
        chart::to_png(c, &png)?;
        written.push(png);
        // The chart draws its title; the caption says what the title does not.
        let _ = write!(html, "<figure>\n{svg}\n");
        let _ = writeln!(md, "![{}]({name}.png)\n", c.title());
        if !caption.is_empty() {
            let _ = write!(html, "<figcaption>{}</figcaption>", esc(caption));
            let _ = writeln!(md, "{caption}\n");
        }
        html.push_str("</figure>\n");
    }
    part(&mut html, &mut md, "Details", &r.details);
    html.push_str("</body></html>\n");
    write_file(dir, "report.md", &md, written)?;
    write_file(dir, "index.html", &html, written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_label_names_its_model_once() {
        assert_eq!(
            agent_label("support", "claude-opus-4-6"),
            "support (claude-opus-4-6)"
        );
        // A model_mix agent carries its model already.
        assert_eq!(
            agent_label("support (claude-opus-4-6)", "claude-opus-4-6"),
            "support (claude-opus-4-6)"
        );
        // Priced as another model (--model), the name's model is not the one priced.
        assert_eq!(
            agent_label("support (claude-opus-4-6)", "claude-haiku-4-5"),
            "support (claude-opus-4-6) (claude-haiku-4-5)"
        );
    }
}
