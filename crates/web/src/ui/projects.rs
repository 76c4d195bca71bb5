//! Repair projects in pages: the secretary's list and a project's money,
//! work and vote; the street officer's approvals; the resident's vote; and
//! the public spending board, which needs no login.

use super::prelude::*;
use yijia_domain::project::Fen;
use yijia_service::ballots::{BallotView, PaperVote};
use yijia_service::cases::{CaseBox, CaseQuery, CaseSummary};
use yijia_service::projects::{
    ExpenseInput, FileRef, FileTarget, FundingInput, LineInput, MilestoneDone, MilestoneInput, ProjectInput,
    ProjectView, SpendingBoard, StageInput, VoteInput,
};
use yijia_service::roles::{BALLOT_RECORDERS, PROJECT_APPROVERS, PROJECT_MANAGERS, PROJECT_READERS, RESIDENTS};
use yijia_service::{Caller, PageReq, ServiceError};

use super::form::{Flash, again, then_to, whole};

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/projects", Roles(PROJECT_READERS), Scope::Grants, projects)
        .post("/projects", Roles(PROJECT_MANAGERS), Scope::Named, project_create)
        .get("/projects/{id}", Roles(PROJECT_READERS), Scope::Object, project)
        .post("/projects/{id}/budget", Roles(PROJECT_MANAGERS), Scope::Object, line_add)
        .post("/projects/{id}/fundings", Roles(PROJECT_MANAGERS), Scope::Object, funding_add)
        .post("/projects/{id}/expenses", Roles(PROJECT_MANAGERS), Scope::Object, expense_add)
        .post("/projects/{id}/milestones", Roles(PROJECT_MANAGERS), Scope::Object, milestone_add)
        .post("/projects/{id}/milestones/{m}/done", Roles(PROJECT_MANAGERS), Scope::Object, milestone_done)
        .post("/projects/{id}/stage", Roles(PROJECT_MANAGERS), Scope::Object, stage)
        .post("/projects/{id}/count-votes", Roles(PROJECT_MANAGERS), Scope::Object, count_votes)
        .upload("/projects/{id}/files", crate::PHOTO_BODY_LIMIT, Roles(PROJECT_MANAGERS), Scope::Object, file_add)
        .get("/projects/{id}/ballots/{building}", Roles(BALLOT_RECORDERS), Scope::Object, ballot)
        .upload(
            "/projects/{id}/paper-votes",
            crate::PHOTO_BODY_LIMIT,
            Roles(BALLOT_RECORDERS),
            Scope::Object,
            paper_vote,
        )
        .get("/me/projects", Roles(RESIDENTS), Scope::Own, my_projects)
        .post("/me/projects/{id}/vote", Roles(RESIDENTS), Scope::Own, my_vote)
        .get("/boards/spending", Public, Scope::None, board)
}

/// Fen as yuan for pages: `12,345.67`.
pub(crate) fn yuan(fen: &i64) -> String {
    Fen(*fen).yuan()
}

/// Yuan typed in a form, as fen; the service names what is wrong.
fn fen(field: &str, s: &str) -> Result<i64, ServiceError> {
    Ok(Fen::parse_yuan(field, s)?.0)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Params {
    ok: Option<String>,
    community: Option<String>,
}

fn saved(ok: Option<String>, l: Lang) -> Flash {
    Flash { ok: ok.map(|_| l.t("已保存。", "Saved.").to_owned()), error: None }
}

// ---- the list ----------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "projects.html")]
struct ProjectsPage {
    c: Chrome,
    list: Vec<ProjectView>,
    may_manage: bool,
    buildings: Vec<(i64, String)>,
    hazards: Vec<CaseSummary>,
    flash: Flash,
}

async fn render_projects(st: &AppState, c: &Caller, lang: Lang, community: Option<&str>, flash: Flash) -> PageResult {
    let list = st.svc.projects(c, community).await.page(lang)?;
    let may_manage = c.has_any(PROJECT_MANAGERS);
    let (buildings, hazards) = if may_manage {
        let o = st.svc.case_form_options(c, None).await.page(lang)?;
        let q = CaseQuery {
            case_box: CaseBox::Grids,
            kind: Some(yijia_domain::case::CaseKind::Hazard),
            ..Default::default()
        };
        let (page, _) = st.svc.list_cases(c, &q, PageReq { page: 1, per_page: 200 }).await.page(lang)?;
        (o.buildings, page.items)
    } else {
        (vec![], vec![])
    };
    let status = flash.status();
    let page = ProjectsPage {
        c: Chrome::for_caller(lang, c, "/projects", "/projects"),
        list,
        may_manage,
        buildings,
        hazards,
        flash,
    };
    Ok((status, page).into_response())
}

async fn projects(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    if super::must_choose_community(&c, PROJECT_READERS, q.community.as_deref()) {
        return super::choose_community(&st, &c, lang, "/projects", lang.t("修缮项目", "Repair projects")).await;
    }
    render_projects(&st, &c, lang, q.community.as_deref(), saved(q.ok, lang)).await
}

async fn project_create(State(st): State<AppState>, Auth(c): Auth, lang: Lang, body: axum::body::Bytes) -> PageResult {
    // read as pairs: a field comes once for each ticked building and hazard
    let r = async {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|e| {
            ServiceError::invalid("form", format!("表单无法读取:{e}"), format!("the form cannot be read: {e}"))
        })?;
        let one = |k: &str| pairs.iter().find(|(f, _)| f == k).map_or("", |(_, v)| v.as_str());
        let ids = |k: &str| {
            pairs.iter().filter(|(f, _)| f == k).map(|(_, v)| whole(k, v, lang)).collect::<Result<Vec<_>, _>>()
        };
        let input = ProjectInput {
            title: one("title").to_owned(),
            description: Some(one("description").to_owned()),
            buildings: ids("buildings")?,
            cases: ids("cases")?,
            warranty_months: Some(whole("warranty_months", one("warranty_months"), lang)?),
            quorum: Some(whole("quorum", one("quorum"), lang)?),
        };
        st.svc.create_project(&c, None, input).await
    };
    match r.await {
        Ok(p) => Ok(Redirect::to(&format!("/projects/{}?ok=1", p.id)).into_response()),
        Err(e) => render_projects(&st, &c, lang, None, again(e, lang)?).await,
    }
}

// ---- one project -------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "project.html")]
struct ProjectPage {
    c: Chrome,
    p: ProjectView,
    may_manage: bool,
    may_approve: bool,
    /// Whether the caller carries ballots door to door.
    may_record: bool,
    today: String,
    flash: Flash,
}

async fn render_project(st: &AppState, c: &Caller, lang: Lang, id: i64, flash: Flash) -> PageResult {
    let p = st.svc.project(c, id).await.page(lang)?;
    let today = yijia_domain::time::to_local(st.svc.now()).format("%Y-%m-%d").to_string();
    let status = flash.status();
    let here = format!("/projects/{id}");
    let page = ProjectPage {
        c: Chrome::for_caller(lang, c, "/projects", &here),
        p,
        may_manage: c.has_any(PROJECT_MANAGERS),
        may_record: c.has_any(BALLOT_RECORDERS),
        may_approve: c.has_any(PROJECT_APPROVERS),
        today,
        flash,
    };
    Ok((status, page).into_response())
}

impl ProjectPage {
    /// The files of one kind attached to one application, expense or milestone.
    fn files_of(&self, kind: &str, of: &i64) -> Vec<&FileRef> {
        let of = Some(*of);
        self.p
            .files
            .iter()
            .filter(|f| {
                f.kind == kind
                    && match kind {
                        "document" => f.funding_id == of,
                        "receipt" => f.expense_id == of,
                        _ => f.milestone_id == of,
                    }
            })
            .collect()
    }
}

async fn file_add(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    form: axum::extract::Multipart,
) -> PageResult {
    let r = async {
        let u =
            crate::upload::read(form, "file").await.map_err(|(_, m)| ServiceError::invalid("file", m.clone(), m))?;
        let field = |k: &str| u.fields.get(k).map_or("", String::as_str).to_owned();
        let target = FileTarget { kind: field("kind"), of: whole("of", &field("of"), lang)? };
        st.svc.add_project_file(&c, id, target, u.files).await
    };
    let r = r.await;
    after(&st, &c, lang, id, r).await
}

async fn project(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Query(q): Query<Params>,
) -> PageResult {
    render_project(&st, &c, lang, id, saved(q.ok, lang)).await
}

async fn after<T>(st: &AppState, c: &Caller, lang: Lang, id: i64, r: Result<T, ServiceError>) -> PageResult {
    then_to(r, &format!("/projects/{id}?ok=1"), lang, |f| render_project(st, c, lang, id, f)).await
}

#[derive(Deserialize)]
struct LineForm {
    name: String,
    amount: String,
}

async fn line_add(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<LineForm>,
) -> PageResult {
    let r =
        async { st.svc.add_budget_line(&c, id, LineInput { name: f.name, amount: fen("amount", &f.amount)? }).await };
    let r = r.await;
    after(&st, &c, lang, id, r).await
}

#[derive(Deserialize)]
struct FundingForm {
    source: String,
    asked: String,
    #[serde(default)]
    note: String,
}

async fn funding_add(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<FundingForm>,
) -> PageResult {
    let r = async {
        let input = FundingInput { source: f.source, asked: fen("asked", &f.asked)?, note: Some(f.note) };
        st.svc.apply_for_funding(&c, id, input).await
    };
    let r = r.await;
    after(&st, &c, lang, id, r).await
}

#[derive(Deserialize)]
struct ExpenseForm {
    line_id: String,
    amount: String,
    payee: String,
    description: String,
    spent_on: String,
}

async fn expense_add(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<ExpenseForm>,
) -> PageResult {
    let r = async {
        let input = ExpenseInput {
            line_id: whole("line_id", &f.line_id, lang)?,
            amount: fen("amount", &f.amount)?,
            payee: f.payee,
            description: f.description,
            spent_on: f.spent_on,
        };
        st.svc.record_expense(&c, id, input).await
    };
    let r = r.await;
    after(&st, &c, lang, id, r).await
}

async fn milestone_add(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<MilestoneInput>,
) -> PageResult {
    let r = st.svc.add_milestone(&c, id, f).await;
    after(&st, &c, lang, id, r).await
}

async fn milestone_done(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path((id, m)): Path<(i64, i64)>,
    Form(f): Form<MilestoneDone>,
) -> PageResult {
    let r = st.svc.finish_milestone(&c, m, f).await;
    after(&st, &c, lang, id, r).await
}

async fn stage(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<StageInput>,
) -> PageResult {
    let r = st.svc.move_project(&c, id, f).await;
    after(&st, &c, lang, id, r).await
}

async fn count_votes(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    let r = st.svc.close_vote(&c, id).await;
    after(&st, &c, lang, id, r).await
}

// ---- the resident -------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "my_projects.html")]
struct MyProjectsPage {
    c: Chrome,
    list: Vec<ProjectView>,
    flash: Flash,
}

async fn render_my_projects(st: &AppState, c: &Caller, lang: Lang, flash: Flash) -> PageResult {
    let list = st.svc.my_projects(c).await.page(lang)?;
    let status = flash.status();
    let page = MyProjectsPage { c: Chrome::for_caller(lang, c, "/me/projects", "/me/projects"), list, flash };
    Ok((status, page).into_response())
}

async fn my_projects(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    let ok = q.ok.map(|_| lang.t("您的票已记下,谢谢!", "Your vote is counted. Thank you!").to_owned());
    render_my_projects(&st, &c, lang, Flash { ok, error: None }).await
}

#[derive(Deserialize)]
struct VoteForm {
    /// `yes` or `no`.
    vote: String,
}

async fn my_vote(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<VoteForm>,
) -> PageResult {
    let r = st.svc.vote_on_project(&c, id, VoteInput { accept: f.vote == "yes" }).await;
    then_to(r, "/me/projects?ok=1", lang, |fl| render_my_projects(&st, &c, lang, fl)).await
}

// ---- the public board -----------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "board_spending.html")]
struct BoardPage {
    c: Chrome,
    b: SpendingBoard,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BoardParams {
    community: Option<String>,
}

async fn board(State(st): State<AppState>, lang: Lang, Query(q): Query<BoardParams>) -> PageResult {
    let title = lang.t("维修资金公开", "Repair money, in the open");
    if let Some(r) = super::boards::choose(&st, lang, q.community.as_deref(), "/boards/spending", title).await {
        return r;
    }
    let b = st.svc.spending_board(q.community.as_deref().unwrap_or("")).await.page(lang)?;
    let here = format!("/boards/spending?community={}", b.community);
    Ok(BoardPage { c: Chrome::anonymous(lang, &here), b }.into_response())
}

// ---- the ballot a grid worker carries ---------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "ballot.html")]
struct BallotPage {
    c: Chrome,
    b: BallotView,
    flash: Flash,
}

async fn render_ballot(st: &AppState, c: &Caller, lang: Lang, id: i64, building: i64, flash: Flash) -> PageResult {
    let b = st.svc.project_ballot(c, id, building).await.page(lang)?;
    let status = flash.status();
    let page = BallotPage { c: Chrome::for_caller(lang, c, "/projects", &format!("/projects/{id}")), b, flash };
    Ok((status, page).into_response())
}

async fn ballot(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path((id, building)): Path<(i64, i64)>,
    Query(q): Query<Params>,
) -> PageResult {
    let ok = q.ok.map(|_| lang.t("这一票已记下。", "The vote is recorded.").to_owned());
    render_ballot(&st, &c, lang, id, building, Flash { ok, error: None }).await
}

async fn paper_vote(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    form: axum::extract::Multipart,
) -> PageResult {
    let u = crate::upload::read(form, "slip").await.map_err(|(_, m)| ServiceError::invalid("slip", m.clone(), m));
    let building = u.as_ref().ok().and_then(|u| u.text("building").parse::<i64>().ok());
    let r = async {
        let u = u?;
        let input = PaperVote {
            resident_id: u.whole("resident_id")?,
            accept: u.yes_no("accept")?,
            witness: u.text("witness").to_owned(),
        };
        st.svc.record_project_vote(&c, id, input, u.files).await
    };
    let r = r.await;
    match building {
        Some(b) => {
            then_to(r, &format!("/projects/{id}/ballots/{b}?ok=1#ballot"), lang, |f| {
                render_ballot(&st, &c, lang, id, b, f)
            })
            .await
        }
        None => after(&st, &c, lang, id, r).await,
    }
}
