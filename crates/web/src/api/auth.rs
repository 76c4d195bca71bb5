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
    Ok(logged_in(&st, li))
}

/// The answer to a login that passed: the token, and the session cookie.
fn logged_in(st: &AppState, li: yijia_service::auth::LoggedIn) -> Response {
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
    res
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// A resident's 11-digit mobile number, the one she logs in with.
    #[schema(max_length = 20)]
    pub phone: String,
}

/// Send a one-time login code by SMS to a resident's phone. The answer is
/// the same whether or not the number has an account; staff log in with
/// their password.
#[utoipa::path(post, path = "/api/v1/auth/sms-code", tag = "auth", request_body = CodeRequest,
    responses(
        (status = 202, description = "If the number is a resident's account, a code is on its way (valid 5 minutes)"),
        (status = 409, description = "This site sends no SMS, or the SMS did not go out", body = ErrorBody),
        (status = 422, description = "Not a mobile number", body = ErrorBody),
        (status = 429, description = "A code was sent a moment ago, or too many codes asked for", body = ErrorBody),
    ))]
pub async fn sms_code(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    lang: Lang,
    ApiJson(body): ApiJson<CodeRequest>,
) -> Result<axum::http::StatusCode, ApiError> {
    let from = crate::policy::origin(ip, &headers);
    st.svc.send_login_code(&body.phone, &from).await.api(lang)?;
    Ok(axum::http::StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeLogin {
    #[schema(max_length = 20)]
    pub phone: String,
    /// The 6 digits of the SMS.
    #[schema(max_length = 6)]
    pub code: String,
}

/// Log in as a resident with the code sent by SMS; answers as `login`.
#[utoipa::path(post, path = "/api/v1/auth/sms-login", tag = "auth", request_body = CodeLogin,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 401, description = "Wrong, used or expired code, or the account is locked", body = ErrorBody),
        (status = 422, description = "Not a mobile number, or the code is not 6 digits", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address", body = ErrorBody),
    ))]
pub async fn sms_login(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    lang: Lang,
    ApiJson(body): ApiJson<CodeLogin>,
) -> Result<Response, ApiError> {
    let from = crate::policy::origin(ip, &headers);
    let li = st.svc.login_with_code(&body.phone, &body.code, &from).await.api(lang)?;
    Ok(logged_in(&st, li))
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
