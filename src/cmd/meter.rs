//! `agentmeter meter`: ingest -> meter -> rate -> report, end to end.

use std::path::PathBuf;

use clap::Args;

use crate::contract;
use crate::error::{Error, Result};
use crate::export::{self, Format};
use crate::ingest;
use crate::meter::{self, CacheTtl, MeterOptions};
use crate::output::{self, Output};
use crate::pipeline::bill;
use crate::report::{group::group_under, GroupBy, MeterReport};
use crate::time::Zone as TimeZone;
use crate::time::Zone;
use crate::usage::Selection;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  agentmeter meter runs/\n  agentmeter meter a.ndjson b.sse.gz --format json -o meter.json\n  \
    agentmeter meter runs/ --group-by day --tz America/New_York\n  cat export.ndjson | agentmeter meter -\n  \
    agentmeter meter runs/ --model claude-sonnet-4-6      # what if it had run on Sonnet?\n  \
    agentmeter meter --source claude-code --group-by day --since 20261101 --tz Europe/Paris\n  \
    agentmeter meter --source claude-code --group-by project --project shop\n  \
    find runs/ -name '*.ndjson' -newer last-run | agentmeter meter --files-from -"
)]
pub struct MeterArgs {
    /// Export files, directories (read recursively: *.ndjson, *.jsonl, *.json, *.sse, also
    /// .gz/.zst) or - for stdin. Claude Code transcripts are recognised by their content.
    /// None with --source claude-code: the default transcript folders.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub files_from: super::FilesFromArgs,
    #[command(flatten)]
    pub geo: super::GeoArgs,
    /// Where the runs come from: Managed Agents exports, or Claude Code transcripts (every
    /// file read as a transcript, never detected; their default folders are read when no
    /// PATH is given: $CLAUDE_CONFIG_DIR/projects, else ~/.config/claude/projects and
    /// ~/.claude/projects).
    #[arg(long, value_enum, default_value_t = InputSource::ManagedAgents)]
    pub source: InputSource,
    /// Only usage on or after this local date (YYYYMMDD or YYYY-MM-DD, in --tz).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only usage on or before this local date (YYYYMMDD or YYYY-MM-DD, in --tz).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Only sessions of this project (Claude Code: the project folder, or its last part,
    /// e.g. `shop` for `-home-ana-shop`; Managed Agents: the session's `project` metadata).
    #[arg(long, value_name = "NAME")]
    pub project: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub pricing: super::PricingArg,
    #[command(flatten)]
    pub contract: super::ContractArg,
    /// Price every request as this model, whatever the session's agent ran.
    #[arg(long, value_name = "ID")]
    pub model: Option<String>,
    /// TTL of cache writes when the session does not report its 5m/1h split.
    #[arg(long, value_enum, default_value = "5m")]
    pub cache_ttl: CacheTtl,
    /// One row per session, or aggregated by one or more keys (comma-separated, e.g.
    /// `day,model` for each model's cost per day).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "session")]
    pub group_by: Vec<GroupBy>,
    /// Time zone of day buckets (IANA name); runtime is split at its midnights.
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub tz: Zone,
    /// Skip bad records (counted, and the first 1,000 listed in the output) instead of
    /// stopping at the first.
    #[arg(long)]
    pub skip_invalid: bool,
    /// With --skip-invalid: also write every skipped record to FILE (`FILE:LINE: reason`, in
    /// the order found), however many there are.
    #[arg(long, value_name = "FILE", requires = "skip_invalid")]
    pub skipped_out: Option<PathBuf>,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Fit the table to N columns (by default the terminal's width, when stdout is one):
    /// long ids are cut with `…`, then amount columns left out from the right (never Total).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(40..=1000))]
    pub width: Option<u16>,
    /// Every column at its full width, whatever the terminal.
    #[arg(long, conflicts_with = "width")]
    pub wide: bool,
    /// Token counts beside the amounts in the table (input, output, cache writes, cache reads).
    #[arg(long)]
    pub tokens: bool,
    #[command(flatten)]
    pub shard: super::ShardArgs,
    /// Also write the usage and line items as Parquet into DIR (sessions.parquet,
    /// line_items.parquet), for merging shards with any Parquet engine. With --contract the
    /// line items carry what the user pays (the FOCUS amounts, as `export --format parquet
    /// --contract`) and the months' shortfall and credit rows, the sessions their
    /// contracted_cost.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// Keep about MB megabytes of per-session state in memory; past that, spill it to
    /// temporary files (in $TMPDIR) and read it back one part at a time.
    #[arg(long, value_name = "MB", default_value_t = meter::DEFAULT_BUDGET_MB)]
    pub memory: usize,
    /// The longest record (a line, or a pretty-printed page) accepted, in MB: past it the
    /// run stops with an error instead of buffering a runaway line.
    #[arg(long, value_name = "MB", default_value_t = ingest::DEFAULT_MAX_RECORD_MB)]
    pub max_record_mb: usize,
    /// Also write a report (HTML, markdown, charts, CSV, JSON) into DIR.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Overwrite the --output file (and replace a --report or an --export DIR) if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum InputSource {
    /// Managed Agents exports (and any transcripts given as PATH).
    #[default]
    ManagedAgents,
    /// Claude Code transcripts (`~/.claude/projects/*/*.jsonl`).
    ClaudeCode,
}

/// The Claude Code transcript folders that exist: each `projects` folder of
/// `$CLAUDE_CONFIG_DIR` (comma-separated), else of `~/.config/claude` and `~/.claude`.
pub fn claude_code_folders() -> Result<Vec<String>> {
    let roots: Vec<PathBuf> = match std::env::var("CLAUDE_CONFIG_DIR") {
        Ok(dirs) if !dirs.trim().is_empty() => {
            dirs.split(',').map(|d| PathBuf::from(d.trim())).collect()
        }
        _ => {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            vec![home.join(".config/claude"), home.join(".claude")]
        }
    };
    let found: Vec<String> = roots
        .iter()
        .map(|r| r.join("projects"))
        .filter(|p| p.is_dir())
        .map(|p| p.display().to_string())
        .collect();
    if found.is_empty() {
        let looked: Vec<String> = roots
            .iter()
            .map(|r| r.join("projects").display().to_string())
            .collect();
        return Err(Error::new(format!(
            "no Claude Code transcript folder found (looked in {})",
            looked.join(", ")
        ))
        .with_hint("set CLAUDE_CONFIG_DIR, or give the transcript folders as PATH"));
    }
    Ok(found)
}

/// `--since`/`--until` (local dates in `tz`, both inclusive) and `--project` as a selection.
pub fn selection(
    since: Option<&str>,
    until: Option<&str>,
    project: Option<String>,
    tz: TimeZone,
) -> Result<Selection> {
    let day = |flag: &str, s: &str| {
        crate::time::parse_date(s).map_err(|e| Error::new(format!("{flag}: {e}")))
    };
    let start = since.map(|s| day("--since", s)).transpose()?;
    let last = until.map(|s| day("--until", s)).transpose()?;
    if let (Some(a), Some(b)) = (start, last) {
        if a > b {
            return Err(Error::new(format!("--since {a} is after --until {b}")));
        }
    }
    let window = match (start, last) {
        (None, None) => None,
        (a, b) => Some((
            a.and_then(|d| tz.start_of(d)).unwrap_or(i64::MIN),
            b.and_then(|d| d.succ_opt())
                .and_then(|d| tz.start_of(d))
                .unwrap_or(i64::MAX),
        )),
    };
    Ok(Selection { window, project })
}

/// The terminal's width when stdout is a terminal: `COLUMNS` if set, else what the terminal
/// says.
#[allow(unsafe_code)] // the TIOCGWINSZ ioctl: std has no terminal size.
fn terminal_width() -> Option<usize> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    if let Some(n) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return Some(n);
    }
    #[cfg(unix)]
    {
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        // SAFETY: TIOCGWINSZ fills the winsize it is given; stdout is a terminal.
        if unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0
            && ws.ws_col > 0
        {
            return Some(ws.ws_col as usize);
        }
    }
    None
}

pub fn run(args: MeterArgs) -> Result<i32> {
    let table = args.pricing.load()?;
    if let Some(m) = &args.model {
        if table.model(m).is_none() {
            return Err(Error::new(format!(
                "--model {m}: unknown model in price table {} ({}){}",
                table.version,
                table.origin,
                table.suggestion(m)
            ))
            .with_hint("`agentmeter pricing list` shows the known models and aliases"));
        }
    }
    let contract = args.contract.load(&table)?;
    let mut opts = args.shard.apply(MeterOptions {
        model: args.model.clone(),
        cache_ttl: args.cache_ttl,
        skip_invalid: args.skip_invalid,
        memory_mb: Some(args.memory),
        select: selection(
            args.since.as_deref(),
            args.until.as_deref(),
            args.project.clone(),
            args.tz,
        )?,
        progress: crate::terminal::progress(),
        read: ingest::ReadOptions {
            transcript: args.source == InputSource::ClaudeCode,
            max_record: args.max_record_mb.saturating_mul(1 << 20),
            ..Default::default()
        },
        default_inference_geo: args.geo.default_inference_geo.clone(),
        ..Default::default()
    });
    let paths = args.files_from.paths(&args.paths)?;
    let paths = match (paths.is_empty(), args.source) {
        (false, _) => paths,
        (true, InputSource::ClaudeCode) => claude_code_folders()?,
        (true, InputSource::ManagedAgents) => {
            return Err(Error::new("no input: give export files or directories, or - for stdin")
                .with_hint("for Claude Code runs, `agentmeter meter --source claude-code` reads the default transcript folders"))
        }
    };
    // Line items are what grouping, CSV, Parquet and reports are made of; a plain table or
    // JSON needs only each session's totals (a contract applies to line items).
    let keep_items = args.group_by != [GroupBy::Session]
        || contract.is_some()
        || args.format == Format::Csv
        || args.export.is_some()
        || args.report.is_some();
    // Every output is checked before metering, which may take long.
    let out = Output::with_report(args.output.as_deref(), args.report.as_deref(), args.force)?;
    if let Some(dir) = &args.export {
        Output::new(Some(dir), args.force).check_dir(&output::EXPORT)?;
    }
    // The full list goes to a temporary file beside FILE as it is found, then into FILE
    // whole: constant memory, and no half-written FILE.
    let skipped_out = match &args.skipped_out {
        None => None,
        Some(file) => {
            let out = Output::new(Some(file), args.force);
            out.check()?;
            let dir = file
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let mut handle = None;
            let temp = crate::temp::Temp::create(dir, ".agentmeter-skipped-", ".tmp", |p| {
                handle = Some(std::fs::File::create_new(p)?);
                Ok(())
            })
            .map_err(|e| Error::io(dir, e))?;
            opts.skip_log = crate::error::SkipLog::to(handle.expect("created"));
            Some((out, temp))
        }
    };
    let (sessions, metered, skipped) = bill(&paths, &table, &opts, args.tz, keep_items)?;
    if let Some((out, temp)) = skipped_out {
        opts.skip_log
            .flush()
            .map_err(|e| Error::io(temp.path(), e))?;
        let mut all = std::fs::File::open(temp.path()).map_err(|e| Error::io(temp.path(), e))?;
        out.write_with(|w| std::io::copy(&mut all, w).map(drop))?;
    }
    let billing = contract.as_ref().map(|c| contract::apply(c, &sessions));
    let report = MeterReport {
        groups: match args.group_by.as_slice() {
            [GroupBy::Session] => None,
            by => Some((by.to_vec(), group_under(&sessions, by, billing.as_ref())?)),
        },
        billing: billing.as_ref(),
        show_tokens: args.tokens,
        ..MeterReport::new(&table, &sessions, &metered, &skipped)
    };
    let mut notes = export::notes(&report);
    // Human formats carry their notes; machine formats keep stdout parseable.
    let notes_inline = matches!(args.format, Format::Table | Format::Markdown);
    let fit = match (args.format, args.width, args.wide) {
        (Format::Table, _, true) | (Format::Json | Format::Csv | Format::Markdown, ..) => None,
        (Format::Table, Some(n), false) => Some(n as usize),
        (Format::Table, None, false) => args.output.is_none().then(terminal_width).flatten(),
    };
    out.write_with(|w| {
        match fit {
            Some(max) => {
                let grid = export::grid_within(&report, max);
                let hidden = export::table::write_within(&grid, Some(max), w)?;
                if !hidden.is_empty() {
                    notes.push(format!(
                        "note: {} column(s) left out to fit {max} columns ({}): --wide shows every column",
                        hidden.len(),
                        hidden.join(", ")
                    ));
                }
            }
            None => export::render_to(&report, args.format, w)?,
        }
        if notes_inline && !notes.is_empty() {
            writeln!(w)?;
            for n in &notes {
                writeln!(w, "{n}")?;
            }
        }
        Ok(())
    })?;
    if !notes_inline {
        for n in &notes {
            crate::say!("{n}");
        }
    }
    if let Some(dir) = &args.export {
        crate::pipeline::write_usage_parquet(dir, &sessions, &table, billing.as_ref(), args.force)?;
    }
    if let Some(dir) = &args.report {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "meter".into());
        crate::pipeline::write_meter_report(dir, name, paths, &report, args.force)?;
    }
    Ok(0)
}
