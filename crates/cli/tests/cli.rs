//! The binary itself, as an operator runs it (SQLite in a temporary data
//! directory).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly

use std::io::Write;
use std::process::{Command, Output, Stdio};

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
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn help_reads_well() {
    let d = tempfile::tempdir().unwrap();
    let o = yijia(d.path(), &["--help"], None);
    let h = out(&o);
    for word in [
        "serve",
        "migrate",
        "user",
        "audit",
        "--data-dir",
        "--database-url",
    ] {
        assert!(h.contains(word), "--help lacks {word}: {h}");
    }
    let h = out(&yijia(d.path(), &["user", "add", "--help"], None));
    assert!(
        h.contains("--password-stdin") && h.contains("--scope") && h.contains("grid_worker"),
        "{h}"
    );
    let h = out(&yijia(d.path(), &["serve", "--help"], None));
    assert!(h.contains("--demo") && h.contains("--addr"), "{h}");
}

#[test]
fn an_unknown_database_scheme_is_refused_with_the_ones_that_work() {
    let d = tempfile::tempdir().unwrap();
    let o = yijia(
        d.path(),
        &[
            "migrate",
            "--database-url",
            "mysql://root:hunter2@localhost/db",
        ],
        None,
    );
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
    assert!(
        applied.contains("migration(s) applied") && !applied.starts_with("0 "),
        "{applied}"
    );
    assert!(out(&yijia(p, &["migrate"], None)).contains("0 migration(s) applied"));
    assert!(p.join("yijia.db").exists());

    let o = yijia(
        p,
        &[
            "user",
            "add",
            "--username",
            "admin",
            "--role",
            "admin",
            "--scope",
            "root",
            "--password-stdin",
        ],
        Some("stairwell keeper 2024\n"),
    );
    assert!(o.status.success(), "{}", out(&o));
    let o = yijia(
        p,
        &[
            "user",
            "add",
            "--username",
            "xx1",
            "--role",
            "mayor",
            "--scope",
            "root",
            "--password-stdin",
        ],
        Some("stairwell keeper 2024\n"),
    );
    assert!(!o.status.success());
    assert!(
        out(&o).contains("grid_worker"),
        "names the roles: {}",
        out(&o)
    );
    let o = yijia(
        p,
        &[
            "user",
            "add",
            "--username",
            "yy1",
            "--role",
            "grid_worker",
            "--scope",
            "nowhere",
            "--password-stdin",
        ],
        Some("stairwell keeper 2024\n"),
    );
    assert!(out(&o).contains("nowhere"), "{}", out(&o));
    let o = yijia(
        p,
        &[
            "user",
            "add",
            "--username",
            "zz1",
            "--role",
            "admin",
            "--scope",
            "root",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert!(out(&o).contains("password"), "{}", out(&o));

    let o = yijia(p, &["user", "list"], None);
    let list = out(&o);
    assert!(
        list.contains("admin") && list.contains("admin@root") && !list.contains("xx1"),
        "{list}"
    );
    assert!(
        yijia(p, &["user", "disable", "admin"], None)
            .status
            .success()
    );
    assert!(out(&yijia(p, &["user", "list"], None)).contains("disabled"));
    assert!(
        yijia(p, &["user", "enable", "admin"], None)
            .status
            .success()
    );
    let o = yijia(
        p,
        &["user", "passwd", "admin", "--password-stdin"],
        Some("another long password\n"),
    );
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
            &[
                "user",
                "add",
                "--username",
                u,
                "--role",
                "admin",
                "--scope",
                "root",
                "--password-stdin",
            ],
            Some("stairwell keeper 2024\n"),
        );
        assert!(o.status.success(), "{}", out(&o));
    }
    // someone with the database file edits the second entry behind the triggers' back
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let url = format!("sqlite://{}", p.join("yijia.db").display());
        let db = yijia_store::Db::connect(&url, &Default::default())
            .await
            .unwrap();
        let yijia_store::Db::Sqlite(pool) = &db else {
            unreachable!()
        };
        let e = sqlx::query("UPDATE audit_log SET detail = '{}' WHERE seq = 2")
            .execute(pool)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("append-only"));
        sqlx::query("DROP TRIGGER audit_log_no_update")
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("UPDATE audit_log SET detail = '{}' WHERE seq = 2")
            .execute(pool)
            .await
            .unwrap();
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
    for _ in 0..9 {
        std::io::BufRead::read_line(&mut stdout, &mut text).unwrap();
    }
    child.kill().unwrap();
    let _ = child.wait();
    assert!(text.contains("http://127.0.0.1:"), "{text}");
    for login in [
        "admin",
        "officer",
        "secretary",
        "staff",
        "worker1",
        "clerk",
        "resident",
        "chengnan-demo-2024",
    ] {
        assert!(text.contains(login), "{login} missing: {text}");
    }
}
