//! Cases: filing, the inboxes, the workflow, ratings, notes, disputes, and
//! the community's catalogue of categories.

use super::prelude::*;
use serde::Serialize;
use yijia_domain::case::{CaseKind, CaseState};
use yijia_service::PageReq;
use yijia_service::cases::{
    ActionInput, CaseBox, CaseCategoryInput, CaseCategoryView, CaseCounts, CaseInput, CaseQuery, CaseSummary, CaseView,
    DisputeInput, NoteInput, RatingInput, SimilarView,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CaseParams {
    /// mine (default), grids, dispatch, near, overdue, escalated, all. Residents always see the cases they filed.
    #[serde(rename = "box")]
    #[param(rename = "box", inline)]
    pub case_box: Option<CaseBox>,
    #[param(inline)]
    pub kind: Option<CaseKind>,
    #[param(inline)]
    pub state: Option<CaseState>,
    /// A category code.
    pub category: Option<String>,
    /// Only under this grid, community or subdistrict (a code in your scope).
    pub org: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A page of cases, and how many each list of the inbox holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseSummary>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub counts: CaseCounts,
}

/// The cases of one of your lists.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(CaseParams),
    responses(
        (status = 200, description = "A page of cases, nearest deadline first", body = CaseList),
        (status = 403, description = "That list is not yours (dispatch is for community staff)", body = ErrorBody),
        (status = 404, description = "Your role has no cases", body = ErrorBody),
        (status = 422, description = "Paging out of range", body = ErrorBody),
    ))]
pub async fn list_cases(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CaseParams>,
) -> Result<Json<CaseList>, ApiError> {
    let page = PageReq::new(q.page, q.per_page).api(lang)?;
    let query = CaseQuery {
        case_box: q.case_box.unwrap_or_default(),
        kind: q.kind,
        state: q.state,
        category: q.category,
        org: q.org,
    };
    let (p, counts) = st.svc.list_cases(&c, &query, page).await.api(lang)?;
    Ok(Json(CaseList { items: p.items, total: p.total, page: p.page, per_page: p.per_page, counts }))
}

/// File a case. It goes to the grid it lies in, or to the community's dispatch list.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = CaseInput,
    responses(
        (status = 201, description = "Filed", body = CaseView),
        (status = 403, description = "Your role does not file cases", body = ErrorBody),
        (status = 404, description = "The community is not yours", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn create_case(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<CaseInput>,
) -> Result<(StatusCode, Json<CaseView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.create_case(&c, &b).await.api(lang)?)))
}

/// One case with its timeline and the actions you may take.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases",
    params(("id" = i64, Path, description = "Case id")),
    responses(
        (status = 200, description = "The case", body = CaseView),
        (status = 404, description = "No such case in your scope", body = ErrorBody),
    ))]
pub async fn get_case(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CaseView>, ApiError> {
    Ok(Json(st.svc.get_case(&c, id).await.api(lang)?))
}

/// Take a step: accept, start, resolve, close, reject, escalate, transfer, reopen.
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions", tag = "cases", request_body = ActionInput,
    params(("id" = i64, Path, description = "Case id")),
    responses(
        (status = 200, description = "Done; the case as it is now", body = CaseView),
        (status = 404, description = "No such case in your scope", body = ErrorBody),
        (status = 409, description = "Not allowed in this state for you, or someone changed the case since you read it", body = ErrorBody),
        (status = 422, description = "A note is missing, or the grid is not in the community", body = ErrorBody),
    ))]
pub async fn act_on_case(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ActionInput>,
) -> Result<Json<CaseView>, ApiError> {
    Ok(Json(st.svc.act_on_case(&c, id, &b).await.api(lang)?))
}

/// Rate what was done (the one who filed it, once, after it is resolved).
#[utoipa::path(post, path = "/api/v1/cases/{id}/rating", tag = "cases", request_body = RatingInput,
    params(("id" = i64, Path, description = "Case id")),
    responses(
        (status = 200, description = "Rated", body = CaseView),
        (status = 403, description = "You did not file it", body = ErrorBody),
        (status = 404, description = "No such case in your scope", body = ErrorBody),
        (status = 409, description = "Not resolved yet, or rated already", body = ErrorBody),
        (status = 422, description = "The rating is not 1 to 5", body = ErrorBody),
    ))]
pub async fn rate_case(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<RatingInput>,
) -> Result<Json<CaseView>, ApiError> {
    Ok(Json(st.svc.rate_case(&c, id, &b).await.api(lang)?))
}

/// Add a progress note to an open case.
#[utoipa::path(post, path = "/api/v1/cases/{id}/notes", tag = "cases", request_body = NoteInput,
    params(("id" = i64, Path, description = "Case id")),
    responses(
        (status = 200, description = "Noted", body = CaseView),
        (status = 404, description = "No such case in your scope", body = ErrorBody),
        (status = 409, description = "The case is not open, or not yours to handle", body = ErrorBody),
        (status = 422, description = "The note is empty or too long", body = ErrorBody),
    ))]
pub async fn note_case(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<NoteInput>,
) -> Result<Json<CaseView>, ApiError> {
    Ok(Json(st.svc.note_case(&c, id, &b).await.api(lang)?))
}

/// Record a dispute's parties, mediation and agreement (kept encrypted).
#[utoipa::path(put, path = "/api/v1/cases/{id}/dispute", tag = "cases", request_body = DisputeInput,
    params(("id" = i64, Path, description = "Case id")),
    responses(
        (status = 200, description = "Recorded", body = CaseView),
        (status = 404, description = "No such case in your scope", body = ErrorBody),
        (status = 409, description = "Not a dispute, not yours to handle, or changed since you read it", body = ErrorBody),
        (status = 422, description = "A part is too long", body = ErrorBody),
    ))]
pub async fn record_dispute(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<DisputeInput>,
) -> Result<Json<CaseView>, ApiError> {
    Ok(Json(st.svc.record_dispute(&c, id, &b).await.api(lang)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SimilarParams {
    /// The category code about to be filed.
    pub category: String,
    pub community: Option<String>,
    pub building_id: Option<i64>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

/// Open cases of the same category in the same building or within 100 m from the last 7 days.
#[utoipa::path(get, path = "/api/v1/cases/similar", tag = "cases", params(SimilarParams),
    responses(
        (status = 200, description = "Possible duplicates (no personal data)", body = Vec<SimilarView>),
        (status = 404, description = "Your role does not file cases", body = ErrorBody),
        (status = 422, description = "Name the community", body = ErrorBody),
    ))]
pub async fn similar_cases(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<SimilarParams>,
) -> Result<Json<Vec<SimilarView>>, ApiError> {
    let point = q.lon.zip(q.lat);
    let v = st.svc.similar_cases(&c, q.community.as_deref(), &q.category, q.building_id, point).await.api(lang)?;
    Ok(Json(v))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CommunityParam {
    /// The community's org code; needed only when you work in several.
    pub community: Option<String>,
}

/// A community's catalogue of case categories with their deadlines.
#[utoipa::path(get, path = "/api/v1/case-categories", tag = "cases", params(CommunityParam),
    responses(
        (status = 200, description = "The catalogue", body = Vec<CaseCategoryView>),
        (status = 404, description = "Not your community, or your role does not file cases", body = ErrorBody),
        (status = 422, description = "Name the community", body = ErrorBody),
    ))]
pub async fn list_case_categories(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
) -> Result<Json<Vec<CaseCategoryView>>, ApiError> {
    Ok(Json(st.svc.case_categories(&c, q.community.as_deref()).await.api(lang)?))
}

/// Add a category to the catalogue, or change one (by its code), with its deadlines.
#[utoipa::path(post, path = "/api/v1/case-categories", tag = "cases", params(CommunityParam),
    request_body = CaseCategoryInput,
    responses(
        (status = 200, description = "Saved", body = CaseCategoryView),
        (status = 403, description = "Your role does not edit the catalogue", body = ErrorBody),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn save_case_category(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
    ApiJson(b): ApiJson<CaseCategoryInput>,
) -> Result<Json<CaseCategoryView>, ApiError> {
    Ok(Json(st.svc.save_case_category(&c, q.community.as_deref(), &b).await.api(lang)?))
}

/// One or more photos, as `multipart/form-data`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the body; the handler reads it as multipart
pub struct PhotoUpload {
    /// JPEG, PNG or WebP, at most 10 MB and 50 megapixels each; repeat the field for several.
    #[schema(value_type = Vec<String>, format = Binary)]
    pub photo: Vec<Vec<u8>>,
}

/// Add photos to a case. They are checked by content, cleaned of EXIF and GPS, and re-encoded.
#[utoipa::path(post, path = "/api/v1/cases/{id}/photos", tag = "cases",
    request_body(content = PhotoUpload, content_type = "multipart/form-data"),
    params(("id" = i64, Path, description = "Case id")),
    responses(
        (status = 201, description = "Added; the case as it is now", body = CaseView),
        (status = 400, description = "Not a multipart body", body = ErrorBody),
        (status = 404, description = "No such case in your scope", body = ErrorBody),
        (status = 409, description = "The case is finished", body = ErrorBody),
        (status = 415, description = "Not multipart", body = ErrorBody),
        (status = 422, description = "Not a JPEG, PNG or WebP photo, too large, too many pixels, or too many photos", body = ErrorBody),
    ))]
pub async fn add_photos(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    form: crate::upload::ApiForm,
) -> Result<(StatusCode, Json<CaseView>), ApiError> {
    let u = crate::upload::read_api(form, "photo").await?;
    Ok((StatusCode::CREATED, Json(st.svc.add_case_photos(&c, id, u.files).await.api(lang)?)))
}

/// A photo of a case, as an attachment, for those who may see the case.
#[utoipa::path(get, path = "/api/v1/cases/{id}/photos/{photo}", tag = "cases",
    params(("id" = i64, Path, description = "Case id"), ("photo" = i64, Path, description = "Photo id")),
    responses(
        (status = 200, description = "The photo, as the type it is", content(
            (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"))),
        (status = 400, description = "An id is not a number", body = ErrorBody),
        (status = 404, description = "No such photo of a case in your scope", body = ErrorBody),
    ))]
pub async fn get_photo(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath((id, photo)): ApiPath<(i64, i64)>,
) -> Result<axum::response::Response, ApiError> {
    let f = st.svc.case_photo(&c, id, photo).await.api(lang)?;
    Ok(photo_attachment(f))
}

/// A photo as a download: its own type, `attachment`, never sniffed.
pub(crate) fn photo_attachment(f: yijia_service::cases::PhotoFile) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, f.content_type),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", f.file_name)),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        f.bytes,
    )
        .into_response()
}
