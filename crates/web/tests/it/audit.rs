//! The audit chain on both backends: intact after real use, and broken at
//! the first changed entry when someone gets around the triggers.

use reqwest::StatusCode;
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
    app.svc.seed_demo_residents(60).await.unwrap();
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
