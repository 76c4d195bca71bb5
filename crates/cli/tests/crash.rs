//! The server killed with SIGKILL at random moments under redemption load,
//! thirty times, restarted each time. Afterwards every redemption that was
//! answered with success is there (and answers the same when sent again),
//! the books balance, the stock is the sum of its changes, and SQLite's
//! `integrity_check` says ok. On PostgreSQL, in a database of its own, when
//! `YIJIA_TEST_DATABASE_URL` is set.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yijia_store::{Db, DbOptions};
use yijia_testkit::{Served, wait_ready};

const ROUNDS: usize = 30;
const CLIENTS: usize = 6;
const PASSWORD: &str = "chengnan-demo-2024";

/// Starts `yijia serve --demo` on a free port.
fn serve(dir: &std::path::Path, url: Option<&str>) -> Served {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yijia"));
    cmd.args(["serve", "--demo", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env_remove("YIJIA_MASTER_KEY")
        // the test seeds its residents with points by hand, far above the
        // second person's limit: redemptions are what it kills
        .env("YIJIA_POINTS_APPROVAL_LIMIT", "100000000")
        .stderr(Stdio::null());
    match url {
        Some(u) => cmd.env("YIJIA_DATABASE_URL", u),
        None => cmd.env_remove("YIJIA_DATABASE_URL"),
    };
    Served::start(cmd)
}

async fn login(c: &reqwest::Client, base: &str, user: &str) -> String {
    yijia_testkit::login(c, base, user, PASSWORD).await
}

async fn call(c: &reqwest::Client, base: &str, token: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let method = if body.is_some() { Method::POST } else { Method::GET };
    yijia_testkit::call(c, method, &format!("{base}{path}"), token, body.as_ref()).await
}

/// What a client heard of each redemption it sent.
#[derive(Debug, Clone, PartialEq)]
enum Heard {
    /// Redeemed: the redemption's id.
    Done(i64),
    /// Refused (not enough points or stock): nothing moved.
    Refused,
    /// No answer: the server died first.
    Nothing,
}

/// A database of its own on PostgreSQL, made fresh.
async fn postgres_db() -> Option<String> {
    let base = std::env::var(yijia_store::testing::ENV).ok()?;
    let name = format!("yijia_crash_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&base).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
    let (head, _) = base.rsplit_once('/').unwrap();
    Some(format!("{head}/{name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redemptions_answered_survive_thirty_kills() {
    let d = tempfile::tempdir().unwrap();
    let pg = postgres_db().await;
    yijia_service::webhooks::install_tls();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut server = serve(d.path(), pg.as_deref());
    let mut base = server.url.clone();
    wait_ready(&client, &base).await;

    // the shop: rice in stock, five residents with points
    let staff = login(&client, &base, "staff").await;
    let clerk = login(&client, &base, "clerk").await;
    let (_, accounts) = call(&client, &base, &staff, "/api/v1/points/accounts", None).await;
    let pool = accounts.as_array().unwrap().iter().find(|a| a["kind"] == "pool").unwrap()["id"].as_i64().unwrap();
    let (_, people) = call(&client, &base, &staff, "/api/v1/residents?per_page=5", None).await;
    let people: Vec<i64> = people["items"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
    assert_eq!(people.len(), 5, "the demo has residents");
    for (k, p) in people.iter().enumerate() {
        let (_, a) = call(&client, &base, &staff, &format!("/api/v1/residents/{p}/points"), None).await;
        // the last one can pay for few: refusals happen too
        let points = if k == 4 { 300 } else { 1_000_000 };
        let award = json!({"client_id": format!("seed-{p}"), "transfers": [{"from": pool, "to": a["id"], "amount": points, "memo": "志愿服务"}]});
        let (st, v) = call(&client, &base, &staff, "/api/v1/points/transfers", Some(award)).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let (st, item) =
        call(&client, &base, &clerk, "/api/v1/shop/items", Some(json!({"name": "大米 5kg(压测)", "price": 20}))).await;
    assert_eq!(st, StatusCode::CREATED, "{item}");
    let item = item["id"].as_i64().unwrap();
    let stock = json!({"change": 100_000, "reason": "到货"});
    assert_eq!(
        call(&client, &base, &clerk, &format!("/api/v1/shop/items/{item}/stock"), Some(stock)).await.0,
        StatusCode::OK
    );

    let heard: Arc<Mutex<HashMap<String, (Value, Heard)>>> = Arc::default();
    let mut done = 0;
    // sessions live in the database: the token outlives the restarts
    for round in 0..ROUNDS {
        let mut tasks = Vec::new();
        for k in 0..CLIENTS {
            let (c, base, clerk, heard, people) =
                (client.clone(), base.clone(), clerk.clone(), heard.clone(), people.clone());
            tasks.push(tokio::spawn(async move {
                for n in 0.. {
                    let id = format!("r{round}-{k}-{n}");
                    let body = json!({"client_id": id, "resident_id": people[(k + n) % 5], "item_id": item});
                    let r =
                        c.post(format!("{base}/api/v1/shop/redemptions")).bearer_auth(&clerk).json(&body).send().await;
                    let h = match r {
                        Ok(r) if r.status() == StatusCode::CREATED => {
                            let v: Value = r.json().await.unwrap_or(Value::Null);
                            match v["redemption"]["id"].as_i64() {
                                Some(rid) => Heard::Done(rid),
                                None => Heard::Nothing,
                            }
                        }
                        Ok(r) if r.status() == StatusCode::UNPROCESSABLE_ENTITY => Heard::Refused,
                        Ok(r) => panic!("unexpected {}", r.status()),
                        Err(_) => Heard::Nothing,
                    };
                    let stop = h == Heard::Nothing;
                    heard.lock().unwrap().insert(id, (body, h));
                    if stop {
                        return;
                    }
                }
            }));
        }
        // a random moment: anywhere from before the first commit to well into the load
        let wait =
            20 + (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() % 400);
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        server.stop();
        for t in tasks {
            t.await.unwrap();
        }
        done = heard.lock().unwrap().values().filter(|(_, h)| matches!(h, Heard::Done(_))).count();
        server = serve(d.path(), pg.as_deref());
        base = server.url.clone();
        wait_ready(&client, &base).await;
    }
    assert!(done > ROUNDS, "the load got through between kills: {done} redeemed");

    // sent again, each answers as it did (and those that heard nothing get an answer)
    let heard = heard.lock().unwrap().clone();
    let mut redeemed: HashMap<String, i64> = HashMap::new();
    for (id, (body, h)) in &heard {
        let (st, v) = call(&client, &base, &clerk, "/api/v1/shop/redemptions", Some(body.clone())).await;
        match h {
            Heard::Done(rid) => {
                assert_eq!((st, v["redemption"]["id"].as_i64()), (StatusCode::OK, Some(*rid)), "{id} kept: {v}");
                redeemed.insert(id.clone(), *rid);
            }
            Heard::Refused => assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{id} stays refused: {v}"),
            Heard::Nothing => {
                assert!(
                    st == StatusCode::OK || st == StatusCode::CREATED || st == StatusCode::UNPROCESSABLE_ENTITY,
                    "{v}"
                );
                if let Some(rid) = v["redemption"]["id"].as_i64() {
                    redeemed.insert(id.clone(), rid);
                }
            }
        }
    }
    server.stop();

    // the database, read directly
    let url = pg.clone().unwrap_or_else(|| format!("sqlite://{}", d.path().join("yijia.db").display()));
    let db = Db::connect(&url, &DbOptions { max_connections: 1, pg_schema: None }).await.unwrap();
    let mut tx = db.read().await.unwrap();
    for (id, rid) in &redeemed {
        let r = yijia_store::shop::redemption_of_request(&mut tx, id).await.unwrap();
        assert_eq!(r.map(|r| r.id), Some(*rid), "{id} is there");
    }
    assert_eq!(yijia_store::points::verify(&mut tx).await.unwrap(), (vec![], 0), "the books balance");
    let it = yijia_store::shop::item(&mut tx, item).await.unwrap().unwrap();
    assert_eq!(yijia_store::shop::stock_from_changes(&mut tx, item).await.unwrap(), it.stock, "stock = its changes");
    let waiting = yijia_store::shop::in_status(
        &mut tx,
        it.community_id,
        yijia_domain::shop::RedemptionStatus::Waiting,
        1_000_000,
    )
    .await
    .unwrap();
    let taken: i64 = waiting.iter().filter(|r| r.item_id == item).map(|r| r.quantity).sum();
    assert_eq!(it.stock, 100_000 - taken, "every bag taken is a redemption");
    tx.commit().await.unwrap();
    if let Db::Sqlite(p) = &db {
        let ok: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(p).await.unwrap();
        assert_eq!(ok, "ok");
    }
    db.close().await;
    if let (Some(base), Some(url)) = (std::env::var(yijia_store::testing::ENV).ok(), pg) {
        let admin = sqlx::PgPool::connect(&base).await.unwrap();
        let name = url.rsplit_once('/').unwrap().1.to_owned();
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}"))).execute(&admin).await.unwrap();
    }
}
