//! Live ingestion from the Managed Agents API: list sessions, page through their events and
//! threads, and write one export per session in the design.md format, atomically and
//! incrementally. Retries 429, 5xx and connection errors; fails at once on 401/403/404.

mod client;
pub mod notify;
mod redact;
pub mod sanitize;
pub mod watch;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde_json::Value;

use client::Pager;
pub use client::{
    Client, ANTHROPIC_VERSION, BETA, DEFAULT_BASE_URL, DEFAULT_MAX_BODY_MB, DEFAULT_MAX_PAGES,
};
use redact::shown;

use crate::error::{Error, Result};

/// The longest id taken (real ones are about 30 characters); it keeps file names short.
const MAX_ID: usize = 64;

/// `id` if it is an id of this kind: `prefix` then letters, digits and `_ - . ~` (URL-safe
/// as they are), at most 64 characters. `what` names where it came from, for the error.
pub fn check_id<'a>(id: &'a str, prefix: &str, what: &str) -> Result<&'a str> {
    let ok = id.len() <= MAX_ID
        && id.len() > prefix.len()
        && id.starts_with(prefix)
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.~".contains(&b));
    if ok {
        Ok(id)
    } else {
        Err(Error::new(format!("{what} {:?} is not a valid id", shown(id))).with_hint(format!(
            "an id is {prefix} then letters, digits, _ - . or ~ (at most {MAX_ID} characters), as the API lists it"
        )))
    }
}

/// A path segment or file name for `s`: letters, digits, `_` and `-` as they are, every other
/// byte as `%XX`. One-to-one (`%` itself is escaped), so two ids never share a file, and
/// nothing in it can leave a directory or a URL path segment.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An API path from its segments, each escaped.
pub(crate) fn endpoint(segments: &[&str]) -> String {
    segments.iter().map(|s| format!("/{}", escape(s))).collect()
}

/// An export file being written: a temporary file of its own next to `path` (unique per
/// writer: two fetches into one directory never share one), renamed over `path` when
/// complete, removed if dropped before.
pub(crate) struct AtomicFile {
    path: PathBuf,
    tmp: std::io::BufWriter<tempfile::NamedTempFile>,
    /// Lines written so far.
    pub lines: u64,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<Self> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let name: String = path
            .file_name()
            .map(|n| n.to_string_lossy().chars().take(64).collect())
            .unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}.{}-", std::process::id()))
            .suffix(".part")
            .tempfile_in(dir)
            .map_err(|e| Error::io(dir, e))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp: std::io::BufWriter::new(tmp),
            lines: 0,
        })
    }

    pub fn line(&mut self, v: &Value) -> Result<()> {
        let path = &self.path;
        serde_json::to_writer(&mut self.tmp, v)
            .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
        self.tmp.write_all(b"\n").map_err(|e| Error::io(path, e))?;
        self.lines += 1;
        Ok(())
    }

    pub fn commit(self) -> Result<()> {
        let path = self.path;
        let tmp = self
            .tmp
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        tmp.as_file().sync_all().map_err(|e| Error::io(&path, e))?;
        tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
        Ok(())
    }
}

/// Write `lines` to `path` through a temporary file and a rename: never half a file.
pub(crate) fn write_atomically(path: &Path, lines: &[Value]) -> Result<()> {
    let mut f = AtomicFile::create(path)?;
    for l in lines {
        f.line(l)?;
    }
    f.commit()
}

/// Whether `path` may be (re)written with session `id`'s export: it does not exist, or it is
/// an export of that same session (then its `updated_at`, if any, is returned). Anything else
/// there is the user's, and is not overwritten.
pub(crate) fn replaceable(path: &Path, id: &str) -> Result<Option<String>> {
    let file = match std::fs::File::open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        other => other.map_err(|e| Error::io(path, e))?,
    };
    // One line, bounded: a session object is small, and the file may be anything.
    let mut first = Vec::new();
    std::io::Read::take(std::io::BufReader::new(file), 1 << 20)
        .read_until(b'\n', &mut first)
        .map_err(|e| Error::io(path, e))?;
    let head: Option<Value> = serde_json::from_slice(&first).ok();
    match head {
        Some(v) if v["type"] == "session" && v["id"] == id => {
            Ok(v["updated_at"].as_str().map(str::to_string))
        }
        _ => Err(Error::new(format!(
            "{} exists and is not an export of {id}: not overwritten",
            path.display()
        ))
        .with_hint("move it away, or give another --out")),
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
    /// Items of the API's pages that were not objects (a bare string or list): left out.
    pub not_objects: u64,
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

/// An object the API sent, through the whitelist and scrubbed of the key; not an object at
/// all is an error.
fn sanitized_object(client: &Client, v: &Value, what: &str) -> Result<Value> {
    let mut o =
        sanitize::object(v).ok_or_else(|| Error::new(format!("{what} is not a JSON object")))?;
    client.scrub(&mut o);
    Ok(o)
}

/// An event the API sent, through the whitelist and scrubbed of the key; `None` when it is
/// not an object at all.
pub(crate) fn sanitized_event(client: &Client, v: &Value) -> Option<Value> {
    let mut e = sanitize::event(v)?;
    client.scrub(&mut e);
    Some(e)
}

/// A session's threads, without its primary thread.
///
/// The thread list includes the primary thread (`parent_thread_id: null`), whose events are
/// the session's own events (the session-level stream): fetching them again would write every
/// event twice, and its agent snapshot would shadow later `session.updated` changes. When no
/// thread or several have no parent (an older or hand-written listing), none is taken for the
/// primary and all are kept. Each thread comes through the whitelist, with a checked id.
pub(crate) fn child_threads(client: &Client, id: &str) -> Result<Vec<(String, Value)>> {
    let mut threads = Vec::new();
    let path = endpoint(&["v1", "sessions", id, "threads"]);
    client.list_each(&path, &[("limit", "100".to_string())], |t| {
        let t = sanitized_object(client, &t, &format!("session {id}: a listed thread"))?;
        let tid = t
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::new(format!("session {id}: a thread has no id")))?;
        check_id(tid, "sthr_", &format!("session {id}: the thread"))?;
        threads.push((tid.to_string(), t));
        Ok(())
    })?;
    let is_root = |t: &Value| t.get("parent_thread_id").is_none_or(Value::is_null);
    if threads.iter().filter(|(_, t)| is_root(t)).count() == 1 {
        threads.retain(|(_, t)| !is_root(t));
    }
    Ok(threads)
}

/// The session object of `id`, through the whitelist; it must be that session.
pub(crate) fn session_object(client: &Client, id: &str) -> Result<Value> {
    let path = endpoint(&["v1", "sessions", id]);
    let s = sanitized_object(client, &client.get(&path, &[])?, &format!("GET {path}"))?;
    if s["id"] != id {
        return Err(Error::new(format!(
            "GET {path}: the API answered with another session ({:?})",
            shown(s["id"].as_str().unwrap_or("no id"))
        )));
    }
    Ok(s)
}

/// Every sanitized event of one events list, handed to `each`; returns how many items were
/// not objects (left out, and counted for the summary).
pub(crate) fn events_each(
    client: &Client,
    path: &str,
    query: &[(&str, String)],
    mut each: impl FnMut(Value) -> Result<()>,
) -> Result<u64> {
    let mut not_objects = 0;
    client.list_each(path, query, |e| match sanitized_event(client, &e) {
        Some(e) => each(e),
        None => {
            not_objects += 1;
            Ok(())
        }
    })?;
    Ok(not_objects)
}

/// A session's export, written to `out` as it comes (one page in memory at a time): the
/// session object, its events, then each child thread and its events. Returns (events, items
/// left out).
fn session_export(client: &Client, id: &str, out: &mut AtomicFile) -> Result<(u64, u64)> {
    // The session object itself: its usage and stats are the freshest the API has.
    out.line(&session_object(client, id)?)?;
    let mut left_out = events_each(
        client,
        &endpoint(&["v1", "sessions", id, "events"]),
        &session_events_query(),
        |e| out.line(&e),
    )?;
    let threads = child_threads(client, id)?;
    for (tid, t) in &threads {
        out.line(t)?;
        let path = endpoint(&["v1", "sessions", id, "threads", tid, "events"]);
        left_out += events_each(client, &path, &thread_events_query(), |e| out.line(&e))?;
    }
    Ok((out.lines - 1 - threads.len() as u64, left_out))
}

pub fn fetch(client: &Client, opts: &FetchOptions) -> Result<FetchSummary> {
    for id in &opts.sessions {
        check_id(id, "sesn_", "--session")?;
    }
    std::fs::create_dir_all(&opts.out).map_err(|e| Error::io(&opts.out, e))?;
    // (id, updated_at) of each session, checked before anything is written.
    let sessions: Vec<(String, Option<String>)> = if opts.sessions.is_empty() {
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
        let mut listed = Vec::new();
        client.list_each("/v1/sessions", &q, |s| {
            let s = sanitized_object(client, &s, "GET /v1/sessions: a listed session")?;
            let id = s["id"].as_str().unwrap_or_default();
            check_id(id, "sesn_", "GET /v1/sessions: the listed session")?;
            listed.push((id.to_string(), s["updated_at"].as_str().map(str::to_string)));
            Ok(())
        })?;
        listed
    } else {
        opts.sessions
            .iter()
            .map(|id| {
                let s = session_object(client, id)?;
                Ok((id.clone(), s["updated_at"].as_str().map(str::to_string)))
            })
            .collect::<Result<_>>()?
    };
    // A session listed (or given) twice is fetched once: two writers of one file would race.
    let mut once = std::collections::HashSet::new();
    let sessions: Vec<_> = sessions
        .into_iter()
        .filter(|(id, _)| once.insert(id.clone()))
        .collect();
    let done = AtomicU64::new(0);
    let events = AtomicU64::new(0);
    let unchanged = AtomicU64::new(0);
    let not_objects = AtomicU64::new(0);
    let total = sessions.len() as u64;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.concurrency.max(1))
        .build()
        .map_err(|e| Error::new(e.to_string()))?;
    let line = |_| {
        let bar = crate::progress::bar(done.load(Ordering::Relaxed), total, "sessions");
        format!("{bar}, {} events", events.load(Ordering::Relaxed))
    };
    let one = |id: &str, updated: Option<&str>| -> Result<()> {
        let path = opts.out.join(format!("{}.ndjson", escape(id)));
        let existing = replaceable(&path, id)?;
        if updated.is_some() && existing.as_deref() == updated {
            unchanged.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let mut file = AtomicFile::create(&path)?;
        let (n, left_out) = session_export(client, id, &mut file)?;
        file.commit()?;
        events.fetch_add(n, Ordering::Relaxed);
        not_objects.fetch_add(left_out, Ordering::Relaxed);
        Ok(())
    };
    let fetch_all = || {
        sessions
            .par_iter()
            .map(|(id, updated)| {
                let r = one(id, updated.as_deref());
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
        not_objects: not_objects.load(Ordering::Relaxed),
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
    let mut pager = Pager::new(endpoint, client.max_pages);
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
        if let Some(p) = &pager.next {
            q.push(("page", p.clone()));
        }
        let mut doc = client.get(endpoint, &q)?;
        client.scrub(&mut doc);
        let path = out.join(format!("{stem}-{n:03}.json"));
        write_atomically(&path, std::slice::from_ref(&doc))?;
        written.push(path);
        let more = doc
            .get("has_more")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !pager.advance(&doc, more)? {
            break;
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_and_escaped_one_to_one() {
        assert!(check_id("sesn_011CZkZTqDZgX8MmM5nT2aVD", "sesn_", "--session").is_ok());
        for bad in [
            "../../v1/x?beta=false#",
            "sesn_a/b",
            "sesn_",
            "sthr_1",
            "sesn_a b",
            "sesn_a%2F",
            "sesn_\u{e9}",
            &format!("sesn_{}", "a".repeat(60)),
        ] {
            let e = check_id(bad, "sesn_", "--session").unwrap_err();
            assert!(e.message.contains("not a valid id"), "{bad}");
        }
        assert_eq!(escape("sesn_a-b_c"), "sesn_a-b_c");
        // `.` and `_` (and `%` itself) escape apart: sesn_a.b and sesn_a_b get two files.
        assert_eq!(escape("sesn_a.b"), "sesn_a%2Eb");
        assert_eq!(escape("a%2Eb"), "a%252Eb");
        assert_eq!(
            endpoint(&["v1", "sessions", "../x?y#"]),
            "/v1/sessions/%2E%2E%2Fx%3Fy%23"
        );
    }
}
