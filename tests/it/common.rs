//! Helpers: build exports, run the real binary, meter through the library.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::str::FromStr;

use agentmeter::error::Skipped;
use agentmeter::ingest;
use agentmeter::meter::{meter, MeterOptions};
use agentmeter::pricing::PriceTable;
use agentmeter::rate::{RatedSession, Rater};
use agentmeter::time::Zone;
use rust_decimal::Decimal;
use serde_json::{json, Value};

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_agentmeter"))
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out: Output = bin().args(args).output().expect("run agentmeter");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|_| panic!("not a decimal: {s}"))
}

/// A session object for `id` running `model` (optionally with a 5m/1h usage split).
pub fn session(id: &str, model: &str) -> Value {
    json!({"type": "session", "id": id, "created_at": "2026-06-01T00:00:00Z", "updated_at": "2026-06-01T00:00:00Z",
           "status": "idle", "agent": {"type": "agent", "id": "agent_1", "name": "researcher", "model": {"id": model, "speed": "standard"}}})
}

pub fn ev(id: &str, kind: &str, at: &str) -> Value {
    json!({"id": id, "type": kind, "processed_at": at})
}

pub fn with(mut v: Value, extra: Value) -> Value {
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        for (k, x) in e {
            o.insert(k.clone(), x.clone());
        }
    }
    v
}

pub fn request(
    id: &str,
    at: &str,
    input: u64,
    output: u64,
    cache_write: u64,
    cache_read: u64,
) -> Value {
    with(
        ev(id, "span.model_request_end", at),
        json!({"is_error": false, "model_usage": {"input_tokens": input, "output_tokens": output,
               "cache_creation_input_tokens": cache_write, "cache_read_input_tokens": cache_read}}),
    )
}

pub fn ndjson(records: &[Value]) -> String {
    records.iter().map(|r| r.to_string() + "\n").collect()
}

pub struct Tmp(pub tempfile::TempDir);

impl Tmp {
    pub fn new() -> Self {
        Tmp(tempfile::tempdir().unwrap())
    }
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.path().join(name);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

/// Meter and rate files through the library, as `meter` does.
pub fn bill_files(
    paths: &[PathBuf],
    opts: &MeterOptions,
    table: &PriceTable,
    zone: Zone,
) -> (Vec<RatedSession>, Vec<Skipped>) {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let sources = ingest::discover(&names).unwrap();
    let metered = meter(&sources, opts).unwrap();
    let rater = Rater::new(table, zone);
    let mut skipped = metered.summary.skipped.kept;
    let mut out = Vec::new();
    for u in metered.sessions {
        let (s, p) = rater.rate(u);
        skipped.extend(p);
        out.push(s);
    }
    (out, skipped)
}

/// Meter one NDJSON text with the bundled prices; asserts nothing was skipped.
pub fn bill(text: &str) -> Vec<RatedSession> {
    bill_with(
        text,
        &MeterOptions::default(),
        &PriceTable::bundled().unwrap(),
    )
}

pub fn bill_with(text: &str, opts: &MeterOptions, table: &PriceTable) -> Vec<RatedSession> {
    let tmp = Tmp::new();
    let p = tmp.write("export.ndjson", text);
    let (s, skipped) = bill_files(&[p], opts, table, Zone::default());
    assert!(skipped.is_empty(), "{skipped:#?}");
    s
}

/// The bundled table with `extra` TOML appended (extra rows, models, etc.).
pub fn table_plus(extra: &str) -> PriceTable {
    PriceTable::parse(
        &format!("{}\n{extra}", agentmeter::pricing::BUNDLED),
        "test.toml",
    )
    .unwrap()
}

/// Wait for `child` at most `secs`; past that it is killed and the test fails (a run that
/// opened a FIFO, say, would wait forever for a reader).
pub fn wait_within(child: &mut std::process::Child, secs: u64) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for agentmeter") {
            return status;
        }
        if start.elapsed().as_secs() >= secs {
            let _ = child.kill();
            let _ = child.wait();
            panic!("agentmeter still ran after {secs} s: killed");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// [`run`] bounded in time by [`wait_within`], stdin closed.
pub fn run_within<I, S>(secs: u64, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = bin();
    cmd.args(args).stdin(std::process::Stdio::null());
    run_cmd_within(&mut cmd, secs)
}

/// Run `cmd` to its end, or kill it and fail after `secs`: a hang is a failure, not a stuck
/// suite. Its output is drained as it comes, so a full pipe never stalls it.
pub fn run_cmd_within(cmd: &mut Command, secs: u64) -> Run {
    use std::io::Read;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run agentmeter");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = r.read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let status = wait_within(&mut child, secs);
    Run {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// Run the binary with a wall-clock limit and an address-space limit (`ulimit -v`), so a
/// regression to a hang or a blow-up fails the test instead of stalling or eating the machine.
pub fn run_bounded<I, S>(args: I, secs: u64, mem_mib: u64) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {}; exec \"$0\" \"$@\"", mem_mib * 1024))
        .arg(env!("CARGO_BIN_EXE_agentmeter"))
        .args(args)
        .stdin(std::process::Stdio::null());
    run_cmd_within(&mut cmd, secs)
}
