//! Moving, as pages: within the community or to another in yijia from the
//! record (`/residents/{id}/move`), and the transfers waiting for a
//! community to take someone over (`/transfers`).

use super::prelude::*;
use yijia_domain::life::Informant;
use yijia_service::moves::{MoveInput, ResidentTransfer, ResidentTransferInput, TransferAccept, TransferRefuse};
use yijia_service::registry::{HouseholdInput, ResidentView};
use yijia_service::roles::{REGISTRARS, TRANSFER_DECIDERS};
use yijia_service::{Caller, ServiceError};

use super::form::{Flash, again};

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/residents/{id}/move", Roles(REGISTRARS), Scope::Object, form)
        .post("/residents/{id}/move", Roles(REGISTRARS), Scope::Object, move_within)
        .post("/residents/{id}/transfer", Roles(REGISTRARS), Scope::Object, transfer)
        .get("/transfers", Roles(REGISTRARS), Scope::Grants, inbox)
        .post("/transfers/{id}/accept", Roles(TRANSFER_DECIDERS), Scope::Object, accept)
        .post("/transfers/{id}/refuse", Roles(TRANSFER_DECIDERS), Scope::Object, refuse)
}

/// What the move and transfer forms send.
#[derive(Deserialize, Default)]
struct MoveForm {
    #[serde(default)]
    grid: String,
    #[serde(default)]
    community: String,
    #[serde(default)]
    estate: String,
    #[serde(default)]
    building: String,
    #[serde(default)]
    entrance: String,
    #[serde(default)]
    door: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    version: i64,
    #[serde(default)]
    note: String,
}

impl MoveForm {
    fn household(&self) -> HouseholdInput {
        HouseholdInput {
            estate: self.estate.clone(),
            building: self.building.clone(),
            entrance: self.entrance.clone(),
            door: self.door.clone(),
        }
    }

    fn source(&self) -> Result<Informant, ServiceError> {
        Informant::from_code(&self.source)
            .ok_or_else(|| ServiceError::invalid("source", "请选择消息来源", "choose who told us"))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "resident_move.html")]
struct MovePage {
    c: Chrome,
    r: ResidentView,
    grids: Vec<(String, String)>,
    communities: Vec<(String, String, String)>,
    today: String,
    form: MoveForm,
    flash: Flash,
}

async fn render(st: &AppState, c: &Caller, lang: Lang, id: i64, form: MoveForm, flash: Flash) -> PageResult {
    let r = st.svc.get_resident(c, id).await.page(lang)?;
    let communities = st.svc.transfer_targets(c, id).await.page(lang)?;
    let grids = super::residents::grid_options(st, c, lang).await?;
    let today = yijia_domain::time::to_local(st.svc.now()).format("%Y-%m-%d").to_string();
    let status = flash.status();
    let chrome = Chrome::for_caller(lang, c, "/residents", &format!("/residents/{id}/move"));
    Ok((status, MovePage { c: chrome, r, grids, communities, today, form, flash }).into_response())
}

async fn form(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    render(&st, &c, lang, id, MoveForm::default(), Flash::default()).await
}

async fn move_within(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<MoveForm>,
) -> PageResult {
    let r = match f.source() {
        Ok(source) => {
            let input = MoveInput {
                grid: f.grid.clone(),
                household: f.household(),
                on: f.on.clone(),
                reason: f.reason.clone(),
                source,
                version: f.version,
            };
            st.svc.move_resident(&c, id, input).await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Ok(Redirect::to(&format!("/residents/{id}")).into_response()),
        Err(e) => render(&st, &c, lang, id, f, again(e, lang)?).await,
    }
}

async fn transfer(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<MoveForm>,
) -> PageResult {
    let r = match f.source() {
        Ok(source) => {
            let input = ResidentTransferInput {
                community: f.community.clone(),
                on: f.on.clone(),
                reason: f.reason.clone(),
                source,
                address: f.address.clone(),
            };
            st.svc.request_transfer(&c, id, input).await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => Ok(Redirect::to("/transfers?done=asked").into_response()),
        Err(e) => render(&st, &c, lang, id, f, again(e, lang)?).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "transfers.html")]
struct InboxPage {
    c: Chrome,
    list: Vec<ResidentTransfer>,
    grids: Vec<(String, String)>,
    flash: Flash,
}

async fn render_inbox(st: &AppState, c: &Caller, lang: Lang, flash: Flash) -> PageResult {
    let list = st.svc.transfers(c).await.page(lang)?;
    let grids = super::residents::grid_options(st, c, lang).await?;
    let status = flash.status();
    let chrome = Chrome::for_caller(lang, c, "/transfers", "/transfers");
    Ok((status, InboxPage { c: chrome, list, grids, flash }).into_response())
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

async fn inbox(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Done>) -> PageResult {
    let ok = q.done.map(|d| match d.as_str() {
        "asked" => lang.t("已发出,等对方社区接收。", "Sent: waiting for the other community.").to_owned(),
        "accepted" => lang.t("已接收,档案已转入。", "Accepted: the record is yours now.").to_owned(),
        _ => lang.t("已退回,原因已记下。", "Refused; the reason is kept.").to_owned(),
    });
    render_inbox(&st, &c, lang, Flash { ok, error: None }).await
}

async fn accept(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<MoveForm>,
) -> PageResult {
    let input = TransferAccept { grid: f.grid.clone(), household: f.household() };
    let r = st.svc.accept_transfer(&c, id, input).await;
    super::form::then_to(r, "/transfers?done=accepted", lang, |flash| render_inbox(&st, &c, lang, flash)).await
}

async fn refuse(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<MoveForm>,
) -> PageResult {
    let r = st.svc.refuse_transfer(&c, id, TransferRefuse { note: f.note.clone() }).await;
    super::form::then_to(r, "/transfers?done=refused", lang, |flash| render_inbox(&st, &c, lang, flash)).await
}
