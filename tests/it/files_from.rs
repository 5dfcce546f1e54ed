//! `--files-from FILE` (meter, export, report): input paths read from a list, one per line,
//! taken as PATHs are; a bad line is named by the list and its line.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::*;

/// One session `id` on Sonnet 4.6: 1 h running (0.08) and `input` input tokens at $3/M.
fn one_session(id: &str, input: u64) -> String {
    ndjson(&[
        session(id, "claude-sonnet-4-6"),
        ev(
            &format!("{id}-a"),
            "session.status_running",
            "2026-06-10T10:00:00Z",
        ),
        request(&format!("{id}-r"), "2026-06-10T10:01:00Z", input, 0, 0, 0),
        ev(
            &format!("{id}-b"),
            "session.status_idle",
            "2026-06-10T11:00:00Z",
        ),
    ])
}

/// a.ndjson (1,000 input: 0.08 + 0.003 = 0.083), b.ndjson (2,000: 0.08 + 0.006 = 0.086) and
/// dir/ holding c.ndjson (1,000: 0.083), sub/d.ndjson (3,000: 0.08 + 0.009 = 0.089) and a
/// notes.txt that is no input. All four: 0.083 + 0.086 + 0.083 + 0.089 = 0.341.
const TOTAL: &str = "0.341";

fn fleet() -> Tmp {
    let tmp = Tmp::new();
    tmp.write("a.ndjson", &one_session("sesn_a", 1_000));
    tmp.write("b.ndjson", &one_session("sesn_b", 2_000));
    tmp.write("dir/c.ndjson", &one_session("sesn_c", 1_000));
    tmp.write("dir/sub/d.ndjson", &one_session("sesn_d", 3_000));
    tmp.write("dir/notes.txt", "not an export\n");
    tmp
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn total(r: &Run) -> (u64, String) {
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    (
        out["totals"]["sessions"].as_u64().unwrap(),
        out["totals"]["cost"]["total"].as_str().unwrap().to_string(),
    )
}

#[test]
fn a_list_of_two_files_and_a_directory_meters_as_the_same_paths() {
    let tmp = fleet();
    let (a, b, dir) = (tmp.path("a.ndjson"), tmp.path("b.ndjson"), tmp.path("dir"));
    // Blank and space-only lines are ignored; a CRLF line end is one.
    let list = tmp.write(
        "list.txt",
        &format!("{}\n\n{}\r\n   \n{}\n", s(&a), s(&b), s(&dir)),
    );
    let by_paths = run_within(60, ["meter", &s(&a), &s(&b), &s(&dir), "-f", "json"]);
    assert_eq!(total(&by_paths), (4, TOTAL.to_string()));
    let by_list = run_within(60, ["meter", "--files-from", &s(&list), "-f", "json"]);
    assert_eq!(total(&by_list), (4, TOTAL.to_string()));
    // A PATH and a list combine: a as a PATH, then b and dir from a list.
    let rest = tmp.write("rest.txt", &format!("{}\n{}\n", s(&b), s(&dir)));
    let both = run_within(
        60,
        ["meter", &s(&a), "--files-from", &s(&rest), "-f", "json"],
    );
    assert_eq!(total(&both), (4, TOTAL.to_string()));

    // export and report take the same list.
    let out = tmp.path("items.parquet");
    let r = run_within(
        60,
        [
            "export",
            "--files-from",
            &s(&list),
            "--format",
            "parquet",
            "-o",
            &s(&out),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // 4 sessions x 2 items (runtime, input tokens).
    assert!(
        r.stderr.contains(&format!(
            "wrote 8 line items to {} (total {TOTAL})",
            s(&out)
        )),
        "{}",
        r.stderr
    );
    let report = tmp.path("report");
    let r = run_within(60, ["report", "--files-from", &s(&list), "-o", &s(&report)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("meter.json")).unwrap()).unwrap();
    assert_eq!(json["totals"]["cost"]["total"], TOTAL);
}

#[test]
fn a_missing_or_unusable_listed_path_names_the_list_and_its_line() {
    let tmp = fleet();
    let missing = tmp.path("gone.ndjson");
    let list = tmp.write(
        "list.txt",
        &format!("{}\n\n{}\n", s(&tmp.path("a.ndjson")), s(&missing)),
    );
    for cmd in ["meter", "export", "report"] {
        let mut args = vec![cmd, "--files-from", list.to_str().unwrap()];
        let out = s(&tmp.path(&format!("{cmd}-out")));
        if cmd != "meter" {
            args.extend(["-o", &out]);
        }
        if cmd == "export" {
            args.extend(["--format", "parquet"]);
        }
        let r = run_within(60, &args);
        assert_eq!(r.code, 2, "{cmd}: {}", r.stderr);
        // Line 3: the blank line 2 still counts.
        let want = format!("error: {}:3: {}: ", s(&list), s(&missing));
        assert!(
            r.stderr.contains(&want),
            "{cmd}: {:?} lacks {want:?}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{cmd}: {}", r.stdout);
    }
    // A relative path is from the current directory, and the hint says so.
    let rel = tmp.write("rel.txt", "no/such/file.ndjson\n");
    let r = run_within(60, ["meter", "--files-from", &s(&rel)]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains(&format!("error: {}:1: no/such/file.ndjson: ", s(&rel)))
            && r.stderr.contains("from the current directory"),
        "{}",
        r.stderr
    );
    // `-` is no path in a list; a list of nothing is no input; the list itself must exist.
    let dash = tmp.write("dash.txt", "\n-\n");
    let r = run_within(60, ["meter", "--files-from", &s(&dash)]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(&format!("{}:2: `-`", s(&dash))),
        "{}",
        r.stderr
    );
    let empty = tmp.write("empty.txt", "\n \n");
    let r = run_within(60, ["meter", "--files-from", &s(&empty)]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains(&format!("no input: {} lists no paths", s(&empty))),
        "{}",
        r.stderr
    );
    let r = run_within(60, ["meter", "--files-from", &s(&tmp.path("nolist.txt"))]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("nolist.txt: "), "{}", r.stderr);
}

#[test]
fn a_list_past_the_bound_or_not_a_regular_file_is_refused_unread() {
    let tmp = fleet();
    // Sparse: 256 MiB + 1 byte, no disk used; refused on its size before it is read.
    let big = tmp.path("big.txt");
    std::fs::File::create(&big)
        .unwrap()
        .set_len((256 << 20) + 1)
        .unwrap();
    let r = run_bounded(["meter", "--files-from", &s(&big)], 60, 2048);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "{}: more than the 268435456 bytes a list of paths may have",
            s(&big)
        )),
        "{}",
        r.stderr
    );
    // A FIFO would wait for a writer: refused, with the way to pipe a list.
    #[cfg(unix)]
    {
        let fifo = tmp.path("list.fifo");
        let made = Command::new("mkfifo").arg(&fifo).status();
        if made.map(|s| s.success()).unwrap_or(false) {
            let r = run_within(30, ["meter", "--files-from", &s(&fifo)]);
            assert_eq!(r.code, 2);
            assert!(
                r.stderr.contains("not a regular file") && r.stderr.contains("--files-from -"),
                "{}",
                r.stderr
            );
        }
    }
}

#[test]
fn a_list_from_stdin() {
    let tmp = fleet();
    let list = tmp.write(
        "list.txt",
        &format!(
            "{}\n{}\n\n{}\n",
            s(&tmp.path("a.ndjson")),
            s(&tmp.path("b.ndjson")),
            s(&tmp.path("dir"))
        ),
    );
    // Through a real pipe: `cat list | agentmeter meter --files-from -`.
    let piped = |extra: &str| {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!(
                "cat \"$1\" | exec \"$0\" meter --files-from - -f json {extra}"
            ))
            .arg(env!("CARGO_BIN_EXE_agentmeter"))
            .arg(&list);
        run_cmd_within(&mut cmd, 60)
    };
    assert_eq!(total(&piped("")), (4, TOTAL.to_string()));
    // The list and the PATH `-` cannot both be stdin.
    let r = piped("-");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--files-from - and the PATH - both read stdin"),
        "{}",
        r.stderr
    );
}
