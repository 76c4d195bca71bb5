//! The binary itself, as an operator runs it (SQLite in a temporary data
//! directory).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly

use std::io::Write;
use std::process::{Command, Output, Stdio};

use reqwest::Method;
use yijia_service::fixtures::demo::PASSWORD;
use yijia_testkit::{Served, call};

fn yijia(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_yijia"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("YIJIA_DATABASE_URL")
        .env_remove("YIJIA_DATA_DIR")
        .env("YIJIA_CONFIG", dir.join("yijia.toml"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn out(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn help_reads_well() {
    let d = tempfile::tempdir().unwrap();
    let o = yijia(d.path(), &["--help"], None);
    let h = out(&o);
    for word in ["serve", "migrate", "user", "audit", "--data-dir", "--database-url"] {
        assert!(h.contains(word), "--help lacks {word}: {h}");
    }
    let h = out(&yijia(d.path(), &["user", "add", "--help"], None));
    assert!(h.contains("--password-stdin") && h.contains("--scope") && h.contains("grid_worker"), "{h}");
    let h = out(&yijia(d.path(), &["serve", "--help"], None));
    assert!(h.contains("--demo") && h.contains("--addr"), "{h}");
}

#[test]
fn an_unknown_database_scheme_is_refused_with_the_ones_that_work() {
    let d = tempfile::tempdir().unwrap();
    let o = yijia(d.path(), &["migrate", "--database-url", "mysql://root:hunter2@localhost/db"], None);
    assert_eq!(o.status.code(), Some(2));
    let e = out(&o);
    assert!(e.contains("sqlite://") && e.contains("postgres://"), "{e}");
    assert!(!e.contains("hunter2"), "the password leaked: {e}");
}

#[test]
fn migrate_then_manage_users_from_the_command_line() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    let p = data.as_path();
    let o = yijia(p, &["migrate"], None);
    assert!(o.status.success(), "{}", out(&o));
    let applied = out(&o);
    assert!(applied.contains("migration(s) applied") && !applied.starts_with("0 "), "{applied}");
    assert!(out(&yijia(p, &["migrate"], None)).contains("0 migration(s) applied"));
    assert!(p.join("yijia.db").exists());

    let o = yijia(
        p,
        &["user", "add", "--username", "admin", "--role", "admin", "--scope", "root", "--password-stdin"],
        Some("stairwell keeper 2024\n"),
    );
    assert!(o.status.success(), "{}", out(&o));
    let o = yijia(
        p,
        &["user", "add", "--username", "xx1", "--role", "mayor", "--scope", "root", "--password-stdin"],
        Some("stairwell keeper 2024\n"),
    );
    assert!(!o.status.success());
    assert!(out(&o).contains("grid_worker"), "names the roles: {}", out(&o));
    let o = yijia(
        p,
        &["user", "add", "--username", "yy1", "--role", "grid_worker", "--scope", "nowhere", "--password-stdin"],
        Some("stairwell keeper 2024\n"),
    );
    assert!(out(&o).contains("nowhere"), "{}", out(&o));
    let o = yijia(
        p,
        &["user", "add", "--username", "zz1", "--role", "admin", "--scope", "root", "--password-stdin"],
        Some("short\n"),
    );
    assert!(out(&o).contains("password"), "{}", out(&o));

    let o = yijia(p, &["user", "list"], None);
    let list = out(&o);
    assert!(list.contains("admin") && list.contains("admin@root") && !list.contains("xx1"), "{list}");
    assert!(yijia(p, &["user", "disable", "admin"], None).status.success());
    assert!(out(&yijia(p, &["user", "list"], None)).contains("disabled"));
    assert!(yijia(p, &["user", "enable", "admin"], None).status.success());
    let o = yijia(p, &["user", "passwd", "admin", "--password-stdin"], Some("another long password\n"));
    assert!(o.status.success(), "{}", out(&o));
    let o = yijia(p, &["user", "disable", "nobody"], None);
    assert!(!o.status.success());

    let o = yijia(p, &["audit", "verify"], None);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("intact: 4 entries"), "{}", out(&o));
}

#[test]
fn audit_verify_finds_the_first_broken_link() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    for u in ["a1", "a2", "a3"] {
        let o = yijia(
            p,
            &["user", "add", "--username", u, "--role", "admin", "--scope", "root", "--password-stdin"],
            Some("stairwell keeper 2024\n"),
        );
        assert!(o.status.success(), "{}", out(&o));
    }
    // someone with the database file edits the second entry behind the triggers' back
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let url = format!("sqlite://{}", p.join("yijia.db").display());
        let db = yijia_store::Db::connect(&url, &Default::default()).await.unwrap();
        let yijia_store::Db::Sqlite(pool) = &db else { unreachable!() };
        let e = sqlx::query("UPDATE audit_log SET detail = '{}' WHERE seq = 2").execute(pool).await.unwrap_err();
        assert!(e.to_string().contains("append-only"));
        sqlx::query("DROP TRIGGER audit_log_no_update").execute(pool).await.unwrap();
        sqlx::query("UPDATE audit_log SET detail = '{}' WHERE seq = 2").execute(pool).await.unwrap();
        db.close().await;
    });
    let o = yijia(p, &["audit", "verify"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("BROKEN at entry 2"), "{}", out(&o));
}

#[test]
fn serve_demo_prints_the_url_and_the_logins() {
    let d = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_yijia"))
        .args(["serve", "--demo", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(d.path().join("new-dir"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    for _ in 0..14 {
        std::io::BufRead::read_line(&mut stdout, &mut text).unwrap();
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert!(text.contains("http://127.0.0.1:"), "{text}");
    for login in
        ["admin", "officer", "secretary", "staff", "worker1", "worker6", "clerk", "resident", "chengnan-demo-2024"]
    {
        assert!(text.contains(login), "{login} missing: {text}");
    }
}

/// Starts `yijia serve --demo` on a free port.
fn serve_demo(dir: &std::path::Path) -> Served {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yijia"));
    cmd.args(["serve", "--demo", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env_remove("YIJIA_DATABASE_URL")
        .env_remove("YIJIA_MASTER_KEY")
        .stderr(Stdio::null());
    Served::start(cmd)
}

/// An authenticator app's code for `secret`, `ahead` seconds from now.
fn totp_now(secret: &str, ahead: u64) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret).unwrap();
    let t = totp_rs::Builder::new().with_secret(bytes).build().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    t.generate(now + ahead).to_string()
}

#[test]
fn keys_rotate_reseals_everything_and_search_still_finds_people() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let id = "11010519491231002X";
    let login = |url: String| async move {
        let c = yijia_testkit::client();
        let t = yijia_testkit::login(&c, &url, "secretary", PASSWORD).await;
        (c, t)
    };
    let server = serve_demo(p);
    let url = server.url.clone();
    let rid =
        rt.block_on(async {
            let (c, t) = login(url.clone()).await;
            let v: serde_json::Value = c
            .post(format!("{url}/api/v1/residents"))
            .bearer_auth(&t)
            .json(&serde_json::json!({"name": "王奶奶", "grid": "chengnan-g01", "id_number": id, "phone": "13600001234",
                "categories": [{"category": "disabled", "details": {"kind": "视力", "grade": "一级"}}]}))
            .send().await.unwrap().json().await.unwrap();
            // a work group's robot address, and an email to be told at, are sealed too
            let group = serde_json::json!({"scope": "chengnan", "kind": "wecom", "name": "两委群",
                "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-rotate"});
            let r = c.post(format!("{url}/api/v1/staff-groups")).bearer_auth(&t).json(&group).send().await.unwrap();
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
            let email = serde_json::json!({"email": "zhang.shuji@example.cn"});
            let r = c.put(format!("{url}/api/v1/me/notifications")).bearer_auth(&t).json(&email).send().await.unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
            v["id"].as_i64().unwrap()
        });
    // a grid worker's second factor is sealed too, and must open after
    let worker_secret = rt.block_on(async {
        let c = yijia_testkit::client();
        let t = &yijia_testkit::login(&c, &url, "worker1", PASSWORD).await;
        let (_, e) = call(&c, Method::POST, &format!("{url}/api/v1/me/two-factor/setup"), t, None).await;
        let secret = e["secret"].as_str().unwrap().to_owned();
        let code = serde_json::json!({"code": totp_now(&secret, 0)});
        let (st, _) = call(&c, Method::POST, &format!("{url}/api/v1/me/two-factor/confirm"), t, Some(&code)).await;
        assert_eq!(st, 200);
        // and so are the notes of a visit
        let visit =
            serde_json::json!({"client_id": "rotate-0001-visit", "resident_id": rid, "notes": "血压偏高,已提醒复查"});
        let r = c.post(format!("{url}/api/v1/visits")).bearer_auth(t).json(&visit).send().await.unwrap();
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        secret
    });
    server.stop();
    let before = std::fs::read_to_string(p.join("master.key")).unwrap();

    let o = yijia(p, &["keys", "rotate"], None);
    assert!(o.status.success(), "{}", out(&o));
    // the 2,400 generated residents of 城南, the 520 of its four neighbours, and the one added here
    assert!(out(&o).contains("re-sealed the personal data of 2921 resident(s)"), "{}", out(&o));
    let after = std::fs::read_to_string(p.join("master.key")).unwrap();
    assert_ne!(before, after);
    let file: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert_eq!(file["keys"].as_object().unwrap().len(), 1, "the old key is gone");

    let server = serve_demo(p);
    let url = server.url.clone();
    rt.block_on(async {
        let (c, t) = login(url.clone()).await;
        let unmask = |field: &'static str| {
            let (c, t, url) = (c.clone(), t.clone(), url.clone());
            async move {
                let r = c.post(format!("{url}/api/v1/residents/{rid}/unmask")).bearer_auth(&t);
                let r = r.json(&serde_json::json!({"field": field, "reason": "核对"})).send().await.unwrap();
                r.json::<serde_json::Value>().await.unwrap()
            }
        };
        assert_eq!(unmask("id_number").await["value"], id);
        let v = unmask("details").await;
        assert_eq!(v["value"]["disabled"]["grade"], "一级");
        let (_, v) = call(&c, Method::GET, &format!("{url}/api/v1/residents?q=136-0000-1234"), &t, None).await;
        assert_eq!(v["total"], 1, "the blind index follows the new key: {v}");
        let (_, groups) = call(&c, Method::GET, &format!("{url}/api/v1/staff-groups"), &t, None).await;
        assert_eq!(groups[0]["host"], "qyapi.weixin.qq.com", "the robot's address opens under the new key: {groups}");
        let r = c.get(format!("{url}/api/v1/residents/{rid}/plan")).bearer_auth(&t).send().await.unwrap();
        let plan: serde_json::Value = r.json().await.unwrap();
        assert_eq!(plan["visits"][0]["notes"], "血压偏高,已提醒复查", "visit notes open under the new key: {plan}");
        // the app's next code (this one was taken) opens the re-sealed secret
        let r = c
            .post(format!("{url}/api/v1/auth/login"))
            .json(&serde_json::json!({"username": "worker1", "password": PASSWORD,
                "totp": totp_now(&worker_secret, 30)}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    });
    server.stop();
    let o = yijia(p, &["audit", "verify"], None);
    assert!(o.status.success(), "{}", out(&o));

    // with the key in the environment, rotation says what to do instead
    let o = Command::new(env!("CARGO_BIN_EXE_yijia"))
        .args(["keys", "rotate", "--data-dir"])
        .arg(p)
        .env("YIJIA_MASTER_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(out(&o).contains("YIJIA_MASTER_KEY"), "{}", out(&o));
}

#[test]
fn import_the_fixture_roster_from_the_command_line() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    serve_demo(p).stop();
    let roster = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/roster-chengnan-2024.xlsx");
    let report = p.join("report.xlsx");
    let o = yijia(p, &["import", "residents", roster, "--community", "chengnan", "--dry-run"], None);
    assert!(out(&o).contains("dry run (nothing changed): 3 sheet(s), 1177 data row(s): 1169 imported"), "{}", out(&o));
    let o = yijia(
        p,
        &["import", "residents", roster, "--community", "chengnan", "--report", report.to_str().unwrap()],
        None,
    );
    let text = out(&o);
    assert!(o.status.success(), "{text}");
    assert!(text.contains("1169 imported, 0 already registered, 8 with problems"), "{text}");
    assert!(text.contains("第1网格 row 101") && text.contains("校验位"), "{text}");
    assert!(std::fs::read(&report).unwrap().starts_with(b"PK"));
    let o = yijia(p, &["import", "residents", roster, "--community", "chengnan"], None);
    assert!(out(&o).contains("0 imported, 1169 already registered"), "{}", out(&o));
    let out_file = p.join("out.xlsx");
    let o = yijia(
        p,
        &[
            "export",
            "residents",
            "--community",
            "chengnan",
            "--category",
            "孤寡老人",
            "--out",
            out_file.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success() && out(&o).contains("masked"), "{}", out(&o));
    assert!(std::fs::read(&out_file).unwrap().starts_with(b"PK"));
    let o = yijia(p, &["import", "residents", roster, "--community", "chengnan", "--grid", "oops"], None);
    assert!(!o.status.success() && out(&o).contains("SHEET=CODE"), "{}", out(&o));
}

#[test]
fn bench_gen_makes_a_small_city_once_and_refuses_another_on_top() {
    let dir = tempfile::tempdir().unwrap();
    let o = yijia(dir.path(), &["bench", "gen", "--residents", "1200", "--grids", "3"], None);
    assert!(o.status.success(), "{}", out(&o));
    let text = out(&o);
    assert!(text.contains("1200 residents in") && text.contains("3 grids"), "{text}");
    let again = yijia(dir.path(), &["bench", "gen", "--residents", "1200", "--grids", "3"], None);
    assert!(again.status.success() && out(&again).contains("there already"), "{}", out(&again));
    let other = yijia(dir.path(), &["bench", "gen", "--residents", "900", "--grids", "3"], None);
    assert!(!other.status.success(), "another city on top is refused");
    assert!(out(&other).contains("another city"), "{}", out(&other));
    // the benchmark users are there
    let list = yijia(dir.path(), &["user", "list", "--json"], None);
    assert!(out(&list).contains("bench-worker"), "{}", out(&list));
}
