//! Exporters: one per output format (as hyperfine has them). Each turns a report into text.

pub mod columns;
pub mod csv;
pub mod focus;
pub mod json;
pub mod markdown;
pub mod projection;
pub mod table;

use crate::error::Error;
use crate::money::{count, duration, usd};
use crate::rate::Cost;
use crate::report::MeterReport;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned terminal table, amounts to the cent.
    #[default]
    Table,
    /// The agentmeter/meter-v1 JSON schema, amounts unrounded.
    Json,
    /// One row per session (or group) and charge category, amounts unrounded.
    Csv,
    /// The table as GitHub-flavoured markdown.
    Markdown,
}

pub fn render(report: &MeterReport, format: Format) -> crate::error::Result<String> {
    let mut out = Vec::new();
    render_to(report, format, &mut out).map_err(|e| Error::new(format!("rendering: {e}")))?;
    Ok(String::from_utf8(out).expect("every exporter writes UTF-8"))
}

/// Write the report to `w`; JSON and CSV are written session by session.
pub fn render_to(
    report: &MeterReport,
    format: Format,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Table => w.write_all(table::render(&grid(report)).as_bytes()),
        Format::Markdown => w.write_all(markdown::render(&grid(report)).as_bytes()),
        Format::Json => json::render_to(report, w),
        Format::Csv => csv::render_to(report, w),
    }
}

/// Titled tables and notes as terminal text or markdown (JSON is each command's own).
pub fn render_tables(format: Format, tables: &[(String, Grid)], notes: &[String]) -> String {
    let mut out = String::new();
    for (title, g) in tables {
        match format {
            Format::Markdown => out.push_str(&format!("### {title}\n\n{}\n", markdown::render(g))),
            _ => out.push_str(&format!("{title}\n{}\n", table::render(g))),
        }
    }
    for n in notes {
        out.push_str(n);
        out.push('\n');
    }
    out
}

/// A table of cells shared by the terminal and markdown exporters.
pub struct Grid {
    pub header: Vec<String>,
    /// Which columns are numbers (right-aligned).
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
    pub total: Vec<String>,
}

fn money_cells(c: &Cost) -> Vec<String> {
    c.parts().into_iter().chain([c.total()]).map(usd).collect()
}

const MONEY_HEADERS: [&str; 7] = [
    "Runtime",
    "Input",
    "Output",
    "Cache write",
    "Cache read",
    "Web search",
    "Total",
];

/// A row's leading cells and the amounts that follow them.
type Row = (Vec<String>, Cost);

pub fn grid(report: &MeterReport) -> Grid {
    let t = &report.totals;
    // Each row: its leading cells, then the money columns.
    let (lead, numeric, rows, total): (Vec<String>, Vec<bool>, Vec<Row>, Vec<String>) =
        match &report.groups {
            None => (
                ["Session", "Model", "Active", "Requests"]
                    .map(String::from)
                    .to_vec(),
                vec![false, false, true, true],
                report
                    .sessions
                    .iter()
                    .map(|s| {
                        let cells = vec![
                            s.usage.session_id.to_string(),
                            model_cell(s),
                            duration(s.quantities.active_ms),
                            count(s.quantities.requests),
                        ];
                        (cells, s.cost)
                    })
                    .collect(),
                vec![
                    format!("Total ({} sessions)", count(t.sessions)),
                    String::new(),
                    duration(t.active_ms),
                    count(t.requests),
                ],
            ),
            Some((by, groups)) => {
                // One column per grouping key.
                let mut lead: Vec<String> = by.iter().map(|b| capitalize(b.name())).collect();
                let mut numeric = vec![false; by.len()];
                let mut total = vec![String::new(); by.len()];
                total[0] = "Total".into();
                lead.extend(["Sessions".into(), "Active".into()]);
                numeric.extend([true, true]);
                total.extend([count(t.sessions), duration(t.active_ms)]);
                let rows = groups
                    .iter()
                    .map(|g| {
                        let mut cells = g.keys.clone();
                        cells.extend([count(g.sessions), duration(g.sums.active_ms())]);
                        (cells, g.sums.cost())
                    })
                    .collect();
                (lead, numeric, rows, total)
            }
        };
    let with_money = |mut cells: Vec<String>, cost: &Cost| {
        cells.extend(money_cells(cost));
        cells
    };
    let mut header = lead;
    header.extend(MONEY_HEADERS.map(String::from));
    let mut numeric = numeric;
    numeric.extend([true; 7]);
    Grid {
        header,
        numeric,
        rows: rows
            .into_iter()
            .map(|(cells, cost)| with_money(cells, &cost))
            .collect(),
        total: with_money(total, &t.cost),
    }
}

/// The session's own model first, and how many others its threads used: "claude-opus-4-6 +2".
fn model_cell(s: &crate::rate::RatedSession) -> String {
    let main = s
        .usage
        .model
        .as_deref()
        .filter(|m| s.models.iter().any(|x| &**x == *m))
        .or(s.models.first().map(|m| &**m));
    match (main, s.models.len()) {
        (None, _) => "-".into(),
        (Some(m), n) if n > 1 => format!("{m} +{}", n - 1),
        (Some(m), _) => m.to_string(),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Notes that follow a table: warnings, skipped records, dropped duplicates. Never content.
pub fn notes(report: &MeterReport) -> Vec<String> {
    let mut out = Vec::new();
    for s in report.sessions {
        for w in &s.warnings {
            out.push(format!("warning: {}: {w}", s.usage.session_id));
        }
    }
    if report.duplicate_events > 0 {
        out.push(format!(
            "note: {} duplicate event(s) dropped (same id; the first copy counts)",
            report.duplicate_events
        ));
    }
    let reordered: u64 = report
        .sessions
        .iter()
        .map(|s| s.usage.out_of_order_events)
        .sum();
    if reordered > 0 {
        out.push(format!("note: {reordered} event(s) came earlier in processed_at than the line before them; events were ordered by processed_at"));
    }
    if report.summary.queued_events > 0 {
        out.push(format!(
            "note: {} queued user event(s) (processed_at: null) not metered yet",
            report.summary.queued_events
        ));
    }
    let d = &report.summary.transcript_dropped;
    for (n, what) in [
        (d.duplicates, "duplicate Claude Code request line(s) dropped (same message.id and requestId: streaming snapshots, resumed sessions; the non-sidechain copy with the most tokens counts)"),
        (d.sidechain_replays, "sidechain replay(s) of a message already counted dropped"),
        (d.synthetic, "<synthetic> model line(s) skipped (written by Claude Code, not billed)"),
        (d.api_errors, "API error line(s) skipped (the request failed)"),
        (report.summary.unselected_sessions, "session(s) with no usage in --since/--until/--project left out"),
    ] {
        if n > 0 {
            out.push(format!("note: {n} {what}"));
        }
    }
    for e in &report.summary.stream_errors {
        out.push(format!(
            "warning: {e}: SSE error frame: the stream broke here; later events may be missing"
        ));
    }
    if !report.skipped.is_empty() {
        out.push(format!(
            "warning: {} invalid record(s) skipped:",
            report.skipped.len()
        ));
        for s in report.skipped {
            let at = s
                .origin
                .as_ref()
                .map(|o| format!("{o}: "))
                .unwrap_or_default();
            out.push(format!("  {at}{}", s.reason));
        }
    }
    out
}
