//! Parquet frames of rated usage: the line items, the sessions, and FOCUS rows, each a
//! [`Frame`] the caller writes where it wants (the binary, through its `Output`). Columns
//! come from `columns.rs`, so every file of a kind has one schema.

use std::io::Write;

use polars::prelude::*;
use rust_decimal::Decimal;

use chrono::NaiveDate;

use crate::category::Category;
use crate::contract::{Billing, Contract, ItemTerms};
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

/// A row of `line_items.parquet`: a rated line item with its session (under a contract, with
/// its terms), or under a contract a month's commitment shortfall or credit used, as the
/// FOCUS export has it (`focus::contract_rows`).
pub enum Line<'a> {
    Item(&'a RatedSession, &'a LineItem, Option<&'a ItemTerms>),
    Term(Box<FocusRow>),
}

impl Line<'_> {
    /// The row's day: the item's (in the zone it was rated in), a contract row's month's last
    /// (UTC) day.
    pub fn day(&self) -> NaiveDate {
        match self {
            Line::Item(_, i, _) => i.day,
            Line::Term(r) => r.day,
        }
    }
}

/// Every line item of the sessions, in session order; under a contract each with its terms,
/// then each month's shortfall and credits used.
pub fn lines<'a>(sessions: &'a [RatedSession], billing: Option<&'a Billing>) -> Vec<Line<'a>> {
    let mut out: Vec<Line> = (sessions.iter().enumerate())
        .flat_map(|(k, s)| {
            s.items
                .iter()
                .enumerate()
                .map(move |(j, i)| Line::Item(s, i, billing.map(|b| &b.sessions[k].items[j])))
        })
        .collect();
    if let Some(b) = billing {
        out.extend(
            focus::contract_rows(b)
                .into_iter()
                .map(|r| Line::Term(Box::new(r))),
        );
    }
    out
}

/// The line items, one row each (`export --format parquet`, `line_items.parquet`). Under a
/// contract (whose terms the lines carry) the file has the FOCUS amounts too, after the
/// others: `list_cost`, `contracted_rate`, `contracted_cost`, `effective_cost`,
/// `billed_cost`, `contract_version`, `contract_row`, and the months' shortfall and credit
/// rows (no session, quantity, unit, rate or list `amount`; `category` `commitment_shortfall`
/// or `credit`), so `billed_cost` sums to what is billed, as the FOCUS export's BilledCost.
pub fn line_items(
    lines: &[Line],
    table: &PriceTable,
    contract: Option<&Contract>,
) -> Result<Frame> {
    let dec = |name: &str, v: Vec<Option<Decimal>>| columns::parquet_decimal(name, v);
    let ts = |name: &str, v: Vec<i64>| columns::utc_millis(name, v);
    // A column of a value per line item and one per contract row.
    fn each<'l, T>(
        lines: &'l [Line],
        item: impl Fn(&'l RatedSession, &'l LineItem, Option<&'l ItemTerms>) -> T,
        term: impl Fn(&'l FocusRow) -> T,
    ) -> Vec<T> {
        lines
            .iter()
            .map(|l| match l {
                Line::Item(s, i, t) => item(s, i, *t),
                Line::Term(r) => term(r),
            })
            .collect()
    }
    let text = |name: &str, v: Vec<Option<String>>| Column::new(name.into(), v);
    let mut cols = vec![
        text(
            "session_id",
            each(
                lines,
                |s, _, _| Some(s.usage.session_id.to_string()),
                |_| None,
            ),
        ),
        Column::new(
            "category".into(),
            each(lines, |_, i, _| i.category.key(), |r| r.category),
        ),
        text(
            "model",
            each(
                lines,
                |_, i, _| i.model.as_deref().map(str::to_string),
                |_| None,
            ),
        ),
        text(
            "agent",
            each(
                lines,
                |_, i, _| i.agent.as_deref().map(str::to_string),
                |_| None,
            ),
        ),
        Column::new(
            "day".into(),
            lines
                .iter()
                .map(|l| l.day().to_string())
                .collect::<Vec<_>>(),
        ),
        ts("start", each(lines, |_, i, _| i.start, |r| r.charge_start)),
        ts("end", each(lines, |_, i, _| i.end, |r| r.charge_end)),
        columns::optional_counts(
            "quantity",
            each(lines, |_, i, _| Some(i.quantity), |_| None),
        )?,
        text(
            "unit",
            each(
                lines,
                |_, i, _| Some(i.category.unit().key().to_string()),
                |_| None,
            ),
        ),
        dec("rate", each(lines, |_, i, _| Some(i.rate), |_| None))?,
        dec("amount", each(lines, |_, i, _| Some(i.amount), |_| None))?,
        text(
            "price_effective",
            each(
                lines,
                |_, i, _| Some(format_ms(i.price_effective)),
                |_| None,
            ),
        ),
        Column::new(
            "pricing_version".into(),
            vec![table.version.clone(); lines.len()],
        ),
    ];
    if let Some(c) = contract {
        let cost = |i: &LineItem, t: Option<&ItemTerms>| match t {
            Some(t) => focus::item_cost(i, c, t),
            None => focus::ItemCost {
                contracted: i.amount,
                unit_price: i.rate,
                row: None,
            },
        };
        let paid = each(
            lines,
            |_, i, t| Some(cost(i, t).contracted),
            |r| Some(r.billed_cost),
        );
        cols.extend([
            dec(
                "list_cost",
                each(lines, |_, i, _| Some(i.amount), |r| Some(r.list_cost)),
            )?,
            dec(
                "contracted_rate",
                each(lines, |_, i, t| Some(cost(i, t).unit_price), |_| None),
            )?,
            dec(
                "contracted_cost",
                each(
                    lines,
                    |_, i, t| Some(cost(i, t).contracted),
                    |r| Some(r.contracted_cost),
                ),
            )?,
            dec("effective_cost", paid.clone())?,
            dec("billed_cost", paid)?,
            text(
                "contract_version",
                vec![Some(c.version.clone()); lines.len()],
            ),
            text(
                "contract_row",
                each(lines, |_, i, t| cost(i, t).row, |r| r.contract_row.clone()),
            ),
        ]);
    }
    DataFrame::new_infer_height(cols)
        .map(Frame)
        .map_err(|e| Error::new(e.to_string()))
}

/// The sessions (usage and cost) of a run, one row each; under a contract, with the
/// `contracted_cost` of each (its line items less the discounts).
pub fn sessions(sessions: &[RatedSession], billing: Option<&Billing>) -> Result<Frame> {
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
    if let Some(b) = billing {
        cols.push(columns::parquet_decimal(
            "contracted_cost",
            b.sessions.iter().map(|t| Some(t.cost.total())),
        )?);
    }
    DataFrame::new_infer_height(cols)
        .map(Frame)
        .map_err(|e| Error::new(e.to_string()))
}
