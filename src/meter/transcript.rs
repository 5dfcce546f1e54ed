//! Metering Claude Code transcripts: de-duplicate their request lines across every file, then
//! group the requests by session into the same [`SessionUsage`] records exports produce (no
//! runtime: these runs are local).
//!
//! The transcripts' traps (the same ones ccusage documents): Claude Code writes one line per
//! content block and streaming snapshot, each repeating the usage; resumed sessions copy
//! history into a new file; `/btw` sidechains replay a message under a new request id. So:
//! the key is (`message.id`, `requestId`); among copies keep the non-sidechain one, then the
//! one with the most tokens (the final snapshot), then the first in input order; a sidechain
//! request whose message was also seen outside the sidechain is a replay and is dropped.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use rayon::prelude::*;

use super::collect::{origin, IdHash, Pos};
use super::{CacheTtl, MeterOptions};
use crate::ingest::record::hash_id;
use crate::ingest::transcript::Turn;
use crate::usage::{RequestUsage, SessionUsage, Speed, Tokens, WebSearch};

/// A request line as read, with where it came from.
#[derive(Debug)]
pub struct Line {
    pub pos: Pos,
    pub line: u64,
    /// The project: the folder under `projects/` the transcript is in.
    pub project: Arc<str>,
    pub turn: Box<Turn>,
}

impl Line {
    fn total_tokens(&self) -> u64 {
        let t = &self.turn.usage.tokens;
        t.total_input() + t.output
    }

    /// The copy to keep: outside a sidechain, then the most tokens, then the first.
    fn better_than(&self, other: &Line) -> bool {
        let rank = |l: &Line| {
            (
                !l.turn.sidechain,
                l.total_tokens(),
                std::cmp::Reverse(l.pos),
            )
        };
        rank(self) > rank(other)
    }
}

/// What de-duplication dropped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Copies of a request (snapshots, resumed sessions) beyond the one kept.
    pub duplicates: u64,
    /// Sidechain replays of a message seen outside the sidechain under another request id.
    pub sidechain_replays: u64,
    /// `<synthetic>` model lines.
    pub synthetic: u64,
    /// `isApiErrorMessage` lines.
    pub api_errors: u64,
}

impl Dropped {
    pub fn add(&mut self, o: &Dropped) {
        self.duplicates += o.duplicates;
        self.sidechain_replays += o.sidechain_replays;
        self.synthetic += o.synthetic;
        self.api_errors += o.api_errors;
    }
}

/// Every request line of every transcript, de-duplicated as it arrives.
#[derive(Default)]
pub struct Requests {
    /// By (hash of `message.id`, hash of `requestId`).
    kept: HashMap<(u64, u64), Line, BuildHasherDefault<IdHash>>,
    /// Lines without a message id or request id: nothing to de-duplicate them by.
    unkeyed: Vec<Line>,
    pub dropped: Dropped,
}

impl Requests {
    pub fn absorb(&mut self, lines: Vec<Line>) {
        for l in lines {
            let (Some(m), Some(r)) = (&l.turn.message_id, &l.turn.request_id) else {
                self.unkeyed.push(l);
                continue;
            };
            let key = (hash_id(m), hash_id(r));
            match self.kept.get_mut(&key) {
                Some(have) => {
                    self.dropped.duplicates += 1;
                    if l.better_than(have) {
                        *have = l;
                    }
                }
                None => {
                    self.kept.insert(key, l);
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty() && self.unkeyed.is_empty()
    }

    /// One usage record per session, requests in time order.
    pub fn into_sessions(
        mut self,
        files: &[Arc<str>],
        opts: &MeterOptions,
    ) -> (Vec<SessionUsage>, Dropped) {
        let main_messages: HashSet<u64, BuildHasherDefault<IdHash>> = self
            .kept
            .iter()
            .filter(|(_, l)| !l.turn.sidechain)
            .map(|(key, _)| key.0)
            .collect();
        let keyed = self.kept.into_iter().map(|(key, l)| (Some(key.0), l));
        let unkeyed =
            (self.unkeyed.into_iter()).map(|l| (l.turn.message_id.as_deref().map(hash_id), l));
        let mut by_session: HashMap<Box<str>, Vec<Line>> = HashMap::new();
        for (message, l) in keyed.chain(unkeyed) {
            if l.turn.sidechain && message.is_some_and(|m| main_messages.contains(&m)) {
                self.dropped.sidechain_replays += 1;
                continue;
            }
            match by_session.get_mut(&*l.turn.session_id) {
                Some(lines) => lines.push(l),
                None => {
                    by_session.insert(l.turn.session_id.clone(), vec![l]);
                }
            }
        }
        let sessions = by_session
            .into_par_iter()
            .map(|(id, mut lines)| {
                lines.sort_by_key(|l| (l.turn.at, l.pos));
                session(&id, lines, files, opts)
            })
            .collect();
        (sessions, self.dropped)
    }
}

fn session(id: &str, lines: Vec<Line>, files: &[Arc<str>], opts: &MeterOptions) -> SessionUsage {
    let override_model: Option<Arc<str>> = opts.model.as_deref().map(Into::into);
    let mut usage = SessionUsage {
        session_id: id.into(),
        first_event_at: lines.first().map(|l| l.turn.at),
        last_event_at: lines.last().map(|l| l.turn.at),
        origin: lines.first().map(|l| origin(files, l.pos, l.line)),
        ..Default::default()
    };
    if let Some(first) = lines.first() {
        usage
            .metadata
            .insert("project".into(), first.project.to_string());
    }
    // A session uses one or two models: one shared name each, not one per request.
    let mut last_model: Option<Arc<str>> = None;
    for l in lines {
        let t = l.turn;
        let model: Arc<str> = match (&override_model, &last_model) {
            (Some(m), _) => m.clone(),
            (None, Some(m)) if **m == *t.model => m.clone(),
            (None, _) => last_model.insert((&*t.model).into()).clone(),
        };
        usage.model.get_or_insert_with(|| model.clone());
        let mut tokens: Tokens = t.usage.tokens;
        // Writes with no 5m/1h split are taken at --cache-ttl.
        if !t.usage.cache_split_known && opts.cache_ttl == CacheTtl::OneHour {
            tokens.cache_write_1h += std::mem::take(&mut tokens.cache_write_5m);
        }
        for _ in 0..t.usage.web_search_requests.unwrap_or(0) {
            usage.web_searches.push(WebSearch {
                at: t.at,
                model: Some(model.clone()),
                agent: None,
            });
        }
        usage.requests.push(RequestUsage {
            at: t.at,
            model,
            agent: None,
            speed: t.speed.unwrap_or(Speed::Standard),
            inference_geo: None,
            tokens,
            origin: Some(origin(files, l.pos, l.line)),
        });
    }
    usage
}
