//! Family proxies (代办): staff link a family member to a resident with his
//! consent; the resident, the family member or staff end it; staff renew it.

use super::prelude::*;
use yijia_service::proxies::{EndProxyInput, ProxyView, ResidentProxies};

/// A resident's family proxies, live first.
#[utoipa::path(get, path = "/api/v1/residents/{id}/proxies", tag = "residents",
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 200, description = "The resident and his family proxies", body = ResidentProxies),
        (status = 404, description = "Not in your scope", body = ErrorBody),
    ))]
pub async fn list_proxies(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ResidentProxies>, ApiError> {
    Ok(Json(st.svc.proxies_of(&c, id).await.api(lang)?))
}

/// A family proxy as the form carries it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ProxyForm {
    /// At most 20 characters.
    family_name: String,
    /// The family member's 11-digit mobile: their login name.
    phone: String,
    /// 儿子, 女儿: at most 10 characters.
    relation: String,
    /// `requests`, `points`, `book`, `vote`: comma-separated, or the field repeated.
    acts: String,
    /// `paper` (the photo is needed) or `in_person`.
    consent: String,
    /// The signed consent form: one JPEG, PNG or WebP, at most 10 MB.
    #[schema(value_type = Option<String>, format = Binary)]
    consent_photo: Option<Vec<u8>>,
}

/// Link a family member to a resident, with his consent recorded. Where the mobile has no account
/// yet, the answer carries the one-time code the family member signs up with at `/join` (14 days).
#[utoipa::path(post, path = "/api/v1/residents/{id}/proxies", tag = "residents",
    params(("id" = i64, Path, description = "Resident id")),
    request_body(content = ProxyForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The link", body = ProxyView),
        (status = 400, description = "Not a multipart body", body = ErrorBody),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "That family member acts for another resident already, or the resident is not on the register", body = ErrorBody),
        (status = 413, description = "Too large", body = ErrorBody),
        (status = 415, description = "Not multipart", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn link_proxy(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    form: crate::upload::ApiForm,
) -> Result<(StatusCode, Json<ProxyView>), ApiError> {
    let u = crate::upload::read_api(form, "consent_photo").await?;
    let input = crate::ui::proxy_input(&u);
    Ok((StatusCode::CREATED, Json(st.svc.link_proxy(&c, id, input, u.files).await.api(lang)?)))
}

/// End a family proxy: the resident, the family member, or staff over his grid.
#[utoipa::path(post, path = "/api/v1/proxies/{id}/end", tag = "residents", request_body = EndProxyInput,
    params(("id" = i64, Path, description = "Proxy id")),
    responses(
        (status = 200, description = "The link, ended", body = ProxyView),
        (status = 404, description = "Not yours, nor in your scope", body = ErrorBody),
        (status = 409, description = "Ended already", body = ErrorBody),
        (status = 422, description = "The reason is too long", body = ErrorBody),
    ))]
pub async fn end_proxy(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<EndProxyInput>,
) -> Result<Json<ProxyView>, ApiError> {
    Ok(Json(st.svc.end_proxy(&c, id, b).await.api(lang)?))
}

/// Renew a live family proxy for another year.
#[utoipa::path(post, path = "/api/v1/proxies/{id}/renew", tag = "residents",
    params(("id" = i64, Path, description = "Proxy id")),
    responses(
        (status = 200, description = "The link, renewed", body = ProxyView),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "It has ended, or the resident is not on the register", body = ErrorBody),
    ))]
pub async fn renew_proxy(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ProxyView>, ApiError> {
    Ok(Json(st.svc.renew_proxy(&c, id).await.api(lang)?))
}

/// For a resident: who may act for him. For a family member: whom they act for.
#[utoipa::path(get, path = "/api/v1/me/proxies", tag = "me",
    responses(
        (status = 200, description = "The links", body = Vec<ProxyView>),
        (status = 403, description = "No resident record linked", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
    ))]
pub async fn my_proxies(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<ProxyView>>, ApiError> {
    Ok(Json(st.svc.my_proxies(&c).await.api(lang)?))
}
