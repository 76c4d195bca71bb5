//! The dashboard's reads that are not tallies: what is open or due now,
//! counted on the indexes the lists use (so a figure and its list agree).

use yijia_domain::case::CaseKind;

use crate::sql::{Args, bind_args};
use crate::{Result, Tx, on_tx};

/// Open cases of a grid (or of a community's dispatch list) and kind.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenCases {
    pub community_id: i64,
    /// None: not placed in a grid yet.
    pub grid_id: Option<i64>,
    pub kind: CaseKind,
    pub open: i64,
    /// Near (not past) their deadline now.
    pub near: i64,
    /// Past their deadline now.
    pub late: i64,
}

/// Open cases under an org path, per grid and kind, as the case lists count
/// them (`near` and `overdue` boxes).
pub async fn open_cases(tx: &mut Tx, path: &str, now: i64) -> Result<Vec<OpenCases>> {
    let mut args = Args::default();
    let under = args.prefix("k.org_path", path);
    let t = args.push(now);
    let sql = format!(
        "SELECT k.community_id, k.grid_id, k.kind, COUNT(*) AS open, \
         COALESCE(SUM(CASE WHEN k.near_at <= {t} AND k.due_at >= {t} THEN 1 ELSE 0 END), 0) AS near, \
         COALESCE(SUM(CASE WHEN k.due_at < {t} THEN 1 ELSE 0 END), 0) AS late \
         FROM cases k WHERE k.open = 1 AND {under} GROUP BY k.community_id, k.grid_id, k.kind"
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// Residents under a visiting plan in a grid, and how many are overdue
/// (due before `today`) or due within `today..=week_end`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Plans {
    pub grid_id: i64,
    pub planned: i64,
    pub overdue: i64,
    pub due_soon: i64,
}

pub async fn plans(tx: &mut Tx, grid_ids: &[i64], today: &str, week_end: &str) -> Result<Vec<Plans>> {
    if grid_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let grids: Vec<String> = grid_ids.iter().map(|g| args.push(*g)).collect();
    let (today, week_end) = (args.push(today), args.push(week_end));
    let sql = format!(
        "SELECT grid_id, COUNT(*) AS planned, \
         COALESCE(SUM(CASE WHEN due_on < {today} THEN 1 ELSE 0 END), 0) AS overdue, \
         COALESCE(SUM(CASE WHEN due_on >= {today} AND due_on <= {week_end} THEN 1 ELSE 0 END), 0) AS due_soon \
         FROM care_plans WHERE grid_id IN ({}) AND due_on IS NOT NULL GROUP BY grid_id",
        grids.join(", ")
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// A community's committed pledges of a year and their progress summed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Pledges {
    pub community_id: i64,
    pub committed: i64,
    pub progress: i64,
}

pub async fn pledges(tx: &mut Tx, community_ids: &[i64], year: i64) -> Result<Vec<Pledges>> {
    if community_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let ids: Vec<String> = community_ids.iter().map(|g| args.push(*g)).collect();
    let year = args.push(year);
    let sql = format!(
        "SELECT community_id, COUNT(*) AS committed, CAST(COALESCE(SUM(progress), 0) AS BIGINT) AS progress \
         FROM pledges WHERE community_id IN ({}) AND year = {year} AND status = 'committed' GROUP BY community_id",
        ids.join(", ")
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}
