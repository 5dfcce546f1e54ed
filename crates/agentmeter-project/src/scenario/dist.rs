//! Per-session quantities: a fixed number or a distribution to sample from.
//! Samples are f64 (Monte Carlo may draw in floating point); the quantities built from them are
//! rounded to integers before anything is priced.

use std::sync::Arc;

use rand::distr::Open01;
use rand::Rng;
use rand_distr::{Distribution, Normal, Poisson};

use super::ziggurat_tables::{ZIG_NORM_F, ZIG_NORM_R, ZIG_NORM_X};
use rust_decimal::prelude::*;

/// z of the 90th percentile of the standard normal distribution.
const Z90: f64 = 1.281_551_565_544_600_4;

#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    /// Exact, so deterministic projections of fixed scenarios are exact to the cent.
    Fixed(Decimal),
    Uniform {
        min: f64,
        max: f64,
    },
    /// Truncated at 0.
    Normal {
        mean: f64,
        sd: f64,
    },
    /// Given by its median and 90th percentile, as finance people think.
    LogNormal {
        p50: f64,
        p90: f64,
    },
    Poisson {
        mean: f64,
    },
    /// Values observed in a metered run, drawn with equal weight. Shared, not copied, by every
    /// sampler (a file may hold millions of values, and `simulate` builds one per session).
    Empirical {
        values: Arc<[f64]>,
        file: String,
    },
}

impl Dist {
    /// The analytic mean (exact for fixed and empirical-as-decimal inputs).
    pub fn mean(&self) -> Decimal {
        let f = |x: f64| Decimal::from_f64(x).unwrap_or_default();
        match self {
            Dist::Fixed(v) => *v,
            Dist::Uniform { min, max } => (f(*min) + f(*max)) / Decimal::TWO,
            Dist::Normal { mean, sd } => f(truncated_normal_mean(*mean, *sd)),
            Dist::LogNormal { p50, p90 } => {
                let (mu, sigma) = lognormal_params(*p50, *p90);
                f((mu + sigma * sigma / 2.0).exp())
            }
            Dist::Poisson { mean } => f(*mean),
            Dist::Empirical { values, .. } => {
                let sum: Decimal = values.iter().map(|v| f(*v)).sum();
                sum / Decimal::from(values.len().max(1))
            }
        }
    }

    /// The mean of the integer quantity a sample is rounded to (what the simulation bills).
    pub fn is_fixed(&self) -> bool {
        matches!(self, Dist::Fixed(_))
    }

    /// The mean in floating point, for bounds checks: unlike [`Dist::mean`] it cannot hide an
    /// overflow (a huge lognormal mean is `inf` here, never a silent 0).
    pub fn mean_f64(&self) -> f64 {
        match self {
            Dist::Fixed(v) => v.to_f64().unwrap_or(f64::INFINITY),
            Dist::Uniform { min, max } => min / 2.0 + max / 2.0,
            Dist::Normal { mean, sd } => truncated_normal_mean(*mean, *sd),
            Dist::LogNormal { p50, p90 } => {
                let (mu, sigma) = lognormal_params(*p50, *p90);
                (mu + sigma * sigma / 2.0).exp()
            }
            Dist::Poisson { mean } => *mean,
            Dist::Empirical { values, .. } => {
                values.iter().sum::<f64>() / values.len().max(1) as f64
            }
        }
    }

    /// A sampler whose draws are capped at `max` (the key's bound), so no draw can overflow
    /// the integer quantities built from it or loop without end.
    pub fn sampler(&self, max: f64) -> Sampler {
        let draw = match self {
            Dist::Fixed(v) => Draw::Fixed(v.to_f64().unwrap_or(0.0)),
            Dist::Uniform { min, max } => Draw::Uniform(*min, *max),
            Dist::Normal { mean, sd } => Draw::Normal(
                Normal::new(*mean, *sd).unwrap_or(Normal::new(*mean, 0.0).expect("sd 0")),
            ),
            Dist::LogNormal { p50, p90 } => {
                let (mu, sigma) = lognormal_params(*p50, *p90);
                Draw::LogNormal(
                    Normal::new(mu, sigma).unwrap_or(Normal::new(mu, 0.0).expect("sd 0")),
                )
            }
            Dist::Poisson { mean } if *mean > 0.0 && *mean < POISSON_TABLE_BELOW => {
                Draw::PoissonTable(poisson_cdf(*mean))
            }
            Dist::Poisson { mean } => match Poisson::new(*mean) {
                Ok(p) if *mean > 0.0 => Draw::Poisson(p),
                // A mean the parser's bounds let through is always valid; 0 draws 0.
                _ => Draw::Fixed(0.0),
            },
            Dist::Empirical { values, .. } => Draw::Empirical(values.clone()),
        };
        Sampler { draw, max }
    }

    pub fn describe(&self) -> String {
        match self {
            Dist::Fixed(v) => v.normalize().to_string(),
            Dist::Uniform { min, max } => format!("uniform({min}, {max})"),
            Dist::Normal { mean, sd } => format!("normal(mean {mean}, sd {sd})"),
            Dist::LogNormal { p50, p90 } => format!("lognormal(p50 {p50}, p90 {p90})"),
            Dist::Poisson { mean } => format!("poisson({mean})"),
            Dist::Empirical { values, file } => {
                format!("empirical({file}, {} values)", values.len())
            }
        }
    }
}

/// A ready-to-draw form of a [`Dist`], capped at a bound.
#[derive(Clone, Debug)]
pub struct Sampler {
    draw: Draw,
    max: f64,
}

#[derive(Clone, Debug)]
enum Draw {
    Fixed(f64),
    Uniform(f64, f64),
    Normal(Normal<f64>),
    LogNormal(Normal<f64>),
    Poisson(Poisson<f64>),
    /// A small mean's cumulative probabilities of 0, 1, 2, ..., drawn by inversion: one
    /// uniform draw where rand_distr's method (Knuth's, below 12) takes mean + 1 of them.
    PoissonTable(Arc<[f64]>),
    Empirical(Arc<[f64]>),
}

impl Sampler {
    pub fn sample(&self, rng: &mut impl Rng) -> f64 {
        let x = match &self.draw {
            Draw::Fixed(v) => *v,
            Draw::Uniform(a, b) => a + (b - a) * rng.random::<f64>(),
            Draw::Normal(n) => 'normal: {
                // Truncated at 0 by rejection; a mean far below 0 is refused when parsing.
                for _ in 0..64 {
                    let x = n.mean() + n.std_dev() * normal(rng);
                    if x >= 0.0 {
                        break 'normal x;
                    }
                }
                0.0
            }
            Draw::LogNormal(n) => exp(n.mean() + n.std_dev() * normal(rng)),
            Draw::Poisson(p) => p.sample(rng),
            Draw::PoissonTable(cdf) => {
                let u = rng.random::<f64>();
                // Past the table's last entry lies less than one draw in 10^16: counted as
                // the entry after it.
                cdf.partition_point(|c| *c <= u) as f64
            }
            Draw::Empirical(v) => v[rng.random_range(0..v.len())],
        };
        // `min` also turns a NaN into the cap; `count` then rounds it.
        x.min(self.max)
    }

    /// A sample rounded to a non-negative integer count.
    pub fn count(&self, rng: &mut impl Rng) -> u64 {
        to_count(self.sample(rng))
    }

    /// `out.len()` counts, the same distribution as [`Sampler::count`], as f64 (whole
    /// numbers, exact: a count is at most 1e8). A lognormal draws its normals first, then
    /// takes their exponentials and rounds them in one loop the compiler vectorizes: the
    /// Monte Carlo's token draws spend most of their time here.
    #[inline]
    pub fn counts(&self, rng: &mut impl Rng, out: &mut [f64]) {
        match &self.draw {
            Draw::LogNormal(n) => {
                let (mu, sigma) = (n.mean(), n.std_dev());
                for o in out.iter_mut() {
                    *o = normal(rng);
                }
                for o in out.iter_mut() {
                    // Never NaN or negative: `min` turns a NaN into the cap.
                    *o = round_half_up(exp(mu + sigma * *o).min(self.max));
                }
            }
            Draw::Uniform(a, b) => {
                for o in out.iter_mut() {
                    *o = rng.random::<f64>();
                }
                for o in out.iter_mut() {
                    // `max(0.0)`: what `count` rounds to 0 (a negative `min`).
                    *o = round_half_up((a + (b - a) * *o).min(self.max).max(0.0));
                }
            }
            _ => out.iter_mut().for_each(|o| *o = self.count(rng) as f64),
        }
    }

    /// The sum of `n` counts (e.g. one column's tokens over a session's requests).
    #[inline]
    pub fn sum_counts(&self, rng: &mut impl Rng, n: usize) -> u64 {
        if let Draw::Fixed(v) = self.draw {
            return to_count(v.min(self.max)) * n as u64;
        }
        let mut buf = [0f64; BATCH];
        let (mut sum, mut left) = (0u64, n);
        while left > 0 {
            let m = left.min(BATCH);
            left -= m;
            self.counts(rng, &mut buf[..m]);
            // Whole numbers of at most 1e8, BATCH of them: every partial sum is exact, so
            // four running sums (which vectorize, where one chain of adds waits on each add)
            // give the same total.
            let mut lanes = [0f64; 4];
            for (k, v) in buf[..m].iter().enumerate() {
                lanes[k % 4] += v;
            }
            sum += lanes.iter().sum::<f64>() as u64;
        }
        sum
    }
}

/// Poisson means below this are drawn from a table of their distribution.
const POISSON_TABLE_BELOW: f64 = 12.0;

/// P(X <= k) for k = 0, 1, 2, ... of a Poisson with this mean, up to the k past the mean
/// whose own probability is below 1e-17 (what lies beyond is less still).
fn poisson_cdf(mean: f64) -> Arc<[f64]> {
    let (mut p, mut k) = ((-mean).exp(), 0u32);
    let mut cdf = vec![p];
    while !(k as f64 > mean && p < 1e-17) {
        k += 1;
        p *= mean / k as f64;
        cdf.push(cdf[cdf.len() - 1] + p);
    }
    cdf.into()
}

/// A standard normal draw: rand_distr's `StandardNormal` ziggurat (the same values from the
/// same random bits: tested), with its fast path (99% of draws) inlined into the caller.
#[inline(always)]
fn normal(rng: &mut impl Rng) -> f64 {
    let bits = rng.next_u64();
    let i = bits as usize & 0xff;
    // 52 bits as a float in [2, 4), less 3: u in [-1, 1).
    let u = f64::from_bits((bits >> 12) | (1024u64 << 52)) - 3.0;
    let x = u * ZIG_NORM_X[i];
    if x.abs() < ZIG_NORM_X[i + 1] {
        return x;
    }
    normal_slow(rng, i, u, x)
}

/// The ziggurat's rejection step (its tail when in the base layer), then new draws as
/// rand_distr's loop takes them.
#[cold]
#[inline(never)]
fn normal_slow(rng: &mut impl Rng, i: usize, u: f64, x: f64) -> f64 {
    if i == 0 {
        // The tail beyond R, by Marsaglia's method.
        let (mut x, mut y) = (1.0f64, 0.0f64);
        while -2.0 * y < x * x {
            let (a, b): (f64, f64) = (rng.sample(Open01), rng.sample(Open01));
            x = a.ln() / ZIG_NORM_R;
            y = b.ln();
        }
        return if u < 0.0 {
            x - ZIG_NORM_R
        } else {
            ZIG_NORM_R - x
        };
    }
    let f = ZIG_NORM_F[i + 1] + (ZIG_NORM_F[i] - ZIG_NORM_F[i + 1]) * rng.random::<f64>();
    if f < (-x * x / 2.0).exp() {
        return x;
    }
    normal(rng)
}

/// `(x + 0.5) as u64` for 0 <= x < 2^51, as an f64 and without a conversion, so it vectorizes.
#[inline(always)]
fn round_half_up(x: f64) -> f64 {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    let y = x + 0.5;
    // The nearest whole number to y, then one less where that rounded up: floor(y).
    let r = (y + TWO_52) - TWO_52;
    r - if r > y { 1.0 } else { 0.0 }
}

/// The counts a Monte Carlo session draws at a time, per token column.
pub const BATCH: usize = 16;

#[inline(always)]
fn to_count(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        (x + 0.5) as u64
    } else {
        0
    }
}

/// e^x, within a few ulp of libm's `exp` (tested), inlined and without branches or calls so
/// that a loop of them vectorizes (libm's is one call per value). The argument is clamped to
/// +/-700, whose exponentials are past any bound a sample is capped at; NaN stays NaN.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    // x = (32 k + j) ln2 / 32 + r with |r| <= ln2/64, so e^x = 2^k 2^(j/32) e^r (Tang's
    // method); ln2/32 split in two so that the reduction is exact (fdlibm's constants / 32).
    const LN2_32_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000) / 32.0;
    const LN2_32_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76) / 32.0;
    // 1.5 * 2^52: adding it rounds to the nearest integer, which its low bits then hold.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    // 2^(j/32), correctly rounded (Python's decimal at 60 digits).
    #[rustfmt::skip]
    const POW2: [f64; 32] = [
        1.0, 1.0218971486541166, 1.0442737824274138, 1.0671404006768237,
        1.0905077326652577, 1.1143867425958924, 1.1387886347566916, 1.1637248587775775,
        1.189207115002721, 1.215247359980469, 1.241857812073484, 1.2690509571917332,
        1.2968395546510096, 1.3252366431597413, 1.3542555469368927, 1.383909881963832,
        std::f64::consts::SQRT_2, 1.4451808069770467, 1.4768261459394993, 1.5091644275934228,
        1.5422108254079407, 1.5759808451078865, 1.6104903319492543, 1.645755478153965,
        1.681792830507429, 1.718619298122478, 1.7562521603732995, 1.7947090750031072,
        1.8340080864093424, 1.8741676341103, 1.9152065613971474, 1.9571441241754002,
    ];
    let x = x.clamp(-700.0, 700.0);
    let t = x * (32.0 * std::f64::consts::LOG2_E) + SHIFT;
    let n = t - SHIFT;
    let r = (x - n * LN2_32_HI) - n * LN2_32_LO;
    // Taylor to r^6 / 6!: the remainder is below 0.0109^7 / 7! = 4e-18 of e^r.
    let r2 = r * r;
    let p = 1.0
        + r
        + r2 * (0.5 + r * (1.0 / 6.0) + r2 * (1.0 / 24.0 + r * (1.0 / 120.0) + r2 * (1.0 / 720.0)));
    // n = 32 k + j, |n| <= 32,320; 2^k from its exponent bits (a normal number).
    let n_int = (t.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
    let two_k = f64::from_bits((((n_int >> 5) + 1023) as u64) << 52);
    p * POW2[(n_int & 31) as usize] * two_k
}

/// mu and sigma of a lognormal with median `p50` and 90th percentile `p90`.
pub fn lognormal_params(p50: f64, p90: f64) -> (f64, f64) {
    let mu = p50.ln();
    (mu, (p90.ln() - mu) / Z90)
}

fn std_normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// The standard normal CDF (Abramowitz-Stegun 7.1.26 via erf; |error| < 1.5e-7).
fn std_normal_cdf(x: f64) -> f64 {
    let z = x / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z.abs());
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t
            + 0.254_829_592)
            * t
            * (-z * z).exp();
    let erf = if z >= 0.0 { y } else { -y };
    0.5 * (1.0 + erf)
}

/// The mean of a normal distribution truncated below at 0.
pub fn truncated_normal_mean(mean: f64, sd: f64) -> f64 {
    if sd <= 0.0 {
        return mean.max(0.0);
    }
    let alpha = -mean / sd;
    let z = 1.0 - std_normal_cdf(alpha);
    if z <= 0.0 {
        return 0.0;
    }
    mean + sd * std_normal_pdf(alpha) / z
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn exp_agrees_with_libm() {
        // Every 1/1000 over the range the draws use, and a coarse sweep of the rest.
        let fine = (-20_000..=20_000).map(|i| i as f64 / 1000.0);
        let coarse = (-700..700).map(|i| i as f64 + 0.123_456_789);
        for x in fine.chain(coarse) {
            let (got, want) = (exp(x), x.exp());
            assert!(
                ((got - want) / want).abs() <= 4.0 * f64::EPSILON,
                "exp({x}) = {got}, libm {want}"
            );
        }
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(f64::NAN).is_nan());
        // Clamped: past any cap a sample has, and never infinite or zero.
        assert_eq!(exp(1e6), exp(700.0));
        assert!(exp(-1e6) > 0.0);
    }

    #[test]
    fn normal_draws_what_rand_distr_draws() {
        use rand::rngs::SmallRng;
        let (mut a, mut b) = (SmallRng::seed_from_u64(11), SmallRng::seed_from_u64(11));
        // 1,000,000 draws take the slow path about 12,000 times and the tail about 30.
        for k in 0..1_000_000 {
            let want: f64 = b.sample(rand_distr::StandardNormal);
            assert_eq!(normal(&mut a).to_bits(), want.to_bits(), "draw {k}");
        }
    }

    #[test]
    fn poisson_by_table_has_the_poisson_distribution() {
        // Poisson(8): P(0) = e^-8 = 0.000335, P(8) = e^-8 8^8 / 8! = 0.139587, mean and
        // variance 8. 1,000,000 draws: the mean's standard error is sqrt(8 / 1e6) = 0.0028, and
        // P(8)'s sqrt(0.1396 x 0.8604 / 1e6) = 0.00035; the bounds are 5 of them.
        let s = Dist::Poisson { mean: 8.0 }.sampler(1e9);
        assert!(matches!(s.draw, Draw::PoissonTable(_)));
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
        let n = 1_000_000;
        let (mut sum, mut sum_sq, mut eights, mut zeros) = (0f64, 0f64, 0u32, 0u32);
        for _ in 0..n {
            let k = s.sample(&mut rng);
            assert_eq!(k.fract(), 0.0);
            sum += k;
            sum_sq += k * k;
            eights += (k == 8.0) as u32;
            zeros += (k == 0.0) as u32;
        }
        let mean = sum / n as f64;
        let var = sum_sq / n as f64 - mean * mean;
        assert!((mean - 8.0).abs() < 0.014, "mean {mean}");
        assert!((var - 8.0).abs() < 0.1, "variance {var}");
        assert!(
            (eights as f64 / n as f64 - 0.139_587).abs() < 0.0018,
            "P(8) {eights}"
        );
        // e^-8 x 1e6 = 335 expected zeros, sd 18.3.
        assert!((zeros as i64 - 335).abs() < 92, "zeros {zeros}");
        // The table ends where the rest is negligible, and at 12 the rejection method takes over.
        let cdf = poisson_cdf(8.0);
        assert!(
            cdf[cdf.len() - 1] >= 1.0 - 1e-15 && cdf.len() < 60,
            "{cdf:?}"
        );
        let big = Dist::Poisson { mean: 12.0 }.sampler(1e9);
        assert!(matches!(big.draw, Draw::Poisson(_)));
    }

    #[test]
    fn round_half_up_is_the_count_rounding() {
        for x in [
            0.0,
            0.49,
            0.5,
            0.51,
            1.0,
            2.5,
            3.499_999,
            1e8 - 0.5,
            1e8,
            12_345.678,
        ] {
            assert_eq!(round_half_up(x), (x + 0.5) as u64 as f64, "{x}");
        }
    }

    #[test]
    fn batched_lognormal_counts_have_the_lognormal_mean() {
        // p50 1000, p90 5000: sigma = ln 5 / z90 = 1.609438 / 1.281552 = 1.255851, mean =
        // 1000 e^(sigma^2 / 2) = 1000 e^0.788581 = 2200.4; sd = mean sqrt(e^(sigma^2) - 1) =
        // 2200.4 x 1.9588 = 4310, so 200,000 draws have a standard error of 9.6: +/-50 is 5 of them.
        let s = Dist::LogNormal {
            p50: 1000.0,
            p90: 5000.0,
        }
        .sampler(1e9);
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let sum = s.sum_counts(&mut rng, 200_000);
        let mean = sum as f64 / 200_000.0;
        assert!((mean - 2200.4).abs() < 50.0, "mean {mean}");
        // A cap applies to batched draws too.
        let capped = Dist::LogNormal {
            p50: 1000.0,
            p90: 5000.0,
        }
        .sampler(1500.0);
        let mut buf = [0f64; BATCH];
        capped.counts(&mut rng, &mut buf);
        assert!(buf.iter().all(|&n| n <= 1500.0 && n.fract() == 0.0) && buf.contains(&1500.0));
    }

    #[test]
    fn lognormal_is_given_by_its_percentiles() {
        let (mu, sigma) = lognormal_params(1000.0, 5000.0);
        assert!((mu.exp() - 1000.0).abs() < 1e-9);
        assert!(((mu + Z90 * sigma).exp() - 5000.0).abs() < 1e-6);
    }

    #[test]
    fn truncated_normal_mean_matches_the_formula() {
        // Far from 0 the truncation changes nothing.
        assert!((truncated_normal_mean(100.0, 1.0) - 100.0).abs() < 1e-9);
        // Truncated at the mean: mean + sd * phi(0) / 0.5 = sd * 0.7978845608.
        assert!((truncated_normal_mean(0.0, 1.0) - 0.797_884_560_8).abs() < 1e-6);
    }

    #[test]
    fn samples_are_reproducible_and_counts_non_negative() {
        let s = Dist::Normal { mean: 1.0, sd: 5.0 }.sampler(f64::MAX);
        let mut a = rand::rngs::SmallRng::seed_from_u64(7);
        let mut b = rand::rngs::SmallRng::seed_from_u64(7);
        let xs: Vec<u64> = (0..100).map(|_| s.count(&mut a)).collect();
        let ys: Vec<u64> = (0..100).map(|_| s.count(&mut b)).collect();
        assert_eq!(xs, ys);
    }
}
