//! The love-points shop: items and stock, redemptions (points and stock
//! taken in one transaction, a pickup code given), handing over, cancelling
//! (points and stock back), the monthly report.

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::Msg;
use yijia_domain::points::{self as rules, AccountKind, Leg, TransferKind};
use yijia_domain::proxy::Act;
use yijia_domain::shop::{self, ItemFields, RedemptionStatus};
use yijia_domain::time::{rfc3339, to_local};
use yijia_store::shop::{self as store, Item, NewItem, NewRedemption, NewStockChange, Redemption};
use yijia_store::{Db, StoreError, Tx, org, points as ledger};

use crate::audit::{Event, record};
use crate::points::{Applied, Failure, Req};
use crate::roles::SHOP_CLERKS;
use crate::{Caller, Result, ServiceError, Services};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ItemInput {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Points for one.
    pub price: i64,
    /// Per person per month; none: no limit.
    #[serde(default)]
    pub monthly_limit: Option<i64>,
    /// On offer (default true).
    #[serde(default)]
    pub active: Option<bool>,
}

/// A change of stock other than a redemption: a delivery (positive), or
/// spoilt, lost or counted short (negative), always with why.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct StockInput {
    pub change: i64,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RedeemInput {
    /// Chosen by the client: sent again, the same redemption answers.
    pub client_id: String,
    pub resident_id: i64,
    pub item_id: i64,
    /// Default 1.
    #[serde(default)]
    pub quantity: Option<i64>,
}

/// A resident redeems for themself.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct MyRedeemInput {
    /// Chosen by the client: sent again, the same redemption answers.
    pub client_id: String,
    pub item_id: i64,
    /// Default 1.
    #[serde(default)]
    pub quantity: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CancelInput {
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    pub id: i64,
    pub community: String,
    pub name: String,
    pub description: String,
    pub price: i64,
    pub stock: i64,
    pub monthly_limit: Option<i64>,
    pub active: bool,
    pub has_photo: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RedemptionView {
    pub id: i64,
    pub client_id: String,
    pub item_id: i64,
    pub item_name: String,
    pub resident_id: i64,
    /// Clerks see names, never ID numbers.
    pub resident_name: String,
    pub quantity: i64,
    pub points: i64,
    /// Six digits, shown at the counter.
    pub pickup_code: String,
    /// `waiting`, `handed_over` or `cancelled`.
    pub status: RedemptionStatus,
    pub status_name: String,
    /// RFC 3339, Asia/Shanghai.
    pub created_at: String,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    pub cancel_reason: Option<String>,
}

/// How a redemption ended.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Redeemed {
    pub client_id: String,
    /// `done` or `failed` (it stays failed).
    pub status: String,
    pub replayed: bool,
    pub redemption: Option<RedemptionView>,
    /// For a failed one: `points`, `stock` or `limit`, the field and why.
    pub reason: Option<String>,
    pub field: Option<String>,
    pub message: Option<String>,
    pub message_en: Option<String>,
}

impl Redeemed {
    pub fn done(&self) -> bool {
        self.status == "done"
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ShopReport {
    pub community: String,
    pub month: String,
    /// Points awarded to residents in the month.
    pub issued: i64,
    /// Points spent in the shop in the month, less cancellations.
    pub redeemed: i64,
    /// What residents hold at the end of the month.
    pub outstanding: i64,
    pub handed_out: Vec<HandedOut>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HandedOut {
    pub item: String,
    pub quantity: i64,
}

/// The month of `now` in Asia/Shanghai, `2026-11`: a redemption counts
/// against its limit in it.
pub(crate) fn month_now(now: i64) -> String {
    to_local(now).format("%Y-%m").to_string()
}

fn name_taken(name: &str) -> Msg {
    Msg::new(format!("已有物品「{name}」"), format!("'{name}' is in the shop already"))
}

fn not_waiting(r: &Redemption) -> ServiceError {
    let s = r.status;
    ServiceError::Conflict(Msg::new(format!("这笔兑换{}", s.name_zh()), format!("this redemption is {}", s.name_en())))
}

impl Services {
    /// The community's items: all of them for its clerks, else those on offer.
    pub async fn shop_items(&self, caller: &Caller, community: Option<&str>) -> Result<Vec<ItemView>> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let com = self.caller_community(&mut tx, caller, crate::roles::POINT_READERS, community).await?;
            let items = store::items(&mut tx, com.id, true).await?;
            tx.commit().await?;
            Ok(items.iter().map(|i| item_view(i, &com.code)).collect())
        })
        .await
    }

    pub async fn add_item(&self, caller: &Caller, community: Option<&str>, input: ItemInput) -> Result<ItemView> {
        let fields = item_fields(&input)?;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let com = self.caller_community(&mut tx, caller, SHOP_CLERKS, community).await?;
            let description = input.description.as_deref().unwrap_or("").trim();
            let new = NewItem {
                community_id: com.id,
                name: fields.name.trim(),
                description,
                price: fields.price,
                monthly_limit: fields.monthly_limit,
                now,
            };
            let active = input.active.unwrap_or(true);
            let id =
                crate::error::on_conflict(store::insert_item(&mut tx, &new, active).await, || name_taken(new.name))?;
            let e = Event::ok("shop_item", format!("item:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "name": new.name, "price": new.price }))).await?;
            let item = store::item(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(item_view(&item, &com.code))
        })
        .await
    }

    pub async fn update_item(&self, caller: &Caller, id: i64, input: ItemInput) -> Result<ItemView> {
        let fields = item_fields(&input)?;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (item, com) = self.shop_item(&mut tx, caller, id).await?;
            let description = input.description.as_deref().map(str::trim).unwrap_or(&item.description);
            let new = NewItem {
                community_id: com.id,
                name: fields.name.trim(),
                description,
                price: fields.price,
                monthly_limit: fields.monthly_limit,
                now,
            };
            let changed = crate::error::on_conflict(
                store::update_item(&mut tx, id, &new, input.active.unwrap_or(item.active)).await,
                || name_taken(new.name),
            )?;
            if !changed {
                return Err(ServiceError::NotFound);
            }
            let e = Event::ok("shop_item", format!("item:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "name": new.name, "price": new.price }))).await?;
            let item = store::item(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(item_view(&item, &com.code))
        })
        .await
    }

    /// Stock in or out other than by redemptions, with the reason kept.
    pub async fn change_stock(&self, caller: &Caller, id: i64, input: StockInput) -> Result<ItemView> {
        shop::check_stock_change(input.change, &input.reason)?;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (_, com) = self.shop_item(&mut tx, caller, id).await?;
            if !store::move_stock(&mut tx, id, input.change).await? {
                return Err(ServiceError::invalid("change", "库存不能少于零", "the stock cannot go below zero"));
            }
            let reason = input.reason.trim();
            let change = NewStockChange {
                item_id: id,
                change: input.change,
                reason,
                redemption_id: None,
                by_name: &caller.display_name,
                at: now,
            };
            store::insert_stock_change(&mut tx, &change).await?;
            let e = Event::ok("shop_stock", format!("item:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "change": input.change, "reason": reason }))).await?;
            let item = store::item(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(item_view(&item, &com.code))
        })
        .await
    }

    /// An item, once the caller is found to keep its community's shop.
    async fn shop_item(&self, tx: &mut Tx, caller: &Caller, id: i64) -> Result<(Item, org::OrgNode)> {
        let Some(item) = store::item(tx, id).await? else { return Err(ServiceError::NotFound) };
        let com = clerk_community(tx, caller, item.community_id, format!("item:{id}")).await?;
        Ok((item, com))
    }

    /// Redeems an item for a resident: their points and the stock are taken
    /// in one transaction, and a pickup code given. Sent again with the
    /// same id, the same answer; failed (points, stock, limit), it stays
    /// failed. On SQLite redemptions sent at the same moment share a commit
    /// (`shop_writer`).
    pub async fn redeem(&self, caller: &Caller, input: RedeemInput) -> Result<Redeemed> {
        if !caller.has_any(SHOP_CLERKS) && caller.resident_for(Act::Points) != Some(input.resident_id) {
            return Err(ServiceError::forbidden());
        }
        let client_id = input.client_id.trim().to_owned();
        rules::check_client_id(&client_id)?;
        let quantity = input.quantity.unwrap_or(1);
        shop::check_quantity(quantity)?;
        let fp = rules::fingerprint_of(&[
            "redeem".into(),
            input.resident_id.to_string(),
            input.item_id.to_string(),
            quantity.to_string(),
        ]);
        let c = Checked {
            client_id,
            resident_id: input.resident_id,
            item_id: input.item_id,
            quantity,
            fp,
            now: self.now(),
        };
        self.denials_audited(caller, async {
            match self.db {
                yijia_store::Db::Sqlite(_) => self.redeem_queued(caller, c).await,
                _ => redeem_one(&self.db, caller, &c).await,
            }
        })
        .await
    }

    /// A resident redeems an item for themself.
    pub async fn redeem_mine(&self, caller: &Caller, input: MyRedeemInput) -> Result<Redeemed> {
        let me = crate::invitations::own_resident_as(caller, Some(Act::Points))?;
        let input = RedeemInput {
            client_id: input.client_id,
            resident_id: me,
            item_id: input.item_id,
            quantity: input.quantity,
        };
        self.redeem(caller, input).await
    }

    /// For a resident: what their community's shop offers.
    pub async fn my_shop_items(&self, caller: &Caller) -> Result<Vec<ItemView>> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (_, com) = crate::invitations::own_record_as(&mut tx, caller, Act::Points).await?;
            let items = store::items(&mut tx, com.id, false).await?;
            tx.commit().await?;
            Ok(items.iter().map(|i| item_view(i, &com.code)).collect())
        })
        .await
    }

    /// A resident's own redemptions, newest first, with their pickup codes.
    pub async fn my_redemptions(&self, caller: &Caller) -> Result<Vec<RedemptionView>> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (r, _) = crate::invitations::own_record_as(&mut tx, caller, Act::Points).await?;
            let rows = store::of_resident(&mut tx, r.id, 200).await?;
            tx.commit().await?;
            Ok(rows.iter().map(redemption_view).collect())
        })
        .await
    }

    /// The item's photo, replaced by a new one (checked and cleaned like
    /// any photo: its metadata and location are dropped).
    pub async fn set_item_photo(&self, caller: &Caller, id: i64, uploads: Vec<Vec<u8>>) -> Result<ItemView> {
        let [upload] = <[Vec<u8>; 1]>::try_from(uploads)
            .map_err(|_| ServiceError::invalid("photo", "请选择一张照片", "choose one photo"))?;
        let photos = crate::cases::clean_photos(vec![upload]).await?;
        let stored = self.keep_photos(&photos).await?;
        let now = self.now();
        let r = self
            .denials_audited(caller, async {
                let mut tx = self.db.write().await?;
                let (item, com) = self.shop_item(&mut tx, caller, id).await?;
                let s = &stored[0];
                store::set_photo(&mut tx, id, &s.name, s.photo.content_type, now).await?;
                let e = Event::ok("shop_item_photo", format!("item:{id}"), &com.path);
                record(&mut tx, caller, now, &e).await?;
                let item = store::item(&mut tx, item.id).await?.ok_or(ServiceError::NotFound)?;
                tx.commit().await?;
                Ok(item_view(&item, &com.code))
            })
            .await;
        if r.is_err() {
            self.forget_photos(&stored).await;
        }
        r
    }

    /// An item's photo, for those who read the shop and the community's residents.
    pub async fn item_photo(&self, caller: &Caller, id: i64) -> Result<crate::cases::PhotoFile> {
        self.denials_audited(caller, self.item_photo_in(caller, id)).await
    }

    async fn item_photo_in(&self, caller: &Caller, id: i64) -> Result<crate::cases::PhotoFile> {
        let mut tx = self.db.read().await?;
        let item = store::item(&mut tx, id).await?;
        let own = match crate::invitations::own_record_as(&mut tx, caller, Act::Points).await {
            Ok((_, com)) => Some(com.id),
            Err(_) => None,
        };
        let com = match &item {
            Some(i) => Some(org::by_id(&mut tx, i.community_id).await?),
            None => None,
        };
        tx.commit().await?;
        let (Some(item), Some(com)) = (item, com) else { return Err(ServiceError::NotFound) };
        if !caller.covers(crate::roles::POINT_READERS, &com.path) && own != Some(com.id) {
            return Err(ServiceError::denied("shop", format!("item:{id}")));
        }
        let (Some(file), Some(content_type)) = (item.photo_file, item.photo_type) else {
            return Err(ServiceError::NotFound);
        };
        let bytes = self.files.get(&file).await?;
        let ext = file.rsplit('.').next().unwrap_or("jpg").to_owned();
        Ok(crate::cases::PhotoFile { bytes, content_type, file_name: format!("item-{id}.{ext}") })
    }

    /// The redemption waiting under a pickup code, in the caller's community.
    pub async fn redemption_by_code(
        &self,
        caller: &Caller,
        community: Option<&str>,
        code: &str,
    ) -> Result<RedemptionView> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let com = self.caller_community(&mut tx, caller, SHOP_CLERKS, community).await?;
            let r = store::waiting_by_code(&mut tx, com.id, code.trim()).await?;
            tx.commit().await?;
            r.map(|r| redemption_view(&r)).ok_or(ServiceError::NotFound)
        })
        .await
    }

    /// The goods are handed over.
    pub async fn hand_over(&self, caller: &Caller, id: i64) -> Result<RedemptionView> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (r, com) = self.redemption_in_scope(&mut tx, caller, id).await?;
            if !store::close(&mut tx, id, RedemptionStatus::HandedOver, &caller.display_name, now, None).await? {
                return Err(not_waiting(&r));
            }
            let e = Event::ok("shop_hand_over", format!("redemption:{id}"), &com.path);
            record(&mut tx, caller, now, &e).await?;
            let r = store::redemption(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(redemption_view(&r))
        })
        .await
    }

    /// A waiting redemption cancelled: the points and the stock go back.
    pub async fn cancel_redemption(&self, caller: &Caller, id: i64, input: CancelInput) -> Result<RedemptionView> {
        let reason = input.reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(ServiceError::invalid(
                "reason",
                "请写明取消原因(200 字以内)",
                "give the reason (at most 200 characters)",
            ));
        }
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (r, com) = self.redemption_in_scope(&mut tx, caller, id).await?;
            let Some(points) = cancel_waiting(&mut tx, caller, &r, &reason, now).await? else {
                return Err(not_waiting(&r));
            };
            let e = Event::ok("shop_cancel", format!("redemption:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "reason": reason, "points": points }))).await?;
            let r = store::redemption(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(redemption_view(&r))
        })
        .await
    }

    async fn redemption_in_scope(&self, tx: &mut Tx, caller: &Caller, id: i64) -> Result<(Redemption, org::OrgNode)> {
        let Some(r) = store::redemption(tx, id).await? else { return Err(ServiceError::NotFound) };
        let com = clerk_community(tx, caller, r.community_id, format!("redemption:{id}")).await?;
        Ok((r, com))
    }

    /// Redemptions waiting for pickup, oldest first.
    pub async fn waiting_redemptions(&self, caller: &Caller, community: Option<&str>) -> Result<Vec<RedemptionView>> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let com = self.caller_community(&mut tx, caller, SHOP_CLERKS, community).await?;
            let rows = store::in_status(&mut tx, com.id, RedemptionStatus::Waiting, 500).await?;
            tx.commit().await?;
            Ok(rows.iter().map(redemption_view).collect())
        })
        .await
    }

    /// A month's figures: points issued, redeemed, outstanding; items handed out.
    pub async fn shop_report(
        &self,
        caller: &Caller,
        community: Option<&str>,
        month: Option<&str>,
    ) -> Result<ShopReport> {
        let (month, from, to) = crate::points::month_range(month, self.now())?;
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let com = self.caller_community(&mut tx, caller, crate::roles::POINT_READERS, community).await?;
            let f = store::month_figures(&mut tx, com.id, &from, &to).await?;
            tx.commit().await?;
            Ok(ShopReport {
                community: com.code,
                month: month.clone(),
                issued: f.issued,
                redeemed: f.redeemed,
                outstanding: f.outstanding,
                handed_out: f.handed_out.into_iter().map(|(item, quantity)| HandedOut { item, quantity }).collect(),
            })
        })
        .await
    }
}

/// A redemption checked at the door: what it asks, as a fingerprint, and when.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub client_id: String,
    pub resident_id: i64,
    pub item_id: i64,
    pub quantity: i64,
    pub fp: String,
    pub now: i64,
}

/// One redemption in a transaction of its own.
pub(crate) async fn redeem_one(db: &Db, caller: &Caller, c: &Checked) -> Result<Redeemed> {
    let (client_id, quantity, now) = (c.client_id.as_str(), c.quantity, c.now);
    let month = month_now(now);
    let mut tx = db.write().await?;
    let Some(item) = store::item(&mut tx, c.item_id).await? else {
        return Err(ServiceError::invalid("item_id", "没有这件物品", "no such item"));
    };
    let com = org::by_id(&mut tx, item.community_id).await?;
    if !may_redeem(caller, &com.path, c.resident_id) {
        return Err(ServiceError::denied("shop", format!("item:{}", item.id)));
    }
    let req = Req { client_id, fp: &c.fp, community_id: com.id };
    if let Some(r) = ledger::request(&mut tx, client_id).await? {
        let applied = crate::points::replay(&mut tx, r, &c.fp).await?;
        let r = store::redemption_of_request(&mut tx, client_id).await?;
        tx.commit().await?;
        return Ok(redeemed(client_id, applied, r));
    }
    let person = yijia_store::residents::get(&mut tx, c.resident_id).await?;
    if let Some(e) = refusal(&item, &com, person.as_ref().map(|p| p.grid_path.as_str())) {
        return Err(e);
    }
    let Some(person) = person else { return Err(ServiceError::NotFound) };
    let taken = store::taken(&mut tx, person.id, item.id, &month).await?;
    let account = ledger::ensure_account(&mut tx, com.id, AccountKind::Resident.code(), Some(person.id), now).await?;
    let failed = match shortfall(&item, taken, quantity, item.stock, account.balance) {
        // on PostgreSQL another redemption may have taken the stock since
        // the item was read: the update checks it again
        None if !store::move_stock(&mut tx, item.id, -quantity).await? => Some(Failure::Stock),
        f => f,
    };
    let points = item.price * quantity;
    let applied = match failed {
        Some(why) => Applied::Failed(why),
        None => {
            let shop_account = ledger::ensure_account(&mut tx, com.id, AccountKind::Shop.code(), None, now).await?;
            let leg = Leg {
                debit: account.id,
                credit: shop_account.id,
                amount: points,
                kind: TransferKind::Redeem,
                memo: format!("兑换 {} × {quantity}", item.name),
            };
            crate::points::post(&mut tx, caller, req, &[(leg, None)], now).await?
        }
    };
    let applied = match applied {
        Applied::Failed(why) => {
            tx.rollback().await?;
            let mut tx = db.write().await?;
            let applied = crate::points::keep_failed(&mut tx, caller, req, why, now).await?;
            tx.commit().await?;
            return Ok(redeemed(client_id, applied, None));
        }
        Applied::Replayed(r, ts) => {
            // another request took the id between our look and our write
            tx.rollback().await?;
            let mut tx = db.read().await?;
            let red = store::redemption_of_request(&mut tx, client_id).await?;
            tx.commit().await?;
            return Ok(redeemed(client_id, Applied::Replayed(r, ts), red));
        }
        done => done,
    };
    let code = free_pickup_code(&mut tx).await?;
    let new = NewRedemption {
        client_id,
        item_id: item.id,
        resident_id: person.id,
        quantity,
        points,
        pickup_code: &code,
        month: &month,
        created_at: now,
        created_by: caller.user_id,
    };
    let id = store::insert_redemption(&mut tx, &new).await.map_err(|e| match e {
        // two redemptions drew the same new code at once: one tries again
        StoreError::Conflict(_) => ServiceError::Conflict(Msg::new(
            "取货码恰好与另一笔兑换相同,未兑换;请用同一编号再发送一次",
            "the pickup code drawn was taken at that moment; nothing was redeemed: send it again with the same id",
        )),
        e => e.into(),
    })?;
    let change = NewStockChange {
        item_id: item.id,
        change: -quantity,
        reason: "兑换",
        redemption_id: Some(id),
        by_name: &caller.display_name,
        at: now,
    };
    store::insert_stock_change(&mut tx, &change).await?;
    let object = format!("redemption:{id}");
    yijia_store::cases::push_outbox(&mut tx, now, "redemption.ready", &person.grid_path, &object, &ready(id)).await?;
    let e = Event::ok("shop_redeem", format!("redemption:{id}"), &person.grid_path);
    let detail = json!({ "item": item.id, "resident": person.id, "quantity": quantity, "points": points });
    record(&mut tx, caller, now, &e.with(detail)).await?;
    let r = store::redemption(&mut tx, id).await?;
    tx.commit().await?;
    Ok(redeemed(client_id, applied, r))
}

/// Why a redemption may not go through, if it may not: over the item's
/// monthly limit (`taken` this month already), more than the `stock`, or
/// more points than the resident's `balance`, in that order. The one-by-one
/// path and the group's `settle` both ask this.
pub(crate) fn shortfall(item: &Item, taken: i64, quantity: i64, stock: i64, balance: i64) -> Option<Failure> {
    if !shop::within_limit(item.monthly_limit, taken, quantity) {
        Some(Failure::Limit)
    } else if stock < quantity {
        Some(Failure::Stock)
    } else if balance < item.price * quantity {
        Some(Failure::Points(0))
    } else {
        None
    }
}

/// Why this resident may not redeem this item at the community's shop,
/// if they may not: `resident_path` is their grid's path, `None` when there
/// is no such resident.
pub(crate) fn refusal(item: &Item, com: &org::OrgNode, resident_path: Option<&str>) -> Option<ServiceError> {
    match resident_path {
        None => Some(ServiceError::invalid("resident_id", "没有这位居民", "no such resident")),
        Some(p) if !p.starts_with(&com.path) => {
            Some(ServiceError::invalid("resident_id", "这位居民不在本社区", "the resident is not of this community"))
        }
        _ if !item.active => Some(ServiceError::invalid("item_id", "这件物品已下架", "this item is not on offer")),
        _ => None,
    }
}

/// A six-digit code no waiting redemption has.
async fn free_pickup_code(tx: &mut Tx) -> Result<String> {
    for _ in 0..20 {
        let code = shop::pickup_code(rand::rng().random_range(0..1_000_000));
        if store::codes_waiting(tx, std::slice::from_ref(&code)).await?.is_empty() {
            return Ok(code);
        }
    }
    Err(ServiceError::internal("no free pickup code in 20 draws"))
}

/// A clerk of the community redeems for anyone; a resident for themself
/// (the resident's community is checked with the item's by `refusal`).
pub(crate) fn may_redeem(caller: &Caller, community_path: &str, resident_id: i64) -> bool {
    caller.covers(SHOP_CLERKS, community_path)
        || (caller.resident_for(Act::Points) == Some(resident_id)
            && caller.has_any(&[yijia_domain::role::Role::Resident]))
}

/// A community whose shop the caller keeps; a denial names `object`.
async fn clerk_community(tx: &mut Tx, caller: &Caller, community_id: i64, object: String) -> Result<org::OrgNode> {
    let com = org::by_id(tx, community_id).await?;
    if !caller.covers(SHOP_CLERKS, &com.path) {
        return Err(ServiceError::denied("shop", object));
    }
    Ok(com)
}

fn item_fields(input: &ItemInput) -> Result<ItemFields> {
    let f = ItemFields { name: input.name.clone(), price: input.price, monthly_limit: input.monthly_limit };
    shop::check_item(&f)?;
    if input.description.as_deref().is_some_and(|d| d.chars().count() > 500) {
        return Err(ServiceError::invalid("description", "说明不超过 500 字", "at most 500 characters"));
    }
    Ok(f)
}

/// The outbox payload of `redemption.ready`: the id, nothing personal.
pub(crate) fn ready(id: i64) -> String {
    json!({ "redemption": id }).to_string()
}

pub(crate) fn redeemed(client_id: &str, applied: Applied, r: Option<Redemption>) -> Redeemed {
    let failed = |why: Failure, replayed: bool| {
        let (field, msg) = why.explain();
        let field = if matches!(why, Failure::Points(_)) { "resident_id".to_owned() } else { field };
        Redeemed {
            client_id: client_id.to_owned(),
            status: "failed".into(),
            replayed,
            redemption: None,
            reason: Some(why.code().to_owned()),
            field: Some(field),
            message: Some(msg.zh),
            message_en: Some(msg.en),
        }
    };
    match applied {
        Applied::Failed(why) => failed(why, false),
        Applied::Replayed(q, _) if q.outcome != "done" => failed(Failure::of(&q), true),
        Applied::Done(_) | Applied::Replayed(..) => Redeemed {
            client_id: client_id.to_owned(),
            status: "done".into(),
            replayed: matches!(applied, Applied::Replayed(..)),
            redemption: r.as_ref().map(redemption_view),
            reason: None,
            field: None,
            message: None,
            message_en: None,
        },
    }
}

pub(crate) fn item_view(i: &Item, community: &str) -> ItemView {
    ItemView {
        id: i.id,
        community: community.to_owned(),
        name: i.name.clone(),
        description: i.description.clone(),
        price: i.price,
        stock: i.stock,
        monthly_limit: i.monthly_limit,
        active: i.active,
        has_photo: i.photo_file.is_some(),
    }
}

pub(crate) fn redemption_view(r: &Redemption) -> RedemptionView {
    let s = r.status;
    RedemptionView {
        id: r.id,
        client_id: r.client_id.clone(),
        item_id: r.item_id,
        item_name: r.item_name.clone(),
        resident_id: r.resident_id,
        resident_name: r.resident_name.clone(),
        quantity: r.quantity,
        points: r.points,
        pickup_code: r.pickup_code.clone(),
        status: r.status,
        status_name: s.name_zh().to_owned(),
        created_at: rfc3339(r.created_at),
        closed_at: r.closed_at.map(rfc3339),
        closed_by: r.closed_by.clone(),
        cancel_reason: r.cancel_reason.clone(),
    }
}

/// Cancels a waiting redemption in the caller's transaction: the stock and
/// the points go back. The points refunded, or None when it was no longer
/// waiting.
pub(crate) async fn cancel_waiting(
    tx: &mut Tx,
    caller: &Caller,
    r: &Redemption,
    reason: &str,
    now: i64,
) -> Result<Option<i64>> {
    let id = r.id;
    if !store::close(tx, id, RedemptionStatus::Cancelled, &caller.display_name, now, Some(reason)).await? {
        return Ok(None);
    }
    store::move_stock(tx, r.item_id, r.quantity).await?;
    let change = NewStockChange {
        item_id: r.item_id,
        change: r.quantity,
        reason: "取消兑换",
        redemption_id: Some(id),
        by_name: &caller.display_name,
        at: now,
    };
    store::insert_stock_change(tx, &change).await?;
    let taken = ledger::transfers_of(tx, &r.client_id).await?;
    let Some(t) = taken.first() else {
        return Err(ServiceError::internal(format!("redemption {id} has no transfer")));
    };
    let refund_id = format!("cancel-redemption-{id}");
    let leg = Leg {
        debit: t.credit_id,
        credit: t.debit_id,
        amount: t.amount,
        kind: TransferKind::Refund,
        memo: reason.to_owned(),
    };
    let fp = rules::fingerprint(std::slice::from_ref(&leg));
    let req = Req { client_id: &refund_id, fp: &fp, community_id: r.community_id };
    // the shop's account may go below zero: a refund always goes
    if !matches!(crate::points::post(tx, caller, req, &[(leg, None)], now).await?, Applied::Done(_)) {
        return Err(ServiceError::internal(format!("the refund of redemption {id} did not go")));
    }
    Ok(Some(t.amount))
}
