//! A person's rights over their record: corrections and erasures asked for
//! and answered, and how long a community keeps the data of people who left.

use super::prelude::*;
use yijia_service::erasure::{RetentionInput, RetentionView};
use yijia_service::record_requests::{RecordRequestAnswer, RecordRequestInput, RecordRequestView};

/// Ask for a correction of your record (with the evidence) or for its erasure. The secretary
/// answers; the answer is in your record's history.
#[utoipa::path(post, path = "/api/v1/me/record-requests", tag = "me", request_body = RecordRequestInput,
    responses(
        (status = 201, description = "Waiting for the secretary", body = RecordRequestView),
        (status = 403, description = "CSRF token missing, or a family member acting for him", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
        (status = 409, description = "Ten of his requests already wait for an answer", body = ErrorBody),
        (status = 422, description = "No text, too long, or a reason given by the person himself", body = ErrorBody),
    ))]
pub async fn ask_about_my_record(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<RecordRequestInput>,
) -> Result<(StatusCode, Json<RecordRequestView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.ask_about_my_record(&c, b).await.api(lang)?)))
}

/// Your requests about your record and their answers, newest first.
#[utoipa::path(get, path = "/api/v1/me/record-requests", tag = "me",
    responses(
        (status = 200, description = "Newest first", body = Vec<RecordRequestView>),
        (status = 403, description = "A family member acting for him", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
    ))]
pub async fn my_record_requests(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<RecordRequestView>>, ApiError> {
    Ok(Json(st.svc.my_record_requests(&c).await.api(lang)?))
}

/// Ask, for a resident without a phone, for a correction or an erasure of his record; say why
/// you ask for him.
#[utoipa::path(post, path = "/api/v1/residents/{id}/record-requests", tag = "residents", request_body = RecordRequestInput,
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 201, description = "Waiting for the secretary", body = RecordRequestView),
        (status = 403, description = "CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such resident within your scope", body = ErrorBody),
        (status = 409, description = "Ten of his requests already wait for an answer", body = ErrorBody),
        (status = 422, description = "No text, too long, or no reason", body = ErrorBody),
    ))]
pub async fn ask_for_resident(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<RecordRequestInput>,
) -> Result<(StatusCode, Json<RecordRequestView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.ask_for_resident(&c, id, b).await.api(lang)?)))
}

/// Corrections and erasures asked for in your communities, waiting ones first.
#[utoipa::path(get, path = "/api/v1/record-requests", tag = "residents",
    responses(
        (status = 200, description = "Waiting first, then the latest answered", body = Vec<RecordRequestView>),
        (status = 404, description = "Your role answers no requests", body = ErrorBody),
    ))]
pub async fn record_requests(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<RecordRequestView>>, ApiError> {
    Ok(Json(st.svc.record_requests(&c).await.api(lang)?))
}

/// Answer a request (the secretary): done or refused, saying what or why. An erasure granted
/// erases the person's data at once: only for someone no longer on the register.
#[utoipa::path(post, path = "/api/v1/record-requests/{id}/answer", tag = "residents", request_body = RecordRequestAnswer,
    params(("id" = i64, Path, description = "Request id")),
    responses(
        (status = 200, description = "Answered (and, for an erasure granted, erased)", body = RecordRequestView),
        (status = 403, description = "CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such request in a community of yours", body = ErrorBody),
        (status = 409, description = "Answered already, or the person is still on the register", body = ErrorBody),
        (status = 422, description = "No answer, or too long", body = ErrorBody),
    ))]
pub async fn answer_record_request(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<RecordRequestAnswer>,
) -> Result<Json<RecordRequestView>, ApiError> {
    Ok(Json(st.svc.answer_record_request(&c, id, b).await.api(lang)?))
}

/// How many years the community keeps the data of people who moved away or died.
#[utoipa::path(get, path = "/api/v1/org/{code}/retention", tag = "residents",
    params(("code" = String, Path, description = "Community code")),
    responses(
        (status = 200, description = "Years", body = RetentionView),
        (status = 404, description = "No such community within your scope", body = ErrorBody),
    ))]
pub async fn retention(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<RetentionView>, ApiError> {
    Ok(Json(st.svc.retention(&c, &code).await.api(lang)?))
}

/// Set how many years (1–30) the community keeps the data of people who moved away or died;
/// then it is erased.
#[utoipa::path(put, path = "/api/v1/org/{code}/retention", tag = "residents", request_body = RetentionInput,
    params(("code" = String, Path, description = "Community code")),
    responses(
        (status = 200, description = "Set", body = RetentionView),
        (status = 403, description = "CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such community within your scope", body = ErrorBody),
        (status = 422, description = "Not 1 to 30 years", body = ErrorBody),
    ))]
pub async fn set_retention(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(code): ApiPath<String>,
    ApiJson(b): ApiJson<RetentionInput>,
) -> Result<Json<RetentionView>, ApiError> {
    Ok(Json(st.svc.set_retention(&c, &code, b).await.api(lang)?))
}
