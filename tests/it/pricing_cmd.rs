//! `agentmeter pricing list|show|check|diff`.

use crate::common::*;

#[test]
fn list_shows_the_rows_in_force_at_a_date() {
    let r = run(["pricing", "list", "--at", "2026-03-01"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Before 2026-03-13 Opus 4.6 had a long-context row; Opus 4.7 did not exist yet.
    let opus46 = r
        .stdout
        .lines()
        .find(|l| l.starts_with("claude-opus-4-6 "))
        .unwrap();
    assert!(opus46.contains(">200K: 10/37.5"), "{opus46}");
    assert!(!r.stdout.contains("claude-opus-4-7"));
    assert!(r.stdout.contains("runtime: no price in force"));
    let r = run(["pricing", "list", "--at", "2026-10-01", "-f", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["runtime_usd_per_hour"], "0.08");
    assert_eq!(v["web_search_usd_per_1000"], "10");
    assert!(v["models"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == "claude-opus-5-5"));
}

#[test]
fn show_gives_a_models_history_by_id_or_alias() {
    let r = run(["pricing", "show", "claude-haiku-4-5-20251001"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("claude-haiku-4-5 "), "{}", r.stdout);
    let r = run(["pricing", "show", "claude-opus-4-6"]);
    assert_eq!(r.stdout.matches("from 2026-").count(), 3, "{}", r.stdout);
    let r = run(["pricing", "show", "nope"]);
    assert_eq!(r.code, 2);
}

#[test]
fn check_accepts_the_bundled_table_and_rejects_broken_ones() {
    let bundled = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pricing/anthropic.toml");
    // On the table's own `checked` date (a fixed --today keeps the test from ageing).
    let r = run([
        "pricing".as_ref(),
        "check".as_ref(),
        bundled.as_os_str(),
        "--today".as_ref(),
        "2026-12-01".as_ref(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.contains("ok: ") && r.stdout.contains(" 0 warning(s)"),
        "{}",
        r.stdout
    );
    let tmp = Tmp::new();
    let broken = tmp.write(
        "bad.toml",
        "schema = 1\nname = \"bad\"\ncurrency = \"USD\"\n[[model]]\nid = \"m\"\naliases = [\"m\"]\n\
         [[model.price]]\neffective = \"2026-05-01\"\ninput = \"5\"\noutput = \"25\"\ncache_write_5m = \"6\"\ncache_write_1h = \"10\"\ncache_read = \"0.5\"\n\
         [[model.price]]\neffective = \"2026-04-01\"\ninput = \"5\"\noutput = \"25\"\ncache_write_5m = \"6.25\"\ncache_write_1h = \"10\"\ncache_read = \"0.5\"\n",
    );
    let r = run(["pricing".as_ref(), "check".as_ref(), broken.as_os_str()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stdout.contains("must be sorted by effective"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\"m\" is used twice"), "{}", r.stdout);
    assert!(
        r.stdout.contains("warning: ") && r.stdout.contains("cache_write_5m is 6"),
        "{}",
        r.stdout
    );
    // meter refuses it, pointing at `pricing check`.
    let input = tmp.write("a.ndjson", "");
    let r = run([
        "meter".as_ref(),
        input.as_os_str(),
        "--pricing".as_ref(),
        broken.as_os_str(),
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("pricing check"), "{}", r.stderr);
}

#[test]
fn diff_lists_what_changed() {
    let tmp = Tmp::new();
    let old = tmp.write("old.toml", agentmeter::pricing::BUNDLED);
    let new = tmp.write(
        "new.toml",
        &agentmeter::pricing::BUNDLED.replacen("usd_per_1000 = \"10\"", "usd_per_1000 = \"12\"", 1),
    );
    let r = run([
        "pricing".as_ref(),
        "diff".as_ref(),
        old.as_os_str(),
        new.as_os_str(),
    ]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .contains("~ web_search from 2025-05-07T00:00:00Z: $10 per 1,000 -> $12 per 1,000"),
        "{}",
        r.stdout
    );
    let r = run([
        "pricing".as_ref(),
        "diff".as_ref(),
        old.as_os_str(),
        old.as_os_str(),
    ]);
    assert!(r.stdout.contains("no price changes"));
}

#[test]
fn check_warns_when_the_prices_were_checked_more_than_30_days_ago() {
    // The bundled table says checked = "2026-12-01": 2026-12-31 is 30 days later (no
    // warning), 2027-01-01 is 31 (a warning; the table stays usable, exit 0).
    let bundled = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pricing/anthropic.toml");
    let check = |today: &str| {
        run([
            "pricing".as_ref(),
            "check".as_ref(),
            bundled.as_os_str(),
            "--today".as_ref(),
            today.as_ref(),
        ])
    };
    let r = check("2026-12-31");
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains(" 0 warning(s)"), "{}", r.stdout);
    let r = check("2027-01-01");
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains(&format!(
            "warning: {}: prices checked 2026-12-01, 31 days before 2027-01-01: ",
            bundled.display()
        )) && r.stdout.contains(" 1 warning(s)"),
        "{}",
        r.stdout
    );
    let r = check("yesterday");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("error: --today: "), "{}", r.stderr);
}

#[test]
fn show_suggests_the_nearest_id_for_an_unknown_model() {
    let r = run(["pricing", "show", "claude-sonnet-5.5"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("unknown model \"claude-sonnet-5.5\" in price table anthropic@")
            && r.stderr.contains("(did you mean `claude-sonnet-5-5`?)"),
        "{}",
        r.stderr
    );
}
