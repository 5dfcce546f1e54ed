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

pub fn read_sse(mut r: impl BufRead, src: &Source, sink: &mut impl Sink) -> Result<()> {
    let mut line = Vec::new();
    let mut n = 0u64;
    let mut frame = Frame::default();
    loop {
        line.clear();
        let got = r
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::new(format!("{}: {e}", src.name)))?;
        if got == 0 {
            return dispatch(&mut frame, sink);
        }
        n += 1;
        let mut l = line.strip_suffix(b"\n").unwrap_or(&line);
        l = l.strip_suffix(b"\r").unwrap_or(l);
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
        match field {
            b"event" => frame.event = Some(String::from_utf8_lossy(value).into_owned()),
            b"data" => {
                if frame.has_data {
                    frame.data.push(b'\n');
                }
                frame.data.extend_from_slice(value);
                frame.has_data = true;
            }
            _ => {} // id, retry and unknown fields do not affect the bill
        }
    }
}

fn dispatch(frame: &mut Frame, sink: &mut impl Sink) -> Result<()> {
    let f = std::mem::take(frame);
    if !f.has_data {
        return Ok(());
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
        read_sse(text.as_bytes(), &src, &mut c).unwrap();
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
