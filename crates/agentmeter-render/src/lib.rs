//! Outputs: terminal and markdown tables, JSON, CSV, FOCUS, Parquet, charts, HTML reports and
//! anomaly grouping. The only crate with polars and plotters.
#![forbid(unsafe_code)]

// The modules this crate builds on, under their own names, so paths read the same in every
// crate.
use agentmeter_core::{category, error, money, progress, schema, time, usage};
use agentmeter_meter::meter;
use agentmeter_pricing::{contract, pricing, rate};
use agentmeter_project::project;

pub mod anomaly;
pub mod export;
pub mod report;
