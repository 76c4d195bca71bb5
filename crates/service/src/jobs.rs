//! Background work from the job table. Every server runs a runner; a job is
//! claimed with a lease, so each runs once even with many servers, and one
//! whose runner died is taken over when its lease ends. Between jobs the
//! runner dispatches notifications (`notify::dispatch`).

use std::time::Duration;

use serde_json::json;
use yijia_domain::time::{HOUR_MS, MINUTE_MS};
use yijia_store::{jobs, sessions};

use crate::{Result, ServiceError, Services};

/// Removes ended sessions and old login attempts. Scheduled every minute.
pub const SWEEP: &str = "sweep";

/// Ends pregnancies whose due date has long passed. Scheduled daily.
pub const PREGNANCY_ENDS: &str = "pregnancy_ends";

/// Reminds, flags and escalates cases by their deadlines. Every minute.
pub const CASE_DEADLINES: &str = "case_deadlines";

/// Carries outbox events to the webhooks. Every minute.
pub const WEBHOOKS: &str = "webhooks";

/// Tells residents of tomorrow's appointments. Daily at 18:00.
pub const APPOINTMENTS_TOMORROW: &str = "appointments_tomorrow";

/// Staff's daily digest, on Mondays the visits overdue, and everyone's
/// summary of the topics they chose daily. Daily at 08:00.
pub const MORNING: &str = "morning";

/// Daily, at 02:00: the data of people whose community's retention ran out
/// since they left or died is erased.
pub const RETENTION: &str = "retention";
const LEASE_MS: i64 = 5 * MINUTE_MS;
/// Login attempts are kept this long (the lockout window is much shorter).
const ATTEMPTS_KEPT_MS: i64 = 7 * 24 * 60 * MINUTE_MS;

impl Services {
    pub async fn enqueue(
        &self,
        kind: &str,
        payload: serde_json::Value,
        unique_key: Option<&str>,
        run_at: i64,
    ) -> Result<Option<i64>> {
        let mut tx = self.db.write().await?;
        let payload = payload.to_string();
        let id = jobs::enqueue(
            &mut tx,
            &jobs::NewJob { kind, payload: &payload, unique_key, run_at, max_attempts: 5, now: self.now() },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Claims and runs one due job; `false` when there was none.
    pub async fn run_one_job(&self, runner: &str) -> Result<bool> {
        let now = self.now();
        let mut tx = self.db.write().await?;
        let Some(job) = jobs::claim(&mut tx, runner, now, now + LEASE_MS).await? else {
            tx.commit().await?;
            return Ok(false);
        };
        let run = jobs::start_run(&mut tx, job.id, runner, now).await?;
        tx.commit().await?;

        let outcome = self.execute(&job).await;
        let now = self.now();
        let mut tx = self.db.write().await?;
        match outcome {
            Ok(()) => {
                jobs::finish(&mut tx, job.id, run, runner, now).await?;
            }
            Err(e) => {
                // back off: 10 s, 20 s, 40 s, …
                let retry_at = now + 10_000 * (1_i64 << job.attempts.clamp(0, 16));
                tracing::warn!(job = job.id, kind = %job.kind, error = %crate::error::Report(&e), "job failed");
                jobs::fail(&mut tx, &job, run, &e.to_string(), now, retry_at).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn execute(&self, job: &jobs::Job) -> Result<()> {
        match job.kind.as_str() {
            SWEEP => {
                let now = self.now();
                let s = &self.settings;
                let mut tx = self.db.write().await?;
                let ended =
                    sessions::delete_expired(&mut tx, now - s.session_idle_ms, now - s.session_absolute_ms).await?;
                let pruned = sessions::prune_attempts(&mut tx, now - ATTEMPTS_KEPT_MS).await?
                    + sessions::prune_login_codes(&mut tx, now - ATTEMPTS_KEPT_MS).await?;
                tx.commit().await?;
                tracing::debug!(ended, pruned, "sweep");
                Ok(())
            }
            PREGNANCY_ENDS => {
                let ended = self.end_pregnancies().await?;
                tracing::info!(ended, "pregnancies past their due date ended");
                Ok(())
            }
            RETENTION => {
                let erased = self.erase_expired().await?;
                tracing::info!(erased, "people past their community's retention erased");
                Ok(())
            }
            CASE_DEADLINES => {
                let r = self.sweep_case_deadlines().await?;
                tracing::debug!(?r, "case deadlines");
                Ok(())
            }
            APPOINTMENTS_TOMORROW => {
                let d = self.tell_appointments_tomorrow().await?;
                tracing::info!(messages = d.messages, queued = d.queued, "appointments tomorrow");
                Ok(())
            }
            MORNING => {
                let d = self.tell_morning().await?;
                tracing::info!(messages = d.messages, queued = d.queued, "morning");
                Ok(())
            }
            WEBHOOKS => {
                let r = self.deliver_webhooks().await?;
                tracing::debug!(?r, "webhooks");
                Ok(())
            }
            other => Err(ServiceError::internal(format!("no handler for job kind '{other}'"))),
        }
    }

    /// Schedules this minute's sweep; every server asks, one job is made.
    pub async fn schedule_periodic(&self) -> Result<()> {
        let minute = self.now() / MINUTE_MS;
        self.enqueue(SWEEP, json!({}), Some(&format!("sweep:{minute}")), self.now()).await?;
        self.enqueue(CASE_DEADLINES, json!({}), Some(&format!("cases:{minute}")), self.now()).await?;
        self.enqueue(WEBHOOKS, json!({}), Some(&format!("webhooks:{minute}")), self.now()).await?;
        let day = yijia_domain::time::to_local(self.now()).date_naive();
        self.enqueue(PREGNANCY_ENDS, json!({}), Some(&format!("pregnancy:{day}")), self.now()).await?;
        let midnight = yijia_domain::time::start_of_day(day);
        self.enqueue(RETENTION, json!({}), Some(&format!("retention:{day}")), midnight + 2 * HOUR_MS).await?;
        self.enqueue(MORNING, json!({}), Some(&format!("morning:{day}")), midnight + 8 * HOUR_MS).await?;
        let evening = midnight + 18 * HOUR_MS;
        self.enqueue(APPOINTMENTS_TOMORROW, json!({}), Some(&format!("appointments:{day}")), evening).await?;
        Ok(())
    }

    /// The runner loop of one server; ends when `stop` fires.
    pub async fn run_jobs(&self, runner: String, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut last_schedule: Option<i64> = None;
        loop {
            if *stop.borrow() {
                return;
            }
            if last_schedule.is_none_or(|t| self.now() - t >= MINUTE_MS) {
                if let Err(e) = self.schedule_periodic().await {
                    tracing::warn!(error = %crate::error::Report(&e), "scheduling periodic jobs failed");
                }
                last_schedule = Some(self.now());
            }
            let worked = match self.run_one_job(&runner).await {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!(error = %crate::error::Report(&e), "job runner");
                    false
                }
            };
            // the dispatcher tells people of what happened, between jobs
            let told = match self.dispatch(&runner).await {
                Ok(d) => !d.is_idle(),
                Err(e) => {
                    tracing::warn!(error = %crate::error::Report(&e), "notifications: dispatch");
                    false
                }
            };
            if !worked && !told {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
}
