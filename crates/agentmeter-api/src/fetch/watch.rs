//! `watch`: follow a session's SSE stream with one live status line. History comes from the
//! events list first; after a dropped connection the gap is filled from the list again;
//! everything is de-duplicated by id and metered by the same code as `meter`.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::client::{Failure, MAX_ITEMS};
use super::{check_id, endpoint, Client};
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
    /// `--budget-alert`: warn (and notify) once the session's cost crosses this share.
    pub alert: Option<BudgetAlert>,
    pub notify: super::notify::Notify,
}

/// `--budget-alert PCT` against the session's own budget, else `--max-usd`.
pub struct BudgetAlert {
    /// The share, as a percentage (80 for "80%").
    pub pct: Decimal,
    pub max_usd: Option<Decimal>,
}

impl BudgetAlert {
    /// The warning when `s` is at or past the share of its limit; `None` below it. The limit
    /// is the session's `max_list_cost` (read by the meter as cents), else `--max-usd`.
    fn check(&self, s: &RatedSession) -> (bool, Option<String>) {
        let own = crate::rate::BudgetStatus::of(s).and_then(|b| b.max);
        let Some((limit, whose)) = own
            .map(|m| (m, "its budget"))
            .or(self.max_usd.map(|m| (m, "--max-usd")))
        else {
            return (false, None);
        };
        let cost = s.cost.total();
        if cost * Decimal::ONE_HUNDRED < self.pct * limit {
            return (true, None);
        }
        let used = match limit.is_zero() {
            true => String::new(),
            false => format!(
                " = {:.1}%",
                (cost * Decimal::ONE_HUNDRED / limit).round_dp_with_strategy(
                    1,
                    rust_decimal::RoundingStrategy::MidpointAwayFromZero
                )
            ),
        };
        let warning = format!(
            "budget alert: {}: {} of {whose} {}{used} (--budget-alert {}%)",
            s.usage.session_id,
            crate::money::usd(cost),
            crate::money::usd(limit),
            self.pct.normalize()
        );
        (true, Some(warning))
    }
}

/// What has been seen of the session so far.
struct Seen {
    session: Value,
    events: Vec<Value>,
    threads: BTreeMap<String, (Value, Vec<Value>)>,
    ids: HashSet<String>,
    done: bool,
    /// Items that were not events (not objects, or billable-looking without an id): left
    /// out, and said so at the end.
    left_out: u64,
}

impl Seen {
    /// Add a sanitized event; false if it was seen before or has no id (it cannot be told
    /// from a copy: counted as left out, unless it is stream furniture).
    fn add(&mut self, e: Value, until_idle: bool, thread: Option<&str>) -> Result<bool> {
        let Some(id) = e.get("id").and_then(Value::as_str).map(str::to_string) else {
            let kind = e.get("type").and_then(Value::as_str);
            if !matches!(kind, Some("ping" | "event_start" | "event_delta")) {
                self.left_out += 1;
            }
            return Ok(false);
        };
        if self.ids.len() as u64 >= MAX_ITEMS {
            return Err(Error::new(format!(
                "more than {MAX_ITEMS} events in one session; stopping"
            )));
        }
        if !self.ids.insert(id) {
            return Ok(false);
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
            Some((_, evs)) => evs.push(e),
            None => self.events.push(e),
        }
        Ok(true)
    }

    fn lines(&self) -> Vec<Value> {
        let mut out = vec![self.session.clone()];
        out.extend(self.events.iter().cloned());
        for (t, evs) in self.threads.values() {
            out.push(t.clone());
            out.extend(evs.iter().cloned());
        }
        out
    }
}

fn fill(client: &Client, id: &str, seen: &mut Seen, until_idle: bool) -> Result<()> {
    let path = endpoint(&["v1", "sessions", id, "events"]);
    let q = super::session_events_query();
    let n = super::events_each(client, &path, &q, |e| {
        seen.add(e, until_idle, None).map(drop)
    })?;
    seen.left_out += n;
    for (tid, t) in super::child_threads(client, id)? {
        seen.threads
            .entry(tid.clone())
            .or_insert_with(|| (t, Vec::new()));
        let path = endpoint(&["v1", "sessions", id, "threads", &tid, "events"]);
        let q = super::thread_events_query();
        let n = super::events_each(client, &path, &q, |e| {
            seen.add(e, until_idle, Some(&tid)).map(drop)
        })?;
        seen.left_out += n;
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

/// How a watch ended: the final metering, how many items of the API's pages and stream were
/// not events (left out), and the budget alert if one fired.
pub struct Watched {
    pub last: Option<RatedSession>,
    pub left_out: u64,
    pub alert: Option<String>,
}

/// Follow the session until it ends (or goes idle, with `until_idle`).
pub fn watch(client: &Client, table: &PriceTable, opts: &WatchOptions) -> Result<Watched> {
    let id = check_id(&opts.session, "sesn_", "session")?;
    // Without --out the export lives in a directory of its own, removed at the end.
    let tmp;
    let path = match &opts.out {
        Some(p) => {
            super::replaceable(p, id)?;
            p.clone()
        }
        None => {
            tmp = tempfile::Builder::new()
                .prefix("agentmeter-watch-")
                .tempdir()
                .map_err(|e| Error::new(format!("cannot make a temporary directory: {e}")))?;
            tmp.path().join(format!("{}.ndjson", super::escape(id)))
        }
    };
    let session = super::session_object(client, id)?;
    let mut seen = Seen {
        session,
        events: Vec::new(),
        threads: BTreeMap::new(),
        ids: HashSet::new(),
        done: false,
        left_out: 0,
    };
    let tty = std::io::stderr().is_terminal();
    let mut last = None;
    let (mut alert, mut limit_known) = (None::<String>, false);
    let mut refresh = |seen: &Seen, state: &str| -> Result<()> {
        super::write_atomically(&path, &seen.lines())?;
        if let Some(s) = meter_export(&path, table, &opts.meter)? {
            if let (Some(a), None) = (&opts.alert, &alert) {
                let (known, fired) = a.check(&s);
                limit_known |= known;
                if let Some(w) = fired {
                    // Said once, on a line of its own; the live line stays a warning after.
                    if tty {
                        let _ = write!(std::io::stderr(), "\r\x1b[2K");
                    }
                    crate::say!("warning: {w}");
                    opts.notify.send(
                        &format!("agentmeter {w}"),
                        json!({"session_id": &*s.usage.session_id, "cost": crate::money::exact(s.cost.total()),
                               "budget": crate::rate::BudgetStatus::of(&s).and_then(|b| b.max).map(crate::money::cents),
                               "max_usd": a.max_usd.map(crate::money::exact), "alert_pct": crate::money::exact(a.pct)}),
                    );
                    alert = Some(w);
                }
            }
            if tty {
                let state = match alert {
                    Some(_) => format!("{state}, BUDGET ALERT"),
                    None => state.to_string(),
                };
                let _ = write!(std::io::stderr(), "\r\x1b[2K{}", status_line(&s, &state));
                let _ = std::io::stderr().flush();
            }
            last = Some(s);
        }
        Ok(())
    };
    fill(client, id, &mut seen, opts.until_idle)?;
    refresh(&seen, "history")?;
    let stream = endpoint(&["v1", "sessions", id, "events", "stream"]);
    let mut reconnects = 0;
    while !seen.done {
        match client.stream(&stream) {
            Ok(resp) => {
                let mut reader = BufReader::new(resp);
                let mut frame = Frame::default();
                let mut line = Vec::new();
                loop {
                    match read_line(&mut reader, &mut line, client.max_body) {
                        Ok(0) | Err(_) => break, // dropped
                        Ok(_) => {}
                    }
                    let Some(v) = frame.push(&line, client.max_body)? else {
                        continue;
                    };
                    let Some(v) = super::sanitized_event(client, &v) else {
                        seen.left_out += 1;
                        continue;
                    };
                    let thread = v
                        .get("session_thread_id")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .filter(|t| seen.threads.contains_key(t));
                    if seen.add(v, opts.until_idle, thread.as_deref())? {
                        refresh(&seen, "live")?;
                    }
                    if seen.done {
                        break;
                    }
                }
            }
            // A refused redirect, a bad key, a missing session: trying again will not help.
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Retry(_, why)) if reconnects >= opts.max_reconnects => {
                return Err(Error::new(format!("GET {stream}: {why}")))
            }
            Err(Failure::Retry(..)) => {}
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
            let _ = write!(std::io::stderr(), "\r\x1b[2Kreconnecting ({reconnects})...");
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
        crate::say!();
    }
    if opts.alert.is_some() && !limit_known {
        crate::say!("warning: --budget-alert: session {id} states no budget; pass --max-usd to alert against an amount of your own");
    }
    Ok(Watched {
        last,
        left_out: seen.left_out,
        alert,
    })
}

/// One line of the stream into `buf` (without its end), at most `max` bytes: a line that
/// never ends is an error, not a memory blow-up. 0 at the end of the stream.
fn read_line(r: &mut impl BufRead, buf: &mut Vec<u8>, max: u64) -> std::io::Result<usize> {
    buf.clear();
    let n = std::io::Read::take(&mut *r, max.saturating_add(1)).read_until(b'\n', buf)?;
    if buf.len() as u64 > max {
        return Err(std::io::Error::other("an SSE line is too long"));
    }
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    Ok(n)
}

/// The SSE frame being read: its `event:` name and `data:` lines.
#[derive(Default)]
struct Frame {
    name: Option<String>,
    data: String,
}

impl Frame {
    /// Take one line; at a frame's end, its JSON (pings and frames that are not JSON give
    /// none). A frame larger than `max` bytes is an error.
    fn push(&mut self, line: &[u8], max: u64) -> Result<Option<Value>> {
        let l = String::from_utf8_lossy(line);
        if l.is_empty() {
            let name = self.name.take();
            let body = std::mem::take(&mut self.data);
            if body.is_empty() || name.as_deref() == Some("ping") {
                return Ok(None);
            }
            let Ok(mut v) = serde_json::from_str::<Value>(&body) else {
                return Ok(None);
            };
            if v.get("type").is_none() {
                if let (Some(o), Some(n)) = (v.as_object_mut(), name) {
                    o.insert("type".into(), Value::String(n));
                }
            }
            return Ok(Some(v));
        }
        if let Some(v) = l.strip_prefix("event:") {
            self.name = Some(v.trim().chars().take(200).collect());
        } else if let Some(v) = l.strip_prefix("data:") {
            if self.data.len() as u64 + v.len() as u64 > max {
                return Err(Error::new(format!(
                    "an event of the stream is larger than {} MB",
                    max >> 20
                )));
            }
            if !self.data.is_empty() {
                self.data.push('\n');
            }
            self.data.push_str(v.strip_prefix(' ').unwrap_or(v));
        }
        Ok(None)
    }
}

pub fn final_line(s: &RatedSession) -> String {
    status_line(s, "done")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_lines_and_frames_are_bounded() {
        // A line of 20 bytes against a bound of 10: an error, not a 20-byte buffer.
        let mut r = std::io::Cursor::new(vec![b'x'; 20]);
        let mut buf = Vec::new();
        assert!(read_line(&mut r, &mut buf, 10).is_err());
        let mut r = std::io::Cursor::new(b"data: 1\r\n\n".to_vec());
        assert_eq!(read_line(&mut r, &mut buf, 10).unwrap(), 9);
        assert_eq!(buf, b"data: 1");
        // Data lines of 6 + 6 bytes against a frame bound of 10: the second is refused.
        let mut f = Frame::default();
        assert!(f.push(b"data: 123456", 10).unwrap().is_none());
        assert!(f.push(b"data: 123456", 10).is_err());
        // A frame within the bound gives its JSON at the blank line, typed by `event:`.
        let mut f = Frame::default();
        f.push(b"event: session.status_idle", 100).unwrap();
        f.push(b"data: {\"id\": \"e\"}", 100).unwrap();
        let v = f.push(b"", 100).unwrap().unwrap();
        assert_eq!(v["type"], "session.status_idle");
    }
}
