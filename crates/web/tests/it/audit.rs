//! The audit chain on both backends: intact after real use, and broken at
//! the first changed entry when someone gets around the triggers.

use reqwest::StatusCode;
use yijia_domain::time::Clock as _;
use yijia_service::audit::Verification;
use yijia_store::Db;

use crate::helpers::TestApp;

#[tokio::test]
async fn verification_finds_tampering_on_every_backend() {
    let app = TestApp::spawn().await;
    let _ = app.token("secretary").await;
    let _ = app.login_raw("secretary", "wrong-password").await;
    let n = app.audit().await.len() as i64;
    assert_eq!(app.svc.audit_verify().await.unwrap(), Verification::Intact { entries: n });

    let (disable, change) = match &app.db.db {
        Db::Sqlite(_) => {
            ("DROP TRIGGER audit_log_no_update", "UPDATE audit_log SET actor_name = 'someone-else' WHERE seq = 5")
        }
        Db::Postgres(_) => (
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change",
            "UPDATE audit_log SET actor_name = 'someone-else' WHERE seq = 5",
        ),
    };
    match &app.db.db {
        Db::Sqlite(p) => {
            sqlx::query(disable).execute(p).await.unwrap();
            sqlx::query(change).execute(p).await.unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query(disable).execute(p).await.unwrap();
            sqlx::query(change).execute(p).await.unwrap();
        }
    }
    match app.svc.audit_verify().await.unwrap() {
        Verification::Broken { seq, problem } => {
            assert_eq!(seq, 5);
            assert!(problem.contains("changed"), "{problem}");
        }
        v => panic!("tampering not found: {v:?}"),
    }
}

/// A scraping loop of record reads is stopped: above the hourly limit a
/// read answers 429, the secretary finds one `read_limit` entry in her
/// log, and an hour later reads go again.
#[tokio::test]
async fn a_scraping_loop_of_record_reads_is_stopped_and_the_secretary_alerted() {
    let settings = yijia_service::Settings { personal_reads_per_hour: 20, ..Default::default() };
    let app = TestApp::spawn_with(settings).await;
    app.svc.fixtures().seed_demo_residents(60).await.unwrap();
    let staff = app.token("staff").await;
    let (_, list) = app.get(&staff, "/api/v1/residents?per_page=60").await;
    let ids: Vec<i64> = list["items"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert!(ids.len() >= 25, "{}", ids.len());
    let mut answers = Vec::new();
    for id in &ids[..25] {
        answers.push(app.get(&staff, &format!("/api/v1/residents/{id}")).await);
    }
    assert!(answers[..20].iter().all(|(st, _)| *st == StatusCode::OK));
    for (st, v) in &answers[20..] {
        assert_eq!((*st, v["error"]["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")), "{v}");
    }
    let unmask = serde_json::json!({"field": "phone", "reason": "电话回访"});
    let (st, _) = app.post(&staff, &format!("/api/v1/residents/{}/unmask", ids[0]), unmask).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "nor a full value");
    let secretary = app.token("secretary").await;
    let (_, log) = app.get(&secretary, "/api/v1/audit?action=read_limit").await;
    assert_eq!(log["total"], 1, "alerted once: {log}");
    assert_eq!(log["items"][0]["outcome"], "limited");
    app.clock.advance(61 * 60_000);
    let staff = app.token("staff").await;
    assert_eq!(app.get(&staff, &format!("/api/v1/residents/{}", ids[0])).await.0, StatusCode::OK, "an hour later");
}

/// Cybersecurity Law art. 21: logs kept at least six months. Nothing in
/// yijia deletes an entry: after 200 days and the housekeeping jobs, the
/// first login is still read, and exported for the auditor with its hash.
#[tokio::test]
async fn the_log_stays_online_past_six_months_and_exports_for_an_auditor() {
    let app = TestApp::spawn().await;
    let first_day = yijia_domain::time::to_local(app.clock.now_ms()).date_naive();
    app.token("worker1").await;
    app.clock.advance(200 * 24 * 3_600_000);
    for kind in [yijia_service::jobs::SWEEP, yijia_service::jobs::CASE_DEADLINES] {
        app.svc.enqueue(kind, serde_json::json!({}), None, app.clock.now_ms()).await.unwrap();
    }
    while app.svc.run_one_job("test").await.unwrap() {}
    let today = yijia_domain::time::to_local(app.clock.now_ms()).date_naive();
    let sec = app.token("secretary").await;

    let path = format!("/api/v1/audit/export?from={first_day}&to={today}");
    let r = app.client().get(format!("{}{path}", app.url)).bearer_auth(&sec).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let body = r.bytes().await.unwrap();
    assert!(body.starts_with(b"\xEF\xBB\xBF"), "a byte-order mark for Excel");
    let mut csv = csv::Reader::from_reader(&body[3..]);
    assert_eq!(csv.headers().unwrap().iter().collect::<Vec<_>>()[..3], ["seq", "at", "actor"]);
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    let worker_login = rows.iter().find(|r| &r[3] == "login" && &r[2] == "worker1").expect("the login of 200 days ago");
    assert!(worker_login[1].starts_with(&first_day.to_string()));
    assert_eq!(worker_login[8].len(), 64, "each entry with its hash");
    // the export itself is in the log
    assert!(app.audit().await.iter().any(|(a, _, o)| a == "audit_export" && o.starts_with("audit:")));

    // a span out of order or over a year is refused with the field
    let (s, e) = app.get(&sec, &format!("/api/v1/audit/export?from={today}&to={first_day}")).await;
    assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("to")), "{e}");
    let (s, e) = app.get(&sec, "/api/v1/audit/export?from=2025-01-01&to=2026-06-01").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, e) = app.get(&sec, "/api/v1/audit/export?from=last%20year&to=2026-06-01").await;
    assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("from")), "{e}");
    // a grid worker reads no log
    let w = app.token("worker1").await;
    assert_eq!(app.get(&w, &path).await.0, StatusCode::NOT_FOUND);
}
