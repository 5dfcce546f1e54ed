//! Metering: records -> per-session usage (runtime clock, de-duplication, model resolution),
//! in bounded memory (spill and merge). Metering never sees a price.
#![forbid(unsafe_code)]

// The core modules under their own names, so paths read the same in every crate.
use agentmeter_core::{error, money, progress, temp, time, usage};
use agentmeter_ingest::ingest;

pub mod meter;
