//! Emergency broadcasts: send one to an area, confirm a subdistrict-wide
//! one, end one; the current ones for the banner.

use super::prelude::*;
use yijia_domain::broadcast::Answer;
use yijia_service::broadcasts::{
    AnswerInput, Answered, BroadcastInput, BroadcastView, RollcallBoard, RollcallPerson, SafeInput, UnreachablePerson,
};

/// The broadcasts of your area, newest first.
#[utoipa::path(get, path = "/api/v1/broadcasts", tag = "broadcasts",
    responses(
        (status = 200, description = "The broadcasts", body = Vec<BroadcastView>),
        (status = 404, description = "Your role does not see broadcasts", body = ErrorBody),
    ))]
pub async fn list_broadcasts(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<BroadcastView>>, ApiError> {
    Ok(Json(st.svc.broadcasts(&c, lang.en()).await.api(lang)?))
}

/// Warn a building, an estate, grids, a community or (confirmed by a second
/// street officer) a subdistrict through every channel at once.
#[utoipa::path(post, path = "/api/v1/broadcasts", tag = "broadcasts", request_body = BroadcastInput,
    responses(
        (status = 201, description = "Sent, or awaiting a second street officer", body = BroadcastView),
        (status = 404, description = "Your role does not send broadcasts", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn send_broadcast(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<BroadcastInput>,
) -> Result<(StatusCode, Json<BroadcastView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.send_broadcast(&c, &b, lang.en()).await.api(lang)?)))
}

/// The active broadcasts you were told of or sent: what the banner shows.
#[utoipa::path(get, path = "/api/v1/broadcasts/current", tag = "broadcasts",
    responses((status = 200, description = "The current broadcasts", body = Vec<BroadcastView>)))]
pub async fn current_broadcasts(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<BroadcastView>>, ApiError> {
    Ok(Json(st.svc.current_broadcasts(&c, lang.en()).await.api(lang)?))
}

/// One broadcast: for the staff of its area and whoever was told of it.
#[utoipa::path(get, path = "/api/v1/broadcasts/{id}", tag = "broadcasts",
    params(("id" = i64, Path, description = "Broadcast id")),
    responses(
        (status = 200, description = "The broadcast", body = BroadcastView),
        (status = 404, description = "No such broadcast in your reach", body = ErrorBody),
    ))]
pub async fn get_broadcast(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<BroadcastView>, ApiError> {
    Ok(Json(st.svc.broadcast(&c, id, lang.en()).await.api(lang)?))
}

/// A second street officer lets a subdistrict-wide broadcast go.
#[utoipa::path(post, path = "/api/v1/broadcasts/{id}/confirm", tag = "broadcasts",
    params(("id" = i64, Path, description = "Broadcast id")),
    responses(
        (status = 200, description = "Confirmed: it goes now", body = BroadcastView),
        (status = 404, description = "No such broadcast in your reach", body = ErrorBody),
        (status = 409, description = "Not awaiting, or you sent it yourself", body = ErrorBody),
    ))]
pub async fn confirm_broadcast(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<BroadcastView>, ApiError> {
    Ok(Json(st.svc.confirm_broadcast(&c, id, lang.en()).await.api(lang)?))
}

/// End a broadcast: its banner goes, its record stays.
#[utoipa::path(post, path = "/api/v1/broadcasts/{id}/end", tag = "broadcasts",
    params(("id" = i64, Path, description = "Broadcast id")),
    responses(
        (status = 200, description = "Ended", body = BroadcastView),
        (status = 404, description = "No such broadcast in your reach", body = ErrorBody),
        (status = 409, description = "It has ended already", body = ErrorBody),
    ))]
pub async fn end_broadcast(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<BroadcastView>, ApiError> {
    Ok(Json(st.svc.end_broadcast(&c, id, lang.en()).await.api(lang)?))
}

/// The roll-call's live board: reached, safe, needing help and not reached, per grid.
#[utoipa::path(get, path = "/api/v1/broadcasts/{id}/rollcall", tag = "broadcasts",
    params(("id" = i64, Path, description = "Broadcast id")),
    responses(
        (status = 200, description = "The board", body = RollcallBoard),
        (status = 404, description = "No such roll-call in your reach", body = ErrorBody),
    ))]
pub async fn rollcall_board(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RollcallBoard>, ApiError> {
    Ok(Json(st.svc.rollcall_board(&c, id, lang.en()).await.api(lang)?))
}

/// Which people to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeopleQuery {
    /// One grid's code.
    pub grid: Option<String>,
    pub state: Option<Answer>,
}

/// The people to reach in your grids, in walking order.
#[utoipa::path(get, path = "/api/v1/broadcasts/{id}/rollcall/people", tag = "broadcasts",
    params(("id" = i64, Path, description = "Broadcast id"), PeopleQuery),
    responses(
        (status = 200, description = "The people", body = Vec<RollcallPerson>),
        (status = 404, description = "No such roll-call in your reach", body = ErrorBody),
        (status = 422, description = "No such grid", body = ErrorBody),
    ))]
pub async fn rollcall_people(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PeopleQuery>,
) -> Result<Json<Vec<RollcallPerson>>, ApiError> {
    Ok(Json(st.svc.rollcall_people(&c, id, q.grid.as_deref(), q.state, lang.en()).await.api(lang)?))
}

/// Who in the area (and your grids) no channel reaches, no phone and no
/// account, in walking order: to be told at the door. At most 2,000.
#[utoipa::path(get, path = "/api/v1/broadcasts/{id}/unreachable", tag = "broadcasts",
    params(("id" = i64, Path, description = "Broadcast id")),
    responses(
        (status = 200, description = "The people", body = Vec<UnreachablePerson>),
        (status = 404, description = "No such broadcast in your reach", body = ErrorBody),
    ))]
pub async fn unreachable_people(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<UnreachablePerson>>, ApiError> {
    Ok(Json(st.svc.unreachable_people(&c, id).await.api(lang)?))
}

/// Answer for one person: safe, needs help (an emergency case opens at their home), or not reached.
#[utoipa::path(post, path = "/api/v1/broadcasts/{id}/rollcall/answer", tag = "broadcasts", request_body = AnswerInput,
    params(("id" = i64, Path, description = "Broadcast id")),
    responses(
        (status = 200, description = "Recorded", body = Answered),
        (status = 404, description = "No such person on a roll-call in your reach", body = ErrorBody),
        (status = 409, description = "The broadcast has ended", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn answer_rollcall(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<AnswerInput>,
) -> Result<Json<Answered>, ApiError> {
    Ok(Json(st.svc.answer_rollcall(&c, id, &b).await.api(lang)?))
}

/// 我平安: answer for yourself, or a family member in your household.
#[utoipa::path(post, path = "/api/v1/broadcasts/{id}/safe", tag = "broadcasts", request_body = SafeInput,
    params(("id" = i64, Path, description = "Broadcast id")),
    responses(
        (status = 204, description = "Recorded"),
        (status = 404, description = "Nobody of yours on its roll-call", body = ErrorBody),
    ))]
pub async fn answer_safe(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SafeInput>,
) -> Result<StatusCode, ApiError> {
    st.svc.answer_safe(&c, id, &b).await.api(lang)?;
    Ok(StatusCode::NO_CONTENT)
}
