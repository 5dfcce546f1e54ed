//! `agentmeter anomalies`: 8 weeks of a weekly rhythm with three planted spikes, each found
//! with the category that moved; nothing else flagged; too little history is not judged.

use serde_json::Value;

use crate::common::*;

/// Day 0 of the history: Monday 2026-06-01 (2026-01-01 is a Thursday, and 151 days later,
/// 151 = 21 x 7 + 4, is four weekdays on).
fn date(i: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap() + chrono::Duration::days(i.into())
}

/// One Opus 4.6 session of `agent` on day `i`: running `hours` from 10:00 UTC (or from
/// 01:00 for more than 9 hours), one request. Opus: $5/M input, $25/M output, $0.08/h.
fn day_session(agent: &str, i: u32, hours: u32, input: u64, output: u64) -> String {
    let id = format!("sesn_{agent}_{i:03}");
    let mut s = session(&id, "claude-opus-4-6");
    s["agent"]["name"] = agent.into();
    let start = if hours > 9 { 1 } else { 10 };
    let at = |h: u32| format!("{}T{h:02}:00:00Z", date(i));
    ndjson(&[
        s,
        ev(&format!("{id}_r"), "session.status_running", &at(start)),
        request(
            &format!("{id}_q"),
            &format!("{}T{start:02}:30:00Z", date(i)),
            input,
            output,
            0,
            0,
        ),
        ev(
            &format!("{id}_i"),
            "session.status_idle",
            &at(start + hours),
        ),
    ])
}

/// 56 days (Monday 2026-06-01 to Sunday 2026-07-26) of `researcher` and `triage`, one
/// session a day, plus `newbie` on the last 8 days only. A normal day costs $0.08 runtime +
/// its input + its output, which varies by 1,000 tokens x (day mod 3) ($0.025 steps):
/// - researcher: weekdays 400,000 in ($2.00) / 300,000 out ($7.50): $9.58 + variation;
///   weekends 100,000 in ($0.50) / 40,000 out ($1.00): $1.58 + variation.
/// - triage: weekdays 200,000 in ($1.00) / 100,000 out ($2.50): $3.58 + variation;
///   weekends 100,000 in / 20,000 out ($0.50): $1.08 + variation.
///
/// Planted: researcher runs 22 hours on Wednesday 2026-07-01 (day 30, runtime $1.76 instead
/// of $0.08); triage writes 500,000 more output tokens on Wednesday 2026-07-08 (day 37,
/// +$12.50); researcher reads 1,600,000 more input tokens on Saturday 2026-07-18 (day 47,
/// +$8.00: about a weekday's spend, so only a weekday-aware expectation sees it); newbie
/// spends $50 on its last day, with one same weekday of history only.
fn history(tmp: &Tmp) -> String {
    for (agent, wd, we) in [
        ("researcher", (400_000, 300_000), (100_000, 40_000)),
        ("triage", (200_000, 100_000), (100_000, 20_000)),
    ] {
        let mut text = String::new();
        for i in 0..56u32 {
            let (mut input, mut output) = if i % 7 < 5 { wd } else { we };
            output += 1000 * u64::from(i % 3);
            let mut hours = 1;
            match (agent, i) {
                ("researcher", 30) => hours = 22,
                ("triage", 37) => output += 500_000,
                ("researcher", 47) => input += 1_600_000,
                _ => {}
            }
            text += &day_session(agent, i, hours, input, output);
        }
        tmp.write(&format!("runs/{agent}.ndjson"), &text);
    }
    let newbie: String = (48..56u32)
        .map(|i| {
            day_session(
                "newbie",
                i,
                1,
                if i == 55 { 10_000_000 } else { 10_000 },
                10_000,
            )
        })
        .collect();
    tmp.write("runs/newbie.ndjson", &newbie);
    tmp.path("runs").display().to_string()
}

fn anomalies_json(args: &[&str]) -> Value {
    let r = run_within(60, [&["anomalies", "--format", "json"][..], args].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn three_planted_spikes_are_found_with_what_moved_and_nothing_else() {
    let tmp = Tmp::new();
    let runs = history(&tmp);
    let v = anomalies_json(&[&runs]);
    assert_eq!(v["schema"], "agentmeter/anomalies-v1");
    assert_eq!(v["parameters"]["weeks"], 4);
    assert_eq!(v["parameters"]["threshold"], "4");
    assert_eq!(v["parameters"]["min_usd"], "1");
    let found: Vec<(&str, &str, &str)> = v["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["day"].as_str().unwrap(),
                a["key"].as_str().unwrap(),
                a["explained_by"]["category"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("2026-07-01", "researcher", "runtime"),
            ("2026-07-08", "triage", "output"),
            ("2026-07-18", "researcher", "input"),
        ]
    );
    // researcher and triage: days 0-13 have fewer than 2 same weekdays before them (not
    // judged), days 14-55 are judged: 2 x 42 = 84 judged, 2 x 14 = 28 not. newbie's 8 days
    // have at most one same weekday before them: 8 more not judged, and its $50 day is not
    // flagged.
    assert_eq!(v["judged_days"], 84);
    assert_eq!(v["unjudged_days"], 36);

    // triage on 2026-07-08 (day 37), against days 30, 23, 16, 9 (day mod 3 = 0, 2, 1, 0):
    // $3.58, $3.63, $3.605, $3.58; sorted 3.58, 3.58, 3.605, 3.63: median
    // (3.58 + 3.605) / 2 = 3.5925. Deviations 0.0125, 0.0375, 0.0125, 0.0125: MAD 0.0125,
    // spread 0.0125 x 1.4826 = 0.0185325. Cost: 0.08 + 1.00 + (100,000 + 1,000 + 500,000)
    // x 25 / 1M = 0.08 + 1.00 + 15.025 = 16.105; excess 16.105 - 3.5925 = 12.5125. Output
    // alone: 15.025 against the median of 2.50, 2.55, 2.525, 2.50 = (2.50 + 2.525) / 2.
    let t = &v["anomalies"][1];
    assert_eq!(t["cost"], "16.105");
    assert_eq!(t["expected"], "3.5925");
    assert_eq!(t["spread"], "0.0185325");
    assert_eq!(t["excess"], "12.5125");
    assert_eq!(t["explained_by"]["cost"], "15.025");
    assert_eq!(t["explained_by"]["expected"], "2.5125");
    assert_eq!(t["sessions"], serde_json::json!(["sesn_triage_037"]));
    // The runtime spike: 22 h x $0.08 = $1.76 against 1 h = $0.08 every Wednesday before.
    let rt = &v["anomalies"][0]["explained_by"];
    assert_eq!(
        (&rt["cost"], &rt["expected"]),
        (&"1.76".into(), &"0.08".into())
    );
    // The weekend spike: (100,000 + 1,600,000) x 5 / 1M = $8.50 of input against $0.50.
    let we = &v["anomalies"][2]["explained_by"];
    assert_eq!(
        (&we["cost"], &we["expected"]),
        (&"8.5".into(), &"0.5".into())
    );
}

#[test]
fn fail_exits_one_on_an_anomaly_and_min_usd_and_since_tune_what_is_judged() {
    let tmp = Tmp::new();
    let runs = history(&tmp);
    assert_eq!(run_within(60, ["anomalies", &runs]).code, 0);
    let r = run_within(60, ["anomalies", &runs, "--fail"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // The table names each flagged day, its key and what moved, to the cent:
    // 0.08 + 1.00 + 15.025 = $16.105 -> $16.11 (half away from zero).
    assert!(r.stdout.contains("2026-07-08"), "{}", r.stdout);
    assert!(r.stdout.contains("$16.11"), "{}", r.stdout);
    assert!(
        r.stdout.contains("output $15.03 (expected $2.51)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("3 anomalies in 84 day(s) judged"),
        "{}",
        r.stdout
    );
    // The largest move is triage's $12.51 above: at --min-usd 20 nothing is an anomaly.
    let r = run_within(60, ["anomalies", &runs, "--fail", "--min-usd", "20"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // --since judges fewer days but still reads the weeks before as history: from Sunday
    // 2026-07-05 (day 34) the two later spikes, and days 34-55 all judged (2 x 22 = 44).
    let v = anomalies_json(&[&runs, "--since", "2026-07-05"]);
    let days: Vec<&str> = v["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["day"].as_str().unwrap())
        .collect();
    assert_eq!(days, ["2026-07-08", "2026-07-18"]);
    assert_eq!(v["judged_days"], 44);
    let md = run_within(60, ["anomalies", &runs, "--format", "markdown"]);
    assert!(
        md.stdout.contains("| 2026-07-18 | researcher |"),
        "{}",
        md.stdout
    );
}

#[test]
fn a_missing_day_is_low_only_with_low() {
    let tmp = Tmp::new();
    // triage runs every weekday for 4 weeks, then skips Monday 2026-06-29 (day 28) and is
    // back on Tuesday: the Monday counts as $0 against $3.58-ish Mondays before.
    let text: String = (0..30u32)
        .filter(|i| i % 7 < 5 && *i != 28)
        .map(|i| day_session("triage", i, 1, 200_000, 100_000))
        .collect();
    tmp.write("runs/triage.ndjson", &text);
    let runs = tmp.path("runs").display().to_string();
    assert_eq!(anomalies_json(&[&runs])["anomalies"], serde_json::json!([]));
    let v = anomalies_json(&[&runs, "--low"]);
    let a = &v["anomalies"][0];
    // Mondays 21, 14, 7, 0 all cost 0.08 + 1.00 + 2.50 = 3.58: expected 3.58, spread 0.
    assert_eq!(
        (&a["day"], &a["cost"], &a["expected"], &a["excess"]),
        (
            &"2026-06-29".into(),
            &"0".into(),
            &"3.58".into(),
            &"-3.58".into()
        )
    );
    assert_eq!(a["explained_by"]["category"], "output");
    assert_eq!(v["anomalies"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_input_and_bad_flags_exit_two_with_a_hint() {
    let tmp = Tmp::new();
    let p = tmp.write(
        "bad.ndjson",
        &(day_session("triage", 0, 1, 1, 1) + "{\"id\": \"e\", \"type\": \"x\"}\n"),
    );
    let r = run_within(60, ["anomalies", p.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("bad.ndjson:5:"), "{}", r.stderr);
    for (flag, value) in [
        ("--threshold", "many"),
        ("--weeks", "1"),
        ("--min-usd", "-1"),
    ] {
        let arg = format!("{flag}={value}");
        let r = run_within(60, ["anomalies", p.to_str().unwrap(), &arg]);
        assert_eq!(r.code, 2, "{flag} {value}");
        assert!(r.stderr.contains(&format!("error: {flag}")), "{}", r.stderr);
        assert!(r.stderr.contains("hint: "), "{}", r.stderr);
    }
}
