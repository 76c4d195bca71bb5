//! Pledges (十件实事) in pages: the secretary runs the year; residents
//! propose, vote and judge on their phones; the public board needs no login.

use super::prelude::*;
use yijia_domain::pledge::Phase;
use yijia_service::ballots::{BallotBuilding, PaperPledge, PaperVerdict, PledgeBallotLine, PledgeBallotView};
use yijia_service::pledges::{
    AdvanceInput, MilestoneDone, MilestoneInput, OwnerInput, PledgeMilestoneView, PledgesBoard, ProgressInput,
    ProposalInput, ShortlistInput, UpdateView, VerdictInput, YearInput, YearView,
};
use yijia_service::roles::{BALLOT_RECORDERS, PLEDGE_MANAGERS, PLEDGE_READERS, PLEDGE_UPDATERS, RESIDENTS};
use yijia_service::{Caller, ServiceError};

use super::form::{Flash, then_to, whole};

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/pledges", Roles(PLEDGE_READERS), Scope::Grants, pledges)
        .post("/pledges", Roles(PLEDGE_UPDATERS), Scope::Named, propose)
        .post("/pledges/years", Roles(PLEDGE_MANAGERS), Scope::Named, open_year)
        .post("/pledges/years/{year}/advance", Roles(PLEDGE_MANAGERS), Scope::Object, advance)
        .post("/pledges/{id}/shortlist", Roles(PLEDGE_MANAGERS), Scope::Object, shortlist)
        .post("/pledges/{id}/owner", Roles(PLEDGE_MANAGERS), Scope::Object, owner)
        .post("/pledges/{id}/progress", Roles(PLEDGE_UPDATERS), Scope::Object, progress)
        .post("/pledges/{id}/milestones", Roles(PLEDGE_UPDATERS), Scope::Object, milestone_add)
        .post("/pledges/milestones/{m}/done", Roles(PLEDGE_UPDATERS), Scope::Object, milestone_done)
        .get("/pledges/ballots/{building}", Roles(BALLOT_RECORDERS), Scope::Object, ballot)
        .post("/pledges/ballots/{building}", Roles(BALLOT_RECORDERS), Scope::Object, paper_ballot)
        .get("/me/pledges", Roles(RESIDENTS), Scope::Own, my_pledges)
        .post("/me/pledges", Roles(RESIDENTS), Scope::Own, my_propose)
        .post("/me/pledges/{id}/vote", Roles(RESIDENTS), Scope::Own, my_vote)
        .post("/me/pledges/{id}/verdict", Roles(RESIDENTS), Scope::Own, my_verdict)
        .get("/boards/pledges", Public, Scope::None, board)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Params {
    ok: Option<String>,
    community: Option<String>,
    year: Option<i64>,
}

/// `42` tenths as `4.2`.
pub(crate) fn tenths(t: &i64) -> String {
    format!("{}.{}", t / 10, t % 10)
}

/// One pledge's milestones.
pub(crate) fn milestones_of<'a>(y: &'a YearView, pledge_id: &i64) -> Vec<&'a PledgeMilestoneView> {
    y.milestones.iter().filter(|m| m.pledge_id == *pledge_id).collect()
}

/// One pledge's updates, newest first.
pub(crate) fn updates_of<'a>(y: &'a YearView, pledge_id: &i64) -> Vec<&'a UpdateView> {
    y.updates.iter().filter(|u| u.pledge_id == *pledge_id).collect()
}

/// How many of the steps are done.
pub(crate) fn done_count(steps: &[&PledgeMilestoneView]) -> usize {
    steps.iter().filter(|m| m.done_on.is_some()).count()
}

/// The first step not done.
pub(crate) fn next_step<'a>(steps: &[&'a PledgeMilestoneView]) -> Option<&'a PledgeMilestoneView> {
    steps.iter().find(|m| m.done_on.is_none()).copied()
}

/// Today in Beijing, `2026-11-30`, to tell late steps.
fn today(st: &AppState) -> String {
    yijia_domain::time::to_local(st.svc.now()).format("%Y-%m-%d").to_string()
}

/// The latest few photos of a pledge's work, for the board.
pub(crate) fn photos_of(y: &YearView, pledge_id: &i64) -> Vec<i64> {
    updates_of(y, pledge_id).iter().flat_map(|u| u.photos.iter().copied()).take(4).collect()
}

// ---- the secretary -------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "pledges.html")]
struct PledgesPage {
    c: Chrome,
    y: Option<YearView>,
    next_year: i64,
    may_manage: bool,
    may_update: bool,
    /// The buildings whose paper ballots the caller carries.
    ballots: Vec<BallotBuilding>,
    today: String,
    flash: Flash,
}

async fn render(st: &AppState, c: &Caller, lang: Lang, q: &Params, flash: Flash) -> PageResult {
    let y = match st.svc.pledge_year(c, q.community.as_deref(), q.year).await {
        Ok(y) => Some(y),
        // no year opened yet: the page offers to open one
        Err(ServiceError::Conflict(_)) => None,
        Err(e) => return Err(e).page(lang),
    };
    let next_year = y.as_ref().map_or_else(|| yijia_domain::time::year_of(st.svc.now()), |y| y.year + 1);
    let ballots = match &y {
        Some(y) if matches!(y.phase, Phase::Voting | Phase::Judging) => {
            st.svc.ballot_buildings(c, q.community.as_deref()).await.page(lang)?
        }
        _ => vec![],
    };
    let status = flash.status();
    let page = PledgesPage {
        c: Chrome::for_caller(lang, c, "/pledges", "/pledges"),
        y,
        next_year,
        may_manage: c.has_any(PLEDGE_MANAGERS),
        may_update: c.has_any(PLEDGE_UPDATERS),
        ballots,
        today: today(st),
        flash,
    };
    Ok((status, page).into_response())
}

async fn pledges(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    if super::must_choose_community(&c, PLEDGE_READERS, q.community.as_deref()) {
        return super::choose_community(&st, &c, lang, "/pledges", lang.t("十件实事", "Pledges")).await;
    }
    let flash = Flash { ok: q.ok.as_ref().map(|_| lang.t("已保存。", "Saved.").to_owned()), error: None };
    render(&st, &c, lang, &q, flash).await
}

async fn back<T>(st: &AppState, c: &Caller, lang: Lang, r: Result<T, ServiceError>) -> PageResult {
    let none = Params::default();
    then_to(r, "/pledges?ok=1", lang, |f| render(st, c, lang, &none, f)).await
}

#[derive(Deserialize)]
struct YearForm {
    year: String,
    votes_per_resident: String,
}

async fn open_year(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<YearForm>) -> PageResult {
    let r = async {
        let input = YearInput {
            year: whole("year", &f.year, lang)?,
            votes_per_resident: Some(whole("votes_per_resident", &f.votes_per_resident, lang)?),
        };
        st.svc.open_pledge_year(&c, None, input).await
    };
    let r = r.await;
    back(&st, &c, lang, r).await
}

#[derive(Deserialize)]
struct AdvanceForm {
    #[serde(default)]
    commit: String,
}

async fn advance(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(year): Path<i64>,
    Form(f): Form<AdvanceForm>,
) -> PageResult {
    let r = async {
        let commit = match f.commit.trim() {
            "" => None,
            n => Some(whole("commit", n, lang)?),
        };
        st.svc.advance_pledge_year(&c, None, year, AdvanceInput { commit }).await
    };
    let r = r.await;
    back(&st, &c, lang, r).await
}

async fn propose(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<ProposalInput>) -> PageResult {
    let r = st.svc.propose_pledge(&c, None, f).await;
    back(&st, &c, lang, r).await
}

#[derive(Deserialize)]
struct ShortlistForm {
    shortlisted: String,
}

async fn shortlist(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<ShortlistForm>,
) -> PageResult {
    let r = st.svc.shortlist_pledge(&c, id, ShortlistInput { shortlisted: f.shortlisted == "1" }).await;
    back(&st, &c, lang, r).await
}

async fn owner(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<OwnerInput>,
) -> PageResult {
    let r = st.svc.set_pledge_owner(&c, id, f).await;
    back(&st, &c, lang, r).await
}

/// Progress with photos of the work: a multipart form.
async fn progress(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    form: axum::extract::Multipart,
) -> PageResult {
    let r = async {
        let u =
            crate::upload::read(form, "photo").await.map_err(|(_, m)| ServiceError::invalid("photo", m.clone(), m))?;
        let field = |k: &str| u.fields.get(k).map_or("", String::as_str).to_owned();
        let input = ProgressInput { progress: whole("progress", &field("progress"), lang)?, text: field("text") };
        st.svc.report_pledge_progress(&c, id, input, u.files).await
    };
    let r = r.await;
    back(&st, &c, lang, r).await
}

async fn milestone_add(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<MilestoneInput>,
) -> PageResult {
    let r = st.svc.add_pledge_milestone(&c, id, f).await;
    back(&st, &c, lang, r).await
}

async fn milestone_done(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(m): Path<i64>,
    Form(f): Form<MilestoneDone>,
) -> PageResult {
    let r = st.svc.finish_pledge_milestone(&c, m, f).await;
    back(&st, &c, lang, r).await
}

// ---- the paper ballot a grid worker carries ------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "pledge_ballot.html")]
struct BallotPage {
    c: Chrome,
    b: PledgeBallotView,
    flash: Flash,
}

/// Whether this resident's vote (or verdict) on that pledge is in.
pub(crate) fn cast_on(line: &PledgeBallotLine, pledge_id: &i64) -> bool {
    line.casts.iter().any(|x| x.pledge_id == *pledge_id)
}

async fn render_ballot(st: &AppState, c: &Caller, lang: Lang, building: i64, flash: Flash) -> PageResult {
    let b = st.svc.pledge_ballot(c, building).await.page(lang)?;
    let status = flash.status();
    Ok((status, BallotPage { c: Chrome::for_caller(lang, c, "/pledges", "/pledges"), b, flash }).into_response())
}

async fn ballot(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(building): Path<i64>,
    Query(q): Query<Params>,
) -> PageResult {
    let ok = q.ok.map(|_| lang.t("已记下。", "Recorded.").to_owned());
    render_ballot(&st, &c, lang, building, Flash { ok, error: None }).await
}

/// A resident's paper votes (the pledges ticked on one slip), or his verdict on one pledge.
async fn paper_ballot(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(building): Path<i64>,
    form: axum::extract::Multipart,
) -> PageResult {
    let r = async {
        let u =
            crate::upload::read(form, "slip").await.map_err(|(_, m)| ServiceError::invalid("slip", m.clone(), m))?;
        let mut pledges = Vec::new();
        for p in u.list("pledge") {
            pledges.push(whole("pledge", &p, lang)?);
        }
        let verdict = match u.text("kept") {
            "" => None,
            _ => Some(PaperVerdict { kept: u.yes_no("kept")?, satisfaction: u.whole("satisfaction")? }),
        };
        let input =
            PaperPledge { resident_id: u.whole("resident_id")?, witness: u.text("witness").to_owned(), verdict };
        st.svc.record_pledge_ballots(&c, &pledges, input, u.files).await
    };
    let r = r.await;
    then_to(r, &format!("/pledges/ballots/{building}?ok=1#ballot"), lang, |f| render_ballot(&st, &c, lang, building, f))
        .await
}

// ---- the resident ---------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "my_pledges.html")]
struct MyPledgesPage {
    c: Chrome,
    y: Option<YearView>,
    flash: Flash,
}

async fn render_mine(st: &AppState, c: &Caller, lang: Lang, flash: Flash) -> PageResult {
    let y = match st.svc.my_pledges(c).await {
        Ok(y) => Some(y),
        Err(ServiceError::Conflict(_)) => None,
        Err(e) => return Err(e).page(lang),
    };
    let status = flash.status();
    Ok((status, MyPledgesPage { c: Chrome::for_caller(lang, c, "/me/pledges", "/me/pledges"), y, flash })
        .into_response())
}

async fn my_pledges(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    let ok = q.ok.map(|_| lang.t("已记下,谢谢您!", "Noted. Thank you!").to_owned());
    render_mine(&st, &c, lang, Flash { ok, error: None }).await
}

async fn mine_back<T>(st: &AppState, c: &Caller, lang: Lang, r: Result<T, ServiceError>) -> PageResult {
    then_to(r, "/me/pledges?ok=1", lang, |f| render_mine(st, c, lang, f)).await
}

async fn my_propose(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<ProposalInput>) -> PageResult {
    let r = st.svc.propose_my_pledge(&c, f).await;
    mine_back(&st, &c, lang, r).await
}

async fn my_vote(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    let r = st.svc.vote_for_pledge(&c, id).await;
    mine_back(&st, &c, lang, r).await
}

#[derive(Deserialize)]
struct VerdictForm {
    kept: String,
    satisfaction: String,
}

async fn my_verdict(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<VerdictForm>,
) -> PageResult {
    let r = async {
        let input = VerdictInput { kept: f.kept == "yes", satisfaction: whole("satisfaction", &f.satisfaction, lang)? };
        st.svc.judge_pledge(&c, id, input).await
    };
    let r = r.await;
    mine_back(&st, &c, lang, r).await
}

// ---- the public board -------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "board_pledges.html")]
struct BoardPage {
    c: Chrome,
    b: PledgesBoard,
    today: String,
}

async fn board(State(st): State<AppState>, lang: Lang, Query(q): Query<Params>) -> PageResult {
    let title = lang.t("承诺事项公开", "Public pledges");
    if let Some(r) = super::boards::choose(&st, lang, q.community.as_deref(), "/boards/pledges", title).await {
        return r;
    }
    let b = st.svc.pledges_board(q.community.as_deref().unwrap_or("")).await.page(lang)?;
    let here = format!("/boards/pledges?community={}", b.community);
    Ok(BoardPage { c: Chrome::anonymous(lang, &here), b, today: today(&st) }.into_response())
}
