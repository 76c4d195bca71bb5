//! The dashboard: a community's grids or a subdistrict's communities at a
//! glance, with the months behind them.

use super::prelude::*;
use axum::response::Response;
use yijia_service::dashboard::Dashboard;
use yijia_service::reports::{MonthlyReport, report_workbook};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DashboardParams {
    /// A community or subdistrict code; default: your own.
    pub org: Option<String>,
}

/// People per grid and category, visits due and overdue, open cases near and past their
/// deadline, pledges, and the last 13 months of cases, visits and points.
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "dashboard", params(DashboardParams),
    responses(
        (status = 200, description = "The dashboard", body = Dashboard),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 422, description = "Not a community or subdistrict", body = ErrorBody),
    ))]
pub async fn dashboard(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<DashboardParams>,
) -> Result<Json<Dashboard>, ApiError> {
    Ok(Json(st.svc.dashboard(&c, q.org.as_deref()).await.api(lang)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// A community or subdistrict code; default: your own.
    pub org: Option<String>,
    /// The month, `2026-11`; default: the month before this one.
    pub month: Option<String>,
}

/// The monthly report: the month's cases, visits and points beside the month before and the
/// same month last year; where things stand by grid or community. Counts only.
#[utoipa::path(get, path = "/api/v1/reports/monthly", tag = "dashboard", params(ReportParams),
    responses(
        (status = 200, description = "The report", body = MonthlyReport),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 422, description = "Not a community or subdistrict, or not a month that has come", body = ErrorBody),
    ))]
pub async fn monthly_report(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<ReportParams>,
) -> Result<Json<MonthlyReport>, ApiError> {
    Ok(Json(st.svc.monthly_report(&c, q.org.as_deref(), q.month.as_deref()).await.api(lang)?))
}

/// The monthly report as an Excel workbook: the month against the month before and last year;
/// where things stand; each grid's or community's month.
#[utoipa::path(get, path = "/api/v1/reports/monthly.xlsx", tag = "dashboard", params(ReportParams),
    responses(
        (status = 200, description = "The workbook",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 422, description = "Not a community or subdistrict, or not a month that has come", body = ErrorBody),
    ))]
pub async fn monthly_workbook(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<ReportParams>,
) -> Result<Response, ApiError> {
    let r = st.svc.monthly_report(&c, q.org.as_deref(), q.month.as_deref()).await.api(lang)?;
    let book = report_workbook(&r).api(lang)?;
    Ok(crate::download::xlsx(&r.file_name(), book))
}
