//! Exports with personal data in full: asked for with a reason, approved by
//! a secretary or street officer (not the one asking), downloaded once.

use super::prelude::*;
use axum::response::Response;
use yijia_service::export::ApprovalView;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// The community's org code.
    pub community: String,
    /// A category by code, alias or name (a community's own too).
    pub category: Option<String>,
    /// Why the export needs personal data in full (4–200 characters).
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportDecision {
    pub approve: bool,
    /// What the approver says, kept with the decision (at most 500 characters).
    #[serde(default)]
    pub note: Option<String>,
}

/// Ask for an export with personal data in full.
#[utoipa::path(post, path = "/api/v1/exports", tag = "residents", request_body = ExportRequest,
    responses(
        (status = 201, description = "Asked; waiting for approval", body = ApprovalView),
        (status = 403, description = "Your role may not export personal data in full", body = ErrorBody),
        (status = 404, description = "Your role does not export, or the community is not yours", body = ErrorBody),
        (status = 422, description = "No such community, or no reason given", body = ErrorBody),
    ))]
pub async fn request_export(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<ExportRequest>,
) -> Result<(StatusCode, Json<ApprovalView>), ApiError> {
    let v = st.svc.request_unmasked_export(&c, &b.community, b.category.as_deref(), &b.reason).await.api(lang)?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// Requests in your scope, newest first.
#[utoipa::path(get, path = "/api/v1/exports", tag = "residents",
    responses(
        (status = 200, description = "The requests", body = Vec<ApprovalView>),
        (status = 404, description = "Your role does not export", body = ErrorBody),
    ))]
pub async fn list_exports(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<ApprovalView>>, ApiError> {
    Ok(Json(st.svc.export_approvals(&c).await.api(lang)?))
}

/// Approve or reject a request (a secretary or street officer, not the one who asked).
#[utoipa::path(post, path = "/api/v1/exports/{id}/decision", tag = "residents", request_body = ExportDecision,
    params(("id" = i64, Path, description = "Request id")),
    responses(
        (status = 200, description = "Decided", body = ApprovalView),
        (status = 403, description = "Your own request, or your role does not approve", body = ErrorBody),
        (status = 404, description = "No such request in your scope", body = ErrorBody),
        (status = 409, description = "Decided already", body = ErrorBody),
    ))]
pub async fn decide_export(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ExportDecision>,
) -> Result<Json<ApprovalView>, ApiError> {
    Ok(Json(st.svc.decide_unmasked_export(&c, id, b.approve, b.note.as_deref()).await.api(lang)?))
}

/// The approved workbook, once, by the one who asked, within 24 hours.
#[utoipa::path(get, path = "/api/v1/exports/{id}/download", tag = "residents",
    params(("id" = i64, Path, description = "Request id")),
    responses(
        (status = 200, description = "The roster workbook, personal data in full, marked with who and on whose approval",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, description = "No such request of yours", body = ErrorBody),
        (status = 409, description = "Not approved, downloaded already, or approved more than 24 hours ago", body = ErrorBody),
        (status = 429, description = "Too many records read in the last hour", body = ErrorBody),
    ))]
pub async fn download_export(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let book = st.svc.export_residents_unmasked(&c, id).await.api(lang)?;
    Ok(crate::download::xlsx(&format!("residents-full-{id}.xlsx"), book))
}
