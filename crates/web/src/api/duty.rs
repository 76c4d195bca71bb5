//! Duty posts and their shifts, the code residents scan at an activity,
//! and the public honours board.

use super::prelude::*;
use yijia_service::activities::{ActivityView, CheckCode};
use yijia_service::duty::{PostInput, PostView, ShiftInput};
use yijia_service::honours::HonoursBoard;

use super::points::CommunityParam;

/// A community's duty posts, each with its recent and coming shifts.
#[utoipa::path(get, path = "/api/v1/duty/posts", tag = "duty", params(CommunityParam),
    responses(
        (status = 200, description = "The posts", body = Vec<PostView>),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 422, description = "Name the community", body = ErrorBody),
    ))]
pub async fn list_posts(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
) -> Result<Json<Vec<PostView>>, ApiError> {
    Ok(Json(st.svc.duty_posts(&c, q.community.as_deref()).await.api(lang)?))
}

/// Set up a duty post (门岗).
#[utoipa::path(post, path = "/api/v1/duty/posts", tag = "duty", params(CommunityParam), request_body = PostInput,
    responses(
        (status = 201, description = "The post", body = PostView),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 409, description = "A post of that name is there", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn add_post(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
    ApiJson(b): ApiJson<PostInput>,
) -> Result<(StatusCode, Json<PostView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.add_post(&c, q.community.as_deref(), b).await.api(lang)?)))
}

/// A shift at a post: residents sign up and are checked in as for an activity; confirmed, a
/// completed shift earns its points an hour.
#[utoipa::path(post, path = "/api/v1/duty/posts/{id}/shifts", tag = "duty",
    params(("id" = i64, Path, description = "Post id")), request_body = ShiftInput,
    responses(
        (status = 201, description = "The shift, as an activity", body = ActivityView),
        (status = 404, description = "No such post in your community", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn add_shift(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ShiftInput>,
) -> Result<(StatusCode, Json<ActivityView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.add_shift(&c, id, b).await.api(lang)?)))
}

/// The code to show at an activity: residents scan it to check themselves in (and out). It
/// changes every five minutes and the one before still works.
#[utoipa::path(get, path = "/api/v1/activities/{id}/check-code", tag = "activities",
    params(("id" = i64, Path, description = "Activity id")),
    responses(
        (status = 200, description = "The code and the page it opens", body = CheckCode),
        (status = 404, description = "No such activity in your community", body = ErrorBody),
        (status = 409, description = "The activity is confirmed or cancelled", body = ErrorBody),
    ))]
pub async fn check_code(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CheckCode>, ApiError> {
    Ok(Json(st.svc.check_code(&c, id).await.api(lang)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardParams {
    /// A community's org code.
    pub community: String,
    /// `2026-11`; default: last month.
    pub month: Option<String>,
}

/// The honours board of a community for a month: the published rules and who earned them;
/// names only of residents who chose to be named. No login.
#[utoipa::path(get, path = "/api/v1/honours", tag = "duty", params(BoardParams),
    responses(
        (status = 200, description = "The board", body = HonoursBoard),
        (status = 404, description = "No such community", body = ErrorBody),
        (status = 422, description = "The month is not like 2026-11", body = ErrorBody),
    ))]
pub async fn honours(
    State(st): State<AppState>,
    lang: Lang,
    ApiQuery(q): ApiQuery<BoardParams>,
) -> Result<Json<HonoursBoard>, ApiError> {
    Ok(Json(st.svc.honours_board(&q.community, q.month.as_deref()).await.api(lang)?))
}
