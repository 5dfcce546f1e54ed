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

/// When changes are coloured (`--color`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless `NO_COLOR` is set (or `TERM=dumb`).
    #[default]
    Auto,
    Always,
    Never,
}

static COLOR: std::sync::OnceLock<ColorWhen> = std::sync::OnceLock::new();

/// Set once, from the command line.
pub fn set_color(when: ColorWhen) {
    let _ = COLOR.set(when);
}

fn color_stdout() -> bool {
    match COLOR.get().copied().unwrap_or_default() {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
    }
}

/// Text for stdout with its changes coloured when colour is on: a signed amount or
/// percentage (`+$0.12`, `-4.5%`) red when up, green when down. Escape codes take no columns,
/// so aligned tables stay aligned.
pub fn paint_changes(text: String) -> String {
    if color_stdout() {
        paint(&text)
    } else {
        text
    }
}

fn paint(text: &str) -> String {
    const RED: &str = "\x1b[31m";
    const GREEN: &str = "\x1b[32m";
    const RESET: &str = "\x1b[0m";
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 64);
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        let starts = (b[i] == b'+' || b[i] == b'-')
            && (i == 0 || matches!(b[i - 1], b' ' | b'(' | b'|' | b'\t' | b'\n'))
            && b.get(i + 1)
                .is_some_and(|c| *c == b'$' || c.is_ascii_digit());
        if !starts {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < b.len() && (b[end].is_ascii_digit() || b"$.,%".contains(&b[end])) {
            end += 1;
        }
        // Only a number counts (`-$` alone is not a change), and a zero is no change.
        let token = &text[i..end];
        let zero = !token.bytes().any(|c| (b'1'..=b'9').contains(&c));
        if token.bytes().any(|c| c.is_ascii_digit()) && !zero {
            out.push_str(&text[last..i]);
            out.push_str(if b[i] == b'+' { RED } else { GREEN });
            out.push_str(token);
            out.push_str(RESET);
            last = end;
        }
        i = end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Up is red, down green; zeros, dashes, ids and words with a sign inside are left alone.
    #[test]
    fn changes_are_red_up_and_green_down() {
        let text = "a  +$0.12  -$0.18 (+16%) -4.5%  $0.00  -$0.00  -  x-1  sesn-2\n";
        assert_eq!(
            paint(text),
            "a  \x1b[31m+$0.12\x1b[0m  \x1b[32m-$0.18\x1b[0m (\x1b[31m+16%\x1b[0m) \x1b[32m-4.5%\x1b[0m  $0.00  -$0.00  -  x-1  sesn-2\n"
        );
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
