//! The org tree.

use serde::Serialize;

use yijia_domain::org::OrgKind;

use crate::{Result, StoreError, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct OrgNode {
    pub id: i64,
    pub code: String,
    pub kind: OrgKind,
    pub name: String,
    pub parent_id: Option<i64>,
    pub path: String,
    pub boundary: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: &str = "id, code, kind, name, parent_id, path, boundary, created_at, updated_at";

pub struct NewNode<'a> {
    pub code: &'a str,
    pub kind: OrgKind,
    pub name: &'a str,
    pub parent_id: i64,
    pub path: &'a str,
    pub boundary: Option<&'a str>,
    pub now: i64,
}

pub async fn insert(tx: &mut Tx, n: &NewNode<'_>) -> Result<OrgNode> {
    let sql = format!(
        "INSERT INTO org_nodes (code, kind, name, parent_id, path, boundary, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {COLS}"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(n.code).bind(n.kind).bind(n.name).bind(n.parent_id).bind(n.path).bind(n.boundary).bind(n.now)
        .fetch_one(c).await?))
}

pub async fn by_code(tx: &mut Tx, code: &str) -> Result<Option<OrgNode>> {
    let sql = format!("SELECT {COLS} FROM org_nodes WHERE code = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(code).fetch_optional(c).await?))
}

pub async fn by_id(tx: &mut Tx, id: i64) -> Result<OrgNode> {
    let sql = format!("SELECT {COLS} FROM org_nodes WHERE id = $1");
    let n: Option<OrgNode> =
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await?);
    n.ok_or(StoreError::NotFound)
}

/// Every node whose path starts with `path` (the node itself included),
/// in tree order.
pub async fn subtree(tx: &mut Tx, path: &str) -> Result<Vec<OrgNode>> {
    // A range on the path rather than LIKE, so the unique index serves it
    // and '_' or '%' in a path mean nothing special.
    let sql = format!("SELECT {COLS} FROM org_nodes WHERE path >= $1 AND path < $2 ORDER BY path");
    let upper = format!("{path}\u{10FFFF}");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(path).bind(&upper).fetch_all(c).await?))
}

/// The node of a code and everything under it, in one read (none when no
/// such code).
pub async fn subtree_of_code(tx: &mut Tx, code: &str) -> Result<Vec<OrgNode>> {
    let cols = COLS.split(", ").map(|c| format!("n.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT {cols} FROM org_nodes top JOIN org_nodes n ON n.path >= top.path AND n.path < top.path || $2 \
         WHERE top.code = $1 ORDER BY n.path"
    );
    Ok(
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(code).bind("\u{10FFFF}").fetch_all(c).await?),
    )
}

/// Every community with its subdistrict's name: (code, name, subdistrict),
/// by subdistrict and name. Names only, for the public boards' chooser.
pub async fn communities(tx: &mut Tx) -> Result<Vec<(String, String, String)>> {
    let sql = "SELECT c.code, c.name, COALESCE(p.name, '') FROM org_nodes c LEFT JOIN org_nodes p ON p.id = c.parent_id \
               WHERE c.kind = 'community' ORDER BY 3, c.name, c.code";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).fetch_all(c).await?))
}

pub async fn children(tx: &mut Tx, parent_id: i64) -> Result<Vec<OrgNode>> {
    let sql = format!("SELECT {COLS} FROM org_nodes WHERE parent_id = $1 ORDER BY code");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(parent_id).fetch_all(c).await?))
}

/// The grids under an org node (itself, if it is one).
pub async fn grids_under(tx: &mut Tx, path: &str) -> Result<Vec<i64>> {
    let upper = format!("{path}\u{10FFFF}");
    let sql = "SELECT id FROM org_nodes WHERE kind = 'grid' AND path >= $1 AND path < $2 ORDER BY id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(path).bind(upper).fetch_all(c).await?))
}

pub async fn update(tx: &mut Tx, id: i64, name: &str, boundary: Option<&str>, now: i64) -> Result<OrgNode> {
    let sql = format!("UPDATE org_nodes SET name = $2, boundary = $3, updated_at = $4 WHERE id = $1 RETURNING {COLS}");
    let n: Option<OrgNode> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id).bind(name).bind(boundary).bind(now).fetch_optional(c).await?);
    n.ok_or(StoreError::NotFound)
}

pub async fn count_children(tx: &mut Tx, id: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM org_nodes WHERE parent_id = $1";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(id).fetch_one(c).await?))
}

pub async fn count_grants(tx: &mut Tx, id: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM grants WHERE org_id = $1";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(id).fetch_one(c).await?))
}

/// What still lies in a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dependents {
    pub residents: i64,
    pub cases: i64,
    pub visits: i64,
    pub care_plans: i64,
    pub notices: i64,
}

pub async fn dependents(tx: &mut Tx, id: i64) -> Result<Dependents> {
    let sql = "SELECT (SELECT COUNT(*) FROM residents WHERE grid_id = $1), \
               (SELECT COUNT(*) FROM cases WHERE grid_id = $1 OR community_id = $1), \
               (SELECT COUNT(*) FROM visits WHERE grid_id = $1), \
               (SELECT COUNT(*) FROM care_plans WHERE grid_id = $1), \
               (SELECT COUNT(*) FROM notices WHERE grid_id = $1 OR community_id = $1)";
    let (residents, cases, visits, care_plans, notices): (i64, i64, i64, i64, i64) =
        on_tx!(tx, c => sqlx::query_as(sql).bind(id).fetch_one(c).await?);
    Ok(Dependents { residents, cases, visits, care_plans, notices })
}

/// Removes a node and what the triggers kept about it (its headcounts,
/// all zero once it holds nobody).
pub async fn delete(tx: &mut Tx, id: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM headcounts WHERE grid_id = $1").bind(id).execute(c).await?.rows_affected());
    let sql = "DELETE FROM org_nodes WHERE id = $1";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(id).execute(c).await?.rows_affected());
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}
