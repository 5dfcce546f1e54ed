//! Every JSON document agentmeter writes, with its JSON Schema generated from the type whose
//! serialization it is (`docs/schema/NAME.json`: `tests/it/json_schemas.rs` writes them with
//! `AGENTMETER_UPDATE_DOCS=1` and fails when one differs from what the types generate).

use serde_json::Value;

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

fn tagged<T: schemars::JsonSchema + ?Sized>(tag: &'static str) -> Document {
    let name = tag
        .strip_prefix("agentmeter/")
        .expect("an agentmeter schema string");
    Document {
        name,
        tag: Some(tag),
        schema: document::<T>(name, tag),
    }
}

/// Every JSON output, in the order docs/reference/json.md lists them.
pub fn documents() -> Vec<Document> {
    use crate::compare::gate::{Baseline, BaselineV1};
    use crate::compare::json::{CompareDoc, CompareV1};
    use crate::export::json::{MeterDoc, MeterV1};
    use crate::export::projection::{ProjectionDoc, ProjectionV1};
    vec![
        tagged::<MeterDoc>(MeterV1::NAME),
        tagged::<ProjectionDoc>(ProjectionV1::NAME),
        tagged::<CompareDoc>(CompareV1::NAME),
        tagged::<Baseline>(BaselineV1::NAME),
    ]
}
