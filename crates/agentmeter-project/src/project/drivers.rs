//! The uncertain drivers of a Monte Carlo run: each `[[agent]]`'s volume level and growth, and
//! each `[[price_change]]` (whether it happens, and its prices), drawn once per run and held
//! over the horizon. They come from their own RNG stream, so a scenario without them draws
//! exactly the sessions it drew before they existed.

use rand::rngs::SmallRng;
use rand::Rng;
use rust_decimal::prelude::*;

use super::montecarlo::{AttoPrices, MAX_ATTO_PRICE};
use super::Plan;
use crate::category::{Category, PerCategory};
use crate::rate::MS_PER_HOUR;
use crate::scenario::dist::Sampler;
use crate::scenario::{drivers as bounds, Volume};

const ATTO: f64 = 1e18;

/// One entry's level (sampler and mean) and growth factor sampler.
struct Entry {
    level: Option<(Sampler, f64)>,
    growth: Option<Sampler>,
}

struct Change {
    probability: f64,
    /// USD per hour, per 1,000 searches, and the token factor.
    runtime: Option<Sampler>,
    search: Option<Sampler>,
    factor: Option<Sampler>,
}

/// What a change set in one run (`None` in `RunDraw::changes`: it did not happen).
#[derive(Clone, Copy, Debug, Default)]
struct Drawn {
    per_ms: Option<i128>,
    per_search: Option<i128>,
    factor: Option<f64>,
}

pub struct Drivers {
    entries: Vec<Entry>,
    changes: Vec<Change>,
    /// [plan agent][change]: whether the change's token factor applies to the agent's model.
    applies: Vec<Vec<bool>>,
    pub any: bool,
}

/// One run's draws.
#[derive(Default)]
pub struct RunDraw {
    /// Per entry: level / its mean, and the growth factor.
    level: Vec<f64>,
    growth: Vec<Option<f64>>,
    changes: Vec<Option<Drawn>>,
}

fn atto(usd: f64) -> i128 {
    ((usd * ATTO).round() as i128).clamp(0, MAX_ATTO_PRICE)
}

impl Drivers {
    pub fn new(plan: &Plan) -> Self {
        let n = plan.agents.iter().map(|a| a.entry + 1).max().unwrap_or(0);
        let mut entries: Vec<Entry> = (0..n)
            .map(|_| Entry {
                level: None,
                growth: None,
            })
            .collect();
        for a in &plan.agents {
            let bound = match a.volume {
                Volume::PerDay(_) => crate::scenario::SESSIONS_PER_DAY,
                Volume::PerMonth(_) => crate::scenario::SESSIONS_PER_MONTH,
            };
            let e = &mut entries[a.entry];
            e.level = a
                .volume_dist
                .as_ref()
                .map(|d| (d.sampler(bound.max_f64()), d.mean_f64()));
            // The factor 1 + g is uncapped, so E[G^m] is the moment the plan computed; the
            // sessions it gives are capped instead (see `lambda`).
            e.growth = a.growth_dist.as_ref().map(|d| d.sampler(f64::MAX));
        }
        let changes: Vec<Change> = plan
            .price_changes
            .iter()
            .map(|c| Change {
                probability: c.probability.to_f64().unwrap_or(1.0),
                runtime: c
                    .runtime_usd_per_hour
                    .as_ref()
                    .map(|d| d.sampler(bounds::RUNTIME_USD_PER_HOUR.max_f64())),
                search: c
                    .web_search_usd_per_1000
                    .as_ref()
                    .map(|d| d.sampler(bounds::WEB_SEARCH_USD_PER_1000.max_f64())),
                factor: c
                    .token_factor
                    .as_ref()
                    .map(|d| d.sampler(bounds::TOKEN_FACTOR.max_f64())),
            })
            .collect();
        let applies = plan
            .agents
            .iter()
            .map(|a| {
                plan.price_changes
                    .iter()
                    .map(|c| c.token_factor_for(&a.model).is_some())
                    .collect()
            })
            .collect();
        let any = !changes.is_empty()
            || entries
                .iter()
                .any(|e| e.level.is_some() || e.growth.is_some());
        Drivers {
            entries,
            changes,
            applies,
            any,
        }
    }

    pub fn draw(&self, rng: &mut SmallRng) -> RunDraw {
        let mut d = RunDraw::default();
        for e in &self.entries {
            d.level.push(match &e.level {
                Some((s, mean)) if *mean > 0.0 => s.sample(rng) / mean,
                _ => 1.0,
            });
            d.growth.push(e.growth.as_ref().map(|s| s.sample(rng)));
        }
        for c in &self.changes {
            let happens = rng.random::<f64>() < c.probability;
            d.changes.push(happens.then(|| {
                Drawn {
                    per_ms: c
                        .runtime
                        .as_ref()
                        .map(|s| atto(s.sample(rng) / MS_PER_HOUR as f64)),
                    per_search: c.search.as_ref().map(|s| atto(s.sample(rng) / 1000.0)),
                    factor: c.factor.as_ref().map(|s| s.sample(rng)),
                }
            }));
        }
        d
    }

    /// The prices of each key of a cell of agent `ai` in this run, or `None` where they are
    /// the table's: the changes in force on a key's days (the first `in_force[k]` by date)
    /// that happened, a later one replacing an earlier one's prices.
    pub fn prices(
        &self,
        d: &RunDraw,
        ai: usize,
        base: &[AttoPrices],
        in_force: &[u16],
    ) -> Option<Vec<AttoPrices>> {
        if in_force
            .iter()
            .all(|&n| d.changes[..n as usize].iter().all(Option::is_none))
        {
            return None;
        }
        Some(
            base.iter()
                .zip(in_force)
                .map(|(b, &n)| {
                    let mut p = b.clone();
                    let mut factor = None;
                    for (c, &applies) in d.changes[..n as usize].iter().zip(&self.applies[ai]) {
                        let Some(c) = c else { continue };
                        let (runtime, search) = (Category::Runtime, Category::WebSearch);
                        // A change's prices are list prices: the contract's discount of
                        // the day applies to them as to the table's.
                        p.standard[runtime] =
                            c.per_ms.map_or(p.standard[runtime], |x| b.paid(runtime, x));
                        p.standard[search] = c
                            .per_search
                            .map_or(p.standard[search], |x| b.paid(search, x));
                        if applies {
                            factor = c.factor.or(factor);
                        }
                    }
                    if let Some(f) = factor {
                        // The token prices; runtime and search keep theirs.
                        let scale = |r: &PerCategory<i128>| {
                            r.map(|c, x| match c.is_token() {
                                true => ((x as f64 * f).round() as i128).clamp(0, MAX_ATTO_PRICE),
                                false => x,
                            })
                        };
                        p.standard = scale(&p.standard);
                        p.long_context = b.long_context.as_ref().map(|(t, r)| (*t, scale(r)));
                    }
                    p
                })
                .collect(),
        )
    }
}

impl RunDraw {
    /// How many times its expected sessions a cell of `entry`, month `m`, has in this run:
    /// level / E[level] x G^m / E[G^m].
    pub fn volume_factor(&self, entry: usize, m: i32, growth_moment: f64) -> f64 {
        let g = match self.growth[entry] {
            Some(g) if growth_moment > 0.0 => g.powi(m) / growth_moment,
            _ => 1.0,
        };
        self.level[entry] * g
    }
}
