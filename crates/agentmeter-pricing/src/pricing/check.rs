//! Validation of a price table: what `pricing check` reports and what loading enforces.
//! Errors make a table unusable; warnings flag rows that break the usual ratios
//! (5m write 1.25x, 1h write 2x, cache read 0.1x of input) and are not acknowledged.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
    Info,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub level: Level,
    pub message: String,
}

struct Problems(Vec<Problem>);

impl Problems {
    fn error(&mut self, m: impl Into<String>) {
        self.0.push(Problem {
            level: Level::Error,
            message: m.into(),
        });
    }
    fn warn(&mut self, m: impl Into<String>) {
        self.0.push(Problem {
            level: Level::Warning,
            message: m.into(),
        });
    }
    fn info(&mut self, m: impl Into<String>) {
        self.0.push(Problem {
            level: Level::Info,
            message: m.into(),
        });
    }
}

/// Parse `text` and list every problem. The table is returned when it could be built at all.
pub fn parse_and_check(text: &str, origin: &str) -> (Option<PriceTable>, Vec<Problem>) {
    let mut p = Problems(Vec::new());
    let file: TableFile = match toml::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            let where_ = e
                .span()
                .map(|s| format!("line {}: ", text[..s.start].matches('\n').count() + 1))
                .unwrap_or_default();
            p.error(format!("{where_}{}", e.message()));
            return (None, p.0);
        }
    };
    let _ = origin;
    if file.schema != 1 {
        p.error(format!(
            "schema {} is not supported (this agentmeter reads schema 1)",
            file.schema
        ));
    }
    if file.currency != "USD" {
        p.error(format!(
            "currency {:?} is not supported (only USD)",
            file.currency
        ));
    }
    if file.name.trim().is_empty() || file.name.contains(['@', ' ']) {
        p.error(format!(
            "name {:?} must be non-empty, without spaces or '@'",
            file.name
        ));
    }

    let eff = |what: &str, s: &str, p: &mut Problems| match parse_effective(s) {
        Ok(t) => Some(t),
        Err(e) => {
            p.error(format!("{what}: effective {e}"));
            None
        }
    };

    let mut runtime = Vec::new();
    for (i, r) in file.runtime.iter().enumerate() {
        let what = format!("runtime row {}", i + 1);
        nonneg(&mut p, &what, "usd_per_hour", r.usd_per_hour);
        if let Some(t) = eff(&what, &r.effective, &mut p) {
            runtime.push(RuntimeRow {
                effective: t,
                effective_text: r.effective.clone(),
                usd_per_hour: r.usd_per_hour,
                source: r.source.clone(),
            });
        }
    }
    sorted(&mut p, "runtime rows", runtime.iter().map(|r| r.effective));
    if runtime.is_empty() {
        p.warn("no [[runtime]] rows: Managed Agents session runtime cannot be priced");
    }

    let mut web_search = Vec::new();
    for (i, r) in file.web_search.iter().enumerate() {
        let what = format!("web_search row {}", i + 1);
        nonneg(&mut p, &what, "usd_per_1000", r.usd_per_1000);
        if let Some(t) = eff(&what, &r.effective, &mut p) {
            web_search.push(WebSearchRow {
                effective: t,
                effective_text: r.effective.clone(),
                usd_per_1000: r.usd_per_1000,
                source: r.source.clone(),
            });
        }
    }
    sorted(
        &mut p,
        "web_search rows",
        web_search.iter().map(|r| r.effective),
    );

    // Models: ids and aliases are one namespace.
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut models = Vec::new();
    for m in &file.model {
        for name in std::iter::once(&m.id).chain(&m.aliases) {
            if name.trim().is_empty() {
                p.error(format!("model {:?}: empty id or alias", m.id));
            } else if let Some(owner) = names.insert(name, &m.id) {
                p.error(format!(
                    "{name:?} is used twice (by model {owner:?} and model {:?})",
                    m.id
                ));
            }
        }
        if m.price.is_empty() {
            p.error(format!("model {}: no [[model.price]] rows", m.id));
        }
        let mut rows = Vec::new();
        for (i, r) in m.price.iter().enumerate() {
            let what = format!("model {} row {} ({})", m.id, i + 1, r.effective);
            let Some(t) = eff(&what, &r.effective, &mut p) else {
                continue;
            };
            let rates = Rates::from(clone_rates(&r.rates));
            let fast = r.fast.as_ref().map(|f| Rates::from(clone_rates(f)));
            let long_context = r.long_context.as_ref().map(|l| LongContext {
                threshold_input_tokens: l.threshold_input_tokens,
                rates: Rates::from(clone_rates(&l.rates)),
            });
            check_rates(&mut p, &what, "", &rates, r.ratio_exception.as_deref());
            if let Some(f) = &fast {
                check_rates(&mut p, &what, "fast ", f, r.ratio_exception.as_deref());
            }
            if let Some(l) = &long_context {
                if l.threshold_input_tokens == 0 {
                    p.error(format!(
                        "{what}: long_context threshold_input_tokens must be above 0"
                    ));
                }
                check_rates(
                    &mut p,
                    &what,
                    "long_context ",
                    &l.rates,
                    r.ratio_exception.as_deref(),
                );
            }
            rows.push(PriceRow {
                effective: t,
                effective_text: r.effective.clone(),
                rates,
                fast,
                long_context,
                source: r.source.clone(),
                note: r.note.clone(),
                ratio_exception: r.ratio_exception.clone(),
            });
        }
        sorted(
            &mut p,
            &format!("model {} rows", m.id),
            rows.iter().map(|r| r.effective),
        );
        models.push(Model {
            id: m.id.clone(),
            aliases: m.aliases.clone(),
            rows,
        });
    }

    let mut multipliers = Vec::new();
    for (i, m) in file.multiplier.iter().enumerate() {
        let what = format!("multiplier row {} ({})", i + 1, m.name);
        if !KNOWN_MULTIPLIERS.contains(&m.name.as_str()) {
            p.error(format!(
                "{what}: unknown multiplier name (known: {})",
                KNOWN_MULTIPLIERS.join(", ")
            ));
        }
        if m.factor <= Decimal::ZERO {
            p.error(format!("{what}: factor must be above 0"));
        }
        for id in &m.models {
            if !names.contains_key(id.as_str()) {
                p.warn(format!("{what}: model {id:?} is not in this table"));
            }
        }
        if let Some(t) = eff(&what, &m.effective, &mut p) {
            multipliers.push(MultiplierRow {
                name: m.name.clone(),
                effective: t,
                effective_text: m.effective.clone(),
                factor: m.factor,
                models: m.models.clone(),
                source: m.source.clone(),
            });
        }
    }
    for name in KNOWN_MULTIPLIERS {
        sorted(
            &mut p,
            &format!("multiplier {name} rows"),
            multipliers
                .iter()
                .filter(|m| m.name == name)
                .map(|m| m.effective),
        );
    }

    let has_errors = p.0.iter().any(|x| x.level == Level::Error);
    let version = version_of(&file.name, text);
    let table = (!has_errors).then(|| {
        PriceTable::build(
            text,
            file,
            version,
            origin,
            runtime,
            web_search,
            multipliers,
            models,
        )
    });
    p.0.sort_by_key(|x| x.level);
    (table, p.0)
}

fn clone_rates(r: &RatesFile) -> RatesFile {
    RatesFile {
        input: r.input,
        output: r.output,
        cache_write_5m: r.cache_write_5m,
        cache_write_1h: r.cache_write_1h,
        cache_read: r.cache_read,
    }
}

fn nonneg(p: &mut Problems, what: &str, field: &str, v: Decimal) {
    if v.is_sign_negative() {
        p.error(format!("{what}: {field} is negative ({v})"));
    }
}

fn sorted(p: &mut Problems, what: &str, effs: impl Iterator<Item = Millis>) {
    let v: Vec<Millis> = effs.collect();
    if v.windows(2).any(|w| w[1] <= w[0]) {
        p.error(format!(
            "{what} must be sorted by effective, each date once"
        ));
    }
}

fn check_rates(p: &mut Problems, what: &str, kind: &str, r: &Rates, exception: Option<&str>) {
    for c in Category::tokens() {
        nonneg(p, what, &format!("{kind}{}", c.key()), r.get(c));
    }
    let expect = [
        ("cache_write_5m", r.cache_write_5m, Decimal::new(125, 2)),
        ("cache_write_1h", r.cache_write_1h, Decimal::from(2)),
        ("cache_read", r.cache_read, Decimal::new(1, 1)),
    ];
    for (field, v, ratio) in expect {
        let want = r.input * ratio;
        if v != want {
            let msg = format!(
                "{what}: {kind}{field} is {v}, the usual ratio ({ratio}x input {}) gives {}",
                r.input,
                want.normalize()
            );
            match exception {
                Some(why) => p.info(format!("{msg}; acknowledged: {why}")),
                None => p.warn(msg),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "schema = 1\nname = \"t\"\ncurrency = \"USD\"\n";

    fn problems(body: &str) -> Vec<Problem> {
        parse_and_check(&format!("{HEAD}{body}"), "t.toml").1
    }

    fn row(eff: &str, input: &str) -> String {
        format!(
            "[[model.price]]\neffective = \"{eff}\"\ninput = \"{input}\"\noutput = \"25\"\ncache_write_5m = \"6.25\"\ncache_write_1h = \"10\"\ncache_read = \"0.50\"\n"
        )
    }

    #[test]
    fn bundled_table_has_no_errors_and_no_unacknowledged_ratio_breaks() {
        let (t, p) = parse_and_check(BUNDLED, "bundled");
        assert!(t.is_some());
        assert!(p.iter().all(|x| x.level == Level::Info), "{p:#?}");
    }

    #[test]
    fn unsorted_rows_and_duplicate_names_are_errors() {
        let p = problems(&format!(
            "[[model]]\nid = \"m\"\naliases = [\"m2\"]\n{}{}[[model]]\nid = \"m2\"\n{}",
            row("2026-05-01", "5"),
            row("2026-04-01", "5"),
            row("2026-04-01", "5")
        ));
        let errors: Vec<_> = p
            .iter()
            .filter(|x| x.level == Level::Error)
            .map(|x| x.message.as_str())
            .collect();
        assert!(
            errors
                .iter()
                .any(|m| m.contains("model m rows must be sorted")),
            "{errors:?}"
        );
        assert!(
            errors.iter().any(|m| m.contains("\"m2\" is used twice")),
            "{errors:?}"
        );
    }

    #[test]
    fn ratio_breaks_are_warnings_and_floats_are_refused() {
        let p = problems(&format!(
            "[[model]]\nid = \"m\"\n{}",
            row("2026-05-01", "4")
        ));
        assert!(
            p.iter()
                .any(|x| x.level == Level::Warning && x.message.contains("cache_write_5m is 6.25")),
            "{p:#?}"
        );
        let p = problems("[[runtime]]\neffective = \"2026-04-08\"\nusd_per_hour = 0.08\n");
        assert!(
            p.iter()
                .any(|x| x.level == Level::Error && x.message.contains("write prices as strings")),
            "{p:#?}"
        );
    }

    #[test]
    fn unknown_fields_and_schema_versions_are_errors() {
        let p = parse_and_check("schema = 2\nname = \"t\"\ncurrency = \"USD\"\n", "t").1;
        assert!(p.iter().any(|x| x.message.contains("schema 2")));
        let p = problems("[[runtime]]\neffective = \"2026-04-08\"\nusd_per_hour = \"0.08\"\nusd_per_minute = \"1\"\n");
        assert!(
            p.iter()
                .any(|x| x.level == Level::Error && x.message.contains("usd_per_minute")),
            "{p:#?}"
        );
    }
}
