use super::prelude::*;
use yijia_service::categories::CategoryDef;
use yijia_service::households::{BuildingView, HouseholdView};
use yijia_service::life::{LifeEventView, LifeInput, LifeOutcome};
use yijia_service::registry::ResidentEdit;
use yijia_service::registry::{
    CategoryChange, GridCounts, HistoryView, RecordView, ResidentFilter, ResidentInput, ResidentView, Unmasked,
};
use yijia_service::{Page, PageReq};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ResidentParams {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Only this grid (an org code within your scope).
    pub grid: Option<String>,
    /// A category by code (elderly_alone, c12 for a community's own), alias or name.
    pub category: Option<String>,
    /// Name prefix (崔晓 finds 崔晓红).
    pub name: Option<String>,
    /// A whole ID number or phone number (exact match).
    pub q: Option<String>,
    pub residence: Option<yijia_domain::registry::Residence>,
    /// Youngest age, in whole years.
    pub age_min: Option<u32>,
    /// Oldest age, in whole years.
    pub age_max: Option<u32>,
    /// Estate name (丁香花园三期).
    pub estate: Option<String>,
    /// Building of that estate (3号楼 or 3).
    pub building: Option<String>,
    /// Entrance of that building (2单元 or 2).
    pub entrance: Option<String>,
    /// Door number in that estate (502).
    pub door: Option<String>,
    /// name (default), oldest, youngest, address or newest.
    pub sort: Option<yijia_service::registry::ResidentSort>,
    /// present (default: on the register), moved_away or deceased.
    pub status: Option<yijia_domain::life::Status>,
}

/// Residents in your scope, masked, by name.
#[utoipa::path(get, path = "/api/v1/residents", tag = "residents", params(ResidentParams),
    responses(
        (status = 200, description = "A page of residents", body = Page<ResidentView>),
        (status = 404, description = "Your role does not read the registry", body = ErrorBody),
        (status = 422, description = "Unknown grid, a q that is neither ID nor phone, or paging out of range", body = ErrorBody),
    ))]
pub async fn list_residents(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<ResidentParams>,
) -> Result<Json<Page<ResidentView>>, ApiError> {
    let page = PageReq::new(q.page, q.per_page).api(lang)?;
    let f = ResidentFilter {
        grid: q.grid,
        category: q.category,
        name: q.name,
        q: q.q,
        residence: q.residence,
        age_min: q.age_min,
        age_max: q.age_max,
        estate: q.estate,
        building: q.building,
        entrance: q.entrance,
        door: q.door,
        sort: q.sort.unwrap_or_default(),
        status: q.status,
    };
    Ok(Json(st.svc.list_residents(&c, f, page).await.api(lang)?))
}

/// Register a resident (grid workers in their grids; staff and secretaries
/// in their community).
#[utoipa::path(post, path = "/api/v1/residents", tag = "residents", request_body = ResidentInput,
    responses(
        (status = 201, description = "Registered; personal data masked", body = ResidentView),
        (status = 403, description = "CSRF token missing", body = ErrorBody),
        (status = 404, description = "Your role does not register residents", body = ErrorBody),
        (status = 409, description = "The ID number is registered already", body = ErrorBody),
        (status = 422, description = "A field is invalid (wrong check digit, unknown estate, …)", body = ErrorBody),
    ))]
pub async fn add_resident(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<ResidentInput>,
) -> Result<(StatusCode, Json<ResidentView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.add_resident(&c, b).await.api(lang)?)))
}

/// One resident, masked. The read is recorded for the resident to see.
#[utoipa::path(get, path = "/api/v1/residents/{id}", tag = "residents",
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 200, description = "The resident", body = ResidentView),
        (status = 404, description = "No such resident within your scope", body = ErrorBody),
        (status = 429, description = "Too many records read in the last hour", body = ErrorBody),
    ))]
pub async fn get_resident(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ResidentView>, ApiError> {
    Ok(Json(st.svc.get_resident(&c, id).await.api(lang)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnmaskRequest {
    /// id_number, phone or details
    pub field: String,
    /// Why you need to see it (2–200 characters); kept in the audit log.
    pub reason: String,
}

/// Why staff make a copy of a resident's data for him.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DataCopyRequest {
    /// For whom and why (2–200 characters); kept in the audit log, and shown to the resident.
    pub reason: String,
}

/// A copy of everything held about a resident, made for him by staff (he has no phone, say),
/// with a reason: the record in full, categories, history, visits without sealed notes,
/// requests, points, votes, who looked. Audited; the resident sees it among who looked.
#[utoipa::path(post, path = "/api/v1/residents/{id}/data-copy", tag = "residents", request_body = DataCopyRequest,
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 200, description = "The copy", body = yijia_service::data_copy::DataCopy),
        (status = 403, description = "CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such resident within your scope", body = ErrorBody),
        (status = 422, description = "No reason", body = ErrorBody),
        (status = 429, description = "Too many records read in the last hour", body = ErrorBody),
    ))]
pub async fn resident_data_copy(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<DataCopyRequest>,
) -> Result<Json<yijia_service::data_copy::DataCopy>, ApiError> {
    Ok(Json(st.svc.data_copy_for(&c, id, &body.reason).await.api(lang)?))
}

/// Show one protected field in full, with a reason (audited).
#[utoipa::path(post, path = "/api/v1/residents/{id}/unmask", tag = "residents", request_body = UnmaskRequest,
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 200, description = "The field in full", body = Unmasked),
        (status = 403, description = "Your role may not see personal data in full, or CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such resident within your scope", body = ErrorBody),
        (status = 422, description = "No reason, or no such field", body = ErrorBody),
        (status = 429, description = "Too many records read in the last hour", body = ErrorBody),
    ))]
pub async fn unmask_resident(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<UnmaskRequest>,
) -> Result<Json<Unmasked>, ApiError> {
    Ok(Json(st.svc.unmask(&c, id, &b.field, &b.reason).await.api(lang)?))
}

/// Who viewed, unmasked or changed this record.
#[utoipa::path(get, path = "/api/v1/residents/{id}/views", tag = "residents",
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 200, description = "Newest first", body = Vec<RecordView>),
        (status = 404, description = "No such resident within your scope", body = ErrorBody),
    ))]
pub async fn resident_views(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<RecordView>>, ApiError> {
    Ok(Json(st.svc.record_views(&c, id).await.api(lang)?))
}

/// 分类归档: per grid in your scope, residents and residents per category.
/// Each count equals the total of the list with that grid and category.
#[utoipa::path(get, path = "/api/v1/residents/categories", tag = "residents",
    responses(
        (status = 200, description = "One line per grid", body = Vec<GridCounts>),
        (status = 404, description = "Your role does not read the registry", body = ErrorBody),
    ))]
pub async fn category_counts(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<GridCounts>>, ApiError> {
    Ok(Json(st.svc.category_counts(&c).await.api(lang)?))
}

/// Add or remove a category, with the reason (kept in its history).
#[utoipa::path(post, path = "/api/v1/residents/{id}/categories", tag = "residents", request_body = CategoryChange,
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 200, description = "The resident, changed", body = ResidentView),
        (status = 403, description = "Your role does not change records, or CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such resident within your scope", body = ErrorBody),
        (status = 409, description = "The resident has that category already", body = ErrorBody),
        (status = 422, description = "No reason, an unknown action, or details that do not fit", body = ErrorBody),
    ))]
pub async fn change_category(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CategoryChange>,
) -> Result<Json<ResidentView>, ApiError> {
    Ok(Json(st.svc.change_category(&c, id, b).await.api(lang)?))
}

/// Record a change in the resident's life (moved away, deceased, back on the register), with
/// its day, reason and source. It does at once what it means: off the walk list, the counts and
/// the coverage; the account disabled and family links ended; the points back to the pool (the
/// published rule); for a death, the requests they filed closed with a note. Coming back plans
/// them again and enables an account the change disabled.
#[utoipa::path(post, path = "/api/v1/residents/{id}/life", tag = "residents", request_body = LifeInput,
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 200, description = "The record's status and what the change did", body = LifeOutcome),
        (status = 403, description = "CSRF token missing", body = ErrorBody),
        (status = 404, description = "No such resident within your scope", body = ErrorBody),
        (status = 409, description = "The record changed since you read it", body = ErrorBody),
        (status = 422, description = "A change the record does not allow, a date in the future or before birth, or no reason", body = ErrorBody),
    ))]
pub async fn change_life(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<LifeInput>,
) -> Result<Json<LifeOutcome>, ApiError> {
    Ok(Json(st.svc.change_life(&c, id, b).await.api(lang)?))
}

/// The changes in the resident's life, oldest first: each with its day, reason, source, who
/// recorded it and what it did.
#[utoipa::path(get, path = "/api/v1/residents/{id}/life", tag = "residents",
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 200, description = "Oldest first", body = Vec<LifeEventView>),
        (status = 404, description = "No such resident within your scope", body = ErrorBody),
    ))]
pub async fn life_events(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<LifeEventView>>, ApiError> {
    Ok(Json(st.svc.life_of(&c, id).await.api(lang)?))
}

/// Who added or removed which category, when and why.
#[utoipa::path(get, path = "/api/v1/residents/{id}/history", tag = "residents",
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 200, description = "Newest first", body = Vec<HistoryView>),
        (status = 404, description = "No such resident within your scope", body = ErrorBody),
    ))]
pub async fn category_history(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<HistoryView>>, ApiError> {
    Ok(Json(st.svc.category_history(&c, id).await.api(lang)?))
}

/// Change a resident's own data (not their grid or categories). Send the
/// `version` you read; fields left out keep their value.
#[utoipa::path(put, path = "/api/v1/residents/{id}", tag = "residents", request_body = ResidentEdit,
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 200, description = "The resident as changed", body = ResidentView),
        (status = 404, description = "No such resident that you register", body = ErrorBody),
        (status = 409, description = "Changed by someone else since you read it, or the ID number is another resident's", body = ErrorBody),
        (status = 422, description = "A field is not valid (named in the error)", body = ErrorBody),
    ))]
pub async fn update_resident(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ResidentEdit>,
) -> Result<Json<ResidentView>, ApiError> {
    Ok(Json(st.svc.update_resident(&c, id, b).await.api(lang)?))
}

/// A household: its address and its people, the head first (masked).
#[utoipa::path(get, path = "/api/v1/households/{id}", tag = "residents",
    params(("id" = i64, Path, description = "Household id")),
    responses(
        (status = 200, description = "The household", body = HouseholdView),
        (status = 404, description = "No such household within your scope", body = ErrorBody),
    ))]
pub async fn get_household(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<HouseholdView>, ApiError> {
    Ok(Json(st.svc.household_view(&c, id).await.api(lang)?))
}

/// A building: who lives behind which door, by entrance and door (masked;
/// only the doors in your grids).
#[utoipa::path(get, path = "/api/v1/buildings/{id}", tag = "residents",
    params(("id" = i64, Path, description = "Building id")),
    responses(
        (status = 200, description = "The building", body = BuildingView),
        (status = 404, description = "No such building with households in your scope", body = ErrorBody),
    ))]
pub async fn get_building(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<BuildingView>, ApiError> {
    Ok(Json(st.svc.building_view(&c, id).await.api(lang)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    /// The community's org code.
    pub community: String,
    /// 2–12 characters (失独家庭).
    pub name: String,
}

/// The categories: the built-in ones and those of the communities in your scope.
#[utoipa::path(get, path = "/api/v1/categories", tag = "residents",
    responses(
        (status = 200, description = "The categories", body = Vec<CategoryDef>),
        (status = 404, description = "Your role does not read the registry", body = ErrorBody),
    ))]
pub async fn list_categories(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<CategoryDef>>, ApiError> {
    Ok(Json(st.svc.categories(&c).await.api(lang)?))
}

/// Add a category for a community (secretaries and community staff).
#[utoipa::path(post, path = "/api/v1/categories", tag = "residents", request_body = NewCategory,
    responses(
        (status = 201, description = "Added; residents hold it by its code", body = CategoryDef),
        (status = 404, description = "Your role does not add categories", body = ErrorBody),
        (status = 409, description = "The community has it already, or it is a built-in one", body = ErrorBody),
        (status = 422, description = "No such community of yours, or the name is not 2–12 characters", body = ErrorBody),
    ))]
pub async fn add_category(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<NewCategory>,
) -> Result<(StatusCode, Json<CategoryDef>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.add_custom_category(&c, &b.community, &b.name).await.api(lang)?)))
}
