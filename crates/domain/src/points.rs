//! The points ledger's rules. Points move only by transfers: each takes an
//! amount from one account (the debit) and gives it to another (the
//! credit), so the balances of all accounts always sum to zero. The
//! community's pool is where points come from (it goes below zero as it
//! issues them); a resident's account never goes below zero.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::Invalid;

/// The most points one transfer moves: a typo of extra zeros is refused.
pub const MAX_AMOUNT: i64 = 1_000_000;
/// The most transfers linked in one request.
pub const MAX_LEGS: usize = 20;
/// The longest client id: long enough for a UUID with a prefix.
pub const MAX_CLIENT_ID: usize = 64;

crate::labelled! {
    stored in "point_accounts.kind";
    #[derive(PartialOrd, Ord)]
    pub enum AccountKind {
        /// A resident's points.
        Resident = ("resident", "居民积分", "resident points"),
        /// The community's points pool: awards come from it.
        Pool = ("pool", "社区积分池", "community points pool"),
        /// The community's shop: redemptions go to it.
        Shop = ("shop", "爱心积分超市", "points shop"),
        /// Corrections by hand, approved by a second person above a limit.
        Adjustment = ("adjustment", "积分调整", "adjustments"),
    }
}

impl AccountKind {
    /// Whether the balance may go below zero: only a resident's may not.
    pub fn may_go_negative(self) -> bool {
        self != AccountKind::Resident
    }
}

crate::labelled! {
    stored in "point_transfers.kind";
    /// Why points moved.
    pub enum TransferKind {
        /// Earned: volunteering, a duty shift, an award by the community.
        Award = ("award", "获得积分", "earned"),
        /// Spent in the shop.
        Redeem = ("redeem", "兑换", "redeemed"),
        /// A redemption cancelled: the points go back.
        Refund = ("refund", "兑换取消退回", "redemption cancelled"),
        /// The undoing of an earlier transfer, with a reason.
        Reversal = ("reversal", "冲正", "reversal"),
        /// A correction by hand.
        Adjust = ("adjust", "调整", "adjustment"),
    }
}

crate::labelled! {
    stored in "point_approvals.status";
    /// A transfer by hand above the limit, waiting for a second person.
    pub enum ApprovalStatus {
        Pending = ("pending", "待审批", "Pending"),
        Approved = ("approved", "已批准", "Approved"),
        Rejected = ("rejected", "已驳回", "Rejected"),
    }
}

/// One transfer of a request: `amount` from `debit` to `credit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    pub debit: i64,
    pub credit: i64,
    pub amount: i64,
    pub kind: TransferKind,
    pub memo: String,
}

/// A client id: chosen by the client so that sending twice moves points once.
pub fn check_client_id(s: &str) -> Result<(), Invalid> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.');
    if s.is_empty() || s.len() > MAX_CLIENT_ID || !s.chars().all(ok_char) {
        return Err(Invalid::new(
            "client_id",
            format!("编号须为 1 到 {MAX_CLIENT_ID} 个字母、数字或 - _ : ."),
            format!("a client id is 1 to {MAX_CLIENT_ID} letters, digits or - _ : ."),
        ));
    }
    Ok(())
}

/// The transfers of one request, each checked; the field names the transfer.
pub fn check_legs(legs: &[Leg]) -> Result<(), Invalid> {
    if legs.is_empty() || legs.len() > MAX_LEGS {
        return Err(Invalid::new(
            "transfers",
            format!("一次提交 1 到 {MAX_LEGS} 笔转账"),
            format!("send 1 to {MAX_LEGS} transfers at a time"),
        ));
    }
    for (i, l) in legs.iter().enumerate() {
        if l.amount <= 0 || l.amount > MAX_AMOUNT {
            return Err(Invalid::new(
                format!("transfers[{i}].amount"),
                format!("积分数须在 1 到 {MAX_AMOUNT} 之间"),
                format!("an amount is between 1 and {MAX_AMOUNT} points"),
            ));
        }
        if l.debit == l.credit {
            return Err(Invalid::new(
                format!("transfers[{i}].credit"),
                "转出和转入不能是同一个账户",
                "the debit and the credit account must differ",
            ));
        }
        let memo = l.memo.trim();
        if memo.is_empty() || memo.chars().count() > 200 {
            return Err(Invalid::new(
                format!("transfers[{i}].memo"),
                "请写明事由(200 字以内)",
                "say what it is for (at most 200 characters)",
            ));
        }
    }
    Ok(())
}

/// What a request contains, as one string: the same client id sent with other
/// contents is refused, the same contents answered as the first time.
pub fn fingerprint(legs: &[Leg]) -> String {
    let mut parts = vec!["transfers".to_owned()];
    for l in legs {
        parts.extend([l.debit.to_string(), l.credit.to_string(), l.amount.to_string()]);
        parts.extend([l.kind.code().to_owned(), l.memo.trim().to_owned()]);
    }
    fingerprint_of(&parts)
}

/// The fingerprint of any request, from its parts in order: each part is
/// length-prefixed, so that no two different lists hash alike.
pub fn fingerprint_of(parts: &[String]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The first transfer that would take an account that may not go negative
/// below zero, applying them in order; `None` when all can happen.
pub fn shortfall(balances: &HashMap<i64, (AccountKind, i64)>, legs: &[Leg]) -> Option<usize> {
    let mut after: HashMap<i64, i64> = HashMap::new();
    for (i, l) in legs.iter().enumerate() {
        let (kind, start) = balances.get(&l.debit).copied().unwrap_or((AccountKind::Resident, 0));
        let b = after.entry(l.debit).or_insert(start);
        *b -= l.amount;
        if *b < 0 && !kind.may_go_negative() {
            return Some(i);
        }
        let (_, start) = balances.get(&l.credit).copied().unwrap_or((AccountKind::Resident, 0));
        *after.entry(l.credit).or_insert(start) += l.amount;
    }
    None
}

/// The points one person may move by hand into or out of one resident's
/// account in a day before a second person approves, by default.
pub const APPROVAL_LIMIT: i64 = 500;

/// Which accounts a transfer by hand may join: an award comes from the
/// community's pool to a resident, never from a resident; an adjustment
/// goes through the adjustments account. The field names the transfer.
pub fn check_by_hand(kinds: &HashMap<i64, AccountKind>, legs: &[Leg]) -> Result<(), Invalid> {
    let kind = |id: i64| kinds.get(&id).copied();
    for (i, l) in legs.iter().enumerate() {
        match l.kind {
            TransferKind::Award if kind(l.debit) != Some(AccountKind::Pool) => {
                return Err(Invalid::new(
                    format!("transfers[{i}].from"),
                    "奖励积分只能从社区积分池转出",
                    "an award comes from the community's points pool only",
                ));
            }
            TransferKind::Award if kind(l.credit) != Some(AccountKind::Resident) => {
                return Err(Invalid::new(
                    format!("transfers[{i}].to"),
                    "奖励积分只能转给居民",
                    "an award goes to a resident's account only",
                ));
            }
            TransferKind::Adjust
                if kind(l.debit) != Some(AccountKind::Adjustment)
                    && kind(l.credit) != Some(AccountKind::Adjustment) =>
            {
                return Err(Invalid::new(
                    format!("transfers[{i}].to"),
                    "调整须经过社区的积分调整账户",
                    "an adjustment goes through the community's adjustments account",
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether a request by hand waits for a second person: when, for any
/// resident's account, what it moves into or out of it, added to what
/// the same person already moved by hand there today (`earlier`), is more
/// than `limit`, whatever the kind. Many small legs or many small requests
/// add up.
pub fn needs_approval(
    kinds: &HashMap<i64, AccountKind>,
    legs: &[Leg],
    earlier: &HashMap<i64, i64>,
    limit: i64,
) -> bool {
    let mut moved: HashMap<i64, i64> = HashMap::new();
    for l in legs {
        for id in [l.debit, l.credit] {
            if kinds.get(&id) == Some(&AccountKind::Resident) {
                *moved.entry(id).or_default() += l.amount;
            }
        }
    }
    moved.into_iter().any(|(id, m)| m.saturating_add(earlier.get(&id).copied().unwrap_or(0)) > limit)
}

/// The month (`2026-11`) of a day (`2026-11-30`), for statements.
pub fn month_of(day: &str) -> &str {
    day.get(..7).unwrap_or(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(debit: i64, credit: i64, amount: i64) -> Leg {
        Leg { debit, credit, amount, kind: TransferKind::Award, memo: "志愿服务".into() }
    }

    #[test]
    fn codes_round_trip() {
        for k in AccountKind::ALL {
            assert_eq!(AccountKind::from_code(k.code()), Some(k));
        }
        for k in TransferKind::ALL {
            assert_eq!(TransferKind::from_code(k.code()), Some(k));
        }
        assert_eq!(AccountKind::from_code("bank"), None);
        assert!(!AccountKind::Resident.may_go_negative());
        assert!(AccountKind::Pool.may_go_negative());
    }

    #[test]
    fn client_ids_are_short_and_plain() {
        assert!(check_client_id("phone-1:2026-11-30.7_a").is_ok());
        assert!(check_client_id("").is_err());
        assert!(check_client_id(&"a".repeat(65)).is_err());
        assert!(check_client_id("有中文").is_err());
        assert!(check_client_id("a b").is_err());
    }

    #[test]
    fn legs_name_the_field_that_is_wrong() {
        assert!(check_legs(&[leg(1, 2, 10)]).is_ok());
        assert_eq!(check_legs(&[]).unwrap_err().field, "transfers");
        assert_eq!(check_legs(&vec![leg(1, 2, 1); MAX_LEGS + 1]).unwrap_err().field, "transfers");
        assert_eq!(check_legs(&[leg(1, 2, 10), leg(1, 2, 0)]).unwrap_err().field, "transfers[1].amount");
        assert_eq!(check_legs(&[leg(1, 2, MAX_AMOUNT + 1)]).unwrap_err().field, "transfers[0].amount");
        assert_eq!(check_legs(&[leg(3, 3, 5)]).unwrap_err().field, "transfers[0].credit");
        let mut l = leg(1, 2, 5);
        l.memo = "  ".into();
        assert_eq!(check_legs(&[l]).unwrap_err().field, "transfers[0].memo");
    }

    #[test]
    fn the_fingerprint_changes_with_any_part() {
        let a = fingerprint(&[leg(1, 2, 10)]);
        assert_eq!(a, fingerprint(&[leg(1, 2, 10)]));
        assert_ne!(a, fingerprint(&[leg(1, 2, 11)]));
        assert_ne!(a, fingerprint(&[leg(2, 1, 10)]));
        assert_ne!(a, fingerprint(&[leg(1, 2, 10), leg(1, 2, 10)]));
        // a length prefix keeps "1","23" apart from "12","3"
        assert_ne!(fingerprint(&[leg(1, 23, 4)]), fingerprint(&[leg(12, 3, 4)]));
        let mut other = leg(1, 2, 10);
        other.kind = TransferKind::Adjust;
        assert_ne!(a, fingerprint(&[other]));
    }

    #[test]
    fn shortfall_applies_the_transfers_in_order() {
        let b: HashMap<i64, (AccountKind, i64)> =
            [(1, (AccountKind::Pool, 0)), (2, (AccountKind::Resident, 5)), (3, (AccountKind::Shop, 0))].into();
        // the pool may go below zero
        assert_eq!(shortfall(&b, &[leg(1, 2, 100)]), None);
        assert_eq!(shortfall(&b, &[leg(2, 3, 5)]), None);
        assert_eq!(shortfall(&b, &[leg(2, 3, 6)]), Some(0));
        // points earned earlier in the same request can be spent later in it
        assert_eq!(shortfall(&b, &[leg(1, 2, 10), leg(2, 3, 15)]), None);
        assert_eq!(shortfall(&b, &[leg(2, 3, 15), leg(1, 2, 10)]), Some(0));
        assert_eq!(shortfall(&b, &[leg(2, 3, 3), leg(2, 3, 3)]), Some(1));
    }

    fn kinds() -> HashMap<i64, AccountKind> {
        [(1, AccountKind::Pool), (2, AccountKind::Resident), (3, AccountKind::Adjustment), (4, AccountKind::Resident)]
            .into()
    }

    #[test]
    fn more_than_the_limit_to_one_resident_waits_whatever_the_kind() {
        let (k, none) = (kinds(), HashMap::new());
        let mut l = leg(1, 2, 501);
        assert!(needs_approval(&k, std::slice::from_ref(&l), &none, 500), "an award above the limit waits");
        l.kind = TransferKind::Adjust;
        assert!(needs_approval(&k, std::slice::from_ref(&l), &none, 500));
        l.amount = 500;
        assert!(!needs_approval(&k, std::slice::from_ref(&l), &none, 500), "up to the limit it goes");
        // twenty small legs to one account add up; to twenty accounts they do not
        let many: Vec<Leg> = (0..20).map(|_| leg(1, 2, 30)).collect();
        assert!(needs_approval(&k, &many, &none, 500));
        assert!(!needs_approval(&k, &[leg(1, 2, 300), leg(1, 4, 300)], &none, 500));
        // what the same person moved there earlier today counts
        let earlier: HashMap<i64, i64> = [(2, 450)].into();
        assert!(needs_approval(&k, &[leg(1, 2, 51)], &earlier, 500));
        assert!(!needs_approval(&k, &[leg(1, 4, 51)], &earlier, 500));
        // taking out counts as much as putting in
        assert!(needs_approval(&k, &[leg(2, 3, 501)], &none, 500));
        // the community's own accounts have no limit
        assert!(!needs_approval(&k, &[leg(1, 3, 100_000)], &none, 500));
    }

    #[test]
    fn awards_come_from_the_pool_to_residents_and_adjustments_go_through_their_account() {
        let k = kinds();
        assert!(check_by_hand(&k, &[leg(1, 2, 10)]).is_ok());
        assert_eq!(check_by_hand(&k, &[leg(1, 2, 10), leg(4, 2, 10)]).unwrap_err().field, "transfers[1].from");
        assert_eq!(check_by_hand(&k, &[leg(1, 3, 10)]).unwrap_err().field, "transfers[0].to");
        let adjust = |d, c| Leg { kind: TransferKind::Adjust, ..leg(d, c, 10) };
        assert!(check_by_hand(&k, &[adjust(2, 3), adjust(3, 4)]).is_ok());
        assert_eq!(check_by_hand(&k, &[adjust(2, 4)]).unwrap_err().field, "transfers[0].to");
    }

    #[test]
    fn months_of_days() {
        assert_eq!(month_of("2026-11-30"), "2026-11");
        assert_eq!(month_of("2026"), "2026");
    }
}
