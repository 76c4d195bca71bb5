//! Family proxies in pages: staff link a family member to a resident on
//! the resident's page; the resident and the family member see the link
//! and may end it.

use super::prelude::*;
use yijia_domain::proxy::{Act, Consent};
use yijia_service::proxies::{EndProxyInput, ProxyInput, ProxyView};
use yijia_service::roles::{PROXY_ENDERS, REGISTRARS, RESIDENT_READERS, RESIDENTS};
use yijia_service::{Caller, ServiceError};

use super::form::Flash;

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/residents/{id}/proxies", Roles(RESIDENT_READERS), Scope::Object, proxies)
        .upload("/residents/{id}/proxies", crate::PHOTO_BODY_LIMIT, Roles(REGISTRARS), Scope::Object, link)
        .post("/proxies/{id}/end", Roles(PROXY_ENDERS), Scope::Object, end)
        .post("/proxies/{id}/renew", Roles(REGISTRARS), Scope::Object, renew)
        .get("/me/proxies", Roles(RESIDENTS), Scope::Own, mine)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Params {
    ok: Option<String>,
}

fn saved(ok: Option<String>, l: Lang) -> Flash {
    Flash { ok: ok.map(|_| l.t("已保存。", "Saved.").to_owned()), error: None }
}

#[derive(Template, WebTemplate)]
#[template(path = "proxies.html")]
struct ProxiesPage {
    c: Chrome,
    resident_id: i64,
    name: String,
    list: Vec<ProxyView>,
    may_link: bool,
    code: Option<String>,
    /// Where an ended link returns to.
    back: String,
    acts: [Act; 4],
    consents: [Consent; 2],
    flash: Flash,
}

async fn render(st: &AppState, c: &Caller, lang: Lang, id: i64, code: Option<String>, flash: Flash) -> PageResult {
    let found = st.svc.proxies_of(c, id).await.page(lang)?;
    let status = flash.status();
    let page = ProxiesPage {
        c: Chrome::for_caller(lang, c, "/residents", &format!("/residents/{id}/proxies")),
        resident_id: id,
        name: found.name,
        list: found.proxies,
        may_link: c.has_any(REGISTRARS),
        code,
        back: format!("/residents/{id}/proxies"),
        acts: Act::ALL,
        consents: Consent::ALL,
        flash,
    };
    Ok((status, page).into_response())
}

async fn proxies(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Query(q): Query<Params>,
) -> PageResult {
    render(&st, &c, lang, id, None, saved(q.ok, lang)).await
}

async fn link(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    form: axum::extract::Multipart,
) -> PageResult {
    let r = async {
        let u = crate::upload::read(form, "consent_photo")
            .await
            .map_err(|(_, m)| ServiceError::invalid("consent_photo", m.clone(), m))?;
        st.svc.link_proxy(&c, id, proxy_input(&u), u.files).await
    };
    match r.await {
        // the code is shown once, here, never put in a link
        Ok(v) => {
            let ok = Flash { ok: Some(lang.t("已登记。", "Linked.").to_owned()), error: None };
            render(&st, &c, lang, id, v.code, ok).await
        }
        Err(e) => render(&st, &c, lang, id, None, super::form::again(e, lang)?).await,
    }
}

/// What the form (or the API's multipart body) carries.
pub(crate) fn proxy_input(u: &crate::upload::Upload) -> ProxyInput {
    ProxyInput {
        family_name: u.text("family_name").to_owned(),
        phone: u.text("phone").to_owned(),
        relation: u.text("relation").to_owned(),
        acts: u.list("acts"),
        consent: u.text("consent").to_owned(),
    }
}

#[derive(Deserialize)]
struct EndForm {
    #[serde(default)]
    reason: String,
    /// Where the form was: `/me/proxies` or a resident's proxies page.
    back: String,
}

async fn end(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<EndForm>,
) -> PageResult {
    let r = st.svc.end_proxy(&c, id, EndProxyInput { reason: Some(f.reason) }).await;
    // back where the form was: the resident's own page, or staff's
    let mine = f.back == "/me/proxies";
    match r {
        Ok(_) if mine => Ok(Redirect::to("/me/proxies?ok=1").into_response()),
        Ok(v) => Ok(Redirect::to(&format!("/residents/{}/proxies?ok=1", v.resident_id)).into_response()),
        Err(e) if mine => render_mine(&st, &c, lang, super::form::again(e, lang)?).await,
        Err(e) => Err(e).page(lang),
    }
}

async fn renew(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    let v = st.svc.renew_proxy(&c, id).await.page(lang)?;
    Ok(Redirect::to(&format!("/residents/{}/proxies?ok=1", v.resident_id)).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "my_proxies.html")]
struct MyProxiesPage {
    c: Chrome,
    list: Vec<ProxyView>,
    mine_as_family: bool,
    flash: Flash,
}

async fn render_mine(st: &AppState, c: &Caller, lang: Lang, flash: Flash) -> PageResult {
    let list = st.svc.my_proxies(c).await.page(lang)?;
    let status = flash.status();
    let page = MyProxiesPage {
        c: Chrome::for_caller(lang, c, "/me/proxies", "/me/proxies"),
        list,
        mine_as_family: c.proxy.is_some(),
        flash,
    };
    Ok((status, page).into_response())
}

async fn mine(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    render_mine(&st, &c, lang, saved(q.ok, lang)).await
}
