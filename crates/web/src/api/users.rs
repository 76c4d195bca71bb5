use super::prelude::*;
use yijia_service::auth::UserView;
use yijia_service::users::{NewGrant, NewUser};
use yijia_service::{Page, PageReq};

/// Users holding a grant within your scope (secretaries: their community;
/// admins: everyone).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(PageParams),
    responses(
        (status = 200, description = "A page of users", body = Page<UserView>),
        (status = 404, description = "Your role does not manage users", body = ErrorBody),
        (status = 422, description = "page or per_page out of range", body = ErrorBody),
    ))]
pub async fn list_users(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<PageParams>,
) -> Result<Json<Page<UserView>>, ApiError> {
    let page = PageReq::new(q.page, q.per_page).api(lang)?;
    Ok(Json(st.svc.list_users(&c, page).await.api(lang)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantInput {
    pub role: yijia_domain::role::Role,
    /// Org code the role applies to.
    pub scope: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    pub display_name: String,
    /// At least 10 characters, not a common password.
    pub password: String,
    pub grants: Vec<GrantInput>,
}

/// Create a user with grants (admins anywhere; secretaries in their
/// community, for residents, grid workers, clerks and staff).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 403, description = "You may not grant that role, or CSRF token missing", body = ErrorBody),
        (status = 404, description = "Your role does not manage users", body = ErrorBody),
        (status = 409, description = "The username is taken", body = ErrorBody),
        (status = 422, description = "A field is invalid", body = ErrorBody),
    ))]
pub async fn create_user(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let new = NewUser {
        username: b.username,
        display_name: b.display_name,
        password: b.password,
        grants: b.grants.into_iter().map(|g| NewGrant { role: g.role, scope: g.scope }).collect(),
    };
    Ok((StatusCode::CREATED, Json(st.svc.add_user(&c, new).await.api(lang)?)))
}

/// One user within your scope.
#[utoipa::path(get, path = "/api/v1/users/{username}", tag = "users",
    params(("username" = String, Path, description = "Username")),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 404, description = "No such user within your scope", body = ErrorBody),
    ))]
pub async fn get_user(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(st.svc.get_user(&c, &username).await.api(lang)?))
}

/// Disable an account; its sessions end.
#[utoipa::path(post, path = "/api/v1/users/{username}/disable", tag = "users",
    params(("username" = String, Path, description = "Username")),
    responses(
        (status = 200, description = "Disabled", body = UserView),
        (status = 403, description = "CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such user within your scope", body = ErrorBody),
        (status = 422, description = "You cannot disable yourself", body = ErrorBody),
    ))]
pub async fn disable_user(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(st.svc.set_user_disabled(&c, &username, true).await.api(lang)?))
}

/// Enable an account again.
#[utoipa::path(post, path = "/api/v1/users/{username}/enable", tag = "users",
    params(("username" = String, Path, description = "Username")),
    responses(
        (status = 200, description = "Enabled", body = UserView),
        (status = 403, description = "CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such user within your scope", body = ErrorBody),
    ))]
pub async fn enable_user(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(st.svc.set_user_disabled(&c, &username, false).await.api(lang)?))
}

/// The phone a staff member is called on at work; residents of their grid see it. Empty: none.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct WorkPhoneInput {
    #[schema(max_length = 20)]
    pub work_phone: String,
}

/// Set a staff member's work phone (a mobile or a landline with its area code).
#[utoipa::path(put, path = "/api/v1/users/{username}/work-phone", tag = "users", request_body = WorkPhoneInput,
    params(("username" = String, Path, description = "Username")),
    responses(
        (status = 200, description = "Set", body = UserView),
        (status = 403, description = "CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such user within your scope", body = ErrorBody),
        (status = 422, description = "Not a phone number", body = ErrorBody),
    ))]
pub async fn set_work_phone(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(username): ApiPath<String>,
    ApiJson(b): ApiJson<WorkPhoneInput>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(st.svc.set_work_phone(&c, &username, &b.work_phone).await.api(lang)?))
}
