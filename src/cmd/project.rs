//! `agentmeter project`: a scenario's monthly spend, expected and with its uncertainty.

use std::path::PathBuf;

use clap::Args;

use crate::error::{Error, Result};
use crate::export::projection;
use crate::output::Output;
use crate::pricing::PriceTable;
use crate::project::{project, ProjectOptions, Projection};
use crate::scenario::Scenario;

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  agentmeter project scenarios/daily-research.toml\n  \
    agentmeter project scenarios/team.toml --runs 10000 --seed 7 --format json -o team.json\n  \
    agentmeter project scenarios/budget.toml   # uncertain volume, growth and prices: a budget's band\n  \
    agentmeter project scenarios/team.toml --model claude-opus-4-6 --model claude-sonnet-4-6   # side by side"
)]
pub struct ProjectArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Months to project (default: the scenario's `months`).
    #[arg(long)]
    pub months: Option<u32>,
    /// Monte Carlo runs.
    #[arg(long, default_value_t = 1000)]
    pub runs: u32,
    /// Random seed: the same seed gives the same result.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Price every agent as this model; repeat for a side-by-side comparison.
    #[arg(long = "model", value_name = "ID")]
    pub models: Vec<String>,
    /// Price table (default: the scenario's `pricing`, else the bundled table).
    #[arg(long, value_name = "FILE")]
    pub pricing: Option<PathBuf>,
    #[command(flatten)]
    pub out: super::TableOutput,
    /// Also write a report (HTML, markdown, charts, CSV, JSON) into DIR.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
}

/// Load the scenario and its prices, and project every requested model.
/// `--model` variants at most: each is a whole projection (with its own draw limit).
const MAX_MODELS: usize = 16;

pub fn projections(args: &ProjectArgs) -> Result<(Scenario, PriceTable, Vec<Projection>)> {
    if args.models.len() > MAX_MODELS {
        return Err(Error::new(format!(
            "--model: {} models, more than {MAX_MODELS} side by side",
            args.models.len()
        ))
        .with_hint("compare fewer models at a time"));
    }
    let scenario = Scenario::load(&args.scenario)?;
    let table =
        PriceTable::load_or_bundled(args.pricing.as_deref().or(scenario.pricing.as_deref()))?;
    let models: Vec<Option<String>> = if args.models.is_empty() {
        vec![None]
    } else {
        args.models.iter().cloned().map(Some).collect()
    };
    let mut out = Vec::new();
    for model in models {
        let opts = ProjectOptions {
            months: args.months,
            runs: args.runs,
            seed: args.seed,
            model,
            progress: crate::terminal::progress(),
        };
        out.push(project(&scenario, &table, &opts)?);
    }
    Ok((scenario, table, out))
}

pub fn run(args: ProjectArgs) -> Result<i32> {
    let out = Output::with_report(
        args.out.output.as_deref(),
        args.report.as_deref(),
        args.out.force,
    )?;
    let (scenario, table, ps) = projections(&args)?;
    out.write(&projection::render(&ps, args.out.format.into()))?;
    if let Some(dir) = &args.report {
        let inputs = vec![args.scenario.display().to_string()];
        let opts = ProjectOptions {
            months: args.months,
            runs: args.runs,
            seed: args.seed,
            model: None,
            progress: crate::terminal::progress(),
        };
        let ps = crate::project::with_plan(&scenario, &table, &opts, ps)?;
        crate::pipeline::write_projection_report(
            dir,
            scenario.name.clone(),
            inputs,
            &ps,
            args.out.force,
        )?;
    }
    Ok(0)
}
