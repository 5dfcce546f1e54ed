//! `agentmeter reconcile`: flags a planted 2-cent difference, not a rounding one; and lines
//! computed cost up with an invoice by day.

use serde_json::{json, Value};

use crate::common::*;

/// The seed's Opus hour (computed $0.705) with the provider's own figures.
pub(crate) fn session_with(id: &str, list_cost_cents: &str, output_tokens: u64) -> String {
    let mut s = session(id, "claude-opus-4-6");
    s["usage"] = json!({
        "input_tokens": 50000, "output_tokens": output_tokens, "cache_read_input_tokens": 0,
        "active_seconds": 3600.0, "server_tool_use": {"web_search_requests": 0},
        "list_cost": {"amount": list_cost_cents, "currency": "USD"},
    });
    ndjson(&[
        s,
        ev(
            &format!("{id}_r"),
            "session.status_running",
            "2026-05-01T10:00:00Z",
        ),
        request(
            &format!("{id}_q"),
            "2026-05-01T10:30:00Z",
            50_000,
            15_000,
            0,
            0,
        ),
        ev(
            &format!("{id}_i"),
            "session.status_idle",
            "2026-05-01T11:00:00Z",
        ),
    ])
}

#[test]
fn a_planted_two_cents_is_flagged_and_rounding_is_not() {
    let tmp = Tmp::new();
    // Rounded: the provider rounds 0.705 to 71 cents; a half-cent apart is within tolerance.
    tmp.write(
        "runs/rounded.ndjson",
        &session_with("sesn_rounded", "71", 15_000),
    );
    // Planted: the provider saw 800 more output tokens (800 x $25/M = $0.02): 0.725 -> 73 cents.
    tmp.write(
        "runs/planted.ndjson",
        &session_with("sesn_planted", "73", 15_800),
    );
    let r = run([
        "reconcile",
        tmp.path("runs").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let by_id = |id: &str| {
        v["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["session_id"] == id)
            .unwrap()
            .clone()
    };
    let rounded = by_id("sesn_rounded");
    assert_eq!(rounded["flagged"], false);
    assert_eq!(rounded["difference"], "-0.005");
    let planted = by_id("sesn_planted");
    assert_eq!(planted["flagged"], true);
    assert_eq!(planted["difference"], "-0.025");
    assert_eq!(planted["explained_by"], "output_tokens");
    let out = planted["quantities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["what"] == "output_tokens")
        .unwrap()
        .clone();
    assert_eq!(out["cost_impact"], "-0.02");
    let r = run(["reconcile", tmp.path("runs").to_str().unwrap()]);
    assert!(
        r.stdout.contains("FLAG: output_tokens")
            && r.stdout.contains("2 session(s) compared, 1 flagged"),
        "{}",
        r.stdout
    );
}

#[test]
fn computed_provider_reported_and_invoiced_side_by_side() {
    let tmp = Tmp::new();
    tmp.write("runs/a.ndjson", &session_with("sesn_a", "71", 15_000));
    // The invoice for 2026-05-01: Opus 4.6 tokens 62.5 cents (0.25 + 0.375), runtime 8 cents.
    tmp.write(
        "cost.json",
        &json!({"data": [{"starting_at": "2026-05-01T00:00:00Z", "ending_at": "2026-05-02T00:00:00Z", "results": [
            {"amount": "25", "currency": "USD", "cost_type": "tokens", "model": "claude-opus-4-6", "token_type": "uncached_input_tokens"},
            {"amount": "37.5", "currency": "USD", "cost_type": "tokens", "model": "claude-opus-4-6", "token_type": "output_tokens"},
            {"amount": "8", "currency": "USD", "cost_type": "code_execution", "description": "Managed Agents session runtime"}
        ]}], "has_more": false, "next_page": null})
        .to_string(),
    );
    let r = run([
        "reconcile",
        tmp.path("runs").to_str().unwrap(),
        "--cost-report",
        tmp.path("cost.json").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["totals"],
        json!({"computed": "0.705", "provider_reported": "0.71", "invoiced": "0.705"})
    );
    let rows = v["invoiced"]["by_day"].as_array().unwrap();
    assert!(rows.iter().all(|r| r["difference"] == "0"), "{rows:?}");
    let r = run([
        "reconcile",
        tmp.path("runs").to_str().unwrap(),
        "--cost-report",
        tmp.path("cost.json").to_str().unwrap(),
    ]);
    assert!(r.stdout.contains("three sources: computed $0.71, provider-reported $0.71 (sessions that report it), invoiced $0.71"), "{}", r.stdout);
}
