//! The job table: background work claimed with a lease, so that any number
//! of servers share it and each job runs once.

use crate::{Result, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: i64,
    pub max_attempts: i64,
}

pub struct NewJob<'a> {
    pub kind: &'a str,
    pub payload: &'a str,
    /// At most one pending job per key (e.g. one sweep per minute).
    pub unique_key: Option<&'a str>,
    pub run_at: i64,
    pub max_attempts: i64,
    pub now: i64,
}

/// Enqueues a job; with a unique key already present, does nothing and
/// answers `None`.
pub async fn enqueue(tx: &mut Tx, j: &NewJob<'_>) -> Result<Option<i64>> {
    let sql = "INSERT INTO jobs (kind, payload, unique_key, run_at, max_attempts, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (unique_key) DO NOTHING RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(j.kind).bind(j.payload).bind(j.unique_key).bind(j.run_at).bind(j.max_attempts).bind(j.now)
        .fetch_optional(c).await?))
}

/// Claims the next due job for `runner` until `lease_until`. The inner
/// select may pick a job another runner is claiming at the same moment; the
/// outer condition is checked again on the locked row, so only one wins and
/// the other gets nothing and asks again.
pub async fn claim(tx: &mut Tx, runner: &str, now: i64, lease_until: i64) -> Result<Option<Job>> {
    let due = "done_at IS NULL AND failed_at IS NULL AND run_at <= $3 AND (locked_until IS NULL OR locked_until < $3)";
    let sql = format!(
        "UPDATE jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM jobs WHERE {due} ORDER BY run_at, id LIMIT 1) AND {due} \
         RETURNING id, kind, payload, attempts, max_attempts"
    );
    Ok(
        on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(runner).bind(lease_until).bind(now).fetch_optional(c).await?),
    )
}

pub async fn start_run(tx: &mut Tx, job_id: i64, runner: &str, now: i64) -> Result<i64> {
    let sql = "INSERT INTO job_runs (job_id, runner, started_at) VALUES ($1, $2, $3) RETURNING id";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(job_id).bind(runner).bind(now).fetch_one(c).await?))
}

/// Marks a job done, if `runner` still holds its lease.
pub async fn finish(tx: &mut Tx, job_id: i64, run_id: i64, runner: &str, now: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE jobs SET done_at = $3, locked_until = NULL WHERE id = $1 AND locked_by = $2")
        .bind(job_id).bind(runner).bind(now).execute(&mut *c).await?.rows_affected());
    on_tx!(tx, c => sqlx::query("UPDATE job_runs SET finished_at = $2 WHERE id = $1")
        .bind(run_id).bind(now).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// Records a failure: retried at `retry_at`, or failed for good when the
/// attempts are used up.
pub async fn fail(tx: &mut Tx, job: &Job, run_id: i64, error: &str, now: i64, retry_at: i64) -> Result<()> {
    let final_failure = job.attempts >= job.max_attempts;
    let sql = if final_failure {
        "UPDATE jobs SET failed_at = $3, last_error = $2, locked_until = NULL WHERE id = $1"
    } else {
        "UPDATE jobs SET run_at = $4, last_error = $2, locked_until = NULL WHERE id = $1"
    };
    on_tx!(tx, c => sqlx::query(sql).bind(job.id).bind(error).bind(now).bind(retry_at).execute(&mut *c).await?.rows_affected());
    on_tx!(tx, c => sqlx::query("UPDATE job_runs SET finished_at = $2, error = $3 WHERE id = $1")
        .bind(run_id).bind(now).bind(error).execute(&mut *c).await?.rows_affected());
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Counts {
    pub pending: i64,
    pub done: i64,
    pub failed: i64,
    pub runs: i64,
    pub distinct_jobs_run: i64,
}

pub async fn counts(tx: &mut Tx, kind: &str) -> Result<Counts> {
    let (pending, done, failed): (i64, i64, i64) = on_tx!(tx, c => sqlx::query_as(
        "SELECT \
           COALESCE(SUM(CASE WHEN done_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN done_at IS NOT NULL THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) \
         FROM jobs WHERE kind = $1")
        .bind(kind).fetch_one(&mut *c).await?);
    let (runs, distinct_jobs_run): (i64, i64) = on_tx!(tx, c => sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT r.job_id) FROM job_runs r JOIN jobs j ON j.id = r.job_id \
         WHERE j.kind = $1 AND r.finished_at IS NOT NULL AND r.error IS NULL")
        .bind(kind).fetch_one(&mut *c).await?);
    Ok(Counts { pending, done, failed, runs, distinct_jobs_run })
}

/// Runners that finished at least one job of `kind`.
pub async fn runners(tx: &mut Tx, kind: &str) -> Result<Vec<String>> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT DISTINCT r.runner FROM job_runs r JOIN jobs j ON j.id = r.job_id WHERE j.kind = $1 ORDER BY r.runner")
        .bind(kind).fetch_all(c).await?))
}
