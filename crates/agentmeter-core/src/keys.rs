//! Keys a user may mistype: the closest known one, and the unknown keys of a TOML table.

use toml::Table;

/// The keys of `t` that are not `allowed`, each as (its key path, "unknown key (did you mean
/// `x`?)"): for every TOML file a user writes (scenarios, contracts).
pub fn unknown_keys<'t>(
    t: &'t Table,
    allowed: &'t [&'t str],
    path: &'t str,
) -> impl Iterator<Item = (String, String)> + 't {
    t.keys()
        .filter(|k| !allowed.contains(&k.as_str()))
        .map(move |k| {
            let at = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            let hint = did_you_mean(k, allowed)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            (at, format!("unknown key{hint}"))
        })
}

/// The closest known key, if it is close enough to be a typo.
pub fn did_you_mean<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (levenshtein(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + (ca != *cb) as usize)
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
