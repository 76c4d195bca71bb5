//! A person's requests about their record: corrections and erasures,
//! answered by the secretary.

use yijia_domain::rights::{RequestKind, RequestState};

use crate::{Result, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RecordRequest {
    pub id: i64,
    pub resident_id: i64,
    pub resident_name: String,
    pub community_id: i64,
    pub kind: RequestKind,
    pub body: String,
    pub evidence: String,
    pub for_reason: Option<String>,
    pub state: RequestState,
    pub asked_by: Option<i64>,
    pub asked_by_name: String,
    pub asked_at: i64,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<i64>,
    pub answer: Option<String>,
}

const SELECT: &str = "SELECT q.id, q.resident_id, r.name AS resident_name, q.community_id, q.kind, q.body, \
    q.evidence, q.for_reason, q.state, q.asked_by, q.asked_by_name, q.asked_at, q.decided_by_name, q.decided_at, \
    q.answer FROM record_requests q JOIN residents r ON r.id = q.resident_id";

pub struct NewRequest<'a> {
    pub resident_id: i64,
    pub community_id: i64,
    pub kind: RequestKind,
    pub body: &'a str,
    pub evidence: &'a str,
    pub for_reason: Option<&'a str>,
    pub asked_by: Option<i64>,
    pub asked_by_name: &'a str,
    pub at: i64,
}

pub async fn insert(tx: &mut Tx, r: &NewRequest<'_>) -> Result<i64> {
    let sql = "INSERT INTO record_requests (resident_id, community_id, kind, body, evidence, for_reason, state, \
               asked_by, asked_by_name, asked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(r.resident_id).bind(r.community_id).bind(r.kind).bind(r.body).bind(r.evidence).bind(r.for_reason)
        .bind(RequestState::Waiting).bind(r.asked_by).bind(r.asked_by_name).bind(r.at)
        .fetch_one(c).await?))
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<RecordRequest>> {
    let sql = format!("{SELECT} WHERE q.id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// How many of a person's requests of a kind wait for an answer; his row
/// stays locked to the end of `tx`, so two asked at once count in turn
/// (SQLite's write transaction does that already).
pub async fn waiting_of(tx: &mut Tx, resident_id: i64, kind: RequestKind) -> Result<i64> {
    if tx.backend() == crate::Backend::Postgres {
        let lock = "SELECT id FROM residents WHERE id = $1 FOR UPDATE";
        on_tx!(tx, c => sqlx::query(lock).bind(resident_id).fetch_optional(&mut *c).await?.is_some());
    }
    let sql = "SELECT COUNT(*) FROM record_requests WHERE resident_id = $1 AND kind = $2 AND state = 'waiting'";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(resident_id).bind(kind).fetch_one(c).await?))
}

/// A person's requests, newest first.
pub async fn of_resident(tx: &mut Tx, resident_id: i64) -> Result<Vec<RecordRequest>> {
    let sql = format!("{SELECT} WHERE q.resident_id = $1 ORDER BY q.id DESC LIMIT 200");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(resident_id).fetch_all(c).await?))
}

/// The requests of these communities: waiting ones first, then the latest.
pub async fn of_communities(tx: &mut Tx, ids: &[i64], limit: i64) -> Result<Vec<RecordRequest>> {
    let list = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
    let list = if list.is_empty() { "0".to_owned() } else { list };
    let sql = format!(
        "{SELECT} WHERE q.community_id IN ({list}) \
         ORDER BY CASE WHEN q.state = 'waiting' THEN 0 ELSE 1 END, q.id DESC LIMIT $1"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(c).await?))
}

/// Answers a waiting request; false when it was answered already.
pub async fn decide(tx: &mut Tx, id: i64, to: RequestState, by: &str, answer: &str, at: i64) -> Result<bool> {
    let sql = "UPDATE record_requests SET state = $2, decided_by_name = $3, answer = $4, decided_at = $5 \
               WHERE id = $1 AND state = 'waiting'";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(id).bind(to).bind(by).bind(answer).bind(at)
        .execute(c).await?.rows_affected());
    Ok(n > 0)
}
