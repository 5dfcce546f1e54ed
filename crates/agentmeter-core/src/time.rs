//! Timestamps as integer milliseconds since the Unix epoch (UTC).
//!
//! The API writes RFC 3339 with a zone (`2026-04-07T04:11:32.189Z`). Parsing is on the hot
//! path of every event, so the common shape is parsed by hand; digits past the millisecond
//! are truncated (the bill is metered to the millisecond).

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};

pub type Millis = i64;

const MS_PER_DAY: i64 = 86_400_000;

/// Parse an RFC 3339 timestamp that carries a zone (`Z` or `±HH:MM`).
pub fn parse_rfc3339_ms(s: &str) -> Result<Millis, String> {
    let b = s.as_bytes();
    let bad = || format!("bad timestamp {s:?} (expected RFC 3339, e.g. 2026-05-01T10:00:00.000Z)");
    if b.len() < 19 {
        return Err(bad());
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let mut v = 0i64;
        for &c in b.get(from..from + len)? {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + (c - b'0') as i64;
        }
        Some(v)
    };
    let seps_ok = b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':';
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(sec)) = (
        num(0, 4),
        num(5, 2),
        num(8, 2),
        num(11, 2),
        num(14, 2),
        num(17, 2),
    ) else {
        return Err(bad());
    };
    if !seps_ok
        || !(1..=12).contains(&mo)
        || d < 1
        || d > days_in_month(y, mo)
        || h > 23
        || mi > 59
        || sec > 60
    {
        return Err(bad());
    }
    let mut i = 19;
    let mut ms = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                ms = ms * 10 + (b[i] - b'0') as i64;
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return Err(bad());
        }
        for _ in digits..3 {
            ms *= 10;
        }
    }
    let offset_min = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let (Some(oh), Some(om)) = (num(i + 1, 2), num(i + 4, 2)) else {
                return Err(bad());
            };
            if oh > 23 || om > 59 {
                return Err(bad());
            }
            let m = oh * 60 + om;
            if sign == b'+' {
                m
            } else {
                -m
            }
        }
        None => {
            return Err(format!(
                "timestamp {s:?} has no time zone (expected a Z or ±HH:MM suffix)"
            ))
        }
        _ => return Err(bad()),
    };
    // A leap second (:60) is folded onto the next second, as chrono does.
    let days = days_from_civil(y, mo, d);
    Ok(days * MS_PER_DAY + ((h * 60 + mi) * 60 + sec) * 1000 + ms - offset_min * 60_000)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn to_datetime(ms: Millis) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// `2026-05-01T10:00:00.000Z`: the shape the API writes.
pub fn format_ms(ms: Millis) -> String {
    to_datetime(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A date (`2026-05-01`) or a full RFC 3339 timestamp, as given on the command line.
pub fn parse_date_or_timestamp(s: &str) -> Result<Millis, String> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis())
            .unwrap_or_default());
    }
    parse_rfc3339_ms(s)
        .map_err(|_| format!("{s:?} is neither a date (2026-05-01) nor an RFC 3339 timestamp"))
}

/// A calendar date as ccusage users write it (`20260501`) or as ISO 8601 (`2026-05-01`).
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y%m%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y-%m-%d"))
        .map_err(|_| format!("{s:?} is not a date (expected YYYYMMDD or YYYY-MM-DD)"))
}

/// A time zone for day buckets: an IANA name (`Europe/Paris`) or `UTC`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Zone(pub chrono_tz::Tz);

impl Default for Zone {
    fn default() -> Self {
        Zone(chrono_tz::UTC)
    }
}

impl std::str::FromStr for Zone {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.parse::<chrono_tz::Tz>().map(Zone).map_err(|_| {
            format!("unknown time zone {s:?} (use an IANA name such as UTC or Europe/Paris)")
        })
    }
}

impl Zone {
    /// The local calendar date of an instant.
    pub fn date_of(&self, ms: Millis) -> NaiveDate {
        to_datetime(ms).with_timezone(&self.0).date_naive()
    }

    /// The first instant of a local date.
    pub fn start_of(&self, date: NaiveDate) -> Option<Millis> {
        let prev = date.pred_opt()?.and_hms_opt(12, 0, 0)?;
        let noon = self
            .0
            .from_local_datetime(&prev)
            .earliest()?
            .timestamp_millis();
        Some(self.next_midnight(noon))
    }

    /// The first instant strictly after `ms` at which the local date changes.
    pub fn next_midnight(&self, ms: Millis) -> Millis {
        let next = self.date_of(ms).succ_opt().unwrap_or(NaiveDate::MAX);
        let midnight = next.and_hms_opt(0, 0, 0).unwrap_or_default();
        // A zone may skip midnight (DST); the earliest valid local instant of the day then wins.
        match self.0.from_local_datetime(&midnight).earliest() {
            Some(t) => t.timestamp_millis(),
            None => {
                let mut probe = midnight;
                loop {
                    probe += chrono::Duration::minutes(15);
                    if let Some(t) = self.0.from_local_datetime(&probe).earliest() {
                        break t.timestamp_millis();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_api_shape() {
        // 2026-04-07T04:11:32.189Z, checked against chrono.
        let want = DateTime::parse_from_rfc3339("2026-04-07T04:11:32.189Z")
            .unwrap()
            .timestamp_millis();
        assert_eq!(parse_rfc3339_ms("2026-04-07T04:11:32.189Z").unwrap(), want);
    }

    #[test]
    fn agrees_with_chrono_on_offsets_and_fractions() {
        for s in [
            "2026-02-28T23:59:59Z",
            "2024-02-29T12:00:00.5+02:00",
            "2026-12-31T23:59:59.999999-05:30",
            "1969-12-31T23:59:59.001Z",
            "2000-03-01T00:00:00.120Z",
        ] {
            let want = DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
            assert_eq!(parse_rfc3339_ms(s).unwrap(), want, "{s}");
        }
    }

    #[test]
    fn truncates_below_the_millisecond() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00.0019Z").unwrap(), 1);
    }

    #[test]
    fn rejects_bad_and_zoneless_timestamps() {
        assert!(parse_rfc3339_ms("2026-04-07T04:11:32")
            .unwrap_err()
            .contains("no time zone"));
        for s in [
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "yesterday",
            "2026-04-07T04:11:32.Z",
            "2026-04-07T04:11:32+0200",
        ] {
            assert!(parse_rfc3339_ms(s).is_err(), "{s}");
        }
    }

    #[test]
    fn next_midnight_in_a_zone() {
        let z: Zone = "Europe/Paris".parse().unwrap();
        // 2026-06-10T21:30Z is 23:30 in Paris (UTC+2); the next local midnight is 22:00Z.
        let t = parse_rfc3339_ms("2026-06-10T21:30:00Z").unwrap();
        assert_eq!(
            z.next_midnight(t),
            parse_rfc3339_ms("2026-06-10T22:00:00Z").unwrap()
        );
        assert_eq!(
            Zone::default().next_midnight(t),
            parse_rfc3339_ms("2026-06-11T00:00:00Z").unwrap()
        );
    }
}
