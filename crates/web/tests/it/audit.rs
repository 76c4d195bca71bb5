//! The audit chain on both backends: intact after real use, and broken at
//! the first changed entry when someone gets around the triggers.

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
