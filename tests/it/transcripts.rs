//! Claude Code transcripts as input: a synthetic `projects/` tree (no real user data) with the
//! traps of real ones: streaming snapshots, sidechain copies and replays, a resumed session
//! that repeats history, `<synthetic>` and API-error lines, a 1-hour cache write, web searches,
//! a >200K-token request on both sides of a price change, a line that is not JSON, and a
//! session that spans midnight in New York but not in UTC.
//!
//! Prices (pricing/anthropic.toml), USD per million tokens:
//!   claude-sonnet-4-5: input 3, output 15, 5m write 3.75, 1h write 6, read 0.30; above 200K
//!     input tokens per request the whole request at 6 / 22.50 / 7.50 / 12 / 0.60.
//!   claude-sonnet-4-6: 3 / 15 / 3.75 / 6 / 0.30; the >200K premium (6 / 22.50 / .. / 0.60)
//!     until 2026-03-13, none after.
//!   Web search: $10 per 1,000 = $0.01 each.
//!
//! The requests that count, by hand:
//!   s1 (project -home-ana-app), all claude-sonnet-4-5:
//!     a  2026-05-01T22:00:06Z  in 1,000, out 500          0.003 + 0.0075          = 0.0105
//!     b  2026-05-01T22:10:00Z  in 2,000, out 100          0.006 + 0.0015          = 0.0075
//!     c  2026-05-02T03:30:00Z  in 10, 1h write 100,000, out 1,000
//!                              0.00003 + 0.6 + 0.015                              = 0.61503
//!     d  2026-05-02T04:30:00Z  in 500, out 200, 2 web searches
//!                              0.0015 + 0.003 + 0.02                              = 0.0245
//!     s1 = 0.65753
//!   s9 (project -home-ana-web), claude-sonnet-4-6:
//!     e  2026-03-01T15:00:00Z  in 150,000 + read 60,000 = 210,000 > 200,000: long context
//!                              0.9 + 0.036 + out 1,000 x 22.50/M 0.0225           = 0.9585
//!     f  2026-04-01T15:00:00Z  the same tokens after the premium went: 0.45 + 0.018 + 0.015
//!                                                                                 = 0.483
//!     s9 = 1.4415
//!   total = 2.09903
//! Dropped: 3 duplicates (a's first snapshot, b's sidechain copy, a's copy in the resumed
//! s9), 1 sidechain replay (d under a new request id), 1 synthetic, 1 API error.

use serde_json::{json, Value};

use crate::common::{bin, dec, run, Tmp};

fn assistant(
    session: &str,
    msg: &str,
    req: &str,
    at: &str,
    model: &str,
    usage: Value,
    extra: Value,
) -> String {
    let mut v = json!({
        "parentUuid": "p", "isSidechain": false, "userType": "external", "cwd": "/home/ana/app",
        "sessionId": session, "version": "2.0.30", "type": "assistant",
        "message": {"id": msg, "type": "message", "role": "assistant", "model": model,
                    "content": [{"type": "text", "text": "Here is the \"usage\" report: secret"}],
                    "usage": usage},
        "requestId": req, "uuid": format!("u-{msg}-{req}"), "timestamp": at,
    });
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v.to_string()
}

fn tokens(input: u64, output: u64) -> Value {
    json!({"input_tokens": input, "output_tokens": output, "cache_creation_input_tokens": 0,
           "cache_read_input_tokens": 0, "service_tier": "standard"})
}

const S45: &str = "claude-sonnet-4-5-20250929";
const S46: &str = "claude-sonnet-4-6";

/// The tree; `garbage` adds a line that is not JSON as line 11 of s1.
fn tree(garbage: bool) -> Tmp {
    let tmp = Tmp::new();
    let mut s1 = vec![
        json!({"type": "summary", "summary": "Shop work", "leafUuid": "u0"}).to_string(),
        json!({"parentUuid": null, "isSidechain": false, "type": "user", "sessionId": "s1",
               "message": {"role": "user", "content": "private question"}, "uuid": "u1",
               "timestamp": "2026-05-01T22:00:00Z"})
        .to_string(),
        // Two streaming snapshots of request a: the final one (more output) counts.
        assistant(
            "s1",
            "msg_a",
            "req_a",
            "2026-05-01T22:00:05Z",
            S45,
            tokens(1000, 10),
            json!({}),
        ),
        assistant(
            "s1",
            "msg_a",
            "req_a",
            "2026-05-01T22:00:06Z",
            S45,
            tokens(1000, 500),
            json!({}),
        ),
        // Request b: a sidechain copy with more tokens loses to the main-chain copy.
        assistant(
            "s1",
            "msg_b",
            "req_b",
            "2026-05-01T22:10:00Z",
            S45,
            tokens(2000, 9000),
            json!({"isSidechain": true}),
        ),
        assistant(
            "s1",
            "msg_b",
            "req_b",
            "2026-05-01T22:10:00Z",
            S45,
            tokens(2000, 100),
            json!({}),
        ),
        assistant(
            "s1",
            "msg_s",
            "req_s",
            "2026-05-01T22:11:00Z",
            "<synthetic>",
            tokens(0, 0),
            json!({}),
        ),
        assistant(
            "s1",
            "msg_x",
            "req_x",
            "2026-05-01T22:12:00Z",
            S45,
            tokens(700, 0),
            json!({"isApiErrorMessage": true}),
        ),
        assistant(
            "s1",
            "msg_c",
            "req_c",
            "2026-05-02T03:30:00Z",
            S45,
            json!({"input_tokens": 10, "output_tokens": 1000, "cache_creation_input_tokens": 100000,
                   "cache_read_input_tokens": 0,
                   "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 100000}}),
            json!({}),
        ),
        assistant(
            "s1",
            "msg_d",
            "req_d",
            "2026-05-02T04:30:00Z",
            S45,
            json!({"input_tokens": 500, "output_tokens": 200, "server_tool_use": {"web_search_requests": 2}}),
            json!({}),
        ),
    ];
    if garbage {
        s1.push("{\"type\": \"user\", this is not JSON".into());
    }
    tmp.write("projects/-home-ana-app/s1.jsonl", &(s1.join("\n") + "\n"));
    let big = |at: &str, msg: &str| {
        assistant(
            "s9",
            msg,
            &format!("req_{msg}"),
            at,
            S46,
            json!({"input_tokens": 150000, "output_tokens": 1000, "cache_read_input_tokens": 60000}),
            json!({}),
        )
    };
    let s9 = [
        // The resumed session repeats request a as it was.
        assistant(
            "s9",
            "msg_a",
            "req_a",
            "2026-05-01T22:00:06Z",
            S45,
            tokens(1000, 500),
            json!({"sessionId": "s9"}),
        ),
        big("2026-03-01T15:00:00Z", "msg_e"),
        big("2026-04-01T15:00:00Z", "msg_f"),
        // A /btw replay of d: same message, new request id, in a sidechain.
        assistant(
            "s9",
            "msg_d",
            "req_z",
            "2026-05-02T04:31:00Z",
            S45,
            tokens(500, 200),
            json!({"isSidechain": true}),
        ),
    ];
    // A long tool result first makes this file larger than 64 KiB: it is read by byte range,
    // the other whole.
    let big = json!({"parentUuid": null, "isSidechain": false, "type": "user", "sessionId": "s9",
                     "message": {"role": "user", "content": "x".repeat(100_000)},
                     "timestamp": "2026-03-01T14:59:00Z"});
    let s9 = std::iter::once(big.to_string())
        .chain(s9)
        .collect::<Vec<_>>();
    tmp.write("projects/-home-ana-web/s9.jsonl", &(s9.join("\n") + "\n"));
    tmp
}

pub(crate) fn meter_json(tmp: &Tmp, extra: &[&str]) -> Value {
    let projects = tmp.path("projects").display().to_string();
    let mut args = vec!["meter", &projects, "-f", "json"];
    args.extend_from_slice(extra);
    let r = run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

fn total(v: &Value) -> rust_decimal::Decimal {
    dec(v["totals"]["cost"]["total"].as_str().unwrap())
}

pub(crate) fn session<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == id)
        .unwrap_or_else(|| panic!("no session {id}"))
}

#[test]
fn transcripts_are_metered_with_dedup_and_prices_at_their_time() {
    let tmp = tree(false);
    let v = meter_json(&tmp, &[]);
    let s1 = session(&v, "s1");
    assert_eq!(s1["requests"], 4);
    assert_eq!(s1["web_searches"], 2);
    assert_eq!(s1["active_ms"], 0); // no runtime charge for local runs
    assert_eq!(dec(s1["cost"]["total"].as_str().unwrap()), dec("0.65753"));
    // 1h writes at the 1h rate: 100,000 x 6/M.
    assert_eq!(dec(s1["cost"]["cache_write"].as_str().unwrap()), dec("0.6"));
    assert_eq!(s1["tokens"]["cache_write_1h"], 100_000);
    assert_eq!(dec(s1["cost"]["web_search"].as_str().unwrap()), dec("0.02"));
    let s9 = session(&v, "s9");
    assert_eq!(s9["requests"], 2);
    assert_eq!(dec(s9["cost"]["total"].as_str().unwrap()), dec("1.4415"));
    assert_eq!(total(&v), dec("2.09903"));
    // 1,000 + 2,000 + 10 + 500 + 150,000 + 150,000; 500 + 100 + 1,000 + 200 + 1,000 + 1,000.
    assert_eq!(v["totals"]["tokens"]["input"], 303_510);
    assert_eq!(v["totals"]["tokens"]["output"], 3_800);
    assert_eq!(v["totals"]["tokens"]["cache_read"], 120_000);
    let d = &v["dropped"];
    assert_eq!(d["duplicate_requests"], 3);
    assert_eq!(d["sidechain_replays"], 1);
    assert_eq!(d["synthetic"], 1);
    assert_eq!(d["api_errors"], 1);
    // Content never leaves the transcript.
    let all = serde_json::to_string(&v).unwrap();
    assert!(!all.contains("secret") && !all.contains("private question"));
}

pub(crate) fn groups(v: &Value) -> Vec<(String, rust_decimal::Decimal)> {
    v["groups"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"].as_str().unwrap().to_string(),
                dec(g["cost"]["total"].as_str().unwrap()),
            )
        })
        .collect()
}

#[test]
fn days_follow_the_time_zone_across_midnight() {
    let tmp = tree(false);
    // New York (UTC-4 in May): c at 03:30Z is still 1 May there; d at 04:30Z is 2 May.
    let ny = meter_json(&tmp, &["--group-by", "day", "--tz", "America/New_York"]);
    assert_eq!(
        groups(&ny),
        vec![
            ("2026-03-01".into(), dec("0.9585")),
            ("2026-04-01".into(), dec("0.483")),
            ("2026-05-01".into(), dec("0.63303")), // a + b + c
            ("2026-05-02".into(), dec("0.0245")),  // d
        ]
    );
    let utc = meter_json(&tmp, &["--group-by", "day"]);
    assert_eq!(groups(&utc)[2], ("2026-05-01".into(), dec("0.018"))); // a + b
    assert_eq!(groups(&utc)[3], ("2026-05-02".into(), dec("0.63953"))); // c + d
}

#[test]
fn weeks_months_projects_and_filters() {
    let tmp = tree(false);
    let weeks = meter_json(&tmp, &["--group-by", "week"]);
    // 1 March 2026 is a Sunday (ISO week 9), 1 April a Wednesday (14), 1-2 May Fri-Sat (18).
    assert_eq!(
        groups(&weeks),
        vec![
            ("2026-W09".into(), dec("0.9585")),
            ("2026-W14".into(), dec("0.483")),
            ("2026-W18".into(), dec("0.65753")),
        ]
    );
    // Two keys: each model's cost per (UTC) day; dated ids fold into canonical ones.
    let by_day_model = meter_json(&tmp, &["--group-by", "day,model"]);
    assert_eq!(by_day_model["groups"]["by"], "day,model");
    let rows = by_day_model["groups"]["rows"].as_array().unwrap();
    assert_eq!(
        rows[0]["keys"],
        json!({"day": "2026-03-01", "model": "claude-sonnet-4-6"})
    );
    assert_eq!(
        rows[3]["keys"],
        json!({"day": "2026-05-02", "model": "claude-sonnet-4-5"})
    );
    assert_eq!(
        groups(&by_day_model),
        vec![
            ("2026-03-01 claude-sonnet-4-6".into(), dec("0.9585")),
            ("2026-04-01 claude-sonnet-4-6".into(), dec("0.483")),
            ("2026-05-01 claude-sonnet-4-5".into(), dec("0.018")),
            ("2026-05-02 claude-sonnet-4-5".into(), dec("0.63953")),
        ]
    );
    let months = meter_json(&tmp, &["--group-by", "month"]);
    assert_eq!(groups(&months)[2], ("2026-05".into(), dec("0.65753")));
    let projects = meter_json(&tmp, &["--group-by", "project"]);
    assert_eq!(
        groups(&projects),
        vec![
            ("-home-ana-app".into(), dec("0.65753")),
            ("-home-ana-web".into(), dec("1.4415")),
        ]
    );
    // Local 1 May in New York: a + b + c; s9 has nothing that day.
    let day = meter_json(
        &tmp,
        &[
            "--since",
            "20260501",
            "--until",
            "2026-05-01",
            "--tz",
            "America/New_York",
        ],
    );
    assert_eq!(total(&day), dec("0.63303"));
    assert_eq!(day["totals"]["requests"], 3);
    assert_eq!(day["dropped"]["unselected_sessions"], 1);
    let app = meter_json(&tmp, &["--project", "app"]);
    assert_eq!(app["totals"]["sessions"], 1);
    assert_eq!(total(&app), dec("0.65753"));
}

#[test]
fn a_line_that_is_not_json_is_an_error_or_skipped_and_counted() {
    let tmp = tree(true);
    let projects = tmp.path("projects").display().to_string();
    let r = run(["meter", &projects]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("s1.jsonl:11:"), "{}", r.stderr);
    let v = meter_json(&tmp, &["--skip-invalid"]);
    assert_eq!(v["dropped"]["invalid_records"], 1);
    assert_eq!(total(&v), dec("2.09903"));
}

#[test]
fn the_default_folders_come_from_claude_config_dir() {
    let tmp = tree(false);
    let out = bin()
        .args(["meter", "--source", "claude-code", "-f", "json"])
        .env("CLAUDE_CONFIG_DIR", tmp.0.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(total(&v), dec("2.09903"));
    let empty = Tmp::new();
    let out = bin()
        .args(["meter", "--source", "claude-code"])
        .env("CLAUDE_CONFIG_DIR", empty.0.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Claude Code transcript folder"));
}
