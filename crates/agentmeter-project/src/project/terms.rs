//! A contract's monthly terms on each Monte Carlo run: the commitment's shortfall and the
//! credits, applied to each run's month totals (what the run pays after the discounts, which
//! its prices already carry), as `contract::bill_days` applies them to metered days. So the
//! bill has a band of its own beside the spend's: a run below a month's minimum bills the
//! minimum, and a credit is used up by the runs that spend it. Amounts are the runs'
//! atto-dollars; this is per-run work, outside the per-session path.
//!
//! A run knows its month totals, not its days: a month is cut where the credits that may pay
//! change (a credit starting or expiring inside it), and each part gets the share of the
//! month's spend the plan expects on its days. A month no credit boundary cuts (the usual
//! case) is billed exactly as `bill_days` would bill the run's days.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::prelude::*;

use crate::contract::Contract;

/// The terms of the plan's months, ready for each run.
#[derive(Clone, Debug)]
pub struct RunTerms {
    months: Vec<MonthTerms>,
    /// Each credit's amount (the contract's order), atto-dollars.
    credits: Vec<i128>,
}

#[derive(Clone, Debug)]
struct MonthTerms {
    /// The monthly minimum in force, atto-dollars (0: none).
    minimum: i128,
    /// The month's days in runs on which the same credits may pay, in order: their expected
    /// spend (a run's month is shared out in proportion), and those credits (oldest first).
    parts: Vec<(Decimal, Vec<usize>)>,
    /// The month's expected spend (the parts' sum).
    whole: Decimal,
    /// The credits that may pay the shortfall, charged on the month's last day.
    last_day: Vec<usize>,
}

/// One run's month under the terms, atto-dollars.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunMonth {
    pub shortfall: i128,
    pub credits_used: i128,
    /// Paid + shortfall - credits used.
    pub billed: i128,
}

fn atto(d: Decimal) -> i128 {
    d.checked_mul(Decimal::from(1_000_000_000_000_000_000i64))
        .and_then(|v| v.round().to_i128())
        .unwrap_or(i128::MAX)
}

/// `p x weight / whole`, to the nearest integer.
fn share(p: i128, weight: Decimal, whole: Decimal) -> i128 {
    if whole.is_zero() {
        return 0;
    }
    Decimal::from_i128(p)
        .and_then(|p| p.checked_mul(weight))
        .and_then(|x| x.checked_div(whole))
        .and_then(|x| x.round().to_i128())
        .unwrap_or_else(|| {
            let f = (weight / whole).to_f64().unwrap_or(0.0);
            (p as f64 * f) as i128
        })
}

impl RunTerms {
    /// The terms of `months` (each a month's first day) under `contract`, with `days` the
    /// plan's expected spend per day (list, contracted); `None` when the contract has no
    /// commitment and no credit (a run's bill is then what it pays).
    pub fn new(
        contract: &Contract,
        months: &[NaiveDate],
        days: &BTreeMap<NaiveDate, (Decimal, Decimal)>,
    ) -> Option<RunTerms> {
        if contract.commitments.is_empty() && contract.credits.is_empty() {
            return None;
        }
        // Credits are used oldest first (by effective, then file order), as `bill_days` does.
        let mut order: Vec<usize> = (0..contract.credits.len()).collect();
        order.sort_by_key(|&i| (contract.credits[i].effective, i));
        let usable = |day: NaiveDate| -> Vec<usize> {
            (order.iter().copied())
                .filter(|&k| {
                    let c = &contract.credits[k];
                    c.effective <= day && day <= c.expires
                })
                .collect()
        };
        let months = months
            .iter()
            .map(|&first| {
                let end = first
                    .checked_add_months(chrono::Months::new(1))
                    .unwrap_or(NaiveDate::MAX);
                let in_month: Vec<(NaiveDate, Decimal)> =
                    days.range(first..end).map(|(d, (_, c))| (*d, *c)).collect();
                let spend: Decimal = in_month.iter().map(|x| x.1).sum();
                let mut parts: Vec<(Decimal, Vec<usize>)> = Vec::new();
                for &(day, paid) in &in_month {
                    // A month the plan expects nothing of: its days weigh the same.
                    let w = if spend.is_zero() { Decimal::ONE } else { paid };
                    let u = usable(day);
                    match parts.last_mut() {
                        Some((s, last)) if *last == u => *s += w,
                        _ => parts.push((w, u)),
                    }
                }
                let whole: Decimal = parts.iter().map(|p| p.0).sum();
                let last_day = end.pred_opt().unwrap_or(first);
                MonthTerms {
                    minimum: contract
                        .commitment_for(first)
                        .map_or(0, |(_, min)| atto(min)),
                    parts,
                    whole,
                    last_day: usable(last_day),
                }
            })
            .collect();
        Some(RunTerms {
            months,
            credits: contract.credits.iter().map(|c| atto(c.amount)).collect(),
        })
    }

    /// Bill one run: `paid` is what it pays each month after the discounts (atto-dollars);
    /// `out` gets each month's shortfall, credits used and bill.
    pub fn bill(&self, paid: &[i128], out: &mut [RunMonth]) {
        let mut left = self.credits.clone();
        let mut take = |mut amount: i128, usable: &[usize]| -> i128 {
            let mut used = 0;
            for &k in usable {
                if amount <= 0 {
                    break;
                }
                let t = amount.min(left[k]);
                left[k] -= t;
                amount -= t;
                used += t;
            }
            used
        };
        for ((m, &p), o) in self.months.iter().zip(paid).zip(out.iter_mut()) {
            let p = p.max(0);
            let shortfall = (m.minimum - p).max(0);
            let mut used = 0;
            let mut given = 0i128;
            let n = m.parts.len();
            for (j, (weight, usable)) in m.parts.iter().enumerate() {
                // The last part takes what is left, so the parts add up to the month; the
                // others their share, to the nearest atto-dollar (in f64 only past Decimal).
                let amount = if j + 1 == n {
                    p - given
                } else {
                    share(p, *weight, m.whole).clamp(0, p - given)
                };
                given += amount;
                used += take(amount, usable);
            }
            used += take(shortfall, &m.last_day);
            *o = RunMonth {
                shortfall,
                credits_used: used,
                billed: p + shortfall - used,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::PriceTable;

    const USD: i128 = 1_000_000_000_000_000_000;

    fn contract(body: &str) -> Contract {
        let table = PriceTable::bundled().unwrap();
        let text = format!("schema = 1\nname = \"t\"\ncurrency = \"USD\"\n{body}");
        let (c, p) = Contract::parse_and_check(&text, "t.toml", &table);
        assert!(p.is_empty(), "{p:?}");
        c.unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Every day of the months at `per_day` (list and contracted alike).
    fn days(months: &[NaiveDate], per_day: Decimal) -> BTreeMap<NaiveDate, (Decimal, Decimal)> {
        let mut out = BTreeMap::new();
        for &m in months {
            let mut day = m;
            while day.month0() == m.month0() {
                out.insert(day, (per_day, per_day));
                day = day.succ_opt().unwrap();
            }
        }
        out
    }

    use chrono::Datelike;

    #[test]
    fn a_run_bills_the_minimum_and_uses_credits_across_months() {
        // A minimum of $100 a month and a $30 credit for the two months.
        let c = contract(
            "[[commitment]]\neffective = \"2026-01-01\"\nmonthly_minimum_usd = \"100\"\n\
             [[credit]]\neffective = \"2026-01-01\"\namount_usd = \"30\"\nexpires = \"2026-02-28\"\n",
        );
        let months = [d("2026-01-01"), d("2026-02-01")];
        let t = RunTerms::new(&c, &months, &days(&months, Decimal::ONE)).unwrap();
        let mut out = [RunMonth::default(); 2];
        // January $80: shortfall 20; the credit pays 30 of January's usage (used before the
        // shortfall, charged on the last day): billed 80 + 20 - 30 = 70. February $120: no
        // shortfall, no credit left: 120.
        t.bill(&[80 * USD, 120 * USD], &mut out);
        assert_eq!(
            out,
            [
                RunMonth {
                    shortfall: 20 * USD,
                    credits_used: 30 * USD,
                    billed: 70 * USD
                },
                RunMonth {
                    shortfall: 0,
                    credits_used: 0,
                    billed: 120 * USD
                },
            ]
        );
        // Another run: $10 in January (shortfall 90, credit 30: billed 70), $150 in February.
        t.bill(&[10 * USD, 150 * USD], &mut out);
        assert_eq!(out[0].billed, 70 * USD);
        assert_eq!(out[0].shortfall, 90 * USD);
        assert_eq!(out[1].billed, 150 * USD);
    }

    #[test]
    fn a_credit_starting_mid_month_pays_only_its_days_share() {
        // January has 31 days at $1 expected each; a $100 credit from January 21 covers 11 of
        // them: a run paying $62 in January has 62 x 11/31 = $22 on those days, which the
        // credit pays: billed 62 - 22 = 40. No commitment: no shortfall.
        let c = contract(
            "[[credit]]\neffective = \"2026-01-21\"\namount_usd = \"100\"\nexpires = \"2026-12-31\"\n",
        );
        let months = [d("2026-01-01")];
        let t = RunTerms::new(&c, &months, &days(&months, Decimal::ONE)).unwrap();
        let mut out = [RunMonth::default()];
        t.bill(&[62 * USD], &mut out);
        assert_eq!(out[0].credits_used, 22 * USD);
        assert_eq!(out[0].billed, 40 * USD);
        // Without commitments or credits there are no terms to apply.
        let plain = contract("[[discount]]\neffective = \"2026-01-01\"\npercent = \"10%\"\n");
        assert!(RunTerms::new(&plain, &months, &days(&months, Decimal::ONE)).is_none());
    }
}
