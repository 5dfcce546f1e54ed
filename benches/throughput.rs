//! Throughput benchmark for `agentmeter meter` (run: `cargo bench --bench throughput`).
//!
//! Generates (once, streamed, under bench-data/) a realistic export: sessions whose bytes are
//! mostly message, thinking and tool-result content with escapes and non-ASCII text, plus the
//! status, span and web-search events that the bill depends on. Then reports, for the release
//! binary, MB/s, events/s, sessions/s and peak RSS, beside the floor: a plain single-threaded
//! serde_json loop that parses each line into a small borrowed struct.
//!
//! Environment: AGENTMETER_BENCH_GB (default 1) sets the export size; AGENTMETER_BENCH_RUNS
//! (default 3) the repetitions (the best run is reported).

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

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
}

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

    /// Between `min` and `min + spread` bytes of text.
    fn text(&mut self, min: usize, spread: u64) -> String {
        let n = min + self.rng.below(spread) as usize;
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
            text(&mut self.rng, 300)
        )?;
        let turns = 3 + self.rng.below(6);
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
            for _ in 0..(2 + self.rng.below(8)) {
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

/// Write the export (streamed) unless it exists; returns (events, sessions).
fn generate(path: &Path, bytes: u64) -> std::io::Result<(u64, u64)> {
    let meta = path.with_extension("meta");
    if let (Ok(_), Ok(m)) = (std::fs::metadata(path), std::fs::read_to_string(&meta)) {
        let mut it = m.split_whitespace().map(|x| x.parse::<u64>().unwrap_or(0));
        return Ok((it.next().unwrap_or(0), it.next().unwrap_or(0)));
    }
    std::fs::create_dir_all(path.parent().unwrap())?;
    eprintln!("generating {} ({} MB)...", path.display(), bytes >> 20);
    let file = File::create(path)?;
    let mut out = BufWriter::with_capacity(
        1 << 20,
        CountingWriter {
            inner: file,
            written: 0,
        },
    );
    let mut g = Gen {
        rng: Rng(0x9E37_79B9_7F4A_7C15),
        ms: 1_781_085_600_000,
        n: 0,
        events: 0,
    };
    let mut sessions = 0;
    while out.get_ref().written < bytes {
        g.session(&mut out, sessions)?;
        sessions += 1;
    }
    out.flush()?;
    std::fs::write(meta, format!("{} {}", g.events, sessions))?;
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

/// The floor: one thread, each line parsed into a small borrowed struct.
fn serde_floor(path: &Path) -> (f64, u64) {
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
    let start = Instant::now();
    let mut f = File::open(path).unwrap();
    let mut buf = vec![0u8; 8 << 20];
    let mut carry = Vec::new();
    let mut lines = 0u64;
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        carry.extend_from_slice(&buf[..n]);
        let mut start_at = 0;
        for nl in memchr::memchr_iter(b'\n', &carry) {
            let s: Small = serde_json::from_slice(&carry[start_at..nl]).unwrap();
            std::hint::black_box(&s);
            lines += 1;
            start_at = nl + 1;
        }
        carry.drain(..start_at);
    }
    (start.elapsed().as_secs_f64(), lines)
}

/// Run the binary; returns (seconds, peak RSS in KiB).
fn timed(bin: &str, args: &[&str]) -> (f64, i64) {
    timed_to(bin, args, Stdio::null())
}

fn timed_to(bin: &str, args: &[&str], stdout: Stdio) -> (f64, i64) {
    let start = Instant::now();
    let child = Command::new(bin)
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child, with valid pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let secs = start.elapsed().as_secs_f64();
    assert!(
        r == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "agentmeter failed"
    );
    std::mem::forget(child);
    (secs, usage.ru_maxrss)
}

/// Monte Carlo: project the bench scenario (every session simulated one by one).
fn montecarlo(bin: &str, root: &Path, runs: usize) {
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
        "agentmeter project (Monte Carlo, 200 runs):   {sessions} sessions in {:.2} s = {:.0} simulated sessions/s, peak RSS {:.0} MB",
        best.0,
        sessions as f64 / best.0,
        best.1 as f64 / 1024.0
    );
}

fn main() {
    let gb: f64 = std::env::var("AGENTMETER_BENCH_GB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let runs: usize = std::env::var("AGENTMETER_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = root.join(format!("bench-data/export-v2-{gb}g.ndjson"));
    let (events, sessions) = generate(&path, (gb * (1u64 << 30) as f64) as u64).unwrap();
    let size = std::fs::metadata(&path).unwrap().len() as f64;
    let mb = size / 1e6;
    let bin = env!("CARGO_BIN_EXE_agentmeter");
    let file = path.to_str().unwrap();
    println!(
        "input: {file}: {mb:.0} MB, {events} events, {sessions} sessions; {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    // Warm the page cache so both readers start equal.
    let _ = serde_floor(&path);
    let floor = (0..runs)
        .map(|_| serde_floor(&path).0)
        .fold(f64::MAX, f64::min);
    println!(
        "serde floor (1 thread, small borrowed struct): {:>7.0} MB/s {:>11.0} events/s",
        mb / floor,
        events as f64 / floor
    );
    let mut best = (f64::MAX, 0);
    for _ in 0..runs {
        let (t, rss) = timed(bin, &["meter", file, "--format", "json"]);
        if t < best.0 {
            best = (t, rss);
        }
    }
    let (t, rss) = best;
    println!(
        "agentmeter meter --format json:                {:>7.0} MB/s {:>11.0} events/s {:>9.0} sessions/s, peak RSS {:.0} MB ({:.2}x the floor)",
        mb / t,
        events as f64 / t,
        sessions as f64 / t,
        rss as f64 / 1024.0,
        floor / t
    );
    montecarlo(bin, &root, runs);
}
