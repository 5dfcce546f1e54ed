//! Ingest (mediation): find the input files, undo compression, detect each file's encoding
//! (NDJSON, events-page JSON, SSE transcript) and hand every object to a [`Sink`] in input
//! order, with its line number. Large NDJSON inputs are parsed in parallel chunks.

pub mod record;
mod skim;
pub mod sse;
pub mod transcript;

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::value::RawValue;

use crate::error::{Error, Result};
use record::{Parsed, Record};

/// Bytes read from inputs, as stored (a compressed file's compressed bytes), by every read
/// given the same [`ReadOptions`] (clones share it): a progress display compares it with the
/// inputs' sizes, a shard reports what it read.
#[derive(Clone, Debug, Default)]
pub struct BytesRead(std::sync::Arc<AtomicU64>);

impl BytesRead {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
}

/// One input: a file, or standard input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// How errors name it: the path as the user gave it (or as found under a directory).
    pub name: Arc<str>,
    pub path: Option<PathBuf>,
}

impl Source {
    /// The session id of a file that has events but no session object: its file stem.
    pub fn stem(&self) -> String {
        match &self.path {
            Some(p) => stem_of(&p.to_string_lossy()),
            None => "stdin".into(),
        }
    }

    /// The Claude Code project of a transcript: the folder under `projects/` it is in (as
    /// Claude Code names it, e.g. `-home-ana-shop`), else the folder it is in (a subagent
    /// file's: its session's).
    pub fn project(&self) -> String {
        let Some(path) = &self.path else {
            return "stdin".into();
        };
        let parts: Vec<_> = path
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect();
        let under_projects = parts
            .iter()
            .rposition(|c| c == "projects")
            .filter(|&i| i + 2 < parts.len())
            .map(|i| i + 1);
        // A subagent's file (`<project>/<session>/subagents/agent-<id>.jsonl`) is in its
        // session's project.
        let parent = match parts.len().checked_sub(2) {
            Some(i) if parts[i] == "subagents" => i.checked_sub(2),
            other => other,
        };
        match under_projects.or(parent) {
            Some(i) => parts[i].to_string(),
            None => "(none)".into(),
        }
    }
}

/// A file's name without its directory, compression and input extensions.
pub fn stem_of(path: &str) -> String {
    let name = std::path::Path::new(path)
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut stem = name.as_str();
    for ext in [".gz", ".zst", ".ndjson", ".jsonl", ".json", ".sse"] {
        stem = stem.strip_suffix(ext).unwrap_or(stem);
    }
    stem.to_string()
}

const INPUT_EXTENSIONS: [&str; 4] = ["ndjson", "jsonl", "json", "sse"];

/// The inputs found, and what was passed over while looking for them (`PATH: why`).
#[derive(Debug, Default)]
pub struct Inputs {
    pub sources: Vec<Source>,
    pub passed_over: Vec<String>,
}

impl std::ops::Deref for Inputs {
    type Target = [Source];
    fn deref(&self) -> &[Source] {
        &self.sources
    }
}

impl From<Vec<Source>> for Inputs {
    fn from(sources: Vec<Source>) -> Self {
        Inputs {
            sources,
            passed_over: Vec::new(),
        }
    }
}

/// Where the walk has been: each directory and file by its real identity, so a symlink loop
/// or a second path to the same file is read once.
#[derive(Default)]
struct Walk {
    seen: std::collections::HashSet<(u64, u64)>,
    out: Inputs,
    /// Files with other extensions in the directory being walked.
    others: u64,
}

impl Walk {
    /// Whether this real file or directory is new.
    fn first_visit(&mut self, meta: &std::fs::Metadata) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            self.seen.insert((meta.dev(), meta.ino()))
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            true
        }
    }
}

/// Expand the command-line paths: files as given, directories recursively (sorted, only files
/// whose names end in an input extension, optionally `.gz`/`.zst`), `-` for stdin. Inputs are
/// regular files: a FIFO, device or socket given by name is an error, and one met in a
/// directory is passed over (and said so); each real directory and file is read once.
pub fn discover(paths: &[String]) -> Result<Inputs> {
    let mut walk = Walk::default();
    for p in paths {
        if p == "-" {
            walk.out.sources.push(Source {
                name: "<stdin>".into(),
                path: None,
            });
            continue;
        }
        let path = Path::new(p);
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            walk.others = 0;
            let before = walk.out.sources.len();
            walk_dir(path, &meta, &mut walk)?;
            if walk.out.sources.len() == before && walk.others > 0 {
                walk.out.passed_over.push(format!(
                    "{p}: no input files in it ({} file(s) with other extensions; inputs end in .ndjson, .jsonl, .json or .sse, optionally .gz or .zst)",
                    walk.others
                ));
            }
        } else if meta.is_file() {
            if walk.first_visit(&meta) {
                walk.out.sources.push(Source {
                    name: p.as_str().into(),
                    path: Some(path.to_path_buf()),
                });
            } else {
                walk.out.passed_over.push(format!(
                    "{p}: the same file as an input before it: read once"
                ));
            }
        } else {
            return Err(Error::new(format!(
                "{p}: not a regular file or a directory (a FIFO, device or socket)"
            ))
            .with_hint(
                "agentmeter reads files and directories; to read a stream, pipe it to `-`",
            ));
        }
    }
    if walk.out.sources.is_empty() && !paths.is_empty() {
        let why = match walk.out.passed_over.as_slice() {
            [] => String::new(),
            notes => format!(": {}", notes.join("; ")),
        };
        return Err(Error::new(format!("no input files found{why}")).with_hint(
            "inputs are *.ndjson, *.jsonl, *.json and *.sse files (also .gz/.zst), directories of them, or - for stdin",
        ));
    }
    Ok(walk.out)
}

fn is_input_file(name: &str) -> bool {
    let base = name
        .strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".zst"))
        .unwrap_or(name);
    INPUT_EXTENSIONS.iter().any(|ext| {
        base.len() > ext.len() + 1
            && base.ends_with(ext)
            && base[..base.len() - ext.len()].ends_with('.')
    })
}

fn walk_dir(dir: &Path, meta: &std::fs::Metadata, walk: &mut Walk) -> Result<()> {
    if !walk.first_visit(meta) {
        walk.out.passed_over.push(format!(
            "{}: a directory already read (a symlink loop or a second path to it): read once",
            dir.display()
        ));
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .collect::<io::Result<Vec<_>>>()
        .map_err(|e| Error::io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        // Symlinks are followed: to what they point at.
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                walk.out
                    .passed_over
                    .push(format!("{}: a broken symlink: skipped", path.display()));
                continue;
            }
            Err(err) => return Err(Error::io(&path, err)),
        };
        let input = is_input_file(&e.file_name().to_string_lossy());
        if meta.is_dir() {
            walk_dir(&path, &meta, walk)?;
        } else if !input {
            walk.others += 1;
        } else if !meta.is_file() {
            walk.out.passed_over.push(format!(
                "{}: not a regular file (a FIFO, device or socket): skipped",
                path.display()
            ));
        } else if walk.first_visit(&meta) {
            walk.out.sources.push(Source {
                name: path.display().to_string().into(),
                path: Some(path),
            });
        } else {
            walk.out.passed_over.push(format!(
                "{}: the same file as an input before it (a link): read once",
                path.display()
            ));
        }
    }
    Ok(())
}

/// Receives the records of one source, in input order.
pub trait Sink {
    fn record(&mut self, line: u64, record: Record);
    /// A record that could not be read. Returning an error stops reading the source.
    fn invalid(&mut self, line: u64, message: String) -> Result<()>;
}

/// NDJSON is cut into chunks of about this size, parsed in parallel, and fed in order. Small
/// enough that the chunks in flight hold little memory, large enough to amortize a task.
const CHUNK: usize = 1 << 20;

/// Inputs up to this size are read whole and parsed on the calling thread.
const SMALL: u64 = 64 << 10;

/// Read one source to the end, feeding `sink`. A plain NDJSON file is read by byte range in
/// the parse tasks themselves; anything else (compressed, stdin, SSE, pretty-printed pages)
/// by a reader thread into a few reused buffers. Either way memory stays flat whatever the
/// size. (Memory-mapping was no faster, and the kernel left part of every mapped file
/// resident.)
pub fn read_source(src: &Source, sink: &mut (impl Sink + Send)) -> Result<()> {
    read_source_as(src, &ReadOptions::default(), sink)
}

/// How sources are read.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Read every source as a Claude Code transcript (`--source claude-code`), whatever its
    /// content looks like.
    pub transcript: bool,
    /// The longest record accepted (a line, an SSE line, a pretty-printed document), in
    /// bytes: past it, reading stops with an error instead of buffering without end.
    pub max_record: usize,
    /// What these reads have read so far.
    pub bytes_read: BytesRead,
}

/// The default bound on a record's length (`--max-record-mb`).
pub const DEFAULT_MAX_RECORD_MB: usize = 256;

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            transcript: false,
            max_record: DEFAULT_MAX_RECORD_MB << 20,
            bytes_read: BytesRead::default(),
        }
    }
}

impl ReadOptions {
    /// The error for a record past the bound, starting at byte `at` of the (decoded) input.
    fn too_long(&self, at: u64) -> io::Error {
        io::Error::other(format!(
            "a record (line) starting at byte {at} is longer than {} MiB: the limit (--max-record-mb raises it)",
            self.max_record >> 20
        ))
    }
}

/// [`read_source`] with these options.
pub fn read_source_as(
    src: &Source,
    opts: &ReadOptions,
    sink: &mut (impl Sink + Send),
) -> Result<()> {
    #[cfg(unix)]
    if let Some(path) = &src.path {
        if read_plain_file(path, src, opts, sink)? {
            return Ok(());
        }
    }
    read_stream(src, opts, sink)
}

/// A regular, uncompressed file: small ones whole, NDJSON by byte range. `false`: not one
/// of those; the caller streams it.
#[cfg(unix)]
fn read_plain_file(
    path: &Path,
    src: &Source,
    opts: &ReadOptions,
    sink: &mut (impl Sink + Send),
) -> Result<bool> {
    use std::os::unix::fs::FileExt;
    let io_err = |e: io::Error| Error::io(path, e);
    let file = File::open(path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    if !meta.is_file() {
        return Ok(false);
    }
    let len = meta.len();
    // Enough to detect the encoding (SSE, a page's first line, a transcript's first lines,
    // which may be metadata lines of a few KB).
    let mut head = vec![0u8; len.min(if len <= SMALL { SMALL } else { 16 << 10 }) as usize];
    file.read_exact_at(&mut head, 0).map_err(io_err)?;
    if is_compressed(&head) {
        return Ok(false);
    }
    if len <= SMALL {
        opts.bytes_read.add(len);
        read_bytes_as(&head, src, opts, sink)?;
        return Ok(true);
    }
    let lines = match detect(&head, src, opts.transcript) {
        Encoding::Ndjson => Lines::Records,
        Encoding::Transcript => Lines::Transcript,
        Encoding::Sse | Encoding::Documents => return Ok(false),
    };
    read_ndjson_ranges(&file, len, src, opts, sink, lines)?;
    Ok(true)
}

/// A reader that adds what it reads to a [`BytesRead`].
struct Counted<R>(R, BytesRead);

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        self.1.add(n as u64);
        Ok(n)
    }
}

fn is_compressed(magic: &[u8]) -> bool {
    magic.starts_with(&[0x1f, 0x8b]) || magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
}

/// Read a source as a stream, decompressing it: a reader thread fills reused buffers.
fn read_stream(src: &Source, opts: &ReadOptions, sink: &mut (impl Sink + Send)) -> Result<()> {
    let io_err = |e: io::Error| match &src.path {
        Some(p) => Error::io(p, e),
        None => Error::new(format!("<stdin>: {e}")),
    };
    let raw: Box<dyn Read + Send> = match &src.path {
        Some(p) => Box::new(Counted(
            File::open(p).map_err(|e| Error::io(p, e))?,
            opts.bytes_read.clone(),
        )),
        None => Box::new(Counted(io::stdin(), opts.bytes_read.clone())),
    };
    let mut reader = decompress(BufReader::with_capacity(1 << 16, raw)).map_err(io_err)?;
    // Peek enough to detect the encoding, then keep those bytes as the start of the stream.
    let mut head = Vec::with_capacity(SMALL as usize);
    (&mut reader)
        .take(SMALL)
        .read_to_end(&mut head)
        .map_err(io_err)?;
    if (head.len() as u64) < SMALL {
        // The whole input: no reader thread needed.
        return read_bytes_as(&head, src, opts, sink);
    }
    match detect(&head, src, opts.transcript) {
        Encoding::Sse => sse::read_sse(
            BufReader::with_capacity(1 << 16, io::Cursor::new(head).chain(reader)),
            src,
            opts.max_record,
            sink,
        ),
        Encoding::Documents => {
            let mut all = head;
            let limit = opts.max_record as u64 + 1;
            (&mut reader)
                .take(limit.saturating_sub(all.len() as u64))
                .read_to_end(&mut all)
                .map_err(io_err)?;
            if all.len() > opts.max_record {
                return Err(io_err(opts.too_long(0)));
            }
            read_documents(&all, sink)
        }
        Encoding::Ndjson => read_ndjson_stream(head, reader, src, opts, sink, Lines::Records),
        Encoding::Transcript => {
            read_ndjson_stream(head, reader, src, opts, sink, Lines::Transcript)
        }
    }
}

/// Read one source held in memory (any encoding, not compressed), feeding `sink`: the same
/// decoders and chunked parallel parse as a file, for tests and fuzzing.
pub fn read_bytes(bytes: &[u8], src: &Source, sink: &mut (impl Sink + Send)) -> Result<()> {
    read_bytes_as(bytes, src, &ReadOptions::default(), sink)
}

/// [`read_bytes`] with these options.
pub fn read_bytes_as(
    bytes: &[u8],
    src: &Source,
    opts: &ReadOptions,
    sink: &mut (impl Sink + Send),
) -> Result<()> {
    let encoding = detect(&bytes[..bytes.len().min(64 << 10)], src, opts.transcript);
    match encoding {
        Encoding::Sse => sse::read_sse(bytes, src, opts.max_record, sink),
        Encoding::Documents => read_documents(bytes, sink),
        Encoding::Ndjson | Encoding::Transcript => {
            let lines = match encoding {
                Encoding::Transcript => Lines::Transcript,
                _ => Lines::Records,
            };
            let mut rest = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            pipeline(
                move || {
                    if rest.is_empty() {
                        return Ok(None);
                    }
                    let cut = match rest.get(CHUNK..) {
                        None => rest.len(),
                        Some(after) => {
                            memchr::memchr(b'\n', after).map_or(rest.len(), |p| CHUNK + p + 1)
                        }
                    };
                    let (chunk, tail) = rest.split_at(cut);
                    rest = tail;
                    Ok(Some(chunk))
                },
                |chunk: &[u8], _| Ok(parse_chunk(chunk, lines)),
                sink,
            )
        }
    }
}

enum Encoding {
    Ndjson,
    Documents,
    Sse,
    /// Claude Code transcript lines (NDJSON of another shape).
    Transcript,
}

/// What the lines of an NDJSON input are.
#[derive(Clone, Copy)]
enum Lines {
    Records,
    Transcript,
}

impl Lines {
    fn parse(self, line: &str) -> std::result::Result<Parsed<'_>, String> {
        match self {
            Lines::Records => record::parse_text(line, None),
            Lines::Transcript => transcript::parse_line_text(line),
        }
    }
}

/// Decide a file's encoding from its first bytes (and an `.sse` name); `transcript`: it is a
/// Claude Code transcript, full stop.
fn detect(head: &[u8], src: &Source, transcript: bool) -> Encoding {
    if transcript {
        return Encoding::Transcript;
    }
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let Some(first) = body.iter().position(|c| !c.is_ascii_whitespace()) else {
        return Encoding::Ndjson;
    };
    let rest = &body[first..];
    let by_ext = src.path.as_ref().is_some_and(|p| {
        let n = p.to_string_lossy();
        n.ends_with(".sse") || n.ends_with(".sse.gz") || n.ends_with(".sse.zst")
    });
    // By content first: a `.sse` file that holds JSON is read as JSON.
    if sse::looks_like_sse(rest) || (by_ext && rest[0] != b'{') {
        Encoding::Sse
    } else if rest[0] == b'{' && is_multiline_document(rest) {
        Encoding::Documents
    } else if transcript::looks_like_transcript(rest) {
        Encoding::Transcript
    } else {
        Encoding::Ndjson
    }
}

/// Wrap `r` in a decoder when its first bytes are a gzip or zstd magic number.
fn decompress(mut r: BufReader<Box<dyn Read + Send>>) -> io::Result<Box<dyn Read + Send>> {
    use io::BufRead;
    let magic = r.fill_buf()?;
    if magic.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(r)))
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Ok(Box::new(zstd::stream::read::Decoder::with_buffer(r)?))
    } else {
        Ok(Box::new(r))
    }
}

/// A JSON object whose first line does not close it: a pretty-printed page (or record).
fn is_multiline_document(rest: &[u8]) -> bool {
    let Some(nl) = memchr::memchr(b'\n', rest) else {
        return false;
    };
    match serde_json::from_slice::<serde::de::IgnoredAny>(&rest[..nl]) {
        Ok(_) => false,
        Err(e) => e.is_eof(),
    }
}

/// Parse one line (or page item) and deliver what it holds.
fn deliver(
    bytes: &[u8],
    line: u64,
    default_type: Option<&str>,
    sink: &mut impl Sink,
) -> Result<()> {
    let text = match record::utf8(bytes, "record") {
        Ok(text) => text,
        Err(msg) => return sink.invalid(line, msg),
    };
    match record::parse_text(text, default_type) {
        Ok(Parsed::Record(r)) => sink.record(line, r),
        Ok(Parsed::Page(items)) => deliver_page(&items, |_| line, sink)?,
        Err(msg) => sink.invalid(line, msg)?,
    }
    Ok(())
}

fn deliver_page(
    items: &[&RawValue],
    line_of: impl Fn(usize) -> u64,
    sink: &mut impl Sink,
) -> Result<()> {
    for (i, item) in items.iter().enumerate() {
        let line = line_of(i);
        match record::parse_text(item.get(), None) {
            Ok(Parsed::Record(r)) => sink.record(line, r),
            Ok(Parsed::Page(_)) => sink.invalid(line, "a page inside a page".into())?,
            Err(msg) => sink.invalid(line, msg)?,
        }
    }
    Ok(())
}

/// Whole-file JSON documents (pretty-printed pages, possibly several in a row).
fn read_documents(all: &[u8], sink: &mut impl Sink) -> Result<()> {
    if let Err(e) = std::str::from_utf8(all) {
        let at = e.valid_up_to();
        let line = 1 + memchr::memchr_iter(b'\n', &all[..at]).count() as u64;
        return sink.invalid(line, "invalid UTF-8".into());
    }
    let base = all.as_ptr() as usize;
    let mut counted_to = 0usize;
    let mut line = 1u64;
    let mut line_at = |offset: usize| {
        line += memchr::memchr_iter(b'\n', &all[counted_to..offset]).count() as u64;
        counted_to = offset;
        line
    };
    let mut stream = serde_json::Deserializer::from_slice(all).into_iter::<&RawValue>();
    loop {
        let start = stream.byte_offset();
        let doc = match stream.next() {
            None => return Ok(()),
            Some(Ok(doc)) => doc,
            Some(Err(e)) => {
                let at = line_at(
                    start
                        + all[start..]
                            .iter()
                            .take_while(|c| c.is_ascii_whitespace())
                            .count(),
                );
                let msg = if e.is_eof() {
                    "truncated JSON (the document ends early)".to_string()
                } else {
                    format!("malformed JSON: {e}")
                };
                // Nothing after a broken document can be located reliably.
                return sink.invalid(at, msg).and(Ok(()));
            }
        };
        let doc_line = line_at(doc.get().as_ptr() as usize - base);
        match record::parse_text(doc.get(), None) {
            Ok(Parsed::Record(r)) => sink.record(doc_line, r),
            Ok(Parsed::Page(items)) => {
                let mut lines = Vec::with_capacity(items.len());
                for item in &items {
                    lines.push(line_at(item.get().as_ptr() as usize - base));
                }
                deliver_page(&items, |i| lines[i], sink)?;
            }
            Err(msg) => sink.invalid(doc_line, msg)?,
        }
    }
}

/// What parsing one chunk of lines produced, with line numbers relative to the chunk.
struct ChunkOut {
    items: Vec<(u64, Result<Record, String>)>,
    newlines: u64,
}

fn parse_chunk(chunk: &[u8], lines: Lines) -> ChunkOut {
    let mut items = Vec::new();
    let mut start = 0usize;
    let mut rel = 0u64;
    let push_line = |line: &[u8], rel: u64, items: &mut Vec<(u64, Result<Record, String>)>| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        // The parser skips content it does not read without checking its encoding, so each
        // line is checked here, just before it is parsed, while it is in the core's cache.
        let line = match record::utf8(line, "line") {
            Ok(text) => text,
            Err(msg) => return items.push((rel, Err(msg))),
        };
        match lines.parse(line) {
            Ok(Parsed::Record(r)) => items.push((rel, Ok(r))),
            Ok(Parsed::Page(page)) => {
                for item in page {
                    let r = match record::parse_text(item.get(), None) {
                        Ok(Parsed::Record(r)) => Ok(r),
                        Ok(Parsed::Page(_)) => Err("a page inside a page".to_string()),
                        Err(m) => Err(m),
                    };
                    items.push((rel, r));
                }
            }
            Err(m) => items.push((rel, Err(m))),
        }
    };
    for nl in memchr::memchr_iter(b'\n', chunk) {
        push_line(&chunk[start..nl], rel, &mut items);
        start = nl + 1;
        rel += 1;
    }
    if start < chunk.len() {
        push_line(&chunk[start..], rel, &mut items);
    }
    ChunkOut {
        items,
        newlines: rel,
    }
}

/// Parse work units on every core and feed what they give to `sink` in input order, as it
/// comes: no batch barrier, so no core waits for the slowest chunk of a batch. `next` hands
/// out the units (called under a lock, in order); each worker keeps a scratch buffer for
/// `parse`. At most `window` units (6 per worker, and 2) are taken ahead of the one the sink
/// waits for, so memory stays flat whatever the input.
fn pipeline<C: Send>(
    mut next: impl FnMut() -> Result<Option<C>> + Send,
    parse: impl Fn(C, &mut Vec<u8>) -> Result<ChunkOut> + Sync,
    sink: &mut impl Sink,
) -> Result<()> {
    use std::sync::{mpsc, Condvar, Mutex};
    struct Feed<N, C> {
        next: N,
        /// Units taken before the workers started, to see whether there was more than one.
        ahead: Vec<C>,
        taken: u64,
        delivered: u64,
        stop: bool,
    }
    let Some(first) = next()? else {
        return Ok(());
    };
    let wanted = rayon::current_num_threads().max(1);
    if wanted == 1 {
        // One core: no threads, each unit parsed and delivered in turn.
        return serial([first], next, &parse, sink);
    }
    let second = match next() {
        // A single unit (most files of a directory): parsed here, no threads started.
        Ok(None) => {
            let out = parse(first, &mut Vec::new())?;
            return deliver_chunk(out, &mut 1, sink);
        }
        Err(e) => {
            deliver_chunk(parse(first, &mut Vec::new())?, &mut 1, sink)?;
            return Err(e);
        }
        Ok(Some(second)) => second,
    };
    let helpers = Helpers::reserve(wanted);
    if helpers.0 == 0 {
        // Every core already has a parse worker (other large files being read at once):
        // this one is parsed on the thread that reads it, which is busy either way.
        return serial([first, second], next, &parse, sink);
    }
    let workers = helpers.0;
    let window = 6 * workers as u64 + 2;
    let feed = Mutex::new(Feed {
        next,
        ahead: vec![second, first], // taken from the end
        taken: 0,
        delivered: 0,
        stop: false,
    });
    let turn = Condvar::new();
    let lock = || feed.lock().unwrap_or_else(|e| e.into_inner());
    let (out_tx, out_rx) = mpsc::channel::<(u64, Result<ChunkOut>)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let out_tx = out_tx.clone();
            let (parse, lock, turn) = (&parse, &lock, &turn);
            scope.spawn(move || {
                let _live = Live::start();
                let mut scratch = Vec::new();
                loop {
                    let (seq, unit) = {
                        let mut f = lock();
                        while !f.stop && f.taken >= f.delivered + window {
                            f = turn.wait(f).unwrap_or_else(|e| e.into_inner());
                        }
                        if f.stop {
                            return;
                        }
                        let unit = match f.ahead.pop() {
                            Some(c) => Ok(Some(c)),
                            None => (f.next)(),
                        };
                        if !matches!(unit, Ok(Some(_))) {
                            f.stop = true; // the end, or an error only the consumer reports
                            turn.notify_all();
                        }
                        f.taken += 1;
                        (f.taken - 1, unit)
                    };
                    let out = match unit {
                        Ok(Some(c)) => parse(c, &mut scratch),
                        Ok(None) => return,
                        Err(e) => Err(e),
                    };
                    if out_tx.send((seq, out)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(out_tx);
        let stop = |result: Result<()>| {
            lock().stop = true;
            turn.notify_all();
            result
        };
        // Units that finished before an earlier one, by sequence number.
        let mut waiting = std::collections::BTreeMap::new();
        let mut line_base = 1u64;
        let mut want = 0u64;
        for (seq, out) in out_rx.iter() {
            waiting.insert(seq, out);
            while let Some(out) = waiting.remove(&want) {
                match out.and_then(|out| deliver_chunk(out, &mut line_base, sink)) {
                    Ok(()) => {}
                    Err(e) => return stop(Err(e)),
                }
                want += 1;
                lock().delivered = want;
                turn.notify_all();
            }
        }
        Ok(())
    })
}

/// Parse `units`, then the rest of `next`, on this thread, delivering each in turn.
fn serial<C>(
    units: impl IntoIterator<Item = C>,
    mut next: impl FnMut() -> Result<Option<C>>,
    parse: impl Fn(C, &mut Vec<u8>) -> Result<ChunkOut>,
    sink: &mut impl Sink,
) -> Result<()> {
    let (mut scratch, mut line_base) = (Vec::new(), 1);
    for c in units {
        deliver_chunk(parse(c, &mut scratch)?, &mut line_base, sink)?;
    }
    while let Some(c) = next()? {
        deliver_chunk(parse(c, &mut scratch)?, &mut line_base, sink)?;
    }
    Ok(())
}

/// The parse workers of every pipeline in the process share one budget: one per core.
///
/// Files are read in parallel (meter's file loop, on rayon's threads, one per core), and a
/// large file's pipeline wants a worker per core: N large files read at once on N cores would
/// start N² workers. With the budget, a pipeline takes the workers that are free (all of them
/// when it is alone) and, when none is, parses on the thread that reads its file. So:
/// - one large file (the throughput bench's case) takes every core's worker, as before the
///   budget, since the budget is the default pool's size;
/// - many small files (one chunk each) start no workers and never touch the budget;
/// - many large files at once start at most one worker per core in all, besides the file
///   loop's own threads (which deliver, or parse their file themselves): the cores are as
///   busy as with N² threads, without N² stacks and their switching.
///
/// (The reader threads of compressed files decode, not parse: one per file being read.)
fn parse_budget() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Parse workers reserved now, by all pipelines.
static RESERVED: AtomicUsize = AtomicUsize::new(0);
/// Parse workers running now, and the most that ever ran at once (what the tests check).
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Up to `want` workers of `budget`, of which `reserved` are taken: how many this takes.
fn reserve(reserved: &AtomicUsize, want: usize, budget: usize) -> usize {
    let mut now = reserved.load(Ordering::Relaxed);
    loop {
        let n = want.min(budget.saturating_sub(now));
        if n == 0 {
            return 0;
        }
        match reserved.compare_exchange_weak(now, now + n, Ordering::AcqRel, Ordering::Relaxed) {
            Ok(_) => return n,
            Err(other) => now = other,
        }
    }
}

/// Workers reserved from the budget, given back when dropped.
struct Helpers(usize);

impl Helpers {
    fn reserve(want: usize) -> Helpers {
        Helpers(reserve(&RESERVED, want, parse_budget()))
    }
}

impl Drop for Helpers {
    fn drop(&mut self) {
        RESERVED.fetch_sub(self.0, Ordering::AcqRel);
    }
}

/// A running parse worker, counted.
struct Live;

impl Live {
    fn start() -> Live {
        let now = LIVE.fetch_add(1, Ordering::AcqRel) + 1;
        PEAK.fetch_max(now, Ordering::AcqRel);
        Live
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::AcqRel);
    }
}

fn deliver_chunk(out: ChunkOut, line_base: &mut u64, sink: &mut impl Sink) -> Result<()> {
    for (rel, item) in out.items {
        match item {
            Ok(r) => sink.record(*line_base + rel, r),
            Err(msg) => sink.invalid(*line_base + rel, msg)?,
        }
    }
    *line_base += out.newlines;
    Ok(())
}

/// A plain file is cut into byte ranges of CHUNK; each parse task reads its own range (with
/// `pread`, so both cores read as well as parse) and takes the lines that start in it: the
/// line that runs into the range belongs to the range before, and the last line is read on
/// to its end. No reader thread, no mapping, a few MiB in flight whatever the file size.
#[cfg(unix)]
fn read_ndjson_ranges(
    file: &File,
    len: u64,
    src: &Source,
    read: &ReadOptions,
    sink: &mut (impl Sink + Send),
    lines: Lines,
) -> Result<()> {
    let mut next = 0u64;
    pipeline(
        move || {
            if next >= len {
                return Ok(None);
            }
            let range = next..(next + CHUNK as u64).min(len);
            next = range.end;
            Ok(Some(range))
        },
        |range, buf| {
            let io_err = |e| match &src.path {
                Some(p) => Error::io(p, e),
                None => Error::new(format!("{}: {e}", src.name)),
            };
            read.bytes_read.add(range.end - range.start);
            let lines_in = lines_starting_in(file, len, range, buf, read).map_err(io_err)?;
            Ok(parse_chunk(&buf[lines_in], lines))
        },
        sink,
    )
}

/// Read the lines that start in `range` into `buf` (reused across calls) and say where
/// they are in it: read from one byte before the range, to see whether a line starts at its
/// first byte, and past its end to finish its last line.
#[cfg(unix)]
fn lines_starting_in(
    file: &File,
    len: u64,
    range: std::ops::Range<u64>,
    buf: &mut Vec<u8>,
    read: &ReadOptions,
) -> io::Result<std::ops::Range<usize>> {
    use std::os::unix::fs::FileExt;
    let read_at = |buf: &mut Vec<u8>, to: usize, n: usize, offset: u64| {
        if buf.len() < to + n {
            buf.resize(to + n, 0);
        }
        file.read_exact_at(&mut buf[to..to + n], offset)
    };
    let from = range.start.saturating_sub(1);
    let mut end = (range.end - from) as usize;
    read_at(buf, 0, end, from)?;
    let first = if range.start == 0 {
        if buf.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        }
    } else {
        match memchr::memchr(b'\n', &buf[..end]) {
            Some(nl) => nl + 1,
            None => return Ok(0..0), // inside a line that started before
        }
    };
    let mut at = range.end;
    // The last line may run on past the range: it starts after the range's last line end
    // (found once; what is read on holds no line end until the last piece).
    let line_start =
        memchr::memrchr(b'\n', &buf[first.min(end)..end]).map_or(first, |nl| first + nl + 1);
    while at < len && buf[end - 1] != b'\n' {
        if end - line_start > read.max_record {
            return Err(read.too_long(from + line_start as u64));
        }
        let more = (64u64 << 10).min(len - at) as usize;
        read_at(buf, end, more, at)?;
        at += more as u64;
        end += memchr::memchr(b'\n', &buf[end..end + more]).map_or(more, |nl| nl + 1);
    }
    Ok(first.min(end)..end)
}

/// NDJSON from a stream: a reader thread decodes and cuts chunks at line ends (reusing
/// buffers), so decompression overlaps parsing.
fn read_ndjson_stream(
    head: Vec<u8>,
    reader: Box<dyn Read + Send>,
    src: &Source,
    read: &ReadOptions,
    sink: &mut (impl Sink + Send),
    lines: Lines,
) -> Result<()> {
    let max_record = read.max_record;
    let read = read.clone();
    // Decoded chunks waiting for a parser: enough to keep every core busy.
    let depth = 2 * rayon::current_num_threads().max(1);
    let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(depth);
    let (pool_tx, pool_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut reader = reader;
            let mut carry = head;
            if carry.starts_with(b"\xEF\xBB\xBF") {
                carry.drain(..3);
            }
            // Bytes of the stream before `buf`: where an over-long line starts.
            let mut offset = 0u64;
            loop {
                let mut buf = pool_rx.try_recv().unwrap_or_default();
                buf.clear();
                buf.append(&mut carry);
                let mut eof = false;
                // Fill to CHUNK bytes, and further until the chunk holds a line end. Each
                // byte is scanned for a line end once (`scanned` holds none), and a line
                // past the bound stops the read instead of growing the buffer without end.
                let mut scanned = 0;
                loop {
                    let has_end = memchr::memchr(b'\n', &buf[scanned..]).is_some();
                    if has_end && buf.len() >= CHUNK {
                        break;
                    }
                    if !has_end {
                        scanned = buf.len();
                        if buf.len() > max_record {
                            let _ = tx.send(Err(read.too_long(offset)));
                            return;
                        }
                    }
                    let before = buf.len();
                    let want = (CHUNK.max(before + (1 << 20)) - before) as u64;
                    if let Err(e) = (&mut reader).take(want).read_to_end(&mut buf) {
                        let _ = tx.send(Err(e));
                        return;
                    }
                    if buf.len() == before {
                        eof = true;
                        break;
                    }
                }
                if !eof {
                    let cut = memchr::memrchr(b'\n', &buf).map_or(buf.len(), |p| p + 1);
                    carry.extend_from_slice(&buf[cut..]);
                    buf.truncate(cut);
                }
                offset += buf.len() as u64;
                if (!buf.is_empty() && tx.send(Ok(buf)).is_err()) || eof {
                    return; // done, or the consumer stopped
                }
            }
        });
        let io_err = |e: io::Error| Error::new(format!("{}: {e}", src.name));
        pipeline(
            move || rx.recv().ok().transpose().map_err(io_err),
            |chunk: Vec<u8>, _| {
                let out = parse_chunk(&chunk, lines);
                let _ = pool_tx.send(chunk);
                Ok(out)
            },
            sink,
        )
        // `rx` went with the closure: a reader still running stops at its next send.
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        records: Vec<(u64, Record)>,
        errors: Vec<(u64, String)>,
    }

    impl Sink for Collect {
        fn record(&mut self, line: u64, record: Record) {
            self.records.push((line, record));
        }
        fn invalid(&mut self, line: u64, message: String) -> Result<()> {
            self.errors.push((line, message));
            Ok(())
        }
    }

    fn read_bytes_via_file(name: &str, bytes: &[u8]) -> Collect {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let mut c = Collect::default();
        read_source(
            &Source {
                name: name.into(),
                path: Some(path),
            },
            &mut c,
        )
        .unwrap();
        c
    }

    const RUN: &str =
        r#"{"id":"a","type":"session.status_running","processed_at":"2026-05-04T09:00:00Z"}"#;
    const IDLE: &str =
        r#"{"id":"b","type":"session.status_idle","processed_at":"2026-05-04T10:00:00Z"}"#;

    #[test]
    fn ndjson_with_crlf_bom_blank_lines_and_no_final_newline() {
        let text = format!("\u{feff}{RUN}\r\n\r\n{IDLE}");
        let c = read_bytes_via_file("x.ndjson", text.as_bytes());
        assert_eq!(
            c.records.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert!(c.errors.is_empty());
    }

    #[test]
    fn pretty_page_items_get_their_own_lines() {
        let text =
            format!("{{\n  \"data\": [\n    {RUN},\n    {IDLE}\n  ],\n  \"next_page\": null\n}}\n");
        let c = read_bytes_via_file("page.json", text.as_bytes());
        assert_eq!(
            c.records.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![3, 4]
        );
    }

    #[test]
    fn single_line_pages_inside_ndjson() {
        let text = format!("{{\"data\":[{RUN},{IDLE}],\"next_page\":\"p2\"}}\n");
        let c = read_bytes_via_file("pages.ndjson", text.as_bytes());
        assert_eq!(c.records.len(), 2);
    }

    #[test]
    fn gzip_and_zstd_read_as_plain() {
        use std::io::Write;
        let text = format!("{RUN}\n{IDLE}\n");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        assert_eq!(
            read_bytes_via_file("x.ndjson.gz", &gz.finish().unwrap())
                .records
                .len(),
            2
        );
        let zst = zstd::encode_all(text.as_bytes(), 1).unwrap();
        assert_eq!(read_bytes_via_file("x.ndjson.zst", &zst).records.len(), 2);
        // Past the first 64 KiB a compressed file is streamed, never mapped.
        let n = 5000;
        let big: String = std::iter::repeat_n(format!("{RUN}\n"), n).collect();
        let zst = zstd::encode_all(big.as_bytes(), 1).unwrap();
        let c = read_bytes_via_file("big.ndjson.zst", &zst);
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert_eq!(c.records.len(), n);
    }

    #[test]
    fn errors_carry_their_line_across_chunks() {
        // Enough lines to span several chunks, with a bad one far in.
        let mut text = String::new();
        let n = 3 * CHUNK / RUN.len();
        for i in 0..n {
            if i == n - 7 {
                text.push_str("{\"broken\n");
            } else {
                text.push_str(RUN);
                text.push('\n');
            }
        }
        let c = read_bytes_via_file("big.ndjson", text.as_bytes());
        assert_eq!(c.errors.len(), 1);
        assert_eq!(c.errors[0].0, (n - 6) as u64);
        assert_eq!(c.records.len(), n - 1);
        assert_eq!(c.records.last().unwrap().0, n as u64);
    }

    /// A file of many byte ranges, with lines across every range edge and one line spanning
    /// several ranges, reads exactly as the same bytes in memory do.
    #[test]
    fn file_ranges_read_like_memory() {
        let mut text = String::from("\u{feff}");
        let mut i = 0;
        while text.len() < 12 * CHUNK {
            // Lines of varied length (a few KB), so edges fall anywhere.
            let pad = "x".repeat((i * 7919) % 5000);
            text.push_str(&format!(
                "{{\"id\":\"e{i}\",\"type\":\"agent.message\",\"processed_at\":\"2026-05-04T09:00:00Z\",\"content\":\"{pad}\"}}\n"
            ));
            if i == 500 {
                let huge = "y".repeat(3 * CHUNK + 12345);
                text.push_str(&format!("{{\"id\":\"huge\",\"type\":\"agent.message\",\"processed_at\":\"2026-05-04T09:00:00Z\",\"content\":\"{huge}\"}}\n"));
            }
            i += 1;
        }
        text.push_str(RUN); // no final newline
        let ranged = read_bytes_via_file("big.ndjson", text.as_bytes());
        let mut memory = Collect::default();
        read_bytes(
            text.as_bytes(),
            &Source {
                name: "big.ndjson".into(),
                path: None,
            },
            &mut memory,
        )
        .unwrap();
        assert!(ranged.errors.is_empty(), "{:?}", ranged.errors);
        assert_eq!(ranged.records.len(), i + 2);
        assert_eq!(ranged.records, memory.records);
        // On one core the pipeline starts no threads and reads the same.
        let one_core = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let serial = one_core.install(|| read_bytes_via_file("big.ndjson", text.as_bytes()));
        assert_eq!(serial.records, memory.records);
    }

    /// Lines that end exactly where a range ends: each range starts with a whole line.
    #[test]
    fn file_ranges_starting_on_a_line() {
        let line = |i: usize| {
            let head = format!("{{\"id\":\"e{i}\",\"type\":\"agent.message\",\"processed_at\":\"2026-05-04T09:00:00Z\",\"content\":\"");
            format!("{head}{}\"}}\n", "z".repeat(1024 - head.len() - 3))
        };
        let n = 3 * CHUNK / 1024 + 5;
        let text: String = (0..n).map(line).collect();
        assert_eq!(text.len() % CHUNK, 5 * 1024);
        let c = read_bytes_via_file("aligned.ndjson", text.as_bytes());
        assert!(c.errors.is_empty(), "{:?}", c.errors);
        assert_eq!(c.records.len(), n);
        assert_eq!(c.records.last().unwrap().0, n as u64);
    }

    #[test]
    fn workers_are_reserved_within_the_budget() {
        let reserved = AtomicUsize::new(0);
        // A budget of 4: the first pipeline wants 4 and gets them; the next gets none until
        // 3 are given back, then 3 of the 4 it wants.
        assert_eq!(reserve(&reserved, 4, 4), 4);
        assert_eq!(reserve(&reserved, 4, 4), 0);
        reserved.fetch_sub(3, Ordering::Relaxed);
        assert_eq!(reserve(&reserved, 4, 4), 3);
        assert_eq!(reserved.load(Ordering::Relaxed), 4);
        // Wanting fewer than are free takes only those.
        let reserved = AtomicUsize::new(1);
        assert_eq!(reserve(&reserved, 2, 8), 2);
        assert_eq!(reserved.load(Ordering::Relaxed), 3);
    }

    /// Several large files read at once, in a pool of one thread more than there are cores
    /// (each pipeline alone would want that many workers): the parse workers running at once
    /// never exceed one per core, and every file reads whole. (The peak is over the whole
    /// test process, whose other pipelines share the same budget.)
    #[test]
    fn parse_workers_stay_within_one_per_core_however_many_files_are_read_at_once() {
        use rayon::prelude::*;
        let cores = parse_budget();
        let dir = tempfile::tempdir().unwrap();
        // About 3 chunks each: several units, so each file starts a pipeline.
        let n = 3 * CHUNK / (RUN.len() + 1);
        let text: String = std::iter::repeat_n(format!("{RUN}\n"), n).collect();
        let sources: Vec<Source> = (0..3)
            .map(|i| {
                let path = dir.path().join(format!("big{i}.ndjson"));
                std::fs::write(&path, &text).unwrap();
                Source {
                    name: format!("big{i}.ndjson").into(),
                    path: Some(path),
                }
            })
            .collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(cores + 1)
            .build()
            .unwrap();
        let read: Vec<usize> = pool.install(|| {
            sources
                .par_iter()
                .map(|src| {
                    let mut c = Collect::default();
                    read_source(src, &mut c).unwrap();
                    assert!(c.errors.is_empty(), "{:?}", c.errors);
                    c.records.len()
                })
                .collect()
        });
        assert_eq!(read, [n, n, n]);
        let peak = PEAK.load(Ordering::Relaxed);
        assert!(
            (1..=cores).contains(&peak),
            "{peak} parse workers at once on {cores} core(s)"
        );
    }

    #[test]
    fn directories_are_walked_in_order_and_filtered() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        for f in [
            "b.ndjson",
            "a.jsonl",
            "sub/c.sse",
            "sub/d.json.gz",
            "notes.txt",
            "sub/.ndjson",
        ] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let found = discover(&[dir.path().display().to_string()]).unwrap();
        assert_eq!(
            found_in(dir.path(), &found),
            ["a.jsonl", "b.ndjson", "sub/c.sse", "sub/d.json.gz"]
        );
    }

    /// The paths of the inputs found, under `dir`.
    fn found_in(dir: &Path, found: &Inputs) -> Vec<String> {
        let under = |s: &Source| {
            let path = s.path.as_ref()?.strip_prefix(dir).ok()?;
            Some(path.display().to_string())
        };
        found.iter().map(|s| under(s).unwrap()).collect()
    }

    /// `ln -s . x` twice beside a file, and a subdirectory: every file is found once, and the
    /// loops are noted, not walked (the walk keeps each real directory it entered).
    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_is_walked_once() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let runs = dir.path().join("runs");
        std::fs::create_dir_all(runs.join("sub")).unwrap();
        std::fs::write(runs.join("a.ndjson"), "").unwrap();
        std::fs::write(runs.join("sub/b.ndjson"), "").unwrap();
        symlink(".", runs.join("x")).unwrap();
        symlink(".", runs.join("y")).unwrap();
        symlink("..", runs.join("sub/up")).unwrap();
        let found = discover(&[runs.display().to_string()]).unwrap();
        assert_eq!(found_in(&runs, &found), ["a.ndjson", "sub/b.ndjson"]);
        // x, y and sub/up lead back into runs: three notes, nothing read twice.
        let loops = found
            .passed_over
            .iter()
            .filter(|n| n.contains("a directory already read"))
            .count();
        assert_eq!(loops, 3, "{:?}", found.passed_over);
    }

    #[test]
    fn stem_strips_input_and_compression_extensions() {
        let s = Source {
            name: "x".into(),
            path: Some("runs/sesn_42.ndjson.zst".into()),
        };
        assert_eq!(s.stem(), "sesn_42");
    }
}
