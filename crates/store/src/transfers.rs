//! Residents handed over to another community in yijia: asked by the
//! community they leave, decided by the one they join.

use yijia_domain::life::{Informant, TransferState};

use crate::{Result, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Transfer {
    pub id: i64,
    pub resident_id: i64,
    pub resident_name: String,
    pub from_community_id: i64,
    pub from_name: String,
    pub to_community_id: i64,
    pub to_name: String,
    pub on_date: String,
    pub reason: String,
    pub source: Informant,
    pub new_address: String,
    pub state: TransferState,
    pub asked_by_name: String,
    pub asked_at: i64,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_note: Option<String>,
}

const SELECT: &str = "SELECT t.id, t.resident_id, r.name AS resident_name, t.from_community_id, \
    f.name AS from_name, t.to_community_id, o.name AS to_name, t.on_date, t.reason, t.source, t.new_address, t.state, \
    t.asked_by_name, t.asked_at, t.decided_by_name, t.decided_at, t.decision_note \
    FROM transfers t JOIN residents r ON r.id = t.resident_id JOIN org_nodes f ON f.id = t.from_community_id \
    JOIN org_nodes o ON o.id = t.to_community_id";

pub struct NewTransfer<'a> {
    pub resident_id: i64,
    pub from_community_id: i64,
    pub to_community_id: i64,
    pub on_date: &'a str,
    pub reason: &'a str,
    pub source: Informant,
    pub new_address: &'a str,
    pub asked_by_name: &'a str,
    pub at: i64,
}

/// A new transfer, waiting; None when one is already waiting for the resident.
pub async fn insert(tx: &mut Tx, t: &NewTransfer<'_>) -> Result<Option<i64>> {
    let sql = "INSERT INTO transfers (resident_id, from_community_id, to_community_id, on_date, reason, source, \
               new_address, state, asked_by_name, asked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
               ON CONFLICT (resident_id) WHERE state = 'pending' DO NOTHING RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(t.resident_id).bind(t.from_community_id).bind(t.to_community_id).bind(t.on_date).bind(t.reason)
        .bind(t.source).bind(t.new_address).bind(TransferState::Pending).bind(t.asked_by_name).bind(t.at)
        .fetch_optional(c).await?))
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Transfer>> {
    let sql = format!("{SELECT} WHERE t.id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// Transfers into or out of these communities, waiting ones first, then the
/// latest decided.
pub async fn of_communities(tx: &mut Tx, ids: &[i64], limit: i64) -> Result<Vec<Transfer>> {
    let list = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
    let list = if list.is_empty() { "0".to_owned() } else { list };
    let sql = format!(
        "{SELECT} WHERE t.to_community_id IN ({list}) OR t.from_community_id IN ({list}) \
         ORDER BY CASE WHEN t.state = 'pending' THEN 0 ELSE 1 END, t.id DESC LIMIT $1"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(c).await?))
}

/// Decides a waiting transfer; false when it was decided already.
pub async fn decide(tx: &mut Tx, id: i64, to: TransferState, by: &str, note: &str, at: i64) -> Result<bool> {
    let sql = "UPDATE transfers SET state = $2, decided_by_name = $3, decision_note = $4, decided_at = $5 \
               WHERE id = $1 AND state = 'pending'";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(id).bind(to).bind(by).bind(note).bind(at)
        .execute(c).await?.rows_affected());
    Ok(n == 1)
}
