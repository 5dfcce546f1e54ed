//! The per-session half of metering: from a session's accumulated records to its usage.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::collect::{origin, Accum, Billable, QuickSet};
use super::runtime::Clock;
use super::{CacheTtl, MeterOptions};
use crate::error::Skipped;
use crate::ingest::record::{AgentConfig, EventKind, SpanUsage};
use crate::time::format_ms;
use crate::usage::{Budget, ProviderUsage, RequestUsage, SessionUsage, Tokens, WebSearch};

struct Pending<'a> {
    at: i64,
    usage: SpanUsage,
    agent: AgentConfig,
    event: &'a Billable,
}

pub fn finalize(
    id: &str,
    mut acc: Accum,
    files: &[Arc<str>],
    opts: &MeterOptions,
) -> (SessionUsage, Vec<Skipped>) {
    let mut problems = Vec::new();
    let origin_of = |b: &Billable| origin(files, b.pos, b.line);

    // De-duplicate by id (first copy in input order wins), then order by processed_at.
    acc.events.sort_by_key(|e| e.pos);
    let first_copy: Vec<bool> = {
        let mut ids: QuickSet<&str> =
            QuickSet::with_capacity_and_hasher(acc.events.len(), Default::default());
        acc.events.iter().map(|e| ids.insert(&*e.id)).collect()
    };
    let mut keep = first_copy.into_iter();
    acc.events.retain(|_| keep.next().unwrap_or(false));
    acc.events.sort_by_key(|e| e.at);

    // The freshest session object describes the agent; later `session.updated` events change it.
    let object = acc
        .objects
        .iter()
        .max_by_key(|(pos, o)| (o.updated_at, *pos))
        .map(|(_, o)| o);
    let mut threads: HashMap<&str, &AgentConfig> = HashMap::new();
    let mut thread_list: Vec<_> = acc.threads.iter().collect();
    thread_list.sort_by_key(|(pos, _)| *pos);
    for (_, t) in thread_list {
        threads.insert(t.id.as_str(), &t.agent);
    }
    let mut agent = object.map(|o| o.agent.clone()).unwrap_or_default();
    let session_agent = agent.clone();

    let mut clock = Clock::default();
    let mut pending: Vec<Pending> = Vec::new();
    let mut searches: Vec<(&Billable, AgentConfig)> = Vec::new();
    let mut failed_tools: HashSet<&str> = HashSet::new();
    let mut snapshot: Option<(i64, &ProviderUsage)> = None;
    // The last budget an event stated (when, cents), and whether an idle stopped at it.
    let mut budget_set: Option<(i64, u64)> = None;
    let mut budget_reached = false;
    for e in &acc.events {
        let thread = e.thread.as_deref();
        // A thread's own agent config, else the session's as of now.
        let effective = || match thread.and_then(|t| threads.get(t)) {
            Some(t) if t.model.is_some() => (*t).clone(),
            _ => agent.clone(),
        };
        match &e.kind {
            EventKind::Running | EventKind::ThreadRunning => clock.start(thread, e.at),
            EventKind::Stopped | EventKind::ThreadStopped => clock.stop(thread, e.at),
            EventKind::BudgetReached => {
                clock.stop(thread, e.at);
                budget_reached = true;
            }
            EventKind::Ended => clock.stop_all(e.at),
            EventKind::ModelRequest(u) | EventKind::OutcomeEvaluation(u) => pending.push(Pending {
                at: e.at,
                usage: *u,
                agent: effective(),
                event: e,
            }),
            EventKind::WebSearchUse => searches.push((e, effective())),
            EventKind::ToolResultError { tool_use_id } => {
                failed_tools.insert(&**tool_use_id);
            }
            EventKind::Updated(u) => {
                if let Some(cfg) = &u.agent {
                    agent.update(cfg);
                }
                if let Some(c) = u.budget_cents {
                    budget_set = Some((e.at, c));
                }
            }
            EventKind::UsageSnapshot(u, cents) => {
                snapshot = Some((e.at, &**u));
                if let Some(c) = *cents {
                    budget_set = Some((e.at, c));
                }
            }
            EventKind::Other => {}
        }
    }
    let mut warnings = Vec::new();
    let last = acc.last_at.unwrap_or_default();
    let (running, still_running) = clock.finish(last);
    if still_running {
        warnings.push(format!(
            "still running at its last event ({}): runtime is counted up to that event",
            format_ms(last)
        ));
    }

    // The provider's own figures: the later of the session object and the last session.usage.
    let provider_reported = match (
        object.and_then(|o| o.usage.as_ref().map(|u| (o.updated_at, u))),
        snapshot,
    ) {
        (Some((obj_at, u)), Some((snap_at, s))) => Some(if obj_at.is_some_and(|t| t > snap_at) {
            u
        } else {
            s
        }),
        (Some((_, u)), None) => Some(u),
        (None, Some((_, s))) => Some(s),
        (None, None) => None,
    }
    .cloned();

    // As for the provider's figures: the session object's budget when it is the later word.
    let max_cents = match (
        object.and_then(|o| Some((o.updated_at, o.budget_cents?))),
        budget_set,
    ) {
        (Some((obj_at, c)), Some((ev_at, _))) if obj_at.is_some_and(|t| t > ev_at) => Some(c),
        (_, Some((_, c))) | (Some((_, c)), None) => Some(c),
        (None, None) => None,
    };
    let budget = (max_cents.is_some() || budget_reached).then_some(Budget {
        max_cents,
        reached: budget_reached,
    });

    let split = cache_split(
        object.and_then(|o| o.usage.as_ref()),
        snapshot.map(|s| s.1),
        opts.cache_ttl,
    );
    let override_model: Option<Arc<str>> = opts.model.as_deref().map(Into::into);
    let mut requests = Vec::with_capacity(pending.len());
    let mut written = 0u64;
    let mut written_5m = 0u64;
    for p in pending {
        let model: Arc<str> = match (&override_model, &p.agent.model) {
            (Some(m), _) => m.clone(),
            (None, Some(m)) => m.as_str().into(),
            (None, None) => {
                problems.push(Skipped {
                    origin: Some(origin_of(p.event)),
                    reason: format!(
                        "no model for this request in session {id}: no session object or thread object names `agent.model.id`"
                    ),
                    hint: Some("pass --model ID to price it as that model, or include the session object in the export".into()),
                });
                continue;
            }
        };
        // Cumulative rounding keeps the session's 5m/1h totals exactly in the reported ratio.
        let before = split_5m(written, split);
        written += p.usage.cache_write;
        let w5 = split_5m(written, split) - before;
        written_5m += w5;
        requests.push(RequestUsage {
            at: p.at,
            model,
            agent: p.agent.name.as_deref().map(Into::into),
            speed: p.usage.speed.or(p.agent.speed).unwrap_or_default(),
            // An agent without its own geo runs in the workspace's default one.
            inference_geo: p
                .agent
                .inference_geo
                .as_deref()
                .or(opts.default_inference_geo.as_deref())
                .map(Into::into),
            tokens: Tokens {
                input: p.usage.input,
                output: p.usage.output,
                cache_write_5m: w5,
                cache_write_1h: p.usage.cache_write - w5,
                cache_read: p.usage.cache_read,
            },
            advisor: p.agent.advisor,
            continues: false,
            origin: Some(origin_of(p.event)),
        });
    }
    debug_assert!(written_5m <= written);

    let web_searches = searches
        .into_iter()
        .filter(|(e, _)| !failed_tools.contains(&*e.id))
        .map(|(e, a)| WebSearch {
            at: e.at,
            model: override_model
                .clone()
                .or_else(|| a.model.as_deref().map(Into::into)),
            agent: a.name.as_deref().map(Into::into),
        })
        .collect();

    let usage = SessionUsage {
        session_id: id.into(),
        title: object.and_then(|o| o.title.as_deref()).map(Into::into),
        metadata: object.map(|o| o.metadata.clone()).unwrap_or_default(),
        agent: session_agent.name.as_deref().map(Into::into),
        model: override_model
            .or_else(|| session_agent.model.as_deref().map(Into::into))
            .or_else(|| requests.first().map(|r: &RequestUsage| r.model.clone())),
        first_event_at: acc.first_at,
        last_event_at: acc.last_at,
        running,
        requests,
        web_searches,
        provider_reported,
        budget,
        warnings,
        duplicate_events: acc.events_seen - acc.seen.len() as u64,
        out_of_order_events: acc.out_of_order,
        origin: acc.origin.map(|(pos, line)| origin(files, pos, line)),
    };
    (usage, problems)
}

/// The share of cache writes at the 5-minute TTL, as a ratio `5m : total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Split {
    five: u64,
    total: u64,
}

/// The session's reported 5m/1h split if it has one, else everything at `--cache-ttl`.
fn cache_split(
    object: Option<&ProviderUsage>,
    snapshot: Option<&ProviderUsage>,
    ttl: CacheTtl,
) -> Split {
    for u in [object, snapshot].into_iter().flatten() {
        let (five, hour) = (u.tokens.cache_write_5m, u.tokens.cache_write_1h);
        if u.cache_split_known && five + hour > 0 {
            return Split {
                five,
                total: five + hour,
            };
        }
    }
    match ttl {
        CacheTtl::FiveMinutes => Split { five: 1, total: 1 },
        CacheTtl::OneHour => Split { five: 0, total: 1 },
    }
}

/// round_half_even(written * five / total), in integers.
fn split_5m(written: u64, s: Split) -> u64 {
    let num = written as u128 * s.five as u128;
    let (q, r) = (num / s.total as u128, num % s.total as u128);
    let twice = 2 * r;
    let up = twice > s.total as u128 || (twice == s.total as u128 && q % 2 == 1);
    (q + up as u128) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_rounds_half_even_and_sums_exactly() {
        let third = Split { five: 1, total: 3 };
        assert_eq!(split_5m(3, third), 1);
        assert_eq!(split_5m(4, third), 1); // 1.33 -> 1
        assert_eq!(split_5m(5, third), 2); // 1.67 -> 2
        let half = Split { five: 1, total: 2 };
        assert_eq!(split_5m(1, half), 0); // 0.5 -> 0 (even)
        assert_eq!(split_5m(3, half), 2); // 1.5 -> 2 (even)
                                          // Per-request shares telescope to the rounded session total.
        let writes = [7u64, 0, 13, 1, 1, 999];
        let mut cum = 0;
        let mut sum = 0;
        for w in writes {
            let before = split_5m(cum, third);
            cum += w;
            let share = split_5m(cum, third) - before;
            assert!(share <= w);
            sum += share;
        }
        assert_eq!(sum, split_5m(writes.iter().sum(), third));
    }
}
