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

/// Where every skipped record is written as it is found (`--skipped-out`), one
/// `FILE:LINE: reason` line each, in the order found: the full list, in constant memory.
#[derive(Clone, Default)]
pub struct SkipLog(Option<std::sync::Arc<std::sync::Mutex<std::io::BufWriter<std::fs::File>>>>);

impl SkipLog {
    pub fn to(file: std::fs::File) -> Self {
        SkipLog(Some(std::sync::Arc::new(std::sync::Mutex::new(
            std::io::BufWriter::new(file),
        ))))
    }

    pub fn log(&self, s: &Skipped) {
        use std::io::Write;
        if let Some(w) = &self.0 {
            let mut w = w.lock().unwrap_or_else(|e| e.into_inner());
            let _ = match &s.origin {
                Some(o) => writeln!(w, "{o}: {}", s.reason),
                None => writeln!(w, "{}", s.reason),
            };
        }
    }

    /// Write out what is buffered.
    pub fn flush(&self) -> std::io::Result<()> {
        use std::io::Write;
        match &self.0 {
            Some(w) => w.lock().unwrap_or_else(|e| e.into_inner()).flush(),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for SkipLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "SkipLog(on)"
        } else {
            "SkipLog(off)"
        })
    }
}

/// How many problems a run keeps to show (the first, in input order); every one is counted.
pub const SKIPPED_KEPT: usize = 1000;

/// Problems as they are found: every one counted, the first [`SKIPPED_KEPT`] in input order
/// kept, so a run over millions of bad lines does not hold millions of messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Skips {
    pub kept: Vec<Skipped>,
    pub total: u64,
}

impl Skips {
    pub fn push(&mut self, s: Skipped) {
        self.total += 1;
        self.kept.push(s);
        self.bound();
    }

    pub fn extend(&mut self, other: Skips) {
        self.total += other.total;
        self.kept.extend(other.kept);
        self.bound();
    }

    /// Take problems found elsewhere (each one counts).
    pub fn add_all(&mut self, more: impl IntoIterator<Item = Skipped>) {
        for s in more {
            self.push(s);
        }
    }

    fn bound(&mut self) {
        // Trimmed in batches, so keeping the first N costs O(1) per problem on average.
        if self.kept.len() >= 2 * SKIPPED_KEPT {
            self.trim();
        }
    }

    fn trim(&mut self) {
        self.kept.sort_by_key(Skipped::order_key);
        self.kept.truncate(SKIPPED_KEPT);
    }

    /// Problems counted but not kept.
    pub fn not_kept(&self) -> u64 {
        self.total - self.kept.len() as u64
    }
}

/// Stop at the first problem in input order, or (with `--skip-invalid`) keep them, sorted
/// (the first [`SKIPPED_KEPT`], all counted).
pub fn settle(mut skips: Skips, skip_invalid: bool) -> Result<Skips> {
    skips.trim();
    match skips.kept.first() {
        Some(first) if !skip_invalid => Err(first.to_error()),
        _ => Ok(skips),
    }
}
