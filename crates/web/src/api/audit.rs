use super::prelude::*;
use yijia_service::audit::EntryView;
use yijia_service::{Page, PageReq};

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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditExportParams {
    /// The first day, `2026-06-01` (Beijing time).
    pub from: String,
    /// The last day, included; at most 366 days after `from`.
    pub to: String,
}

/// The audit log within your scope for a span of days, oldest first, as CSV
/// for an auditor (UTF-8 with a byte-order mark); each entry carries its hash.
/// The export itself is audited.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", params(AuditExportParams),
    responses(
        (status = 200, description = "The entries as CSV", content_type = "text/csv"),
        (status = 404, description = "Your role does not read the audit log", body = ErrorBody),
        (status = 422, description = "A date is not a date, or the span is longer than 366 days", body = ErrorBody),
    ))]
pub async fn export_audit(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<AuditExportParams>,
) -> Result<axum::response::Response, ApiError> {
    let (file, csv) = st.svc.audit_export(&c, &q.from, &q.to).await.api(lang)?;
    Ok(crate::download::attachment("text/csv; charset=utf-8", &file, csv))
}
