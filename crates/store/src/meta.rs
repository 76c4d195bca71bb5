//! Small key/value facts about the deployment (such as "the demo was seeded").

use crate::{Result, Tx, on_tx};

pub async fn get(tx: &mut Tx, key: &str) -> Result<Option<String>> {
    Ok(on_tx!(tx, c => sqlx::query_scalar("SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(c).await?))
}

pub async fn set(tx: &mut Tx, key: &str, value: &str) -> Result<()> {
    let sql = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
    on_tx!(tx, c => sqlx::query(sql).bind(key).bind(value).execute(c).await?.rows_affected());
    Ok(())
}
