//! An agent's volume from its history, for `fit`: the weekly shape, the trend as a growth per
//! month with its standard error, and the daily level the first projected month starts from.
//!
//! The model is a log-linear trend times a weekday shape: sessions on day `t` ~
//! `exp(a + b t) * w[weekday(t)]`. The shape is read from each day's ratio to its centred
//! 7-day mean (so a trend does not leak into it); the trend from the weekly totals (whole
//! weeks counted back from the last day, so every week holds each weekday once and the shape
//! cancels), fitted by least squares on their logarithms.

use chrono::{Datelike, NaiveDate};

/// Days of history a trend needs: eight whole weeks.
pub const TREND_MIN_DAYS: usize = 56;
/// Days of history a weekly shape needs: two whole weeks.
pub const SHAPE_MIN_DAYS: usize = 14;
/// Average days in a month (365.25 / 12), for a daily trend as a monthly growth.
const MONTH_DAYS: f64 = 30.4375;

/// What the history says about an agent's volume.
#[derive(Clone, Debug, PartialEq)]
pub struct Volume {
    /// Mean sessions per day over `level_month` (the trend carried to it, or without a trend
    /// the mean of the last four weeks).
    pub sessions_per_day: f64,
    /// Growth per month (0.10 = 10%) and its standard error, with enough history.
    pub growth: Option<(f64, f64)>,
    /// Monday..Sunday, mean 1, with enough history.
    pub weekday_weights: Option<[f64; 7]>,
    /// What was not estimated, and why.
    pub notes: Vec<String>,
}

/// Fit `counts`, the sessions of each day from `first` on (every day, zeros included), and
/// carry the level to the month that starts at `level_month`.
pub fn fit(first: NaiveDate, counts: &[u64], level_month: NaiveDate) -> Volume {
    let n = counts.len();
    let mut notes = Vec::new();
    let weekday_weights = if n >= SHAPE_MIN_DAYS {
        let w = shape(first, counts);
        if w.is_none() {
            notes.push("no weekday stands out of the noise: no weekday_weights".into());
        }
        w
    } else {
        notes.push(format!(
            "{n} day(s) of history: no weekday_weights (they need {SHAPE_MIN_DAYS})"
        ));
        None
    };
    let trend = if n >= TREND_MIN_DAYS {
        weekly_trend(counts)
    } else {
        notes.push(format!(
            "{n} day(s) of history: no growth_per_month (a trend needs {TREND_MIN_DAYS}, eight whole weeks)"
        ));
        None
    };
    let (sessions_per_day, growth) = match trend {
        Some((a, b, se)) => {
            // The month's mean of the trend: the day at its middle is within 0.1% of it for
            // any growth a history shows.
            let days = crate::scenario::days_in_month(level_month) as f64;
            let mid = (level_month - first).num_days() as f64 + days / 2.0 - 0.5;
            let level = (a + b * mid).exp() / 7.0;
            let g = (b * MONTH_DAYS).exp();
            (level, Some((g - 1.0, g * MONTH_DAYS * se)))
        }
        None => {
            let recent = &counts[n.saturating_sub(28)..];
            let mean = recent.iter().sum::<u64>() as f64 / recent.len().max(1) as f64;
            (mean, None)
        }
    };
    Volume {
        sessions_per_day,
        growth,
        weekday_weights,
        notes,
    }
}

/// Each weekday's mean ratio to the centred 7-day mean, scaled to mean 1; `None` when no
/// weekday stands out of the noise (by more than 5% and three standard errors of its mean
/// ratio), so a flat history keeps a flat week.
fn shape(first: NaiveDate, counts: &[u64]) -> Option<[f64; 7]> {
    let mut ratios: [Vec<f64>; 7] = Default::default();
    for t in 3..counts.len().saturating_sub(3) {
        let week: u64 = counts[t - 3..=t + 3].iter().sum();
        if week == 0 {
            continue;
        }
        let day = first + chrono::Days::new(t as u64);
        let k = day.weekday().num_days_from_monday() as usize;
        ratios[k].push(counts[t] as f64 * 7.0 / week as f64);
    }
    if ratios.iter().any(|r| r.len() < 2) {
        return None;
    }
    let mean = |r: &[f64]| r.iter().sum::<f64>() / r.len() as f64;
    let w: [f64; 7] = std::array::from_fn(|k| mean(&ratios[k]));
    let scale = w.iter().sum::<f64>() / 7.0;
    if scale <= 0.0 {
        return None;
    }
    let stands_out = (0..7).any(|k| {
        let r = &ratios[k];
        let m = w[k];
        let var = r.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (r.len() - 1) as f64;
        let se = (var / r.len() as f64).sqrt() / scale;
        let dev = (m / scale - 1.0).abs();
        dev > 0.05 && dev > 3.0 * se
    });
    stands_out.then(|| w.map(|x| x / scale))
}

/// Least squares of ln(weekly total) on the week's middle day: (intercept, slope per day, the
/// slope's standard error). `None` when a week is empty (its logarithm is not defined).
fn weekly_trend(counts: &[u64]) -> Option<(f64, f64, f64)> {
    let n = counts.len();
    let weeks = n / 7;
    let skip = n - weeks * 7;
    let points: Vec<(f64, f64)> = (0..weeks)
        .map(|j| {
            let start = skip + 7 * j;
            let total: u64 = counts[start..start + 7].iter().sum();
            (start as f64 + 3.0, total as f64)
        })
        .collect();
    if points.iter().any(|(_, y)| *y <= 0.0) || points.len() < 3 {
        return None;
    }
    let k = points.len() as f64;
    let mx = points.iter().map(|(x, _)| x).sum::<f64>() / k;
    let my = points.iter().map(|(_, y)| y.ln()).sum::<f64>() / k;
    let sxx: f64 = points.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|(x, y)| (x - mx) * (y.ln() - my)).sum();
    let b = sxy / sxx;
    let a = my - b * mx;
    let rss: f64 = points
        .iter()
        .map(|(x, y)| (y.ln() - a - b * x).powi(2))
        .sum();
    let se = (rss / (k - 2.0) / sxx).sqrt();
    Some((a, b, se))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// A flat history with quiet weekends: weights 1,1,1,1,1,0.3,0.3 scaled to mean 1
    /// (sum 5.6: x 7/5.6 = 1.25 and 0.375), no growth, the weekly mean as the level
    /// (5 x 10 + 2 x 3 = 56 a week: 8 a day).
    #[test]
    fn a_flat_week_shape_is_recovered_exactly() {
        // 2026-06-01 is a Monday.
        let counts: Vec<u64> = (0..84).map(|t| if t % 7 < 5 { 10 } else { 3 }).collect();
        let v = fit(d("2026-06-01"), &counts, d("2026-09-01"));
        let w = v.weekday_weights.unwrap();
        for (k, want) in [1.25, 1.25, 1.25, 1.25, 1.25, 0.375, 0.375]
            .iter()
            .enumerate()
        {
            assert!((w[k] - want).abs() < 1e-12, "{k}: {}", w[k]);
        }
        let (g, se) = v.growth.unwrap();
        assert!(g.abs() < 1e-12 && se < 1e-12, "{g} {se}");
        assert!(
            (v.sessions_per_day - 8.0).abs() < 1e-9,
            "{}",
            v.sessions_per_day
        );
    }

    /// Weekly totals 100 x 1.02^j: the slope is ln(1.02)/7 a day, so a month grows
    /// 1.02^(30.4375/7) - 1 = 9.0% (to the float), with no error around an exact line.
    #[test]
    fn an_exponential_trend_is_its_growth() {
        let mut counts = Vec::new();
        for j in 0..12 {
            let week = 100.0 * 1.02f64.powi(j);
            // Spread the week's total over its days; the shape does not change weekly sums.
            counts.extend((0..7).map(|_| (week / 7.0 * 1e6).round() as u64));
        }
        let v = fit(d("2026-06-01"), &counts, d("2026-09-01"));
        let (g, se) = v.growth.unwrap();
        let want = 1.02f64.powf(30.4375 / 7.0) - 1.0;
        assert!((g - want).abs() < 1e-6, "{g} vs {want}");
        assert!(se < 1e-6, "{se}");
    }

    /// Every day alike, or days that only wobble: no shape is claimed.
    #[test]
    fn a_flat_week_has_no_shape() {
        let flat = fit(d("2026-06-01"), &[9; 70], d("2026-09-01"));
        assert_eq!(flat.weekday_weights, None);
        let wobble: Vec<u64> = (0..70).map(|t| 100 + (t * 7919 % 5) as u64).collect();
        assert_eq!(
            fit(d("2026-06-01"), &wobble, d("2026-09-01")).weekday_weights,
            None
        );
    }

    #[test]
    fn short_histories_say_what_they_cannot_tell() {
        let v = fit(d("2026-06-01"), &[5; 10], d("2026-07-01"));
        assert_eq!((v.growth, v.weekday_weights), (None, None));
        assert_eq!(v.sessions_per_day, 5.0);
        assert_eq!(v.notes.len(), 2);
        let weekends: Vec<u64> = (0..30).map(|t| if t % 7 < 5 { 10 } else { 3 }).collect();
        let v = fit(d("2026-06-01"), &weekends, d("2026-07-01"));
        assert!(v.weekday_weights.is_some() && v.growth.is_none());
        assert!(v.notes[0].contains("eight whole weeks"), "{:?}", v.notes);
    }
}
