use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use yijia_service::audit::EntryView;
use yijia_service::{Page, PageReq};

use super::ApiResult;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::i18n::Lang;
use crate::json::ApiQuery;
use crate::policy::Auth;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Only entries of this action (login, user_add, org_update, …).
    pub action: Option<String>,
}

/// The audit log within your scope, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses(
        (status = 200, description = "A page of entries", body = Page<EntryView>),
        (status = 400, description = "Bad query parameter", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 404, description = "Your role does not read the audit log", body = ErrorBody),
        (status = 422, description = "page or per_page out of range", body = ErrorBody),
    ))]
pub async fn list_audit(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> Result<Json<Page<EntryView>>, ApiError> {
    let page = PageReq::new(q.page, q.per_page).api(lang)?;
    Ok(Json(st.svc.audit_list(&c, q.action.as_deref(), page).await.api(lang)?))
}
