//! Platform benchmarks: start-up time to a ready `/healthz`, an
//! authenticated API read against a bare axum handler measured in the same
//! run, and resident memory at idle.
//!
//!     cargo bench -p yijia --bench platform
//!
//! With `YIJIA_TEST_DATABASE_URL` set, the API read runs on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use yijia_service::{Services, Settings, SystemClock};
use yijia_store::testing::TestDb;

mod common;
use common::{free_port, login, wait_ready};

const CONCURRENCY: usize = 16;
const LOAD_SECONDS: u64 = 4;

fn spawn_server(dir: &std::path::Path, port: u16, demo: bool) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yijia"));
    cmd.arg("serve").arg("--data-dir").arg(dir).arg("--addr").arg(format!("127.0.0.1:{port}"));
    if demo {
        cmd.arg("--demo");
    }
    cmd.env_remove("YIJIA_DATABASE_URL").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn startup(client: &reqwest::Client) -> (Vec<f64>, Vec<f64>) {
    let mut fresh = Vec::new();
    let mut warm = Vec::new();
    for _ in 0..7 {
        let dir = tempfile::tempdir().unwrap();
        // the first start migrates a new database, the second finds it
        for list in [&mut fresh, &mut warm] {
            let port = free_port();
            let t = Instant::now();
            let mut child = spawn_server(dir.path(), port, false);
            let _ = wait_ready(client, &format!("http://127.0.0.1:{port}")).await;
            list.push(ms(t.elapsed()));
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
    fresh.sort_by(f64::total_cmp);
    warm.sort_by(f64::total_cmp);
    (fresh, warm)
}

async fn idle_rss(client: &reqwest::Client) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = spawn_server(dir.path(), port, true);
    wait_ready(client, &format!("http://127.0.0.1:{port}")).await;
    let base = format!("http://127.0.0.1:{port}");
    let token = login(client, &base, "secretary", yijia_service::fixtures::demo::PASSWORD).await;
    for _ in 0..200 {
        client.get(format!("{base}/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    kb / 1024.0
}

/// Requests per second that CONCURRENCY clients get for `url`.
async fn load(client: &reqwest::Client, url: &str, token: Option<&str>) -> f64 {
    let ok = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(LOAD_SECONDS);
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, url, ok) = (client.clone(), url.to_owned(), ok.clone());
        let token = token.map(str::to_owned);
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let mut rb = client.get(&url);
                if let Some(t) = &token {
                    rb = rb.bearer_auth(t);
                }
                let r = rb.send().await.unwrap();
                assert!(r.status().is_success(), "{}", r.status());
                let _ = r.bytes().await.unwrap();
                ok.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    ok.load(Ordering::Relaxed) as f64 / LOAD_SECONDS as f64
}

async fn throughput(client: &reqwest::Client) -> (f64, f64, f64, &'static str) {
    // the raw baseline: a bare axum handler answering a small JSON body
    let bare = axum::Router::new().route(
        "/bare",
        axum::routing::get(|| async { axum::Json(serde_json::json!({"id": 3, "username": "secretary"})) }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_url = format!("http://{}/bare", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, bare).await.unwrap() });

    let db = TestDb::new().await;
    let backend = match db.db.backend() {
        yijia_store::Backend::Sqlite => "SQLite",
        yijia_store::Backend::Postgres => "PostgreSQL",
    };
    let keys = Arc::new(yijia_service::keys::Keyring::generate());
    let svc = Services::new(db.db.clone(), Arc::new(SystemClock), Settings::default(), keys);
    svc.fixtures().seed_demo().await.unwrap();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let state = yijia_web::AppState { svc, cfg: yijia_web::WebConfig { tls: false, trusted_proxies: vec![] } };
    tokio::spawn(yijia_web::serve(l, state, std::future::pending()));
    let token = login(client, &base, "secretary", yijia_service::fixtures::demo::PASSWORD).await;
    let me = format!("{base}/api/v1/me");

    // warm both, then measure alternately
    load(client, &bare_url, None).await;
    load(client, &me, Some(&token)).await;
    let b = load(client, &bare_url, None).await;
    let y = load(client, &me, Some(&token)).await;
    let org = load(client, &format!("{base}/api/v1/org/chengnan-g01"), Some(&token)).await;
    drop(db);
    (y, org, b, backend)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        yijia_service::webhooks::install_tls();
        let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
        let (fresh, warm) = startup(&client).await;
        let rss = idle_rss(&client).await;
        let (api, org, bare, backend) = throughput(&client).await;
        let p = |v: &[f64], q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
        println!("| measure | result | target | baseline (same run) | ratio |");
        println!("|---|---|---|---|---|");
        println!(
            "| start-up to ready `/healthz`, new data dir (migrations run) | median {:.0} ms, max {:.0} ms | < 1 s | | |",
            p(&fresh, 0.5),
            p(&fresh, 1.0)
        );
        println!(
            "| start-up to ready `/healthz`, existing data dir | median {:.0} ms, max {:.0} ms | < 1 s | | |",
            p(&warm, 0.5),
            p(&warm, 1.0)
        );
        println!(
            "| authenticated API read `GET /api/v1/me` ({backend}), {CONCURRENCY} clients | {api:.0} req/s | ≥ 0.5 × bare | bare axum JSON handler {bare:.0} req/s | {:.2} |",
            api / bare
        );
        println!(
            "| authenticated read from the database `GET /api/v1/org/chengnan-g01` ({backend}): node, children, estates | {org:.0} req/s | (none) | bare axum JSON handler {bare:.0} req/s | {:.2} |",
            org / bare
        );
        println!("| resident memory at idle (demo seeded, after 200 requests) | {rss:.1} MB | < 50 MB | | |");
        let ok = p(&fresh, 1.0) < 1000.0 && api / bare >= 0.5 && rss < 50.0;
        println!("\nbench: {} passed, {} failed", u8::from(ok), u8::from(!ok));
        if !ok {
            std::process::exit(1);
        }
    });
}
