//! The points ledger against a model: random sequences of awards, spending,
//! linked transfers, redemptions and their cancelling, restocking,
//! reversals, replays and reused ids go through the real
//! service on a real database (SQLite, or PostgreSQL when
//! `YIJIA_TEST_DATABASE_URL` is set), and after every step the books are
//! checked against a plain map of balances: every balance equals the sum of
//! its transfers, all balances sum to zero, no resident and no stock is
//! below zero, the stock is the sum of its changes, and an id sent again
//! answers what it answered first.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use yijia_domain::points::AccountKind;
use yijia_service::keys::Keyring;
use yijia_service::points::{LegInput, Posted, ReverseInput, TransferInput};
use yijia_service::shop::{CancelInput, ItemInput, RedeemInput, Redeemed, StockInput};
use yijia_service::{Caller, ManualClock, ServiceError, Services, Settings};
use yijia_store::testing::TestDb;

#[derive(Debug, Clone)]
enum Op {
    /// From the pool to resident `r`.
    Award { r: usize, amount: i64 },
    /// From resident `r` to the adjustment account (spending by hand).
    Spend { r: usize, amount: i64 },
    /// Resident `a` pays `b` through two linked transfers: all or none.
    Linked { a: usize, b: usize, amount: i64 },
    /// Undo the `k`-th transfer made so far.
    Reverse { k: usize },
    /// Send the `k`-th request again, unchanged.
    Replay { k: usize },
    /// Send the `k`-th request's id with other contents.
    Reuse { k: usize },
    /// Resident `r` redeems `q` of the item.
    Redeem { r: usize, q: i64 },
    /// Cancel the `k`-th redemption made so far (refused once closed).
    Cancel { k: usize },
    /// Stock in.
    Restock { n: i64 },
}

const RESIDENTS: usize = 3;

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..RESIDENTS, 1..60i64).prop_map(|(r, amount)| Op::Award { r, amount }),
        3 => (0..RESIDENTS, 1..80i64).prop_map(|(r, amount)| Op::Spend { r, amount }),
        2 => (0..RESIDENTS, 0..RESIDENTS, 1..50i64).prop_map(|(a, b, amount)| Op::Linked { a, b, amount }),
        2 => (0..64usize).prop_map(|k| Op::Reverse { k }),
        2 => (0..64usize).prop_map(|k| Op::Replay { k }),
        1 => (0..64usize).prop_map(|k| Op::Reuse { k }),
        4 => (0..RESIDENTS, 1..4i64).prop_map(|(r, q)| Op::Redeem { r, q }),
        2 => (0..64usize).prop_map(|k| Op::Cancel { k }),
        1 => (1..10i64).prop_map(|n| Op::Restock { n }),
    ]
}

struct Books {
    svc: Services,
    caller: Caller,
    pool: i64,
    adjust: i64,
    shop: i64,
    residents: Vec<i64>,
    /// Their resident ids, for redemptions.
    people: Vec<i64>,
    item: i64,
}

const PRICE: i64 = 7;

/// What a request asked for, and how the service answered it first.
#[derive(Clone)]
enum Sent {
    Transfer(TransferInput, Posted),
    Reverse(i64, ReverseInput, Posted),
    Redeem(RedeemInput, Box<Redeemed>),
}

struct Model {
    balances: HashMap<i64, i64>,
    sent: Vec<Sent>,
    /// Transfers made, in order: (id, from, to, amount, reversed already).
    made: Vec<(i64, i64, i64, i64, bool)>,
    resident_ids: Vec<i64>,
    stock: i64,
    /// Redemptions made: (id, resident account, points, quantity, still waiting).
    redemptions: Vec<(i64, i64, i64, i64, bool)>,
}

impl Model {
    /// The transfers in order, all or none: none when one would take a
    /// resident below zero on the way.
    fn apply(&mut self, legs: &[(i64, i64, i64)]) -> bool {
        let mut after = self.balances.clone();
        for (from, to, amount) in legs {
            let b = after.entry(*from).or_default();
            *b -= amount;
            if *b < 0 && self.is_resident(*from) {
                return false;
            }
            *after.entry(*to).or_default() += amount;
        }
        self.balances = after;
        true
    }

    fn is_resident(&self, id: i64) -> bool {
        self.resident_ids.contains(&id)
    }
}

async fn stock(b: &Books) -> i64 {
    let items = b.svc.shop_items(&b.caller, Some("chengnan")).await.unwrap();
    let s = items.iter().find(|i| i.id == b.item).unwrap().stock;
    assert!(s >= 0);
    s
}

static CASE: AtomicUsize = AtomicUsize::new(0);

fn leg(from: i64, to: i64, amount: i64, memo: &str) -> LegInput {
    LegInput { from, to, amount, kind: None, memo: memo.into() }
}

async fn books() -> (TestDb, Books) {
    let t = TestDb::new().await;
    let svc = Services::new(
        t.db.clone(),
        Arc::new(ManualClock::new(1_764_460_800_000)),
        // the ledger is what is modelled here, not the second person's rule
        Settings { points_approval_limit: i64::MAX, ..Settings::default() },
        Arc::new(Keyring::generate()),
    );
    svc.fixtures().seed_demo().await.unwrap();
    svc.fixtures().seed_demo_residents(20).await.unwrap();
    // the secretary keeps the books (an admin sees no residents' points)
    let caller = svc.fixtures().demo_caller("secretary").await.unwrap();
    let accounts = svc.community_accounts(&caller, Some("chengnan")).await.unwrap();
    let pool = accounts.iter().find(|a| a.kind == AccountKind::Pool).unwrap().id;
    let adjust = accounts.iter().find(|a| a.kind == AccountKind::Adjustment).unwrap().id;
    let shop = accounts.iter().find(|a| a.kind == AccountKind::Shop).unwrap().id;
    let item = ItemInput { name: "肥皂".into(), description: None, price: PRICE, monthly_limit: None, active: None };
    let item = svc.add_item(&caller, Some("chengnan"), item).await.unwrap().id;
    svc.change_stock(&caller, item, StockInput { change: 20, reason: "到货".into() }).await.unwrap();
    let mut tx = t.db.read().await.unwrap();
    let filter =
        yijia_store::residents::Filter { paths: vec!["/root/zhengyang/chengnan/".into()], ..Default::default() };
    let (people, _) = yijia_store::residents::list(&mut tx, &filter, RESIDENTS as i64, 0).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(people.len(), RESIDENTS, "the demo has residents");
    let mut residents = Vec::new();
    for p in &people {
        residents.push(svc.resident_account(&caller, p.id).await.unwrap().id);
    }
    let people = people.iter().map(|p| p.id).collect();
    (t, Books { svc, caller, pool, adjust, shop, residents, people, item })
}

async fn run(b: &Books, ops: Vec<Op>) {
    let case = CASE.fetch_add(1, Ordering::Relaxed);
    let mut m = Model {
        balances: HashMap::new(),
        sent: vec![],
        made: vec![],
        resident_ids: b.residents.clone(),
        stock: stock(b).await,
        redemptions: vec![],
    };
    for id in [b.pool, b.adjust, b.shop].iter().chain(&b.residents) {
        let s = b.svc.statement(&b.caller, *id, None).await.unwrap();
        m.balances.insert(*id, s.account.balance);
    }
    for (step, op) in ops.into_iter().enumerate() {
        let id = format!("model-{case}-{step}");
        match op {
            Op::Award { r, amount } => {
                let input = TransferInput {
                    client_id: id,
                    transfers: vec![leg(b.pool, b.residents[r], amount, "志愿服务")],
                };
                let p = b.svc.transfer(&b.caller, input.clone()).await.unwrap();
                assert!(m.apply(&[(b.pool, b.residents[r], amount)]) && p.done(), "an award always goes: {p:?}");
                record(&mut m, &p);
                m.sent.push(Sent::Transfer(input, p));
            }
            Op::Spend { r, amount } => {
                let mut l = leg(b.residents[r], b.adjust, amount, "兑换");
                l.kind = Some("adjust".into());
                let input = TransferInput { client_id: id, transfers: vec![l] };
                let p = b.svc.transfer(&b.caller, input.clone()).await.unwrap();
                assert_eq!(p.done(), m.apply(&[(b.residents[r], b.adjust, amount)]), "{p:?}");
                if !p.done() {
                    assert_eq!(p.field.as_deref(), Some("transfers[0].amount"));
                }
                record(&mut m, &p);
                m.sent.push(Sent::Transfer(input, p));
            }
            Op::Linked { a, b: to, amount } => {
                let (ra, rb) = (b.residents[a], b.residents[to]);
                let mut out = leg(ra, b.adjust, amount, "转出");
                out.kind = Some("adjust".into());
                let mut back = leg(b.adjust, rb, amount, "转入");
                back.kind = Some("adjust".into());
                let input = TransferInput { client_id: id, transfers: vec![out, back] };
                let p = b.svc.transfer(&b.caller, input.clone()).await.unwrap();
                assert_eq!(p.done(), m.apply(&[(ra, b.adjust, amount), (b.adjust, rb, amount)]), "{p:?}");
                record(&mut m, &p);
                m.sent.push(Sent::Transfer(input, p));
            }
            Op::Reverse { k } => {
                if m.made.is_empty() {
                    continue;
                }
                let k = k % m.made.len();
                let (tid, from, to, amount, reversed) = m.made[k];
                let input = ReverseInput { client_id: id, reason: "录入错误".into() };
                match b.svc.reverse(&b.caller, tid, input.clone()).await {
                    Ok(p) => {
                        assert!(!reversed, "a transfer is reversed once");
                        assert_eq!(p.done(), m.apply(&[(to, from, amount)]), "{p:?}");
                        if p.done() {
                            m.made[k].4 = true;
                        }
                        record(&mut m, &p);
                        m.sent.push(Sent::Reverse(tid, input, p));
                    }
                    Err(ServiceError::Conflict(_)) => assert!(reversed, "refused only when reversed before"),
                    Err(ServiceError::Invalid(i)) => assert_eq!(i.field, "transfer", "a reversal is not reversed"),
                    Err(e) => panic!("{e}"),
                }
            }
            Op::Replay { k } => {
                if m.sent.is_empty() {
                    continue;
                }
                match m.sent[k % m.sent.len()].clone() {
                    Sent::Transfer(input, first) => {
                        let again = b.svc.transfer(&b.caller, input).await.unwrap();
                        assert!(again.replayed);
                        assert_eq!(Posted { replayed: false, ..again }, first, "a replay answers as the first time");
                    }
                    Sent::Reverse(tid, input, first) => {
                        let again = b.svc.reverse(&b.caller, tid, input).await.unwrap();
                        assert_eq!(Posted { replayed: false, ..again }, first, "a replay answers as the first time");
                    }
                    Sent::Redeem(input, first) => {
                        let again = b.svc.redeem(&b.caller, input).await.unwrap();
                        assert!(again.replayed);
                        assert_eq!((again.status, again.reason), (first.status, first.reason));
                        assert_eq!(again.redemption.map(|r| r.id), first.redemption.map(|r| r.id));
                    }
                }
            }
            Op::Reuse { k } => {
                if m.sent.is_empty() {
                    continue;
                }
                let e = match m.sent[k % m.sent.len()].clone() {
                    Sent::Transfer(mut input, _) => {
                        input.transfers[0].amount += 1;
                        b.svc.transfer(&b.caller, input).await.unwrap_err()
                    }
                    Sent::Redeem(mut input, _) => {
                        input.quantity = Some(input.quantity.unwrap_or(1) + 1);
                        b.svc.redeem(&b.caller, input).await.unwrap_err()
                    }
                    Sent::Reverse(..) => continue,
                };
                assert!(matches!(e, ServiceError::Conflict(_)), "{e}");
            }
            Op::Redeem { r, q } => {
                let input = RedeemInput { client_id: id, resident_id: b.people[r], item_id: b.item, quantity: Some(q) };
                let got = b.svc.redeem(&b.caller, input.clone()).await.unwrap();
                let (acct, points) = (b.residents[r], q * PRICE);
                let want = if m.stock < q {
                    Some("stock")
                } else if m.balances[&acct] < points {
                    Some("points")
                } else {
                    None
                };
                assert_eq!(got.reason.as_deref(), want, "{got:?}");
                if want.is_none() {
                    assert!(m.apply(&[(acct, b.shop, points)]));
                    m.stock -= q;
                    let red = got.redemption.clone().unwrap();
                    assert_eq!((red.points, red.quantity, red.pickup_code.len()), (points, q, 6));
                    m.redemptions.push((red.id, acct, points, q, true));
                }
                m.sent.push(Sent::Redeem(input, Box::new(got)));
            }
            Op::Cancel { k } => {
                if m.redemptions.is_empty() {
                    continue;
                }
                let k = k % m.redemptions.len();
                let (rid, acct, points, q, waiting) = m.redemptions[k];
                match b.svc.cancel_redemption(&b.caller, rid, CancelInput { reason: "不要了".into() }).await {
                    Ok(v) => {
                        assert!(waiting, "only a waiting one is cancelled");
                        assert_eq!(v.status, yijia_domain::shop::RedemptionStatus::Cancelled);
                        assert!(m.apply(&[(b.shop, acct, points)]));
                        m.stock += q;
                        m.redemptions[k].4 = false;
                    }
                    Err(ServiceError::Conflict(_)) => assert!(!waiting, "refused only once closed"),
                    Err(e) => panic!("{e}"),
                }
            }
            Op::Restock { n } => {
                b.svc.change_stock(&b.caller, b.item, StockInput { change: n, reason: "到货".into() }).await.unwrap();
                m.stock += n;
            }
        }
        check(b, &m).await;
    }
}

fn record(m: &mut Model, p: &Posted) {
    for t in &p.transfers {
        if t.reverses.is_none() {
            m.made.push((t.id, t.from, t.to, t.amount, false));
        }
    }
}

/// The books against the model, and against themselves.
async fn check(b: &Books, m: &Model) {
    for (id, want) in &m.balances {
        let s = b.svc.statement(&b.caller, *id, None).await.unwrap();
        assert_eq!(s.account.balance, *want, "account {id}");
        assert!(s.account.kind != AccountKind::Resident || s.account.balance >= 0);
    }
    assert_eq!(stock(b).await, m.stock, "the stock");
    let mut tx = b.svc.db.read().await.unwrap();
    let (wrong, total) = yijia_store::points::verify(&mut tx).await.unwrap();
    assert_eq!(yijia_store::shop::stock_from_changes(&mut tx, b.item).await.unwrap(), m.stock, "stock = its changes");
    tx.commit().await.unwrap();
    assert!(wrong.is_empty(), "balances that are not the sum of their transfers: {wrong:?}");
    assert_eq!(total, 0, "all balances sum to zero");
}

#[test]
fn the_ledger_agrees_with_its_model() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (_t, b) = rt.block_on(books());
    let cases = std::env::var("YIJIA_MODEL_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    runner
        .run(&proptest::collection::vec(op(), 1..40), |ops| {
            rt.block_on(run(&b, ops));
            Ok(())
        })
        .unwrap();
}
