//! Monthly tallies (migration 0025): kept by triggers with every change, read
//! by the dashboard and the reports, and recounted from the rows themselves
//! to check them or to rebuild them.

use serde::Serialize;

use crate::{Backend, Result, Tx, on_tx};

/// One figure of a node and a month: a count and a sum.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, sqlx::FromRow)]
pub struct Tally {
    pub node_id: i64,
    /// `2026-11`, in Beijing time.
    pub month: String,
    /// `cases_filed:request`, `visits`, `points_issued`, … (see the migration).
    pub figure: String,
    pub n: i64,
    pub total: i64,
}

/// The tallies of some nodes over months `from..=to` (`2026-01`), zeros left out.
pub async fn of_nodes(tx: &mut Tx, nodes: &[i64], from: &str, to: &str) -> Result<Vec<Tally>> {
    if nodes.is_empty() {
        return Ok(vec![]);
    }
    let list = crate::sql::id_list(nodes);
    // no ORDER BY: with it SQLite walked the whole key in order rather than
    // looking up each node (16 ms instead of 1 for a subdistrict)
    let sql = format!(
        "SELECT node_id, month, figure, n, total FROM tallies WHERE node_id IN ({list}) \
         AND month >= $1 AND month <= $2 AND n <> 0"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from).bind(to).fetch_all(c).await?))
}

/// The tallies of some nodes over months `from..=to`, summed over the
/// nodes: one row per month and figure (`node_id` 0), for a whole.
pub async fn summed(tx: &mut Tx, nodes: &[i64], from: &str, to: &str) -> Result<Vec<Tally>> {
    if nodes.is_empty() {
        return Ok(vec![]);
    }
    let list = crate::sql::id_list(nodes);
    let sql = format!(
        "SELECT CAST(0 AS BIGINT) AS node_id, month, figure, CAST(SUM(n) AS BIGINT) AS n, \
         CAST(SUM(total) AS BIGINT) AS total FROM tallies WHERE node_id IN ({list}) \
         AND month >= $1 AND month <= $2 GROUP BY month, figure"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from).bind(to).fetch_all(c).await?))
}

/// Every tally as kept, zeros left out, in order; with the people per grid
/// and category (`headcounts`, migration 0026) as figures `people:CATEGORY`
/// of no month.
pub async fn kept(tx: &mut Tx) -> Result<Vec<Tally>> {
    let sql = "SELECT node_id, month, figure, n, total FROM tallies WHERE n <> 0 OR total <> 0 \
               UNION ALL SELECT grid_id, '', 'people:' || category, n, CAST(0 AS BIGINT) FROM headcounts \
               WHERE n <> 0 ORDER BY 1, 2, 3";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).fetch_all(c).await?))
}

/// The month of an epoch-milliseconds column, in Beijing time, as the
/// triggers write it.
fn month_of(backend: Backend, col: &str) -> String {
    match backend {
        Backend::Sqlite => format!("strftime('%Y-%m', {col} / 1000 + 28800, 'unixepoch')"),
        Backend::Postgres => format!("tally_month({col})"),
    }
}

/// The statement that counts every tally from the rows themselves.
fn recount_sql(backend: Backend) -> String {
    let m = |col: &str| month_of(backend, col);
    let case = |figure: &str, at: &str, total: &str| {
        format!(
            "SELECT community_id AS node_id, {month} AS month, '{figure}:' || kind AS figure, COUNT(*) AS n, \
             CAST(COALESCE(SUM({total}), 0) AS BIGINT) AS total FROM cases WHERE {at} IS NOT NULL \
             GROUP BY community_id, {month}, kind",
            month = m(at)
        )
    };
    [
        case("cases_filed", "created_at", "0"),
        case("cases_accepted", "accepted_at", "accepted_at - created_at"),
        case("cases_resolved", "resolved_at", "resolved_at - created_at"),
        case("cases_rated", "rated_at", "rating").replace("rated_at IS NOT NULL", "rated_at IS NOT NULL AND rating IS NOT NULL"),
        "SELECT grid_id, substr(visited_on, 1, 7), 'visits', COUNT(*), CAST(0 AS BIGINT) FROM visits \
         GROUP BY grid_id, substr(visited_on, 1, 7)"
            .to_owned(),
        "SELECT a.community_id, substr(t.created_on, 1, 7), 'points_issued', COUNT(*), CAST(SUM(t.amount) AS BIGINT) \
         FROM point_transfers t JOIN point_accounts a ON a.id = t.debit_id WHERE a.kind = 'pool' \
         GROUP BY a.community_id, substr(t.created_on, 1, 7)"
            .to_owned(),
        "SELECT a.community_id, substr(t.created_on, 1, 7), 'points_redeemed', COUNT(*), CAST(SUM(t.amount) AS BIGINT) \
         FROM point_transfers t JOIN point_accounts a ON a.id = t.credit_id WHERE a.kind = 'shop' \
         GROUP BY a.community_id, substr(t.created_on, 1, 7)"
            .to_owned(),
    ]
    .join(" UNION ALL ")
}

/// People per grid and category counted from the rows (category '' is
/// everyone on the register).
const HEADCOUNT_SQL: &str = "SELECT grid_id, '' AS category, COUNT(*) AS n FROM residents \
    WHERE status = 'present' GROUP BY grid_id \
    UNION ALL SELECT r.grid_id, rc.category, COUNT(*) FROM resident_categories rc \
    JOIN residents r ON r.id = rc.resident_id WHERE r.status = 'present' GROUP BY r.grid_id, rc.category";

/// Every tally counted afresh from the rows, in order (people too, as in
/// `kept`).
pub async fn recount(tx: &mut Tx) -> Result<Vec<Tally>> {
    let sql = format!(
        "SELECT * FROM ({} UNION ALL SELECT grid_id, '', 'people:' || category, n, CAST(0 AS BIGINT) FROM ({HEADCOUNT_SQL}) h) r \
         ORDER BY 1, 2, 3",
        recount_sql(tx.backend())
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?))
}

/// Throws the tallies (and the people per grid) away and counts them
/// afresh (after a restore, say); how many there are.
pub async fn rebuild(tx: &mut Tx) -> Result<u64> {
    let sql = format!("INSERT INTO tallies (node_id, month, figure, n, total) {}", recount_sql(tx.backend()));
    let people = format!("INSERT INTO headcounts (grid_id, category, n) {HEADCOUNT_SQL}");
    on_tx!(tx, c => sqlx::query("DELETE FROM tallies").execute(&mut *c).await?.rows_affected());
    on_tx!(tx, c => sqlx::query("DELETE FROM headcounts").execute(&mut *c).await?.rows_affected());
    let n = on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *c).await?.rows_affected());
    Ok(n + on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(people)).execute(&mut *c).await?.rows_affected()))
}
