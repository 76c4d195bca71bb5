//! Approvals of exports that show personal data in full.

use serde::Serialize;

use crate::{Result, Tx, on_tx};
use yijia_domain::registry::ExportStatus;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Approval {
    pub id: i64,
    pub community_id: i64,
    pub community_code: String,
    pub community_name: String,
    pub community_path: String,
    pub category: Option<String>,
    pub category_name: Option<String>,
    pub reason: String,
    pub requested_by: i64,
    pub requested_name: String,
    pub requested_at: i64,
    pub decided_by: Option<i64>,
    pub decided_name: Option<String>,
    pub decided_at: Option<i64>,
    pub status: ExportStatus,
    pub used_at: Option<i64>,
    pub decision_note: Option<String>,
}

const COLS: &str = "a.id, a.community_id, o.code AS community_code, o.name AS community_name, \
                    o.path AS community_path, a.category, a.category_name, a.reason, a.requested_by, a.requested_name, a.requested_at, \
                    a.decided_by, a.decided_name, a.decided_at, a.status, a.used_at, a.decision_note";

pub struct NewApproval<'a> {
    pub community_id: i64,
    pub category: Option<&'a str>,
    pub category_name: Option<&'a str>,
    pub reason: &'a str,
    pub requested_by: i64,
    pub requested_name: &'a str,
    pub now: i64,
}

pub async fn insert(tx: &mut Tx, a: &NewApproval<'_>) -> Result<i64> {
    let sql = "INSERT INTO export_approvals (community_id, category, reason, requested_by, requested_name, \
               requested_at, status, category_name) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(a.community_id).bind(a.category).bind(a.reason).bind(a.requested_by).bind(a.requested_name).bind(a.now).bind(a.category_name)
        .fetch_one(c).await?))
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Approval>> {
    let sql =
        format!("SELECT {COLS} FROM export_approvals a JOIN org_nodes o ON o.id = a.community_id WHERE a.id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await?))
}

/// The latest approvals for communities under `paths`, newest first.
pub async fn list(tx: &mut Tx, paths: &[String], limit: i64) -> Result<Vec<Approval>> {
    let mut out = Vec::new();
    for p in paths {
        let sql = format!(
            "SELECT {COLS} FROM export_approvals a JOIN org_nodes o ON o.id = a.community_id \
             WHERE o.path >= $1 AND o.path < $2 ORDER BY a.id DESC LIMIT $3"
        );
        let upper = format!("{p}\u{10FFFF}");
        let rows: Vec<Approval> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(p).bind(&upper).bind(limit).fetch_all(c).await?);
        out.extend(rows);
    }
    out.sort_by_key(|a| std::cmp::Reverse(a.id));
    out.dedup_by_key(|a| a.id);
    Ok(out)
}

/// Approves or rejects a pending request; `false` when it is not pending.
pub async fn decide(tx: &mut Tx, id: i64, status: ExportStatus, by: (i64, &str), note: &str, now: i64) -> Result<bool> {
    let sql = "UPDATE export_approvals SET status = $2, decided_by = $3, decided_name = $4, decided_at = $5, \
               decision_note = $6 WHERE id = $1 AND status = 'pending'";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(id).bind(status).bind(by.0).bind(by.1).bind(now).bind(note)
        .execute(c).await?.rows_affected());
    Ok(n == 1)
}

/// Marks an approved export as downloaded; `false` when it was not approved
/// (or was used already).
pub async fn use_once(tx: &mut Tx, id: i64, now: i64) -> Result<bool> {
    let sql = "UPDATE export_approvals SET status = 'used', used_at = $2 WHERE id = $1 AND status = 'approved'";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(id).bind(now).execute(c).await?.rows_affected());
    Ok(n == 1)
}
