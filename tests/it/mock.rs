//! A mock of the Managed Agents API on 127.0.0.1 (a random port), serving sessions, paginated
//! events and threads, and SSE streams, with scripted failures (429, 500, 401, dropped streams).
//! It is strict as the API is documented: a query parameter an endpoint does not document is a
//! 400, and archived sessions are listed only with `include_archived=true`.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

pub const KEY: &str = "sk-ant-test-NEVER-PRINT-ME-8c1f";

#[derive(Default)]
pub struct State {
    pub sessions: Vec<Value>,
    pub events: HashMap<String, Vec<Value>>,
    pub threads: HashMap<String, Vec<(Value, Vec<Value>)>>,
    /// Failures to serve first, per path prefix: (prefix, status, retry-after).
    pub faults: VecDeque<(String, u16, Option<String>)>,
    /// For successive connections to a session's stream: the SSE body sent before the
    /// connection drops, and the events that become listable then (those sent, and any emitted
    /// while the client is away).
    pub streams: HashMap<String, VecDeque<(String, Vec<Value>)>>,
    /// Every request: (path with query, whether the key header was right).
    pub hits: Vec<(String, bool)>,
    pub page_size: usize,
    /// Requests whose path starts with this wait this long first (a slow server).
    pub delay: Option<(String, std::time::Duration)>,
    /// Requests answered 400 for an undocumented query parameter: (path with query, parameter).
    pub rejected: Vec<(String, String)>,
    /// Responses served instead of the API's (hostile servers and proxies), first match wins.
    pub canned: Vec<Canned>,
    /// Requests whose path starts with .0 are sent a 307 to the same target with .0 replaced
    /// by .1, on this same origin.
    pub moved: Option<(String, String)>,
    /// Every request's header lines, as received.
    pub headers: Vec<String>,
}

/// A response served to requests whose path starts with `path` (and whose query has the pair
/// `query`, `k=v`, when given), before the key is even checked: a redirect, a proxy's echo
/// page, a looping cursor, a huge body.
#[derive(Clone, Default)]
pub struct Canned {
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// `{headers}` in it becomes the request's own header lines (an echoing page).
    pub body: String,
    /// Served every time (else once).
    pub repeat: bool,
    /// No Content-Length: the body ends when the connection closes.
    pub no_length: bool,
}

/// `created_at[...]`, a filter of the session list and the session events list.
const CREATED_AT: [&str; 4] = [
    "created_at[gt]",
    "created_at[gte]",
    "created_at[lt]",
    "created_at[lte]",
];

/// The query parameters each endpoint documents, from the SDK's params types
/// (anthropic-sdk-python, src/anthropic/types/beta/: session_list_params.py,
/// sessions/event_list_params.py, sessions/thread_list_params.py,
/// sessions/threads/event_list_params.py, sessions/event_stream_params.py) and the Admin API
/// pages (reference/managed-agents-api.md §5). `beta=true` is what the SDK appends to every
/// beta path. `None`: not an endpoint.
fn documented(parts: &[&str]) -> Option<Vec<&'static str>> {
    let mut p: Vec<&'static str> = match parts {
        ["v1", "sessions"] => [
            "agent_id",
            "agent_version",
            "deployment_id",
            "include_archived",
            "memory_store_id",
            "statuses[]",
            "order",
            "limit",
            "page",
        ]
        .into_iter()
        .chain(CREATED_AT)
        .collect(),
        ["v1", "sessions", _] => vec![],
        ["v1", "sessions", _, "events"] => ["limit", "page", "order", "types[]"]
            .into_iter()
            .chain(CREATED_AT)
            .collect(),
        ["v1", "sessions", _, "events", "stream"] => vec!["event_deltas[]"],
        ["v1", "sessions", _, "threads"] | ["v1", "sessions", _, "threads", _, "events"] => {
            vec!["limit", "page"]
        }
        ["v1", "organizations", "cost_report"] => {
            vec![
                "starting_at",
                "ending_at",
                "bucket_width",
                "group_by[]",
                "limit",
                "page",
            ]
        }
        ["v1", "organizations", "usage_report", "messages"] => vec![
            "starting_at",
            "ending_at",
            "bucket_width",
            "group_by[]",
            "limit",
            "page",
            "api_key_ids[]",
            "workspace_ids[]",
            "models[]",
            "account_ids[]",
            "service_tiers[]",
            "context_window[]",
            "inference_geos[]",
            "speeds[]",
        ],
        _ => return None,
    };
    p.push("beta");
    Some(p)
}

pub struct Mock {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl Mock {
    pub fn start(state: State) -> Mock {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            page_size: if state.page_size == 0 {
                2
            } else {
                state.page_size
            },
            ..state
        }));
        let s = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || handle(conn, &s));
            }
        });
        Mock { url, state }
    }

    /// Serve the sessions of export files (session object, events, then threads and theirs).
    pub fn from_exports(paths: &[std::path::PathBuf]) -> State {
        let mut st = State::default();
        for p in paths {
            let text = std::fs::read_to_string(p).unwrap();
            let mut sid = String::new();
            let mut thread: Option<usize> = None;
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let v: Value = serde_json::from_str(line).unwrap();
                match v["type"].as_str() {
                    Some("session") => {
                        sid = v["id"].as_str().unwrap().to_string();
                        let mut v = v.clone();
                        v["updated_at"] = json!("2026-11-01T00:00:00Z");
                        st.sessions.push(v);
                    }
                    Some("session_thread") => {
                        let list = st.threads.entry(sid.clone()).or_default();
                        list.push((v, Vec::new()));
                        thread = Some(list.len() - 1);
                    }
                    _ => match thread {
                        Some(t) => st.threads.get_mut(&sid).unwrap()[t].1.push(v),
                        None => st.events.entry(sid.clone()).or_default().push(v),
                    },
                }
            }
        }
        st
    }
}

fn respond(conn: &TcpStream, status: u16, headers: &[(&str, String)], body: &str) {
    respond_sized(conn, status, headers, body, true)
}

fn respond_sized(
    mut conn: &TcpStream,
    status: u16,
    headers: &[(&str, String)],
    body: &str,
    sized: bool,
) {
    let reason = match status {
        200 => "OK",
        302 => "Found",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Error",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nConnection: close\r\nrequest-id: req_mock_{status}\r\n"
    );
    if sized {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body.as_bytes());
    let _ = conn.flush();
}

fn page(items: &[Value], query: &HashMap<String, String>, size: usize) -> String {
    let start: usize = query
        .get("page")
        .and_then(|p| p.strip_prefix('p'))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let end = (start + size).min(items.len());
    let next = if end < items.len() {
        json!(format!("p{end}"))
    } else {
        Value::Null
    };
    json!({"data": &items[start.min(items.len())..end], "next_page": next}).to_string()
}

fn handle(conn: TcpStream, state: &Arc<Mutex<State>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut key_ok = false;
    let mut raw_headers = String::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
            break;
        }
        raw_headers.push_str(&h);
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("x-api-key") && v.trim() == KEY {
                key_ok = true;
            }
        }
    }
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let (path, qs) = target.split_once('?').unwrap_or((&target, ""));
    let pairs: Vec<(String, String)> = qs
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (urldecode(k), urldecode(v)))
        .collect();
    let query: HashMap<String, String> = pairs.iter().cloned().collect();
    let (delay, canned, moved) = {
        let mut st = state.lock().unwrap();
        st.hits.push((target.clone(), key_ok));
        st.headers.push(raw_headers.clone());
        let hit = st.canned.iter().position(|c| {
            path.starts_with(c.path.as_str())
                && c.query.as_ref().is_none_or(|q| {
                    pairs
                        .iter()
                        .any(|(k, v)| q.split_once('=') == Some((k.as_str(), v.as_str())))
                })
        });
        let canned = hit.map(|i| {
            if st.canned[i].repeat {
                st.canned[i].clone()
            } else {
                st.canned.remove(i)
            }
        });
        (st.delay.clone(), canned, st.moved.clone())
    };
    if let Some(c) = canned {
        let headers: Vec<(&str, String)> = c
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        let body = c.body.replace("{headers}", &raw_headers);
        return respond_sized(&conn, c.status, &headers, &body, !c.no_length);
    }
    if let Some((from, to)) = moved {
        if let Some(rest) = target.strip_prefix(from.as_str()) {
            return respond(&conn, 307, &[("location", format!("{to}{rest}"))], "");
        }
    }
    if let Some((prefix, d)) = delay {
        if path.starts_with(prefix.as_str()) {
            std::thread::sleep(d);
        }
    }
    let mut st = state.lock().unwrap();
    if !key_ok {
        return respond(
            &conn,
            401,
            &[],
            "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\"}}",
        );
    }
    if let Some(i) = st
        .faults
        .iter()
        .position(|(prefix, _, _)| path.starts_with(prefix.as_str()))
    {
        let (_, status, retry) = st.faults.remove(i).unwrap();
        let headers: Vec<(&str, String)> =
            retry.map(|r| vec![("retry-after", r)]).unwrap_or_default();
        return respond(&conn, status, &headers, "{\"type\":\"error\"}");
    }
    // Segments are decoded as a server would: an escaped id is the id.
    let decoded: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(urldecode)
        .collect();
    let parts: Vec<&str> = decoded.iter().map(String::as_str).collect();
    if let Some(allowed) = documented(&parts) {
        if let Some((k, _)) = pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            st.rejected.push((target.clone(), k.clone()));
            let body = json!({"type": "error", "error": {"type": "invalid_request_error",
                "message": format!("{k}: Extra inputs are not permitted")}});
            return respond(&conn, 400, &[], &body.to_string());
        }
    }
    let size = st.page_size;
    let body = match parts.as_slice() {
        ["v1", "organizations", "cost_report"] => Some(
            json!({"data": [{"starting_at": "2026-05-04T00:00:00Z", "ending_at": "2026-05-05T00:00:00Z", "results": [
                {"amount": "62.5", "currency": "USD", "cost_type": "tokens", "model": "claude-opus-4-6"}]}], "has_more": false, "next_page": null})
            .to_string(),
        ),
        ["v1", "organizations", "usage_report", "messages"] => Some(
            json!({"data": [{"starting_at": "2026-05-04T00:00:00Z", "ending_at": "2026-05-05T00:00:00Z", "results": [
                {"uncached_input_tokens": 50000, "output_tokens": 15000, "cache_read_input_tokens": 0,
                 "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                 "server_tool_use": {"web_search_requests": 0}, "model": "claude-opus-4-6"}]}], "has_more": false, "next_page": null})
            .to_string(),
        ),
        ["v1", "sessions"] => {
            // Archived sessions are hidden by default (session_list_params.py).
            let archived = query.get("include_archived").map(String::as_str) == Some("true");
            let listed: Vec<Value> = st
                .sessions
                .iter()
                .filter(|s| archived || s["archived_at"].is_null())
                .cloned()
                .collect();
            Some(page(&listed, &query, size))
        }
        ["v1", "sessions", id] => st
            .sessions
            .iter()
            .find(|s| s["id"] == *id)
            .map(|s| s.to_string()),
        ["v1", "sessions", id, "events"] => Some(page(
            st.events.get(*id).map(Vec::as_slice).unwrap_or(&[]),
            &query,
            size,
        )),
        ["v1", "sessions", id, "threads"] => {
            let t: Vec<Value> = st
                .threads
                .get(*id)
                .map(|l| l.iter().map(|(t, _)| t.clone()).collect())
                .unwrap_or_default();
            Some(page(&t, &query, size))
        }
        ["v1", "sessions", id, "threads", tid, "events"] => {
            let ev = st
                .threads
                .get(*id)
                .and_then(|l| l.iter().find(|(t, _)| t["id"] == *tid))
                .map(|(_, e)| e.clone())
                .unwrap_or_default();
            Some(page(&ev, &query, size))
        }
        ["v1", "sessions", id, "events", "stream"] => {
            let next = st.streams.get_mut(*id).and_then(VecDeque::pop_front);
            let body = next.map(|(b, publish)| {
                st.events.entry(id.to_string()).or_default().extend(publish);
                b
            });
            drop(st);
            match body {
                Some(b) => {
                    let mut c = &conn;
                    let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
                    let _ = c.write_all(b.as_bytes());
                    let _ = c.flush();
                    // Closing here is the dropped connection.
                }
                None => respond(&conn, 404, &[], "{}"),
            }
            return;
        }
        _ => None,
    };
    match body {
        Some(b) => respond(
            &conn,
            200,
            &[("content-type", "application/json".into())],
            &b,
        ),
        None => respond(
            &conn,
            404,
            &[],
            "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\"}}",
        ),
    }
}

fn urldecode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
