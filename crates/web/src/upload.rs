//! Multipart forms with files: the text fields and the files of one field.

use std::collections::HashMap;

use axum::extract::Multipart;
use axum::extract::multipart::MultipartRejection;
use axum::http::StatusCode;

use crate::error::ApiError;

/// A multipart body as an API handler takes it; not multipart, or
/// malformed, answers `bad_multipart` with multer's status.
pub type ApiForm = Result<Multipart, MultipartRejection>;

/// Reads an API's multipart body (see `read`).
pub async fn read_api(form: ApiForm, file_field: &str) -> Result<Upload, ApiError> {
    let form = form.map_err(|e| ApiError::new(e.status(), "bad_multipart", e.body_text(), None))?;
    read(form, file_field).await.map_err(|(s, m)| ApiError::new(s, "bad_multipart", m, None))
}

/// A form with its files read in full.
#[derive(Debug, Default)]
pub struct Upload {
    pub fields: HashMap<String, String>,
    /// Every value of a field sent more than once (ticked boxes), in order.
    pub lists: HashMap<String, Vec<String>>,
    pub files: Vec<Vec<u8>>,
}

/// Reads every field; the non-empty files of `file_field` are kept in
/// order. A malformed body answers with multer's status and message.
pub async fn read(mut form: Multipart, file_field: &str) -> Result<Upload, (StatusCode, String)> {
    let mut u = Upload::default();
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_owned();
                let data = field.bytes().await.map_err(|e| (e.status(), e.body_text()))?;
                if name == file_field {
                    if !data.is_empty() {
                        u.files.push(data.to_vec());
                    }
                } else {
                    let value = String::from_utf8_lossy(&data).into_owned();
                    u.lists.entry(name.clone()).or_default().push(value.clone());
                    u.fields.insert(name, value);
                }
            }
            Ok(None) => return Ok(u),
            Err(e) => return Err((e.status(), e.body_text())),
        }
    }
}

impl Upload {
    /// A text field as sent, or empty.
    pub fn text(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// Every value of a field, each split at commas (`acts=requests,vote` or ticked boxes).
    pub fn list(&self, name: &str) -> Vec<String> {
        let values = self.lists.get(name).map_or(&[][..], Vec::as_slice);
        values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect()
    }

    /// A whole number field, required.
    pub fn whole(&self, name: &str) -> Result<i64, yijia_service::ServiceError> {
        let s = self.text(name).trim();
        if s.is_empty() {
            return Err(yijia_service::ServiceError::invalid(name, "请填写这一项", "this is needed"));
        }
        s.parse().map_err(|_| yijia_service::ServiceError::invalid(name, "应为整数", "a whole number is needed"))
    }

    /// A yes-or-no field: `true`/`yes` or `false`/`no`, required.
    pub fn yes_no(&self, name: &str) -> Result<bool, yijia_service::ServiceError> {
        match self.text(name).trim() {
            "true" | "yes" => Ok(true),
            "false" | "no" => Ok(false),
            _ => Err(yijia_service::ServiceError::invalid(name, "请选择同意或不同意", "choose yes or no")),
        }
    }
}
