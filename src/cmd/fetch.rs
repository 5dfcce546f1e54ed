//! `agentmeter fetch`: session exports straight from the Managed Agents API.

use std::path::PathBuf;

use clap::Args;

use crate::error::Result;
use crate::fetch::{
    fetch, fetch_admin_reports, Client, FetchOptions, DEFAULT_MAX_BODY_MB, DEFAULT_MAX_PAGES,
};

/// Bounds on what the server may make us read (`fetch` and `watch`).
#[derive(Args, Debug)]
pub struct LimitArgs {
    /// The largest response body (or stream event) read, in MB; a larger one is an error.
    #[arg(long, value_name = "MB", default_value_t = DEFAULT_MAX_BODY_MB,
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_body_mb: u64,
    /// The most pages one list may take; more is an error.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_PAGES,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub max_pages: u64,
}

impl LimitArgs {
    /// A client with the key from `var`, these limits, and every error it gives redacted.
    pub fn client(&self, var: &str, base_url: Option<&str>) -> Result<Client> {
        let mut c = Client::from_env(var, base_url)?;
        c.max_body = self.max_body_mb << 20;
        c.max_pages = self.max_pages;
        Ok(c)
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "The key is read from ANTHROPIC_API_KEY (ANTHROPIC_ADMIN_KEY for --admin), never from the command line.\n\n\
    Examples:\n  agentmeter fetch --out runs/                                   # every session, archived ones too\n  \
    agentmeter fetch --created-since 2026-11-01 --status idle --out runs/\n  \
    agentmeter fetch --session sesn_01 --session sesn_02 --out runs/\n  \
    agentmeter fetch --admin --created-since 2026-11-01 --out admin/    # Admin API cost_report pages"
)]
pub struct FetchArgs {
    /// Only these sessions (repeat); default: every session the filters match.
    #[arg(long = "session", value_name = "ID")]
    pub sessions: Vec<String>,
    /// Sessions created at or after this instant (RFC 3339 or a date).
    #[arg(long, value_name = "DATE")]
    pub created_since: Option<String>,
    /// Sessions created before this instant.
    #[arg(long, value_name = "DATE")]
    pub created_until: Option<String>,
    /// Only sessions of this agent.
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
    /// Only sessions in this status (repeat): idle, running, rescheduling, terminated.
    #[arg(long = "status", value_name = "STATUS")]
    pub statuses: Vec<String>,
    /// Leave archived sessions out (by default they are fetched: archiving is the API's
    /// routine cleanup, and archived sessions were billed).
    #[arg(long)]
    pub no_archived: bool,
    /// Where the exports go (one NDJSON file per session).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// API base URL (for proxies and tests).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Sessions fetched at once (1 to 64).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Fetch the Admin API cost and usage reports (with ANTHROPIC_ADMIN_KEY) from --created-since instead.
    #[arg(long)]
    pub admin: bool,
}

/// RFC 3339 for the API: a bare date becomes its midnight UTC.
fn instant(s: &str) -> Result<String> {
    let ms = crate::time::parse_date_or_timestamp(s).map_err(crate::error::Error::new)?;
    Ok(crate::time::to_datetime(ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

pub fn run(args: FetchArgs) -> Result<i32> {
    let since = args.created_since.as_deref().map(instant).transpose()?;
    let until = args.created_until.as_deref().map(instant).transpose()?;
    if args.admin {
        let client = args
            .limits
            .client("ANTHROPIC_ADMIN_KEY", args.base_url.as_deref())?;
        let since = since.ok_or_else(|| {
            crate::error::Error::new("--admin needs --created-since (the report's starting_at)")
        })?;
        let files = fetch_admin_reports(&client, &since, until.as_deref(), &args.out)
            .map_err(|e| client.redact_error(e))?;
        crate::say!(
            "wrote {} cost report page(s) to {}",
            files.len(),
            args.out.display()
        );
        return Ok(0);
    }
    for s in &args.statuses {
        if !["idle", "running", "rescheduling", "terminated"].contains(&s.as_str()) {
            return Err(crate::error::Error::new(format!(
                "--status {s:?}: expected idle, running, rescheduling or terminated"
            )));
        }
    }
    let client = args
        .limits
        .client("ANTHROPIC_API_KEY", args.base_url.as_deref())?;
    let opts = FetchOptions {
        sessions: args.sessions,
        created_since: since,
        created_until: until,
        agent: args.agent,
        statuses: args.statuses,
        skip_archived: args.no_archived,
        out: args.out.clone(),
        concurrency: args.concurrency.into(),
        progress: crate::terminal::progress(),
    };
    // Whatever the server sent may echo the key: every message is redacted.
    let s = fetch(&client, &opts).map_err(|e| client.redact_error(e))?;
    if s.not_objects > 0 {
        crate::say!(
            "note: {} item(s) of the API's pages were not JSON objects and were left out",
            s.not_objects
        );
    }
    crate::say!(
        "{} session(s) fetched ({} events), {} unchanged, in {}",
        s.fetched,
        s.events,
        s.unchanged,
        args.out.display()
    );
    Ok(0)
}
