//! One input object (NDJSON line, page item or SSE frame) turned into a compact [`Record`].
//!
//! Only the fields that can change the bill are read; message and tool content is skipped by
//! the parser without being stored, so no transcript text ever leaves this module.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::time::{parse_rfc3339_ms, Millis};
use crate::usage::{ProviderUsage, Speed, Tokens};

/// How an agent is configured: from a session object, a thread object or `session.updated`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentConfig {
    pub name: Option<String>,
    pub model: Option<String>,
    pub speed: Option<Speed>,
    pub inference_geo: Option<String>,
    /// An advisor thread's agent (`{"type": "advisor", ...}`): its requests are consultations.
    #[serde(default)]
    pub advisor: bool,
}

impl AgentConfig {
    /// Fields present in `newer` replace ours (a `session.updated` may change only the model).
    pub fn update(&mut self, newer: &AgentConfig) {
        let AgentConfig {
            name,
            model,
            speed,
            inference_geo,
            advisor,
        } = newer.clone();
        self.advisor |= advisor;
        self.name = name.or(self.name.take());
        self.model = model.or(self.model.take());
        self.speed = speed.or(self.speed.take());
        self.inference_geo = inference_geo.or(self.inference_geo.take());
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionObject {
    pub id: String,
    pub title: Option<String>,
    /// String-valued metadata (other values are kept as their JSON text).
    pub metadata: std::collections::BTreeMap<String, String>,
    pub agent: AgentConfig,
    pub updated_at: Option<Millis>,
    pub usage: Option<ProviderUsage>,
    /// `budget.max_list_cost` in integer US cents.
    #[serde(default)]
    pub budget_cents: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreadObject {
    pub id: String,
    pub session_id: Option<String>,
    pub agent: AgentConfig,
}

/// What a `session.updated` changes: the agent, the budget (integer US cents) or both.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUpdate {
    pub agent: Option<AgentConfig>,
    pub budget_cents: Option<u64>,
}

/// Token usage of one model request, as a span reports it (no 5m/1h split).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanUsage {
    pub input: u64,
    pub output: u64,
    pub cache_write: u64,
    pub cache_read: u64,
    pub speed: Option<Speed>,
}

/// What an event means for the bill. Everything else is `Other`: it only moves the session's
/// first/last event time and counts toward duplicates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum EventKind {
    Other,
    /// `session.status_running` (or a thread's, see `thread_id`).
    Running,
    /// `session.status_idle` / `_rescheduled`.
    Stopped,
    /// `session.status_terminated` / `session.deleted`: every thread stops.
    Ended,
    ThreadRunning,
    /// `session.thread_status_idle` / `_rescheduled` / `_terminated`.
    ThreadStopped,
    /// A session or thread idle with `stop_reason: budget_reached`: stops the clock of its
    /// thread (`thread_id`, or the session's) as `Stopped` does, and marks the budget reached.
    BudgetReached,
    ModelRequest(SpanUsage),
    OutcomeEvaluation(SpanUsage),
    WebSearchUse,
    ToolResultError {
        tool_use_id: Box<str>,
    },
    // Rare and large: boxed so the common variants stay small.
    Updated(Box<SessionUpdate>),
    /// `session.usage`: the provider's figures and the budget it states (US cents).
    UsageSnapshot(Box<ProviderUsage>, Option<u64>),
}

impl EventKind {
    pub fn is_billable(&self) -> bool {
        !matches!(self, EventKind::Other)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Hash of the event id, for counting duplicates of events that do not affect the bill.
    pub id_hash: u64,
    /// The full id, kept only for billable events (they are de-duplicated exactly).
    pub id: Option<Box<str>>,
    pub at: Millis,
    pub session_id: Option<Box<str>>,
    pub thread_id: Option<Box<str>>,
    pub kind: EventKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Session(Box<SessionObject>),
    Thread(Box<ThreadObject>),
    Event(Event),
    /// A client-sent event (`user.*`, `system.message`) still queued (`processed_at: null`):
    /// not yet part of the session.
    Queued,
    /// `ping`, `event_start`, `event_delta`: stream furniture, never persisted.
    Ignored,
    /// An SSE `error` frame: the stream broke here.
    StreamError,
    /// A Claude Code transcript line with usage: one model request (or a copy of it).
    Turn(Box<super::transcript::Turn>),
    /// A transcript line with usage that is not a billed request.
    NotBilled(super::transcript::NotBilled),
}

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    processed_at: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    session_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    session_thread_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tool_use_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    is_error: Option<&'a RawValue>,
    #[serde(borrow, default)]
    model_usage: Option<&'a RawValue>,
    #[serde(borrow, default)]
    usage: Option<&'a RawValue>,
    #[serde(borrow, default)]
    agent: Option<&'a RawValue>,
    #[serde(borrow, default)]
    updated_at: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    title: Option<&'a RawValue>,
    #[serde(borrow, default)]
    metadata: Option<&'a RawValue>,
    #[serde(borrow, default)]
    budget: Option<&'a RawValue>,
    #[serde(borrow, default)]
    stop_reason: Option<&'a RawValue>,
}

/// What one JSON object turned out to be.
pub enum Parsed<'a> {
    Record(Record),
    /// An events-list page: its `data` items, in order.
    Page(Vec<&'a RawValue>),
}

/// Parse one JSON object. `default_type` is the SSE `event:` name, used when `type` is absent.
pub fn parse_object<'a>(bytes: &'a [u8], default_type: Option<&str>) -> Result<Parsed<'a>, String> {
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_text(text, default_type),
        Err(_) => parse_object_full(bytes, default_type),
    }
}

/// [`parse_object`] on text already checked for UTF-8 (as the readers check each line).
pub fn parse_text<'a>(text: &'a str, default_type: Option<&str>) -> Result<Parsed<'a>, String> {
    match fast_event(text, default_type) {
        Some(event) => Ok(Parsed::Record(Record::Event(event))),
        None => parse_object_full(text.as_bytes(), default_type),
    }
}

/// [`parse_object`] without the fast path: every field read and checked by serde.
pub fn parse_object_full<'a>(
    bytes: &'a [u8],
    default_type: Option<&str>,
) -> Result<Parsed<'a>, String> {
    let raw: Raw<'a> = serde_json::from_slice(bytes).map_err(|e| describe_json_error(&e, bytes))?;
    let kind = raw.kind.as_deref().or(default_type);
    let Some(kind) = kind else {
        if let Some(data) = raw.data {
            let items: Vec<&RawValue> = serde_json::from_str(data.get())
                .map_err(|_| "page `data` is not an array".to_string())?;
            return Ok(Parsed::Page(items));
        }
        return Err("record has no `type`".into());
    };
    match kind {
        "session" => {
            return session_object(&raw).map(|s| Parsed::Record(Record::Session(Box::new(s))))
        }
        "session_thread" => {
            return thread_object(&raw).map(|t| Parsed::Record(Record::Thread(Box::new(t))))
        }
        "ping" | "event_start" | "event_delta" => return Ok(Parsed::Record(Record::Ignored)),
        "error" if raw.processed_at.is_none() => return Ok(Parsed::Record(Record::StreamError)),
        _ => {}
    }
    let id = raw
        .id
        .as_deref()
        .ok_or_else(|| format!("{kind} event has no `id`"))?;
    let Some(processed_at) = raw.processed_at.as_deref() else {
        // The API sends `processed_at: null` on the events a client sends (`user.*`, which
        // includes `user.tool_result`, and `system.message`) while they wait in its queue.
        if (kind.starts_with("user.") || kind == "system.message") && has_null_processed_at(bytes) {
            return Ok(Parsed::Record(Record::Queued));
        }
        return Err(format!("{kind} event {id} has no `processed_at`"));
    };
    let at = parse_rfc3339_ms(processed_at).map_err(|e| format!("`processed_at`: {e}"))?;
    let event_kind = event_kind(kind, &raw)?;
    let id_hash = hash_id(id);
    Ok(Parsed::Record(Record::Event(Event {
        id_hash,
        id: event_kind.is_billable().then(|| id.into()),
        at,
        session_id: raw.session_id.as_deref().map(Into::into),
        thread_id: raw.session_thread_id.as_deref().map(Into::into),
        kind: event_kind,
    })))
}

/// An event read by the skimmer (see `skim.rs`): one that cannot change the bill, or one of
/// the frequent billable kinds its fields decide alone (status changes, model requests with
/// usage). `None` when the full parser must decide.
fn fast_event(text: &str, default_type: Option<&str>) -> Option<Event> {
    let f = super::skim::fields(text)?;
    let kind = f.kind.or(default_type)?;
    let event_kind = if super::skim::cannot_bill(kind, &f) {
        EventKind::Other
    } else if let Some(status) = status_kind(kind) {
        // Only the full parser reads (and checks) a stop reason: once per turn, rare.
        if f.stop_reason.is_some_and(|r| r != "null") {
            return None;
        }
        status
    } else {
        match (kind, f.name, f.is_error, f.tool_use_id) {
            // Any problem in the usage goes to the full parser, for its exact message.
            // An `is_error` that is not a plain boolean: the full parser says what is wrong.
            ("span.model_request_end", _, Some(None), _) => return None,
            ("span.model_request_end", ..) => {
                EventKind::ModelRequest(span_usage(f.model_usage.filter(|u| *u != "null")?).ok()?)
            }
            ("agent.tool_use", Some(Some("web_search")), ..) => EventKind::WebSearchUse,
            ("agent.tool_result", _, Some(Some(true)), None) => EventKind::Other,
            ("agent.tool_result", _, Some(Some(true)), Some(Some(id))) => {
                EventKind::ToolResultError {
                    tool_use_id: id.into(),
                }
            }
            _ => return None,
        }
    };
    let id = f.id?;
    Some(Event {
        id_hash: hash_id(id),
        id: event_kind.is_billable().then(|| id.into()),
        at: parse_rfc3339_ms(f.processed_at?).ok()?,
        session_id: f.session_id.map(Into::into),
        thread_id: f.session_thread_id.map(Into::into),
        kind: event_kind,
    })
}

pub fn hash_id(id: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// Whether the object has a `processed_at` key at all (serde reads `null` and absent alike).
fn has_null_processed_at(bytes: &[u8]) -> bool {
    fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| true)
    }
    #[derive(Deserialize)]
    struct P {
        #[serde(default, deserialize_with = "present")]
        processed_at: bool,
    }
    serde_json::from_slice::<P>(bytes).is_ok_and(|p| p.processed_at)
}

/// The session status events: their kind alone says what they mean.
fn status_kind(kind: &str) -> Option<EventKind> {
    Some(match kind {
        "session.status_running" => EventKind::Running,
        "session.status_idle" | "session.status_rescheduled" => EventKind::Stopped,
        "session.status_terminated" | "session.deleted" => EventKind::Ended,
        _ => return None,
    })
}

fn event_kind(kind: &str, raw: &Raw) -> Result<EventKind, String> {
    let idle = kind == "session.status_idle" || kind == "session.thread_status_idle";
    if idle && budget_reached(raw.stop_reason)? {
        if kind == "session.thread_status_idle" && raw.session_thread_id.is_none() {
            return Err(format!("{kind} without `session_thread_id`"));
        }
        return Ok(EventKind::BudgetReached);
    }
    if let Some(status) = status_kind(kind) {
        return Ok(status);
    }
    Ok(match kind {
        "session.thread_status_running"
        | "session.thread_status_idle"
        | "session.thread_status_rescheduled"
        | "session.thread_status_terminated" => {
            if raw.session_thread_id.is_none() {
                return Err(format!("{kind} without `session_thread_id`"));
            }
            if kind == "session.thread_status_running" {
                EventKind::ThreadRunning
            } else {
                EventKind::ThreadStopped
            }
        }
        "span.model_request_end" => {
            let failed = raw_bool("is_error", raw.is_error)? == Some(true);
            match raw.model_usage {
                Some(u) if u.get() != "null" => EventKind::ModelRequest(span_usage(u.get())?),
                // A failed request that reports no usage consumed nothing we can bill.
                _ if failed => EventKind::Other,
                _ => return Err("span.model_request_end without model_usage".into()),
            }
        }
        "span.outcome_evaluation_end" => match raw.usage {
            Some(u) if u.get() != "null" => EventKind::OutcomeEvaluation(span_usage(u.get())?),
            _ => return Err("span.outcome_evaluation_end without usage".into()),
        },
        "agent.tool_use" if raw_str(raw.name).as_deref() == Some("web_search") => {
            EventKind::WebSearchUse
        }
        "agent.tool_result" if raw_bool("is_error", raw.is_error)? == Some(true) => {
            match raw_str(raw.tool_use_id) {
                Some(tool_use_id) => EventKind::ToolResultError {
                    tool_use_id: tool_use_id.into(),
                },
                None => EventKind::Other,
            }
        }
        "session.updated" => {
            let update = SessionUpdate {
                agent: raw.agent.map(agent_config).transpose()?,
                budget_cents: budget(raw.budget)?,
            };
            match update == SessionUpdate::default() {
                true => EventKind::Other,
                false => EventKind::Updated(Box::new(update)),
            }
        }
        "session.usage" => match (raw.usage, budget(raw.budget)?) {
            (Some(u), cents) if u.get() != "null" => {
                EventKind::UsageSnapshot(Box::new(provider_usage(u)?), cents)
            }
            (_, Some(cents)) => EventKind::Updated(Box::new(SessionUpdate {
                agent: None,
                budget_cents: Some(cents),
            })),
            _ => EventKind::Other,
        },
        _ => EventKind::Other,
    })
}

/// Whether an idle's `stop_reason` is `{"type": "budget_reached"}` (absent or `null`: no).
fn budget_reached(v: Option<&RawValue>) -> Result<bool, String> {
    #[derive(Deserialize)]
    struct Reason {
        #[serde(rename = "type")]
        kind: String,
    }
    match v {
        Some(r) if r.get() != "null" => {
            Ok(object::<Reason>(r.get(), "`stop_reason`")?.kind == "budget_reached")
        }
        _ => Ok(false),
    }
}

/// A `budget` (managed-agents-api.md §2.4: `{"type": "limit", "max_list_cost": {"amount":
/// "2500", "currency": "USD"}}`) as its integer US cents; absent or `null`: none. The amount
/// is documented as a string of integer cents, so anything else is an error.
fn budget(v: Option<&RawValue>) -> Result<Option<u64>, String> {
    #[derive(Deserialize)]
    struct B<'a> {
        #[serde(rename = "type", default)]
        kind: Option<String>,
        #[serde(borrow)]
        max_list_cost: &'a RawValue,
    }
    let Some(v) = v.filter(|v| v.get() != "null") else {
        return Ok(None);
    };
    let b: B = object(v.get(), "`budget`")?;
    if b.kind.as_deref().is_some_and(|k| k != "limit") {
        return Err(format!(
            "`budget.type` {:?} is not known (expected \"limit\")",
            clip(&b.kind.unwrap_or_default())
        ));
    }
    let amount = usd_amount(b.max_list_cost, "`budget.max_list_cost`")?;
    let cents = match &amount {
        serde_json::Value::String(s) if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) => {
            s.parse::<u64>().ok().filter(|c| *c <= MAX_COUNT)
        }
        _ => None,
    };
    cents.map(Some).ok_or_else(|| {
        format!(
            "`budget.max_list_cost.amount` is not a string of integer cents such as \"2500\" (got {})",
            clip(&amount.to_string())
        )
    })
}

/// A money object's `amount`, after checking its currency is USD (or unstated).
fn usd_amount(v: &RawValue, what: &str) -> Result<serde_json::Value, String> {
    #[derive(Deserialize)]
    struct Money {
        amount: serde_json::Value,
        #[serde(default)]
        currency: Option<String>,
    }
    let m: Money = object(v.get(), what)?;
    match m.currency {
        Some(c) if c != "USD" => Err(format!("{what} is in {}, only USD is supported", clip(&c))),
        _ => Ok(m.amount),
    }
}

fn raw_str(v: Option<&RawValue>) -> Option<String> {
    v.and_then(|v| serde_json::from_str::<String>(v.get()).ok())
}

/// A boolean field: `true`/`false`, or absent or `null`; anything else (`"true"`, `1`) makes
/// the record invalid rather than quietly false.
fn raw_bool(field: &str, v: Option<&RawValue>) -> Result<Option<bool>, String> {
    match v.map(RawValue::get) {
        None | Some("null") => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(format!("`{field}` is not a boolean (got {})", clip(other))),
    }
}

/// A value as shown in a message: its first characters only (it may be content).
fn clip(text: &str) -> String {
    match text.char_indices().nth(24) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

/// Deserialize a JSON object (serde's derive would also take an array for a struct).
pub(super) fn object<'a, T: Deserialize<'a>>(text: &'a str, what: &str) -> Result<T, String> {
    if !text.trim_start().starts_with('{') {
        return Err(format!("{what} is not an object"));
    }
    serde_json::from_str(text).map_err(|e| format!("{what}: {}", strip_position(&e)))
}

fn session_object(raw: &Raw) -> Result<SessionObject, String> {
    let id = raw.id.as_deref().ok_or("session object has no `id`")?;
    let updated_at = match raw.updated_at.as_deref() {
        Some(s) => Some(parse_rfc3339_ms(s).map_err(|e| format!("session `updated_at`: {e}"))?),
        None => None,
    };
    let metadata = match raw.metadata {
        Some(m) if m.get() != "null" => {
            let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(m.get())
                .map_err(|_| "session `metadata` is not an object".to_string())?;
            map.into_iter()
                .map(|(k, v)| {
                    let text = match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, text)
                })
                .collect()
        }
        _ => Default::default(),
    };
    Ok(SessionObject {
        id: id.to_string(),
        title: raw_str(raw.title),
        metadata,
        agent: raw.agent.map(agent_config).transpose()?.unwrap_or_default(),
        updated_at,
        usage: match raw.usage {
            Some(u) if u.get() != "null" => Some(provider_usage(u)?),
            _ => None,
        },
        budget_cents: budget(raw.budget)?,
    })
}

fn thread_object(raw: &Raw) -> Result<ThreadObject, String> {
    let id = raw
        .id
        .as_deref()
        .ok_or("session_thread object has no `id`")?;
    Ok(ThreadObject {
        id: id.to_string(),
        session_id: raw.session_id.as_deref().map(str::to_string),
        agent: raw.agent.map(agent_config).transpose()?.unwrap_or_default(),
    })
}

/// The agent name of an advisor thread, whose agent object names none.
const ADVISOR: &str = "advisor";

fn agent_config(raw: &RawValue) -> Result<AgentConfig, String> {
    #[derive(Deserialize)]
    struct A<'a> {
        #[serde(rename = "type", borrow, default)]
        kind: Option<&'a RawValue>,
        #[serde(default)]
        name: Option<String>,
        #[serde(borrow, default)]
        model: Option<&'a RawValue>,
    }
    #[derive(Deserialize)]
    struct M {
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        speed: Option<String>,
        #[serde(default)]
        inference_geo: Option<String>,
    }
    let a: A = object(raw.get(), "`agent`")?;
    // An advisor thread's agent is `{"type": "advisor", "model": "<id>"}` with no name: it is
    // named for what it is, so `--group-by agent` shows its consultations as one agent.
    let advisor = raw_str(a.kind).as_deref() == Some("advisor");
    let name = match advisor {
        true => a.name.or_else(|| Some(ADVISOR.to_string())),
        false => a.name,
    };
    let mut cfg = AgentConfig {
        name,
        advisor,
        ..Default::default()
    };
    if let Some(m) = a.model {
        // `model` is an object ({id, speed, inference_geo}) or, in shorthand, a bare id.
        if let Ok(id) = serde_json::from_str::<String>(m.get()) {
            cfg.model = Some(id);
        } else if m.get() != "null" {
            let m: M = object(m.get(), "`agent.model`")?;
            cfg.model = m.id;
            cfg.speed = m.speed.as_deref().map(parse_speed).transpose()?;
            cfg.inference_geo = m.inference_geo;
        }
    }
    Ok(cfg)
}

fn parse_speed(s: &str) -> Result<Speed, String> {
    match s {
        "standard" => Ok(Speed::Standard),
        "fast" => Ok(Speed::Fast),
        other => Err(format!(
            "unknown speed {other:?} (expected \"standard\" or \"fast\")"
        )),
    }
}

#[derive(Deserialize)]
struct RawUsage<'a> {
    #[serde(borrow, default)]
    input_tokens: Option<&'a RawValue>,
    #[serde(borrow, default)]
    output_tokens: Option<&'a RawValue>,
    #[serde(borrow, default)]
    cache_creation_input_tokens: Option<&'a RawValue>,
    #[serde(borrow, default)]
    cache_read_input_tokens: Option<&'a RawValue>,
    #[serde(borrow, default)]
    cache_creation: Option<&'a RawValue>,
    #[serde(borrow, default)]
    server_tool_use: Option<&'a RawValue>,
    #[serde(borrow, default)]
    active_seconds: Option<&'a RawValue>,
    #[serde(borrow, default)]
    list_cost: Option<&'a RawValue>,
    #[serde(default)]
    speed: Option<String>,
    /// Claude Code: the region the request ran in (`"us"`, `"global"`, `"not_available"`).
    #[serde(default)]
    inference_geo: Option<String>,
    /// Claude Code (advisor tool): the request's inferences, when it ran several.
    #[serde(borrow, default)]
    iterations: Option<&'a RawValue>,
}

fn raw_usage(text: &str) -> Result<RawUsage<'_>, String> {
    object(text, "usage")
}

/// The largest token count a record may carry: a million requests of a million tokens. Sums
/// of bounded counts cannot wrap a u64 short of 18 million such records (and saturate, never
/// wrap, past that).
pub const MAX_COUNT: u64 = 1_000_000_000_000;

/// A token count: a non-negative integer up to [`MAX_COUNT`]; `null` or absent is 0.
fn count(field: &str, v: Option<&RawValue>) -> Result<Option<u64>, String> {
    let Some(v) = v else { return Ok(None) };
    let text = v.get();
    if text == "null" {
        return Ok(None);
    }
    if let Ok(n) = text.parse::<u64>() {
        if n > MAX_COUNT {
            return Err(format!(
                "token count `{field}` is larger than 10^12, more than any session uses (got {text})"
            ));
        }
        return Ok(Some(n));
    }
    let what = if text.starts_with('-') {
        "is negative"
    } else if text.bytes().all(|c| c.is_ascii_digit()) {
        "is too large for a 64-bit count"
    } else if text
        .bytes()
        .all(|c| c.is_ascii_digit() || b".eE+-".contains(&c))
    {
        "is not an integer"
    } else {
        "is not a number"
    };
    Err(format!("token count `{field}` {what} (got {text})"))
}

fn span_usage(text: &str) -> Result<SpanUsage, String> {
    let u = raw_usage(text)?;
    Ok(SpanUsage {
        input: count("input_tokens", u.input_tokens)?.unwrap_or(0),
        output: count("output_tokens", u.output_tokens)?.unwrap_or(0),
        cache_write: count("cache_creation_input_tokens", u.cache_creation_input_tokens)?
            .unwrap_or(0),
        cache_read: count("cache_read_input_tokens", u.cache_read_input_tokens)?.unwrap_or(0),
        speed: u.speed.as_deref().map(parse_speed).transpose()?,
    })
}

/// A Claude Code request's `message.usage`, read.
#[derive(Debug, Default)]
pub(super) struct TranscriptUsage {
    /// The top-level figures (the same shape as the provider's, 5m/1h split when given).
    pub usage: ProviderUsage,
    pub speed: Option<Speed>,
    /// `inference_geo` when it names a region (not `""` or `"not_available"`).
    pub inference_geo: Option<Box<str>>,
    pub iterations: Vec<Iteration>,
}

pub(super) fn transcript_usage(text: &str) -> Result<TranscriptUsage, String> {
    let u = raw_usage(text)?;
    let speed = u.speed.as_deref().map(parse_speed).transpose()?;
    let iterations = match u.iterations {
        Some(list) if list.get() != "null" => {
            let items: Vec<&RawValue> = serde_json::from_str(list.get())
                .map_err(|_| "`usage.iterations` is not an array".to_string())?;
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    iteration(item).map_err(|e| format!("`usage.iterations[{i}]`: {e}"))
                })
                .collect::<Result<_, _>>()?
        }
        _ => Vec::new(),
    };
    Ok(TranscriptUsage {
        usage: usage_figures(&u)?,
        speed,
        inference_geo: u
            .inference_geo
            .filter(|g| !g.is_empty() && g != "not_available")
            .map(Into::into),
        iterations,
    })
}

/// One inference of a request that ran several (advisor tool docs, "Usage and billing"; the
/// SDKs' `BetaMessageIterationUsage`, `BetaAdvisorMessageIterationUsage`, ...): its kind,
/// the model it names (advisor and fallback iterations), and its tokens.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Iteration {
    pub kind: IterationKind,
    pub model: Option<Box<str>>,
    pub tokens: Tokens,
    pub cache_split_known: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IterationKind {
    /// `message`: the executor's own inference.
    Message,
    /// `compaction`: the context summarized.
    Compaction,
    /// `advisor_message`: the advisor model consulted.
    Advisor,
    /// `fallback_message`: re-routed to another model.
    Fallback,
    /// A type this version does not know: billed like the executor's own.
    Other,
}

fn iteration(item: &RawValue) -> Result<Iteration, String> {
    #[derive(Deserialize)]
    struct Head {
        #[serde(rename = "type", default)]
        kind: Option<String>,
        #[serde(default)]
        model: Option<String>,
    }
    let head: Head = object(item.get(), "the iteration")?;
    let figures = usage_figures(&raw_usage(item.get())?)?;
    Ok(Iteration {
        kind: match head.kind.as_deref() {
            Some("message") => IterationKind::Message,
            Some("compaction") => IterationKind::Compaction,
            Some("advisor_message") => IterationKind::Advisor,
            Some("fallback_message") => IterationKind::Fallback,
            _ => IterationKind::Other,
        },
        model: head.model.filter(|m| !m.is_empty()).map(Into::into),
        tokens: figures.tokens,
        cache_split_known: figures.cache_split_known,
    })
}

/// The provider's own cumulative figures (session object `usage` or a `session.usage` event).
fn provider_usage(raw: &RawValue) -> Result<ProviderUsage, String> {
    usage_figures(&raw_usage(raw.get())?)
}

fn usage_figures(u: &RawUsage) -> Result<ProviderUsage, String> {
    #[derive(Deserialize)]
    struct CacheCreation<'a> {
        #[serde(borrow, default)]
        ephemeral_5m_input_tokens: Option<&'a RawValue>,
        #[serde(borrow, default)]
        ephemeral_1h_input_tokens: Option<&'a RawValue>,
    }
    #[derive(Deserialize)]
    struct ServerToolUse<'a> {
        #[serde(borrow, default)]
        web_search_requests: Option<&'a RawValue>,
    }
    let cc: Option<CacheCreation> = match u.cache_creation {
        Some(c) if c.get() != "null" => Some(object(c.get(), "`usage.cache_creation`")?),
        _ => None,
    };
    let stu: Option<ServerToolUse> = match u.server_tool_use {
        Some(s) if s.get() != "null" => Some(object(s.get(), "`usage.server_tool_use`")?),
        _ => None,
    };
    let list_cost_usd = match u.list_cost {
        Some(c) if c.get() != "null" => {
            let cents = match &usd_amount(c, "`usage.list_cost`")? {
                serde_json::Value::String(s) => s.parse::<Decimal>().ok(),
                serde_json::Value::Number(n) => n.to_string().parse::<Decimal>().ok(),
                _ => None,
            }
            .ok_or("`usage.list_cost.amount` is not a number of cents")?;
            Some(cents / Decimal::from(100))
        }
        _ => None,
    };
    let active_seconds = match u.active_seconds {
        Some(v) if v.get() != "null" => Some(
            Decimal::from_str_exact(v.get())
                .or_else(|_| Decimal::from_scientific(v.get()))
                .map_err(|_| format!("`usage.active_seconds` is not a number (got {})", v.get()))?,
        ),
        _ => None,
    };
    let (w5, w1) = match &cc {
        Some(c) => (
            count("ephemeral_5m_input_tokens", c.ephemeral_5m_input_tokens)?,
            count("ephemeral_1h_input_tokens", c.ephemeral_1h_input_tokens)?,
        ),
        None => (None, None),
    };
    let legacy_writes = count("cache_creation_input_tokens", u.cache_creation_input_tokens)?;
    Ok(ProviderUsage {
        tokens: Tokens {
            input: count("input_tokens", u.input_tokens)?.unwrap_or(0),
            output: count("output_tokens", u.output_tokens)?.unwrap_or(0),
            cache_write_5m: w5.unwrap_or(if w1.is_none() {
                legacy_writes.unwrap_or(0)
            } else {
                0
            }),
            cache_write_1h: w1.unwrap_or(0),
            cache_read: count("cache_read_input_tokens", u.cache_read_input_tokens)?.unwrap_or(0),
        },
        cache_split_known: w5.is_some() || w1.is_some(),
        web_search_requests: match &stu {
            Some(s) => count("web_search_requests", s.web_search_requests)?,
            None => None,
        },
        active_seconds,
        list_cost_usd,
    })
}

/// serde_json appends " at line L column C"; the caller reports its own line, so keep the column.
pub(super) fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// A line (`what`: "line", or "record" for an SSE frame) as text, or the error naming its
/// first byte that is not UTF-8. (simdutf8 first: it is several times faster on valid text,
/// the common case.)
pub(super) fn utf8<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str, String> {
    simdutf8::basic::from_utf8(bytes).map_err(|_| {
        let valid = std::str::from_utf8(bytes).map_or_else(|e| e.valid_up_to(), str::len);
        format!("invalid UTF-8 at byte {} of the {what}", valid + 1)
    })
}

pub fn describe_json_error(e: &serde_json::Error, bytes: &[u8]) -> String {
    use serde_json::error::Category;
    let col = e.column();
    match e.classify() {
        Category::Eof => "truncated JSON (the record ends early)".into(),
        Category::Syntax if std::str::from_utf8(bytes).is_err() => "invalid UTF-8".into(),
        Category::Syntax => format!("malformed JSON at column {col}: {}", strip_position(e)),
        Category::Data if bytes.iter().find(|c| !c.is_ascii_whitespace()) != Some(&b'{') => {
            "expected a JSON object".into()
        }
        Category::Data => format!("{} (column {col})", strip_position(e)),
        Category::Io => strip_position(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(s: &str) -> Result<Record, String> {
        match parse_object(s.as_bytes(), None)? {
            Parsed::Record(r) => Ok(r),
            Parsed::Page(_) => panic!("page"),
        }
    }

    #[test]
    fn model_request_end_carries_its_usage() {
        let r = record(r#"{"id":"sevt_1","type":"span.model_request_end","processed_at":"2026-05-04T09:40:00.000Z","is_error":false,"model_usage":{"input_tokens":10000,"output_tokens":15000,"cache_creation_input_tokens":0,"cache_read_input_tokens":40000,"speed":"standard"}}"#).unwrap();
        let Record::Event(e) = r else { panic!() };
        assert_eq!(
            e.kind,
            EventKind::ModelRequest(SpanUsage {
                input: 10000,
                output: 15000,
                cache_write: 0,
                cache_read: 40000,
                speed: Some(Speed::Standard)
            })
        );
        assert_eq!(e.id.as_deref(), Some("sevt_1"));
    }

    #[test]
    fn content_events_keep_no_id_text_and_no_content() {
        let r = record(r#"{"id":"sevt_2","type":"agent.message","processed_at":"2026-05-04T09:40:00Z","content":[{"type":"text","text":"secret"}]}"#).unwrap();
        let Record::Event(e) = r else { panic!() };
        assert_eq!(e.kind, EventKind::Other);
        assert!(e.id.is_none());
        assert!(!format!("{e:?}").contains("secret"));
    }

    #[test]
    fn bad_token_counts_are_named() {
        let neg = record(
            r#"{"id":"e","type":"span.model_request_end","processed_at":"2026-05-04T09:40:00Z","model_usage":{"input_tokens":-5}}"#,
        );
        assert!(neg.unwrap_err().contains("`input_tokens` is negative"));
        let frac = record(
            r#"{"id":"e","type":"span.model_request_end","processed_at":"2026-05-04T09:40:00Z","model_usage":{"output_tokens":1.5}}"#,
        );
        assert!(frac
            .unwrap_err()
            .contains("`output_tokens` is not an integer"));
        let big = record(
            r#"{"id":"e","type":"span.model_request_end","processed_at":"2026-05-04T09:40:00Z","model_usage":{"output_tokens":18446744073709551616}}"#,
        );
        assert!(big.unwrap_err().contains("too large"));
        let fits = record(r#"{"id":"e","type":"span.model_request_end","processed_at":"2026-05-04T09:40:00Z","model_usage":{"output_tokens":4294967296}}"#).unwrap();
        assert!(matches!(
            fits,
            Record::Event(Event {
                kind: EventKind::ModelRequest(SpanUsage {
                    output: 4294967296,
                    ..
                }),
                ..
            })
        ));
    }

    /// Every field has its documented type: a string where a boolean belongs, an array where
    /// an object belongs and a count past any real session are errors, never quietly read.
    #[test]
    fn fields_of_the_wrong_type_or_size_are_errors() {
        let span = |extra: &str| {
            record(&format!(
                r#"{{"id":"e","type":"span.model_request_end","processed_at":"2026-05-04T09:40:00Z",{extra}}}"#
            ))
        };
        let failed = r#"{"id":"e","type":"agent.tool_result","processed_at":"2026-05-04T09:40:00Z","tool_use_id":"t","is_error":"true"}"#;
        assert!(record(failed)
            .unwrap_err()
            .contains("`is_error` is not a boolean (got \"true\")"));
        let e = span(r#""is_error":1,"model_usage":{"input_tokens":1}"#).unwrap_err();
        assert!(e.contains("`is_error` is not a boolean"), "{e}");
        let e = span(r#""model_usage":[1,2,3,4]"#).unwrap_err();
        assert!(e.contains("usage is not an object"), "{e}");
        let e = span(r#""model_usage":{"input_tokens":1000000000001}"#).unwrap_err();
        assert!(e.contains("larger than 10^12"), "{e}");
        assert!(span(r#""model_usage":{"input_tokens":1000000000000}"#).is_ok());
        let agent = r#"{"type":"session","id":"s","agent":["claude-opus-4-6"]}"#;
        assert!(record(agent)
            .unwrap_err()
            .contains("`agent` is not an object"));
    }

    #[test]
    fn missing_fields_are_errors() {
        assert!(
            record(r#"{"type":"agent.message","processed_at":"2026-05-04T09:40:00Z"}"#)
                .unwrap_err()
                .contains("no `id`")
        );
        assert!(
            record(r#"{"id":"e","processed_at":"2026-05-04T09:40:00Z"}"#)
                .unwrap_err()
                .contains("no `type`")
        );
        assert!(record(r#"{"id":"e","type":"agent.message"}"#)
            .unwrap_err()
            .contains("no `processed_at`"));
        assert!(record(
            r#"{"id":"e","type":"agent.message","processed_at":"2026-05-04 09:40:00"}"#
        )
        .unwrap_err()
        .contains("no time zone"));
        assert!(record(
            r#"{"id":"e","type":"span.model_request_end","processed_at":"2026-05-04T09:40:00Z"}"#
        )
        .unwrap_err()
        .contains("without model_usage"));
        assert!(record(r#"[1,2]"#)
            .unwrap_err()
            .contains("expected a JSON object"));
        assert!(record(r#"{"id":"e","type":"#)
            .unwrap_err()
            .contains("truncated"));
    }

    #[test]
    fn queued_user_events_and_stream_furniture() {
        assert_eq!(
            record(r#"{"id":"e","type":"user.message","processed_at":null}"#).unwrap(),
            Record::Queued
        );
        assert_eq!(record(r#"{"type":"ping"}"#).unwrap(), Record::Ignored);
        assert!(record(r#"{"id":"e","type":"agent.message","processed_at":null}"#).is_err());
    }

    #[test]
    fn sse_event_name_supplies_a_missing_type() {
        let Parsed::Record(Record::Event(e)) = parse_object(
            br#"{"id":"e","processed_at":"2026-05-04T09:40:00Z"}"#,
            Some("session.status_running"),
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(e.kind, EventKind::Running);
    }

    /// Budgets (managed-agents-api.md §1.4, §2.4): the stop reason of session and thread
    /// idles, the budget of `session.updated` and `session.usage`; the fast path hands every
    /// idle with a stop reason to the full parser, so both give the same record.
    #[test]
    fn budgets_and_budget_stops_are_read() {
        let kind = |s: &str| match parse_text(s, None).unwrap() {
            Parsed::Record(Record::Event(e)) => {
                let Parsed::Record(Record::Event(full)) =
                    parse_object_full(s.as_bytes(), None).unwrap()
                else {
                    panic!()
                };
                assert_eq!(e, full, "{s}");
                e.kind
            }
            _ => panic!("{s}"),
        };
        let at = r#""id":"e","processed_at":"2026-10-01T11:00:00Z""#;
        let idle = |reason: &str| {
            format!(r#"{{{at},"type":"session.status_idle","stop_reason":{reason}}}"#)
        };
        assert_eq!(
            kind(&idle(r#"{"type":"budget_reached"}"#)),
            EventKind::BudgetReached
        );
        assert_eq!(kind(&idle(r#"{"type":"end_turn"}"#)), EventKind::Stopped);
        assert_eq!(kind(&idle("null")), EventKind::Stopped);
        assert!(parse_text(&idle(r#""budget_reached""#), None).is_err());
        let thread = format!(
            r#"{{{at},"type":"session.thread_status_idle","session_thread_id":"sthr_1","stop_reason":{{"type":"budget_reached"}}}}"#
        );
        assert_eq!(kind(&thread), EventKind::BudgetReached);
        let b = r#"{"type":"limit","max_list_cost":{"amount":"2500","currency":"USD"}}"#;
        let updated = format!(r#"{{{at},"type":"session.updated","budget":{b}}}"#);
        assert_eq!(
            kind(&updated),
            EventKind::Updated(Box::new(SessionUpdate {
                agent: None,
                budget_cents: Some(2500)
            }))
        );
        let usage =
            format!(r#"{{{at},"type":"session.usage","usage":{{"input_tokens":1}},"budget":{b}}}"#);
        assert!(matches!(
            kind(&usage),
            EventKind::UsageSnapshot(_, Some(2500))
        ));
        let dup = format!(r#"{{{at},"type":"session.status_idle","budget":null,"budget":null}}"#);
        assert!(parse_text(&dup, None).is_err());
    }

    #[test]
    fn session_object_reads_agent_and_usage() {
        let Record::Session(s) = record(r#"{"type":"session","id":"sesn_1","agent":{"name":"r","model":{"id":"claude-opus-4-6","speed":"fast","inference_geo":"us"}},"usage":{"input_tokens":5,"cache_creation":{"ephemeral_5m_input_tokens":3,"ephemeral_1h_input_tokens":1},"server_tool_use":{"web_search_requests":2},"active_seconds":12.5,"list_cost":{"amount":"250","currency":"USD"}}}"#).unwrap() else {
            panic!()
        };
        assert_eq!(s.agent.model.as_deref(), Some("claude-opus-4-6"));
        assert_eq!(s.agent.speed, Some(Speed::Fast));
        assert_eq!(s.agent.inference_geo.as_deref(), Some("us"));
        let u = s.usage.unwrap();
        assert_eq!((u.tokens.cache_write_5m, u.tokens.cache_write_1h), (3, 1));
        assert_eq!(u.list_cost_usd, Some(Decimal::new(250, 2)));
        assert_eq!(u.active_seconds, Some(Decimal::new(125, 1)));
        assert_eq!(u.web_search_requests, Some(2));
    }
}
