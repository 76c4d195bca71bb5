//! One's own second factor and sessions, and a manager's hand on another
//! person's: resetting a lost factor, ending sessions.

use super::prelude::*;
use serde::Serialize;
use yijia_service::auth::SessionView;
use yijia_service::two_factor::{Enrolment, RecoveryCodes, TwoFactorStatus};
use yijia_service::{Page, PageReq};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeInput {
    /// The 6 digits the authenticator app shows (or, to turn it off, a recovery code).
    #[schema(max_length = 32)]
    pub code: String,
}

/// Whether your second factor is on, and whether your role requires one.
#[utoipa::path(get, path = "/api/v1/me/two-factor", tag = "auth",
    responses(
        (status = 200, description = "Your second factor", body = TwoFactorStatus),
    ))]
pub async fn status(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> Result<Json<TwoFactorStatus>, ApiError> {
    Ok(Json(st.svc.two_factor_status(&c).await.api(lang)?))
}

/// Start setting up a second factor: a new secret and its QR code for an
/// authenticator app. It is on once confirmed with a code.
#[utoipa::path(post, path = "/api/v1/me/two-factor/setup", tag = "auth",
    responses(
        (status = 200, description = "The secret to scan", body = Enrolment),
        (status = 403, description = "CSRF token missing (cookie sessions)", body = ErrorBody),
        (status = 409, description = "A second factor is on already", body = ErrorBody),
    ))]
pub async fn setup(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> Result<Json<Enrolment>, ApiError> {
    Ok(Json(st.svc.begin_totp(&c).await.api(lang)?))
}

/// Turn the second factor on with a first code from the app. Answers ten
/// recovery codes, shown only this once.
#[utoipa::path(post, path = "/api/v1/me/two-factor/confirm", tag = "auth", request_body = CodeInput,
    responses(
        (status = 200, description = "On; the recovery codes", body = RecoveryCodes),
        (status = 403, description = "CSRF token missing (cookie sessions)", body = ErrorBody),
        (status = 409, description = "Not set up yet, or on already", body = ErrorBody),
        (status = 422, description = "Wrong code", body = ErrorBody),
    ))]
pub async fn confirm(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<CodeInput>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    Ok(Json(st.svc.confirm_totp(&c, &b.code).await.api(lang)?))
}

/// New recovery codes in place of the old, with a code from the app.
#[utoipa::path(post, path = "/api/v1/me/two-factor/recovery-codes", tag = "auth", request_body = CodeInput,
    responses(
        (status = 200, description = "The new codes", body = RecoveryCodes),
        (status = 403, description = "CSRF token missing (cookie sessions)", body = ErrorBody),
        (status = 422, description = "Wrong code, or no second factor", body = ErrorBody),
    ))]
pub async fn recovery_codes(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<CodeInput>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    Ok(Json(st.svc.new_recovery_codes(&c, &b.code).await.api(lang)?))
}

/// Turn your second factor off, with a code; not where your role requires one.
#[utoipa::path(post, path = "/api/v1/me/two-factor/disable", tag = "auth", request_body = CodeInput,
    responses(
        (status = 204, description = "Off"),
        (status = 403, description = "Your role requires it, or CSRF token missing", body = ErrorBody),
        (status = 422, description = "Wrong code, or no second factor", body = ErrorBody),
    ))]
pub async fn disable(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<CodeInput>,
) -> Result<StatusCode, ApiError> {
    st.svc.disable_totp(&c, &b.code).await.api(lang)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove the second factor of someone who lost their phone; their sessions
/// end and they set one up again at their next login. Not your own.
#[utoipa::path(post, path = "/api/v1/users/{username}/two-factor/reset", tag = "users",
    params(("username" = String, Path, description = "Username, or ~ and the user's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Your own, or CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such user within your scope", body = ErrorBody),
    ))]
pub async fn reset(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    st.svc.reset_totp(&c, &username).await.api(lang)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Your sessions: device, address, when last used; the one you are using is `current`.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "auth", params(PageParams),
    responses(
        (status = 200, description = "Your sessions, the latest used first", body = Page<SessionView>),
        (status = 422, description = "page or per_page out of range", body = ErrorBody),
    ))]
pub async fn my_sessions(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<PageParams>,
) -> Result<Json<Page<SessionView>>, ApiError> {
    let page = PageReq::new(q.page, q.per_page).api(lang)?;
    Ok(Json(Page::slice(st.svc.my_sessions(&c).await.api(lang)?, page)))
}

/// End one of your sessions (say, on a phone you lost).
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "auth",
    params(("id" = String, Path, description = "The session's id from the list")),
    responses(
        (status = 204, description = "Ended"),
        (status = 403, description = "CSRF token missing (cookie sessions)", body = ErrorBody),
        (status = 404, description = "No such session of yours", body = ErrorBody),
    ))]
pub async fn end_my_session(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    st.svc.end_my_session(&c, &id).await.api(lang)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's sessions, for who manages the user.
#[utoipa::path(get, path = "/api/v1/users/{username}/sessions", tag = "users",
    params(("username" = String, Path, description = "Username, or ~ and the user's id"), PageParams),
    responses(
        (status = 200, description = "The user's sessions", body = Page<SessionView>),
        (status = 404, description = "No such user within your scope", body = ErrorBody),
        (status = 422, description = "page or per_page out of range", body = ErrorBody),
    ))]
pub async fn user_sessions(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(username): ApiPath<String>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> Result<Json<Page<SessionView>>, ApiError> {
    let page = PageReq::new(q.page, q.per_page).api(lang)?;
    Ok(Json(Page::slice(st.svc.user_sessions(&c, &username).await.api(lang)?, page)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ended {
    /// How many sessions ended.
    pub ended: u64,
}

/// End all of a user's sessions.
#[utoipa::path(delete, path = "/api/v1/users/{username}/sessions", tag = "users",
    params(("username" = String, Path, description = "Username, or ~ and the user's id")),
    responses(
        (status = 200, description = "Ended", body = Ended),
        (status = 403, description = "CSRF token missing (cookie sessions)", body = ErrorBody),
        (status = 404, description = "No such user within your scope", body = ErrorBody),
    ))]
pub async fn end_user_sessions(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<Ended>, ApiError> {
    Ok(Json(Ended { ended: st.svc.end_user_sessions(&c, &username, None).await.api(lang)? }))
}

/// End one session of a user.
#[utoipa::path(delete, path = "/api/v1/users/{username}/sessions/{id}", tag = "users",
    params(("username" = String, Path, description = "Username, or ~ and the user's id"),
        ("id" = String, Path, description = "The session's id from the list")),
    responses(
        (status = 204, description = "Ended"),
        (status = 403, description = "CSRF token missing (cookie sessions)", body = ErrorBody),
        (status = 404, description = "No such user within your scope, or no such session of theirs", body = ErrorBody),
    ))]
pub async fn end_user_session(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath((username, id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    st.svc.end_user_sessions(&c, &username, Some(&id)).await.api(lang)?;
    Ok(StatusCode::NO_CONTENT)
}
