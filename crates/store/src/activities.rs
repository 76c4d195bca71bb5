//! Volunteer activities and their sign-ups.

use serde::Serialize;

use yijia_domain::activity::{ActivityStatus, RuleKind, SignupStatus};

use crate::{Result, Tx, on_tx};

#[derive(Debug, Clone)]
pub struct NewActivity<'a> {
    pub community_id: i64,
    pub title: &'a str,
    pub description: &'a str,
    pub place: &'a str,
    pub starts_at: i64,
    pub ends_at: i64,
    pub capacity: i64,
    pub who_may_join: Option<&'a str>,
    pub points_rule: RuleKind,
    pub points: i64,
    pub organiser: &'a str,
    pub created_by: Option<i64>,
    pub now: i64,
    /// A shift at a duty post.
    pub post_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Activity {
    pub id: i64,
    pub community_id: i64,
    pub title: String,
    pub description: String,
    pub place: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub capacity: i64,
    pub who_may_join: Option<String>,
    pub points_rule: RuleKind,
    pub points: i64,
    pub organiser: String,
    pub status: ActivityStatus,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub confirmed_by: Option<String>,
    pub post_id: Option<i64>,
    pub created_by: Option<i64>,
}

const COLS: &str = "id, community_id, title, description, place, starts_at, ends_at, capacity, who_may_join, \
                    points_rule, points, organiser, status, created_at, confirmed_at, confirmed_by, post_id, created_by";

pub async fn insert(tx: &mut Tx, a: &NewActivity<'_>) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO activities (community_id, title, description, place, starts_at, ends_at, capacity, who_may_join, \
         points_rule, points, organiser, status, created_by, created_at, post_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'open', $12, $13, $14) RETURNING id")
        .bind(a.community_id).bind(a.title).bind(a.description).bind(a.place).bind(a.starts_at).bind(a.ends_at)
        .bind(a.capacity).bind(a.who_may_join).bind(a.points_rule).bind(a.points).bind(a.organiser)
        .bind(a.created_by).bind(a.now).bind(a.post_id).fetch_one(c).await?))
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Activity>> {
    let sql = format!("SELECT {COLS} FROM activities WHERE id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// A community's activities that end after `after`, soonest first.
pub async fn list(tx: &mut Tx, community_id: i64, after: i64, limit: i64) -> Result<Vec<Activity>> {
    let sql = format!(
        "SELECT {COLS} FROM activities WHERE community_id = $1 AND ends_at > $2 ORDER BY starts_at, id LIMIT $3"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(community_id).bind(after).bind(limit)
        .fetch_all(c).await?))
}

/// Confirms an open activity; false when it was not open.
pub async fn confirm(tx: &mut Tx, id: i64, by: &str, at: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE activities SET status = 'confirmed', confirmed_at = $2, confirmed_by = $3 WHERE id = $1 AND status = 'open'")
        .bind(id).bind(at).bind(by).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Signup {
    pub id: i64,
    pub activity_id: i64,
    pub resident_id: i64,
    pub resident_name: String,
    pub status: SignupStatus,
    pub signed_at: i64,
    pub checked_in_at: Option<i64>,
    pub checked_out_at: Option<i64>,
    pub minutes: Option<i64>,
    pub points: Option<i64>,
}

const SIGNUP_SELECT: &str = "SELECT s.id, s.activity_id, s.resident_id, r.name AS resident_name, s.status, \
     s.signed_at, s.checked_in_at, s.checked_out_at, s.minutes, s.points FROM activity_signups s \
     JOIN residents r ON r.id = s.resident_id";

/// An activity's sign-ups in the order they came.
pub async fn signups(tx: &mut Tx, activity_id: i64) -> Result<Vec<Signup>> {
    let sql = format!("{SIGNUP_SELECT} WHERE s.activity_id = $1 ORDER BY s.signed_at, s.id");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(activity_id).fetch_all(c).await?))
}

pub async fn signup(tx: &mut Tx, activity_id: i64, resident_id: i64) -> Result<Option<Signup>> {
    let sql = format!("{SIGNUP_SELECT} WHERE s.activity_id = $1 AND s.resident_id = $2");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(activity_id).bind(resident_id)
        .fetch_optional(c).await?))
}

/// How many hold a place.
pub async fn signed_up(tx: &mut Tx, activity_id: i64) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT COUNT(*) FROM activity_signups WHERE activity_id = $1 AND status = 'signed_up'")
        .bind(activity_id).fetch_one(c).await?))
}

/// Signs a resident up (or puts them back after cancelling), with `status`.
pub async fn put_signup(tx: &mut Tx, activity_id: i64, resident_id: i64, status: SignupStatus, at: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO activity_signups (activity_id, resident_id, status, signed_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (activity_id, resident_id) DO UPDATE SET status = excluded.status, signed_at = excluded.signed_at, \
         checked_in_at = NULL, checked_out_at = NULL")
        .bind(activity_id).bind(resident_id).bind(status).bind(at).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn set_status(tx: &mut Tx, signup_id: i64, status: SignupStatus) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE activity_signups SET status = $2 WHERE id = $1")
        .bind(signup_id).bind(status).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// The first one waiting, if any.
pub async fn first_waiting(tx: &mut Tx, activity_id: i64) -> Result<Option<i64>> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT id FROM activity_signups WHERE activity_id = $1 AND status = 'waiting' ORDER BY signed_at, id LIMIT 1")
        .bind(activity_id).fetch_optional(c).await?))
}

pub async fn check_in(tx: &mut Tx, signup_id: i64, at: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE activity_signups SET checked_in_at = $2 WHERE id = $1")
        .bind(signup_id).bind(at).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn check_out(tx: &mut Tx, signup_id: i64, at: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE activity_signups SET checked_out_at = $2 WHERE id = $1")
        .bind(signup_id).bind(at).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// What a confirmed activity gave someone.
pub async fn set_awarded(tx: &mut Tx, signup_id: i64, minutes: i64, points: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE activity_signups SET minutes = $2, points = $3 WHERE id = $1")
        .bind(signup_id).bind(minutes).bind(points).execute(&mut *c).await?.rows_affected());
    Ok(())
}

// ---- duty posts ------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Post {
    pub id: i64,
    pub community_id: i64,
    pub name: String,
    pub place: String,
}

pub async fn insert_post(tx: &mut Tx, community_id: i64, name: &str, place: &str, now: i64) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO duty_posts (community_id, name, place, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(community_id).bind(name).bind(place).bind(now).fetch_one(c).await?))
}

pub async fn posts(tx: &mut Tx, community_id: i64) -> Result<Vec<Post>> {
    let sql = "SELECT id, community_id, name, place FROM duty_posts WHERE community_id = $1 ORDER BY name, id";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(community_id).fetch_all(c).await?))
}

pub async fn post(tx: &mut Tx, id: i64) -> Result<Option<Post>> {
    let sql = "SELECT id, community_id, name, place FROM duty_posts WHERE id = $1";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(id).fetch_optional(c).await?))
}

// ---- honours ---------------------------------------------------------------

/// What one resident did in confirmed activities and shifts of a month.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Attendance {
    pub resident_id: i64,
    pub name: String,
    pub activities: i64,
    pub minutes: i64,
    pub points: i64,
    pub public: bool,
}

/// Per resident: confirmed activities attended (minutes > 0) that started
/// in `[from, to)`, with the minutes and points, and whether their name may
/// be shown.
pub async fn attendance(tx: &mut Tx, community_id: i64, from: i64, to: i64) -> Result<Vec<Attendance>> {
    let sql = "SELECT s.resident_id, r.name, COUNT(*) AS activities, CAST(SUM(s.minutes) AS BIGINT) AS minutes, \
               CAST(SUM(COALESCE(s.points, 0)) AS BIGINT) AS points, COALESCE(h.public, FALSE) AS public \
               FROM activity_signups s JOIN activities a ON a.id = s.activity_id \
               JOIN residents r ON r.id = s.resident_id \
               LEFT JOIN honour_consents h ON h.resident_id = s.resident_id \
               WHERE a.community_id = $1 AND a.status = 'confirmed' AND a.starts_at >= $2 AND a.starts_at < $3 \
               AND s.minutes > 0 GROUP BY s.resident_id, r.name, h.public";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(community_id).bind(from).bind(to).fetch_all(c).await?))
}

pub async fn set_consent(tx: &mut Tx, resident_id: i64, public: bool, at: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO honour_consents (resident_id, public, changed_at) VALUES ($1, $2, $3) \
         ON CONFLICT (resident_id) DO UPDATE SET public = excluded.public, changed_at = excluded.changed_at")
        .bind(resident_id).bind(public).bind(at).execute(c).await?.rows_affected());
    Ok(())
}

pub async fn consent(tx: &mut Tx, resident_id: i64) -> Result<bool> {
    let v: Option<bool> = on_tx!(tx, c => sqlx::query_scalar("SELECT public FROM honour_consents WHERE resident_id = $1")
        .bind(resident_id).fetch_optional(c).await?);
    Ok(v.unwrap_or(false))
}
