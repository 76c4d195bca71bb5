//! Cases: the community's catalogue of categories with their deadlines, the
//! cases themselves, their timeline, photos, dispute revisits and the outbox.

use serde::Serialize;

use yijia_domain::case::{CaseKind, CaseState, Channel, EventKind, Priority};

use crate::sql::{Args, bind_args};
use crate::{Result, Tx, on_tx};

// ---- the catalogue ----

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Category {
    pub id: i64,
    pub community_id: i64,
    pub code: String,
    pub kind: CaseKind,
    pub name: String,
    pub name_en: String,
    pub description: String,
    pub priority: Priority,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Deadline {
    pub category_id: i64,
    pub priority: Priority,
    pub accept_ms: i64,
    pub resolve_ms: i64,
}

pub struct NewCategory<'a> {
    pub community_id: i64,
    pub code: &'a str,
    pub kind: CaseKind,
    pub name: &'a str,
    pub name_en: &'a str,
    pub description: &'a str,
    pub priority: Priority,
    pub now: i64,
}

const CATEGORY_COLS: &str = "id, community_id, code, kind, name, name_en, description, priority, active";

pub async fn insert_category(tx: &mut Tx, c: &NewCategory<'_>) -> Result<i64> {
    let sql = "INSERT INTO case_categories (community_id, code, kind, name, name_en, description, priority, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
    Ok(on_tx!(tx, c2 => sqlx::query_scalar(sql)
        .bind(c.community_id).bind(c.code).bind(c.kind).bind(c.name).bind(c.name_en).bind(c.description)
        .bind(c.priority).bind(c.now).fetch_one(c2).await?))
}

/// Changes what a category says and whether it is offered.
pub async fn update_category(
    tx: &mut Tx,
    id: i64,
    name: &str,
    name_en: &str,
    description: &str,
    priority: Priority,
    active: bool,
) -> Result<()> {
    let sql = "UPDATE case_categories SET name = $2, name_en = $3, description = $4, priority = $5, active = $6 \
               WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(id).bind(name).bind(name_en).bind(description).bind(priority).bind(active)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Sets a category's deadlines for one priority.
pub async fn set_deadline(tx: &mut Tx, d: &Deadline) -> Result<()> {
    let sql = "INSERT INTO case_deadlines (category_id, priority, accept_ms, resolve_ms) VALUES ($1, $2, $3, $4) \
               ON CONFLICT (category_id, priority) DO UPDATE SET accept_ms = excluded.accept_ms, \
               resolve_ms = excluded.resolve_ms";
    on_tx!(tx, c => sqlx::query(sql).bind(d.category_id).bind(d.priority).bind(d.accept_ms).bind(d.resolve_ms)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// A community's catalogue, by kind and code.
pub async fn categories(tx: &mut Tx, community_id: i64) -> Result<Vec<Category>> {
    let sql = format!("SELECT {CATEGORY_COLS} FROM case_categories WHERE community_id = $1 ORDER BY kind, id");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(community_id).fetch_all(c).await?))
}

/// The deadlines of a community's categories.
pub async fn deadlines(tx: &mut Tx, community_id: i64) -> Result<Vec<Deadline>> {
    let sql = "SELECT d.category_id, d.priority, d.accept_ms, d.resolve_ms FROM case_deadlines d \
               JOIN case_categories c ON c.id = d.category_id WHERE c.community_id = $1";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(community_id).fetch_all(c).await?))
}

pub async fn category_by_code(tx: &mut Tx, community_id: i64, code: &str) -> Result<Option<Category>> {
    let sql = format!("SELECT {CATEGORY_COLS} FROM case_categories WHERE community_id = $1 AND code = $2");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(community_id).bind(code).fetch_optional(c).await?))
}

/// Communities that have no catalogue yet.
pub async fn communities_without_catalogue(tx: &mut Tx) -> Result<Vec<i64>> {
    let sql = "SELECT o.id FROM org_nodes o WHERE o.kind = 'community' \
               AND NOT EXISTS (SELECT 1 FROM case_categories c WHERE c.community_id = o.id) ORDER BY o.id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).fetch_all(c).await?))
}

/// A category by code with its deadlines, in one statement.
pub async fn category_with_deadlines(
    tx: &mut Tx,
    community_id: i64,
    code: &str,
) -> Result<(Option<Category>, Vec<Deadline>)> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        c: Category,
        d_priority: Option<Priority>,
        accept_ms: Option<i64>,
        resolve_ms: Option<i64>,
    }
    let sql = "SELECT c.id, c.community_id, c.code, c.kind, c.name, c.name_en, c.description, c.priority, c.active, \
               d.priority AS d_priority, d.accept_ms, d.resolve_ms FROM case_categories c \
               LEFT JOIN case_deadlines d ON d.category_id = c.id WHERE c.community_id = $1 AND c.code = $2";
    let rows: Vec<Row> = on_tx!(tx, c => sqlx::query_as(sql).bind(community_id).bind(code).fetch_all(c).await?);
    let deadlines = rows
        .iter()
        .filter_map(|r| {
            Some(Deadline {
                category_id: r.c.id,
                priority: r.d_priority?,
                accept_ms: r.accept_ms?,
                resolve_ms: r.resolve_ms?,
            })
        })
        .collect();
    Ok((rows.into_iter().next().map(|r| r.c), deadlines))
}

// ---- cases ----

/// A case as stored, with the names of its category, grid and community.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Case {
    pub id: i64,
    pub community_id: i64,
    pub community_code: String,
    pub community_name: String,
    pub community_path: String,
    pub grid_id: Option<i64>,
    pub grid_code: Option<String>,
    pub grid_name: Option<String>,
    pub org_path: String,
    pub kind: CaseKind,
    pub category_id: i64,
    pub category_code: String,
    pub category_name: String,
    pub category_name_en: String,
    pub priority: Priority,
    pub state: CaseState,
    pub title: String,
    pub description: String,
    pub channel: Channel,
    pub building_id: Option<i64>,
    pub household_id: Option<i64>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub address: String,
    pub reporter_user_id: Option<i64>,
    /// The resident it was filed for (by himself or his family member).
    pub reporter_resident_id: Option<i64>,
    pub reporter_name: String,
    pub reporter_phone_sealed: Option<String>,
    pub created_by: Option<i64>,
    pub created_by_name: String,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub accept_due: i64,
    pub resolve_due: i64,
    pub due_at: Option<i64>,
    pub near_at: Option<i64>,
    pub next_alarm_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub escalated_at: Option<i64>,
    pub rating: Option<i64>,
    pub rating_comment: Option<String>,
    pub rated_at: Option<i64>,
    pub at_risk: Option<String>,
    pub dispute_sealed: Option<String>,
    pub token: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: &str = "k.id, k.community_id, cm.code AS community_code, cm.name AS community_name, \
    cm.path AS community_path, k.grid_id, g.code AS grid_code, g.name AS grid_name, k.org_path, k.kind, \
    k.category_id, cc.code AS category_code, cc.name AS category_name, cc.name_en AS category_name_en, k.priority, \
    k.state, k.title, k.description, k.channel, k.building_id, k.household_id, k.lon, k.lat, k.address, \
    k.reporter_user_id, k.reporter_resident_id, k.reporter_name, k.reporter_phone_sealed, k.created_by, k.created_by_name, k.assignee_id, \
    k.assignee_name, k.accept_due, k.resolve_due, k.due_at, k.near_at, k.next_alarm_at, k.accepted_at, \
    k.resolved_at, k.closed_at, k.escalated_at, k.rating, k.rating_comment, k.rated_at, k.at_risk, \
    k.dispute_sealed, k.token, k.version, k.created_at, k.updated_at";

const FROM: &str = "cases k JOIN org_nodes cm ON cm.id = k.community_id LEFT JOIN org_nodes g ON g.id = k.grid_id \
    JOIN case_categories cc ON cc.id = k.category_id";

/// What a new case is stored with.
pub struct NewCase<'a> {
    pub community_id: i64,
    pub grid_id: Option<i64>,
    pub org_path: &'a str,
    pub kind: CaseKind,
    pub category_id: i64,
    pub priority: Priority,
    pub state: CaseState,
    pub title: &'a str,
    pub description: &'a str,
    pub channel: Channel,
    pub building_id: Option<i64>,
    pub household_id: Option<i64>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub address: &'a str,
    pub reporter_user_id: Option<i64>,
    pub reporter_resident_id: Option<i64>,
    pub reporter_name: &'a str,
    pub reporter_phone_sealed: Option<&'a str>,
    pub created_by: Option<i64>,
    pub created_by_name: &'a str,
    pub accept_due: i64,
    pub resolve_due: i64,
    pub due_at: Option<i64>,
    pub near_at: Option<i64>,
    pub next_alarm_at: Option<i64>,
    pub at_risk: Option<&'a str>,
    pub dispute_sealed: Option<&'a str>,
    pub token: Option<&'a str>,
    pub now: i64,
}

const INSERT_COLS: &str = "community_id, grid_id, org_path, kind, category_id, priority, state, open, title, \
    description, channel, building_id, household_id, lon, lat, address, reporter_user_id, reporter_name, \
    reporter_phone_sealed, created_by, created_by_name, accept_due, resolve_due, due_at, near_at, next_alarm_at, \
    at_risk, token, created_at, updated_at, dispute_sealed, reporter_resident_id";

pub async fn insert(tx: &mut Tx, k: &NewCase<'_>) -> Result<i64> {
    let ids = insert_many(tx, std::slice::from_ref(k)).await?;
    ids.first().copied().ok_or(crate::StoreError::NotFound)
}

/// New cases in one statement; their ids in the same order.
pub async fn insert_many(tx: &mut Tx, rows: &[NewCase<'_>]) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(500) {
        let sql = format!(
            "INSERT INTO cases ({INSERT_COLS}) VALUES {} RETURNING id, token",
            crate::residents::placeholders(tx.backend(), chunk.len(), 32)
        );
        let got: Vec<(i64, Option<String>)> = on_tx!(tx, c => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for k in chunk {
                q = q
                    .bind(k.community_id).bind(k.grid_id).bind(k.org_path).bind(k.kind).bind(k.category_id)
                    .bind(k.priority).bind(k.state).bind(1_i64).bind(k.title).bind(k.description).bind(k.channel)
                    .bind(k.building_id).bind(k.household_id).bind(k.lon).bind(k.lat).bind(k.address)
                    .bind(k.reporter_user_id).bind(k.reporter_name).bind(k.reporter_phone_sealed).bind(k.created_by)
                    .bind(k.created_by_name).bind(k.accept_due).bind(k.resolve_due).bind(k.due_at).bind(k.near_at)
                    .bind(k.next_alarm_at).bind(k.at_risk).bind(k.token).bind(k.now).bind(k.now)
                    .bind(k.dispute_sealed).bind(k.reporter_resident_id);
            }
            q.fetch_all(&mut *c).await?
        });
        // RETURNING promises no order: the tokens (unique) tell which is which
        for k in chunk {
            let id = match k.token {
                Some(t) => got.iter().find(|(_, tok)| tok.as_deref() == Some(t)).map(|(id, _)| *id),
                None if chunk.len() == 1 => got.first().map(|(id, _)| *id),
                None => None,
            };
            ids.push(id.ok_or(crate::StoreError::Broken("a new case without its token"))?);
        }
    }
    Ok(ids)
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Case>> {
    let sql = format!("SELECT {COLS} FROM {FROM} WHERE k.id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

pub async fn by_token(tx: &mut Tx, token: &str) -> Result<Option<Case>> {
    let sql = format!("SELECT {COLS} FROM {FROM} WHERE k.token = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(token).fetch_optional(c).await?))
}

/// Writes back what a transition changes, if nobody changed the case since
/// it was read at `k.version`; `false` when somebody did.
pub async fn save(tx: &mut Tx, k: &Case, now: i64) -> Result<bool> {
    let open = i64::from(k.state.is_open());
    let sql = "UPDATE cases SET grid_id = $3, org_path = $4, state = $5, open = $6, assignee_id = $7, \
               assignee_name = $8, due_at = $9, near_at = $10, next_alarm_at = $11, accepted_at = $12, \
               resolved_at = $13, closed_at = $14, escalated_at = $15, rating = $16, rating_comment = $17, \
               rated_at = $18, dispute_sealed = $19, priority = $20, updated_at = $21, version = version + 1 \
               WHERE id = $1 AND version = $2";
    let n = on_tx!(tx, c => sqlx::query(sql)
        .bind(k.id).bind(k.version).bind(k.grid_id).bind(&k.org_path).bind(k.state).bind(open).bind(k.assignee_id)
        .bind(&k.assignee_name).bind(k.due_at).bind(k.near_at).bind(k.next_alarm_at).bind(k.accepted_at)
        .bind(k.resolved_at).bind(k.closed_at).bind(k.escalated_at).bind(k.rating).bind(&k.rating_comment)
        .bind(k.rated_at).bind(&k.dispute_sealed).bind(k.priority).bind(now)
        .execute(c).await?.rows_affected());
    Ok(n == 1)
}

/// Which cases a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Cases placed under any of these org paths (grids or communities).
    pub paths: Vec<String>,
    /// Only open ones (someone still has work on them).
    pub open: bool,
    /// Only those not placed in a grid (the dispatch list).
    pub unplaced: bool,
    pub assignee: Option<i64>,
    pub reporter: Option<Reporter>,
    pub kind: Option<CaseKind>,
    pub state: Option<CaseState>,
    /// A category by its code (one per community).
    pub category_code: Option<String>,
    /// Open and past their deadline at this time.
    pub overdue_at: Option<i64>,
    /// Open and near (not past) their deadline at this time.
    pub near_at: Option<i64>,
}

/// A resident's own requests: those his account filed, and those filed for
/// his record (by him or by his family member acting for him).
#[derive(Debug, Clone, Copy)]
pub struct Reporter {
    pub user: i64,
    pub resident: Option<i64>,
}

fn filter_sql(f: &Filter, args: &mut Args) -> String {
    let mut conds = Vec::new();
    if !f.paths.is_empty() {
        let ranges: Vec<String> = f.paths.iter().map(|p| args.prefix("k.org_path", p)).collect();
        conds.push(format!("({})", ranges.join(" OR ")));
    }
    if f.open || f.overdue_at.is_some() || f.near_at.is_some() {
        conds.push("k.open = 1".to_owned());
    }
    if f.unplaced {
        conds.push("k.grid_id IS NULL".to_owned());
    }
    if let Some(v) = f.assignee {
        conds.push(format!("k.assignee_id = {}", args.push(v)));
    }
    match f.reporter {
        Some(Reporter { user, resident: Some(r) }) => conds.push(format!(
            "(k.reporter_user_id = {} OR k.reporter_resident_id = {})",
            args.push(user),
            args.push(r)
        )),
        Some(Reporter { user, resident: None }) => conds.push(format!("k.reporter_user_id = {}", args.push(user))),
        None => {}
    }
    if let Some(code) = &f.category_code {
        conds.push(format!(
            "k.category_id IN (SELECT id FROM case_categories WHERE code = {})",
            args.push(code.as_str())
        ));
    }
    for (col, v) in [("k.kind", f.kind.map(CaseKind::code)), ("k.state", f.state.map(CaseState::code))] {
        if let Some(v) = v {
            conds.push(format!("{col} = {}", args.push(v)));
        }
    }
    if let Some(t) = f.overdue_at {
        conds.push(format!("k.due_at < {}", args.push(t)));
    }
    if let Some(t) = f.near_at {
        let p = args.push(t);
        conds.push(format!("k.near_at <= {p} AND k.due_at >= {p}"));
    }
    if conds.is_empty() { "1 = 1".to_owned() } else { conds.join(" AND ") }
}

/// A page of cases, the ones with the nearest deadline first (those without
/// one after them, newest first), and the total.
pub async fn list(tx: &mut Tx, f: &Filter, limit: i64, offset: i64) -> Result<(Vec<Case>, i64)> {
    let mut args = Args::default();
    let cond = filter_sql(f, &mut args);
    let sql = format!(
        "SELECT {COLS} FROM {FROM} WHERE {cond} ORDER BY k.due_at IS NULL, k.due_at, k.id DESC LIMIT {} OFFSET {}",
        args.next(1),
        args.next(2)
    );
    let count_sql = format!("SELECT COUNT(*) FROM cases k WHERE {cond}");
    let rows: Vec<Case> = on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args)
        .bind(limit).bind(offset).fetch_all(&mut *c).await?);
    let total: i64 = on_tx!(tx, c => bind_args!(sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.as_str())), args)
        .fetch_one(&mut *c).await?);
    Ok((rows, total))
}

/// How many cases each list of an inbox holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Counts {
    pub open: i64,
    pub near: i64,
    pub overdue: i64,
}

/// Open, near and overdue cases among those the filter finds.
pub async fn counts(tx: &mut Tx, f: &Filter, now: i64) -> Result<Counts> {
    let mut args = Args::default();
    let mut f = f.clone();
    f.open = true;
    let cond = filter_sql(&f, &mut args);
    let t = args.push(now);
    let sql = format!(
        "SELECT COUNT(*) AS open, \
         COALESCE(SUM(CASE WHEN k.near_at <= {t} AND k.due_at >= {t} THEN 1 ELSE 0 END), 0) AS near, \
         COALESCE(SUM(CASE WHEN k.due_at < {t} THEN 1 ELSE 0 END), 0) AS overdue FROM cases k WHERE {cond}"
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_one(&mut *c).await?))
}

/// Open cases of a category near a place since a time: in the building, or
/// within the box around the point (the caller measures the distance).
pub async fn similar(
    tx: &mut Tx,
    category_id: i64,
    building_id: Option<i64>,
    bbox: Option<(f64, f64, f64, f64)>,
    since: i64,
) -> Result<Vec<Case>> {
    let mut args = Args::default();
    let cat = args.push(category_id);
    let since = args.push(since);
    let mut places = Vec::new();
    if let Some(b) = building_id {
        places.push(format!("k.building_id = {}", args.push(b)));
    }
    let sql = if let Some((w, s, e, n)) = bbox {
        let base = args.0.len();
        places.push(format!(
            "(k.lon BETWEEN ${} AND ${} AND k.lat BETWEEN ${} AND ${})",
            base + 1,
            base + 2,
            base + 3,
            base + 4
        ));
        let sql = format!(
            "SELECT {COLS} FROM {FROM} WHERE k.category_id = {cat} AND k.open = 1 AND k.created_at >= {since} \
             AND ({}) ORDER BY k.id DESC LIMIT 20",
            places.join(" OR ")
        );
        return Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args)
            .bind(w).bind(e).bind(s).bind(n).fetch_all(&mut *c).await?));
    } else if places.is_empty() {
        return Ok(vec![]);
    } else {
        format!(
            "SELECT {COLS} FROM {FROM} WHERE k.category_id = {cat} AND k.open = 1 AND k.created_at >= {since} \
             AND ({}) ORDER BY k.id DESC LIMIT 20",
            places.join(" OR ")
        )
    };
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// Cases whose deadline sweep is due, oldest alarm first.
pub async fn alarms_due(tx: &mut Tx, now: i64, limit: i64) -> Result<Vec<Case>> {
    let sql = format!("SELECT {COLS} FROM {FROM} WHERE k.next_alarm_at <= $1 ORDER BY k.next_alarm_at, k.id LIMIT $2");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(limit).fetch_all(c).await?))
}

// ---- residents concerned ----

pub async fn add_residents(tx: &mut Tx, case_id: i64, resident_ids: &[i64]) -> Result<()> {
    for r in resident_ids {
        let sql = "INSERT INTO case_residents (case_id, resident_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        on_tx!(tx, c => sqlx::query(sql).bind(case_id).bind(r).execute(c).await?.rows_affected());
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Concerned {
    pub resident_id: i64,
    pub name: String,
    pub grid_path: String,
}

pub async fn residents_of(tx: &mut Tx, case_id: i64) -> Result<Vec<Concerned>> {
    let sql = "SELECT r.id AS resident_id, r.name, o.path AS grid_path FROM case_residents cr \
               JOIN residents r ON r.id = cr.resident_id JOIN org_nodes o ON o.id = r.grid_id \
               WHERE cr.case_id = $1 ORDER BY r.id";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(case_id).fetch_all(c).await?))
}

// ---- the timeline ----

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Event {
    pub id: i64,
    pub case_id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: EventKind,
    pub from_state: Option<CaseState>,
    pub to_state: Option<CaseState>,
    pub note: String,
}

pub struct NewEvent<'a> {
    pub case_id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: &'a str,
    pub action: EventKind,
    pub from_state: Option<CaseState>,
    pub to_state: Option<CaseState>,
    pub note: &'a str,
}

pub async fn add_event(tx: &mut Tx, e: &NewEvent<'_>) -> Result<()> {
    add_events(tx, std::slice::from_ref(e)).await
}

/// Timeline lines in one statement.
pub async fn add_events(tx: &mut Tx, rows: &[NewEvent<'_>]) -> Result<()> {
    for chunk in rows.chunks(500) {
        let sql = format!(
            "INSERT INTO case_events (case_id, at, actor_id, actor_name, action, from_state, to_state, note) VALUES {}",
            crate::residents::placeholders(tx.backend(), chunk.len(), 8)
        );
        on_tx!(tx, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for e in chunk {
                q = q.bind(e.case_id).bind(e.at).bind(e.actor_id).bind(e.actor_name).bind(e.action)
                    .bind(e.from_state).bind(e.to_state).bind(e.note);
            }
            q.execute(&mut *c).await?.rows_affected()
        });
    }
    Ok(())
}

pub async fn events(tx: &mut Tx, case_id: i64) -> Result<Vec<Event>> {
    let sql = "SELECT id, case_id, at, actor_id, actor_name, action, from_state, to_state, note FROM case_events \
               WHERE case_id = $1 ORDER BY id";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(case_id).fetch_all(c).await?))
}

// ---- dispute revisits ----

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Revisit {
    pub id: i64,
    pub case_id: i64,
    pub due_at: i64,
    pub done_at: Option<i64>,
    pub done_by: Option<String>,
    pub note: Option<String>,
}

pub async fn add_revisit(tx: &mut Tx, case_id: i64, due_at: i64) -> Result<()> {
    let sql = "INSERT INTO case_revisits (case_id, due_at) VALUES ($1, $2) ON CONFLICT DO NOTHING";
    on_tx!(tx, c => sqlx::query(sql).bind(case_id).bind(due_at).execute(c).await?.rows_affected());
    Ok(())
}

pub async fn revisits(tx: &mut Tx, case_id: i64) -> Result<Vec<Revisit>> {
    let sql =
        "SELECT id, case_id, due_at, done_at, done_by, note FROM case_revisits WHERE case_id = $1 ORDER BY due_at";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(case_id).fetch_all(c).await?))
}

/// Records a revisit as done; `false` when it was done already.
pub async fn finish_revisit(tx: &mut Tx, id: i64, by: &str, note: &str, now: i64) -> Result<bool> {
    let sql = "UPDATE case_revisits SET done_at = $2, done_by = $3, note = $4 WHERE id = $1 AND done_at IS NULL";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(id).bind(now).bind(by).bind(note).execute(c).await?.rows_affected());
    Ok(n == 1)
}

// ---- the outbox ----

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OutboxEntry {
    pub id: i64,
    pub at: i64,
    pub event: String,
    pub org_path: String,
    pub object: String,
    pub payload: String,
}

/// An event for the world outside.
pub struct NewOutbox<'a> {
    pub at: i64,
    pub event: &'a str,
    pub org_path: &'a str,
    pub object: &'a str,
    pub payload: &'a str,
}

pub async fn push_outbox(tx: &mut Tx, at: i64, event: &str, org_path: &str, object: &str, payload: &str) -> Result<()> {
    push_outbox_many(tx, &[NewOutbox { at, event, org_path, object, payload }]).await
}

/// Outbox entries in one statement, in order.
pub async fn push_outbox_many(tx: &mut Tx, rows: &[NewOutbox<'_>]) -> Result<()> {
    for chunk in rows.chunks(500) {
        let sql = format!(
            "INSERT INTO outbox (at, event, org_path, object, payload) VALUES {}",
            crate::residents::placeholders(tx.backend(), chunk.len(), 5)
        );
        on_tx!(tx, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for o in chunk {
                q = q.bind(o.at).bind(o.event).bind(o.org_path).bind(o.object).bind(o.payload);
            }
            q.execute(&mut *c).await?.rows_affected()
        });
    }
    Ok(())
}

/// The outbox entries about one object, oldest first.
pub async fn outbox_of(tx: &mut Tx, object: &str) -> Result<Vec<OutboxEntry>> {
    let sql = "SELECT id, at, event, org_path, object, payload FROM outbox WHERE object = $1 ORDER BY id";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(object).fetch_all(c).await?))
}

// ---- photos ----

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Photo {
    pub id: i64,
    pub case_id: i64,
    pub name: String,
    pub content_type: String,
    pub bytes: i64,
    pub width: i64,
    pub height: i64,
    pub created_by_name: String,
    pub created_at: i64,
}

pub struct NewPhoto<'a> {
    pub case_id: i64,
    pub name: &'a str,
    pub content_type: &'a str,
    pub bytes: i64,
    pub width: i64,
    pub height: i64,
    pub created_by: Option<i64>,
    pub created_by_name: &'a str,
    pub now: i64,
}

pub async fn add_photo(tx: &mut Tx, p: &NewPhoto<'_>) -> Result<i64> {
    let sql = "INSERT INTO case_photos (case_id, name, content_type, bytes, width, height, created_by, \
               created_by_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(p.case_id).bind(p.name).bind(p.content_type).bind(p.bytes).bind(p.width).bind(p.height)
        .bind(p.created_by).bind(p.created_by_name).bind(p.now).fetch_one(c).await?))
}

const PHOTO_COLS: &str = "id, case_id, name, content_type, bytes, width, height, created_by_name, created_at";

pub async fn photos(tx: &mut Tx, case_id: i64) -> Result<Vec<Photo>> {
    let sql = format!("SELECT {PHOTO_COLS} FROM case_photos WHERE case_id = $1 ORDER BY id");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(case_id).fetch_all(c).await?))
}

pub async fn photo(tx: &mut Tx, case_id: i64, id: i64) -> Result<Option<Photo>> {
    let sql = format!("SELECT {PHOTO_COLS} FROM case_photos WHERE case_id = $1 AND id = $2");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(case_id).bind(id).fetch_optional(c).await?))
}

// ---- what Open311 shows ----

/// A case with its place to the building (never the door).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PublicCase {
    #[sqlx(flatten)]
    pub case: Case,
    pub place: String,
}

const PUBLIC_FROM: &str =
    "LEFT JOIN buildings pb ON pb.id = k.building_id LEFT JOIN estates pe ON pe.id = pb.estate_id";
const PLACE: &str = "COALESCE(pe.name || ' ' || pb.name, '') AS place";

pub async fn communities(tx: &mut Tx) -> Result<Vec<crate::org::OrgNode>> {
    let sql = "SELECT id, code, kind, name, parent_id, path, boundary, created_at, updated_at FROM org_nodes \
               WHERE kind = 'community' ORDER BY path";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).fetch_all(c).await?))
}

pub async fn public_by_ids(tx: &mut Tx, community_id: i64, ids: &[i64]) -> Result<Vec<PublicCase>> {
    let mut args = Args::default();
    let com = args.push(community_id);
    let list: Vec<String> = ids.iter().take(1000).map(|id| args.push(*id)).collect();
    if list.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT {COLS}, {PLACE} FROM {FROM} {PUBLIC_FROM} WHERE k.community_id = {com} AND k.id IN ({}) \
         ORDER BY k.id DESC",
        list.join(", ")
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// A community's cases filed in `[start, end)`, of some categories and open
/// or closed, newest first.
pub async fn public_list(
    tx: &mut Tx,
    community_id: i64,
    codes: &[String],
    open: Option<bool>,
    start: i64,
    end: i64,
    limit: i64,
) -> Result<Vec<PublicCase>> {
    let mut args = Args::default();
    let mut conds = vec![
        format!("k.community_id = {}", args.push(community_id)),
        format!("k.created_at >= {}", args.push(start)),
        format!("k.created_at < {}", args.push(end)),
    ];
    if !codes.is_empty() {
        let list: Vec<String> = codes.iter().map(|c| args.push(c.as_str())).collect();
        conds.push(format!("cc.code IN ({})", list.join(", ")));
    }
    if let Some(o) = open {
        conds.push(format!("k.open = {}", i64::from(o)));
    }
    let sql = format!(
        "SELECT {COLS}, {PLACE} FROM {FROM} {PUBLIC_FROM} WHERE {} ORDER BY k.created_at DESC, k.id DESC LIMIT {}",
        conds.join(" AND "),
        args.push(limit)
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

// ---- API keys ----

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub org_id: i64,
    pub org_code: String,
    pub org_path: String,
    pub created_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

const KEY_COLS: &str = "a.id, a.name, a.org_id, o.code AS org_code, o.path AS org_path, a.created_by, a.created_at, \
                        a.revoked_at";

pub async fn insert_api_key(tx: &mut Tx, name: &str, hash: &str, org_id: i64, by: &str, now: i64) -> Result<i64> {
    let sql = "INSERT INTO api_keys (name, key_hash, org_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
               RETURNING id";
    Ok(
        on_tx!(tx, c => sqlx::query_scalar(sql).bind(name).bind(hash).bind(org_id).bind(by).bind(now).fetch_one(c).await?),
    )
}

pub async fn api_key_by_hash(tx: &mut Tx, hash: &str) -> Result<Option<ApiKey>> {
    let sql = format!("SELECT {KEY_COLS} FROM api_keys a JOIN org_nodes o ON o.id = a.org_id WHERE a.key_hash = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(hash).fetch_optional(c).await?))
}

pub async fn api_keys(tx: &mut Tx) -> Result<Vec<ApiKey>> {
    let sql = format!("SELECT {KEY_COLS} FROM api_keys a JOIN org_nodes o ON o.id = a.org_id ORDER BY a.id");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?))
}

pub async fn revoke_api_key(tx: &mut Tx, id: i64, now: i64) -> Result<()> {
    let sql = "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
    on_tx!(tx, c => sqlx::query(sql).bind(id).bind(now).execute(c).await?.rows_affected());
    Ok(())
}

// ---- webhooks ----

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Webhook {
    pub id: i64,
    pub org_id: i64,
    pub org_code: String,
    pub org_path: String,
    pub url: String,
    pub secret_sealed: String,
    pub created_by: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    pub cursor: i64,
    pub failures: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
}

const HOOK_COLS: &str = "w.id, w.org_id, o.code AS org_code, o.path AS org_path, w.url, w.secret_sealed, w.created_by, \
                         w.created_at, w.disabled_at, w.cursor, w.failures, w.next_attempt_at, w.last_error";

/// A new webhook starts after the outbox's last entry: it gets what happens
/// from now on.
pub async fn insert_webhook(
    tx: &mut Tx,
    org_id: i64,
    url: &str,
    secret_sealed: &str,
    by: &str,
    now: i64,
) -> Result<i64> {
    let sql = "INSERT INTO webhooks (org_id, url, secret_sealed, created_by, created_at, cursor) \
               VALUES ($1, $2, $3, $4, $5, (SELECT COALESCE(MAX(id), 0) FROM outbox)) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(org_id).bind(url).bind(secret_sealed).bind(by).bind(now)
        .fetch_one(c).await?))
}

pub async fn webhooks(tx: &mut Tx) -> Result<Vec<Webhook>> {
    let sql = format!("SELECT {HOOK_COLS} FROM webhooks w JOIN org_nodes o ON o.id = w.org_id ORDER BY w.id");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?))
}

pub async fn disable_webhook(tx: &mut Tx, id: i64, now: i64) -> Result<()> {
    let sql = "UPDATE webhooks SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL";
    on_tx!(tx, c => sqlx::query(sql).bind(id).bind(now).execute(c).await?.rows_affected());
    Ok(())
}

/// Records a delivery attempt: the cursor moved to `cursor`, and the
/// failures and next attempt after it.
pub async fn webhook_attempted(
    tx: &mut Tx,
    id: i64,
    cursor: i64,
    failures: i64,
    next_attempt_at: i64,
    error: Option<&str>,
) -> Result<()> {
    let sql = "UPDATE webhooks SET cursor = $2, failures = $3, next_attempt_at = $4, last_error = $5 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(id).bind(cursor).bind(failures).bind(next_attempt_at).bind(error)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Outbox entries after `after` under `path`, oldest first.
pub async fn outbox_after(tx: &mut Tx, after: i64, path: &str, limit: i64) -> Result<Vec<OutboxEntry>> {
    let sql = "SELECT id, at, event, org_path, object, payload FROM outbox WHERE id > $1 AND org_path >= $2 \
               AND org_path < $3 ORDER BY id LIMIT $4";
    let upper = format!("{path}\u{10FFFF}");
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(after).bind(path).bind(&upper).bind(limit).fetch_all(c).await?))
}

/// The open requests filed for a resident, by his record or by his account.
pub async fn open_filed_for(tx: &mut Tx, resident_id: i64, user_id: Option<i64>, kind: CaseKind) -> Result<Vec<i64>> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT id FROM cases WHERE open = 1 AND kind = $3 \
         AND (reporter_resident_id = $1 OR (reporter_user_id = $2 AND reporter_resident_id IS NULL)) ORDER BY id")
        .bind(resident_id).bind(user_id).bind(kind.code()).fetch_all(c).await?))
}

/// Every case filed for a resident or by his account, oldest first (for a
/// copy of his data).
pub async fn filed_for(tx: &mut Tx, resident_id: i64, user_id: Option<i64>) -> Result<Vec<Case>> {
    let sql = format!(
        "SELECT {COLS} FROM {FROM} WHERE k.reporter_resident_id = $1 \
         OR (k.reporter_user_id = $2 AND k.reporter_resident_id IS NULL) ORDER BY k.id LIMIT 10000"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(resident_id).bind(user_id).fetch_all(c).await?))
}

/// Open cases of a kind filed for a resident (or by his account) in one
/// grid, moved to another grid of the same community: who follows them up
/// follows the person. Answers their ids.
pub async fn move_open_filed(
    tx: &mut Tx,
    resident_id: i64,
    user_id: Option<i64>,
    kind: CaseKind,
    from_grid: i64,
    to_grid: i64,
    to_path: &str,
) -> Result<Vec<i64>> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "UPDATE cases SET grid_id = $5, org_path = $6, version = version + 1 \
         WHERE open = 1 AND kind = $3 AND grid_id = $4 \
         AND (reporter_resident_id = $1 OR (reporter_user_id = $2 AND reporter_resident_id IS NULL)) \
         RETURNING id")
        .bind(resident_id).bind(user_id).bind(kind.code()).bind(from_grid).bind(to_grid).bind(to_path)
        .fetch_all(c).await?))
}
