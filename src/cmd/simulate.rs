//! `agentmeter simulate`: synthetic exports of a scenario, for tests, demos and benchmarks.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::Args;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::output::{self, Output};
use crate::scenario::Scenario;
use crate::simulate::{session, write_all};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  agentmeter simulate scenarios/team.toml --sessions 500 -o sim/          # one file per session\n  \
    agentmeter simulate scenarios/team.toml --sessions 500 -o sim.ndjson    # one file\n  \
    agentmeter meter sim/                                                  # meter what was simulated"
)]
pub struct SimulateArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// How many sessions to write (spread over the agents by their first-month volume).
    #[arg(long)]
    pub sessions: u64,
    /// Random seed: the same seed writes the same sessions.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A directory (one .ndjson per session), a file ending in .ndjson/.jsonl (all sessions), or
    /// - for stdout.
    #[arg(long, short = 'o', value_name = "DIR|FILE")]
    pub output: PathBuf,
    /// Replace an existing output: a file, or a directory of a simulation whole.
    #[arg(long)]
    pub force: bool,
}

const BATCH: u64 = 10_000;

pub fn run(args: SimulateArgs) -> Result<i32> {
    let scenario = Scenario::load(&args.scenario)?;
    let out = &args.output;
    let target = Output::new(Some(out), args.force);
    let one_file = target.path().is_none()
        || out
            .extension()
            .is_some_and(|e| e == "ndjson" || e == "jsonl");
    if one_file {
        target.write_with(|mut w| {
            for start in (0..args.sessions).step_by(BATCH as usize) {
                let batch: Vec<_> = (start..(start + BATCH).min(args.sessions))
                    .into_par_iter()
                    .map(|i| session(&scenario, args.seed, i))
                    .collect();
                write_all(&mut w, &batch)?;
            }
            Ok(())
        })?;
    } else {
        target.write_dir(&output::SIMULATION, |dir| {
            (0..args.sessions)
                .into_par_iter()
                .try_for_each(|i| -> Result<()> {
                    let s = session(&scenario, args.seed, i);
                    let path = dir.join(format!("{}.ndjson", s.id));
                    let file = std::fs::File::create_new(&path).map_err(|e| Error::io(&path, e))?;
                    let mut w = BufWriter::new(file);
                    write_all(&mut w, std::slice::from_ref(&s))
                        .and_then(|_| w.flush())
                        .map_err(|e| Error::io(&path, e))
                })
        })?;
    }
    eprintln!(
        "wrote {} simulated session(s) of {} to {}",
        args.sessions,
        scenario.name,
        out.display()
    );
    Ok(0)
}
