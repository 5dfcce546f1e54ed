//! Recommended session budgets: per agent, the 95th and 99th percentiles of what one of its
//! sessions costs, for Managed Agents' `budget.max_list_cost`, so a team sets budgets that stop
//! runaways without killing normal work.
//!
//! Method: a dedicated sample of the agent's sessions (up to [`BUDGET_SESSIONS`], fewer when a
//! session takes many random draws; at least [`MIN_BUDGET_SESSIONS`]) drawn with the Monte
//! Carlo's own sampler (`SessionSampler::simulate`) from its own seed stream (the projection's
//! seed, stream [`BUDGET_STREAM`], one per agent), so it changes none of the runs. Each session
//! is priced exactly (integer quantities x integer atto-dollar unit prices) at the agent's
//! **list** prices in force on the horizon's first day: a Managed Agents budget is compared
//! with the session's list cost, whatever a contract discounts, and a budget is set for the
//! sessions that run now (scheduled price changes and `[[price_change]]` draws are not in it).
//! The percentiles are the sample's order statistics (nearest rank: the smallest cost that at
//! least 95% or 99% of the sampled sessions do not exceed), rounded up to the cent, since
//! `max_list_cost` is a number of cents: a budget of that amount lets that share of sessions
//! finish.

use rand::rngs::SmallRng;
use rand::SeedableRng;
use rayon::prelude::*;
use rust_decimal::Decimal;

use super::montecarlo::{draws_per_session, split_seed, AttoPrices, SessionSampler};
use super::{day_prices, ByCost, Plan};
use crate::error::{Error, Result};
use crate::pricing::PriceTable;
use crate::rate::Rater;
use crate::scenario::{AgentSpec, Scenario};
use crate::time::Zone;

/// Sessions sampled per agent at most.
pub const BUDGET_SESSIONS: u32 = 100_000;
/// ... and at least, however many draws a session takes.
pub const MIN_BUDGET_SESSIONS: u32 = 1_000;
/// Random draws an agent's sample takes at most (above the minimum of sessions).
const BUDGET_DRAWS: f64 = 5e7;
/// The RNG stream of the budget samples, apart from the runs' and the drivers'.
pub const BUDGET_STREAM: u64 = 0xB0D6_E75E_5510_0001;
/// Parts of a sample, each from its own seed.
const CHUNKS: u32 = 16;
/// Atto-dollars in a cent.
const ATTO_PER_CENT: i128 = 10_000_000_000_000_000;

/// One agent's recommended session budget: per-session list cost percentiles, in USD to the
/// cent (rounded up), and how many sessions they come from.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SessionBudget {
    pub p95: Decimal,
    pub p99: Decimal,
    pub sessions: u32,
}

/// The sessions an agent's sample draws: [`BUDGET_SESSIONS`], fewer for sessions of many
/// requests (as the Monte Carlo's pilot does).
pub fn sessions_for(a: &AgentSpec) -> u32 {
    (BUDGET_DRAWS / draws_per_session(a)).clamp(MIN_BUDGET_SESSIONS as f64, BUDGET_SESSIONS as f64)
        as u32
}

/// The nearest-rank percentile of sorted values: the `ceil(pct/100 x n)`-th smallest.
pub fn percentile(sorted: &[i128], pct: u64) -> i128 {
    let n = sorted.len() as u64;
    if n == 0 {
        return 0;
    }
    let rank = (pct * n).div_ceil(100).clamp(1, n);
    sorted[(rank - 1) as usize]
}

/// Atto-dollars (not negative) as USD rounded up to the cent, exactly.
pub fn up_to_cent(atto: i128) -> Decimal {
    let cents = atto.max(0).saturating_add(ATTO_PER_CENT - 1) / ATTO_PER_CENT;
    // At most i128::MAX / 1e16 ~ 1.7e22 cents: inside a Decimal.
    Decimal::from_i128_with_scale(cents, 2)
}

/// Each agent's recommended session budget (in the plan's order), and a note for each agent
/// whose sample is smaller than [`BUDGET_SESSIONS`].
pub fn recommend(
    scenario: &Scenario,
    plan: &Plan,
    table: &PriceTable,
    seed: u64,
) -> Result<(Vec<SessionBudget>, Vec<String>)> {
    let Some(&first) = plan.months.first() else {
        return Err(Error::new("a projection of no months has no sessions"));
    };
    let rater = Rater::new(table, Zone::default());
    let prices = plan
        .agents
        .iter()
        .map(|a| {
            let path = format!("{}: agent[{}] ({})", scenario.origin, a.entry, a.name);
            AttoPrices::of(&day_prices(&rater, table, a, &a.model, first, &path)?)
        })
        .collect::<Result<Vec<_>>>()?;
    let budgets: Vec<SessionBudget> = (plan.agents.par_iter().zip(&prices).enumerate())
        .map(|(ai, (a, p))| sample(a, p, split_seed(seed ^ BUDGET_STREAM, ai as u64)))
        .collect();
    let notes = (plan.agents.iter().zip(&budgets))
        .filter(|(_, b)| b.sessions < BUDGET_SESSIONS)
        .map(|(a, b)| {
            format!(
                "agent {}: its recommended session budget comes from {} simulated sessions (its sessions take many random draws)",
                a.name,
                crate::money::count(b.sessions as u64)
            )
        })
        .collect();
    Ok((budgets, notes))
}

/// The budget of one agent from its own sample, drawn in [`CHUNKS`] parts of fixed seeds on
/// every core (the result does not depend on the threads).
fn sample(a: &AgentSpec, prices: &AttoPrices, seed: u64) -> SessionBudget {
    let sampler = SessionSampler::new(a);
    let n = sessions_for(a);
    let mut costs: Vec<i128> = (0..CHUNKS)
        .into_par_iter()
        .flat_map_iter(|c| {
            let mut rng = SmallRng::seed_from_u64(split_seed(seed, c as u64));
            let sessions = n / CHUNKS + u32::from(c < n % CHUNKS);
            let sampler = &sampler;
            (0..sessions).map(move |_| {
                let mut out = ByCost::<i128>::default();
                sampler.simulate(&mut rng, prices, &mut out);
                out.values().fold(0i128, |s, v| s.saturating_add(*v))
            })
        })
        .collect();
    costs.sort_unstable();
    SessionBudget {
        p95: up_to_cent(percentile(&costs, 95)),
        p99: up_to_cent(percentile(&costs, 99)),
        sessions: n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_rank_is_the_smallest_value_that_share_does_not_exceed() {
        // 1..=100: the 95th smallest is 95, the 99th 99. 1..=10: ceil(9.5) = 10th -> 10,
        // ceil(9.9) = 10th -> 10. One value: itself.
        let v: Vec<i128> = (1..=100).collect();
        assert_eq!((percentile(&v, 95), percentile(&v, 99)), (95, 99));
        let v: Vec<i128> = (1..=10).collect();
        assert_eq!((percentile(&v, 95), percentile(&v, 99)), (10, 10));
        assert_eq!(percentile(&[7], 95), 7);
        assert_eq!(percentile(&[], 95), 0);
    }

    #[test]
    fn amounts_round_up_to_the_cent_exactly() {
        // $0.22 exactly stays $0.22; one atto-dollar more is $0.23; 0 is $0.00.
        let cents = |c: i128| c * ATTO_PER_CENT;
        assert_eq!(up_to_cent(cents(22)), Decimal::new(22, 2));
        assert_eq!(up_to_cent(cents(22) + 1), Decimal::new(23, 2));
        assert_eq!(up_to_cent(0), Decimal::ZERO);
        assert_eq!(up_to_cent(1), Decimal::new(1, 2));
    }
}
