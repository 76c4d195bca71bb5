//! Emergency broadcasts (紧急广播): the secretary warns a building, an
//! estate, grids or her community; the street officer any of those or his
//! whole subdistrict, which a second officer confirms before it goes. The
//! dispatcher tells everyone in the area through every channel they have,
//! quiet hours and the daily cap overridden; those told see a banner on
//! every page until it ends.

use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::Label;
use yijia_domain::broadcast::{Answer, AnsweredAs, Area, BroadcastState, Level, REASON_MAX, TEXT_MAX};
use yijia_domain::org::OrgKind;
use yijia_domain::registry::Category;
use yijia_domain::role::Role;
use yijia_domain::time::rfc3339;
use yijia_store::broadcasts::{self as store, Broadcast, NewBroadcast};
use yijia_store::{Tx, cases, org, places};

use crate::audit::{Event, record};
use crate::fields::text;
use crate::org::community_of;
use crate::roles::{BROADCAST_READERS, BROADCASTERS};
use crate::{Caller, Result, ServiceError, Services};

/// A broadcast to send.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BroadcastInput {
    /// `1` (the gravest), `2` or `3`.
    pub level: Level,
    /// In the SMS with the level and a link: at most 16 characters (寒潮停暖).
    pub reason: String,
    /// The full text, on the banner and the broadcast's page.
    pub body: String,
    pub area: Area,
    /// For `building`.
    #[serde(default)]
    pub building_id: Option<i64>,
    /// For `estate`.
    #[serde(default)]
    pub estate_id: Option<i64>,
    /// For `grids`: their codes, all in one community.
    #[serde(default)]
    pub grids: Vec<String>,
    /// For `community` and `subdistrict`: its code; left out, your own.
    #[serde(default)]
    pub org: Option<String>,
    /// 报平安: open a roll-call of the residents in the area who are in any
    /// of these categories (elderly_alone, disabled, pregnant …).
    #[serde(default)]
    pub rollcall: Vec<Category>,
}

/// How many deliveries stand in one state.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StateCount {
    pub state: String,
    pub state_name: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BroadcastView {
    pub id: i64,
    pub level: Level,
    pub level_name: String,
    pub reason: String,
    pub body: String,
    pub area: Area,
    /// Whom it is for, to read: 丁香花园 3号楼, 第一网格、第二网格, 城南社区.
    pub area_name: String,
    /// The community or subdistrict it lies in.
    pub org: String,
    pub org_name: String,
    pub state: BroadcastState,
    pub state_name: String,
    pub sent_by: String,
    pub confirmed_by: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    pub ended_by: Option<String>,
    /// For staff: how many were told in the app, and how the SMS and
    /// emails stand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub told_in_app: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deliveries: Vec<StateCount>,
    /// For staff: residents of the area no channel reaches (no phone, no
    /// account): to be told at the door.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<i64>,
    /// Whether the caller may confirm it (a second street officer).
    pub can_confirm: bool,
    /// Whether the caller may end it.
    pub can_end: bool,
    /// It has a roll-call (报平安).
    pub rollcall: bool,
    /// For a resident on its roll-call: whom he may answer "我平安" for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answer_for: Vec<MineToAnswer>,
}

/// What the sending form offers: the places of one community, and the
/// subdistrict for a street officer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BroadcastOptions {
    pub community: (String, String),
    pub subdistrict: Option<(String, String)>,
    pub grids: Vec<(String, String)>,
    pub estates: Vec<(i64, String)>,
    pub buildings: Vec<(i64, String)>,
}

/// The sender's community or subdistrict, the area's grids and its name.
struct Target {
    node: org::OrgNode,
    building_id: Option<i64>,
    estate_id: Option<i64>,
    grids: Vec<i64>,
    name: String,
}

fn can_end(caller: &Caller, b: &Broadcast) -> bool {
    b.state != BroadcastState::Ended && caller.covers(BROADCASTERS, &b.org_path)
}

fn can_confirm(caller: &Caller, b: &Broadcast) -> bool {
    b.state == BroadcastState::Awaiting
        && caller.user_id != Some(b.sent_by)
        && caller.covers(&[Role::StreetOfficer], &b.org_path)
}

impl Services {
    /// A broadcast as the caller sees it; `detailed`: with the counts of
    /// how it went and what he may answer (its own page, not a list).
    async fn broadcast_view(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        b: Broadcast,
        en: bool,
        detailed: bool,
    ) -> Result<BroadcastView> {
        let node = org::by_id(tx, b.org_id).await?;
        let staff = detailed && caller.covers(BROADCAST_READERS, &b.org_path);
        let unreachable = if staff { Some(store::unreachable_in(tx, &b).await?) } else { None };
        let (told, deliveries) = if staff {
            let counts = store::delivery_counts(tx, b.id).await?;
            let counts = counts
                .into_iter()
                .map(|(state, count)| {
                    let name = yijia_domain::notify::DeliveryState::from_code(&state).map(|s| s.name(en));
                    StateCount { state_name: name.unwrap_or_default().to_owned(), state, count }
                })
                .collect();
            (Some(store::message_count(tx, b.id).await?), counts)
        } else {
            (None, vec![])
        };
        Ok(BroadcastView {
            id: b.id,
            level: b.level,
            level_name: b.level.name(en).to_owned(),
            reason: b.reason.clone(),
            body: b.body.clone(),
            area: b.area,
            area_name: b.area_name.clone(),
            org: node.code,
            org_name: node.name,
            state: b.state,
            state_name: b.state.name(en).to_owned(),
            sent_by: b.sent_by_name.clone(),
            confirmed_by: b.confirmed_by_name.clone(),
            created_at: rfc3339(b.created_at),
            started_at: b.started_at.map(rfc3339),
            ended_at: b.ended_at.map(rfc3339),
            ended_by: b.ended_by_name.clone(),
            told_in_app: told,
            deliveries,
            unreachable,
            can_confirm: can_confirm(caller, &b),
            can_end: can_end(caller, &b),
            rollcall: store::rollcall_of(tx, b.id).await?.is_some(),
            answer_for: if detailed { self.mine_to_answer(tx, caller, &b, en).await? } else { vec![] },
        })
    }

    /// Works out what the input's area is, within the caller's reach.
    async fn target(&self, tx: &mut Tx, caller: &Caller, input: &BroadcastInput) -> Result<Target> {
        let outside = |field: &str, zh: &str, en: &str| Err(ServiceError::invalid(field, zh, en));
        match input.area {
            Area::Building => {
                let Some(id) = input.building_id else {
                    return outside("building_id", "请选择楼栋", "choose the building");
                };
                let info = places::building_info(tx, id).await?;
                let com = match info {
                    Some(i) => Some((org::by_id(tx, i.community_id).await?, i)),
                    None => None,
                };
                let Some((node, info)) = com else {
                    return outside("building_id", "没有这栋楼", "no such building");
                };
                if !caller.covers(BROADCASTERS, &node.path) {
                    return Err(ServiceError::denied("broadcast_send", format!("building:{id}")));
                }
                let grids = store::grids_of_place(tx, Some(id), None).await?;
                let name = format!("{} {}", info.estate, info.name);
                Ok(Target { node, building_id: Some(id), estate_id: None, grids, name })
            }
            Area::Estate => {
                let Some(id) = input.estate_id else {
                    return outside("estate_id", "请选择小区", "choose the estate");
                };
                let com = match places::estate(tx, id).await? {
                    Some(e) => Some((org::by_id(tx, e.community_id).await?, e)),
                    None => None,
                };
                let Some((node, estate)) = com else {
                    return outside("estate_id", "没有这个小区", "no such estate");
                };
                if !caller.covers(BROADCASTERS, &node.path) {
                    return Err(ServiceError::denied("broadcast_send", format!("estate:{id}")));
                }
                let grids = store::grids_of_place(tx, None, Some(id)).await?;
                Ok(Target { node, building_id: None, estate_id: Some(id), grids, name: estate.name })
            }
            Area::Grids => {
                if input.grids.is_empty() || input.grids.len() > 50 {
                    return outside("grids", "请选择 1–50 个网格", "choose 1–50 grids");
                }
                let mut found = Vec::new();
                for code in &input.grids {
                    let g = org::by_code(tx, code.trim()).await?.filter(|g| g.kind == OrgKind::Grid);
                    let Some(g) = g else {
                        return Err(ServiceError::invalid(
                            "grids",
                            format!("没有网格「{code}」"),
                            format!("no grid '{code}'"),
                        ));
                    };
                    if !caller.covers(BROADCASTERS, &g.path) {
                        return Err(ServiceError::denied("broadcast_send", format!("org:{}", g.code)));
                    }
                    if !found.iter().any(|f: &org::OrgNode| f.id == g.id) {
                        found.push(g);
                    }
                }
                let Some(node) = community_of(tx, &found[0].path).await? else {
                    return Err(ServiceError::internal("a grid outside any community"));
                };
                if found.iter().any(|g| !g.path.starts_with(&node.path)) {
                    return outside("grids", "网格须在同一社区", "the grids must be in one community");
                }
                let name = found.iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join("、");
                let grids = found.iter().map(|g| g.id).collect();
                Ok(Target { node, building_id: None, estate_id: None, grids, name })
            }
            Area::Community | Area::Subdistrict => {
                let kind = if input.area == Area::Community { OrgKind::Community } else { OrgKind::Subdistrict };
                let roles: &[Role] = if input.area == Area::Community { BROADCASTERS } else { &[Role::StreetOfficer] };
                let node = match input.org.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                    Some(code) => org::by_code(tx, code).await?,
                    None => match caller.grants.iter().find(|g| roles.contains(&g.role)) {
                        Some(g) => org::by_code(tx, &g.org_code).await?,
                        None => None,
                    },
                };
                let Some(node) = node.filter(|n| n.kind == kind && caller.covers(roles, &n.path)) else {
                    return if kind == OrgKind::Community {
                        outside("org", "请指明您范围内的社区", "name a community in your reach")
                    } else {
                        outside(
                            "org",
                            "只有街道干部可向全街道广播",
                            "only a street officer broadcasts to a subdistrict",
                        )
                    };
                };
                let grids = org::grids_under(tx, &node.path).await?;
                let name = node.name.clone();
                Ok(Target { node, building_id: None, estate_id: None, grids, name })
            }
        }
    }

    /// The places a broadcast may go to in one community.
    pub async fn broadcast_options(&self, caller: &Caller, community: Option<&str>) -> Result<BroadcastOptions> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let com = self.caller_community(&mut tx, caller, BROADCASTERS, community).await?;
            let grids = org::children(&mut tx, com.id).await?;
            let grids = grids.into_iter().filter(|g| g.kind == OrgKind::Grid).map(|g| (g.code, g.name)).collect();
            let estates = places::estates(&mut tx, com.id, None).await?.into_iter().map(|e| (e.id, e.name)).collect();
            let buildings = places::buildings_of(&mut tx, com.id).await?;
            let buildings = buildings.into_iter().map(|b| (b.id, format!("{} {}", b.estate, b.name))).collect();
            let subdistrict = match com.parent_id {
                Some(p) => Some(org::by_id(&mut tx, p).await?),
                None => None,
            };
            let subdistrict = subdistrict
                .filter(|s| s.kind == OrgKind::Subdistrict && caller.covers(&[Role::StreetOfficer], &s.path))
                .map(|s| (s.code, s.name));
            Ok(BroadcastOptions { community: (com.code, com.name), subdistrict, grids, estates, buildings })
        })
        .await
    }

    /// Sends a broadcast, or (subdistrict-wide) holds it for a second
    /// street officer.
    pub async fn send_broadcast(&self, caller: &Caller, input: &BroadcastInput, en: bool) -> Result<BroadcastView> {
        let Some(user_id) = caller.user_id.filter(|_| caller.has_any(BROADCASTERS)) else {
            return Err(ServiceError::forbidden());
        };
        let reason = text("reason", &input.reason, REASON_MAX)?;
        let body = text("body", &input.body, TEXT_MAX)?;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let t = self.target(&mut tx, caller, input).await?;
            if t.grids.is_empty() {
                return Err(ServiceError::invalid("area", "这一范围内没有住户", "nobody lives in this area"));
            }
            let state = if input.area.needs_confirmation() { BroadcastState::Awaiting } else { BroadcastState::Active };
            let id = store::insert(
                &mut tx,
                &NewBroadcast {
                    org_id: t.node.id,
                    org_path: &t.node.path,
                    level: input.level,
                    reason: &reason,
                    body: &body,
                    area: input.area,
                    building_id: t.building_id,
                    estate_id: t.estate_id,
                    grid_ids: &t.grids,
                    area_name: &t.name,
                    state,
                    sent_by: user_id,
                    sent_by_name: &caller.display_name,
                    now,
                },
            )
            .await?;
            let e = Event::ok("broadcast_send", format!("broadcast:{id}"), &t.node.path);
            let detail = json!({ "level": input.level, "area": input.area, "area_name": t.name, "state": state });
            record(&mut tx, caller, now, &e.with(detail)).await?;
            if state == BroadcastState::Active {
                tell(&mut tx, id, input.level, &t.node.path, now).await?;
            }
            let b = store::get(&mut tx, id).await?.ok_or_else(|| ServiceError::internal("broadcast just sent"))?;
            if !input.rollcall.is_empty() {
                let mut codes: Vec<&'static str> = input.rollcall.iter().map(|c| c.code()).collect();
                codes.sort_unstable();
                codes.dedup();
                let (_, n) = store::open_rollcall(&mut tx, &b, &codes, now).await?;
                let e = Event::ok("rollcall_open", format!("broadcast:{id}"), &t.node.path);
                record(&mut tx, caller, now, &e.with(json!({ "categories": codes, "people": n }))).await?;
            }
            let view = self.broadcast_view(&mut tx, caller, b, en, true).await?;
            tx.commit().await?;
            Ok(view)
        })
        .await
    }

    /// A second street officer lets a subdistrict-wide broadcast go.
    pub async fn confirm_broadcast(&self, caller: &Caller, id: i64, en: bool) -> Result<BroadcastView> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let b = self.broadcast_in_reach(&mut tx, caller, id, "broadcast_confirm").await?;
            if b.state != BroadcastState::Awaiting {
                return Err(ServiceError::conflict(
                    "这条广播不在等待确认",
                    "this broadcast is not awaiting confirmation",
                ));
            }
            if caller.user_id == Some(b.sent_by) {
                return Err(ServiceError::conflict("须由另一位街道干部确认", "another street officer must confirm it"));
            }
            if !can_confirm(caller, &b) {
                return Err(ServiceError::denied("broadcast_confirm", format!("broadcast:{id}")));
            }
            let user_id = caller.user_id.ok_or_else(ServiceError::forbidden)?;
            if !store::confirm(&mut tx, id, user_id, &caller.display_name, now).await? {
                return Err(ServiceError::conflict("这条广播已被处理", "this broadcast was dealt with meanwhile"));
            }
            record(&mut tx, caller, now, &Event::ok("broadcast_confirm", format!("broadcast:{id}"), &b.org_path))
                .await?;
            tell(&mut tx, id, b.level, &b.org_path, now).await?;
            let b = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            let view = self.broadcast_view(&mut tx, caller, b, en, true).await?;
            tx.commit().await?;
            Ok(view)
        })
        .await
    }

    /// Ends a broadcast: its banner goes; what was sent stays on record.
    pub async fn end_broadcast(&self, caller: &Caller, id: i64, en: bool) -> Result<BroadcastView> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let b = self.broadcast_in_reach(&mut tx, caller, id, "broadcast_end").await?;
            if !can_end(caller, &b) {
                return Err(ServiceError::conflict("这条广播已结束", "this broadcast has ended"));
            }
            store::end(&mut tx, id, &caller.display_name, now).await?;
            record(&mut tx, caller, now, &Event::ok("broadcast_end", format!("broadcast:{id}"), &b.org_path)).await?;
            let b = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            let view = self.broadcast_view(&mut tx, caller, b, en, true).await?;
            tx.commit().await?;
            Ok(view)
        })
        .await
    }

    /// A broadcast staff in its area may see (senders may act on it).
    async fn broadcast_in_reach(&self, tx: &mut Tx, caller: &Caller, id: i64, action: &str) -> Result<Broadcast> {
        let b = store::get(tx, id).await?;
        let mine = |b: &Broadcast| caller.covers(BROADCASTERS, &b.org_path);
        ServiceError::in_reach(b, mine, action, format!("broadcast:{id}"))
    }

    /// The broadcasts of the caller's area, newest first.
    pub async fn broadcasts(&self, caller: &Caller, en: bool) -> Result<Vec<BroadcastView>> {
        if !caller.has_any(BROADCAST_READERS) {
            return Err(ServiceError::forbidden());
        }
        let mut tx = self.db.read().await?;
        let found = store::within(&mut tx, &caller.scope_paths(BROADCAST_READERS), 100).await?;
        let mut out = Vec::with_capacity(found.len());
        for b in found {
            out.push(self.broadcast_view(&mut tx, caller, b, en, false).await?);
        }
        Ok(out)
    }

    /// One broadcast: for staff of its area, and for whoever was told of it.
    pub async fn broadcast(&self, caller: &Caller, id: i64, en: bool) -> Result<BroadcastView> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let b = store::get(&mut tx, id).await?;
            // told of it, or on its roll-call (before the dispatcher has run)
            let told = match (&b, caller.user_id) {
                (Some(b), Some(u)) => {
                    store::was_told(&mut tx, id, u).await?
                        || !self.mine_to_answer(&mut tx, caller, b, en).await?.is_empty()
                }
                _ => false,
            };
            let paths = caller.scope_paths(BROADCAST_READERS);
            let mine = |b: &Broadcast| {
                told || paths.iter().any(|p| b.org_path.starts_with(p.as_str()) || p.starts_with(&b.org_path))
            };
            let b = ServiceError::in_reach(b, mine, "broadcast_read", format!("broadcast:{id}"))?;
            self.broadcast_view(&mut tx, caller, b, en, true).await
        })
        .await
    }

    /// The active broadcasts the caller was told of or sent: the banner.
    pub async fn current_broadcasts(&self, caller: &Caller, en: bool) -> Result<Vec<BroadcastView>> {
        let Some(user_id) = caller.user_id else { return Ok(vec![]) };
        let mut tx = self.db.read().await?;
        let mut out = Vec::new();
        for b in store::current_for(&mut tx, user_id).await? {
            out.push(self.broadcast_view(&mut tx, caller, b, en, false).await?);
        }
        Ok(out)
    }
}

/// Puts the broadcast in the outbox: the dispatcher tells the area.
async fn tell(tx: &mut Tx, id: i64, level: Level, org_path: &str, now: i64) -> Result<()> {
    let payload = json!({ "id": id, "level": level }).to_string();
    cases::push_outbox(tx, now, "broadcast.sent", org_path, &format!("broadcast:{id}"), &payload).await?;
    Ok(())
}

// ---- the roll-call (报平安) -------------------------------------------------

/// One grid's line on the board, or the whole roll-call's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Tally {
    /// The grid's code; empty for the whole.
    pub grid: String,
    pub grid_name: String,
    pub total: i64,
    pub safe: i64,
    pub needs_help: i64,
    pub not_reached: i64,
    pub pending: i64,
    /// Reached (safe or needing help), in whole percent.
    pub percent: i64,
}

impl Tally {
    fn add(&mut self, state: Answer, n: i64) {
        self.total += n;
        match state {
            Answer::Safe => self.safe += n,
            Answer::NeedsHelp => self.needs_help += n,
            Answer::NotReached => self.not_reached += n,
            Answer::Pending => self.pending += n,
        }
        self.percent = if self.total == 0 { 100 } else { (self.safe + self.needs_help) * 100 / self.total };
    }
}

/// The live board of a roll-call.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RollcallBoard {
    pub broadcast_id: i64,
    pub categories: Vec<String>,
    pub opened_at: String,
    /// When the last person was reached: the roll-call is closed.
    pub closed_at: Option<String>,
    pub all: Tally,
    pub grids: Vec<Tally>,
}

/// A person to reach, in walking order.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RollcallPerson {
    pub resident_id: i64,
    pub name: String,
    /// 丁香花园 3号楼 2单元 301
    pub address: String,
    pub grid_name: String,
    pub categories: Vec<String>,
    pub state: Answer,
    pub state_name: String,
    pub tries: i64,
    pub answered_as: Option<String>,
    /// The emergency case opened when they needed help.
    pub case_id: Option<i64>,
}

/// One in a broadcast's area no channel reaches (no phone, no account):
/// to be told at the door.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UnreachablePerson {
    pub resident_id: i64,
    pub name: String,
    /// 丁香花园 3号楼 2单元 301
    pub address: String,
    pub grid_name: String,
}

/// At most this many are listed; the count on the broadcast is exact.
pub const UNREACHABLE_LISTED: i64 = 2000;

/// An answer for one person.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    pub resident_id: i64,
    /// `safe`, `needs_help` or `not_reached`.
    pub answer: Answer,
    /// What they need (for `needs_help`), at most 200 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// What an answer came to: the emergency case opened for one who needs help.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Answered {
    pub answer: Answer,
    pub case_id: Option<i64>,
}

/// "我平安": a resident for himself, or for a family member.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SafeInput {
    /// A family member in your household; left out, yourself.
    #[serde(default)]
    pub resident_id: Option<i64>,
}

/// What a resident may answer for on a broadcast's page.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MineToAnswer {
    pub resident_id: i64,
    /// The first character of the name: 张**.
    pub name: String,
    pub own: bool,
    pub state: Answer,
    pub state_name: String,
}

/// 丁香花园 3号楼 2单元 301
fn address(h: &store::Home) -> String {
    [&h.estate, &h.building, &h.entrance, &h.door]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

impl Services {
    /// The roll-call of a broadcast staff may see, with the broadcast.
    async fn rollcall_in_reach(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        id: i64,
        action: &str,
    ) -> Result<(Broadcast, store::Rollcall)> {
        let b = self.staff_broadcast(tx, caller, id, action).await?;
        let Some(r) = store::rollcall_of(tx, id).await? else { return Err(ServiceError::NotFound) };
        Ok((b, r))
    }

    /// A broadcast whose area meets the caller's staff scope.
    async fn staff_broadcast(&self, tx: &mut Tx, caller: &Caller, id: i64, action: &str) -> Result<Broadcast> {
        let b = store::get(tx, id).await?;
        let paths = caller.scope_paths(BROADCAST_READERS);
        let mine =
            |b: &Broadcast| paths.iter().any(|p| b.org_path.starts_with(p.as_str()) || p.starts_with(&b.org_path));
        ServiceError::in_reach(b, mine, action, format!("broadcast:{id}"))
    }

    /// Who in a broadcast's area (and the caller's grids) no channel
    /// reaches, in walking order: names and homes, a read that is audited.
    pub async fn unreachable_people(&self, caller: &Caller, id: i64) -> Result<Vec<UnreachablePerson>> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let b = self.staff_broadcast(&mut tx, caller, id, "unreachable_read").await?;
            let found = store::unreachable_people(&mut tx, &b, UNREACHABLE_LISTED).await?;
            drop(tx);
            let found: Vec<store::Unreached> =
                found.into_iter().filter(|p| caller.covers(BROADCAST_READERS, &p.home.grid_path)).collect();
            let e = Event::ok("unreachable_read", format!("broadcast:{id}"), &b.org_path);
            let mut w = self.db.write().await?;
            record(&mut w, caller, self.now(), &e.with(json!({ "people": found.len() }))).await?;
            w.commit().await?;
            Ok(found
                .into_iter()
                .map(|p| UnreachablePerson {
                    resident_id: p.resident_id,
                    address: address(&p.home),
                    name: p.home.name,
                    grid_name: p.home.grid_name,
                })
                .collect())
        })
        .await
    }

    /// The live board: reached, safe, needing help, not reached, per grid.
    pub async fn rollcall_board(&self, caller: &Caller, id: i64, en: bool) -> Result<RollcallBoard> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (_, r) = self.rollcall_in_reach(&mut tx, caller, id, "rollcall_read").await?;
            let paths = caller.scope_paths(BROADCAST_READERS);
            let mut all = Tally::default();
            let mut grids: Vec<Tally> = Vec::new();
            for (path, code, name, state, n) in store::rollcall_counts(&mut tx, r.id).await? {
                if !paths.iter().any(|p| path.starts_with(p.as_str())) {
                    continue;
                }
                all.add(state, n);
                match grids.last_mut().filter(|g| g.grid == code) {
                    Some(g) => g.add(state, n),
                    None => {
                        let mut g = Tally { grid: code, grid_name: name, ..Tally::default() };
                        g.add(state, n);
                        grids.push(g);
                    }
                }
            }
            if all.total == 0 {
                all.percent = 100;
            }
            let categories =
                r.categories.split(',').filter_map(|c| Category::from_code(c).map(|c| c.name(en).to_owned())).collect();
            Ok(RollcallBoard {
                broadcast_id: id,
                categories,
                opened_at: rfc3339(r.opened_at),
                closed_at: r.closed_at.map(rfc3339),
                all,
                grids,
            })
        })
        .await
    }

    /// The people of a roll-call in the caller's grids, in walking order.
    pub async fn rollcall_people(
        &self,
        caller: &Caller,
        id: i64,
        grid: Option<&str>,
        state: Option<Answer>,
        en: bool,
    ) -> Result<Vec<RollcallPerson>> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (b, r) = self.rollcall_in_reach(&mut tx, caller, id, "rollcall_read").await?;
            let grid_ids = match grid.map(str::trim).filter(|g| !g.is_empty()) {
                Some(code) => match org::by_code(&mut tx, code).await?.filter(|g| g.kind == OrgKind::Grid) {
                    Some(g) => Some(vec![g.id]),
                    None => return Err(ServiceError::invalid("grid", "没有这个网格", "no such grid")),
                },
                None => None,
            };
            let found = store::rollcall_people(&mut tx, r.id, grid_ids.as_deref(), state).await?;
            let found: Vec<store::Person> =
                found.into_iter().filter(|p| caller.covers(BROADCAST_READERS, &p.home.grid_path)).collect();
            let ids: Vec<i64> = found.iter().map(|p| p.resident_id).collect();
            let wanted: Vec<&str> = r.categories.split(',').collect();
            let mut cats: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
            for (rid, code) in store::categories_of(&mut tx, &ids).await? {
                if let Some(c) = Category::from_code(&code).filter(|c| wanted.contains(&c.code())) {
                    cats.entry(rid).or_default().push(c.name(en).to_owned());
                }
            }
            drop(tx);
            // names and homes of the vulnerable: a read that is audited
            let e = Event::ok("rollcall_read", format!("broadcast:{id}"), &b.org_path);
            let mut w = self.db.write().await?;
            record(&mut w, caller, self.now(), &e.with(json!({ "people": ids.len() }))).await?;
            w.commit().await?;
            Ok(found
                .into_iter()
                .map(|p| RollcallPerson {
                    resident_id: p.resident_id,
                    address: address(&p.home),
                    categories: cats.remove(&p.resident_id).unwrap_or_default(),
                    state_name: p.state.name(en).to_owned(),
                    answered_as: p.answered_as.map(|a| a.name(en).to_owned()),
                    name: p.home.name,
                    grid_name: p.home.grid_name,
                    state: p.state,
                    tries: p.tries,
                    case_id: p.case_id,
                })
                .collect())
        })
        .await
    }

    /// A grid worker's (or the secretary's) answer for one person; one who
    /// needs help gets an emergency case at their home.
    pub async fn answer_rollcall(&self, caller: &Caller, id: i64, input: &AnswerInput) -> Result<Answered> {
        if input.answer == Answer::Pending {
            return Err(ServiceError::invalid(
                "answer",
                "请选择平安、需要帮助或未联系上",
                "safe, needs_help or not_reached",
            ));
        }
        let note = crate::fields::optional_text("note", input.note.as_deref(), 200)?;
        let (b, r, p) = self
            .denials_audited(caller, async {
                let mut tx = self.db.read().await?;
                let (b, r) = self.rollcall_in_reach(&mut tx, caller, id, "rollcall_answer").await?;
                let p = store::rollcall_person(&mut tx, r.id, input.resident_id).await?;
                let mine = |p: &store::Person| caller.covers(BROADCAST_READERS, &p.home.grid_path);
                let p = ServiceError::in_reach(p, mine, "rollcall_answer", format!("resident:{}", input.resident_id))?;
                Ok((b, r, p))
            })
            .await?;
        if b.state != BroadcastState::Active {
            return Err(ServiceError::conflict("广播未在进行", "the broadcast is not active"));
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        let a = store::NewAnswer {
            rollcall_id: r.id,
            resident_id: p.resident_id,
            state: input.answer,
            by: caller.user_id,
            answered_as: AnsweredAs::Worker,
            now,
        };
        let changed = store::answer(&mut tx, &a).await?;
        let had_case = store::rollcall_person(&mut tx, r.id, p.resident_id).await?.and_then(|p| p.case_id);
        let e = Event::ok("rollcall_answer", format!("resident:{}", p.resident_id), &p.home.grid_path);
        record(&mut tx, caller, now, &e.with(json!({ "broadcast": id, "answer": input.answer }))).await?;
        tx.commit().await?;
        // one case per person: only the answer that turned them to "needs
        // help" opens one, and only if none was opened before
        if input.answer != Answer::NeedsHelp || !changed || had_case.is_some() {
            return Ok(Answered { answer: input.answer, case_id: had_case });
        }
        let description = format!(
            "紧急广播「{}」报平安：{}需要帮助。{}",
            b.reason,
            yijia_domain::notify::initial(&p.home.name),
            note
        );
        let mut case = crate::cases::CaseInput {
            category: "elderly_help".into(),
            priority: Some(yijia_domain::case::Priority::Emergency),
            title: Some(format!("报平安：需要帮助（{}）", b.reason)),
            description: description.trim().to_owned(),
            channel: Some(yijia_domain::case::Channel::Visit),
            household_id: p.household_id,
            // the grid's code is the last step of its path
            grid: p
                .household_id
                .is_none()
                .then(|| p.home.grid_path.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_owned()),
            residents: vec![p.resident_id],
            ..Default::default()
        };
        // a community that retired 为老服务 still gets the case, as 其他诉求
        let filed = match self.create_case(caller, &case).await {
            Err(ServiceError::Invalid(i)) if i.field == "category" => {
                case.category = "other_request".into();
                self.create_case(caller, &case).await?
            }
            other => other?,
        };
        let case_id = filed.summary.id;
        let mut tx = self.db.write().await?;
        store::set_case(&mut tx, r.id, p.resident_id, case_id).await?;
        tx.commit().await?;
        Ok(Answered { answer: input.answer, case_id: Some(case_id) })
    }

    /// What the caller (a resident) may answer "我平安" for: himself and
    /// the family in his household on the broadcast's roll-call.
    async fn mine_to_answer(&self, tx: &mut Tx, caller: &Caller, b: &Broadcast, en: bool) -> Result<Vec<MineToAnswer>> {
        // a family proxy answers nothing for the household
        let Some(own) = caller.resident_id.filter(|_| caller.proxy.is_none()) else { return Ok(vec![]) };
        let Some(r) = store::rollcall_of(tx, b.id).await?.filter(|_| b.state == BroadcastState::Active) else {
            return Ok(vec![]);
        };
        let household = yijia_store::residents::get(tx, own).await?.and_then(|r| r.household_id);
        let people = match household {
            Some(h) => store::rollcall_household(tx, r.id, h).await?,
            None => store::rollcall_person(tx, r.id, own).await?.into_iter().collect(),
        };
        Ok(people
            .into_iter()
            .map(|p| MineToAnswer {
                resident_id: p.resident_id,
                name: yijia_domain::notify::initial(&p.home.name),
                own: p.resident_id == own,
                state_name: p.state.name(en).to_owned(),
                state: p.state,
            })
            .collect())
    }

    /// "我平安": a resident answers for himself or a family member.
    pub async fn answer_safe(&self, caller: &Caller, id: i64, input: &SafeInput) -> Result<()> {
        let Some(own) = caller.resident_id.filter(|_| caller.proxy.is_none()) else {
            return Err(ServiceError::forbidden());
        };
        let who = input.resident_id.unwrap_or(own);
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let mine = match store::get(&mut tx, id).await? {
                Some(b) => self.mine_to_answer(&mut tx, caller, &b, false).await?,
                None => vec![],
            };
            let Some(m) = mine.into_iter().find(|m| m.resident_id == who) else {
                return Err(ServiceError::denied("rollcall_safe", format!("broadcast:{id}")));
            };
            let r = store::rollcall_of(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            let p = store::rollcall_person(&mut tx, r.id, who).await?.ok_or(ServiceError::NotFound)?;
            if p.state == Answer::NeedsHelp {
                // the grid worker is on it: the case closes it, not a button
                return Err(ServiceError::conflict(
                    "网格员正在处理求助,请等候联系",
                    "the grid worker is dealing with the call for help",
                ));
            }
            let a = store::NewAnswer {
                rollcall_id: r.id,
                resident_id: who,
                state: Answer::Safe,
                by: caller.user_id,
                answered_as: if m.own { AnsweredAs::Own } else { AnsweredAs::Family },
                now,
            };
            store::answer(&mut tx, &a).await?;
            let e = Event::ok("rollcall_safe", format!("resident:{who}"), &p.home.grid_path);
            record(&mut tx, caller, now, &e.with(json!({ "broadcast": id }))).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }
}
