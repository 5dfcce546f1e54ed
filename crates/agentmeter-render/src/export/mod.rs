//! Exporters: one per output format (as hyperfine has them). Each turns a report into text.

pub mod columns;
pub mod csv;
pub mod focus;
pub mod json;
pub mod markdown;
pub mod parquet;
pub mod projection;
pub mod table;

use crate::category::CostColumn;
use crate::error::Error;
use crate::money::{count, duration, usd};
use crate::rate::Cost;
use crate::report::MeterReport;
use rust_decimal::Decimal;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
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
        Format::Table => table::write(&grid(report), w),
        Format::Markdown => markdown::write(&grid(report), w),
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

/// A table of cells shared by the terminal, markdown and HTML exporters. Its rows are cells
/// in memory, or (for the meter's table, a row per session) made from the report as they are
/// visited, so a fleet's table is never held as cells.
pub struct Grid<R: Rows = Vec<Vec<String>>> {
    pub header: Vec<String>,
    /// Which columns are numbers (right-aligned).
    pub numeric: Vec<bool>,
    pub rows: R,
    pub total: Vec<String>,
}

/// A table's body, visited in order as often as a renderer needs (the terminal table twice:
/// widths, then text).
pub trait Rows {
    fn each(&self, f: &mut dyn FnMut(&[String]));
}

impl Rows for Vec<Vec<String>> {
    fn each(&self, f: &mut dyn FnMut(&[String])) {
        for r in self {
            f(r);
        }
    }
}

impl<R: Rows> Grid<R> {
    /// The same table with its rows as cells in memory.
    pub fn materialize(self) -> Grid {
        let mut rows = Vec::new();
        self.rows.each(&mut |r| rows.push(r.to_vec()));
        Grid {
            header: self.header,
            numeric: self.numeric,
            rows,
            total: self.total,
        }
    }
}

/// The meter table's body: a row per session, or per group; `compact`: the narrow columns.
pub struct MeterRows<'r>(&'r MeterReport<'r>, bool);

impl Rows for MeterRows<'_> {
    fn each(&self, f: &mut dyn FnMut(&[String])) {
        let compact = self.1;
        let with_money = |mut cells: Vec<String>, cost: &Cost| {
            cells.extend(money_cells(cost, compact));
            cells
        };
        match &self.0.groups {
            None => {
                let terms = self.0.billing.map(|b| &b.sessions);
                for (i, s) in self.0.sessions.iter().enumerate() {
                    let mut cells = vec![session_cell(s), model_cell(s)];
                    if !compact {
                        cells.extend([
                            duration(s.quantities.active_ms),
                            count(s.quantities.requests),
                        ]);
                    }
                    if self.0.show_tokens {
                        cells.extend(token_cells(&s.quantities.tokens));
                    }
                    let mut cells = with_money(cells, &s.cost);
                    if let Some(t) = terms {
                        cells.push(usd(t[i].cost.total()));
                    }
                    f(&cells);
                }
            }
            Some((_, groups)) => {
                let budgets = any_budget(self.0);
                for g in groups {
                    let mut cells = g.keys.clone();
                    cells.push(count(g.sessions));
                    if !compact {
                        cells.push(duration(g.sums.active_ms()));
                    }
                    if self.0.show_tokens {
                        cells.extend(token_cells(&g.sums.tokens()));
                    }
                    let mut cells = with_money(cells, &g.sums.cost());
                    if self.0.billing.is_some() {
                        cells.push(usd(g.contracted.unwrap_or_default().total()));
                    }
                    if budgets {
                        cells.extend([count(g.budgets_over_80), count(g.budgets_reached)]);
                    }
                    f(&cells);
                }
            }
        }
    }
}

/// The `--tokens` headers: one per token column (cache writes of both TTLs together).
fn token_headers() -> impl Iterator<Item = String> {
    CostColumn::tokens().filter_map(|c| c.row().token_label.map(String::from))
}

fn token_cells(t: &crate::usage::Tokens) -> Vec<String> {
    CostColumn::tokens()
        .map(|col| {
            let n = (col.categories()).fold(0u64, |a, c| a.saturating_add(t.get(c)));
            count(n)
        })
        .collect()
}

/// The narrow table's amount columns: each label with the cost columns it adds up (input
/// with its cache writes and reads), in the table's order.
fn compact_columns() -> Vec<(&'static str, Vec<CostColumn>)> {
    let mut out: Vec<(&'static str, Vec<CostColumn>)> = Vec::new();
    for c in CostColumn::ALL {
        let label = c.row().compact_label;
        match out.iter_mut().find(|(l, _)| *l == label) {
            Some((_, cols)) => cols.push(c),
            None => out.push((label, vec![c])),
        }
    }
    out
}

fn money_cells(c: &Cost, compact: bool) -> Vec<String> {
    if compact {
        return compact_columns()
            .into_iter()
            .map(|(_, cols)| {
                let mut amounts = cols.into_iter().map(|k| c[k]);
                let first = amounts.next().unwrap_or_default();
                amounts.fold(first, |a, b| a + b)
            })
            .chain([c.total()])
            .map(usd)
            .collect();
    }
    c.values().copied().chain([c.total()]).map(usd).collect()
}

/// The amount headers: a column per cost column (narrow: per compact label), then the total.
fn money_headers(compact: bool) -> Vec<String> {
    let labels: Vec<&str> = if compact {
        compact_columns().into_iter().map(|(l, _)| l).collect()
    } else {
        CostColumn::ALL.iter().map(|c| c.label()).collect()
    };
    labels
        .into_iter()
        .chain(["Total"])
        .map(String::from)
        .collect()
}

pub fn grid<'r>(report: &'r MeterReport<'r>) -> Grid<MeterRows<'r>> {
    meter_grid(report, false)
}

/// The meter table for a terminal `max` characters wide: every column if it fits, else the
/// narrow columns (input with its cache traffic in one), which the table writer then cuts
/// further if it must.
pub fn grid_within<'r>(report: &'r MeterReport<'r>, max: usize) -> Grid<MeterRows<'r>> {
    let full = meter_grid(report, false);
    let mut width = vec![0usize; full.header.len()];
    let mut measure = |row: &[String]| {
        for (i, c) in row.iter().enumerate() {
            width[i] = width[i].max(c.chars().count());
        }
    };
    measure(&full.header);
    full.rows.each(&mut measure);
    measure(&full.total);
    let natural = width.iter().sum::<usize>() + 2 * width.len().saturating_sub(1);
    if natural <= max {
        full
    } else {
        meter_grid(report, true)
    }
}

fn meter_grid<'r>(report: &'r MeterReport<'r>, compact: bool) -> Grid<MeterRows<'r>> {
    let t = &report.totals;
    let (lead, numeric, total): (Vec<String>, Vec<bool>, Vec<String>) = match &report.groups {
        // The narrow table leaves out the running time and request count (runtime's cost
        // stays).
        None if compact => (
            vec!["Session".into(), "Model".into()],
            vec![false, false],
            vec![
                format!("Total ({} sessions)", count(t.sessions)),
                String::new(),
            ],
        ),
        None => (
            ["Session", "Model", "Active", "Requests"]
                .map(String::from)
                .to_vec(),
            vec![false, false, true, true],
            vec![
                format!("Total ({} sessions)", count(t.sessions)),
                String::new(),
                duration(t.active_ms),
                count(t.requests),
            ],
        ),
        Some((by, _)) => {
            // One column per grouping key.
            let mut lead: Vec<String> = by.iter().map(|b| capitalize(b.name())).collect();
            let mut numeric = vec![false; by.len()];
            let mut total = vec![String::new(); by.len()];
            total[0] = "Total".into();
            lead.push("Sessions".into());
            numeric.push(true);
            total.push(count(t.sessions));
            if !compact {
                lead.push("Active".into());
                numeric.push(true);
                total.push(duration(t.active_ms));
            }
            (lead, numeric, total)
        }
    };
    let mut header = lead;
    let mut numeric = numeric;
    let mut total = total;
    if report.show_tokens {
        let tokens: Vec<String> = token_headers().collect();
        numeric.extend(std::iter::repeat_n(true, tokens.len()));
        header.extend(tokens);
        total.extend(token_cells(&t.tokens));
    }
    let money = money_headers(compact);
    numeric.extend(std::iter::repeat_n(true, money.len()));
    header.extend(money);
    total.extend(money_cells(&t.cost, compact));
    // The contracted figure beside the list total, per session or group (the notes give the
    // contract's monthly terms).
    if let Some(b) = report.billing {
        header.push("Contracted".into());
        numeric.push(true);
        total.push(usd(b.contracted.total()));
    }
    // Group rows count the sessions whose budget is flagged, when any session has one.
    if report.groups.is_some() && any_budget(report) {
        let flags: Vec<BudgetStatus> = (report.sessions.iter())
            .filter_map(BudgetStatus::of)
            .filter(BudgetStatus::flagged)
            .collect();
        let reached = flags.iter().filter(|b| b.reached).count();
        header.extend([format!("Budget >={BUDGET_FLAG_PCT}%"), "Reached".into()]);
        numeric.extend([true, true]);
        total.extend([count(flags.len() as u64), count(reached as u64)]);
    }
    Grid {
        header,
        numeric,
        rows: MeterRows(report, compact),
        total,
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

pub use crate::rate::{BudgetStatus, BUDGET_FLAG_PCT};

fn any_budget(report: &MeterReport) -> bool {
    report.sessions.iter().any(|s| s.usage.budget.is_some())
}

/// The session cell: its id, and a marker when its budget is flagged.
fn session_cell(s: &crate::rate::RatedSession) -> String {
    match BudgetStatus::of(s).filter(BudgetStatus::flagged) {
        Some(b) => format!("{} {}", s.usage.session_id, b.marker()),
        None => s.usage.session_id.to_string(),
    }
}

/// The note listing the sessions whose budget is flagged.
fn budget_note(report: &MeterReport) -> Option<String> {
    let flagged: Vec<String> = (report.sessions.iter())
        .filter_map(|s| {
            let b = BudgetStatus::of(s).filter(BudgetStatus::flagged)?;
            let of = b
                .max
                .map_or_else(String::new, |m| format!(" of {}", usd(m)));
            Some(match (b.reached, b.used_pct_shown()) {
                (_, Some(p)) => format!(
                    "{} {p:.1}%{of}{}",
                    s.usage.session_id,
                    if b.reached { " (reached)" } else { "" }
                ),
                (_, None) => format!("{} reached{of}", s.usage.session_id),
            })
        })
        .collect();
    (!flagged.is_empty()).then(|| {
        format!(
            "note: {} session(s) at or over {BUDGET_FLAG_PCT}% of their budget (list cost against budget.max_list_cost): {}",
            flagged.len(),
            flagged.join(", ")
        )
    })
}

/// Notes that follow a table: warnings, skipped records, dropped duplicates. Never content.
pub fn notes(report: &MeterReport) -> Vec<String> {
    let mut out = Vec::new();
    for s in report.sessions {
        for w in &s.warnings {
            out.push(format!("warning: {}: {w}", s.usage.session_id));
        }
    }
    out.extend(budget_note(report));
    if let Some(note) = after_checked(report) {
        out.push(note);
    }
    if let Some(b) = report.billing {
        out.extend(contract_notes(b, report.totals.cost.total()));
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
            "note: {} queued event(s) (user.* or system.message with processed_at: null) not metered yet",
            report.summary.queued_events
        ));
    }
    let d = &report.summary.transcript_dropped;
    for (n, what) in [
        (d.duplicates, "duplicate Claude Code request line(s) dropped (same message.id and requestId: streaming snapshots, resumed sessions; the non-sidechain copy with the most tokens counts)"),
        (d.sidechain_replays, "sidechain replay(s) of a message already counted dropped"),
        (d.synthetic, "<synthetic> model line(s) skipped (written by Claude Code, not billed)"),
        (d.api_errors, "API error line(s) skipped (the request failed)"),
        (d.progress_copies, "progress line(s) carrying a subagent's request not counted again (the subagent's own file has it)"),
        (d.other_types, "line(s) with usage of a type that is not a request (user, metadata) skipped"),
        (report.summary.unselected_sessions, "session(s) with no usage in --since/--until/--project left out"),
    ] {
        if n > 0 {
            out.push(format!("note: {n} {what}"));
        }
    }
    for a in &report.totals.advisor {
        out.push(format!(
            "note: advisor consultations at {}: {} ({} consultation(s); included above)",
            a.model,
            usd(a.cost),
            count(a.consultations)
        ));
    }
    let reported: Vec<_> = (report.sessions.iter())
        .filter_map(|s| {
            Some((
                s.usage.provider_reported.as_ref()?.list_cost_usd?,
                s.cost.total(),
            ))
        })
        .collect();
    if !reported.is_empty() {
        let (theirs, ours) = reported
            .iter()
            .fold((Decimal::ZERO, Decimal::ZERO), |(t, o), (a, b)| {
                (t + a, o + b)
            });
        out.push(format!(
            "note: {} session(s) carry their own cost figure (the API's list_cost, or Claude Code's costUSD estimate): {} in all, against {} computed here (`agentmeter reconcile` compares them session by session)",
            count(reported.len() as u64),
            usd(theirs),
            usd(ours)
        ));
    }
    const EMPTY_SHOWN: usize = 10;
    if let Some(s) = report.summary.shard {
        out.push(match s.by {
            crate::meter::ShardBy::File => format!(
                "note: shard {}/{} by file: {} of {} file(s) read ({}); a session whose files fall in different shards is counted in part by each, so merged outputs show its id more than once",
                s.index, s.of, count(s.files), count(s.all_files), crate::progress::bytes(s.bytes)
            ),
            crate::meter::ShardBy::Session => format!(
                "note: shard {}/{} by session: every file read ({}), the other shards' sessions left out",
                s.index, s.of, crate::progress::bytes(s.bytes)
            ),
        });
    }
    for p in &report.summary.passed_over {
        out.push(format!("note: {p}"));
    }
    for e in report.summary.empty_files.iter().take(EMPTY_SHOWN) {
        out.push(format!("note: {e}"));
    }
    if report.summary.empty_files.len() > EMPTY_SHOWN {
        out.push(format!(
            "note: and {} more file(s) with nothing to meter (--format json lists them all)",
            report.summary.empty_files.len() - EMPTY_SHOWN
        ));
    }
    for e in &report.summary.stream_errors {
        out.push(format!(
            "warning: {e}: SSE error frame: the stream broke here; later events may be missing"
        ));
    }
    if report.skipped.total > 0 {
        out.push(format!(
            "warning: {} invalid record(s) skipped:",
            count(report.skipped.total)
        ));
        for s in &report.skipped.kept {
            let at = s
                .origin
                .as_ref()
                .map(|o| format!("{o}: "))
                .unwrap_or_default();
            out.push(format!("  {at}{}", s.reason));
        }
        if report.skipped.not_kept() > 0 {
            out.push(format!(
                "  ... and {} more (the first {} in input order are listed)",
                count(report.skipped.not_kept()),
                report.skipped.kept.len()
            ));
        }
    }
    out
}

/// What the contract changed: the totals, each month's shortfall, each credit's use.
pub fn contract_notes(b: &crate::contract::Billing, list: Decimal) -> Vec<String> {
    let c = b.contract;
    let mut out = vec![format!(
        "note: contract {} ({}): list {}, contracted {}, commitment shortfall {}, credits used {}: billed {}",
        c.version,
        c.origin,
        usd(list),
        usd(b.contracted.total()),
        usd(b.shortfall),
        usd(b.credits_used),
        usd(b.billed)
    )];
    for m in b.months.iter().filter(|m| m.shortfall > Decimal::ZERO) {
        if let Some((i, min)) = m.commitment {
            out.push(format!(
                "note: {}: contracted {} is below the monthly minimum {} ({}): shortfall {} billed",
                m.first.format("%Y-%m"),
                usd(m.contracted),
                usd(min),
                c.commitment_ref(i),
                usd(m.shortfall)
            ));
        }
    }
    for (i, (k, u)) in c.credits.iter().zip(&b.credits).enumerate() {
        out.push(format!(
            "note: {}: {} of {} used, {} left (expires {})",
            c.credit_ref(i),
            usd(u.used),
            usd(k.amount),
            usd(u.remaining),
            k.expires
        ));
    }
    out
}

/// Usage dated after the price table's `checked` date may have prices the table does not know:
/// name the models concerned.
fn after_checked(report: &MeterReport) -> Option<String> {
    let end = report.table.checked_end()?;
    let mut models: Vec<&str> = report
        .sessions
        .iter()
        .flat_map(|s| &s.model_last_at)
        .filter(|(_, at)| *at >= end)
        .map(|(m, _)| &**m)
        .collect();
    models.sort_unstable();
    models.dedup();
    (!models.is_empty()).then(|| {
        format!(
            "note: prices checked {}; usage of {} after that date: run `agentmeter pricing audit` against current price files (or read the pricing page) to see whether its prices changed",
            report.table.checked.as_deref().unwrap_or_default(),
            models.join(", ")
        )
    })
}
