//! Repair projects (修缮项目) and their money. Money is kept in fen, whole
//! numbers, never floats: typed in yuan (`12345.67`), read exactly.

use crate::Invalid;

/// An amount of money in fen (分).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Fen(pub i64);

/// The largest amount taken: a hundred million yuan.
const MAX_FEN: i64 = 100_000_000 * 100;

impl Fen {
    /// Reads yuan as typed: `12345`, `12,345.6`, `¥12345.67`; at most two
    /// decimals, more than zero.
    pub fn parse_yuan(field: &str, s: &str) -> Result<Fen, Invalid> {
        let bad = || {
            Invalid::new(
                field,
                format!("「{s}」不是金额,应写作 12345.67(元,最多两位小数)"),
                format!("'{s}' is not an amount like 12345.67 (yuan, at most two decimals)"),
            )
        };
        let t: String =
            s.trim().trim_start_matches(['¥', '\u{FFE5}']).chars().filter(|c| *c != ',' && *c != '\u{FF0C}').collect();
        let t = t.trim_end_matches('元');
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || frac.len() > 2 {
            return Err(bad());
        }
        if !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let yuan: i64 = whole.parse().map_err(|_| bad())?;
        let cents: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
        let fen = yuan.checked_mul(100).and_then(|y| y.checked_add(cents)).ok_or_else(bad)?;
        Fen::checked(field, fen)
    }

    /// An amount given in fen, as the API takes it.
    pub fn checked(field: &str, fen: i64) -> Result<Fen, Invalid> {
        if fen <= 0 {
            return Err(Invalid::new(field, "金额应大于零", "the amount must be more than zero"));
        }
        if fen > MAX_FEN {
            return Err(Invalid::new(
                field,
                "金额过大(上限一亿元)",
                "the amount is too large (at most 100 million yuan)",
            ));
        }
        Ok(Fen(fen))
    }

    /// `12,345.67`.
    pub fn yuan(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let whole = (a / 100).to_string();
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!("{sign}{grouped}.{:02}", a % 100)
    }

    /// The amount in capitals (人民币大写), as finance writes it to be
    /// checked: 26,000.00 is 贰万陆仟元整.
    pub fn in_capitals(self) -> String {
        const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
        let a = self.0.unsigned_abs();
        let (whole, jiao, fen) = (a / 100, (a / 10 % 10) as usize, (a % 10) as usize);
        let mut out = if self.0 < 0 { "负".to_owned() } else { String::new() };
        if whole > 0 {
            out.push_str(&whole_in_capitals(whole));
            out.push('元');
        }
        if jiao > 0 {
            out.push(DIGITS[jiao]);
            out.push('角');
        } else if fen > 0 && whole > 0 {
            out.push('零');
        }
        if fen > 0 {
            out.push(DIGITS[fen]);
            out.push('分');
        } else if whole == 0 && jiao == 0 {
            out.push_str("零元");
        }
        if fen == 0 {
            out.push('整');
        }
        out
    }
}

/// Whole yuan in capitals, four digits to a group (万, 亿), one 零 for a run
/// of zeros inside.
fn whole_in_capitals(n: u64) -> String {
    const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
    const SMALL: [&str; 4] = ["", "拾", "佰", "仟"];
    const BIG: [&str; 4] = ["", "万", "亿", "万亿"];
    let mut groups = Vec::new();
    let mut m = n;
    while m > 0 {
        groups.push(m % 10_000);
        m /= 10_000;
    }
    let mut out = String::new();
    let mut zero = false;
    for (i, g) in groups.iter().enumerate().rev() {
        if *g == 0 {
            zero = !out.is_empty();
            continue;
        }
        if zero || (!out.is_empty() && *g < 1000) {
            out.push('零');
        }
        zero = false;
        let mut gap = false;
        for pos in (0..4).rev() {
            let d = (g / 10u64.pow(pos as u32) % 10) as usize;
            if d == 0 {
                gap = gap || out.chars().last().is_some_and(|c| c != '零') && pos < 3;
                continue;
            }
            if gap {
                out.push('零');
                gap = false;
            }
            out.push(DIGITS[d]);
            out.push_str(SMALL[pos]);
        }
        out.push_str(BIG[i.min(3)]);
    }
    out
}

crate::labelled! {
    stored in "fundings.source";
    /// Where money for a repair comes from.
    pub enum Source {
        Subdistrict = ("subdistrict", "街道拨款", "Subdistrict grant"),
        City = ("city", "市级专项", "City programme"),
        MaintenanceFund = ("maintenance_fund", "住宅专项维修资金", "Housing maintenance fund"),
        Residents = ("residents", "居民自筹", "Residents' own money"),
        Other = ("other", "其他", "Other"),
    }
}

crate::labelled! {
    stored in "projects.stage";
    /// Where a project stands.
    pub enum Stage {
        /// Planned, money being sought.
        Planning = ("planning", "立项筹资", "Planning and funding"),
        /// The work is under way.
        Working = ("working", "施工中", "Under way"),
        /// Finished: the residents of its buildings vote to accept it.
        Voting = ("voting", "居民验收投票", "Residents' acceptance vote"),
        /// Accepted by the residents; the warranty runs.
        Accepted = ("accepted", "已验收", "Accepted"),
    }
}

crate::labelled! {
    stored in "fundings.status";
    /// An application for money: waiting for the street office, or decided.
    pub enum FundingStatus {
        Applied = ("applied", "待审批", "Applied"),
        Approved = ("approved", "已批准", "Approved"),
        Rejected = ("rejected", "未批准", "Rejected"),
    }
}

crate::labelled! {
    stored in "expenses.status";
    /// An expense: recorded within the community's limit, or above it and
    /// waiting for (or decided by) the street office.
    pub enum ExpenseStatus {
        Recorded = ("recorded", "已记账", "Recorded"),
        Pending = ("pending", "待街道审批", "Awaiting the street office"),
        Approved = ("approved", "已批准", "Approved"),
        Rejected = ("rejected", "未批准", "Rejected"),
    }
}

impl ExpenseStatus {
    /// Whether it counts as spent.
    pub fn spent(self) -> bool {
        matches!(self, ExpenseStatus::Recorded | ExpenseStatus::Approved)
    }
}

/// The residents' acceptance: carried by more than half of the votes cast,
/// with at least `quorum` votes.
pub fn accepted(yes: i64, no: i64, quorum: i64) -> bool {
    yes + no >= quorum.max(1) && yes * 2 > yes + no
}

/// The approval an amount needs above the community's own limit.
pub fn needs_street_approval(amount: Fen, limit: Fen) -> bool {
    amount > limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_capitals_are_written_as_finance_writes_them() {
        for (fen, caps) in [
            (2_600_000, "贰万陆仟元整"),
            (12_000_000, "壹拾贰万元整"),
            (1_050_000, "壹万零伍佰元整"),
            (100_500, "壹仟零伍元整"),
            (105_000, "壹仟零伍拾元整"),
            (10_000_000_000, "壹亿元整"),
            (10_001_000_000, "壹亿零壹万元整"),
            (123_456, "壹仟贰佰叁拾肆元伍角陆分"),
            (100_005, "壹仟元零伍分"),
            (50, "伍角整"),
            (0, "零元整"),
        ] {
            assert_eq!(Fen(fen).in_capitals(), caps, "{fen}");
        }
    }

    #[test]
    fn yuan_are_read_exactly() {
        for (s, fen) in [
            ("12345.67", 1_234_567),
            ("12,345.6", 1_234_560),
            ("¥80000", 8_000_000),
            ("0.01", 1),
            (" 3元 ", 300),
            ("\u{FFE5}1\u{FF0C}000", 100_000),
            ("100000000", 10_000_000_000),
        ] {
            assert_eq!(Fen::parse_yuan("amount", s), Ok(Fen(fen)), "{s}");
        }
        // 0.1 + 0.2 in floats is not 0.3; in fen it is
        let sum = Fen::parse_yuan("a", "0.1").unwrap().0 + Fen::parse_yuan("a", "0.2").unwrap().0;
        assert_eq!(Fen(sum), Fen::parse_yuan("a", "0.3").unwrap());
    }

    #[test]
    fn bad_amounts_say_why() {
        for s in ["", "abc", "1.234", "-5", "1e5", "十万", "1.2.3", ".5", "100000000.01"] {
            let e = Fen::parse_yuan("amount", s).unwrap_err();
            assert_eq!(e.field, "amount", "{s}");
        }
        assert!(Fen::parse_yuan("amount", "0").unwrap_err().msg.zh.contains("大于零"));
    }

    #[test]
    fn amounts_are_written_with_groups() {
        assert_eq!(Fen(1_234_567).yuan(), "12,345.67");
        assert_eq!(Fen(5).yuan(), "0.05");
        assert_eq!(Fen(100_000_000).yuan(), "1,000,000.00");
        assert_eq!(Fen(-250).yuan(), "-2.50");
    }

    #[test]
    fn acceptance_needs_a_majority_and_a_quorum() {
        assert!(accepted(3, 2, 5));
        assert!(!accepted(2, 2, 1), "a tie does not carry");
        assert!(!accepted(3, 0, 4), "too few voted");
        assert!(!accepted(0, 0, 0));
        assert!(needs_street_approval(Fen(50_001), Fen(50_000)));
        assert!(!needs_street_approval(Fen(50_000), Fen(50_000)));
        for s in Source::ALL {
            assert_eq!(Source::from_code(s.code()), Some(s));
        }
        for s in Stage::ALL {
            assert_eq!(Stage::from_code(s.code()), Some(s));
        }
    }
}
