//! `watch`: follow a session's SSE stream with one live status line. History comes from the
//! events list first; after a dropped connection the gap is filled from the list again;
//! everything is de-duplicated by id and metered by the same code as `meter`.

use std::collections::{BTreeMap, HashSet};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::client::{Backoff, Failure, MAX_ITEMS};
use super::redact::shown;
use super::{check_id, endpoint, Client};
use crate::error::{Error, Result};
use crate::ingest::sse::{self, Decoder, Item, Payload};
use crate::ingest::Source;
use crate::meter::{meter, MeterOptions};
use crate::pricing::PriceTable;
use crate::rate::{RatedSession, Rater};
use crate::schema::{Cents, Exact};
use crate::time::Zone;

/// `watch --budget-alert PCT --notify URL`, once, when the live session crosses the share
/// of its budget (or of --max-usd).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "budget_alert")]
pub struct AlertNotice<'a> {
    /// The session watched.
    session_id: &'a str,
    /// Its exact cost so far.
    cost: Exact,
    /// The session's own budget, to the cent; null when it states none.
    budget: Option<Cents>,
    /// --max-usd, if given.
    max_usd: Option<Exact>,
    /// --budget-alert, as a percentage (70 for 70%).
    alert_pct: Exact,
}

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
/// not events (left out), how many frames could not be read, and the budget alert if one
/// fired.
pub struct Watched {
    pub last: Option<RatedSession>,
    pub left_out: u64,
    /// Frames of the stream that could not be read (each warned of as it came).
    pub bad_frames: u64,
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
                    let budget = crate::rate::BudgetStatus::of(&s).and_then(|b| b.max);
                    let body = AlertNotice {
                        session_id: &s.usage.session_id,
                        cost: Exact(s.cost.total()),
                        budget: budget.map(Cents),
                        max_usd: a.max_usd.map(Exact),
                        alert_pct: Exact(a.pct),
                    };
                    opts.notify.send(&format!("agentmeter {w}"), &body);
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
    let (mut reconnects, mut connections) = (0, 0u32);
    // The client's policy, with --max-reconnects for its retries.
    let retry = Backoff {
        retries: opts.max_reconnects,
        ..client.retry
    };
    let mut bad = BadFrames::default();
    while !seen.done {
        // The server's Retry-After, when it refused the stream with one.
        let mut asked = None;
        match client.stream(&stream) {
            Ok(mut resp) => {
                connections += 1;
                let mut decoder =
                    Decoder::new(usize::try_from(client.max_body).unwrap_or(usize::MAX));
                let (mut buf, mut items) = (vec![0u8; 64 << 10], Vec::new());
                'stream: loop {
                    let n = match resp.read(&mut buf) {
                        Ok(0) => break, // dropped (a frame cut short is not read: the SSE spec)
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    };
                    let fed = decoder.feed(&buf[..n], &mut items);
                    for item in items.drain(..) {
                        let v = match live_event(client, item) {
                            Ok(Some(v)) => v,
                            Ok(None) => continue,
                            Err((line, why)) => {
                                bad.report(&stream, connections, line, &why, tty);
                                continue;
                            }
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
                            break 'stream;
                        }
                    }
                    if let Err(e) = fed {
                        return Err(Error::new(format!(
                            "GET {stream}: line {} of connection {connections}: {e}",
                            e.line
                        ))
                        .with_hint("pass a larger --max-body-mb if this event is genuine"));
                    }
                }
            }
            // A refused redirect, a bad key, a missing session: trying again will not help.
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Retry(_, why)) if reconnects >= retry.retries => {
                return Err(Error::new(format!("GET {stream}: {why}")))
            }
            Err(Failure::Retry(after, _)) => asked = after,
        }
        if seen.done {
            break;
        }
        reconnects += 1;
        if reconnects > retry.retries {
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
        // Reconnect n (from 1) waits as retry n of the policy: 1, 2, 4 ... 30 s (plus jitter),
        // or what a refusing server's Retry-After asked, at most 120 s.
        std::thread::sleep(retry.wait(reconnects, asked));
        // Events emitted while we were away (or in frames that could not be read) come from
        // the list.
        fill(client, id, &mut seen, opts.until_idle)?;
        bad.since_fill = false;
        refresh(&seen, "live")?;
    }
    if bad.since_fill {
        // What the bad frames held is in the events list.
        fill(client, id, &mut seen, opts.until_idle)?;
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
        bad_frames: bad.count,
        alert,
    })
}

/// A frame of the live stream as an event: `Ok(None)` for a ping, `Err((line, why))` for a
/// frame that cannot be read (what the file reader calls invalid: not SSE, a named event
/// without data, data that is not JSON). An `event:` name stands in for a missing `type`.
fn live_event(client: &Client, item: Item) -> std::result::Result<Option<Value>, (u64, String)> {
    let f = match item {
        Item::Frame(f) => f,
        Item::NotSse(line) => {
            return Err((
                line,
                "not an SSE stream: the line is not an `event:`, `data:`, `id:` or `retry:` field or a `:` comment".into(),
            ))
        }
    };
    let data = match f.payload() {
        Payload::Ping => return Ok(None),
        Payload::Missing(ev) => {
            return Err((f.line, sse::missing_data(&shown(&client.redact(ev)))))
        }
        Payload::Data(data) => data,
    };
    let mut v = serde_json::from_slice::<Value>(data)
        .map_err(|e| (f.line, crate::ingest::record::describe_json_error(&e, data)))?;
    if v.get("type").is_none() {
        if let (Some(o), Some(n)) = (v.as_object_mut(), &f.event) {
            o.insert(
                "type".into(),
                Value::String(n.trim().chars().take(200).collect()),
            );
        }
    }
    Ok(Some(v))
}

/// Frames of the live stream that could not be read: each is said at once (the first few),
/// counted for the end, and makes `watch` read the events list again before it ends, so the
/// event such a frame held is not lost.
#[derive(Default)]
struct BadFrames {
    count: u64,
    /// A bad frame since the events list was last read.
    since_fill: bool,
}

impl BadFrames {
    /// The most bad frames said one by one; the rest are counted.
    const SHOWN: u64 = 10;

    fn report(&mut self, stream: &str, connection: u32, line: u64, why: &str, tty: bool) {
        self.count += 1;
        self.since_fill = true;
        if self.count > Self::SHOWN {
            return;
        }
        if tty {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
        let more = match self.count {
            Self::SHOWN => " (further bad frames are counted, not shown)",
            _ => "",
        };
        // `why` holds nothing the server sent but an event name, redacted and cut short.
        crate::say!(
            "warning: GET {stream}: line {line} of connection {connection}: {why}; the frame is left out and the events list is read again before the end{more}"
        );
    }
}

pub fn final_line(s: &RatedSession) -> String {
    status_line(s, "done")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every frame of `text`, as `live_event` reads it.
    fn events(text: &str) -> Vec<std::result::Result<Option<Value>, (u64, String)>> {
        let client = Client::new("sk-ant-test-key-0123456789".into(), None).unwrap();
        let (mut d, mut items) = (Decoder::new(1 << 20), Vec::new());
        d.feed(text.as_bytes(), &mut items).unwrap();
        items.into_iter().map(|i| live_event(&client, i)).collect()
    }

    #[test]
    fn live_frames_are_events_pings_or_reported() {
        // Lines 1-2 a frame typed by its `event:` name; 4-5 a ping; 7-8 JSON cut short; 10 a
        // named event without data (its name redacted); 12 an unknown field after known ones:
        // ignored (the SSE spec), no frame.
        let got = events(
            "event:  session.status_idle \ndata: {\"id\": \"e\"}\n\n\
             event: ping\ndata: {}\n\n\
             event: agent.message\ndata: {\"id\": \"f\",\n\n\
             event: sk-ant-test-key-0123456789\n\n\
             <html>\n\n",
        );
        assert_eq!(got.len(), 4, "{got:?}");
        let first = got[0].as_ref().unwrap().as_ref().unwrap();
        assert_eq!(first["type"], "session.status_idle");
        assert_eq!(got[1], Ok(None));
        let (line, why) = got[2].as_ref().unwrap_err();
        assert_eq!(*line, 7);
        assert!(why.contains("truncated JSON"), "{why}");
        let (line, why) = got[3].as_ref().unwrap_err();
        assert_eq!(*line, 10);
        assert_eq!(why, "SSE frame `event: [redacted]` has no `data:` line");
        // A stream that starts with something else is not SSE: said at its line.
        let got = events("<html>\n<body>\n");
        assert_eq!(got.len(), 2);
        assert!(matches!(&got[0], Err((1, why)) if why.starts_with("not an SSE stream")));
    }
}
