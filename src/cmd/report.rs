//! `agentmeter report`: a report directory from exports (metered) and/or a scenario (projected).

use std::path::PathBuf;

use clap::Args;

use crate::error::{Error, Result};
use crate::meter::MeterOptions;
use crate::pipeline::bill;
use crate::pricing::PriceTable;
use crate::project::{project, with_plan, ProjectOptions};
use crate::report::document::Report;
use crate::report::MeterReport;
use crate::scenario::Scenario;
use crate::time::Zone;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  agentmeter report runs/                                   # reports/runs/\n  \
    agentmeter report --scenario scenarios/team.toml --model claude-opus-4-6 --model claude-sonnet-4-6\n  \
    agentmeter report runs/ --scenario scenarios/ours.toml -o reports/q1",
    mut_arg("contract", |a| a.help(super::ContractArg::help(
        "the metered part shows what the user pays beside list (summary, tables, sessions, notes); the projection is priced under it as `project --contract` prices it."
    )))
)]
pub struct ReportArgs {
    /// Exports to meter (files, directories or -), as for `meter`.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub files_from: super::FilesFromArgs,
    #[command(flatten)]
    pub geo: super::GeoArgs,
    #[command(flatten)]
    pub shard: super::ShardArgs,
    /// A scenario to project.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// For the projection: price every agent as this model; repeat to compare.
    #[arg(long = "model", value_name = "ID")]
    pub models: Vec<String>,
    /// For the projection: Monte Carlo runs.
    #[arg(long, default_value_t = 1000)]
    pub runs: u32,
    /// For the projection: random seed (the same seed gives the same result).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// For the projection: months to project (default: the scenario's `months`).
    #[arg(long)]
    pub months: Option<u32>,
    /// Price table (default: the scenario's, else the bundled table).
    #[arg(long, value_name = "FILE")]
    pub pricing: Option<PathBuf>,
    #[command(flatten)]
    pub contract: super::ContractArg,
    /// Time zone of the daily chart.
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub tz: Zone,
    /// Skip bad records instead of stopping at the first.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Report name (default: the scenario's name or the first input's stem).
    #[arg(long)]
    pub name: Option<String>,
    /// Report directory (default: reports/NAME).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Replace a report already in the directory.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: ReportArgs) -> Result<i32> {
    let paths = args.files_from.paths(&args.paths)?;
    if paths.is_empty() && args.scenario.is_none() {
        return Err(Error::new("nothing to report")
            .with_hint("give export PATHs to meter, --scenario FILE to project, or both"));
    }
    let scenario = args.scenario.as_deref().map(Scenario::load).transpose()?;
    let table = PriceTable::load_or_bundled(
        args.pricing
            .as_deref()
            .or(scenario.as_ref().and_then(|s| s.pricing.as_deref())),
    )?;
    let contract = args.contract.load(&table)?.map(std::sync::Arc::new);
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| match (&scenario, paths.first()) {
            (Some(s), _) => s.name.clone(),
            (None, Some(p)) => std::path::Path::new(p)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "report".into()),
            (None, None) => "report".into(),
        });
    let dir = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from("reports").join(&name));
    // Before projecting and metering, which may take long.
    crate::output::Output::new(Some(&dir), args.force).check_dir(&crate::output::REPORT)?;
    let mut inputs = paths.clone();
    inputs.extend(args.scenario.iter().map(|p| p.display().to_string()));

    let projections = match &scenario {
        Some(s) => {
            let opts = ProjectOptions {
                months: args.months,
                runs: args.runs,
                seed: args.seed,
                model: None,
                progress: crate::terminal::progress(),
                contract: contract.clone(),
            };
            let variants = args
                .models
                .iter()
                .map(|m| {
                    let opts = ProjectOptions {
                        model: Some(m.clone()),
                        ..opts.clone()
                    };
                    project(s, &table, &opts)
                })
                .collect::<Result<Vec<_>>>()?;
            with_plan(s, &table, &opts, variants)?
        }
        None => Vec::new(),
    };
    let metered = if paths.is_empty() {
        None
    } else {
        let opts = MeterOptions {
            skip_invalid: args.skip_invalid,
            ..args.shard.apply(args.geo.meter_options())
        };
        Some(bill(&paths, &table, &opts, args.tz, true)?)
    };
    let billing = match (&metered, &contract) {
        (Some((sessions, _, _)), Some(c)) => Some(crate::contract::apply(c, sessions)),
        _ => None,
    };
    let report = metered.as_ref().map(|(sessions, m, skipped)| MeterReport {
        billing: billing.as_ref(),
        ..MeterReport::new(&table, sessions, m, skipped)
    });
    let mut r = Report::new(name, inputs);
    if let Some(m) = &report {
        r.add_meter(m)?;
    }
    r.add_projections(&projections);
    crate::pipeline::write_report(&dir, &r, args.force)?;
    Ok(0)
}
