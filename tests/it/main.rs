//! The one integration-test binary (each tests/*.rs would link polars again).

mod anomalies;
mod claude_code_2x;
mod cli;
mod common;
mod contracts;
mod export;
mod fetch;
mod fixtures;
mod gate;
mod hostile_api;
mod hostile_inputs;
mod hostile_numbers;
mod managed;
mod mock;
mod prices;
mod pricing_cmd;
mod projection;
mod props;
mod reconcile;
mod report;
mod rules;
mod scale;
mod shards;
mod ship;
mod transcripts;
mod user_files;
