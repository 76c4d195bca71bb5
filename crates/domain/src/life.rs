//! A resident's life in the registry: here, moved away out of yijia, or
//! deceased, each change dated, with its reason and source; and back again
//! (moved back, or a wrong entry undone) with the history kept. Only people
//! here are counted, planned, listed and may log in.

use chrono::NaiveDate;

use crate::Invalid;

crate::labelled! {
    stored in "residents.status";
    /// Where a resident is in the registry.
    #[derive(Default)]
    pub enum Status {
        /// Lives here (or is registered here): counted, planned, listed.
        #[default]
        Present = ("present", "在册", "On the register"),
        /// Moved out of the community, to a place outside yijia.
        MovedAway = ("moved_away", "已迁出", "Moved away"),
        Deceased = ("deceased", "已故", "Deceased"),
    }
}

crate::labelled! {
    stored in "resident_events.kind";
    /// A change in a resident's life, as the record's history shows it.
    pub enum Change {
        MovedAway = ("moved_away", "迁出", "Moved away"),
        Deceased = ("deceased", "去世", "Died"),
        /// Moved back, or a wrong entry undone.
        Returned = ("returned", "恢复在册", "Back on the register"),
        /// To another household or grid of the same community.
        Moved = ("moved", "社区内迁居", "Moved within the community"),
        /// To another community in yijia, which took the record over.
        Transferred = ("transferred", "转至其他社区", "Transferred to another community"),
    }
}

crate::labelled! {
    stored in "transfers.state";
    /// A transfer to another community, as the receiving community decides.
    pub enum TransferState {
        Pending = ("pending", "待接收", "Waiting"),
        Accepted = ("accepted", "已接收", "Accepted"),
        Refused = ("refused", "未接收", "Refused"),
    }
}

crate::labelled! {
    stored in "resident_events.source";
    /// Who told us.
    pub enum Informant {
        Family = ("family", "家属告知", "The family"),
        Police = ("police", "派出所通知", "Police station notice"),
        Neighbour = ("neighbour", "邻居反映", "A neighbour"),
        Visit = ("visit", "走访发现", "Found on a visit"),
        Resident = ("resident", "本人申报", "The resident"),
        Other = ("other", "其他", "Other"),
    }
}

impl Change {
    /// The status the change leads to.
    pub fn to(self) -> Status {
        match self {
            Change::MovedAway => Status::MovedAway,
            Change::Deceased => Status::Deceased,
            Change::Returned | Change::Moved | Change::Transferred => Status::Present,
        }
    }

    /// Recorded with the register form; a move and a transfer have their own.
    pub fn by_hand(self) -> bool {
        matches!(self, Change::MovedAway | Change::Deceased | Change::Returned)
    }

    /// Whether a resident in `from` can go through this change: away from
    /// here only when here; back only when away (or wrongly marked dead);
    /// someone who moved away may later be known to have died.
    pub fn allowed_from(self, from: Status) -> Result<(), Invalid> {
        match (from, self) {
            (Status::Present, Change::MovedAway | Change::Deceased | Change::Moved | Change::Transferred) => Ok(()),
            (Status::MovedAway, Change::Moved | Change::Transferred) => Err(Invalid::new(
                "change",
                "这位居民已登记迁出;如已搬回,请先恢复在册",
                "this resident is recorded as moved away; if they came back, put them on the register first",
            )),
            (Status::MovedAway, Change::Deceased | Change::Returned) => Ok(()),
            (Status::Deceased, Change::Returned) => Ok(()),
            (Status::Present, Change::Returned) => {
                Err(Invalid::new("change", "这位居民本就在册", "this resident is on the register already"))
            }
            (Status::MovedAway, Change::MovedAway) => {
                Err(Invalid::new("change", "这位居民已登记迁出", "this resident is recorded as moved away already"))
            }
            (Status::Deceased, _) => Err(Invalid::new(
                "change",
                "这位居民已登记去世;如登记有误,请先恢复在册",
                "this resident is recorded as deceased; if that was wrong, put them back on the register first",
            )),
        }
    }
}

/// The day of a change: not in the future, not before the person was born.
pub fn change_date(
    s: &str,
    birth: Option<NaiveDate>,
    last: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<NaiveDate, Invalid> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Invalid::new("on", "日期格式为 2026-12-01", "a date is written 2026-12-01"))?;
    if d > today {
        return Err(Invalid::new("on", "日期不能晚于今天", "the date cannot be after today"));
    }
    if birth.is_some_and(|b| d < b) {
        return Err(Invalid::new("on", "日期不能早于出生日期", "the date cannot be before the birth date"));
    }
    if let Some(last) = last.filter(|l| d < *l) {
        return Err(Invalid::new(
            "on",
            format!("日期不能早于上一次变动({last})"),
            format!("the date cannot be before the last change ({last})"),
        ));
    }
    Ok(d)
}

/// Why, in words: 2–200 characters.
pub fn change_reason(s: &str) -> Result<String, Invalid> {
    let s = s.trim();
    let n = s.chars().count();
    if !(2..=200).contains(&n) || s.chars().any(char::is_control) {
        return Err(Invalid::new("reason", "请写明原因(2–200 字)", "say why, in 2 to 200 characters"));
    }
    Ok(s.to_owned())
}

/// The note on the timeline of a request closed because the person who
/// filed it died.
/// Which open cases a death closes: the person's own requests. A hazard or
/// a dispute they reported is still there for others.
pub fn closes_at_death(kind: crate::case::CaseKind) -> bool {
    kind == crate::case::CaseKind::Request
}

pub const DECEASED_NOTE: &str = "反映人已登记去世,事项关闭";

/// The published rule for the points of a resident who leaves the register
/// (积分结算规则): the balance goes back to the community's points pool, in
/// one transfer on the day the change is recorded; points are not paid out
/// or passed on, and are not given back if the person returns.
pub const POINTS_RULE_ZH: &str =
    "居民迁出或去世时,积分余额当日一次性转回社区积分池,不兑现、不转让;恢复在册后不予退回。";
pub const POINTS_RULE_EN: &str = "When a resident moves away or dies, their points balance goes back to the community's points pool that day, in one transfer: points are not paid out or passed on, and are not given back if the person returns.";

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_change_goes_only_where_the_register_allows() {
        use Change as C;
        use Status as S;
        for (from, change, ok) in [
            (S::Present, C::MovedAway, true),
            (S::Present, C::Deceased, true),
            (S::Present, C::Returned, false),
            (S::MovedAway, C::Deceased, true),
            (S::MovedAway, C::Returned, true),
            (S::MovedAway, C::MovedAway, false),
            (S::Deceased, C::Returned, true),
            (S::Deceased, C::MovedAway, false),
            (S::Deceased, C::Deceased, false),
        ] {
            assert_eq!(change.allowed_from(from).is_ok(), ok, "{from:?} {change:?}");
        }
        assert_eq!(C::Returned.to(), S::Present);
    }

    #[test]
    fn a_change_is_dated_between_birth_and_today() {
        let today = day("2026-12-05");
        assert_eq!(change_date("2026-12-01", Some(day("1940-03-02")), None, today).unwrap(), day("2026-12-01"));
        assert_eq!(change_date("2026-12-06", None, None, today).unwrap_err().field, "on");
        assert_eq!(change_date("1939-01-01", Some(day("1940-03-02")), None, today).unwrap_err().field, "on");
        assert_eq!(change_date("12/01/2026", None, None, today).unwrap_err().field, "on");
        // not before the change it follows; the same day is fine
        let last = Some(day("2026-11-20"));
        assert!(change_date("2026-11-19", None, last, today).unwrap_err().msg.zh.contains("2026-11-20"));
        assert_eq!(change_date("2026-11-20", None, last, today).unwrap(), day("2026-11-20"));
        assert!(closes_at_death(crate::case::CaseKind::Request));
        assert!(!closes_at_death(crate::case::CaseKind::Hazard));
        assert!(change_reason("去").is_err() && change_reason(&"长".repeat(201)).is_err());
        assert_eq!(change_reason(" 家属告知,12月1日病故 ").unwrap(), "家属告知,12月1日病故");
    }
}
