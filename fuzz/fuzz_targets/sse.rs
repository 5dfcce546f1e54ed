//! The SSE reader on arbitrary bytes (read as a `.sse` file): it must never panic, and the
//! same stream with CRLF or CR line ends instead of LF (all three are SSE line ends) must give
//! the same records and the same invalid ones, line for line.
#![no_main]

use agentmeter_ingest::ingest::record::Record;
use agentmeter_ingest::ingest::{read_bytes, Sink, Source};
use libfuzzer_sys::fuzz_target;

#[derive(Default)]
struct Seen {
    records: Vec<(u64, String)>,
    invalid: Vec<(u64, String)>,
}

impl Sink for Seen {
    fn record(&mut self, line: u64, record: Record) {
        self.records.push((line, format!("{record:?}")));
    }

    fn invalid(&mut self, line: u64, message: String) -> agentmeter_core::error::Result<()> {
        self.invalid.push((line, message));
        Ok(())
    }
}

fn read(bytes: &[u8]) -> (Seen, bool) {
    let src = Source {
        name: "fuzz.sse".into(),
        path: Some("fuzz.sse".into()),
    };
    let mut seen = Seen::default();
    let ok = read_bytes(bytes, &src, &mut seen).is_ok();
    (seen, ok)
}

fuzz_target!(|data: &[u8]| {
    let (lf, ok) = read(data);
    // Only where the input has no CR of its own (else the rewrite changes its lines) and
    // starts as SSE (else it may be read as JSON, where a CR is not a line end).
    let sse_start = [&b"event:"[..], b"data:", b"id:", b"retry:", b":"]
        .iter()
        .any(|p| data.starts_with(p));
    if !sse_start || data.contains(&b'\r') {
        return;
    }
    for end in [&b"\r\n"[..], b"\r"] {
        let mut other = Vec::with_capacity(data.len() * 2);
        for &b in data {
            match b {
                b'\n' => other.extend_from_slice(end),
                _ => other.push(b),
            }
        }
        let (seen, other_ok) = read(&other);
        assert_eq!(ok, other_ok);
        assert_eq!(lf.records, seen.records);
        assert_eq!(lf.invalid, seen.invalid);
    }
});
