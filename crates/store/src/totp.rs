//! Second factors: a user's TOTP secret (sealed by the service) and their
//! one-time recovery codes (kept as hashes).

use crate::{Result, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Totp {
    pub user_id: i64,
    pub secret_sealed: String,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub last_step: i64,
}

pub async fn get(tx: &mut Tx, user_id: i64) -> Result<Option<Totp>> {
    let sql = "SELECT user_id, secret_sealed, created_at, confirmed_at, last_step FROM user_totp WHERE user_id = $1";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(user_id).fetch_optional(c).await?))
}

/// A new secret waiting for its first code; replaces one not yet confirmed.
pub async fn put_pending(tx: &mut Tx, user_id: i64, secret_sealed: &str, now: i64) -> Result<()> {
    let sql = "INSERT INTO user_totp (user_id, secret_sealed, created_at) VALUES ($1, $2, $3) \
               ON CONFLICT (user_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, \
               created_at = excluded.created_at, confirmed_at = NULL, last_step = 0 \
               WHERE user_totp.confirmed_at IS NULL";
    on_tx!(tx, c => sqlx::query(sql).bind(user_id).bind(secret_sealed).bind(now).execute(c).await?.rows_affected());
    Ok(())
}

pub async fn confirm(tx: &mut Tx, user_id: i64, now: i64) -> Result<u64> {
    let sql = "UPDATE user_totp SET confirmed_at = $2 WHERE user_id = $1 AND confirmed_at IS NULL";
    Ok(on_tx!(tx, c => sqlx::query(sql).bind(user_id).bind(now).execute(c).await?.rows_affected()))
}

/// Takes a time step for a code, once: `false` when it, or a later one,
/// was taken before (a code seen twice).
pub async fn take_step(tx: &mut Tx, user_id: i64, step: i64) -> Result<bool> {
    let sql = "UPDATE user_totp SET last_step = $2 WHERE user_id = $1 AND last_step < $2";
    Ok(on_tx!(tx, c => sqlx::query(sql).bind(user_id).bind(step).execute(c).await?.rows_affected()) == 1)
}

/// Removes the secret and the recovery codes; `true` when there was a secret.
pub async fn delete(tx: &mut Tx, user_id: i64) -> Result<bool> {
    on_tx!(tx, c => sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(c).await?.rows_affected());
    let n = on_tx!(tx, c => sqlx::query("DELETE FROM user_totp WHERE user_id = $1").bind(user_id).execute(c).await?.rows_affected());
    Ok(n > 0)
}

/// Replaces a user's recovery codes.
pub async fn set_recovery(tx: &mut Tx, user_id: i64, hashes: &[String]) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(c).await?.rows_affected());
    for h in hashes {
        let sql = "INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)";
        on_tx!(tx, c => sqlx::query(sql).bind(user_id).bind(h).execute(c).await?.rows_affected());
    }
    Ok(())
}

/// Uses a recovery code, once: `false` when there is no such unused code.
pub async fn use_recovery(tx: &mut Tx, user_id: i64, hash: &str, now: i64) -> Result<bool> {
    let sql = "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL";
    Ok(on_tx!(tx, c => sqlx::query(sql).bind(user_id).bind(hash).bind(now).execute(c).await?.rows_affected()) == 1)
}

pub async fn recovery_left(tx: &mut Tx, user_id: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(user_id).fetch_one(c).await?))
}

/// Every sealed secret, for sealing again under a new key.
pub async fn all(tx: &mut Tx) -> Result<Vec<Totp>> {
    let sql = "SELECT user_id, secret_sealed, created_at, confirmed_at, last_step FROM user_totp ORDER BY user_id";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).fetch_all(c).await?))
}

pub async fn set_sealed(tx: &mut Tx, user_id: i64, secret_sealed: &str) -> Result<()> {
    let sql = "UPDATE user_totp SET secret_sealed = $2 WHERE user_id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(user_id).bind(secret_sealed).execute(c).await?.rows_affected());
    Ok(())
}
