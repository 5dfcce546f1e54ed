//! Report: what the exporters show, built from rated sessions. Grouping by day, model or
//! agent aggregates the rated line items with polars.

pub mod chart;
pub mod document;
pub mod group;

use crate::error::Skips;
use crate::meter::MeterSummary;
use crate::pricing::PriceTable;
use crate::rate::{RatedSession, Totals};

pub use group::{GroupBy, GroupRow};

/// Everything `meter` reports.
#[derive(Clone)]
pub struct MeterReport<'a> {
    pub table: &'a PriceTable,
    pub sessions: &'a [RatedSession],
    pub totals: Totals,
    /// Rows when grouping (by one key or several).
    pub groups: Option<(Vec<GroupBy>, Vec<GroupRow>)>,
    /// Records not metered or priced: the first few kept, all counted.
    pub skipped: &'a Skips,
    /// What the meter counted besides sessions (queued events, stream errors, dropped
    /// transcript lines, unselected sessions).
    pub summary: &'a MeterSummary,
    pub duplicate_events: u64,
    /// What the sessions cost under `--contract` (list amounts stay in `sessions`).
    pub billing: Option<&'a crate::contract::Billing<'a>>,
    /// Token counts beside the amounts in tables (`--tokens`).
    pub show_tokens: bool,
}

impl<'a> MeterReport<'a> {
    pub fn new(
        table: &'a PriceTable,
        sessions: &'a [RatedSession],
        summary: &'a MeterSummary,
        skipped: &'a Skips,
    ) -> Self {
        MeterReport {
            table,
            totals: Totals::of(sessions),
            sessions,
            groups: None,
            skipped,
            summary,
            duplicate_events: sessions.iter().map(|s| s.usage.duplicate_events).sum(),
            billing: None,
            show_tokens: false,
        }
    }
}
