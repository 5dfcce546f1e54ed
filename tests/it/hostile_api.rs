//! `fetch` and `watch` against a hostile server or proxy (the mock, on 127.0.0.1): redirects to
//! another origin, pages that echo the request's headers, ids that are paths, content hidden
//! in what is not an object, Retry-After values that are not numbers, cursors that loop,
//! bodies too large to hold. Every run is bounded in time; none may panic (exit 101).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::common::*;
use crate::mock::{Canned, Mock, State, KEY};

/// Every run here is over in seconds; past this it hangs.
const BOUND_S: u64 = 30;

fn cmd(url: &str, args: &[&str], key: &str) -> Command {
    let mut c = bin();
    c.args(args).args(["--base-url", url]);
    c.env_remove("ANTHROPIC_API_KEY")
        .env("ANTHROPIC_API_KEY", key);
    c
}

fn fetch(url: &str, out: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["fetch", "--out", out.to_str().unwrap()];
    args.extend(extra);
    run_cmd_within(&mut cmd(url, &args, KEY), BOUND_S)
}

/// Sessions on Haiku 4.5, each with one request of `input` tokens ($1/M: 10,000 -> $0.01).
fn sessions(list: &[(&str, u64)]) -> State {
    let mut st = State::default();
    for (id, input) in list {
        st.sessions.push(session(id, "claude-haiku-4-5"));
        st.events.insert(
            id.to_string(),
            vec![request(
                &format!("{id}_e1"),
                "2026-09-02T10:00:00Z",
                *input,
                0,
                0,
                0,
            )],
        );
    }
    st
}

fn total(dir: &Path) -> rust_decimal::Decimal {
    let r = run([
        "meter".as_ref(),
        dir.as_os_str(),
        "-f".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    dec(v["totals"]["cost"]["total"].as_str().unwrap())
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

fn no_secret_in(dir: &Path, secret: &str) {
    for f in files(dir) {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        assert!(!text.contains(secret), "{secret} is in {}", f.display());
    }
}

fn no_panic(r: &Run) {
    assert_ne!(r.code, 101, "a panic: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
}

fn host_port(url: &str) -> &str {
    url.trim_start_matches("http://")
}

fn redirect(path: &str, to: String) -> Canned {
    Canned {
        path: path.into(),
        status: 302,
        headers: vec![("location".into(), to)],
        repeat: true,
        ..Default::default()
    }
}

#[test]
fn a_redirect_to_another_origin_is_refused_and_the_key_never_reaches_it() {
    let tmp = Tmp::new();
    // The second server would answer anything; it must never be asked, let alone with the key.
    let other = Mock::start(sessions(&[("sesn_a", 10_000)]));
    let mut st = sessions(&[("sesn_a", 10_000)]);
    st.canned.push(redirect(
        "/v1/sessions/sesn_a/events",
        format!("{}/v1/sessions/sesn_a/events", other.url),
    ));
    let mock = Mock::start(st);
    let r = fetch(&mock.url, &tmp.path("runs"), &[]);
    no_panic(&r);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("302")
            && r.stderr.contains(host_port(&other.url))
            && r.stderr.contains("not followed"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(KEY));
    assert!(!tmp.path("runs/sesn_a.ndjson").exists());
    // Another host name on the same port is another origin too.
    let port = mock.url.rsplit(':').next().unwrap().to_string();
    let mut st = sessions(&[("sesn_a", 10_000)]);
    st.canned.push(redirect(
        "/v1/sessions",
        format!("http://localhost:{port}/v1/sessions"),
    ));
    let same_port = Mock::start(st);
    let r = fetch(&same_port.url, &tmp.path("runs2"), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("localhost:{port}")),
        "{}",
        r.stderr
    );
    assert_eq!(
        same_port.state.lock().unwrap().hits.len(),
        1,
        "not followed"
    );
    // `watch`: a redirected stream fails at once (it does not reconnect 20 times).
    let mut st = sessions(&[("sesn_a", 10_000)]);
    st.canned.push(redirect(
        "/v1/sessions/sesn_a/events/stream",
        format!("{}/v1/sessions/sesn_a/events/stream", other.url),
    ));
    let watched = Mock::start(st);
    let r = run_cmd_within(&mut cmd(&watched.url, &["watch", "sesn_a"], KEY), BOUND_S);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("302") && r.stderr.contains(host_port(&other.url)));
    let streams = watched
        .state
        .lock()
        .unwrap()
        .hits
        .iter()
        .filter(|(p, _)| p.contains("/stream"))
        .count();
    assert_eq!(streams, 1, "no reconnects after a refused redirect");
    let seen = other.state.lock().unwrap();
    assert!(
        seen.hits.is_empty(),
        "the other origin was asked: {:?}",
        seen.hits
    );
    assert!(seen
        .headers
        .iter()
        .all(|h| !h.to_ascii_lowercase().contains("x-api-key")));
}

#[test]
fn a_redirect_within_the_origin_is_followed_with_the_key() {
    // A proxy prefix that moved: /old/v1/... answers 307 to /v1/... on the same origin.
    let mut st = sessions(&[("sesn_a", 10_000)]);
    st.moved = Some(("/old".into(), String::new()));
    let mock = Mock::start(st);
    let tmp = Tmp::new();
    let out = tmp.path("runs");
    let r = fetch(&format!("{}/old", mock.url), &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // 10,000 x $1/M = $0.01.
    assert_eq!(total(&out), dec("0.01"));
    let st = mock.state.lock().unwrap();
    assert!(st.hits.iter().any(|(p, _)| p.starts_with("/old/")));
    assert!(
        st.hits.iter().all(|(_, key)| *key),
        "every request had the key"
    );
}

#[test]
fn an_echoing_error_page_never_shows_the_key() {
    let echo = |status: u16, body: &str, headers: Vec<(String, String)>| Canned {
        path: "/v1/sessions".into(),
        status,
        headers,
        body: body.into(),
        repeat: true,
        ..Default::default()
    };
    let html = "<html><body><h1>Bad gateway</h1><pre>{headers}</pre></body></html>";
    let json_echo = format!(
        r#"{{"type":"error","error":{{"type":"permission_error","message":"x-api-key {KEY} may not list sessions"}}}}"#
    );
    let cases = [
        // Not JSON: an excerpt, redacted.
        (echo(400, html, vec![]), "400"),
        (echo(400, "{headers}", vec![]), "400"),
        // The API's JSON: its type and message, redacted.
        (echo(403, &json_echo, vec![]), "permission_error"),
        // Retried until it gives up (Retry-After 0: no wait), then shown.
        (
            echo(503, html, vec![("retry-after".into(), "0".into())]),
            "gave up after 5 attempts",
        ),
    ];
    for (canned, expect) in cases {
        // Keys with and without the sk-ant- shape: the key itself is taken out either way.
        for key in [KEY, "proxy-key-0f3c9a7d1e55"] {
            let mut st = State::default();
            st.canned.push(canned.clone());
            let mock = Mock::start(st);
            let tmp = Tmp::new();
            let out = tmp.path("runs");
            let r = run_cmd_within(
                &mut cmd(&mock.url, &["fetch", "--out", out.to_str().unwrap()], key),
                BOUND_S,
            );
            assert_eq!(r.code, 2, "{}", r.stderr);
            assert!(r.stderr.contains(expect), "{}", r.stderr);
            assert!(
                !r.stderr.contains(key) && !r.stdout.contains(key),
                "the key leaked: {}",
                r.stderr
            );
            assert!(
                !r.stderr.contains("0f3c9a") && !r.stderr.contains("NEVER-PRINT"),
                "{}",
                r.stderr
            );
            // An excerpt, not the page: no line of the error is long.
            assert!(
                r.stderr.lines().all(|l| l.chars().count() < 300),
                "{}",
                r.stderr
            );
        }
    }
}

#[test]
fn the_key_echoed_into_a_session_is_not_stored() {
    // A hostile API puts the key in the title and in a metadata value.
    let mut st = sessions(&[("sesn_a", 10_000)]);
    st.sessions[0]["title"] = json!(format!("task for {KEY}"));
    st.sessions[0]["metadata"] = json!({"k": KEY});
    let mock = Mock::start(st);
    let tmp = Tmp::new();
    let out = tmp.path("runs");
    let r = fetch(&mock.url, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    no_secret_in(&out, KEY);
    assert_eq!(total(&out), dec("0.01"));
}

#[test]
fn a_hostile_session_id_is_refused_before_any_request() {
    let mock = Mock::start(sessions(&[("sesn_a", 10_000)]));
    let tmp = Tmp::new();
    for bad in [
        "../../v1/x?beta=false#",
        "sesn_a/../../x",
        "sesn_a?beta=false",
        "sesn_a#",
        "sesn_a%2F..",
        "sesn_a\nb",
        "sesn_",
        "sthr_a",
        "",
    ] {
        let r = fetch(
            &mock.url,
            &tmp.path("runs"),
            &["--session", "sesn_a", "--session", bad],
        );
        no_panic(&r);
        assert_eq!(r.code, 2, "{bad:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("not a valid id") && r.stderr.contains("hint:"),
            "{}",
            r.stderr
        );
    }
    let r = run_cmd_within(&mut cmd(&mock.url, &["watch", "../sesn_a"], KEY), BOUND_S);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        mock.state.lock().unwrap().hits.is_empty(),
        "nothing was sent"
    );
    assert!(files(&tmp.path("runs")).is_empty());
}

#[test]
fn hostile_ids_from_the_api_are_refused() {
    let tmp = Tmp::new();
    // A listed session whose id is a path.
    let mock = Mock::start(sessions(&[("sesn_a", 10_000), ("sesn_../../escape", 1)]));
    let r = fetch(&mock.url, &tmp.path("runs"), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a valid id"), "{}", r.stderr);
    assert!(files(&tmp.path("runs")).is_empty() && !tmp.path("escape.ndjson").exists());
    // A thread whose id is a path.
    let mut st = sessions(&[("sesn_t", 10_000)]);
    st.threads.insert(
        "sesn_t".into(),
        vec![(
            json!({"type": "session_thread", "id": "sthr_x/../../../v1/sessions", "parent_thread_id": "sthr_p"}),
            vec![],
        )],
    );
    let mock = Mock::start(st);
    let r = fetch(&mock.url, &tmp.path("runs2"), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("the thread") && r.stderr.contains("not a valid id"));
}

#[test]
fn ids_that_differ_only_in_punctuation_get_their_own_files() {
    // 10,000 + 20,000 + 30,000 + 40,000 input tokens x $1/M = $0.10 in all.
    let ids = [
        ("sesn_a.b", 10_000),
        ("sesn_a_b", 20_000),
        ("sesn_a-b", 30_000),
        ("sesn_a~b", 40_000),
    ];
    let mock = Mock::start(sessions(&ids));
    let tmp = Tmp::new();
    let out = tmp.path("runs");
    let r = fetch(&mock.url, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("4 session(s) fetched"), "{}", r.stderr);
    let found = files(&out);
    assert_eq!(found.len(), 4, "{found:?}");
    for f in &found {
        let first: Value =
            serde_json::from_str(std::fs::read_to_string(f).unwrap().lines().next().unwrap())
                .unwrap();
        let id = first["id"].as_str().unwrap();
        assert!(ids.iter().any(|(i, _)| *i == id));
        assert!(!f.file_name().unwrap().to_string_lossy().starts_with('.'));
    }
    assert_eq!(total(&out), dec("0.10"));
    // Fetched again, nothing is overwritten by a namesake: all four are unchanged.
    let r = fetch(&mock.url, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("4 unchanged"), "{}", r.stderr);
}

#[test]
fn a_file_that_is_not_this_sessions_export_is_not_overwritten() {
    let mock = Mock::start(sessions(&[("sesn_a", 10_000)]));
    let tmp = Tmp::new();
    let mine = tmp.write("runs/sesn_a.ndjson", "my own notes\n");
    let r = fetch(&mock.url, &tmp.path("runs"), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not overwritten"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "my own notes\n");
    let out = tmp.write("notes.ndjson", "my own notes\n");
    let r = run_cmd_within(
        &mut cmd(
            &mock.url,
            &["watch", "sesn_a", "--out", out.to_str().unwrap()],
            KEY,
        ),
        BOUND_S,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "my own notes\n");
}

#[test]
fn two_fetches_into_one_directory_do_not_clobber_each_others_files() {
    // Both are writing the same session's export while its events are slow to come: each
    // needs a temporary file of its own.
    let mut st = sessions(&[("sesn_a", 10_000), ("sesn_b", 20_000)]);
    st.delay = Some((
        "/v1/sessions/sesn_".into(),
        std::time::Duration::from_millis(300),
    ));
    let mock = Mock::start(st);
    let tmp = Tmp::new();
    let out = tmp.path("runs");
    let spawn = || {
        let out = out.clone();
        let url = mock.url.clone();
        std::thread::spawn(move || fetch(&url, &out, &["--concurrency", "2"]))
    };
    let (a, b) = (spawn(), spawn());
    for r in [a.join().unwrap(), b.join().unwrap()] {
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    // Two whole exports and no temporary file: 10,000 + 20,000 x $1/M = $0.03.
    let names: Vec<String> = files(&out)
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["sesn_a.ndjson", "sesn_b.ndjson"]);
    assert_eq!(total(&out), dec("0.03"));
}

#[test]
fn bare_strings_lists_and_nested_content_never_reach_the_export() {
    // Running 10:00-10:30 (0.5 h x $0.08 = $0.04) and one request of 10,000 input tokens
    // ($0.01): $0.05. Three page items are not objects; content hides at every depth.
    let mut st = State::default();
    let mut s = session("sesn_c", "claude-haiku-4-5");
    s["agent"]["system"] = json!("SECRET system prompt");
    s["agent"]["model"]["notes"] = json!({"x": "SECRET"});
    s["metadata"] = json!({"project": "shop", "nested": {"x": "SECRET"}, "list": ["SECRET"]});
    s["resources"] = json!(["SECRET"]);
    st.sessions.push(s);
    let mut req = request("e2", "2026-09-02T10:05:00Z", 10_000, 0, 0, 0);
    req["model_usage"]["note"] = json!("SECRET");
    req["model_usage"]["cache_creation"] = json!({"ephemeral_5m_input_tokens": 0, "x": ["SECRET"]});
    req["name"] = json!({"text": "SECRET"});
    st.events.insert(
        "sesn_c".into(),
        vec![
            ev("e1", "session.status_running", "2026-09-02T10:00:00Z"),
            json!("SECRET bare string"),
            json!(["SECRET", {"text": "SECRET"}]),
            req,
            json!(42),
            with(
                ev("e3", "agent.message", "2026-09-02T10:06:00Z"),
                json!({"content": [{"type": "text", "text": "SECRET"}]}),
            ),
            with(
                ev("e4", "session.status_idle", "2026-09-02T10:30:00Z"),
                json!({"stop_reason": {"type": "end_turn", "message": "SECRET"}}),
            ),
        ],
    );
    let mock = Mock::start(st);
    let tmp = Tmp::new();
    let out = tmp.path("runs");
    let r = fetch(&mock.url, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("3 item(s) of the API's pages were not JSON objects"),
        "{}",
        r.stderr
    );
    no_secret_in(&out, "SECRET");
    let text = std::fs::read_to_string(out.join("sesn_c.ndjson")).unwrap();
    assert!(text.contains(r#""project":"shop""#), "{text}");
    assert_eq!(total(&out), dec("0.05"));
}

/// `watch ID --until-idle --out FILE` against a session on Haiku 4.5 ($1/M input, $0.08 an
/// hour) that has run since 10:00, whose one stream connection sends `body` and makes
/// `publish` listable.
fn watch_one_stream(id: &str, body: String, publish: Vec<Value>) -> (Run, Tmp) {
    let mut st = State::default();
    st.sessions.push(session(id, "claude-haiku-4-5"));
    st.events.insert(
        id.into(),
        vec![ev("e1", "session.status_running", "2026-09-02T10:00:00Z")],
    );
    st.streams.insert(id.into(), vec![(body, publish)].into());
    let mock = Mock::start(st);
    let tmp = Tmp::new();
    let out = tmp.path("w.ndjson");
    let args = ["watch", id, "--until-idle", "--out", out.to_str().unwrap()];
    let r = run_cmd_within(&mut cmd(&mock.url, &args, KEY), BOUND_S);
    (r, tmp)
}

#[test]
fn watch_keeps_bare_stream_items_out_of_its_export() {
    // History: running at 10:00. The stream: a bare list, a bare string, then idle at 10:30
    // with content in its stop reason. 0.5 h x $0.08 = $0.04 (no tokens).
    let idle = with(
        ev("e2", "session.status_idle", "2026-09-02T10:30:00Z"),
        json!({"stop_reason": {"type": "end_turn", "message": "SECRET"}}),
    );
    // Also an event without an id (it cannot be de-duplicated: left out, and counted) and a
    // ping (stream furniture: not counted).
    let body = format!(
        "event: x\ndata: [\"SECRET\"]\n\ndata: \"SECRET\"\n\ndata: {{\"type\": \"agent.message\", \"content\": \"SECRET\"}}\n\nevent: ping\ndata: {{}}\n\nevent: session.status_idle\ndata: {idle}\n\n"
    );
    let (r, tmp) = watch_one_stream("sesn_w", body, vec![idle]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("3 item(s)"), "{}", r.stderr);
    no_secret_in(tmp.0.path(), "SECRET");
    assert_eq!(total(tmp.0.path()), dec("0.04"));
}

#[test]
fn watch_says_which_frames_of_the_stream_it_cannot_read_and_loses_no_event() {
    // History: running at 10:00. The stream: a ping (lines 1-3), a request whose JSON is
    // broken (lines 4-6), a named event without data (7-8), then idle at 10:30 (9-11). The
    // list holds the request whole (20,000 input tokens), so after the bad frames watch reads
    // it from there: 0.5 h x $0.08 = $0.04 + 20,000 x $1/M = $0.02: $0.06 (without the
    // request: $0.04).
    let req = request("e2", "2026-09-02T10:05:00Z", 20_000, 0, 0, 0);
    let idle = with(
        ev("e3", "session.status_idle", "2026-09-02T10:30:00Z"),
        json!({"stop_reason": {"type": "end_turn"}}),
    );
    let body = format!(
        "event: ping\ndata: {{}}\n\n\
         event: span.model_request_end\ndata: {{\"id\": \"e2\", \"type\": span}}\n\n\
         event: agent.message\n\n\
         event: session.status_idle\ndata: {idle}\n\n"
    );
    let (r, tmp) = watch_one_stream("sesn_b", body, vec![req, idle]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let stream = "warning: GET /v1/sessions/sesn_b/events/stream";
    // `{"id": "e2", "type": span}`: `s` is its 22nd character (`{` 1, `"id"` 2-5, `: ` 6-7,
    // `"e2"` 8-11, `, ` 12-13, `"type"` 14-19, `: ` 20-21).
    assert!(
        r.stderr.contains(&format!(
            "{stream}: line 4 of connection 1: malformed JSON at column 22: expected value"
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "{stream}: line 7 of connection 1: SSE frame `event: agent.message` has no `data:` line"
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("note: 2 frame(s) of the stream could not be read"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("sesn_b: done"), "{}", r.stdout);
    assert_eq!(total(tmp.0.path()), dec("0.06"));
}

#[test]
fn no_retry_after_value_panics() {
    // One 429 with each value, then the API answers: every run ends (0), none panics. Values
    // that are not a delay in 0..=3600 s are ignored (the backoff is used).
    let values = [
        "inf",
        "NaN",
        "-1",
        "1e300",
        "18446744073709551616",
        "99999999999999999999999999999",
        "1.5",
        "0x10",
        "",
        "  ",
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Mon, 99 Foo 2026 99:99:99 GMT",
        "\u{661}\u{662}",
        "0",
    ];
    std::thread::scope(|scope| {
        let runs: Vec<_> = values
            .iter()
            .map(|v| {
                scope.spawn(move || {
                    let mut st = sessions(&[("sesn_a", 10_000)]);
                    st.faults
                        .push_back(("/v1/sessions".into(), 429, Some(v.to_string())));
                    let mock = Mock::start(st);
                    let tmp = Tmp::new();
                    (v, fetch(&mock.url, &tmp.path("runs"), &[]))
                })
            })
            .collect();
        for h in runs {
            let (v, r) = h.join().unwrap();
            no_panic(&r);
            assert_eq!(r.code, 0, "Retry-After {v:?}: {}", r.stderr);
        }
    });
}

#[test]
fn a_repeating_cursor_is_an_error_not_a_hang() {
    let page = |query: Option<&str>, next: &str| Canned {
        path: "/v1/sessions/sesn_loop/events".into(),
        query: query.map(str::to_string),
        status: 200,
        body: json!({"data": [], "next_page": next}).to_string(),
        repeat: true,
        ..Default::default()
    };
    // A, B, A, ... and A, A, ...
    for script in [
        vec![
            page(Some("page=A"), "B"),
            page(Some("page=B"), "A"),
            page(None, "A"),
        ],
        vec![page(None, "A")],
    ] {
        let mut st = sessions(&[("sesn_loop", 10_000)]);
        st.canned = script;
        let mock = Mock::start(st);
        let tmp = Tmp::new();
        let r = fetch(&mock.url, &tmp.path("runs"), &[]);
        no_panic(&r);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr.contains("/v1/sessions/sesn_loop/events") && r.stderr.contains("again"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn pages_past_the_bound_are_an_error() {
    // Three sessions one to a page: three pages of the session list.
    let mut st = sessions(&[("sesn_a", 1), ("sesn_b", 1), ("sesn_c", 1)]);
    st.page_size = 1;
    let mock = Mock::start(st);
    let tmp = Tmp::new();
    let r = fetch(&mock.url, &tmp.path("runs"), &["--max-pages", "2"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("GET /v1/sessions: more than 2 pages")
            && r.stderr.contains("--max-pages"),
        "{}",
        r.stderr
    );
    let r = fetch(&mock.url, &tmp.path("runs"), &["--max-pages", "3"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn an_oversized_body_is_an_error() {
    // A session list of 1.5 MB against a bound of 1 MB: with and without Content-Length.
    let body = json!({"data": [], "next_page": null, "pad": "x".repeat(3 << 19)}).to_string();
    for no_length in [false, true] {
        let mut st = State::default();
        st.canned.push(Canned {
            path: "/v1/sessions".into(),
            status: 200,
            body: body.clone(),
            repeat: true,
            no_length,
            ..Default::default()
        });
        let mock = Mock::start(st);
        let tmp = Tmp::new();
        let r = fetch(&mock.url, &tmp.path("runs"), &["--max-body-mb", "1"]);
        no_panic(&r);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr
                .contains("GET /v1/sessions: the response is larger than 1 MB")
                && r.stderr.contains("--max-body-mb"),
            "{}",
            r.stderr
        );
        // Under the default bound (64 MB) the same page is read.
        let r = fetch(&mock.url, &tmp.path("runs"), &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stderr.contains("0 session(s) fetched"), "{}", r.stderr);
    }
}

#[test]
fn a_base_url_that_is_not_an_origin_is_refused() {
    let tmp = Tmp::new();
    for bad in [
        "not a url",
        "ftp://127.0.0.1:1",
        "http://user:pass@127.0.0.1:1",
        "http://127.0.0.1:1/?x=1",
        "file:///etc",
    ] {
        let r = fetch(bad, &tmp.path("runs"), &[]);
        no_panic(&r);
        assert_eq!(r.code, 2, "{bad}: {}", r.stderr);
        assert!(
            r.stderr.contains("--base-url") && r.stderr.contains("hint:"),
            "{}",
            r.stderr
        );
        assert!(
            !r.stderr.contains("pass"),
            "credentials are not echoed: {}",
            r.stderr
        );
    }
}
