//! reconcile-v1: the document `reconcile --format json` writes. It is [`ReconcileDoc`]'s
//! serialization; its JSON Schema (docs/schema/reconcile-v1.json) is generated from it.

use std::borrow::Cow;

use rust_decimal::Decimal;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Serialize, Serializer};

use super::{Counts, SessionCheck, Tolerance};
use crate::category::{Category, CostColumn};
use crate::contract::Contract;
use crate::schema::{described, object, Exact};

agentmeter_core::schema_tag!(
    /// The schema string of a reconciliation.
    pub ReconcileV1 = "agentmeter/reconcile-v1"
);

/// What `agentmeter reconcile --format json` writes: each session's computed cost against
/// the provider's reported one, quantity by quantity; with --cost-report, computed against
/// invoiced by UTC day; with --usage-report, token and search counts against the usage
/// report. Amounts are USD as exact decimal strings.
#[derive(Serialize, JsonSchema)]
#[schemars(extend("dependentSchemas" = {
    "invoiced": {
        "description": "With `invoiced`, the totals have `invoiced` too.",
        "properties": { "totals": { "required": ["invoiced"] } }
    }
}))]
pub struct ReconcileDoc<'a> {
    /// The schema of this document.
    schema: ReconcileV1,
    /// The version of the price table the computed costs come from.
    pricing: &'a str,
    /// A session is flagged when |computed - reported| exceeds the larger of these (the
    /// fraction of the reported cost).
    tolerance: ToleranceJson,
    /// Each session that carries provider figures.
    sessions: Vec<SessionJson<'a>>,
    /// Sessions without provider figures.
    unreported: &'a [String],
    /// The three sources side by side.
    totals: Totals,
    /// Under --contract: the contract and its monthly terms (the invoice is compared with
    /// what the user pays; provider-reported costs stay list prices).
    #[serde(skip_serializing_if = "Option::is_none")]
    contract: Option<ContractJson<'a>>,
    /// With --cost-report: computed against invoiced, by UTC day and bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Invoiced")]
    invoiced: Option<Invoiced>,
    /// With --usage-report: counts by UTC day and model, computed and reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<UsageDay>")]
    usage_report: Option<Vec<UsageDay>>,
}

/// The tolerance of the flags.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "tolerance")]
struct ToleranceJson {
    /// In dollars (--tolerance-usd).
    usd: Exact,
    /// As a share of the reported cost (--tolerance-pct as a fraction: 0.5% is 0.005).
    fraction: Exact,
}

/// One session that carries provider figures.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "session_check")]
struct SessionJson<'a> {
    /// The session's id.
    session_id: &'a str,
    /// Its cost as agentmeter computes it.
    computed: Exact,
    /// Its list cost as the provider reports it, if it does.
    provider_reported: Option<Exact>,
    /// computed - provider_reported (null without a reported cost).
    difference: Option<Exact>,
    /// Whether the difference is past the tolerance.
    flagged: bool,
    /// When flagged: the quantity whose difference costs most.
    explained_by: Option<What>,
    /// Each quantity, ours and theirs.
    quantities: Vec<QuantityJson>,
}

/// One quantity, ours and theirs.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "quantity")]
struct QuantityJson {
    /// Which quantity.
    what: What,
    /// Our quantity (seconds, tokens or searches).
    computed: Exact,
    /// Theirs, if reported.
    provider_reported: Option<Exact>,
    /// (computed - reported) at the session's unit price, USD (0 when not reported).
    cost_impact: Exact,
}

/// A quantity by its name: running seconds, a token kind or web searches.
#[derive(Clone, Copy, Debug)]
pub struct What(pub &'static str);

/// The quantities' names: `runtime_seconds` for the running time (seconds, as the provider
/// reports it), else each category's quantity key.
pub fn quantity_names() -> Vec<&'static str> {
    (Category::ALL.iter())
        .map(|c| match c {
            Category::Runtime => "runtime_seconds",
            c => c.row().quantity_key,
        })
        .collect()
}

impl Serialize for What {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl JsonSchema for What {
    fn schema_name() -> Cow<'static, str> {
        "what".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "enum": quantity_names(),
            "description": "A quantity: running seconds, a token kind or web searches.",
        })
    }
}

/// The three sources side by side.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "reconcile_totals")]
struct Totals {
    /// Every session's computed cost.
    computed: Exact,
    /// The reported costs of the sessions that report one.
    provider_reported: Exact,
    /// Under --contract: what the user pays for the computed usage.
    #[serde(skip_serializing_if = "Option::is_none")]
    contracted: Option<Exact>,
    /// With --cost-report: the invoiced total.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Exact")]
    invoiced: Option<Exact>,
}

/// With --cost-report: computed against invoiced, by UTC day and bucket.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "invoiced")]
struct Invoiced {
    /// One line per day and bucket, sorted.
    by_day: Vec<InvoicedLine>,
    /// The invoiced total.
    total: Exact,
}

/// One day and bucket, computed and invoiced.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "invoiced_line")]
pub struct InvoicedLine {
    /// The UTC day (the first 10 characters of the bucket's starting_at).
    day: String,
    /// A model id, `(session runtime)`, `(web search)` or `(other)`.
    bucket: String,
    /// What agentmeter computes for it.
    computed: Exact,
    /// Under --contract: what the user pays for it (then `difference` is contracted -
    /// invoiced).
    #[serde(skip_serializing_if = "Option::is_none")]
    contracted: Option<Exact>,
    /// What the cost report invoices.
    invoiced: Exact,
    /// computed - invoiced (contracted - invoiced under --contract).
    difference: Exact,
}

/// The contract of a reconciliation and its monthly terms on the computed usage.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "reconcile_contract")]
struct ContractJson<'a> {
    /// The contract's name.
    name: &'a str,
    /// The contract's version (a hash of its content).
    version: &'a str,
    /// The commitments' shortfalls.
    commitment_shortfall: Exact,
    /// Credits used.
    credits_used: Exact,
    /// The bill: contracted + shortfalls - credits.
    billed: Exact,
}

impl InvoicedLine {
    pub fn new(day: String, bucket: String, computed: Decimal, invoiced: Decimal) -> Self {
        InvoicedLine {
            day,
            bucket,
            computed: Exact(computed),
            contracted: None,
            invoiced: Exact(invoiced),
            difference: Exact(computed - invoiced),
        }
    }

    /// Under a contract: the invoice is what the user pays, compared with `contracted`.
    pub fn contracted(
        day: String,
        bucket: String,
        computed: Decimal,
        contracted: Decimal,
        invoiced: Decimal,
    ) -> Self {
        InvoicedLine {
            day,
            bucket,
            computed: Exact(computed),
            contracted: Some(Exact(contracted)),
            invoiced: Exact(invoiced),
            difference: Exact(contracted - invoiced),
        }
    }
}

/// One UTC day and model, computed and reported.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "usage_day")]
pub struct UsageDay {
    /// The UTC day.
    day: String,
    /// The model.
    model: String,
    /// Each count the usage report has, ours and theirs.
    counts: UsageCounts,
}

impl UsageDay {
    pub fn new(day: String, model: String, computed: Counts, reported: Counts) -> Self {
        UsageDay {
            day,
            model,
            counts: UsageCounts { computed, reported },
        }
    }
}

/// Each cost column a usage report counts, under its usage-report key: ours and theirs.
struct UsageCounts {
    computed: Counts,
    reported: Counts,
}

/// The cost columns a usage report counts, with their keys.
fn counted() -> impl Iterator<Item = (CostColumn, &'static str)> {
    (CostColumn::ALL.into_iter()).filter_map(|c| c.row().usage_report.map(|(key, _)| (c, key)))
}

/// One count, ours and theirs.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "pair")]
struct CountPair {
    /// Ours.
    computed: u64,
    /// The usage report's.
    reported: u64,
}

impl Serialize for UsageCounts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(counted().map(|(c, key)| {
            let pair = CountPair {
                computed: self.computed[c],
                reported: self.reported[c],
            };
            (key, pair)
        }))
    }
}

impl JsonSchema for UsageCounts {
    fn schema_name() -> Cow<'static, str> {
        "counts".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let p = counted()
            .map(|(c, key)| {
                let pair = g.subschema_for::<CountPair>();
                (key, described(pair, c.row().description))
            })
            .collect();
        object(p, "Each count the usage report has, ours and theirs.")
    }
}

impl<'a> ReconcileDoc<'a> {
    /// The sessions' checks, priced with the table `pricing` (its version).
    pub fn new(
        pricing: &'a str,
        tol: Tolerance,
        checks: &'a [SessionCheck],
        unreported: &'a [String],
        computed_total: Decimal,
        reported_total: Decimal,
    ) -> Self {
        ReconcileDoc {
            schema: ReconcileV1,
            pricing,
            tolerance: ToleranceJson {
                usd: Exact(tol.usd),
                fraction: Exact(tol.fraction),
            },
            sessions: (checks.iter())
                .map(|c| SessionJson {
                    session_id: &c.session_id,
                    computed: Exact(c.computed_cost),
                    provider_reported: c.reported_cost.map(Exact),
                    difference: c.difference().map(Exact),
                    flagged: c.flagged,
                    explained_by: c.explained_by.map(What),
                    quantities: (c.quantities.iter())
                        .map(|q| QuantityJson {
                            what: What(q.what),
                            computed: Exact(q.computed),
                            provider_reported: q.reported.map(Exact),
                            cost_impact: Exact(q.cost_impact),
                        })
                        .collect(),
                })
                .collect(),
            unreported,
            totals: Totals {
                computed: Exact(computed_total),
                provider_reported: Exact(reported_total),
                contracted: None,
                invoiced: None,
            },
            contract: None,
            invoiced: None,
            usage_report: None,
        }
    }

    /// With --cost-report: the lines by day and bucket, and the invoiced total.
    pub fn invoiced(&mut self, by_day: Vec<InvoicedLine>, total: Decimal) {
        self.invoiced = Some(Invoiced {
            by_day,
            total: Exact(total),
        });
        self.totals.invoiced = Some(Exact(total));
    }

    /// Under --contract: the contract, its terms and the contracted total.
    pub fn contract(
        &mut self,
        c: &'a Contract,
        contracted: Decimal,
        shortfall: Decimal,
        credits_used: Decimal,
        billed: Decimal,
    ) {
        self.totals.contracted = Some(Exact(contracted));
        self.contract = Some(ContractJson {
            name: &c.name,
            version: &c.version,
            commitment_shortfall: Exact(shortfall),
            credits_used: Exact(credits_used),
            billed: Exact(billed),
        });
    }

    /// With --usage-report: the counts by day and model.
    pub fn usage_report(&mut self, lines: Vec<UsageDay>) {
        self.usage_report = Some(lines);
    }
}
