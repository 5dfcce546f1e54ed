//! agentmeter: meter and price Claude Managed Agents sessions, exactly.
//!
//! The billing chain is a workspace, one crate per stage (see ARCHITECTURE.md):
//! `agentmeter-ingest` (files -> records) -> `agentmeter-meter` (records -> usage) ->
//! `agentmeter-pricing` (usage x price table -> line items) -> `agentmeter-render` (tables,
//! JSON, CSV, FOCUS, charts); `agentmeter-project` simulates the same usage records,
//! `agentmeter-gate` compares and gates them, `agentmeter-api` talks to the API. This crate is
//! the binary: the command line ([`cli`], one file per command in [`cmd`]) and a facade that
//! keeps every stage at `agentmeter::<module>`.
// Two exceptions, allowed where they are: the terminal's width (cmd/meter.rs) and linking an
// O_TMPFILE file into place (output.rs).
#![deny(unsafe_code)]

pub use agentmeter_api::fetch;
pub use agentmeter_core::{
    category, error, files, keys, money, progress, put, say, schema, temp, time, usage,
};
pub use agentmeter_gate::{compare, reconcile};
pub use agentmeter_ingest::ingest;
pub use agentmeter_meter::meter;
pub use agentmeter_pricing::{contract, pricing, rate};
pub use agentmeter_project::{fit, history, project, scenario, simulate};
pub use agentmeter_render::{anomaly, export, report};

pub mod cli;
pub mod cmd;
pub mod output;
pub mod pipeline;
pub mod schemas;
pub mod terminal;
