//! Redemptions in the love-points shop through the API, against the same
//! statements raw in one transaction per redemption, in the same run:
//!
//! - at least 2,000 redemptions a second on SQLite;
//! - at least half the rate of the raw statements (on each backend).
//!
//! The API is driven by `CLIENTS` clients at once, each sending one
//! redemption after another (a counter at every community's shop). The raw
//! baseline runs what a redemption writes (its request, the stock, the two
//! balances, the transfer, the redemption with a free pickup code, the stock
//! change, the audit line) as plain statements, one transaction each: on
//! SQLite one after another on one connection (its fastest: SQLite has one
//! writer), on PostgreSQL from `CLIENTS` connections at once.
//!
//!     cargo bench -p yijia --bench points
//!
//! The demo community is made once into `YIJIA_BENCH_DIR`; with
//! `YIJIA_TEST_DATABASE_URL` set everything runs on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly

#[macro_use]
mod common;
use common::{Row, free_port, login, now_ms, wait_ready, yijia};

use std::process::Stdio;
use std::sync::Arc;
use std::time::Instant;

use rand::Rng;
use serde_json::{Value, json};
use yijia_store::{Db, DbOptions};

const CLIENTS: usize = 32;
const REDEMPTIONS: usize = 6000;
const PASSWORD: &str = "chengnan-demo-2024";

async fn call(c: &reqwest::Client, base: &str, token: &str, path: &str, body: Option<Value>) -> Value {
    let r = match body {
        Some(b) => c.post(format!("{base}{path}")).json(&b),
        None => c.get(format!("{base}{path}")),
    };
    let r = r.bearer_auth(token).send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

/// One redemption's statements, raw, in one transaction.
macro_rules! raw_redemption {
    ($pool:expr, $i:expr, $run:expr, $resident:expr, $account:expr, $shop:expr, $item:expr, $community:expr) => {{
        let client_id = format!("raw-{}-{}", $run, $i);
        let now = now_ms();
        let mut tx = $pool.begin().await.unwrap();
        let known: Option<String> = sqlx::query_scalar("SELECT outcome FROM point_requests WHERE client_id = $1")
            .bind(&client_id)
            .fetch_optional(&mut *tx)
            .await
            .unwrap();
        assert!(known.is_none());
        let n = sqlx::query("UPDATE shop_items SET stock = stock - 1 WHERE id = $1 AND stock >= 1")
            .bind($item)
            .execute(&mut *tx)
            .await
            .unwrap()
            .rows_affected();
        assert_eq!(n, 1);
        let n = sqlx::query("UPDATE point_accounts SET balance = balance - 1 WHERE id = $1 AND balance >= 1")
            .bind($account)
            .execute(&mut *tx)
            .await
            .unwrap()
            .rows_affected();
        assert_eq!(n, 1);
        sqlx::query("UPDATE point_accounts SET balance = balance + 1 WHERE id = $1")
            .bind($shop)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO point_requests (client_id, fingerprint, outcome, community_id, created_at) \
             VALUES ($1, 'raw', 'done', $2, $3)",
        )
        .bind(&client_id)
        .bind($community)
        .bind(now)
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO point_transfers (client_id, leg, debit_id, credit_id, amount, kind, memo, created_by_name, \
             created_at, created_on) VALUES ($1, 0, $2, $3, 1, 'redeem', '兑换', 'bench', $4, '2026-11-30')",
        )
        .bind(&client_id)
        .bind($account)
        .bind($shop)
        .bind(now)
        .execute(&mut *tx)
        .await
        .unwrap();
        let code = loop {
            let code = format!("{:06}", rand::rng().random_range(0..1_000_000));
            let taken: Option<i64> =
                sqlx::query_scalar("SELECT id FROM redemptions WHERE pickup_code = $1 AND status = 'waiting'")
                    .bind(&code)
                    .fetch_optional(&mut *tx)
                    .await
                    .unwrap();
            if taken.is_none() {
                break code;
            }
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO redemptions (client_id, item_id, resident_id, quantity, points, pickup_code, status, month, \
             created_at) VALUES ($1, $2, $3, 1, 1, $4, 'waiting', '2026-11', $5) RETURNING id",
        )
        .bind(&client_id)
        .bind($item)
        .bind($resident)
        .bind(&code)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO stock_changes (item_id, change, reason, redemption_id, by_name, at) \
             VALUES ($1, -1, '兑换', $2, 'bench', $3)",
        )
        .bind($item)
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .unwrap();
        let object = format!("redemption:{id}");
        raw_audit_line!(tx, "shop_redeem", object.as_str(), now);
        tx.commit().await.unwrap();
    }};
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (dir, url) = common::bench_place("bench-points", "yijia_points").await;
        let backend = if url.is_some() { "PostgreSQL" } else { "SQLite" };
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let mut server = yijia(&dir, url.as_deref())
            .args(["serve", "--demo", "--addr", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        yijia_service::webhooks::install_tls();
        let client = reqwest::Client::new();
        wait_ready(&client, &base).await;
        let staff = login(&client, &base, "staff", PASSWORD).await;
        let clerk = login(&client, &base, "clerk", PASSWORD).await;

        // the shop: 50 residents with plenty of points, rice at one point a bag
        let accounts = call(&client, &base, &staff, "/api/v1/points/accounts", None).await;
        let of = |kind: &str| accounts.as_array().unwrap().iter().find(|a| a["kind"] == kind).unwrap()["id"].as_i64().unwrap();
        let (pool, shop) = (of("pool"), of("shop"));
        let people = call(&client, &base, &staff, "/api/v1/residents?per_page=50", None).await;
        let people: Vec<i64> = people["items"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
        let run = now_ms();
        let mut people_accounts = Vec::new();
        for p in &people {
            let a = call(&client, &base, &staff, &format!("/api/v1/residents/{p}/points"), None).await;
            let account = a["id"].as_i64().unwrap();
            people_accounts.push(account);
            if a["balance"].as_i64().unwrap() < 100_000 {
                let award = json!({"client_id": format!("bench-seed-{run}-{p}"), "transfers": [
                    {"from": pool, "to": account, "amount": 1_000_000, "memo": "bench"}]});
                call(&client, &base, &staff, "/api/v1/points/transfers", Some(award)).await;
            }
        }
        let items = call(&client, &base, &clerk, "/api/v1/shop/items", None).await;
        let item = match items.as_array().unwrap().iter().find(|i| i["name"] == "bench 大米") {
            Some(i) => i.clone(),
            None => call(&client, &base, &clerk, "/api/v1/shop/items", Some(json!({"name": "bench 大米", "price": 1}))).await,
        };
        let item_id = item["id"].as_i64().unwrap();
        if item["stock"].as_i64().unwrap() < 100_000 {
            let stock = json!({"change": 1_000_000, "reason": "bench"});
            call(&client, &base, &clerk, &format!("/api/v1/shop/items/{item_id}/stock"), Some(stock)).await;
        }

        // the API: CLIENTS counters at once
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..CLIENTS {
            let (c, base, clerk, next, people) = (client.clone(), base.clone(), clerk.clone(), next.clone(), people.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= REDEMPTIONS {
                        return;
                    }
                    let body = json!({"client_id": format!("bench-{run}-{i}"), "resident_id": people[i % people.len()], "item_id": item_id});
                    let r = c.post(format!("{base}/api/v1/shop/redemptions")).bearer_auth(&clerk).json(&body).send().await.unwrap();
                    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
                    let _ = r.bytes().await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let api_rate = REDEMPTIONS as f64 / start.elapsed().as_secs_f64();
        server.kill().unwrap();
        server.wait().unwrap();

        // the same statements raw, one transaction per redemption
        let db_url = url.clone().unwrap_or_else(|| format!("sqlite://{}", dir.join("yijia.db").display()));
        let db = Db::connect(&db_url, &DbOptions { max_connections: CLIENTS as u32, pg_schema: None }).await.unwrap();
        let community = scalar!(&db, i64, "SELECT community_id FROM shop_items WHERE id = $1", item_id);
        let start = Instant::now();
        match &db {
            Db::Sqlite(p) => {
                for i in 0..REDEMPTIONS {
                    let k = i % people.len();
                    raw_redemption!(p, i, run, people[k], people_accounts[k], shop, item_id, community);
                }
            }
            Db::Postgres(p) => {
                let mut tasks = Vec::new();
                for t in 0..CLIENTS {
                    let (p, people, accounts) = (p.clone(), people.clone(), people_accounts.clone());
                    tasks.push(tokio::spawn(async move {
                        for i in (t..REDEMPTIONS).step_by(CLIENTS) {
                            let k = i % people.len();
                            raw_redemption!(&p, i, run, people[k], accounts[k], shop, item_id, community);
                        }
                    }));
                }
                for t in tasks {
                    t.await.unwrap();
                }
            }
        }
        let raw_rate = REDEMPTIONS as f64 / start.elapsed().as_secs_f64();
        // what this run set aside is handed over, so that pickup codes stay free
        exec!(&db, "UPDATE redemptions SET status = 'handed_over' WHERE status = 'waiting'");
        db.close().await;

        let mut rows = vec![Row {
            what: format!("redemptions through the API, {CLIENTS} counters at once, {REDEMPTIONS} in all"),
            value: format!("{api_rate:.0} /s"),
            raw: format!("{raw_rate:.0} /s (the same statements, one transaction each)"),
            ratio: api_rate / raw_rate,
            target: "≥ raw / 2".into(),
            ok: api_rate >= raw_rate / 2.0,
        }];
        if url.is_none() {
            rows.push(Row {
                what: "redemptions through the API on SQLite".into(),
                value: format!("{api_rate:.0} /s"),
                raw: "-".into(),
                ratio: api_rate / 2000.0,
                target: "≥ 2,000 /s".into(),
                ok: api_rate >= 2000.0,
            });
        }
        common::report(&format!("{backend}, the demo community's shop"), &rows);
    });
}
