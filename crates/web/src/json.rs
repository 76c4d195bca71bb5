//! A JSON body extractor whose rejections say what was wrong, in the
//! project's error shape: 415 without a JSON content type, 413 over the size
//! limit, 400 naming the field for malformed JSON, wrong types and unknown
//! fields (request types use `deny_unknown_fields`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::i18n::Lang;

pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let lang = Lang::from_parts(&parts);
        let ct = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if essence != "application/json" {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                lang.t(
                    "请求体须为 JSON(Content-Type: application/json)",
                    "the body must be JSON (Content-Type: application/json)",
                ),
                None,
            ));
        }
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    lang.t("请求体过大", "the request body is too large"),
                    None,
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text(), None)
            }
        })?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        match serde_path_to_error::deserialize(de) {
            Ok(v) => Ok(ApiJson(v)),
            Err(e) => {
                let path = e.path().to_string();
                let field = (path != ".").then_some(path);
                let inner = e.into_inner();
                let msg = match &field {
                    Some(f) => format!("{} ({f}): {inner}", lang.t("字段有误", "invalid field")),
                    None => format!("{}: {inner}", lang.t("JSON 格式有误", "malformed JSON")),
                };
                // serde names an unknown or missing field in its message, not
                // in the path: lift it out so that `field` always says which.
                let field = field.or_else(|| {
                    let s = inner.to_string();
                    s.split('`').nth(1).map(str::to_owned)
                });
                Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", msg, field))
            }
        }
    }
}

/// A query-string extractor whose rejection is a JSON 400 naming the field.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let lang = Lang::from_parts(parts);
        let q = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(q));
        serde_path_to_error::deserialize(de).map(ApiQuery).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            let field = if path != "." { Some(path) } else { inner.split('`').nth(1).map(str::to_owned) };
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("{}: {inner}", lang.t("查询参数有误", "invalid query parameter")),
                field,
            )
        })
    }
}

fn form_urlencoded_parse(q: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(q.as_bytes())
}

/// A path-parameter extractor whose rejection is a JSON 400.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> axum::extract::FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        let lang = Lang::from_parts(parts);
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("{}: {}", lang.t("路径参数有误", "invalid path parameter"), e.body_text()),
                None,
            )),
        }
    }
}
