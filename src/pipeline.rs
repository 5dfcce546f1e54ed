//! The chain the commands share: exports -> meter -> rate, and writing what it gives. Commands
//! call this, never each other.

use std::sync::Mutex;

use crate::contract::Contract;
use crate::error::{settle, Result, Skips};
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
pub fn load_contract(
    path: Option<&std::path::Path>,
    table: &PriceTable,
) -> Result<Option<Contract>> {
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
    dir: &std::path::Path,
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
    dir: &std::path::Path,
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
pub fn write_report(dir: &std::path::Path, report: &Report, force: bool) -> Result<()> {
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
