//! A family member acting for a resident (代办): what they may do, how the
//! resident consented, and how long the link lasts.

use crate::error::Invalid;
use crate::label::UnknownCode;
use crate::time::DAY_MS;

crate::labelled! {
    /// What a resident lets a family member do for him.
    pub enum Act {
        /// File requests (报事) and follow them.
        Requests = ("requests", "报事求助", "File requests"),
        /// See his points and redeem them.
        Points = ("points", "积分和兑换", "Points and redeeming"),
        /// Book services at the stations.
        Book = ("book", "预约服务", "Book services"),
        /// Vote for him: repair acceptance, pledges, verdicts.
        Vote = ("vote", "投票", "Vote"),
    }
}

crate::labelled! {
    stored in "proxies.consent";
    /// How the resident's consent was given.
    pub enum Consent {
        /// A consent form he signed, photographed.
        Paper = ("paper", "本人签字的同意书", "A consent form he signed"),
        /// In person, before the staff member who links them.
        InPerson = ("in_person", "本人当面同意", "In person, before staff"),
    }
}

/// A link lasts a year unless renewed.
pub const PROXY_DAYS: i64 = 365;
pub const PROXY_MS: i64 = PROXY_DAYS * DAY_MS;
/// The longest relation (儿子, 女儿, 外孙女, 侄子).
pub const RELATION_MAX_CHARS: usize = 10;

/// The acts a link allows, in their fixed order, stored as `a,b,c`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Acts(Vec<Act>);

impl Acts {
    /// The acts chosen in a form or a request: at least one, each known.
    pub fn chosen(codes: &[String]) -> Result<Self, Invalid> {
        let mut acts = Vec::new();
        for (i, c) in codes.iter().enumerate() {
            let Some(a) = Act::from_code(c.trim()) else {
                return Err(Invalid::new(
                    format!("acts[{i}]"),
                    "可代办的事只能是 requests、points、book 或 vote",
                    "an act is requests, points, book or vote",
                ));
            };
            if !acts.contains(&a) {
                acts.push(a);
            }
        }
        if acts.is_empty() {
            return Err(Invalid::new("acts", "请至少选一件可代办的事", "choose at least one thing they may do"));
        }
        Ok(Self(Act::ALL.into_iter().filter(|a| acts.contains(a)).collect()))
    }

    /// As stored; a code that names no act fails the read.
    pub fn from_stored(s: &str) -> Result<Self, UnknownCode> {
        let mut acts = Vec::new();
        for c in s.split(',') {
            acts.push(Act::from_code(c).ok_or_else(|| UnknownCode {
                type_name: "Act",
                stored_in: "proxies.acts",
                value: c.to_owned(),
                known: Act::ALL.map(Act::code).join(", "),
            })?);
        }
        Ok(Self(acts))
    }

    pub fn stored(&self) -> String {
        self.0.iter().map(|a| a.code()).collect::<Vec<_>>().join(",")
    }

    pub fn allows(&self, act: Act) -> bool {
        self.0.contains(&act)
    }

    pub fn list(&self) -> &[Act] {
        &self.0
    }
}

/// A relation as typed: trimmed, 1 to 10 characters, nothing invisible.
pub fn relation(s: &str) -> Result<String, Invalid> {
    let r = s.trim();
    if r.is_empty() || r.chars().count() > RELATION_MAX_CHARS || r.chars().any(char::is_control) {
        return Err(Invalid::new(
            "relation",
            format!("请填写家属与居民的关系(如 儿子、女儿),最多 {RELATION_MAX_CHARS} 个字"),
            format!("give how they are related (son, daughter), at most {RELATION_MAX_CHARS} characters"),
        ));
    }
    Ok(r.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acts_are_chosen_strictly_and_kept_in_order() {
        let a = Acts::chosen(&["vote".into(), "requests".into(), "vote".into()]).unwrap();
        assert_eq!(a.stored(), "requests,vote");
        assert!(a.allows(Act::Vote) && !a.allows(Act::Points));
        assert_eq!(Acts::from_stored("requests,vote").unwrap(), a);
        assert!(Acts::from_stored("requests,drive").is_err());
        assert!(Acts::from_stored("").is_err());
        assert_eq!(Acts::chosen(&[]).unwrap_err().field, "acts");
        assert_eq!(Acts::chosen(&["vote".into(), "sell".into()]).unwrap_err().field, "acts[1]");
    }

    #[test]
    fn a_relation_is_short_and_visible() {
        assert_eq!(relation(" 儿子 ").unwrap(), "儿子");
        assert!(relation("").is_err());
        assert!(relation(&"儿".repeat(11)).is_err());
        assert!(relation("儿\u{7}").is_err());
    }
}
