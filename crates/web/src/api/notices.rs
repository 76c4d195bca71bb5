//! Notices to a community, a grid or a building, and residents reading them.

use super::prelude::*;
use yijia_service::notices::{NoticeInput, NoticeView, PinInput};

use super::points::CommunityParam;

/// A community's notices, newest first, with how many have read each.
#[utoipa::path(get, path = "/api/v1/notices", tag = "notices", params(CommunityParam),
    responses(
        (status = 200, description = "The notices", body = Vec<NoticeView>),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 422, description = "Name the community", body = ErrorBody),
    ))]
pub async fn list_notices(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
) -> Result<Json<Vec<NoticeView>>, ApiError> {
    Ok(Json(st.svc.notices(&c, q.community.as_deref()).await.api(lang)?))
}

/// Post a notice to the community (`grid` and `building_id` left out), one grid, or one building.
#[utoipa::path(post, path = "/api/v1/notices", tag = "notices", params(CommunityParam), request_body = NoticeInput,
    responses(
        (status = 201, description = "The notice", body = NoticeView),
        (status = 403, description = "Not to that audience", body = ErrorBody),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn post_notice(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
    ApiJson(b): ApiJson<NoticeInput>,
) -> Result<(StatusCode, Json<NoticeView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.post_notice(&c, q.community.as_deref(), b).await.api(lang)?)))
}

/// Withdraw a notice: residents no longer see it.
#[utoipa::path(post, path = "/api/v1/notices/{id}/withdraw", tag = "notices",
    params(("id" = i64, Path, description = "Notice id")),
    responses(
        (status = 200, description = "The notice, withdrawn", body = NoticeView),
        (status = 404, description = "No such notice in your scope", body = ErrorBody),
        (status = 409, description = "Withdrawn already", body = ErrorBody),
    ))]
pub async fn withdraw_notice(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<NoticeView>, ApiError> {
    Ok(Json(st.svc.withdraw_notice(&c, id).await.api(lang)?))
}

/// Pin a notice to the top of residents' lists, or unpin it.
#[utoipa::path(put, path = "/api/v1/notices/{id}/pin", tag = "notices",
    params(("id" = i64, Path, description = "Notice id")), request_body = PinInput,
    responses(
        (status = 200, description = "The notice", body = NoticeView),
        (status = 404, description = "No such notice in your scope", body = ErrorBody),
        (status = 422, description = "A field is wrong", body = ErrorBody),
    ))]
pub async fn pin_notice(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<PinInput>,
) -> Result<Json<NoticeView>, ApiError> {
    Ok(Json(st.svc.pin_notice(&c, id, b).await.api(lang)?))
}

/// Which of a resident's notices.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyNoticesParams {
    /// `true`: those that have ended (the last hundred), instead of those up now.
    pub ended: Option<bool>,
}

/// For a resident: the notices for where they live, pinned first, each marked read or not.
#[utoipa::path(get, path = "/api/v1/me/notices", tag = "me", params(MyNoticesParams),
    responses(
        (status = 200, description = "The notices", body = Vec<NoticeView>),
        (status = 403, description = "No resident record linked", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
    ))]
pub async fn my_notices(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<MyNoticesParams>,
) -> Result<Json<Vec<NoticeView>>, ApiError> {
    let list = if q.ended == Some(true) { st.svc.my_past_notices(&c).await } else { st.svc.my_notices(&c).await };
    Ok(Json(list.api(lang)?))
}

/// For a resident: open a notice meant for them, which counts it read.
#[utoipa::path(post, path = "/api/v1/me/notices/{id}/read", tag = "me",
    params(("id" = i64, Path, description = "Notice id")),
    responses(
        (status = 200, description = "The notice", body = NoticeView),
        (status = 403, description = "No resident record linked", body = ErrorBody),
        (status = 404, description = "No such notice for you now", body = ErrorBody),
    ))]
pub async fn read_notice(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<NoticeView>, ApiError> {
    Ok(Json(st.svc.read_notice(&c, id).await.api(lang)?))
}
