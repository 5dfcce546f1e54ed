//! Claude Code transcripts (`~/.claude/projects/<project>/<session>.jsonl`, and each
//! subagent's `<project>/<session>/subagents/agent-<id>.jsonl`): one JSON object per line,
//! most of them user turns, tool results, progress and metadata that cost nothing. Only an
//! assistant line (or, from older Claude Code, a line without `type`) carries a request's
//! `message.usage`. The skimmer reads each line once, checking it is JSON and picking out
//! the line's and its message's few fields; a line it cannot read goes to serde.
//!
//! A line becomes a [`Turn`]: the request's tokens (cache writes split 5m/1h where the line
//! says so; its `usage.iterations` when it ran several inferences), web searches, speed,
//! region, model, subagent and time. De-duplication across streaming snapshots, sidechains,
//! subagent files and resumed sessions is the meter's job (it needs every file).

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::record::{describe_json_error, transcript_usage, utf8, Parsed, Record};
pub use super::record::{Iteration, IterationKind};
use super::skim;
use crate::time::{parse_rfc3339_ms, Millis};
use crate::usage::{ProviderUsage, Speed, Tokens};

/// One assistant line with usage: a model request, or one snapshot of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub session_id: Box<str>,
    pub at: Millis,
    pub message_id: Option<Box<str>>,
    pub request_id: Option<Box<str>>,
    pub model: Box<str>,
    pub sidechain: bool,
    /// `agentId`: the subagent whose file the line is in.
    pub agent_id: Option<Box<str>>,
    /// The top-level tokens (5m/1h split when `cache_creation` says) and
    /// `server_tool_use.web_search_requests`.
    pub usage: ProviderUsage,
    pub speed: Option<Speed>,
    /// `usage.inference_geo` when it names a region (`"us"` costs more on some models).
    pub inference_geo: Option<Box<str>>,
    /// `usage.iterations`: when there are any, the request's tokens are their sum (the
    /// top-level figures then cover the first executor inference only).
    pub iterations: Vec<Iteration>,
    /// `costUSD`: Claude Code's own estimate of the line's cost, kept to show beside ours.
    pub cost_usd: Option<Decimal>,
}

impl Turn {
    /// Every token the request used: its iterations' when it has any.
    pub fn tokens(&self) -> Tokens {
        if self.iterations.is_empty() {
            return self.usage.tokens;
        }
        let mut t = Tokens::default();
        for i in &self.iterations {
            t.add(&i.tokens);
        }
        t
    }
}

/// Lines that carry usage but are not billed requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotBilled {
    /// `message.model` is `<synthetic>`: written by Claude Code itself, no request was made.
    Synthetic,
    /// `isApiErrorMessage: true`: the request failed.
    ApiError,
    /// A `progress` line (e.g. `agent_progress`) that embeds a subagent's message with its
    /// usage: a copy of a request the subagent's own file carries.
    ProgressCopy,
    /// Usage on a line of another type (`user`, metadata): not a request.
    OtherType,
}

/// The line types Claude Code writes that are not Managed Agents types (the reference's
/// updates-2026-12 section 1; `custom-title` and `tag` from older versions).
const LINE_TYPES: [&str; 14] = [
    "user",
    "assistant",
    "summary",
    "system",
    "progress",
    "file-history-snapshot",
    "permission-mode",
    "mode",
    "last-prompt",
    "queue-operation",
    "ai-title",
    "worktree-state",
    "custom-title",
    "tag",
];

/// Keys only transcript lines have.
const KEYS: [&str; 6] = [
    "sessionId",
    "parentUuid",
    "leafUuid",
    "isSidechain",
    "messageId",
    "requestId",
];

/// Whether a file (its first bytes) is a Claude Code transcript rather than Managed Agents
/// records, judged by the first line that tells (metadata lines count: a real transcript's
/// first line is often a `file-history-snapshot`). A line tells when it has a key only
/// transcripts have or one of their line types; a Managed Agents line has a dotted type, a
/// `processed_at`, or is a session, thread or page object. A line cut off by the end of
/// `head` is judged by the keys in the part we have.
pub fn looks_like_transcript(head: &[u8]) -> bool {
    let mut rest = head;
    while !rest.is_empty() {
        let (line, after, whole) = match memchr::memchr(b'\n', rest) {
            Some(nl) => (&rest[..nl], &rest[nl + 1..], true),
            None => (rest, &rest[rest.len()..], false),
        };
        rest = after;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        // The last line may be whole (the end of a small file) or cut off by `head`.
        let verdict = match whole {
            true => line_verdict(line),
            false => line_verdict(line).or_else(|| partial_verdict(line)),
        };
        if let Some(v) = verdict {
            return v;
        }
    }
    false
}

/// `Some(true)`: a transcript line; `Some(false)`: a Managed Agents line; `None`: cannot tell.
fn line_verdict(line: &[u8]) -> Option<bool> {
    let map: std::collections::HashMap<Cow<str>, &RawValue> = serde_json::from_slice(line).ok()?;
    if map.contains_key("processed_at") {
        return Some(false);
    }
    if KEYS.iter().any(|k| map.contains_key(*k)) {
        return Some(true);
    }
    let kind = map
        .get("type")
        .and_then(|t| serde_json::from_str::<Cow<str>>(t.get()).ok());
    match kind.as_deref() {
        Some(k) if LINE_TYPES.contains(&k) => Some(true),
        Some("session" | "session_thread" | "ping" | "error" | "event_start" | "event_delta") => {
            Some(false)
        }
        Some(k) if k.contains('.') => Some(false),
        // Any other undotted type is one of Claude Code's own (a metadata line).
        Some(_) => Some(true),
        None if map.contains_key("data") => Some(false),
        None => None,
    }
}

fn partial_verdict(part: &[u8]) -> Option<bool> {
    let has = |k: &str| memchr::memmem::find(part, format!("\"{k}\":").as_bytes()).is_some();
    if has("processed_at") {
        Some(false)
    } else if KEYS.iter().any(|k| has(k))
        || LINE_TYPES
            .iter()
            .any(|t| memchr::memmem::find(part, format!("\"type\":\"{t}\"").as_bytes()).is_some())
    {
        Some(true)
    } else {
        None
    }
}

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(rename = "sessionId", borrow, default)]
    session_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "requestId", borrow, default)]
    request_id: Option<Cow<'a, str>>,
    #[serde(rename = "isSidechain", default)]
    sidechain: Option<bool>,
    #[serde(rename = "isApiErrorMessage", default)]
    api_error: Option<bool>,
    #[serde(rename = "agentId", borrow, default)]
    agent_id: Option<Cow<'a, str>>,
    #[serde(rename = "costUSD", borrow, default)]
    cost_usd: Option<&'a RawValue>,
    #[serde(borrow, default)]
    message: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    model: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    usage: Option<&'a RawValue>,
}

/// Parse one transcript line (valid UTF-8, as the chunk reader hands it over). The skimmer
/// reads the fields in one pass over the line; anything unusual (escapes in an id, a field of
/// another type, a repeated field, a missing one) goes to the full parser, which gives the
/// same record or the exact error.
pub fn parse_line(bytes: &[u8]) -> Result<Parsed<'_>, String> {
    parse_line_text(utf8(bytes, "line")?)
}

/// [`parse_line`] on text already checked for UTF-8 (as the chunk reader checks each line).
pub fn parse_line_text(text: &str) -> Result<Parsed<'_>, String> {
    parse(text, true)
}

/// [`parse_line`] without the skimmer for lines with usage: every field read by serde.
pub fn parse_line_full(bytes: &[u8]) -> Result<Parsed<'_>, String> {
    parse(utf8(bytes, "line")?, false)
}

fn parse(text: &str, skim_usage: bool) -> Result<Parsed<'_>, String> {
    if skim_usage {
        if let Some(record) = skim::transcript_fields(text).and_then(|f| fast_line(text, &f)) {
            return Ok(Parsed::Record(record));
        }
    }
    let bytes = text.as_bytes();
    if !mentions_usage(text) {
        // No usage anywhere in the line: it costs nothing, but it must still be JSON.
        if skim::fields(text).is_some() {
            return Ok(Parsed::Record(Record::Ignored));
        }
        return match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Ok(_) => Ok(Parsed::Record(Record::Ignored)),
            Err(e) => Err(describe_json_error(&e, bytes)),
        };
    }
    full_line(bytes)
}

fn mentions_usage(text: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), b"\"usage\"").is_some()
}

/// Requests are assistant lines, and lines without a `type` (older Claude Code).
fn is_request_type(kind: Option<&str>) -> bool {
    matches!(kind, None | Some("assistant"))
}

/// What a line that is not a request is: nothing, or a line with usage that is not billed.
fn not_a_request(text: &str, kind: Option<&str>, message_usage: bool) -> Record {
    match kind {
        Some("progress") if mentions_usage(text) => Record::NotBilled(NotBilled::ProgressCopy),
        _ if message_usage => Record::NotBilled(NotBilled::OtherType),
        _ => Record::Ignored,
    }
}

/// A line's record from skimmed fields, or `None` where the full parser must decide.
fn fast_line(text: &str, f: &skim::TranscriptFields) -> Option<Record> {
    let usage = f.usage.filter(|u| *u != "null");
    let Some(usage) = usage.filter(|_| is_request_type(f.kind)) else {
        return Some(not_a_request(text, f.kind, usage.is_some()));
    };
    let model = f.model?;
    if model == "<synthetic>" {
        return Some(Record::NotBilled(NotBilled::Synthetic));
    }
    if f.api_error == Some(true) {
        return Some(Record::NotBilled(NotBilled::ApiError));
    }
    let at = parse_rfc3339_ms(f.timestamp?).ok()?;
    let u = transcript_usage(usage).ok()?;
    let cost_usd = match f.cost_usd {
        None | Some("null") => None,
        Some(c) => Some(cost(c).ok()?),
    };
    Some(Record::Turn(Box::new(Turn {
        session_id: f.session_id?.into(),
        at,
        message_id: f.message_id.map(Into::into),
        request_id: f.request_id.map(Into::into),
        model: model.into(),
        sidechain: f.sidechain == Some(true),
        agent_id: f.agent_id.map(Into::into),
        usage: u.usage,
        speed: u.speed,
        inference_geo: u.inference_geo,
        iterations: u.iterations,
        cost_usd,
    })))
}

/// `costUSD` as an exact decimal (its JSON number text, never through a float).
fn cost(text: &str) -> Result<Decimal, String> {
    Decimal::from_str_exact(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| format!("`costUSD` is not a number (got {text})"))
}

/// The rest of a line with usage, read by serde.
fn full_line(bytes: &[u8]) -> Result<Parsed<'_>, String> {
    let line: Line = serde_json::from_slice(bytes).map_err(|e| describe_json_error(&e, bytes))?;
    let kind = line.kind.as_deref();
    let message = line
        .message
        .filter(|m| m.get() != "null")
        .map(|m| super::record::object::<Message>(m.get(), "`message`"));
    if !is_request_type(kind) {
        // Not a request, whatever its message holds (or however it is shaped).
        let usage = matches!(&message, Some(Ok(m)) if m.usage.is_some_and(|u| u.get() != "null"));
        let text = std::str::from_utf8(bytes).unwrap_or_default();
        return Ok(Parsed::Record(not_a_request(text, kind, usage)));
    }
    let message = match message {
        Some(m) => m?,
        None => return Ok(Parsed::Record(Record::Ignored)),
    };
    let Some(usage) = message.usage.filter(|u| u.get() != "null") else {
        return Ok(Parsed::Record(Record::Ignored));
    };
    let model = message
        .model
        .as_deref()
        .ok_or("request line with usage but no `message.model`")?;
    if model == "<synthetic>" {
        return Ok(Parsed::Record(Record::NotBilled(NotBilled::Synthetic)));
    }
    if line.api_error == Some(true) {
        return Ok(Parsed::Record(Record::NotBilled(NotBilled::ApiError)));
    }
    let session_id = line
        .session_id
        .as_deref()
        .ok_or("request line without `sessionId`")?;
    let timestamp = line
        .timestamp
        .as_deref()
        .ok_or("request line without `timestamp`")?;
    let at = parse_rfc3339_ms(timestamp).map_err(|e| format!("`timestamp`: {e}"))?;
    let u = transcript_usage(usage.get())?;
    let cost_usd = match line.cost_usd {
        Some(c) if c.get() != "null" => Some(cost(c.get())?),
        _ => None,
    };
    Ok(Parsed::Record(Record::Turn(Box::new(Turn {
        session_id: session_id.into(),
        at,
        message_id: message.id.as_deref().map(Into::into),
        request_id: line.request_id.as_deref().map(Into::into),
        model: model.into(),
        sidechain: line.sidechain == Some(true),
        agent_id: line.agent_id.as_deref().map(Into::into),
        usage: u.usage,
        speed: u.speed,
        inference_geo: u.inference_geo,
        iterations: u.iterations,
        cost_usd,
    }))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(line: &str) -> Result<Record, String> {
        parse_line(line.as_bytes()).map(|p| match p {
            Parsed::Record(r) => r,
            Parsed::Page(_) => panic!("a page"),
        })
    }

    const ASSISTANT: &str = r#"{"parentUuid":"u0","isSidechain":false,"sessionId":"s1","version":"2.0.1","type":"assistant","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"the \"usage\" is high"}],"usage":{"input_tokens":10,"cache_creation_input_tokens":300,"cache_read_input_tokens":2000,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200},"output_tokens":50,"server_tool_use":{"web_search_requests":2},"service_tier":"standard","speed":"fast"}},"requestId":"req_1","uuid":"u1","timestamp":"2026-05-01T23:30:00.000Z"}"#;

    #[test]
    fn an_assistant_line_is_a_turn_with_split_writes_and_searches() {
        let Record::Turn(t) = turn(ASSISTANT).unwrap() else {
            panic!("not a turn")
        };
        assert_eq!(&*t.session_id, "s1");
        assert_eq!(t.message_id.as_deref(), Some("msg_1"));
        assert_eq!(t.request_id.as_deref(), Some("req_1"));
        assert_eq!(&*t.model, "claude-sonnet-4-5-20250929");
        assert!(!t.sidechain);
        assert_eq!(t.usage.tokens.input, 10);
        assert_eq!(t.usage.tokens.cache_write_5m, 100);
        assert_eq!(t.usage.tokens.cache_write_1h, 200);
        assert_eq!(t.usage.tokens.cache_read, 2000);
        assert_eq!(t.usage.tokens.output, 50);
        assert!(t.usage.cache_split_known);
        assert_eq!(t.usage.web_search_requests, Some(2));
        assert_eq!(t.speed, Some(Speed::Fast));
    }

    #[test]
    fn lines_without_usage_synthetic_and_errors() {
        let user = r#"{"type":"user","sessionId":"s1","message":{"role":"user","content":"hi"},"timestamp":"2026-05-01T23:29:00Z"}"#;
        assert_eq!(turn(user).unwrap(), Record::Ignored);
        let summary = r#"{"type":"summary","summary":"the usage report","leafUuid":"u9"}"#;
        assert_eq!(turn(summary).unwrap(), Record::Ignored);
        let synthetic = ASSISTANT.replace("claude-sonnet-4-5-20250929", "<synthetic>");
        assert_eq!(
            turn(&synthetic).unwrap(),
            Record::NotBilled(NotBilled::Synthetic)
        );
        let failed = ASSISTANT.replace(r#""uuid":"u1""#, r#""uuid":"u1","isApiErrorMessage":true"#);
        assert_eq!(
            turn(&failed).unwrap(),
            Record::NotBilled(NotBilled::ApiError)
        );
        assert!(turn("not json").unwrap_err().contains("malformed JSON"));
        assert!(turn(r#"{"type":"assistant","usage":"#)
            .unwrap_err()
            .contains("truncated"));
        let no_session = ASSISTANT.replace(r#""sessionId":"s1","#, "");
        assert!(turn(&no_session).unwrap_err().contains("sessionId"));
        let negative = ASSISTANT.replace(r#""output_tokens":50"#, r#""output_tokens":-5"#);
        assert!(turn(&negative).unwrap_err().contains("output_tokens"));
    }

    #[test]
    fn transcripts_are_told_from_managed_agents_records() {
        assert!(looks_like_transcript(ASSISTANT.as_bytes()));
        assert!(looks_like_transcript(
            br#"{"type":"summary","summary":"x","leafUuid":"u"}"#
        ));
        assert!(!looks_like_transcript(
            br#"{"type":"session","id":"sesn_1","agent":{}}"#
        ));
        assert!(!looks_like_transcript(
            br#"{"id":"e","type":"user.message","processed_at":"2026-05-01T10:00:00Z"}"#
        ));
        assert!(!looks_like_transcript(br#"{"data":[],"next_page":null}"#));
    }

    /// By the first line that tells, not by line 1 alone: Claude Code 2.1 files start with
    /// metadata (shapes from the marot/spotter fixtures and the reference's list of types).
    #[test]
    fn metadata_first_lines_and_cut_lines_still_tell() {
        let snapshot = r#"{"type":"file-history-snapshot","messageId":"m","snapshot":{"messageId":"m","trackedFileBackups":{},"timestamp":"2026-02-12T16:02:25.227Z"},"isSnapshotUpdate":false}"#;
        assert!(looks_like_transcript(snapshot.as_bytes()));
        for first in [
            r#"{"type":"permission-mode","permissionMode":"default"}"#,
            r#"{"type":"queue-operation","operation":"enqueue"}"#,
            r#"{"type":"a-new-metadata-type"}"#,
        ] {
            assert!(looks_like_transcript(first.as_bytes()), "{first}");
        }
        // Lines that cannot tell (blank, not JSON, no type) are passed over.
        let later = format!("\n{{}}\nnot json\n{ASSISTANT}\n");
        assert!(looks_like_transcript(later.as_bytes()));
        let ma_later = "{}\n{\"id\":\"e\",\"type\":\"agent.message\",\"processed_at\":\"2026-05-01T10:00:00Z\"}\n";
        assert!(!looks_like_transcript(ma_later.as_bytes()));
        // A first line longer than the head: judged by the keys in the part we have.
        let cut = &snapshot[..40];
        assert!(looks_like_transcript(cut.as_bytes()));
        assert!(!looks_like_transcript(
            br#"{"id":"e","processed_at":"2026-05-01T1"#
        ));
    }

    #[test]
    fn iterations_region_agent_and_cost_are_read() {
        // The advisor tool docs' example, on a subagent's line with Claude Code's estimate.
        let line = r#"{"type":"assistant","sessionId":"s1","agentId":"a7","costUSD":0.0125,"timestamp":"2026-10-01T09:05:00Z","requestId":"r","message":{"id":"m","model":"claude-sonnet-4-6","usage":{"input_tokens":412,"output_tokens":531,"inference_geo":"us","iterations":[{"type":"message","input_tokens":412,"output_tokens":89},{"type":"advisor_message","model":"claude-opus-4-8","input_tokens":823,"output_tokens":1612,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":7},"cache_creation_input_tokens":7},{"type":"message","input_tokens":1348,"cache_read_input_tokens":412,"output_tokens":442}]}}}"#;
        for parsed in [turn(line).unwrap(), {
            let Ok(Parsed::Record(r)) = parse_line_full(line.as_bytes()) else {
                panic!()
            };
            r
        }] {
            let Record::Turn(t) = parsed else {
                panic!("not a turn: {parsed:?}")
            };
            assert_eq!(t.agent_id.as_deref(), Some("a7"));
            assert_eq!(t.cost_usd, Some(Decimal::new(125, 4)));
            assert_eq!(t.inference_geo.as_deref(), Some("us"));
            assert_eq!(t.iterations.len(), 3);
            assert_eq!(t.iterations[1].kind, IterationKind::Advisor);
            assert_eq!(t.iterations[1].model.as_deref(), Some("claude-opus-4-8"));
            assert_eq!(t.iterations[1].tokens.cache_write_1h, 7);
            assert!(t.iterations[1].cache_split_known && !t.iterations[0].cache_split_known);
            // 412 + 823 + 1,348 in, 412 read, 89 + 1,612 + 442 out.
            let sum = t.tokens();
            assert_eq!((sum.input, sum.cache_read, sum.output), (2583, 412, 2143));
            assert_eq!(sum.cache_write_1h, 7);
        }
        let not_available = line.replace(
            r#""inference_geo":"us""#,
            r#""inference_geo":"not_available""#,
        );
        let Record::Turn(t) = turn(&not_available).unwrap() else {
            panic!()
        };
        assert_eq!(t.inference_geo, None);
        let bad = line.replace(r#""costUSD":0.0125"#, r#""costUSD":"cheap""#);
        assert!(turn(&bad).unwrap_err().contains("costUSD"));
    }

    #[test]
    fn lines_without_type_are_requests_and_progress_copies_are_not() {
        // ccusage's fixture shape (older Claude Code): no `type`.
        let old = r#"{"timestamp":"2026-01-09T10:00:00.000Z","sessionId":"session-alpha","message":{"role":"assistant","id":"msg-alpha-1","model":"claude-sonnet-4-20250514","usage":{"input_tokens":100,"output_tokens":50}},"requestId":"req-alpha-1","costUSD":0.12,"version":"1.0.0"}"#;
        assert!(matches!(turn(old).unwrap(), Record::Turn(_)));
        let progress = r#"{"type":"progress","sessionId":"s","data":{"message":{"type":"assistant","message":{"id":"m","usage":{"input_tokens":3}}},"type":"agent_progress","agentId":"a"},"timestamp":"2026-02-12T16:02:51.467Z"}"#;
        assert_eq!(
            turn(progress).unwrap(),
            Record::NotBilled(NotBilled::ProgressCopy)
        );
        let hook =
            r#"{"type":"progress","sessionId":"s","data":{"type":"hook_progress","command":"x"}}"#;
        assert_eq!(turn(hook).unwrap(), Record::Ignored);
        let user_with_usage = r#"{"type":"user","sessionId":"s","message":{"role":"user","usage":{"input_tokens":3}}}"#;
        assert_eq!(
            turn(user_with_usage).unwrap(),
            Record::NotBilled(NotBilled::OtherType)
        );
        let string_message = r#"{"type":"system","sessionId":"s","message":"compacted"}"#;
        assert_eq!(turn(string_message).unwrap(), Record::Ignored);
    }
}
