//! Cases: requests, disputes and hazards in one workflow with deadlines.
//! Filing routes a case to its grid; every transition checks the caller's
//! part, the case's version, and writes the timeline, the audit log and the
//! outbox in one transaction.

pub mod catalogue;
pub mod open311;
mod sweep;
pub(crate) mod writer;

use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::Msg;
use yijia_domain::case::{
    Action, CaseKind, CaseState, Channel, Context, DISPUTE_REVISITS_DAYS, EventKind, Part, Priority, Schedule,
    Timeliness, allowed, escalated_schedule, handles_dispute, schedule, transition,
};
use yijia_domain::org::{Boundary, OrgKind};
use yijia_domain::phone::Phone;
use yijia_domain::proxy::Act;
use yijia_domain::role::Role;
use yijia_domain::time::{DAY_MS, rfc3339};
use yijia_store::{Tx, cases, org, places, residents};

use crate::audit::{Event, record};
use crate::org::community_of;
use crate::roles::{CASE_FILERS, CASE_HANDLERS, DISPATCHERS, GRID_HANDLERS, SUBDISTRICT_HANDLERS};
use crate::{Caller, Page, PageReq, Result, ServiceError, Services, photos};
use catalogue::works_in;
pub use catalogue::{CaseCategoryInput, CaseCategoryView, DeadlineView};
pub use sweep::SweepReport;
use writer::NewCaseRows;

/// How far apart two reports may be and still be the same thing.
pub const SIMILAR_METRES: f64 = 100.0;
/// How far back the duplicate hint looks.
pub const SIMILAR_DAYS: i64 = 7;

/// A new case.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    /// The community's org code; needed only when you work in several.
    pub community: Option<String>,
    /// A category code from the community's catalogue.
    pub category: String,
    /// Default: the category's.
    pub priority: Option<Priority>,
    /// A short title (at most 60 characters); default: the category and place.
    pub title: Option<String>,
    /// What happened (1–2000 characters).
    pub description: String,
    /// How it reached you; residents always file through the portal.
    pub channel: Option<Channel>,
    /// Where: a household, a building, a point, or a grid by code. A case
    /// with no place goes to the community's dispatch list.
    pub household_id: Option<i64>,
    pub building_id: Option<i64>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub grid: Option<String>,
    /// Who reported it, when staff file for someone (default: you).
    pub reporter_name: Option<String>,
    pub reporter_phone: Option<String>,
    /// Residents the case concerns (ids from the registry).
    #[serde(default)]
    pub residents: Vec<i64>,
    /// Hazards: what is at risk (people, property, a stairwell…).
    pub at_risk: Option<String>,
    /// Disputes: the parties.
    pub parties: Option<String>,
}

/// One step of the workflow.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    pub action: Action,
    /// The version you read; refused if the case changed since.
    pub version: i64,
    /// The reason, or what was done (needed to resolve, reject, escalate,
    /// transfer and reopen).
    pub note: Option<String>,
    /// For transfer: the grid's org code.
    pub grid: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    /// 1 (poor) to 5 (very good).
    pub rating: i64,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    /// A progress note for the timeline (1–1000 characters).
    pub note: String,
}

/// A dispute's parties, the mediation record and the agreement reached.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeRecord {
    pub parties: String,
    pub mediation: String,
    pub agreement: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeInput {
    pub version: i64,
    pub parties: Option<String>,
    pub mediation: Option<String>,
    pub agreement: Option<String>,
}

/// A case in a list.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseSummary {
    pub id: i64,
    pub kind: CaseKind,
    pub kind_name: String,
    pub category: String,
    pub category_name: String,
    pub category_name_en: String,
    pub priority: Priority,
    pub priority_name: String,
    pub state: CaseState,
    pub state_name: String,
    pub title: String,
    pub community: String,
    /// None while on the community's dispatch list.
    pub grid: Option<String>,
    pub grid_name: Option<String>,
    pub address: String,
    pub assignee_name: Option<String>,
    pub created_at: String,
    /// The deadline that counts now, if any.
    pub due_at: Option<String>,
    /// Where the case stands against it.
    pub timeliness: Option<Timeliness>,
    pub rating: Option<i64>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub at: String,
    pub actor: String,
    /// created, accept, start, resolve, close, reject, escalate, transfer,
    /// reopen, note, rating, dispute, reminder, overdue
    pub action: EventKind,
    pub action_name: String,
    pub from_state: Option<CaseState>,
    pub to_state: Option<CaseState>,
    pub note: String,
    /// The note in English, where yijia wrote it itself.
    pub note_en: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ActionView {
    pub action: Action,
    pub name: String,
    /// A note must go with it.
    pub needs_note: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RevisitView {
    pub id: i64,
    pub due_at: String,
    pub done_at: Option<String>,
    pub done_by: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ConcernedView {
    pub resident_id: i64,
    pub name: String,
}

/// A case with everything about it the caller may see.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    #[serde(flatten)]
    pub summary: CaseSummary,
    pub category_name_en: String,
    pub description: String,
    pub channel: Channel,
    pub channel_name: String,
    pub building_id: Option<i64>,
    pub household_id: Option<i64>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub reporter_name: String,
    /// Masked; only staff see it.
    pub reporter_phone: Option<String>,
    pub created_by: String,
    pub accept_due: String,
    pub resolve_due: String,
    pub accepted_at: Option<String>,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    pub escalated_at: Option<String>,
    pub rating_comment: Option<String>,
    pub at_risk: Option<String>,
    /// Disputes, for staff: parties, mediation record, agreement.
    pub dispute: Option<DisputeRecord>,
    pub residents: Vec<ConcernedView>,
    pub timeline: Vec<EventView>,
    pub revisits: Vec<RevisitView>,
    pub photos: Vec<PhotoView>,
    /// What you may do now: the only buttons a page shows.
    pub actions: Vec<ActionView>,
    /// You filed it, it is resolved or closed, and not rated yet.
    pub can_rate: bool,
    /// You may add progress notes.
    pub can_note: bool,
    /// You may add photos.
    pub can_add_photo: bool,
    /// You may record its revisits.
    pub can_revisit: bool,
}

/// The lists of an inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseBox {
    /// Open cases you accepted; for residents, the cases you filed.
    #[default]
    Mine,
    /// Open cases in your grids (staff: your community; officers: your subdistrict).
    Grids,
    /// Open cases not placed in a grid yet (community staff).
    Dispatch,
    /// Open cases near their deadline.
    Near,
    /// Open cases past their deadline.
    Overdue,
    /// Cases sent up to the subdistrict.
    Escalated,
    /// Every case in your scope, any state, newest deadlines first.
    All,
}

impl CaseBox {
    pub const ALL: [CaseBox; 7] = [
        CaseBox::Mine,
        CaseBox::Grids,
        CaseBox::Dispatch,
        CaseBox::Near,
        CaseBox::Overdue,
        CaseBox::Escalated,
        CaseBox::All,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CaseBox::Mine => "mine",
            CaseBox::Grids => "grids",
            CaseBox::Dispatch => "dispatch",
            CaseBox::Near => "near",
            CaseBox::Overdue => "overdue",
            CaseBox::Escalated => "escalated",
            CaseBox::All => "all",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            CaseBox::Mine => "我的",
            CaseBox::Grids => "我的网格",
            CaseBox::Dispatch => "待分派",
            CaseBox::Near => "临期",
            CaseBox::Overdue => "超期",
            CaseBox::Escalated => "已上报",
            CaseBox::All => "全部",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            CaseBox::Mine => "Mine",
            CaseBox::Grids => "My grids",
            CaseBox::Dispatch => "To dispatch",
            CaseBox::Near => "Near deadline",
            CaseBox::Overdue => "Overdue",
            CaseBox::Escalated => "Escalated",
            CaseBox::All => "All",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.code() == s)
    }
}

/// What the new-case form offers: the community's catalogue, its
/// buildings and grids.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormOptions {
    pub community: String,
    pub community_name: String,
    pub categories: Vec<CaseCategoryView>,
    /// (id, estate and building)
    pub buildings: Vec<(i64, String)>,
    /// (code, name)
    pub grids: Vec<(String, String)>,
    /// A resident's own building, chosen for them to begin with.
    pub home_building: Option<i64>,
}

/// Which cases to list.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    pub case_box: CaseBox,
    pub kind: Option<CaseKind>,
    pub state: Option<CaseState>,
    pub category: Option<String>,
    /// Only under this grid, community or subdistrict (a code in your scope).
    pub org: Option<String>,
}

/// An inbox: the page asked for and how many each list holds.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseCounts {
    pub open: i64,
    pub near: i64,
    pub overdue: i64,
}

/// An open case like the one about to be filed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SimilarView {
    pub id: i64,
    pub category_name: String,
    pub state: CaseState,
    pub state_name: String,
    pub address: String,
    pub created_at: String,
    /// Metres from the point given, when both have one.
    pub distance_m: Option<i64>,
}

pub(crate) fn aad_phone(token: &str) -> String {
    format!("case:{token}:reporter_phone")
}

fn aad_dispute(token: &str) -> String {
    format!("case:{token}:dispute")
}

/// Great-circle distance in metres (good enough at a community's scale).
pub fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_000.0_f64;
    let (la1, la2) = (a.1.to_radians(), b.1.to_radians());
    let dla = la2 - la1;
    let dlo = (b.0 - a.0).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

/// The part(s) the caller plays for a case; empty when it is none of theirs.
pub(crate) fn parts_of(caller: &Caller, k: &cases::Case) -> Vec<Part> {
    let mut p = Vec::new();
    let filed_for = |r| k.reporter_resident_id == Some(r);
    if (caller.user_id.is_some() && caller.user_id == k.reporter_user_id)
        || (caller.has_any(CASE_FILERS) && caller.resident_for(Act::Requests).is_some_and(filed_for))
    {
        p.push(Part::Reporter);
    }
    if (k.grid_id.is_some() && caller.covers(GRID_HANDLERS, &k.org_path))
        || caller.covers(DISPATCHERS, &k.community_path)
    {
        p.push(Part::Handler);
    }
    if caller.covers(DISPATCHERS, &k.community_path) {
        p.push(Part::Dispatcher);
    }
    if caller.covers(SUBDISTRICT_HANDLERS, &k.community_path) {
        p.push(Part::Subdistrict);
    }
    p
}

fn is_staff(parts: &[Part]) -> bool {
    parts.iter().any(|p| !matches!(p, Part::Reporter))
}

pub(crate) fn summary(k: &cases::Case, now: i64) -> CaseSummary {
    let (kind, state, priority) = (k.kind, k.state, k.priority);
    // the same due and near times the lists filter by
    let timeliness = match (k.due_at, k.near_at, state.is_open()) {
        (Some(due), Some(near), true) => Some(Schedule { due, near }.at(now)),
        _ => None,
    };
    CaseSummary {
        id: k.id,
        kind,
        kind_name: kind.name_zh().to_owned(),
        category: k.category_code.clone(),
        category_name: k.category_name.clone(),
        category_name_en: k.category_name_en.clone(),
        priority,
        priority_name: priority.name_zh().to_owned(),
        state,
        state_name: state.name_zh().to_owned(),
        title: k.title.clone(),
        community: k.community_code.clone(),
        grid: k.grid_code.clone(),
        grid_name: k.grid_name.clone(),
        address: k.address.clone(),
        assignee_name: k.assignee_name.clone(),
        created_at: rfc3339(k.created_at),
        due_at: k.due_at.map(rfc3339),
        timeliness,
        rating: k.rating,
        version: k.version,
    }
}

/// Sets the deadline fields that follow from the state.
pub(crate) fn reschedule(k: &mut cases::Case, now: i64) {
    let state = k.state;
    let start = if state == CaseState::Submitted { k.created_at } else { k.accepted_at.unwrap_or(k.created_at) };
    let due = match (state, k.escalated_at) {
        (CaseState::Escalated, Some(at)) => Some(escalated_schedule(at, k.accept_due - k.created_at)),
        _ => schedule(state, start, k.accept_due, k.resolve_due),
    };
    match due {
        Some(s) => {
            k.due_at = Some(s.due);
            k.near_at = Some(s.near);
            k.next_alarm_at = Some(if s.near > now { s.near } else { s.due });
        }
        None => {
            k.due_at = None;
            k.near_at = None;
            k.next_alarm_at = None;
        }
    }
}

/// What the timeline and the outbox say a case is.
pub(crate) struct Subject<'a> {
    pub id: i64,
    pub kind: CaseKind,
    pub category_code: &'a str,
    pub state: CaseState,
    pub priority: Priority,
    pub community_code: &'a str,
    pub grid_code: Option<&'a str>,
    pub org_path: &'a str,
}

impl<'a> From<&'a cases::Case> for Subject<'a> {
    fn from(k: &'a cases::Case) -> Self {
        Subject {
            id: k.id,
            kind: k.kind,
            category_code: &k.category_code,
            state: k.state,
            priority: k.priority,
            community_code: &k.community_code,
            grid_code: k.grid_code.as_deref(),
            org_path: &k.org_path,
        }
    }
}

/// What goes out to webhooks about a case: no personal data.
fn outbox_payload(k: &Subject<'_>, event: &str, at: i64) -> String {
    json!({
        "event": event, "case": k.id, "kind": k.kind, "category": k.category_code, "state": k.state,
        "priority": k.priority, "community": k.community_code, "grid": k.grid_code, "at": rfc3339(at),
    })
    .to_string()
}

/// A line for the timeline and the outbox.
pub(crate) struct Logged<'a> {
    pub subject: Subject<'a>,
    pub actor: (Option<i64>, &'a str),
    pub action: EventKind,
    pub from: Option<CaseState>,
    pub note: &'a str,
    pub at: i64,
}

/// Appends to the timeline and the outbox, all lines in two statements; the
/// audit lines are the caller's to write.
pub(crate) async fn log_events(tx: &mut Tx, lines: &[Logged<'_>]) -> Result<()> {
    let events: Vec<cases::NewEvent<'_>> = lines
        .iter()
        .map(|l| cases::NewEvent {
            case_id: l.subject.id,
            at: l.at,
            actor_id: l.actor.0,
            actor_name: l.actor.1,
            action: l.action,
            from_state: l.from,
            to_state: Some(l.subject.state),
            note: l.note,
        })
        .collect();
    cases::add_events(tx, &events).await?;
    let names: Vec<String> = lines.iter().map(|l| format!("case.{}", l.action.code())).collect();
    let objects: Vec<String> = lines.iter().map(|l| format!("case:{}", l.subject.id)).collect();
    let payloads: Vec<String> =
        lines.iter().zip(&names).map(|(l, name)| outbox_payload(&l.subject, name, l.at)).collect();
    let outbox: Vec<cases::NewOutbox<'_>> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| cases::NewOutbox {
            at: l.at,
            event: &names[i],
            org_path: l.subject.org_path,
            object: &objects[i],
            payload: &payloads[i],
        })
        .collect();
    cases::push_outbox_many(tx, &outbox).await?;
    Ok(())
}

/// One line for the timeline and the outbox.
pub(crate) async fn log_event(
    tx: &mut Tx,
    subject: Subject<'_>,
    actor: (Option<i64>, &str),
    action: EventKind,
    from: Option<CaseState>,
    note: &str,
    now: i64,
) -> Result<()> {
    log_events(tx, &[Logged { subject, actor, action, from, note, at: now }]).await
}

/// What a case's view shows beside the case itself.
pub(crate) struct Related {
    pub events: Vec<cases::Event>,
    pub residents: Vec<cases::Concerned>,
    pub revisits: Vec<cases::Revisit>,
    pub photos: Vec<cases::Photo>,
}

/// Where a new case lies: its community, grid and address.
struct Placed {
    community: org::OrgNode,
    grid: Option<org::OrgNode>,
    building_id: Option<i64>,
    household_id: Option<i64>,
    lon: Option<f64>,
    lat: Option<f64>,
    address: String,
}

impl Services {
    /// Files a case; it goes to the grid it lies in, or the dispatch list.
    pub async fn create_case(&self, caller: &Caller, input: &CaseInput) -> Result<CaseView> {
        self.create_case_with_photos(caller, input, vec![]).await
    }

    /// Files a case with photos: each is checked and cleaned first, so a bad
    /// one stores nothing.
    pub async fn create_case_with_photos(
        &self,
        caller: &Caller,
        input: &CaseInput,
        uploads: Vec<Vec<u8>>,
    ) -> Result<CaseView> {
        if uploads.len() > MAX_PHOTOS {
            return Err(too_many_photos());
        }
        let photos = clean_photos(uploads).await?;
        let stored = self.keep_photos(&photos).await?;
        let r = self.denials_audited(caller, self.create_case_in(caller, input, &stored)).await;
        if r.is_err() {
            self.forget_photos(&stored).await;
        }
        r
    }

    pub(crate) async fn create_case_in(
        &self,
        caller: &Caller,
        input: &CaseInput,
        photos: &[Stored],
    ) -> Result<CaseView> {
        if !caller.has_any(CASE_FILERS) {
            return Err(ServiceError::forbidden());
        }
        if caller.proxy.is_some() {
            crate::invitations::own_resident_as(caller, Some(Act::Requests))?;
        }
        let resident_only = !caller.has_any(CASE_HANDLERS);
        let description = crate::fields::text_between("description", &input.description, 1, 2000)?;
        let channel = if resident_only {
            Channel::Portal
        } else {
            match input.channel {
                Some(Channel::Open311) if caller.api_key.is_some() => Channel::Open311,
                Some(Channel::Portal | Channel::Open311) => {
                    return Err(ServiceError::invalid(
                        "channel",
                        "工作人员代为登记时,渠道为来访、来电或走访发现",
                        "staff file cases as walk_in, phone or visit",
                    ));
                }
                Some(c) => c,
                None => Channel::WalkIn,
            }
        };
        if input.lon.is_some() != input.lat.is_some()
            || input.lon.is_some_and(|v| !(-180.0..=180.0).contains(&v))
            || input.lat.is_some_and(|v| !(-90.0..=90.0).contains(&v))
        {
            return Err(ServiceError::invalid(
                "lon",
                "经纬度须同时给出且在有效范围内",
                "give both lon and lat, within range",
            ));
        }
        let reporter_phone = match input.reporter_phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) if !resident_only => Some(Phone::parse(p)?),
            _ => None,
        };
        let reporter_name = match input.reporter_name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) if !resident_only => crate::fields::text_between("reporter_name", n, 1, 30)?,
            _ => caller.display_name.clone(),
        };
        let at_risk = match input.at_risk.as_deref() {
            Some(a) => Some(crate::fields::text_between("at_risk", a, 0, 200)?).filter(|a| !a.is_empty()),
            None => None,
        };
        let parties = match input.parties.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            Some(_) if resident_only => {
                return Err(ServiceError::invalid(
                    "parties",
                    "当事人由调解的网格员或社区工作人员记录,请写在描述里",
                    "the parties are recorded by those who mediate; put them in the description",
                ));
            }
            Some(a) => Some(crate::fields::text_between("parties", a, 0, 500)?),
            None => None,
        };
        // what the case needs to know is read first, outside the write
        let mut tx = self.db.conn().await?;
        let placed = self.place_case(&mut tx, caller, input).await?;
        let com = &placed.community;
        let (cat, deadlines) = cases::category_with_deadlines(&mut tx, com.id, input.category.trim()).await?;
        let Some(cat) = cat.filter(|c| c.active) else {
            return Err(ServiceError::invalid(
                "category",
                format!("社区「{}」没有类别「{}」", com.name, input.category.trim()),
                format!("community '{}' has no category '{}'", com.code, input.category.trim()),
            ));
        };
        let kind = cat.kind;
        if parties.is_some() && kind != CaseKind::Dispute {
            return Err(ServiceError::invalid(
                "parties",
                format!("「{}」不是纠纷,没有当事人", cat.name),
                format!("'{}' is not a dispute: it has no parties", cat.code),
            ));
        }
        let priority = input.priority.unwrap_or(cat.priority);
        let d = deadlines.iter().find(|d| d.priority == priority).map(|d| (d.accept_ms, d.resolve_ms));
        let d = d.unwrap_or_else(|| {
            let d = priority.default_deadlines();
            (d.accept_ms, d.resolve_ms)
        });
        let title = match input.title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => crate::fields::text_between("title", t, 1, 60)?,
            None if placed.address.is_empty() => {
                let start: String = description.chars().take(24).collect();
                let more = if description.chars().count() > 24 { "…" } else { "" };
                format!("{} · {start}{more}", cat.name)
            }
            None => format!("{} · {}", cat.name, placed.address).chars().take(60).collect(),
        };
        let mut concerned = Vec::new();
        for r in &input.residents {
            let Some(res) = yijia_store::residents::get(&mut tx, *r).await? else {
                return Err(ServiceError::invalid("residents", format!("没有居民 {r}"), format!("no resident {r}")));
            };
            if resident_only || !caller.covers(crate::roles::RESIDENT_READERS, &res.grid_path) {
                return Err(ServiceError::invalid("residents", format!("没有居民 {r}"), format!("no resident {r}")));
            }
            concerned.push(cases::Concerned { resident_id: res.id, name: res.name, grid_path: res.grid_path });
        }
        drop(tx);
        let token = uuid::Uuid::new_v4().simple().to_string();
        let phone_sealed = reporter_phone.map(|p| self.keys.seal(&aad_phone(&token), &p.normalized())).transpose()?;
        let dispute_sealed = match parties {
            Some(p) => {
                let rec = DisputeRecord { parties: p, ..Default::default() };
                Some(self.keys.seal(&aad_dispute(&token), &serde_json::to_string(&rec)?)?)
            }
            None => None,
        };
        let now = self.now();
        let (accept_due, resolve_due) = (now + d.0, now + d.1);
        let s = schedule(CaseState::Submitted, now, accept_due, resolve_due);
        let grid = placed.grid.as_ref();
        let org_path = grid.map_or(com.path.clone(), |g| g.path.clone());
        let where_to = match grid {
            Some(g) => format!("分派至{}", g.name),
            None => "待社区分派".to_owned(),
        };
        let mut k = cases::Case {
            id: 0,
            community_id: com.id,
            community_code: com.code.clone(),
            community_name: com.name.clone(),
            community_path: com.path.clone(),
            grid_id: grid.map(|g| g.id),
            grid_code: grid.map(|g| g.code.clone()),
            grid_name: grid.map(|g| g.name.clone()),
            org_path,
            kind,
            category_id: cat.id,
            category_code: cat.code.clone(),
            category_name: cat.name.clone(),
            category_name_en: cat.name_en.clone(),
            priority,
            state: CaseState::Submitted,
            title,
            description,
            channel,
            building_id: placed.building_id,
            household_id: placed.household_id,
            lon: placed.lon,
            lat: placed.lat,
            address: placed.address.clone(),
            reporter_user_id: if resident_only { caller.user_id } else { None },
            reporter_resident_id: if resident_only { caller.resident_for(Act::Requests) } else { None },
            reporter_name,
            reporter_phone_sealed: phone_sealed,
            created_by: caller.user_id,
            created_by_name: caller.display_name.clone(),
            assignee_id: None,
            assignee_name: None,
            accept_due,
            resolve_due,
            due_at: s.map(|s| s.due),
            near_at: s.map(|s| s.near),
            next_alarm_at: s.map(|s| if s.near > now { s.near } else { s.due }),
            accepted_at: None,
            resolved_at: None,
            closed_at: None,
            escalated_at: None,
            rating: None,
            rating_comment: None,
            rated_at: None,
            at_risk,
            dispute_sealed,
            token: Some(token),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let job = NewCaseRows {
            k: k.clone(),
            caller: caller.clone(),
            residents: input.residents.clone(),
            photos: photos.to_vec(),
            note: where_to.clone(),
        };
        let (id, photo_rows) = self.write_new_case(job).await?;
        k.id = id;
        // the answer is made from what was just written, without reading it back
        let created = cases::Event {
            id: 0,
            case_id: id,
            at: now,
            actor_id: caller.user_id,
            actor_name: caller.display_name.clone(),
            action: EventKind::Created,
            from_state: None,
            to_state: Some(k.state),
            note: where_to,
        };
        let related = Related { events: vec![created], residents: concerned, revisits: vec![], photos: photo_rows };
        self.build_view(caller, &k, related)
    }

    /// Routing: a household or building gives its grid; a point, the grid
    /// whose boundary holds it; a grid code, itself; a resident, their
    /// grid; otherwise the community's dispatch list.
    async fn place_case(&self, tx: &mut Tx, caller: &Caller, input: &CaseInput) -> Result<Placed> {
        let resident_only = !caller.has_any(CASE_HANDLERS);
        let mut grid_id: Option<i64> = None;
        let mut community_id: Option<i64> = None;
        let (mut building_id, mut household_id) = (None, None);
        let (mut lon, mut lat) = (input.lon, input.lat);
        let mut address = String::new();
        if let Some(h) = input.household_id {
            let a = places::address(tx, h).await?.filter(|_| !resident_only);
            let Some(a) = a else {
                return Err(ServiceError::invalid("household_id", format!("没有户 {h}"), format!("no household {h}")));
            };
            let b = places::building_place(tx, a.building_id).await?.ok_or(ServiceError::NotFound)?;
            let g = org::by_code(tx, &a.grid_code).await?;
            // a door is someone's home: only those who may read its grid place a case there
            if !g.as_ref().is_some_and(|g| caller.covers(crate::roles::RESIDENT_READERS, &g.path)) {
                return Err(ServiceError::denied("case_create", format!("household:{h}")));
            }
            grid_id = g.map(|g| g.id);
            community_id = Some(b.community_id);
            (building_id, household_id) = (Some(a.building_id), Some(h));
            address = format!("{}{}{}{}", a.estate, a.building, a.entrance, a.door);
            if lon.is_none() {
                (lon, lat) = (b.lon, b.lat);
            }
        } else if let Some(bid) = input.building_id {
            let Some(b) = places::building_place(tx, bid).await? else {
                return Err(ServiceError::invalid(
                    "building_id",
                    format!("没有楼栋 {bid}"),
                    format!("no building {bid}"),
                ));
            };
            grid_id = b.household_grid_id.or(b.estate_grid_id);
            community_id = Some(b.community_id);
            building_id = Some(bid);
            address = format!("{}{}", b.estate, b.name);
            if lon.is_none() {
                (lon, lat) = (b.lon, b.lat);
            }
        }
        // staff may name the grid outright; it wins over the place's
        if let Some(code) = input.grid.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            let g = org::by_code(tx, code).await?.filter(|g| g.kind == OrgKind::Grid && !resident_only);
            let in_place = |g: &org::OrgNode| community_id.is_none_or(|c| g.parent_id == Some(c));
            let Some(g) = g.filter(in_place) else {
                return Err(ServiceError::invalid(
                    "grid",
                    format!("没有网格「{code}」,或它不在所选地点的社区"),
                    format!("no grid '{code}', or not in the place's community"),
                ));
            };
            grid_id = Some(g.id);
        }
        // the community: from the place, else the one named or the caller's
        let community = match community_id {
            Some(id) => org::by_id(tx, id).await?,
            None => match grid_id {
                Some(g) => {
                    let g = org::by_id(tx, g).await?;
                    community_of(tx, &g.path).await?.ok_or(ServiceError::NotFound)?
                }
                None => self.caller_community(tx, caller, CASE_FILERS, input.community.as_deref()).await?,
            },
        };
        if let Some(named) = input.community.as_deref().map(str::trim).filter(|c| !c.is_empty())
            && named != community.code
        {
            return Err(ServiceError::invalid(
                "community",
                format!("所选地点不在社区「{named}」"),
                format!("the place given is not in community '{named}'"),
            ));
        }
        // filing needs a grant at or inside the community
        if !works_in(caller, CASE_FILERS, &community.path) {
            return Err(ServiceError::denied("case_create", format!("org:{}", community.code)));
        }
        if grid_id.is_none()
            && let (Some(x), Some(y)) = (lon, lat)
        {
            for (id, _path, b) in places::grid_boundaries_under(tx, &community.path).await? {
                if Boundary::parse(&b).is_ok_and(|b| b.contains(x, y)) {
                    grid_id = Some(id);
                    break;
                }
            }
        }
        if grid_id.is_none() && resident_only {
            // a resident's request without a place concerns their home grid
            grid_id = match caller
                .grants
                .iter()
                .find(|g| g.role == Role::Resident && g.org_path.starts_with(&community.path))
            {
                Some(g) => org::by_code(tx, &g.org_code).await?.filter(|n| n.kind == OrgKind::Grid).map(|n| n.id),
                None => None,
            };
        }
        let grid = match grid_id {
            Some(id) => Some(org::by_id(tx, id).await?).filter(|g| g.path.starts_with(&community.path)),
            None => None,
        };
        Ok(Placed { community, grid, building_id, household_id, lon, lat, address })
    }

    /// The choices of the new-case form in the caller's community.
    pub async fn case_form_options(&self, caller: &Caller, community: Option<&str>) -> Result<FormOptions> {
        let categories = self.case_categories(caller, community).await?;
        let mut tx = self.db.conn().await?;
        let com = self.caller_community(&mut tx, caller, CASE_FILERS, community).await?;
        let buildings = places::buildings_of(&mut tx, com.id)
            .await?
            .into_iter()
            .map(|b| (b.id, format!("{} {}", b.estate, b.name)))
            .collect();
        let grids = org::children(&mut tx, com.id)
            .await?
            .into_iter()
            .filter(|g| g.kind == OrgKind::Grid)
            .map(|g| (g.code, g.name))
            .collect();
        let home = match caller.resident_id {
            Some(r) => residents::get(&mut tx, r).await?.and_then(|r| r.household_id),
            None => None,
        };
        let home_building = match home {
            Some(h) => places::address(&mut tx, h).await?.map(|a| a.building_id),
            None => None,
        };
        Ok(FormOptions { community: com.code, community_name: com.name, categories, buildings, grids, home_building })
    }

    /// A case in the caller's scope, with the parts they play; 404 (and an
    /// audited denial) otherwise.
    async fn case_in_scope(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        id: i64,
        action: &str,
    ) -> Result<(cases::Case, Vec<Part>)> {
        if let Some(k) = cases::get(tx, id).await? {
            let parts = parts_of(caller, &k);
            if !parts.is_empty() {
                return Ok((k, parts));
            }
        }
        Err(ServiceError::denied(action, format!("case:{id}")))
    }

    fn context(&self, k: &cases::Case, now: i64) -> Context {
        Context { now, resolved_at: k.resolved_at, reopen_window_ms: self.settings.case_reopen_window_ms }
    }

    /// Everything about a case the caller may see.
    pub(crate) async fn case_view(&self, tx: &mut Tx, caller: &Caller, k: &cases::Case) -> Result<CaseView> {
        let related = Related {
            events: cases::events(tx, k.id).await?,
            residents: cases::residents_of(tx, k.id).await?,
            revisits: cases::revisits(tx, k.id).await?,
            photos: cases::photos(tx, k.id).await?,
        };
        self.build_view(caller, k, related)
    }

    /// A case's view from what is known of it.
    fn build_view(&self, caller: &Caller, k: &cases::Case, related: Related) -> Result<CaseView> {
        let now = self.now();
        let parts = parts_of(caller, k);
        let staff = is_staff(&parts);
        let state = k.state;
        let ctx = self.context(k, now);
        let mut actions: Vec<Action> = Vec::new();
        for p in &parts {
            for a in allowed(state, *p, &ctx) {
                if !actions.contains(&a) {
                    actions.push(a);
                }
            }
        }
        let token = k.token.clone().unwrap_or_default();
        let reporter_phone = match (&k.reporter_phone_sealed, staff) {
            (Some(s), true) => Some(Phone::parse(&self.keys.open(&aad_phone(&token), s)?)?.masked()),
            _ => None,
        };
        let handles = k.kind == CaseKind::Dispute && handles_dispute(&parts, k.escalated_at.is_some());
        let dispute = match (&k.dispute_sealed, handles) {
            (Some(s), true) => Some(serde_json::from_str(&self.keys.open(&aad_dispute(&token), s)?)?),
            (None, true) => Some(DisputeRecord::default()),
            _ => None,
        };
        let timeline = related
            .events
            .into_iter()
            .filter(|e| staff || !matches!(e.action, EventKind::Reminder | EventKind::Overdue | EventKind::Dispute))
            .map(|e| EventView {
                at: rfc3339(e.at),
                actor: e.actor_name,
                action_name: e.action.name_zh().to_owned(),
                action: e.action,
                from_state: e.from_state,
                to_state: e.to_state,
                note_en: yijia_domain::case::system_note_en(&e.note),
                note: e.note,
            })
            .collect();
        let residents = if staff {
            related
                .residents
                .into_iter()
                .filter(|r| caller.covers(crate::roles::RESIDENT_READERS, &r.grid_path))
                .map(|r| ConcernedView { resident_id: r.resident_id, name: r.name })
                .collect()
        } else {
            vec![]
        };
        let revisits = related
            .revisits
            .into_iter()
            .map(|r| RevisitView {
                id: r.id,
                due_at: rfc3339(r.due_at),
                done_at: r.done_at.map(rfc3339),
                done_by: r.done_by,
                note: r.note,
            })
            .collect();
        let photos = related
            .photos
            .into_iter()
            .map(|p| PhotoView {
                url: format!("/api/v1/cases/{}/photos/{}", k.id, p.id),
                id: p.id,
                content_type: p.content_type,
                width: p.width,
                height: p.height,
                by: p.created_by_name,
                at: rfc3339(p.created_at),
            })
            .collect();
        let channel = k.channel;
        Ok(CaseView {
            summary: summary(k, now),
            category_name_en: k.category_name_en.clone(),
            description: k.description.clone(),
            channel,
            channel_name: channel.name_zh().to_owned(),
            building_id: k.building_id,
            household_id: k.household_id,
            lon: k.lon,
            lat: k.lat,
            reporter_name: k.reporter_name.clone(),
            reporter_phone,
            created_by: k.created_by_name.clone(),
            accept_due: rfc3339(k.accept_due),
            resolve_due: rfc3339(k.resolve_due),
            accepted_at: k.accepted_at.map(rfc3339),
            resolved_at: k.resolved_at.map(rfc3339),
            closed_at: k.closed_at.map(rfc3339),
            escalated_at: k.escalated_at.map(rfc3339),
            rating_comment: k.rating_comment.clone(),
            at_risk: k.at_risk.clone(),
            dispute,
            residents,
            timeline,
            revisits,
            photos,
            actions: actions
                .into_iter()
                .map(|a| ActionView { action: a, name: a.name_zh().to_owned(), needs_note: a.needs_reason() })
                .collect(),
            can_rate: parts.contains(&Part::Reporter)
                && matches!(state, CaseState::Resolved | CaseState::Closed)
                && k.rating.is_none(),
            can_note: staff && state.is_open(),
            can_add_photo: (staff || state.is_open()) && !parts.is_empty(),
            can_revisit: staff,
        })
    }

    /// One case. Reading a dispute's record is audited.
    pub async fn get_case(&self, caller: &Caller, id: i64) -> Result<CaseView> {
        self.denials_audited(caller, self.get_case_in(caller, id)).await
    }

    async fn get_case_in(&self, caller: &Caller, id: i64) -> Result<CaseView> {
        let mut tx = self.db.conn().await?;
        let (k, parts) = self.case_in_scope(&mut tx, caller, id, "case_view").await?;
        let view = self.case_view(&mut tx, caller, &k).await?;
        drop(tx);
        if k.kind == CaseKind::Dispute && handles_dispute(&parts, k.escalated_at.is_some()) {
            let mut tx = self.db.write().await?;
            record(&mut tx, caller, self.now(), &Event::ok("case_view", format!("case:{id}"), &k.org_path)).await?;
            tx.commit().await?;
        }
        Ok(view)
    }

    /// A page of one of the caller's lists, and the counts of their inbox.
    pub async fn list_cases(
        &self,
        caller: &Caller,
        q: &CaseQuery,
        page: PageReq,
    ) -> Result<(Page<CaseSummary>, CaseCounts)> {
        let now = self.now();
        let staff_paths = caller.scope_paths(CASE_HANDLERS);
        let mut f = cases::Filter::default();
        let mut counts_filter = cases::Filter::default();
        if staff_paths.is_empty() {
            // residents: the cases they filed
            let Some(me) = caller.user_id.filter(|_| caller.has_any(CASE_FILERS)) else {
                return Err(ServiceError::forbidden());
            };
            let me = cases::Reporter { user: me, resident: caller.resident_for(Act::Requests) };
            f.reporter = Some(me);
            counts_filter.reporter = Some(me);
        } else {
            f.paths = staff_paths.clone();
            counts_filter.paths = staff_paths.clone();
            match q.case_box {
                CaseBox::Mine => {
                    f.assignee = caller.user_id.or(Some(-1));
                    f.open = true;
                }
                CaseBox::Grids => f.open = true,
                CaseBox::Dispatch => {
                    f.paths = caller.scope_paths(DISPATCHERS);
                    f.unplaced = true;
                    f.open = true;
                    if f.paths.is_empty() {
                        return Err(ServiceError::forbidden());
                    }
                }
                CaseBox::Near => f.near_at = Some(now),
                CaseBox::Overdue => f.overdue_at = Some(now),
                CaseBox::Escalated => f.state = Some(CaseState::Escalated),
                CaseBox::All => {}
            }
        }
        f.kind = q.kind;
        if let Some(s) = q.state {
            f.state = Some(s);
        }
        let mut tx = self.db.conn().await?;
        if let Some(code) = q.org.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            // narrows the list (and its counts) to one place the caller covers
            let roles = if q.case_box == CaseBox::Dispatch { DISPATCHERS } else { CASE_HANDLERS };
            let node =
                org::by_code(&mut tx, code).await?.filter(|n| !staff_paths.is_empty() && caller.covers(roles, &n.path));
            let Some(node) = node else {
                return Err(ServiceError::invalid(
                    "org",
                    format!("您的范围内没有「{code}」"),
                    format!("no '{code}' in your scope"),
                ));
            };
            f.paths = vec![node.path.clone()];
            counts_filter.paths = vec![node.path];
        }
        f.category_code = q.category.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned);
        let (rows, total) = cases::list(&mut tx, &f, page.per_page, page.offset()).await?;
        let c = cases::counts(&mut tx, &counts_filter, now).await?;
        let items = rows.iter().map(|k| summary(k, now)).collect();
        Ok((Page::of(items, total, page), CaseCounts { open: c.open, near: c.near, overdue: c.overdue }))
    }

    /// Takes one step of the workflow.
    pub async fn act_on_case(&self, caller: &Caller, id: i64, input: &ActionInput) -> Result<CaseView> {
        self.denials_audited(caller, self.act_on_case_in(caller, id, input)).await
    }

    async fn act_on_case_in(&self, caller: &Caller, id: i64, input: &ActionInput) -> Result<CaseView> {
        let note = input.note.as_deref().map(str::trim).unwrap_or("");
        if input.action.needs_reason() {
            crate::fields::text_between("note", note, 2, 1000)?;
        } else {
            crate::fields::text_between("note", note, 0, 1000)?;
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        let (mut k, parts) = self.case_in_scope(&mut tx, caller, id, &format!("case_{}", input.action.code())).await?;
        if k.version != input.version {
            return Err(stale());
        }
        let from = k.state;
        let ctx = self.context(&k, now);
        let mut last = None;
        let mut next = None;
        for p in &parts {
            match transition(from, input.action, *p, &ctx) {
                Ok(s) => {
                    next = Some(s);
                    break;
                }
                Err(m) => last = Some(m),
            }
        }
        let Some(to) = next else {
            return Err(ServiceError::Conflict(last.unwrap_or_else(|| Msg::new("不能执行此操作", "not allowed"))));
        };
        let mut note = note.to_owned();
        match input.action {
            Action::Accept => {
                k.accepted_at = Some(now);
                k.assignee_id = caller.user_id;
                k.assignee_name = Some(caller.display_name.clone());
            }
            Action::Resolve => k.resolved_at = Some(now),
            Action::Close => k.closed_at = Some(now),
            Action::Escalate => k.escalated_at = Some(now),
            Action::Transfer => {
                let code = input.grid.as_deref().map(str::trim).unwrap_or("");
                let g = org::by_code(&mut tx, code)
                    .await?
                    .filter(|g| g.kind == OrgKind::Grid && g.path.starts_with(&k.community_path));
                let Some(g) = g else {
                    return Err(ServiceError::invalid(
                        "grid",
                        format!("社区内没有网格「{code}」"),
                        format!("no grid '{code}' in the community"),
                    ));
                };
                if Some(g.id) == k.grid_id {
                    return Err(ServiceError::invalid("grid", "已在该网格", "the case is in that grid already"));
                }
                note = format!("转至{}:{note}", g.name);
                k.grid_id = Some(g.id);
                k.org_path = g.path.clone();
                k.grid_code = Some(g.code.clone());
                k.grid_name = Some(g.name.clone());
                k.assignee_id = None;
                k.assignee_name = None;
                k.accepted_at = None;
            }
            Action::Reopen => {
                // a fresh time to resolve, as long as the first one was
                let window = k.resolve_due - k.created_at;
                k.resolve_due = now + window;
                k.resolved_at = None;
                k.closed_at = None;
                k.accepted_at = Some(now);
                k.rating = None;
                k.rating_comment = None;
                k.rated_at = None;
            }
            Action::Start | Action::Reject => {}
        }
        if from == CaseState::Escalated && input.action == Action::Accept {
            // the subdistrict takes it on with a fresh time to resolve
            k.resolve_due = now + (k.resolve_due - k.created_at).max(DAY_MS);
        }
        k.state = to;
        reschedule(&mut k, now);
        if !cases::save(&mut tx, &k, now).await? {
            return Err(stale());
        }
        k.version += 1;
        if input.action == Action::Resolve && k.kind == CaseKind::Dispute {
            for d in DISPUTE_REVISITS_DAYS {
                cases::add_revisit(&mut tx, k.id, now + d * DAY_MS).await?;
            }
        }
        log_event(
            &mut tx,
            (&k).into(),
            (caller.user_id, &caller.display_name),
            input.action.into(),
            Some(from),
            &note,
            now,
        )
        .await?;
        let action = format!("case_{}", input.action.code());
        let e = Event::ok(&action, format!("case:{id}"), &k.org_path);
        record(&mut tx, caller, now, &e.with(json!({ "from": from.code(), "to": to.code() }))).await?;
        let view = self.case_view(&mut tx, caller, &k).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// The resident rates what was done (once, after it is resolved).
    pub async fn rate_case(&self, caller: &Caller, id: i64, input: &RatingInput) -> Result<CaseView> {
        self.denials_audited(caller, self.rate_case_in(caller, id, input)).await
    }

    async fn rate_case_in(&self, caller: &Caller, id: i64, input: &RatingInput) -> Result<CaseView> {
        if !(1..=5).contains(&input.rating) {
            return Err(ServiceError::invalid("rating", "评分须为 1 到 5", "the rating is 1 to 5"));
        }
        let comment = crate::fields::text_between("comment", input.comment.as_deref().unwrap_or(""), 0, 500)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let (mut k, parts) = self.case_in_scope(&mut tx, caller, id, "case_rate").await?;
        if !parts.contains(&Part::Reporter) {
            return Err(ServiceError::Forbidden(Msg::new("只有提交人可以评价", "only the one who filed it rates it")));
        }
        if !matches!(k.state, CaseState::Resolved | CaseState::Closed) || k.rating.is_some() {
            return Err(ServiceError::Conflict(Msg::new(
                "办结后才能评价,且只能评价一次",
                "a case is rated once, after it is resolved",
            )));
        }
        k.rating = Some(input.rating);
        k.rating_comment = Some(comment.clone()).filter(|c| !c.is_empty());
        k.rated_at = Some(now);
        if !cases::save(&mut tx, &k, now).await? {
            return Err(stale());
        }
        k.version += 1;
        let note =
            format!("{} 星{}", input.rating, if comment.is_empty() { String::new() } else { format!(":{comment}") });
        log_event(
            &mut tx,
            (&k).into(),
            (caller.user_id, &caller.display_name),
            EventKind::Rating,
            Some(k.state),
            &note,
            now,
        )
        .await?;
        let e = Event::ok("case_rate", format!("case:{id}"), &k.org_path);
        record(&mut tx, caller, now, &e.with(json!({ "rating": input.rating }))).await?;
        let view = self.case_view(&mut tx, caller, &k).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// A progress note on an open case, by those who handle it.
    pub async fn note_case(&self, caller: &Caller, id: i64, input: &NoteInput) -> Result<CaseView> {
        self.denials_audited(caller, self.note_case_in(caller, id, input)).await
    }

    async fn note_case_in(&self, caller: &Caller, id: i64, input: &NoteInput) -> Result<CaseView> {
        let note = crate::fields::text_between("note", &input.note, 1, 1000)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let (k, parts) = self.case_in_scope(&mut tx, caller, id, "case_note").await?;
        let open = k.state.is_open();
        if !is_staff(&parts) || !open {
            return Err(ServiceError::Conflict(Msg::new(
                "只有办理人员可以在未办结的事件上记录进展",
                "only those handling an open case add notes",
            )));
        }
        log_event(
            &mut tx,
            (&k).into(),
            (caller.user_id, &caller.display_name),
            EventKind::Note,
            Some(k.state),
            &note,
            now,
        )
        .await?;
        record(&mut tx, caller, now, &Event::ok("case_note", format!("case:{id}"), &k.org_path)).await?;
        let view = self.case_view(&mut tx, caller, &k).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Records a dispute's revisit as done, with what was found; on the
    /// timeline and in the audit log.
    pub async fn finish_revisit(
        &self,
        caller: &Caller,
        id: i64,
        revisit_id: i64,
        input: &NoteInput,
    ) -> Result<CaseView> {
        self.denials_audited(caller, async {
            let note = crate::fields::text_between("note", &input.note, 1, 1000)?;
            let now = self.now();
            let mut tx = self.db.write().await?;
            let (k, parts) = self.case_in_scope(&mut tx, caller, id, "case_revisit").await?;
            if !is_staff(&parts) {
                return Err(ServiceError::Conflict(Msg::new(
                    "只有办理人员可以记录回访",
                    "only those handling a case revisit",
                )));
            }
            if !cases::revisits(&mut tx, id).await?.iter().any(|r| r.id == revisit_id) {
                return Err(ServiceError::NotFound);
            }
            if !cases::finish_revisit(&mut tx, revisit_id, &caller.display_name, &note, now).await? {
                return Err(ServiceError::Conflict(Msg::new("这次回访已记录过", "this revisit is recorded already")));
            }
            log_event(
                &mut tx,
                (&k).into(),
                (caller.user_id, &caller.display_name),
                EventKind::Revisit,
                Some(k.state),
                &note,
                now,
            )
            .await?;
            let e = Event::ok("case_revisit", format!("case:{id}"), &k.org_path);
            record(&mut tx, caller, now, &e.with(json!({ "revisit": revisit_id }))).await?;
            let view = self.case_view(&mut tx, caller, &k).await?;
            tx.commit().await?;
            Ok(view)
        })
        .await
    }

    /// Records a dispute's parties, mediation and agreement (sealed).
    pub async fn record_dispute(&self, caller: &Caller, id: i64, input: &DisputeInput) -> Result<CaseView> {
        self.denials_audited(caller, self.record_dispute_in(caller, id, input)).await
    }

    async fn record_dispute_in(&self, caller: &Caller, id: i64, input: &DisputeInput) -> Result<CaseView> {
        let now = self.now();
        let mut tx = self.db.write().await?;
        let (mut k, parts) = self.case_in_scope(&mut tx, caller, id, "case_dispute").await?;
        if k.kind != CaseKind::Dispute || !handles_dispute(&parts, k.escalated_at.is_some()) {
            return Err(ServiceError::Conflict(Msg::new(
                "只有办理人员可以记录纠纷的调解情况",
                "only those handling a dispute record its mediation",
            )));
        }
        if k.version != input.version {
            return Err(stale());
        }
        let token = k.token.clone().unwrap_or_default();
        let mut rec: DisputeRecord = match &k.dispute_sealed {
            Some(s) => serde_json::from_str(&self.keys.open(&aad_dispute(&token), s)?)?,
            None => DisputeRecord::default(),
        };
        if let Some(p) = &input.parties {
            rec.parties = crate::fields::text_between("parties", p, 0, 500)?;
        }
        if let Some(m) = &input.mediation {
            rec.mediation = crate::fields::text_between("mediation", m, 0, 4000)?;
        }
        if let Some(a) = &input.agreement {
            rec.agreement = crate::fields::text_between("agreement", a, 0, 2000)?;
        }
        k.dispute_sealed = Some(self.keys.seal(&aad_dispute(&token), &serde_json::to_string(&rec)?)?);
        if !cases::save(&mut tx, &k, now).await? {
            return Err(stale());
        }
        k.version += 1;
        // the timeline says that it changed, never what it says
        let what: Vec<&str> = [("当事人", &input.parties), ("调解记录", &input.mediation), ("协议", &input.agreement)]
            .into_iter()
            .filter(|(_, v)| v.is_some())
            .map(|(n, _)| n)
            .collect();
        log_event(
            &mut tx,
            (&k).into(),
            (caller.user_id, &caller.display_name),
            EventKind::Dispute,
            Some(k.state),
            &what.join("、"),
            now,
        )
        .await?;
        record(&mut tx, caller, now, &Event::ok("case_dispute", format!("case:{id}"), &k.org_path)).await?;
        let view = self.case_view(&mut tx, caller, &k).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Open cases of the same category in the same building or within
    /// 100 m, filed in the last 7 days: shown before a duplicate is filed.
    /// Only cases the caller may open, and never a dispute: a hint must
    /// not list a neighbour's family quarrel by its door.
    pub async fn similar_cases(
        &self,
        caller: &Caller,
        community: Option<&str>,
        category: &str,
        building_id: Option<i64>,
        point: Option<(f64, f64)>,
    ) -> Result<Vec<SimilarView>> {
        let now = self.now();
        let mut tx = self.db.conn().await?;
        let com = match building_id {
            Some(b) => match places::building_place(&mut tx, b).await? {
                Some(p) => org::by_id(&mut tx, p.community_id).await?,
                None => return Ok(vec![]),
            },
            None => self.caller_community(&mut tx, caller, CASE_FILERS, community).await?,
        };
        if !works_in(caller, CASE_FILERS, &com.path) {
            return Ok(vec![]);
        }
        let Some(cat) = cases::category_by_code(&mut tx, com.id, category.trim()).await? else {
            return Ok(vec![]);
        };
        let bbox = point.map(|(x, y)| {
            let dlat = SIMILAR_METRES / 111_000.0;
            let dlon = dlat / y.to_radians().cos().max(0.01);
            (x - dlon, y - dlat, x + dlon, y + dlat)
        });
        let rows = cases::similar(&mut tx, cat.id, building_id, bbox, now - SIMILAR_DAYS * DAY_MS).await?;
        Ok(rows
            .into_iter()
            .filter_map(|k| {
                let distance = match (point, k.lon, k.lat) {
                    (Some(p), Some(x), Some(y)) => Some(metres(p, (x, y))),
                    _ => None,
                };
                let same_building = building_id.is_some() && k.building_id == building_id;
                if !same_building && distance.is_none_or(|d| d > SIMILAR_METRES) {
                    return None;
                }
                if k.kind == CaseKind::Dispute || parts_of(caller, &k).is_empty() {
                    return None;
                }
                let state = k.state;
                Some(SimilarView {
                    id: k.id,
                    category_name: k.category_name.clone(),
                    state,
                    state_name: state.name_zh().to_owned(),
                    address: k.address.clone(),
                    created_at: rfc3339(k.created_at),
                    distance_m: distance.map(|d| d.round() as i64),
                })
            })
            .collect())
    }
}

/// The most photos one case keeps.
pub const MAX_PHOTOS: usize = 9;

fn too_many_photos() -> ServiceError {
    ServiceError::invalid(
        "photo",
        format!("每件事最多 {MAX_PHOTOS} 张照片"),
        format!("a case keeps at most {MAX_PHOTOS} photos"),
    )
}

/// A cleaned photo kept in the file store, not yet recorded.
#[derive(Clone)]
pub(crate) struct Stored {
    pub name: String,
    pub photo: photos::Photo,
}

/// Checks and cleans uploads off the async threads (decoding is work),
/// within the server's decoding budget.
pub(crate) async fn clean_photos(uploads: Vec<Vec<u8>>) -> Result<Vec<photos::Photo>> {
    photos::clean_all(uploads).await
}

async fn record_photos(
    tx: &mut Tx,
    case_id: i64,
    caller: &Caller,
    photos: &[Stored],
    now: i64,
) -> Result<Vec<cases::Photo>> {
    let mut rows = Vec::new();
    for p in photos {
        let new = cases::NewPhoto {
            case_id,
            name: &p.name,
            content_type: p.photo.content_type,
            bytes: p.photo.bytes.len() as i64,
            width: i64::from(p.photo.width),
            height: i64::from(p.photo.height),
            created_by: caller.user_id,
            created_by_name: &caller.display_name,
            now,
        };
        let id = cases::add_photo(tx, &new).await?;
        rows.push(cases::Photo {
            id,
            case_id,
            name: p.name.clone(),
            content_type: p.photo.content_type.to_owned(),
            bytes: new.bytes,
            width: new.width,
            height: new.height,
            created_by_name: caller.display_name.clone(),
            created_at: now,
        });
    }
    Ok(rows)
}

/// A photo as a case shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PhotoView {
    pub id: i64,
    /// Where to fetch it (with your session or token).
    pub url: String,
    pub content_type: String,
    pub width: i64,
    pub height: i64,
    pub by: String,
    pub at: String,
}

/// A photo's bytes, to be sent as an attachment.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoFile {
    pub bytes: Vec<u8>,
    pub content_type: String,
    pub file_name: String,
}

impl Services {
    pub(crate) async fn keep_photos(&self, photos: &[photos::Photo]) -> Result<Vec<Stored>> {
        let mut stored = Vec::new();
        for p in photos {
            let name = format!("{}.{}", uuid::Uuid::new_v4().simple(), p.extension);
            if let Err(e) = self.files.put(&name, p.bytes.clone()).await {
                self.forget_photos(&stored).await;
                return Err(e);
            }
            stored.push(Stored { name, photo: p.clone() });
        }
        Ok(stored)
    }

    /// Removes files whose record was never written.
    pub(crate) async fn forget_photos(&self, stored: &[Stored]) {
        for s in stored {
            if let Err(e) = self.files.remove(&s.name).await {
                tracing::warn!(file = %s.name, error = %crate::error::Report(&e), "an unrecorded photo stays behind");
            }
        }
    }

    /// Adds photos to a case: anyone who handles it, or who filed it while
    /// it is open.
    pub async fn add_case_photos(&self, caller: &Caller, id: i64, uploads: Vec<Vec<u8>>) -> Result<CaseView> {
        if uploads.is_empty() {
            return Err(ServiceError::invalid("photo", "请选择照片", "choose a photo"));
        }
        let photos = clean_photos(uploads).await?;
        let stored = self.keep_photos(&photos).await?;
        let r = self.denials_audited(caller, self.add_case_photos_in(caller, id, &stored)).await;
        if r.is_err() {
            self.forget_photos(&stored).await;
        }
        r
    }

    async fn add_case_photos_in(&self, caller: &Caller, id: i64, stored: &[Stored]) -> Result<CaseView> {
        let now = self.now();
        let mut tx = self.db.write().await?;
        let (k, parts) = self.case_in_scope(&mut tx, caller, id, "case_photo_add").await?;
        let open = k.state.is_open();
        if !open && !is_staff(&parts) {
            return Err(ServiceError::Conflict(Msg::new(
                "事件已办结,不能再添加照片",
                "the case is finished; no more photos",
            )));
        }
        if cases::photos(&mut tx, id).await?.len() + stored.len() > MAX_PHOTOS {
            return Err(too_many_photos());
        }
        record_photos(&mut tx, id, caller, stored, now).await?;
        let note = format!("{} 张", stored.len());
        log_event(
            &mut tx,
            (&k).into(),
            (caller.user_id, &caller.display_name),
            EventKind::Photo,
            Some(k.state),
            &note,
            now,
        )
        .await?;
        let e = Event::ok("case_photo_add", format!("case:{id}"), &k.org_path);
        record(&mut tx, caller, now, &e.with(json!({ "photos": stored.len() }))).await?;
        let view = self.case_view(&mut tx, caller, &k).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// A photo of a case, for those who may see the case.
    pub async fn case_photo(&self, caller: &Caller, id: i64, photo_id: i64) -> Result<PhotoFile> {
        self.denials_audited(caller, async {
            let mut tx = self.db.conn().await?;
            let (_, _) = self.case_in_scope(&mut tx, caller, id, "case_photo").await?;
            let p = cases::photo(&mut tx, id, photo_id).await?.ok_or(ServiceError::NotFound)?;
            drop(tx);
            let bytes = self.files.get(&p.name).await?;
            let ext = p.name.rsplit('.').next().unwrap_or("jpg");
            Ok(PhotoFile { bytes, content_type: p.content_type, file_name: format!("case-{id}-{photo_id}.{ext}") })
        })
        .await
    }
}

fn stale() -> ServiceError {
    ServiceError::Conflict(Msg::new(
        "此事件刚被他人更新,请刷新后再操作",
        "someone else changed this case meanwhile; reload it and try again",
    ))
}

/// Closes a case on an authority beyond its workflow: a repair project the
/// residents accepted (`by` "project"), or the death of the person who
/// filed it ("resident_deceased"). Whatever state the case was in (short
/// of closed or rejected) it is resolved and closed, with the reason on its
/// timeline. True when it was closed now.
pub(crate) async fn close_for(
    tx: &mut Tx,
    caller: &Caller,
    case_id: i64,
    note: &str,
    by: &str,
    now: i64,
) -> Result<bool> {
    let Some(mut k) = cases::get(tx, case_id).await? else { return Ok(false) };
    let path = yijia_domain::case::closing_path(k.state);
    if path.is_empty() {
        return Ok(false);
    }
    let from = k.state;
    // each move on the timeline, as the workflow has them: the result and
    // the closing say why
    let mut lines = Vec::with_capacity(path.len());
    for (action, to) in path {
        let said = if matches!(action, Action::Resolve | Action::Close) { note } else { "" };
        lines.push((EventKind::from(*action), k.state, *to, said));
        k.state = *to;
    }
    k.resolved_at = k.resolved_at.or(Some(now));
    k.closed_at = Some(now);
    reschedule(&mut k, now);
    if !cases::save(tx, &k, now).await? {
        return Err(stale());
    }
    k.version += 1;
    let actor = (caller.user_id, caller.display_name.as_str());
    for (kind, was, to, said) in lines {
        k.state = to;
        log_event(tx, (&k).into(), actor, kind, Some(was), said, now).await?;
    }
    let e = Event::ok("case_close", format!("case:{case_id}"), &k.org_path);
    record(tx, caller, now, &e.with(json!({ "from": from, "to": "closed", "by": by }))).await?;
    Ok(true)
}
