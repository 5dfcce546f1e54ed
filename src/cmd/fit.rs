//! `agentmeter fit`: per-agent session distributions fitted from metered exports, written as a
//! scenario file, so a team projects from its own history.

use std::path::PathBuf;

use clap::Args;

use crate::error::{Error, Result};
use crate::fit::{fit_scenario, Empirical, FitOptions};
use crate::ingest;
use crate::meter::{self, MeterOptions};
use crate::output::{self, Output};

#[derive(Args, Debug)]
#[command(
    after_help = "Example:\n  agentmeter fit runs/ -o scenarios/ours.toml && agentmeter project scenarios/ours.toml"
)]
pub struct FitArgs {
    /// Export files or directories, as for `meter`.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub geo: super::GeoArgs,
    /// The scenario file to write.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// Scenario name (default: the output file's stem).
    #[arg(long)]
    pub name: Option<String>,
    /// Months to project (written into the scenario).
    #[arg(long, default_value_t = 12)]
    pub months: u32,
    /// Write every quantity as an empirical distribution (value files beside the scenario).
    #[arg(long)]
    pub empirical: bool,
    /// Skip bad records instead of stopping at the first.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Overwrite the output (and its value files) if they exist.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: FitArgs) -> Result<i32> {
    crate::scenario::check_months(args.months.into(), "--months")?;
    let out = Output::new(Some(&args.output), args.force);
    let data = Output::new(Some(&args.output.with_extension("data")), args.force);
    out.check()?;
    if args.empirical {
        data.check_dir(&output::FIT_DATA)?;
    }
    let sources = ingest::discover(&args.paths)?;
    let metered = meter::meter(
        &sources,
        &MeterOptions {
            skip_invalid: args.skip_invalid,
            ..args.geo.meter_options()
        },
    )?;
    if metered.sessions.is_empty() {
        return Err(Error::new("no sessions in the input: nothing to fit"));
    }
    let name = args.name.clone().unwrap_or_else(|| {
        args.output
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "fitted".into())
    });
    let data_dir = args.output.with_extension("data");
    let parent = args.output.parent().unwrap_or(std::path::Path::new(""));
    let inputs = args.paths.join(", ");
    let fitted = fit_scenario(
        &metered.sessions,
        &FitOptions {
            name: &name,
            months: args.months,
            inputs: &inputs,
            default_inference_geo: args.geo.default_inference_geo.as_deref(),
            sessions_per_day: None,
            empirical: args.empirical.then_some(Empirical {
                dir: &data_dir,
                relative_to: parent,
            }),
        },
    );
    for n in &fitted.notes {
        crate::say!("note: {n}");
    }
    let (text, data_files) = (fitted.text, fitted.data_files);
    if !data_files.is_empty() {
        data.write_dir(&output::FIT_DATA, |dir| {
            for (name, body) in &data_files {
                let p = dir.join(name);
                std::fs::write(&p, body).map_err(|e| Error::io(&p, e))?;
            }
            Ok(())
        })?;
    }
    out.write(&text)?;
    crate::say!(
        "wrote {} ({} agent(s))",
        args.output.display(),
        fitted.agents
    );
    Ok(0)
}
