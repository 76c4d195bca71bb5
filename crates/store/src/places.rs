//! Places: estates so far (buildings, entrances and households come with the
//! registry).

use serde::Serialize;

use crate::{Result, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Estate {
    pub id: i64,
    pub grid_id: i64,
    pub grid_code: String,
    pub name: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

const COLS: &str = "e.id, e.grid_id, o.code AS grid_code, e.name, e.lon, e.lat";

pub async fn insert_estate(
    tx: &mut Tx,
    grid_id: i64,
    name: &str,
    point: Option<(f64, f64)>,
    now: i64,
) -> Result<i64> {
    let sql = "INSERT INTO estates (grid_id, name, lon, lat, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(grid_id).bind(name).bind(point.map(|p| p.0)).bind(point.map(|p| p.1)).bind(now)
        .fetch_one(c).await?))
}

/// The estates in the grids below `path`, by grid and name.
pub async fn estates_within(tx: &mut Tx, path: &str) -> Result<Vec<Estate>> {
    let upper = format!("{path}\u{10FFFF}");
    let sql = format!(
        "SELECT {COLS} FROM estates e JOIN org_nodes o ON o.id = e.grid_id \
         WHERE o.path >= $1 AND o.path < $2 ORDER BY o.code, e.name"
    );
    Ok(
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(path).bind(&upper).fetch_all(c).await?),
    )
}

pub async fn count_estates(tx: &mut Tx, grid_id: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM estates WHERE grid_id = $1";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(grid_id).fetch_one(c).await?))
}

/// Grids that carry a boundary, as (id, code, boundary GeoJSON).
pub async fn grid_boundaries(tx: &mut Tx) -> Result<Vec<(i64, String, String)>> {
    let sql = "SELECT id, code, boundary FROM org_nodes WHERE kind = 'grid' AND boundary IS NOT NULL ORDER BY code";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).fetch_all(c).await?))
}
