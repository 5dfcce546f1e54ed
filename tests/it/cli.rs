//! The binary end to end: bad input (exit 2, `error: FILE:LINE: ...` and a hint),
//! --skip-invalid, formats, grouping, compressed and mixed inputs, output files.

use std::io::Write;

use serde_json::{json, Value};

use crate::common::*;

fn meter_file(text: &str, extra: &[&str]) -> (Run, String) {
    let tmp = Tmp::new();
    let p = tmp.write("runs/a.ndjson", text);
    let name = p.display().to_string();
    let mut args = vec!["meter".to_string(), name.clone()];
    args.extend(extra.iter().map(|s| s.to_string()));
    (run(&args), name)
}

fn expect_bad(text: &str, line: u64, what: &str) {
    let (r, name) = meter_file(text, &[]);
    assert_eq!(r.code, 2, "{what}: {}", r.stderr);
    let want = format!("error: {name}:{line}: ");
    assert!(
        r.stderr.contains(&want),
        "{what}: {:?} lacks {want:?}",
        r.stderr
    );
    assert!(r.stderr.contains(what), "{what}: {:?}", r.stderr);
    assert!(
        r.stderr.contains("hint: "),
        "{what}: no hint in {:?}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}

fn good_head() -> String {
    ndjson(&[
        session("s", "claude-sonnet-4-6"),
        ev("e1", "session.status_running", "2026-06-10T10:00:00Z"),
    ])
}

#[test]
fn bad_records_name_the_file_line_and_problem() {
    let head = good_head();
    expect_bad(
        &format!("{head}{{\"id\": \"x\", \"type\": \n"),
        3,
        "truncated JSON",
    );
    expect_bad(
        &format!("{head}{{\"id\": \"x\" \"type\": 1}}\n"),
        3,
        "malformed JSON",
    );
    expect_bad(
        &format!(
            "{head}{{\"type\":\"agent.message\",\"processed_at\":\"2026-06-10T10:00:00Z\"}}\n"
        ),
        3,
        "has no `id`",
    );
    expect_bad(
        &format!("{head}{{\"id\":\"x\",\"processed_at\":\"2026-06-10T10:00:00Z\"}}\n"),
        3,
        "has no `type`",
    );
    expect_bad(
        &format!("{head}{{\"id\":\"x\",\"type\":\"agent.message\"}}\n"),
        3,
        "has no `processed_at`",
    );
    expect_bad(
        &format!(
            "{head}{{\"id\":\"x\",\"type\":\"agent.message\",\"processed_at\":\"June 10\"}}\n"
        ),
        3,
        "bad timestamp",
    );
    expect_bad(&format!("{head}{{\"id\":\"x\",\"type\":\"agent.message\",\"processed_at\":\"2026-06-10T10:00:00\"}}\n"), 3, "no time zone");
    let neg = request("x", "2026-06-10T10:01:00Z", 0, 0, 0, 0)
        .to_string()
        .replace("\"input_tokens\":0", "\"input_tokens\":-3");
    expect_bad(&format!("{head}{neg}\n"), 3, "`input_tokens` is negative");
    let frac = request("x", "2026-06-10T10:01:00Z", 0, 0, 0, 0)
        .to_string()
        .replace("\"output_tokens\":0", "\"output_tokens\":2.5");
    expect_bad(
        &format!("{head}{frac}\n"),
        3,
        "`output_tokens` is not an integer",
    );
    expect_bad(&format!("{head}[1, 2]\n"), 3, "expected a JSON object");
    expect_bad(
        &format!(
            "{head}{}\n",
            ev("x", "span.model_request_end", "2026-06-10T10:01:00Z")
        ),
        3,
        "without model_usage",
    );
}

#[test]
fn an_unknown_model_is_an_error_naming_it_and_the_table() {
    let text = ndjson(&[
        session("s", "claude-nonexistent-9"),
        request("r", "2026-06-10T10:01:00Z", 10, 10, 0, 0),
    ]);
    let (r, name) = meter_file(&text, &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(&format!(
            "error: {name}:2: unknown model \"claude-nonexistent-9\""
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("anthropic@"), "{}", r.stderr);
    assert!(
        r.stderr.contains("--model") && r.stderr.contains("--pricing"),
        "{}",
        r.stderr
    );
    // --model fixes it: 10 x $3/M + 10 x $15/M = 0.00018.
    let (r, _) = meter_file(&text, &["--model", "claude-sonnet-4-6", "-f", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(out["totals"]["cost"]["total"], "0.00018");
    // An unknown --model is refused before reading anything.
    let (r, _) = meter_file(&text, &["--model", "gpt-9"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--model gpt-9: unknown model"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_date_with_no_price_in_force_is_an_error() {
    // Opus 4.6 is priced from 2026-02-05; a request on 2026-01-01 has no price.
    let text = ndjson(&[
        session("s", "claude-opus-4-6"),
        request("r", "2026-01-01T00:00:00Z", 10, 10, 0, 0),
    ]);
    let (r, name) = meter_file(&text, &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(&format!(
            "error: {name}:2: no price for claude-opus-4-6 in force at 2026-01-01T00:00:00.000Z"
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("hint: "), "{}", r.stderr);
    // Runtime before Managed Agents launched (2026-04-08) has no price either.
    let text = ndjson(&[
        session("s", "claude-opus-4-6"),
        ev("a", "session.status_running", "2026-04-07T23:00:00Z"),
        ev("b", "session.status_idle", "2026-04-07T23:30:00Z"),
    ]);
    let (r, _) = meter_file(&text, &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("no runtime price in force at 2026-04-07T23:00:00.000Z"),
        "{}",
        r.stderr
    );
}

/// Files are read in parallel, yet the error is always the first bad record in input order,
/// and with --skip-invalid the list follows input order (files sorted by name).
#[test]
fn the_first_bad_file_in_input_order_is_the_error() {
    let tmp = Tmp::new();
    for i in 0..64 {
        let id = format!("s{i:02}");
        let mut text = ndjson(&[
            session(&id, "claude-sonnet-4-6"),
            ev(
                &format!("{id}a"),
                "session.status_running",
                "2026-06-10T10:00:00Z",
            ),
        ]);
        // From file 30 on, each has a bad line 3: the thread that starts on the second half
        // meets one at once, long before the first half reaches file 30.
        if i >= 30 {
            text.push_str("not json\n");
        }
        tmp.write(&format!("runs/{id}.ndjson"), &text);
    }
    let dir = tmp.path("runs").display().to_string();
    let name = |i: u32| {
        tmp.path(&format!("runs/s{i:02}.ndjson"))
            .display()
            .to_string()
    };
    for _ in 0..5 {
        let r = run(["meter", dir.as_str()]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr.contains(&format!("error: {}:3: ", name(30))),
            "{}",
            r.stderr
        );
    }
    let r = run(["meter", dir.as_str(), "--skip-invalid", "-f", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    let files: Vec<_> = out["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["file"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(files, (30..64).map(name).collect::<Vec<_>>());
    assert_eq!(out["totals"]["sessions"], 64);
}

#[test]
fn skip_invalid_goes_on_and_lists_every_skipped_record() {
    let text = format!(
        "{}not json\n{}{{\"id\":\"x\",\"type\":\"agent.message\"}}\n",
        good_head(),
        ndjson(&[
            request("r", "2026-06-10T10:01:00Z", 1_000, 0, 0, 0),
            ev("i", "session.status_idle", "2026-06-10T11:00:00Z")
        ])
    );
    let (r, name) = meter_file(&text, &["--skip-invalid", "-f", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(out["dropped"]["invalid_records"], 2);
    let lines: Vec<_> = out["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["file"].as_str().unwrap().to_string(),
                s["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, vec![(name.clone(), 3), (name.clone(), 6)]);
    // The valid records still count: 1 h runtime 0.08 + 1,000 x $3/M = 0.083.
    assert_eq!(out["totals"]["cost"]["total"], "0.083");
    // The table lists them too.
    let (r, name) = meter_file(&text, &["--skip-invalid"]);
    assert!(
        r.stdout.contains("2 invalid record(s) skipped")
            && r.stdout.contains(&format!("{name}:3:")),
        "{}",
        r.stdout
    );
}

#[test]
fn an_empty_input_is_zero_sessions_and_zero_cost() {
    let (r, _) = meter_file("", &["-f", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(out["totals"]["sessions"], 0);
    assert_eq!(out["totals"]["cost"]["total"], "0");
    let (r, _) = meter_file("\n\n", &[]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Total (0 sessions)"));
}

#[test]
fn compressed_pages_sse_and_stdin_meter_alike() {
    let recs = [
        session("sesn_mix", "claude-sonnet-4-6"),
        ev("a", "session.status_running", "2026-06-10T10:00:00Z"),
        request("r", "2026-06-10T10:01:00Z", 1_000, 0, 0, 0),
        ev("b", "session.status_idle", "2026-06-10T11:00:00Z"),
    ];
    let text = ndjson(&recs);
    let tmp = Tmp::new();
    let plain = tmp.write("plain.ndjson", &text);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let gz_path = tmp.path("c.ndjson.gz");
    std::fs::write(&gz_path, gz.finish().unwrap()).unwrap();
    let zst_path = tmp.path("c.ndjson.zst");
    std::fs::write(&zst_path, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
    let page = tmp.write(
        "page.json",
        &serde_json::to_string_pretty(&json!({"data": recs[1..], "next_page": null})).unwrap(),
    );
    let sse: String = recs[1..]
        .iter()
        .map(|r| format!("event: {}\ndata: {}\n\n", r["type"].as_str().unwrap(), r))
        .collect();
    let sse_path = tmp.write(
        "stream.sse",
        &format!(": keepalive\n\nevent: ping\ndata: {{}}\n\n{sse}"),
    );
    // 1 h runtime (0.08) + 1,000 x $3/M (0.003) = 0.083 per session.
    for p in [&plain, &gz_path, &zst_path] {
        let r = run([
            "meter".as_ref(),
            p.as_os_str(),
            "-f".as_ref(),
            "json".as_ref(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let out: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(out["totals"]["cost"]["total"], "0.083", "{}", p.display());
    }
    // A page and an SSE transcript without session objects: their file stems are the session
    // ids, and --model names the model.
    let r = run([
        "meter".as_ref(),
        page.as_os_str(),
        sse_path.as_os_str(),
        "--model".as_ref(),
        "claude-sonnet-4-6".as_ref(),
        "-f".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    let ids: Vec<_> = out["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["page", "stream"]);
    assert_eq!(out["totals"]["cost"]["total"], "0.166");
    // stdin
    let mut child = bin()
        .args(["meter", "-", "-f", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let out: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out["totals"]["cost"]["total"], "0.083");
    // A directory is read recursively, in any mix of encodings.
    let r = run([
        "meter".as_ref(),
        tmp.0.path().as_os_str(),
        "--model".as_ref(),
        "claude-sonnet-4-6".as_ref(),
        "-f".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    // sesn_mix three times over (plain, .gz, .zst: duplicates by id), page, stream.
    assert_eq!(out["totals"]["sessions"], 3);
    assert_eq!(out["totals"]["cost"]["total"], "0.249");
    assert_eq!(out["dropped"]["duplicate_events"], 6);
}

#[test]
fn formats_table_csv_markdown_and_grouping() {
    let text = ndjson(&[
        session("s1", "claude-sonnet-4-6"),
        ev("a", "session.status_running", "2026-06-10T10:00:00Z"),
        request("r", "2026-06-10T10:01:00Z", 1_000, 0, 0, 0),
        ev("b", "session.status_idle", "2026-06-10T11:00:00Z"),
        session("s2", "claude-opus-4-6"),
        ev("c", "session.status_running", "2026-06-11T10:00:00Z"),
        request("r2", "2026-06-11T10:01:00Z", 1_000, 0, 0, 0),
        ev("d", "session.status_idle", "2026-06-11T10:30:00Z"),
    ]);
    // s1: 0.08 + 0.003 = 0.083; s2: 0.04 + 1,000 x $5/M = 0.045; total 0.128.
    let (r, _) = meter_file(&text, &[]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("$0.08")
            && r.stdout.contains("Total (2 sessions)")
            && r.stdout.contains("$0.13"),
        "{}",
        r.stdout
    );
    let (r, _) = meter_file(&text, &["-f", "csv"]);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "session_id,category,quantity,unit,cost_usd,pricing_version"
    );
    assert_eq!(lines.len(), 1 + 2 * 7);
    assert!(
        lines[1].starts_with("s1,runtime,3600000,ms,0.08,anthropic@"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("s1,input,1000,tokens,0.003,"),
        "{}",
        lines[2]
    );
    let (r, _) = meter_file(&text, &["-f", "markdown"]);
    assert!(
        r.stdout.starts_with("| Session | Model |") && r.stdout.contains("| **$0.13** |"),
        "{}",
        r.stdout
    );
    for (by, keys) in [
        ("day", vec!["2026-06-10", "2026-06-11"]),
        ("model", vec!["claude-opus-4-6", "claude-sonnet-4-6"]),
        ("agent", vec!["researcher"]),
    ] {
        let (r, _) = meter_file(&text, &["--group-by", by, "-f", "json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let out: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(out["groups"]["by"], by);
        let rows = out["groups"]["rows"].as_array().unwrap();
        assert_eq!(
            rows.iter()
                .map(|g| g["key"].as_str().unwrap())
                .collect::<Vec<_>>(),
            keys,
            "{by}"
        );
        let sum: rust_decimal::Decimal = rows
            .iter()
            .map(|g| dec(g["cost"]["total"].as_str().unwrap()))
            .sum();
        assert_eq!(sum, dec("0.128"), "{by}");
    }
    let (r, _) = meter_file(&text, &["--group-by", "day", "-f", "csv"]);
    assert!(
        r.stdout.starts_with("day,category,quantity"),
        "{}",
        r.stdout
    );
}

#[test]
fn output_files_are_never_overwritten_without_force() {
    let tmp = Tmp::new();
    let input = tmp.write("a.ndjson", &good_head());
    let out = tmp.write("out.json", "precious");
    let r = run([
        "meter".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("already exists") && r.stderr.contains("--force"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "precious");
    let r = run([
        "meter".as_ref(),
        input.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
        "--force".as_ref(),
        "-f".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains("agentmeter/meter-v1"));
}

#[test]
fn help_and_missing_paths() {
    let r = run(["meter", "--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("--group-by") && r.stdout.contains("Examples:"));
    let r = run(["meter"]);
    assert_eq!(r.code, 2);
    let r = run(["meter", "/nonexistent/dir"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("error: /nonexistent/dir"), "{}", r.stderr);
}

/// `--width 80` (a terminal's width by default): every line fits, the narrow columns are used
/// (input with its cache traffic in one), what is left out is said, and the totals stay whole:
/// the examples' total is $2.44, of which input + cache is 0.571177 + 0.155264 + 0.1053248 =
/// 0.8317658, $0.83 (the exact Input, Cache write and Cache read totals of `--format json`).
#[test]
fn the_table_fits_the_width_and_wide_shows_every_column() {
    let examples = crate::common::fixtures()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("docs/examples");
    let dir = examples.display().to_string();
    let narrow = run(["meter", &dir, "--width", "80"]);
    assert_eq!(narrow.code, 0, "{}", narrow.stderr);
    let table: Vec<&str> = narrow
        .stdout
        .lines()
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(
        table.iter().all(|l| l.chars().count() <= 80),
        "{}",
        narrow.stdout
    );
    assert!(
        table[0].contains("Input+cache") && table[0].ends_with("Total"),
        "{}",
        table[0]
    );
    let total = table.last().unwrap();
    assert!(
        total.starts_with("Total (5 sessions)")
            && total.contains("$0.83")
            && total.ends_with("$2.44"),
        "{total}"
    );
    assert!(
        narrow
            .stdout
            .contains("left out to fit 80 columns (Web search): --wide shows every column"),
        "{}",
        narrow.stdout
    );
    // Not a terminal and no --width: every column, as before; --wide likewise.
    for args in [&["meter", &dir][..], &["meter", &dir, "--wide"][..]] {
        let full = run(args);
        assert!(
            full.stdout.lines().next().unwrap().contains("Cache write"),
            "{}",
            full.stdout
        );
        assert!(!full.stdout.contains("left out to fit"));
    }
    // Token counts beside the amounts: 10,000 + 50,000 + 54,559 + 49,000 + 14,500 = 178,059
    // input tokens (the two seed examples of the pricing page, and the three others' spans).
    let tokens = run(["meter", &dir, "--tokens", "--wide"]);
    let head = tokens.stdout.lines().next().unwrap();
    assert!(
        head.contains("In tok") && head.contains("Read tok"),
        "{head}"
    );
    assert!(tokens.stdout.contains("178,059"), "{}", tokens.stdout);
}

/// Commands that write tables offer only the formats they have: `csv` is refused by the
/// parser (exit 2, the list of values), never accepted and then refused.
#[test]
fn table_commands_offer_only_their_formats() {
    for cmd in ["compare", "project", "reconcile", "anomalies"] {
        let r = run([cmd, "--format", "csv", "x"]);
        assert_eq!(r.code, 2, "{cmd}: {}", r.stderr);
        assert!(
            r.stderr.contains("invalid value 'csv'")
                && r.stderr
                    .contains("[possible values: table, json, markdown]"),
            "{cmd}: {}",
            r.stderr
        );
    }
}

/// Flags with a fixed set of values or a unit are checked by the parser, before any input is
/// read (the inputs named here do not exist): exit 2 and what is expected.
#[test]
fn flags_are_parsed_before_any_input_is_read() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["reconcile", "nowhere", "--tolerance-usd", "10%"],
            "is a percentage; it takes dollars",
        ),
        (
            &["reconcile", "nowhere", "--tolerance-pct", "0.5"],
            "write a percentage such as",
        ),
        (
            &[
                "export",
                "nowhere",
                "-f",
                "parquet",
                "-o",
                "x",
                "--partition",
                "week",
            ],
            "[possible values: day]",
        ),
        (
            &[
                "check",
                "--baseline",
                "b.json",
                "--format",
                "xml",
                "nowhere",
            ],
            "[possible values: text, json]",
        ),
    ];
    for (args, want) in cases {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("invalid value"), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
        assert!(
            !r.stderr.contains("nowhere"),
            "{args:?} read an input: {}",
            r.stderr
        );
    }
}

/// `--color always` colours changes (down is green: Sonnet is cheaper than Opus); never
/// without it when stdout is not a terminal, nor in JSON, nor with `--color never`.
#[test]
fn changes_are_coloured_only_when_asked_or_on_a_terminal() {
    let args = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut a = vec![
            "compare",
            "docs/examples",
            "--model",
            "claude-opus-4-6",
            "--model",
            "claude-sonnet-4-6",
        ];
        a.extend_from_slice(extra);
        a
    };
    let r = run(args(&["--color", "always"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // sesn_seed_uncached: $0.705 on Opus, $0.455 on Sonnet (seed article): -$0.25.
    assert!(r.stdout.contains("\x1b[32m-$0.25\x1b[0m"), "{}", r.stdout);
    assert!(
        !r.stdout.contains("\x1b[31m"),
        "nothing is dearer: {}",
        r.stdout
    );
    for plain in [
        args(&[]),
        args(&["--color", "never"]),
        args(&["--color", "always", "-f", "json"]),
    ] {
        let r = run(&plain);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(!r.stdout.contains('\x1b'), "{plain:?}: {}", r.stdout);
    }
}
