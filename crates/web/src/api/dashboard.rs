//! The dashboard: a community's grids or a subdistrict's communities at a
//! glance, with the months behind them.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use yijia_service::dashboard::Dashboard;

use super::ApiResult;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::i18n::Lang;
use crate::json::ApiQuery;
use crate::policy::Auth;

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
        (status = 400, description = "Bad query parameter", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
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
