//! How a vote reached yijia: on the resident's own phone, by a family
//! member acting for them, or on paper (a signed slip, or said at the door
//! before a witness) recorded by a grid worker. One vote a resident,
//! whatever the channel; every channel counts toward the quorum.

use serde::Serialize;

use crate::error::Invalid;

crate::labelled! {
    stored in "acceptance_votes.channel, pledge_votes.channel, pledge_verdicts.channel";
    /// How a vote came in.
    pub enum VoteChannel {
        /// The resident on their own account.
        Phone = ("phone", "手机", "Phone"),
        /// A family member acting for the resident (代办).
        Proxy = ("proxy", "家属代办", "Family proxy"),
        /// A paper slip or a vote at the door, recorded by staff.
        Paper = ("paper", "纸质/上门", "Paper or at the door"),
    }
}

crate::labelled! {
    /// What a resident voted on.
    pub enum VoteOn {
        /// Whether a repair project is accepted (验收).
        Project = ("project", "维修验收", "Repair acceptance"),
        /// A pledge chosen for the year (民生实事).
        Pledge = ("pledge", "实事投票", "Pledge vote"),
        /// At the year's end: was the pledge kept.
        Verdict = ("verdict", "实事评议", "Pledge verdict"),
    }
}

impl VoteOn {
    /// What a yes or a no says here: (zh, en).
    pub fn choice(self, yes: bool) -> (&'static str, &'static str) {
        match (self, yes) {
            (VoteOn::Project, true) => ("同意验收", "accept"),
            (VoteOn::Project, false) => ("不同意", "reject"),
            (VoteOn::Pledge, _) => ("投了一票", "voted for"),
            (VoteOn::Verdict, true) => ("已兑现", "kept"),
            (VoteOn::Verdict, false) => ("未兑现", "not kept"),
        }
    }
}

/// Votes counted by how they came in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ByChannel {
    pub phone: i64,
    pub proxy: i64,
    pub paper: i64,
}

impl ByChannel {
    /// Adds `n` votes that came in by `channel`.
    pub fn add(&mut self, channel: VoteChannel, n: i64) {
        match channel {
            VoteChannel::Phone => self.phone += n,
            VoteChannel::Proxy => self.proxy += n,
            VoteChannel::Paper => self.paper += n,
        }
    }

    pub fn total(&self) -> i64 {
        self.phone + self.proxy + self.paper
    }
}

/// The longest witness's name (and what they are to the resident).
pub const WITNESS_MAX_CHARS: usize = 40;

/// A vote staff record must rest on something: the signed slip's photo, a
/// witness named, or both. The witness, trimmed, or `None` when there is none.
pub fn evidence(witness: &str, has_slip: bool) -> Result<Option<String>, Invalid> {
    let w = witness.trim();
    if w.chars().count() > WITNESS_MAX_CHARS {
        return Err(Invalid::new(
            "witness",
            format!("见证人最多 {WITNESS_MAX_CHARS} 个字"),
            format!("a witness is at most {WITNESS_MAX_CHARS} characters"),
        ));
    }
    if w.chars().any(char::is_control) {
        return Err(Invalid::new("witness", "见证人里有不可见字符", "the witness has invisible characters"));
    }
    if w.is_empty() && !has_slip {
        return Err(Invalid::new(
            "witness",
            "请拍下签字的选票,或写下见证人",
            "photograph the signed slip, or name a witness",
        ));
    }
    Ok((!w.is_empty()).then(|| w.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_vote_needs_a_slip_or_a_witness() {
        assert!(evidence("", false).is_err());
        assert!(evidence("  ", false).is_err());
        assert_eq!(evidence("", true).unwrap(), None);
        assert_eq!(evidence(" 邻居王阿姨 ", false).unwrap().as_deref(), Some("邻居王阿姨"));
        assert!(evidence(&"王".repeat(41), true).is_err());
        assert!(evidence("王\u{0}", true).is_err());
    }

    #[test]
    fn channels_add_up_and_decode_strictly() {
        let mut by = ByChannel::default();
        by.add(VoteChannel::Phone, 3);
        by.add(VoteChannel::Paper, 2);
        by.add(VoteChannel::Proxy, 1);
        assert_eq!((by.phone, by.proxy, by.paper, by.total()), (3, 1, 2, 6));
        for c in VoteChannel::ALL {
            assert_eq!(VoteChannel::from_code(c.code()), Some(c));
        }
        assert_eq!(VoteChannel::from_code("sms"), None);
    }
}
