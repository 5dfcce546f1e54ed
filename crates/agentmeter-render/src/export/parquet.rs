//! Parquet frames of rated usage: the line items, the sessions, and FOCUS rows, each a
//! [`Frame`] the caller writes where it wants (the binary, through its `Output`). Columns
//! come from `columns.rs`, so every file of a kind has one schema.

use std::io::Write;

use polars::prelude::*;
use rust_decimal::Decimal;

use crate::category::Category;
use crate::error::{Error, Result};
use crate::export::columns;
use crate::export::focus::{self, Account, FocusRow};
use crate::pricing::PriceTable;
use crate::rate::{LineItem, RatedSession};
use crate::time::format_ms;

/// A table ready to be written as one Parquet file.
pub struct Frame(DataFrame);

impl Frame {
    /// Write it as Parquet.
    pub fn write_to(&mut self, w: impl Write) -> std::io::Result<()> {
        ParquetWriter::new(w)
            .finish(&mut self.0)
            .map(|_| ())
            .map_err(std::io::Error::other)
    }
}

/// FOCUS rows as a typed frame (`export --format focus-parquet`).
pub fn focus(rows: &[FocusRow], table: &PriceTable, account: &Account) -> Result<Frame> {
    focus::frame(rows, table, account).map(Frame)
}

/// A line item with its session.
pub type Item<'a> = (&'a RatedSession, &'a LineItem);

/// Every line item of the sessions, in session order.
pub fn items(sessions: &[RatedSession]) -> Vec<Item<'_>> {
    sessions
        .iter()
        .flat_map(|s| s.items.iter().map(move |i| (s, i)))
        .collect()
}

/// The rated line items, one row each (`export --format parquet`, `line_items.parquet`).
pub fn line_items(items: &[Item], table: &PriceTable) -> Result<Frame> {
    let dec = |name: &str, v: Vec<Decimal>| columns::parquet_decimal(name, v.into_iter().map(Some));
    let ts = |name: &str, v: Vec<i64>| columns::utc_millis(name, v);
    let cols = vec![
        Column::new(
            "session_id".into(),
            items
                .iter()
                .map(|(s, _)| s.usage.session_id.to_string())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "category".into(),
            items
                .iter()
                .map(|(_, i)| i.category.key())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "model".into(),
            items
                .iter()
                .map(|(_, i)| i.model.as_deref().map(str::to_string))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "agent".into(),
            items
                .iter()
                .map(|(_, i)| i.agent.as_deref().map(str::to_string))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "day".into(),
            items
                .iter()
                .map(|(_, i)| i.day.to_string())
                .collect::<Vec<_>>(),
        ),
        ts("start", items.iter().map(|(_, i)| i.start).collect()),
        ts("end", items.iter().map(|(_, i)| i.end).collect()),
        columns::counts("quantity", items.iter().map(|(_, i)| i.quantity))?,
        Column::new(
            "unit".into(),
            items
                .iter()
                .map(|(_, i)| i.category.unit().key())
                .collect::<Vec<_>>(),
        ),
        dec("rate", items.iter().map(|(_, i)| i.rate).collect())?,
        dec("amount", items.iter().map(|(_, i)| i.amount).collect())?,
        Column::new(
            "price_effective".into(),
            items
                .iter()
                .map(|(_, i)| format_ms(i.price_effective))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "pricing_version".into(),
            vec![table.version.clone(); items.len()],
        ),
    ];
    DataFrame::new_infer_height(cols)
        .map(Frame)
        .map_err(|e| Error::new(e.to_string()))
}

/// The sessions (usage and cost) of a run, one row each.
pub fn sessions(sessions: &[RatedSession]) -> Result<Frame> {
    let quantities: Vec<_> = sessions
        .iter()
        .map(|s| s.quantities.by_category())
        .collect();
    let mut cols = vec![
        Column::new(
            "session_id".into(),
            sessions
                .iter()
                .map(|s| s.usage.session_id.to_string())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "agent".into(),
            sessions
                .iter()
                .map(|s| s.usage.agent.as_deref().map(str::to_string))
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "model".into(),
            sessions
                .iter()
                .map(|s| s.usage.model.as_deref().map(str::to_string))
                .collect::<Vec<_>>(),
        ),
    ];
    // Each category's quantity, and the request count (not a charge) after the running time.
    for c in Category::ALL {
        let key = c.row().quantity_key;
        cols.push(columns::counts(key, quantities.iter().map(|q| q[c]))?);
        if c == Category::Runtime {
            let requests = sessions.iter().map(|s| s.quantities.requests);
            cols.push(columns::counts("requests", requests)?);
        }
    }
    cols.push(columns::parquet_decimal(
        "cost",
        sessions.iter().map(|s| Some(s.cost.total())),
    )?);
    DataFrame::new_infer_height(cols)
        .map(Frame)
        .map_err(|e| Error::new(e.to_string()))
}
