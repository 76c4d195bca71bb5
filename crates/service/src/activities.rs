//! Volunteer activities: the organiser puts one up, residents are signed up
//! (a waiting list when it is full), checked in and out, and when the
//! organiser confirms it the minutes each was there turn into points from
//! the community's pool.

use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::Msg;
use yijia_domain::activity::{self as rules, ActivityFields, ActivityStatus, PointsRule, SignupStatus};
use yijia_domain::points::{AccountKind, Leg, TransferKind};
use yijia_domain::role::Role;
use yijia_domain::time::rfc3339;
use yijia_store::activities::{self as store, Activity, NewActivity, Signup};
use yijia_store::{Tx, org, points as ledger};

use crate::audit::{Event, record};
use crate::fields::time as time_field;
use crate::invitations::own_record;
use crate::points::{Applied, Req, post};
use crate::roles::ORGANISERS;
use crate::{Caller, Result, ServiceError, Services};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ActivityInput {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    pub place: String,
    /// RFC 3339.
    pub starts_at: String,
    /// RFC 3339.
    pub ends_at: String,
    pub capacity: i64,
    /// A category code: only residents in it may join; none: any resident.
    #[serde(default)]
    pub who_may_join: Option<String>,
    /// `per_hour` or `fixed`.
    pub points_rule: String,
    pub points: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SignupInput {
    pub resident_id: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SignupView {
    pub resident_id: i64,
    pub name: String,
    pub status: SignupStatus,
    pub status_name: String,
    pub checked_in_at: Option<String>,
    pub checked_out_at: Option<String>,
    /// Once confirmed: the minutes counted and the points given.
    pub minutes: Option<i64>,
    pub points: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ActivityView {
    pub id: i64,
    pub community: String,
    pub title: String,
    pub description: String,
    pub place: String,
    pub starts_at: String,
    pub ends_at: String,
    pub capacity: i64,
    pub who_may_join: Option<String>,
    pub points_rule: yijia_domain::activity::RuleKind,
    pub points: i64,
    pub organiser: String,
    /// A shift at this duty post (门岗值守).
    pub post_id: Option<i64>,
    /// `open`, `cancelled` or `confirmed`.
    pub status: ActivityStatus,
    /// Where it stands now: `upcoming`, `under_way`, `ended` (points to
    /// confirm), `cancelled` or `confirmed`.
    pub phase: yijia_domain::activity::ActivityPhase,
    pub signed_up: usize,
    pub waiting: usize,
    pub signups: Vec<SignupView>,
}

fn signup_view(s: &Signup) -> SignupView {
    let status = s.status;
    SignupView {
        resident_id: s.resident_id,
        name: s.resident_name.clone(),
        status,
        status_name: status.name_zh().to_owned(),
        checked_in_at: s.checked_in_at.map(rfc3339),
        checked_out_at: s.checked_out_at.map(rfc3339),
        minutes: s.minutes,
        points: s.points,
    }
}

fn activity_view(a: &Activity, community: &str, signups: &[Signup], now: i64) -> ActivityView {
    let count = |st: SignupStatus| signups.iter().filter(|s| s.status == st).count();
    ActivityView {
        id: a.id,
        community: community.to_owned(),
        title: a.title.clone(),
        description: a.description.clone(),
        place: a.place.clone(),
        starts_at: rfc3339(a.starts_at),
        ends_at: rfc3339(a.ends_at),
        capacity: a.capacity,
        who_may_join: a.who_may_join.clone(),
        points_rule: a.points_rule,
        points: a.points,
        organiser: a.organiser.clone(),
        post_id: a.post_id,
        status: a.status,
        phase: yijia_domain::activity::ActivityPhase::of(a.status, a.starts_at, a.ends_at, now),
        signed_up: count(SignupStatus::SignedUp),
        waiting: count(SignupStatus::Waiting),
        signups: signups.iter().map(signup_view).collect(),
    }
}

fn not_open(a: &Activity) -> ServiceError {
    ServiceError::Conflict(Msg::new(
        format!("活动「{}」已{}", a.title, if a.status == ActivityStatus::Confirmed { "确认积分" } else { "取消" }),
        format!("the activity '{}' is {}", a.title, a.status.code()),
    ))
}

impl Services {
    pub async fn create_activity(
        &self,
        caller: &Caller,
        community: Option<&str>,
        input: ActivityInput,
    ) -> Result<ActivityView> {
        self.put_up(caller, community, input, None).await
    }

    /// An activity, or a shift at a duty post of the same community.
    pub(crate) async fn put_up(
        &self,
        caller: &Caller,
        community: Option<&str>,
        input: ActivityInput,
        post: Option<&store::Post>,
    ) -> Result<ActivityView> {
        let Some(rule) = PointsRule::parse(input.points_rule.trim(), input.points) else {
            return Err(ServiceError::invalid(
                "points_rule",
                "计分方式只能是 per_hour(按小时)或 fixed(固定)",
                "the points rule is per_hour or fixed",
            ));
        };
        let fields = ActivityFields {
            title: input.title.clone(),
            place: input.place.clone(),
            starts_at: time_field("starts_at", &input.starts_at)?,
            ends_at: time_field("ends_at", &input.ends_at)?,
            capacity: input.capacity,
            rule,
        };
        rules::check_activity(&fields)?;
        let who = input.who_may_join.as_deref().map(str::trim).filter(|w| !w.is_empty());
        if let Some(w) = who
            && yijia_domain::registry::Category::parse(w).is_none()
        {
            return Err(ServiceError::invalid(
                "who_may_join",
                format!("没有类别「{w}」"),
                format!("no category '{w}'"),
            ));
        }
        let now = self.now();
        let description = crate::fields::optional_text("description", input.description.as_deref(), 2000)?;
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let com = self.caller_community(&mut tx, caller, ORGANISERS, community).await?;
            if post.is_some_and(|p| p.community_id != com.id) {
                return Err(ServiceError::NotFound);
            }
            let new = NewActivity {
                community_id: com.id,
                title: fields.title.trim(),
                description: &description,
                place: fields.place.trim(),
                starts_at: fields.starts_at,
                ends_at: fields.ends_at,
                capacity: fields.capacity,
                who_may_join: who,
                points_rule: rule.kind(),
                points: rule.points(),
                organiser: &caller.display_name,
                created_by: caller.user_id,
                now,
                post_id: post.map(|p| p.id),
            };
            let id = store::insert(&mut tx, &new).await?;
            let e = Event::ok("activity", format!("activity:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "title": new.title }))).await?;
            let a = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(activity_view(&a, &com.code, &[], self.now()))
        })
        .await
    }

    /// The community's activities that have not ended, soonest first.
    pub async fn activities(&self, caller: &Caller, community: Option<&str>) -> Result<Vec<ActivityView>> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let com = self.caller_community(&mut tx, caller, crate::roles::POINT_READERS, community).await?;
            let list = store::list(&mut tx, com.id, now - 30 * yijia_domain::time::DAY_MS, 200).await?;
            let mut out = Vec::with_capacity(list.len());
            for a in &list {
                let s = store::signups(&mut tx, a.id).await?;
                out.push(ActivityView { signups: vec![], ..activity_view(a, &com.code, &s, now) });
            }
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    /// For a resident: their community's activities that have not ended,
    /// each with the resident's own sign-up only.
    pub async fn my_activities(&self, caller: &Caller) -> Result<Vec<ActivityView>> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (r, com) = own_record(&mut tx, caller).await?;
            let list = store::list(&mut tx, com.id, now - 30 * yijia_domain::time::DAY_MS, 200).await?;
            let mut out = Vec::with_capacity(list.len());
            for a in &list {
                let s = store::signups(&mut tx, a.id).await?;
                let mine = s.iter().filter(|x| x.resident_id == r.id).map(signup_view).collect();
                out.push(ActivityView { signups: mine, ..activity_view(a, &com.code, &s, now) });
            }
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    /// One activity with everyone signed up.
    pub async fn activity(&self, caller: &Caller, id: i64) -> Result<ActivityView> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (a, com) = activity_in_scope(&mut tx, caller, id, crate::roles::POINT_READERS).await?;
            let s = store::signups(&mut tx, id).await?;
            tx.commit().await?;
            Ok(activity_view(&a, &com.code, &s, self.now()))
        })
        .await
    }

    /// Signs a resident up; when the activity is full, onto its waiting list.
    pub async fn sign_up(&self, caller: &Caller, id: i64, input: SignupInput) -> Result<SignupView> {
        self.signup_change(caller, id, Some(input.resident_id), true).await
    }

    /// Cancels a sign-up; a place given up goes to the first one waiting.
    pub async fn cancel_signup(&self, caller: &Caller, id: i64, resident_id: i64) -> Result<SignupView> {
        self.signup_change(caller, id, Some(resident_id), false).await
    }

    /// A resident signs themself up.
    pub async fn sign_me_up(&self, caller: &Caller, id: i64) -> Result<SignupView> {
        self.signup_change(caller, id, None, true).await
    }

    /// A resident gives up their own place.
    pub async fn cancel_my_signup(&self, caller: &Caller, id: i64) -> Result<SignupView> {
        self.signup_change(caller, id, None, false).await
    }

    /// Signs up (`join`) or cancels: for `resident` by an organiser, or for
    /// the caller's own record when `resident` is `None`.
    async fn signup_change(&self, caller: &Caller, id: i64, resident: Option<i64>, join: bool) -> Result<SignupView> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (a, com, r) = match resident {
                Some(rid) => {
                    let (a, com) = open_activity(&mut tx, caller, id).await?;
                    let Some(r) = yijia_store::residents::get(&mut tx, rid).await? else {
                        return Err(ServiceError::invalid("resident_id", "没有这位居民", "no such resident"));
                    };
                    if join {
                        crate::life::on_register(&r)?;
                    }
                    (a, com, r)
                }
                None => {
                    let (r, own) = own_record(&mut tx, caller).await?;
                    let found = store::get(&mut tx, id).await?;
                    let a = ServiceError::in_reach(
                        found,
                        |a| a.community_id == own.id,
                        "activity",
                        format!("activity:{id}"),
                    )?;
                    if a.status != ActivityStatus::Open {
                        return Err(not_open(&a));
                    }
                    (a, own, r)
                }
            };
            if join {
                sign_up_in(&mut tx, caller, &a, &com, &r, now).await?;
            } else {
                cancel_in(&mut tx, caller, &a, &com, r.id, now).await?;
            }
            let s = store::signup(&mut tx, id, r.id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(signup_view(&s))
        })
        .await
    }

    /// Checks someone with a place in (`out` false) or out, now or at a
    /// time already past (`at`, RFC 3339: written down on paper at the
    /// door and entered later).
    pub async fn check(
        &self,
        caller: &Caller,
        id: i64,
        resident_id: i64,
        out: bool,
        at: Option<&str>,
    ) -> Result<SignupView> {
        let now = self.now();
        let at = match at.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => time_field("at", a)?,
            None => now,
        };
        if at > now {
            return Err(ServiceError::invalid(
                "at",
                "签到签退时间不能晚于现在",
                "a check-in or out cannot be in the future",
            ));
        }
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (_, com) = open_activity(&mut tx, caller, id).await?;
            let s = live_signup(&mut tx, id, resident_id).await?;
            record_check(&mut tx, caller, &com, &s, out, (at, now)).await?;
            let s = store::signup(&mut tx, id, resident_id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(signup_view(&s))
        })
        .await
    }

    /// The code shown at an activity for residents to scan: it checks them
    /// in (or, once in, out) and works for five to ten minutes.
    pub async fn check_code(&self, caller: &Caller, id: i64) -> Result<CheckCode> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (a, _) = open_activity(&mut tx, caller, id).await?;
            tx.commit().await?;
            let window = now.div_euclid(CODE_WINDOW_MS);
            let token = self.check_token(a.id, window)?;
            Ok(CheckCode {
                activity_id: a.id,
                path: format!("/me/check?a={}&t={token}", a.id),
                token,
                valid_until: rfc3339((window + 2) * CODE_WINDOW_MS),
            })
        })
        .await
    }

    fn check_token(&self, id: i64, window: i64) -> Result<String> {
        let mac = self.keys.blind("activity-check", &format!("{id}:{window}"))?;
        Ok(mac.chars().take(16).collect())
    }

    /// A resident scanned the code at the activity: checked in, or out when
    /// in already.
    pub async fn check_me(&self, caller: &Caller, id: i64, token: &str) -> Result<SignupView> {
        let now = self.now();
        let window = now.div_euclid(CODE_WINDOW_MS);
        let fresh = [window, window - 1].iter().any(|w| self.check_token(id, *w).is_ok_and(|t| t == token.trim()));
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (r, com) = own_record(&mut tx, caller).await?;
            let found = store::get(&mut tx, id).await?;
            let a = ServiceError::in_reach(found, |a| a.community_id == com.id, "activity", format!("activity:{id}"))?;
            if !fresh {
                return Err(ServiceError::invalid(
                    "t",
                    "签到码已过期,请重新扫描现场的签到码",
                    "the code has expired: scan the one shown at the activity again",
                ));
            }
            if a.status != ActivityStatus::Open {
                return Err(not_open(&a));
            }
            let Some(s) = store::signup(&mut tx, id, r.id).await?.filter(|s| s.status != SignupStatus::Cancelled)
            else {
                return Err(ServiceError::Conflict(Msg::new(
                    "您没有报名这次活动,请先报名",
                    "you have not signed up for this activity: sign up first",
                )));
            };
            record_check(&mut tx, caller, &com, &s, s.checked_in_at.is_some(), (now, now)).await?;
            let s = store::signup(&mut tx, id, r.id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(signup_view(&s))
        })
        .await
    }

    /// Confirms the activity: each one checked in and out gets the points
    /// for the minutes they were there, from the community's pool, in one
    /// transaction. Confirmed once.
    pub async fn confirm_activity(&self, caller: &Caller, id: i64) -> Result<ActivityView> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (a, com) = activity_in_scope(&mut tx, caller, id, crate::roles::POINT_KEEPERS).await?;
            // confirming closes it: before the end, those still to come
            // would get nothing
            if now < a.ends_at {
                let end = yijia_domain::time::to_local(a.ends_at).format("%m-%d %H:%M");
                return Err(ServiceError::conflict(
                    format!("活动 {end} 结束后才能确认积分:确认之后再到场的人就记不上了"),
                    format!("points are confirmed after the end ({end}): whoever comes after a confirmation gets none"),
                ));
            }
            if !store::confirm(&mut tx, id, &caller.display_name, now).await? {
                return Err(not_open(&a));
            }
            let rule = PointsRule::new(a.points_rule, a.points);
            let pool = ledger::ensure_account(&mut tx, com.id, AccountKind::Pool.code(), None, now).await?;
            // (signup, resident, minutes, points) of each one checked in and out
            let earned: Vec<(i64, i64, i64, i64)> = store::signups(&mut tx, id)
                .await?
                .into_iter()
                .filter(|s| s.status == SignupStatus::SignedUp)
                .filter_map(|s| {
                    let minutes = rules::minutes_attended(s.checked_in_at?, s.checked_out_at?, a.starts_at, a.ends_at);
                    Some((s.id, s.resident_id, minutes, rule.points_for(minutes)))
                })
                .collect();
            // the second person's rule: whoever put the activity up does not
            // also confirm an award above the limit
            let (most, limit) = (earned.iter().map(|e| e.3).max().unwrap_or(0), self.settings.points_approval_limit);
            if most > limit && a.created_by.is_some() && a.created_by == caller.user_id {
                return Err(ServiceError::conflict(
                    format!("有人将获得 {most} 分,超过 {limit} 分的限额:请由发布活动以外的另一位工作人员确认"),
                    format!("someone would get {most} points, above the limit of {limit}: someone else confirms"),
                ));
            }
            let mut awarded = 0;
            for (signup, resident_id, minutes, points) in earned {
                store::set_awarded(&mut tx, signup, minutes, points).await?;
                if points == 0 {
                    continue;
                }
                let account =
                    ledger::ensure_account(&mut tx, com.id, AccountKind::Resident.code(), Some(resident_id), now)
                        .await?;
                let leg = Leg {
                    debit: pool.id,
                    credit: account.id,
                    amount: points,
                    kind: TransferKind::Award,
                    memo: format!("志愿活动「{}」{} 分钟", a.title, minutes),
                };
                let client_id = format!("activity-{id}-resident-{resident_id}");
                let fp = yijia_domain::points::fingerprint(std::slice::from_ref(&leg));
                let req = Req { client_id: &client_id, fp: &fp, community_id: com.id };
                if !matches!(post(&mut tx, caller, req, &[(leg, None)], now).await?, Applied::Done(_)) {
                    return Err(ServiceError::internal(format!("the award of activity {id} did not go")));
                }
                awarded += points;
            }
            let e = Event::ok("activity_confirm", format!("activity:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "points": awarded }))).await?;
            let a = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            let s = store::signups(&mut tx, id).await?;
            tx.commit().await?;
            Ok(activity_view(&a, &com.code, &s, self.now()))
        })
        .await
    }
}

async fn activity_in_scope(tx: &mut Tx, caller: &Caller, id: i64, roles: &[Role]) -> Result<(Activity, org::OrgNode)> {
    let Some(a) = store::get(tx, id).await? else { return Err(ServiceError::NotFound) };
    let com = org::by_id(tx, a.community_id).await?;
    if !caller.covers(roles, &com.path) {
        return Err(ServiceError::denied("activity", format!("activity:{id}")));
    }
    Ok((a, com))
}

/// An activity still open, of a community the caller organises in.
async fn open_activity(tx: &mut Tx, caller: &Caller, id: i64) -> Result<(Activity, org::OrgNode)> {
    let (a, com) = activity_in_scope(tx, caller, id, ORGANISERS).await?;
    if a.status != ActivityStatus::Open {
        return Err(not_open(&a));
    }
    Ok((a, com))
}

/// A sign-up that was not cancelled.
async fn live_signup(tx: &mut Tx, id: i64, resident_id: i64) -> Result<Signup> {
    match store::signup(tx, id, resident_id).await? {
        Some(s) if s.status != SignupStatus::Cancelled => Ok(s),
        _ => Err(ServiceError::NotFound),
    }
}

async fn sign_up_in(
    tx: &mut Tx,
    caller: &Caller,
    a: &Activity,
    com: &org::OrgNode,
    r: &yijia_store::residents::Resident,
    now: i64,
) -> Result<()> {
    if a.ends_at <= now {
        return Err(ServiceError::Conflict(Msg::new("活动已结束", "the activity is over")));
    }
    if !r.grid_path.starts_with(&com.path) {
        return Err(ServiceError::invalid(
            "resident_id",
            "这位居民不在本社区",
            "the resident is not of this community",
        ));
    }
    if let Some(who) = &a.who_may_join {
        let cats = yijia_store::residents::categories(tx, r.id).await?;
        if !cats.iter().any(|c| &c.category == who) {
            return Err(ServiceError::invalid(
                "resident_id",
                "这次活动只限特定类别的居民参加",
                "this activity is for residents of one category only",
            ));
        }
    }
    if let Some(s) = store::signup(tx, a.id, r.id).await?
        && s.status != SignupStatus::Cancelled
    {
        return Err(ServiceError::Conflict(Msg::new(
            format!("{}已{}", s.resident_name, s.status.name_zh()),
            "already signed up",
        )));
    }
    let status =
        if store::signed_up(tx, a.id).await? < a.capacity { SignupStatus::SignedUp } else { SignupStatus::Waiting };
    store::put_signup(tx, a.id, r.id, status, now).await?;
    let e = Event::ok("activity_signup", format!("activity:{}", a.id), &r.grid_path);
    record(tx, caller, now, &e.with(json!({ "resident": r.id, "status": status.code() }))).await?;
    Ok(())
}

async fn cancel_in(
    tx: &mut Tx,
    caller: &Caller,
    a: &Activity,
    com: &org::OrgNode,
    resident_id: i64,
    now: i64,
) -> Result<()> {
    let s = live_signup(tx, a.id, resident_id).await?;
    store::set_status(tx, s.id, SignupStatus::Cancelled).await?;
    let mut promoted = None;
    if s.status == SignupStatus::SignedUp
        && let Some(next) = store::first_waiting(tx, a.id).await?
    {
        store::set_status(tx, next, SignupStatus::SignedUp).await?;
        promoted = Some(next);
    }
    let e = Event::ok("activity_cancel", format!("activity:{}", a.id), &com.path);
    record(tx, caller, now, &e.with(json!({ "resident": resident_id, "promoted": promoted }))).await?;
    Ok(())
}

/// How long one check-in code lasts; the one before still works.
const CODE_WINDOW_MS: i64 = 5 * yijia_domain::time::MINUTE_MS;

/// The code to scan at an activity, and the page it opens.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckCode {
    pub activity_id: i64,
    pub token: String,
    /// The resident's page it opens: `/me/check?a=…&t=…`.
    pub path: String,
    /// RFC 3339.
    pub valid_until: String,
}

/// Checks a sign-up in (`out` false) or out at `at`.
/// `at` is when it happened; `now` when it is written down.
async fn record_check(
    tx: &mut Tx,
    caller: &Caller,
    com: &org::OrgNode,
    s: &Signup,
    out: bool,
    (at, now): (i64, i64),
) -> Result<()> {
    if s.status != SignupStatus::SignedUp {
        return Err(ServiceError::Conflict(Msg::new("候补的居民还没有名额", "someone waiting has no place yet")));
    }
    match (out, s.checked_in_at, s.checked_out_at) {
        (false, None, _) => store::check_in(tx, s.id, at).await?,
        (true, Some(i), None) if at < i => {
            return Err(ServiceError::invalid("at", "签退时间早于签到时间", "the check-out is before the check-in"));
        }
        (true, Some(_), None) => store::check_out(tx, s.id, at).await?,
        (false, Some(_), _) => return Err(ServiceError::Conflict(Msg::new("已签到", "checked in already"))),
        (true, None, _) => return Err(ServiceError::Conflict(Msg::new("还没有签到", "not checked in yet"))),
        (true, Some(_), Some(_)) => return Err(ServiceError::Conflict(Msg::new("已签退", "checked out already"))),
    }
    let action = if out { "activity_check_out" } else { "activity_check_in" };
    let e = Event::ok(action, format!("activity:{}", s.activity_id), &com.path);
    record(tx, caller, now, &e.with(json!({ "resident": s.resident_id, "at": rfc3339(at) }))).await?;
    Ok(())
}
