//! A mergeable quantile sketch with fixed memory (DDSketch-style log buckets): quantiles of
//! Monte Carlo totals without storing every run. Each bucket keeps its exact min and max, so a
//! value that never varies comes back exactly.

const ALPHA: f64 = 0.0002; // relative accuracy of a quantile

#[derive(Clone, Debug)]
pub struct Sketch {
    gamma_ln: f64,
    zeros: u64,
    /// Buckets from index `offset`: (count, min, max).
    offset: i32,
    buckets: Vec<(u64, f64, f64)>,
    count: u64,
}

impl Default for Sketch {
    fn default() -> Self {
        let gamma = (1.0 + ALPHA) / (1.0 - ALPHA);
        Sketch {
            gamma_ln: gamma.ln(),
            zeros: 0,
            offset: 0,
            buckets: Vec::new(),
            count: 0,
        }
    }
}

impl Sketch {
    pub fn add(&mut self, x: f64) {
        self.count += 1;
        if x.is_nan() || x <= 0.0 {
            self.zeros += 1;
            return;
        }
        let i = (x.ln() / self.gamma_ln).ceil() as i32;
        self.ensure(i);
        let b = &mut self.buckets[(i - self.offset) as usize];
        if b.0 == 0 {
            *b = (1, x, x);
        } else {
            *b = (b.0 + 1, b.1.min(x), b.2.max(x));
        }
    }

    fn ensure(&mut self, i: i32) {
        if self.buckets.is_empty() {
            self.offset = i;
            self.buckets.push((0, 0.0, 0.0));
        } else if i < self.offset {
            let grow = (self.offset - i) as usize;
            self.buckets
                .splice(0..0, std::iter::repeat_n((0, 0.0, 0.0), grow));
            self.offset = i;
        } else if i - self.offset >= self.buckets.len() as i32 {
            self.buckets
                .resize((i - self.offset + 1) as usize, (0, 0.0, 0.0));
        }
    }

    pub fn merge(&mut self, o: &Sketch) {
        self.count += o.count;
        self.zeros += o.zeros;
        for (k, b) in o.buckets.iter().enumerate() {
            if b.0 == 0 {
                continue;
            }
            let i = o.offset + k as i32;
            self.ensure(i);
            let mine = &mut self.buckets[(i - self.offset) as usize];
            *mine = if mine.0 == 0 {
                *b
            } else {
                (mine.0 + b.0, mine.1.min(b.1), mine.2.max(b.2))
            };
        }
    }

    /// The distribution as `bins` equal-width bins from the smallest to the largest value:
    /// (from, to, count). Each sketch bucket counts in the bin of its midpoint.
    pub fn histogram(&self, bins: usize) -> Vec<(f64, f64, u64)> {
        let filled: Vec<_> = self.buckets.iter().filter(|b| b.0 > 0).collect();
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
            seen += b.0;
            if seen >= rank {
                return if b.1 == b.2 { b.1 } else { (b.1 + b.2) / 2.0 };
            }
        }
        self.buckets.last().map_or(0.0, |b| b.2)
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
}
