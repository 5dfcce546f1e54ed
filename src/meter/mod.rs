//! Meter: events -> usage. Groups records by session (the context rule of design.md),
//! de-duplicates and orders each session's events, and turns them into [`SessionUsage`]:
//! running intervals, requests with their model and split cache writes, web searches.
//! The meter never sees a price.

mod collect;
mod runtime;
mod session;

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::error::{settle, Result, Skipped};
use crate::ingest::{self, Source};
use crate::usage::SessionUsage;
pub use collect::Accum;

/// The TTL assumed for cache writes when the session does not report its 5m/1h split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum CacheTtl {
    #[default]
    #[value(name = "5m")]
    FiveMinutes,
    #[value(name = "1h")]
    OneHour,
}

#[derive(Clone, Debug, Default)]
pub struct MeterOptions {
    /// Price every request as this model (`--model`).
    pub model: Option<String>,
    pub cache_ttl: CacheTtl,
    /// Go on past bad records, counting and listing them (`--skip-invalid`).
    pub skip_invalid: bool,
    /// Keep only the sessions of shard `i` of `n` (1-based), by [`shard_of`].
    pub shard: Option<(u32, u32)>,
}

/// The shard (1..=n) a session belongs to: FNV-1a (64-bit) of its id, modulo n. Stable across
/// machines and versions, so N jobs that each meter shard i/N split a fleet with no overlap.
pub fn shard_of(session_id: &str, n: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in session_id.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % n.max(1) as u64) as u32 + 1
}

#[derive(Debug, Default)]
pub struct Metered {
    /// Sessions ordered by their first event, then id.
    pub sessions: Vec<SessionUsage>,
    pub skipped: Vec<Skipped>,
    /// User events still queued (`processed_at: null`), not part of any bill yet.
    pub queued_events: u64,
    /// SSE `error` frames met in transcripts (file:line).
    pub stream_errors: Vec<String>,
}

/// Meter every source: files in parallel, then sessions in parallel.
pub fn meter(sources: &[Source], opts: &MeterOptions) -> Result<Metered> {
    let files: Vec<Arc<str>> = sources.iter().map(|s| s.name.clone()).collect();
    let parts: Vec<Result<collect::FilePart>> = sources
        .par_iter()
        .enumerate()
        .map(|(i, src)| {
            let mut c = collect::Collector::new(i as u32, src, opts.skip_invalid);
            ingest::read_source(src, &mut c)?;
            Ok(c.finish())
        })
        .collect();
    // Files are read in parallel, but the error reported is the first in input order.
    let parts = parts.into_iter().collect::<Result<Vec<_>>>()?;
    let mut sessions: HashMap<String, Accum> = HashMap::new();
    let mut skipped = Vec::new();
    let mut queued_events = 0;
    let mut stream_errors = Vec::new();
    for part in parts {
        skipped.extend(part.skipped);
        queued_events += part.queued;
        stream_errors.extend(part.stream_errors);
        for (id, acc) in part.sessions {
            if opts.shard.is_some_and(|(i, n)| shard_of(&id, n) != i) {
                continue;
            }
            match sessions.get_mut(&id) {
                Some(have) => have.merge(acc),
                None => {
                    sessions.insert(id, acc);
                }
            }
        }
    }
    let finished: Vec<(SessionUsage, Vec<Skipped>)> = sessions
        .into_par_iter()
        .map(|(id, acc)| session::finalize(&id, acc, &files, opts))
        .collect();
    let mut out = Metered {
        queued_events,
        stream_errors,
        ..Default::default()
    };
    for (usage, problems) in finished {
        out.sessions.push(usage);
        skipped.extend(problems);
    }
    out.skipped = settle(skipped, opts.skip_invalid)?;
    out.sessions
        .sort_by(|a, b| (a.first_event_at, &a.session_id).cmp(&(b.first_event_at, &b.session_id)));
    Ok(out)
}

/// The hint shown with every bad record.
pub const SKIP_HINT: &str =
    "fix the record, or pass --skip-invalid to skip bad records and list them";
