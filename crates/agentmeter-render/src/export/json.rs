//! JSON: the `agentmeter/meter-v1` schema of design.md (amounts as exact decimal strings,
//! quantities as integers), plus additive keys: `agent`, `duplicate_events` per session,
//! `groups`, `skipped` and more `dropped` counters at the top.

use rayon::prelude::*;
use serde::ser::SerializeMap;
use serde::Serialize;
use serde_json::{json, Value};

use crate::category::{Category, PerCategory};
use crate::contract::{Billing, SessionTerms};
use crate::export::BudgetStatus;
use crate::money::{cents, exact};
use crate::rate::{AdvisorSpend, Cost, RatedSession};
use crate::report::group::names;
use crate::report::MeterReport;
use crate::time::format_ms;
use crate::usage::{Quantities, Tokens};
use rust_decimal::prelude::ToPrimitive;

pub const SCHEMA: &str = "agentmeter/meter-v1";

fn cost(c: &Cost) -> Value {
    serde_json::to_value(CostOut(*c)).expect("plain data")
}

// Typed views for what is written once per session, so a fleet's sessions are serialized
// straight to the output, not built as JSON trees first. Keys in schema order, which is the
// category table's.

/// The token kinds' counts, under their category keys.
struct TokensOut(PerCategory<u64>);

impl From<&Tokens> for TokensOut {
    fn from(t: &Tokens) -> Self {
        TokensOut(PerCategory::from_fn(|c| t.get(c)))
    }
}

impl Serialize for TokensOut {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for c in Category::tokens() {
            m.serialize_entry(c.key(), &self.0[c])?;
        }
        m.end()
    }
}

/// The amounts by cost column, exact, then their total.
struct CostOut(Cost);

impl From<&Cost> for CostOut {
    fn from(c: &Cost) -> Self {
        CostOut(*c)
    }
}

impl Serialize for CostOut {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (c, v) in self.0.iter() {
            m.serialize_entry(c.key(), &exact(*v))?;
        }
        m.serialize_entry("total", &exact(self.0.total()))?;
        m.end()
    }
}

/// What was used, as meter-v1 has it: each category's quantity under its own key
/// (`active_ms`, `web_searches`), the token kinds together under `tokens` where the first of
/// them falls, and the request count (not a charge) after the running time.
struct QuantitiesOut {
    quantity: PerCategory<u64>,
    requests: Option<u64>,
}

impl Serialize for QuantitiesOut {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        let mut tokens_written = false;
        for (c, n) in self.quantity.iter() {
            if !c.is_token() {
                m.serialize_entry(c.row().quantity_key, n)?;
            } else if !tokens_written {
                m.serialize_entry("tokens", &TokensOut(self.quantity))?;
                tokens_written = true;
            }
            if let (Category::Runtime, Some(r)) = (c, self.requests) {
                m.serialize_entry("requests", &r)?;
            }
        }
        m.end()
    }
}

/// The quantities' keys and values, to put in a JSON object.
fn quantities(quantity: PerCategory<u64>, requests: Option<u64>) -> serde_json::Map<String, Value> {
    match serde_json::to_value(QuantitiesOut { quantity, requests }) {
        Ok(Value::Object(m)) => m,
        _ => unreachable!("quantities are an object"),
    }
}

#[derive(Serialize)]
struct ProviderOut {
    list_cost: Option<String>,
    active_seconds: Option<String>,
    web_search_requests: Option<u64>,
    tokens: TokensOut,
}

#[derive(Serialize)]
struct SessionOut<'a> {
    session_id: &'a str,
    agent: Option<&'a str>,
    models: Vec<&'a str>,
    first_event_at: Option<String>,
    last_event_at: Option<String>,
    #[serde(flatten)]
    quantities: QuantitiesOut,
    cost: CostOut,
    /// Under `--contract`: the cost after its discounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    contracted_cost: Option<CostOut>,
    provider_reported: Option<ProviderOut>,
    budget: Option<BudgetOut>,
    warnings: &'a [String],
    duplicate_events: u64,
    out_of_order_events: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    advisor: Vec<AdvisorOut<'a>>,
}

/// The session's budget against its list cost (`null` without one).
#[derive(Serialize)]
struct BudgetOut {
    max_usd: Option<String>,
    /// A number, rounded to one decimal (exactly, then written as JSON's number).
    used_pct: Option<f64>,
    reached: bool,
}

impl From<BudgetStatus> for BudgetOut {
    fn from(b: BudgetStatus) -> Self {
        BudgetOut {
            max_usd: b.max.map(cents),
            used_pct: b.used_pct_shown().and_then(|p| p.to_f64()),
            reached: b.reached,
        }
    }
}

/// Advisor consultations at one model: part of the session's cost, shown on their own.
#[derive(Serialize)]
struct AdvisorOut<'a> {
    model: &'a str,
    consultations: u64,
    cost: String,
}

fn advisor(list: &[AdvisorSpend]) -> Vec<AdvisorOut<'_>> {
    list.iter()
        .map(|a| AdvisorOut {
            model: &a.model,
            consultations: a.consultations,
            cost: exact(a.cost),
        })
        .collect()
}

fn session<'a>(s: &'a RatedSession, terms: Option<&SessionTerms>) -> SessionOut<'a> {
    let u = &s.usage;
    SessionOut {
        session_id: &u.session_id,
        agent: u.agent.as_deref(),
        models: s.models.iter().map(|m| &**m).collect(),
        first_event_at: u.first_event_at.map(format_ms),
        last_event_at: u.last_event_at.map(format_ms),
        quantities: QuantitiesOut {
            quantity: s.quantities.by_category(),
            requests: Some(s.quantities.requests),
        },
        cost: (&s.cost).into(),
        contracted_cost: terms.map(|t| (&t.cost).into()),
        provider_reported: u.provider_reported.as_ref().map(|p| ProviderOut {
            list_cost: p.list_cost_usd.map(exact),
            active_seconds: p.active_seconds.map(exact),
            web_search_requests: p.web_search_requests,
            tokens: (&p.tokens).into(),
        }),
        budget: BudgetStatus::of(s).map(Into::into),
        warnings: &s.warnings,
        duplicate_events: u.duplicate_events,
        out_of_order_events: u.out_of_order_events,
        advisor: advisor(&s.advisor),
    }
}

/// The sessions, each turned into JSON only as it is written: a fleet's worth of sessions
/// never sits in memory as one JSON tree.
struct Sessions<'a>(&'a [RatedSession], Option<&'a [SessionTerms]>);

impl Serialize for Sessions<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0.iter().enumerate()).map(|(i, x)| session(x, self.1.map(|t| &t[i]))))
    }
}

/// The document, keys in schema order.
#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    pricing: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    contract: Option<Value>,
    sessions: Sessions<'a>,
    totals: Value,
    dropped: Value,
    skipped: Value,
    stream_errors: &'a [String],
    /// Inputs that gave nothing to meter, each `FILE: why`.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    empty_files: &'a [String],
    /// What the search for inputs passed over, each `PATH: why`.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    passed_over: &'a [String],
    /// With `--shard`: which one, and what it read.
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<Value>,
}

pub fn render(r: &MeterReport) -> String {
    let mut out = Vec::new();
    render_to(r, &mut out).expect("writing to memory");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Write the document to `w` (pretty-printed, with a final newline).
pub fn render_to(r: &MeterReport, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    // The sessions are most of the document (a kilobyte each): rendered in parallel and
    // spliced into the pretty-printed rest, where an empty `sessions` array marks their place.
    let mut head = Vec::new();
    serde_json::to_writer_pretty(&mut head, &doc(r, &[]))?;
    let at = memchr::memmem::find(&head, SESSIONS_MARK)
        .expect("the sessions key is at the top level")
        + SESSIONS_MARK.len();
    w.write_all(&head[..at - 1])?;
    if r.sessions.is_empty() {
        w.write_all(b"]")?;
    } else {
        write_sessions(r.sessions, terms(r), w)?;
        w.write_all(b"\n  ]")?;
    }
    w.write_all(&head[at..])?;
    w.write_all(b"\n")
}

fn terms<'a>(r: &'a MeterReport) -> Option<&'a [SessionTerms]> {
    r.billing.map(|b| b.sessions.as_slice())
}

/// The contract's terms as applied: its version, each month's bill and each credit's use.
fn contract(b: &Billing) -> Value {
    let c = b.contract;
    json!({
        "name": c.name,
        "version": c.version,
        "months": b.months.iter().map(|m| json!({
            "month": m.first.format("%Y-%m").to_string(),
            "list": exact(m.list),
            "contracted": exact(m.contracted),
            "commitment": m.commitment.map(|(i, _)| c.commitment_ref(i)),
            "minimum": m.commitment.map(|(_, min)| exact(min)),
            "shortfall": exact(m.shortfall),
            "credits": m.credits.iter().map(|(i, used)| json!({
                "row": c.credit_ref(*i), "used": exact(*used),
            })).collect::<Vec<_>>(),
            "billed": exact(m.billed),
        })).collect::<Vec<_>>(),
        "credits": c.credits.iter().zip(&b.credits).enumerate().map(|(i, (k, u))| json!({
            "row": c.credit_ref(i),
            "expires": k.expires.to_string(),
            "amount": exact(k.amount),
            "used": exact(u.used),
            "remaining": exact(u.remaining),
        })).collect::<Vec<_>>(),
    })
}

/// The document with these sessions.
fn doc<'a>(r: &'a MeterReport, sessions: &'a [RatedSession]) -> Doc<'a> {
    let t = &r.totals;
    let used = Quantities {
        active_ms: t.active_ms,
        requests: t.requests,
        tokens: t.tokens,
        web_searches: t.web_searches,
    };
    let mut totals = serde_json::Map::new();
    totals.insert("sessions".into(), t.sessions.into());
    totals.extend(quantities(used.by_category(), Some(t.requests)));
    totals.insert("cost".into(), cost(&t.cost));
    let mut totals = Value::Object(totals);
    if !t.advisor.is_empty() {
        totals["advisor"] = serde_json::to_value(advisor(&t.advisor)).expect("plain data");
    }
    if let Some(b) = r.billing {
        totals["contracted_cost"] = cost(&b.contracted);
        totals["commitment_shortfall"] = exact(b.shortfall).into();
        totals["credits_used"] = exact(b.credits_used).into();
        totals["billed"] = exact(b.billed).into();
    }
    Doc {
        schema: SCHEMA,
        pricing: json!({"name": r.table.name, "version": r.table.version}),
        contract: r.billing.map(contract),
        sessions: Sessions(sessions, terms(r).filter(|_| !sessions.is_empty())),
        totals,
        dropped: json!({
            "duplicate_events": r.duplicate_events,
            "queued_events": r.summary.queued_events,
            "duplicate_requests": r.summary.transcript_dropped.duplicates,
            "sidechain_replays": r.summary.transcript_dropped.sidechain_replays,
            "synthetic": r.summary.transcript_dropped.synthetic,
            "api_errors": r.summary.transcript_dropped.api_errors,
            "progress_copies": r.summary.transcript_dropped.progress_copies,
            "usage_on_other_lines": r.summary.transcript_dropped.other_types,
            "unselected_sessions": r.summary.unselected_sessions,
            "invalid_records": r.skipped.total,
        }),
        skipped: r
            .skipped
            .kept
            .iter()
            .map(|s| {
                json!({
                    "file": s.origin.as_ref().map(|o| &*o.file),
                    "line": s.origin.as_ref().map(|o| o.line),
                    "reason": s.reason,
                })
            })
            .collect(),
        stream_errors: &r.summary.stream_errors,
        empty_files: &r.summary.empty_files,
        passed_over: &r.summary.passed_over,
        shard: r.summary.shard.map(|s| {
            json!({
                "index": s.index,
                "of": s.of,
                "by": match s.by {
                    crate::meter::ShardBy::File => "file",
                    crate::meter::ShardBy::Session => "session",
                },
                "files": s.files,
                "all_files": s.all_files,
                "bytes": s.bytes,
            })
        }),
        groups: r.groups.as_ref().map(|(by, rows)| {
            json!({
                "by": names(by),
                "rows": rows.iter().map(|g| {
                    let keys: serde_json::Map<String, Value> = by
                        .iter()
                        .zip(&g.keys)
                        .map(|(b, k)| (b.name().to_string(), Value::from(k.as_str())))
                        .collect();
                    let mut row = json!({
                        "key": g.key,
                        "keys": keys,
                        "sessions": g.sessions,
                        "budgets_over_80": g.budgets_over_80,
                        "budgets_reached": g.budgets_reached,
                    });
                    if let Value::Object(o) = &mut row {
                        o.extend(quantities(g.sums.quantity, None));
                        o.insert("cost".into(), cost(&g.sums.cost()));
                        if let Some(paid) = g.contracted {
                            o.insert("contracted_cost".into(), cost(&paid.by_column()));
                        }
                    }
                    row
                }).collect::<Vec<_>>(),
            })
        }),
    }
}

/// The empty sessions array as `to_writer_pretty` writes it at the top level (a string's
/// newlines are escaped, so only the key itself can match).
const SESSIONS_MARK: &[u8] = b"\n  \"sessions\": []";

/// The elements of the top-level sessions array, byte for byte as `to_writer_pretty` writes
/// them at depth 2: each one pretty-printed alone, its lines indented 4 more spaces. A few
/// thousand at a time, so the rendered text held stays small.
fn write_sessions(
    sessions: &[RatedSession],
    terms: Option<&[SessionTerms]>,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    const PER_TASK: usize = 256;
    for (n, window) in sessions.chunks(PER_TASK * 16).enumerate() {
        let parts: Vec<Vec<u8>> = window
            .par_chunks(PER_TASK)
            .enumerate()
            .map(|(k, chunk)| {
                let mut out = Vec::with_capacity(chunk.len() * 1536);
                let mut one = Vec::with_capacity(2048);
                for (i, s) in chunk.iter().enumerate() {
                    let first = n == 0 && k == 0 && i == 0;
                    let at = (n * 16 + k) * PER_TASK + i;
                    out.extend_from_slice(if first { b"\n    " } else { b",\n    " });
                    one.clear();
                    serde_json::to_writer_pretty(&mut one, &session(s, terms.map(|t| &t[at])))
                        .expect("plain data");
                    for (j, line) in one.split(|&b| b == b'\n').enumerate() {
                        if j > 0 {
                            out.extend_from_slice(b"\n    ");
                        }
                        out.extend_from_slice(line);
                    }
                }
                out
            })
            .collect();
        for p in parts {
            w.write_all(&p)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meter::MeterSummary;
    use crate::pricing::PriceTable;
    use crate::rate::Rater;
    use crate::usage::SessionUsage;

    /// Sessions rendered in parallel and spliced in give, byte for byte, what pretty-printing
    /// the whole document at once gives: for no session, one, across a task's and a window's
    /// edge, and with strings that look like the splice mark or hold newlines.
    #[test]
    fn spliced_sessions_read_as_one_pretty_document() {
        let table = PriceTable::bundled().unwrap();
        let rater = Rater::new(&table, Default::default());
        let sessions: Vec<RatedSession> = (0..4200)
            .map(|i| {
                let usage = SessionUsage {
                    session_id: format!("sesn_{i}").into(),
                    agent: (i % 3 == 0).then(|| "a\n  \"sessions\": []".into()),
                    first_event_at: Some(i as i64 * 1000),
                    warnings: if i % 7 == 0 {
                        vec!["line\nbreak".into()]
                    } else {
                        Vec::new()
                    },
                    ..Default::default()
                };
                rater.rate(usage).0
            })
            .collect();
        let summary = MeterSummary::default();
        let none = Default::default();
        for n in [0, 1, 2, 256, 257, 4096, 4097, 4200] {
            let r = MeterReport::new(&table, &sessions[..n], &summary, &none);
            let mut want = serde_json::to_vec_pretty(&doc(&r, r.sessions)).unwrap();
            want.push(b'\n');
            assert!(
                render(&r).as_bytes() == want.as_slice(),
                "{n} sessions differ"
            );
        }
    }
}
