//! A copy of everything held about a person, as a page to print and a
//! workbook: the resident's own (`/me/data`), or made for him by staff with
//! a reason (`/residents/{id}/data-copy`).

use super::prelude::*;
use yijia_service::data_copy::{DataCopy, workbook};
use yijia_service::roles::{RESIDENTS, UNMASKERS};

use super::fixable;

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/me/data", Roles(RESIDENTS), Scope::Own, mine)
        .get("/me/data.xlsx", Roles(RESIDENTS), Scope::Own, mine_xlsx)
        .get("/residents/{id}/data-copy", Roles(UNMASKERS), Scope::Object, form)
        .post("/residents/{id}/data-copy", Roles(UNMASKERS), Scope::Object, submit)
}

#[derive(Template, WebTemplate)]
#[template(path = "data_copy.html")]
struct CopyPage {
    c: Chrome,
    copy: DataCopy,
    /// The workbook's link: the resident's own; none when staff made it.
    xlsx: Option<&'static str>,
    back: String,
}

impl CopyPage {
    fn label<'a>(&self, code: &'a str) -> &'a str {
        super::residents::label(&self.c.l, code)
    }

    fn choice(&self, v: &yijia_service::data_copy::CopyVote) -> &'static str {
        let (zh, en) = v.on.choice(v.yes);
        self.c.l.t(zh, en)
    }
}

async fn mine(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    let copy = st.svc.my_data_copy(&c).await.page(lang)?;
    let chrome = Chrome::for_caller(lang, &c, "/me/data", "/me/data");
    Ok(CopyPage { c: chrome, copy, xlsx: Some("/me/data.xlsx"), back: "/".into() }.into_response())
}

async fn mine_xlsx(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    let copy = st.svc.my_data_copy(&c).await.page(lang)?;
    let book = workbook(&copy, lang.en()).page(lang)?;
    Ok(crate::download::xlsx("my-data.xlsx", book))
}

#[derive(Template, WebTemplate)]
#[template(path = "data_copy_form.html")]
struct FormPage {
    c: Chrome,
    id: i64,
    name: String,
    reason: String,
    error: Option<String>,
}

async fn form(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    let name = st.svc.resident_name(&c, id).await.page(lang)?;
    let here = format!("/residents/{id}/data-copy");
    let chrome = Chrome::for_caller(lang, &c, "/residents", &here);
    Ok(FormPage { c: chrome, id, name, reason: String::new(), error: None }.into_response())
}

#[derive(Deserialize)]
struct CopyForm {
    reason: String,
    /// `page` or `xlsx`.
    format: String,
}

async fn submit(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<CopyForm>,
) -> PageResult {
    match st.svc.data_copy_for(&c, id, &f.reason).await {
        Ok(copy) if f.format == "xlsx" => {
            let book = workbook(&copy, lang.en()).page(lang)?;
            Ok(crate::download::xlsx(&format!("resident-{id}-data.xlsx"), book))
        }
        Ok(copy) => {
            let chrome = Chrome::for_caller(lang, &c, "/residents", &format!("/residents/{id}/data-copy"));
            Ok(CopyPage { c: chrome, copy, xlsx: None, back: format!("/residents/{id}") }.into_response())
        }
        Err(e) => {
            let error = Some(fixable(e, lang)?);
            let name = st.svc.resident_name(&c, id).await.page(lang)?;
            let chrome = Chrome::for_caller(lang, &c, "/residents", &format!("/residents/{id}/data-copy"));
            let page = FormPage { c: chrome, id, name, reason: f.reason, error };
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}
