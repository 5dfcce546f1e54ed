//! agentmeter: meter and price Claude Managed Agents sessions, exactly.
//!
//! The crate is a billing chain, one module per stage (see ARCHITECTURE.md):
//! [`ingest`] (files -> records) -> [`meter`] (records -> [`usage`]) -> [`rate`] (usage x
//! [`pricing`] -> line items) -> [`report`] / [`export`] (tables, JSON, CSV, markdown).

/// `eprintln!` that never panics: a message stderr cannot take (closed, `2>/dev/full`) is
/// dropped; the exit code still tells.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `println!` that never panics: output a closed pipe (`| head`) cannot take is dropped.
#[macro_export]
macro_rules! put {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

pub mod anomaly;
pub mod category;
pub mod cli;
pub mod cmd;
pub mod compare;
pub mod contract;
pub mod error;
pub mod export;
pub mod fetch;
pub mod files;
pub mod ingest;
pub mod meter;
pub mod money;
pub mod output;
pub mod pricing;
pub mod progress;
pub mod project;
pub mod rate;
pub mod reconcile;
pub mod report;
pub mod scenario;
pub mod simulate;
pub mod time;
pub mod usage;
