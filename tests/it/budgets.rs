//! Session budgets (reference/updates-2026-12.md §2 "Session budgets"; managed-agents-api.md
//! §1.4 and §2.4): `budget.max_list_cost` from the session object, `session.updated` and
//! `session.usage`, `stop_reason: budget_reached` from idles; the figures in `meter`'s JSON,
//! table and groups; `--notify` and `watch --budget-alert`.

use serde_json::{json, Value};

use crate::common::*;

/// `budget` as the docs write it: integer cents as a string (managed-agents-api.md §2.4).
pub(crate) fn budget(cents: &str) -> Value {
    json!({"type": "limit", "max_list_cost": {"amount": cents, "currency": "USD"}})
}

/// The seed example (managed-agents-api.md §4), in session `id`: 1 h running (0.08) and one
/// Opus 4.6 request of 50,000 input (x $5/M = 0.25) and 15,000 output (x $25/M = 0.375):
/// 0.705. `object` extends the session object; `idle` is the stop reason of the idle at 11:00.
pub(crate) fn seed(id: &str, object: Value, idle: &str) -> Vec<Value> {
    vec![
        with(session(id, "claude-opus-4-6"), object),
        ev("e1", "session.status_running", "2026-10-01T10:00:00Z"),
        request("e2", "2026-10-01T10:30:00Z", 50_000, 15_000, 0, 0),
        with(
            ev("e3", "session.status_idle", "2026-10-01T11:00:00Z"),
            json!({"stop_reason": {"type": idle}}),
        ),
    ]
}

/// Five sessions, one file each:
/// - a: $1.00 budget on the session object; 0.705 / 1.00 = 70.5%, not reached.
/// - b: $25.00 stated by `session.usage`, and the idle says budget_reached: reached, though
///   0.705 / 25.00 = 2.82% -> 2.8.
/// - c: no budget: `null`.
/// - d: $0.80 set by `session.updated` (over the object's $5.00, which is older): 0.705 / 0.80
///   = 88.125% -> 88.1, flagged (>= 80%), not reached.
/// - e: $0.70 on the object: 0.705 >= 0.70, reached by cost; 0.705 / 0.70 = 100.714...% -> 100.7.
pub(crate) fn fleet(tmp: &Tmp) -> std::path::PathBuf {
    let mut b = seed("sesn_b", json!({}), "budget_reached");
    b.insert(
        3,
        with(
            ev("u1", "session.usage", "2026-10-01T10:59:59Z"),
            json!({"usage": {"input_tokens": 50_000, "output_tokens": 15_000,
                             "list_cost": {"amount": "71", "currency": "USD"}},
                   "budget": budget("2500")}),
        ),
    );
    let mut d = seed("sesn_d", json!({"budget": budget("500")}), "end_turn");
    d.insert(
        1,
        with(
            ev("u2", "session.updated", "2026-10-01T10:01:00Z"),
            json!({"budget": budget("80")}),
        ),
    );
    let files = [
        (
            "a",
            seed("sesn_a", json!({"budget": budget("100")}), "end_turn"),
        ),
        ("b", b),
        ("c", seed("sesn_c", json!({}), "end_turn")),
        ("d", d),
        (
            "e",
            seed("sesn_e", json!({"budget": budget("70")}), "end_turn"),
        ),
    ];
    for (name, records) in files {
        tmp.write(&format!("runs/{name}.ndjson"), &ndjson(&records));
    }
    tmp.path("runs")
}

fn meter_json(dir: &std::path::Path, extra: &[&str]) -> Value {
    let r = run(["meter", dir.to_str().unwrap(), "-f", "json"]
        .into_iter()
        .chain(extra.iter().copied()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

fn by_id<'a>(v: &'a Value, id: &str) -> &'a Value {
    (v["sessions"].as_array().unwrap().iter())
        .find(|s| s["session_id"] == id)
        .unwrap_or_else(|| panic!("no {id}"))
}

#[test]
fn meter_json_shows_each_sessions_budget_used_and_reached() {
    let tmp = Tmp::new();
    let v = meter_json(&fleet(&tmp), &[]);
    for id in ["sesn_a", "sesn_b", "sesn_c", "sesn_d", "sesn_e"] {
        assert_eq!(
            dec(by_id(&v, id)["cost"]["total"].as_str().unwrap()),
            dec("0.705"),
            "{id}"
        );
    }
    assert_eq!(
        by_id(&v, "sesn_a")["budget"],
        json!({"max_usd": "1.00", "used_pct": 70.5, "reached": false})
    );
    assert_eq!(
        by_id(&v, "sesn_b")["budget"],
        json!({"max_usd": "25.00", "used_pct": 2.8, "reached": true})
    );
    assert_eq!(by_id(&v, "sesn_c")["budget"], Value::Null);
    assert_eq!(
        by_id(&v, "sesn_d")["budget"],
        json!({"max_usd": "0.80", "used_pct": 88.1, "reached": false})
    );
    assert_eq!(
        by_id(&v, "sesn_e")["budget"],
        json!({"max_usd": "0.70", "used_pct": 100.7, "reached": true})
    ); // State spilled to disk (`--memory 0`) carries the budgets just the same.
    let spilled = meter_json(&tmp.path("runs"), &["--memory", "0"]);
    assert_eq!(spilled["sessions"], v["sessions"]);
}

#[test]
fn a_budget_reached_idle_without_a_stated_budget_is_still_reached() {
    // A thread's idle says budget_reached (managed-agents-api.md §1.4: thread idles carry a
    // stop_reason too); no budget object anywhere: reached, with no max and no share.
    let tmp = Tmp::new();
    let mut records = seed("sesn_t", json!({}), "end_turn");
    records.push(with(
        ev("t1", "session.thread_status_idle", "2026-10-01T10:45:00Z"),
        json!({"session_thread_id": "sthr_1", "agent_name": "researcher",
               "stop_reason": {"type": "budget_reached"}}),
    ));
    tmp.write("runs/t.ndjson", &ndjson(&records));
    let v = meter_json(&tmp.path("runs"), &[]);
    assert_eq!(
        by_id(&v, "sesn_t")["budget"],
        json!({"max_usd": null, "used_pct": null, "reached": true})
    );
}

#[test]
fn the_table_marks_sessions_at_or_over_80_percent_and_lists_them() {
    let tmp = Tmp::new();
    let r = run(["meter", fleet(&tmp).to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let row = |id: &str| {
        (r.stdout.lines())
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("no row {id}: {}", r.stdout))
            .to_string()
    };
    // a at 70.5% and c without a budget: no marker; d at 88.1%; b and e reached.
    assert!(!row("sesn_a").contains("[budget"), "{}", r.stdout);
    assert!(!row("sesn_c").contains("[budget"), "{}", r.stdout);
    assert!(row("sesn_d").contains("[budget 88.1%]"), "{}", r.stdout);
    assert!(row("sesn_b").contains("[budget reached]"), "{}", r.stdout);
    assert!(row("sesn_e").contains("[budget reached]"), "{}", r.stdout);
    let note = (r.stdout.lines().chain(r.stderr.lines()))
        .find(|l| l.contains("of their budget"))
        .unwrap_or_else(|| panic!("no note: {}{}", r.stdout, r.stderr));
    assert!(note.contains("3 session(s) at or over 80%"), "{note}");
    assert!(
        note.contains("sesn_b 2.8% of $25.00 (reached)")
            && note.contains("sesn_d 88.1% of $0.80")
            && note.contains("sesn_e 100.7% of $0.70 (reached)")
            && !note.contains("sesn_a"),
        "{note}"
    );
}

#[test]
fn group_rows_count_flagged_and_reached_budgets() {
    // All five run agent "researcher" (common::session): flagged b, d, e = 3; reached b, e = 2.
    let tmp = Tmp::new();
    let dir = fleet(&tmp);
    let v = meter_json(&dir, &["--group-by", "agent"]);
    let rows = v["groups"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["sessions"], 5);
    assert_eq!(rows[0]["budgets_over_80"], 3);
    assert_eq!(rows[0]["budgets_reached"], 2);
    // By day and agent: the same one day, the same counts; the table has the two columns.
    let r = run(["meter", dir.to_str().unwrap(), "--group-by", "day,agent"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let header = r.stdout.lines().next().unwrap();
    assert!(
        header.contains("Budget >=80%") && header.contains("Reached"),
        "{header}"
    );
    let row = (r.stdout.lines())
        .find(|l| l.starts_with("2026-10-01"))
        .unwrap();
    assert!(row.trim_end().ends_with("3        2"), "{row}");
}

#[test]
fn a_budget_of_the_wrong_type_is_an_error_with_its_line() {
    // The amount is documented as a string of integer cents: a number, a fraction or another
    // currency is bad input, named by file and line (line 1 is the session object).
    let tmp = Tmp::new();
    for (bad, says) in [
        (
            json!({"type": "limit", "max_list_cost": {"amount": 2500, "currency": "USD"}}),
            "not a string of integer cents",
        ),
        (budget("25.00"), "not a string of integer cents"),
        (
            json!({"type": "limit", "max_list_cost": {"amount": "2500", "currency": "EUR"}}),
            "only USD",
        ),
        (json!("2500"), "`budget` is not an object"),
    ] {
        let p = tmp.write(
            "bad.ndjson",
            &ndjson(&seed("sesn_x", json!({"budget": bad}), "end_turn")),
        );
        let r = run(["meter", p.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr.contains("error: ")
                && r.stderr.contains("bad.ndjson:1:")
                && r.stderr.contains(says),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("hint:"), "{}", r.stderr);
    }
}

/// A webhook on 127.0.0.1 (a random port): each POST is answered with the next status of
/// `statuses` (then 200); every request's path and JSON body is kept.
pub(crate) struct Hook {
    pub(crate) url: String,
    pub(crate) got: std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>,
}

/// The webhook's secret, as a Slack incoming webhook's path is.
const SECRET_PATH: &str = "/services/T0SECRET/B0SECRET/hunter2XYZ";

pub(crate) fn hook(statuses: &[u16]) -> Hook {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}{SECRET_PATH}", listener.local_addr().unwrap());
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (mut statuses, kept) = (statuses.to_vec(), got.clone());
    statuses.reverse();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(10)));
            let mut r = BufReader::new(conn.try_clone().unwrap());
            let (mut head, mut line) = (Vec::new(), String::new());
            while r.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                head.push(std::mem::take(&mut line));
            }
            let length = (head.iter())
                .find_map(|h| {
                    h.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            let mut body = vec![0; length];
            let _ = r.read_exact(&mut body);
            let path = head
                .first()
                .and_then(|l| l.split(' ').nth(1))
                .unwrap_or("")
                .to_string();
            kept.lock()
                .unwrap()
                .push((path, serde_json::from_slice(&body).unwrap_or(Value::Null)));
            let status = statuses.pop().unwrap_or(200);
            let _ = write!(
                conn,
                "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            );
        }
    });
    Hook { url, got }
}

/// A run of one task: the seed session (0.705) with `input` input tokens instead of 50,000.
pub(crate) fn task_run(tmp: &Tmp, name: &str, input: u64) -> std::path::PathBuf {
    let mut records = seed(
        &format!("sesn_{name}"),
        json!({"title": "alpha"}),
        "end_turn",
    );
    records[2] = request("e2", "2026-10-01T10:30:00Z", input, 15_000, 0, 0);
    tmp.write(&format!("{name}/a.ndjson"), &ndjson(&records));
    tmp.path(name)
}

#[test]
fn check_notifies_once_when_the_gate_fails_retrying_a_500_and_never_showing_the_path() {
    // Baseline 0.705; the run has 150,000 input: 0.08 + 0.75 + 0.375 = 1.205, +0.50 = +70.9%
    // > 10%: the gate fails (exit 1), and the webhook answers 500 first, then 200.
    let tmp = Tmp::new();
    let base = task_run(&tmp, "base", 50_000);
    let baseline = tmp.path("baseline.json");
    let r = run([
        "baseline",
        base.to_str().unwrap(),
        "-o",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pr = task_run(&tmp, "pr", 150_000);
    let h = hook(&[500]);
    let args = |pr: &std::path::Path| {
        vec![
            "check".to_string(),
            pr.display().to_string(),
            "--baseline".into(),
            baseline.display().to_string(),
            "--max-increase".into(),
            "10%".into(),
            "--notify".into(),
            h.url.clone(),
        ]
    };
    let r = run_within(60, args(&pr));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let got = h.got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "the 500 and its retry: {got:?}");
    assert_eq!(got[0], got[1]);
    let (path, body) = &got[1];
    assert_eq!(path, SECRET_PATH);
    assert!(
        body["text"].as_str().unwrap().contains("$0.71 -> $1.21"),
        "{body}"
    );
    assert_eq!(body["agentmeter"]["passed"], false);
    assert_eq!(
        dec(body["agentmeter"]["total"]["current"].as_str().unwrap()),
        dec("1.205")
    );
    assert!(
        r.stderr.contains("notified http://127.0.0.1:"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("SECRET") && !r.stdout.contains("SECRET"),
        "{}",
        r.stderr
    );
    // The unchanged run passes: nothing is sent.
    let r = run_within(60, args(&base));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(h.got.lock().unwrap().len(), 2);
}

#[test]
fn a_notify_that_keeps_failing_is_a_warning_and_the_exit_code_stays() {
    // 503 on every attempt (4 in all: 0.5 + 1 + 2 s of backoff), and a 404 (not retried).
    let tmp = Tmp::new();
    let base = task_run(&tmp, "base", 50_000);
    let baseline = tmp.path("baseline.json");
    assert_eq!(
        run([
            "baseline",
            base.to_str().unwrap(),
            "-o",
            baseline.to_str().unwrap()
        ])
        .code,
        0
    );
    let pr = task_run(&tmp, "pr", 150_000);
    for (statuses, attempts, says) in [
        (vec![503; 4], 4, "gave up after 4 attempts: HTTP 503"),
        (vec![404], 1, "HTTP 404"),
    ] {
        let h = hook(&statuses);
        let r = run_within(
            60,
            [
                "check",
                pr.to_str().unwrap(),
                "--baseline",
                baseline.to_str().unwrap(),
                "--max-increase",
                "10%",
                "--notify",
                &h.url,
            ],
        );
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert_eq!(h.got.lock().unwrap().len(), attempts);
        assert!(
            r.stderr.contains("warning: --notify http://127.0.0.1:") && r.stderr.contains(says),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("SECRET"), "{}", r.stderr);
    }
    // A URL that is not one is an error before any work, and is not echoed.
    let r = run([
        "check",
        pr.to_str().unwrap(),
        "--baseline",
        baseline.to_str().unwrap(),
        "--max-increase",
        "10%",
        "--notify",
        "hooks.example/services/T0SECRET",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--notify") && r.stderr.contains("hint:") && !r.stderr.contains("SECRET"),
        "{}",
        r.stderr
    );
}

/// The mock API (tests/it/mock.rs) serving session `id` (with `object` on its session
/// object): history running at 10:00 and the seed request at 10:30; the stream then sends
/// the idle at 11:00. History alone: 30 min still running (0.04) + 0.625 = 0.665; with the
/// idle, 1 h: 0.705.
pub(crate) fn live(id: &str, object: Value) -> crate::mock::Mock {
    let records = seed(id, object, "end_turn");
    let mut state = crate::mock::State::default();
    state.sessions.push(records[0].clone());
    state.events.insert(id.into(), records[1..3].to_vec());
    let idle = records[3].clone();
    let frame = format!("event: session.status_idle\ndata: {idle}\n\n");
    state
        .streams
        .insert(id.into(), vec![(frame, vec![idle])].into());
    crate::mock::Mock::start(state)
}

pub(crate) fn watch(mock: &crate::mock::Mock, id: &str, extra: &[&str]) -> Run {
    let mut cmd = bin();
    cmd.args(["watch", id, "--until-idle", "--base-url", &mock.url])
        .args(extra)
        .env("ANTHROPIC_API_KEY", crate::mock::KEY)
        .stdin(std::process::Stdio::null());
    run_cmd_within(&mut cmd, 60)
}

#[test]
fn watch_budget_alert_warns_notifies_and_exits_one_when_the_live_session_crosses_it() {
    // $1.00 budget: the history's 0.665 is 66.5%, under 70%; the idle brings 0.705 = 70.5%.
    let h = hook(&[]);
    let mock = live("sesn_live", json!({"budget": budget("100")}));
    let r = watch(
        &mock,
        "sesn_live",
        &["--budget-alert", "70%", "--notify", &h.url],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let warning =
        "warning: budget alert: sesn_live: $0.71 of its budget $1.00 = 70.5% (--budget-alert 70%)";
    assert_eq!(r.stderr.matches(warning).count(), 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("sesn_live: done") && r.stdout.contains("$0.71"),
        "{}",
        r.stdout
    );
    let got = h.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    let body = &got[0].1;
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("budget alert: sesn_live"),
        "{body}"
    );
    assert_eq!(body["agentmeter"]["session_id"], "sesn_live");
    assert_eq!(
        dec(body["agentmeter"]["cost"].as_str().unwrap()),
        dec("0.705")
    );
    assert_eq!(body["agentmeter"]["budget"], "1.00");
    assert!(
        !r.stderr.contains("SECRET") && !r.stderr.contains(crate::mock::KEY),
        "{}",
        r.stderr
    );
    // At 80% the same session never crosses: exit 0, no warning.
    let mock = live("sesn_live", json!({"budget": budget("100")}));
    let r = watch(&mock, "sesn_live", &["--budget-alert", "80%"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("budget alert"), "{}", r.stderr);
}

#[test]
fn watch_budget_alert_uses_max_usd_for_a_session_without_a_budget() {
    // No budget: --max-usd 0.50. The history's 0.665 is already 0.665 / 0.50 = 133.0%.
    let mock = live("sesn_free", json!({}));
    let r = watch(
        &mock,
        "sesn_free",
        &["--budget-alert", "100%", "--max-usd", "0.50"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "budget alert: sesn_free: $0.67 of --max-usd $0.50 = 133.0% (--budget-alert 100%)"
        ),
        "{}",
        r.stderr
    );
    // Without --max-usd there is nothing to compare with: said, and exit 0.
    let mock = live("sesn_free", json!({}));
    let r = watch(&mock, "sesn_free", &["--budget-alert", "80%"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("states no budget; pass --max-usd"),
        "{}",
        r.stderr
    );
    let r = watch(&mock, "sesn_free", &["--budget-alert", "eighty"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// Four Mondays of the seed session under `runs/` (0.705 each); on the last, 1,000,000 output
/// tokens instead of 15,000. Returns the directory.
pub(crate) fn four_mondays(tmp: &Tmp) -> std::path::PathBuf {
    for day in ["01", "08", "15", "22"] {
        let at = |t: &str| format!("2026-06-{day}T{t}Z");
        let output = if day == "22" { 1_000_000 } else { 15_000 };
        let records = [
            session(&format!("sesn_{day}"), "claude-opus-4-6"),
            ev("e1", "session.status_running", &at("10:00:00")),
            request("e2", &at("10:30:00"), 50_000, output, 0, 0),
            ev("e3", "session.status_idle", &at("11:00:00")),
        ];
        tmp.write(&format!("runs/{day}.ndjson"), &ndjson(&records));
    }
    tmp.path("runs")
}

#[test]
fn anomalies_notify_sends_the_anomalies_once_found() {
    // Four Mondays of the seed session (0.705); on the last, 1,000,000 output tokens instead
    // of 15,000: 0.08 + 0.25 + 25 = 25.33 against the median 0.705 of the Mondays before.
    let tmp = Tmp::new();
    let runs = four_mondays(&tmp);
    let h = hook(&[]);
    let r = run_within(
        60,
        [
            "anomalies",
            runs.to_str().unwrap(),
            "--weeks",
            "3",
            "--notify",
            &h.url,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = h.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    let body = &got[0].1;
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("1 spend anomaly (first: 2026-06-22 researcher $25.33, expected $0.71)"),
        "{body}"
    );
    let a = &body["agentmeter"]["anomalies"];
    assert_eq!(a.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(dec(a[0]["cost"].as_str().unwrap()), dec("25.33"));
    assert_eq!(a[0]["sessions"], json!(["sesn_22"]));
    // Without the spike's week nothing is found and nothing is sent.
    let r = run_within(
        60,
        [
            "anomalies",
            runs.to_str().unwrap(),
            "--weeks",
            "3",
            "--until",
            "2026-06-21",
            "--notify",
            &h.url,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(h.got.lock().unwrap().len(), 1);
}

#[test]
fn the_80_percent_flag_compares_the_exact_share_not_the_rounded_one() {
    // $1.00 budget; 1 h (0.08) + 50,000 input (0.25) + output at $25/M:
    // 18,800 -> 0.47: 0.80 = exactly 80%, flagged;
    // 18,799 -> 0.469975: 0.799975 = 79.9975%, shown as 80.0 but not flagged.
    let tmp = Tmp::new();
    for (id, output) in [("sesn_at", 18_800), ("sesn_under", 18_799)] {
        let mut records = seed(id, json!({"budget": budget("100")}), "end_turn");
        records[2] = request("e2", "2026-10-01T10:30:00Z", 50_000, output, 0, 0);
        tmp.write(&format!("runs/{id}.ndjson"), &ndjson(&records));
    }
    let v = meter_json(&tmp.path("runs"), &["--group-by", "agent"]);
    assert_eq!(by_id(&v, "sesn_at")["budget"]["used_pct"], 80.0);
    assert_eq!(by_id(&v, "sesn_under")["budget"]["used_pct"], 80.0);
    assert_eq!(v["groups"]["rows"][0]["budgets_over_80"], 1);
    assert_eq!(v["groups"]["rows"][0]["budgets_reached"], 0);
    let r = run(["meter", tmp.path("runs").to_str().unwrap()]);
    assert!(r.stdout.contains("sesn_at [budget 80.0%]"), "{}", r.stdout);
    assert!(!r.stdout.contains("sesn_under [budget"), "{}", r.stdout);
}

/// `project --format json`'s agents, for `scenario` (TOML text) with `extra` arguments.
fn projected_agents(tmp: &Tmp, scenario: &str, extra: &[&str]) -> Vec<Value> {
    let file = tmp.write("budget.toml", scenario);
    let mut args = vec![
        "project",
        file.to_str().unwrap(),
        "--runs",
        "20",
        "-f",
        "json",
    ];
    args.extend(extra);
    let r = run_within(120, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    v["agents"].as_array().unwrap().clone()
}

#[test]
fn a_recommended_session_budget_of_fixed_sessions_is_their_list_cost() {
    // The daily-research session on Sonnet 4.6: runtime 30 min x $0.08/h = 0.04, tokens 6 x
    // (4,000 x $3 + 900 x $15 + 15,000 x $0.30) / 1M = 0.18: every session costs 0.22, so
    // p95 = p99 = 0.22. The same session on Opus 4.6: 0.04 + 6 x (0.02 + 0.0225 + 0.0075) =
    // 0.34, at list even under 15% off Opus tokens from the first day (a session's budget is
    // compared with its list cost; contracted it would be 0.04 + 0.30 x 0.85 = 0.295).
    let tmp = Tmp::new();
    let session = "[agent.session]\nactive_minutes = 30\nrequests = 6\ninput_tokens = 4000\noutput_tokens = 900\ncache_read_tokens = 15000\n";
    let text = format!(
        "start = \"2026-12-01\"\nmonths = 1\n\
         [[agent]]\nname = \"s\"\nmodel = \"claude-sonnet-4-6\"\nsessions_per_day = 1\n{session}\
         [[agent]]\nname = \"o\"\nmodel = \"claude-opus-4-6\"\nsessions_per_day = 1\n{session}"
    );
    let contract = tmp.write(
        "c.toml",
        "schema = 1\nname = \"c\"\n[[discount]]\neffective = \"2026-12-01\"\npercent = \"15%\"\nmodels = [\"claude-opus-4-6\"]\n",
    );
    for extra in [vec![], vec!["--contract", contract.to_str().unwrap()]] {
        let agents = projected_agents(&tmp, &text, &extra);
        assert_eq!(
            agents[0]["recommended_session_budget"],
            json!({"p95": "0.22", "p99": "0.22"})
        );
        assert_eq!(
            agents[1]["recommended_session_budget"],
            json!({"p95": "0.34", "p99": "0.34"})
        );
    }
    // The table: a Budget p95 and p99 column per agent.
    let file = tmp.write("t.toml", &text);
    let r = run_within(60, ["project", file.to_str().unwrap(), "--runs", "5"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let head = r.stdout.lines().find(|l| l.starts_with("Agent")).unwrap();
    assert!(head.ends_with("Budget p95  Budget p99"), "{head}");
    let opus = r.stdout.lines().find(|l| l.starts_with("o ")).unwrap();
    assert!(opus.ends_with("$0.34       $0.34"), "{opus}");
    assert!(
        r.stdout.contains("session budgets: Budget p95 and p99 are the 95th and 99th percentiles of one session's list cost (100,000 simulated sessions per agent"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_recommended_session_budget_matches_the_lognormal_quantiles() {
    // One request of output ~ lognormal(p50 100,000, p90 400,000) on Sonnet 4.6 ($15/M) and
    // an hour of runtime ($0.08), nothing else: cost = 0.08 + 15e-6 x N. The lognormal's
    // sigma = ln(4) / z(0.90) = 1.386294 / 1.281552 = 1.081731, so its quantiles are
    // q(p) = 100,000 x exp(1.081731 x z(p)): q(0.95) = 100,000 x exp(1.081731 x 1.644854) =
    // 592,565 tokens -> 0.08 + 8.8885 = 8.9685; q(0.99) = 100,000 x exp(1.081731 x 2.326348)
    // = 1,238,496 -> 0.08 + 18.5774 = 18.6574. From 100,000 sessions a sample quantile's
    // standard error is sqrt(p(1-p)/n) / phi(z(p)) in z: 0.0067 at p95, 0.0118 at p99, i.e.
    // sigma x that = 0.7% and 1.3% of the amount; the budget is rounded up to the cent.
    // Within 3% (4 and 2.3 standard errors) of the analytic amounts.
    let tmp = Tmp::new();
    let agents = projected_agents(
        &tmp,
        "start = \"2026-12-01\"\nmonths = 1\n[[agent]]\nname = \"a\"\nmodel = \"claude-sonnet-4-6\"\nsessions_per_month = 10\n\
         [agent.session]\nactive_minutes = 60\nrequests = 1\noutput_tokens = { dist = \"lognormal\", p50 = 100000, p90 = 400000 }\n",
        &[],
    );
    let b = &agents[0]["recommended_session_budget"];
    let got = |k: &str| b[k].as_str().unwrap().parse::<f64>().unwrap();
    let sigma = 4f64.ln() / 1.281_551_565_544_600_4;
    let analytic = |z: f64| 0.08 + 15e-6 * 100_000.0 * (sigma * z).exp();
    for (k, z) in [
        ("p95", 1.644_853_626_951_472_2),
        ("p99", 2.326_347_874_040_840_8),
    ] {
        let (g, want) = (got(k), analytic(z));
        assert!(
            ((g - want) / want).abs() < 0.03,
            "{k}: {g} vs the analytic {want}"
        );
    }
    // The order and the cent: p95 < p99, both whole cents.
    assert!(got("p95") < got("p99"));
    for k in ["p95", "p99"] {
        let s = b[k].as_str().unwrap();
        assert!(s.split('.').nth(1).is_none_or(|c| c.len() <= 2), "{s}");
    }
}
