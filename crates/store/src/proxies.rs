//! Family members acting for residents (代办).

use serde::Serialize;

use yijia_domain::proxy::Consent;

use crate::{Result, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Proxy {
    pub id: i64,
    pub resident_id: i64,
    pub user_id: Option<i64>,
    pub family_name: String,
    pub relation: String,
    pub phone_key: String,
    /// `requests,vote`: decoded by the service (`Acts::from_stored`).
    pub acts: String,
    pub consent: Consent,
    pub consent_file: Option<String>,
    pub linked_by: String,
    pub linked_at: i64,
    pub expires_at: i64,
    pub code_expires_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub ended_by: Option<String>,
    pub end_reason: Option<String>,
}

const COLS: &str = "id, resident_id, user_id, family_name, relation, phone_key, acts, consent, consent_file, \
                    linked_by, linked_at, expires_at, code_expires_at, ended_at, ended_by, end_reason";

pub struct NewProxy<'a> {
    pub resident_id: i64,
    pub user_id: Option<i64>,
    pub family_name: &'a str,
    pub relation: &'a str,
    pub phone_key: &'a str,
    pub acts: &'a str,
    pub consent: Consent,
    pub consent_file: Option<&'a str>,
    pub linked_by: &'a str,
    pub now: i64,
    pub expires_at: i64,
    /// For a family member without an account yet: the code's hash and when it lapses.
    pub code: Option<(&'a str, i64)>,
}

pub async fn insert(tx: &mut Tx, p: &NewProxy<'_>) -> Result<i64> {
    let (code, code_expires) = p.code.map_or((None, None), |(c, e)| (Some(c), Some(e)));
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO proxies (resident_id, user_id, family_name, relation, phone_key, acts, consent, consent_file, \
         linked_by, linked_at, expires_at, code_hash, code_expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id")
        .bind(p.resident_id).bind(p.user_id).bind(p.family_name).bind(p.relation).bind(p.phone_key).bind(p.acts)
        .bind(p.consent).bind(p.consent_file).bind(p.linked_by).bind(p.now).bind(p.expires_at).bind(code)
        .bind(code_expires).fetch_one(&mut *c).await?))
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Proxy>> {
    let sql = format!("SELECT {COLS} FROM proxies WHERE id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await?))
}

/// A resident's links, live first, newest first.
pub async fn of_resident(tx: &mut Tx, resident_id: i64) -> Result<Vec<Proxy>> {
    let sql = format!(
        "SELECT {COLS} FROM proxies WHERE resident_id = $1 ORDER BY ended_at IS NOT NULL, linked_at DESC, id DESC"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(resident_id).fetch_all(c).await?))
}

/// The live links of a family member's account at `now`, oldest first.
pub async fn live_of_user(tx: &mut Tx, user_id: i64, now: i64) -> Result<Vec<Proxy>> {
    let sql = format!(
        "SELECT {COLS} FROM proxies WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2 ORDER BY linked_at, id"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(user_id).bind(now).fetch_all(c).await?))
}

/// A waiting link by its code, live at `now`.
pub async fn by_code(tx: &mut Tx, code_hash: &str, now: i64) -> Result<Option<Proxy>> {
    let sql = format!(
        "SELECT {COLS} FROM proxies WHERE code_hash = $1 AND user_id IS NULL AND ended_at IS NULL \
         AND code_expires_at > $2"
    );
    Ok(
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(code_hash).bind(now).fetch_optional(c).await?),
    )
}

/// Whether an account was ever a family member's (it holds the resident
/// role for the links only).
pub async fn ever_of_user(tx: &mut Tx, user_id: i64) -> Result<bool> {
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM proxies WHERE user_id = $1")
        .bind(user_id).fetch_one(c).await?);
    Ok(n > 0)
}

/// Gives a waiting link its account (the code is spent); false when it was taken meanwhile.
pub async fn activate(tx: &mut Tx, id: i64, user_id: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE proxies SET user_id = $2, code_hash = NULL WHERE id = $1 AND user_id IS NULL AND ended_at IS NULL")
        .bind(id).bind(user_id).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// Ends a link; false when it had ended already.
pub async fn end(tx: &mut Tx, id: i64, by: &str, reason: &str, now: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE proxies SET ended_at = $2, ended_by = $3, end_reason = $4, code_hash = NULL \
         WHERE id = $1 AND ended_at IS NULL")
        .bind(id).bind(now).bind(by).bind(reason).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// Renews a live link to `expires_at`; false when it has ended or lapsed
/// (a lapsed link needs the resident's consent again).
pub async fn renew(tx: &mut Tx, id: i64, expires_at: i64, now: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE proxies SET expires_at = $2 WHERE id = $1 AND ended_at IS NULL AND expires_at > $3")
        .bind(id).bind(expires_at).bind(now).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}
