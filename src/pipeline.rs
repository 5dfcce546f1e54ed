//! The chain the commands share: exports -> meter -> rate, and writing what it gives. Commands
//! call this, never each other.

use std::path::Path;
use std::sync::Mutex;

use chrono::NaiveDate;

use crate::contract::{Billing, Contract};
use crate::error::{settle, Error, Result, Skips};
use crate::export::parquet::{self, line_items, lines, Frame};
use crate::ingest;
use crate::meter::{self, MeterOptions};
use crate::output::{self, Output};
use crate::pricing::PriceTable;
use crate::project::Projection;
use crate::rate::{RatedSession, Rater};
use crate::report::document::{self, Report};
use crate::report::MeterReport;
use crate::time::Zone;

/// Ingest, meter and rate exports: the sessions, what the meter counted, and the problems.
/// Each session is rated as soon as it is metered and keeps only its totals (and its line
/// items, if `keep_items`), so memory grows with sessions, not with requests or bytes.
pub fn bill(
    paths: &[String],
    table: &PriceTable,
    opts: &MeterOptions,
    tz: Zone,
    keep_items: bool,
) -> Result<(Vec<RatedSession>, meter::MeterSummary, Skips)> {
    let inputs = ingest::discover(paths)?;
    let rater = Rater::new(table, tz);
    let rated = Mutex::new((Vec::new(), Skips::default()));
    let mut summary = meter::meter_each(&inputs, opts, |usage| {
        let (mut session, problems) = rater.rate(usage);
        session.shed_detail();
        if !keep_items {
            session.items = Vec::new();
        }
        for p in &problems {
            opts.skip_log.log(p);
        }
        let mut g = rated.lock().expect("poisoned");
        g.0.push(session);
        g.1.add_all(problems);
    })?;
    summary.passed_over = inputs.passed_over;
    let (mut sessions, problems) = rated.into_inner().expect("poisoned");
    sessions.shrink_to_fit();
    meter::sort_sessions(&mut sessions, |s| &s.usage);
    let mut skipped = std::mem::take(&mut summary.skipped);
    skipped.extend(problems);
    let skipped = settle(skipped, opts.skip_invalid)?;
    Ok((sessions, summary, skipped))
}

/// `--contract FILE`, checked against the price table; its warnings are shown.
pub fn load_contract(path: Option<&Path>, table: &PriceTable) -> Result<Option<Contract>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let (contract, warnings) = Contract::load(path, table)?;
    for w in warnings {
        crate::say!("{w}");
    }
    Ok(Some(contract))
}

/// Write a report of metered sessions (for `meter --report`).
pub fn write_meter_report(
    dir: &Path,
    name: String,
    inputs: Vec<String>,
    report: &MeterReport,
    force: bool,
) -> Result<()> {
    let mut r = Report::new(name, inputs);
    r.add_meter(report)?;
    write_report(dir, &r, force)
}

/// Write a report of projections (for `project --report`).
pub fn write_projection_report(
    dir: &Path,
    name: String,
    inputs: Vec<String>,
    ps: &[Projection],
    force: bool,
) -> Result<()> {
    let mut r = Report::new(name, inputs);
    r.add_projections(ps);
    write_report(dir, &r, force)
}

/// Write a report directory and say where.
pub fn write_report(dir: &Path, report: &Report, force: bool) -> Result<()> {
    let written = Output::new(Some(dir), force).write_dir(&output::REPORT, |fresh| {
        let mut written = Vec::new();
        document::write_into(fresh, report, &mut written)?;
        Ok(written)
    })?;
    crate::say!(
        "wrote a report to {} ({} files)",
        dir.display(),
        written.len()
    );
    Ok(())
}

/// `meter --export DIR`: sessions.parquet and line_items.parquet, replacing DIR whole; under
/// a contract with what the user pays (and the months' shortfall and credit rows).
pub fn write_usage_parquet(
    dir: &Path,
    sessions: &[RatedSession],
    table: &PriceTable,
    billing: Option<&Billing>,
    force: bool,
) -> Result<()> {
    Output::new(Some(dir), force).write_dir(&output::EXPORT, |fresh| {
        write_parquet(
            &fresh.join("sessions.parquet"),
            &mut parquet::sessions(sessions, billing)?,
        )?;
        write_parquet(
            &fresh.join("line_items.parquet"),
            &mut line_items(
                &lines(sessions, billing),
                table,
                billing.map(|b| b.contract),
            )?,
        )
    })
}

/// One Parquet file, written whole (never half a file at `path`).
fn write_parquet(path: &Path, df: &mut Frame) -> Result<()> {
    write_parquet_to(&Output::new(Some(path), false), df)
}

pub fn write_parquet_to(out: &Output, df: &mut Frame) -> Result<()> {
    out.write_with(|w| df.write_to(w))
}

/// Hive partitions under `dir`, `x_ChargeDate=YYYY-MM-DD/part-0.parquet`, one per run of equal
/// days in `rows` (sorted by day); the number of files. The key is a column of no file (a
/// reader adds it from the path; pyarrow refuses a key that is also a file's column), so a
/// partition has exactly the columns of a single-file export.
pub fn write_days<T>(
    dir: &Path,
    rows: &[T],
    day: impl Fn(&T) -> NaiveDate,
    frame: impl Fn(&[T]) -> Result<Frame>,
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
