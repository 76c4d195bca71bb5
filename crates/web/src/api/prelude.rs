//! What every handler module of the API uses: the extractors, the caller,
//! the error body, and the derives of what it reads.

pub(crate) use axum::Json;
pub(crate) use axum::extract::State;
pub(crate) use axum::http::StatusCode;
pub(crate) use serde::Deserialize;
pub(crate) use utoipa::{IntoParams, ToSchema};

pub(crate) use super::{ApiResult, PageParams};
pub(crate) use crate::AppState;
pub(crate) use crate::error::{ApiError, ErrorBody};
pub(crate) use crate::i18n::Lang;
pub(crate) use crate::json::{ApiJson, ApiPath, ApiQuery};
pub(crate) use crate::policy::Auth;
