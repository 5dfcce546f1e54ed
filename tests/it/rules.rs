//! One test per metering or rating rule, with expectations worked out by hand from the price
//! facts (managed-agents-api.md sections 2-3); the arithmetic is in the comments.

use agentmeter::meter::{CacheTtl, MeterOptions};
use agentmeter::pricing::PriceTable;
use agentmeter::rate::{Category, CostColumn};
use agentmeter::report::group::{group, GroupBy};
use agentmeter::time::Zone;
use serde_json::json;

use crate::common::*;

fn one(text: &str) -> agentmeter::rate::RatedSession {
    let mut s = bill(text);
    assert_eq!(s.len(), 1);
    s.remove(0)
}

#[test]
fn seed_example_uncached_is_0_705() {
    // 50,000 x $5/M = 0.25; 15,000 x $25/M = 0.375; 1 h x $0.08 = 0.08; total 0.705.
    let s = one(&ndjson(&[
        session("sesn_a", "claude-opus-4-6"),
        ev("e1", "session.status_running", "2026-05-01T10:00:00Z"),
        request("e2", "2026-05-01T10:30:00Z", 50_000, 15_000, 0, 0),
        ev("e3", "session.status_idle", "2026-05-01T11:00:00Z"),
    ]));
    assert_eq!(s.cost[CostColumn::Input], dec("0.25"));
    assert_eq!(s.cost[CostColumn::Output], dec("0.375"));
    assert_eq!(s.cost[CostColumn::Runtime], dec("0.08"));
    assert_eq!(s.cost.total(), dec("0.705"));
}

#[test]
fn seed_example_cached_is_0_525() {
    // 10,000 x $5/M = 0.05; 40,000 reads x $0.50/M = 0.02; 0.375 output; 0.08 runtime: 0.525.
    let s = one(&ndjson(&[
        session("sesn_a", "claude-opus-4-6"),
        ev("e1", "session.status_running", "2026-05-01T10:00:00Z"),
        request("e2", "2026-05-01T10:30:00Z", 10_000, 15_000, 0, 40_000),
        ev("e3", "session.status_idle", "2026-05-01T11:00:00Z"),
    ]));
    assert_eq!(s.cost[CostColumn::CacheRead], dec("0.02"));
    assert_eq!(s.cost.total(), dec("0.525"));
}

#[test]
fn a_daily_30_minute_sonnet_agent_pays_4_cents_a_day_in_runtime() {
    // 30 min = 1,800,000 ms; 1,800,000 x 0.08 / 3,600,000 = 0.04 per day. Over three days,
    // idle overnight (free): 0.12.
    let mut recs = vec![session("sesn_daily", "claude-sonnet-4-6")];
    for d in 1..=3 {
        recs.push(ev(
            &format!("r{d}"),
            "session.status_running",
            &format!("2026-06-0{d}T07:00:00Z"),
        ));
        recs.push(ev(
            &format!("i{d}"),
            "session.status_idle",
            &format!("2026-06-0{d}T07:30:00Z"),
        ));
    }
    let s = one(&ndjson(&recs));
    assert_eq!(s.usage.active_ms(), 3 * 1_800_000);
    assert_eq!(s.cost[CostColumn::Runtime], dec("0.12"));
    let days = group(std::slice::from_ref(&s), &[GroupBy::Day]).unwrap();
    assert_eq!(days.len(), 3);
    assert!(days
        .iter()
        .all(|d| d.sums.cost()[CostColumn::Runtime] == dec("0.04")));
}

#[test]
fn idle_rescheduling_and_terminated_time_is_free_and_repeated_running_does_not_restart() {
    // running 10:00 (again at 10:10: no restart) -> idle 10:30 = 30 min; idle until 10:45 free;
    // running 10:45 -> rescheduled 10:50 = 5 min; rescheduling until 10:55 free;
    // running 10:55 -> terminated 11:00 = 5 min; events after termination: free.
    // 40 min = 2,400,000 ms; 2,400,000 x 0.08 / 3,600,000 = 0.053333333 (9 places, half-even).
    let s = one(&ndjson(&[
        session("s", "claude-sonnet-4-6"),
        ev("a", "session.status_running", "2026-06-10T10:00:00Z"),
        ev("b", "session.status_running", "2026-06-10T10:10:00Z"),
        ev("c", "session.status_idle", "2026-06-10T10:30:00Z"),
        ev("d", "session.status_running", "2026-06-10T10:45:00Z"),
        ev("e", "session.status_rescheduled", "2026-06-10T10:50:00Z"),
        ev("f", "session.status_running", "2026-06-10T10:55:00Z"),
        ev("g", "session.status_terminated", "2026-06-10T11:00:00Z"),
        ev("h", "agent.message", "2026-06-10T12:00:00Z"),
    ]));
    assert_eq!(s.usage.active_ms(), 2_400_000);
    assert_eq!(s.cost[CostColumn::Runtime], dec("0.053333333"));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn a_deleted_session_stops_running_when_deleted() {
    // running 10:00 -> session.deleted 10:30 = 1,800,000 ms; the message at 12:00 adds
    // nothing. 1,800,000 x 0.08 / 3,600,000 = 0.04. (Read by the skimmer, which once took
    // `session.deleted` for an event that cannot bill.)
    let s = one(&ndjson(&[
        session("s", "claude-sonnet-4-6"),
        ev("a", "session.status_running", "2026-06-10T10:00:00Z"),
        ev("b", "session.deleted", "2026-06-10T10:30:00Z"),
        ev("c", "agent.message", "2026-06-10T12:00:00Z"),
    ]));
    assert_eq!(s.usage.active_ms(), 1_800_000);
    assert_eq!(s.cost[CostColumn::Runtime], dec("0.04"));
}

#[test]
fn a_session_still_running_at_its_last_event_counts_to_it_with_a_warning() {
    // running 10:00, last event 10:20:00.250: 1,200,250 ms; x 0.08 / 3,600,000 = 0.026672222(2) -> 0.026672222.
    let s = one(&ndjson(&[
        session("s", "claude-sonnet-4-6"),
        ev("a", "session.status_running", "2026-06-10T10:00:00Z"),
        ev("b", "agent.message", "2026-06-10T10:20:00.250Z"),
    ]));
    assert_eq!(s.usage.active_ms(), 1_200_250);
    assert_eq!(s.cost[CostColumn::Runtime], dec("0.026672222"));
    assert!(
        s.warnings.iter().any(|w| w.contains("still running")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn child_threads_count_as_the_union_of_running_time() {
    // primary 10:00-10:30, thread A 10:20-10:50, thread B 10:40-11:00 -> union 10:00-11:00 = 1 h,
    // although the sum is 30 + 30 + 20 = 80 min. Runtime 0.08.
    let s = one(&ndjson(&[
        session("s", "claude-opus-4-6"),
        ev("a", "session.status_running", "2026-06-10T10:00:00Z"),
        ev("b", "session.status_idle", "2026-06-10T10:30:00Z"),
        with(
            ev("c", "session.thread_status_running", "2026-06-10T10:20:00Z"),
            json!({"session_thread_id": "sthr_a"}),
        ),
        with(
            ev("d", "session.thread_status_idle", "2026-06-10T10:50:00Z"),
            json!({"session_thread_id": "sthr_a"}),
        ),
        with(
            ev("e", "session.thread_status_running", "2026-06-10T10:40:00Z"),
            json!({"session_thread_id": "sthr_b"}),
        ),
        with(
            ev(
                "f",
                "session.thread_status_terminated",
                "2026-06-10T11:00:00Z",
            ),
            json!({"session_thread_id": "sthr_b"}),
        ),
    ]));
    assert_eq!(s.usage.active_ms(), 3_600_000);
    assert_eq!(s.cost[CostColumn::Runtime], dec("0.08"));
}

#[test]
fn duplicate_events_count_once_and_are_reported() {
    // The request appears twice (same id): 1,000 input x $3/M = 0.003, once.
    let r = request("e2", "2026-06-10T10:01:00Z", 1_000, 0, 0, 0);
    let s = one(&ndjson(&[
        session("s", "claude-sonnet-4-6"),
        ev("e1", "agent.message", "2026-06-10T10:00:00Z"),
        r.clone(),
        ev("e1", "agent.message", "2026-06-10T10:00:00Z"),
        r,
    ]));
    assert_eq!(s.usage.requests.len(), 1);
    assert_eq!(s.cost[CostColumn::Input], dec("0.003"));
    assert_eq!(s.usage.duplicate_events, 2);
}

#[test]
fn outcome_evaluations_are_billed_like_requests() {
    // grader usage: 2,000 input x $3/M = 0.006; 500 output x $15/M = 0.0075.
    let s = one(&ndjson(&[
        session("s", "claude-sonnet-4-6"),
        with(
            ev("g", "span.outcome_evaluation_end", "2026-06-10T10:00:00Z"),
            json!({"outcome_id": "outc_1", "result": "satisfied", "iteration": 0,
                   "usage": {"input_tokens": 2000, "output_tokens": 500, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}),
        ),
    ]));
    assert_eq!(s.usage.requests.len(), 1);
    assert_eq!(s.cost.total(), dec("0.0135"));
}

#[test]
fn web_searches_are_tool_uses_named_web_search_without_an_error_result() {
    // Three web_search tool uses, one failed -> 2 x $10/1,000 = 0.02. An MCP tool named
    // web_search and a bash tool use are not billed.
    let s = one(&ndjson(&[
        session("s", "claude-sonnet-4-6"),
        with(
            ev("u1", "agent.tool_use", "2026-06-10T10:00:00Z"),
            json!({"name": "web_search", "input": {"query": "q"}}),
        ),
        with(
            ev("u2", "agent.tool_use", "2026-06-10T10:01:00Z"),
            json!({"name": "web_search"}),
        ),
        with(
            ev("u3", "agent.tool_use", "2026-06-10T10:02:00Z"),
            json!({"name": "web_search"}),
        ),
        with(
            ev("r2", "agent.tool_result", "2026-06-10T10:01:01Z"),
            json!({"tool_use_id": "u2", "is_error": true}),
        ),
        with(
            ev("r3", "agent.tool_result", "2026-06-10T10:02:01Z"),
            json!({"tool_use_id": "u3", "is_error": false}),
        ),
        with(
            ev("m1", "agent.mcp_tool_use", "2026-06-10T10:03:00Z"),
            json!({"name": "web_search", "server_name": "x"}),
        ),
        with(
            ev("b1", "agent.tool_use", "2026-06-10T10:04:00Z"),
            json!({"name": "bash"}),
        ),
    ]));
    assert_eq!(s.usage.web_searches.len(), 2);
    assert_eq!(s.cost[CostColumn::WebSearch], dec("0.02"));
}

fn cache_session(split: Option<(u64, u64)>) -> String {
    let mut obj = session("s", "claude-sonnet-4-6");
    if let Some((five, hour)) = split {
        obj["usage"] = json!({"cache_creation": {"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": hour}});
    }
    ndjson(&[
        obj,
        request("a", "2026-06-10T10:00:00Z", 0, 0, 1_000, 0),
        request("b", "2026-06-10T10:05:00Z", 0, 0, 1_000, 0),
    ])
}

#[test]
fn cache_writes_split_by_the_sessions_reported_ratio() {
    // Reported 300 : 100 -> 2,000 written = 1,500 at 5m + 500 at 1h.
    // 1,500 x $3.75/M = 0.005625; 500 x $6/M = 0.003; cache_write 0.008625.
    let s = one(&cache_session(Some((300, 100))));
    let t = s.usage.tokens();
    assert_eq!((t.cache_write_5m, t.cache_write_1h), (1_500, 500));
    assert_eq!(s.cost[CostColumn::CacheWrite], dec("0.008625"));
}

#[test]
fn without_a_reported_split_cache_writes_follow_cache_ttl() {
    // Default 5m: 2,000 x $3.75/M = 0.0075. --cache-ttl 1h: 2,000 x $6/M = 0.012.
    assert_eq!(
        one(&cache_session(None)).cost[CostColumn::CacheWrite],
        dec("0.0075")
    );
    assert_eq!(
        one(&cache_session(Some((0, 0)))).cost[CostColumn::CacheWrite],
        dec("0.0075")
    );
    let opts = MeterOptions {
        cache_ttl: CacheTtl::OneHour,
        ..Default::default()
    };
    let s = bill_with(&cache_session(None), &opts, &PriceTable::bundled().unwrap());
    assert_eq!(s[0].cost[CostColumn::CacheWrite], dec("0.012"));
}

#[test]
fn long_context_prices_the_whole_request_above_the_threshold() {
    // Sonnet 4.5: 150,000 input + 60,000 reads = 210,000 > 200,000, so everything is at the
    // long-context rates: 150,000 x $6/M = 0.9; 60,000 x $0.60/M = 0.036; 10,000 x $22.50/M =
    // 0.225; total 1.161. At exactly 200,000 (140,000 + 60,000) the standard rates apply:
    // 0.42 + 0.018 + 0.15 = 0.588.
    let over = one(&ndjson(&[
        session("s", "claude-sonnet-4-5"),
        request("a", "2026-06-10T10:00:00Z", 150_000, 10_000, 0, 60_000),
    ]));
    assert_eq!(over.cost.total(), dec("1.161"));
    let at = one(&ndjson(&[
        session("s", "claude-sonnet-4-5"),
        request("a", "2026-06-10T10:00:00Z", 140_000, 10_000, 0, 60_000),
    ]));
    assert_eq!(at.cost.total(), dec("0.588"));
    // Opus 4.6 lost the premium on 2026-03-13: 250,000 x $5/M = 1.25 after, x $10/M = 2.5 before.
    let after = one(&ndjson(&[
        session("s", "claude-opus-4-6"),
        request("a", "2026-03-13T00:00:00Z", 250_000, 0, 0, 0),
    ]));
    assert_eq!(after.cost[CostColumn::Input], dec("1.25"));
    let before = one(&ndjson(&[
        session("s", "claude-opus-4-6"),
        request("a", "2026-03-12T23:59:59.999Z", 250_000, 0, 0, 0),
    ]));
    assert_eq!(before.cost[CostColumn::Input], dec("2.5"));
}

#[test]
fn fast_mode_uses_the_fast_rates() {
    // Opus 4.8 fast: 10,000 x $10/M = 0.10 input, 2,000 x $50/M = 0.10 output.
    // Standard speed: 0.05 + 0.05.
    let fast = |speed: &str| {
        let mut r = request("a", "2026-06-10T10:00:00Z", 10_000, 2_000, 0, 0);
        r["model_usage"]["speed"] = json!(speed);
        one(&ndjson(&[session("s", "claude-opus-4-8"), r]))
            .cost
            .total()
    };
    assert_eq!(fast("fast"), dec("0.20"));
    assert_eq!(fast("standard"), dec("0.10"));
    // Opus 4.6 fast mode fell back to standard about 30 days after the Opus 4.8 launch
    // (2026-06-27): priced at the standard 0.05 + 0.05, with a warning.
    let mut r = request("a", "2026-06-28T10:00:00Z", 10_000, 2_000, 0, 0);
    r["model_usage"]["speed"] = json!("fast");
    let s = one(&ndjson(&[session("s", "claude-opus-4-6"), r]));
    assert_eq!(s.cost.total(), dec("0.10"));
    assert!(s.warnings.iter().any(|w| w.contains("fast")));
}

#[test]
fn us_data_residency_multiplies_tokens_from_its_effective_date() {
    // Sonnet 4.6 with inference_geo "us" from 2026-08-06: 100,000 x $3/M x 1.1 = 0.33 and
    // 10,000 x $15/M x 1.1 = 0.165. The day before: 0.30 + 0.15. Haiku 4.5 is not listed:
    // 100,000 x $1/M = 0.10 either way.
    let priced = |model: &str, at: &str| {
        let mut obj = session("s", model);
        obj["agent"]["model"]["inference_geo"] = json!("us");
        one(&ndjson(&[obj, request("a", at, 100_000, 10_000, 0, 0)])).cost
    };
    let c = priced("claude-sonnet-4-6", "2026-08-06T00:00:00Z");
    assert_eq!(
        (c[CostColumn::Input], c[CostColumn::Output]),
        (dec("0.33"), dec("0.165"))
    );
    let c = priced("claude-sonnet-4-6", "2026-08-05T23:59:59Z");
    assert_eq!(
        (c[CostColumn::Input], c[CostColumn::Output]),
        (dec("0.30"), dec("0.15"))
    );
    assert_eq!(
        priced("claude-haiku-4-5", "2026-09-01T00:00:00Z")[CostColumn::Input],
        dec("0.10")
    );
}

#[test]
fn tokens_are_priced_at_the_rates_in_force_at_the_request() {
    // A made-up model whose input goes from $3 to $4 at 2026-07-01T00:00:00Z: one million
    // input tokens a millisecond before costs 3, at the instant 4: 7 in all.
    let table = table_plus(
        "[[model]]\nid = \"test-model\"\n\
         [[model.price]]\neffective = \"2026-01-01\"\ninput = \"3\"\noutput = \"15\"\ncache_write_5m = \"3.75\"\ncache_write_1h = \"6\"\ncache_read = \"0.30\"\n\
         [[model.price]]\neffective = \"2026-07-01T00:00:00Z\"\ninput = \"4\"\noutput = \"20\"\ncache_write_5m = \"5\"\ncache_write_1h = \"8\"\ncache_read = \"0.40\"\n",
    );
    let s = bill_with(
        &ndjson(&[
            session("s", "test-model"),
            request("a", "2026-06-30T23:59:59.999Z", 1_000_000, 0, 0, 0),
            request("b", "2026-07-01T00:00:00.000Z", 1_000_000, 0, 0, 0),
        ]),
        &MeterOptions::default(),
        &table,
    );
    assert_eq!(s[0].cost[CostColumn::Input], dec("7"));
}

#[test]
fn runtime_is_split_where_its_price_changes() {
    // Runtime $0.08/h until 2026-07-01, $0.12/h after (a made-up table). Running 23:30-00:30:
    // 30 min x 0.08 = 0.04 + 30 min x 0.12 = 0.06 -> 0.10, in two line items.
    let text = agentmeter::pricing::BUNDLED.replacen(
        "[[web_search]]",
        "[[runtime]]\neffective = \"2026-07-01T00:00:00Z\"\nusd_per_hour = \"0.12\"\n\n[[web_search]]",
        1,
    );
    let table = PriceTable::parse(&text, "t").unwrap();
    let s = bill_with(
        &ndjson(&[
            session("s", "claude-sonnet-4-6"),
            ev("a", "session.status_running", "2026-06-30T23:30:00Z"),
            ev("b", "session.status_idle", "2026-07-01T00:30:00Z"),
        ]),
        &MeterOptions::default(),
        &table,
    );
    assert_eq!(s[0].cost[CostColumn::Runtime], dec("0.10"));
    let pieces: Vec<_> = s[0]
        .items
        .iter()
        .filter(|i| i.category == Category::Runtime)
        .map(|i| i.amount)
        .collect();
    assert_eq!(pieces, vec![dec("0.04"), dec("0.06")]);
}

#[test]
fn the_model_comes_from_override_then_thread_then_session_as_updated() {
    // Opus 4.6 session; a Haiku thread; the session switches to Sonnet 4.6 at 10:30.
    // Each request: 1,000,000 input tokens -> Opus 5, Haiku 1, Sonnet 3.
    let recs = ndjson(&[
        session("s", "claude-opus-4-6"),
        request("a", "2026-06-10T10:00:00Z", 1_000_000, 0, 0, 0),
        with(
            ev("u", "session.updated", "2026-06-10T10:30:00Z"),
            json!({"agent": {"name": "researcher", "model": {"id": "claude-sonnet-4-6"}}}),
        ),
        request("b", "2026-06-10T10:40:00Z", 1_000_000, 0, 0, 0),
        json!({"type": "session_thread", "id": "sthr_1", "session_id": "s", "agent": {"name": "scout", "model": {"id": "claude-haiku-4-5-20251001"}}}),
        request("c", "2026-06-10T10:50:00Z", 1_000_000, 0, 0, 0),
    ]);
    let s = bill(&recs).remove(0);
    let models: Vec<_> = s
        .usage
        .requests
        .iter()
        .map(|r| r.model.to_string())
        .collect();
    assert_eq!(
        models,
        [
            "claude-opus-4-6",
            "claude-sonnet-4-6",
            "claude-haiku-4-5-20251001"
        ]
    );
    assert_eq!(s.cost[CostColumn::Input], dec("9")); // 5 + 3 + 1
    assert_eq!(
        s.models.iter().map(|m| m.to_string()).collect::<Vec<_>>(),
        ["claude-haiku-4-5", "claude-opus-4-6", "claude-sonnet-4-6"]
    );
    // --model prices all three as Sonnet 4.6: 3 x 3 = 9... as Haiku: 3 x 1 = 3.
    let opts = MeterOptions {
        model: Some("claude-haiku-4-5".into()),
        ..Default::default()
    };
    let s = bill_with(&recs, &opts, &PriceTable::bundled().unwrap());
    assert_eq!(s[0].cost[CostColumn::Input], dec("3"));
}

#[test]
fn message_content_never_reaches_the_output() {
    let secret = "TOP-SECRET-\u{e9}t\u{e9}-\\\"quoted\\\"";
    let tmp = Tmp::new();
    let p = tmp.write(
        "s.ndjson",
        &ndjson(&[
            session("s", "claude-sonnet-4-6"),
            with(
                ev("m", "agent.message", "2026-06-10T10:00:00Z"),
                json!({"content": [{"type": "text", "text": secret}]}),
            ),
            with(
                ev("t", "agent.tool_use", "2026-06-10T10:00:01Z"),
                json!({"name": "web_search", "input": {"query": secret}}),
            ),
        ]),
    );
    for f in ["table", "json", "csv", "markdown"] {
        let r = run(["meter".as_ref(), p.as_os_str(), "-f".as_ref(), f.as_ref()]);
        assert_eq!(r.code, 0);
        assert!(
            !r.stdout.contains("TOP-SECRET") && !r.stderr.contains("TOP-SECRET"),
            "{f}"
        );
    }
}

#[test]
fn day_buckets_split_runtime_at_midnight_in_the_zone() {
    // Paris is UTC+2 in June. Running 21:30Z-22:30Z is 23:30-00:30 local: 30 min on the 10th
    // (0.04) and 30 min on the 11th (0.04). A request at 22:15Z (00:15 local) falls on the
    // 11th: 1,000 input x $3/M = 0.003.
    let s = bill(&ndjson(&[
        session("s", "claude-sonnet-4-6"),
        ev("a", "session.status_running", "2026-06-10T21:30:00Z"),
        request("r", "2026-06-10T22:15:00Z", 1_000, 0, 0, 0),
        ev("b", "session.status_idle", "2026-06-10T22:30:00Z"),
    ]));
    let zone: Zone = "Europe/Paris".parse().unwrap();
    let table = PriceTable::bundled().unwrap();
    let s_utc = s.clone();
    // Re-rate in Paris: runtime pieces are cut at Paris midnight, items dated in Paris.
    let rated: Vec<_> = s
        .into_iter()
        .map(|r| agentmeter::rate::Rater::new(&table, zone).rate(r.usage).0)
        .collect();
    let days = group(&rated, &[GroupBy::Day]).unwrap();
    let got: Vec<_> = days
        .iter()
        .map(|d| {
            (
                d.key.as_str(),
                d.sums.cost()[CostColumn::Runtime],
                d.sums.cost()[CostColumn::Input],
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("2026-06-10", dec("0.04"), dec("0")),
            ("2026-06-11", dec("0.04"), dec("0.003"))
        ]
    );
    // In UTC (the default zone of `bill`) it is all one day: 0.08 runtime.
    let utc = group(&s_utc, &[GroupBy::Day]).unwrap();
    assert_eq!(utc.len(), 1);
    assert_eq!(utc[0].sums.cost()[CostColumn::Runtime], dec("0.08"));
}

#[test]
fn unknown_event_types_and_fields_are_accepted_and_ignored() {
    // A future event type and new fields change nothing: 1,000 input x $3/M = 0.003.
    let s = one(&ndjson(&[
        with(
            session("s", "claude-sonnet-4-6"),
            json!({"brand_new_field": {"x": [1, 2]}}),
        ),
        with(
            ev("x", "agent.hologram", "2026-06-10T10:00:00Z"),
            json!({"payload": {"deep": true}}),
        ),
        with(
            request("r", "2026-06-10T10:01:00Z", 0, 0, 0, 0),
            json!({"new_top_level": 5, "model_usage": {"input_tokens": 1000, "output_tokens": 0, "future_tokens": 99}}),
        ),
    ]));
    assert_eq!(s.cost.total(), dec("0.003"));
}
