//! Sessions (stored by the hash of their token) and login attempts.

use crate::{Result, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Session {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub ip: String,
    /// The browser's `User-Agent`, cut short.
    pub user_agent: String,
}

pub async fn insert(tx: &mut Tx, s: &Session) -> Result<()> {
    let sql = "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, ip, user_agent) \
               VALUES ($1, $2, $3, $4, $5, $6, $7)";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(&s.token_hash).bind(s.user_id).bind(&s.csrf_token).bind(s.created_at).bind(s.last_seen_at).bind(&s.ip)
        .bind(&s.user_agent).execute(c).await?.rows_affected());
    Ok(())
}

const COLS: &str = "token_hash, user_id, csrf_token, created_at, last_seen_at, ip, user_agent";

pub async fn get(tx: &mut Tx, token_hash: &str) -> Result<Option<Session>> {
    let sql = format!("SELECT {COLS} FROM sessions WHERE token_hash = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(token_hash).fetch_optional(c).await?))
}

/// A user's sessions, the latest used first.
pub async fn of_user(tx: &mut Tx, user_id: i64) -> Result<Vec<Session>> {
    let sql = format!("SELECT {COLS} FROM sessions WHERE user_id = $1 ORDER BY last_seen_at DESC, created_at DESC");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(user_id).fetch_all(c).await?))
}

pub async fn touch(tx: &mut Tx, token_hash: &str, now: i64) -> Result<()> {
    let sql = "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(token_hash).bind(now).execute(c).await?.rows_affected());
    Ok(())
}

pub async fn delete(tx: &mut Tx, token_hash: &str) -> Result<u64> {
    let sql = "DELETE FROM sessions WHERE token_hash = $1";
    Ok(on_tx!(tx, c => sqlx::query(sql).bind(token_hash).execute(c).await?.rows_affected()))
}

pub async fn delete_for_user(tx: &mut Tx, user_id: i64) -> Result<u64> {
    let sql = "DELETE FROM sessions WHERE user_id = $1";
    Ok(on_tx!(tx, c => sqlx::query(sql).bind(user_id).execute(c).await?.rows_affected()))
}

/// Removes sessions idle since before `idle_before` or created before
/// `created_before`.
pub async fn delete_expired(tx: &mut Tx, idle_before: i64, created_before: i64) -> Result<u64> {
    let sql = "DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2";
    Ok(on_tx!(tx, c => sqlx::query(sql).bind(idle_before).bind(created_before).execute(c).await?.rows_affected()))
}

pub async fn record_attempt(tx: &mut Tx, username: &str, ip: &str, at: i64, success: bool) -> Result<()> {
    let sql = "INSERT INTO login_attempts (username, ip, at, success) VALUES ($1, $2, $3, $4)";
    on_tx!(tx, c => sqlx::query(sql).bind(username).bind(ip).bind(at).bind(success).execute(c).await?.rows_affected());
    Ok(())
}

/// Failed attempts for a username since `since`.
pub async fn failures_since(tx: &mut Tx, username: &str, since: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM login_attempts WHERE username = $1 AND at >= $2 AND NOT success";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(username).bind(since).fetch_one(c).await?))
}

/// The latest successful attempt of a username, if any.
pub async fn last_success(tx: &mut Tx, username: &str) -> Result<Option<i64>> {
    let sql = "SELECT MAX(at) FROM login_attempts WHERE username = $1 AND success";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(username).fetch_one(c).await?))
}

/// All attempts (good or bad) from an IP since `since`.
pub async fn attempts_from_ip(tx: &mut Tx, ip: &str, since: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM login_attempts WHERE ip = $1 AND at >= $2";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(ip).bind(since).fetch_one(c).await?))
}

pub async fn prune_attempts(tx: &mut Tx, before: i64) -> Result<u64> {
    let sql = "DELETE FROM login_attempts WHERE at < $1";
    Ok(on_tx!(tx, c => sqlx::query(sql).bind(before).execute(c).await?.rows_affected()))
}

pub async fn lockout_until(tx: &mut Tx, username: &str) -> Result<Option<(i64, i64)>> {
    let sql = "SELECT locked_at, until FROM lockouts WHERE username = $1";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(username).fetch_optional(c).await?))
}

pub async fn set_lockout(tx: &mut Tx, username: &str, at: i64, until: i64) -> Result<()> {
    let sql = "INSERT INTO lockouts (username, locked_at, until) VALUES ($1, $2, $3) \
               ON CONFLICT (username) DO UPDATE SET locked_at = excluded.locked_at, until = excluded.until";
    on_tx!(tx, c => sqlx::query(sql).bind(username).bind(at).bind(until).execute(c).await?.rows_affected());
    Ok(())
}

pub async fn clear_lockout(tx: &mut Tx, username: &str) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM lockouts WHERE username = $1").bind(username).execute(c).await?.rows_affected());
    Ok(())
}

/// A session with the fields of its user that authentication needs.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SessionUser {
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub username: String,
    pub display_name: String,
    pub password_set_at: i64,
    pub disabled_at: Option<i64>,
    pub resident_id: Option<i64>,
    /// The user has a confirmed second factor.
    pub totp: bool,
}

/// The session and its user in one statement.
pub async fn with_user(tx: &mut Tx, token_hash: &str) -> Result<Option<SessionUser>> {
    let sql = "SELECT s.user_id, s.csrf_token, s.created_at, s.last_seen_at, u.username, u.display_name, \
               u.password_set_at, u.disabled_at, u.resident_id, (t.confirmed_at IS NOT NULL) AS totp \
               FROM sessions s JOIN users u ON u.id = s.user_id \
               LEFT JOIN user_totp t ON t.user_id = s.user_id WHERE s.token_hash = $1";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(token_hash).fetch_optional(c).await?))
}

/// A one-time SMS code for logging in, as kept: hashes only.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct LoginCode {
    pub id: i64,
    pub code_hash: String,
    pub expires_at: i64,
    pub attempts: i64,
}

pub async fn insert_login_code(
    tx: &mut Tx,
    phone_key: &str,
    code_hash: &str,
    ip: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    let sql = "INSERT INTO login_codes (phone_key, code_hash, ip, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
    on_tx!(tx, c => sqlx::query(sql).bind(phone_key).bind(code_hash).bind(ip).bind(now).bind(expires_at)
        .execute(c).await?.rows_affected());
    Ok(())
}

/// Codes sent to a phone since `since`, and the latest one's time.
pub async fn login_codes_to(tx: &mut Tx, phone_key: &str, since: i64) -> Result<(i64, Option<i64>)> {
    let sql = "SELECT COUNT(*), MAX(created_at) FROM login_codes WHERE phone_key = $1 AND created_at >= $2";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(phone_key).bind(since).fetch_one(c).await?))
}

/// Codes asked from an address since `since`.
pub async fn login_codes_from(tx: &mut Tx, ip: &str, since: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM login_codes WHERE ip = $1 AND created_at >= $2";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(ip).bind(since).fetch_one(c).await?))
}

/// The phone's latest code still unused and unexpired: only the newest
/// counts, so asking again retires the one before.
pub async fn live_login_code(tx: &mut Tx, phone_key: &str, now: i64) -> Result<Option<LoginCode>> {
    let sql = "SELECT id, code_hash, expires_at, attempts FROM login_codes WHERE phone_key = $1 \
               AND id = (SELECT MAX(id) FROM login_codes WHERE phone_key = $1) AND used_at IS NULL AND expires_at > $2";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(phone_key).bind(now).fetch_optional(c).await?))
}

pub async fn count_login_code_attempt(tx: &mut Tx, id: i64) -> Result<()> {
    let sql = "UPDATE login_codes SET attempts = attempts + 1 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(id).execute(c).await?.rows_affected());
    Ok(())
}

/// Marks a code used; false if another request used it first.
pub async fn use_login_code(tx: &mut Tx, id: i64, now: i64) -> Result<bool> {
    let sql = "UPDATE login_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL";
    Ok(on_tx!(tx, c => sqlx::query(sql).bind(id).bind(now).execute(c).await?.rows_affected()) == 1)
}

/// Forgets codes created before `before`.
pub async fn prune_login_codes(tx: &mut Tx, before: i64) -> Result<u64> {
    let sql = "DELETE FROM login_codes WHERE created_at < $1";
    Ok(on_tx!(tx, c => sqlx::query(sql).bind(before).execute(c).await?.rows_affected()))
}
