//! Typed polars columns from exact values: the one place money becomes a Parquet/polars column.

use polars::prelude::*;
use rust_decimal::Decimal;

use crate::error::{Error, Result};

/// A Decimal(38, s) column, `s` the largest scale among the values, so every value is exact.
pub fn decimal(name: &str, values: impl IntoIterator<Item = Option<Decimal>>) -> Result<Column> {
    let values: Vec<Option<Decimal>> = values.into_iter().collect();
    let scale = values
        .iter()
        .flatten()
        .map(Decimal::scale)
        .max()
        .unwrap_or(0);
    let mantissas = values.into_iter().map(|d| {
        d.map(|mut d| {
            d.rescale(scale);
            d.mantissa()
        })
    });
    Ok(Int128Chunked::from_iter_options(name.into(), mantissas)
        .into_decimal(38, scale as usize)
        .map_err(|e| Error::new(format!("column {name}: {e}")))?
        .into_series()
        .into_column())
}

/// Millisecond timestamps in UTC.
pub fn utc_millis(name: &str, values: impl IntoIterator<Item = i64>) -> Column {
    Int64Chunked::from_iter_values(name.into(), values.into_iter())
        .into_datetime(TimeUnit::Milliseconds, Some(polars::prelude::TimeZone::UTC))
        .into_series()
        .into_column()
}

/// The exact values of a Decimal column.
pub fn decimals(c: &Column) -> Result<Vec<Option<Decimal>>> {
    let DataType::Decimal(_, scale) = c.dtype().clone() else {
        return Err(Error::new(format!("column {} is not a decimal", c.name())));
    };
    let p = c
        .decimal()
        .map_err(|e| Error::new(e.to_string()))?
        .physical();
    Ok((0..p.len())
        .map(|i| {
            p.get(i)
                .map(|m| Decimal::from_i128_with_scale(m, scale as u32))
        })
        .collect())
}
