//! The monthly report a community sends its street office, and a street
//! office its district: the month's cases, visits and points beside the
//! month before and the same month last year, and where things stand, by
//! grid or community. Counts only: no one's name or number is in it.

use chrono::{Datelike, Months, NaiveDate};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};
use serde::Serialize;
use yijia_domain::case::CaseKind;
use yijia_domain::time::{display, to_local};

use crate::dashboard::{CaseFigures, Dashboard, MonthFigures, UnitFigures};
use crate::{Caller, Result, ServiceError, Services};

/// One row's month: a community's (cases, visits, points), or a grid's
/// (visits only: cases and points are counted per community).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UnitMonth {
    pub code: String,
    pub name: String,
    pub this_month: MonthFigures,
    pub month_before: MonthFigures,
    pub year_before: MonthFigures,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MonthlyReport {
    /// `2026-11`.
    pub month: String,
    /// When it was made (`2026-12-01 09:30`, Beijing time).
    pub made_at: String,
    /// The whole community or subdistrict: this month, the month before and
    /// the same month last year.
    pub this_month: MonthFigures,
    pub month_before: MonthFigures,
    pub year_before: MonthFigures,
    /// Each grid's or community's month.
    pub unit_months: Vec<UnitMonth>,
    /// Where things stand now, by grid or community, and the 13 months
    /// ending with the report's.
    pub dashboard: Dashboard,
}

impl MonthlyReport {
    /// `report-yushu-s01-2026-11.xlsx`.
    pub fn file_name(&self) -> String {
        format!("report-{}-{}.xlsx", self.dashboard.org, self.month)
    }

    /// The month as its heading reads in Chinese: `2026年11月`.
    pub fn month_zh(&self) -> String {
        format!("{}月", self.month.replacen('-', "年", 1))
    }
}

/// `2026-11` → its first day.
fn parse_month(s: &str) -> Option<NaiveDate> {
    let (y, m) = s.trim().split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
}

impl Services {
    /// The monthly report of a community or subdistrict (`org`; by default
    /// the caller's own) for `month` (`2026-11`; by default the month
    /// before this one).
    pub async fn monthly_report(
        &self,
        caller: &Caller,
        org_code: Option<&str>,
        month: Option<&str>,
    ) -> Result<MonthlyReport> {
        let now = self.now();
        let this_month = to_local(now).date_naive().with_day(1).unwrap_or_default();
        let first = match month.map(str::trim).filter(|m| !m.is_empty()) {
            None => this_month.checked_sub_months(Months::new(1)).unwrap_or(this_month),
            Some(m) => parse_month(m)
                .ok_or_else(|| ServiceError::invalid("month", "月份格式应为 2026-11", "give the month as 2026-11"))?,
        };
        if first > this_month {
            return Err(ServiceError::invalid("month", "还没到这个月,不能出月报", "that month has not come yet"));
        }
        if first.year() < 2000 {
            return Err(ServiceError::invalid("month", "月份应在 2000 年以后", "give a month from 2000 on"));
        }
        let (dashboard, per_unit) = self.figures(caller, org_code, first, true).await?;
        // the 13 months end with the report's: [0] is the same month last year
        let pick = |months: &[MonthFigures], back: usize| {
            months.len().checked_sub(1 + back).and_then(|i| months.get(i)).cloned()
        };
        let three = |months: &[MonthFigures]| -> (MonthFigures, MonthFigures, MonthFigures) {
            (
                pick(months, 0).unwrap_or_default(),
                pick(months, 1).unwrap_or_default(),
                pick(months, 12).unwrap_or_default(),
            )
        };
        let (this_month, month_before, year_before) = three(&dashboard.months);
        let unit_months = dashboard
            .units
            .iter()
            .zip(&per_unit)
            .map(|(u, months)| {
                let (this_month, month_before, year_before) = three(months);
                UnitMonth { code: u.code.clone(), name: u.name.clone(), this_month, month_before, year_before }
            })
            .collect();
        Ok(MonthlyReport {
            month: first.format("%Y-%m").to_string(),
            made_at: display(now),
            this_month,
            month_before,
            year_before,
            unit_months,
            dashboard,
        })
    }
}

/// A figure of a month, by its code: the lines of the report's first table.
pub const MONTH_LINES: [(&str, &str, &str); 10] = [
    ("filed", "新登记事件(件)", "Cases filed"),
    ("accepted", "受理(件)", "Accepted"),
    ("accept_minutes", "平均受理用时(分钟)", "Mean time to accept (minutes)"),
    ("resolved", "办结(件)", "Resolved"),
    ("resolve_hours", "平均办结用时(小时)", "Mean time to resolve (hours)"),
    ("rated", "评价(件)", "Rated"),
    ("satisfaction", "满意度(满分 5)", "Satisfaction (of 5)"),
    ("visits", "走访(次)", "Visits"),
    ("points_issued", "发放积分", "Points given"),
    ("points_redeemed", "兑换积分", "Points spent"),
];

/// A month's figure by code; satisfaction as a decimal, the rest whole.
pub fn month_value(m: &MonthFigures, code: &str) -> Option<f64> {
    let whole = |v: i64| Some(v as f64);
    match code {
        "filed" => whole(m.filed),
        "accepted" => whole(m.accepted),
        "accept_minutes" => m.accept_minutes.map(|v| v as f64),
        "resolved" => whole(m.resolved),
        "resolve_hours" => m.resolve_hours.map(|v| v as f64),
        "rated" => whole(m.rated),
        "satisfaction" => m.satisfaction_tenths.map(|v| v as f64 / 10.0),
        "visits" => whole(m.visits),
        "points_issued" => whole(m.points_issued),
        "points_redeemed" => whole(m.points_redeemed),
        _ => None,
    }
}

/// The change from `before` to `now`, in percent, when there was something
/// before.
pub fn change_percent(now: Option<f64>, before: Option<f64>) -> Option<f64> {
    match (now, before) {
        (Some(n), Some(b)) if b != 0.0 => Some(((n - b) / b * 1000.0).round() / 10.0),
        _ => None,
    }
}

/// The sheet names of the workbook, in order.
pub const SHEETS: [&str; 3] = ["本月概况", "现状", "分单位本月"];

fn xlsx(e: XlsxError) -> ServiceError {
    ServiceError::caused("writing the report", e)
}

fn opt(ws: &mut Worksheet, row: u32, col: u16, v: Option<f64>) -> Result<()> {
    match v {
        Some(v) => ws.write(row, col, v).map_err(xlsx)?,
        None => ws.write(row, col, "—").map_err(xlsx)?,
    };
    Ok(())
}

fn kind_sum(cases: &[CaseFigures], kind: CaseKind, pick: fn(&CaseFigures) -> i64) -> i64 {
    cases.iter().filter(|c| c.kind == kind).map(pick).sum()
}

/// The report as an Excel workbook: the month against the month before and
/// last year; where things stand by grid or community; each one's month.
pub fn report_workbook(r: &MonthlyReport) -> Result<Vec<u8>> {
    let d = &r.dashboard;
    let mut wb = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14).set_align(FormatAlign::Center);
    let bold = Format::new().set_bold();
    let unit = if d.unit_kind == "grid" { "网格" } else { "社区" };
    let heading = format!("{}{}月报", d.org_name, r.month_zh());
    let stamp = format!("{} 生成 · 只含统计数字", r.made_at);

    // 1. the month, the month before, the same month last year
    let ws = wb.add_worksheet().set_name(SHEETS[0]).map_err(xlsx)?;
    ws.merge_range(0, 0, 0, 5, &heading, &title).map_err(xlsx)?;
    ws.write(1, 0, stamp.as_str()).map_err(xlsx)?;
    let head = ["指标", "本月", "上月", "环比(%)", "去年同月", "同比(%)"];
    for (c, h) in head.iter().enumerate() {
        ws.write_with_format(2, c as u16, *h, &bold).map_err(xlsx)?;
    }
    for (i, (code, zh, _)) in MONTH_LINES.iter().enumerate() {
        let row = 3 + i as u32;
        let (now, before, last) =
            (month_value(&r.this_month, code), month_value(&r.month_before, code), month_value(&r.year_before, code));
        ws.write(row, 0, *zh).map_err(xlsx)?;
        opt(ws, row, 1, now)?;
        opt(ws, row, 2, before)?;
        opt(ws, row, 3, change_percent(now, before))?;
        opt(ws, row, 4, last)?;
        opt(ws, row, 5, change_percent(now, last))?;
    }
    ws.set_column_width(0, 24).map_err(xlsx)?;

    // 2. where things stand, by grid or community
    let ws = wb.add_worksheet().set_name(SHEETS[1]).map_err(xlsx)?;
    let mut cols: Vec<String> = vec![unit.to_owned(), "居民".into()];
    cols.extend(d.categories.iter().map(|c| c.name.clone()));
    cols.extend(["走访对象", "超期未访", "7天内到期", "未超期(%)"].map(String::from));
    for k in &d.total.cases {
        for what in ["在办", "临期", "逾期"] {
            cols.push(format!("{}{what}", k.kind_name));
        }
    }
    cols.extend(["实事项目", "平均进度(%)"].map(String::from));
    ws.merge_range(0, 0, 0, cols.len() as u16 - 1, &format!("{}现状({} 时)", d.org_name, r.made_at), &title)
        .map_err(xlsx)?;
    for (c, h) in cols.iter().enumerate() {
        ws.write_with_format(1, c as u16, h, &bold).map_err(xlsx)?;
    }
    // A row of every figure, or (the cases not dispatched yet, which have no
    // people, plans or pledges) of the cases alone, the other cells blank.
    let write_unit = |ws: &mut Worksheet, row: u32, name: &str, u: &UnitFigures, cases_only: bool| -> Result<()> {
        ws.write(row, 0, name).map_err(xlsx)?;
        if !cases_only {
            ws.write(row, 1, u.people as f64).map_err(xlsx)?;
        }
        let mut c = 2u16;
        for cat in &d.categories {
            if !cases_only {
                ws.write(row, c, u.categories.get(&cat.code).copied().unwrap_or(0) as f64).map_err(xlsx)?;
            }
            c += 1;
        }
        for v in [u.planned, u.overdue, u.due_soon] {
            if !cases_only {
                ws.write(row, c, v as f64).map_err(xlsx)?;
            }
            c += 1;
        }
        if !cases_only {
            opt(ws, row, c, u.on_time_permille.map(|p| p as f64 / 10.0))?;
        }
        c += 1;
        for k in &d.total.cases {
            for pick in [|f: &CaseFigures| f.open, |f: &CaseFigures| f.near, |f: &CaseFigures| f.late] {
                ws.write(row, c, kind_sum(&u.cases, k.kind, pick) as f64).map_err(xlsx)?;
                c += 1;
            }
        }
        if !cases_only {
            ws.write(row, c, u.pledges as f64).map_err(xlsx)?;
            opt(ws, row, c + 1, u.pledge_progress.map(|p| p as f64))?;
        }
        Ok(())
    };
    let mut row = 2u32;
    for u in &d.units {
        write_unit(ws, row, &u.name, u, false)?;
        row += 1;
    }
    if d.unit_kind == "grid" {
        let unplaced = UnitFigures { cases: d.unplaced.clone(), ..Default::default() };
        write_unit(ws, row, "待分派", &unplaced, true)?;
        row += 1;
    }
    write_unit(ws, row, "合计", &d.total, false)?;
    ws.set_column_width(0, 16).map_err(xlsx)?;

    // 3. each grid's or community's month
    let ws = wb.add_worksheet().set_name(SHEETS[2]).map_err(xlsx)?;
    let lines: Vec<&(&str, &str, &str)> =
        MONTH_LINES.iter().filter(|(code, _, _)| d.unit_kind != "grid" || *code == "visits").collect();
    ws.merge_range(0, 0, 0, (lines.len() + 2) as u16, &format!("{heading} · 分{unit}"), &title).map_err(xlsx)?;
    ws.write_with_format(1, 0, unit, &bold).map_err(xlsx)?;
    for (c, (_, zh, _)) in lines.iter().enumerate() {
        ws.write_with_format(1, 1 + c as u16, *zh, &bold).map_err(xlsx)?;
    }
    let last_col = 1 + lines.len() as u16;
    ws.write_with_format(1, last_col, "走访:上月", &bold).map_err(xlsx)?;
    ws.write_with_format(1, last_col + 1, "走访:去年同月", &bold).map_err(xlsx)?;
    for (i, u) in r.unit_months.iter().enumerate() {
        let row = 2 + i as u32;
        ws.write(row, 0, u.name.as_str()).map_err(xlsx)?;
        for (c, (code, _, _)) in lines.iter().enumerate() {
            opt(ws, row, 1 + c as u16, month_value(&u.this_month, code))?;
        }
        ws.write(row, last_col, u.month_before.visits as f64).map_err(xlsx)?;
        ws.write(row, last_col + 1, u.year_before.visits as f64).map_err(xlsx)?;
    }
    ws.set_column_width(0, 16).map_err(xlsx)?;
    wb.save_to_buffer().map_err(xlsx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_read_strictly() {
        assert_eq!(parse_month("2026-11"), NaiveDate::from_ymd_opt(2026, 11, 1));
        assert_eq!(parse_month(" 2025-01 "), NaiveDate::from_ymd_opt(2025, 1, 1));
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", "2026-11-01", ""] {
            assert_eq!(parse_month(bad), None, "{bad}");
        }
    }

    #[test]
    fn change_is_against_what_was() {
        assert_eq!(change_percent(Some(15.0), Some(10.0)), Some(50.0));
        assert_eq!(change_percent(Some(2.0), Some(3.0)), Some(-33.3));
        assert_eq!(change_percent(Some(5.0), Some(0.0)), None);
        assert_eq!(change_percent(None, Some(3.0)), None);
    }
}
