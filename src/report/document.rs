//! A report directory: `index.html` (self-contained: inline SVG charts and tables),
//! `report.md`, the data as CSV and JSON, and every chart as PNG and SVG.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rust_decimal::prelude::*;

use super::chart::{self, Chart};
use super::{GroupRow, MeterReport};
use crate::error::{Error, Result};
use crate::export::{self, projection, Grid};
use crate::money::exact;
use crate::output::{self, Output};
use crate::project::{Projection, COST_CATEGORIES};

/// A part of a report: a heading, tables (each with an optional heading) and notes.
pub struct Section {
    pub title: String,
    pub tables: Vec<(Option<String>, Grid)>,
    pub notes: Vec<String>,
}

/// What goes into a report: sections, charts and data files, whatever produced them.
#[derive(Default)]
pub struct Report {
    pub name: String,
    /// Input files and scenarios, as given.
    pub inputs: Vec<String>,
    pub pricing_versions: Vec<String>,
    pub sections: Vec<Section>,
    pub charts: Vec<(&'static str, Chart)>,
    /// (file name, contents) of the data behind it.
    pub data: Vec<(String, String)>,
}

impl Report {
    pub fn new(name: String, inputs: Vec<String>) -> Self {
        Report {
            name,
            inputs,
            ..Default::default()
        }
    }

    /// Metered sessions: their table, data (JSON, CSV, daily CSV) and charts.
    pub fn add_meter(&mut self, m: &MeterReport, days: &[GroupRow]) -> Result<()> {
        self.pricing_versions.push(m.table.version.clone());
        self.sections.push(Section {
            title: "Metered sessions".into(),
            tables: vec![(None, export::grid(m).materialize())],
            notes: Vec::new(),
        });
        self.data
            .push(("meter.json".into(), export::json::render(m)));
        self.data
            .push(("meter.csv".into(), export::csv::render(m)?));
        let daily = MeterReport {
            groups: Some((vec![super::GroupBy::Day], days.to_vec())),
            ..m.clone()
        };
        self.data
            .push(("daily.csv".into(), export::csv::render(&daily)?));
        self.charts.extend(meter_charts(m, days));
        Ok(())
    }

    /// Projections (one per model): their tables, data and charts.
    pub fn add_projections(&mut self, ps: &[Projection]) {
        if ps.is_empty() {
            return;
        }
        self.pricing_versions
            .extend(ps.iter().map(|p| p.pricing_version.clone()));
        let tables = ps
            .iter()
            .flat_map(|p| projection::grids(p).into_iter().map(|(t, g)| (Some(t), g)))
            .collect();
        let notes = ps.iter().flat_map(|p| p.notes.iter().cloned()).collect();
        self.sections.push(Section {
            title: "Projection".into(),
            tables,
            notes,
        });
        self.data
            .push(("projection.json".into(), projection::json_doc(ps)));
        self.data
            .push(("projection.csv".into(), projection_csv(ps)));
        self.charts.extend(projection_charts(ps));
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

pub fn html_table(g: &Grid) -> String {
    let mut s = String::from("<table>\n<thead><tr>");
    for (h, n) in g.header.iter().zip(&g.numeric) {
        let _ = write!(
            s,
            "<th{}>{}</th>",
            if *n { " class=\"n\"" } else { "" },
            esc(h)
        );
    }
    s.push_str("</tr></thead>\n<tbody>\n");
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
    s.push_str("</tbody></table>\n");
    s
}

/// Charts of the meter part: cost by category per model, and spend per day.
fn meter_charts(m: &MeterReport, days: &[GroupRow]) -> Vec<(&'static str, Chart)> {
    let mut models: Vec<String> = Vec::new();
    let mut by_model: Vec<[f64; 6]> = Vec::new();
    for s in m.sessions {
        for i in &s.items {
            let key = i.model.as_deref().unwrap_or("(none)").to_string();
            let k = models.iter().position(|x| *x == key).unwrap_or_else(|| {
                models.push(key);
                by_model.push([0.0; 6]);
                models.len() - 1
            });
            let mut c = crate::rate::Cost::default();
            c.add_item(i.category, i.amount);
            for (slot, v) in by_model[k].iter_mut().zip(c.parts()) {
                *slot += f(v);
            }
        }
    }
    let series = COST_CATEGORIES
        .iter()
        .enumerate()
        .map(|(c, name)| (name.to_string(), by_model.iter().map(|m| m[c]).collect()))
        .collect();
    vec![
        (
            "cost-by-category",
            Chart::Stacked {
                title: "Cost by charge category, per model".into(),
                groups: models,
                series,
            },
        ),
        ("daily-spend", daily_chart(days)),
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

/// Charts of the projection part.
fn projection_charts(ps: &[Projection]) -> Vec<(&'static str, Chart)> {
    let p = &ps[0];
    let months: Vec<String> = p
        .months
        .iter()
        .map(|m| m.month.format("%Y-%m").to_string())
        .collect();
    let mut out = vec![
        (
            "projection-fan",
            Chart::Fan {
                title: format!("{}: spend per month (p5-p95, p50, expected)", p.scenario),
                months,
                p5: p.months.iter().map(|m| f(m.stats.p5)).collect(),
                p50: p.months.iter().map(|m| f(m.stats.p50)).collect(),
                p95: p.months.iter().map(|m| f(m.stats.p95)).collect(),
                expected: p.months.iter().map(|m| f(m.stats.expected)).collect(),
            },
        ),
        (
            "projection-histogram",
            Chart::Histogram {
                title: format!(
                    "{}: simulated totals over {} months ({} runs)",
                    p.scenario,
                    p.months.len(),
                    p.runs
                ),
                bins: p.histogram.clone(),
                p50: f(p.total.p50),
                p95: f(p.total.p95),
            },
        ),
        (
            "projection-by-agent",
            Chart::Stacked {
                title: format!(
                    "{}: expected cost by charge category, per agent",
                    p.scenario
                ),
                groups: p.agents.iter().map(|a| a.name.clone()).collect(),
                series: COST_CATEGORIES
                    .iter()
                    .enumerate()
                    .map(|(c, name)| {
                        (
                            name.to_string(),
                            p.agents.iter().map(|a| f(a.by_category[c])).collect(),
                        )
                    })
                    .collect(),
            },
        ),
    ];
    if ps.len() > 1 {
        out.push((
            "model-comparison",
            Chart::Comparison {
                title: format!("{}: the same scenario on each model", p.scenario),
                labels: ps
                    .iter()
                    .map(|p| p.variant.clone().unwrap_or_else(|| "as given".into()))
                    .collect(),
                expected: ps.iter().map(|p| f(p.total.expected)).collect(),
                p5: ps.iter().map(|p| f(p.total.p5)).collect(),
                p95: ps.iter().map(|p| f(p.total.p95)).collect(),
            },
        ));
    }
    out
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

/// Write the report as the directory `to` (replaced whole, and only a report, with `force`):
/// the files written, as paths under `to`.
pub fn write(to: &Path, r: &Report, force: bool) -> Result<Vec<PathBuf>> {
    let written = Output::new(Some(to), force).write_dir(&output::REPORT, |dir| {
        let mut written = Vec::new();
        write_into(dir, r, &mut written)?;
        Ok(written
            .iter()
            .filter_map(|p| p.strip_prefix(dir).ok().map(|rel| to.join(rel)))
            .collect())
    })?;
    Ok(written)
}

fn write_into(dir: &Path, r: &Report, written: &mut Vec<PathBuf>) -> Result<()> {
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
         table{{border-collapse:collapse;margin:1em 0;font-size:14px}}th,td{{padding:4px 10px;border-bottom:1px solid #ddd}}\
         th{{background:#f4f4f4;text-align:left}}td.n,th.n{{text-align:right;font-variant-numeric:tabular-nums}}\
         tr.total td{{font-weight:bold;border-top:2px solid #999}}figure{{margin:1.5em 0}}svg{{max-width:100%;height:auto}}\
         .meta{{color:#555;font-size:14px}}</style></head><body>\n<h1>{0}</h1>\n<p class=\"meta\">{1}</p>\n",
        esc(&r.name),
        esc(&meta)
    );
    let mut md = format!("# {}\n\n{meta}\n\n", r.name);
    for sec in &r.sections {
        let _ = writeln!(html, "<h2>{}</h2>", esc(&sec.title));
        let _ = write!(md, "## {}\n\n", sec.title);
        for (title, g) in &sec.tables {
            if let Some(t) = title {
                let _ = writeln!(html, "<h3>{}</h3>", esc(t));
                let _ = write!(md, "### {t}\n\n");
            }
            html.push_str(&html_table(g));
            let _ = writeln!(md, "{}", export::markdown::render(g));
        }
        for n in &sec.notes {
            let _ = writeln!(html, "<p class=\"meta\">Note: {}</p>", esc(n));
            let _ = writeln!(md, "Note: {n}\n");
        }
    }
    for (name, contents) in &r.data {
        write_file(dir, name, contents, written)?;
    }
    if !r.charts.is_empty() {
        html.push_str("<h2>Charts</h2>\n");
        md.push_str("## Charts\n\n");
    }
    for (name, c) in &r.charts {
        let svg = chart::to_svg(c)?;
        write_file(dir, &format!("{name}.svg"), &svg, written)?;
        let png = dir.join(format!("{name}.png"));
        chart::to_png(c, &png)?;
        written.push(png);
        let _ = write!(
            html,
            "<figure>\n{svg}\n<figcaption>{}</figcaption></figure>\n",
            esc(c.title())
        );
        let _ = writeln!(md, "![{}]({name}.png)\n", c.title());
    }
    html.push_str("</body></html>\n");
    write_file(dir, "report.md", &md, written)?;
    write_file(dir, "index.html", &html, written)
}
