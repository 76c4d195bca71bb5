//! Residents and their categories. Sealed fields arrive sealed and leave
//! sealed: this layer never sees a plain ID number or phone.

use crate::{Result, StoreError, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Resident {
    pub id: i64,
    pub uid: String,
    pub grid_id: i64,
    pub grid_code: String,
    pub grid_path: String,
    pub household_id: Option<i64>,
    pub name: String,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub id_number_sealed: Option<String>,
    pub id_number_masked: Option<String>,
    pub phone_sealed: Option<String>,
    pub phone_masked: Option<String>,
    pub relation: String,
    pub residence: String,
    pub notes: String,
    pub flags: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

const COLS: &str = "r.id, r.uid, r.grid_id, o.code AS grid_code, o.path AS grid_path, r.household_id, r.name, r.sex, \
                    r.birth_date, r.id_number_sealed, r.id_number_masked, r.phone_sealed, r.phone_masked, r.relation, \
                    r.residence, r.notes, r.flags, r.created_at, r.updated_at, r.version";

#[derive(Debug, Clone, Default)]
pub struct NewResident {
    pub uid: String,
    pub grid_id: i64,
    pub household_id: Option<i64>,
    pub name: String,
    pub name_pinyin: String,
    pub name_initials: String,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub id_number_sealed: Option<String>,
    pub id_number_index: Option<String>,
    pub id_number_masked: Option<String>,
    pub phone_sealed: Option<String>,
    pub phone_index: Option<String>,
    pub phone_masked: Option<String>,
    pub relation: String,
    pub residence: String,
    pub notes: String,
    pub flags: String,
    pub now: i64,
}

/// Inserts a resident; `Conflict("id_number")` when the ID number (by its
/// blind index) is registered already.
pub async fn insert(tx: &mut Tx, r: &NewResident) -> Result<i64> {
    let sql = "INSERT INTO residents (uid, grid_id, household_id, name, sex, birth_date, id_number_sealed, \
               id_number_index, id_number_masked, phone_sealed, phone_index, phone_masked, relation, residence, notes, \
               flags, created_at, updated_at, version, name_pinyin, name_initials) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, 1, $18, $19) \
               RETURNING id";
    let r: Result<i64> = async {
        Ok(on_tx!(tx, c => sqlx::query_scalar(sql)
            .bind(&r.uid).bind(r.grid_id).bind(r.household_id).bind(&r.name).bind(&r.sex).bind(&r.birth_date)
            .bind(&r.id_number_sealed).bind(&r.id_number_index).bind(&r.id_number_masked)
            .bind(&r.phone_sealed).bind(&r.phone_index).bind(&r.phone_masked)
            .bind(&r.relation).bind(&r.residence).bind(&r.notes).bind(&r.flags).bind(r.now)
            .bind(&r.name_pinyin).bind(&r.name_initials)
            .fetch_one(c).await?))
    }
    .await;
    r.map_err(|e| match e {
        StoreError::Conflict(_) => StoreError::Conflict("id_number".into()),
        e => e,
    })
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Resident>> {
    let sql = format!("SELECT {COLS} FROM residents r JOIN org_nodes o ON o.id = r.grid_id WHERE r.id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await?))
}

/// Residents found by a blind index of their ID number or phone.
pub async fn by_index(tx: &mut Tx, id_number_index: &str, phone_index: &str) -> Result<Vec<Resident>> {
    let sql = format!(
        "SELECT {COLS} FROM residents r JOIN org_nodes o ON o.id = r.grid_id \
         WHERE r.id_number_index = $1 OR r.phone_index = $2 ORDER BY r.id LIMIT 50"
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
    /// A name prefix (works for two-character names too), or pinyin.
    pub name: Option<String>,
    /// Born after this date (`YYYY-MM-DD`): children are found this way.
    pub born_after: Option<String>,
    /// Born on or before this date.
    pub born_before: Option<String>,
    pub residence: Option<String>,
    /// Living in this estate (by name), and in this building of it.
    pub estate: Option<String>,
    pub building: Option<String>,
}

/// Binds a filter's fixed parameters, `$1` to `$8`, in order.
macro_rules! bind_filter {
    ($q:expr, $f:expr, $name_upper:expr) => {
        $q.bind(&$f.category)
            .bind(&$f.name)
            .bind($name_upper)
            .bind(&$f.born_after)
            .bind(&$f.born_before)
            .bind(&$f.residence)
            .bind(&$f.estate)
            .bind(&$f.building)
    };
}

/// Where the scope paths start: after the filter's own parameters.
const FILTER_PARAMS: usize = 8;

/// The filter's condition, its path ranges bound from `$first` on.
fn filter_sql(f: &Filter, first: usize) -> String {
    let ranges: Vec<String> = (0..f.paths.len())
        .map(|i| format!("(o.path >= ${} AND o.path < ${})", first + 2 * i, first + 2 * i + 1))
        .collect();
    format!(
        "({}) AND ($1 IS NULL OR EXISTS (SELECT 1 FROM resident_categories rc \
         WHERE rc.resident_id = r.id AND rc.category = $1)) AND ($2 IS NULL OR (r.name >= $2 AND r.name < $3) \
         OR (r.name_pinyin >= $2 AND r.name_pinyin < $3) OR (r.name_initials >= $2 AND r.name_initials < $3)) \
         AND ($4 IS NULL OR r.birth_date > $4) AND ($5 IS NULL OR r.birth_date <= $5) \
         AND ($6 IS NULL OR r.residence = $6) \
         AND ($7 IS NULL OR r.household_id IN (SELECT h.id FROM households h JOIN buildings b ON b.id = h.building_id \
         JOIN estates e ON e.id = b.estate_id WHERE e.name = $7 AND ($8 IS NULL OR b.name = $8)))",
        ranges.join(" OR ")
    )
}

/// A page of residents by name, and the total.
pub async fn list(tx: &mut Tx, f: &Filter, limit: i64, offset: i64) -> Result<(Vec<Resident>, i64)> {
    if f.paths.is_empty() {
        return Ok((vec![], 0));
    }
    let sql = format!(
        "SELECT {COLS} FROM residents r JOIN org_nodes o ON o.id = r.grid_id WHERE {} ORDER BY r.name, r.id LIMIT ${} OFFSET ${}",
        filter_sql(f, FILTER_PARAMS + 3),
        FILTER_PARAMS + 1,
        FILTER_PARAMS + 2
    );
    let count_sql = format!(
        "SELECT COUNT(*) FROM residents r JOIN org_nodes o ON o.id = r.grid_id WHERE {}",
        filter_sql(f, FILTER_PARAMS + 1)
    );
    let name_upper = f.name.as_ref().map(|n| format!("{n}\u{10FFFF}"));
    let ranges: Vec<(String, String)> = f.paths.iter().map(|p| (p.clone(), format!("{p}\u{10FFFF}"))).collect();
    let rows: Vec<Resident> = on_tx!(tx, c => {
        let mut q = bind_filter!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), f, &name_upper).bind(limit).bind(offset);
        for (lo, hi) in &ranges {
            q = q.bind(lo).bind(hi);
        }
        q.fetch_all(&mut *c).await?
    });
    let total: i64 = on_tx!(tx, c => {
        let mut q = bind_filter!(sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql.as_str())), f, &name_upper);
        for (lo, hi) in &ranges {
            q = q.bind(lo).bind(hi);
        }
        q.fetch_one(&mut *c).await?
    });
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
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO resident_categories (resident_id, category, details_sealed, since) VALUES ($1, $2, $3, $4)")
        .bind(resident_id).bind(category).bind(details_sealed).bind(now).execute(&mut *c).await?.rows_affected());
    history(tx, resident_id, category, "added", reason, by_user, now).await
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

/// The sealed fields of a row, for re-sealing under a new key.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SealedRow {
    pub id: i64,
    pub uid: String,
    pub id_number_sealed: Option<String>,
    pub phone_sealed: Option<String>,
}

pub async fn sealed_batch(tx: &mut Tx, after_id: i64, limit: i64) -> Result<Vec<SealedRow>> {
    let sql = "SELECT id, uid, id_number_sealed, phone_sealed FROM residents WHERE id > $1 ORDER BY id LIMIT $2";
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
    let sql = "SELECT o.code, '' AS category, COUNT(*) FROM residents r JOIN org_nodes o ON o.id = r.grid_id \
               WHERE o.path >= $1 AND o.path < $2 GROUP BY o.code \
               UNION ALL \
               SELECT o.code, rc.category, COUNT(*) FROM resident_categories rc JOIN residents r ON r.id = rc.resident_id \
               JOIN org_nodes o ON o.id = r.grid_id WHERE o.path >= $1 AND o.path < $2 GROUP BY o.code, rc.category \
               UNION ALL \
               SELECT o.code, 'child', COUNT(*) FROM residents r JOIN org_nodes o ON o.id = r.grid_id \
               WHERE o.path >= $1 AND o.path < $2 AND r.birth_date > $3 GROUP BY o.code";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(path).bind(&upper).bind(born_after).fetch_all(c).await?))
}

/// A resident with their address and categories, for the roster export.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ExportRow {
    pub grid_code: String,
    pub grid_name: String,
    pub name: String,
    pub sex: Option<String>,
    pub birth_date: Option<String>,
    pub id_number_masked: Option<String>,
    pub phone_masked: Option<String>,
    pub estate: Option<String>,
    pub building: Option<String>,
    pub entrance: Option<String>,
    pub door: Option<String>,
    pub residence: String,
    pub notes: String,
    /// Stored category codes, comma-separated.
    pub categories: Option<String>,
}

/// Everyone the filter finds, by grid and name, with addresses.
pub async fn export_rows(tx: &mut Tx, f: &Filter) -> Result<Vec<ExportRow>> {
    if f.paths.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT o.code AS grid_code, o.name AS grid_name, r.name, r.sex, r.birth_date, r.id_number_masked, \
         r.phone_masked, e.name AS estate, b.name AS building, h.entrance, h.door, r.residence, r.notes, \
         (SELECT {agg} FROM resident_categories rc WHERE rc.resident_id = r.id) AS categories \
         FROM residents r JOIN org_nodes o ON o.id = r.grid_id \
         LEFT JOIN households h ON h.id = r.household_id LEFT JOIN buildings b ON b.id = h.building_id \
         LEFT JOIN estates e ON e.id = b.estate_id WHERE {} ORDER BY o.code, r.name, r.id",
        filter_sql(f, FILTER_PARAMS + 1),
        agg = match tx.backend() {
            crate::Backend::Sqlite => "group_concat(rc.category, ',')",
            crate::Backend::Postgres => "string_agg(rc.category, ',' ORDER BY rc.category)",
        }
    );
    let name_upper = f.name.as_ref().map(|n| format!("{n}\u{10FFFF}"));
    let ranges: Vec<(String, String)> = f.paths.iter().map(|p| (p.clone(), format!("{p}\u{10FFFF}"))).collect();
    Ok(on_tx!(tx, c => {
        let mut q = bind_filter!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), f, &name_upper);
        for (lo, hi) in &ranges {
            q = q.bind(lo).bind(hi);
        }
        q.fetch_all(&mut *c).await?
    }))
}

/// Removes a category (its history line is the caller's to write).
pub async fn remove_category(tx: &mut Tx, resident_id: i64, category: &str) -> Result<u64> {
    let sql = "DELETE FROM resident_categories WHERE resident_id = $1 AND category = $2";
    Ok(on_tx!(tx, c => sqlx::query(sql).bind(resident_id).bind(category).execute(c).await?.rows_affected()))
}
