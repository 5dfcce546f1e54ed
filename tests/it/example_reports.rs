//! reports/ (the example reports a visitor opens) is what the commands write today: each is
//! regenerated into a temporary directory with the commands of scripts/regen-reports.sh and
//! compared with reports/ file by file.
//!
//! Masked (the only volatile part of what `report`, `meter --report` and `project --report`
//! write): the line `Generated 2026-12-02T02:47:02Z by agentmeter 0.1.0.` at the top of
//! `index.html` and `report.md` (the time of the run, and the crate version), which must occur
//! exactly once in each of those two files. Nothing else is masked: no absolute path is
//! written (inputs are named as given, relative to the repository), the price table's version
//! is a hash of its content, and the projection's numbers depend only on --seed.
//!
//! PNGs are compared byte for byte: they are deterministic (plotters' bitmap backend with the
//! embedded font, no time or metadata chunk; two runs, and a run on one thread, gave identical
//! bytes).

use std::path::{Path, PathBuf};

use crate::common::*;

const REFRESH: &str = "scripts/regen-reports.sh";

/// The slow one (the budget projection) takes about 10 s in a debug build on a free core.
const SECS: u64 = 180;

/// One report: its directory under reports/ and the arguments that write it into `OUT/DIR`
/// (`OUT` stands for the output directory: `"$out"` in the script).
struct Example {
    dir: &'static str,
    args: &'static [&'static str],
}

const EXAMPLES: &[Example] = &[
    Example {
        dir: "examples",
        args: &["report", "docs/examples", "-o", "OUT/examples"],
    },
    Example {
        dir: "budget",
        args: &[
            "project",
            "scenarios/budget.toml",
            "--seed",
            "7",
            "--runs",
            "200",
            "--report",
            "OUT/budget",
        ],
    },
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The files masked, and what their volatile line becomes.
const MASKED_FILES: &[&str] = &["index.html", "report.md"];
const MASK: &str = "Generated <TIME> by agentmeter <VERSION>.";

/// `text` with each `Generated YYYY-MM-DDTHH:MM:SSZ by agentmeter VERSION.` replaced by
/// [`MASK`], and how many were replaced. The timestamp must have exactly that shape and the
/// version be a semver-like word, so that nothing else can hide behind the mask.
fn mask(text: &str) -> (String, usize) {
    const HEAD: &str = "Generated ";
    const BY: &str = " by agentmeter ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut n = 0;
    while let Some(i) = rest.find(HEAD) {
        out.push_str(&rest[..i]);
        let after = &rest[i + HEAD.len()..];
        let stamp_ok = after.len() >= 20
            && after.as_bytes()[..20]
                .iter()
                .enumerate()
                .all(|(k, &b)| match k {
                    4 | 7 => b == b'-',
                    10 => b == b'T',
                    13 | 16 => b == b':',
                    19 => b == b'Z',
                    _ => b.is_ascii_digit(),
                });
        let version = stamp_ok
            .then(|| after[20..].strip_prefix(BY))
            .flatten()
            .and_then(|v| {
                let end = v.find(". ").or_else(|| v.find(".\n"))?;
                let word = &v[..end];
                let ok = !word.is_empty()
                    && word.starts_with(|c: char| c.is_ascii_digit())
                    && word
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-+".contains(c));
                ok.then_some(end)
            });
        match version {
            Some(end) => {
                out.push_str(MASK);
                rest = &after[20 + BY.len() + end + 1..];
                n += 1;
            }
            None => {
                out.push_str(HEAD);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    (out, n)
}

/// Every file under `dir` (hidden ones too: `.agentmeter`), as sorted relative paths.
fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The command line as scripts/regen-reports.sh writes it.
fn script_line(ex: &Example) -> String {
    let args: Vec<String> = ex
        .args
        .iter()
        .map(|a| match a.strip_prefix("OUT/") {
            Some(rest) => format!("\"$out/{rest}\""),
            None => a.to_string(),
        })
        .collect();
    format!("cargo run -q -- {}", args.join(" "))
}

/// Why `have` (in reports/) and `want` (just written) differ, if they do.
fn difference(name: &Path, have: &[u8], want: &[u8]) -> Option<String> {
    let file = name.file_name().and_then(|f| f.to_str()).unwrap_or("");
    if MASKED_FILES.contains(&file) {
        let (have, want) = (
            String::from_utf8_lossy(have).into_owned(),
            String::from_utf8_lossy(want).into_owned(),
        );
        let ((have, nh), (want, nw)) = (mask(&have), mask(&want));
        if nw != 1 {
            return Some(format!(
                "the new {} has {nw} `Generated TIME by agentmeter VERSION.` line(s), not 1: \
                 the mask in tests/it/example_reports.rs no longer fits what the report writes",
                name.display()
            ));
        }
        if nh != 1 {
            return Some(format!(
                "reports/{} has {nh} generated line(s), not 1",
                name.display()
            ));
        }
        return (have != want).then(|| first_line_difference(&have, &want));
    }
    if have == want {
        return None;
    }
    match (std::str::from_utf8(have), std::str::from_utf8(want)) {
        (Ok(h), Ok(w)) => Some(first_line_difference(h, w)),
        _ => Some(format!(
            "the bytes differ ({} bytes in reports/, {} written now)",
            have.len(),
            want.len()
        )),
    }
}

fn first_line_difference(have: &str, want: &str) -> String {
    let (mut h, mut w) = (have.lines(), want.lines());
    let mut n = 0;
    loop {
        n += 1;
        match (h.next(), w.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (x, y) => {
                let cut = |l: Option<&str>| match l {
                    None => "(end of file)".to_string(),
                    Some(l) if l.chars().count() > 200 => {
                        format!("{:?}...", l.chars().take(200).collect::<String>())
                    }
                    Some(l) => format!("{l:?}"),
                };
                return format!(
                    "first difference at line {n}:\n  reports/: {}\n  now:      {}",
                    cut(x),
                    cut(y)
                );
            }
        }
    }
}

/// Write `ex` into a temporary directory, as the script does, and compare it with reports/.
fn check(ex: &Example) {
    let tmp = Tmp::new();
    let out = tmp.0.path().display().to_string();
    let args: Vec<String> = ex.args.iter().map(|a| a.replace("OUT", &out)).collect();
    let mut cmd = bin();
    cmd.current_dir(root())
        .args(&args)
        .stdin(std::process::Stdio::null());
    let r = run_cmd_within(&mut cmd, SECS);
    assert_eq!(r.code, 0, "agentmeter {}: {}", args.join(" "), r.stderr);

    let written = tmp.path(ex.dir);
    let kept = root().join("reports").join(ex.dir);
    let (now, before) = (files(&written), files(&kept));
    assert!(
        now.len() >= 5,
        "agentmeter {} wrote only {now:?}",
        args.join(" ")
    );
    if let Some(name) = now.iter().find(|n| !before.contains(n)) {
        panic!(
            "reports/{}/{} is missing (the command writes it now); refresh: {REFRESH}",
            ex.dir,
            name.display()
        );
    }
    if let Some(name) = before.iter().find(|n| !now.contains(n)) {
        panic!(
            "reports/{}/{} is no longer written by the command; refresh: {REFRESH}",
            ex.dir,
            name.display()
        );
    }
    for name in &now {
        let have = std::fs::read(kept.join(name)).unwrap();
        let want = std::fs::read(written.join(name)).unwrap();
        if let Some(why) = difference(name, &have, &want) {
            panic!(
                "reports/{}/{} differs from what `agentmeter {}` writes now: {why}\nrefresh: {REFRESH}",
                ex.dir,
                name.display(),
                ex.args.join(" ").replace("OUT/", "reports/")
            );
        }
    }
}

#[test]
fn example_reports_examples_matches_reports_dir() {
    check(&EXAMPLES[0]);
}

#[test]
fn example_reports_budget_projection_matches_reports_dir() {
    check(&EXAMPLES[1]);
}

/// reports/ holds the example reports and its README, nothing stale; the script runs the
/// same commands as the tests above, and reports/ stays small.
#[test]
fn example_reports_dir_and_script_agree() {
    let mut top: Vec<String> = std::fs::read_dir(root().join("reports"))
        .expect("reports/ exists (scripts/regen-reports.sh writes it)")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    let mut want: Vec<String> = EXAMPLES.iter().map(|e| e.dir.to_string()).collect();
    want.push("README.md".into());
    want.sort();
    assert_eq!(
        top, want,
        "reports/ holds something else; refresh: {REFRESH}"
    );

    let script = std::fs::read_to_string(root().join("scripts/regen-reports.sh")).unwrap();
    for ex in EXAMPLES {
        let line = script_line(ex);
        assert!(
            script.lines().any(|l| l.starts_with(&line)),
            "scripts/regen-reports.sh does not run `{line}` (the test and the script must run the same commands)"
        );
    }

    let total: u64 = files(&root().join("reports"))
        .iter()
        .map(|f| {
            std::fs::metadata(root().join("reports").join(f))
                .unwrap()
                .len()
        })
        .sum();
    assert!(
        total < 2_000_000,
        "reports/ is {total} bytes: keep it small"
    );
}

#[test]
fn example_reports_mask_hides_only_the_generated_line() {
    let page = "<p class=\"meta\">Generated 2026-12-02T02:47:02Z by agentmeter 0.1.0. Prices: \
                anthropic@b7a911f9. Inputs: docs/examples.</p>";
    let (masked, n) = mask(page);
    assert_eq!(n, 1);
    assert_eq!(
        masked,
        "<p class=\"meta\">Generated <TIME> by agentmeter <VERSION>. Prices: \
         anthropic@b7a911f9. Inputs: docs/examples.</p>"
    );
    // Another time and version mask to the same text; other prices or inputs do not.
    let later = page.replace("2026-12-02T02:47:02Z", "2031-01-09T23:59:59Z");
    assert_eq!(mask(&later.replace("0.1.0", "1.12.0-rc.1")).0, masked);
    assert_ne!(mask(&page.replace("b7a911f9", "00000000")).0, masked);
    assert_ne!(mask(&page.replace("docs/examples", "/tmp/x")).0, masked);
    // Only that shape: a date alone, or words after "Generated", stay as they are.
    for text in [
        "Generated 2026-12-02 by agentmeter 0.1.0. x",
        "Generated 2026-12-02T02:47:02Z by hand. x",
        "Generated by agentmeter 0.1.0. x",
        "Generated 2026-12-02T02:47:0xZ by agentmeter 0.1.0. x",
    ] {
        assert_eq!(mask(text), (text.to_string(), 0), "{text}");
    }
    // A report with no generated line is a difference, not a silent pass.
    let name = Path::new("index.html");
    assert!(difference(name, page.as_bytes(), b"<p>no meta</p>").is_some());
    assert!(difference(name, page.as_bytes(), later.as_bytes()).is_none());
    assert!(difference(Path::new("a.png"), b"\x89PNG1", b"\x89PNG2").is_some());
}
