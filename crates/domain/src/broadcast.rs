//! Emergency broadcasts (紧急广播): a warning to a building, an estate,
//! grids, a community or a subdistrict through every channel at once,
//! quiet hours overridden, shown as a banner until it ends.

crate::labelled! {
    stored in "broadcasts.level";
    /// How grave: 一级 is the gravest, as in the national warning levels.
    pub enum Level {
        One = ("1", "一级", "Level 1"),
        Two = ("2", "二级", "Level 2"),
        Three = ("3", "三级", "Level 3"),
    }
}

crate::labelled! {
    stored in "broadcasts.area";
    /// What a broadcast covers.
    pub enum Area {
        Building = ("building", "一栋楼", "A building"),
        Estate = ("estate", "一个小区", "An estate"),
        Grids = ("grids", "网格", "Grids"),
        Community = ("community", "全社区", "The community"),
        /// Needs a second street officer to confirm before it goes.
        Subdistrict = ("subdistrict", "全街道", "The subdistrict"),
    }
}

crate::labelled! {
    stored in "broadcasts.state";
    pub enum BroadcastState {
        /// A subdistrict-wide one waits for a second person.
        Awaiting = ("awaiting", "待第二人确认", "Awaiting a second person"),
        Active = ("active", "进行中", "Active"),
        Ended = ("ended", "已结束", "Ended"),
    }
}

crate::labelled! {
    stored in "rollcall_people.state";
    /// Where one vulnerable person stands in a roll-call (报平安).
    pub enum Answer {
        Pending = ("pending", "待联系", "Not yet tried"),
        Safe = ("safe", "平安", "Safe"),
        /// Opens an emergency case with the place filled in.
        NeedsHelp = ("needs_help", "需要帮助", "Needs help"),
        /// Tried and not reached: try again.
        NotReached = ("not_reached", "未联系上", "Not reached"),
    }
}

crate::labelled! {
    stored in "rollcall_people.answered_as";
    /// Who gave the answer.
    pub enum AnsweredAs {
        Worker = ("worker", "网格员", "Grid worker"),
        Own = ("self", "本人", "Themselves"),
        Family = ("family", "家人", "Family"),
    }
}

impl Answer {
    /// Reached: the person's state is known.
    pub fn reached(self) -> bool {
        matches!(self, Answer::Safe | Answer::NeedsHelp)
    }
}

/// The reason goes into the SMS with the level and a link: this many
/// characters keep it one message (see `notify`'s length test).
pub const REASON_MAX: usize = 16;
/// The full text, on the banner and the broadcast's page.
pub const TEXT_MAX: usize = 500;

impl Area {
    /// Whether sending it needs a second person's confirmation.
    pub fn needs_confirmation(self) -> bool {
        self == Area::Subdistrict
    }

    /// Leniently, as a form gives it: a code or the Chinese name.
    pub fn parse(s: &str) -> Option<Area> {
        let s = s.trim();
        Area::ALL.into_iter().find(|a| a.code() == s || a.name_zh() == s)
    }
}

impl Level {
    /// `1`, `一级` or `一`.
    pub fn parse(s: &str) -> Option<Level> {
        let s = s.trim();
        Level::ALL
            .into_iter()
            .find(|l| l.code() == s || l.name_zh() == s || (!s.is_empty() && l.name_zh().starts_with(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_subdistrict_wide_broadcast_waits_for_a_second_person() {
        let waiting: Vec<Area> = Area::ALL.into_iter().filter(|a| a.needs_confirmation()).collect();
        assert_eq!(waiting, [Area::Subdistrict]);
    }

    #[test]
    fn levels_and_areas_parse_from_what_a_form_sends() {
        assert_eq!(Level::parse("一级"), Some(Level::One));
        assert_eq!(Level::parse("二"), Some(Level::Two));
        assert_eq!(Level::parse(" 3 "), Some(Level::Three));
        for bad in ["", "4", "四级", "level1"] {
            assert_eq!(Level::parse(bad), None, "{bad}");
        }
        assert_eq!(Area::parse("全社区"), Some(Area::Community));
        assert_eq!(Area::parse("building"), Some(Area::Building));
        assert_eq!(Area::parse("city"), None);
        assert_eq!(Level::from_code("一级"), None, "what is stored is the code only");
    }
}
