//! `agentmeter project`: a scenario's monthly spend, expected and with its uncertainty.

use std::path::PathBuf;
use std::sync::Arc;

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
    agentmeter project scenarios/team.toml --model claude-opus-4-6 --model claude-sonnet-4-6   # side by side\n  \
    agentmeter project --from runs/ --months 6      # fitted from the exports, in memory\n  \
    agentmeter project --from runs/ --sessions-per-day 500   # the same sessions, at another volume",
    mut_arg("contract", |a| a.help(super::ContractArg::help(
        "its discounts are priced into each day of the plan, so the expectation and every run are what the user pays (the list expectation beside); its commitments and credits are applied to the expected spend of each month and to each run's months (the bill's p5-p95 band)."
    )))
)]
pub struct ProjectArgs {
    /// Scenario file (TOML).
    #[arg(required_unless_present = "from", conflicts_with = "from")]
    pub scenario: Option<PathBuf>,
    /// Project straight from exports: a scenario fitted from them in memory, as `fit` writes it
    /// (files, directories or -, as for `meter`).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub from: Vec<String>,
    /// With --from: every agent's sessions per day, instead of its history's level.
    #[arg(long, value_name = "N")]
    pub sessions_per_day: Option<f64>,
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
    pub contract: super::ContractArg,
    #[command(flatten)]
    pub out: super::TableOutput,
    /// Also write a report (HTML, markdown, charts, CSV, JSON) into DIR.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
}

/// Load the scenario and its prices, and project every requested model.
/// `--model` variants at most: each is a whole projection (with its own draw limit).
const MAX_MODELS: usize = 16;

pub fn projections(
    args: &ProjectArgs,
) -> Result<(Scenario, PriceTable, Vec<Projection>, ProjectOptions)> {
    if args.models.len() > MAX_MODELS {
        return Err(Error::new(format!(
            "--model: {} models, more than {MAX_MODELS} side by side",
            args.models.len()
        ))
        .with_hint("compare fewer models at a time"));
    }
    let scenario = match &args.scenario {
        Some(_) if args.sessions_per_day.is_some() => {
            return Err(Error::new(
                "--sessions-per-day sets the volume of a scenario fitted with --from",
            )
            .with_hint("write `sessions_per_day` in the scenario file instead"))
        }
        Some(path) => Scenario::load(path)?,
        None => fitted(args)?,
    };
    let table =
        PriceTable::load_or_bundled(args.pricing.as_deref().or(scenario.pricing.as_deref()))?;
    let contract = args.contract.load(&table)?.map(Arc::new);
    let plan = ProjectOptions {
        months: args.months,
        runs: args.runs,
        seed: args.seed,
        model: None,
        progress: crate::terminal::progress(),
        contract,
    };
    let models: Vec<Option<String>> = if args.models.is_empty() {
        vec![None]
    } else {
        args.models.iter().cloned().map(Some).collect()
    };
    let mut out = Vec::new();
    for model in models {
        let opts = ProjectOptions {
            model,
            ..plan.clone()
        };
        out.push(project(&scenario, &table, &opts)?);
    }
    Ok((scenario, table, out, plan))
}

/// The scenario `fit` would write from `--from`'s exports (`--months`, 12 by default).
fn fitted(args: &ProjectArgs) -> Result<Scenario> {
    if let Some(n) = args.sessions_per_day {
        if !(n.is_finite() && n >= 0.0) {
            return Err(Error::new(format!(
                "--sessions-per-day {n}: expected a number of sessions, 0 or more"
            )));
        }
    }
    let sources = crate::ingest::discover(&args.from)?;
    let metered = crate::meter::meter(
        &sources,
        &crate::meter::MeterOptions {
            progress: crate::terminal::progress(),
            ..Default::default()
        },
    )?;
    if metered.sessions.is_empty() {
        return Err(Error::new(
            "--from: no sessions in the input: nothing to fit",
        ));
    }
    let inputs = args.from.join(", ");
    let fitted = crate::fit::fit_scenario(
        &metered.sessions,
        &crate::fit::FitOptions {
            name: "fitted",
            months: args.months.unwrap_or(12),
            inputs: &inputs,
            sessions_per_day: args.sessions_per_day,
            ..Default::default()
        },
    );
    for n in &fitted.notes {
        crate::say!("note: {n}");
    }
    let name = format!("scenario fitted from {inputs}");
    Scenario::parse(&fitted.text, &name, std::path::Path::new("."))
}

pub fn run(args: ProjectArgs) -> Result<i32> {
    let out = Output::with_report(
        args.out.output.as_deref(),
        args.report.as_deref(),
        args.out.force,
    )?;
    let (scenario, table, ps, opts) = projections(&args)?;
    out.write(&projection::render(&ps, args.out.format.into()))?;
    if let Some(dir) = &args.report {
        let inputs = match &args.scenario {
            Some(path) => vec![path.display().to_string()],
            None => args.from.clone(),
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
