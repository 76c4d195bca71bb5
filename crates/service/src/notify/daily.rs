//! What is told by the clock rather than on an event: tomorrow's
//! appointments in the evening; in the morning each grid worker's,
//! secretary's and street officer's digest, on Mondays each grid worker's
//! visits overdue, and everyone's summary of the topics they chose daily.
//! A message's key holds its day, so a job run twice tells nobody twice.

use std::collections::HashMap;

use chrono::{Datelike, Days, Timelike, Weekday};
use yijia_domain::notify::{NotifyChannel, Params, Topic};
use yijia_domain::role::Role;
use yijia_domain::time::{DAY_MS, start_of_day, to_local};
use yijia_store::{dashboard, notify, org, stations, users, visits};

use super::dispatch::{Dispatched, Told, Who};
use crate::{Caller, Result, Services};

/// Who gets the daily digest.
const DIGESTED: &[Role] = &[Role::GridWorker, Role::Secretary, Role::StreetOfficer];
/// A digest not sent by noon (the server was down) waits for tomorrow's.
const DIGEST_LAST_HOUR: u32 = 12;

/// One person's morning figures, over their whole scope.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Figures {
    late: i64,
    near: i64,
    approvals: i64,
    visits: i64,
}

impl Services {
    /// Tells each resident with an account of tomorrow's appointments.
    pub async fn tell_appointments_tomorrow(&self) -> Result<Dispatched> {
        let now = self.now();
        let Some(tomorrow) = to_local(now).date_naive().checked_add_days(Days::new(1)) else {
            return Ok(Dispatched::default());
        };
        let from = start_of_day(tomorrow);
        let mut tx = self.db.write().await?;
        let mut paths: HashMap<i64, String> = HashMap::new();
        let mut told = Vec::new();
        for a in stations::booked_between(&mut tx, from, from + DAY_MS).await? {
            let Some(user) = users::user_of_resident(&mut tx, a.resident_id).await? else { continue };
            let org_path = match paths.get(&a.station_id) {
                Some(p) => p.clone(),
                None => {
                    let Some(s) = stations::station(&mut tx, a.station_id).await? else { continue };
                    let p = org::by_id(&mut tx, s.community_id).await?.path;
                    paths.insert(a.station_id, p.clone());
                    p
                }
            };
            let when = to_local(a.starts_at).format("%m-%d %H:%M").to_string();
            told.push(Told {
                event_key: format!("appointment:{}:tomorrow", a.id),
                topic: Topic::AppointmentTomorrow,
                params: self.link_to(Params::default().with("when", when), "/me/stations".to_owned()),
                urgent: false,
                org_path,
                who: vec![Who::User(user)],
                groups: vec![],
                channels: None,
            });
        }
        let (messages, queued) = self.queue(&mut tx, &told, now).await?;
        tx.commit().await?;
        Ok(Dispatched { messages, queued, ..Default::default() })
    }

    /// The morning: staff's digests and everyone's summary.
    pub async fn tell_morning(&self) -> Result<Dispatched> {
        if to_local(self.now()).hour() >= DIGEST_LAST_HOUR {
            return Ok(Dispatched::default());
        }
        let staff = self.tell_staff_morning().await?;
        let summaries = self.tell_summaries().await?;
        Ok(Dispatched {
            messages: staff.messages + summaries.messages,
            queued: staff.queued + summaries.queued,
            ..Default::default()
        })
    }

    /// Each person who chose topics daily: how many of the last day's
    /// messages about them are unread, once, on the SMS and email they chose
    /// for those topics (nothing when all are read).
    async fn tell_summaries(&self) -> Result<Dispatched> {
        let now = self.now();
        let today = to_local(now).date_naive();
        let mut tx = self.db.write().await?;
        let mut by_user: Vec<(i64, Vec<Topic>, Vec<NotifyChannel>)> = Vec::new();
        for (user, topic, stored) in notify::daily_choices(&mut tx).await? {
            let channels = super::decode_channels(&stored)?;
            if by_user.last().is_none_or(|(u, _, _)| *u != user) {
                by_user.push((user, vec![], vec![]));
            }
            if let Some((_, topics, outbound)) = by_user.last_mut() {
                topics.push(topic);
                for c in channels {
                    if NotifyChannel::OUTBOUND.contains(&c) && !outbound.contains(&c) {
                        outbound.push(c);
                    }
                }
            }
        }
        let mut told = Vec::new();
        for (user, topics, outbound) in by_user {
            if outbound.is_empty() {
                continue;
            }
            let count = notify::unread_since(&mut tx, user, &topics, now - DAY_MS).await?;
            if count == 0 {
                continue;
            }
            let org_path =
                users::grants_of(&mut tx, user).await?.into_iter().next().map_or("/".to_owned(), |g| g.org_path);
            told.push(Told {
                event_key: format!("summary:{today}"),
                topic: Topic::Summary,
                params: self.link_to(Params::default().with("count", count.to_string()), "/messages".to_owned()),
                urgent: false,
                org_path,
                who: vec![Who::User(user)],
                groups: vec![],
                channels: Some(outbound),
            });
        }
        let (messages, queued) = self.queue(&mut tx, &told, now).await?;
        tx.commit().await?;
        Ok(Dispatched { messages, queued, ..Default::default() })
    }

    /// The morning's digest for staff (only to those with something in
    /// it) and, on Mondays, each grid worker's visits overdue.
    async fn tell_staff_morning(&self) -> Result<Dispatched> {
        let now = self.now();
        let local = to_local(now);
        let today = local.date_naive();
        let Some(yesterday) = today.checked_sub_days(Days::new(1)) else { return Ok(Dispatched::default()) };
        let yesterday = yesterday.to_string();
        let grants = {
            let mut tx = self.db.read().await?;
            let g = users::grants_with(&mut tx, DIGESTED).await?;
            tx.commit().await?;
            g
        };
        let mut by_user: Vec<(i64, Vec<users::Grant>)> = Vec::new();
        for g in grants {
            match by_user.last_mut() {
                Some((u, gs)) if *u == g.user_id => gs.push(g),
                _ => by_user.push((g.user_id, vec![g])),
            }
        }
        let mut told = Vec::new();
        for (user, grants) in by_user {
            let caller = Caller { user_id: Some(user), grants: crate::auth::to_grants(grants), ..Caller::operator() };
            let paths = caller.scope_paths(DIGESTED);
            let mut f = Figures { approvals: self.approvals_waiting(&caller).await? as i64, ..Figures::default() };
            let mut own_visits = 0;
            {
                let mut tx = self.db.read().await?;
                for path in &paths {
                    for o in dashboard::open_cases(&mut tx, path, now).await? {
                        f.late += o.late;
                        f.near += o.near;
                    }
                    let grids = org::grids_under(&mut tx, path).await?;
                    let due: i64 = visits::due_counts(&mut tx, &grids, &yesterday).await?.iter().map(|(_, n)| n).sum();
                    f.visits += due;
                    if caller.grants.iter().any(|g| g.role == Role::GridWorker && g.org_path == *path) {
                        own_visits += due;
                    }
                }
                tx.commit().await?;
            }
            let org_path = paths.first().cloned().unwrap_or_default();
            if f != Figures::default() {
                let params = Params::default()
                    .with("late", f.late.to_string())
                    .with("near", f.near.to_string())
                    .with("approvals", f.approvals.to_string())
                    .with("visits", f.visits.to_string());
                told.push(Told {
                    event_key: format!("digest:{today}"),
                    topic: Topic::DailyDigest,
                    params: self.link_to(params, "/".to_owned()),
                    urgent: false,
                    org_path: org_path.clone(),
                    who: vec![Who::User(user)],
                    groups: vec![],
                    channels: None,
                });
            }
            if today.weekday() == Weekday::Mon && own_visits > 0 {
                told.push(Told {
                    event_key: format!("visits:{today}"),
                    topic: Topic::VisitsOverdue,
                    params: self.link_to(Params::default().with("count", own_visits.to_string()), "/walk".to_owned()),
                    urgent: false,
                    org_path,
                    who: vec![Who::User(user)],
                    groups: vec![],
                    channels: None,
                });
            }
        }
        let mut tx = self.db.write().await?;
        let (messages, queued) = self.queue(&mut tx, &told, now).await?;
        tx.commit().await?;
        Ok(Dispatched { messages, queued, ..Default::default() })
    }
}
