//! Cases: requests (诉求), disputes (矛盾纠纷) and hazards (安全隐患) in one
//! workflow. The state machine and the deadlines live here; who is in
//! scope is the service's to check, which part each one plays is here.
//!
//! ```text
//! submitted ─accept→ accepted ─start→ in_progress ─resolve→ resolved ─close→ closed
//!     │  ╲reject→ rejected          (accepted may resolve at once)    │
//!     │   ╲escalate→ escalated ─accept→ accepted (the subdistrict)    │
//!     └─transfer→ submitted (another grid)        reopen (within the window)
//!                                                 → in_progress ←────┘
//! ```

use serde::{Deserialize, Serialize};

use crate::Msg;
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};

crate::labelled! {
    stored in "cases.kind, case_categories.kind";
    pub enum CaseKind {
        Request = ("request", "居民诉求", "Request"),
        Dispute = ("dispute", "矛盾纠纷", "Dispute"),
        Hazard = ("hazard", "安全隐患", "Hazard"),
    }
}

impl CaseKind {
    /// By code or by the names people use.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "request" | "诉求" | "居民诉求" => Some(CaseKind::Request),
            "dispute" | "纠纷" | "矛盾纠纷" => Some(CaseKind::Dispute),
            "hazard" | "隐患" | "安全隐患" => Some(CaseKind::Hazard),
            _ => None,
        }
    }
}

crate::labelled! {
    stored in "cases.priority, case_categories.priority, case_deadlines.priority";
    #[derive(PartialOrd, Ord)]
    pub enum Priority {
        Emergency = ("emergency", "紧急", "Emergency"),
        Urgent = ("urgent", "加急", "Urgent"),
        Ordinary = ("ordinary", "一般", "Normal"),
        Complex = ("complex", "复杂", "Complex"),
    }
}

impl Priority {
    /// By code or by its Chinese name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == s.trim() || p.name_zh() == s.trim())
    }

    /// The default times to accept and to resolve, in the spirit of the
    /// 12345 hotline rules: emergencies in 2 hours, urgent cases in a day,
    /// ordinary ones in 7 days, complex ones in 15.
    pub fn default_deadlines(self) -> Deadlines {
        let (accept, resolve) = match self {
            Priority::Emergency => (30 * MINUTE_MS, 2 * HOUR_MS),
            Priority::Urgent => (2 * HOUR_MS, DAY_MS),
            Priority::Ordinary => (DAY_MS, 7 * DAY_MS),
            Priority::Complex => (DAY_MS, 15 * DAY_MS),
        };
        Deadlines { accept_ms: accept, resolve_ms: resolve }
    }
}

/// How long a case may wait to be accepted and to be resolved, from the
/// moment it was filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    pub accept_ms: i64,
    pub resolve_ms: i64,
}

impl Deadlines {
    /// Both set, and the time to accept no longer than the time to resolve.
    pub fn check(self) -> Result<Self, Msg> {
        if self.accept_ms <= 0 || self.resolve_ms <= 0 || self.accept_ms > self.resolve_ms {
            return Err(Msg::new(
                "受理时限和办结时限须大于零,且受理时限不长于办结时限",
                "both deadlines are positive, and accepting takes no longer than resolving",
            ));
        }
        Ok(self)
    }
}

/// Where a case stands against one of its deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Timeliness {
    OnTime,
    /// In the last fifth of its time (and at most a day before the end).
    Near,
    Overdue,
}

/// `due` is the deadline, `window` the whole time the case was given.
pub fn timeliness(now: i64, due: i64, window: i64) -> Timeliness {
    Schedule::new(due - window, due).at(now)
}

crate::labelled! {
    stored in "cases.state, case_events.from_state, case_events.to_state";
    pub enum CaseState {
        Submitted = ("submitted", "待受理", "Submitted"),
        Accepted = ("accepted", "已受理", "Accepted"),
        InProgress = ("in_progress", "办理中", "In progress"),
        Resolved = ("resolved", "已办结", "Resolved"),
        Closed = ("closed", "已关闭", "Closed"),
        Rejected = ("rejected", "不予受理", "Rejected"),
        /// Sent up to the subdistrict, which accepts it as its own.
        Escalated = ("escalated", "已上报街道", "Escalated"),
    }
}

impl CaseState {
    /// Still someone's work: its deadlines count.
    pub fn is_open(self) -> bool {
        !matches!(self, CaseState::Resolved | CaseState::Closed | CaseState::Rejected)
    }
}

/// The part someone plays for a case; the service decides it from their
/// grants and the case's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A grid worker of the case's grid, or staff of its community.
    Handler,
    /// Staff or the secretary of the case's community: hands cases out.
    Dispatcher,
    /// The street office above it.
    Subdistrict,
    /// The resident who filed it.
    Reporter,
}

/// Who reads and records a dispute's parties, mediation and agreement:
/// those handling it (its grid's workers, the community's staff), and the
/// street office only once the dispute was escalated to it.
pub fn handles_dispute(parts: &[Part], escalated: bool) -> bool {
    parts.iter().any(|p| matches!(p, Part::Handler | Part::Dispatcher) || (*p == Part::Subdistrict && escalated))
}

crate::labelled! {
    pub enum Action {
        Accept = ("accept", "受理", "Accept"),
        Start = ("start", "开始办理", "Start"),
        Resolve = ("resolve", "办结", "Resolve"),
        Close = ("close", "关闭", "Close"),
        Reject = ("reject", "不予受理", "Reject"),
        Escalate = ("escalate", "上报街道", "Escalate"),
        Transfer = ("transfer", "转其他网格", "Transfer"),
        Reopen = ("reopen", "重新办理", "Reopen"),
    }
}

impl Action {
    /// Whether this action needs a written note: a reason, or for resolving
    /// what was done.
    pub fn needs_reason(self) -> bool {
        matches!(self, Action::Resolve | Action::Reject | Action::Escalate | Action::Transfer | Action::Reopen)
    }
}

crate::labelled! {
    stored in "case_events.action";
    /// What a line of a case's timeline records: an action, or something
    /// that happened to the case besides.
    pub enum EventKind {
        Created = ("created", "提交", "Filed"),
        Accept = ("accept", "受理", "Accept"),
        Start = ("start", "开始办理", "Start"),
        Resolve = ("resolve", "办结", "Resolve"),
        Close = ("close", "关闭", "Close"),
        Reject = ("reject", "不予受理", "Reject"),
        Escalate = ("escalate", "上报街道", "Escalate"),
        Transfer = ("transfer", "转其他网格", "Transfer"),
        Reopen = ("reopen", "重新办理", "Reopen"),
        Note = ("note", "进展", "Progress"),
        Rating = ("rating", "评价", "Rating"),
        Dispute = ("dispute", "调解记录", "Mediation record"),
        Photo = ("photo", "照片", "Photo"),
        Reminder = ("reminder", "时限提醒", "Deadline reminder"),
        Revisit = ("revisit", "回访", "Revisit"),
        Overdue = ("overdue", "超期", "Overdue"),
    }
}

impl From<Action> for EventKind {
    fn from(a: Action) -> Self {
        match a {
            Action::Accept => EventKind::Accept,
            Action::Start => EventKind::Start,
            Action::Resolve => EventKind::Resolve,
            Action::Close => EventKind::Close,
            Action::Reject => EventKind::Reject,
            Action::Escalate => EventKind::Escalate,
            Action::Transfer => EventKind::Transfer,
            Action::Reopen => EventKind::Reopen,
        }
    }
}

/// What a transition needs to know besides the state.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub now: i64,
    /// When it was resolved, for the reopening window.
    pub resolved_at: Option<i64>,
    /// How long after resolving the resident may reopen it.
    pub reopen_window_ms: i64,
}

/// The state `action` leads to from `state` when `part` does it, or why not.
pub fn transition(state: CaseState, action: Action, part: Part, ctx: &Context) -> Result<CaseState, Msg> {
    use Action as A;
    use CaseState as S;
    use Part as P;
    let staff = matches!(part, P::Handler | P::Dispatcher);
    let next = match (state, action) {
        (S::Submitted, A::Accept) if staff => S::Accepted,
        (S::Escalated, A::Accept) if part == P::Subdistrict => S::Accepted,
        (S::Accepted, A::Start) if staff || part == P::Subdistrict => S::InProgress,
        (S::Accepted | S::InProgress, A::Resolve) if staff || part == P::Subdistrict => S::Resolved,
        (S::Submitted, A::Reject) if staff => S::Rejected,
        (S::Submitted | S::Accepted | S::InProgress, A::Escalate) if staff => S::Escalated,
        (S::Submitted | S::Accepted, A::Transfer) if staff => S::Submitted,
        (S::Resolved, A::Close) if staff || part == P::Reporter => S::Closed,
        (S::Resolved | S::Closed, A::Reopen) if part == P::Reporter || part == P::Dispatcher => {
            let within = ctx.resolved_at.is_some_and(|t| ctx.now - t <= ctx.reopen_window_ms);
            if !within {
                return Err(Msg::new(
                    "已超过可重新办理的期限,请重新提交诉求",
                    "the time to reopen it has passed; file a new case",
                ));
            }
            S::InProgress
        }
        _ => {
            return Err(Msg::new(
                format!("当前状态「{}」下不能「{}」", state.name_zh(), action.name_zh()),
                format!("a case that is {} cannot be given '{}' by you", state.code(), action.code()),
            ));
        }
    };
    Ok(next)
}

/// The actions `part` may take now: the only buttons a page shows.
pub fn allowed(state: CaseState, part: Part, ctx: &Context) -> Vec<Action> {
    Action::ALL.into_iter().filter(|a| transition(state, *a, part, ctx).is_ok()).collect()
}

/// The deadline that counts in a state, when it turns near, and when the
/// deadline sweep must next look at the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub due: i64,
    pub near: i64,
}

impl Schedule {
    /// A deadline given at `start`: near in its last fifth, at most a day.
    pub fn new(start: i64, due: i64) -> Self {
        Schedule { due, near: due - ((due - start) / 5).clamp(0, DAY_MS) }
    }

    /// Where a case stands against it at `now`.
    pub fn at(self, now: i64) -> Timeliness {
        if now > self.due {
            Timeliness::Overdue
        } else if now >= self.near {
            Timeliness::Near
        } else {
            Timeliness::OnTime
        }
    }
}

/// The schedule of a case in `state` that was given until `accept_due` and
/// `resolve_due` from `start`; `None` when no deadline counts (resolved,
/// closed, rejected). One sent up is the street office's to take on
/// within the time the community had to accept it, from `start` (when it
/// was sent up): `accept_window`.
pub fn schedule(state: CaseState, start: i64, accept_due: i64, resolve_due: i64) -> Option<Schedule> {
    match state {
        CaseState::Submitted => Some(Schedule::new(start, accept_due)),
        CaseState::Accepted | CaseState::InProgress => Some(Schedule::new(start, resolve_due)),
        _ => None,
    }
}

/// The street office's time to take on a case sent up at `escalated_at`:
/// the community's own time to accept (at least an hour).
pub fn escalated_schedule(escalated_at: i64, accept_window: i64) -> Schedule {
    Schedule::new(escalated_at, escalated_at + accept_window.max(crate::time::HOUR_MS))
}

crate::labelled! {
    stored in "cases.channel";
    /// How a case reached the community.
    pub enum Channel {
        /// At the station or office (来访).
        WalkIn = ("walk_in", "来访", "Walk-in"),
        Phone = ("phone", "来电", "Phone"),
        /// Found on a visit.
        Visit = ("visit", "走访发现", "Found on a visit"),
        /// The resident's own phone.
        Portal = ("portal", "居民自助", "Resident's phone"),
        /// An Open311 client.
        Open311 = ("open311", "Open311", "Open311"),
    }
}

/// A dispute is revisited 7 and 30 days after it is resolved, to catch a
/// relapse.
pub const DISPUTE_REVISITS_DAYS: [i64; 2] = [7, 30];

/// The workflow's own steps from `state` to closed, for a hazard that an
/// accepted repair project fixed: each move one the workflow has (the
/// street office accepts what was escalated to it), never a jump.
pub fn closing_path(state: CaseState) -> &'static [(Action, CaseState)] {
    use Action as A;
    use CaseState as S;
    match state {
        S::Submitted | S::Escalated => {
            &[(A::Accept, S::Accepted), (A::Start, S::InProgress), (A::Resolve, S::Resolved), (A::Close, S::Closed)]
        }
        S::Accepted => &[(A::Start, S::InProgress), (A::Resolve, S::Resolved), (A::Close, S::Closed)],
        S::InProgress => &[(A::Resolve, S::Resolved), (A::Close, S::Closed)],
        S::Resolved => &[(A::Close, S::Closed)],
        S::Closed | S::Rejected => &[],
    }
}

/// The English of a timeline note yijia wrote itself (an assignment, a
/// transfer, a sweep's reminder); `None` for what a person typed, which
/// stays as typed. Names inside (第1网格, a project's title) stay too.
pub fn system_note_en(note: &str) -> Option<String> {
    let between = |s: &str, pre: &str, post: &str| s.strip_prefix(pre)?.strip_suffix(post).map(str::to_owned);
    if note == "待社区分派" {
        return Some("Waiting for the community to assign it".into());
    }
    if note == crate::life::DECEASED_NOTE {
        return Some("The person who filed it has died (recorded in the register): closed".into());
    }
    if note == "超过办结时限,自动上报街道" {
        return Some("Past the time to resolve: sent up to the subdistrict".into());
    }
    if let Some(g) = note.strip_prefix("分派至") {
        return Some(format!("Assigned to {g}"));
    }
    if let Some(rest) = note.strip_prefix("转至") {
        let (g, why) = rest.split_once(':')?;
        return Some(format!("Transferred to {g}: {why}"));
    }
    if let Some(h) = between(note, "距受理时限还有 ", " 小时") {
        return Some(format!("{h} hours left to accept it"));
    }
    if let Some(h) = between(note, "距办结时限还有 ", " 小时") {
        return Some(format!("{h} hours left to resolve it"));
    }
    if let Some(h) = between(note, "已超过受理时限 ", " 小时,请社区督办") {
        return Some(format!("{h} hours past the time to accept it: the community should follow it up"));
    }
    if let Some(h) = between(note, "已超过街道受理时限 ", " 小时") {
        return Some(format!("{h} hours past the street office's time to take it on"));
    }
    if let Some(h) = between(note, "距街道受理时限还有 ", " 小时") {
        return Some(format!("{h} hours left for the street office to take it on"));
    }
    if let Some(h) = between(note, "已超过办结时限 ", " 小时") {
        return Some(format!("{h} hours past the time to resolve it"));
    }
    if let Some(t) = between(note, "修缮项目「", "」经居民验收通过,隐患已消除") {
        return Some(format!("The repair project '{t}' was accepted by the residents: the hazard is gone"));
    }
    if let Some(n) = note.strip_suffix(" 张").filter(|n| n.parse::<u32>().is_ok()) {
        return Some(format!("{n} photo(s)"));
    }
    None
}

/// Who wrote a line no person wrote.
pub const SYSTEM_ACTOR: &str = "系统";

#[cfg(test)]
mod tests {
    #[test]
    fn a_fixed_hazard_closes_by_the_workflow_s_own_moves() {
        use super::*;
        let ctx = Context { now: 0, resolved_at: None, reopen_window_ms: 0 };
        for from in CaseState::ALL {
            let mut at = from;
            for (action, to) in closing_path(from) {
                let part = if at == CaseState::Escalated { Part::Subdistrict } else { Part::Dispatcher };
                assert_eq!(transition(at, *action, part, &ctx), Ok(*to), "{at:?} --{action:?}-->");
                at = *to;
            }
            let done = matches!(at, CaseState::Closed | CaseState::Rejected);
            assert!(done, "{from:?} ends closed (or stays rejected): {at:?}");
        }
    }

    #[test]
    fn notes_yijia_wrote_have_english_and_typed_ones_stay_as_typed() {
        for (zh, en) in [
            ("分派至第1网格", "Assigned to 第1网格"),
            ("待社区分派", "Waiting for the community to assign it"),
            ("转至第3网格:不在本网格", "Transferred to 第3网格: 不在本网格"),
            ("距办结时限还有 4.0 小时", "4.0 hours left to resolve it"),
            (
                "已超过受理时限 2.5 小时,请社区督办",
                "2.5 hours past the time to accept it: the community should follow it up",
            ),
            ("超过办结时限,自动上报街道", "Past the time to resolve: sent up to the subdistrict"),
            ("3 张", "3 photo(s)"),
        ] {
            assert_eq!(super::system_note_en(zh).as_deref(), Some(en), "{zh}");
        }
        for typed in ["已联系物业,明天上门", "楼道灯不亮", "三 张"] {
            assert_eq!(super::system_note_en(typed), None, "{typed}");
        }
    }

    use super::*;

    fn ctx(now: i64, resolved_at: Option<i64>) -> Context {
        Context { now, resolved_at, reopen_window_ms: 7 * DAY_MS }
    }

    #[test]
    fn every_action_is_an_event_of_the_same_code_and_name() {
        for a in Action::ALL {
            let e = EventKind::from(a);
            assert_eq!((e.code(), e.name_zh(), e.name_en()), (a.code(), a.name_zh(), a.name_en()));
        }
    }

    #[test]
    fn the_happy_path_and_who_walks_it() {
        let c = ctx(0, None);
        let mut s = CaseState::Submitted;
        for (a, p, want) in [
            (Action::Accept, Part::Handler, CaseState::Accepted),
            (Action::Start, Part::Handler, CaseState::InProgress),
            (Action::Resolve, Part::Handler, CaseState::Resolved),
            (Action::Close, Part::Reporter, CaseState::Closed),
        ] {
            s = transition(s, a, p, &c).unwrap();
            assert_eq!(s, want);
        }
        // a resident does not accept their own case, nor resolve it
        assert!(transition(CaseState::Submitted, Action::Accept, Part::Reporter, &c).is_err());
        assert!(transition(CaseState::InProgress, Action::Resolve, Part::Reporter, &c).is_err());
        // nothing leaves closed but a reopening
        assert_eq!(allowed(CaseState::Closed, Part::Handler, &c), []);
    }

    #[test]
    fn escalation_goes_to_the_subdistrict() {
        let c = ctx(0, None);
        let s = transition(CaseState::InProgress, Action::Escalate, Part::Handler, &c).unwrap();
        assert_eq!(s, CaseState::Escalated);
        assert!(transition(s, Action::Accept, Part::Handler, &c).is_err(), "the grid does not take it back");
        assert_eq!(transition(s, Action::Accept, Part::Subdistrict, &c), Ok(CaseState::Accepted));
        assert_eq!(allowed(CaseState::Submitted, Part::Handler, &c).len(), 4, "accept, reject, escalate, transfer");
    }

    #[test]
    fn reopening_only_within_the_window() {
        let resolved = 1_000;
        let inside = ctx(resolved + 7 * DAY_MS, Some(resolved));
        let outside = ctx(resolved + 7 * DAY_MS + 1, Some(resolved));
        assert_eq!(transition(CaseState::Resolved, Action::Reopen, Part::Reporter, &inside), Ok(CaseState::InProgress));
        let e = transition(CaseState::Closed, Action::Reopen, Part::Reporter, &outside).unwrap_err();
        assert!(e.zh.contains("期限"));
        assert!(transition(CaseState::Resolved, Action::Reopen, Part::Handler, &inside).is_err());
        assert!(Action::Reopen.needs_reason() && !Action::Accept.needs_reason());
        assert!(Action::Resolve.needs_reason() && !Action::Close.needs_reason());
    }

    #[test]
    fn deadlines_and_how_near_they_are() {
        let d = Priority::Emergency.default_deadlines();
        assert_eq!((d.accept_ms, d.resolve_ms), (30 * MINUTE_MS, 2 * HOUR_MS));
        assert_eq!(Priority::Complex.default_deadlines().resolve_ms, 15 * DAY_MS);
        assert!(Deadlines { accept_ms: 2 * DAY_MS, resolve_ms: DAY_MS }.check().is_err());
        assert!(Deadlines { accept_ms: 0, resolve_ms: DAY_MS }.check().is_err());
        let week = 7 * DAY_MS;
        assert_eq!(timeliness(0, week, week), Timeliness::OnTime);
        assert_eq!(timeliness(week - DAY_MS, week, week), Timeliness::Near, "a day before a week's end");
        assert_eq!(timeliness(week - DAY_MS - 1, week, week), Timeliness::OnTime);
        assert_eq!(timeliness(week + 1, week, week), Timeliness::Overdue);
        // two hours: near in the last 24 minutes
        assert_eq!(timeliness(2 * HOUR_MS - 24 * MINUTE_MS, 2 * HOUR_MS, 2 * HOUR_MS), Timeliness::Near);
        assert_eq!(timeliness(HOUR_MS, 2 * HOUR_MS, 2 * HOUR_MS), Timeliness::OnTime);
    }

    #[test]
    fn names_people_use() {
        assert_eq!(CaseKind::parse("安全隐患"), Some(CaseKind::Hazard));
        assert_eq!(CaseKind::parse("纠纷"), Some(CaseKind::Dispute));
        assert_eq!(Priority::parse("紧急"), Some(Priority::Emergency));
        assert_eq!(CaseState::from_code("in_progress"), Some(CaseState::InProgress));
        assert!(CaseKind::parse("投诉").is_none());
    }

    #[test]
    fn the_schedule_follows_the_state() {
        let h = HOUR_MS;
        // submitted: the time to accept counts; near in its last fifth
        let s = schedule(CaseState::Submitted, 0, 10 * h, 100 * h).unwrap();
        assert_eq!(s, Schedule { due: 10 * h, near: 8 * h });
        // accepted: the time to resolve; near at most a day before
        let s = schedule(CaseState::InProgress, 0, 10 * h, 100 * h).unwrap();
        assert_eq!(s, Schedule { due: 100 * h, near: 80 * h });
        let s = schedule(CaseState::Accepted, 0, 10 * h, 200 * h).unwrap();
        assert_eq!(s, Schedule { due: 200 * h, near: 176 * h });
        assert_eq!(schedule(CaseState::Escalated, 0, 1, 2), None);
        assert_eq!(schedule(CaseState::Resolved, 0, 1, 2), None);
    }

    #[test]
    fn channels_round_trip() {
        for c in Channel::ALL {
            assert_eq!(Channel::from_code(c.code()), Some(c));
        }
        assert_eq!(Channel::from_code("fax"), None);
    }
}
