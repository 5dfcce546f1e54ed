//! `compare`, `baseline` and `check` end to end, with costs worked out by hand.
//! Sonnet 4.6: input $3/M, output $15/M; runtime $0.08/h.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::common::*;

/// A task run: `minutes` of running time and one request.
fn task(title: &str, id: &str, minutes: u32, input: u64, output: u64) -> String {
    let mut s = session(id, "claude-sonnet-4-6");
    s["title"] = json!(title);
    ndjson(&[
        s,
        ev(
            &format!("{id}_r"),
            "session.status_running",
            "2026-10-01T10:00:00Z",
        ),
        request(
            &format!("{id}_q"),
            "2026-10-01T10:01:00Z",
            input,
            output,
            0,
            0,
        ),
        ev(
            &format!("{id}_i"),
            "session.status_idle",
            &format!(
                "2026-10-01T{:02}:{:02}:00Z",
                10 + minutes / 60,
                minutes % 60
            ),
        ),
    ])
}

/// alpha: 1 h + 100,000 input = 0.08 + 0.30 = 0.38. beta: 30 min + 10,000 output = 0.04 + 0.15 = 0.19.
fn run_dir(tmp: &Tmp, name: &str, alpha_input: u64, with_beta: bool, with_gamma: bool) -> PathBuf {
    tmp.write(
        &format!("{name}/alpha.ndjson"),
        &task("alpha", &format!("sesn_{name}_a"), 60, alpha_input, 0),
    );
    if with_beta {
        tmp.write(
            &format!("{name}/beta.ndjson"),
            &task("beta", &format!("sesn_{name}_b"), 30, 0, 10_000),
        );
    }
    if with_gamma {
        // gamma: 15 min + 1,000 output = 0.02 + 0.015 = 0.035.
        tmp.write(
            &format!("{name}/gamma.ndjson"),
            &task("gamma", &format!("sesn_{name}_g"), 15, 0, 1_000),
        );
    }
    tmp.path(name)
}

/// Run the binary in `dir` (outside any git checkout).
fn run_in(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = bin();
    cmd.args(args)
        .current_dir(dir)
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdin(std::process::Stdio::null());
    run_cmd_within(&mut cmd, 120)
}

fn setup() -> (Tmp, PathBuf) {
    let tmp = Tmp::new();
    let base = run_dir(&tmp, "base", 100_000, true, false);
    let r = run_in(
        tmp.0.path(),
        &["baseline", base.to_str().unwrap(), "-o", "baseline.json"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let b: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path("baseline.json")).unwrap()).unwrap();
    assert_eq!(b["schema"], "agentmeter/baseline-v1");
    assert_eq!(b["total"], "0.57");
    assert_eq!(b["git_commit"], Value::Null);
    (tmp, base)
}

fn check(tmp: &Tmp, run: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "check",
        run.to_str().unwrap(),
        "--baseline",
        "baseline.json",
    ];
    args.extend(extra);
    run_in(tmp.0.path(), &args)
}

#[test]
fn an_unchanged_run_passes_and_thresholds_fail_by_percent_dollars_and_budget() {
    let (tmp, base) = setup();
    assert_eq!(check(&tmp, &base, &["--max-increase", "10%"]).code, 0);
    // alpha with 200,000 input: 0.08 + 0.60 = 0.68, +0.30 on a total of 0.57 = +52.6%.
    let pr = run_dir(&tmp, "pr", 200_000, true, false);
    let r = check(&tmp, &pr, &["--max-increase", "10%"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("volume +52.6% > max increase 10%"),
        "{}",
        r.stdout
    );
    assert_eq!(check(&tmp, &pr, &["--max-increase", "60%"]).code, 0);
    let r = check(&tmp, &pr, &["--max-increase-usd", "0.20"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("volume +$0.30 > max increase $0.20"),
        "{}",
        r.stdout
    );
    assert_eq!(check(&tmp, &pr, &["--max-increase-usd", "0.50"]).code, 0);
    // The unchanged run costs 0.57: over a 0.50 budget, under a 0.60 one.
    let r = check(&tmp, &base, &["--budget", "0.50"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("$0.57 > budget $0.50"), "{}", r.stdout);
    assert_eq!(check(&tmp, &base, &["--budget", "0.60"]).code, 0);
}

#[test]
fn the_markdown_comment() {
    let (tmp, _) = setup();
    let pr = run_dir(&tmp, "pr", 200_000, true, false);
    let r = check(
        &tmp,
        &pr,
        &[
            "--max-increase",
            "10%",
            "--per-task",
            "--comment-file",
            "comment.md",
        ],
    );
    assert_eq!(r.code, 1);
    let version = agentmeter::pricing::PriceTable::bundled().unwrap().version;
    // alpha: 0.38 -> 0.68, +0.30 = +78.9% of 0.38; beta unchanged. Written by hand: the
    // hidden marker first (a workflow finds its one comment by it), "1 task" in the singular.
    let want = format!(
        "<!-- agentmeter-cost-check -->\n\
         ## agentmeter cost check: ❌ failed\n\n\
         Total: $0.57 → $0.87 (▲ +$0.30 (+52.6%)): volume +$0.30, price $0.00.\n\
         Baseline priced with `{version}`.\n\n\
         - ❌ total: volume +52.6% > max increase 10%\n\n\
         | Task | Baseline | Now | Change | Volume | Price | Threshold |\n\
         |---|---:|---:|---:|---:|---:|---|\n\
         | alpha | $0.38 | $0.68 | ▲ +$0.30 (+78.9%) | +$0.30 | $0.00 | ❌ volume +78.9% > max increase 10% |\n\n\
         1 task unchanged.\n"
    );
    assert_eq!(
        std::fs::read_to_string(tmp.path("comment.md")).unwrap(),
        want
    );
    assert_eq!(r.stdout, want);
    // It is appended to $GITHUB_STEP_SUMMARY when that is set.
    let summary = tmp.write("summary.md", "earlier\n");
    let out = bin()
        .args([
            "check",
            pr.to_str().unwrap(),
            "--baseline",
            "baseline.json",
            "--max-increase",
            "10%",
            "--per-task",
        ])
        .current_dir(tmp.0.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        format!("earlier\n{want}")
    );
}

#[test]
fn new_and_missing_tasks_are_listed() {
    let (tmp, _) = setup();
    // alpha unchanged, beta gone, gamma new: 0.38 + 0.035 = 0.415 against 0.57.
    let pr = run_dir(&tmp, "pr", 100_000, false, true);
    let r = check(&tmp, &pr, &["--max-increase", "10%", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["new_tasks"],
        json!([{"task": "gamma", "current": "0.035"}])
    );
    assert_eq!(
        v["missing_tasks"],
        json!([{"task": "beta", "baseline": "0.19"}])
    );
    assert_eq!(v["total"]["change"], "-0.155");
    let r = check(&tmp, &pr, &["--max-increase", "10%"]);
    assert!(
        r.stdout.contains("New since the baseline: `gamma` ($0.04)")
            && r.stdout
                .contains("Missing since the baseline: `beta` (was $0.19)"),
        "{}",
        r.stdout
    );
}

#[test]
fn volume_and_price_parts_add_up_to_the_change() {
    // Baseline at $3/M input; today Sonnet 4.6 input is $4/M and alpha reads 150,000 tokens.
    // Baseline alpha 0.08 + 100,000 x 3 = 0.38. Today at baseline prices 0.08 + 150,000 x 3 =
    // 0.53 (volume +0.15); at today's 0.08 + 150,000 x 4 = 0.68 (price +0.15); change +0.30.
    let (tmp, _) = setup();
    let pr = run_dir(&tmp, "pr", 150_000, true, false);
    // Append a later Sonnet 4.6 row with input at $4/M, in force from 2026-09-01.
    let dearer = agentmeter::pricing::BUNDLED.replacen(
        "note = \"long-context premium removed\"\n\n[[model]]\nid = \"claude-haiku-4-5\"",
        "note = \"long-context premium removed\"\n[[model.price]]\neffective = \"2026-09-01T00:00:00Z\"\ninput = \"4\"\noutput = \"15\"\ncache_write_5m = \"5\"\ncache_write_1h = \"8\"\ncache_read = \"0.40\"\n\n[[model]]\nid = \"claude-haiku-4-5\"",
        1,
    );
    assert_ne!(dearer, agentmeter::pricing::BUNDLED, "the edit applied");
    tmp.write("dearer.toml", &dearer);
    let r = check(
        &tmp,
        &pr,
        &[
            "--max-increase",
            "30%",
            "--pricing",
            "dearer.toml",
            "--format",
            "json",
        ],
    );
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let t = &v["tasks"][0];
    assert_eq!(
        (
            t["task"].as_str(),
            t["baseline"].as_str(),
            t["current"].as_str()
        ),
        (Some("alpha"), Some("0.38"), Some("0.68"))
    );
    assert_eq!(
        (
            t["volume"].as_str(),
            t["price"].as_str(),
            t["change"].as_str()
        ),
        (Some("0.15"), Some("0.15"), Some("0.3"))
    );
    let d = |k: &str| dec(v["total"][k].as_str().unwrap());
    assert_eq!(d("volume") + d("price"), d("change"));
    assert_eq!(d("volume"), dec("0.15"));
    // The price rise alone does not fail a 30% gate (volume is 0.15 / 0.57 = 26%); all of the
    // change would (0.30 / 0.57 = 53%). With --reprice-baseline the baseline is priced today:
    // alpha 0.08 + 100,000 x 4 = 0.48, so the change 0.68 - 0.48 = 0.20 is all volume.
    let r = check(
        &tmp,
        &pr,
        &[
            "--max-increase",
            "30%",
            "--pricing",
            "dearer.toml",
            "--reprice-baseline",
            "--format",
            "json",
        ],
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        (
            v["tasks"][0]["volume"].as_str(),
            v["tasks"][0]["price"].as_str()
        ),
        (Some("0.2"), Some("0"))
    );
}

#[test]
fn bad_baselines_and_thresholds_are_errors() {
    let (tmp, base) = setup();
    let r = check(&tmp, &base, &["--max-increase", "10"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--max-increase \"10\": write a percentage"),
        "{}",
        r.stderr
    );
    let r = check(&tmp, &base, &["--max-increase-usd", "10%"]);
    assert_eq!(r.code, 2);
    let r = check(&tmp, &base, &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no threshold"), "{}", r.stderr);
    tmp.write(
        "old.json",
        "{\"schema\": \"agentmeter/baseline-v0\", \"tasks\": []}",
    );
    let r = run_in(
        tmp.0.path(),
        &[
            "check",
            base.to_str().unwrap(),
            "--baseline",
            "old.json",
            "--max-increase",
            "10%",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("baseline schema \"agentmeter/baseline-v0\""),
        "{}",
        r.stderr
    );
    let other = tmp.path("other");
    tmp.write("other/x.ndjson", &task("unrelated", "sesn_x", 10, 1, 1));
    let r = check(&tmp, &other, &["--max-increase", "10%"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no task of the run is in the baseline"),
        "{}",
        r.stderr
    );
    tmp.write("empty/nothing.ndjson", "");
    let r = check(&tmp, &tmp.path("empty"), &["--max-increase", "10%"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no sessions"), "{}", r.stderr);
}

#[test]
fn per_task_overrides_from_agentmeter_toml() {
    let (tmp, _) = setup();
    let pr = run_dir(&tmp, "pr", 200_000, true, false);
    // alpha may grow 100% (it grows 78.9%); the total limit 60% holds (52.6%).
    tmp.write("agentmeter.toml", "[check]\nmax_increase = \"60%\"\nper_task = true\n[check.task.alpha]\nmax_increase = \"100%\"\n");
    assert_eq!(check(&tmp, &pr, &[]).code, 0);
    tmp.write("agentmeter.toml", "[check]\nmax_increase = \"60%\"\nper_task = true\n[check.task.alpha]\nmax_increase = \"50%\"\n");
    let r = check(&tmp, &pr, &[]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("| alpha |") && r.stdout.contains("max increase 50%"),
        "{}",
        r.stdout
    );
}

#[test]
fn repricing_an_opus_trace_as_sonnet() {
    // The seed's Opus hour (0.705) as Sonnet 4.6: 50,000 x $3/M = 0.15, 15,000 x $15/M = 0.225,
    // runtime 0.08: 0.455. Difference -0.25, ratio 0.455 / 0.705 = 0.645390 (6 places).
    // As Opus 4.7 with 1.35x tokens: 67,500 x $5/M = 0.3375, 20,250 x $25/M = 0.50625, + 0.08 = 0.92375.
    let f = fixtures().join("seed-example-uncached.ndjson");
    let r = run([
        "compare",
        f.to_str().unwrap(),
        "--model",
        "claude-opus-4-6",
        "--model",
        "claude-sonnet-4-6",
        "--model",
        "claude-opus-4-7",
        "--token-scale",
        "claude-opus-4-7=1.35",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["schema"], "agentmeter/compare-v1");
    let totals = v["totals"].as_array().unwrap();
    assert_eq!(totals[0]["cost"]["total"], "0.705");
    assert_eq!(totals[1]["cost"]["total"], "0.455");
    assert_eq!(totals[1]["cost"]["input"], "0.15");
    assert_eq!(totals[1]["difference"], "-0.25");
    assert_eq!(totals[1]["ratio"], "0.64539");
    assert_eq!(totals[2]["cost"]["total"], "0.92375");
    let r = run([
        "compare",
        f.to_str().unwrap(),
        "--model",
        "claude-opus-4-6",
        "--model",
        "claude-sonnet-4-6",
    ]);
    assert!(
        r.stdout.contains("0.65x") && r.stdout.contains("would not use the same tokens"),
        "{}",
        r.stdout
    );
}

#[test]
fn paired_runs_give_the_mean_difference_with_its_interval() {
    // Five tasks; B costs differ from A by -0.03, -0.01, 0, +0.02, +0.07 (in output tokens at
    // $15/M: 2,000 fewer tokens = -0.03). Mean difference +0.01; the 95% interval contains it.
    let tmp = Tmp::new();
    let deltas: [i64; 5] = [-2000, -666, 0, 1333, 4666];
    for (i, d) in deltas.iter().enumerate() {
        let base_out = 10_000u64;
        tmp.write(
            &format!("a/t{i}.ndjson"),
            &task(&format!("task-{i}"), &format!("sesn_a{i}"), 0, 0, base_out),
        );
        tmp.write(
            &format!("b/t{i}.ndjson"),
            &task(
                &format!("task-{i}"),
                &format!("sesn_b{i}"),
                0,
                0,
                (base_out as i64 + d) as u64,
            ),
        );
    }
    tmp.write("b/extra.ndjson", &task("task-only-b", "sesn_bx", 0, 0, 1));
    let r = run([
        "compare",
        "--a",
        tmp.path("a").to_str().unwrap(),
        "--b",
        tmp.path("b").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let s = &v["summary"];
    assert_eq!(s["pairs"], 5);
    // -2,000 + -666 + 0 + 1,333 + 4,666 = 3,333 tokens x $15/M = 0.049995; / 5 = 0.009999.
    assert_eq!(s["mean_difference"], "0.009999");
    let (lo, hi) = (
        dec(s["ci95"][0].as_str().unwrap()),
        dec(s["ci95"][1].as_str().unwrap()),
    );
    assert!(lo < dec("0.009999") && dec("0.009999") < hi, "{lo} {hi}");
    assert!(lo > dec("-0.03") && hi < dec("0.07"));
    assert_eq!(
        (
            s["b_cheaper"].as_u64(),
            s["b_dearer"].as_u64(),
            s["ties"].as_u64()
        ),
        (Some(2), Some(2), Some(1))
    );
    assert_eq!(v["unpaired"]["b"], json!(["task-only-b"]));
}

#[test]
fn paired_reports_have_their_charts() {
    let tmp = Tmp::new();
    for i in 0..3 {
        tmp.write(
            &format!("a/t{i}.ndjson"),
            &task(&format!("t{i}"), &format!("sa{i}"), 10, 1000, 100),
        );
        tmp.write(
            &format!("b/t{i}.ndjson"),
            &task(&format!("t{i}"), &format!("sb{i}"), 12, 1500, 100),
        );
    }
    let dir = tmp.path("rep");
    let r = run([
        "compare",
        "--a",
        tmp.path("a").to_str().unwrap(),
        "--b",
        tmp.path("b").to_str().unwrap(),
        "--pair-by",
        "file",
        "--report",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for f in [
        "index.html",
        "report.md",
        "compare.json",
        "paired-tasks.png",
        "paired-tasks.svg",
        "paired-differences.png",
        "paired-differences.svg",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    let svg = std::fs::read_to_string(dir.join("paired-tasks.svg")).unwrap();
    assert!(svg.contains("Cost per task, A and B") && svg.contains("Cost per task (USD)"));
}

/// Output tokens of task `i` of the 2,000-task suite, in the baseline and in the run.
/// Sonnet 4.6 output is $15/M = $0.000015 a token; no running time.
/// - 0..10: 2,000 -> 2,000 + 1,000 (i + 1): $0.03 -> +$0.015 (i + 1) = +50% (i + 1).
/// - 10..20: 600 -> 900: $0.009 -> $0.0135, +$0.0045 = +50% (over 10%, under a cent).
/// - 20..30: 2,000 -> 1,000: -$0.015 = -50%.
/// - 30..1,030: 2,000 -> 2,040: +40 x 0.000015 = +$0.0006 = +2%.
/// - 1,030..2,000: 2,000, unchanged.
fn suite_tokens(i: u64) -> (u64, u64) {
    match i {
        0..10 => (2_000, 2_000 + 1_000 * (i + 1)),
        10..20 => (600, 900),
        20..30 => (2_000, 1_000),
        30..1030 => (2_000, 2_040),
        _ => (2_000, 2_000),
    }
}

/// The suite's baseline (written with `agentmeter baseline`) and its run, one file each.
fn suite() -> (Tmp, PathBuf) {
    let tmp = Tmp::new();
    for (dir, pick) in [("base", 0), ("pr", 1)] {
        let text: String = (0..2_000u64)
            .map(|i| {
                let t = suite_tokens(i);
                let out = if pick == 0 { t.0 } else { t.1 };
                task(
                    &format!("task-{i:04}"),
                    &format!("sesn_{dir}_{i}"),
                    0,
                    0,
                    out,
                )
            })
            .collect();
        tmp.write(&format!("{dir}/all.ndjson"), &text);
    }
    let r = run_in(
        tmp.0.path(),
        &[
            "baseline",
            tmp.path("base").to_str().unwrap(),
            "-o",
            "baseline.json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // 1,990 x 0.03 + 10 x 0.009 = 59.70 + 0.09.
    let b: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path("baseline.json")).unwrap()).unwrap();
    assert_eq!(b["total"], "59.79");
    let pr = tmp.path("pr");
    (tmp, pr)
}

#[test]
fn a_two_thousand_task_comment_fits_leads_with_the_largest_change_and_sums_up_the_rest() {
    let (tmp, pr) = suite();
    let r = check(
        &tmp,
        &pr,
        &[
            "--max-increase",
            "10%",
            "--per-task",
            "--json",
            "check.json",
        ],
    );
    // The total: +0.015 x 55 + 10 x 0.0045 - 10 x 0.015 + 1,000 x 0.0006 = 0.825 + 0.045 -
    // 0.15 + 0.6 = +1.32 on 59.79 (+2.2%): it passes; tasks 0..10 fail.
    assert_eq!(r.code, 1, "{}", r.stderr);
    let md = &r.stdout;
    let n = md.chars().count();
    // GitHub takes 65,536; the comment keeps to its own budget of 60,000.
    assert!(n <= 60_000, "{n} characters");
    let mut lines = md.lines();
    assert_eq!(lines.next(), Some("<!-- agentmeter-cost-check -->"));
    assert_eq!(md.matches("<!-- agentmeter-cost-check -->").count(), 1);
    assert!(
        md.contains("Total: $59.79 → $61.11 (▲ +$1.32 (+2.2%)): volume +$1.32, price $0.00."),
        "{md}"
    );
    // The first row: task 9, $0.03 + 0.015 x 10 = $0.18, +500%.
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| task-")).collect();
    assert_eq!(
        rows[0],
        "| task-0009 | $0.03 | $0.18 | ▲ +$0.15 (+500%) | +$0.15 | $0.00 | ❌ volume +500% > max increase 10% |"
    );
    // Then tasks 8..1, then the ties at 0.015 by name: task-0000 (+), task-0020..0029 (-).
    let names: Vec<&str> = rows.iter().map(|r| &r[2..11]).collect();
    let want: Vec<String> = (1..10)
        .rev()
        .chain(std::iter::once(0))
        .chain(20..30)
        .map(|i| format!("task-{i:04}"))
        .collect();
    assert_eq!(names[..20], want[..]);
    assert_eq!(
        rows[10],
        // 1,000 x 0.000015 = 0.015: a cent or more, so to the cent, half away from zero.
        "| task-0020 | $0.03 | $0.02 | ▼ -$0.02 (-50%) | -$0.02 | $0.00 | ✅ |"
    );
    // The rest: 970 unchanged, and 10 + 1,000 dearer, none failed.
    assert!(
        md.contains("\nNot in the table: 970 tasks unchanged, 1,010 dearer.\n"),
        "{md}"
    );
    assert!(md.contains("<details><summary>"), "{md}");
    // The collapsed rows: the ten under a cent first ($0.009 -> $0.0135 shows as $0.01).
    assert_eq!(
        rows[20],
        "| task-0010 | $0.009 | $0.01 | ▲ +$0.0045 (+50%) | +$0.0045 | $0.00 | ✅ |"
    );
    assert!(
        // 2,040 x 0.000015 = 0.0306 shows as $0.03; the change under a cent, +$0.0006.
        rows.contains(&"| task-0030 | $0.03 | $0.03 | ▲ +$0.0006 (+2%) | +$0.0006 | $0.00 | ✅ |"),
        "{md}"
    );
    // 1,010 collapsed rows of about 75 characters do not fit: the rest is in the JSON.
    assert!(rows.len() < 1_030, "{}", rows.len());
    assert!(
        md.contains("changed tasks are not shown here") && md.contains("`check.json`"),
        "{md}"
    );
    // Nothing that moved reads as $0.00: after every "+$0.00" or "-$0.00" comes a digit.
    for sign in ["+$0.00", "-$0.00"] {
        for (at, _) in md.match_indices(sign) {
            let next = md[at + sign.len()..].chars().next();
            assert!(next.is_some_and(|c| c.is_ascii_digit()), "{sign} at {at}");
        }
    }
    // Exactly tasks 0..10 fail: over 10% and over a cent. Tasks 10..20 (+50%, +$0.0045) do not.
    assert_eq!(md.matches("| ❌ volume").count(), 10, "{md}");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path("check.json")).unwrap()).unwrap();
    let tasks = v["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2_000);
    let failed: Vec<&str> = tasks
        .iter()
        .filter(|t| !t["failed"].as_array().unwrap().is_empty())
        .map(|t| t["task"].as_str().unwrap())
        .collect();
    let want: Vec<String> = (0..10).rev().map(|i| format!("task-{i:04}")).collect();
    assert_eq!(failed, want);
    // Judged to the last fraction of a cent, tasks 10..20 fail as well.
    let r = check(
        &tmp,
        &pr,
        &[
            "--max-increase",
            "10%",
            "--per-task",
            "--ignore-below-usd",
            "0",
            "--format",
            "json",
        ],
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let failed = v["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| !t["failed"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(failed, 20);
}

#[test]
fn without_per_task_only_the_total_has_a_verdict() {
    let (tmp, pr) = suite();
    // The total grows 2.2%: it fails a 2% limit, and no task row says anything of it.
    let r = check(&tmp, &pr, &["--max-increase", "2%"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let md = &r.stdout;
    assert!(
        md.contains("- ❌ total: volume +2.2% > max increase 2%"),
        "{md}"
    );
    assert_eq!(md.matches('❌').count(), 2, "{md}"); // the heading and the total
    assert!(!md.contains('✅'), "{md}");
    assert!(md.contains(
        "| Task | Baseline | Now | Change | Volume | Price |\n|---|---:|---:|---:|---:|---:|\n"
    ));
    assert!(!md.contains("Threshold"), "{md}");
    assert!(
        md.contains("| task-0009 | $0.03 | $0.18 | ▲ +$0.15 (+500%) | +$0.15 | $0.00 |\n"),
        "{md}"
    );
    // Without --json, the comment says how to get every task.
    assert!(md.contains("`--json FILE` writes every task"), "{md}");
}

#[test]
fn ignore_below_usd_comes_from_agentmeter_toml_and_flags_win() {
    let (tmp, pr) = suite();
    let failed = |r: &Run| -> usize {
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        v["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| !t["failed"].as_array().unwrap().is_empty())
            .count()
    };
    // Task 0 moves +$0.015, tasks 1..10 +$0.03 and more: a 2-cent floor spares task 0 only.
    tmp.write(
        "agentmeter.toml",
        "[check]\nmax_increase = \"10%\"\nper_task = true\nignore_below_usd = \"0.02\"\n",
    );
    assert_eq!(failed(&check(&tmp, &pr, &["--format", "json"])), 9);
    let r = check(
        &tmp,
        &pr,
        &["--format", "json", "--ignore-below-usd", "0.001"],
    );
    assert_eq!(failed(&r), 20);
    let r = check(&tmp, &pr, &["--ignore-below-usd", "1%"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--ignore-below-usd \"1%\" is a percentage"),
        "{}",
        r.stderr
    );
}
