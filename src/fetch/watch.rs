//! `watch`: follow a session's SSE stream with one live status line. History comes from the
//! events list first; after a dropped connection the gap is filled from the list again;
//! everything is de-duplicated by id and metered by the same code as `meter`.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::{sanitize, Client};
use crate::error::{Error, Result};
use crate::ingest::Source;
use crate::meter::{meter, MeterOptions};
use crate::pricing::PriceTable;
use crate::rate::{RatedSession, Rater};
use crate::time::Zone;

pub struct WatchOptions {
    pub session: String,
    /// Where the export is kept (default: a temporary file).
    pub out: Option<PathBuf>,
    /// Stop when the session goes idle (or ends); otherwise stop when it ends.
    pub until_idle: bool,
    pub max_reconnects: u32,
    /// How the export is metered (`--default-inference-geo`; no progress line).
    pub meter: MeterOptions,
}

/// What has been seen of the session so far.
struct Seen {
    session: Value,
    events: Vec<Value>,
    threads: BTreeMap<String, (Value, Vec<Value>)>,
    ids: HashSet<String>,
    done: bool,
}

impl Seen {
    fn add(&mut self, e: Value, until_idle: bool, thread: Option<&str>) -> bool {
        let Some(id) = e.get("id").and_then(Value::as_str).map(str::to_string) else {
            return false;
        };
        if !self.ids.insert(id) {
            return false;
        }
        let kind = e.get("type").and_then(Value::as_str).unwrap_or("");
        if thread.is_none()
            && (kind == "session.status_terminated"
                || kind == "session.deleted"
                || (until_idle && kind == "session.status_idle"))
        {
            self.done = true;
        }
        match thread.and_then(|t| self.threads.get_mut(t)) {
            Some((_, evs)) => evs.push(sanitize::event(&e)),
            None => self.events.push(sanitize::event(&e)),
        }
        true
    }

    fn lines(&self) -> Vec<Value> {
        let mut out = vec![sanitize::object(&self.session)];
        out.extend(self.events.iter().cloned());
        for (t, evs) in self.threads.values() {
            out.push(sanitize::object(t));
            out.extend(evs.iter().cloned());
        }
        out
    }
}

fn fill(client: &Client, id: &str, seen: &mut Seen, until_idle: bool) -> Result<()> {
    let path = format!("/v1/sessions/{id}/events");
    for e in client.list(&path, &super::session_events_query())? {
        seen.add(e, until_idle, None);
    }
    for (tid, t) in super::child_threads(client, id)? {
        seen.threads
            .entry(tid.clone())
            .or_insert_with(|| (t, Vec::new()));
        let path = format!("/v1/sessions/{id}/threads/{tid}/events");
        for e in client.list(&path, &super::thread_events_query())? {
            seen.add(e, until_idle, Some(&tid));
        }
    }
    Ok(())
}

/// Meter the export so far, with the same code as `meter`.
pub fn meter_export(
    path: &Path,
    table: &PriceTable,
    opts: &MeterOptions,
) -> Result<Option<RatedSession>> {
    let src = Source {
        name: path.display().to_string().into(),
        path: Some(path.to_path_buf()),
    };
    let metered = meter(std::slice::from_ref(&src), opts)?;
    let rater = Rater::new(table, Zone::default());
    Ok(metered.sessions.into_iter().next().map(|u| rater.rate(u).0))
}

fn status_line(s: &RatedSession, state: &str) -> String {
    let t = s.quantities.tokens;
    format!(
        "{}: {state} | running {} | {} requests | {} tokens | {} web searches | {}",
        s.usage.session_id,
        crate::money::duration(s.quantities.active_ms),
        s.quantities.requests,
        crate::money::count(t.total_input() + t.output),
        s.quantities.web_searches,
        crate::money::usd(s.cost.total())
    )
}

/// Follow the session until it ends (or goes idle, with `until_idle`). Returns the final metering.
pub fn watch(
    client: &Client,
    table: &PriceTable,
    opts: &WatchOptions,
) -> Result<Option<RatedSession>> {
    let id = opts.session.as_str();
    let session = client.get(&format!("/v1/sessions/{id}"), &[])?;
    let mut seen = Seen {
        session,
        events: Vec::new(),
        threads: BTreeMap::new(),
        ids: HashSet::new(),
        done: false,
    };
    let tmp;
    let path = match &opts.out {
        Some(p) => p.clone(),
        None => {
            tmp = tempfile_path(id);
            tmp.clone()
        }
    };
    let tty = std::io::stderr().is_terminal();
    let mut last = None;
    let mut refresh = |seen: &Seen, state: &str| -> Result<()> {
        super::write_atomically(&path, &seen.lines())?;
        if let Some(s) = meter_export(&path, table, &opts.meter)? {
            if tty {
                eprint!("\r\x1b[2K{}", status_line(&s, state));
                let _ = std::io::stderr().flush();
            }
            last = Some(s);
        }
        Ok(())
    };
    fill(client, id, &mut seen, opts.until_idle)?;
    refresh(&seen, "history")?;
    let mut reconnects = 0;
    while !seen.done {
        match client.stream(&format!("/v1/sessions/{id}/events/stream")) {
            Ok(resp) => {
                let mut reader = BufReader::new(resp);
                let mut event_name: Option<String> = None;
                let mut data = String::new();
                let mut line = String::new();
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => break, // dropped
                        Ok(_) => {}
                    }
                    let l = line.trim_end_matches(['\r', '\n']);
                    if l.is_empty() {
                        let name = event_name.take();
                        let body = std::mem::take(&mut data);
                        if body.is_empty() || name.as_deref() == Some("ping") {
                            continue;
                        }
                        if let Ok(mut v) = serde_json::from_str::<Value>(&body) {
                            if v.get("type").is_none() {
                                if let (Some(o), Some(n)) = (v.as_object_mut(), name) {
                                    o.insert("type".into(), Value::String(n));
                                }
                            }
                            let thread = v
                                .get("session_thread_id")
                                .and_then(Value::as_str)
                                .map(str::to_string)
                                .filter(|t| seen.threads.contains_key(t));
                            if seen.add(v, opts.until_idle, thread.as_deref()) {
                                refresh(&seen, "live")?;
                            }
                        }
                        if seen.done {
                            break;
                        }
                    } else if let Some(v) = l.strip_prefix("event:") {
                        event_name = Some(v.trim().to_string());
                    } else if let Some(v) = l.strip_prefix("data:") {
                        if !data.is_empty() {
                            data.push('\n');
                        }
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
            }
            Err(e) if reconnects >= opts.max_reconnects => return Err(e),
            Err(_) => {}
        }
        if seen.done {
            break;
        }
        reconnects += 1;
        if reconnects > opts.max_reconnects {
            return Err(Error::new(format!(
                "session {id}: the stream dropped {reconnects} times; giving up"
            ))
            .with_hint(
                "run `agentmeter watch` again, or `agentmeter fetch --session` for the history",
            ));
        }
        if tty {
            eprint!("\r\x1b[2Kreconnecting ({reconnects})...");
        }
        std::thread::sleep(
            client
                .backoff
                .saturating_mul(1 << reconnects.min(6))
                .min(Duration::from_secs(30)),
        );
        // Events emitted while we were away come from the list.
        fill(client, id, &mut seen, opts.until_idle)?;
        refresh(&seen, "live")?;
    }
    refresh(&seen, "done")?;
    if tty {
        eprintln!();
    }
    if opts.out.is_none() {
        let _ = std::fs::remove_file(&path);
    }
    Ok(last)
}

fn tempfile_path(id: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "agentmeter-watch-{}-{}.ndjson",
        std::process::id(),
        id.replace(['/', '\\'], "_")
    ))
}

pub fn final_line(s: &RatedSession) -> String {
    status_line(s, "done")
}
