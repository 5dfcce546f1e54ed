//! `agentmeter export`: priced usage as FOCUS 1.3 (CSV or Parquet) or as plain line items
//! (Parquet), for finance tools and query engines.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use polars::prelude::*;
use rust_decimal::Decimal;

use crate::cmd::meter::meter_rated;
use crate::error::{Error, Result};
use crate::export::columns;
use crate::export::focus::{self, Account};
use crate::meter::MeterOptions;
use crate::money::exact;
use crate::pricing::PriceTable;
use crate::rate::{LineItem, RatedSession};
use crate::time::{format_ms, Zone};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// FOCUS 1.3 rows as CSV.
    FocusCsv,
    /// FOCUS 1.3 rows as Parquet (typed: decimals, UTC timestamps).
    FocusParquet,
    /// The rated line items as Parquet.
    Parquet,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  agentmeter export runs/ --format focus-csv -o focus.csv\n  \
    agentmeter export runs/ --format focus-parquet --partition day -o focus/\n  \
    duckdb -c \"select ServiceName, sum(BilledCost) from read_parquet('focus/**/*.parquet', hive_partitioning=true) group by 1\""
)]
pub struct ExportArgs {
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub geo: super::GeoArgs,
    #[arg(long, short = 'f', value_enum)]
    pub format: ExportFormat,
    /// A file, or with --partition day a directory.
    #[arg(long, short = 'o', value_name = "FILE|DIR")]
    pub output: PathBuf,
    /// Write one Parquet file per day (x_ChargeDate=YYYY-MM-DD/part-0.parquet).
    #[arg(long, value_name = "day")]
    pub partition: Option<String>,
    #[arg(long, value_name = "FILE")]
    pub pricing: Option<PathBuf>,
    /// FOCUS BillingAccountId (the Anthropic organization, say).
    #[arg(long, default_value = "anthropic-organization")]
    pub billing_account: String,
    /// FOCUS BillingAccountName.
    #[arg(long, default_value = "Anthropic organization")]
    pub billing_account_name: String,
    /// A `scenario` tag for every row.
    #[arg(long, value_name = "NAME")]
    pub scenario_tag: Option<String>,
    #[arg(long)]
    pub skip_invalid: bool,
    /// Export only shard I of N of the sessions (as `meter --shard`): N jobs write N exports
    /// of one schema that engines read as one table.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Replace an existing output (a directory whole: no file of the old export is kept).
    #[arg(long)]
    pub force: bool,
}

type Item<'a> = (&'a RatedSession, &'a LineItem);

fn items(sessions: &[RatedSession]) -> Vec<Item<'_>> {
    sessions
        .iter()
        .flat_map(|s| s.items.iter().map(move |i| (s, i)))
        .collect()
}

fn line_items(items: &[Item], table: &PriceTable) -> Result<DataFrame> {
    let dec = |name: &str, v: Vec<Decimal>| columns::parquet_decimal(name, v.into_iter().map(Some));
    let ts = |name: &str, v: Vec<i64>| columns::utc_millis(name, v);
    let cols = vec![
        Column::new(
            "session_id".into(),
            items
                .iter()
                .map(|(s, _)| s.usage.session_id.to_string())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "category".into(),
            items
                .iter()
                .map(|(_, i)| i.category.name())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "model".into(),
            items
                .iter()
                .map(|(_, i)| i.model.as_deref().map(str::to_string))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "agent".into(),
            items
                .iter()
                .map(|(_, i)| i.agent.as_deref().map(str::to_string))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "day".into(),
            items
                .iter()
                .map(|(_, i)| i.day.to_string())
                .collect::<Vec<_>>(),
        ),
        ts("start", items.iter().map(|(_, i)| i.start).collect()),
        ts("end", items.iter().map(|(_, i)| i.end).collect()),
        columns::counts("quantity", items.iter().map(|(_, i)| i.quantity))?,
        Column::new(
            "unit".into(),
            items
                .iter()
                .map(|(_, i)| i.category.unit())
                .collect::<Vec<_>>(),
        ),
        dec("rate", items.iter().map(|(_, i)| i.rate).collect())?,
        dec("amount", items.iter().map(|(_, i)| i.amount).collect())?,
        Column::new(
            "price_effective".into(),
            items
                .iter()
                .map(|(_, i)| format_ms(i.price_effective))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "pricing_version".into(),
            vec![table.version.clone(); items.len()],
        ),
    ];
    DataFrame::new_infer_height(cols).map_err(|e| Error::new(e.to_string()))
}

/// The sessions (usage and cost) of a run, one row each.
fn sessions_frame(sessions: &[RatedSession]) -> Result<DataFrame> {
    let tok = |name: &str, f: fn(&crate::usage::Tokens) -> u64| {
        columns::counts(name, sessions.iter().map(|s| f(&s.quantities.tokens)))
    };
    let cols = vec![
        Column::new(
            "session_id".into(),
            sessions
                .iter()
                .map(|s| s.usage.session_id.to_string())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "agent".into(),
            sessions
                .iter()
                .map(|s| s.usage.agent.as_deref().map(str::to_string))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "model".into(),
            sessions
                .iter()
                .map(|s| s.usage.model.as_deref().map(str::to_string))
                .collect::<Vec<_>>(),
        ),
        columns::counts("active_ms", sessions.iter().map(|s| s.quantities.active_ms))?,
        columns::counts("requests", sessions.iter().map(|s| s.quantities.requests))?,
        tok("input_tokens", |t| t.input)?,
        tok("output_tokens", |t| t.output)?,
        tok("cache_write_5m_tokens", |t| t.cache_write_5m)?,
        tok("cache_write_1h_tokens", |t| t.cache_write_1h)?,
        tok("cache_read_tokens", |t| t.cache_read)?,
        columns::counts(
            "web_searches",
            sessions.iter().map(|s| s.quantities.web_searches),
        )?,
        columns::parquet_decimal("cost", sessions.iter().map(|s| Some(s.cost.total())))?,
    ];
    DataFrame::new_infer_height(cols).map_err(|e| Error::new(e.to_string()))
}

/// `meter --export DIR`: sessions.parquet and line_items.parquet, replacing DIR whole.
pub fn write_usage_parquet(
    dir: &Path,
    sessions: &[RatedSession],
    table: &PriceTable,
    force: bool,
) -> Result<()> {
    replace_dir(dir, force, |fresh| {
        write_parquet(
            &fresh.join("sessions.parquet"),
            &mut sessions_frame(sessions)?,
        )?;
        write_parquet(
            &fresh.join("line_items.parquet"),
            &mut line_items(&items(sessions), table)?,
        )
    })
}

/// Refuse to write over an existing file or non-empty directory unless `force`, and even
/// with it a directory holding anything but Parquet files: a mistyped `-o runs/ --force` must
/// not delete the runs.
pub fn check_target(path: &Path, force: bool) -> Result<()> {
    let taken = match std::fs::read_dir(path) {
        Ok(mut entries) => entries.next().is_some(),
        Err(_) => std::fs::symlink_metadata(path).is_ok(),
    };
    if taken && !force {
        return Err(Error::new(format!("{} already exists", path.display()))
            .with_hint("pass --force to replace it (a directory is replaced whole)"));
    }
    if taken && path.is_dir() {
        if let Some(other) = not_parquet(path) {
            return Err(Error::new(format!(
                "{} is not an export: it holds {}, which is not a Parquet file",
                path.display(),
                other.display()
            ))
            .with_hint("give the export a new or empty directory; --force replaces only a directory of Parquet files"));
        }
    }
    Ok(())
}

/// The first entry under `dir` that is neither a directory nor a `.parquet` file.
fn not_parquet(dir: &Path) -> Option<PathBuf> {
    let Ok(mut entries) = std::fs::read_dir(dir) else {
        return Some(dir.to_path_buf());
    };
    entries.find_map(|e| {
        let Ok(e) = e else {
            return Some(dir.to_path_buf());
        };
        let (p, kind) = (e.path(), e.file_type().ok());
        match kind {
            Some(k) if k.is_dir() => not_parquet(&p),
            Some(k) if k.is_file() && p.extension().is_some_and(|x| x == "parquet") => None,
            _ => Some(p),
        }
    })
}

/// Write a directory through a fresh one beside it, then swap it in (the old one renamed
/// aside, the new one renamed in, the old one removed): no file of an older export survives
/// to be counted again, and a run that fails leaves the old export as it was.
pub fn replace_dir<T>(
    dir: &Path,
    force: bool,
    write: impl FnOnce(&Path) -> Result<T>,
) -> Result<T> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    check_target(dir, force)?;
    let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Err(
            Error::new(format!("{}: not a directory name", dir.display()))
                .with_hint("give the export a directory of its own, e.g. -o focus/"),
        );
    };
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    // Unique per writer (process and call), so concurrent runs never share one.
    let fresh = loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let p = parent.join(format!(".{name}.agentmeter-{}-{n}.tmp", std::process::id()));
        match std::fs::create_dir(&p) {
            Ok(()) => break p,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&p, e)),
        }
    };
    let abandon = |e: Error| {
        let _ = std::fs::remove_dir_all(&fresh);
        Err(e)
    };
    let out = match write(&fresh).and_then(|out| check_target(dir, force).map(|_| out)) {
        Ok(out) => out,
        Err(e) => return abandon(e),
    };
    let aside = fresh.with_extension("old");
    let old = std::fs::symlink_metadata(dir).ok();
    if old.is_some() {
        if let Err(e) = std::fs::rename(dir, &aside) {
            return abandon(Error::io(dir, e));
        }
    }
    if let Err(e) = std::fs::rename(&fresh, dir) {
        if old.is_some() {
            let _ = std::fs::rename(&aside, dir);
        }
        return abandon(Error::io(dir, e));
    }
    if let Some(old) = old {
        let removed = if old.is_dir() {
            std::fs::remove_dir_all(&aside)
        } else {
            std::fs::remove_file(&aside)
        };
        if let Err(e) = removed {
            eprintln!(
                "warning: {}: the replaced export could not be removed: {e}",
                aside.display()
            );
        }
    }
    Ok(out)
}

/// One Parquet file, written beside `path` and renamed in (never half a file at `path`).
fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<()> {
    write_parquet_over(path, false, df)
}

fn write_parquet_over(path: &Path, force: bool, df: &mut DataFrame) -> Result<()> {
    crate::cli::write_output_with(Some(&path.to_path_buf()), force, |w| {
        ParquetWriter::new(w)
            .finish(df)
            .map(|_| ())
            .map_err(std::io::Error::other)
    })
}

/// Hive partitions under `dir`, `x_ChargeDate=YYYY-MM-DD/part-0.parquet`, one per run of equal
/// days in `rows` (sorted by day); the number of files. The key is a column of no file (a
/// reader adds it from the path; pyarrow refuses a key that is also a file's column), so a
/// partition has exactly the columns of a single-file export.
fn write_days<T>(
    dir: &Path,
    rows: &[T],
    day: impl Fn(&T) -> NaiveDate,
    frame: impl Fn(&[T]) -> Result<DataFrame>,
) -> Result<usize> {
    let mut files = 0;
    for part in rows.chunk_by(|a, b| day(a) == day(b)) {
        let sub = dir.join(format!("x_ChargeDate={}", day(&part[0])));
        std::fs::create_dir(&sub).map_err(|e| Error::io(&sub, e))?;
        write_parquet(&sub.join("part-0.parquet"), &mut frame(part)?)?;
        files += 1;
    }
    Ok(files)
}

pub fn run(args: ExportArgs) -> Result<i32> {
    let by_day = match args.partition.as_deref() {
        None => false,
        Some("day") => true,
        Some(other) => {
            return Err(Error::new(format!(
                "--partition {other:?}: only `day` is supported"
            )))
        }
    };
    if by_day && args.format == ExportFormat::FocusCsv {
        return Err(Error::new(
            "--partition day writes Parquet: use --format focus-parquet or parquet",
        ));
    }
    // Before metering, which may take long; checked again when the output is swapped in.
    check_target(&args.output, args.force)?;
    let table = PriceTable::load_or_bundled(args.pricing.as_deref())?;
    // FOCUS charge periods are UTC days, so items are cut at UTC midnight.
    let opts = MeterOptions {
        skip_invalid: args.skip_invalid,
        shard: args
            .shard
            .as_deref()
            .map(crate::cmd::meter::parse_shard)
            .transpose()?,
        ..args.geo.meter_options()
    };
    let (sessions, _, skipped) = meter_rated(&args.paths, &table, &opts, Zone::default(), true)?;
    for s in &skipped.kept {
        eprintln!("warning: skipped {}", s.to_error().message);
    }
    let account = Account {
        id: &args.billing_account,
        name: &args.billing_account_name,
    };
    let total: Decimal = sessions.iter().map(|s| s.cost.total()).sum();
    match args.format {
        ExportFormat::FocusCsv => {
            let rows = focus::rows(&sessions, args.scenario_tag.as_deref());
            crate::cli::write_output(
                Some(&args.output),
                args.force,
                &focus::to_csv(&rows, &table, &account)?,
            )?;
            eprintln!(
                "wrote {} FOCUS rows to {} (BilledCost total {})",
                rows.len(),
                args.output.display(),
                exact(total)
            );
        }
        ExportFormat::FocusParquet => {
            let rows = focus::rows(&sessions, args.scenario_tag.as_deref());
            let frame = |rows: &[focus::FocusRow]| focus::frame(rows, &table, &account);
            let files = if by_day {
                replace_dir(&args.output, args.force, |dir| {
                    write_days(dir, &rows, |r| r.day, frame)
                })?
            } else {
                write_parquet_over(&args.output, args.force, &mut frame(&rows)?)?;
                1
            };
            eprintln!(
                "wrote {} FOCUS rows in {files} file(s) under {} (BilledCost total {})",
                rows.len(),
                args.output.display(),
                exact(total)
            );
        }
        ExportFormat::Parquet => {
            let mut items = items(&sessions);
            if by_day {
                // Stable: each day keeps the items in session order.
                items.sort_by_key(|(_, i)| i.day);
                replace_dir(&args.output, args.force, |dir| {
                    write_days(dir, &items, |(_, i)| i.day, |part| line_items(part, &table))
                })?;
            } else {
                write_parquet_over(&args.output, args.force, &mut line_items(&items, &table)?)?;
            }
            eprintln!(
                "wrote {} line items to {} (total {})",
                items.len(),
                args.output.display(),
                exact(total)
            );
        }
    }
    Ok(0)
}
