//! Typed polars columns from exact values: the one place money becomes a Parquet/polars column.

use polars::prelude::*;
use rust_decimal::Decimal;

use crate::error::{Error, Result};

/// The scale of every amount (cost, rate, price) in the Parquet files we write. One fixed
/// Decimal(38, 12) type means every partition and shard has the same schema, so engines read
/// an export whole; 12 places hold every amount the rater makes (runtime is rounded to 9,
/// per-token charges of the bundled rates need at most 9).
pub const PARQUET_SCALE: u32 = 12;

/// A Decimal(38, s) column, `s` the largest scale among the values, so every value is exact
/// (for in-memory grouping, whose sums keep the scale of their inputs).
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
    decimal_column(name, mantissas, scale)
}

/// A Decimal(38, [`PARQUET_SCALE`]) column for Parquet. A value that needs more places, or
/// more than 38 digits, is an error: it is never rounded.
pub fn parquet_decimal(
    name: &str,
    values: impl IntoIterator<Item = Option<Decimal>>,
) -> Result<Column> {
    let limit = 10i128.pow(38);
    let mantissas = values
        .into_iter()
        .map(|d| {
            let Some(d) = d else { return Ok(None) };
            // Trailing zeros do not count: 1.50000000000000 is exact at any scale from 1.
            let n = d.normalize();
            (n.scale() <= PARQUET_SCALE)
                .then(|| {
                    n.mantissa()
                        .checked_mul(10i128.pow(PARQUET_SCALE - n.scale()))
                })
                .flatten()
                .filter(|m| m.abs() < limit)
                .map(Some)
                .ok_or_else(|| {
                    Error::new(format!(
                        "column {name}: {d} does not fit Decimal(38, {PARQUET_SCALE}) exactly"
                    ))
                    .with_hint(format!(
                        "a price with more than {PARQUET_SCALE} decimal places per unit cannot be \
                         written to Parquet without rounding; `--format focus-csv` and \
                         `meter --format json` keep every place"
                    ))
                })
        })
        .collect::<Result<Vec<_>>>()?;
    decimal_column(name, mantissas, PARQUET_SCALE)
}

fn decimal_column(
    name: &str,
    mantissas: impl IntoIterator<Item = Option<i128>>,
    scale: u32,
) -> Result<Column> {
    Ok(
        Int128Chunked::from_iter_options(name.into(), mantissas.into_iter())
            .into_decimal(38, scale as usize)
            .map_err(|e| Error::new(format!("column {name}: {e}")))?
            .into_series()
            .into_column(),
    )
}

/// An Int64 column of counts (tokens, requests, milliseconds): the one integer type of our
/// Parquet files (engines without unsigned types, Spark and BigQuery among them, read it
/// as is). A count past i64 is an error, never wrapped.
pub fn counts<T: Copy + TryInto<i64> + std::fmt::Display>(
    name: &str,
    values: impl IntoIterator<Item = T>,
) -> Result<Column> {
    let values = values
        .into_iter()
        .map(|v| {
            v.try_into()
                .map_err(|_| Error::new(format!("column {name}: {v} is past the Int64 of Parquet")))
        })
        .collect::<Result<Vec<i64>>>()?;
    Ok(Column::new(name.into(), values))
}

/// [`counts`] with nulls (a row that has no such count).
pub fn optional_counts<T: Copy + TryInto<i64> + std::fmt::Display>(
    name: &str,
    values: impl IntoIterator<Item = Option<T>>,
) -> Result<Column> {
    let values = values
        .into_iter()
        .map(|v| {
            v.map(|v| {
                v.try_into().map_err(|_| {
                    Error::new(format!("column {name}: {v} is past the Int64 of Parquet"))
                })
            })
            .transpose()
        })
        .collect::<Result<Vec<Option<i64>>>>()?;
    Ok(Column::new(name.into(), values))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn parquet_decimals_have_one_scale_and_never_round() {
        // 0.053249 (scale 6) and 3.75 (scale 2) both become Decimal(38, 12): mantissas
        // 53249 x 10^6 and 375 x 10^10. 1.5 with 13 trailing zeros (scale 14) is 1.5.
        let c = parquet_decimal(
            "x",
            [dec("0.053249"), dec("3.75"), dec("1.50000000000000")].map(Some),
        )
        .unwrap();
        assert_eq!(c.dtype(), &DataType::Decimal(38, 12));
        let p = c.decimal().unwrap().physical().clone();
        assert_eq!(p.get(0), Some(53_249_000_000));
        assert_eq!(p.get(1), Some(3_750_000_000_000));
        assert_eq!(p.get(2), Some(1_500_000_000_000));
        // One place too many (13) would have to round: an error, not 0.000000000000.
        let e = parquet_decimal("BilledCost", [Some(dec("0.0000000000001"))]).unwrap_err();
        assert!(e.message.contains("BilledCost"), "{}", e.message);
        // 10^27 at scale 12 is 40 digits: past Decimal(38, _).
        assert!(parquet_decimal("x", [Some(dec("1000000000000000000000000000"))]).is_err());
        // An empty or all-null column has the same type.
        assert_eq!(
            parquet_decimal("x", [None]).unwrap().dtype(),
            &DataType::Decimal(38, 12)
        );
    }

    #[test]
    fn counts_are_int64_and_refuse_to_wrap() {
        let c = counts("n", [0u64, 5_000_000_000]).unwrap();
        assert_eq!(c.dtype(), &DataType::Int64);
        assert!(counts("n", [u64::MAX]).is_err());
    }
}
