//! Per-session state under a memory budget. Files (and large files, every few MB) hand their
//! sessions' state to the store, which merges it by session id. When the state passes the
//! budget, the store spills all of it to temporary files, one per partition of the session
//! ids (bincode), and starts again empty. At the end, an unspilled store finalizes its
//! sessions directly; a spilled one reads back one partition at a time, so memory stays near
//! the budget whatever the input size: the external hash aggregation of database engines.
//!
//! Spilling changes nothing in the result: state is merged by the same `Accum::merge`, and
//! "first copy wins" is decided by input position, which the state carries.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bincode::Options;
use rayon::prelude::*;

use super::collect::{Accum, QuickMap};
use super::transcript::{Dropped, Line, Requests};
use super::{session, shard_of, MeterOptions};
use crate::error::{Error, Result, Skipped};
use crate::ingest::record::hash_id;
use crate::temp::{sweep, Temp};
use crate::usage::SessionUsage;

/// The default budget for per-session state in memory, in MB (`--memory`).
pub const DEFAULT_BUDGET_MB: usize = 16;

const SPILL_PREFIX: &str = "agentmeter-spill-";

/// Spill partitions: the state read back at once is about 1/PARTITIONS of what spilled.
const PARTITIONS: usize = 64;

pub struct Store<'o> {
    pub(super) opts: &'o MeterOptions,
    budget: usize,
    /// A file's collector hands over its state when it holds this much.
    pub flush_at: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    sessions: QuickMap<Arc<str>, Accum>,
    /// Claude Code requests: kept in memory (one small record per unique request).
    requests: Requests,
    bytes: usize,
    spill: Option<Spill>,
    failed: Option<Error>,
}

struct Spill {
    /// Removed on drop, on SIGINT/SIGTERM, and after a SIGKILL by the next run that spills.
    dir: Temp,
    /// Entries written per partition.
    entries: Vec<u64>,
    bytes: u64,
}

impl<'o> Store<'o> {
    pub fn new(opts: &'o MeterOptions) -> Self {
        let budget = opts.memory_mb.unwrap_or(DEFAULT_BUDGET_MB) << 20;
        let threads = rayon::current_num_threads().max(1);
        Store {
            opts,
            budget,
            flush_at: (budget / (4 * threads)).max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Merge a collector's sessions and transcript requests (of this shard) in; spill if
    /// over the budget.
    pub fn absorb(&self, sessions: QuickMap<Arc<str>, Accum>, requests: Vec<Line>, bytes: usize) {
        let mut g = self.inner.lock().expect("a metering thread panicked");
        let shard = self.opts.session_shard();
        g.requests.absorb(
            requests
                .into_iter()
                .filter(|l| shard.is_none_or(|(i, n)| shard_of(&l.turn.session_id, n) == i))
                .collect(),
        );
        for (id, acc) in sessions {
            if shard.is_some_and(|(i, n)| shard_of(&id, n) != i) {
                continue;
            }
            match g.sessions.get_mut(&id) {
                Some(have) => have.merge(acc),
                None => {
                    g.sessions.insert(id, acc);
                }
            }
        }
        g.bytes += bytes;
        if g.bytes > self.budget && g.failed.is_none() {
            if let Err(e) = g.spill_all() {
                g.failed = Some(e);
            }
        }
    }

    /// Finalize every session, handing each (with its problems) to `each`, from several
    /// threads. Returns how many bytes were spilled to disk, and what de-duplicating
    /// transcript requests dropped.
    pub fn finish(
        self,
        files: &[Arc<str>],
        each: impl Fn(SessionUsage, Vec<Skipped>) + Sync,
    ) -> Result<(u64, Dropped)> {
        let opts = self.opts;
        let mut inner = self.inner.into_inner().expect("a metering thread panicked");
        if let Some(e) = inner.failed {
            return Err(e);
        }
        let (transcripts, dropped) = std::mem::take(&mut inner.requests).into_sessions(files, opts);
        transcripts
            .into_par_iter()
            .for_each(|usage| each(usage, Vec::new()));
        let finalize = |(id, acc): (Arc<str>, Accum)| {
            let (usage, problems) = session::finalize(&id, acc, files, opts);
            each(usage, problems);
        };
        if inner.spill.is_none() {
            inner.sessions.into_par_iter().for_each(finalize);
            return Ok((0, dropped));
        }
        inner.spill_all()?;
        let spill = inner.spill.expect("spilled");
        (0..PARTITIONS).into_par_iter().try_for_each(|p| {
            spill.read(p)?.into_iter().for_each(finalize);
            Ok::<_, Error>(())
        })?;
        Ok((spill.bytes, dropped))
    }
}

impl Inner {
    fn spill_all(&mut self) -> Result<()> {
        if self.spill.is_none() {
            let tmp = std::env::temp_dir();
            sweep(&tmp, SPILL_PREFIX, None);
            let dir = Temp::new_dir(&tmp, SPILL_PREFIX, "").map_err(|e| {
                Error::new(format!(
                    "cannot create a temporary directory to spill to: {e}"
                ))
                .with_hint("set TMPDIR to a writable directory, or raise --memory")
            })?;
            self.spill = Some(Spill {
                dir,
                entries: vec![0; PARTITIONS],
                bytes: 0,
            });
        }
        let spill = self.spill.as_mut().expect("just set");
        let mut by_partition: Vec<Vec<(Arc<str>, Accum)>> =
            (0..PARTITIONS).map(|_| Vec::new()).collect();
        for (id, acc) in self.sessions.drain() {
            by_partition[partition(&id)].push((id, acc));
        }
        for (p, entries) in by_partition.into_iter().enumerate() {
            if entries.is_empty() {
                continue;
            }
            let path = spill.path(p);
            // Encoded in memory, then one write: bincode is fastest on a Vec.
            let mut buf = Vec::new();
            for entry in &entries {
                codec()
                    .serialize_into(&mut buf, entry)
                    .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
            }
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(&buf))
                .map_err(|e| Error::io(&path, e))?;
            spill.bytes += buf.len() as u64;
            spill.entries[p] += entries.len() as u64;
        }
        self.bytes = 0;
        Ok(())
    }
}

impl Spill {
    fn path(&self, p: usize) -> PathBuf {
        self.dir.path().join(format!("{p:02}.bin"))
    }

    /// One partition's sessions, their spilled pieces merged (in the order they were spilled).
    fn read(&self, p: usize) -> Result<QuickMap<Arc<str>, Accum>> {
        let mut sessions: QuickMap<Arc<str>, Accum> = QuickMap::default();
        if self.entries[p] == 0 {
            return Ok(sessions);
        }
        let path = self.path(p);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let mut de = bincode::Deserializer::from_slice(&bytes, codec());
        for _ in 0..self.entries[p] {
            let (id, acc): (Arc<str>, Accum) = serde::Deserialize::deserialize(&mut de)
                .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
            match sessions.get_mut(&id) {
                Some(have) => have.merge(acc),
                None => {
                    sessions.insert(id, acc);
                }
            }
        }
        Ok(sessions)
    }
}

/// Spill files are bincode with variable-length integers (counts and positions are small).
fn codec() -> impl bincode::Options + Copy {
    bincode::DefaultOptions::new()
}

fn partition(id: &str) -> usize {
    (hash_id(id) % PARTITIONS as u64) as usize
}
