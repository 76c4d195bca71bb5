//! Places: estates, buildings, households.

use serde::Serialize;

use crate::sql::{Args, bind_args};
use crate::{Result, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Estate {
    pub id: i64,
    pub community_id: i64,
    pub grid_code: Option<String>,
    pub name: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

const COLS: &str = "e.id, e.community_id, g.code AS grid_code, e.name, e.lon, e.lat";

pub struct NewEstate<'a> {
    pub community_id: i64,
    pub grid_id: Option<i64>,
    pub name: &'a str,
    pub point: Option<(f64, f64)>,
    pub now: i64,
}

pub async fn insert_estate(tx: &mut Tx, e: &NewEstate<'_>) -> Result<i64> {
    let sql = "INSERT INTO estates (community_id, grid_id, name, lon, lat, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(e.community_id).bind(e.grid_id).bind(e.name).bind(e.point.map(|p| p.0)).bind(e.point.map(|p| p.1)).bind(e.now)
        .fetch_one(c).await?))
}

/// The estates of a community, or (with `grid_id`) those whose point lies in
/// that grid, by name.
pub async fn estates(tx: &mut Tx, community_id: i64, grid_id: Option<i64>) -> Result<Vec<Estate>> {
    let sql = format!(
        "SELECT {COLS} FROM estates e LEFT JOIN org_nodes g ON g.id = e.grid_id \
         WHERE e.community_id = $1 AND ($2 IS NULL OR e.grid_id = $2) ORDER BY e.name"
    );
    Ok(
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(community_id).bind(grid_id).fetch_all(c).await?),
    )
}

pub async fn estate(tx: &mut Tx, id: i64) -> Result<Option<Estate>> {
    let sql = format!("SELECT {COLS} FROM estates e LEFT JOIN org_nodes g ON g.id = e.grid_id WHERE e.id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await?))
}

pub async fn estate_by_name(tx: &mut Tx, community_id: i64, name: &str) -> Result<Option<i64>> {
    let sql = "SELECT id FROM estates WHERE community_id = $1 AND name = $2";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(community_id).bind(name).fetch_optional(c).await?))
}

/// Estates and households that hang on an org node (which then cannot go).
pub async fn count_places(tx: &mut Tx, org_id: i64) -> Result<i64> {
    let sql = "SELECT (SELECT COUNT(*) FROM estates WHERE community_id = $1 OR grid_id = $1) \
                    + (SELECT COUNT(*) FROM households WHERE grid_id = $1)";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(org_id).fetch_one(c).await?))
}

/// Grids that carry a boundary, as (id, code, boundary GeoJSON).
pub async fn grid_boundaries(tx: &mut Tx) -> Result<Vec<(i64, String, String)>> {
    let sql = "SELECT id, code, boundary FROM org_nodes WHERE kind = 'grid' AND boundary IS NOT NULL ORDER BY code";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).fetch_all(c).await?))
}

/// The building of an estate with that name, made when missing.
pub async fn building(tx: &mut Tx, estate_id: i64, name: &str, now: i64) -> Result<i64> {
    let sql = "INSERT INTO buildings (estate_id, name, created_at) VALUES ($1, $2, $3) \
               ON CONFLICT (estate_id, name) DO UPDATE SET name = excluded.name RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(estate_id).bind(name).bind(now).fetch_one(c).await?))
}

/// The household at a door in a grid, made when missing.
pub async fn household(
    tx: &mut Tx,
    grid_id: i64,
    building_id: i64,
    entrance: &str,
    door: &str,
    now: i64,
) -> Result<i64> {
    let sql = "INSERT INTO households (grid_id, building_id, entrance, door, created_at) VALUES ($1, $2, $3, $4, $5) \
               ON CONFLICT (grid_id, building_id, entrance, door) DO UPDATE SET door = excluded.door RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(grid_id).bind(building_id).bind(entrance).bind(door).bind(now).fetch_one(c).await?))
}

/// The households at these doors (building, entrance, door) of a grid,
/// made where missing, a few hundred to a statement: their ids by door. A
/// door may be named more than once.
pub async fn households<'a>(
    tx: &mut Tx,
    grid_id: i64,
    doors: impl IntoIterator<Item = &'a (i64, String, String)>,
    now: i64,
) -> Result<std::collections::HashMap<(i64, String, String), i64>> {
    // each door once: one statement may not touch a row twice
    let doors: std::collections::BTreeSet<&(i64, String, String)> = doors.into_iter().collect();
    let doors: Vec<&(i64, String, String)> = doors.into_iter().collect();
    let mut out = std::collections::HashMap::new();
    for chunk in doors.chunks(crate::residents::BATCH) {
        let sql = format!(
            "INSERT INTO households (grid_id, building_id, entrance, door, created_at) VALUES {} \
             ON CONFLICT (grid_id, building_id, entrance, door) DO UPDATE SET door = excluded.door \
             RETURNING building_id, entrance, door, id",
            crate::residents::placeholders(tx.backend(), chunk.len(), 5)
        );
        let rows: Vec<(i64, String, String, i64)> = on_tx!(tx, c => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for (b, entrance, door) in chunk {
                q = q.bind(grid_id).bind(b).bind(entrance).bind(door).bind(now);
            }
            q.fetch_all(&mut *c).await?
        });
        out.extend(rows.into_iter().map(|(b, e, d, id)| ((b, e, d), id)));
    }
    Ok(out)
}

/// A household's address: estate, building, entrance, door.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Address {
    pub household_id: i64,
    pub building_id: i64,
    /// The grid the household is in.
    pub grid_path: String,
    pub grid_code: String,
    pub estate: String,
    pub building: String,
    pub entrance: String,
    pub door: String,
}

/// A building with its estate's name and community.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct BuildingInfo {
    pub id: i64,
    pub name: String,
    pub estate: String,
    pub community_id: i64,
}

pub async fn building_info(tx: &mut Tx, id: i64) -> Result<Option<BuildingInfo>> {
    let sql = "SELECT b.id, b.name, e.name AS estate, e.community_id FROM buildings b \
               JOIN estates e ON e.id = b.estate_id WHERE b.id = $1";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(id).fetch_optional(c).await?))
}

/// The grids a building's households are in, by path.
pub async fn building_grid_paths(tx: &mut Tx, building_id: i64) -> Result<Vec<String>> {
    let sql = "SELECT DISTINCT o.path FROM households h JOIN org_nodes o ON o.id = h.grid_id \
               WHERE h.building_id = $1 ORDER BY o.path";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(building_id).fetch_all(c).await?))
}

pub async fn address(tx: &mut Tx, household_id: i64) -> Result<Option<Address>> {
    let sql = "SELECT h.id AS household_id, b.id AS building_id, o.path AS grid_path, o.code AS grid_code, \
               e.name AS estate, b.name AS building, h.entrance, h.door \
               FROM households h JOIN buildings b ON b.id = h.building_id JOIN estates e ON e.id = b.estate_id \
               JOIN org_nodes o ON o.id = h.grid_id WHERE h.id = $1";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(household_id).fetch_optional(c).await?))
}

/// The addresses of several households (a page of a list).
pub async fn addresses(tx: &mut Tx, household_ids: &[i64]) -> Result<Vec<Address>> {
    if household_ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT h.id AS household_id, b.id AS building_id, o.path AS grid_path, o.code AS grid_code, \
         e.name AS estate, b.name AS building, h.entrance, h.door \
         FROM households h JOIN buildings b ON b.id = h.building_id JOIN estates e ON e.id = b.estate_id \
         JOIN org_nodes o ON o.id = h.grid_id WHERE h.id IN ({})",
        crate::sql::id_list(household_ids)
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?))
}

/// A building with what routing a case needs: its community, the grid most
/// of its households are in, its estate's grid and a point.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct BuildingPlace {
    pub id: i64,
    pub name: String,
    pub estate: String,
    pub community_id: i64,
    pub household_grid_id: Option<i64>,
    pub estate_grid_id: Option<i64>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

pub async fn building_place(tx: &mut Tx, id: i64) -> Result<Option<BuildingPlace>> {
    let sql = "SELECT b.id, b.name, e.name AS estate, e.community_id, \
               (SELECT h.grid_id FROM households h WHERE h.building_id = b.id GROUP BY h.grid_id \
                ORDER BY COUNT(*) DESC, h.grid_id LIMIT 1) AS household_grid_id, \
               e.grid_id AS estate_grid_id, COALESCE(b.lon, e.lon) AS lon, COALESCE(b.lat, e.lat) AS lat \
               FROM buildings b JOIN estates e ON e.id = b.estate_id WHERE b.id = $1";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(id).fetch_optional(c).await?))
}

/// The buildings of a community's estates, by estate and name.
pub async fn buildings_of(tx: &mut Tx, community_id: i64) -> Result<Vec<BuildingInfo>> {
    let sql = "SELECT b.id, b.name, e.name AS estate, e.community_id FROM buildings b \
               JOIN estates e ON e.id = b.estate_id WHERE e.community_id = $1 ORDER BY e.name, length(b.name), b.name";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(community_id).fetch_all(c).await?))
}

/// The buildings of a community with homes in grids under any of `paths`,
/// by estate and name.
pub async fn buildings_in_grids(tx: &mut Tx, community_id: i64, paths: &[String]) -> Result<Vec<BuildingInfo>> {
    if paths.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let com = args.push(community_id);
    let ranges: Vec<String> = paths.iter().map(|p| args.prefix("o.path", p)).collect();
    let sql = format!(
        "SELECT b.id, b.name, e.name AS estate, e.community_id FROM buildings b JOIN estates e ON e.id = b.estate_id \
         WHERE e.community_id = {com} AND EXISTS (SELECT 1 FROM households h JOIN org_nodes o ON o.id = h.grid_id \
         WHERE h.building_id = b.id AND ({})) ORDER BY e.name, length(b.name), b.name",
        ranges.join(" OR ")
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// The grids under `path` that have a boundary: id, path, GeoJSON.
pub async fn grid_boundaries_under(tx: &mut Tx, path: &str) -> Result<Vec<(i64, String, String)>> {
    let sql = "SELECT id, path, boundary FROM org_nodes WHERE kind = 'grid' AND boundary IS NOT NULL \
               AND path >= $1 AND path < $2 ORDER BY path";
    let upper = format!("{path}\u{10FFFF}");
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(path).bind(&upper).fetch_all(c).await?))
}

/// What a map of communities shows as points: each building with a point of
/// its own, and each estate with one (name, lon, lat).
pub async fn map_points(tx: &mut Tx, community_ids: &[i64]) -> Result<Vec<(String, f64, f64)>> {
    if community_ids.is_empty() {
        return Ok(vec![]);
    }
    let ids = crate::sql::id_list(community_ids);
    let sql = format!(
        "SELECT e.name, e.lon, e.lat FROM estates e WHERE e.community_id IN ({ids}) \
         AND e.lon IS NOT NULL AND e.lat IS NOT NULL \
         UNION ALL SELECT e.name || ' ' || b.name, b.lon, b.lat FROM buildings b JOIN estates e ON e.id = b.estate_id \
         WHERE e.community_id IN ({ids}) AND b.lon IS NOT NULL AND b.lat IS NOT NULL ORDER BY 1"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?))
}
