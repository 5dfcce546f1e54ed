//! The record parsers on arbitrary bytes: `parse_object` and the Claude Code line parser must
//! return `Ok` or `Err`, never panic; and on valid UTF-8 (what every caller hands them) the
//! fast path must agree with the full parser: the same record, or the same error.
//! The first byte picks the default type: odd -> `Some("agent.message")`, else `None`.
#![no_main]

use agentmeter_ingest::ingest::record::{parse_object, parse_object_full, Parsed};
use agentmeter_ingest::ingest::transcript::{parse_line, parse_line_full};
use libfuzzer_sys::fuzz_target;

fn shown(r: Result<Parsed, String>) -> Result<String, String> {
    r.map(|p| match p {
        Parsed::Record(r) => format!("{r:?}"),
        Parsed::Page(items) => format!("page of {}", items.len()),
    })
}

fuzz_target!(|data: &[u8]| {
    let (default_type, bytes) = match data.split_first() {
        Some((&b, rest)) if b & 1 == 1 => (Some("agent.message"), rest),
        Some((_, rest)) => (None, rest),
        None => (None, data),
    };
    let fast = shown(parse_object(bytes, default_type));
    let line = shown(parse_line(bytes));
    if std::str::from_utf8(bytes).is_ok() {
        assert_eq!(fast, shown(parse_object_full(bytes, default_type)));
        assert_eq!(line, shown(parse_line_full(bytes)));
    }
});
