//! Static assets, embedded in the binary.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Static;

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/static/{*file}", get(serve))
}

async fn serve(Path(file): Path<String>) -> Response {
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
