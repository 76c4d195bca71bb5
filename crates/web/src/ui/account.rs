//! One's own account: two-step login (set up, recovery codes, turn off) and
//! the devices logged in; a manager's reset of someone's lost factor.

use super::prelude::*;
use axum::http::{HeaderMap, HeaderValue, header};
use yijia_service::auth::SessionView;
use yijia_service::roles::USER_MANAGERS;
use yijia_service::two_factor::{Enrolment, TwoFactorStatus};

use super::fixable;

use crate::policy::clear_session_cookie;

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/account", LoggedIn, Scope::Own, account_page)
        .post("/account/sessions/{id}/end", LoggedIn, Scope::Own, end_session)
        .get("/two-factor", LoggedIn, Scope::Own, two_factor_page)
        .post("/two-factor/setup", LoggedIn, Scope::Own, setup)
        .post("/two-factor/confirm", LoggedIn, Scope::Own, confirm)
        .post("/two-factor/recovery-codes", LoggedIn, Scope::Own, new_codes)
        .post("/two-factor/disable", LoggedIn, Scope::Own, disable)
        .post("/users/{username}/two-factor/reset", Roles(USER_MANAGERS), Scope::Object, reset)
        .post("/users/{username}/sessions/end", Roles(USER_MANAGERS), Scope::Object, end_user_sessions)
}

/// Pages with secrets on them (a QR code, recovery codes) are not kept.
fn no_store(page: impl IntoResponse) -> Response {
    let mut res = page.into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

// ---- the account page: two-step login and devices --------------------------

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    c: Chrome,
    factor: TwoFactorStatus,
    sessions: Vec<SessionView>,
    flash: Option<String>,
}

impl AccountPage {
    fn when(&self, at: &str) -> String {
        super::form::short_time(at)
    }
}

async fn account_page(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    render_account(&st, &c, lang, None).await
}

async fn render_account(st: &AppState, c: &yijia_service::Caller, lang: Lang, flash: Option<String>) -> PageResult {
    let factor = st.svc.two_factor_status(c).await.page(lang)?;
    let sessions = st.svc.my_sessions(c).await.page(lang)?;
    Ok(AccountPage { c: Chrome::for_caller(lang, c, "/account", "/account"), factor, sessions, flash }.into_response())
}

async fn end_session(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<String>) -> PageResult {
    let current = st.svc.my_sessions(&c).await.page(lang)?.into_iter().any(|s| s.current && s.id == id);
    st.svc.end_my_session(&c, &id).await.page(lang)?;
    if current {
        let mut res = Redirect::to("/login").into_response();
        if let Ok(v) = HeaderValue::from_str(&clear_session_cookie()) {
            res.headers_mut().insert(header::SET_COOKIE, v);
        }
        return Ok(res);
    }
    render_account(&st, &c, lang, Some(lang.t("已让该设备退出登录", "That device is logged out").to_owned())).await
}

// ---- two-step login ----------------------------------------------------------

/// What the two-step page shows: where the person is in setting it up.
enum Stage {
    /// On or off, with what can be done next.
    Status(TwoFactorStatus),
    /// A secret to scan (its QR code as SVG), waiting for a first code.
    Scan(Option<(Enrolment, String)>),
    /// Recovery codes, shown this once.
    Codes(Vec<String>),
}

#[derive(Template, WebTemplate)]
#[template(path = "two_factor.html")]
struct TwoFactorPage {
    c: Chrome,
    stage: Stage,
    error: Option<String>,
    /// The session can reach nothing else until this is done.
    must: bool,
}

fn page(lang: Lang, c: &yijia_service::Caller, stage: Stage, error: Option<String>) -> Response {
    let c2 = Chrome::for_caller(lang, c, "/account", "/two-factor");
    no_store(TwoFactorPage { c: c2, stage, error, must: c.must_enrol() })
}

async fn two_factor_page(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    let status = st.svc.two_factor_status(&c).await.page(lang)?;
    Ok(page(lang, &c, Stage::Status(status), None))
}

async fn setup(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    match st.svc.begin_totp(&c).await {
        Ok(e) => {
            let svg = super::qr_svg(&e.otpauth_url).page(lang)?;
            Ok(page(lang, &c, Stage::Scan(Some((e, svg))), None))
        }
        Err(e) => {
            let error = fixable(e, lang)?;
            let status = st.svc.two_factor_status(&c).await.page(lang)?;
            Ok(page(lang, &c, Stage::Status(status), Some(error)))
        }
    }
}

#[derive(Deserialize)]
struct CodeForm {
    code: String,
}

async fn confirm(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<CodeForm>) -> PageResult {
    match st.svc.confirm_totp(&c, &f.code).await {
        Ok(codes) => Ok(page(lang, &c, Stage::Codes(codes.codes), None)),
        // the secret stays as it was: the person may have scanned it already
        Err(e) => Ok(page(lang, &c, Stage::Scan(None), Some(fixable(e, lang)?))),
    }
}

async fn new_codes(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<CodeForm>) -> PageResult {
    match st.svc.new_recovery_codes(&c, &f.code).await {
        Ok(codes) => Ok(page(lang, &c, Stage::Codes(codes.codes), None)),
        Err(e) => {
            let error = fixable(e, lang)?;
            let status = st.svc.two_factor_status(&c).await.page(lang)?;
            Ok(page(lang, &c, Stage::Status(status), Some(error)))
        }
    }
}

async fn disable(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<CodeForm>) -> PageResult {
    let error = match st.svc.disable_totp(&c, &f.code).await {
        Ok(()) => None,
        Err(e) => Some(fixable(e, lang)?),
    };
    let status = st.svc.two_factor_status(&c).await.page(lang)?;
    Ok(page(lang, &c, Stage::Status(status), error))
}

// ---- a manager's hand on another's account -----------------------------------

async fn reset(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(u): Path<String>,
    h: HeaderMap,
) -> PageResult {
    st.svc.reset_totp(&c, &u).await.page(lang)?;
    super::user_row_or_list(&st, &c, lang, &u, &h).await
}

async fn end_user_sessions(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(u): Path<String>,
    h: HeaderMap,
) -> PageResult {
    st.svc.end_user_sessions(&c, &u, None).await.page(lang)?;
    super::user_row_or_list(&st, &c, lang, &u, &h).await
}
