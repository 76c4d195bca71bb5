//! The registry's personal-data rules, over HTTP, on both backends.

use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::id_number::{IdNumber, Sex};

use crate::helpers::TestApp;

/// A valid ID number nobody else has, and a phone: the canaries.
fn canary_id() -> String {
    IdNumber::from_parts("220182", NaiveDate::from_ymd_opt(1945, 3, 2).unwrap(), 517, Sex::Male)
        .unwrap()
        .as_str()
        .to_owned()
}
const CANARY_PHONE: &str = "13987654321";

fn resident(name: &str, grid: &str, id: Option<&str>, phone: Option<&str>) -> Value {
    json!({
        "name": name, "grid": grid, "id_number": id, "phone": phone,
        "household": {"estate": "丁香花园三期", "building": "8号楼", "entrance": "2单元", "door": "502"},
        "relation": "户主", "residence": "permanent",
        "categories": [{"category": "elderly_alone"}, {"category": "disabled", "details": {"kind": "肢体", "grade": "二级"}}]
    })
}

fn has_plain_personal_data(text: &str) -> Option<String> {
    let b = text.as_bytes();
    // \d{17}[\dXx]
    for i in 0..b.len().saturating_sub(17) {
        if b[i..i + 17].iter().all(u8::is_ascii_digit)
            && (b[i + 17].is_ascii_digit() || b[i + 17] == b'X' || b[i + 17] == b'x')
        {
            return Some(text[i..i + 18].to_owned());
        }
    }
    // 1[3-9]\d{9}
    for i in 0..b.len().saturating_sub(10) {
        if b[i] == b'1' && (b'3'..=b'9').contains(&b[i + 1]) && b[i + 2..i + 11].iter().all(u8::is_ascii_digit) {
            return Some(text[i..i + 11].to_owned());
        }
    }
    None
}

async fn raw_get(app: &TestApp, token: &str, path: &str) -> (StatusCode, String) {
    let r = app.client().get(format!("{}{path}", app.url)).bearer_auth(token).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn canaries_never_appear_in_plain_text_at_rest_or_in_masked_answers() {
    let app = TestApp::spawn().await;
    let s = app.token("secretary").await;
    let id = canary_id();
    let (st, v) =
        app.post(&s, "/api/v1/residents", resident("张大爷", "chengnan-g01", Some(&id), Some("139 8765 4321"))).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let rid = v["id"].as_i64().unwrap();
    assert_eq!(v["id_number"], json!(format!("{}********{}", &id[..6], &id[14..])));
    assert_eq!(v["phone"], "139****4321");
    assert_eq!(v["sex"], "male", "taken from the ID number");
    assert_eq!(v["birth_date"], "1945-03-02");
    assert_eq!(v["address"]["building"], "8号楼");

    // every role that reads the record, without unmasking, sees no plain value
    for user in ["secretary", "staff", "worker1", "clerk", "officer"] {
        let t = app.token(user).await;
        for path in [
            format!("/api/v1/residents/{rid}"),
            "/api/v1/residents".into(),
            format!("/api/v1/residents/{rid}/views"),
            format!("/residents/{rid}"),
            "/residents".into(),
        ] {
            let (status, body) = raw_get(&app, &t, &path).await;
            assert_eq!(status, StatusCode::OK, "{user} {path}");
            assert_eq!(has_plain_personal_data(&body), None, "{user} {path}: {body}");
        }
    }
    // station clerks see names, never ID numbers or phones, masked or not
    let c = app.token("clerk").await;
    let (_, v) = app.get(&c, &format!("/api/v1/residents/{rid}")).await;
    assert!(v["id_number"].is_null() && v["phone"].is_null(), "{v}");
    assert_eq!(v["name"], "张大爷");
    let (st, _) = app
        .post(&c, &format!("/api/v1/residents/{rid}/unmask"), json!({"field": "id_number", "reason": "核对身份"}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // unmasking shows the value, and only with a reason
    let (st, v) =
        app.post(&s, &format!("/api/v1/residents/{rid}/unmask"), json!({"field": "id_number", "reason": ""})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")));
    let (st, v) = app
        .post(&s, &format!("/api/v1/residents/{rid}/unmask"), json!({"field": "id_number", "reason": "办理低保复核"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["value"], json!(id));
    let (_, v) =
        app.post(&s, &format!("/api/v1/residents/{rid}/unmask"), json!({"field": "phone", "reason": "联系家属"})).await;
    assert_eq!(v["value"], CANARY_PHONE);
    let (_, v) = app
        .post(&s, &format!("/api/v1/residents/{rid}/unmask"), json!({"field": "details", "reason": "核对残疾等级"}))
        .await;
    assert_eq!(v["value"]["disabled"]["grade"], "二级");

    // the resident's record shows who looked, and why they unmasked
    let (_, views) = app.get(&s, &format!("/api/v1/residents/{rid}/views")).await;
    let views = views.as_array().unwrap();
    assert!(views.iter().any(|e| e["who"] == "clerk" && e["action"] == "resident_view"));
    assert!(views.iter().any(|e| e["who"] == "secretary"
        && e["action"] == "resident_unmask"
        && e["detail"].as_str().unwrap().contains("办理低保复核")));

    // at rest: neither canary in the database file or its WAL (SQLite), nor
    // in any column (PostgreSQL)
    match &app.db.db {
        yijia_store::Db::Sqlite(_) => {
            let path = app.db.sqlite_path().unwrap();
            for file in [path.clone(), path.with_extension("db-wal")] {
                if let Ok(bytes) = std::fs::read(&file) {
                    let text = String::from_utf8_lossy(&bytes);
                    assert!(!text.contains(&id) && !text.contains(CANARY_PHONE), "plain text in {}", file.display());
                    assert!(!bytes.windows(11).any(|w| w == CANARY_PHONE.as_bytes()));
                }
            }
        }
        yijia_store::Db::Postgres(p) => {
            for table in ["residents", "resident_categories", "audit_log", "category_history"] {
                let sql = format!(
                    "SELECT COUNT(*) FROM {table} t WHERE t::text LIKE $1 OR t::text LIKE $2 OR t::text LIKE '%二级%'"
                );
                let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .bind(format!("%{id}%"))
                    .bind(format!("%{CANARY_PHONE}%"))
                    .fetch_one(p)
                    .await
                    .unwrap();
                assert_eq!(n, 0, "plain text in {table}");
            }
        }
    }
}

#[tokio::test]
async fn unmasking_shows_nothing_when_the_audit_cannot_be_written() {
    let app = TestApp::spawn().await;
    let s = app.token("secretary").await;
    let id = canary_id();
    let (_, v) = app.post(&s, "/api/v1/residents", resident("张大爷", "chengnan-g01", Some(&id), None)).await;
    let rid = v["id"].as_i64().unwrap();
    // break the audit log's head, so that the next append fails
    match &app.db.db {
        yijia_store::Db::Sqlite(p) => sqlx::query("DELETE FROM audit_head").execute(p).await.map(|_| ()).unwrap(),
        yijia_store::Db::Postgres(p) => sqlx::query("DELETE FROM audit_head").execute(p).await.map(|_| ()).unwrap(),
    }
    let r = app
        .client()
        .post(format!("{}/api/v1/residents/{rid}/unmask", app.url))
        .bearer_auth(&s)
        .json(&json!({"field": "id_number", "reason": "核对身份"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = r.text().await.unwrap();
    assert!(!body.contains(&id) && has_plain_personal_data(&body).is_none(), "{body}");
}

#[tokio::test]
async fn a_grid_worker_reaches_only_the_residents_of_their_grids() {
    let app = TestApp::spawn().await;
    let s = app.token("secretary").await;
    let (_, a) = app.post(&s, "/api/v1/residents", resident("崔晓红", "chengnan-g01", None, None)).await;
    let other_id =
        IdNumber::from_parts("220182", NaiveDate::from_ymd_opt(1950, 1, 1).unwrap(), 22, Sex::Female).unwrap();
    let (_, b) = app
        .post(&s, "/api/v1/residents", resident("崔晓明", "chengnan-g02", Some(other_id.as_str()), Some("13700001111")))
        .await;
    let (a, b) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap());

    let w = app.token("worker1").await;
    assert_eq!(app.get(&w, &format!("/api/v1/residents/{a}")).await.0, StatusCode::OK);
    let (st1, v1) = app.get(&w, &format!("/api/v1/residents/{b}")).await;
    let (st2, v2) = app.get(&w, "/api/v1/residents/999999").await;
    assert_eq!((st1, st2), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(v1, v2, "another grid's resident looks like nobody");
    for path in [format!("/api/v1/residents/{b}/views")] {
        assert_eq!(app.get(&w, &path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    let (st, _) =
        app.post(&w, &format!("/api/v1/residents/{b}/unmask"), json!({"field": "phone", "reason": "看看"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, list) = app.get(&w, "/api/v1/residents?name=崔晓").await;
    assert_eq!(list["total"], 1, "{list}");
    let (st, v) = app.get(&w, "/api/v1/residents?grid=chengnan-g02").await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("grid")));
    let (_, found) = app.get(&w, &format!("/api/v1/residents?q={}", other_id.as_str())).await;
    assert_eq!(found["total"], 0, "exact search stays in scope too");
    for q in ["cxh", "cuixiaohong", "Cui Xiao", "崔晓红"] {
        let (_, found) = app.get(&s, &format!("/api/v1/residents?name={q}")).await;
        let names: Vec<&str> = found["items"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        // by pinyin: cuixiaohong before cuixiaoming
        let want: &[&str] = if q == "Cui Xiao" { &["崔晓红", "崔晓明"] } else { &["崔晓红"] };
        assert_eq!(names, want, "{q}");
    }
    let (_, found) = app.get(&s, "/api/v1/residents?q=137-0000-1111").await;
    assert_eq!(found["total"], 1, "the secretary finds her by phone, written another way");
    // a worker cannot register in another grid either
    let (st, v) = app.post(&w, "/api/v1/residents", resident("越界", "chengnan-g02", None, None)).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("grid")));
    let denials: Vec<_> =
        app.audit().await.into_iter().filter(|(_, o, obj)| o == "denied" && *obj == format!("resident:{b}")).collect();
    assert_eq!(denials.len(), 3, "{denials:?}");
}

#[tokio::test]
async fn registration_checks_what_it_is_given() {
    let app = TestApp::spawn().await;
    let s = app.token("secretary").await;
    let mut wrong = resident("张三", "chengnan-g01", None, None);
    let id = canary_id();
    let wrong_digit = format!("{}{}", &id[..17], if id.ends_with('1') { '2' } else { '1' });
    wrong["id_number"] = json!(wrong_digit);
    let (st, v2) = app.post(&s, "/api/v1/residents", wrong).await;
    assert_eq!((st, v2["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("id_number")), "{v2}");
    assert!(has_plain_personal_data(&v2.to_string()).is_none(), "errors do not echo the number: {v2}");

    // stated data that contradicts the ID number is kept and flagged
    let mut r = resident("李四", "chengnan-g01", Some(&id), None);
    r["sex"] = json!("女");
    r["birth_date"] = json!("1945-03-03");
    let (st, v) = app.post(&s, "/api/v1/residents", r).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let codes: Vec<&str> = v["flags"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["sex_mismatch", "birth_date_mismatch"]);
    assert_eq!(v["sex"], "female", "not silently fixed");

    let (st, _) = app.post(&s, "/api/v1/residents", resident("王五", "chengnan-g01", Some(&id), None)).await;
    assert_eq!(st, StatusCode::CONFLICT, "the same person twice");

    let mut r = resident("小明", "chengnan-g01", None, None);
    r["birth_date"] = json!("2020-05-01");
    r["household"]["estate"] = json!("不存在的小区");
    let (st, v) = app.post(&s, "/api/v1/residents", r.clone()).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("household.estate")));
    r["household"]["estate"] = json!("丁香花园");
    // the probe's 40,000-character entrance made every export answer 500
    r["household"]["entrance"] = json!("单".repeat(40_000));
    let (st, v) = app.post(&s, "/api/v1/residents", r.clone()).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("household.entrance")));
    r["household"]["entrance"] = json!("2单元");
    r["categories"] = json!([{"category": "child"}]);
    let (st, v) = app.post(&s, "/api/v1/residents", r.clone()).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("categories[0].category")));
    r["categories"] = json!([]);
    let (st, v) = app.post(&s, "/api/v1/residents", r).await;
    assert_eq!(st, StatusCode::CREATED);
    assert!(
        v["categories"].as_array().unwrap().iter().any(|c| c["category"] == "child" && c["derived"] == true),
        "{v}"
    );

    let mut p = resident("孕妇甲", "chengnan-g01", None, None);
    p["categories"] = json!([{"category": "pregnant", "details": {"due_date": "2027-02-30"}}]);
    let (st, v) = app.post(&s, "/api/v1/residents", p.clone()).await;
    assert_eq!(
        (st, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("categories[0].details.due_date"))
    );
    p["categories"] = json!([{"category": "disabled", "details": {"kind": "肢".repeat(33)}}]);
    let (st, v) = app.post(&s, "/api/v1/residents", p.clone()).await;
    assert_eq!(
        (st, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("categories[0].details.kind"))
    );
    p["categories"] = json!([{"category": "disabled", "details": {"grade": {"nested": ["x", "x"]}}}]);
    let (st, v) = app.post(&s, "/api/v1/residents", p.clone()).await;
    assert_eq!(
        (st, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("categories[0].details.grade"))
    );
    p["categories"] = json!([{"category": "pregnant", "details": {"due_date": "2027-02-01", "blood_type": "A"}}]);
    let (st, _) = app.post(&s, "/api/v1/residents", p.clone()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "unknown detail");
    p["categories"] = json!([{"category": "pregnant"}]);
    let (st, _) = app.post(&s, "/api/v1/residents", p).await;
    assert_eq!(st, StatusCode::CREATED, "the due date may be unknown");

    let (st, v) = app.post(&s, "/api/v1/residents", resident("赵六", "chengnan-g01", None, Some("12345"))).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("phone")));
    let (_, list) = app.get(&s, "/api/v1/residents?category=elderly_alone").await;
    assert_eq!(list["total"], 1, "only 李四 was registered with it: {list}");
}

#[tokio::test]
async fn every_category_count_equals_the_list_behind_it() {
    let app = TestApp::spawn().await;
    app.svc.fixtures().seed_demo_residents(600).await.unwrap();
    for user in ["secretary", "worker1"] {
        let t = app.token(user).await;
        let (st, grids) = app.get(&t, "/api/v1/residents/categories").await;
        assert_eq!(st, StatusCode::OK);
        let grids = grids.as_array().unwrap();
        assert_eq!(grids.len(), if user == "worker1" { 1 } else { 6 });
        let mut checked = 0;
        for g in grids {
            let code = g["grid"].as_str().unwrap();
            let (_, list) = app.get(&t, &format!("/api/v1/residents?grid={code}&per_page=1")).await;
            assert_eq!(list["total"], g["residents"], "{user} {code}");
            for (cat, n) in g["categories"].as_object().unwrap() {
                let (_, list) = app.get(&t, &format!("/api/v1/residents?grid={code}&category={cat}&per_page=1")).await;
                assert_eq!(&list["total"], n, "{user} {code} {cat}");
                checked += 1;
            }
        }
        assert!(checked > 5, "{user}: {checked}");
        let r = app.client().get(format!("{}/residents/categories", app.url)).bearer_auth(&t).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let html = r.text().await.unwrap();
        assert!(html.contains("分类归档") && html.contains("category=elderly_alone"), "{user}");
    }
}

#[tokio::test]
async fn categories_change_with_a_reason_and_keep_their_history() {
    let app = TestApp::spawn().await;
    let s = app.token("secretary").await;
    let (_, v) = app.post(&s, "/api/v1/residents", resident("周奶奶", "chengnan-g01", None, None)).await;
    let rid = v["id"].as_i64().unwrap();
    let path = format!("/api/v1/residents/{rid}/categories");
    let (st, v) = app.post(&s, &path, json!({"category": "subsistence", "action": "add", "reason": ""})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")));
    let (st, v) =
        app.post(&s, &path, json!({"category": "subsistence", "action": "add", "reason": "低保审批通过"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(v["categories"].as_array().unwrap().iter().any(|c| c["category"] == "subsistence"));
    let (st, _) = app.post(&s, &path, json!({"category": "subsistence", "action": "add", "reason": "再加一次"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, _) =
        app.post(&s, &path, json!({"category": "elderly_alone", "action": "remove", "reason": "子女已回来同住"})).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) =
        app.post(&s, &path, json!({"category": "elderly_alone", "action": "remove", "reason": "又一次"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "not in it any more");
    let (_, h) = app.get(&s, &format!("/api/v1/residents/{rid}/history")).await;
    let h: Vec<(String, String, String)> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["category"].as_str().unwrap().into(),
                e["change"].as_str().unwrap().into(),
                e["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(h[0], ("elderly_alone".into(), "removed".into(), "子女已回来同住".into()));
    assert_eq!(h[1], ("subsistence".into(), "added".into(), "低保审批通过".into()));
    // a clerk reads but does not change records
    let c = app.token("clerk").await;
    let (st, _) = app.post(&c, &path, json!({"category": "veteran", "action": "add", "reason": "核实"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn filters_by_residence_age_estate_and_building() {
    let app = TestApp::spawn().await;
    app.svc.fixtures().seed_demo_residents(400).await.unwrap();
    let s = app.token("secretary").await;
    let (_, all) = app.get(&s, "/api/v1/residents?per_page=500").await;
    let all = all["items"].as_array().unwrap().clone();
    assert_eq!(all.len(), 400);

    let (_, tenants) = app.get(&s, "/api/v1/residents?residence=tenant&per_page=500").await;
    let want = all.iter().filter(|r| r["residence"] == "tenant").count();
    assert_eq!(tenants["total"], want as i64);
    assert!(want > 10);

    let (_, old) = app.get(&s, "/api/v1/residents?age_min=70&age_max=80&per_page=500").await;
    let want = all.iter().filter(|r| r["age"].as_i64().is_some_and(|a| (70..=80).contains(&a))).count();
    assert_eq!(old["total"], want as i64, "both ends included");
    assert!(old["items"].as_array().unwrap().iter().all(|r| (70..=80).contains(&r["age"].as_i64().unwrap())));

    let mut sum = 0;
    for estate in ["丁香花园", "丁香花园三期", "春城小区", "正阳家园", "南苑小区"] {
        let (_, e) = app.get(&s, &format!("/api/v1/residents?estate={estate}&per_page=1")).await;
        sum += e["total"].as_i64().unwrap();
    }
    assert_eq!(sum, 400, "every generated resident lives in one of the five estates");
    let (_, e) = app.get(&s, "/api/v1/residents?estate=丁香花园三期&per_page=1").await;
    let (_, b) = app.get(&s, "/api/v1/residents?estate=丁香花园三期&building=3&per_page=1").await;
    let (_, b2) = app.get(&s, "/api/v1/residents?estate=丁香花园三期&building=3号楼&per_page=1").await;
    assert_eq!(b["total"], b2["total"], "3 and 3号楼 are one building");
    assert!(b["total"].as_i64().unwrap() > 0 && b["total"].as_i64() < e["total"].as_i64());
}

#[tokio::test]
async fn ages_out_of_range_are_refused_not_crashed_on() {
    let app = TestApp::spawn().await;
    let s = app.token("secretary").await;
    let (st, v) = app.get(&s, "/api/v1/residents?age_min=2147483648").await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("age_min")), "{v}");
    let (st, v) = app.get(&s, "/api/v1/residents?age_max=151").await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("age_max")), "{v}");
    let (st, _) = app.get(&s, "/api/v1/residents?age_min=-1").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn edits_keep_what_is_not_given_and_refuse_a_stale_version() {
    let app = TestApp::spawn().await;
    let s = app.token("secretary").await;
    let id = canary_id();
    let (st, r) =
        app.post(&s, "/api/v1/residents", resident("王秀英", "chengnan-g01", Some(&id), Some(CANARY_PHONE))).await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let rid = r["id"].as_i64().unwrap();
    let v1 = r["version"].as_i64().unwrap();
    let path = format!("/api/v1/residents/{rid}");
    let put = |body: Value| app.send(reqwest::Method::PUT, &s, &path, body);

    // a new phone and door; the ID number is not given and stays
    let (st, after) = put(json!({"version": v1, "name": "王秀英", "phone": "0431-8888 6666",
        "household": {"estate": "丁香花园三期", "building": "8", "entrance": "2", "door": "601"},
        "relation": "户主", "residence": "tenant", "notes": "搬到六楼"}))
    .await;
    assert_eq!(st, StatusCode::OK, "{after}");
    assert_eq!(after["version"], v1 + 1);
    assert_eq!(after["residence"], "tenant");
    assert_eq!(after["address"]["door"], "601");
    assert_eq!(after["address"]["building"], "8号楼");
    assert_eq!(after["id_number"], r["id_number"], "kept, still masked");
    assert_ne!(after["phone"], r["phone"]);
    let (_, shown) =
        app.post(&s, &format!("/api/v1/residents/{rid}/unmask"), json!({"field": "id_number", "reason": "核对"})).await;
    assert_eq!(shown["value"], id.as_str(), "the kept number still opens");

    // the version read before the edit is stale now: refused, nothing changed
    let (st, e) = put(json!({"version": v1, "name": "王秀", "relation": "户主"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("他人修改"), "{e}");
    let (_, now) = app.get(&s, &format!("/api/v1/residents/{rid}")).await;
    assert_eq!(now["name"], "王秀英");

    // a bad field is named, and changes nothing
    let (st, e) = put(json!({"version": v1 + 1, "name": "王秀英", "birth_date": "1945-13-40"})).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("birth_date")));
    // another resident's ID number is refused
    let other = IdNumber::from_parts("220182", NaiveDate::from_ymd_opt(1960, 6, 6).unwrap(), 31, Sex::Male).unwrap();
    let (_, o) = app.post(&s, "/api/v1/residents", resident("李强", "chengnan-g01", Some(other.as_str()), None)).await;
    assert!(o["id"].is_i64());
    let (st, _) = put(json!({"version": v1 + 1, "name": "王秀英", "id_number": other.as_str()})).await;
    assert_eq!(st, StatusCode::CONFLICT);

    // the log names the fields changed, never their values
    let (_, log) = app.get(&s, "/api/v1/audit?action=resident_edit").await;
    let text = log.to_string();
    assert!(text.contains("phone") && text.contains("household") && !text.contains("8888"), "{text}");

    // a grid worker of another grid, and a station clerk, cannot edit
    let w2 = app.token("worker2").await;
    let clerk = app.token("clerk").await;
    for t in [&w2, &clerk] {
        let (st, _) = app
            .send(reqwest::Method::PUT, t, &format!("/api/v1/residents/{rid}"), json!({"version": 2, "name": "改名"}))
            .await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn households_and_buildings_show_who_lives_behind_which_door_in_scope() {
    let app = TestApp::spawn().await;
    let s = app.token("secretary").await;
    let mut in_g01 = resident("张桂兰", "chengnan-g01", None, None);
    in_g01["categories"] = json!([]);
    let (_, head) = app.post(&s, "/api/v1/residents", in_g01.clone()).await;
    in_g01["name"] = json!("张伟");
    in_g01["relation"] = json!("子女");
    app.post(&s, "/api/v1/residents", in_g01).await;
    // the same building, another door, another grid
    let mut in_g02 = resident("赵明", "chengnan-g02", None, None);
    in_g02["household"]["door"] = json!("1001");
    let (_, far) = app.post(&s, "/api/v1/residents", in_g02).await;
    let household = head["address"]["household_id"].as_i64().unwrap();
    let building = head["address"]["building_id"].as_i64().unwrap();
    assert_eq!(far["address"]["building_id"].as_i64(), Some(building));

    let (st, h) = app.get(&s, &format!("/api/v1/households/{household}")).await;
    assert_eq!(st, StatusCode::OK, "{h}");
    let names: Vec<&str> = h["members"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["张桂兰", "张伟"], "the head first");

    let (_, b) = app.get(&s, &format!("/api/v1/buildings/{building}")).await;
    let doors: Vec<&str> = b["doors"].as_array().unwrap().iter().map(|d| d["door"].as_str().unwrap()).collect();
    assert_eq!(doors, ["502", "1001"], "502 before 1001");
    assert_eq!(b["partial"], false);

    // worker1 (grid 1) sees door 502 only, and not the other grid's household
    let w = app.token("worker1").await;
    let (_, b) = app.get(&w, &format!("/api/v1/buildings/{building}")).await;
    let doors: Vec<&str> = b["doors"].as_array().unwrap().iter().map(|d| d["door"].as_str().unwrap()).collect();
    assert_eq!((doors, &b["partial"]), (vec!["502"], &json!(true)));
    let far_household = far["address"]["household_id"].as_i64().unwrap();
    let (st, _) = app.get(&w, &format!("/api/v1/households/{far_household}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = app.get(&w, "/api/v1/households/999999").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // nor may she file a case at that door and read its address in the answer
    let body = json!({"category": "repair", "description": "楼道灯坏了", "household_id": far_household});
    let (st, v) = app.post(&w, "/api/v1/cases", body).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert!(
        app.audit()
            .await
            .iter()
            .any(|(a, o, x)| a == "case_create" && o == "denied" && *x == format!("household:{far_household}"))
    );
    let (_, list) = app.get(&s, "/api/v1/cases?box=all").await;
    assert_eq!(list["total"], 0, "no case was made");

    // and the pages say the same
    let browser = app.browser_as("secretary").await;
    let page = |path: String| {
        let b = browser.clone();
        let url = format!("{}{path}", app.url);
        async move { b.get(url).send().await.unwrap() }
    };
    let html = page(format!("/buildings/{building}")).await.text().await.unwrap();
    assert!(html.contains("张桂兰") && html.contains("赵明") && html.contains("1001"), "{html}");
    let html = page(format!("/households/{household}")).await.text().await.unwrap();
    assert!(html.contains("张伟") && html.contains("502"));
    assert!(has_plain_personal_data(&html).is_none());
}

#[tokio::test]
async fn pregnancy_ends_by_itself_six_weeks_after_the_due_date() {
    let app = TestApp::spawn().await;
    let s = app.token("secretary").await;
    let today = yijia_domain::time::to_local(app.svc.now()).date_naive();
    let mut ids = Vec::new();
    for (name, due) in [("孙丽", today - chrono::Days::new(43)), ("孙娜", today - chrono::Days::new(41))] {
        let mut r = resident(name, "chengnan-g01", None, None);
        r["categories"] = json!([{"category": "pregnant", "details": {"due_date": due.to_string()}}]);
        let (st, v) = app.post(&s, "/api/v1/residents", r).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        ids.push(v["id"].as_i64().unwrap());
    }
    app.svc.schedule_periodic().await.unwrap();
    while app.svc.run_one_job("test").await.unwrap() {}
    let cats = |v: &Value| {
        v["categories"]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"))
            .iter()
            .map(|c| c["category"].clone())
            .collect::<Vec<_>>()
    };
    let (_, past) = app.get(&s, &format!("/api/v1/residents/{}", ids[0])).await;
    let (_, within) = app.get(&s, &format!("/api/v1/residents/{}", ids[1])).await;
    assert_eq!((cats(&past), cats(&within)), (vec![], vec![json!("pregnant")]));
    let (_, history) = app.get(&s, &format!("/api/v1/residents/{}/history", ids[0])).await;
    assert_eq!(history[0]["change"], "removed", "{history}");
    assert!(history[0]["reason"].as_str().unwrap().contains("42"));

    // two days on, the second one ends too (the job runs once a day)
    app.clock.advance(2 * yijia_domain::time::DAY_MS);
    app.svc.schedule_periodic().await.unwrap();
    while app.svc.run_one_job("test").await.unwrap() {}
    // (the session from two days ago has ended)
    let s = app.token("secretary").await;
    let (_, within) = app.get(&s, &format!("/api/v1/residents/{}", ids[1])).await;
    assert_eq!(cats(&within), Vec::<Value>::new());
}

#[tokio::test]
async fn a_community_adds_its_own_categories_and_uses_them_everywhere() {
    use yijia_service::users::{NewGrant, NewUser};
    let app = TestApp::spawn().await;
    let s = app.token("secretary").await;
    let add = |t: &str, name: &str| {
        let (t, body) = (t.to_owned(), json!({"community": "chengnan", "name": name}));
        let app = &app;
        async move { app.post(&t, "/api/v1/categories", body).await }
    };
    let (st, def) = add(&s, "失独家庭").await;
    assert_eq!(st, StatusCode::CREATED, "{def}");
    let code = def["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with('c'));
    assert_eq!(add(&s, "失独家庭").await.0, StatusCode::CONFLICT, "the community has it");
    assert_eq!(add(&s, "孤寡老人").await.0, StatusCode::CONFLICT, "a built-in one by another name");
    let (st, e) = add(&s, "失").await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("name")));
    for who in ["worker1", "clerk"] {
        assert_eq!(add(&app.token(who).await, "重点青少年").await.0, StatusCode::NOT_FOUND, "{who}");
    }
    let w = app.token("worker1").await;
    let (_, defs) = app.get(&w, "/api/v1/categories").await;
    assert!(defs.as_array().unwrap().iter().any(|d| d["code"] == code.as_str() && d["name"] == "失独家庭"), "{defs}");

    // a resident holds it, by name or code; lists, counts and history know it
    let mut r = resident("周桂芝", "chengnan-g01", None, None);
    r["categories"] = json!([]);
    let (_, r) = app.post(&s, "/api/v1/residents", r).await;
    let id = r["id"].as_i64().unwrap();
    let change = json!({"category": "失独家庭", "action": "add", "reason": "子女去世"});
    let (st, v) = app.post(&s, &format!("/api/v1/residents/{id}/categories"), change).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let held = &v["categories"][0];
    assert_eq!((held["category"].as_str(), held["name"].as_str()), (Some(code.as_str()), Some("失独家庭")));
    for q in [code.as_str(), "失独家庭"] {
        let (_, list) = app.get(&w, &format!("/api/v1/residents?category={q}")).await;
        assert_eq!(list["total"], 1, "{q}: {list}");
    }
    let (_, counts) = app.get(&s, "/api/v1/residents/categories").await;
    let g01 = counts.as_array().unwrap().iter().find(|g| g["grid"] == "chengnan-g01").unwrap();
    assert_eq!(g01["categories"][&code], 1);
    let (_, history) = app.get(&s, &format!("/api/v1/residents/{id}/history")).await;
    assert_eq!((history[0]["name"].as_str(), history[0]["reason"].as_str()), (Some("失独家庭"), Some("子女去世")));

    // another community's category is not this community's
    let op = yijia_service::Caller::operator();
    let node = |code: &str| yijia_service::org::NewNode {
        code: code.into(),
        kind: "community".into(),
        name: "南苑社区".into(),
        parent: "zhengyang".into(),
        boundary: None,
    };
    app.svc.org_create(&op, node("nanyuan")).await.unwrap();
    let grants = vec![NewGrant { role: yijia_domain::role::Role::Secretary, scope: "nanyuan".into() }];
    let user = NewUser {
        username: "sec2".into(),
        display_name: "南苑书记".into(),
        password: yijia_service::fixtures::demo::PASSWORD.into(),
        grants,
    };
    app.svc.add_user(&op, user).await.unwrap();
    let s2 = app.token("sec2").await;
    let (st, other) = app.post(&s2, "/api/v1/categories", json!({"community": "nanyuan", "name": "重点青少年"})).await;
    assert_eq!(st, StatusCode::CREATED, "{other}");
    let change = json!({"category": "重点青少年", "action": "add", "reason": "试试"});
    let (st, e) = app.post(&s, &format!("/api/v1/residents/{id}/categories"), change).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("category")));
    let (_, defs) = app.get(&s, "/api/v1/categories").await;
    assert!(!defs.to_string().contains("重点青少年"), "not offered to chengnan");
}
