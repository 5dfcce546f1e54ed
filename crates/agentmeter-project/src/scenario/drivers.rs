//! The uncertain drivers of a scenario: growth as a distribution, weekday weights, a model mix
//! and possible future price changes (`[[price_change]]`). Parsed with the same key paths,
//! bounds and did-you-mean as the rest of the scenario.

use chrono::NaiveDate;
use rust_decimal::prelude::*;
use toml::Value;

use super::{did_you_mean, Bound, Dist, Parser, BOUND_HINT, GROWTH_MAX_PERCENT};
use crate::error::Result;

/// A possible future price: from `effective`, with `probability`, its prices replace the
/// table's (a token factor multiplies the table's token rates), as a later table row would.
#[derive(Clone, Debug, PartialEq)]
pub struct PriceChange {
    /// Its place in the file (`price_change[i]`), for messages: the list is sorted by date.
    pub index: usize,
    pub effective: NaiveDate,
    /// The chance it happens at all, 0 to 1.
    pub probability: Decimal,
    pub runtime_usd_per_hour: Option<Dist>,
    pub web_search_usd_per_1000: Option<Dist>,
    pub token_factor: Option<Dist>,
    /// The models the token factor applies to (`None`: every model).
    pub models: Option<Vec<String>>,
}

impl PriceChange {
    /// Whether its token factor applies to `model`.
    pub fn token_factor_for(&self, model: &str) -> Option<&Dist> {
        match &self.models {
            Some(ms) if !ms.iter().any(|m| m == model) => None,
            _ => self.token_factor.as_ref(),
        }
    }

    /// Whether any of its outcome is uncertain (a sure, fixed change is just a future price).
    pub fn is_uncertain(&self) -> bool {
        self.probability < Decimal::ONE
            || [
                &self.runtime_usd_per_hour,
                &self.web_search_usd_per_1000,
                &self.token_factor,
            ]
            .into_iter()
            .flatten()
            .any(|d| !d.is_fixed())
    }
}

pub const RUNTIME_USD_PER_HOUR: Bound = Bound {
    max: 1_000_000,
    unit: "USD per hour",
};
/// $100 a search: the highest unit price the Monte Carlo takes.
pub const WEB_SEARCH_USD_PER_1000: Bound = Bound {
    max: 100_000,
    unit: "USD per 1,000 searches",
};
pub const TOKEN_FACTOR: Bound = Bound {
    max: 100,
    unit: "times the table's token rates",
};
pub const WEEKDAY_WEIGHT: Bound = Bound {
    max: 1_000_000,
    unit: "(a weekday weight)",
};
const PRICE_CHANGE_KEYS: [&str; 6] = [
    "effective",
    "probability",
    "runtime_usd_per_hour",
    "web_search_usd_per_1000",
    "token_factor",
    "models",
];
/// Price changes in one scenario: each is drawn in every run.
pub const MAX_PRICE_CHANGES: usize = 100;

impl Parser<'_> {
    /// A growth percentage string ("5%") as a fraction, above -100% and at most +1000%.
    pub(super) fn percent(&self, v: &Value, p: &str) -> Result<Decimal> {
        let Value::String(s) = v else {
            return Err(self.err(
                p,
                format!("write growth as a percentage string such as \"5%\" (got {v})"),
            ));
        };
        let Some(num) = s.trim().strip_suffix('%') else {
            return Err(self.err(p, format!("{s:?} needs a % sign, e.g. \"5%\"")));
        };
        let pct = num
            .trim()
            .parse::<Decimal>()
            .map_err(|_| self.err(p, format!("{s:?} is not a percentage")))?;
        if pct <= Decimal::from(-100) {
            return Err(self.err(p, format!("{s} would make volume negative")));
        }
        if pct > Decimal::from(GROWTH_MAX_PERCENT) {
            return Err(self
                .err(p, format!("{s} is more than {GROWTH_MAX_PERCENT}% a month"))
                .with_hint(BOUND_HINT));
        }
        Ok(pct / Decimal::ONE_HUNDRED)
    }

    /// `growth_per_month`: a percentage, or a distribution of percentages. Returns the mean
    /// growth and, when uncertain, the distribution of the monthly factor 1 + g (a normal
    /// truncated at 0 is a growth above -100%).
    pub(super) fn growth(&self, v: &Value, p: &str) -> Result<(Decimal, Option<Dist>)> {
        let Value::Table(t) = v else {
            return Ok((self.percent(v, p)?, None));
        };
        let kinds = ["fixed", "uniform", "normal"];
        let kind = match t.get("dist") {
            Some(k) => self.string(k, &format!("{p}.dist"))?,
            None => {
                return Err(self.err(
                    p,
                    "a growth distribution needs `dist` (fixed, uniform or normal)",
                ))
            }
        };
        let keys: &[&str] = match kind.as_str() {
            "fixed" => &["dist", "value"],
            "uniform" => &["dist", "min", "max"],
            "normal" => &["dist", "mean", "sd"],
            other => {
                let hint = did_you_mean(other, &kinds)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(self.err(
                    &format!("{p}.dist"),
                    format!(
                        "growth takes a fixed, uniform or normal distribution, not {other:?}{hint}"
                    ),
                ));
            }
        };
        self.known_keys(t, keys, p)?;
        let get = |k: &str| -> Result<Decimal> {
            let at = format!("{p}.{k}");
            self.percent(
                t.get(k)
                    .ok_or_else(|| self.err(p, format!("{kind} needs `{k}`")))?,
                &at,
            )
        };
        let f = |d: Decimal| (Decimal::ONE + d).to_f64().unwrap_or(1.0);
        let dist = match kind.as_str() {
            "fixed" => return Ok((get("value")?, None)),
            "uniform" => {
                let (min, max) = (get("min")?, get("max")?);
                if max < min {
                    return Err(self.err(p, format!("uniform max ({max}) must be >= min ({min})")));
                }
                Dist::Uniform {
                    min: f(min),
                    max: f(max),
                }
            }
            _ => {
                let (mean, sd) = (get("mean")?, get("sd")?);
                if sd.is_sign_negative() && !sd.is_zero() {
                    return Err(self.err(&format!("{p}.sd"), "must not be negative"));
                }
                Dist::Normal {
                    mean: f(mean),
                    sd: sd.to_f64().unwrap_or(0.0),
                }
            }
        };
        Ok((dist.mean() - Decimal::ONE, Some(dist)))
    }

    /// `weekday_weights`: seven weights, Monday to Sunday, scaled to mean 1 so that the daily
    /// volume stays the mean day's.
    pub(super) fn weekday_weights(&self, v: &Value, p: &str) -> Result<[Decimal; 7]> {
        let a = match v {
            Value::Array(a) if a.len() == 7 => a,
            _ => {
                return Err(self.err(
                    p,
                    "expected 7 weights, Monday to Sunday, e.g. [1, 1, 1, 1, 1, 0.3, 0.3]",
                ))
            }
        };
        let mut w = [Decimal::ZERO; 7];
        for (i, x) in a.iter().enumerate() {
            w[i] = self.bounded(x, &format!("{p}[{i}]"), WEEKDAY_WEIGHT)?;
        }
        let sum: Decimal = w.iter().sum();
        if sum.is_zero() {
            return Err(self.err(p, "the weights are all 0: no day would have sessions"));
        }
        Ok(w.map(|x| x * Decimal::from(7) / sum))
    }

    /// `model_mix`: model -> share of the sessions; the shares sum to 1.
    pub(super) fn model_mix(&self, v: &Value, p: &str) -> Result<Vec<(String, Decimal)>> {
        let Value::Table(t) = v else {
            return Err(self.err(p, "expected a table of model = share, e.g. { \"claude-opus-4-6\" = 0.7, \"claude-sonnet-4-6\" = 0.3 }"));
        };
        if t.is_empty() {
            return Err(self.err(p, "names no model"));
        }
        let mut out = Vec::new();
        for (m, x) in t {
            let at = format!("{p}.{m}");
            let w = self.non_negative(x, &at)?;
            if w > Decimal::ONE {
                return Err(self.err(&at, format!("a share of {w} is more than 1")));
            }
            out.push((m.clone(), w));
        }
        let sum: Decimal = out.iter().map(|(_, w)| *w).sum();
        if sum != Decimal::ONE {
            return Err(self.err(p, format!("the shares sum to {}, not 1", sum.normalize())));
        }
        Ok(out)
    }

    /// A date, as a TOML date or a string: "2027-04-01" (or "2027-04": its first day).
    pub(super) fn date(&self, v: &Value, p: &str) -> Result<NaiveDate> {
        let s = match v {
            Value::Datetime(d) => d.to_string(),
            other => self.string(other, p)?,
        };
        let s = s.trim();
        let date = NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d"))
            .map_err(|_| self.err(p, format!("{s:?} is not a date (2026-12-01 or 2026-12)")))?;
        // Keeps every day of a 600-month horizon a valid date and a valid instant.
        if !(1970..=9999).contains(&chrono::Datelike::year(&date)) {
            return Err(self.err(p, format!("{s:?} is not between 1970 and 9999")));
        }
        Ok(date)
    }

    /// `[[price_change]]`, sorted by date (a later change replaces an earlier one's prices).
    pub(super) fn price_changes(&self, v: Option<&Value>) -> Result<Vec<PriceChange>> {
        let a = match v {
            None => return Ok(Vec::new()),
            Some(Value::Array(a)) => a,
            Some(other) => {
                return Err(self.err(
                    "price_change",
                    format!("expected [[price_change]] tables, got {}", other.type_str()),
                ))
            }
        };
        if a.len() > MAX_PRICE_CHANGES {
            return Err(self
                .err(
                    "price_change",
                    format!("{} price changes, more than {MAX_PRICE_CHANGES}", a.len()),
                )
                .with_hint(BOUND_HINT));
        }
        let mut out = Vec::new();
        for (i, c) in a.iter().enumerate() {
            let p = format!("price_change[{i}]");
            let Value::Table(t) = c else {
                return Err(self.err(&p, "expected a table"));
            };
            self.known_keys(t, &PRICE_CHANGE_KEYS, &p)?;
            let effective = match t.get("effective") {
                Some(v) => self.date(v, &format!("{p}.effective"))?,
                None => return Err(self.err(&p, "needs `effective`, the date it applies from")),
            };
            let probability = match t.get("probability") {
                None => Decimal::ONE,
                Some(v) => {
                    let at = format!("{p}.probability");
                    let x = self.non_negative(v, &at)?;
                    if x > Decimal::ONE {
                        return Err(self.err(&at, format!("{x} is not a probability (0 to 1)")));
                    }
                    x
                }
            };
            let price = |k: &str, b: Bound| {
                t.get(k)
                    .map(|v| self.dist(v, &format!("{p}.{k}"), b))
                    .transpose()
            };
            let models = match t.get("models") {
                None => None,
                Some(Value::Array(ms)) if !ms.is_empty() => Some(
                    ms.iter()
                        .enumerate()
                        .map(|(j, m)| self.string(m, &format!("{p}.models[{j}]")))
                        .collect::<Result<Vec<_>>>()?,
                ),
                Some(_) => {
                    return Err(self.err(
                        &format!("{p}.models"),
                        "expected a non-empty list of model ids",
                    ))
                }
            };
            let change = PriceChange {
                index: i,
                effective,
                probability,
                runtime_usd_per_hour: price("runtime_usd_per_hour", RUNTIME_USD_PER_HOUR)?,
                web_search_usd_per_1000: price("web_search_usd_per_1000", WEB_SEARCH_USD_PER_1000)?,
                token_factor: price("token_factor", TOKEN_FACTOR)?,
                models,
            };
            if change.runtime_usd_per_hour.is_none()
                && change.web_search_usd_per_1000.is_none()
                && change.token_factor.is_none()
            {
                return Err(self.err(&p, "changes no price: give runtime_usd_per_hour, web_search_usd_per_1000 or token_factor"));
            }
            if change.models.is_some() && change.token_factor.is_none() {
                return Err(self.err(
                    &format!("{p}.models"),
                    "only limits a token_factor, and there is none",
                ));
            }
            out.push(change);
        }
        out.sort_by_key(|c| c.effective);
        Ok(out)
    }
}
