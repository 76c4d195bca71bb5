//! The points ledger: accounts with their balances, the requests (one per
//! client id, with how it ended) and the transfers, which the database
//! keeps from being changed or removed.

use serde::Serialize;

use yijia_domain::points::{AccountKind, ApprovalStatus, TransferKind};

use crate::sql::{Args, bind_args};
use crate::{Backend, Result, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub community_id: i64,
    pub kind: AccountKind,
    pub resident_id: Option<i64>,
    pub balance: i64,
    pub created_at: i64,
}

const ACCOUNT_COLS: &str = "id, community_id, kind, resident_id, balance, created_at";

/// The account of a resident, or the community's account of `kind`; made
/// when missing (at most one of each: a unique index decides a race).
pub async fn ensure_account(
    tx: &mut Tx,
    community_id: i64,
    kind: &str,
    resident_id: Option<i64>,
    now: i64,
) -> Result<Account> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO point_accounts (community_id, kind, resident_id, balance, created_at) \
         VALUES ($1, $2, $3, 0, $4) ON CONFLICT DO NOTHING")
        .bind(community_id).bind(kind).bind(resident_id).bind(now).execute(&mut *c).await?.rows_affected());
    let found = match resident_id {
        Some(r) => account_of_resident(tx, r).await?,
        None => community_account(tx, community_id, kind).await?,
    };
    found.ok_or(crate::StoreError::NotFound)
}

pub async fn account_of_resident(tx: &mut Tx, resident_id: i64) -> Result<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLS} FROM point_accounts WHERE resident_id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(resident_id).fetch_optional(c).await?))
}

pub async fn community_account(tx: &mut Tx, community_id: i64, kind: &str) -> Result<Option<Account>> {
    let sql = format!(
        "SELECT {ACCOUNT_COLS} FROM point_accounts WHERE community_id = $1 AND kind = $2 AND resident_id IS NULL"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(community_id).bind(kind).fetch_optional(c).await?))
}

pub async fn account(tx: &mut Tx, id: i64) -> Result<Option<Account>> {
    let sql = format!("SELECT {ACCOUNT_COLS} FROM point_accounts WHERE id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// The accounts with these ids, by id. On PostgreSQL their rows are locked,
/// always in the order of their ids, so that two requests over the same
/// accounts queue instead of deadlocking; on SQLite the write transaction
/// holds the database already.
pub async fn lock_accounts(tx: &mut Tx, ids: &[i64]) -> Result<Vec<Account>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let ph: Vec<String> = ids.iter().map(|i| args.push(*i)).collect();
    let lock = if tx.backend() == Backend::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {ACCOUNT_COLS} FROM point_accounts WHERE id IN ({}) ORDER BY id{lock}", ph.join(", "));
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// Adds each `(account, change)` to its balance, in one statement.
pub async fn add_to_balances(tx: &mut Tx, changes: &[(i64, i64)]) -> Result<()> {
    crate::sql::add_by_id(tx, "point_accounts", "balance", changes).await
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Request {
    pub client_id: String,
    pub fingerprint: String,
    /// `done` or `failed`.
    pub outcome: String,
    /// Why it failed: `points`, `stock` or `limit`.
    pub reason: Option<String>,
    pub failed_leg: Option<i32>,
    pub community_id: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

pub async fn request(tx: &mut Tx, client_id: &str) -> Result<Option<Request>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT client_id, fingerprint, outcome, reason, failed_leg, community_id, created_by, created_at \
         FROM point_requests WHERE client_id = $1")
        .bind(client_id).fetch_optional(c).await?))
}

/// Records how a request ended; false when its id was taken already (by
/// another request that got there first).
pub async fn insert_request(tx: &mut Tx, r: &Request) -> Result<bool> {
    Ok(insert_requests(tx, std::slice::from_ref(r)).await? == 1)
}

#[derive(Debug, Clone)]
pub struct NewTransfer<'a> {
    pub client_id: &'a str,
    pub leg: i32,
    pub debit_id: i64,
    pub credit_id: i64,
    pub amount: i64,
    pub kind: TransferKind,
    pub memo: &'a str,
    pub reverses_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_by_name: &'a str,
    pub created_at: i64,
    pub created_on: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Transfer {
    pub id: i64,
    pub client_id: String,
    pub leg: i32,
    pub debit_id: i64,
    pub credit_id: i64,
    pub amount: i64,
    pub kind: TransferKind,
    pub memo: String,
    pub reverses_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_by_name: String,
    pub created_at: i64,
    pub created_on: String,
}

const TRANSFER_COLS: &str = "id, client_id, leg, debit_id, credit_id, amount, kind, memo, reverses_id, created_by, \
                             created_by_name, created_at, created_on";

/// Writes the transfers of one request in one statement.
pub async fn insert_transfers(tx: &mut Tx, rows: &[NewTransfer<'_>]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let values = crate::residents::placeholders(tx.backend(), rows.len(), 12);
    let sql = format!(
        "INSERT INTO point_transfers (client_id, leg, debit_id, credit_id, amount, kind, memo, reverses_id, \
         created_by, created_by_name, created_at, created_on) VALUES {values}"
    );
    on_tx!(tx, c => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        for t in rows {
            q = q.bind(t.client_id).bind(t.leg).bind(t.debit_id).bind(t.credit_id).bind(t.amount).bind(t.kind)
                .bind(t.memo).bind(t.reverses_id).bind(t.created_by).bind(t.created_by_name).bind(t.created_at)
                .bind(t.created_on);
        }
        q.execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}

/// The transfers a request made, in order.
pub async fn transfers_of(tx: &mut Tx, client_id: &str) -> Result<Vec<Transfer>> {
    let sql = format!("SELECT {TRANSFER_COLS} FROM point_transfers WHERE client_id = $1 ORDER BY leg");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(client_id).fetch_all(c).await?))
}

pub async fn transfer(tx: &mut Tx, id: i64) -> Result<Option<Transfer>> {
    let sql = format!("SELECT {TRANSFER_COLS} FROM point_transfers WHERE id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// The transfer that reversed `id`, if one has.
pub async fn reversal_of(tx: &mut Tx, id: i64) -> Result<Option<Transfer>> {
    let sql = format!("SELECT {TRANSFER_COLS} FROM point_transfers WHERE reverses_id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// What `user` moved (awards, adjustments and reversals) into or out of each
/// of `accounts` on `day`, as `(account, points)`; transfers a second
/// person approved are theirs, not counted here.
pub async fn moved_by_hand(tx: &mut Tx, user: i64, day: &str, accounts: &[i64]) -> Result<Vec<(i64, i64)>> {
    if accounts.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let (u, d) = (args.push(user), args.push(day.to_owned()));
    let ph: Vec<String> = accounts.iter().map(|i| args.push(*i)).collect();
    let list = ph.join(", ");
    let mine = format!(
        "created_by = {u} AND created_on = {d} AND kind IN ('award', 'adjust', 'reversal') \
         AND client_id NOT IN (SELECT client_id FROM point_approvals)"
    );
    let sql = format!(
        "SELECT account, CAST(SUM(amount) AS BIGINT) FROM (\
         SELECT credit_id AS account, amount FROM point_transfers WHERE credit_id IN ({list}) AND {mine} \
         UNION ALL SELECT debit_id, amount FROM point_transfers WHERE debit_id IN ({list}) AND {mine}) m \
         GROUP BY account"
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// An account's transfers on days `from..=to` (YYYY-MM-DD), in order.
pub async fn statement(tx: &mut Tx, account_id: i64, from: &str, to: &str) -> Result<Vec<Transfer>> {
    let sql = format!(
        "SELECT {TRANSFER_COLS} FROM point_transfers WHERE debit_id = $1 AND created_on >= $2 AND created_on <= $3 \
         UNION ALL SELECT {TRANSFER_COLS} FROM point_transfers WHERE credit_id = $1 AND created_on >= $2 \
         AND created_on <= $3 ORDER BY id"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(account_id).bind(from).bind(to)
        .fetch_all(c).await?))
}

/// An account's balance at the start of a day: what came in before it,
/// less what went out.
pub async fn balance_before(tx: &mut Tx, account_id: i64, day: &str) -> Result<i64> {
    let (credit, debit): (i64, i64) = on_tx!(tx, c => sqlx::query_as(
        "SELECT \
         CAST(COALESCE((SELECT SUM(amount) FROM point_transfers WHERE credit_id = $1 AND created_on < $2), 0) AS BIGINT), \
         CAST(COALESCE((SELECT SUM(amount) FROM point_transfers WHERE debit_id = $1 AND created_on < $2), 0) AS BIGINT)")
        .bind(account_id).bind(day).fetch_one(c).await?);
    Ok(credit - debit)
}

/// Accounts whose balance differs from the sum of their transfers, as
/// `(account, balance, sum)`; and the sum of all balances. A sound ledger
/// answers no accounts and zero.
pub async fn verify(tx: &mut Tx) -> Result<(Vec<(i64, i64, i64)>, i64)> {
    let wrong: Vec<(i64, i64, i64)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT a.id, a.balance, CAST(COALESCE(i.s, 0) - COALESCE(o.s, 0) AS BIGINT) FROM point_accounts a \
         LEFT JOIN (SELECT credit_id, SUM(amount) AS s FROM point_transfers GROUP BY credit_id) i ON i.credit_id = a.id \
         LEFT JOIN (SELECT debit_id, SUM(amount) AS s FROM point_transfers GROUP BY debit_id) o ON o.debit_id = a.id \
         WHERE a.balance <> COALESCE(i.s, 0) - COALESCE(o.s, 0) ORDER BY a.id")
        .fetch_all(&mut *c).await?);
    let total: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM point_accounts").fetch_one(c).await?);
    Ok((wrong, total))
}

/// The requests with these client ids.
pub async fn requests(tx: &mut Tx, client_ids: &[&str]) -> Result<Vec<Request>> {
    if client_ids.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let ph: Vec<String> = client_ids.iter().map(|c| args.push(*c)).collect();
    let sql = format!(
        "SELECT client_id, fingerprint, outcome, reason, failed_leg, community_id, created_by, created_at \
         FROM point_requests WHERE client_id IN ({})",
        ph.join(", ")
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// Records several requests' outcomes in one statement; answers how many
/// were new.
pub async fn insert_requests(tx: &mut Tx, rows: &[Request]) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let values = crate::residents::placeholders(tx.backend(), rows.len(), 8);
    let sql = format!(
        "INSERT INTO point_requests \
         (client_id, fingerprint, outcome, reason, failed_leg, community_id, created_by, created_at) \
         VALUES {values} ON CONFLICT (client_id) DO NOTHING"
    );
    Ok(on_tx!(tx, c => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        for r in rows {
            q = q.bind(&r.client_id).bind(&r.fingerprint).bind(&r.outcome).bind(&r.reason).bind(r.failed_leg)
                .bind(r.community_id).bind(r.created_by).bind(r.created_at);
        }
        q.execute(&mut *c).await?.rows_affected()
    }))
}

/// The accounts of these residents, each made in its community when missing.
pub async fn ensure_resident_accounts(tx: &mut Tx, residents: &[(i64, i64)], now: i64) -> Result<Vec<Account>> {
    if residents.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let mut rows = Vec::with_capacity(residents.len());
    for (r, com) in residents {
        rows.push(format!("({}, {}, {}, 'resident', 0)", args.push(*r), args.push(*com), args.push(now)));
    }
    let sql = format!(
        "INSERT INTO point_accounts (resident_id, community_id, created_at, kind, balance) VALUES {} \
         ON CONFLICT DO NOTHING",
        rows.join(", ")
    );
    on_tx!(tx, c => bind_args!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), args).execute(&mut *c).await?.rows_affected());
    let mut args = Args::default();
    let ph: Vec<String> = residents.iter().map(|(r, _)| args.push(*r)).collect();
    let sql = format!("SELECT {ACCOUNT_COLS} FROM point_accounts WHERE resident_id IN ({})", ph.join(", "));
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Approval {
    pub client_id: String,
    pub fingerprint: String,
    pub community_id: i64,
    pub legs: String,
    pub asked_by: Option<i64>,
    pub asked_by_name: String,
    pub asked_at: i64,
    pub status: ApprovalStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub reason: Option<String>,
}

const APPROVAL_COLS: &str = "client_id, fingerprint, community_id, legs, asked_by, asked_by_name, asked_at, status, \
                             decided_by, decided_at, reason";

/// A request put aside for a second person, pending.
pub async fn insert_approval(tx: &mut Tx, a: &Approval) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO point_approvals (client_id, fingerprint, community_id, legs, asked_by, asked_by_name, asked_at, \
         status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending')")
        .bind(&a.client_id).bind(&a.fingerprint).bind(a.community_id).bind(&a.legs).bind(a.asked_by)
        .bind(&a.asked_by_name).bind(a.asked_at).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn approval(tx: &mut Tx, client_id: &str) -> Result<Option<Approval>> {
    let sql = format!("SELECT {APPROVAL_COLS} FROM point_approvals WHERE client_id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(client_id).fetch_optional(c).await?))
}

/// A community's requests waiting for a second person, oldest first.
pub async fn pending_approvals(tx: &mut Tx, community_id: i64) -> Result<Vec<Approval>> {
    let sql = format!(
        "SELECT {APPROVAL_COLS} FROM point_approvals WHERE community_id = $1 AND status = 'pending' ORDER BY asked_at"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(community_id).fetch_all(c).await?))
}

/// Requests in communities under `path` still waiting, or decided since
/// `since`, with the community's name.
pub async fn approvals_under(tx: &mut Tx, path: &str, since: i64) -> Result<Vec<(Approval, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        a: Approval,
        community_name: String,
    }
    let cols = APPROVAL_COLS.split(", ").map(|c| format!("a.{}", c.trim())).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {cols}, o.name AS community_name FROM point_approvals a JOIN org_nodes o ON o.id = a.community_id \
         WHERE o.path >= $1 AND o.path < $2 AND (a.status = 'pending' OR a.decided_at >= $3) ORDER BY a.asked_at"
    );
    let upper = format!("{path}\u{10FFFF}");
    let rows: Vec<Row> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(path).bind(&upper).bind(since)
        .fetch_all(c).await?);
    Ok(rows.into_iter().map(|r| (r.a, r.community_name)).collect())
}

/// Decides a pending request; false when it was decided already.
pub async fn decide(
    tx: &mut Tx,
    client_id: &str,
    status: ApprovalStatus,
    by: &str,
    at: i64,
    reason: Option<&str>,
) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE point_approvals SET status = $2, decided_by = $3, decided_at = $4, reason = $5 \
         WHERE client_id = $1 AND status = 'pending'")
        .bind(client_id).bind(status).bind(by).bind(at).bind(reason).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}
