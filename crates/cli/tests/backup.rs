//! `yijia backup` under write load, then `yijia restore` into a new
//! directory: every redemption answered before the backup began is in it,
//! the restored server starts, and `audit verify` and `tallies check` pass.
//! The backup is age-encrypted and holds no master key; a restore without
//! the right keys keeps nothing. The server's own schedule takes a backup
//! at start and keeps the newest few.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yijia_store::{Db, DbOptions};
use yijia_testkit::{Served, wait_ready};

mod common;
use common::{PASSWORD, keygen, run, text, yijia};

fn serve(dir: &Path, demo: bool, envs: &[(&str, &str)]) -> Served {
    let mut cmd = yijia(&["serve", "--addr", "127.0.0.1:0", "--data-dir"]);
    cmd.arg(dir).env("YIJIA_POINTS_APPROVAL_LIMIT", "100000000").stderr(Stdio::null());
    if demo {
        cmd.arg("--demo");
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    Served::start(cmd)
}

async fn call(c: &reqwest::Client, base: &str, token: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let method = if body.is_some() { Method::POST } else { Method::GET };
    yijia_testkit::call(c, method, &format!("{base}{path}"), token, body.as_ref()).await
}

/// `yijia restore` of a backup with its identity and master key, into `dir`.
/// The residents' own keys are beside the backup.
fn restore(out: &Path, identity: &Path, key: &Path, dir: &Path) -> Command {
    let mut cmd = yijia(&["restore"]);
    cmd.arg(out).arg("--identity").arg(identity).arg("--master-key").arg(key).arg("--data-dir").arg(dir);
    cmd.arg("--data-keys").arg(out.with_file_name("data-keys.age"));
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_load_restores_whole_and_checked() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let (identity, public) = keygen(d.path(), "backup-identity.txt");
    yijia_service::webhooks::install_tls();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let server = serve(&data, true, &[]);
    let base = server.url.clone();
    wait_ready(&client, &base).await;

    // the shop: rice in stock, three residents with points
    let staff = yijia_testkit::login(&client, &base, "staff", PASSWORD).await;
    let clerk = yijia_testkit::login(&client, &base, "clerk", PASSWORD).await;
    let (_, accounts) = call(&client, &base, &staff, "/api/v1/points/accounts", None).await;
    let pool = accounts.as_array().unwrap().iter().find(|a| a["kind"] == "pool").unwrap()["id"].as_i64().unwrap();
    let (_, people) = call(&client, &base, &staff, "/api/v1/residents?per_page=3", None).await;
    let people: Vec<i64> = people["items"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
    for p in &people {
        let (_, a) = call(&client, &base, &staff, &format!("/api/v1/residents/{p}/points"), None).await;
        let award = json!({"client_id": format!("seed-{p}"), "transfers": [{"from": pool, "to": a["id"], "amount": 1_000_000, "memo": "志愿服务"}]});
        assert_eq!(call(&client, &base, &staff, "/api/v1/points/transfers", Some(award)).await.0, StatusCode::CREATED);
    }
    let (_, item) =
        call(&client, &base, &clerk, "/api/v1/shop/items", Some(json!({"name": "大米 5kg(备份)", "price": 5}))).await;
    let item = item["id"].as_i64().unwrap();
    let stock = json!({"change": 100_000, "reason": "到货"});
    call(&client, &base, &clerk, &format!("/api/v1/shop/items/{item}/stock"), Some(stock)).await;

    // redemptions keep coming while the backup is taken
    let acked: Arc<Mutex<HashMap<String, i64>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for k in 0..3 {
        let (c, base, clerk, acked, stop, people) =
            (client.clone(), base.clone(), clerk.clone(), acked.clone(), stop.clone(), people.clone());
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let id = format!("b{k}-{n}");
                let body = json!({"client_id": id, "resident_id": people[n % people.len()], "item_id": item});
                let (st, v) = call(&c, &base, &clerk, "/api/v1/shop/redemptions", Some(body)).await;
                assert_eq!(st, StatusCode::CREATED, "{v}");
                acked.lock().unwrap().insert(id, v["redemption"]["id"].as_i64().unwrap());
                n += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let before: HashMap<String, i64> = acked.lock().unwrap().clone();
    let out = d.path().join("yijia.tar.age");
    let backup = {
        let (data, out, public) = (data.clone(), out.clone(), public.clone());
        tokio::task::spawn_blocking(move || {
            run(yijia(&["backup", "--recipient", &public, "--out"]).arg(&out).arg("--data-dir").arg(&data))
        })
    };
    let o = backup.await.unwrap();
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.await.unwrap();
    }
    assert!(o.status.success(), "{}", text(&o));
    let during = acked.lock().unwrap().len();
    assert!(before.len() >= 3 && during > before.len(), "load ran before and during: {} then {during}", before.len());
    server.stop();

    let left: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".yijia-backup-"))
        .collect();
    assert!(left.is_empty(), "the snapshot in the clear is gone: {left:?}");
    // a backup never makes a master key of its own
    let empty = d.path().join("empty");
    let o = run(yijia(&["backup", "--recipient", &public, "--out"])
        .arg(d.path().join("x.tar.age"))
        .arg("--data-dir")
        .arg(&empty));
    assert!(!o.status.success() && text(&o).contains("no master key"), "{}", text(&o));
    assert!(!empty.join("master.key").exists());

    // encrypted: no SQLite page, no master key, only what a backup holds
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1"));
    assert!(!bytes.windows(15).any(|w| w == b"SQLite format 3"), "the database is not in the clear");
    let ids = yijia_service::backup::identities(&identity).unwrap();
    let plain =
        age::Decryptor::new(bytes.as_slice()).unwrap().decrypt(ids.iter().map(|i| i as &dyn age::Identity)).unwrap();
    let mut tar = tar::Archive::new(plain);
    let names: Vec<String> =
        tar.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(&names[..2], ["yijia-backup.json", "yijia.db"]);
    assert!(names[2..].iter().all(|n| n.starts_with("files/")) && names.len() > 2, "{names:?}");
    let key = std::fs::read_to_string(data.join("master.key")).unwrap();
    assert!(!names.iter().any(|n| n.contains("master")));

    // a restore without the master key, with another's identity, or into a used directory keeps nothing
    let restored = d.path().join("restored");
    let keys = out.with_file_name("data-keys.age");
    let o = run(yijia(&["restore"])
        .arg(&out)
        .arg("--identity")
        .arg(&identity)
        .arg("--data-dir")
        .arg(&restored)
        .arg("--data-keys")
        .arg(&keys));
    assert!(!o.status.success() && text(&o).contains("--master-key"), "{}", text(&o));
    let (other, _) = keygen(d.path(), "another-identity.txt");
    let o = run(&mut restore(&out, &other, &data.join("master.key"), &restored));
    assert!(!o.status.success() && text(&o).contains("identities"), "{}", text(&o));
    let o = run(yijia(&["restore"])
        .arg(&out)
        .args(["--identity".as_ref(), identity.as_os_str(), "--data-dir".as_ref(), restored.as_os_str()])
        .arg("--data-keys")
        .arg(&keys)
        .env("YIJIA_MASTER_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    assert!(!o.status.success() && text(&o).contains("did not seal"), "another master key: {}", text(&o));
    assert!(!restored.exists(), "nothing kept");
    let o = run(&mut restore(&out, &identity, &data.join("master.key"), &data));
    assert!(!o.status.success() && text(&o).contains("not empty"), "{}", text(&o));

    // the restore: checked before it says done
    let o = run(&mut restore(&out, &identity, &data.join("master.key"), &restored));
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    assert!(said.contains("audit log intact") && said.contains("tallies exact") && said.contains("sealed fields open"));
    assert!(said.contains("residents' own keys:"), "{said}");

    // every redemption answered before the backup began is in it
    let url = format!("sqlite://{}", restored.join("yijia.db").display());
    let db = Db::connect(&url, &DbOptions { max_connections: 1, pg_schema: None }).await.unwrap();
    let mut tx = db.read().await.unwrap();
    for (id, rid) in &before {
        let r = yijia_store::shop::redemption_of_request(&mut tx, id).await.unwrap();
        assert_eq!(r.map(|r| r.id), Some(*rid), "{id} is in the backup");
    }
    assert_eq!(yijia_store::points::verify(&mut tx).await.unwrap(), (vec![], 0), "the books balance");
    tx.commit().await.unwrap();
    db.close().await;

    // the restored server starts and answers; the checks pass from the command line too
    let again = serve(&restored, false, &[]);
    wait_ready(&client, &again.url).await;
    let clerk = yijia_testkit::login(&client, &again.url, "clerk", PASSWORD).await;
    let (st, items) = call(&client, &again.url, &clerk, "/api/v1/shop/items", None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(items.to_string().contains("大米 5kg(备份)"), "{items}");
    again.stop();
    for args in [["audit", "verify"], ["tallies", "check"]] {
        let o = run(yijia(&args).arg("--data-dir").arg(&restored));
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    }
    let mut f = std::fs::File::open(restored.join("master.key")).unwrap();
    let mut copied = String::new();
    f.read_to_string(&mut copied).unwrap();
    assert_eq!(copied, key, "the master key given is the one kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_takes_its_own_backups_and_keeps_the_newest() {
    let d = tempfile::tempdir().unwrap();
    let (_, public) = keygen(d.path(), "id.txt");
    let dir = d.path().join("backups");
    std::fs::create_dir(&dir).unwrap();
    for day in 1..=5 {
        std::fs::write(dir.join(format!("yijia-2026110{day}-020000.tar.age")), b"old").unwrap();
    }
    std::fs::write(dir.join("notes.txt"), b"not a backup").unwrap();
    let envs = [
        ("YIJIA_BACKUP_DIR", dir.to_str().unwrap()),
        ("YIJIA_BACKUP_RECIPIENTS", public.as_str()),
        ("YIJIA_BACKUP_KEEP", "3"),
    ];
    let server = serve(&d.path().join("data"), false, &envs);
    let client = yijia_testkit::client();
    wait_ready(&client, &server.url).await;
    let mut names = vec![];
    for _ in 0..100 {
        names = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        if names.iter().any(|n| n.starts_with("yijia-2026") && !n.starts_with("yijia-202611"))
            && names.iter().any(|n| n == "data-keys.age")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.stop();
    assert_eq!(names.len(), 5, "three backups kept, the keys beside them, and what is not one: {names:?}");
    assert_eq!(&names[..3], ["data-keys.age", "notes.txt", "yijia-20261104-020000.tar.age"]);
    assert_eq!(names[3], "yijia-20261105-020000.tar.age");

    // a schedule half set up stops the start and says why
    let o = run(yijia(&["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(d.path().join("data2"))
        .env("YIJIA_BACKUP_DIR", &dir));
    assert!(!o.status.success() && text(&o).contains("backup_recipients"), "{}", text(&o));
}
