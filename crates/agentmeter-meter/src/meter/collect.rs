//! The per-file half of metering: apply the context rule (an event belongs to the session of
//! the last session object before it, and to the thread of the last thread object after
//! that) and keep, per session, only what the bill needs.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::store::Store;
use super::transcript;
use super::SKIP_HINT;
use crate::error::{Origin, Result, Skipped, Skips};
use crate::ingest::record::{EventKind, Record, SessionObject, ThreadObject};
use crate::ingest::{Sink, Source};
use crate::time::Millis;

/// Input order: (file index, record index in the file). "First copy wins" means lowest Pos.
pub type Pos = (u32, u64);

/// The hasher for sets of id hashes: they are already hashes, so use them as they are.
#[derive(Default)]
pub struct IdHash(u64);

impl std::hash::Hasher for IdHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64s are hashed with this; anything else still gets a usable hash.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A quick hasher for the per-event session lookups (FxHash's multiply-rotate, a word at a
/// time): the collector looks a session id up for every event, on the one thread that feeds
/// it, where SipHash showed in profiles. Ids come from local files, not from an adversary.
#[derive(Default)]
pub struct QuickHash(u64);

impl std::hash::Hasher for QuickHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(K);
        }
    }
}

pub type QuickMap<K, V> = HashMap<K, V, BuildHasherDefault<QuickHash>>;
pub type QuickSet<K> = HashSet<K, BuildHasherDefault<QuickHash>>;

/// A billable event with where it came from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Billable {
    pub pos: Pos,
    pub line: u64,
    pub id: Box<str>,
    pub at: Millis,
    pub thread: Option<Box<str>>,
    pub kind: EventKind,
}

/// What one session accumulated so far (from one file, or merged over several).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Accum {
    pub objects: Vec<(Pos, SessionObject)>,
    pub threads: Vec<(Pos, ThreadObject)>,
    pub events: Vec<Billable>,
    /// Hashes of every event id seen: duplicates = events_seen - seen.len().
    pub seen: HashSet<u64, BuildHasherDefault<IdHash>>,
    pub events_seen: u64,
    pub first_at: Option<Millis>,
    pub last_at: Option<Millis>,
    /// Events whose `processed_at` was earlier than the one before them in the same file.
    pub out_of_order: u64,
    /// The first place the session appears, for errors about the session as a whole.
    pub origin: Option<(Pos, u64)>,
}

impl Accum {
    pub fn merge(&mut self, other: Accum) {
        self.objects.extend(other.objects);
        self.threads.extend(other.threads);
        self.events.extend(other.events);
        if self.seen.len() < other.seen.len() {
            let mine = std::mem::replace(&mut self.seen, other.seen);
            self.seen.extend(mine);
        } else {
            self.seen.extend(other.seen);
        }
        self.events_seen += other.events_seen;
        self.first_at = min_opt(self.first_at, other.first_at);
        self.last_at = self.last_at.max(other.last_at);
        self.out_of_order += other.out_of_order;
        self.origin = match (self.origin, other.origin) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    fn note_origin(&mut self, pos: Pos, line: u64) {
        if self.origin.is_none_or(|(p, _)| pos < p) {
            self.origin = Some((pos, line));
        }
    }
}

fn min_opt(a: Option<Millis>, b: Option<Millis>) -> Option<Millis> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What a file leaves besides its sessions' state (which goes to the [`Store`]).
#[derive(Default)]
pub struct FilePart {
    /// Transcript lines with usage that are not billed requests (`<synthetic>`, API errors).
    pub not_billed: transcript::Dropped,
    pub skipped: Skips,
    pub queued: u64,
    pub stream_errors: Vec<String>,
    /// Files that gave nothing to meter, and why (nothing is silently zero).
    pub empty_files: Vec<String>,
}

impl FilePart {
    /// This file's part, then the next file's.
    pub fn append(&mut self, next: FilePart) {
        self.not_billed.add(&next.not_billed);
        self.skipped.extend(next.skipped);
        self.queued += next.queued;
        self.stream_errors.extend(next.stream_errors);
        self.empty_files.extend(next.empty_files);
    }
}

/// What one file held, by kind of record: enough to say why a file gave nothing.
#[derive(Default)]
struct Counts {
    /// Sessions, threads, events and requests.
    billable: u64,
    /// Lines that carry nothing to meter (metadata, stream furniture).
    ignored: u64,
    invalid: u64,
}

/// Bytes of state a record adds, roughly (for the memory budget): an id hash per event, the
/// compact event for billable ones, more for objects and new sessions.
const EVENT_BYTES: usize = 16;
const BILLABLE_BYTES: usize = std::mem::size_of::<Billable>() + 48;
const OBJECT_BYTES: usize = 1024;
const SESSION_BYTES: usize = 512;

pub struct Collector<'a> {
    file: u32,
    src: &'a Source,
    stem: Arc<str>,
    skip_invalid: bool,
    store: &'a Store<'a>,
    seq: u64,
    session: Option<Arc<str>>,
    thread: Option<Box<str>>,
    /// Per session, the `processed_at` of its last event so far in this file.
    last_at: QuickMap<Arc<str>, Millis>,
    sessions: QuickMap<Arc<str>, Accum>,
    bytes: usize,
    /// Claude Code request lines (de-duplicated across files by the store).
    requests: Vec<transcript::Line>,
    project: Option<Arc<str>>,
    part: FilePart,
    counts: Counts,
}

impl<'a> Collector<'a> {
    pub fn new(file: u32, src: &'a Source, skip_invalid: bool, store: &'a Store<'a>) -> Self {
        Collector {
            file,
            src,
            stem: src.stem().into(),
            skip_invalid,
            store,
            seq: 0,
            session: None,
            thread: None,
            last_at: QuickMap::default(),
            sessions: QuickMap::default(),
            bytes: 0,
            requests: Vec::new(),
            project: None,
            part: FilePart::default(),
            counts: Counts::default(),
        }
    }

    /// Hand the sessions' state to the store; what is left is the file's own account.
    pub fn finish(mut self) -> FilePart {
        self.flush();
        if let Some(why) = self.why_empty() {
            self.part
                .empty_files
                .push(format!("{}: {why}", self.src.name));
        }
        self.part
    }

    /// Why a file that gave no session, event or request gave none.
    fn why_empty(&self) -> Option<String> {
        let c = &self.counts;
        if c.billable > 0 || c.invalid > 0 {
            return None;
        }
        let d = &self.part.not_billed;
        if d.not_billed() > 0 {
            let mut why = Vec::new();
            for (n, what) in [
                (d.progress_copies, "progress copies of a subagent's request (counted from the subagent's own file)"),
                (d.synthetic, "<synthetic> lines"),
                (d.api_errors, "API error lines"),
                (d.other_types, "lines of a type that is not a request"),
            ] {
                if n > 0 {
                    why.push(format!("{n} {what}"));
                }
            }
            return Some(format!(
                "{} line(s) carry usage but none is a billed request: {}",
                d.not_billed(),
                why.join(", ")
            ));
        }
        Some(match c.ignored {
            0 => "empty: nothing to meter".to_string(),
            n => format!("nothing to meter in {n} line(s): no session, event or model request"),
        })
    }

    fn flush(&mut self) {
        let sessions = std::mem::take(&mut self.sessions);
        let requests = std::mem::take(&mut self.requests);
        self.store
            .absorb(sessions, requests, std::mem::take(&mut self.bytes));
    }

    fn accum(&mut self, session: &Arc<str>) -> &mut Accum {
        let bytes = &mut self.bytes;
        self.sessions.entry(session.clone()).or_insert_with(|| {
            *bytes += SESSION_BYTES;
            Accum::default()
        })
    }
}

impl Sink for Collector<'_> {
    fn record(&mut self, line: u64, record: Record) {
        self.seq += 1;
        let pos = (self.file, self.seq);
        match &record {
            Record::Ignored => self.counts.ignored += 1,
            Record::NotBilled(why) => self.part.not_billed.count(*why),
            _ => self.counts.billable += 1,
        }
        match record {
            Record::Session(obj) => {
                let id: Arc<str> = obj.id.as_str().into();
                self.session = Some(id.clone());
                self.thread = None;
                self.bytes += OBJECT_BYTES;
                let acc = self.accum(&id);
                acc.note_origin(pos, line);
                acc.objects.push((pos, *obj));
            }
            Record::Thread(t) => {
                if let Some(sid) = &t.session_id {
                    self.session = Some(sid.as_str().into());
                }
                self.thread = Some(t.id.as_str().into());
                let sid = self.session.clone().unwrap_or_else(|| self.stem.clone());
                self.bytes += OBJECT_BYTES;
                let acc = self.accum(&sid);
                acc.note_origin(pos, line);
                acc.threads.push((pos, *t));
            }
            Record::Event(e) => {
                // The common case (no `session_id` on the event) allocates nothing.
                let sid = match &e.session_id {
                    Some(s) => Arc::from(&**s),
                    None => self.session.clone().unwrap_or_else(|| self.stem.clone()),
                };
                let thread = e.thread_id.clone().or_else(|| self.thread.clone());
                let last = self.last_at.entry(sid.clone()).or_insert(e.at);
                let backwards = e.at < *last;
                if !backwards {
                    *last = e.at;
                }
                self.bytes += EVENT_BYTES + e.id.as_ref().map_or(0, |_| BILLABLE_BYTES);
                let acc = self.accum(&sid);
                acc.note_origin(pos, line);
                acc.out_of_order += backwards as u64;
                acc.events_seen += 1;
                acc.seen.insert(e.id_hash);
                acc.first_at = min_opt(acc.first_at, Some(e.at));
                acc.last_at = acc.last_at.max(Some(e.at));
                if let Some(id) = e.id {
                    acc.events.push(Billable {
                        pos,
                        line,
                        id,
                        at: e.at,
                        thread,
                        kind: e.kind,
                    });
                }
            }
            Record::Turn(turn) => {
                let src = self.src;
                let project = self
                    .project
                    .get_or_insert_with(|| src.project().into())
                    .clone();
                self.requests.push(transcript::Line {
                    pos,
                    line,
                    project,
                    turn,
                });
                if self.requests.len() >= 4096 {
                    self.flush();
                }
            }
            Record::NotBilled(_) | Record::Ignored => {}
            Record::Queued => self.part.queued += 1,
            Record::StreamError => self
                .part
                .stream_errors
                .push(format!("{}:{line}", self.src.name)),
        }
        if self.bytes >= self.store.flush_at {
            self.flush();
        }
    }

    fn invalid(&mut self, line: u64, message: String) -> Result<()> {
        self.counts.invalid += 1;
        let skipped = Skipped {
            origin: Some(Origin {
                file: self.src.name.clone(),
                file_index: self.file,
                line,
            }),
            reason: message,
            hint: Some(SKIP_HINT.into()),
        };
        if self.skip_invalid {
            self.store.opts.skip_log.log(&skipped);
            self.part.skipped.push(skipped);
            Ok(())
        } else {
            Err(skipped.to_error())
        }
    }
}

/// Where a position came from.
pub fn origin(files: &[Arc<str>], pos: Pos, line: u64) -> Origin {
    Origin {
        file: files
            .get(pos.0 as usize)
            .cloned()
            .unwrap_or_else(|| "<input>".into()),
        file_index: pos.0,
        line,
    }
}
