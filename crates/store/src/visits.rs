//! Visits and care plans: the visits themselves (recorded once per id the
//! phone chose), the intervals a community sets, and each resident's last
//! contact and next visit due.

use serde::Serialize;

use crate::sql::{Args, bind_args};
use crate::{Result, Tx, on_tx};

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
    pub mode: &'a str,
    pub health: &'a str,
    pub living: &'a str,
    pub needs: &'a str,
    pub safety: &'a str,
    pub notes_sealed: Option<&'a str>,
    pub next_visit_on: Option<&'a str>,
    pub case_id: Option<i64>,
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
    pub mode: String,
    pub health: String,
    pub living: String,
    pub needs: String,
    pub safety: String,
    pub notes_sealed: Option<String>,
    pub next_visit_on: Option<String>,
    pub case_id: Option<i64>,
}

const COLS: &str = "id, client_id, resident_id, household_id, grid_id, visitor_id, visitor_name, visited_at, \
                    visited_on, mode, health, living, needs, safety, notes_sealed, next_visit_on, case_id";

/// Records a visit unless one with its client id is there already; the
/// visit's id and whether it is new.
pub async fn insert(tx: &mut Tx, v: &NewVisit<'_>) -> Result<(i64, bool)> {
    let sql = "INSERT INTO visits (client_id, resident_id, household_id, grid_id, visitor_id, visitor_name, \
               visited_at, visited_on, mode, health, living, needs, safety, notes_sealed, next_visit_on, case_id, \
               created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
               ON CONFLICT (client_id) DO NOTHING RETURNING id";
    let id: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(v.client_id).bind(v.resident_id).bind(v.household_id).bind(v.grid_id).bind(v.visitor_id)
        .bind(v.visitor_name).bind(v.visited_at).bind(v.visited_on).bind(v.mode).bind(v.health).bind(v.living)
        .bind(v.needs).bind(v.safety).bind(v.notes_sealed).bind(v.next_visit_on).bind(v.case_id).bind(v.now)
        .fetch_optional(&mut *c).await?);
    match id {
        Some(id) => Ok((id, true)),
        None => {
            let known = by_client_id(tx, v.client_id).await?.ok_or(crate::StoreError::NotFound)?;
            Ok((known.id, false))
        }
    }
}

pub async fn by_client_id(tx: &mut Tx, client_id: &str) -> Result<Option<Visit>> {
    let sql = format!("SELECT {COLS} FROM visits WHERE client_id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(client_id).fetch_optional(c).await?))
}

/// A resident's visits, newest first.
pub async fn of_resident(tx: &mut Tx, resident_id: i64, limit: i64) -> Result<Vec<Visit>> {
    let sql = format!("SELECT {COLS} FROM visits WHERE resident_id = $1 ORDER BY visited_at DESC, id DESC LIMIT $2");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(resident_id).bind(limit).fetch_all(c).await?))
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

/// A resident's last contact and next visit due (`None`: under no plan).
pub async fn set_plan(
    tx: &mut Tx,
    resident_id: i64,
    last_contact_on: Option<&str>,
    due_on: Option<&str>,
) -> Result<()> {
    let sql = "UPDATE residents SET last_contact_on = $2, visit_due_on = $3 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(resident_id).bind(last_contact_on).bind(due_on)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Someone due for a visit.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Due {
    pub resident_id: i64,
    pub name: String,
    pub grid_id: i64,
    pub household_id: Option<i64>,
    pub last_contact_on: Option<String>,
    pub visit_due_on: String,
    pub visit_interval_days: Option<i64>,
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
        "SELECT id AS resident_id, name, grid_id, household_id, last_contact_on, visit_due_on, visit_interval_days \
         FROM residents WHERE grid_id IN ({}) AND visit_due_on IS NOT NULL AND visit_due_on <= {until} \
         ORDER BY visit_due_on, id LIMIT {}",
        grids.join(", "),
        args.push(limit)
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}
