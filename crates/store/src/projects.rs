//! Repair projects: buildings, linked cases, budget lines, funding,
//! expenses, milestones and acceptance votes. Amounts are fen.

use serde::Serialize;

use yijia_domain::project::{ExpenseStatus, FundingStatus, Source, Stage};

use yijia_domain::ballot::{ByChannel, VoteChannel};

use crate::ballots::{Cast, CastVote};
use crate::{Result, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Project {
    pub id: i64,
    pub community_id: i64,
    pub title: String,
    pub description: String,
    pub stage: Stage,
    pub warranty_months: i64,
    pub quorum: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub voting_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub warranty_until: Option<i64>,
    pub version: i64,
}

const COLS: &str = "id, community_id, title, description, stage, warranty_months, quorum, created_at, started_at, \
                    voting_at, accepted_at, warranty_until, version";

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    tx: &mut Tx,
    community_id: i64,
    title: &str,
    description: &str,
    warranty_months: i64,
    quorum: i64,
    by: Option<i64>,
    now: i64,
) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO projects (community_id, title, description, stage, warranty_months, quorum, created_by, created_at) \
         VALUES ($1, $2, $3, 'planning', $4, $5, $6, $7) RETURNING id")
        .bind(community_id).bind(title).bind(description).bind(warranty_months).bind(quorum).bind(by).bind(now)
        .fetch_one(c).await?))
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Project>> {
    let sql = format!("SELECT {COLS} FROM projects WHERE id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

pub async fn of_community(tx: &mut Tx, community_id: i64) -> Result<Vec<Project>> {
    let sql = format!("SELECT {COLS} FROM projects WHERE community_id = $1 ORDER BY created_at DESC, id DESC");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(community_id).fetch_all(c).await?))
}

/// The projects on a building.
pub async fn on_building(tx: &mut Tx, building_id: i64) -> Result<Vec<Project>> {
    let sql = format!(
        "SELECT {COLS} FROM projects WHERE id IN (SELECT project_id FROM project_buildings WHERE building_id = $1) \
         ORDER BY created_at DESC, id DESC"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(building_id).fetch_all(c).await?))
}

/// Moves a project on from the stage it was read in; false when another
/// change came first.
pub async fn save_stage(tx: &mut Tx, p: &Project) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE projects SET stage = $2, started_at = $3, voting_at = $4, accepted_at = $5, warranty_until = $6, \
         version = version + 1 WHERE id = $1 AND version = $7")
        .bind(p.id).bind(p.stage).bind(p.started_at).bind(p.voting_at).bind(p.accepted_at).bind(p.warranty_until)
        .bind(p.version).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

pub async fn add_building(tx: &mut Tx, project_id: i64, building_id: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO project_buildings (project_id, building_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(project_id).bind(building_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ProjectBuilding {
    pub id: i64,
    pub name: String,
    pub estate: String,
    pub households: i64,
}

pub async fn buildings(tx: &mut Tx, project_id: i64) -> Result<Vec<ProjectBuilding>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT b.id, b.name, e.name AS estate, (SELECT COUNT(*) FROM households h WHERE h.building_id = b.id) AS households \
         FROM project_buildings pb JOIN buildings b ON b.id = pb.building_id JOIN estates e ON e.id = b.estate_id \
         WHERE pb.project_id = $1 ORDER BY e.name, b.name")
        .bind(project_id).fetch_all(c).await?))
}

pub async fn link_case(tx: &mut Tx, project_id: i64, case_id: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO project_cases (project_id, case_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(project_id).bind(case_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn case_ids(tx: &mut Tx, project_id: i64) -> Result<Vec<i64>> {
    Ok(on_tx!(tx, c => sqlx::query_scalar("SELECT case_id FROM project_cases WHERE project_id = $1 ORDER BY case_id")
        .bind(project_id).fetch_all(c).await?))
}

/// Hazard cases filed on the project's buildings between two times (the
/// warranty), other than those it was made to fix.
pub async fn warranty_cases(tx: &mut Tx, project_id: i64, from: i64, to: i64) -> Result<Vec<i64>> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT k.id FROM cases k JOIN project_buildings pb ON pb.building_id = k.building_id \
         WHERE pb.project_id = $1 AND k.kind = 'hazard' AND k.created_at >= $2 AND k.created_at < $3 \
         AND k.id NOT IN (SELECT case_id FROM project_cases WHERE project_id = $1) ORDER BY k.id")
        .bind(project_id).bind(from).bind(to).fetch_all(c).await?))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct BudgetLine {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub amount: i64,
}

pub async fn add_line(tx: &mut Tx, project_id: i64, name: &str, amount: i64) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO budget_lines (project_id, name, amount) VALUES ($1, $2, $3) RETURNING id")
        .bind(project_id).bind(name).bind(amount).fetch_one(c).await?))
}

pub async fn lines(tx: &mut Tx, project_id: i64) -> Result<Vec<BudgetLine>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT id, project_id, name, amount FROM budget_lines WHERE project_id = $1 ORDER BY id")
        .bind(project_id).fetch_all(c).await?))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Funding {
    pub id: i64,
    pub project_id: i64,
    pub source: Source,
    pub asked: i64,
    pub approved: Option<i64>,
    pub status: FundingStatus,
    pub note: String,
    pub applied_by: String,
    pub applied_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_note: Option<String>,
}

const FUNDING_COLS: &str = "id, project_id, source, asked, approved, status, note, applied_by, applied_at, \
                            decided_by, decided_at, decision_note";

pub async fn add_funding(
    tx: &mut Tx,
    project_id: i64,
    source: &str,
    asked: i64,
    note: &str,
    by: &str,
    now: i64,
) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO fundings (project_id, source, asked, status, note, applied_by, applied_at) \
         VALUES ($1, $2, $3, 'applied', $4, $5, $6) RETURNING id")
        .bind(project_id).bind(source).bind(asked).bind(note).bind(by).bind(now).fetch_one(c).await?))
}

pub async fn funding(tx: &mut Tx, id: i64) -> Result<Option<Funding>> {
    let sql = format!("SELECT {FUNDING_COLS} FROM fundings WHERE id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

pub async fn fundings(tx: &mut Tx, project_id: i64) -> Result<Vec<Funding>> {
    let sql = format!("SELECT {FUNDING_COLS} FROM fundings WHERE project_id = $1 ORDER BY id");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(project_id).fetch_all(c).await?))
}

/// Decides an application still open; false when it was decided already.
pub async fn decide_funding(
    tx: &mut Tx,
    id: i64,
    approved: Option<i64>,
    by: &str,
    note: &str,
    now: i64,
) -> Result<bool> {
    let status = if approved.is_some() { FundingStatus::Approved } else { FundingStatus::Rejected };
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE fundings SET status = $2, approved = $3, decided_by = $4, decided_at = $5, decision_note = $6 \
         WHERE id = $1 AND status = 'applied'")
        .bind(id).bind(status).bind(approved).bind(by).bind(now).bind(note).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Expense {
    pub id: i64,
    pub project_id: i64,
    pub line_id: i64,
    pub line_name: String,
    pub amount: i64,
    pub payee: String,
    pub description: String,
    pub spent_on: String,
    pub status: ExpenseStatus,
    pub recorded_by: String,
    pub recorded_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_note: Option<String>,
}

const EXPENSE_SELECT: &str = "SELECT x.id, x.project_id, x.line_id, l.name AS line_name, x.amount, x.payee, \
     x.description, x.spent_on, x.status, x.recorded_by, x.recorded_at, x.decided_by, x.decided_at, \
     x.decision_note FROM expenses x JOIN budget_lines l ON l.id = x.line_id";

#[derive(Debug, Clone)]
pub struct NewExpense<'a> {
    pub project_id: i64,
    pub line_id: i64,
    pub amount: i64,
    pub payee: &'a str,
    pub description: &'a str,
    pub spent_on: &'a str,
    pub status: ExpenseStatus,
    pub by: &'a str,
    pub now: i64,
}

pub async fn add_expense(tx: &mut Tx, x: &NewExpense<'_>) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO expenses (project_id, line_id, amount, payee, description, spent_on, status, recorded_by, \
         recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
        .bind(x.project_id).bind(x.line_id).bind(x.amount).bind(x.payee).bind(x.description).bind(x.spent_on)
        .bind(x.status).bind(x.by).bind(x.now).fetch_one(c).await?))
}

pub async fn expense(tx: &mut Tx, id: i64) -> Result<Option<Expense>> {
    let sql = format!("{EXPENSE_SELECT} WHERE x.id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

pub async fn expenses(tx: &mut Tx, project_id: i64) -> Result<Vec<Expense>> {
    let sql = format!("{EXPENSE_SELECT} WHERE x.project_id = $1 ORDER BY x.spent_on, x.id");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(project_id).fetch_all(c).await?))
}

/// Decides an expense waiting for the street officer.
pub async fn decide_expense(tx: &mut Tx, id: i64, approve: bool, by: &str, note: &str, now: i64) -> Result<bool> {
    let status = if approve { ExpenseStatus::Approved } else { ExpenseStatus::Rejected };
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE expenses SET status = $2, decided_by = $3, decided_at = $4, decision_note = $5 \
         WHERE id = $1 AND status = 'pending'")
        .bind(id).bind(status).bind(by).bind(now).bind(note).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// Where a funding application or an expense belongs, for an approver's
/// list.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InProject<T> {
    #[sqlx(flatten)]
    pub item: T,
    pub project_title: String,
    pub community_name: String,
}

const IN_PROJECT: &str = "JOIN projects p ON p.id = {t}.project_id JOIN org_nodes o ON o.id = p.community_id \
     WHERE o.path >= $1 AND o.path < $2";

/// Applications under `path` still open, or decided since `since`.
pub async fn fundings_under(tx: &mut Tx, path: &str, since: i64) -> Result<Vec<InProject<Funding>>> {
    let cols = FUNDING_COLS.split(", ").map(|c| format!("f.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {cols}, p.title AS project_title, o.name AS community_name FROM fundings f {} \
         AND (f.status = 'applied' OR f.decided_at >= $3) ORDER BY f.id",
        IN_PROJECT.replace("{t}", "f")
    );
    let upper = format!("{path}\u{10FFFF}");
    Ok(
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(path).bind(&upper).bind(since).fetch_all(c).await?),
    )
}

/// Expenses under `path` waiting for the street office, or decided since
/// `since`.
pub async fn expenses_under(tx: &mut Tx, path: &str, since: i64) -> Result<Vec<InProject<Expense>>> {
    let select = EXPENSE_SELECT
        .replace(" FROM expenses x", ", p.title AS project_title, o.name AS community_name FROM expenses x");
    let sql = format!(
        "{select} {} AND (x.status = 'pending' OR (x.decided_by IS NOT NULL AND x.decided_at >= $3)) ORDER BY x.id",
        IN_PROJECT.replace("{t}", "x")
    );
    let upper = format!("{path}\u{10FFFF}");
    Ok(
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(path).bind(&upper).bind(since).fetch_all(c).await?),
    )
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Milestone {
    pub id: i64,
    pub project_id: i64,
    pub title: String,
    pub due_on: String,
    pub done_on: Option<String>,
    pub note: String,
}

pub async fn add_milestone(tx: &mut Tx, project_id: i64, title: &str, due_on: &str) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO milestones (project_id, title, due_on, note) VALUES ($1, $2, $3, '') RETURNING id")
        .bind(project_id).bind(title).bind(due_on).fetch_one(c).await?))
}

pub async fn milestone(tx: &mut Tx, id: i64) -> Result<Option<Milestone>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT id, project_id, title, due_on, done_on, note FROM milestones WHERE id = $1")
        .bind(id).fetch_optional(c).await?))
}

pub async fn milestones(tx: &mut Tx, project_id: i64) -> Result<Vec<Milestone>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT id, project_id, title, due_on, done_on, note FROM milestones WHERE project_id = $1 ORDER BY due_on, id")
        .bind(project_id).fetch_all(c).await?))
}

pub async fn finish_milestone(tx: &mut Tx, id: i64, done_on: &str, note: &str) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE milestones SET done_on = $2, note = $3 WHERE id = $1 AND done_on IS NULL")
        .bind(id).bind(done_on).bind(note).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// A resident's vote; false when they had voted already (by any channel).
pub async fn vote(
    tx: &mut Tx,
    project_id: i64,
    resident_id: i64,
    accept: bool,
    cast: &Cast<'_>,
    now: i64,
) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "INSERT INTO acceptance_votes (project_id, resident_id, accept, voted_at, channel, recorded_by, slip, witness) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING")
        .bind(project_id).bind(resident_id).bind(accept).bind(now).bind(cast.channel).bind(cast.recorded_by)
        .bind(cast.slip).bind(cast.witness).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// (yes, no) votes so far, and all of them by how they came in.
pub async fn tally(tx: &mut Tx, project_id: i64) -> Result<(i64, i64, ByChannel)> {
    let rows: Vec<(bool, VoteChannel, i64)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT accept, channel, COUNT(*) FROM acceptance_votes WHERE project_id = $1 GROUP BY accept, channel")
        .bind(project_id).fetch_all(c).await?);
    let (mut yes, mut no, mut by) = (0, 0, ByChannel::default());
    for (accept, channel, n) in rows {
        if accept {
            yes += n
        } else {
            no += n
        }
        by.add(channel, n);
    }
    Ok((yes, no, by))
}

pub async fn my_vote(tx: &mut Tx, project_id: i64, resident_id: i64) -> Result<Option<bool>> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT accept FROM acceptance_votes WHERE project_id = $1 AND resident_id = $2")
        .bind(project_id).bind(resident_id).fetch_optional(c).await?))
}

/// Every vote on a project as it was cast, with its choice.
pub async fn casts(tx: &mut Tx, project_id: i64) -> Result<Vec<(bool, CastVote)>> {
    let rows: Vec<AcceptanceCast> = on_tx!(tx, c => sqlx::query_as(
        "SELECT accept, resident_id, channel, recorded_by, slip, witness, voted_at AS at FROM acceptance_votes \
         WHERE project_id = $1 ORDER BY resident_id")
        .bind(project_id).fetch_all(c).await?);
    Ok(rows.into_iter().map(|r| (r.accept, r.cast)).collect())
}

/// One resident's vote as it was cast.
pub async fn cast_of(tx: &mut Tx, project_id: i64, resident_id: i64) -> Result<Option<CastVote>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT resident_id, channel, recorded_by, slip, witness, voted_at AS at FROM acceptance_votes \
         WHERE project_id = $1 AND resident_id = $2")
        .bind(project_id).bind(resident_id).fetch_optional(c).await?))
}

#[derive(sqlx::FromRow)]
struct AcceptanceCast {
    accept: bool,
    #[sqlx(flatten)]
    cast: CastVote,
}

/// Clears the votes of a round that did not carry, for the next.
pub async fn clear_votes(tx: &mut Tx, project_id: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM acceptance_votes WHERE project_id = $1")
        .bind(project_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ProjectFile {
    pub id: i64,
    pub project_id: i64,
    pub kind: String,
    pub funding_id: Option<i64>,
    pub expense_id: Option<i64>,
    pub milestone_id: Option<i64>,
    pub stored_name: String,
    pub content_type: String,
}

#[derive(Debug, Clone)]
pub struct NewFile<'a> {
    pub project_id: i64,
    pub kind: &'a str,
    pub funding_id: Option<i64>,
    pub expense_id: Option<i64>,
    pub milestone_id: Option<i64>,
    pub stored_name: &'a str,
    pub content_type: &'a str,
    pub by: &'a str,
    pub now: i64,
}

pub async fn add_file(tx: &mut Tx, f: &NewFile<'_>) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO project_files (project_id, kind, funding_id, expense_id, milestone_id, stored_name, content_type, \
         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
        .bind(f.project_id).bind(f.kind).bind(f.funding_id).bind(f.expense_id).bind(f.milestone_id)
        .bind(f.stored_name).bind(f.content_type).bind(f.by).bind(f.now).fetch_one(c).await?))
}

const FILE_COLS: &str = "id, project_id, kind, funding_id, expense_id, milestone_id, stored_name, content_type";

pub async fn file(tx: &mut Tx, id: i64) -> Result<Option<ProjectFile>> {
    let sql = format!("SELECT {FILE_COLS} FROM project_files WHERE id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

pub async fn files(tx: &mut Tx, project_id: i64) -> Result<Vec<ProjectFile>> {
    let sql = format!("SELECT {FILE_COLS} FROM project_files WHERE project_id = $1 ORDER BY id");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(project_id).fetch_all(c).await?))
}
