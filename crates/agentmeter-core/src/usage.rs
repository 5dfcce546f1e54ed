//! Usage records: what the meter produces and the rater prices. A scenario projection produces
//! the same records, so one rater prices both. Quantities only: no prices, no raw events.

use std::sync::Arc;

use rust_decimal::Decimal;
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::category::{Category, PerCategory};
use crate::time::Millis;

/// A request's speed (fast mode is priced apart).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "speed")]
pub enum Speed {
    /// Standard speed.
    #[default]
    Standard,
    /// Fast mode.
    Fast,
}

/// Token counts by billing category.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cache_write_5m: u64,
    pub cache_write_1h: u64,
    pub cache_read: u64,
}

impl Tokens {
    /// The count of a token kind (0 for a category that is not one).
    pub fn get(&self, c: Category) -> u64 {
        match c {
            Category::Input => self.input,
            Category::Output => self.output,
            Category::CacheWrite5m => self.cache_write_5m,
            Category::CacheWrite1h => self.cache_write_1h,
            Category::CacheRead => self.cache_read,
            Category::Runtime | Category::WebSearch => 0,
        }
    }

    /// The count of a token kind, to change (`None` for a category that is not one).
    pub fn get_mut(&mut self, c: Category) -> Option<&mut u64> {
        match c {
            Category::Input => Some(&mut self.input),
            Category::Output => Some(&mut self.output),
            Category::CacheWrite5m => Some(&mut self.cache_write_5m),
            Category::CacheWrite1h => Some(&mut self.cache_write_1h),
            Category::CacheRead => Some(&mut self.cache_read),
            Category::Runtime | Category::WebSearch => None,
        }
    }

    /// The token kinds' counts of per-category quantities.
    pub fn of(q: &PerCategory<u64>) -> Tokens {
        let mut t = Tokens::default();
        for c in Category::tokens() {
            if let Some(n) = t.get_mut(c) {
                *n = q[c];
            }
        }
        t
    }

    /// Everything the model read: the quantity the long-context threshold is compared with.
    pub fn total_input(&self) -> u64 {
        (Category::tokens())
            .filter(|c| c.row().model_input)
            .fold(0u64, |a, c| a.saturating_add(self.get(c)))
    }

    /// Add `o` (saturating: records are bounded, so only an absurd fleet could reach 2^64).
    pub fn add(&mut self, o: &Tokens) {
        for c in Category::tokens() {
            if let Some(n) = self.get_mut(c) {
                *n = n.saturating_add(o.get(c));
            }
        }
    }
}

/// Token counts by kind, the category table's token keys in its order (as serialized: the
/// fields are the table's keys, a unit test checks).
impl schemars::JsonSchema for Tokens {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "tokens".into()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let counts = Category::tokens()
            .map(|c| {
                let n = g.subschema_for::<u64>();
                (c.key(), crate::schema::described(n, c.row().description))
            })
            .collect();
        crate::schema::object(counts, "Token counts by kind.")
    }
}

pub use crate::error::Origin;

/// One model request (or outcome-grader cycle), with its cache writes already split by TTL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "request")]
pub struct RequestUsage {
    /// When it ended (processed_at), milliseconds since the Unix epoch.
    pub at: Millis,
    /// The model id as the input names it; the rater resolves aliases.
    pub model: Arc<str>,
    /// The agent (thread) that made it.
    pub agent: Option<Arc<str>>,
    /// Its speed (fast mode is priced apart).
    pub speed: Speed,
    /// Its agent's inference_geo, if stated.
    pub inference_geo: Option<Arc<str>>,
    /// Its tokens by kind.
    pub tokens: Tokens,
    /// An advisor consultation (Claude Code's `usage.iterations`): shown as its own spend.
    #[serde(default)]
    pub advisor: bool,
    /// A later inference of the request before it (`usage.iterations`), not a request of
    /// its own: counted in tokens and cost, not in requests.
    #[serde(default)]
    pub continues: bool,
    #[serde(skip)]
    pub origin: Option<Origin>,
}

/// A billed web search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "web_search")]
pub struct WebSearch {
    /// When it was made, milliseconds since the Unix epoch.
    pub at: Millis,
    /// The model of the agent that made it.
    pub model: Option<Arc<str>>,
    /// The agent that made it.
    pub agent: Option<Arc<str>>,
}

/// A half-open interval `[start, end)` of running time, in ms since the epoch.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[schemars(rename = "interval")]
pub struct Interval {
    /// Where it starts (included).
    pub start: Millis,
    /// Where it ends (excluded).
    pub end: Millis,
}

impl Interval {
    pub fn ms(&self) -> i64 {
        self.end - self.start
    }
}

/// The provider's own figures, kept for reconciliation (never used to compute the bill).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "provider_usage")]
pub struct ProviderUsage {
    /// The provider's token totals.
    pub tokens: Tokens,
    /// Whether the 5m/1h split of cache writes was reported (`usage.cache_creation`).
    pub cache_split_known: bool,
    /// The provider's web search count.
    pub web_search_requests: Option<u64>,
    // As strings (the default form), read back without `deserialize_any`, so the meter's
    // spill files (bincode) can carry them.
    /// The provider's running time, seconds (a decimal as read).
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schemars(with = "Option<Decimal>")]
    pub active_seconds: Option<Decimal>,
    /// The provider's list cost, USD (a decimal as read).
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schemars(with = "Option<Decimal>")]
    pub list_cost_usd: Option<Decimal>,
}

/// A session's spending limit as the API states it (`budget.max_list_cost`, in integer US
/// cents) and whether it stopped there: quantities only, compared with cost after rating.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "usage_budget")]
pub struct Budget {
    /// The latest `max_list_cost` the session stated, in US cents; null (`None`) when only
    /// the stop is known.
    pub max_cents: Option<u64>,
    /// An idle (the session's or a thread's) said `stop_reason: budget_reached`.
    pub reached: bool,
}

/// Everything a session used: the rater's only input (quantities only, no prices and no
/// content).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "session_usage")]
pub struct SessionUsage {
    /// The session's id.
    pub session_id: Arc<str>,
    /// The session's `title` (with `metadata`, the task keys of comparisons and CI
    /// baselines).
    #[serde(default)]
    pub title: Option<Arc<str>>,
    /// The session's string metadata.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// The session's (primary) agent: runtime and its own requests are grouped under it.
    pub agent: Option<Arc<str>>,
    /// The session's model, as the export names it.
    pub model: Option<Arc<str>>,
    /// Its first event's processed_at, milliseconds since the Unix epoch.
    pub first_event_at: Option<Millis>,
    /// Its last event's processed_at, milliseconds since the Unix epoch.
    pub last_event_at: Option<Millis>,
    /// Disjoint, sorted running intervals: the union over the primary and child threads.
    pub running: Vec<Interval>,
    /// Its model requests (and outcome-grader cycles), cache writes split by TTL.
    pub requests: Vec<RequestUsage>,
    /// Its billed web searches.
    pub web_searches: Vec<WebSearch>,
    /// The provider's own figures, kept for reconciliation; null when the export has none.
    pub provider_reported: Option<ProviderUsage>,
    /// The session's spending limit; null when it states none and never stopped at one.
    #[serde(default)]
    pub budget: Option<Budget>,
    /// What metering noticed about the session.
    pub warnings: Vec<String>,
    /// Events dropped as repeated ids.
    pub duplicate_events: u64,
    /// Events that came earlier in processed_at than the one before them in their file.
    /// Normal for exports that list each thread after the session; ordering handles it.
    pub out_of_order_events: u64,
    /// Where the session first appears (file and line), for messages and `--pair-by file`.
    #[serde(skip)]
    pub origin: Option<Origin>,
}

impl SessionUsage {
    pub fn active_ms(&self) -> i64 {
        self.running.iter().map(Interval::ms).sum()
    }

    pub fn tokens(&self) -> Tokens {
        let mut t = Tokens::default();
        for r in &self.requests {
            t.add(&r.tokens);
        }
        t
    }

    /// Model requests: a request that ran several inferences counts once.
    pub fn request_count(&self) -> u64 {
        self.requests.iter().filter(|r| !r.continues).count() as u64
    }

    pub fn quantities(&self) -> Quantities {
        Quantities {
            active_ms: self.active_ms(),
            requests: self.request_count(),
            tokens: self.tokens(),
            web_searches: self.web_searches.len() as u64,
        }
    }
}

/// Which usage to keep: a time window and a project (`--since`, `--until`, `--project`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// `[start, end)` in ms; usage outside is cut off (running time is clipped to it).
    pub window: Option<(Millis, Millis)>,
    /// Only sessions of this project (the `project` metadata key): its exact name, or the last
    /// part of a Claude Code project folder (`shop` for `-home-ana-shop`).
    pub project: Option<String>,
}

impl Selection {
    pub fn is_all(&self) -> bool {
        self.window.is_none() && self.project.is_none()
    }

    /// The part of a session's usage selected, or `None` if nothing of it is.
    pub fn apply(&self, mut u: SessionUsage) -> Option<SessionUsage> {
        if let Some(want) = &self.project {
            let have = u.metadata.get("project")?;
            if have != want && !have.ends_with(&format!("-{want}")) {
                return None;
            }
        }
        if let Some((start, end)) = self.window {
            let inside = |at: Millis| start <= at && at < end;
            u.requests.retain(|r| inside(r.at));
            u.web_searches.retain(|s| inside(s.at));
            u.running = u
                .running
                .iter()
                .filter_map(|iv| {
                    let clipped = Interval {
                        start: iv.start.max(start),
                        end: iv.end.min(end),
                    };
                    (clipped.start < clipped.end).then_some(clipped)
                })
                .collect();
            if u.requests.is_empty() && u.web_searches.is_empty() && u.running.is_empty() {
                return None;
            }
        }
        Some(u)
    }
}

/// A session's (or a group's) totals by quantity: what tables and reports show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quantities {
    pub active_ms: i64,
    pub requests: u64,
    pub tokens: Tokens,
    pub web_searches: u64,
}

impl Quantities {
    /// The quantity of each category: running ms, tokens by kind, searches.
    pub fn by_category(&self) -> PerCategory<u64> {
        PerCategory::from_fn(|c| match c {
            Category::Runtime => self.active_ms.max(0) as u64,
            Category::WebSearch => self.web_searches,
            c => self.tokens.get(c),
        })
    }

    pub fn add(&mut self, o: &Quantities) {
        self.active_ms += o.active_ms;
        self.requests += o.requests;
        self.tokens.add(&o.tokens);
        self.web_searches += o.web_searches;
    }
}

/// The TTL assumed for cache writes when the session does not report its 5m/1h split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum CacheTtl {
    #[default]
    #[cfg_attr(feature = "clap", value(name = "5m"))]
    FiveMinutes,
    #[cfg_attr(feature = "clap", value(name = "1h"))]
    OneHour,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_the_token_categories_in_the_tables_order() {
        // baseline-v1 and the spill files store `Tokens` by its field names: they are the
        // token categories' keys, in the table's order.
        let t = Tokens {
            input: 1,
            output: 2,
            cache_write_5m: 3,
            cache_write_1h: 4,
            cache_read: 5,
        };
        let v = serde_json::to_value(t).unwrap();
        let fields: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let keys: Vec<&str> = Category::tokens().map(Category::key).collect();
        assert_eq!(fields, keys);
        for c in Category::tokens() {
            assert_eq!(v[c.key()].as_u64(), Some(t.get(c)));
        }
        // 1 + 3 + 4 + 5: everything but output is read by the model.
        assert_eq!(t.total_input(), 13);
        assert_eq!(
            Tokens::of(
                &Quantities {
                    tokens: t,
                    ..Default::default()
                }
                .by_category()
            ),
            t
        );
    }
}
