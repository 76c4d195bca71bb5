//! Case pages: the inboxes, a case with its timeline and the actions the
//! caller may take, the new-case form (one-handed on a phone) and the
//! community's catalogue.

use super::prelude::*;
use yijia_domain::case::{Action, CaseKind, Channel, Priority};
use yijia_service::cases::{
    ActionInput, CaseBox, CaseCategoryInput, CaseCategoryView, CaseInput, CaseQuery, CaseSummary, CaseView,
    DeadlineView, DisputeInput, FormOptions, NoteInput, RatingInput, SimilarView,
};
use yijia_service::roles::{CASE_FILERS, CASE_HANDLERS, CATALOGUE_EDITORS, DISPATCHERS};
use yijia_service::{Caller, PageReq, ServiceError};

use super::form::{number, opt};
use super::show::Names;
use super::{fixable, fixable_field};

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/cases", Roles(CASE_FILERS), Scope::Grants, inbox)
        .get("/cases/new", Roles(CASE_FILERS), Scope::Grants, new_form)
        .upload("/cases/new", crate::PHOTO_BODY_LIMIT, Roles(CASE_FILERS), Scope::Named, new_submit)
        .get("/cases/similar", Roles(CASE_FILERS), Scope::Grants, similar_hint)
        .get("/cases/categories", Roles(CASE_FILERS), Scope::Grants, catalogue)
        .post("/cases/categories", Roles(CATALOGUE_EDITORS), Scope::Named, catalogue_save)
        .get("/cases/{id}", Roles(CASE_FILERS), Scope::Object, show)
        .post("/cases/{id}/act", Roles(CASE_FILERS), Scope::Object, act)
        .post("/cases/{id}/rate", Roles(CASE_FILERS), Scope::Object, rate)
        .post("/cases/{id}/note", Roles(CASE_HANDLERS), Scope::Object, note)
        .upload("/cases/{id}/photos", crate::PHOTO_BODY_LIMIT, Roles(CASE_FILERS), Scope::Object, add_photos)
        .post("/cases/{id}/dispute", Roles(CASE_HANDLERS), Scope::Object, dispute)
}

// ---- the inbox -------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "cases.html")]
struct InboxPage {
    c: Chrome,
    n: Names,
    staff: bool,
    boxes: Vec<(CaseBox, Option<i64>)>,
    current: CaseBox,
    kind: String,
    cases: Vec<CaseSummary>,
    total: i64,
    page: i64,
    pages: i64,
    base: String,
    /// `&org=CODE` when the list is narrowed to one place (from the dashboard), else empty.
    org: String,
    /// The open cases of the caller's whole scope are "my grids" only to a
    /// grid worker: to a secretary they are the community's.
    walks_grids: bool,
    officer: bool,
}

impl InboxPage {
    fn box_name(&self, b: &CaseBox) -> &'static str {
        let l = self.c.l;
        match b {
            CaseBox::Grids if self.officer => l.t("本街道", "The subdistrict"),
            CaseBox::Grids if !self.walks_grids => l.t("本社区", "The community"),
            CaseBox::Mine if !self.staff => l.t("我的诉求", "My requests"),
            CaseBox::Mine => l.t("我接办的", "Taken by me"),
            _ => self.n.case_box(b),
        }
    }
}

#[derive(Deserialize)]
struct InboxParams {
    #[serde(rename = "box")]
    case_box: Option<String>,
    kind: Option<String>,
    /// Only under this grid, community or subdistrict (the dashboard links here).
    org: Option<String>,
    page: Option<i64>,
}

fn is_staff(c: &Caller) -> bool {
    c.has_any(CASE_HANDLERS)
}

async fn inbox(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<InboxParams>) -> PageResult {
    let staff = is_staff(&c);
    let current =
        q.case_box.as_deref().and_then(CaseBox::parse).unwrap_or(if staff { CaseBox::Grids } else { CaseBox::Mine });
    let kind = q.kind.as_deref().and_then(CaseKind::parse);
    let page = PageReq::new(q.page, Some(30)).page(lang)?;
    let query = CaseQuery { case_box: current, kind, org: q.org.clone(), ..Default::default() };
    let (p, counts) = st.svc.list_cases(&c, &query, page).await.page(lang)?;
    let boxes = if staff {
        let mut b = vec![(CaseBox::Grids, Some(counts.open)), (CaseBox::Mine, None)];
        if c.has_any(DISPATCHERS) {
            b.push((CaseBox::Dispatch, None));
        }
        b.extend([
            (CaseBox::Near, Some(counts.near)),
            (CaseBox::Overdue, Some(counts.overdue)),
            (CaseBox::Escalated, None),
            (CaseBox::All, None),
        ]);
        b
    } else {
        vec![]
    };
    let kind_code = kind.map(|k| k.code().to_owned()).unwrap_or_default();
    let org =
        q.org.as_deref().map(str::trim).filter(|o| !o.is_empty()).map(|o| format!("&org={o}")).unwrap_or_default();
    let base = format!("/cases?box={}&kind={}{org}", current.code(), kind_code);
    Ok(InboxPage {
        c: Chrome::for_caller(lang, &c, "/cases", &format!("{base}&page={}", p.page)),
        n: Names(lang),
        staff,
        boxes,
        current,
        kind: kind_code,
        pages: (p.total + p.per_page - 1) / p.per_page,
        total: p.total,
        page: p.page,
        cases: p.items,
        base,
        org,
        walks_grids: c.has_any(&[yijia_domain::role::Role::GridWorker]),
        officer: c.has_any(&[yijia_domain::role::Role::StreetOfficer]),
    }
    .into_response())
}

// ---- one case --------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "case.html")]
struct CasePage {
    c: Chrome,
    n: Names,
    k: CaseView,
    staff: bool,
    grids: Vec<(String, String)>,
    error: Option<String>,
    /// Opened from a visit just now: the visit is recorded too.
    from_visit: bool,
    /// The latest handling result, shown first to the one who reported it.
    result: Option<yijia_service::cases::EventView>,
}

impl CasePage {
    /// A button named by what it does for the one who reported the case
    /// ("关闭" alone reads as dismissing it).
    fn button(&self, a: &Action) -> &'static str {
        let l = self.c.l;
        match (self.staff, a) {
            (false, Action::Close) => l.t("问题已解决,结案", "Solved: close the case"),
            (false, Action::Reopen) => l.t("没有解决,请重新办理", "Not solved: handle it again"),
            _ => l.name(*a),
        }
    }
}

async fn render_case(st: &AppState, c: &Caller, l: Lang, id: i64, error: Option<String>) -> PageResult {
    render_case_after(st, c, l, id, error, false).await
}

async fn render_case_after(
    st: &AppState,
    c: &Caller,
    l: Lang,
    id: i64,
    error: Option<String>,
    from_visit: bool,
) -> PageResult {
    let k = st.svc.get_case(c, id).await.page(l)?;
    let grids = if k.actions.iter().any(|a| a.action == Action::Transfer) {
        st.svc.case_form_options(c, Some(&k.summary.community)).await.page(l)?.grids
    } else {
        vec![]
    };
    let status = if error.is_some() { axum::http::StatusCode::CONFLICT } else { axum::http::StatusCode::OK };
    let here = format!("/cases/{id}");
    let result = k.timeline.iter().rev().find(|e| e.action == yijia_domain::case::EventKind::Resolve).cloned();
    Ok((
        status,
        CasePage {
            c: Chrome::for_caller(l, c, "/cases", &here),
            n: Names(l),
            k,
            staff: is_staff(c),
            grids,
            error,
            from_visit,
            result,
        },
    )
        .into_response())
}

#[derive(Deserialize)]
struct ShowParams {
    visit: Option<String>,
}

async fn show(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Query(q): Query<ShowParams>,
) -> PageResult {
    render_case_after(&st, &c, lang, id, None, q.visit.as_deref() == Some("recorded")).await
}

/// After a step: back to the case, or the case with what went wrong.
async fn after(st: &AppState, c: &Caller, l: Lang, id: i64, r: Result<CaseView, ServiceError>) -> PageResult {
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(e) => {
            let text = fixable(e, l)?;
            render_case(st, c, l, id, Some(text)).await
        }
    }
}

#[derive(Deserialize)]
struct ActForm {
    action: String,
    version: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    grid: String,
}

async fn act(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<ActForm>,
) -> PageResult {
    let Some(action) = Action::from_code(&f.action) else {
        return render_case(&st, &c, lang, id, Some(lang.t("未知操作", "unknown action").to_owned())).await;
    };
    let input = ActionInput {
        action,
        version: f.version.trim().parse().unwrap_or(-1),
        note: Some(f.note),
        grid: Some(f.grid).filter(|g| !g.is_empty()),
    };
    let r = st.svc.act_on_case(&c, id, &input).await;
    after(&st, &c, lang, id, r).await
}

#[derive(Deserialize)]
struct RateForm {
    rating: String,
    #[serde(default)]
    comment: String,
}

async fn rate(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<RateForm>,
) -> PageResult {
    let input = RatingInput { rating: f.rating.trim().parse().unwrap_or(0), comment: Some(f.comment) };
    let r = st.svc.rate_case(&c, id, &input).await;
    after(&st, &c, lang, id, r).await
}

#[derive(Deserialize)]
struct NoteForm {
    note: String,
}

async fn note(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<NoteForm>,
) -> PageResult {
    let r = st.svc.note_case(&c, id, &NoteInput { note: f.note }).await;
    after(&st, &c, lang, id, r).await
}

async fn add_photos(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    form: axum::extract::Multipart,
) -> PageResult {
    let r = match crate::upload::read(form, "photo").await {
        Ok(u) => st.svc.add_case_photos(&c, id, u.files).await,
        Err((_, msg)) => return render_case(&st, &c, lang, id, Some(msg)).await,
    };
    after(&st, &c, lang, id, r).await
}

#[derive(Deserialize)]
struct DisputeForm {
    version: String,
    parties: String,
    mediation: String,
    agreement: String,
}

async fn dispute(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<DisputeForm>,
) -> PageResult {
    let input = DisputeInput {
        version: f.version.trim().parse().unwrap_or(-1),
        parties: Some(f.parties),
        mediation: Some(f.mediation),
        agreement: Some(f.agreement),
    };
    let r = st.svc.record_dispute(&c, id, &input).await;
    after(&st, &c, lang, id, r).await
}

// ---- a new case --------------------------------------------------------------

#[derive(Debug, Default, Deserialize, serde::Serialize)]
struct NewForm {
    #[serde(default)]
    community: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    building_id: String,
    #[serde(default)]
    grid: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    reporter_name: String,
    #[serde(default)]
    reporter_phone: String,
    #[serde(default)]
    at_risk: String,
    #[serde(default)]
    parties: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "case_new.html")]
struct NewPage {
    c: Chrome,
    n: Names,
    staff: bool,
    o: FormOptions,
    kinds: Vec<(CaseKind, Vec<CaseCategoryView>)>,
    f: NewForm,
    error: Option<(String, String)>,
}

impl NewPage {
    fn channels(&self) -> Vec<Channel> {
        vec![Channel::WalkIn, Channel::Phone, Channel::Visit]
    }
    fn priorities(&self) -> [Priority; 4] {
        Priority::ALL
    }
}

async fn render_new(st: &AppState, c: &Caller, l: Lang, f: NewForm, error: Option<(String, String)>) -> PageResult {
    let community = Some(f.community.as_str()).filter(|s| !s.is_empty());
    let o = st.svc.case_form_options(c, community).await.page(l)?;
    let mut f = f;
    if error.is_none() {
        home_first(&mut f, &o);
    }
    let kinds = CaseKind::ALL
        .into_iter()
        .map(|k| (k, o.categories.iter().filter(|cat| cat.kind == k && cat.active).cloned().collect::<Vec<_>>()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let status =
        if error.is_some() { axum::http::StatusCode::UNPROCESSABLE_ENTITY } else { axum::http::StatusCode::OK };
    let page = NewPage {
        c: Chrome::for_caller(l, c, "/cases", "/cases/new"),
        n: Names(l),
        staff: is_staff(c),
        o,
        kinds,
        f,
        error,
    };
    Ok((status, page).into_response())
}

async fn new_form(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    render_new(&st, &c, lang, NewForm::default(), None).await
}

/// A resident's request begins at their own building.
fn home_first(f: &mut NewForm, o: &FormOptions) {
    if f.building_id.is_empty()
        && let Some(b) = o.home_building
    {
        f.building_id = b.to_string();
    }
}

async fn new_submit(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    form: axum::extract::Multipart,
) -> PageResult {
    let u = match crate::upload::read(form, "photo").await {
        Ok(u) => u,
        Err((_, msg)) => return render_new(&st, &c, lang, NewForm::default(), Some(("photo".into(), msg))).await,
    };
    let f: NewForm = serde_json::to_value(&u.fields).and_then(serde_json::from_value).unwrap_or_default();
    let parsed = (|| {
        Ok::<_, (String, String)>(CaseInput {
            community: opt(&f.community),
            category: f.category.clone(),
            priority: opt(&f.priority).and_then(|p| Priority::parse(&p)),
            title: None,
            description: f.description.clone(),
            channel: opt(&f.channel).and_then(|ch| Channel::from_code(&ch)),
            household_id: None,
            building_id: number("building_id", &f.building_id, lang)?,
            lon: number("lon", &f.lon, lang)?,
            lat: number("lat", &f.lat, lang)?,
            grid: opt(&f.grid),
            reporter_name: opt(&f.reporter_name),
            reporter_phone: opt(&f.reporter_phone),
            residents: vec![],
            at_risk: opt(&f.at_risk),
            parties: opt(&f.parties),
        })
    })();
    let input = match parsed {
        Ok(i) => i,
        Err(e) => return render_new(&st, &c, lang, f, Some(e)).await,
    };
    if input.category.trim().is_empty() {
        let e = ("category".to_owned(), lang.t("请选择类别", "choose a category").to_owned());
        return render_new(&st, &c, lang, f, Some(e)).await;
    }
    match st.svc.create_case_with_photos(&c, &input, u.files).await {
        Ok(k) => Ok(Redirect::to(&format!("/cases/{}", k.summary.id)).into_response()),
        Err(e) => {
            let (field, text) = fixable_field(e, lang)?;
            render_new(&st, &c, lang, f, Some((field, text))).await
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "case_similar.html")]
struct SimilarHint {
    c: Chrome,
    n: Names,
    similar: Vec<SimilarView>,
}

#[derive(Deserialize)]
struct SimilarParams {
    #[serde(default)]
    community: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    building_id: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    lat: String,
}

/// The duplicate hint under the form, swapped in by htmx.
async fn similar_hint(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Query(q): Query<SimilarParams>,
) -> PageResult {
    let building = q.building_id.trim().parse().ok();
    let point = q.lon.trim().parse().ok().zip(q.lat.trim().parse().ok());
    let similar = if q.category.trim().is_empty() {
        vec![]
    } else {
        st.svc.similar_cases(&c, opt(&q.community).as_deref(), &q.category, building, point).await.page(lang)?
    };
    Ok(SimilarHint { c: Chrome::for_caller(lang, &c, "/cases", "/cases/new"), n: Names(lang), similar }.into_response())
}

// ---- the catalogue -----------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "case_categories.html")]
struct CataloguePage {
    c: Chrome,
    n: Names,
    community: String,
    community_name: String,
    categories: Vec<CaseCategoryView>,
    can_edit: bool,
    error: Option<String>,
    saved: Option<String>,
}

impl CataloguePage {
    fn kinds(&self) -> [CaseKind; 3] {
        CaseKind::ALL
    }
    fn priorities(&self) -> [Priority; 4] {
        Priority::ALL
    }
    /// Minutes as people say them: 30 分钟, 2 小时, 7 天.
    fn span(&self, m: i64) -> String {
        let l = self.n.0;
        if m % (24 * 60) == 0 {
            format!("{} {}", m / (24 * 60), l.t("天", "d"))
        } else if m % 60 == 0 {
            format!("{} {}", m / 60, l.t("小时", "h"))
        } else {
            format!("{m} {}", l.t("分钟", "min"))
        }
    }
    fn minutes(&self, cat: &CaseCategoryView, p: &Priority, accept: bool) -> i64 {
        cat.deadlines
            .iter()
            .find(|d| d.priority == *p)
            .map(|d| if accept { d.accept_minutes } else { d.resolve_minutes })
            .unwrap_or(0)
    }
}

#[derive(Deserialize)]
struct CatalogueParams {
    community: Option<String>,
    saved: Option<String>,
}

async fn render_catalogue(
    st: &AppState,
    c: &Caller,
    l: Lang,
    community: Option<&str>,
    error: Option<String>,
    saved: Option<String>,
) -> PageResult {
    let o = st.svc.case_form_options(c, community).await.page(l)?;
    let status =
        if error.is_some() { axum::http::StatusCode::UNPROCESSABLE_ENTITY } else { axum::http::StatusCode::OK };
    let page = CataloguePage {
        c: Chrome::for_caller(l, c, "/cases", "/cases/categories"),
        n: Names(l),
        community: o.community,
        community_name: o.community_name,
        categories: o.categories,
        can_edit: c.has_any(CATALOGUE_EDITORS),
        error,
        saved,
    };
    Ok((status, page).into_response())
}

async fn catalogue(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Query(q): Query<CatalogueParams>,
) -> PageResult {
    render_catalogue(&st, &c, lang, q.community.as_deref(), None, q.saved).await
}

#[derive(Deserialize)]
struct CategoryForm {
    community: String,
    code: String,
    kind: String,
    name: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    description: String,
    priority: String,
    #[serde(default)]
    active: Option<String>,
    /// accept and resolve minutes per priority: `accept_urgent`, `resolve_urgent`, …
    #[serde(flatten)]
    minutes: std::collections::HashMap<String, String>,
}

async fn catalogue_save(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Form(f): Form<CategoryForm>,
) -> PageResult {
    let bad = |field: &str| {
        let text = format!("{}: {field}", lang.t("请检查此项", "check this field"));
        render_catalogue(&st, &c, lang, Some(&f.community), Some(text), None)
    };
    let (Some(kind), Some(priority)) = (CaseKind::parse(&f.kind), Priority::parse(&f.priority)) else {
        return bad("kind / priority").await;
    };
    let mut deadlines = Vec::new();
    for p in Priority::ALL {
        let get = |k: &str| f.minutes.get(&format!("{k}_{}", p.code())).map(|v| v.trim().parse::<i64>());
        match (get("accept"), get("resolve")) {
            (Some(Ok(a)), Some(Ok(r))) => {
                deadlines.push(DeadlineView { priority: p, accept_minutes: a, resolve_minutes: r })
            }
            (None, None) => {}
            _ => return bad(lang.t("时限(分钟)", "deadlines (minutes)")).await,
        }
    }
    let input = CaseCategoryInput {
        code: f.code.clone(),
        kind,
        name: f.name.clone(),
        name_en: opt(&f.name_en),
        description: Some(f.description.clone()),
        priority,
        active: Some(f.active.is_some()),
        deadlines,
    };
    match st.svc.save_case_category(&c, Some(&f.community), &input).await {
        Ok(v) => {
            Ok(Redirect::to(&format!("/cases/categories?community={}&saved={}", f.community, v.code)).into_response())
        }
        Err(e) => {
            let text = fixable(e, lang)?;
            render_catalogue(&st, &c, lang, Some(&f.community), Some(text), None).await
        }
    }
}
