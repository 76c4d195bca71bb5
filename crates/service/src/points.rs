//! The points ledger: transfers by hand (awards and adjustments), their
//! reversal, accounts and monthly statements. Every request carries an id
//! the client chose: sent again, it answers what it answered the first time
//! (done, or failed for lack of points); sent with other contents, it is
//! refused. The shop and activities post through the same `post`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::points::{self as rules, AccountKind, ApprovalStatus, Leg, TransferKind};
use yijia_domain::proxy::Act;
use yijia_domain::role::Role;
use yijia_domain::time::{rfc3339, to_local};
use yijia_domain::{Invalid, Msg};
use yijia_store::points::{self as store, Account, NewTransfer, Request, Transfer};
use yijia_store::{Tx, org};

use crate::approvals::{Asked, AwaitingKind, tell_deciders};
use crate::audit::{Event, record};
use crate::roles::{POINT_KEEPERS, POINT_READERS};
use crate::{Caller, Result, ServiceError, Services};

/// One transfer asked for: `amount` points from account `from` to `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LegInput {
    pub from: i64,
    pub to: i64,
    pub amount: i64,
    /// `award` (the default) or `adjust`.
    #[serde(default)]
    pub kind: Option<String>,
    pub memo: String,
}

/// Transfers that happen together or not at all.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TransferInput {
    /// Chosen by the client: the same id sent again moves nothing twice.
    pub client_id: String,
    pub transfers: Vec<LegInput>,
}

/// A correction: the transfer undone, with why.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ReverseInput {
    pub client_id: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TransferView {
    pub id: i64,
    pub client_id: String,
    pub from: i64,
    pub to: i64,
    pub amount: i64,
    pub kind: TransferKind,
    pub kind_name: String,
    pub memo: String,
    /// The transfer this one undoes.
    pub reverses: Option<i64>,
    pub by: String,
    /// RFC 3339, Asia/Shanghai.
    pub at: String,
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Posted {
    pub client_id: String,
    /// `done`, `failed` (for lack of points; it stays failed), `pending`
    /// (a transfer above the limit waiting for a second person) or `rejected`.
    pub status: String,
    /// True when this id was sent before and this is that answer again.
    pub replayed: bool,
    pub transfers: Vec<TransferView>,
    /// For a failed request: which transfer fell short, and why.
    pub field: Option<String>,
    pub message: Option<String>,
    pub message_en: Option<String>,
}

impl Posted {
    pub fn done(&self) -> bool {
        self.status == "done"
    }
}

/// A transfer above the limit waiting for (or decided by) a second person.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PointApproval {
    pub client_id: String,
    /// The transfers asked for, as sent.
    pub transfers: Vec<LegInput>,
    pub asked_by: String,
    pub asked_at: String,
    /// `pending`, `approved` or `rejected`.
    pub status: ApprovalStatus,
    pub decided_by: Option<String>,
    pub reason: Option<String>,
}

/// Why an adjustment was rejected.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RejectInput {
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: i64,
    pub kind: AccountKind,
    pub kind_name: String,
    pub community: String,
    pub resident_id: Option<i64>,
    pub balance: i64,
}

/// One line of a statement: the transfer, what it did to this account, and
/// the balance after it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StatementLine {
    #[serde(flatten)]
    pub transfer: TransferView,
    /// Positive when points came in.
    pub change: i64,
    pub balance: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Statement {
    pub account: AccountView,
    /// `2026-11`.
    pub month: String,
    pub opening: i64,
    pub closing: i64,
    pub points_in: i64,
    pub points_out: i64,
    pub lines: Vec<StatementLine>,
}

/// How a request went in its transaction.
pub(crate) enum Applied {
    Done(Vec<Transfer>),
    /// Sent before: its first answer (and its transfers when it was done).
    Replayed(Request, Vec<Transfer>),
    /// Nothing happened, for this reason; `fail` keeps it so.
    Failed(Failure),
}

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Transfer `n` would take a resident below zero.
    Points(usize),
    /// Not enough in stock.
    Stock,
    /// Over the item's monthly limit for the person.
    Limit,
}

impl Failure {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Failure::Points(_) => "points",
            Failure::Stock => "stock",
            Failure::Limit => "limit",
        }
    }

    pub(crate) fn of(r: &Request) -> Self {
        match r.reason.as_deref() {
            Some("stock") => Failure::Stock,
            Some("limit") => Failure::Limit,
            _ => Failure::Points(r.failed_leg.unwrap_or(0).max(0) as usize),
        }
    }

    /// The field at fault, and why.
    pub(crate) fn explain(self) -> (String, Msg) {
        match self {
            Failure::Points(leg) => (
                format!("transfers[{leg}].amount"),
                Msg::new("积分不足,未转账", "not enough points: nothing was moved"),
            ),
            Failure::Stock => {
                ("quantity".into(), Msg::new("库存不足,未兑换", "not enough in stock: nothing was redeemed"))
            }
            Failure::Limit => {
                ("quantity".into(), Msg::new("超过本月每人限兑数量", "over this item's monthly limit per person"))
            }
        }
    }
}

/// A request: its client id, what it asks (as a fingerprint), its community.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Req<'a> {
    pub client_id: &'a str,
    pub fp: &'a str,
    pub community_id: i64,
}

impl Req<'_> {
    pub(crate) fn request(&self, outcome: &str, failed: Option<Failure>, caller: &Caller, now: i64) -> Request {
        Request {
            client_id: self.client_id.to_owned(),
            fingerprint: self.fp.to_owned(),
            outcome: outcome.to_owned(),
            reason: failed.map(|f| f.code().to_owned()),
            failed_leg: match failed {
                Some(Failure::Points(leg)) => Some(leg as i32),
                _ => None,
            },
            community_id: self.community_id,
            created_by: caller.user_id,
            created_at: now,
        }
    }
}

/// A month (`2026-11`; this month when none) and its first and last days.
pub(crate) fn month_range(month: Option<&str>, now: i64) -> Result<(String, String, String)> {
    let month = match month.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => m.to_owned(),
        None => rules::month_of(&today_str(now)).to_owned(),
    };
    let first = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map_err(|_| Invalid::new("month", "月份格式应为 2026-11", "a month is written 2026-11"))?;
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .ok_or_else(|| Invalid::new("month", "月份超出范围", "the month is out of range"))?;
    Ok((month, first.format("%Y-%m-%d").to_string(), last.format("%Y-%m-%d").to_string()))
}

/// What the caller moved by hand into or out of each of `accounts` today.
async fn moved_today(tx: &mut Tx, caller: &Caller, now: i64, accounts: &[i64]) -> Result<HashMap<i64, i64>> {
    let Some(user) = caller.user_id else { return Ok(HashMap::new()) };
    Ok(store::moved_by_hand(tx, user, &today_str(now), accounts).await?.into_iter().collect())
}

/// The day of `now` in Asia/Shanghai, `2026-11-30`.
pub(crate) fn today_str(now: i64) -> String {
    to_local(now).format("%Y-%m-%d").to_string()
}

/// A client id sent again with other contents (a transfer, a redemption).
pub(crate) fn reused() -> ServiceError {
    ServiceError::Conflict(Msg::new(
        "这个编号已用于另一笔内容不同的请求,请换一个编号",
        "this client id was used for a different request; choose another id",
    ))
}

/// Posts `legs` under `client_id` in the caller's transaction: the
/// answer given before when the id was used (refused when `fp`, what
/// was asked, differs), otherwise all the transfers or, when one would
/// take a resident below zero, none. The accounts must exist and be in
/// `community_id`; scope is the caller's business, and so is keeping a
/// failure (`fail`, in a transaction of its own).
pub(crate) async fn post(
    tx: &mut Tx,
    caller: &Caller,
    req: Req<'_>,
    legs: &[(Leg, Option<i64>)],
    now: i64,
) -> Result<Applied> {
    if let Some(r) = store::request(tx, req.client_id).await? {
        return replay(tx, r, req.fp).await;
    }
    let plain: Vec<Leg> = legs.iter().map(|(l, _)| l.clone()).collect();
    let mut ids: Vec<i64> = plain.iter().flat_map(|l| [l.debit, l.credit]).collect();
    ids.sort_unstable();
    ids.dedup();
    let accounts = store::lock_accounts(tx, &ids).await?;
    let balances: HashMap<i64, (AccountKind, i64)> = accounts.iter().map(|a| (a.id, (a.kind, a.balance))).collect();
    for (i, l) in plain.iter().enumerate() {
        for (side, id) in [("from", l.debit), ("to", l.credit)] {
            match accounts.iter().find(|a| a.id == id) {
                Some(a) if a.community_id == req.community_id => {}
                _ => {
                    return Err(ServiceError::invalid(
                        &format!("transfers[{i}].{side}"),
                        format!("本社区没有账户 {id}"),
                        format!("no account {id} in this community"),
                    ));
                }
            }
        }
    }
    if let Some(leg) = rules::shortfall(&balances, &plain) {
        return Ok(Applied::Failed(Failure::Points(leg)));
    }
    if !store::insert_request(tx, &req.request("done", None, caller, now)).await? {
        return race(tx, req.client_id, req.fp).await;
    }
    let mut net: HashMap<i64, i64> = HashMap::new();
    for l in &plain {
        *net.entry(l.debit).or_default() -= l.amount;
        *net.entry(l.credit).or_default() += l.amount;
    }
    let mut changes: Vec<(i64, i64)> = net.into_iter().filter(|(_, c)| *c != 0).collect();
    changes.sort_unstable();
    store::add_to_balances(tx, &changes).await?;
    let on = today_str(now);
    let rows: Vec<NewTransfer<'_>> = legs
        .iter()
        .enumerate()
        .map(|(i, (l, reverses))| NewTransfer {
            client_id: req.client_id,
            leg: i as i32,
            debit_id: l.debit,
            credit_id: l.credit,
            amount: l.amount,
            kind: l.kind,
            memo: l.memo.trim(),
            reverses_id: *reverses,
            created_by: caller.user_id,
            created_by_name: &caller.display_name,
            created_at: now,
            created_on: &on,
        })
        .collect();
    store::insert_transfers(tx, &rows).await?;
    Ok(Applied::Done(store::transfers_of(tx, req.client_id).await?))
}

/// Keeps a request that failed as failed, in the caller's transaction;
/// answers what the id holds when another request took it first.
pub(crate) async fn keep_failed(tx: &mut Tx, caller: &Caller, req: Req<'_>, why: Failure, now: i64) -> Result<Applied> {
    let r = req.request("failed", Some(why), caller, now);
    if store::insert_request(tx, &r).await? { Ok(Applied::Failed(why)) } else { race(tx, req.client_id, req.fp).await }
}

impl Services {
    /// Keeps a request that failed as failed, in a transaction of its own
    /// (the one that found the failure is rolled back): the same id sent
    /// again answers the same. Answers what the id holds when another
    /// request took it first.
    pub(crate) async fn fail(&self, caller: &Caller, req: Req<'_>, why: Failure, now: i64) -> Result<Applied> {
        let mut tx = self.db.write().await?;
        let applied = keep_failed(&mut tx, caller, req, why, now).await?;
        tx.commit().await?;
        Ok(applied)
    }

    /// Transfers by hand: awards and adjustments, linked so that all
    /// happen or none does.
    pub async fn transfer(&self, caller: &Caller, input: TransferInput) -> Result<Posted> {
        if !caller.has_any(POINT_KEEPERS) {
            return Err(ServiceError::forbidden());
        }
        let client_id = input.client_id.trim().to_owned();
        rules::check_client_id(&client_id)?;
        let mut legs = Vec::with_capacity(input.transfers.len());
        for (i, t) in input.transfers.iter().enumerate() {
            let kind = match t.kind.as_deref().map(str::trim).unwrap_or("award") {
                "award" => TransferKind::Award,
                "adjust" => TransferKind::Adjust,
                other => {
                    return Err(ServiceError::invalid(
                        &format!("transfers[{i}].kind"),
                        format!("「{other}」不能手工转账:只能是 award(奖励)或 adjust(调整)"),
                        format!("'{other}' is not made by hand: use award or adjust"),
                    ));
                }
            };
            legs.push(Leg { debit: t.from, credit: t.to, amount: t.amount, kind, memo: t.memo.clone() });
        }
        rules::check_legs(&legs)?;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let com = self.ledger_community(&mut tx, caller, legs[0].debit, POINT_KEEPERS).await?;
            let mut ids: Vec<i64> = legs.iter().flat_map(|l| [l.debit, l.credit]).collect();
            ids.sort_unstable();
            ids.dedup();
            // locked first, so that two requests at once count each other
            let kinds: HashMap<i64, AccountKind> = store::lock_accounts(&mut tx, &ids)
                .await?
                .iter()
                .filter(|a| a.community_id == com.id)
                .map(|a| (a.id, a.kind))
                .collect();
            rules::check_by_hand(&kinds, &legs)?;
            let with: Vec<(Leg, Option<i64>)> = legs.iter().map(|l| (l.clone(), None)).collect();
            let fp = rules::fingerprint(&legs);
            match store::approval(&mut tx, &client_id).await? {
                Some(ap) if ap.fingerprint != fp => return Err(reused()),
                Some(ap) if ap.status != ApprovalStatus::Approved => {
                    tx.commit().await?;
                    return Ok(waiting(&ap, true));
                }
                Some(_) => {}
                None if store::request(&mut tx, &client_id).await?.is_none() && {
                    let earlier = moved_today(&mut tx, caller, now, &ids).await?;
                    rules::needs_approval(&kinds, &legs, &earlier, self.settings.points_approval_limit)
                } =>
                {
                    let asked: Vec<serde_json::Value> = input
                        .transfers
                        .iter()
                        .map(|t| json!({ "from": t.from, "to": t.to, "amount": t.amount, "kind": t.kind, "memo": t.memo }))
                        .collect();
                    let ap = store::Approval {
                        client_id: client_id.clone(),
                        fingerprint: fp.clone(),
                        community_id: com.id,
                        legs: serde_json::Value::Array(asked).to_string(),
                        asked_by: caller.user_id,
                        asked_by_name: caller.display_name.clone(),
                        asked_at: now,
                        status: ApprovalStatus::Pending,
                        decided_by: None,
                        decided_at: None,
                        reason: None,
                    };
                    store::insert_approval(&mut tx, &ap).await?;
                    let asked = Asked {
                        kind: AwaitingKind::Points,
                        id: &client_id,
                        community_id: com.id,
                        community_path: &com.path,
                        asked_by: caller.user_id,
                    };
                    tell_deciders(&mut tx, now, &asked).await?;
                    let e = Event::ok("points_approval_ask", format!("points:{client_id}"), &com.path);
                    record(&mut tx, caller, now, &e.with(json!({ "transfers": ap.legs }))).await?;
                    tx.commit().await?;
                    return Ok(waiting(&ap, false));
                }
                None => {}
            }
            let req = Req { client_id: &client_id, fp: &fp, community_id: com.id };
            let applied = match post(&mut tx, caller, req, &with, now).await? {
                Applied::Failed(why) => {
                    tx.rollback().await?;
                    return Ok(posted(&client_id, self.fail(caller, req, why, now).await?));
                }
                applied => applied,
            };
            if let Applied::Done(ts) = &applied {
                let detail: Vec<_> = ts
                    .iter()
                    .map(|t| json!({ "id": t.id, "from": t.debit_id, "to": t.credit_id, "amount": t.amount, "kind": t.kind }))
                    .collect();
                let e = Event::ok("points_transfer", format!("points:{client_id}"), &com.path);
                record(&mut tx, caller, now, &e.with(json!({ "transfers": detail }))).await?;
            }
            tx.commit().await?;
            Ok(posted(&client_id, applied))
        })
        .await
    }

    /// Undoes a transfer by a new one the other way, with the reason; a
    /// transfer is undone at most once, and a reversal is not undone (make
    /// a new transfer instead).
    pub async fn reverse(&self, caller: &Caller, transfer_id: i64, input: ReverseInput) -> Result<Posted> {
        if !caller.has_any(POINT_KEEPERS) {
            return Err(ServiceError::forbidden());
        }
        let client_id = input.client_id.trim().to_owned();
        rules::check_client_id(&client_id)?;
        let reason = input.reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(ServiceError::invalid(
                "reason",
                "请写明冲正原因(200 字以内)",
                "give the reason (at most 200 characters)",
            ));
        }
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let Some(t) = store::transfer(&mut tx, transfer_id).await? else {
                return Err(ServiceError::NotFound);
            };
            let com = self.ledger_community(&mut tx, caller, t.debit_id, POINT_KEEPERS).await?;
            if matches!(t.kind, TransferKind::Redeem | TransferKind::Refund) {
                return Err(ServiceError::invalid(
                    "transfer",
                    "兑换由超市取消兑换退回,不能冲正",
                    "a redemption is undone by cancelling it in the shop, not by a reversal",
                ));
            }
            let leg = Leg {
                debit: t.credit_id,
                credit: t.debit_id,
                amount: t.amount,
                kind: TransferKind::Reversal,
                memo: reason,
            };
            // a reversal moves points like any transfer by hand: above the
            // limit it takes an adjustment, which a second person approves
            if store::request(&mut tx, &client_id).await?.is_none() {
                let ids = [leg.debit.min(leg.credit), leg.debit.max(leg.credit)];
                let kinds: HashMap<i64, AccountKind> =
                    store::lock_accounts(&mut tx, &ids).await?.iter().map(|a| (a.id, a.kind)).collect();
                let earlier = moved_today(&mut tx, caller, now, &ids).await?;
                if rules::needs_approval(
                    &kinds,
                    std::slice::from_ref(&leg),
                    &earlier,
                    self.settings.points_approval_limit,
                ) {
                    return Err(ServiceError::conflict(
                        "冲正超过限额:请改做一笔调整,由另一人审批",
                        "the reversal is above the limit: make an adjustment instead, which a second person approves",
                    ));
                }
            }
            // the same id again answers as before, even once reversed
            if store::request(&mut tx, &client_id).await?.is_none() {
                if t.kind == TransferKind::Reversal {
                    return Err(ServiceError::invalid(
                        "transfer",
                        "冲正不能再冲正;如有错误请另做一笔转账",
                        "a reversal is not reversed; make a new transfer instead",
                    ));
                }
                if let Some(r) = store::reversal_of(&mut tx, transfer_id).await? {
                    return Err(ServiceError::Conflict(Msg::new(
                        format!("这笔转账已于 {} 冲正", rfc3339(r.created_at)),
                        format!("this transfer was reversed at {}", rfc3339(r.created_at)),
                    )));
                }
            }
            let fp = rules::fingerprint(std::slice::from_ref(&leg));
            let req = Req { client_id: &client_id, fp: &fp, community_id: com.id };
            let applied = match post(&mut tx, caller, req, &[(leg, Some(transfer_id))], now).await? {
                Applied::Failed(why) => {
                    tx.rollback().await?;
                    return Ok(posted(&client_id, self.fail(caller, req, why, now).await?));
                }
                applied => applied,
            };
            if let Applied::Done(ts) = &applied {
                let e = Event::ok("points_reverse", format!("points:{client_id}"), &com.path);
                let ids: Vec<i64> = ts.iter().map(|t| t.id).collect();
                record(&mut tx, caller, now, &e.with(json!({ "reverses": transfer_id, "transfers": ids }))).await?;
            }
            tx.commit().await?;
            Ok(posted(&client_id, applied))
        })
        .await
    }

    /// Transfers waiting for a second person, oldest first.
    pub async fn pending_approvals(&self, caller: &Caller, community: Option<&str>) -> Result<Vec<PointApproval>> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let com = self.caller_community(&mut tx, caller, POINT_KEEPERS, community).await?;
            let rows = store::pending_approvals(&mut tx, com.id).await?;
            tx.commit().await?;
            rows.iter().map(approval_view).collect()
        })
        .await
    }

    /// A second person approves an adjustment: it goes through the ledger
    /// under its client id (and may still fail for lack of points), or is
    /// rejected with a reason. The one who asked does neither.
    pub async fn decide_approval(
        &self,
        caller: &Caller,
        client_id: &str,
        approve: bool,
        reason: Option<&str>,
    ) -> Result<Posted> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if (!approve && reason.is_none()) || reason.is_some_and(|r| r.chars().count() > 200) {
            return Err(ServiceError::invalid(
                "reason",
                "请写明驳回原因(200 字以内)",
                "give the reason (at most 200 characters)",
            ));
        }
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let Some(ap) = store::approval(&mut tx, client_id).await? else { return Err(ServiceError::NotFound) };
            let com = org::by_id(&mut tx, ap.community_id).await?;
            if !caller.covers(POINT_KEEPERS, &com.path) {
                return Err(ServiceError::denied("points_approval", format!("points:{client_id}")));
            }
            if caller.user_id.is_none() || caller.user_id == ap.asked_by {
                return Err(ServiceError::Conflict(Msg::new(
                    "须由提出调整者以外的另一人审批",
                    "someone other than the one who asked approves it",
                )));
            }
            let status = if approve { ApprovalStatus::Approved } else { ApprovalStatus::Rejected };
            if !store::decide(&mut tx, client_id, status, &caller.display_name, now, reason).await? {
                return Err(ServiceError::Conflict(Msg::new("这笔调整已审批", "this adjustment was decided already")));
            }
            let e = Event::ok("points_approval", format!("points:{client_id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "decision": status, "reason": reason }))).await?;
            if !approve {
                let ap = store::approval(&mut tx, client_id).await?.ok_or(ServiceError::NotFound)?;
                tx.commit().await?;
                return Ok(waiting(&ap, false));
            }
            let asked: Vec<LegInput> = serde_json::from_str(&ap.legs)?;
            let legs: Vec<(Leg, Option<i64>)> = asked
                .into_iter()
                .map(|t| {
                    let kind =
                        if t.kind.as_deref() == Some("adjust") { TransferKind::Adjust } else { TransferKind::Award };
                    (Leg { debit: t.from, credit: t.to, amount: t.amount, kind, memo: t.memo }, None)
                })
                .collect();
            let req = Req { client_id, fp: &ap.fingerprint, community_id: com.id };
            let applied = match post(&mut tx, caller, req, &legs, now).await? {
                Applied::Failed(why) => keep_failed(&mut tx, caller, req, why, now).await?,
                applied => applied,
            };
            tx.commit().await?;
            Ok(posted(client_id, applied))
        })
        .await
    }

    /// The community of an account, once the caller is found to work there.
    async fn ledger_community(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        account_id: i64,
        roles: &[Role],
    ) -> Result<org::OrgNode> {
        let Some(a) = store::account(tx, account_id).await? else {
            return Err(ServiceError::invalid(
                "transfers[0].from",
                format!("没有账户 {account_id}"),
                format!("no account {account_id}"),
            ));
        };
        let com = org::by_id(tx, a.community_id).await?;
        if !caller.covers(roles, &com.path) {
            return Err(ServiceError::denied("points", format!("account:{account_id}")));
        }
        Ok(com)
    }

    /// The community's own accounts (pool, shop, adjustments), made when
    /// missing.
    pub async fn community_accounts(&self, caller: &Caller, community: Option<&str>) -> Result<Vec<AccountView>> {
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let com = self.caller_community(&mut tx, caller, POINT_READERS, community).await?;
            let mut out = Vec::new();
            for kind in [AccountKind::Pool, AccountKind::Shop, AccountKind::Adjustment] {
                let a = store::ensure_account(&mut tx, com.id, kind.code(), None, self.now()).await?;
                out.push(account_view(&a, &com.code));
            }
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    /// A resident's account, made when missing.
    pub async fn resident_account(&self, caller: &Caller, resident_id: i64) -> Result<AccountView> {
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let Some(r) = yijia_store::residents::get(&mut tx, resident_id).await? else {
                return Err(ServiceError::NotFound);
            };
            if !caller.covers(POINT_READERS, &r.grid_path) {
                return Err(ServiceError::denied("points", format!("resident:{resident_id}")));
            }
            let grid = org::by_id(&mut tx, r.grid_id).await?;
            let com = org::by_id(&mut tx, grid.parent_id.ok_or(ServiceError::NotFound)?).await?;
            let a = store::ensure_account(&mut tx, com.id, AccountKind::Resident.code(), Some(resident_id), self.now())
                .await?;
            tx.commit().await?;
            Ok(account_view(&a, &com.code))
        })
        .await
    }

    /// An account's statement for a month (`2026-11`; this month when none).
    pub async fn statement(&self, caller: &Caller, account_id: i64, month: Option<&str>) -> Result<Statement> {
        let (month, from, to) = month_range(month, self.now())?;
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let Some(a) = store::account(&mut tx, account_id).await? else { return Err(ServiceError::NotFound) };
            let com = org::by_id(&mut tx, a.community_id).await?;
            if !caller.covers(POINT_READERS, &com.path) {
                return Err(ServiceError::denied("points_statement", format!("account:{account_id}")));
            }
            let st = statement_of(&mut tx, &a, &com.code, month.clone(), &from, &to).await?;
            tx.commit().await?;
            Ok(st)
        })
        .await
    }

    /// A resident's own account and its statement for a month.
    pub async fn my_statement(&self, caller: &Caller, month: Option<&str>) -> Result<Statement> {
        let now = self.now();
        let (month, from, to) = month_range(month, now)?;
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (r, com) = crate::invitations::own_record_as(&mut tx, caller, Act::Points).await?;
            let a = store::ensure_account(&mut tx, com.id, AccountKind::Resident.code(), Some(r.id), now).await?;
            let st = statement_of(&mut tx, &a, &com.code, month.clone(), &from, &to).await?;
            tx.commit().await?;
            Ok(st)
        })
        .await
    }
}

/// An account's entries between `from` and `to`, with the running balance.
pub(crate) async fn statement_of(
    tx: &mut Tx,
    a: &store::Account,
    community: &str,
    month: String,
    from: &str,
    to: &str,
) -> Result<Statement> {
    let opening = store::balance_before(tx, a.id, from).await?;
    let rows = store::statement(tx, a.id, from, to).await?;
    let mut balance = opening;
    let (mut points_in, mut points_out) = (0, 0);
    let lines = rows
        .iter()
        .map(|t| {
            let change = if t.credit_id == a.id { t.amount } else { -t.amount };
            balance += change;
            if change > 0 {
                points_in += change;
            } else {
                points_out -= change;
            }
            StatementLine { transfer: transfer_view(t), change, balance }
        })
        .collect();
    Ok(Statement {
        account: account_view(a, community),
        month,
        opening,
        closing: balance,
        points_in,
        points_out,
        lines,
    })
}

/// The answer to an id sent before: refused when its contents differ.
pub(crate) async fn replay(tx: &mut Tx, r: Request, fp: &str) -> Result<Applied> {
    if r.fingerprint != fp {
        return Err(reused());
    }
    let ts = store::transfers_of(tx, &r.client_id).await?;
    Ok(Applied::Replayed(r, ts))
}

/// Another request took the id between our look and our write (on
/// PostgreSQL the insert waited for it): answer as it did.
async fn race(tx: &mut Tx, client_id: &str, fp: &str) -> Result<Applied> {
    match store::request(tx, client_id).await? {
        Some(r) => replay(tx, r, fp).await,
        None => Err(ServiceError::internal("a point request vanished")),
    }
}

fn posted(client_id: &str, applied: Applied) -> Posted {
    let failed = |why: Failure, replayed: bool| {
        let (field, msg) = why.explain();
        Posted {
            client_id: client_id.to_owned(),
            status: "failed".into(),
            replayed,
            transfers: vec![],
            field: Some(field),
            message: Some(msg.zh),
            message_en: Some(msg.en),
        }
    };
    let done = |ts: &[Transfer], replayed: bool| Posted {
        client_id: client_id.to_owned(),
        status: "done".into(),
        replayed,
        transfers: ts.iter().map(transfer_view).collect(),
        field: None,
        message: None,
        message_en: None,
    };
    match applied {
        Applied::Done(ts) => done(&ts, false),
        Applied::Failed(why) => failed(why, false),
        Applied::Replayed(r, ts) if r.outcome == "done" => done(&ts, true),
        Applied::Replayed(r, _) => failed(Failure::of(&r), true),
    }
}

/// Unreadable stored legs are an error: an approver never sees "0 points".
fn approval_view(a: &store::Approval) -> Result<PointApproval> {
    Ok(PointApproval {
        client_id: a.client_id.clone(),
        transfers: serde_json::from_str(&a.legs)?,
        asked_by: a.asked_by_name.clone(),
        asked_at: rfc3339(a.asked_at),
        status: a.status,
        decided_by: a.decided_by.clone(),
        reason: a.reason.clone(),
    })
}

/// The answer to an adjustment put aside: waiting, or rejected.
fn waiting(a: &store::Approval, replayed: bool) -> Posted {
    let msg = if a.status == ApprovalStatus::Rejected {
        Msg::new(
            format!("这笔调整已被驳回:{}", a.reason.as_deref().unwrap_or("")),
            format!("this adjustment was rejected: {}", a.reason.as_deref().unwrap_or("")),
        )
    } else {
        Msg::new("调整超过限额,等待另一人审批", "above the limit: waiting for a second person's approval")
    };
    Posted {
        client_id: a.client_id.clone(),
        status: a.status.code().to_owned(),
        replayed,
        transfers: vec![],
        field: None,
        message: Some(msg.zh),
        message_en: Some(msg.en),
    }
}

pub(crate) fn transfer_view(t: &Transfer) -> TransferView {
    TransferView {
        id: t.id,
        client_id: t.client_id.clone(),
        from: t.debit_id,
        to: t.credit_id,
        amount: t.amount,
        kind: t.kind,
        kind_name: t.kind.name_zh().to_owned(),
        memo: t.memo.clone(),
        reverses: t.reverses_id,
        by: t.created_by_name.clone(),
        at: rfc3339(t.created_at),
    }
}

pub(crate) fn account_view(a: &Account, community: &str) -> AccountView {
    AccountView {
        id: a.id,
        kind: a.kind,
        kind_name: a.kind.name_zh().to_owned(),
        community: community.to_owned(),
        resident_id: a.resident_id,
        balance: a.balance,
    }
}
