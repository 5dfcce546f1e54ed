//! `read_bytes` over a whole in-memory source: SSE decoder, NDJSON chunking, page documents.
//! The first byte picks the source name: odd -> `fuzz.sse` (forces SSE), else `fuzz.ndjson`
//! (encoding detected from the content). Must never panic.
#![no_main]

use agentmeter_ingest::ingest::record::Record;
use agentmeter_ingest::ingest::{read_bytes, Sink, Source};
use libfuzzer_sys::fuzz_target;

#[derive(Default)]
struct Count {
    records: u64,
    invalid: u64,
}

impl Sink for Count {
    fn record(&mut self, _line: u64, _record: Record) {
        self.records += 1;
    }

    fn invalid(&mut self, _line: u64, _message: String) -> agentmeter_core::error::Result<()> {
        self.invalid += 1;
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let (name, bytes) = match data.split_first() {
        Some((&b, rest)) if b & 1 == 1 => ("fuzz.sse", rest),
        Some((_, rest)) => ("fuzz.ndjson", rest),
        None => ("fuzz.ndjson", data),
    };
    let src = Source {
        name: name.into(),
        path: Some(name.into()),
    };
    let mut sink = Count::default();
    let _ = read_bytes(bytes, &src, &mut sink);
    std::hint::black_box((sink.records, sink.invalid));
});
