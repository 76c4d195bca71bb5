//! Each resident's own data key (wrapped), and erasing a person: their
//! personal fields emptied everywhere, their key destroyed, the row kept
//! for the counts.

use crate::{Result, Tx, on_tx};

/// Stores residents' wrapped data keys, a few statements for many.
pub async fn insert_keys(tx: &mut Tx, rows: &[(i64, String)]) -> Result<()> {
    write_keys(tx, rows, "").await
}

/// Stores keys read back from a keys file (after a restore), replacing any.
pub async fn replace_keys(tx: &mut Tx, rows: &[(i64, String)]) -> Result<()> {
    write_keys(tx, rows, "ON CONFLICT (resident_id) DO UPDATE SET wrapped = excluded.wrapped").await
}

async fn write_keys(tx: &mut Tx, rows: &[(i64, String)], on_conflict: &str) -> Result<()> {
    for chunk in rows.chunks(crate::residents::BATCH) {
        let sql = format!(
            "INSERT INTO resident_keys (resident_id, wrapped) VALUES {} {on_conflict}",
            crate::residents::placeholders(tx.backend(), chunk.len(), 2)
        );
        on_tx!(tx, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for (id, wrapped) in chunk {
                q = q.bind(*id).bind(wrapped.as_str());
            }
            q.execute(&mut *c).await?.rows_affected()
        });
    }
    Ok(())
}

/// A resident's id, uid and wrapped key.
pub type KeyRow = (i64, String, String);

/// The wrapped keys of these residents (those that have one).
pub async fn keys_of(tx: &mut Tx, ids: &[i64]) -> Result<Vec<KeyRow>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(crate::residents::BATCH) {
        let list = chunk.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT r.id, r.uid, k.wrapped FROM resident_keys k JOIN residents r ON r.id = k.resident_id \
             WHERE k.resident_id IN ({list})"
        );
        out.extend(on_tx!(tx, c => sqlx::query_as::<_, KeyRow>(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *c).await?));
    }
    Ok(out)
}

/// Keys after `after_id`, in order: for re-wrapping and for the keys file.
pub async fn key_batch(tx: &mut Tx, after_id: i64, limit: i64) -> Result<Vec<KeyRow>> {
    let sql = "SELECT r.id, r.uid, k.wrapped FROM resident_keys k JOIN residents r ON r.id = k.resident_id \
               WHERE k.resident_id > $1 ORDER BY k.resident_id LIMIT $2";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(after_id).bind(limit).fetch_all(c).await?))
}

/// The keys file's lines after `after_id`, at most `limit`, in order, each
/// `id<TAB>uid<TAB>wrapped`, joined by newlines in the database (one row
/// back instead of thousands): the last id and the text; None at the end.
pub async fn key_lines(tx: &mut Tx, after_id: i64, limit: i64) -> Result<Option<(i64, String)>> {
    let sql = "SELECT MAX(id), string_agg(line, $3 ORDER BY id) FROM (SELECT r.id AS id, \
               CAST(r.id AS TEXT) || $4 || r.uid || $4 || k.wrapped AS line FROM resident_keys k \
               JOIN residents r ON r.id = k.resident_id WHERE k.resident_id > $1 ORDER BY k.resident_id LIMIT $2) AS b";
    let (last, text): (Option<i64>, Option<String>) =
        on_tx!(tx, c => sqlx::query_as(sql).bind(after_id).bind(limit).bind("\n").bind("\t").fetch_one(c).await?);
    Ok(last.zip(text))
}

/// Erased residents after `after_id`, in order: (id, uid), for the keys file.
pub async fn erased_batch(tx: &mut Tx, after_id: i64, limit: i64) -> Result<Vec<(i64, String)>> {
    let sql = "SELECT id, uid FROM residents WHERE erased_at IS NOT NULL AND id > $1 ORDER BY id LIMIT $2";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(after_id).bind(limit).fetch_all(c).await?))
}

/// When the latest erasure happened, if any.
pub async fn last_erased_at(tx: &mut Tx) -> Result<Option<i64>> {
    let sql = "SELECT MAX(erased_at) FROM residents WHERE erased_at IS NOT NULL";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).fetch_one(c).await?))
}

pub async fn set_key(tx: &mut Tx, resident_id: i64, wrapped: &str) -> Result<()> {
    let sql = "UPDATE resident_keys SET wrapped = $2 WHERE resident_id = $1";
    on_tx!(tx, c => sqlx::query(sql).bind(resident_id).bind(wrapped).execute(c).await?.rows_affected());
    Ok(())
}

/// Removes any key of someone erased (a keys file older than the erasure
/// may hold it): an erased person has none.
pub async fn drop_erased_keys(tx: &mut Tx) -> Result<u64> {
    let sql = "DELETE FROM resident_keys WHERE resident_id IN (SELECT id FROM residents WHERE erased_at IS NOT NULL)";
    Ok(on_tx!(tx, c => sqlx::query(sql).execute(c).await?.rows_affected()))
}

/// Residents who must have been erased after the backup they were restored
/// from: their key row is still blank (the snapshot blanks them all, the
/// keys file refills those still kept), or they have sealed fields of their
/// own and no key at all.
pub async fn without_key(tx: &mut Tx) -> Result<Vec<i64>> {
    // blanked rows, as a backup's snapshot holds them
    let sql = "SELECT k.resident_id FROM resident_keys k JOIN residents r ON r.id = k.resident_id \
               WHERE k.wrapped = '' AND r.erased_at IS NULL";
    let mut ids: Vec<i64> = on_tx!(tx, c => sqlx::query_scalar(sql).fetch_all(&mut *c).await?);
    // rows missing (a copy made without the table's data): worth a look
    // only when there are fewer rows than people not erased, for an
    // erasure removes the row
    let sql = "SELECT (SELECT COUNT(*) FROM resident_keys), \
               (SELECT COUNT(*) FROM residents) - (SELECT COUNT(*) FROM residents WHERE erased_at IS NOT NULL)";
    let (rows, people): (i64, i64) = on_tx!(tx, c => sqlx::query_as(sql).fetch_one(&mut *c).await?);
    if rows < people {
        let sql = "SELECT r.id FROM residents r WHERE r.erased_at IS NULL \
                   AND NOT EXISTS (SELECT 1 FROM resident_keys k WHERE k.resident_id = r.id) \
                   AND (r.id_number_sealed LIKE 'v2.%' OR r.phone_sealed LIKE 'v2.%' \
                        OR EXISTS (SELECT 1 FROM resident_categories c WHERE c.resident_id = r.id \
                                   AND c.details_sealed LIKE 'v2.%') \
                        OR EXISTS (SELECT 1 FROM visits v WHERE v.resident_id = r.id AND v.notes_sealed LIKE 'v2.%'))";
        ids.extend(on_tx!(tx, c => sqlx::query_scalar::<_, i64>(sql).fetch_all(&mut *c).await?));
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// What an erasure leaves for the caller to remove outside the database.
#[derive(Debug, Default)]
pub struct Erased {
    /// stored files (visit photos of the person)
    pub files: Vec<String>,
    /// the person's own account, now emptied and disabled
    pub user_id: Option<i64>,
}

/// Empties deliveries to him (`$1` in the condition) and stops the unsent.
macro_rules! forget_deliveries {
    ($where:literal) => {
        concat!(
            "UPDATE deliveries SET params = '{}', address_masked = NULL, address_index = NULL, ",
            "error = CASE WHEN state IN ('queued', 'sending', 'parked') THEN '已删除 / erased' ELSE error END, ",
            "state = CASE WHEN state IN ('queued', 'sending', 'parked') THEN 'failed' ELSE state END ",
            $where
        )
    };
}

/// Empties the person's personal fields everywhere in `tx`: the record
/// (name, birth date, ID number and phone with their indexes, notes),
/// category details, visit notes and photos, the name and phone on
/// requests they filed and service records, what was sent to them, their
/// account; and destroys their data key. The row, its categories and its
/// history stay, named `anon`, so that counts and links still add up. None
/// when already erased.
pub async fn erase(tx: &mut Tx, resident_id: i64, anon: &str, now: i64) -> Result<Option<Erased>> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE residents SET name = $2, name_pinyin = '', name_initials = '', birth_date = NULL, \
         id_number_sealed = NULL, id_number_index = NULL, id_number_masked = NULL, phone_sealed = NULL, \
         phone_index = NULL, phone_masked = NULL, notes = '', flags = '[]', erased_at = $3, updated_at = $3, \
         version = version + 1 WHERE id = $1 AND erased_at IS NULL")
        .bind(resident_id).bind(anon).bind(now).execute(&mut *c).await?.rows_affected());
    if n == 0 {
        return Ok(None);
    }
    let mut files: Vec<String> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT photo_file FROM visits WHERE resident_id = $1 AND photo_file IS NOT NULL \
         UNION ALL SELECT consent_file FROM proxies WHERE resident_id = $1 AND consent_file IS NOT NULL")
        .bind(resident_id).fetch_all(&mut *c).await?);
    files.sort();
    files.dedup();
    let user_id: Option<i64> = on_tx!(tx, c => sqlx::query_scalar("SELECT id FROM users WHERE resident_id = $1")
        .bind(resident_id).fetch_optional(&mut *c).await?);
    let by_id = [
        "DELETE FROM resident_keys WHERE resident_id = $1",
        "UPDATE resident_categories SET details_sealed = NULL WHERE resident_id = $1",
        "UPDATE visits SET notes_sealed = NULL, photo_file = NULL, photo_type = NULL WHERE resident_id = $1",
        "UPDATE record_requests SET body = '', evidence = '', for_reason = NULL, answer = '' WHERE resident_id = $1",
        // what staff wrote about him: why he left, where he went
        "UPDATE resident_events SET reason = '', detail = '{}' WHERE resident_id = $1",
        "UPDATE category_history SET reason = '' WHERE resident_id = $1",
        "UPDATE transfers SET new_address = '', reason = '', decision_note = '' WHERE resident_id = $1",
        // the family who acted for him: the link's evidence, not the family member's own account
        "UPDATE proxies SET consent = '', consent_file = NULL WHERE resident_id = $1",
    ];
    for sql in by_id {
        on_tx!(tx, c => sqlx::query(sql).bind(resident_id).execute(&mut *c).await?.rows_affected());
    }
    // what was sent to his phone or email: the words, the masked address,
    // the number's blind index; an unsent one is not sent
    let email = user_id.map_or_else(String::new, |u| format!("email:{u}"));
    on_tx!(tx, c => sqlx::query(forget_deliveries!("WHERE address_ref IN ($1, $2)"))
        .bind(format!("resident:{resident_id}")).bind(email).execute(&mut *c).await?.rows_affected());
    // and to the phone he gave on the cases he reported
    on_tx!(tx, c => sqlx::query(forget_deliveries!(
        "WHERE address_ref IN (SELECT 'case:' || CAST(id AS TEXT) FROM cases \
         WHERE reporter_resident_id = $1 OR (reporter_user_id = $2 AND reporter_resident_id IS NULL))"))
        .bind(resident_id).bind(user_id).execute(&mut *c).await?.rows_affected());
    let named = [
        "UPDATE service_records SET person_name = $2 WHERE resident_id = $1",
        "UPDATE cases SET reporter_name = $2, reporter_phone_sealed = NULL WHERE reporter_resident_id = $1",
    ];
    for sql in named {
        on_tx!(tx, c => sqlx::query(sql).bind(resident_id).bind(anon).execute(&mut *c).await?.rows_affected());
    }
    if let Some(user) = user_id {
        let own = [
            "UPDATE cases SET reporter_name = $2, reporter_phone_sealed = NULL \
             WHERE reporter_user_id = $1 AND reporter_resident_id IS NULL",
            "UPDATE record_requests SET asked_by_name = $2 WHERE asked_by = $1",
        ];
        for sql in own {
            on_tx!(tx, c => sqlx::query(sql).bind(user).bind(anon).execute(&mut *c).await?.rows_affected());
        }
        // the username may have been his phone number
        let sql = "UPDATE users SET display_name = $2, username = 'erased-' || id, password_hash = '!', \
                   work_phone = NULL, disabled_at = COALESCE(disabled_at, $3) WHERE id = $1";
        on_tx!(tx, c => sqlx::query(sql).bind(user).bind(anon).bind(now).execute(&mut *c).await?.rows_affected());
        let gone = [
            "DELETE FROM sessions WHERE user_id = $1",
            "DELETE FROM notify_settings WHERE user_id = $1",
            "DELETE FROM notify_choices WHERE user_id = $1",
            "DELETE FROM messages WHERE user_id = $1",
        ];
        for sql in gone {
            on_tx!(tx, c => sqlx::query(sql).bind(user).execute(&mut *c).await?.rows_affected());
        }
    }
    Ok(Some(Erased { files, user_id }))
}

/// A person off the register whose data may be due for erasure: their id,
/// the day they left and their community's retention in years.
pub type LeftRow = (i64, String, i64);

/// People who left on or before `cutoff` (`YYYY-MM-DD`) and are not erased,
/// after `after` (day, id), at most `limit`, with their community's retention.
pub async fn left_before(tx: &mut Tx, cutoff: &str, after: (&str, i64), limit: i64) -> Result<Vec<LeftRow>> {
    let sql = "SELECT r.id, r.status_on, c.retention_years FROM residents r \
               JOIN org_nodes g ON g.id = r.grid_id JOIN org_nodes c ON c.id = g.parent_id \
               WHERE r.status <> 'present' AND r.erased_at IS NULL AND r.status_on IS NOT NULL \
               AND r.status_on <= $1 AND (r.status_on > $2 OR (r.status_on = $2 AND r.id > $3)) \
               ORDER BY r.status_on, r.id LIMIT $4";
    let rows: Vec<(i64, String, i32)> = on_tx!(tx, c => sqlx::query_as(sql)
        .bind(cutoff).bind(after.0).bind(after.1).bind(limit).fetch_all(c).await?);
    Ok(rows.into_iter().map(|(id, on, years)| (id, on, i64::from(years))).collect())
}

/// Sets how many years a community keeps the data of people who left.
pub async fn set_retention(tx: &mut Tx, community_id: i64, years: i64) -> Result<bool> {
    let sql = "UPDATE org_nodes SET retention_years = $2 WHERE id = $1 AND kind = 'community'";
    Ok(on_tx!(tx, c => sqlx::query(sql).bind(community_id).bind(years as i32).execute(c).await?.rows_affected()) > 0)
}

pub async fn retention(tx: &mut Tx, community_id: i64) -> Result<i64> {
    let sql = "SELECT retention_years FROM org_nodes WHERE id = $1";
    let y: i32 = on_tx!(tx, c => sqlx::query_scalar(sql).bind(community_id).fetch_one(c).await?);
    Ok(i64::from(y))
}
