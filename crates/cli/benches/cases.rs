//! Case benchmarks at city scale: 3,000 grids and 2 million cases (most of
//! them long closed, some open with deadlines spread over the coming days),
//! each measure against the same statements raw in the same run:
//!
//! - filing a case through the API (routing, deadline, timeline, outbox and
//!   audit rows), 32 clients at once, against a bare one-row insert per
//!   transaction: at least a third of its rate and 3,000 a second (SQLite);
//! - the deadline sweep, minute after minute, over the 2 million: under 20 ms;
//! - a grid worker's inbox over HTTP: p99 under 10 ms.
//!
//!     cargo bench -p yijia --bench cases
//!
//! The city and its cases are made once into `YIJIA_BENCH_DIR` and reused;
//! with `YIJIA_TEST_DATABASE_URL` set everything runs on PostgreSQL.
//! `YIJIA_BENCH_CASES` makes fewer cases for a quick look.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Instant;

use yijia_service::fixtures::city;
use yijia_service::{ManualClock, Services, Settings};
use yijia_store::{Db, DbOptions};

#[macro_use]
mod common;
use common::{Row, Timing, api, login, now_ms, yijia};

const GRIDS: usize = 3_000;
const CLIENTS: usize = 32;
fn clients() -> usize {
    std::env::var("YIJIA_BENCH_CLIENTS").ok().and_then(|s| s.parse().ok()).unwrap_or(CLIENTS)
}
const PER_CLIENT: usize = 400;

struct City {
    dir: PathBuf,
    url: Option<String>,
    db: Db,
    backend: &'static str,
}

async fn city(cases: usize) -> City {
    let (dir, url) = common::bench_place("bench-cases", &format!("yijia_cases_{cases}")).await;
    // 3,000 grids with 4 residents each: the org tree, buildings and users
    let st = yijia(&dir, url.as_deref())
        .args(["bench", "gen", "--residents", &(GRIDS * 4).to_string(), "--grids", &GRIDS.to_string()])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "bench gen failed");
    let db_url = url.clone().unwrap_or_else(|| format!("sqlite://{}", dir.join("yijia.db").display()));
    let db = Db::connect(&db_url, &DbOptions { max_connections: 2, pg_schema: None }).await.unwrap();
    let (svc, _) = services(&db, now_ms());
    svc.ensure_case_catalogues().await.unwrap();
    let have = scalar!(&db, i64, "SELECT COUNT(*) FROM cases");
    if (have as usize) < cases {
        let t = Instant::now();
        common::city::fill_cases(&db, cases - have as usize).await;
        db.optimize().await.unwrap();
        eprintln!("{cases} cases ready in {:.1} s", t.elapsed().as_secs_f64());
    }
    let backend = if url.is_some() { "PostgreSQL" } else { "SQLite" };
    City { dir, url, db, backend }
}

fn services(db: &Db, at: i64) -> (Services, Arc<ManualClock>) {
    let keys = Arc::new(yijia_service::keys::Keyring::generate());
    let clock = Arc::new(ManualClock::new(at));
    (Services::new(db.clone(), clock.clone(), Settings::default(), keys), clock)
}

async fn measure(c: &City) -> Vec<Row> {
    let mut rows = Vec::new();
    let (client, base, mut server) = common::serve(&c.dir, c.url.as_deref()).await;
    let worker = login(&client, &base, "bench-worker", city::PASSWORD).await;
    let grid = city::grid_code(0);
    let (grid_id, grid_path): (i64, String) = match &c.db {
        Db::Sqlite(p) => {
            sqlx::query_as("SELECT id, path FROM org_nodes WHERE code = $1").bind(&grid).fetch_one(p).await
        }
        Db::Postgres(p) => {
            sqlx::query_as("SELECT id, path FROM org_nodes WHERE code = $1").bind(&grid).fetch_one(p).await
        }
    }
    .unwrap();
    let upper = format!("{grid_path}\u{10FFFF}");
    let sqlite = c.backend == "SQLite";

    // YIJIA_BENCH_ONLY=filing measures the filing alone (for profiling it)
    let only_filing = std::env::var("YIJIA_BENCH_ONLY").is_ok_and(|v| v == "filing");
    // 1. a grid worker's inbox: a page of open cases, its count and the counts
    let list_sql = "SELECT k.id, k.title, k.state, k.due_at, k.near_at, cc.code, cc.name, g.code, cm.code FROM cases k \
                    JOIN org_nodes cm ON cm.id = k.community_id LEFT JOIN org_nodes g ON g.id = k.grid_id \
                    JOIN case_categories cc ON cc.id = k.category_id \
                    WHERE (k.org_path >= $1 AND k.org_path < $2) AND k.open = 1 \
                    ORDER BY k.due_at IS NULL, k.due_at, k.id DESC LIMIT 50";
    let count_sql = "SELECT COUNT(*) FROM cases k WHERE (k.org_path >= $1 AND k.org_path < $2) AND k.open = 1";
    let counts_sql = "SELECT COUNT(*), COALESCE(SUM(CASE WHEN k.near_at <= $3 AND k.due_at >= $3 THEN 1 ELSE 0 END), 0), \
                      COALESCE(SUM(CASE WHEN k.due_at < $3 THEN 1 ELSE 0 END), 0) FROM cases k \
                      WHERE (k.org_path >= $1 AND k.org_path < $2) AND k.open = 1";
    let t = now_ms();
    let raw = if only_filing {
        Timing(vec![0.0])
    } else {
        common::time(|| async {
            raw!(&c.db, list_sql, &grid_path, &upper);
            raw!(&c.db, count_sql, &grid_path, &upper);
            raw!(&c.db, counts_sql, &grid_path, &upper, t);
        })
        .await
    };
    let url = format!("{base}/api/v1/cases?box=grids&per_page=50");
    let inbox = if only_filing { Timing(vec![0.0]) } else { api(&client, &url, &worker).await };
    let ok = inbox.q(0.99) < 10.0;
    rows.push(Row {
        what: "a grid worker's inbox (open cases of the grid, page, count and counts), median / p99".into(),
        value: format!("{:.2} / {:.2} ms", inbox.q(0.5), inbox.q(0.99)),
        raw: format!("{:.2} / {:.2} ms", raw.q(0.5), raw.q(0.99)),
        ratio: inbox.q(0.5) / raw.q(0.5),
        target: "p99 < 10 ms".into(),
        ok,
    });

    // 2. filing: many clients at once, each case placed by its building
    // into the next grid, so that the inbox measured above stays as it was
    let building: i64 = scalar!(
        &c.db,
        i64,
        "SELECT MIN(h.building_id) FROM households h JOIN org_nodes o ON o.id = h.grid_id WHERE o.code = $1",
        city::grid_code(1)
    );
    let n = clients() * PER_CLIENT;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..clients() {
        let (client, base, token) = (client.clone(), base.clone(), worker.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..PER_CLIENT {
                let body = serde_json::json!({
                    "category": "repair", "description": format!("楼道灯不亮 {w}-{i}"),
                    "building_id": building, "channel": "visit",
                });
                let r =
                    client.post(format!("{base}/api/v1/cases")).bearer_auth(&token).json(&body).send().await.unwrap();
                assert_eq!(r.status(), reqwest::StatusCode::CREATED, "{}", r.text().await.unwrap());
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let api_rate = n as f64 / start.elapsed().as_secs_f64();
    // the baseline: one bare row into cases, one per transaction (removed again)
    let insert = "INSERT INTO cases (community_id, grid_id, org_path, kind, category_id, priority, state, open, \
                  title, description, channel, address, reporter_name, created_by_name, accept_due, resolve_due, \
                  created_at, updated_at) \
                  SELECT community_id, $1, $2, 'request', id, 'ordinary', 'submitted', 1, 'bench-raw', '楼道灯不亮', \
                  'visit', '', '网格员', '网格员', $3, $3, $3, $3 FROM case_categories WHERE id = $4";
    let category: i64 = scalar!(&c.db, i64, "SELECT MIN(id) FROM case_categories");
    let start = Instant::now();
    for _ in 0..n {
        exec!(&c.db, insert, grid_id, &grid_path, now_ms(), category);
    }
    let raw_rate = n as f64 / start.elapsed().as_secs_f64();
    exec!(&c.db, "DELETE FROM cases WHERE title = 'bench-raw'");
    // the cases filed here, all due at the same moment tomorrow, would make
    // one burst for the sweep of a later run: they are closed again
    exec!(
        &c.db,
        "UPDATE cases SET state = 'closed', open = 0, due_at = NULL, near_at = NULL, next_alarm_at = NULL \
         WHERE description LIKE '楼道灯不亮 %-%' AND open = 1"
    );
    let ok = api_rate >= raw_rate / 3.0 && (!sqlite || api_rate >= 3000.0);
    rows.push(Row {
        what: format!("filing a case through the API, {} clients ({n} cases)", clients()),
        value: format!("{api_rate:.0} /s"),
        raw: format!("{raw_rate:.0} /s (bare insert, one per transaction)"),
        ratio: api_rate / raw_rate,
        target: if sqlite { "≥ raw / 3 and ≥ 3000 /s".into() } else { "≥ raw / 3".into() },
        ok,
    });
    server.kill().unwrap();
    server.wait().unwrap();

    // 3. the deadline sweep, minute after minute, as the job runner runs it
    // from the next alarm nobody has swept yet (earlier runs swept ahead)
    let next: Option<i64> = scalar!(&c.db, Option<i64>, "SELECT MIN(next_alarm_at) FROM cases");
    let t0 = next.unwrap_or(0).max(now_ms());
    let (svc, clock) = services(&c.db, t0);
    let backlog = svc.sweep_case_deadlines().await.unwrap();
    eprintln!("first sweep cleared a backlog: {backlog:?}");
    let due_sql = "SELECT k.id FROM cases k WHERE k.next_alarm_at <= $1 ORDER BY k.next_alarm_at, k.id LIMIT 500";
    let (mut sweeps, mut raws, mut handled) = (Vec::new(), Vec::new(), 0);
    for m in 1..=300 {
        clock.set(t0 + m * 60_000);
        let at = t0 + m * 60_000;
        let t = Instant::now();
        match &c.db {
            Db::Sqlite(p) => sqlx::query(due_sql).bind(at).fetch_all(p).await.map(|_| ()),
            Db::Postgres(p) => sqlx::query(due_sql).bind(at).fetch_all(p).await.map(|_| ()),
        }
        .unwrap();
        raws.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let r = svc.sweep_case_deadlines().await.unwrap();
        sweeps.push(t.elapsed().as_secs_f64() * 1000.0);
        handled += r.reminded + r.overdue + r.escalated;
    }
    sweeps.sort_by(f64::total_cmp);
    raws.sort_by(f64::total_cmp);
    let (sweep, raw) = (Timing(sweeps), Timing(raws));
    rows.push(Row {
        what: format!("the deadline sweep, 300 minutes ({handled} cases reminded, flagged or escalated), median / p99"),
        value: format!("{:.2} / {:.2} ms", sweep.q(0.5), sweep.q(0.99)),
        raw: format!("{:.2} / {:.2} ms (finding the due ones)", raw.q(0.5), raw.q(0.99)),
        ratio: sweep.q(0.5) / raw.q(0.5),
        target: "< 20 ms".into(),
        ok: sweep.q(0.99) < 20.0,
    });
    rows
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let cases: usize = std::env::var("YIJIA_BENCH_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(2_000_000);
        let c = city(cases).await;
        let rows = measure(&c).await;
        common::report(&format!("{}, {cases} cases, {GRIDS} grids", c.backend), &rows);
    });
}
