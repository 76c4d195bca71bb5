//! Notices and who read them.

use serde::Serialize;

use crate::{Result, Tx, on_tx};

#[derive(Debug, Clone)]
pub struct NewNotice<'a> {
    pub community_id: i64,
    pub grid_id: Option<i64>,
    pub building_id: Option<i64>,
    pub title: &'a str,
    pub body: &'a str,
    pub pinned: bool,
    pub publish_from: i64,
    pub publish_until: Option<i64>,
    pub author_id: Option<i64>,
    pub author_name: &'a str,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Notice {
    pub id: i64,
    pub community_id: i64,
    pub grid_id: Option<i64>,
    pub grid_name: Option<String>,
    pub building_id: Option<i64>,
    pub building_name: Option<String>,
    pub title: String,
    pub body: String,
    pub pinned: bool,
    pub publish_from: i64,
    pub publish_until: Option<i64>,
    pub author_name: String,
    pub created_at: i64,
    pub withdrawn_at: Option<i64>,
    pub reads: i64,
}

const SELECT: &str = "SELECT n.id, n.community_id, n.grid_id, g.name AS grid_name, n.building_id, \
     CASE WHEN b.id IS NULL THEN NULL ELSE e.name || ' ' || b.name END AS building_name, n.title, n.body, n.pinned, \
     n.publish_from, n.publish_until, n.author_name, n.created_at, n.withdrawn_at, \
     (SELECT COUNT(*) FROM notice_reads r WHERE r.notice_id = n.id) AS reads \
     FROM notices n LEFT JOIN org_nodes g ON g.id = n.grid_id LEFT JOIN buildings b ON b.id = n.building_id \
     LEFT JOIN estates e ON e.id = b.estate_id";

pub async fn insert(tx: &mut Tx, n: &NewNotice<'_>) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO notices (community_id, grid_id, building_id, title, body, pinned, publish_from, publish_until, \
         author_id, author_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
        .bind(n.community_id).bind(n.grid_id).bind(n.building_id).bind(n.title).bind(n.body).bind(n.pinned)
        .bind(n.publish_from).bind(n.publish_until).bind(n.author_id).bind(n.author_name).bind(n.now)
        .fetch_one(c).await?))
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Notice>> {
    let sql = format!("{SELECT} WHERE n.id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// A community's notices, pinned first as residents see them, then newest
/// first (all of them: scheduled, current, ended and withdrawn).
pub async fn of_community(tx: &mut Tx, community_id: i64, limit: i64) -> Result<Vec<Notice>> {
    let sql =
        format!("{SELECT} WHERE n.community_id = $1 ORDER BY n.pinned DESC, n.publish_from DESC, n.id DESC LIMIT $2");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(community_id).bind(limit).fetch_all(c).await?))
}

/// The notices a resident of this grid and building sees at `now`: pinned
/// first, then the newest.
pub async fn current_for(
    tx: &mut Tx,
    community_id: i64,
    grid_id: i64,
    building_id: Option<i64>,
    now: i64,
) -> Result<Vec<Notice>> {
    let sql = format!(
        "{SELECT} WHERE n.community_id = $1 AND (n.grid_id IS NULL OR n.grid_id = $2) \
         AND (n.building_id IS NULL OR n.building_id = $3) AND n.publish_from <= $4 \
         AND (n.publish_until IS NULL OR n.publish_until > $4) AND n.withdrawn_at IS NULL \
         ORDER BY n.pinned DESC, n.publish_from DESC, n.id DESC LIMIT 50"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(community_id).bind(grid_id).bind(building_id)
        .bind(now).fetch_all(c).await?))
}

/// The notices that were for these places and have ended (not withdrawn
/// ones), the latest first.
pub async fn past_for(
    tx: &mut Tx,
    community_id: i64,
    grid_id: i64,
    building_id: Option<i64>,
    now: i64,
    limit: i64,
) -> Result<Vec<Notice>> {
    let sql = format!(
        "{SELECT} WHERE n.community_id = $1 AND (n.grid_id IS NULL OR n.grid_id = $2) \
         AND (n.building_id IS NULL OR n.building_id = $3) AND n.publish_until IS NOT NULL \
         AND n.publish_until <= $4 AND n.withdrawn_at IS NULL \
         ORDER BY n.publish_from DESC, n.id DESC LIMIT $5"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(community_id).bind(grid_id).bind(building_id)
        .bind(now).bind(limit).fetch_all(c).await?))
}

/// Which of these notices the user has read.
pub async fn read_by(tx: &mut Tx, user_id: i64, community_id: i64) -> Result<Vec<i64>> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT r.notice_id FROM notice_reads r JOIN notices n ON n.id = r.notice_id \
         WHERE r.user_id = $1 AND n.community_id = $2")
        .bind(user_id).bind(community_id).fetch_all(c).await?))
}

/// Records a read once; later reads change nothing.
pub async fn mark_read(tx: &mut Tx, notice_id: i64, user_id: i64, at: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO notice_reads (notice_id, user_id, read_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(notice_id).bind(user_id).bind(at).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn withdraw(tx: &mut Tx, id: i64, at: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query("UPDATE notices SET withdrawn_at = $2 WHERE id = $1 AND withdrawn_at IS NULL")
        .bind(id).bind(at).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

pub async fn set_pinned(tx: &mut Tx, id: i64, pinned: bool) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE notices SET pinned = $2 WHERE id = $1")
        .bind(id).bind(pinned).execute(&mut *c).await?.rows_affected());
    Ok(())
}
