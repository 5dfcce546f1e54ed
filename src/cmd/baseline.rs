//! `agentmeter baseline`: the cost of each task of a run, for `agentmeter check` to compare with.

use std::path::PathBuf;

use clap::Args;

use crate::compare::gate::baseline;
use crate::compare::TaskKey;
use crate::error::{Error, Result};
use crate::ingest;
use crate::meter;
use crate::output::Output;

#[derive(Args, Debug)]
#[command(
    after_help = "Example (on main):\n  agentmeter baseline runs/ -o baseline.json --key title",
    mut_arg("contract", |a| a.help(super::ContractArg::help(
        "each task's cost is what the user pays under its discounts, and the baseline records the contract, for `check` to price the baseline's side under it again."
    )))
)]
pub struct BaselineArgs {
    /// Exports of the run (files, directories or -).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub geo: super::GeoArgs,
    /// The baseline file to write.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// What identifies a task: title, metadata.KEY, file or session.
    #[arg(long, default_value = "title", value_name = "KEY")]
    pub key: String,
    #[command(flatten)]
    pub pricing: super::PricingArg,
    #[command(flatten)]
    pub contract: super::ContractArg,
    /// Overwrite the output if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: BaselineArgs) -> Result<i32> {
    let key: TaskKey = args
        .key
        .parse()
        .map_err(|e| Error::new(format!("--key: {e}")))?;
    let table = args.pricing.load()?;
    let contract = args.contract.load(&table)?;
    let sources = ingest::discover(&args.paths)?;
    let metered = meter::meter(&sources, &args.geo.meter_options())?;
    if metered.sessions.is_empty() {
        return Err(Error::new("the run has no sessions: nothing to baseline"));
    }
    let (b, no_key, list) = baseline(metered.sessions, &key, &table, contract.as_ref())?;
    if b.tasks.is_empty() {
        return Err(Error::new(format!("no session has a task key ({key})"))
            .with_hint("choose another --key: title, metadata.KEY, file or session"));
    }
    let text = serde_json::to_string_pretty(&b)
        .map_err(|e| Error::new(format!("writing the baseline: {e}")))?
        + "\n";
    Output::new(Some(&args.output), args.force).write(&text)?;
    match &b.contract {
        None => crate::say!(
            "wrote {}: {} task(s), total ${}, prices {}",
            args.output.display(),
            b.tasks.len(),
            b.total,
            b.pricing.version
        ),
        Some(c) => crate::say!(
            "wrote {}: {} task(s), total ${} under contract {} (${} at list), prices {}",
            args.output.display(),
            b.tasks.len(),
            b.total,
            c.version,
            crate::money::exact(list),
            b.pricing.version
        ),
    }
    if !no_key.is_empty() {
        crate::say!(
            "warning: {} session(s) without a task key ({key}) are not in the baseline: {}",
            no_key.len(),
            no_key.join(", ")
        );
    }
    Ok(0)
}
