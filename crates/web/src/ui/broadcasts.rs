//! Emergency broadcasts: the secretary's or the officer's form and list,
//! one broadcast's page (confirm, end, how the sending stands), and the
//! banner every page asks for.

use super::prelude::*;
use std::collections::HashMap;

use yijia_domain::broadcast::{Answer, Area, Level};
use yijia_domain::registry::Category;
use yijia_service::Caller;
use yijia_service::broadcasts::{
    AnswerInput, BroadcastInput, BroadcastOptions, BroadcastView, RollcallBoard, RollcallPerson, SafeInput,
    UnreachablePerson,
};
use yijia_service::roles::{BROADCAST_READERS, BROADCASTERS, RESIDENTS};

use super::form::{Flash, again};

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/broadcasts", Roles(BROADCAST_READERS), Scope::Grants, list_page)
        .post("/broadcasts", Roles(BROADCASTERS), Scope::Named, send)
        .get("/broadcasts/banner", LoggedIn, Scope::Own, banner)
        .get("/broadcasts/{id}", LoggedIn, Scope::Object, one_page)
        .post("/broadcasts/{id}/confirm", Roles(BROADCASTERS), Scope::Object, confirm)
        .post("/broadcasts/{id}/end", Roles(BROADCASTERS), Scope::Object, end)
        .get("/broadcasts/{id}/board", Roles(BROADCAST_READERS), Scope::Object, board)
        .get("/broadcasts/{id}/rollcall", Roles(BROADCAST_READERS), Scope::Object, people_page)
        .post("/broadcasts/{id}/rollcall/answer", Roles(BROADCAST_READERS), Scope::Object, answer)
        .get("/broadcasts/{id}/unreachable", Roles(BROADCAST_READERS), Scope::Object, unreachable_page)
        .post("/broadcasts/{id}/safe", Roles(RESIDENTS), Scope::Object, safe)
}

/// The categories a roll-call is usually of, offered on the form.
const VULNERABLE: [Category; 5] =
    [Category::ElderlyAlone, Category::Disabled, Category::Pregnant, Category::Hardship, Category::Child];

#[derive(Template, WebTemplate)]
#[template(path = "broadcasts.html")]
struct ListPage {
    c: Chrome,
    list: Vec<BroadcastView>,
    options: Option<BroadcastOptions>,
    levels: Vec<Level>,
    vulnerable: Vec<Category>,
    form: SendForm,
    flash: Flash,
}

impl ListPage {
    fn ticked(&self, c: &Category) -> bool {
        self.form.extra.contains_key(&format!("rc.{}", c.code()))
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Params {
    community: Option<String>,
}

async fn render_list(
    st: &AppState,
    c: &Caller,
    lang: Lang,
    community: Option<&str>,
    form: SendForm,
    flash: Flash,
) -> PageResult {
    let list = st.svc.broadcasts(c, lang.en()).await.page(lang)?;
    let options =
        if c.has_any(BROADCASTERS) { Some(st.svc.broadcast_options(c, community).await.page(lang)?) } else { None };
    let status = flash.status();
    let chrome = Chrome::for_caller(lang, c, "/broadcasts", "/broadcasts");
    let page = ListPage {
        c: chrome,
        list,
        options,
        levels: Level::ALL.to_vec(),
        vulnerable: VULNERABLE.to_vec(),
        form,
        flash,
    };
    Ok((status, page).into_response())
}

async fn list_page(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    if c.has_any(BROADCASTERS) && super::must_choose_community(&c, BROADCASTERS, q.community.as_deref()) {
        return super::choose_community(&st, &c, lang, "/broadcasts", lang.t("紧急广播", "Emergency broadcasts")).await;
    }
    render_list(&st, &c, lang, q.community.as_deref(), SendForm::default(), Flash::default()).await
}

/// The form as typed: kept when it is shown again with an error.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct SendForm {
    level: String,
    reason: String,
    body: String,
    /// `community:CODE`, `subdistrict:CODE`, `grid:CODE`, `estate:ID`, `building:ID`.
    to: String,
    community: String,
    /// `rc.CODE`: a roll-call of that category.
    #[serde(flatten)]
    extra: HashMap<String, String>,
}

async fn send(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<SendForm>) -> PageResult {
    let r = async {
        let level = Level::parse(&f.level)
            .ok_or_else(|| yijia_service::ServiceError::invalid("level", "请选择级别", "choose a level"))?;
        let mut input = BroadcastInput {
            level,
            reason: f.reason.clone(),
            body: f.body.clone(),
            area: Area::Community,
            building_id: None,
            estate_id: None,
            grids: vec![],
            org: None,
            rollcall: VULNERABLE.into_iter().filter(|c| f.extra.contains_key(&format!("rc.{}", c.code()))).collect(),
        };
        let number = |s: &str, field: &str| {
            s.parse::<i64>().map_err(|_| yijia_service::ServiceError::invalid(field, "请选择", "choose one"))
        };
        match f.to.split_once(':') {
            Some(("building", id)) => {
                input.area = Area::Building;
                input.building_id = Some(number(id, "building_id")?);
            }
            Some(("estate", id)) => {
                input.area = Area::Estate;
                input.estate_id = Some(number(id, "estate_id")?);
            }
            Some(("grid", code)) => {
                input.area = Area::Grids;
                input.grids = vec![code.to_owned()];
            }
            Some(("subdistrict", code)) => {
                input.area = Area::Subdistrict;
                input.org = Some(code.to_owned());
            }
            Some(("community", code)) => input.org = Some(code.to_owned()),
            _ => return Err(yijia_service::ServiceError::invalid("to", "请选择范围", "choose where it goes")),
        }
        st.svc.send_broadcast(&c, &input, lang.en()).await
    };
    match r.await {
        Ok(b) => Ok(Redirect::to(&format!("/broadcasts/{}", b.id)).into_response()),
        Err(e) => {
            let flash = again(e, lang)?;
            let community = Some(f.community.clone()).filter(|s| !s.is_empty());
            render_list(&st, &c, lang, community.as_deref(), f, flash).await
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "broadcast.html")]
struct OnePage {
    c: Chrome,
    b: BroadcastView,
    board: Option<RollcallBoard>,
    flash: Flash,
}

async fn render_one(st: &AppState, c: &Caller, lang: Lang, id: i64, flash: Flash) -> PageResult {
    let b = st.svc.broadcast(c, id, lang.en()).await.page(lang)?;
    let board = if b.rollcall && c.has_any(BROADCAST_READERS) {
        Some(st.svc.rollcall_board(c, id, lang.en()).await.page(lang)?)
    } else {
        None
    };
    let status = flash.status();
    let active = if c.has_any(BROADCAST_READERS) { "/broadcasts" } else { "/" };
    let chrome = Chrome::for_caller(lang, c, active, &format!("/broadcasts/{id}"));
    Ok((status, OnePage { c: chrome, b, board, flash }).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "rollcall_board.html")]
struct BoardFragment {
    l: Lang,
    board: RollcallBoard,
}

/// The board alone: the broadcast's page asks for it every 10 s.
async fn board(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    let board = st.svc.rollcall_board(&c, id, lang.en()).await.page(lang)?;
    Ok(BoardFragment { l: lang, board }.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "rollcall.html")]
struct PeoplePage {
    c: Chrome,
    b: BroadcastView,
    people: Vec<RollcallPerson>,
    grid: String,
    state: String,
    flash: Flash,
}

impl PeoplePage {
    /// Each answer's name, for the script that marks an answer made offline.
    fn names(&self) -> String {
        let l = self.c.l;
        let names: HashMap<&str, &str> = Answer::ALL.iter().map(|a| (a.code(), l.name(a))).collect();
        serde_json::to_string(&names).unwrap_or_default()
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PeopleQuery {
    grid: String,
    state: String,
}

impl PeopleQuery {
    /// The list again; only a grid code's characters and a known state go
    /// into the address.
    fn back(&self, id: i64) -> String {
        let grid: String =
            self.grid.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').take(64).collect();
        let state = Answer::from_code(&self.state).map_or("", |a| a.code());
        format!("/broadcasts/{id}/rollcall?grid={grid}&state={state}")
    }
}

async fn render_people(st: &AppState, c: &Caller, lang: Lang, id: i64, q: PeopleQuery, flash: Flash) -> PageResult {
    let b = st.svc.broadcast(c, id, lang.en()).await.page(lang)?;
    let state = Answer::from_code(&q.state);
    let people = st.svc.rollcall_people(c, id, Some(q.grid.as_str()), state, lang.en()).await.page(lang)?;
    let status = flash.status();
    let chrome = Chrome::for_caller(lang, c, "/broadcasts", &q.back(id));
    Ok((status, PeoplePage { c: chrome, b, people, grid: q.grid, state: q.state, flash }).into_response())
}

async fn people_page(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Query(q): Query<PeopleQuery>,
) -> PageResult {
    render_people(&st, &c, lang, id, q, Flash::default()).await
}

#[derive(Template, WebTemplate)]
#[template(path = "unreachable.html")]
struct UnreachablePage {
    c: Chrome,
    b: BroadcastView,
    people: usize,
    doors: Vec<Door>,
}

/// One knock tells a household: the people of one home together.
struct Door {
    address: String,
    grid_name: String,
    names: Vec<String>,
}

/// The list comes in walking order, so a home's people are neighbours.
fn doors(people: Vec<UnreachablePerson>) -> Vec<Door> {
    let mut out: Vec<Door> = Vec::new();
    for p in people {
        let home = |d: &Door| !p.address.is_empty() && d.address == p.address && d.grid_name == p.grid_name;
        match out.last_mut().filter(|d| home(d)) {
            Some(d) => d.names.push(p.name),
            None => out.push(Door { address: p.address, grid_name: p.grid_name, names: vec![p.name] }),
        }
    }
    out
}

/// Who no channel reaches, to be told at the door.
async fn unreachable_page(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    let b = st.svc.broadcast(&c, id, lang.en()).await.page(lang)?;
    let people = st.svc.unreachable_people(&c, id).await.page(lang)?;
    let chrome = Chrome::for_caller(lang, &c, "/broadcasts", &format!("/broadcasts/{id}/unreachable"));
    Ok(UnreachablePage { c: chrome, b, people: people.len(), doors: doors(people) }.into_response())
}

#[derive(Deserialize)]
struct AnswerForm {
    resident_id: i64,
    answer: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    grid: String,
    #[serde(default)]
    state: String,
}

async fn answer(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<AnswerForm>,
) -> PageResult {
    let q = PeopleQuery { grid: f.grid, state: f.state };
    let r = match Answer::from_code(&f.answer) {
        Some(a) => {
            let input = AnswerInput { resident_id: f.resident_id, answer: a, note: Some(f.note) };
            st.svc.answer_rollcall(&c, id, &input).await
        }
        None => Err(yijia_service::ServiceError::invalid("answer", "请选择", "choose one")),
    };
    match r {
        Ok(_) => Ok(Redirect::to(&format!("{}#p-{}", q.back(id), f.resident_id)).into_response()),
        Err(e) => render_people(&st, &c, lang, id, q, again(e, lang)?).await,
    }
}

#[derive(Deserialize)]
struct SafeForm {
    resident_id: i64,
}

async fn safe(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<SafeForm>,
) -> PageResult {
    match st.svc.answer_safe(&c, id, &SafeInput { resident_id: Some(f.resident_id) }).await {
        Ok(()) => Ok(Redirect::to(&format!("/broadcasts/{id}")).into_response()),
        Err(e) => render_one(&st, &c, lang, id, again(e, lang)?).await,
    }
}

async fn one_page(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    render_one(&st, &c, lang, id, Flash::default()).await
}

async fn confirm(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    match st.svc.confirm_broadcast(&c, id, lang.en()).await {
        Ok(_) => Ok(Redirect::to(&format!("/broadcasts/{id}")).into_response()),
        Err(e) => render_one(&st, &c, lang, id, again(e, lang)?).await,
    }
}

async fn end(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    match st.svc.end_broadcast(&c, id, lang.en()).await {
        Ok(_) => Ok(Redirect::to(&format!("/broadcasts/{id}")).into_response()),
        Err(e) => render_one(&st, &c, lang, id, again(e, lang)?).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "broadcast_banner.html")]
struct Banner {
    l: Lang,
    list: Vec<BroadcastView>,
}

/// The banner of the broadcasts the caller was told of, asked for by every
/// page when it loads and every 30 s.
async fn banner(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    let list = st.svc.current_broadcasts(&c, lang.en()).await.page(lang)?;
    Ok(Banner { l: lang, list }.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: i64, name: &str, address: &str) -> UnreachablePerson {
        UnreachablePerson {
            resident_id: id, name: name.into(), address: address.into(), grid_name: "第1网格".into()
        }
    }

    #[test]
    fn the_people_of_one_home_are_one_knock_and_those_with_no_home_each_their_own() {
        let list = vec![
            person(1, "梁玉燕", "丁香花园 1号楼 2单元 504"),
            person(2, "梁强", "丁香花园 1号楼 2单元 504"),
            person(3, "张丽", "丁香花园 1号楼 4单元 302"),
            person(4, "王五", ""),
            person(5, "赵六", ""),
        ];
        let d = doors(list);
        let names: Vec<Vec<String>> = d.iter().map(|d| d.names.clone()).collect();
        assert_eq!(names, [vec!["梁玉燕", "梁强"], vec!["张丽"], vec!["王五"], vec!["赵六"]]);
    }
}
