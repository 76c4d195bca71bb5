//! Registry benchmarks at city scale: 1.2 million residents in 3,000 grids
//! (`yijia bench gen`), four API calls each against the same question put
//! to the same database as plain SQL in the same run, and a 100,000-row
//! roster import against a plain batched insert of the same rows.
//!
//!     cargo bench -p yijia --bench registry
//!
//! The city is generated once into `YIJIA_BENCH_DIR` (default: a folder in
//! cargo's target directory) and reused. With `YIJIA_TEST_DATABASE_URL`
//! set, everything runs on PostgreSQL (database `yijia_bench`).
//! `YIJIA_BENCH_RESIDENTS` makes a smaller city for a quick look.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use yijia_service::fixtures::city;
use yijia_store::{Db, DbOptions};

#[macro_use]
mod common;
use common::{Timing, api, login, time, yijia};

const IMPORT_ROWS: usize = 100_000;

const COLS: &str = "r.id, r.uid, r.grid_id, r.household_id, r.name, r.sex, r.birth_date, r.id_number_masked, \
                    r.phone_masked, r.relation, r.residence, r.notes, r.flags, r.version, \
                    (SELECT group_concat(rc.category, ',') FROM resident_categories rc WHERE rc.resident_id = r.id)";

/// The columns of a list, its categories with each row, in this backend's words.
fn cols(db: &Db) -> String {
    match db {
        Db::Sqlite(_) => COLS.to_owned(),
        Db::Postgres(_) => COLS.replace("group_concat(rc.category, ',')", "string_agg(rc.category, ',')"),
    }
}

struct Row {
    what: String,
    api: Timing,
    raw: Timing,
}

impl Row {
    /// Within 1.5 × raw + 0.3 ms; on SQLite also a p99 under 10 ms (the
    /// issue sets that one for SQLite; PostgreSQL is compared with it).
    fn ok(&self, sqlite: bool) -> bool {
        self.api.q(0.5) <= 1.5 * self.raw.q(0.5) + 0.3 && (!sqlite || self.api.q(0.99) < 10.0)
    }
}

struct City {
    dir: PathBuf,
    url: Option<String>,
    backend: &'static str,
}

async fn city() -> City {
    let residents: usize =
        std::env::var("YIJIA_BENCH_RESIDENTS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_200_000);
    let (dir, url) = common::bench_place("bench-city", &format!("yijia_bench_{residents}")).await;
    let t = Instant::now();
    let st = yijia(&dir, url.as_deref())
        .args(["bench", "gen", "--residents", &residents.to_string()])
        .args(["--grids", &(residents / 400).max(1).to_string()])
        .status()
        .unwrap();
    assert!(st.success(), "bench gen failed");
    eprintln!("city ready in {:.1} s ({})", t.elapsed().as_secs_f64(), dir.display());
    let backend = if url.is_some() { "PostgreSQL" } else { "SQLite" };
    City { dir, url, backend }
}

async fn api_rows(c: &City) -> Vec<Row> {
    let (client, base, mut server) = common::serve(&c.dir, c.url.as_deref()).await;
    let worker = login(&client, &base, "bench-worker", city::PASSWORD).await;
    let secretary = login(&client, &base, "bench-secretary", city::PASSWORD).await;
    let url = c.url.clone().unwrap_or_else(|| format!("sqlite://{}", c.dir.join("yijia.db").display()));
    let db = Db::connect(&url, &DbOptions { max_connections: 1, pg_schema: None }).await.unwrap();
    let grid = city::grid_code(0);
    let grid_id: i64 = match &db {
        Db::Sqlite(p) => sqlx::query_scalar("SELECT id FROM org_nodes WHERE code = $1").bind(&grid).fetch_one(p).await,
        Db::Postgres(p) => {
            sqlx::query_scalar("SELECT id FROM org_nodes WHERE code = $1").bind(&grid).fetch_one(p).await
        }
    }
    .unwrap();
    let community_path = format!("/root/{}/{}/", city::street_code(0), city::community_code(0));
    let upper = format!("{community_path}\u{10FFFF}");
    let mut rows = Vec::new();

    // a grid's 50-row page with a category filter, and its count
    let cols = cols(&db);
    let page_sql = format!(
        "SELECT {cols} FROM residents r JOIN resident_categories c ON c.resident_id = r.id AND c.category = $2 \
         WHERE r.grid_id = $1 ORDER BY r.name, r.id LIMIT 50"
    );
    let count_sql = "SELECT COUNT(*) FROM residents r JOIN resident_categories rc ON rc.resident_id = r.id \
                     AND rc.category = $2 WHERE r.grid_id = $1";
    let raw = time(|| async {
        raw!(&db, page_sql.as_str(), grid_id, "party_member");
        raw!(&db, count_sql, grid_id, "party_member");
    })
    .await;
    let url = format!("{base}/api/v1/residents?grid={grid}&category=party_member&per_page=50");
    rows.push(Row {
        what: "a grid's 50-row page, category filter (grid worker)".into(),
        api: api(&client, &url, &worker).await,
        raw,
    });

    // a name search in a community (surname and the first given character)
    let name_sql = format!(
        "SELECT {cols} FROM residents r JOIN org_nodes o ON o.id = r.grid_id WHERE o.path >= $1 AND o.path < $2 \
         AND r.name >= $3 AND r.name < $4 ORDER BY r.name, r.id LIMIT 50"
    );
    let name_count = "SELECT COUNT(*) FROM residents r JOIN org_nodes o ON o.id = r.grid_id \
                      WHERE o.path >= $1 AND o.path < $2 AND r.name >= $3 AND r.name < $4";
    let raw = time(|| async {
        raw!(&db, name_sql.as_str(), &community_path, &upper, "王", "王\u{10FFFF}");
        raw!(&db, name_count, &community_path, &upper, "王", "王\u{10FFFF}");
    })
    .await;
    let url = format!("{base}/api/v1/residents?name=%E7%8E%8B&per_page=50");
    rows.push(Row {
        what: "a name search `王` in a community (secretary)".into(),
        api: api(&client, &url, &secretary).await,
        raw,
    });

    // an exact ID lookup: the number learnt by unmasking one resident
    let v: serde_json::Value = client
        .get(format!("{base}/api/v1/residents?grid={grid}&per_page=1"))
        .bearer_auth(&secretary)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = v["items"][0]["id"].as_i64().unwrap();
    let v: serde_json::Value = client
        .post(format!("{base}/api/v1/residents/{id}/unmask"))
        .bearer_auth(&secretary)
        .json(&serde_json::json!({"field": "id_number", "reason": "benchmark"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number = v["value"].as_str().unwrap_or_else(|| panic!("unmask: {v}")).to_owned();
    let index: String = match &db {
        Db::Sqlite(p) => {
            sqlx::query_scalar("SELECT id_number_index FROM residents WHERE id = $1").bind(id).fetch_one(p).await
        }
        Db::Postgres(p) => {
            sqlx::query_scalar("SELECT id_number_index FROM residents WHERE id = $1").bind(id).fetch_one(p).await
        }
    }
    .unwrap();
    // the lookup, and the line it must leave in a hash-chained log (move
    // the head, add the line, store the head's new hash), in one transaction
    let id_sql = format!("SELECT {cols} FROM residents r WHERE r.id_number_index = $1");
    // a table shaped like the audit log, so the real log's chain stays whole
    let scratch = "CREATE TABLE IF NOT EXISTS bench_audit (seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, actor_id BIGINT, \
                   actor_name TEXT NOT NULL, action TEXT NOT NULL, outcome TEXT NOT NULL, object TEXT NOT NULL, \
                   org_path TEXT NOT NULL, ip TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, \
                   hash TEXT NOT NULL)";
    let head = "CREATE TABLE IF NOT EXISTS bench_head (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL)";
    let head_row = "INSERT INTO bench_head VALUES (1, 0, '') ON CONFLICT (id) DO NOTHING";
    let (clear, reset) = ("DELETE FROM bench_audit", "UPDATE bench_head SET seq = 0, hash = ''");
    for sql in [scratch, head, head_row, clear, reset] {
        match &db {
            Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
            Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        }
        .unwrap();
    }
    let audit_sql = "INSERT INTO bench_audit VALUES ($1, 0, NULL, 'bench', 'resident_search', 'ok', 'residents', '/', \
                     '', '{}', $2, $3)";
    macro_rules! lookup {
        ($pool:expr, $begin:expr) => {{
            let mut tx = $pool.begin_with($begin).await.unwrap();
            let rows =
                sqlx::query(sqlx::AssertSqlSafe(id_sql.as_str())).bind(&index).fetch_all(&mut *tx).await.unwrap();
            assert_eq!(rows.len(), 1);
            let (seq, prev): (i64, String) =
                sqlx::query_as("UPDATE bench_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap();
            let hash = format!("{:064x}", seq ^ prev.len() as i64);
            sqlx::query(audit_sql).bind(seq).bind(&prev).bind(&hash).execute(&mut *tx).await.unwrap();
            sqlx::query("UPDATE bench_head SET hash = $1 WHERE id = 1").bind(&hash).execute(&mut *tx).await.unwrap();
            tx.commit().await.unwrap();
        }};
    }
    let raw = time(|| async {
        match &db {
            Db::Sqlite(p) => lookup!(p, "BEGIN IMMEDIATE"),
            Db::Postgres(p) => lookup!(p, "BEGIN"),
        }
    })
    .await;
    let url = format!("{base}/api/v1/residents?q={number}");
    rows.push(Row {
        what: "an exact ID number lookup, audited (secretary)".into(),
        api: api(&client, &url, &secretary).await,
        raw,
    });

    // the category counts of a community (10 grids, about 4,000 residents)
    // residents, residents per category, and children (by birth date)
    // per grid: the three counts the page shows
    let counts_sql = "SELECT o.code, '', COUNT(*) FROM residents r JOIN org_nodes o ON o.id = r.grid_id \
                      WHERE o.path >= $1 AND o.path < $2 GROUP BY o.code \
                      UNION ALL SELECT o.code, rc.category, COUNT(*) FROM resident_categories rc \
                      JOIN residents r ON r.id = rc.resident_id JOIN org_nodes o ON o.id = r.grid_id \
                      WHERE o.path >= $1 AND o.path < $2 GROUP BY o.code, rc.category \
                      UNION ALL SELECT o.code, 'child', COUNT(*) FROM residents r JOIN org_nodes o ON o.id = r.grid_id \
                      WHERE o.path >= $1 AND o.path < $2 AND r.birth_date > $3 GROUP BY o.code";
    let born_after = format!("{}-11-29", 2026 - 14);
    let raw = time(|| async { raw!(&db, counts_sql, &community_path, &upper, &born_after) }).await;
    let url = format!("{base}/api/v1/residents/categories");
    rows.push(Row {
        what: "category counts of a community (secretary)".into(),
        api: api(&client, &url, &secretary).await,
        raw,
    });
    server.kill().unwrap();
    server.wait().unwrap();
    rows
}

/// A roster like the fixture's: a title row, a header, ten sheets 第N网格.
fn roster(n: usize) -> Vec<u8> {
    use rust_xlsxwriter::Workbook;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let estates = vec!["丁香花园".to_owned(), "丁香花园三期".to_owned()];
    let people = yijia_service::fixtures::demo::people::generate(99, n, &["g".to_owned()], &estates, today);
    let mut wb = Workbook::new();
    let header = [
        "序号",
        "姓名",
        "性别",
        "公民身份号码",
        "出生日期",
        "联系电话",
        "小区",
        "楼栋",
        "单元",
        "门牌号",
        "人员类别",
        "备注",
    ];
    for (s, chunk) in people.chunks(n.div_ceil(6)).enumerate() {
        let ws = wb.add_worksheet();
        ws.set_name(format!("第{}网格", s + 1)).unwrap();
        ws.write(0, 0, "城南社区居民花名册").unwrap();
        for (c, h) in header.iter().enumerate() {
            ws.write(1, c as u16, *h).unwrap();
        }
        for (i, p) in chunk.iter().enumerate() {
            let r = i as u32 + 2;
            let id = p.id_number.clone().unwrap_or_default();
            let h = p.household.clone().unwrap();
            let cats: Vec<&str> = p.categories.iter().map(|c| c.category.name_zh()).collect();
            let sex = if id.as_bytes()[16] % 2 == 1 { "男" } else { "女" };
            let birth =
                format!("{}.{}.{}", &id[6..10], id[10..12].trim_start_matches('0'), id[12..14].trim_start_matches('0'));
            let cells = [
                (i + 1).to_string(),
                p.name.clone(),
                sex.into(),
                id,
                birth,
                p.phone.clone().unwrap_or_default(),
                h.estate,
                h.building,
                h.entrance,
                h.door,
                cats.join("、"),
                String::new(),
            ];
            for (c, v) in cells.iter().enumerate() {
                ws.write(r, c as u16, v.as_str()).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

async fn import_row() -> (f64, f64, usize, &'static str) {
    use yijia_service::{Caller, Services, Settings, SystemClock};
    let book = roster(IMPORT_ROWS);
    let db = yijia_store::testing::TestDb::new().await;
    let backend = if matches!(db.db, Db::Sqlite(_)) { "SQLite" } else { "PostgreSQL" };
    let keys = Arc::new(yijia_service::keys::Keyring::generate());
    let svc = Services::new(db.db.clone(), Arc::new(SystemClock), Settings::default(), keys);
    svc.fixtures().seed_demo().await.unwrap();
    let t = Instant::now();
    let r = svc
        .import_residents(&Caller::operator(), &book, "chengnan", &Default::default(), false, &|_, _| {})
        .await
        .unwrap();
    let import = t.elapsed().as_secs_f64();
    assert!(r.bad.is_empty(), "{:?}", &r.bad[..r.bad.len().min(3)]);

    // the baseline: the same number of rows, already made, in one
    // transaction of 500-row statements into a table of the same shape
    let create = "CREATE TABLE bench_raw (id BIGINT PRIMARY KEY, name TEXT NOT NULL, sex TEXT, birth_date TEXT, \
                  id_number_sealed TEXT, id_number_index TEXT, phone_sealed TEXT, phone_index TEXT, grid_id BIGINT)";
    // SQLite gets anonymous parameters: sqlx finds named ones by a linear scan
    let values: Vec<String> = (0..500)
        .map(|i| match &db.db {
            Db::Sqlite(_) => "(?, ?, ?, ?, ?, ?, ?, ?, ?)".to_owned(),
            Db::Postgres(_) => {
                let b = i * 9;
                let p: Vec<String> = (1..=9).map(|k| format!("${}", b + k)).collect();
                format!("({})", p.join(", "))
            }
        })
        .collect();
    let insert = format!("INSERT INTO bench_raw VALUES {}", values.join(", "));
    let sealed = "x".repeat(120);
    let index = "y".repeat(64);
    let t = Instant::now();
    macro_rules! load {
        ($pool:expr) => {{
            sqlx::query(create).execute($pool).await.unwrap();
            let mut tx = $pool.begin().await.unwrap();
            for b in 0..IMPORT_ROWS / 500 {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(insert.as_str()));
                for i in 0..500 {
                    let id = (b * 500 + i) as i64;
                    q = q
                        .bind(id)
                        .bind("王小红")
                        .bind("female")
                        .bind("1945-03-02")
                        .bind(&sealed)
                        .bind(format!("{index}{id}"))
                        .bind(&sealed)
                        .bind(&index)
                        .bind(1_i64);
                }
                q.execute(&mut *tx).await.unwrap();
            }
            tx.commit().await.unwrap();
        }};
    }
    match &db.db {
        Db::Sqlite(p) => load!(p),
        Db::Postgres(p) => load!(p),
    }
    let raw = t.elapsed().as_secs_f64();
    (import, raw, r.imported, backend)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        // YIJIA_BENCH_ONLY=import skips the city (for looking into the import)
        let import_only = std::env::var("YIJIA_BENCH_ONLY").is_ok_and(|v| v == "import");
        let (c, rows) = if import_only {
            (City { dir: PathBuf::new(), url: None, backend: "import only" }, vec![])
        } else {
            let c = city().await;
            let rows = api_rows(&c).await;
            (c, rows)
        };
        let (import, raw_import, imported, _) = import_row().await;
        let sqlite = c.backend == "SQLite";
        let target = if sqlite { "≤ 1.5 × raw + 0.3 ms, p99 < 10 ms" } else { "≤ 1.5 × raw + 0.3 ms" };
        println!("| measure ({}) | API median | API p99 | raw median | raw p99 | median ratio | target |", c.backend);
        println!("|---|---|---|---|---|---|---|");
        for r in &rows {
            println!(
                "| {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} | {target}: {} |",
                r.what,
                r.api.q(0.5),
                r.api.q(0.99),
                r.raw.q(0.5),
                r.raw.q(0.99),
                r.api.q(0.5) / r.raw.q(0.5),
                if r.ok(sqlite) { "met" } else { "MISSED" }
            );
        }
        let import_ok = import < 10.0 && imported == IMPORT_ROWS;
        println!(
            "| import of a {IMPORT_ROWS}-row roster (6 sheets) | {import:.1} s ({:.0} rows/s) | | plain batched insert of as many rows {raw_import:.2} s | | {:.1} | < 10 s: {} |",
            IMPORT_ROWS as f64 / import,
            import / raw_import,
            if import_ok { "met" } else { "MISSED" }
        );
        let passed = rows.iter().filter(|r| r.ok(sqlite)).count() + usize::from(import_ok);
        println!("\nbench: {passed} passed, {} failed", rows.len() + 1 - passed);
        if passed != rows.len() + 1 {
            std::process::exit(1);
        }
    });
}
