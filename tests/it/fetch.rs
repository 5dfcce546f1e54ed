//! `agentmeter fetch` against the mock API: exports that meter like the fixtures, retries,
//! failures, atomic and incremental writes, and a key that never leaks.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;
use crate::mock::{Mock, KEY};

fn fixture_exports() -> Vec<PathBuf> {
    [
        "seed-example-uncached.ndjson",
        "seed-example-cached.ndjson",
        "busy-sonnet.ndjson",
        "multiagent.ndjson",
    ]
    .iter()
    .map(|f| fixtures().join(f))
    .collect()
}

fn fetch(url: &str, out: &Path, extra: &[&str], key: Option<&str>) -> Run {
    let mut cmd = bin();
    cmd.args(["fetch", "--out", out.to_str().unwrap(), "--base-url", url])
        .args(extra);
    cmd.env_remove("ANTHROPIC_API_KEY");
    if let Some(k) = key {
        cmd.env("ANTHROPIC_API_KEY", k);
    }
    let o = cmd.output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into(),
        stderr: String::from_utf8_lossy(&o.stderr).into(),
    }
}

fn totals(dir: &Path) -> Value {
    let r = run([
        "meter".as_ref(),
        dir.as_os_str(),
        "-f".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    v["totals"].clone()
}

fn no_key_anywhere(r: &Run, dir: &Path) {
    assert!(
        !r.stdout.contains(KEY) && !r.stderr.contains(KEY),
        "the key leaked to the output"
    );
    for e in walk(dir) {
        assert!(
            !std::fs::read_to_string(&e)
                .unwrap_or_default()
                .contains(KEY),
            "the key leaked into {}",
            e.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

/// A fetch from a healthy mock, as the reference an interrupted fetch must end up equal to.
fn clean_fetch(tmp: &Tmp) -> (PathBuf, Mock) {
    let clean = tmp.path("clean");
    let mock = Mock::start(Mock::from_exports(&fixture_exports()));
    assert_eq!(
        fetch(&mock.url, &clean, &["--concurrency", "1"], Some(KEY)).code,
        0
    );
    (clean, mock)
}

#[test]
fn fetched_exports_meter_like_the_fixtures_through_429_and_500() {
    let mut state = Mock::from_exports(&fixture_exports());
    state
        .faults
        .push_back(("/v1/sessions".into(), 429, Some("1".into())));
    state
        .faults
        .push_back(("/v1/sessions/sesn_busy_sonnet/events".into(), 500, None));
    let mock = Mock::start(state);
    let tmp = Tmp::new();
    let out = tmp.path("runs");
    let r = fetch(&mock.url, &out, &["--concurrency", "2"], Some(KEY));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("4 session(s) fetched"), "{}", r.stderr);
    // The same totals as metering the fixture files themselves.
    let direct = {
        let mut args = vec!["meter".to_string(), "-f".into(), "json".into()];
        args.extend(fixture_exports().iter().map(|p| p.display().to_string()));
        let r = run(&args);
        serde_json::from_str::<Value>(&r.stdout).unwrap()["totals"].clone()
    };
    assert_eq!(totals(&out), direct);
    let st = mock.state.lock().unwrap();
    assert!(
        st.hits.iter().all(|(_, ok)| *ok),
        "every request carried the key"
    );
    assert!(
        st.hits
            .iter()
            .any(|(p, _)| p.contains("limit=1000") && p.contains("order=asc")),
        "events paged with limit=1000, order=asc"
    );
    assert!(
        st.faults.is_empty(),
        "the 429 and the 500 were served and retried"
    );
    drop(st);
    no_key_anywhere(&r, &out);
    // Stored exports hold no message content.
    for f in walk(&out) {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(
            !text.contains("Summarise the Q3 filings") && !text.contains("careful researcher"),
            "{}",
            f.display()
        );
    }
}

#[test]
fn a_401_fails_at_once_and_names_what_to_check() {
    let mock = Mock::start(Mock::from_exports(&fixture_exports()));
    let tmp = Tmp::new();
    let r = fetch(
        &mock.url,
        &tmp.path("runs"),
        &[],
        Some("sk-ant-wrong-key-123"),
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("401")
            && r.stderr.contains("request-id req_mock_401")
            && r.stderr.contains("ANTHROPIC_API_KEY"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("sk-ant-wrong-key-123"));
    assert_eq!(mock.state.lock().unwrap().hits.len(), 1, "no retry on 401");
    let r = fetch(&mock.url, &tmp.path("runs"), &[], None);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("ANTHROPIC_API_KEY is not set"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_interrupted_fetch_resumes_into_complete_identical_files() {
    let tmp = Tmp::new();
    let (clean, _mock) = clean_fetch(&tmp);
    // A fetch that dies on one session (a 404 fails at once, like a kill): no half files.
    let mut state = Mock::from_exports(&fixture_exports());
    state
        .faults
        .push_back(("/v1/sessions/sesn_multi/threads".into(), 404, None));
    let broken = Mock::start(state);
    let out = tmp.path("runs");
    let r = fetch(&broken.url, &out, &["--concurrency", "1"], Some(KEY));
    assert_eq!(r.code, 2, "{}", r.stderr);
    for f in walk(&out) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.ends_with(".part"),
            "a temporary file was left: {name}"
        );
        assert_eq!(
            std::fs::read(&f).unwrap(),
            std::fs::read(clean.join(&name)).unwrap(),
            "{name} is complete"
        );
    }
    assert!(!out.join("sesn_multi.ndjson").exists());
    // Re-run: the missing session is fetched, the others are skipped as unchanged.
    let r = fetch(&broken.url, &out, &["--concurrency", "1"], Some(KEY));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("1 session(s) fetched") && r.stderr.contains("3 unchanged"),
        "{}",
        r.stderr
    );
    let mut names: Vec<_> = walk(&clean)
        .iter()
        .map(|p| p.file_name().unwrap().to_owned())
        .collect();
    names.sort();
    for n in names {
        assert_eq!(
            std::fs::read(out.join(&n)).unwrap(),
            std::fs::read(clean.join(&n)).unwrap(),
            "{n:?}"
        );
    }
}

#[test]
fn watch_follows_the_stream_through_a_dropped_connection() {
    use serde_json::json;
    // History: running at 10:00 and a request (50,000 in, 15,000 out). Stream 1: a ping, a web
    // search and its result, then the connection drops; meanwhile a request of 10,000 input
    // tokens happens (only the list has it). Stream 2: idle at 11:00.
    // Opus 4.6: 60,000 x $5/M = 0.30 + 15,000 x $25/M = 0.375 + 1 search 0.01 + 1 h 0.08 = 0.765.
    let e = |id: &str, kind: &str, at: &str| ev(id, kind, at);
    let history = vec![
        e("e1", "session.status_running", "2026-10-01T10:00:00Z"),
        request("e2", "2026-10-01T10:05:00Z", 50_000, 15_000, 0, 0),
    ];
    let streamed = vec![
        with(
            e("e3", "agent.tool_use", "2026-10-01T10:10:00Z"),
            json!({"name": "web_search"}),
        ),
        with(
            e("e4", "agent.tool_result", "2026-10-01T10:10:01Z"),
            json!({"tool_use_id": "e3", "is_error": false}),
        ),
    ];
    let gap = request("e5", "2026-10-01T10:20:00Z", 10_000, 0, 0, 0);
    let idle = with(
        e("e6", "session.status_idle", "2026-10-01T11:00:00Z"),
        json!({"stop_reason": {"type": "end_turn"}}),
    );
    let frame =
        |v: &serde_json::Value| format!("event: {}\ndata: {}\n\n", v["type"].as_str().unwrap(), v);
    let mut state = crate::mock::State::default();
    let mut s = session("sesn_live", "claude-opus-4-6");
    s["updated_at"] = json!("2026-10-01T10:00:00Z");
    state.sessions.push(s);
    state.events.insert("sesn_live".into(), history);
    let body1 = format!(
        "event: ping\ndata: {{}}\n\n{}{}",
        frame(&streamed[0]),
        frame(&streamed[1])
    );
    let mut publish1 = streamed.clone();
    publish1.push(gap);
    state.streams.insert(
        "sesn_live".into(),
        vec![
            (body1, publish1),
            (
                format!("event: ping\ndata: {{}}\n\n{}", frame(&idle)),
                vec![idle.clone()],
            ),
        ]
        .into(),
    );
    let mock = Mock::start(state);
    let tmp = Tmp::new();
    let out = tmp.path("live.ndjson");
    let o = bin()
        .args([
            "watch",
            "sesn_live",
            "--until-idle",
            "--base-url",
            &mock.url,
            "--out",
            out.to_str().unwrap(),
        ])
        .env("ANTHROPIC_API_KEY", KEY)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("sesn_live: done")
            && stdout.contains("1:00:00.000")
            && stdout.contains("$0.77"),
        "{stdout}"
    );
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY));
    // The final figure is what `meter` makes of the export it kept: 0.765 exactly.
    let t = totals(tmp.0.path());
    assert_eq!(t["cost"]["total"], "0.765");
    assert_eq!(t["requests"], 2);
    assert_eq!(t["web_searches"], 1);
    assert_eq!(
        mock.state.lock().unwrap().streams["sesn_live"].len(),
        0,
        "both stream connections were used"
    );
}

#[test]
fn admin_reports_feed_the_invoiced_view() {
    let mock = Mock::start(crate::mock::State::default());
    let tmp = Tmp::new();
    let admin = tmp.path("admin");
    let o = bin()
        .args([
            "fetch",
            "--admin",
            "--created-since",
            "2026-05-01",
            "--out",
            admin.to_str().unwrap(),
            "--base-url",
            &mock.url,
        ])
        .env_remove("ANTHROPIC_API_KEY")
        .env("ANTHROPIC_ADMIN_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        admin.join("cost_report-001.json").is_file()
            && admin.join("usage_report-001.json").is_file()
    );
    assert!(mock
        .state
        .lock()
        .unwrap()
        .hits
        .iter()
        .any(|(p, _)| p.contains("starting_at=2026-05-01T00%3A00%3A00Z")
            || p.contains("starting_at=2026-05-01T00:00:00Z")));
    // The seed's Opus hour: tokens 0.625 invoiced as 62.5 cents; the usage report agrees on tokens.
    let seed = fixtures().join("seed-example-uncached.ndjson");
    let r = run([
        "reconcile",
        seed.to_str().unwrap(),
        "--cost-report",
        admin.join("cost_report-001.json").to_str().unwrap(),
        "--usage-report",
        admin.join("usage_report-001.json").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let tokens = v["invoiced"]["by_day"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["bucket"] == "claude-opus-4-6")
        .unwrap()
        .clone();
    assert_eq!(
        (
            tokens["computed"].as_str(),
            tokens["invoiced"].as_str(),
            tokens["difference"].as_str()
        ),
        (Some("0.625"), Some("0.625"), Some("0"))
    );
    let counts = &v["usage_report"][0]["counts"];
    assert_eq!(
        counts["input"],
        serde_json::json!({"computed": 50000, "reported": 50000})
    );
    assert_eq!(
        counts["output"],
        serde_json::json!({"computed": 15000, "reported": 15000})
    );
}

#[test]
fn a_fetch_killed_midway_leaves_no_half_file_and_a_rerun_completes_it() {
    let tmp = Tmp::new();
    let (clean, mock) = clean_fetch(&tmp);
    // A slow server for one session; the fetch is killed while it waits.
    let mut state = Mock::from_exports(&fixture_exports());
    state.delay = Some((
        "/v1/sessions/sesn_multi/threads".into(),
        std::time::Duration::from_secs(30),
    ));
    let slow = Mock::start(state);
    let out = tmp.path("runs");
    let mut child = bin()
        .args([
            "fetch",
            "--out",
            out.to_str().unwrap(),
            "--base-url",
            &slow.url,
            "--concurrency",
            "1",
        ])
        .env("ANTHROPIC_API_KEY", KEY)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !slow
        .state
        .lock()
        .unwrap()
        .hits
        .iter()
        .any(|(p, _)| p.starts_with("/v1/sessions/sesn_multi/threads"))
    {
        assert!(
            started.elapsed().as_secs() < 20,
            "the fetch never reached the slow session"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let finished: Vec<PathBuf> = walk(&out)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "ndjson"))
        .collect();
    for f in &finished {
        assert_eq!(
            std::fs::read(f).unwrap(),
            std::fs::read(clean.join(f.file_name().unwrap())).unwrap(),
            "{} is whole",
            f.display()
        );
    }
    assert!(!out.join("sesn_multi.ndjson").exists());
    // The re-run fetches what is missing and skips what is unchanged.
    let r = fetch(&mock.url, &out, &["--concurrency", "1"], Some(KEY));
    assert_eq!(r.code, 0, "{}", r.stderr);
    for f in walk(&clean) {
        let name = f.file_name().unwrap();
        assert_eq!(
            std::fs::read(out.join(name)).unwrap(),
            std::fs::read(&f).unwrap(),
            "{name:?}"
        );
    }
    assert_eq!(totals(&out), totals(&clean));
}

/// A listed session (the SDK's BetaManagedAgentsSession fields fetch reads: id, type,
/// updated_at, agent; `archived_at` set once archived).
fn listed(id: &str, archived_at: Option<&str>) -> Value {
    let mut s = session(id, "claude-haiku-4-5");
    s["archived_at"] = serde_json::json!(archived_at);
    s
}

#[test]
fn archived_sessions_are_fetched_by_default_and_skipped_with_no_archived() {
    // Three sessions, one archived (archiving is the API's routine cleanup: it was billed),
    // listed two to a page. Each has one Haiku 4.5 request of 10,000 input tokens:
    // 10,000 x $1/M = 0.01 a session.
    let mut state = crate::mock::State::default();
    for (id, archived) in [
        ("sesn_a", None),
        ("sesn_archived", Some("2026-09-03T00:00:00Z")),
        ("sesn_c", None),
    ] {
        state.sessions.push(listed(id, archived));
        state.events.insert(
            id.into(),
            vec![request(
                &format!("{id}_e1"),
                "2026-09-02T10:00:00Z",
                10_000,
                0,
                0,
                0,
            )],
        );
    }
    let mock = Mock::start(state);
    let tmp = Tmp::new();
    let all = tmp.path("all");
    let r = fetch(&mock.url, &all, &[], Some(KEY));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(all.join("sesn_archived.ndjson").is_file(), "{}", r.stderr);
    assert_eq!(
        dec(totals(&all)["cost"]["total"].as_str().unwrap()),
        dec("0.03")
    );
    let live = tmp.path("live");
    let r = fetch(&mock.url, &live, &["--no-archived"], Some(KEY));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!live.join("sesn_archived.ndjson").exists());
    assert!(live.join("sesn_a.ndjson").is_file() && live.join("sesn_c.ndjson").is_file());
    assert_eq!(
        dec(totals(&live)["cost"]["total"].as_str().unwrap()),
        dec("0.02")
    );
    let st = mock.state.lock().unwrap();
    let lists: Vec<&String> = st
        .hits
        .iter()
        .map(|(p, _)| p)
        .filter(|p| p.starts_with("/v1/sessions?"))
        .collect();
    assert!(
        lists.iter().any(|p| p.contains("include_archived=true"))
            && lists.iter().any(|p| !p.contains("include_archived")),
        "{lists:?}"
    );
}

/// A multiagent session as the API lists it (hand-written from the SDK types:
/// BetaManagedAgentsSessionThread with `parent_thread_id` null for the primary thread only,
/// agent a saved-agent snapshot or BetaManagedAgentsAdvisor `{"type": "advisor", "model"}`;
/// events per reference/managed-agents-api.md §1.4). The primary thread's events are the
/// session's own (the multiagent doc: the primary thread is the session-level event stream).
fn team_state() -> crate::mock::State {
    use serde_json::json;
    let mut state = crate::mock::State::default();
    let mut s = session("sesn_team", "claude-sonnet-4-6");
    s["agent"]["name"] = json!("lead");
    s["updated_at"] = json!("2026-09-02T10:45:00Z");
    state.sessions.push(s);
    let tid = |t: &str| json!({"session_thread_id": t});
    let own = vec![
        ev("e1", "session.status_running", "2026-09-02T10:00:00Z"),
        request("e2", "2026-09-02T10:01:00Z", 20_000, 2_000, 0, 0),
        with(
            ev("e3", "session.thread_created", "2026-09-02T10:02:00Z"),
            tid("sthr_scout"),
        ),
        with(
            ev("e4", "session.status_idle", "2026-09-02T10:30:00Z"),
            json!({"stop_reason": {"type": "end_turn"}}),
        ),
    ];
    state.events.insert("sesn_team".into(), own.clone());
    let thread = |id: &str, parent: Option<&str>, agent: Value| {
        json!({"type": "session_thread", "id": id, "session_id": "sesn_team",
               "parent_thread_id": parent, "status": "idle",
               "created_at": "2026-09-02T10:00:00Z", "updated_at": "2026-09-02T10:45:00Z",
               "agent": agent})
    };
    let scout = vec![
        with(
            ev(
                "c1",
                "session.thread_status_running",
                "2026-09-02T10:05:00Z",
            ),
            tid("sthr_scout"),
        ),
        request("c2", "2026-09-02T10:06:00Z", 10_000, 1_000, 0, 0),
        with(
            ev("c3", "session.thread_status_idle", "2026-09-02T10:45:00Z"),
            tid("sthr_scout"),
        ),
    ];
    state.threads.insert(
        "sesn_team".into(),
        vec![
            (
                thread(
                    "sthr_lead",
                    None,
                    json!({"type": "agent", "id": "agent_1", "name": "lead", "version": 1,
                           "model": {"id": "claude-sonnet-4-6"}}),
                ),
                own,
            ),
            (
                thread(
                    "sthr_scout",
                    Some("sthr_lead"),
                    json!({"type": "agent", "id": "agent_2", "name": "scout", "version": 1,
                           "model": {"id": "claude-haiku-4-5"}}),
                ),
                scout,
            ),
            (
                thread(
                    "sthr_advisor",
                    Some("sthr_lead"),
                    json!({"type": "advisor", "model": "claude-opus-5"}),
                ),
                vec![request("a1", "2026-09-02T10:10:00Z", 10_000, 2_000, 0, 0)],
            ),
        ],
    );
    state
}

#[test]
fn a_multiagent_fetch_passes_the_strict_mock_and_skips_the_primary_thread() {
    // Pages of two everywhere: 4 session events, 3 threads, 3 scout events all paginate.
    // Lead (Sonnet 4.6): 20,000 x $3/M = 0.06 + 2,000 x $15/M = 0.03 -> 0.09.
    // Scout (Haiku 4.5): 10,000 x $1/M = 0.01 + 1,000 x $5/M = 0.005 -> 0.015.
    // Advisor (Opus 5): 10,000 x $5/M = 0.05 + 2,000 x $25/M = 0.05 -> 0.10.
    // Runtime: [10:00, 10:30) u [10:05, 10:45) = 45 min = 0.75 h x $0.08 = 0.06.
    // Total 0.09 + 0.015 + 0.10 + 0.06 = 0.265.
    let mock = Mock::start(team_state());
    let tmp = Tmp::new();
    let out = tmp.path("runs");
    let r = fetch(&mock.url, &out, &[], Some(KEY));
    let st = mock.state.lock().unwrap();
    assert!(
        st.rejected.is_empty(),
        "undocumented parameters: {:?}",
        st.rejected
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !st.hits
            .iter()
            .any(|(p, _)| p.contains("/threads/sthr_lead/")),
        "the primary thread's events are the session's: not fetched again"
    );
    assert!(
        st.hits
            .iter()
            .any(|(p, _)| p.contains("/threads/sthr_scout/events") && p.contains("page=p2")),
        "thread events paginated"
    );
    drop(st);
    let text = std::fs::read_to_string(out.join("sesn_team.ndjson")).unwrap();
    let threads: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "session_thread")
        .map(|v| v["id"].clone())
        .collect();
    assert_eq!(
        threads,
        ["sthr_scout", "sthr_advisor"],
        "no primary thread object"
    );
    let r = run([
        "meter".as_ref(),
        out.as_os_str(),
        "-f".as_ref(),
        "json".as_ref(),
        "--group-by".as_ref(),
        "agent".as_ref(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["dropped"]["duplicate_events"], 0);
    assert_eq!(v["totals"]["active_ms"], 45 * 60_000);
    assert_eq!(
        dec(v["totals"]["cost"]["total"].as_str().unwrap()),
        dec("0.265")
    );
    let advisor = v["groups"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "advisor")
        .unwrap_or_else(|| panic!("{}", v["groups"]));
    assert_eq!(dec(advisor["cost"]["total"].as_str().unwrap()), dec("0.10"));
}

#[test]
fn the_mock_rejects_undocumented_parameters() {
    // What fetch sent before: `order` on the thread list and thread events, which document
    // only limit and page. The mock must answer 400, or the strict test above proves nothing.
    let mock = Mock::start(team_state());
    let http = reqwest::blocking::Client::new();
    let get = |q: &str| {
        http.get(format!("{}{q}", mock.url))
            .header("x-api-key", KEY)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(
        get("/v1/sessions/sesn_team/threads?limit=100&order=asc"),
        400
    );
    assert_eq!(
        get("/v1/sessions/sesn_team/threads/sthr_scout/events?limit=1000&order=asc"),
        400
    );
    assert_eq!(
        get("/v1/sessions?limit=100&include_archived=true&beta=true"),
        200
    );
    assert_eq!(
        get("/v1/sessions/sesn_team/events?order=asc&types[]=span.model_request_end"),
        200
    );
}

#[test]
fn watch_loads_a_multiagent_history_through_the_strict_mock() {
    // The session is already idle in its history, so `--until-idle` stops after the list:
    // the same export and total as `fetch`, 0.265 (worked out above), no event twice.
    let mock = Mock::start(team_state());
    let tmp = Tmp::new();
    let out = tmp.path("team.ndjson");
    let o = bin()
        .args([
            "watch",
            "sesn_team",
            "--until-idle",
            "--base-url",
            &mock.url,
        ])
        .args(["--out", out.to_str().unwrap()])
        .env("ANTHROPIC_API_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let st = mock.state.lock().unwrap();
    assert!(
        st.rejected.is_empty(),
        "undocumented parameters: {:?}",
        st.rejected
    );
    assert!(!st
        .hits
        .iter()
        .any(|(p, _)| p.contains("/threads/sthr_lead/")));
    drop(st);
    let t = totals(tmp.0.path());
    assert_eq!(dec(t["cost"]["total"].as_str().unwrap()), dec("0.265"));
    assert_eq!(t["requests"], 3);
}
