//! The Managed Agents API: the HTTP client (retries, redirects, redaction), `fetch` (exports
//! with content stripped), `watch` (live SSE) and notifications. The only crate that knows HTTP.
#![forbid(unsafe_code)]

// The modules this crate builds on, under their own names, so paths read the same in every
// crate.
use agentmeter_core::{error, money, progress, say, schema, time};
use agentmeter_ingest::ingest;
use agentmeter_meter::meter;
use agentmeter_pricing::{pricing, rate};

pub mod fetch;
