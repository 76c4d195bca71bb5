//! Visit benchmarks at city scale: 1.2 million residents in 3,000 grids and
//! 10 million visits, each measure against the same statements raw in the
//! same run:
//!
//! - loading 10 million visit records in bulk (the store's multi-row insert
//!   that the batch API uses, 10,000 to a transaction): under 5 minutes, and
//!   its rate against a plain multi-row insert of the same rows;
//! - today's walk list of a grid of more than 500 households over HTTP: p99
//!   under 20 ms;
//! - a phone's queue of 50 visits through the API (scope, plans, audit)
//!   against a raw batched insert of what accepting them writes (the 50
//!   visits, their residents' plans, one audit line, in one transaction):
//!   at least half its rate; the bare insert of the 50 visits is shown too.
//!
//!     cargo bench -p yijia --bench visits
//!
//! The city and its visits are made once into `YIJIA_BENCH_DIR` and reused;
//! with `YIJIA_TEST_DATABASE_URL` set everything runs on PostgreSQL.
//! `YIJIA_BENCH_RESIDENTS` and `YIJIA_BENCH_VISITS` make a smaller city.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use yijia_service::fixtures::city;
use yijia_store::Db;
use yijia_store::visits::NewVisit;

#[macro_use]
mod common;
use common::city::{Gen, Planned, load_visits, new_visit, nth, today, ymd};
use common::{Row, api, env_or, login, now_ms};

const GRIDS: usize = 3_000;
const LOAD_TX: usize = 10_000;
const BATCHES: usize = 300;

struct City {
    dir: PathBuf,
    url: Option<String>,
    db: Db,
    backend: &'static str,
    /// Seconds to load the visits, and how many (when loaded in this run).
    load: Option<(f64, usize)>,
}

/// Binds the 14 columns of a raw visit insert, row after row.
macro_rules! bind_visits {
    ($q:expr, $rows:expr) => {{
        let mut q = $q;
        for v in $rows {
            q = q
                .bind(v.client_id)
                .bind(v.resident_id)
                .bind(v.household_id)
                .bind(v.grid_id)
                .bind(v.visitor_id)
                .bind(v.visitor_name)
                .bind(v.visited_at)
                .bind(v.visited_on)
                .bind(v.mode)
                .bind(v.health)
                .bind(v.living)
                .bind(v.needs)
                .bind(v.safety)
                .bind(v.now);
        }
        q
    }};
}

async fn city(residents: usize, n_visits: usize) -> City {
    let (dir, url) = common::bench_place("bench-visits", &format!("yijia_visits_{residents}_{n_visits}")).await;
    let db = common::gen_city(&dir, url.as_deref(), residents, GRIDS).await;
    let backend = if url.is_some() { "PostgreSQL" } else { "SQLite" };
    let have = scalar!(&db, i64, "SELECT COUNT(*) FROM visits") as usize;
    // the plans are set again each run: the batches of an earlier run moved them
    let planned = prepare(&db).await;
    let load = if have < n_visits {
        let t = Instant::now();
        load_visits(&db, &planned, have, n_visits).await;
        let secs = t.elapsed().as_secs_f64();
        eprintln!("{} visits loaded in {secs:.1} s", n_visits - have);
        db.optimize().await.unwrap();
        Some((secs, n_visits - have))
    } else {
        None
    };
    City { dir, url, db, backend, load }
}

/// The grid walked: the first grid takes the households of the next three,
/// so that it has more than 500; everyone under a plan gets a last contact
/// and a due date, some of them overdue.
async fn prepare(db: &Db) -> Vec<Planned> {
    let ids: Vec<(i64,)> = rows!(
        db,
        (i64,),
        "SELECT id FROM org_nodes WHERE code IN ($1, $2, $3, $4) ORDER BY code",
        city::grid_code(0),
        city::grid_code(1),
        city::grid_code(2),
        city::grid_code(3)
    );
    let g0 = ids[0].0;
    for (g,) in &ids[1..] {
        exec!(db, "UPDATE households SET grid_id = $1 WHERE grid_id = $2", g0, *g);
        exec!(db, "UPDATE residents SET grid_id = $1 WHERE grid_id = $2", g0, *g);
        exec!(db, "UPDATE care_plans SET grid_id = $1 WHERE grid_id = $2", g0, *g);
    }
    common::city::plan_everyone(db).await
}

/// The plain statement the store uses, run directly: `n` rows, 10,000 to a
/// transaction, 100 to a statement, into a copy of the table with the same
/// indexes; the rate in rows a second.
async fn raw_load(db: &Db, planned: &[Planned], n: usize) -> f64 {
    exec!(db, "DROP TABLE IF EXISTS bench_visits");
    match db {
        Db::Sqlite(_) => exec!(db, "CREATE TABLE bench_visits AS SELECT * FROM visits WHERE 0 = 1"),
        Db::Postgres(_) => exec!(db, "CREATE TABLE bench_visits (LIKE visits INCLUDING DEFAULTS INCLUDING IDENTITY)"),
    }
    exec!(db, "CREATE UNIQUE INDEX bench_visits_client ON bench_visits (client_id)");
    exec!(db, "CREATE INDEX bench_visits_resident ON bench_visits (resident_id, visited_at)");
    exec!(db, "CREATE INDEX bench_visits_grid ON bench_visits (grid_id, visited_on)");
    exec!(
        db,
        "CREATE INDEX bench_visits_household ON bench_visits (household_id, visited_on) WHERE resident_id IS NULL"
    );
    let today = today();
    let midnight = now_ms();
    let cols = "client_id, resident_id, household_id, grid_id, visitor_id, visitor_name, visited_at, visited_on, \
                mode, health, living, needs, safety, notes_sealed, next_visit_on, case_id, photo_file, photo_type, \
                created_at";
    let sql = format!("INSERT INTO bench_visits ({cols}) VALUES {}", values(db, 100, 19));
    let start = Instant::now();
    let mut i = 0;
    while i < n {
        let gens: Vec<Gen> = (i..i + LOAD_TX).map(|k| nth(planned, k + 20_000_000, today, midnight)).collect();
        macro_rules! go {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await.unwrap();
                for chunk in gens.chunks(100) {
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                    for g in chunk {
                        q = q
                            .bind(&g.client_id)
                            .bind(g.resident)
                            .bind(g.household)
                            .bind(g.grid)
                            .bind(None::<i64>)
                            .bind("网格员")
                            .bind(g.visited_at)
                            .bind(&g.visited_on)
                            .bind("at_home")
                            .bind("well")
                            .bind("well")
                            .bind("well")
                            .bind("well")
                            .bind(None::<String>)
                            .bind(None::<String>)
                            .bind(None::<i64>)
                            .bind(None::<String>)
                            .bind(None::<String>)
                            .bind(g.visited_at);
                    }
                    q.execute(&mut *tx).await.unwrap();
                }
                tx.commit().await.unwrap();
            }};
        }
        match db {
            Db::Sqlite(p) => go!(p),
            Db::Postgres(p) => go!(p),
        }
        i += LOAD_TX;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    exec!(db, "DROP TABLE bench_visits");
    rate
}

async fn measure(c: &City, n_visits: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    let planned: Vec<Planned> = rows!(
        &c.db,
        Planned,
        "SELECT r.id, r.household_id, r.grid_id, cp.days FROM residents r JOIN care_plans cp ON cp.resident_id = r.id \
         WHERE cp.days IS NOT NULL ORDER BY r.id"
    );
    // 1. the bulk load: as loaded (when this run loaded it), against the raw statement
    let raw_rate = raw_load(&c.db, &planned, 500_000).await;
    if let Some((secs, n)) = c.load {
        let rate = n as f64 / secs;
        let whole = n_visits as f64 / rate;
        rows.push(Row {
            what: format!("loading {n} visit records in bulk (10,000 to a transaction)"),
            value: format!("{secs:.0} s ({rate:.0} /s; {n_visits} would take {whole:.0} s)"),
            raw: format!("{raw_rate:.0} /s (the same insert, plain)"),
            ratio: rate / raw_rate,
            target: "10 million < 5 min".into(),
            ok: whole < 300.0,
        });
    } else {
        eprintln!("the visits were loaded by an earlier run; its time is in BENCHMARKS.md");
    }

    // 2. the walk list of the big grid, over HTTP
    let (client, base, mut server) = common::serve(&c.dir, c.url.as_deref()).await;
    let worker = login(&client, &base, "bench-worker", city::PASSWORD).await;
    let grid = city::grid_code(0);
    let g0: i64 = scalar!(&c.db, i64, "SELECT id FROM org_nodes WHERE code = $1", &grid);
    let households: i64 = scalar!(&c.db, i64, "SELECT COUNT(*) FROM households WHERE grid_id = $1", g0);
    let until = ymd(today());
    let walk_sql = "SELECT r.id, r.name, r.grid_id, r.household_id, h.building_id, e.name, b.name, h.entrance, \
                    h.door, cp.last_contact_on, cp.due_on, cp.days FROM care_plans cp \
                    JOIN residents r ON r.id = cp.resident_id \
                    LEFT JOIN households h ON h.id = r.household_id LEFT JOIN buildings b ON b.id = h.building_id \
                    LEFT JOIN estates e ON e.id = b.estate_id WHERE cp.grid_id IN ($1) \
                    AND cp.due_on IS NOT NULL AND cp.due_on <= $2 ORDER BY cp.due_on, cp.resident_id LIMIT 501";
    let due_now: i64 = scalar!(
        &c.db,
        i64,
        "SELECT COUNT(*) FROM care_plans WHERE grid_id = $1 AND due_on IS NOT NULL AND due_on <= $2",
        g0,
        &until
    );
    let ids: Vec<(i64,)> = rows!(
        &c.db,
        (i64,),
        "SELECT resident_id FROM care_plans WHERE grid_id = $1 AND due_on IS NOT NULL AND due_on <= $2 LIMIT 500",
        g0,
        &until
    );
    let id_list = ids.iter().map(|(i,)| i.to_string()).collect::<Vec<_>>().join(", ");
    let cats_sql =
        format!("SELECT resident_id, category FROM resident_categories WHERE resident_id IN ({id_list}) ORDER BY 1, 2");
    let beside_sql = "SELECT id, building_id, kind, state, title, due_at FROM cases WHERE building_id IN \
                      (SELECT DISTINCT h.building_id FROM households h WHERE h.grid_id = $1) AND open = 1 LIMIT 200";
    let raw = common::time(|| async {
        raw!(&c.db, walk_sql, g0, &until);
        match &c.db {
            Db::Sqlite(p) => sqlx::query(sqlx::AssertSqlSafe(cats_sql.as_str())).fetch_all(p).await.map(|_| ()),
            Db::Postgres(p) => sqlx::query(sqlx::AssertSqlSafe(cats_sql.as_str())).fetch_all(p).await.map(|_| ()),
        }
        .unwrap();
        match &c.db {
            Db::Sqlite(p) => sqlx::query(beside_sql).bind(g0).fetch_all(p).await.map(|_| ()),
            Db::Postgres(p) => sqlx::query(beside_sql).bind(g0).fetch_all(p).await.map(|_| ()),
        }
        .unwrap();
    })
    .await;
    let walk = api(&client, &format!("{base}/api/v1/walk-list?grid={grid}"), &worker).await;
    rows.push(Row {
        what: format!("today's walk list of a grid of {households} households ({due_now} people due), median / p99"),
        value: format!("{:.2} / {:.2} ms", walk.q(0.5), walk.q(0.99)),
        raw: format!("{:.2} / {:.2} ms", raw.q(0.5), raw.q(0.99)),
        ratio: walk.q(0.5) / raw.q(0.5),
        target: "p99 < 20 ms".into(),
        ok: walk.q(0.99) < 20.0 && households >= 500,
    });

    // 3. a phone's queue of 50 visits, one batch after another
    let people: Vec<(i64,)> = rows!(
        &c.db,
        (i64,),
        "SELECT resident_id FROM care_plans WHERE grid_id = $1 AND days IS NOT NULL LIMIT 500",
        g0
    );
    let run = now_ms();
    let start = Instant::now();
    for b in 0..BATCHES {
        let visits: Vec<serde_json::Value> = (0..50)
            .map(|k| {
                let (rid,) = people[(b * 50 + k) % people.len()];
                serde_json::json!({"client_id": format!("bench-{run}-{b}-{k}"), "resident_id": rid})
            })
            .collect();
        let r = client
            .post(format!("{base}/api/v1/visits/batch"))
            .bearer_auth(&worker)
            .json(&serde_json::json!({ "visits": visits }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        let v: serde_json::Value = r.json().await.unwrap();
        assert!(v["results"].as_array().unwrap().iter().all(|x| x["status"] == "recorded"), "{v}");
    }
    let api_rate = (BATCHES * 50) as f64 / start.elapsed().as_secs_f64();
    server.kill().unwrap();
    server.wait().unwrap();
    // the baseline: the same 50 rows, one multi-row insert in its own transaction
    let today = today();
    let midnight = now_ms();
    let start = Instant::now();
    for b in 0..BATCHES {
        let gens: Vec<Gen> = (0..50).map(|k| nth(&planned, 30_000_000 + b * 50 + k, today, midnight)).collect();
        let rows50: Vec<NewVisit<'_>> =
            gens.iter().map(|g| NewVisit { client_id: &g.client_id, ..new_visit(g) }).collect();
        let sql = format!(
            "INSERT INTO visits (client_id, resident_id, household_id, grid_id, visitor_id, visitor_name, \
             visited_at, visited_on, mode, health, living, needs, safety, created_at) VALUES {}",
            values(&c.db, 50, 14)
        );
        macro_rules! go {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await.unwrap();
                bind_visits!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), &rows50).execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
            }};
        }
        match &c.db {
            Db::Sqlite(p) => go!(p),
            Db::Postgres(p) => go!(p),
        }
    }
    let raw_rate = (BATCHES * 50) as f64 / start.elapsed().as_secs_f64();
    exec!(&c.db, "DELETE FROM visits WHERE client_id >= 'bulk-0030000000' AND client_id < 'bulk-1'");
    let full_rate = raw_batches_with_plans(c, &planned, &people, run).await;
    // the target: accepting a batch is the visits, the plans they move and
    // the audit line; the bare insert of the visits alone is for reading
    rows.push(Row {
        what: format!("a phone's queue of 50 visits through the API, {BATCHES} batches one after another"),
        value: format!("{api_rate:.0} visits/s"),
        raw: format!("{full_rate:.0} /s (what the API writes, raw: the 50 visits, their plans, one audit line)"),
        ratio: api_rate / full_rate,
        target: "≥ raw / 2".into(),
        ok: api_rate >= full_rate / 2.0,
    });
    rows.push(Row {
        what: "the same, against the visits' rows alone".into(),
        value: format!("{api_rate:.0} visits/s"),
        raw: format!("{raw_rate:.0} /s (one 50-row insert per transaction, no plans, no audit)"),
        ratio: api_rate / raw_rate,
        target: "(for reading)".into(),
        ok: true,
    });
    rows
}

/// `rows` rows of `cols` placeholders, for a raw multi-row insert.
fn values(db: &Db, rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let one: Vec<String> = (1..=cols)
                .map(|k| match db {
                    Db::Sqlite(_) => "?".to_owned(),
                    Db::Postgres(_) => format!("${}", r * cols + k),
                })
                .collect();
            format!("({})", one.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rate of writing, raw, what the API writes for a phone's batch: the
/// 50 visits in one insert, the plans of their residents moved in one
/// upsert, and one audit line on the chain, in one transaction.
async fn raw_batches_with_plans(c: &City, planned: &[Planned], people: &[(i64,)], run: i64) -> f64 {
    let of: HashMap<i64, (Option<i64>, i64)> = planned.iter().map(|(r, h, g, _)| (*r, (*h, *g))).collect();
    let today = today();
    let on = ymd(today);
    let due = ymd(today + chrono::Days::new(7));
    let start = Instant::now();
    for b in 0..BATCHES {
        let gens: Vec<Gen> = (0..50)
            .map(|k| {
                let (rid,) = people[(b * 50 + k) % people.len()];
                let (household, grid) = of[&rid];
                Gen {
                    client_id: format!("rawfull-{run}-{b}-{k}"),
                    visited_on: on.clone(),
                    visited_at: run,
                    resident: rid,
                    household,
                    grid,
                }
            })
            .collect();
        let mut whom: Vec<(i64, i64)> = gens.iter().map(|g| (g.resident, g.grid)).collect();
        whom.sort_unstable();
        whom.dedup();
        let visits_sql = format!(
            "INSERT INTO visits (client_id, resident_id, household_id, grid_id, visitor_id, visitor_name, \
             visited_at, visited_on, mode, health, living, needs, safety, created_at) VALUES {}",
            values(&c.db, 50, 14)
        );
        let plans_sql = format!(
            "INSERT INTO care_plans (resident_id, grid_id, last_contact_on, due_on, days) VALUES {} \
             ON CONFLICT (resident_id) DO UPDATE SET last_contact_on = excluded.last_contact_on, \
             due_on = excluded.due_on, days = excluded.days",
            values(&c.db, whom.len(), 5)
        );
        let object = format!("visit:bench-{b}");
        macro_rules! go {
            ($pool:expr) => {{
                let mut tx = $pool.begin().await.unwrap();
                let rows: Vec<NewVisit<'_>> = gens.iter().map(new_visit).collect();
                bind_visits!(sqlx::query(sqlx::AssertSqlSafe(visits_sql.as_str())), &rows)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                let mut q = sqlx::query(sqlx::AssertSqlSafe(plans_sql.as_str()));
                for (r, g) in &whom {
                    q = q.bind(*r).bind(*g).bind(&on).bind(&due).bind(7_i64);
                }
                q.execute(&mut *tx).await.unwrap();
                raw_audit_line!(tx, "visit", object.as_str(), run);
                tx.commit().await.unwrap();
            }};
        }
        match &c.db {
            Db::Sqlite(p) => go!(p),
            Db::Postgres(p) => go!(p),
        }
    }
    (BATCHES * 50) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let residents = env_or("YIJIA_BENCH_RESIDENTS", 1_200_000);
        let n_visits = env_or("YIJIA_BENCH_VISITS", 10_000_000);
        let c = city(residents, n_visits).await;
        let rows = measure(&c, n_visits).await;
        common::report(&format!("{}, {residents} residents, {n_visits} visits", c.backend), &rows);
    });
}
