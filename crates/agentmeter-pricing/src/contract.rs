//! Contracts (`--contract FILE`): negotiated terms applied after rating. Rated line items keep
//! their list prices; a contract says what is owed for them: discounts per line item,
//! monthly minimums (the shortfall billed as its own line) and prepaid or promotional
//! credits. Every amount it changes names its row (`discount[0]`, ...) and the contract's
//! version (name + sha256 prefix of the file, as a price table's).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use toml::{Table, Value};

use crate::category::{Category, CostColumn};
use crate::error::{Error, Result};
use crate::keys::{did_you_mean, unknown_keys};
use crate::pricing::check::{Level, Problem};
use crate::pricing::PriceTable;
use crate::rate::{Cost, RatedSession};
use crate::time::Millis;

#[derive(Clone, Debug, PartialEq)]
pub struct Discount {
    pub effective: NaiveDate,
    /// Exclusive; none: open-ended.
    pub until: Option<NaiveDate>,
    /// The percentage as written ("15%"), for messages.
    pub percent: String,
    /// 0.15 for "15%".
    pub fraction: Decimal,
    /// Canonical model ids; none: every model (and runtime and web search).
    pub models: Option<Vec<String>>,
    pub categories: Vec<Category>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Commitment {
    /// The first day of a month; in force until the next row.
    pub effective: NaiveDate,
    pub monthly_minimum: Decimal,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Credit {
    pub effective: NaiveDate,
    /// Inclusive: usable for charges of that day.
    pub expires: NaiveDate,
    pub amount: Decimal,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Contract {
    pub name: String,
    /// `name@` + the first 8 hex digits of the file's sha256.
    pub version: String,
    pub origin: String,
    /// The file as read, so a baseline can carry the contract it was priced under.
    pub text: String,
    pub discounts: Vec<Discount>,
    pub commitments: Vec<Commitment>,
    pub credits: Vec<Credit>,
}

const TOP_KEYS: [&str; 6] = [
    "schema",
    "name",
    "currency",
    "discount",
    "commitment",
    "credit",
];
const DISCOUNT_KEYS: [&str; 5] = ["effective", "until", "percent", "models", "categories"];
const COMMITMENT_KEYS: [&str; 2] = ["effective", "monthly_minimum_usd"];
const CREDIT_KEYS: [&str; 3] = ["effective", "amount_usd", "expires"];
/// What `categories` accepts: the JSON cost keys, and after a column of several categories
/// (cache writes) each of them on its own.
fn category_names() -> Vec<&'static str> {
    let mut out = Vec::new();
    for col in CostColumn::ALL {
        out.push(col.key());
        let cats: Vec<Category> = col.categories().collect();
        if cats.len() > 1 {
            out.extend(cats.iter().map(|c| c.key()));
        }
    }
    out
}

/// The categories a name in `categories` stands for: a cost column's, or one category.
fn categories_of(name: &str) -> Vec<Category> {
    match CostColumn::ALL.into_iter().find(|c| c.key() == name) {
        Some(col) => col.categories().collect(),
        None => Category::of_key(name).into_iter().collect(),
    }
}

/// Runtime and web search are priced the same whatever the model: a discount limited to
/// models covers only their token charges.
fn is_token_charge(c: Category) -> bool {
    c.per_model()
}

/// Collects every problem of a file, as `pricing check` does, so one run lists them all.
struct Checker<'t> {
    table: &'t PriceTable,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn error(&mut self, path: &str, msg: impl std::fmt::Display) {
        self.problems.push(Problem {
            level: Level::Error,
            message: format!("{path}: {msg}"),
        });
    }

    fn warn(&mut self, path: &str, msg: impl std::fmt::Display) {
        self.problems.push(Problem {
            level: Level::Warning,
            message: format!("{path}: {msg}"),
        });
    }

    fn known_keys(&mut self, t: &Table, allowed: &[&str], path: &str) {
        for (at, msg) in unknown_keys(t, allowed, path) {
            self.error(
                &at,
                format!("{msg}; known keys here: {}", allowed.join(", ")),
            );
        }
    }

    fn string<'v>(&mut self, v: &'v Value, path: &str) -> Option<&'v str> {
        let s = v.as_str();
        if s.is_none() {
            self.error(path, format!("expected a string, got {}", v.type_str()));
        }
        s
    }

    /// A calendar date (UTC), as a string or a TOML date.
    fn date(&mut self, t: &Table, key: &str, path: &str, required: bool) -> Option<NaiveDate> {
        let at = format!("{path}.{key}");
        let text = match t.get(key) {
            None => {
                if required {
                    self.error(&at, "missing (a date such as \"2026-01-01\")");
                }
                return None;
            }
            Some(Value::Datetime(d)) if d.time.is_none() && d.offset.is_none() => d.to_string(),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(other) => {
                self.error(
                    &at,
                    format!(
                        "expected a date such as \"2026-01-01\", got {}",
                        other.type_str()
                    ),
                );
                return None;
            }
        };
        match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.error(&at, format!("{text:?} is not a date (YYYY-MM-DD, UTC)"));
                None
            }
        }
    }

    /// A non-negative amount in USD, written as a string (never a float) or an integer.
    fn usd(&mut self, t: &Table, key: &str, path: &str) -> Option<Decimal> {
        let at = format!("{path}.{key}");
        let d = match t.get(key) {
            None => {
                self.error(&at, "missing (an amount in USD such as \"1000\")");
                return None;
            }
            Some(Value::Integer(i)) => Decimal::from(*i),
            Some(Value::String(s)) => match s.trim().trim_start_matches('$').parse::<Decimal>() {
                Ok(d) => d,
                Err(_) => {
                    self.error(&at, format!("{s:?} is not an amount in USD"));
                    return None;
                }
            },
            Some(other) => {
                self.error(
                    &at,
                    format!(
                        "expected an amount as a string such as \"1000\", got {} (write amounts as strings, so they stay exact)",
                        other.type_str()
                    ),
                );
                return None;
            }
        };
        if d.is_sign_negative() && !d.is_zero() {
            self.error(&at, format!("must not be negative (got {d})"));
            return None;
        }
        Some(d)
    }

    fn strings(&mut self, t: &Table, key: &str, path: &str) -> Option<Vec<(String, String)>> {
        let at = format!("{path}.{key}");
        match t.get(key)? {
            Value::Array(a) if !a.is_empty() => Some(
                a.iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        let p = format!("{at}[{i}]");
                        self.string(v, &p).map(|s| (s.to_string(), p))
                    })
                    .collect(),
            ),
            Value::Array(_) => {
                self.error(&at, "is empty (leave it out to mean all)");
                None
            }
            other => {
                self.error(&at, format!("expected a list, got {}", other.type_str()));
                None
            }
        }
    }

    /// The `[[key]]` tables of the file, each with its path (`discount[0]`).
    fn rows<'v>(&mut self, root: &'v Table, key: &str) -> Vec<(String, &'v Table)> {
        match root.get(key) {
            None => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    let path = format!("{key}[{i}]");
                    match v {
                        Value::Table(t) => Some((path, t)),
                        _ => {
                            self.error(&path, "expected a table");
                            None
                        }
                    }
                })
                .collect(),
            Some(other) => {
                self.error(
                    key,
                    format!("expected [[{key}]] tables, got {}", other.type_str()),
                );
                Vec::new()
            }
        }
    }

    fn discount(&mut self, path: &str, t: &Table) -> Option<Discount> {
        self.known_keys(t, &DISCOUNT_KEYS, path);
        let effective = self.date(t, "effective", path, true);
        let until = self.date(t, "until", path, false);
        if let (Some(e), Some(u)) = (effective, until) {
            if u <= e {
                self.error(
                    &format!("{path}.until"),
                    format!("{u} is not after effective {e}"),
                );
            }
        }
        let percent = match t.get("percent") {
            None => {
                self.error(&format!("{path}.percent"), "missing (e.g. \"15%\")");
                None
            }
            Some(v) => self
                .string(v, &format!("{path}.percent"))
                .map(str::to_string),
        };
        let fraction = percent.as_deref().and_then(|p| {
            let at = format!("{path}.percent");
            let Some(n) = p.trim().strip_suffix('%') else {
                self.error(&at, format!("{p:?} needs a % sign, e.g. \"15%\""));
                return None;
            };
            match n.trim().parse::<Decimal>() {
                Ok(v) if v >= Decimal::ZERO && v <= Decimal::ONE_HUNDRED => {
                    Some(v / Decimal::ONE_HUNDRED)
                }
                Ok(_) => {
                    self.error(&at, format!("{p:?} is outside 0%..100%"));
                    None
                }
                Err(_) => {
                    self.error(&at, format!("{p:?} is not a percentage"));
                    None
                }
            }
        });
        let models = self.strings(t, "models", path).map(|ms| {
            ms.into_iter()
                .map(|(m, at)| match self.table.model(&m) {
                    Some(model) => model.id.clone(),
                    None => {
                        let hint = self.table.suggestion(&m);
                        self.warn(
                            &at,
                            format!(
                                "model {m:?} is not in price table {}{hint}: no charge of it can be discounted",
                                self.table.version
                            ),
                        );
                        m
                    }
                })
                .collect::<Vec<_>>()
        });
        let categories = match self.strings(t, "categories", path) {
            None => Category::ALL
                .into_iter()
                .filter(|&c| models.is_none() || is_token_charge(c))
                .collect(),
            Some(names) => {
                let mut cats = Vec::new();
                for (n, at) in names {
                    let cs = categories_of(&n);
                    if cs.is_empty() {
                        let known = category_names();
                        let hint = did_you_mean(&n, &known)
                            .map(|s| format!(" (did you mean `{s}`?)"))
                            .unwrap_or_default();
                        self.error(
                            &at,
                            format!("unknown category {n:?}{hint}; known: {}", known.join(", ")),
                        );
                    } else if models.is_some() && !is_token_charge(cs[0]) {
                        self.error(
                            &at,
                            format!("{n} is priced the same for every model: a discount with `models` covers token charges only"),
                        );
                    }
                    cats.extend(cs);
                }
                cats.sort();
                cats.dedup();
                cats
            }
        };
        Some(Discount {
            effective: effective?,
            until,
            fraction: fraction?,
            percent: percent?,
            models,
            categories,
        })
    }

    fn commitment(&mut self, path: &str, t: &Table) -> Option<Commitment> {
        self.known_keys(t, &COMMITMENT_KEYS, path);
        let effective = self.date(t, "effective", path, true);
        if let Some(e) = effective.filter(|e| e.day() != 1) {
            self.error(
                &format!("{path}.effective"),
                format!("{e} is not the first day of a month: a monthly minimum applies to whole months"),
            );
        }
        let monthly_minimum = self.usd(t, "monthly_minimum_usd", path);
        Some(Commitment {
            effective: effective?,
            monthly_minimum: monthly_minimum?,
        })
    }

    fn credit(&mut self, path: &str, t: &Table) -> Option<Credit> {
        self.known_keys(t, &CREDIT_KEYS, path);
        let effective = self.date(t, "effective", path, true);
        let expires = self.date(t, "expires", path, true);
        if let (Some(e), Some(x)) = (effective, expires) {
            if x < e {
                self.error(
                    &format!("{path}.expires"),
                    format!("{x} is before effective {e}"),
                );
            }
        }
        let amount = self.usd(t, "amount_usd", path);
        Some(Credit {
            effective: effective?,
            expires: expires?,
            amount: amount?,
        })
    }
}

/// Two discounts that could both apply to one charge: the first charge they share.
fn overlap(a: &Discount, b: &Discount) -> Option<String> {
    let end = |d: &Discount| d.until.unwrap_or(NaiveDate::MAX);
    if a.effective >= end(b) || b.effective >= end(a) {
        return None;
    }
    let category = a.categories.iter().find(|c| b.categories.contains(c))?;
    let model = match (&a.models, &b.models) {
        (None, None) => "every model".to_string(),
        (Some(m), None) | (None, Some(m)) => m.first()?.clone(),
        (Some(x), Some(y)) => x.iter().find(|m| y.contains(m))?.clone(),
    };
    Some(format!(
        "{} of {model} from {}",
        category.key(),
        a.effective.max(b.effective)
    ))
}

/// A TOML file with a contract's rows (for a hint when one is given to `pricing check`).
pub fn looks_like_contract(text: &str) -> bool {
    text.parse::<Table>().is_ok_and(|t| {
        ["discount", "commitment", "credit"]
            .iter()
            .any(|k| t.contains_key(*k))
    })
}

impl Contract {
    /// Parse and list every problem (errors make the contract unusable; models that are not
    /// in `table` are warnings). The contract is returned when it has no error.
    pub fn parse_and_check(
        text: &str,
        origin: &str,
        table: &PriceTable,
    ) -> (Option<Contract>, Vec<Problem>) {
        let mut c = Checker {
            table,
            problems: Vec::new(),
        };
        let root: Table = match text.parse::<Table>() {
            Ok(t) => t,
            Err(e) => {
                let line = e
                    .span()
                    .map(|s| format!("line {}", text[..s.start].matches('\n').count() + 1))
                    .unwrap_or_else(|| "TOML".into());
                c.error(&line, e.message().trim());
                return (None, c.problems);
            }
        };
        c.known_keys(&root, &TOP_KEYS, "");
        match root.get("schema") {
            Some(Value::Integer(1)) => {}
            Some(v) => c.error(
                "schema",
                format!("{v} is not supported (this agentmeter reads schema 1)"),
            ),
            None => c.error("schema", "missing (schema = 1)"),
        }
        let name = match root.get("name") {
            Some(v) => c.string(v, "name").unwrap_or_default().to_string(),
            None => {
                c.error("name", "missing (the contract's name, e.g. \"acme-2026\")");
                String::new()
            }
        };
        if root.contains_key("name") && (name.trim().is_empty() || name.contains(['@', ' '])) {
            c.error(
                "name",
                format!("{name:?} must be non-empty, without spaces or '@'"),
            );
        }
        match root.get("currency") {
            None => {}
            Some(Value::String(s)) if s == "USD" => {}
            Some(v) => c.error("currency", format!("{v} is not supported (only \"USD\")")),
        }
        let discounts: Vec<(String, Option<Discount>)> = c
            .rows(&root, "discount")
            .into_iter()
            .map(|(p, t)| {
                let d = c.discount(&p, t);
                (p, d)
            })
            .collect();
        for (i, (pi, a)) in discounts.iter().enumerate() {
            for (pj, b) in &discounts[..i] {
                if let (Some(a), Some(b)) = (a, b) {
                    if let Some(on) = overlap(a, b) {
                        c.error(
                            pi,
                            format!("overlaps {pj} on {on}: a charge takes one discount (end one with `until`, or narrow `models`/`categories`)"),
                        );
                    }
                }
            }
        }
        let commitments: Vec<Option<Commitment>> = c
            .rows(&root, "commitment")
            .into_iter()
            .map(|(p, t)| c.commitment(&p, t))
            .collect();
        let dates: Vec<NaiveDate> = commitments.iter().flatten().map(|x| x.effective).collect();
        if dates.windows(2).any(|w| w[1] <= w[0]) {
            c.error(
                "commitment",
                "rows must be sorted by effective, each date once (a later row replaces an earlier one)",
            );
        }
        let credits: Vec<Option<Credit>> = c
            .rows(&root, "credit")
            .into_iter()
            .map(|(p, t)| c.credit(&p, t))
            .collect();
        let has_errors = c.problems.iter().any(|p| p.level == Level::Error);
        let contract = (!has_errors).then(|| Contract {
            version: crate::pricing::version_of(&name, text),
            name,
            origin: origin.to_string(),
            text: text.to_string(),
            discounts: discounts.into_iter().filter_map(|(_, d)| d).collect(),
            commitments: commitments.into_iter().flatten().collect(),
            credits: credits.into_iter().flatten().collect(),
        });
        c.problems.sort_by_key(|p| p.level);
        (contract, c.problems)
    }

    /// `--contract FILE`: the contract and its warnings; any error fails the load.
    pub fn load(path: &Path, table: &PriceTable) -> Result<(Contract, Vec<String>)> {
        let text = crate::files::read_small(path)?;
        let origin = path.display().to_string();
        let (contract, problems) = Self::parse_and_check(&text, &origin, table);
        let errors: Vec<&Problem> = problems
            .iter()
            .filter(|p| p.level == Level::Error)
            .collect();
        match (contract, errors.first()) {
            (Some(c), None) => {
                let warnings = problems
                    .iter()
                    .map(|p| format!("warning: {origin}: {}", p.message))
                    .collect();
                Ok((c, warnings))
            }
            (_, first) => {
                let msg = first.map_or("invalid contract", |p| p.message.as_str());
                let more = match errors.len() {
                    0 | 1 => String::new(),
                    n => format!(" (and {} more problem(s))", n - 1),
                };
                Err(
                    Error::new(format!("{origin}: {msg}{more}")).with_hint(format!(
                        "run `agentmeter contract check {origin}` to list every problem"
                    )),
                )
            }
        }
    }

    /// The discount row that applies to a charge of `category` and `model` (a canonical id)
    /// on the UTC `day`, as rating applies it to a line item.
    pub fn discount_for(
        &self,
        category: Category,
        model: Option<&str>,
        day: NaiveDate,
    ) -> Option<usize> {
        self.discounts.iter().position(|d| {
            d.effective <= day
                && d.until.is_none_or(|u| day < u)
                && d.categories.contains(&category)
                && match &d.models {
                    None => true,
                    Some(ms) => model.is_some_and(|m| ms.iter().any(|x| x == m)),
                }
        })
    }

    /// The monthly minimum in force in the month starting `first`, and its row.
    pub fn commitment_for(&self, first: NaiveDate) -> Option<(usize, Decimal)> {
        let n = self.commitments.partition_point(|c| c.effective <= first);
        let i = n.checked_sub(1)?;
        Some((i, self.commitments[i].monthly_minimum))
    }

    /// What is paid of a list amount of `category` and `model` on the UTC `day`: the list
    /// amount less the discount in force, and the discount row.
    pub fn terms(
        &self,
        category: Category,
        model: Option<&str>,
        day: NaiveDate,
        list: Decimal,
    ) -> ItemTerms {
        let discount = self.discount_for(category, model, day);
        let amount = match discount {
            Some(d) => list * (Decimal::ONE - self.discounts[d].fraction),
            None => list,
        };
        ItemTerms { amount, discount }
    }

    /// The share of the list price that is paid for a charge (1 less the discount in force).
    pub fn kept(&self, category: Category, model: Option<&str>, day: NaiveDate) -> Decimal {
        match self.discount_for(category, model, day) {
            Some(d) => Decimal::ONE - self.discounts[d].fraction,
            None => Decimal::ONE,
        }
    }

    /// `discount[0]@2026-01-01`: the row a changed amount comes from.
    pub fn discount_ref(&self, i: usize) -> String {
        format!("discount[{i}]@{}", self.discounts[i].effective)
    }
    pub fn commitment_ref(&self, i: usize) -> String {
        format!("commitment[{i}]@{}", self.commitments[i].effective)
    }
    pub fn credit_ref(&self, i: usize) -> String {
        format!("credit[{i}]@{}", self.credits[i].effective)
    }
}

/// One line item under the contract.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemTerms {
    /// The contracted amount: list less the discount.
    pub amount: Decimal,
    /// The discount row applied, if any.
    pub discount: Option<usize>,
}

/// A session's line items under the contract (aligned with its `items`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionTerms {
    pub items: Vec<ItemTerms>,
    pub cost: Cost,
}

/// One UTC calendar month of the bill.
#[derive(Clone, Debug, PartialEq)]
pub struct Month {
    pub first: NaiveDate,
    pub list: Decimal,
    pub contracted: Decimal,
    /// The commitment row in force and its minimum.
    pub commitment: Option<(usize, Decimal)>,
    pub shortfall: Decimal,
    /// Credit rows used this month, and how much of each.
    pub credits: Vec<(usize, Decimal)>,
    pub billed: Decimal,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreditBalance {
    pub used: Decimal,
    pub remaining: Decimal,
}

/// What the sessions cost under a contract.
#[derive(Clone, Debug, PartialEq)]
pub struct Billing<'c> {
    pub contract: &'c Contract,
    /// Aligned with the sessions.
    pub sessions: Vec<SessionTerms>,
    pub contracted: Cost,
    /// Every month from the first to the last with usage, in order.
    pub months: Vec<Month>,
    /// Aligned with the contract's credits.
    pub credits: Vec<CreditBalance>,
    pub shortfall: Decimal,
    pub credits_used: Decimal,
    /// Contracted + shortfall - credits used: what the user pays.
    pub billed: Decimal,
}

fn utc_date(ms: Millis) -> NaiveDate {
    crate::time::to_datetime(ms).date_naive()
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

fn next_month(first: NaiveDate) -> NaiveDate {
    first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(NaiveDate::MAX)
}

/// Apply `contract` to rated sessions (their line items must be kept). A charge's day and
/// month are the UTC date of its first instant.
pub fn apply<'c>(contract: &'c Contract, sessions: &[RatedSession]) -> Billing<'c> {
    let mut contracted = Cost::default();
    // Per UTC day: (list, contracted).
    let mut days: BTreeMap<NaiveDate, (Decimal, Decimal)> = BTreeMap::new();
    let terms: Vec<SessionTerms> = sessions
        .iter()
        .map(|s| {
            let mut st = SessionTerms::default();
            for i in &s.items {
                let day = utc_date(i.start);
                let t = contract.terms(i.category, i.model.as_deref(), day, i.amount);
                st.cost.add_item(i.category, t.amount);
                let e = days.entry(day).or_default();
                e.0 += i.amount;
                e.1 += t.amount;
                st.items.push(t);
            }
            contracted += st.cost;
            st
        })
        .collect();
    let (months, credits) = bill_days(contract, &days);
    let shortfall = months.iter().map(|m| m.shortfall).sum();
    let credits_used: Decimal = months.iter().flat_map(|m| &m.credits).map(|u| u.1).sum();
    Billing {
        contract,
        sessions: terms,
        billed: contracted.total() + shortfall - credits_used,
        contracted,
        months,
        credits,
        shortfall,
        credits_used,
    }
}

/// The monthly terms on amounts per UTC day (list, contracted): every month from the first
/// day's to the last day's, each with the shortfall under its commitment and the credits it
/// used (oldest first, each within its dates; a shortfall is charged on the month's last
/// day), and what is left of each credit. `apply` bills metered usage with it, and a
/// projection its expected days.
pub fn bill_days(
    contract: &Contract,
    days: &BTreeMap<NaiveDate, (Decimal, Decimal)>,
) -> (Vec<Month>, Vec<CreditBalance>) {
    // Credits are used oldest first (by effective, then file order).
    let mut order: Vec<usize> = (0..contract.credits.len()).collect();
    order.sort_by_key(|&i| (contract.credits[i].effective, i));
    let mut left: Vec<Decimal> = contract.credits.iter().map(|c| c.amount).collect();
    let mut months = Vec::new();
    if let (Some(&first), Some(&last)) = (days.keys().next(), days.keys().next_back()) {
        let mut m = first_of_month(first);
        while m <= last {
            let end = next_month(m);
            let in_month: Vec<(NaiveDate, Decimal, Decimal)> =
                days.range(m..end).map(|(d, (l, c))| (*d, *l, *c)).collect();
            let list: Decimal = in_month.iter().map(|x| x.1).sum();
            let owed: Decimal = in_month.iter().map(|x| x.2).sum();
            let commitment = contract.commitment_for(m);
            let shortfall =
                commitment.map_or(Decimal::ZERO, |(_, min)| (min - owed).max(Decimal::ZERO));
            // The shortfall is billed on the month's last day, after its usage.
            let last_day = end.pred_opt().unwrap_or(m);
            let charges = in_month
                .iter()
                .map(|x| (x.0, x.2))
                .chain((shortfall > Decimal::ZERO).then_some((last_day, shortfall)));
            let mut used: Vec<(usize, Decimal)> = Vec::new();
            for (day, mut rest) in charges {
                for &k in &order {
                    let c = &contract.credits[k];
                    if rest.is_zero() {
                        break;
                    }
                    if left[k].is_zero() || day < c.effective || day > c.expires {
                        continue;
                    }
                    let take = rest.min(left[k]);
                    left[k] -= take;
                    rest -= take;
                    match used.iter_mut().find(|u| u.0 == k) {
                        Some(u) => u.1 += take,
                        None => used.push((k, take)),
                    }
                }
            }
            used.sort_by_key(|u| u.0);
            let credited: Decimal = used.iter().map(|u| u.1).sum();
            months.push(Month {
                first: m,
                list,
                contracted: owed,
                commitment,
                shortfall,
                billed: owed + shortfall - credited,
                credits: used,
            });
            m = end;
        }
    }
    let credits = contract
        .credits
        .iter()
        .zip(&left)
        .map(|(c, l)| CreditBalance {
            used: c.amount - l,
            remaining: *l,
        })
        .collect();
    (months, credits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str) -> (Option<Contract>, Vec<Problem>) {
        let table = PriceTable::bundled().unwrap();
        Contract::parse_and_check(
            &format!("schema = 1\nname = \"t\"\ncurrency = \"USD\"\n{body}"),
            "c.toml",
            &table,
        )
    }

    fn errors(body: &str) -> Vec<String> {
        check(body)
            .1
            .into_iter()
            .filter(|p| p.level == Level::Error)
            .map(|p| p.message)
            .collect()
    }

    #[test]
    fn the_example_file_parses() {
        let table = PriceTable::bundled().unwrap();
        let text = include_str!("../../../contracts/example.toml");
        let (c, p) = Contract::parse_and_check(text, "contracts/example.toml", &table);
        assert!(p.is_empty(), "{p:#?}");
        let c = c.unwrap();
        assert_eq!(c.discounts[0].fraction, Decimal::new(15, 2));
        assert_eq!(c.commitments[0].monthly_minimum, Decimal::from(5000));
        assert!(c.version.starts_with("acme-2026@"));
    }

    #[test]
    fn discounts_overlap_only_on_a_shared_charge() {
        let d = |eff: &str, extra: &str| {
            format!("[[discount]]\neffective = \"{eff}\"\npercent = \"5%\"\n{extra}")
        };
        // Other models, other categories, or one ending where the other starts: no overlap.
        for body in [
            d("2026-01-01", "models = [\"claude-opus-4-6\"]\n")
                + &d("2026-01-01", "models = [\"claude-sonnet-4-6\"]\n"),
            d("2026-01-01", "categories = [\"runtime\"]\n")
                + &d("2026-01-01", "models = [\"claude-opus-4-6\"]\n"),
            d("2026-01-01", "until = \"2026-03-01\"\n") + &d("2026-03-01", ""),
        ] {
            assert!(errors(&body).is_empty(), "{body}: {:?}", errors(&body));
        }
        let e = errors(
            &(d("2026-01-01", "categories = [\"cache_write\"]\n")
                + &d("2026-02-01", "categories = [\"cache_write_1h\"]\n")),
        );
        assert!(
            e[0].contains("discount[1]: overlaps discount[0] on cache_write_1h of every model from 2026-02-01"),
            "{e:?}"
        );
    }

    #[test]
    fn strictness_names_the_key_path() {
        let d = "[[discount]]\neffective = \"2026-01-01\"\n";
        let e = errors(&format!("{d}percent = \"150%\"\n"));
        assert!(
            e[0].contains("discount[0].percent: \"150%\" is outside"),
            "{e:?}"
        );
        let (_, p) = Contract::parse_and_check(
            "schema = 1\nname = \"\"\n",
            "c.toml",
            &PriceTable::bundled().unwrap(),
        );
        assert!(
            p[0].message.starts_with("name: \"\" must be non-empty"),
            "{p:?}"
        );
        let e = errors(&format!("{d}percent = \"15\"\n"));
        assert!(e[0].contains("needs a % sign"), "{e:?}");
        let e = errors(&format!("{d}percent = \"5%\"\nuntil = \"2026-01-01\"\n"));
        assert!(
            e[0].contains("discount[0].until: 2026-01-01 is not after"),
            "{e:?}"
        );
        let e = errors(&format!("{d}percent = \"5%\"\nmodel = [\"x\"]\n"));
        assert!(
            e[0].contains("discount[0].model: unknown key (did you mean `models`?)"),
            "{e:?}"
        );
        let e = errors(&format!("{d}percent = \"5%\"\ncategories = [\"outptu\"]\n"));
        assert!(e[0].contains("(did you mean `output`?)"), "{e:?}");
        let e = errors("[[credit]]\neffective = \"2026-01-01\"\nexpires = \"2026-02-01\"\namount_usd = \"-5\"\n");
        assert!(
            e[0].contains("credit[0].amount_usd: must not be negative"),
            "{e:?}"
        );
        let e = errors("[[commitment]]\neffective = \"2026-01-02\"\nmonthly_minimum_usd = 10.5\n");
        assert_eq!(e.len(), 2, "{e:?}");
        let e = errors(&format!(
            "{d}percent = \"5%\"\nmodels = [\"claude-opus-4-6\"]\ncategories = [\"runtime\"]\n"
        ));
        assert!(
            e[0].contains("discount[0].categories[0]: runtime is priced the same for every model"),
            "{e:?}"
        );
        let (c, p) = check(&format!(
            "{d}percent = \"5%\"\nmodels = [\"claude-opus-4-66\"]\n"
        ));
        assert!(c.is_some());
        assert!(
            p[0].level == Level::Warning && p[0].message.contains("did you mean"),
            "{p:?}"
        );
    }
}
