//! Errors become HTTP here and nowhere else.
//!
//! - API routes answer `{"error": {"code", "message", "field"?}}` with the
//!   status the service error calls for; pages answer a readable page.
//! - A store or internal error is logged with its cause and answered as a
//!   plain 500: the cause never reaches the client.
//! - "Not found" and "outside your scope" are the same 404.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use yijia_service::ServiceError;
use yijia_service::error::Report;

use crate::chrome::Chrome;
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
        ServiceError::Store(_) | ServiceError::Internal { .. } => {
            // the one place a broken thing is logged, with all its causes
            tracing::error!(error = %Report(e), "internal error");
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

// ---- pages -------------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    title: String,
    message: String,
}

pub fn error_page(e: &ServiceError, l: Lang) -> Response {
    let (status, _, message, _) = describe(e, l);
    let title = match status {
        StatusCode::NOT_FOUND => l.t("找不到页面", "Not found"),
        StatusCode::FORBIDDEN => l.t("无法执行", "Not allowed"),
        StatusCode::TOO_MANY_REQUESTS => l.t("请稍后再试", "Try again later"),
        _ if status.is_server_error() => l.t("出错了", "Something went wrong"),
        _ => l.t("请求有误", "Cannot do that"),
    };
    (status, ErrorPage { c: Chrome::anonymous(l, "/"), title: title.to_owned(), message }).into_response()
}

pub async fn not_found(lang: Lang, uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return ApiError::from_service(&ServiceError::NotFound, lang).into_response();
    }
    error_page(&ServiceError::NotFound, lang)
}

/// A page that could not be made: the error page to show instead.
pub struct PageError(pub(crate) Box<Response>);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        *self.0
    }
}

pub(crate) type PageResult = Result<Response, PageError>;

pub(crate) trait PageErr<T> {
    fn page(self, l: Lang) -> Result<T, PageError>;
}

impl<T> PageErr<T> for Result<T, ServiceError> {
    fn page(self, l: Lang) -> Result<T, PageError> {
        self.map_err(|e| PageError(Box::new(error_page(&e, l))))
    }
}

/// The message of an error a person can fix, or the error page otherwise.
pub(crate) fn fixable(e: ServiceError, l: Lang) -> Result<String, PageError> {
    match &e {
        ServiceError::Invalid(_)
        | ServiceError::Conflict(_)
        | ServiceError::Forbidden(_)
        | ServiceError::Unauthenticated(_)
        | ServiceError::Locked(_)
        | ServiceError::TotpRequired(_)
        | ServiceError::TotpEnrolment(_)
        | ServiceError::RateLimited(_) => Ok(describe(&e, l).2),
        _ => Err(PageError(Box::new(error_page(&e, l)))),
    }
}

/// A fixable error with the field it is about (empty when none).
pub(crate) fn fixable_field(e: ServiceError, l: Lang) -> Result<(String, String), PageError> {
    let field = match &e {
        ServiceError::Invalid(i) => i.field.clone(),
        _ => String::new(),
    };
    Ok((field, fixable(e, l)?))
}
