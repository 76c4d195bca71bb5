//! Visits and care plans (关爱计划): how often each category of resident is
//! visited, when someone is due, how late is too late, and the order of a
//! grid worker's walk. Dates are calendar days in Asia/Shanghai.

use chrono::NaiveDate;

use crate::registry::Category;

crate::labelled! {
    stored in "visits.mode";
    /// How a visit was made.
    #[derive(Default)]
    pub enum VisitMode {
        /// 入户: at their home.
        #[default]
        AtHome = ("at_home", "入户", "At home"),
        /// 电话: by phone.
        Phone = ("phone", "电话", "By phone"),
        /// 路遇: met outside.
        Outside = ("outside", "路遇", "Met outside"),
    }
}

impl VisitMode {
    /// By code or by its Chinese name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.code() == s.trim() || m.name_zh() == s.trim())
    }
}

crate::labelled! {
    stored in "visits.health, visits.living, visits.needs, visits.safety";
    /// What a visit found on one aspect (health, living conditions, needs,
    /// safety): all well, worth watching, or needing action.
    #[derive(PartialOrd, Ord, Default)]
    pub enum Finding {
        #[default]
        Well = ("well", "良好", "Well"),
        Watch = ("watch", "需关注", "Watch"),
        Act = ("act", "需处理", "Needs action"),
    }
}

/// The four aspects a visit looks at.
pub const ASPECTS: [(&str, &str, &str); 4] = [
    ("health", "身体状况", "Health"),
    ("living", "生活状况", "Living conditions"),
    ("needs", "需求", "Needs"),
    ("safety", "安全", "Safety"),
];

/// The default visit interval of a category, in days; `None` when the
/// category carries no care plan of its own.
pub fn default_interval_days(c: Category) -> Option<u32> {
    match c {
        Category::ElderlyAlone => Some(7),
        Category::Disabled | Category::Pregnant => Some(14),
        Category::Hardship | Category::Subsistence => Some(30),
        Category::Veteran => Some(90),
        Category::Child | Category::PartyMember => None,
    }
}

/// A visit interval a community or a resident sets: 1 to 365 days.
pub fn check_interval(days: i64) -> Result<u32, crate::Msg> {
    if (1..=365).contains(&days) {
        Ok(days as u32)
    } else {
        Err(crate::Msg::new("走访间隔须为 1 到 365 天", "a visit interval is 1 to 365 days"))
    }
}

/// The shortest of the intervals that apply: someone both living alone and
/// disabled is visited as often as the most frequent of the two asks.
pub fn interval_of(intervals: impl IntoIterator<Item = u32>) -> Option<u32> {
    intervals.into_iter().min()
}

/// The interval of a resident's care plan: their own when set, otherwise
/// the shortest of their categories' (the community's where it set one,
/// else the default); `None` when they are under no plan.
pub fn plan_interval<'a>(
    categories: impl IntoIterator<Item = &'a str>,
    community: &[(String, i64)],
    own: Option<i64>,
) -> Option<u32> {
    if let Some(days) = own.and_then(|d| check_interval(d).ok()) {
        return Some(days);
    }
    interval_of(categories.into_iter().filter_map(|code| match community.iter().find(|(c, _)| c == code) {
        Some((_, days)) => check_interval(*days).ok(),
        None => Category::parse(code).and_then(default_interval_days),
    }))
}

/// Whether a resident was kept to their plan over the days `from..=to`:
/// no day passed more than `interval_days` after a contact. Someone first
/// contacted in the period was not (they were due before it). `contacts` are
/// their contacts up to `to`, the last one before `from` included.
pub fn kept_on_time(contacts: &[NaiveDate], interval_days: u32, from: NaiveDate, to: NaiveDate) -> bool {
    let mut sorted = contacts.to_vec();
    sorted.sort();
    let mut last: Option<NaiveDate> = None;
    for c in sorted.into_iter().filter(|c| *c <= to) {
        // a contact in the period made later than the plan asked, or the
        // first one ever: someone was overdue before it
        if c >= from && last.is_none_or(|l| (c - l).num_days() > i64::from(interval_days)) {
            return false;
        }
        last = Some(c);
    }
    last.is_some_and(|l| (to - l).num_days() <= i64::from(interval_days))
}

/// When the next visit is due: the interval after the last contact, or
/// today when there has been none since they came under the plan.
pub fn due_on(last_contact: Option<NaiveDate>, interval_days: u32, today: NaiveDate) -> NaiveDate {
    match last_contact {
        Some(d) => d + chrono::Days::new(u64::from(interval_days)),
        None => today,
    }
}

/// How long after recording it a visitor may take a visit back: the minute
/// the phone offers 撤销 for, and time for a slow connection.
pub const UNDO_MS: i64 = 90_000;

/// The first due date of someone who comes under a plan along with many
/// others (a roster import): spread over one interval by their id, so that
/// a grid worker meets a few more each day rather than all of them at once.
/// Someone registered alone is due today.
pub fn first_due_on(resident_id: i64, interval_days: u32, today: NaiveDate, spread: bool) -> NaiveDate {
    if !spread || interval_days <= 1 {
        return today;
    }
    today + chrono::Days::new(resident_id.rem_euclid(i64::from(interval_days)) as u64)
}

/// Whether someone counts in an on-time share for the days up to `to`: only
/// once their first due date has passed, as until then nothing could be
/// late. A plan from before first due dates were kept (`None`) counts.
pub fn counts_by(first_due: Option<NaiveDate>, to: NaiveDate) -> bool {
    first_due.is_none_or(|f| f < to)
}

crate::labelled! {
    /// How late a visit is, and who must hear of it.
    #[derive(PartialOrd, Ord)]
    pub enum Lateness {
        /// Not due yet.
        NotDue = ("not_due", "未到期", "Not due"),
        /// Due today.
        DueToday = ("due_today", "今日应访", "Due today"),
        /// Past due: the grid worker is alerted.
        Overdue = ("overdue", "超期", "Overdue"),
        /// Past due by a second interval: the community is alerted too.
        Escalated = ("escalated", "超期已报社区", "Overdue, community told"),
    }
}

pub fn lateness(due: NaiveDate, interval_days: u32, today: NaiveDate) -> Lateness {
    let late = (today - due).num_days();
    if late < 0 {
        Lateness::NotDue
    } else if late == 0 {
        Lateness::DueToday
    } else if late < i64::from(interval_days) {
        Lateness::Overdue
    } else {
        Lateness::Escalated
    }
}

/// The order of a walk: the latest first (in days past due, as a share of
/// their interval, so a week late for a weekly visit comes before a week
/// late for a monthly one), then by how often they are to be seen.
pub fn walk_order(a: (NaiveDate, u32), b: (NaiveDate, u32), today: NaiveDate) -> std::cmp::Ordering {
    let weight = |(due, interval): (NaiveDate, u32)| {
        let late = (today - due).num_days() as f64;
        late / f64::from(interval.max(1))
    };
    weight(b).total_cmp(&weight(a)).then(a.1.cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn intervals_follow_the_category_and_the_shortest_wins() {
        assert_eq!(default_interval_days(Category::ElderlyAlone), Some(7));
        assert_eq!(default_interval_days(Category::Pregnant), Some(14));
        assert_eq!(default_interval_days(Category::Hardship), Some(30));
        assert_eq!(default_interval_days(Category::PartyMember), None);
        assert_eq!(interval_of([30, 7, 14]), Some(7));
        assert_eq!(interval_of([]), None);
        assert!(check_interval(0).is_err() && check_interval(366).is_err());
        assert_eq!(check_interval(7), Ok(7));
    }

    #[test]
    fn due_dates_and_lateness() {
        let today = d("2026-11-29");
        assert_eq!(due_on(Some(d("2026-11-20")), 7, today), d("2026-11-27"));
        assert_eq!(due_on(None, 7, today), today, "never visited: due now");
        assert_eq!(lateness(d("2026-12-01"), 7, today), Lateness::NotDue);
        assert_eq!(lateness(today, 7, today), Lateness::DueToday);
        assert_eq!(lateness(d("2026-11-27"), 7, today), Lateness::Overdue);
        // a second interval past due: the community hears of it
        assert_eq!(lateness(d("2026-11-22"), 7, today), Lateness::Escalated);
        assert_eq!(lateness(d("2026-11-23"), 7, today), Lateness::Overdue);
        // across the year's end and a leap day
        assert_eq!(due_on(Some(d("2027-12-28")), 7, today), d("2028-01-04"));
        assert_eq!(due_on(Some(d("2028-02-25")), 7, today), d("2028-03-03"));
    }

    #[test]
    fn an_import_spreads_first_visits_over_one_interval() {
        let today = d("2026-12-03");
        assert_eq!(first_due_on(15, 7, today, false), today, "one person registered: due today");
        let days: Vec<NaiveDate> = (100..114).map(|id| first_due_on(id, 7, today, true)).collect();
        assert!(days.iter().all(|x| *x >= today && *x < d("2026-12-10")), "{days:?}");
        for k in 0..7 {
            let on = today + chrono::Days::new(k);
            assert_eq!(days.iter().filter(|x| **x == on).count(), 2, "two of fourteen each day");
        }
        assert!(counts_by(None, today));
        assert!(counts_by(Some(d("2026-12-02")), today));
        assert!(!counts_by(Some(today), today), "due today: not late yet");
        assert!(!counts_by(Some(d("2026-12-04")), today), "not yet due: neither on time nor late");
    }

    #[test]
    fn the_walk_starts_with_the_latest_for_their_interval() {
        let today = d("2026-11-29");
        let weekly_week_late = (d("2026-11-22"), 7);
        let monthly_week_late = (d("2026-11-22"), 30);
        let weekly_due_today = (today, 7);
        let monthly_due_today = (today, 30);
        let mut v = vec![monthly_due_today, weekly_due_today, monthly_week_late, weekly_week_late];
        v.sort_by(|a, b| walk_order(*a, *b, today));
        assert_eq!(v, [weekly_week_late, monthly_week_late, weekly_due_today, monthly_due_today]);
    }

    #[test]
    fn a_plan_takes_the_own_interval_then_the_communitys_then_the_default() {
        let community = vec![("elderly_alone".to_owned(), 3), ("c12".to_owned(), 10)];
        assert_eq!(plan_interval(["elderly_alone", "hardship"], &community, None), Some(3));
        assert_eq!(plan_interval(["hardship"], &community, None), Some(30));
        assert_eq!(plan_interval(["hardship", "c12"], &community, None), Some(10), "a community's own category");
        assert_eq!(plan_interval(["party_member", "child"], &community, None), None);
        assert_eq!(plan_interval(["party_member"], &community, Some(60)), Some(60), "their own interval");
        assert_eq!(plan_interval(["elderly_alone"], &community, Some(21)), Some(21));
        assert_eq!(plan_interval([], &[], None), None);
    }

    #[test]
    fn on_time_means_no_day_past_the_interval() {
        let (from, to) = (d("2026-11-01"), d("2026-11-30"));
        // weekly, contacted every 7 days from the last day of October
        let weekly: Vec<NaiveDate> =
            ["2026-10-31", "2026-11-07", "2026-11-14", "2026-11-21", "2026-11-28"].map(d).to_vec();
        assert!(kept_on_time(&weekly, 7, from, to));
        // one gap of 8 days
        let late = ["2026-10-31", "2026-11-07", "2026-11-15", "2026-11-22", "2026-11-29"].map(d).to_vec();
        assert!(!kept_on_time(&late, 7, from, to));
        // the month ends more than a week after the last contact
        let stopped = ["2026-10-31", "2026-11-07", "2026-11-14", "2026-11-21"].map(d).to_vec();
        assert!(!kept_on_time(&stopped, 7, from, to));
        assert!(kept_on_time(&stopped, 7, from, d("2026-11-28")), "up to today only");
        // never contacted
        assert!(!kept_on_time(&[], 7, from, to));
        // a long gap before the month, closed on its first day: overdue that day
        assert!(!kept_on_time(
            &["2026-09-01", "2026-11-01", "2026-11-08", "2026-11-15", "2026-11-22", "2026-11-29"].map(d),
            7,
            from,
            to
        ));
        // first contact late in the month: the days before it were not covered
        assert!(!kept_on_time(&[d("2026-11-20"), d("2026-11-27")], 7, from, to));
        // a later contact does not count
        assert!(!kept_on_time(&[d("2026-12-01")], 30, from, to));
    }

    #[test]
    fn modes_parse_by_code_and_name() {
        for m in VisitMode::ALL {
            assert_eq!(VisitMode::parse(m.code()), Some(m));
            assert_eq!(VisitMode::parse(m.name_zh()), Some(m));
        }
        assert_eq!(VisitMode::parse("fax"), None);
        assert!(Finding::Act > Finding::Watch && Finding::Watch > Finding::Well);
    }
}
