//! The CI cost gate: a baseline of task costs (with the usage and the price table behind
//! them), and a check of a new run against it. The change is split into a volume part (usage
//! changed, priced at the baseline's prices) and a price part (prices changed, on today's
//! usage) that add up exactly, so a price-table update never reads as a regression.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{task_of, TaskKey, TASK_KEY_PATTERN};
use crate::category::Category;
use crate::contract::{self, Contract};
use crate::error::{Error, Result};
use crate::pricing::PriceTable;
use crate::rate::Rater;
use crate::schema::Exact;
use crate::time::Zone;
use crate::usage::SessionUsage;

agentmeter_core::schema_tag!(
    /// The schema string of a baseline.
    pub BaselineV1 = "agentmeter/baseline-v1"
);

pub const BASELINE_SCHEMA: &str = BaselineV1::NAME;

/// One task of a baseline.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "baseline_task")]
pub struct BaselineTask {
    /// The task key.
    pub task: String,
    /// Its sessions.
    #[schemars(range(min = 1))]
    pub sessions: usize,
    /// Their exact cost at the baseline's prices, USD.
    #[schemars(with = "Exact")]
    pub cost: String,
    /// What each of its sessions used (the rater's input).
    pub usage: Vec<SessionUsage>,
}

/// The price table the tasks were priced with.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "baseline_pricing")]
pub struct BaselinePricing {
    /// The table's name.
    pub name: String,
    /// The table's version: its name, `@` and the first 8 hex digits of its file's SHA-256.
    pub version: String,
    /// The whole price table (TOML), so a later check can price new usage at these prices.
    pub table: String,
}

/// The contract a baseline was priced under (`baseline --contract`): its costs are what the
/// user pays, and a check prices the baseline's side under it again.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct BaselineContract {
    /// The contract's name.
    pub name: String,
    /// The contract's version (a hash of its content).
    pub version: String,
    /// The whole contract file.
    pub text: String,
}

/// The file `agentmeter baseline -o FILE` writes and `agentmeter check --baseline FILE`
/// reads: each task's cost with the usage behind it and the whole price table that priced it,
/// so a later check can split a change into volume and price. Amounts are USD as exact
/// decimal strings; instants in `usage` are integer milliseconds since the Unix epoch.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Baseline {
    /// The schema of this document (a baseline of another schema is refused).
    #[schemars(with = "BaselineV1")]
    pub schema: String,
    /// When it was written, RFC 3339 in UTC to the second.
    #[schemars(pattern(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"))]
    pub created_at: String,
    /// The agentmeter version that wrote it.
    pub agentmeter_version: String,
    /// The commit of the git checkout it was written in, if any.
    pub git_commit: Option<String>,
    /// The task key sessions were grouped by (--key).
    #[schemars(pattern(TASK_KEY_PATTERN))]
    pub key: String,
    /// The price table the tasks were priced with.
    pub pricing: BaselinePricing,
    /// The contract the costs are under (what the user pays); left out at list prices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<BaselineContract>,
    /// The sum of the tasks' costs, USD: at list prices, or under `contract` what the user
    /// pays.
    #[schemars(with = "Exact")]
    pub total: String,
    /// Each task, sorted by its key.
    pub tasks: Vec<BaselineTask>,
}

impl Baseline {
    /// The contract the baseline recorded, checked again against its own price table.
    pub fn contract(&self, table: &PriceTable) -> Result<Option<Contract>> {
        let Some(c) = &self.contract else {
            return Ok(None);
        };
        let origin = format!("the baseline's contract ({})", c.version);
        let (contract, problems) = Contract::parse_and_check(&c.text, &origin, table);
        match contract {
            Some(k) => Ok(Some(k)),
            None => {
                let first = problems.first().map_or("invalid", |p| p.message.as_str());
                Err(Error::new(format!("{origin}: {first}")).with_hint(
                    "write a new baseline with `agentmeter baseline PATH... --contract FILE -o baseline.json`",
                ))
            }
        }
    }
}

/// Sessions grouped by task; sessions without a key are returned apart.
pub fn by_task(
    sessions: Vec<SessionUsage>,
    key: &TaskKey,
) -> (BTreeMap<String, Vec<SessionUsage>>, Vec<String>) {
    let mut tasks: BTreeMap<String, Vec<SessionUsage>> = BTreeMap::new();
    let mut no_key = Vec::new();
    for s in sessions {
        match task_of(&s, key) {
            Some(t) => tasks.entry(t).or_default().push(s),
            None => no_key.push(s.session_id.to_string()),
        }
    }
    super::warn_crowded("the run", key, tasks.iter().map(|(k, v)| (k, v.len())));
    (tasks, no_key)
}

/// The exact cost of some usage under a table; `Err` names what could not be priced.
pub fn cost_of(usage: &[SessionUsage], table: &PriceTable) -> Result<Decimal> {
    Ok(cost_under(usage, table, None)?.paid)
}

/// What some usage costs at a table's list prices, and what the user pays for it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Costs {
    pub list: Decimal,
    /// Under a contract: the list amounts less its discounts (a contract's commitments and
    /// credits are monthly terms of the account, not of some usage); else the list.
    pub paid: Decimal,
}

/// The exact cost of some usage under a table and, if given, a contract's discounts.
pub fn cost_under(
    usage: &[SessionUsage],
    table: &PriceTable,
    contract: Option<&Contract>,
) -> Result<Costs> {
    let rater = Rater::new(table, Zone::default());
    let mut c = Costs::default();
    for u in usage {
        let (r, problems) = rater.rate(u.clone());
        if let Some(p) = problems.first() {
            return Err(p.to_error());
        }
        c.list += r.cost.total();
        c.paid += match contract {
            Some(k) => contract::apply(k, std::slice::from_ref(&r))
                .contracted
                .total(),
            None => r.cost.total(),
        };
    }
    Ok(c)
}

/// The commit of the git checkout around the current directory, if any.
pub fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The baseline of a run: each task's usage and cost, at `table`'s prices and, with
/// `contract`, under its discounts (what the user pays). Also the list total.
pub fn baseline(
    sessions: Vec<SessionUsage>,
    key: &TaskKey,
    table: &PriceTable,
    contract: Option<&Contract>,
) -> Result<(Baseline, Vec<String>, Decimal)> {
    let (tasks, no_key) = by_task(sessions, key);
    let mut out = Vec::new();
    let mut total = Costs::default();
    for (task, usage) in tasks {
        let cost = cost_under(&usage, table, contract)?;
        total.list += cost.list;
        total.paid += cost.paid;
        out.push(BaselineTask {
            task,
            sessions: usage.len(),
            cost: crate::money::exact(cost.paid),
            usage,
        });
    }
    Ok((
        Baseline {
            schema: BASELINE_SCHEMA.into(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            agentmeter_version: env!("CARGO_PKG_VERSION").into(),
            git_commit: git_commit(),
            key: key.to_string(),
            pricing: BaselinePricing {
                name: table.name.clone(),
                version: table.version.clone(),
                table: table.text.to_string(),
            },
            contract: contract.map(|c| BaselineContract {
                name: c.name.clone(),
                version: c.version.clone(),
                text: c.text.clone(),
            }),
            total: crate::money::exact(total.paid),
            tasks: out,
        },
        no_key,
        total.list,
    ))
}

/// A baseline larger than this is refused before it is read.
pub const MAX_BASELINE_BYTES: u64 = 256 << 20;
/// The instants a baseline may hold: 1970-01-01 to 9999-12-31 (UTC), in ms.
const MAX_INSTANT_MS: i64 = 253_402_300_799_999;
/// A session's running time at most (ten years): the rater cuts it per day.
const MAX_RUNNING_MS: i64 = 3_653 * 86_400_000;
/// Tokens of one request in any category at most (a thousand 1M-token contexts).
const MAX_REQUEST_TOKENS: u64 = 1_000_000_000;

pub fn read_baseline(path: &std::path::Path) -> Result<Baseline> {
    let text = crate::files::read_text(path, MAX_BASELINE_BYTES, "a baseline")?;
    parse_baseline(&text, &path.display().to_string())
}

/// A baseline-v1 document, every quantity checked into its bound (a baseline is a file
/// format: what a hand edit or an attacker writes must fail clearly, not hang the rater).
pub fn parse_baseline(text: &str, origin: &str) -> Result<Baseline> {
    let b = parse_baseline_unchecked(text, origin)?;
    validate(&b).map_err(|(at, msg)| {
        Error::new(format!("{origin}: {at}: {msg}"))
            .with_hint("write a new baseline with `agentmeter baseline PATH... -o baseline.json`")
    })?;
    Ok(b)
}

fn validate(b: &Baseline) -> std::result::Result<(), (String, String)> {
    let amount = |at: String, s: &str| {
        Decimal::from_str(s.trim())
            .map(|_| ())
            .map_err(|_| (at, format!("{s:?} is not an amount in dollars")))
    };
    amount("total".into(), &b.total)?;
    let instant = |at: &dyn Fn() -> String, ms: i64| {
        if (0..=MAX_INSTANT_MS).contains(&ms) {
            Ok(())
        } else {
            Err((
                at(),
                format!("{ms} ms is not an instant between 1970 and 9999"),
            ))
        }
    };
    for (ti, t) in b.tasks.iter().enumerate() {
        amount(format!("tasks[{ti}].cost"), &t.cost)?;
        if t.sessions != t.usage.len() {
            return Err((
                format!("tasks[{ti}].sessions"),
                format!(
                    "{} but the task has {} session(s) of usage",
                    t.sessions,
                    t.usage.len()
                ),
            ));
        }
        for (ui, u) in t.usage.iter().enumerate() {
            let at = format!("tasks[{ti}].usage[{ui}]");
            for (k, v) in [
                ("first_event_at", u.first_event_at),
                ("last_event_at", u.last_event_at),
            ] {
                if let Some(ms) = v {
                    instant(&|| format!("{at}.{k}"), ms)?;
                }
            }
            let mut prev_end = 0;
            let mut running = 0i64;
            for (ii, iv) in u.running.iter().enumerate() {
                let here = || format!("{at}.running[{ii}]");
                instant(&|| format!("{}.start", here()), iv.start)?;
                instant(&|| format!("{}.end", here()), iv.end)?;
                if iv.start < prev_end || iv.end < iv.start {
                    return Err((
                        here(),
                        "intervals must be sorted, disjoint and end after they start".into(),
                    ));
                }
                prev_end = iv.end;
                running += iv.ms();
                if running > MAX_RUNNING_MS {
                    return Err((
                        here(),
                        format!("the session runs more than {MAX_RUNNING_MS} ms (ten years)"),
                    ));
                }
            }
            for (ri, r) in u.requests.iter().enumerate() {
                let here = format!("{at}.requests[{ri}]");
                instant(&|| format!("{here}.at"), r.at)?;
                let t = &r.tokens;
                for (k, n) in Category::tokens().map(|c| (c.key(), t.get(c))) {
                    if n > MAX_REQUEST_TOKENS {
                        return Err((
                            format!("{here}.tokens.{k}"),
                            format!("{n} is more than {MAX_REQUEST_TOKENS} tokens for one request"),
                        ));
                    }
                }
            }
            for (si, w) in u.web_searches.iter().enumerate() {
                instant(&|| format!("{at}.web_searches[{si}].at"), w.at)?;
            }
        }
    }
    Ok(())
}

fn parse_baseline_unchecked(text: &str, origin: &str) -> Result<Baseline> {
    // The schema first, without building the document as a `Value` (several times its size).
    #[derive(Deserialize)]
    struct Schema {
        schema: Option<serde_json::Value>,
    }
    let head: Schema = serde_json::from_str(text)
        .map_err(|e| Error::new(format!("{origin}: not a JSON baseline: {e}")))?;
    let schema = head
        .schema
        .as_ref()
        .and_then(|s| s.as_str())
        .unwrap_or("(none)");
    if schema != BASELINE_SCHEMA {
        return Err(Error::new(format!("{origin}: baseline schema {schema:?} is not {BASELINE_SCHEMA:?}"))
            .with_hint("write a new baseline with this agentmeter: `agentmeter baseline PATH... -o baseline.json`"));
    }
    serde_json::from_str(text).map_err(|e| Error::new(format!("{origin}: malformed baseline: {e}")))
}

/// A threshold on the change.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limits {
    /// As a fraction of the baseline (0.10 = 10%).
    pub max_increase: Option<Decimal>,
    pub max_increase_usd: Option<Decimal>,
    /// On the current cost itself.
    pub budget: Option<Decimal>,
}

impl Limits {
    /// Fill what `self` leaves open from `other`.
    pub fn or(self, other: Limits) -> Limits {
        Limits {
            max_increase: self.max_increase.or(other.max_increase),
            max_increase_usd: self.max_increase_usd.or(other.max_increase_usd),
            budget: self.budget.or(other.budget),
        }
    }
}

/// The largest thresholds taken: far past any real limit, and far inside a Decimal.
const MAX_PERCENT: i64 = 1_000_000;
const MAX_USD: i64 = 1_000_000_000_000;

/// "10%" -> 0.10. A bare number is refused: is `10` ten percent or ten dollars?
pub fn parse_percent(what: &str, s: &str) -> Result<Decimal> {
    let t = s.trim();
    let Some(n) = t.strip_suffix('%') else {
        return Err(Error::new(format!(
            "{what} {s:?}: write a percentage such as \"10%\" (for dollars use --max-increase-usd)"
        )));
    };
    let v = Decimal::from_str(n.trim())
        .map_err(|_| Error::new(format!("{what} {s:?} is not a percentage")))?;
    if v.is_sign_negative() {
        return Err(Error::new(format!("{what} {s:?} must not be negative")));
    }
    if v > Decimal::from(MAX_PERCENT) {
        return Err(Error::new(format!(
            "{what} {s:?} is more than {MAX_PERCENT}%"
        )));
    }
    Ok(v / Decimal::ONE_HUNDRED)
}

/// "0.50" or "$0.50" -> 0.50. A percentage is refused.
pub fn parse_usd(what: &str, s: &str) -> Result<Decimal> {
    let t = s.trim();
    if t.ends_with('%') {
        return Err(Error::new(format!(
            "{what} {s:?} is a percentage; it takes dollars such as \"0.50\""
        )));
    }
    let v = Decimal::from_str(t.trim_start_matches('$').replace(',', "").trim())
        .map_err(|_| Error::new(format!("{what} {s:?} is not an amount in dollars")))?;
    if v.is_sign_negative() {
        return Err(Error::new(format!("{what} {s:?} must not be negative")));
    }
    if v > Decimal::from(MAX_USD) {
        return Err(Error::new(format!("{what} {s:?} is more than ${MAX_USD}")));
    }
    Ok(v)
}

/// An amount to the cent, or under a cent to two significant digits ($0.0042), so that no
/// change that is not zero reads as $0.00.
pub fn amount(d: Decimal) -> String {
    let a = d.abs();
    if a.is_zero() || a >= Decimal::new(1, 2) {
        return crate::money::usd(d);
    }
    // The place of the first significant digit: 10^-dp <= a (a Decimal is at least 1e-28).
    let mut dp = 3;
    while a < Decimal::new(1, dp) {
        dp += 1;
    }
    let r = a.round_dp_with_strategy(dp + 1, RoundingStrategy::MidpointAwayFromZero);
    let sign = if d.is_sign_negative() { "-" } else { "" };
    format!("{sign}${}", r.normalize())
}

/// One task's (or the total's) change.
#[derive(Clone, Debug, PartialEq)]
pub struct Delta {
    pub task: String,
    pub baseline: Decimal,
    pub current: Decimal,
    /// Current usage at the baseline's prices, minus the baseline.
    pub volume: Decimal,
    /// Current usage at today's prices, minus at the baseline's.
    pub price: Decimal,
    /// Which thresholds failed, in words.
    pub failed: Vec<String>,
    /// When a contract prices either side, the amounts above are what the user pays; these
    /// are the same two at list prices.
    pub list: Option<AtList>,
}

/// A task's baseline and current cost at list prices (beside the contracted ones).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AtList {
    pub baseline: Decimal,
    pub current: Decimal,
}

impl Delta {
    pub fn change(&self) -> Decimal {
        self.current - self.baseline
    }

    /// Check `limits`; thresholds on the increase apply to the volume part only.
    pub fn check(&mut self, limits: &Limits) {
        if let Some(p) = limits.max_increase {
            // Checked: a tiny baseline and a large change must not overflow a Decimal.
            let allowed = self.baseline.checked_mul(p).unwrap_or(Decimal::MAX);
            if self.volume > allowed && (self.volume > Decimal::ZERO) {
                let pct = self
                    .volume
                    .checked_div(self.baseline)
                    .and_then(|r| r.checked_mul(Decimal::ONE_HUNDRED));
                let pct = match pct {
                    _ if self.baseline.is_zero() => "from nothing".to_string(),
                    Some(r) => format!("+{}%", r.round_dp(1).normalize()),
                    None => "from nearly nothing".to_string(),
                };
                self.failed.push(format!(
                    "volume {pct} > max increase {}%",
                    (p * Decimal::ONE_HUNDRED).normalize()
                ));
            }
        }
        if let Some(u) = limits.max_increase_usd {
            if self.volume > u {
                self.failed.push(format!(
                    "volume +{} > max increase {}",
                    amount(self.volume),
                    amount(u)
                ));
            }
        }
        if let Some(b) = limits.budget {
            if self.current > b {
                self.failed
                    .push(format!("{} > budget {}", amount(self.current), amount(b)));
            }
        }
    }
}

pub struct CheckResult {
    pub total: Delta,
    /// Tasks in both runs.
    pub tasks: Vec<Delta>,
    pub new_tasks: Vec<(String, Decimal)>,
    pub missing_tasks: Vec<(String, Decimal)>,
    pub no_key: Vec<String>,
    pub notes: Vec<String>,
}

impl CheckResult {
    pub fn passed(&self) -> bool {
        self.total.failed.is_empty() && self.tasks.iter().all(|t| t.failed.is_empty())
    }
}

pub struct CheckOptions {
    pub key: TaskKey,
    pub total_limits: Limits,
    /// Per-task limits (None: tasks are not checked one by one).
    pub per_task: Option<(Limits, BTreeMap<String, Limits>)>,
    /// A task whose volume part is under this many dollars fails no increase threshold
    /// (a sub-cent move is noise, whatever its percentage); the total is judged as it is.
    pub ignore_below_usd: Decimal,
    pub reprice_baseline: bool,
    /// Today's contract (`check --contract`): today's usage is priced under it, and the
    /// amounts judged are what the user pays.
    pub contract: Option<Contract>,
}

/// Current usage at a table's prices (and contract); usage the table cannot price (say, a
/// model it does not list) is priced at `fallback` (today's) instead, and said so.
fn cost_with_fallback(
    usage: &[SessionUsage],
    at: (&PriceTable, Option<&Contract>),
    fallback: Costs,
    notes: &mut Vec<String>,
    task: &str,
) -> Result<Costs> {
    match cost_under(usage, at.0, at.1) {
        Ok(c) => Ok(c),
        Err(e) => {
            notes.push(format!("task {task}: the baseline's price table cannot price today's usage ({}); its volume part uses today's prices", e.message));
            Ok(fallback)
        }
    }
}

/// What the contracts in play mean for the amounts, in words (none without a contract).
fn contract_notes(base: &Baseline, today: Option<&Contract>, reprice: bool) -> Vec<String> {
    let mut out = Vec::new();
    match (&base.contract, today) {
        (None, None) => {}
        (Some(b), None) if reprice => out.push(format!(
            "the baseline's contract {} is not used: --reprice-baseline prices both sides at today's list prices (no --contract)",
            b.version
        )),
        (_, Some(c)) if reprice => out.push(format!(
            "amounts are what the user pays under contract {} (its discounts; its commitments and credits are monthly terms of the account, not of a run): both sides priced under it",
            c.version
        )),
        (Some(b), Some(c)) => out.push(format!(
            "amounts are what the user pays (contract discounts; commitments and credits are monthly terms of the account, not of a run): the baseline's side under its contract {}, today's under {}",
            b.version, c.version
        )),
        (None, Some(c)) => out.push(format!(
            "amounts are what the user pays under contract {} (its discounts; its commitments and credits are monthly terms of the account, not of a run); the baseline recorded no contract, so its side is at list prices and the discounts show in the price part: write the baseline with --contract too",
            c.version
        )),
        (Some(b), None) => out.push(format!(
            "the baseline was priced under contract {}, today's usage at list prices (no --contract): the discounts lost show in the price part; pass --contract to judge what the user pays",
            b.version
        )),
    }
    out
}

pub fn check(
    base: &Baseline,
    current: Vec<SessionUsage>,
    today: &PriceTable,
    opts: &CheckOptions,
) -> Result<CheckResult> {
    if current.is_empty() {
        return Err(Error::new("the run has no sessions: nothing to check")
            .with_hint("check the PATHs given to `agentmeter check`"));
    }
    let base_table = PriceTable::parse(
        &base.pricing.table,
        &format!("the baseline's price table ({})", base.pricing.version),
    )?;
    // The baseline's prices are its table and its contract; today's are today's table and
    // --contract. With --reprice-baseline both sides are priced at today's.
    let base_contract = base.contract(&base_table)?;
    let today_contract = opts.contract.as_ref();
    let then = if opts.reprice_baseline {
        (today, today_contract)
    } else {
        (&base_table, base_contract.as_ref())
    };
    let with_list = base_contract.is_some() || today_contract.is_some();
    let (tasks, no_key) = by_task(current, &opts.key);
    let base_tasks: BTreeMap<&str, &BaselineTask> =
        base.tasks.iter().map(|t| (t.task.as_str(), t)).collect();
    if !base_tasks.is_empty() && !tasks.keys().any(|k| base_tasks.contains_key(k.as_str())) {
        return Err(Error::new(format!(
            "no task of the run is in the baseline (tasks keyed by {})",
            opts.key
        ))
        .with_hint("was the baseline made from the same tasks, with the same --key?"));
    }
    let mut notes = contract_notes(base, today_contract, opts.reprice_baseline);
    let mut deltas = Vec::new();
    let mut new_tasks = Vec::new();
    let mut total = Delta {
        task: "total".into(),
        baseline: Decimal::ZERO,
        current: Decimal::ZERO,
        volume: Decimal::ZERO,
        price: Decimal::ZERO,
        failed: Vec::new(),
        list: with_list.then_some(AtList::default()),
    };
    let add_list = |to: &mut Option<AtList>, baseline: Decimal, current: Decimal| {
        if let Some(l) = to {
            l.baseline += baseline;
            l.current += current;
        }
    };
    for (task, usage) in &tasks {
        let current = cost_under(usage, today, today_contract)?;
        let at_base = if opts.reprice_baseline {
            current
        } else {
            cost_with_fallback(usage, then, current, &mut notes, task)?
        };
        let baseline = match base_tasks.get(task.as_str()) {
            Some(b) => cost_under(&b.usage, then.0, then.1)?,
            None => {
                new_tasks.push((task.clone(), current.paid));
                Costs::default()
            }
        };
        let d = Delta {
            task: task.clone(),
            baseline: baseline.paid,
            current: current.paid,
            volume: at_base.paid - baseline.paid,
            price: current.paid - at_base.paid,
            failed: Vec::new(),
            list: with_list.then_some(AtList {
                baseline: baseline.list,
                current: current.list,
            }),
        };
        total.baseline += d.baseline;
        total.current += d.current;
        total.volume += d.volume;
        total.price += d.price;
        add_list(&mut total.list, baseline.list, current.list);
        if base_tasks.contains_key(task.as_str()) {
            deltas.push(d);
        }
    }
    let mut missing_tasks = Vec::new();
    for b in &base.tasks {
        if !tasks.contains_key(&b.task) {
            let cost = cost_under(&b.usage, then.0, then.1)?;
            total.baseline += cost.paid;
            total.volume -= cost.paid;
            add_list(&mut total.list, cost.list, Decimal::ZERO);
            missing_tasks.push((b.task.clone(), cost.paid));
        }
    }
    total.check(&opts.total_limits);
    if let Some((default, overrides)) = &opts.per_task {
        for d in &mut deltas {
            let mut limits = overrides
                .get(&d.task)
                .copied()
                .unwrap_or_default()
                .or(*default);
            if d.volume < opts.ignore_below_usd {
                limits.max_increase = None;
                limits.max_increase_usd = None;
            }
            d.check(&limits);
        }
    }
    // Largest change first (what a reviewer reads first), then by name.
    deltas.sort_by(|a, b| {
        (b.change().abs().cmp(&a.change().abs())).then_with(|| a.task.cmp(&b.task))
    });
    debug_assert_eq!(total.volume + total.price, total.current - total.baseline);
    Ok(CheckResult {
        total,
        tasks: deltas,
        new_tasks,
        missing_tasks,
        no_key,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_parse_strictly() {
        assert_eq!(
            parse_percent("--max-increase", "10%").unwrap(),
            Decimal::new(10, 2)
        );
        assert!(parse_percent("--max-increase", "10")
            .unwrap_err()
            .message
            .contains("write a percentage"));
        assert_eq!(
            parse_usd("--budget", "$1,250.50").unwrap(),
            Decimal::new(125050, 2)
        );
        assert!(parse_usd("--max-increase-usd", "5%").is_err());
        assert!(parse_usd("--budget", "ten").is_err());
        assert!(
            parse_percent("--max-increase", "79228162514264337593543950335%")
                .unwrap_err()
                .message
                .contains("is more than 1000000%")
        );
        assert!(parse_usd("--budget", "1000000000001").is_err());
    }

    #[test]
    fn amounts_under_a_cent_keep_two_significant_digits() {
        let d = |s| Decimal::from_str(s).unwrap();
        // A cent or more: to the cent, half away from zero (0.0306 -> 0.03, 0.015 -> 0.02).
        assert_eq!(amount(d("0.0306")), "$0.03");
        assert_eq!(amount(d("-0.015")), "-$0.02");
        assert_eq!(amount(d("1234.5")), "$1,234.50");
        assert_eq!(amount(Decimal::ZERO), "$0.00");
        // Under: 0.0042 as is, 0.0006 without trailing zeros, 0.000123 -> 0.00012,
        // 0.00125 -> 0.0013 (half away), 0.00999 -> 0.010 -> $0.01, 1e-28 the smallest.
        assert_eq!(amount(d("0.0042")), "$0.0042");
        assert_eq!(amount(d("0.00060")), "$0.0006");
        assert_eq!(amount(d("-0.000123")), "-$0.00012");
        assert_eq!(amount(d("0.00125")), "$0.0013");
        assert_eq!(amount(d("0.00999")), "$0.01");
        assert_eq!(
            amount(Decimal::new(1, 28)),
            "$0.0000000000000000000000000001"
        );
    }

    #[test]
    fn a_huge_change_on_a_tiny_baseline_does_not_overflow() {
        // 1e16 / 1e-27 = 1e43, past a Decimal (7.9e28): said in words, and still a failure.
        let mut d = Delta {
            task: "t".into(),
            baseline: Decimal::new(1, 27),
            current: Decimal::from(10_000_000_000_000_000i64),
            volume: Decimal::from(10_000_000_000_000_000i64),
            price: Decimal::ZERO,
            failed: vec![],
            list: None,
        };
        d.check(&Limits {
            max_increase: Some(Decimal::from(10_000)),
            ..Default::default()
        });
        assert_eq!(
            d.failed,
            vec!["volume from nearly nothing > max increase 1000000%"]
        );
    }

    #[test]
    fn increase_thresholds_look_at_the_volume_part() {
        // Baseline 1.00, now 1.30: volume +0.05, price +0.25 (a price rise). 10% allows 0.10.
        let mut d = Delta {
            task: "t".into(),
            baseline: Decimal::ONE,
            current: Decimal::new(130, 2),
            volume: Decimal::new(5, 2),
            price: Decimal::new(25, 2),
            failed: vec![],
            list: None,
        };
        d.check(&Limits {
            max_increase: Some(Decimal::new(10, 2)),
            max_increase_usd: Some(Decimal::new(10, 2)),
            budget: None,
        });
        assert!(d.failed.is_empty(), "{:?}", d.failed);
        d.check(&Limits {
            budget: Some(Decimal::new(125, 2)),
            ..Default::default()
        });
        assert_eq!(d.failed, vec!["$1.30 > budget $1.25"]);
    }
}
