//! What the benchmarks need to drive a server and time it. Each bench uses
//! part of it.
#![allow(dead_code, unused_macros)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

pub const WARMUP: usize = 200;
pub const SAMPLES: usize = 2000;

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// A number from the environment, or `default`.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

/// A server on a bench's data, ready, and a client for it: (client, base
/// URL, the server's process).
pub async fn serve(dir: &Path, url: Option<&str>) -> (reqwest::Client, String, Child) {
    yijia_service::webhooks::install_tls();
    let client = reqwest::Client::new();
    let port = free_port();
    let server = spawn_server(dir, url, port);
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&client, &base).await;
    (client, base, server)
}

pub use yijia_testkit::{free_port, wait_ready};

/// A bearer token for `user`.
pub async fn login(client: &reqwest::Client, base: &str, user: &str, password: &str) -> String {
    yijia_testkit::login(client, base, user, password).await
}

/// Latencies in ms, sorted.
pub struct Timing(pub Vec<f64>);

impl Timing {
    pub fn q(&self, q: f64) -> f64 {
        self.0[((self.0.len() as f64 - 1.0) * q).round() as usize]
    }
}

pub async fn time<F, Fut>(f: F) -> Timing
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    time_n(WARMUP, SAMPLES, f).await
}

/// `samples` timings after `warmup` untimed runs.
pub async fn time_n<F, Fut>(warmup: usize, samples: usize, mut f: F) -> Timing
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..warmup {
        f().await;
    }
    let mut v = Vec::with_capacity(samples);
    for _ in 0..samples {
        let t = Instant::now();
        f().await;
        v.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    v.sort_by(f64::total_cmp);
    Timing(v)
}

pub async fn api(client: &reqwest::Client, url: &str, token: &str) -> Timing {
    time(|| async {
        let r = client.get(url).bearer_auth(token).send().await.unwrap();
        assert!(r.status().is_success(), "{url}: {}", r.status());
        let _ = r.bytes().await.unwrap();
    })
    .await
}

/// Runs one statement on either backend.
macro_rules! exec {
    ($db:expr, $sql:expr $(, $arg:expr)*) => {{
        match $db {
            Db::Sqlite(p) => { sqlx::query(sqlx::AssertSqlSafe(AsRef::<str>::as_ref(&$sql)))$(.bind($arg))*.execute(p).await.unwrap(); }
            Db::Postgres(p) => { sqlx::query(sqlx::AssertSqlSafe(AsRef::<str>::as_ref(&$sql)))$(.bind($arg))*.execute(p).await.unwrap(); }
        }
    }};
}

/// One value, on either backend.
macro_rules! scalar {
    ($db:expr, $t:ty, $sql:expr $(, $arg:expr)*) => {{
        match $db {
            Db::Sqlite(p) => sqlx::query_scalar::<_, $t>(sqlx::AssertSqlSafe(AsRef::<str>::as_ref(&$sql)))$(.bind($arg))*.fetch_one(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_scalar::<_, $t>(sqlx::AssertSqlSafe(AsRef::<str>::as_ref(&$sql)))$(.bind($arg))*.fetch_one(p).await.unwrap(),
        }
    }};
}

/// All rows as `$t`, on either backend.
macro_rules! rows {
    ($db:expr, $t:ty, $sql:expr $(, $arg:expr)*) => {{
        match $db {
            Db::Sqlite(p) => sqlx::query_as::<_, $t>(sqlx::AssertSqlSafe(AsRef::<str>::as_ref(&$sql)))$(.bind($arg))*.fetch_all(p).await.unwrap(),
            Db::Postgres(p) => sqlx::query_as::<_, $t>(sqlx::AssertSqlSafe(AsRef::<str>::as_ref(&$sql)))$(.bind($arg))*.fetch_all(p).await.unwrap(),
        }
    }};
}

/// A plain query: its rows fetched and dropped.
macro_rules! raw {
    ($db:expr, $sql:expr $(, $arg:expr)*) => {{
        let db: &Db = $db;
        match db {
            Db::Sqlite(p) => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(AsRef::<str>::as_ref(&$sql)))$(.bind($arg))*.fetch_all(p).await.unwrap();
                assert!(!rows.is_empty(), "{}", $sql);
            }
            Db::Postgres(p) => {
                let rows = sqlx::query(sqlx::AssertSqlSafe(AsRef::<str>::as_ref(&$sql)))$(.bind($arg))*.fetch_all(p).await.unwrap();
                assert!(!rows.is_empty(), "{}", $sql);
            }
        }
    }};
}

/// The `yijia` binary on a data directory, on PostgreSQL when `url` is set.
pub fn yijia(dir: &Path, url: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yijia"));
    cmd.arg("--data-dir").arg(dir);
    // benches measure speed: one user seeds a million points and reads
    // thousands of records, far past the limits a person meets
    cmd.env("YIJIA_POINTS_APPROVAL_LIMIT", "100000000").env("YIJIA_PERSONAL_READS_PER_HOUR", "100000000");
    // and time reads, not logins: the bench's officers have no second factor
    cmd.env("YIJIA_REQUIRE_TOTP", "none");
    match url {
        Some(u) => cmd.env("YIJIA_DATABASE_URL", u),
        None => cmd.env_remove("YIJIA_DATABASE_URL"),
    };
    cmd
}

pub fn spawn_server(dir: &Path, url: Option<&str>, port: u16) -> Child {
    yijia(dir, url)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        // YIJIA_BENCH_SERVER_LOG=1 shows the server's log (with YIJIA_LOG)
        .stderr(if std::env::var_os("YIJIA_BENCH_SERVER_LOG").is_some() { Stdio::inherit() } else { Stdio::null() })
        .spawn()
        .unwrap()
}

/// Where a bench keeps its data between runs (`YIJIA_BENCH_DIR`, or cargo's
/// target directory), and its own PostgreSQL database `name` when
/// `YIJIA_TEST_DATABASE_URL` is set (made when missing).
pub async fn bench_place(what: &str, name: &str) -> (PathBuf, Option<String>) {
    let pg = std::env::var(yijia_store::testing::ENV).ok();
    let dir = std::env::var_os("YIJIA_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(what))
        .join(format!("{}-{name}", if pg.is_some() { "pg" } else { "sqlite" }));
    std::fs::create_dir_all(&dir).unwrap();
    let url = match &pg {
        Some(base) => {
            let admin = sqlx::PgPool::connect(base).await.unwrap();
            let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
                .bind(name)
                .fetch_optional(&admin)
                .await
                .unwrap();
            if exists.is_none() {
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await.unwrap();
            }
            let (head, _) = base.rsplit_once('/').unwrap();
            Some(format!("{head}/{name}"))
        }
        None => None,
    };
    (dir, url)
}

/// Makes the city with `yijia bench gen` (once: later runs find it there)
/// and connects to it.
pub async fn gen_city(dir: &Path, url: Option<&str>, residents: usize, grids: usize) -> yijia_store::Db {
    let t = Instant::now();
    let st = yijia(dir, url)
        .args(["bench", "gen", "--residents", &residents.to_string(), "--grids", &grids.to_string()])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "bench gen failed");
    eprintln!("the city is there ({:.0} s)", t.elapsed().as_secs_f64());
    let db_url = url.map(str::to_owned).unwrap_or_else(|| format!("sqlite://{}", dir.join("yijia.db").display()));
    let options = yijia_store::DbOptions { max_connections: 2, pg_schema: None };
    yijia_store::Db::connect(&db_url, &options).await.unwrap()
}

/// One line of a bench's table.
pub struct Row {
    pub what: String,
    pub value: String,
    pub raw: String,
    pub ratio: f64,
    pub target: String,
    pub ok: bool,
}

/// Prints the table under `title` and exits non-zero when a target was missed.
pub fn report(title: &str, rows: &[Row]) {
    println!("| measure ({title}) | yijia | raw | ratio | target |");
    println!("|---|---|---|---|---|");
    for r in rows {
        let met = if r.ok { "met" } else { "MISSED" };
        println!("| {} | {} | {} | {:.2} | {}: {met} |", r.what, r.value, r.raw, r.ratio, r.target);
    }
    let passed = rows.iter().filter(|r| r.ok).count();
    println!("\nbench: {passed} passed, {} failed", rows.len() - passed);
    if passed != rows.len() {
        std::process::exit(1);
    }
}

/// Appends one line to the audit chain, raw, in the transaction `$tx`
/// (the head moved, the entry hashed and written, the head's hash set), as
/// the store does for every change.
macro_rules! raw_audit_line {
    ($tx:expr, $action:expr, $object:expr, $at:expr) => {{
        let (seq, prev): (i64, String) =
            sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut *$tx)
                .await
                .unwrap();
        let fields = yijia_domain::audit::EntryFields {
            seq,
            at_ms: $at,
            actor: None,
            actor_name: "bench",
            action: $action,
            outcome: "ok",
            object: $object,
            org_path: "/",
            ip: "",
            detail: "",
        };
        let hash = yijia_domain::audit::entry_hash(&prev, &fields);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor_id, actor_name, action, outcome, object, org_path, ip, detail, \
             prev_hash, hash) VALUES ($1, $2, NULL, 'bench', $3, 'ok', $4, '/', '', '', $5, $6)",
        )
        .bind(seq)
        .bind($at)
        .bind($action)
        .bind($object)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *$tx)
        .await
        .unwrap();
        sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&hash).execute(&mut *$tx).await.unwrap();
    }};
}

// after the macros, which it uses
pub mod city;
