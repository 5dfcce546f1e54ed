//! What changed between two price tables, row by row (keyed by model and effective date).

use std::collections::BTreeMap;

use super::{PriceRow, PriceTable, Rates};
use crate::category::Category;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Added(String),
    Removed(String),
    Changed(String),
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Added(s) => write!(f, "+ {s}"),
            Change::Removed(s) => write!(f, "- {s}"),
            Change::Changed(s) => write!(f, "~ {s}"),
        }
    }
}

fn rates_text(r: &Rates) -> String {
    format!(
        "input {} output {} 5m {} 1h {} read {}",
        r.input.normalize(),
        r.output.normalize(),
        r.cache_write_5m.normalize(),
        r.cache_write_1h.normalize(),
        r.cache_read.normalize()
    )
}

fn rate_changes(prefix: &str, a: &Rates, b: &Rates, out: &mut Vec<String>) {
    for c in Category::tokens() {
        let (name, x, y) = (c.key(), a.get(c), b.get(c));
        if x != y {
            out.push(format!(
                "{prefix}{name} {} -> {}",
                x.normalize(),
                y.normalize()
            ));
        }
    }
}

fn optional_rates(prefix: &str, a: Option<&Rates>, b: Option<&Rates>, out: &mut Vec<String>) {
    match (a, b) {
        (Some(a), Some(b)) => rate_changes(prefix, a, b, out),
        (None, Some(b)) => out.push(format!("{prefix}added ({})", rates_text(b))),
        (Some(_), None) => out.push(format!("{prefix}removed")),
        (None, None) => {}
    }
}

fn row_changes(a: &PriceRow, b: &PriceRow) -> Vec<String> {
    let mut out = Vec::new();
    rate_changes("", &a.rates, &b.rates, &mut out);
    optional_rates("fast ", a.fast.as_ref(), b.fast.as_ref(), &mut out);
    let (la, lb) = (a.long_context.as_ref(), b.long_context.as_ref());
    optional_rates(
        "long_context ",
        la.map(|l| &l.rates),
        lb.map(|l| &l.rates),
        &mut out,
    );
    if let (Some(x), Some(y)) = (la, lb) {
        if x.threshold_input_tokens != y.threshold_input_tokens {
            out.push(format!(
                "long_context threshold {} -> {}",
                x.threshold_input_tokens, y.threshold_input_tokens
            ));
        }
    }
    out
}

/// Every difference, models first (by id), then runtime, web search and multipliers.
pub fn diff(old: &PriceTable, new: &PriceTable) -> Vec<Change> {
    let mut out = Vec::new();
    let ids: std::collections::BTreeSet<&str> = old
        .models
        .iter()
        .chain(&new.models)
        .map(|m| m.id.as_str())
        .collect();
    for id in ids {
        match (
            old.models.iter().find(|m| m.id == id),
            new.models.iter().find(|m| m.id == id),
        ) {
            (None, Some(m)) => {
                out.push(Change::Added(format!("model {id} ({} rows)", m.rows.len())))
            }
            (Some(_), None) => out.push(Change::Removed(format!("model {id}"))),
            (Some(a), Some(b)) => {
                if a.aliases != b.aliases {
                    out.push(Change::Changed(format!(
                        "model {id}: aliases {:?} -> {:?}",
                        a.aliases, b.aliases
                    )));
                }
                let ra: BTreeMap<i64, &PriceRow> =
                    a.rows.iter().map(|r| (r.effective, r)).collect();
                let rb: BTreeMap<i64, &PriceRow> =
                    b.rows.iter().map(|r| (r.effective, r)).collect();
                let keys: std::collections::BTreeSet<i64> =
                    ra.keys().chain(rb.keys()).copied().collect();
                for k in keys {
                    match (ra.get(&k), rb.get(&k)) {
                        (None, Some(r)) => out.push(Change::Added(format!(
                            "model {id} from {}: {}",
                            r.effective_text,
                            rates_text(&r.rates)
                        ))),
                        (Some(r), None) => out.push(Change::Removed(format!(
                            "model {id} from {}",
                            r.effective_text
                        ))),
                        (Some(x), Some(y)) => {
                            let c = row_changes(x, y);
                            if !c.is_empty() {
                                out.push(Change::Changed(format!(
                                    "model {id} from {}: {}",
                                    y.effective_text,
                                    c.join(", ")
                                )));
                            }
                        }
                        (None, None) => {}
                    }
                }
            }
            (None, None) => {}
        }
    }
    let simple = |what: &str,
                  a: Vec<(i64, String, String)>,
                  b: Vec<(i64, String, String)>,
                  out: &mut Vec<Change>| {
        let ma: BTreeMap<i64, (String, String)> =
            a.into_iter().map(|(k, t, v)| (k, (t, v))).collect();
        let mb: BTreeMap<i64, (String, String)> =
            b.into_iter().map(|(k, t, v)| (k, (t, v))).collect();
        let keys: std::collections::BTreeSet<i64> = ma.keys().chain(mb.keys()).copied().collect();
        for k in keys {
            match (ma.get(&k), mb.get(&k)) {
                (None, Some((t, v))) => out.push(Change::Added(format!("{what} from {t}: {v}"))),
                (Some((t, _)), None) => out.push(Change::Removed(format!("{what} from {t}"))),
                (Some((_, x)), Some((t, y))) if x != y => {
                    out.push(Change::Changed(format!("{what} from {t}: {x} -> {y}")))
                }
                _ => {}
            }
        }
    };
    let runtime = |t: &PriceTable| {
        t.runtime
            .iter()
            .map(|r| {
                (
                    r.effective,
                    r.effective_text.clone(),
                    format!("${}/h", r.usd_per_hour.normalize()),
                )
            })
            .collect()
    };
    simple("runtime", runtime(old), runtime(new), &mut out);
    let search = |t: &PriceTable| {
        t.web_search
            .iter()
            .map(|r| {
                (
                    r.effective,
                    r.effective_text.clone(),
                    format!("${} per 1,000", r.usd_per_1000.normalize()),
                )
            })
            .collect()
    };
    simple("web_search", search(old), search(new), &mut out);
    for name in super::KNOWN_MULTIPLIERS {
        let mult = |t: &PriceTable| {
            t.multipliers
                .iter()
                .filter(|m| m.name == name)
                .map(|m| {
                    (
                        m.effective,
                        m.effective_text.clone(),
                        format!("x{} on {}", m.factor.normalize(), m.models.join(", ")),
                    )
                })
                .collect()
        };
        simple(
            &format!("multiplier {name}"),
            mult(old),
            mult(new),
            &mut out,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_price_cut_and_a_new_model_are_listed() {
        let old = PriceTable::bundled().unwrap();
        let text = super::super::BUNDLED
            .replace("id = \"claude-opus-5-5\"", "id = \"claude-opus-6\"")
            .replacen("usd_per_hour = \"0.08\"", "usd_per_hour = \"0.06\"", 1);
        let new = PriceTable::parse(&text, "new").unwrap();
        let d: Vec<String> = diff(&old, &new).iter().map(|c| c.to_string()).collect();
        assert!(
            d.contains(&"+ model claude-opus-6 (1 rows)".to_string()),
            "{d:#?}"
        );
        assert!(d.contains(&"- model claude-opus-5-5".to_string()), "{d:#?}");
        assert!(
            d.iter()
                .any(|l| l.starts_with("~ runtime from 2026-04-08T00:00:00Z: $0.08/h -> $0.06/h")),
            "{d:#?}"
        );
        assert!(diff(&old, &old).is_empty());
    }
}
