//! `agentmeter contract check FILE`: validate a contract as `pricing check` validates a table.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::contract::Contract;
use crate::error::Result;
use crate::pricing::check::Level;

#[derive(Subcommand, Debug)]
pub enum ContractCommand {
    /// Validate a contract (exit 2 if unusable): unknown keys, bad dates and amounts,
    /// overlapping discounts; models not in the price table are warnings.
    Check(CheckArgs),
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  agentmeter contract check contracts/example.toml\n  \
    agentmeter contract check acme.toml --pricing my-prices.toml"
)]
pub struct CheckArgs {
    /// The contract to validate.
    pub file: PathBuf,
    /// The price table its models are checked against.
    #[command(flatten)]
    pub table: super::PricingArg,
}

pub fn run(c: ContractCommand) -> Result<i32> {
    let ContractCommand::Check(a) = c;
    let table = a.table.load()?;
    let text = crate::files::read_small(&a.file)?;
    let origin = a.file.display().to_string();
    let (contract, problems) = Contract::parse_and_check(&text, &origin, &table);
    super::pricing::show_problems(&origin, &problems);
    let count = |l: Level| problems.iter().filter(|p| p.level == l).count();
    match contract {
        Some(c) => {
            crate::put!(
                "ok: {origin} ({}): {} discount(s), {} commitment(s), {} credit(s), {} warning(s)",
                c.version,
                c.discounts.len(),
                c.commitments.len(),
                c.credits.len(),
                count(Level::Warning)
            );
            Ok(0)
        }
        None => {
            crate::say!(
                "error: {origin}: {} error(s); the contract cannot be used",
                count(Level::Error)
            );
            Ok(crate::error::EXIT_ERROR)
        }
    }
}
