//! A person's rights over what is held about them (PIPL art. 44–47): a
//! correction or an erasure asked for, and how long the data of people who
//! left is kept before it is erased.

use chrono::{Datelike, NaiveDate};

crate::labelled! {
    stored in "record_requests.kind";
    /// What a person asks about their record.
    pub enum RequestKind {
        Correction = ("correction", "更正信息", "Correction"),
        Erasure = ("erasure", "删除信息", "Erasure"),
    }
}

crate::labelled! {
    stored in "record_requests.state";
    pub enum RequestState {
        Waiting = ("waiting", "待处理", "Waiting"),
        Done = ("done", "已办理", "Done"),
        Refused = ("refused", "不予办理", "Refused"),
    }
}

/// A text a person writes (what to correct, the evidence, the answer):
/// within `min..=max` characters, line breaks allowed, no other control
/// characters.
pub fn request_text(field: &str, s: &str, min: usize, max: usize) -> Result<String, crate::Invalid> {
    let s = s.trim();
    let n = s.chars().count();
    if n < min || n > max || s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        let (zh, en) = if min == 0 {
            (format!("最多 {max} 字"), format!("at most {max} characters"))
        } else {
            (format!("请填写 {min}–{max} 字"), format!("write {min} to {max} characters"))
        };
        return Err(crate::Invalid::new(field, zh, en));
    }
    Ok(s.to_owned())
}

/// How long a community keeps the data of people who left or died, unless
/// it says otherwise.
pub const DEFAULT_RETENTION_YEARS: u32 = 3;
pub const RETENTION_YEARS: std::ops::RangeInclusive<u32> = 1..=30;
/// How many of one person's requests may wait for an answer at once.
pub const WAITING_REQUESTS: i64 = 10;

/// What an erased person's record is called from then on: the number
/// only, so that counts and links still add up.
pub fn erased_name(id: i64) -> String {
    format!("已删除 #{id}")
}

/// The last day the data of someone who left on `left_on` is kept; 29
/// February becomes 28 February in a year without it.
pub fn kept_until(left_on: NaiveDate, years: u32) -> NaiveDate {
    let year = left_on.year() + years as i32;
    left_on.with_year(year).or_else(|| NaiveDate::from_ymd_opt(year, left_on.month(), 28)).unwrap_or(left_on)
}

/// Whether the data of someone who left on `left_on` is due for erasure.
pub fn retention_ran_out(left_on: NaiveDate, years: u32, today: NaiveDate) -> bool {
    today > kept_until(left_on, years)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn retention_counts_whole_years_from_the_day_they_left() {
        assert_eq!(kept_until(d("2023-05-10"), 3), d("2026-05-10"));
        assert_eq!(kept_until(d("2024-02-29"), 3), d("2027-02-28"));
        assert!(!retention_ran_out(d("2023-05-10"), 3, d("2026-05-10")));
        assert!(retention_ran_out(d("2023-05-10"), 3, d("2026-05-11")));
        assert!(!retention_ran_out(d("2023-05-10"), 5, d("2026-05-11")));
        assert_eq!(erased_name(42), "已删除 #42");
        assert!(request_text("body", "x", 2, 10).is_err());
        assert!(request_text("body", "a\u{0}b", 0, 10).is_err());
        assert_eq!(request_text("body", " 第一行\n第二行 ", 2, 10).unwrap(), "第一行\n第二行");
        assert_eq!(request_text("evidence", "", 0, 10).unwrap(), "");
    }
}
