//! Report: what the exporters show, built from rated sessions. Grouping by day, model or
//! agent aggregates the rated line items with polars.

pub mod chart;
pub mod document;
pub mod group;

use crate::error::Skipped;
use crate::pricing::PriceTable;
use crate::rate::{RatedSession, Totals};

pub use group::{GroupBy, GroupRow};

/// Everything `meter` reports.
#[derive(Clone)]
pub struct MeterReport<'a> {
    pub table: &'a PriceTable,
    pub sessions: &'a [RatedSession],
    pub totals: Totals,
    /// Rows when grouping by day, model or agent.
    pub groups: Option<(GroupBy, Vec<GroupRow>)>,
    pub skipped: &'a [Skipped],
    pub queued_events: u64,
    pub duplicate_events: u64,
    pub stream_errors: &'a [String],
}
