//! Notices: staff post them to the community, a grid or a building and see
//! who read them; a resident opens one from their home page.

use super::prelude::*;
use yijia_service::notices::{NoticeInput, NoticeView, PinInput};
use yijia_service::roles::{NOTICE_PUBLISHERS, NOTICE_READERS, RESIDENTS};
use yijia_service::{Caller, ServiceError};

use super::form::{Flash, local_time, then_to};

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/notices", Roles(NOTICE_READERS), Scope::Grants, notices)
        .post("/notices", Roles(NOTICE_PUBLISHERS), Scope::Named, notice_post)
        .post("/notices/{id}/withdraw", Roles(NOTICE_PUBLISHERS), Scope::Object, notice_withdraw)
        .post("/notices/{id}/pin", Roles(NOTICE_PUBLISHERS), Scope::Object, notice_pin)
        .get("/me/notices", Roles(RESIDENTS), Scope::Own, my_notices)
        .get("/me/notices/{id}", Roles(RESIDENTS), Scope::Own, my_notice)
}

#[derive(Template, WebTemplate)]
#[template(path = "notices.html")]
struct NoticesPage {
    c: Chrome,
    list: Vec<NoticeView>,
    may_post: bool,
    grids: Vec<(String, String)>,
    buildings: Vec<(i64, String)>,
    flash: Flash,
}

impl NoticesPage {
    fn status_name(&self, s: &str) -> &'static str {
        let l = self.c.l;
        match s {
            "scheduled" => l.t("待发布", "scheduled"),
            "current" => l.t("发布中", "current"),
            "ended" => l.t("已结束", "ended"),
            _ => l.t("已撤回", "withdrawn"),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Params {
    ok: Option<String>,
    community: Option<String>,
}

async fn render_notices(st: &AppState, c: &Caller, lang: Lang, community: Option<&str>, flash: Flash) -> PageResult {
    let list = st.svc.notices(c, community).await.page(lang)?;
    let may_post = c.has_any(NOTICE_PUBLISHERS);
    let (grids, buildings) = if may_post {
        let o = st.svc.case_form_options(c, None).await.page(lang)?;
        (o.grids, o.buildings)
    } else {
        (vec![], vec![])
    };
    let status = flash.status();
    let page =
        NoticesPage { c: Chrome::for_caller(lang, c, "/notices", "/notices"), list, may_post, grids, buildings, flash };
    Ok((status, page).into_response())
}

async fn notices(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    if super::must_choose_community(&c, NOTICE_READERS, q.community.as_deref()) {
        return super::choose_community(&st, &c, lang, "/notices", lang.t("公告", "Notices")).await;
    }
    let ok = q.ok.map(|_| lang.t("已保存。", "Saved.").to_owned());
    render_notices(&st, &c, lang, q.community.as_deref(), Flash { ok, error: None }).await
}

async fn after_change<T>(st: &AppState, c: &Caller, lang: Lang, r: Result<T, ServiceError>) -> PageResult {
    then_to(r, "/notices?ok=1", lang, |f| render_notices(st, c, lang, None, f)).await
}

#[derive(Deserialize)]
struct NoticeForm {
    title: String,
    body: String,
    /// empty: the community; `grid:CODE`; `building:ID`.
    #[serde(default)]
    to: String,
    #[serde(default)]
    pinned: Option<String>,
    #[serde(default)]
    publish_from: String,
    #[serde(default)]
    publish_until: String,
}

async fn notice_post(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<NoticeForm>) -> PageResult {
    let r = async {
        let (grid, building_id) = match f.to.split_once(':') {
            Some(("grid", code)) => (Some(code.to_owned()), None),
            Some(("building", id)) => (None, Some(super::form::whole("building_id", id, lang)?)),
            _ => (None, None),
        };
        let time = |s: &str| Some(local_time(s)).filter(|s| !s.is_empty());
        let input = NoticeInput {
            title: f.title,
            body: f.body,
            pinned: f.pinned.is_some(),
            grid,
            building_id,
            publish_from: time(&f.publish_from),
            publish_until: time(&f.publish_until),
        };
        st.svc.post_notice(&c, None, input).await
    };
    let r = r.await;
    after_change(&st, &c, lang, r).await
}

async fn notice_withdraw(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    let r = st.svc.withdraw_notice(&c, id).await;
    after_change(&st, &c, lang, r).await
}

#[derive(Deserialize)]
struct PinForm {
    pinned: String,
}

async fn notice_pin(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<PinForm>,
) -> PageResult {
    let r = st.svc.pin_notice(&c, id, PinInput { pinned: f.pinned == "1" }).await;
    after_change(&st, &c, lang, r).await
}

#[derive(Template, WebTemplate)]
#[template(path = "my_notice.html")]
struct MyNoticePage {
    c: Chrome,
    n: NoticeView,
}

#[derive(Template, WebTemplate)]
#[template(path = "my_notices.html")]
struct MyNoticesPage {
    c: Chrome,
    current: Vec<NoticeView>,
    past: Vec<NoticeView>,
}

/// A resident's notices: those up now, then those that have ended.
async fn my_notices(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    let current = st.svc.my_notices(&c).await.page(lang)?;
    let past = st.svc.my_past_notices(&c).await.page(lang)?;
    Ok(MyNoticesPage { c: Chrome::for_caller(lang, &c, "/", "/me/notices"), current, past }.into_response())
}

async fn my_notice(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    let n = st.svc.read_notice(&c, id).await.page(lang)?;
    let here = format!("/me/notices/{id}");
    Ok(MyNoticePage { c: Chrome::for_caller(lang, &c, "/me/notices", &here), n }.into_response())
}
