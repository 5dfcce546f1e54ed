//! A mergeable quantile sketch with bounded memory (DDSketch-style log buckets): quantiles of
//! Monte Carlo totals without storing every run. Each bucket keeps its exact min and max, so a
//! value that never varies comes back exactly. Only filled buckets are stored, at most
//! [`MAX_BUCKETS`]: past that the buckets are merged pairwise (gamma squared), so values that
//! span many orders of magnitude cost accuracy, never memory.

const ALPHA: f64 = 0.0002; // relative accuracy of a quantile (until buckets are merged)
/// Filled buckets a sketch keeps (32 bytes each).
pub const MAX_BUCKETS: usize = 8192;

#[derive(Clone, Debug)]
pub struct Sketch {
    gamma_ln: f64,
    zeros: u64,
    /// Each bucket is 2^level level-0 buckets wide.
    level: u32,
    /// Filled buckets by index, ascending: (index, count, min, max).
    buckets: Vec<(i64, u64, f64, f64)>,
    count: u64,
}

impl Default for Sketch {
    fn default() -> Self {
        let gamma = (1.0 + ALPHA) / (1.0 - ALPHA);
        Sketch {
            gamma_ln: gamma.ln(),
            zeros: 0,
            level: 0,
            buckets: Vec::new(),
            count: 0,
        }
    }
}

/// ceil(i / 2^levels): a bucket's index `levels` merges up (exact: ceil(ceil(y)/n) = ceil(y/n)).
fn up(i: i64, levels: u32) -> i64 {
    -((-i).div_euclid(1i64 << levels.min(62)))
}

impl Sketch {
    pub fn add(&mut self, x: f64) {
        self.count += 1;
        if x.is_nan() || x <= 0.0 {
            self.zeros += 1;
            return;
        }
        // Finite for every finite positive x (ln of the smallest subnormal is about -745).
        let i0 = (x.ln() / self.gamma_ln).ceil().clamp(-1e15, 1e15) as i64;
        self.insert((up(i0, self.level), 1, x, x));
        self.bound();
    }

    fn insert(&mut self, b: (i64, u64, f64, f64)) {
        match self.buckets.binary_search_by_key(&b.0, |x| x.0) {
            Ok(k) => {
                let m = &mut self.buckets[k];
                *m = (m.0, m.1 + b.1, m.2.min(b.2), m.3.max(b.3));
            }
            Err(k) => self.buckets.insert(k, b),
        }
    }

    /// Merge buckets pairwise until at most `MAX_BUCKETS` remain.
    fn bound(&mut self) {
        while self.buckets.len() > MAX_BUCKETS {
            self.coarsen(1);
        }
    }

    fn coarsen(&mut self, levels: u32) {
        if levels == 0 {
            return;
        }
        self.level += levels;
        let mut out: Vec<(i64, u64, f64, f64)> = Vec::with_capacity(self.buckets.len());
        for &(i, n, lo, hi) in &self.buckets {
            let j = up(i, levels);
            match out.last_mut() {
                Some(l) if l.0 == j => *l = (j, l.1 + n, l.2.min(lo), l.3.max(hi)),
                _ => out.push((j, n, lo, hi)),
            }
        }
        self.buckets = out;
    }

    pub fn merge(&mut self, o: &Sketch) {
        let mut o = o.clone();
        // Both at the coarser level; the result does not depend on how runs were split, as
        // the level reached is always the least at which all values fit in MAX_BUCKETS.
        self.coarsen(o.level.saturating_sub(self.level));
        o.coarsen(self.level - o.level);
        self.count += o.count;
        self.zeros += o.zeros;
        for b in o.buckets {
            self.insert(b);
        }
        self.bound();
    }

    /// The distribution as `bins` equal-width bins from the smallest to the largest value:
    /// (from, to, count). Each sketch bucket counts in the bin of its midpoint.
    pub fn histogram(&self, bins: usize) -> Vec<(f64, f64, u64)> {
        let filled: Vec<_> = self.buckets.iter().map(|b| (b.1, b.2, b.3)).collect();
        let lo = if self.zeros > 0 {
            0.0
        } else {
            filled.first().map_or(0.0, |b| b.1)
        };
        let hi = filled.last().map_or(lo, |b| b.2);
        let bins = bins.max(1);
        let width = if hi > lo {
            (hi - lo) / bins as f64
        } else {
            lo.abs().max(1.0) * 1e-3
        };
        let mut out: Vec<(f64, f64, u64)> = (0..bins)
            .map(|i| (lo + i as f64 * width, lo + (i + 1) as f64 * width, 0))
            .collect();
        out[0].2 += self.zeros;
        // A bucket's runs are spread evenly over its [min, max] (most hold one value).
        let bin_of = |x: f64| (((x - lo) / width) as usize).min(bins - 1);
        for b in filled {
            let (first, last) = (bin_of(b.1), bin_of(b.2));
            let span = (last - first + 1) as u64;
            for (k, slot) in out[first..=last].iter_mut().enumerate() {
                *slot = (
                    slot.0,
                    slot.1,
                    slot.2 + b.0 / span + u64::from((k as u64) < b.0 % span),
                );
            }
        }
        out
    }

    /// The q-quantile (0..=1), nearest rank.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        if rank <= self.zeros {
            return 0.0;
        }
        let mut seen = self.zeros;
        for b in &self.buckets {
            seen += b.1;
            if seen >= rank {
                return if b.2 == b.3 { b.2 } else { (b.2 + b.3) / 2.0 };
            }
        }
        self.buckets.last().map_or(0.0, |b| b.3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_the_relative_accuracy() {
        let mut s = Sketch::default();
        for i in 1..=10_000 {
            s.add(i as f64);
        }
        for (q, want) in [(0.05, 500.0), (0.5, 5000.0), (0.95, 9500.0), (0.99, 9900.0)] {
            let got = s.quantile(q);
            assert!(
                (got - want).abs() / want < 2.0 * ALPHA,
                "q{q}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn a_constant_is_exact_and_merging_is_order_free() {
        let (mut a, mut b) = (Sketch::default(), Sketch::default());
        for _ in 0..10 {
            a.add(6.82);
            b.add(6.82);
        }
        a.merge(&b);
        assert_eq!(a.quantile(0.05), 6.82);
        assert_eq!(a.quantile(0.99), 6.82);
        let mut z = Sketch::default();
        z.add(0.0);
        z.add(1.0);
        assert_eq!(z.quantile(0.5), 0.0);
    }

    #[test]
    fn memory_is_bounded_and_merging_still_order_free() {
        // 100,000 values 1.001^i span e^100: 2.5 level-0 buckets apart (ln 1.001 / ln gamma,
        // 0.0009995 / 0.0004), 250,000 buckets in all, so the sketch must merge buckets.
        let xs: Vec<f64> = (0..100_000).map(|i| 1.001f64.powi(i)).collect();
        let mut all = Sketch::default();
        let (mut even, mut odd) = (Sketch::default(), Sketch::default());
        for (i, x) in xs.iter().enumerate() {
            all.add(*x);
            if i % 2 == 0 {
                even.add(*x)
            } else {
                odd.add(*x)
            }
        }
        assert!(all.buckets.len() <= MAX_BUCKETS && all.level > 0);
        even.merge(&odd);
        for q in [0.05, 0.5, 0.99] {
            assert_eq!(even.quantile(q), all.quantile(q), "q{q}");
        }
        // 250,000 / 2^5 = 7,813 buckets fit: each is e^(32 x 0.0004) = 1.3% wide.
        let want = 1.001f64.powi(49_999);
        assert!((all.quantile(0.5) - want).abs() / want < 0.02);
        // The extremes of atto-dollar totals do not blow it up either.
        let mut wide = Sketch::default();
        for x in [1e-18, 1.7e20, f64::MIN_POSITIVE, f64::MAX] {
            wide.add(x);
        }
        assert_eq!(wide.quantile(1.0), f64::MAX);
        assert_eq!(wide.histogram(30).iter().map(|b| b.2).sum::<u64>(), 4);
    }
}
