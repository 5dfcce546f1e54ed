//! Hostile and odd inputs to the readers: every run is bounded in time (killed after a
//! timeout) so a regression fails instead of hanging; nothing may exit 101 (a panic).
//!
//! Amounts: one hour of runtime at $0.08 per session-hour (pricing/anthropic.toml, from
//! 2026-04-08) = $0.08.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{bin, dec, Run, Tmp};

/// The address space a hostile run may take: a blow-up fails the run, not the machine.
const ADDRESS_SPACE: u64 = 4 << 30;

/// Run the binary, killed after `secs` (a hang is a failure, not a stuck test run), with its
/// address space limited to [`ADDRESS_SPACE`].
fn bounded(args: &[&str], secs: u64) -> Run {
    use std::io::Read;
    let mut cmd = bin();
    #[cfg(target_os = "linux")]
    unsafe {
        use std::os::unix::process::CommandExt;
        // In the child between fork and exec: only async-signal-safe calls (setrlimit is).
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: ADDRESS_SPACE,
                rlim_max: ADDRESS_SPACE,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run agentmeter");
    // Drained as the child writes, so a full pipe never stalls it.
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = r.read_to_end(&mut out);
            String::from_utf8_lossy(&out).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            panic!("agentmeter {args:?} did not finish in {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let r = Run {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    };
    assert_ne!(r.code, 101, "a panic: {}", r.stderr);
    r
}

fn json(r: &Run) -> Value {
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

const RUN: &str =
    r#"{"id":"sevt_1","type":"session.status_running","processed_at":"2026-05-04T09:00:00Z"}"#;
const IDLE: &str =
    r#"{"id":"sevt_2","type":"session.status_idle","processed_at":"2026-05-04T10:00:00Z"}"#;

/// One hour running: $0.08.
fn hour() -> String {
    format!("{RUN}\n{IDLE}\n")
}

#[test]
fn sse_with_any_of_its_three_line_ends_meters_the_same() {
    let tmp = Tmp::new();
    let frames = format!(
        "event: session.status_running\ndata: {RUN}\n\nevent: session.status_idle\ndata: {IDLE}\n\n"
    );
    for (name, text) in [
        ("lf.sse", frames.clone()),
        ("crlf.sse", frames.replace('\n', "\r\n")),
        ("cr.sse", frames.replace('\n', "\r")),
    ] {
        let f = tmp.write(name, &text).display().to_string();
        let v = json(&bounded(&["meter", &f, "-f", "json"], 30));
        assert_eq!(v["totals"]["active_ms"], 3_600_000, "{name}");
        assert_eq!(
            dec(v["totals"]["cost"]["total"].as_str().unwrap()),
            dec("0.08")
        );
    }
}

#[test]
fn an_sse_file_is_judged_by_its_content() {
    let tmp = Tmp::new();
    // NDJSON saved as .sse is read as NDJSON.
    let f = tmp.write("ndjson.sse", &hour()).display().to_string();
    let v = json(&bounded(&["meter", &f, "-f", "json"], 30));
    assert_eq!(v["totals"]["active_ms"], 3_600_000);
    // An HTML error page saved as .sse is an error at its first line, not an empty bill.
    let f = tmp
        .write(
            "page.sse",
            "<!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>\n",
        )
        .display()
        .to_string();
    let r = bounded(&["meter", &f], 30);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("page.sse:1: not an SSE stream"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("Bad Gateway"),
        "content echoed: {}",
        r.stderr
    );
    // A named frame without data is a lost event: an error at the frame's line.
    let f = tmp
        .write(
            "nodata.sse",
            &format!(
                "event: session.status_running\ndata: {RUN}\n\nevent: session.status_idle\n\n"
            ),
        )
        .display()
        .to_string();
    let r = bounded(&["meter", &f], 30);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("nodata.sse:4: SSE frame `event: session.status_idle` has no `data:` line"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_record_past_the_bound_is_an_error_on_every_path() {
    let tmp = Tmp::new();
    let long = format!(
        "{{\"id\":\"e\",\"type\":\"agent.message\",\"processed_at\":\"2026-05-04T09:30:00Z\",\"content\":\"{}\"}}\n",
        "x".repeat(3 << 20)
    );
    let text = format!("{RUN}\n{long}{IDLE}\n");
    let plain = tmp.write("long.ndjson", &text).display().to_string();
    let zst_path = tmp.path("long.ndjson.zst");
    std::fs::write(&zst_path, zstd::encode_all(text.as_bytes(), 1).unwrap()).unwrap();
    let zst = zst_path.display().to_string();
    let sse_text = format!("event: agent.message\ndata: {long}\n");
    let sse = tmp.write("long.sse", &sse_text).display().to_string();
    for f in [&plain, &zst, &sse] {
        let r = bounded(&["meter", f, "--max-record-mb", "1"], 60);
        assert_eq!(r.code, 2, "{f}: {}", r.stderr);
        assert!(r.stderr.contains("longer than 1 MiB"), "{f}: {}", r.stderr);
        assert!(r.stderr.contains("--max-record-mb"), "{f}: {}", r.stderr);
    }
    // Within a raised bound the same files meter: the hour around the long line.
    for f in [&plain, &zst] {
        let v = json(&bounded(
            &["meter", f, "-f", "json", "--max-record-mb", "8"],
            60,
        ));
        assert_eq!(v["totals"]["active_ms"], 3_600_000, "{f}");
    }
}

#[cfg(unix)]
#[test]
fn directories_are_walked_once_per_real_path_and_only_regular_files_are_read() {
    use std::os::unix::fs::symlink;
    let tmp = Tmp::new();
    tmp.write("runs/a.ndjson", &hour());
    // Two links back to the directory itself, and a second name for the file.
    symlink(".", tmp.path("runs/x")).unwrap();
    symlink(".", tmp.path("runs/y")).unwrap();
    symlink("a.ndjson", tmp.path("runs/b.ndjson")).unwrap();
    symlink("missing.ndjson", tmp.path("runs/dangling.ndjson")).unwrap();
    let fifo = tmp.path("runs/pipe.ndjson");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let have_fifo = made.is_ok_and(|s| s.success());
    let runs = tmp.path("runs").display().to_string();
    let v = json(&bounded(&["meter", &runs, "-f", "json"], 30));
    // Read once: one hour, not one per path.
    assert_eq!(v["totals"]["sessions"], 1);
    assert_eq!(v["totals"]["active_ms"], 3_600_000);
    let notes = v["passed_over"].to_string();
    assert!(notes.contains("a directory already read"), "{notes}");
    assert!(notes.contains("b.ndjson: the same file"), "{notes}");
    assert!(
        notes.contains("dangling.ndjson: a broken symlink"),
        "{notes}"
    );
    if have_fifo {
        assert!(notes.contains("pipe.ndjson: not a regular file"), "{notes}");
        // Named on the command line, a FIFO is refused at once (nothing would ever write it).
        let r = bounded(&["meter", &fifo.display().to_string()], 30);
        assert_eq!(r.code, 2);
        assert!(
            r.stderr.contains("not a regular file or a directory"),
            "{}",
            r.stderr
        );
    }
    for device in ["/dev/zero", "/dev/null"] {
        let r = bounded(&["meter", device], 30);
        assert_eq!(r.code, 2, "{device}");
        assert!(
            r.stderr.contains("not a regular file or a directory"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn a_search_that_finds_no_input_says_what_it_found() {
    let tmp = Tmp::new();
    tmp.write("notes/readme.txt", "not an export");
    tmp.write("notes/data.csv", "a,b");
    let dir = tmp.path("notes").display().to_string();
    let r = bounded(&["meter", &dir], 30);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no input files found")
            && r.stderr.contains("2 file(s) with other extensions"),
        "{}",
        r.stderr
    );
    // The same file given twice is read once.
    let f = tmp.write("one.ndjson", &hour()).display().to_string();
    let v = json(&bounded(&["meter", &f, &f, "-f", "json"], 30));
    assert_eq!(v["totals"]["active_ms"], 3_600_000);
    assert_eq!(v["dropped"]["duplicate_events"], 0);
}

/// Every bad record is counted; only the first 1,000 (in input order) are kept to show, so a
/// run over millions of bad lines does not hold millions of messages.
#[test]
fn skipped_records_are_all_counted_and_the_first_thousand_kept() {
    let tmp = Tmp::new();
    // Line 1 and 3,002 are good; lines 2..=3,001 are 3,000 bad ones.
    let mut text = format!("{RUN}\n");
    for i in 0..3000 {
        text.push_str(&format!(
            "{{\"id\":\"bad{i}\",\"type\":\"agent.message\"}}\n"
        ));
    }
    text.push_str(IDLE);
    let f = tmp.write("bad.ndjson", &text).display().to_string();
    let v = json(&bounded(&["meter", &f, "-f", "json", "--skip-invalid"], 60));
    assert_eq!(v["dropped"]["invalid_records"], 3000);
    let kept = v["skipped"].as_array().unwrap();
    assert_eq!(kept.len(), 1000);
    assert_eq!(kept[0]["line"], 2);
    assert_eq!(kept[999]["line"], 1001);
    assert_eq!(v["totals"]["active_ms"], 3_600_000);
    // The full list, streamed to a file as found: all 3,000, and no temporary file left.
    let list = tmp.path("skipped.txt").display().to_string();
    let v = json(&bounded(
        &[
            "meter",
            &f,
            "-f",
            "json",
            "--skip-invalid",
            "--skipped-out",
            &list,
        ],
        60,
    ));
    assert_eq!(v["dropped"]["invalid_records"], 3000);
    let text = std::fs::read_to_string(&list).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3000);
    assert!(
        lines[0].ends_with("bad.ndjson:2: agent.message event bad0 has no `processed_at`"),
        "{}",
        lines[0]
    );
    assert!(lines[2999].contains("bad.ndjson:3001: "), "{}", lines[2999]);
    let leftovers = std::fs::read_dir(tmp.0.path())
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().contains("agentmeter-skipped")
        })
        .count();
    assert_eq!(leftovers, 0);
    let r = bounded(&["meter", &f, "--skip-invalid"], 60);
    assert!(
        r.stdout
            .contains("warning: 3,000 invalid record(s) skipped:"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("  ... and 2,000 more (the first 1000 in input order are listed)"),
        "{}",
        r.stdout
    );
}

/// A message that cannot be written is not a crash: an error with stderr on /dev/full still
/// exits 2, and output into a pipe closed early (`| head -1`) exits cleanly.
#[cfg(unix)]
#[test]
fn unwritable_stderr_and_closed_pipes_are_not_panics() {
    use std::io::Read;
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full");
    if let Ok(full) = full {
        let status = bin()
            .args(["meter", "/nonexistent/input.ndjson"])
            .stdin(Stdio::null())
            .stderr(full)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(2));
    }
    for args in [
        &["pricing", "list"][..],
        &["meter", "docs/examples", "-f", "csv"][..],
    ] {
        let mut child = bin()
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the pipe before the child writes: its output has nowhere to go (EPIPE).
        drop(child.stdout.take());
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert_ne!(out.status.code(), Some(101), "{args:?}: {err}");
    }
}

/// A small `.zst` that expands to a runaway line stops at the record bound, in bounded
/// memory (the run has 4 GiB of address space), instead of buffering the whole expansion.
#[test]
fn a_decompression_bomb_stops_at_the_record_bound() {
    use std::io::Write;
    let tmp = Tmp::new();
    let path = tmp.path("bomb.ndjson.zst");
    let mut z = zstd::Encoder::new(std::fs::File::create(&path).unwrap(), 3).unwrap();
    z.write_all(
        br#"{"id":"e","type":"agent.message","processed_at":"2026-05-04T09:00:00Z","content":""#,
    )
    .unwrap();
    let block = vec![b'x'; 1 << 20];
    for _ in 0..600 {
        z.write_all(&block).unwrap();
    }
    z.finish().unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 1 << 20);
    let r = bounded(&["meter", &path.display().to_string()], 120);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("longer than 256 MiB"), "{}", r.stderr);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]

    /// The `sse` fuzz target's property, in the test suite: any stream of SSE lines reads the
    /// same with LF, CRLF and CR line ends (records, invalid ones and their lines).
    #[test]
    fn sse_reads_the_same_whatever_its_line_ends(
        lines in proptest::collection::vec(proptest::prop_oneof![
            proptest::prelude::Just(String::new()),
            proptest::prelude::Just(": comment".to_string()),
            proptest::prelude::Just("event: session.status_running".to_string()),
            proptest::prelude::Just("event: ping".to_string()),
            proptest::prelude::Just(format!("data: {RUN}")),
            proptest::prelude::Just(format!("data: {IDLE}")),
            proptest::prelude::Just("data: {\"id\":\"x\",".to_string()),
            proptest::prelude::Just("data: \"processed_at\":\"2026-05-04T09:30:00Z\"}".to_string()),
            proptest::prelude::Just("id: 7".to_string()),
            "[a-z ]{0,8}",
        ], 1..30)
    ) {
        use agentmeter::ingest::{read_bytes, Sink, Source};
        #[derive(Default, PartialEq, Debug)]
        struct Seen(Vec<(u64, String)>, Vec<(u64, String)>);
        impl Sink for Seen {
            fn record(&mut self, line: u64, r: agentmeter::ingest::record::Record) {
                self.0.push((line, format!("{r:?}")));
            }
            fn invalid(&mut self, line: u64, m: String) -> agentmeter::error::Result<()> {
                self.1.push((line, m));
                Ok(())
            }
        }
        let read = |end: &str| {
            let text = format!("event: session.status_idle{end}{}", lines.join(end));
            let src = Source { name: "p.sse".into(), path: Some("p.sse".into()) };
            let mut seen = Seen::default();
            let ok = read_bytes(text.as_bytes(), &src, &mut seen).is_ok();
            (ok, seen)
        };
        let lf = read("\n");
        proptest::prop_assert_eq!(&lf, &read("\r\n"));
        proptest::prop_assert_eq!(&lf, &read("\r"));
    }
}
