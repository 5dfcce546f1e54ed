//! One file per subcommand (as xsv has them): argument struct + `run`.

pub mod baseline;
pub mod check;
pub mod compare;
pub mod export;
pub mod fetch;
pub mod fit;
pub mod meter;
pub mod pricing;
pub mod project;
pub mod reconcile;
pub mod report;
pub mod simulate;
pub mod watch;
