//! Paired comparison: two sets of runs of the same tasks (say, one on Opus and one on Sonnet),
//! matched by task, with the mean difference and a bootstrap 95% confidence interval.

use std::collections::BTreeMap;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use rust_decimal::prelude::*;

use super::{task_of, TaskKey};
use crate::rate::{Cost, RatedSession};
use crate::usage::Tokens;

/// What one side spent on one task (all its sessions with that key).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskSum {
    pub sessions: usize,
    pub cost: Cost,
    pub active_ms: i64,
    pub tokens: Tokens,
}

impl TaskSum {
    fn add(&mut self, s: &RatedSession) {
        self.sessions += 1;
        self.cost += s.cost;
        self.active_ms += s.quantities.active_ms;
        self.tokens.add(&s.quantities.tokens);
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    pub task: String,
    pub a: TaskSum,
    pub b: TaskSum,
}

impl Pair {
    /// B's cost minus A's.
    pub fn difference(&self) -> Decimal {
        self.b.cost.total() - self.a.cost.total()
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Paired {
    pub pairs: Vec<Pair>,
    /// Tasks only one side ran, and sessions with no task key at all (listed, never dropped).
    pub only_a: Vec<String>,
    pub only_b: Vec<String>,
    pub no_key_a: Vec<String>,
    pub no_key_b: Vec<String>,
}

fn by_task(
    of: &str,
    sessions: &[RatedSession],
    key: &TaskKey,
) -> (BTreeMap<String, TaskSum>, Vec<String>) {
    let mut tasks: BTreeMap<String, TaskSum> = BTreeMap::new();
    let mut no_key = Vec::new();
    for s in sessions {
        match task_of(&s.usage, key) {
            Some(t) => tasks.entry(t).or_default().add(s),
            None => no_key.push(s.usage.session_id.to_string()),
        }
    }
    super::warn_crowded(of, key, tasks.iter().map(|(k, t)| (k, t.sessions)));
    (tasks, no_key)
}

pub fn pair(a: &[RatedSession], b: &[RatedSession], key: &TaskKey) -> Paired {
    let (mut ta, no_key_a) = by_task("A", a, key);
    let (mut tb, no_key_b) = by_task("B", b, key);
    let mut out = Paired {
        no_key_a,
        no_key_b,
        ..Default::default()
    };
    let keys: Vec<String> = ta
        .keys()
        .chain(tb.keys())
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for k in keys {
        match (ta.remove(&k), tb.remove(&k)) {
            (Some(a), Some(b)) => out.pairs.push(Pair { task: k, a, b }),
            (Some(_), None) => out.only_a.push(k),
            (None, Some(_)) => out.only_b.push(k),
            (None, None) => {}
        }
    }
    out
}

/// Summary of the per-task differences (B - A).
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub pairs: usize,
    /// Exact mean of the differences.
    pub mean_difference: Decimal,
    /// Exact median of the differences (the mean of the middle two when their count is even).
    pub median_difference: Decimal,
    /// Bootstrap 95% interval of the mean difference (percentile method).
    pub ci95: (Decimal, Decimal),
    /// Tasks where B cost less, more, the same.
    pub b_cheaper: usize,
    pub b_dearer: usize,
    pub ties: usize,
    pub total_a: Decimal,
    pub total_b: Decimal,
}

pub const BOOTSTRAP_RESAMPLES: usize = 10_000;

/// Percentile bootstrap of the mean: resample the differences with replacement.
pub fn bootstrap_ci(diffs: &[f64], resamples: usize, seed: u64) -> (f64, f64) {
    if diffs.is_empty() {
        return (0.0, 0.0);
    }
    let mut rng = SmallRng::seed_from_u64(seed);
    let n = diffs.len();
    let mut means: Vec<f64> = (0..resamples)
        .map(|_| (0..n).map(|_| diffs[rng.random_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    let at = |q: f64| means[((q * resamples as f64) as usize).min(resamples - 1)];
    (at(0.025), at(0.975))
}

pub fn summarize(p: &Paired, seed: u64) -> Summary {
    let diffs: Vec<Decimal> = p.pairs.iter().map(Pair::difference).collect();
    let n = diffs.len();
    let mean = if n == 0 {
        Decimal::ZERO
    } else {
        diffs.iter().copied().sum::<Decimal>() / Decimal::from(n)
    };
    let mut sorted = diffs.clone();
    sorted.sort();
    let median = match n {
        0 => Decimal::ZERO,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / Decimal::TWO,
    };
    let floats: Vec<f64> = diffs.iter().map(|d| d.to_f64().unwrap_or(0.0)).collect();
    let (lo, hi) = bootstrap_ci(&floats, BOOTSTRAP_RESAMPLES, seed);
    let d = |x: f64| Decimal::from_f64(x).unwrap_or_default().round_dp(6);
    Summary {
        pairs: n,
        mean_difference: mean,
        median_difference: median,
        ci95: (d(lo), d(hi)),
        b_cheaper: diffs
            .iter()
            .filter(|d| d.is_sign_negative() && !d.is_zero())
            .count(),
        b_dearer: diffs
            .iter()
            .filter(|d| d.is_sign_positive() && !d.is_zero())
            .count(),
        ties: diffs.iter().filter(|d| d.is_zero()).count(),
        total_a: p.pairs.iter().map(|x| x.a.cost.total()).sum(),
        total_b: p.pairs.iter().map(|x| x.b.cost.total()).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_of_a_known_sample_holds_its_mean() {
        // Differences -3, -1, 0, 2, 7: mean 1. The interval must contain it and be narrower
        // than the sample's range.
        let (lo, hi) = bootstrap_ci(&[-3.0, -1.0, 0.0, 2.0, 7.0], 10_000, 1);
        assert!(lo < 1.0 && 1.0 < hi, "{lo} {hi}");
        assert!(lo > -3.0 && hi < 7.0);
        // A constant difference has a zero-width interval at it.
        assert_eq!(bootstrap_ci(&[0.5, 0.5, 0.5], 1000, 1), (0.5, 0.5));
    }
}
