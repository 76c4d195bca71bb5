//! Pledges (十件实事): each year residents propose, the community
//! shortlists, residents vote, the community commits to the top ones and
//! reports progress, and at the end residents judge whether each was kept.

use crate::Invalid;

crate::labelled! {
    stored in "pledge_years.phase";
    /// Where a community's year of pledges stands.
    #[derive(PartialOrd, Ord)]
    pub enum Phase {
        /// Residents and staff propose.
        Proposing = ("proposing", "征集建议", "Proposals"),
        /// Residents vote on the shortlist.
        Voting = ("voting", "居民投票", "Voting"),
        /// The community works on the pledges it committed to.
        Working = ("working", "承诺办理", "Working on them"),
        /// Residents judge each pledge: kept or not, and how satisfied.
        Judging = ("judging", "居民评议", "Residents' verdict"),
        /// The year is over; the verdicts stand.
        Closed = ("closed", "已评议", "Closed"),
    }
}

impl Phase {
    /// The phase after this one.
    pub fn next(self) -> Option<Phase> {
        match self {
            Phase::Proposing => Some(Phase::Voting),
            Phase::Voting => Some(Phase::Working),
            Phase::Working => Some(Phase::Judging),
            Phase::Judging => Some(Phase::Closed),
            Phase::Closed => None,
        }
    }
}

crate::labelled! {
    stored in "pledges.status";
    /// Where one pledge stands in its year.
    pub enum PledgeStatus {
        Proposed = ("proposed", "已提出", "Proposed"),
        /// On the ballot.
        Shortlisted = ("shortlisted", "候选", "On the ballot"),
        /// Among the most voted: the community works on it.
        Committed = ("committed", "承诺办理", "Committed"),
        NotChosen = ("not_chosen", "未入选", "Not chosen"),
    }
}

/// A year of pledges: 2000 to 2100.
pub fn check_year(y: i64) -> Result<i32, Invalid> {
    if (2000..=2100).contains(&y) {
        Ok(y as i32)
    } else {
        Err(Invalid::new("year", "年份应在 2000 到 2100 之间", "the year is 2000 to 2100"))
    }
}

/// The residents' verdict on a pledge: kept when more than half who judged
/// said so; satisfaction the mean of 1–5, in tenths.
pub fn verdict(kept: i64, not_kept: i64, satisfaction_sum: i64) -> Option<(bool, i64)> {
    let n = kept + not_kept;
    (n > 0).then(|| (kept * 2 > n, satisfaction_sum * 10 / n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_run_in_order_once() {
        let mut p = Phase::Proposing;
        let mut seen = vec![p];
        while let Some(n) = p.next() {
            assert!(n > p);
            p = n;
            seen.push(p);
        }
        assert_eq!(seen, Phase::ALL);
        for p in Phase::ALL {
            assert_eq!(Phase::from_code(p.code()), Some(p));
        }
    }

    #[test]
    fn verdicts() {
        assert_eq!(verdict(3, 1, 17), Some((true, 42)));
        assert_eq!(verdict(2, 2, 12), Some((false, 30)), "a tie is not kept");
        assert_eq!(verdict(0, 0, 0), None);
        assert!(check_year(1999).is_err());
        assert_eq!(check_year(2026), Ok(2026));
    }
}
