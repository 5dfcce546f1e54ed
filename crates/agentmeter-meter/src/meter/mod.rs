//! Meter: events -> usage. Groups records by session (the context rule of design.md),
//! de-duplicates and orders each session's events, and turns them into [`SessionUsage`]:
//! running intervals, requests with their model and split cache writes, web searches.
//! The meter never sees a price.

mod collect;
mod runtime;
mod session;
mod store;
pub mod transcript;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::error::{settle, Result, Skips};
use crate::ingest::{self, Source};
use crate::usage::{Selection, SessionUsage};
use store::Store;
pub use store::DEFAULT_BUDGET_MB;

pub use crate::usage::CacheTtl;

#[derive(Clone, Debug, Default)]
pub struct MeterOptions {
    /// Price every request as this model (`--model`).
    pub model: Option<String>,
    pub cache_ttl: CacheTtl,
    /// Go on past bad records, counting and listing them (`--skip-invalid`).
    pub skip_invalid: bool,
    /// Keep only shard `i` of `n` (1-based): the files (default) or the sessions of it.
    pub shard: Option<(u32, u32)>,
    /// What `shard` splits: whole files, or sessions (which reads every file).
    pub shard_by: ShardBy,
    /// MB of per-session state to keep in memory before spilling to disk (`--memory`);
    /// `None`: [`DEFAULT_BUDGET_MB`].
    pub memory_mb: Option<usize>,
    /// Keep only this usage (`--since`, `--until`, `--project`).
    pub select: Selection,
    /// Where progress is shown (the binary: on a terminal); default: nowhere.
    pub progress: crate::progress::Progress,
    /// Where every skipped record is written as it is found (`--skipped-out`).
    pub skip_log: crate::error::SkipLog,
    /// How to read the inputs (`--source claude-code`, `--max-record-mb`).
    pub read: ingest::ReadOptions,
    /// The workspace's `default_inference_geo` (`--default-inference-geo`): the geo of
    /// requests whose agent sets no `model.inference_geo` (an export cannot show it).
    pub default_inference_geo: Option<String>,
}

/// What `--shard I/N` splits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShardBy {
    /// Whole files, by a stable hash of the file's name: a shard opens only its own files, so
    /// N machines read the fleet once between them (a session written as one file, as
    /// `fetch` writes them, lands in one shard).
    #[default]
    File,
    /// Sessions, by a stable hash of the session id: for exports that interleave sessions in
    /// big files; every shard reads every file.
    Session,
}

impl MeterOptions {
    /// The shard kept session by session (sharding by file filters the inputs instead).
    pub fn session_shard(&self) -> Option<(u32, u32)> {
        self.shard.filter(|_| self.shard_by == ShardBy::Session)
    }
}

/// The shard (1..=n) a key (a session id, or a file's name) belongs to: FNV-1a (64-bit) of
/// it, modulo n. Stable across machines and versions, so N jobs that each take shard i/N
/// split a fleet with no overlap.
pub fn shard_of(key: &str, n: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % n.max(1) as u64) as u32 + 1
}

/// The inputs of file shard `i` of `n`: each file by the hash of its name (not its directory,
/// so the same fleet under another path splits the same way). Stdin cannot be split by file.
pub fn shard_files(sources: &[Source], (i, n): (u32, u32)) -> Result<Vec<Source>> {
    if sources.iter().any(|s| s.path.is_none()) {
        return Err(
            crate::error::Error::new("--shard by file cannot split standard input")
                .with_hint("give the files themselves, or pass --shard-by session"),
        );
    }
    Ok(sources
        .iter()
        .filter(|s| {
            let name = s.path.as_ref().and_then(|p| p.file_name());
            shard_of(&name.map(|n| n.to_string_lossy()).unwrap_or_default(), n) == i
        })
        .cloned()
        .collect())
}

/// What metering found besides the sessions themselves.
#[derive(Debug, Default)]
pub struct MeterSummary {
    /// Records not metered (the first [`crate::error::SKIPPED_KEPT`], in input order; all
    /// counted).
    pub skipped: Skips,
    /// Client-sent events (`user.*`, `system.message`) still queued (`processed_at: null`),
    /// not part of any bill yet.
    pub queued_events: u64,
    /// SSE `error` frames met in transcripts (file:line).
    pub stream_errors: Vec<String>,
    /// Bytes of per-session state spilled to temporary files (0: it fit in memory).
    pub spilled_bytes: u64,
    /// Claude Code transcript lines not counted as requests, by reason.
    pub transcript_dropped: transcript::Dropped,
    /// Sessions with no usage in the selection (`--since`, `--until`, `--project`).
    pub unselected_sessions: u64,
    /// Input files that gave no session, event or request, each with why (`FILE: why`).
    pub empty_files: Vec<String>,
    /// With `--shard`: which shard, and what it read.
    pub shard: Option<ShardRead>,
    /// What the search for inputs passed over (`PATH: why`): FIFOs, links read once, ...
    /// (set by the caller that searched: see `ingest::Inputs`).
    pub passed_over: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Metered {
    /// Sessions ordered by their first event, then id.
    pub sessions: Vec<SessionUsage>,
    pub summary: MeterSummary,
}

/// Meter every source, handing each finished session to `each` (from several threads, in no
/// particular order). Files are read in parallel; per-session state is kept under the memory
/// budget (`MeterOptions::memory_mb`), spilling to disk beyond it.
pub fn meter_each(
    sources: &[Source],
    opts: &MeterOptions,
    each: impl Fn(SessionUsage) + Sync,
) -> Result<MeterSummary> {
    let all_files = sources.len() as u64;
    let mine;
    let sources = match (opts.shard, opts.shard_by) {
        (Some(shard), ShardBy::File) => {
            mine = shard_files(sources, shard)?;
            &mine[..]
        }
        _ => sources,
    };
    let read_before = opts.read.bytes_read.get();
    let mut summary = meter_shard(sources, opts, each)?;
    if let Some((index, of)) = opts.shard {
        summary.shard = Some(ShardRead {
            index,
            of,
            by: opts.shard_by,
            files: sources.len() as u64,
            all_files,
            bytes: opts.read.bytes_read.get() - read_before,
        });
    }
    Ok(summary)
}

/// What one shard read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShardRead {
    pub index: u32,
    pub of: u32,
    pub by: ShardBy,
    /// Files opened, of all the inputs found.
    pub files: u64,
    pub all_files: u64,
    /// Bytes read (as stored: a compressed file's compressed bytes).
    pub bytes: u64,
}

fn meter_shard(
    sources: &[Source],
    opts: &MeterOptions,
    each: impl Fn(SessionUsage) + Sync,
) -> Result<MeterSummary> {
    let files_done = AtomicUsize::new(0);
    let start = opts.read.bytes_read.get();
    let read = move || opts.read.bytes_read.get() - start;
    let line = progress_line(sources, &files_done, read);
    opts.progress
        .during(line, || meter_sources(sources, opts, &files_done, each))
}

/// `metering: 3.21 GB of 10.74 GB (29%), 12/40 files, 2.51 GB/s` (with 100,000 files:
/// `metering: 348.5 MB, 45,078/100,000 files (45%), 490.4 MB/s`), then, once every file is
/// read, `metering: read 10.74 GB in 4.3 s; rating sessions`.
fn progress_line<'a>(
    sources: &'a [Source],
    files_done: &'a AtomicUsize,
    read: impl Fn() -> u64 + Sync + 'a,
) -> impl Fn(std::time::Duration) -> String + Sync + 'a {
    use crate::money::count;
    use crate::progress::bytes;
    // The inputs' total size, found on the first redraw (so quick runs never look), for up to
    // 10,000 files (past that, files count the progress): unknown when one is stdin.
    let total = std::sync::OnceLock::new();
    let n = sources.len();
    move |elapsed| {
        let read = read();
        let done = files_done.load(Ordering::Relaxed);
        if done == n {
            return format!(
                "metering: read {} in {:.1} s; rating sessions",
                bytes(read),
                elapsed.as_secs_f64()
            );
        }
        let total = *total.get_or_init(|| {
            (n <= 10_000).then(|| {
                sources
                    .iter()
                    .map(|s| Some(std::fs::metadata(s.path.as_ref()?).ok()?.len()))
                    .sum::<Option<u64>>()
            })?
        });
        let files = format!("{}/{} files", count(done as u64), count(n as u64));
        let at = match total {
            Some(t) if t > 0 => {
                let pct = read.min(t) * 100 / t;
                let files = if n > 1 {
                    format!(", {files}")
                } else {
                    String::new()
                };
                format!("{} of {} ({pct}%){files}", bytes(read), bytes(t))
            }
            _ if n > 1 => format!("{}, {files} ({}%)", bytes(read), done * 100 / n),
            _ => bytes(read),
        };
        let rate = (read as f64 / elapsed.as_secs_f64().max(1e-3)) as u64;
        format!("metering: {at}, {}/s", bytes(rate))
    }
}

fn meter_sources(
    sources: &[Source],
    opts: &MeterOptions,
    files_done: &AtomicUsize,
    each: impl Fn(SessionUsage) + Sync,
) -> Result<MeterSummary> {
    let files: Vec<Arc<str>> = sources.iter().map(|s| s.name.clone()).collect();
    let store = Store::new(opts);
    // Without --skip-invalid the error reported is the first in input order; files after a
    // failed one need not be read.
    let failed_at = AtomicUsize::new(usize::MAX);
    // Folded in input order as files finish, not collected: a fleet's 100,000 files would
    // otherwise each hold a part until the last is read.
    let part = sources
        .par_iter()
        .enumerate()
        .map(|(i, src)| {
            if failed_at.load(Ordering::Relaxed) < i {
                return Ok(collect::FilePart::default());
            }
            let mut c = collect::Collector::new(i as u32, src, opts.skip_invalid, &store);
            let read = ingest::read_source_as(src, &opts.read, &mut c);
            let part = c.finish();
            if read.is_err() {
                failed_at.fetch_min(i, Ordering::Relaxed);
            }
            files_done.fetch_add(1, Ordering::Relaxed);
            read.map(|()| part)
        })
        .reduce(
            || Ok(collect::FilePart::default()),
            |a, b| {
                let (mut a, b) = (a?, b?);
                a.append(b);
                Ok(a)
            },
        )?;
    let mut summary = MeterSummary {
        skipped: part.skipped,
        queued_events: part.queued,
        stream_errors: part.stream_errors,
        transcript_dropped: part.not_billed,
        empty_files: part.empty_files,
        ..MeterSummary::default()
    };
    let problems = Mutex::new(Skips::default());
    let unselected = AtomicUsize::new(0);
    let (spilled, dropped) = store.finish(&files, |usage, p| {
        if !p.is_empty() {
            for s in &p {
                opts.skip_log.log(s);
            }
            problems.lock().expect("poisoned").add_all(p);
        }
        match opts.select.apply(usage) {
            Some(usage) => each(usage),
            None => {
                unselected.fetch_add(1, Ordering::Relaxed);
            }
        }
    })?;
    summary.unselected_sessions = unselected.into_inner() as u64;
    summary.spilled_bytes = spilled;
    summary.transcript_dropped.add(&dropped);
    let mut skipped = std::mem::take(&mut summary.skipped);
    skipped.extend(problems.into_inner().expect("poisoned"));
    summary.skipped = settle(skipped, opts.skip_invalid)?;
    Ok(summary)
}

/// Meter every source and keep every session's usage, ordered by first event, then id.
pub fn meter(sources: &[Source], opts: &MeterOptions) -> Result<Metered> {
    let sessions = Mutex::new(Vec::new());
    let summary = meter_each(sources, opts, |u| {
        sessions.lock().expect("poisoned").push(u)
    })?;
    let mut sessions = sessions.into_inner().expect("poisoned");
    sort_sessions(&mut sessions, |s| s);
    Ok(Metered { sessions, summary })
}

/// The order sessions are shown in: by first event, then id.
pub fn sort_sessions<T>(sessions: &mut [T], usage: impl Fn(&T) -> &SessionUsage) {
    // Session ids are unique, so the order is total and an unstable sort gives the same
    // result without the stable sort's buffer of half the sessions.
    sessions.sort_unstable_by(|a, b| {
        let (a, b) = (usage(a), usage(b));
        (a.first_event_at, &a.session_id).cmp(&(b.first_event_at, &b.session_id))
    });
}

/// The hint shown with every bad record.
pub const SKIP_HINT: &str =
    "fix the record, or pass --skip-invalid to skip bad records and list them";

#[cfg(test)]
mod tests {
    use super::*;

    /// What the progress line says: bytes of the inputs' total, files, rate; then rating.
    #[test]
    fn progress_line_counts_bytes_files_and_rate() {
        let dir = tempfile::tempdir().unwrap();
        let source = |name: &str, len: usize| {
            let path = dir.path().join(name);
            std::fs::write(&path, vec![b'\n'; len]).unwrap();
            Source {
                name: name.into(),
                path: Some(path),
            }
        };
        let sources = [source("a.ndjson", 1_000), source("b.ndjson", 3_000)];
        let done = AtomicUsize::new(1);
        let line = progress_line(&sources, &done, || 2_000);
        let second = std::time::Duration::from_secs(1);
        // 2,000 of 1,000 + 3,000 bytes = 50%, in 1 s.
        assert_eq!(
            line(second),
            "metering: 2.0 kB of 4.0 kB (50%), 1/2 files, 2.0 kB/s"
        );
        done.store(2, Ordering::Relaxed);
        assert_eq!(
            line(second),
            "metering: read 2.0 kB in 1.0 s; rating sessions"
        );
        let stdin = [Source {
            name: "<stdin>".into(),
            path: None,
        }];
        let none = AtomicUsize::new(0);
        let line = progress_line(&stdin, &none, || 500);
        assert_eq!(line(second * 2), "metering: 500 B, 250 B/s");
    }

    /// The unstable sort gives what a stable sort by (first event, id) gives, for every
    /// arrangement of a few sessions (including ties on the time and missing times).
    #[test]
    fn sessions_sort_by_first_event_then_id() {
        let make = |k: u64| SessionUsage {
            session_id: format!("s{}", (k * 7) % 10).into(),
            first_event_at: (!k.is_multiple_of(3)).then_some((k % 4) as i64),
            ..Default::default()
        };
        let mut seed = 12345u64;
        for n in 0..10 {
            for _ in 0..50 {
                let mut v: Vec<SessionUsage> = (0..n).map(make).collect();
                // Shuffle (xorshift), then sort both ways.
                for i in (1..v.len()).rev() {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    v.swap(i, (seed % (i as u64 + 1)) as usize);
                }
                let mut want = v.clone();
                want.sort_by(|a, b| {
                    (a.first_event_at, &a.session_id).cmp(&(b.first_event_at, &b.session_id))
                });
                sort_sessions(&mut v, |s| s);
                assert_eq!(v, want);
            }
        }
    }
}
