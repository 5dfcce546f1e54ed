//! Metering Claude Code transcripts: de-duplicate their request lines across every file, then
//! group the requests by session into the same [`SessionUsage`] records exports produce (no
//! runtime: these runs are local).
//!
//! The transcripts' traps (the same ones ccusage documents): Claude Code writes one line per
//! content block and streaming snapshot, each repeating the usage; resumed sessions copy
//! history into a new file; `/btw` sidechains replay a message under a new request id. So:
//! the key is (`message.id`, `requestId`), or `message.id` alone on lines without a request
//! id (as ccusage 20 keys them); among copies keep the non-sidechain one, then the one with
//! the most tokens (the final snapshot), then the first in input order; a sidechain request
//! whose message was also seen outside the sidechain is a replay and is dropped.
//!
//! Subagents write their own files (`<session>/subagents/agent-<id>.jsonl`) under the
//! parent's `sessionId`: their requests count once, in the parent session, under the
//! subagent's `agentId` as agent. (Their `progress` copies in the parent file are never
//! requests; see `NotBilled::ProgressCopy`.) A request that ran several inferences
//! (`usage.iterations`) becomes one usage record per inference, each at its own model.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use rayon::prelude::*;

use super::collect::{origin, IdHash, Pos};
use super::{CacheTtl, MeterOptions};
use crate::ingest::record::hash_id;
use crate::ingest::transcript::{IterationKind, NotBilled, Turn};
use crate::usage::{ProviderUsage, RequestUsage, SessionUsage, Speed, Tokens, WebSearch};

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
        let t = self.turn.tokens();
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
    /// `progress` lines that embed a subagent's request (counted from its own file).
    pub progress_copies: u64,
    /// Usage on lines that are not requests (`user`, metadata types).
    pub other_types: u64,
}

impl Dropped {
    pub fn add(&mut self, o: &Dropped) {
        self.duplicates += o.duplicates;
        self.sidechain_replays += o.sidechain_replays;
        self.synthetic += o.synthetic;
        self.api_errors += o.api_errors;
        self.progress_copies += o.progress_copies;
        self.other_types += o.other_types;
    }

    /// Count a line with usage that is not a billed request.
    pub fn count(&mut self, why: NotBilled) {
        match why {
            NotBilled::Synthetic => self.synthetic += 1,
            NotBilled::ApiError => self.api_errors += 1,
            NotBilled::ProgressCopy => self.progress_copies += 1,
            NotBilled::OtherType => self.other_types += 1,
        }
    }

    /// Lines with usage that were not requests (not copies of one).
    pub fn not_billed(&self) -> u64 {
        self.synthetic + self.api_errors + self.progress_copies + self.other_types
    }
}

/// The request-id half of the key of a line without `requestId`.
const NO_REQUEST_ID: u64 = 0x5a17_c0de_0000_0001;

/// Every request line of every transcript, de-duplicated as it arrives.
#[derive(Default)]
pub struct Requests {
    /// By (hash of `message.id`, hash of `requestId`).
    kept: HashMap<(u64, u64), Line, BuildHasherDefault<IdHash>>,
    /// Lines without a message id: nothing to de-duplicate them by.
    unkeyed: Vec<Line>,
    pub dropped: Dropped,
}

impl Requests {
    pub fn absorb(&mut self, lines: Vec<Line>) {
        for l in lines {
            let Some(m) = &l.turn.message_id else {
                self.unkeyed.push(l);
                continue;
            };
            // Without a request id, the message id alone (ccusage does the same); such a line
            // never matches one that has a request id.
            let key = (
                hash_id(m),
                l.turn.request_id.as_deref().map_or(NO_REQUEST_ID, hash_id),
            );
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
    // Claude Code's own estimate, beside ours, where its lines carry one.
    let mut reported: Option<ProviderUsage> = None;
    // A session uses a few models and agents: one shared name each, not one per request.
    let mut names: Vec<Arc<str>> = Vec::new();
    let mut name = |s: &str| -> Arc<str> {
        match names.iter().find(|n| ***n == *s) {
            Some(n) => n.clone(),
            None => {
                names.push(s.into());
                names.last().expect("just pushed").clone()
            }
        }
    };
    for l in lines {
        let t = l.turn;
        let model = match &override_model {
            Some(m) => m.clone(),
            None => name(&t.model),
        };
        usage.model.get_or_insert_with(|| model.clone());
        let agent = t.agent_id.as_deref().map(&mut name);
        let geo = t.inference_geo.as_deref().map(&mut name);
        let origin = Some(origin(files, l.pos, l.line));
        if let Some(c) = t.cost_usd {
            let r = reported.get_or_insert_with(Default::default);
            *r.list_cost_usd.get_or_insert(rust_decimal::Decimal::ZERO) += c;
            r.tokens.add(&t.usage.tokens);
        }
        for _ in 0..t.usage.web_search_requests.unwrap_or(0) {
            usage.web_searches.push(WebSearch {
                at: t.at,
                model: Some(model.clone()),
                agent: agent.clone(),
            });
        }
        let mut push =
            |model: Arc<str>, mut tokens: Tokens, split_known: bool, speed, advisor, continues| {
                // Writes with no 5m/1h split are taken at --cache-ttl.
                if !split_known && opts.cache_ttl == CacheTtl::OneHour {
                    tokens.cache_write_1h += std::mem::take(&mut tokens.cache_write_5m);
                }
                usage.requests.push(RequestUsage {
                    at: t.at,
                    model,
                    agent: agent.clone(),
                    speed,
                    inference_geo: geo.clone(),
                    tokens,
                    advisor,
                    continues,
                    origin: origin.clone(),
                });
            };
        let speed = t.speed.unwrap_or(Speed::Standard);
        if t.iterations.is_empty() {
            push(
                model,
                t.usage.tokens,
                t.usage.cache_split_known,
                speed,
                false,
                false,
            );
            continue;
        }
        // Each inference at its own model (the executor's when it names none); the
        // request's speed is the executor's.
        for (k, it) in t.iterations.iter().enumerate() {
            let (model, speed) = match (&override_model, &it.model) {
                (None, Some(m)) => (name(m), Speed::Standard),
                _ => (model.clone(), speed),
            };
            let advisor = it.kind == IterationKind::Advisor;
            push(
                model,
                it.tokens,
                it.cache_split_known,
                speed,
                advisor,
                k > 0,
            );
        }
    }
    usage.provider_reported = reported;
    usage
}
