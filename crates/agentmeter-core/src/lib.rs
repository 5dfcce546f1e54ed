//! agentmeter's shared vocabulary: the usage records the meter produces and the projection
//! simulates, time (milliseconds, UTC), money display, errors with their origins, the bounded
//! small-file reader, temporary paths cleaned up on every exit, and the progress line.
//!
//! Every other agentmeter crate builds on this one; it knows no prices, no events and no
//! command line.
#![forbid(unsafe_code)]

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

pub mod category;
pub mod error;
pub mod files;
pub mod keys;
pub mod money;
pub mod progress;
pub mod schema;
pub mod temp;
pub mod time;
pub mod usage;
