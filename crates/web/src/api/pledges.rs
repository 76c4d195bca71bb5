//! Pledges (十件实事): a community's year, proposals, the ballot, progress,
//! residents' verdicts, and the public board.

use super::prelude::*;
use yijia_service::pledges::{
    AdvanceInput, MilestoneDone, MilestoneInput, OwnerInput, PledgeMilestoneView, PledgeView, PledgesBoard,
    ProgressInput, ProposalInput, ShortlistInput, UpdateView, VerdictInput, YearInput, YearView,
};

use yijia_service::ballots::{PaperPledge, PaperVerdict, PledgeBallotView};

use super::cases::PhotoUpload;
use super::points::CommunityParam;
use super::projects::BoardCommunity;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearParams {
    /// A community's code; default: yours.
    pub community: Option<String>,
    /// Default: the latest.
    pub year: Option<i64>,
}

/// A year of the community's pledges: every proposal, the votes, progress.
#[utoipa::path(get, path = "/api/v1/pledges", tag = "pledges", params(YearParams),
    responses(
        (status = 200, description = "The year", body = YearView),
        (status = 404, description = "Not your community, or no such year", body = ErrorBody),
        (status = 409, description = "No year opened yet", body = ErrorBody),
        (status = 422, description = "Name the community", body = ErrorBody),
    ))]
pub async fn pledge_year(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<YearParams>,
) -> Result<Json<YearView>, ApiError> {
    Ok(Json(st.svc.pledge_year(&c, q.community.as_deref(), q.year).await.api(lang)?))
}

/// Open a year: proposals come in.
#[utoipa::path(post, path = "/api/v1/pledges/years", tag = "pledges", params(CommunityParam), request_body = YearInput,
    responses(
        (status = 201, description = "The year", body = YearView),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 409, description = "Open already", body = ErrorBody),
        (status = 422, description = "A field is wrong", body = ErrorBody),
    ))]
pub async fn open_year(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
    ApiJson(b): ApiJson<YearInput>,
) -> Result<(StatusCode, Json<YearView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.open_pledge_year(&c, q.community.as_deref(), b).await.api(lang)?)))
}

/// Move a year on: proposing → voting → working (the most voted are committed) → judging → closed.
#[utoipa::path(post, path = "/api/v1/pledges/years/{year}/advance", tag = "pledges",
    params(("year" = i64, Path, description = "The year"), CommunityParam), request_body = AdvanceInput,
    responses(
        (status = 200, description = "The year", body = YearView),
        (status = 400, description = "Malformed body or year", body = ErrorBody),
        (status = 404, description = "Not your community, or no such year", body = ErrorBody),
        (status = 409, description = "Nothing shortlisted, or closed", body = ErrorBody),
        (status = 422, description = "A field is wrong", body = ErrorBody),
    ))]
pub async fn advance_year(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(year): ApiPath<i64>,
    ApiQuery(q): ApiQuery<CommunityParam>,
    ApiJson(b): ApiJson<AdvanceInput>,
) -> Result<Json<YearView>, ApiError> {
    Ok(Json(st.svc.advance_pledge_year(&c, q.community.as_deref(), year, b).await.api(lang)?))
}

/// Staff propose for the community while proposals come in.
#[utoipa::path(post, path = "/api/v1/pledges", tag = "pledges", params(CommunityParam), request_body = ProposalInput,
    responses(
        (status = 201, description = "The proposal", body = PledgeView),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 409, description = "Not proposing now, or proposed already", body = ErrorBody),
        (status = 422, description = "A field is wrong", body = ErrorBody),
    ))]
pub async fn propose(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
    ApiJson(b): ApiJson<ProposalInput>,
) -> Result<(StatusCode, Json<PledgeView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.propose_pledge(&c, q.community.as_deref(), b).await.api(lang)?)))
}

/// Put a proposal on the ballot, or take it off.
#[utoipa::path(post, path = "/api/v1/pledges/{id}/shortlist", tag = "pledges",
    params(("id" = i64, Path, description = "Pledge id")), request_body = ShortlistInput,
    responses(
        (status = 200, description = "The pledge", body = PledgeView),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "Not proposing now", body = ErrorBody),
        (status = 422, description = "A field is wrong", body = ErrorBody),
    ))]
pub async fn shortlist(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ShortlistInput>,
) -> Result<Json<PledgeView>, ApiError> {
    Ok(Json(st.svc.shortlist_pledge(&c, id, b).await.api(lang)?))
}

/// Name who answers for a committed pledge.
#[utoipa::path(put, path = "/api/v1/pledges/{id}/owner", tag = "pledges",
    params(("id" = i64, Path, description = "Pledge id")), request_body = OwnerInput,
    responses(
        (status = 200, description = "The pledge", body = PledgeView),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "Not committed", body = ErrorBody),
        (status = 422, description = "A field is wrong", body = ErrorBody),
    ))]
pub async fn set_owner(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<OwnerInput>,
) -> Result<Json<PledgeView>, ApiError> {
    Ok(Json(st.svc.set_pledge_owner(&c, id, b).await.api(lang)?))
}

/// Report progress on a committed pledge (0–100).
#[utoipa::path(post, path = "/api/v1/pledges/{id}/progress", tag = "pledges",
    params(("id" = i64, Path, description = "Pledge id")), request_body = ProgressInput,
    responses(
        (status = 200, description = "The pledge", body = PledgeView),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "Not committed, or not working now", body = ErrorBody),
        (status = 422, description = "A field is wrong", body = ErrorBody),
    ))]
pub async fn report_progress(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ProgressInput>,
) -> Result<Json<PledgeView>, ApiError> {
    Ok(Json(st.svc.report_pledge_progress(&c, id, b, vec![]).await.api(lang)?))
}

/// Add photos of the work to a progress update (public on the board, cleaned of EXIF and GPS).
#[utoipa::path(post, path = "/api/v1/pledges/updates/{id}/photos", tag = "pledges",
    request_body(content = PhotoUpload, content_type = "multipart/form-data"),
    params(("id" = i64, Path, description = "Update id")),
    responses(
        (status = 201, description = "The update with its photos", body = UpdateView),
        (status = 400, description = "Not a multipart body, or bad id", body = ErrorBody),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "Not working now", body = ErrorBody),
        (status = 415, description = "Not multipart", body = ErrorBody),
        (status = 422, description = "Not a JPEG, PNG or WebP photo, too large, or too many", body = ErrorBody),
    ))]
pub async fn add_update_photos(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    form: crate::upload::ApiForm,
) -> Result<(StatusCode, Json<UpdateView>), ApiError> {
    let u = crate::upload::read_api(form, "photo").await?;
    Ok((StatusCode::CREATED, Json(st.svc.add_pledge_photos(&c, id, u.files).await.api(lang)?)))
}

/// A photo of a pledge's progress, as the public board shows it. No login.
#[utoipa::path(get, path = "/api/v1/boards/pledge-photos/{id}", tag = "pledges",
    params(("id" = i64, Path, description = "Photo id")),
    responses(
        (status = 200, description = "The photo", content(
            (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/webp"))),
        (status = 404, description = "No such photo", body = ErrorBody),
    ))]
pub async fn board_pledge_photo(
    State(st): State<AppState>,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::response::Response, ApiError> {
    Ok(super::cases::photo_attachment(st.svc.pledge_photo(id).await.api(lang)?))
}

/// Add a milestone, with the day it is due, to a committed pledge.
#[utoipa::path(post, path = "/api/v1/pledges/{id}/milestones", tag = "pledges",
    params(("id" = i64, Path, description = "Pledge id")), request_body = MilestoneInput,
    responses(
        (status = 201, description = "The milestone", body = PledgeMilestoneView),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "Not committed, or not working now", body = ErrorBody),
        (status = 422, description = "A field is wrong", body = ErrorBody),
    ))]
pub async fn add_pledge_milestone(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<MilestoneInput>,
) -> Result<(StatusCode, Json<PledgeMilestoneView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.add_pledge_milestone(&c, id, b).await.api(lang)?)))
}

/// Mark a pledge's milestone done (today, unless a day is given).
#[utoipa::path(post, path = "/api/v1/pledges/milestones/{id}/done", tag = "pledges",
    params(("id" = i64, Path, description = "Milestone id")), request_body = MilestoneDone,
    responses(
        (status = 200, description = "The milestone", body = PledgeMilestoneView),
        (status = 404, description = "Not in your scope", body = ErrorBody),
        (status = 409, description = "Done already, or not working now", body = ErrorBody),
        (status = 422, description = "A field is wrong", body = ErrorBody),
    ))]
pub async fn finish_pledge_milestone(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<MilestoneDone>,
) -> Result<Json<PledgeMilestoneView>, ApiError> {
    Ok(Json(st.svc.finish_pledge_milestone(&c, id, b).await.api(lang)?))
}

/// For a resident: the community's latest year, with their votes and verdicts.
#[utoipa::path(get, path = "/api/v1/me/pledges", tag = "me",
    responses(
        (status = 200, description = "The year", body = YearView),
        (status = 403, description = "No resident record linked", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
        (status = 409, description = "No year opened yet", body = ErrorBody),
    ))]
pub async fn my_pledges(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> Result<Json<YearView>, ApiError> {
    Ok(Json(st.svc.my_pledges(&c).await.api(lang)?))
}

/// For a resident: propose a practical thing for this year.
#[utoipa::path(post, path = "/api/v1/me/pledges", tag = "me", request_body = ProposalInput,
    responses(
        (status = 201, description = "The proposal", body = PledgeView),
        (status = 403, description = "No resident record linked", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
        (status = 409, description = "Not proposing now, or proposed already", body = ErrorBody),
        (status = 422, description = "A field is wrong", body = ErrorBody),
    ))]
pub async fn propose_mine(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiJson(b): ApiJson<ProposalInput>,
) -> Result<(StatusCode, Json<PledgeView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.propose_my_pledge(&c, b).await.api(lang)?)))
}

/// For a resident: vote for a shortlisted pledge (once each; so many a year).
#[utoipa::path(post, path = "/api/v1/me/pledges/{id}/vote", tag = "me",
    params(("id" = i64, Path, description = "Pledge id")),
    responses(
        (status = 200, description = "The pledge", body = PledgeView),
        (status = 403, description = "No resident record linked", body = ErrorBody),
        (status = 404, description = "Not of your community", body = ErrorBody),
        (status = 409, description = "Not voting now, voted already, or no votes left", body = ErrorBody),
    ))]
pub async fn vote_mine(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PledgeView>, ApiError> {
    Ok(Json(st.svc.vote_for_pledge(&c, id).await.api(lang)?))
}

/// For a resident: judge a committed pledge at the year's end: kept or not, satisfaction 1–5.
#[utoipa::path(post, path = "/api/v1/me/pledges/{id}/verdict", tag = "me",
    params(("id" = i64, Path, description = "Pledge id")), request_body = VerdictInput,
    responses(
        (status = 200, description = "The pledge", body = PledgeView),
        (status = 403, description = "No resident record linked", body = ErrorBody),
        (status = 404, description = "Not of your community", body = ErrorBody),
        (status = 409, description = "Not judging now, or judged already", body = ErrorBody),
        (status = 422, description = "A field is wrong", body = ErrorBody),
    ))]
pub async fn judge_mine(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<VerdictInput>,
) -> Result<Json<PledgeView>, ApiError> {
    Ok(Json(st.svc.judge_pledge(&c, id, b).await.api(lang)?))
}

/// The public pledges board: this year's (the ballot while voting, then the committed ones with
/// their progress) and last year's with the residents' verdicts. No login.
#[utoipa::path(get, path = "/api/v1/boards/pledges", tag = "pledges", params(BoardCommunity),
    responses(
        (status = 200, description = "The board", body = PledgesBoard),
        (status = 404, description = "No such community", body = ErrorBody),
    ))]
pub async fn pledges_board(
    State(st): State<AppState>,
    lang: Lang,
    ApiQuery(q): ApiQuery<BoardCommunity>,
) -> Result<Json<PledgesBoard>, ApiError> {
    Ok(Json(st.svc.pledges_board(&q.community).await.api(lang)?))
}

/// A pledge vote or verdict as the form carries it.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PaperPledgeForm {
    resident_id: i64,
    /// Who saw the resident vote; needed when no slip is photographed. At most 40 characters.
    witness: Option<String>,
    /// For a verdict only: `true` (kept) or `false`.
    kept: Option<bool>,
    /// For a verdict only: 1 to 5.
    satisfaction: Option<i64>,
    /// The signed slip: one JPEG, PNG or WebP, at most 10 MB.
    #[schema(value_type = Option<String>, format = Binary)]
    slip: Option<Vec<u8>>,
}

async fn paper_pledge(
    st: &AppState,
    c: &yijia_service::Caller,
    id: i64,
    u: crate::upload::Upload,
    verdict: bool,
) -> Result<PledgeView, yijia_service::ServiceError> {
    let verdict = match verdict {
        true => Some(PaperVerdict { kept: u.yes_no("kept")?, satisfaction: u.whole("satisfaction")? }),
        false => None,
    };
    let input = PaperPledge { resident_id: u.whole("resident_id")?, witness: u.text("witness").to_owned(), verdict };
    st.svc.record_pledge_ballot(c, id, input, u.files).await
}

/// The pledge ballot of one building for its community's current year: the shortlist while
/// voting (the committed pledges while judging), numbered as printed, and the residents door by
/// door (names only) with what is in for each and how it came in. For the grid worker to carry.
#[utoipa::path(get, path = "/api/v1/pledges/ballots/{building}", tag = "pledges",
    params(("building" = i64, Path, description = "Building id")),
    responses(
        (status = 200, description = "The ballot", body = PledgeBallotView),
        (status = 404, description = "No such building, or none of it in your grids", body = ErrorBody),
        (status = 409, description = "The community has opened no pledge year", body = ErrorBody),
    ))]
pub async fn pledge_ballot(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(building): ApiPath<i64>,
) -> Result<Json<PledgeBallotView>, ApiError> {
    Ok(Json(st.svc.pledge_ballot(&c, building).await.api(lang)?))
}

/// Record a resident's vote for a shortlisted pledge cast on paper or at the door, with the
/// signed slip's photo or a witness; it counts like any other within his votes for the year.
#[utoipa::path(post, path = "/api/v1/pledges/{id}/paper-votes", tag = "pledges",
    params(("id" = i64, Path, description = "Pledge id")),
    request_body(content = PaperPledgeForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The pledge with its votes", body = PledgeView),
        (status = 404, description = "No such pledge, or the resident is not in your grids", body = ErrorBody),
        (status = 400, description = "Not a multipart body", body = ErrorBody),
        (status = 409, description = "Not voting now, not on the ballot, voted already, or no votes left", body = ErrorBody),
        (status = 413, description = "Too large", body = ErrorBody),
        (status = 415, description = "Not multipart", body = ErrorBody),
        (status = 422, description = "A field is wrong, or neither slip nor witness", body = ErrorBody),
    ))]
pub async fn record_paper_pledge_vote(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    form: crate::upload::ApiForm,
) -> Result<Json<PledgeView>, ApiError> {
    let u = crate::upload::read_api(form, "slip").await?;
    Ok(Json(paper_pledge(&st, &c, id, u, false).await.api(lang)?))
}

/// Record a resident's year-end verdict on a committed pledge given on paper or at the door.
#[utoipa::path(post, path = "/api/v1/pledges/{id}/paper-verdicts", tag = "pledges",
    params(("id" = i64, Path, description = "Pledge id")),
    request_body(content = PaperPledgeForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The pledge with its verdict", body = PledgeView),
        (status = 404, description = "No such pledge, or the resident is not in your grids", body = ErrorBody),
        (status = 400, description = "Not a multipart body", body = ErrorBody),
        (status = 409, description = "Not judging now, not committed, or judged already", body = ErrorBody),
        (status = 413, description = "Too large", body = ErrorBody),
        (status = 415, description = "Not multipart", body = ErrorBody),
        (status = 422, description = "A field is wrong, or neither slip nor witness", body = ErrorBody),
    ))]
pub async fn record_paper_pledge_verdict(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    form: crate::upload::ApiForm,
) -> Result<Json<PledgeView>, ApiError> {
    let u = crate::upload::read_api(form, "slip").await?;
    Ok(Json(paper_pledge(&st, &c, id, u, true).await.api(lang)?))
}
