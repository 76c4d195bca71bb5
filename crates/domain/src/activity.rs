//! Volunteer activities (志愿活动): who may join, how many, and how the hours
//! someone was there turn into points.

use crate::Invalid;
use crate::time::MINUTE_MS;

/// How an activity pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointsRule {
    /// So many points per hour attended (counted by the minute, rounded down).
    PerHour(i64),
    /// So many points for taking part at all.
    Fixed(i64),
}

crate::labelled! {
    stored in "activities.points_rule";
    /// How an activity's points are counted: the kind of its `PointsRule`.
    pub enum RuleKind {
        PerHour = ("per_hour", "按小时计", "Per hour"),
        Fixed = ("fixed", "按次计", "Per activity"),
    }
}

impl PointsRule {
    pub fn new(kind: RuleKind, points: i64) -> Self {
        match kind {
            RuleKind::PerHour => PointsRule::PerHour(points),
            RuleKind::Fixed => PointsRule::Fixed(points),
        }
    }

    /// By code (what a form sends).
    pub fn parse(code: &str, points: i64) -> Option<Self> {
        RuleKind::from_code(code).map(|k| Self::new(k, points))
    }

    pub fn kind(self) -> RuleKind {
        match self {
            PointsRule::PerHour(_) => RuleKind::PerHour,
            PointsRule::Fixed(_) => RuleKind::Fixed,
        }
    }

    pub fn code(self) -> &'static str {
        self.kind().code()
    }

    pub fn points(self) -> i64 {
        match self {
            PointsRule::PerHour(p) | PointsRule::Fixed(p) => p,
        }
    }

    /// The points for `minutes` attended (none for none).
    pub fn points_for(self, minutes: i64) -> i64 {
        if minutes <= 0 {
            return 0;
        }
        match self {
            PointsRule::PerHour(p) => p * minutes / 60,
            PointsRule::Fixed(p) => p,
        }
    }
}

/// The minutes someone was there during the activity: from check-in to
/// check-out, counting only the activity's own time.
pub fn minutes_attended(checked_in: i64, checked_out: i64, starts: i64, ends: i64) -> i64 {
    let from = checked_in.max(starts);
    let to = checked_out.min(ends);
    ((to - from).max(0)) / MINUTE_MS
}

crate::labelled! {
    stored in "activity_signups.status";
    pub enum SignupStatus {
        SignedUp = ("signed_up", "已报名", "Signed up"),
        /// The activity was full: waiting for a place, in the order they came.
        Waiting = ("waiting", "候补", "Waiting list"),
        Cancelled = ("cancelled", "已取消", "Cancelled"),
    }
}

crate::labelled! {
    stored in "activities.status";
    /// Where an activity stands: open for signing up, called off, or done
    /// with its points given.
    pub enum ActivityStatus {
        Open = ("open", "报名中", "Open"),
        Cancelled = ("cancelled", "已取消", "Cancelled"),
        Confirmed = ("confirmed", "已确认积分", "Points given"),
    }
}

crate::labelled! {
    /// Where an activity stands in time and points, as a page names it.
    pub enum ActivityPhase {
        Upcoming = ("upcoming", "报名中", "Open for sign-up"),
        UnderWay = ("under_way", "进行中", "Under way"),
        /// Over, its attendance and points not yet confirmed.
        Ended = ("ended", "待确认积分", "Ended, points to confirm"),
        Cancelled = ("cancelled", "已取消", "Cancelled"),
        Confirmed = ("confirmed", "已确认积分", "Points given"),
    }
}

impl ActivityPhase {
    /// Points are confirmed only once an activity is over: before then
    /// nobody knows who came.
    pub fn of(status: ActivityStatus, starts_at: i64, ends_at: i64, now: i64) -> ActivityPhase {
        match status {
            ActivityStatus::Cancelled => ActivityPhase::Cancelled,
            ActivityStatus::Confirmed => ActivityPhase::Confirmed,
            ActivityStatus::Open if now < starts_at => ActivityPhase::Upcoming,
            ActivityStatus::Open if now < ends_at => ActivityPhase::UnderWay,
            ActivityStatus::Open => ActivityPhase::Ended,
        }
    }
}

/// An activity as the organiser enters it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityFields {
    pub title: String,
    pub place: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub capacity: i64,
    pub rule: PointsRule,
}

pub fn check_activity(f: &ActivityFields) -> Result<(), Invalid> {
    let len = |s: &str| s.trim().chars().count();
    if !(1..=60).contains(&len(&f.title)) {
        return Err(Invalid::new("title", "请填写活动名称(60 字以内)", "give the title (at most 60 characters)"));
    }
    if !(1..=100).contains(&len(&f.place)) {
        return Err(Invalid::new("place", "请填写活动地点(100 字以内)", "give the place (at most 100 characters)"));
    }
    if f.ends_at <= f.starts_at {
        return Err(Invalid::new("ends_at", "结束时间须晚于开始时间", "the end is after the start"));
    }
    if f.ends_at - f.starts_at > 24 * 60 * MINUTE_MS {
        return Err(Invalid::new("ends_at", "一次活动不超过 24 小时", "an activity lasts at most 24 hours"));
    }
    if !(1..=10_000).contains(&f.capacity) {
        return Err(Invalid::new("capacity", "人数上限须在 1 到 10000 之间", "the capacity is 1 to 10,000"));
    }
    if !(1..=10_000).contains(&f.rule.points()) {
        return Err(Invalid::new("points", "积分须在 1 到 10000 之间", "the points are 1 to 10,000"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 60 * MINUTE_MS;

    #[test]
    fn an_activity_is_upcoming_then_under_way_then_waits_for_its_points() {
        let (start, end) = (10, 20);
        let at = |now| ActivityPhase::of(ActivityStatus::Open, start, end, now);
        assert_eq!(
            [at(9), at(10), at(19), at(20)],
            [ActivityPhase::Upcoming, ActivityPhase::UnderWay, ActivityPhase::UnderWay, ActivityPhase::Ended]
        );
        assert_eq!(ActivityPhase::of(ActivityStatus::Confirmed, start, end, 30), ActivityPhase::Confirmed);
        assert_eq!(ActivityPhase::of(ActivityStatus::Cancelled, start, end, 0), ActivityPhase::Cancelled);
    }

    #[test]
    fn hours_turn_into_points_by_the_minute() {
        assert_eq!(PointsRule::PerHour(10).points_for(90), 15);
        assert_eq!(PointsRule::PerHour(10).points_for(59), 9);
        assert_eq!(PointsRule::PerHour(10).points_for(0), 0);
        assert_eq!(PointsRule::Fixed(20).points_for(5), 20);
        assert_eq!(PointsRule::Fixed(20).points_for(0), 0, "no points without being there");
        assert_eq!(PointsRule::parse("per_hour", 5), Some(PointsRule::PerHour(5)));
        assert_eq!(PointsRule::parse("daily", 5), None);
    }

    #[test]
    fn only_the_activitys_own_time_counts() {
        // came half an hour early and stayed to the end
        assert_eq!(minutes_attended(0, 3 * H, H / 2, 3 * H), 150);
        // left an hour before the end
        assert_eq!(minutes_attended(H, 2 * H, H, 3 * H), 60);
        // checked out before checking in, or outside the activity
        assert_eq!(minutes_attended(2 * H, H, 0, 3 * H), 0);
        assert_eq!(minutes_attended(4 * H, 5 * H, 0, 3 * H), 0);
    }

    #[test]
    fn activities_name_the_wrong_field() {
        let ok = ActivityFields {
            title: "清理楼道".into(),
            place: "丁香花园三期 8号楼".into(),
            starts_at: 0,
            ends_at: 2 * H,
            capacity: 10,
            rule: PointsRule::PerHour(10),
        };
        assert!(check_activity(&ok).is_ok());
        assert_eq!(check_activity(&ActivityFields { title: " ".into(), ..ok.clone() }).unwrap_err().field, "title");
        assert_eq!(check_activity(&ActivityFields { place: "".into(), ..ok.clone() }).unwrap_err().field, "place");
        assert_eq!(check_activity(&ActivityFields { ends_at: 0, ..ok.clone() }).unwrap_err().field, "ends_at");
        assert_eq!(check_activity(&ActivityFields { ends_at: 25 * H, ..ok.clone() }).unwrap_err().field, "ends_at");
        assert_eq!(check_activity(&ActivityFields { capacity: 0, ..ok.clone() }).unwrap_err().field, "capacity");
        let rule = PointsRule::Fixed(0);
        assert_eq!(check_activity(&ActivityFields { rule, ..ok }).unwrap_err().field, "points");
    }

    #[test]
    fn signup_codes_round_trip() {
        for s in [SignupStatus::SignedUp, SignupStatus::Waiting, SignupStatus::Cancelled] {
            assert_eq!(SignupStatus::from_code(s.code()), Some(s));
        }
    }
}

/// The published rules of the honours board: each is worked out from the
/// month's confirmed attendance, never typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Honour {
    /// 志愿标兵: the most minutes in the month, among those at three or more
    /// activities (all who tie).
    Champion,
    /// 热心居民: four or more activities in the month.
    Devoted,
}

impl Honour {
    pub const ALL: [Honour; 2] = [Honour::Champion, Honour::Devoted];

    pub fn code(self) -> &'static str {
        match self {
            Honour::Champion => "champion",
            Honour::Devoted => "devoted",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Honour::Champion => "志愿标兵",
            Honour::Devoted => "热心居民",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Honour::Champion => "Volunteer champion",
            Honour::Devoted => "Devoted neighbour",
        }
    }

    pub fn rule_zh(self) -> &'static str {
        match self {
            Honour::Champion => "当月参加至少 3 次活动或值守的居民中,服务时长最长者(并列者同得)",
            Honour::Devoted => "当月参加活动或值守 4 次及以上",
        }
    }

    pub fn rule_en(self) -> &'static str {
        match self {
            Honour::Champion => {
                "The most minutes in the month among those at three or more activities or shifts (all who tie)"
            }
            Honour::Devoted => "Four or more activities or shifts in the month",
        }
    }

    /// Who earns it, from (resident, activities, minutes) of one month.
    pub fn earned_by(self, month: &[(i64, i64, i64)]) -> Vec<i64> {
        match self {
            Honour::Champion => {
                let best = month.iter().filter(|m| m.1 >= 3).map(|m| m.2).max();
                match best {
                    Some(b) if b > 0 => month.iter().filter(|m| m.1 >= 3 && m.2 == b).map(|m| m.0).collect(),
                    _ => vec![],
                }
            }
            Honour::Devoted => month.iter().filter(|m| m.1 >= 4).map(|m| m.0).collect(),
        }
    }
}

#[cfg(test)]
mod honour_tests {
    use super::*;

    #[test]
    fn the_champion_has_the_most_minutes_among_those_at_three_activities() {
        // 1 has the most minutes but only two activities
        let month = [(1, 2, 600), (2, 3, 300), (3, 5, 300), (4, 4, 120)];
        let mut champions = Honour::Champion.earned_by(&month);
        champions.sort();
        assert_eq!(champions, [2, 3], "ties share it");
        assert_eq!(Honour::Devoted.earned_by(&month), [3, 4]);
        assert!(Honour::Champion.earned_by(&[(1, 2, 600)]).is_empty(), "nobody at three activities: nobody");
    }
}
