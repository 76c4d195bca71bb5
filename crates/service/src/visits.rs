//! Visits and care plans: logging a visit (once per id the phone chose),
//! keeping every resident's plan (last contact, next visit due) current,
//! today's walk list, and coverage.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::Invalid;
use yijia_domain::care::{
    Finding, Lateness, VisitMode, check_interval, counts_by, due_on, first_due_on, kept_on_time, lateness,
    plan_interval, walk_order,
};
use yijia_domain::case::{CaseKind, Channel, Priority};
use yijia_domain::org::OrgKind;
use yijia_domain::registry::Category;
use yijia_domain::role::Role;
use yijia_domain::text::natural_cmp;
use yijia_domain::time::{DAY_MS, rfc3339, to_local};
use yijia_store::visits::{self, Plan, PlanInput, Whose};
use yijia_store::{Tx, org};

use crate::audit::{Event, record, record_many};
use crate::cases::{CaseInput, clean_photos};
use crate::fields::ymd;
use crate::roles::{CARE_PLANNERS, COVERAGE_READERS, VISITORS};
use crate::{Caller, Result, ServiceError, Services};

/// The most visits one request carries (a phone's queue is sent in batches).
pub const MAX_BATCH: usize = 100;
/// How old a queued visit may be when it arrives.
pub const MAX_AGE_DAYS: i64 = 30;

/// A visit as the phone sends it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitInput {
    /// Chosen on the phone (8–64 letters, digits, `-` or `_`): the same
    /// visit sent again is recorded once.
    pub client_id: String,
    /// Whom: a resident, or a household (contact with everyone in it).
    pub resident_id: Option<i64>,
    pub household_id: Option<i64>,
    /// Default: at home.
    #[serde(default)]
    pub mode: VisitMode,
    /// When, as the phone saw it (RFC 3339); default: now. At most 30 days
    /// back, never ahead.
    pub visited_at: Option<String>,
    #[serde(default)]
    pub health: Finding,
    #[serde(default)]
    pub living: Finding,
    #[serde(default)]
    pub needs: Finding,
    #[serde(default)]
    pub safety: Finding,
    /// Free notes (at most 1000 characters), kept sealed.
    pub notes: Option<String>,
    /// The next visit, when it should differ from the plan (YYYY-MM-DD).
    pub next_visit_on: Option<String>,
    /// A case to open from this visit, with its place and resident filled in.
    pub case: Option<VisitCase>,
}

/// A request, dispute or hazard found on a visit.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitCase {
    /// A category code from the community's catalogue.
    pub category: String,
    pub description: String,
    pub priority: Option<Priority>,
    pub at_risk: Option<String>,
    pub parties: Option<String>,
}

/// Visits queued on a phone, sent together.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitBatch {
    pub visits: Vec<VisitInput>,
}

/// What became of one visit of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BatchItem {
    pub client_id: String,
    /// `recorded` now, `known` (recorded before), or `refused`.
    pub status: String,
    pub visit_id: Option<i64>,
    /// Why it was refused: the field and the message.
    pub field: Option<String>,
    pub message: Option<String>,
    pub message_en: Option<String>,
}

/// A visit as it was recorded.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VisitView {
    pub id: i64,
    pub client_id: String,
    pub resident_id: Option<i64>,
    pub household_id: Option<i64>,
    pub grid: String,
    pub visitor_name: String,
    pub visited_at: String,
    pub visited_on: String,
    pub mode: VisitMode,
    pub mode_name: String,
    pub health: Finding,
    pub living: Finding,
    pub needs: Finding,
    pub safety: Finding,
    /// Only for those who may read the resident's record; reading is audited.
    pub notes: Option<String>,
    pub next_visit_on: Option<String>,
    /// The case opened from it.
    pub case_id: Option<i64>,
    pub has_photo: bool,
}

/// A visit and what it did: whether it was new, and the resident's next
/// visit due now.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Logged {
    #[serde(flatten)]
    pub visit: VisitView,
    /// False when the same client id was recorded before: nothing changed.
    pub recorded_now: bool,
    pub next_due_on: Option<String>,
}

/// Someone on the walk list.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WalkItem {
    pub resident_id: i64,
    pub name: String,
    pub household_id: Option<i64>,
    pub door: String,
    pub categories: Vec<String>,
    /// The same, in English.
    pub categories_en: Vec<String>,
    pub last_contact_on: Option<String>,
    pub due_on: String,
    pub days_late: i64,
    pub lateness: Lateness,
    pub lateness_name: String,
    pub plan_days: Option<i64>,
}

/// An open case in a building of the walk.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseNearby {
    pub id: i64,
    pub kind: CaseKind,
    pub kind_name: String,
    pub state: yijia_domain::case::CaseState,
    pub state_name: String,
    pub title: String,
    pub overdue: bool,
}

/// One stop of the walk: an entrance of a building.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WalkStop {
    pub estate: String,
    pub building: String,
    pub entrance: String,
    pub people: Vec<WalkItem>,
    /// Open cases in the same building.
    pub cases: Vec<CaseNearby>,
}

/// A dispute's revisit due.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RevisitItem {
    pub id: i64,
    pub case_id: i64,
    pub title: String,
    pub address: String,
    pub due_at: String,
    pub overdue: bool,
}

/// A household where someone died lately, offered for a last visit to the
/// family (it leaves the list once the household is visited, or after 30 days).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct LastVisitItem {
    pub household_id: i64,
    /// Who died, and on which day.
    pub name: String,
    pub died_on: String,
    pub address: String,
}

/// How long after a death the last visit is offered.
const LAST_VISIT_DAYS: u64 = 30;

/// Today's walk for the caller.
/// A community's visit intervals, with the community named.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CareIntervals {
    pub community: String,
    pub community_name: String,
    pub items: Vec<IntervalView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WalkList {
    pub today: String,
    /// The grids walked: (code, name).
    pub grids: Vec<(String, String)>,
    pub due_today: i64,
    pub overdue: i64,
    /// Past due by a second interval: the community has been told.
    pub escalated: i64,
    /// Visits recorded today on these grids (any estate).
    pub visited_today: i64,
    /// In walking order: by estate, building and entrance, doors in order.
    pub stops: Vec<WalkStop>,
    pub revisits: Vec<RevisitItem>,
    /// Households where someone died lately, not visited since.
    pub last_visits: Vec<LastVisitItem>,
    /// More were due than the list holds.
    pub truncated: bool,
    /// The estates on the whole list and how many are due in each, for a
    /// filter; the counts above are of the estate chosen.
    pub estates: Vec<EstateCount>,
    /// The estate the list is filtered to.
    pub estate: Option<String>,
}

/// An estate on the walk and how many people are due there.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EstateCount {
    pub name: String,
    pub people: usize,
}

/// A community's visit interval for a category.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IntervalView {
    pub category: String,
    pub name: String,
    pub name_en: String,
    pub default_days: Option<u32>,
    /// The community's own, when it set one.
    pub days: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntervalInput {
    /// A built-in category code.
    pub category: String,
    /// 1–365; none: back to the default.
    pub days: Option<i64>,
}

/// A resident's own interval.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnIntervalInput {
    /// 1–365; none: their categories decide.
    pub days: Option<i64>,
}

/// A resident's plan.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    pub resident_id: i64,
    pub own_days: Option<i64>,
    /// The interval that applies (none: under no plan).
    pub days: Option<i64>,
    pub last_contact_on: Option<String>,
    pub due_on: Option<String>,
    pub lateness: Option<Lateness>,
    pub visits: Vec<VisitView>,
}

/// One line of coverage: a grid and a category in a month.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CoverageRow {
    pub month: String,
    pub grid: String,
    pub grid_name: String,
    /// A category code, or `own` for people under their own interval only.
    pub category: String,
    pub category_name: String,
    pub category_name_en: String,
    /// Residents under a plan.
    pub planned: i64,
    /// Of them, visited on time all month (up to today in this month).
    pub on_time: i64,
    /// `on_time / planned` in percent, one decimal.
    pub share: f64,
}

/// Visits per worker in a month.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WorkerRow {
    pub visitor: String,
    pub visits: i64,
    pub people: i64,
}

/// Someone overdue, for the community's list.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OverdueRow {
    pub resident_id: i64,
    pub name: String,
    pub grid: String,
    pub address: String,
    pub last_contact_on: Option<String>,
    pub due_on: String,
    pub days_late: i64,
    pub lateness: Lateness,
    pub lateness_name: String,
}

/// Coverage of a scope.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub months: Vec<String>,
    pub rows: Vec<CoverageRow>,
    /// All grids and categories, per month.
    pub totals: Vec<CoverageRow>,
    pub workers: Vec<WorkerRow>,
    pub worker_month: String,
    pub overdue: Vec<OverdueRow>,
    pub overdue_total: i64,
    pub escalated_total: i64,
}

/// A client id recorded before by someone else: refused, never shown.
fn id_taken() -> ServiceError {
    ServiceError::invalid("client_id", "这个走访编号已被另一条走访使用", "that client_id belongs to another visit")
}

/// How late someone due on `due` is, by the interval of their plan (a
/// one-off next visit without a plan counts by days).
fn lateness_on(due: NaiveDate, plan_days: Option<i64>, today: NaiveDate) -> Lateness {
    lateness(due, interval_days(plan_days), today)
}

fn interval_days(plan_days: Option<i64>) -> u32 {
    plan_days.unwrap_or(1).clamp(1, 365) as u32
}

fn today_of(now: i64) -> NaiveDate {
    to_local(now).date_naive()
}

/// A stored day (written by the server, so read leniently).
fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A visit's notes sealed: with the person's own key when the visit was to
/// one person, else (a household) with the master key.
pub(crate) fn seal_notes(
    keys: &crate::keys::Keyring,
    own: Option<&crate::keys::DataKey>,
    client_id: &str,
    notes: &str,
) -> Result<String> {
    match own {
        Some(k) => k.seal(&aad_notes(client_id), notes),
        None => keys.seal(&aad_notes(client_id), notes),
    }
}

pub(crate) fn aad_notes(client_id: &str) -> String {
    format!("visit:{client_id}:notes")
}

/// A client id for a visit made away from a phone (a form, the demo).
pub fn new_client_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

fn check_client_id(id: &str) -> Result<()> {
    let ok = (8..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "client_id",
            "走访编号须为 8–64 位字母、数字、- 或 _(由手机生成)",
            "client_id is 8–64 letters, digits, '-' or '_', chosen on the phone",
        ))
    }
}

/// When someone who comes under a plan is first due: today, or spread over
/// their interval when many come at once (a roster import).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FirstDue {
    Today,
    Spread,
}

/// The plan a resident should have after a contact on `on` (or now).
fn planned(
    p: &PlanInput,
    community: &[(String, i64)],
    last: Option<NaiveDate>,
    next: Option<NaiveDate>,
    today: NaiveDate,
    first: FirstDue,
) -> Plan {
    // off the register (moved away, deceased): under no plan, whatever else
    let days = plan_interval(p.categories.iter().map(String::as_str), community, p.visit_interval_days)
        .filter(|_| p.on_register);
    let next = next.filter(|_| p.on_register);
    let due = match (next, days) {
        (Some(n), _) => Some(n),
        // never contacted: due since they came under a plan
        (None, Some(d)) if last.is_none() => Some(
            p.visit_due_on
                .as_deref()
                .and_then(date)
                .unwrap_or_else(|| first_due_on(p.resident_id, d, today, first == FirstDue::Spread)),
        ),
        (None, Some(d)) => Some(due_on(last, d, today)),
        (None, None) => None,
    };
    // the first due date stays; a plan that had none gets its first due now
    let first_due_on = p.first_due_on.clone().or_else(|| due.filter(|_| p.visit_due_on.is_none()).map(ymd));
    Plan {
        resident_id: p.resident_id,
        grid_id: p.grid_id,
        last_contact_on: last.map(ymd),
        due_on: due.map(ymd),
        days: days.map(i64::from),
        first_due_on,
    }
}

/// A checked visit, the case opened from it, its photo (file, type).
type ToStore<'a> = (Checked, Option<i64>, Option<(&'a str, &'a str)>);

/// A visit checked and ready to store.
struct Checked {
    input: VisitInput,
    visited_at: i64,
    visited_on: NaiveDate,
    next: Option<NaiveDate>,
    notes: Option<String>,
}

fn check_visit(input: VisitInput, now: i64) -> Result<Checked> {
    check_client_id(&input.client_id)?;
    if input.resident_id.is_none() && input.household_id.is_none() {
        return Err(ServiceError::invalid("resident_id", "请选择走访的居民或住户", "say whom you visited"));
    }
    let visited_at = match input.visited_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => now,
        Some(s) => {
            let at = chrono::DateTime::parse_from_rfc3339(s).map_err(|_| {
                ServiceError::invalid(
                    "visited_at",
                    format!("时间「{s}」格式不对"),
                    format!("'{s}' is not an RFC 3339 time"),
                )
            })?;
            let at = at.timestamp_millis();
            // a phone's clock may run a little ahead
            if at > now + 10 * 60_000 {
                return Err(ServiceError::invalid(
                    "visited_at",
                    "走访时间不能晚于现在",
                    "a visit cannot be in the future",
                ));
            }
            if at < now - MAX_AGE_DAYS * DAY_MS {
                return Err(ServiceError::invalid(
                    "visited_at",
                    format!("只能补录 {MAX_AGE_DAYS} 天内的走访"),
                    format!("visits older than {MAX_AGE_DAYS} days cannot be logged"),
                ));
            }
            at.min(now)
        }
    };
    let visited_on = today_of(visited_at);
    let next = match input.next_visit_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => {
            let d = crate::fields::date("next_visit_on", s)?;
            if d <= visited_on || (d - visited_on).num_days() > 365 {
                return Err(ServiceError::invalid(
                    "next_visit_on",
                    "下次走访日期须在走访之后一年之内",
                    "the next visit is after this one and within a year",
                ));
            }
            Some(d)
        }
    };
    let notes = match input.notes.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(n) if n.chars().count() > 1000 => {
            return Err(ServiceError::invalid("notes", "备注最多 1000 字", "notes are at most 1000 characters"));
        }
        Some(n) => Some(n.to_owned()),
    };
    Ok(Checked { input, visited_at, visited_on, next, notes })
}

/// A batch's answer for one visit.
fn answered(client_id: &str, r: Result<Logged>) -> BatchItem {
    match r {
        Ok(l) => BatchItem {
            client_id: client_id.to_owned(),
            status: if l.recorded_now { "recorded" } else { "known" }.into(),
            visit_id: Some(l.visit.id),
            field: None,
            message: None,
            message_en: None,
        },
        Err(e) => refused(client_id, &e),
    }
}

fn refused(client_id: &str, e: &ServiceError) -> BatchItem {
    let (field, zh, en) = match e {
        ServiceError::Invalid(i) => (Some(i.field.clone()), i.msg.zh.clone(), i.msg.en.clone()),
        ServiceError::NotFound | ServiceError::Denied { .. } => (
            Some("resident_id".to_owned()),
            "没有这位居民或住户".to_owned(),
            "no such resident or household".to_owned(),
        ),
        other => (None, other.to_string(), other.to_string()),
    };
    BatchItem {
        client_id: client_id.to_owned(),
        status: "refused".into(),
        visit_id: None,
        field,
        message: Some(zh),
        message_en: Some(en),
    }
}

impl Services {
    /// Logs one visit, and opens the case found on it when asked. Sending
    /// the same client id again answers the visit recorded first.
    pub async fn log_visit(&self, caller: &Caller, input: VisitInput, photo: Option<Vec<u8>>) -> Result<Logged> {
        self.denials_audited(caller, self.log_visit_in(caller, input, photo)).await
    }

    async fn log_visit_in(&self, caller: &Caller, input: VisitInput, photo: Option<Vec<u8>>) -> Result<Logged> {
        if !caller.has_any(VISITORS) {
            return Err(ServiceError::forbidden());
        }
        let now = self.now();
        let mut c = check_visit(input, now)?;
        {
            let mut conn = self.db.conn().await?;
            if let Some(known) = visits::by_client_id(&mut conn, &c.input.client_id).await? {
                drop(conn);
                return self.known(caller, known).await;
            }
        }
        let cleaned = match photo {
            Some(p) if !p.is_empty() => clean_photos(vec![p]).await?,
            _ => vec![],
        };
        let stored = self.keep_photos(&cleaned).await?;
        let case_id = match c.input.case.take() {
            // the case gets the visit's photo too, as a file of its own
            Some(k) => {
                let copy = self.keep_photos(&cleaned).await?;
                match self.case_from_visit(caller, &c, k, &copy).await {
                    Ok(id) => Some(id),
                    Err(e) => {
                        self.forget_photos(&stored).await;
                        self.forget_photos(&copy).await;
                        return Err(e);
                    }
                }
            }
            None => None,
        };
        let photo = stored.first().map(|s| (s.name.as_str(), s.photo.content_type));
        let r = self.store_visits(caller, vec![(c, case_id, photo)], now).await;
        let r = match r {
            Ok(mut v) => v.pop().ok_or(ServiceError::NotFound).and_then(|x| x),
            Err(e) => Err(e),
        };
        if r.as_ref().map_or(true, |l| !l.recorded_now) {
            self.forget_photos(&stored).await;
        }
        r
    }

    /// Logs a phone's queued visits in one transaction; each is answered
    /// on its own (recorded, known or refused), so a bad one keeps the
    /// others. Visits that open a case go one by one.
    pub async fn log_visits(&self, caller: &Caller, batch: VisitBatch) -> Result<Vec<BatchItem>> {
        if !caller.has_any(VISITORS) {
            return Err(ServiceError::forbidden());
        }
        if batch.visits.is_empty() || batch.visits.len() > MAX_BATCH {
            return Err(ServiceError::invalid(
                "visits",
                format!("一次发送 1 到 {MAX_BATCH} 条走访"),
                format!("send 1 to {MAX_BATCH} visits at a time"),
            ));
        }
        let now = self.now();
        let mut out: Vec<Option<BatchItem>> = vec![None; batch.visits.len()];
        let mut plain = Vec::new();
        let mut with_case = Vec::new();
        let mut seen = HashSet::new();
        for (i, v) in batch.visits.into_iter().enumerate() {
            let id = v.client_id.clone();
            if !seen.insert(id.clone()) {
                out[i] = Some(refused(
                    &id,
                    &ServiceError::invalid("client_id", "同一批中走访编号重复", "client_id repeated in the batch"),
                ));
                continue;
            }
            if v.case.is_some() {
                with_case.push((i, v));
                continue;
            }
            match check_visit(v, now) {
                Ok(c) => plain.push((i, c)),
                Err(e) => out[i] = Some(refused(&id, &e)),
            }
        }
        let (idx, checked): (Vec<usize>, Vec<Checked>) = plain.into_iter().unzip();
        let ids: Vec<String> = checked.iter().map(|c| c.input.client_id.clone()).collect();
        let rows = checked.into_iter().map(|c| (c, None, None)).collect();
        let results = self.store_visits(caller, rows, now).await?;
        for ((i, id), r) in idx.into_iter().zip(ids).zip(results) {
            out[i] = Some(answered(&id, r));
        }
        for (i, v) in with_case {
            let id = v.client_id.clone();
            out[i] = Some(answered(&id, self.log_visit(caller, v, None).await));
        }
        Ok(out.into_iter().flatten().collect())
    }

    async fn case_from_visit(
        &self,
        caller: &Caller,
        c: &Checked,
        k: VisitCase,
        photos: &[crate::cases::Stored],
    ) -> Result<i64> {
        let input = CaseInput {
            category: k.category,
            priority: k.priority,
            description: k.description,
            channel: Some(Channel::Visit),
            household_id: c.input.household_id,
            residents: c.input.resident_id.into_iter().collect(),
            at_risk: k.at_risk,
            parties: k.parties,
            ..Default::default()
        };
        // the household comes from the resident when only they were named
        let input = match (input.household_id, c.input.resident_id) {
            (None, Some(r)) => {
                let mut conn = self.db.conn().await?;
                let res = yijia_store::residents::get(&mut conn, r).await?.ok_or(ServiceError::NotFound)?;
                let grid = if res.household_id.is_none() { Some(res.grid_code) } else { None };
                CaseInput { household_id: res.household_id, grid, ..input }
            }
            _ => input,
        };
        Ok(self.denials_audited(caller, self.create_case_in(caller, &input, photos)).await?.summary.id)
    }

    /// Stores checked visits in one transaction: scope, plans, audit.
    /// Answers each in order; a visit refused leaves the others.
    async fn store_visits(&self, caller: &Caller, rows: Vec<ToStore<'_>>, now: i64) -> Result<Vec<Result<Logged>>> {
        if rows.is_empty() {
            return Ok(vec![]);
        }
        let today = today_of(now);
        let mut tx = self.db.write().await?;
        let resident_ids: Vec<i64> = rows.iter().filter_map(|(c, _, _)| c.input.resident_id).collect();
        let household_ids: Vec<i64> = rows
            .iter()
            .filter(|(c, _, _)| c.input.resident_id.is_none())
            .filter_map(|(c, _, _)| c.input.household_id)
            .collect();
        let mut people: HashMap<i64, PlanInput> = HashMap::new();
        for p in visits::plan_inputs(&mut tx, Whose::Residents(&resident_ids)).await? {
            people.insert(p.resident_id, p);
        }
        let mut households: HashMap<i64, Vec<i64>> = HashMap::new();
        for p in visits::plan_inputs(&mut tx, Whose::Households(&household_ids)).await? {
            if let Some(h) = p.household_id {
                households.entry(h).or_default().push(p.resident_id);
            }
            people.insert(p.resident_id, p);
        }
        let mut grid_codes: HashMap<i64, String> = HashMap::new();
        let mut community: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
        let mut results: Vec<Result<usize>> = Vec::with_capacity(rows.len());
        let mut news: Vec<visits::NewVisit<'_>> = Vec::new();
        // notes about one person are sealed with their own key
        let own = self.own_keys(&mut tx, &resident_ids).await?;
        let sealed: Vec<Option<String>> = rows
            .iter()
            .map(|(c, _, _)| {
                let k = c.input.resident_id.and_then(|r| own.get(&r));
                c.notes.as_deref().map(|n| seal_notes(&self.keys, k, &c.input.client_id, n)).transpose()
            })
            .collect::<Result<_>>()?;
        let on: Vec<String> = rows.iter().map(|(c, _, _)| ymd(c.visited_on)).collect();
        let next: Vec<Option<String>> = rows.iter().map(|(c, _, _)| c.next.map(ymd)).collect();
        let mut denied = Vec::new();
        // who each visit contacts
        let mut contacted: Vec<Vec<i64>> = Vec::with_capacity(rows.len());
        for (i, (c, case_id, photo)) in rows.iter().enumerate() {
            let whom: Vec<i64> = match (c.input.resident_id, c.input.household_id) {
                (Some(r), _) => vec![r],
                (None, Some(h)) => households.get(&h).cloned().unwrap_or_default(),
                (None, None) => vec![],
            };
            let first = whom.first().and_then(|r| people.get(r));
            let Some(first) = first else {
                results.push(Err(ServiceError::NotFound));
                contacted.push(vec![]);
                continue;
            };
            if !caller.covers(VISITORS, &first.grid_path) {
                let object = match c.input.resident_id {
                    Some(r) => format!("resident:{r}"),
                    None => format!("household:{}", c.input.household_id.unwrap_or_default()),
                };
                denied.push(object.clone());
                results.push(Err(ServiceError::Denied { action: "visit".into(), object }));
                contacted.push(vec![]);
                continue;
            }
            if let (Some(_), Some(h)) = (c.input.resident_id, c.input.household_id)
                && first.household_id != Some(h)
            {
                results.push(Err(ServiceError::invalid(
                    "household_id",
                    "该居民不在这一户",
                    "the resident does not live in that household",
                )));
                contacted.push(vec![]);
                continue;
            }
            community.entry(first.community_id).or_insert_with(|| first.intervals.clone());
            grid_codes.entry(first.grid_id).or_insert_with(|| first.grid_code.clone());
            results.push(Ok(news.len()));
            contacted.push(whom.clone());
            news.push(visits::NewVisit {
                client_id: &c.input.client_id,
                resident_id: c.input.resident_id,
                household_id: c.input.household_id.or(first.household_id),
                grid_id: first.grid_id,
                visitor_id: caller.user_id,
                visitor_name: &caller.display_name,
                visited_at: c.visited_at,
                visited_on: &on[i],
                mode: c.input.mode,
                health: c.input.health,
                living: c.input.living,
                needs: c.input.needs,
                safety: c.input.safety,
                notes_sealed: sealed[i].as_deref(),
                next_visit_on: next[i].as_deref(),
                case_id: *case_id,
                photo_file: photo.map(|p| p.0),
                photo_type: photo.map(|p| p.1),
                now,
            });
        }
        // the plans the visits move, to the latest contact; written with the
        // visits, for those recorded now (not for one sent before)
        let mut plans: BTreeMap<i64, (Plan, &str)> = BTreeMap::new();
        for (i, (c, _, _)) in rows.iter().enumerate() {
            if results[i].is_err() {
                continue;
            }
            for r in &contacted[i] {
                let Some(p) = people.get(r) else { continue };
                let before = plans.get(r).and_then(|pl| pl.0.last_contact_on.clone()).or(p.last_contact_on.clone());
                let before = before.as_deref().and_then(date);
                if before.is_some_and(|b| b > c.visited_on) {
                    continue; // a queued visit older than one recorded since
                }
                let iv = community.get(&p.community_id).map(Vec::as_slice).unwrap_or(&[]);
                plans.insert(
                    *r,
                    (planned(p, iv, Some(c.visited_on), c.next, today, FirstDue::Today), c.input.client_id.as_str()),
                );
            }
        }
        let plans: Vec<(Plan, &str)> = plans.into_values().collect();
        let recorded: HashMap<String, i64> =
            visits::insert_with_plans(&mut tx, &news, &plans).await?.into_iter().collect();
        let plans: Vec<Plan> = plans.into_iter().filter(|(_, c)| recorded.contains_key(*c)).map(|(p, _)| p).collect();
        // one audit line per grid for the visits recorded now (a phone's
        // batch is one act), naming each visit
        let mut by_grid: BTreeMap<&str, Vec<serde_json::Value>> = BTreeMap::new();
        for (i, (c, case_id, _)) in rows.iter().enumerate() {
            let Some(id) = recorded.get(&c.input.client_id) else { continue };
            let Some(path) = contacted[i].first().and_then(|r| people.get(r)).map(|p| p.grid_path.as_str()) else {
                continue;
            };
            by_grid.entry(path).or_default().push(json!({
                "visit": id, "resident": c.input.resident_id, "household": c.input.household_id,
                "mode": c.input.mode.code(), "case": case_id,
            }));
        }
        let events: Vec<(&Caller, i64, Event<'_>)> = by_grid
            .into_iter()
            .map(|(path, visits)| {
                let ids: Vec<String> = visits.iter().map(|v| v["visit"].to_string()).collect();
                let e = Event::ok("visit", format!("visit:{}", ids.join(",")), path);
                (caller, now, e.with(json!({ "visits": visits })))
            })
            .collect();
        if !events.is_empty() {
            record_many(&mut tx, &events).await?;
        }
        let known_ids: Vec<&str> = rows
            .iter()
            .enumerate()
            .filter(|(i, (c, _, _))| results[*i].is_ok() && !recorded.contains_key(&c.input.client_id))
            .map(|(_, (c, _, _))| c.input.client_id.as_str())
            .collect();
        let known: HashMap<String, visits::Visit> =
            visits::by_client_ids(&mut tx, &known_ids).await?.into_iter().map(|v| (v.client_id.clone(), v)).collect();
        tx.commit().await?;
        let due: HashMap<i64, Option<String>> = plans.iter().map(|p| (p.resident_id, p.due_on.clone())).collect();
        let mut out = Vec::with_capacity(rows.len());
        for (i, (c, case_id, photo)) in rows.iter().enumerate() {
            let r = match &results[i] {
                Err(e) => Err(match e {
                    ServiceError::Invalid(v) => ServiceError::Invalid(v.clone()),
                    ServiceError::Denied { action, object } => {
                        ServiceError::Denied { action: action.clone(), object: object.clone() }
                    }
                    _ => ServiceError::NotFound,
                }),
                Ok(n) => {
                    let row = &news[*n];
                    let grid = grid_codes.get(&row.grid_id).cloned().unwrap_or_default();
                    let whom = contacted[i].first().copied();
                    let next_due_on = whom.and_then(|r| {
                        due.get(&r).cloned().flatten().or_else(|| people.get(&r).and_then(|p| p.visit_due_on.clone()))
                    });
                    match recorded.get(&c.input.client_id) {
                        Some(id) => Ok(Logged {
                            visit: VisitView {
                                id: *id,
                                client_id: c.input.client_id.clone(),
                                resident_id: row.resident_id,
                                household_id: row.household_id,
                                grid,
                                visitor_name: caller.display_name.clone(),
                                visited_at: rfc3339(c.visited_at),
                                visited_on: on[i].clone(),
                                mode: c.input.mode,
                                mode_name: c.input.mode.name_zh().to_owned(),
                                health: c.input.health,
                                living: c.input.living,
                                needs: c.input.needs,
                                safety: c.input.safety,
                                notes: c.notes.clone(),
                                next_visit_on: next[i].clone(),
                                case_id: *case_id,
                                has_photo: photo.is_some(),
                            },
                            recorded_now: true,
                            next_due_on,
                        }),
                        None => match known.get(&c.input.client_id) {
                            Some(v) if v.visitor_id == caller.user_id => {
                                Ok(Logged { visit: self.visit_view(v, grid, None), recorded_now: false, next_due_on })
                            }
                            _ => Err(id_taken()),
                        },
                    }
                }
            };
            out.push(r);
        }
        for object in denied {
            let _ = self.deny(caller, "visit", &object).await;
        }
        Ok(out)
    }

    /// The answer to a visit sent again: the one recorded first.
    async fn known(&self, caller: &Caller, v: visits::Visit) -> Result<Logged> {
        if v.visitor_id != caller.user_id {
            return Err(id_taken());
        }
        let mut conn = self.db.conn().await?;
        let grid = org::by_id(&mut conn, v.grid_id).await?.code;
        let next_due_on = match v.resident_id {
            Some(r) => visits::plan_inputs(&mut conn, Whose::Residents(&[r])).await?.pop().and_then(|p| p.visit_due_on),
            None => None,
        };
        Ok(Logged { visit: self.visit_view(&v, grid, None), recorded_now: false, next_due_on })
    }

    fn visit_view(&self, v: &visits::Visit, grid: String, notes: Option<String>) -> VisitView {
        let mode = v.mode;
        VisitView {
            id: v.id,
            client_id: v.client_id.clone(),
            resident_id: v.resident_id,
            household_id: v.household_id,
            grid,
            visitor_name: v.visitor_name.clone(),
            visited_at: rfc3339(v.visited_at),
            visited_on: v.visited_on.clone(),
            mode,
            mode_name: mode.name_zh().to_owned(),
            health: v.health,
            living: v.living,
            needs: v.needs,
            safety: v.safety,
            notes,
            next_visit_on: v.next_visit_on.clone(),
            case_id: v.case_id,
            has_photo: v.photo_file.is_some(),
        }
    }

    /// Recomputes the plans of some residents after their categories, own
    /// interval or community's intervals changed; writes only what moved.
    pub(crate) async fn replan(&self, tx: &mut Tx, whose: Whose<'_>, first: FirstDue) -> Result<usize> {
        let today = today_of(self.now());
        let inputs = visits::plan_inputs(tx, whose).await?;
        let mut changed = Vec::new();
        for p in &inputs {
            let plan = planned(p, &p.intervals, p.last_contact_on.as_deref().and_then(date), None, today, first);
            if plan.due_on != p.visit_due_on || plan.days != p.plan_days || plan.first_due_on != p.first_due_on {
                changed.push(plan);
            }
        }
        visits::set_plans(tx, &changed).await?;
        Ok(changed.len())
    }

    /// The caller's grids to walk: a grid worker's grids; staff may name a
    /// grid of their community.
    async fn walk_grids(&self, tx: &mut Tx, caller: &Caller, grid: Option<&str>) -> Result<Vec<org::OrgNode>> {
        match grid.map(str::trim).filter(|g| !g.is_empty()) {
            Some(code) => {
                let g = org::by_code(tx, code).await?.filter(|g| g.kind == OrgKind::Grid);
                match g {
                    Some(g) if caller.covers(COVERAGE_READERS, &g.path) => Ok(vec![g]),
                    Some(g) => {
                        Err(ServiceError::Denied { action: "walk_list".into(), object: format!("org:{}", g.code) })
                    }
                    None => {
                        Err(ServiceError::invalid("grid", format!("没有网格「{code}」"), format!("no grid '{code}'")))
                    }
                }
            }
            None => {
                // a grid worker walks their grids; staff the grids of their scope
                let roles: &[Role] =
                    if caller.has_any(&[Role::GridWorker]) { &[Role::GridWorker] } else { COVERAGE_READERS };
                let mut grids = Vec::new();
                for path in caller.scope_paths(roles) {
                    grids.extend(org::subtree(tx, &path).await?.into_iter().filter(|g| g.kind == OrgKind::Grid));
                }
                Ok(grids)
            }
        }
    }

    /// Today's walk: who is due or overdue in the caller's grids, by estate,
    /// building and entrance, the most urgent first; open cases in the same
    /// buildings; dispute revisits due.
    pub async fn walk_list(
        &self,
        caller: &Caller,
        grid: Option<&str>,
        estate: Option<&str>,
        limit: i64,
    ) -> Result<WalkList> {
        self.denials_audited(caller, async {
            if !caller.has_any(COVERAGE_READERS) {
                return Err(ServiceError::forbidden());
            }
            let now = self.now();
            let today = today_of(now);
            let mut tx = self.db.conn().await?;
            let grids = self.walk_grids(&mut tx, caller, grid).await?;
            let ids: Vec<i64> = grids.iter().map(|g| g.id).collect();
            let limit = limit.clamp(1, 2000);
            let due = visits::due(&mut tx, &ids, &ymd(today), limit + 1).await?;
            let truncated = due.len() as i64 > limit;
            let due: Vec<visits::Due> = due.into_iter().take(limit as usize).collect();
            let people: Vec<i64> = due.iter().map(|d| d.resident_id).collect();
            let mut cats: HashMap<i64, Vec<Category>> = HashMap::new();
            for (id, c) in visits::categories_of(&mut tx, &people).await? {
                if let Some(c) = Category::parse(&c) {
                    cats.entry(id).or_default().push(c);
                }
            }
            let mut buildings: Vec<i64> = due.iter().filter_map(|d| d.building_id).collect();
            buildings.sort_unstable();
            buildings.dedup();
            let beside = visits::cases_beside(&mut tx, &buildings).await?;
            let revisits = visits::revisits_due(&mut tx, &ids, end_of_day(today)).await?;
            let since = ymd(today - chrono::Days::new(LAST_VISIT_DAYS));
            let last_visits = visits::last_visits_due(&mut tx, &ids, &since)
                .await?
                .into_iter()
                .map(|l| LastVisitItem {
                    household_id: l.household_id,
                    name: l.name,
                    died_on: l.died_on,
                    address: [l.estate, l.building, l.entrance, l.door]
                        .into_iter()
                        .filter(|p| !p.is_empty())
                        .collect::<Vec<_>>()
                        .join(" "),
                })
                .collect();
            let visited_today: i64 =
                visits::per_visitor(&mut tx, &ids, &ymd(today), &ymd(today)).await?.iter().map(|v| v.1).sum();
            drop(tx);
            let estate = estate.map(str::trim).filter(|e| !e.is_empty());
            let unplaced = || "未登记住址".to_owned();
            let mut estates: Vec<EstateCount> = Vec::new();
            for d in &due {
                let name = d.estate.clone().unwrap_or_else(unplaced);
                match estates.iter_mut().find(|e| e.name == name) {
                    Some(e) => e.people += 1,
                    None => estates.push(EstateCount { name, people: 1 }),
                }
            }
            estates.sort_by(|a, b| natural_cmp(&a.name, &b.name));
            let mut counts = (0, 0, 0);
            let mut stops: Vec<WalkStop> = Vec::new();
            let mut at: HashMap<(String, String, String), usize> = HashMap::new();
            let items: Vec<(visits::Due, WalkItem)> = due
                .into_iter()
                .filter(|d| estate.is_none_or(|e| d.estate.clone().unwrap_or_else(unplaced) == e))
                .map(|d| {
                    let due_on = d.visit_due_on.as_str();
                    let due_d = date(due_on).unwrap_or(today);
                    let l = lateness_on(due_d, d.plan_days, today);
                    match l {
                        Lateness::DueToday | Lateness::NotDue => counts.0 += 1,
                        Lateness::Overdue => counts.1 += 1,
                        Lateness::Escalated => counts.2 += 1,
                    }
                    let item = WalkItem {
                        resident_id: d.resident_id,
                        name: d.name.clone(),
                        household_id: d.household_id,
                        door: d.door.clone().unwrap_or_default(),
                        categories: cats
                            .get(&d.resident_id)
                            .into_iter()
                            .flatten()
                            .map(|c| c.name_zh().to_owned())
                            .collect(),
                        categories_en: cats
                            .remove(&d.resident_id)
                            .into_iter()
                            .flatten()
                            .map(|c| c.name_en().to_owned())
                            .collect(),
                        last_contact_on: d.last_contact_on.clone(),
                        due_on: due_on.to_owned(),
                        days_late: (today - due_d).num_days().max(0),
                        lateness: l,
                        lateness_name: l.name_zh().to_owned(),
                        plan_days: d.plan_days,
                    };
                    (d, item)
                })
                .collect();
            for (d, item) in items {
                let k = (
                    d.estate.clone().unwrap_or_else(unplaced),
                    d.building.clone().unwrap_or_default(),
                    d.entrance.clone().unwrap_or_default(),
                );
                let n = *at.entry(k.clone()).or_insert_with(|| {
                    let cases = beside
                        .iter()
                        .filter(|c| Some(c.building_id) == d.building_id)
                        .map(|c| {
                            let kind = c.kind;
                            let state = c.state;
                            CaseNearby {
                                id: c.id,
                                kind,
                                kind_name: kind.name_zh().to_owned(),
                                state,
                                state_name: state.name_zh().to_owned(),
                                title: c.title.clone(),
                                overdue: c.due_at.is_some_and(|t| t < now),
                            }
                        })
                        .collect();
                    stops.push(WalkStop { estate: k.0, building: k.1, entrance: k.2, people: vec![], cases });
                    stops.len() - 1
                });
                stops[n].people.push(item);
            }
            // the order she walks in: estate by estate, up each entrance,
            // door by door (people of one door by urgency)
            stops.sort_by(|a, b| {
                natural_cmp(&a.estate, &b.estate)
                    .then_with(|| natural_cmp(&a.building, &b.building))
                    .then_with(|| natural_cmp(&a.entrance, &b.entrance))
            });
            for s in &mut stops {
                s.people.sort_by(|a, b| {
                    let key = |i: &WalkItem| (date(&i.due_on).unwrap_or(today), interval_days(i.plan_days));
                    natural_cmp(&a.door, &b.door).then_with(|| walk_order(key(a), key(b), today))
                });
            }
            let revisits = revisits
                .into_iter()
                .map(|r| RevisitItem {
                    id: r.id,
                    case_id: r.case_id,
                    title: r.title,
                    address: r.address,
                    due_at: rfc3339(r.due_at),
                    overdue: r.due_at < start_of_day(today),
                })
                .collect();
            Ok(WalkList {
                today: ymd(today),
                grids: grids.iter().map(|g| (g.code.clone(), g.name.clone())).collect(),
                due_today: counts.0,
                overdue: counts.1,
                escalated: counts.2,
                visited_today,
                stops,
                revisits,
                last_visits,
                truncated,
                estates,
                estate: estate.map(str::to_owned),
            })
        })
        .await
    }

    /// A resident's plan and their latest visits; the notes are opened, and
    /// the reading audited.
    pub async fn resident_plan(&self, caller: &Caller, resident_id: i64) -> Result<PlanView> {
        self.within_read_limit(caller).await?;
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let p = visits::plan_inputs(&mut tx, Whose::Residents(&[resident_id])).await?.pop();
            let Some(p) = p else { return Err(ServiceError::NotFound) };
            if !caller.covers(crate::roles::RESIDENT_READERS, &p.grid_path) {
                return Err(ServiceError::Denied {
                    action: "visit_read".into(),
                    object: format!("resident:{resident_id}"),
                });
            }
            let list = visits::of_resident(&mut tx, resident_id, 50).await?;
            let own = self.own_key(&mut tx, resident_id).await?;
            // notes open where the visit was made: a resident transferred
            // here brings his visits, not the last community's notes
            let here = org::by_id(&mut tx, p.grid_id).await?;
            let mut where_made: std::collections::HashMap<i64, org::OrgNode> = std::collections::HashMap::new();
            for v in &list {
                if let std::collections::hash_map::Entry::Vacant(e) = where_made.entry(v.grid_id) {
                    e.insert(org::by_id(&mut tx, v.grid_id).await?);
                }
            }
            let opens_at = |path: &str| caller.covers(VISITORS, path) || caller.covers(&[Role::StreetOfficer], path);
            let grid = p.grid_code.clone();
            let mut views = Vec::with_capacity(list.len());
            let mut opened = 0;
            for v in &list {
                let opens = where_made.get(&v.grid_id).is_some_and(|made| {
                    opens_at(&made.path) || (made.parent_id == here.parent_id && opens_at(&here.path))
                });
                let notes = match (&v.notes_sealed, opens) {
                    (Some(s), true) => {
                        opened += 1;
                        Some(self.keys.open_with(own.as_ref(), &aad_notes(&v.client_id), s)?)
                    }
                    _ => None,
                };
                views.push(self.visit_view(v, grid.clone(), notes));
            }
            if opened > 0 {
                let e = Event::ok("visit_read", format!("resident:{resident_id}"), &p.grid_path);
                record(&mut tx, caller, self.now(), &e.with(json!({ "notes": opened }))).await?;
            }
            tx.commit().await?;
            let today = today_of(self.now());
            let lateness = match (p.visit_due_on.as_deref().and_then(date), p.plan_days) {
                (Some(d), days) => Some(lateness_on(d, days, today)),
                _ => None,
            };
            Ok(PlanView {
                resident_id,
                own_days: p.visit_interval_days,
                days: p.plan_days,
                last_contact_on: p.last_contact_on,
                due_on: p.visit_due_on,
                lateness,
                visits: views,
            })
        })
        .await
    }

    /// Sets or clears a resident's own visit interval.
    pub async fn set_own_interval(
        &self,
        caller: &Caller,
        resident_id: i64,
        input: OwnIntervalInput,
    ) -> Result<PlanView> {
        self.denials_audited(caller, async {
            let days = input
                .days
                .map(check_interval)
                .transpose()
                .map_err(|msg| ServiceError::Invalid(Invalid { field: "days".into(), msg }))?;
            let mut tx = self.db.write().await?;
            let p = visits::plan_inputs(&mut tx, Whose::Residents(&[resident_id])).await?.pop();
            let Some(p) = p else { return Err(ServiceError::NotFound) };
            if !caller.covers(crate::roles::REGISTRARS, &p.grid_path) {
                return Err(ServiceError::Denied {
                    action: "care_plan".into(),
                    object: format!("resident:{resident_id}"),
                });
            }
            visits::set_own_interval(&mut tx, resident_id, days.map(i64::from)).await?;
            self.replan(&mut tx, Whose::Residents(&[resident_id]), FirstDue::Today).await?;
            let e = Event::ok("care_plan", format!("resident:{resident_id}"), &p.grid_path);
            record(&mut tx, caller, self.now(), &e.with(json!({ "days": days }))).await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        self.resident_plan(caller, resident_id).await
    }

    /// A community's intervals, every built-in category with its default.
    pub async fn care_intervals(&self, caller: &Caller, community: Option<&str>) -> Result<CareIntervals> {
        self.denials_audited(caller, self.care_intervals_in(caller, community)).await
    }

    async fn care_intervals_in(&self, caller: &Caller, community: Option<&str>) -> Result<CareIntervals> {
        let mut tx = self.db.conn().await?;
        let com = self.plan_community(&mut tx, caller, community, COVERAGE_READERS).await?;
        let own = visits::intervals(&mut tx, com.id).await?;
        let views = Category::ALL
            .into_iter()
            .filter(|c| *c != Category::Child)
            .map(|c| IntervalView {
                category: c.code().to_owned(),
                name: c.name_zh().to_owned(),
                name_en: c.name_en().to_owned(),
                default_days: yijia_domain::care::default_interval_days(c),
                days: own.iter().find(|(k, _)| k == c.code()).map(|(_, d)| *d),
            })
            .collect();
        Ok(CareIntervals { community: com.code, community_name: com.name, items: views })
    }

    /// Changes a community's interval for a category (none: the default)
    /// and moves the due dates of everyone it touches.
    pub async fn set_care_interval(
        &self,
        caller: &Caller,
        community: Option<&str>,
        input: IntervalInput,
    ) -> Result<CareIntervals> {
        let Some(cat) = Category::parse(input.category.trim()).filter(|c| *c != Category::Child) else {
            return Err(ServiceError::invalid(
                "category",
                format!("没有类别「{}」", input.category.trim()),
                format!("no category '{}'", input.category.trim()),
            ));
        };
        let days = input
            .days
            .map(check_interval)
            .transpose()
            .map_err(|msg| ServiceError::Invalid(Invalid { field: "days".into(), msg }))?;
        let code = self
            .denials_audited(caller, async {
                let mut tx = self.db.write().await?;
                let com = self.plan_community(&mut tx, caller, community, CARE_PLANNERS).await?;
                match days {
                    Some(d) => visits::set_interval(&mut tx, com.id, cat.code(), i64::from(d)).await?,
                    None => visits::remove_interval(&mut tx, com.id, cat.code()).await?,
                }
                let moved = self.replan(&mut tx, Whose::Community(com.id), FirstDue::Spread).await?;
                let e = Event::ok("care_interval", format!("org:{}", com.code), &com.path);
                record(
                    &mut tx,
                    caller,
                    self.now(),
                    &e.with(json!({ "category": cat.code(), "days": days, "moved": moved })),
                )
                .await?;
                tx.commit().await?;
                Ok(com.code)
            })
            .await?;
        self.care_intervals(caller, Some(&code)).await
    }

    async fn plan_community(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        community: Option<&str>,
        roles: &[Role],
    ) -> Result<org::OrgNode> {
        self.caller_community(tx, caller, roles, community).await
    }

    /// Coverage of the caller's scope (or a grid or community in it) for
    /// the last `months` months: on-time share per grid and category,
    /// visits per worker this month, and who is overdue.
    pub async fn coverage(&self, caller: &Caller, org_code: Option<&str>, months: u32) -> Result<Coverage> {
        self.denials_audited(caller, async {
            if !caller.has_any(COVERAGE_READERS) {
                return Err(ServiceError::forbidden());
            }
            let now = self.now();
            let today = today_of(now);
            let mut tx = self.db.conn().await?;
            let grids: Vec<org::OrgNode> = match org_code.map(str::trim).filter(|c| !c.is_empty()) {
                Some(code) => {
                    let Some(node) = org::by_code(&mut tx, code).await? else {
                        return Err(ServiceError::invalid("org", format!("没有「{code}」"), format!("no '{code}'")));
                    };
                    if !caller.covers(COVERAGE_READERS, &node.path) {
                        return Err(ServiceError::Denied { action: "coverage".into(), object: format!("org:{code}") });
                    }
                    org::subtree(&mut tx, &node.path).await?.into_iter().filter(|g| g.kind == OrgKind::Grid).collect()
                }
                None => {
                    let mut grids = Vec::new();
                    for path in caller.scope_paths(COVERAGE_READERS) {
                        grids.extend(
                            org::subtree(&mut tx, &path).await?.into_iter().filter(|g| g.kind == OrgKind::Grid),
                        );
                    }
                    grids
                }
            };
            let ids: Vec<i64> = grids.iter().map(|g| g.id).collect();
            let months = months.clamp(1, 24);
            let month_starts: Vec<NaiveDate> = (0..months)
                .rev()
                .filter_map(|k| today.with_day(1).and_then(|d| d.checked_sub_months(chrono::Months::new(k))))
                .collect();
            let first = month_starts.first().copied().unwrap_or(today);
            // contacts from a year before the first month: the last one before it counts
            let from = first - chrono::Days::new(366);
            let planned = visits::planned(&mut tx, &ids).await?;
            let contacts = visits::contacts(&mut tx, &ids, &ymd(from), &ymd(today)).await?;
            let month_key = ymd(today).chars().take(7).collect::<String>();
            let workers =
                visits::per_visitor(&mut tx, &ids, &ymd(today.with_day(1).unwrap_or(today)), &ymd(today)).await?;
            let due = visits::due(&mut tx, &ids, &ymd(today - chrono::Days::new(1)), 501).await?;
            let counts = visits::due_counts(&mut tx, &ids, &ymd(today - chrono::Days::new(1))).await?;
            drop(tx);
            // contacts per resident (a household visit is contact with each member)
            let mut members: HashMap<i64, Vec<i64>> = HashMap::new();
            for p in &planned {
                if let Some(h) = p.household_id {
                    members.entry(h).or_default().push(p.resident_id);
                }
            }
            let mut by_resident: HashMap<i64, Vec<NaiveDate>> = HashMap::new();
            for c in &contacts {
                let Some(d) = date(&c.visited_on) else { continue };
                match (c.resident_id, c.household_id) {
                    (Some(r), _) => by_resident.entry(r).or_default().push(d),
                    (None, Some(h)) => {
                        for r in members.get(&h).map(Vec::as_slice).unwrap_or(&[]) {
                            by_resident.entry(*r).or_default().push(d);
                        }
                    }
                    _ => {}
                }
            }
            let grid_of: HashMap<i64, &org::OrgNode> = grids.iter().map(|g| (g.id, g)).collect();
            // the categories that give each resident a plan, by their community's intervals
            let mut community: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
            let mut community_name: HashMap<i64, String> = HashMap::new();
            {
                let mut tx = self.db.conn().await?;
                for g in &grids {
                    if let (Some(c), true) = (g.parent_id, g.parent_id.is_some_and(|c| !community.contains_key(&c))) {
                        community.insert(c, visits::intervals(&mut tx, c).await?);
                        community_name.insert(c, org::by_id(&mut tx, c).await?.name);
                    }
                }
            }
            // 第1网格 is in every community: across several, name the community too
            let grid_name: HashMap<i64, String> = grids
                .iter()
                .map(|g| {
                    let name = match g.parent_id.and_then(|c| community_name.get(&c)) {
                        Some(c) if community_name.len() > 1 => format!("{c} {}", g.name),
                        _ => g.name.clone(),
                    };
                    (g.id, name)
                })
                .collect();
            let mut by_person: BTreeMap<i64, (&visits::Planned, Vec<String>)> = BTreeMap::new();
            for p in &planned {
                let Some(g) = grid_of.get(&p.grid_id) else { continue };
                let own = g.parent_id.and_then(|c| community.get(&c)).map(Vec::as_slice).unwrap_or(&[]);
                let e = by_person.entry(p.resident_id).or_insert((p, vec![]));
                if let Some(c) = &p.category
                    && plan_interval([c.as_str()], own, None).is_some()
                {
                    e.1.push(c.clone());
                }
            }
            let mut rows: BTreeMap<(String, String, String), (i64, i64)> = BTreeMap::new();
            let mut totals: BTreeMap<String, (i64, i64)> = BTreeMap::new();
            for (p, cats) in by_person.values() {
                let Some(g) = grid_of.get(&p.grid_id) else { continue };
                let cats = if cats.is_empty() { vec!["own".to_owned()] } else { cats.clone() };
                let days = p.plan_days.max(1) as u32;
                let first_due = p.first_due_on.as_deref().and_then(date);
                let mut contacts = by_resident.get(&p.resident_id).cloned().unwrap_or_default();
                // the plan began one interval before the first visit was due
                contacts.extend(first_due.map(|f| f - chrono::Days::new(u64::from(days))));
                for start in &month_starts {
                    let end = (*start + chrono::Months::new(1)) - chrono::Days::new(1);
                    if !counts_by(first_due, end.min(today)) {
                        continue;
                    }
                    let m = start.format("%Y-%m").to_string();
                    let ok = i64::from(kept_on_time(&contacts, days, *start, end.min(today)));
                    for cat in &cats {
                        let e = rows.entry((m.clone(), g.code.clone(), cat.clone())).or_default();
                        e.0 += 1;
                        e.1 += ok;
                    }
                    let t = totals.entry(m).or_default();
                    t.0 += 1;
                    t.1 += ok;
                }
            }
            let cat_name = |c: &str| match Category::parse(c) {
                Some(c) => (c.name_zh(), c.name_en()),
                None if c == "own" => ("单独设定", "own interval"),
                None => ("社区自定类别", "community's own category"),
            };
            let share = |(n, ok): (i64, i64)| if n == 0 { 0.0 } else { (ok as f64 * 1000.0 / n as f64).round() / 10.0 };
            let rows = rows
                .into_iter()
                .map(|((month, grid, category), v)| {
                    let names = cat_name(&category);
                    CoverageRow {
                        month,
                        grid_name: grids
                            .iter()
                            .find(|g| g.code == grid)
                            .and_then(|g| grid_name.get(&g.id).cloned())
                            .unwrap_or_default(),
                        grid,
                        category_name: names.0.to_owned(),
                        category_name_en: names.1.to_owned(),
                        category,
                        planned: v.0,
                        on_time: v.1,
                        share: share(v),
                    }
                })
                .collect();
            let totals = totals
                .into_iter()
                .map(|(month, v)| CoverageRow {
                    month,
                    grid: String::new(),
                    grid_name: "合计".to_owned(),
                    category: String::new(),
                    category_name: "全部".to_owned(),
                    category_name_en: "all".to_owned(),
                    planned: v.0,
                    on_time: v.1,
                    share: share(v),
                })
                .collect();
            let overdue_total: i64 = counts.iter().map(|(_, n)| n).sum();
            let mut escalated_total = 0;
            let overdue = due
                .into_iter()
                .map(|d| {
                    let due_d = date(&d.visit_due_on).unwrap_or(today);
                    let l = lateness_on(due_d, d.plan_days, today);
                    if l == Lateness::Escalated {
                        escalated_total += 1;
                    }
                    let address =
                        [d.estate.as_deref(), d.building.as_deref(), d.entrance.as_deref(), d.door.as_deref()]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" ");
                    OverdueRow {
                        resident_id: d.resident_id,
                        name: d.name,
                        grid: grid_name.get(&d.grid_id).cloned().unwrap_or_default(),
                        address,
                        last_contact_on: d.last_contact_on,
                        due_on: d.visit_due_on,
                        days_late: (today - due_d).num_days(),
                        lateness: l,
                        lateness_name: l.name_zh().to_owned(),
                    }
                })
                .take(500)
                .collect();
            Ok(Coverage {
                months: month_starts.iter().map(|m| m.format("%Y-%m").to_string()).collect(),
                rows,
                totals,
                workers: workers
                    .into_iter()
                    .map(|(visitor, visits, people)| WorkerRow { visitor, visits, people })
                    .collect(),
                worker_month: month_key,
                overdue,
                overdue_total,
                escalated_total,
            })
        })
        .await
    }
}

pub(crate) use yijia_domain::time::start_of_day;

fn end_of_day(d: NaiveDate) -> i64 {
    start_of_day(d) + DAY_MS
}

impl Services {
    /// Takes back a visit its visitor recorded a moment ago (an "all well"
    /// tapped on the wrong person): gone from the history and the tallies,
    /// and the plans it moved are as they were.
    pub async fn undo_visit(&self, caller: &Caller, id: i64) -> Result<()> {
        self.denials_audited(caller, async {
            if !caller.has_any(VISITORS) {
                return Err(ServiceError::forbidden());
            }
            let now = self.now();
            let mut tx = self.db.write().await?;
            let Some(v) = visits::get(&mut tx, id).await?.filter(|v| v.visitor_id == caller.user_id) else {
                return Err(ServiceError::Denied { action: "visit_undo".into(), object: format!("visit:{id}") });
            };
            if v.case_id.is_some() {
                return Err(ServiceError::invalid(
                    "id",
                    "这次走访已转为事件,不能撤销;请在事件中说明",
                    "this visit opened a case and cannot be undone; say so on the case",
                ));
            }
            if now - v.created_at > yijia_domain::care::UNDO_MS {
                return Err(ServiceError::invalid(
                    "id",
                    "走访记录已超过一分钟,不能撤销",
                    "a visit can be undone only within a minute of recording it",
                ));
            }
            let grid = org::by_id(&mut tx, v.grid_id).await?;
            visits::delete(&mut tx, id).await?;
            let whose: Vec<PlanInput> = match (v.resident_id, v.household_id) {
                (Some(r), _) => visits::plan_inputs(&mut tx, Whose::Residents(&[r])).await?,
                (None, Some(h)) => visits::plan_inputs(&mut tx, Whose::Households(&[h])).await?,
                (None, None) => vec![],
            };
            let today = today_of(now);
            let mut plans = Vec::new();
            for p in whose {
                let last = visits::of_resident(&mut tx, p.resident_id, 1).await?.pop();
                let plan = match last {
                    Some(l) => {
                        let next = l.next_visit_on.as_deref().and_then(date);
                        planned(&p, &p.intervals, date(&l.visited_on), next, today, FirstDue::Today)
                    }
                    // never seen before it: due as first planned
                    None => {
                        let mut before = p.clone();
                        before.visit_due_on = p.first_due_on.clone();
                        planned(&before, &p.intervals, None, None, today, FirstDue::Today)
                    }
                };
                plans.push(plan);
            }
            visits::set_plans(&mut tx, &plans).await?;
            let e = Event::ok("visit_undo", format!("visit:{id}"), &grid.path);
            record(&mut tx, caller, now, &e.with(json!({ "client_id": v.client_id, "visited_on": v.visited_on })))
                .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// A visit's photo, for those who may read the resident's record.
    pub async fn visit_photo(&self, caller: &Caller, id: i64) -> Result<crate::cases::PhotoFile> {
        self.denials_audited(caller, async {
            let mut conn = self.db.conn().await?;
            let v = visits::get(&mut conn, id).await?.ok_or(ServiceError::NotFound)?;
            let grid = org::by_id(&mut conn, v.grid_id).await?;
            drop(conn);
            if !caller.covers(crate::roles::RESIDENT_READERS, &grid.path) {
                return Err(ServiceError::Denied { action: "visit_photo".into(), object: format!("visit:{id}") });
            }
            let (Some(name), Some(content_type)) = (v.photo_file, v.photo_type) else {
                return Err(ServiceError::NotFound);
            };
            let bytes = self.files.get(&name).await?;
            let ext = name.rsplit('.').next().unwrap_or("jpg").to_owned();
            Ok(crate::cases::PhotoFile { bytes, content_type, file_name: format!("visit-{id}.{ext}") })
        })
        .await
    }
}

/// What the home page tells someone about visits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct VisitAlerts {
    pub due_today: i64,
    pub overdue: i64,
    /// Past due by a second interval: the community's to follow up.
    pub escalated: i64,
}

impl Services {
    /// The grids a caller may walk or read coverage of: (code, name).
    pub async fn visit_grids(&self, caller: &Caller) -> Result<Vec<(String, String)>> {
        let mut tx = self.db.conn().await?;
        let mut grids = Vec::new();
        for path in caller.scope_paths(COVERAGE_READERS) {
            for g in org::subtree(&mut tx, &path).await? {
                if g.kind == OrgKind::Grid {
                    grids.push((g.code, g.name));
                }
            }
        }
        Ok(grids)
    }

    /// "No contact in N days": for grid workers their grids' overdue, for
    /// the community (staff, secretary) those overdue by a second interval.
    pub async fn visit_alerts(&self, caller: &Caller) -> Result<VisitAlerts> {
        if !caller.has_any(COVERAGE_READERS) {
            return Ok(VisitAlerts::default());
        }
        let today = today_of(self.now());
        let mut tx = self.db.conn().await?;
        let mut ids = Vec::new();
        for path in caller.scope_paths(COVERAGE_READERS) {
            ids.extend(
                org::subtree(&mut tx, &path).await?.into_iter().filter(|g| g.kind == OrgKind::Grid).map(|g| g.id),
            );
        }
        let mut a = VisitAlerts::default();
        for d in visits::due(&mut tx, &ids, &ymd(today), 20_000).await? {
            let due = date(&d.visit_due_on).unwrap_or(today);
            match lateness_on(due, d.plan_days, today) {
                Lateness::NotDue | Lateness::DueToday => a.due_today += 1,
                Lateness::Overdue => a.overdue += 1,
                Lateness::Escalated => a.escalated += 1,
            }
        }
        Ok(a)
    }
}
