use thiserror::Error;

/// The storage layer's error. A unique-constraint violation is reported as
/// `Conflict` so that the service layer can answer 409 with the field;
/// everything else the database says is `Db`, which the web layer logs and
/// answers as a 500 without details.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("unsupported database URL scheme in '{0}': use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("not found")]
    NotFound,
    #[error("conflict on {0}")]
    Conflict(String),
    /// A row others still refer to (a foreign key) was to be removed.
    #[error("still in use: {0}")]
    InUse(String),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error")]
    Db(#[source] sqlx::Error),
    /// Something the schema guarantees is missing (such as the audit log's head).
    #[error("broken database: {0}")]
    Broken(&'static str),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(d) = e.as_database_error()
            && d.is_unique_violation()
        {
            return StoreError::Conflict(d.constraint().unwrap_or(d.message()).to_owned());
        }
        if let Some(d) = e.as_database_error()
            && d.is_foreign_key_violation()
        {
            return StoreError::InUse(d.constraint().unwrap_or(d.message()).to_owned());
        }
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            e => StoreError::Db(e),
        }
    }
}
