//! Backup and restore of the 1.2-million city on SQLite, each against its
//! raw floor measured in the same run:
//!
//! - `yijia backup` (the snapshot with the residents' keys zeroed, the files,
//!   tar, age, and the keys file beside it) against SQLite's own
//!   `VACUUM INTO` of the same database, one plain copy of that file (the
//!   least a consistent copy into one archive writes) and the keys table
//!   written to a file of its own (which crypto-shredding keeps apart from
//!   every backup): within 1.5×;
//! - `yijia restore` (decrypt, unpack, the residents' keys read back, then
//!   the audit chain, the tallies and the seals checked) against copying
//!   the database file, writing the keys from that file back into it with
//!   plain batched upserts, and running `yijia audit verify` and `yijia
//!   tallies check` on it: within 2×.
//!
//!     cargo bench -p yijia --bench backup
//!
//! The city is made once into `YIJIA_BENCH_DIR` and reused;
//! `YIJIA_BENCH_RESIDENTS` makes a smaller one. On PostgreSQL the copy is
//! `pg_dump`'s (docs/backup.md): this bench says so and stops.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly

use std::process::Command;
use std::time::Instant;

use yijia_store::Db;

#[macro_use]
mod common;
use common::{Row, env_or, yijia};

const GRIDS: usize = 3_000;

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

/// Lets the disk write back what the step before left in the page cache,
/// so that no timed step pays for the one before it.
fn settle() {
    assert!(Command::new("sync").status().unwrap().success());
}

fn ok(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{said}");
    said
}

#[tokio::main]
async fn main() {
    if std::env::var(yijia_store::testing::ENV).is_ok() {
        println!("PostgreSQL: backups are pg_dump's (docs/backup.md); nothing to time here");
        return;
    }
    let residents = env_or("YIJIA_BENCH_RESIDENTS", 1_200_000);
    let (dir, _) = common::bench_place("bench-backup", &format!("yijia_backup_{residents}")).await;
    let db = common::gen_city(&dir, None, residents, GRIDS).await;
    let people = scalar!(&db, i64, "SELECT COUNT(*) FROM residents");
    let work = tempfile::tempdir_in(dir.parent().unwrap()).unwrap();
    let (identity, public) = (work.path().join("id.txt"), {
        let out = ok(yijia(&dir, None).args(["keys", "backup-keygen", "--out"]).arg(work.path().join("id.txt")));
        out.lines().next().unwrap().trim().to_owned()
    });

    // raw: SQLite's own consistent copy, then that file copied once more
    // (yijia writes its archive from the snapshot the same way)
    let raw_copy = work.path().join("raw.db");
    settle();
    let t = Instant::now();
    exec!(&db, "VACUUM INTO $1", raw_copy.to_str().unwrap());
    let vacuum = secs(t);
    std::fs::copy(&raw_copy, work.path().join("raw-archive.db")).unwrap();
    std::fs::File::open(work.path().join("raw-archive.db")).unwrap().sync_all().unwrap();
    // the keys apart, 5,000 lines a statement, joined in the database
    let raw_keys = work.path().join("raw-keys.txt");
    {
        use std::io::Write as _;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&raw_keys).unwrap());
        let mut after = 0_i64;
        loop {
            let (last, block): (Option<i64>, Option<String>) = rows!(
                &db,
                (Option<i64>, Option<String>),
                "SELECT MAX(id), string_agg(line, char(10)) FROM (SELECT r.id AS id, \
                 CAST(r.id AS TEXT) || char(9) || r.uid || char(9) || k.wrapped AS line FROM resident_keys k \
                 JOIN residents r ON r.id = k.resident_id WHERE k.resident_id > $1 ORDER BY k.resident_id LIMIT 5000)",
                after
            )
            .remove(0);
            let (Some(last), Some(block)) = (last, block) else { break };
            writeln!(out, "{block}").unwrap();
            after = last;
        }
        out.into_inner().unwrap().sync_all().unwrap();
    }
    let raw_backup = secs(t);
    std::fs::remove_file(work.path().join("raw-archive.db")).unwrap();
    let db_bytes = std::fs::metadata(&raw_copy).unwrap().len();
    db.close().await;

    let out = work.path().join("city.tar.age");
    settle();
    let t = Instant::now();
    ok(yijia(&dir, None).args(["backup", "--recipient", &public, "--out"]).arg(&out));
    let backup = secs(t);
    let backup_bytes = std::fs::metadata(&out).unwrap().len();

    // raw: a plain copy of the file, then the same two checks on it
    let plain = work.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    settle();
    let t = Instant::now();
    std::fs::copy(&raw_copy, plain.join("yijia.db")).unwrap();
    std::fs::copy(dir.join("master.key"), plain.join("master.key")).unwrap();
    {
        let url = format!("sqlite://{}", plain.join("yijia.db").display());
        let db = Db::connect(&url, &yijia_store::DbOptions { max_connections: 1, pg_schema: None }).await.unwrap();
        let text = std::fs::read_to_string(&raw_keys).unwrap();
        let lines: Vec<(i64, &str)> = text
            .lines()
            .map(|l| {
                let mut f = l.split('\t');
                (f.next().unwrap().parse().unwrap(), f.nth(1).unwrap())
            })
            .collect();
        for batch in lines.chunks(5000) {
            let mut tx = db.write().await.unwrap();
            for rows in batch.chunks(500) {
                let values = vec!["(?, ?)"; rows.len()].join(", ");
                let sql = format!(
                    "INSERT INTO resident_keys (resident_id, wrapped) VALUES {values} \
                     ON CONFLICT (resident_id) DO UPDATE SET wrapped = excluded.wrapped"
                );
                yijia_store::on_tx!(&mut tx, c => {
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                    for (id, wrapped) in rows {
                        q = q.bind(*id).bind(*wrapped);
                    }
                    q.execute(&mut *c).await.unwrap();
                });
            }
            tx.commit().await.unwrap();
        }
        db.close().await;
    }
    ok(yijia(&plain, None).args(["audit", "verify"]));
    ok(yijia(&plain, None).args(["tallies", "check"]));
    let raw_restore = secs(t);

    let restored = work.path().join("restored");
    settle();
    let t = Instant::now();
    let said = ok(yijia(&restored, None)
        .arg("restore")
        .arg(&out)
        .arg("--identity")
        .arg(&identity)
        .arg("--master-key")
        .arg(dir.join("master.key"))
        .arg("--data-keys")
        .arg(work.path().join("data-keys.age")));
    let restore = secs(t);
    assert!(said.contains("tallies exact"), "{said}");

    let mb = |b: u64| format!("{:.0} MB", b as f64 / 1e6);
    let rows = [
        Row {
            what: format!("`yijia backup` of {people} residents ({} → {})", mb(db_bytes), mb(backup_bytes)),
            value: format!("{backup:.1} s"),
            raw: format!("{raw_backup:.1} s (VACUUM INTO {vacuum:.1} s + a copy + the keys to a file)"),
            ratio: backup / raw_backup,
            target: "≤ 1.5×".into(),
            ok: backup <= 1.5 * raw_backup,
        },
        Row {
            what: "`yijia restore`, checked (audit, tallies, seals)".into(),
            value: format!("{restore:.1} s"),
            raw: format!("{raw_restore:.1} s (copy + keys back + audit verify + tallies check)"),
            ratio: restore / raw_restore,
            target: "≤ 2×".into(),
            ok: restore <= 2.0 * raw_restore,
        },
    ];
    common::report("backup, SQLite", &rows);
}
