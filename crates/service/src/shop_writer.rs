//! Redemptions on SQLite, several in one commit (`group_writer`): a group
//! is settled in order, in one transaction of a dozen statements whatever
//! their number:
//! each sees the stock, balances and monthly counts the ones before it left.
//! Should the group fail in the database, each goes again on its own.

use std::collections::{HashMap, HashSet};

use rand::Rng;
use serde_json::json;
use yijia_domain::Msg;
use yijia_domain::points::{AccountKind, TransferKind};
use yijia_domain::shop::{self as rules, RedemptionStatus};
use yijia_store::cases::NewOutbox;
use yijia_store::points::{self as ledger, NewTransfer, Request};
use yijia_store::shop::{self as store, Item, NewRedemption, NewStockChange, Redemption};
use yijia_store::{Db, org};

use crate::audit::{Event, record_many};
use crate::group_writer::Group;
use crate::points::{Applied, Failure, Req, reused, today_str};
use crate::shop::{Checked, Redeemed, may_redeem, month_now, redeem_one, redeemed, refusal, shortfall};
use crate::{Caller, Result, ServiceError, Services};

/// One redemption to settle, and who asked.
pub(crate) struct Job {
    caller: Caller,
    c: Checked,
}

/// Redemptions, settled a group per commit.
pub(crate) struct Redemptions;

impl Group for Redemptions {
    type Job = Job;
    type Answer = Result<Redeemed>;
    const WHAT: &'static str = "the shop's redemptions";

    async fn write(db: &Db, jobs: &[Job]) -> Vec<Result<Redeemed>> {
        match settle(db, jobs).await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %crate::error::Report(&e), redemptions = jobs.len(), "a group of redemptions goes one by one");
                let mut a = Vec::with_capacity(jobs.len());
                for j in jobs {
                    a.push(redeem_one(db, &j.caller, &j.c).await);
                }
                a
            }
        }
    }
}

/// What became of one redemption of the group.
enum Outcome {
    /// Answered already (refused at the door, denied, or sent before and failed).
    Answer(Box<Result<Redeemed>>),
    /// Sent before and done: its redemption is read back.
    Replay(Request),
    /// The same id as job `k` of this group.
    SameAs(usize),
    Failed(Failure),
    /// Redeemed: the index of its new row.
    Done(usize),
}

/// A new redemption of the group, before it has an id.
struct Planned {
    job: usize,
    item: i64,
    resident: i64,
    path: String,
    quantity: i64,
    points: i64,
    code: String,
    month: String,
}

fn refuse(e: ServiceError) -> Outcome {
    Outcome::Answer(Box::new(Err(e)))
}

async fn settle(db: &Db, jobs: &[Job]) -> Result<Vec<Result<Redeemed>>> {
    let mut tx = db.write().await?;
    let ids: Vec<&str> = jobs.iter().map(|j| j.c.client_id.as_str()).collect();
    let known: HashMap<String, Request> =
        ledger::requests(&mut tx, &ids).await?.into_iter().map(|r| (r.client_id.clone(), r)).collect();
    let mut item_ids: Vec<i64> = jobs.iter().map(|j| j.c.item_id).collect();
    item_ids.sort_unstable();
    item_ids.dedup();
    let items: HashMap<i64, Item> =
        store::items_by_ids(&mut tx, &item_ids).await?.into_iter().map(|i| (i.id, i)).collect();
    let mut communities: HashMap<i64, org::OrgNode> = HashMap::new();
    let mut community_ids: Vec<i64> = items.values().map(|i| i.community_id).collect();
    community_ids.sort_unstable();
    community_ids.dedup();
    for id in community_ids {
        communities.insert(id, org::by_id(&mut tx, id).await?);
    }
    let mut resident_ids: Vec<i64> = jobs.iter().map(|j| j.c.resident_id).collect();
    resident_ids.sort_unstable();
    resident_ids.dedup();
    let people: HashMap<i64, (String, String)> = yijia_store::residents::grid_paths(&mut tx, &resident_ids)
        .await?
        .into_iter()
        .map(|(id, path, name)| (id, (path, name)))
        .collect();
    // the people who may redeem here, each with their account
    let mut pairs: Vec<(i64, i64)> = jobs
        .iter()
        .filter_map(|j| {
            let com = communities.get(&items.get(&j.c.item_id)?.community_id)?;
            people.get(&j.c.resident_id).filter(|(p, _)| p.starts_with(&com.path)).map(|_| (j.c.resident_id, com.id))
        })
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let now = jobs.iter().map(|j| j.c.now).max().unwrap_or_default();
    let accounts: HashMap<i64, ledger::Account> = ledger::ensure_resident_accounts(&mut tx, &pairs, now)
        .await?
        .into_iter()
        .filter_map(|a| a.resident_id.map(|r| (r, a)))
        .collect();
    let mut shops: HashMap<i64, ledger::Account> = HashMap::new();
    for com in communities.keys() {
        shops.insert(*com, ledger::ensure_account(&mut tx, *com, AccountKind::Shop.code(), None, now).await?);
    }
    let mut taken: HashMap<(i64, i64, String), i64> = HashMap::new();
    let mut months: Vec<String> = jobs.iter().map(|j| month_now(j.c.now)).collect();
    months.sort();
    months.dedup();
    let limited: Vec<i64> = pairs.iter().map(|(r, _)| *r).collect();
    if items.values().any(|i| i.monthly_limit.is_some()) {
        for m in &months {
            for (r, i, q) in store::taken_many(&mut tx, &limited, m).await? {
                taken.insert((r, i, m.clone()), q);
            }
        }
    }
    let mut stock: HashMap<i64, i64> = items.values().map(|i| (i.id, i.stock)).collect();
    let mut balance: HashMap<i64, i64> = accounts.values().chain(shops.values()).map(|a| (a.id, a.balance)).collect();

    let mut outcomes: Vec<Outcome> = Vec::with_capacity(jobs.len());
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut planned: Vec<Planned> = Vec::new();
    let mut requests: Vec<Request> = Vec::new();
    for (n, j) in jobs.iter().enumerate() {
        let c = &j.c;
        if let Some(r) = known.get(&c.client_id) {
            outcomes.push(if r.fingerprint != c.fp {
                refuse(reused())
            } else if r.outcome == "done" {
                Outcome::Replay(r.clone())
            } else {
                Outcome::Answer(Box::new(Ok(redeemed(&c.client_id, Applied::Replayed(r.clone(), vec![]), None))))
            });
            continue;
        }
        if let Some(k) = seen.get(c.client_id.as_str()) {
            outcomes.push(Outcome::SameAs(*k));
            continue;
        }
        let Some(item) = items.get(&c.item_id) else {
            outcomes.push(refuse(ServiceError::invalid("item_id", "没有这件物品", "no such item")));
            continue;
        };
        let com = &communities[&item.community_id];
        if !may_redeem(&j.caller, &com.path, c.resident_id) {
            outcomes.push(refuse(ServiceError::denied("shop", format!("item:{}", item.id))));
            continue;
        }
        let path = people.get(&c.resident_id).map(|(p, _)| p);
        if let Some(e) = refusal(item, com, path.map(String::as_str)) {
            outcomes.push(refuse(e));
            continue;
        }
        let Some(path) = path else { continue };
        let month = month_now(c.now);
        let Some(account) = accounts.get(&c.resident_id).filter(|a| a.community_id == com.id) else {
            // an account kept from a community the resident has left
            outcomes.push(refuse(ServiceError::invalid(
                "resident_id",
                "这位居民的积分账户不在本社区",
                "the resident's points account is of another community",
            )));
            continue;
        };
        seen.insert(&c.client_id, n);
        let points = item.price * c.quantity;
        let had = taken.get(&(c.resident_id, item.id, month.clone())).copied().unwrap_or(0);
        let failed = shortfall(item, had, c.quantity, stock[&item.id], balance[&account.id]);
        let req = Req { client_id: &c.client_id, fp: &c.fp, community_id: com.id };
        let request = |outcome: &str, why: Option<Failure>| req.request(outcome, why, &j.caller, c.now);
        match failed {
            Some(why) => {
                requests.push(request("failed", Some(why)));
                outcomes.push(Outcome::Failed(why));
            }
            None => {
                taken.insert((c.resident_id, item.id, month.clone()), had + c.quantity);
                *stock.entry(item.id).or_default() -= c.quantity;
                *balance.entry(account.id).or_default() -= points;
                *balance.entry(shops[&com.id].id).or_default() += points;
                requests.push(request("done", None));
                outcomes.push(Outcome::Done(planned.len()));
                planned.push(Planned {
                    job: n,
                    item: item.id,
                    resident: c.resident_id,
                    path: path.clone(),
                    quantity: c.quantity,
                    points,
                    code: String::new(),
                    month,
                });
            }
        }
    }

    // pickup codes: none that a waiting redemption or another of the group has
    let mut used: HashSet<String> = HashSet::new();
    let mut todo: Vec<usize> = (0..planned.len()).collect();
    for _ in 0..20 {
        if todo.is_empty() {
            break;
        }
        for &p in &todo {
            let code = loop {
                let c = rules::pickup_code(rand::rng().random_range(0..1_000_000));
                if used.insert(c.clone()) {
                    break c;
                }
            };
            planned[p].code = code;
        }
        let codes: Vec<String> = todo.iter().map(|p| planned[*p].code.clone()).collect();
        let taken_codes: HashSet<String> = store::codes_waiting(&mut tx, &codes).await?.into_iter().collect();
        todo.retain(|p| taken_codes.contains(&planned[*p].code));
    }
    if !todo.is_empty() {
        return Err(ServiceError::internal("no free pickup codes in 20 draws"));
    }

    // the writes, a statement each for the whole group
    if ledger::insert_requests(&mut tx, &requests).await? != requests.len() as u64 {
        return Err(ServiceError::internal("a client id of the group was taken meanwhile"));
    }
    let mut net: HashMap<i64, i64> = HashMap::new();
    let mut stock_net: HashMap<i64, i64> = HashMap::new();
    let memos: Vec<String> = planned.iter().map(|p| format!("兑换 {} × {}", items[&p.item].name, p.quantity)).collect();
    let days: Vec<String> = planned.iter().map(|p| today_str(jobs[p.job].c.now)).collect();
    let mut transfers = Vec::with_capacity(planned.len());
    for (k, p) in planned.iter().enumerate() {
        let j = &jobs[p.job];
        let debit = accounts[&p.resident].id;
        let credit = shops[&items[&p.item].community_id].id;
        *net.entry(debit).or_default() -= p.points;
        *net.entry(credit).or_default() += p.points;
        *stock_net.entry(p.item).or_default() -= p.quantity;
        transfers.push(NewTransfer {
            client_id: &j.c.client_id,
            leg: 0,
            debit_id: debit,
            credit_id: credit,
            amount: p.points,
            kind: TransferKind::Redeem,
            memo: &memos[k],
            reverses_id: None,
            created_by: j.caller.user_id,
            created_by_name: &j.caller.display_name,
            created_at: j.c.now,
            created_on: &days[k],
        });
    }
    let mut changes: Vec<(i64, i64)> = net.into_iter().filter(|(_, c)| *c != 0).collect();
    changes.sort_unstable();
    ledger::add_to_balances(&mut tx, &changes).await?;
    let mut stock_changes: Vec<(i64, i64)> = stock_net.into_iter().collect();
    stock_changes.sort_unstable();
    store::move_stock_many(&mut tx, &stock_changes).await?;
    ledger::insert_transfers(&mut tx, &transfers).await?;
    let rows: Vec<NewRedemption<'_>> = planned
        .iter()
        .map(|p| {
            let j = &jobs[p.job];
            NewRedemption {
                client_id: &j.c.client_id,
                item_id: p.item,
                resident_id: p.resident,
                quantity: p.quantity,
                points: p.points,
                pickup_code: &p.code,
                month: &p.month,
                created_at: j.c.now,
                created_by: j.caller.user_id,
            }
        })
        .collect();
    let new_ids: HashMap<String, i64> = store::insert_redemptions(&mut tx, &rows).await?.into_iter().collect();
    let id_of = |p: &Planned| new_ids.get(&jobs[p.job].c.client_id).copied();
    let mut moves = Vec::with_capacity(planned.len());
    for p in &planned {
        let j = &jobs[p.job];
        moves.push(NewStockChange {
            item_id: p.item,
            change: -p.quantity,
            reason: "兑换",
            redemption_id: id_of(p),
            by_name: &j.caller.display_name,
            at: j.c.now,
        });
    }
    store::insert_stock_changes(&mut tx, &moves).await?;
    let events: Vec<(&Caller, i64, Event<'_>)> = planned
        .iter()
        .map(|p| {
            let j = &jobs[p.job];
            let detail = json!({ "item": p.item, "resident": p.resident, "quantity": p.quantity, "points": p.points });
            let object = format!("redemption:{}", id_of(p).unwrap_or_default());
            (&j.caller, j.c.now, Event::ok("shop_redeem", object, &p.path).with(detail))
        })
        .collect();
    if !events.is_empty() {
        record_many(&mut tx, &events).await?;
    }
    // the residents are told their items wait for them
    let told: Vec<(String, String, i64)> = planned
        .iter()
        .filter_map(|p| id_of(p).map(|id| (format!("redemption:{id}"), crate::shop::ready(id), jobs[p.job].c.now)))
        .collect();
    let outbox: Vec<NewOutbox<'_>> = planned
        .iter()
        .zip(&told)
        .map(|(p, (object, payload, at))| NewOutbox {
            at: *at,
            event: "redemption.ready",
            org_path: &p.path,
            object,
            payload,
        })
        .collect();
    yijia_store::cases::push_outbox_many(&mut tx, &outbox).await?;
    let mut replays: HashMap<String, Redemption> = HashMap::new();
    for o in &outcomes {
        if let Outcome::Replay(r) = o
            && let Some(red) = store::redemption_of_request(&mut tx, &r.client_id).await?
        {
            replays.insert(r.client_id.clone(), red);
        }
    }
    tx.commit().await?;

    let mut answers: Vec<Result<Redeemed>> = Vec::with_capacity(jobs.len());
    for (n, o) in outcomes.into_iter().enumerate() {
        let c = &jobs[n].c;
        let a = match o {
            Outcome::Answer(a) => *a,
            Outcome::Replay(r) => {
                let red = replays.get(&r.client_id).cloned();
                Ok(redeemed(&c.client_id, Applied::Replayed(r, vec![]), red))
            }
            Outcome::Failed(why) => Ok(redeemed(&c.client_id, Applied::Failed(why), None)),
            Outcome::Done(k) => {
                let p = &planned[k];
                let item = &items[&p.item];
                let red = Redemption {
                    id: id_of(p).unwrap_or_default(),
                    client_id: c.client_id.clone(),
                    item_id: p.item,
                    item_name: item.name.clone(),
                    community_id: item.community_id,
                    resident_id: p.resident,
                    resident_name: people.get(&p.resident).map(|(_, n)| n.clone()).unwrap_or_default(),
                    quantity: p.quantity,
                    points: p.points,
                    pickup_code: p.code.clone(),
                    status: RedemptionStatus::Waiting,
                    month: p.month.clone(),
                    created_at: c.now,
                    closed_at: None,
                    closed_by: None,
                    cancel_reason: None,
                };
                Ok(redeemed(&c.client_id, Applied::Done(vec![]), Some(red)))
            }
            Outcome::SameAs(k) => {
                let first = &jobs[k].c;
                if first.fp != c.fp {
                    Err(reused())
                } else {
                    match answers.get(k) {
                        Some(Ok(r)) => Ok(Redeemed { replayed: true, ..r.clone() }),
                        _ => Err(ServiceError::Conflict(Msg::new(
                            "同一编号的兑换同时发来两次,第一次未成功;请再发送一次",
                            "this id came twice at once and the first was refused; send it again",
                        ))),
                    }
                }
            }
        };
        answers.push(a);
    }
    Ok(answers)
}

impl Services {
    /// Hands a redemption to the writer and waits for its answer.
    pub(crate) async fn redeem_queued(&self, caller: &Caller, c: Checked) -> Result<Redeemed> {
        self.shop_writer.send(&self.db, Job { caller: caller.clone(), c }).await?
    }
}
