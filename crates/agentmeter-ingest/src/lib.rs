//! Mediation: files, directories and streams (plain, .gz, .zst; NDJSON, events pages, SSE,
//! Claude Code transcripts) to billable records, in input order. The only crate with `unsafe`
//! (the SIMD skimmer and `pread`).

// The core modules under their own names, so paths read the same in every crate.
use agentmeter_core::{error, time, usage};

pub mod ingest;
