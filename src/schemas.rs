//! Every JSON document agentmeter writes, with its JSON Schema generated from the type whose
//! serialization it is (`docs/schema/NAME.json`: `tests/it/json_schemas.rs` writes them with
//! `AGENTMETER_UPDATE_DOCS=1` and fails when one differs from what the types generate).

use schemars::JsonSchema;
use serde_json::Value;

use crate::anomaly::{AnomaliesDoc, AnomaliesV1};
use crate::compare::check_json::{CheckDoc, CheckNotice, CheckNotifyV1, CheckV1};
use crate::compare::gate::{Baseline, BaselineV1};
use crate::compare::json::{CompareDoc, CompareV1};
use crate::export::json::{MeterDoc, MeterV1};
use crate::export::projection::{ProjectionDoc, ProjectionV1};
use crate::fetch::notify::Message;
use crate::fetch::watch::AlertNotice;
use crate::pricing::json::{AuditDoc, ListDoc, PricingAuditV1, PricingListV1};
use crate::reconcile::json::{ReconcileDoc, ReconcileV1};
use crate::schema::document;

/// One JSON output.
pub struct Document {
    /// Its schema's name: the file `docs/schema/{name}.json`, the `$id`
    /// `urn:agentmeter:{name}`.
    pub name: &'static str,
    /// The schema string the document carries in `schema` (the schema's `title`); `None`: it
    /// carries none.
    pub tag: Option<&'static str>,
    /// Its JSON Schema.
    pub schema: Value,
}

fn tagged<T: JsonSchema + ?Sized>(tag: &'static str) -> Document {
    let name = (tag.strip_prefix("agentmeter/")).expect("an agentmeter schema string");
    Document {
        name,
        tag: Some(tag),
        schema: document::<T>(name, tag),
    }
}

/// What a `--notify` message holds under `agentmeter`: the result that triggered it, each of
/// which says where it comes from (`check` and `anomalies` by their `schema`, a budget alert
/// by its `session_id`). The schema of [`Message`]s as the commands send them.
#[derive(JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "notify_result")]
pub enum NotifyResult<'a> {
    Check(CheckNotice<'a>),
    Anomalies(AnomaliesDoc<'a>),
    BudgetAlert(AlertNotice<'a>),
}

/// The name of the `--notify` message's schema (it carries no schema string).
pub const NOTIFY: &str = "notify-v1";

/// Every JSON output, in the order docs/reference/json.md lists them.
pub fn documents() -> Vec<Document> {
    vec![
        tagged::<MeterDoc>(MeterV1::NAME),
        tagged::<ProjectionDoc>(ProjectionV1::NAME),
        tagged::<CompareDoc>(CompareV1::NAME),
        tagged::<Baseline>(BaselineV1::NAME),
        tagged::<CheckDoc>(CheckV1::NAME),
        tagged::<CheckNotice>(CheckNotifyV1::NAME),
        tagged::<ReconcileDoc>(ReconcileV1::NAME),
        tagged::<AnomaliesDoc>(AnomaliesV1::NAME),
        tagged::<ListDoc>(PricingListV1::NAME),
        tagged::<AuditDoc>(PricingAuditV1::NAME),
        Document {
            name: NOTIFY,
            tag: None,
            schema: document::<Message<NotifyResult>>(NOTIFY, "agentmeter --notify message"),
        },
    ]
}
