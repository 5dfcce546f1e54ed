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
    format!(
        "Projection of {}{model}: {} months from {}, {} runs (seed {}), prices {}",
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
    let agents = grid(
        &["Agent", "Model"],
        p.agents
            .iter()
            .map(|a| (vec![a.name.clone(), a.model.clone()], &a.stats))
            .collect(),
        None,
    );
    let cats = grid(
        &["Category"],
        (p.categories.iter())
            .map(|(c, s)| (vec![c.key().to_string()], s))
            .collect(),
        None,
    );
    vec![
        (title(p), months),
        ("By agent, over the horizon".into(), agents),
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
    }
    out
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

pub fn projection_json(p: &Projection) -> Value {
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
        "agents": p.agents.iter().map(|a| with(json!({"name": a.name, "model": a.model}), stats_json(&a.stats))).collect::<Vec<_>>(),
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
