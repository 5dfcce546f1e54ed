//! Spend anomalies: each key's cost per day against the same weekday of the weeks before.
//!
//! The expectation is the median of those days and the spread their median absolute
//! deviation (scaled by 1.4826, so it estimates a standard deviation); both are medians of
//! exact amounts, so they stay exact decimals and the test needs no float.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::Serialize;

use crate::error::Result;
use crate::rate::{Cost, RatedSession};
use crate::report::group::{group, GroupBy};
use crate::schema::{ColumnKey, Day, Exact};

/// The MAD of a normal distribution times this is its standard deviation.
pub const MAD_SCALE: Decimal = Decimal::from_parts(14826, 0, 0, false, 4);

/// One key's spend on one day: by category, and by session.
#[derive(Clone, Debug, Default)]
pub struct DaySpend {
    pub cost: Cost,
    pub sessions: Vec<(String, Decimal)>,
}

/// Key -> day -> spend.
pub type Daily = BTreeMap<String, BTreeMap<NaiveDate, DaySpend>>;

/// Spend per key (`agent`, `model` or `project`) and local day (the rater's zone).
pub fn daily(sessions: &[RatedSession], by: GroupBy) -> Result<Daily> {
    let mut out = Daily::new();
    for row in group(sessions, &[GroupBy::Day, by, GroupBy::Session])? {
        let [day, key, session] = <[String; 3]>::try_from(row.keys).expect("three keys");
        // `group` wrote the day itself; it always reads back.
        let Ok(day) = day.parse::<NaiveDate>() else {
            continue;
        };
        let cost = row.sums.cost();
        let d = out.entry(key).or_default().entry(day).or_default();
        d.cost += cost;
        d.sessions.push((session, cost.total()));
    }
    Ok(out)
}

#[derive(Clone, Debug)]
pub struct Params {
    /// How many previous same weekdays make the expectation.
    pub weeks: u32,
    /// How many spreads from the expectation a day must be.
    pub threshold: Decimal,
    /// ...and how many dollars at least.
    pub min_usd: Decimal,
    /// Judge days far below too.
    pub low: bool,
    /// The days judged (inclusive); history before `since` still counts.
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

/// The category that moved most in the anomaly's direction against its own expectation.
#[derive(Clone, Debug, PartialEq)]
pub struct Explained {
    pub category: &'static str,
    pub cost: Decimal,
    pub expected: Decimal,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Anomaly {
    pub day: NaiveDate,
    pub key: String,
    pub cost: Decimal,
    pub expected: Decimal,
    pub spread: Decimal,
    /// cost - expected (negative for a day far below).
    pub excess: Decimal,
    pub explained_by: Explained,
    /// The day's top sessions of the key by cost (at most [`TOP_SESSIONS`]).
    pub sessions: Vec<String>,
}

pub const TOP_SESSIONS: usize = 5;

#[derive(Clone, Debug, Default)]
pub struct Findings {
    pub anomalies: Vec<Anomaly>,
    /// Key-days with at least two same-weekday days of history.
    pub judged_days: u64,
    /// Key-days with fewer: not judged.
    pub unjudged_days: u64,
}

pub fn median(mut v: Vec<Decimal>) -> Decimal {
    v.sort();
    match v.len() {
        0 => Decimal::ZERO,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / Decimal::TWO,
    }
}

/// The median absolute deviation from `m`, scaled to estimate a standard deviation.
pub fn spread(v: &[Decimal], m: Decimal) -> Decimal {
    median(v.iter().map(|x| (x - m).abs()).collect()) * MAD_SCALE
}

/// Judge every key's days, from its first day of spend (or `since`) to the last day any key
/// spent (or `until`, if earlier). A day without spend after a key's first counts as 0.
pub fn find(daily: &Daily, p: &Params) -> Findings {
    let mut f = Findings::default();
    let Some(last) = daily.values().filter_map(|d| d.keys().next_back()).max() else {
        return f;
    };
    let last = p.until.map_or(*last, |u| u.min(*last));
    let zero = DaySpend::default();
    for (key, days) in daily {
        let Some(&first) = days.keys().next() else {
            continue;
        };
        let start = p.since.map_or(first, |s| s.max(first));
        for day in start.iter_days().take_while(|d| *d <= last) {
            let history: Vec<&DaySpend> = (1..=i64::from(p.weeks))
                .filter_map(|k| day.checked_sub_signed(chrono::Duration::weeks(k)))
                .filter(|h| *h >= first)
                .map(|h| days.get(&h).unwrap_or(&zero))
                .collect();
            if history.len() < 2 {
                f.unjudged_days += 1;
                continue;
            }
            f.judged_days += 1;
            let spend = days.get(&day).unwrap_or(&zero);
            if let Some(a) = judge(key, day, spend, &history, p) {
                f.anomalies.push(a);
            }
        }
    }
    f.anomalies
        .sort_by(|a, b| (a.day, &a.key).cmp(&(b.day, &b.key)));
    f
}

fn judge(
    key: &str,
    day: NaiveDate,
    spend: &DaySpend,
    history: &[&DaySpend],
    p: &Params,
) -> Option<Anomaly> {
    let totals: Vec<Decimal> = history.iter().map(|h| h.cost.total()).collect();
    let cost = spend.cost.total();
    let expected = median(totals.clone());
    let spread = spread(&totals, expected);
    let excess = cost - expected;
    // The direction of the move: +1 above, -1 below.
    let sign = if excess > p.threshold * spread && excess > p.min_usd {
        Decimal::ONE
    } else if p.low && -excess > p.threshold * spread && -excess > p.min_usd {
        Decimal::NEGATIVE_ONE
    } else {
        return None;
    };
    let explained_by = (spend.cost.iter())
        .map(|(c, &cost)| Explained {
            category: c.key(),
            cost,
            expected: median(history.iter().map(|h| h.cost[c]).collect()),
        })
        // The first of equal moves wins: max_by_key keeps the last, so compare reversed.
        .rev()
        .max_by_key(|e| (e.cost - e.expected) * sign)
        .expect("a cost column at least");
    let mut top = spend.sessions.clone();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Some(Anomaly {
        day,
        key: key.to_string(),
        cost,
        expected,
        spread,
        excess,
        explained_by,
        sessions: top
            .into_iter()
            .take(TOP_SESSIONS)
            .map(|(id, _)| id)
            .collect(),
    })
}

// ----- JSON ---------------------------------------------------------------------------------

agentmeter_core::schema_tag!(
    /// The schema string of the anomalies found.
    pub AnomaliesV1 = "agentmeter/anomalies-v1"
);

/// What `agentmeter anomalies --format json` writes (and `--notify` sends under `agentmeter`
/// when an anomaly is found): the days whose spend per agent, model or project is far from the
/// median of the same weekday over the weeks before. Amounts are USD as exact decimal strings.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "anomalies")]
pub struct AnomaliesDoc<'a> {
    /// The schema of this document.
    schema: AnomaliesV1,
    /// The version of the price table the spend comes from.
    pricing: &'a str,
    /// How days were judged.
    parameters: Parameters<'a>,
    /// Key-days judged (each key's days with at least 2 same weekdays of history).
    judged_days: u64,
    /// Key-days not judged: fewer than 2 same weekdays of history.
    unjudged_days: u64,
    /// Each flagged day and key.
    anomalies: Vec<AnomalyJson<'a>>,
}

/// How days were judged.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "parameters")]
struct Parameters<'a> {
    /// Whose daily spend is judged (--by).
    #[schemars(extend("enum" = ["agent", "model", "project"]))]
    by: &'static str,
    /// How many previous same weekdays make a day's expectation (--weeks).
    #[schemars(range(min = 2))]
    weeks: u32,
    /// How many spreads from the expectation flag a day (--threshold).
    threshold: Exact,
    /// How many dollars from it flag a day, at least (--min-usd).
    min_usd: Exact,
    /// Whether days far below are flagged too (--low).
    low: bool,
    /// The IANA time zone of the days (--tz).
    tz: &'a str,
    /// The first day judged (--since), if given.
    since: Option<Day>,
    /// The last day judged (--until), if given.
    until: Option<Day>,
    /// The factor that makes a median absolute deviation a spread (1.4826).
    mad_scale: Exact,
}

/// One flagged day and key.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "anomaly")]
struct AnomalyJson<'a> {
    /// The local day.
    day: Day,
    /// The agent, model or project.
    key: &'a str,
    /// Its spend that day.
    cost: Exact,
    /// The median of the same weekday over the weeks before.
    expected: Exact,
    /// The scaled median absolute deviation of those days.
    spread: Exact,
    /// cost - expected (negative for a day far below).
    excess: Exact,
    /// The cost column that moved most.
    explained_by: ExplainedJson,
    /// The day's top sessions of the key by cost (5 at most).
    #[schemars(length(max = 5))]
    sessions: &'a [String],
}

/// The cost column that moved most.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "explained_by")]
struct ExplainedJson {
    /// The cost column.
    #[schemars(with = "ColumnKey")]
    category: &'static str,
    /// Its spend that day.
    cost: Exact,
    /// Its median over the same weekdays before.
    expected: Exact,
}

impl<'a> AnomaliesDoc<'a> {
    /// What `find` found with `p`, of the daily spend by `by` in the zone named `tz`, priced
    /// with the table `pricing` (its version).
    pub fn new(
        pricing: &'a str,
        by: GroupBy,
        tz: &'a str,
        p: &Params,
        found: &'a Findings,
    ) -> Self {
        AnomaliesDoc {
            schema: AnomaliesV1,
            pricing,
            parameters: Parameters {
                by: by.name(),
                weeks: p.weeks,
                threshold: Exact(p.threshold),
                min_usd: Exact(p.min_usd),
                low: p.low,
                tz,
                since: p.since.map(Day),
                until: p.until.map(Day),
                mad_scale: Exact(MAD_SCALE),
            },
            judged_days: found.judged_days,
            unjudged_days: found.unjudged_days,
            anomalies: (found.anomalies.iter())
                .map(|a| AnomalyJson {
                    day: Day(a.day),
                    key: &a.key,
                    cost: Exact(a.cost),
                    expected: Exact(a.expected),
                    spread: Exact(a.spread),
                    excess: Exact(a.excess),
                    explained_by: ExplainedJson {
                        category: a.explained_by.category,
                        cost: Exact(a.explained_by.cost),
                        expected: Exact(a.explained_by.expected),
                    },
                    sessions: &a.sessions,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::CostColumn;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn medians_and_spreads_are_exact() {
        // Sorted 3.58, 3.58, 3.605, 3.63: median (3.58 + 3.605) / 2 = 3.5925.
        let v = vec![d("3.58"), d("3.63"), d("3.605"), d("3.58")];
        let m = median(v.clone());
        assert_eq!(m, d("3.5925"));
        // Deviations 0.0125, 0.0375, 0.0125, 0.0125: median 0.0125; x 1.4826 = 0.0185325.
        assert_eq!(spread(&v, m), d("0.0185325"));
        assert_eq!(median(vec![d("1"), d("7"), d("2")]), d("2"));
    }

    fn spend(runtime: &str, output: &str) -> DaySpend {
        DaySpend {
            cost: {
                let mut c = Cost::default();
                c[CostColumn::Runtime] = d(runtime);
                c[CostColumn::Output] = d(output);
                c
            },
            sessions: vec![("s".into(), d(runtime) + d(output))],
        }
    }

    fn params() -> Params {
        Params {
            weeks: 4,
            threshold: d("4"),
            min_usd: d("1"),
            low: false,
            since: None,
            until: None,
        }
    }

    #[test]
    fn a_missing_day_counts_as_zero_and_is_low_only_with_low() {
        let monday = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let mut days = BTreeMap::new();
        for w in 0..3 {
            days.insert(monday + chrono::Duration::weeks(w), spend("0.08", "5"));
        }
        // The fourth Monday spends nothing; a small Tuesday after it (0.58, under --min-usd
        // though no Tuesday spent before) makes it part of the range.
        days.insert(monday + chrono::Duration::days(22), spend("0.08", "0.5"));
        let daily: Daily = [("a".to_string(), days)].into();
        let f = find(&daily, &params());
        assert!(f.anomalies.is_empty());
        let f = find(
            &daily,
            &Params {
                low: true,
                ..params()
            },
        );
        assert_eq!(f.anomalies.len(), 1, "{:?}", f.anomalies);
        let a = &f.anomalies[0];
        // History 5.08, 5.08, 5.08: expected 5.08, spread 0; cost 0 is 5.08 below.
        assert_eq!(a.day, monday + chrono::Duration::weeks(3));
        assert_eq!(
            (a.cost, a.expected, a.excess),
            (d("0"), d("5.08"), d("-5.08"))
        );
        assert_eq!(a.explained_by.category, "output");
        assert!(a.sessions.is_empty());
    }
}
