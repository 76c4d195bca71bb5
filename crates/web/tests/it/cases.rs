//! Cases over HTTP: filing, routing, the workflow with versions, the
//! resident's side, deadlines through the job runner, disputes and scope.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::role::Role;
use yijia_domain::time::MINUTE_MS;

use crate::helpers::{TestApp, csrf_of};

async fn file(app: &TestApp, token: &str, body: Value) -> Value {
    let (st, v) = app.post(token, "/api/v1/cases", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

async fn act(app: &TestApp, token: &str, id: i64, body: Value) -> (StatusCode, Value) {
    app.post(token, &format!("/api/v1/cases/{id}/actions"), body).await
}

fn actions(v: &Value) -> Vec<String> {
    v["actions"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap().to_owned()).collect()
}

fn timeline(v: &Value) -> Vec<String> {
    v["timeline"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

pub(crate) fn ids(v: &Value) -> Vec<i64> {
    v["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn a_resident_files_a_worker_resolves_the_resident_rates() {
    let app = TestApp::spawn().await;
    let resident = app.token("resident").await;
    let worker = app.token("worker1").await;

    let v = file(&app, &resident, json!({"category": "repair", "description": "3 栋 2 单元楼道灯不亮,晚上看不见台阶"}))
        .await;
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["state"], "submitted");
    assert_eq!(v["channel"], "portal");
    // a resident's request without a place goes to their home grid
    assert_eq!(v["grid"], "chengnan-g01");
    assert_eq!(v["timeliness"], "on_time");
    assert_eq!(actions(&v), Vec::<String>::new(), "a resident cannot accept their own request");

    // it is in the grid worker's inbox, with the buttons they may press
    let (st, list) = app.get(&worker, "/api/v1/cases?box=grids").await;
    assert_eq!(st, StatusCode::OK, "{list}");
    assert!(ids(&list).contains(&id), "{list}");
    assert_eq!(list["counts"]["open"], 1);
    let (_, seen) = app.get(&worker, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(actions(&seen), ["accept", "reject", "escalate", "transfer"]);

    // accept, against the version read
    let (st, v) = act(&app, &worker, id, json!({"action": "accept", "version": 1})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "accepted");
    assert_eq!(v["assignee_name"], "李网格");
    assert_eq!(v["version"], 2);
    // a second click on a stale page is refused with a message that says so
    let (st, e) = act(&app, &worker, id, json!({"action": "start", "version": 1})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(e["error"]["message"].as_str().unwrap().contains("刷新"), "{e}");
    // the resident may not resolve it
    let (st, _) = act(&app, &resident, id, json!({"action": "resolve", "version": 2, "note": "好了"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    // resolving needs a note saying what was done
    let (st, e) = act(&app, &worker, id, json!({"action": "resolve", "version": 2})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "note");
    let (st, v) = act(&app, &worker, id, json!({"action": "resolve", "version": 2, "note": "已更换声控灯"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "resolved");
    assert_eq!(v["timeliness"], Value::Null);

    // the resident follows it and rates it, once
    let (_, mine) = app.get(&resident, "/api/v1/cases").await;
    assert_eq!(ids(&mine), [id]);
    let (_, v) = app.get(&resident, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(v["can_rate"], true);
    assert_eq!(actions(&v), ["close", "reopen"]);
    let (st, e) = app.post(&resident, &format!("/api/v1/cases/{id}/rating"), json!({"rating": 6})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (st, v) =
        app.post(&resident, &format!("/api/v1/cases/{id}/rating"), json!({"rating": 5, "comment": "很及时"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["rating"], 5);
    assert_eq!(v["can_rate"], false);
    let (st, _) = app.post(&resident, &format!("/api/v1/cases/{id}/rating"), json!({"rating": 1})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(timeline(&v), ["created", "accept", "resolve", "rating"]);
    // a worker may not rate
    let (st, _) = app.post(&worker, &format!("/api/v1/cases/{id}/rating"), json!({"rating": 1})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // every step is in the audit log
    let log = app.audit().await;
    let object = format!("case:{id}");
    let steps: Vec<&str> =
        log.iter().filter(|(_, o, obj)| o == "ok" && *obj == object).map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(steps, ["case_create", "case_accept", "case_resolve", "case_rate"]);
}

#[tokio::test]
async fn another_grid_and_other_roles_get_404_on_every_route() {
    let app = TestApp::spawn().await;
    let resident = app.token("resident").await;
    let v = file(&app, &resident, json!({"category": "sanitation", "description": "垃圾桶满了三天没人清"})).await;
    let id = v["id"].as_i64().unwrap();
    let w2 = app.token("worker2").await;
    let neighbour = app.add_user("neighbour", Role::Resident, "chengnan-g01").await;
    let clerk = app.token("clerk").await;
    let admin = app.token("admin").await;
    for t in [&w2, &neighbour, &clerk, &admin] {
        let (st, _) = app.get(t, &format!("/api/v1/cases/{id}")).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = act(&app, t, id, json!({"action": "accept", "version": 1})).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = app.post(t, &format!("/api/v1/cases/{id}/rating"), json!({"rating": 3})).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = app.post(t, &format!("/api/v1/cases/{id}/notes"), json!({"note": "看看"})).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let body = json!({"version": 1, "mediation": "x"});
        let (st, _) = app.send(reqwest::Method::PUT, t, &format!("/api/v1/cases/{id}/dispute"), body).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, _) = app.get(t, &format!("/api/v1/cases/{id}/photos/1")).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
    // nor in their lists
    let (_, list) = app.get(&w2, "/api/v1/cases?box=all").await;
    assert_eq!(list["total"], 0);
    let (_, list) = app.get(&neighbour, "/api/v1/cases").await;
    assert_eq!(list["total"], 0);
    // the denials are audited
    let denied = app.audit().await.into_iter().filter(|(_, o, obj)| o == "denied" && *obj == format!("case:{id}"));
    assert!(denied.count() >= 3);
    // the street officer reads it; the secretary too
    for u in ["officer", "secretary", "staff"] {
        let t = app.token(u).await;
        let (st, _) = app.get(&t, &format!("/api/v1/cases/{id}")).await;
        assert_eq!(st, StatusCode::OK, "{u}");
    }
}

/// A point inside a grid: the average of its boundary's corners.
async fn inside(app: &TestApp, token: &str, grid: &str) -> (f64, f64) {
    let (_, g) = app.get(token, &format!("/api/v1/org/{grid}")).await;
    let b = &g["node"]["boundary"];
    let ring = if b["type"] == "Polygon" { &b["coordinates"][0] } else { &b["coordinates"][0][0] };
    let pts = ring.as_array().unwrap();
    let n = (pts.len() - 1) as f64;
    let sum = pts[..pts.len() - 1]
        .iter()
        .fold((0.0, 0.0), |a, p| (a.0 + p[0].as_f64().unwrap(), a.1 + p[1].as_f64().unwrap()));
    (sum.0 / n, sum.1 / n)
}

#[tokio::test]
async fn cases_are_routed_by_place_and_unplaced_ones_are_dispatched() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let worker = app.token("worker1").await;

    // by a point in grid 2
    let (lon, lat) = inside(&app, &staff, "chengnan-g02").await;
    let v = file(
        &app,
        &staff,
        json!({"category": "facility", "description": "井盖松动", "lon": lon, "lat": lat, "channel": "phone",
               "reporter_name": "陈女士", "reporter_phone": "13912345678"}),
    )
    .await;
    assert_eq!(v["grid"], "chengnan-g02");
    assert_eq!(v["kind"], "hazard");
    assert_eq!(v["reporter_phone"], "139****5678");
    assert_eq!(v["channel"], "phone");

    // by a grid named outright
    let v = file(&app, &staff, json!({"category": "repair", "description": "水管漏水", "grid": "chengnan-g01"})).await;
    assert_eq!(v["grid"], "chengnan-g01");

    // nowhere: the dispatch list, which grid workers do not see
    let v = file(&app, &staff, json!({"category": "paperwork", "description": "开居住证明"})).await;
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["grid"], Value::Null);
    let (st, _) = app.get(&worker, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = app.get(&worker, "/api/v1/cases?box=dispatch").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, list) = app.get(&staff, "/api/v1/cases?box=dispatch").await;
    assert_eq!(ids(&list), [id]);

    // staff hand it to grid 1; the transfer needs a grid of the community
    let (st, e) =
        act(&app, &staff, id, json!({"action": "transfer", "version": 1, "note": "属一网格", "grid": "nowhere"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (st, v) =
        act(&app, &staff, id, json!({"action": "transfer", "version": 1, "note": "属一网格", "grid": "chengnan-g01"}))
            .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["grid"], "chengnan-g01");
    assert_eq!(v["state"], "submitted");
    let (st, _) = app.get(&worker, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    let (_, list) = app.get(&staff, "/api/v1/cases?box=dispatch").await;
    assert_eq!(list["total"], 0);

    // bad input: which field, and why
    for (body, field) in [
        (json!({"category": "nope", "description": "x"}), "category"),
        (json!({"category": "repair", "description": "  "}), "description"),
        (json!({"category": "repair", "description": "x", "lon": 125.0}), "lon"),
        (json!({"category": "repair", "description": "x", "channel": "portal"}), "channel"),
        (json!({"category": "repair", "description": "x", "reporter_phone": "12345"}), "phone"),
        (json!({"category": "repair", "description": "x", "residents": [999999]}), "residents"),
    ] {
        let (st, e) = app.post(&staff, "/api/v1/cases", body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
        assert!(e["error"]["field"].as_str().unwrap().contains(field), "{body}: {e}");
    }
    let (st, _) =
        app.post(&staff, "/api/v1/cases", json!({"category": "repair", "description": "x", "colour": 1})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn deadlines_remind_flag_and_escalate_through_the_job_runner() {
    let app = TestApp::spawn().await;
    let resident = app.token("resident").await;
    let worker = app.token("worker1").await;
    // gas leaks are emergencies: 30 minutes to accept, 2 hours to resolve
    let v = file(&app, &resident, json!({"category": "gas", "description": "楼道里有煤气味"})).await;
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["priority"], "emergency");

    let sweep = || async {
        app.svc.enqueue(yijia_service::jobs::CASE_DEADLINES, json!({}), None, app.svc.now()).await.unwrap();
        while app.svc.run_one_job("test").await.unwrap() {}
    };
    app.clock.advance(25 * MINUTE_MS);
    sweep().await;
    let (_, v) = app.get(&worker, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(v["timeliness"], "near");
    assert_eq!(timeline(&v), ["created", "reminder"]);
    let (_, near) = app.get(&worker, "/api/v1/cases?box=near").await;
    assert_eq!(ids(&near), [id]);
    // the resident does not see the staff's reminders
    let (_, mine) = app.get(&resident, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(timeline(&mine), ["created"]);

    app.clock.advance(10 * MINUTE_MS);
    sweep().await;
    sweep().await; // a second sweep finds nothing more to say
    let (_, v) = app.get(&worker, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(v["timeliness"], "overdue");
    assert_eq!(timeline(&v), ["created", "reminder", "overdue"]);
    let (_, late) = app.get(&worker, "/api/v1/cases?box=overdue").await;
    assert_eq!(ids(&late), [id]);
    assert_eq!(late["counts"]["overdue"], 1);

    let (st, _) = act(&app, &worker, id, json!({"action": "accept", "version": v["version"]})).await;
    assert_eq!(st, StatusCode::OK);
    // past the time to resolve: sent up to the subdistrict by the runner
    app.clock.advance(2 * 60 * MINUTE_MS);
    sweep().await;
    let (worker, officer) = (app.token("worker1").await, app.token("officer").await);
    let (_, v) = app.get(&worker, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(v["state"], "escalated");
    // both the near time and the deadline passed while nobody looked: one escalation, no late reminder
    assert_eq!(timeline(&v), ["created", "reminder", "overdue", "accept", "escalate"]);
    assert_eq!(actions(&v), Vec::<String>::new());
    // the street office has the community's time to accept it, from when it went up
    assert!(v["due_at"].is_string(), "an escalated case shows its deadline: {v}");
    assert_eq!(v["timeliness"], "on_time");
    let (_, up) = app.get(&officer, "/api/v1/cases?box=escalated").await;
    assert_eq!(ids(&up), [id]);
    let (_, seen) = app.get(&officer, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(actions(&seen), ["accept"]);
    let (st, v) = act(&app, &officer, id, json!({"action": "accept", "version": seen["version"]})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "accepted");
    assert_eq!(v["timeliness"], "on_time");

    // late again with the subdistrict: flagged, not sent up a second time
    app.clock.advance(2 * 24 * 60 * MINUTE_MS);
    sweep().await;
    let officer = app.token("officer").await;
    let (_, v) = app.get(&officer, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(v["state"], "accepted");
    assert_eq!(v["timeliness"], "overdue");
    assert_eq!(timeline(&v).last().unwrap(), "overdue");

    // the outbox carries every event, without personal data
    let mut tx = app.db.db.read().await.unwrap();
    let out = yijia_store::cases::outbox_of(&mut tx, &format!("case:{id}")).await.unwrap();
    drop(tx);
    let events: Vec<&str> = out.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "case.created",
            "case.reminder",
            "case.overdue",
            "case.accept",
            "case.escalate",
            "case.accept",
            "case.overdue"
        ]
    );
    assert!(out.iter().all(|e| !e.payload.contains("煤气") && !e.payload.contains("张大爷")));
    // the automatic escalation is in the audit log, by the system
    let log = app.audit().await;
    assert!(log.iter().any(|(a, o, obj)| a == "case_escalate" && o == "ok" && *obj == format!("case:{id}")));
}

#[tokio::test]
async fn disputes_keep_their_record_sealed_and_schedule_revisits() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let worker = app.token("worker1").await;
    let resident = app.token("resident").await;
    let v = file(
        &app,
        &staff,
        json!({"category": "neighbour", "description": "楼上漏水到楼下,两家争执", "grid": "chengnan-g01",
               "parties": "501 户王某;401 户李某"}),
    )
    .await;
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["kind"], "dispute");
    assert_eq!(v["dispute"]["parties"], "501 户王某;401 户李某");

    let (st, v) = app
        .send(
            reqwest::Method::PUT,
            &worker,
            &format!("/api/v1/cases/{id}/dispute"),
            json!({"version": v["version"], "mediation": "上门查看,双方同意共同维修", "agreement": "维修费各半"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["dispute"]["agreement"], "维修费各半");
    assert_eq!(v["dispute"]["parties"], "501 户王某;401 户李某");
    // sealed at rest
    let mut tx = app.db.db.read().await.unwrap();
    let k = yijia_store::cases::get(&mut tx, id).await.unwrap().unwrap();
    drop(tx);
    let sealed = k.dispute_sealed.unwrap();
    assert!(!sealed.contains("维修费") && !sealed.contains("王某"));
    // reading it is audited
    app.get(&worker, &format!("/api/v1/cases/{id}")).await;
    assert!(app.audit().await.iter().any(|(a, _, o)| a == "case_view" && *o == format!("case:{id}")));

    let v = app.get(&worker, &format!("/api/v1/cases/{id}")).await.1;
    let (_, v) = act(&app, &worker, id, json!({"action": "accept", "version": v["version"]})).await;
    let (st, v) =
        act(&app, &worker, id, json!({"action": "resolve", "version": v["version"], "note": "达成协议"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let revisits = v["revisits"].as_array().unwrap();
    assert_eq!(revisits.len(), 2, "7 and 30 days: {v}");
    // a resident who is not a party sees nothing of it
    let (st, _) = app.get(&resident, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

/// The probe read a dispute's parties, mediation and agreement as the
/// street officer, though it was never escalated to him; a request took
/// `parties` and answered as a dispute; a resident's `parties` vanished.
#[tokio::test]
async fn a_dispute_is_read_only_by_those_handling_it_and_parties_go_nowhere_else() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let officer = app.token("officer").await;
    let resident = app.token("resident").await;
    let body = json!({"category": "neighbour", "description": "楼上漏水到楼下", "grid": "chengnan-g01",
                      "parties": "501 户王某;401 户李某"});
    let v = file(&app, &staff, body).await;
    let id = v["id"].as_i64().unwrap();
    let (st, seen) = app.get(&officer, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(st, StatusCode::OK, "the officer still sees the case exists: {seen}");
    assert!(seen["dispute"].is_null(), "but not its record: {seen}");
    assert!(!seen.to_string().contains("王某"));
    let (st, _) = app
        .send(
            reqwest::Method::PUT,
            &officer,
            &format!("/api/v1/cases/{id}/dispute"),
            json!({"version": seen["version"], "agreement": "x"}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "nor records it");
    // escalated to the street office, it is his to handle and read
    let (_, v) =
        act(&app, &staff, id, json!({"action": "escalate", "version": seen["version"], "note": "调解不成"})).await;
    assert_eq!(v["state"], "escalated", "{v}");
    let (_, seen) = app.get(&officer, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(seen["dispute"]["parties"], "501 户王某;401 户李某");
    assert!(app.audit().await.iter().any(|(a, _, o)| a == "case_view" && *o == format!("case:{id}")));

    // a request has no parties; a resident does not record them
    let body = json!({"category": "repair", "description": "水管坏了", "parties": "张三"});
    let (st, e) = app.post(&staff, "/api/v1/cases", body).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("parties")), "{e}");
    let body = json!({"category": "neighbour", "description": "邻居噪音", "parties": "楼上 601"});
    let (st, e) = app.post(&resident, "/api/v1/cases", body).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("parties")), "{e}");
}

#[tokio::test]
async fn a_resident_reopens_within_the_window_only() {
    let app = TestApp::spawn().await;
    let resident = app.token("resident").await;
    let worker = app.token("worker1").await;
    let mut ids_ = Vec::new();
    for text in ["下水道堵了", "屋顶漏雨"] {
        let v = file(&app, &resident, json!({"category": "repair", "description": text})).await;
        let id = v["id"].as_i64().unwrap();
        let (_, v) = act(&app, &worker, id, json!({"action": "accept", "version": 1})).await;
        act(&app, &worker, id, json!({"action": "resolve", "version": v["version"], "note": "已疏通"})).await;
        ids_.push(id);
    }
    let (_, v) = app.get(&resident, &format!("/api/v1/cases/{}", ids_[0])).await;
    let (st, e) = act(&app, &resident, ids_[0], json!({"action": "reopen", "version": v["version"]})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a reason is needed: {e}");
    let (st, v) =
        act(&app, &resident, ids_[0], json!({"action": "reopen", "version": v["version"], "note": "还是堵"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "in_progress");
    assert_eq!(v["timeliness"], "on_time");
    // eight days on, the window of the second has passed
    app.clock.advance(8 * 24 * 60 * MINUTE_MS);
    let resident = app.token("resident").await;
    let (_, v) = app.get(&resident, &format!("/api/v1/cases/{}", ids_[1])).await;
    assert_eq!(actions(&v), ["close"]);
    let (st, e) =
        act(&app, &resident, ids_[1], json!({"action": "reopen", "version": v["version"], "note": "又漏了"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert!(e["error"]["message"].as_str().unwrap().contains("期限"), "{e}");
}

#[tokio::test]
async fn the_catalogue_is_the_communitys_and_sets_the_deadlines() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let worker = app.token("worker1").await;
    let resident = app.token("resident").await;
    let (st, cats) = app.get(&resident, "/api/v1/case-categories").await;
    assert_eq!(st, StatusCode::OK);
    let cats = cats.as_array().unwrap();
    assert!(cats.len() >= 15);
    let gas = cats.iter().find(|c| c["code"] == "gas").unwrap();
    assert_eq!(gas["kind"], "hazard");
    let em = gas["deadlines"].as_array().unwrap().iter().find(|d| d["priority"] == "emergency").unwrap();
    assert_eq!((em["accept_minutes"].as_i64(), em["resolve_minutes"].as_i64()), (Some(30), Some(120)));

    // the secretary adds 电梯故障 with its own deadlines
    let body = json!({"code": "lift", "kind": "hazard", "name": "电梯故障", "priority": "urgent",
                      "deadlines": [{"priority": "urgent", "accept_minutes": 15, "resolve_minutes": 240}]});
    let (st, c) = app.post(&secretary, "/api/v1/case-categories", body.clone()).await;
    assert_eq!(st, StatusCode::OK, "{c}");
    let (st, _) = app.post(&worker, "/api/v1/case-categories", body).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "grid workers do not edit the catalogue");
    let (st, e) = app
        .post(
            &secretary,
            "/api/v1/case-categories",
            json!({"code": "lift", "kind": "hazard", "name": "电梯故障", "priority": "urgent",
                   "deadlines": [{"priority": "urgent", "accept_minutes": 300, "resolve_minutes": 240}]}),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["field"], "deadlines");

    let v = file(&app, &resident, json!({"category": "lift", "description": "电梯困人"})).await;
    let created = chrono::DateTime::parse_from_rfc3339(v["created_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(v["due_at"].as_str().unwrap()).unwrap();
    assert_eq!((due - created).num_minutes(), 15);
    assert!(v["due_at"].as_str().unwrap().ends_with("+08:00"));

    // switched off, it is no longer offered
    let (st, _) = app
        .post(
            &secretary,
            "/api/v1/case-categories",
            json!({"code": "lift", "kind": "hazard", "name": "电梯故障", "priority": "urgent", "active": false}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = app.post(&resident, "/api/v1/cases", json!({"category": "lift", "description": "又坏了"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
}

#[tokio::test]
async fn a_hint_shows_open_cases_like_the_one_about_to_be_filed() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let resident = app.token("resident").await;
    let (lon, lat) = inside(&app, &staff, "chengnan-g01").await;
    let theirs =
        file(&app, &staff, json!({"category": "fire", "description": "楼道堆放纸箱", "lon": lon, "lat": lat})).await;
    let theirs = theirs["id"].as_i64().unwrap();
    let mine =
        file(&app, &resident, json!({"category": "fire", "description": "楼道堆放杂物", "lon": lon, "lat": lat})).await;
    let mine = mine["id"].as_i64().unwrap();

    // 50 m away: the same thing; the resident sees only what he may open
    let near = lat + 50.0 / 111_000.0;
    let hint_of = |token: &str| {
        let (app, token) = (&app, token.to_owned());
        async move {
            let (st, hint) =
                app.get(&token, &format!("/api/v1/cases/similar?category=fire&lon={lon}&lat={near}")).await;
            assert_eq!(st, StatusCode::OK, "{hint}");
            hint.as_array().unwrap().clone()
        }
    };
    let hint = hint_of(&resident).await;
    assert_eq!(hint.len(), 1, "not the case he may not open: {hint:?}");
    assert_eq!(hint[0]["id"], mine);
    let d = hint[0]["distance_m"].as_i64().unwrap();
    assert!((45..=55).contains(&d), "{d}");
    assert!(hint[0].get("description").is_none());
    let ids: Vec<i64> = hint_of(&staff).await.iter().map(|h| h["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [mine, theirs], "staff see both");
    // the same under the form, as the page shows it (htmx swaps it in)
    let b = app.browser_as("resident").await;
    let (st, html) = page(&b, format!("{}/cases/similar?category=fire&lon={lon}&lat={near}", app.url)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&format!("#{mine}")) && html.contains("米") && !html.contains("纸箱"), "{html}");
    assert!(!html.contains(&format!("#{theirs}")), "{html}");
    let (_, html) = page(&b, format!("{}/cases/similar?category=fire", app.url)).await;
    assert_eq!(html.trim(), "", "no place given: nothing to compare with");
    let far = lat + 500.0 / 111_000.0;
    let (_, none) = app.get(&resident, &format!("/api/v1/cases/similar?category=fire&lon={lon}&lat={far}")).await;
    assert_eq!(none, json!([]));
    let (_, none) = app.get(&resident, &format!("/api/v1/cases/similar?category=gas&lon={lon}&lat={near}")).await;
    assert_eq!(none, json!([]));
    // older than 7 days: not
    app.clock.advance(8 * 24 * 60 * MINUTE_MS);
    let resident = app.token("resident").await;
    let (_, none) = app.get(&resident, &format!("/api/v1/cases/similar?category=fire&lon={lon}&lat={near}")).await;
    assert_eq!(none, json!([]));
}

/// The probe swept grid 2 by dispute category as a resident of grid 1 and
/// read a family's quarrel down to its door.
#[tokio::test]
async fn the_hint_never_lists_a_dispute_nor_a_case_out_of_scope() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let (lon, lat) = inside(&app, &staff, "chengnan-g02").await;
    let at = |category: &str, what: &str| json!({"category": category, "description": what, "lon": lon, "lat": lat});
    file(&app, &staff, at("family", "兄弟二人因赡养老人争吵")).await;
    let fire = file(&app, &staff, at("fire", "楼道堆放纸箱")).await["id"].as_i64().unwrap();
    let hint = |token: String, category: &'static str| {
        let app = &app;
        async move {
            let (st, v) =
                app.get(&token, &format!("/api/v1/cases/similar?category={category}&lon={lon}&lat={lat}")).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            v.as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect::<Vec<_>>()
        }
    };
    for who in ["resident", "worker1"] {
        let token = app.token(who).await;
        assert_eq!(hint(token.clone(), "family").await, Vec::<i64>::new(), "{who}");
        assert_eq!(hint(token, "fire").await, Vec::<i64>::new(), "{who}: grid 2 is not theirs");
    }
    assert_eq!(hint(staff.clone(), "family").await, Vec::<i64>::new(), "a dispute never, even to staff");
    assert_eq!(hint(staff, "fire").await, [fire]);
}

#[tokio::test]
async fn the_demo_has_cases_in_every_state() {
    let app = TestApp::spawn().await;
    app.svc.fixtures().seed_demo_residents(600).await.unwrap();
    let n = app.svc.fixtures().seed_demo_cases(300).await.unwrap();
    assert_eq!(n, 300);
    assert_eq!(app.svc.fixtures().seed_demo_cases(300).await.unwrap(), 0, "once");
    let staff = app.token("staff").await;
    let (_, all) = app.get(&staff, "/api/v1/cases?box=all&per_page=500").await;
    assert_eq!(all["total"], 300);
    let items = all["items"].as_array().unwrap();
    for state in ["submitted", "accepted", "in_progress", "resolved", "closed", "rejected", "escalated"] {
        assert!(items.iter().any(|k| k["state"] == state), "a demo case is {state}");
    }
    for kind in ["request", "dispute", "hazard"] {
        assert!(items.iter().any(|k| k["kind"] == kind), "a demo case is a {kind}");
    }
    assert!(all["counts"]["overdue"].as_i64().unwrap() > 0, "some are late: {}", all["counts"]);
    assert!(items.iter().any(|k| k["rating"].is_i64()), "some are rated");
    // the street office's share: one fixed, one under way, one waiting for it
    let sent_up: Vec<&Value> = items.iter().filter(|k| k["title"].as_str().unwrap().starts_with("春城小区")).collect();
    let mut states: Vec<&str> = sent_up.iter().map(|k| k["state"].as_str().unwrap()).collect();
    states.sort_unstable();
    assert_eq!(states, ["escalated", "in_progress", "resolved"], "the insulation, the pipes, the leaning wall");
    assert!(sent_up.iter().all(|k| k["kind"] == "hazard"));
    // the sweep's reminders carry the times they fell due, not the seed's
    let mut swept = std::collections::BTreeSet::new();
    for k in items.iter().take(60) {
        let (_, v) = app.get(&staff, &format!("/api/v1/cases/{}", k["id"])).await;
        for e in v["timeline"].as_array().unwrap() {
            if e["action"] == "reminder" || e["action"] == "overdue" {
                swept.insert(e["at"].as_str().unwrap().to_owned());
            }
        }
    }
    assert!(swept.len() > 5, "reminders at many times: {swept:?}");
}

async fn page(b: &reqwest::Client, url: String) -> (StatusCode, String) {
    let r = b.get(url).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn the_pages_file_handle_and_rate_a_case() {
    let app = TestApp::spawn().await;
    let resident = app.browser_as("resident").await;
    let (st, html) = page(&resident, format!("{}/cases/new", app.url)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("value=\"repair\"") && html.contains("燃气隐患"), "the catalogue as chips");
    let csrf = csrf_of(&html);
    // nothing chosen: the form comes back with the message and what was typed
    let form = |pairs: &[(&'static str, &'static str)]| {
        pairs.iter().fold(reqwest::multipart::Form::new().text("_csrf", csrf.clone()), |f, (k, v)| f.text(*k, *v))
    };
    let r = resident
        .post(format!("{}/cases/new", app.url))
        .multipart(form(&[("description", "水管爆了")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("请选择类别") && html.contains("水管爆了"), "{html}");
    // a photo that is not one: the form comes back, nothing is filed
    let bad = form(&[("category", "utilities"), ("description", "水管爆了,楼道全是水")])
        .part("photo", reqwest::multipart::Part::bytes(b"<html>".to_vec()).file_name("x.jpg"));
    let r = resident.post(format!("{}/cases/new", app.url)).multipart(bad).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("JPEG"));
    let photo = yijia_service::photos::sample_jpeg_with_gps(40, 30);
    let good = form(&[("category", "utilities"), ("description", "水管爆了,楼道全是水")])
        .part("photo", reqwest::multipart::Part::bytes(photo).file_name("IMG_0001.jpg"));
    let r = resident.post(format!("{}/cases/new", app.url)).multipart(good).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = to.trim_start_matches("/cases/").parse().unwrap();

    let (_, html) = page(&resident, format!("{}{to}", app.url)).await;
    assert!(html.contains(&format!("/api/v1/cases/{id}/photos/")), "the photo is shown");
    let (_, mine) = app.get(&app.token("resident").await, "/api/v1/cases").await;
    assert_eq!(mine["total"], 1, "the refused form filed nothing");

    // the grid worker sees it in the inbox and accepts it with one button
    let worker = app.browser_as("worker1").await;
    let (_, inbox) = page(&worker, format!("{}/cases", app.url)).await;
    assert!(inbox.contains(&format!("/cases/{id}")), "{inbox}");
    let (_, html) = page(&worker, format!("{}/cases/{id}", app.url)).await;
    assert!(html.contains("value=\"accept\"") && !html.contains("value=\"reopen\""));
    let csrf = csrf_of(&html);
    let act = |action: &'static str, version: &'static str, note: &'static str| {
        let worker = worker.clone();
        let url = format!("{}/cases/{id}/act", app.url);
        let csrf = csrf.clone();
        async move {
            worker
                .post(url)
                .form(&[("_csrf", csrf.as_str()), ("action", action), ("version", version), ("note", note)])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(act("accept", "1", "").await.status(), StatusCode::SEE_OTHER);
    // a stale page: refused, and the page says why
    let r = act("resolve", "1", "已修好").await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("刷新"));
    assert_eq!(act("resolve", "2", "已关闭阀门并更换水管").await.status(), StatusCode::SEE_OTHER);

    // the resident rates it on the page
    let (_, html) = page(&resident, format!("{}/cases/{id}", app.url)).await;
    assert!(html.contains("已更换水管") || html.contains("更换水管"), "the timeline shows what was done");
    assert!(html.contains("name=\"rating\""));
    let csrf = csrf_of(&html);
    let r = resident
        .post(format!("{}/cases/{id}/rate", app.url))
        .form(&[("_csrf", csrf.as_str()), ("rating", "4"), ("comment", "挺快")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&resident, format!("{}/cases/{id}", app.url)).await;
    assert!(html.contains("4 ★") && !html.contains("name=\"rating\""));

    // another grid's worker: the page is not found
    let w2 = app.browser_as("worker2").await;
    let (st, _) = page(&w2, format!("{}/cases/{id}", app.url)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // the catalogue page shows the deadlines
    let (st, html) = page(&worker, format!("{}/cases/categories", app.url)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("30 分钟 / 2 小时"), "gas: 30 minutes to accept, 2 hours to resolve");
}

async fn upload(app: &TestApp, token: &str, id: i64, name: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let form = reqwest::multipart::Form::new().part(
        "photo",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()).mime_str("image/jpeg").unwrap(),
    );
    let r = app
        .client()
        .post(format!("{}/api/v1/cases/{id}/photos", app.url))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn photos_are_checked_cleaned_and_shown_only_in_scope() {
    let app = TestApp::spawn().await;
    let resident = app.token("resident").await;
    let worker = app.token("worker1").await;
    let v = file(&app, &resident, json!({"category": "structure", "description": "楼道吊顶裂开了"})).await;
    let id = v["id"].as_i64().unwrap();
    let count = |app: &TestApp| {
        let db = app.db.db.clone();
        async move {
            let mut tx = db.read().await.unwrap();
            yijia_store::cases::photos(&mut tx, id).await.unwrap().len()
        }
    };

    // a phone photo with GPS in its EXIF: kept, without it
    let raw = yijia_service::photos::sample_jpeg_with_gps(64, 32);
    let (st, v) = upload(&app, &resident, id, "IMG_2024.jpg", raw).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let p = &v["photos"][0];
    assert_eq!((p["width"].as_i64(), p["height"].as_i64()), (Some(32), Some(64)), "turned upright");
    let url = p["url"].as_str().unwrap().to_owned();
    let r = app.client().get(format!("{}{url}", app.url)).bearer_auth(&worker).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let bytes = r.bytes().await.unwrap();
    assert!(!bytes.windows(4).any(|w| w == b"Exif") && !bytes.windows(6).any(|w| w == b"GPSLAT"));

    // a lying extension: a PNG called .jpg is kept as the PNG it is
    let mut png = Vec::new();
    image::RgbImage::new(10, 10).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
    let (st, v) = upload(&app, &resident, id, "photo.jpg", png).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["photos"][1]["content_type"], "image/png");
    // a page called .jpg, a GIF, an empty file: refused by content, nothing kept
    for (name, bytes) in [
        ("photo.jpg", b"<html><script>alert(1)</script></html>".to_vec()),
        ("a.gif", b"GIF89a\x01\x00\x01\x00".to_vec()),
        ("cut.jpg", yijia_service::photos::sample_jpeg_with_gps(64, 64)[..200].to_vec()),
    ] {
        let (st, e) = upload(&app, &resident, id, name, bytes).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {e}");
        assert_eq!(e["error"]["field"], "photo");
    }
    // too big: over 10 MB is refused with a message; over the body limit, 413
    let (st, e) = upload(&app, &resident, id, "big.jpg", vec![0xFF; 11 * 1024 * 1024]).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("10 MB"));
    let (st, _) = upload(&app, &resident, id, "huge.jpg", vec![0xFF; 33 * 1024 * 1024]).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(count(&app).await, 2);

    // another grid's worker, an admin, another resident: 404 on the photo and on adding one
    let w2 = app.token("worker2").await;
    let admin = app.token("admin").await;
    let other = app.add_user("neighbour", Role::Resident, "chengnan-g01").await;
    for t in [&w2, &admin, &other] {
        let r = app.client().get(format!("{}{url}", app.url)).bearer_auth(t).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let (st, _) = upload(&app, t, id, "x.jpg", yijia_service::photos::sample_jpeg_with_gps(8, 8)).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
    }
    let r = app.client().get(format!("{}/api/v1/cases/{id}/photos/999", app.url)).bearer_auth(&worker).send().await;
    assert_eq!(r.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(count(&app).await, 2);
}

/// A case whose stored state names no state (a hand edit, a bad migration)
/// is answered with a plain 500, over the API and on its page: never shown
/// as some default state with buttons that would act on it.
#[tokio::test]
async fn a_case_with_an_unknown_stored_state_is_a_plain_500_not_a_guess() {
    let app = TestApp::spawn().await;
    let resident = app.token("resident").await;
    let worker = app.token("worker1").await;
    let v = file(&app, &resident, json!({"category": "repair", "description": "3 栋 2 单元楼道灯不亮,晚上看不见台阶"}))
        .await;
    let id = v["id"].as_i64().unwrap();
    let mut tx = app.db.db.write().await.unwrap();
    let edit = "UPDATE cases SET state = 'lost' WHERE id = $1";
    yijia_store::on_tx!(&mut tx, c => sqlx::query(edit).bind(id).execute(c).await.map(|r| r.rows_affected())).unwrap();
    tx.commit().await.unwrap();

    let (st, body) = app.get(&worker, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(body["error"]["code"], "internal");
    assert!(!body.to_string().contains("lost"), "the cause is logged, never sent: {body}");
    let (st, body) = app.get(&worker, "/api/v1/cases?box=grids").await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "a list does not skip the row either: {body}");
}
