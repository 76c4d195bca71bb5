//! Telling people: the dispatcher's cursor over the outbox, in-app
//! messages, deliveries through providers (claimed with a lease, like
//! jobs), and what each person chose.

use yijia_domain::notify::{DeliveryState, NotifyChannel, Topic};

use crate::cases::OutboxEntry;
use crate::residents::placeholders;
use crate::{Backend, Result, Tx, on_tx};

// ---- the outbox entries not yet told ----

/// Takes up to `limit` outbox entries nobody has told of yet and whose
/// time has come (a notice is told when it is published, which may be
/// after it was posted), oldest first, locked for this transaction: a
/// second server skips them.
pub async fn untold(tx: &mut Tx, now: i64, limit: i64) -> Result<Vec<OutboxEntry>> {
    let skip = if tx.backend() == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "SELECT id, at, event, org_path, object, payload FROM outbox WHERE told_at IS NULL AND at <= $1 ORDER BY id \
         LIMIT $2{skip}"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).bind(limit).fetch_all(c).await?))
}

pub async fn mark_told(tx: &mut Tx, ids: &[i64], now: i64) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!("UPDATE outbox SET told_at = $1 WHERE id IN ({})", crate::sql::id_list(ids));
    on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now).execute(&mut *c).await?.rows_affected());
    Ok(())
}

// ---- in-app messages ----

pub struct NewMessage<'a> {
    pub user_id: i64,
    pub event_key: &'a str,
    pub topic: Topic,
    pub params: &'a str,
    pub urgent: bool,
    pub now: i64,
}

/// Adds messages, skipping any a person already has for the event.
pub async fn insert_messages(tx: &mut Tx, rows: &[NewMessage<'_>]) -> Result<u64> {
    let mut n = 0;
    for chunk in rows.chunks(500) {
        let sql = format!(
            "INSERT INTO messages (user_id, event_key, topic, params, urgent, created_at) VALUES {} \
             ON CONFLICT (event_key, user_id) DO NOTHING",
            placeholders(tx.backend(), chunk.len(), 6)
        );
        n += on_tx!(tx, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for m in chunk {
                q = q.bind(m.user_id).bind(m.event_key).bind(m.topic).bind(m.params).bind(m.urgent).bind(m.now);
            }
            q.execute(&mut *c).await?.rows_affected()
        });
    }
    Ok(n)
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Message {
    pub id: i64,
    pub topic: Topic,
    pub params: String,
    pub urgent: bool,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

pub async fn messages(tx: &mut Tx, user_id: i64, limit: i64, offset: i64) -> Result<Vec<Message>> {
    let sql = "SELECT id, topic, params, urgent, created_at, read_at FROM messages WHERE user_id = $1 \
               ORDER BY id DESC LIMIT $2 OFFSET $3";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(user_id).bind(limit).bind(offset).fetch_all(c).await?))
}

/// (all, unread)
pub async fn message_counts(tx: &mut Tx, user_id: i64) -> Result<(i64, i64)> {
    let sql = "SELECT COUNT(*), COALESCE(SUM(CASE WHEN read_at IS NULL THEN 1 ELSE 0 END), 0) \
               FROM messages WHERE user_id = $1";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(user_id).fetch_one(c).await?))
}

pub async fn unread(tx: &mut Tx, user_id: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM messages WHERE user_id = $1 AND read_at IS NULL";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(user_id).fetch_one(c).await?))
}

/// Marks one of the person's messages read (or all, with `None`); answers
/// how many changed.
pub async fn mark_read(tx: &mut Tx, user_id: i64, id: Option<i64>, now: i64) -> Result<u64> {
    Ok(match id {
        Some(id) => on_tx!(tx, c => sqlx::query(
            "UPDATE messages SET read_at = $3 WHERE user_id = $1 AND id = $2 AND read_at IS NULL")
            .bind(user_id).bind(id).bind(now).execute(&mut *c).await?.rows_affected()),
        None => on_tx!(tx, c => sqlx::query("UPDATE messages SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL")
            .bind(user_id).bind(now).execute(&mut *c).await?.rows_affected()),
    })
}

pub async fn message_exists(tx: &mut Tx, user_id: i64, id: i64) -> Result<bool> {
    let sql = "SELECT COUNT(*) FROM messages WHERE user_id = $1 AND id = $2";
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar(sql).bind(user_id).bind(id).fetch_one(c).await?);
    Ok(n > 0)
}

// ---- deliveries ----

pub struct NewDelivery<'a> {
    pub message_id: String,
    pub event_key: &'a str,
    pub recipient: String,
    pub user_id: Option<i64>,
    pub channel: NotifyChannel,
    pub topic: Topic,
    pub params: &'a str,
    pub urgent: bool,
    pub org_path: &'a str,
    pub address_ref: String,
    pub next_at: i64,
    pub now: i64,
}

/// Queues deliveries, skipping any (event, person, channel) already there.
pub async fn insert_deliveries(tx: &mut Tx, rows: &[NewDelivery<'_>]) -> Result<u64> {
    let mut n = 0;
    for chunk in rows.chunks(400) {
        let sql = format!(
            "INSERT INTO deliveries (message_id, event_key, recipient, user_id, channel, topic, params, urgent, \
             org_path, address_ref, next_at, created_at, state) VALUES {} \
             ON CONFLICT (event_key, recipient, channel) DO NOTHING",
            placeholders(tx.backend(), chunk.len(), 13)
        );
        n += on_tx!(tx, c => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for d in chunk {
                q = q.bind(d.message_id.as_str()).bind(d.event_key).bind(d.recipient.as_str()).bind(d.user_id)
                    .bind(d.channel).bind(d.topic).bind(d.params).bind(d.urgent).bind(d.org_path)
                    .bind(d.address_ref.as_str()).bind(d.next_at).bind(d.now).bind(DeliveryState::Queued);
            }
            q.execute(&mut *c).await?.rows_affected()
        });
    }
    Ok(n)
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub message_id: String,
    pub event_key: String,
    pub recipient: String,
    pub user_id: Option<i64>,
    pub channel: NotifyChannel,
    pub topic: Topic,
    pub params: String,
    pub urgent: bool,
    pub org_path: String,
    pub address_ref: String,
    pub address_masked: Option<String>,
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_at: i64,
    pub provider_id: Option<String>,
    pub error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub delivered_at: Option<i64>,
}

const COLUMNS: &str = "id, message_id, event_key, recipient, user_id, channel, topic, params, urgent, org_path, \
     address_ref, address_masked, state, attempts, next_at, provider_id, error, created_at, sent_at, delivered_at";

/// Claims up to `limit` due deliveries for `runner` until `lease_until`: the
/// queued, and those in flight whose sender's lease has ended (it died).
/// The condition is checked again on each locked row, so two servers never
/// both hold one.
pub async fn claim(tx: &mut Tx, runner: &str, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Delivery>> {
    let due = "state IN ('queued', 'sending') AND next_at <= $3 AND (lease_until IS NULL OR lease_until < $3)";
    let skip = if tx.backend() == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE deliveries SET state = 'sending', claimed_by = $1, lease_until = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM deliveries WHERE {due} ORDER BY next_at, id LIMIT $4{skip}) AND {due} \
         RETURNING {COLUMNS}"
    );
    let mut rows: Vec<Delivery> = on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(runner).bind(lease_until).bind(now).bind(limit).fetch_all(c).await?);
    rows.sort_by_key(|d| (d.next_at, d.id));
    Ok(rows)
}

/// What became of one claimed delivery.
pub enum Outcome<'a> {
    Sent {
        provider_id: &'a str,
    },
    /// Try again at `at` (a failure to back off from, or quiet hours,
    /// which do not count as an attempt).
    Later {
        at: i64,
        error: Option<&'a str>,
        counts: bool,
    },
    /// Failed for good, or parked after the last retry.
    Ended {
        state: DeliveryState,
        error: &'a str,
    },
}

/// Records what became of a delivery, if `runner` still holds it; answers
/// whether it did.
pub async fn settle(
    tx: &mut Tx,
    id: i64,
    runner: &str,
    address: (Option<&str>, Option<&str>),
    outcome: Outcome<'_>,
    now: i64,
) -> Result<bool> {
    let (masked, index) = address;
    let held = "WHERE id = $1 AND claimed_by = $2 AND state = 'sending'";
    let n = match outcome {
        Outcome::Sent { provider_id } => on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE deliveries SET provider_id = $3, sent_at = $4, lease_until = NULL, error = NULL, \
             state = CASE WHEN delivered_at IS NULL THEN 'sent' ELSE 'delivered' END, \
             address_masked = $5, address_index = $6 {held}")))
            .bind(id).bind(runner).bind(provider_id).bind(now).bind(masked).bind(index)
            .execute(&mut *c).await?.rows_affected()),
        Outcome::Later { at, error, counts } => on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE deliveries SET state = 'queued', next_at = $3, error = COALESCE($4, error), lease_until = NULL, \
             attempts = attempts - $5, address_masked = COALESCE($6, address_masked) {held}")))
            .bind(id).bind(runner).bind(at).bind(error).bind(if counts { 0_i64 } else { 1 }).bind(masked)
            .execute(&mut *c).await?.rows_affected()),
        Outcome::Ended { state, error } => on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE deliveries SET state = $3, error = $4, lease_until = NULL, \
             address_masked = COALESCE($5, address_masked) {held}")))
            .bind(id).bind(runner).bind(state).bind(error).bind(masked)
            .execute(&mut *c).await?.rows_affected()),
    };
    Ok(n == 1)
}

/// A provider's receipt: delivered, or failed with its reason. Matched by
/// the provider's id for the message, or by the message id it was sent
/// with (a receipt may come before the sender has recorded the send: it is
/// kept, and the send then records it delivered); answers whether a
/// delivery matched.
pub async fn receipt(tx: &mut Tx, key: &str, delivered: bool, error: Option<&str>, at: i64) -> Result<bool> {
    let n = if delivered {
        on_tx!(tx, c => sqlx::query(
            "UPDATE deliveries SET delivered_at = $2, \
             state = CASE WHEN state = 'sending' THEN state ELSE 'delivered' END \
             WHERE (provider_id = $1 OR message_id = $1) AND state IN ('sending', 'sent', 'delivered')")
            .bind(key).bind(at).execute(&mut *c).await?.rows_affected())
    } else {
        on_tx!(tx, c => sqlx::query(
            "UPDATE deliveries SET state = 'failed', error = $2 \
             WHERE (provider_id = $1 OR message_id = $1) AND state IN ('sent', 'delivered')")
            .bind(key).bind(error.unwrap_or("")).execute(&mut *c).await?.rows_affected())
    };
    Ok(n > 0)
}

/// SMS sent to one phone since `since` (the daily cap).
pub async fn sent_to(tx: &mut Tx, address_index: &str, since: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM deliveries WHERE address_index = $1 AND sent_at >= $2";
    Ok(on_tx!(tx, c => sqlx::query_scalar(sql).bind(address_index).bind(since).fetch_one(c).await?))
}

pub async fn delivery(tx: &mut Tx, id: i64) -> Result<Option<Delivery>> {
    let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// Deliveries under any of `paths`, newest first, optionally in one state.
pub async fn deliveries(
    tx: &mut Tx,
    paths: &[String],
    state: Option<DeliveryState>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Delivery>, i64)> {
    if paths.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let mut args = crate::sql::Args::default();
    let areas: Vec<String> = paths.iter().map(|p| args.prefix("org_path", p)).collect();
    let mut filter = format!("({})", areas.join(" OR "));
    if let Some(s) = state {
        filter = format!("{filter} AND state = {}", args.push(s.code()));
    }
    let count = format!("SELECT COUNT(*) FROM deliveries WHERE {filter}");
    let total: i64 = on_tx!(tx, c => crate::sql::bind_args!(sqlx::query_scalar(sqlx::AssertSqlSafe(count.as_str())), args)
        .fetch_one(c).await?);
    let sql = format!(
        "SELECT {COLUMNS} FROM deliveries WHERE {filter} ORDER BY id DESC LIMIT {} OFFSET {}",
        args.next(1),
        args.next(2)
    );
    let rows = on_tx!(tx, c => crate::sql::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args)
        .bind(limit).bind(offset).fetch_all(c).await?);
    Ok((rows, total))
}

/// Puts a parked or failed delivery back in the queue, now.
pub async fn requeue(tx: &mut Tx, id: i64, now: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE deliveries SET state = 'queued', next_at = $2, attempts = 0, lease_until = NULL \
         WHERE id = $1 AND state IN ('parked', 'failed')")
        .bind(id).bind(now).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// Deliveries of one event, for tests and the event's own page.
pub async fn of_event(tx: &mut Tx, event_key: &str) -> Result<Vec<Delivery>> {
    let sql = format!("SELECT {COLUMNS} FROM deliveries WHERE event_key = $1 ORDER BY id");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(event_key).fetch_all(c).await?))
}

// ---- what each person chose ----

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Settings {
    pub user_id: i64,
    pub email_sealed: Option<String>,
    pub email_masked: Option<String>,
    pub quiet_from: i64,
    pub quiet_to: i64,
}

pub async fn settings_of(tx: &mut Tx, user_ids: &[i64]) -> Result<Vec<Settings>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT user_id, email_sealed, email_masked, quiet_from, quiet_to FROM notify_settings WHERE user_id IN ({})",
        crate::sql::id_list(user_ids)
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?))
}

pub async fn save_settings(tx: &mut Tx, s: &Settings, now: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO notify_settings (user_id, email_sealed, email_masked, quiet_from, quiet_to, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_id) DO UPDATE SET email_sealed = excluded.email_sealed, \
         email_masked = excluded.email_masked, quiet_from = excluded.quiet_from, quiet_to = excluded.quiet_to, \
         updated_at = excluded.updated_at")
        .bind(s.user_id).bind(s.email_sealed.as_deref()).bind(s.email_masked.as_deref()).bind(s.quiet_from)
        .bind(s.quiet_to).bind(now).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// (user, topic, channels as stored: a comma list of codes)
/// Each person's choice per topic: (user, topic, channels, daily).
pub async fn choices_of(tx: &mut Tx, user_ids: &[i64]) -> Result<Vec<(i64, Topic, String, bool)>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT user_id, topic, channels, digest FROM notify_choices WHERE user_id IN ({})",
        crate::sql::id_list(user_ids)
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?))
}

/// The topics chosen daily, of enabled users, by user: (user, topic, channels).
pub async fn daily_choices(tx: &mut Tx) -> Result<Vec<(i64, Topic, String)>> {
    let sql = "SELECT c.user_id, c.topic, c.channels FROM notify_choices c JOIN users u ON u.id = c.user_id \
               WHERE c.digest = $1 AND u.disabled_at IS NULL ORDER BY c.user_id, c.topic";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).bind(true).fetch_all(c).await?))
}

/// How many of a person's messages about these topics since `since` are unread.
pub async fn unread_since(tx: &mut Tx, user_id: i64, topics: &[Topic], since: i64) -> Result<i64> {
    if topics.is_empty() {
        return Ok(0);
    }
    let codes: Vec<String> = topics.iter().map(|t| format!("'{}'", t.code())).collect();
    let sql = format!(
        "SELECT COUNT(*) FROM messages WHERE user_id = $1 AND read_at IS NULL AND created_at >= $2 \
         AND topic IN ({})",
        codes.join(", ")
    );
    Ok(on_tx!(tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(user_id).bind(since).fetch_one(c).await?))
}

pub async fn set_choice(tx: &mut Tx, user_id: i64, topic: Topic, channels: &str, digest: bool) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO notify_choices (user_id, topic, channels, digest) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, topic) DO UPDATE SET channels = excluded.channels, digest = excluded.digest")
        .bind(user_id).bind(topic).bind(channels).bind(digest).execute(&mut *c).await?.rows_affected());
    Ok(())
}

// ---- stopped phones ----

pub async fn stop_sms(tx: &mut Tx, phone_index: &str, at: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query("INSERT INTO sms_stops (phone_index, at) VALUES ($1, $2) ON CONFLICT (phone_index) DO NOTHING")
        .bind(phone_index).bind(at).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn resume_sms(tx: &mut Tx, phone_index: &str) -> Result<()> {
    on_tx!(tx, c => sqlx::query("DELETE FROM sms_stops WHERE phone_index = $1")
        .bind(phone_index).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn sms_stopped(tx: &mut Tx, phone_index: &str) -> Result<bool> {
    let n: i64 = on_tx!(tx, c => sqlx::query_scalar("SELECT COUNT(*) FROM sms_stops WHERE phone_index = $1")
        .bind(phone_index).fetch_one(c).await?);
    Ok(n > 0)
}

// ---- staff work groups ----

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StaffGroup {
    pub id: i64,
    pub org_id: i64,
    pub org_path: String,
    pub org_name: String,
    pub kind: NotifyChannel,
    pub name: String,
    pub url_sealed: String,
    pub secret_sealed: Option<String>,
    pub created_by: String,
    pub created_at: i64,
}

pub struct NewStaffGroup<'a> {
    pub org_id: i64,
    pub org_path: &'a str,
    pub kind: NotifyChannel,
    pub name: &'a str,
    pub url_sealed: &'a str,
    pub secret_sealed: Option<&'a str>,
    pub created_by: &'a str,
    pub now: i64,
}

const GROUP_COLUMNS: &str = "s.id, s.org_id, s.org_path, o.name AS org_name, s.kind, s.name, s.url_sealed, \
     s.secret_sealed, s.created_by, s.created_at FROM staff_groups s JOIN org_nodes o ON o.id = s.org_id";

pub async fn insert_group(tx: &mut Tx, g: &NewStaffGroup<'_>) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO staff_groups (org_id, org_path, kind, name, url_sealed, secret_sealed, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
        .bind(g.org_id).bind(g.org_path).bind(g.kind).bind(g.name).bind(g.url_sealed).bind(g.secret_sealed)
        .bind(g.created_by).bind(g.now).fetch_one(c).await?))
}

/// The groups in use, by place and name.
pub async fn groups(tx: &mut Tx) -> Result<Vec<StaffGroup>> {
    let sql = format!("SELECT {GROUP_COLUMNS} WHERE s.removed_at IS NULL ORDER BY s.org_path, s.name, s.id");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await?))
}

pub async fn group(tx: &mut Tx, id: i64) -> Result<Option<StaffGroup>> {
    let sql = format!("SELECT {GROUP_COLUMNS} WHERE s.id = $1 AND s.removed_at IS NULL");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// The groups of the places a case lies in: its grid's and its community's.
pub async fn groups_over(tx: &mut Tx, paths: &[&str]) -> Result<Vec<StaffGroup>> {
    let mut out = Vec::new();
    for p in paths {
        let sql = format!("SELECT {GROUP_COLUMNS} WHERE s.removed_at IS NULL AND s.org_path = $1 ORDER BY s.id");
        let rows: Vec<StaffGroup> =
            on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(*p).fetch_all(c).await?);
        out.extend(rows);
    }
    Ok(out)
}

pub async fn remove_group(tx: &mut Tx, id: i64, now: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query("UPDATE staff_groups SET removed_at = $2 WHERE id = $1 AND removed_at IS NULL")
        .bind(id).bind(now).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

// ---- key rotation ----

/// Every sealed email address: (user, sealed).
pub async fn sealed_emails(tx: &mut Tx) -> Result<Vec<(i64, String)>> {
    let sql = "SELECT user_id, email_sealed FROM notify_settings WHERE email_sealed IS NOT NULL ORDER BY user_id";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).fetch_all(c).await?))
}

pub async fn set_email_sealed(tx: &mut Tx, user_id: i64, sealed: &str) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE notify_settings SET email_sealed = $2 WHERE user_id = $1")
        .bind(user_id).bind(sealed).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Every group's sealed address and secret, removed ones too.
pub async fn sealed_groups(tx: &mut Tx) -> Result<Vec<(i64, i64, String, String, Option<String>)>> {
    let sql = "SELECT id, org_id, name, url_sealed, secret_sealed FROM staff_groups ORDER BY id";
    Ok(on_tx!(tx, c => sqlx::query_as(sql).fetch_all(c).await?))
}

pub async fn set_group_sealed(tx: &mut Tx, id: i64, url: &str, secret: Option<&str>) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE staff_groups SET url_sealed = $2, secret_sealed = $3 WHERE id = $1")
        .bind(id).bind(url).bind(secret).execute(&mut *c).await?.rows_affected());
    Ok(())
}

/// Marks every event there is told: what happened so far is not news (a
/// demo's made-up past).
pub async fn skip_to_present(tx: &mut Tx) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE outbox SET told_at = 0 WHERE told_at IS NULL")
        .execute(&mut *c).await?.rows_affected());
    Ok(())
}
