//! `agentmeter export`: priced usage as FOCUS 1.3 (CSV or Parquet) or as plain line items
//! (Parquet), for finance tools and query engines.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use rust_decimal::Decimal;

use crate::contract;
use crate::error::{Error, Result};
use crate::export::focus::{self, Account};
use crate::export::parquet::{self, line_items, lines};
use crate::meter::MeterOptions;
use crate::money::exact;
use crate::output::{self, Output};
use crate::pipeline::{bill, write_days, write_parquet_to};
use crate::time::Zone;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// FOCUS 1.3 rows as CSV.
    FocusCsv,
    /// FOCUS 1.3 rows as Parquet (typed: decimals, UTC timestamps).
    FocusParquet,
    /// The rated line items as Parquet.
    Parquet,
}

/// How `--partition` splits a Parquet export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Partition {
    /// One directory per UTC day (`x_ChargeDate=YYYY-MM-DD`).
    Day,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  agentmeter export runs/ --format focus-csv -o focus.csv\n  \
    agentmeter export runs/ --format focus-parquet --partition day -o focus/\n  \
    duckdb -c \"select ServiceName, sum(BilledCost) from read_parquet('focus/**/*.parquet', hive_partitioning=true) group by 1\"",
    mut_arg("contract", |a| a.help(super::ContractArg::help(
        "with the FOCUS formats, ContractedCost after its discounts, BilledCost and EffectiveCost after its commitments and credits (rows of their own); with --format parquet, the same amounts as columns of each line item (list_cost, contracted_rate, contracted_cost, effective_cost, billed_cost, contract_version, contract_row) and the months' shortfall and credit rows."
    )))
)]
pub struct ExportArgs {
    /// Exports to price (files, directories or -), as for `meter`.
    #[arg(required_unless_present = "files_from", value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub files_from: super::FilesFromArgs,
    #[command(flatten)]
    pub geo: super::GeoArgs,
    /// What to write: FOCUS 1.3 rows (CSV or Parquet), or the rated line items (Parquet).
    #[arg(long, short = 'f', value_enum)]
    pub format: ExportFormat,
    /// A file, or with --partition day a directory.
    #[arg(long, short = 'o', value_name = "FILE|DIR")]
    pub output: PathBuf,
    /// Write one Parquet file per day (x_ChargeDate=YYYY-MM-DD/part-0.parquet).
    #[arg(long, value_enum)]
    pub partition: Option<Partition>,
    #[command(flatten)]
    pub pricing: super::PricingArg,
    #[command(flatten)]
    pub contract: super::ContractArg,
    /// FOCUS BillingAccountId (the Anthropic organization, say).
    #[arg(long, default_value = "anthropic-organization")]
    pub billing_account: String,
    /// FOCUS BillingAccountName.
    #[arg(long, default_value = "Anthropic organization")]
    pub billing_account_name: String,
    /// A `scenario` tag for every row.
    #[arg(long, value_name = "NAME")]
    pub scenario_tag: Option<String>,
    /// Skip bad records (each named in a warning on stderr) instead of stopping at the first.
    #[arg(long)]
    pub skip_invalid: bool,
    /// N jobs write N exports of one schema that engines read as one table.
    #[command(flatten)]
    pub shard: super::ShardArgs,
    /// Replace an existing output (a directory whole: no file of the old export is kept).
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: ExportArgs) -> Result<i32> {
    let by_day = args.partition == Some(Partition::Day);
    if by_day && args.format == ExportFormat::FocusCsv {
        return Err(Error::new(
            "--partition day writes Parquet: use --format focus-parquet or parquet",
        ));
    }
    // Before metering, which may take long; checked again when the output is written.
    let out = Output::new(Some(&args.output), args.force);
    if by_day {
        out.check_dir(&output::EXPORT)?;
    } else {
        out.check()?;
    }
    let table = args.pricing.load()?;
    let contract = args.contract.load(&table)?;
    // FOCUS charge periods are UTC days, so items are cut at UTC midnight.
    let opts = MeterOptions {
        skip_invalid: args.skip_invalid,
        ..args.shard.apply(args.geo.meter_options())
    };
    let paths = args.files_from.paths(&args.paths)?;
    let (sessions, _, skipped) = bill(&paths, &table, &opts, Zone::default(), true)?;
    for s in &skipped.kept {
        crate::say!("warning: skipped {}", s.to_error().message);
    }
    let account = Account {
        id: &args.billing_account,
        name: &args.billing_account_name,
    };
    let billing = contract.as_ref().map(|c| contract::apply(c, &sessions));
    let total: Decimal = match &billing {
        Some(b) => b.billed,
        None => sessions.iter().map(|s| s.cost.total()).sum(),
    };
    match args.format {
        ExportFormat::FocusCsv => {
            let rows = focus::rows(&sessions, billing.as_ref(), args.scenario_tag.as_deref());
            out.write(&focus::to_csv(&rows, &table, &account)?)?;
            crate::say!(
                "wrote {} FOCUS rows to {} (BilledCost total {})",
                rows.len(),
                args.output.display(),
                exact(total)
            );
        }
        ExportFormat::FocusParquet => {
            let rows = focus::rows(&sessions, billing.as_ref(), args.scenario_tag.as_deref());
            let frame = |rows: &[focus::FocusRow]| parquet::focus(rows, &table, &account);
            let files = if by_day {
                out.write_dir(&output::EXPORT, |dir| {
                    write_days(dir, &rows, |r| r.day, frame)
                })?
            } else {
                write_parquet_to(&out, &mut frame(&rows)?)?;
                1
            };
            crate::say!(
                "wrote {} FOCUS rows in {files} file(s) under {} (BilledCost total {})",
                rows.len(),
                args.output.display(),
                exact(total)
            );
        }
        ExportFormat::Parquet => {
            let mut lines = lines(&sessions, billing.as_ref());
            let terms = billing.as_ref().map(|b| b.contract);
            let frame = |part: &[parquet::Line]| line_items(part, &table, terms);
            if by_day {
                // Stable: each day keeps the items in session order (a contract's rows last).
                lines.sort_by_key(parquet::Line::day);
                out.write_dir(&output::EXPORT, |dir| {
                    write_days(dir, &lines, parquet::Line::day, frame)
                })?;
            } else {
                write_parquet_to(&out, &mut frame(&lines)?)?;
            }
            let own = lines
                .iter()
                .filter(|l| matches!(l, parquet::Line::Term(_)))
                .count();
            match billing {
                None => crate::say!(
                    "wrote {} line items to {} (total {})",
                    lines.len(),
                    args.output.display(),
                    exact(total)
                ),
                Some(_) => crate::say!(
                    "wrote {} line items and {own} shortfall and credit row(s) to {} (billed_cost total {})",
                    lines.len() - own,
                    args.output.display(),
                    exact(total)
                ),
            }
        }
    }
    Ok(0)
}
