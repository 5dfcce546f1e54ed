//! `agentmeter watch SESSION`: a live status line for a running session.

use std::path::PathBuf;

use clap::Args;

use crate::error::Result;
use crate::fetch::watch::{final_line, watch, WatchOptions};
use crate::pricing::PriceTable;

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
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    #[command(flatten)]
    pub limits: super::fetch::LimitArgs,
    #[arg(long, value_name = "FILE")]
    pub pricing: Option<PathBuf>,
}

pub fn run(args: WatchArgs) -> Result<i32> {
    let table = PriceTable::load_or_bundled(args.pricing.as_deref())?;
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
    };
    // Whatever the server sent may echo the key: every message is redacted.
    let (last, left_out) = watch(&client, &table, &opts).map_err(|e| client.redact_error(e))?;
    if left_out > 0 {
        crate::say!(
            "note: {left_out} item(s) of the API's pages or stream were not events (not JSON objects, or without an id) and were left out"
        );
    }
    if let Some(s) = last {
        crate::put!("{}", final_line(&s));
    }
    Ok(0)
}
