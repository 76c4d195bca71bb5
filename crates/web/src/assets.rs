//! Static assets, embedded in the binary.

use axum::Router;
use std::io::Read;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Static;

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/static/{*file}", get(serve))
}

async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    // a large vendored script is kept gzipped (ECharts: 715 KB, 238 KB so)
    if Static::get(&file).is_none()
        && let Some(gz) = Static::get(&format!("{file}.gz"))
    {
        return gzipped(&file, gz.data.into_owned(), &headers);
    }
    match Static::get(&file) {
        Some(f) => {
            let mime = mime_guess::from_path(&file).first_or_octet_stream();
            let mut res = f.data.into_owned().into_response();
            if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
                res.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
            if file == "sw.js" {
                // the worker serves the walk list, outside /static/
                res.headers_mut().insert("service-worker-allowed", HeaderValue::from_static("/"));
                res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            }
            res
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A gzipped asset: as it is to a browser that takes gzip, unpacked to one
/// that does not.
fn gzipped(file: &str, gz: Vec<u8>, headers: &HeaderMap) -> Response {
    let takes_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mime = mime_guess::from_path(file).first_or_octet_stream();
    let mut res = if takes_gzip {
        let mut res = gz.into_response();
        res.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        res
    } else {
        let mut plain = Vec::new();
        if flate2::read::GzDecoder::new(gz.as_slice()).read_to_end(&mut plain).is_err() {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        plain.into_response()
    };
    if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
        res.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    res.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    res
}
