//! Rate: usage x price table -> line items. Each item names the price row that priced it.
//! The rater never sees a raw event: it works from [`SessionUsage`] records, whether the
//! meter or a projection made them.

use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::category::Unit;
use crate::error::Skipped;
use crate::pricing::{PriceTable, Rates, INFERENCE_GEO_US};
use crate::time::{format_ms, Millis, Zone};
use crate::usage::{Quantities, RequestUsage, SessionUsage, Speed, Tokens};

pub use crate::category::{Category, CostColumn, PerCategory, PerCostColumn};

/// A priced quantity: everything a session used in one category, on one local day, under
/// one model, agent and price row. (Items are per day so that day reports and exports need
/// no re-rating; their count grows with sessions and days, not with events.)
#[derive(Clone, Debug, PartialEq)]
pub struct LineItem {
    pub category: Category,
    /// The canonical model id (for runtime: the session's model).
    pub model: Option<Arc<str>>,
    pub agent: Option<Arc<str>>,
    /// The local date (in the rater's zone) of the usage.
    pub day: NaiveDate,
    /// First and last instant of the usage (`end` exclusive for runtime).
    pub start: Millis,
    pub end: Millis,
    pub quantity: u64,
    /// The rate applied, in the table's unit: USD per million tokens (after any multiplier),
    /// per hour of runtime, or per 1,000 searches.
    pub rate: Decimal,
    pub amount: Decimal,
    /// The `effective` instant of the price row that priced this item.
    pub price_effective: Millis,
}

/// A session's charges by cost column (cache writes of both TTLs together, as the schema has
/// it): `total()` sums them, `add_item` adds a line item's amount to its column.
pub type Cost = PerCostColumn<Decimal>;

#[derive(Clone, Debug)]
pub struct RatedSession {
    /// What the session used. Its per-request detail may have been shed (see
    /// [`RatedSession::shed_detail`]): read totals from `quantities`.
    pub usage: SessionUsage,
    /// The totals of the usage that was priced.
    pub quantities: Quantities,
    pub items: Vec<LineItem>,
    pub cost: Cost,
    /// Canonical ids of the models its requests were priced as.
    pub models: Vec<Arc<str>>,
    /// The last instant each model priced a request (for the note on prices newer than the
    /// table's `checked` date).
    pub model_last_at: Vec<(Arc<str>, Millis)>,
    /// Usage warnings, then rating warnings.
    pub warnings: Vec<String>,
    /// Advisor consultations by model (part of `cost`, shown on their own).
    pub advisor: Vec<AdvisorSpend>,
}

/// What advisor consultations (Claude Code's `usage.iterations`, advisor threads) cost at
/// one model.
#[derive(Clone, Debug, PartialEq)]
pub struct AdvisorSpend {
    pub model: Arc<str>,
    pub consultations: u64,
    pub cost: Decimal,
}

impl AdvisorSpend {
    /// Add `cost` of `consultations` at `model` to a list kept sorted by model.
    pub fn add(list: &mut Vec<AdvisorSpend>, model: &Arc<str>, consultations: u64, cost: Decimal) {
        match list.binary_search_by(|a| a.model.cmp(model)) {
            Ok(i) => {
                list[i].consultations += consultations;
                list[i].cost += cost;
            }
            Err(i) => list.insert(
                i,
                AdvisorSpend {
                    model: model.clone(),
                    consultations,
                    cost,
                },
            ),
        }
    }
}

impl RatedSession {
    /// Drop the per-request, per-search and per-interval detail, keeping the totals, line
    /// items and session metadata: what tables, JSON, CSV, reports and exports need. Metering
    /// a fleet keeps one of these per session, so memory does not grow with requests.
    pub fn shed_detail(&mut self) {
        self.usage.requests = Vec::new();
        self.usage.web_searches = Vec::new();
        self.usage.running = Vec::new();
    }
}

/// Collects a session's items, merging those with the same category, model, agent, day,
/// rate and price row.
struct Items<'z> {
    zone: &'z Zone,
    list: Vec<LineItem>,
    /// The local day last seen, as `[start, end)` in ms: most lookups hit it.
    day: (Millis, Millis, NaiveDate),
}

impl<'z> Items<'z> {
    fn new(zone: &'z Zone) -> Self {
        Items {
            zone,
            list: Vec::new(),
            day: (0, 0, NaiveDate::MIN),
        }
    }

    fn day_of(&mut self, at: Millis) -> NaiveDate {
        if at < self.day.0 || at >= self.day.1 {
            let date = self.zone.date_of(at);
            let end = self.zone.next_midnight(at);
            let start = self.zone.start_of(date).unwrap_or(at);
            self.day = (start, end, date);
        }
        self.day.2
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        category: Category,
        model: Option<Arc<str>>,
        agent: Option<Arc<str>>,
        start: Millis,
        end: Millis,
        quantity: u64,
        rate: Decimal,
        amount: Decimal,
        price_effective: Millis,
    ) {
        let day = self.day_of(start);
        let same = |i: &&mut LineItem| {
            i.category == category
                && i.day == day
                && i.rate == rate
                && i.price_effective == price_effective
                && i.model == model
                && i.agent == agent
        };
        match self.list.iter_mut().rev().find(same) {
            Some(i) => {
                i.quantity += quantity;
                i.amount += amount;
                i.start = i.start.min(start);
                i.end = i.end.max(end);
            }
            None => self.list.push(LineItem {
                category,
                model,
                agent,
                day,
                start,
                end,
                quantity,
                rate,
                amount,
                price_effective,
            }),
        }
    }
}

/// What a request's price depends on.
pub struct RateQuery<'q> {
    pub model: &'q str,
    pub at: Millis,
    pub speed: Speed,
    pub inference_geo: Option<&'q str>,
    /// Uncached input + cache reads + cache writes: decides long-context pricing.
    pub total_input: u64,
}

/// Why a request has no rates; the message says which model and table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoRate {
    /// The model is not in the table (nor an alias of one).
    UnknownModel(String),
    /// The model is there, but no row of it is in force at the request's instant.
    NotInForce(String),
}

impl std::fmt::Display for NoRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoRate::UnknownModel(m) | NoRate::NotInForce(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for NoRate {}

/// USD per million tokens for one request, multipliers applied.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestRates {
    pub model: Arc<str>,
    pub rates: Rates,
    /// The `effective` of the price row used.
    pub effective: Millis,
    /// The model's long-context threshold in this row, if it has long-context rates.
    pub long_context_threshold: Option<u64>,
    pub warning: Option<String>,
}

pub const MS_PER_HOUR: i64 = Unit::Ms.per_rate();
pub const TOKENS_PER_PRICE_UNIT: i64 = Unit::Tokens.per_rate();
/// Runtime is rounded half-even to this many places per session (design.md).
pub const RUNTIME_DP: u32 = 9;

pub struct Rater<'a> {
    table: &'a PriceTable,
    /// Runtime pieces are cut at local midnight in this zone, so day buckets are exact.
    zone: Zone,
    canonical: Vec<Arc<str>>,
}

fn no_price_hint() -> String {
    "pass --pricing FILE with a table that covers it (see `agentmeter pricing list`), or --model ID"
        .into()
}

impl<'a> Rater<'a> {
    pub fn new(table: &'a PriceTable, zone: Zone) -> Self {
        let canonical = table
            .models
            .iter()
            .map(|m| Arc::from(m.id.as_str()))
            .collect();
        Rater {
            table,
            zone,
            canonical,
        }
    }

    /// Price one session. Requests and searches that cannot be priced are returned as problems
    /// and taken out of the usage, so a session's quantities always match its cost.
    pub fn rate(&self, mut usage: SessionUsage) -> (RatedSession, Vec<Skipped>) {
        let mut problems = Vec::new();
        let mut warnings = usage.warnings.clone();
        let mut items = Items::new(&self.zone);
        self.rate_runtime(&usage, &mut items, &mut problems);
        let mut models: Vec<Arc<str>> = Vec::new();
        let mut advisor = Vec::new();
        let mut model_last_at: Vec<(Arc<str>, Millis)> = Vec::new();
        let mut priced = Vec::with_capacity(usage.requests.len());
        for r in &usage.requests {
            let rated = self.rate_request(r, &mut items, &mut problems, &mut warnings);
            priced.push(rated.is_some());
            if let Some((model, amount)) = rated {
                if r.advisor {
                    AdvisorSpend::add(&mut advisor, &model, 1, amount);
                }
                match model_last_at.iter_mut().find(|(m, _)| *m == model) {
                    Some((_, at)) => *at = (*at).max(r.at),
                    None => model_last_at.push((model.clone(), r.at)),
                }
                if !models.contains(&model) {
                    models.push(model);
                }
            }
        }
        let mut keep = priced.into_iter();
        usage.requests.retain(|_| keep.next().unwrap_or(false));
        let mut priced = Vec::with_capacity(usage.web_searches.len());
        for s in &usage.web_searches {
            priced.push(self.table.web_search_at(s.at).is_some());
            let Some(row) = self.table.web_search_at(s.at) else {
                problems.push(Skipped {
                    origin: usage.origin.clone(),
                    reason: format!(
                        "no web search price in force at {} in price table {}",
                        format_ms(s.at),
                        self.table.version
                    ),
                    hint: Some(no_price_hint()),
                });
                continue;
            };
            let model = s.model.as_deref().map(|m| self.canonical_id(m));
            let amount = row.usd_per_1000 / Decimal::from(1000);
            items.push(
                Category::WebSearch,
                model,
                s.agent.clone(),
                s.at,
                s.at,
                1,
                row.usd_per_1000,
                amount,
                row.effective,
            );
        }
        let mut keep = priced.into_iter();
        usage.web_searches.retain(|_| keep.next().unwrap_or(false));
        if models.is_empty() {
            models.extend(usage.model.as_deref().map(|m| self.canonical_id(m)));
        }
        models.sort();
        let items = items.list;
        let mut cost = Cost::default();
        for i in &items {
            cost.add_item(i.category, i.amount);
        }
        (
            RatedSession {
                quantities: usage.quantities(),
                usage,
                items,
                cost,
                models,
                model_last_at,
                warnings,
                advisor,
            },
            problems,
        )
    }

    fn canonical_id(&self, id: &str) -> Arc<str> {
        match self
            .table
            .models
            .iter()
            .position(|m| m.id == id || m.aliases.iter().any(|a| a == id))
        {
            Some(i) => self.canonical[i].clone(),
            None => id.into(),
        }
    }

    /// Runtime: each running interval cut where the price changes and at local midnight.
    /// The session's total is `round_half_even(sum(ms * usd_per_hour) / 3.6e6, 9)`, and each
    /// piece gets the difference of the rounded running sums, so pieces add up to it exactly.
    fn rate_runtime(&self, usage: &SessionUsage, items: &mut Items, problems: &mut Vec<Skipped>) {
        let mut exact = Decimal::ZERO;
        let mut rounded = Decimal::ZERO;
        let mut missing_reported = false;
        for iv in &usage.running {
            let mut s = iv.start;
            while s < iv.end {
                let next_change = self
                    .table
                    .runtime_changes()
                    .find(|&t| t > s)
                    .unwrap_or(i64::MAX);
                let Some(row) = self.table.runtime_at(s) else {
                    if !missing_reported {
                        missing_reported = true;
                        problems.push(Skipped {
                            origin: usage.origin.clone(),
                            reason: format!(
                                "session {}: no runtime price in force at {} in price table {}",
                                usage.session_id,
                                format_ms(s),
                                self.table.version
                            ),
                            hint: Some(no_price_hint()),
                        });
                    }
                    s = next_change.min(iv.end);
                    continue;
                };
                let end = iv.end.min(next_change).min(self.zone.next_midnight(s));
                let ms = end - s;
                exact += Decimal::from(ms) * row.usd_per_hour;
                let now = (exact / Decimal::from(MS_PER_HOUR))
                    .round_dp_with_strategy(RUNTIME_DP, RoundingStrategy::MidpointNearestEven);
                let model = usage.model.as_deref().map(|m| self.canonical_id(m));
                items.push(
                    Category::Runtime,
                    model,
                    usage.agent.clone(),
                    s,
                    end,
                    ms as u64,
                    row.usd_per_hour,
                    now - rounded,
                    row.effective,
                );
                rounded = now;
                s = end;
            }
        }
    }

    /// The per-million-token rates of one request: the model's row in force at `at`, its
    /// fast or long-context rates as the request calls for, times any multiplier. Shared by
    /// metered requests and projections, so both are priced by the same rules.
    pub fn request_rates(&self, q: &RateQuery) -> Result<RequestRates, NoRate> {
        let Some(mi) = self
            .table
            .models
            .iter()
            .position(|m| m.id == q.model || m.aliases.iter().any(|a| a == q.model))
        else {
            return Err(NoRate::UnknownModel(format!(
                "unknown model {:?}: it is not in price table {} ({}){}",
                q.model,
                self.table.version,
                self.table.origin,
                self.table.suggestion(q.model)
            )));
        };
        let model = &self.table.models[mi];
        let Some(row) = model.row_at(q.at) else {
            let first = model
                .rows
                .first()
                .map(|r| format!(" (its first price starts {})", r.effective_text))
                .unwrap_or_default();
            return Err(NoRate::NotInForce(format!(
                "no price for {} in force at {} in price table {}{first}",
                model.id,
                format_ms(q.at),
                self.table.version
            )));
        };
        let long = row
            .long_context
            .as_ref()
            .filter(|l| q.total_input > l.threshold_input_tokens);
        let mut warning = None;
        let rates: &Rates = match (q.speed, &row.fast, long) {
            (Speed::Fast, Some(fast), _) => fast,
            (Speed::Fast, None, lc) => {
                warning = Some(format!(
                    "fast mode requested but {} has no fast-mode rates from {}: priced at standard rates",
                    model.id, row.effective_text
                ));
                lc.map_or(&row.rates, |l| &l.rates)
            }
            (Speed::Standard, _, Some(l)) => &l.rates,
            (Speed::Standard, _, None) => &row.rates,
        };
        let factor = match q.inference_geo {
            Some("us") => self
                .table
                .multiplier_at(INFERENCE_GEO_US, q.at)
                .filter(|m| {
                    m.models
                        .iter()
                        .any(|id| *id == model.id || model.aliases.contains(id))
                })
                .map_or(Decimal::ONE, |m| m.factor),
            _ => Decimal::ONE,
        };
        let mut scaled = rates.clone();
        for c in Category::tokens() {
            if let Some(r) = scaled.get_mut(c) {
                *r *= factor;
            }
        }
        Ok(RequestRates {
            model: self.canonical[mi].clone(),
            rates: scaled,
            effective: row.effective,
            long_context_threshold: row.long_context.as_ref().map(|l| l.threshold_input_tokens),
            warning,
        })
    }

    /// One request's token charges: the canonical model it was priced as, and the amount.
    fn rate_request(
        &self,
        r: &RequestUsage,
        items: &mut Items,
        problems: &mut Vec<Skipped>,
        warnings: &mut Vec<String>,
    ) -> Option<(Arc<str>, Decimal)> {
        let q = RateQuery {
            model: &r.model,
            at: r.at,
            speed: r.speed,
            inference_geo: r.inference_geo.as_deref(),
            total_input: r.tokens.total_input(),
        };
        let priced = match self.request_rates(&q) {
            Ok(p) => p,
            Err(no_rate) => {
                let hint = match no_rate {
                    NoRate::UnknownModel(_) => "pass --model ID to price it as a known model, or --pricing FILE with a table that lists it (`agentmeter pricing list` shows the known models)".to_string(),
                    NoRate::NotInForce(_) => no_price_hint(),
                };
                problems.push(Skipped {
                    origin: r.origin.clone(),
                    reason: no_rate.to_string(),
                    hint: Some(hint),
                });
                return None;
            }
        };
        if let Some(w) = priced.warning {
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
        let rates = &priced.rates;
        let canonical = priced.model;
        let mut total = Decimal::ZERO;
        for category in Category::tokens() {
            let (quantity, rate) = (r.tokens.get(category), rates.get(category));
            if quantity == 0 {
                continue;
            }
            let Some(amount) = Decimal::from(quantity)
                .checked_mul(rate)
                .map(|a| a / Decimal::from(TOKENS_PER_PRICE_UNIT))
            else {
                problems.push(Skipped {
                    origin: r.origin.clone(),
                    reason: format!(
                        "{} {} tokens at {rate}/M is too large an amount to represent",
                        quantity,
                        category.key()
                    ),
                    hint: None,
                });
                continue;
            };
            total += amount;
            items.push(
                category,
                Some(canonical.clone()),
                r.agent.clone(),
                r.at,
                r.at,
                quantity,
                rate,
                amount,
                priced.effective,
            );
        }
        Some((canonical, total))
    }
}

/// Totals over rated sessions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    pub sessions: u64,
    pub active_ms: i64,
    pub requests: u64,
    pub tokens: Tokens,
    pub web_searches: u64,
    pub cost: Cost,
    pub advisor: Vec<AdvisorSpend>,
}

impl Totals {
    pub fn of(sessions: &[RatedSession]) -> Self {
        let mut t = Totals::default();
        for s in sessions {
            for a in &s.advisor {
                AdvisorSpend::add(&mut t.advisor, &a.model, a.consultations, a.cost);
            }
            t.sessions += 1;
            let q = &s.quantities;
            t.active_ms += q.active_ms;
            t.requests += q.requests;
            t.tokens.add(&q.tokens);
            t.web_searches += q.web_searches;
            t.cost += s.cost;
        }
        t
    }
}

/// Quantities and amounts per category: the shape of a CSV row set or a group row.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ByCategory {
    pub quantity: PerCategory<u64>,
    pub amount: PerCategory<Decimal>,
}

impl ByCategory {
    pub fn add(&mut self, category: Category, quantity: u64, amount: Decimal) {
        let q = &mut self.quantity[category];
        *q = q.saturating_add(quantity);
        self.amount[category] += amount;
    }

    pub fn of_items<'i>(items: impl IntoIterator<Item = &'i LineItem>) -> Self {
        let mut b = ByCategory::default();
        for i in items {
            b.add(i.category, i.quantity, i.amount);
        }
        b
    }

    pub fn cost(&self) -> Cost {
        self.amount.by_column()
    }

    pub fn active_ms(&self) -> i64 {
        self.quantity[Category::Runtime] as i64
    }

    /// The token quantities, by kind.
    pub fn tokens(&self) -> Tokens {
        Tokens::of(&self.quantity)
    }
}

/// The share of its budget at which a session is flagged (table marker, `budgets_over_80`).
pub const BUDGET_FLAG_PCT: u32 = 80;

/// A session's budget against its computed list cost (rated at list prices, before any
/// contract: the platform enforces budgets at list prices, managed-agents-api.md §2.4).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BudgetStatus {
    /// `max_list_cost` in USD, when the session stated one.
    pub max: Option<Decimal>,
    /// cost / max x 100, exact (`None` without a max, or for a max of 0).
    pub used_pct: Option<Decimal>,
    /// An idle said `budget_reached`, or the cost is at or over the max.
    pub reached: bool,
}

impl BudgetStatus {
    pub fn of(s: &RatedSession) -> Option<BudgetStatus> {
        let b = s.usage.budget?;
        let max = b.max_cents.map(|c| Decimal::from(c) / Decimal::ONE_HUNDRED);
        let cost = s.cost.total();
        Some(BudgetStatus {
            max,
            used_pct: max
                .filter(|m| !m.is_zero())
                .map(|m| cost * Decimal::ONE_HUNDRED / m),
            reached: b.reached || max.is_some_and(|m| cost >= m),
        })
    }

    /// At or over [`BUDGET_FLAG_PCT`] of the budget, or stopped at it.
    pub fn flagged(&self) -> bool {
        self.reached
            || self
                .used_pct
                .is_some_and(|p| p >= Decimal::from(BUDGET_FLAG_PCT))
    }

    /// The share shown: to one decimal, half away from zero.
    pub fn used_pct_shown(&self) -> Option<Decimal> {
        self.used_pct.map(|p| {
            p.round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        })
    }

    /// The row marker: `[budget reached]`, `[budget 85.0%]`.
    pub fn marker(&self) -> String {
        match (self.reached, self.used_pct_shown()) {
            (true, _) | (false, None) => "[budget reached]".into(),
            (false, Some(p)) => format!("[budget {p:.1}%]"),
        }
    }
}
