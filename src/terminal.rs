//! The progress line on a terminal: drawn on stderr only when it is a terminal and the work
//! has taken more than a moment, redrawn a few times a second from its own thread, erased when
//! the work ends (or panics). Libraries only describe their progress (`progress::Reporter`).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::progress::{Progress, Reporter};

/// The terminal's reporter, for a command's options.
pub fn progress() -> Progress {
    Progress::from(Arc::new(Terminal) as Arc<dyn Reporter>)
}

struct Terminal;

impl Reporter for Terminal {
    fn during(&self, line: &(dyn Fn(Duration) -> String + Sync), work: &mut dyn FnMut()) {
        during(true, line, work)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

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
