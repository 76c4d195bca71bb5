//! 待我审批: one list of what waits for the caller's decision, decided in
//! place with a comment. Approving money asks first for a confirmation that
//! repeats the amount, in figures and in capitals.

use super::form::{Flash, again};
use super::prelude::*;
use crate::error::PageError;
use yijia_domain::project::Fen;
use yijia_service::approvals::{Approvals, Awaiting, AwaitingKind};
use yijia_service::projects::{ExpenseDecision, FundingDecision};
use yijia_service::roles::APPROVERS;
use yijia_service::{Caller, ServiceError};

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/approvals", Roles(APPROVERS), Scope::Grants, approvals)
        .get("/approvals/count", Roles(APPROVERS), Scope::Grants, count)
        .post("/approvals/{kind}/{id}", Roles(APPROVERS), Scope::Object, decide)
}

#[derive(Template, WebTemplate)]
#[template(path = "approvals.html")]
struct ApprovalsPage {
    c: Chrome,
    a: Approvals,
    flash: Flash,
}

impl ApprovalsPage {
    /// The amount as the kind counts it: yuan, or points.
    fn amount(&self, a: &Awaiting) -> String {
        match (a.kind, a.amount) {
            (AwaitingKind::Points, Some(n)) => format!("{n} {}", self.c.l.t("分", "points")),
            (_, Some(fen)) => format!("¥{}", Fen(fen).yuan()),
            (_, None) => String::new(),
        }
    }

    fn is_money(&self, a: &Awaiting) -> bool {
        matches!(a.kind, AwaitingKind::Funding | AwaitingKind::Expense)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "approvals_confirm.html")]
struct ConfirmPage {
    c: Chrome,
    item: Awaiting,
    /// The amount to approve, in fen.
    amount: i64,
    yuan: String,
    capitals: String,
    note: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Params {
    done: Option<String>,
}

async fn render(st: &AppState, c: &Caller, lang: Lang, flash: Flash) -> PageResult {
    let a = st.svc.approvals(c).await.page(lang)?;
    let status = flash.status();
    Ok((status, ApprovalsPage { c: Chrome::for_caller(lang, c, "/approvals", "/approvals"), a, flash }).into_response())
}

async fn approvals(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    let ok = q.done.map(|d| match d.as_str() {
        "approved" => lang.t("已批准。", "Approved.").to_owned(),
        _ => lang.t("已退回,意见已记下。", "Refused; your comment is kept.").to_owned(),
    });
    render(&st, &c, lang, Flash { ok, error: None }).await
}

/// The figure beside 待我审批 in the menu (empty when nothing waits).
async fn count(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    let n = st.svc.approvals_waiting(&c).await.page(lang)?;
    let body = if n == 0 { String::new() } else { format!("<span class=\"count\">{n}</span>") };
    Ok(axum::response::Html(body).into_response())
}

#[derive(Deserialize)]
struct DecideForm {
    /// `approve` or `reject`.
    decision: String,
    #[serde(default)]
    note: String,
    /// Yuan approved of a funding application (empty: all that was asked).
    #[serde(default)]
    approved: String,
    /// The amount, in fen, the confirmation page repeated.
    #[serde(default)]
    confirmed: String,
}

async fn decide(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path((kind, id)): Path<(String, String)>,
    Form(f): Form<DecideForm>,
) -> PageResult {
    let Some(kind) = AwaitingKind::from_code(&kind) else { return Err(not_found(lang)) };
    let approve = match f.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            let e = ServiceError::invalid("decision", "请选择批准或退回", "choose approve or refuse");
            return render(&st, &c, lang, again(e, lang)?).await;
        }
    };
    let note = Some(f.note.trim().to_owned()).filter(|n| !n.is_empty());
    let r = match kind {
        AwaitingKind::Funding | AwaitingKind::Expense if approve => {
            // not waiting for this caller: refused by the service (and audited)
            let item = match st.svc.awaiting(&c, kind, &id).await {
                Ok(item) => item,
                Err(ServiceError::NotFound) => return render(&st, &c, lang, gone(lang)).await,
                Err(e) => return Err(e).page(lang),
            };
            // an expense is approved whole; a funding application in part, if typed
            let amount = match (kind, f.approved.trim()) {
                (AwaitingKind::Expense, _) | (_, "") => item.amount.unwrap_or_default(),
                (_, typed) => match Fen::parse_yuan("approved", typed) {
                    Ok(a) => a.0,
                    Err(e) => return render(&st, &c, lang, again(e.into(), lang)?).await,
                },
            };
            // the officer sees the amount once more, in capitals, before money moves
            if f.confirmed.trim() != amount.to_string() {
                let error = (!f.confirmed.is_empty()).then(|| {
                    lang.t(
                        "金额与确认的不一致,请再核对一次。",
                        "The amount differs from the one confirmed: check again.",
                    )
                    .to_owned()
                });
                let page = ConfirmPage {
                    c: Chrome::for_caller(lang, &c, "/approvals", "/approvals"),
                    yuan: Fen(amount).yuan(),
                    capitals: Fen(amount).in_capitals(),
                    amount,
                    item,
                    note: f.note,
                    error,
                };
                return Ok(page.into_response());
            }
            let num = whole(&id, lang)?;
            if kind == AwaitingKind::Funding {
                let d = FundingDecision { approve: true, approved: Some(amount), note };
                st.svc.decide_funding(&c, num, d).await.map(|_| ())
            } else {
                st.svc.decide_expense(&c, num, ExpenseDecision { approve: true, note }).await.map(|_| ())
            }
        }
        AwaitingKind::Funding => {
            let d = FundingDecision { approve: false, approved: None, note };
            st.svc.decide_funding(&c, whole(&id, lang)?, d).await.map(|_| ())
        }
        AwaitingKind::Expense => {
            st.svc.decide_expense(&c, whole(&id, lang)?, ExpenseDecision { approve: false, note }).await.map(|_| ())
        }
        AwaitingKind::Export => {
            st.svc.decide_unmasked_export(&c, whole(&id, lang)?, approve, note.as_deref()).await.map(|_| ())
        }
        AwaitingKind::Points => st.svc.decide_approval(&c, &id, approve, note.as_deref()).await.map(|_| ()),
    };
    let to = if approve { "/approvals?done=approved" } else { "/approvals?done=refused" };
    super::form::then_to(r, to, lang, |flash| render(&st, &c, lang, flash)).await
}

/// An item that no longer waits (decided meanwhile, or not the caller's).
fn gone(l: Lang) -> Flash {
    let error =
        l.t("这一项已不在待审批中(可能已由他人处理)。", "This item no longer waits (someone may have decided it).");
    Flash { ok: None, error: Some(error.to_owned()) }
}

fn whole(id: &str, l: Lang) -> Result<i64, PageError> {
    id.parse().map_err(|_| not_found(l))
}

fn not_found(l: Lang) -> PageError {
    PageError(Box::new(crate::error::error_page(&ServiceError::NotFound, l)))
}
