//! Pledges: a community's years, the pledges, votes, updates and verdicts.

use serde::Serialize;

use yijia_domain::ballot::VoteChannel;
use yijia_domain::pledge::{Phase, PledgeStatus};

use crate::ballots::{Cast, CastBy, CastVote};
use crate::{Result, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PledgeYear {
    pub community_id: i64,
    pub year: i64,
    pub phase: Phase,
    pub votes_per_resident: i64,
}

pub async fn open_year(tx: &mut Tx, community_id: i64, year: i64, votes: i64, now: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO pledge_years (community_id, year, phase, votes_per_resident, opened_at) \
         VALUES ($1, $2, 'proposing', $3, $4)")
        .bind(community_id).bind(year).bind(votes).bind(now).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn year(tx: &mut Tx, community_id: i64, year: i64) -> Result<Option<PledgeYear>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT community_id, year, phase, votes_per_resident FROM pledge_years WHERE community_id = $1 AND year = $2")
        .bind(community_id).bind(year).fetch_optional(c).await?))
}

/// A community's years, the latest first.
pub async fn years(tx: &mut Tx, community_id: i64) -> Result<Vec<PledgeYear>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT community_id, year, phase, votes_per_resident FROM pledge_years WHERE community_id = $1 ORDER BY year DESC")
        .bind(community_id).fetch_all(c).await?))
}

/// Moves a year from one phase to the next; false when it was not in `from`.
pub async fn set_phase(tx: &mut Tx, community_id: i64, year: i64, from: &str, to: &str) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE pledge_years SET phase = $4 WHERE community_id = $1 AND year = $2 AND phase = $3")
        .bind(community_id).bind(year).bind(from).bind(to).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Pledge {
    pub id: i64,
    pub community_id: i64,
    pub year: i64,
    pub title: String,
    pub description: String,
    pub proposed_by: Option<i64>,
    pub status: PledgeStatus,
    pub owner: Option<String>,
    pub progress: i64,
    pub votes: i64,
    /// Of the votes, those a family member cast, and those staff recorded on paper.
    pub proxy_votes: i64,
    pub paper_votes: i64,
    pub kept: i64,
    pub not_kept: i64,
    pub satisfaction_sum: i64,
    /// Of the verdicts, those by proxy and on paper.
    pub proxy_verdicts: i64,
    pub paper_verdicts: i64,
}

const SELECT: &str = "SELECT p.id, p.community_id, p.year, p.title, p.description, p.proposed_by, p.status, p.owner, \
     p.progress, (SELECT COUNT(*) FROM pledge_votes v WHERE v.pledge_id = p.id) AS votes, \
     (SELECT COUNT(*) FROM pledge_votes v WHERE v.pledge_id = p.id AND v.channel = 'proxy') AS proxy_votes, \
     (SELECT COUNT(*) FROM pledge_votes v WHERE v.pledge_id = p.id AND v.channel = 'paper') AS paper_votes, \
     (SELECT COUNT(*) FROM pledge_verdicts d WHERE d.pledge_id = p.id AND d.channel = 'proxy') AS proxy_verdicts, \
     (SELECT COUNT(*) FROM pledge_verdicts d WHERE d.pledge_id = p.id AND d.channel = 'paper') AS paper_verdicts, \
     (SELECT COUNT(*) FROM pledge_verdicts d WHERE d.pledge_id = p.id AND d.kept) AS kept, \
     (SELECT COUNT(*) FROM pledge_verdicts d WHERE d.pledge_id = p.id AND NOT d.kept) AS not_kept, \
     (SELECT CAST(COALESCE(SUM(d.satisfaction), 0) AS BIGINT) FROM pledge_verdicts d WHERE d.pledge_id = p.id) \
     AS satisfaction_sum FROM pledges p";

pub async fn insert(
    tx: &mut Tx,
    community_id: i64,
    year: i64,
    title: &str,
    description: &str,
    proposed_by: Option<i64>,
    now: i64,
) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO pledges (community_id, year, title, description, proposed_by, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'proposed', $6) RETURNING id")
        .bind(community_id).bind(year).bind(title).bind(description).bind(proposed_by).bind(now)
        .fetch_one(c).await?))
}

pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Pledge>> {
    let sql = format!("{SELECT} WHERE p.id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// A year's pledges, the most voted first.
pub async fn of_year(tx: &mut Tx, community_id: i64, year: i64) -> Result<Vec<Pledge>> {
    let sql = format!("{SELECT} WHERE p.community_id = $1 AND p.year = $2 ORDER BY votes DESC, p.id");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(community_id).bind(year).fetch_all(c).await?))
}

pub async fn set_status(tx: &mut Tx, id: i64, status: PledgeStatus, owner: Option<&str>) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE pledges SET status = $2, owner = COALESCE($3, owner) WHERE id = $1")
        .bind(id).bind(status).bind(owner).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// A resident's vote; false when they had voted for it already.
pub async fn vote(tx: &mut Tx, pledge_id: i64, resident_id: i64, cast: &Cast<'_>, now: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "INSERT INTO pledge_votes (pledge_id, resident_id, voted_at, channel, recorded_by, slip, witness) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING")
        .bind(pledge_id).bind(resident_id).bind(now).bind(cast.channel).bind(cast.recorded_by).bind(cast.slip)
        .bind(cast.witness).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// The pledges of a year a resident voted for.
pub async fn votes_of(tx: &mut Tx, community_id: i64, year: i64, resident_id: i64) -> Result<Vec<i64>> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT v.pledge_id FROM pledge_votes v JOIN pledges p ON p.id = v.pledge_id \
         WHERE p.community_id = $1 AND p.year = $2 AND v.resident_id = $3 ORDER BY v.pledge_id")
        .bind(community_id).bind(year).bind(resident_id).fetch_all(c).await?))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Update {
    pub id: i64,
    pub pledge_id: i64,
    pub at: i64,
    pub progress: i64,
    pub text: String,
    pub by_name: String,
}

/// Adds an update and sets the pledge's progress to it; its id.
pub async fn add_update(tx: &mut Tx, pledge_id: i64, progress: i64, text: &str, by: &str, now: i64) -> Result<i64> {
    let id = on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO pledge_updates (pledge_id, at, progress, text, by_name) VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .bind(pledge_id).bind(now).bind(progress).bind(text).bind(by).fetch_one(&mut *c).await?);
    on_tx!(tx, c => sqlx::query("UPDATE pledges SET progress = $2 WHERE id = $1")
        .bind(pledge_id).bind(progress).execute(&mut *c).await?.rows_affected());
    Ok(id)
}

pub async fn update(tx: &mut Tx, id: i64) -> Result<Option<Update>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT id, pledge_id, at, progress, text, by_name FROM pledge_updates WHERE id = $1")
        .bind(id).fetch_optional(c).await?))
}

/// A year's updates, newest first.
pub async fn updates(tx: &mut Tx, community_id: i64, year: i64) -> Result<Vec<Update>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT u.id, u.pledge_id, u.at, u.progress, u.text, u.by_name FROM pledge_updates u \
         JOIN pledges p ON p.id = u.pledge_id WHERE p.community_id = $1 AND p.year = $2 ORDER BY u.at DESC, u.id DESC")
        .bind(community_id).bind(year).fetch_all(c).await?))
}

/// A resident's verdict; false when they had judged it already.
pub async fn judge(
    tx: &mut Tx,
    pledge_id: i64,
    resident_id: i64,
    (kept, satisfaction): (bool, i64),
    cast: &Cast<'_>,
    now: i64,
) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "INSERT INTO pledge_verdicts (pledge_id, resident_id, kept, satisfaction, at, channel, recorded_by, slip, witness) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING")
        .bind(pledge_id).bind(resident_id).bind(kept).bind(satisfaction).bind(now).bind(cast.channel)
        .bind(cast.recorded_by).bind(cast.slip).bind(cast.witness).execute(&mut *c).await?
        .rows_affected());
    Ok(n == 1)
}

/// The pledges of a year a resident has judged.
/// The pledge votes of a year (or verdicts) of the residents of one
/// building, as each was cast: `(pledge, cast)`.
pub async fn casts_in_building(
    tx: &mut Tx,
    verdicts: bool,
    (community_id, year): (i64, i64),
    building_id: i64,
) -> Result<Vec<(i64, CastVote)>> {
    let table = if verdicts { "pledge_verdicts" } else { "pledge_votes" };
    let at = if verdicts { "at" } else { "voted_at" };
    let sql = format!(
        "SELECT v.pledge_id, v.resident_id, v.channel, v.recorded_by, v.slip, v.witness, v.{at} AS at \
         FROM {table} v JOIN pledges p ON p.id = v.pledge_id JOIN residents r ON r.id = v.resident_id \
         JOIN households h ON h.id = r.household_id \
         WHERE p.community_id = $1 AND p.year = $2 AND h.building_id = $3 ORDER BY v.pledge_id"
    );
    let rows: Vec<PledgeCast> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(community_id).bind(year).bind(building_id).fetch_all(c).await?);
    Ok(rows.into_iter().map(|r| (r.pledge_id, r.cast)).collect())
}

#[derive(sqlx::FromRow)]
struct PledgeCast {
    pledge_id: i64,
    #[sqlx(flatten)]
    cast: CastVote,
}

/// A resident's pledge votes of a year, or his verdicts: the pledge and how
/// each came in (his phone, his family member, or paper and who recorded it).
pub async fn casts_of(
    tx: &mut Tx,
    verdicts: bool,
    community_id: i64,
    year: i64,
    resident_id: i64,
) -> Result<Vec<(i64, CastBy)>> {
    let table = if verdicts { "pledge_verdicts" } else { "pledge_votes" };
    let sql = format!(
        "SELECT v.pledge_id, v.channel, v.recorded_by FROM {table} v JOIN pledges p ON p.id = v.pledge_id \
         WHERE p.community_id = $1 AND p.year = $2 AND v.resident_id = $3 ORDER BY v.pledge_id"
    );
    let rows: Vec<(i64, VoteChannel, Option<String>)> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(community_id).bind(year).bind(resident_id).fetch_all(c).await?);
    Ok(rows.into_iter().map(|(id, channel, recorded_by)| (id, CastBy { channel, recorded_by })).collect())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Milestone {
    pub id: i64,
    pub pledge_id: i64,
    pub title: String,
    pub due_on: String,
    pub done_on: Option<String>,
    pub note: String,
}

const MILESTONE: &str = "SELECT m.id, m.pledge_id, m.title, m.due_on, m.done_on, m.note FROM pledge_milestones m";

pub async fn add_milestone(tx: &mut Tx, pledge_id: i64, title: &str, due_on: &str) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO pledge_milestones (pledge_id, title, due_on, note) VALUES ($1, $2, $3, '') RETURNING id")
        .bind(pledge_id).bind(title).bind(due_on).fetch_one(c).await?))
}

pub async fn milestone(tx: &mut Tx, id: i64) -> Result<Option<Milestone>> {
    let sql = format!("{MILESTONE} WHERE m.id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// A year's milestones, by pledge and day due.
pub async fn milestones(tx: &mut Tx, community_id: i64, year: i64) -> Result<Vec<Milestone>> {
    let sql = format!(
        "{MILESTONE} JOIN pledges p ON p.id = m.pledge_id WHERE p.community_id = $1 AND p.year = $2 \
         ORDER BY m.pledge_id, m.due_on, m.id"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(community_id).bind(year).fetch_all(c).await?))
}

/// Marks a milestone done; false when it was done already.
pub async fn finish_milestone(tx: &mut Tx, id: i64, done_on: &str, note: &str) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE pledge_milestones SET done_on = $2, note = $3 WHERE id = $1 AND done_on IS NULL")
        .bind(id).bind(done_on).bind(note).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Photo {
    pub id: i64,
    pub update_id: i64,
    pub stored_name: String,
    pub content_type: String,
}

pub async fn add_photo(tx: &mut Tx, update_id: i64, stored_name: &str, content_type: &str, now: i64) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO pledge_photos (update_id, stored_name, content_type, created_at) VALUES ($1, $2, $3, $4) \
         RETURNING id")
        .bind(update_id).bind(stored_name).bind(content_type).bind(now).fetch_one(c).await?))
}

pub async fn photo(tx: &mut Tx, id: i64) -> Result<Option<Photo>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT id, update_id, stored_name, content_type FROM pledge_photos WHERE id = $1")
        .bind(id).fetch_optional(c).await?))
}

/// The photos of a year's updates, in the order they came.
pub async fn photos(tx: &mut Tx, community_id: i64, year: i64) -> Result<Vec<Photo>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT f.id, f.update_id, f.stored_name, f.content_type FROM pledge_photos f \
         JOIN pledge_updates u ON u.id = f.update_id JOIN pledges p ON p.id = u.pledge_id \
         WHERE p.community_id = $1 AND p.year = $2 ORDER BY f.id")
        .bind(community_id).bind(year).fetch_all(c).await?))
}
