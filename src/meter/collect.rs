//! The per-file half of metering: apply the context rule (an event belongs to the session of
//! the last session object before it, and to the thread of the last thread object after
//! that) and keep, per session, only what the bill needs.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::SKIP_HINT;
use crate::error::{Origin, Result, Skipped};
use crate::ingest::record::{EventKind, Record, SessionObject, ThreadObject};
use crate::ingest::{Sink, Source};
use crate::time::Millis;

/// Input order: (file index, record index in the file). "First copy wins" means lowest Pos.
pub type Pos = (u32, u64);

/// A billable event with where it came from.
#[derive(Clone, Debug)]
pub struct Billable {
    pub pos: Pos,
    pub line: u64,
    pub id: Box<str>,
    pub at: Millis,
    pub thread: Option<Box<str>>,
    pub kind: EventKind,
}

/// What one session accumulated so far (from one file, or merged over several).
#[derive(Debug, Default)]
pub struct Accum {
    pub objects: Vec<(Pos, SessionObject)>,
    pub threads: Vec<(Pos, ThreadObject)>,
    pub events: Vec<Billable>,
    /// Hashes of every event id seen: duplicates = events_seen - seen.len().
    pub seen: HashSet<u64>,
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

pub struct FilePart {
    pub sessions: HashMap<String, Accum>,
    pub skipped: Vec<Skipped>,
    pub queued: u64,
    pub stream_errors: Vec<String>,
}

pub struct Collector<'a> {
    file: u32,
    src: &'a Source,
    stem: String,
    skip_invalid: bool,
    seq: u64,
    session: Option<String>,
    thread: Option<Box<str>>,
    last_at: HashMap<String, Millis>,
    part: FilePart,
}

impl<'a> Collector<'a> {
    pub fn new(file: u32, src: &'a Source, skip_invalid: bool) -> Self {
        Collector {
            file,
            src,
            stem: src.stem(),
            skip_invalid,
            seq: 0,
            session: None,
            thread: None,
            last_at: HashMap::new(),
            part: FilePart {
                sessions: HashMap::new(),
                skipped: Vec::new(),
                queued: 0,
                stream_errors: Vec::new(),
            },
        }
    }

    pub fn finish(self) -> FilePart {
        self.part
    }

    fn accum(&mut self, session: &str) -> &mut Accum {
        if !self.part.sessions.contains_key(session) {
            self.part
                .sessions
                .insert(session.to_string(), Accum::default());
        }
        self.part.sessions.get_mut(session).expect("just inserted")
    }
}

impl Sink for Collector<'_> {
    fn record(&mut self, line: u64, record: Record) {
        self.seq += 1;
        let pos = (self.file, self.seq);
        match record {
            Record::Session(obj) => {
                self.session = Some(obj.id.clone());
                self.thread = None;
                let id = obj.id.clone();
                let acc = self.accum(&id);
                acc.note_origin(pos, line);
                acc.objects.push((pos, *obj));
            }
            Record::Thread(t) => {
                if let Some(sid) = &t.session_id {
                    self.session = Some(sid.clone());
                }
                self.thread = Some(t.id.as_str().into());
                let sid = self.session.clone().unwrap_or_else(|| self.stem.clone());
                let acc = self.accum(&sid);
                acc.note_origin(pos, line);
                acc.threads.push((pos, *t));
            }
            Record::Event(e) => {
                let sid = match (&e.session_id, &self.session) {
                    (Some(s), _) => s.to_string(),
                    (None, Some(s)) => s.clone(),
                    (None, None) => self.stem.clone(),
                };
                let thread = e.thread_id.clone().or_else(|| self.thread.clone());
                let backwards = match self.last_at.get_mut(&sid) {
                    Some(last) if e.at < *last => true,
                    Some(last) => {
                        *last = e.at;
                        false
                    }
                    None => {
                        self.last_at.insert(sid.clone(), e.at);
                        false
                    }
                };
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
            Record::Queued => self.part.queued += 1,
            Record::Ignored => {}
            Record::StreamError => self
                .part
                .stream_errors
                .push(format!("{}:{line}", self.src.name)),
        }
    }

    fn invalid(&mut self, line: u64, message: String) -> Result<()> {
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
