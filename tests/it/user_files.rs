//! What a run may do to a user's files: `-o` replaces only regular files (with `--force`),
//! directories only when agentmeter wrote them, always whole; interrupted and failed runs
//! leave neither a partial output nor temporary files.

use std::ffi::OsString;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::common::{bin, run_within, wait_within, Run, Tmp};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn examples() -> OsString {
    root().join("docs/examples").into_os_string()
}

fn scenario() -> OsString {
    root().join("scenarios/opus-hour.toml").into_os_string()
}

fn args(list: &[&OsString]) -> Vec<OsString> {
    list.iter().map(|s| (*s).clone()).collect()
}

fn os(s: &str) -> OsString {
    s.into()
}

/// Every name under `dir`, recursively, relative to it, sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let name = format!("{rel}{}", e.file_name().to_string_lossy());
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), &format!("{name}/"), out);
            }
            out.push(name);
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out.sort();
    out
}

fn refused(r: &Run, what: &str) {
    assert_eq!(r.code, 2, "{what}: {}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.lines().any(|l| l.starts_with("error: "))
            && r.stderr.lines().any(|l| l.starts_with("hint: ")),
        "{what}: {}",
        r.stderr
    );
}

/// A file-writing command of each kind, its `-o` left to add.
fn writers() -> Vec<Vec<OsString>> {
    let (ex, sc) = (examples(), scenario());
    vec![
        args(&[&os("meter"), &ex]),
        args(&[&os("meter"), &ex, &os("--format"), &os("json")]),
        args(&[&os("reconcile"), &ex]),
        args(&[&os("baseline"), &ex]),
        args(&[&os("fit"), &ex]),
        args(&[
            &os("compare"),
            &ex,
            &os("--model"),
            &os("claude-sonnet-4-6"),
        ]),
        args(&[&os("project"), &sc, &os("--runs"), &os("10")]),
        args(&[&os("export"), &ex, &os("--format"), &os("focus-csv")]),
        args(&[&os("export"), &ex, &os("--format"), &os("parquet")]),
        args(&[&os("simulate"), &sc, &os("--sessions"), &os("2")]),
    ]
}

#[test]
fn o_never_replaces_a_fifo_a_link_or_a_device_even_with_force() {
    let tmp = Tmp::new();
    let victim = tmp.write("victim.txt", "mine\n");
    let fifo = tmp.path("fifo.ndjson");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let link = tmp.path("link.ndjson");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let dangling = tmp.path("dangling.ndjson");
    let nowhere = tmp.path("nowhere.ndjson");
    std::os::unix::fs::symlink(&nowhere, &dangling).unwrap();
    let null = PathBuf::from("/dev/null");

    let unchanged = || {
        let t = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(t.is_fifo(), "the FIFO is still a FIFO");
        assert_eq!(std::fs::read_link(&link).unwrap(), victim);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "mine\n");
        assert_eq!(std::fs::read_link(&dangling).unwrap(), nowhere);
        assert!(
            !nowhere.exists(),
            "nothing written through the dangling link"
        );
        let t = std::fs::symlink_metadata(&null).unwrap().file_type();
        assert!(t.is_char_device(), "/dev/null is still a device");
        assert_eq!(
            tree(tmp.0.path()),
            [
                "dangling.ndjson",
                "fifo.ndjson",
                "link.ndjson",
                "victim.txt"
            ],
            "no file, temporary or final, beside them"
        );
    };
    for cmd in writers() {
        for target in [&fifo, &link, &dangling, &null] {
            for force in [false, true] {
                let mut a = cmd.clone();
                a.extend([os("-o"), target.clone().into_os_string()]);
                if force {
                    a.push(os("--force"));
                }
                let what = format!("{a:?}");
                let r = run_within(60, &a);
                refused(&r, &what);
                assert!(
                    r.stderr.contains(&target.display().to_string()),
                    "{what}: {}",
                    r.stderr
                );
                unchanged();
            }
        }
    }
    // Stdout is `-o -` (or no -o).
    let r = run_within(60, [os("meter"), examples(), os("-o"), os("-")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Total (5 sessions)"), "{}", r.stdout);
    assert!(!Path::new("-").exists());
}

#[test]
fn directories_are_never_a_fifo_a_link_or_someone_elses() {
    let tmp = Tmp::new();
    let theirs = tmp.path("theirs");
    std::fs::create_dir(&theirs).unwrap();
    let link = tmp.path("link");
    std::os::unix::fs::symlink(&theirs, &link).unwrap();
    let fifo = tmp.path("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let (ex, sc) = (examples(), scenario());
    let dir_writers: Vec<Vec<OsString>> = vec![
        args(&[&os("report"), &ex, &os("-o")]),
        args(&[&os("meter"), &ex, &os("--report")]),
        args(&[&os("meter"), &ex, &os("--export")]),
        args(&[
            &os("project"),
            &sc,
            &os("--runs"),
            &os("10"),
            &os("--report"),
        ]),
        args(&[
            &os("export"),
            &ex,
            &os("--format"),
            &os("parquet"),
            &os("--partition"),
            &os("day"),
            &os("-o"),
        ]),
        args(&[&os("simulate"), &sc, &os("--sessions"), &os("2"), &os("-o")]),
    ];
    for cmd in &dir_writers {
        for target in [&link, &fifo] {
            for force in [false, true] {
                let mut a = cmd.clone();
                a.push(target.clone().into_os_string());
                if force {
                    a.push(os("--force"));
                }
                let r = run_within(60, &a);
                refused(&r, &format!("{a:?}"));
            }
        }
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert!(std::fs::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo());
        assert_eq!(tree(&theirs), Vec::<String>::new());
        assert_eq!(tree(tmp.0.path()), ["fifo", "link", "theirs"]);
    }

    // A directory holding a user's files (what a report writes, without its manifest).
    std::fs::write(theirs.join("meter.json"), "{\"mine\": true}").unwrap();
    std::fs::write(theirs.join("report.md"), "my notes").unwrap();
    for cmd in &dir_writers {
        for force in [false, true] {
            let mut a = cmd.clone();
            a.push(theirs.clone().into_os_string());
            if force {
                a.push(os("--force"));
            }
            let r = run_within(60, &a);
            refused(&r, &format!("{a:?}"));
            assert!(
                r.stderr.contains("which agentmeter did not write")
                    || r.stderr.contains("which is not a Parquet file"),
                "{a:?}: {}",
                r.stderr
            );
        }
    }
    assert_eq!(tree(&theirs), ["meter.json", "report.md"]);
    assert_eq!(
        std::fs::read_to_string(theirs.join("meter.json")).unwrap(),
        "{\"mine\": true}"
    );
    assert_eq!(
        std::fs::read_to_string(theirs.join("report.md")).unwrap(),
        "my notes"
    );

    // A report agentmeter wrote, with a file of the user's added: refused too.
    let own = tmp.path("own");
    let report = |force: bool| {
        let mut a = vec![os("report"), examples(), os("-o"), own.clone().into()];
        if force {
            a.push(os("--force"));
        }
        run_within(60, a)
    };
    assert_eq!(report(false).code, 0);
    std::fs::write(own.join("notes.txt"), "mine").unwrap();
    let r = report(true);
    refused(&r, "a report holding a user's file");
    assert!(r.stderr.contains("notes.txt"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(own.join("notes.txt")).unwrap(),
        "mine"
    );
    // An empty directory is as good as none.
    let empty = tmp.path("empty");
    std::fs::create_dir(&empty).unwrap();
    let r = run_within(60, [os("report"), examples(), os("-o"), empty.into()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn force_over_an_older_report_leaves_exactly_the_new_reports_files() {
    let tmp = Tmp::new();
    let report = |dir: &Path, extra: &[&str], force: bool| {
        let mut a = vec![os("report"), examples(), os("-o"), dir.into()];
        a.extend(extra.iter().map(|s| os(s)));
        if force {
            a.push(os("--force"));
        }
        let r = run_within(120, a);
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    // The older report has more files: a projection on two models, its charts and data.
    let out = tmp.path("reports/out");
    let sc = scenario().into_string().unwrap();
    let more = [
        "--scenario",
        &sc,
        "--model",
        "claude-opus-4-6",
        "--model",
        "claude-sonnet-4-6",
        "--runs",
        "20",
    ];
    report(&out, &more, false);
    let older = tree(&out);
    let fresh = tmp.path("fresh");
    report(&fresh, &[], false);
    let newer = tree(&fresh);
    assert!(
        older.len() > newer.len() && older.iter().any(|f| f.starts_with("model-comparison")),
        "{older:?} vs {newer:?}"
    );
    report(&out, &[], true);
    assert_eq!(tree(&out), newer, "only the new report's files");
    assert_eq!(
        std::fs::read_to_string(out.join("report.md"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("Generated "))
            .collect::<Vec<_>>(),
        std::fs::read_to_string(fresh.join("report.md"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("Generated "))
            .collect::<Vec<_>>()
    );
    let beside: Vec<_> = std::fs::read_dir(tmp.path("reports"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(beside, ["out"], "no temporary left");
}

/// Spawn agentmeter, wait `ms` (it must still be running), SIGKILL it.
fn kill_midway(a: &[OsString], ms: u64) {
    let mut child = bin()
        .args(a)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(ms));
    assert!(
        child.try_wait().unwrap().is_none(),
        "{a:?} finished before it was killed: give it more to do"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_killed_or_failed_write_leaves_nothing_at_the_final_path() {
    let tmp = Tmp::new();
    let sim = |out: &Path, sessions: &str, force: bool| {
        let mut a = vec![
            os("simulate"),
            scenario(),
            os("--sessions"),
            os(sessions),
            os("-o"),
            out.into(),
        ];
        if force {
            a.push(os("--force"));
        }
        a
    };
    // One file, killed while it writes: no file at all, not even a temporary one.
    let files = tmp.path("files");
    std::fs::create_dir(&files).unwrap();
    let one = files.join("sim.ndjson");
    kill_midway(&sim(&one, "2000000", false), 1500);
    assert_eq!(tree(&files), Vec::<String>::new());
    // Over an older file, with --force: the older file, whole.
    let r = run_within(60, sim(&one, "3", false));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = std::fs::read(&one).unwrap();
    kill_midway(&sim(&one, "2000000", true), 1500);
    assert_eq!(std::fs::read(&one).unwrap(), before);
    assert_eq!(tree(&files), ["sim.ndjson"]);

    // A directory, killed while it writes: the older one stays whole; the next run removes
    // what the killed one left and writes its own.
    let dirs = tmp.path("dirs");
    let dir = dirs.join("sim");
    let r = run_within(60, sim(&dir, "3", false));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = tree(&dir);
    kill_midway(&sim(&dir, "2000000", true), 1500);
    assert_eq!(tree(&dir), before);
    let r = run_within(60, sim(&dir, "2", true));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        tree(&dirs).len(),
        1 + 2 + 1,
        "sim/, two sessions, the manifest"
    );

    // A Parquet export that fails while it writes (a rate of 13 places is no Decimal(38, 12)).
    let prices = tmp.write(
        "prices.toml",
        &format!(
            "{}\n[[runtime]]\neffective = \"2026-06-01T00:00:00Z\"\nusd_per_hour = \"0.0800000000001\"\n",
            agentmeter::pricing::BUNDLED
        ),
    );
    let out = tmp.path("parquet");
    std::fs::create_dir(&out).unwrap();
    let export = |force: bool| {
        let mut a = vec![
            os("export"),
            examples(),
            os("--format"),
            os("focus-parquet"),
            os("--pricing"),
            prices.clone().into(),
            os("-o"),
            out.join("focus.parquet").into(),
        ];
        if force {
            a.push(os("--force"));
        }
        run_within(60, a)
    };
    let r = export(false);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("Decimal(38, 12)"), "{}", r.stderr);
    assert_eq!(tree(&out), Vec::<String>::new());
    std::fs::write(out.join("focus.parquet"), "older").unwrap();
    assert_eq!(export(true).code, 2);
    assert_eq!(tree(&out), ["focus.parquet"]);
    assert_eq!(
        std::fs::read_to_string(out.join("focus.parquet")).unwrap(),
        "older"
    );
}

/// Spill directories in `dir`.
fn spills(dir: &Path) -> Vec<String> {
    tree(dir)
        .into_iter()
        .filter(|n| n.starts_with("agentmeter-spill-") && !n.contains('/'))
        .collect()
}

#[test]
fn a_signal_during_a_spilling_run_leaves_no_spill_directory() {
    let tmp = Tmp::new();
    let input = tmp.path("in");
    let r = run_within(
        120,
        [
            os("simulate"),
            root().join("scenarios/team.toml").into(),
            os("--sessions"),
            os("4000"),
            os("-o"),
            input.clone().into(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let tmpdir = tmp.path("tmpdir");
    std::fs::create_dir(&tmpdir).unwrap();
    let meter = || {
        bin()
            .args([os("meter"), input.clone().into(), os("--memory"), os("1")])
            .env("TMPDIR", &tmpdir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // Signal each run once it has spilled.
    let spilled = |child: &mut std::process::Child| {
        let start = Instant::now();
        while spills(&tmpdir).is_empty() {
            assert!(
                child.try_wait().unwrap().is_none(),
                "the run ended before it spilled"
            );
            assert!(
                start.elapsed().as_secs() < 60,
                "no spill directory appeared"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let mut child = meter();
        spilled(&mut child);
        // SAFETY: signalling our own child.
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        assert_eq!(wait_within(&mut child, 60).code(), Some(code));
        assert_eq!(spills(&tmpdir), Vec::<String>::new(), "signal {signal}");
    }
    // A SIGKILL runs no cleanup: the next run that spills removes what it left.
    let mut child = meter();
    spilled(&mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(spills(&tmpdir).len(), 1);
    let mut child = meter();
    assert!(wait_within(&mut child, 120).success());
    assert_eq!(spills(&tmpdir), Vec::<String>::new());
}
