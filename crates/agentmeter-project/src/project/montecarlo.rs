//! Monte Carlo: each run simulates every agent-month's sessions with integer quantities and
//! integer unit prices (atto-dollars), so amounts come from integer arithmetic; f64 is used only
//! for the random draws and for the quantile sketch. Runs are independent (one seeded RNG per
//! run), so results do not depend on threads, and memory does not grow with the run count.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal, Poisson};
use rayon::prelude::*;
use rust_decimal::prelude::*;

use super::drivers::Drivers;
use super::sketch::Sketch;
use super::terms::{RunMonth, RunTerms};
use super::{ByCost, DayPrices, Plan, ProjectOptions, Stats};
use crate::category::{Category, CostColumn, PerCategory, COLUMN_COUNT};
use crate::error::{Error, Result};
use crate::scenario::dist::{Sampler, BATCH};
use crate::scenario::{self, AgentSpec, Arrivals};

/// Agent-months with more expected sessions than this use the normal approximation of a sum
/// of many independent sessions (central limit theorem) instead of simulating each one.
pub const EXACT_MAX_SESSIONS: f64 = 1000.0;
/// Sessions simulated to estimate the per-session mean and variance for that approximation
/// (fewer for sessions of many requests: see [`pilot_sessions`]).
const PILOT_SESSIONS: u32 = 100_000;
const PILOT_DRAWS: f64 = 2e8;
/// Random draws a projection may take (about a minute): more is refused up front, not hung on.
pub const MAX_DRAWS: f64 = 1e10;
const ATTO: f64 = 1e18;
/// The RNG stream of each run's driver draws (level, growth, price changes), apart from its
/// sessions' stream.
const DRIVERS_STREAM: u64 = 0xD1CE_D00D_5EED_0001;
/// The highest unit price (per token, running millisecond or search) a projection takes, in
/// atto-dollars ($100): with the scenario's bounds, a session's cost then fits in i128 many
/// times over, and the run's sums are checked.
pub(super) const MAX_ATTO_PRICE: i128 = 100 * 1_000_000_000_000_000_000;

/// Unit prices in atto-dollars (1e-18 USD): per token of each kind, per running millisecond,
/// per search.
#[derive(Clone, Debug, PartialEq)]
pub struct AttoPrices {
    pub(super) standard: PerCategory<i128>,
    /// Above the threshold of input tokens: the token prices (the others are 0, unused).
    pub(super) long_context: Option<(u64, PerCategory<i128>)>,
    /// What a contract's discounts leave of the list price of runtime and of web search on
    /// these days (1: none), for the list prices a run draws in their place.
    pub(super) kept: (Decimal, Decimal),
}

impl AttoPrices {
    /// A list unit price a run draws for runtime or web search (a `[[price_change]]`), less
    /// the contract's discount these prices carry: to the nearest atto-dollar.
    pub(super) fn paid(&self, category: Category, list: i128) -> i128 {
        let kept = match category {
            Category::Runtime => self.kept.0,
            Category::WebSearch => self.kept.1,
            _ => Decimal::ONE,
        };
        if kept == Decimal::ONE {
            return list;
        }
        Decimal::from_i128(list)
            .and_then(|l| l.checked_mul(kept))
            .and_then(|v| v.round().to_i128())
            .unwrap_or(list)
    }

    /// Each cost column's unit price (its first category's), for scaling a normal
    /// approximation to other prices.
    fn by_category(&self) -> ByCost<i128> {
        ByCost::from_fn(|c| self.standard[c.first_category()])
    }
}

fn atto(d: Decimal) -> i128 {
    (d * Decimal::from(1_000_000_000_000_000_000i64))
        .round()
        .to_i128()
        .unwrap_or(i128::MAX)
}

/// Atto-dollars per unit of each category, from rates in the table's units.
fn per_unit(rates: &PerCategory<Decimal>) -> PerCategory<i128> {
    rates.map(|c, r| atto(r / Decimal::from(c.unit().per_rate())))
}

impl AttoPrices {
    pub fn of(p: &DayPrices) -> Result<Self> {
        let a = AttoPrices {
            standard: per_unit(&p.rates_with(&p.standard)),
            long_context: p.long_context.as_ref().map(|(t, r)| {
                let long = per_unit(&p.rates_with(r));
                (*t, long.map(|c, v| if c.is_token() { v } else { 0 }))
            }),
            kept: (p.kept[Category::Runtime], p.kept[Category::WebSearch]),
        };
        let tokens = |r: &PerCategory<i128>| {
            (r.iter())
                .filter(|(c, _)| c.is_token())
                .map(|(_, v)| *v)
                .collect::<Vec<_>>()
        };
        let all = (tokens(&a.standard).into_iter())
            .chain(a.long_context.iter().flat_map(|(_, r)| tokens(r)))
            .chain(
                a.standard
                    .iter()
                    .filter(|(c, _)| !c.is_token())
                    .map(|(_, v)| *v),
            );
        for v in all {
            if !(0..=MAX_ATTO_PRICE).contains(&v) {
                return Err(Error::new(format!(
                    "a unit price of {} USD (per token, running millisecond or search) is outside 0..=$100, more than the Monte Carlo can price",
                    Decimal::from_i128_with_scale(v, 18).normalize()
                ))
                .with_hint("check the price table's rates (per million tokens, per hour, per 1,000 searches)"));
            }
        }
        Ok(a)
    }
}

/// Ready-to-draw samplers of an agent's session.
pub struct SessionSampler {
    minutes: Sampler,
    requests: Sampler,
    searches: Sampler,
    /// Per request: each token column's draw, in the table's order.
    tokens: Vec<TokenDraw>,
}

/// One token column of a request: its sampler, the category it is billed as (cache writes:
/// the scenario's TTL), and whether it counts toward the long-context threshold.
struct TokenDraw {
    column: CostColumn,
    sampler: Sampler,
    billed_as: Category,
    model_input: bool,
}

impl SessionSampler {
    pub fn new(a: &AgentSpec) -> Self {
        let s = &a.session;
        let max = scenario::TOKENS.max_f64();
        SessionSampler {
            minutes: s.active_minutes.sampler(scenario::ACTIVE_MINUTES.max_f64()),
            requests: s.requests.sampler(scenario::REQUESTS.max_f64()),
            searches: s.web_searches.sampler(scenario::WEB_SEARCHES.max_f64()),
            tokens: CostColumn::tokens()
                .filter_map(|column| {
                    Some(TokenDraw {
                        column,
                        sampler: s.tokens(column)?.sampler(max),
                        billed_as: super::billed_as(column, s.cache_ttl),
                        model_input: column.model_input(),
                    })
                })
                .collect(),
        }
    }

    /// One request's tokens by column.
    #[inline]
    fn request(&self, rng: &mut SmallRng) -> ByCost<u64> {
        let mut n = ByCost::<u64>::default();
        for t in &self.tokens {
            n[t.column] = t.sampler.count(rng);
        }
        n
    }

    /// One session's quantities, for `simulate`: the same draws, kept instead of priced.
    pub fn draw(&self, rng: &mut SmallRng) -> Drawn {
        let minutes = self.minutes.sample(rng);
        let active_ms = if minutes > 0.0 {
            (minutes * 60_000.0 + 0.5) as i64
        } else {
            0
        };
        let requests = (0..self.requests.count(rng))
            .map(|_| self.request(rng))
            .collect();
        Drawn {
            active_ms,
            requests,
            web_searches: self.searches.count(rng),
        }
    }

    /// One session's cost by category, in atto-dollars, added to `out`.
    ///
    /// Tokens are drawn column by column (see [`Sampler::counts`]) and summed per column and
    /// price tier before they are priced: the integer sum of tokens times the unit price is
    /// the sum of the per-request amounts, exactly. A column's sum is at most
    /// REQUESTS x TOKENS = 1e13 tokens, far inside u64.
    #[inline]
    pub fn simulate(&self, rng: &mut SmallRng, p: &AttoPrices, out: &mut ByCost<i128>) {
        let minutes = self.minutes.sample(rng);
        // At most 1e6 minutes: the milliseconds fit i64 (whose conversion is one instruction).
        let ms = if minutes > 0.0 {
            (minutes * 60_000.0 + 0.5) as i64
        } else {
            0
        };
        out[CostColumn::Runtime] += ms as i128 * p.standard[Category::Runtime];
        let requests = self.requests.count(rng) as usize;
        match &p.long_context {
            None => {
                for t in &self.tokens {
                    let tokens = t.sampler.sum_counts(rng, requests);
                    out[t.column] += tokens as i128 * p.standard[t.billed_as];
                }
            }
            // Each request's tier depends on its own input tokens: draw a batch of requests
            // in every column, then sum each request into its tier.
            Some((threshold, long_rates)) => {
                let mut batch = [[0f64; BATCH]; COLUMN_COUNT];
                let mut sums = [[0u64; COLUMN_COUNT]; 2];
                let mut left = requests;
                while left > 0 {
                    let n = left.min(BATCH);
                    left -= n;
                    for (t, b) in self.tokens.iter().zip(batch.iter_mut()) {
                        t.sampler.counts(rng, &mut b[..n]);
                    }
                    for i in 0..n {
                        let input: u64 = (self.tokens.iter().zip(&batch))
                            .filter(|(t, _)| t.model_input)
                            .map(|(_, b)| b[i] as u64)
                            .sum();
                        let tier = &mut sums[(input > *threshold) as usize];
                        for (sum, b) in tier.iter_mut().zip(&batch[..self.tokens.len()]) {
                            *sum += b[i] as u64;
                        }
                    }
                }
                for (j, t) in self.tokens.iter().enumerate() {
                    out[t.column] += sums[0][j] as i128 * p.standard[t.billed_as]
                        + sums[1][j] as i128 * long_rates[t.billed_as];
                }
            }
        }
        out[CostColumn::WebSearch] +=
            self.searches.count(rng) as i128 * p.standard[Category::WebSearch];
    }
}

/// What one simulated session used: running time, per-request tokens by column, web
/// searches.
pub struct Drawn {
    pub active_ms: i64,
    pub requests: Vec<ByCost<u64>>,
    pub web_searches: u64,
}

/// The sum of many sessions, approximately normal: per-session moments from a pilot sample.
#[derive(Clone, Debug)]
struct Moments {
    mean: f64,
    sd: f64,
    shares: ByCost<f64>,
}

struct CellSim {
    lambda: f64,
    /// The most sessions a run may give it (the volume bound), whatever its drivers draw.
    cap: f64,
    month: i32,
    /// E[G^m] of its agent's uncertain growth.
    growth_moment: f64,
    arrivals: Arrivals,
    /// Prices per day of the month (deduplicated with the price changes in force), each day's
    /// index into them, and how many changes are in force for each.
    prices: Vec<AttoPrices>,
    day: Vec<u16>,
    in_force: Vec<u16>,
    /// Cumulative weekday weights of the days (empty: days weigh the same), and each price's
    /// share of the month's sessions.
    cumulative: Vec<f64>,
    share: Vec<f64>,
    clt: Option<Moments>,
}

impl CellSim {
    fn count(&self, rng: &mut SmallRng, lambda: f64) -> u64 {
        match self.arrivals {
            Arrivals::Poisson if lambda > 0.0 => {
                Poisson::new(lambda).map_or(0, |p| p.sample(rng) as u64)
            }
            Arrivals::Poisson => 0,
            Arrivals::Fixed => {
                let whole = lambda.floor();
                whole as u64 + (rng.random::<f64>() < lambda - whole) as u64
            }
        }
    }

    /// The index of the prices of a session's day: a day drawn in proportion to its weight.
    fn pick(&self, rng: &mut SmallRng) -> usize {
        if self.prices.len() == 1 {
            return 0;
        }
        let d = match self.cumulative.last() {
            Some(total) => {
                let x = rng.random::<f64>() * total;
                self.cumulative
                    .partition_point(|c| *c <= x)
                    .min(self.day.len() - 1)
            }
            None => rng.random_range(0..self.day.len()),
        };
        self.day[d] as usize
    }

    /// Per category, the mean ratio of `run` prices to the table's over the month: what a
    /// normal approximation from a pilot at the table's prices is scaled by.
    fn ratios(&self, run: &[AttoPrices]) -> ByCost<f64> {
        let mut r = ByCost::<f64>::default();
        for ((b, p), share) in self.prices.iter().zip(run).zip(&self.share) {
            let y = p.by_category();
            for (c, x) in b.by_category() {
                r[c] += share * if x > 0 { y[c] as f64 / x as f64 } else { 1.0 };
            }
        }
        r
    }
}

/// Accumulated distribution of one quantity over runs.
#[derive(Clone, Debug, Default)]
pub struct McStats {
    sum_atto: i128,
    runs: u64,
    sketch: Sketch,
}

/// `acc += v`, saturating and raising `overflow` past i128 (then the projection is refused).
fn add_checked(acc: &mut i128, v: i128, overflow: &AtomicBool) {
    *acc = acc.checked_add(v).unwrap_or_else(|| {
        overflow.store(true, Ordering::Relaxed);
        i128::MAX
    });
}

impl McStats {
    fn add(&mut self, v: i128, overflow: &AtomicBool) {
        add_checked(&mut self.sum_atto, v, overflow);
        self.runs += 1;
        self.sketch.add(v as f64 / ATTO);
    }

    fn merge(&mut self, o: &McStats, overflow: &AtomicBool) {
        add_checked(&mut self.sum_atto, o.sum_atto, overflow);
        self.runs += o.runs;
        self.sketch.merge(&o.sketch);
    }

    /// Histogram of the simulated values, in USD.
    pub fn histogram(&self, bins: usize) -> Vec<(f64, f64, u64)> {
        self.sketch.histogram(bins)
    }

    /// The mean over the runs, USD to 6 places.
    pub fn mean(&self) -> Decimal {
        let mean_atto = self.sum_atto / self.runs.max(1) as i128;
        // Pico-dollars fit a Decimal up to $7.9e16; above that, micro-dollars (to $7.9e22,
        // beyond any checked sum).
        let mean = Decimal::try_from_i128_with_scale(mean_atto / 1_000_000, 12)
            .or_else(|_| Decimal::try_from_i128_with_scale(mean_atto / 1_000_000_000_000, 6))
            .unwrap_or(Decimal::MAX);
        mean.round_dp(6)
    }

    pub fn with_expected(&self, expected: Decimal) -> Stats {
        let q = |x: f64| Decimal::from_f64(x).unwrap_or_default().round_dp(6);
        Stats {
            expected,
            mean: self.mean(),
            p5: q(self.sketch.quantile(0.05)),
            p50: q(self.sketch.quantile(0.50)),
            p95: q(self.sketch.quantile(0.95)),
            p99: q(self.sketch.quantile(0.99)),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct McResult {
    pub months: Vec<McStats>,
    pub agents: Vec<McStats>,
    pub categories: ByCost<McStats>,
    pub total: McStats,
    pub simulated_sessions: u64,
    pub notes: Vec<String>,
    /// Under a contract with commitments or credits (else `None`): each run's bill after
    /// them, by month and over the horizon.
    pub billed: Option<BilledMc>,
}

/// Each run's monthly terms: its bill, shortfall and credits used, per month and over the
/// horizon.
#[derive(Clone, Debug, Default)]
pub struct BilledMc {
    pub months: Vec<McStats>,
    pub total: McStats,
    pub shortfall: Vec<McStats>,
    pub shortfall_total: McStats,
    pub credits_used: Vec<McStats>,
    pub credits_used_total: McStats,
}

impl BilledMc {
    fn empty(months: usize) -> Self {
        let each = vec![McStats::default(); months];
        BilledMc {
            months: each.clone(),
            shortfall: each.clone(),
            credits_used: each,
            ..Default::default()
        }
    }

    /// One run's months.
    fn add(&mut self, run: &[RunMonth], overflow: &AtomicBool) {
        let (mut billed, mut shortfall, mut credits) = (0i128, 0i128, 0i128);
        for (m, r) in run.iter().enumerate() {
            self.months[m].add(r.billed, overflow);
            self.shortfall[m].add(r.shortfall, overflow);
            self.credits_used[m].add(r.credits_used, overflow);
            add_checked(&mut billed, r.billed, overflow);
            add_checked(&mut shortfall, r.shortfall, overflow);
            add_checked(&mut credits, r.credits_used, overflow);
        }
        self.total.add(billed, overflow);
        self.shortfall_total.add(shortfall, overflow);
        self.credits_used_total.add(credits, overflow);
    }

    fn merge(&mut self, o: &BilledMc, overflow: &AtomicBool) {
        for (a, b) in (self.months.iter_mut().zip(&o.months))
            .chain(self.shortfall.iter_mut().zip(&o.shortfall))
            .chain(self.credits_used.iter_mut().zip(&o.credits_used))
        {
            a.merge(b, overflow);
        }
        self.total.merge(&o.total, overflow);
        self.shortfall_total.merge(&o.shortfall_total, overflow);
        self.credits_used_total
            .merge(&o.credits_used_total, overflow);
    }
}

impl McResult {
    fn empty(months: usize, agents: usize, billed: bool) -> Self {
        McResult {
            months: vec![McStats::default(); months],
            agents: vec![McStats::default(); agents],
            billed: billed.then(|| BilledMc::empty(months)),
            ..Default::default()
        }
    }

    fn merge(mut self, o: McResult, overflow: &AtomicBool) -> Self {
        for (a, b) in self.months.iter_mut().zip(&o.months) {
            a.merge(b, overflow);
        }
        for (a, b) in self.agents.iter_mut().zip(&o.agents) {
            a.merge(b, overflow);
        }
        for (c, a) in self.categories.iter_mut() {
            a.merge(&o.categories[c], overflow);
        }
        self.total.merge(&o.total, overflow);
        if let (Some(a), Some(b)) = (&mut self.billed, &o.billed) {
            a.merge(b, overflow);
        }
        self.simulated_sessions += o.simulated_sessions;
        self
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A seed for stream `stream` of a run seeded with `seed`.
pub fn split_seed(seed: u64, stream: u64) -> u64 {
    splitmix(seed ^ splitmix(stream))
}

fn run_rng(seed: u64, stream: u64) -> SmallRng {
    SmallRng::seed_from_u64(split_seed(seed, stream))
}

/// Random draws one session of `a` takes on average: minutes, request count, searches, a day's
/// prices and four token counts per request.
pub(super) fn draws_per_session(a: &AgentSpec) -> f64 {
    let requests = a
        .session
        .requests
        .mean_f64()
        .min(scenario::REQUESTS.max_f64());
    4.0 + 4.0 * requests
}

/// The pilot's size: 100,000 sessions, fewer (down to 1,000) when sessions take many draws.
fn pilot_sessions(draws_per_session: f64) -> u32 {
    (PILOT_DRAWS / draws_per_session).clamp(1000.0, PILOT_SESSIONS as f64) as u32
}

fn pilot(sampler: &SessionSampler, cell: &CellSim, seed: u64, sessions: u32) -> Moments {
    let mut rng = run_rng(seed, 0xC0FF_EE00);
    let (mut sum, mut sum_sq) = (0f64, 0f64);
    let mut cats = ByCost::<f64>::default();
    for _ in 0..sessions {
        let mut out = ByCost::<i128>::default();
        let k = cell.pick(&mut rng);
        sampler.simulate(&mut rng, &cell.prices[k], &mut out);
        let total = out.values().sum::<i128>() as f64 / ATTO;
        sum += total;
        sum_sq += total * total;
        for (c, v) in out {
            cats[c] += v as f64 / ATTO;
        }
    }
    let n = sessions as f64;
    let mean = sum / n;
    let var = (sum_sq / n - mean * mean).max(0.0) * n / (n - 1.0);
    let shares = cats.map(|_, c| if sum > 0.0 { c / sum } else { 0.0 });
    Moments {
        mean,
        sd: var.sqrt(),
        shares,
    }
}

/// Refuse a plan whose simulation would take more than [`MAX_DRAWS`] random draws.
fn check_work(plan: &Plan, runs: u32) -> Result<()> {
    let runs = runs as f64;
    let mut draws = 0f64;
    for (a, row) in plan.agents.iter().zip(&plan.cells) {
        let per_session = draws_per_session(a);
        for cell in row {
            let lambda = cell.expected_sessions.to_f64().unwrap_or(f64::INFINITY);
            draws += if lambda > EXACT_MAX_SESSIONS {
                pilot_sessions(per_session) as f64 * per_session + runs * 2.0
            } else {
                runs * (1.0 + lambda * per_session)
            };
        }
    }
    if draws.is_nan() || draws > MAX_DRAWS {
        return Err(Error::new(format!(
            "this projection would take about {draws:.1e} random draws (runs x months x sessions x requests), more than the limit of {MAX_DRAWS:e}"
        ))
        .with_hint("use fewer --runs or --months (a month of more than 1,000 sessions costs one draw a run)"));
    }
    Ok(())
}

/// Simulate `opts.runs` runs of the plan.
pub fn run(plan: &Plan, opts: &ProjectOptions) -> Result<McResult> {
    if opts.runs == 0 {
        return Err(Error::new("--runs must be at least 1"));
    }
    check_work(plan, opts.runs)?;
    let samplers: Vec<SessionSampler> = plan.agents.iter().map(SessionSampler::new).collect();
    let mut notes = Vec::new();
    let mut cells: Vec<Vec<CellSim>> = Vec::new();
    for (ai, row) in plan.cells.iter().enumerate() {
        let mut sims = Vec::new();
        let mut approximated = 0;
        let pilot_n = pilot_sessions(draws_per_session(&plan.agents[ai]));
        for (mi, cell) in row.iter().enumerate() {
            let a = &plan.agents[ai];
            let mut prices: Vec<AttoPrices> = Vec::new();
            let mut in_force = Vec::new();
            let mut share = Vec::new();
            let mut day = Vec::with_capacity(cell.days.len());
            let mut cumulative = Vec::with_capacity(cell.weights.len());
            for (d, p) in cell.days.iter().enumerate() {
                let atto = AttoPrices::of(p)?;
                let n = cell.in_force.get(d).copied().unwrap_or(0);
                let w = cell.weights.get(d).copied().unwrap_or(1.0);
                let idx = (0..prices.len())
                    .position(|k| prices[k] == atto && in_force[k] == n)
                    .unwrap_or_else(|| {
                        prices.push(atto);
                        in_force.push(n);
                        share.push(0.0);
                        prices.len() - 1
                    });
                share[idx] += w;
                day.push(idx as u16);
                if !cell.weights.is_empty() {
                    cumulative.push(cumulative.last().copied().unwrap_or(0.0) + w);
                }
            }
            let total: f64 = share.iter().sum();
            share
                .iter_mut()
                .for_each(|s| *s /= total.max(f64::MIN_POSITIVE));
            let lambda = cell.expected_sessions.to_f64().unwrap_or(0.0);
            let cap = match a.volume {
                scenario::Volume::PerDay(_) => {
                    scenario::SESSIONS_PER_DAY.max_f64() * cell.days.len() as f64
                }
                scenario::Volume::PerMonth(_) => scenario::SESSIONS_PER_MONTH.max_f64(),
            };
            let mut sim = CellSim {
                lambda,
                cap,
                month: mi as i32,
                growth_moment: a
                    .growth_dist
                    .as_ref()
                    .and_then(|g| super::growth_moment(g, mi as u32))
                    .unwrap_or(1.0),
                arrivals: a.arrivals,
                prices,
                day,
                in_force,
                cumulative,
                share,
                clt: None,
            };
            if lambda > EXACT_MAX_SESSIONS {
                approximated += 1;
                sim.clt = Some(pilot(
                    &samplers[ai],
                    &sim,
                    opts.seed ^ ((ai as u64) << 32) ^ mi as u64,
                    pilot_n,
                ));
            }
            sims.push(sim);
        }
        if approximated > 0 {
            notes.push(format!(
                "agent {}: {approximated} month(s) with more than {EXACT_MAX_SESSIONS} sessions use a normal approximation of the month's sum \
                 (mean and variance per session from {pilot_n} simulated sessions)",
                plan.agents[ai].name
            ));
        }
        cells.push(sims);
    }

    let drivers = Drivers::new(plan);
    let (n_months, n_agents) = (plan.months.len(), plan.agents.len());
    // A contract's commitments and credits, billed on each run's months (per run, after its
    // sessions).
    let terms = (opts.contract.as_deref()).and_then(|c| RunTerms::new(c, &plan.months, &plan.days));
    let billed = terms.is_some();
    let done = AtomicU64::new(0);
    let overflow = AtomicBool::new(false);
    let runs = opts.runs as u64;
    let line = |_| crate::progress::bar(done.load(Ordering::Relaxed), runs, "runs");
    let result = opts.progress.during(line, || {
        (0..runs)
            .into_par_iter()
            .fold(
                || McResult::empty(n_months, n_agents, billed),
                |mut acc, run| {
                    let mut rng = run_rng(opts.seed, run);
                    let draw = drivers
                        .any
                        .then(|| drivers.draw(&mut run_rng(opts.seed ^ DRIVERS_STREAM, run)));
                    let mut month_tot = vec![0i128; n_months];
                    let mut cat_tot = ByCost::<i128>::default();
                    let mut total = 0i128;
                    for (ai, row) in cells.iter().enumerate() {
                        let mut agent_tot = 0i128;
                        for (mi, cell) in row.iter().enumerate() {
                            let (lambda, run_prices) = match &draw {
                                Some(d) => (
                                    (cell.lambda
                                        * d.volume_factor(
                                            plan.agents[ai].entry,
                                            cell.month,
                                            cell.growth_moment,
                                        ))
                                    .min(cell.cap),
                                    drivers.prices(d, ai, &cell.prices, &cell.in_force),
                                ),
                                None => (cell.lambda, None),
                            };
                            let prices = run_prices.as_deref().unwrap_or(&cell.prices);
                            let n = cell.count(&mut rng, lambda);
                            let mut out = ByCost::<i128>::default();
                            match &cell.clt {
                                Some(m) => {
                                    let nf = n as f64;
                                    let total = Normal::new(nf * m.mean, nf.sqrt() * m.sd)
                                        .map_or(nf * m.mean, |d| d.sample(&mut rng))
                                        .max(0.0);
                                    let ratios = match &run_prices {
                                        Some(p) => cell.ratios(p),
                                        None => ByCost::from_fn(|_| 1.0),
                                    };
                                    for (c, o) in out.iter_mut() {
                                        let (share, r) = (m.shares[c], ratios[c]);
                                        let x = total * share * r * ATTO;
                                        // `as` would saturate silently; past i128 is an error.
                                        if x.is_nan() || x >= i128::MAX as f64 {
                                            overflow.store(true, Ordering::Relaxed);
                                        }
                                        *o = x as i128;
                                    }
                                }
                                None => {
                                    for _ in 0..n {
                                        let k = cell.pick(&mut rng);
                                        samplers[ai].simulate(&mut rng, &prices[k], &mut out);
                                    }
                                    acc.simulated_sessions += n;
                                }
                            }
                            for (c, v) in out {
                                add_checked(&mut cat_tot[c], v, &overflow);
                                add_checked(&mut month_tot[mi], v, &overflow);
                                add_checked(&mut agent_tot, v, &overflow);
                                add_checked(&mut total, v, &overflow);
                            }
                        }
                        acc.agents[ai].add(agent_tot, &overflow);
                    }
                    for (m, v) in acc.months.iter_mut().zip(&month_tot) {
                        m.add(*v, &overflow);
                    }
                    if let (Some(t), Some(b)) = (&terms, &mut acc.billed) {
                        let mut bill = vec![RunMonth::default(); n_months];
                        t.bill(&month_tot, &mut bill);
                        b.add(&bill, &overflow);
                    }
                    for (c, v) in cat_tot {
                        acc.categories[c].add(v, &overflow);
                    }
                    acc.total.add(total, &overflow);
                    done.fetch_add(1, Ordering::Relaxed);
                    acc
                },
            )
            .reduce(
                || McResult::empty(n_months, n_agents, billed),
                |a, b| a.merge(b, &overflow),
            )
    });
    if overflow.load(Ordering::Relaxed) {
        return Err(Error::new(format!(
            "the projection is too large to simulate exactly: a run's sums pass {} USD (atto-dollars in 128 bits)",
            i128::MAX / 1_000_000_000_000_000_000
        ))
        .with_hint("project fewer months, agents or sessions"));
    }
    Ok(McResult { notes, ..result })
}
