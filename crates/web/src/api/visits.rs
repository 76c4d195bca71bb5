//! Visits and care plans: today's walk list, logging visits (one, or a
//! phone's queue), a resident's plan, a community's intervals, coverage.

use super::prelude::*;
use serde::Serialize;
use yijia_service::cases::{CaseView, NoteInput};
use yijia_service::visits::{
    BatchItem, Coverage, IntervalInput, IntervalView, Logged, OwnIntervalInput, PlanView, VisitBatch, VisitInput,
    WalkList,
};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WalkParams {
    /// A grid's code; default: all your grids.
    pub grid: Option<String>,
    /// An estate's name: only the people due there.
    #[param(max_length = 64)]
    pub estate: Option<String>,
    /// At most this many people (default 500, at most 2000).
    pub limit: Option<i64>,
}

/// Today's walk: who is due or overdue in your grids, in walking order (estate, building,
/// entrance, door), with open cases in the same buildings and dispute revisits due.
#[utoipa::path(get, path = "/api/v1/walk-list", tag = "visits", params(WalkParams),
    responses(
        (status = 200, description = "Today's walk list", body = WalkList),
        (status = 404, description = "That grid is not yours", body = ErrorBody),
        (status = 422, description = "No such grid", body = ErrorBody),
    ))]
pub async fn walk_list(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<WalkParams>,
) -> Result<Json<WalkList>, ApiError> {
    Ok(Json(st.svc.walk_list(&c, q.grid.as_deref(), q.estate.as_deref(), q.limit.unwrap_or(500)).await.api(lang)?))
}

/// Log a visit. The `client_id` is chosen on the phone: the same visit sent again is recorded
/// once and answered with the first (200 instead of 201). With `case`, a request, dispute or
/// hazard is opened from the visit with its place and resident filled in.
#[utoipa::path(post, path = "/api/v1/visits", tag = "visits", request_body = VisitInput,
    responses(
        (status = 201, description = "Recorded", body = Logged),
        (status = 200, description = "Recorded before with this client id; nothing changed", body = Logged),
        (status = 404, description = "No such resident or household in your scope", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn log_visit(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<VisitInput>,
) -> Result<(StatusCode, Json<Logged>), ApiError> {
    let l = st.svc.log_visit(&c, b, None).await.api(lang)?;
    let status = if l.recorded_now { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(l)))
}

/// What became of each visit of a batch, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    pub results: Vec<BatchItem>,
}

/// Send a phone's queued visits (1–100) at once. Each is answered on its own: `recorded`,
/// `known` (sent before) or `refused` with the field and why; a refused one keeps the others.
#[utoipa::path(post, path = "/api/v1/visits/batch", tag = "visits", request_body = VisitBatch,
    responses(
        (status = 200, description = "Each visit's outcome", body = BatchResult),
        (status = 404, description = "Your role does not log visits", body = ErrorBody),
        (status = 422, description = "Empty, or more than 100", body = ErrorBody),
    ))]
pub async fn log_visits(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<VisitBatch>,
) -> Result<Json<BatchResult>, ApiError> {
    Ok(Json(BatchResult { results: st.svc.log_visits(&c, b).await.api(lang)? }))
}

/// Undo a visit you recorded within the last minute (an "all well" tapped on the wrong person):
/// it leaves the history and the counts, and the resident's next visit is due as before.
#[utoipa::path(delete, path = "/api/v1/visits/{id}", tag = "visits",
    params(("id" = i64, Path, description = "Visit id")),
    responses(
        (status = 204, description = "Undone"),
        (status = 403, description = "CSRF token missing (cookie sessions)", body = ErrorBody),
        (status = 404, description = "No such visit recorded by you", body = ErrorBody),
        (status = 422, description = "More than a minute ago, or it opened a case", body = ErrorBody),
    ))]
pub async fn undo_visit(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    st.svc.undo_visit(&c, id).await.api(lang)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A visit's photo, as an attachment.
#[utoipa::path(get, path = "/api/v1/visits/{id}/photo", tag = "visits",
    params(("id" = i64, Path, description = "Visit id")),
    responses(
        (status = 200, description = "The photo", content(
            (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"))),
        (status = 404, description = "No such photo of a visit in your scope", body = ErrorBody),
    ))]
pub async fn visit_photo(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::response::Response, ApiError> {
    Ok(super::cases::photo_attachment(st.svc.visit_photo(&c, id).await.api(lang)?))
}

/// A resident's care plan and latest visits (reading the notes is audited).
#[utoipa::path(get, path = "/api/v1/residents/{id}/plan", tag = "visits",
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 200, description = "The plan", body = PlanView),
        (status = 404, description = "No such resident in your scope", body = ErrorBody),
        (status = 429, description = "Too many records read in the last hour", body = ErrorBody),
    ))]
pub async fn resident_plan(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PlanView>, ApiError> {
    Ok(Json(st.svc.resident_plan(&c, id).await.api(lang)?))
}

/// Set a resident's own visit interval, or clear it (their categories decide).
#[utoipa::path(put, path = "/api/v1/residents/{id}/plan", tag = "visits", request_body = OwnIntervalInput,
    params(("id" = i64, Path, description = "Resident id")),
    responses(
        (status = 200, description = "The plan now", body = PlanView),
        (status = 404, description = "No such resident in your scope", body = ErrorBody),
        (status = 422, description = "Not 1–365 days", body = ErrorBody),
    ))]
pub async fn set_resident_plan(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<OwnIntervalInput>,
) -> Result<Json<PlanView>, ApiError> {
    Ok(Json(st.svc.set_own_interval(&c, id, b).await.api(lang)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CommunityParam {
    /// The community's org code; needed only when you work in several.
    pub community: Option<String>,
}

/// A community's visit intervals.
#[derive(Debug, Serialize, ToSchema)]
pub struct Intervals {
    pub community: String,
    pub items: Vec<IntervalView>,
}

/// A community's visit interval per category, with the defaults.
#[utoipa::path(get, path = "/api/v1/care-intervals", tag = "visits", params(CommunityParam),
    responses(
        (status = 200, description = "The intervals", body = Intervals),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 422, description = "Name the community", body = ErrorBody),
    ))]
pub async fn care_intervals(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
) -> Result<Json<Intervals>, ApiError> {
    let i = st.svc.care_intervals(&c, q.community.as_deref()).await.api(lang)?;
    Ok(Json(Intervals { community: i.community, items: i.items }))
}

/// Change a community's interval for a category (no `days`: back to the default). Everyone it
/// touches gets their next visit date moved.
#[utoipa::path(put, path = "/api/v1/care-intervals", tag = "visits", params(CommunityParam),
    request_body = IntervalInput,
    responses(
        (status = 200, description = "The intervals now", body = Intervals),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 422, description = "No such category, or not 1–365 days", body = ErrorBody),
    ))]
pub async fn set_care_interval(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
    ApiJson(b): ApiJson<IntervalInput>,
) -> Result<Json<Intervals>, ApiError> {
    let i = st.svc.set_care_interval(&c, q.community.as_deref(), b).await.api(lang)?;
    Ok(Json(Intervals { community: i.community, items: i.items }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CoverageParams {
    /// A grid, community or subdistrict code; default: all your scope.
    pub org: Option<String>,
    /// How many months back (default 6, at most 24).
    pub months: Option<u32>,
}

/// Coverage: per grid, category and month the share of residents under a plan visited on time;
/// visits per worker this month; who is overdue.
#[utoipa::path(get, path = "/api/v1/coverage", tag = "visits", params(CoverageParams),
    responses(
        (status = 200, description = "Coverage", body = Coverage),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 422, description = "No such org", body = ErrorBody),
    ))]
pub async fn coverage(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CoverageParams>,
) -> Result<Json<Coverage>, ApiError> {
    Ok(Json(st.svc.coverage(&c, q.org.as_deref(), q.months.unwrap_or(6)).await.api(lang)?))
}

/// Record a dispute's revisit as done, with what was found.
#[utoipa::path(post, path = "/api/v1/cases/{id}/revisits/{revisit}", tag = "cases", request_body = NoteInput,
    params(("id" = i64, Path, description = "Case id"), ("revisit" = i64, Path, description = "Revisit id")),
    responses(
        (status = 200, description = "Recorded", body = CaseView),
        (status = 404, description = "No such case or revisit in your scope", body = ErrorBody),
        (status = 409, description = "Recorded already, or not yours to handle", body = ErrorBody),
        (status = 422, description = "The note is empty or too long", body = ErrorBody),
    ))]
pub async fn finish_revisit(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath((id, revisit)): ApiPath<(i64, i64)>,
    ApiJson(b): ApiJson<NoteInput>,
) -> Result<Json<CaseView>, ApiError> {
    Ok(Json(st.svc.finish_revisit(&c, id, revisit, &b).await.api(lang)?))
}
