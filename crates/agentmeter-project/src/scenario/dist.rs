//! Per-session quantities: a fixed number or a distribution to sample from.
//! Samples are f64 (Monte Carlo may draw in floating point); the quantities built from them are
//! rounded to integers before anything is priced.

use std::sync::Arc;

use rand::Rng;
use rand_distr::{Distribution, Normal, Poisson};
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
                    let x = n.sample(rng);
                    if x >= 0.0 {
                        break 'normal x;
                    }
                }
                0.0
            }
            Draw::LogNormal(n) => n.sample(rng).exp(),
            Draw::Poisson(p) => p.sample(rng),
            Draw::Empirical(v) => v[rng.random_range(0..v.len())],
        };
        // `min` also turns a NaN into the cap; `count` then rounds it.
        x.min(self.max)
    }

    /// A sample rounded to a non-negative integer count.
    pub fn count(&self, rng: &mut impl Rng) -> u64 {
        let x = self.sample(rng);
        if x.is_finite() && x > 0.0 {
            (x + 0.5) as u64
        } else {
            0
        }
    }
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
