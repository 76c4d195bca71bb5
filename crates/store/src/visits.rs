//! Visits and care plans: the visits themselves (recorded once per id the
//! phone chose), the intervals a community sets, and each resident's last
//! contact and next visit due.

use serde::Serialize;

use yijia_domain::care::{Finding, VisitMode};
use yijia_domain::case::{CaseKind, CaseState};

use crate::sql::{Args, bind_args};
use crate::{Result, Tx, on_tx};

#[derive(Debug, Clone, Copy)]
pub struct NewVisit<'a> {
    pub client_id: &'a str,
    pub resident_id: Option<i64>,
    pub household_id: Option<i64>,
    pub grid_id: i64,
    pub visitor_id: Option<i64>,
    pub visitor_name: &'a str,
    pub visited_at: i64,
    /// YYYY-MM-DD in Asia/Shanghai.
    pub visited_on: &'a str,
    pub mode: VisitMode,
    pub health: Finding,
    pub living: Finding,
    pub needs: Finding,
    pub safety: Finding,
    pub notes_sealed: Option<&'a str>,
    pub next_visit_on: Option<&'a str>,
    pub case_id: Option<i64>,
    pub photo_file: Option<&'a str>,
    pub photo_type: Option<&'a str>,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Visit {
    pub id: i64,
    pub client_id: String,
    pub resident_id: Option<i64>,
    pub household_id: Option<i64>,
    pub grid_id: i64,
    pub visitor_id: Option<i64>,
    pub visitor_name: String,
    pub visited_at: i64,
    pub visited_on: String,
    pub mode: VisitMode,
    pub health: Finding,
    pub living: Finding,
    pub needs: Finding,
    pub safety: Finding,
    pub notes_sealed: Option<String>,
    pub next_visit_on: Option<String>,
    pub case_id: Option<i64>,
    pub photo_file: Option<String>,
    pub photo_type: Option<String>,
    /// When the server recorded it.
    pub created_at: i64,
}

const COLS: &str = "id, client_id, resident_id, household_id, grid_id, visitor_id, visitor_name, visited_at, \
                    visited_on, mode, health, living, needs, safety, notes_sealed, next_visit_on, case_id, \
                    photo_file, photo_type, created_at";

/// Most rows in one statement (19 parameters each, well under either
/// backend's limit).
pub const BATCH: usize = 500;

/// Records a visit unless one with its client id is there already; the
/// visit's id and whether it is new.
pub async fn insert(tx: &mut Tx, v: &NewVisit<'_>) -> Result<(i64, bool)> {
    let new = insert_many(tx, std::slice::from_ref(v)).await?;
    match new.first() {
        Some((_, id)) => Ok((*id, true)),
        None => {
            let known = by_client_id(tx, v.client_id).await?.ok_or(crate::StoreError::NotFound)?;
            Ok((known.id, false))
        }
    }
}

/// Records visits, each unless its client id is there already; the client
/// ids and ids of those recorded now.
pub async fn insert_many(tx: &mut Tx, rows: &[NewVisit<'_>]) -> Result<Vec<(String, i64)>> {
    if let Tx::Postgres(t) = tx {
        return insert_pg(t, rows, &[]).await;
    }
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO visits (client_id, resident_id, household_id, grid_id, visitor_id, visitor_name, \
             visited_at, visited_on, mode, health, living, needs, safety, notes_sealed, next_visit_on, case_id, \
             photo_file, photo_type, created_at) VALUES {} ON CONFLICT (client_id) DO NOTHING RETURNING client_id, id",
            crate::residents::placeholders(tx.backend(), chunk.len(), 19)
        );
        let got: Vec<(String, i64)> = on_tx!(tx, c => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for v in chunk {
                q = q.bind(v.client_id).bind(v.resident_id).bind(v.household_id).bind(v.grid_id)
                    .bind(v.visitor_id).bind(v.visitor_name).bind(v.visited_at).bind(v.visited_on).bind(v.mode)
                    .bind(v.health).bind(v.living).bind(v.needs).bind(v.safety).bind(v.notes_sealed)
                    .bind(v.next_visit_on).bind(v.case_id).bind(v.photo_file).bind(v.photo_type).bind(v.now);
            }
            q.fetch_all(&mut *c).await?
        });
        out.extend(got);
    }
    Ok(out)
}

/// Records visits as `insert_many` does, and writes each plan whose visit
/// (by client id) was recorded now: the plans that the new visits moved.
pub async fn insert_with_plans(
    tx: &mut Tx,
    rows: &[NewVisit<'_>],
    plans: &[(Plan, &str)],
) -> Result<Vec<(String, i64)>> {
    if let Tx::Postgres(t) = tx {
        return insert_pg(t, rows, plans).await;
    }
    let new = insert_many(tx, rows).await?;
    let recorded: std::collections::HashSet<&str> = new.iter().map(|(c, _)| c.as_str()).collect();
    let moved: Vec<Plan> = plans.iter().filter(|(_, c)| recorded.contains(c)).map(|(p, _)| p.clone()).collect();
    set_plans(tx, &moved).await?;
    Ok(new)
}

/// PostgreSQL takes the rows as one array per column: one statement for any
/// number, without thousands of parameters to bind; the plans go in the
/// same statement.
async fn insert_pg<'a>(
    t: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    rows: &[NewVisit<'a>],
    plans: &[(Plan, &str)],
) -> Result<Vec<(String, i64)>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let col = |f: fn(&NewVisit<'a>) -> &'a str| rows.iter().map(f).collect::<Vec<&str>>();
    let opt = |f: fn(&NewVisit<'a>) -> Option<&'a str>| rows.iter().map(f).collect::<Vec<Option<&str>>>();
    let int = |f: fn(&NewVisit<'a>) -> Option<i64>| rows.iter().map(f).collect::<Vec<Option<i64>>>();
    let insert = "INSERT INTO visits (client_id, resident_id, household_id, grid_id, visitor_id, visitor_name, \
                  visited_at, visited_on, mode, health, living, needs, safety, notes_sealed, next_visit_on, case_id, \
                  photo_file, photo_type, created_at) \
                  SELECT * FROM UNNEST($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::text[], \
                  $7::int8[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], \
                  $14::text[], $15::text[], $16::int8[], $17::text[], $18::text[], $19::int8[]) \
                  ON CONFLICT (client_id) DO NOTHING RETURNING client_id, id";
    let sql = if plans.is_empty() {
        insert.to_owned()
    } else {
        format!(
            "WITH ins AS ({insert}), moved AS (INSERT INTO care_plans (resident_id, grid_id, last_contact_on, \
             due_on, days) SELECT p.resident_id, p.grid_id, p.last_contact_on, p.due_on, p.days \
             FROM UNNEST($20::int8[], $21::int8[], $22::text[], $23::text[], $24::int8[], $25::text[]) \
             AS p (resident_id, grid_id, last_contact_on, due_on, days, client_id) \
             WHERE p.client_id IN (SELECT client_id FROM ins) \
             ON CONFLICT (resident_id) DO UPDATE SET grid_id = excluded.grid_id, \
             last_contact_on = excluded.last_contact_on, due_on = excluded.due_on, days = excluded.days) \
             SELECT client_id, id FROM ins"
        )
    };
    let q = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(col(|v| v.client_id))
        .bind(int(|v| v.resident_id))
        .bind(int(|v| v.household_id))
        .bind(rows.iter().map(|v| v.grid_id).collect::<Vec<i64>>())
        .bind(int(|v| v.visitor_id))
        .bind(col(|v| v.visitor_name))
        .bind(rows.iter().map(|v| v.visited_at).collect::<Vec<i64>>())
        .bind(col(|v| v.visited_on))
        .bind(col(|v| v.mode.code()))
        .bind(col(|v| v.health.code()))
        .bind(col(|v| v.living.code()))
        .bind(col(|v| v.needs.code()))
        .bind(col(|v| v.safety.code()))
        .bind(opt(|v| v.notes_sealed))
        .bind(opt(|v| v.next_visit_on))
        .bind(int(|v| v.case_id))
        .bind(opt(|v| v.photo_file))
        .bind(opt(|v| v.photo_type))
        .bind(rows.iter().map(|v| v.now).collect::<Vec<i64>>());
    let q = if plans.is_empty() {
        q
    } else {
        q.bind(plans.iter().map(|(p, _)| p.resident_id).collect::<Vec<i64>>())
            .bind(plans.iter().map(|(p, _)| p.grid_id).collect::<Vec<i64>>())
            .bind(plans.iter().map(|(p, _)| p.last_contact_on.as_deref()).collect::<Vec<Option<&str>>>())
            .bind(plans.iter().map(|(p, _)| p.due_on.as_deref()).collect::<Vec<Option<&str>>>())
            .bind(plans.iter().map(|(p, _)| p.days).collect::<Vec<Option<i64>>>())
            .bind(plans.iter().map(|(_, c)| *c).collect::<Vec<&str>>())
    };
    Ok(q.fetch_all(&mut **t).await?)
}

pub async fn by_client_id(tx: &mut Tx, client_id: &str) -> Result<Option<Visit>> {
    let sql = format!("SELECT {COLS} FROM visits WHERE client_id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(client_id).fetch_optional(c).await?))
}

pub async fn by_client_ids(tx: &mut Tx, client_ids: &[&str]) -> Result<Vec<Visit>> {
    if client_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let ids: Vec<String> = client_ids.iter().map(|c| args.push(*c)).collect();
    let sql = format!("SELECT {COLS} FROM visits WHERE client_id IN ({})", ids.join(", "));
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Visit>> {
    let sql = format!("SELECT {COLS} FROM visits WHERE id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// Takes a visit back (undone by its visitor right after recording it);
/// the monthly tallies follow by trigger.
pub async fn delete(tx: &mut Tx, id: i64) -> Result<bool> {
    Ok(on_tx!(tx, c => sqlx::query("DELETE FROM visits WHERE id = $1").bind(id).execute(c).await?.rows_affected()) == 1)
}

/// A resident's visits (their own and their household's), newest first.
pub async fn of_resident(tx: &mut Tx, resident_id: i64, limit: i64) -> Result<Vec<Visit>> {
    let sql = format!(
        "SELECT {COLS} FROM visits WHERE resident_id = $1 OR (resident_id IS NULL AND household_id = \
         (SELECT household_id FROM residents WHERE id = $1)) ORDER BY visited_at DESC, id DESC LIMIT $2"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(resident_id).bind(limit).fetch_all(c).await?))
}

/// Links the case opened from a visit.
pub async fn set_case(tx: &mut Tx, visit_id: i64, case_id: i64) -> Result<()> {
    let sql = "UPDATE visits SET case_id = $2 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(visit_id).bind(case_id).execute(c).await?.rows_affected());
    Ok(())
}

/// A community's own interval for a category (instead of the default).
pub async fn set_interval(tx: &mut Tx, community_id: i64, category: &str, days: i64) -> Result<()> {
    let sql = "INSERT INTO care_intervals (community_id, category, days) VALUES ($1, $2, $3) \
               ON CONFLICT (community_id, category) DO UPDATE SET days = excluded.days";
    on_tx!(tx, c => sqlx::query(sql).bind(community_id).bind(category).bind(days).execute(c).await?.rows_affected());
    Ok(())
}

/// Back to the default interval.
pub async fn remove_interval(tx: &mut Tx, community_id: i64, category: &str) -> Result<()> {
    let sql = "DELETE FROM care_intervals WHERE community_id = $1 AND category = $2";
    on_tx!(tx, c => sqlx::query(sql).bind(community_id).bind(category).execute(c).await?.rows_affected());
    Ok(())
}

/// A community's own intervals, by category.
pub async fn intervals(tx: &mut Tx, community_id: i64) -> Result<Vec<(String, i64)>> {
    let sql = "SELECT category, days FROM care_intervals WHERE community_id = $1 ORDER BY category";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(community_id).fetch_all(c).await?))
}

/// A resident's own interval (`None`: their categories decide).
pub async fn set_own_interval(tx: &mut Tx, resident_id: i64, days: Option<i64>) -> Result<()> {
    let sql = "UPDATE residents SET visit_interval_days = $2 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(resident_id).bind(days).execute(c).await?.rows_affected());
    Ok(())
}

/// A resident's plan as it stands: when last contacted, when due, and the
/// interval that gave the date (`None`: under no plan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub resident_id: i64,
    pub grid_id: i64,
    pub last_contact_on: Option<String>,
    pub due_on: Option<String>,
    pub days: Option<i64>,
    /// When the first visit under the plan was due.
    pub first_due_on: Option<String>,
}

/// Ends a resident's plan (they left the register): off the walk list and
/// the coverage at once; the last contact stays.
/// A resident's plan follows them to another grid (its due day is computed
/// again by the caller).
pub async fn move_plan(tx: &mut Tx, resident_id: i64, grid_id: i64) -> Result<()> {
    let sql = "UPDATE care_plans SET grid_id = $2 WHERE resident_id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(resident_id).bind(grid_id).execute(c).await?.rows_affected());
    Ok(())
}

pub async fn end_plan(tx: &mut Tx, resident_id: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE care_plans SET due_on = NULL, days = NULL, first_due_on = NULL WHERE resident_id = $1")
        .bind(resident_id).execute(c).await?.rows_affected());
    Ok(())
}

/// Writes the plans, a statement for many.
pub async fn set_plans(tx: &mut Tx, plans: &[Plan]) -> Result<()> {
    for chunk in plans.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO care_plans (resident_id, grid_id, last_contact_on, due_on, days, first_due_on) VALUES {} \
             ON CONFLICT (resident_id) DO UPDATE SET grid_id = excluded.grid_id, \
             last_contact_on = excluded.last_contact_on, due_on = excluded.due_on, days = excluded.days, \
             first_due_on = excluded.first_due_on",
            crate::residents::placeholders(tx.backend(), chunk.len(), 6)
        );
        on_tx!(tx, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for pl in chunk {
                q = q.bind(pl.resident_id).bind(pl.grid_id).bind(pl.last_contact_on.as_deref())
                    .bind(pl.due_on.as_deref()).bind(pl.days).bind(pl.first_due_on.as_deref());
            }
            q.execute(&mut *c).await?.rows_affected()
        });
    }
    Ok(())
}

/// What decides a resident's plan.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PlanInput {
    pub resident_id: i64,
    pub grid_id: i64,
    pub grid_code: String,
    pub grid_path: String,
    pub community_id: i64,
    pub household_id: Option<i64>,
    pub visit_interval_days: Option<i64>,
    pub last_contact_on: Option<String>,
    pub visit_due_on: Option<String>,
    pub plan_days: Option<i64>,
    pub first_due_on: Option<String>,
    /// On the register (not moved away or deceased): only they are planned.
    pub on_register: bool,
    /// Their categories' codes, comma-separated (read with the row).
    cats: Option<String>,
    /// Their community's own intervals, `code=days` comma-separated.
    own: Option<String>,
    #[sqlx(skip)]
    pub categories: Vec<String>,
    /// The community's own intervals: (category, days).
    #[sqlx(skip)]
    pub intervals: Vec<(String, i64)>,
}

/// Which residents a plan reading is about.
#[derive(Debug, Clone, Copy)]
pub enum Whose<'a> {
    Residents(&'a [i64]),
    Households(&'a [i64]),
    Community(i64),
}

/// The plan inputs of some residents, their categories and their
/// community's intervals included, in one statement.
pub async fn plan_inputs(tx: &mut Tx, whose: Whose<'_>) -> Result<Vec<PlanInput>> {
    let mut args = Args::default();
    let cond = match whose {
        Whose::Residents(ids) | Whose::Households(ids) if ids.is_empty() => return Ok(vec![]),
        Whose::Residents(ids) => {
            format!("r.id IN ({})", ids.iter().map(|i| args.push(*i)).collect::<Vec<_>>().join(", "))
        }
        Whose::Households(ids) => {
            format!("r.household_id IN ({})", ids.iter().map(|i| args.push(*i)).collect::<Vec<_>>().join(", "))
        }
        Whose::Community(id) => format!("o.parent_id = {}", args.push(id)),
    };
    // PostgreSQL would hash all of org_nodes for fifty residents: a lateral
    // join looks each grid up by its key
    let org = match tx.backend() {
        crate::Backend::Sqlite => "JOIN org_nodes o ON o.id = r.grid_id",
        crate::Backend::Postgres => {
            "JOIN LATERAL (SELECT g.id, g.code, g.path, g.parent_id FROM org_nodes g WHERE g.id = r.grid_id) o ON true"
        }
    };
    let (cats, own) = match tx.backend() {
        crate::Backend::Sqlite => (
            "(SELECT group_concat(category, ',') FROM (SELECT category FROM resident_categories rc \
             WHERE rc.resident_id = r.id ORDER BY category))",
            "(SELECT group_concat(category || '=' || days, ',') FROM care_intervals ci \
             WHERE ci.community_id = o.parent_id)",
        ),
        crate::Backend::Postgres => (
            "(SELECT string_agg(category, ',' ORDER BY category) FROM resident_categories rc \
             WHERE rc.resident_id = r.id)",
            "(SELECT string_agg(category || '=' || days::text, ',') FROM care_intervals ci \
             WHERE ci.community_id = o.parent_id)",
        ),
    };
    let sql = format!(
        "SELECT r.id AS resident_id, r.grid_id, o.code AS grid_code, o.path AS grid_path, \
         o.parent_id AS community_id, r.household_id, r.visit_interval_days, cp.last_contact_on, \
         cp.due_on AS visit_due_on, cp.days AS plan_days, cp.first_due_on, {cats} AS cats, {own} AS own, \
         r.status = 'present' AS on_register \
         FROM residents r {org} LEFT JOIN care_plans cp ON cp.resident_id = r.id \
         WHERE {cond} ORDER BY r.id"
    );
    let mut rows: Vec<PlanInput> =
        on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?);
    for r in &mut rows {
        r.categories =
            r.cats.as_deref().unwrap_or("").split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect();
        r.intervals = r
            .own
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .filter_map(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
            .collect();
        r.intervals.sort();
    }
    Ok(rows)
}

/// The categories these residents hold: (resident, category code).
pub async fn categories_of(tx: &mut Tx, resident_ids: &[i64]) -> Result<Vec<(i64, String)>> {
    let mut out = Vec::new();
    for part in resident_ids.chunks(500) {
        let mut args = Args::default();
        let ids: Vec<String> = part.iter().map(|r| args.push(*r)).collect();
        let sql = format!(
            "SELECT resident_id, category FROM resident_categories WHERE resident_id IN ({}) \
             ORDER BY resident_id, category",
            ids.join(", ")
        );
        let rows: Vec<(i64, String)> = on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?);
        out.extend(rows);
    }
    Ok(out)
}

/// Someone on a walk list, with where they live.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Due {
    pub resident_id: i64,
    pub name: String,
    pub grid_id: i64,
    pub household_id: Option<i64>,
    pub building_id: Option<i64>,
    pub estate: Option<String>,
    pub building: Option<String>,
    pub entrance: Option<String>,
    pub door: Option<String>,
    pub last_contact_on: Option<String>,
    pub visit_due_on: String,
    pub plan_days: Option<i64>,
}

/// Residents of these grids due on or before `until`, the longest overdue
/// first.
pub async fn due(tx: &mut Tx, grid_ids: &[i64], until: &str, limit: i64) -> Result<Vec<Due>> {
    if grid_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let grids: Vec<String> = grid_ids.iter().map(|g| args.push(*g)).collect();
    let until = args.push(until);
    let sql = format!(
        "SELECT r.id AS resident_id, r.name, r.grid_id, r.household_id, h.building_id, e.name AS estate, \
         b.name AS building, h.entrance, h.door, cp.last_contact_on, cp.due_on AS visit_due_on, \
         cp.days AS plan_days FROM care_plans cp JOIN residents r ON r.id = cp.resident_id \
         LEFT JOIN households h ON h.id = r.household_id \
         LEFT JOIN buildings b ON b.id = h.building_id LEFT JOIN estates e ON e.id = b.estate_id \
         WHERE cp.grid_id IN ({}) AND cp.due_on IS NOT NULL AND cp.due_on <= {until} \
         ORDER BY cp.due_on, cp.resident_id LIMIT {}",
        grids.join(", "),
        args.push(limit)
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// How many residents of each grid are due on or before `until`.
pub async fn due_counts(tx: &mut Tx, grid_ids: &[i64], until: &str) -> Result<Vec<(i64, i64)>> {
    if grid_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let grids: Vec<String> = grid_ids.iter().map(|g| args.push(*g)).collect();
    let sql = format!(
        "SELECT grid_id, COUNT(*) FROM care_plans WHERE grid_id IN ({}) AND due_on IS NOT NULL \
         AND due_on <= {} GROUP BY grid_id ORDER BY grid_id",
        grids.join(", "),
        args.push(until)
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// An open case in a building on the walk.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CaseBeside {
    pub id: i64,
    pub building_id: i64,
    pub kind: CaseKind,
    pub state: CaseState,
    pub title: String,
    pub due_at: Option<i64>,
}

/// The open cases in these buildings.
pub async fn cases_beside(tx: &mut Tx, building_ids: &[i64]) -> Result<Vec<CaseBeside>> {
    if building_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let ids: Vec<String> = building_ids.iter().map(|g| args.push(*g)).collect();
    let sql = format!(
        "SELECT id, building_id, kind, state, title, due_at FROM cases WHERE building_id IN ({}) AND open = 1 \
         ORDER BY due_at, id LIMIT 200",
        ids.join(", ")
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// A dispute's revisit that is due.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RevisitDue {
    pub id: i64,
    pub case_id: i64,
    pub due_at: i64,
    pub title: String,
    pub building_id: Option<i64>,
    pub address: String,
    pub grid_id: i64,
}

/// Revisits of cases in these grids due before `until`, not done yet.
pub async fn revisits_due(tx: &mut Tx, grid_ids: &[i64], until: i64) -> Result<Vec<RevisitDue>> {
    if grid_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let until = args.push(until);
    let grids: Vec<String> = grid_ids.iter().map(|g| args.push(*g)).collect();
    let sql = format!(
        "SELECT v.id, v.case_id, v.due_at, k.title, k.building_id, k.address, k.grid_id \
         FROM case_revisits v JOIN cases k ON k.id = v.case_id \
         WHERE v.done_at IS NULL AND v.due_at < {until} AND k.grid_id IN ({}) ORDER BY v.due_at, v.id LIMIT 200",
        grids.join(", ")
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// A household where someone died lately and no one has visited since: the
/// worker is offered a last visit, to the family.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LastVisit {
    pub resident_id: i64,
    pub name: String,
    pub household_id: i64,
    pub died_on: String,
    pub estate: String,
    pub building: String,
    pub entrance: String,
    pub door: String,
}

/// Households on these grids where someone died on or after `since`
/// (`YYYY-MM-DD`) with no visit to the household since that day.
pub async fn last_visits_due(tx: &mut Tx, grid_ids: &[i64], since: &str) -> Result<Vec<LastVisit>> {
    if grid_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let since = args.push(since);
    let grids: Vec<String> = grid_ids.iter().map(|g| args.push(*g)).collect();
    let sql = format!(
        "SELECT r.id AS resident_id, r.name, r.household_id, r.status_on AS died_on, e.name AS estate, \
         b.name AS building, h.entrance, h.door \
         FROM residents r JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = h.building_id \
         JOIN estates e ON e.id = b.estate_id \
         WHERE r.status = 'deceased' AND r.erased_at IS NULL AND r.status_on >= {since} AND r.grid_id IN ({}) \
         AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.household_id = r.household_id AND v.visited_on >= r.status_on) \
         ORDER BY r.status_on, r.id LIMIT 50",
        grids.join(", ")
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// A resident under a plan in a category (`None`: by their own interval
/// only), for coverage.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Planned {
    pub resident_id: i64,
    pub grid_id: i64,
    pub household_id: Option<i64>,
    pub plan_days: i64,
    pub category: Option<String>,
    pub first_due_on: Option<String>,
}

/// Everyone under a plan in these grids, one row per category they hold.
pub async fn planned(tx: &mut Tx, grid_ids: &[i64]) -> Result<Vec<Planned>> {
    if grid_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let grids: Vec<String> = grid_ids.iter().map(|g| args.push(*g)).collect();
    let sql = format!(
        "SELECT r.id AS resident_id, cp.grid_id, r.household_id, cp.days AS plan_days, rc.category, cp.first_due_on \
         FROM care_plans cp JOIN residents r ON r.id = cp.resident_id \
         LEFT JOIN resident_categories rc ON rc.resident_id = r.id \
         WHERE cp.grid_id IN ({}) AND cp.due_on IS NOT NULL AND cp.days IS NOT NULL ORDER BY r.id",
        grids.join(", ")
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// A contact: a visit to the resident, or to their household.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Contact {
    pub resident_id: Option<i64>,
    pub household_id: Option<i64>,
    pub visited_on: String,
}

/// The visits in these grids on days `from..=to`.
pub async fn contacts(tx: &mut Tx, grid_ids: &[i64], from: &str, to: &str) -> Result<Vec<Contact>> {
    if grid_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let grids: Vec<String> = grid_ids.iter().map(|g| args.push(*g)).collect();
    let sql = format!(
        "SELECT resident_id, household_id, visited_on FROM visits WHERE grid_id IN ({}) \
         AND visited_on >= {} AND visited_on <= {}",
        grids.join(", "),
        args.push(from),
        args.push(to)
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// Visits per visitor in these grids on days `from..=to`: name, visits,
/// people seen.
pub async fn per_visitor(tx: &mut Tx, grid_ids: &[i64], from: &str, to: &str) -> Result<Vec<(String, i64, i64)>> {
    if grid_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let grids: Vec<String> = grid_ids.iter().map(|g| args.push(*g)).collect();
    let sql = format!(
        "SELECT visitor_name, COUNT(*), COUNT(DISTINCT COALESCE(resident_id, -household_id)) FROM visits \
         WHERE grid_id IN ({}) AND visited_on >= {} AND visited_on <= {} \
         GROUP BY visitor_id, visitor_name ORDER BY COUNT(*) DESC, visitor_name",
        grids.join(", "),
        args.push(from),
        args.push(to)
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// A visit with sealed notes: its id, client id, the notes and whom the
/// visit was to (when one person).
pub type SealedNotes = (i64, String, String, Option<i64>);

/// Visits with sealed notes after `after_id`, at most `limit`, by id, for
/// sealing again under a new key.
pub async fn sealed_notes(tx: &mut Tx, after_id: i64, limit: i64) -> Result<Vec<SealedNotes>> {
    let sql = "SELECT id, client_id, notes_sealed, resident_id FROM visits WHERE id > $1 AND notes_sealed IS NOT NULL \
               ORDER BY id LIMIT $2";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(after_id).bind(limit).fetch_all(c).await?))
}

pub async fn set_notes_sealed(tx: &mut Tx, id: i64, sealed: &str) -> Result<()> {
    let sql = "UPDATE visits SET notes_sealed = $2 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(id).bind(sealed).execute(c).await?.rows_affected());
    Ok(())
}
