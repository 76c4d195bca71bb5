//! Repair projects: their money, milestones, the residents' acceptance,
//! and the public spending board.

use super::prelude::*;
use yijia_service::ballots::{BallotView, PaperVote};
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

/// The acceptance ballot of one of the project's buildings: who lives there (names only, no ID
/// numbers), door by door, and who has voted and how. For the grid worker to carry and record on.
#[utoipa::path(get, path = "/api/v1/projects/{id}/ballots/{building}", tag = "projects",
    params(("id" = i64, Path, description = "Project id"), ("building" = i64, Path, description = "Building id")),
    responses(
        (status = 200, description = "The ballot", body = BallotView),
        (status = 404, description = "No such building in the project, or none of it in your grids", body = ErrorBody),
    ))]
pub async fn project_ballot(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath((id, building)): ApiPath<(i64, i64)>,
) -> Result<Json<BallotView>, ApiError> {
    Ok(Json(st.svc.project_ballot(&c, id, building).await.api(lang)?))
}

/// A paper or door-to-door vote, as the form carries it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PaperVoteForm {
    resident_id: i64,
    /// `true` (accept) or `false`.
    accept: bool,
    /// Who saw the resident vote; needed when no slip is photographed. At most 40 characters.
    witness: Option<String>,
    /// The signed slip: one JPEG, PNG or WebP, at most 10 MB.
    #[schema(value_type = Option<String>, format = Binary)]
    slip: Option<Vec<u8>>,
}

/// Record a resident's vote cast on paper or at the door, with the signed slip's photo or a
/// witness. One vote a resident, whatever the channel; it counts toward the quorum like any other.
#[utoipa::path(post, path = "/api/v1/projects/{id}/paper-votes", tag = "projects",
    params(("id" = i64, Path, description = "Project id")),
    request_body(content = PaperVoteForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The votes so far", body = Votes),
        (status = 400, description = "Not a multipart body", body = ErrorBody),
        (status = 404, description = "No such project, or the resident is not in your grids", body = ErrorBody),
        (status = 409, description = "Not being voted on, or the resident's vote is already in", body = ErrorBody),
        (status = 413, description = "Too large", body = ErrorBody),
        (status = 415, description = "Not multipart", body = ErrorBody),
        (status = 422, description = "A field is wrong, or neither slip nor witness", body = ErrorBody),
    ))]
pub async fn record_paper_vote(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    form: crate::upload::ApiForm,
) -> Result<Json<Votes>, ApiError> {
    let u = crate::upload::read_api(form, "slip").await?;
    let r = async {
        let input = PaperVote {
            resident_id: u.whole("resident_id")?,
            accept: u.yes_no("accept")?,
            witness: u.text("witness").to_owned(),
        };
        st.svc.record_project_vote(&c, id, input, u.files).await
    };
    Ok(Json(r.await.api(lang)?))
}

/// The photo of a resident's signed slip.
#[utoipa::path(get, path = "/api/v1/projects/{id}/votes/{resident}/slip", tag = "projects",
    params(("id" = i64, Path, description = "Project id"), ("resident" = i64, Path, description = "Resident id")),
    responses(
        (status = 200, description = "The photo", content(
            (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"))),
        (status = 404, description = "No slip, or not in your scope", body = ErrorBody),
    ))]
pub async fn vote_slip(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath((id, resident)): ApiPath<(i64, i64)>,
) -> Result<axum::response::Response, ApiError> {
    Ok(super::cases::photo_attachment(st.svc.project_vote_slip(&c, id, resident).await.api(lang)?))
}
