//! The love-points shop: items and stock, redemptions, handing over,
//! cancelling, the monthly report.

use super::prelude::*;
use yijia_service::shop::{
    CancelInput, ItemInput, ItemView, RedeemInput, Redeemed, RedemptionView, ShopReport, StockInput,
};

use super::points::CommunityParam;

/// A community's items, those not on offer too.
#[utoipa::path(get, path = "/api/v1/shop/items", tag = "shop", params(CommunityParam),
    responses(
        (status = 200, description = "The items", body = Vec<ItemView>),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 422, description = "Name the community", body = ErrorBody),
    ))]
pub async fn list_items(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
) -> Result<Json<Vec<ItemView>>, ApiError> {
    Ok(Json(st.svc.shop_items(&c, q.community.as_deref()).await.api(lang)?))
}

/// Put an item in the shop (with no stock: stock comes in with a reason).
#[utoipa::path(post, path = "/api/v1/shop/items", tag = "shop", params(CommunityParam), request_body = ItemInput,
    responses(
        (status = 201, description = "The item", body = ItemView),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 409, description = "An item of that name is there", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn add_item(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
    ApiJson(b): ApiJson<ItemInput>,
) -> Result<(StatusCode, Json<ItemView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.add_item(&c, q.community.as_deref(), b).await.api(lang)?)))
}

/// Change an item: name, description, price, limit, on offer or not.
#[utoipa::path(put, path = "/api/v1/shop/items/{id}", tag = "shop",
    params(("id" = i64, Path, description = "Item id")), request_body = ItemInput,
    responses(
        (status = 200, description = "The item", body = ItemView),
        (status = 404, description = "No such item in your community", body = ErrorBody),
        (status = 409, description = "An item of that name is there", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn update_item(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ItemInput>,
) -> Result<Json<ItemView>, ApiError> {
    Ok(Json(st.svc.update_item(&c, id, b).await.api(lang)?))
}

/// Stock in (a delivery) or out (spoilt, lost, counted short), with the reason.
#[utoipa::path(post, path = "/api/v1/shop/items/{id}/stock", tag = "shop",
    params(("id" = i64, Path, description = "Item id")), request_body = StockInput,
    responses(
        (status = 200, description = "The item", body = ItemView),
        (status = 404, description = "No such item in your community", body = ErrorBody),
        (status = 422, description = "No reason, zero, or below zero", body = ErrorBody),
    ))]
pub async fn change_stock(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<StockInput>,
) -> Result<Json<ItemView>, ApiError> {
    Ok(Json(st.svc.change_stock(&c, id, b).await.api(lang)?))
}

/// Redeem an item for a resident: their points and the stock are taken together and a pickup
/// code given. The `client_id` makes it safe to send again (200 with the same redemption); a
/// redemption that failed stays failed: 422 with `insufficient_points`, `out_of_stock` or
/// `over_limit`.
#[utoipa::path(post, path = "/api/v1/shop/redemptions", tag = "shop", request_body = RedeemInput,
    responses(
        (status = 201, description = "Redeemed: show the pickup code", body = Redeemed),
        (status = 200, description = "Redeemed before with this client id", body = Redeemed),
        (status = 404, description = "Not your community's shop", body = ErrorBody),
        (status = 409, description = "The client id was used for another redemption", body = ErrorBody),
        (status = 422, description = "A field is wrong, or not enough points, stock or limit", body = ErrorBody),
    ))]
pub async fn redeem(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<RedeemInput>,
) -> Result<(StatusCode, Json<Redeemed>), ApiError> {
    answer(st.svc.redeem(&c, b).await.api(lang)?, lang)
}

/// 201 for a new redemption, 200 for a replay, 422 naming why it failed.
pub(super) fn answer(r: Redeemed, lang: Lang) -> Result<(StatusCode, Json<Redeemed>), ApiError> {
    if !r.done() {
        let code = match r.reason.as_deref() {
            Some("stock") => "out_of_stock",
            Some("limit") => "over_limit",
            _ => "insufficient_points",
        };
        let message = if lang.en() { r.message_en } else { r.message };
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message.unwrap_or_default(), r.field));
    }
    Ok((if r.replayed { StatusCode::OK } else { StatusCode::CREATED }, Json(r)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WaitingParams {
    /// A community's code; default: yours.
    pub community: Option<String>,
    /// A pickup code: just the redemption waiting under it.
    pub code: Option<String>,
}

/// Redemptions waiting for pickup, oldest first; or, with `code`, the one waiting under it.
#[utoipa::path(get, path = "/api/v1/shop/redemptions", tag = "shop", params(WaitingParams),
    responses(
        (status = 200, description = "Waiting redemptions", body = Vec<RedemptionView>),
        (status = 404, description = "Not your community, or no redemption waits under that code", body = ErrorBody),
        (status = 422, description = "Name the community", body = ErrorBody),
    ))]
pub async fn waiting_redemptions(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<WaitingParams>,
) -> Result<Json<Vec<RedemptionView>>, ApiError> {
    let community = q.community.as_deref();
    Ok(Json(match q.code.as_deref() {
        Some(code) => vec![st.svc.redemption_by_code(&c, community, code).await.api(lang)?],
        None => st.svc.waiting_redemptions(&c, community).await.api(lang)?,
    }))
}

/// The goods were handed over.
#[utoipa::path(post, path = "/api/v1/shop/redemptions/{id}/handover", tag = "shop",
    params(("id" = i64, Path, description = "Redemption id")),
    responses(
        (status = 200, description = "Handed over", body = RedemptionView),
        (status = 404, description = "No such redemption in your community", body = ErrorBody),
        (status = 409, description = "Handed over or cancelled already", body = ErrorBody),
    ))]
pub async fn hand_over(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<RedemptionView>, ApiError> {
    Ok(Json(st.svc.hand_over(&c, id).await.api(lang)?))
}

/// Cancel a waiting redemption: the points and the stock go back.
#[utoipa::path(post, path = "/api/v1/shop/redemptions/{id}/cancel", tag = "shop",
    params(("id" = i64, Path, description = "Redemption id")), request_body = CancelInput,
    responses(
        (status = 200, description = "Cancelled", body = RedemptionView),
        (status = 404, description = "No such redemption in your community", body = ErrorBody),
        (status = 409, description = "Handed over or cancelled already", body = ErrorBody),
        (status = 422, description = "No reason", body = ErrorBody),
    ))]
pub async fn cancel_redemption(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CancelInput>,
) -> Result<Json<RedemptionView>, ApiError> {
    Ok(Json(st.svc.cancel_redemption(&c, id, b).await.api(lang)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// A community's code; default: yours.
    pub community: Option<String>,
    /// `2026-11`; default: this month.
    pub month: Option<String>,
}

/// A month of the shop: points issued, redeemed and outstanding; what was handed out.
#[utoipa::path(get, path = "/api/v1/shop/report", tag = "shop", params(ReportParams),
    responses(
        (status = 200, description = "The month's figures", body = ShopReport),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 422, description = "Name the community, or the month is not like 2026-11", body = ErrorBody),
    ))]
pub async fn shop_report(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<ReportParams>,
) -> Result<Json<ShopReport>, ApiError> {
    Ok(Json(st.svc.shop_report(&c, q.community.as_deref(), q.month.as_deref()).await.api(lang)?))
}

#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // documents the body; the handler reads it as multipart
pub struct ItemPhotoUpload {
    /// One JPEG, PNG or WebP, at most 10 MB and 50 megapixels.
    #[schema(value_type = String, format = Binary)]
    pub photo: Vec<u8>,
}

/// Give an item its photo (replacing the one it had). Checked by content, cleaned of EXIF and
/// GPS, and re-encoded.
#[utoipa::path(post, path = "/api/v1/shop/items/{id}/photo", tag = "shop",
    request_body(content = ItemPhotoUpload, content_type = "multipart/form-data"),
    params(("id" = i64, Path, description = "Item id")),
    responses(
        (status = 200, description = "The item", body = ItemView),
        (status = 400, description = "Not a multipart body", body = ErrorBody),
        (status = 404, description = "No such item in your community", body = ErrorBody),
        (status = 415, description = "Not multipart", body = ErrorBody),
        (status = 422, description = "Not one JPEG, PNG or WebP photo, or too large", body = ErrorBody),
    ))]
pub async fn set_item_photo(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    form: crate::upload::ApiForm,
) -> Result<Json<ItemView>, ApiError> {
    let u = crate::upload::read_api(form, "photo").await?;
    Ok(Json(st.svc.set_item_photo(&c, id, u.files).await.api(lang)?))
}

/// An item's photo, for the shop's readers and the community's residents.
#[utoipa::path(get, path = "/api/v1/shop/items/{id}/photo", tag = "shop",
    params(("id" = i64, Path, description = "Item id")),
    responses(
        (status = 200, description = "The photo, as the type it is", content(
            (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"))),
        (status = 404, description = "No such item, or it has no photo", body = ErrorBody),
    ))]
pub async fn item_photo(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::response::Response, ApiError> {
    Ok(super::cases::photo_attachment(st.svc.item_photo(&c, id).await.api(lang)?))
}
