//! Price tables: effective-dated data (`pricing/*.toml`), never code. A later row replaces an
//! earlier one from its `effective` instant. The table's version is its name plus a sha256
//! prefix of the file, and every rated line item names the row that priced it.

pub mod audit;
pub mod check;
pub mod diff;
pub mod json;

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};

use crate::category::Category;
use crate::error::{Error, Result};
use crate::time::{parse_date_or_timestamp, Millis};

/// The table shipped with agentmeter, compiled in so the binary works from any directory.
pub const BUNDLED: &str = include_str!("../../../../pricing/anthropic.toml");
pub const BUNDLED_NAME: &str = "pricing/anthropic.toml (bundled)";

/// USD per million tokens, per category.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rates {
    pub input: Decimal,
    pub output: Decimal,
    pub cache_write_5m: Decimal,
    pub cache_write_1h: Decimal,
    pub cache_read: Decimal,
}

impl Rates {
    /// The rate of a token kind (0 for a category that is not one).
    pub fn get(&self, c: Category) -> Decimal {
        match c {
            Category::Input => self.input,
            Category::Output => self.output,
            Category::CacheWrite5m => self.cache_write_5m,
            Category::CacheWrite1h => self.cache_write_1h,
            Category::CacheRead => self.cache_read,
            Category::Runtime | Category::WebSearch => Decimal::ZERO,
        }
    }

    /// A token kind's rate, to change (`None` for a category that is not one).
    pub fn get_mut(&mut self, c: Category) -> Option<&mut Decimal> {
        match c {
            Category::Input => Some(&mut self.input),
            Category::Output => Some(&mut self.output),
            Category::CacheWrite5m => Some(&mut self.cache_write_5m),
            Category::CacheWrite1h => Some(&mut self.cache_write_1h),
            Category::CacheRead => Some(&mut self.cache_read),
            Category::Runtime | Category::WebSearch => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LongContext {
    /// Above this many input tokens (uncached + cache reads + cache writes) the whole request
    /// is priced at `rates`.
    pub threshold_input_tokens: u64,
    pub rates: Rates,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceRow {
    pub effective: Millis,
    pub effective_text: String,
    pub rates: Rates,
    pub fast: Option<Rates>,
    pub long_context: Option<LongContext>,
    pub source: Option<String>,
    pub note: Option<String>,
    pub ratio_exception: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    pub id: String,
    pub aliases: Vec<String>,
    pub rows: Vec<PriceRow>,
}

impl Model {
    /// The row in force at `t`: the last one whose `effective` is not after `t`.
    pub fn row_at(&self, t: Millis) -> Option<&PriceRow> {
        at(&self.rows, t, |r| r.effective)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeRow {
    pub effective: Millis,
    pub effective_text: String,
    pub usd_per_hour: Decimal,
    pub source: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebSearchRow {
    pub effective: Millis,
    pub effective_text: String,
    pub usd_per_1000: Decimal,
    pub source: Option<String>,
}

/// The multipliers agentmeter knows how to apply, by name.
pub const INFERENCE_GEO_US: &str = "inference_geo_us";
pub const KNOWN_MULTIPLIERS: [&str; 1] = [INFERENCE_GEO_US];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultiplierRow {
    pub name: String,
    pub effective: Millis,
    pub effective_text: String,
    pub factor: Decimal,
    pub models: Vec<String>,
    pub source: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceTable {
    pub name: String,
    /// `name@` + the first 8 hex digits of the file's sha256.
    pub version: String,
    /// Where the table came from, for messages.
    pub origin: String,
    pub currency: String,
    pub checked: Option<String>,
    pub source: Option<String>,
    pub runtime: Vec<RuntimeRow>,
    pub web_search: Vec<WebSearchRow>,
    pub multipliers: Vec<MultiplierRow>,
    pub models: Vec<Model>,
    /// The TOML it was parsed from (a CI baseline embeds it, to price at the baseline's prices).
    pub text: std::sync::Arc<str>,
    index: HashMap<String, usize>,
}

fn at<T>(rows: &[T], t: Millis, eff: impl Fn(&T) -> Millis) -> Option<&T> {
    let n = rows.partition_point(|r| eff(r) <= t);
    n.checked_sub(1).map(|i| &rows[i])
}

impl PriceTable {
    pub fn bundled() -> Result<Self> {
        Self::parse(BUNDLED, BUNDLED_NAME)
    }

    /// `--pricing FILE`, or the bundled table.
    pub fn load_or_bundled(path: Option<&std::path::Path>) -> Result<Self> {
        match path {
            Some(p) => Self::load(p),
            None => Self::bundled(),
        }
    }

    pub fn load(path: &std::path::Path) -> Result<Self> {
        let text = crate::files::read_small(std::path::Path::new(path))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parse and validate; any error-level problem of `pricing check` fails the load.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let (table, problems) = check::parse_and_check(text, origin);
        let errors: Vec<_> = problems
            .iter()
            .filter(|p| p.level == check::Level::Error)
            .collect();
        match (table, errors.first()) {
            (Some(t), None) => Ok(t),
            (_, first) => {
                let msg =
                    first.map_or_else(|| "invalid price table".to_string(), |p| p.message.clone());
                let more = errors.len().saturating_sub(1);
                let suffix = if more > 0 {
                    format!(" (and {more} more problem(s))")
                } else {
                    String::new()
                };
                Err(
                    Error::new(format!("{origin}: {msg}{suffix}")).with_hint(format!(
                        "run `agentmeter pricing check {origin}` to list every problem"
                    )),
                )
            }
        }
    }

    /// A model by id or alias.
    pub fn model(&self, id: &str) -> Option<&Model> {
        self.index.get(id).map(|&i| &self.models[i])
    }

    /// The id or alias nearest to an unknown `id`, if it is close enough to be a typo.
    pub fn did_you_mean(&self, id: &str) -> Option<&str> {
        let names: Vec<&str> = self.index.keys().map(String::as_str).collect();
        crate::keys::did_you_mean(id, &names)
    }

    /// " (did you mean `x`?)" for an unknown model id, or nothing.
    pub fn suggestion(&self, id: &str) -> String {
        self.did_you_mean(id)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default()
    }

    /// The first instant after the table's `checked` date (the next midnight UTC): usage from
    /// then on may have prices the table does not know yet. None without a date.
    pub fn checked_end(&self) -> Option<Millis> {
        let day = crate::time::parse_date(self.checked.as_deref()?).ok()?;
        let next = day.succ_opt()?.and_hms_opt(0, 0, 0)?;
        Some(next.and_utc().timestamp_millis())
    }

    pub fn runtime_at(&self, t: Millis) -> Option<&RuntimeRow> {
        at(&self.runtime, t, |r| r.effective)
    }

    pub fn web_search_at(&self, t: Millis) -> Option<&WebSearchRow> {
        at(&self.web_search, t, |r| r.effective)
    }

    /// The row of multiplier `name` in force at `t`, if any.
    pub fn multiplier_at(&self, name: &str, t: Millis) -> Option<&MultiplierRow> {
        let rows: Vec<&MultiplierRow> =
            self.multipliers.iter().filter(|m| m.name == name).collect();
        let n = rows.partition_point(|r| r.effective <= t);
        n.checked_sub(1).map(|i| rows[i])
    }

    /// Instants at which the runtime price changes (rows after the first).
    pub fn runtime_changes(&self) -> impl Iterator<Item = Millis> + '_ {
        self.runtime.iter().map(|r| r.effective)
    }
}

// ----- the file format -----------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TableFile {
    pub schema: u32,
    pub name: String,
    pub currency: String,
    #[serde(default)]
    pub checked: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub runtime: Vec<RuntimeFile>,
    #[serde(default)]
    pub web_search: Vec<WebSearchFile>,
    #[serde(default)]
    pub multiplier: Vec<MultiplierFile>,
    #[serde(default)]
    pub model: Vec<ModelFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuntimeFile {
    pub effective: String,
    #[serde(deserialize_with = "decimal")]
    pub usd_per_hour: Decimal,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebSearchFile {
    pub effective: String,
    #[serde(deserialize_with = "decimal")]
    pub usd_per_1000: Decimal,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MultiplierFile {
    pub name: String,
    pub effective: String,
    #[serde(deserialize_with = "decimal")]
    pub factor: Decimal,
    #[serde(default)]
    pub models: Vec<String>,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModelFile {
    pub id: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub price: Vec<RowFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RatesFile {
    #[serde(deserialize_with = "decimal")]
    pub input: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub output: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub cache_write_5m: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub cache_write_1h: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub cache_read: Decimal,
}

impl From<RatesFile> for Rates {
    fn from(r: RatesFile) -> Self {
        Rates {
            input: r.input,
            output: r.output,
            cache_write_5m: r.cache_write_5m,
            cache_write_1h: r.cache_write_1h,
            cache_read: r.cache_read,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LongContextFile {
    pub threshold_input_tokens: u64,
    #[serde(flatten)]
    pub rates: RatesFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RowFile {
    pub effective: String,
    #[serde(flatten)]
    pub rates: RatesFile,
    #[serde(default)]
    pub fast: Option<RatesFile>,
    #[serde(default)]
    pub long_context: Option<LongContextFile>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub ratio_exception: Option<String>,
}

/// The largest price or factor a table may hold (in magnitude): a million dollars per unit,
/// so the checks' ratios and every amount priced from it stay far inside a Decimal.
pub const MAX_PRICE: i64 = 1_000_000;

/// A price as a string ("0.30") or an integer; never a float, which could not be exact.
fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let v = decimal_any(d)?;
    if v.abs() > Decimal::from(MAX_PRICE) {
        return Err(serde::de::Error::custom(format!(
            "{v} is more than {MAX_PRICE} (prices are USD per million tokens, per hour or per 1,000 searches)"
        )));
    }
    Ok(v)
}

fn decimal_any<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = Decimal;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a decimal string such as \"0.30\"")
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Decimal, E> {
            s.trim()
                .parse::<Decimal>()
                .map_err(|_| E::custom(format!("{s:?} is not a decimal number")))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Decimal, E> {
            Err(E::custom(format!(
                "write prices as strings (\"{v}\"), so they stay exact"
            )))
        }
    }
    d.deserialize_any(V)
}

pub(crate) fn version_of(name: &str, text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{name}@{hex}")
}

pub(crate) fn parse_effective(s: &str) -> std::result::Result<Millis, String> {
    parse_date_or_timestamp(s)
}

impl PriceTable {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn build(
        text: &str,
        file: TableFile,
        version: String,
        origin: &str,
        runtime: Vec<RuntimeRow>,
        web_search: Vec<WebSearchRow>,
        multipliers: Vec<MultiplierRow>,
        models: Vec<Model>,
    ) -> Self {
        let mut index = HashMap::new();
        for (i, m) in models.iter().enumerate() {
            index.entry(m.id.clone()).or_insert(i);
            for a in &m.aliases {
                index.entry(a.clone()).or_insert(i);
            }
        }
        PriceTable {
            name: file.name,
            version,
            origin: origin.to_string(),
            currency: file.currency,
            checked: file.checked,
            source: file.source,
            runtime,
            web_search,
            multipliers,
            models,
            text: text.into(),
            index,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_rfc3339_ms;

    #[test]
    fn bundled_table_loads_with_every_required_model() {
        let t = PriceTable::bundled().unwrap();
        for id in [
            "claude-opus-4-6",
            "claude-sonnet-4-6",
            "claude-haiku-4-5",
            "claude-haiku-4-5-20251001",
            "claude-opus-4-5",
            "claude-sonnet-4-5",
            "claude-opus-4-7",
            "claude-opus-4-8",
            "claude-opus-5",
            "claude-opus-5-5",
            "claude-sonnet-5",
            "claude-fable-5",
            "claude-mythos-5",
            "claude-fable-5-1",
            "claude-mythos-5-1",
            "claude-sonnet-5-5",
            "claude-haiku-5-5",
            "claude-fable-5-2",
            "claude-mythos-5-2",
            "claude-opus-4-1",
            "claude-3-5-haiku",
        ] {
            assert!(t.model(id).is_some(), "{id}");
        }
        assert!(t.version.starts_with("anthropic@") && t.version.len() == "anthropic@".len() + 8);
    }

    #[test]
    fn rows_apply_from_their_effective_instant() {
        let t = PriceTable::bundled().unwrap();
        let opus = t.model("claude-opus-4-6").unwrap();
        let before = parse_rfc3339_ms("2026-03-12T23:59:59.999Z").unwrap();
        let after = parse_rfc3339_ms("2026-03-13T00:00:00Z").unwrap();
        assert!(opus.row_at(before).unwrap().long_context.is_some());
        assert!(opus.row_at(after).unwrap().long_context.is_none());
        assert!(opus
            .row_at(parse_rfc3339_ms("2026-01-01T00:00:00Z").unwrap())
            .is_none());
        let launch = parse_rfc3339_ms("2026-04-08T00:00:00Z").unwrap();
        assert!(t.runtime_at(launch - 1).is_none());
        assert_eq!(
            t.runtime_at(launch).unwrap().usd_per_hour,
            Decimal::new(8, 2)
        );
    }
}
