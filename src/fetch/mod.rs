//! Live ingestion from the Managed Agents API: list sessions, page through their events and
//! threads, and write one export per session in the design.md format, atomically and
//! incrementally. Retries 429, 5xx and connection errors; fails at once on 401/403/404.

pub mod sanitize;
pub mod watch;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rayon::prelude::*;
use serde_json::Value;

use crate::error::{Error, Result};

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const ANTHROPIC_VERSION: &str = "2023-06-01";
pub const BETA: &str = "managed-agents-2026-04-01";

/// An API client. The key is only ever sent in the `x-api-key` header: it is not in any URL,
/// message or file.
pub struct Client {
    base: String,
    key: String,
    http: reqwest::blocking::Client,
    pub max_retries: u32,
    /// The first backoff; it doubles each retry (with jitter), up to 30 s.
    pub backoff: Duration,
}

impl Client {
    /// A client with the key from `var` (ANTHROPIC_API_KEY or ANTHROPIC_ADMIN_KEY).
    pub fn from_env(var: &str, base_url: Option<&str>) -> Result<Self> {
        let key = std::env::var(var)
            .ok()
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| {
                Error::new(format!("{var} is not set")).with_hint(format!(
                    "export {var}=... (keys are read from the environment only)"
                ))
            })?;
        let http = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("agentmeter/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::new(format!("cannot start an HTTP client: {e}")))?;
        Ok(Client {
            base: base_url
                .unwrap_or(DEFAULT_BASE_URL)
                .trim_end_matches('/')
                .to_string(),
            key,
            http,
            max_retries: 6,
            backoff: Duration::from_millis(500),
        })
    }

    fn request(&self, path: &str, query: &[(&str, String)]) -> reqwest::blocking::RequestBuilder {
        let mut q: Vec<(&str, String)> = vec![("beta", "true".into())];
        q.extend(query.iter().cloned());
        self.http
            .get(format!("{}{path}", self.base))
            .query(&q)
            .header("x-api-key", &self.key)
            .header("anthropic-version", ANTHROPIC_VERSION)
            .header("anthropic-beta", BETA)
    }

    /// The wait before retry `attempt` (0-based): `retry-after` when the server sent one.
    fn wait(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(r) = retry_after {
            return r.min(Duration::from_secs(120));
        }
        let base = self
            .backoff
            .saturating_mul(1 << attempt.min(10))
            .min(Duration::from_secs(30));
        // Jitter from the clock's nanoseconds: spreads retries of parallel workers.
        let jitter = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos()) as u64
            % 1000;
        base + base.mul_f64(jitter as f64 / 4000.0)
    }

    /// GET a JSON document, retrying what can be retried.
    pub fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        let mut attempt = 0;
        loop {
            let outcome = self.request(path, query).send();
            let (retry_after, why) = match outcome {
                Ok(resp) => {
                    let status = resp.status();
                    if status.is_success() {
                        return resp.json::<Value>().map_err(|e| {
                            Error::new(format!(
                                "GET {path}: the response is not JSON: {}",
                                e.without_url()
                            ))
                        });
                    }
                    let request_id = resp
                        .headers()
                        .get("request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("none")
                        .to_string();
                    let retry_after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<f64>().ok())
                        .map(Duration::from_secs_f64);
                    match status.as_u16() {
                        401 | 403 => {
                            return Err(Error::new(format!("GET {path}: {status} (request-id {request_id})"))
                                .with_hint("check ANTHROPIC_API_KEY: is it set, current, and allowed to use Managed Agents?"))
                        }
                        404 => return Err(Error::new(format!("GET {path}: {status} (request-id {request_id})")).with_hint("check the session id and --base-url")),
                        429 | 500..=599 => (retry_after, format!("{status} (request-id {request_id})")),
                        _ => {
                            let body = resp.text().unwrap_or_default();
                            let detail: String = body.chars().take(300).collect();
                            return Err(Error::new(format!("GET {path}: {status} (request-id {request_id}): {detail}")));
                        }
                    }
                }
                Err(e) => (None, e.without_url().to_string()),
            };
            if attempt >= self.max_retries {
                return Err(Error::new(format!(
                    "GET {path}: gave up after {} attempts: {why}",
                    attempt + 1
                )));
            }
            std::thread::sleep(self.wait(attempt, retry_after));
            attempt += 1;
        }
    }

    /// Every item of a paginated list (`{data, next_page}`), in order.
    pub fn list(&self, path: &str, query: &[(&str, String)]) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut page: Option<String> = None;
        loop {
            let mut q = query.to_vec();
            if let Some(p) = &page {
                q.push(("page", p.clone()));
            }
            let doc = self.get(path, &q)?;
            match doc.get("data").and_then(Value::as_array) {
                Some(items) => out.extend(items.iter().cloned()),
                None => {
                    return Err(Error::new(format!(
                        "GET {path}: the response has no `data` list"
                    )))
                }
            }
            page = doc
                .get("next_page")
                .and_then(Value::as_str)
                .map(str::to_string);
            if page.is_none() {
                return Ok(out);
            }
        }
    }

    /// Open an SSE stream (no overall timeout: it stays open).
    pub fn stream(&self, path: &str) -> Result<reqwest::blocking::Response> {
        let resp = self
            .request(path, &[])
            .header("accept", "text/event-stream")
            .timeout(Duration::from_secs(60 * 60 * 24))
            .send()
            .map_err(|e| Error::new(format!("GET {path}: {}", e.without_url())))?;
        if !resp.status().is_success() {
            return Err(Error::new(format!("GET {path}: {}", resp.status())));
        }
        Ok(resp)
    }
}

#[derive(Clone, Debug, Default)]
pub struct FetchOptions {
    pub sessions: Vec<String>,
    pub created_since: Option<String>,
    pub created_until: Option<String>,
    pub agent: Option<String>,
    pub statuses: Vec<String>,
    /// Leave archived sessions out of the listing (`--no-archived`). By default they are
    /// listed (`include_archived=true`): archiving is the API's routine cleanup, and archived
    /// sessions were billed.
    pub skip_archived: bool,
    pub out: PathBuf,
    pub concurrency: usize,
    pub progress: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchSummary {
    pub fetched: u64,
    pub unchanged: u64,
    pub events: u64,
}

/// The `updated_at` of the session object at the top of an existing export, if any.
fn existing_updated_at(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let first: Value = serde_json::from_str(text.lines().next()?).ok()?;
    first.get("updated_at")?.as_str().map(str::to_string)
}

/// Write `lines` to `path` through a temporary file and a rename: never half a file.
pub(crate) fn write_atomically(path: &Path, lines: &[Value]) -> Result<()> {
    let tmp = path.with_file_name(format!(
        ".{}.part",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let mut f =
        std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?);
    for l in lines {
        serde_json::to_writer(&mut f, l)
            .map_err(|e| Error::new(format!("{}: {e}", tmp.display())))?;
        f.write_all(b"\n").map_err(|e| Error::io(&tmp, e))?;
    }
    f.flush().map_err(|e| Error::io(&tmp, e))?;
    f.into_inner()
        .map_err(|e| Error::io(&tmp, e.into_error()))?
        .sync_all()
        .map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

// Each list endpoint is sent only the query parameters its SDK params type documents
// (anthropic-sdk-python types/beta/): the session events list takes limit, page, order,
// types[] and created_at[...]; the thread list and thread events take limit and page only.
pub(crate) fn session_events_query() -> [(&'static str, String); 2] {
    [("limit", "1000".to_string()), ("order", "asc".to_string())]
}

pub(crate) fn thread_events_query() -> [(&'static str, String); 1] {
    [("limit", "1000".to_string())]
}

/// A session's threads, without its primary thread.
///
/// The thread list includes the primary thread (`parent_thread_id: null`), whose events are
/// the session's own events (the session-level stream): fetching them again would write every
/// event twice, and its agent snapshot would shadow later `session.updated` changes. When no
/// thread or several have no parent (an older or hand-written listing), none is taken for the
/// primary and all are kept.
pub(crate) fn child_threads(client: &Client, id: &str) -> Result<Vec<(String, Value)>> {
    let mut threads = Vec::new();
    for t in client.list(
        &format!("/v1/sessions/{id}/threads"),
        &[("limit", "100".to_string())],
    )? {
        let tid = t
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::new(format!("session {id}: a thread has no id")))?
            .to_string();
        threads.push((tid, t));
    }
    let is_root = |t: &Value| t.get("parent_thread_id").is_none_or(Value::is_null);
    if threads.iter().filter(|(_, t)| is_root(t)).count() == 1 {
        threads.retain(|(_, t)| !is_root(t));
    }
    Ok(threads)
}

/// A session's export: the session object, its events, then each child thread and its events.
pub fn session_export(client: &Client, listed: &Value) -> Result<Vec<Value>> {
    let id = listed
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::new("a listed session has no id"))?;
    // The session object itself: its usage and stats are the freshest the API has.
    let session = client.get(&format!("/v1/sessions/{id}"), &[])?;
    let mut lines = vec![sanitize::object(&session)];
    for e in client.list(
        &format!("/v1/sessions/{id}/events"),
        &session_events_query(),
    )? {
        lines.push(sanitize::event(&e));
    }
    for (tid, t) in child_threads(client, id)? {
        lines.push(sanitize::object(&t));
        let path = format!("/v1/sessions/{id}/threads/{tid}/events");
        for e in client.list(&path, &thread_events_query())? {
            lines.push(sanitize::event(&e));
        }
    }
    Ok(lines)
}

fn safe_file_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub fn fetch(client: &Client, opts: &FetchOptions) -> Result<FetchSummary> {
    std::fs::create_dir_all(&opts.out).map_err(|e| Error::io(&opts.out, e))?;
    let sessions: Vec<Value> = if opts.sessions.is_empty() {
        let mut q = vec![("limit", "100".to_string()), ("order", "asc".to_string())];
        if let Some(s) = &opts.created_since {
            q.push(("created_at[gte]", s.clone()));
        }
        if let Some(u) = &opts.created_until {
            q.push(("created_at[lt]", u.clone()));
        }
        if let Some(a) = &opts.agent {
            q.push(("agent_id", a.clone()));
        }
        for s in &opts.statuses {
            q.push(("statuses[]", s.clone()));
        }
        // The API hides archived sessions unless asked (`include_archived` defaults to false).
        if !opts.skip_archived {
            q.push(("include_archived", "true".to_string()));
        }
        client.list("/v1/sessions", &q)?
    } else {
        opts.sessions
            .iter()
            .map(|id| client.get(&format!("/v1/sessions/{id}"), &[]))
            .collect::<Result<_>>()?
    };
    let done = AtomicU64::new(0);
    let events = AtomicU64::new(0);
    let unchanged = AtomicU64::new(0);
    let total = sessions.len() as u64;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.concurrency.max(1))
        .build()
        .map_err(|e| Error::new(e.to_string()))?;
    let line = |_| {
        let bar = crate::progress::bar(done.load(Ordering::Relaxed), total, "sessions");
        format!("{bar}, {} events", events.load(Ordering::Relaxed))
    };
    let fetch_all = || {
        sessions
            .par_iter()
            .map(|s| {
                let id = s.get("id").and_then(Value::as_str).unwrap_or("unknown");
                let path = opts.out.join(format!("{}.ndjson", safe_file_name(id)));
                let updated = s.get("updated_at").and_then(Value::as_str);
                let r = if updated.is_some() && existing_updated_at(&path).as_deref() == updated {
                    unchanged.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                } else {
                    session_export(client, s).and_then(|lines| {
                        events.fetch_add(lines.len() as u64 - 1, Ordering::Relaxed);
                        write_atomically(&path, &lines)
                    })
                };
                done.fetch_add(1, Ordering::Relaxed);
                r
            })
            .collect::<Vec<Result<()>>>()
    };
    let results = crate::progress::during(opts.progress, line, || pool.install(fetch_all));
    results.into_iter().collect::<Result<Vec<()>>>()?;
    let unchanged = unchanged.load(Ordering::Relaxed);
    Ok(FetchSummary {
        fetched: total - unchanged,
        unchanged,
        events: events.load(Ordering::Relaxed),
    })
}

/// Admin API report pages, written as JSON files: `cost_report` (grouped by description) and
/// `usage_report/messages` (grouped by model), daily buckets from `starting_at`.
pub fn fetch_admin_reports(
    client: &Client,
    starting_at: &str,
    ending_at: Option<&str>,
    out: &Path,
) -> Result<Vec<PathBuf>> {
    let mut written = fetch_report(
        client,
        (
            "/v1/organizations/cost_report",
            "cost_report",
            "description",
        ),
        starting_at,
        ending_at,
        out,
    )?;
    let usage = (
        "/v1/organizations/usage_report/messages",
        "usage_report",
        "model",
    );
    written.extend(fetch_report(client, usage, starting_at, ending_at, out)?);
    Ok(written)
}

/// `(endpoint, file stem, group_by)` pages into `out`.
fn fetch_report(
    client: &Client,
    report: (&str, &str, &str),
    starting_at: &str,
    ending_at: Option<&str>,
    out: &Path,
) -> Result<Vec<PathBuf>> {
    let (endpoint, stem, group_by) = report;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut written = Vec::new();
    let mut page: Option<String> = None;
    for n in 1.. {
        let mut q = vec![
            ("starting_at", starting_at.to_string()),
            ("bucket_width", "1d".to_string()),
            ("limit", "31".to_string()),
            ("group_by[]", group_by.to_string()),
        ];
        if let Some(e) = ending_at {
            q.push(("ending_at", e.to_string()));
        }
        if let Some(p) = &page {
            q.push(("page", p.clone()));
        }
        let doc = client.get(endpoint, &q)?;
        let path = out.join(format!("{stem}-{n:03}.json"));
        write_atomically(&path, std::slice::from_ref(&doc))?;
        written.push(path);
        page = doc
            .get("next_page")
            .and_then(Value::as_str)
            .map(str::to_string);
        if !doc
            .get("has_more")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            || page.is_none()
        {
            break;
        }
    }
    Ok(written)
}
