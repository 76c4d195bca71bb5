//! What other systems use: API keys for Open311 clients (issued by admins)
//! and webhooks that carry case events out.

use super::prelude::*;
use yijia_service::cases::open311::ApiKeyView;
use yijia_service::webhooks::WebhookView;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// Who it is for (2–60 characters).
    pub name: String,
    /// The community or subdistrict code it may file requests into.
    pub scope: String,
}

/// Issue a key; the answer is the only time the key is shown.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "open311", request_body = NewApiKey,
    responses(
        (status = 201, description = "Issued; `key` is shown this once", body = ApiKeyView),
        (status = 403, description = "Not an admin of that scope", body = ErrorBody),
        (status = 404, description = "Your role does not issue keys", body = ErrorBody),
        (status = 422, description = "No such community or subdistrict, or the name is too short", body = ErrorBody),
    ))]
pub async fn issue(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<NewApiKey>,
) -> Result<(StatusCode, Json<ApiKeyView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.issue_api_key(&c, &b.name, &b.scope).await.api(lang)?)))
}

/// The keys issued in your scope (never the keys themselves).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "open311",
    responses(
        (status = 200, description = "The keys", body = Vec<ApiKeyView>),
        (status = 404, description = "Your role does not issue keys", body = ErrorBody),
    ))]
pub async fn list(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> Result<Json<Vec<ApiKeyView>>, ApiError> {
    Ok(Json(st.svc.api_keys(&c).await.api(lang)?))
}

/// Stop a key from working.
#[utoipa::path(post, path = "/api/v1/api-keys/{id}/revoke", tag = "open311",
    params(("id" = i64, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such key in your scope", body = ErrorBody),
    ))]
pub async fn revoke(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    st.svc.revoke_api_key(&c, id).await.api(lang)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// The community or subdistrict whose events it gets.
    pub scope: String,
    /// An http:// or https:// address that takes a POST.
    pub url: String,
}

/// Add a webhook; the answer is the only time its signing secret is shown.
/// Each event is POSTed as JSON with `X-Yijia-Event`, `X-Yijia-Delivery`,
/// `X-Yijia-Timestamp` and `X-Yijia-Signature: sha256=HMAC(secret, timestamp + "." + body)`.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "open311", request_body = NewWebhook,
    responses(
        (status = 201, description = "Added; `secret` is shown this once", body = WebhookView),
        (status = 404, description = "Your role does not add webhooks", body = ErrorBody),
        (status = 422, description = "Not an http(s) address, or a scope not yours", body = ErrorBody),
    ))]
pub async fn add_webhook(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<NewWebhook>,
) -> Result<(StatusCode, Json<WebhookView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.add_webhook(&c, &b.scope, &b.url).await.api(lang)?)))
}

/// The webhooks in your scope, with how their deliveries go.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "open311",
    responses(
        (status = 200, description = "The webhooks", body = Vec<WebhookView>),
        (status = 404, description = "Your role does not add webhooks", body = ErrorBody),
    ))]
pub async fn list_webhooks(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    Ok(Json(st.svc.webhooks(&c).await.api(lang)?))
}

/// Stop sending to a webhook.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/disable", tag = "open311",
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 204, description = "Disabled"),
        (status = 404, description = "No such webhook in your scope", body = ErrorBody),
    ))]
pub async fn disable_webhook(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    st.svc.disable_webhook(&c, id).await.api(lang)?;
    Ok(StatusCode::NO_CONTENT)
}
