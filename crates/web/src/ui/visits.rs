//! Visit pages: today's walk list (works offline, printable), the visit
//! form (with a case found on the visit), coverage and the community's
//! visit intervals.

use super::prelude::*;
use yijia_domain::care::{Finding, VisitMode};
use yijia_service::cases::{CaseCategoryView, NoteInput};
use yijia_service::registry::ResidentView;
use yijia_service::roles::{CARE_PLANNERS, CASE_HANDLERS, COVERAGE_READERS, REGISTRARS, VISITORS};
use yijia_service::visits::{Coverage, IntervalInput, IntervalView, OwnIntervalInput, VisitCase, VisitInput, WalkList};
use yijia_service::{Caller, ServiceError};

use super::form::{number, opt};
use super::show::Names;
use super::{fixable, fixable_field};

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/walk", Roles(COVERAGE_READERS), Scope::Grants, walk)
        .get("/walk/visit", Roles(VISITORS), Scope::Named, visit_form)
        .upload("/walk/visit", crate::PHOTO_BODY_LIMIT, Roles(VISITORS), Scope::Named, visit_submit)
        .get("/coverage", Roles(COVERAGE_READERS), Scope::Grants, coverage)
        .post("/coverage/intervals", Roles(CARE_PLANNERS), Scope::Named, interval_save)
        .post("/cases/{id}/revisits/{revisit}", Roles(CASE_HANDLERS), Scope::Object, revisit)
        .post("/residents/{id}/plan", Roles(REGISTRARS), Scope::Object, own_interval)
}

/// A fresh id for a visit form, for browsers without scripts (the script
/// picks its own on the phone).
fn client_id() -> String {
    yijia_service::visits::new_client_id("web")
}

// ---- the walk list ---------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "walk.html")]
struct WalkPage {
    c: Chrome,
    n: Names,
    walk: WalkList,
    grids: Vec<(String, String)>,
    grid: String,
    done: Option<String>,
    modes: Vec<(&'static str, &'static str)>,
    /// Links to the list of one estate (or of all): (name, count, href, chosen).
    estate_links: Vec<(String, usize, String, bool)>,
    all_href: String,
}

impl WalkPage {
    fn fresh_id(&self) -> String {
        client_id()
    }
}

#[derive(Deserialize)]
struct WalkParams {
    grid: Option<String>,
    estate: Option<String>,
    done: Option<String>,
}

fn modes(l: Lang) -> Vec<(&'static str, &'static str)> {
    VisitMode::ALL.iter().map(|m| (m.code(), l.name(m))).collect()
}

async fn walk(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<WalkParams>) -> PageResult {
    let grids = st.svc.visit_grids(&c).await.page(lang)?;
    let own = c.has_any(&[yijia_domain::role::Role::GridWorker]);
    // staff walk a grid of their choosing; a grid worker walks all of theirs
    let grid = q
        .grid
        .clone()
        .filter(|g| !g.is_empty())
        .or_else(|| (!own).then(|| grids.first().map(|g| g.0.clone())).flatten());
    let estate = q.estate.clone().filter(|e| !e.is_empty());
    let walk = st.svc.walk_list(&c, grid.as_deref(), estate.as_deref(), 500).await.page(lang)?;
    let href = |estate: Option<&str>| {
        let q: Vec<(&str, &str)> =
            [("grid", grid.as_deref()), ("estate", estate)].into_iter().filter_map(|(k, v)| Some((k, v?))).collect();
        match serde_urlencoded::to_string(&q).unwrap_or_default() {
            q if q.is_empty() => "/walk".to_owned(),
            q => format!("/walk?{q}"),
        }
    };
    let here = href(estate.as_deref());
    let estate_links = walk
        .estates
        .iter()
        .map(|e| (e.name.clone(), e.people, href(Some(&e.name)), estate.as_deref() == Some(e.name.as_str())))
        .collect();
    Ok(WalkPage {
        estate_links,
        all_href: href(None),
        c: Chrome::for_caller(lang, &c, "/walk", &here),
        n: Names(lang),
        walk,
        grids,
        grid: grid.unwrap_or_default(),
        done: q.done.filter(|d| !d.is_empty()),
        modes: modes(lang),
    }
    .into_response())
}

// ---- the visit form --------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "visit_new.html")]
struct VisitPage {
    c: Chrome,
    resident: ResidentView,
    categories: Vec<CaseCategoryView>,
    modes: Vec<(&'static str, &'static str)>,
    aspects: Vec<(&'static str, &'static str)>,
    findings: Vec<(&'static str, &'static str)>,
    f: VisitForm,
    error: Option<(String, String)>,
}

#[derive(Debug, Clone, Default, serde::Serialize, Deserialize)]
#[serde(default)]
struct VisitForm {
    client_id: String,
    resident_id: String,
    household: String,
    mode: String,
    health: String,
    living: String,
    needs: String,
    safety: String,
    notes: String,
    next_visit_on: String,
    case_category: String,
    case_description: String,
    case_at_risk: String,
    back: String,
}

impl VisitForm {
    fn finding(&self, aspect: &str) -> &str {
        let v = match aspect {
            "health" => &self.health,
            "living" => &self.living,
            "needs" => &self.needs,
            _ => &self.safety,
        };
        if v.is_empty() { "well" } else { v }
    }
}

#[derive(Deserialize)]
struct VisitParams {
    resident: i64,
}

async fn visit_form(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<VisitParams>) -> PageResult {
    let f = VisitForm {
        client_id: client_id(),
        resident_id: q.resident.to_string(),
        mode: "at_home".into(),
        ..Default::default()
    };
    render_visit(&st, &c, lang, f, None).await
}

async fn render_visit(
    st: &AppState,
    c: &Caller,
    lang: Lang,
    f: VisitForm,
    error: Option<(String, String)>,
) -> PageResult {
    let id: i64 = f.resident_id.trim().parse().map_err(|_| ServiceError::NotFound).page(lang)?;
    let resident = st.svc.get_resident(c, id).await.page(lang)?;
    let categories = st.svc.case_categories(c, None).await.unwrap_or_default();
    let aspects =
        yijia_domain::care::ASPECTS.iter().map(|(code, zh, en)| (*code, if lang.en() { *en } else { *zh })).collect();
    let findings = Finding::ALL.iter().map(|x| (x.code(), lang.name(x))).collect();
    let status =
        if error.is_some() { axum::http::StatusCode::UNPROCESSABLE_ENTITY } else { axum::http::StatusCode::OK };
    Ok((
        status,
        VisitPage {
            c: Chrome::for_caller(lang, c, "/walk", &format!("/walk/visit?resident={id}")),
            resident,
            categories: categories.into_iter().filter(|k| k.active).collect(),
            modes: modes(lang),
            aspects,
            findings,
            f,
            error,
        },
    )
        .into_response())
}

fn parse_visit(f: &VisitForm, l: Lang) -> Result<VisitInput, (String, String)> {
    let resident: Option<i64> = number("resident_id", &f.resident_id, l)?;
    let household: Option<i64> = number("household", &f.household, l)?;
    let finding = |field: &str, v: &str| match opt(v) {
        None => Ok(Finding::Well),
        Some(v) => Finding::from_code(&v).ok_or((field.to_owned(), l.t("请选择", "choose one").to_owned())),
    };
    let case = opt(&f.case_category).map(|category| VisitCase {
        category,
        description: f.case_description.clone(),
        priority: None,
        at_risk: opt(&f.case_at_risk),
        parties: None,
    });
    Ok(VisitInput {
        client_id: f.client_id.trim().to_owned(),
        // "the whole household" sends the household instead of the person
        resident_id: if household.is_some() { None } else { resident },
        household_id: household,
        mode: opt(&f.mode).and_then(|m| VisitMode::parse(&m)).unwrap_or_default(),
        visited_at: None,
        health: finding("health", &f.health)?,
        living: finding("living", &f.living)?,
        needs: finding("needs", &f.needs)?,
        safety: finding("safety", &f.safety)?,
        notes: opt(&f.notes),
        next_visit_on: opt(&f.next_visit_on),
        case,
    })
}

async fn visit_submit(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    form: axum::extract::Multipart,
) -> PageResult {
    let u = match crate::upload::read(form, "photo").await {
        Ok(u) => u,
        Err((_, msg)) => return Err(ServiceError::invalid("photo", msg.clone(), msg)).page(lang),
    };
    let f: VisitForm = serde_json::to_value(&u.fields).and_then(serde_json::from_value).unwrap_or_default();
    let input = match parse_visit(&f, lang) {
        Ok(i) => i,
        Err(e) => return render_visit(&st, &c, lang, f, Some(e)).await,
    };
    let photo = u.files.into_iter().next();
    match st.svc.log_visit(&c, input, photo).await {
        Ok(l) => match l.visit.case_id {
            // the case found on the visit is the next thing to look at
            Some(k) => Ok(Redirect::to(&format!("/cases/{k}?visit=recorded")).into_response()),
            None => {
                let back = if f.back.starts_with("/walk") { f.back.clone() } else { "/walk".to_owned() };
                let sep = if back.contains('?') { '&' } else { '?' };
                Ok(Redirect::to(&format!("{back}{sep}done={}", l.visit.id)).into_response())
            }
        },
        Err(e) => {
            let (field, text) = fixable_field(e, lang)?;
            render_visit(&st, &c, lang, f, Some((field, text))).await
        }
    }
}

// ---- coverage and intervals ------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "coverage.html")]
struct CoveragePage {
    c: Chrome,
    cov: Coverage,
    recent: Vec<String>,
    orgs: Vec<(String, String)>,
    org: String,
    community: String,
    intervals: Vec<IntervalView>,
    can_plan: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
struct CoverageParams {
    org: Option<String>,
}

async fn coverage(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Query(q): Query<CoverageParams>,
) -> PageResult {
    render_coverage(&st, &c, lang, q.org.filter(|o| !o.is_empty()), None).await
}

async fn render_coverage(
    st: &AppState,
    c: &Caller,
    lang: Lang,
    org: Option<String>,
    error: Option<String>,
) -> PageResult {
    let cov = st.svc.coverage(c, org.as_deref(), 6).await.page(lang)?;
    let orgs = st.svc.visit_grids(c).await.page(lang)?;
    // a street officer has no one community: no intervals to show him
    let care = st.svc.care_intervals(c, None).await.unwrap_or_default();
    let (community, intervals) = (care.community_name, care.items);
    let here = match &org {
        Some(o) => format!("/coverage?org={o}"),
        None => "/coverage".to_owned(),
    };
    let recent = cov.months.iter().rev().take(2).cloned().collect();
    let status =
        if error.is_some() { axum::http::StatusCode::UNPROCESSABLE_ENTITY } else { axum::http::StatusCode::OK };
    Ok((
        status,
        CoveragePage {
            c: Chrome::for_caller(lang, c, "/coverage", &here),
            cov,
            recent,
            orgs,
            org: org.unwrap_or_default(),
            community,
            intervals,
            can_plan: c.has_any(CARE_PLANNERS),
            error,
        },
    )
        .into_response())
}

#[derive(Deserialize)]
struct IntervalForm {
    category: String,
    days: String,
}

async fn interval_save(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Form(f): Form<IntervalForm>,
) -> PageResult {
    let days = match number::<i64>("days", &f.days, lang) {
        Ok(d) => d,
        Err((_, msg)) => return render_coverage(&st, &c, lang, None, Some(msg)).await,
    };
    match st.svc.set_care_interval(&c, None, IntervalInput { category: f.category, days }).await {
        Ok(_) => Ok(Redirect::to("/coverage").into_response()),
        Err(e) => {
            let msg = fixable(e, lang)?;
            render_coverage(&st, &c, lang, None, Some(msg)).await
        }
    }
}

#[derive(Deserialize)]
struct RevisitForm {
    note: String,
}

async fn revisit(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path((id, revisit)): Path<(i64, i64)>,
    Form(f): Form<RevisitForm>,
) -> PageResult {
    match st.svc.finish_revisit(&c, id, revisit, &NoteInput { note: f.note }).await {
        Ok(_) => Ok(Redirect::to(&format!("/cases/{id}")).into_response()),
        Err(e @ (ServiceError::Invalid(_) | ServiceError::Conflict(_))) => {
            let msg = fixable(e, lang)?;
            Err(ServiceError::invalid("note", msg.clone(), msg)).page(lang)
        }
        Err(e) => Err(e).page(lang),
    }
}

#[derive(Deserialize)]
struct DaysForm {
    days: String,
}

async fn own_interval(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<DaysForm>,
) -> PageResult {
    let days =
        number::<i64>("days", &f.days, lang).map_err(|(field, msg)| ServiceError::invalid(&field, msg.clone(), msg));
    let r = match days {
        Ok(days) => st.svc.set_own_interval(&c, id, OwnIntervalInput { days }).await.map(|_| ()),
        Err(e) => Err(e),
    };
    r.page(lang)?;
    Ok(Redirect::to(&format!("/residents/{id}#plan")).into_response())
}
