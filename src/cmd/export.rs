//! `agentmeter export`: priced usage as FOCUS 1.3 (CSV or Parquet) or as plain line items
//! (Parquet), for finance tools and query engines.

use std::path::PathBuf;

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
use crate::rate::RatedSession;
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
    /// Replace an existing output.
    #[arg(long)]
    pub force: bool,
}

fn line_items(sessions: &[RatedSession], table: &PriceTable) -> Result<DataFrame> {
    let items: Vec<_> = sessions
        .iter()
        .flat_map(|s| s.items.iter().map(move |i| (s, i)))
        .collect();
    let dec = |name: &str, v: Vec<Decimal>| columns::decimal(name, v.into_iter().map(Some));
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
        Column::new(
            "quantity".into(),
            items.iter().map(|(_, i)| i.quantity).collect::<Vec<_>>(),
        ),
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
    let tok = |f: fn(&crate::usage::Tokens) -> u64| {
        sessions
            .iter()
            .map(|s| f(&s.quantities.tokens))
            .collect::<Vec<u64>>()
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
        Column::new(
            "active_ms".into(),
            sessions
                .iter()
                .map(|s| s.quantities.active_ms)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "requests".into(),
            sessions
                .iter()
                .map(|s| s.quantities.requests)
                .collect::<Vec<_>>(),
        ),
        Column::new("input_tokens".into(), tok(|t| t.input)),
        Column::new("output_tokens".into(), tok(|t| t.output)),
        Column::new("cache_write_5m_tokens".into(), tok(|t| t.cache_write_5m)),
        Column::new("cache_write_1h_tokens".into(), tok(|t| t.cache_write_1h)),
        Column::new("cache_read_tokens".into(), tok(|t| t.cache_read)),
        Column::new(
            "web_searches".into(),
            sessions
                .iter()
                .map(|s| s.quantities.web_searches)
                .collect::<Vec<_>>(),
        ),
        columns::decimal("cost", sessions.iter().map(|s| Some(s.cost.total())))?,
    ];
    DataFrame::new_infer_height(cols).map_err(|e| Error::new(e.to_string()))
}

/// `meter --export DIR`: sessions.parquet and line_items.parquet.
pub fn write_usage_parquet(
    dir: &std::path::Path,
    sessions: &[RatedSession],
    table: &PriceTable,
    force: bool,
) -> Result<()> {
    let (s_path, i_path) = (dir.join("sessions.parquet"), dir.join("line_items.parquet"));
    if !force && (s_path.exists() || i_path.exists()) {
        return Err(
            Error::new(format!("{} already holds an export", dir.display()))
                .with_hint("pass --force to replace it"),
        );
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for (path, mut df) in [
        (s_path, sessions_frame(sessions)?),
        (i_path, line_items(sessions, table)?),
    ] {
        let f = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        ParquetWriter::new(f)
            .finish(&mut df)
            .map_err(|e| Error::new(e.to_string()))?;
    }
    Ok(())
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
    if args.output.exists() && !args.force {
        return Err(
            Error::new(format!("{} already exists", args.output.display()))
                .with_hint("pass --force to replace it"),
        );
    }
    let table = PriceTable::load_or_bundled(args.pricing.as_deref())?;
    // FOCUS charge periods are UTC days, so items are cut at UTC midnight.
    let opts = MeterOptions {
        skip_invalid: args.skip_invalid,
        ..args.geo.meter_options()
    };
    let (sessions, _, skipped) = meter_rated(&args.paths, &table, &opts, Zone::default(), true)?;
    for s in &skipped {
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
            let files = focus::to_parquet(&rows, &table, &account, &args.output, by_day)?;
            eprintln!(
                "wrote {} FOCUS rows in {} file(s) under {} (BilledCost total {})",
                rows.len(),
                files.len(),
                args.output.display(),
                exact(total)
            );
        }
        ExportFormat::Parquet => {
            let mut df = line_items(&sessions, &table)?;
            if by_day {
                std::fs::create_dir_all(&args.output).map_err(|e| Error::io(&args.output, e))?;
                let mut unique: Vec<String> = sessions
                    .iter()
                    .flat_map(|s| s.items.iter().map(|i| i.day.to_string()))
                    .collect();
                unique.sort();
                unique.dedup();
                for day in unique {
                    let mut part = df
                        .clone()
                        .lazy()
                        .filter(col("day").eq(lit(day.clone())))
                        .collect()
                        .map_err(|e| Error::new(e.to_string()))?;
                    let dir = args.output.join(format!("day={day}"));
                    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                    let path = dir.join("part-0.parquet");
                    let f = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
                    ParquetWriter::new(f)
                        .finish(&mut part)
                        .map_err(|e| Error::new(e.to_string()))?;
                }
            } else {
                let f =
                    std::fs::File::create(&args.output).map_err(|e| Error::io(&args.output, e))?;
                ParquetWriter::new(f)
                    .finish(&mut df)
                    .map_err(|e| Error::new(e.to_string()))?;
            }
            eprintln!(
                "wrote {} line items to {} (total {})",
                df.height(),
                args.output.display(),
                exact(total)
            );
        }
    }
    Ok(0)
}
