//! A fresh database for each test: SQLite in a temporary folder, or, when
//! `YIJIA_TEST_DATABASE_URL` is set, a new schema on that PostgreSQL
//! database. Schemas left by test processes that have ended are dropped
//! when the next test process starts (a test may end holding a transaction,
//! so it cannot drop its own schema while it runs).

#![allow(clippy::expect_used)] // test support: a failure to set up is a failed test

use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Db, DbOptions};

pub const ENV: &str = "YIJIA_TEST_DATABASE_URL";

pub struct TestDb {
    pub db: Db,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);
static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

impl TestDb {
    /// A migrated, empty database on the backend the environment chooses.
    pub async fn new() -> Self {
        match std::env::var(ENV) {
            Ok(url) if !url.is_empty() => Self::postgres(&url).await,
            _ => Self::sqlite().await,
        }
    }

    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("yijia.db").display());
        let db = Db::connect(&url, &DbOptions::default()).await.expect("connect sqlite");
        db.migrate().await.expect("migrate sqlite");
        Self { db, _dir: Some(dir), schema: None }
    }

    pub async fn postgres(url: &str) -> Self {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let schema = format!("yt_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed), nanos);
        let admin =
            Db::connect(url, &DbOptions { max_connections: 1, pg_schema: None }).await.expect("connect postgres");
        if let Db::Postgres(p) = &admin {
            SWEPT.get_or_init(|| sweep_stale_schemas(p)).await;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(p)
                .await
                .expect("create schema");
        }
        admin.close().await;
        let opts = DbOptions { max_connections: 8, pg_schema: Some(schema.clone()) };
        let db = Db::connect(url, &opts).await.expect("connect postgres schema");
        db.migrate().await.expect("migrate postgres");
        Self { db, _dir: None, schema: Some((url.to_owned(), schema)) }
    }

    /// The SQLite file, for tests that look inside it.
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        self._dir.as_ref().map(|d| d.path().join("yijia.db"))
    }

    /// A second pool on the same database (another "server").
    pub async fn another_pool(&self) -> Db {
        match (&self.schema, &self.db) {
            (Some((url, schema)), _) => {
                let opts = DbOptions { max_connections: 8, pg_schema: Some(schema.clone()) };
                Db::connect(url, &opts).await.expect("connect")
            }
            (None, _) => {
                let path = self.sqlite_path().expect("sqlite path");
                let url = format!("sqlite://{}", path.display());
                Db::connect(&url, &DbOptions::default()).await.expect("connect")
            }
        }
    }
}

/// Drops the `yt_<pid>_…` schemas of test processes that no longer run.
async fn sweep_stale_schemas(p: &sqlx::PgPool) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT schema_name::text FROM information_schema.schemata WHERE schema_name LIKE 'yt\\_%'")
            .fetch_all(p)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(1).unwrap_or("");
        if pid.is_empty() || std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS {name} CASCADE"))).execute(p).await;
    }
}
