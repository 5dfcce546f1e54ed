//! Compare: the same usage priced several ways (models, price tables), and two sets of runs
//! of the same tasks paired and compared with a bootstrap confidence interval.

pub mod check_json;
pub mod gate;
pub mod json;
pub mod paired;

use std::str::FromStr;
use std::sync::Arc;

use rust_decimal::prelude::*;

use crate::category::Category;
use crate::error::{settle, Error, Result, Skips};
use crate::pricing::PriceTable;
use crate::rate::{Cost, RatedSession, Rater};
use crate::time::Zone;
use crate::usage::SessionUsage;

/// A task key as `--key` and `--pair-by` take it (and baseline-v1 and compare-v1 write it).
pub const TASK_KEY_PATTERN: &str = r"^(title|file|session|metadata\..+)$";

/// What identifies a task across runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskKey {
    /// The session object's `title`.
    Title,
    /// `metadata.KEY` of the session object.
    Metadata(String),
    /// The stem of the file the session came from.
    File,
    /// The session id itself.
    Session,
}

impl FromStr for TaskKey {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "title" => Ok(TaskKey::Title),
            "file" => Ok(TaskKey::File),
            "session" => Ok(TaskKey::Session),
            _ => match s.strip_prefix("metadata.") {
                Some(k) if !k.is_empty() => Ok(TaskKey::Metadata(k.to_string())),
                _ => Err(format!("{s:?} is not title, file, session or metadata.KEY")),
            },
        }
    }
}

impl std::fmt::Display for TaskKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TaskKey::Title => f.write_str("title"),
            TaskKey::Metadata(k) => write!(f, "metadata.{k}"),
            TaskKey::File => f.write_str("file"),
            TaskKey::Session => f.write_str("session"),
        }
    }
}

/// The task a session ran, if it says.
pub fn task_of(s: &SessionUsage, key: &TaskKey) -> Option<String> {
    match key {
        TaskKey::Title => s.title.as_deref().map(str::to_string),
        TaskKey::Metadata(k) => s.metadata.get(k).cloned(),
        TaskKey::File => s.origin.as_ref().map(|o| crate::ingest::stem_of(&o.file)),
        TaskKey::Session => Some(s.session_id.to_string()),
    }
}

/// Sessions under one task key from which pairing and baselining warn: that many summed as one
/// task usually means the key does not tell tasks apart (every session with the same title).
pub const CROWDED: usize = 10;

/// Warn, naming the key and the count, about tasks that hold [`CROWDED`] sessions or more.
/// `of` names the sessions ("A", "the run").
pub fn warn_crowded<'k>(
    of: &str,
    key: &TaskKey,
    counts: impl IntoIterator<Item = (&'k String, usize)>,
) {
    let mut crowded: Vec<_> = counts.into_iter().filter(|(_, n)| *n >= CROWDED).collect();
    if crowded.is_empty() {
        return;
    }
    crowded.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut list: Vec<String> = crowded
        .iter()
        .take(3)
        .map(|(k, n)| format!("{n} sessions under {key} {k:?}"))
        .collect();
    if crowded.len() > 3 {
        list.push(format!("{} more such tasks", crowded.len() - 3));
    }
    crate::say!(
        "warning: {of}: {}: each is summed as one task (a key that tells tasks apart: metadata.KEY, file or session)",
        list.join(", ")
    );
}

/// One way of pricing: a model to price every request as (or as metered), a price table, and
/// a token scale (another model may need more tokens for the same text).
#[derive(Clone)]
pub struct Variant {
    pub label: String,
    pub model: Option<String>,
    pub table: Arc<PriceTable>,
    pub token_scale: Decimal,
}

/// Usage as another model would bill it: every request (and search) as `model`, tokens scaled.
pub fn as_variant(u: &SessionUsage, v: &Variant) -> SessionUsage {
    let mut u = u.clone();
    if let Some(m) = &v.model {
        let m: Arc<str> = m.as_str().into();
        u.model = Some(m.clone());
        for r in &mut u.requests {
            r.model = m.clone();
        }
        for s in &mut u.web_searches {
            s.model = Some(m.clone());
        }
    }
    if v.token_scale != Decimal::ONE {
        let scale = |n: u64| {
            (Decimal::from(n) * v.token_scale)
                .round()
                .to_u64()
                .unwrap_or(u64::MAX)
        };
        for r in &mut u.requests {
            for c in Category::tokens() {
                if let Some(n) = r.tokens.get_mut(c) {
                    *n = scale(*n);
                }
            }
        }
    }
    u
}

/// Price every session under every variant: `[variant][session]`.
pub fn reprice(
    usages: &[SessionUsage],
    variants: &[Variant],
    zone: Zone,
) -> Result<Vec<Vec<RatedSession>>> {
    let mut out = Vec::new();
    for v in variants {
        let rater = Rater::new(&v.table, zone);
        let mut problems = Skips::default();
        let mut rated = Vec::with_capacity(usages.len());
        for u in usages {
            let (r, p) = rater.rate(as_variant(u, v));
            problems.add_all(p);
            rated.push(r);
        }
        settle(problems, false).map_err(|e| {
            Error::new(format!("{}: {}", v.label, e.message)).with_hint(e.hint.unwrap_or_default())
        })?;
        out.push(rated);
    }
    Ok(out)
}

/// `b - a` and `b / a` (none when `a` is zero).
pub fn difference(a: Decimal, b: Decimal) -> (Decimal, Option<Decimal>) {
    (b - a, (!a.is_zero()).then(|| b / a))
}

/// The total cost of sessions.
pub fn total(sessions: &[RatedSession]) -> Cost {
    let mut c = Cost::default();
    for s in sessions {
        c += s.cost;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_keys_parse() {
        assert_eq!("title".parse::<TaskKey>(), Ok(TaskKey::Title));
        assert_eq!(
            "metadata.ticket".parse::<TaskKey>(),
            Ok(TaskKey::Metadata("ticket".into()))
        );
        assert!("metadata.".parse::<TaskKey>().is_err());
        assert!("name".parse::<TaskKey>().is_err());
    }
}
