//! Projections: scenario files, distributions and drivers, the Monte Carlo with its sketch,
//! and `simulate`, which writes exports of the same shape the meter reads.
#![forbid(unsafe_code)]

// The modules this crate builds on, under their own names, so paths read the same in every
// crate.
use agentmeter_core::{category, error, files, keys, money, progress, time, usage};
use agentmeter_pricing::{contract, pricing, rate};

pub mod fit;
pub mod history;
pub mod project;
pub mod scenario;
pub mod simulate;
