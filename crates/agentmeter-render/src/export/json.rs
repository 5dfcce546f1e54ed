//! JSON: the `agentmeter/meter-v1` schema of design.md (amounts as exact decimal strings,
//! quantities as integers), plus additive keys: `agent`, `duplicate_events` per session,
//! `groups`, `skipped` and more `dropped` counters at the top. The document is [`MeterDoc`]'s
//! serialization, and its JSON Schema (docs/schema/meter-v1.json) is generated from it.

use std::borrow::Cow;

use rayon::prelude::*;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::ser::SerializeMap;
use serde::Serialize;

use crate::category::{Category, PerCategory};
use crate::contract::{Billing, SessionTerms};
use crate::export::BudgetStatus;
use crate::pricing::json::TableRef;
use crate::rate::{AdvisorSpend, RatedSession};
use crate::report::group::{names, GroupBy};
use crate::report::MeterReport;
use crate::schema::{described, object, Cents, CostJson, Day, Exact, Instant, Month};
use crate::usage::{Quantities, Tokens};
use rust_decimal::prelude::ToPrimitive;

agentmeter_core::schema_tag!(
    /// The schema string of a meter document.
    pub MeterV1 = "agentmeter/meter-v1"
);

pub const SCHEMA: &str = MeterV1::NAME;

// Typed views for what is written once per session, so a fleet's sessions are serialized
// straight to the output, not built as JSON trees first. Keys in schema order, which is the
// category table's.

/// What was used, as meter-v1 has it: each category's quantity under its own key
/// (`active_ms`, `web_searches`), the token kinds together under `tokens` where the first of
/// them falls, and (`REQUESTS`) the request count, not a charge, after the running time.
struct QuantitiesOut<const REQUESTS: bool> {
    quantity: PerCategory<u64>,
    requests: u64,
}

impl<const REQUESTS: bool> Serialize for QuantitiesOut<REQUESTS> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        let mut tokens_written = false;
        for (c, n) in self.quantity.iter() {
            if !c.is_token() {
                m.serialize_entry(c.row().quantity_key, n)?;
            } else if !tokens_written {
                m.serialize_entry("tokens", &Tokens::of(&self.quantity))?;
                tokens_written = true;
            }
            if REQUESTS && c == Category::Runtime {
                m.serialize_entry("requests", &self.requests)?;
            }
        }
        m.end()
    }
}

/// The same keys, in the same order, described from the category table (always flattened
/// into the object that holds them).
impl<const REQUESTS: bool> JsonSchema for QuantitiesOut<REQUESTS> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        if REQUESTS {
            "quantities".into()
        } else {
            "quantities_without_requests".into()
        }
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let mut p = Vec::new();
        for c in Category::ALL {
            if !c.is_token() {
                p.push((
                    c.row().quantity_key,
                    described(g.subschema_for::<u64>(), c.row().description),
                ));
            } else if !p.iter().any(|(k, _)| *k == "tokens") {
                p.push((
                    "tokens",
                    described(g.subschema_for::<Tokens>(), "Tokens by kind."),
                ));
            }
            if REQUESTS && c == Category::Runtime {
                p.push((
                    "requests",
                    described(g.subschema_for::<u64>(), "Model requests (not a charge)."),
                ));
            }
        }
        object(p, "What was used.")
    }
}

/// The provider's own figures for the session, where the input carries them (kept for
/// reconciliation, never billed).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "provider_reported")]
struct ProviderOut {
    /// The provider's list cost, USD.
    list_cost: Option<Exact>,
    /// The provider's running time, seconds.
    active_seconds: Option<Exact>,
    /// The provider's web search count.
    web_search_requests: Option<u64>,
    /// The provider's token totals (all 0 when not reported).
    tokens: Tokens,
}

/// One session: what it used and what it cost.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "session")]
struct SessionOut<'a> {
    /// The session's id.
    session_id: &'a str,
    /// The session's (primary) agent's name, if the export names it.
    agent: Option<&'a str>,
    /// The canonical ids of the models its requests were priced as.
    models: Vec<&'a str>,
    /// Its first event's processed_at.
    first_event_at: Option<Instant>,
    /// Its last event's processed_at.
    last_event_at: Option<Instant>,
    #[serde(flatten)]
    quantities: QuantitiesOut<true>,
    /// The list cost.
    cost: CostJson,
    /// With --contract: the cost after its discounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "CostJson")]
    contracted_cost: Option<CostJson>,
    /// The provider's own figures for the session, where the input carries them (kept for
    /// reconciliation, never billed); null without.
    provider_reported: Option<ProviderOut>,
    /// The session's budget against its list cost; null without one.
    budget: Option<BudgetOut>,
    /// What metering noticed about the session.
    warnings: &'a [String],
    /// Events dropped as repeated ids.
    duplicate_events: u64,
    /// Events listed earlier in processed_at than the one before them in their file.
    out_of_order_events: u64,
    /// Its advisor consultations by model (absent when there is none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    advisor: Vec<AdvisorOut<'a>>,
}

/// The session's budget against its list cost (`null` without one).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "budget_status")]
struct BudgetOut {
    /// The budget, USD to the cent; null when only the stop at it is known.
    max_usd: Option<Cents>,
    /// Cost as a percentage of the budget, rounded to one decimal (a JSON number).
    used_pct: Option<f64>,
    /// Whether the session stopped at its budget, or its cost reached it.
    reached: bool,
}

impl From<BudgetStatus> for BudgetOut {
    fn from(b: BudgetStatus) -> Self {
        BudgetOut {
            max_usd: b.max.map(Cents),
            used_pct: b.used_pct_shown().and_then(|p| p.to_f64()),
            reached: b.reached,
        }
    }
}

/// Advisor consultations at one model: part of the cost, shown on their own.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "advisor")]
struct AdvisorOut<'a> {
    /// The advisor's model.
    model: &'a str,
    /// How many consultations.
    consultations: u64,
    /// What they cost, USD.
    cost: Exact,
}

fn advisor(list: &[AdvisorSpend]) -> Vec<AdvisorOut<'_>> {
    list.iter()
        .map(|a| AdvisorOut {
            model: &a.model,
            consultations: a.consultations,
            cost: Exact(a.cost),
        })
        .collect()
}

fn session<'a>(s: &'a RatedSession, terms: Option<&SessionTerms>) -> SessionOut<'a> {
    let u = &s.usage;
    SessionOut {
        session_id: &u.session_id,
        agent: u.agent.as_deref(),
        models: s.models.iter().map(|m| &**m).collect(),
        first_event_at: u.first_event_at.map(Instant),
        last_event_at: u.last_event_at.map(Instant),
        quantities: QuantitiesOut {
            quantity: s.quantities.by_category(),
            requests: s.quantities.requests,
        },
        cost: CostJson(s.cost),
        contracted_cost: terms.map(|t| CostJson(t.cost)),
        provider_reported: u.provider_reported.as_ref().map(|p| ProviderOut {
            list_cost: p.list_cost_usd.map(Exact),
            active_seconds: p.active_seconds.map(Exact),
            web_search_requests: p.web_search_requests,
            tokens: p.tokens,
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

/// An array of sessions.
impl JsonSchema for Sessions<'_> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "sessions".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        <Vec<SessionOut<'static>>>::json_schema(g)
    }
}

/// The sums over every session.
#[derive(Serialize, JsonSchema)]
#[schemars(
    rename = "totals",
    extend("dependentRequired" = {"contracted_cost": ["commitment_shortfall", "credits_used", "billed"]})
)]
struct TotalsOut<'a> {
    /// How many sessions.
    sessions: u64,
    #[serde(flatten)]
    quantities: QuantitiesOut<true>,
    /// The list cost.
    cost: CostJson,
    /// Advisor consultations by model (absent when there is none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    advisor: Vec<AdvisorOut<'a>>,
    #[serde(flatten)]
    contract: Option<ContractTotals>,
}

/// With --contract: what the contract makes of the totals.
#[derive(Serialize, JsonSchema)]
struct ContractTotals {
    /// With --contract: the cost after its discounts.
    contracted_cost: CostJson,
    /// With --contract: what months below their commitment add.
    commitment_shortfall: Exact,
    /// With --contract: the credits used.
    credits_used: Exact,
    /// With --contract: what is billed, after the commitment shortfall and the credits.
    billed: Exact,
}

/// What was read and not billed, counted.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "dropped")]
struct DroppedOut {
    /// Events with an id already seen in their session.
    duplicate_events: u64,
    /// User events still queued (processed_at null).
    queued_events: u64,
    /// Claude Code: copies of a request already counted.
    duplicate_requests: u64,
    /// Claude Code: a subagent's requests replayed in its parent's transcript.
    sidechain_replays: u64,
    /// Claude Code: synthetic (not billed) messages.
    synthetic: u64,
    /// Claude Code: API error messages.
    api_errors: u64,
    /// Claude Code: progress lines copying a subagent's request.
    progress_copies: u64,
    /// Claude Code: usage on lines that are not a billed request.
    usage_on_other_lines: u64,
    /// Sessions with no usage in the --since/--until/--project selection.
    unselected_sessions: u64,
    /// Records skipped by --skip-invalid (all of them, not only those listed).
    invalid_records: u64,
}

/// One record passed over.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "skipped")]
struct SkippedOut<'a> {
    /// The file it is in (null when unknown).
    file: Option<&'a str>,
    /// Its line (for SSE, where its frame starts).
    line: Option<u64>,
    /// Why it was skipped.
    reason: &'a str,
}

/// What is split among shards.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "shard_by")]
enum ShardByOut {
    /// Whole files.
    File,
    /// Sessions.
    Session,
}

/// With --shard: which shard, and what it read.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "shard")]
struct ShardOut {
    /// This shard, 1-based.
    #[schemars(range(min = 1))]
    index: u32,
    /// How many shards.
    #[schemars(range(min = 1))]
    of: u32,
    /// What is split: whole files or sessions.
    by: ShardByOut,
    /// Files this shard opened.
    files: u64,
    /// Files found in all.
    all_files: u64,
    /// Bytes read (a compressed file's compressed bytes).
    bytes: u64,
}

/// With --group-by: the sums per group.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "groups")]
struct GroupsOut<'a> {
    /// The grouping keys, comma-separated.
    by: GroupNames,
    /// One row per group, sorted by its keys.
    rows: Vec<GroupOut<'a>>,
}

/// One group's sums.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "group")]
struct GroupOut<'a> {
    /// The group's key values joined by a space.
    key: &'a str,
    /// The group's value of each grouping key (`2026-06-01`, `2026-W23`, `2026-06`, a model,
    /// an agent, a project).
    keys: GroupKeys<'a>,
    /// Sessions with at least one charge in the group.
    sessions: u64,
    /// Of those, sessions at or over 80% of their budget (or stopped at it).
    budgets_over_80: u64,
    /// Of those, sessions that reached their budget.
    budgets_reached: u64,
    #[serde(flatten)]
    quantities: QuantitiesOut<false>,
    /// The list cost.
    cost: CostJson,
    /// Under --contract: what the user pays (the contract's discounts applied).
    #[serde(skip_serializing_if = "Option::is_none")]
    contracted_cost: Option<CostJson>,
}

/// The names of the grouping keys, comma-separated (`day,model`).
struct GroupNames(String);

impl Serialize for GroupNames {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl JsonSchema for GroupNames {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "group_names".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let one = GroupBy::ALL.map(|b| b.name()).join("|");
        schemars::json_schema!({
            "type": "string",
            "pattern": format!("^({one})(,({one}))*$"),
        })
    }
}

/// Each grouping key's name with the group's value of it, in the order asked for.
struct GroupKeys<'a>(&'a [GroupBy], &'a [String]);

impl Serialize for GroupKeys<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().zip(self.1).map(|(b, k)| (b.name(), k)))
    }
}

/// A map from the grouping keys' names to strings.
impl JsonSchema for GroupKeys<'_> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "group_keys".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = GroupBy::ALL.iter().map(|b| b.name()).collect();
        schemars::json_schema!({
            "type": "object",
            "propertyNames": { "enum": names },
            "additionalProperties": { "type": "string" },
        })
    }
}

/// With --contract: the contract's terms as applied, month by month.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "contract")]
struct ContractOut<'a> {
    /// The contract's name.
    name: &'a str,
    /// Its version: the name, `@` and a SHA-256 prefix of its file.
    version: &'a str,
    /// Each month with usage or a commitment.
    months: Vec<ContractMonth>,
    /// Each credit of the contract and how much of it is left.
    credits: Vec<CreditOut>,
}

/// One month of the bill.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "contract_month")]
struct ContractMonth {
    /// The month, YYYY-MM (UTC).
    month: Month,
    /// The month's list cost.
    list: Exact,
    /// After discounts.
    contracted: Exact,
    /// The commitment row in force (`commitment[I]@DATE`), if any.
    commitment: Option<String>,
    /// Its monthly minimum, USD.
    minimum: Option<Exact>,
    /// What the month falls short of the minimum (billed as its own line).
    shortfall: Exact,
    /// The credits used this month.
    credits: Vec<CreditUsed>,
    /// What the month bills.
    billed: Exact,
}

/// A credit used in a month.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "credit_used")]
struct CreditUsed {
    /// The credit row (`credit[I]@DATE`).
    row: String,
    /// How much of it was used.
    used: Exact,
}

/// A credit of the contract and how much of it is left.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "credit")]
struct CreditOut {
    /// The credit row (`credit[I]@DATE`).
    row: String,
    /// Its last day (inclusive).
    expires: Day,
    /// Its amount.
    amount: Exact,
    /// How much was used.
    used: Exact,
    /// How much is left.
    remaining: Exact,
}

/// What `agentmeter meter --format json` writes (also `meter.json` in a --report directory):
/// each session's usage and exact cost, the totals, and what was dropped or skipped. Amounts
/// are USD as exact decimal strings; quantities are integers.
#[derive(Serialize, JsonSchema)]
pub struct MeterDoc<'a> {
    /// The schema of this document.
    schema: MeterV1,
    /// The price table the amounts come from.
    pricing: TableRef<'a>,
    /// With --contract: the contract's terms as applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "ContractOut")]
    contract: Option<ContractOut<'a>>,
    /// One entry per session, in the order of the inputs.
    sessions: Sessions<'a>,
    /// The sums over every session.
    totals: TotalsOut<'a>,
    /// What was read and not billed, counted.
    dropped: DroppedOut,
    /// With --skip-invalid: the records passed over (the first 1,000).
    skipped: Vec<SkippedOut<'a>>,
    /// SSE `error` frames met in transcripts, each `FILE:LINE`.
    stream_errors: &'a [String],
    /// Inputs that gave nothing to meter, each `FILE: why` (absent when there is none).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    empty_files: &'a [String],
    /// What the search for inputs passed over, each `PATH: why` (absent when there is none).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    passed_over: &'a [String],
    /// With --shard: which shard, and what it read.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "ShardOut")]
    shard: Option<ShardOut>,
    /// With --group-by: the sums per group.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "GroupsOut")]
    groups: Option<GroupsOut<'a>>,
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
fn contract<'a>(b: &'a Billing) -> ContractOut<'a> {
    let c = b.contract;
    ContractOut {
        name: &c.name,
        version: &c.version,
        months: (b.months.iter())
            .map(|m| ContractMonth {
                month: Month(m.first),
                list: Exact(m.list),
                contracted: Exact(m.contracted),
                commitment: m.commitment.map(|(i, _)| c.commitment_ref(i)),
                minimum: m.commitment.map(|(_, min)| Exact(min)),
                shortfall: Exact(m.shortfall),
                credits: (m.credits.iter())
                    .map(|(i, used)| CreditUsed {
                        row: c.credit_ref(*i),
                        used: Exact(*used),
                    })
                    .collect(),
                billed: Exact(m.billed),
            })
            .collect(),
        credits: (c.credits.iter().zip(&b.credits).enumerate())
            .map(|(i, (k, u))| CreditOut {
                row: c.credit_ref(i),
                expires: Day(k.expires),
                amount: Exact(k.amount),
                used: Exact(u.used),
                remaining: Exact(u.remaining),
            })
            .collect(),
    }
}

/// The document with these sessions.
fn doc<'a>(r: &'a MeterReport, sessions: &'a [RatedSession]) -> MeterDoc<'a> {
    let t = &r.totals;
    let used = Quantities {
        active_ms: t.active_ms,
        requests: t.requests,
        tokens: t.tokens,
        web_searches: t.web_searches,
    };
    let dropped = &r.summary.transcript_dropped;
    MeterDoc {
        schema: MeterV1,
        pricing: TableRef::of(r.table),
        contract: r.billing.map(contract),
        sessions: Sessions(sessions, terms(r).filter(|_| !sessions.is_empty())),
        totals: TotalsOut {
            sessions: t.sessions,
            quantities: QuantitiesOut {
                quantity: used.by_category(),
                requests: t.requests,
            },
            cost: CostJson(t.cost),
            advisor: advisor(&t.advisor),
            contract: r.billing.map(|b| ContractTotals {
                contracted_cost: CostJson(b.contracted),
                commitment_shortfall: Exact(b.shortfall),
                credits_used: Exact(b.credits_used),
                billed: Exact(b.billed),
            }),
        },
        dropped: DroppedOut {
            duplicate_events: r.duplicate_events,
            queued_events: r.summary.queued_events,
            duplicate_requests: dropped.duplicates,
            sidechain_replays: dropped.sidechain_replays,
            synthetic: dropped.synthetic,
            api_errors: dropped.api_errors,
            progress_copies: dropped.progress_copies,
            usage_on_other_lines: dropped.other_types,
            unselected_sessions: r.summary.unselected_sessions,
            invalid_records: r.skipped.total,
        },
        skipped: (r.skipped.kept.iter())
            .map(|s| SkippedOut {
                file: s.origin.as_ref().map(|o| &*o.file),
                line: s.origin.as_ref().map(|o| o.line),
                reason: &s.reason,
            })
            .collect(),
        stream_errors: &r.summary.stream_errors,
        empty_files: &r.summary.empty_files,
        passed_over: &r.summary.passed_over,
        shard: r.summary.shard.map(|s| ShardOut {
            index: s.index,
            of: s.of,
            by: match s.by {
                crate::meter::ShardBy::File => ShardByOut::File,
                crate::meter::ShardBy::Session => ShardByOut::Session,
            },
            files: s.files,
            all_files: s.all_files,
            bytes: s.bytes,
        }),
        groups: r.groups.as_ref().map(|(by, rows)| GroupsOut {
            by: GroupNames(names(by)),
            rows: (rows.iter())
                .map(|g| GroupOut {
                    key: &g.key,
                    keys: GroupKeys(by, &g.keys),
                    sessions: g.sessions,
                    budgets_over_80: g.budgets_over_80,
                    budgets_reached: g.budgets_reached,
                    quantities: QuantitiesOut {
                        quantity: g.sums.quantity,
                        requests: 0,
                    },
                    cost: CostJson(g.sums.cost()),
                    contracted_cost: g.contracted.map(|paid| CostJson(paid.by_column())),
                })
                .collect(),
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
