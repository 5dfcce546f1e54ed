//! The prices of /work/shared/reference/updates-2026-12.md section 3, through the binary:
//! each new model and dated change priced at its dates and tiers. Expected amounts are worked
//! out by hand from those facts (USD per million tokens); the arithmetic is in the comments.
//! Inputs are Managed Agents NDJSON exports in the shape of design.md "Input records" (a
//! session object, then `span.model_request_end` events), built with the `common` helpers.

use serde_json::{json, Value};

use crate::common::*;

/// `meter -f json` of one session running `model` (speed, geo optional) with `requests`.
fn meter_one(model: &str, geo: Option<&str>, requests: &[Value]) -> Run {
    let mut obj = session("s", model);
    if let Some(g) = geo {
        obj["agent"]["model"]["inference_geo"] = json!(g);
    }
    let mut recs = vec![obj];
    recs.extend(requests.iter().cloned());
    let tmp = Tmp::new();
    let p = tmp.write("a.ndjson", &ndjson(&recs));
    run([
        "meter".as_ref(),
        p.as_os_str(),
        "-f".as_ref(),
        "json".as_ref(),
    ])
}

/// The session's JSON, asserting the run succeeded.
fn priced(model: &str, geo: Option<&str>, requests: &[Value]) -> Value {
    let r = meter_one(model, geo, requests);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    v["sessions"][0].clone()
}

fn cost(s: &Value, part: &str) -> rust_decimal::Decimal {
    dec(s["cost"][part].as_str().unwrap())
}

/// A request with `model_usage.speed` set.
fn at_speed(mut r: Value, speed: &str) -> Value {
    r["model_usage"]["speed"] = json!(speed);
    r
}

#[test]
fn sonnet_5_5_cache_reads_drop_to_0_10_on_2026_10_07() {
    // 100,000 input x $2/M = 0.2; 10,000 output x $10/M = 0.1; 1,000,000 reads x $0.20/M =
    // 0.2 before the cut (total 0.5), x $0.10/M = 0.1 from 2026-10-07T00:00Z (total 0.4).
    let before = priced(
        "claude-sonnet-5-5",
        None,
        &[request(
            "a",
            "2026-10-06T23:59:59.999Z",
            100_000,
            10_000,
            0,
            1_000_000,
        )],
    );
    assert_eq!(cost(&before, "cache_read"), dec("0.2"));
    assert_eq!(cost(&before, "total"), dec("0.5"));
    let after = priced(
        "claude-sonnet-5-5",
        None,
        &[request(
            "a",
            "2026-10-07T00:00:00Z",
            100_000,
            10_000,
            0,
            1_000_000,
        )],
    );
    assert_eq!(cost(&after, "cache_read"), dec("0.1"));
    assert_eq!(cost(&after, "total"), dec("0.4"));
}

#[test]
fn haiku_5_5_prices_the_whole_request_high_above_100000_prompt_tokens() {
    // Exactly 100,000 prompt tokens (60,000 input + 10,000 cache write + 30,000 reads) stays
    // low: 60,000 x 0.10 = 0.006; 10,000 5m writes x 0.125 = 0.00125; 30,000 x 0.01 = 0.0003;
    // 20,000 output x 0.50 = 0.01; total 0.01755.
    let low = priced(
        "claude-haiku-5-5",
        None,
        &[request(
            "a",
            "2026-10-08T00:00:00Z",
            60_000,
            20_000,
            10_000,
            30_000,
        )],
    );
    assert_eq!(cost(&low, "input"), dec("0.006"));
    assert_eq!(cost(&low, "output"), dec("0.01"));
    assert_eq!(cost(&low, "total"), dec("0.01755"));
    // 100,001 (one more input token): everything, output too, at the high rates:
    // 60,001 x 0.50 = 0.0300005; 10,000 x 0.625 = 0.00625; 30,000 x 0.05 = 0.0015;
    // 20,000 x 2.50 = 0.05; total 0.0877505.
    let high = priced(
        "claude-haiku-5-5",
        None,
        &[request(
            "a",
            "2026-10-08T00:00:00Z",
            60_001,
            20_000,
            10_000,
            30_000,
        )],
    );
    assert_eq!(cost(&high, "input"), dec("0.0300005"));
    assert_eq!(cost(&high, "cache_write"), dec("0.00625"));
    assert_eq!(cost(&high, "cache_read"), dec("0.0015"));
    assert_eq!(cost(&high, "output"), dec("0.05"));
    assert_eq!(cost(&high, "total"), dec("0.0877505"));
}

#[test]
fn opus_5_5_fast_mode_uses_its_fast_rates() {
    // Fast: 10,000 input x $8/M = 0.08; 2,000 output x $40/M = 0.08; 1,000 5m writes x $10/M
    // = 0.01; 100,000 reads x $0.40/M = 0.04; total 0.21. Standard: 0.04 + 0.04 + 0.005 +
    // 0.02 = 0.105.
    let r = request("a", "2026-10-01T00:00:00Z", 10_000, 2_000, 1_000, 100_000);
    let fast = priced("claude-opus-5-5", None, &[at_speed(r.clone(), "fast")]);
    assert_eq!(cost(&fast, "cache_write"), dec("0.01"));
    assert_eq!(cost(&fast, "total"), dec("0.21"));
    assert_eq!(fast["warnings"], json!([]));
    let standard = priced("claude-opus-5-5", None, &[r]);
    assert_eq!(cost(&standard, "total"), dec("0.105"));
}

#[test]
fn fable_and_mythos_5_2_are_priced_from_2026_11_09_and_unknown_before() {
    // 100,000 input x $8/M = 0.8; 10,000 output x $40/M = 0.4; 50,000 reads x $0.20/M = 0.01;
    // total 1.21, for both models.
    for model in ["claude-fable-5-2", "claude-mythos-5-2"] {
        let s = priced(
            model,
            None,
            &[request(
                "a",
                "2026-11-09T00:00:00Z",
                100_000,
                10_000,
                0,
                50_000,
            )],
        );
        assert_eq!(cost(&s, "total"), dec("1.21"), "{model}");
    }
    let r = meter_one(
        "claude-fable-5-2",
        None,
        &[request("a", "2026-11-08T23:59:59Z", 100_000, 0, 0, 0)],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "no price for claude-fable-5-2 in force at 2026-11-08T23:59:59.000Z in price table anthropic@"
        ) && r.stderr.contains("its first price starts 2026-11-09T00:00:00Z"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("hint: "), "{}", r.stderr);
}

#[test]
fn opus_4_6_keeps_fast_rates_until_2026_06_27() {
    // 2026-06-26, fast: 10,000 x $30/M = 0.30 + 2,000 x $150/M = 0.30 = 0.60, no warning.
    let fast = priced(
        "claude-opus-4-6",
        None,
        &[at_speed(
            request("a", "2026-06-26T12:00:00Z", 10_000, 2_000, 0, 0),
            "fast",
        )],
    );
    assert_eq!(cost(&fast, "total"), dec("0.60"));
    assert_eq!(fast["warnings"], json!([]));
    // 2026-06-28: standard 10,000 x $5/M = 0.05 + 2,000 x $25/M = 0.05 = 0.10, with a warning.
    let after = priced(
        "claude-opus-4-6",
        None,
        &[at_speed(
            request("a", "2026-06-28T00:00:00Z", 10_000, 2_000, 0, 0),
            "fast",
        )],
    );
    assert_eq!(cost(&after, "total"), dec("0.10"));
    let w = after["warnings"].to_string();
    assert!(
        w.contains("claude-opus-4-6 has no fast-mode rates from 2026-06-27T00:00:00Z")
            && w.contains("priced at standard rates"),
        "{w}"
    );
}

#[test]
fn opus_4_8_fast_rates_end_on_2026_11_30() {
    // 2026-11-29, fast: 10,000 x $10/M = 0.10 + 2,000 x $50/M = 0.10 = 0.20.
    // 2026-11-30: standard 0.05 + 0.05 = 0.10, with the standard-rates warning.
    let req = |at: &str| at_speed(request("a", at, 10_000, 2_000, 0, 0), "fast");
    let before = priced("claude-opus-4-8", None, &[req("2026-11-29T23:59:59.999Z")]);
    assert_eq!(cost(&before, "total"), dec("0.20"));
    let after = priced("claude-opus-4-8", None, &[req("2026-11-30T00:00:00Z")]);
    assert_eq!(cost(&after, "total"), dec("0.10"));
    assert!(
        after["warnings"]
            .to_string()
            .contains("priced at standard rates"),
        "{}",
        after["warnings"]
    );
}

#[test]
fn fable_5_1_starts_on_2026_09_01() {
    // 2026-09-01: 100,000 input x $10/M = 1; 100,000 reads x $0.25/M = 0.025; total 1.025.
    let s = priced(
        "claude-fable-5-1",
        None,
        &[request("a", "2026-09-01T00:00:00Z", 100_000, 0, 0, 100_000)],
    );
    assert_eq!(cost(&s, "total"), dec("1.025"));
    // The day before (priced from 2026-07-24 by the old table) is an error now.
    let r = meter_one(
        "claude-mythos-5-1",
        None,
        &[request("a", "2026-08-31T23:59:59.999Z", 100_000, 0, 0, 0)],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("no price for claude-mythos-5-1 in force at 2026-08-31T23:59:59.999Z")
            && r.stderr
                .contains("its first price starts 2026-09-01T00:00:00Z"),
        "{}",
        r.stderr
    );
}

#[test]
fn us_inference_costs_1_1x_on_sonnet_5_5() {
    // 2026-10-07, "us": 100,000 input x $2/M x 1.1 = 0.22; 10,000 output x $10/M x 1.1 =
    // 0.11; 100,000 reads x $0.10/M x 1.1 = 0.011; total 0.341. Global: 0.2 + 0.1 + 0.01 = 0.31.
    let r = [request(
        "a",
        "2026-10-07T00:00:00Z",
        100_000,
        10_000,
        0,
        100_000,
    )];
    let us = priced("claude-sonnet-5-5", Some("us"), &r);
    assert_eq!(cost(&us, "input"), dec("0.22"));
    assert_eq!(cost(&us, "output"), dec("0.11"));
    assert_eq!(cost(&us, "cache_read"), dec("0.011"));
    assert_eq!(cost(&us, "total"), dec("0.341"));
    let global = priced("claude-sonnet-5-5", Some("global"), &r);
    assert_eq!(cost(&global, "total"), dec("0.31"));
}

#[test]
fn an_unknown_model_is_an_error_that_suggests_the_nearest_id() {
    let r = meter_one(
        "claude-sonnet-5.5",
        None,
        &[request("a", "2026-10-07T00:00:00Z", 1_000, 0, 0, 0)],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            ":2: unknown model \"claude-sonnet-5.5\": it is not in price table anthropic@"
        ) && r.stderr.contains("(did you mean `claude-sonnet-5-5`?)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("hint: "), "{}", r.stderr);
    // Nothing near: no suggestion.
    let r = meter_one(
        "gpt-4o",
        None,
        &[request("a", "2026-10-07T00:00:00Z", 1_000, 0, 0, 0)],
    );
    assert_eq!(r.code, 2);
    assert!(!r.stderr.contains("did you mean"), "{}", r.stderr);
    // The same for --model, before anything is read.
    let r = crate::common::run(["meter", "-", "--model", "claude-opus-4.6"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--model claude-opus-4.6: unknown model in price table")
            && r.stderr.contains("(did you mean `claude-opus-4-6`?)"),
        "{}",
        r.stderr
    );
}

#[test]
fn usage_after_the_tables_checked_date_is_named_in_a_note() {
    // The bundled table was checked on 2026-12-01: a Sonnet 5.5 request on its last
    // millisecond is covered, a Haiku 5.5 request at 2026-12-02T00:00Z is not.
    let tmp = Tmp::new();
    let p = tmp.write(
        "a.ndjson",
        &ndjson(&[
            session("s1", "claude-sonnet-5-5"),
            request("a", "2026-12-01T23:59:59.999Z", 1_000, 0, 0, 0),
            session("s2", "claude-haiku-5-5"),
            request("b", "2026-12-02T00:00:00Z", 1_000, 0, 0, 0),
        ]),
    );
    let r = run([
        "meter".as_ref(),
        p.as_os_str(),
        "-f".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let note = r
        .stderr
        .lines()
        .find(|l| l.starts_with("note: prices checked"))
        .unwrap_or_else(|| panic!("no note in {:?}", r.stderr));
    assert!(
        note.starts_with(
            "note: prices checked 2026-12-01; usage of claude-haiku-5-5 after that date: run `agentmeter pricing audit`"
        ),
        "{note}"
    );
    // Only the covered session: no note.
    let p = tmp.write(
        "b.ndjson",
        &ndjson(&[
            session("s1", "claude-sonnet-5-5"),
            request("a", "2026-12-01T23:59:59.999Z", 1_000, 0, 0, 0),
        ]),
    );
    let r = run(["meter".as_ref(), p.as_os_str()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("prices checked"), "{}", r.stdout);
}
