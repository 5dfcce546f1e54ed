//! Shipping: the GitHub action's script (with a fake `gh` and `curl` on PATH, never the
//! network), the action and release workflow as the runner reads them, binstall's names,
//! shell completions and man pages.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use serde_norway::Value as Yaml;

use crate::common::*;

const MARKER: &str = "<!-- agentmeter-cost-check -->";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn text(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap()
}

fn yaml(path: &str) -> Yaml {
    serde_norway::from_str(&text(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fake `gh`: logs each call's arguments (and stdin for `--input -`) as one JSON line, and
/// answers the comment listing with the canned `comments.json`.
const FAKE_GH: &str = r#"#!/usr/bin/env bash
set -euo pipefail
stdin=null
if [[ " $* " == *" --input - "* ]]; then stdin=$(jq -Rs .); fi
args=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
jq -nc --argjson args "$args" --argjson stdin "$stdin" '{args: $args, stdin: $stdin}' >>"$FAKE_DIR/gh.log"
case " $* " in
  *" --method "*) echo '{"id": 1}' ;;
  *) cat "$FAKE_DIR/comments.json" ;;
esac
"#;

/// A fake `curl -fsSL ... -o FILE URL`: copies URL's last part from `$FAKE_DIR/release/`,
/// or fails as curl -f does on a 404.
const FAKE_CURL: &str = r#"#!/usr/bin/env bash
set -euo pipefail
out= url=
while [ $# -gt 0 ]; do
  case "$1" in -o) out=$2; shift ;; --retry) shift ;; -*) ;; *) url=$1 ;; esac
  shift
done
echo "$url" >>"$FAKE_DIR/curl.log"
cp "$FAKE_DIR/release/${url##*/}" "$out" 2>/dev/null || exit 22
"#;

/// A task run of Sonnet 4.6: one hour running and `input` tokens ($0.08 + $3/M).
fn run_dir(tmp: &Tmp, name: &str, input: u64) -> String {
    let id = format!("sesn_{name}");
    let mut s = session(&id, "claude-sonnet-4-6");
    s["title"] = json!("alpha");
    let rec = [
        s,
        ev(
            &format!("{id}_r"),
            "session.status_running",
            "2026-10-01T10:00:00Z",
        ),
        request(&format!("{id}_q"), "2026-10-01T10:01:00Z", input, 0, 0, 0),
        ev(
            &format!("{id}_i"),
            "session.status_idle",
            "2026-10-01T11:00:00Z",
        ),
    ];
    tmp.write(&format!("{name}/alpha.ndjson"), &ndjson(&rec));
    name.to_string()
}

struct Action {
    tmp: Tmp,
    fake: PathBuf,
}

impl Action {
    /// A workspace with a baseline (alpha: $0.38), fake tools, and GitHub's comment listing.
    fn new(comments: &str) -> Self {
        let jq = Command::new("jq").arg("--version").output();
        assert!(
            jq.is_ok(),
            "the action needs jq (on every GitHub-hosted runner): apt-get install jq"
        );
        let tmp = Tmp::new();
        let base = run_dir(&tmp, "base", 100_000);
        let r = bin()
            .args(["baseline", &base, "-o", "baseline.json"])
            .current_dir(tmp.0.path())
            .env_remove("GITHUB_STEP_SUMMARY")
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let fake = tmp.path("fake");
        for (name, script) in [("gh", FAKE_GH), ("curl", FAKE_CURL)] {
            let p = tmp.write(&format!("fake/bin/{name}"), script);
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        tmp.write("fake/comments.json", comments);
        tmp.write("summary.md", "## an earlier step\n");
        Action { tmp, fake }
    }

    /// `scripts/cost-check.sh MODE` in the workspace, bounded in time.
    fn run(&self, mode: &str, env: &[(&str, &str)]) -> Run {
        let path = format!(
            "{}:{}",
            self.fake.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut child = Command::new("bash")
            .arg(repo("scripts/cost-check.sh"))
            .arg(mode)
            .current_dir(self.tmp.0.path())
            .env("PATH", path)
            .env("FAKE_DIR", &self.fake)
            .env("AGENTMETER_BIN", env!("CARGO_BIN_EXE_agentmeter"))
            .env("GITHUB_REPOSITORY", "acme/evals")
            .env("PR_NUMBER", "7")
            .env("GITHUB_STEP_SUMMARY", self.tmp.path("summary.md"))
            .env("INPUT_BASELINE", "baseline.json")
            .env("INPUT_MAX_INCREASE", "10%")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status = wait_within(&mut child, 60);
        let out = child.wait_with_output().unwrap();
        Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into(),
            stderr: String::from_utf8_lossy(&out.stderr).into(),
        }
    }

    fn check(&self, run: &str, env: &[(&str, &str)]) -> Run {
        let mut all = vec![("INPUT_PATHS", run)];
        all.extend(env);
        self.run("check", &all)
    }

    /// Each `gh` call: its arguments, and the JSON it was given on stdin.
    fn gh_calls(&self) -> Vec<(String, Option<Value>)> {
        let log = std::fs::read_to_string(self.fake.join("gh.log")).unwrap_or_default();
        log.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                let args: Vec<&str> = v["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap())
                    .collect();
                let stdin = v["stdin"]
                    .as_str()
                    .map(|s| serde_json::from_str(s).unwrap());
                (args.join(" "), stdin)
            })
            .collect()
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(self.tmp.path("summary.md")).unwrap()
    }
}

const LISTING: &str = "repos/acme/evals/issues/7/comments";

#[test]
fn no_comment_yet_posts_one_with_the_marker_and_appends_the_summary() {
    let a = Action::new(r#"[{"id": 3, "body": "LGTM"}]"#);
    let pr = run_dir(&a.tmp, "pr", 100_000);
    let r = a.check(&pr, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let calls = a.gh_calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0].0, format!("api --paginate {LISTING}"));
    assert_eq!(calls[1].0, format!("api --method POST {LISTING} --input -"));
    let body = calls[1].1.as_ref().unwrap()["body"].as_str().unwrap();
    // agentmeter writes the marker and the script adds it for older releases: once, first.
    assert!(body.starts_with(MARKER), "{body}");
    assert_eq!(body.matches(MARKER).count(), 1, "{body}");
    assert!(body.contains("agentmeter cost check"), "{body}");
    // Appended once, after what an earlier step wrote; the marker stays out of it.
    let summary = a.summary();
    assert!(summary.starts_with("## an earlier step\n"), "{summary}");
    assert_eq!(
        summary.matches("agentmeter cost check").count(),
        1,
        "{summary}"
    );
    assert!(!summary.contains(MARKER));
    assert!(summary.ends_with(body.trim_start_matches(MARKER).trim_start_matches('\n')));
}

#[test]
fn an_existing_marked_comment_is_patched_and_a_failed_gate_exits_1() {
    // Two pages, as `gh api --paginate` prints them; the marked comment is on the second.
    let a = Action::new(&format!(
        r#"[{{"id": 3, "body": "LGTM"}}][{{"id": 42, "body": "{MARKER}\nold"}}, {{"id": 43, "body": "{MARKER}"}}]"#
    ));
    // alpha at 200,000 input: $0.68, +78.9% over $0.38.
    let pr = run_dir(&a.tmp, "pr", 200_000);
    let r = a.check(&pr, &[("INPUT_PER_TASK", "true")]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let calls = a.gh_calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(
        calls[1].0,
        "api --method PATCH repos/acme/evals/issues/comments/42 --input -"
    );
    assert!(!calls.iter().any(|c| c.0.contains("POST")));
    let body = calls[1].1.as_ref().unwrap()["body"].as_str().unwrap();
    assert!(body.starts_with(MARKER) && body.contains("alpha"), "{body}");
    assert_eq!(body.matches(MARKER).count(), 1, "{body}");
    assert!(a.summary().contains("alpha"));
}

#[test]
fn comment_off_calls_no_gh_and_an_error_exits_2_with_a_comment_saying_so() {
    let a = Action::new("[]");
    let pr = run_dir(&a.tmp, "pr", 100_000);
    let r = a.check(&pr, &[("INPUT_COMMENT", "false")]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(a.gh_calls().is_empty());
    assert_eq!(a.summary().matches("agentmeter cost check").count(), 1);

    // check's own error (a missing baseline): exit 2, and the sticky comment says it.
    let r = a.check(&pr, &[("INPUT_BASELINE", "nope.json")]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    let calls = a.gh_calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    let body = calls[1].1.as_ref().unwrap()["body"].as_str().unwrap();
    assert!(
        body.starts_with(MARKER) && body.contains("exited with 2") && body.contains("nope.json"),
        "{body}"
    );
    assert_eq!(body.matches(MARKER).count(), 1, "{body}");
    assert_eq!(a.summary().matches("agentmeter cost check").count(), 2);

    // The script's own input errors are exit 2 as well, before any call.
    let r = a.check(&pr, &[("INPUT_PER_TASK", "yes")]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("per-task: expected true or false"),
        "{}",
        r.stderr
    );
    assert_eq!(a.gh_calls().len(), 2);
}

#[test]
fn the_contract_input_makes_check_judge_what_the_user_pays() {
    // The PR's alpha is the baseline's: Sonnet 4.6, an hour running ($0.08) and 100,000
    // input tokens at $3/M ($0.30): $0.38 at list, over a $0.30 budget (exit 1). Under a
    // contract of 50% off every charge it pays 0.38 x 0.5 = $0.19, within it (exit 0); the
    // 10% max increase judges the volume, which is the same (the change is all price).
    let a = Action::new("[]");
    a.tmp.write(
        "half.toml",
        "schema = 1\nname = \"half\"\ncurrency = \"USD\"\n\
         [[discount]]\neffective = \"2026-01-01\"\npercent = \"50%\"\n",
    );
    let pr = run_dir(&a.tmp, "pr", 100_000);
    let r = a.check(&pr, &[("INPUT_BUDGET", "0.30"), ("INPUT_COMMENT", "false")]);
    assert_eq!(r.code, 1, "at list: {}{}", r.stdout, r.stderr);
    let r = a.check(
        &pr,
        &[("INPUT_BUDGET", "0.30"), ("INPUT_CONTRACT", "half.toml")],
    );
    assert_eq!(r.code, 0, "under the contract: {}{}", r.stdout, r.stderr);
    let calls = a.gh_calls();
    let body = calls.last().unwrap().1.as_ref().unwrap()["body"]
        .as_str()
        .unwrap();
    // The comment says what the user pays and the list cost beside it.
    assert!(body.contains("$0.19"), "{body}");
    assert!(body.contains("At list prices: $0.38"), "{body}");
    assert!(a.summary().contains("At list prices: $0.38"));
    // A contract that does not exist is check's error: exit 2, named in the comment.
    let r = a.check(
        &pr,
        &[("INPUT_CONTRACT", "nope.toml"), ("INPUT_COMMENT", "false")],
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("nope.toml"), "{}", r.stderr);
}

#[test]
fn a_gh_that_fails_leaves_the_gates_verdict() {
    let a = Action::new("not json");
    let pr = run_dir(&a.tmp, "pr", 100_000);
    let r = a.check(&pr, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("::warning::"), "{}", r.stdout);
    // A listing that could not be read never leads to a second comment.
    assert_eq!(a.gh_calls().len(), 1);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn install_takes_the_release_binary_only_when_its_sha256_matches() {
    let a = Action::new("[]");
    let name = "agentmeter-v9.9.9-x86_64-unknown-linux-musl";
    let tarball = format!("{name}.tar.gz");
    a.tmp
        .write(&format!("pack/{name}/agentmeter"), "#!/bin/sh\n");
    std::fs::create_dir_all(a.fake.join("release")).unwrap();
    let st = Command::new("tar")
        .arg("-czf")
        .arg(a.fake.join("release").join(&tarball))
        .args(["-C", a.tmp.path("pack").to_str().unwrap(), name])
        .status();
    assert!(st.unwrap().success());
    let sum = sha256_hex(&std::fs::read(a.fake.join("release").join(&tarball)).unwrap());
    let env = |out: &str| {
        vec![
            ("INPUT_VERSION", "v9.9.9".to_string()),
            ("ACTION_REPO", "acme/agentmeter".to_string()),
            ("RUNNER_OS", "Linux".to_string()),
            ("RUNNER_ARCH", "X64".to_string()),
            ("RUNNER_TEMP", a.tmp.path("runner").display().to_string()),
            (
                "GITHUB_OUTPUT",
                a.tmp.path(&format!("{out}.out")).display().to_string(),
            ),
            (
                "GITHUB_PATH",
                a.tmp.path(&format!("{out}.path")).display().to_string(),
            ),
        ]
    };
    let install = |out: &str| {
        let env = env(out);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = a.run("install", &env);
        let read =
            |ext| std::fs::read_to_string(a.tmp.path(&format!("{out}.{ext}"))).unwrap_or_default();
        (r, read("out"), read("path"))
    };

    // No release for this runner: the action builds from source.
    let (r, out, _) = install("none");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(out, "version=9.9.9\ninstalled=false\n");

    a.tmp.write(
        &format!("fake/release/{tarball}.sha256"),
        &format!("{sum}  {tarball}\n"),
    );
    let (r, out, path) = install("good");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(out, "version=9.9.9\ninstalled=true\n");
    assert!(
        Path::new(path.trim()).join("agentmeter").is_file(),
        "{path}"
    );
    let urls = std::fs::read_to_string(a.fake.join("curl.log")).unwrap();
    assert!(urls.contains(&format!(
        "https://github.com/acme/agentmeter/releases/download/v9.9.9/{tarball}\n"
    )));

    let bad = format!("{}  {tarball}\n", "0".repeat(64));
    a.tmp.write(&format!("fake/release/{tarball}.sha256"), &bad);
    let (r, out, path) = install("bad");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("does not match its published SHA-256"),
        "{}",
        r.stderr
    );
    assert_eq!(out, "version=9.9.9\n");
    assert_eq!(path, "");
}

fn get<'a>(v: &'a Yaml, path: &[&str]) -> &'a Yaml {
    path.iter().fold(v, |v, k| &v[*k])
}

fn s(v: &Yaml) -> &str {
    v.as_str().unwrap_or_default()
}

#[test]
fn the_action_is_what_the_runner_needs_and_every_input_the_script_reads_exists() {
    let action = yaml("action.yml");
    assert_eq!(s(get(&action, &["runs", "using"])), "composite");
    let inputs: BTreeSet<String> = get(&action, &["inputs"])
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| s(k).to_string())
        .collect();
    for want in [
        "paths",
        "baseline",
        "max-increase",
        "max-increase-usd",
        "budget",
        "per-task",
        "comment",
        "version",
        "working-directory",
    ] {
        assert!(inputs.contains(want), "action input {want} missing");
    }
    let script = text("scripts/cost-check.sh");
    let steps = get(&action, &["runs", "steps"]).as_sequence().unwrap();
    let mut given = BTreeSet::new();
    for step in steps {
        if !step["run"].is_null() {
            assert_eq!(
                s(&step["shell"]),
                "bash",
                "a run step needs its shell: {step:?}"
            );
            // The script is run from the action's own directory, in a mode it has.
            let mode = s(&step["run"])
                .strip_prefix("bash \"$GITHUB_ACTION_PATH/scripts/cost-check.sh\" ")
                .unwrap_or_else(|| panic!("{step:?}"));
            assert!(script.contains(&format!("\n  {mode}) {mode} ;;")), "{mode}");
        } else {
            assert!(s(&step["uses"]).contains('@'), "{step:?}");
        }
        if let Some(env) = step["env"].as_mapping() {
            for (k, v) in env {
                if let Some(input) = s(k).strip_prefix("INPUT_") {
                    let input = input.to_lowercase().replace('_', "-");
                    assert_eq!(s(v), format!("${{{{ inputs.{input} }}}}"));
                    given.insert(s(k).to_string());
                }
            }
        }
    }
    // Every INPUT_* the script reads is an input of the action, and set by a step.
    let read: BTreeSet<String> = script
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("INPUT_") && w.len() > "INPUT_".len())
        .map(str::to_string)
        .collect();
    assert!(read.len() >= 8, "{read:?}");
    for var in &read {
        let input = var["INPUT_".len()..].to_lowercase().replace('_', "-");
        assert!(inputs.contains(&input), "{var}: no input {input}");
        assert!(given.contains(var), "{var}: no step sets it");
    }
    // Every input is used.
    let all = text("action.yml");
    for input in &inputs {
        assert!(
            all.contains(&format!("inputs.{input} }}}}")),
            "input {input} unused"
        );
    }
    assert!(script.contains(&format!("marker='{MARKER}'")));
}

#[test]
fn releases_have_the_names_binstall_and_the_action_download() {
    let wf = yaml(".github/workflows/release.yml");
    let tags = get(&wf, &["on", "push", "tags"]).as_sequence().unwrap();
    assert_eq!(s(&tags[0]), "v*");
    let build = get(&wf, &["jobs", "build"]);
    let asset = s(get(build, &["env", "ASSET"]));
    let targets: Vec<&str> = get(build, &["strategy", "matrix", "include"])
        .as_sequence()
        .unwrap()
        .iter()
        .map(|m| s(&m["target"]))
        .collect();
    assert_eq!(
        targets,
        [
            "x86_64-unknown-linux-musl",
            "aarch64-unknown-linux-musl",
            "x86_64-apple-darwin",
            "aarch64-apple-darwin",
            "x86_64-pc-windows-msvc",
        ]
    );
    for job in get(&wf, &["jobs"]).as_mapping().unwrap().values() {
        for step in job["steps"].as_sequence().unwrap() {
            assert!(
                step["run"].is_null() || s(&step["shell"]) == "bash",
                "{step:?}"
            );
        }
    }

    let cargo: toml::Value = toml::from_str(&text("Cargo.toml")).unwrap();
    // The workspace sets every crate's version (`version.workspace = true`).
    let version = cargo["workspace"]["package"]["version"].as_str().unwrap();
    let dist = &cargo["profile"]["dist"];
    assert_eq!(dist["inherits"].as_str(), Some("release"));
    assert_eq!(dist["strip"].as_bool(), Some(true));
    assert_eq!(dist["lto"].as_str(), Some("thin"));
    assert_eq!(dist["codegen-units"].as_integer(), Some(1));
    let binstall = &cargo["package"]["metadata"]["binstall"];
    let script = text("scripts/cost-check.sh");
    for target in targets {
        let windows = target.contains("windows");
        let name = asset
            .replace("${{ github.ref_name }}", &format!("v{version}"))
            .replace("${{ matrix.target }}", target);
        let fmt = binstall["overrides"]
            .get(target)
            .and_then(|o| o.get("pkg-fmt"))
            .unwrap_or(&binstall["pkg-fmt"]);
        let (suffix, exe) = if windows {
            (".zip", ".exe")
        } else {
            (".tar.gz", "")
        };
        assert_eq!(fmt.as_str(), Some(if windows { "zip" } else { "tgz" }));
        let expand = |t: &str| {
            t.replace("{ repo }", "REPO")
                .replace("{ name }", "agentmeter")
                .replace("{ version }", version)
                .replace("{ target }", target)
                .replace("{ archive-suffix }", suffix)
                .replace("{ bin }", "agentmeter")
                .replace("{ binary-ext }", exe)
        };
        assert_eq!(
            expand(binstall["pkg-url"].as_str().unwrap()),
            format!("REPO/releases/download/v{version}/{name}{suffix}")
        );
        assert_eq!(
            expand(binstall["bin-dir"].as_str().unwrap()),
            format!("{name}/agentmeter{exe}")
        );
        assert!(
            script.contains(&format!(") echo {target} ;;")),
            "{target} not in the action"
        );
    }
}

/// Every subcommand, from the one clap definition.
fn subcommands() -> Vec<String> {
    use clap::CommandFactory;
    let names: Vec<String> = agentmeter::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    assert!(
        names.len() >= 15 && names.iter().any(|n| n == "man"),
        "{names:?}"
    );
    names
}

/// `shell ARGS FILE` when `shell` is installed: the completion script is valid syntax.
fn syntax_ok(shell: &str, args: &[&str], script: &str) {
    if Command::new(shell).arg("--version").output().is_err() {
        eprintln!("{shell} is not installed: its completion's syntax is not checked");
        return;
    }
    let tmp = Tmp::new();
    let p = tmp.write("completion", script);
    let out = Command::new(shell).args(args).arg(&p).output().unwrap();
    assert!(
        out.status.success(),
        "{shell}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn completions_parse_in_their_shells_and_name_every_subcommand() {
    let subs = subcommands();
    for (shell, check) in [
        ("bash", Some(("bash", &["-n"][..]))),
        ("zsh", Some(("zsh", &["-n"][..]))),
        ("fish", Some(("fish", &["--no-execute"][..]))),
        ("powershell", None),
        ("elvish", None),
    ] {
        let r = run(["completions", shell]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        for sub in &subs {
            assert!(r.stdout.contains(sub.as_str()), "{shell}: no {sub}");
        }
        if let Some((exe, args)) = check {
            syntax_ok(exe, args, &r.stdout);
        }
    }
    let r = run(["completions", "tcsh"]);
    assert_eq!(r.code, 2);
}

#[test]
fn the_man_page_has_a_title_and_every_subcommand_and_dir_writes_one_page_each() {
    let subs = subcommands();
    let r = run(["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // clap_mangen defines the \*(Aq string first (two .ie/.el lines); then the title.
    let first = r
        .stdout
        .lines()
        .find(|l| !l.starts_with(".ie") && !l.starts_with(".el"));
    assert!(
        first.unwrap().starts_with(".TH agentmeter 1"),
        "{}",
        r.stdout
    );
    for sub in &subs {
        assert!(
            r.stdout.contains(&format!("agentmeter\\-{sub}(1)")),
            "no {sub}"
        );
    }

    let tmp = Tmp::new();
    let dir = tmp.path("man1");
    let r = run(["man", "--dir", dir.to_str().unwrap()]);
    assert_eq!(r.code, 2, "a missing directory is not created");
    std::fs::create_dir(&dir).unwrap();
    assert_eq!(run(["man", "--dir", dir.to_str().unwrap()]).code, 0);
    for page in subs.iter().map(|s| format!("agentmeter-{s}.1")).chain([
        "agentmeter.1".to_string(),
        "agentmeter-pricing-list.1".to_string(),
    ]) {
        let text = std::fs::read_to_string(dir.join(&page)).unwrap_or_else(|_| panic!("{page}"));
        assert!(text.contains(".TH agentmeter"), "{page}");
    }
    let r = run(["man", "--dir", dir.to_str().unwrap()]);
    assert_eq!(r.code, 2, "pages are only replaced with --force");
    assert_eq!(
        run(["man", "--dir", dir.to_str().unwrap(), "--force"]).code,
        0
    );
}

#[test]
fn the_script_is_shellcheck_clean() {
    let script = repo("scripts/cost-check.sh");
    match Command::new("shellcheck").arg(&script).output() {
        Err(_) => eprintln!("shellcheck is not installed (apt-get install shellcheck): not run"),
        Ok(out) => assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        ),
    }
}

#[test]
fn the_guides_workflow_gives_the_action_only_its_inputs() {
    let guide = text("GUIDE.md");
    let inputs = yaml("action.yml")["inputs"].clone();
    let block = guide
        .split("```yaml\n")
        .map(|b| b.split("```").next().unwrap())
        .find(|b| b.contains("uses: OWNER/agentmeter@v1"))
        .expect("a workflow using the action");
    let wf: Yaml = serde_norway::from_str(block).unwrap();
    let step = wf["jobs"]["cost"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|s| s["uses"].as_str() == Some("OWNER/agentmeter@v1"))
        .unwrap();
    let with = step["with"].as_mapping().unwrap();
    for key in with.keys() {
        assert!(inputs.get(s(key)).is_some(), "GUIDE: no input {}", s(key));
    }
    for (name, input) in inputs.as_mapping().unwrap() {
        if input["required"].as_bool() == Some(true) {
            assert!(
                with.contains_key(name),
                "GUIDE: required {} missing",
                s(name)
            );
        }
    }
}
