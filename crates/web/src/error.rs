//! Errors become HTTP here and nowhere else.
//!
//! - API routes answer `{"error": {"code", "message", "field"?}}` with the
//!   status the service error calls for; pages answer a readable page.
//! - A store or internal error is logged with its cause and answered as a
//!   plain 500: the cause never reaches the client.
//! - "Not found" and "outside your scope" are the same 404.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use yijia_service::ServiceError;

use crate::i18n::Lang;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// snake_case, stable: `invalid`, `not_found`, `unauthenticated`, …
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Status, code, message and field of a service error in a language.
pub fn describe(e: &ServiceError, lang: Lang) -> (StatusCode, &'static str, String, Option<String>) {
    let m = |msg: &yijia_domain::Msg| msg.get(lang.en()).to_owned();
    match e {
        ServiceError::Invalid(i) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", m(&i.msg), Some(i.field.clone())),
        ServiceError::NotFound | ServiceError::Denied { .. } => {
            (StatusCode::NOT_FOUND, "not_found", lang.t("找不到该对象", "not found").to_owned(), None)
        }
        ServiceError::Unauthenticated(msg) => (StatusCode::UNAUTHORIZED, "unauthenticated", m(msg), None),
        ServiceError::Forbidden(msg) => (StatusCode::FORBIDDEN, "forbidden", m(msg), None),
        ServiceError::Locked(msg) => (StatusCode::UNAUTHORIZED, "account_locked", m(msg), None),
        ServiceError::RateLimited(msg) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", m(msg), None),
        ServiceError::Conflict(msg) => (StatusCode::CONFLICT, "conflict", m(msg), None),
        ServiceError::TotpRequired(msg) => (StatusCode::UNAUTHORIZED, "totp_required", m(msg), None),
        ServiceError::TotpEnrolment(msg) => (StatusCode::FORBIDDEN, "totp_enrolment_required", m(msg), None),
        ServiceError::Store(_) | ServiceError::Internal(_) => {
            tracing::error!(error = %e, "internal error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                lang.t("服务器内部错误,请稍后再试", "internal error; please try again later").to_owned(),
                None,
            )
        }
    }
}

/// An error answered as JSON.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>, field: Option<String>) -> Self {
        Self {
            status,
            body: ErrorBody { error: ErrorDetail { code: code.to_owned(), message: message.into(), field } },
        }
    }

    pub fn from_service(e: &ServiceError, lang: Lang) -> Self {
        let (status, code, message, field) = describe(e, lang);
        Self::new(status, code, message, field)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}
