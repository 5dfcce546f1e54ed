//! The JSON of price tables: the reference to a table every document carries, and the
//! documents of `pricing list` (pricing-list-v1) and `pricing audit` (pricing-audit-v1),
//! each its type's serialization with its JSON Schema generated from it.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Serialize, Serializer};

use super::audit::{all_rates, Audit};
use super::{PriceRow, PriceTable, Rates};
use crate::category::Category;
use crate::schema::{described, object, Exact, Instant};
use crate::time::Millis;

/// The price table the amounts come from.
#[derive(Clone, Copy, Debug, Serialize, JsonSchema)]
#[schemars(rename = "pricing")]
pub struct TableRef<'a> {
    /// The table's name.
    pub name: &'a str,
    /// The table's version: its name, `@` and the first 8 hex digits of its file's SHA-256.
    pub version: &'a str,
}

impl<'a> TableRef<'a> {
    pub fn of(t: &'a PriceTable) -> Self {
        TableRef {
            name: &t.name,
            version: &t.version,
        }
    }
}

/// Token rates, USD per million tokens, under the category table's token keys.
#[derive(Clone, Copy, Debug)]
pub struct RatesJson<'a>(pub &'a Rates);

impl Serialize for RatesJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(Category::tokens().map(|c| (c.key(), Exact(self.0.get(c)))))
    }
}

impl JsonSchema for RatesJson<'_> {
    fn schema_name() -> Cow<'static, str> {
        "rates".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let p = Category::tokens()
            .map(|c| {
                let d = g.subschema_for::<Exact>();
                (c.key(), described(d, c.row().description))
            })
            .collect();
        object(p, "Token rates, USD per million tokens.")
    }
}

agentmeter_core::schema_tag!(
    /// The schema string of the rows in force.
    pub PricingListV1 = "agentmeter/pricing-list-v1"
);

/// What `agentmeter pricing list --format json` writes: the models of a price table and the
/// rows in force at an instant. Token rates are USD per million tokens, as exact decimal
/// strings.
#[derive(Serialize, JsonSchema)]
pub struct ListDoc<'a> {
    /// The schema of this document.
    schema: PricingListV1,
    /// The price table.
    pricing: TableRef<'a>,
    /// The instant the rows are in force at (--at, else now).
    at: Instant,
    /// Each model with a row in force then, in the table's order.
    models: Vec<ModelJson<'a>>,
    /// The session runtime rate in force, USD per hour.
    runtime_usd_per_hour: Option<Exact>,
    /// The web search rate in force, USD per 1,000 searches.
    web_search_usd_per_1000: Option<Exact>,
    /// The multipliers in force (e.g. US-only inference).
    multipliers: Vec<MultiplierJson<'a>>,
}

/// A model with its row in force.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "model")]
struct ModelJson<'a> {
    /// The model's id.
    id: &'a str,
    /// Other ids that name it.
    aliases: &'a [String],
    /// The price row in force.
    row: RowJson<'a>,
}

/// The price row in force: its token rates, then the rest.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "row")]
struct RowJson<'a> {
    #[serde(flatten)]
    rates: RatesJson<'a>,
    /// Where the row starts, as the table writes it (an RFC 3339 instant or a date).
    effective: &'a str,
    /// Fast mode's rates, if the row has them.
    fast: Option<RatesJson<'a>>,
    /// Long-context rates, if the row has them: they apply to a whole request past the
    /// threshold.
    long_context: Option<LongContextJson<'a>>,
    /// Where the row's prices come from.
    source: Option<&'a str>,
    /// The row's note.
    note: Option<&'a str>,
}

/// Long-context rates: they apply to a whole request past the threshold.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "long_context")]
struct LongContextJson<'a> {
    #[serde(flatten)]
    rates: RatesJson<'a>,
    /// Input + cache tokens past which a request is priced at these rates.
    threshold_input_tokens: u64,
}

/// A multiplier in force.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "multiplier")]
struct MultiplierJson<'a> {
    /// The multiplier's name.
    name: &'a str,
    /// What token charges are multiplied by.
    factor: Exact,
    /// The models it applies to.
    models: &'a [String],
}

impl<'a> ListDoc<'a> {
    /// The rows of `t` in force at `at`.
    pub fn new(t: &'a PriceTable, at: Millis) -> Self {
        ListDoc {
            schema: PricingListV1,
            pricing: TableRef::of(t),
            at: Instant(at),
            models: (t.models.iter())
                .filter_map(|m| m.row_at(at).map(|r| (m, r)))
                .map(|(m, r)| ModelJson {
                    id: &m.id,
                    aliases: &m.aliases,
                    row: row(r),
                })
                .collect(),
            runtime_usd_per_hour: t.runtime_at(at).map(|r| Exact(r.usd_per_hour)),
            web_search_usd_per_1000: t.web_search_at(at).map(|r| Exact(r.usd_per_1000)),
            multipliers: (t.multipliers.iter())
                .filter(|m| t.multiplier_at(&m.name, at) == Some(*m))
                .map(|m| MultiplierJson {
                    name: &m.name,
                    factor: Exact(m.factor),
                    models: &m.models,
                })
                .collect(),
        }
    }
}

fn row(r: &PriceRow) -> RowJson<'_> {
    RowJson {
        rates: RatesJson(&r.rates),
        effective: &r.effective_text,
        fast: r.fast.as_ref().map(RatesJson),
        long_context: r.long_context.as_ref().map(|l| LongContextJson {
            rates: RatesJson(&l.rates),
            threshold_input_tokens: l.threshold_input_tokens,
        }),
        source: r.source.as_deref(),
        note: r.note.as_deref(),
    }
}

agentmeter_core::schema_tag!(
    /// The schema string of a price audit.
    pub PricingAuditV1 = "agentmeter/pricing-audit-v1"
);

/// What `agentmeter pricing audit --format json` writes: the price table against downloaded
/// price files (genai-prices, LiteLLM), offline: each rate that disagrees and each of their
/// models the table lacks. Rates are exact decimal strings, USD per million tokens (per 1,000
/// searches for web_search, a factor for inference_geo_us, a token count for the long-context
/// threshold).
#[derive(Serialize, JsonSchema)]
pub struct AuditDoc<'a> {
    /// The schema of this document.
    schema: PricingAuditV1,
    /// The price table audited.
    pricing: TableRef<'a>,
    /// The instant whose prices are compared (--at, else now).
    at: Instant,
    /// How many of their models were compared with one of ours.
    compared: usize,
    /// Each rate where theirs and ours differ.
    disagreements: Vec<DisagreementJson<'a>>,
    /// Their models that map to none of ours.
    missing: Vec<MissingJson<'a>>,
}

/// A rate where theirs and ours differ.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "disagreement")]
struct DisagreementJson<'a> {
    /// Our model id.
    model: &'a str,
    /// Their model id.
    their_model: &'a str,
    /// Which rate.
    rate: RateName<'a>,
    /// Our rate; null when we have none.
    ours: Option<Exact>,
    /// Their rate; null when they state none.
    theirs: Option<Exact>,
    /// Their file.
    file: &'a str,
    /// The line of their model's entry (0 if not found).
    line: u64,
}

/// A model of theirs that maps to none of ours.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "missing")]
struct MissingJson<'a> {
    /// Their model id.
    their_model: &'a str,
    /// Their file.
    file: &'a str,
    /// The line of its entry (0 if not found).
    line: u64,
}

/// A rate an audit compares, by its name (`fast.input`).
struct RateName<'a>(&'a str);

impl Serialize for RateName<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl JsonSchema for RateName<'_> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "rate_name".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = all_rates().collect();
        schemars::json_schema!({ "enum": names })
    }
}

impl<'a> AuditDoc<'a> {
    /// The audit `r` of `t` at `at`.
    pub fn new(t: &'a PriceTable, at: Millis, r: &'a Audit) -> Self {
        AuditDoc {
            schema: PricingAuditV1,
            pricing: TableRef::of(t),
            at: Instant(at),
            compared: r.compared,
            disagreements: (r.disagreements.iter())
                .map(|d| DisagreementJson {
                    model: &d.model,
                    their_model: &d.their_id,
                    rate: RateName(&d.rate),
                    ours: d.ours.map(Exact),
                    theirs: d.theirs.map(Exact),
                    file: &d.file,
                    line: d.line,
                })
                .collect(),
            missing: (r.missing.iter())
                .map(|(id, file, line)| MissingJson {
                    their_model: id,
                    file,
                    line: *line,
                })
                .collect(),
        }
    }
}
