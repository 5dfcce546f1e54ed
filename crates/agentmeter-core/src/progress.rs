//! A one-line progress display on stderr for long work (metering, Monte Carlo runs): drawn
//! only when stderr is a terminal and the work has taken more than a moment, redrawn a few
//! times a second from its own thread, erased when the work ends (or panics).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Do `work` while `line(elapsed)` is redrawn on stderr, if `show` and stderr is a terminal.
pub fn during<R>(
    show: bool,
    line: impl Fn(Duration) -> String + Sync,
    work: impl FnOnce() -> R,
) -> R {
    if !(show && std::io::stderr().is_terminal()) {
        return work();
    }
    let finished = AtomicBool::new(false);
    // Set, and the drawing thread woken, even if `work` panics: the scope joining that thread
    // ends at once.
    struct Finish<'a>(&'a AtomicBool, std::thread::Thread);
    impl Drop for Finish<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
            self.1.unpark();
        }
    }
    std::thread::scope(|scope| {
        let drawer = scope.spawn(|| draw(&finished, &line));
        let _finish = Finish(&finished, drawer.thread().clone());
        work()
    })
}

fn draw(finished: &AtomicBool, line: &(impl Fn(Duration) -> String + Sync)) {
    let start = Instant::now();
    let mut width = 0usize;
    while !finished.load(Ordering::Relaxed) {
        std::thread::park_timeout(Duration::from_millis(100));
        // Only for work that takes more than a moment.
        if start.elapsed() < Duration::from_millis(300) || finished.load(Ordering::Relaxed) {
            continue;
        }
        let text = line(start.elapsed());
        let pad = width.saturating_sub(text.chars().count());
        width = width.max(text.chars().count());
        let _ = write!(std::io::stderr(), "\r{text}{}", " ".repeat(pad));
        let _ = std::io::stderr().flush();
    }
    if width > 0 {
        let _ = write!(std::io::stderr(), "\r{}\r", " ".repeat(width));
        let _ = std::io::stderr().flush();
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

    /// The work runs once and its result comes back as is (quick work draws nothing, on a
    /// terminal or not).
    #[test]
    fn work_runs_once_and_returns_its_result() {
        let runs = std::sync::atomic::AtomicU32::new(0);
        let r = during(
            true,
            |_| "working".into(),
            || {
                runs.fetch_add(1, Ordering::Relaxed);
                42
            },
        );
        assert_eq!((r, runs.into_inner()), (42, 1));
    }
}
