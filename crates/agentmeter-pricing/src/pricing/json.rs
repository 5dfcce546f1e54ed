//! The JSON of price tables: the reference to a table every document carries.

use schemars::JsonSchema;
use serde::Serialize;

use super::PriceTable;

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
