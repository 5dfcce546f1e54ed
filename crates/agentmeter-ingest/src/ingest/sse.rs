//! SSE: `event: <type>` / `data: <json>` frames separated by blank lines. One decoder for
//! every SSE input: [`Decoder`] takes the bytes as they come (a file's buffers, a live
//! stream's reads) and gives each frame once it is complete, located at the line where it
//! starts. `read_sse` reads transcripts with it; `watch` reads the live stream with it.

use std::io::BufRead;

use super::{deliver, Sink, Source};
use crate::error::{Error, Result};

pub fn looks_like_sse(rest: &[u8]) -> bool {
    [&b"event:"[..], b"data:", b"id:", b"retry:", b":"]
        .iter()
        .any(|p| rest.starts_with(p))
}

/// One frame: the line it starts at (1-based, its first line of any kind, comments too), its
/// `event:` name and its `data:` lines joined by `\n` (`None`: it has no `data:` line).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frame {
    pub line: u64,
    pub event: Option<String>,
    pub data: Option<Vec<u8>>,
}

/// What a frame gives its reader.
#[derive(Debug, PartialEq, Eq)]
pub enum Payload<'a> {
    /// Its data, to be parsed.
    Data(&'a [u8]),
    /// A ping (with data or without): nothing.
    Ping,
    /// A named event without a `data:` line: a lost event, not nothing. The name.
    Missing(&'a str),
}

impl Frame {
    pub fn payload(&self) -> Payload<'_> {
        match (self.event.as_deref(), &self.data) {
            (Some("ping"), _) => Payload::Ping,
            (_, Some(d)) => Payload::Data(d),
            // The decoder gives no frame without a name and without data.
            (None, None) => Payload::Ping,
            (Some(ev), None) => Payload::Missing(ev),
        }
    }
}

/// The message for [`Payload::Missing`].
pub fn missing_data(event: &str) -> String {
    format!("SSE frame `event: {event}` has no `data:` line")
}

/// What the decoder gives, in stream order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A frame with a name or data (blank lines, comments, `id:` and `retry:` alone give none).
    Frame(Frame),
    /// This line is an unknown field and no known field came before it: the stream is not SSE
    /// at all (an HTML page, plain text). Unknown fields after a known one are ignored (the
    /// SSE spec).
    NotSse(u64),
}

/// Which bound a stream went past.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// A line, of any kind.
    Line,
    /// A frame's data lines together.
    Frame,
}

/// A line or frame longer than the decoder's bound, at this line (a frame: where it starts).
/// Nothing more can be read from the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLong {
    pub line: u64,
    pub limit: Limit,
    pub max: usize,
}

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let what = match self.limit {
            Limit::Line => "an SSE line",
            Limit::Frame => "an SSE frame's data",
        };
        write!(f, "{what} longer than {} MiB", self.max >> 20)
    }
}

/// An incremental SSE decoder. Lines end in `\r\n`, `\n` or a lone `\r` (the SSE spec allows
/// all three), also when the bytes are split between the two; a UTF-8 BOM is dropped from the
/// first line; `:` lines are comments; a field is `name: value` (one space after the colon is
/// dropped), or a bare `name` with an empty value. Where the bytes are cut makes no
/// difference: the same frames come out, in the same order.
pub struct Decoder {
    max: usize,
    /// The start of a line whose end has not come yet.
    partial: Vec<u8>,
    /// The last line ended in `\r`: a `\n` that starts what follows belongs to it.
    cr_pending: bool,
    /// Lines complete so far.
    lines: u64,
    frame: Building,
    known_field_seen: bool,
}

#[derive(Default)]
struct Building {
    /// 0: no line of the frame yet.
    start: u64,
    event: Option<String>,
    data: Vec<u8>,
    has_data: bool,
}

impl Decoder {
    /// A decoder whose lines, and frames' data, may be at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Decoder {
            max,
            partial: Vec::new(),
            cr_pending: false,
            lines: 0,
            frame: Building::default(),
            known_field_seen: false,
        }
    }

    /// The lines complete so far (where the next one is: `lines() + 1`).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Take the next bytes of the stream, pushing to `out` what they complete. After an
    /// error, the items before it are in `out` and the decoder is not to be fed again.
    pub fn feed(
        &mut self,
        mut bytes: &[u8],
        out: &mut Vec<Item>,
    ) -> std::result::Result<(), TooLong> {
        if std::mem::take(&mut self.cr_pending) && bytes.first() == Some(&b'\n') {
            bytes = &bytes[1..];
        }
        while let Some(i) = memchr::memchr2(b'\n', b'\r', bytes) {
            let mut next = i + 1;
            if bytes[i] == b'\r' {
                match bytes.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.cr_pending = true, // its \n, if any, comes in the next bytes
                }
            }
            if self.partial.is_empty() {
                self.line(&bytes[..i], out)?;
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&bytes[..i]);
                let done = self.line(&line, out);
                line.clear();
                self.partial = line;
                done?;
            }
            bytes = &bytes[next..];
        }
        if self.partial.len() + bytes.len() > self.max {
            return Err(self.too_long(self.lines + 1, Limit::Line));
        }
        self.partial.extend_from_slice(bytes);
        Ok(())
    }

    /// The stream ended: its last line, if it has no end, and its last frame, if no blank
    /// line closed it (a file may end so; a live stream that drops mid-frame should not call
    /// this, as the SSE spec discards such a frame).
    pub fn finish(&mut self, out: &mut Vec<Item>) -> std::result::Result<(), TooLong> {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(&line, out)?;
        }
        self.dispatch(out);
        Ok(())
    }

    fn too_long(&self, line: u64, limit: Limit) -> TooLong {
        TooLong {
            line,
            limit,
            max: self.max,
        }
    }

    fn line(&mut self, mut l: &[u8], out: &mut Vec<Item>) -> std::result::Result<(), TooLong> {
        if l.len() > self.max {
            return Err(self.too_long(self.lines + 1, Limit::Line));
        }
        self.lines += 1;
        let n = self.lines;
        if n == 1 {
            l = l.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(l);
        }
        if l.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        let frame = &mut self.frame;
        if frame.start == 0 {
            frame.start = n;
        }
        if l.starts_with(b":") {
            return Ok(()); // a comment
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
                let join = usize::from(frame.has_data);
                if frame.data.len() + join + value.len() > self.max {
                    let start = frame.start;
                    return Err(self.too_long(start, Limit::Frame));
                }
                if frame.has_data {
                    frame.data.push(b'\n');
                }
                frame.data.extend_from_slice(value);
                frame.has_data = true;
            }
            b"id" | b"retry" => {}
            _ if !self.known_field_seen => out.push(Item::NotSse(n)),
            _ => {}
        }
        self.known_field_seen |= known;
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<Item>) {
        let f = std::mem::take(&mut self.frame);
        if f.has_data || f.event.is_some() {
            out.push(Item::Frame(Frame {
                line: f.start,
                event: f.event,
                data: f.has_data.then_some(f.data),
            }));
        }
    }
}

const NOT_SSE: &str = "not an SSE stream: the line is not an `event:`, `data:`, `id:` or `retry:` field or a `:` comment (an HTML page or text saved as .sse?)";

/// Read an SSE transcript, feeding each frame's `data` to `sink`; a line (or a frame's data)
/// longer than `max_line` is an error. The last frame needs no blank line after it.
pub fn read_sse(
    mut r: impl BufRead,
    src: &Source,
    max_line: usize,
    sink: &mut impl Sink,
) -> Result<()> {
    let mut decoder = Decoder::new(max_line);
    let mut items = Vec::new();
    loop {
        let buf = r
            .fill_buf()
            .map_err(|e| Error::new(format!("{}:{}: {e}", src.name, decoder.lines() + 1)))?;
        let end = buf.is_empty();
        let fed = match end {
            true => decoder.finish(&mut items),
            false => decoder.feed(buf, &mut items),
        };
        let used = buf.len();
        r.consume(used);
        for item in items.drain(..) {
            match item {
                Item::NotSse(line) => sink.invalid(line, NOT_SSE.into())?,
                Item::Frame(f) => match f.payload() {
                    Payload::Ping => {}
                    Payload::Data(data) => deliver(data, f.line, f.event.as_deref(), sink)?,
                    Payload::Missing(ev) => sink.invalid(f.line, missing_data(ev))?,
                },
            }
        }
        if let Err(e) = fed {
            return Err(Error::new(format!(
                "{}:{}: {e}: the limit (--max-record-mb raises it)",
                src.name, e.line
            )));
        }
        if end {
            return Ok(());
        }
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

    /// All of `bytes` through a decoder, cut after each length of `cuts` (cycled; empty: whole).
    fn decode(bytes: &[u8], cuts: &[usize], max: usize) -> (Vec<Item>, Option<TooLong>) {
        let mut d = Decoder::new(max);
        let mut out = Vec::new();
        let mut rest = bytes;
        let mut i = 0;
        while !rest.is_empty() {
            let n = match cuts {
                [] => rest.len(),
                _ => cuts[i % cuts.len()].clamp(1, rest.len()),
            };
            i += 1;
            if let Err(e) = d.feed(&rest[..n], &mut out) {
                return (out, Some(e));
            }
            rest = &rest[n..];
        }
        let end = d.finish(&mut out).err();
        (out, end)
    }

    fn frame(line: u64, event: Option<&str>, data: Option<&str>) -> Item {
        Item::Frame(Frame {
            line,
            event: event.map(str::to_string),
            data: data.map(|d| d.as_bytes().to_vec()),
        })
    }

    #[test]
    fn decoder_frames_comments_multiline_data_and_line_ends() {
        // Line 1 a BOM and a comment (a frame of nothing: none), 2 blank; 3-5 a frame of two
        // data lines; 6 blank; 7 a named frame without data; 8 blank; 9 `data` bare (empty
        // value) and 10 an unknown field (ignored after known ones); no final blank line.
        let lf = "\u{feff}: hi\n\nevent: a\ndata: {\"x\":\ndata:1}\n\nevent: b\n\ndata\nfoo: bar\n";
        let want = vec![
            frame(3, Some("a"), Some("{\"x\":\n1}")),
            frame(7, Some("b"), None),
            frame(9, None, Some("")),
        ];
        for text in [
            lf.to_string(),
            lf.replace('\n', "\r\n"),
            lf.replace('\n', "\r"),
        ] {
            for cuts in [&[][..], &[1], &[2, 3], &[5, 1, 7]] {
                let (items, err) = decode(text.as_bytes(), cuts, 100);
                assert_eq!(err, None);
                assert_eq!(items, want, "{text:?} cut {cuts:?}");
            }
        }
        // What each frame gives a reader.
        let payloads: Vec<_> = want
            .iter()
            .map(|i| match i {
                Item::Frame(f) => format!("{:?}", f.payload()),
                Item::NotSse(_) => unreachable!(),
            })
            .collect();
        assert_eq!(
            payloads,
            [
                "Data([123, 34, 120, 34, 58, 10, 49, 125])",
                "Missing(\"b\")",
                "Data([])"
            ]
        );
        let ping = Frame {
            line: 1,
            event: Some("ping".into()),
            data: Some(b"{}".to_vec()),
        };
        assert_eq!(ping.payload(), Payload::Ping);
    }

    #[test]
    fn decoder_cr_then_lf_in_the_next_bytes_is_one_line_end() {
        let mut d = Decoder::new(100);
        let mut out = Vec::new();
        d.feed(b"data: 1\r", &mut out).unwrap();
        d.feed(b"\n", &mut out).unwrap();
        assert_eq!(d.lines(), 1, "`\\r` + `\\n` split between reads: one line");
        d.feed(b"\r", &mut out).unwrap(); // the blank line
        assert_eq!(out, vec![frame(1, None, Some("1"))]);
    }

    #[test]
    fn decoder_knows_a_stream_that_is_not_sse() {
        let (items, _) = decode(b"<html>\n<body>\n\ndata: 1\n\nfoo\n", &[], 100);
        // Each unknown line before the first known field; none after it.
        assert_eq!(
            items,
            vec![Item::NotSse(1), Item::NotSse(2), frame(4, None, Some("1"))]
        );
    }

    #[test]
    fn decoder_bounds_lines_and_frames() {
        // A line of 11 bytes against a bound of 10, whole or in pieces: an error at line 2.
        let text = b"data: 1\nevent: 12345\n";
        for cuts in [&[][..], &[1], &[9, 2]] {
            let (_, err) = decode(text, cuts, 10);
            assert_eq!(
                err,
                Some(TooLong {
                    line: 2,
                    limit: Limit::Line,
                    max: 10
                }),
                "{cuts:?}"
            );
        }
        // Data lines of 6 + 1 + 6 bytes against a frame bound of 10: the frame (line 1) is
        // refused at its second line, though each line is within the bound.
        let (_, err) = decode(b"data: 123456\ndata: 123456\n\n", &[], 12);
        assert_eq!(
            err,
            Some(TooLong {
                line: 1,
                limit: Limit::Frame,
                max: 12
            })
        );
        // 6 + 1 + 5 = 12: within.
        let (items, err) = decode(b"data: 123456\ndata: 12345\n\n", &[], 12);
        assert_eq!(err, None);
        assert_eq!(items, vec![frame(1, None, Some("123456\n12345"))]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 400, ..Default::default() })]
        /// A stream fed whole, byte by byte, or cut anywhere gives the same frames and the
        /// same error at the same line.
        #[test]
        fn decoder_gives_the_same_frames_however_the_bytes_are_cut(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "data: {\"id\":\"a\"}", "data:", "data", "event: x", "event: ping", "id: 7",
                "retry: 10", ": c", "foo: bar", "<p>", "\u{feff}", "\r", "\n", "\r\n", "\r\n",
                "\n", "dätä", "data: 0123456789abcdef", "\r\r", "\n\n", ":",
            ]), 0..40),
            cuts in proptest::collection::vec(1usize..9, 1..6),
            max in proptest::sample::select(vec![8usize, 20, 1000]),
        ) {
            let text = pieces.concat();
            let whole = decode(text.as_bytes(), &[], max);
            proptest::prop_assert_eq!(&decode(text.as_bytes(), &[1], max), &whole);
            proptest::prop_assert_eq!(&decode(text.as_bytes(), &cuts, max), &whole);
        }
    }
}
