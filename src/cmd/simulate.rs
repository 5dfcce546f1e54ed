//! `agentmeter simulate`: synthetic exports of a scenario, for tests, demos and benchmarks.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::Args;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::output::{self, Output};
use crate::scenario::Scenario;
use crate::simulate::{agent_weights, session, write_all};

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
/// Lines held in memory at once when writing one file (a batch of sessions).
const BATCH_LINES: f64 = 1e6;
/// Bounds on what one `simulate` writes, so a typo cannot fill the disk or run for days.
pub const MAX_SESSIONS: u64 = 10_000_000;
pub const MAX_LINES: f64 = 2e8;

/// The expected NDJSON lines of one session of the heaviest agent: the session object, up to
/// three stretches of user message, running and idle, two per request and per search.
fn lines_per_session(scenario: &Scenario) -> f64 {
    scenario
        .agents
        .iter()
        .map(|a| 10.0 + 2.0 * (a.session.requests.mean_f64() + a.session.web_searches.mean_f64()))
        .fold(0.0, f64::max)
}

pub fn run(args: SimulateArgs) -> Result<i32> {
    if args.sessions > MAX_SESSIONS {
        return Err(Error::new(format!(
            "--sessions: {} is more than {MAX_SESSIONS} sessions",
            args.sessions
        ))
        .with_hint("simulate in several runs with different --seed values"));
    }
    let scenario = Scenario::load(&args.scenario)?;
    let per_session = lines_per_session(&scenario);
    let lines = per_session * args.sessions as f64;
    if lines > MAX_LINES {
        return Err(Error::new(format!(
            "--sessions: {} sessions of {} would write about {lines:.1e} lines, more than {MAX_LINES:e}",
            args.sessions,
            args.scenario.display()
        ))
        .with_hint("simulate fewer sessions, or sessions with fewer requests and searches"));
    }
    let batch = ((BATCH_LINES / per_session) as u64).clamp(1, BATCH);
    let weights = agent_weights(&scenario);
    let out = &args.output;
    let target = Output::new(Some(out), args.force);
    let one_file = target.path().is_none()
        || out
            .extension()
            .is_some_and(|e| e == "ndjson" || e == "jsonl");
    if one_file {
        target.write_with(|mut w| {
            for start in (0..args.sessions).step_by(batch as usize) {
                let batch: Vec<_> = (start..(start + batch).min(args.sessions))
                    .into_par_iter()
                    .map(|i| session(&scenario, &weights, args.seed, i))
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
                    let s = session(&scenario, &weights, args.seed, i);
                    let path = dir.join(format!("{}.ndjson", s.id));
                    let file = std::fs::File::create_new(&path).map_err(|e| Error::io(&path, e))?;
                    let mut w = BufWriter::new(file);
                    write_all(&mut w, std::slice::from_ref(&s))
                        .and_then(|_| w.flush())
                        .map_err(|e| Error::io(&path, e))
                })
        })?;
    }
    crate::say!(
        "wrote {} simulated session(s) of {} to {}",
        args.sessions,
        scenario.name,
        out.display()
    );
    Ok(0)
}
