//! Files sent as downloads, by the API and by pages alike.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A workbook as a download.
pub(crate) fn xlsx(file: &str, book: Vec<u8>) -> Response {
    attachment("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", file, book)
}

/// A download of `bytes` named `file`.
pub(crate) fn attachment(content_type: &str, file: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        bytes,
    )
        .into_response()
}
