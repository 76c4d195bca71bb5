//! Repair projects (修缮项目): a project on buildings, linked to the hazard
//! cases it will fix; money sought from named sources and approved by the
//! street officer; a budget by line; expenses (the street officer approves
//! those above the community's limit); milestones; and the residents of
//! the buildings voting to accept the work, which closes the hazards and
//! starts the warranty. The public spending board shows the money and no
//! personal data.

use chrono::Months;
use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::Msg;
use yijia_domain::ballot::ByChannel;
use yijia_domain::org::OrgKind;
use yijia_domain::project::{self as rules, ExpenseStatus, Fen, FundingStatus, Source, Stage};
use yijia_domain::proxy::Act;
use yijia_domain::role::Role;
use yijia_domain::time::{rfc3339, to_local};
use yijia_store::projects::{self as store, Expense, Funding, NewExpense, Project};
use yijia_store::{Tx, cases, org, places};

use crate::approvals::{Asked, AwaitingKind, tell_deciders};
use crate::audit::{Event, record};
use crate::error::on_conflict;
use crate::fields::{optional_text, text};
use crate::files::BoxFuture;
use crate::invitations::own_record_as;
use crate::roles::{PROJECT_APPROVERS, PROJECT_MANAGERS, PROJECT_READERS};
use crate::{Caller, Result, ServiceError, Services};

/// Expenses above this need the street officer: 50,000 yuan.
pub const STREET_LIMIT: Fen = Fen(5_000_000);

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ProjectInput {
    /// 丁香花园三期屋面及外墙修缮
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The buildings repaired (ids).
    pub buildings: Vec<i64>,
    /// Hazard cases the project fixes: closed when the residents accept it.
    #[serde(default)]
    pub cases: Vec<i64>,
    /// Default 24.
    #[serde(default)]
    pub warranty_months: Option<i64>,
    /// The fewest votes an acceptance needs; default 3.
    #[serde(default)]
    pub quorum: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct LineInput {
    pub name: String,
    /// Fen.
    pub amount: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct FundingInput {
    /// `subdistrict`, `city`, `maintenance_fund`, `residents` or `other`.
    pub source: String,
    /// Asked for, in fen.
    pub asked: i64,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct FundingDecision {
    pub approve: bool,
    /// Fen; default: the amount asked. At most that.
    #[serde(default)]
    pub approved: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ExpenseInput {
    pub line_id: i64,
    /// Fen.
    pub amount: i64,
    pub payee: String,
    pub description: String,
    /// `2026-11-05`.
    pub spent_on: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ExpenseDecision {
    pub approve: bool,
    /// What the approver says, kept with the decision.
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct MilestoneInput {
    pub title: String,
    /// `2026-12-20`.
    pub due_on: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct MilestoneDone {
    /// Default today.
    #[serde(default)]
    pub done_on: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct StageInput {
    /// `working` (the work starts) or `voting` (finished: residents vote).
    pub to: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct VoteInput {
    pub accept: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Money {
    /// All amounts in fen.
    pub budget: i64,
    pub asked: i64,
    pub approved: i64,
    /// Expenses recorded or approved.
    pub spent: i64,
    /// Expenses waiting for the street officer.
    pub pending: i64,
    /// Approved and not spent (nor pending).
    pub remaining: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BuildingRef {
    pub id: i64,
    /// 丁香花园三期 8号楼
    pub name: String,
    pub households: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseRef {
    pub id: i64,
    pub title: String,
    pub state: yijia_domain::case::CaseState,
    pub state_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LineView {
    pub id: i64,
    pub name: String,
    /// Fen.
    pub budget: i64,
    /// Fen, recorded or approved.
    pub spent: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FundingView {
    pub id: i64,
    pub source: Source,
    pub source_name: String,
    pub asked: i64,
    pub approved: Option<i64>,
    /// `applied`, `approved` or `rejected`.
    pub status: FundingStatus,
    pub note: String,
    pub applied_by: String,
    pub applied_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ExpenseView {
    pub id: i64,
    pub line_id: i64,
    pub line: String,
    pub amount: i64,
    pub payee: String,
    pub description: String,
    pub spent_on: String,
    /// `recorded`, `pending` (for the street officer), `approved` or `rejected`.
    pub status: ExpenseStatus,
    pub recorded_by: String,
    pub decided_by: Option<String>,
    pub decision_note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MilestoneView {
    pub id: i64,
    pub title: String,
    pub due_on: String,
    pub done_on: Option<String>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Votes {
    pub accept: i64,
    pub reject: i64,
    pub quorum: i64,
    /// All the votes by how they came in: every channel counts toward the quorum.
    pub by_channel: ByChannel,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProjectView {
    pub id: i64,
    pub community: String,
    pub title: String,
    pub description: String,
    /// `planning`, `working`, `voting` or `accepted`.
    pub stage: Stage,
    pub stage_name: String,
    pub warranty_months: i64,
    pub started_at: Option<String>,
    pub voting_at: Option<String>,
    pub accepted_at: Option<String>,
    pub warranty_until: Option<String>,
    pub buildings: Vec<BuildingRef>,
    /// The hazards it fixes.
    pub cases: Vec<CaseRef>,
    /// Hazards filed on its buildings during the warranty.
    pub warranty_cases: Vec<CaseRef>,
    pub money: Money,
    pub lines: Vec<LineView>,
    pub fundings: Vec<FundingView>,
    pub expenses: Vec<ExpenseView>,
    pub milestones: Vec<MilestoneView>,
    pub votes: Votes,
    /// Documents, receipts and before/after photos.
    pub files: Vec<FileRef>,
    /// For a resident of its buildings: their vote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_vote: Option<bool>,
    /// Who put it in, when not the resident's own phone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_vote_by: Option<crate::ballots::VotedBy>,
}

fn funding_view(f: &Funding) -> FundingView {
    FundingView {
        id: f.id,
        source: f.source,
        source_name: f.source.name_zh().to_owned(),
        asked: f.asked,
        approved: f.approved,
        status: f.status,
        note: f.note.clone(),
        applied_by: f.applied_by.clone(),
        applied_at: rfc3339(f.applied_at),
        decided_by: f.decided_by.clone(),
        decided_at: f.decided_at.map(rfc3339),
        decision_note: f.decision_note.clone(),
    }
}

fn expense_view(x: &Expense) -> ExpenseView {
    ExpenseView {
        id: x.id,
        line_id: x.line_id,
        line: x.line_name.clone(),
        amount: x.amount,
        payee: x.payee.clone(),
        description: x.description.clone(),
        spent_on: x.spent_on.clone(),
        status: x.status,
        recorded_by: x.recorded_by.clone(),
        decided_by: x.decided_by.clone(),
        decision_note: x.decision_note.clone().filter(|n| !n.is_empty()),
    }
}

/// An expense that counts as spent.
pub(crate) fn is_spent(x: &Expense) -> bool {
    x.status.spent()
}

fn money(lines: &[store::BudgetLine], fundings: &[Funding], expenses: &[Expense]) -> Money {
    let approved: i64 = fundings.iter().filter_map(|f| f.approved).sum();
    let spent: i64 = expenses.iter().filter(|x| is_spent(x)).map(|x| x.amount).sum();
    let pending: i64 = expenses.iter().filter(|x| x.status == ExpenseStatus::Pending).map(|x| x.amount).sum();
    Money {
        budget: lines.iter().map(|l| l.amount).sum(),
        asked: fundings.iter().filter(|f| f.status != FundingStatus::Rejected).map(|f| f.asked).sum(),
        approved,
        spent,
        pending,
        remaining: approved - spent - pending,
    }
}

async fn case_refs(tx: &mut Tx, ids: &[i64]) -> Result<Vec<CaseRef>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(k) = cases::get(tx, *id).await? {
            let name = k.state.name_zh().to_owned();
            out.push(CaseRef { id: k.id, title: k.title, state: k.state, state_name: name });
        }
    }
    Ok(out)
}

/// Everything about a project, read in one transaction.
async fn project_view(tx: &mut Tx, p: &Project, community: &str) -> Result<ProjectView> {
    let buildings = store::buildings(tx, p.id).await?;
    let lines = store::lines(tx, p.id).await?;
    let fundings = store::fundings(tx, p.id).await?;
    let expenses = store::expenses(tx, p.id).await?;
    let milestones = store::milestones(tx, p.id).await?;
    let ids = store::case_ids(tx, p.id).await?;
    let cases = case_refs(tx, &ids).await?;
    let warranty = match (p.accepted_at, p.warranty_until) {
        (Some(from), Some(to)) => store::warranty_cases(tx, p.id, from, to).await?,
        _ => vec![],
    };
    let warranty_cases = case_refs(tx, &warranty).await?;
    let (yes, no, by_channel) = store::tally(tx, p.id).await?;
    let stage = p.stage;
    Ok(ProjectView {
        id: p.id,
        community: community.to_owned(),
        title: p.title.clone(),
        description: p.description.clone(),
        stage: p.stage,
        stage_name: stage.name_zh().to_owned(),
        warranty_months: p.warranty_months,
        started_at: p.started_at.map(rfc3339),
        voting_at: p.voting_at.map(rfc3339),
        accepted_at: p.accepted_at.map(rfc3339),
        warranty_until: p.warranty_until.map(rfc3339),
        buildings: buildings
            .iter()
            .map(|b| BuildingRef { id: b.id, name: format!("{} {}", b.estate, b.name), households: b.households })
            .collect(),
        cases,
        warranty_cases,
        money: money(&lines, &fundings, &expenses),
        lines: lines
            .iter()
            .map(|l| LineView {
                id: l.id,
                name: l.name.clone(),
                budget: l.amount,
                spent: expenses.iter().filter(|x| x.line_id == l.id && is_spent(x)).map(|x| x.amount).sum(),
            })
            .collect(),
        fundings: fundings.iter().map(funding_view).collect(),
        expenses: expenses.iter().map(expense_view).collect(),
        milestones: milestones
            .iter()
            .map(|m| MilestoneView {
                id: m.id,
                title: m.title.clone(),
                due_on: m.due_on.clone(),
                done_on: m.done_on.clone(),
                note: m.note.clone(),
            })
            .collect(),
        votes: Votes { accept: yes, reject: no, quorum: p.quorum, by_channel },
        files: store::files(tx, p.id)
            .await?
            .into_iter()
            .map(|f| FileRef {
                id: f.id,
                kind: f.kind,
                funding_id: f.funding_id,
                expense_id: f.expense_id,
                milestone_id: f.milestone_id,
                content_type: f.content_type,
            })
            .collect(),
        my_vote: None,
        my_vote_by: None,
    })
}

async fn project_in_scope(tx: &mut Tx, caller: &Caller, id: i64, roles: &[Role]) -> Result<(Project, org::OrgNode)> {
    let Some(p) = store::get(tx, id).await? else { return Err(ServiceError::NotFound) };
    let com = org::by_id(tx, p.community_id).await?;
    if !crate::cases::catalogue::works_in(caller, roles, &com.path) {
        return Err(ServiceError::denied("project", format!("project:{id}")));
    }
    Ok((p, com))
}

fn date(field: &str, s: &str) -> Result<String> {
    crate::fields::date(field, s).map(crate::fields::ymd)
}

/// The day a milestone was done (today when not given, never in the
/// future) and its note.
pub(crate) fn milestone_done(input: &MilestoneDone, now: i64) -> Result<(String, String)> {
    let done = crate::fields::date_or_today("done_on", input.done_on.as_deref(), now)?;
    if done > to_local(now).date_naive() {
        return Err(ServiceError::invalid("done_on", "完成日期不能在将来", "it cannot be done in the future"));
    }
    Ok((crate::fields::ymd(done), optional_text("note", input.note.as_deref(), 500)?))
}

impl Services {
    pub async fn create_project(
        &self,
        caller: &Caller,
        community: Option<&str>,
        input: ProjectInput,
    ) -> Result<ProjectView> {
        let title = text("title", &input.title, 60)?;
        let description = optional_text("description", input.description.as_deref(), 2000)?;
        let warranty = input.warranty_months.unwrap_or(24);
        if !(0..=120).contains(&warranty) {
            return Err(ServiceError::invalid(
                "warranty_months",
                "保修期 0 到 120 个月",
                "a warranty of 0 to 120 months",
            ));
        }
        let quorum = input.quorum.unwrap_or(3);
        if !(1..=10_000).contains(&quorum) {
            return Err(ServiceError::invalid("quorum", "最少票数 1 到 10000", "a quorum of 1 to 10000"));
        }
        if input.buildings.is_empty() {
            return Err(ServiceError::invalid("buildings", "请选择要修缮的楼栋", "choose the buildings repaired"));
        }
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let com = self.caller_community(&mut tx, caller, PROJECT_MANAGERS, community).await?;
            for (i, b) in input.buildings.iter().enumerate() {
                if places::building_info(&mut tx, *b).await?.is_none_or(|x| x.community_id != com.id) {
                    return Err(ServiceError::invalid(
                        &format!("buildings[{i}]"),
                        "本社区没有这栋楼",
                        "no such building in the community",
                    ));
                }
            }
            for (i, k) in input.cases.iter().enumerate() {
                let ok = cases::get(&mut tx, *k).await?.is_some_and(|k| {
                    k.kind == yijia_domain::case::CaseKind::Hazard && k.org_path.starts_with(&com.path)
                });
                if !ok {
                    return Err(ServiceError::invalid(
                        &format!("cases[{i}]"),
                        "本社区没有这个安全隐患事件",
                        "no such hazard case in the community",
                    ));
                }
            }
            let id = on_conflict(
                store::insert(&mut tx, com.id, &title, &description, warranty, quorum, caller.user_id, now).await,
                || Msg::new(format!("已有项目「{title}」"), format!("there is a project '{title}' already")),
            )?;
            for b in &input.buildings {
                store::add_building(&mut tx, id, *b).await?;
            }
            for k in &input.cases {
                store::link_case(&mut tx, id, *k).await?;
            }
            let e = Event::ok("project", format!("project:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "title": title, "cases": input.cases }))).await?;
            let p = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            let v = project_view(&mut tx, &p, &com.code).await?;
            tx.commit().await?;
            Ok(v)
        })
        .await
    }

    /// A community's projects, newest first, each with its money.
    pub async fn projects(&self, caller: &Caller, community: Option<&str>) -> Result<Vec<ProjectView>> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let com = self.caller_community(&mut tx, caller, PROJECT_READERS, community).await?;
            let list = store::of_community(&mut tx, com.id).await?;
            let mut out = Vec::with_capacity(list.len());
            for p in &list {
                out.push(project_view(&mut tx, p, &com.code).await?);
            }
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    pub async fn project(&self, caller: &Caller, id: i64) -> Result<ProjectView> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (p, com) = project_in_scope(&mut tx, caller, id, PROJECT_READERS).await?;
            let v = project_view(&mut tx, &p, &com.code).await?;
            tx.commit().await?;
            Ok(v)
        })
        .await
    }

    /// Runs a change to a project the caller may make with `roles`, audits
    /// it as `action`, and answers the project as it is after.
    async fn project_change<F>(
        &self,
        caller: &Caller,
        id: i64,
        roles: &[Role],
        action: &str,
        f: F,
    ) -> Result<ProjectView>
    where
        F: for<'a> FnOnce(&'a mut Tx, &'a Project, i64) -> BoxFuture<'a, Result<serde_json::Value>>,
    {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (p, com) = project_in_scope(&mut tx, caller, id, roles).await?;
            let detail = f(&mut tx, &p, now).await?;
            let e = Event::ok(action, format!("project:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(detail)).await?;
            let p = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            let v = project_view(&mut tx, &p, &com.code).await?;
            tx.commit().await?;
            Ok(v)
        })
        .await
    }

    pub async fn add_budget_line(&self, caller: &Caller, id: i64, input: LineInput) -> Result<ProjectView> {
        let name = text("name", &input.name, 40)?;
        let amount = Fen::checked("amount", input.amount)?;
        self.project_change(caller, id, PROJECT_MANAGERS, "project_budget", move |tx, p, _| {
            Box::pin(async move {
                if p.stage == Stage::Accepted {
                    return Err(ServiceError::conflict(
                        "项目已验收,预算不再改动",
                        "the project is accepted: its budget is closed",
                    ));
                }
                on_conflict(store::add_line(tx, p.id, &name, amount.0).await, || {
                    Msg::new(format!("已有预算科目「{name}」"), format!("there is a budget line '{name}' already"))
                })?;
                Ok(json!({ "line": name, "amount": amount.0 }))
            })
        })
        .await
    }

    /// Files an application for money with a named source.
    pub async fn apply_for_funding(&self, caller: &Caller, id: i64, input: FundingInput) -> Result<ProjectView> {
        let Some(source) = Source::from_code(input.source.trim()) else {
            return Err(ServiceError::invalid(
                "source",
                "资金来源只能是 subdistrict、city、maintenance_fund、residents 或 other",
                "the source is subdistrict, city, maintenance_fund, residents or other",
            ));
        };
        let asked = Fen::checked("asked", input.asked)?;
        let note = optional_text("note", input.note.as_deref(), 500)?;
        let by = caller.display_name.clone();
        let asked_by = caller.user_id;
        self.project_change(caller, id, PROJECT_MANAGERS, "funding_apply", move |tx, p, now| {
            Box::pin(async move {
                if p.stage == Stage::Accepted {
                    return Err(ServiceError::conflict(
                        "项目已验收,不再申请资金",
                        "the project is accepted: no more applications",
                    ));
                }
                let fid = store::add_funding(tx, p.id, source.code(), asked.0, &note, &by, now).await?;
                ask_decision(tx, now, AwaitingKind::Funding, fid, p.community_id, asked_by).await?;
                Ok(json!({ "funding": fid, "source": source.code(), "asked": asked.0 }))
            })
        })
        .await
    }

    /// The street officer approves (all or part of what was asked) or refuses.
    pub async fn decide_funding(
        &self,
        caller: &Caller,
        funding_id: i64,
        input: FundingDecision,
    ) -> Result<ProjectView> {
        let note = optional_text("note", input.note.as_deref(), 500)?;
        let mut tx = self.db.read().await?;
        let f = store::funding(&mut tx, funding_id).await?;
        tx.commit().await?;
        let Some(f) = f else { return Err(ServiceError::NotFound) };
        let approved = match (input.approve, input.approved) {
            (false, _) => None,
            (true, None) => Some(f.asked),
            (true, Some(a)) => {
                let a = Fen::checked("approved", a)?;
                if a.0 > f.asked {
                    return Err(ServiceError::invalid(
                        "approved",
                        "批准金额不能超过申请金额",
                        "at most the amount asked",
                    ));
                }
                Some(a.0)
            }
        };
        let by = caller.display_name.clone();
        self.project_change(caller, f.project_id, PROJECT_APPROVERS, "funding_decide", move |tx, _, now| {
            Box::pin(async move {
                if !store::decide_funding(tx, funding_id, approved, &by, &note, now).await? {
                    return Err(ServiceError::conflict("这笔申请已审批", "the application is decided already"));
                }
                Ok(json!({ "funding": funding_id, "approved": approved }))
            })
        })
        .await
    }

    /// Records an expense against a budget line; above the limit it waits
    /// for the street officer. Nothing is spent beyond the approved money.
    pub async fn record_expense(&self, caller: &Caller, id: i64, input: ExpenseInput) -> Result<ProjectView> {
        let amount = Fen::checked("amount", input.amount)?;
        let payee = text("payee", &input.payee, 60)?;
        let description = text("description", &input.description, 200)?;
        let spent_on = date("spent_on", &input.spent_on)?;
        let today = to_local(self.now()).date_naive().format("%Y-%m-%d").to_string();
        if spent_on > today {
            return Err(ServiceError::invalid("spent_on", "支出日期不能在将来", "an expense cannot be in the future"));
        }
        let by = caller.display_name.clone();
        let asked_by = caller.user_id;
        let status = if rules::needs_street_approval(amount, STREET_LIMIT) {
            ExpenseStatus::Pending
        } else {
            ExpenseStatus::Recorded
        };
        self.project_change(caller, id, PROJECT_MANAGERS, "expense", move |tx, p, now| {
            Box::pin(async move {
                if !store::lines(tx, p.id).await?.iter().any(|l| l.id == input.line_id) {
                    return Err(ServiceError::invalid(
                        "line_id",
                        "这个项目没有这个预算科目",
                        "no such budget line in the project",
                    ));
                }
                let m = money(&[], &store::fundings(tx, p.id).await?, &store::expenses(tx, p.id).await?);
                if amount.0 > m.remaining {
                    return Err(ServiceError::invalid(
                        "amount",
                        format!("超出已批准资金:还可支出 {} 元", Fen(m.remaining).yuan()),
                        format!("more than the approved money: {} yuan left", Fen(m.remaining).yuan()),
                    ));
                }
                let new = NewExpense {
                    project_id: p.id,
                    line_id: input.line_id,
                    amount: amount.0,
                    payee: &payee,
                    description: &description,
                    spent_on: &spent_on,
                    status,
                    by: &by,
                    now,
                };
                let xid = store::add_expense(tx, &new).await?;
                if status == ExpenseStatus::Pending {
                    ask_decision(tx, now, AwaitingKind::Expense, xid, p.community_id, asked_by).await?;
                }
                Ok(json!({ "expense": xid, "amount": amount.0, "status": status }))
            })
        })
        .await
    }

    /// The street officer approves or refuses an expense above the limit.
    pub async fn decide_expense(
        &self,
        caller: &Caller,
        expense_id: i64,
        input: ExpenseDecision,
    ) -> Result<ProjectView> {
        let note = optional_text("note", input.note.as_deref(), 500)?;
        let mut tx = self.db.read().await?;
        let x = store::expense(&mut tx, expense_id).await?;
        tx.commit().await?;
        let Some(x) = x else { return Err(ServiceError::NotFound) };
        let by = caller.display_name.clone();
        self.project_change(caller, x.project_id, PROJECT_APPROVERS, "expense_decide", move |tx, _, now| {
            Box::pin(async move {
                if !store::decide_expense(tx, expense_id, input.approve, &by, &note, now).await? {
                    return Err(ServiceError::conflict(
                        "这笔支出无需审批或已审批",
                        "the expense is not waiting for approval",
                    ));
                }
                Ok(json!({ "expense": expense_id, "approve": input.approve }))
            })
        })
        .await
    }

    pub async fn add_milestone(&self, caller: &Caller, id: i64, input: MilestoneInput) -> Result<ProjectView> {
        let title = text("title", &input.title, 60)?;
        let due = date("due_on", &input.due_on)?;
        self.project_change(caller, id, PROJECT_MANAGERS, "milestone", move |tx, p, _| {
            Box::pin(async move {
                let mid = store::add_milestone(tx, p.id, &title, &due).await?;
                Ok(json!({ "milestone": mid, "title": title }))
            })
        })
        .await
    }

    pub async fn finish_milestone(
        &self,
        caller: &Caller,
        milestone_id: i64,
        input: MilestoneDone,
    ) -> Result<ProjectView> {
        let (done, note) = milestone_done(&input, self.now())?;
        let mut tx = self.db.read().await?;
        let m = store::milestone(&mut tx, milestone_id).await?;
        tx.commit().await?;
        let Some(m) = m else { return Err(ServiceError::NotFound) };
        self.project_change(caller, m.project_id, PROJECT_MANAGERS, "milestone_done", move |tx, _, _| {
            Box::pin(async move {
                if !store::finish_milestone(tx, milestone_id, &done, &note).await? {
                    return Err(ServiceError::conflict("这个节点已完成", "the milestone is done already"));
                }
                Ok(json!({ "milestone": milestone_id, "done_on": done }))
            })
        })
        .await
    }

    /// Starts the work (with money approved), or finishes it and opens the
    /// residents' vote.
    pub async fn move_project(&self, caller: &Caller, id: i64, input: StageInput) -> Result<ProjectView> {
        let to = match Stage::from_code(input.to.trim()) {
            Some(s @ (Stage::Working | Stage::Voting)) => s,
            _ => {
                return Err(ServiceError::invalid(
                    "to",
                    "只能改为 working(开工)或 voting(完工,居民验收)",
                    "to is working (the work starts) or voting (finished: residents vote)",
                ));
            }
        };
        self.project_change(caller, id, PROJECT_MANAGERS, "project_stage", move |tx, p, now| {
            Box::pin(async move {
                let from = p.stage;
                let mut p = p.clone();
                match (from, to) {
                    (Stage::Planning, Stage::Working) => {
                        if !store::fundings(tx, p.id).await?.iter().any(|f| f.approved.is_some()) {
                            return Err(ServiceError::conflict(
                                "还没有获批的资金,不能开工",
                                "no money approved yet: the work cannot start",
                            ));
                        }
                        p.started_at = Some(now);
                    }
                    (Stage::Working, Stage::Voting) => {
                        p.voting_at = Some(now);
                        // the residents of its buildings are told the vote is open
                        let path = org::by_id(tx, p.community_id).await?.path;
                        let payload = json!({ "project": p.id }).to_string();
                        let object = format!("project:{}", p.id);
                        cases::push_outbox(tx, now, "project.vote_open", &path, &object, &payload).await?;
                    }
                    _ => {
                        return Err(ServiceError::conflict(
                            format!("项目处于「{}」,不能改为「{}」", from.name_zh(), to.name_zh()),
                            format!("a project {} cannot go to {}", from.code(), to.code()),
                        ));
                    }
                }
                p.stage = to;
                if !store::save_stage(tx, &p).await? {
                    return Err(ServiceError::conflict(
                        "项目刚被他人修改,请刷新后重试",
                        "the project changed meanwhile: reload and retry",
                    ));
                }
                Ok(json!({ "from": from.code(), "to": to.code() }))
            })
        })
        .await
    }

    /// Counts the residents' votes: carried, the project is accepted, the
    /// hazards it fixes close and the warranty starts; not carried, the work
    /// goes on and the next round starts afresh.
    pub async fn close_vote(&self, caller: &Caller, id: i64) -> Result<ProjectView> {
        let who = caller.clone();
        self.project_change(caller, id, PROJECT_MANAGERS, "project_vote_count", move |tx, p, now| {
            Box::pin(async move {
                if p.stage != Stage::Voting {
                    return Err(ServiceError::conflict("项目不在验收投票中", "the project is not being voted on"));
                }
                let (yes, no, _) = store::tally(tx, p.id).await?;
                let mut p = p.clone();
                let carried = rules::accepted(yes, no, p.quorum);
                let mut closed = Vec::new();
                if carried {
                    p.stage = Stage::Accepted;
                    p.accepted_at = Some(now);
                    let months = u32::try_from(p.warranty_months).unwrap_or(0);
                    p.warranty_until = Some(
                        to_local(now).checked_add_months(Months::new(months)).map_or(now, |t| t.timestamp_millis()),
                    );
                    let note = format!("修缮项目「{}」经居民验收通过,隐患已消除", p.title);
                    for k in store::case_ids(tx, p.id).await? {
                        if crate::cases::close_for(tx, &who, k, &note, "project", now).await? {
                            closed.push(k);
                        }
                    }
                } else {
                    p.stage = Stage::Working;
                    store::clear_votes(tx, p.id).await?;
                }
                if !store::save_stage(tx, &p).await? {
                    return Err(ServiceError::conflict(
                        "项目刚被他人修改,请刷新后重试",
                        "the project changed meanwhile: reload and retry",
                    ));
                }
                Ok(json!({ "accept": yes, "reject": no, "carried": carried, "closed_cases": closed }))
            })
        })
        .await
    }

    /// For a resident: the projects on their building.
    pub async fn my_projects(&self, caller: &Caller) -> Result<Vec<ProjectView>> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (r, com) = own_record_as(&mut tx, caller, Act::Vote).await?;
            let Some(building) = building_of(&mut tx, r.household_id).await? else {
                return Ok(vec![]);
            };
            let list = store::on_building(&mut tx, building).await?;
            let mut out = Vec::with_capacity(list.len());
            for p in &list {
                let mut v = project_view(&mut tx, p, &com.code).await?;
                v.my_vote = store::my_vote(&mut tx, p.id, r.id).await?;
                let cast = store::cast_of(&mut tx, p.id, r.id).await?;
                v.my_vote_by = cast.and_then(|c| crate::ballots::voted_by(c.by()));
                // a resident sees the money and the work, not who was paid
                v.files.retain(|f| matches!(f.kind.as_str(), "before" | "after"));
                for x in &mut v.expenses {
                    x.payee.clear();
                    x.recorded_by.clear();
                }
                out.push(v);
            }
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    /// A resident of one of the project's buildings votes, once.
    pub async fn vote_on_project(&self, caller: &Caller, id: i64, input: VoteInput) -> Result<Votes> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (r, com) = own_record_as(&mut tx, caller, Act::Vote).await?;
            let found = store::get(&mut tx, id).await?;
            let p =
                ServiceError::in_reach(found, |p| p.community_id == com.id, "project_vote", format!("project:{id}"))?;
            if !lives_in(&mut tx, r.household_id, id).await? {
                return Err(ServiceError::denied("project_vote", format!("project:{id}")));
            }
            if p.stage != Stage::Voting {
                return Err(ServiceError::conflict("现在不是验收投票时间", "the project is not being voted on now"));
            }
            if !store::vote(&mut tx, id, r.id, input.accept, &crate::ballots::own_cast(caller), now).await? {
                let before = store::cast_of(&mut tx, id, r.id).await?;
                return Err(before.map_or_else(
                    || ServiceError::conflict("您已投过票", "you have voted already"),
                    |c| crate::ballots::already_in(&c),
                ));
            }
            let e = Event::ok("project_vote", format!("project:{id}"), &com.path);
            record(&mut tx, caller, now, &e).await?;
            let (yes, no, by_channel) = store::tally(&mut tx, id).await?;
            tx.commit().await?;
            Ok(Votes { accept: yes, reject: no, quorum: p.quorum, by_channel })
        })
        .await
    }
}

/// Whether a household is in one of a project's buildings.
pub(crate) async fn lives_in(tx: &mut Tx, household: Option<i64>, project_id: i64) -> Result<bool> {
    let Some(building) = building_of(tx, household).await? else { return Ok(false) };
    Ok(store::buildings(tx, project_id).await?.iter().any(|b| b.id == building))
}

async fn building_of(tx: &mut Tx, household: Option<i64>) -> Result<Option<i64>> {
    Ok(match household {
        Some(h) => places::address(tx, h).await?.map(|a| a.building_id),
        None => None,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BoardExpense {
    pub spent_on: String,
    pub line: String,
    pub description: String,
    /// Fen.
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BoardProject {
    pub id: i64,
    pub title: String,
    pub stage: Stage,
    pub stage_name: String,
    pub buildings: Vec<String>,
    pub households: i64,
    /// All amounts in fen.
    pub approved: i64,
    pub spent: i64,
    pub remaining: i64,
    /// Spent for each household of its buildings; none without households.
    pub per_household: Option<i64>,
    pub lines: Vec<LineView>,
    /// What the money went on: each expense spent, without who was paid.
    pub expenses: Vec<BoardExpense>,
    pub milestones: Vec<MilestoneView>,
    /// Before and after photos of its milestones (ids for `/boards/photos/{id}`).
    pub photos: Vec<FileRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct YearFigures {
    pub year: String,
    /// Fen approved in the year (by the date of approval).
    pub approved: i64,
    /// Fen spent in the year (by the date of the expense).
    pub spent: i64,
}

/// The public spending board of a community: money approved and spent,
/// per project and per year. No personal data: no payees, no names.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SpendingBoard {
    pub community: String,
    pub community_name: String,
    pub approved: i64,
    pub spent: i64,
    pub remaining: i64,
    pub years: Vec<YearFigures>,
    pub projects: Vec<BoardProject>,
}

impl Services {
    /// The public spending board (no login).
    pub async fn spending_board(&self, community: &str) -> Result<SpendingBoard> {
        let mut tx = self.db.read().await?;
        let Some(com) = org::by_code(&mut tx, community.trim()).await?.filter(|n| n.kind == OrgKind::Community) else {
            return Err(ServiceError::NotFound);
        };
        let list = store::of_community(&mut tx, com.id).await?;
        let mut projects = Vec::with_capacity(list.len());
        let mut years: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
        for p in &list {
            let v = project_view(&mut tx, p, &com.code).await?;
            let fundings = store::fundings(&mut tx, p.id).await?;
            let expenses = store::expenses(&mut tx, p.id).await?;
            for f in &fundings {
                if let (Some(a), Some(at)) = (f.approved, f.decided_at) {
                    years.entry(to_local(at).format("%Y").to_string()).or_default().0 += a;
                }
            }
            let spent: Vec<&Expense> = expenses.iter().filter(|x| is_spent(x)).collect();
            for x in &spent {
                years.entry(x.spent_on.get(..4).unwrap_or("").to_owned()).or_default().1 += x.amount;
            }
            let households: i64 = v.buildings.iter().map(|b| b.households).sum();
            projects.push(BoardProject {
                id: p.id,
                title: v.title,
                stage: v.stage,
                stage_name: v.stage_name,
                buildings: v.buildings.iter().map(|b| b.name.clone()).collect(),
                households,
                approved: v.money.approved,
                spent: v.money.spent,
                remaining: v.money.approved - v.money.spent,
                per_household: (households > 0).then(|| v.money.spent / households),
                lines: v.lines,
                expenses: spent
                    .iter()
                    .map(|x| BoardExpense {
                        spent_on: x.spent_on.clone(),
                        line: x.line_name.clone(),
                        description: x.description.clone(),
                        amount: x.amount,
                    })
                    .collect(),
                milestones: v.milestones,
                photos: v.files.into_iter().filter(|f| matches!(f.kind.as_str(), "before" | "after")).collect(),
            });
        }
        tx.commit().await?;
        let approved = projects.iter().map(|p| p.approved).sum();
        let spent = projects.iter().map(|p| p.spent).sum();
        Ok(SpendingBoard {
            community: com.code,
            community_name: com.name,
            approved,
            spent,
            remaining: approved - spent,
            years: years
                .into_iter()
                .rev()
                .map(|(year, (approved, spent))| YearFigures { year, approved, spent })
                .collect(),
            projects,
        })
    }
}

/// The largest document or receipt taken: 10 MB.
const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FileRef {
    pub id: i64,
    /// `document` (of a funding application), `receipt` (of an expense),
    /// `before` or `after` (photos of a milestone).
    pub kind: String,
    pub funding_id: Option<i64>,
    pub expense_id: Option<i64>,
    pub milestone_id: Option<i64>,
    pub content_type: String,
}

/// What a file is attached to: `kind` and the id of the funding
/// application, expense or milestone.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileTarget {
    /// `document`, `receipt`, `before` or `after`.
    pub kind: String,
    /// For a document, the funding application; for a receipt, the expense;
    /// for a photo, the milestone.
    pub of: i64,
}

/// An upload made safe to keep: a photo cleaned (metadata and location
/// gone), or a PDF as it came.
fn clean_file(upload: &[u8], photo_only: bool) -> Result<(Vec<u8>, &'static str, &'static str)> {
    if upload.starts_with(b"%PDF-") && !photo_only {
        if upload.len() > MAX_FILE_BYTES {
            return Err(ServiceError::invalid("file", "文件不能超过 10 MB", "a file is at most 10 MB"));
        }
        return Ok((upload.to_vec(), "application/pdf", "pdf"));
    }
    let p = crate::photos::clean(upload).map_err(|e| match (e, photo_only) {
        (ServiceError::Invalid(_), false) => ServiceError::invalid(
            "file",
            "只能上传照片(JPEG、PNG、WebP)或 PDF",
            "only photos (JPEG, PNG, WebP) or PDFs",
        ),
        (e, _) => e,
    })?;
    Ok((p.bytes, p.content_type, p.extension))
}

impl Services {
    /// Attaches a document to a funding application, a receipt to an
    /// expense, or a before or after photo to a milestone.
    pub async fn add_project_file(
        &self,
        caller: &Caller,
        id: i64,
        target: FileTarget,
        uploads: Vec<Vec<u8>>,
    ) -> Result<ProjectView> {
        let kind = target.kind.trim().to_owned();
        if !matches!(kind.as_str(), "document" | "receipt" | "before" | "after") {
            return Err(ServiceError::invalid(
                "kind",
                "kind 只能是 document、receipt、before 或 after",
                "kind is document, receipt, before or after",
            ));
        }
        let [upload] = <[Vec<u8>; 1]>::try_from(uploads)
            .map_err(|_| ServiceError::invalid("file", "请选择一个文件", "choose one file"))?;
        let photo_only = matches!(kind.as_str(), "before" | "after");
        let (bytes, content_type, ext) = crate::photos::clean_gated(upload, move |u| clean_file(u, photo_only)).await?;
        let name = format!("{}.{ext}", uuid::Uuid::new_v4().simple());
        self.files.put(&name, bytes).await?;
        let by = caller.display_name.clone();
        let stored = name.clone();
        let r = self
            .project_change(caller, id, PROJECT_MANAGERS, "project_file", move |tx, p, now| {
                Box::pin(async move {
                    let of = target.of;
                    let belongs = match kind.as_str() {
                        "document" => store::funding(tx, of).await?.is_some_and(|f| f.project_id == p.id),
                        "receipt" => store::expense(tx, of).await?.is_some_and(|x| x.project_id == p.id),
                        _ => store::milestone(tx, of).await?.is_some_and(|m| m.project_id == p.id),
                    };
                    if !belongs {
                        return Err(ServiceError::invalid("of", "这个项目没有这一项", "no such item in the project"));
                    }
                    let f = store::NewFile {
                        project_id: p.id,
                        kind: &kind,
                        funding_id: (kind == "document").then_some(of),
                        expense_id: (kind == "receipt").then_some(of),
                        milestone_id: photo_only.then_some(of),
                        stored_name: &stored,
                        content_type,
                        by: &by,
                        now,
                    };
                    let fid = store::add_file(tx, &f).await?;
                    Ok(json!({ "file": fid, "kind": kind, "of": of }))
                })
            })
            .await;
        if r.is_err()
            && let Err(e) = self.files.remove(&name).await
        {
            tracing::warn!(file = %name, error = %crate::error::Report(&e), "an unrecorded file stays behind");
        }
        r
    }

    /// A project's file, for those who read the project.
    pub async fn project_file(&self, caller: &Caller, file_id: i64) -> Result<crate::cases::PhotoFile> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let Some(f) = store::file(&mut tx, file_id).await? else { return Err(ServiceError::NotFound) };
            project_in_scope(&mut tx, caller, f.project_id, PROJECT_READERS).await?;
            tx.commit().await?;
            self.file_bytes(&f).await
        })
        .await
    }

    /// A before or after photo of a milestone, for the public board.
    pub async fn board_photo(&self, file_id: i64) -> Result<crate::cases::PhotoFile> {
        let mut tx = self.db.read().await?;
        let f = store::file(&mut tx, file_id).await?;
        tx.commit().await?;
        match f {
            Some(f) if matches!(f.kind.as_str(), "before" | "after") => self.file_bytes(&f).await,
            _ => Err(ServiceError::NotFound),
        }
    }

    async fn file_bytes(&self, f: &store::ProjectFile) -> Result<crate::cases::PhotoFile> {
        let bytes = self.files.get(&f.stored_name).await?;
        let ext = f.stored_name.rsplit('.').next().unwrap_or("bin");
        Ok(crate::cases::PhotoFile {
            bytes,
            content_type: f.content_type.clone(),
            file_name: format!("project-{}-{}-{}.{ext}", f.project_id, f.kind, f.id),
        })
    }
}

/// Money asked of the street officer: he is told.
async fn ask_decision(
    tx: &mut Tx,
    now: i64,
    kind: AwaitingKind,
    id: i64,
    community_id: i64,
    asked_by: Option<i64>,
) -> Result<()> {
    let path = org::by_id(tx, community_id).await?.path;
    let id = id.to_string();
    tell_deciders(tx, now, &Asked { kind, id: &id, community_id, community_path: &path, asked_by }).await
}
