//! Projections as tables (terminal, markdown) and JSON (`agentmeter/projection-v1`).

use rust_decimal::prelude::*;
use serde_json::{json, Value};

use super::{markdown, table, Format, Grid};
use crate::money::{exact, usd};
use crate::project::{Projection, Stats, UNCERTAINTY_SOURCES};

pub const SCHEMA: &str = "agentmeter/projection-v1";

fn stats_cells(s: &Stats) -> Vec<String> {
    [s.expected, s.mean, s.p5, s.p50, s.p95, s.p99]
        .into_iter()
        .map(usd)
        .collect()
}

const STATS_HEADERS: [&str; 6] = ["Expected", "Mean", "p5", "p50", "p95", "p99"];

fn grid(
    lead: &[&str],
    rows: Vec<(Vec<String>, &Stats)>,
    total: Option<(Vec<String>, &Stats)>,
) -> Grid {
    let mut header: Vec<String> = lead.iter().map(|s| s.to_string()).collect();
    header.extend(STATS_HEADERS.map(String::from));
    let mut numeric = vec![false; lead.len()];
    numeric.extend([true; 6]);
    let cells = |(mut c, s): (Vec<String>, &Stats)| {
        c.extend(stats_cells(s));
        c
    };
    Grid {
        header,
        numeric,
        rows: rows.into_iter().map(cells).collect(),
        total: total.map(cells).unwrap_or_default(),
    }
}

/// A column of expected session counts, one format for all its cells (so they line up
/// right-aligned): to one decimal, with thousands separators; without the decimal when every
/// cell is whole at one decimal.
fn sessions_cells(ns: &[Decimal]) -> Vec<String> {
    let r: Vec<Decimal> = ns.iter().map(|n| n.round_dp(1)).collect();
    let whole = r.iter().all(|n| n.fract().is_zero());
    r.iter()
        .map(|n| {
            // Counts are never negative.
            let int = crate::money::count(n.trunc().to_u64().unwrap_or(0));
            if whole {
                int
            } else {
                let tenth = (n.fract() * Decimal::TEN).to_u64().unwrap_or(0);
                format!("{int}.{tenth}")
            }
        })
        .collect()
}

fn title(p: &Projection) -> String {
    let model = p
        .variant
        .as_ref()
        .map(|m| format!(", every agent as {m}"))
        .unwrap_or_default();
    let contract = p
        .contract
        .as_ref()
        .map(|t| format!(", contract {}", t.contract.version))
        .unwrap_or_default();
    format!(
        "Projection of {}{model}: {} months from {}, {} runs (seed {}), prices {}{contract}",
        p.scenario,
        p.months.len(),
        p.months
            .first()
            .map(|m| m.month.format("%Y-%m").to_string())
            .unwrap_or_default(),
        p.runs,
        p.seed,
        p.pricing_version
    )
}

/// A column put into a table at `at`: its header, one cell per row, and its total cell (for
/// a table that has a total row).
fn insert_column(g: &mut Grid, at: usize, header: &str, cells: Vec<String>, total: String) {
    g.header.insert(at, header.into());
    g.numeric.insert(at, true);
    for (r, c) in g.rows.iter_mut().zip(cells) {
        r.insert(at, c);
    }
    if !g.total.is_empty() {
        g.total.insert(at, total);
    }
}

/// A column at the end of a table.
fn push_column(g: &mut Grid, header: &str, cells: Vec<String>, total: String) {
    let at = g.header.len();
    insert_column(g, at, header, cells, total);
}

/// The title of a projection's table by agent.
pub const AGENTS_TITLE: &str = "By agent, over the horizon";

/// The three tables of one projection: by month, by agent, by category.
pub fn grids(p: &Projection) -> Vec<(String, Grid)> {
    // The months and their total in one column format.
    let mut counts: Vec<Decimal> = p.months.iter().map(|m| m.expected_sessions).collect();
    counts.push(counts.iter().sum());
    let mut counts = sessions_cells(&counts);
    let total_count = counts.pop().unwrap_or_default();
    let mut months = grid(
        &["Month", "Sessions"],
        p.months
            .iter()
            .zip(counts)
            .map(|(m, n)| (vec![m.month.format("%Y-%m").to_string(), n], &m.stats))
            .collect(),
        Some((vec!["Total".into(), total_count], &p.total)),
    );
    months.numeric[1] = true;
    let mut agents = grid(
        &["Agent", "Model"],
        p.agents
            .iter()
            .map(|a| (vec![a.name.clone(), a.model.clone()], &a.stats))
            .collect(),
        None,
    );
    // What a session's budget (list cost) should allow: its p95 and p99.
    push_column(
        &mut agents,
        "Budget p95",
        p.agents.iter().map(|a| usd(a.session_budget.p95)).collect(),
        String::new(),
    );
    push_column(
        &mut agents,
        "Budget p99",
        p.agents.iter().map(|a| usd(a.session_budget.p99)).collect(),
        String::new(),
    );
    let mut cats = grid(
        &["Category"],
        (p.categories.iter())
            .map(|(c, s)| (vec![c.key().to_string()], s))
            .collect(),
        None,
    );
    if let Some(t) = &p.contract {
        // The list expectation before the contracted one ("Expected").
        let cells = |v: &mut dyn Iterator<Item = Decimal>| v.map(usd).collect::<Vec<_>>();
        insert_column(
            &mut months,
            2,
            "List",
            cells(&mut t.list_months.iter().copied()),
            usd(t.list_total),
        );
        insert_column(
            &mut agents,
            2,
            "List",
            cells(&mut t.list_agents.iter().copied()),
            String::new(),
        );
        insert_column(
            &mut cats,
            1,
            "List",
            cells(&mut t.list_categories.values().copied()),
            String::new(),
        );
        // The monthly terms, on the expected spend.
        let c = &t.contract;
        if !c.commitments.is_empty() {
            push_column(
                &mut months,
                "Shortfall",
                t.months.iter().map(|m| usd(m.shortfall)).collect(),
                usd(t.shortfall),
            );
        }
        if !c.credits.is_empty() {
            push_column(
                &mut months,
                "Credits",
                t.months
                    .iter()
                    .map(|m| usd(m.credits.iter().map(|u| u.1).sum()))
                    .collect(),
                usd(t.credits_used),
            );
        }
        if !c.commitments.is_empty() || !c.credits.is_empty() {
            push_column(
                &mut months,
                "Billed",
                t.months.iter().map(|m| usd(m.billed)).collect(),
                usd(t.billed),
            );
            // The band of the runs' bills, each run's months under the same terms.
            let q = |s: &Stats, k: usize| [s.p5, s.p50, s.p95][k];
            for (k, header) in ["Billed p5", "Billed p50", "Billed p95"].iter().enumerate() {
                push_column(
                    &mut months,
                    header,
                    t.runs.months.iter().map(|m| usd(q(&m.billed, k))).collect(),
                    usd(q(&t.runs.total.billed, k)),
                );
            }
        }
    }
    vec![
        (title(p), months),
        (AGENTS_TITLE.into(), agents),
        ("By charge category, over the horizon".into(), cats),
    ]
}

/// Side by side, when the same scenario is priced as several models.
fn comparison(ps: &[Projection]) -> Grid {
    let base = ps[0].total.expected;
    let mut g = grid(
        &["Model", "vs first"],
        ps.iter()
            .map(|p| {
                let ratio = if base.is_zero() {
                    "-".to_string()
                } else {
                    format!("{:.2}x", (p.total.expected / base).round_dp(2))
                };
                (
                    vec![
                        p.variant.clone().unwrap_or_else(|| "as in scenario".into()),
                        ratio,
                    ],
                    &p.total,
                )
            })
            .collect(),
        None,
    );
    g.total = Vec::new();
    // Under a contract every amount is what the user pays: the list expectation beside it.
    if ps.iter().all(|p| p.contract.is_some()) {
        let list = (ps.iter())
            .filter_map(|p| p.contract.as_ref())
            .map(|t| usd(t.list_total))
            .collect();
        insert_column(&mut g, 2, "List", list, String::new());
    }
    g
}

fn render_grid(g: &Grid, format: Format) -> String {
    match format {
        Format::Markdown => markdown::render(g),
        _ => table::render(g),
    }
}

pub fn render(ps: &[Projection], format: Format) -> String {
    if format == Format::Json {
        return json_doc(ps);
    }
    let mut out = String::new();
    let heading = |s: &str| {
        if format == Format::Markdown {
            format!("### {s}\n\n")
        } else {
            format!("{s}\n")
        }
    };
    if ps.len() > 1 {
        out.push_str(&heading("Horizon total by model"));
        out.push_str(&render_grid(&comparison(ps), format));
        out.push_str("\nEach model would not use the same tokens for the same work; this prices the scenario's quantities as given.\n\n");
    }
    for p in ps {
        for (t, g) in grids(p) {
            out.push_str(&heading(&t));
            out.push_str(&render_grid(&g, format));
            out.push('\n');
        }
        for n in &p.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        out.push_str(&format!("{}\n", uncertainty_line(p)));
        out.push_str(&format!("{}\n", budget_line(p)));
    }
    out
}

/// What the agents' Budget p95 and p99 columns are (after the uncertainty line).
pub fn budget_line(p: &Projection) -> String {
    let n = p.agents.iter().map(|a| a.session_budget.sessions).max();
    format!(
        "session budgets: Budget p95 and p99 are the 95th and 99th percentiles of one session's list cost ({} simulated sessions per agent at the first day's list prices, rounded up to the cent), for a session's budget.max_list_cost",
        crate::money::count(n.unwrap_or(0) as u64)
    )
}

/// The last line of a projection's table: `uncertainty: ` and [`uncertainty_statement`].
pub fn uncertainty_line(p: &Projection) -> String {
    format!("uncertainty: {}", uncertainty_statement(p))
}

/// In plain words, what the p5-p95 band covers and what it holds fixed (from
/// `Projection::uncertainty`, as the JSON lists it).
pub fn uncertainty_statement(p: &Projection) -> String {
    let words = |k: &str| match k {
        "per_session" => "per-session variation (running time, requests, tokens, searches)",
        "arrivals" => "Poisson arrivals (the count of sessions)",
        "volume" => "volume (the level of sessions, drawn once per run)",
        "growth" => "growth (the monthly rate, drawn once per run)",
        _ => "prices (possible price changes, drawn once per run)",
    };
    let short = |k: &'static str| match k {
        "per_session" => "per-session variation",
        k => k,
    };
    let fixed: Vec<&str> = UNCERTAINTY_SOURCES
        .iter()
        .filter(|k| !p.uncertainty.contains(k))
        .map(|k| short(k))
        .collect();
    if p.uncertainty.is_empty() {
        return "nothing in this scenario varies, so every run is the same and the band is one value".into();
    }
    let covers: Vec<&str> = p.uncertainty.iter().map(|k| words(k)).collect();
    let mut line = format!("the p5-p95 band covers {}", covers.join(", "));
    if !fixed.is_empty() {
        line.push_str(&format!("; {} are fixed as written", fixed.join(", ")));
    }
    line
}

fn stats_json(s: &Stats) -> Value {
    json!({
        "expected": exact(s.expected), "mean": exact(s.mean), "p5": exact(s.p5),
        "p50": exact(s.p50), "p95": exact(s.p95), "p99": exact(s.p99),
    })
}

fn with(mut v: Value, extra: Value) -> Value {
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

/// The contract's terms of one month (on its expected spend).
fn month_terms_json(c: &crate::contract::Contract, m: &crate::contract::Month) -> Value {
    json!({
        "commitment": m.commitment.map(|(i, _)| c.commitment_ref(i)),
        "minimum": m.commitment.map(|(_, min)| exact(min)),
        "shortfall": exact(m.shortfall),
        "credits": m.credits.iter().map(|(i, used)| json!({"row": c.credit_ref(*i), "used": exact(*used)})).collect::<Vec<_>>(),
        "billed": exact(m.billed),
    })
}

/// The runs' bills: their mean and percentiles, and the means of the shortfall and credits.
fn billed_runs_json(b: &crate::project::BilledStats) -> Value {
    let s = &b.billed;
    json!({
        "billed": {
            "mean": exact(s.mean), "p5": exact(s.p5), "p50": exact(s.p50),
            "p95": exact(s.p95), "p99": exact(s.p99),
        },
        "shortfall_mean": exact(b.shortfall_mean),
        "credits_used_mean": exact(b.credits_used_mean),
    })
}

/// The projection's contract: its version, the list expectation, and the monthly terms on
/// the expected spend.
fn contract_json(t: &crate::project::ContractTerms) -> Value {
    let c = &t.contract;
    json!({
        "name": c.name,
        "version": c.version,
        "list_expected": exact(t.list_total),
        "commitment_shortfall": exact(t.shortfall),
        "credits_used": exact(t.credits_used),
        "billed": exact(t.billed),
        "runs": billed_runs_json(&t.runs.total),
        "credits": c.credits.iter().zip(&t.credits).enumerate().map(|(i, (k, u))| json!({
            "row": c.credit_ref(i),
            "expires": k.expires.to_string(),
            "amount": exact(k.amount),
            "used": exact(u.used),
            "remaining": exact(u.remaining),
        })).collect::<Vec<_>>(),
    })
}

pub fn projection_json(p: &Projection) -> Value {
    let mut doc = projection_json_plain(p);
    let Some(t) = &p.contract else {
        return doc;
    };
    // Keys only under a contract: the list expectation beside each contracted one.
    for (i, m) in doc["months"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .enumerate()
    {
        m["list_expected"] = json!(exact(t.list_months[i]));
        m["contract"] = month_terms_json(&t.contract, &t.months[i]);
        m["contract"]["runs"] = billed_runs_json(&t.runs.months[i]);
    }
    doc["total"]["list_expected"] = json!(exact(t.list_total));
    for (i, a) in doc["agents"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .enumerate()
    {
        a["list_expected"] = json!(exact(t.list_agents[i]));
    }
    let list: Vec<Decimal> = t.list_categories.values().copied().collect();
    for (i, c) in doc["categories"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .enumerate()
    {
        c["list_expected"] = json!(exact(list[i]));
    }
    doc["contract"] = contract_json(t);
    doc
}

/// The document without a contract's keys.
fn projection_json_plain(p: &Projection) -> Value {
    json!({
        "schema": SCHEMA,
        "scenario": p.scenario,
        "model": p.variant,
        "pricing": {"name": p.pricing_name, "version": p.pricing_version},
        "runs": p.runs,
        "seed": p.seed,
        "simulated_sessions": p.simulated_sessions,
        "months": p.months.iter().map(|m| with(stats_json(&m.stats), json!({
            "month": m.month.format("%Y-%m").to_string(),
            "expected_sessions": exact(m.expected_sessions.round_dp(6)),
            "agents": p.agents.iter().zip(&m.by_agent).map(|(a, v)| json!({"name": a.name, "expected": exact(*v)})).collect::<Vec<_>>(),
            "categories": m.by_category.iter().map(|(c, v)| (c.key().to_string(), json!(exact(*v)))).collect::<serde_json::Map<_, _>>(),
        }))).collect::<Vec<_>>(),
        "total": stats_json(&p.total),
        "agents": p.agents.iter().map(|a| with(with(json!({"name": a.name, "model": a.model}), stats_json(&a.stats)), json!({
            "recommended_session_budget": {"p95": exact(a.session_budget.p95), "p99": exact(a.session_budget.p99)},
        }))).collect::<Vec<_>>(),
        "categories": p.categories.iter().map(|(c, s)| with(json!({"category": c.key()}), stats_json(s))).collect::<Vec<_>>(),
        "notes": p.notes,
        "uncertainty": p.uncertainty,
    })
}

/// One projection: its document. Several (one per `--model`): the first at the top level, and
/// all of them under `variants`.
pub fn json_doc(ps: &[Projection]) -> String {
    let mut doc = projection_json(&ps[0]);
    if ps.len() > 1 {
        doc["variants"] = Value::Array(ps.iter().map(projection_json).collect());
    }
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// One decimal for the whole column as soon as one cell needs it, separators in every cell.
    #[test]
    fn a_sessions_column_has_one_format() {
        // 3,338.04 -> 3,338.0 (one decimal, as 3,217.06 needs: 3,217.1); the sum
        // 3,338.04 + 3,217.06 = 6,555.10 -> 6,555.1.
        let col = [d("3338.04"), d("3217.06"), d("6555.10")];
        assert_eq!(sessions_cells(&col), ["3,338.0", "3,217.1", "6,555.1"]);
        // Every cell whole at one decimal (2,999.96 -> 3,000.0): no decimals at all.
        let col = [d("2999.96"), d("1000"), d("3999.96")];
        assert_eq!(sessions_cells(&col), ["3,000", "1,000", "4,000"]);
        // Below a thousand no separator; 0.25 -> 0.2 (half to even, as before), 12.35 -> 12.4.
        let col = [d("0.25"), d("12.35"), d("999")];
        assert_eq!(sessions_cells(&col), ["0.2", "12.4", "999.0"]);
    }
}
