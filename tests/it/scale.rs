//! Sharding and robustness: shards merged by a Parquet engine give the same totals as one
//! process; awkward inputs work or fail clearly; no input makes the parser panic.

use polars::prelude::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::common::*;

fn many_sessions(tmp: &Tmp, n: usize) -> std::path::PathBuf {
    // n interleaved sessions in one file, each naming its session_id on every event.
    let mut lines = String::new();
    for i in 0..n {
        lines.push_str(&session(&format!("sesn_{i:05}"), "claude-sonnet-4-6").to_string());
        lines.push('\n');
    }
    for i in 0..n {
        for (k, (kind, at)) in [
            ("session.status_running", "2026-06-10T10:00:00Z"),
            ("session.status_idle", "2026-06-10T10:06:00Z"),
        ]
        .iter()
        .enumerate()
        {
            let e = with(
                ev(&format!("e{i}_{k}"), kind, at),
                json!({"session_id": format!("sesn_{i:05}")}),
            );
            lines.push_str(&e.to_string());
            lines.push('\n');
        }
        let r = with(
            request(
                &format!("r{i}"),
                "2026-06-10T10:01:00Z",
                1000 + i as u64,
                10,
                0,
                0,
            ),
            json!({"session_id": format!("sesn_{i:05}")}),
        );
        lines.push_str(&r.to_string());
        lines.push('\n');
    }
    tmp.write("fleet.ndjson", &lines)
}

fn decimal_sum(df: &DataFrame, col: &str) -> Decimal {
    agentmeter::export::columns::decimals(df.column(col).unwrap())
        .unwrap()
        .into_iter()
        .flatten()
        .sum()
}

#[test]
fn shards_merged_with_polars_equal_one_process() {
    let tmp = Tmp::new();
    let fleet = many_sessions(&tmp, 10_000);
    let one = run(["meter", fleet.to_str().unwrap(), "-f", "json"]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    let v: Value = serde_json::from_str(&one.stdout).unwrap();
    assert_eq!(
        v["totals"]["sessions"], 10_000,
        "10,000 interleaved sessions in one file"
    );
    let total = dec(v["totals"]["cost"]["total"].as_str().unwrap());
    let mut frames = Vec::new();
    let mut sessions = 0;
    for i in 1..=3 {
        let dir = tmp.path(&format!("shard{i}"));
        let r = run([
            "meter",
            fleet.to_str().unwrap(),
            "--shard",
            &format!("{i}/3"),
            "--export",
            dir.to_str().unwrap(),
            "-f",
            "json",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let s: Value = serde_json::from_str(&r.stdout).unwrap();
        sessions += s["totals"]["sessions"].as_u64().unwrap();
        frames.push(
            LazyFrame::scan_parquet(
                PlRefPath::try_from_path(&dir.join("line_items.parquet")).unwrap(),
                Default::default(),
            )
            .unwrap(),
        );
    }
    assert_eq!(sessions, 10_000, "every session in exactly one shard");
    let merged = concat(frames, Default::default())
        .unwrap()
        .collect()
        .unwrap();
    assert_eq!(decimal_sum(&merged, "amount"), total);
    let r = run(["meter", fleet.to_str().unwrap(), "--shard", "4/3"]);
    assert_eq!(r.code, 2);
}

#[test]
fn awkward_inputs_work() {
    let tmp = Tmp::new();
    // A 10 MB tool result on one line, a CRLF line, no final newline, a count above u32.
    let big = "x".repeat(10 << 20);
    let text = format!(
        "{}\r\n{}\n{}\n{}",
        session("s", "claude-sonnet-4-6"),
        with(
            ev("big", "agent.tool_result", "2026-06-10T10:00:00Z"),
            json!({"tool_use_id": "t", "content": [{"type": "text", "text": big}]})
        ),
        ev("a", "session.status_running", "2026-06-10T10:00:00Z"),
        request("r", "2026-06-10T10:01:00Z", 5_000_000_000, 0, 0, 0)
    );
    let f = tmp.write("awkward.ndjson", &text);
    let r = run(["meter", f.to_str().unwrap(), "-f", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    // 5,000,000,000 x $3/M = 15,000; still running at its last event (10:01): 60,000 ms = 0.001333333.
    assert_eq!(v["totals"]["tokens"]["input"], 5_000_000_000u64);
    assert_eq!(v["totals"]["cost"]["input"], "15000");
}

#[test]
fn invalid_utf8_fails_clearly() {
    let tmp = Tmp::new();
    let mut bytes = format!("{}\n", session("s", "claude-sonnet-4-6")).into_bytes();
    bytes.extend_from_slice(b"{\"id\":\"e\",\"type\":\"agent.message\",\"processed_at\":\"2026-06-10T10:00:00Z\",\"content\":\"\xff\xfe\"}\n");
    let f = tmp.path("bad.ndjson");
    std::fs::write(&f, bytes).unwrap();
    let r = run(["meter", f.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(":2: ") && r.stderr.contains("UTF-8"),
        "{}",
        r.stderr
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Arbitrary bytes, and valid records with bytes flipped, never panic the parser.
    #[test]
    fn the_record_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200), flip in any::<prop::sample::Index>(), to in any::<u8>()) {
        let _ = agentmeter::ingest::record::parse_object(&bytes, None);
        let mut rec = request("e", "2026-06-10T10:01:00Z", 1, 2, 3, 4).to_string().into_bytes();
        let i = flip.index(rec.len());
        rec[i] = to;
        let _ = agentmeter::ingest::record::parse_object(&rec, Some("span.model_request_end"));
    }

    #[test]
    fn the_sse_decoder_never_panics(text in "(event: [a-z._]{0,12}\n|data: [ -~]{0,40}\n|: [a-z]{0,5}\n|\n|id: 1\n){0,20}") {
        #[derive(Default)]
        struct Count(usize);
        impl agentmeter::ingest::Sink for Count {
            fn record(&mut self, _: u64, _: agentmeter::ingest::record::Record) { self.0 += 1; }
            fn invalid(&mut self, _: u64, _: String) -> agentmeter::error::Result<()> { Ok(()) }
        }
        let tmp = Tmp::new();
        let f = tmp.write("s.sse", &text);
        let src = agentmeter::ingest::Source { name: "s.sse".into(), path: Some(f) };
        prop_assert!(agentmeter::ingest::read_source(&src, &mut Count::default()).is_ok());
    }
}

/// What `parse_object` makes of a line, comparable across the fast and the full parser.
fn parsed(r: Result<agentmeter::ingest::record::Parsed, String>) -> Result<String, String> {
    use agentmeter::ingest::record::Parsed;
    r.map(|p| match p {
        Parsed::Record(r) => format!("{r:?}"),
        Parsed::Page(items) => format!("page of {}", items.len()),
    })
}

/// An event line with its fields in any order, content with escapes, odd spacing.
fn event_line() -> impl Strategy<Value = String> {
    let kind = prop::sample::select(vec![
        "agent.message",
        "agent.thinking",
        "agent.tool_use",
        "agent.tool_result",
        "user.message",
        "span.model_request_start",
        "span.model_request_end",
        "session.status_running",
        "session.status_idle",
        "session.deleted",
        "session.thread_status_idle",
        "session.updated",
    ]);
    let id = prop_oneof![
        6 => Just(r#""id":"sevt_1""#),
        1 => Just(r#""id":"sev\u0074_1""#),
    ];
    let at = prop_oneof![
        6 => Just(r#""processed_at":"2026-06-10T10:00:00.250Z""#),
        1 => Just(r#""processed_at":"2026-06-10T10:00:00""#),
        1 => Just(r#""processed_at":null"#),
    ];
    let field = prop::sample::select(vec![
        r#""session_id":"sesn_a""#,
        r#""session_thread_id":"sthr_1""#,
        r#""name":"web_search""#,
        r#""name":"bash""#,
        r#""name":{"x":1}"#,
        r#""is_error":true"#,
        r#""is_error":false"#,
        r#""is_error":"no""#,
        r#""tool_use_id":"sevt_0""#,
        r#""tool_use_id":"sev\u0074_0""#,
        r#""tool_use_id":5"#,
        r#""tool_use_id":null"#,
        r#""content":[{"type":"text","text":"caf\u00e9 \"q\" \\ \n 日本"}]"#,
        r#""input":{"a":[1,-2.5e3,true,false,null,{}],"b":[]}"#,
        r#""model_usage":{"input_tokens":5,"output_tokens":6}"#,
        r#""model_usage":{"cache_read_input_tokens":7,"speed":"fast","cache_creation_input_tokens":8}"#,
        r#""model_usage":{"input_tokens":-1,"speed":"turbo"}"#,
        r#""model_usage":{"output_tokens":18446744073709551616}"#,
        r#""model_usage":null"#,
        r#""model_usage":[1]"#,
        r#""updated_at":"2026-06-10T10:00:00Z""#,
    ]);
    (
        kind,
        id,
        at,
        prop::collection::vec(field, 0..5),
        // A failed tool call (it may cancel a web search) needs both; make it common.
        prop::option::of(Just(r#""is_error":true,"tool_use_id":"sevt_0""#)),
        prop::sample::select(vec!["", " ", "\t"]),
    )
        .prop_map(|(kind, id, at, fields, failed, sp)| {
            let mut parts = vec![format!(r#""type":{sp}"{kind}""#), id.into(), at.into()];
            parts.extend(failed.map(String::from));
            parts.extend(fields.iter().map(|f| f.to_string()));
            parts.rotate_left(fields.len() / 2);
            format!("{{{sp}{}{sp}}}", parts.join(&format!(",{sp}")))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// The skimmer (fast path for events that cannot bill) reads every line exactly as the
    /// full parser does: the same record, or the same error. Also after a byte is changed.
    #[test]
    fn the_fast_path_never_differs_from_the_full_parser(line in event_line(), flip in any::<prop::sample::Index>(), to in any::<u8>(), do_flip in any::<bool>()) {
        use agentmeter::ingest::record::{parse_object, parse_object_full};
        let mut bytes = line.into_bytes();
        if do_flip {
            let i = flip.index(bytes.len());
            bytes[i] = to;
        }
        prop_assert_eq!(parsed(parse_object(&bytes, None)), parsed(parse_object_full(&bytes, None)));
    }
}

#[test]
fn with_no_memory_budget_state_is_spilled_and_read_back() {
    use agentmeter::meter::{meter, MeterOptions};
    let dir = crate::common::fixtures();
    let sources = agentmeter::ingest::discover(&[
        dir.join("busy-sonnet.ndjson").display().to_string(),
        dir.join("multiagent.ndjson").display().to_string(),
    ])
    .unwrap();
    let in_memory = meter(&sources, &MeterOptions::default()).unwrap();
    let spilled = meter(
        &sources,
        &MeterOptions {
            memory_mb: Some(0),
            ..MeterOptions::default()
        },
    )
    .unwrap();
    assert_eq!(in_memory.summary.spilled_bytes, 0);
    assert!(spilled.summary.spilled_bytes > 0);
    assert_eq!(in_memory.sessions, spilled.sessions);
}

/// A Claude Code transcript line with its fields in any order and some of the odd shapes
/// real files have.
fn transcript_line() -> impl Strategy<Value = String> {
    let kind = prop::sample::select(vec![
        r#""type":"assistant""#,
        r#""type":"assistant""#,
        r#""type":"assistant""#,
        r#""type":"user""#,
        r#""type":"assist\u0061nt""#,
        r#""type":null"#,
        r#""type":"progress""#,
        r#""type":"file-history-snapshot""#,
        r#""version":"1.0.0""#, // older lines have no type
    ]);
    let session = prop_oneof![
        8 => Just(r#""sessionId":"s1""#),
        1 => Just(r#""sessionId":7"#),
        1 => Just(r#""uuid":"u""#),
    ];
    let time = prop_oneof![
        8 => Just(r#""timestamp":"2026-05-01T10:00:00.000Z""#),
        1 => Just(r#""timestamp":"2026-05-01T10:00:00""#),
    ];
    let field = prop::sample::select(vec![
        r#""requestId":"req_1""#,
        r#""requestId":"req_1""#,
        r#""isSidechain":true"#,
        r#""isSidechain":false"#,
        r#""isSidechain":"no""#,
        r#""isApiErrorMessage":true"#,
        r#""uuid":"u","parentUuid":null,"cwd":"/home/a \"b\"""#,
        r#""agentId":"a7""#,
        r#""agentId":"a\u0037""#,
        r#""costUSD":0.12"#,
        r#""costUSD":1e-3"#,
        r#""costUSD":"cheap""#,
        r#""data":{"message":{"message":{"usage":{"input_tokens":3}}}}"#,
    ]);
    let message = prop::sample::select(vec![
        r#""message":{"id":"msg_1","model":"claude-sonnet-4-5","content":[{"type":"text","text":"a \"usage\" \\ note"}],"usage":{"input_tokens":10,"output_tokens":5,"cache_creation":{"ephemeral_1h_input_tokens":3},"server_tool_use":{"web_search_requests":1}}}"#,
        r#""message":{"id":"msg_1","model":"claude-sonnet-4-5","content":[{"type":"text","text":"a \"usage\" \\ note"}],"usage":{"input_tokens":10,"output_tokens":5,"cache_creation":{"ephemeral_1h_input_tokens":3},"server_tool_use":{"web_search_requests":1}}}"#,
        r#""message":{"model":"<synthetic>","usage":{"input_tokens":0}}"#,
        r#""message":{"id":"msg_1","model":"claude-sonnet-4-5","usage":null}"#,
        r#""message":{"id":"msg_1","usage":{"input_tokens":1}}"#,
        r#""message":{"id":"msg_1","model":"claude-sonnet-4-5","usage":{"input_tokens":-1}}"#,
        r#""message":{"id":"m\u0031","model":"claude-sonnet-4-5","usage":{"input_tokens":1,"speed":"fast"}}"#,
        r#""message":{"id":"msg_1","id":"msg_2","model":"x","usage":{}}"#,
        r#""message":null"#,
        r#""message":"a string""#,
        r#""toolUseResult":{"usage":{"input_tokens":9}}"#,
        r#""message":{"id":"msg_1","model":"claude-sonnet-4-6","usage":{"input_tokens":412,"output_tokens":531,"inference_geo":"us","iterations":[{"type":"message","input_tokens":412,"output_tokens":89},{"type":"advisor_message","model":"claude-opus-4-8","input_tokens":823,"output_tokens":1612}]}}"#,
        r#""message":{"id":"msg_1","model":"claude-sonnet-4-6","usage":{"input_tokens":1,"iterations":[],"inference_geo":"not_available"}}"#,
        r#""message":{"id":"msg_1","model":"claude-sonnet-4-6","usage":{"input_tokens":1,"iterations":[{"type":"message","input_tokens":-2}]}}"#,
        r#""message":{"id":"msg_1","model":"claude-sonnet-4-6","usage":{"input_tokens":1,"iterations":{"type":"message"}}}"#,
        r#""message":{"id":"msg_1","model":"claude-sonnet-4-6","usage":{"input_tokens":1,"inference_geo":7}}"#,
    ]);
    (
        kind,
        session,
        time,
        prop::collection::vec(field, 0..3),
        message,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(kind, session, time, fields, message, at)| {
            let mut parts: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
            parts.extend([session.to_string(), time.to_string()]);
            parts.insert(at.index(parts.len() + 1), kind.to_string());
            parts.insert(at.index(parts.len() + 1), message.to_string());
            format!("{{{}}}", parts.join(","))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Transcript lines read the same with the skimmer as with serde alone: the same record or
    /// the same error, also after a byte is changed (keeping the line valid UTF-8, as the
    /// reader guarantees).
    #[test]
    fn transcript_fast_path_never_differs_from_the_full_parser(line in transcript_line(), flip in any::<prop::sample::Index>(), to in 0x20u8..0x7f, do_flip in any::<bool>()) {
        use agentmeter::ingest::transcript::{parse_line, parse_line_full};
        let mut bytes = line.into_bytes();
        if do_flip {
            let i = flip.index(bytes.len());
            bytes[i] = to;
        }
        prop_assert_eq!(parsed(parse_line(&bytes)), parsed(parse_line_full(&bytes)));
    }
}
