//! A person's rights over their record: a correction asked on the phone and
//! answered by the secretary in the record's history; an erasure refused
//! while he is on the register and granted once he moved away, after which
//! his name, ID number, phone, details and notes are gone, his account is
//! refused, the audit entries about him are emptied and the chain still
//! verifies; a community's retention erases those who left long enough ago.

use chrono::NaiveDate;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yijia_domain::id_number::{IdNumber, Sex};
use yijia_service::audit::Verification;

use crate::helpers::TestApp;

fn person(name: &str, serial: u16, phone: &str) -> Value {
    let id = IdNumber::from_parts("220182", NaiveDate::from_ymd_opt(1950, 6, 1).unwrap(), serial, Sex::Male).unwrap();
    json!({
        "name": name, "grid": "chengnan-g01", "id_number": id.as_str(), "phone": phone,
        "household": {"estate": "丁香花园三期", "building": "9号楼", "entrance": "1单元", "door": format!("{serial}")},
        "relation": "户主", "residence": "permanent",
        "categories": [{"category": "disabled", "details": {"kind": "肢体", "grade": "二级"}}]
    })
}

async fn put(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    yijia_testkit::call(&app.client(), Method::PUT, &format!("{}{path}", app.url), token, Some(&body)).await
}

/// Records that he moved away on `on`.
async fn moved_away(app: &TestApp, token: &str, id: i64, on: &str) {
    let (_, r) = app.get(token, &format!("/api/v1/residents/{id}")).await;
    let body = json!({"change": "moved_away", "on": on, "reason": "随子女去外地", "source": "family", "version": r["version"]});
    let (st, v) = app.post(token, &format!("/api/v1/residents/{id}/life"), body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

/// Registers someone in grid 1: his id.
async fn add(app: &TestApp, token: &str, name: &str, serial: u16, phone: &str) -> i64 {
    let (st, v) = app.post(token, "/api/v1/residents", person(name, serial, phone)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

/// He moves away today, staff ask for his erasure and the secretary grants it.
async fn erased_on_request(app: &TestApp, staff: &str, secretary: &str, id: i64) {
    let today = yijia_domain::time::to_local(app.svc.now()).date_naive().format("%Y-%m-%d").to_string();
    moved_away(app, staff, id, &today).await;
    let ask = json!({"kind": "erasure", "body": "本人已迁往外省,要求删除", "reason": "本人电话告知社区"});
    let (_, q) = app.post(staff, &format!("/api/v1/residents/{id}/record-requests"), ask).await;
    let url = format!("/api/v1/record-requests/{}/answer", q["id"]);
    let (st, done) = app.post(secretary, &url, json!({"done": true, "answer": "已迁出,依申请删除"})).await;
    assert_eq!(st, StatusCode::OK, "{done}");
}

#[tokio::test]
async fn a_correction_is_answered_and_an_erasure_leaves_only_counts() {
    let app = TestApp::spawn().await;
    let (staff, secretary) = (app.token("staff").await, app.token("secretary").await);
    let (st, v) = app.post(&staff, "/api/v1/residents", person("欧阳守正", 731, "13911112222")).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let ouyang = v["id"].as_i64().unwrap();
    let (_, token) = crate::me::link(&app, ouyang, "13911112222").await;
    let worker = app.token("worker1").await;
    let visit = json!({"client_id": "rights-visit-0001", "resident_id": ouyang, "notes": "家中有药品过期"});
    assert!(app.post(&worker, "/api/v1/visits", visit).await.0.is_success());

    // a correction, on his phone; bad input is refused by field
    for (body, field) in [
        (json!({"kind": "correction", "body": "x"}), "body"),
        (json!({"kind": "correction", "body": "出生日期错了", "reason": "代办"}), "reason"),
        (json!({"kind": "correction", "body": "出生日期错了", "evidence": "证".repeat(1001)}), "evidence"),
    ] {
        let (st, v) = app.post(&token, "/api/v1/me/record-requests", body).await;
        assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{v}");
    }
    let ask = json!({"kind": "correction", "body": "出生日期应为1950年6月2日", "evidence": "户口本第3页"});
    let (st, q) = app.post(&token, "/api/v1/me/record-requests", ask).await;
    assert_eq!(st, StatusCode::CREATED, "{q}");
    let qid = q["id"].as_i64().unwrap();
    let (_, list) = app.get(&staff, "/api/v1/record-requests").await;
    let mine = list.as_array().unwrap().iter().find(|x| x["id"] == qid).unwrap();
    assert_eq!((mine["state"].as_str(), mine["can_answer"].as_bool()), (Some("waiting"), Some(false)), "{mine}");
    // staff read, the secretary answers; another community's staff see nothing
    let answer = json!({"done": true, "answer": "已核对户口本并更正"});
    let url = format!("/api/v1/record-requests/{qid}/answer");
    assert_eq!(app.post(&staff, &url, answer.clone()).await.0, StatusCode::NOT_FOUND, "staff do not answer");
    let (st, short) = app.post(&secretary, &url, json!({"done": true, "answer": "好"})).await;
    assert_eq!((st, short["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("answer")));
    let (st, a) = app.post(&secretary, &url, answer.clone()).await;
    assert_eq!((st, a["state"].as_str()), (StatusCode::OK, Some("done")), "{a}");
    assert_eq!(app.post(&secretary, &url, answer).await.0, StatusCode::CONFLICT, "answered once");
    let (_, mine) = app.get(&token, "/api/v1/me/record-requests").await;
    assert_eq!(mine[0]["answer"], "已核对户口本并更正");
    // and it is in his record's history, as he sees it
    let (_, views) = app.get(&token, "/api/v1/me/record-views").await;
    let answered = views.as_array().unwrap().iter().find(|v| v["action"] == "record_request_answer").unwrap();
    assert_eq!(answered["reason"], "已核对户口本并更正", "{views}");

    // an erasure while he is on the register: refused, nothing changed
    let ask = json!({"kind": "erasure", "body": "我要搬走了,请删除我的信息"});
    let (_, q) = app.post(&token, "/api/v1/me/record-requests", ask).await;
    let url = format!("/api/v1/record-requests/{}/answer", q["id"]);
    let (st, v) = app.post(&secretary, &url, json!({"done": true, "answer": "同意删除"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let (_, r) = app.get(&staff, &format!("/api/v1/residents/{ouyang}")).await;
    assert_eq!(r["name"], "欧阳守正");

    // he moves away; staff ask for him (he handed back his phone), the secretary grants
    let today = yijia_domain::time::to_local(app.svc.now()).date_naive().format("%Y-%m-%d").to_string();
    moved_away(&app, &staff, ouyang, &today).await;
    let ask = json!({"kind": "erasure", "body": "本人已迁往外省,要求删除", "reason": "本人电话告知社区"});
    let (st, v) = app.post(&staff, &format!("/api/v1/residents/{ouyang}/record-requests"), ask).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let asked = v["id"].as_i64().unwrap();
    let no_reason = json!({"kind": "erasure", "body": "本人已迁往外省"});
    let (st, v) = app.post(&staff, &format!("/api/v1/residents/{ouyang}/record-requests"), no_reason).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")));
    // something was sent to him, and something waits to be sent
    let uid = {
        use yijia_domain::notify::{NotifyChannel, Topic};
        use yijia_store::notify::{self, NewDelivery, NewMessage};
        let params = json!({"name": "欧阳守正"}).to_string();
        let mut tx = app.db.db.write().await.unwrap();
        let uid = yijia_store::users::user_of_resident(&mut tx, ouyang).await.unwrap().unwrap();
        let at = app.svc.now();
        let event_key = "rights-test";
        let message =
            NewMessage { user_id: uid, event_key, topic: Topic::CaseAccepted, params: &params, urgent: false, now: at };
        notify::insert_messages(&mut tx, &[message]).await.unwrap();
        let sms = |n: u8| NewDelivery {
            message_id: format!("rights-test-{n}"),
            event_key,
            recipient: format!("user:{uid}:{n}"),
            user_id: Some(uid),
            channel: NotifyChannel::Sms,
            topic: Topic::CaseAccepted,
            params: &params,
            urgent: false,
            org_path: "/",
            address_ref: format!("resident:{ouyang}"),
            next_at: at,
            now: at,
        };
        notify::insert_deliveries(&mut tx, &[sms(0), sms(1)]).await.unwrap();
        tx.commit().await.unwrap();
        let sent =
            "UPDATE deliveries SET state = 'sent', address_masked = '139****2222' WHERE message_id = 'rights-test-0'";
        crate::tallies::exec(&app, sent, &[]).await;
        uid
    };
    let url = format!("/api/v1/record-requests/{asked}/answer");
    let (st, done) = app.post(&secretary, &url, json!({"done": true, "answer": "已迁出,依申请删除"})).await;
    assert_eq!(st, StatusCode::OK, "{done}");
    assert!(done["erasure"]["audit_entries_emptied"].as_u64().unwrap() > 3, "{done}");

    // nothing personal is left; the row stays for the counts
    let (st, r) = app.get(&staff, &format!("/api/v1/residents/{ouyang}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(r["name"], format!("已删除 #{ouyang}"));
    assert!(r["id_number"].is_null() && r["phone"].is_null() && r["birth_date"].is_null(), "{r}");
    let body = json!({"field": "details", "reason": "核对"});
    let (_, d) = app.post(&secretary, &format!("/api/v1/residents/{ouyang}/unmask"), body).await;
    assert_eq!(d["value"], json!({}), "no details: {d}");
    let (_, plan) = app.get(&worker, &format!("/api/v1/residents/{ouyang}/plan")).await;
    assert!(plan["visits"].as_array().unwrap().iter().all(|v| v["notes"].is_null()), "{plan}");
    let (st, _) = app.get(&token, "/api/v1/me/record-requests").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "his sessions ended");
    assert_eq!(app.login_raw("13911112222", crate::me::PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    for q in ["name=欧阳&status=moved_away", "q=13911112222&status=moved_away", "status=moved_away"] {
        let (st, list) = app.get(&staff, &format!("/api/v1/residents?{q}")).await;
        assert_eq!(st, StatusCode::OK, "{list}");
        let names: Vec<&str> = list["items"].as_array().unwrap().iter().filter_map(|r| r["name"].as_str()).collect();
        assert!(!names.contains(&"欧阳守正"), "not found by name or phone: {q} {names:?}");
    }
    {
        let mut tx = app.db.db.read().await.unwrap();
        let keys = yijia_store::erasure::keys_of(&mut tx, &[ouyang]).await.unwrap();
        assert!(keys.is_empty(), "his key is destroyed");
        let about = yijia_store::audit::by_object(&mut tx, &format!("resident:{ouyang}"), 1000).await.unwrap();
        let erase = about.iter().find(|e| e.action == "resident_erase").unwrap();
        assert!(
            about.iter().filter(|e| e.seq < erase.seq).all(|e| e.detail.is_empty() && e.erased_by == Some(erase.seq))
        );
        assert!(!erase.detail.contains("欧阳"), "{}", erase.detail);
        let sent: Vec<_> = yijia_store::notify::of_event(&mut tx, "rights-test").await.unwrap();
        let sent: Vec<_> =
            sent.iter().map(|d| (d.state.code(), d.params.as_str(), d.address_masked.as_deref())).collect();
        assert_eq!(sent, [("sent", "{}", None), ("failed", "{}", None)], "emptied; the unsent one stopped");
        let bell = yijia_store::notify::messages(&mut tx, uid, 10, 0).await.unwrap();
        assert!(bell.is_empty(), "his bell is empty");
        tx.commit().await.unwrap();
    }
    assert!(matches!(app.svc.audit_verify().await.unwrap(), Verification::Intact { .. }));
    assert_eq!(app.svc.tallies_check().await.unwrap().1, Vec::<String>::new());
    // what is left takes no change: no edit, no category, no return to the register
    let edit = json!({"name": "欧阳守正", "version": r["version"]});
    assert_eq!(put(&app, &staff, &format!("/api/v1/residents/{ouyang}"), edit).await.0, StatusCode::CONFLICT);
    let back =
        json!({"change": "returned", "on": today, "reason": "搬回来了", "source": "family", "version": r["version"]});
    assert_eq!(app.post(&staff, &format!("/api/v1/residents/{ouyang}/life"), back).await.0, StatusCode::CONFLICT);
    let cat = json!({"action": "add", "category": "elderly_alone", "reason": "核实"});
    assert_eq!(app.post(&staff, &format!("/api/v1/residents/{ouyang}/categories"), cat).await.0, StatusCode::CONFLICT);
    let (_, list) = app.get(&secretary, "/api/v1/record-requests").await;
    let granted = list.as_array().unwrap().iter().find(|x| x["state"] == "done" && x["kind"] == "erasure").unwrap();
    assert_eq!(
        (granted["body"].as_str(), granted["resident_name"].clone()),
        (Some(""), json!(format!("已删除 #{ouyang}")))
    );
}

#[tokio::test]
async fn retention_erases_those_who_left_long_enough_ago() {
    let app = TestApp::spawn().await;
    let (staff, secretary) = (app.token("staff").await, app.token("secretary").await);
    let (st, v) = app.post(&staff, "/api/v1/residents", person("司马远行", 735, "13911113333")).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let sima = v["id"].as_i64().unwrap();
    let (st, v) = app.post(&staff, "/api/v1/residents", person("诸葛留守", 737, "13911114444")).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let zhuge = v["id"].as_i64().unwrap();
    let today = yijia_domain::time::to_local(app.svc.now()).date_naive();
    moved_away(&app, &staff, sima, &today.format("%Y-%m-%d").to_string()).await;

    let (st, r) = app.get(&staff, "/api/v1/org/chengnan/retention").await;
    assert_eq!((st, r["years"].as_i64()), (StatusCode::OK, Some(3)), "{r}");
    let (st, v) = put(&app, &secretary, "/api/v1/org/chengnan/retention", json!({"years": 0})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("years")));
    let (st, _) = put(&app, &staff, "/api/v1/org/chengnan/retention", json!({"years": 1})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "only the secretary");
    let (st, r) = put(&app, &secretary, "/api/v1/org/chengnan/retention", json!({"years": 1})).await;
    assert_eq!((st, r["years"].as_i64()), (StatusCode::OK, Some(1)));

    // a year later to the day he is still kept; the day after, erased
    let day = |d: NaiveDate| yijia_domain::time::start_of_day(d) + 10 * 3_600_000;
    app.clock.set(day(today + chrono::Months::new(12)));
    assert_eq!(app.svc.erase_expired().await.unwrap(), 0);
    app.clock.set(day(today + chrono::Months::new(12) + chrono::Days::new(1)));
    assert_eq!(app.svc.erase_expired().await.unwrap(), 1);
    assert_eq!(app.svc.erase_expired().await.unwrap(), 0, "once");
    // a year on, the sessions have ended
    let (staff, secretary) = (app.token("staff").await, app.token("secretary").await);
    let (_, r) = app.get(&staff, &format!("/api/v1/residents/{sima}")).await;
    assert_eq!(r["name"], format!("已删除 #{sima}"));
    let (_, r) = app.get(&staff, &format!("/api/v1/residents/{zhuge}")).await;
    assert_eq!((r["name"].as_str(), r["phone"].as_str().is_some()), (Some("诸葛留守"), true), "who stays is kept");
    let body = json!({"field": "phone", "reason": "核对联系方式"});
    let (_, p) = app.post(&secretary, &format!("/api/v1/residents/{zhuge}/unmask"), body).await;
    assert_eq!(p["value"], "13911114444");
    assert!(matches!(app.svc.audit_verify().await.unwrap(), Verification::Intact { .. }));
    assert_eq!(app.svc.tallies_check().await.unwrap().1, Vec::<String>::new());
}

/// What an emptied entry keeps (its time, action, outcome) is still
/// checked: the erasure's own entry holds its digest, so someone who gets
/// around the database and changes one is found.
#[tokio::test]
async fn an_emptied_entry_changed_behind_the_database_is_found() {
    let app = TestApp::spawn().await;
    let (staff, secretary) = (app.token("staff").await, app.token("secretary").await);
    let id = add(&app, &staff, "东方已远", 741, "13911116666").await;
    let unmask = json!({"field": "phone", "reason": "电话回访"});
    assert_eq!(app.post(&secretary, &format!("/api/v1/residents/{id}/unmask"), unmask).await.0, StatusCode::OK);
    erased_on_request(&app, &staff, &secretary, id).await;
    assert!(matches!(app.svc.audit_verify().await.unwrap(), Verification::Intact { .. }));

    // the unmasking, emptied: someone turns it into a refusal
    let unmasked = {
        let mut tx = app.db.db.read().await.unwrap();
        let about = yijia_store::audit::by_object(&mut tx, &format!("resident:{id}"), 100).await.unwrap();
        tx.commit().await.unwrap();
        about.into_iter().find(|e| e.action == "resident_unmask").unwrap()
    };
    assert!(unmasked.erased_by.is_some() && unmasked.detail.is_empty());
    let change = format!("UPDATE audit_log SET outcome = 'denied' WHERE seq = {}", unmasked.seq);
    match &app.db.db {
        yijia_store::Db::Sqlite(p) => {
            sqlx::query("DROP TRIGGER audit_log_no_update").execute(p).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(change)).execute(p).await.unwrap();
        }
        yijia_store::Db::Postgres(p) => {
            sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change").execute(p).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(change)).execute(p).await.unwrap();
        }
    }
    match app.svc.audit_verify().await.unwrap() {
        Verification::Broken { problem, .. } => assert!(problem.contains("were changed"), "{problem}"),
        v => panic!("the change was not found: {v:?}"),
    }
}

/// The keys file on both backends: written while the server runs, read
/// back into a copy whose keys were blanked (as in a backup); everyone's
/// key returns, whoever it lists as erased stays erased, and a key is taken
/// only for the same person (id and uid).
#[tokio::test]
async fn the_keys_file_brings_back_every_key_and_no_erased_person() {
    let app = TestApp::spawn().await;
    let (staff, secretary) = (app.token("staff").await, app.token("secretary").await);
    let stays = add(&app, &staff, "慕容常在", 743, "13911117777").await;
    let goes = add(&app, &staff, "慕容已去", 745, "13911118888").await;
    let well = add(&app, &staff, "慕容安好", 747, "13911119999").await;
    erased_on_request(&app, &staff, &secretary, goes).await;
    let entries = |v: Verification| match v {
        Verification::Intact { entries } => entries,
        v => panic!("{v:?}"),
    };

    let dir = tempfile::tempdir().unwrap();
    let identity = age::x25519::Identity::generate();
    let file = dir.path().join("data-keys.age");
    let written = app.svc.write_data_keys(&file, &[identity.to_public()]).await.unwrap();
    let with_key = {
        let mut tx = app.db.db.read().await.unwrap();
        let n = yijia_store::erasure::key_batch(&mut tx, 0, 100_000).await.unwrap().len();
        tx.commit().await.unwrap();
        n
    };
    assert_eq!(written, with_key + 1, "every key, and the erased one by name only");
    // a copy as a backup holds it: each key blanked; one belongs to someone else now
    crate::tallies::exec(&app, "UPDATE resident_keys SET wrapped = ''", &[]).await;
    crate::tallies::exec(&app, "UPDATE residents SET uid = 'someone-else' WHERE id = $1", &[stays]).await;
    let operator = yijia_service::Caller::operator();
    let before = entries(app.svc.audit_verify().await.unwrap());
    let (taken, erased) =
        app.svc.restore_data_keys(&operator, &file, std::slice::from_ref(&identity), None).await.unwrap();
    assert!(with_key >= 2, "{with_key}");
    assert_eq!((taken, erased), (with_key - 1, 1), "all but his; and he, keyless now, is erased");
    let erasures = entries(app.svc.audit_verify().await.unwrap()) - before;
    assert_eq!(erasures, 1, "one erasure more (the keyless one), none again for the erased");
    let (_, r) = app.get(&staff, &format!("/api/v1/residents/{goes}")).await;
    assert_eq!(r["name"], format!("已删除 #{goes}"), "stays erased");
    // the others' sealed fields open again
    let body = json!({"field": "phone", "reason": "电话回访"});
    let (st, p) = app.post(&secretary, &format!("/api/v1/residents/{well}/unmask"), body).await;
    assert_eq!((st, p["value"].as_str()), (StatusCode::OK, Some("13911119999")), "{p}");
}

/// One person cannot flood the secretary's list: ten requests of a kind may
/// wait at once; the eleventh is refused until one is answered.
#[tokio::test]
async fn a_person_has_at_most_ten_requests_waiting() {
    let app = TestApp::spawn().await;
    let (staff, secretary) = (app.token("staff").await, app.token("secretary").await);
    let id = add(&app, &staff, "上官多问", 739, "13911115555").await;
    let (_, token) = crate::me::link(&app, id, "13911115555").await;
    let mut first = None;
    for i in 0..8 {
        let ask = json!({"kind": "correction", "body": format!("第{i}处写错了")});
        let (st, q) = app.post(&token, "/api/v1/me/record-requests", ask).await;
        assert_eq!(st, StatusCode::CREATED, "{q}");
        first = first.or(q["id"].as_i64());
    }
    // four at once for the last two places: two get in
    let ask = |i: u8| {
        app.post(&token, "/api/v1/me/record-requests", json!({"kind": "correction", "body": format!("同时第{i}处")}))
    };
    let (a, b, c, d) = tokio::join!(ask(1), ask(2), ask(3), ask(4));
    let created = [a, b, c, d].iter().filter(|(st, _)| *st == StatusCode::CREATED).count();
    assert_eq!(created, 2, "only up to ten");
    let ask = json!({"kind": "correction", "body": "还有一处写错了"});
    let (st, v) = app.post(&token, "/api/v1/me/record-requests", ask.clone()).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("10"), "{v}");
    let (_, mine) = app.get(&token, "/api/v1/me/record-requests").await;
    assert_eq!(mine.as_array().unwrap().len(), 10, "nothing stored");
    // corrections waiting never stand in the way of an erasure
    let erase = json!({"kind": "erasure", "body": "我要搬走了,请删除我的信息"});
    assert_eq!(app.post(&token, "/api/v1/me/record-requests", erase).await.0, StatusCode::CREATED);
    let url = format!("/api/v1/record-requests/{}/answer", first.unwrap());
    let (st, _) = app.post(&secretary, &url, json!({"done": true, "answer": "已更正"})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(app.post(&token, "/api/v1/me/record-requests", ask).await.0, StatusCode::CREATED);
}

/// On the pages: the resident asks on his phone, the secretary answers from
/// the inbox, and sets the retention.
#[tokio::test]
async fn requests_are_asked_and_answered_on_the_pages() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let (st, v) = app.post(&staff, "/api/v1/residents", person("上官明理", 739, "13911115555")).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    crate::me::link(&app, id, "13911115555").await;
    let b = app.browser();
    let form = [("username", "13911115555"), ("password", crate::me::PASSWORD), ("next", "/")];
    assert_eq!(b.post(format!("{}/login", app.url)).form(&form).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    let home = b.get(format!("{}/", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("/me/requests"), "in his menu");
    let page = b.get(format!("{}/me/requests", app.url)).send().await.unwrap().text().await.unwrap();
    let csrf = crate::helpers::csrf_of(&page);
    let ask = |body: &'static str| {
        [("_csrf", csrf.clone()), ("kind", "correction".into()), ("body", body.into()), ("evidence", "身份证".into())]
    };
    let r = b.post(format!("{}/me/requests", app.url)).form(&ask("x")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = b.post(format!("{}/me/requests", app.url)).form(&ask("电话号码已换,新号码当面告知")).send().await.unwrap();
    assert!(r.status().is_redirection());
    let page = b.get(format!("{}/me/requests?done=1", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("电话号码已换") && page.contains("id=\"done\""), "{page}");

    let s = app.browser_as("secretary").await;
    let page = s.get(format!("{}/record-requests", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("上官明理") && page.contains("retention-chengnan"), "{page}");
    assert!(page.contains("还没有答复过的申请"), "the answered card says it is empty");
    let csrf = crate::helpers::csrf_of(&page);
    let rid = page.split("id=\"request-").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let answer = [("_csrf", csrf.as_str()), ("decision", "done"), ("answer", "已当面核对并更新电话")];
    let r = s.post(format!("{}/record-requests/{rid}/answer", app.url)).form(&answer).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let years = [("_csrf", csrf.as_str()), ("community", "chengnan"), ("years", "abc")];
    let r = s.post(format!("{}/record-requests/retention", app.url)).form(&years).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let years = [("_csrf", csrf.as_str()), ("community", "chengnan"), ("years", "5")];
    let r = s.post(format!("{}/record-requests/retention", app.url)).form(&years).send().await.unwrap();
    assert!(r.status().is_redirection());
    let (_, r) = app.get(&staff, "/api/v1/org/chengnan/retention").await;
    assert_eq!(r["years"], 5);
    let page = s.get(format!("{}/record-requests", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("id=\"answered-{rid}\"")) && !page.contains("还没有答复过的申请"), "{page}");
    let page = b.get(format!("{}/me/requests", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("已当面核对并更新电话"), "he reads the answer");
}
