//! Throughput benchmark for `agentmeter meter` (run: `cargo bench --bench throughput`).
//!
//! Inputs, generated once under bench-data/ and reused while their `.meta` file exists:
//!
//! - realistic NDJSON exports of each size in AGENTMETER_BENCH_SIZES (default 1 and 10 GB),
//!   written streamed by one generator: sessions whose bytes are mostly message, thinking and
//!   tool-result content with escapes and non-ASCII text, plus the status, span and web-search
//!   events that the bill depends on;
//! - a zstd (level 3) copy of one export (`.ndjson.zst`, compressed streamed);
//! - a directory of small files (one session of a few KB per file, 1,000 files per
//!   subdirectory), the shape of a fleet's per-session exports.
//!
//! For each input it reports, for the release binary (`meter PATH --format json`, stdout to a
//! file under bench-data/out/ whose totals are checked), MB/s of uncompressed bytes, events/s,
//! sessions/s and peak RSS, beside the floor: a plain single-threaded serde_json loop that
//! parses each line into a small borrowed struct (for .zst it decompresses in the same thread;
//! for the directory it opens and reads each file). Then it times a Monte Carlo projection and
//! prints a markdown summary with the machine and the date. The page cache is warmed before
//! each input, so these are CPU figures, not disk figures.
//!
//! Environment (invalid values are an error):
//!
//! - AGENTMETER_BENCH_SIZES: comma-separated export sizes in GB (GiB), default "1,10"; empty
//!   skips the plain exports. (AGENTMETER_BENCH_GB, the old single size, is used if unset.)
//! - AGENTMETER_BENCH_ZSTD: size in GB of the export to compress and meter as .zst, default 1
//!   (the 1 GB export); 0 skips.
//! - AGENTMETER_BENCH_FILES: number of small files, default 100000; 0 skips.
//! - AGENTMETER_BENCH_RUNS: repetitions, best reported, default 3 (inputs over 4 GB: at most 2).
//! - AGENTMETER_BENCH_MC: 1 (default) times the Monte Carlo projection, 0 skips it.
//!
//! Quick rerun after a change: AGENTMETER_BENCH_SIZES=1 AGENTMETER_BENCH_ZSTD=0
//! AGENTMETER_BENCH_FILES=0 AGENTMETER_BENCH_MC=0 cargo bench --bench throughput

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

mod common;
use common::{env_or, Rng};

/// Mostly plain words, with the escapes and non-ASCII text that real transcripts carry.
const WORDS: [&str; 32] = [
    "revenue",
    "the",
    "quarterly",
    "filing",
    "of",
    "and",
    "report",
    "growth",
    "cash",
    "flow",
    "segment",
    "margin",
    "operating",
    "income",
    "guidance",
    "for",
    "fiscal",
    "year",
    "with",
    "a",
    "data",
    "agent",
    "tool",
    "result",
    r#"\"quoted\""#,
    r"C:\\path",
    "café",
    "日本語",
    "—",
    r"line\n",
    "Zürich",
    "naïve",
];

fn text(rng: &mut Rng, bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 16);
    while s.len() < bytes {
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
        s.push(' ');
    }
    s
}

struct Gen {
    rng: Rng,
    ms: i64,
    n: u64,
    events: u64,
    /// Small sessions (the 100k-file directory): fewer turns and requests, text sizes divided
    /// by `SMALL_DIV`. Large sessions draw exactly the same random numbers as before, so the
    /// `export-v2` files stay byte-identical.
    small: bool,
}

/// Text sizes of small sessions are divided by this.
const SMALL_DIV: usize = 10;

impl Gen {
    fn ts(&mut self, step_ms: u64) -> String {
        self.ms += 1 + self.rng.below(step_ms) as i64;
        let secs = self.ms.div_euclid(1000);
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        // Days since 1970 to a civil date (H. Hinnant).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + (m <= 2) as i64;
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            self.ms.rem_euclid(1000)
        )
    }

    /// Between `min` and `min + spread` bytes of text (divided by `SMALL_DIV` if small).
    fn text(&mut self, min: usize, spread: u64) -> String {
        let n = min + self.rng.below(spread) as usize;
        let n = if self.small { n / SMALL_DIV } else { n };
        text(&mut self.rng, n)
    }

    fn id(&mut self) -> String {
        self.n += 1;
        self.events += 1;
        format!("sevt_{:016x}{:08x}", self.rng.next(), self.n)
    }

    fn session(&mut self, out: &mut impl Write, s: u64) -> std::io::Result<()> {
        let model = ["claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5"][(s % 3) as usize];
        let start = self.ts(3_600_000);
        writeln!(
            out,
            r#"{{"type":"session","id":"sesn_{s:08}","created_at":"{start}","updated_at":"{start}","status":"idle","title":"bench","agent":{{"type":"agent","id":"agent_01","name":"agent-{}","version":3,"model":{{"id":"{model}","speed":"standard"}},"tools":[{{"type":"agent_toolset_20260401"}}],"system":"{}"}},"usage":{{"input_tokens":0,"output_tokens":0,"cache_read_input_tokens":0,"cache_creation":{{"ephemeral_5m_input_tokens":3,"ephemeral_1h_input_tokens":1}}}}}}"#,
            s % 7,
            text(&mut self.rng, if self.small { 60 } else { 300 })
        )?;
        let turns = if self.small {
            1 + self.rng.below(2)
        } else {
            3 + self.rng.below(6)
        };
        for _ in 0..turns {
            let (id, t) = (self.id(), self.ts(60_000));
            writeln!(
                out,
                r#"{{"id":"{id}","type":"user.message","processed_at":"{t}","content":[{{"type":"text","text":"{}"}}]}}"#,
                self.text(200, 2000)
            )?;
            let (id, t) = (self.id(), self.ts(1000));
            writeln!(
                out,
                r#"{{"id":"{id}","type":"session.status_running","processed_at":"{t}"}}"#
            )?;
            let requests = if self.small {
                1 + self.rng.below(3)
            } else {
                2 + self.rng.below(8)
            };
            for _ in 0..requests {
                let (id, t) = (self.id(), self.ts(5000));
                writeln!(
                    out,
                    r#"{{"id":"{id}","type":"span.model_request_start","processed_at":"{t}"}}"#
                )?;
                let (start_id, id, t) = (id, self.id(), self.ts(20_000));
                let (i, o, w, r) = (
                    self.rng.below(9000),
                    self.rng.below(4000),
                    self.rng.below(4) * 1024,
                    self.rng.below(60_000),
                );
                writeln!(
                    out,
                    r#"{{"id":"{id}","type":"span.model_request_end","processed_at":"{t}","model_request_start_id":"{start_id}","is_error":false,"model_usage":{{"input_tokens":{i},"output_tokens":{o},"cache_creation_input_tokens":{w},"cache_read_input_tokens":{r},"speed":"standard"}}}}"#
                )?;
                let (id, t) = (self.id(), self.ts(500));
                writeln!(
                    out,
                    r#"{{"id":"{id}","type":"agent.thinking","processed_at":"{t}","content":[{{"type":"thinking","thinking":"{}"}}]}}"#,
                    self.text(500, 3000)
                )?;
                let tool = if self.rng.below(5) == 0 {
                    "web_search"
                } else {
                    "bash"
                };
                let (use_id, t) = (self.id(), self.ts(500));
                writeln!(
                    out,
                    r#"{{"id":"{use_id}","type":"agent.tool_use","processed_at":"{t}","name":"{tool}","input":{{"command":"{}"}}}}"#,
                    text(&mut self.rng, 80)
                )?;
                let (id, t) = (self.id(), self.ts(3000));
                let err = self.rng.below(10) == 0;
                writeln!(
                    out,
                    r#"{{"id":"{id}","type":"agent.tool_result","processed_at":"{t}","tool_use_id":"{use_id}","is_error":{err},"content":[{{"type":"text","text":"{}"}}]}}"#,
                    self.text(1000, 12_000)
                )?;
            }
            let (id, t) = (self.id(), self.ts(500));
            writeln!(
                out,
                r#"{{"id":"{id}","type":"agent.message","processed_at":"{t}","content":[{{"type":"text","text":"{}"}}]}}"#,
                self.text(500, 4000)
            )?;
            let (id, t) = (self.id(), self.ts(500));
            writeln!(
                out,
                r#"{{"id":"{id}","type":"session.status_idle","processed_at":"{t}","stop_reason":{{"type":"end_turn"}}}}"#
            )?;
            self.ms += self.rng.below(600_000) as i64;
        }
        Ok(())
    }
}

const GIB: f64 = (1u64 << 30) as f64;

/// Files per subdirectory of the small-file input.
const PER_DIR: u64 = 1000;

/// The numbers stored beside an input (`PATH.meta`): events, sessions[, bytes]. None unless
/// both the input and its .meta exist (an input without .meta is an interrupted write).
fn read_meta(path: &Path) -> Option<Vec<u64>> {
    std::fs::symlink_metadata(path).ok()?;
    let m = std::fs::read_to_string(path.with_extension("meta")).ok()?;
    let v: Vec<u64> = m
        .split_whitespace()
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    (v.len() >= 2).then_some(v)
}

/// Write the export (streamed) unless it exists; returns (events, sessions).
fn generate(path: &Path, bytes: u64) -> std::io::Result<(u64, u64)> {
    if let Some(m) = read_meta(path) {
        return Ok((m[0], m[1]));
    }
    std::fs::create_dir_all(path.parent().unwrap())?;
    eprintln!(
        "generating {} ({} MB)...",
        path.display(),
        bytes / 1_000_000
    );
    let t = Instant::now();
    let file = File::create(path)?;
    let mut out = BufWriter::with_capacity(
        1 << 20,
        CountingWriter {
            inner: file,
            written: 0,
        },
    );
    let mut g = Gen {
        rng: Rng::from_state(0x9E37_79B9_7F4A_7C15),
        ms: 1_781_085_600_000,
        n: 0,
        events: 0,
        small: false,
    };
    let mut sessions = 0;
    let mut report = 1u64 << 30;
    while out.get_ref().written < bytes {
        g.session(&mut out, sessions)?;
        sessions += 1;
        if out.get_ref().written >= report {
            eprintln!("  {} GiB", report >> 30);
            report += 1 << 30;
        }
    }
    out.flush()?;
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "  done in {secs:.1} s ({:.0} MB/s)",
        out.get_ref().written as f64 / 1e6 / secs
    );
    std::fs::write(
        path.with_extension("meta"),
        format!("{} {}", g.events, sessions),
    )?;
    Ok((g.events, sessions))
}

struct CountingWriter {
    inner: File,
    written: u64,
}

impl Write for CountingWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(b)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Compress `src` to `dst` (zstd level 3, streamed) unless `dst` exists; returns its size.
/// Written to `dst.tmp` and renamed, so an existing `dst` is complete.
fn compress(src: &Path, dst: &Path) -> std::io::Result<u64> {
    if let Ok(m) = std::fs::metadata(dst) {
        return Ok(m.len());
    }
    eprintln!("compressing {} (zstd level 3)...", src.display());
    let t = Instant::now();
    let tmp = dst.with_extension("zst.tmp");
    let out = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
    let mut enc = zstd::stream::write::Encoder::new(out, 3)?;
    let mut input = File::open(src)?;
    let mut buf = vec![0u8; 4 << 20];
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        enc.write_all(&buf[..n])?;
    }
    enc.finish()?
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()?;
    std::fs::rename(&tmp, dst)?;
    let size = std::fs::metadata(dst)?.len();
    eprintln!(
        "  done in {:.1} s: {} MB",
        t.elapsed().as_secs_f64(),
        size / 1_000_000
    );
    Ok(size)
}

/// Write `count` small files (one session each, 1,000 per subdirectory) unless they exist;
/// returns (events, sessions, bytes). Sessions are generated into a buffer and written with
/// one call per file, on all cores; each subdirectory has its own seed, so the files do not
/// depend on the number of threads.
fn generate_files(dir: &Path, count: u64) -> std::io::Result<(u64, u64, u64)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    if let Some(m) = read_meta(dir).filter(|m| m.len() >= 3) {
        return Ok((m[0], m[1], m[2]));
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)?; // an interrupted run's files
    }
    eprintln!("generating {count} files under {}...", dir.display());
    let t = Instant::now();
    let dirs = count.div_ceil(PER_DIR);
    let width = (dirs - 1).to_string().len().max(3);
    let next = AtomicU64::new(0);
    let work = || -> std::io::Result<(u64, u64)> {
        let mut buf = Vec::with_capacity(64 << 10);
        let (mut events, mut bytes) = (0, 0);
        loop {
            let d = next.fetch_add(1, Ordering::Relaxed);
            if d >= dirs {
                return Ok((events, bytes));
            }
            let sub = dir.join(format!("{d:0width$}"));
            std::fs::create_dir_all(&sub)?;
            let mut g = Gen {
                rng: Rng::from_state(
                    0x2545_F491_4F6C_DD1D ^ (d + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                ),
                ms: 1_781_085_600_000 + d as i64 * 3_600_000,
                n: 0,
                events: 0,
                small: true,
            };
            for s in d * PER_DIR..((d + 1) * PER_DIR).min(count) {
                buf.clear();
                g.session(&mut buf, s)?;
                std::fs::write(sub.join(format!("sesn_{s:08}.ndjson")), &buf)?;
                bytes += buf.len() as u64;
            }
            events += g.events;
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (events, bytes) = std::thread::scope(|sc| {
        let handles: Vec<_> = (0..threads).map(|_| sc.spawn(work)).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .try_fold((0, 0), |a, r| r.map(|(e, b)| (a.0 + e, a.1 + b)))
    })?;
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "  done in {secs:.1} s ({:.0} files/s, {} MB)",
        count as f64 / secs,
        bytes / 1_000_000
    );
    std::fs::write(
        dir.with_extension("meta"),
        format!("{events} {count} {bytes}"),
    )?;
    Ok((events, count, bytes))
}

/// The small-file input's files, in the order `meter` reads them (sorted).
fn files_of(dir: &Path) -> Vec<PathBuf> {
    let sorted = |d: &Path| {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    sorted(dir).iter().flat_map(|d| sorted(d)).collect()
}

/// What the floor parses each line into.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Small<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    processed_at: Option<Cow<'a, str>>,
}

/// Parse the complete lines of `buf`; returns (lines, bytes consumed).
fn parse_lines(buf: &[u8]) -> (u64, usize) {
    let (mut lines, mut at) = (0, 0);
    for nl in memchr::memchr_iter(b'\n', buf) {
        let s: Small = serde_json::from_slice(&buf[at..nl]).unwrap();
        std::hint::black_box(&s);
        lines += 1;
        at = nl + 1;
    }
    (lines, at)
}

/// Parse a last line without a newline, if any.
fn parse_rest(rest: &[u8]) -> u64 {
    if rest.iter().all(u8::is_ascii_whitespace) {
        return 0;
    }
    let s: Small = serde_json::from_slice(rest).unwrap();
    std::hint::black_box(&s);
    1
}

/// The floor on a stream: read 8 MiB at a time, parse each line; returns lines.
fn floor_stream(mut r: impl Read) -> u64 {
    let mut buf = vec![0u8; 8 << 20];
    let mut carry = Vec::new();
    let mut lines = 0u64;
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        carry.extend_from_slice(&buf[..n]);
        let (l, at) = parse_lines(&carry);
        lines += l;
        carry.drain(..at);
    }
    lines + parse_rest(&carry)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Plain,
    Zst,
    Dir,
}

struct Input {
    /// Input cell of the summary table.
    name: String,
    path: PathBuf,
    kind: Kind,
    /// Uncompressed bytes.
    bytes: u64,
    /// Bytes on disk (compressed for .zst).
    stored: u64,
    events: u64,
    sessions: u64,
    /// Names bench-data/out/meter-TAG.json.
    tag: String,
}

impl Input {
    fn floor_label(&self) -> &'static str {
        match self.kind {
            Kind::Plain => "serde floor (1 thread: read + parse each line)",
            Kind::Zst => "serde floor (1 thread: zstd decode + parse each line, same thread)",
            Kind::Dir => "serde floor (1 thread: open + read + parse each file)",
        }
    }

    /// The floor: one thread, each line parsed into a small borrowed struct; returns
    /// (seconds, lines).
    fn floor(&self) -> (f64, u64) {
        let start = Instant::now();
        let lines = match self.kind {
            Kind::Plain => floor_stream(File::open(&self.path).unwrap()),
            Kind::Zst => floor_stream(
                zstd::stream::read::Decoder::new(File::open(&self.path).unwrap()).unwrap(),
            ),
            Kind::Dir => {
                let mut buf = Vec::with_capacity(1 << 20);
                let mut lines = 0;
                for p in files_of(&self.path) {
                    buf.clear();
                    File::open(&p).unwrap().read_to_end(&mut buf).unwrap();
                    let (l, at) = parse_lines(&buf);
                    lines += l + parse_rest(&buf[at..]);
                }
                lines
            }
        };
        (start.elapsed().as_secs_f64(), lines)
    }

    /// Read the stored bytes once, so that every reader starts with a warm page cache.
    fn warm(&self) {
        let mut buf = vec![0u8; 8 << 20];
        let mut read_all = |p: &Path| {
            let mut f = File::open(p).unwrap();
            while f.read(&mut buf).unwrap() > 0 {}
        };
        match self.kind {
            Kind::Plain | Kind::Zst => read_all(&self.path),
            Kind::Dir => files_of(&self.path).iter().for_each(|p| read_all(p)),
        }
    }
}

struct Measured {
    runs: usize,
    floor: f64,
    meter: f64,
    rss_kib: i64,
    /// The meter's output had the expected sessions and no invalid records.
    ok: bool,
}

/// Run the binary, stdout to `stdout`; returns (seconds, peak RSS in KiB).
fn timed_to(bin: &str, args: &[&str], stdout: Stdio) -> (f64, i64) {
    let mut cmd = Command::new(bin);
    cmd.args(args).stdout(stdout).stderr(Stdio::inherit());
    let u = common::run_timed(&mut cmd).unwrap_or_else(|e| panic!("{e}"));
    (u.secs, u.rss_kib)
}

/// Check the meter's JSON: the expected number of sessions and nothing skipped.
fn check_output(out: &Path, sessions: u64) -> bool {
    #[derive(serde::Deserialize)]
    struct Doc {
        totals: Totals,
        dropped: Dropped,
    }
    #[derive(serde::Deserialize)]
    struct Totals {
        sessions: u64,
    }
    #[derive(serde::Deserialize)]
    struct Dropped {
        invalid_records: u64,
    }
    let doc: Doc = serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap();
    let ok = doc.totals.sessions == sessions && doc.dropped.invalid_records == 0;
    if !ok {
        eprintln!(
            "CHECK FAILED: {}: {} sessions (expected {sessions}), {} invalid records",
            out.display(),
            doc.totals.sessions,
            doc.dropped.invalid_records
        );
    }
    ok
}

fn measure(bin: &str, input: &Input, runs: usize, out_dir: &Path) -> Measured {
    let mb = input.bytes as f64 / 1e6;
    let compressed = match input.kind {
        Kind::Zst => format!(" ({} MB compressed)", sep(input.stored as f64 / 1e6)),
        _ => String::new(),
    };
    println!(
        "\n{}: {} MB{compressed}, {} events, {} sessions; best of {runs}",
        input.path.display(),
        sep(mb),
        sep(input.events as f64),
        sep(input.sessions as f64),
    );
    input.warm();
    let mut floor = f64::MAX;
    for _ in 0..runs {
        let (t, lines) = input.floor();
        assert_eq!(
            lines,
            input.events + input.sessions,
            "the floor read {lines} lines, expected events + session objects"
        );
        floor = floor.min(t);
    }
    println!(
        "  {:<68} {:>7} MB/s {:>11} events/s",
        input.floor_label(),
        sep(mb / floor),
        sep(input.events as f64 / floor)
    );
    let out = out_dir.join(format!("meter-{}.json", input.tag));
    let path = input.path.to_str().unwrap();
    let mut best = (f64::MAX, 0);
    for _ in 0..runs {
        let stdout = Stdio::from(File::create(&out).unwrap());
        let r = timed_to(bin, &["meter", path, "--format", "json"], stdout);
        if r.0 < best.0 {
            best = r;
        }
    }
    let ok = check_output(&out, input.sessions);
    let (t, rss) = best;
    println!(
        "  {:<68} {:>7} MB/s {:>11} events/s {:>9} sessions/s, peak RSS {:.0} MiB ({:.2}x the floor){}",
        "agentmeter meter --format json",
        sep(mb / t),
        sep(input.events as f64 / t),
        sep(input.sessions as f64 / t),
        rss as f64 / 1024.0,
        floor / t,
        if ok { "" } else { " CHECK FAILED" }
    );
    Measured {
        runs,
        floor,
        meter: t,
        rss_kib: rss,
        ok,
    }
}

struct McResult {
    runs: usize,
    sessions: u64,
    secs: f64,
    rss_kib: i64,
}

/// Monte Carlo: project the bench scenario (every session simulated one by one).
fn montecarlo(bin: &str, root: &Path, runs: usize) -> McResult {
    let scenario = root.join("benches/montecarlo.toml");
    let out = root.join("bench-data/montecarlo.json");
    let mut best = (f64::MAX, 0);
    for _ in 0..runs {
        let file = File::create(&out).unwrap();
        let r = timed_to(
            bin,
            &[
                "project",
                scenario.to_str().unwrap(),
                "--runs",
                "200",
                "--format",
                "json",
            ],
            Stdio::from(file),
        );
        if r.0 < best.0 {
            best = r;
        }
    }
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let sessions = doc["simulated_sessions"].as_u64().unwrap_or(0);
    println!(
        "\nagentmeter project (Monte Carlo, 200 runs): {} sessions in {:.2} s = {} simulated sessions/s, peak RSS {:.0} MiB",
        sep(sessions as f64),
        best.0,
        sep(sessions as f64 / best.0),
        best.1 as f64 / 1024.0
    );
    McResult {
        runs,
        sessions,
        secs: best.0,
        rss_kib: best.1,
    }
}

/// `n` rounded, with thousands separators.
fn sep(n: f64) -> String {
    agentmeter::money::count(n.max(0.0).round() as u64)
}

/// AGENTMETER_BENCH_SIZES (GB, comma-separated; set but empty: none), else
/// AGENTMETER_BENCH_GB, else 1 and 10.
fn sizes() -> Vec<f64> {
    let list = match std::env::var("AGENTMETER_BENCH_SIZES") {
        Ok(v) => v,
        Err(_) => std::env::var("AGENTMETER_BENCH_GB").unwrap_or_else(|_| "1,10".into()),
    };
    let mut out = Vec::new();
    for s in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let gb: f64 = s
            .parse()
            .ok()
            .filter(|g: &f64| g.is_finite() && *g > 0.0)
            .unwrap_or_else(|| panic!("AGENTMETER_BENCH_SIZES: {s:?} is not a size in GB"));
        if !out.contains(&gb) {
            out.push(gb);
        }
    }
    out
}

fn export_path(root: &Path, gb: f64) -> PathBuf {
    root.join(format!("bench-data/export-v2-{gb}g.ndjson"))
}

/// Free bytes for an unprivileged user on the file system of `dir` (statvfs).
fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid C string and a valid out pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
    let (blocks, size) = (s.f_bavail as u64, s.f_frsize as u64);
    Some(blocks * size)
}

/// Bytes still to write for the inputs that do not exist yet; exits if they do not fit.
fn check_disk(data: &Path, exports: &[f64], zst: Option<f64>, files: u64) {
    let mut need: Vec<(String, u64)> = Vec::new();
    for &gb in exports {
        let path = export_path(data.parent().unwrap(), gb);
        if read_meta(&path).is_none() {
            let partial = std::fs::metadata(&path).map_or(0, |m| m.len());
            let bytes = (gb * GIB) as u64;
            need.push((path.display().to_string(), bytes.saturating_sub(partial)));
        }
    }
    if let Some(gb) = zst {
        let path = export_path(data.parent().unwrap(), gb).with_extension("ndjson.zst");
        if !path.exists() {
            // Measured ratio on this data: about 0.3; 0.4 for safety.
            need.push((path.display().to_string(), (gb * GIB * 0.4) as u64));
        }
    }
    if files > 0 {
        let dir = data.join(format!("files-v1-{files}"));
        if read_meta(&dir).is_none() {
            // ~7 KB a file, in 4 KiB blocks, plus directories.
            need.push((dir.display().to_string(), files * 12 * 1024));
        }
    }
    let margin = 1u64 << 30; // meter outputs, temporary files, and room to breathe
    let total: u64 = need.iter().map(|n| n.1).sum::<u64>();
    let Some(free) = free_bytes(data) else {
        eprintln!(
            "warning: could not read the free disk space of {}",
            data.display()
        );
        return;
    };
    let gb = |b: u64| b as f64 / 1e9;
    if total == 0 {
        println!("inputs: all present ({:.1} GB free)", gb(free));
        return;
    }
    println!(
        "to generate: {:.1} GB (+{:.1} GB margin); {:.1} GB free on {}",
        gb(total),
        gb(margin),
        gb(free),
        data.display()
    );
    if total + margin > free {
        eprintln!(
            "\nNOT ENOUGH DISK SPACE: the inputs to generate need about {:.1} GB (+{:.1} GB margin), only {:.1} GB are free on {}:",
            gb(total),
            gb(margin),
            gb(free),
            data.display()
        );
        for (what, bytes) in &need {
            eprintln!("  {what}: {:.1} GB", gb(*bytes));
        }
        eprintln!(
            "Free some space, or select fewer/smaller inputs (AGENTMETER_BENCH_SIZES, AGENTMETER_BENCH_ZSTD, AGENTMETER_BENCH_FILES)."
        );
        std::process::exit(1);
    }
}

/// "AMD EPYC, 2 cores, 23.5 GiB RAM, Linux 6.1, rustc 1.95.0".
fn machine() -> String {
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-V")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.split_whitespace().nth(1).map(str::to_string))
        .map_or(String::new(), |v| format!(", rustc {v}"));
    format!("{}{rustc}", common::machine())
}

fn main() {
    let started = Instant::now();
    let sizes = sizes();
    let zst: f64 = env_or("AGENTMETER_BENCH_ZSTD", 1.0);
    let zst = (zst > 0.0).then_some(zst);
    let files: u64 = env_or("AGENTMETER_BENCH_FILES", 100_000);
    let runs: usize = env_or("AGENTMETER_BENCH_RUNS", 3).max(1);
    let mc = env_or("AGENTMETER_BENCH_MC", 1u8) != 0;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let data = root.join("bench-data");
    let out_dir = data.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let bin = env!("CARGO_BIN_EXE_agentmeter");

    // The exports to generate (the .zst's source too), smallest first.
    let mut exports = sizes.clone();
    if let Some(gb) = zst.filter(|gb| !exports.contains(gb)) {
        exports.push(gb);
    }
    exports.sort_by(f64::total_cmp);
    check_disk(&data, &exports, zst, files);

    let mut meta = std::collections::HashMap::new();
    for &gb in &exports {
        let path = export_path(&root, gb);
        let (events, sessions) = generate(&path, (gb * GIB) as u64).unwrap();
        meta.insert(gb.to_bits(), (path, events, sessions));
    }
    let mut inputs = Vec::new();
    for &gb in &sizes {
        let (path, events, sessions) = meta[&gb.to_bits()].clone();
        let bytes = std::fs::metadata(&path).unwrap().len();
        inputs.push(Input {
            name: format!(
                "NDJSON {gb} GB: {} MB, {} events, {} sessions",
                sep(bytes as f64 / 1e6),
                sep(events as f64),
                sep(sessions as f64)
            ),
            path,
            kind: Kind::Plain,
            bytes,
            stored: bytes,
            events,
            sessions,
            tag: format!("{gb}g"),
        });
    }
    if let Some(gb) = zst {
        let (src, events, sessions) = meta[&gb.to_bits()].clone();
        let path = src.with_extension("ndjson.zst");
        let stored = compress(&src, &path).unwrap();
        let bytes = std::fs::metadata(&src).unwrap().len();
        inputs.push(Input {
            name: format!(
                "NDJSON {gb} GB, zstd -3: {} MB ({} MB compressed), {} events, {} sessions",
                sep(bytes as f64 / 1e6),
                sep(stored as f64 / 1e6),
                sep(events as f64),
                sep(sessions as f64)
            ),
            path,
            kind: Kind::Zst,
            bytes,
            stored,
            events,
            sessions,
            tag: format!("{gb}g-zst"),
        });
    }
    if files > 0 {
        let dir = data.join(format!("files-v1-{files}"));
        let (events, sessions, bytes) = generate_files(&dir, files).unwrap();
        inputs.push(Input {
            name: format!(
                "{} files (1 session each, {} dirs): {} MB, {} events",
                sep(files as f64),
                sep(files.div_ceil(PER_DIR) as f64),
                sep(bytes as f64 / 1e6),
                sep(events as f64)
            ),
            path: dir,
            kind: Kind::Dir,
            bytes,
            stored: bytes,
            events,
            sessions,
            tag: format!("files-{files}"),
        });
    }

    let machine = machine();
    println!("\nmachine: {machine}");
    // First, while this process is small: a child started by vfork (as Command does) reports
    // its parent's peak RSS as its own when that is higher.
    let mc = mc.then(|| montecarlo(bin, &root, runs));
    let mut results = Vec::new();
    for input in &inputs {
        // The 10 GB input: fewer runs (each takes seconds, and the page cache is warm anyway).
        let r = if input.bytes > 4_000_000_000 {
            runs.min(2)
        } else {
            runs
        };
        results.push(measure(bin, input, r, &out_dir));
    }

    println!("\n---- summary (markdown) ----\n");
    println!(
        "Measured {} on {machine}; page cache warm, best of the runs shown. MB = 10^6 bytes of \
         uncompressed input; `meter` is `agentmeter meter PATH --format json` (all cores); \
         the floor is one thread parsing each line into a small borrowed struct with serde_json.\n",
        chrono::Utc::now().format("%Y-%m-%d")
    );
    if !inputs.is_empty() {
        println!(
            "| input | reader | runs | throughput | events/s | sessions/s | peak RSS | vs floor |"
        );
        println!("|---|---|---:|---:|---:|---:|---:|---:|");
    }
    for (input, m) in inputs.iter().zip(&results) {
        let mb = input.bytes as f64 / 1e6;
        println!(
            "| {} | {} | {} | {} MB/s | {} | | | |",
            input.name,
            input.floor_label(),
            m.runs,
            sep(mb / m.floor),
            sep(input.events as f64 / m.floor)
        );
        println!(
            "| | `agentmeter meter`{} | {} | **{} MB/s** | {} | {} | {:.0} MiB | {:.2}x |",
            if m.ok { "" } else { " (CHECK FAILED)" },
            m.runs,
            sep(mb / m.meter),
            sep(input.events as f64 / m.meter),
            sep(input.sessions as f64 / m.meter),
            m.rss_kib as f64 / 1024.0,
            m.floor / m.meter
        );
    }
    if let Some(m) = &mc {
        println!(
            "\nMonte Carlo (`benches/montecarlo.toml`, 200 runs, best of {}): **{} simulated sessions/s** \
             ({} sessions in {:.2} s), peak RSS {:.0} MiB.",
            m.runs,
            sep(m.sessions as f64 / m.secs),
            sep(m.sessions as f64),
            m.secs,
            m.rss_kib as f64 / 1024.0
        );
    }
    println!(
        "\n(bench wall time {:.0} s)",
        started.elapsed().as_secs_f64()
    );
    if results.iter().any(|m| !m.ok) {
        eprintln!("some meter outputs failed their check (see CHECK FAILED above)");
        std::process::exit(1);
    }
}
