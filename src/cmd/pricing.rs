//! `agentmeter pricing list|show|check|diff|audit`: the price tables as a user sees them.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::error::{Error, Result};
use crate::money::exact;
use crate::pricing::check::{parse_and_check, Level, Problem};
use crate::pricing::json::{AuditDoc, ListDoc};
use crate::pricing::{audit, diff, PriceRow, PriceTable};
use crate::time::{format_ms, parse_date, parse_date_or_timestamp};

#[derive(Subcommand, Debug)]
pub enum PricingCommand {
    /// The models and the rows in force at a date (default: now).
    #[command(after_help = "Example:\n  agentmeter pricing list --at 2026-03-01")]
    List(ListArgs),
    /// One model's full price history (by id or alias).
    #[command(after_help = "Example:\n  agentmeter pricing show claude-opus-4-6")]
    Show(ShowArgs),
    /// Validate a price table: schema, sorted dates, duplicate ids or aliases, usual ratios,
    /// and a `checked` date more than 30 days old.
    #[command(
        after_help = "Exit code 0 when the table is usable (warnings allowed), 2 when it has errors."
    )]
    Check(CheckArgs),
    /// What changed between two price tables.
    Diff(DiffArgs),
    /// Compare the table with price files you downloaded (genai-prices, LiteLLM), offline.
    #[command(after_help = "Examples:\n  \
        agentmeter pricing audit --genai-prices anthropic.yml --litellm model_prices_and_context_window.json\n  \
        agentmeter pricing audit --litellm model_prices_and_context_window.json --at 2026-06-01 -f json\n\n\
        Lists every model and rate where a file disagrees with the table, and the Claude models a \
        file has that the table lacks. Fast rates, web search and the US multiplier are compared \
        only where the file states them.\n\n\
        Exit code 0 when everything agrees, 1 when there are disagreements or missing models, \
        2 on bad input.")]
    Audit(AuditArgs),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    #[default]
    Table,
    Json,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// A date (2026-06-01) or RFC 3339 instant; default: now.
    #[arg(long, value_name = "DATE")]
    pub at: Option<String>,
    #[command(flatten)]
    pub table: super::PricingArg,
    /// Output format: a table, or JSON.
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// Model id or alias.
    pub model: String,
    #[command(flatten)]
    pub table: super::PricingArg,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The price table to validate.
    pub file: PathBuf,
    /// The date to measure the table's `checked` date against (default: today, UTC).
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// pydantic genai-prices' `prices/providers/anthropic.yml`.
    #[arg(long, value_name = "FILE")]
    pub genai_prices: Option<PathBuf>,
    /// BerriAI LiteLLM's `model_prices_and_context_window.json` (its Anthropic models).
    #[arg(long, value_name = "FILE")]
    pub litellm: Option<PathBuf>,
    /// Compare the prices in force at this date (2026-06-01) or RFC 3339 instant; default: now.
    #[arg(long, value_name = "DATE")]
    pub at: Option<String>,
    #[command(flatten)]
    pub table: super::PricingArg,
    /// Output format: a table, or JSON (schema agentmeter/pricing-audit-v1).
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The older price table (TOML).
    pub old: PathBuf,
    /// The newer price table (TOML): each price row it adds, removes or changes is listed.
    pub new: PathBuf,
}

pub fn run(c: PricingCommand) -> Result<i32> {
    match c {
        PricingCommand::List(a) => list(a),
        PricingCommand::Show(a) => show(a),
        PricingCommand::Check(a) => check(a),
        PricingCommand::Audit(a) => audit(a),
        PricingCommand::Diff(a) => {
            let old = PriceTable::load(&a.old)?;
            let new = PriceTable::load(&a.new)?;
            let changes = diff::diff(&old, &new);
            crate::put!("{} -> {}", old.version, new.version);
            if changes.is_empty() {
                crate::put!("no price changes");
            }
            for ch in changes {
                crate::put!("{ch}");
            }
            Ok(0)
        }
    }
}

fn extras(r: &PriceRow) -> String {
    let mut parts = Vec::new();
    if let Some(l) = &r.long_context {
        parts.push(format!(
            ">{}K: {}/{}",
            l.threshold_input_tokens / 1000,
            exact(l.rates.input),
            exact(l.rates.output)
        ));
    }
    if let Some(f) = &r.fast {
        parts.push(format!("fast: {}/{}", exact(f.input), exact(f.output)));
    }
    parts.join("; ")
}

fn list(a: ListArgs) -> Result<i32> {
    let t = a.table.load()?;
    let at = at_or_now(a.at.as_deref())?;
    let rows: Vec<_> = t
        .models
        .iter()
        .filter_map(|m| m.row_at(at).map(|r| (m, r)))
        .collect();
    if a.format == ListFormat::Json {
        let doc = ListDoc::new(&t, at);
        crate::put!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return Ok(0);
    }
    crate::put!(
        "{} ({}), prices in force at {}; USD per million tokens",
        t.version,
        t.origin,
        format_ms(at)
    );
    let mut grid = vec![[
        "Model",
        "Input",
        "Output",
        "5m write",
        "1h write",
        "Cache read",
        "Since",
        "Also",
    ]
    .map(String::from)
    .to_vec()];
    for (m, r) in &rows {
        let aliases = if m.aliases.is_empty() {
            String::new()
        } else {
            format!(" ({})", m.aliases.join(", "))
        };
        grid.push(vec![
            format!("{}{aliases}", m.id),
            exact(r.rates.input),
            exact(r.rates.output),
            exact(r.rates.cache_write_5m),
            exact(r.rates.cache_write_1h),
            exact(r.rates.cache_read),
            r.effective_text
                .get(..10)
                .unwrap_or(&r.effective_text)
                .to_string(),
            extras(r),
        ]);
    }
    crate::put!("{}", align(&grid).trim_end_matches('\n'));
    match t.runtime_at(at) {
        Some(r) => crate::put!(
            "runtime: ${}/session-hour (since {})",
            exact(r.usd_per_hour),
            r.effective_text
        ),
        None => crate::put!("runtime: no price in force"),
    }
    match t.web_search_at(at) {
        Some(r) => crate::put!(
            "web search: ${} per 1,000 (since {})",
            exact(r.usd_per_1000),
            r.effective_text
        ),
        None => crate::put!("web search: no price in force"),
    }
    for m in &t.multipliers {
        if t.multiplier_at(&m.name, at) == Some(m) {
            crate::put!(
                "multiplier {}: x{} on {} (since {})",
                m.name,
                exact(m.factor),
                m.models.join(", "),
                m.effective_text
            );
        }
    }
    Ok(0)
}

fn align(grid: &[Vec<String>]) -> String {
    let mut w = vec![0; grid[0].len()];
    for r in grid {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in grid {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = w[i]))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn show(a: ShowArgs) -> Result<i32> {
    let t = a.table.load()?;
    let m = t.model(&a.model).ok_or_else(|| {
        Error::new(format!(
            "unknown model {:?} in price table {}{}",
            a.model,
            t.version,
            t.suggestion(&a.model)
        ))
        .with_hint("`agentmeter pricing list` shows the known models")
    })?;
    crate::put!("{} ({})", m.id, t.version);
    if !m.aliases.is_empty() {
        crate::put!("aliases: {}", m.aliases.join(", "));
    }
    for r in &m.rows {
        crate::put!(
            "from {}: input {} output {} 5m write {} 1h write {} cache read {} (USD per million tokens)",
            r.effective_text,
            exact(r.rates.input),
            exact(r.rates.output),
            exact(r.rates.cache_write_5m),
            exact(r.rates.cache_write_1h),
            exact(r.rates.cache_read)
        );
        let e = extras(r);
        if !e.is_empty() {
            crate::put!("  {e}");
        }
        for (label, v) in [("note", &r.note), ("source", &r.source)] {
            if let Some(v) = v {
                crate::put!("  {label}: {v}");
            }
        }
    }
    Ok(0)
}

fn check(a: CheckArgs) -> Result<i32> {
    let text = crate::files::read_small(std::path::Path::new(&a.file))?;
    let origin = a.file.display().to_string();
    let today = match &a.today {
        Some(s) => parse_date(s).map_err(|e| Error::new(format!("--today: {e}")))?,
        None => chrono::Utc::now().date_naive(),
    };
    let (table, mut problems) = parse_and_check(&text, &origin);
    if let Some(t) = &table {
        problems.extend(stale(t, today));
        problems.sort_by_key(|p| p.level);
    }
    show_problems(&origin, &problems);
    let count = |l: Level| problems.iter().filter(|p| p.level == l).count();
    match table {
        Some(t) => {
            let rows: usize = t.models.iter().map(|m| m.rows.len()).sum();
            crate::put!(
                "ok: {} ({}): {} models, {} price rows, {} warning(s)",
                origin,
                t.version,
                t.models.len(),
                rows,
                count(Level::Warning)
            );
            Ok(0)
        }
        None => {
            crate::say!(
                "error: {origin}: {} error(s); the table cannot be used",
                count(Level::Error)
            );
            if crate::contract::looks_like_contract(&text) {
                crate::say!("hint: {origin} looks like a contract: `agentmeter contract check {origin}` checks it");
            }
            Ok(crate::error::EXIT_ERROR)
        }
    }
}

/// `error: FILE: ...`, `warning: ...`, `info: ...`, one a line (`pricing check`, `contract check`).
pub(crate) fn show_problems(origin: &str, problems: &[Problem]) {
    for p in problems {
        let level = match p.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
        };
        crate::put!("{level}: {origin}: {}", p.message);
    }
}

/// Prices change without notice: a table not compared with its sources for more than this
/// many days gets a warning.
pub const STALE_AFTER_DAYS: i64 = 30;

/// A warning when the table's `checked` date is more than [`STALE_AFTER_DAYS`] before `today`
/// (or is not a date).
fn stale(t: &PriceTable, today: chrono::NaiveDate) -> Option<Problem> {
    let checked = t.checked.as_deref()?;
    let message = match parse_date(checked) {
        Err(e) => format!("checked: {e}"),
        Ok(d) if (today - d).num_days() > STALE_AFTER_DAYS => format!(
            "prices checked {checked}, {} days before {today}: compare them with the pricing page or run `agentmeter pricing audit`, then update `checked`",
            (today - d).num_days()
        ),
        Ok(_) => return None,
    };
    Some(Problem {
        level: Level::Warning,
        message,
    })
}

/// `--at DATE`, or now.
fn at_or_now(at: Option<&str>) -> Result<i64> {
    match at {
        Some(s) => parse_date_or_timestamp(s).map_err(|e| Error::new(format!("--at: {e}"))),
        None => Ok(chrono::Utc::now().timestamp_millis()),
    }
}

fn audit(a: AuditArgs) -> Result<i32> {
    let t = a.table.load()?;
    let at = at_or_now(a.at.as_deref())?;
    let files = [
        (audit::Format::GenaiPrices, &a.genai_prices),
        (audit::Format::Litellm, &a.litellm),
    ];
    let mut entries = Vec::new();
    for (format, path) in files {
        if let Some(p) = path {
            entries.extend(audit::read(format, p, at)?);
        }
    }
    if a.genai_prices.is_none() && a.litellm.is_none() {
        return Err(Error::new("pricing audit: no file to compare with")
            .with_hint("pass --genai-prices FILE and/or --litellm FILE (see --help)"));
    }
    let r = audit::audit(&t, &entries, at);
    let opt = |d: Option<rust_decimal::Decimal>| d.map(exact);
    if a.format == ListFormat::Json {
        let doc = AuditDoc::new(&t, at, &r);
        crate::put!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        crate::put!(
            "{} ({}) against {} model(s) of their files, prices in force at {}",
            t.version,
            t.origin,
            r.compared + r.missing.len(),
            format_ms(at)
        );
        let cell = |d: Option<rust_decimal::Decimal>| opt(d).unwrap_or_else(|| "-".into());
        if !r.disagreements.is_empty() {
            let mut grid = vec![["Model", "Rate", "Ours", "Theirs", "Their file"]
                .map(String::from)
                .to_vec()];
            for d in &r.disagreements {
                grid.push(vec![
                    d.model.clone(),
                    d.rate.clone(),
                    cell(d.ours),
                    cell(d.theirs),
                    format!("{}:{} ({})", d.file, d.line, d.their_id),
                ]);
            }
            crate::put!("{}", align(&grid).trim_end_matches('\n'));
        }
        if !r.missing.is_empty() {
            crate::put!("Models of their files not in {}:", t.version);
            let mut grid = vec![["Their model", "Their file"].map(String::from).to_vec()];
            for (id, file, line) in &r.missing {
                grid.push(vec![id.clone(), format!("{file}:{line}")]);
            }
            crate::put!("{}", align(&grid).trim_end_matches('\n'));
        }
        crate::put!(
            "{} disagreement(s), {} model(s) missing from the table",
            r.disagreements.len(),
            r.missing.len()
        );
    }
    Ok(i32::from(
        !r.disagreements.is_empty() || !r.missing.is_empty(),
    ))
}
