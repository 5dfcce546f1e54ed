//! `--shard I/N` by file: each job opens only its own files (about 1/N of the bytes), the
//! shards together meter exactly what one process meters, and a session split over files of
//! different shards shows up in two shards' outputs (so a merge can find it).
//!
//! The fleet, one file per session as `fetch` writes it: 40 sessions `sesn_000`..`sesn_039`,
//! each with one hour running (0.08 at $0.08 per session-hour) and one Sonnet 4.6 request of
//! 10,000 input and 1,000 output tokens (10,000 x 3/M + 1,000 x 15/M = 0.03 + 0.015 = 0.045):
//! 0.125 a session, 40 x 0.125 = 5.00 in all.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::common::{dec, ev, ndjson, request, run, session, Tmp};
use crate::export::{read_parquet, sum_of};

fn fleet(tmp: &Tmp) -> Vec<std::path::PathBuf> {
    (0..40)
        .map(|i| {
            let id = format!("sesn_{i:03}");
            let records = [
                session(&id, "claude-sonnet-4-6"),
                ev(
                    &format!("{id}_r"),
                    "session.status_running",
                    "2026-06-02T10:00:00Z",
                ),
                request(
                    &format!("{id}_q"),
                    "2026-06-02T10:30:00Z",
                    10_000,
                    1_000,
                    0,
                    0,
                ),
                ev(
                    &format!("{id}_i"),
                    "session.status_idle",
                    "2026-06-02T11:00:00Z",
                ),
            ];
            tmp.write(&format!("fleet/{id}.ndjson"), &ndjson(&records))
        })
        .collect()
}

fn meter(args: &[&str]) -> Value {
    let r = run(args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn four_file_shards_read_a_quarter_each_and_add_up_to_one_process() {
    let tmp = Tmp::new();
    let files = fleet(&tmp);
    let dir = tmp.path("fleet").display().to_string();
    let whole = meter(&["meter", &dir, "-f", "json"]);
    assert_eq!(
        dec(whole["totals"]["cost"]["total"].as_str().unwrap()),
        dec("5")
    );
    let size: HashMap<String, u64> = files
        .iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::metadata(f).unwrap().len())
        })
        .collect();
    let all_bytes: u64 = size.values().sum();
    let (mut bytes, mut sessions, mut items) = (0u64, 0u64, Decimal::ZERO);
    for i in 1..=4 {
        let shard = format!("{i}/4");
        let export = tmp.path(&format!("shard{i}"));
        let v = meter(&[
            "meter",
            &dir,
            "-f",
            "json",
            "--shard",
            &shard,
            "--export",
            &export.display().to_string(),
        ]);
        let s = &v["shard"];
        assert_eq!((s["index"].as_u64(), s["of"].as_u64()), (Some(i), Some(4)));
        assert_eq!(s["by"], "file");
        assert_eq!(s["all_files"], 40);
        // The bytes read are exactly the shard's own files, by the stable hash of the name.
        let mine: u64 = (size.iter())
            .filter(|(name, _)| agentmeter::meter::shard_of(name, 4) == i as u32)
            .map(|(_, b)| b)
            .sum();
        assert_eq!(s["bytes"].as_u64(), Some(mine), "shard {i}");
        // About a quarter: no shard reads more than half (with 40 files a fair hash gives
        // 10 +- a few).
        assert!(
            mine * 2 < all_bytes,
            "shard {i} read {mine} of {all_bytes} bytes"
        );
        bytes += mine;
        sessions += v["totals"]["sessions"].as_u64().unwrap();
        items += sum_of(&read_parquet(&export.join("line_items.parquet")), "amount");
    }
    assert_eq!(bytes, all_bytes);
    assert_eq!(sessions, 40);
    // Merged line items equal one process's total, exactly.
    assert_eq!(items, dec("5"));
}

#[test]
fn a_session_split_over_shards_is_seen_by_both_and_session_sharding_reads_everything() {
    let tmp = Tmp::new();
    let _ = fleet(&tmp);
    // sesn_x's running interval starts in one file and ends in another, named so that they
    // fall in different shards of 2.
    let (a, b) = ("part-a.ndjson", "part-b.ndjson");
    let (sa, sb) = (
        agentmeter::meter::shard_of(a, 2),
        agentmeter::meter::shard_of(b, 2),
    );
    let (a, b) = if sa != sb {
        (a.to_string(), b.to_string())
    } else {
        // Find a second name in the other shard.
        let other = (0..)
            .map(|k| format!("part-b{k}.ndjson"))
            .find(|n| agentmeter::meter::shard_of(n, 2) != sa)
            .unwrap();
        (a.to_string(), other)
    };
    tmp.write(
        &format!("fleet/{a}"),
        &ndjson(&[
            session("sesn_x", "claude-sonnet-4-6"),
            ev("x_r", "session.status_running", "2026-06-02T10:00:00Z"),
        ]),
    );
    tmp.write(
        &format!("fleet/{b}"),
        &ndjson(&[
            session("sesn_x", "claude-sonnet-4-6"),
            ev("x_i", "session.status_idle", "2026-06-02T11:00:00Z"),
        ]),
    );
    let dir = tmp.path("fleet").display().to_string();
    let mut seen = 0;
    for i in 1..=2 {
        let shard = format!("{i}/2");
        let v = meter(&["meter", &dir, "-f", "json", "--shard", &shard]);
        let ids: Vec<&str> = v["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["session_id"].as_str().unwrap())
            .collect();
        seen += ids.iter().filter(|id| **id == "sesn_x").count();
    }
    // Each shard saw its part: a merge that finds one id in two shards knows it was split.
    assert_eq!(seen, 2);
    // By session, every shard reads every file, and sesn_x is whole in exactly one shard:
    // its hour runs from 10:00 in one file to 11:00 in the other, 0.08.
    let mut whole = Decimal::ZERO;
    for i in 1..=2 {
        let shard = format!("{i}/2");
        let v = meter(&[
            "meter",
            &dir,
            "-f",
            "json",
            "--shard",
            &shard,
            "--shard-by",
            "session",
        ]);
        assert_eq!(v["shard"]["files"], 42);
        for s in v["sessions"].as_array().unwrap() {
            if s["session_id"] == "sesn_x" {
                whole += dec(s["cost"]["total"].as_str().unwrap());
            }
        }
    }
    assert_eq!(whole, dec("0.08"));
    // Stdin cannot be split by file.
    let r = run(["meter", "-", "--shard", "1/2"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("cannot split standard input"),
        "{}",
        r.stderr
    );
}
