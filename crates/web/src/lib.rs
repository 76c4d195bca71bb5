//! The HTTP face of yijia: the JSON API under `/api/v1` (with its OpenAPI
//! document), the server-rendered pages, and the static assets, all in one
//! router. Every route is added through [`policy::Routes`], which makes it
//! declare who may call it.

pub mod api;
pub mod assets;
pub mod chrome;
pub mod download;
pub mod error;
pub mod i18n;
pub mod json;
pub mod open311;
pub mod policy;
pub mod ui;
pub mod upload;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Request, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tokio::net::TcpListener;
pub use yijia_service::Services;

/// Request bodies larger than this answer 413.
pub const BODY_LIMIT: usize = 256 * 1024;
/// Bodies that carry photos: a few phone photos and the form around them.
pub const PHOTO_BODY_LIMIT: usize = 32 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Served behind TLS: cookies get `Secure`, responses get HSTS.
    pub tls: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub svc: Services,
    pub cfg: WebConfig,
}

/// The whole application and the table of its routes with their policies.
pub fn app(state: AppState) -> (Router, Vec<policy::RouteSpec>) {
    let (router, table) = routes(state.clone());
    let tls = state.cfg.tls;
    let router = router
        .merge(assets::router())
        .fallback(error::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(move |req, next| security_headers(req, next, tls)))
        .with_state(state);
    (router, table)
}

/// Every route with its policy (and `/api/openapi.json`, built from them).
pub fn routes(state: AppState) -> (Router<AppState>, Vec<policy::RouteSpec>) {
    use utoipa::OpenApi;
    let routes = policy::Routes::new(state, api::ApiDoc::openapi());
    let routes = api::routes(routes);
    let routes = ui::routes(routes);
    let routes = open311::routes(routes);
    routes.finish()
}

/// Headers on every response: a strict CSP (no inline scripts or styles),
/// no sniffing, no framing, and no caching of anything but static assets.
async fn security_headers(req: Request<axum::body::Body>, next: Next, tls: bool) -> Response {
    let is_static = req.uri().path().starts_with("/static/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if tls {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    if !is_static {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (router, _) = app(state);
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
