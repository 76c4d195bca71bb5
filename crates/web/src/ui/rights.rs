//! A person's rights over their record, as pages: a resident asks for a
//! correction or an erasure (`/me/requests`), staff ask for someone without
//! a phone (`/residents/{id}/record-request`), the secretary answers and
//! sets how long the data of people who left is kept (`/record-requests`).

use super::prelude::*;
use yijia_domain::rights::RequestKind;
use yijia_service::erasure::{RetentionInput, RetentionView};
use yijia_service::record_requests::{RecordRequestAnswer, RecordRequestInput, RecordRequestView};
use yijia_service::roles::{RECORD_REQUEST_DECIDERS, RECORD_REQUEST_READERS, REGISTRARS, RESIDENTS, RETENTION_SETTERS};
use yijia_service::{Caller, ServiceError};

use super::fixable;
use super::form::{Flash, again};

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/me/requests", Roles(RESIDENTS), Scope::Own, mine)
        .post("/me/requests", Roles(RESIDENTS), Scope::Own, ask_mine)
        .get("/residents/{id}/record-request", Roles(REGISTRARS), Scope::Object, staff_form)
        .post("/residents/{id}/record-request", Roles(REGISTRARS), Scope::Object, ask_for)
        .get("/record-requests", Roles(RECORD_REQUEST_READERS), Scope::Grants, inbox)
        .post("/record-requests/{id}/answer", Roles(RECORD_REQUEST_DECIDERS), Scope::Object, answer)
        .post("/record-requests/retention", Roles(RETENTION_SETTERS), Scope::Named, set_retention)
}

/// What the request form sends.
#[derive(Deserialize, Default)]
struct AskForm {
    /// `correction` or `erasure`.
    kind: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    evidence: String,
    #[serde(default)]
    reason: String,
}

impl AskForm {
    fn input(&self, staff: bool) -> Result<RecordRequestInput, ServiceError> {
        let kind = RequestKind::from_code(&self.kind)
            .ok_or_else(|| ServiceError::invalid("kind", "请选择更正还是删除", "choose a correction or an erasure"))?;
        Ok(RecordRequestInput {
            kind,
            body: self.body.clone(),
            evidence: self.evidence.clone(),
            reason: staff.then(|| self.reason.clone()),
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "my_requests.html")]
struct MinePage {
    c: Chrome,
    list: Vec<RecordRequestView>,
    form: AskForm,
    flash: Flash,
}

async fn render_mine(st: &AppState, c: &Caller, lang: Lang, form: AskForm, flash: Flash) -> PageResult {
    let list = st.svc.my_record_requests(c).await.page(lang)?;
    let status = flash.status();
    let page = MinePage { c: Chrome::for_caller(lang, c, "/me/requests", "/me/requests"), list, form, flash };
    Ok((status, page).into_response())
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

async fn mine(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Done>) -> PageResult {
    let ok = q
        .done
        .map(|_| lang.t("申请已提交,社区书记会答复您。", "Sent: the community secretary will answer you.").to_owned());
    render_mine(&st, &c, lang, AskForm::default(), Flash { ok, error: None }).await
}

async fn ask_mine(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<AskForm>) -> PageResult {
    let r = match f.input(false) {
        Ok(input) => st.svc.ask_about_my_record(&c, input).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => Ok(Redirect::to("/me/requests?done=1").into_response()),
        Err(e) => render_mine(&st, &c, lang, f, again(e, lang)?).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "record_request_form.html")]
struct StaffPage {
    c: Chrome,
    id: i64,
    name: String,
    form: AskForm,
    error: Option<String>,
}

async fn staff_form(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    let name = st.svc.resident_name(&c, id).await.page(lang)?;
    let chrome = Chrome::for_caller(lang, &c, "/residents", &format!("/residents/{id}/record-request"));
    let form = AskForm { kind: "correction".into(), ..AskForm::default() };
    Ok(StaffPage { c: chrome, id, name, form, error: None }.into_response())
}

async fn ask_for(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<AskForm>,
) -> PageResult {
    let r = match f.input(true) {
        Ok(input) => st.svc.ask_for_resident(&c, id, input).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/residents/{id}?requested=1")).into_response()),
        Err(e) => {
            let error = Some(fixable(e, lang)?);
            let name = st.svc.resident_name(&c, id).await.page(lang)?;
            let chrome = Chrome::for_caller(lang, &c, "/residents", &format!("/residents/{id}/record-request"));
            let page = StaffPage { c: chrome, id, name, form: f, error };
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "record_requests.html")]
struct InboxPage {
    c: Chrome,
    list: Vec<RecordRequestView>,
    retention: Vec<RetentionView>,
    flash: Flash,
}

impl InboxPage {
    fn waiting(&self) -> usize {
        self.list.iter().filter(|q| q.state == yijia_domain::rights::RequestState::Waiting).count()
    }
}

async fn render_inbox(st: &AppState, c: &Caller, lang: Lang, flash: Flash) -> PageResult {
    let list = st.svc.record_requests(c).await.page(lang)?;
    let retention = st.svc.retentions(c).await.page(lang)?;
    let status = flash.status();
    let page =
        InboxPage { c: Chrome::for_caller(lang, c, "/record-requests", "/record-requests"), list, retention, flash };
    Ok((status, page).into_response())
}

async fn inbox(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Done>) -> PageResult {
    let ok = q.done.map(|d| match d.as_str() {
        "erased" => lang.t("已同意,此人的个人信息已删除。", "Granted: this person's data is erased.").to_owned(),
        "retention" => lang.t("保存期限已更新。", "The retention is set.").to_owned(),
        _ => lang.t("已答复,居民能看到。", "Answered: the resident sees it.").to_owned(),
    });
    render_inbox(&st, &c, lang, Flash { ok, error: None }).await
}

#[derive(Deserialize)]
struct AnswerForm {
    /// `done` or `refused`.
    decision: String,
    #[serde(default)]
    answer: String,
}

async fn answer(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<AnswerForm>,
) -> PageResult {
    let done = match f.decision.as_str() {
        "done" => true,
        "refused" => false,
        _ => {
            let e = ServiceError::invalid("decision", "请选择办理还是不予办理", "choose done or refused");
            return render_inbox(&st, &c, lang, again(e, lang)?).await;
        }
    };
    match st.svc.answer_record_request(&c, id, RecordRequestAnswer { done, answer: f.answer }).await {
        Ok(v) if v.erasure.is_some() => Ok(Redirect::to("/record-requests?done=erased").into_response()),
        Ok(_) => Ok(Redirect::to("/record-requests?done=answered").into_response()),
        Err(e) => render_inbox(&st, &c, lang, again(e, lang)?).await,
    }
}

#[derive(Deserialize)]
struct RetentionForm {
    community: String,
    years: String,
}

async fn set_retention(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Form(f): Form<RetentionForm>,
) -> PageResult {
    let r = match super::form::whole("years", &f.years, lang) {
        Ok(years) => st.svc.set_retention(&c, &f.community, RetentionInput { years }).await.map(|_| ()),
        Err(e) => Err(e),
    };
    super::form::then_to(r, "/record-requests?done=retention", lang, |flash| render_inbox(&st, &c, lang, flash)).await
}
