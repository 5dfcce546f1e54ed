//! Progress of long work (metering, Monte Carlo runs, fetching), as libraries report it: a
//! [`Reporter`] the caller supplies (the binary draws a line on a terminal), and the pieces of
//! such lines.

use std::sync::Arc;
use std::time::Duration;

#[cfg(test)]
use std::sync::atomic::Ordering;

/// How long work shows how far it got: a library describes its progress as a line, on
/// request; the binary decides whether and where to draw it (a terminal's stderr).
pub trait Reporter: Send + Sync {
    /// Run `work` (once) while `line(elapsed)` may be drawn, from another thread.
    fn during(&self, line: &(dyn Fn(Duration) -> String + Sync), work: &mut dyn FnMut());
}

/// The reporter an options struct carries; [`Progress::none`] (the default) shows nothing.
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<dyn Reporter>>);

impl Progress {
    pub fn none() -> Progress {
        Progress(None)
    }

    /// Do `work` while its reporter (if any) may show `line(elapsed)`.
    pub fn during<R>(
        &self,
        line: impl Fn(Duration) -> String + Sync,
        work: impl FnOnce() -> R,
    ) -> R {
        let Some(reporter) = &self.0 else {
            return work();
        };
        let (mut work, mut out) = (Some(work), None);
        reporter.during(&line, &mut || {
            if let Some(w) = work.take() {
                out = Some(w());
            }
        });
        out.expect("a reporter runs the work it is given")
    }
}

impl From<Arc<dyn Reporter>> for Progress {
    fn from(r: Arc<dyn Reporter>) -> Progress {
        Progress(Some(r))
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(shown)"
        } else {
            "Progress(none)"
        })
    }
}

/// `[#######-------]  45% 450/1000 runs`
pub fn bar(done: u64, total: u64, unit: &str) -> String {
    const WIDTH: u64 = 30;
    let done = done.min(total);
    let filled = (done * WIDTH / total.max(1)) as usize;
    format!(
        "[{}{}] {:>3}% {done}/{total} {unit}",
        "#".repeat(filled),
        "-".repeat(WIDTH as usize - filled),
        done * 100 / total.max(1)
    )
}

/// Bytes for people: `950 B`, `12.3 MB`, `1.07 GB` (powers of 1,000, as disks are sold).
pub fn bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} kB", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.2} GB", n as f64 / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_byte_counts_read_as_people_expect() {
        assert_eq!(
            bar(450, 1000, "runs"),
            "[#############-----------------]  45% 450/1000 runs"
        );
        assert_eq!(
            bar(7, 0, "runs"),
            "[------------------------------]   0% 0/0 runs"
        );
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(12_345_678), "12.3 MB");
        assert_eq!(bytes(1_075_000_000), "1.07 GB");
    }

    /// Without a reporter the work runs once, as is; with one, through it, once.
    #[test]
    fn work_runs_once_with_or_without_a_reporter() {
        struct Count(std::sync::atomic::AtomicU32);
        impl Reporter for Count {
            fn during(&self, line: &(dyn Fn(Duration) -> String + Sync), work: &mut dyn FnMut()) {
                assert_eq!(line(Duration::ZERO), "working");
                self.0.fetch_add(1, Ordering::Relaxed);
                work();
            }
        }
        let runs = std::sync::atomic::AtomicU32::new(0);
        let count = std::sync::Arc::new(Count(0.into()));
        for p in [
            Progress::none(),
            Progress::from(count.clone() as std::sync::Arc<dyn Reporter>),
        ] {
            let r = p.during(
                |_| "working".into(),
                || {
                    runs.fetch_add(1, Ordering::Relaxed);
                    42
                },
            );
            assert_eq!(r, 42);
        }
        assert_eq!((runs.into_inner(), count.0.load(Ordering::Relaxed)), (2, 1));
    }
}
