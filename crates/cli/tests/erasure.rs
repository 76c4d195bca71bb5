//! The erasure canary: a person written through the API with a name, an ID
//! number, a phone, category details and visit notes that occur nowhere
//! else; a backup taken; then he moves away and the secretary grants his
//! erasure. After it, none of them appears in the database file, its WAL,
//! the files directory, the server's log or a fresh backup; the backup
//! taken before, restored into a new directory with the newest keys file,
//! cannot open his sealed fields (his key is in neither) while everyone
//! else's open; `audit verify` passes on both.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yijia_service::keys::Keyring;
use yijia_store::{Db, DbOptions};
use yijia_testkit::{Served, wait_ready};

mod common;
use common::{PASSWORD, keygen, run, text, yijia};
const NAME: &str = "司徒金雀";
const PHONE: &str = "13955501234";
const DETAIL: &str = "金雀罕见病致贫";
const NOTES: &str = "金雀家里煤气阀门老化";

async fn call(c: &reqwest::Client, base: &str, token: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let method = if body.is_some() { Method::POST } else { Method::GET };
    yijia_testkit::call(c, method, &format!("{base}{path}"), token, body.as_ref()).await
}

/// A valid ID number no one else has (GB 11643 check digit).
fn id_number() -> String {
    let body = "22018219470815773";
    let w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body.chars().zip(w).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
    format!("{body}{}", ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize])
}

/// Every file under `dir`, with its bytes.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = vec![];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

/// Which needles occur in the bytes.
fn found(bytes: &[u8], needles: &[&str]) -> Vec<String> {
    needles.iter().filter(|n| bytes.windows(n.len()).any(|w| w == n.as_bytes())).map(|n| (*n).to_owned()).collect()
}

/// The bytes of every entry of an age-encrypted backup.
fn backup_bytes(file: &Path, identity: &Path) -> Vec<u8> {
    let ids = yijia_service::backup::identities(identity).unwrap();
    let f = std::fs::File::open(file).unwrap();
    let plain = age::Decryptor::new(std::io::BufReader::new(f))
        .unwrap()
        .decrypt(ids.iter().map(|i| i as &dyn age::Identity))
        .unwrap();
    let mut tar = tar::Archive::new(plain);
    let mut all = vec![];
    for e in tar.entries().unwrap() {
        e.unwrap().read_to_end(&mut all).unwrap();
    }
    all
}

fn backup(data: &Path, out: &Path, public: &str) {
    let o = run(yijia(&["backup", "--recipient", public, "--out"]).arg(out).arg("--data-dir").arg(data));
    assert!(o.status.success(), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_person_is_nowhere_and_old_backups_cannot_open_him() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let (identity, public) = keygen(d.path(), "identity.txt");
    let log = d.path().join("server.log");
    let mut cmd = yijia(&["serve", "--demo", "--addr", "127.0.0.1:0", "--data-dir"]);
    cmd.arg(&data).env("YIJIA_LOG", "debug,sqlx=info").stderr(Stdio::from(std::fs::File::create(&log).unwrap()));
    let server = Served::start(cmd);
    let base = server.url.clone();
    yijia_service::webhooks::install_tls();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    wait_ready(&client, &base).await;
    let staff = yijia_testkit::login(&client, &base, "staff", PASSWORD).await;
    let worker = yijia_testkit::login(&client, &base, "worker1", PASSWORD).await;
    let secretary = yijia_testkit::login(&client, &base, "secretary", PASSWORD).await;

    // the canary, through the API
    let ident = id_number();
    let body = json!({
        "name": NAME, "grid": "chengnan-g01", "id_number": ident, "phone": PHONE,
        "household": {"estate": "丁香花园三期", "building": "9号楼", "entrance": "3单元", "door": "909"},
        "relation": "户主", "residence": "permanent",
        "categories": [{"category": "hardship", "details": {"kind": DETAIL}}]
    });
    let (st, v) = call(&client, &base, &staff, "/api/v1/residents", Some(body)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let canary = v["id"].as_i64().unwrap();
    let visit = json!({"client_id": "canary-visit-0001", "resident_id": canary, "notes": NOTES});
    assert!(call(&client, &base, &worker, "/api/v1/visits", Some(visit)).await.0.is_success());
    let reason = json!({"field": "phone", "reason": "核实联系方式"});
    let (st, p) = call(&client, &base, &secretary, &format!("/api/v1/residents/{canary}/unmask"), Some(reason)).await;
    assert_eq!((st, p["value"].as_str()), (StatusCode::OK, Some(PHONE)), "{p}");
    let needles = [NAME, ident.as_str(), PHONE, DETAIL, NOTES];
    let db_file = data.join("yijia.db");
    let wal = data.join("yijia.db-wal");
    let mut before = std::fs::read(&db_file).unwrap();
    before.extend(std::fs::read(&wal).unwrap_or_default());
    assert_eq!(found(&before, &needles), [NAME], "the name is there in the clear before; the rest is sealed");

    // a backup taken before; its keys file kept apart
    let old_dir = d.path().join("old");
    std::fs::create_dir(&old_dir).unwrap();
    let old = old_dir.join("yijia.tar.age");
    backup(&data, &old, &public);

    // he moves away; staff ask for his erasure, the secretary grants it
    let today = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).date_naive();
    let (_, r) = call(&client, &base, &staff, &format!("/api/v1/residents/{canary}"), None).await;
    let life = json!({"change": "moved_away", "on": today.to_string(), "reason": "迁往外省", "source": "resident", "version": r["version"]});
    let (st, v) = call(&client, &base, &staff, &format!("/api/v1/residents/{canary}/life"), Some(life)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let ask = json!({"kind": "erasure", "body": "本人已迁出,要求删除全部信息", "reason": "本人电话申请"});
    let (st, q) = call(&client, &base, &staff, &format!("/api/v1/residents/{canary}/record-requests"), Some(ask)).await;
    assert_eq!(st, StatusCode::CREATED, "{q}");
    let answer = json!({"done": true, "answer": "已迁出三个月,同意删除"});
    let url = format!("/api/v1/record-requests/{}/answer", q["id"]);
    let (st, v) = call(&client, &base, &secretary, &url, Some(answer)).await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // nowhere: the database, its WAL, the files, a fresh backup, the log
    let new_dir = d.path().join("new");
    std::fs::create_dir(&new_dir).unwrap();
    let fresh = new_dir.join("yijia.tar.age");
    backup(&data, &fresh, &public);
    for (path, bytes) in files_under(&data) {
        assert_eq!(found(&bytes, &needles), Vec::<String>::new(), "{}", path.display());
    }
    assert_eq!(found(&backup_bytes(&fresh, &identity), &needles), Vec::<String>::new(), "the fresh backup");
    server.stop();
    let logged = std::fs::read(&log).unwrap();
    assert!(logged.len() > 1000, "the server logged");
    assert_eq!(found(&logged, &needles), Vec::<String>::new(), "the log");
    let o = run(yijia(&["audit", "verify", "--data-dir"]).arg(&data));
    assert!(o.status.success(), "{}", text(&o));

    // the old backup still holds his sealed values, but no key opens them:
    // the backup carries no resident's key, the newest keys file not his
    let raw = d.path().join("raw");
    let ids = yijia_service::backup::identities(&identity).unwrap();
    yijia_service::backup::unpack(&old, &ids, &raw).unwrap();
    let url = format!("sqlite://{}", raw.join("yijia.db").display());
    let db = Db::connect(&url, &DbOptions { max_connections: 1, pg_schema: None }).await.unwrap();
    let mut tx = db.read().await.unwrap();
    let blank = yijia_store::erasure::key_batch(&mut tx, 0, 10).await.unwrap();
    assert!(!blank.is_empty() && blank.iter().all(|k| k.2.is_empty()), "no keys in a backup, only who had one");
    let sealed = yijia_store::residents::get(&mut tx, canary).await.unwrap().unwrap();
    let other = yijia_store::residents::get(&mut tx, 1).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    db.close().await;
    let newest = new_dir.join("data-keys.age");
    let keys = keys_in(&newest, &identity);
    let his_lines: Vec<&str> = keys.iter().filter(|k| k.0 == canary).map(|k| k.2.as_str()).collect();
    assert_eq!(his_lines, ["-"], "no key of his in the keys file written since, only that he was erased");
    let keys: Vec<_> = keys.into_iter().filter(|k| k.2 != "-").collect();
    let ring = Keyring::load_or_create(&data, None).unwrap();
    let his = sealed.id_number_sealed.clone().unwrap();
    assert!(his.starts_with("v2."), "sealed with his own key: {his}");
    for (_, uid, wrapped) in &keys {
        let k = ring.unwrap_data_key(uid, wrapped).unwrap();
        assert!(ring.open_with(Some(&k), &format!("residents.id_number:{}", sealed.uid), &his).is_err());
    }
    assert!(ring.open_with(None, &format!("residents.id_number:{}", sealed.uid), &his).is_err());
    let (_, ouid, owrapped) = keys.iter().find(|(id, _, _)| *id == other.id).unwrap();
    let k = ring.unwrap_data_key(ouid, owrapped).unwrap();
    let theirs =
        ring.open_with(Some(&k), &format!("residents.id_number:{ouid}"), other.id_number_sealed.as_ref().unwrap());
    assert_eq!(theirs.unwrap().len(), 18, "everyone else's open");

    // restored with the newest keys: he stays erased, the rest checks out
    let restored = d.path().join("restored");
    let o = run(yijia(&["restore"])
        .arg(&old)
        .arg("--identity")
        .arg(&identity)
        .arg("--master-key")
        .arg(data.join("master.key"))
        .arg("--data-keys")
        .arg(&newest)
        .arg("--data-dir")
        .arg(&restored));
    let said = text(&o);
    assert!(o.status.success(), "{said}");
    assert!(said.contains("1 person(s) erased after this backup") && said.contains("audit log intact"), "{said}");
    assert!(said.contains("sealed fields open"), "{said}");
    for (path, bytes) in files_under(&restored) {
        assert_eq!(found(&bytes, &[NAME]), Vec::<String>::new(), "{}", path.display());
    }
    let o = run(yijia(&["audit", "verify", "--data-dir"]).arg(&restored));
    assert!(o.status.success(), "{}", text(&o));
}

/// The lines of a keys file: (resident id, uid, wrapped key).
fn keys_in(file: &Path, identity: &Path) -> Vec<(i64, String, String)> {
    let ids = yijia_service::backup::identities(identity).unwrap();
    let f = std::fs::File::open(file).unwrap();
    let mut plain = String::new();
    age::Decryptor::new(std::io::BufReader::new(f))
        .unwrap()
        .decrypt(ids.iter().map(|i| i as &dyn age::Identity))
        .unwrap()
        .read_to_string(&mut plain)
        .unwrap();
    let mut lines = plain.lines();
    assert!(lines.next().unwrap().starts_with("yijia-data-keys 1 2"), "with when it was written");
    lines
        .map(|l| {
            let mut p = l.splitn(3, '\t');
            (p.next().unwrap().parse().unwrap(), p.next().unwrap().to_owned(), p.next().unwrap().to_owned())
        })
        .collect()
}
