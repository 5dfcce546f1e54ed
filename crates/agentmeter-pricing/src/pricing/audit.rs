//! `pricing audit`: our table against independent price databases that a user downloads,
//! offline. Two formats are read:
//! - pydantic's genai-prices `prices/providers/anthropic.yml` (a `models:` list; each model has
//!   an `id` and `prices`, either one set of `*_mtok` rates or a list of `{constraint:
//!   {start_date}, prices}`; a rate may be `{base, tiers: [{start, price}]}`);
//! - BerriAI LiteLLM's `model_prices_and_context_window.json` (model id -> entry with
//!   `litellm_provider` and per-token floats such as `input_cost_per_token: 3e-06`).
//!
//! Their numbers are floats: each becomes a Decimal through its shortest decimal text (Rust's
//! float formatting round-trips, so `3e-06` reads as exactly 0.000003), never compared as a
//! float.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;

use super::{Model, PriceTable, Rates, INFERENCE_GEO_US};
use crate::error::{Error, Result};
use crate::time::Millis;

/// Which database a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    GenaiPrices,
    Litellm,
}

/// A rate name and its value in USD per million tokens (threshold: tokens; web search: per
/// 1,000; the US multiplier: a factor).
type RateMap = BTreeMap<&'static str, Decimal>;

/// One model of their file, with the rates it states at the audit's date.
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: String,
    pub file: String,
    pub line: u64,
    rates: RateMap,
}

/// A rate on which their file and ours disagree (`None`: the side states no such rate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disagreement {
    pub model: String,
    pub their_id: String,
    pub rate: String,
    pub ours: Option<Decimal>,
    pub theirs: Option<Decimal>,
    pub file: String,
    pub line: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Audit {
    pub disagreements: Vec<Disagreement>,
    /// Their models that map to none of ours: (their id, file, line).
    pub missing: Vec<(String, String, u64)>,
    /// How many of their models were compared with one of ours.
    pub compared: usize,
}

const CORE: [&str; 5] = [
    "input",
    "output",
    "cache_write_5m",
    "cache_write_1h",
    "cache_read",
];
const LONG: [&str; 6] = [
    "long_context.threshold_input_tokens",
    "long_context.input",
    "long_context.output",
    "long_context.cache_write_5m",
    "long_context.cache_write_1h",
    "long_context.cache_read",
];
const FAST: [&str; 5] = [
    "fast.input",
    "fast.output",
    "fast.cache_write_5m",
    "fast.cache_write_1h",
    "fast.cache_read",
];
/// Rates compared only where their file states them: a database that does not model fast
/// mode, web search or data residency says nothing about them.
const STATED_ONLY: [&str; 2] = ["web_search", INFERENCE_GEO_US];

/// Every rate an audit compares, as a disagreement names it.
pub fn all_rates() -> impl Iterator<Item = &'static str> {
    CORE.into_iter().chain(LONG).chain(FAST).chain(STATED_ONLY)
}

fn put_rates(m: &mut RateMap, names: &[&'static str], r: &Rates) {
    let v = [
        r.input,
        r.output,
        r.cache_write_5m,
        r.cache_write_1h,
        r.cache_read,
    ];
    for (n, x) in names.iter().zip(v) {
        m.insert(n, x);
    }
}

/// Our rates of `model` in force at `at`, named as in [`all_rates`]; None if no row is.
fn ours(table: &PriceTable, model: &Model, at: Millis) -> Option<RateMap> {
    let row = model.row_at(at)?;
    let mut m = RateMap::new();
    put_rates(&mut m, &CORE, &row.rates);
    if let Some(l) = &row.long_context {
        m.insert(LONG[0], Decimal::from(l.threshold_input_tokens));
        put_rates(&mut m, &LONG[1..], &l.rates);
    }
    if let Some(f) = &row.fast {
        put_rates(&mut m, &FAST, f);
    }
    if let Some(w) = table.web_search_at(at) {
        m.insert("web_search", w.usd_per_1000);
    }
    if let Some(us) = table.multiplier_at(INFERENCE_GEO_US, at) {
        let listed = us
            .models
            .iter()
            .any(|id| *id == model.id || model.aliases.contains(id));
        m.insert(
            INFERENCE_GEO_US,
            if listed { us.factor } else { Decimal::ONE },
        );
    }
    Some(m)
}

/// Our model for one of their ids: the id or an alias; else without a `-latest` or dated
/// (`-20241022`) suffix; else with the old word order (`claude-4-opus-...` is
/// `claude-opus-4-...`).
pub fn map_id<'t>(table: &'t PriceTable, id: &str) -> Option<&'t Model> {
    let id = id.strip_prefix("anthropic/").unwrap_or(id);
    let lookup = |id: &str| {
        table.model(id).or_else(|| {
            let base = id.strip_suffix("-latest").or_else(|| {
                let (head, tail) = id.rsplit_once('-')?;
                (tail.len() == 8 && tail.bytes().all(|b| b.is_ascii_digit())).then_some(head)
            })?;
            table.model(base)
        })
    };
    lookup(id).or_else(|| lookup(&swap_family(id)?))
}

/// `claude-4-opus-20250514` -> `claude-opus-4-20250514`.
fn swap_family(id: &str) -> Option<String> {
    let rest = id.strip_prefix("claude-")?;
    let parts: Vec<&str> = rest.split('-').collect();
    let at = parts
        .iter()
        .position(|p| matches!(*p, "opus" | "sonnet" | "haiku"))?;
    let version = &parts[..at];
    if version.is_empty()
        || !version
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut out = vec![parts[at]];
    out.extend(version);
    out.extend(&parts[at + 1..]);
    Some(format!("claude-{}", out.join("-")))
}

/// Compare their entries with our table at `at`.
pub fn audit(table: &PriceTable, entries: &[Entry], at: Millis) -> Audit {
    let mut out = Audit::default();
    for e in entries {
        let Some(model) = map_id(table, &e.id) else {
            out.missing.push((e.id.clone(), e.file.clone(), e.line));
            continue;
        };
        out.compared += 1;
        let row = |rate: &str, ours: Option<Decimal>, theirs: Option<Decimal>| Disagreement {
            model: model.id.clone(),
            their_id: e.id.clone(),
            rate: rate.to_string(),
            ours,
            theirs,
            file: e.file.clone(),
            line: e.line,
        };
        let Some(mine) = ours(table, model, at) else {
            // They price it, we have no row in force: every rate they state disagrees.
            out.disagreements.extend(
                all_rates()
                    .filter_map(|n| e.rates.get(n).map(|v| row(n, None, Some(*v))))
                    .filter(|d| !STATED_ONLY.contains(&d.rate.as_str())),
            );
            continue;
        };
        for name in all_rates() {
            let (o, t) = (mine.get(name).copied(), e.rates.get(name).copied());
            let stated_only = STATED_ONLY.contains(&name) || FAST.contains(&name);
            if (stated_only && t.is_none()) || o == t {
                continue;
            }
            out.disagreements.push(row(name, o, t));
        }
    }
    out
}

// ----- reading their files --------------------------------------------------------------------

/// A float as the Decimal its shortest decimal text denotes.
fn decimal_of(f: f64) -> Option<Decimal> {
    f.is_finite()
        .then(|| Decimal::from_str(&format!("{f}")).ok())
        .flatten()
}

/// The first line (1-based) that `is` accepts; 0 if none.
fn line_where(text: &str, is: impl Fn(&str) -> bool) -> u64 {
    text.lines().position(is).map_or(0, |i| i as u64 + 1)
}

fn bad(file: &str, line: u64, what: impl std::fmt::Display, hint: &str) -> Error {
    Error::at(file, line, what).with_hint(hint.to_string())
}

const LITELLM_HINT: &str = "give BerriAI LiteLLM's model_prices_and_context_window.json";
const GENAI_HINT: &str = "give pydantic genai-prices' prices/providers/anthropic.yml";

/// The Anthropic models of LiteLLM's `model_prices_and_context_window.json`.
pub fn read_litellm(file: &str, text: &str) -> Result<Vec<Entry>> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        bad(
            file,
            e.line() as u64,
            format!("not JSON: {e}"),
            LITELLM_HINT,
        )
    })?;
    let obj = doc
        .as_object()
        .ok_or_else(|| bad(file, 1, "expected an object of model ids", LITELLM_HINT))?;
    let mut out = Vec::new();
    for (id, v) in obj {
        if v.get("litellm_provider").and_then(|p| p.as_str()) != Some("anthropic") {
            continue;
        }
        let key = format!("\"{id}\":");
        let line = line_where(text, |l| l.trim_start().starts_with(&key));
        let num = |key: &str| -> Result<Option<Decimal>> {
            match v.get(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(x) => x.as_f64().and_then(decimal_of).map(Some).ok_or_else(|| {
                    bad(
                        file,
                        line,
                        format!("{id}: {key} is not a number"),
                        LITELLM_HINT,
                    )
                }),
            }
        };
        let per_mtok = |key: &str| -> Result<Option<Decimal>> {
            Ok(num(key)?.map(|d| d * Decimal::from(1_000_000)))
        };
        let mut rates = RateMap::new();
        let core = [
            "input_cost_per_token",
            "output_cost_per_token",
            "cache_creation_input_token_cost",
            "cache_creation_input_token_cost_above_1hr",
            "cache_read_input_token_cost",
        ];
        for (name, key) in CORE.iter().zip(core) {
            if let Some(d) = per_mtok(key)? {
                rates.insert(name, d);
            }
        }
        if !rates.contains_key("input") {
            continue; // not a token-priced model (image, embedding...)
        }
        // Long context: `<key>_above_<N>k_tokens`; N from the first such key.
        let threshold = v.as_object().into_iter().flatten().find_map(|(k, _)| {
            let n = k.rsplit_once("_above_")?.1.strip_suffix("k_tokens")?;
            n.parse::<u64>().ok()
        });
        if let Some(n) = threshold {
            let suffix = format!("_above_{n}k_tokens");
            rates.insert(LONG[0], Decimal::from(n * 1000));
            for (name, key) in LONG[1..].iter().zip(core) {
                if let Some(d) = per_mtok(&format!("{key}{suffix}"))? {
                    rates.insert(name, d);
                }
            }
        }
        // `provider_specific_entry`: multipliers of the standard rates.
        let factor = |k: &str| -> Result<Option<Decimal>> {
            match v.get("provider_specific_entry").and_then(|p| p.get(k)) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(x) => x.as_f64().and_then(decimal_of).map(Some).ok_or_else(|| {
                    bad(
                        file,
                        line,
                        format!("{id}: provider_specific_entry.{k} is not a number"),
                        LITELLM_HINT,
                    )
                }),
            }
        };
        if let Some(f) = factor("fast")? {
            for (fast, core) in FAST.iter().zip(CORE) {
                if let Some(r) = rates.get(core).copied() {
                    rates.insert(fast, r * f);
                }
            }
        }
        if let Some(us) = factor("us")? {
            rates.insert(INFERENCE_GEO_US, us);
        }
        out.push(Entry {
            id: id.clone(),
            file: file.to_string(),
            line,
            rates,
        });
    }
    Ok(out)
}

/// The models of genai-prices' `prices/providers/anthropic.yml`, with the prices in force at
/// `at` (their rule: conditional prices are tried last to first; an unconstrained one always
/// applies).
pub fn read_genai(file: &str, text: &str, at: Millis) -> Result<Vec<Entry>> {
    use serde_norway::Value;
    let doc: Value = serde_norway::from_str(text).map_err(|e| {
        let line = e.location().map_or(0, |l| l.line() as u64);
        bad(file, line, format!("not YAML: {e}"), GENAI_HINT)
    })?;
    let models = doc
        .get("models")
        .and_then(Value::as_sequence)
        .ok_or_else(|| bad(file, 1, "no `models:` list", GENAI_HINT))?;
    let day = crate::time::format_ms(at);
    let day = &day[..10];
    let mut out = Vec::new();
    for m in models {
        let Some(id) = m.get("id").and_then(Value::as_str) else {
            return Err(bad(file, 0, "a model without `id`", GENAI_HINT));
        };
        let item = format!("- id: {id}");
        let line = line_where(text, |l| l.trim() == item);
        if m.get("removed").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let bad_here = |what: String| bad(file, line, format!("{id}: {what}"), GENAI_HINT);
        let prices = match m.get("prices") {
            Some(Value::Sequence(list)) => {
                let applies = |p: &&Value| match p.get("constraint") {
                    None | Some(Value::Null) => true,
                    // Dates compare as text (YYYY-MM-DD); a time-of-day price is not Anthropic's.
                    Some(c) => c
                        .get("start_date")
                        .and_then(Value::as_str)
                        .is_some_and(|d| d <= day),
                };
                list.iter()
                    .rev()
                    .find(applies)
                    .or(list.first())
                    .and_then(|p| p.get("prices"))
            }
            other => other,
        }
        .ok_or_else(|| bad_here("no `prices`".into()))?;
        let num = |v: &Value, what: &str| -> Result<Decimal> {
            v.as_f64()
                .and_then(decimal_of)
                .ok_or_else(|| bad_here(format!("{what} is not a number")))
        };
        let mut rates = RateMap::new();
        let keys = [
            "input_mtok",
            "output_mtok",
            "cache_write_mtok",
            "cache_write_1h_mtok",
            "cache_read_mtok",
        ];
        for (i, key) in keys.iter().enumerate() {
            // A 5m-specific key, if they add one, wins over the generic cache write.
            let v = match *key {
                "cache_write_mtok" => prices.get("cache_write_5m_mtok").or(prices.get(key)),
                _ => prices.get(key),
            };
            let Some(v) = v else { continue };
            match v.get("base") {
                None => {
                    rates.insert(CORE[i], num(v, key)?);
                }
                Some(base) => {
                    rates.insert(CORE[i], num(base, key)?);
                    // One long-context tier is what Anthropic has; the first one is compared.
                    let tier = v
                        .get("tiers")
                        .and_then(Value::as_sequence)
                        .and_then(|t| t.first())
                        .ok_or_else(|| bad_here(format!("{key}: tiered without tiers")))?;
                    let start = tier
                        .get("start")
                        .and_then(Value::as_u64)
                        .ok_or_else(|| bad_here(format!("{key}: a tier without start")))?;
                    let price = tier
                        .get("price")
                        .ok_or_else(|| bad_here(format!("{key}: a tier without price")))?;
                    rates.entry(LONG[0]).or_insert_with(|| Decimal::from(start));
                    rates.insert(LONG[i + 1], num(price, key)?);
                }
            }
        }
        if let Some(w) = prices.get("web_searches_kcount") {
            rates.insert("web_search", num(w, "web_searches_kcount")?);
        }
        out.push(Entry {
            id: id.to_string(),
            file: file.to_string(),
            line,
            rates,
        });
    }
    Ok(out)
}

/// Read one of their files.
pub fn read(format: Format, path: &std::path::Path, at: Millis) -> Result<Vec<Entry>> {
    let text = crate::files::read_small(std::path::Path::new(path))?;
    let file = path.display().to_string();
    match format {
        Format::GenaiPrices => read_genai(&file, &text, at),
        Format::Litellm => read_litellm(&file, &text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_become_their_shortest_decimal() {
        assert_eq!(decimal_of(3e-06), Some(Decimal::new(3, 6)));
        assert_eq!(decimal_of(1.875e-05), Some(Decimal::new(1875, 8)));
        assert_eq!(decimal_of(0.1), Some(Decimal::new(1, 1)));
        assert_eq!(decimal_of(f64::NAN), None);
    }

    #[test]
    fn their_ids_map_to_ours() {
        let t = PriceTable::bundled().unwrap();
        let id = |s: &str| map_id(&t, s).map(|m| m.id.as_str());
        assert_eq!(id("claude-3-5-haiku-20241022"), Some("claude-3-5-haiku"));
        assert_eq!(id("claude-3-opus-latest"), Some("claude-3-opus"));
        assert_eq!(id("claude-opus-4-6-20260205"), Some("claude-opus-4-6"));
        assert_eq!(id("claude-4-opus-20250514"), Some("claude-opus-4-0"));
        assert_eq!(id("anthropic/claude-sonnet-5"), Some("claude-sonnet-5"));
        assert_eq!(id("claude-2"), None);
    }
}
