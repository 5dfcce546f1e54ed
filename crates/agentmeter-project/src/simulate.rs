//! Simulate: a scenario -> synthetic session exports in the design.md format (a session object,
//! then its events: user messages, running/idle statuses with idle gaps, request spans, web
//! searches). Metering what this writes must agree with projecting the same scenario.

use std::io::Write;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rust_decimal::prelude::*;
use serde_json::json;

use crate::category::CostColumn;
use crate::project::montecarlo::split_seed;
use crate::scenario::{days_in_month, AgentSpec, Scenario};
use crate::time::{format_ms, Millis};
use crate::usage::CacheTtl;
use crate::usage::Speed;

/// One simulated session: its id and its NDJSON lines.
pub struct SimSession {
    pub id: String,
    pub lines: Vec<String>,
}

/// Each agent's share of the sessions: its first-month volume. Computed once per run, not per
/// session (a scenario may have many agents).
pub fn agent_weights(scenario: &Scenario) -> Vec<f64> {
    let days = days_in_month(scenario.start);
    scenario
        .agents
        .iter()
        .map(|a| {
            crate::project::sessions_per_day(a, 0, days)
                .and_then(|v| v.to_f64())
                .unwrap_or(0.0)
                * days as f64
        })
        .collect()
}

/// Which agent a session belongs to, in proportion to `weights`.
fn pick_agent(weights: &[f64], rng: &mut SmallRng) -> usize {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return rng.random_range(0..weights.len());
    }
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Simulate session `i` of a run seeded with `seed`; sessions start in the scenario's first month.
/// `weights` are [`agent_weights`] of the scenario.
pub fn session(scenario: &Scenario, weights: &[f64], seed: u64, i: u64) -> SimSession {
    let mut rng = SmallRng::seed_from_u64(split_seed(seed, i));
    let ai = pick_agent(weights, &mut rng);
    let a = &scenario.agents[ai];
    let id = format!("sesn_sim_{seed:x}_{i:06}");
    let month_start = scenario
        .start
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or_default();
    let month_ms = days_in_month(scenario.start) as i64 * 86_400_000;
    // Start somewhere in the month, leaving a day for the session to finish in it.
    let start = month_start + rng.random_range(0..(month_ms - 86_400_000).max(1));
    let mut w = Writer {
        lines: Vec::new(),
        n: 0,
        id: id.clone(),
    };
    // Each session its own task, so pairing or baselining by title keeps them apart.
    let task = format!("task-{:04}", i + 1);
    events(a, &mut rng, start, &mut w, &task);
    SimSession { id, lines: w.lines }
}

struct Writer {
    lines: Vec<String>,
    n: u64,
    id: String,
}

impl Writer {
    fn event(&mut self, kind: &str, at: Millis, extra: serde_json::Value) -> String {
        self.n += 1;
        let id = format!("sevt_{}_{:05}", &self.id[5..], self.n);
        let mut v = json!({"id": id, "type": kind, "processed_at": format_ms(at)});
        if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        self.lines.push(v.to_string());
        id
    }
}

fn events(a: &AgentSpec, rng: &mut SmallRng, start: Millis, w: &mut Writer, task: &str) {
    let s = &a.session;
    let sampler = crate::project::montecarlo::SessionSampler::new(a);
    let q = sampler.draw(rng);
    let speed = match a.speed {
        Speed::Standard => "standard",
        Speed::Fast => "fast",
    };
    let mut model = json!({"id": a.model, "speed": speed});
    if let Some(g) = &a.inference_geo {
        model["inference_geo"] = json!(g);
    }
    let writes: u64 = q.requests.iter().map(|r| r[CostColumn::CacheWrite]).sum();
    let (w5, w1) = match s.cache_ttl {
        CacheTtl::FiveMinutes => (writes, 0),
        CacheTtl::OneHour => (0, writes),
    };
    // The session object, as GET /v1/sessions/{id} returns it after the session went idle.
    w.lines.push(
        json!({
            "type": "session", "id": w.id, "created_at": format_ms(start), "updated_at": format_ms(start),
            "status": "idle", "title": task, "metadata": {"simulated": "true", "task": task},
            "agent": {"type": "agent", "id": format!("agent_{}", a.name), "name": a.name, "version": 1, "model": model},
            "usage": {"cache_creation": {"ephemeral_5m_input_tokens": w5, "ephemeral_1h_input_tokens": w1}},
        })
        .to_string(),
    );
    // Running time in 1 to 3 stretches, with idle gaps (free) between them.
    let stretches = 1 + rng.random_range(0..3u64).min(q.active_ms as u64 / 60_000);
    let mut bounds = Vec::new();
    let mut t = start + 1000;
    let mut left = q.active_ms;
    for k in 0..stretches {
        let len = if k + 1 == stretches {
            left
        } else {
            left / (stretches - k) as i64
        };
        bounds.push((t, t + len));
        left -= len;
        t += len + rng.random_range(60_000..1_200_000);
    }
    // Each request and search happens at a random instant of running time.
    let instant = |rng: &mut SmallRng| -> Millis {
        let total: i64 = bounds.iter().map(|(a, b)| b - a).sum();
        if total <= 0 {
            return bounds[0].0;
        }
        let mut x = rng.random_range(0..total);
        for (a, b) in &bounds {
            if x < b - a {
                return a + x;
            }
            x -= b - a;
        }
        bounds[0].0
    };
    let mut timed: Vec<(Millis, u8, usize)> = Vec::new(); // (at, kind, index)
    for (k, (a0, b0)) in bounds.iter().enumerate() {
        timed.push((*a0 - 500, 0, k)); // user message
        timed.push((*a0, 1, k)); // running
        timed.push((*b0, 4, k)); // idle
    }
    for r in 0..q.requests.len() {
        timed.push((instant(rng), 2, r));
    }
    for s in 0..q.web_searches {
        timed.push((instant(rng), 3, s as usize));
    }
    timed.sort();
    for (at, kind, k) in timed {
        match kind {
            0 => {
                w.event(
                    "user.message",
                    at,
                    json!({"content": [{"type": "text", "text": "(simulated)"}]}),
                );
            }
            1 => {
                w.event("session.status_running", at, json!({}));
            }
            2 => {
                let r = q.requests[k];
                let (input, output) = (r[CostColumn::Input], r[CostColumn::Output]);
                let (write, read) = (r[CostColumn::CacheWrite], r[CostColumn::CacheRead]);
                let start_id = w.event("span.model_request_start", at.saturating_sub(1), json!({}));
                w.event(
                    "span.model_request_end",
                    at,
                    json!({"model_request_start_id": start_id, "is_error": false, "model_usage": {
                        "input_tokens": input, "output_tokens": output, "cache_creation_input_tokens": write,
                        "cache_read_input_tokens": read, "speed": speed}}),
                );
            }
            3 => {
                let use_id = w.event(
                    "agent.tool_use",
                    at,
                    json!({"name": "web_search", "input": {"query": "(simulated)"}}),
                );
                w.event(
                    "agent.tool_result",
                    at + 1,
                    json!({"tool_use_id": use_id, "is_error": false, "content": []}),
                );
            }
            _ => {
                w.event(
                    "session.status_idle",
                    at,
                    json!({"stop_reason": {"type": "end_turn"}}),
                );
            }
        }
    }
}

/// Write `lines` of all sessions to `out`.
pub fn write_all(out: &mut impl Write, sessions: &[SimSession]) -> std::io::Result<()> {
    for s in sessions {
        for l in &s.lines {
            out.write_all(l.as_bytes())?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}
