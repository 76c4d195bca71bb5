//! Staff accounts: the list, a new user with a grant, disabling and enabling.

use super::prelude::*;
use axum::http::HeaderMap;
use yijia_domain::org::OrgKind;
use yijia_domain::role::Role;
use yijia_service::auth::UserView;
use yijia_service::roles::{ORG_EDITORS, USER_MANAGERS};
use yijia_service::users::{NewGrant, NewUser};
use yijia_service::{Caller, PageReq};

use super::fixable;
use super::form::PageQuery;

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/users", Roles(USER_MANAGERS), Scope::Grants, users_page)
        .post("/users", Roles(USER_MANAGERS), Scope::Named, users_create)
        .post("/users/{username}/disable", Roles(USER_MANAGERS), Scope::Object, user_disable)
        .post("/users/{username}/enable", Roles(USER_MANAGERS), Scope::Object, user_enable)
        .post("/users/{username}/work-phone", Roles(USER_MANAGERS), Scope::Object, user_work_phone)
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
    work_phone: String,
}

fn user_line(l: Lang, u: &UserView, me: &Caller) -> UserLine {
    UserLine {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        roles: u.grants.iter().map(|g| format!("{}@{}", l.name(g.role), g.org_name)).collect::<Vec<_>>().join(", "),
        disabled: u.disabled,
        is_self: me.user_id == Some(u.id),
        two_factor: u.two_factor,
        work_phone: u.work_phone.clone().unwrap_or_default(),
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
    let admin = c.has_any(ORG_EDITORS);
    let roles = Role::ALL
        .into_iter()
        .filter(|r| admin || matches!(r, Role::Resident | Role::GridWorker | Role::StationClerk | Role::CommunityStaff))
        .map(|r| (r.code(), lang.name(r)))
        .collect();
    let scopes = tree
        .into_iter()
        // a secretary's tree is her community, its grids and the way up
        .filter(|n| n.kind != OrgKind::Root && (admin || matches!(n.kind, OrgKind::Community | OrgKind::Grid)))
        .map(|n| (n.code.clone(), format!("{}{}", "  ".repeat(n.depth), n.name)))
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
    #[serde(default)]
    work_phone: String,
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
        let u = st.svc.add_user(&c, new).await?;
        match f.work_phone.trim() {
            "" => Ok(u),
            phone => st.svc.set_work_phone(&c, &u.username, phone).await,
        }
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

#[derive(Deserialize)]
struct WorkPhoneForm {
    #[serde(default)]
    work_phone: String,
}

async fn user_work_phone(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(u): Path<String>,
    headers: HeaderMap,
    Form(f): Form<WorkPhoneForm>,
) -> PageResult {
    st.svc.set_work_phone(&c, &u, &f.work_phone).await.page(lang)?;
    user_row_or_list(&st, &c, lang, &u, &headers).await
}
