//! The JSON outputs' shared vocabulary, and their JSON Schemas.
//!
//! Every JSON document agentmeter writes is the serialization of a type that derives (or
//! implements) both `Serialize` and `schemars::JsonSchema`, so its schema (docs/schema/) is
//! generated from the same type that writes it. This module holds the value types those
//! documents share, each written exactly as before and described once: an exact decimal
//! ([`Exact`]), an amount to the cent ([`Cents`]), an instant ([`Instant`]), a day
//! ([`Day`]) and a month ([`Month`]); the cost by column ([`CostJson`], [`ColumnsJson`]);
//! the `schema` tag of a document ([`schema_tag!`](crate::schema_tag)); and the generator
//! ([`document`]), which writes draft 2020-12 schemas of what is *serialized*, every object
//! closed.

use std::borrow::Cow;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::generate::{Contract, SchemaSettings};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::category::{CostColumn, PerCostColumn};
use crate::money::{cents, exact};
use crate::time::{format_ms, Millis};

// The derive and the tag macro refer to these through `$crate`, so a crate that writes JSON
// needs no version of its own.
pub use schemars;
pub use serde;

/// The pattern of an exact decimal as [`exact`] writes it.
pub const EXACT_PATTERN: &str = r"^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$";

/// A string schema with a pattern and a description (the shared value types below).
fn pattern(p: &str, description: &str) -> Schema {
    json_schema!({ "type": "string", "pattern": p, "description": description })
}

/// An exact decimal, written as a string by [`exact`]: no exponent, no trailing zeros, `"0"`
/// for zero (`"0.705"`, `"-0.178"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Exact(pub Decimal);

impl From<Decimal> for Exact {
    fn from(d: Decimal) -> Self {
        Exact(d)
    }
}

impl Serialize for Exact {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&exact(self.0))
    }
}

impl JsonSchema for Exact {
    fn schema_name() -> Cow<'static, str> {
        "decimal".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        pattern(
            EXACT_PATTERN,
            "An exact decimal as a string (USD unless said otherwise): no exponent, no trailing zeros, `0` for zero.",
        )
    }
}

/// An amount to the cent, written by [`cents`] (`"1.00"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cents(pub Decimal);

impl Serialize for Cents {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&cents(self.0))
    }
}

impl JsonSchema for Cents {
    fn schema_name() -> Cow<'static, str> {
        "cents".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        pattern(
            r"^-?[0-9]+\.[0-9]{2}$",
            "USD to the cent, as a string with two decimals.",
        )
    }
}

/// An instant, written by [`format_ms`]: RFC 3339 in UTC with milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Instant(pub Millis);

impl Serialize for Instant {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_ms(self.0))
    }
}

impl JsonSchema for Instant {
    fn schema_name() -> Cow<'static, str> {
        "instant".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        pattern(
            r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$",
            "An instant, RFC 3339 in UTC with milliseconds.",
        )
    }
}

/// A day, `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Day(pub NaiveDate);

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.format("%Y-%m-%d"))
    }
}

impl JsonSchema for Day {
    fn schema_name() -> Cow<'static, str> {
        "date".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        pattern(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "A day, YYYY-MM-DD.")
    }
}

/// A month, `YYYY-MM` (of the day it holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Month(pub NaiveDate);

impl Serialize for Month {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.format("%Y-%m"))
    }
}

impl JsonSchema for Month {
    fn schema_name() -> Cow<'static, str> {
        "month".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        pattern(r"^[0-9]{4}-[0-9]{2}$", "A month, YYYY-MM.")
    }
}

/// An object schema with these properties, in this order, all required (closed by
/// [`document`]).
pub fn object(properties: Vec<(&str, Schema)>, description: &str) -> Schema {
    let required: Vec<Value> = properties.iter().map(|(k, _)| (*k).into()).collect();
    let properties: Map<String, Value> = properties
        .into_iter()
        .map(|(k, s)| (k.to_string(), s.to_value()))
        .collect();
    json_schema!({
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
    })
}

/// `schema` with a description beside it (a property's own words, as a doc comment gives a
/// derived field's).
pub fn described(mut schema: Schema, description: &str) -> Schema {
    schema.insert("description".into(), description.into());
    schema
}

/// Exact amounts by cost column, then their total (meter-v1's and compare-v1's `cost`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CostJson(pub PerCostColumn<Decimal>);

impl Serialize for CostJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        for (c, v) in self.0.iter() {
            m.serialize_entry(c.key(), &Exact(*v))?;
        }
        m.serialize_entry("total", &Exact(self.0.total()))?;
        m.end()
    }
}

fn columns(g: &mut SchemaGenerator) -> Vec<(&'static str, Schema)> {
    (CostColumn::ALL.iter())
        .map(|c| {
            let s = g.subschema_for::<Exact>();
            (c.key(), described(s, c.row().description))
        })
        .collect()
}

impl JsonSchema for CostJson {
    fn schema_name() -> Cow<'static, str> {
        "cost".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let mut p = columns(g);
        let total = g.subschema_for::<Exact>();
        p.push(("total", described(total, "The sum of the columns.")));
        object(p, "Exact USD amounts by cost column, and their total.")
    }
}

/// Exact amounts by cost column, without a total (projection-v1's month `categories`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ColumnsJson(pub PerCostColumn<Decimal>);

impl Serialize for ColumnsJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(c, v)| (c.key(), Exact(*v))))
    }
}

impl JsonSchema for ColumnsJson {
    fn schema_name() -> Cow<'static, str> {
        "columns".into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        object(columns(g), "Exact USD amounts by cost column.")
    }
}

/// A cost column, by its key (`"cache_write"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnKey(pub CostColumn);

impl Serialize for ColumnKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.key())
    }
}

impl JsonSchema for ColumnKey {
    fn schema_name() -> Cow<'static, str> {
        "cost_column".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let keys: Vec<&str> = CostColumn::ALL.iter().map(|c| c.key()).collect();
        json_schema!({ "enum": keys, "description": "A cost column." })
    }
}

/// Declares the `schema` tag of a document: a unit struct written as `value`, whose schema is
/// that one string (`schema_tag!(MeterV1 = "agentmeter/meter-v1")`).
#[macro_export]
macro_rules! schema_tag {
    ($(#[$meta:meta])* $vis:vis $name:ident = $value:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        $vis struct $name;

        impl $name {
            /// The string this tag is written as.
            pub const NAME: &'static str = $value;
        }

        impl $crate::schema::serde::Serialize for $name {
            fn serialize<S: $crate::schema::serde::Serializer>(
                &self,
                s: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str($value)
            }
        }

        impl $crate::schema::schemars::JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }

            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                ::std::stringify!($name).into()
            }

            fn json_schema(
                _: &mut $crate::schema::schemars::SchemaGenerator,
            ) -> $crate::schema::schemars::Schema {
                $crate::schema::schemars::json_schema!({ "type": "string", "const": $value })
            }
        }
    };
}

/// The generator of every schema: draft 2020-12, describing what is serialized (a field
/// skipped when empty is optional, an `Option` that is written as `null` is required).
pub fn generator() -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.contract = Contract::Serialize;
    settings.into_generator()
}

/// The JSON Schema of the document type `T`, named `name` (its file `docs/schema/NAME.json`,
/// its `$id` `urn:agentmeter:NAME`) and titled `title` (the document's schema string, or
/// what it is when it carries none). Every object that lists its properties is closed
/// (`additionalProperties: false`), descriptions are one line (doc comments are wrapped),
/// and the root's keys lead with `$schema`, `$id`, `title` and `description`.
pub fn document<T: JsonSchema + ?Sized>(name: &str, title: &str) -> Value {
    let schema = generator().into_root_schema_for::<T>();
    let mut v = schema.to_value();
    tidy(&mut v);
    let Value::Object(mut root) = v else {
        unreachable!("a document's schema is an object")
    };
    let mut out = Map::new();
    out.insert(
        "$schema".into(),
        root.remove("$schema").unwrap_or(Value::Null),
    );
    out.insert("$id".into(), format!("urn:agentmeter:{name}").into());
    out.insert("title".into(), title.into());
    root.remove("title");
    if let Some(d) = root.remove("description") {
        out.insert("description".into(), d);
    }
    out.extend(root);
    Value::Object(out)
}

/// Close every object type that lists its properties, and make every description one line.
fn tidy(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(d)) = m.get_mut("description") {
                *d = d.split_whitespace().collect::<Vec<_>>().join(" ");
            }
            // Only an object type's own schema: a subschema that adds to one (`if`,
            // `dependentSchemas`) must not close it.
            let object = m.get("type").is_some_and(|t| t == "object");
            let open =
                !m.contains_key("additionalProperties") && !m.contains_key("unevaluatedProperties");
            if object && m.contains_key("properties") && open {
                m.insert("additionalProperties".into(), false.into());
            }
            for (k, x) in m.iter_mut() {
                // A `properties` map's keys are names, not keywords; its values are schemas.
                if k == "properties" || k == "$defs" {
                    if let Value::Object(p) = x {
                        p.values_mut().for_each(tidy);
                    }
                } else if k != "const" && k != "enum" && k != "default" && k != "examples" {
                    tidy(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(tidy),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    schema_tag!(
        /// A tag for the tests.
        pub Tag = "agentmeter/test-v1"
    );

    /// A document of the tests: an exact amount, an optional one, one skipped when absent.
    #[derive(Serialize, JsonSchema)]
    struct Doc {
        /// The schema of this document.
        schema: Tag,
        /// An amount,
        /// on two lines.
        amount: Exact,
        /// Maybe an instant.
        at: Option<Instant>,
        /// Only sometimes.
        #[serde(skip_serializing_if = "Option::is_none")]
        rare: Option<Cents>,
        /// Costs.
        cost: CostJson,
    }

    #[test]
    fn values_are_written_as_before() {
        let d = Doc {
            schema: Tag,
            amount: Exact(Decimal::new(7050, 4)),
            at: Some(Instant(0)),
            rare: None,
            cost: CostJson(PerCostColumn::from_fn(|c| {
                Decimal::from(c as u32) / Decimal::from(4)
            })),
        };
        // 0.7050 normalized: 0.705; the epoch to the millisecond; the columns 0, 1/4, 2/4,
        // 3/4, 4/4, 5/4 and their total 15/4 = 3.75.
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"schema":"agentmeter/test-v1","amount":"0.705","at":"1970-01-01T00:00:00.000Z","cost":{"runtime":"0","input":"0.25","output":"0.5","cache_write":"0.75","cache_read":"1","web_search":"1.25","total":"3.75"}}"#
        );
        let day = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        assert_eq!(serde_json::to_string(&Day(day)).unwrap(), r#""2026-06-01""#);
        assert_eq!(serde_json::to_string(&Month(day)).unwrap(), r#""2026-06""#);
        assert_eq!(
            serde_json::to_string(&Cents(Decimal::ONE)).unwrap(),
            r#""1.00""#
        );
    }

    /// `Tokens` is serialized by its fields and described from the category table: the same
    /// keys, in the same order (what meter-v1, compare-v1 and baseline-v1 write).
    #[test]
    fn the_tokens_schema_has_the_keys_tokens_are_written_with() {
        let t = crate::usage::Tokens {
            input: 1,
            output: 2,
            cache_write_5m: 3,
            cache_write_1h: 4,
            cache_read: 5,
        };
        let written: Vec<String> = match serde_json::to_value(t).unwrap() {
            Value::Object(m) => m.keys().cloned().collect(),
            _ => unreachable!(),
        };
        let s = document::<crate::usage::Tokens>("tokens", "tokens");
        let described: Vec<String> = s["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(written, described);
        assert_eq!(
            written,
            [
                "input",
                "output",
                "cache_write_5m",
                "cache_write_1h",
                "cache_read"
            ]
        );
    }

    #[test]
    fn a_document_is_closed_required_as_written_and_described_in_one_line() {
        let s = document::<Doc>("test-v1", "agentmeter/test-v1");
        let keys: Vec<&str> = s.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(keys[..4], ["$schema", "$id", "title", "description"]);
        assert_eq!(s["$id"], "urn:agentmeter:test-v1");
        assert_eq!(s["properties"]["schema"]["const"], "agentmeter/test-v1");
        assert_eq!(s["additionalProperties"], false);
        assert_eq!(s["$defs"]["cost"]["additionalProperties"], false);
        // `rare` is skipped when absent: not required; `at` is written as null: required.
        assert_eq!(
            s["required"],
            serde_json::json!(["schema", "amount", "at", "cost"])
        );
        assert_eq!(
            s["properties"]["amount"]["description"],
            "An amount, on two lines."
        );
        assert_eq!(s["$defs"]["decimal"]["pattern"], EXACT_PATTERN);
        assert_eq!(Tag::NAME, "agentmeter/test-v1");
    }
}
