//! Visits and care plans over HTTP: plans from categories, the walk list,
//! logging once per client id, batches, cases from visits, intervals,
//! coverage, dispute revisits, scope.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use yijia_domain::time::DAY_MS;

use crate::helpers::{TestApp, csrf_of};

pub(crate) fn person(name: &str, grid: &str, door: &str, categories: &[&str]) -> Value {
    let cats: Vec<Value> = categories.iter().map(|c| json!({"category": c})).collect();
    json!({
        "name": name, "grid": grid,
        "household": {"estate": "丁香花园三期", "building": "8号楼", "entrance": "2单元", "door": door},
        "relation": "户主", "residence": "permanent", "categories": cats,
    })
}

pub(crate) async fn add(app: &TestApp, token: &str, body: Value) -> (i64, i64) {
    let (st, v) = app.post(token, "/api/v1/residents", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let household = app.get(token, &format!("/api/v1/residents/{}", v["id"])).await.1["address"]["household_id"]
        .as_i64()
        .unwrap_or_default();
    (v["id"].as_i64().unwrap(), household)
}

pub(crate) fn people(walk: &Value) -> Vec<String> {
    walk["stops"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["people"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()))
        .collect()
}

fn today(app: &TestApp) -> chrono::NaiveDate {
    yijia_domain::time::to_local(app.svc.now()).date_naive()
}

fn day(app: &TestApp, plus: i64) -> String {
    (today(app) + chrono::Duration::days(plus)).format("%Y-%m-%d").to_string()
}

#[tokio::test]
async fn a_plan_comes_from_the_categories_and_a_visit_moves_it() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let worker = app.token("worker1").await;
    let (alone, _) = add(&app, &secretary, person("孙大爷", "chengnan-g01", "502", &["elderly_alone"])).await;
    let (poor, _) = add(&app, &secretary, person("钱阿姨", "chengnan-g01", "301", &["hardship"])).await;
    let (member, _) = add(&app, &secretary, person("周师傅", "chengnan-g01", "101", &["party_member"])).await;
    add(&app, &secretary, person("吴奶奶", "chengnan-g02", "201", &["elderly_alone"])).await;

    // never contacted: due today; a party member has no plan; another grid is not on the walk
    let (st, walk) = app.get(&worker, "/api/v1/walk-list").await;
    assert_eq!(st, StatusCode::OK, "{walk}");
    assert_eq!(walk["today"], day(&app, 0));
    assert_eq!(people(&walk), ["钱阿姨", "孙大爷"], "door by door, 301 before 502: {walk}");
    assert_eq!(walk["due_today"], 2);
    let stop = &walk["stops"][0];
    assert_eq!((stop["estate"].as_str(), stop["building"].as_str()), (Some("丁香花园三期"), Some("8号楼")));
    assert_eq!(stop["people"][1]["categories"], json!(["独居老人"]));
    assert_eq!(stop["people"][1]["door"], "502");

    // an open case in the building shows beside the stop
    let (st, k) = app
        .post(&worker, "/api/v1/cases", json!({"category": "fire", "description": "楼道堆放杂物", "grid": "chengnan-g01",
            "household_id": app.get(&worker, &format!("/api/v1/residents/{alone}")).await.1["address"]["household_id"]}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{k}");
    let walk = app.get(&worker, "/api/v1/walk-list").await.1;
    assert_eq!(walk["stops"][0]["cases"][0]["id"], k["id"], "{walk}");

    // a routine visit: once, however often it is sent
    let visit = json!({"client_id": "phone-0001-aaaa", "resident_id": alone});
    let (st, v) = app.post(&worker, "/api/v1/visits", visit.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["recorded_now"], true);
    assert_eq!(v["next_due_on"], day(&app, 7));
    assert_eq!((v["mode"].as_str(), v["health"].as_str()), (Some("at_home"), Some("well")));
    let (st, again) = app.post(&worker, "/api/v1/visits", visit).await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!((again["id"].clone(), again["recorded_now"].clone()), (v["id"].clone(), json!(false)));
    assert_eq!(people(&app.get(&worker, "/api/v1/walk-list").await.1), ["钱阿姨"]);
    assert!(app.audit().await.iter().any(|(a, _, o)| a == "visit" && *o == format!("visit:{}", v["id"])));

    // nine days on: overdue; a second interval late: the community is told
    app.clock.advance(9 * DAY_MS);
    let worker = app.token("worker1").await;
    let walk = app.get(&worker, "/api/v1/walk-list").await.1;
    let list = walk["stops"][0]["people"].as_array().unwrap();
    assert_eq!(list.iter().map(|p| p["name"].as_str().unwrap()).collect::<Vec<_>>(), ["钱阿姨", "孙大爷"]);
    assert_eq!((list[1]["lateness"].as_str(), list[1]["days_late"].as_i64()), (Some("overdue"), Some(2)), "{walk}");
    assert_eq!(walk["overdue"], 2, "{walk}");
    app.clock.advance(6 * DAY_MS);
    let worker = app.token("worker1").await;
    let secretary = app.token("secretary").await;
    let walk = app.get(&worker, "/api/v1/walk-list").await.1;
    assert_eq!(walk["stops"][0]["people"][1]["name"], "孙大爷", "{walk}");
    assert_eq!(walk["stops"][0]["people"][1]["lateness"], "escalated", "8 of 7 days late: {walk}");
    let (st, cov) = app.get(&secretary, "/api/v1/coverage?org=chengnan").await;
    assert_eq!(st, StatusCode::OK, "{cov}");
    // the whole community: 吴奶奶 of the second grid too
    assert_eq!(cov["overdue_total"], 3, "{cov}");
    assert_eq!(cov["escalated_total"], 2, "weekly plans eight and fifteen days late");
    let mut names: Vec<&str> = cov["overdue"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["吴奶奶", "孙大爷", "钱阿姨"]);

    // the community changes the weekly interval: due dates move
    let (st, iv) =
        app.send(Method::PUT, &secretary, "/api/v1/care-intervals", json!({"category": "hardship", "days": 60})).await;
    assert_eq!(st, StatusCode::OK, "{iv}");
    let hardship = iv["items"].as_array().unwrap().iter().find(|i| i["category"] == "hardship").unwrap().clone();
    assert_eq!((hardship["days"].as_i64(), hardship["default_days"].as_i64()), (Some(60), Some(30)));
    let plan = app.get(&worker, &format!("/api/v1/residents/{poor}/plan")).await.1;
    assert_eq!(plan["days"], 60);
    assert_eq!(plan["due_on"], day(&app, -15), "never contacted: due from when the plan began");
    // the worker may not change it; a bad number is refused
    let (st, _) =
        app.send(Method::PUT, &worker, "/api/v1/care-intervals", json!({"category": "hardship", "days": 5})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, e) =
        app.send(Method::PUT, &secretary, "/api/v1/care-intervals", json!({"category": "hardship", "days": 0})).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("days")));

    // a resident's own interval puts a party member under a plan
    let (st, plan) =
        app.send(Method::PUT, &worker, &format!("/api/v1/residents/{member}/plan"), json!({"days": 90})).await;
    assert_eq!(st, StatusCode::OK, "{plan}");
    assert_eq!((plan["own_days"].as_i64(), plan["due_on"].as_str()), (Some(90), Some(day(&app, 0).as_str())));
    assert!(people(&app.get(&worker, "/api/v1/walk-list").await.1).contains(&"周师傅".to_owned()));

    // a visit with a date for the next one, and notes that are sealed and read with an audit line
    let (st, v) = app
        .post(
            &worker,
            "/api/v1/visits",
            json!({"client_id": "phone-0002-bbbb", "resident_id": alone, "mode": "phone", "health": "watch",
                   "notes": "膝盖疼,下周陪同就医", "next_visit_on": day(&app, 3)}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["next_due_on"], day(&app, 3));
    let mut tx = app.db.db.read().await.unwrap();
    let stored = yijia_store::visits::by_client_id(&mut tx, "phone-0002-bbbb").await.unwrap().unwrap();
    drop(tx);
    assert!(!stored.notes_sealed.unwrap().contains("膝盖"), "sealed at rest");
    let plan = app.get(&secretary, &format!("/api/v1/residents/{alone}/plan")).await.1;
    assert_eq!(plan["visits"][0]["notes"], "膝盖疼,下周陪同就医");
    assert_eq!(plan["visits"].as_array().unwrap().len(), 2);
    assert!(app.audit().await.iter().any(|(a, _, o)| a == "visit_read" && *o == format!("resident:{alone}")));

    // coverage: visits per worker this month
    let cov = app.get(&secretary, "/api/v1/coverage?org=chengnan&months=2").await.1;
    let months = cov["months"].as_array().unwrap().len();
    assert_eq!(months, 2);
    let visits: i64 = cov["workers"].as_array().unwrap().iter().map(|w| w["visits"].as_i64().unwrap()).sum();
    assert!(visits >= 1, "{cov}");
}

#[tokio::test]
async fn bad_visits_are_refused_with_the_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let worker = app.token("worker1").await;
    let (alone, _) = add(&app, &secretary, person("孙大爷", "chengnan-g01", "502", &["elderly_alone"])).await;
    let (far, _) = add(&app, &secretary, person("吴奶奶", "chengnan-g02", "201", &["elderly_alone"])).await;
    let future = yijia_domain::time::rfc3339(app.svc.now() + DAY_MS);
    let old = yijia_domain::time::rfc3339(app.svc.now() - 40 * DAY_MS);
    for (body, field) in [
        (json!({"client_id": "short", "resident_id": alone}), "client_id"),
        (json!({"client_id": "has space in it", "resident_id": alone}), "client_id"),
        (json!({"client_id": "phone-0003-cccc"}), "resident_id"),
        (json!({"client_id": "phone-0003-cccc", "resident_id": alone, "visited_at": future}), "visited_at"),
        (json!({"client_id": "phone-0003-cccc", "resident_id": alone, "visited_at": old}), "visited_at"),
        (json!({"client_id": "phone-0003-cccc", "resident_id": alone, "visited_at": "yesterday"}), "visited_at"),
        (json!({"client_id": "phone-0003-cccc", "resident_id": alone, "next_visit_on": day(&app, 0)}), "next_visit_on"),
        (json!({"client_id": "phone-0003-cccc", "resident_id": alone, "next_visit_on": "2026/12/01"}), "next_visit_on"),
        (json!({"client_id": "phone-0003-cccc", "resident_id": alone, "notes": "字".repeat(1001)}), "notes"),
        (
            json!({"client_id": "phone-0003-cccc", "resident_id": alone, "case": {"category": "nope", "description": "x"}}),
            "category",
        ),
    ] {
        let (st, e) = app.post(&worker, "/api/v1/visits", body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
        assert_eq!(e["error"]["field"], field, "{body}: {e}");
    }
    let (st, e) = app.post(&worker, "/api/v1/visits", json!({"client_id": "phone-0003-cccc", "mode": "fax"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    // another grid's resident: 404, and the denial is audited
    let (st, _) =
        app.post(&worker, "/api/v1/visits", json!({"client_id": "phone-0004-dddd", "resident_id": far})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(
        app.audit()
            .await
            .iter()
            .any(|(a, outcome, o)| a == "visit" && outcome == "denied" && *o == format!("resident:{far}"))
    );
    let (st, _) = app.get(&worker, &format!("/api/v1/residents/{far}/plan")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // a resident account logs no visits
    let resident = app.token("resident").await;
    let (st, _) =
        app.post(&resident, "/api/v1/visits", json!({"client_id": "phone-0005-eeee", "resident_id": alone})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // nothing was stored, and the plan did not move
    let plan = app.get(&worker, &format!("/api/v1/residents/{alone}/plan")).await.1;
    assert_eq!(plan["visits"], json!([]));
    assert_eq!(plan["due_on"], day(&app, 0));
    let mut tx = app.db.db.read().await.unwrap();
    assert!(yijia_store::visits::by_client_id(&mut tx, "phone-0003-cccc").await.unwrap().is_none());
}

#[tokio::test]
async fn a_phones_queue_is_sent_in_one_batch_and_each_visit_answered() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let worker = app.token("worker1").await;
    let (a, door) = add(&app, &secretary, person("孙大爷", "chengnan-g01", "502", &["elderly_alone"])).await;
    let (far, _) = add(&app, &secretary, person("吴奶奶", "chengnan-g02", "201", &["elderly_alone"])).await;
    let earlier = yijia_domain::time::rfc3339(app.svc.now() - 2 * 3_600_000);
    app.post(&worker, "/api/v1/visits", json!({"client_id": "queued-0001", "resident_id": a, "visited_at": earlier}))
        .await;
    let batch = json!({"visits": [
        {"client_id": "queued-0001", "resident_id": a},
        {"client_id": "queued-0002", "household_id": door},
        {"client_id": "queued-0003", "resident_id": a, "next_visit_on": "not a date"},
        {"client_id": "queued-0004", "resident_id": far},
        {"client_id": "queued-0002", "resident_id": a},
    ]});
    let (st, r) = app.post(&worker, "/api/v1/visits/batch", batch.clone()).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let status: Vec<&str> = r["results"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert_eq!(status, ["known", "recorded", "refused", "refused", "refused"], "{r}");
    assert_eq!(r["results"][2]["field"], "next_visit_on");
    assert_eq!(r["results"][3]["field"], "resident_id");
    // sent again after a lost answer: nothing new
    let (_, r2) = app.post(&worker, "/api/v1/visits/batch", batch).await;
    assert_eq!(r2["results"][1]["status"], "known");
    assert_eq!(r2["results"][1]["visit_id"], r["results"][1]["visit_id"]);
    let plan = app.get(&worker, &format!("/api/v1/residents/{a}/plan")).await.1;
    assert_eq!(plan["visits"].as_array().unwrap().len(), 2, "their own and their household's: {plan}");
    assert_eq!(plan["last_contact_on"], day(&app, 0));
    // empty or too many
    let (st, e) = app.post(&worker, "/api/v1/visits/batch", json!({"visits": []})).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("visits")));
}

#[tokio::test]
async fn a_visit_opens_a_hazard_case_with_the_place_and_resident_filled_in() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let worker = app.token("worker1").await;
    let (a, door) = add(&app, &secretary, person("孙大爷", "chengnan-g01", "502", &["elderly_alone"])).await;
    let (st, v) = app
        .post(
            &worker,
            "/api/v1/visits",
            json!({"client_id": "phone-case-0001", "resident_id": a, "safety": "act",
                   "case": {"category": "structure", "description": "卧室吊顶开裂下垂,有脱落危险", "at_risk": "独居老人"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let case_id = v["case_id"].as_i64().expect("a case was opened");
    let k = app.get(&worker, &format!("/api/v1/cases/{case_id}")).await.1;
    assert_eq!(k["kind"], "hazard");
    assert_eq!(k["channel"], "visit");
    assert_eq!(k["household_id"], door);
    assert_eq!(k["grid"], "chengnan-g01");
    assert_eq!(k["residents"][0]["resident_id"], a);
    // sent again: the same visit, no second case
    let (st, again) = app
        .post(
            &worker,
            "/api/v1/visits",
            json!({"client_id": "phone-case-0001", "resident_id": a,
                   "case": {"category": "structure", "description": "卧室吊顶开裂下垂,有脱落危险"}}),
        )
        .await;
    assert_eq!((st, again["case_id"].as_i64()), (StatusCode::OK, Some(case_id)));
    let (_, list) = app.get(&worker, "/api/v1/cases?box=grids").await;
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn dispute_revisits_come_onto_the_walk_list_when_due() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let worker = app.token("worker1").await;
    let (st, v) = app
        .post(
            &staff,
            "/api/v1/cases",
            json!({"category": "neighbour", "description": "楼上漏水到楼下", "grid": "chengnan-g01"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let id = v["id"].as_i64().unwrap();
    let (_, v) =
        app.post(&worker, &format!("/api/v1/cases/{id}/actions"), json!({"action": "accept", "version": 1})).await;
    let (st, v) = app
        .post(
            &worker,
            &format!("/api/v1/cases/{id}/actions"),
            json!({"action": "resolve", "version": v["version"], "note": "达成协议"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(app.get(&worker, "/api/v1/walk-list").await.1["revisits"].as_array().unwrap().is_empty(), "not yet");
    app.clock.advance(7 * DAY_MS);
    let worker = app.token("worker1").await;
    let walk = app.get(&worker, "/api/v1/walk-list").await.1;
    let revisits = walk["revisits"].as_array().unwrap();
    assert_eq!(revisits.len(), 1, "{walk}");
    assert_eq!(revisits[0]["case_id"], id);
    let rid = revisits[0]["id"].as_i64().unwrap();
    let (st, e) = app.post(&worker, &format!("/api/v1/cases/{id}/revisits/{rid}"), json!({"note": ""})).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("note")));
    let (st, k) = app.post(&worker, &format!("/api/v1/cases/{id}/revisits/{rid}"), json!({"note": "双方和好"})).await;
    assert_eq!(st, StatusCode::OK, "{k}");
    assert_eq!(k["revisits"][0]["note"], "双方和好");
    assert!(k["timeline"].as_array().unwrap().iter().any(|e| e["action"] == "revisit"));
    let (st, _) = app.post(&worker, &format!("/api/v1/cases/{id}/revisits/{rid}"), json!({"note": "again"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(app.get(&worker, "/api/v1/walk-list").await.1["revisits"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_pages_walk_record_and_show_coverage() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let (alone, _) = add(&app, &secretary, person("孙大爷", "chengnan-g01", "502", &["elderly_alone"])).await;
    add(&app, &secretary, person("吴奶奶", "chengnan-g02", "201", &["elderly_alone"])).await;
    let worker = app.browser_as("worker1").await;
    let r = worker.get(format!("{}/walk", app.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("孙大爷") && !html.contains("吴奶奶"), "only the worker's grid");
    assert!(html.contains("一切正常") && html.contains("/static/walk.js"));
    let csrf = csrf_of(&html);
    let client_id = html.split("name=\"client_id\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let form = |pairs: &[(&str, String)]| {
        pairs.iter().fold(reqwest::multipart::Form::new().text("_csrf", csrf.clone()), |f, (k, v)| {
            f.text(k.to_string(), v.clone())
        })
    };
    // the full form: a bad date comes back with the message and what was typed
    let (st, html) = {
        let r = worker.get(format!("{}/walk/visit?resident={alone}", app.url)).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    };
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("孙大爷") && html.contains("房屋安全"), "the resident and the case catalogue");
    let r = worker
        .post(format!("{}/walk/visit", app.url))
        .multipart(form(&[
            ("client_id", client_id.clone()),
            ("resident_id", alone.to_string()),
            ("notes", "腿脚不便".into()),
            ("next_visit_on", day(&app, -1)),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("下次走访日期须在走访之后") && html.contains("腿脚不便"), "{html}");
    // with a photo, recorded and back to the list
    let photo = yijia_service::photos::sample_jpeg_with_gps(40, 30);
    let good = form(&[("client_id", client_id.clone()), ("resident_id", alone.to_string()), ("back", "/walk".into())])
        .part("photo", reqwest::multipart::Part::bytes(photo).file_name("IMG_0002.jpg"));
    let r = worker.post(format!("{}/walk/visit", app.url)).multipart(good).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/walk?done="));
    let html = worker.get(format!("{}/walk", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("孙大爷"), "visited: off today's list");
    let w = app.token("worker1").await;
    let plan = app.get(&w, &format!("/api/v1/residents/{alone}/plan")).await.1;
    assert_eq!(plan["visits"][0]["has_photo"], true);
    let id = plan["visits"][0]["id"].as_i64().unwrap();
    let r = app.client().get(format!("{}/api/v1/visits/{id}/photo", app.url)).bearer_auth(&w).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    // another grid's worker does not get it
    let other = app.token("worker2").await;
    let r = app.client().get(format!("{}/api/v1/visits/{id}/photo", app.url)).bearer_auth(&other).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // coverage and the intervals, as the secretary
    let sec = app.browser_as("secretary").await;
    let html = sec.get(format!("{}/coverage", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("李网格") && html.contains("id=\"workers\""), "visits per worker");
    assert!(html.contains("没有超期的人"), "吴奶奶 is due today, not overdue");
    assert!(html.contains("<span class=\"muted\">城南社区</span>"), "the intervals name the community, not its code");
    let csrf = csrf_of(&html);
    let r = sec
        .post(format!("{}/coverage/intervals", app.url))
        .form(&[("_csrf", csrf.as_str()), ("category", "elderly_alone"), ("days", "400")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("1 到 365"));
    let r = sec
        .post(format!("{}/coverage/intervals", app.url))
        .form(&[("_csrf", csrf.as_str()), ("category", "elderly_alone"), ("days", "3")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let plan = app.get(&w, &format!("/api/v1/residents/{alone}/plan")).await.1;
    assert_eq!(plan["due_on"], day(&app, 3));
    // a grid worker reads only their grid's coverage
    let r = worker.get(format!("{}/coverage?org=chengnan-g02", app.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_demo_has_a_year_of_visits_and_some_overdue() {
    let app = TestApp::spawn().await;
    app.clock_to_the_20th(); // this month's visitors are listed
    app.svc.fixtures().seed_demo_residents(600).await.unwrap();
    let n = app.svc.fixtures().seed_demo_visits().await.unwrap();
    assert!(n > 500, "a year of visits: {n}");
    assert_eq!(app.svc.fixtures().seed_demo_visits().await.unwrap(), 0, "once");
    let worker = app.token("worker1").await;
    let walk = app.get(&worker, "/api/v1/walk-list").await.1;
    let late = walk["overdue"].as_i64().unwrap() + walk["escalated"].as_i64().unwrap();
    assert!(late > 0, "the walk list has work in it: {walk}");
    let secretary = app.token("secretary").await;
    let cov = app.get(&secretary, "/api/v1/coverage?org=chengnan&months=12").await.1;
    let totals = cov["totals"].as_array().unwrap();
    assert_eq!(totals.len(), 12);
    let share = totals[6]["share"].as_f64().unwrap();
    assert!(share > 30.0 && share < 100.0, "mostly on time, not always: {cov}");
    assert!(cov["workers"].as_array().unwrap().iter().any(|w| w["visitor"] == "李网格"));
}

fn at(name: &str, estate: &str, building: &str, door: &str, categories: &[&str]) -> Value {
    let mut p = person(name, "chengnan-g01", door, categories);
    p["household"]["estate"] = json!(estate);
    p["household"]["building"] = json!(building);
    p
}

#[tokio::test]
async fn the_walk_goes_estate_by_estate_building_by_building_door_by_door() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let worker = app.token("worker1").await;
    // registered in no useful order, the weekly and the monthly mixed
    add(&app, &secretary, at("甲", "南苑小区", "2号楼", "101", &["hardship"])).await;
    add(&app, &secretary, at("乙", "丁香花园", "10号楼", "301", &["elderly_alone"])).await;
    add(&app, &secretary, at("丙", "丁香花园", "8号楼", "1102", &["hardship"])).await;
    add(&app, &secretary, at("丁", "丁香花园", "8号楼", "302", &["elderly_alone"])).await;
    add(&app, &secretary, at("戊", "南苑小区", "2号楼", "1", &["disabled"])).await;
    let walk = app.get(&worker, "/api/v1/walk-list").await.1;
    assert_eq!(people(&walk), ["丁", "丙", "乙", "戊", "甲"], "8号楼 before 10号楼, 302 before 1102: {walk}");
    let estates: Vec<(&str, i64)> = walk["estates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["people"].as_i64().unwrap()))
        .collect();
    assert_eq!(estates, [("丁香花园", 3), ("南苑小区", 2)]);

    // one estate: its people, and the counts are of it
    let (st, one) = app.get(&worker, "/api/v1/walk-list?estate=%E5%8D%97%E8%8B%91%E5%B0%8F%E5%8C%BA").await;
    assert_eq!(st, StatusCode::OK, "{one}");
    assert_eq!(people(&one), ["戊", "甲"]);
    assert_eq!((one["due_today"].as_i64(), one["estate"].as_str()), (Some(2), Some("南苑小区")));
    assert_eq!(one["estates"].as_array().unwrap().len(), 2, "the filter still offers every estate");

    // the page links each estate, with its count
    let b = app.browser_as("worker1").await;
    let html = b.get(format!("{}/walk", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("estate=%E5%8D%97%E8%8B%91%E5%B0%8F%E5%8C%BA") && html.contains("id=\"n-done\""), "{html}");
    assert!(html.find("丁香花园 8号楼").unwrap() < html.find("丁香花园 10号楼").unwrap());
}

#[tokio::test]
async fn an_all_well_can_be_undone_within_the_minute_by_whoever_recorded_it() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let worker = app.token("worker1").await;
    let (alone, _) = add(&app, &secretary, person("孙大爷", "chengnan-g01", "502", &["elderly_alone"])).await;
    let (poor, _) = add(&app, &secretary, person("钱阿姨", "chengnan-g01", "301", &["hardship"])).await;
    let visits_kept = async |app: &TestApp| {
        let mut tx = app.db.db.read().await.unwrap();
        let kept = yijia_store::tallies::kept(&mut tx).await.unwrap();
        kept.into_iter().filter(|t| t.figure == "visits").map(|t| t.n).sum::<i64>()
    };

    let (st, v) =
        app.post(&worker, "/api/v1/visits", json!({"client_id": "phone-undo-0001", "resident_id": alone})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let walk = app.get(&worker, "/api/v1/walk-list").await.1;
    assert_eq!(people(&walk), ["钱阿姨"]);
    assert_eq!(walk["visited_today"], 1, "the day's visits are counted on the list, not from zero on each load");
    assert_eq!(visits_kept(&app).await, 1);
    // someone else may not take it back: not theirs, and the denial is audited
    let (st, _) = app.send(Method::DELETE, &secretary, &format!("/api/v1/visits/{}", v["id"]), json!(null)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(
        app.audit()
            .await
            .iter()
            .any(|(a, outcome, o)| a == "visit_undo" && outcome == "denied" && *o == format!("visit:{}", v["id"]))
    );

    let (st, e) = app.send(Method::DELETE, &worker, &format!("/api/v1/visits/{}", v["id"]), json!(null)).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{e}");
    let walk = app.get(&worker, "/api/v1/walk-list").await.1;
    assert_eq!(people(&walk), ["钱阿姨", "孙大爷"], "back on the list");
    assert_eq!(walk["visited_today"], 0);
    let plan = app.get(&worker, &format!("/api/v1/residents/{alone}/plan")).await.1;
    assert_eq!(
        (plan["due_on"].as_str(), plan["last_contact_on"].as_str()),
        (Some(day(&app, 0).as_str()), None),
        "{plan}"
    );
    assert_eq!(plan["visits"], json!([]));
    assert_eq!(visits_kept(&app).await, 0, "the month's visit count is as it was");
    assert_eq!(app.svc.tallies_check().await.unwrap().1, Vec::<String>::new());
    let (st, _) = app.send(Method::DELETE, &worker, &format!("/api/v1/visits/{}", v["id"]), json!(null)).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "gone");

    // after the minute it stays
    let (_, v) =
        app.post(&worker, "/api/v1/visits", json!({"client_id": "phone-undo-0002", "resident_id": poor})).await;
    app.clock.advance(2 * 60_000);
    let worker = app.token("worker1").await;
    let (st, e) = app.send(Method::DELETE, &worker, &format!("/api/v1/visits/{}", v["id"]), json!(null)).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("id")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("一分钟"), "{e}");
    assert_eq!(
        app.get(&worker, &format!("/api/v1/residents/{poor}/plan")).await.1["visits"].as_array().unwrap().len(),
        1
    );
}

#[tokio::test]
async fn a_visit_s_photo_goes_onto_the_case_it_opens() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let (alone, _) = add(&app, &secretary, person("孙大爷", "chengnan-g01", "502", &["elderly_alone"])).await;
    let worker = app.browser_as("worker1").await;
    let html =
        worker.get(format!("{}/walk/visit?resident={alone}", app.url)).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&html);
    let client_id = html.split("name=\"client_id\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let photo = yijia_service::photos::sample_jpeg_with_gps(40, 30);
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .text("client_id", client_id)
        .text("resident_id", alone.to_string())
        .text("safety", "act")
        .text("case_category", "structure")
        .text("case_description", "卧室吊顶开裂下垂,有脱落危险")
        .part("photo", reqwest::multipart::Part::bytes(photo).file_name("IMG_0003.jpg"));
    let r = worker.post(format!("{}/walk/visit", app.url)).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.ends_with("?visit=recorded"), "{location}");
    let html = worker.get(format!("{}{location}", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("走访已记录"), "the case page confirms the visit");
    let case_id: i64 = location.trim_start_matches("/cases/").split('?').next().unwrap().parse().unwrap();
    let w = app.token("worker1").await;
    let k = app.get(&w, &format!("/api/v1/cases/{case_id}")).await.1;
    assert_eq!(k["photos"].as_array().unwrap().len(), 1, "the visit's photo is on the case: {k}");
    let url = k["photos"][0]["url"].as_str().unwrap();
    let r = app.client().get(format!("{}{url}", app.url)).bearer_auth(&w).send().await.unwrap();
    assert_eq!((r.status(), r.headers()["content-type"].to_str().unwrap()), (StatusCode::OK, "image/jpeg"));
    let plan = app.get(&w, &format!("/api/v1/residents/{alone}/plan")).await.1;
    assert_eq!(plan["visits"][0]["has_photo"], true, "and still on the visit");
}
