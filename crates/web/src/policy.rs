//! Authorization in one place. Every route is added with a [`Policy`] (who
//! may call it) and a [`Scope`] (how the objects it touches are limited to
//! the caller's grants). The router cannot be built any other way, and a
//! test walks the table to prove that no route was forgotten.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{self, MethodFilter, MethodRouter};
use yijia_domain::role::Role;
use yijia_service::{Caller, ServiceError};

use crate::AppState;
use crate::error::ApiError;
use crate::i18n::Lang;

pub const SESSION_COOKIE: &str = "yijia_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "_csrf";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Anyone, logged in or not (on the short public allowlist).
    Public,
    /// Any logged-in user.
    LoggedIn,
    /// A logged-in user holding one of these roles somewhere.
    Roles(&'static [Role]),
}

/// How a route's objects are limited to the caller. The table's test holds
/// each route to its word: an `Object` route has the object's id in its
/// path, and another community's caller is refused it with an audited 404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// No objects of anybody's (public pages, health).
    None,
    /// The caller's own account, session or resident's things.
    Own,
    /// Lists filtered to the caller's grants in the service layer.
    Grants,
    /// The object whose id is in the path, looked up and checked against
    /// the caller's grants in the service layer: outside them it answers
    /// 404 and the denial is audited.
    Object,
    /// Objects named in the body or the query (the grid a resident is added
    /// to, the cases of a batch), each checked like an `Object`.
    Named,
}

#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: String,
    pub policy: Policy,
    pub scope: Scope,
}

/// An API handler with what its `#[utoipa::path]` says: its method and
/// path now, its part of the OpenAPI document when the document is first
/// asked for (building it takes tens of megabytes a server need not hold
/// until then). Made by `documented!(module::handler)`.
pub struct Documented {
    path: String,
    methods: Vec<Method>,
    handler: MethodRouter<AppState>,
    document: AddToDocument,
}

type OpenApi = utoipa::openapi::OpenApi;

/// Adds a route's part to the document.
type AddToDocument = fn(&mut OpenApi, Policy);

impl Documented {
    /// `P` is the type `#[utoipa::path]` wrote for the handler `h`.
    pub fn of<P, H, T>(h: H) -> Self
    where
        P: utoipa::Path + utoipa::__dev::SchemaReferences + for<'t> utoipa::__dev::Tags<'t> + 'static,
        H: Handler<T, AppState>,
        T: 'static,
    {
        use utoipa::openapi::path::HttpMethod;
        let mut handler = MethodRouter::new();
        let mut methods = Vec::new();
        for m in P::methods() {
            let (filter, method) = match m {
                HttpMethod::Get => (MethodFilter::GET, Method::GET),
                HttpMethod::Post => (MethodFilter::POST, Method::POST),
                HttpMethod::Put => (MethodFilter::PUT, Method::PUT),
                HttpMethod::Patch => (MethodFilter::PATCH, Method::PATCH),
                HttpMethod::Delete => (MethodFilter::DELETE, Method::DELETE),
                HttpMethod::Head => (MethodFilter::HEAD, Method::HEAD),
                HttpMethod::Options => (MethodFilter::OPTIONS, Method::OPTIONS),
                HttpMethod::Trace => (MethodFilter::TRACE, Method::TRACE),
            };
            handler = handler.on(filter, h.clone());
            methods.push(method);
        }
        Self { path: P::path(), methods, handler, document: document::<P> }
    }

    /// The same, taking a body up to `limit` bytes (photos).
    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.handler = self.handler.layer(DefaultBodyLimit::max(limit));
        self
    }
}

/// Adds one handler's operation and the schemas it names to the document.
fn document<P>(doc: &mut OpenApi, policy: Policy)
where
    P: utoipa::Path + utoipa::__dev::SchemaReferences + for<'t> utoipa::__dev::Tags<'t>,
{
    let mut schemas = Vec::new();
    P::schemas(&mut schemas);
    let mut op = P::operation();
    let tags = <P as utoipa::__dev::Tags>::tags();
    if !tags.is_empty() {
        op.tags.get_or_insert_with(Vec::new).extend(tags.iter().map(ToString::to_string));
    }
    document_common_answers(&mut op, policy);
    doc.paths.add_path_operation(P::path(), P::methods(), op);
    doc.components.get_or_insert_with(Default::default).schemas.extend(schemas);
}

/// The route table: each route is declared once, with its policy and
/// scope, and for the API with its documentation, from which the OpenAPI
/// document is built.
pub struct Routes {
    router: Router<AppState>,
    table: Vec<RouteSpec>,
    /// What the document says beyond its paths, then each API route's
    /// part, added when the document is first asked for.
    doc: OpenApi,
    documented: Vec<(AddToDocument, Policy)>,
    state: AppState,
}

impl Routes {
    /// `doc` holds what the document says beyond its paths.
    pub fn new(state: AppState, doc: OpenApi) -> Self {
        Self { router: Router::new(), table: Vec::new(), doc, documented: Vec::new(), state }
    }

    fn route(
        mut self,
        methods: &[Method],
        path: &str,
        policy: Policy,
        scope: Scope,
        h: MethodRouter<AppState>,
    ) -> Self {
        let h = match policy {
            Policy::Public => h,
            _ => h.route_layer(middleware::from_fn_with_state((self.state.clone(), policy), enforce)),
        };
        self.router = self.router.route(path, h);
        for method in methods {
            self.table.push(RouteSpec { method: method.clone(), path: path.to_owned(), policy, scope });
        }
        self
    }

    /// An API route, its method and path as its `#[utoipa::path]` says.
    pub fn api(mut self, policy: Policy, scope: Scope, d: Documented) -> Self {
        self.documented.push((d.document, policy));
        self.route(&d.methods, &d.path, policy, scope, d.handler)
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &str, policy: Policy, scope: Scope, h: H) -> Self {
        self.route(&[Method::GET], path, policy, scope, routing::get(h))
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &str, policy: Policy, scope: Scope, h: H) -> Self {
        self.route(&[Method::POST], path, policy, scope, routing::post(h))
    }

    /// A form that carries files: a body up to `limit` bytes.
    pub fn upload<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &str,
        limit: usize,
        policy: Policy,
        scope: Scope,
        h: H,
    ) -> Self {
        let h = routing::post(h).layer(DefaultBodyLimit::max(limit));
        self.route(&[Method::POST], path, policy, scope, h)
    }

    /// The router and its table. `/api/openapi.json` serves the document
    /// of the API routes, built on its first request.
    pub fn finish(self) -> (Router<AppState>, Vec<RouteSpec>) {
        let parts = std::sync::Arc::new((self.doc.clone(), self.documented.clone()));
        let built = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
        let serve = move || {
            let (parts, built) = (parts.clone(), built.clone());
            async move {
                let json = built.get_or_init(|| {
                    let (base, documented) = &*parts;
                    let mut doc = base.clone();
                    for (add, policy) in documented {
                        add(&mut doc, *policy);
                    }
                    doc.to_json().unwrap_or_default()
                });
                ([(header::CONTENT_TYPE, "application/json")], json.clone())
            }
        };
        let r = self.get("/api/openapi.json", Policy::Public, Scope::None, serve);
        (r.router, r.table)
    }
}

fn document_common_answers(op: &mut utoipa::openapi::path::Operation, policy: Policy) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |description: &str| {
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
        RefOr::T(ResponseBuilder::new().description(description).content("application/json", content).build())
    };
    if policy == Policy::Public {
        // `security: []`: no login, so that a generated client or an
        // auditor tells the public routes from the rest
        op.security = Some(vec![]);
    }
    let answers = &mut op.responses.responses;
    if policy != Policy::Public {
        answers.entry("401".to_owned()).or_insert_with(|| error("Not logged in"));
    }
    let json_body = matches!(&op.request_body, Some(RefOr::T(b)) if b.content.contains_key("application/json"));
    let params: Vec<serde_json::Value> =
        op.parameters.iter().flatten().filter_map(|p| serde_json::to_value(p).ok()).collect();
    let query = params.iter().any(|p| p["in"] == "query");
    let number_id = params.iter().any(|p| p["in"] == "path" && p["schema"]["type"] == "integer");
    let bad_request = match (json_body, number_id, query) {
        (true, true, _) => Some("Malformed body or id"),
        (true, false, _) => Some("Malformed body"),
        (false, true, true) => Some("Bad id or query parameter"),
        (false, true, false) => Some("The id is not a number"),
        (false, false, true) => Some("Bad query parameter"),
        (false, false, false) => None,
    };
    if let Some(d) = bad_request {
        answers.entry("400".to_owned()).or_insert_with(|| error(d));
    }
    if op.request_body.is_some() {
        answers.entry("413".to_owned()).or_insert_with(|| error("Body too large"));
    }
    if json_body {
        answers.entry("415".to_owned()).or_insert_with(|| error("Not JSON"));
    }
}

/// The address a request came from: the socket's, or, when the socket is
/// one of the configured reverse proxies, the last address in
/// `X-Forwarded-For` that is not a proxy (a client can write anything to
/// the left of it). Behind a proxy every client would otherwise share one
/// login bucket.
pub fn client_ip(ext: &axum::http::Extensions, headers: &HeaderMap, trusted: &[std::net::IpAddr]) -> String {
    let Some(peer) = ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_canonical()) else {
        return "unknown".to_owned();
    };
    let trusted_ip = |ip: &std::net::IpAddr| trusted.iter().any(|t| t.to_canonical() == *ip);
    if !trusted_ip(&peer) {
        return peer.to_string();
    }
    // an entry may carry a port (`1.2.3.4:5678`, `[::1]:80`)
    let parse = |a: &str| {
        a.parse::<std::net::IpAddr>()
            .ok()
            .or_else(|| a.parse::<SocketAddr>().ok().map(|s| s.ip()))
            .map(|ip| ip.to_canonical())
    };
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|a| parse(a.trim()))
        .collect::<Vec<_>>();
    for a in forwarded.into_iter().rev() {
        match a {
            Some(ip) if trusted_ip(&ip) => continue,
            Some(ip) => return ip.to_string(),
            None => break,
        }
    }
    peer.to_string()
}

/// The client's address, as `client_ip` tells it.
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(&parts.extensions, &parts.headers, &st.cfg.trusted_proxies)))
    }
}

/// Where a login comes from: the address and the browser.
pub fn origin(ip: String, headers: &HeaderMap) -> yijia_service::auth::Origin {
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    yijia_service::auth::Origin { ip, user_agent: user_agent.to_owned() }
}

/// A form posted from another site (login CSRF: logging a browser in as
/// someone else). Browsers send `Origin` on every POST and
/// `Sec-Fetch-Site` on every request; either naming another site refuses.
pub fn cross_site(headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|s| s == "cross-site" || s == "same-site") {
        return true;
    }
    match (header("origin"), header("host")) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => origin.split_once("://").is_none_or(|(_, h)| h != host),
        _ => false,
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name).and_then(|r| r.strip_prefix('=')).map(str::to_owned))
}

/// The session token and whether it came in a cookie (then unsafe methods
/// need the CSRF token too).
fn credentials(headers: &HeaderMap) -> Option<(String, bool)> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    match bearer {
        Some(t) => Some((t, false)),
        None => cookie(headers, SESSION_COOKIE).map(|t| (t, true)),
    }
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn unsafe_method(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Reads a form body (urlencoded, or multipart with photos) to find its
/// CSRF field, then puts the body back.
async fn form_csrf(req: Request<Body>) -> (Request<Body>, Option<String>) {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let urlencoded = content_type.starts_with("application/x-www-form-urlencoded");
    let boundary = multer::parse_boundary(&content_type).ok();
    if !urlencoded && boundary.is_none() {
        return (req, None);
    }
    let (parts, body) = req.into_parts();
    let limit = if urlencoded { crate::BODY_LIMIT } else { crate::PHOTO_BODY_LIMIT };
    let bytes = axum::body::to_bytes(body, limit).await.unwrap_or_default();
    let token = match boundary {
        None => serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .ok()
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v)),
        Some(b) => multipart_field(bytes.clone(), b, CSRF_FIELD).await,
    };
    (Request::from_parts(parts, Body::from(bytes)), token)
}

/// The text of one field of a multipart body.
async fn multipart_field(bytes: axum::body::Bytes, boundary: String, name: &str) -> Option<String> {
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(bytes) });
    let mut mp = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = mp.next_field().await {
        if field.name() == Some(name) {
            return field.text().await.ok();
        }
    }
    None
}

fn refuse(path: &str, lang: Lang, e: ServiceError, uri: &str) -> Response {
    if is_api(path) {
        return ApiError::from_service(&e, lang).into_response();
    }
    match e {
        ServiceError::Unauthenticated(_) => {
            let next: String = form_urlencoded_encode(uri);
            Redirect::to(&format!("/login?next={next}")).into_response()
        }
        e => crate::error::error_page(&e, lang).into_response(),
    }
}

fn form_urlencoded_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).unwrap_or_default().trim_start_matches('=').to_owned()
}

/// What a session may reach while its person must still set up a second
/// factor: setting it up, who they are, and logging out.
const ENROLMENT_PATHS: &[&str] = &[
    "/two-factor",
    "/two-factor/setup",
    "/two-factor/confirm",
    "/logout",
    "/api/v1/me",
    "/api/v1/me/two-factor",
    "/api/v1/me/two-factor/setup",
    "/api/v1/me/two-factor/confirm",
    "/api/v1/auth/logout",
];

/// The middleware behind every non-public route.
async fn enforce(State((state, policy)): State<(AppState, Policy)>, req: Request<Body>, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let uri = req.uri().to_string();
    let (parts, body) = req.into_parts();
    let lang = Lang::from_parts(&parts);
    let req = Request::from_parts(parts, body);
    let ip = client_ip(req.extensions(), req.headers(), &state.cfg.trusted_proxies);
    let Some((token, by_cookie)) = credentials(req.headers()) else {
        let e = ServiceError::Unauthenticated(yijia_domain::Msg::new("请先登录", "please log in"));
        return refuse(&path, lang, e, &uri);
    };
    let caller = match state.svc.authenticate(&token, &ip).await {
        Ok(c) => c,
        Err(e) => return refuse(&path, lang, e, &uri),
    };
    let mut req = req;
    if by_cookie && unsafe_method(req.method()) {
        let header_token = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let (r, form_token) = form_csrf(req).await;
        req = r;
        let sent = header_token.or(form_token);
        if sent.is_none() || sent != caller.csrf_token {
            let e = ServiceError::Forbidden(yijia_domain::Msg::new(
                "页面已过期(CSRF 校验失败),请刷新后重试",
                "this page has expired (CSRF check failed); reload and try again",
            ));
            let _ = state.svc.deny(&caller, "csrf", &path).await;
            return refuse(&path, lang, e, &uri);
        }
    }
    if caller.must_enrol() && !ENROLMENT_PATHS.contains(&path.as_str()) {
        if !is_api(&path) {
            return Redirect::to("/two-factor").into_response();
        }
        let e = ServiceError::TotpEnrolment(yijia_domain::Msg::new(
            "您的角色须先开启两步验证(/two-factor)才能继续",
            "your role must set up two-step login first (/two-factor)",
        ));
        return refuse(&path, lang, e, &uri);
    }
    if let Policy::Roles(roles) = policy
        && !caller.has_any(roles)
    {
        let _ = state.svc.deny(&caller, "route", &path).await;
        return refuse(&path, lang, ServiceError::NotFound, &uri);
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}

/// The caller, as `enforce` found them.
pub struct Auth(pub Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(Auth)
            .ok_or_else(|| StatusCode::INTERNAL_SERVER_ERROR.into_response())
    }
}

/// The session cookie, set at login.
pub fn session_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}
