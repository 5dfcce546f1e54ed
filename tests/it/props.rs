//! Properties of the bill that must hold for any session: order and duplicates do not matter,
//! active time fits in the wall-clock span, files can be split, line items add up.

use agentmeter::meter::MeterOptions;
use agentmeter::pricing::PriceTable;
use agentmeter::rate::{Category, CostColumn, RatedSession};
use agentmeter::time::Zone;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::common::*;

const BASE_MS: i64 = 1_781_085_600_000; // 2026-06-10T10:00:00Z

fn at(offset_ms: i64) -> String {
    agentmeter::time::format_ms(BASE_MS + offset_ms)
}

/// One generated event: (offset, kind selector, a number for tokens or thread choice).
fn event(i: usize, offset: i64, kind: u8, n: u64) -> Value {
    let id = format!("sevt_{i}");
    let thread = ["sthr_a", "sthr_b"][(n % 2) as usize];
    match kind % 9 {
        0 | 1 => ev(&id, "session.status_running", &at(offset)),
        2 => ev(&id, "session.status_idle", &at(offset)),
        3 => ev(
            &id,
            ["session.status_rescheduled", "session.status_terminated"][(n % 2) as usize],
            &at(offset),
        ),
        4 => with(
            ev(&id, "session.thread_status_running", &at(offset)),
            json!({"session_thread_id": thread}),
        ),
        5 => with(
            ev(&id, "session.thread_status_idle", &at(offset)),
            json!({"session_thread_id": thread}),
        ),
        6 => request(
            &id,
            &at(offset),
            n % 250_000,
            n % 9_000,
            n % 7 * 1_000,
            n % 300_000,
        ),
        7 => with(
            ev(&id, "agent.tool_use", &at(offset)),
            json!({"name": "web_search"}),
        ),
        _ => with(
            ev(&id, "agent.message", &at(offset)),
            json!({"content": [{"type": "text", "text": "x"}]}),
        ),
    }
}

fn session_obj() -> Value {
    let mut s = session("sesn_p", "claude-sonnet-4-6");
    s["usage"] =
        json!({"cache_creation": {"ephemeral_5m_input_tokens": 3, "ephemeral_1h_input_tokens": 1}});
    s
}

fn events() -> impl Strategy<Value = Vec<Value>> {
    // Distinct instants, so "ties keep input order" never decides anything here.
    prop::collection::btree_set(0i64..4 * 3_600_000, 1..40).prop_flat_map(|offsets| {
        let n = offsets.len();
        (
            Just(offsets),
            prop::collection::vec((any::<u8>(), any::<u64>()), n),
        )
            .prop_map(|(offsets, picks)| {
                offsets
                    .into_iter()
                    .zip(picks)
                    .enumerate()
                    .map(|(i, (o, (k, n)))| event(i, o, k, n))
                    .collect()
            })
    })
}

fn bill_parts(parts: &[Vec<Value>]) -> Vec<RatedSession> {
    bill_parts_with(parts, &MeterOptions::default())
}

fn bill_parts_with(parts: &[Vec<Value>], opts: &MeterOptions) -> Vec<RatedSession> {
    let tmp = Tmp::new();
    let paths: Vec<_> = parts
        .iter()
        .enumerate()
        .map(|(i, evs)| {
            let mut recs = vec![session_obj()];
            recs.extend(evs.iter().cloned());
            tmp.write(&format!("part{i}.ndjson"), &ndjson(&recs))
        })
        .collect();
    let (s, skipped) = bill_files(
        &paths,
        opts,
        &PriceTable::bundled().unwrap(),
        Zone::default(),
    );
    assert!(skipped.is_empty(), "{skipped:?}");
    s
}

/// What must not change: quantities and exact amounts.
fn bill_key(
    s: &[RatedSession],
) -> Vec<(
    String,
    i64,
    usize,
    usize,
    agentmeter::usage::Tokens,
    agentmeter::rate::Cost,
)> {
    s.iter()
        .map(|s| {
            (
                s.usage.session_id.to_string(),
                s.usage.active_ms(),
                s.usage.requests.len(),
                s.usage.web_searches.len(),
                s.usage.tokens(),
                s.cost,
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn shuffling_events_never_changes_the_bill(evs in events(), seed in any::<u64>()) {
        let mut shuffled = evs.clone();
        // A seeded Fisher-Yates shuffle.
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(bill_key(&bill_parts(&[evs])), bill_key(&bill_parts(&[shuffled])));
    }

    #[test]
    fn duplicating_events_never_changes_the_bill(evs in events(), picks in prop::collection::vec(any::<prop::sample::Index>(), 0..10)) {
        let mut dup = evs.clone();
        for p in &picks {
            let e = evs[p.index(evs.len())].clone();
            dup.insert(p.index(dup.len() + 1), e);
        }
        let a = bill_parts(&[evs]);
        let b = bill_parts(&[dup]);
        prop_assert_eq!(bill_key(&a), bill_key(&b));
        prop_assert_eq!(b[0].usage.duplicate_events, picks.len() as u64);
    }

    #[test]
    fn splitting_a_session_over_two_files_changes_nothing(evs in events(), cut in any::<prop::sample::Index>()) {
        let k = cut.index(evs.len() + 1);
        let (first, second) = evs.split_at(k);
        prop_assert_eq!(bill_key(&bill_parts(std::slice::from_ref(&evs))), bill_key(&bill_parts(&[first.to_vec(), second.to_vec()])));
    }

    /// With no memory budget every record's state is spilled to disk and read back: the
    /// bill, and the duplicates counted, are those of metering in memory.
    #[test]
    fn spilling_state_to_disk_changes_nothing(evs in events(), picks in prop::collection::vec(any::<prop::sample::Index>(), 0..5), cut in any::<prop::sample::Index>()) {
        let mut dup = evs.clone();
        for p in &picks {
            dup.insert(p.index(dup.len() + 1), evs[p.index(evs.len())].clone());
        }
        let (first, second) = dup.split_at(cut.index(dup.len() + 1));
        let parts = [first.to_vec(), second.to_vec()];
        let spilled = MeterOptions { memory_mb: Some(0), ..MeterOptions::default() };
        let (a, b) = (bill_parts(&parts), bill_parts_with(&parts, &spilled));
        prop_assert_eq!(bill_key(&a), bill_key(&b));
        prop_assert_eq!(b[0].usage.duplicate_events, picks.len() as u64);
    }

    #[test]
    fn active_time_fits_in_the_wall_clock_span(evs in events()) {
        for s in bill_parts(&[evs]) {
            let span = s.usage.last_event_at.unwrap_or(0) - s.usage.first_event_at.unwrap_or(0);
            prop_assert!(s.usage.active_ms() >= 0 && s.usage.active_ms() <= span);
        }
    }

    #[test]
    fn line_items_always_sum_to_the_total(evs in events()) {
        for s in bill_parts(&[evs]) {
            let sum: Decimal = s.items.iter().map(|i| i.amount).sum();
            prop_assert_eq!(sum, s.cost.total());
            let runtime: Decimal = s.items.iter().filter(|i| i.category == Category::Runtime).map(|i| i.amount).sum();
            prop_assert_eq!(runtime, s.cost[CostColumn::Runtime]);
            let ms: u64 = s.items.iter().filter(|i| i.category == Category::Runtime).map(|i| i.quantity).sum();
            prop_assert_eq!(ms as i64, s.usage.active_ms());
            // Runtime is rounded once per session, to 9 places.
            prop_assert!(s.cost[CostColumn::Runtime].scale() <= 9);
        }
    }
}
