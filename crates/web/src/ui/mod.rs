//! Server-rendered pages (askama, compiled in), mobile first, zh-CN with an
//! English switch. Forms post with a CSRF field; htmx swaps table rows.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use yijia_domain::org::OrgKind;
use yijia_domain::role::Role;
use yijia_service::auth::UserView;
use yijia_service::users::{NewGrant, NewUser};
use yijia_service::{Caller, PageReq, ServiceError};

mod account;
mod cases;
mod dashboard;
mod map;
mod notices;
mod pledges;
mod points;
mod projects;
mod residents;
mod stations;
mod visits;

use crate::AppState;
use crate::error::describe;
use crate::i18n::Lang;
use crate::policy::{Auth, ClientIp, Policy, Routes, Scope, clear_session_cookie, cross_site, session_cookie};

const STAFF: &[Role] = yijia_service::org::VIEWERS;
const MANAGERS: &[Role] = yijia_service::users::MANAGERS;
const ADMINS: &[Role] = yijia_service::org::EDITORS;
const AUDIT_READERS: &[Role] = yijia_service::audit::READERS;

pub fn routes(r: Routes) -> Routes {
    use Method as M;
    use Policy::*;
    let r = residents::routes(r);
    let r = cases::routes(r);
    let r = visits::routes(r);
    let r = points::routes(r);
    let r = stations::routes(r);
    let r = dashboard::routes(r);
    let r = notices::routes(r);
    let r = projects::routes(r);
    let r = pledges::routes(r);
    let r = account::routes(r);
    r.add(M::GET, "/login", Public, Scope::None, get(login_page))
        .add(M::POST, "/login", Public, Scope::None, post(login_submit))
        .add(M::GET, "/lang/{lang}", Public, Scope::None, get(set_lang))
        .add(M::GET, "/join", Public, Scope::None, get(join_page))
        .add(M::POST, "/join", Public, Scope::None, post(join_submit))
        .add(M::POST, "/logout", LoggedIn, Scope::Own, post(logout))
        .add(M::GET, "/", LoggedIn, Scope::Own, get(home))
        .add(M::GET, "/password", LoggedIn, Scope::Own, get(password_page))
        .add(M::POST, "/password", LoggedIn, Scope::Own, post(password_submit))
        .add(M::GET, "/org", Roles(STAFF), Scope::Grants, get(org_tree))
        .add(M::POST, "/org", Roles(ADMINS), Scope::Object, post(org_create))
        .add(M::GET, "/org/{code}", Roles(STAFF), Scope::Object, get(org_node))
        .add(M::POST, "/org/{code}", Roles(ADMINS), Scope::Object, post(org_update))
        .add(M::GET, "/users", Roles(MANAGERS), Scope::Grants, get(users_page))
        .add(M::POST, "/users", Roles(MANAGERS), Scope::Object, post(users_create))
        .add(M::POST, "/users/{username}/disable", Roles(MANAGERS), Scope::Object, post(user_disable))
        .add(M::POST, "/users/{username}/enable", Roles(MANAGERS), Scope::Object, post(user_enable))
        .add(M::GET, "/audit", Roles(AUDIT_READERS), Scope::Grants, get(audit_page))
        .add(M::GET, "/audit/export", Roles(AUDIT_READERS), Scope::Grants, get(audit_export))
}

/// What every page's frame needs: language, who is logged in, the CSRF
/// token for forms, and the links this caller may follow.
pub struct Chrome {
    pub l: Lang,
    pub user: Option<String>,
    pub csrf: String,
    pub links: Vec<(&'static str, &'static str)>,
    pub active: &'static str,
    pub here: String,
}

impl Chrome {
    pub fn anonymous(l: Lang, here: &str) -> Self {
        Self { l, user: None, csrf: String::new(), links: vec![], active: "", here: here.to_owned() }
    }

    pub fn for_caller(l: Lang, c: &Caller, active: &'static str, here: &str) -> Self {
        Self {
            l,
            user: Some(c.display_name.clone()),
            csrf: c.csrf_token.clone().unwrap_or_default(),
            // until a required second factor is set up, nothing else opens
            links: if c.must_enrol() { vec![] } else { links(l, c).into_iter().map(|(h, t, _)| (h, t)).collect() },
            active,
            here: here.to_owned(),
        }
    }
}

/// The pages a caller may open: (href, title, what it is for).
fn links(l: Lang, c: &Caller) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut v = vec![("/", l.t("首页", "Home"), "")];
    if c.has_any(yijia_service::dashboard::READERS) {
        v.push((
            "/dashboard",
            l.t("看板", "Dashboard"),
            l.t("网格地图、重点人群、走访与事件、逐月趋势", "Grids on a map, people, visits and cases, month by month"),
        ));
        v.push((
            "/reports/monthly",
            l.t("月报", "Monthly report"),
            l.t(
                "报街道的月报:本月、上月、去年同月,可下载 Excel、可打印",
                "The month against the one before and last year, as Excel or printed",
            ),
        ));
    }
    if c.has_any(STAFF) {
        v.push((
            "/org",
            l.t("组织架构", "Org tree"),
            l.t("街道、社区、网格及网格边界", "Subdistricts, communities, grids and their boundaries"),
        ));
    }
    if c.has_any(yijia_service::registry::READERS) {
        v.push((
            "/residents",
            l.t("居民", "Residents"),
            l.t("按类别归档的居民信息", "Residents, archived by category"),
        ));
    }
    if c.has_any(yijia_service::cases::HANDLERS) {
        v.push((
            "/cases",
            l.t("事件", "Cases"),
            l.t("诉求、矛盾纠纷与安全隐患,按时限办理", "Requests, disputes and hazards, on time"),
        ));
    } else if c.has_any(yijia_service::cases::FILERS) {
        v.push((
            "/cases",
            l.t("我的诉求", "My requests"),
            l.t("反映问题、查看办理进度、评价", "Tell us, follow it, rate it"),
        ));
    }
    if c.has_any(yijia_service::visits::COVERAGE_READERS) {
        v.push((
            "/walk",
            l.t("今日走访", "Today's walk"),
            l.t("今天该走访谁,一键记录,没有信号也能用", "Who to visit today, logged in a tap, even without signal"),
        ));
        v.push((
            "/coverage",
            l.t("走访覆盖", "Coverage"),
            l.t("按时走访率、超期名单、走访间隔", "Visited on time, who is overdue, visit intervals"),
        ));
    }
    if c.resident_id.is_some() && c.has_any(&[Role::Resident]) {
        v.push((
            "/me/points",
            l.t("我的积分", "My points"),
            l.t("积分余额与每月明细", "Balance and monthly statement"),
        ));
        v.push((
            "/me/activities",
            l.t("志愿活动", "Volunteering"),
            l.t("报名参加,按时长得积分", "Sign up, earn points for your time"),
        ));
        v.push((
            "/me/shop",
            l.t("爱心超市", "Love-points shop"),
            l.t("用积分兑换米、油等日用品", "Spend points on rice, oil and everyday goods"),
        ));
        v.push((
            "/me/stations",
            l.t("服务站预约", "Station services"),
            l.t(
                "量血压、理发、法律咨询等,在手机上预约",
                "Blood-pressure checks, haircuts, legal advice: book on your phone",
            ),
        ));
        v.push((
            "/me/pledges",
            l.t("十件实事", "Ten practical things"),
            l.t("提建议、投票、看进展、年终评议", "Propose, vote, follow, judge at the year's end"),
        ));
        v.push((
            "/me/projects",
            l.t("楼栋修缮", "Building repairs"),
            l.t("看资金和进度,完工后投票验收", "See the money and the work; vote when it is finished"),
        ));
        v.push((
            "/me/honours",
            l.t("光荣榜", "Honours"),
            l.t("每月志愿标兵,自己决定是否署名", "The month's volunteers; you choose whether you are named"),
        ));
    }
    if c.has_any(yijia_service::activities::ORGANISERS) {
        v.push((
            "/activities",
            l.t("志愿活动", "Volunteering"),
            l.t("发布活动、签到签退、确认发放积分", "Put up activities, check in and out, give the points"),
        ));
        v.push((
            "/duty",
            l.t("门岗值守", "Duty posts"),
            l.t("岗位、排班、值守积分", "Posts, shifts, points for time on duty"),
        ));
    }
    if c.has_any(yijia_service::pledges::READERS) {
        v.push((
            "/pledges",
            l.t("十件实事", "Pledges"),
            l.t(
                "征集建议、居民投票、承诺办理、年终评议",
                "Proposals, residents' votes, what was promised, the year-end verdict",
            ),
        ));
    }
    if c.has_any(yijia_service::projects::READERS) {
        v.push((
            "/projects",
            l.t("修缮项目", "Repair projects"),
            l.t(
                "资金申请与审批、预算支出、居民验收",
                "Funding and approvals, budget and expenses, residents' acceptance",
            ),
        ));
    }
    if c.has_any(yijia_service::notices::READERS) {
        v.push((
            "/notices",
            l.t("公告", "Notices"),
            l.t(
                "发给社区、网格或楼栋,置顶、定时、已读人数",
                "To the community, a grid or a building: pinned, timed, read counts",
            ),
        ));
    }
    if c.has_any(yijia_service::stations::READERS) {
        v.push((
            "/stations",
            l.t("党群服务站", "Service stations"),
            l.t(
                "服务项目、当天预约、服务记录、月度统计",
                "Services, the day's appointments, services given, monthly figures",
            ),
        ));
    }
    if c.has_any(yijia_service::shop::CLERKS) {
        v.push((
            "/shop",
            l.t("爱心超市", "Love-points shop"),
            l.t("凭取货码交付、库存、月报", "Hand over by pickup code, stock, the month's figures"),
        ));
    }
    if c.has_any(MANAGERS) {
        v.push(("/users", l.t("用户", "Users"), l.t("账户、角色授权、停用", "Accounts, role grants, disabling")));
    }
    if c.has_any(AUDIT_READERS) {
        v.push((
            "/audit",
            l.t("审计日志", "Audit log"),
            l.t("登录、拒绝访问与每一次修改", "Logins, denials and every change"),
        ));
    }
    v.push((
        "/account",
        l.t("账户安全", "Account security"),
        l.t("密码、两步验证、登录的设备", "Password, two-step login, devices logged in"),
    ));
    v
}

fn role_name(l: Lang, r: Role) -> &'static str {
    if l.en() { r.name_en() } else { r.name_zh() }
}

fn kind_name(l: Lang, k: OrgKind) -> &'static str {
    if l.en() { k.name_en() } else { k.name_zh() }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    title: String,
    message: String,
}

pub fn error_page(e: &ServiceError, l: Lang) -> Response {
    let (status, _, message, _) = describe(e, l);
    let title = match status {
        StatusCode::NOT_FOUND => l.t("找不到页面", "Not found"),
        StatusCode::FORBIDDEN => l.t("无法执行", "Not allowed"),
        StatusCode::TOO_MANY_REQUESTS => l.t("请稍后再试", "Try again later"),
        _ if status.is_server_error() => l.t("出错了", "Something went wrong"),
        _ => l.t("请求有误", "Cannot do that"),
    };
    (status, ErrorPage { c: Chrome::anonymous(l, "/"), title: title.to_owned(), message }).into_response()
}

pub async fn not_found(lang: Lang, uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return crate::error::ApiError::from_service(&ServiceError::NotFound, lang).into_response();
    }
    error_page(&ServiceError::NotFound, lang)
}

/// A page that could not be made: the error page to show instead.
pub struct PageError(Box<Response>);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        *self.0
    }
}

pub(crate) type PageResult = Result<Response, PageError>;

pub(crate) trait PageErr<T> {
    fn page(self, l: Lang) -> Result<T, PageError>;
}

impl<T> PageErr<T> for Result<T, ServiceError> {
    fn page(self, l: Lang) -> Result<T, PageError> {
        self.map_err(|e| PageError(Box::new(error_page(&e, l))))
    }
}

/// The message of an error a person can fix, or the error page otherwise.
pub(crate) fn fixable(e: ServiceError, l: Lang) -> Result<String, PageError> {
    match &e {
        ServiceError::Invalid(_)
        | ServiceError::Conflict(_)
        | ServiceError::Forbidden(_)
        | ServiceError::Unauthenticated(_)
        | ServiceError::Locked(_)
        | ServiceError::TotpRequired(_)
        | ServiceError::TotpEnrolment(_)
        | ServiceError::RateLimited(_) => Ok(describe(&e, l).2),
        _ => Err(PageError(Box::new(error_page(&e, l)))),
    }
}

/// A fixable error with the field it is about (empty when none).
pub(crate) fn fixable_field(e: ServiceError, l: Lang) -> Result<(String, String), PageError> {
    let field = match &e {
        ServiceError::Invalid(i) => i.field.clone(),
        _ => String::new(),
    };
    Ok((field, fixable(e, l)?))
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

async fn login_page(lang: Lang, Query(q): Query<NextParam>) -> Response {
    LoginPage {
        c: Chrome::anonymous(lang, "/login"),
        error: None,
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        second: false,
        password: String::new(),
    }
    .into_response()
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
            let mut res = Redirect::to(&target).into_response();
            if let Ok(v) = HeaderValue::from_str(&session_cookie(&li.token, st.cfg.tls)) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(res)
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
                c: Chrome::anonymous(lang, "/login"),
                error,
                next,
                username: f.username,
                password: if second { f.password } else { String::new() },
                second,
            };
            let mut res = (status, page).into_response();
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(res)
        }
    }
}

/// A login or sign-up form sent from another site.
fn cross_site_refused() -> ServiceError {
    ServiceError::Forbidden(yijia_domain::Msg::new("请在本站的登录页登录", "log in on this site's own login page"))
}

async fn set_lang(Path(lang): Path<String>, Query(q): Query<NextParam>) -> Response {
    let lang = if lang == "en" { "en" } else { "zh" };
    let mut res = Redirect::to(&safe_next(q.next.as_deref())).into_response();
    let cookie = format!("lang={lang}; Path=/; Max-Age=31536000; SameSite=Lax");
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

// ---- home ----------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    display_name: String,
    grants: Vec<(String, String)>,
    tiles: Vec<(&'static str, &'static str, &'static str)>,
    alerts: yijia_service::visits::VisitAlerts,
    walker: bool,
    notices: Vec<yijia_service::notices::NoticeView>,
}

async fn home(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> Response {
    let grants = c
        .grants
        .iter()
        .map(|g| (role_name(lang, g.role).to_owned(), format!("{} ({})", g.org_name, g.org_code)))
        .collect();
    let tiles = links(lang, &c).into_iter().skip(1).collect();
    // "no contact in N days": a worker hears of their grids, the community of the longest overdue
    let alerts = st.svc.visit_alerts(&c).await.unwrap_or_default();
    // a resident's notices for where they live, pinned first
    let notices = if c.resident_id.is_some() { st.svc.my_notices(&c).await.unwrap_or_default() } else { vec![] };
    HomePage {
        c: Chrome::for_caller(lang, &c, "/", "/"),
        display_name: c.display_name.clone(),
        grants,
        tiles,
        alerts,
        walker: c.has_any(&[Role::GridWorker]),
        notices,
    }
    .into_response()
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

// ---- org -------------------------------------------------------------------

struct NodeLine {
    code: String,
    name: String,
    kind_name: &'static str,
    depth: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "org.html")]
struct OrgPage {
    c: Chrome,
    nodes: Vec<NodeLine>,
}

async fn org_tree(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    let nodes = st.svc.org_tree(&c).await.page(lang)?;
    let nodes = nodes
        .into_iter()
        .map(|n| NodeLine { kind_name: kind_name(lang, n.kind), code: n.code, name: n.name, depth: n.depth })
        .collect();
    Ok(OrgPage { c: Chrome::for_caller(lang, &c, "/org", "/org"), nodes }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "org_node.html")]
struct OrgNodePage {
    c: Chrome,
    node: yijia_service::org::OrgNodeView,
    kind_name: &'static str,
    parent: Option<String>,
    children: Vec<(String, String)>,
    estates: Vec<(String, Option<String>)>,
    map: Option<map::MapSvg>,
    editable: bool,
    is_grid: bool,
    boundary_text: String,
    child_kind: Option<&'static str>,
    message: Option<String>,
}

async fn render_node(st: &AppState, c: &Caller, lang: Lang, code: &str, message: Option<String>) -> PageResult {
    let detail = st.svc.org_node(c, code).await.page(lang)?;
    let node = detail.node;
    let points: Vec<(f64, f64, String)> =
        detail.estates.iter().filter_map(|e| Some((e.lon?, e.lat?, e.name.clone()))).collect();
    // a grid's own boundary, or its community's grids, each a link
    let mut shapes: Vec<(&serde_json::Value, Option<String>)> =
        detail.children.iter().filter_map(|c| Some((c.boundary.as_ref()?, Some(format!("/org/{}", c.code))))).collect();
    if let Some(b) = &node.boundary {
        shapes.push((b, None));
    }
    let map = map::MapSvg::new(&shapes, &points);
    let editable = c.has_any(ADMINS) && node.kind != OrgKind::Root;
    let child_kind = match node.kind {
        OrgKind::Root => Some("subdistrict"),
        OrgKind::Subdistrict => Some("community"),
        OrgKind::Community => Some("grid"),
        OrgKind::Grid => None,
    }
    .filter(|_| c.has_any(ADMINS));
    let here = format!("/org/{}", node.code);
    let page = OrgNodePage {
        c: Chrome::for_caller(lang, c, "/org", &here),
        kind_name: kind_name(lang, node.kind),
        parent: node.parent.clone(),
        children: detail.children.into_iter().map(|ch| (ch.code, ch.name)).collect(),
        estates: detail.estates.into_iter().map(|e| (e.name, e.grid)).collect(),
        map,
        editable: editable || (c.has_any(ADMINS) && child_kind.is_some()),
        is_grid: node.kind == OrgKind::Grid,
        boundary_text: node.boundary.as_ref().map(|b| b.to_string()).unwrap_or_default(),
        child_kind,
        message,
        node,
    };
    Ok(page.into_response())
}

async fn org_node(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(code): Path<String>) -> PageResult {
    render_node(&st, &c, lang, &code, None).await
}

#[derive(Deserialize)]
struct OrgUpdateForm {
    name: String,
    boundary: Option<String>,
}

async fn org_update(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(code): Path<String>,
    Form(f): Form<OrgUpdateForm>,
) -> PageResult {
    let boundary = f.boundary.as_deref().map(|b| Some(b).filter(|b| !b.trim().is_empty()));
    let msg = match st.svc.org_update(&c, &code, Some(&f.name), boundary).await {
        Ok(_) => lang.t("已保存", "Saved").to_owned(),
        Err(e) => fixable(e, lang)?,
    };
    render_node(&st, &c, lang, &code, Some(msg)).await
}

#[derive(Deserialize)]
struct OrgCreateForm {
    parent: String,
    kind: String,
    code: String,
    name: String,
}

async fn org_create(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<OrgCreateForm>) -> PageResult {
    let parent = f.parent.clone();
    let new =
        yijia_service::org::NewNode { code: f.code, kind: f.kind, name: f.name, parent: f.parent, boundary: None };
    match st.svc.org_create(&c, new).await {
        Ok(n) => Ok(Redirect::to(&format!("/org/{}", n.code)).into_response()),
        Err(e) => {
            let msg = fixable(e, lang)?;
            render_node(&st, &c, lang, &parent, Some(msg)).await
        }
    }
}

// ---- users -----------------------------------------------------------------

struct UserLine {
    id: i64,
    username: String,
    display_name: String,
    roles: String,
    disabled: bool,
    is_self: bool,
    two_factor: bool,
}

fn user_line(l: Lang, u: &UserView, me: &Caller) -> UserLine {
    UserLine {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        roles: u
            .grants
            .iter()
            .map(|g| format!("{}@{}", role_name(l, g.role), g.org_name))
            .collect::<Vec<_>>()
            .join(", "),
        disabled: u.disabled,
        is_self: me.user_id == Some(u.id),
        two_factor: u.two_factor,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
struct UsersPage {
    c: Chrome,
    users: Vec<UserLine>,
    total: i64,
    page: i64,
    pages: i64,
    roles: Vec<(&'static str, &'static str)>,
    scopes: Vec<(String, String)>,
    message: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<i64>,
}

async fn render_users(
    st: &AppState,
    c: &Caller,
    lang: Lang,
    page: i64,
    message: Option<String>,
    error: Option<String>,
) -> PageResult {
    let req = PageReq::new(Some(page), Some(50)).page(lang)?;
    let p = st.svc.list_users(c, req).await.page(lang)?;
    let tree = st.svc.org_tree(c).await.page(lang)?;
    let admin = c.has_any(ADMINS);
    let roles = Role::ALL
        .into_iter()
        .filter(|r| admin || matches!(r, Role::Resident | Role::GridWorker | Role::StationClerk | Role::CommunityStaff))
        .map(|r| (r.code(), role_name(lang, r)))
        .collect();
    let scopes = tree
        .into_iter()
        // a secretary's tree is her community, its grids and the way up
        .filter(|n| n.kind != OrgKind::Root && (admin || matches!(n.kind, OrgKind::Community | OrgKind::Grid)))
        .map(|n| (n.code.clone(), format!("{}{} ({})", "  ".repeat(n.depth), n.name, n.code)))
        .collect();
    let pages = ((p.total + 49) / 50).max(1);
    let users = p.items.iter().map(|u| user_line(lang, u, c)).collect();
    Ok(UsersPage {
        c: Chrome::for_caller(lang, c, "/users", "/users"),
        users,
        total: p.total,
        page,
        pages,
        roles,
        scopes,
        message,
        error,
    }
    .into_response())
}

async fn users_page(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<PageQuery>) -> PageResult {
    render_users(&st, &c, lang, q.page.unwrap_or(1), None, None).await
}

#[derive(Deserialize)]
struct UserForm {
    username: String,
    display_name: String,
    password: String,
    role: String,
    scope: String,
}

async fn users_create(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<UserForm>) -> PageResult {
    let result = async {
        let role: Role = f.role.parse()?;
        let new = NewUser {
            username: f.username.clone(),
            display_name: f.display_name,
            password: f.password,
            grants: vec![NewGrant { role, scope: f.scope }],
        };
        st.svc.add_user(&c, new).await
    }
    .await;
    match result {
        Ok(u) => {
            let msg = format!("{}{}", lang.t("已新建用户 ", "Created the user "), u.username);
            render_users(&st, &c, lang, 1, Some(msg), None).await
        }
        Err(e) => {
            let msg = fixable(e, lang)?;
            render_users(&st, &c, lang, 1, None, Some(msg)).await
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "user_row.html")]
struct UserRow {
    c: Chrome,
    u: UserLine,
}

async fn set_disabled(
    st: &AppState,
    c: &Caller,
    lang: Lang,
    username: &str,
    disabled: bool,
    headers: &HeaderMap,
) -> PageResult {
    st.svc.set_user_disabled(c, username, disabled).await.page(lang)?;
    user_row_or_list(st, c, lang, username, headers).await
}

/// A QR code of `text` as inline SVG, at least 240 px across.
pub(crate) fn qr_svg(text: &str) -> Result<String, ServiceError> {
    qrcode::QrCode::new(text.as_bytes())
        .map(|q| q.render::<qrcode::render::svg::Color>().min_dimensions(240, 240).build())
        .map_err(|e| ServiceError::Internal(format!("QR code: {e}")))
}

/// After a change to one user: their row again (htmx), or the list.
pub(crate) async fn user_row_or_list(
    st: &AppState,
    c: &Caller,
    lang: Lang,
    username: &str,
    headers: &HeaderMap,
) -> PageResult {
    if headers.contains_key("hx-request") {
        let u = st.svc.get_user(c, username).await.page(lang)?;
        return Ok(
            UserRow { c: Chrome::for_caller(lang, c, "/users", "/users"), u: user_line(lang, &u, c) }.into_response()
        );
    }
    Ok(Redirect::to("/users").into_response())
}

async fn user_disable(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(u): Path<String>,
    headers: HeaderMap,
) -> PageResult {
    set_disabled(&st, &c, lang, &u, true, &headers).await
}

async fn user_enable(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(u): Path<String>,
    headers: HeaderMap,
) -> PageResult {
    set_disabled(&st, &c, lang, &u, false, &headers).await
}

// ---- audit -----------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
struct AuditPage {
    c: Chrome,
    entries: Vec<yijia_service::audit::EntryView>,
    total: i64,
    page: i64,
    pages: i64,
    from: String,
    to: String,
}

#[derive(Deserialize)]
struct SpanQuery {
    from: Option<String>,
    to: Option<String>,
}

async fn audit_export(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<SpanQuery>) -> PageResult {
    let (from, to) = (q.from.unwrap_or_default(), q.to.unwrap_or_default());
    let (file, csv) = st.svc.audit_export(&c, &from, &to).await.page(lang)?;
    Ok(crate::api::exports::attachment("text/csv; charset=utf-8", &file, csv))
}

async fn audit_page(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<PageQuery>) -> PageResult {
    let page = q.page.unwrap_or(1).max(1);
    let req = PageReq::new(Some(page), Some(50)).page(lang)?;
    let p = st.svc.audit_list(&c, None, req).await.page(lang)?;
    let mut entries = p.items;
    for e in &mut entries {
        // "2026-11-29T21:47:00+08:00" → "2026-11-29 21:47:00"
        e.at = e.at.replace('T', " ").trim_end_matches("+08:00").to_owned();
    }
    let pages = ((p.total + 49) / 50).max(1);
    // the export's span: the last six months, as the law keeps them
    let today = yijia_domain::time::to_local(st.svc.now()).date_naive();
    let since = today.checked_sub_months(chrono::Months::new(6)).unwrap_or(today);
    let (from, to) = (since.to_string(), today.to_string());
    Ok(AuditPage {
        c: Chrome::for_caller(lang, &c, "/audit", "/audit"),
        entries,
        total: p.total,
        page,
        pages,
        from,
        to,
    }
    .into_response())
}

// ---- a street officer chooses one of their communities ---------------------

#[derive(Template, WebTemplate)]
#[template(path = "choose_community.html")]
struct ChooseCommunityPage {
    c: Chrome,
    title: String,
    path: String,
    communities: Vec<(String, String)>,
}

/// Whether a community-wide page must first ask which community: none
/// named, and the caller's grants of these roles are all above one (a
/// street officer over several).
pub(crate) fn must_choose_community(c: &Caller, roles: &[Role], community: Option<&str>) -> bool {
    community.is_none_or(|s| s.trim().is_empty())
        && !c.grants.iter().any(|g| roles.contains(&g.role) && matches!(g.org_kind, OrgKind::Community | OrgKind::Grid))
}

/// The communities under the caller, each a link to `path?community=CODE`.
pub(crate) async fn choose_community(
    st: &AppState,
    c: &Caller,
    lang: Lang,
    active: &'static str,
    title: &str,
) -> PageResult {
    let communities = st
        .svc
        .org_tree(c)
        .await
        .page(lang)?
        .into_iter()
        .filter(|n| n.kind == OrgKind::Community)
        .map(|n| (n.code, n.name))
        .collect();
    let chrome = Chrome::for_caller(lang, c, active, active);
    Ok(ChooseCommunityPage { c: chrome, title: title.to_owned(), path: active.to_owned(), communities }.into_response())
}
