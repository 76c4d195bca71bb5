//! A resident's life in the registry: moved away, deceased, back again.
//! Each change is dated, with its reason and source, written into the
//! record's history and the audit log, and does at once what it means:
//! off the walk list, the counts and the coverage, the account disabled,
//! family links ended, the points settled by the published rule, and for
//! a death the requests they filed closed with a note. Back on the
//! register, they are planned again and an account the change disabled
//! is enabled again; the history stays.

use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::case::CaseKind;
use yijia_domain::life::{self as rules, Change, Informant, Status};
use yijia_domain::points::{Leg, TransferKind};
use yijia_domain::shop::RedemptionStatus;
use yijia_domain::station::AppointmentStatus;
use yijia_store::{Tx, cases, points, proxies, residents, sessions, shop, stations, users, visits};

use crate::audit::{Event, record};
use crate::roles::{LIFE_READERS, REGISTRARS};
use crate::visits::FirstDue;
use crate::{Caller, Result, ServiceError, Services};

/// A change to record.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct LifeInput {
    pub change: Change,
    /// The day it happened, `YYYY-MM-DD` (not after today).
    pub on: String,
    /// Why, 2–200 characters.
    pub reason: String,
    pub source: Informant,
    /// The record's version as read: the change is refused when it moved since.
    pub version: i64,
}

/// A change in the record's history.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LifeEventView {
    pub change: Change,
    pub on: String,
    pub reason: String,
    pub source: Informant,
    pub by_name: String,
    /// RFC 3339
    pub at: String,
    /// What the change did.
    pub effects: Effects,
}

/// What a change did, kept with it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Effects {
    /// The account it disabled (or, coming back, enabled again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<i64>,
    #[serde(default)]
    pub proxies_ended: usize,
    /// Points sent back to the community's pool.
    #[serde(default)]
    pub points_settled: i64,
    /// Requests they filed, closed (a death only).
    #[serde(default)]
    pub cases_closed: Vec<i64>,
    /// Shop redemptions waiting for pickup, cancelled (their points back
    /// before the balance is settled).
    #[serde(default)]
    pub redemptions_cancelled: usize,
    /// Station appointments still to come, cancelled.
    #[serde(default)]
    pub appointments_cancelled: usize,
}

/// The record's status after a change, and what it did.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LifeOutcome {
    pub status: Status,
    pub status_on: Option<String>,
    pub effects: Effects,
    pub version: i64,
}

/// A change's day checked: not after today, before the birth date or before
/// the record's last change.
pub(crate) fn checked_day(
    r: &residents::Resident,
    before: &[residents::LifeEvent],
    on: &str,
    now: i64,
) -> Result<String> {
    let today = yijia_domain::time::to_local(now).date_naive();
    let birth = r.birth_date.as_deref().and_then(|b| chrono::NaiveDate::parse_from_str(b, "%Y-%m-%d").ok());
    let last = before.last().and_then(|e| chrono::NaiveDate::parse_from_str(&e.on_date, "%Y-%m-%d").ok());
    Ok(rules::change_date(on, birth, last, today)?.format("%Y-%m-%d").to_string())
}

/// A record's life events, oldest first, read in the caller's transaction.
pub(crate) async fn events_of(tx: &mut Tx, id: i64) -> Result<Vec<LifeEventView>> {
    residents::life_of(tx, id).await?.into_iter().map(event_view).collect()
}

fn event_view(e: residents::LifeEvent) -> Result<LifeEventView> {
    Ok(LifeEventView {
        change: e.kind,
        on: e.on_date,
        reason: e.reason,
        source: e.source,
        by_name: e.by_name,
        at: yijia_domain::time::rfc3339(e.at),
        effects: serde_json::from_str(&e.detail)?,
    })
}

/// Refuses what only a person on the register can be given (an account,
/// a family link): someone who moved away or died.
pub(crate) fn on_register(r: &residents::Resident) -> Result<()> {
    match r.status {
        Status::Present => Ok(()),
        s => Err(ServiceError::conflict(
            format!("这位居民{},不在册", s.name_zh()),
            format!("this resident is not on the register ({})", s.name_en().to_lowercase()),
        )),
    }
}

impl Services {
    /// Records a change in a resident's life and does what it means, in one
    /// transaction.
    pub async fn change_life(&self, caller: &Caller, id: i64, input: LifeInput) -> Result<LifeOutcome> {
        let r = self.resident_to_change(caller, id, REGISTRARS, "resident_life").await?;
        if !input.change.by_hand() {
            return Err(ServiceError::invalid(
                "change",
                "社区内迁居和转至其他社区另行办理,不在这里登记",
                "a move or a transfer is recorded on its own, not here",
            ));
        }
        input.change.allowed_from(r.status)?;
        let now = self.now();
        let reason = rules::change_reason(&input.reason)?;
        let mut tx = self.db.write().await?;
        let before = residents::life_of(&mut tx, id).await?;
        let on = checked_day(&r, &before, &input.on, now)?;
        let leaving = input.change.to() != Status::Present;
        let mut effects = Effects::default();
        // sessions whose cached grants change, dropped once the change is in
        let mut forget: Vec<i64> = Vec::new();
        if leaving {
            visits::end_plan(&mut tx, id).await?;
            if let Some(uid) = users::user_of_resident(&mut tx, id).await?
                && users::by_id(&mut tx, uid).await?.disabled_at.is_none()
            {
                users::set_disabled(&mut tx, uid, Some(now)).await?;
                sessions::delete_for_user(&mut tx, uid).await?;
                effects.account = Some(uid);
                forget.push(uid);
            }
            for p in proxies::of_resident(&mut tx, id).await? {
                let why = format!("居民{}", input.change.name_zh());
                if proxies::end(&mut tx, p.id, &caller.display_name, &why, now).await? {
                    effects.proxies_ended += 1;
                    // their own account stays theirs: only what it held for him goes
                    forget.extend(p.user_id);
                }
            }
            let why = format!("居民{},兑换取消", input.change.name_zh());
            self.settle_with_community(&mut tx, caller, &r, &why, now, &mut effects).await?;
            if input.change == Change::Deceased {
                let user = users::user_of_resident(&mut tx, id).await?;
                let mut open = Vec::new();
                for kind in CaseKind::ALL.into_iter().filter(|k| rules::closes_at_death(*k)) {
                    open.extend(cases::open_filed_for(&mut tx, id, user, kind).await?);
                }
                for k in open {
                    if crate::cases::close_for(&mut tx, caller, k, rules::DECEASED_NOTE, "resident_deceased", now)
                        .await?
                    {
                        effects.cases_closed.push(k);
                    }
                }
            }
        } else {
            // the account a change since the last return disabled (moved
            // away, then recorded dead, say) comes back with the person
            let mut disabled = Vec::new();
            for e in before.iter().rev().take_while(|e| e.kind != Change::Returned) {
                disabled.extend(serde_json::from_str::<Effects>(&e.detail)?.account);
            }
            if let Some(uid) = users::user_of_resident(&mut tx, id).await?.filter(|u| disabled.contains(u)) {
                users::set_disabled(&mut tx, uid, None).await?;
                effects.account = Some(uid);
            }
        }
        let detail = serde_json::to_string(&effects)?;
        let e = residents::NewLifeEvent {
            resident_id: id,
            kind: input.change,
            on_date: &on,
            reason: &reason,
            source: input.source,
            detail: &detail,
            by_user: &caller.username,
            by_name: &caller.display_name,
            at: now,
        };
        if !residents::change_status(&mut tx, input.version, &e).await? {
            return Err(ServiceError::conflict(
                "这条记录刚被别人改过,请刷新后再试",
                "someone else changed this record meanwhile; reload it and try again",
            ));
        }
        if !leaving {
            self.replan(&mut tx, visits::Whose::Residents(&[id]), FirstDue::Today).await?;
        }
        let ev = Event::ok("resident_life", format!("resident:{id}"), &r.grid_path).with(json!({
            "change": input.change, "on": on, "source": input.source, "effects": effects,
        }));
        record(&mut tx, caller, now, &ev).await?;
        let after = residents::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        for uid in forget {
            self.sessions.remove_user(uid);
        }
        Ok(LifeOutcome { status: after.status, status_on: after.status_on, effects, version: after.version })
    }

    /// A resident's life events, oldest first.
    /// For the record's page: the life events when the caller may read
    /// them there (not a station clerk), else none, and no refusal.
    pub async fn life_on_page(&self, caller: &Caller, id: i64) -> Result<Vec<LifeEventView>> {
        let mut conn = self.db.conn().await?;
        let r = residents::get(&mut conn, id).await?.ok_or(ServiceError::NotFound)?;
        drop(conn);
        if !caller.covers(LIFE_READERS, &r.grid_path) {
            return Ok(vec![]);
        }
        self.life_of(caller, id).await
    }

    /// Reading the reasons is audited (`resident_life_read`) when there are
    /// any; a station clerk does not read them.
    pub async fn life_of(&self, caller: &Caller, id: i64) -> Result<Vec<LifeEventView>> {
        let r = self.resident_in_scope(caller, id, LIFE_READERS, "resident_life_read").await?;
        let mut tx = self.db.write().await?;
        let list = residents::life_of(&mut tx, id).await?;
        if !list.is_empty() {
            let e = Event::ok("resident_life_read", format!("resident:{id}"), &r.grid_path);
            record(&mut tx, caller, self.now(), &e).await?;
        }
        tx.commit().await?;
        list.into_iter().map(event_view).collect()
    }

    /// What leaving a community's books means, in the caller's transaction:
    /// its shop's waiting redemptions and its stations' coming appointments
    /// cancelled (the points back first), then the balance settled by the
    /// published rule.
    pub(crate) async fn settle_with_community(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        r: &residents::Resident,
        why: &str,
        now: i64,
        effects: &mut Effects,
    ) -> Result<()> {
        for w in shop::of_resident(tx, r.id, 500).await? {
            if w.status == RedemptionStatus::Waiting
                && crate::shop::cancel_waiting(tx, caller, &w, why, now).await?.is_some()
            {
                effects.redemptions_cancelled += 1;
            }
        }
        for a in stations::resident_appointments(tx, r.id, now).await? {
            if a.status == AppointmentStatus::Booked
                && stations::set_appointment_status(tx, a.id, AppointmentStatus::Cancelled, now).await?
            {
                effects.appointments_cancelled += 1;
            }
        }
        effects.points_settled = self.settle_points(tx, caller, r, now).await?;
        Ok(())
    }

    /// The published rule: the balance back to the community's pool, in one
    /// transfer; how many points moved.
    async fn settle_points(&self, tx: &mut Tx, caller: &Caller, r: &residents::Resident, now: i64) -> Result<i64> {
        let Some(found) = points::account_of_resident(tx, r.id).await? else { return Ok(0) };
        // the balance as locked, not as read before a redemption landed
        let Some(account) = points::lock_accounts(tx, &[found.id]).await?.into_iter().next() else { return Ok(0) };
        if account.balance <= 0 {
            return Ok(0);
        }
        let pool = points::ensure_account(tx, account.community_id, "pool", None, now).await?;
        let client_id = format!("life:{}:{now}", r.id);
        let leg = Leg {
            debit: account.id,
            credit: pool.id,
            amount: account.balance,
            kind: TransferKind::Adjust,
            memo: "居民迁出或去世,积分按规则转回社区积分池".to_owned(),
        };
        let req = crate::points::Req { client_id: &client_id, fp: &client_id, community_id: account.community_id };
        match crate::points::post(tx, caller, req, &[(leg, None)], now).await? {
            crate::points::Applied::Done(_) => Ok(account.balance),
            _ => Err(ServiceError::conflict("积分结算没有完成,请重试", "the points could not be settled; try again")),
        }
    }
}
