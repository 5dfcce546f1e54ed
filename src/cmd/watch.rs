//! `agentmeter watch SESSION`: a live status line for a running session.

use std::path::PathBuf;

use clap::Args;

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::compare::gate::parse_usd;
use crate::error::{Error, Result};
use crate::fetch::watch::{final_line, watch, BudgetAlert, WatchOptions, Watched};

#[derive(Args, Debug)]
#[command(
    after_help = "Example:\n  ANTHROPIC_API_KEY=... agentmeter watch sesn_01 --out runs/sesn_01.ndjson"
)]
pub struct WatchArgs {
    /// The session to follow.
    pub session: String,
    #[command(flatten)]
    pub geo: super::GeoArgs,
    /// Keep the export here (it is metered exactly like `meter` would).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Stop when the session goes idle (default: when it terminates).
    #[arg(long)]
    pub until_idle: bool,
    /// Give up after this many dropped connections in a row.
    #[arg(long, default_value_t = 20)]
    pub max_reconnects: u32,
    /// API base URL (for proxies and tests); default: https://api.anthropic.com.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    #[command(flatten)]
    pub limits: super::fetch::LimitArgs,
    #[command(flatten)]
    pub pricing: super::PricingArg,
    /// Warn, and exit 1 at the end, once the session's cost crosses this share of its budget
    /// (`budget.max_list_cost`) or, for a session without one, of --max-usd.
    #[arg(long, value_name = "PCT")]
    pub budget_alert: Option<String>,
    /// The amount --budget-alert compares with when the session states no budget.
    #[arg(long, value_name = "USD", requires = "budget_alert")]
    pub max_usd: Option<String>,
    /// When the budget alert fires, POST a JSON message here (Slack-compatible `text`, the
    /// figures under `agentmeter`); only its scheme and host are ever shown.
    #[arg(long, value_name = "URL")]
    pub notify: Option<String>,
}

/// "80%" (or "80") as a percentage, above 0 and at most 1,000.
fn percent(s: &str) -> Result<Decimal> {
    let v = Decimal::from_str(s.trim().trim_end_matches('%').trim()).ok();
    v.filter(|p| *p > Decimal::ZERO && *p <= Decimal::from(1000))
        .ok_or_else(|| {
            Error::new(format!(
                "--budget-alert {s:?} is not a percentage above 0 and at most 1000%"
            ))
            .with_hint("e.g. --budget-alert 80%")
        })
}

pub fn run(args: WatchArgs) -> Result<i32> {
    let notify = crate::fetch::notify::Notify::new(args.notify.as_deref())?;
    let alert = match &args.budget_alert {
        Some(p) => Some(BudgetAlert {
            pct: percent(p)?,
            max_usd: (args.max_usd.as_deref())
                .map(|m| parse_usd("--max-usd", m))
                .transpose()?,
        }),
        None => None,
    };
    let table = args.pricing.load()?;
    let client = args
        .limits
        .client("ANTHROPIC_API_KEY", args.base_url.as_deref())?;
    let opts = WatchOptions {
        session: args.session,
        out: args.out,
        until_idle: args.until_idle,
        max_reconnects: args.max_reconnects,
        meter: crate::meter::MeterOptions {
            default_inference_geo: args.geo.default_inference_geo,
            ..Default::default()
        },
        alert,
        notify,
    };
    // Whatever the server sent may echo the key: every message is redacted.
    let Watched {
        last,
        left_out,
        bad_frames,
        alert,
    } = watch(&client, &table, &opts).map_err(|e| client.redact_error(e))?;
    if left_out > 0 {
        crate::say!(
            "note: {left_out} item(s) of the API's pages or stream were not events (not JSON objects, or without an id) and were left out"
        );
    }
    if bad_frames > 0 {
        crate::say!(
            "note: {bad_frames} frame(s) of the stream could not be read (see the warnings); they were left out and the events list was read again"
        );
    }
    if let Some(s) = last {
        crate::put!("{}", final_line(&s));
    }
    Ok(if alert.is_some() { 1 } else { 0 })
}
