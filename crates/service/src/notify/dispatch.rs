//! The dispatcher: reads the outbox after its cursor, works out who is
//! told what and through which channels (`fan_out`), and sends what is due
//! (`send_due`). A delivery is claimed with a lease before it is sent; a
//! sender that dies leaves it `sending`, and when the lease ends another
//! sends it again under the same message id.

use std::collections::{HashMap, HashSet};

use futures_util::StreamExt as _;
use serde::Serialize;
use serde_json::json;
use yijia_domain::approval::AwaitingKind;
use yijia_domain::broadcast::{Area, BroadcastState};
use yijia_domain::notify::{Audience, DeliveryState, NotifyChannel, Params, QuietHours, Topic};
use yijia_domain::phone::Phone;
use yijia_domain::project::Stage;
use yijia_domain::role::Role;
use yijia_domain::shop::RedemptionStatus;
use yijia_domain::time::{MINUTE_MS, start_of_day, to_local};
use yijia_store::notify::{self, NewDelivery, NewMessage, Outcome};
use yijia_store::{Tx, broadcasts, cases, notices, org, projects, shop, users};

use super::send::{Outgoing, SendError};
use super::{aad_email, decode_channels};
use crate::approvals;
use crate::audit::{Event, record};
use crate::{Caller, Result, ServiceError, Services};

/// Outbox entries read per round.
const FAN_OUT_BATCH: i64 = 500;
/// Deliveries claimed per round, and sent at once.
const SEND_BATCH: i64 = 200;
const IN_FLIGHT: usize = 32;
/// Results recorded in one commit, at most.
const SETTLE_BATCH: usize = 64;
/// How long a sender holds what it claimed.
const LEASE_MS: i64 = MINUTE_MS;
const FIRST_BACKOFF_MS: i64 = 30_000;

/// What one round of the dispatcher did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Dispatched {
    /// Outbox events read.
    pub events: usize,
    pub messages: u64,
    pub queued: u64,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub parked: usize,
}

impl Dispatched {
    pub fn is_idle(&self) -> bool {
        *self == Self::default()
    }
}

/// Who is told: an account, or a reporter known only by the phone on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Who {
    User(i64),
    Reporter(i64),
    /// A resident with a phone and no account (an emergency broadcast).
    Resident(i64),
}

pub(super) struct Told {
    pub(super) event_key: String,
    pub(super) topic: Topic,
    pub(super) params: Params,
    pub(super) urgent: bool,
    pub(super) org_path: String,
    pub(super) who: Vec<Who>,
    /// Staff work groups told too: (group, its robot's kind).
    pub(super) groups: Vec<(i64, NotifyChannel)>,
    /// Channels that stand for everyone's own choice (the daily summary).
    pub(super) channels: Option<Vec<NotifyChannel>>,
}

fn backoff(attempts: i64) -> i64 {
    FIRST_BACKOFF_MS << (attempts - 1).clamp(0, 10)
}

impl Services {
    /// One round: fan out new events, then send one batch of what is due.
    pub async fn dispatch(&self, runner: &str) -> Result<Dispatched> {
        // what is queued goes out even while an event cannot be worked out
        let fanned = self.fan_out().await;
        let s = self.send_due(runner).await?;
        let mut d = fanned?;
        d.sent = s.sent;
        d.retried = s.retried;
        d.failed = s.failed;
        d.parked = s.parked;
        Ok(d)
    }

    /// Turns the outbox's untold events into messages and deliveries, and
    /// marks them told, in one transaction.
    pub async fn fan_out(&self) -> Result<Dispatched> {
        let now = self.now();
        let mut tx = self.db.write().await?;
        let entries = notify::untold(&mut tx, now, FAN_OUT_BATCH).await?;
        if entries.is_empty() {
            tx.commit().await?;
            return Ok(Dispatched::default());
        }
        let mut told = Vec::new();
        for e in &entries {
            if let Some(t) = self.who_is_told(&mut tx, e).await? {
                told.push(t);
            }
        }
        let (messages, queued) = self.queue(&mut tx, &told, now).await?;
        let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
        notify::mark_told(&mut tx, &ids, now).await?;
        tx.commit().await?;
        Ok(Dispatched { events: entries.len(), messages, queued, ..Default::default() })
    }

    /// Who an outbox event concerns, and what they are told.
    async fn who_is_told(&self, tx: &mut Tx, e: &cases::OutboxEntry) -> Result<Option<Told>> {
        match e.event.as_str() {
            "broadcast.sent" => return self.broadcast_told(tx, e).await,
            "redemption.ready" | "project.vote_open" | "notice.posted" => return self.residents_told(tx, e).await,
            "approval.asked" => return self.deciders_told(tx, e).await,
            _ => {}
        }
        let Some(action) = e.event.strip_prefix("case.") else { return Ok(None) };
        let Some(id) = e.object.strip_prefix("case:").and_then(|i| i.parse::<i64>().ok()) else { return Ok(None) };
        let Some(k) = cases::get(tx, id).await? else { return Ok(None) };
        let reporter = match k.reporter_user_id {
            Some(u) => Some(Who::User(u)),
            None => k.reporter_phone_sealed.as_ref().map(|_| Who::Reporter(k.id)),
        };
        let assignee = k.assignee_id.map(Who::User);
        let (topic, who): (Topic, Vec<Who>) = match action {
            "accept" => (Topic::CaseAccepted, reporter.into_iter().collect()),
            "resolve" => (Topic::CaseResolved, reporter.into_iter().collect()),
            "reopen" => (Topic::CaseReopened, assignee.into_iter().collect()),
            // a new case is its grid's workers' until one takes it
            "created" | "transfer" => match (assignee, k.grid_id) {
                (Some(a), _) => (Topic::CaseAssigned, vec![a]),
                (None, Some(grid)) => (Topic::CaseAssigned, self.holders(tx, Role::GridWorker, grid).await?),
                (None, None) => return Ok(None),
            },
            "reminder" => (Topic::CaseNearDeadline, assignee.into_iter().collect()),
            "overdue" => (Topic::CaseOverdue, assignee.into_iter().collect()),
            "escalate" => (Topic::CaseEscalated, self.escalation_staff(tx, k.community_id).await?),
            _ => return Ok(None),
        };
        if who.is_empty() {
            return Ok(None);
        }
        let path = format!("/cases/{id}");
        let mut params = Params::default().with("no", id.to_string());
        if topic == Topic::CaseNearDeadline {
            let due = k.due_at.map(|d| to_local(d).format("%m-%d %H:%M").to_string()).unwrap_or_default();
            params = params.with("due", due);
        }
        let params = self.link_to(params, path);
        let groups = match topic.audience() {
            Audience::Staff | Audience::Everyone => {
                let mut paths = vec![k.community_path.as_str()];
                if k.org_path != k.community_path {
                    paths.push(k.org_path.as_str());
                }
                notify::groups_over(tx, &paths).await?.into_iter().map(|g| (g.id, g.kind)).collect()
            }
            Audience::Residents | Audience::Chosen | Audience::Asker => vec![],
        };
        Ok(Some(Told {
            event_key: format!("outbox:{}", e.id),
            topic,
            params,
            urgent: false,
            org_path: e.org_path.clone(),
            who,
            groups,
            channels: None,
        }))
    }

    /// A resident's own affair (a redemption ready), or news for where they
    /// live (a vote open on their building, a notice published): told if it
    /// still holds when the dispatcher comes to it.
    async fn residents_told(&self, tx: &mut Tx, e: &cases::OutboxEntry) -> Result<Option<Told>> {
        let Some(id) = e.object.split_once(':').and_then(|(_, i)| i.parse::<i64>().ok()) else { return Ok(None) };
        let (topic, path, who) = match e.event.as_str() {
            "redemption.ready" => {
                let Some(r) = shop::redemption(tx, id).await?.filter(|r| r.status == RedemptionStatus::Waiting) else {
                    return Ok(None);
                };
                (
                    Topic::RedemptionReady,
                    "/me/shop".to_owned(),
                    users::user_of_resident(tx, r.resident_id).await?.into_iter().collect(),
                )
            }
            "project.vote_open" => {
                if projects::get(tx, id).await?.is_none_or(|p| p.stage != Stage::Voting) {
                    return Ok(None);
                }
                let buildings: Vec<i64> = projects::buildings(tx, id).await?.iter().map(|b| b.id).collect();
                (
                    Topic::VoteOpen,
                    "/me/projects".to_owned(),
                    users::resident_accounts(tx, None, Some(&buildings)).await?,
                )
            }
            _ => {
                let now = self.now();
                let Some(n) = notices::get(tx, id)
                    .await?
                    .filter(|n| n.withdrawn_at.is_none() && n.publish_until.is_none_or(|u| u > now))
                else {
                    return Ok(None);
                };
                let grids = match n.grid_id {
                    Some(g) => vec![g],
                    None => org::children(tx, n.community_id).await?.iter().map(|g| g.id).collect(),
                };
                let buildings: Option<Vec<i64>> = n.building_id.map(|b| vec![b]);
                let who = users::resident_accounts(tx, Some(&grids), buildings.as_deref()).await?;
                (Topic::Notice, format!("/me/notices/{id}"), who)
            }
        };
        if who.is_empty() {
            return Ok(None);
        }
        Ok(Some(Told {
            event_key: format!("outbox:{}", e.id),
            topic,
            params: self.link_to(Params::default(), path),
            urgent: false,
            org_path: e.org_path.clone(),
            who: who.into_iter().map(Who::User).collect(),
            groups: vec![],
            channels: None,
        }))
    }

    /// Something asked for a decision: everyone who may decide it, over
    /// the community or above, but not the one who asked.
    async fn deciders_told(&self, tx: &mut Tx, e: &cases::OutboxEntry) -> Result<Option<Told>> {
        let Some((kind, id)) = e.object.split_once(':').and_then(|(k, i)| Some((AwaitingKind::from_code(k)?, i)))
        else {
            return Ok(None);
        };
        if !approvals::still_waiting(tx, kind, id).await? {
            return Ok(None);
        }
        let payload: serde_json::Value = serde_json::from_str(&e.payload)?;
        let Some(community) = payload["community"].as_i64() else { return Ok(None) };
        let asked_by = payload["asked_by"].as_i64();
        let mut orgs = Vec::new();
        let mut at = Some(community);
        while let Some(o) = at {
            orgs.push(o);
            at = org::by_id(tx, o).await?.parent_id;
        }
        let mut who = Vec::new();
        for role in approvals::deciders(kind) {
            for h in users::holders(tx, *role, &orgs).await? {
                if Some(h.user.id) != asked_by {
                    who.push(Who::User(h.user.id));
                }
            }
        }
        let mut seen = HashSet::new();
        who.retain(|w| seen.insert(*w));
        if who.is_empty() {
            return Ok(None);
        }
        let params = Params::default().with("what", kind.name_zh()).with("what_en", kind.name_en());
        Ok(Some(Told {
            event_key: format!("outbox:{}", e.id),
            topic: Topic::ApprovalAsked,
            params: self.link_to(params, "/approvals".to_owned()),
            urgent: false,
            org_path: e.org_path.clone(),
            who,
            groups: vec![],
            channels: None,
        }))
    }

    /// Adds the message's link: the full address for SMS and email, the
    /// path for the bell.
    pub(super) fn link_to(&self, params: Params, path: String) -> Params {
        params
            .with("link", format!("{}{path}", self.settings.notify.public_url.trim_end_matches('/')))
            .with("path", path)
    }

    /// An emergency broadcast: everyone living in its area, its grids'
    /// workers, its communities' secretaries and staff, the subdistrict's
    /// officers for a subdistrict-wide one, and the work groups of them all.
    async fn broadcast_told(&self, tx: &mut Tx, e: &cases::OutboxEntry) -> Result<Option<Told>> {
        let Some(id) = e.object.strip_prefix("broadcast:").and_then(|i| i.parse::<i64>().ok()) else {
            return Ok(None);
        };
        // one ended before it was fanned out tells nobody
        let Some(b) = broadcasts::get(tx, id).await?.filter(|b| b.state == BroadcastState::Active) else {
            return Ok(None);
        };
        let mut who = Vec::new();
        for r in broadcasts::residents_in(tx, &b).await? {
            match r.user_id {
                Some(u) => who.push(Who::User(u)),
                None if r.has_phone => who.push(Who::Resident(r.resident_id)),
                None => {}
            }
        }
        let grids = b.grids();
        let (grid_paths, communities) = broadcasts::paths_of_grids(tx, &grids).await?;
        let community_ids: Vec<i64> = communities.iter().map(|(id, _)| *id).collect();
        for h in users::holders(tx, Role::GridWorker, &grids).await? {
            who.push(Who::User(h.user.id));
        }
        for role in [Role::Secretary, Role::CommunityStaff] {
            for h in users::holders(tx, role, &community_ids).await? {
                who.push(Who::User(h.user.id));
            }
        }
        if b.area == Area::Subdistrict {
            who.extend(self.holders(tx, Role::StreetOfficer, b.org_id).await?);
        }
        let mut seen = HashSet::new();
        who.retain(|w| seen.insert(*w));
        let mut paths: Vec<&str> = communities.iter().map(|(_, p)| p.as_str()).collect();
        paths.extend(grid_paths.iter().map(String::as_str));
        let groups = notify::groups_over(tx, &paths).await?.into_iter().map(|g| (g.id, g.kind)).collect();
        let path = format!("/broadcasts/{id}");
        let params = Params::default()
            .with("level", b.level.name_zh())
            .with("level_en", b.level.name_en())
            .with("reason", b.reason.clone());
        let params = self.link_to(params, path);
        Ok(Some(Told {
            event_key: format!("broadcast:{id}"),
            topic: Topic::Emergency,
            params,
            urgent: true,
            org_path: e.org_path.clone(),
            who,
            groups,
            channels: None,
        }))
    }

    async fn holders(&self, tx: &mut Tx, role: Role, org_id: i64) -> Result<Vec<Who>> {
        Ok(users::holders(tx, role, &[org_id]).await?.into_iter().map(|h| Who::User(h.user.id)).collect())
    }

    /// The community's secretaries and its subdistrict's street officers.
    async fn escalation_staff(&self, tx: &mut Tx, community_id: i64) -> Result<Vec<Who>> {
        let mut who = self.holders(tx, Role::Secretary, community_id).await?;
        if let Some(parent) = org::by_id(tx, community_id).await?.parent_id {
            who.extend(self.holders(tx, Role::StreetOfficer, parent).await?);
        }
        Ok(who)
    }

    /// Writes the in-app messages and queues a delivery per person and
    /// chosen outbound channel that has an address; answers the counts.
    pub(super) async fn queue(&self, tx: &mut Tx, told: &[Told], now: i64) -> Result<(u64, u64)> {
        let ids: Vec<i64> = told
            .iter()
            .flat_map(|t| t.who.iter())
            .filter_map(|w| match w {
                Who::User(u) => Some(*u),
                Who::Reporter(_) | Who::Resident(_) => None,
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let people = users::notify_profiles(tx, &ids).await?;
        let people: HashMap<i64, users::NotifyProfile> = people.into_iter().map(|p| (p.id, p)).collect();
        let settings: HashMap<i64, notify::Settings> =
            notify::settings_of(tx, &ids).await?.into_iter().map(|s| (s.user_id, s)).collect();
        let mut chosen: HashMap<(i64, Topic), Vec<NotifyChannel>> = HashMap::new();
        let mut daily: HashSet<(i64, Topic)> = HashSet::new();
        for (u, topic, stored, digest) in notify::choices_of(tx, &ids).await? {
            chosen.insert((u, topic), decode_channels(&stored)?);
            if digest {
                daily.insert((u, topic));
            }
        }
        let params: Vec<String> = told
            .iter()
            .map(|t| serde_json::to_string(&t.params))
            .collect::<Result<_, _>>()
            .map_err(|e| ServiceError::caused("message params", e))?;
        let mut messages = Vec::new();
        let mut deliveries = Vec::new();
        for (t, params) in told.iter().zip(&params) {
            for who in &t.who {
                let (recipient, channels, quiet, sms_at, email_at) = match who {
                    Who::User(u) => {
                        let Some(p) = people.get(u).filter(|p| p.disabled_at.is_none()) else { continue };
                        let mut channels = t.channels.clone().unwrap_or_else(|| {
                            chosen.get(&(*u, t.topic)).cloned().unwrap_or_else(|| t.topic.default_channels().to_vec())
                        });
                        // chosen daily: in the bell now, by SMS and email in the morning's summary
                        if !t.urgent && daily.contains(&(*u, t.topic)) {
                            channels = vec![NotifyChannel::InApp];
                        }
                        let s = settings.get(u);
                        let quiet =
                            s.map_or(QuietHours::default(), |s| QuietHours { from: s.quiet_from, to: s.quiet_to });
                        let sms = match (p.resident_id, &p.work_phone) {
                            (Some(r), _) => Some(format!("resident:{r}")),
                            (None, Some(_)) => Some(format!("staff:{u}")),
                            (None, None) => None,
                        };
                        let email = s.and_then(|s| s.email_sealed.as_ref()).map(|_| format!("email:{u}"));
                        (format!("user:{u}"), channels, quiet, sms, email)
                    }
                    Who::Reporter(case) => (
                        format!("case:{case}:reporter"),
                        t.topic.default_channels().to_vec(),
                        QuietHours::default(),
                        Some(format!("case:{case}")),
                        None,
                    ),
                    Who::Resident(r) => (
                        format!("resident:{r}"),
                        t.topic.default_channels().to_vec(),
                        QuietHours::default(),
                        Some(format!("resident:{r}")),
                        None,
                    ),
                };
                if let Who::User(u) = who
                    && channels.contains(&NotifyChannel::InApp)
                {
                    messages.push(NewMessage {
                        user_id: *u,
                        event_key: &t.event_key,
                        topic: t.topic,
                        params,
                        urgent: t.urgent,
                        now,
                    });
                }
                let next_at = if t.urgent { now } else { quiet.release(now) };
                for channel in NotifyChannel::OUTBOUND {
                    let address = match channel {
                        NotifyChannel::Sms => sms_at.clone(),
                        NotifyChannel::Email => email_at.clone(),
                        _ => None,
                    };
                    let Some(address_ref) = address.filter(|_| channels.contains(&channel)) else { continue };
                    if self.senders.of(channel).is_none() {
                        continue;
                    }
                    deliveries.push(NewDelivery {
                        message_id: uuid::Uuid::now_v7().simple().to_string(),
                        event_key: &t.event_key,
                        recipient: recipient.clone(),
                        user_id: match who {
                            Who::User(u) => Some(*u),
                            Who::Reporter(_) | Who::Resident(_) => None,
                        },
                        channel,
                        topic: t.topic,
                        params,
                        urgent: t.urgent,
                        org_path: &t.org_path,
                        address_ref,
                        next_at,
                        now,
                    });
                }
            }
        }
        for (t, params) in told.iter().zip(&params) {
            for (group, kind) in &t.groups {
                deliveries.push(NewDelivery {
                    message_id: uuid::Uuid::now_v7().simple().to_string(),
                    event_key: &t.event_key,
                    recipient: format!("group:{group}"),
                    user_id: None,
                    channel: *kind,
                    topic: t.topic,
                    params,
                    urgent: t.urgent,
                    org_path: &t.org_path,
                    address_ref: format!("group:{group}"),
                    next_at: if t.urgent { now } else { QuietHours::default().release(now) },
                    now,
                });
            }
        }
        let m = notify::insert_messages(tx, &messages).await?;
        let d = notify::insert_deliveries(tx, &deliveries).await?;
        Ok((m, d))
    }

    /// Claims what is due and sends it, a batch at a time, many at once.
    pub async fn send_due(&self, runner: &str) -> Result<Dispatched> {
        let now = self.now();
        let mut tx = self.db.write().await?;
        let batch = notify::claim(&mut tx, runner, now, now + LEASE_MS, SEND_BATCH).await?;
        tx.commit().await?;
        if batch.is_empty() {
            return Ok(Dispatched::default());
        }
        // one person's messages through one channel go in order (accepted
        // before resolved); different people's go at once
        let mut groups: Vec<Vec<notify::Delivery>> = Vec::new();
        let mut index: HashMap<(String, NotifyChannel), usize> = HashMap::new();
        for d in batch {
            let key = (d.recipient.clone(), d.channel);
            let i = *index.entry(key).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[i].push(d);
        }
        // SMS to each phone today, before this batch and in it, for the daily cap
        let counted: std::sync::Mutex<HashMap<String, i64>> = std::sync::Mutex::default();
        let counted = &counted;
        let started = std::time::Instant::now();
        // what has come back is recorded together, one commit for many,
        // while the rest are still being sent
        let (back, mut results) = tokio::sync::mpsc::unbounded_channel();
        let send = async move {
            futures_util::stream::iter(groups)
                .map(|group| async move {
                    let mut out = Vec::with_capacity(group.len());
                    for d in group {
                        // a send takes at most 15 s: none starts after half
                        // the lease, so none is still going when another
                        // server may take it; what is left goes back to the
                        // queue, now
                        if started.elapsed() > std::time::Duration::from_millis((LEASE_MS / 2) as u64) {
                            out.push((d, None));
                            continue;
                        }
                        let a = self.attempt(&d, counted).await;
                        out.push((d, Some(a)));
                    }
                    out
                })
                .buffer_unordered(IN_FLIGHT)
                .for_each(|out| {
                    for tried in out {
                        // the receiver lives until every sender is done
                        let _ = back.send(tried);
                    }
                    std::future::ready(())
                })
                .await;
        };
        let keep = async {
            let mut settled = Vec::new();
            let mut tried = Vec::with_capacity(SETTLE_BATCH);
            while results.recv_many(&mut tried, SETTLE_BATCH).await > 0 {
                settled.push(self.record_attempts(&tried, runner).await);
                tried.clear();
            }
            settled
        };
        let ((), settled) = tokio::join!(send, keep);
        let mut done = Dispatched::default();
        let mut sent_ids = Vec::new();
        for s in settled.into_iter().map(|s| s.map(Vec::into_iter)).collect::<Result<Vec<_>>>()?.into_iter().flatten() {
            match s {
                Settled::Sent(id) => {
                    done.sent += 1;
                    sent_ids.push(id);
                }
                Settled::Retried => done.retried += 1,
                Settled::Parked => done.parked += 1,
                Settled::Failed => done.failed += 1,
                Settled::Released | Settled::Lost => {}
            }
        }
        if !sent_ids.is_empty() {
            let now = self.now();
            let mut tx = self.db.write().await?;
            let e = Event::ok("notify_sent", "deliveries".into(), "/root/");
            record(&mut tx, &Caller::system(), now, &e.with(json!({ "deliveries": sent_ids }))).await?;
            tx.commit().await?;
        }
        Ok(done)
    }

    /// Records what became of the tries that have come back, in one
    /// transaction (`None`: not tried, queued again). A server that dies
    /// before it commits leaves them `sending`: sent again, under the same
    /// message ids, when the lease ends.
    async fn record_attempts(
        &self,
        tried: &[(notify::Delivery, Option<Attempt>)],
        runner: &str,
    ) -> Result<Vec<Settled>> {
        let now = self.now();
        let mut tx = self.db.write().await?;
        let mut out = Vec::with_capacity(tried.len());
        for (d, a) in tried {
            let Some(a) = a else {
                let later = Outcome::Later { at: now, error: None, counts: false };
                notify::settle(&mut tx, d.id, runner, (None, None), later, now).await?;
                out.push(Settled::Released);
                continue;
            };
            let address = (a.masked.as_deref(), a.index.as_deref());
            let (outcome, kind) = match &a.result {
                Ok(Ok(provider_id)) => (Outcome::Sent { provider_id }, Settled::Sent(d.id)),
                Ok(Err(SendError::Retry(why))) if d.attempts < self.settings.notify.attempts => {
                    let later = Outcome::Later { at: now + backoff(d.attempts), error: Some(why), counts: true };
                    (later, Settled::Retried)
                }
                Ok(Err(SendError::Retry(why))) => {
                    (Outcome::Ended { state: DeliveryState::Parked, error: why }, Settled::Parked)
                }
                Ok(Err(SendError::Refused(why))) | Err(why) => {
                    (Outcome::Ended { state: DeliveryState::Failed, error: why }, Settled::Failed)
                }
            };
            if notify::settle(&mut tx, d.id, runner, address, outcome, now).await? {
                out.push(kind);
            } else {
                tracing::warn!(delivery = d.id, "a delivery's lease ended while it was being sent");
                out.push(Settled::Lost);
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Looks up and unseals the address, checks the stop list and the cap,
    /// and sends.
    async fn attempt(&self, d: &notify::Delivery, counted: &std::sync::Mutex<HashMap<String, i64>>) -> Attempt {
        let mut a = Attempt { masked: None, index: None, result: Err(String::new()) };
        a.result = match self.address(d, &mut a, counted).await {
            Ok(Some((to, secret))) => match self.senders.of(d.channel) {
                Some(sender) => {
                    let params: Params = serde_json::from_str(&d.params).unwrap_or_default();
                    let m = Outgoing {
                        message_id: &d.message_id,
                        to: &to,
                        topic: d.topic,
                        params: &params,
                        secret: secret.as_deref(),
                    };
                    // a provider's answer may quote the address: the log keeps it masked
                    let masked = a.masked.clone().unwrap_or_else(|| "***".into());
                    let scrub = |why: String| why.replace(&format!("+86{to}"), &masked).replace(to.as_str(), &masked);
                    Ok(sender.send(&m).await.map_err(|e| match e {
                        SendError::Retry(why) => SendError::Retry(scrub(why)),
                        SendError::Refused(why) => SendError::Refused(scrub(why)),
                    }))
                }
                None => Err("没有配置此渠道 / this channel is not set up".into()),
            },
            Ok(None) => Err(a.result.err().filter(|e| !e.is_empty()).unwrap_or_else(|| "没有地址 / no address".into())),
            Err(e) => Ok(Err(SendError::Retry(format!("lookup: {e}")))),
        };
        a
    }

    /// The address to send to, unsealed here and nowhere else; `None` with
    /// the reason in `a.result` when the message must not go.
    async fn address(
        &self,
        d: &notify::Delivery,
        a: &mut Attempt,
        counted: &std::sync::Mutex<HashMap<String, i64>>,
    ) -> Result<Option<(String, Option<String>)>> {
        let mut tx = self.db.conn().await?;
        let (kind, id) = d.address_ref.split_once(':').unwrap_or_default();
        let id: i64 = id.parse().unwrap_or_default();
        if kind == "group" {
            let Some(g) = notify::group(&mut tx, id).await? else {
                a.result = Err("工作群已移除 / the work group was removed".into());
                return Ok(None);
            };
            let aad = super::aad_group(g.org_id, &g.name);
            let url = self.keys.open(&aad, &g.url_sealed)?;
            let secret = g.secret_sealed.map(|s| self.keys.open(&aad, &s)).transpose()?;
            a.masked = Some(format!("{} · {}", g.org_name, g.name));
            return Ok(Some((url, secret)));
        }
        let plain = match kind {
            "resident" => match users::resident_phone(&mut tx, id).await? {
                Some((uid, Some(sealed), own)) => {
                    let own = own.map(|w| self.keys.unwrap_data_key(&uid, &w)).transpose()?;
                    Some(self.keys.open_with(own.as_ref(), &crate::registry::aad_phone(&uid), &sealed)?)
                }
                _ => None,
            },
            "case" => match cases::get(&mut tx, id).await? {
                Some(k) => match (&k.reporter_phone_sealed, &k.token) {
                    (Some(sealed), Some(token)) => Some(self.keys.open(&crate::cases::aad_phone(token), sealed)?),
                    _ => None,
                },
                None => None,
            },
            "staff" => users::find_by_id(&mut tx, id).await?.and_then(|u| u.work_phone),
            "email" => match notify::settings_of(&mut tx, &[id]).await?.into_iter().next() {
                Some(s) => match s.email_sealed {
                    Some(sealed) => Some(self.keys.open(&aad_email(id), &sealed)?),
                    None => None,
                },
                None => None,
            },
            _ => None,
        };
        let Some(plain) = plain else { return Ok(None) };
        if d.channel == NotifyChannel::Email {
            a.masked = Some(super::mask_email(&plain));
            return Ok(Some((plain, None)));
        }
        let phone = match Phone::parse(&plain) {
            Ok(p @ Phone::Mobile(_)) => p,
            Ok(p) => {
                a.masked = Some(p.masked());
                a.result = Err("不是手机号,不能收短信 / not a mobile number".into());
                return Ok(None);
            }
            Err(_) => return Ok(None),
        };
        let normalized = phone.normalized();
        let index = self.keys.blind("phone", &normalized)?;
        a.masked = Some(phone.masked());
        a.index = Some(index.clone());
        if notify::sms_stopped(&mut tx, &index).await? {
            a.result = Err("已退订短信 / SMS stopped by the recipient".into());
            return Ok(None);
        }
        // an emergency is not held back by the cap: no need to count
        if d.urgent {
            return Ok(Some((normalized, None)));
        }
        // what went to this phone today before this batch, read once: the
        // batch's own sends are committed while it runs and counted here
        let seen = counted.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains_key(&index);
        let before = match seen {
            true => 0,
            false => notify::sent_to(&mut tx, &index, start_of_day(to_local(self.now()).date_naive())).await?,
        };
        // counted as sent from here: a failure to send costs a slot of the day
        let used = {
            let mut c = counted.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let n = c.entry(index.clone()).or_insert(before);
            *n += 1;
            *n - 1
        };
        let cap = self.settings.notify.sms_daily_cap;
        if used >= cap {
            a.result = Err(format!("已达每日上限 {cap} 条 / the daily cap is reached"));
            return Ok(None);
        }
        Ok(Some((normalized, None)))
    }
}

/// What one delivery of a batch came to.
enum Settled {
    Sent(i64),
    Retried,
    Parked,
    Failed,
    /// Not tried: the batch ran out of time, and it is queued again.
    Released,
    /// Another server holds it now (this one's lease ended).
    Lost,
}

/// What became of one try: the masked address and the phone's blind
/// index when known, and the provider's answer, or why it was not sent
/// (`Err`).
struct Attempt {
    masked: Option<String>,
    index: Option<String>,
    result: std::result::Result<std::result::Result<String, SendError>, String>,
}
