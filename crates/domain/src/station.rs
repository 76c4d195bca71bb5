//! Service stations (党群服务站): opening hours, the services offered there,
//! and the time slots residents book for the services that take
//! appointments.

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

use crate::Invalid;
use crate::time::{MINUTE_MS, to_local};

/// How far ahead a resident may book.
pub const BOOKING_DAYS: i64 = 30;

/// Opening hours by weekday, written `1-5 08:30-11:30,14:00-17:30; 6 09:00-11:30`
/// (1 is Monday, 7 Sunday). Days not named are closed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpeningHours {
    /// For Monday (index 0) to Sunday: opening windows in minutes of the day.
    days: [Vec<(u32, u32)>; 7],
}

const WEEKDAYS_ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

fn bad(zh: impl Into<String>, en: impl Into<String>) -> Invalid {
    Invalid::new("hours", zh, en)
}

fn minutes(s: &str) -> Result<u32, Invalid> {
    let t = NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| bad(format!("「{s}」不是时间,应写作 08:30"), format!("'{s}' is not a time like 08:30")))?;
    Ok(t.hour() * 60 + t.minute())
}

fn hm(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn day(s: &str) -> Result<usize, Invalid> {
    match s.trim().parse::<usize>() {
        Ok(d @ 1..=7) => Ok(d - 1),
        _ => Err(bad(format!("「{s}」不是星期几(1 到 7)"), format!("'{s}' is not a weekday (1 to 7)"))),
    }
}

impl OpeningHours {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let mut out = OpeningHours::default();
        for part in s.split([';', ';']).map(str::trim).filter(|p| !p.is_empty()) {
            let Some((days, windows)) = part.split_once(char::is_whitespace) else {
                return Err(bad(
                    format!("「{part}」应写作「1-5 08:30-17:30」"),
                    format!("'{part}' should read like '1-5 08:30-17:30'"),
                ));
            };
            let mut which = Vec::new();
            for d in days.split(',') {
                match d.split_once('-') {
                    Some((a, b)) => {
                        let (a, b) = (day(a)?, day(b)?);
                        if a > b {
                            return Err(bad(format!("「{d}」前后颠倒"), format!("'{d}' runs backwards")));
                        }
                        which.extend(a..=b);
                    }
                    None => which.push(day(d)?),
                }
            }
            for w in windows.split([',', ',']).map(str::trim).filter(|w| !w.is_empty()) {
                let Some((from, to)) = w.split_once('-') else {
                    return Err(bad(
                        format!("「{w}」应写作 08:30-11:30"),
                        format!("'{w}' should read like 08:30-11:30"),
                    ));
                };
                let (from, to) = (minutes(from)?, minutes(to)?);
                if from >= to {
                    return Err(bad(format!("「{w}」结束早于开始"), format!("'{w}' ends before it starts")));
                }
                for &d in &which {
                    out.days[d].push((from, to));
                }
            }
        }
        for (i, ws) in out.days.iter_mut().enumerate() {
            ws.sort_unstable();
            if ws.windows(2).any(|p| p[0].1 > p[1].0) {
                return Err(bad(
                    format!("{}的时段有重叠", WEEKDAYS_ZH[i]),
                    format!("the hours of weekday {} overlap", i + 1),
                ));
            }
        }
        if out.days.iter().all(Vec::is_empty) {
            return Err(bad("请写开放时间,如「1-5 08:30-17:30」", "give the hours, like '1-5 08:30-17:30'"));
        }
        Ok(out)
    }

    /// The canonical form, which `parse` reads back.
    pub fn code(&self) -> String {
        self.groups()
            .iter()
            .map(|(a, b, ws)| {
                format!("{} {ws}", if a == b { format!("{}", a + 1) } else { format!("{}-{}", a + 1, b + 1) })
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// `周一至周五 08:30-11:30、14:00-17:30;周六 09:00-11:30`.
    pub fn display_zh(&self) -> String {
        self.groups()
            .iter()
            .map(|(a, b, ws)| {
                let days = if a == b {
                    WEEKDAYS_ZH[*a].to_owned()
                } else {
                    format!("{}至{}", WEEKDAYS_ZH[*a], WEEKDAYS_ZH[*b])
                };
                format!("{days} {}", ws.replace(',', "、"))
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    /// Runs of consecutive weekdays with the same windows.
    fn groups(&self) -> Vec<(usize, usize, String)> {
        let text = |ws: &Vec<(u32, u32)>| {
            ws.iter().map(|(f, t)| format!("{}-{}", hm(*f), hm(*t))).collect::<Vec<_>>().join(",")
        };
        let mut out: Vec<(usize, usize, String)> = Vec::new();
        for (i, ws) in self.days.iter().enumerate() {
            if ws.is_empty() {
                continue;
            }
            let t = text(ws);
            match out.last_mut() {
                Some((_, b, last)) if *b + 1 == i && *last == t => *b = i,
                _ => out.push((i, i, t)),
            }
        }
        out
    }

    /// The start of each slot of `slot_minutes` on a day (local date), as
    /// epoch milliseconds; a slot must end by the window's close.
    pub fn slots(&self, date: NaiveDate, slot_minutes: u32) -> Vec<i64> {
        if slot_minutes == 0 {
            return vec![];
        }
        let midnight = crate::time::start_of_day(date);
        let ws = &self.days[date.weekday().num_days_from_monday() as usize];
        let mut out = Vec::new();
        for &(from, to) in ws {
            let mut m = from;
            while m + slot_minutes <= to {
                out.push(midnight + i64::from(m) * MINUTE_MS);
                m += slot_minutes;
            }
        }
        out
    }

    /// Whether `at` is the start of one of the day's slots.
    pub fn is_slot(&self, at: i64, slot_minutes: u32) -> bool {
        self.slots(to_local(at).date_naive(), slot_minutes).contains(&at)
    }
}

/// A service: walk-in, or by appointment in slots of so many minutes with
/// so many places each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Booking {
    WalkIn,
    Appointment { slot_minutes: u32, capacity: u32 },
}

impl Booking {
    pub fn new(by_appointment: bool, slot_minutes: i64, capacity: i64) -> Result<Self, Invalid> {
        if !by_appointment {
            return Ok(Booking::WalkIn);
        }
        if !(5..=240).contains(&slot_minutes) {
            return Err(Invalid::new("slot_minutes", "每个时段 5 到 240 分钟", "a slot is 5 to 240 minutes"));
        }
        if !(1..=100).contains(&capacity) {
            return Err(Invalid::new("capacity", "每个时段 1 到 100 人", "1 to 100 places a slot"));
        }
        Ok(Booking::Appointment { slot_minutes: slot_minutes as u32, capacity: capacity as u32 })
    }
}

crate::labelled! {
    stored in "appointments.status";
    pub enum AppointmentStatus {
        Booked = ("booked", "已预约", "Booked"),
        Cancelled = ("cancelled", "已取消", "Cancelled"),
        /// The service was given (a record of it exists).
        Served = ("served", "已服务", "Served"),
        /// The resident did not come.
        Missed = ("missed", "未到", "Missed"),
    }
}

/// Whether a slot starting `at` may be booked `now`: not past, not beyond
/// the booking window.
pub fn check_booking_time(now: i64, at: i64) -> Result<(), Invalid> {
    if at <= now {
        return Err(Invalid::new("starts_at", "这个时段已过", "that slot has passed"));
    }
    if at > now + BOOKING_DAYS * crate::time::DAY_MS {
        return Err(Invalid::new(
            "starts_at",
            format!("只能预约 {BOOKING_DAYS} 天以内"),
            format!("book at most {BOOKING_DAYS} days ahead"),
        ));
    }
    Ok(())
}

/// The minutes a service took, as a clerk enters them.
pub fn check_minutes(m: i64) -> Result<(), Invalid> {
    if !(1..=480).contains(&m) {
        return Err(Invalid::new("minutes", "用时 1 到 480 分钟", "1 to 480 minutes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn hours_read_and_written() {
        let h = OpeningHours::parse("1-5 08:30-11:30,14:00-17:30; 6 09:00-11:30").unwrap();
        assert_eq!(h.code(), "1-5 08:30-11:30,14:00-17:30; 6 09:00-11:30");
        assert_eq!(h.display_zh(), "周一至周五 08:30-11:30、14:00-17:30;周六 09:00-11:30");
        assert_eq!(OpeningHours::parse(&h.code()).unwrap(), h);
        // days listed one by one fold into a run
        let h = OpeningHours::parse("1,2,3 09:00-10:00;7 09:00-10:00").unwrap();
        assert_eq!(h.code(), "1-3 09:00-10:00; 7 09:00-10:00");
    }

    #[test]
    fn bad_hours_say_why() {
        for (s, zh) in [
            ("", "请写开放时间"),
            ("1-5", "应写作"),
            ("8 09:00-10:00", "不是星期几"),
            ("5-1 09:00-10:00", "颠倒"),
            ("1 9点-10点", "不是时间"),
            ("1 10:00-09:00", "结束早于开始"),
            ("1 09:00-11:00,10:00-12:00", "重叠"),
        ] {
            let e = OpeningHours::parse(s).unwrap_err();
            assert_eq!(e.field, "hours");
            assert!(e.msg.zh.contains(zh), "{s}: {}", e.msg.zh);
        }
    }

    #[test]
    fn slots_fill_the_windows_and_end_by_closing() {
        let h = OpeningHours::parse("1-5 08:30-10:00,14:00-15:00").unwrap();
        // 2026-11-30 is a Monday
        let s = h.slots(d("2026-11-30"), 20);
        let times: Vec<String> = s.iter().map(|t| to_local(*t).format("%H:%M").to_string()).collect();
        assert_eq!(times, ["08:30", "08:50", "09:10", "09:30", "14:00", "14:20", "14:40"]);
        assert!(h.slots(d("2026-12-05"), 20).is_empty(), "Saturday is closed");
        assert!(h.is_slot(s[1], 20));
        assert!(!h.is_slot(s[1] + MINUTE_MS, 20));
        assert!(!h.is_slot(s[1], 30), "08:50 is no start of a 30-minute slot");
    }

    #[test]
    fn booking_window() {
        let now = 1_000_000_000_000;
        assert!(check_booking_time(now, now).is_err());
        assert!(check_booking_time(now, now + 1).is_ok());
        assert!(check_booking_time(now, now + BOOKING_DAYS * crate::time::DAY_MS).is_ok());
        assert!(check_booking_time(now, now + BOOKING_DAYS * crate::time::DAY_MS + 1).is_err());
    }

    #[test]
    fn booking_kinds() {
        assert_eq!(Booking::new(false, 0, 0).unwrap(), Booking::WalkIn);
        assert_eq!(Booking::new(true, 20, 2).unwrap(), Booking::Appointment { slot_minutes: 20, capacity: 2 });
        assert_eq!(Booking::new(true, 4, 2).unwrap_err().field, "slot_minutes");
        assert_eq!(Booking::new(true, 20, 0).unwrap_err().field, "capacity");
        for s in AppointmentStatus::ALL {
            assert_eq!(AppointmentStatus::from_code(s.code()), Some(s));
        }
    }
}
