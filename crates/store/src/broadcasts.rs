//! Emergency broadcasts and their roll-calls (报平安).

use yijia_domain::broadcast::{Area, BroadcastState, Level};

use crate::sql::bind_args;
use crate::{Result, Tx, on_tx};

pub struct NewBroadcast<'a> {
    pub org_id: i64,
    pub org_path: &'a str,
    pub level: Level,
    pub reason: &'a str,
    pub body: &'a str,
    pub area: Area,
    pub building_id: Option<i64>,
    pub estate_id: Option<i64>,
    pub grid_ids: &'a [i64],
    pub area_name: &'a str,
    pub state: BroadcastState,
    pub sent_by: i64,
    pub sent_by_name: &'a str,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Broadcast {
    pub id: i64,
    pub org_id: i64,
    pub org_path: String,
    pub level: Level,
    pub reason: String,
    pub body: String,
    pub area: Area,
    pub building_id: Option<i64>,
    pub estate_id: Option<i64>,
    pub grid_ids: String,
    pub area_name: String,
    pub state: BroadcastState,
    pub sent_by: i64,
    pub sent_by_name: String,
    pub confirmed_by: Option<i64>,
    pub confirmed_by_name: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub ended_by_name: Option<String>,
}

impl Broadcast {
    /// The area's grids.
    pub fn grids(&self) -> Vec<i64> {
        self.grid_ids.split(',').filter_map(|g| g.parse().ok()).collect()
    }
}

const COLUMNS: &str = "id, org_id, org_path, level, reason, body, area, building_id, estate_id, grid_ids, area_name, \
     state, sent_by, sent_by_name, confirmed_by, confirmed_by_name, created_at, started_at, ended_at, ended_by_name";

pub async fn insert(tx: &mut Tx, b: &NewBroadcast<'_>) -> Result<i64> {
    let grids = b.grid_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let started = (b.state == BroadcastState::Active).then_some(b.now);
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO broadcasts (org_id, org_path, level, reason, body, area, building_id, estate_id, grid_ids, \
         area_name, state, sent_by, sent_by_name, created_at, started_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id")
        .bind(b.org_id).bind(b.org_path).bind(b.level).bind(b.reason).bind(b.body).bind(b.area)
        .bind(b.building_id).bind(b.estate_id).bind(grids).bind(b.area_name).bind(b.state)
        .bind(b.sent_by).bind(b.sent_by_name).bind(b.now).bind(started)
        .fetch_one(c).await?))
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Broadcast>> {
    let sql = format!("SELECT {COLUMNS} FROM broadcasts WHERE id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// Broadcasts under any of `paths`, or covering one of them from above
/// (a subdistrict-wide one reaches a community's staff), newest first.
pub async fn within(tx: &mut Tx, paths: &[String], limit: i64) -> Result<Vec<Broadcast>> {
    if paths.is_empty() {
        return Ok(vec![]);
    }
    let mut args = crate::sql::Args::default();
    let mut areas: Vec<String> = paths.iter().map(|p| args.prefix("org_path", p)).collect();
    for p in paths {
        let at = args.push(p.clone());
        areas.push(format!("substr({at}, 1, length(org_path)) = org_path"));
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM broadcasts WHERE {} ORDER BY id DESC LIMIT {}",
        areas.join(" OR "),
        args.push(limit)
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(c).await?))
}

/// The active broadcasts `user_id` was told of, or sent.
pub async fn current_for(tx: &mut Tx, user_id: i64) -> Result<Vec<Broadcast>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM broadcasts b WHERE state = 'active' AND (sent_by = $1 OR EXISTS (SELECT 1 FROM \
         messages m WHERE m.event_key = 'broadcast:' || b.id AND m.user_id = $1)) ORDER BY level, id DESC"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(c).await?))
}

/// Whether `user_id` was told of the broadcast in the app.
pub async fn was_told(tx: &mut Tx, id: i64, user_id: i64) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM messages WHERE event_key = $1 AND user_id = $2";
    let n: i64 =
        on_tx!(tx, c => sqlx::query_scalar(sql).bind(format!("broadcast:{id}")).bind(user_id).fetch_one(c).await?);
    Ok(n > 0)
}

/// A second person's confirmation: the broadcast goes now.
pub async fn confirm(tx: &mut Tx, id: i64, by: i64, name: &str, now: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE broadcasts SET state = 'active', confirmed_by = $2, confirmed_by_name = $3, started_at = $4 \
         WHERE id = $1 AND state = 'awaiting'")
        .bind(id).bind(by).bind(name).bind(now).execute(c).await?.rows_affected());
    Ok(n == 1)
}

pub async fn end(tx: &mut Tx, id: i64, name: &str, now: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE broadcasts SET state = 'ended', ended_at = $2, ended_by_name = $3 WHERE id = $1 AND state <> 'ended'")
        .bind(id).bind(now).bind(name).execute(c).await?.rows_affected());
    Ok(n == 1)
}

/// Someone in the area: a resident, with their account if they have one.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Reached {
    pub resident_id: i64,
    pub user_id: Option<i64>,
    pub has_phone: bool,
}

/// The residents living in a broadcast's area.
pub async fn residents_in(tx: &mut Tx, b: &Broadcast) -> Result<Vec<Reached>> {
    let (filter, arg) = area_filter(b);
    let sql = format!(
        "SELECT r.id AS resident_id, u.id AS user_id, r.phone_sealed IS NOT NULL AS has_phone FROM residents r \
         LEFT JOIN users u ON u.resident_id = r.id AND u.disabled_at IS NULL WHERE {filter} ORDER BY r.id"
    );
    Ok(on_tx!(tx, c => {
        let q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        match arg { Some(a) => q.bind(a), None => q }.fetch_all(c).await?
    }))
}

/// Which residents a broadcast's area holds, as SQL over `residents r`.
fn area_filter(b: &Broadcast) -> (String, Option<i64>) {
    match (b.area, b.building_id, b.estate_id) {
        (Area::Building, Some(id), _) => {
            ("r.household_id IN (SELECT id FROM households WHERE building_id = $1)".into(), Some(id))
        }
        (Area::Estate, _, Some(id)) => (
            "r.household_id IN (SELECT h.id FROM households h JOIN buildings x ON x.id = h.building_id \
             WHERE x.estate_id = $1)"
                .into(),
            Some(id),
        ),
        _ => (format!("r.grid_id IN ({})", crate::sql::id_list(&b.grids())), None),
    }
}

/// The grids a building's or an estate's households lie in.
pub async fn grids_of_place(tx: &mut Tx, building_id: Option<i64>, estate_id: Option<i64>) -> Result<Vec<i64>> {
    let (sql, id) = match (building_id, estate_id) {
        (Some(b), _) => ("SELECT DISTINCT grid_id FROM households WHERE building_id = $1 ORDER BY grid_id", b),
        (None, Some(e)) => (
            "SELECT DISTINCT h.grid_id FROM households h JOIN buildings x ON x.id = h.building_id \
             WHERE x.estate_id = $1 ORDER BY h.grid_id",
            e,
        ),
        (None, None) => return Ok(vec![]),
    };
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(id).fetch_all(c).await?))
}

/// The grids under an org node (itself, if it is one).
pub async fn grids_under(tx: &mut Tx, path: &str) -> Result<Vec<i64>> {
    let upper = format!("{path}\u{10FFFF}");
    let sql = "SELECT id FROM org_nodes WHERE kind = 'grid' AND path >= $1 AND path < $2 ORDER BY id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(path).bind(upper).fetch_all(c).await?))
}

/// How the deliveries of a broadcast stand: (state code, count).
pub async fn delivery_counts(tx: &mut Tx, id: i64) -> Result<Vec<(String, i64)>> {
    let sql = "SELECT state, COUNT(*) FROM deliveries WHERE event_key = $1 GROUP BY state ORDER BY state";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(format!("broadcast:{id}")).fetch_all(c).await?))
}

/// How many people were told in the app.
pub async fn message_count(tx: &mut Tx, id: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM messages WHERE event_key = $1";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(format!("broadcast:{id}")).fetch_one(c).await?))
}

/// The paths of some grids and of the communities above them.
pub async fn paths_of_grids(tx: &mut Tx, grid_ids: &[i64]) -> Result<(Vec<String>, Vec<(i64, String)>)> {
    if grid_ids.is_empty() {
        return Ok((vec![], vec![]));
    }
    let ids = crate::sql::id_list(grid_ids);
    let grids = format!("SELECT path FROM org_nodes WHERE id IN ({ids}) ORDER BY path");
    let above = format!(
        "SELECT id, path FROM org_nodes WHERE id IN (SELECT parent_id FROM org_nodes WHERE id IN ({ids})) ORDER BY path"
    );
    let g = on_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(grids)).fetch_all(&mut *c).await?);
    let a = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(above)).fetch_all(&mut *c).await?);
    Ok((g, a))
}
