//! Two servers on one database share the job table: every job runs exactly
//! once, and both take part.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use yijia_service::{Services, Settings, SystemClock};

use crate::helpers::{TestApp, now_ms};

#[tokio::test]
async fn two_servers_run_each_job_once() {
    let app = TestApp::spawn().await;
    // a second server: its own pool, its own HTTP listener, same database
    let second_db = app.db.another_pool().await;
    let second = Services::new(
        second_db,
        Arc::new(SystemClock),
        Settings::default(),
        Arc::new(yijia_service::keys::Keyring::generate()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let second_url = format!("http://{}", listener.local_addr().unwrap());
    let state =
        yijia_web::AppState { svc: second.clone(), cfg: yijia_web::WebConfig { tls: false, trusted_proxies: vec![] } };
    tokio::spawn(yijia_web::serve(listener, state, std::future::pending()));

    // both servers answer for the same data: a session made on one works on the other
    let t = app.token("secretary").await;
    let r = app.client().get(format!("{second_url}/api/v1/me")).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    const N: i64 = 400;
    for _ in 0..N {
        // due for both clocks: the first server's stands still at its start
        app.svc.enqueue(yijia_service::jobs::SWEEP, json!({}), None, app.svc.now().min(now_ms())).await.unwrap();
    }

    // Both runners start at once on a full queue and claim against each other.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let first = app.svc.clone();
    let a = tokio::spawn({
        let rx = stop_rx.clone();
        async move { first.run_jobs("server-a".into(), rx).await }
    });
    let b = tokio::spawn({
        let s = second.clone();
        async move { s.run_jobs("server-b".into(), stop_rx).await }
    });
    let mut counts = Default::default();
    for _ in 0..600 {
        let mut tx = app.db.db.read().await.unwrap();
        counts = yijia_store::jobs::counts(&mut tx, yijia_service::jobs::SWEEP).await.unwrap();
        tx.commit().await.unwrap();
        if counts.pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop_tx.send(true).unwrap();
    a.await.unwrap();
    b.await.unwrap();

    assert_eq!(counts.pending, 0, "{counts:?}");
    assert_eq!(counts.failed, 0, "{counts:?}");
    // the runners also scheduled their own periodic sweep (one between them)
    assert!(counts.done >= N, "{counts:?}");
    assert_eq!(counts.runs, counts.done, "a job ran twice: {counts:?}");
    assert_eq!(counts.distinct_jobs_run, counts.done, "{counts:?}");
    let mut tx = app.db.db.read().await.unwrap();
    let runners = yijia_store::jobs::runners(&mut tx, yijia_service::jobs::SWEEP).await.unwrap();
    // rows are locked one by one (PostgreSQL) or one writer at a time
    // (SQLite): on a loaded machine one server may drain the queue before the
    // other starts, which is fine so long as each job runs once (above)
    assert!(!runners.is_empty() && runners.iter().all(|r| r == "server-a" || r == "server-b"), "{runners:?}");
}
