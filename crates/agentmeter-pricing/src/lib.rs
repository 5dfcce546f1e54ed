//! Prices as effective-dated data, and rating: usage x price table -> line items, then a
//! contract's terms on top. Rating never sees a raw event (see ARCHITECTURE.md).
#![forbid(unsafe_code)]

// The core modules under their own names, so paths read the same in every crate.
use agentmeter_core::{category, error, files, keys, schema, time, usage};

pub mod contract;
pub mod pricing;
pub mod rate;
