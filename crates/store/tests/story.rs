//! One storage story, run on SQLite always and on PostgreSQL when
//! `YIJIA_TEST_DATABASE_URL` is set: the same test body on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly

use yijia_domain::audit::{GENESIS, entry_hash};
use yijia_domain::care::{Finding, VisitMode};
use yijia_domain::case::{CaseKind, CaseState, Channel, EventKind, Priority};
use yijia_domain::org::OrgKind;
use yijia_domain::points::TransferKind;
use yijia_domain::registry::Residence;
use yijia_domain::role::Role;
use yijia_store::testing::TestDb;
use yijia_store::{StoreError, audit, cases, jobs, meta, org, sessions, users};

async fn chengnan(tx: &mut yijia_store::Tx) -> (org::OrgNode, org::OrgNode, org::OrgNode) {
    let root = org::by_code(tx, "root").await.unwrap().expect("root exists after migration");
    let sub = org::insert(
        tx,
        &org::NewNode {
            code: "zhengyang",
            kind: OrgKind::Subdistrict,
            name: "正阳街道",
            parent_id: root.id,
            path: "/root/zhengyang/",
            boundary: None,
            now: 1,
        },
    )
    .await
    .unwrap();
    let com = org::insert(
        tx,
        &org::NewNode {
            code: "chengnan",
            kind: OrgKind::Community,
            name: "城南社区",
            parent_id: sub.id,
            path: "/root/zhengyang/chengnan/",
            boundary: None,
            now: 1,
        },
    )
    .await
    .unwrap();
    let grid = org::insert(
        tx,
        &org::NewNode {
            code: "chengnan-g01",
            kind: OrgKind::Grid,
            name: "第1网格",
            parent_id: com.id,
            path: "/root/zhengyang/chengnan/chengnan-g01/",
            boundary: Some("{}"),
            now: 1,
        },
    )
    .await
    .unwrap();
    (sub, com, grid)
}

#[tokio::test]
async fn org_tree_and_subtrees() {
    let t = TestDb::new().await;
    let mut tx = t.db.write().await.unwrap();
    let (sub, com, grid) = chengnan(&mut tx).await;
    // a sibling whose code shares a prefix must not fall into the subtree
    org::insert(
        &mut tx,
        &org::NewNode {
            code: "chengnan2",
            kind: OrgKind::Community,
            name: "城南二社区",
            parent_id: sub.id,
            path: "/root/zhengyang/chengnan2/",
            boundary: None,
            now: 1,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = t.db.read().await.unwrap();
    let codes: Vec<String> = org::subtree(&mut tx, &com.path).await.unwrap().into_iter().map(|n| n.code).collect();
    assert_eq!(codes, ["chengnan", "chengnan-g01"]);
    assert_eq!(org::subtree(&mut tx, "/root/").await.unwrap().len(), 5);
    assert_eq!(org::children(&mut tx, sub.id).await.unwrap().len(), 2);
    assert_eq!(org::by_id(&mut tx, grid.id).await.unwrap().name, "第1网格");
    assert!(matches!(org::by_id(&mut tx, 9999).await, Err(StoreError::NotFound)));
    tx.rollback().await.unwrap();

    let mut tx = t.db.write().await.unwrap();
    let dup = org::insert(
        &mut tx,
        &org::NewNode {
            code: "chengnan",
            kind: OrgKind::Community,
            name: "重复",
            parent_id: sub.id,
            path: "/root/zhengyang/chengnan-x/",
            boundary: None,
            now: 2,
        },
    )
    .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
}

#[tokio::test]
async fn users_grants_and_scoped_lists() {
    let t = TestDb::new().await;
    let mut tx = t.db.write().await.unwrap();
    let (sub, com, grid) = chengnan(&mut tx).await;
    let a = users::insert(&mut tx, "secretary", "王小红", "hash-a", 10).await.unwrap();
    let b = users::insert(&mut tx, "worker1", "李网格", "hash-b", 10).await.unwrap();
    let c = users::insert(&mut tx, "officer", "赵街道", "hash-c", 10).await.unwrap();
    users::add_grant(&mut tx, a.id, "secretary", com.id, 10).await.unwrap();
    users::add_grant(&mut tx, b.id, "grid_worker", grid.id, 10).await.unwrap();
    users::add_grant(&mut tx, c.id, "street_officer", sub.id, 10).await.unwrap();
    tx.commit().await.unwrap();
    // On PostgreSQL an error ends the transaction: a conflict gets its own.
    let mut tx = t.db.write().await.unwrap();
    assert!(matches!(users::add_grant(&mut tx, b.id, "grid_worker", grid.id, 11).await, Err(StoreError::Conflict(_))));
    drop(tx);

    let mut tx = t.db.write().await.unwrap();
    let g = users::grants_of(&mut tx, b.id).await.unwrap();
    assert_eq!(g.len(), 1);
    assert_eq!((g[0].role, g[0].org_code.as_str(), g[0].org_kind), (Role::GridWorker, "chengnan-g01", OrgKind::Grid));
    let (in_com, total) = users::list_within(&mut tx, &com.path, 50, 0).await.unwrap();
    assert_eq!(total, 2);
    assert_eq!(in_com.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["secretary", "worker1"]);
    let (page, total) = users::list_within(&mut tx, "/root/", 1, 1).await.unwrap();
    assert_eq!((page.len(), total), (1, 3));
    users::set_password(&mut tx, b.id, "hash-new", 20).await.unwrap();
    users::set_disabled(&mut tx, b.id, Some(30)).await.unwrap();
    let b2 = users::by_username(&mut tx, "worker1").await.unwrap().unwrap();
    assert_eq!((b2.password_hash.as_str(), b2.password_set_at, b2.disabled_at), ("hash-new", 20, Some(30)));
    assert!(users::by_username(&mut tx, "nobody").await.unwrap().is_none());
    assert!(matches!(users::insert(&mut tx, "worker1", "x", "h", 1).await, Err(StoreError::Conflict(_))));
}

#[tokio::test]
async fn sessions_attempts_and_lockouts() {
    let t = TestDb::new().await;
    let mut tx = t.db.write().await.unwrap();
    let u = users::insert(&mut tx, "worker1", "李网格", "h", 0).await.unwrap();
    let s = sessions::Session {
        token_hash: "th1".into(),
        user_id: u.id,
        csrf_token: "c".into(),
        created_at: 100,
        last_seen_at: 100,
        ip: "127.0.0.1".into(),
        user_agent: "Mozilla/5.0 (Linux; Android 14) Chrome/120".into(),
    };
    sessions::insert(&mut tx, &s).await.unwrap();
    sessions::insert(
        &mut tx,
        &sessions::Session { token_hash: "th2".into(), created_at: 5, last_seen_at: 5, ..s.clone() },
    )
    .await
    .unwrap();
    sessions::touch(&mut tx, "th1", 200).await.unwrap();
    assert_eq!(sessions::get(&mut tx, "th1").await.unwrap().unwrap().last_seen_at, 200);
    let mine = sessions::of_user(&mut tx, u.id).await.unwrap();
    assert_eq!(mine.iter().map(|s| s.token_hash.as_str()).collect::<Vec<_>>(), ["th1", "th2"], "latest used first");
    assert!(mine[0].user_agent.contains("Android"));
    assert!(!sessions::with_user(&mut tx, "th1").await.unwrap().unwrap().totp);
    assert_eq!(sessions::delete_expired(&mut tx, 50, 0).await.unwrap(), 1, "th2 is idle");
    assert_eq!(sessions::delete_for_user(&mut tx, u.id).await.unwrap(), 1);
    assert!(sessions::get(&mut tx, "th1").await.unwrap().is_none());

    for at in [10, 20, 30] {
        sessions::record_attempt(&mut tx, "worker1", "10.0.0.1", at, false).await.unwrap();
    }
    sessions::record_attempt(&mut tx, "worker1", "10.0.0.2", 40, true).await.unwrap();
    assert_eq!(sessions::failures_since(&mut tx, "worker1", 15).await.unwrap(), 2);
    assert_eq!(sessions::attempts_from_ip(&mut tx, "10.0.0.1", 0).await.unwrap(), 3);
    assert_eq!(sessions::last_success(&mut tx, "worker1").await.unwrap(), Some(40));
    assert_eq!(sessions::last_success(&mut tx, "nobody").await.unwrap(), None);
    sessions::set_lockout(&mut tx, "worker1", 50, 100).await.unwrap();
    sessions::set_lockout(&mut tx, "worker1", 60, 110).await.unwrap();
    assert_eq!(sessions::lockout_until(&mut tx, "worker1").await.unwrap(), Some((60, 110)));
    sessions::clear_lockout(&mut tx, "worker1").await.unwrap();
    assert_eq!(sessions::lockout_until(&mut tx, "worker1").await.unwrap(), None);
    assert_eq!(sessions::prune_attempts(&mut tx, 25).await.unwrap(), 2);
}

fn entry<'a>(action: &'a str, path: &'a str) -> audit::NewEntry<'a> {
    audit::NewEntry {
        at: 1,
        actor_id: Some(1),
        actor_name: "secretary",
        action,
        outcome: "ok",
        object: "user:1",
        org_path: path,
        ip: "127.0.0.1",
        detail: "{}",
    }
}

#[tokio::test]
async fn audit_log_is_a_chain_and_append_only() {
    let t = TestDb::new().await;
    let mut tx = t.db.write().await.unwrap();
    for (i, p) in ["/root/", "/root/zhengyang/chengnan/", "/root/zhengyang/other/"].iter().enumerate() {
        assert_eq!(audit::append(&mut tx, &entry("login", p)).await.unwrap(), i as i64 + 1);
    }
    tx.commit().await.unwrap();

    let mut tx = t.db.write().await.unwrap();
    let all = audit::chunk(&mut tx, 0, 100).await.unwrap();
    assert_eq!(all.len(), 3);
    let mut prev = GENESIS.to_owned();
    for e in &all {
        assert_eq!(e.prev_hash, prev);
        assert_eq!(e.hash, entry_hash(&prev, &e.fields()));
        prev = e.hash.clone();
    }
    assert_eq!(audit::head(&mut tx).await.unwrap(), (3, prev));
    let f = audit::Filter { path: "/root/zhengyang/".into(), ..Default::default() };
    let (rows, total) = audit::list(&mut tx, &f, 10, 0).await.unwrap();
    assert_eq!(total, 2);
    assert_eq!(rows[0].seq, 3, "newest first");
    let f = audit::Filter { path: "/root/".into(), action: Some("logout".into()), ..Default::default() };
    assert_eq!(audit::list(&mut tx, &f, 10, 0).await.unwrap().1, 0);
    tx.commit().await.unwrap();

    // The database itself refuses to change or remove an entry; an erasure
    // may only empty the personal fields, naming a later entry, once.
    for sql in [
        "UPDATE audit_log SET action = 'x' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 2",
        "UPDATE audit_log SET detail = '', erased_by = 1 WHERE seq = 2",
        "UPDATE audit_log SET detail = 'other', erased_by = 3 WHERE seq = 1",
        "UPDATE audit_log SET detail = '', outcome = 'denied', erased_by = 3 WHERE seq = 1",
        "UPDATE audit_log SET detail = '', hash = 'x', erased_by = 3 WHERE seq = 1",
    ] {
        let r = match &t.db {
            yijia_store::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
            yijia_store::Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        };
        let e = r.expect_err(sql).to_string();
        assert!(e.contains("append-only"), "{e}");
    }
    let mut tx = t.db.write().await.unwrap();
    assert_eq!(audit::erase_about(&mut tx, "org:1", None, 3).await.unwrap(), 0, "nothing about it");
    tx.commit().await.unwrap();
    let sql = "UPDATE audit_log SET detail = '', ip = '', actor_name = '', erased_by = 3 WHERE seq = 1";
    match &t.db {
        yijia_store::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        yijia_store::Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
    }
    .expect("an erasure empties an entry");
    let mut tx = t.db.read().await.unwrap();
    let e = audit::get(&mut tx, 1).await.unwrap().unwrap();
    assert_eq!((e.detail.as_str(), e.erased_by, e.hash), ("", Some(3), all[0].hash.clone()), "its hash stays");
    tx.commit().await.unwrap();
    let again = "UPDATE audit_log SET detail = '', erased_by = 2 WHERE seq = 1";
    let r = match &t.db {
        yijia_store::Db::Sqlite(p) => sqlx::query(again).execute(p).await.map(|_| ()),
        yijia_store::Db::Postgres(p) => sqlx::query(again).execute(p).await.map(|_| ()),
    };
    assert!(r.is_err(), "emptied once");
}

#[tokio::test]
async fn concurrent_audit_appends_never_fork_the_chain() {
    let t = TestDb::new().await;
    let mut handles = Vec::new();
    for _ in 0..4 {
        let db = t.db.clone();
        handles.push(tokio::spawn(async move {
            for _ in 0..10 {
                let mut tx = db.write().await.unwrap();
                audit::append(&mut tx, &entry("x", "/root/")).await.unwrap();
                tx.commit().await.unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let mut tx = t.db.read().await.unwrap();
    let all = audit::chunk(&mut tx, 0, 100).await.unwrap();
    assert_eq!(all.len(), 40);
    for w in all.windows(2) {
        assert_eq!(w[1].prev_hash, w[0].hash);
        assert_eq!(w[1].seq, w[0].seq + 1);
    }
}

#[tokio::test]
async fn jobs_are_claimed_once_and_retried() {
    let t = TestDb::new().await;
    let mut tx = t.db.write().await.unwrap();
    let j = |key| jobs::NewJob { kind: "sweep", payload: "{}", unique_key: key, run_at: 10, max_attempts: 2, now: 0 };
    assert!(jobs::enqueue(&mut tx, &j(Some("sweep:1"))).await.unwrap().is_some());
    assert!(jobs::enqueue(&mut tx, &j(Some("sweep:1"))).await.unwrap().is_none(), "unique key");
    tx.commit().await.unwrap();

    let mut tx = t.db.write().await.unwrap();
    assert!(jobs::claim(&mut tx, "a", 5, 100).await.unwrap().is_none(), "not due yet");
    let job = jobs::claim(&mut tx, "a", 10, 100).await.unwrap().expect("due");
    assert!(jobs::claim(&mut tx, "b", 20, 120).await.unwrap().is_none(), "leased to a");
    let run = jobs::start_run(&mut tx, job.id, "a", 10).await.unwrap();
    jobs::fail(&mut tx, &job, run, "boom", 11, 50).await.unwrap();
    // the lease is given up on failure: retried at 50 by anyone
    let again = jobs::claim(&mut tx, "b", 50, 150).await.unwrap().expect("retry");
    assert_eq!(again.attempts, 2);
    let run = jobs::start_run(&mut tx, again.id, "b", 50).await.unwrap();
    assert!(jobs::finish(&mut tx, again.id, run, "b", 51).await.unwrap());
    let c = jobs::counts(&mut tx, "sweep").await.unwrap();
    assert_eq!((c.pending, c.done, c.failed, c.runs), (0, 1, 0, 1));

    // An expired lease can be taken over, and the old holder cannot finish.
    jobs::enqueue(&mut tx, &j(None)).await.unwrap();
    let first = jobs::claim(&mut tx, "a", 60, 70).await.unwrap().unwrap();
    let taken = jobs::claim(&mut tx, "b", 71, 200).await.unwrap().unwrap();
    assert_eq!(first.id, taken.id);
    let run = jobs::start_run(&mut tx, first.id, "a", 72).await.unwrap();
    assert!(!jobs::finish(&mut tx, first.id, run, "a", 72).await.unwrap());
}

#[tokio::test]
async fn meta_upserts() {
    let t = TestDb::new().await;
    let mut tx = t.db.write().await.unwrap();
    assert_eq!(meta::get(&mut tx, "demo").await.unwrap(), None);
    meta::set(&mut tx, "demo", "1").await.unwrap();
    meta::set(&mut tx, "demo", "2").await.unwrap();
    assert_eq!(meta::get(&mut tx, "demo").await.unwrap().as_deref(), Some("2"));
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let t = TestDb::new().await;
    assert_eq!(t.db.migrate().await.unwrap(), 0);
}

#[tokio::test]
async fn places_from_estate_to_household() {
    use yijia_store::places;
    let t = TestDb::new().await;
    let mut tx = t.db.write().await.unwrap();
    let (_, com, grid) = chengnan(&mut tx).await;
    let e3 = places::insert_estate(
        &mut tx,
        &places::NewEstate {
            community_id: com.id,
            grid_id: Some(grid.id),
            name: "丁香花园三期",
            point: Some((126.54, 44.81)),
            now: 1,
        },
    )
    .await
    .unwrap();
    places::insert_estate(
        &mut tx,
        &places::NewEstate { community_id: com.id, grid_id: None, name: "丁香花园", point: None, now: 1 },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = t.db.write().await.unwrap();
    let all = places::estates(&mut tx, com.id, None).await.unwrap();
    assert_eq!(all.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["丁香花园", "丁香花园三期"]);
    assert_eq!((all[1].lon, all[1].grid_code.as_deref()), (Some(126.54), Some("chengnan-g01")));
    assert_eq!(places::estates(&mut tx, com.id, Some(grid.id)).await.unwrap().len(), 1);
    assert_eq!(places::estate_by_name(&mut tx, com.id, "丁香花园三期").await.unwrap(), Some(e3));
    let b = places::building(&mut tx, e3, "8号楼", 1).await.unwrap();
    assert_eq!(places::building(&mut tx, e3, "8号楼", 2).await.unwrap(), b, "found, not made twice");
    let h = places::household(&mut tx, grid.id, b, "2单元", "502", 1).await.unwrap();
    assert_eq!(places::household(&mut tx, grid.id, b, "2单元", "502", 2).await.unwrap(), h);
    let a = places::address(&mut tx, h).await.unwrap().unwrap();
    assert_eq!(
        (a.estate.as_str(), a.building.as_str(), a.entrance.as_str(), a.door.as_str()),
        ("丁香花园三期", "8号楼", "2单元", "502")
    );
    assert_eq!(places::count_places(&mut tx, grid.id).await.unwrap(), 2, "one estate's point and one household");
    assert_eq!(
        places::grid_boundaries(&mut tx).await.unwrap(),
        [(grid.id, "chengnan-g01".to_owned(), "{}".to_owned())]
    );
    tx.commit().await.unwrap();
    let mut tx = t.db.write().await.unwrap();
    let dup = places::insert_estate(
        &mut tx,
        &places::NewEstate { community_id: com.id, grid_id: None, name: "丁香花园", point: None, now: 2 },
    )
    .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
}

#[tokio::test]
async fn residents_by_scope_category_name_and_index() {
    use yijia_store::residents::{self, Filter, NewResident};
    let t = TestDb::new().await;
    let mut tx = t.db.write().await.unwrap();
    let (sub, com, grid) = chengnan(&mut tx).await;
    let other = org::insert(
        &mut tx,
        &org::NewNode {
            code: "chengnan-g02",
            kind: OrgKind::Grid,
            name: "第2网格",
            parent_id: com.id,
            path: "/root/zhengyang/chengnan/chengnan-g02/",
            boundary: None,
            now: 1,
        },
    )
    .await
    .unwrap();
    let new = |uid: &str, grid_id: i64, name: &str, idx: Option<&str>| NewResident {
        uid: uid.into(),
        grid_id,
        name: name.into(),
        id_number_sealed: idx.map(|i| format!("sealed-{i}")),
        id_number_index: idx.map(str::to_owned),
        id_number_masked: Some("220182********1234".into()),
        phone_index: Some(format!("p-{uid}")),
        relation: "户主".into(),
        residence: Residence::Permanent,
        now: 5,
        ..Default::default()
    };
    let a = residents::insert(&mut tx, &new("u1", grid.id, "崔晓红", Some("i1"))).await.unwrap();
    let b = residents::insert(&mut tx, &new("u2", grid.id, "崔晓", Some("i2"))).await.unwrap();
    residents::insert(&mut tx, &new("u3", other.id, "崔晓明", None)).await.unwrap();
    residents::insert(&mut tx, &new("u4", grid.id, "王芳", None)).await.unwrap();
    residents::add_category(&mut tx, a, "elderly_alone", Some("sealed-details"), "登记", "worker1", 6).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = t.db.write().await.unwrap();
    let dup = residents::insert(&mut tx, &new("u5", grid.id, "重复", Some("i1"))).await;
    assert!(matches!(dup, Err(StoreError::Conflict(ref f)) if f == "id_number"), "{dup:?}");
    drop(tx);

    let mut tx = t.db.read().await.unwrap();
    let r = residents::get(&mut tx, a).await.unwrap().unwrap();
    assert_eq!((r.name.as_str(), r.grid_code.as_str(), r.version), ("崔晓红", "chengnan-g01", 1));
    let f = |paths: Vec<String>, category: Option<&str>, name: Option<&str>| Filter {
        paths,
        category: category.map(str::to_owned),
        name: name.map(str::to_owned),
        ..Default::default()
    };
    let (rows, total) = residents::list(&mut tx, &f(vec![grid.path.clone()], None, Some("崔晓")), 50, 0).await.unwrap();
    assert_eq!(total, 2, "a two-character prefix, within the grid");
    assert_eq!(rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["崔晓", "崔晓红"]);
    assert_eq!(residents::list(&mut tx, &f(vec![com.path.clone()], None, Some("崔晓")), 50, 0).await.unwrap().1, 3);
    assert_eq!(
        residents::list(&mut tx, &f(vec![sub.path.clone()], Some("elderly_alone"), None), 50, 0).await.unwrap().1,
        1
    );
    let (page, total) =
        residents::list(&mut tx, &f(vec![grid.path.clone(), other.path.clone()], None, None), 2, 2).await.unwrap();
    assert_eq!((page.len(), total), (2, 4));
    assert_eq!(residents::list(&mut tx, &f(vec![], None, None), 50, 0).await.unwrap().1, 0);
    let found = residents::by_index(&mut tx, "i2", "none").await.unwrap();
    assert_eq!(found.iter().map(|r| r.id).collect::<Vec<_>>(), [b]);
    assert_eq!(residents::by_index(&mut tx, "none", "p-u1").await.unwrap()[0].id, a);
    let cats = residents::categories(&mut tx, a).await.unwrap();
    assert_eq!(
        (cats[0].category.as_str(), cats[0].details_sealed.as_deref()),
        ("elderly_alone", Some("sealed-details"))
    );
    let h = residents::history_of(&mut tx, a).await.unwrap();
    assert_eq!((h[0].change.as_str(), h[0].by_user.as_str()), ("added", "worker1"));
}

#[tokio::test]
async fn category_counts_per_grid_match_the_lists() {
    use yijia_store::residents::{self, Filter, NewResident};
    let t = TestDb::new().await;
    let mut tx = t.db.write().await.unwrap();
    let (_, com, grid) = chengnan(&mut tx).await;
    for (i, (birth, cat)) in
        [("1940-01-01", Some("elderly_alone")), ("2020-05-05", None), ("1990-01-01", Some("elderly_alone"))]
            .iter()
            .enumerate()
    {
        let r = NewResident {
            uid: format!("u{i}"),
            grid_id: grid.id,
            name: format!("人{i}"),
            birth_date: Some((*birth).into()),
            relation: String::new(),
            residence: Residence::Permanent,
            now: 1,
            ..Default::default()
        };
        let id = residents::insert(&mut tx, &r).await.unwrap();
        if let Some(c) = cat {
            residents::add_category(&mut tx, id, c, None, "t", "t", 1).await.unwrap();
        }
    }
    tx.commit().await.unwrap();
    let mut tx = t.db.read().await.unwrap();
    let mut counts = residents::category_counts(&mut tx, &com.path, "2012-11-29").await.unwrap();
    counts.sort();
    assert_eq!(
        counts,
        [
            ("chengnan-g01".into(), "".into(), 3),
            ("chengnan-g01".into(), "child".into(), 1),
            ("chengnan-g01".into(), "elderly_alone".into(), 2)
        ]
    );
    let f = Filter { paths: vec![grid.path.clone()], born_after: Some("2012-11-29".into()), ..Default::default() };
    assert_eq!(residents::list(&mut tx, &f, 50, 0).await.unwrap().1, 1);
}

#[tokio::test]
async fn residents_go_in_by_the_batch_and_come_back_by_address_and_in_order() {
    use yijia_store::places::{self, NewEstate};
    use yijia_store::residents::{self, BATCH, Filter, NewCategory, NewResident, Sort};
    let t = TestDb::new().await;
    let mut tx = t.db.write().await.unwrap();
    let (_, com, grid) = chengnan(&mut tx).await;
    let estate = places::insert_estate(
        &mut tx,
        &NewEstate { community_id: com.id, grid_id: Some(grid.id), name: "丁香花园", point: None, now: 1 },
    )
    .await
    .unwrap();
    let b3 = places::building(&mut tx, estate, "3号楼", 1).await.unwrap();
    let b1 = places::building(&mut tx, estate, "1号楼", 1).await.unwrap();
    let doors = vec![(b3, "1单元".to_owned(), "502".to_owned()), (b1, "2单元".to_owned(), "101".to_owned())];
    let homes = places::households(&mut tx, grid.id, &doors, 1).await.unwrap();
    assert_eq!(homes.len(), 2);
    // asking again finds the same households, and makes none
    let again = places::households(&mut tx, grid.id, &doors, 2).await.unwrap();
    assert_eq!(again, homes);

    // more than one statement's worth, out of name order
    let n = BATCH + 7;
    let rows: Vec<NewResident> = (0..n)
        .map(|i| NewResident {
            uid: format!("b{i}"),
            grid_id: grid.id,
            household_id: Some(homes[&doors[i % 2]]),
            name: format!("居民{:04}", n - i),
            birth_date: Some(format!("{}-01-01", 1930 + i % 90)),
            id_number_index: Some(format!("ix{i}")),
            relation: String::new(),
            residence: Residence::Permanent,
            now: i as i64,
            ..Default::default()
        })
        .collect();
    let mut ids = Vec::new();
    for chunk in rows.chunks(BATCH) {
        ids.extend(residents::insert_many(&mut tx, chunk).await.unwrap());
    }
    assert_eq!(ids.len(), n);
    for (id, r) in ids.iter().zip(&rows).take(3) {
        assert_eq!(residents::get(&mut tx, *id).await.unwrap().unwrap().uid, r.uid, "ids come back in row order");
    }
    let cats: Vec<NewCategory<'_>> = ids
        .iter()
        .take(3)
        .map(|id| NewCategory {
            resident_id: *id,
            category: "disabled",
            details_sealed: Some("sealed"),
            reason: "登记",
            by_user: "t",
            now: 9,
        })
        .collect();
    residents::add_categories(&mut tx, &cats).await.unwrap();
    residents::add_category(&mut tx, ids[0], "elderly_alone", None, "登记", "t", 9).await.unwrap();
    // a category the community made itself, held by its code c<id>
    let own = residents::insert_custom(&mut tx, com.id, "失独家庭", "secretary", 9).await.unwrap();
    residents::add_category(&mut tx, ids[1], &format!("c{own}"), None, "登记", "t", 9).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = t.db.write().await.unwrap();
    let again = residents::insert_custom(&mut tx, com.id, "失独家庭", "secretary", 9).await;
    assert!(matches!(again, Err(yijia_store::StoreError::Conflict(_))), "{again:?}");
    drop(tx);

    let mut tx = t.db.read().await.unwrap();
    let r = residents::get(&mut tx, ids[0]).await.unwrap().unwrap();
    let held: Vec<(&str, bool)> = r.category_codes().iter().map(|c| (c.code, c.has_details)).collect();
    assert_eq!(held, [("disabled", true), ("elderly_alone", false)]);
    assert_eq!(residents::history_of(&mut tx, ids[1]).await.unwrap()[0].change, "added");
    let r1 = residents::get(&mut tx, ids[1]).await.unwrap().unwrap();
    let custom: Vec<_> = r1.category_codes().into_iter().filter(|c| c.custom_name.is_some()).collect();
    assert_eq!((custom[0].code, custom[0].custom_name), (format!("c{own}").as_str(), Some("失独家庭")));
    let customs = residents::customs(&mut tx, std::slice::from_ref(&grid.path)).await.unwrap();
    assert_eq!(customs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["失独家庭"], "seen from a grid below");
    assert!(residents::customs(&mut tx, &["/root/elsewhere/".into()]).await.unwrap().is_empty());
    let known = residents::registered(&mut tx, &["ix3".into(), "nobody".into(), format!("ix{}", n - 1)]).await.unwrap();
    assert_eq!(known.len(), 2);
    assert!(known.contains("ix3") && !known.contains("nobody"));

    let f = |sort: Sort| Filter { paths: vec![grid.path.clone()], sort, ..Default::default() };
    let first = |rows: Vec<residents::Resident>| rows[0].uid.clone();
    assert_eq!(first(residents::list(&mut tx, &f(Sort::Name), 1, 0).await.unwrap().0), format!("b{}", n - 1));
    assert_eq!(first(residents::list(&mut tx, &f(Sort::Newest), 1, 0).await.unwrap().0), format!("b{}", n - 1));
    let oldest = residents::list(&mut tx, &f(Sort::Oldest), 1, 0).await.unwrap().0;
    assert_eq!(oldest[0].birth_date.as_deref(), Some("1930-01-01"));
    let youngest = residents::list(&mut tx, &f(Sort::Youngest), 1, 0).await.unwrap().0;
    assert_eq!(youngest[0].birth_date.as_deref(), Some("2019-01-01"));
    // 1号楼 before 3号楼
    let by_address = residents::list(&mut tx, &f(Sort::Address), 1, 0).await.unwrap().0;
    assert_eq!(by_address[0].household_id, Some(homes[&doors[1]]));

    let at = |building: Option<&str>, door: Option<&str>| Filter {
        paths: vec![grid.path.clone()],
        estate: Some("丁香花园".into()),
        building: building.map(str::to_owned),
        door: door.map(str::to_owned),
        ..Default::default()
    };
    let count = |rows: (Vec<residents::Resident>, i64)| rows.1;
    assert_eq!(count(residents::list(&mut tx, &at(None, None), 1, 0).await.unwrap()), n as i64);
    assert_eq!(
        count(residents::list(&mut tx, &at(Some("3号楼"), Some("502")), 1, 0).await.unwrap()),
        n.div_ceil(2) as i64
    );
    assert_eq!(count(residents::list(&mut tx, &at(Some("3号楼"), Some("101")), 1, 0).await.unwrap()), 0);
}

fn new_case<'a>(com: &org::OrgNode, grid: Option<&'a org::OrgNode>, category_id: i64, now: i64) -> cases::NewCase<'a> {
    cases::NewCase {
        community_id: com.id,
        grid_id: grid.map(|g| g.id),
        org_path: grid.map_or("/root/zhengyang/chengnan/", |g| g.path.as_str()),
        kind: CaseKind::Hazard,
        category_id,
        priority: Priority::Urgent,
        state: CaseState::Submitted,
        title: "吊顶脱落",
        description: "三期 3 栋楼道吊顶脱落",
        channel: Channel::Visit,
        building_id: None,
        household_id: None,
        lon: Some(126.541),
        lat: Some(44.8182),
        address: "丁香花园三期3栋",
        reporter_user_id: None,
        reporter_resident_id: None,
        reporter_name: "李网格",
        reporter_phone_sealed: None,
        created_by: None,
        created_by_name: "李网格",
        accept_due: now + 100,
        resolve_due: now + 1000,
        due_at: Some(now + 100),
        near_at: Some(now + 80),
        next_alarm_at: Some(now + 80),
        at_risk: Some("楼道行人"),
        dispute_sealed: None,
        token: None,
        now,
    }
}

/// A hazard category, `structure`.
fn structure(com: &org::OrgNode) -> cases::NewCategory<'static> {
    cases::NewCategory {
        community_id: com.id,
        code: "structure",
        kind: CaseKind::Hazard,
        name: "房屋安全",
        name_en: "Building safety",
        description: "",
        priority: Priority::Urgent,
        now: 1,
    }
}

/// A stored code that names no variant (a renamed state, a hand edit, a bad
/// migration) fails the read and names the table, the column and the value:
/// it never becomes some default state inside the state machine.
#[tokio::test]
async fn an_unknown_stored_code_fails_the_read_naming_table_column_and_value() {
    let t = TestDb::new().await;
    let mut tx = t.db.write().await.unwrap();
    let (_, com, grid) = chengnan(&mut tx).await;
    let cat = cases::insert_category(&mut tx, &structure(&com)).await.unwrap();
    let id = cases::insert(&mut tx, &new_case(&com, Some(&grid), cat, 1_000)).await.unwrap();
    let edit = "UPDATE cases SET state = 'lost' WHERE id = $1";
    yijia_store::on_tx!(&mut tx, c => sqlx::query(edit).bind(id).execute(c).await.map(|r| r.rows_affected())).unwrap();

    let err = cases::get(&mut tx, id).await.expect_err("an unknown state is not read as any state");
    let mut text = err.to_string();
    let mut cause = std::error::Error::source(&err);
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    for part in ["cases.state", "\"state\"", "'lost'", "submitted"] {
        assert!(text.contains(part), "{part} is not in: {text}");
    }
    let all = cases::Filter { paths: vec![com.path.clone()], ..Default::default() };
    assert!(cases::list(&mut tx, &all, 50, 0).await.is_err(), "a list does not skip or guess the row either");
}

#[tokio::test]
async fn cases_catalogue_lists_versions_timeline_and_alarms() {
    let t = TestDb::new().await;
    let mut tx = t.db.write().await.unwrap();
    let (_, com, grid) = chengnan(&mut tx).await;
    assert_eq!(cases::communities_without_catalogue(&mut tx).await.unwrap(), [com.id]);
    let cat = cases::insert_category(&mut tx, &structure(&com)).await.unwrap();
    let d = cases::Deadline { category_id: cat, priority: Priority::Urgent, accept_ms: 10, resolve_ms: 20 };
    cases::set_deadline(&mut tx, &d).await.unwrap();
    let d2 = cases::Deadline { accept_ms: 30, ..d.clone() };
    cases::set_deadline(&mut tx, &d2).await.unwrap();
    let (_, kept) = cases::category_with_deadlines(&mut tx, com.id, "structure").await.unwrap();
    assert_eq!(kept, [d2], "set twice, kept once");
    assert!(cases::communities_without_catalogue(&mut tx).await.unwrap().is_empty());
    cases::update_category(&mut tx, cat, "房屋安全隐患", "Building safety", "墙体", Priority::Emergency, false)
        .await
        .unwrap();
    let c = cases::category_by_code(&mut tx, com.id, "structure").await.unwrap().unwrap();
    assert_eq!((c.name.as_str(), c.priority, c.active), ("房屋安全隐患", Priority::Emergency, false));

    let a = cases::insert(&mut tx, &new_case(&com, Some(&grid), cat, 1_000)).await.unwrap();
    let b = cases::insert(&mut tx, &new_case(&com, None, cat, 2_000)).await.unwrap();
    cases::add_event(
        &mut tx,
        &cases::NewEvent {
            case_id: a,
            at: 1_000,
            actor_id: None,
            actor_name: "李网格",
            action: EventKind::Created,
            from_state: None,
            to_state: Some(CaseState::Submitted),
            note: "",
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = t.db.write().await.unwrap();
    let mut k = cases::get(&mut tx, a).await.unwrap().unwrap();
    assert_eq!((k.grid_code.as_deref(), k.category_code.as_str(), k.version), (Some("chengnan-g01"), "structure", 1));
    // lists: by grid, the dispatch list, near and overdue by time
    let grid_f = cases::Filter { paths: vec![grid.path.clone()], open: true, ..Default::default() };
    let (rows, total) = cases::list(&mut tx, &grid_f, 50, 0).await.unwrap();
    assert_eq!((rows.len(), total), (1, 1));
    let dispatch = cases::Filter { paths: vec![com.path.clone()], unplaced: true, open: true, ..Default::default() };
    assert_eq!(cases::list(&mut tx, &dispatch, 50, 0).await.unwrap().0[0].id, b);
    let all = cases::Filter { paths: vec![com.path.clone()], ..Default::default() };
    let near = cases::Filter { near_at: Some(1_090), ..all.clone() };
    assert_eq!(cases::list(&mut tx, &near, 50, 0).await.unwrap().0.iter().map(|k| k.id).collect::<Vec<_>>(), [a]);
    let counts = cases::counts(&mut tx, &all, 1_150).await.unwrap();
    assert_eq!(counts, cases::Counts { open: 2, near: 0, overdue: 1 });
    let by_code = cases::Filter { category_code: Some("structure".into()), ..all.clone() };
    assert_eq!(cases::list(&mut tx, &by_code, 50, 0).await.unwrap().1, 2);

    // a write against the version read, once
    k.state = CaseState::Accepted;
    k.assignee_name = Some("李网格".into());
    assert!(cases::save(&mut tx, &k, 1_010).await.unwrap());
    assert!(!cases::save(&mut tx, &k, 1_020).await.unwrap(), "the version moved on");
    let k2 = cases::get(&mut tx, a).await.unwrap().unwrap();
    assert_eq!((k2.state, k2.version, k2.updated_at), (CaseState::Accepted, 2, 1_010));

    // the sweep sees only what is due
    let due = cases::alarms_due(&mut tx, 1_085, 10).await.unwrap();
    assert_eq!(due.iter().map(|k| k.id).collect::<Vec<_>>(), [a]);
    // the hint: same category, open, recent, near the point
    let box_ = Some((126.540, 44.818, 126.542, 44.819));
    assert_eq!(cases::similar(&mut tx, cat, None, box_, 0).await.unwrap().len(), 2);
    assert!(cases::similar(&mut tx, cat, None, box_, 5_000).await.unwrap().is_empty());
    assert!(cases::similar(&mut tx, cat, None, None, 0).await.unwrap().is_empty());

    assert_eq!(cases::events(&mut tx, a).await.unwrap().len(), 1);
    cases::add_revisit(&mut tx, a, 7_000).await.unwrap();
    cases::add_revisit(&mut tx, a, 7_000).await.unwrap();
    let r = cases::revisits(&mut tx, a).await.unwrap();
    assert_eq!(r.len(), 1);
    assert!(cases::finish_revisit(&mut tx, r[0].id, "李网格", "无复发", 7_100).await.unwrap());
    assert!(!cases::finish_revisit(&mut tx, r[0].id, "李网格", "again", 7_200).await.unwrap());
    cases::push_outbox(&mut tx, 1, "case.created", &grid.path, &format!("case:{a}"), "{}").await.unwrap();
    assert_eq!(cases::outbox_of(&mut tx, &format!("case:{a}")).await.unwrap().len(), 1);
    tx.commit().await.unwrap();

    // the timeline is never changed
    let sql = "UPDATE case_events SET note = 'x'";
    let r = match &t.db {
        yijia_store::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        yijia_store::Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
    };
    assert!(r.expect_err(sql).to_string().contains("append-only"));
}

#[tokio::test]
async fn several_cases_and_audit_lines_in_one_statement_each() {
    let t = TestDb::new().await;
    let mut tx = t.db.write().await.unwrap();
    let (_, com, grid) = chengnan(&mut tx).await;
    let cat = cases::insert_category(
        &mut tx,
        &cases::NewCategory {
            community_id: com.id,
            code: "repair",
            kind: CaseKind::Request,
            name: "房屋维修",
            name_en: "Home repairs",
            description: "",
            priority: Priority::Ordinary,
            now: 1,
        },
    )
    .await
    .unwrap();
    let rows: Vec<cases::NewCase<'_>> = ["a", "b", "c"]
        .iter()
        .map(|t| cases::NewCase { token: Some(t), title: t, ..new_case(&com, Some(&grid), cat, 1_000) })
        .collect();
    let ids = cases::insert_many(&mut tx, &rows).await.unwrap();
    for (id, token) in ids.iter().zip(["a", "b", "c"]) {
        assert_eq!(cases::get(&mut tx, *id).await.unwrap().unwrap().title, token, "ids come back in order");
    }
    let events: Vec<cases::NewEvent<'_>> = ids
        .iter()
        .map(|id| cases::NewEvent {
            case_id: *id,
            at: 1_000,
            actor_id: None,
            actor_name: "系统",
            action: EventKind::Created,
            from_state: None,
            to_state: Some(CaseState::Submitted),
            note: "",
        })
        .collect();
    cases::add_events(&mut tx, &events).await.unwrap();
    let objects: Vec<String> = ids.iter().map(|id| format!("case:{id}")).collect();
    let outbox: Vec<cases::NewOutbox<'_>> = objects
        .iter()
        .map(|o| cases::NewOutbox { at: 1, event: "case.created", org_path: &grid.path, object: o, payload: "{}" })
        .collect();
    cases::push_outbox_many(&mut tx, &outbox).await.unwrap();
    for (id, o) in ids.iter().zip(&objects) {
        assert_eq!(cases::events(&mut tx, *id).await.unwrap().len(), 1);
        assert_eq!(cases::outbox_of(&mut tx, o).await.unwrap().len(), 1);
    }
    // audit lines: one alone, then three at once, and the chain still links
    audit::append(&mut tx, &entry("login", "/root/")).await.unwrap();
    let seqs =
        audit::append_many(&mut tx, &[entry("a", "/root/"), entry("b", "/root/"), entry("c", "/root/")]).await.unwrap();
    assert_eq!(seqs, [2, 3, 4]);
    audit::append(&mut tx, &entry("after", "/root/")).await.unwrap();
    let all = audit::chunk(&mut tx, 0, 100).await.unwrap();
    let mut prev = GENESIS.to_owned();
    for e in &all {
        assert_eq!(e.prev_hash, prev, "entry {} links to the one before", e.seq);
        assert_eq!(e.hash, entry_hash(&prev, &e.fields()));
        prev = e.hash.clone();
    }
    assert_eq!(all.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["login", "a", "b", "c", "after"]);
    assert_eq!(audit::head(&mut tx).await.unwrap(), (5, prev));
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn visits_are_recorded_once_and_the_due_come_in_order() {
    use yijia_store::places;
    use yijia_store::residents::{self, NewCategory, NewResident};
    use yijia_store::visits::{self, Plan, Whose};
    let t = TestDb::new().await;
    let mut tx = t.db.write().await.unwrap();
    let (_, com, grid) = chengnan(&mut tx).await;
    let estate = places::insert_estate(
        &mut tx,
        &places::NewEstate { community_id: com.id, grid_id: Some(grid.id), name: "丁香花园", point: None, now: 1 },
    )
    .await
    .unwrap();
    let b8 = places::building(&mut tx, estate, "8号楼", 1).await.unwrap();
    let door = places::household(&mut tx, grid.id, b8, "2单元", "301", 1).await.unwrap();
    let person = |uid: &str, name: &str| NewResident {
        uid: uid.into(),
        grid_id: grid.id,
        name: name.into(),
        relation: "户主".into(),
        residence: Residence::Permanent,
        now: 5,
        ..Default::default()
    };
    let a =
        residents::insert(&mut tx, &NewResident { household_id: Some(door), ..person("v1", "孙大爷") }).await.unwrap();
    let b = residents::insert(&mut tx, &person("v2", "李奶奶")).await.unwrap();
    let c = residents::insert(&mut tx, &person("v3", "王阿姨")).await.unwrap();
    let cat = |id, category| NewCategory {
        resident_id: id,
        category,
        details_sealed: None,
        reason: "r",
        by_user: "u",
        now: 5,
    };
    residents::add_categories(&mut tx, &[cat(a, "elderly_alone"), cat(a, "disabled"), cat(b, "hardship")])
        .await
        .unwrap();

    // what decides a plan, read for residents, households or a community
    let inputs = visits::plan_inputs(&mut tx, Whose::Residents(&[a, b])).await.unwrap();
    assert_eq!(inputs.len(), 2);
    assert_eq!((inputs[0].resident_id, inputs[0].community_id), (a, com.id));
    assert_eq!(inputs[0].categories, ["disabled", "elderly_alone"]);
    assert_eq!(inputs[1].categories, ["hardship"]);
    let by_door = visits::plan_inputs(&mut tx, Whose::Households(&[door])).await.unwrap();
    assert_eq!(by_door.iter().map(|i| i.resident_id).collect::<Vec<_>>(), [a]);
    assert_eq!(visits::plan_inputs(&mut tx, Whose::Community(com.id)).await.unwrap().len(), 3);
    assert!(visits::plan_inputs(&mut tx, Whose::Residents(&[])).await.unwrap().is_empty());

    // plans: due dates on the residents, the walk is a range on them
    let plan = |id, last: Option<&str>, due: Option<&str>, days| Plan {
        resident_id: id,
        grid_id: grid.id,
        last_contact_on: last.map(str::to_owned),
        due_on: due.map(str::to_owned),
        days,
        first_due_on: due.map(str::to_owned),
    };
    visits::set_plans(
        &mut tx,
        &[
            plan(a, Some("2026-11-20"), Some("2026-11-27"), Some(7)),
            plan(b, None, Some("2026-11-29"), Some(30)),
            plan(c, Some("2026-11-28"), Some("2026-12-05"), Some(7)),
        ],
    )
    .await
    .unwrap();
    let due = visits::due(&mut tx, &[grid.id], "2026-11-29", 50).await.unwrap();
    assert_eq!(due.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["孙大爷", "李奶奶"], "longest overdue first");
    assert_eq!(due[0].last_contact_on.as_deref(), Some("2026-11-20"));
    assert_eq!(
        (due[0].estate.as_deref(), due[0].building.as_deref(), due[0].entrance.as_deref(), due[0].door.as_deref()),
        (Some("丁香花园"), Some("8号楼"), Some("2单元"), Some("301"))
    );
    assert_eq!((due[0].building_id, due[0].plan_days, due[1].building_id), (Some(b8), Some(7), None));
    assert_eq!(visits::due_counts(&mut tx, &[grid.id], "2026-11-29").await.unwrap(), [(grid.id, 2)]);
    let planned = visits::planned(&mut tx, &[grid.id]).await.unwrap();
    assert_eq!(planned.len(), 4, "one row per category: a twice, b, c with none");
    assert_eq!(planned.iter().filter(|p| p.category.is_none()).count(), 1);
    assert!(planned.iter().any(|p| p.resident_id == b && p.first_due_on.as_deref() == Some("2026-11-29")));
    visits::set_plans(&mut tx, &[plan(b, None, None, None)]).await.unwrap();
    assert_eq!(visits::due(&mut tx, &[grid.id], "2026-11-29", 50).await.unwrap().len(), 1, "off the plan");
    assert!(visits::due(&mut tx, &[], "2026-11-29", 50).await.unwrap().is_empty());

    // intervals: a community's own, and back to the default
    visits::set_interval(&mut tx, com.id, "elderly_alone", 5).await.unwrap();
    visits::set_interval(&mut tx, com.id, "elderly_alone", 3).await.unwrap();
    assert_eq!(visits::intervals(&mut tx, com.id).await.unwrap(), [("elderly_alone".to_owned(), 3)]);
    visits::remove_interval(&mut tx, com.id, "elderly_alone").await.unwrap();
    assert!(visits::intervals(&mut tx, com.id).await.unwrap().is_empty());
    visits::set_own_interval(&mut tx, a, Some(3)).await.unwrap();
    let again = visits::plan_inputs(&mut tx, Whose::Residents(&[a])).await.unwrap();
    assert_eq!((again[0].visit_interval_days, again[0].plan_days), (Some(3), Some(7)));

    // a visit sent twice (the phone came back online) is recorded once
    let v = visits::NewVisit {
        client_id: "phone-7f3a",
        resident_id: Some(a),
        household_id: Some(door),
        grid_id: grid.id,
        visitor_id: None,
        visitor_name: "李网格",
        visited_at: 1_000,
        visited_on: "2026-11-29",
        mode: VisitMode::AtHome,
        health: Finding::Well,
        living: Finding::Well,
        needs: Finding::Watch,
        safety: Finding::Well,
        notes_sealed: None,
        next_visit_on: None,
        case_id: None,
        photo_file: None,
        photo_type: None,
        now: 1_000,
    };
    let (first, new) = visits::insert(&mut tx, &v).await.unwrap();
    assert!(new);
    let (again, new) = visits::insert(&mut tx, &visits::NewVisit { visited_at: 2_000, ..v }).await.unwrap();
    assert_eq!((again, new), (first, false));
    let list = visits::of_resident(&mut tx, a, 10).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].visited_at, list[0].needs), (1_000, Finding::Watch), "the first one stays");

    // many at once: only the new ones come back; a household visit counts for its people
    let batch = [
        visits::NewVisit { client_id: "phone-7f3a", ..v },
        visits::NewVisit { client_id: "b-1", resident_id: None, visited_on: "2026-11-30", ..v },
        visits::NewVisit { client_id: "b-2", resident_id: Some(c), household_id: None, visitor_name: "王网格", ..v },
    ];
    let new = visits::insert_many(&mut tx, &batch).await.unwrap();
    assert_eq!(new.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(), ["b-1", "b-2"]);
    let got = visits::by_client_ids(&mut tx, &["b-1", "b-2", "nope"]).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(visits::get(&mut tx, new[0].1).await.unwrap().unwrap().client_id, "b-1");
    assert_eq!(visits::of_resident(&mut tx, a, 10).await.unwrap().len(), 2, "with the household's");
    let contacts = visits::contacts(&mut tx, &[grid.id], "2026-11-29", "2026-11-29").await.unwrap();
    assert_eq!(contacts.len(), 2, "the day's own, not the next day's");
    assert_eq!(
        visits::per_visitor(&mut tx, &[grid.id], "2026-11-01", "2026-11-30").await.unwrap(),
        [("李网格".to_owned(), 2, 2), ("王网格".to_owned(), 1, 1)]
    );
    tx.commit().await.unwrap();

    // the database refuses what is not a mode or a finding, even by hand
    let mut tx = t.db.write().await.unwrap();
    let by_hand = yijia_store::on_tx!(&mut tx, c => sqlx::query("UPDATE visits SET mode = 'fax'").execute(c).await.map(|r| r.rows_affected()));
    assert!(by_hand.is_err());
}

#[tokio::test]
async fn points_move_by_transfers_the_database_keeps() {
    use yijia_store::points::{self, NewTransfer, Request};
    use yijia_store::residents::{self, NewResident};
    let t = TestDb::new().await;
    let mut tx = t.db.write().await.unwrap();
    let (_, com, grid) = chengnan(&mut tx).await;
    let person = NewResident {
        uid: "p1".into(),
        grid_id: grid.id,
        name: "孙大爷".into(),
        relation: "户主".into(),
        residence: Residence::Permanent,
        now: 5,
        ..Default::default()
    };
    let r = residents::insert(&mut tx, &person).await.unwrap();
    let pool = points::ensure_account(&mut tx, com.id, "pool", None, 1).await.unwrap();
    let mine = points::ensure_account(&mut tx, com.id, "resident", Some(r), 1).await.unwrap();
    // made once: asked again, the same account
    assert_eq!(points::ensure_account(&mut tx, com.id, "pool", None, 2).await.unwrap(), pool);
    assert_eq!(points::ensure_account(&mut tx, com.id, "resident", Some(r), 2).await.unwrap(), mine);

    let req = |id: &str, outcome: &str| Request {
        client_id: id.into(),
        fingerprint: format!("fp-{id}"),
        outcome: outcome.into(),
        reason: None,
        failed_leg: None,
        community_id: com.id,
        created_by: None,
        created_at: 10,
    };
    assert!(points::insert_request(&mut tx, &req("a1", "done")).await.unwrap());
    // the id is taken: the second insert does nothing and says so
    assert!(!points::insert_request(&mut tx, &req("a1", "failed")).await.unwrap());
    assert_eq!(points::request(&mut tx, "a1").await.unwrap().unwrap().outcome, "done");
    let tr = |id: &'static str, leg: i32, debit: i64, credit: i64, amount: i64, on: &'static str| NewTransfer {
        client_id: id,
        leg,
        debit_id: debit,
        credit_id: credit,
        amount,
        kind: TransferKind::Award,
        memo: "志愿服务",
        reverses_id: None,
        created_by: None,
        created_by_name: "社区",
        created_at: 10,
        created_on: on,
    };
    points::insert_transfers(
        &mut tx,
        &[tr("a1", 0, pool.id, mine.id, 30, "2026-10-31"), tr("a1", 1, pool.id, mine.id, 5, "2026-11-01")],
    )
    .await
    .unwrap();
    points::add_to_balances(&mut tx, &[(pool.id, -35), (mine.id, 35)]).await.unwrap();
    let locked = points::lock_accounts(&mut tx, &[mine.id, pool.id]).await.unwrap();
    assert_eq!(locked.iter().map(|a| (a.id, a.balance)).collect::<Vec<_>>(), vec![(pool.id, -35), (mine.id, 35)]);
    assert_eq!(points::transfers_of(&mut tx, "a1").await.unwrap().len(), 2);
    // statements by day: the balance before November, then November's lines
    assert_eq!(points::balance_before(&mut tx, mine.id, "2026-11-01").await.unwrap(), 30);
    assert_eq!(points::balance_before(&mut tx, pool.id, "2026-11-01").await.unwrap(), -30);
    let nov = points::statement(&mut tx, mine.id, "2026-11-01", "2026-11-30").await.unwrap();
    assert_eq!(nov.iter().map(|t| t.amount).collect::<Vec<_>>(), vec![5]);
    assert_eq!(points::verify(&mut tx).await.unwrap(), (vec![], 0));
    tx.commit().await.unwrap();

    // a resident's balance never goes below zero, whatever the caller forgot
    let mut tx = t.db.write().await.unwrap();
    assert!(points::add_to_balances(&mut tx, &[(mine.id, -36), (pool.id, 36)]).await.is_err());
    drop(tx);
    // transfers and requests are never changed or removed, on either backend
    for sql in [
        "UPDATE point_transfers SET amount = 1",
        "DELETE FROM point_transfers",
        "UPDATE point_requests SET outcome = 'failed'",
        "DELETE FROM point_requests",
    ] {
        let r = match &t.db {
            yijia_store::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
            yijia_store::Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        };
        let e = r.expect_err(sql).to_string();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    // a balance changed behind the ledger's back is found
    let mut tx = t.db.write().await.unwrap();
    points::add_to_balances(&mut tx, &[(pool.id, 1)]).await.unwrap();
    assert_eq!(points::verify(&mut tx).await.unwrap(), (vec![(pool.id, -34, -35)], 1));
}

#[tokio::test]
async fn second_factors_and_recovery_codes() {
    use yijia_store::totp;
    let t = TestDb::new().await;
    let mut tx = t.db.write().await.unwrap();
    let u = users::insert(&mut tx, "sec", "王书记", "h", 0).await.unwrap();
    totp::put_pending(&mut tx, u.id, "sealed-1", 10).await.unwrap();
    totp::put_pending(&mut tx, u.id, "sealed-2", 20).await.unwrap();
    let t1 = totp::get(&mut tx, u.id).await.unwrap().unwrap();
    assert_eq!((t1.secret_sealed.as_str(), t1.confirmed_at), ("sealed-2", None), "a pending secret is replaced");
    assert_eq!(totp::confirm(&mut tx, u.id, 30).await.unwrap(), 1);
    totp::put_pending(&mut tx, u.id, "sealed-3", 40).await.unwrap();
    assert_eq!(totp::get(&mut tx, u.id).await.unwrap().unwrap().secret_sealed, "sealed-2", "a confirmed one is kept");
    assert!(totp::take_step(&mut tx, u.id, 100).await.unwrap());
    assert!(!totp::take_step(&mut tx, u.id, 100).await.unwrap(), "the same step twice");
    assert!(!totp::take_step(&mut tx, u.id, 99).await.unwrap(), "an earlier step");
    assert!(totp::take_step(&mut tx, u.id, 101).await.unwrap());

    let s = sessions::Session {
        token_hash: "t".into(),
        user_id: u.id,
        csrf_token: "c".into(),
        created_at: 1,
        last_seen_at: 1,
        ip: "::1".into(),
        user_agent: String::new(),
    };
    sessions::insert(&mut tx, &s).await.unwrap();
    assert!(sessions::with_user(&mut tx, "t").await.unwrap().unwrap().totp);

    totp::set_recovery(&mut tx, u.id, &["a".into(), "b".into()]).await.unwrap();
    assert_eq!(totp::recovery_left(&mut tx, u.id).await.unwrap(), 2);
    assert!(totp::use_recovery(&mut tx, u.id, "a", 50).await.unwrap());
    assert!(!totp::use_recovery(&mut tx, u.id, "a", 51).await.unwrap(), "a code is used once");
    assert!(!totp::use_recovery(&mut tx, u.id, "zz", 51).await.unwrap());
    assert_eq!(totp::recovery_left(&mut tx, u.id).await.unwrap(), 1);
    assert!(totp::delete(&mut tx, u.id).await.unwrap());
    assert!(totp::get(&mut tx, u.id).await.unwrap().is_none());
    assert_eq!(totp::recovery_left(&mut tx, u.id).await.unwrap(), 0);
    assert!(!sessions::with_user(&mut tx, "t").await.unwrap().unwrap().totp);
    tx.commit().await.unwrap();
}
