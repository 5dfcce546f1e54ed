//! Errors that reach the user: a message, an optional hint, and the exit code contract
//! (0 ok, 1 a gate failed, 2 anything else).

use std::fmt;

/// Exit code for every error this crate reports (design.md: "2: anything else went wrong").
pub const EXIT_ERROR: i32 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub message: String,
    pub hint: Option<String>,
}

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            hint: None,
        }
    }

    /// An error in an input record: `FILE:LINE: what is wrong`.
    pub fn at(file: &str, line: u64, message: impl fmt::Display) -> Self {
        Error::new(format!("{file}:{line}: {message}"))
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn io(path: &std::path::Path, err: std::io::Error) -> Self {
        Error::new(format!("{}: {err}", path.display()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where a record came from, so a later stage can still name the file and line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: std::sync::Arc<str>,
    /// The file's position among the inputs: problems are reported in input order.
    pub file_index: u32,
    pub line: u64,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A record that was not metered or priced, and why. Reported, never silently dropped:
/// without `--skip-invalid` the first one (in input order) is the run's error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub origin: Option<Origin>,
    pub reason: String,
    pub hint: Option<String>,
}

impl Skipped {
    pub fn to_error(&self) -> Error {
        let e = match &self.origin {
            Some(o) => Error::at(&o.file, o.line, &self.reason),
            None => Error::new(self.reason.clone()),
        };
        match &self.hint {
            Some(h) => e.with_hint(h.clone()),
            None => e,
        }
    }

    fn order_key(&self) -> (u32, u64) {
        self.origin
            .as_ref()
            .map_or((0, 0), |o| (o.file_index, o.line))
    }
}

/// Stop at the first problem in input order, or (with `--skip-invalid`) keep them all, sorted.
pub fn settle(mut skipped: Vec<Skipped>, skip_invalid: bool) -> Result<Vec<Skipped>> {
    skipped.sort_by_key(Skipped::order_key);
    match skipped.first() {
        Some(first) if !skip_invalid => Err(first.to_error()),
        _ => Ok(skipped),
    }
}
