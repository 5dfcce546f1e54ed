//! compare-v1: the document `compare --format json` writes, in its two modes. It is
//! [`CompareDoc`]'s serialization; its JSON Schema (docs/schema/compare-v1.json) is generated
//! from these types.

use schemars::JsonSchema;
use serde::Serialize;

use super::paired::{Paired, Summary, TaskSum, BOOTSTRAP_RESAMPLES};
use super::{difference, TaskKey, Variant, TASK_KEY_PATTERN};
use crate::rate::{Cost, RatedSession};
use crate::schema::{CostJson, Exact};
use crate::usage::{SessionUsage, Tokens};

agentmeter_core::schema_tag!(
    /// The schema string of a comparison.
    pub CompareV1 = "agentmeter/compare-v1"
);
agentmeter_core::schema_tag!(
    /// `mode` of a repricing.
    pub Reprice = "reprice"
);
agentmeter_core::schema_tag!(
    /// `mode` of a paired comparison.
    pub PairedMode = "paired"
);

/// What `agentmeter compare --format json` writes (also `compare.json` in a --report
/// directory), in one of two modes: `reprice` (the same sessions priced as several models or
/// tables) or `paired` (two sets of runs matched by task, --a/--b). Amounts are USD as exact
/// decimal strings.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum CompareDoc<'a> {
    Reprice(RepriceDoc<'a>),
    Paired(PairedDoc<'a>),
}

/// The same sessions priced each way (--model, --pricing, --token-scale).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "reprice")]
pub struct RepriceDoc<'a> {
    /// The schema of this document.
    schema: CompareV1,
    /// Repricing.
    mode: Reprice,
    /// The ways of pricing, in the order given (tables, then models within each).
    #[schemars(length(min = 1))]
    variants: Vec<VariantJson<'a>>,
    /// Each session priced each way.
    sessions: Vec<SessionPriced<'a>>,
    /// All sessions priced each way, in the order of `variants`.
    totals: Vec<Priced<'a>>,
    /// What repricing shows and does not.
    note: &'a str,
}

/// One way of pricing.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "variant")]
struct VariantJson<'a> {
    /// How tables and models name it (`as metered` without --model).
    label: &'a str,
    /// The model every request is priced as; null: as metered.
    model: Option<&'a str>,
    /// The price table's version.
    pricing: &'a str,
    /// The factor applied to token counts (--token-scale; 1 without).
    token_scale: Exact,
}

/// One session priced each way.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "session_priced")]
struct SessionPriced<'a> {
    /// The session's id.
    session_id: &'a str,
    /// The session priced each way, in the order of `variants`.
    variants: Vec<Priced<'a>>,
}

/// One way of pricing: its cost and how it compares with the first way.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "priced")]
struct Priced<'a> {
    /// The way's label (as in `variants`).
    label: &'a str,
    /// The cost priced this way.
    cost: CostJson,
    /// This total minus the first way's.
    difference: Exact,
    /// This total over the first way's, to 6 places; null when the first is 0.
    ratio: Option<Exact>,
}

impl<'a> Priced<'a> {
    fn new(label: &'a str, first: &Cost, cost: &Cost) -> Self {
        let (d, r) = difference(first.total(), cost.total());
        Priced {
            label,
            cost: CostJson(*cost),
            difference: Exact(d),
            ratio: r.map(|r| Exact(r.round_dp(6))),
        }
    }
}

impl<'a> RepriceDoc<'a> {
    /// `sessions` priced as each of `variants` (`priced[variant][session]`), `totals` each
    /// variant's sum.
    pub fn new(
        variants: &'a [Variant],
        sessions: &'a [SessionUsage],
        priced: &'a [Vec<RatedSession>],
        totals: &'a [Cost],
        note: &'a str,
    ) -> Self {
        RepriceDoc {
            schema: CompareV1,
            mode: Reprice,
            variants: (variants.iter())
                .map(|v| VariantJson {
                    label: &v.label,
                    model: v.model.as_deref(),
                    pricing: &v.table.version,
                    token_scale: Exact(v.token_scale),
                })
                .collect(),
            sessions: (sessions.iter().enumerate())
                .map(|(i, s)| SessionPriced {
                    session_id: &s.session_id,
                    variants: (priced.iter().zip(variants))
                        .map(|(p, v)| Priced::new(&v.label, &priced[0][i].cost, &p[i].cost))
                        .collect(),
                })
                .collect(),
            totals: (totals.iter().zip(variants))
                .map(|(c, v)| Priced::new(&v.label, &totals[0], c))
                .collect(),
            note,
        }
    }
}

/// Two sets of runs of the same tasks, compared task by task (--a, --b).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "paired")]
pub struct PairedDoc<'a> {
    /// The schema of this document.
    schema: CompareV1,
    /// A paired comparison.
    mode: PairedMode,
    /// How sessions are matched (--pair-by).
    #[schemars(pattern(TASK_KEY_PATTERN))]
    pair_by: String,
    /// Side A (--a).
    a: Paths<'a>,
    /// Side B (--b).
    b: Paths<'a>,
    /// Each task run on both sides, sorted by task.
    tasks: Vec<TaskPair<'a>>,
    /// Over the paired tasks.
    summary: SummaryJson,
    /// What could not be paired (listed, never dropped silently).
    unpaired: Unpaired<'a>,
}

/// One side's inputs.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "paths")]
struct Paths<'a> {
    /// The files or directories given.
    paths: &'a [String],
}

/// One task run on both sides.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "task_pair")]
struct TaskPair<'a> {
    /// The task key.
    task: &'a str,
    /// What A spent on it.
    a: Side,
    /// What B spent on it.
    b: Side,
    /// B's cost minus A's.
    difference: Exact,
}

/// What one side spent on one task (all its sessions with that key).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "side")]
struct Side {
    /// Its sessions.
    sessions: usize,
    /// Their cost.
    cost: CostJson,
    /// Billed running time, milliseconds.
    #[schemars(range(min = 0))]
    active_ms: i64,
    /// Their tokens by kind.
    tokens: Tokens,
}

impl From<&TaskSum> for Side {
    fn from(t: &TaskSum) -> Self {
        Side {
            sessions: t.sessions,
            cost: CostJson(t.cost),
            active_ms: t.active_ms,
            tokens: t.tokens,
        }
    }
}

/// Over the paired tasks.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "summary")]
struct SummaryJson {
    /// Tasks on both sides.
    #[schemars(range(min = 1))]
    pairs: usize,
    /// A's cost of those tasks.
    total_a: Exact,
    /// B's cost of those tasks.
    total_b: Exact,
    /// The exact mean of B - A per task.
    mean_difference: Exact,
    /// The exact median of B - A per task.
    median_difference: Exact,
    /// The 95% bootstrap interval of the mean difference (percentile method): low, high.
    ci95: (Exact, Exact),
    /// Tasks where B cost less.
    b_cheaper: usize,
    /// Tasks where B cost more.
    b_dearer: usize,
    /// Tasks where both cost the same.
    ties: usize,
    /// How the interval was drawn.
    bootstrap: Bootstrap,
}

/// How the interval was drawn.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "bootstrap")]
struct Bootstrap {
    /// Bootstrap resamples.
    #[schemars(range(min = 1))]
    resamples: usize,
    /// Their seed (--seed).
    seed: u64,
}

/// What could not be paired (listed, never dropped silently).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "unpaired")]
struct Unpaired<'a> {
    /// Tasks only A ran.
    a: &'a [String],
    /// Tasks only B ran.
    b: &'a [String],
    /// A's sessions without a task key.
    no_key_a: &'a [String],
    /// B's sessions without a task key.
    no_key_b: &'a [String],
}

impl<'a> PairedDoc<'a> {
    /// The pairs `p` of sides `a` and `b` (their paths) matched by `key`, and their summary
    /// `s`, drawn with `seed`.
    pub fn new(
        key: &TaskKey,
        a: &'a [String],
        b: &'a [String],
        p: &'a Paired,
        s: &Summary,
        seed: u64,
    ) -> Self {
        PairedDoc {
            schema: CompareV1,
            mode: PairedMode,
            pair_by: key.to_string(),
            a: Paths { paths: a },
            b: Paths { paths: b },
            tasks: (p.pairs.iter())
                .map(|x| TaskPair {
                    task: &x.task,
                    a: (&x.a).into(),
                    b: (&x.b).into(),
                    difference: Exact(x.difference()),
                })
                .collect(),
            summary: SummaryJson {
                pairs: s.pairs,
                total_a: Exact(s.total_a),
                total_b: Exact(s.total_b),
                mean_difference: Exact(s.mean_difference),
                median_difference: Exact(s.median_difference),
                ci95: (Exact(s.ci95.0), Exact(s.ci95.1)),
                b_cheaper: s.b_cheaper,
                b_dearer: s.b_dearer,
                ties: s.ties,
                bootstrap: Bootstrap {
                    resamples: BOOTSTRAP_RESAMPLES,
                    seed,
                },
            },
            unpaired: Unpaired {
                a: &p.only_a,
                b: &p.only_b,
                no_key_a: &p.no_key_a,
                no_key_b: &p.no_key_b,
            },
        }
    }
}
