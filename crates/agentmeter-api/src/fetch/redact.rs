//! Keys out of messages. A server (or a proxy page echoing the request's headers) can put the
//! key into anything it sends back, so every text from it that reaches a message goes through
//! `redact`, and is cut short by `shown`.

const REDACTED: &str = "[redacted]";
/// Header names whose values are secrets, as they may be spelled in an echo.
const SECRET_NAMES: [&str; 6] = [
    "x-api-key",
    "x_api_key",
    "api-key",
    "api_key",
    "apikey",
    "authorization",
];
/// The most characters of a server's text that a message shows.
const SHOWN: usize = 100;

fn token_char(c: char) -> bool {
    !(c.is_whitespace() || "\"'<>,;&}{)(][`\\".contains(c))
}

/// `text` without `key`, without `sk-ant-...` tokens, and without the value after any
/// x-api-key / authorization name (`name: v`, `"name": "v"`, `name=v`, `<td>name</td><td>v`).
pub fn redact(text: &str, key: &str) -> String {
    let mut out = redact_keys(text, key);
    for name in SECRET_NAMES {
        // Whole names only: ANTHROPIC_API_KEY in a hint is not an echoed header.
        out = redact_after(&out, name, 40, true);
    }
    out
}

/// `text` without `key` and `sk-ant-...` tokens: for what is stored, where a header name
/// followed by a word is just text.
pub fn redact_keys(text: &str, key: &str) -> String {
    let out = if key.len() >= 8 && text.contains(key) {
        text.replace(key, REDACTED)
    } else {
        text.to_string()
    };
    if out.to_ascii_lowercase().contains("sk-ant-") {
        redact_after(&out, "sk-ant-", 0, false)
    } else {
        out
    }
}

/// Each occurrence of `marker` (ASCII, any case) followed, within `gap` characters of
/// punctuation, markup or a `Bearer`/`Basic` scheme, by a token: the token is replaced.
fn redact_after(text: &str, marker: &str, gap: usize, whole: bool) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(found) = lower[i..].find(marker) {
        let start = i + found;
        let after = start + marker.len();
        out.push_str(&text[i..after]);
        let glued = |c: char| c.is_alphanumeric() || c == '_';
        if whole && text[..start].chars().next_back().is_some_and(glued) {
            i = after;
            continue;
        }
        let mut j = after;
        // Skip separators and tags between the name and its value.
        let mut in_tag = false;
        while j < text.len() && j - after <= gap && !text[j..].starts_with(REDACTED) {
            let c = text[j..].chars().next().unwrap_or(' ');
            if in_tag {
                in_tag = c != '>';
            } else if c == '<' {
                in_tag = true;
            } else if c.is_alphanumeric() {
                let rest = &lower[j..];
                let scheme = ["bearer ", "basic "].iter().find(|s| rest.starts_with(**s));
                match scheme {
                    Some(s) => j += s.len() - 1,
                    None => break,
                }
            }
            j += c.len_utf8();
        }
        let value_end = if text[j..].starts_with(REDACTED) {
            j // already taken out (x-api-key, then api-key within it)
        } else {
            text[j..]
                .find(|c: char| !token_char(c))
                .map_or(text.len(), |n| j + n)
        };
        if value_end > j {
            out.push_str(&text[after..j]);
            out.push_str(REDACTED);
        } else {
            out.push_str(&text[after..value_end]);
        }
        i = value_end.max(after);
    }
    out.push_str(&text[i..]);
    out
}

/// A server's text as a message may show it: control characters replaced, at most about 100
/// characters.
pub fn shown(text: &str) -> String {
    let text = text.trim();
    let mut out: String = text
        .chars()
        .take(SHOWN)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(SHOWN).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "zq-private-0123456789";

    #[test]
    fn keys_and_secret_headers_are_taken_out() {
        for (echo, must_keep) in [
            ("x-api-key: zq-private-0123456789", "x-api-key"),
            ("X-Api-Key: abcdefgh\r\nhost: h", "host: h"),
            (r#"{"headers": {"x-api-key": "abc123"}}"#, "headers"),
            ("<tr><td>x-api-key</td><td>abc123</td></tr>", "</td></tr>"),
            ("authorization=Bearer tok.en-1", "authorization"),
            ("your key sk-ant-api03-AAAA_bbb-9 was seen", "was seen"),
            ("SK-ANT-API03-xyz", "SK-ANT-"),
            ("api_key=abc&x=1", "&x=1"),
        ] {
            let r = redact(echo, KEY);
            assert!(r.contains(REDACTED), "{echo} -> {r}");
            assert!(r.contains(must_keep), "{echo} -> {r}");
            for secret in [KEY, "abcdefgh", "abc123", "tok.en-1", "AAAA_bbb", "xyz"] {
                assert!(!r.contains(secret), "{echo} -> {r}");
            }
        }
        // The key anywhere, even with no name before it.
        assert_eq!(redact("got zq-private-0123456789!", KEY), "got [redacted]!");
        assert_eq!(redact("nothing secret here", KEY), "nothing secret here");
        assert_eq!(
            redact("x-api-key: abc", KEY),
            "x-api-key: [redacted]",
            "once, though api-key is in x-api-key"
        );
        let hint = "check ANTHROPIC_API_KEY: is it set?";
        assert_eq!(redact(hint, KEY), hint);
    }

    #[test]
    fn shown_text_is_short_and_printable() {
        assert_eq!(shown("a\nb\x1b[2Kc"), "a b [2Kc");
        let long = "x".repeat(500);
        assert_eq!(shown(&long).chars().count(), 101);
    }
}
