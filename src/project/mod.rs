//! Project: a scenario x a price table -> monthly spend. The expected cost is exact (priced from
//! the means with the rater's own rules); the Monte Carlo distribution simulates sessions with
//! integer quantities and integer (atto-dollar) unit prices derived from the same rater.

pub mod montecarlo;
pub mod sketch;

use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::prelude::*;

use crate::error::{Error, Result};
use crate::meter::CacheTtl;
use crate::pricing::{PriceTable, Rates};
use crate::rate::{RateQuery, Rater, MS_PER_HOUR, TOKENS_PER_PRICE_UNIT};
use crate::scenario::{self, days_in_month, AgentSpec, Scenario, Volume};
use crate::time::Zone;

/// The six cost categories of a projection (the `cost` keys of meter-v1, without the total).
pub const COST_CATEGORIES: [&str; 6] = [
    "runtime",
    "input",
    "output",
    "cache_write",
    "cache_read",
    "web_search",
];

/// An amount per cost category.
pub type ByCost<T> = [T; 6];

#[derive(Clone, Debug)]
pub struct ProjectOptions {
    /// Override the scenario's horizon.
    pub months: Option<u32>,
    pub runs: u32,
    pub seed: u64,
    /// Price every agent as this model (one variant of a side-by-side comparison).
    pub model: Option<String>,
    /// Show a progress bar on stderr (only if it is a terminal).
    pub progress: bool,
}

impl Default for ProjectOptions {
    fn default() -> Self {
        ProjectOptions {
            months: None,
            runs: 1000,
            seed: 1,
            model: None,
            progress: false,
        }
    }
}

/// Summary of a distribution of spend, with the exact expected value beside it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    pub expected: Decimal,
    pub mean: Decimal,
    pub p5: Decimal,
    pub p50: Decimal,
    pub p95: Decimal,
    pub p99: Decimal,
}

#[derive(Clone, Debug)]
pub struct MonthOut {
    pub month: NaiveDate,
    pub expected_sessions: Decimal,
    pub stats: Stats,
    /// Expected cost per agent (scenario order) and per category.
    pub by_agent: Vec<Decimal>,
    pub by_category: ByCost<Decimal>,
}

#[derive(Clone, Debug)]
pub struct AgentOut {
    pub name: String,
    pub model: String,
    /// Over the horizon.
    pub stats: Stats,
    /// Expected cost per category over the horizon.
    pub by_category: ByCost<Decimal>,
}

#[derive(Clone, Debug)]
pub struct Projection {
    pub scenario: String,
    /// The model every agent was priced as, when `--model` was given.
    pub variant: Option<String>,
    pub pricing_name: String,
    pub pricing_version: String,
    pub months: Vec<MonthOut>,
    pub total: Stats,
    pub agents: Vec<AgentOut>,
    pub categories: ByCost<Stats>,
    pub runs: u32,
    pub seed: u64,
    pub simulated_sessions: u64,
    /// Distribution of the horizon total over the runs: (from, to, runs), in USD.
    pub histogram: Vec<(f64, f64, u64)>,
    /// Notes on method (e.g. where a normal approximation replaced exact simulation).
    pub notes: Vec<String>,
}

/// The prices one agent pays on one day, exact.
#[derive(Clone, Debug, PartialEq)]
pub struct DayPrices {
    pub standard: Rates,
    pub long_context: Option<(u64, Rates)>,
    pub usd_per_hour: Decimal,
    pub usd_per_1000_searches: Decimal,
}

/// Price table lookups for an agent at the first instant of `day` (UTC), by the rater's rules.
pub fn day_prices(
    rater: &Rater,
    table: &PriceTable,
    a: &AgentSpec,
    model: &str,
    day: NaiveDate,
    path: &str,
) -> Result<DayPrices> {
    let at = day
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or_default();
    let err = |m: String| {
        Error::new(format!("{path}: {m}"))
            .with_hint("use --pricing FILE with a table that covers the horizon, or --model ID")
    };
    let q = |total_input| RateQuery {
        model,
        at,
        speed: a.speed,
        inference_geo: a.inference_geo.as_deref(),
        total_input,
    };
    let standard = rater.request_rates(&q(0)).map_err(err)?;
    let long_context = match standard.long_context_threshold {
        Some(t) => Some((t, rater.request_rates(&q(t + 1)).map_err(err)?.rates)),
        None => None,
    };
    let usd_per_hour = match table.runtime_at(at) {
        Some(r) => r.usd_per_hour,
        None => {
            return Err(err(format!(
                "no runtime price in force on {day} in price table {}",
                table.version
            )))
        }
    };
    let usd_per_1000_searches = match table.web_search_at(at) {
        Some(r) => r.usd_per_1000,
        None if a.session.web_searches.mean().is_zero() => Decimal::ZERO,
        None => {
            return Err(err(format!(
                "no web search price in force on {day} in price table {}",
                table.version
            )))
        }
    };
    Ok(DayPrices {
        standard: standard.rates,
        long_context,
        usd_per_hour,
        usd_per_1000_searches,
    })
}

/// `a * b` or an error: a projection never shows a wrapped or saturated amount.
fn mul(a: Decimal, b: Decimal) -> Result<Decimal> {
    a.checked_mul(b).ok_or_else(too_large)
}

fn add(a: Decimal, b: Decimal) -> Result<Decimal> {
    a.checked_add(b).ok_or_else(too_large)
}

fn too_large() -> Error {
    Error::new("the projection's expected cost is too large for an exact decimal (over 7.9e28 USD)")
        .with_hint("project fewer months, agents or sessions, or check the price table's rates")
}

/// Expected cost of one session from the means (long context decided on the mean request).
pub fn expected_session_cost(a: &AgentSpec, p: &DayPrices) -> Result<ByCost<Decimal>> {
    let s = &a.session;
    let (input, output, write, read) = (
        s.input_tokens.mean(),
        s.output_tokens.mean(),
        s.cache_write_tokens.mean(),
        s.cache_read_tokens.mean(),
    );
    let total_input = (input + write + read).to_u64().unwrap_or(u64::MAX);
    let rates = match &p.long_context {
        Some((t, long)) if total_input > *t => long,
        _ => &p.standard,
    };
    let write_rate = match s.cache_ttl {
        CacheTtl::FiveMinutes => rates.cache_write_5m,
        CacheTtl::OneHour => rates.cache_write_1h,
    };
    let per_m = Decimal::from(TOKENS_PER_PRICE_UNIT);
    let requests = s.requests.mean();
    // Quantities are bounded by the scenario, prices by nothing but the table: checked.
    let tokens = |q: Decimal, rate: Decimal| Ok(mul(mul(requests, q)?, rate)? / per_m);
    Ok([
        mul(
            mul(s.active_minutes.mean(), Decimal::from(60_000))?,
            p.usd_per_hour,
        )? / Decimal::from(MS_PER_HOUR),
        tokens(input, rates.input)?,
        tokens(output, rates.output)?,
        tokens(write, write_rate)?,
        tokens(read, rates.cache_read)?,
        mul(s.web_searches.mean(), p.usd_per_1000_searches)? / Decimal::from(1000),
    ])
}

/// Sessions of an agent on each day of month `m` (volume spread evenly over the days), or
/// `None` once growth takes the volume past the bound the scenario's key has (a day's or a
/// month's sessions).
pub fn sessions_per_day(a: &AgentSpec, m: u32, days: u32) -> Option<Decimal> {
    let (v, bound) = volume_and_bound(a);
    if v.is_zero() {
        return Some(v);
    }
    // (1 + growth)^m first, then times the volume: the order of the exact sums before bounds.
    let mut g = Decimal::ONE;
    for _ in 0..m {
        g = g.checked_mul(Decimal::ONE + a.growth)?;
        if v.checked_mul(g)? > Decimal::from(bound.max) {
            return None;
        }
    }
    Some(match a.volume {
        Volume::PerDay(_) => v * g,
        Volume::PerMonth(_) => v * g / Decimal::from(days.max(1)),
    })
}

fn volume_and_bound(a: &AgentSpec) -> (Decimal, scenario::Bound) {
    match a.volume {
        Volume::PerDay(v) => (v, scenario::SESSIONS_PER_DAY),
        Volume::PerMonth(v) => (v, scenario::SESSIONS_PER_MONTH),
    }
}

/// The plan of a projection: per agent and month, the prices of each day and the expected cost.
pub struct Plan {
    pub agents: Vec<AgentSpec>,
    pub months: Vec<NaiveDate>,
    /// [agent][month] -> per day prices (index into `prices`), expected sessions, expected cost.
    pub cells: Vec<Vec<Cell>>,
}

pub struct Cell {
    pub days: Vec<Arc<DayPrices>>,
    pub expected_sessions: Decimal,
    pub expected: ByCost<Decimal>,
}

pub fn plan(scenario: &Scenario, table: &PriceTable, opts: &ProjectOptions) -> Result<Plan> {
    let rater = Rater::new(table, Zone::default());
    let months = match opts.months {
        Some(m) => scenario::check_months(Decimal::from(m), "--months")?,
        None => scenario.months,
    };
    let mut agents = scenario.agents.clone();
    if let Some(m) = &opts.model {
        for a in &mut agents {
            a.model = m.clone();
        }
    }
    let month_starts: Vec<NaiveDate> = (0..months).map(|i| scenario.month_start(i)).collect();
    let mut cells = Vec::new();
    for (ai, a) in agents.iter().enumerate() {
        let path = format!("{}: agent[{ai}] ({})", scenario.origin, a.name);
        let mut row = Vec::new();
        let mut last: Option<Arc<DayPrices>> = None;
        for (mi, first) in month_starts.iter().enumerate() {
            let n_days = days_in_month(*first);
            let per_day = sessions_per_day(a, mi as u32, n_days).ok_or_else(|| {
                Error::new(format!(
                    "{}: agent[{ai}].growth_per_month: {}% a month takes {} past {} {} by {}",
                    scenario.origin,
                    (a.growth * Decimal::ONE_HUNDRED).normalize(),
                    a.name,
                    volume_and_bound(a).1.max,
                    volume_and_bound(a).1.unit,
                    first.format("%Y-%m")
                ))
                .with_hint("lower the growth or the sessions, or project fewer months")
            })?;
            let mut days = Vec::with_capacity(n_days as usize);
            let mut expected = [Decimal::ZERO; 6];
            for d in 0..n_days {
                let day = *first + chrono::Days::new(d as u64);
                let p = day_prices(&rater, table, a, &a.model, day, &path)?;
                let p = match &last {
                    Some(l) if **l == p => l.clone(),
                    _ => Arc::new(p),
                };
                last = Some(p.clone());
                let cost = expected_session_cost(a, &p)?;
                for (e, c) in expected.iter_mut().zip(cost) {
                    *e = add(*e, mul(per_day, c)?)?;
                }
                days.push(p);
            }
            row.push(Cell {
                days,
                expected_sessions: per_day * Decimal::from(n_days),
                expected,
            });
        }
        cells.push(row);
    }
    Ok(Plan {
        agents,
        months: month_starts,
        cells,
    })
}

/// The checked sum of some amounts.
fn total(v: impl IntoIterator<Item = Decimal>) -> Result<Decimal> {
    v.into_iter().try_fold(Decimal::ZERO, add)
}

/// Project a scenario: the exact expectation and the Monte Carlo distribution.
pub fn project(
    scenario: &Scenario,
    table: &PriceTable,
    opts: &ProjectOptions,
) -> Result<Projection> {
    let plan = plan(scenario, table, opts)?;
    let mc = montecarlo::run(&plan, opts)?;
    let n_months = plan.months.len();
    let months = (0..n_months)
        .map(|m| {
            let by_agent = plan
                .cells
                .iter()
                .map(|row| total(row[m].expected))
                .collect::<Result<Vec<Decimal>>>()?;
            let mut by_category = [Decimal::ZERO; 6];
            for row in &plan.cells {
                for (c, v) in by_category.iter_mut().zip(row[m].expected) {
                    *c = add(*c, v)?;
                }
            }
            Ok(MonthOut {
                month: plan.months[m],
                expected_sessions: total(plan.cells.iter().map(|row| row[m].expected_sessions))?,
                stats: mc.months[m].with_expected(total(by_agent.iter().copied())?),
                by_agent,
                by_category,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let total_expected = total(months.iter().map(|m| m.stats.expected))?;
    let agents = plan
        .agents
        .iter()
        .enumerate()
        .map(|(ai, a)| {
            let mut by_category = [Decimal::ZERO; 6];
            for (c, v) in by_category.iter_mut().enumerate() {
                *v = total(plan.cells[ai].iter().map(|cell| cell.expected[c]))?;
            }
            Ok(AgentOut {
                name: a.name.clone(),
                model: a.model.clone(),
                stats: mc.agents[ai].with_expected(total(months.iter().map(|m| m.by_agent[ai]))?),
                by_category,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut categories: ByCost<Stats> = Default::default();
    for (c, st) in categories.iter_mut().enumerate() {
        *st = mc.categories[c].with_expected(total(months.iter().map(|m| m.by_category[c]))?);
    }
    Ok(Projection {
        scenario: scenario.name.clone(),
        variant: opts.model.clone(),
        pricing_name: table.name.clone(),
        pricing_version: table.version.clone(),
        months,
        total: mc.total.with_expected(total_expected),
        agents,
        categories,
        runs: opts.runs,
        seed: opts.seed,
        simulated_sessions: mc.simulated_sessions,
        histogram: mc.total.histogram(30),
        notes: mc.notes,
    })
}
