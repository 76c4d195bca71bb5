//! A resident who moves: within the community (another household, another
//! grid: the plan, the open requests and the walk list follow at once), or to
//! another community in yijia (a transfer the receiving community accepts:
//! the same record moves, with its categories and history, never typed
//! twice; the first community no longer sees it). Each is dated, with its
//! reason and source, in the record's history and the audit log.

use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::case::CaseKind;
use yijia_domain::life::{self as rules, Change, Informant, TransferState};
use yijia_domain::org::OrgKind;
use yijia_store::{Tx, cases, org, residents, transfers, users, visits};

use crate::audit::{Event, record};
use crate::life::Effects;
use crate::registry::HouseholdInput;
use crate::roles::{REGISTRARS, TRANSFER_DECIDERS};
use crate::visits::FirstDue;
use crate::{Caller, Result, ServiceError, Services};

/// A move within the community.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct MoveInput {
    /// The grid they move to, an org code of the same community (chengnan-g02).
    pub grid: String,
    pub household: HouseholdInput,
    /// The day they moved, `YYYY-MM-DD`.
    pub on: String,
    /// Why, 2–200 characters.
    pub reason: String,
    pub source: Informant,
    /// The record's version as read.
    pub version: i64,
}

/// Where the record is after a move, and what followed it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MoveOutcome {
    pub grid: String,
    pub grid_name: String,
    /// Open requests they filed that now belong to the new grid.
    pub cases_moved: Vec<i64>,
    pub version: i64,
}

/// A transfer to another community, asked by this one.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ResidentTransferInput {
    /// The community they move to, an org code (beiyuan).
    pub community: String,
    pub on: String,
    pub reason: String,
    pub source: Informant,
    /// The new address as you heard it, for the receiving community (up to 100 characters).
    #[serde(default)]
    pub address: String,
}

/// The receiving community places the resident.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TransferAccept {
    /// A grid of the receiving community.
    pub grid: String,
    pub household: HouseholdInput,
}

/// The receiving community says no, and why.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TransferRefuse {
    /// 2–200 characters.
    pub note: String,
}

/// A transfer between two communities.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ResidentTransfer {
    pub id: i64,
    pub resident_id: i64,
    pub resident_name: String,
    pub from_community: String,
    pub to_community: String,
    pub on: String,
    pub reason: String,
    pub source: Informant,
    pub new_address: String,
    pub state: TransferState,
    pub asked_by_name: String,
    /// RFC 3339
    pub asked_at: String,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
    /// Into a community of yours (yours to decide), else out of one.
    pub incoming: bool,
}

fn view(t: transfers::Transfer, incoming: bool) -> ResidentTransfer {
    ResidentTransfer {
        id: t.id,
        resident_id: t.resident_id,
        resident_name: t.resident_name,
        from_community: t.from_name,
        to_community: t.to_name,
        on: t.on_date,
        reason: t.reason,
        source: t.source,
        new_address: t.new_address,
        state: t.state,
        asked_by_name: t.asked_by_name,
        asked_at: yijia_domain::time::rfc3339(t.asked_at),
        decided_by_name: t.decided_by_name,
        decided_at: t.decided_at.map(yijia_domain::time::rfc3339),
        decision_note: t.decision_note,
        incoming,
    }
}

fn stale() -> ServiceError {
    ServiceError::conflict(
        "这条记录刚被别人改过,请刷新后再试",
        "someone else changed this record meanwhile; reload it and try again",
    )
}

/// A grid by code, of the given community; anything else names the field.
async fn grid_of(tx: &mut Tx, code: &str, community_id: i64) -> Result<org::OrgNode> {
    match org::by_code(tx, code.trim()).await? {
        Some(g) if g.kind == OrgKind::Grid && g.parent_id == Some(community_id) => Ok(g),
        _ => Err(ServiceError::invalid(
            "grid",
            format!("「{code}」不是这个社区的网格"),
            format!("'{code}' is not a grid of this community"),
        )),
    }
}

impl Services {
    /// Moves a resident to another household or grid of his community, in
    /// one transaction: the record, his plan (due again from that day), his
    /// open requests and his account's grant follow.
    pub async fn move_resident(&self, caller: &Caller, id: i64, input: MoveInput) -> Result<MoveOutcome> {
        let r = self.resident_to_change(caller, id, REGISTRARS, "resident_move").await?;
        Change::Moved.allowed_from(r.status)?;
        let reason = rules::change_reason(&input.reason)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let before = residents::life_of(&mut tx, id).await?;
        let on = crate::life::checked_day(&r, &before, &input.on, now)?;
        let from = org::by_id(&mut tx, r.grid_id).await?;
        let community = from.parent_id.ok_or(ServiceError::NotFound)?;
        let to = grid_of(&mut tx, &input.grid, community).await?;
        if !caller.covers(REGISTRARS, &to.path) {
            return Err(ServiceError::invalid(
                "grid",
                "您只能把居民迁到您负责的网格",
                "you can move a resident only into a grid of yours",
            ));
        }
        let household = self.household(&mut tx, &to, &input.household, now).await?;
        let user = users::user_of_resident(&mut tx, id).await?;
        let mut moved = Vec::new();
        if to.id != from.id {
            moved = cases::move_open_filed(&mut tx, id, user, CaseKind::Request, from.id, to.id, &to.path).await?;
            visits::move_plan(&mut tx, id, to.id).await?;
            if let Some(u) = user {
                users::move_resident_grants(&mut tx, u, from.id, to.id).await?;
            }
        }
        let detail = json!({ "from_grid": from.code, "to_grid": to.code, "cases_moved": moved }).to_string();
        let e = residents::NewLifeEvent {
            resident_id: id,
            kind: Change::Moved,
            on_date: &on,
            reason: &reason,
            source: input.source,
            detail: &detail,
            by_user: &caller.username,
            by_name: &caller.display_name,
            at: now,
        };
        if !residents::move_to(&mut tx, input.version, to.id, Some(household), &e).await? {
            return Err(stale());
        }
        self.replan(&mut tx, visits::Whose::Residents(&[id]), FirstDue::Today).await?;
        let ev = Event::ok("resident_move", format!("resident:{id}"), &to.path).with(json!({
            "from": from.code, "to": to.code, "on": on, "cases_moved": moved,
        }));
        record(&mut tx, caller, now, &ev).await?;
        let after = residents::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        if let Some(u) = user {
            self.sessions.remove_user(u);
        }
        Ok(MoveOutcome { grid: to.code, grid_name: to.name, cases_moved: moved, version: after.version })
    }

    /// Asks another community to take a resident over; he stays here until
    /// it accepts. One waiting transfer a resident.
    pub async fn request_transfer(
        &self,
        caller: &Caller,
        id: i64,
        input: ResidentTransferInput,
    ) -> Result<ResidentTransfer> {
        let r = self.resident_to_change(caller, id, REGISTRARS, "transfer_request").await?;
        Change::Transferred.allowed_from(r.status)?;
        let reason = rules::change_reason(&input.reason)?;
        let address = input.address.trim();
        if address.chars().count() > 100 || address.chars().any(char::is_control) {
            return Err(ServiceError::invalid(
                "address",
                "新住址最多 100 字",
                "the new address: at most 100 characters",
            ));
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        let before = residents::life_of(&mut tx, id).await?;
        let on = crate::life::checked_day(&r, &before, &input.on, now)?;
        let from = crate::org::community_of(&mut tx, &r.grid_path).await?.ok_or(ServiceError::NotFound)?;
        let to = match org::by_code(&mut tx, input.community.trim()).await? {
            Some(c) if c.kind == OrgKind::Community && c.id != from.id => c,
            _ => {
                return Err(ServiceError::invalid(
                    "community",
                    format!("「{}」不是另一个社区", input.community),
                    format!("'{}' is not another community", input.community),
                ));
            }
        };
        let t = transfers::NewTransfer {
            resident_id: id,
            from_community_id: from.id,
            to_community_id: to.id,
            on_date: &on,
            reason: &reason,
            source: input.source,
            new_address: address,
            asked_by_name: &caller.display_name,
            at: now,
        };
        let Some(tid) = transfers::insert(&mut tx, &t).await? else {
            return Err(ServiceError::conflict(
                "这位居民已有一个转出在等待接收",
                "a transfer of this resident is waiting already",
            ));
        };
        let ev = Event::ok("transfer_request", format!("resident:{id}"), &r.grid_path)
            .with(json!({ "transfer": tid, "to": to.code, "on": on }));
        record(&mut tx, caller, now, &ev).await?;
        let t = transfers::get(&mut tx, tid).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        Ok(view(t, false))
    }

    /// Where a resident may be transferred: every other community in yijia,
    /// (code, name, subdistrict).
    pub async fn transfer_targets(&self, caller: &Caller, id: i64) -> Result<Vec<(String, String, String)>> {
        let r = self.resident_in_scope(caller, id, REGISTRARS, "transfer_request").await?;
        let mut tx = self.db.read().await?;
        let here = crate::org::community_of(&mut tx, &r.grid_path).await?;
        let list = org::communities(&mut tx).await?;
        tx.commit().await?;
        Ok(list.into_iter().filter(|(code, _, _)| here.as_ref().is_none_or(|h| h.code != *code)).collect())
    }

    /// The transfers into and out of the caller's communities, waiting ones
    /// first.
    pub async fn transfers(&self, caller: &Caller) -> Result<Vec<ResidentTransfer>> {
        let paths = caller.scope_paths(REGISTRARS);
        if paths.is_empty() {
            return Err(ServiceError::forbidden());
        }
        let mut tx = self.db.read().await?;
        let ids: Vec<i64> = crate::org::communities_in(&mut tx, &paths).await?.iter().map(|c| c.id).collect();
        let list = transfers::of_communities(&mut tx, &ids, 200).await?;
        let mut out = Vec::with_capacity(list.len());
        for t in list {
            let to = org::by_id(&mut tx, t.to_community_id).await?;
            let incoming = caller.covers(TRANSFER_DECIDERS, &to.path);
            out.push(view(t, incoming));
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn waiting_transfer(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        tid: i64,
    ) -> Result<(transfers::Transfer, org::OrgNode)> {
        let t = transfers::get(tx, tid).await?.ok_or(ServiceError::NotFound)?;
        let to = org::by_id(tx, t.to_community_id).await?;
        if !caller.covers(TRANSFER_DECIDERS, &to.path) {
            return Err(ServiceError::denied("transfer_decide", format!("transfer:{tid}")));
        }
        if t.state != TransferState::Pending {
            return Err(ServiceError::conflict(
                format!("这个转出{}", t.state.name_zh()),
                format!("this transfer is {}", t.state.name_en().to_lowercase()),
            ));
        }
        Ok((t, to))
    }

    /// The receiving community takes the resident over: the record moves to
    /// its grid and household with its categories and history; the leaving
    /// community's shop and stations let go of him (waiting redemptions and
    /// appointments cancelled, points settled to its pool); his plan is due
    /// again from that day; his own account follows him.
    pub async fn accept_transfer(&self, caller: &Caller, tid: i64, input: TransferAccept) -> Result<ResidentTransfer> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (t, to_com) = self.waiting_transfer(&mut tx, caller, tid).await?;
            let grid = grid_of(&mut tx, &input.grid, to_com.id).await?;
            let r = residents::get(&mut tx, t.resident_id).await?.ok_or(ServiceError::NotFound)?;
            Change::Transferred.allowed_from(r.status)?;
            let household = self.household(&mut tx, &grid, &input.household, now).await?;
            let mut effects = Effects::default();
            let why = format!("居民转至{},兑换取消", to_com.name);
            self.settle_with_community(&mut tx, caller, &r, &why, now, &mut effects).await?;
            let user = users::user_of_resident(&mut tx, r.id).await?;
            visits::move_plan(&mut tx, r.id, grid.id).await?;
            if let Some(u) = user {
                users::move_resident_grants(&mut tx, u, r.grid_id, grid.id).await?;
            }
            let detail = json!({
                "transfer": tid, "from": t.from_name, "to": to_com.name,
                "points_settled": effects.points_settled,
                "redemptions_cancelled": effects.redemptions_cancelled,
                "appointments_cancelled": effects.appointments_cancelled,
            })
            .to_string();
            let e = residents::NewLifeEvent {
                resident_id: r.id,
                kind: Change::Transferred,
                on_date: &t.on_date,
                reason: &t.reason,
                source: t.source,
                detail: &detail,
                by_user: &caller.username,
                by_name: &caller.display_name,
                at: now,
            };
            if !residents::move_to(&mut tx, r.version, grid.id, Some(household), &e).await? {
                return Err(stale());
            }
            if !transfers::decide(&mut tx, tid, TransferState::Accepted, &caller.display_name, "", now).await? {
                return Err(stale());
            }
            self.replan(&mut tx, visits::Whose::Residents(&[r.id]), FirstDue::Today).await?;
            let ev = Event::ok("transfer_accept", format!("resident:{}", r.id), &grid.path).with(json!({
                "transfer": tid, "from": r.grid_path, "to": grid.code, "effects": effects,
            }));
            record(&mut tx, caller, now, &ev).await?;
            let t = transfers::get(&mut tx, tid).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            if let Some(u) = user {
                self.sessions.remove_user(u);
            }
            Ok(view(t, true))
        })
        .await
    }

    /// The receiving community says no, with a reason; the resident stays
    /// where he is.
    pub async fn refuse_transfer(&self, caller: &Caller, tid: i64, input: TransferRefuse) -> Result<ResidentTransfer> {
        let note = rules::change_reason(&input.note)
            .map_err(|i| ServiceError::Invalid(yijia_domain::Invalid { field: "note".into(), ..i }))?;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (t, to_com) = self.waiting_transfer(&mut tx, caller, tid).await?;
            if !transfers::decide(&mut tx, tid, TransferState::Refused, &caller.display_name, &note, now).await? {
                return Err(stale());
            }
            let ev = Event::ok("transfer_refuse", format!("resident:{}", t.resident_id), &to_com.path)
                .with(json!({ "transfer": tid, "note": note }));
            record(&mut tx, caller, now, &ev).await?;
            let t = transfers::get(&mut tx, tid).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(view(t, true))
        })
        .await
    }
}
