//! Telling a subdistrict at city scale (issue 23), each against a raw
//! baseline measured in the same run:
//!
//! - an emergency broadcast to the first subdistrict (80,000 residents of
//!   the 1.2-million city) fanned out into messages and deliveries: under
//!   5 s; raw: selecting the same residents and inserting as many delivery
//!   rows in plain multi-row statements, in one transaction;
//! - the dispatcher sending its SMS to a local Alibaba Cloud server that
//!   checks every signature: at least 1,000 a second; raw: as many signed
//!   requests through the provider client alone (no claim, no lease, no
//!   phone unsealed, no record), as many at once;
//! - the roll-call board of the subdistrict over HTTP: p99 under 50 ms;
//!   raw: the same counts as one statement.
//!
//!     cargo bench -p yijia --bench notify
//!
//! The city is made once into `YIJIA_BENCH_DIR` and reused; with
//! `YIJIA_TEST_DATABASE_URL` set everything runs on PostgreSQL.
//! `YIJIA_BENCH_RESIDENTS` and `YIJIA_BENCH_GRIDS` make a smaller city
//! (80,000 in 200 grids is the first subdistrict alone), `YIJIA_BENCH_SENDS`
//! times fewer or more messages sent (default 20,000).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly

use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt as _;
use yijia_domain::broadcast::{Area, Level};
use yijia_domain::notify::{Params, Topic};
use yijia_domain::registry::Category;
use yijia_domain::role::Role;
use yijia_service::broadcasts::BroadcastInput;
use yijia_service::fixtures::city;
use yijia_service::notify::{NotifySettings, send};
use yijia_service::users::{NewGrant, NewUser};
use yijia_service::{Caller, Services, Settings, SystemClock};
use yijia_store::Db;
use yijia_testkit::providers::{Provider, SmsServer};

#[macro_use]
mod common;
use common::{Row, env_or, login, now_ms, time_n};

/// As many at once as the dispatcher sends.
const IN_FLIGHT: usize = 32;

/// Selects the subdistrict's residents and writes one delivery row for each
/// with a phone, in one transaction, as plain statements; answers the rows.
macro_rules! raw_fan_out {
    ($pool:expr, $path:expr, $key:expr) => {{
        let mut tx = $pool.begin().await.unwrap();
        let upper = format!("{}\u{10FFFF}", $path);
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT r.id FROM residents r JOIN org_nodes o ON o.id = r.grid_id \
             WHERE o.path >= $1 AND o.path < $2 AND r.phone_sealed IS NOT NULL ORDER BY r.id",
        )
        .bind($path)
        .bind(&upper)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        for chunk in ids.chunks(400) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = i * 5;
                    format!(
                        "(${}, ${}, ${}, 'sms', 'emergency', '[]', TRUE, '/', ${}, ${}, ${}, 'queued')",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 5
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO deliveries (message_id, event_key, recipient, channel, topic, params, urgent, org_path, \
                 address_ref, next_at, created_at, state) VALUES {}",
                rows.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q
                    .bind(uuid::Uuid::now_v7().simple().to_string())
                    .bind($key)
                    .bind(format!("resident:{id}"))
                    .bind(format!("resident:{id}"))
                    .bind(now_ms());
            }
            q.execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
        ids.len()
    }};
}

async fn raw_fan_out(db: &Db, path: &str, key: &str) -> usize {
    match db {
        Db::Sqlite(p) => raw_fan_out!(p, path, key),
        Db::Postgres(p) => raw_fan_out!(p, path, key),
    }
}

/// A caller acting as `username`.
async fn caller(svc: &Services, username: &str) -> Caller {
    svc.fixtures().demo_caller(username).await.unwrap()
}

#[tokio::main]
async fn main() {
    yijia_service::webhooks::install_tls();
    let residents = env_or("YIJIA_BENCH_RESIDENTS", 1_200_000);
    let grids = env_or("YIJIA_BENCH_GRIDS", 3_000);
    let sends = env_or("YIJIA_BENCH_SENDS", 20_000);
    let (dir, url) = common::bench_place("bench-notify", &format!("yijia_notify_{residents}_{grids}")).await;
    let db = common::gen_city(&dir, url.as_deref(), residents, grids).await;
    let backend = if url.is_some() { "PostgreSQL" } else { "SQLite" };
    let sms = SmsServer::start(Provider::Aliyun).await;
    let notify = NotifySettings {
        public_url: "https://yijia.example.cn".into(),
        sms: Some(sms.settings()),
        ..NotifySettings::default()
    };
    let keys = Arc::new(yijia_service::keys::Keyring::load_or_create(&dir, None).unwrap());
    let svc = Services::new(db.clone(), Arc::new(SystemClock), Settings { notify, ..Settings::default() }, keys);
    // what an earlier run left queued is not this run's to send
    exec!(&db, "UPDATE deliveries SET state = 'failed' WHERE state IN ('queued', 'sending')");
    exec!(&db, "UPDATE broadcasts SET state = 'ended' WHERE state <> 'ended'");
    let street = city::street_code(0);
    let second = NewUser {
        username: "bench-officer2".into(),
        display_name: "街道测试二".into(),
        password: city::PASSWORD.into(),
        grants: vec![NewGrant { role: Role::StreetOfficer, scope: street.clone() }],
    };
    // there from an earlier run, or made now
    let _ = svc.add_user(&Caller::operator(), second).await;
    let (officer, officer2) = (caller(&svc, "bench-officer").await, caller(&svc, "bench-officer2").await);
    let path: String = scalar!(&db, String, "SELECT path FROM org_nodes WHERE code = $1", street.clone());
    let people: i64 = scalar!(
        &db,
        i64,
        "SELECT COUNT(*) FROM residents r JOIN org_nodes o ON o.id = r.grid_id WHERE o.path >= $1 AND o.path < $2",
        path.clone(),
        format!("{path}\u{10FFFF}")
    );

    // the broadcast, confirmed by the second officer: then it fans out
    let input = BroadcastInput {
        level: Level::One,
        reason: "寒潮停暖".into(),
        body: "今晚零下25度，供暖中断，抢修中。独居老人请保暖，有困难请拨打社区电话。".into(),
        area: Area::Subdistrict,
        building_id: None,
        estate_id: None,
        grids: vec![],
        org: Some(street.clone()),
        rollcall: vec![Category::ElderlyAlone, Category::Disabled, Category::Pregnant],
    };
    // raw first, into the table as yijia finds it, then taken out again
    let raw_key = format!("raw-fanout-{}", now_ms());
    let t = Instant::now();
    let raw_rows = raw_fan_out(&db, &path, &raw_key).await;
    let raw_fan = t.elapsed().as_secs_f64();
    exec!(&db, "DELETE FROM deliveries WHERE event_key = $1", raw_key.clone());
    let b = svc.send_broadcast(&officer, &input, false).await.unwrap();
    svc.confirm_broadcast(&officer2, b.id, false).await.unwrap();
    let t = Instant::now();
    let mut queued = 0;
    loop {
        let d = svc.fan_out().await.unwrap();
        queued += d.queued;
        if d.events == 0 {
            break;
        }
    }
    let fan_out = t.elapsed().as_secs_f64();
    eprintln!("{people} residents told: {queued} deliveries in {fan_out:.2} s (raw {raw_rows} rows in {raw_fan:.2} s)");

    // the dispatcher sends what the broadcast queued
    let t = Instant::now();
    let (mut sent, mut failed) = (0, 0);
    while sent < sends {
        let d = svc.send_due("bench").await.unwrap();
        if d.is_idle() {
            break;
        }
        sent += d.sent;
        failed += d.failed;
    }
    let send_s = t.elapsed().as_secs_f64();
    assert!(sms.refused().is_empty(), "every signature checked out: {:?}", &sms.refused()[..1]);
    let rate = sent as f64 / send_s;
    eprintln!("{sent} SMS sent ({failed} not mobile numbers) in {send_s:.1} s");
    // raw: as many through the provider client alone
    let sender = send::sms_sender(sms.settings());
    let params = Params::default()
        .with("level", "一级")
        .with("reason", "寒潮停暖")
        .with("link", format!("https://yijia.example.cn/broadcasts/{}", b.id));
    let ids: Vec<(String, String)> =
        (0..sent).map(|i| (uuid::Uuid::now_v7().simple().to_string(), format!("139{:08}", i))).collect();
    let t = Instant::now();
    futures_util::stream::iter(&ids)
        .map(|(id, to)| {
            let (sender, params) = (&sender, &params);
            async move {
                let m = send::Outgoing { message_id: id, to, topic: Topic::Emergency, params, secret: None };
                sender.send(&m).await.unwrap();
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<()>>()
        .await;
    let raw_rate = ids.len() as f64 / t.elapsed().as_secs_f64();

    // answers coming in, then the board read over and over
    exec!(
        &db,
        "UPDATE rollcall_people SET state = CASE WHEN resident_id % 5 = 0 THEN 'safe' \
         WHEN resident_id % 7 = 0 THEN 'not_reached' WHEN resident_id % 97 = 0 THEN 'needs_help' ELSE 'pending' END \
         WHERE rollcall_id = (SELECT id FROM rollcalls WHERE broadcast_id = $1)",
        b.id
    );
    let on_list: i64 = scalar!(
        &db,
        i64,
        "SELECT COUNT(*) FROM rollcall_people WHERE rollcall_id = (SELECT id FROM rollcalls WHERE broadcast_id = $1)",
        b.id
    );
    let rollcall: i64 = scalar!(&db, i64, "SELECT id FROM rollcalls WHERE broadcast_id = $1", b.id);
    let (client, base, mut server) = common::serve(&dir, url.as_deref()).await;
    let token = login(&client, &base, "bench-officer", city::PASSWORD).await;
    let board_url = format!("{base}/api/v1/broadcasts/{}/rollcall", b.id);
    let (warm, samples) = (100, 1000);
    let board = time_n(warm, samples, || async {
        let r = client.get(&board_url).bearer_auth(&token).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        let _ = r.bytes().await.unwrap();
    })
    .await;
    let raw_board = time_n(warm, samples, || async {
        raw!(
            &db,
            "SELECT o.path, o.code, o.name, p.state, COUNT(*) FROM rollcall_people p \
             JOIN org_nodes o ON o.id = p.grid_id WHERE p.rollcall_id = $1 \
             GROUP BY o.path, o.code, o.name, p.state ORDER BY o.code, p.state",
            rollcall
        );
    })
    .await;
    let _ = server.kill();
    svc.end_broadcast(&officer, b.id, false).await.unwrap();

    let rows = vec![
        Row {
            what: format!("fan-out of a broadcast to {people} residents ({queued} deliveries)"),
            value: format!("{fan_out:.2} s"),
            raw: format!("{raw_fan:.2} s"),
            ratio: fan_out / raw_fan,
            target: "< 5 s".into(),
            ok: fan_out < 5.0,
        },
        Row {
            what: format!("SMS sent by the dispatcher ({sent}, signatures checked)"),
            value: format!("{rate:.0}/s"),
            raw: format!("{raw_rate:.0}/s"),
            ratio: raw_rate / rate,
            target: "≥ 1,000/s".into(),
            ok: rate >= 1000.0,
        },
        Row {
            what: format!("roll-call board of the subdistrict, {on_list} people, p50 / p99"),
            value: format!("{:.1} / {:.1} ms", board.q(0.5), board.q(0.99)),
            raw: format!("{:.1} / {:.1} ms", raw_board.q(0.5), raw_board.q(0.99)),
            ratio: board.q(0.99) / raw_board.q(0.99),
            target: "p99 < 50 ms".into(),
            ok: board.q(0.99) < 50.0,
        },
    ];
    println!("\n{residents} residents, {grids} grids on {backend}\n");
    common::report(&format!("notify, {backend}"), &rows);
}
