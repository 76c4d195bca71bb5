//! Residents and their categories. Sealed fields arrive sealed and leave
//! sealed: this layer never sees a plain ID number or phone.

use serde::Serialize;
pub use yijia_domain::registry::ResidentSort as Sort;

use yijia_domain::id_number::Sex;
use yijia_domain::life::{Change, Informant, Status};
use yijia_domain::registry::Residence;

use crate::sql::{Args, bind_args};
use crate::{Result, StoreError, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Resident {
    pub id: i64,
    pub uid: String,
    pub grid_id: i64,
    pub grid_code: String,
    pub grid_name: String,
    pub grid_path: String,
    pub household_id: Option<i64>,
    pub name: String,
    pub sex: Option<Sex>,
    pub birth_date: Option<String>,
    pub id_number_sealed: Option<String>,
    pub id_number_masked: Option<String>,
    pub phone_sealed: Option<String>,
    pub phone_masked: Option<String>,
    pub relation: String,
    pub residence: Residence,
    pub notes: String,
    pub flags: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
    /// Its categories' codes, comma-separated, each with a `+` when it has
    /// sealed details and `=name` when the community made it: read with the
    /// row, not one statement more.
    pub categories: Option<String>,
    /// Here, moved away or deceased, and since which day.
    pub status: Status,
    pub status_on: Option<String>,
    /// When the person's data was erased (the row stays, nameless).
    pub erased_at: Option<i64>,
}

/// One of a resident's categories as read with the row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HeldCategory<'a> {
    pub code: &'a str,
    pub has_details: bool,
    /// The name of a category the community made.
    pub custom_name: Option<&'a str>,
}

impl Resident {
    pub fn category_codes(&self) -> Vec<HeldCategory<'_>> {
        let mut v: Vec<HeldCategory<'_>> = self
            .categories
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|c| !c.is_empty())
            .map(|c| {
                let (c, custom_name) = match c.split_once('=') {
                    Some((c, name)) => (c, Some(name)),
                    None => (c, None),
                };
                match c.strip_suffix('+') {
                    Some(code) => HeldCategory { code, has_details: true, custom_name },
                    None => HeldCategory { code: c, has_details: false, custom_name },
                }
            })
            .collect();
        v.sort_unstable();
        v
    }
}

const COLS: &str = "r.id, r.uid, r.grid_id, o.code AS grid_code, o.name AS grid_name, o.path AS grid_path, r.household_id, r.name, r.sex, \
                    r.birth_date, r.id_number_sealed, r.id_number_masked, r.phone_sealed, r.phone_masked, r.relation, \
                    r.residence, r.notes, r.flags, r.created_at, r.updated_at, r.version, \
                    (SELECT group_concat(rc.category || CASE WHEN rc.details_sealed IS NULL THEN '' ELSE '+' END \
                    || COALESCE('=' || cc.name, ''), ',') FROM resident_categories rc \
                    LEFT JOIN community_categories cc ON rc.category = 'c' || cc.id \
                    WHERE rc.resident_id = r.id) AS categories, r.status, r.status_on, r.erased_at";

/// `COLS` for this backend: PostgreSQL calls `group_concat` `string_agg`.
fn cols(tx: &Tx) -> std::borrow::Cow<'static, str> {
    match tx.backend() {
        crate::Backend::Sqlite => COLS.into(),
        crate::Backend::Postgres => COLS
            .replace("group_concat(", "string_agg(")
            .replace("''), ',')", "''), ',' ORDER BY rc.category)")
            .replace("'c' || cc.id", "'c' || cc.id::text")
            .into(),
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewResident {
    pub uid: String,
    pub grid_id: i64,
    pub household_id: Option<i64>,
    pub name: String,
    pub name_pinyin: String,
    pub name_initials: String,
    pub sex: Option<Sex>,
    pub birth_date: Option<String>,
    pub id_number_sealed: Option<String>,
    pub id_number_index: Option<String>,
    pub id_number_masked: Option<String>,
    pub phone_sealed: Option<String>,
    pub phone_index: Option<String>,
    pub phone_masked: Option<String>,
    pub relation: String,
    pub residence: Residence,
    pub notes: String,
    pub flags: String,
    pub now: i64,
}

/// Inserts a resident; `Conflict("id_number")` when the ID number (by its
/// blind index) is registered already.
pub async fn insert(tx: &mut Tx, r: &NewResident) -> Result<i64> {
    let ids = insert_many(tx, std::slice::from_ref(r)).await?;
    ids.first().copied().ok_or(StoreError::NotFound)
}

/// Rows per multi-row statement: far below both backends' parameter limits
/// (SQLite 32,766, PostgreSQL 65,535) at 19 per resident.
pub const BATCH: usize = 500;

/// `($1, $2, …), (…)`: `rows` groups of `cols` placeholders. SQLite gets
/// anonymous `?`: sqlx looks each named one up by a linear scan, which made
/// a 500-row statement spend most of its time finding its parameters.
pub(crate) fn placeholders(backend: crate::Backend, rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            match backend {
                crate::Backend::Sqlite => s.push('?'),
                crate::Backend::Postgres => {
                    s.push('$');
                    s.push_str(&(r * cols + c + 1).to_string());
                }
            }
        }
        s.push(')');
    }
    s
}

/// Inserts residents (at most `BATCH`) in one statement; their ids in the
/// same order. `Conflict("id_number")` when an ID number is registered.
pub async fn insert_many(tx: &mut Tx, rows: &[NewResident]) -> Result<Vec<i64>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "INSERT INTO residents (uid, grid_id, household_id, name, sex, birth_date, id_number_sealed, \
         id_number_index, id_number_masked, phone_sealed, phone_index, phone_masked, relation, residence, notes, \
         flags, created_at, updated_at, name_pinyin, name_initials, version) VALUES {} RETURNING uid, id",
        // version is the literal 1: 20 bound columns a row
        placeholders(tx.backend(), rows.len(), 20).replace(')', ", 1)")
    );
    let out: Result<Vec<(String, i64)>> = async {
        Ok(on_tx!(tx, c => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
            for r in rows {
                q = q.bind(&r.uid).bind(r.grid_id).bind(r.household_id).bind(&r.name).bind(r.sex).bind(&r.birth_date)
                    .bind(&r.id_number_sealed).bind(&r.id_number_index).bind(&r.id_number_masked)
                    .bind(&r.phone_sealed).bind(&r.phone_index).bind(&r.phone_masked)
                    .bind(&r.relation).bind(r.residence).bind(&r.notes).bind(&r.flags).bind(r.now).bind(r.now)
                    .bind(&r.name_pinyin).bind(&r.name_initials);
            }
            q.fetch_all(&mut *c).await?
        }))
    }
    .await;
    let out = out.map_err(|e| match e {
        StoreError::Conflict(_) => StoreError::Conflict("id_number".into()),
        e => e,
    })?;
    // RETURNING promises no order: match by uid
    let by_uid: std::collections::HashMap<String, i64> = out.into_iter().collect();
    rows.iter().map(|r| by_uid.get(&r.uid).copied().ok_or(StoreError::NotFound)).collect()
}

/// Replaces a resident's own fields (not their uid, grid or categories) if
/// the row is still at `version`; `false` when someone changed it meanwhile.
/// `Conflict("id_number")` when the new ID number belongs to someone else.
pub async fn update(tx: &mut Tx, id: i64, version: i64, r: &NewResident) -> Result<bool> {
    let sql = "UPDATE residents SET household_id = $3, name = $4, sex = $5, birth_date = $6, id_number_sealed = $7, \
               id_number_index = $8, id_number_masked = $9, phone_sealed = $10, phone_index = $11, phone_masked = $12, \
               relation = $13, residence = $14, notes = $15, flags = $16, updated_at = $17, name_pinyin = $18, \
               name_initials = $19, version = version + 1 WHERE id = $1 AND version = $2";
    let n: Result<u64> = async {
        Ok(on_tx!(tx, c => sqlx::query(sql)
            .bind(id).bind(version).bind(r.household_id).bind(&r.name).bind(r.sex).bind(&r.birth_date)
            .bind(&r.id_number_sealed).bind(&r.id_number_index).bind(&r.id_number_masked)
            .bind(&r.phone_sealed).bind(&r.phone_index).bind(&r.phone_masked)
            .bind(&r.relation).bind(r.residence).bind(&r.notes).bind(&r.flags).bind(r.now)
            .bind(&r.name_pinyin).bind(&r.name_initials)
            .execute(c).await?.rows_affected()))
    }
    .await;
    match n {
        Ok(n) => Ok(n == 1),
        Err(StoreError::Conflict(_)) => Err(StoreError::Conflict("id_number".into())),
        Err(e) => Err(e),
    }
}

/// Whether a person without an ID number is registered with this name,
/// birth date and household in this grid.
pub async fn registered_without_id(
    tx: &mut Tx,
    grid_id: i64,
    name: &str,
    birth_date: Option<&str>,
    household_id: Option<i64>,
) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM residents WHERE grid_id = $1 AND name = $2 AND id_number_index IS NULL \
               AND birth_date IS NOT DISTINCT FROM $3 AND household_id IS NOT DISTINCT FROM $4";
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(grid_id).bind(name).bind(birth_date).bind(household_id).fetch_one(c).await?);
    Ok(n > 0)
}

/// A category a community made.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CustomCategory {
    pub id: i64,
    pub community_code: String,
    pub community_path: String,
    pub name: String,
}

impl CustomCategory {
    pub fn code(&self) -> String {
        format!("c{}", self.id)
    }
}

/// Adds a community's own category; `Conflict` when it has one so named.
pub async fn insert_custom(tx: &mut Tx, community_id: i64, name: &str, by: &str, now: i64) -> Result<i64> {
    let sql = "INSERT INTO community_categories (community_id, name, created_by, created_at) VALUES ($1, $2, $3, $4) \
               RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(community_id).bind(name).bind(by).bind(now).fetch_one(c).await?))
}

/// The categories made by communities under or above these paths.
pub async fn customs(tx: &mut Tx, paths: &[String]) -> Result<Vec<CustomCategory>> {
    let sql = "SELECT cc.id, o.code AS community_code, o.path AS community_path, cc.name \
               FROM community_categories cc JOIN org_nodes o ON o.id = cc.community_id ORDER BY o.path, cc.id";
    let all: Vec<CustomCategory> = on_tx!(tx, c => sqlx::query_as(sql).fetch_all(c).await?);
    // a community makes a handful: filtered here, in either direction
    Ok(all
        .into_iter()
        .filter(|c| paths.iter().any(|p| c.community_path.starts_with(p.as_str()) || p.starts_with(&c.community_path)))
        .collect())
}

/// Which of these ID number indexes are registered already.
pub async fn registered(tx: &mut Tx, indexes: &[String]) -> Result<std::collections::HashSet<String>> {
    let mut found = std::collections::HashSet::new();
    for chunk in indexes.chunks(BATCH) {
        let list = placeholders(tx.backend(), chunk.len(), 1).replace(['(', ')'], "");
        let sql = format!("SELECT id_number_index FROM residents WHERE id_number_index IN ({list})");
        let rows: Vec<String> = on_tx!(tx, c => {
            let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()));
            for ix in chunk {
                q = q.bind(ix);
            }
            q.fetch_all(&mut *c).await?
        });
        found.extend(rows);
    }
    Ok(found)
}

/// A category to add, with its history line.
#[derive(Debug, Clone)]
pub struct NewCategory<'a> {
    pub resident_id: i64,
    pub category: &'a str,
    pub details_sealed: Option<&'a str>,
    pub reason: &'a str,
    pub by_user: &'a str,
    pub now: i64,
}

/// Adds categories and their history lines, `BATCH` to a statement.
pub async fn add_categories(tx: &mut Tx, rows: &[NewCategory<'_>]) -> Result<()> {
    for chunk in rows.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO resident_categories (resident_id, category, details_sealed, since) VALUES {}",
            placeholders(tx.backend(), chunk.len(), 4)
        );
        on_tx!(tx, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for r in chunk {
                q = q.bind(r.resident_id).bind(r.category).bind(r.details_sealed).bind(r.now);
            }
            q.execute(&mut *c).await?.rows_affected()
        });
        let sql = format!(
            "INSERT INTO category_history (resident_id, category, reason, by_user, at, change) VALUES {}",
            placeholders(tx.backend(), chunk.len(), 5).replace(')', ", 'added')")
        );
        on_tx!(tx, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for r in chunk {
                q = q.bind(r.resident_id).bind(r.category).bind(r.reason).bind(r.by_user).bind(r.now);
            }
            q.execute(&mut *c).await?.rows_affected()
        });
    }
    Ok(())
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Resident>> {
    let sql = format!("SELECT {} FROM residents r JOIN org_nodes o ON o.id = r.grid_id WHERE r.id = $1", cols(tx));
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await?))
}

/// The people of a household, the head first.
pub async fn in_household(tx: &mut Tx, household_id: i64) -> Result<Vec<Resident>> {
    let sql = format!(
        "SELECT {} FROM residents r JOIN org_nodes o ON o.id = r.grid_id WHERE r.household_id = $1 \
         AND r.status = 'present' ORDER BY r.relation <> '户主', r.birth_date IS NULL, r.birth_date, r.id",
        cols(tx)
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(household_id).fetch_all(c).await?))
}

/// A resident behind a door of a building.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AtDoor {
    #[sqlx(flatten)]
    pub resident: Resident,
    pub entrance: String,
    pub door: String,
}

/// Residents found by a blind index of their ID number or phone.
pub async fn by_index(tx: &mut Tx, id_number_index: &str, phone_index: &str) -> Result<Vec<Resident>> {
    let sql = format!(
        "SELECT {} FROM residents r JOIN org_nodes o ON o.id = r.grid_id \
         WHERE r.id_number_index = $1 OR r.phone_index = $2 ORDER BY r.id LIMIT 50",
        cols(tx)
    );
    Ok(
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id_number_index).bind(phone_index).fetch_all(c).await?),
    )
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The grids searched: those whose path starts with one of these.
    pub paths: Vec<String>,
    pub category: Option<String>,
    /// A name prefix (works for two-character names too), or in latin
    /// letters a pinyin or initials prefix.
    pub name: Option<String>,
    /// Born after this date (`YYYY-MM-DD`): children are found this way.
    pub born_after: Option<String>,
    /// Born on or before this date.
    pub born_before: Option<String>,
    pub residence: Option<String>,
    /// Living in this estate (by name), and in this building, entrance and
    /// door of it.
    pub estate: Option<String>,
    pub building: Option<String>,
    pub entrance: Option<String>,
    pub door: Option<String>,
    pub sort: Sort,
    /// Those with this status; `None`, those on the register.
    pub status: Option<Status>,
}

/// The `ORDER BY` of a sort order; unknown birth dates and addresses last.
fn order_by(sort: Sort) -> &'static str {
    match sort {
        // by pinyin (丁 ding before 于 yu), surnames read as surnames
        Sort::Name => "r.name_pinyin, r.name, r.id",
        Sort::Oldest => "r.birth_date IS NULL, r.birth_date, r.id",
        Sort::Youngest => "r.birth_date IS NULL, r.birth_date DESC, r.id",
        Sort::Address => "e.name IS NULL, e.name, b.name, h.entrance, h.door, r.name, r.id",
        Sort::Newest => "r.id DESC",
    }
}

/// The filter's condition, with only the parts it uses.
fn filter_sql(f: &Filter, args: &mut Args) -> String {
    let mut conds = Vec::new();
    let ranges: Vec<String> = f.paths.iter().map(|p| args.prefix("o.path", p)).collect();
    conds.push(format!("({})", ranges.join(" OR ")));
    conds.push(format!("r.status = {}", args.push(f.status.unwrap_or_default().code())));
    if let Some(c) = &f.category {
        conds.push(format!(
            "EXISTS (SELECT 1 FROM resident_categories rc WHERE rc.resident_id = r.id AND rc.category = {})",
            args.push(c.as_str())
        ));
    }
    if let Some(n) = &f.name {
        let (lo, hi) = (args.push(n.as_str()), args.push(format!("{n}\u{10FFFF}")));
        conds.push(if n.is_ascii() {
            format!("((r.name_pinyin >= {lo} AND r.name_pinyin < {hi}) OR (r.name_initials >= {lo} AND r.name_initials < {hi}))")
        } else {
            format!("r.name >= {lo} AND r.name < {hi}")
        });
    }
    if let Some(d) = &f.born_after {
        conds.push(format!("r.birth_date > {}", args.push(d.as_str())));
    }
    if let Some(d) = &f.born_before {
        conds.push(format!("r.birth_date <= {}", args.push(d.as_str())));
    }
    if let Some(v) = &f.residence {
        conds.push(format!("r.residence = {}", args.push(v.as_str())));
    }
    if let Some(e) = &f.estate {
        let mut place = format!("e2.name = {}", args.push(e.as_str()));
        for (col, v) in [("b2.name", &f.building), ("h2.entrance", &f.entrance), ("h2.door", &f.door)] {
            if let Some(v) = v {
                place.push_str(&format!(" AND {col} = {}", args.push(v.as_str())));
            }
        }
        conds.push(format!(
            "r.household_id IN (SELECT h2.id FROM households h2 JOIN buildings b2 ON b2.id = h2.building_id \
             JOIN estates e2 ON e2.id = b2.estate_id WHERE {place})"
        ));
    }
    conds.join(" AND ")
}

/// Residents joined to their grid and (for sorting by address) their place.
const FROM: &str = "residents r JOIN org_nodes o ON o.id = r.grid_id LEFT JOIN households h ON h.id = r.household_id \
                    LEFT JOIN buildings b ON b.id = h.building_id LEFT JOIN estates e ON e.id = b.estate_id";

/// A page of residents in the filter's order, and the total.
pub async fn list(tx: &mut Tx, f: &Filter, limit: i64, offset: i64) -> Result<(Vec<Resident>, i64)> {
    if f.paths.is_empty() {
        return Ok((vec![], 0));
    }
    let mut args = Args::default();
    let cond = filter_sql(f, &mut args);
    let from = if f.sort == Sort::Address { FROM } else { "residents r JOIN org_nodes o ON o.id = r.grid_id" };
    let sql = format!(
        "SELECT {} FROM {from} WHERE {cond} ORDER BY {} LIMIT ${} OFFSET ${}",
        cols(tx),
        order_by(f.sort),
        args.0.len() + 1,
        args.0.len() + 2
    );
    let count_sql = format!("SELECT COUNT(*) FROM residents r JOIN org_nodes o ON o.id = r.grid_id WHERE {cond}");
    let rows: Vec<Resident> = on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).bind(limit).bind(offset).fetch_all(&mut *c).await?);
    let total: i64 = on_tx!(tx, c => bind_args!(sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.as_str())), args).fetch_one(&mut *c).await?);
    Ok((rows, total))
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CategoryRow {
    pub category: String,
    pub details_sealed: Option<String>,
    pub since: i64,
}

pub async fn categories(tx: &mut Tx, resident_id: i64) -> Result<Vec<CategoryRow>> {
    let sql =
        "SELECT category, details_sealed, since FROM resident_categories WHERE resident_id = $1 ORDER BY category";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(resident_id).fetch_all(c).await?))
}

/// Adds a category and its history line.
pub async fn add_category(
    tx: &mut Tx,
    resident_id: i64,
    category: &str,
    details_sealed: Option<&str>,
    reason: &str,
    by_user: &str,
    now: i64,
) -> Result<()> {
    add_categories(tx, &[NewCategory { resident_id, category, details_sealed, reason, by_user, now }]).await
}

pub async fn history(
    tx: &mut Tx,
    resident_id: i64,
    category: &str,
    change: &str,
    reason: &str,
    by_user: &str,
    now: i64,
) -> Result<()> {
    let sql = "INSERT INTO category_history (resident_id, category, change, reason, by_user, at) VALUES ($1, $2, $3, $4, $5, $6)";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(resident_id).bind(category).bind(change).bind(reason).bind(by_user).bind(now)
        .execute(c).await?.rows_affected());
    Ok(())
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HistoryRow {
    pub category: String,
    pub change: String,
    pub reason: String,
    pub by_user: String,
    pub at: i64,
}

pub async fn history_of(tx: &mut Tx, resident_id: i64) -> Result<Vec<HistoryRow>> {
    let sql = "SELECT category, change, reason, by_user, at FROM category_history WHERE resident_id = $1 ORDER BY at DESC, id DESC";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(resident_id).fetch_all(c).await?))
}

/// The uids of these residents (those that exist).
pub async fn uids_of(tx: &mut Tx, ids: &[i64]) -> Result<Vec<(i64, String)>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH) {
        // joined in the database: one row back for the chunk, not one each
        // (a restore asks this for every resident)
        let list = chunk.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT string_agg(CAST(id AS TEXT) || ' ' || uid, ',') FROM residents WHERE id IN ({list})");
        let joined: Option<String> =
            on_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *c).await?);
        for pair in joined.as_deref().unwrap_or_default().split(',').filter(|p| !p.is_empty()) {
            let (id, uid) = pair.split_once(' ').ok_or(StoreError::Broken("a resident uid list"))?;
            out.push((id.parse().map_err(|_| StoreError::Broken("a resident id"))?, uid.to_owned()));
        }
    }
    Ok(out)
}

/// The sealed fields of a row, for re-sealing under a new key.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SealedRow {
    pub id: i64,
    pub uid: String,
    pub id_number_sealed: Option<String>,
    pub phone_sealed: Option<String>,
    pub erased_at: Option<i64>,
}

pub async fn sealed_batch(tx: &mut Tx, after_id: i64, limit: i64) -> Result<Vec<SealedRow>> {
    let sql = "SELECT id, uid, id_number_sealed, phone_sealed, erased_at FROM residents WHERE id > $1 \
               ORDER BY id LIMIT $2";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(after_id).bind(limit).fetch_all(c).await?))
}

#[derive(Debug, Clone, Default)]
pub struct Resealed {
    pub id_number_sealed: Option<String>,
    pub id_number_index: Option<String>,
    pub phone_sealed: Option<String>,
    pub phone_index: Option<String>,
}

pub async fn update_sealed(tx: &mut Tx, id: i64, r: &Resealed) -> Result<()> {
    let sql = "UPDATE residents SET id_number_sealed = $2, id_number_index = $3, phone_sealed = $4, phone_index = $5 \
               WHERE id = $1";
    on_tx!(tx, c => sqlx::query(sql)
        .bind(id).bind(&r.id_number_sealed).bind(&r.id_number_index).bind(&r.phone_sealed).bind(&r.phone_index)
        .execute(c).await?.rows_affected());
    Ok(())
}

pub async fn update_details(tx: &mut Tx, resident_id: i64, category: &str, sealed: &str) -> Result<()> {
    let sql = "UPDATE resident_categories SET details_sealed = $3 WHERE resident_id = $1 AND category = $2";
    on_tx!(tx, c => sqlx::query(sql).bind(resident_id).bind(category).bind(sealed).execute(c).await?.rows_affected());
    Ok(())
}

/// Per grid below `path`: residents, and residents per stored category;
/// with `born_after`, also those born after it (children).
pub async fn category_counts(tx: &mut Tx, path: &str, born_after: &str) -> Result<Vec<(String, String, i64)>> {
    let upper = format!("{path}\u{10FFFF}");
    // people and categories from the counts triggers keep (migration 0026);
    // children by birth date, which changes with the clock, on an index, grid
    // by grid (a join grouped by code walked every org node in code order)
    let sql = "SELECT o.code, h.category, h.n FROM headcounts h JOIN org_nodes o ON o.id = h.grid_id \
               WHERE o.path >= $1 AND o.path < $2 AND h.n <> 0 \
               UNION ALL \
               SELECT o.code, 'child', (SELECT COUNT(*) FROM residents r \
               WHERE r.grid_id = o.id AND r.birth_date > $3 AND r.status = 'present') FROM org_nodes o \
               WHERE o.path >= $1 AND o.path < $2 AND o.kind = 'grid'";
    let rows: Vec<(String, String, i64)> =
        on_tx!(tx, c => sqlx::query_as(sql).bind(path).bind(&upper).bind(born_after).fetch_all(c).await?);
    // a grid without children answers 0: left out, as the other zeros are
    Ok(rows.into_iter().filter(|r| r.2 != 0).collect())
}

/// A resident with their address and categories, for the roster export.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ExportRow {
    pub uid: String,
    pub id_number_sealed: Option<String>,
    pub phone_sealed: Option<String>,
    pub grid_code: String,
    pub grid_name: String,
    pub name: String,
    pub sex: Option<Sex>,
    pub birth_date: Option<String>,
    pub id_number_masked: Option<String>,
    pub phone_masked: Option<String>,
    pub estate: Option<String>,
    pub building: Option<String>,
    pub entrance: Option<String>,
    pub door: Option<String>,
    pub residence: Residence,
    pub notes: String,
    /// Stored category codes, comma-separated.
    pub categories: Option<String>,
    /// The person's own key, wrapped.
    pub own_key: Option<String>,
}

/// Everyone the filter finds, by grid and name, with addresses.
pub async fn export_rows(tx: &mut Tx, f: &Filter) -> Result<Vec<ExportRow>> {
    if f.paths.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let cond = filter_sql(f, &mut args);
    let sql = format!(
        "SELECT r.uid, r.id_number_sealed, r.phone_sealed, o.code AS grid_code, o.name AS grid_name, r.name, r.sex, r.birth_date, r.id_number_masked, \
         r.phone_masked, e.name AS estate, b.name AS building, h.entrance, h.door, r.residence, r.notes, \
         (SELECT {agg} FROM resident_categories rc WHERE rc.resident_id = r.id) AS categories, \
         (SELECT k.wrapped FROM resident_keys k WHERE k.resident_id = r.id) AS own_key \
         FROM {FROM} WHERE {cond} ORDER BY o.code, r.name, r.id",
        agg = match tx.backend() {
            crate::Backend::Sqlite => "group_concat(rc.category, ',')",
            crate::Backend::Postgres => "string_agg(rc.category, ',' ORDER BY rc.category)",
        }
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// A category as stored with the resident it belongs to.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Holder {
    pub resident_id: i64,
    pub uid: String,
    pub grid_path: String,
    pub details_sealed: Option<String>,
}

/// Everyone holding `category`.
pub async fn holders(tx: &mut Tx, category: &str) -> Result<Vec<Holder>> {
    let sql = "SELECT r.id AS resident_id, r.uid, o.path AS grid_path, rc.details_sealed FROM resident_categories rc \
               JOIN residents r ON r.id = rc.resident_id JOIN org_nodes o ON o.id = r.grid_id \
               WHERE rc.category = $1 ORDER BY r.id";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(category).fetch_all(c).await?))
}

/// Removes a category (its history line is the caller's to write).
pub async fn remove_category(tx: &mut Tx, resident_id: i64, category: &str) -> Result<u64> {
    let sql = "DELETE FROM resident_categories WHERE resident_id = $1 AND category = $2";
    Ok(on_tx!(tx, c => sqlx::query(sql).bind(resident_id).bind(category).execute(c).await?.rows_affected()))
}

/// Who lives in a building, by entrance and door, within the grids under
/// `paths`.
pub async fn in_building(tx: &mut Tx, building_id: i64, paths: &[String]) -> Result<Vec<AtDoor>> {
    if paths.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let building = args.push(building_id);
    let ranges: Vec<String> = paths.iter().map(|p| args.prefix("o.path", p)).collect();
    let sql = format!(
        "SELECT {}, h.entrance, h.door FROM residents r JOIN org_nodes o ON o.id = r.grid_id \
         JOIN households h ON h.id = r.household_id WHERE h.building_id = {building} AND r.status = 'present' AND ({}) \
         ORDER BY h.entrance, length(h.door), h.door, h.id, r.relation <> '户主', r.id",
        cols(tx),
        ranges.join(" OR ")
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// The grid path of each of these residents: `(id, path)`.
/// Each resident's grid path and name.
pub async fn grid_paths(tx: &mut Tx, ids: &[i64]) -> Result<Vec<(i64, String, String)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let ph: Vec<String> = ids.iter().map(|i| args.push(*i)).collect();
    let sql = format!(
        "SELECT r.id, o.path, r.name FROM residents r JOIN org_nodes o ON o.id = r.grid_id WHERE r.id IN ({})",
        ph.join(", ")
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// A change in a resident's life, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct LifeEvent {
    pub id: i64,
    pub resident_id: i64,
    pub kind: Change,
    pub on_date: String,
    pub reason: String,
    pub source: Informant,
    /// What the change did, as JSON.
    pub detail: String,
    pub by_user: String,
    pub by_name: String,
    pub at: i64,
}

/// A change to record: the kind, its day, why, who told, what it did.
pub struct NewLifeEvent<'a> {
    pub resident_id: i64,
    pub kind: Change,
    pub on_date: &'a str,
    pub reason: &'a str,
    pub source: Informant,
    pub detail: &'a str,
    pub by_user: &'a str,
    pub by_name: &'a str,
    pub at: i64,
}

/// Moves a resident to a status since a day, if still at `version`; and
/// writes the change into the record's history. False when stale.
pub async fn change_status(tx: &mut Tx, version: i64, e: &NewLifeEvent<'_>) -> Result<bool> {
    let to = e.kind.to();
    let on = (to != Status::Present).then_some(e.on_date);
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE residents SET status = $1, status_on = $2, updated_at = $3, version = version + 1 \
         WHERE id = $4 AND version = $5")
        .bind(to).bind(on).bind(e.at).bind(e.resident_id).bind(version).execute(c).await?.rows_affected());
    if n == 0 {
        return Ok(false);
    }
    insert_event(tx, e).await?;
    Ok(true)
}

/// Moves a resident to another grid and household (of this community or,
/// on a transfer, another), if still at `version`, and writes the change
/// into the record's history. False when stale.
pub async fn move_to(
    tx: &mut Tx,
    version: i64,
    grid_id: i64,
    household_id: Option<i64>,
    e: &NewLifeEvent<'_>,
) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE residents SET grid_id = $1, household_id = $2, updated_at = $3, version = version + 1 \
         WHERE id = $4 AND version = $5")
        .bind(grid_id).bind(household_id).bind(e.at).bind(e.resident_id).bind(version).execute(c).await?.rows_affected());
    if n == 0 {
        return Ok(false);
    }
    insert_event(tx, e).await?;
    Ok(true)
}

async fn insert_event(tx: &mut Tx, e: &NewLifeEvent<'_>) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO resident_events (resident_id, kind, on_date, reason, source, detail, by_user, by_name, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(e.resident_id).bind(e.kind).bind(e.on_date).bind(e.reason).bind(e.source).bind(e.detail)
        .bind(e.by_user).bind(e.by_name).bind(e.at).execute(c).await?.rows_affected());
    Ok(())
}

/// A resident's life events, oldest first.
pub async fn life_of(tx: &mut Tx, resident_id: i64) -> Result<Vec<LifeEvent>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT id, resident_id, kind, on_date, reason, source, detail, by_user, by_name, at FROM resident_events \
         WHERE resident_id = $1 ORDER BY id")
        .bind(resident_id).fetch_all(c).await?))
}
