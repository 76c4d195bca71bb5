//! Repair projects: their money, milestones, the residents' acceptance,
//! and the public spending board.

use super::prelude::*;
use yijia_service::projects::{
    ExpenseDecision, ExpenseInput, FileTarget, FundingDecision, FundingInput, LineInput, MilestoneDone, MilestoneInput,
    ProjectInput, ProjectView, SpendingBoard, StageInput, VoteInput, Votes,
};

use super::points::CommunityParam;

/// A community's repair projects, newest first, each with its money.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", params(CommunityParam),
    responses(
        (status = 200, description = "The projects", body = Vec<ProjectView>),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 422, description = "Name the community", body = ErrorBody),
    ))]
pub async fn list_projects(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
) -> Result<Json<Vec<ProjectView>>, ApiError> {
    Ok(Json(st.svc.projects(&c, q.community.as_deref()).await.api(lang)?))
}

/// Start a repair project on buildings, linked to the hazard cases it fixes.
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", params(CommunityParam), request_body = ProjectInput,
    responses(
        (status = 201, description = "The project", body = ProjectView),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 409, description = "A project of that title is there", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn create_project(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
    ApiJson(b): ApiJson<ProjectInput>,
) -> Result<(StatusCode, Json<ProjectView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.create_project(&c, q.community.as_deref(), b).await.api(lang)?)))
}

/// One project: buildings, hazards, budget, funding, expenses, milestones, votes.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = i64, Path, description = "Project id")),
    responses(
        (status = 200, description = "The project", body = ProjectView),
        (status = 404, description = "No such project in your scope", body = ErrorBody),
    ))]
pub async fn get_project(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ProjectView>, ApiError> {
    Ok(Json(st.svc.project(&c, id).await.api(lang)?))
}

/// Add a line to a project's budget (fen).
#[utoipa::path(post, path = "/api/v1/projects/{id}/budget", tag = "projects",
    params(("id" = i64, Path, description = "Project id")), request_body = LineInput,
    responses(
        (status = 200, description = "The project after it", body = ProjectView),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "A line of that name is there, or the project is accepted", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn add_budget_line(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<LineInput>,
) -> Result<Json<ProjectView>, ApiError> {
    Ok(Json(st.svc.add_budget_line(&c, id, b).await.api(lang)?))
}

/// File an application for money with a named source (fen).
#[utoipa::path(post, path = "/api/v1/projects/{id}/fundings", tag = "projects",
    params(("id" = i64, Path, description = "Project id")), request_body = FundingInput,
    responses(
        (status = 200, description = "The project after it", body = ProjectView),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "The project is accepted", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn apply_for_funding(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<FundingInput>,
) -> Result<Json<ProjectView>, ApiError> {
    Ok(Json(st.svc.apply_for_funding(&c, id, b).await.api(lang)?))
}

/// The street officer approves (all or part) or refuses an application.
#[utoipa::path(post, path = "/api/v1/fundings/{id}/decision", tag = "projects",
    params(("id" = i64, Path, description = "Funding application id")), request_body = FundingDecision,
    responses(
        (status = 200, description = "The project after it", body = ProjectView),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "Decided already", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn decide_funding(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<FundingDecision>,
) -> Result<Json<ProjectView>, ApiError> {
    Ok(Json(st.svc.decide_funding(&c, id, b).await.api(lang)?))
}

/// Record an expense against a budget line; above 50,000 yuan it waits for the street officer.
#[utoipa::path(post, path = "/api/v1/projects/{id}/expenses", tag = "projects",
    params(("id" = i64, Path, description = "Project id")), request_body = ExpenseInput,
    responses(
        (status = 200, description = "The project after it", body = ProjectView),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "Conflict", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn record_expense(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ExpenseInput>,
) -> Result<Json<ProjectView>, ApiError> {
    Ok(Json(st.svc.record_expense(&c, id, b).await.api(lang)?))
}

/// The street officer approves or refuses an expense above the limit.
#[utoipa::path(post, path = "/api/v1/expenses/{id}/decision", tag = "projects",
    params(("id" = i64, Path, description = "Expense id")), request_body = ExpenseDecision,
    responses(
        (status = 200, description = "The project after it", body = ProjectView),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "Not waiting for approval", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn decide_expense(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ExpenseDecision>,
) -> Result<Json<ProjectView>, ApiError> {
    Ok(Json(st.svc.decide_expense(&c, id, b).await.api(lang)?))
}

/// Add a milestone with its date.
#[utoipa::path(post, path = "/api/v1/projects/{id}/milestones", tag = "projects",
    params(("id" = i64, Path, description = "Project id")), request_body = MilestoneInput,
    responses(
        (status = 200, description = "The project after it", body = ProjectView),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "Conflict", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn add_milestone(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<MilestoneInput>,
) -> Result<Json<ProjectView>, ApiError> {
    Ok(Json(st.svc.add_milestone(&c, id, b).await.api(lang)?))
}

/// Mark a milestone done.
#[utoipa::path(post, path = "/api/v1/milestones/{id}/done", tag = "projects",
    params(("id" = i64, Path, description = "Milestone id")), request_body = MilestoneDone,
    responses(
        (status = 200, description = "The project after it", body = ProjectView),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "Done already", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn finish_milestone(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<MilestoneDone>,
) -> Result<Json<ProjectView>, ApiError> {
    Ok(Json(st.svc.finish_milestone(&c, id, b).await.api(lang)?))
}

/// Start the work (money approved), or finish it and open the residents' vote.
#[utoipa::path(post, path = "/api/v1/projects/{id}/stage", tag = "projects",
    params(("id" = i64, Path, description = "Project id")), request_body = StageInput,
    responses(
        (status = 200, description = "The project after it", body = ProjectView),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "Not from this stage", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn move_project(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<StageInput>,
) -> Result<Json<ProjectView>, ApiError> {
    Ok(Json(st.svc.move_project(&c, id, b).await.api(lang)?))
}

/// Count the residents' votes: carried, the project is accepted and its hazards close; not, the work goes on.
#[utoipa::path(post, path = "/api/v1/projects/{id}/count-votes", tag = "projects",
    params(("id" = i64, Path, description = "Project id")),
    responses(
        (status = 200, description = "The project after it", body = ProjectView),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "Not being voted on", body = ErrorBody),
    ))]
pub async fn count_votes(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ProjectView>, ApiError> {
    Ok(Json(st.svc.close_vote(&c, id).await.api(lang)?))
}

/// For a resident: the repair projects on their building, with their vote.
#[utoipa::path(get, path = "/api/v1/me/projects", tag = "me",
    responses(
        (status = 200, description = "The projects", body = Vec<ProjectView>),
        (status = 403, description = "No resident record linked", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
    ))]
pub async fn my_projects(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<ProjectView>>, ApiError> {
    Ok(Json(st.svc.my_projects(&c).await.api(lang)?))
}

/// For a resident of the project's buildings: accept the finished work or not, once.
#[utoipa::path(post, path = "/api/v1/me/projects/{id}/vote", tag = "me",
    params(("id" = i64, Path, description = "Project id")), request_body = VoteInput,
    responses(
        (status = 200, description = "The votes so far", body = Votes),
        (status = 403, description = "No resident record linked", body = ErrorBody),
        (status = 404, description = "No such project on your building", body = ErrorBody),
        (status = 409, description = "Not being voted on, or voted already", body = ErrorBody),
        (status = 422, description = "A field is wrong", body = ErrorBody),
    ))]
pub async fn vote(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<VoteInput>,
) -> Result<Json<Votes>, ApiError> {
    Ok(Json(st.svc.vote_on_project(&c, id, b).await.api(lang)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardCommunity {
    /// A community's org code.
    pub community: String,
}

/// The public spending board of a community: money approved and spent per project and year,
/// on what, cost per household. No login; no personal data.
#[utoipa::path(get, path = "/api/v1/boards/spending", tag = "projects", params(BoardCommunity),
    responses(
        (status = 200, description = "The board", body = SpendingBoard),
        (status = 404, description = "No such community", body = ErrorBody),
    ))]
pub async fn spending_board(
    State(st): State<AppState>,
    lang: Lang,
    ApiQuery(q): ApiQuery<BoardCommunity>,
) -> Result<Json<SpendingBoard>, ApiError> {
    Ok(Json(st.svc.spending_board(&q.community).await.api(lang)?))
}

/// Attach a file: a document to a funding application, a receipt (photo or PDF) to an expense,
/// or a before/after photo to a milestone. Multipart, one file in the field `file`.
#[utoipa::path(post, path = "/api/v1/projects/{id}/files", tag = "projects",
    params(("id" = i64, Path, description = "Project id"), FileTarget),
    request_body(content_type = "multipart/form-data", description = "One file in the field `file`"),
    responses(
        (status = 200, description = "The project after it", body = ProjectView),
        (status = 400, description = "Bad id, query or form", body = ErrorBody),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 413, description = "Too large", body = ErrorBody),
        (status = 415, description = "Not a multipart form", body = ErrorBody),
        (status = 422, description = "Not a photo or PDF, or not of this project", body = ErrorBody),
    ))]
pub async fn add_file(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<FileTarget>,
    form: crate::upload::ApiForm,
) -> Result<Json<ProjectView>, ApiError> {
    let u = crate::upload::read_api(form, "file").await?;
    Ok(Json(st.svc.add_project_file(&c, id, q, u.files).await.api(lang)?))
}

/// A project's file, for those who read the project.
#[utoipa::path(get, path = "/api/v1/project-files/{id}", tag = "projects",
    params(("id" = i64, Path, description = "File id")),
    responses(
        (status = 200, description = "The file, as the type it is", content(
            (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"), (Vec<u8> = "application/pdf"))),
        (status = 404, description = "Not in your scope", body = ErrorBody),
    ))]
pub async fn get_file(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::response::Response, ApiError> {
    Ok(super::cases::photo_attachment(st.svc.project_file(&c, id).await.api(lang)?))
}

/// A before or after photo of a repair, as the public board shows it. No login.
#[utoipa::path(get, path = "/api/v1/boards/photos/{id}", tag = "projects",
    params(("id" = i64, Path, description = "File id")),
    responses(
        (status = 200, description = "The photo", content(
            (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"))),
        (status = 404, description = "No such photo on a board", body = ErrorBody),
    ))]
pub async fn board_photo(
    State(st): State<AppState>,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::response::Response, ApiError> {
    Ok(super::cases::photo_attachment(st.svc.board_photo(id).await.api(lang)?))
}
