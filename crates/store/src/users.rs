//! Users and their (role, org node) grants.

use serde::Serialize;

use crate::{Result, StoreError, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub password_set_at: i64,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
}

/// A grant joined with its org node.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Grant {
    pub id: i64,
    pub user_id: i64,
    pub role: String,
    pub org_id: i64,
    pub org_code: String,
    pub org_kind: String,
    pub org_name: String,
    pub org_path: String,
}

const COLS: &str = "id, username, display_name, password_hash, password_set_at, disabled_at, created_at";
const GRANT_COLS: &str = "g.id, g.user_id, g.role, g.org_id, o.code AS org_code, o.kind AS org_kind, \
                          o.name AS org_name, o.path AS org_path";

pub async fn insert(tx: &mut Tx, username: &str, display_name: &str, password_hash: &str, now: i64) -> Result<User> {
    let sql = format!(
        "INSERT INTO users (username, display_name, password_hash, password_set_at, created_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING {COLS}"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(username).bind(display_name).bind(password_hash).bind(now).fetch_one(c).await?))
}

pub async fn by_username(tx: &mut Tx, username: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {COLS} FROM users WHERE username = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(username).fetch_optional(c).await?))
}

pub async fn by_id(tx: &mut Tx, id: i64) -> Result<User> {
    let sql = format!("SELECT {COLS} FROM users WHERE id = $1");
    let u: Option<User> =
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await?);
    u.ok_or(StoreError::NotFound)
}

pub async fn set_password(tx: &mut Tx, id: i64, hash: &str, now: i64) -> Result<()> {
    let sql = "UPDATE users SET password_hash = $2, password_set_at = $3 WHERE id = $1";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(id).bind(hash).bind(now).execute(c).await?.rows_affected());
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn set_disabled(tx: &mut Tx, id: i64, at: Option<i64>) -> Result<()> {
    let sql = "UPDATE users SET disabled_at = $2 WHERE id = $1";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(id).bind(at).execute(c).await?.rows_affected());
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn add_grant(tx: &mut Tx, user_id: i64, role: &str, org_id: i64, now: i64) -> Result<i64> {
    let sql = "INSERT INTO grants (user_id, role, org_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(user_id).bind(role).bind(org_id).bind(now).fetch_one(c).await?))
}

pub async fn grants_of(tx: &mut Tx, user_id: i64) -> Result<Vec<Grant>> {
    let sql = format!(
        "SELECT {GRANT_COLS} FROM grants g JOIN org_nodes o ON o.id = g.org_id WHERE g.user_id = $1 ORDER BY g.id"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(user_id).fetch_all(c).await?))
}

/// A page of users holding at least one grant inside `path` (or, with the
/// root path, all users), ordered by username, and the total.
pub async fn list_within(tx: &mut Tx, path: &str, limit: i64, offset: i64) -> Result<(Vec<User>, i64)> {
    let upper = format!("{path}\u{10FFFF}");
    let filter = "EXISTS (SELECT 1 FROM grants g JOIN org_nodes o ON o.id = g.org_id \
                  WHERE g.user_id = users.id AND o.path >= $1 AND o.path < $2)";
    let all = path == "/root/";
    let (sql, count_sql) = if all {
        (
            format!("SELECT {COLS} FROM users ORDER BY username LIMIT $3 OFFSET $4"),
            "SELECT COUNT(*) FROM users WHERE $1 <> $2".to_owned(),
        )
    } else {
        (
            format!("SELECT {COLS} FROM users WHERE {filter} ORDER BY username LIMIT $3 OFFSET $4"),
            format!("SELECT COUNT(*) FROM users WHERE {filter}"),
        )
    };
    let rows: Vec<User> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(path).bind(&upper).bind(limit).bind(offset).fetch_all(&mut *c).await?);
    let total: i64 = on_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.as_str())).bind(path).bind(&upper).fetch_one(&mut *c).await?);
    Ok((rows, total))
}

pub async fn count(tx: &mut Tx) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(c).await?))
}
