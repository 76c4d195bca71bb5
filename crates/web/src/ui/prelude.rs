//! What every page module uses: its template, the extractors, the caller,
//! the page frame, and the route table to add itself to.

pub(crate) use askama::Template;
pub(crate) use askama_web::WebTemplate;
pub(crate) use axum::Form;
pub(crate) use axum::extract::{Path, Query, State};
pub(crate) use axum::response::{IntoResponse, Redirect, Response};
pub(crate) use serde::Deserialize;

pub(crate) use crate::AppState;
pub(crate) use crate::chrome::Chrome;
pub(crate) use crate::error::{PageErr, PageResult};
pub(crate) use crate::i18n::Lang;
pub(crate) use crate::policy::{Auth, Policy, Routes, Scope};
