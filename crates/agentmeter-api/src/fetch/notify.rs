//! `--notify URL`: a JSON message POSTed when a gate fails, an anomaly is found or a budget
//! alert fires. Slack-compatible (`text`), with the structured result under `agentmeter`.
//! A webhook's path is its secret (Slack's is): only `scheme://host` is ever shown. A failed
//! notification is a warning; it never changes the command's exit code.

use std::time::Duration;

use reqwest::Url;
use schemars::JsonSchema;
use serde::Serialize;

use super::client::{parse_retry_after, Backoff};
use crate::error::{Error, Result};

/// The JSON body `--notify URL` POSTs (Slack-compatible): when `check` fails, when
/// `anomalies` finds one, when `watch --budget-alert` fires. It has no schema string of its
/// own; `agentmeter` holds the structured result, which says where it comes from.
#[derive(Serialize, JsonSchema)]
pub struct Message<'a, T: ?Sized> {
    /// The message in words (what Slack shows).
    pub text: &'a str,
    /// The result that triggered it.
    pub agentmeter: &'a T,
}

/// Where to notify, checked before any work is done; `None`: no `--notify`.
pub struct Notify(Option<Url>);

impl Notify {
    /// The flag's value, checked. The message never echoes it (clap's would: hence a string).
    pub fn new(url: Option<&str>) -> Result<Notify> {
        let Some(url) = url else {
            return Ok(Notify(None));
        };
        let bad = |why: &str| {
            Error::new(format!(
                "--notify: {why} (the URL is not shown: a webhook's path is its secret)"
            ))
            .with_hint(
                "give the webhook's full http(s) URL, e.g. https://hooks.slack.com/services/...",
            )
        };
        let u = Url::parse(url.trim()).map_err(|_| bad("not a URL"))?;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            return Err(bad("not an http(s) URL with a host"));
        }
        if !u.username().is_empty() || u.password().is_some() {
            return Err(bad("credentials do not belong in the URL"));
        }
        Ok(Notify(Some(u)))
    }

    /// POST the [`Message`] `{"text": text, "agentmeter": result}`, retrying what can be
    /// retried; say how it went (a failure as a warning). Nothing when there is no `--notify`.
    pub fn send<T: Serialize + ?Sized>(&self, text: &str, result: &T) {
        let Some(url) = &self.0 else { return };
        let shown = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{}://{h}:{p}", url.scheme()),
            (h, None) => format!("{}://{}", url.scheme(), h.unwrap_or_default()),
            (None, Some(_)) => url.scheme().to_string(),
        };
        let body = Message {
            text,
            agentmeter: result,
        };
        match post(url, &body) {
            Ok(()) => crate::say!("note: notified {shown}"),
            Err(why) => crate::say!(
                "warning: --notify {shown}: {why}; the notification was not delivered (the exit code is unchanged)"
            ),
        }
    }
}

/// The POST, with retries; the reason it failed, without the URL.
fn post<B: Serialize + ?Sized>(url: &Url, body: &B) -> std::result::Result<(), String> {
    let http = reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        // A redirect could carry the message elsewhere: not followed.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("agentmeter/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot start an HTTP client: {e}"))?;
    // 429, 5xx and connection errors are retried (`Backoff::NOTIFY`: 4 attempts in all).
    let retry = Backoff::NOTIFY;
    let mut attempt = 1;
    loop {
        let (retry_after, why) = match http.post(url.clone()).json(body).send() {
            Ok(resp) if resp.status().is_success() => return Ok(()),
            Ok(resp) => {
                let status = resp.status();
                let why = format!("HTTP {status}");
                if !(status.as_u16() == 429 || status.is_server_error()) {
                    return Err(why);
                }
                let after = (resp.headers().get("retry-after"))
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_retry_after);
                (after, why)
            }
            // `without_url`: the path is the webhook's secret.
            Err(e) => (None, e.without_url().to_string()),
        };
        if attempt > retry.retries {
            return Err(format!("gave up after {attempt} attempts: {why}"));
        }
        std::thread::sleep(retry.wait(attempt - 1, retry_after));
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A URL that is refused is refused without being echoed.
    #[test]
    fn bad_urls_are_refused_without_their_secret() {
        for bad in [
            "hooks.example/SECRET",
            "ftp://hooks.example/SECRET",
            "https://u:SECRET@hooks.example/x",
        ] {
            let e = Notify::new(Some(bad)).err().expect(bad);
            assert!(
                !e.message.contains("SECRET") && !e.message.contains("hooks"),
                "{}",
                e.message
            );
        }
        assert!(Notify::new(Some("https://hooks.example/services/T/B/X")).is_ok());
        assert!(Notify::new(None).unwrap().0.is_none());
    }
}
