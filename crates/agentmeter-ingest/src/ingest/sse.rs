//! SSE transcripts: `event: <type>` / `data: <json>` frames separated by blank lines.
//! A frame is located at the line where it starts.

use std::io::BufRead;

use super::{deliver, Sink, Source};
use crate::error::{Error, Result};

pub fn looks_like_sse(rest: &[u8]) -> bool {
    [&b"event:"[..], b"data:", b"id:", b"retry:", b":"]
        .iter()
        .any(|p| rest.starts_with(p))
}

#[derive(Default)]
struct Frame {
    start: u64,
    event: Option<String>,
    data: Vec<u8>,
    has_data: bool,
}

/// Read an SSE stream, feeding each frame's `data` to `sink`. Lines end in `\r\n`, `\n` or a
/// lone `\r` (the SSE spec allows all three); a line longer than `max_line` is an error.
pub fn read_sse(
    mut r: impl BufRead,
    src: &Source,
    max_line: usize,
    sink: &mut impl Sink,
) -> Result<()> {
    let mut line = Vec::new();
    let mut n = 0u64;
    let mut frame = Frame::default();
    let mut cr_pending = false;
    let mut known_field_seen = false;
    loop {
        let got = next_line(&mut r, &mut line, &mut cr_pending, max_line)
            .map_err(|e| Error::new(format!("{}:{}: {e}", src.name, n + 1)))?;
        if !got {
            return dispatch(&mut frame, sink);
        }
        n += 1;
        let mut l = &line[..];
        if n == 1 {
            l = l.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(l);
        }
        if l.is_empty() {
            dispatch(&mut frame, sink)?;
            continue;
        }
        if frame.start == 0 {
            frame.start = n;
        }
        if l.starts_with(b":") {
            continue; // a comment
        }
        let (field, value) = match memchr::memchr(b':', l) {
            Some(i) => (
                &l[..i],
                l[i + 1..].strip_prefix(b" ").unwrap_or(&l[i + 1..]),
            ),
            None => (l, &b""[..]),
        };
        let known = matches!(field, b"event" | b"data" | b"id" | b"retry");
        match field {
            b"event" => frame.event = Some(String::from_utf8_lossy(value).into_owned()),
            b"data" => {
                if frame.has_data {
                    frame.data.push(b'\n');
                }
                frame.data.extend_from_slice(value);
                frame.has_data = true;
            }
            b"id" | b"retry" => {}
            // Unknown fields are ignored (the SSE spec), but a stream that starts with one is
            // not SSE at all (an HTML error page, plain text): say so, not nothing.
            _ if !known_field_seen => sink.invalid(
                n,
                "not an SSE stream: the line is not an `event:`, `data:`, `id:` or `retry:` field or a `:` comment (an HTML page or text saved as .sse?)".into(),
            )?,
            _ => {}
        }
        known_field_seen |= known;
    }
}

/// The next line into `line`, without its end. `cr_pending`: the last line ended in `\r`, so
/// a `\n` that starts what follows belongs to it. `Ok(false)`: the stream ended.
fn next_line(
    r: &mut impl BufRead,
    line: &mut Vec<u8>,
    cr_pending: &mut bool,
    max: usize,
) -> std::io::Result<bool> {
    line.clear();
    let mut got = false;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(got);
        }
        let start = usize::from(std::mem::take(cr_pending) && buf[0] == b'\n');
        let Some(i) = memchr::memchr2(b'\n', b'\r', &buf[start..]) else {
            line.extend_from_slice(&buf[start..]);
            got |= buf.len() > start;
            let used = buf.len();
            r.consume(used);
            if line.len() > max {
                return Err(too_long(max));
            }
            continue;
        };
        let end = start + i;
        line.extend_from_slice(&buf[start..end]);
        let mut used = end + 1;
        if buf[end] == b'\r' {
            match buf.get(used) {
                Some(b'\n') => used += 1,
                Some(_) => {}
                None => *cr_pending = true, // the \n, if any, is in the next buffer
            }
        }
        r.consume(used);
        return if line.len() > max {
            Err(too_long(max))
        } else {
            Ok(true)
        };
    }
}

fn too_long(max: usize) -> std::io::Error {
    std::io::Error::other(format!(
        "an SSE line longer than {} MiB: the limit (--max-record-mb raises it)",
        max >> 20
    ))
}

fn dispatch(frame: &mut Frame, sink: &mut impl Sink) -> Result<()> {
    let f = std::mem::take(frame);
    if !f.has_data {
        // A named event with nothing in it is a lost event, not nothing (pings aside).
        return match f.event.as_deref() {
            None | Some("ping") => Ok(()),
            Some(ev) => sink.invalid(
                f.start,
                format!("SSE frame `event: {ev}` has no `data:` line"),
            ),
        };
    }
    match f.event.as_deref() {
        Some("ping") => Ok(()),
        ev => deliver(&f.data, f.start, ev, sink),
    }
}

#[cfg(test)]
mod tests {
    use super::super::record::{EventKind, Record};
    use super::*;

    #[derive(Default)]
    struct Collect(Vec<(u64, Record)>, Vec<(u64, String)>);
    impl Sink for Collect {
        fn record(&mut self, line: u64, record: Record) {
            self.0.push((line, record));
        }
        fn invalid(&mut self, line: u64, message: String) -> Result<()> {
            self.1.push((line, message));
            Ok(())
        }
    }

    #[test]
    fn frames_pings_and_missing_types() {
        let text = ": comment\n\nevent: ping\ndata: {}\n\nevent: session.status_running\ndata: {\"id\":\"a\",\n\
                    data: \"processed_at\":\"2026-05-04T09:00:00Z\"}\n\nevent: agent.message\ndata: {\"id\":\"b\",\"processed_at\":\"2026-05-04T09:00:01Z\"\n\n";
        let mut c = Collect::default();
        let src = Source {
            name: "t.sse".into(),
            path: None,
        };
        read_sse(text.as_bytes(), &src, 1 << 20, &mut c).unwrap();
        assert_eq!(c.0.len(), 1);
        assert_eq!(c.0[0].0, 6);
        assert!(matches!(&c.0[0].1, Record::Event(e) if e.kind == EventKind::Running));
        assert_eq!(c.1.len(), 1);
        assert_eq!(
            c.1[0].0, 10,
            "a bad frame is reported at the line where it starts"
        );
    }
}
