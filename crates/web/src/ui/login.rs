//! Getting in and out: login (with its second step), the language switch,
//! logout, a resident's first login with an invitation code, and a new
//! password.

use super::prelude::*;
use axum::http::{HeaderValue, StatusCode, header};
use yijia_service::ServiceError;

use super::fixable;
use crate::error::describe;
use crate::policy::{ClientIp, clear_session_cookie, cross_site, session_cookie};

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/login", Public, Scope::None, login_page)
        .post("/login", Public, Scope::None, login_submit)
        .post("/login/sms", Public, Scope::None, sms_submit)
        .get("/lang/{lang}", Public, Scope::None, set_lang)
        .get("/large/{on}", Public, Scope::None, set_large)
        .get("/join", Public, Scope::None, join_page)
        .post("/join", Public, Scope::None, join_submit)
        .post("/logout", LoggedIn, Scope::Own, logout)
        .get("/password", LoggedIn, Scope::Own, password_page)
        .post("/password", LoggedIn, Scope::Own, password_submit)
}

// ---- login, language, logout -------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    error: Option<String>,
    next: String,
    username: String,
    /// The second step: the code, with the name and password carried over.
    second: bool,
    password: String,
    /// Residents may log in with an SMS code: the site sends SMS.
    sms_on: bool,
    sms: SmsBox,
}

/// The SMS-code login's part of the page.
#[derive(Default)]
struct SmsBox {
    phone: String,
    /// The code went out: to which (masked) number.
    sent: Option<String>,
    error: Option<String>,
}

impl LoginPage {
    fn new(st: &AppState, lang: Lang, next: String) -> Self {
        LoginPage {
            c: Chrome::anonymous(lang, "/login"),
            error: None,
            next,
            username: String::new(),
            second: false,
            password: String::new(),
            sms_on: st.svc.sends_sms(),
            sms: SmsBox::default(),
        }
    }
}

#[derive(Deserialize)]
struct NextParam {
    next: Option<String>,
}

/// Only same-site paths, so that `next` cannot send anyone elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n.to_owned(),
        _ => "/".to_owned(),
    }
}

async fn login_page(State(st): State<AppState>, lang: Lang, Query(q): Query<NextParam>) -> Response {
    LoginPage::new(&st, lang, safe_next(q.next.as_deref())).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    totp: Option<String>,
    next: Option<String>,
}

async fn login_submit(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    lang: Lang,
    Form(f): Form<LoginForm>,
) -> PageResult {
    let next = safe_next(f.next.as_deref());
    if cross_site(&headers) {
        return Err(cross_site_refused()).page(lang);
    }
    let from = crate::policy::origin(ip, &headers);
    match st.svc.login(&f.username, &f.password, f.totp.as_deref(), &from).await {
        Ok(li) => {
            let target = match (li.must_enrol, li.user.password_expired) {
                (true, _) => "/two-factor".to_owned(),
                (false, true) => "/password".to_owned(),
                (false, false) => next,
            };
            Ok(into_session(&st, &target, &li.token))
        }
        Err(e) => {
            // the password was right: the second step asks for the code,
            // carrying what was typed (the page is not stored); being asked
            // is not an error
            let asked = matches!(e, ServiceError::TotpRequired(_));
            let second = asked || f.totp.is_some();
            let status = if asked { StatusCode::OK } else { describe(&e, lang).0 };
            let error = fixable(e, lang)?;
            let error = if asked { None } else { Some(error) };
            let page = LoginPage {
                error,
                username: f.username,
                password: if second { f.password } else { String::new() },
                second,
                ..LoginPage::new(&st, lang, next)
            };
            let mut res = (status, page).into_response();
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(res)
        }
    }
}

#[derive(Deserialize)]
struct SmsForm {
    phone: String,
    #[serde(default)]
    code: String,
    /// `send` for a code, `login` with it.
    action: String,
    next: Option<String>,
}

/// A resident's login with an SMS code: first the code is sent, then the
/// same form, with the number kept, takes it.
async fn sms_submit(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    lang: Lang,
    Form(f): Form<SmsForm>,
) -> PageResult {
    let next = safe_next(f.next.as_deref());
    if cross_site(&headers) {
        return Err(cross_site_refused()).page(lang);
    }
    let from = crate::policy::origin(ip, &headers);
    let page = |sms: SmsBox| LoginPage { sms, ..LoginPage::new(&st, lang, next.clone()) };
    let outcome = if f.action == "login" {
        match st.svc.login_with_code(&f.phone, &f.code, &from).await {
            Ok(li) => return Ok(into_session(&st, &next, &li.token)),
            Err(e) => Err(e),
        }
    } else {
        st.svc.send_login_code(&f.phone, &from).await
    };
    let (status, sms) = match outcome {
        Ok(()) => {
            let shown = yijia_domain::phone::Phone::parse(&f.phone).map(|p| p.masked()).unwrap_or_default();
            (StatusCode::OK, SmsBox { phone: f.phone, sent: Some(shown), error: None })
        }
        Err(e) => {
            let status = describe(&e, lang).0;
            // a code asked for was sent before: the field stays for it
            let error = fixable(e, lang)?;
            (status, SmsBox { phone: f.phone, sent: (f.action == "login").then(String::new), error: Some(error) })
        }
    };
    let mut res = (status, page(sms)).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// A login that passed: on to `target`, with the session's cookie.
fn into_session(st: &AppState, target: &str, token: &str) -> Response {
    let mut res = Redirect::to(target).into_response();
    if let Ok(v) = HeaderValue::from_str(&session_cookie(token, st.cfg.tls)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// A login or sign-up form sent from another site.
fn cross_site_refused() -> ServiceError {
    ServiceError::Forbidden(yijia_domain::Msg::new("请在本站的登录页登录", "log in on this site's own login page"))
}

async fn set_lang(Path(lang): Path<String>, Query(q): Query<NextParam>) -> Response {
    let lang = if lang == "en" { "en" } else { "zh" };
    remember("lang", lang, q.next.as_deref())
}

/// 长辈模式 on (`/large/1`) or off (`/large/0`), for this browser.
async fn set_large(Path(on): Path<String>, Query(q): Query<NextParam>) -> Response {
    remember(Lang::LARGE_COOKIE, if on == "1" { "1" } else { "0" }, q.next.as_deref())
}

/// Remembers a reader's choice for a year and goes back to the page.
fn remember(name: &str, value: &str, next: Option<&str>) -> Response {
    let mut res = Redirect::to(&safe_next(next)).into_response();
    let cookie = format!("{name}={value}; Path=/; Max-Age=31536000; SameSite=Lax");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

async fn logout(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    st.svc.logout(&c).await.page(lang)?;
    let mut res = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&clear_session_cookie()) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

// ---- a resident opens their account with an invitation code ---------------

#[derive(Template, WebTemplate)]
#[template(path = "join.html")]
struct JoinPage {
    c: Chrome,
    error: Option<String>,
    done: Option<String>,
    code: String,
    phone: String,
}

async fn join_page(lang: Lang) -> Response {
    JoinPage { c: Chrome::anonymous(lang, "/join"), error: None, done: None, code: String::new(), phone: String::new() }
        .into_response()
}

#[derive(Deserialize)]
struct JoinForm {
    code: String,
    phone: String,
    password: String,
}

async fn join_submit(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    lang: Lang,
    Form(f): Form<JoinForm>,
) -> PageResult {
    if cross_site(&headers) {
        return Err(cross_site_refused()).page(lang);
    }
    let input =
        yijia_service::invitations::JoinInput { code: f.code.clone(), phone: f.phone.clone(), password: f.password };
    let page =
        |error, done| JoinPage { c: Chrome::anonymous(lang, "/join"), error, done, code: f.code, phone: f.phone };
    match st.svc.join(input, &ip).await {
        Ok(u) => Ok(page(None, Some(u.username)).into_response()),
        Err(e) => {
            let status = describe(&e, lang).0;
            Ok((status, page(Some(fixable(e, lang)?), None)).into_response())
        }
    }
}

// ---- password --------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "password.html")]
struct PasswordPage {
    c: Chrome,
    error: Option<String>,
    expired: bool,
}

async fn password_page(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    let me = st.svc.me(&c).page(lang)?;
    Ok(PasswordPage {
        c: Chrome::for_caller(lang, &c, "/account", "/password"),
        error: None,
        expired: me.password_expired,
    }
    .into_response())
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
}

async fn password_submit(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Form(f): Form<PasswordForm>,
) -> PageResult {
    match st.svc.change_own_password(&c, &f.current_password, &f.new_password).await {
        Ok(()) => {
            let mut res = Redirect::to("/login").into_response();
            if let Ok(v) = HeaderValue::from_str(&clear_session_cookie()) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(res)
        }
        Err(e) => {
            let status = describe(&e, lang).0;
            let error = Some(fixable(e, lang)?);
            Ok((
                status,
                PasswordPage { c: Chrome::for_caller(lang, &c, "/account", "/password"), error, expired: false },
            )
                .into_response())
        }
    }
}
