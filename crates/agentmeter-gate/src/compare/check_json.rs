//! check-v1, the CI gate's result (`check --json FILE`, `check --format json`), and
//! check-notify-v1, what `check --notify URL` sends when the gate fails. Each is its type's
//! serialization, and its JSON Schema (docs/schema/) is generated from it.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Serialize, Serializer};

use super::gate::{Baseline, CheckResult, Delta};
use crate::contract::Contract;
use crate::schema::Exact;

agentmeter_core::schema_tag!(
    /// The schema string of a check's result.
    pub CheckV1 = "agentmeter/check-v1"
);
agentmeter_core::schema_tag!(
    /// The schema string of a failed check's notification.
    pub CheckNotifyV1 = "agentmeter/check-notify-v1"
);

/// What `agentmeter check --json FILE` (and `check --format json`, on stdout) writes: the CI
/// cost gate's verdict, the total and every task against the baseline, each change split
/// into a volume part and a price part that add up exactly. Amounts are USD as exact decimal
/// strings.
#[derive(Serialize, JsonSchema)]
pub struct CheckDoc<'a> {
    /// The schema of this document.
    schema: CheckV1,
    /// Whether the gate passed (the exit code is 0, else 1).
    passed: bool,
    /// The baseline compared against.
    baseline: BaselineRef<'a>,
    /// The version of the price table the run is priced with today.
    pricing: &'a str,
    /// The whole run against the whole baseline (task `total`): new tasks count in
    /// `current`, missing ones in `baseline`.
    total: DeltaJson<'a>,
    /// Each task on both sides.
    tasks: Vec<DeltaJson<'a>>,
    /// Tasks in the run but not in the baseline.
    new_tasks: Vec<NewTask<'a>>,
    /// Tasks in the baseline but not in the run.
    missing_tasks: Vec<MissingTask<'a>>,
    /// What the check had to do differently (e.g. a task the baseline's prices cannot price).
    notes: &'a [String],
    /// Under --contract: the contract today's side is priced under (the amounts are then
    /// what the user pays).
    #[serde(skip_serializing_if = "Option::is_none")]
    contract: Option<ContractRef<'a>>,
}

/// A contract by name and version.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "contract_ref")]
struct ContractRef<'a> {
    /// The contract's name.
    name: &'a str,
    /// The contract's version (a hash of its content).
    version: &'a str,
}

/// The baseline compared against.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "baseline_ref")]
struct BaselineRef<'a> {
    /// The version of the baseline's price table.
    pricing: &'a str,
    /// The commit the baseline was written at, if known.
    git_commit: Option<&'a str>,
    /// When the baseline was written (its own `created_at`).
    created_at: &'a str,
    /// The version of the contract the baseline's costs are under, if it recorded one.
    #[serde(skip_serializing_if = "Option::is_none")]
    contract: Option<&'a str>,
}

/// One task (or the total): its cost then and now, the change split into volume and price,
/// and the limits it broke.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "delta")]
pub struct DeltaJson<'a> {
    /// The task key (`total` for the total).
    task: &'a str,
    /// Its cost in the baseline, at the baseline's prices (today's with
    /// --reprice-baseline).
    baseline: Exact,
    /// Its cost in the run, at today's prices.
    current: Exact,
    /// current - baseline (= volume + price).
    change: Exact,
    /// The part of the change from usage, priced at the baseline's prices.
    volume: Exact,
    /// The part of the change from prices, on today's usage.
    price: Exact,
    /// Each limit it broke, in words (empty: it passed).
    failed: &'a [String],
    /// Under a contract: the same two costs at list prices (`baseline` and `current` are
    /// then what the user pays).
    #[serde(skip_serializing_if = "Option::is_none")]
    list: Option<ListJson>,
}

/// A task's baseline and current cost at list prices.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "at_list")]
struct ListJson {
    /// Its cost in the baseline at list prices.
    baseline: Exact,
    /// Its cost in the run at list prices.
    current: Exact,
}

impl<'a> From<&'a Delta> for DeltaJson<'a> {
    fn from(d: &'a Delta) -> Self {
        DeltaJson {
            task: &d.task,
            baseline: Exact(d.baseline),
            current: Exact(d.current),
            change: Exact(d.change()),
            volume: Exact(d.volume),
            price: Exact(d.price),
            failed: &d.failed,
            list: d.list.map(|l| ListJson {
                baseline: Exact(l.baseline),
                current: Exact(l.current),
            }),
        }
    }
}

/// A task in the run but not in the baseline.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "new_task")]
struct NewTask<'a> {
    /// The task key.
    task: &'a str,
    /// Its cost in the run.
    current: Exact,
}

/// A task in the baseline but not in the run.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "missing_task")]
struct MissingTask<'a> {
    /// The task key.
    task: &'a str,
    /// Its cost in the baseline.
    baseline: Exact,
}

impl<'a> CheckDoc<'a> {
    /// `result`, of a run priced with the table `pricing` (its version) and `contract`
    /// against `base`.
    pub fn new(
        base: &'a Baseline,
        pricing: &'a str,
        result: &'a CheckResult,
        contract: Option<&'a Contract>,
    ) -> Self {
        CheckDoc {
            schema: CheckV1,
            passed: result.passed(),
            baseline: BaselineRef {
                pricing: &base.pricing.version,
                git_commit: base.git_commit.as_deref(),
                created_at: &base.created_at,
                contract: base.contract.as_ref().map(|c| c.version.as_str()),
            },
            pricing,
            total: (&result.total).into(),
            tasks: result.tasks.iter().map(Into::into).collect(),
            new_tasks: (result.new_tasks.iter())
                .map(|(t, c)| NewTask {
                    task: t,
                    current: Exact(*c),
                })
                .collect(),
            missing_tasks: (result.missing_tasks.iter())
                .map(|(t, c)| MissingTask {
                    task: t,
                    baseline: Exact(*c),
                })
                .collect(),
            notes: &result.notes,
            contract: contract.map(|c| ContractRef {
                name: &c.name,
                version: &c.version,
            }),
        }
    }
}

/// `false`, the one value a failed gate's `passed` has.
#[derive(Clone, Copy, Debug)]
pub struct Failed;

impl Serialize for Failed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(false)
    }
}

impl JsonSchema for Failed {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "failed".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({ "type": "boolean", "const": false })
    }
}

/// What `check --notify URL` sends under `agentmeter` when the gate fails: the total and the
/// failed tasks only (the check-v1 document of `--json FILE` has the rest).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "check_notice")]
pub struct CheckNotice<'a> {
    /// The schema of this document.
    schema: CheckNotifyV1,
    /// The gate failed.
    passed: Failed,
    /// The version of the price table the run is priced with today.
    pricing: &'a str,
    /// The whole run against the whole baseline.
    total: DeltaJson<'a>,
    /// The tasks that failed (with --per-task).
    tasks: Vec<DeltaJson<'a>>,
}

impl<'a> CheckNotice<'a> {
    /// The notice of a failed `result` (`None` when it passed), priced with `pricing`.
    pub fn new(pricing: &'a str, result: &'a CheckResult) -> Option<Self> {
        (!result.passed()).then(|| CheckNotice {
            schema: CheckNotifyV1,
            passed: Failed,
            pricing,
            total: (&result.total).into(),
            tasks: (result.tasks.iter())
                .filter(|d| !d.failed.is_empty())
                .map(Into::into)
                .collect(),
        })
    }
}
