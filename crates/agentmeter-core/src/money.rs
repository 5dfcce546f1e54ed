//! How amounts are shown. Computation is exact everywhere; rounding happens only here, where a
//! report shows cents.

use rust_decimal::{Decimal, RoundingStrategy};

/// An exact amount as a decimal string without trailing zeros: "0.705", "0".
pub fn exact(d: Decimal) -> String {
    let n = d.normalize();
    if n.is_zero() {
        "0".into()
    } else {
        n.to_string()
    }
}

/// An amount to the cent (half away from zero, as invoices round): "0.71".
pub fn cents(d: Decimal) -> String {
    format!(
        "{:.2}",
        d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
    )
}

/// An amount to the cent with a dollar sign and thousands separators: "$0.71", "-$1,234.50".
pub fn usd(d: Decimal) -> String {
    let c = cents(d);
    let (sign, abs) = match c.strip_prefix('-') {
        Some(abs) => ("-", abs),
        None => ("", c.as_str()),
    };
    let (whole, frac) = abs.split_once('.').unwrap_or((abs, "00"));
    let whole = count(whole.parse::<u64>().unwrap_or(0));
    format!("{sign}${whole}.{frac}")
}

/// Milliseconds as h:mm:ss.mmm.
pub fn duration(ms: i64) -> String {
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, milli) = (rest / 1000, rest % 1000);
    format!("{h}:{m:02}:{s:02}.{milli:03}")
}

/// An integer with thousands separators: 1,234,567.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn shows_cents_and_exact_strings() {
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(usd(d("0.705")), "$0.71");
        assert_eq!(usd(d("0.525")), "$0.53");
        assert_eq!(usd(d("-1.2")), "-$1.20");
        assert_eq!(usd(d("13599.305")), "$13,599.31");
        assert_eq!(exact(d("0.0800")), "0.08");
        assert_eq!(exact(d("0.000")), "0");
        assert_eq!(duration(2_396_205), "0:39:56.205");
        assert_eq!(count(1234567), "1,234,567");
    }
}
