//! The command line: argument definitions and dispatch. Each subcommand lives in `cmd/`.

use clap::{Parser, Subcommand};

use crate::cmd;
use crate::error::{Error, EXIT_ERROR};

#[derive(Parser, Debug)]
#[command(
    name = "agentmeter",
    version,
    about = "Meter and price Claude Managed Agents sessions, exactly, from their event logs",
    long_about = "Meter and price Claude Managed Agents sessions, exactly, from their event logs.\n\n\
        agentmeter reads session exports (NDJSON, events-page JSON, SSE transcripts; plain, .gz or .zst), \
        meters each session's running time to the millisecond and its tokens, cache traffic and web searches, \
        and prices them from an effective-dated price table. Everything runs offline.",
    after_help = "Examples:\n  agentmeter meter runs/                      # one row per session, a totals row\n  \
        agentmeter meter runs/ --group-by day --tz Europe/Paris\n  \
        agentmeter meter runs/ --format json -o meter.json\n  \
        agentmeter pricing list --at 2026-06-01\n\n\
        Exit codes: 0 success, 1 a check failed, 2 an error (bad input, unknown model, ...)."
)]
pub struct Cli {
    /// Colour changes in tables on stdout (red up, green down): auto (on a terminal, unless
    /// NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = crate::terminal::ColorWhen::Auto)]
    pub color: crate::terminal::ColorWhen,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Meter session exports and price them: runtime, tokens, cache, web search.
    Meter(cmd::meter::MeterArgs),
    /// Compare: the same traces priced as several models/tables, or two sets of runs paired by task.
    Compare(cmd::compare::CompareArgs),
    /// Record the cost of each task of a run, for `check` to compare against.
    Baseline(cmd::baseline::BaselineArgs),
    /// Fail (exit 1) when a run costs more than the baseline allows: the CI cost gate.
    Check(cmd::check::CheckArgs),
    /// Export priced usage as FOCUS 1.3 (CSV, Parquet) or line items (Parquet).
    Export(cmd::export::ExportArgs),
    /// Computed vs provider-reported cost per session, and vs the invoice by day.
    Reconcile(cmd::reconcile::ReconcileArgs),
    /// Days whose spend per agent, model or project is far from the same weekday's usual.
    Anomalies(cmd::anomalies::AnomaliesArgs),
    /// Fetch session exports from the Managed Agents API (key from ANTHROPIC_API_KEY).
    Fetch(cmd::fetch::FetchArgs),
    /// Follow a session live: status, running time, tokens and cost so far.
    Watch(cmd::watch::WatchArgs),
    /// Project a scenario's monthly spend: exact expectation and Monte Carlo percentiles.
    Project(cmd::project::ProjectArgs),
    /// Fit a scenario (per-agent session distributions) from real exports.
    Fit(cmd::fit::FitArgs),
    /// Write synthetic session exports of a scenario (the design.md format).
    Simulate(cmd::simulate::SimulateArgs),
    /// Write a report (HTML, markdown, charts, CSV, JSON) of exports and/or a scenario.
    Report(cmd::report::ReportArgs),
    /// Validate a contract (discounts, commitments, credits) for `--contract`.
    #[command(subcommand)]
    Contract(cmd::contract::ContractCommand),
    /// Inspect, validate and compare price tables.
    #[command(subcommand)]
    Pricing(cmd::pricing::PricingCommand),
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish.
    Completions(cmd::completions::CompletionsArgs),
    /// Print the man page (roff), or write one page per command with --dir.
    Man(cmd::completions::ManArgs),
}

/// Run the command line; returns the process exit code.
pub fn main() -> i32 {
    crate::temp::remove_temps_on_signals();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    crate::terminal::set_color(cli.color);
    let result = match cli.command {
        Command::Meter(args) => cmd::meter::run(args),
        Command::Pricing(c) => cmd::pricing::run(c),
        Command::Contract(c) => cmd::contract::run(c),
        Command::Project(args) => cmd::project::run(args),
        Command::Compare(args) => cmd::compare::run(args),
        Command::Export(args) => cmd::export::run(args),
        Command::Fetch(args) => cmd::fetch::run(args),
        Command::Watch(args) => cmd::watch::run(args),
        Command::Reconcile(args) => cmd::reconcile::run(args),
        Command::Anomalies(args) => cmd::anomalies::run(args),
        Command::Baseline(args) => cmd::baseline::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Simulate(args) => cmd::simulate::run(args),
        Command::Fit(args) => cmd::fit::run(args),
        Command::Report(args) => cmd::report::run(args),
        Command::Completions(args) => cmd::completions::completions(args),
        Command::Man(args) => cmd::completions::man(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            EXIT_ERROR
        }
    }
}

pub fn report(e: &Error) {
    crate::say!("error: {}", e.message);
    if let Some(h) = &e.hint {
        crate::say!("hint: {h}");
    }
}
