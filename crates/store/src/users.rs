//! Users and their (role, org node) grants.

use serde::Serialize;

use yijia_domain::org::OrgKind;
use yijia_domain::role::Role;

use crate::{Result, StoreError, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub password_set_at: i64,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
    /// Staff: the phone residents call them on.
    pub work_phone: Option<String>,
}

/// A grant joined with its org node.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Grant {
    pub id: i64,
    pub user_id: i64,
    pub role: Role,
    pub org_id: i64,
    pub org_code: String,
    pub org_kind: OrgKind,
    pub org_name: String,
    pub org_path: String,
}

const COLS: &str = "id, username, display_name, password_hash, password_set_at, disabled_at, created_at, work_phone";
const GRANT_COLS: &str = "g.id, g.user_id, g.role, g.org_id, o.code AS org_code, o.kind AS org_kind, \
                          o.name AS org_name, o.path AS org_path";

pub async fn insert(tx: &mut Tx, username: &str, display_name: &str, password_hash: &str, now: i64) -> Result<User> {
    let sql = format!(
        "INSERT INTO users (username, display_name, password_hash, password_set_at, created_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING {COLS}"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(username).bind(display_name).bind(password_hash).bind(now).fetch_one(c).await?))
}

pub async fn by_username(tx: &mut Tx, username: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {COLS} FROM users WHERE username = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(username).fetch_optional(c).await?))
}

pub async fn by_id(tx: &mut Tx, id: i64) -> Result<User> {
    find_by_id(tx, id).await?.ok_or(StoreError::NotFound)
}

pub async fn find_by_id(tx: &mut Tx, id: i64) -> Result<Option<User>> {
    let sql = format!("SELECT {COLS} FROM users WHERE id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await?))
}

pub async fn set_password(tx: &mut Tx, id: i64, hash: &str, now: i64) -> Result<()> {
    let sql = "UPDATE users SET password_hash = $2, password_set_at = $3 WHERE id = $1";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(id).bind(hash).bind(now).execute(c).await?.rows_affected());
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn set_work_phone(tx: &mut Tx, id: i64, phone: Option<&str>) -> Result<()> {
    let sql = "UPDATE users SET work_phone = $1 WHERE id = $2";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(phone).bind(id).execute(c).await?.rows_affected());
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn set_disabled(tx: &mut Tx, id: i64, at: Option<i64>) -> Result<()> {
    let sql = "UPDATE users SET disabled_at = $2 WHERE id = $1";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(id).bind(at).execute(c).await?.rows_affected());
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn add_grant(tx: &mut Tx, user_id: i64, role: &str, org_id: i64, now: i64) -> Result<i64> {
    let sql = "INSERT INTO grants (user_id, role, org_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(user_id).bind(role).bind(org_id).bind(now).fetch_one(c).await?))
}

/// A resident's own account follows him to another grid.
pub async fn move_resident_grants(tx: &mut Tx, user_id: i64, from_org: i64, to_org: i64) -> Result<()> {
    let sql = "UPDATE grants SET org_id = $3 WHERE user_id = $1 AND role = 'resident' AND org_id = $2";
    on_tx!(tx, c => sqlx::query(sql).bind(user_id).bind(from_org).bind(to_org).execute(c).await?.rows_affected());
    Ok(())
}

pub async fn grants_of(tx: &mut Tx, user_id: i64) -> Result<Vec<Grant>> {
    let sql = format!(
        "SELECT {GRANT_COLS} FROM grants g JOIN org_nodes o ON o.id = g.org_id WHERE g.user_id = $1 ORDER BY g.id"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(user_id).fetch_all(c).await?))
}

/// A user holding a role at an org node.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Holder {
    pub org_id: i64,
    #[sqlx(flatten)]
    pub user: User,
}

/// The active users holding `role` at these org nodes (a grid's workers),
/// by name.
pub async fn holders(tx: &mut Tx, role: Role, org_ids: &[i64]) -> Result<Vec<Holder>> {
    if org_ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT g.org_id, u.id, u.username, u.display_name, u.password_hash, u.password_set_at, u.disabled_at, \
         u.created_at, u.work_phone FROM grants g JOIN users u ON u.id = g.user_id \
         WHERE g.role = $1 AND g.org_id IN ({}) AND u.disabled_at IS NULL ORDER BY u.display_name, u.id",
        crate::sql::id_list(org_ids)
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(role.code()).fetch_all(c).await?))
}

/// Every grant of these roles, of enabled users, by user.
pub async fn grants_with(tx: &mut Tx, roles: &[Role]) -> Result<Vec<Grant>> {
    if roles.is_empty() {
        return Ok(vec![]);
    }
    let codes: Vec<String> = roles.iter().map(|r| format!("'{}'", r.code())).collect();
    let sql = format!(
        "SELECT {GRANT_COLS} FROM grants g JOIN org_nodes o ON o.id = g.org_id JOIN users u ON u.id = g.user_id \
         WHERE g.role IN ({}) AND u.disabled_at IS NULL ORDER BY g.user_id, g.id",
        codes.join(", ")
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(c).await?))
}

/// The enabled accounts of residents living in these grids and, if given,
/// these buildings.
pub async fn resident_accounts(tx: &mut Tx, grids: Option<&[i64]>, buildings: Option<&[i64]>) -> Result<Vec<i64>> {
    let mut filter = Vec::new();
    for (column, ids) in [("r.grid_id", grids), ("h.building_id", buildings)] {
        match ids {
            Some([]) => return Ok(vec![]),
            Some(ids) => filter.push(format!("{column} IN ({})", crate::sql::id_list(ids))),
            None => {}
        }
    }
    if filter.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT u.id FROM users u JOIN residents r ON r.id = u.resident_id \
         LEFT JOIN households h ON h.id = r.household_id WHERE u.disabled_at IS NULL AND {} ORDER BY u.id",
        filter.join(" AND ")
    );
    Ok(on_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(c).await?))
}

/// A page of users holding at least one grant inside `path` (or, with the
/// root path, all users), ordered by username, and the total.
pub async fn list_within(tx: &mut Tx, path: &str, limit: i64, offset: i64) -> Result<(Vec<User>, i64)> {
    let upper = format!("{path}\u{10FFFF}");
    let filter = "EXISTS (SELECT 1 FROM grants g JOIN org_nodes o ON o.id = g.org_id \
                  WHERE g.user_id = users.id AND o.path >= $1 AND o.path < $2)";
    let all = path == "/root/";
    let (sql, count_sql) = if all {
        (
            format!("SELECT {COLS} FROM users ORDER BY username LIMIT $3 OFFSET $4"),
            "SELECT COUNT(*) FROM users WHERE $1 <> $2".to_owned(),
        )
    } else {
        (
            format!("SELECT {COLS} FROM users WHERE {filter} ORDER BY username LIMIT $3 OFFSET $4"),
            format!("SELECT COUNT(*) FROM users WHERE {filter}"),
        )
    };
    let rows: Vec<User> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(path).bind(&upper).bind(limit).bind(offset).fetch_all(&mut *c).await?);
    let total: i64 = on_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.as_str())).bind(path).bind(&upper).fetch_one(&mut *c).await?);
    Ok((rows, total))
}

pub async fn count(tx: &mut Tx) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(c).await?))
}

/// The resident record a user's account is linked to.
pub async fn resident_of(tx: &mut Tx, user_id: i64) -> Result<Option<i64>> {
    let sql = "SELECT resident_id FROM users WHERE id = $1";
    let r: Option<Option<i64>> = on_tx!(tx, c => sqlx::query_scalar(sql).bind(user_id).fetch_optional(c).await?);
    Ok(r.flatten())
}

/// The user whose account is linked to a resident record.
pub async fn user_of_resident(tx: &mut Tx, resident_id: i64) -> Result<Option<i64>> {
    let sql = "SELECT id FROM users WHERE resident_id = $1";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(resident_id).fetch_optional(c).await?))
}

/// Links an account to a resident record (one account per record).
pub async fn link_resident(tx: &mut Tx, user_id: i64, resident_id: i64) -> Result<()> {
    let sql = "UPDATE users SET resident_id = $2 WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(user_id).bind(resident_id).execute(c).await?.rows_affected());
    Ok(())
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Invitation {
    pub code_hash: String,
    pub resident_id: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub async fn insert_invitation(
    tx: &mut Tx,
    code_hash: &str,
    resident_id: i64,
    created_by: Option<i64>,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    let sql = "INSERT INTO resident_invitations (code_hash, resident_id, created_by, created_at, expires_at) \
               VALUES ($1, $2, $3, $4, $5)";
    on_tx!(tx, c => sqlx::query(sql).bind(code_hash).bind(resident_id).bind(created_by).bind(now).bind(expires_at)
        .execute(c).await?.rows_affected());
    Ok(())
}

pub async fn invitation(tx: &mut Tx, code_hash: &str) -> Result<Option<Invitation>> {
    let sql = "SELECT code_hash, resident_id, created_at, expires_at, used_at FROM resident_invitations \
               WHERE code_hash = $1";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(code_hash).fetch_optional(c).await?))
}

/// Marks an invitation used; `false` when it was used already.
pub async fn use_invitation(tx: &mut Tx, code_hash: &str, user_id: i64, now: i64) -> Result<bool> {
    let sql = "UPDATE resident_invitations SET used_at = $3, used_by = $2 WHERE code_hash = $1 AND used_at IS NULL";
    let n = on_tx!(tx, c => sqlx::query(sql).bind(code_hash).bind(user_id).bind(now).execute(c).await?.rows_affected());
    Ok(n == 1)
}

/// Earlier unused invitations of a resident stop working when a new one is given.
pub async fn expire_invitations(tx: &mut Tx, resident_id: i64, now: i64) -> Result<()> {
    let sql = "UPDATE resident_invitations SET expires_at = $2 WHERE resident_id = $1 AND used_at IS NULL \
               AND expires_at > $2";
    on_tx!(tx, c => sqlx::query(sql).bind(resident_id).bind(now).execute(c).await?.rows_affected());
    Ok(())
}

/// What the dispatcher needs of a person: where their phone is.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct NotifyProfile {
    pub id: i64,
    pub resident_id: Option<i64>,
    pub work_phone: Option<String>,
    pub disabled_at: Option<i64>,
}

pub async fn notify_profiles(tx: &mut Tx, ids: &[i64]) -> Result<Vec<NotifyProfile>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT id, resident_id, work_phone, disabled_at FROM users WHERE id IN ({})",
        crate::sql::id_list(ids)
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?))
}

/// A resident's uid and sealed phone (the uid binds the seal).
/// A resident's uid, sealed phone and own key (wrapped).
pub type SealedPhone = (String, Option<String>, Option<String>);

pub async fn resident_phone(tx: &mut Tx, resident_id: i64) -> Result<Option<SealedPhone>> {
    let sql = "SELECT r.uid, r.phone_sealed, k.wrapped FROM residents r \
               LEFT JOIN resident_keys k ON k.resident_id = r.id WHERE r.id = $1";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(resident_id).fetch_optional(c).await?))
}
