//! `agentmeter fit`: per-agent session distributions fitted from metered exports, written as a
//! scenario file, so a team projects from its own history.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::{Datelike, Months, NaiveDate};
use clap::Args;

use crate::category::{CostColumn, PerCategory, PerCostColumn};
use crate::error::{Error, Result};
use crate::ingest;
use crate::meter::{self, MeterOptions};
use crate::output::{self, Output};
use crate::time::to_datetime;
use crate::usage::SessionUsage;

#[derive(Args, Debug)]
#[command(
    after_help = "Example:\n  agentmeter fit runs/ -o scenarios/ours.toml && agentmeter project scenarios/ours.toml"
)]
pub struct FitArgs {
    /// Export files or directories, as for `meter`.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub geo: super::GeoArgs,
    /// The scenario file to write.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// Scenario name (default: the output file's stem).
    #[arg(long)]
    pub name: Option<String>,
    /// Months to project (written into the scenario).
    #[arg(long, default_value_t = 12)]
    pub months: u32,
    /// Write every quantity as an empirical distribution (value files beside the scenario).
    #[arg(long)]
    pub empirical: bool,
    /// Skip bad records instead of stopping at the first.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Overwrite the output (and its value files) if they exist.
    #[arg(long)]
    pub force: bool,
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
fn fit(values: &[f64], count: bool) -> String {
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

pub fn run(args: FitArgs) -> Result<i32> {
    crate::scenario::check_months(args.months.into(), "--months")?;
    let out = Output::new(Some(&args.output), args.force);
    let data = Output::new(Some(&args.output.with_extension("data")), args.force);
    out.check()?;
    if args.empirical {
        data.check_dir(&output::FIT_DATA)?;
    }
    let sources = ingest::discover(&args.paths)?;
    let metered = meter::meter(
        &sources,
        &MeterOptions {
            skip_invalid: args.skip_invalid,
            ..args.geo.meter_options()
        },
    )?;
    if metered.sessions.is_empty() {
        return Err(Error::new("no sessions in the input: nothing to fit"));
    }
    let mut by_agent: BTreeMap<String, Observed> = BTreeMap::new();
    for s in &metered.sessions {
        observe(&mut by_agent, s);
    }
    let name = args.name.clone().unwrap_or_else(|| {
        args.output
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "fitted".into())
    });
    let last = by_agent.values().map(|o| o.last).max().unwrap_or(0);
    let last_day = to_datetime(last).date_naive();
    let start = NaiveDate::from_ymd_opt(last_day.year(), last_day.month(), 1)
        .and_then(|d| d.checked_add_months(Months::new(1)))
        .unwrap_or(last_day);
    let data_dir = args.output.with_extension("data");
    // Written at the end, whole, as one directory.
    let mut data_files: Vec<(String, String)> = Vec::new();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# Fitted by `agentmeter fit` from {} session(s) in {}.",
        metered.sessions.len(),
        args.paths.join(", ")
    );
    let _ = writeln!(
        text,
        "# Per-session quantities are per session; token quantities are per request."
    );
    let _ = writeln!(
        text,
        "name = {:?}\nstart = \"{}\"\nmonths = {}",
        name,
        start.format("%Y-%m-%d"),
        args.months
    );
    // The workspace default the usage was metered with holds for the projection too.
    if let Some(g) = &args.geo.default_inference_geo {
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
        let volume = volume_of(o, start);
        let _ = writeln!(text, "\n# {} session(s) over {} day(s).", o.sessions, days);
        for n in &volume.notes {
            let _ = writeln!(text, "# {n}.");
            crate::say!("note: agent {agent}: {n}");
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
            let dist = if args.empirical && !values.is_empty() {
                let name = format!("{}.{key}.txt", agent.replace(['/', '\\', ' '], "_"));
                let file = data_dir.join(&name);
                let body: String = values.iter().map(|v| format!("{}\n", num(*v))).collect();
                data_files.push((name, format!("# {key} of agent {agent}\n{body}")));
                let rel = file
                    .strip_prefix(args.output.parent().unwrap_or(std::path::Path::new("")))
                    .unwrap_or(&file);
                format!(
                    "{{ dist = \"empirical\", file = {:?} }}",
                    rel.display().to_string()
                )
            } else {
                fit(values, count)
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
    if !data_files.is_empty() {
        data.write_dir(&output::FIT_DATA, |dir| {
            for (name, body) in &data_files {
                let p = dir.join(name);
                std::fs::write(&p, body).map_err(|e| Error::io(&p, e))?;
            }
            Ok(())
        })?;
    }
    out.write(&text)?;
    crate::say!(
        "wrote {} ({} agent(s))",
        args.output.display(),
        by_agent.len()
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_fixed_poisson_lognormal_and_normal() {
        assert_eq!(fit(&[30.0, 30.0], false), "30");
        assert_eq!(fit(&[1.0, 3.0], true), "{ dist = \"poisson\", mean = 2 }");
        // p50 of 1..=10 is 5, p90 is 9.
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(fit(&v, false), "{ dist = \"lognormal\", p50 = 5, p90 = 9 }");
        assert!(fit(&[0.0, 2.0], false).starts_with("{ dist = \"normal\", mean = 1"));
    }

    #[test]
    fn huge_values_are_written_as_floats_not_saturated_integers() {
        assert_eq!(num(1.8e19), "1.8e19");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(num(30.0), "30");
    }
}
