//! Reading what forms send, and answering a form: on to the next page when
//! the change was made, or the same page again saying why not (422).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use yijia_service::ServiceError;

use super::{PageError, PageResult, fixable};
use crate::i18n::Lang;

/// `?page=N` of a list.
#[derive(serde::Deserialize)]
pub(crate) struct PageQuery {
    pub(crate) page: Option<i64>,
}

/// What a page says after a change: done (`ok`) or why not (`error`).
#[derive(Default)]
pub(crate) struct Flash {
    pub(crate) ok: Option<String>,
    pub(crate) error: Option<String>,
}

impl Flash {
    /// A page showing a refused change answers 422.
    pub(crate) fn status(&self) -> StatusCode {
        if self.error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK }
    }
}

/// After a change sent from a form: on to `to` when it was made; else the
/// page again (`page`), saying why (422).
pub(crate) async fn then_to<T, Fut>(
    r: Result<T, ServiceError>,
    to: &str,
    l: Lang,
    page: impl FnOnce(Flash) -> Fut,
) -> PageResult
where
    Fut: std::future::Future<Output = PageResult>,
{
    match r {
        Ok(_) => Ok(Redirect::to(to).into_response()),
        Err(e) => page(again(e, l)?).await,
    }
}

/// An error a person can fix, shown on the page again (422); else the error page.
pub(crate) fn again(e: ServiceError, l: Lang) -> Result<Flash, PageError> {
    Ok(Flash { ok: None, error: Some(fixable(e, l)?) })
}

/// A field's text, trimmed; `None` when empty.
pub(crate) fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A number typed into a form field (`None` when empty), or the field and why not.
pub(crate) fn number<T: std::str::FromStr>(field: &str, s: &str, l: Lang) -> Result<Option<T>, (String, String)> {
    match opt(s) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| (field.to_owned(), format!("{}: {v}", l.t("不是有效的数字", "not a valid number")))),
    }
}

/// A whole number typed into a form field, or why not, naming the field.
pub(crate) fn whole(field: &str, s: &str, l: Lang) -> Result<i64, ServiceError> {
    match number::<i64>(field, s, l) {
        Ok(Some(n)) => Ok(n),
        Ok(None) => Err(ServiceError::invalid(field, "请填写数字", "a number is needed")),
        Err((f, m)) => Err(ServiceError::invalid(&f, m.clone(), m)),
    }
}

/// A `datetime-local` value (`2026-12-05T09:00`) as RFC 3339 in Beijing
/// time; anything else goes on as typed, for the service to refuse.
pub(crate) fn local_time(s: &str) -> String {
    let s = s.trim();
    if s.len() == 16 { format!("{s}:00+08:00") } else { s.to_owned() }
}

/// `2026-12-05T09:00:00+08:00` as `12-05 09:00`.
/// `2026-12-03` of an RFC 3339 time: a date a reader keeps (a warranty's end).
pub(crate) fn day(s: &str) -> String {
    s.get(..10).unwrap_or(s).to_owned()
}

/// `2026-12-03 02:28` of an RFC 3339 time, in the time it carries (Beijing).
pub(crate) fn when(s: &str) -> String {
    s.get(..16).map(|t| t.replace('T', " ")).unwrap_or_else(|| s.to_owned())
}

pub(crate) fn short_time(s: &str) -> String {
    s.get(5..16).map(|t| t.replace('T', " ")).unwrap_or_else(|| s.to_owned())
}
