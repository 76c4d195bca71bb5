//! Time. Stored as milliseconds since the Unix epoch; shown in the
//! deployment's zone, Asia/Shanghai.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

pub const ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// Where "now" comes from, so that tests can move time forward.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now_ms(&self) -> i64;
}

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// RFC 3339 with the +08:00 offset, as the API answers.
pub fn rfc3339(ms: i64) -> String {
    to_local(ms).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

pub fn to_local(ms: i64) -> DateTime<FixedOffset> {
    let utc = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    utc.with_timezone(&ZONE).fixed_offset()
}

/// The first moment of a local day.
pub fn start_of_day(d: chrono::NaiveDate) -> i64 {
    let t = d.and_time(chrono::NaiveTime::MIN);
    t.and_local_timezone(ZONE).earliest().map_or(0, |t| t.timestamp_millis())
}

/// The year of a moment, in Beijing time.
pub fn year_of(ms: i64) -> i64 {
    i64::from(chrono::Datelike::year(&to_local(ms)))
}

/// For pages: `2026-11-29 21:47`.
pub fn display(ms: i64) -> String {
    to_local(ms).format("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_offset() {
        assert_eq!(rfc3339(0), "1970-01-01T08:00:00+08:00");
        assert_eq!(display(0), "1970-01-01 08:00");
        // 2026-12-31 16:30 UTC is already 2027 in Beijing
        assert_eq!(year_of(1_798_734_600_000), 2027);
        assert_eq!(year_of(1_798_734_600_000 - DAY_MS), 2026);
    }
}
