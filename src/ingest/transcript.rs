//! Claude Code transcripts (`~/.claude/projects/<project>/<session>.jsonl`): one JSON object
//! per line, most of them user turns, tool results and summaries that cost nothing. Only an
//! assistant line carries `message.usage`. The skimmer reads each line once, checking it is
//! JSON and picking out the line's and its message's few fields; a line it cannot read goes
//! to serde (after a `memchr` scan for `"usage"`: a line without one costs nothing).
//!
//! A line becomes a [`Turn`]: the request's tokens (cache writes split 5m/1h where the line
//! says so), web searches, speed, model and time. De-duplication across streaming snapshots,
//! sidechains and resumed sessions is the meter's job (it needs every file).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::record::{describe_json_error, transcript_usage, utf8, Parsed, Record};
use super::skim;
use crate::time::{parse_rfc3339_ms, Millis};
use crate::usage::{ProviderUsage, Speed};

/// One assistant line with usage: a model request, or one snapshot of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub session_id: Box<str>,
    pub at: Millis,
    pub message_id: Option<Box<str>>,
    pub request_id: Option<Box<str>>,
    pub model: Box<str>,
    pub sidechain: bool,
    /// Tokens (5m/1h split when `cache_creation` says) and `server_tool_use.web_search_requests`.
    pub usage: ProviderUsage,
    pub speed: Option<Speed>,
}

/// Lines that carry usage but are not billed requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotBilled {
    /// `message.model` is `<synthetic>`: written by Claude Code itself, no request was made.
    Synthetic,
    /// `isApiErrorMessage: true`: the request failed.
    ApiError,
}

/// Whether a file (its first bytes) is a Claude Code transcript rather than Managed Agents
/// records: its first line has a key only transcripts have, or one of their undotted line
/// types. A first line longer than `head` is judged by the keys in the part we have.
pub fn looks_like_transcript(head: &[u8]) -> bool {
    const KEYS: [&[u8]; 3] = [b"\"sessionId\":", b"\"parentUuid\":", b"\"leafUuid\":"];
    let Some(end) = memchr::memchr(b'\n', head) else {
        return is_transcript_line(head)
            || KEYS.iter().any(|k| memchr::memmem::find(head, k).is_some());
    };
    let line = &head[..end];
    is_transcript_line(line.strip_suffix(b"\r").unwrap_or(line))
}

fn is_transcript_line(first_line: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(rename = "type", borrow, default)]
        kind: Option<Cow<'a, str>>,
        #[serde(rename = "sessionId", borrow, default)]
        session_id: Option<&'a RawValue>,
        #[serde(rename = "parentUuid", borrow, default)]
        parent_uuid: Option<&'a RawValue>,
        #[serde(rename = "leafUuid", borrow, default)]
        leaf_uuid: Option<&'a RawValue>,
    }
    serde_json::from_slice::<Probe>(first_line).is_ok_and(|p| {
        p.session_id.is_some()
            || p.parent_uuid.is_some()
            || p.leaf_uuid.is_some()
            || matches!(
                p.kind.as_deref(),
                Some("user" | "assistant" | "summary" | "system")
            )
    })
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
        if let Some(record) = skim::transcript_fields(text).and_then(|f| fast_line(&f)) {
            return Ok(Parsed::Record(record));
        }
    }
    let bytes = text.as_bytes();
    if memchr::memmem::find(bytes, b"\"usage\"").is_none() {
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

/// A line's record from skimmed fields, or `None` where the full parser must decide.
fn fast_line(f: &skim::TranscriptFields) -> Option<Record> {
    let usage = match f.usage {
        Some(u) if f.kind == Some("assistant") && u != "null" => u,
        // A user line, a tool result or a summary that mentions "usage": nothing to bill.
        _ if f.message || f.kind != Some("assistant") => return Some(Record::Ignored),
        _ => return None,
    };
    let model = f.model?;
    if model == "<synthetic>" {
        return Some(Record::NotBilled(NotBilled::Synthetic));
    }
    if f.api_error == Some(true) {
        return Some(Record::NotBilled(NotBilled::ApiError));
    }
    let at = parse_rfc3339_ms(f.timestamp?).ok()?;
    let (usage, speed) = transcript_usage(usage).ok()?;
    Some(Record::Turn(Box::new(Turn {
        session_id: f.session_id?.into(),
        at,
        message_id: f.message_id.map(Into::into),
        request_id: f.request_id.map(Into::into),
        model: model.into(),
        sidechain: f.sidechain == Some(true),
        usage,
        speed,
    })))
}

/// The rest of a line with usage, read by serde.
fn full_line(bytes: &[u8]) -> Result<Parsed<'_>, String> {
    let line: Line = serde_json::from_slice(bytes).map_err(|e| describe_json_error(&e, bytes))?;
    let message = match line.message {
        Some(m) if line.kind.as_deref() == Some("assistant") && m.get() != "null" => {
            serde_json::from_str::<Message>(m.get())
                .map_err(|e| format!("`message`: {}", super::record::strip_position(&e)))?
        }
        // A user line, a tool result or a summary that mentions "usage": nothing to bill.
        _ => return Ok(Parsed::Record(Record::Ignored)),
    };
    let Some(usage) = message.usage.filter(|u| u.get() != "null") else {
        return Ok(Parsed::Record(Record::Ignored));
    };
    let model = message
        .model
        .as_deref()
        .ok_or("assistant line with usage but no `message.model`")?;
    if model == "<synthetic>" {
        return Ok(Parsed::Record(Record::NotBilled(NotBilled::Synthetic)));
    }
    if line.api_error == Some(true) {
        return Ok(Parsed::Record(Record::NotBilled(NotBilled::ApiError)));
    }
    let session_id = line
        .session_id
        .as_deref()
        .ok_or("assistant line without `sessionId`")?;
    let timestamp = line
        .timestamp
        .as_deref()
        .ok_or("assistant line without `timestamp`")?;
    let at = parse_rfc3339_ms(timestamp).map_err(|e| format!("`timestamp`: {e}"))?;
    let (usage, speed) = transcript_usage(usage.get())?;
    Ok(Parsed::Record(Record::Turn(Box::new(Turn {
        session_id: session_id.into(),
        at,
        message_id: message.id.as_deref().map(Into::into),
        request_id: line.request_id.as_deref().map(Into::into),
        model: model.into(),
        sidechain: line.sidechain == Some(true),
        usage,
        speed,
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
    }
}
