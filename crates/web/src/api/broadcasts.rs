//! Emergency broadcasts: send one to an area, confirm a subdistrict-wide
//! one, end one; the current ones for the banner.

use super::prelude::*;
use yijia_service::broadcasts::{BroadcastInput, BroadcastView};

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
