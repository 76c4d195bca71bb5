//! Registry pages: the resident list with filters, a resident's record with
//! "show in full" and who looked, and the registration form.

use super::prelude::*;
use yijia_domain::id_number::Sex;
use yijia_domain::life::Change;
use yijia_domain::org::OrgKind;
use yijia_domain::registry::{Category, Residence};
use yijia_service::households::{BuildingView, DoorView, HouseholdView};
use yijia_service::registry::{
    CategoryInput, HouseholdInput, RecordView, ResidentEdit, ResidentFilter, ResidentInput, ResidentSort, ResidentView,
};
use yijia_service::roles::FULL_EXPORTERS;
use yijia_service::roles::{
    CATEGORY_MAKERS, EXPORT_APPROVERS, IMPORTERS, REGISTRARS, RESIDENT_READERS, RESIDENTS, UNMASKERS,
};
use yijia_service::{Caller, PageReq, ServiceError};

use super::fixable;
use crate::error::describe;

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/residents", Roles(RESIDENT_READERS), Scope::Grants, list)
        .post("/residents", Roles(REGISTRARS), Scope::Named, create)
        .get("/residents/new", Roles(REGISTRARS), Scope::Grants, new_form)
        .get("/residents/{id}", Roles(RESIDENT_READERS), Scope::Object, show)
        .get("/residents/{id}/edit", Roles(REGISTRARS), Scope::Object, edit_form)
        .post("/residents/{id}/edit", Roles(REGISTRARS), Scope::Object, edit_submit)
        .get("/households/{id}", Roles(RESIDENT_READERS), Scope::Object, household_page)
        .get("/residents/exports", Roles(FULL_EXPORTERS), Scope::Grants, exports_page)
        .post("/residents/exports", Roles(FULL_EXPORTERS), Scope::Named, request_export)
        .post("/residents/exports/{id}/decision", Roles(EXPORT_APPROVERS), Scope::Object, decide_export)
        .get("/residents/exports/{id}/download", Roles(FULL_EXPORTERS), Scope::Object, download_export)
        .get("/buildings/{id}", Roles(RESIDENT_READERS), Scope::Object, building_page)
        .post("/residents/{id}/unmask", Roles(RESIDENT_READERS), Scope::Object, unmask)
        .post("/residents/{id}/invitation", Roles(REGISTRARS), Scope::Object, invite)
        .post("/residents/{id}/categories", Roles(REGISTRARS), Scope::Object, change_category)
        .post("/residents/{id}/life", Roles(REGISTRARS), Scope::Object, change_life)
        .get("/me/record", Roles(RESIDENTS), Scope::Own, my_record)
        .get("/residents/import", Roles(IMPORTERS), Scope::Grants, import_form)
        .get("/residents/import/template", Roles(IMPORTERS), Scope::Grants, import_template)
        .get("/residents/categories", Roles(RESIDENT_READERS), Scope::Grants, categories_page)
        .post("/residents/categories", Roles(CATEGORY_MAKERS), Scope::Named, add_category)
        .get("/residents/export", Roles(RESIDENT_READERS), Scope::Grants, export)
        // rosters are bigger than other bodies
        .upload("/residents/import", IMPORT_LIMIT, Roles(IMPORTERS), Scope::Named, import_submit)
}

/// Category choices, with the other names people use for them.
/// Category choices: the built-in ones with the other names people use for
/// them, then those of the caller's communities.
async fn category_options(st: &AppState, c: &Caller, l: Lang) -> Result<Vec<(String, String)>, super::PageError> {
    let defs = st.svc.categories(c).await.page(l)?;
    Ok(defs
        .into_iter()
        .map(|d| {
            let label = match (l.en(), d.category()) {
                (true, _) => d.name_en,
                (false, Some(Category::ElderlyAlone)) => "独居老人 / 孤寡老人".into(),
                (false, Some(Category::Disabled)) => "残障人员 / 残疾人".into(),
                (false, _) => d.name,
            };
            (d.code, label)
        })
        .collect())
}

/// The communities in the caller's scope, as (code, name).
async fn community_options(st: &AppState, c: &Caller, l: Lang) -> Result<Vec<(String, String)>, super::PageError> {
    let tree = st.svc.org_tree(c).await.page(l)?;
    Ok(tree.into_iter().filter(|n| n.kind == OrgKind::Community).map(|n| (n.code, n.name)).collect())
}

pub(super) async fn grid_options(
    st: &AppState,
    c: &Caller,
    l: Lang,
) -> Result<Vec<(String, String)>, super::PageError> {
    let tree = st.svc.org_tree(c).await.page(l)?;
    // names, never codes; with the community's name when grids of more
    // than one are offered (every community has its 第1网格)
    let names: std::collections::HashMap<&str, &str> =
        tree.iter().map(|n| (n.code.as_str(), n.name.as_str())).collect();
    let grids: Vec<_> = tree.iter().filter(|n| n.kind == OrgKind::Grid).collect();
    let first = grids.first().map(|g| g.parent.clone());
    let several = grids.iter().any(|g| Some(g.parent.clone()) != first);
    Ok(grids
        .into_iter()
        .map(|g| {
            let community = g.parent.as_deref().and_then(|p| names.get(p)).filter(|_| several);
            let label = community.map_or_else(|| g.name.clone(), |com| format!("{com} · {}", g.name));
            (g.code.clone(), label)
        })
        .collect())
}

fn sex_name(l: Lang, s: Option<Sex>) -> &'static str {
    match s {
        Some(Sex::Male) => l.t("男", "male"),
        Some(Sex::Female) => l.t("女", "female"),
        None => "",
    }
}

struct Line {
    id: i64,
    name: String,
    sex: &'static str,
    age: Option<u32>,
    /// Masked; empty for those who may not see it.
    id_number: String,
    address: String,
    grid_name: String,
    tags: Vec<String>,
    flagged: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "residents.html")]
struct ListPage {
    c: Chrome,
    residents: Vec<Line>,
    total: i64,
    page: i64,
    pages: i64,
    base: String,
    name: String,
    category: String,
    grid: String,
    residence: String,
    residences: Vec<(&'static str, &'static str)>,
    age_min: String,
    age_max: String,
    estate: String,
    building: String,
    door: String,
    sort: String,
    sorts: Vec<(&'static str, &'static str)>,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
    categories: Vec<(String, String)>,
    grids: Vec<(String, String)>,
    can_add: bool,
    can_import: bool,
    can_export_full: bool,
    /// The community the export button exports.
    community: Option<String>,
    error: Option<String>,
    /// Some filter beyond the name is set: the filters stay open.
    filtered: bool,
}

#[derive(Deserialize, serde::Serialize, Default)]
struct ListQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    residence: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    age_min: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    age_max: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    estate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    building: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    door: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    grid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sort: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    /// never put back into links: it is an ID number or phone
    #[serde(skip_serializing)]
    q: Option<String>,
    #[serde(skip_serializing)]
    page: Option<i64>,
}

async fn list(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<ListQuery>) -> PageResult {
    let page = q.page.unwrap_or(1).max(1);
    let filter = ResidentFilter {
        grid: q.grid.clone().filter(|g| !g.is_empty()),
        category: q.category.clone().filter(|s| !s.is_empty()),
        name: q.name.clone(),
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
        residence: q.residence.as_deref().and_then(Residence::parse),
        age_min: q.age_min.as_deref().and_then(|a| a.trim().parse().ok()),
        age_max: q.age_max.as_deref().and_then(|a| a.trim().parse().ok()),
        estate: q.estate.clone(),
        building: q.building.clone(),
        entrance: None,
        door: q.door.clone(),
        sort: q.sort.as_deref().and_then(ResidentSort::from_code).unwrap_or_default(),
        status: q.status.as_deref().and_then(yijia_domain::life::Status::from_code),
    };
    let req = PageReq::new(Some(page), Some(50)).page(lang)?;
    let unknown = q.status.as_deref().is_some_and(|s| !s.is_empty() && filter.status.is_none());
    // a status not in the list is said, not read as "on the register"
    let (items, total, error) = if unknown {
        (vec![], 0, Some(lang.t("请从列表中选择在册状态", "choose a register status from the list").to_owned()))
    } else {
        match st.svc.list_residents(&c, filter, req).await {
            Ok(p) => (p.items, p.total, None),
            Err(e) => (vec![], 0, Some(fixable(e, lang)?)),
        }
    };
    let residents = items
        .into_iter()
        .map(|r| Line {
            id: r.id,
            sex: sex_name(lang, r.sex),
            age: r.age,
            tags: r.categories.iter().map(|c| if lang.en() { c.name_en.clone() } else { c.name.clone() }).collect(),
            flagged: !r.flags.is_empty(),
            id_number: r.id_number.unwrap_or_default(),
            address: r
                .address
                .map(|a| {
                    [a.estate, a.building, a.entrance, a.door]
                        .into_iter()
                        .filter(|p| !p.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default(),
            grid_name: r.grid_name,
            name: r.name,
        })
        .collect();
    let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    let filtered = [&q.category, &q.grid, &q.residence, &q.age_min, &q.age_max, &q.estate, &q.building, &q.door]
        .into_iter()
        .any(set);
    // the filters, encoded, for the pager's links
    let base = format!("/residents?{}", serde_urlencoded::to_string(&q).unwrap_or_default());
    let tree = st.svc.org_tree(&c).await.page(lang)?;
    let community = tree.iter().find(|n| n.kind == OrgKind::Community).map(|n| n.code.clone());
    let grids = grid_options(&st, &c, lang).await?;
    Ok(ListPage {
        community,
        c: Chrome::for_caller(lang, &c, "/residents", "/residents"),
        residents,
        total,
        page,
        pages: ((total + 49) / 50).max(1),
        base,
        name: q.name.unwrap_or_default(),
        category: q.category.unwrap_or_default(),
        grid: q.grid.unwrap_or_default(),
        residence: q.residence.unwrap_or_default(),
        residences: Residence::ALL.iter().map(|r| (r.code(), lang.name(*r))).collect(),
        age_min: q.age_min.unwrap_or_default(),
        age_max: q.age_max.unwrap_or_default(),
        estate: q.estate.unwrap_or_default(),
        building: q.building.unwrap_or_default(),
        door: q.door.unwrap_or_default(),
        sort: q.sort.unwrap_or_default(),
        sorts: ResidentSort::ALL.iter().map(|s| (s.code(), lang.name(*s))).collect(),
        status: q.status.unwrap_or_default(),
        statuses: yijia_domain::life::Status::ALL.iter().map(|s| (s.code(), lang.name(*s))).collect(),
        categories: category_options(&st, &c, lang).await?,
        grids,
        can_add: c.has_any(REGISTRARS),
        can_import: c.has_any(IMPORTERS),
        can_export_full: c.has_any(FULL_EXPORTERS),
        error,
        filtered,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "resident.html")]
struct DetailPage {
    c: Chrome,
    r: ResidentView,
    sex: &'static str,
    residence: &'static str,
    can_unmask: bool,
    /// May make a copy of the resident's data for them.
    can_copy: bool,
    can_edit: bool,
    views: Vec<RecordView>,
    history: Vec<yijia_service::registry::HistoryView>,
    categories: Vec<(String, String)>,
    error: Option<String>,
    /// The care plan and latest visits (none: not for this caller).
    plan: Option<yijia_service::visits::PlanView>,
    can_visit: bool,
    /// The record's life events, and the changes it allows now.
    life: Vec<yijia_service::life::LifeEventView>,
    changes: Vec<Change>,
    today: String,
}

async fn show(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    render_record(&st, &c, lang, id, None).await
}

async fn render_record(st: &AppState, c: &Caller, lang: Lang, id: i64, error: Option<String>) -> PageResult {
    let r = st.svc.get_resident(c, id).await.page(lang)?;
    let views = st.svc.record_views(c, id).await.page(lang)?;
    let history = st.svc.category_history(c, id).await.page(lang)?;
    let life = st.svc.life_on_page(c, id).await.page(lang)?;
    // a move and a transfer have their own way in
    let changes = Change::ALL.into_iter().filter(|x| x.by_hand() && x.allowed_from(r.status).is_ok()).collect();
    // a station clerk reads names, not visits
    let plan = if c.has_any(yijia_service::roles::COVERAGE_READERS) {
        Some(st.svc.resident_plan(c, id).await.page(lang)?)
    } else {
        None
    };
    let here = format!("/residents/{id}");
    let can_copy = c.has_any(UNMASKERS);
    let can_unmask = c.has_any(UNMASKERS)
        && (r.id_number.is_some() || r.phone.is_some() || r.categories.iter().any(|c| c.has_details));
    Ok(DetailPage {
        c: Chrome::for_caller(lang, c, "/residents", &here),
        sex: sex_name(lang, r.sex),
        residence: lang.name(r.residence),
        can_unmask,
        can_copy,
        can_edit: c.has_any(REGISTRARS),
        views,
        history,
        categories: category_options(st, c, lang).await?.into_iter().filter(|(code, _)| code != "child").collect(),
        error,
        plan,
        can_visit: c.has_any(yijia_service::roles::VISITORS),
        life,
        changes,
        today: yijia_domain::time::to_local(st.svc.now()).format("%Y-%m-%d").to_string(),
        r,
    }
    .into_response())
}

/// What an audit action or a history change means, for the person reading.
pub(crate) fn label<'a>(l: &Lang, code: &'a str) -> &'a str {
    yijia_domain::audit::record_action(code, l.en())
}

/// A protected field by name.
pub(crate) fn field_name(l: &Lang, field: &str) -> &'static str {
    let (zh, en) = yijia_domain::audit::field_name(field);
    l.t(zh, en)
}

impl DetailPage {
    fn label<'a>(&self, code: &'a str) -> &'a str {
        label(&self.c.l, code)
    }

    /// A reason the system wrote in both languages (`登记 / registered`),
    /// in the reader's; one a person typed, as typed.
    fn said<'a>(&self, reason: &'a str) -> &'a str {
        match reason.split_once(" / ") {
            Some((zh, en)) if en.is_ascii() => self.c.l.t(zh, en),
            _ => reason,
        }
    }

    fn field_name(&self, field: &str) -> &'static str {
        field_name(&self.c.l, field)
    }
}

// ---- the resident: who looked at my record ------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "my_record.html")]
struct MyRecordPage {
    c: Chrome,
    views: Vec<yijia_service::registry::MyRecordView>,
}

async fn my_record(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    let views = st.svc.my_record_views(&c).await.page(lang)?;
    Ok(MyRecordPage { c: Chrome::for_caller(lang, &c, "/me/record", "/me/record"), views }.into_response())
}

#[derive(Deserialize)]
struct CategoryForm {
    category: String,
    action: String,
    reason: String,
}

async fn change_category(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<CategoryForm>,
) -> PageResult {
    let change = yijia_service::registry::CategoryChange {
        category: f.category,
        action: f.action,
        reason: f.reason,
        details: None,
    };
    match st.svc.change_category(&c, id, change).await {
        Ok(_) => Ok(Redirect::to(&format!("/residents/{id}")).into_response()),
        Err(e) => {
            let msg = fixable(e, lang)?;
            render_record(&st, &c, lang, id, Some(msg)).await
        }
    }
}

#[derive(Deserialize)]
struct LifeForm {
    change: String,
    on: String,
    reason: String,
    source: String,
    version: String,
}

async fn change_life(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<LifeForm>,
) -> PageResult {
    let r = async {
        let unknown = |field: &str| ServiceError::invalid(field, "请从列表中选择", "choose one from the list");
        let input = yijia_service::life::LifeInput {
            change: Change::from_code(&f.change).ok_or_else(|| unknown("change"))?,
            on: f.on,
            reason: f.reason,
            source: yijia_domain::life::Informant::from_code(&f.source).ok_or_else(|| unknown("source"))?,
            version: super::form::whole("version", &f.version, lang)?,
        };
        st.svc.change_life(&c, id, input).await
    };
    match r.await {
        Ok(_) => Ok(Redirect::to(&format!("/residents/{id}#life")).into_response()),
        Err(e) => {
            let msg = fixable(e, lang)?;
            render_record(&st, &c, lang, id, Some(msg)).await
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "unmasked.html")]
struct UnmaskedFragment {
    l: Lang,
    /// `id_number` and `phone` are shown in place of the masked value.
    field: String,
    label: String,
    value: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct UnmaskForm {
    field: String,
    reason: String,
}

/// Answers the fragment that htmx puts under the form.
async fn unmask(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<UnmaskForm>,
) -> Response {
    match st.svc.unmask(&c, id, &f.field, &f.reason).await {
        Ok(u) => {
            let value = match &u.value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => lang.t("(未登记)", "(none recorded)").to_owned(),
                v => v.to_string(),
            };
            let label = match u.field.as_str() {
                "id_number" => lang.t("身份证号", "ID number"),
                "phone" => lang.t("电话", "Phone"),
                _ => lang.t("类别详情", "Category details"),
            };
            UnmaskedFragment { l: lang, field: u.field.clone(), label: label.to_owned(), value, error: None }
                .into_response()
        }
        Err(e) => {
            let (status, _, msg, _) = describe(&e, lang);
            let none = String::new();
            let fragment =
                UnmaskedFragment { l: lang, field: none.clone(), label: none.clone(), value: none, error: Some(msg) };
            (status, fragment).into_response()
        }
    }
}

struct Field {
    field: &'static str,
    label: &'static str,
    value: String,
    /// Shown in an empty field (the masked value an edit keeps).
    hint: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "resident_new.html")]
struct NewPage {
    c: Chrome,
    title: &'static str,
    action: String,
    submit: &'static str,
    /// The record's version, when editing.
    version: Option<i64>,
    back: String,
    fields: Vec<Field>,
    grids: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    error: Option<String>,
    error_field: String,
    error_text: String,
}

#[derive(Deserialize, Default)]
struct ResidentForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    birth_date: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    grid: String,
    #[serde(default)]
    estate: String,
    #[serde(default)]
    building: String,
    #[serde(default)]
    entrance: String,
    #[serde(default)]
    door: String,
    #[serde(default)]
    relation: String,
    #[serde(default)]
    residence: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    notes: String,
    /// The record's version, when editing.
    #[serde(default)]
    version: String,
}

/// The form's fields; an edit (with the masked values it keeps) has no
/// grid or category: those change elsewhere.
fn fields(l: Lang, f: &ResidentForm, kept: Option<(&str, &str)>) -> Vec<Field> {
    let field = |field, label, value: &str| Field { field, label, value: value.to_owned(), hint: String::new() };
    let keep = |masked: &str| match masked {
        "" => String::new(),
        m => format!("{m}({})", l.t("留空不改", "leave empty to keep")),
    };
    let mut v = vec![
        field("name", l.t("姓名", "Name"), &f.name),
        Field {
            hint: kept.map(|k| keep(k.0)).unwrap_or_default(),
            ..field("id_number", l.t("身份证号", "ID number"), "")
        },
        field("sex", l.t("性别(男/女,可由身份证号带出)", "Sex (from the ID number if empty)"), &f.sex),
        field("birth_date", l.t("出生日期(YYYY-MM-DD,可由身份证号带出)", "Born (YYYY-MM-DD)"), &f.birth_date),
        Field { hint: kept.map(|k| keep(k.1)).unwrap_or_default(), ..field("phone", l.t("电话", "Phone"), "") },
        field("grid", l.t("网格", "Grid"), &f.grid),
        field("estate", l.t("小区", "Estate"), &f.estate),
        field("building", l.t("楼栋(如 3号楼)", "Building"), &f.building),
        field("entrance", l.t("单元", "Entrance"), &f.entrance),
        field("door", l.t("门牌号", "Door"), &f.door),
        field("relation", l.t("与户主关系", "Relation to the head"), &f.relation),
        field("residence", l.t("居住状态(常住、租户、户在人不在……)", "Residence status"), &f.residence),
        field("category", l.t("人员类别", "Category"), &f.category),
        field("due_date", l.t("预产期(孕妇)", "Due date (pregnancy)"), &f.due_date),
        field("notes", l.t("备注", "Notes"), &f.notes),
    ];
    if kept.is_some() {
        v.retain(|f| !matches!(f.field, "grid" | "category" | "due_date"));
    }
    v
}

async fn render_new(st: &AppState, c: &Caller, l: Lang, f: &ResidentForm, e: Option<(String, String)>) -> PageResult {
    let grids = grid_options(st, c, l).await?;
    let (error_field, error_text) = e.clone().unwrap_or_default();
    Ok(NewPage {
        c: Chrome::for_caller(l, c, "/residents", "/residents/new"),
        title: l.t("登记居民", "Register a resident"),
        action: "/residents".into(),
        submit: l.t("登记", "Register"),
        version: None,
        back: "/residents".into(),
        fields: fields(l, f, None),
        grids,
        categories: category_options(st, c, l).await?.into_iter().filter(|(code, _)| code != "child").collect(),
        error: e.map(|(_, t)| t),
        error_field,
        error_text,
    }
    .into_response())
}

async fn new_form(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    render_new(&st, &c, lang, &ResidentForm::default(), None).await
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

async fn create(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<ResidentForm>) -> PageResult {
    let category = Category::parse(&f.category);
    let details = (category == Some(Category::Pregnant) && !f.due_date.trim().is_empty()).then(|| {
        let mut m = serde_json::Map::new();
        m.insert("due_date".into(), serde_json::Value::String(f.due_date.trim().into()));
        m
    });
    let input = ResidentInput {
        name: f.name.clone(),
        sex: opt(&f.sex),
        birth_date: opt(&f.birth_date),
        id_number: opt(&f.id_number),
        phone: opt(&f.phone),
        grid: f.grid.clone(),
        household: opt(&f.estate).map(|estate| HouseholdInput {
            estate,
            building: f.building.clone(),
            entrance: f.entrance.clone(),
            door: f.door.clone(),
        }),
        relation: opt(&f.relation),
        residence: opt(&f.residence),
        notes: opt(&f.notes),
        categories: category.map(|category| CategoryInput { category, details }).into_iter().collect(),
    };
    match st.svc.add_resident(&c, input).await {
        Ok(r) => Ok(Redirect::to(&format!("/residents/{}", r.id)).into_response()),
        Err(e) => {
            let field = form_field(&e);
            let text = fixable(e, lang)?;
            render_new(&st, &c, lang, &f, Some((field, text))).await
        }
    }
}

/// The form field an error is about, so that its message stands beside it.
fn form_field(e: &ServiceError) -> String {
    let field = match e {
        ServiceError::Invalid(i) => i.field.split(['.', '[']).next_back().unwrap_or(""),
        _ => "",
    };
    match field {
        "details" | "due_date" => "due_date",
        "category" | "categories" => "category",
        f => f,
    }
    .to_owned()
}

fn render_edit(c: &Caller, l: Lang, r: &ResidentView, f: &ResidentForm, e: Option<(String, String)>) -> PageResult {
    let (error_field, error_text) = e.clone().unwrap_or_default();
    let kept = (r.id_number.as_deref().unwrap_or(""), r.phone.as_deref().unwrap_or(""));
    Ok(NewPage {
        c: Chrome::for_caller(l, c, "/residents", &format!("/residents/{}/edit", r.id)),
        title: l.t("修改居民信息", "Edit a resident"),
        action: format!("/residents/{}/edit", r.id),
        submit: l.t("保存", "Save"),
        version: Some(r.version),
        back: format!("/residents/{}", r.id),
        fields: fields(l, f, Some(kept)),
        grids: vec![],
        categories: vec![],
        error: e.map(|(_, t)| t),
        error_field,
        error_text,
    }
    .into_response())
}

async fn edit_form(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    let r = st.svc.get_resident(&c, id).await.page(lang)?;
    let a = r.address.clone();
    let f = ResidentForm {
        name: r.name.clone(),
        sex: match r.sex {
            Some(Sex::Male) => "男".into(),
            Some(Sex::Female) => "女".into(),
            None => String::new(),
        },
        birth_date: r.birth_date.clone().unwrap_or_default(),
        estate: a.as_ref().map(|a| a.estate.clone()).unwrap_or_default(),
        building: a.as_ref().map(|a| a.building.clone()).unwrap_or_default(),
        entrance: a.as_ref().map(|a| a.entrance.clone()).unwrap_or_default(),
        door: a.as_ref().map(|a| a.door.clone()).unwrap_or_default(),
        relation: r.relation.clone(),
        residence: r.residence.code().into(),
        notes: r.notes.clone(),
        ..Default::default()
    };
    render_edit(&c, lang, &r, &f, None)
}

async fn edit_submit(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<ResidentForm>,
) -> PageResult {
    let edit = ResidentEdit {
        version: f.version.trim().parse().unwrap_or(-1),
        name: f.name.clone(),
        sex: opt(&f.sex),
        birth_date: opt(&f.birth_date),
        id_number: opt(&f.id_number),
        phone: opt(&f.phone),
        household: opt(&f.estate).map(|estate| HouseholdInput {
            estate,
            building: f.building.clone(),
            entrance: f.entrance.clone(),
            door: f.door.clone(),
        }),
        relation: Some(f.relation.clone()),
        residence: opt(&f.residence),
        notes: Some(f.notes.clone()),
    };
    match st.svc.update_resident(&c, id, edit).await {
        Ok(r) => Ok(Redirect::to(&format!("/residents/{}", r.id)).into_response()),
        Err(e) => {
            let field = form_field(&e);
            let text = fixable(e, lang)?;
            let r = st.svc.get_resident(&c, id).await.page(lang)?;
            render_edit(&c, lang, &r, &f, Some((field, text)))
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "household.html")]
struct HouseholdPage {
    c: Chrome,
    h: HouseholdView,
}

async fn household_page(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    let h = st.svc.household_view(&c, id).await.page(lang)?;
    Ok(HouseholdPage { c: Chrome::for_caller(lang, &c, "/residents", &format!("/households/{id}")), h }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "building.html")]
struct BuildingPage {
    c: Chrome,
    b: BuildingView,
    /// (entrance, its doors)
    entrances: Vec<(String, Vec<DoorView>)>,
}

async fn building_page(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    let b = st.svc.building_view(&c, id).await.page(lang)?;
    let mut entrances: Vec<(String, Vec<DoorView>)> = Vec::new();
    for d in &b.doors {
        match entrances.last_mut() {
            Some((e, doors)) if *e == d.entrance => doors.push(d.clone()),
            _ => entrances.push((d.entrance.clone(), vec![d.clone()])),
        }
    }
    Ok(BuildingPage { c: Chrome::for_caller(lang, &c, "/residents", &format!("/buildings/{id}")), b, entrances }
        .into_response())
}

/// A roster of 100,000 rows is about 9 MB.
const IMPORT_LIMIT: usize = 32 * 1024 * 1024;

#[derive(Template, WebTemplate)]
#[template(path = "residents_import.html")]
struct ImportPage {
    c: Chrome,
    communities: Vec<(String, String)>,
}

async fn import_form(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    let tree = st.svc.org_tree(&c).await.page(lang)?;
    let communities =
        tree.into_iter().filter(|n| n.kind == OrgKind::Community).map(|n| (n.code.clone(), n.name.clone())).collect();
    Ok(ImportPage { c: Chrome::for_caller(lang, &c, "/residents", "/residents/import"), communities }.into_response())
}

/// A blank roster with the headers the import reads.
async fn import_template(lang: Lang) -> PageResult {
    let book = yijia_service::import::roster_template(lang.en()).page(lang)?;
    Ok(crate::download::xlsx("yijia-roster-template.xlsx", book))
}

#[derive(Template, WebTemplate)]
#[template(path = "import_result.html")]
struct ImportResult {
    l: Lang,
    report: Option<yijia_service::import::ImportReport>,
    error: Option<String>,
}

/// Answers the fragment htmx puts under the form.
async fn import_submit(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    form: axum::extract::Multipart,
) -> Response {
    let fail = |status: axum::http::StatusCode, msg: String| {
        (status, ImportResult { l: lang, report: None, error: Some(msg) }).into_response()
    };
    let mut u = match crate::upload::read(form, "file").await {
        Ok(u) => u,
        Err((status, msg)) => return fail(status, msg),
    };
    let community = u.fields.remove("community").unwrap_or_default();
    let dry_run = u.fields.get("dry_run").is_some_and(|v| !v.is_empty());
    let bytes = u.files.into_iter().next();
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        return fail(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            lang.t("请选择台账文件", "choose a roster file").to_owned(),
        );
    };
    match st.svc.import_residents(&c, &bytes, &community, &std::collections::HashMap::new(), dry_run, &|_, _| {}).await
    {
        Ok(r) => ImportResult { l: lang, report: Some(r), error: None }.into_response(),
        Err(e) => {
            let (status, _, msg, _) = describe(&e, lang);
            fail(status, msg)
        }
    }
}

struct CountRow {
    grid: String,
    name: String,
    residents: i64,
    counts: Vec<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "residents_categories.html")]
struct CategoriesPage {
    c: Chrome,
    categories: Vec<(String, String)>,
    rows: Vec<CountRow>,
    totals: Vec<i64>,
    total: i64,
    /// Communities the caller may add a category to.
    communities: Vec<(String, String)>,
    error: Option<String>,
}

/// 分类归档: counts per grid and category, each linking to its list.
async fn categories_page(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    render_categories(&st, &c, lang, None).await
}

#[derive(Deserialize)]
struct NewCategoryForm {
    community: String,
    #[serde(default)]
    name: String,
}

async fn add_category(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Form(f): Form<NewCategoryForm>,
) -> PageResult {
    match st.svc.add_custom_category(&c, &f.community, &f.name).await {
        Ok(_) => Ok(Redirect::to("/residents/categories").into_response()),
        Err(e) => render_categories(&st, &c, lang, Some(fixable(e, lang)?)).await,
    }
}

async fn render_categories(st: &AppState, c: &Caller, lang: Lang, error: Option<String>) -> PageResult {
    let grids = st.svc.category_counts(c).await.page(lang)?;
    let categories: Vec<(String, String)> = st
        .svc
        .categories(c)
        .await
        .page(lang)?
        .into_iter()
        .map(|d| (d.code, if lang.en() { d.name_en } else { d.name }))
        .collect();
    let rows: Vec<CountRow> = grids
        .into_iter()
        .map(|g| CountRow {
            counts: categories.iter().map(|(code, _)| g.categories.get(code).copied().unwrap_or(0)).collect(),
            grid: g.grid,
            name: g.name,
            residents: g.residents,
        })
        .collect();
    let totals = (0..categories.len()).map(|i| rows.iter().map(|r| r.counts[i]).sum()).collect();
    let total = rows.iter().map(|r| r.residents).sum();
    let communities = if c.has_any(CATEGORY_MAKERS) { community_options(st, c, lang).await? } else { vec![] };
    Ok(CategoriesPage {
        c: Chrome::for_caller(lang, c, "/residents", "/residents/categories"),
        categories,
        rows,
        totals,
        total,
        communities,
        error,
    }
    .into_response())
}

#[derive(Deserialize)]
struct ExportQuery {
    community: String,
    category: Option<String>,
}

/// The roster workbook of the caller's part of a community, masked.
async fn export(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<ExportQuery>) -> PageResult {
    let category = q.category.as_deref().filter(|s| !s.is_empty());
    let book = st.svc.export_residents(&c, &q.community, category).await.page(lang)?;
    let day = yijia_domain::time::to_local(st.svc.now()).format("%Y%m%d");
    let file = format!("residents-{}-{day}.xlsx", q.community);
    Ok(crate::download::xlsx(&file, book))
}

#[derive(Template, WebTemplate)]
#[template(path = "residents_exports.html")]
struct ExportsPage {
    c: Chrome,
    requests: Vec<yijia_service::export::ApprovalView>,
    communities: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    error: Option<String>,
}

async fn render_exports(st: &AppState, c: &Caller, l: Lang, error: Option<String>) -> PageResult {
    let requests = st.svc.export_approvals(c).await.page(l)?;
    let communities = community_options(st, c, l).await?;
    Ok(ExportsPage {
        c: Chrome::for_caller(l, c, "/residents", "/residents/exports"),
        requests,
        communities,
        categories: category_options(st, c, l).await?,
        error,
    }
    .into_response())
}

/// Exports with personal data in full: the requests, and a form to ask.
async fn exports_page(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    render_exports(&st, &c, lang, None).await
}

#[derive(Deserialize)]
struct ExportRequestForm {
    community: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    reason: String,
}

async fn request_export(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Form(f): Form<ExportRequestForm>,
) -> PageResult {
    let category = Some(f.category.as_str()).filter(|s| !s.is_empty());
    match st.svc.request_unmasked_export(&c, &f.community, category, &f.reason).await {
        Ok(_) => Ok(Redirect::to("/residents/exports").into_response()),
        Err(e) => render_exports(&st, &c, lang, Some(fixable(e, lang)?)).await,
    }
}

#[derive(Deserialize)]
struct DecisionForm {
    approve: String,
    #[serde(default)]
    note: String,
}

async fn decide_export(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> PageResult {
    match st.svc.decide_unmasked_export(&c, id, f.approve == "1", Some(&f.note)).await {
        Ok(_) => Ok(Redirect::to("/residents/exports").into_response()),
        Err(e) => render_exports(&st, &c, lang, Some(fixable(e, lang)?)).await,
    }
}

async fn download_export(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    match st.svc.export_residents_unmasked(&c, id).await {
        Ok(book) => Ok(crate::download::xlsx(&format!("residents-full-{id}.xlsx"), book)),
        Err(e) => render_exports(&st, &c, lang, Some(fixable(e, lang)?)).await,
    }
}

// ---- an invitation for the resident's own account ---------------------------

#[derive(Template, WebTemplate)]
#[template(path = "invitation.html")]
struct InvitationPage {
    c: Chrome,
    inv: yijia_service::invitations::InvitationView,
}

/// A new one-time code, shown once to print or read out.
async fn invite(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    let inv = st.svc.invite_resident(&c, id).await.page(lang)?;
    Ok(InvitationPage { c: Chrome::for_caller(lang, &c, "/residents", &format!("/residents/{id}")), inv }
        .into_response())
}
