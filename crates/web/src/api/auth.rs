use super::prelude::*;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use yijia_service::auth::UserView;

use crate::policy::{ClientIp, clear_session_cookie, session_cookie};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// For an account with a second factor: the authenticator app's 6 digits, or a recovery code.
    #[serde(default)]
    #[schema(max_length = 32)]
    pub totp: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer TOKEN`.
    pub token: String,
    /// Needed as `X-CSRF-Token` on unsafe requests that use the cookie instead.
    pub csrf_token: String,
    pub user: UserView,
    /// Your role requires a second factor and you have none yet: until you
    /// set one up (`/api/v1/me/two-factor/setup`, then `confirm`), every
    /// other call answers 403 `totp_enrolment_required`.
    pub totp_enrolment_required: bool,
}

/// Log in; answers a bearer token and sets the session cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 401, description = "Wrong username, password or code, the account is locked, or \
            `totp_required`: the account has a second factor and `totp` was not sent", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address", body = ErrorBody),
    ))]
pub async fn login(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    lang: Lang,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let from = crate::policy::origin(ip, &headers);
    let li = st.svc.login(&body.username, &body.password, body.totp.as_deref(), &from).await.api(lang)?;
    let answer = LoginResponse {
        token: li.token.clone(),
        csrf_token: li.csrf_token,
        user: li.user,
        totp_enrolment_required: li.must_enrol,
    };
    let mut res = Json(answer).into_response();
    if let Ok(v) = HeaderValue::from_str(&session_cookie(&li.token, st.cfg.tls)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// End this session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses(
        (status = 204, description = "Logged out"),
        (status = 403, description = "CSRF token missing (cookie sessions)", body = ErrorBody),
    ))]
pub async fn logout(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> Result<Response, ApiError> {
    st.svc.logout(&c).await.api(lang)?;
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&clear_session_cookie()) {
        h.insert(header::SET_COOKIE, v);
    }
    Ok((axum::http::StatusCode::NO_CONTENT, h).into_response())
}

/// The logged-in user and their grants.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses(
        (status = 200, description = "The caller", body = UserView),
    ))]
pub async fn me(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> Result<Json<UserView>, ApiError> {
    Ok(Json(st.svc.me(&c).api(lang)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Change your own password. Every session of yours ends, this one too.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; log in again"),
        (status = 403, description = "CSRF token missing (cookie sessions)", body = ErrorBody),
        (status = 422, description = "Wrong current password, or the new one is too weak", body = ErrorBody),
    ))]
pub async fn change_password(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<axum::http::StatusCode, ApiError> {
    st.svc.change_own_password(&c, &body.current_password, &body.new_password).await.api(lang)?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
