//! The append-only, hash-chained audit log.

use serde::Serialize;
use yijia_domain::audit::{EntryFields, entry_hash};

use crate::sql::{Args, bind_args};
use crate::{Result, StoreError, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub outcome: String,
    pub object: String,
    pub org_path: String,
    pub ip: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
    /// the erasure that emptied its personal fields
    pub erased_by: Option<i64>,
}

impl Entry {
    pub fn fields(&self) -> EntryFields<'_> {
        EntryFields {
            seq: self.seq,
            at_ms: self.at,
            actor: self.actor_id,
            actor_name: &self.actor_name,
            action: &self.action,
            outcome: &self.outcome,
            object: &self.object,
            org_path: &self.org_path,
            ip: &self.ip,
            detail: &self.detail,
        }
    }
}

/// What a caller appends; the store adds the sequence number and hashes.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: &'a str,
    pub action: &'a str,
    pub outcome: &'a str,
    pub object: &'a str,
    pub org_path: &'a str,
    pub ip: &'a str,
    pub detail: &'a str,
}

impl NewEntry<'_> {
    /// What its hash covers, once it has its place in the chain.
    fn fields(&self, seq: i64) -> EntryFields<'_> {
        EntryFields {
            seq,
            at_ms: self.at,
            actor: self.actor_id,
            actor_name: self.actor_name,
            action: self.action,
            outcome: self.outcome,
            object: self.object,
            org_path: self.org_path,
            ip: self.ip,
            detail: self.detail,
        }
    }
}

const COLS: &str = "seq, at, actor_id, actor_name, action, outcome, object, org_path, ip, detail, prev_hash, hash";
const READ: &str =
    "seq, at, actor_id, actor_name, action, outcome, object, org_path, ip, detail, prev_hash, hash, erased_by";

/// Appends an entry in the caller's transaction. Bumping the head row first
/// takes its lock, so concurrent appenders queue and the chain never forks.
pub async fn append(tx: &mut Tx, e: &NewEntry<'_>) -> Result<i64> {
    let head: Option<(i64, String)> = on_tx!(tx, c => sqlx::query_as(
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_optional(&mut *c).await?);
    // without its head the log cannot be appended to, and whatever needed
    // the entry must not happen
    let (seq, prev) = head.ok_or(StoreError::Broken("the audit log has no head row"))?;
    let hash = entry_hash(&prev, &e.fields(seq));
    // the entry and the head's new hash in one round trip: two statements
    // in one string on SQLite, a data-modifying WITH on PostgreSQL
    let values = "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
    let sql = match tx.backend() {
        crate::Backend::Sqlite => {
            format!("INSERT INTO audit_log ({COLS}) {values}; UPDATE audit_head SET hash = $12 WHERE id = 1")
        }
        crate::Backend::Postgres => format!(
            "WITH e AS (INSERT INTO audit_log ({COLS}) {values} RETURNING hash) \
             UPDATE audit_head SET hash = (SELECT hash FROM e) WHERE id = 1"
        ),
    };
    let n = on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(seq).bind(e.at).bind(e.actor_id).bind(e.actor_name).bind(e.action).bind(e.outcome)
        .bind(e.object).bind(e.org_path).bind(e.ip).bind(e.detail).bind(&prev).bind(&hash)
        .execute(&mut *c).await?.rows_affected());
    if n == 0 {
        return Err(StoreError::Broken("the audit log's head was not moved"));
    }
    Ok(seq)
}

/// Appends several entries in order, in three statements whatever their
/// number (two on PostgreSQL): the head moved past all of them, the
/// entries, the head's hash.
pub async fn append_many(tx: &mut Tx, entries: &[NewEntry<'_>]) -> Result<Vec<i64>> {
    if entries.is_empty() {
        return Ok(vec![]);
    }
    let n = entries.len() as i64;
    let head: Option<(i64, String)> = on_tx!(tx, c => sqlx::query_as(
        "UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
        .bind(n).fetch_optional(&mut *c).await?);
    let (last, mut prev) = head.ok_or(StoreError::Broken("the audit log has no head row"))?;
    let first = last - n + 1;
    let mut rows = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let seq = first + i as i64;
        let hash = entry_hash(&prev, &e.fields(seq));
        rows.push((seq, e, std::mem::replace(&mut prev, hash.clone()), hash));
    }
    // PostgreSQL moves the head's hash in the same statement as the entries
    let pg_once = tx.backend() == crate::Backend::Postgres && rows.len() <= 500;
    for chunk in rows.chunks(500) {
        let values = crate::residents::placeholders(tx.backend(), chunk.len(), 12);
        let sql = if pg_once {
            format!(
                "WITH ins AS (INSERT INTO audit_log ({COLS}) VALUES {values}) \
                 UPDATE audit_head SET hash = ${} WHERE id = 1",
                chunk.len() * 12 + 1
            )
        } else {
            format!("INSERT INTO audit_log ({COLS}) VALUES {values}")
        };
        on_tx!(tx, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for (seq, e, prev_hash, hash) in chunk {
                q = q.bind(*seq).bind(e.at).bind(e.actor_id).bind(e.actor_name).bind(e.action).bind(e.outcome)
                    .bind(e.object).bind(e.org_path).bind(e.ip).bind(e.detail).bind(prev_hash.as_str())
                    .bind(hash.as_str());
            }
            if pg_once {
                q = q.bind(prev.as_str());
            }
            q.execute(&mut *c).await?.rows_affected()
        });
    }
    if !pg_once {
        on_tx!(tx, c => sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&prev)
            .execute(&mut *c).await?.rows_affected());
    }
    Ok((first..=last).collect())
}

/// Entries after `after_seq`, in order, at most `limit`: for walking the chain.
pub async fn chunk(tx: &mut Tx, after_seq: i64, limit: i64) -> Result<Vec<Entry>> {
    let sql = format!("SELECT {READ} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
    Ok(
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(after_seq).bind(limit).fetch_all(c).await?),
    )
}

pub async fn head(tx: &mut Tx) -> Result<(i64, String)> {
    Ok(on_tx!(tx, c => sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(c).await?))
}

/// Filters for the audit log page: entries about nodes inside `path`
/// (deployment-wide entries have the root path), newest first.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub path: String,
    pub action: Option<String>,
    pub actor_id: Option<i64>,
}

pub async fn list(tx: &mut Tx, f: &Filter, limit: i64, offset: i64) -> Result<(Vec<Entry>, i64)> {
    let upper = format!("{}\u{10FFFF}", f.path);
    let cond = "org_path >= $1 AND org_path < $2 AND ($3 IS NULL OR action = $3) AND ($4 IS NULL OR actor_id = $4)";
    let sql = format!("SELECT {READ} FROM audit_log WHERE {cond} ORDER BY seq DESC LIMIT $5 OFFSET $6");
    let count_sql = format!("SELECT COUNT(*) FROM audit_log WHERE {cond}");
    let rows: Vec<Entry> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&f.path).bind(&upper).bind(f.action.as_deref()).bind(f.actor_id).bind(limit).bind(offset)
        .fetch_all(&mut *c).await?);
    let total: i64 = on_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.as_str()))
        .bind(&f.path).bind(&upper).bind(f.action.as_deref()).bind(f.actor_id)
        .fetch_one(&mut *c).await?);
    Ok((rows, total))
}

/// Entries about nodes inside `path` written in `[from, to)`, after
/// `after_seq`, oldest first, at most `limit`: for an export in chunks.
pub async fn between(tx: &mut Tx, path: &str, from: i64, to: i64, after_seq: i64, limit: i64) -> Result<Vec<Entry>> {
    let upper = format!("{path}\u{10FFFF}");
    let sql = format!(
        "SELECT {READ} FROM audit_log WHERE org_path >= $1 AND org_path < $2 AND at >= $3 AND at < $4 AND seq > $5 \
         ORDER BY seq LIMIT $6"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(path).bind(&upper).bind(from).bind(to).bind(after_seq).bind(limit).fetch_all(c).await?))
}

/// How many entries `actor` wrote since `since` with one of `actions`.
pub async fn count_since(tx: &mut Tx, actor: i64, since: i64, actions: &[&str]) -> Result<i64> {
    let mut args = Args::default();
    let (a, s) = (args.push(actor), args.push(since));
    let list: Vec<String> = actions.iter().map(|x| args.push(*x)).collect();
    let sql = format!(
        "SELECT COUNT(*) FROM audit_log WHERE actor_id = {a} AND at >= {s} AND action IN ({})",
        list.join(", ")
    );
    Ok(
        on_tx!(tx, c => bind_args!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_one(&mut *c).await?),
    )
}

/// The entries about one object (`resident:42`), newest first.
pub async fn by_object(tx: &mut Tx, object: &str, limit: i64) -> Result<Vec<Entry>> {
    let sql = format!("SELECT {READ} FROM audit_log WHERE object = $1 ORDER BY seq DESC LIMIT $2");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(object).bind(limit).fetch_all(c).await?))
}

/// One entry by its number.
pub async fn get(tx: &mut Tx, seq: i64) -> Result<Option<Entry>> {
    let sql = format!("SELECT {READ} FROM audit_log WHERE seq = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(seq).fetch_optional(c).await?))
}

/// Holds the head of the chain until the transaction ends, so that no
/// entry is appended meanwhile (SQLite's write transaction holds it
/// already).
pub async fn lock_head(tx: &mut Tx) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1").execute(c).await?.rows_affected());
    Ok(())
}

/// The entries `erase_about` would empty now, in order.
pub async fn to_erase(tx: &mut Tx, object: &str, actor: Option<i64>) -> Result<Vec<Entry>> {
    let sql = format!(
        "SELECT {READ} FROM audit_log WHERE object = $1 AND erased_by IS NULL AND action <> 'resident_erase' \
         UNION SELECT {READ} FROM audit_log WHERE actor_id = $2 AND erased_by IS NULL \
         AND action <> 'resident_erase' ORDER BY seq"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(object).bind(actor).fetch_all(c).await?))
}

/// Empties the personal fields of the entries about `object`, and those a
/// person's own account wrote (`actor`), naming the erasure entry `by`; the
/// hashes and links stay. An erasure's own entry is never emptied: it
/// holds the digest that checks the others. How many were emptied.
pub async fn erase_about(tx: &mut Tx, object: &str, actor: Option<i64>, by: i64) -> Result<u64> {
    // his own entries first: those about himself lose his name and address too
    let own = match actor {
        Some(actor) => on_tx!(tx, c => sqlx::query(
            "UPDATE audit_log SET detail = '', actor_name = '', ip = '', erased_by = $2 \
             WHERE actor_id = $1 AND erased_by IS NULL AND seq < $2 AND action <> 'resident_erase'")
            .bind(actor).bind(by).execute(&mut *c).await?.rows_affected()),
        None => 0,
    };
    let about = on_tx!(tx, c => sqlx::query(
        "UPDATE audit_log SET detail = '', erased_by = $2 WHERE object = $1 AND erased_by IS NULL AND seq < $2 \
         AND action <> 'resident_erase'")
        .bind(object).bind(by).execute(&mut *c).await?.rows_affected());
    Ok(about + own)
}
