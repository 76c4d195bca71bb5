//! Emergency broadcasts and their roll-calls (报平安).

use yijia_domain::broadcast::{Answer, AnsweredAs, Area, BroadcastState, Level};

use crate::sql::bind_args;
use crate::{Result, Tx, on_tx};

pub struct NewBroadcast<'a> {
    pub org_id: i64,
    pub org_path: &'a str,
    pub level: Level,
    pub reason: &'a str,
    pub body: &'a str,
    pub area: Area,
    pub building_id: Option<i64>,
    pub estate_id: Option<i64>,
    pub grid_ids: &'a [i64],
    pub area_name: &'a str,
    pub state: BroadcastState,
    pub sent_by: i64,
    pub sent_by_name: &'a str,
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Broadcast {
    pub id: i64,
    pub org_id: i64,
    pub org_path: String,
    pub level: Level,
    pub reason: String,
    pub body: String,
    pub area: Area,
    pub building_id: Option<i64>,
    pub estate_id: Option<i64>,
    pub grid_ids: String,
    pub area_name: String,
    pub state: BroadcastState,
    pub sent_by: i64,
    pub sent_by_name: String,
    pub confirmed_by: Option<i64>,
    pub confirmed_by_name: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub ended_by_name: Option<String>,
}

impl Broadcast {
    /// The area's grids.
    pub fn grids(&self) -> Vec<i64> {
        self.grid_ids.split(',').filter_map(|g| g.parse().ok()).collect()
    }
}

const COLUMNS: &str = "id, org_id, org_path, level, reason, body, area, building_id, estate_id, grid_ids, area_name, \
     state, sent_by, sent_by_name, confirmed_by, confirmed_by_name, created_at, started_at, ended_at, ended_by_name";

pub async fn insert(tx: &mut Tx, b: &NewBroadcast<'_>) -> Result<i64> {
    let grids = b.grid_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let started = (b.state == BroadcastState::Active).then_some(b.now);
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO broadcasts (org_id, org_path, level, reason, body, area, building_id, estate_id, grid_ids, \
         area_name, state, sent_by, sent_by_name, created_at, started_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id")
        .bind(b.org_id).bind(b.org_path).bind(b.level).bind(b.reason).bind(b.body).bind(b.area)
        .bind(b.building_id).bind(b.estate_id).bind(grids).bind(b.area_name).bind(b.state)
        .bind(b.sent_by).bind(b.sent_by_name).bind(b.now).bind(started)
        .fetch_one(c).await?))
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Broadcast>> {
    let sql = format!("SELECT {COLUMNS} FROM broadcasts WHERE id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// Broadcasts under any of `paths`, or covering one of them from above
/// (a subdistrict-wide one reaches a community's staff), newest first.
pub async fn within(tx: &mut Tx, paths: &[String], limit: i64) -> Result<Vec<Broadcast>> {
    if paths.is_empty() {
        return Ok(vec![]);
    }
    let mut args = crate::sql::Args::default();
    let mut areas: Vec<String> = paths.iter().map(|p| args.prefix("org_path", p)).collect();
    for p in paths {
        let at = args.push(p.clone());
        areas.push(format!("substr({at}, 1, length(org_path)) = org_path"));
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM broadcasts WHERE {} ORDER BY id DESC LIMIT {}",
        areas.join(" OR "),
        args.push(limit)
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(c).await?))
}

/// The active broadcasts `user_id` was told of, or sent.
pub async fn current_for(tx: &mut Tx, user_id: i64) -> Result<Vec<Broadcast>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM broadcasts b WHERE state = 'active' AND (sent_by = $1 OR EXISTS (SELECT 1 FROM \
         messages m WHERE m.event_key = 'broadcast:' || b.id AND m.user_id = $1)) ORDER BY level, id DESC"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(user_id).fetch_all(c).await?))
}

/// Whether `user_id` was told of the broadcast in the app.
pub async fn was_told(tx: &mut Tx, id: i64, user_id: i64) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM messages WHERE event_key = $1 AND user_id = $2";
    let n: i64 =
        on_tx!(tx, c => sqlx::query_scalar(sql).bind(format!("broadcast:{id}")).bind(user_id).fetch_one(c).await?);
    Ok(n > 0)
}

/// A second person's confirmation: the broadcast goes now.
pub async fn confirm(tx: &mut Tx, id: i64, by: i64, name: &str, now: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE broadcasts SET state = 'active', confirmed_by = $2, confirmed_by_name = $3, started_at = $4 \
         WHERE id = $1 AND state = 'awaiting'")
        .bind(id).bind(by).bind(name).bind(now).execute(c).await?.rows_affected());
    Ok(n == 1)
}

/// Ends a broadcast; what is still queued for it is not sent.
pub async fn end(tx: &mut Tx, id: i64, name: &str, now: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE broadcasts SET state = 'ended', ended_at = $2, ended_by_name = $3 WHERE id = $1 AND state <> 'ended'")
        .bind(id).bind(now).bind(name).execute(&mut *c).await?.rows_affected());
    on_tx!(tx, c => sqlx::query(
        "UPDATE deliveries SET state = 'failed', error = '广播已结束 / the broadcast ended' \
         WHERE event_key = $1 AND state = 'queued'")
        .bind(format!("broadcast:{id}")).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// Someone in the area: a resident, with their account if they have one.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Reached {
    pub resident_id: i64,
    pub user_id: Option<i64>,
    pub has_phone: bool,
}

/// The residents living in a broadcast's area.
pub async fn residents_in(tx: &mut Tx, b: &Broadcast) -> Result<Vec<Reached>> {
    let (filter, arg) = area_filter(b, 1);
    let sql = format!(
        "SELECT r.id AS resident_id, u.id AS user_id, r.phone_sealed IS NOT NULL AS has_phone FROM residents r \
         LEFT JOIN users u ON u.resident_id = r.id AND u.disabled_at IS NULL WHERE {filter} ORDER BY r.id"
    );
    Ok(on_tx!(tx, c => {
        let q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        match arg { Some(a) => q.bind(a), None => q }.fetch_all(c).await?
    }))
}

/// Residents in the area no channel reaches: no phone and no account.
pub async fn unreachable_in(tx: &mut Tx, b: &Broadcast) -> Result<i64> {
    let (filter, arg) = area_filter(b, 1);
    let sql = format!(
        "SELECT COUNT(*) FROM residents r WHERE {filter} AND r.phone_sealed IS NULL \
         AND NOT EXISTS (SELECT 1 FROM users u WHERE u.resident_id = r.id AND u.disabled_at IS NULL)"
    );
    Ok(on_tx!(tx, c => {
        let q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        match arg { Some(a) => q.bind(a), None => q }.fetch_one(c).await?
    }))
}

/// Who someone is and where they live: the parts of a walking order.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Home {
    pub grid_path: String,
    pub grid_name: String,
    pub name: String,
    pub estate: Option<String>,
    pub building: Option<String>,
    pub entrance: Option<String>,
    pub door: Option<String>,
}

/// Estate, building, entrance, door (numbers in their order), those with
/// no home last: over `residents r`, `households h`, `buildings x`,
/// `estates e`.
const WALKING_ORDER: &str =
    "(e.name IS NULL), e.name, length(x.name), x.name, h.entrance, length(h.door), h.door, r.id";

/// One in the area no channel reaches, to be told at the door.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Unreached {
    pub resident_id: i64,
    #[sqlx(flatten)]
    pub home: Home,
}

/// The residents in the area no channel reaches, in walking order.
pub async fn unreachable_people(tx: &mut Tx, b: &Broadcast, limit: i64) -> Result<Vec<Unreached>> {
    let (filter, arg) = area_filter(b, 1);
    let sql = format!(
        "SELECT r.id AS resident_id, o.path AS grid_path, o.name AS grid_name, r.name, e.name AS estate, \
         x.name AS building, h.entrance, h.door FROM residents r JOIN org_nodes o ON o.id = r.grid_id \
         LEFT JOIN households h ON h.id = r.household_id LEFT JOIN buildings x ON x.id = h.building_id \
         LEFT JOIN estates e ON e.id = x.estate_id WHERE {filter} AND r.phone_sealed IS NULL \
         AND NOT EXISTS (SELECT 1 FROM users u WHERE u.resident_id = r.id AND u.disabled_at IS NULL) \
         ORDER BY {WALKING_ORDER} LIMIT {limit}"
    );
    Ok(on_tx!(tx, c => {
        let q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        match arg { Some(a) => q.bind(a), None => q }.fetch_all(c).await?
    }))
}

/// Which residents a broadcast's area holds, as SQL over `residents r`,
/// with its one parameter (if any) as `$at`: those on the register only
/// (someone who moved away or died is not texted, walked to or counted).
fn area_filter(b: &Broadcast, at: usize) -> (String, Option<i64>) {
    let (area, arg) = area_only(b, at);
    (format!("r.status = 'present' AND {area}"), arg)
}

fn area_only(b: &Broadcast, at: usize) -> (String, Option<i64>) {
    match (b.area, b.building_id, b.estate_id) {
        (Area::Building, Some(id), _) => {
            (format!("r.household_id IN (SELECT id FROM households WHERE building_id = ${at})"), Some(id))
        }
        (Area::Estate, _, Some(id)) => (
            format!(
                "r.household_id IN (SELECT h.id FROM households h JOIN buildings x ON x.id = h.building_id \
                 WHERE x.estate_id = ${at})"
            ),
            Some(id),
        ),
        _ => (format!("r.grid_id IN ({})", crate::sql::id_list(&b.grids())), None),
    }
}

/// The grids a building's or an estate's households lie in.
pub async fn grids_of_place(tx: &mut Tx, building_id: Option<i64>, estate_id: Option<i64>) -> Result<Vec<i64>> {
    let (sql, id) = match (building_id, estate_id) {
        (Some(b), _) => ("SELECT DISTINCT grid_id FROM households WHERE building_id = $1 ORDER BY grid_id", b),
        (None, Some(e)) => (
            "SELECT DISTINCT h.grid_id FROM households h JOIN buildings x ON x.id = h.building_id \
             WHERE x.estate_id = $1 ORDER BY h.grid_id",
            e,
        ),
        (None, None) => return Ok(vec![]),
    };
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(id).fetch_all(c).await?))
}

/// How the deliveries of a broadcast stand: (state code, count).
pub async fn delivery_counts(tx: &mut Tx, id: i64) -> Result<Vec<(String, i64)>> {
    let sql = "SELECT state, COUNT(*) FROM deliveries WHERE event_key = $1 GROUP BY state ORDER BY state";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(format!("broadcast:{id}")).fetch_all(c).await?))
}

/// How many people were told in the app.
pub async fn message_count(tx: &mut Tx, id: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM messages WHERE event_key = $1";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(format!("broadcast:{id}")).fetch_one(c).await?))
}

/// The paths of some grids and of the communities above them.
pub async fn paths_of_grids(tx: &mut Tx, grid_ids: &[i64]) -> Result<(Vec<String>, Vec<(i64, String)>)> {
    if grid_ids.is_empty() {
        return Ok((vec![], vec![]));
    }
    let ids = crate::sql::id_list(grid_ids);
    let grids = format!("SELECT path FROM org_nodes WHERE id IN ({ids}) ORDER BY path");
    let above = format!(
        "SELECT id, path FROM org_nodes WHERE id IN (SELECT parent_id FROM org_nodes WHERE id IN ({ids})) ORDER BY path"
    );
    let g = on_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(grids)).fetch_all(&mut *c).await?);
    let a = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(above)).fetch_all(&mut *c).await?);
    Ok((g, a))
}

// ---- the roll-call (报平安) ----

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Rollcall {
    pub id: i64,
    pub broadcast_id: i64,
    /// Category codes, comma-separated.
    pub categories: String,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
}

/// Opens a broadcast's roll-call of the residents in its area who are in
/// any of `categories` (codes of the built-in categories); answers its id
/// and how many people it holds.
pub async fn open_rollcall(tx: &mut Tx, b: &Broadcast, categories: &[&'static str], now: i64) -> Result<(i64, u64)> {
    let id: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO rollcalls (broadcast_id, categories, opened_at) VALUES ($1, $2, $3) RETURNING id")
        .bind(b.id).bind(categories.join(",")).bind(now).fetch_one(c).await?);
    let (filter, arg) = area_filter(b, 2);
    // the codes are the domain's own constants, never input
    let codes = categories.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "INSERT INTO rollcall_people (rollcall_id, resident_id, grid_id, state) \
         SELECT $1, r.id, r.grid_id, 'pending' FROM residents r WHERE {filter} AND EXISTS \
         (SELECT 1 FROM resident_categories k WHERE k.resident_id = r.id AND k.category IN ({codes}))"
    );
    let n = on_tx!(tx, c => {
        let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
        match arg { Some(a) => q.bind(a), None => q }.execute(&mut *c).await?.rows_affected()
    });
    if n == 0 {
        // nobody to reach: done at once
        on_tx!(tx, c => sqlx::query("UPDATE rollcalls SET closed_at = $2 WHERE id = $1")
            .bind(id).bind(now).execute(&mut *c).await?.rows_affected());
    }
    Ok((id, n))
}

pub async fn rollcall_of(tx: &mut Tx, broadcast_id: i64) -> Result<Option<Rollcall>> {
    let sql = "SELECT id, broadcast_id, categories, opened_at, closed_at FROM rollcalls WHERE broadcast_id = $1";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(broadcast_id).fetch_optional(c).await?))
}

/// One grid's people in one state: (grid path, grid code, grid name,
/// state, count), in the order of the grids' codes.
pub async fn rollcall_counts(tx: &mut Tx, rollcall_id: i64) -> Result<Vec<(String, String, String, Answer, i64)>> {
    let sql = "SELECT o.path, o.code, o.name, p.state, COUNT(*) FROM rollcall_people p \
               JOIN org_nodes o ON o.id = p.grid_id WHERE p.rollcall_id = $1 \
               GROUP BY o.path, o.code, o.name, p.state ORDER BY o.code, p.state";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(rollcall_id).fetch_all(c).await?))
}

/// A person on a roll-call, where they live, and their answer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Person {
    pub resident_id: i64,
    pub household_id: Option<i64>,
    pub grid_id: i64,
    #[sqlx(flatten)]
    pub home: Home,
    pub state: Answer,
    pub tries: i64,
    pub answered_at: Option<i64>,
    pub answered_as: Option<AnsweredAs>,
    pub case_id: Option<i64>,
}

const PERSON: &str = "SELECT p.resident_id, r.household_id, p.grid_id, o.path AS grid_path, o.name AS grid_name, \
     r.name, e.name AS estate, x.name AS building, h.entrance, h.door, p.state, p.tries, p.answered_at, \
     p.answered_as, p.case_id FROM rollcall_people p JOIN residents r ON r.id = p.resident_id \
     JOIN org_nodes o ON o.id = p.grid_id LEFT JOIN households h ON h.id = r.household_id \
     LEFT JOIN buildings x ON x.id = h.building_id LEFT JOIN estates e ON e.id = x.estate_id";

/// A roll-call's people in walking order (estate, building, entrance,
/// door), optionally of some grids and in one state.
pub async fn rollcall_people(
    tx: &mut Tx,
    rollcall_id: i64,
    grid_ids: Option<&[i64]>,
    state: Option<Answer>,
) -> Result<Vec<Person>> {
    let grids = match grid_ids {
        Some([]) => return Ok(vec![]),
        Some(ids) => format!(" AND p.grid_id IN ({})", crate::sql::id_list(ids)),
        None => String::new(),
    };
    let sql =
        format!("{PERSON} WHERE p.rollcall_id = $1{grids} AND ($2 IS NULL OR p.state = $2) ORDER BY {WALKING_ORDER}");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(rollcall_id).bind(state).fetch_all(c).await?))
}

pub async fn rollcall_person(tx: &mut Tx, rollcall_id: i64, resident_id: i64) -> Result<Option<Person>> {
    let sql = format!("{PERSON} WHERE p.rollcall_id = $1 AND p.resident_id = $2");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(rollcall_id).bind(resident_id)
        .fetch_optional(c).await?))
}

/// The people of a roll-call living in one household.
pub async fn rollcall_household(tx: &mut Tx, rollcall_id: i64, household_id: i64) -> Result<Vec<Person>> {
    let sql = format!("{PERSON} WHERE p.rollcall_id = $1 AND r.household_id = $2 ORDER BY r.id");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(rollcall_id).bind(household_id)
        .fetch_all(c).await?))
}

/// The categories (of `codes`) each of some residents is in.
pub async fn categories_of(tx: &mut Tx, resident_ids: &[i64]) -> Result<Vec<(i64, String)>> {
    if resident_ids.is_empty() {
        return Ok(vec![]);
    }
    let sql = format!(
        "SELECT resident_id, category FROM resident_categories WHERE resident_id IN ({}) ORDER BY resident_id, category",
        crate::sql::id_list(resident_ids)
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?))
}

pub struct NewAnswer {
    pub rollcall_id: i64,
    pub resident_id: i64,
    pub state: Answer,
    pub by: Option<i64>,
    pub answered_as: AnsweredAs,
    pub now: i64,
}

/// Records an answer, and closes the roll-call when nobody is left to
/// reach (or opens it again when someone is); answers whether the person's
/// state changed to it (two answers of "needs help" at once: one changes
/// it, and only that one opens a case).
pub async fn answer(tx: &mut Tx, a: &NewAnswer) -> Result<bool> {
    // the row lock of the first statement orders two answers at once
    let changed = on_tx!(tx, c => sqlx::query(
        "UPDATE rollcall_people SET state = $3 WHERE rollcall_id = $1 AND resident_id = $2 AND state <> $3")
        .bind(a.rollcall_id).bind(a.resident_id).bind(a.state).execute(&mut *c).await?.rows_affected());
    on_tx!(tx, c => sqlx::query(
        "UPDATE rollcall_people SET state = $3, tries = tries + 1, answered_at = $4, answered_by = $5, \
         answered_as = $6 WHERE rollcall_id = $1 AND resident_id = $2")
        .bind(a.rollcall_id).bind(a.resident_id).bind(a.state).bind(a.now).bind(a.by).bind(a.answered_as)
        .execute(&mut *c).await?.rows_affected());
    on_tx!(tx, c => sqlx::query(
        "UPDATE rollcalls SET closed_at = CASE WHEN EXISTS (SELECT 1 FROM rollcall_people p \
         WHERE p.rollcall_id = $1 AND p.state IN ('pending', 'not_reached')) THEN NULL \
         ELSE COALESCE(closed_at, $2) END WHERE id = $1")
        .bind(a.rollcall_id).bind(a.now).execute(&mut *c).await?.rows_affected());
    Ok(changed == 1)
}

/// The emergency case opened for a person who needs help.
pub async fn set_case(tx: &mut Tx, rollcall_id: i64, resident_id: i64, case_id: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE rollcall_people SET case_id = $3 WHERE rollcall_id = $1 AND resident_id = $2 AND case_id IS NULL")
        .bind(rollcall_id).bind(resident_id).bind(case_id).execute(&mut *c).await?.rows_affected());
    Ok(())
}
