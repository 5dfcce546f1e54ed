//! The HTTP side of `fetch` and `watch`: one client that sends the key only to the API's own
//! origin, retries what can be retried, reads bounded bodies, and pages through lists with a
//! bound and a loop check. Everything the server sends (headers, bodies, cursors) is parsed
//! in checked ranges, and every message it ends up in is redacted.

use std::collections::HashSet;
use std::io::Read;
use std::time::Duration;

use reqwest::Url;
use serde_json::Value;

use super::redact::{redact, redact_keys, shown};
use crate::error::{Error, Result};

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const ANTHROPIC_VERSION: &str = "2023-06-01";
pub const BETA: &str = "managed-agents-2026-04-01";

/// The largest response body read, by default (`--max-body-mb`): a page of 1,000 events with
/// their content is a few MB.
pub const DEFAULT_MAX_BODY_MB: u64 = 64;
/// The most pages one list may take (`--max-pages`): 1M sessions, 10M events at the limits
/// asked for.
pub const DEFAULT_MAX_PAGES: u64 = 10_000;
/// The most items one list may hold, whatever the page size the server chose.
pub const MAX_ITEMS: u64 = 10_000_000;
/// A `Retry-After` beyond this is not believed (the backoff is used instead).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// Of an error body, only this much is read (its excerpt is much shorter).
const ERROR_BODY_BYTES: u64 = 64 * 1024;
/// A page cursor longer than this is not a cursor.
const MAX_CURSOR: usize = 4096;

/// An API client. The key is only ever sent in the `x-api-key` header, and only to the base
/// URL's origin: it is not in any URL, message or file.
pub struct Client {
    base: Url,
    key: String,
    http: reqwest::blocking::Client,
    /// When to retry, and how many times.
    pub retry: Backoff,
    /// The largest body read, in bytes.
    pub max_body: u64,
    /// The most pages one list may take.
    pub max_pages: u64,
}

/// Why a request did not give a body: worth another try (after the server's wait, if it
/// gave one; the reason without the path), or not.
pub(crate) enum Failure {
    Retry(Option<Duration>, String),
    Fatal(Error),
}

impl Client {
    /// A client with the key from `var` (ANTHROPIC_API_KEY or ANTHROPIC_ADMIN_KEY).
    pub fn from_env(var: &str, base_url: Option<&str>) -> Result<Self> {
        let key = std::env::var(var)
            .ok()
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| {
                Error::new(format!("{var} is not set")).with_hint(format!(
                    "export {var}=... (keys are read from the environment only)"
                ))
            })?;
        Client::new(key, base_url)
    }

    pub fn new(key: String, base_url: Option<&str>) -> Result<Self> {
        let base = base_url.unwrap_or(DEFAULT_BASE_URL).trim_end_matches('/');
        // Credentials in a URL are not echoed either.
        let echo = if base.contains('@') {
            "(a URL with credentials)".to_string()
        } else {
            shown(&redact(base, &key))
        };
        let bad = |why: &str| {
            Error::new(format!("--base-url {echo}: {why}"))
                .with_hint(format!("give the API's origin, e.g. {DEFAULT_BASE_URL}"))
        };
        let base = Url::parse(base).map_err(|e| bad(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
            return Err(bad("not an http(s) URL with a host"));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(bad("credentials do not belong in the URL"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(bad("a base URL has no query or fragment"));
        }
        // reqwest strips only Authorization and Cookie on a cross-host redirect, not
        // x-api-key: a redirect is followed only within the origin the key is meant for.
        let policy = reqwest::redirect::Policy::custom(|attempt| {
            let same = attempt.previous().first().map(Url::origin) == Some(attempt.url().origin());
            if same && attempt.previous().len() < 5 {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let http = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .redirect(policy)
            .user_agent(concat!("agentmeter/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::new(format!("cannot start an HTTP client: {e}")))?;
        Ok(Client {
            base,
            key,
            http,
            retry: Backoff::API,
            max_body: DEFAULT_MAX_BODY_MB << 20,
            max_pages: DEFAULT_MAX_PAGES,
        })
    }

    /// `text` with the key and anything that looks like a key taken out.
    pub fn redact(&self, text: &str) -> String {
        redact(text, &self.key)
    }

    /// An error as it may be shown: message and hint redacted.
    pub fn redact_error(&self, e: Error) -> Error {
        Error {
            message: self.redact(&e.message),
            hint: e.hint.map(|h| self.redact(&h)),
        }
    }

    /// `v` with the key (and any `sk-ant-` token) taken out of every string: what the API
    /// sends is stored, and a hostile one could echo the key into a title.
    pub fn scrub(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                let r = redact_keys(s, &self.key);
                if r != *s {
                    *s = r;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|x| self.scrub(x)),
            Value::Object(o) => {
                let keyed = o.keys().any(|k| redact_keys(k, &self.key) != *k);
                if keyed {
                    *o = std::mem::take(o)
                        .into_iter()
                        .map(|(k, x)| (redact_keys(&k, &self.key), x))
                        .collect();
                }
                o.values_mut().for_each(|x| self.scrub(x));
            }
            _ => {}
        }
    }

    fn request(&self, path: &str, query: &[(&str, String)]) -> reqwest::blocking::RequestBuilder {
        let mut q: Vec<(&str, String)> = vec![("beta", "true".into())];
        q.extend(query.iter().cloned());
        // `path` is made of escaped segments (`endpoint`), so it cannot leave the base's path.
        let url = format!("{}{path}", self.base.as_str().trim_end_matches('/'));
        self.http
            .get(url)
            .query(&q)
            .header("x-api-key", &self.key)
            .header("anthropic-version", ANTHROPIC_VERSION)
            .header("anthropic-beta", BETA)
    }

    /// A response that can be read, or why not. Redirects that were not followed (another
    /// origin, or a loop) are errors naming the status and the host they pointed to.
    pub(crate) fn check(
        &self,
        path: &str,
        resp: reqwest::blocking::Response,
    ) -> std::result::Result<reqwest::blocking::Response, Failure> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let request_id = resp
            .headers()
            .get("request-id")
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| "none".to_string(), shown);
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let what = format!("{status} (request-id {request_id})");
        let head = format!("GET {path}: {what}");
        let fatal = |msg: String, hint: &str| {
            Failure::Fatal(self.redact_error(Error::new(msg).with_hint(hint)))
        };
        if status.is_redirection() {
            let target = resp
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .and_then(|l| resp.url().join(l).ok());
            let host = target
                .as_ref()
                .map(|u| shown(&format!("{}://{}", u.scheme(), host_port(u))));
            return Err(match host {
                Some(h) if target.as_ref().map(Url::origin) != Some(resp.url().origin()) => fatal(
                    format!("{head}: a redirect to another origin ({h}) was not followed, so the API key was not sent there"),
                    "--base-url must be the API itself (or a proxy that forwards without redirecting)",
                ),
                Some(h) => fatal(
                    format!("{head}: too many redirects (the last to {h})"),
                    "check --base-url",
                ),
                None => fatal(
                    format!("{head}: a redirect without a usable location"),
                    "check --base-url",
                ),
            });
        }
        let detail = error_detail(resp);
        let msg = format!("{head}{detail}");
        let why = format!("{what}{detail}");
        Err(match status.as_u16() {
            401 | 403 => fatal(
                msg,
                "check ANTHROPIC_API_KEY: is it set, current, and allowed to use Managed Agents?",
            ),
            404 => fatal(msg, "check the session id and --base-url"),
            429 | 500..=599 => Failure::Retry(retry_after, self.redact(&why)),
            _ => Failure::Fatal(self.redact_error(Error::new(msg))),
        })
    }

    /// GET a JSON document, retrying what can be retried.
    pub fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value> {
        let mut attempt = 0;
        loop {
            let why = match self.request(path, query).send() {
                Ok(resp) => match self.check(path, resp) {
                    Ok(resp) => return self.read_json(path, resp),
                    Err(Failure::Fatal(e)) => return Err(e),
                    Err(Failure::Retry(after, why)) => (after, why),
                },
                Err(e) => (None, self.redact(&e.without_url().to_string())),
            };
            if attempt >= self.retry.retries {
                return Err(Error::new(format!(
                    "GET {path}: gave up after {} attempts: {}",
                    attempt + 1,
                    why.1
                )));
            }
            std::thread::sleep(self.retry.wait(attempt, why.0));
            attempt += 1;
        }
    }

    /// The body as JSON, read up to `max_body` bytes (a longer one is an error, not held).
    fn read_json(&self, path: &str, resp: reqwest::blocking::Response) -> Result<Value> {
        let too_big = || {
            Error::new(format!(
                "GET {path}: the response is larger than {} MB",
                self.max_body >> 20
            ))
            .with_hint("pass a larger --max-body-mb if this page is genuine")
        };
        if resp.content_length().is_some_and(|n| n > self.max_body) {
            return Err(too_big());
        }
        let mut body = Vec::new();
        resp.take(self.max_body.saturating_add(1))
            .read_to_end(&mut body)
            .map_err(|e| Error::new(format!("GET {path}: reading the response: {e}")))?;
        if body.len() as u64 > self.max_body {
            return Err(too_big());
        }
        // The parser's error is enough: no excerpt of the body, which may echo the request.
        serde_json::from_slice(&body)
            .map_err(|e| Error::new(format!("GET {path}: the response is not JSON ({e})")))
    }

    /// Each item of a paginated list (`{data, next_page}`), in order, handed to `each`.
    pub fn list_each(
        &self,
        path: &str,
        query: &[(&str, String)],
        mut each: impl FnMut(Value) -> Result<()>,
    ) -> Result<()> {
        let mut pager = Pager::new(path, self.max_pages);
        let mut items = 0u64;
        loop {
            let mut q = query.to_vec();
            if let Some(p) = &pager.next {
                q.push(("page", p.clone()));
            }
            let mut doc = self.get(path, &q)?;
            let Some(Value::Array(data)) = doc.get_mut("data").map(Value::take) else {
                return Err(Error::new(format!(
                    "GET {path}: the response has no `data` list"
                )));
            };
            items = items.saturating_add(data.len() as u64);
            if items > MAX_ITEMS {
                return Err(Error::new(format!(
                    "GET {path}: more than {MAX_ITEMS} items in one list; stopping"
                )));
            }
            for item in data {
                each(item)?;
            }
            if !pager.advance(&doc, true)? {
                return Ok(());
            }
        }
    }

    /// Every item of a paginated list, in order.
    pub fn list(&self, path: &str, query: &[(&str, String)]) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        self.list_each(path, query, |v| {
            out.push(v);
            Ok(())
        })?;
        Ok(out)
    }

    /// Open an SSE stream (no overall timeout: it stays open).
    pub(crate) fn stream(
        &self,
        path: &str,
    ) -> std::result::Result<reqwest::blocking::Response, Failure> {
        let resp = self
            .request(path, &[])
            .header("accept", "text/event-stream")
            .timeout(Duration::from_secs(60 * 60 * 24))
            .send()
            .map_err(|e| Failure::Retry(None, self.redact(&e.without_url().to_string())))?;
        self.check(path, resp)
    }
}

fn host_port(u: &Url) -> String {
    match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => "no host".to_string(),
    }
}

/// What an error response says, briefly: the API's `error.type` and `error.message` when the
/// body is its JSON, else the first printable characters. Redacted by the caller.
fn error_detail(resp: reqwest::blocking::Response) -> String {
    let mut body = Vec::new();
    let _ = resp.take(ERROR_BODY_BYTES).read_to_end(&mut body);
    let text = String::from_utf8_lossy(&body);
    if let Ok(v) = serde_json::from_str::<Value>(&text) {
        let e = &v["error"];
        let parts: Vec<String> = [&e["type"], &e["message"]]
            .iter()
            .filter_map(|x| x.as_str())
            .map(shown)
            .collect();
        if !parts.is_empty() {
            return format!(": {}", parts.join(": "));
        }
        if v.is_object() {
            return String::new();
        }
    }
    let excerpt = shown(&text);
    if excerpt.is_empty() {
        String::new()
    } else {
        format!(": {excerpt}")
    }
}

/// How long to wait before a retry: one policy for the API client, `watch`'s reconnects and
/// `--notify`, each with its own limits. Retry `n` (0-based) waits `first` x 2^n, at most
/// `cap`, plus up to a quarter of jitter; a server's `Retry-After` (already parsed in its
/// checked range, [`parse_retry_after`]) replaces that, at most `max_asked`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the first retry.
    pub first: Duration,
    /// The longest wait the doubling reaches (before jitter).
    pub cap: Duration,
    /// The longest wait a server's `Retry-After` may ask for.
    pub max_asked: Duration,
    /// Add up to a quarter more, from the clock: spreads the retries of parallel workers.
    pub jitter: bool,
    /// Retries before giving up (attempts: one more).
    pub retries: u32,
}

impl Backoff {
    /// The API client (and `watch`'s reconnects, with `--max-reconnects` as `retries`): 0.5 +
    /// 1 + 2 + 4 s (or the server's Retry-After, at most 120 s): more patient than the SDK's
    /// two retries, and a dead server is given up on in seconds, not minutes.
    pub const API: Backoff = Backoff {
        first: Duration::from_millis(500),
        cap: Duration::from_secs(30),
        max_asked: Duration::from_secs(120),
        jitter: true,
        retries: 4,
    };

    /// `--notify`: 4 attempts, 0.5 + 1 + 2 s apart (or the server's Retry-After), any wait at
    /// most 10 s: a notification never holds a command up for long.
    pub const NOTIFY: Backoff = Backoff {
        first: Duration::from_millis(500),
        cap: Duration::from_secs(10),
        max_asked: Duration::from_secs(10),
        jitter: false,
        retries: 3,
    };

    /// The wait before retry `attempt` (0-based): `asked` (the server's `Retry-After`) when
    /// it sent one.
    pub fn wait(&self, attempt: u32, asked: Option<Duration>) -> Duration {
        if let Some(r) = asked {
            return r.min(self.max_asked);
        }
        let base = self
            .first
            .saturating_mul(1 << attempt.min(16))
            .min(self.cap);
        if !self.jitter {
            return base;
        }
        // Jitter from the clock's nanoseconds: 0 to 999 thousandths of a quarter.
        let jitter = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
            % 1000;
        base + base / 4000 * jitter
    }
}

/// `Retry-After` as a wait: delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in 0..=1 hour.
/// Anything else (negative, fractional nonsense, inf, NaN, huge, far future) is ignored.
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    let wait = if !v.is_empty() && v.len() <= 10 && v.bytes().all(|b| b.is_ascii_digit()) {
        Duration::from_secs(v.parse::<u64>().ok()?)
    } else {
        let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
        let ms = at
            .timestamp_millis()
            .checked_sub(chrono::Utc::now().timestamp_millis())?;
        Duration::from_millis(u64::try_from(ms.max(0)).ok()?)
    };
    (wait <= MAX_RETRY_AFTER).then_some(wait)
}

/// The cursor of a list's pages: a bound on their number, and a cursor seen before (A, B,
/// A, ...) is an error, not a loop.
pub(crate) struct Pager<'a> {
    path: &'a str,
    seen: HashSet<String>,
    max: u64,
    pub next: Option<String>,
}

impl<'a> Pager<'a> {
    pub fn new(path: &'a str, max: u64) -> Self {
        Pager {
            path,
            seen: HashSet::new(),
            max,
            next: None,
        }
    }

    /// Take the next cursor from `doc`; false at the end (no cursor, or `more` false).
    pub fn advance(&mut self, doc: &Value, more: bool) -> Result<bool> {
        let path = self.path;
        let next = match doc.get("next_page") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) if s.len() <= MAX_CURSOR => Some(s.clone()),
            Some(_) => {
                return Err(Error::new(format!(
                    "GET {path}: `next_page` is not a page cursor"
                )))
            }
        };
        let Some(next) = next.filter(|_| more) else {
            return Ok(false);
        };
        if !self.seen.insert(next.clone()) {
            return Err(Error::new(format!(
                "GET {path}: the API sent the page cursor {} again; stopping (the pages loop)",
                shown(&next)
            )));
        }
        if self.seen.len() as u64 >= self.max {
            return Err(Error::new(format!(
                "GET {path}: more than {} pages; stopping",
                self.max
            ))
            .with_hint("pass a larger --max-pages if the list is genuinely that long"));
        }
        self.next = Some(next);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn retry_after_is_read_in_a_checked_range() {
        assert_eq!(parse_retry_after("1"), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(" 3600 "), Some(Duration::from_secs(3600)));
        // Past the hour, or not a delay-seconds: ignored (the backoff decides).
        for v in [
            "3601",
            "inf",
            "NaN",
            "-1",
            "1e300",
            "1.5",
            "99999999999999999999999",
            "",
            "Wed, 21 Oct 2099 07:28:00 GMT",
        ] {
            assert_eq!(parse_retry_after(v), None, "{v}");
        }
        // A date in the past: retry now.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn backoff_doubles_within_its_cap_and_honours_retry_after_within_its_bound() {
        let ms = Duration::from_millis;
        // --notify, no jitter: 0.5, 1, 2, 4, 8 s, then the 10 s cap.
        let waits: Vec<_> = (0..7).map(|a| Backoff::NOTIFY.wait(a, None)).collect();
        let want = [500, 1000, 2000, 4000, 8000, 10_000, 10_000].map(ms);
        assert_eq!(waits, want);
        // The API's: 0.5 x 2^n capped at 30 s, plus at most a quarter: 0.5 s <= w <= 0.625
        // s for n = 0, 30 s <= w <= 37.5 s from n = 6 (32 s) on, even at n = 1,000.
        for (attempt, base) in [
            (0, 500),
            (1, 1000),
            (3, 4000),
            (5, 16_000),
            (6, 30_000),
            (1000, 30_000),
        ] {
            let w = Backoff::API.wait(attempt, None);
            assert!(
                w >= ms(base) && w <= ms(base) + ms(base) / 4,
                "{attempt}: {w:?}"
            );
        }
        // It grows: each wait's floor is above the last one's ceiling until the cap.
        for a in 0..5 {
            assert!(Backoff::API.wait(a + 1, None) > Backoff::API.wait(a, None));
        }
        // Retry-After replaces the backoff (no jitter), within the caller's bound: 120 s for
        // the API, 10 s for --notify; 0 means now.
        let s = Duration::from_secs;
        assert_eq!(Backoff::API.wait(3, Some(s(7))), s(7));
        assert_eq!(Backoff::API.wait(0, Some(s(3600))), s(120));
        assert_eq!(Backoff::API.wait(0, Some(Duration::ZERO)), Duration::ZERO);
        assert_eq!(Backoff::NOTIFY.wait(0, Some(s(60))), s(10));
        // The limits the tests of the commands count on: 4 retries (5 attempts) and 3 (4).
        assert_eq!((Backoff::API.retries, Backoff::NOTIFY.retries), (4, 3));
    }

    #[test]
    fn a_repeating_cursor_or_too_many_pages_is_an_error() {
        let mut p = Pager::new("/v1/x", 10);
        assert!(p.advance(&json!({"next_page": "A"}), true).unwrap());
        assert!(p.advance(&json!({"next_page": "B"}), true).unwrap());
        let e = p.advance(&json!({"next_page": "A"}), true).unwrap_err();
        assert!(e.message.contains("/v1/x") && e.message.contains("again"));
        assert!(!p.advance(&json!({"next_page": null}), true).unwrap());
        assert!(!p.advance(&json!({"next_page": "C"}), false).unwrap());
        assert!(p.advance(&json!({"next_page": 7}), true).is_err());
        // A bound of 3 pages: the third cursor is refused.
        let mut p = Pager::new("/v1/x", 3);
        assert!(p.advance(&json!({"next_page": "1"}), true).unwrap());
        assert!(p.advance(&json!({"next_page": "2"}), true).unwrap());
        assert!(p.advance(&json!({"next_page": "3"}), true).is_err());
    }
}
