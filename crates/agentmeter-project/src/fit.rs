//! A scenario fitted from metered sessions (`agentmeter fit`, `project --from`): per agent,
//! the volume from its history (`history`), the model or model mix, and per-session and
//! per-request distributions, written as scenario TOML.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::{Datelike, Months, NaiveDate};

use crate::category::{CostColumn, PerCategory, PerCostColumn};
use crate::time::to_datetime;
use crate::usage::SessionUsage;

/// How a scenario is fitted.
#[derive(Clone, Debug, Default)]
pub struct FitOptions<'a> {
    pub name: &'a str,
    pub months: u32,
    /// The inputs, for the file's first comment.
    pub inputs: &'a str,
    /// The workspace default the usage was metered with (it holds for the projection too).
    pub default_inference_geo: Option<&'a str>,
    /// Every agent's sessions per day, instead of its history's level.
    pub sessions_per_day: Option<f64>,
    /// Write every quantity as an empirical distribution, its values in files.
    pub empirical: Option<Empirical<'a>>,
}

/// Where empirical value files go, and what their paths in the scenario are relative to.
#[derive(Clone, Debug)]
pub struct Empirical<'a> {
    pub dir: &'a Path,
    pub relative_to: &'a Path,
}

/// A fitted scenario: its text, the empirical value files (name, contents), notes on what the
/// history could not tell, and the number of agents.
#[derive(Clone, Debug, Default)]
pub struct Fitted {
    pub text: String,
    pub data_files: Vec<(String, String)>,
    pub notes: Vec<String>,
    pub agents: usize,
}

/// Fit a scenario to `sessions` (at least one).
pub fn fit_scenario(sessions: &[SessionUsage], opts: &FitOptions) -> Fitted {
    let mut notes = Vec::new();
    let mut by_agent: BTreeMap<String, Observed> = BTreeMap::new();
    for s in sessions {
        observe(&mut by_agent, s);
    }
    let last = by_agent.values().map(|o| o.last).max().unwrap_or(0);
    let last_day = to_datetime(last).date_naive();
    let start = NaiveDate::from_ymd_opt(last_day.year(), last_day.month(), 1)
        .and_then(|d| d.checked_add_months(Months::new(1)))
        .unwrap_or(last_day);
    // Written at the end, whole, as one directory.
    let mut data_files: Vec<(String, String)> = Vec::new();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# Fitted by `agentmeter fit` from {} session(s) in {}.",
        sessions.len(),
        opts.inputs
    );
    let _ = writeln!(
        text,
        "# Per-session quantities are per session; token quantities are per request."
    );
    let _ = writeln!(
        text,
        "name = {:?}\nstart = \"{}\"\nmonths = {}",
        opts.name,
        start.format("%Y-%m-%d"),
        opts.months
    );
    // The workspace default the usage was metered with holds for the projection too.
    if let Some(g) = opts.default_inference_geo {
        let _ = writeln!(text, "default_inference_geo = {g:?}");
    }
    for (agent, o) in &by_agent {
        let model = o
            .models
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(m, _)| m.clone())
            .unwrap_or_else(|| "claude-sonnet-4-6".into());
        let days = ((o.last - o.first) / 86_400_000 + 1).max(1);
        let mut volume = volume_of(o, start);
        if let Some(n) = opts.sessions_per_day {
            volume.sessions_per_day = n;
        }
        let _ = writeln!(text, "\n# {} session(s) over {} day(s).", o.sessions, days);
        for n in &volume.notes {
            let _ = writeln!(text, "# {n}.");
            notes.push(format!("agent {agent}: {n}"));
        }
        let _ = writeln!(text, "[[agent]]\nname = {agent:?}");
        match model_mix(&o.session_models) {
            Some(mix) => {
                let _ = writeln!(text, "model_mix = {mix}");
            }
            None => {
                let _ = writeln!(text, "model = {model:?}");
            }
        }
        let _ = writeln!(text, "sessions_per_day = {}", num(volume.sessions_per_day));
        if let Some((g, se)) = volume.growth {
            let pct = |x: f64| format!("{}%", num((x * 10_000.0).round() / 100.0));
            let _ = if se > 0.0 {
                writeln!(
                    text,
                    "growth_per_month = {{ dist = \"normal\", mean = \"{}\", sd = \"{}\" }}",
                    pct(g),
                    pct(se)
                )
            } else {
                writeln!(text, "growth_per_month = \"{}\"", pct(g))
            };
        }
        if let Some(w) = volume.weekday_weights {
            let w: Vec<String> = w
                .iter()
                .map(|x| num((x * 1000.0).round() / 1000.0))
                .collect();
            let _ = writeln!(text, "weekday_weights = [{}]", w.join(", "));
        }
        let _ = writeln!(text, "[agent.session]");
        let mut quantities: Vec<(&str, &[f64], bool)> = vec![
            ("active_minutes", &o.minutes, false),
            ("requests", &o.requests, true),
            ("web_searches", &o.searches, true),
        ];
        // The token columns, in the order a scenario file lists them.
        for key in crate::scenario::SESSION_KEYS {
            if let Some(c) = CostColumn::tokens().find(|c| c.row().scenario_key == Some(key)) {
                quantities.push((key, &o.tokens[c], false));
            }
        }
        for (key, values, count) in quantities {
            let dist = if let (Some(e), false) = (&opts.empirical, values.is_empty()) {
                let name = format!("{}.{key}.txt", agent.replace(['/', '\\', ' '], "_"));
                let file = e.dir.join(&name);
                let body: String = values.iter().map(|v| format!("{}\n", num(*v))).collect();
                data_files.push((name, format!("# {key} of agent {agent}\n{body}")));
                let rel = file.strip_prefix(e.relative_to).unwrap_or(&file);
                format!(
                    "{{ dist = \"empirical\", file = {:?} }}",
                    rel.display().to_string()
                )
            } else {
                dist_of(values, count)
            };
            let _ = writeln!(text, "{key} = {dist}");
        }
        let ttl = if o.one_hour_writes > o.five_minute_writes {
            "1h"
        } else {
            "5m"
        };
        let _ = writeln!(text, "cache_ttl = \"{ttl}\"");
    }
    Fitted {
        text,
        data_files,
        notes,
        agents: by_agent.len(),
    }
}

/// Sample quantile (nearest rank) of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn num(x: f64) -> String {
    let r = (x * 1000.0).round() / 1000.0;
    // `as i64` would saturate; past 2^53 a whole f64 is written as a TOML float instead
    // (the scenario's bounds then name the key, never a silently wrong integer).
    if r.fract() == 0.0 && r.abs() < 9e15 {
        format!("{}", r as i64)
    } else if r.abs() < 9e15 {
        format!("{r}")
    } else {
        format!("{r:e}")
    }
}

/// A distribution for observed values: fixed if they never vary, Poisson for counts,
/// lognormal by its p50/p90 when all are positive, else a normal by mean and sd.
fn dist_of(values: &[f64], count: bool) -> String {
    if values.is_empty() {
        return "0".into();
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    if v[0] == v[v.len() - 1] {
        return num(v[0]);
    }
    if count {
        return format!("{{ dist = \"poisson\", mean = {} }}", num(mean));
    }
    if v[0] > 0.0 {
        let (p50, p90) = (quantile(&v, 0.5), quantile(&v, 0.9));
        if p90 > p50 {
            return format!(
                "{{ dist = \"lognormal\", p50 = {}, p90 = {} }}",
                num(p50),
                num(p90)
            );
        }
    }
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    format!(
        "{{ dist = \"normal\", mean = {}, sd = {} }}",
        num(mean),
        num(sd)
    )
}

#[derive(Default)]
struct Observed {
    sessions: u64,
    models: BTreeMap<String, u64>,
    minutes: Vec<f64>,
    requests: Vec<f64>,
    searches: Vec<f64>,
    /// Per request, by token column.
    tokens: PerCostColumn<Vec<f64>>,
    one_hour_writes: u64,
    five_minute_writes: u64,
    first: i64,
    last: i64,
    /// Sessions by the UTC day they started on (their trend and weekly shape).
    days: BTreeMap<NaiveDate, u64>,
    /// Sessions by the model most of their requests used (the model mix).
    session_models: BTreeMap<String, u64>,
}

fn observe(by_agent: &mut BTreeMap<String, Observed>, s: &SessionUsage) {
    let name = s.agent.as_deref().unwrap_or("agent").to_string();
    let o = by_agent.entry(name).or_insert_with(|| Observed {
        first: i64::MAX,
        last: i64::MIN,
        ..Default::default()
    });
    o.sessions += 1;
    for r in &s.requests {
        *o.models.entry(r.model.to_string()).or_default() += 1;
        let t = &r.tokens;
        let by_column = PerCategory::from_fn(|c| t.get(c)).by_column();
        for c in CostColumn::tokens() {
            o.tokens[c].push(by_column[c] as f64);
        }
        o.one_hour_writes += t.cache_write_1h;
        o.five_minute_writes += t.cache_write_5m;
    }
    if s.requests.is_empty() {
        if let Some(m) = &s.model {
            *o.models.entry(m.to_string()).or_default() += 1;
        }
    }
    let mut mine: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &s.requests {
        *mine.entry(&r.model).or_default() += 1;
    }
    let main = mine
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(m, _)| m.to_string())
        .or_else(|| s.model.as_deref().map(str::to_string));
    if let Some(m) = main {
        *o.session_models.entry(m).or_default() += 1;
    }
    o.minutes.push(s.active_ms() as f64 / 60_000.0);
    o.requests.push(s.request_count() as f64);
    o.searches.push(s.web_searches.len() as f64);
    if let Some(t) = s.first_event_at {
        o.first = o.first.min(t);
        o.last = o.last.max(t);
        *o.days.entry(to_datetime(t).date_naive()).or_default() += 1;
    }
}

/// The agent's daily sessions from its first day to its last, zeros included, fitted for the
/// month `start` (trend, weekly shape and level: `project::history`).
fn volume_of(o: &Observed, start: NaiveDate) -> crate::history::Volume {
    let first = o.days.keys().next().copied().unwrap_or(start);
    let last = o.days.keys().next_back().copied().unwrap_or(start);
    let counts: Vec<u64> = first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|d| o.days.get(&d).copied().unwrap_or(0))
        .collect();
    crate::history::fit(first, &counts, start)
}

/// `{ "a" = 0.7, "b" = 0.3 }` when the sessions used more than one model: shares of the
/// sessions, cut to 4 places, the last one what makes them sum to exactly 1.
fn model_mix(models: &BTreeMap<String, u64>) -> Option<String> {
    if models.len() < 2 {
        return None;
    }
    let total: u64 = models.values().sum();
    let mut left = rust_decimal::Decimal::ONE;
    let mut parts = Vec::new();
    for (i, (m, n)) in models.iter().enumerate() {
        let share = if i + 1 == models.len() {
            left
        } else {
            (rust_decimal::Decimal::from(*n) / rust_decimal::Decimal::from(total))
                .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::ToZero)
        };
        left -= share;
        parts.push(format!("{m:?} = {}", share.normalize()));
    }
    Some(format!("{{ {} }}", parts.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_fixed_poisson_lognormal_and_normal() {
        assert_eq!(dist_of(&[30.0, 30.0], false), "30");
        assert_eq!(
            dist_of(&[1.0, 3.0], true),
            "{ dist = \"poisson\", mean = 2 }"
        );
        // p50 of 1..=10 is 5, p90 is 9.
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(
            dist_of(&v, false),
            "{ dist = \"lognormal\", p50 = 5, p90 = 9 }"
        );
        assert!(dist_of(&[0.0, 2.0], false).starts_with("{ dist = \"normal\", mean = 1"));
    }

    #[test]
    fn huge_values_are_written_as_floats_not_saturated_integers() {
        assert_eq!(num(1.8e19), "1.8e19");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(num(30.0), "30");
    }
}
