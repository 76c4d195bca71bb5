//! The love-points shop: items and their stock (every change kept, with
//! why), and redemptions.

use serde::Serialize;

use yijia_domain::shop::RedemptionStatus;

use crate::sql::{Args, bind_args};
use crate::{Result, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Item {
    pub id: i64,
    pub community_id: i64,
    pub name: String,
    pub description: String,
    pub price: i64,
    pub stock: i64,
    pub monthly_limit: Option<i64>,
    pub photo_file: Option<String>,
    pub photo_type: Option<String>,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

const ITEM_COLS: &str = "id, community_id, name, description, price, stock, monthly_limit, photo_file, photo_type, \
                         active, created_at, updated_at";

#[derive(Debug, Clone)]
pub struct NewItem<'a> {
    pub community_id: i64,
    pub name: &'a str,
    pub description: &'a str,
    pub price: i64,
    pub monthly_limit: Option<i64>,
    pub now: i64,
}

/// A new item, with no stock yet (stock comes with a reason).
pub async fn insert_item(tx: &mut Tx, i: &NewItem<'_>, active: bool) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO shop_items (community_id, name, description, price, stock, monthly_limit, active, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $7) RETURNING id")
        .bind(i.community_id).bind(i.name).bind(i.description).bind(i.price).bind(i.monthly_limit).bind(active)
        .bind(i.now).fetch_one(c).await?))
}

pub async fn update_item(tx: &mut Tx, id: i64, i: &NewItem<'_>, active: bool) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE shop_items SET name = $2, description = $3, price = $4, monthly_limit = $5, active = $6, \
         updated_at = $7 WHERE id = $1")
        .bind(id).bind(i.name).bind(i.description).bind(i.price).bind(i.monthly_limit).bind(active).bind(i.now)
        .execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

pub async fn set_photo(tx: &mut Tx, id: i64, file: &str, content_type: &str, now: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE shop_items SET photo_file = $2, photo_type = $3, updated_at = $4 WHERE id = $1")
        .bind(id).bind(file).bind(content_type).bind(now).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn item(tx: &mut Tx, id: i64) -> Result<Option<Item>> {
    let sql = format!("SELECT {ITEM_COLS} FROM shop_items WHERE id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// A community's items by name; only those on offer unless `all`.
pub async fn items(tx: &mut Tx, community_id: i64, all: bool) -> Result<Vec<Item>> {
    let on_offer = if all { "" } else { " AND active = TRUE" };
    let sql = format!("SELECT {ITEM_COLS} FROM shop_items WHERE community_id = $1{on_offer} ORDER BY name, id");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(community_id).fetch_all(c).await?))
}

/// Moves an item's stock by `change`; false (and nothing moved) when that
/// would take it below zero. On PostgreSQL the row stays locked to the end
/// of the transaction, so redemptions of one item queue here.
pub async fn move_stock(tx: &mut Tx, item_id: i64, change: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE shop_items SET stock = stock + $2 WHERE id = $1 AND stock + $2 >= 0")
        .bind(item_id).bind(change).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

#[derive(Debug, Clone)]
pub struct NewStockChange<'a> {
    pub item_id: i64,
    pub change: i64,
    pub reason: &'a str,
    pub redemption_id: Option<i64>,
    pub by_name: &'a str,
    pub at: i64,
}

pub async fn insert_stock_change(tx: &mut Tx, s: &NewStockChange<'_>) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO stock_changes (item_id, change, reason, redemption_id, by_name, at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(s.item_id).bind(s.change).bind(s.reason).bind(s.redemption_id).bind(s.by_name).bind(s.at)
        .execute(&mut *c).await?.rows_affected());
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct StockChange {
    pub id: i64,
    pub item_id: i64,
    pub change: i64,
    pub reason: String,
    pub redemption_id: Option<i64>,
    pub by_name: String,
    pub at: i64,
}

pub async fn stock_changes(tx: &mut Tx, item_id: i64, limit: i64) -> Result<Vec<StockChange>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT id, item_id, change, reason, redemption_id, by_name, at FROM stock_changes WHERE item_id = $1 \
         ORDER BY id DESC LIMIT $2")
        .bind(item_id).bind(limit).fetch_all(c).await?))
}

/// The sum of an item's stock changes: always its stock.
pub async fn stock_from_changes(tx: &mut Tx, item_id: i64) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(change), 0) AS BIGINT) FROM stock_changes WHERE item_id = $1")
        .bind(item_id).fetch_one(c).await?))
}

/// How many of an item a person took in a month, cancelled ones aside.
pub async fn taken(tx: &mut Tx, resident_id: i64, item_id: i64, month: &str) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(quantity), 0) AS BIGINT) FROM redemptions WHERE resident_id = $1 AND item_id = $2 \
         AND month = $3 AND status <> 'cancelled'")
        .bind(resident_id).bind(item_id).bind(month).fetch_one(c).await?))
}

#[derive(Debug, Clone)]
pub struct NewRedemption<'a> {
    pub client_id: &'a str,
    pub item_id: i64,
    pub resident_id: i64,
    pub quantity: i64,
    pub points: i64,
    pub pickup_code: &'a str,
    pub month: &'a str,
    pub created_at: i64,
    pub created_by: Option<i64>,
}

/// A new redemption, waiting; a pickup code already waiting is a `Conflict`.
pub async fn insert_redemption(tx: &mut Tx, r: &NewRedemption<'_>) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO redemptions (client_id, item_id, resident_id, quantity, points, pickup_code, status, month, \
         created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, 'waiting', $7, $8, $9) RETURNING id")
        .bind(r.client_id).bind(r.item_id).bind(r.resident_id).bind(r.quantity).bind(r.points).bind(r.pickup_code)
        .bind(r.month).bind(r.created_at).bind(r.created_by).fetch_one(c).await?))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Redemption {
    pub id: i64,
    pub client_id: String,
    pub item_id: i64,
    pub item_name: String,
    pub community_id: i64,
    pub resident_id: i64,
    pub resident_name: String,
    pub quantity: i64,
    pub points: i64,
    pub pickup_code: String,
    pub status: RedemptionStatus,
    pub month: String,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub closed_by: Option<String>,
    pub cancel_reason: Option<String>,
}

const REDEMPTION_SELECT: &str = "SELECT r.id, r.client_id, r.item_id, i.name AS item_name, i.community_id, \
     r.resident_id, p.name AS resident_name, r.quantity, r.points, r.pickup_code, r.status, r.month, r.created_at, \
     r.closed_at, r.closed_by, r.cancel_reason FROM redemptions r JOIN shop_items i ON i.id = r.item_id \
     JOIN residents p ON p.id = r.resident_id";

pub async fn redemption(tx: &mut Tx, id: i64) -> Result<Option<Redemption>> {
    let sql = format!("{REDEMPTION_SELECT} WHERE r.id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

pub async fn redemption_of_request(tx: &mut Tx, client_id: &str) -> Result<Option<Redemption>> {
    let sql = format!("{REDEMPTION_SELECT} WHERE r.client_id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(client_id).fetch_optional(c).await?))
}

/// A redemption waiting under this pickup code, in a community.
pub async fn waiting_by_code(tx: &mut Tx, community_id: i64, code: &str) -> Result<Option<Redemption>> {
    let sql = format!("{REDEMPTION_SELECT} WHERE r.pickup_code = $1 AND r.status = 'waiting' AND i.community_id = $2");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(code).bind(community_id).fetch_optional(c).await?))
}

/// A resident's redemptions, newest first.
pub async fn of_resident(tx: &mut Tx, resident_id: i64, limit: i64) -> Result<Vec<Redemption>> {
    let sql = format!("{REDEMPTION_SELECT} WHERE r.resident_id = $1 ORDER BY r.id DESC LIMIT $2");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(resident_id).bind(limit).fetch_all(c).await?))
}

/// A community's redemptions in a status, oldest first (the counter's queue).
pub async fn in_status(
    tx: &mut Tx,
    community_id: i64,
    status: RedemptionStatus,
    limit: i64,
) -> Result<Vec<Redemption>> {
    let sql = format!("{REDEMPTION_SELECT} WHERE i.community_id = $1 AND r.status = $2 ORDER BY r.id LIMIT $3");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(community_id).bind(status).bind(limit)
        .fetch_all(c).await?))
}

/// Closes a waiting redemption (handed over or cancelled); false when it
/// was not waiting any more (closed by someone else first).
pub async fn close(
    tx: &mut Tx,
    id: i64,
    status: RedemptionStatus,
    by: &str,
    at: i64,
    reason: Option<&str>,
) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE redemptions SET status = $2, closed_by = $3, closed_at = $4, cancel_reason = $5 \
         WHERE id = $1 AND status = 'waiting'")
        .bind(id).bind(status).bind(by).bind(at).bind(reason).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// A month's figures for a community's shop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MonthFigures {
    /// Points that came to residents (awards, refunds and reversals in).
    pub issued: i64,
    /// Points spent in the shop, less what was cancelled.
    pub redeemed: i64,
    /// What residents hold at the end of the month.
    pub outstanding: i64,
    /// Per item: (name, quantity handed over).
    pub handed_out: Vec<(String, i64)>,
}

pub async fn month_figures(tx: &mut Tx, community_id: i64, from: &str, to: &str) -> Result<MonthFigures> {
    let (issued, redeemed, refunded): (i64, i64, i64) = on_tx!(tx, c => sqlx::query_as(
        "SELECT \
         CAST(COALESCE(SUM(CASE WHEN t.kind = 'award' THEN t.amount ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN t.kind = 'redeem' THEN t.amount ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN t.kind = 'refund' THEN t.amount ELSE 0 END), 0) AS BIGINT) \
         FROM point_transfers t JOIN point_accounts a ON a.id = t.debit_id \
         WHERE a.community_id = $1 AND t.created_on >= $2 AND t.created_on <= $3")
        .bind(community_id).bind(from).bind(to).fetch_one(&mut *c).await?);
    let outstanding: i64 = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(CASE WHEN t.credit_id = a.id THEN t.amount ELSE -t.amount END), 0) AS BIGINT) \
         FROM point_accounts a JOIN point_transfers t ON t.credit_id = a.id OR t.debit_id = a.id \
         WHERE a.community_id = $1 AND a.kind = 'resident' AND t.created_on <= $2")
        .bind(community_id).bind(to).fetch_one(&mut *c).await?);
    let handed_out: Vec<(String, i64)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT i.name, CAST(SUM(r.quantity) AS BIGINT) FROM redemptions r JOIN shop_items i ON i.id = r.item_id \
         WHERE i.community_id = $1 AND r.status = 'handed_over' AND r.month >= $2 AND r.month <= $3 \
         GROUP BY i.name ORDER BY i.name")
        .bind(community_id).bind(&from[..from.len().min(7)]).bind(&to[..to.len().min(7)]).fetch_all(c).await?);
    Ok(MonthFigures { issued, redeemed: redeemed - refunded, outstanding, handed_out })
}

/// The items with these ids.
pub async fn items_by_ids(tx: &mut Tx, ids: &[i64]) -> Result<Vec<Item>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let ph: Vec<String> = ids.iter().map(|i| args.push(*i)).collect();
    let sql = format!("SELECT {ITEM_COLS} FROM shop_items WHERE id IN ({})", ph.join(", "));
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// How many of each item these people took in a month, cancelled aside:
/// `(resident, item, quantity)`.
pub async fn taken_many(tx: &mut Tx, residents: &[i64], month: &str) -> Result<Vec<(i64, i64, i64)>> {
    if residents.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let m = args.push(month);
    let ph: Vec<String> = residents.iter().map(|r| args.push(*r)).collect();
    let sql = format!(
        "SELECT resident_id, item_id, CAST(SUM(quantity) AS BIGINT) FROM redemptions WHERE month = {m} \
         AND status <> 'cancelled' AND resident_id IN ({}) GROUP BY resident_id, item_id",
        ph.join(", ")
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// Adds each `(item, change)` to its stock, in one statement (the stock's
/// `CHECK` refuses to go below zero).
pub async fn move_stock_many(tx: &mut Tx, changes: &[(i64, i64)]) -> Result<()> {
    crate::sql::add_by_id(tx, "shop_items", "stock", changes).await
}

/// Of these pickup codes, those a waiting redemption has.
pub async fn codes_waiting(tx: &mut Tx, codes: &[String]) -> Result<Vec<String>> {
    if codes.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let ph: Vec<String> = codes.iter().map(|c| args.push(c.as_str())).collect();
    let sql =
        format!("SELECT pickup_code FROM redemptions WHERE status = 'waiting' AND pickup_code IN ({})", ph.join(", "));
    Ok(
        on_tx!(tx, c => bind_args!(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?),
    )
}

/// Several new redemptions in one statement; answers `(client_id, id)`.
pub async fn insert_redemptions(tx: &mut Tx, rows: &[NewRedemption<'_>]) -> Result<Vec<(String, i64)>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let mut args = Args::default();
    let mut vals = Vec::with_capacity(rows.len());
    for r in rows {
        vals.push(format!(
            "({}, {}, {}, {}, {}, {}, 'waiting', {}, {}, {})",
            args.push(r.client_id),
            args.push(r.item_id),
            args.push(r.resident_id),
            args.push(r.quantity),
            args.push(r.points),
            args.push(r.pickup_code),
            args.push(r.month),
            args.push(r.created_at),
            match r.created_by {
                Some(u) => args.push(u),
                None => "NULL".to_owned(),
            },
        ));
    }
    let sql = format!(
        "INSERT INTO redemptions (client_id, item_id, resident_id, quantity, points, pickup_code, status, month, \
         created_at, created_by) VALUES {} RETURNING client_id, id",
        vals.join(", ")
    );
    Ok(on_tx!(tx, c => bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(&mut *c).await?))
}

/// Several stock changes in one statement.
pub async fn insert_stock_changes(tx: &mut Tx, rows: &[NewStockChange<'_>]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let values = crate::residents::placeholders(tx.backend(), rows.len(), 6);
    let sql =
        format!("INSERT INTO stock_changes (item_id, change, reason, redemption_id, by_name, at) VALUES {values}");
    on_tx!(tx, c => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        for s in rows {
            q = q.bind(s.item_id).bind(s.change).bind(s.reason).bind(s.redemption_id).bind(s.by_name).bind(s.at);
        }
        q.execute(&mut *c).await?.rows_affected()
    });
    Ok(())
}
