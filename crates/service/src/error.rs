//! The service layer's error, and the policy behind it:
//!
//! - `Invalid`: the caller sent something wrong; the field and a message in
//!   both languages go back to them (400 / 422).
//! - `NotFound`: the object does not exist *or is outside the caller's
//!   scope*; the two are never told apart (404). Out-of-scope lookups are
//!   audited as denials before this is returned.
//! - `Unauthenticated`, `Forbidden`, `Locked`, `RateLimited`, `Conflict`: as
//!   their names say, with a message meant for the person.
//! - `Store` and `Internal`: something broke on our side. The web layer logs
//!   the cause and answers 500 without details.

use thiserror::Error;
use yijia_domain::{Invalid, Msg};
use yijia_store::StoreError;

#[derive(Debug, Error)]
pub enum ServiceError {
    #[error("{0}")]
    Invalid(#[from] Invalid),
    #[error("not found")]
    NotFound,
    /// Outside the caller's scope: answered as `NotFound`, once the denial
    /// is in the audit log (see `Services::denials_audited`, which writes it
    /// after the transaction that found it is gone).
    #[error("not found (denied {action} on {object})")]
    Denied { action: String, object: String },
    #[error("unauthenticated: {0}")]
    Unauthenticated(Msg),
    #[error("forbidden: {0}")]
    Forbidden(Msg),
    #[error("locked: {0}")]
    Locked(Msg),
    #[error("rate limited: {0}")]
    RateLimited(Msg),
    #[error("conflict: {0}")]
    Conflict(Msg),
    /// The password was right; the second factor is missing (401).
    #[error("second factor required: {0}")]
    TotpRequired(Msg),
    /// The session may only set up a second factor until it has one (403).
    #[error("second factor not set up: {0}")]
    TotpEnrolment(Msg),
    #[error(transparent)]
    Store(StoreError),
    /// What was being done, and why it failed (kept as the source, so that
    /// the one place that logs it logs the whole chain: see `Report`).
    #[error("internal error: {what}")]
    Internal {
        what: String,
        #[source]
        cause: Option<BoxError>,
    },
}

/// Any error, as the cause of an internal one.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error with its causes, `what: why: why`, for a log line.
pub struct Report<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(c) = cause {
            write!(f, ": {c}")?;
            cause = c.source();
        }
        Ok(())
    }
}

impl ServiceError {
    pub fn invalid(field: &str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        ServiceError::Invalid(Invalid::new(field, zh, en))
    }

    /// Refused by the state of things (409), with the reason in both languages.
    pub fn conflict(zh: impl Into<String>, en: impl Into<String>) -> Self {
        ServiceError::Conflict(Msg::new(zh, en))
    }

    pub(crate) fn denied(action: &str, object: String) -> Self {
        ServiceError::Denied { action: action.to_owned(), object }
    }

    /// What was `found`, when `mine` says it is the caller's: one that
    /// exists outside the caller's reach is a denial (audited, then 404),
    /// one that does not exist plainly not found.
    pub(crate) fn in_reach<T>(
        found: Option<T>,
        mine: impl FnOnce(&T) -> bool,
        action: &str,
        object: String,
    ) -> Result<T, Self> {
        match found {
            Some(t) if mine(&t) => Ok(t),
            Some(_) => Err(Self::denied(action, object)),
            None => Err(ServiceError::NotFound),
        }
    }

    /// Something broke on our side with no error to blame.
    pub fn internal(what: impl Into<String>) -> Self {
        ServiceError::Internal { what: what.into(), cause: None }
    }

    /// Something broke on our side while doing `what`, because of `cause`.
    pub fn caused(what: impl Into<String>, cause: impl Into<BoxError>) -> Self {
        ServiceError::Internal { what: what.into(), cause: Some(cause.into()) }
    }

    pub fn forbidden() -> Self {
        ServiceError::Forbidden(Msg::new("没有权限执行此操作", "you are not allowed to do this"))
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            // a removal the checks before it did not foresee: still a 409
            StoreError::InUse(_) => ServiceError::Conflict(Msg::new(
                "还有其他记录引用它,不能删除",
                "other records still refer to it: it cannot be removed",
            )),
            e => ServiceError::Store(e),
        }
    }
}

/// A store result in which a unique-constraint conflict means `msg` to the
/// person (a taken username, an existing code).
pub(crate) fn on_conflict<T>(r: Result<T, StoreError>, msg: impl FnOnce() -> Msg) -> Result<T, ServiceError> {
    match r {
        Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict(msg())),
        r => Ok(r?),
    }
}

impl From<serde_json::Error> for ServiceError {
    fn from(e: serde_json::Error) -> Self {
        ServiceError::caused("JSON", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_keeps_its_cause_and_the_report_tells_the_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "read-only file system");
        let e = ServiceError::caused("writing the key file", io);
        assert_eq!(e.to_string(), "internal error: writing the key file");
        assert!(std::error::Error::source(&e).is_some(), "the cause is kept as the source");
        assert_eq!(Report(&e).to_string(), "internal error: writing the key file: read-only file system");
        assert!(std::error::Error::source(&ServiceError::internal("no cause")).is_none());
    }
}
