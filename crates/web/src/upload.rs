//! Multipart forms with files: the text fields and the files of one field.

use std::collections::HashMap;

use axum::extract::Multipart;
use axum::http::StatusCode;

/// A form with its files read in full.
#[derive(Debug, Default)]
pub struct Upload {
    pub fields: HashMap<String, String>,
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
                    u.fields.insert(name, String::from_utf8_lossy(&data).into_owned());
                }
            }
            Ok(None) => return Ok(u),
            Err(e) => return Err((e.status(), e.body_text())),
        }
    }
}
