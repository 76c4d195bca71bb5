//! The love-points shop (爱心积分超市): items with a points price, stock and a
//! per-person monthly limit; redemptions that wait for pickup and are then
//! handed over or cancelled.

use crate::Invalid;

/// The most of one item a redemption takes.
pub const MAX_QUANTITY: i64 = 20;
/// The highest price and the most stock an item has: a typo is refused.
pub const MAX_PRICE: i64 = 100_000;
pub const MAX_STOCK: i64 = 1_000_000;

crate::labelled! {
    stored in "redemptions.status";
    pub enum RedemptionStatus {
        /// Points taken and stock set aside; waiting for pickup.
        Waiting = ("waiting", "待领取", "waiting for pickup"),
        HandedOver = ("handed_over", "已领取", "handed over"),
        /// Points and stock went back.
        Cancelled = ("cancelled", "已取消", "cancelled"),
    }
}

impl RedemptionStatus {
    /// Only a waiting redemption is handed over or cancelled.
    pub fn can_close(self) -> bool {
        self == RedemptionStatus::Waiting
    }
}

/// An item as entered by the shop's clerk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFields {
    pub name: String,
    pub price: i64,
    pub monthly_limit: Option<i64>,
}

pub fn check_item(f: &ItemFields) -> Result<(), Invalid> {
    let n = f.name.trim().chars().count();
    if n == 0 || n > 60 {
        return Err(Invalid::new("name", "请填写物品名称(60 字以内)", "give the item's name (at most 60 characters)"));
    }
    if f.price <= 0 || f.price > MAX_PRICE {
        return Err(Invalid::new(
            "price",
            format!("积分价格须在 1 到 {MAX_PRICE} 之间"),
            format!("the price is between 1 and {MAX_PRICE} points"),
        ));
    }
    if let Some(l) = f.monthly_limit
        && !(1..=1000).contains(&l)
    {
        return Err(Invalid::new(
            "monthly_limit",
            "每人每月限兑 1 到 1000 件",
            "the monthly limit is 1 to 1000 per person",
        ));
    }
    Ok(())
}

pub fn check_quantity(q: i64) -> Result<(), Invalid> {
    if !(1..=MAX_QUANTITY).contains(&q) {
        return Err(Invalid::new(
            "quantity",
            format!("一次兑换 1 到 {MAX_QUANTITY} 件"),
            format!("redeem 1 to {MAX_QUANTITY} at a time"),
        ));
    }
    Ok(())
}

/// A change of stock other than a redemption: never zero, always with a reason.
pub fn check_stock_change(change: i64, reason: &str) -> Result<(), Invalid> {
    // a range, not abs(): abs(i64::MIN) overflows
    if change == 0 || !(-MAX_STOCK..=MAX_STOCK).contains(&change) {
        return Err(Invalid::new(
            "change",
            format!("库存变动须为非零整数,绝对值不超过 {MAX_STOCK}"),
            format!("a stock change is a non-zero whole number up to {MAX_STOCK}"),
        ));
    }
    let n = reason.trim().chars().count();
    if n == 0 || n > 200 {
        return Err(Invalid::new(
            "reason",
            "请写明库存变动原因(200 字以内)",
            "give the reason (at most 200 characters)",
        ));
    }
    Ok(())
}

/// Whether `more` fits under a monthly limit, given what the person took
/// this month already (cancelled redemptions do not count).
pub fn within_limit(limit: Option<i64>, taken: i64, more: i64) -> bool {
    limit.is_none_or(|l| taken + more <= l)
}

/// A pickup code: six digits, easy to read out and to type.
pub fn pickup_code(n: u32) -> String {
    format!("{:06}", n % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_only_waiting_closes() {
        for s in RedemptionStatus::ALL {
            assert_eq!(RedemptionStatus::from_code(s.code()), Some(s));
        }
        assert!(RedemptionStatus::Waiting.can_close());
        assert!(!RedemptionStatus::HandedOver.can_close());
        assert!(!RedemptionStatus::Cancelled.can_close());
    }

    #[test]
    fn items_name_the_wrong_field() {
        let ok = ItemFields { name: "大米 5kg".into(), price: 200, monthly_limit: Some(1) };
        assert!(check_item(&ok).is_ok());
        assert_eq!(check_item(&ItemFields { name: " ".into(), ..ok.clone() }).unwrap_err().field, "name");
        assert_eq!(check_item(&ItemFields { price: 0, ..ok.clone() }).unwrap_err().field, "price");
        assert_eq!(check_item(&ItemFields { price: MAX_PRICE + 1, ..ok.clone() }).unwrap_err().field, "price");
        assert_eq!(check_item(&ItemFields { monthly_limit: Some(0), ..ok }).unwrap_err().field, "monthly_limit");
    }

    #[test]
    fn quantities_and_stock_changes() {
        assert!(check_quantity(1).is_ok());
        assert!(check_quantity(0).is_err());
        assert!(check_quantity(MAX_QUANTITY + 1).is_err());
        assert!(check_stock_change(-3, "过期报损").is_ok());
        assert_eq!(check_stock_change(0, "盘点").unwrap_err().field, "change");
        assert_eq!(check_stock_change(i64::MIN, "盘点").unwrap_err().field, "change");
        assert_eq!(check_stock_change(i64::MAX, "盘点").unwrap_err().field, "change");
        assert_eq!(check_stock_change(5, "  ").unwrap_err().field, "reason");
    }

    #[test]
    fn limits_count_what_was_taken() {
        assert!(within_limit(None, 100, 5));
        assert!(within_limit(Some(2), 1, 1));
        assert!(!within_limit(Some(2), 1, 2));
        assert!(!within_limit(Some(1), 1, 1));
    }

    #[test]
    fn pickup_codes_have_six_digits() {
        assert_eq!(pickup_code(42), "000042");
        assert_eq!(pickup_code(1_234_567), "234567");
    }
}
