//! 待我审批: everything that waits for the caller's decision, in one list:
//! funding applications and expenses above the limit (the street officer),
//! exports of personal data in full (a secretary or street officer other
//! than the one who asked), point adjustments above the limit (a second
//! keeper). Each kind is still decided by its own use case; this only
//! gathers them, with what was decided lately and what the approver said.

use serde::Serialize;
pub use yijia_domain::approval::AwaitingKind;
use yijia_domain::points::ApprovalStatus;
use yijia_domain::project::{ExpenseStatus, FundingStatus, Source};
use yijia_domain::registry::ExportStatus;
use yijia_domain::role::Role;
use yijia_domain::time::{DAY_MS, display};
use yijia_store::{Tx, cases, exports, points, projects};

use crate::points::LegInput;
use crate::roles::{EXPORT_APPROVERS, POINT_KEEPERS, PROJECT_APPROVERS};
use crate::{Caller, Result, Services};

/// Decisions made this many days back stay on the list, with their notes.
pub const DECIDED_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Awaiting {
    pub kind: AwaitingKind,
    /// The item's own id: a funding, expense or export id, or an
    /// adjustment's client id.
    pub id: String,
    /// The project, for a funding application or an expense.
    pub project_id: Option<i64>,
    pub community_name: String,
    /// The project's title, the export's category (empty: all residents),
    /// the adjustment's memo.
    pub title: String,
    /// The title in English where it is a name yijia gives (a category); else as `title`.
    pub title_en: String,
    /// Where the money of a funding application is to come from.
    pub source: Option<Source>,
    /// The application's note, what was bought, why the export is needed.
    pub detail: String,
    /// Fen for money, points for an adjustment; none for an export.
    pub amount: Option<i64>,
    pub asked_by: String,
    pub asked_at: String,
    /// `pending` while it waits for you.
    pub status: ApprovalStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// For a funding application approved in part: the amount approved.
    pub approved: Option<i64>,
    /// What the approver said.
    pub note: Option<String>,
    /// You may decide it (it waits, it is in your scope, you did not ask).
    pub can_decide: bool,
    /// When it was asked and decided, to order the lists.
    #[serde(skip)]
    pub asked_ms: i64,
    #[serde(skip)]
    pub decided_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Approvals {
    /// Waiting for you, oldest first.
    pub waiting: Vec<Awaiting>,
    /// Decided in the last 30 days in your scope, newest first.
    pub decided: Vec<Awaiting>,
}

impl Services {
    /// Everything awaiting the caller's decision, and what was decided
    /// lately. Empty for a role that approves nothing.
    pub async fn approvals(&self, caller: &Caller) -> Result<Approvals> {
        let since = self.now() - DECIDED_DAYS * DAY_MS;
        let mut all = Vec::new();
        let mut tx = self.db.read().await?;
        for path in caller.scope_paths(PROJECT_APPROVERS) {
            for f in projects::fundings_under(&mut tx, &path, since).await? {
                all.push(funding(f));
            }
            for x in projects::expenses_under(&mut tx, &path, since).await? {
                all.push(expense(x));
            }
        }
        for path in caller.scope_paths(EXPORT_APPROVERS) {
            for a in exports::list(&mut tx, std::slice::from_ref(&path), 200).await? {
                let recent = a.status == ExportStatus::Pending || a.decided_at.is_some_and(|t| t >= since);
                if recent {
                    all.push(export(caller, a));
                }
            }
        }
        for path in caller.scope_paths(POINT_KEEPERS) {
            for (a, community) in points::approvals_under(&mut tx, &path, since).await? {
                // the legs were validated when asked; unreadable now is an error, never zero points
                let legs: Vec<LegInput> = serde_json::from_str(&a.legs)?;
                let mut to = Vec::with_capacity(legs.len());
                for l in &legs {
                    to.push(account_name(&mut tx, l.to).await?);
                }
                all.push(adjustment(caller, a, community, &legs, &to));
            }
        }
        tx.commit().await?;
        // a grant on a subdistrict and one on its community meet the same item
        all.sort_by(|a, b| (a.kind.code(), &a.id).cmp(&(b.kind.code(), &b.id)));
        all.dedup_by(|a, b| a.kind == b.kind && a.id == b.id);
        let (mut waiting, mut decided): (Vec<_>, Vec<_>) =
            all.into_iter().partition(|a| a.status == ApprovalStatus::Pending);
        // an item the caller may not decide (his own request) is not his to wait on
        waiting.retain(|a| a.can_decide);
        waiting.sort_by_key(|a| a.asked_ms);
        decided.sort_by_key(|a| std::cmp::Reverse(a.decided_ms));
        decided.truncate(50);
        Ok(Approvals { waiting, decided })
    }

    /// One item waiting for the caller's decision. Anything else (another
    /// scope's, decided already, their own request) is refused, and the
    /// refusal is in the audit log.
    pub async fn awaiting(&self, caller: &Caller, kind: AwaitingKind, id: &str) -> Result<Awaiting> {
        let found = self.approvals(caller).await?.waiting.into_iter().find(|a| a.kind == kind && a.id == id);
        match found {
            Some(a) => Ok(a),
            None => Err(self.deny(caller, "approval_decide", &format!("{}:{id}", kind.code())).await),
        }
    }

    /// How many items wait for the caller: the figure in the menu.
    pub async fn approvals_waiting(&self, caller: &Caller) -> Result<usize> {
        Ok(self.approvals(caller).await?.waiting.len())
    }
}

/// Who decides an item of this kind, within their scope.
pub(crate) fn deciders(kind: AwaitingKind) -> &'static [Role] {
    match kind {
        AwaitingKind::Funding | AwaitingKind::Expense => PROJECT_APPROVERS,
        AwaitingKind::Export => EXPORT_APPROVERS,
        AwaitingKind::Points => POINT_KEEPERS,
    }
}

/// Where an item waiting for a decision was asked, and by whom.
pub(crate) struct Asked<'a> {
    pub kind: AwaitingKind,
    pub id: &'a str,
    pub community_id: i64,
    pub community_path: &'a str,
    pub asked_by: Option<i64>,
}

/// Puts an ask into the outbox in the ask's own transaction: the
/// dispatcher tells those who may decide it.
pub(crate) async fn tell_deciders(tx: &mut Tx, now: i64, a: &Asked<'_>) -> Result<()> {
    let payload = serde_json::json!({ "community": a.community_id, "asked_by": a.asked_by }).to_string();
    let object = format!("{}:{}", a.kind.code(), a.id);
    cases::push_outbox(tx, now, "approval.asked", a.community_path, &object, &payload).await?;
    Ok(())
}

/// Whether an item still waits for a decision (one decided before the
/// dispatcher came to it tells nobody).
pub(crate) async fn still_waiting(tx: &mut Tx, kind: AwaitingKind, id: &str) -> Result<bool> {
    let num = || id.parse::<i64>().ok();
    Ok(match kind {
        AwaitingKind::Funding => match num() {
            Some(n) => projects::funding(tx, n).await?.is_some_and(|f| f.status == FundingStatus::Applied),
            None => false,
        },
        AwaitingKind::Expense => match num() {
            Some(n) => projects::expense(tx, n).await?.is_some_and(|x| x.status == ExpenseStatus::Pending),
            None => false,
        },
        AwaitingKind::Export => match num() {
            Some(n) => exports::get(tx, n).await?.is_some_and(|a| a.status == ExportStatus::Pending),
            None => false,
        },
        AwaitingKind::Points => points::approval(tx, id).await?.is_some_and(|a| a.status == ApprovalStatus::Pending),
    })
}

fn funding(f: projects::InProject<projects::Funding>) -> Awaiting {
    let projects::InProject { item: f, project_title, community_name } = f;
    Awaiting {
        kind: AwaitingKind::Funding,
        id: f.id.to_string(),
        project_id: Some(f.project_id),
        community_name,
        title_en: project_title.clone(),
        title: project_title,
        source: Some(f.source),
        detail: f.note,
        amount: Some(f.asked),
        asked_by: f.applied_by,
        asked_at: display(f.applied_at),
        asked_ms: f.applied_at,
        decided_ms: f.decided_at,
        status: match f.status {
            FundingStatus::Applied => ApprovalStatus::Pending,
            FundingStatus::Approved => ApprovalStatus::Approved,
            FundingStatus::Rejected => ApprovalStatus::Rejected,
        },
        decided_by: f.decided_by,
        decided_at: f.decided_at.map(display),
        approved: f.approved,
        note: f.decision_note.filter(|n| !n.is_empty()),
        // the scope query found it; the street officer decides every one
        can_decide: f.status == FundingStatus::Applied,
    }
}

fn expense(x: projects::InProject<projects::Expense>) -> Awaiting {
    let projects::InProject { item: x, project_title, community_name } = x;
    Awaiting {
        kind: AwaitingKind::Expense,
        id: x.id.to_string(),
        project_id: Some(x.project_id),
        community_name,
        title_en: project_title.clone(),
        title: project_title,
        source: None,
        detail: format!("{} · {} · {}", x.line_name, x.description, x.payee),
        amount: Some(x.amount),
        asked_by: x.recorded_by,
        asked_at: display(x.recorded_at),
        asked_ms: x.recorded_at,
        decided_ms: x.decided_at,
        status: match x.status {
            ExpenseStatus::Pending | ExpenseStatus::Recorded => ApprovalStatus::Pending,
            ExpenseStatus::Approved => ApprovalStatus::Approved,
            ExpenseStatus::Rejected => ApprovalStatus::Rejected,
        },
        decided_by: x.decided_by,
        decided_at: x.decided_at.map(display),
        approved: None,
        note: x.decision_note.filter(|n| !n.is_empty()),
        can_decide: x.status == ExpenseStatus::Pending,
    }
}

fn export(caller: &Caller, a: exports::Approval) -> Awaiting {
    let can_decide = a.status == ExportStatus::Pending
        && caller.covers(EXPORT_APPROVERS, &a.community_path)
        && caller.user_id != Some(a.requested_by);
    Awaiting {
        kind: AwaitingKind::Export,
        id: a.id.to_string(),
        project_id: None,
        community_name: a.community_name,
        title_en: match a.category.as_deref().map(yijia_domain::registry::Category::parse) {
            Some(Some(c)) => c.name_en().to_owned(),
            _ => a.category_name.clone().unwrap_or_default(),
        },
        title: a.category_name.unwrap_or_default(),
        source: None,
        detail: a.reason,
        amount: None,
        asked_by: a.requested_name,
        asked_at: display(a.requested_at),
        asked_ms: a.requested_at,
        decided_ms: a.decided_at,
        status: match a.status {
            ExportStatus::Pending => ApprovalStatus::Pending,
            ExportStatus::Approved | ExportStatus::Used => ApprovalStatus::Approved,
            ExportStatus::Rejected => ApprovalStatus::Rejected,
        },
        decided_by: a.decided_name,
        decided_at: a.decided_at.map(display),
        approved: None,
        note: a.decision_note.filter(|n| !n.is_empty()),
        can_decide,
    }
}

fn adjustment(
    caller: &Caller,
    a: points::Approval,
    community_name: String,
    legs: &[LegInput],
    to: &[String],
) -> Awaiting {
    let memos: Vec<&str> = legs.iter().map(|l| l.memo.as_str()).filter(|m| !m.is_empty()).collect();
    // who gets how many: the memo says why, this says to whom
    let detail = legs.iter().zip(to).map(|(l, who)| format!("{who} {:+}", l.amount)).collect::<Vec<_>>().join(" · ");
    Awaiting {
        kind: AwaitingKind::Points,
        can_decide: a.status == ApprovalStatus::Pending && caller.user_id.is_some() && caller.user_id != a.asked_by,
        id: a.client_id,
        project_id: None,
        community_name,
        title: memos.first().map(|m| (*m).to_owned()).unwrap_or_default(),
        title_en: memos.first().map(|m| (*m).to_owned()).unwrap_or_default(),
        source: None,
        detail,
        amount: Some(legs.iter().map(|l| l.amount).sum()),
        asked_by: a.asked_by_name,
        asked_at: display(a.asked_at),
        asked_ms: a.asked_at,
        decided_ms: a.decided_at,
        status: a.status,
        decided_by: a.decided_by,
        decided_at: a.decided_at.map(display),
        approved: None,
        note: a.reason.filter(|n| !n.is_empty()),
    }
}

/// Whose account: the resident's name, or the community account's kind.
async fn account_name(tx: &mut yijia_store::Tx, id: i64) -> Result<String> {
    let Some(acc) = points::account(tx, id).await? else { return Ok(format!("#{id}")) };
    Ok(match acc.resident_id {
        Some(r) => yijia_store::residents::get(tx, r).await?.map(|r| r.name).unwrap_or_else(|| format!("#{id}")),
        None => acc.kind.name_zh().to_owned(),
    })
}
