//! Project: a scenario x a price table -> monthly spend. The expected cost is exact (priced from
//! the means with the rater's own rules); the Monte Carlo distribution simulates sessions with
//! integer quantities and integer (atto-dollar) unit prices derived from the same rater.

pub mod budget;
pub mod drivers;
pub mod montecarlo;
pub mod sketch;
pub mod terms;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use rust_decimal::prelude::*;

use crate::category::{Category, CostColumn, PerCategory, PerCostColumn};
use crate::contract::{self, Contract};
use crate::error::{Error, Result};
use crate::pricing::{PriceTable, Rates};
use crate::rate::{RateQuery, Rater};
use crate::scenario::{self, days_in_month, AgentSpec, Arrivals, PriceChange, Scenario, Volume};
use crate::time::Zone;
use crate::usage::CacheTtl;

/// An amount per cost column (the `cost` keys of meter-v1, without the total).
pub type ByCost<T> = PerCostColumn<T>;

#[derive(Clone, Debug)]
pub struct ProjectOptions {
    /// Override the scenario's horizon.
    pub months: Option<u32>,
    pub runs: u32,
    pub seed: u64,
    /// Price every agent as this model (one variant of a side-by-side comparison).
    pub model: Option<String>,
    /// Where the runs' progress bar is shown (the binary: on a terminal); default: nowhere.
    pub progress: crate::progress::Progress,
    /// A contract (`--contract`): its discounts priced into every day of the plan (so every
    /// amount is what the user pays), its commitments and credits applied to the expected
    /// months.
    pub contract: Option<Arc<Contract>>,
}

impl Default for ProjectOptions {
    fn default() -> Self {
        ProjectOptions {
            months: None,
            runs: 1000,
            seed: 1,
            model: None,
            progress: crate::progress::Progress::none(),
            contract: None,
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
    /// Per-session list cost percentiles of the agent's simulated sessions (see [`budget`]).
    pub session_budget: budget::SessionBudget,
}

/// A projection under a contract: every amount of the projection is what the user pays after
/// the discounts (priced into each day's prices, so the runs include them); these are the
/// exact expectations at list prices beside them, and the monthly terms on the expected
/// months.
#[derive(Clone, Debug)]
pub struct ContractTerms {
    pub contract: Arc<Contract>,
    /// Expected at list prices: per month, per agent (over the horizon), per cost column
    /// (over the horizon), and the total.
    pub list_months: Vec<Decimal>,
    pub list_agents: Vec<Decimal>,
    pub list_categories: ByCost<Decimal>,
    pub list_total: Decimal,
    /// Each month of the horizon billed as `contract::apply` bills metered usage, on the
    /// expected spend of each day: the commitment's shortfall, the credits used, the bill.
    pub months: Vec<contract::Month>,
    pub credits: Vec<contract::CreditBalance>,
    pub shortfall: Decimal,
    pub credits_used: Decimal,
    pub billed: Decimal,
    /// The same terms on every Monte Carlo run's months (see [`terms`]): the band of the bill
    /// beside the band of what the runs pay, per month and over the horizon.
    pub runs: BilledRuns,
}

/// Each run's bill under a contract's commitments and credits, per month and over the horizon.
#[derive(Clone, Debug)]
pub struct BilledRuns {
    pub months: Vec<BilledStats>,
    pub total: BilledStats,
}

/// The runs' bills: their mean and percentiles (`expected`: the bill of the expected spend,
/// [`ContractTerms::billed`] and its months'), and the mean over the runs of the shortfall
/// and of the credits used. Without a commitment or credit, the runs' own (contracted)
/// distribution, with no shortfall or credit.
#[derive(Clone, Debug)]
pub struct BilledStats {
    pub billed: Stats,
    pub shortfall_mean: Decimal,
    pub credits_used_mean: Decimal,
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
    /// What the Monte Carlo band includes (see [`uncertainty`]): a subset of
    /// [`UNCERTAINTY_SOURCES`]; whatever is missing is fixed as the scenario wrote it.
    pub uncertainty: Vec<&'static str>,
    /// Under `--contract`: the list expectations beside, and the monthly terms.
    pub contract: Option<ContractTerms>,
}

/// The prices one agent pays on one day, exact.
#[derive(Clone, Debug, PartialEq)]
pub struct DayPrices {
    pub standard: Rates,
    pub long_context: Option<(u64, Rates)>,
    pub usd_per_hour: Decimal,
    pub usd_per_1000_searches: Decimal,
    /// What a contract's discounts leave of each category's list price on the day (1: none,
    /// or no contract); the prices above already have it.
    pub kept: PerCategory<Decimal>,
}

impl DayPrices {
    /// These list prices less a contract's discounts: each category's rate times what its
    /// discount leaves (`kept`), as rating applies a discount to a line item's amount.
    pub fn discounted(&self, kept: PerCategory<Decimal>) -> Result<DayPrices> {
        let (standard, long_context) = self.token_rates_times(|c| kept[c])?;
        Ok(DayPrices {
            standard,
            long_context,
            usd_per_hour: mul(self.usd_per_hour, kept[Category::Runtime])?,
            usd_per_1000_searches: mul(self.usd_per_1000_searches, kept[Category::WebSearch])?,
            kept: PerCategory::from_fn(|c| self.kept[c] * kept[c]),
        })
    }

    /// The token rates, standard and long-context, each times `factor` of its category.
    fn token_rates_times(
        &self,
        factor: impl Fn(Category) -> Decimal,
    ) -> Result<(Rates, Option<(u64, Rates)>)> {
        let scale = |r: &Rates| -> Result<Rates> {
            let mut out = r.clone();
            for c in Category::tokens() {
                if let Some(v) = out.get_mut(c) {
                    *v = mul(*v, factor(c))?;
                }
            }
            Ok(out)
        };
        let long = match &self.long_context {
            Some((t, r)) => Some((*t, scale(r)?)),
            None => None,
        };
        Ok((scale(&self.standard)?, long))
    }

    /// Each category's rate in the table's unit (per hour, per million tokens, per 1,000
    /// searches), with `tokens` the token rates (standard or long context).
    pub fn rates_with(&self, tokens: &Rates) -> PerCategory<Decimal> {
        PerCategory::from_fn(|c| match c {
            Category::Runtime => self.usd_per_hour,
            Category::WebSearch => self.usd_per_1000_searches,
            c => tokens.get(c),
        })
    }
}

/// The category a scenario's cost column is billed as: its own, or for cache writes the
/// scenario's TTL.
pub fn billed_as(column: CostColumn, ttl: CacheTtl) -> Category {
    match (column, ttl) {
        (CostColumn::CacheWrite, CacheTtl::FiveMinutes) => Category::CacheWrite5m,
        (CostColumn::CacheWrite, CacheTtl::OneHour) => Category::CacheWrite1h,
        (c, _) => c.first_category(),
    }
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
    let err = |m: &dyn std::fmt::Display| {
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
    let standard = rater.request_rates(&q(0)).map_err(|e| err(&e))?;
    let long_context = match standard.long_context_threshold {
        Some(t) => Some((
            t,
            rater.request_rates(&q(t + 1)).map_err(|e| err(&e))?.rates,
        )),
        None => None,
    };
    let usd_per_hour = match table.runtime_at(at) {
        Some(r) => r.usd_per_hour,
        None => {
            return Err(err(&format!(
                "no runtime price in force on {day} in price table {}",
                table.version
            )))
        }
    };
    let usd_per_1000_searches = match table.web_search_at(at) {
        Some(r) => r.usd_per_1000,
        None if a.session.web_searches.mean().is_zero() => Decimal::ZERO,
        None => {
            return Err(err(&format!(
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
        kept: PerCategory::from_fn(|_| Decimal::ONE),
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
    let per_request = ByCost::from_fn(|c| s.tokens(c).map_or(Decimal::ZERO, |d| d.mean()));
    let total_input = (CostColumn::tokens().filter(|c| c.model_input()))
        .map(|c| per_request[c])
        .sum::<Decimal>()
        .to_u64()
        .unwrap_or(u64::MAX);
    let rates = match &p.long_context {
        Some((t, long)) if total_input > *t => long,
        _ => &p.standard,
    };
    let rates = p.rates_with(rates);
    let requests = s.requests.mean();
    // Quantities are bounded by the scenario, prices by nothing but the table: checked.
    ByCost::try_from_fn(|column| {
        let quantity = match column {
            CostColumn::Runtime => mul(s.active_minutes.mean(), Decimal::from(60_000))?,
            CostColumn::WebSearch => s.web_searches.mean(),
            c => mul(requests, per_request[c])?,
        };
        let category = billed_as(column, s.cache_ttl);
        Ok(mul(quantity, rates[category])? / Decimal::from(category.unit().per_rate()))
    })
}

/// Expected sessions of an agent on a mean day of month `m` (before weekday weights), or `None`
/// once growth takes the volume past the bound the scenario's key has (a day's or a month's
/// sessions).
pub fn sessions_per_day(a: &AgentSpec, m: u32, days: u32) -> Option<Decimal> {
    let (v, bound) = volume_and_bound(a);
    if v.is_zero() {
        return Some(v);
    }
    let g = match &a.growth_dist {
        // (1 + growth)^m first, then times the volume: the order of the exact sums before bounds.
        None => {
            let mut g = Decimal::ONE;
            for _ in 0..m {
                g = g.checked_mul(Decimal::ONE + a.growth)?;
                if v.checked_mul(g)? > Decimal::from(bound.max) {
                    return None;
                }
            }
            g
        }
        Some(d) => Decimal::from_f64(growth_moment(d, m)?)?,
    };
    if v.checked_mul(g)? > Decimal::from(bound.max) {
        return None;
    }
    Some(match a.volume {
        Volume::PerDay(_) => v * g,
        Volume::PerMonth(_) => v * g / Decimal::from(days.max(1)),
    })
}

/// E[G^m] for a growth factor G = 1 + g drawn once and compounded over m months; not
/// (E G)^m (Jensen). Uniform on [a, b]: (b^(m+1) - a^(m+1)) / ((m + 1)(b - a)). Normal
/// truncated at 0 (growth above -100%): the truncated normal's raw moments, by the recursion
/// E[G^k] = mu E[G^(k-1)] + (k-1) sd^2 E[G^(k-2)] (integration by parts; the boundary term at
/// 0 vanishes for k >= 2), with E[G] the truncated mean. `None` when it overflows.
pub fn growth_moment(d: &scenario::Dist, m: u32) -> Option<f64> {
    use scenario::Dist;
    let v = match d {
        Dist::Uniform { min: a, max: b } if b > a => {
            let k = m as f64 + 1.0;
            (b.powf(k) - a.powf(k)) / (k * (b - a))
        }
        Dist::Uniform { min: a, .. } => a.powi(m as i32),
        Dist::Normal { mean, sd } => {
            let (mut prev, mut cur) = (1.0, scenario::dist::truncated_normal_mean(*mean, *sd));
            if m == 0 {
                cur = 1.0;
            }
            for k in 2..=m {
                let next = mean * cur + (k - 1) as f64 * sd * sd * prev;
                (prev, cur) = (cur, next);
            }
            cur
        }
        other => other.mean_f64().powi(m as i32),
    };
    v.is_finite().then_some(v)
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
    pub price_changes: Vec<PriceChange>,
    /// [agent][month] -> per day prices (index into `prices`), expected sessions, expected cost.
    pub cells: Vec<Vec<Cell>>,
    /// Under a contract: every day of the horizon's expected spend, all agents together, at
    /// list prices and contracted (for the monthly terms); empty without one.
    pub days: BTreeMap<NaiveDate, (Decimal, Decimal)>,
}

pub struct Cell {
    /// The price table's prices of each day (before any `price_change`), less a contract's
    /// discounts in force that day.
    pub days: Vec<Arc<DayPrices>>,
    /// Each day's weekday weight (empty: every day weighs 1).
    pub weights: Vec<f64>,
    /// How many price changes (by date) are in force on each day (empty: none ever are).
    pub in_force: Vec<u16>,
    pub expected_sessions: Decimal,
    /// What the month is expected to cost (under a contract: what the user pays), and at list
    /// prices.
    pub expected: ByCost<Decimal>,
    pub expected_list: ByCost<Decimal>,
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
    let price_changes = price_changes_of(scenario, table)?;
    let month_starts: Vec<NaiveDate> = (0..months).map(|i| scenario.month_start(i)).collect();
    let contract = opts.contract.as_deref();
    let mut all_days: BTreeMap<NaiveDate, (Decimal, Decimal)> = BTreeMap::new();
    let mut cells = Vec::new();
    for a in &agents {
        let path = format!("{}: agent[{}] ({})", scenario.origin, a.entry, a.name);
        // A discount names models by their canonical ids, as line items carry them.
        let model_id = table.model(&a.model).map(|m| m.id.clone());
        let mut row = Vec::new();
        let mut last: Option<Arc<DayPrices>> = None;
        for (mi, first) in month_starts.iter().enumerate() {
            let n_days = days_in_month(*first);
            let per_day = sessions_per_day(a, mi as u32, n_days).ok_or_else(|| {
                Error::new(format!(
                    "{}: agent[{}].growth_per_month: {}% a month takes {} past {} {} by {}",
                    scenario.origin,
                    a.entry,
                    (a.growth * Decimal::ONE_HUNDRED).normalize(),
                    a.name,
                    volume_and_bound(a).1.max,
                    volume_and_bound(a).1.unit,
                    first.format("%Y-%m")
                ))
                .with_hint("lower the growth or the sessions, or project fewer months")
            })?;
            let mut days = Vec::with_capacity(n_days as usize);
            let (mut weights, mut in_force) = (Vec::new(), Vec::new());
            let mut expected = ByCost::<Decimal>::default();
            let mut expected_list = ByCost::<Decimal>::default();
            let mut weight = Decimal::ZERO;
            for d in 0..n_days {
                let day = *first + chrono::Days::new(d as u64);
                let list = day_prices(&rater, table, a, &a.model, day, &path)?;
                // The discounts in force on the day for this agent's charges, as rating
                // applies them to line items of that UTC day.
                let kept = contract
                    .map(|c| PerCategory::from_fn(|cat| c.kept(cat, model_id.as_deref(), day)));
                let p = match kept {
                    Some(k) => list.discounted(k)?,
                    None => list.clone(),
                };
                let p = match &last {
                    Some(l) if **l == p => l.clone(),
                    _ => Arc::new(p),
                };
                last = Some(p.clone());
                let w = match &a.weekday_weights {
                    Some(ws) => ws[day.weekday().num_days_from_monday() as usize],
                    None => Decimal::ONE,
                };
                let on_day = mul(per_day, w)?;
                weight = add(weight, w)?;
                let n = scenario
                    .price_changes
                    .partition_point(|c| c.effective <= day);
                // Price changes are independent of volume, so E[sessions x cost] is
                // E[sessions] x E[cost], and a session's cost is linear in each price.
                // The expected prices at list (price changes are list prices), then what
                // the contract leaves of them: E[kept x price] = kept x E[price].
                let at_list = if n == 0 {
                    list
                } else {
                    expected_prices(&list, &scenario.price_changes[..n], &a.model)?
                };
                let cost_list = expected_session_cost(a, &at_list)?;
                let cost = match kept {
                    Some(k) => expected_session_cost(a, &at_list.discounted(k)?)?,
                    None => cost_list,
                };
                let (mut day_list, mut day_paid) = (Decimal::ZERO, Decimal::ZERO);
                for (k, c) in cost {
                    let v = mul(on_day, c)?;
                    expected[k] = add(expected[k], v)?;
                    day_paid = add(day_paid, v)?;
                }
                for (k, c) in cost_list {
                    let v = mul(on_day, c)?;
                    expected_list[k] = add(expected_list[k], v)?;
                    day_list = add(day_list, v)?;
                }
                if contract.is_some() {
                    let e = all_days.entry(day).or_default();
                    *e = (add(e.0, day_list)?, add(e.1, day_paid)?);
                }
                if a.weekday_weights.is_some() {
                    weights.push(w.to_f64().unwrap_or(1.0));
                }
                if !price_changes.is_empty() {
                    in_force.push(n as u16);
                }
                days.push(p);
            }
            row.push(Cell {
                days,
                weights,
                in_force,
                // per day x the days' weight, not a sum of days: without weights exactly
                // per day x days, which a sum's rounding could push past a whole number.
                expected_sessions: mul(per_day, weight)?,
                expected,
                expected_list,
            });
        }
        cells.push(row);
    }
    Ok(Plan {
        agents,
        months: month_starts,
        price_changes,
        cells,
        days: all_days,
    })
}

/// The scenario's price changes with each `models` entry checked against the table and widened
/// to every name of its model (id and aliases), so an agent matches by whichever it uses.
fn price_changes_of(scenario: &Scenario, table: &PriceTable) -> Result<Vec<PriceChange>> {
    let mut out = scenario.price_changes.clone();
    for c in &mut out {
        let Some(models) = &mut c.models else {
            continue;
        };
        let mut names = Vec::new();
        for (j, m) in models.iter().enumerate() {
            let Some(model) = table.model(m) else {
                return Err(Error::new(format!(
                    "{}: price_change[{}].models[{j}]: unknown model {m:?} in price table {}{}",
                    scenario.origin,
                    c.index,
                    table.version,
                    table.suggestion(m)
                )));
            };
            names.push(model.id.clone());
            names.extend(model.aliases.iter().cloned());
        }
        *models = names;
    }
    Ok(out)
}

/// The expected prices of a day on which `changes` (by date) are in force: each price is the
/// latest change that happens, else the table's, so E = sum over changes, latest first, of
/// P(it happens and no later one does) x its mean, plus P(none happens) x the table's.
fn expected_prices(base: &DayPrices, changes: &[PriceChange], model: &str) -> Result<DayPrices> {
    let expect = |table: Decimal, price: &dyn Fn(&PriceChange) -> Option<&scenario::Dist>| {
        let (mut none_later, mut e) = (Decimal::ONE, Decimal::ZERO);
        for c in changes.iter().rev() {
            if let Some(d) = price(c) {
                e = add(e, mul(none_later * c.probability, d.mean())?)?;
                none_later *= Decimal::ONE - c.probability;
            }
        }
        add(e, mul(none_later, table)?)
    };
    let factor = expect(Decimal::ONE, &|c| c.token_factor_for(model))?;
    let (standard, long_context) = base.token_rates_times(|_| factor)?;
    Ok(DayPrices {
        standard,
        long_context,
        usd_per_hour: expect(base.usd_per_hour, &|c| c.runtime_usd_per_hour.as_ref())?,
        usd_per_1000_searches: expect(base.usd_per_1000_searches, &|c| {
            c.web_search_usd_per_1000.as_ref()
        })?,
        kept: base.kept,
    })
}

/// The sources of uncertainty a projection's Monte Carlo band includes, as the JSON names them.
pub fn uncertainty(plan: &Plan) -> Vec<&'static str> {
    let a = &plan.agents;
    let s = |a: &AgentSpec| {
        let s = &a.session;
        [
            &s.active_minutes,
            &s.requests,
            &s.web_searches,
            &s.input_tokens,
            &s.output_tokens,
            &s.cache_read_tokens,
            &s.cache_write_tokens,
        ]
        .iter()
        .any(|d| !d.is_fixed())
    };
    [
        ("per_session", a.iter().any(s)),
        (
            "arrivals",
            a.iter().any(|a| a.arrivals == Arrivals::Poisson),
        ),
        ("volume", a.iter().any(|a| a.volume_dist.is_some())),
        ("growth", a.iter().any(|a| a.growth_dist.is_some())),
        (
            "prices",
            plan.price_changes.iter().any(|c| c.is_uncertain()),
        ),
    ]
    .into_iter()
    .filter_map(|(k, on)| on.then_some(k))
    .collect()
}

/// Every source of uncertainty a projection can include, in the order `uncertainty` lists them.
pub const UNCERTAINTY_SOURCES: [&str; 5] =
    ["per_session", "arrivals", "volume", "growth", "prices"];

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
    let (budgets, mut notes) = budget::recommend(scenario, &plan, table, opts.seed)?;
    let n_months = plan.months.len();
    let months = (0..n_months)
        .map(|m| {
            let by_agent = plan
                .cells
                .iter()
                .map(|row| total(row[m].expected.values().copied()))
                .collect::<Result<Vec<Decimal>>>()?;
            let mut by_category = ByCost::<Decimal>::default();
            for row in &plan.cells {
                for (c, v) in row[m].expected {
                    by_category[c] = add(by_category[c], v)?;
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
            let by_category =
                ByCost::try_from_fn(|c| total(plan.cells[ai].iter().map(|cell| cell.expected[c])))?;
            Ok(AgentOut {
                name: a.name.clone(),
                model: a.model.clone(),
                stats: mc.agents[ai].with_expected(total(months.iter().map(|m| m.by_agent[ai]))?),
                by_category,
                session_budget: budgets[ai],
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let categories: ByCost<Stats> = ByCost::try_from_fn(|c| {
        Ok(mc.categories[c].with_expected(total(months.iter().map(|m| m.by_category[c]))?))
    })?;
    let contract = match &opts.contract {
        Some(c) => {
            let mut t = contract_terms(c, &plan)?;
            t.runs = billed_runs(&t, &mc, &months, &mc.total.with_expected(total_expected));
            Some(t)
        }
        None => None,
    };
    if let Some(t) = &contract {
        notes.extend(contract_notes(t, &months));
    }
    notes.splice(0..0, mc.notes);
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
        notes,
        uncertainty: uncertainty(&plan),
        contract,
    })
}

/// The list expectations of a plan priced under `c`, and its monthly terms on the expected
/// spend of each day.
fn contract_terms(c: &Arc<Contract>, plan: &Plan) -> Result<ContractTerms> {
    let list_months = (0..plan.months.len())
        .map(|m| {
            total(
                plan.cells
                    .iter()
                    .flat_map(|row| row[m].expected_list.values().copied()),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let list_agents = plan
        .cells
        .iter()
        .map(|row| {
            total(
                row.iter()
                    .flat_map(|cell| cell.expected_list.values().copied()),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let list_categories = ByCost::try_from_fn(|k| {
        total(
            plan.cells
                .iter()
                .flat_map(|row| row.iter().map(move |cell| cell.expected_list[k])),
        )
    })?;
    let (months, credits) = contract::bill_days(c, &plan.days);
    let shortfall = total(months.iter().map(|m| m.shortfall))?;
    let credits_used = total(months.iter().flat_map(|m| &m.credits).map(|u| u.1))?;
    let contracted = total(months.iter().map(|m| m.contracted))?;
    Ok(ContractTerms {
        contract: c.clone(),
        list_total: total(list_months.iter().copied())?,
        list_months,
        list_agents,
        list_categories,
        billed: add(contracted, shortfall)? - credits_used,
        months,
        credits,
        shortfall,
        credits_used,
        runs: BilledRuns {
            months: Vec::new(),
            total: BilledStats {
                billed: Stats::default(),
                shortfall_mean: Decimal::ZERO,
                credits_used_mean: Decimal::ZERO,
            },
        },
    })
}

/// The runs' bills under the terms `t` (from the Monte Carlo's per-run billing, or without
/// commitments and credits the runs' own figures: `months` and `total`, what they pay).
fn billed_runs(
    t: &ContractTerms,
    mc: &montecarlo::McResult,
    months: &[MonthOut],
    total: &Stats,
) -> BilledRuns {
    match &mc.billed {
        Some(b) => BilledRuns {
            months: (0..months.len())
                .map(|m| BilledStats {
                    billed: b.months[m].with_expected(t.months[m].billed),
                    shortfall_mean: b.shortfall[m].mean(),
                    credits_used_mean: b.credits_used[m].mean(),
                })
                .collect(),
            total: BilledStats {
                billed: b.total.with_expected(t.billed),
                shortfall_mean: b.shortfall_total.mean(),
                credits_used_mean: b.credits_used_total.mean(),
            },
        },
        None => {
            let plain = |s: &Stats| BilledStats {
                billed: s.clone(),
                shortfall_mean: Decimal::ZERO,
                credits_used_mean: Decimal::ZERO,
            };
            BilledRuns {
                months: months.iter().map(|m| plain(&m.stats)).collect(),
                total: plain(total),
            }
        }
    }
}

/// What the contract's terms mean for the projection's figures, in words: the discounts are
/// in every run; the commitments and credits apply to the expected spend, which for a month
/// whose runs fall both below and above its minimum is not the expected bill.
fn contract_notes(t: &ContractTerms, months: &[MonthOut]) -> Vec<String> {
    let c = &t.contract;
    let mut out = vec![format!(
        "contract {}: its discounts are priced into every day of the plan, so every amount (the expectation and each run) is what the user pays, list prices beside; its commitments and credits are applied to the expected spend of each day, as to metered usage, and to each run's months (the bill's own band)",
        c.version
    )];
    // A shortfall max(0, minimum - spend) is linear in the spend only where every run is on
    // one side of the minimum: where the band straddles it, the shortfall at the expected
    // spend understates the expected shortfall (Jensen).
    let straddled: Vec<String> = (months.iter().zip(&t.months))
        .filter_map(|(m, terms)| {
            let (_, min) = terms.commitment?;
            (m.stats.p5 < min && min < m.stats.p99).then(|| {
                format!(
                    "{} (minimum {}, runs p5 {}, p99 {})",
                    m.month.format("%Y-%m"),
                    crate::money::usd(min),
                    crate::money::usd(m.stats.p5),
                    crate::money::usd(m.stats.p99)
                )
            })
        })
        .collect();
    if !straddled.is_empty() {
        out.push(format!(
            "the monthly minimum lies inside the runs' band in {}: a run below it bills a shortfall that a run above it does not make up, so the shortfall at the expected spend understates what such a month bills on average (the runs' bills, each with its own shortfall, show it)",
            straddled.join(", ")
        ));
    }
    out
}

/// The projections a report shows: the plan as written first (projected with `opts` if `ps`
/// holds only `--model` variants), then each variant beside it.
pub fn with_plan(
    scenario: &Scenario,
    table: &PriceTable,
    opts: &ProjectOptions,
    ps: Vec<Projection>,
) -> Result<Vec<Projection>> {
    if ps.iter().any(|p| p.variant.is_none()) {
        return Ok(ps);
    }
    let plan = ProjectOptions {
        model: None,
        ..opts.clone()
    };
    let mut out = vec![project(scenario, table, &plan)?];
    out.extend(ps);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Dist;

    /// E[G^k] of a normal truncated at 0, by Simpson's rule over [0, mean + 12 sd].
    fn numeric(mean: f64, sd: f64, k: i32) -> f64 {
        let pdf = |x: f64| (-0.5 * ((x - mean) / sd).powi(2)).exp();
        let (hi, n) = (mean + 12.0 * sd, 20_000);
        let h = hi / n as f64;
        let simpson = |g: &dyn Fn(f64) -> f64| {
            (0..=n)
                .map(|i| {
                    let w = if i == 0 || i == n {
                        1.0
                    } else if i % 2 == 1 {
                        4.0
                    } else {
                        2.0
                    };
                    w * g(i as f64 * h)
                })
                .sum::<f64>()
                * h
                / 3.0
        };
        simpson(&|x| x.powi(k) * pdf(x)) / simpson(&pdf)
    }

    #[test]
    fn growth_moments_of_a_truncated_normal_match_the_integral() {
        // Truncation matters here: a factor of mean 0.5, sd 0.5 is below 0 with chance 16%.
        let d = Dist::Normal { mean: 0.5, sd: 0.5 };
        for m in [0, 1, 2, 5, 12] {
            let exact = growth_moment(&d, m).unwrap();
            let want = numeric(0.5, 0.5, m as i32);
            // The normal CDF behind the truncated mean is good to 1.5e-7.
            assert!(
                ((exact - want) / want).abs() < 1e-5,
                "m {m}: {exact} vs {want}"
            );
        }
    }

    #[test]
    fn growth_moments_of_a_uniform_are_its_integral() {
        // E[G^2] on [1, 1.1] = (1.1^3 - 1) / (3 x 0.1) = 0.331 / 0.3 = 1.103333...
        let d = Dist::Uniform { min: 1.0, max: 1.1 };
        assert!((growth_moment(&d, 2).unwrap() - 0.331 / 0.3).abs() < 1e-12);
        assert_eq!(growth_moment(&d, 0), Some(1.0));
    }
}
