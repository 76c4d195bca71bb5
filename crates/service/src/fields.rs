//! Readers of typed fields (forms and API bodies alike): each answers with
//! the field's name and one message, so a date is refused the same way
//! wherever it is typed.

use chrono::NaiveDate;
use yijia_domain::time::to_local;

use crate::{Result, ServiceError};

/// Text, trimmed, of `min` to `max` characters (`min` 0: may be empty): the
/// one check of a text's length, with one wording wherever it is typed.
pub(crate) fn text_between(field: &str, s: &str, min: usize, max: usize) -> Result<String> {
    let s = s.trim();
    let n = s.chars().count();
    if n == 0 && min > 0 {
        return Err(ServiceError::invalid(field, "请填写", "required"));
    }
    if n < min {
        return Err(ServiceError::invalid(field, format!("至少 {min} 个字"), format!("at least {min} characters")));
    }
    if n > max {
        return Err(ServiceError::invalid(field, format!("不超过 {max} 字"), format!("at most {max} characters")));
    }
    Ok(s.to_owned())
}

/// Required text, trimmed, at most `max` characters.
pub(crate) fn text(field: &str, s: &str, max: usize) -> Result<String> {
    text_between(field, s, 1, max)
}

/// Optional text, trimmed (empty when missing), at most `max` characters.
pub(crate) fn optional_text(field: &str, s: Option<&str>, max: usize) -> Result<String> {
    text_between(field, s.unwrap_or(""), 0, max)
}

/// A day written `2026-12-05`.
pub(crate) fn date(field: &str, s: &str) -> Result<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        ServiceError::invalid(
            field,
            format!("日期「{s}」格式不对,应为 2026-12-05"),
            format!("'{s}' is not a date written 2026-12-05"),
        )
    })
}

/// A day, or today (Beijing time) when left empty.
pub(crate) fn date_or_today(field: &str, s: Option<&str>, now: i64) -> Result<NaiveDate> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(to_local(now).date_naive()),
        Some(s) => date(field, s),
    }
}

/// A moment written `2026-12-05T09:00:00+08:00`, as epoch milliseconds.
pub(crate) fn time(field: &str, s: &str) -> Result<i64> {
    chrono::DateTime::parse_from_rfc3339(s.trim()).map(|t| t.timestamp_millis()).map_err(|_| {
        ServiceError::invalid(
            field,
            "时间格式应为 2026-12-05T09:00:00+08:00",
            "a time is written 2026-12-05T09:00:00+08:00",
        )
    })
}

/// `2026-12-05`.
pub(crate) fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: ServiceError) -> String {
        match e {
            ServiceError::Invalid(i) => i.field,
            other => panic!("not invalid: {other:?}"),
        }
    }

    #[test]
    fn dates_are_read_or_refused_with_their_field() {
        assert_eq!(ymd(date("due_on", " 2026-12-05 ").unwrap()), "2026-12-05");
        assert_eq!(field_of(date("due_on", "12/05/2026").unwrap_err()), "due_on");
        assert_eq!(field_of(date("due_on", "2026-02-30").unwrap_err()), "due_on");
        // 2026-11-30 16:30 UTC is 2026-12-01 in Beijing
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T16:30:00Z").unwrap().timestamp_millis();
        assert_eq!(ymd(date_or_today("date", Some("  "), now).unwrap()), "2026-12-01");
        assert_eq!(ymd(date_or_today("date", Some("2026-12-03"), now).unwrap()), "2026-12-03");
    }

    #[test]
    fn texts_are_trimmed_and_bounded() {
        assert_eq!(text("title", "  修路灯 ", 5).unwrap(), "修路灯");
        assert_eq!(field_of(text("title", "   ", 5).unwrap_err()), "title");
        assert_eq!(field_of(text("title", "一二三四五六", 5).unwrap_err()), "title");
        assert_eq!(optional_text("note", None, 5).unwrap(), "");
        assert_eq!(field_of(optional_text("note", Some("一二三四五六"), 5).unwrap_err()), "note");
    }

    #[test]
    fn a_length_is_refused_in_one_wording_that_says_which_bound() {
        let msg = |e: ServiceError| match e {
            ServiceError::Invalid(i) => i.msg.en,
            other => panic!("not invalid: {other:?}"),
        };
        assert_eq!(msg(text_between("note", " ", 2, 10).unwrap_err()), "required");
        assert_eq!(msg(text_between("note", "好", 2, 10).unwrap_err()), "at least 2 characters");
        assert_eq!(msg(text_between("note", &"字".repeat(11), 2, 10).unwrap_err()), "at most 10 characters");
        assert_eq!(msg(text("title", &"字".repeat(6), 5).unwrap_err()), "at most 5 characters", "the same words");
        assert_eq!(text_between("note", "", 0, 10).unwrap(), "", "min 0: may be empty");
    }

    #[test]
    fn times_need_their_offset() {
        assert_eq!(time("at", "2026-12-05T09:00:00+08:00").unwrap(), 1_796_432_400_000);
        assert_eq!(field_of(time("at", "2026-12-05 09:00").unwrap_err()), "at");
    }
}
