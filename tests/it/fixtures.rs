//! Every case of tests/fixtures/expected.json (a byte copy of ../shared/fixtures), through the
//! real binary, JSON output compared as decimals with a tolerance of $0.000001.

use rust_decimal::Decimal;
use serde_json::Value;

use crate::common::{dec, fixtures, run};

fn close(got: &str, want: &str, what: &str) {
    let diff = (dec(got) - dec(want)).abs();
    assert!(diff <= Decimal::new(1, 6), "{what}: got {got}, want {want}");
}

#[test]
fn every_expected_case() {
    every_expected_case_with(&[]);
}

/// With no memory budget, per-session state goes through spill files: same results.
#[test]
fn every_expected_case_spilled_to_disk() {
    every_expected_case_with(&["--memory", "0"]);
}

fn every_expected_case_with(extra: &[&str]) {
    let dir = fixtures();
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    assert!(cases.len() >= 5);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let mut args: Vec<String> = vec!["meter".into(), "--format".into(), "json".into()];
        args.extend(extra.iter().map(|a| a.to_string()));
        for f in case["files"].as_array().unwrap() {
            args.push(dir.join(f.as_str().unwrap()).display().to_string());
        }
        for a in case["args"].as_array().unwrap() {
            args.push(a.as_str().unwrap().to_string());
        }
        let r = run(&args);
        if let Some(err) = case.get("expect_error") {
            assert_ne!(r.code, 0, "{name}: expected failure");
            assert_eq!(r.code, 2, "{name}");
            for s in err["stderr_has"].as_array().unwrap() {
                assert!(
                    r.stderr.contains(s.as_str().unwrap()),
                    "{name}: stderr {:?} lacks {s}",
                    r.stderr
                );
            }
            continue;
        }
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let out: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(out["schema"], "agentmeter/meter-v1");
        let want = case["sessions"].as_array().unwrap();
        let got = out["sessions"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{name}");
        for w in want {
            let id = w["session_id"].as_str().unwrap();
            let g = got
                .iter()
                .find(|g| g["session_id"] == id)
                .unwrap_or_else(|| panic!("{name}: no session {id}"));
            for k in ["active_ms", "requests", "web_searches", "tokens"] {
                assert_eq!(g[k], w[k], "{name}: {id} {k}");
            }
            for (k, v) in w["cost"].as_object().unwrap() {
                close(
                    g["cost"][k].as_str().unwrap(),
                    v.as_str().unwrap(),
                    &format!("{name}: {id} cost.{k}"),
                );
            }
        }
    }
}

#[test]
fn fixtures_are_the_shared_ones() {
    // The shared fixtures are the contract; a local edit would test something else.
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
    if !shared.is_dir() {
        return; // the shared folder is beside the project in CI and dev; not in a packaged crate
    }
    for e in std::fs::read_dir(&shared).unwrap() {
        let e = e.unwrap();
        let local = fixtures().join(e.file_name());
        assert_eq!(
            std::fs::read(e.path()).unwrap(),
            std::fs::read(&local).unwrap_or_default(),
            "{:?} differs",
            e.file_name()
        );
    }
}

#[test]
fn all_fixture_sessions_at_once_total_the_sum() {
    // Metering several exports in one run gives the sum of the separate runs:
    // 0.705 + 0.525 + 0.8851352 + 0.275633333 (runtime rounded to 9 places) = 2.390768533.
    let dir = fixtures();
    let files = [
        "seed-example-uncached.ndjson",
        "seed-example-cached.ndjson",
        "busy-sonnet.ndjson",
        "multiagent.ndjson",
    ];
    let mut args = vec!["meter".to_string(), "-f".into(), "json".into()];
    args.extend(files.iter().map(|f| dir.join(f).display().to_string()));
    let r = run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(out["totals"]["sessions"], 4);
    assert_eq!(out["totals"]["cost"]["total"], "2.390768533");
    // 3,600,000 + 3,600,000 + 2,396,205 + 3,300,000
    assert_eq!(out["totals"]["active_ms"], 12_896_205);
}
