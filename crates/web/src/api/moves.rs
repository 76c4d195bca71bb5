//! A resident who moves: within the community, or to another community in
//! yijia (a transfer the receiving community accepts or refuses).

use super::prelude::*;
use yijia_service::moves::{
    MoveInput, MoveOutcome, ResidentTransfer, ResidentTransferInput, TransferAccept, TransferRefuse,
};

/// Move a resident to another household or grid of the same community. His plan (due again
/// from that day), his open requests and his account follow; the change goes into the
/// record's history.
#[utoipa::path(post, path = "/api/v1/residents/{id}/move", tag = "residents", request_body = MoveInput,
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 200, description = "Where the record is now", body = MoveOutcome),
        (status = 403, description = "CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such resident within your scope", body = ErrorBody),
        (status = 409, description = "The record changed meanwhile", body = ErrorBody),
        (status = 422, description = "Not a grid of this community or of yours, an address or a day that does not fit, no reason", body = ErrorBody),
    ))]
pub async fn move_resident(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<MoveInput>,
) -> Result<Json<MoveOutcome>, ApiError> {
    Ok(Json(st.svc.move_resident(&c, id, b).await.api(lang)?))
}

/// Ask another community in yijia to take a resident over. He stays here until it accepts;
/// then his record moves there with its categories and history, and this community no
/// longer sees him.
#[utoipa::path(post, path = "/api/v1/residents/{id}/transfer", tag = "residents", request_body = ResidentTransferInput,
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 201, description = "Waiting for the receiving community", body = ResidentTransfer),
        (status = 403, description = "CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such resident within your scope", body = ErrorBody),
        (status = 409, description = "A transfer of this resident is waiting already", body = ErrorBody),
        (status = 422, description = "Not another community, a day that does not fit, no reason", body = ErrorBody),
    ))]
pub async fn request_transfer(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ResidentTransferInput>,
) -> Result<(StatusCode, Json<ResidentTransfer>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.request_transfer(&c, id, b).await.api(lang)?)))
}

/// Transfers into and out of your communities, waiting ones first.
#[utoipa::path(get, path = "/api/v1/transfers", tag = "residents",
    responses(
        (status = 200, description = "Waiting first, then the latest decided", body = Vec<ResidentTransfer>),
        (status = 404, description = "Your role keeps no records", body = ErrorBody),
    ))]
pub async fn transfers(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<ResidentTransfer>>, ApiError> {
    Ok(Json(st.svc.transfers(&c).await.api(lang)?))
}

/// Take a resident over from another community, placing him in a grid and household of yours.
#[utoipa::path(post, path = "/api/v1/transfers/{id}/accept", tag = "residents", request_body = TransferAccept,
    params(("id" = i64, Path, description = "Transfer id")),
    responses(
        (status = 200, description = "Accepted: the record is yours", body = ResidentTransfer),
        (status = 403, description = "CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such transfer into a community of yours", body = ErrorBody),
        (status = 409, description = "Decided already, or the record changed meanwhile", body = ErrorBody),
        (status = 422, description = "Not a grid of your community, or an address that does not fit", body = ErrorBody),
    ))]
pub async fn accept_transfer(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<TransferAccept>,
) -> Result<Json<ResidentTransfer>, ApiError> {
    Ok(Json(st.svc.accept_transfer(&c, id, b).await.api(lang)?))
}

/// Say no to a transfer, with the reason; the resident stays where he is.
#[utoipa::path(post, path = "/api/v1/transfers/{id}/refuse", tag = "residents", request_body = TransferRefuse,
    params(("id" = i64, Path, description = "Transfer id")),
    responses(
        (status = 200, description = "Refused", body = ResidentTransfer),
        (status = 403, description = "CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such transfer into a community of yours", body = ErrorBody),
        (status = 409, description = "Decided already", body = ErrorBody),
        (status = 422, description = "No reason", body = ErrorBody),
    ))]
pub async fn refuse_transfer(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<TransferRefuse>,
) -> Result<Json<ResidentTransfer>, ApiError> {
    Ok(Json(st.svc.refuse_transfer(&c, id, b).await.api(lang)?))
}
