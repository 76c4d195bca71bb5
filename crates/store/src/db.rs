//! The backend comes from the URL: `sqlite://…` or `postgres://…`; anything
//! else is refused at start.

use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(StoreError::UnsupportedUrl(redact_url(url))),
        }
    }
}

/// A URL with its password replaced, fit for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}://{}:***{}", &url[..s], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    /// PostgreSQL only: run in this schema (tests use one per test).
    pub pg_schema: Option<String>,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self { max_connections: 16, pg_schema: None }
    }
}

#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A transaction on either backend. Store functions take `&mut Tx`; the
/// service layer opens it, calls the store and commits.
#[derive(Debug)]
pub enum Tx {
    /// With the process's turn to write, when it writes (see `Db::write`).
    Sqlite(Transaction<'static, Sqlite>, Option<tokio::sync::OwnedMutexGuard<()>>),
    Postgres(Transaction<'static, Postgres>),
    /// A plain connection (autocommit): for reads of one statement, where a
    /// transaction would only add two round trips.
    SqliteConn(PoolConnection<Sqlite>),
    PostgresConn(PoolConnection<Postgres>),
}

/// Runs one body against whichever backend a `Tx` holds; the body is
/// type-checked once per backend.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::Tx::Sqlite(t, _) => {
                let $c = &mut **t;
                $body
            }
            $crate::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::Tx::SqliteConn(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::Tx::PostgresConn(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

impl Db {
    pub async fn connect(url: &str, opts: &DbOptions) -> Result<Self> {
        match Backend::from_url(url)? {
            Backend::Sqlite => {
                let co = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .pragma("mmap_size", "268435456")
                    .pragma("cache_size", "-65536")
                    // what is deleted or shortened is overwritten with zeros, so
                    // that an erased person's data is not left in free space
                    .pragma("secure_delete", "ON");
                // a connection to a file does not go stale: no ping (a round
                // trip to sqlx's worker thread) before every use
                let pool = SqlitePoolOptions::new()
                    .max_connections(opts.max_connections.max(1))
                    .test_before_acquire(false)
                    .connect_with(co)
                    .await?;
                Ok(Db::Sqlite(pool))
            }
            Backend::Postgres => {
                let mut co = PgConnectOptions::from_str(url)?;
                if let Some(schema) = &opts.pg_schema {
                    co = co.options([("search_path", schema.as_str())]);
                }
                let pool = PgPoolOptions::new()
                    .max_connections(opts.max_connections.max(1))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(co)
                    .await?;
                Ok(Db::Postgres(pool))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the migrations embedded in the binary; returns how many were new.
    pub async fn migrate(&self) -> Result<usize> {
        let n = match self {
            Db::Sqlite(p) => {
                let m = sqlx::migrate!("./migrations/sqlite");
                let before = applied(self).await;
                m.run(p).await?;
                applied(self).await.saturating_sub(before)
            }
            Db::Postgres(p) => {
                let m = sqlx::migrate!("./migrations/postgres");
                let before = applied(self).await;
                m.run(p).await?;
                applied(self).await.saturating_sub(before)
            }
        };
        self.seed_tallies().await?;
        Ok(n)
    }

    /// The dashboard's tallies (migration 0025) count what was there before
    /// them, once; triggers keep them after.
    async fn seed_tallies(&self) -> Result<()> {
        let mut tx = self.write().await?;
        if crate::meta::get(&mut tx, "tallies_seeded").await?.is_none() {
            crate::tallies::rebuild(&mut tx).await?;
            crate::meta::set(&mut tx, "tallies_seeded", "1").await?;
        }
        tx.commit().await
    }

    /// Refreshes the statistics the query planner chooses indexes by. SQLite
    /// keeps none until asked, and without them it scanned every resident
    /// to count one community's categories; with a sample of 1,000 rows per
    /// index this takes milliseconds. PostgreSQL's autovacuum keeps its own,
    /// but only later: after a bulk load it is told at once (and vacuums).
    pub async fn optimize(&self) -> Result<()> {
        match self {
            Db::Sqlite(p) => {
                let mut c = p.acquire().await?;
                sqlx::query("PRAGMA analysis_limit = 1000").execute(&mut *c).await?;
                sqlx::query("ANALYZE").execute(&mut *c).await?;
            }
            Db::Postgres(p) => {
                // VACUUM too: until it marks the new pages all-visible, every
                // index-only scan visits the table as well. These tables
                // only: a bare VACUUM would visit every schema.
                sqlx::query(
                    "VACUUM (ANALYZE) org_nodes, estates, buildings, households, residents, resident_categories, \
                     care_plans, cases, tallies, headcounts",
                )
                .execute(p)
                .await?;
            }
        }
        Ok(())
    }

    /// A consistent copy of the whole database into a new file, while others
    /// go on writing: SQLite's `VACUUM INTO` reads one snapshot (everything
    /// committed before it began) and writes it compacted. None on
    /// PostgreSQL, whose copy is `pg_dump`'s.
    pub async fn snapshot_into(&self, path: &std::path::Path) -> Result<bool> {
        match self {
            Db::Sqlite(p) => {
                let Some(name) = path.to_str() else { return Err(StoreError::Broken("a snapshot path is not UTF-8")) };
                let mut c = p.acquire().await?;
                sqlx::query("VACUUM INTO $1").bind(name).execute(&mut *c).await?;
                drop(c);
                // no backup carries the residents' own keys: each row is
                // blanked in the copy (what it held overwritten with zeros),
                // so that a restore knows who had one
                let co = SqliteConnectOptions::new()
                    .filename(path)
                    .journal_mode(SqliteJournalMode::Off)
                    .pragma("secure_delete", "ON");
                let mut c = sqlx::SqliteConnection::connect_with(&co).await?;
                sqlx::query("UPDATE resident_keys SET wrapped = ''").execute(&mut c).await?;
                c.close().await?;
                Ok(true)
            }
            Db::Postgres(_) => Ok(false),
        }
    }

    /// Moves everything in SQLite's write-ahead log into the database file
    /// and empties the log, so that what was erased is not left in it;
    /// false when readers kept it busy. Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<bool> {
        match self {
            Db::Sqlite(p) => {
                let mut c = p.acquire().await?;
                let (busy, _, _): (i64, i64, i64) =
                    sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&mut *c).await?;
                Ok(busy == 0)
            }
            Db::Postgres(_) => Ok(true),
        }
    }

    /// A transaction that will write. On SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`), so it never fails half-way on a busy lock;
    /// and the writers of this process take turns before that, in a queue,
    /// because SQLite's own busy wait sleeps for milliseconds at a time.
    pub async fn write(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(p) => {
                let turn = writer_turn(p).lock_owned().await;
                Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?, Some(turn))
            }
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A transaction that only reads: a consistent snapshot, no write lock.
    pub async fn read(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin().await?, None),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A connection without a transaction, for a read of one statement.
    pub async fn conn(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(p) => Tx::SqliteConn(p.acquire().await?),
            Db::Postgres(p) => Tx::PostgresConn(p.acquire().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }

    /// A quick round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        match self {
            Db::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ())?,
            Db::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ())?,
        }
        Ok(())
    }
}

/// The queue of this process's writers to one SQLite file.
fn writer_turn(pool: &SqlitePool) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    type Turns =
        std::sync::Mutex<std::collections::HashMap<std::path::PathBuf, std::sync::Arc<tokio::sync::Mutex<()>>>>;
    static TURNS: std::sync::OnceLock<Turns> = std::sync::OnceLock::new();
    let file = pool.connect_options().get_filename().to_path_buf();
    let mut turns = TURNS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    turns.entry(file).or_default().clone()
}

async fn applied(db: &Db) -> usize {
    let q = "SELECT COUNT(*) FROM _sqlx_migrations WHERE success";
    let n: std::result::Result<i64, _> = match db {
        Db::Sqlite(p) => sqlx::query_scalar(q).fetch_one(p).await,
        Db::Postgres(p) => sqlx::query_scalar(q).fetch_one(p).await,
    };
    n.map(|n| n as usize).unwrap_or(0)
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t, _turn) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
            Tx::SqliteConn(_) | Tx::PostgresConn(_) => {}
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        match self {
            Tx::Sqlite(t, _turn) => t.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
            Tx::SqliteConn(_) | Tx::PostgresConn(_) => {}
        }
        Ok(())
    }

    /// Marks a point to go back to without losing the rest of the
    /// transaction (several writes sharing one commit).
    pub async fn savepoint(&mut self) -> Result<()> {
        on_tx!(self, c => sqlx::query("SAVEPOINT part").execute(c).await?.rows_affected());
        Ok(())
    }

    /// Keeps what was done since the savepoint.
    pub async fn release(&mut self) -> Result<()> {
        on_tx!(self, c => sqlx::query("RELEASE part").execute(c).await?.rows_affected());
        Ok(())
    }

    /// Undoes what was done since the savepoint.
    pub async fn rollback_to(&mut self) -> Result<()> {
        on_tx!(self, c => sqlx::query("ROLLBACK TO part").execute(c).await?.rows_affected());
        on_tx!(self, c => sqlx::query("RELEASE part").execute(c).await?.rows_affected());
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(..) | Tx::SqliteConn(_) => Backend::Sqlite,
            Tx::Postgres(_) | Tx::PostgresConn(_) => Backend::Postgres,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_by_scheme() {
        assert_eq!(Backend::from_url("sqlite:///tmp/x.db").ok(), Some(Backend::Sqlite));
        assert_eq!(Backend::from_url("postgres://u@h/d").ok(), Some(Backend::Postgres));
        assert_eq!(Backend::from_url("postgresql://u@h/d").ok(), Some(Backend::Postgres));
        let e = Backend::from_url("mysql://root:hunter2@h/d").unwrap_err().to_string();
        assert!(e.contains("sqlite://") && e.contains("postgres://"), "{e}");
        assert!(!e.contains("hunter2"), "password leaked: {e}");
    }

    #[test]
    fn redaction() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/d"), "postgres://u:***@h:5432/d");
        assert_eq!(redact_url("postgres://u@h/d"), "postgres://u@h/d");
        assert_eq!(redact_url("sqlite:///x.db"), "sqlite:///x.db");
    }
}
