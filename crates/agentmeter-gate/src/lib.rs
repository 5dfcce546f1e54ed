//! Comparisons and the CI gate: repricing and paired comparisons with a bootstrap interval,
//! baselines and `check`, and reconciliation against what the provider reported.
#![forbid(unsafe_code)]

// The modules this crate builds on, under their own names, so paths read the same in every
// crate.
use agentmeter_core::{category, error, files, money, say, schema, time, usage};
use agentmeter_ingest::ingest;
use agentmeter_pricing::{contract, pricing, rate};

pub mod compare;
pub mod reconcile;
