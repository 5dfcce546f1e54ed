//! Scenario files (`scenarios/*.toml`): who runs which agents, how often, and what a session
//! uses. Parsed by hand over the TOML tree so that every error names the file, the key path and
//! the problem, and unknown keys get a did-you-mean.

pub mod dist;
pub mod drivers;
mod ziggurat_tables;

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};
use rust_decimal::prelude::*;
use toml::{Table, Value};

use crate::category::CostColumn;
use crate::error::{Error, Result};
pub(crate) use crate::keys::{did_you_mean, unknown_keys};
use crate::usage::CacheTtl;
use crate::usage::Speed;
pub use dist::Dist;
pub use drivers::PriceChange;

#[derive(Clone, Debug, PartialEq)]
pub enum Volume {
    PerDay(Decimal),
    PerMonth(Decimal),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Arrivals {
    /// The expected count each month (a fractional part is a coin flip).
    #[default]
    Fixed,
    /// A Poisson count with the expected mean.
    Poisson,
}

/// What one session of an agent uses. Token quantities are per request.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionSpec {
    pub active_minutes: Dist,
    pub requests: Dist,
    pub web_searches: Dist,
    pub input_tokens: Dist,
    pub output_tokens: Dist,
    pub cache_read_tokens: Dist,
    pub cache_write_tokens: Dist,
    pub cache_ttl: CacheTtl,
}

impl SessionSpec {
    /// The per-request distribution of a token column's tokens.
    pub fn tokens(&self, c: CostColumn) -> Option<&Dist> {
        match c {
            CostColumn::Input => Some(&self.input_tokens),
            CostColumn::Output => Some(&self.output_tokens),
            CostColumn::CacheWrite => Some(&self.cache_write_tokens),
            CostColumn::CacheRead => Some(&self.cache_read_tokens),
            CostColumn::Runtime | CostColumn::WebSearch => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AgentSpec {
    pub name: String,
    pub model: String,
    pub volume: Volume,
    /// Compounding growth of volume per month, as a fraction (0.05 = 5%).
    pub growth: Decimal,
    pub speed: Speed,
    pub inference_geo: Option<String>,
    pub arrivals: Arrivals,
    pub session: SessionSpec,
    /// The uncertain level of `volume`, drawn once per run (`volume` holds its mean).
    pub volume_dist: Option<Dist>,
    /// The monthly growth factor 1 + g when growth is uncertain (`growth` is then its mean),
    /// drawn once per run and compounded.
    pub growth_dist: Option<Dist>,
    /// Monday to Sunday, mean 1: a day's sessions are the daily volume times its weight.
    pub weekday_weights: Option<[Decimal; 7]>,
    /// The `[[agent]]` this agent comes from: a `model_mix` makes one agent per model, sharing
    /// the entry's volume and growth draws.
    pub entry: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    /// The first day of the first month projected.
    pub start: NaiveDate,
    pub months: u32,
    pub pricing: Option<PathBuf>,
    pub agents: Vec<AgentSpec>,
    /// Possible future prices, by date.
    pub price_changes: Vec<PriceChange>,
    /// Where it was read from, for messages and reports.
    pub origin: String,
}

impl Scenario {
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::files::read_text(path, MAX_SCENARIO_BYTES, "a scenario")?;
        Self::parse(
            &text,
            &path.display().to_string(),
            path.parent().unwrap_or(Path::new(".")),
        )
    }

    /// `dir` resolves relative paths (`pricing`, empirical files) in the scenario.
    pub fn parse(text: &str, origin: &str, dir: &Path) -> Result<Self> {
        let root: Table = text.parse::<Table>().map_err(|e| {
            let line = e
                .span()
                .map(|s| format!(":{}", text[..s.start].matches('\n').count() + 1))
                .unwrap_or_default();
            Error::new(format!("{origin}{line}: {}", e.message().trim()))
        })?;
        let p = Parser { origin, dir };
        p.scenario(&root)
    }

    /// The first day of month `i` of the horizon.
    pub fn month_start(&self, i: u32) -> NaiveDate {
        let m0 = self.start.year() * 12 + self.start.month0() as i32 + i as i32;
        NaiveDate::from_ymd_opt(m0.div_euclid(12), m0.rem_euclid(12) as u32 + 1, 1)
            .unwrap_or(self.start)
    }
}

pub fn days_in_month(first: NaiveDate) -> u32 {
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    };
    next.map_or(30, |n| (n - first).num_days() as u32)
}

/// The largest value a scenario key may take. Every number is bounded so that a projection's
/// exact sums fit in `Decimal`, its atto-dollar sums in `i128`, and its work stays finite.
#[derive(Clone, Copy, Debug)]
pub struct Bound {
    pub max: i64,
    pub unit: &'static str,
}

impl Bound {
    pub fn max_f64(&self) -> f64 {
        self.max as f64
    }
}

pub const SESSIONS_PER_DAY: Bound = Bound {
    max: 1_000_000_000,
    unit: "sessions a day",
};
pub const SESSIONS_PER_MONTH: Bound = Bound {
    max: 31_000_000_000,
    unit: "sessions a month",
};
pub const ACTIVE_MINUTES: Bound = Bound {
    max: 1_000_000,
    unit: "minutes per session",
};
pub const REQUESTS: Bound = Bound {
    max: 100_000,
    unit: "requests per session",
};
pub const WEB_SEARCHES: Bound = Bound {
    max: 100_000,
    unit: "searches per session",
};
pub const TOKENS: Bound = Bound {
    max: 100_000_000,
    unit: "tokens per request",
};
/// Growth per month, in percent: above -100% (volume stays positive) and at most +1000%.
pub const GROWTH_MAX_PERCENT: i64 = 1000;
pub const MAX_MONTHS: u32 = 600;
/// Agents in one scenario: a projection plans every agent-month.
pub const MAX_AGENTS: usize = 1000;
/// A scenario file larger than this is refused before it is read.
pub const MAX_SCENARIO_BYTES: u64 = 16 << 20;
/// An empirical file larger than this is refused before it is read.
pub const MAX_EMPIRICAL_BYTES: u64 = 64 << 20;

const BOUND_HINT: &str = "scenario numbers are bounded so that projections stay exact and finish (see GUIDE.md, \"Scenario files\")";

/// `--months` and the scenario's `months` share one range.
pub fn check_months(m: Decimal, what: &str) -> Result<u32> {
    if m < Decimal::ONE || m.fract() != Decimal::ZERO || m > Decimal::from(MAX_MONTHS) {
        return Err(Error::new(format!(
            "{what}: must be a whole number from 1 to {MAX_MONTHS} (got {m})"
        )));
    }
    Ok(m.to_u32().unwrap_or(1))
}

struct Parser<'a> {
    origin: &'a str,
    dir: &'a Path,
}

const TOP_KEYS: [&str; 9] = [
    "name",
    "description",
    "start",
    "months",
    "pricing",
    "default_inference_geo",
    "defaults",
    "agent",
    "price_change",
];
const AGENT_KEYS: [&str; 11] = [
    "name",
    "model",
    "model_mix",
    "weekday_weights",
    "sessions_per_day",
    "sessions_per_month",
    "growth_per_month",
    "speed",
    "inference_geo",
    "arrivals",
    "session",
];
pub const SESSION_KEYS: [&str; 8] = [
    "active_minutes",
    "requests",
    "web_searches",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_ttl",
];

impl Parser<'_> {
    fn err(&self, path: &str, msg: impl std::fmt::Display) -> Error {
        Error::new(format!("{}: {path}: {msg}", self.origin))
    }

    fn known_keys(&self, t: &Table, allowed: &[&str], path: &str) -> Result<()> {
        match unknown_keys(t, allowed, path).next() {
            Some((at, msg)) => Err(self
                .err(&at, msg)
                .with_hint(format!("known keys here: {}", allowed.join(", ")))),
            None => Ok(()),
        }
    }

    fn string(&self, v: &Value, path: &str) -> Result<String> {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| self.err(path, format!("expected a string, got {}", v.type_str())))
    }

    fn number(&self, v: &Value, path: &str) -> Result<Decimal> {
        match v {
            Value::Integer(i) => Ok(Decimal::from(*i)),
            Value::Float(f) if !f.is_finite() => {
                Err(self.err(path, format!("{f} is not a finite number")))
            }
            Value::Float(f) => Decimal::from_f64(*f)
                .ok_or_else(|| self.err(path, format!("{f:e} is too large a number"))),
            Value::String(s) => s
                .trim()
                .parse::<Decimal>()
                .map_err(|_| self.err(path, format!("{s:?} is not a number"))),
            other => Err(self.err(path, format!("expected a number, got {}", other.type_str()))),
        }
    }

    fn non_negative(&self, v: &Value, path: &str) -> Result<Decimal> {
        let d = self.number(v, path)?;
        if d.is_sign_negative() && !d.is_zero() {
            return Err(self.err(path, format!("must not be negative (got {d})")));
        }
        Ok(d)
    }

    fn bounded(&self, v: &Value, path: &str, b: Bound) -> Result<Decimal> {
        let d = self.non_negative(v, path)?;
        if d > Decimal::from(b.max) {
            return Err(self
                .err(path, format!("{d} is more than {} {}", b.max, b.unit))
                .with_hint(BOUND_HINT));
        }
        Ok(d)
    }

    fn float(&self, t: &Table, key: &str, path: &str, b: Bound) -> Result<f64> {
        let v = t
            .get(key)
            .ok_or_else(|| self.err(path, format!("needs `{key}`")))?;
        let d = self.bounded(v, &format!("{path}.{key}"), b)?;
        Ok(d.to_f64().unwrap_or(0.0))
    }

    fn scenario(&self, root: &Table) -> Result<Scenario> {
        self.known_keys(root, &TOP_KEYS, "")?;
        let name = match root.get("name") {
            Some(v) => self.string(v, "name")?,
            None => Path::new(self.origin)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        let start = match root.get("start") {
            Some(v) => {
                let date = self.date(v, "start")?;
                date.with_day(1).unwrap_or(date)
            }
            None => {
                return Err(self.err(
                    "start",
                    "missing: the first month to project, e.g. start = \"2026-12-01\"",
                ))
            }
        };
        let months = match root.get("months") {
            Some(v) => check_months(
                self.number(v, "months")?,
                &format!("{}: months", self.origin),
            )?,
            None => 12,
        };
        let pricing = root
            .get("pricing")
            .map(|v| self.string(v, "pricing").map(|s| self.dir.join(s)))
            .transpose()?;
        let description = root
            .get("description")
            .map(|v| self.string(v, "description"))
            .transpose()?;
        let defaults = match root.get("defaults") {
            Some(Value::Table(t)) => {
                self.known_keys(t, &["session"], "defaults")?;
                match t.get("session") {
                    Some(Value::Table(s)) => Some(s.clone()),
                    Some(other) => {
                        return Err(self.err(
                            "defaults.session",
                            format!("expected a table, got {}", other.type_str()),
                        ))
                    }
                    None => None,
                }
            }
            Some(other) => {
                return Err(self.err(
                    "defaults",
                    format!("expected a table, got {}", other.type_str()),
                ))
            }
            None => None,
        };
        let agents = match root.get("agent") {
            Some(Value::Array(a)) if !a.is_empty() => a,
            Some(Value::Array(_)) | None => {
                return Err(self.err("agent", "no [[agent]]: a scenario needs at least one agent"))
            }
            Some(other) => {
                return Err(self.err(
                    "agent",
                    format!("expected [[agent]] tables, got {}", other.type_str()),
                ))
            }
        };
        // The workspace's default geo, as `--default-inference-geo` gives it to `meter`: the
        // geo of every agent that sets no `inference_geo` of its own.
        let default_geo = match root.get("default_inference_geo") {
            Some(v) => match self.string(v, "default_inference_geo")?.as_str() {
                g @ ("us" | "global") => Some(g.to_string()),
                other => {
                    return Err(self.err(
                        "default_inference_geo",
                        format!("{other:?} is not \"us\" or \"global\""),
                    ))
                }
            },
            None => None,
        };
        if agents.len() > MAX_AGENTS {
            return Err(self
                .err(
                    "agent",
                    format!("{} agents, more than {MAX_AGENTS}", agents.len()),
                )
                .with_hint(BOUND_HINT));
        }
        let mut out = Vec::new();
        for (i, a) in agents.iter().enumerate() {
            let path = format!("agent[{i}]");
            let Value::Table(t) = a else {
                return Err(self.err(&path, "expected a table"));
            };
            for mut agent in self.agent(t, &path, defaults.as_ref(), i)? {
                agent.inference_geo = agent.inference_geo.or_else(|| default_geo.clone());
                out.push(agent);
            }
        }
        let price_changes = self.price_changes(root.get("price_change"))?;
        Ok(Scenario {
            name,
            description,
            start,
            months,
            pricing,
            agents: out,
            price_changes,
            origin: self.origin.to_string(),
        })
    }

    /// One `[[agent]]`: one agent, or one per model of its `model_mix`.
    fn agent(
        &self,
        t: &Table,
        path: &str,
        defaults: Option<&Table>,
        entry: usize,
    ) -> Result<Vec<AgentSpec>> {
        self.known_keys(t, &AGENT_KEYS, path)?;
        let name = match t.get("name") {
            Some(v) => self.string(v, &format!("{path}.name"))?,
            None => return Err(self.err(path, "needs a `name`")),
        };
        let mix = match (t.get("model"), t.get("model_mix")) {
            (Some(v), None) => vec![(self.string(v, &format!("{path}.model"))?, None)],
            (None, Some(v)) => self
                .model_mix(v, &format!("{path}.model_mix"))?
                .into_iter()
                .map(|(m, w)| (m, Some(w)))
                .collect(),
            (Some(_), Some(_)) => return Err(self.err(path, "give model or model_mix, not both")),
            (None, None) => {
                return Err(self.err(
                    path,
                    "needs a `model` (e.g. \"claude-sonnet-4-6\") or a `model_mix`",
                ))
            }
        };
        // A fixed level stays an exact decimal; a distribution's mean is the expected level.
        let level = |v: &Value, key: &str, b: Bound| -> Result<(Decimal, Option<Dist>)> {
            Ok(match self.dist(v, &format!("{path}.{key}"), b)? {
                Dist::Fixed(d) => (d, None),
                d => (d.mean(), Some(d)),
            })
        };
        let (volume, volume_dist) = match (t.get("sessions_per_day"), t.get("sessions_per_month")) {
            (Some(v), None) => {
                let (d, dist) = level(v, "sessions_per_day", SESSIONS_PER_DAY)?;
                (Volume::PerDay(d), dist)
            }
            (None, Some(v)) => {
                let (d, dist) = level(v, "sessions_per_month", SESSIONS_PER_MONTH)?;
                (Volume::PerMonth(d), dist)
            }
            (Some(_), Some(_)) => {
                return Err(self.err(
                    path,
                    "give sessions_per_day or sessions_per_month, not both",
                ))
            }
            (None, None) => {
                return Err(self.err(path, "needs sessions_per_day or sessions_per_month"))
            }
        };
        let (growth, growth_dist) = match t.get("growth_per_month") {
            None => (Decimal::ZERO, None),
            Some(v) => self.growth(v, &format!("{path}.growth_per_month"))?,
        };
        let weekday_weights = t
            .get("weekday_weights")
            .map(|v| self.weekday_weights(v, &format!("{path}.weekday_weights")))
            .transpose()?;
        let speed = match t
            .get("speed")
            .map(|v| self.string(v, &format!("{path}.speed")))
            .transpose()?
            .as_deref()
        {
            None | Some("standard") => Speed::Standard,
            Some("fast") => Speed::Fast,
            Some(other) => {
                return Err(self.err(
                    &format!("{path}.speed"),
                    format!("{other:?} is not \"standard\" or \"fast\""),
                ))
            }
        };
        let inference_geo = t
            .get("inference_geo")
            .map(|v| self.string(v, &format!("{path}.inference_geo")))
            .transpose()?;
        let arrivals = match t
            .get("arrivals")
            .map(|v| self.string(v, &format!("{path}.arrivals")))
            .transpose()?
            .as_deref()
        {
            None | Some("fixed") => Arrivals::Fixed,
            Some("poisson") => Arrivals::Poisson,
            Some(other) => {
                return Err(self.err(
                    &format!("{path}.arrivals"),
                    format!("{other:?} is not \"fixed\" or \"poisson\""),
                ))
            }
        };
        let own = match t.get("session") {
            Some(Value::Table(s)) => Some(s),
            Some(other) => {
                return Err(self.err(
                    &format!("{path}.session"),
                    format!("expected a table, got {}", other.type_str()),
                ))
            }
            None => None,
        };
        let session = self.session(own, defaults, &format!("{path}.session"))?;
        Ok(mix
            .into_iter()
            .map(|(model, share)| AgentSpec {
                // One row per model of a mix, its share of the entry's sessions.
                name: match share {
                    Some(_) => format!("{name} ({model})"),
                    None => name.clone(),
                },
                volume: match (&volume, share) {
                    (Volume::PerDay(v), Some(w)) => Volume::PerDay(v * w),
                    (Volume::PerMonth(v), Some(w)) => Volume::PerMonth(v * w),
                    (v, None) => v.clone(),
                },
                model,
                growth,
                speed,
                inference_geo: inference_geo.clone(),
                arrivals,
                session: session.clone(),
                volume_dist: volume_dist.clone(),
                growth_dist: growth_dist.clone(),
                weekday_weights,
                entry,
            })
            .collect())
    }

    /// An agent's session: its own keys over the scenario's `[defaults.session]`.
    fn session(
        &self,
        own: Option<&Table>,
        defaults: Option<&Table>,
        path: &str,
    ) -> Result<SessionSpec> {
        if let Some(d) = defaults {
            self.known_keys(d, &SESSION_KEYS, "defaults.session")?;
        }
        if let Some(o) = own {
            self.known_keys(o, &SESSION_KEYS, path)?;
        }
        let get = |key: &str| -> Option<(&Value, String)> {
            own.and_then(|o| o.get(key).map(|v| (v, format!("{path}.{key}"))))
                .or_else(|| {
                    defaults
                        .and_then(|d| d.get(key).map(|v| (v, format!("defaults.session.{key}"))))
                })
        };
        let dist = |key: &str, default: Option<i64>, b: Bound| -> Result<Dist> {
            match get(key) {
                Some((v, p)) => self.dist(v, &p, b),
                None => match default {
                    Some(d) => Ok(Dist::Fixed(Decimal::from(d))),
                    None => Err(self.err(
                        path,
                        format!("needs `{key}` (here or in [defaults.session])"),
                    )),
                },
            }
        };
        let cache_ttl = match get("cache_ttl") {
            None => CacheTtl::FiveMinutes,
            Some((v, p)) => match self.string(v, &p)?.as_str() {
                "5m" => CacheTtl::FiveMinutes,
                "1h" => CacheTtl::OneHour,
                other => return Err(self.err(&p, format!("{other:?} is not \"5m\" or \"1h\""))),
            },
        };
        Ok(SessionSpec {
            active_minutes: dist("active_minutes", None, ACTIVE_MINUTES)?,
            requests: dist("requests", None, REQUESTS)?,
            web_searches: dist("web_searches", Some(0), WEB_SEARCHES)?,
            input_tokens: dist("input_tokens", Some(0), TOKENS)?,
            output_tokens: dist("output_tokens", Some(0), TOKENS)?,
            cache_read_tokens: dist("cache_read_tokens", Some(0), TOKENS)?,
            cache_write_tokens: dist("cache_write_tokens", Some(0), TOKENS)?,
            cache_ttl,
        })
    }

    /// A distribution whose every parameter and whose mean are within `b`.
    fn dist(&self, v: &Value, path: &str, b: Bound) -> Result<Dist> {
        let t = match v {
            Value::Table(t) => t,
            other => return Ok(Dist::Fixed(self.bounded(other, path, b)?)),
        };
        let d = self.dist_table(t, path, b)?;
        // Bounded parameters can still give an unbounded mean (a lognormal's long tail).
        let mean = d.mean_f64();
        if !(mean.is_finite() && mean <= b.max_f64()) {
            return Err(self
                .err(
                    path,
                    format!(
                        "the mean of {} is {mean:.3e}, more than {} {}",
                        d.describe(),
                        b.max,
                        b.unit
                    ),
                )
                .with_hint(BOUND_HINT));
        }
        Ok(d)
    }

    fn dist_table(&self, t: &Table, path: &str, b: Bound) -> Result<Dist> {
        let kind = match t.get("dist") {
            Some(k) => self.string(k, &format!("{path}.dist"))?,
            None => return Err(self.err(path, "a distribution needs `dist` (fixed, uniform, normal, lognormal, poisson, empirical)")),
        };
        let keys: &[&str] = match kind.as_str() {
            "fixed" => &["dist", "value"],
            "uniform" => &["dist", "min", "max"],
            "normal" => &["dist", "mean", "sd"],
            "lognormal" => &["dist", "p50", "p90"],
            "poisson" => &["dist", "mean"],
            "empirical" => &["dist", "file"],
            other => {
                let known = [
                    "fixed",
                    "uniform",
                    "normal",
                    "lognormal",
                    "poisson",
                    "empirical",
                ];
                let hint = did_you_mean(other, &known)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(self.err(
                    &format!("{path}.dist"),
                    format!("unknown distribution {other:?}{hint}"),
                ));
            }
        };
        self.known_keys(t, keys, path)?;
        Ok(match kind.as_str() {
            "fixed" => Dist::Fixed(
                self.bounded(
                    t.get("value")
                        .ok_or_else(|| self.err(path, "fixed needs `value`"))?,
                    &format!("{path}.value"),
                    b,
                )?,
            ),
            "uniform" => {
                let (min, max) = (
                    self.float(t, "min", path, b)?,
                    self.float(t, "max", path, b)?,
                );
                if max < min {
                    return Err(
                        self.err(path, format!("uniform max ({max}) must be >= min ({min})"))
                    );
                }
                Dist::Uniform { min, max }
            }
            "normal" => {
                let mean = self.float(t, "mean", path, b)?;
                let sd = self.float(t, "sd", path, b)?;
                Dist::Normal { mean, sd }
            }
            "lognormal" => {
                let (p50, p90) = (
                    self.float(t, "p50", path, b)?,
                    self.float(t, "p90", path, b)?,
                );
                if p50 <= 0.0 {
                    return Err(self.err(path, format!("lognormal p50 ({p50}) must be > 0")));
                }
                if p90 < p50 {
                    return Err(self.err(
                        path,
                        format!("lognormal p90 ({p90}) must be >= p50 ({p50})"),
                    ));
                }
                Dist::LogNormal { p50, p90 }
            }
            "poisson" => Dist::Poisson {
                mean: self.float(t, "mean", path, b)?,
            },
            _ => {
                let file = self.string(
                    t.get("file")
                        .ok_or_else(|| self.err(path, "empirical needs `file`"))?,
                    &format!("{path}.file"),
                )?;
                let full = self.dir.join(&file);
                let text = crate::files::read_text(&full, MAX_EMPIRICAL_BYTES, "an empirical file")
                    .map_err(|e| {
                        self.err(
                            &format!("{path}.file"),
                            format!("cannot read {}", e.message),
                        )
                    })?;
                let values = parse_values(&text, b).map_err(|(line, msg)| {
                    self.err(
                        &format!("{path}.file"),
                        format!("{}:{line}: {msg}", full.display()),
                    )
                })?;
                if values.is_empty() {
                    return Err(self.err(
                        &format!("{path}.file"),
                        format!("{} has no values", full.display()),
                    ));
                }
                Dist::Empirical {
                    values: values.into(),
                    file,
                }
            }
        })
    }
}

/// One number per line, each within `b`; blank lines, `#` comments and a non-numeric first line
/// (a CSV header) are skipped.
pub fn parse_values(text: &str, b: Bound) -> std::result::Result<Vec<f64>, (usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.split(',').next().unwrap_or("").trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        match l.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 && v <= b.max_f64() => out.push(v),
            Ok(v) if v.is_finite() && v > 0.0 => {
                return Err((i + 1, format!("{l} is more than {} {}", b.max, b.unit)))
            }
            Ok(v) => return Err((i + 1, format!("{v} is not a non-negative number"))),
            Err(_) if out.is_empty() && i == 0 => continue,
            Err(_) => return Err((i + 1, format!("{l:?} is not a number"))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Scenario> {
        Scenario::parse(text, "scenarios/t.toml", Path::new("."))
    }

    const DAILY: &str = "name = \"daily\"\nstart = \"2026-12-01\"\nmonths = 2\n[[agent]]\nname = \"r\"\nmodel = \"claude-sonnet-4-6\"\nsessions_per_day = 1\n[agent.session]\nactive_minutes = 30\nrequests = 6\ninput_tokens = 4000\n";

    #[test]
    fn parses_the_contract_example() {
        let s = parse(DAILY).unwrap();
        assert_eq!(s.start, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        assert_eq!(
            s.month_start(1),
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
        );
        assert_eq!(days_in_month(s.month_start(0)), 31);
        let a = &s.agents[0];
        assert_eq!(a.volume, Volume::PerDay(Decimal::ONE));
        assert_eq!(a.session.input_tokens, Dist::Fixed(Decimal::from(4000)));
        assert_eq!(a.session.web_searches, Dist::Fixed(Decimal::ZERO));
    }

    #[test]
    fn errors_name_the_key_path() {
        let bad = DAILY.replace(
            "input_tokens = 4000",
            "input_tokens = { dist = \"lognormal\", p50 = 1200, p90 = 800 }",
        );
        let e = parse(&bad).unwrap_err();
        assert_eq!(e.message, "scenarios/t.toml: agent[0].session.input_tokens: lognormal p90 (800) must be >= p50 (1200)");
        let e = parse(&DAILY.replace("requests = 6", "reqests = 6")).unwrap_err();
        assert!(
            e.message
                .contains("agent[0].session.reqests: unknown key (did you mean `requests`?)"),
            "{}",
            e.message
        );
        let e = parse(&DAILY.replace("requests = 6", "requests = -6")).unwrap_err();
        assert!(
            e.message
                .contains("agent[0].session.requests: must not be negative"),
            "{}",
            e.message
        );
        let e = parse(&DAILY.replace("months = 2", "months = 0")).unwrap_err();
        assert!(
            e.message.contains("months: must be a whole number"),
            "{}",
            e.message
        );
        let e = parse(&DAILY.replace(
            "active_minutes = 30",
            "active_minutes = { dist = \"empirical\", file = \"nope.txt\" }",
        ))
        .unwrap_err();
        assert!(
            e.message
                .contains("agent[0].session.active_minutes.file: cannot read"),
            "{}",
            e.message
        );
        let e = parse(&DAILY.replace(
            "sessions_per_day = 1",
            "sessions_per_day = 1\ngrowth_per_month = 5",
        ))
        .unwrap_err();
        assert!(e.message.contains("growth_per_month"), "{}", e.message);
    }

    #[test]
    fn defaults_apply_and_agents_override_them() {
        let text = "start = \"2026-12\"\n[defaults.session]\nactive_minutes = 10\nrequests = 2\noutput_tokens = 7\n[[agent]]\nname = \"a\"\nmodel = \"m\"\nsessions_per_month = 3\n[agent.session]\nrequests = 5\n";
        let s = parse(text).unwrap();
        let sess = &s.agents[0].session;
        assert_eq!(sess.requests, Dist::Fixed(Decimal::from(5)));
        assert_eq!(sess.active_minutes, Dist::Fixed(Decimal::from(10)));
        assert_eq!(sess.output_tokens, Dist::Fixed(Decimal::from(7)));
        assert_eq!(s.months, 12);
    }

    #[test]
    fn the_default_inference_geo_is_the_geo_of_agents_without_their_own() {
        let two = DAILY.replace("months = 2\n", "months = 2\ndefault_inference_geo = \"us\"\n")
            + "[[agent]]\nname = \"g\"\nmodel = \"claude-sonnet-4-6\"\ninference_geo = \"global\"\nsessions_per_day = 1\n[agent.session]\nactive_minutes = 1\nrequests = 1\n";
        let s = parse(&two).unwrap();
        let geos: Vec<_> = s
            .agents
            .iter()
            .map(|a| a.inference_geo.as_deref())
            .collect();
        assert_eq!(geos, [Some("us"), Some("global")]);
        assert_eq!(parse(DAILY).unwrap().agents[0].inference_geo, None);
        let e = parse(&DAILY.replace(
            "months = 2\n",
            "months = 2\ndefault_inference_geo = \"US\"\n",
        ))
        .unwrap_err();
        assert!(
            e.message
                .contains("default_inference_geo: \"US\" is not \"us\" or \"global\""),
            "{}",
            e.message
        );
    }
}
