//! Emergency broadcasts: every channel at once, past quiet hours; a banner
//! for those told until it ends; a subdistrict-wide one waits for a second
//! street officer.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::role::Role;
use yijia_testkit::providers::Provider;

use crate::helpers::TestApp;
use crate::notify::{at_hour, dispatch, rig};
use crate::tallies::exec;

async fn scalar(app: &TestApp, sql: &str, arg: &str) -> i64 {
    let mut tx = app.svc.db.read().await.unwrap();
    let n = yijia_store::on_tx!(&mut tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(arg).fetch_one(c).await.unwrap());
    tx.commit().await.unwrap();
    n
}

async fn text(app: &TestApp, sql: &str, arg: &str) -> String {
    let mut tx = app.svc.db.read().await.unwrap();
    let s = yijia_store::on_tx!(&mut tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(arg).fetch_one(c).await.unwrap());
    tx.commit().await.unwrap();
    s
}

/// Residents in the demo community, the resident account linked to one of
/// the first grid with a phone; answers the building they live in.
async fn home_building(app: &TestApp) -> i64 {
    app.svc.fixtures().seed_demo_residents(300).await.unwrap();
    let linked = scalar(
        app,
        "SELECT r.id FROM residents r JOIN org_nodes o ON o.id = r.grid_id WHERE o.code = $1 \
         AND r.household_id IS NOT NULL AND r.phone_sealed IS NOT NULL ORDER BY r.id LIMIT 1",
        "chengnan-g01",
    )
    .await;
    exec(app, "UPDATE users SET resident_id = $1 WHERE username = 'resident'", &[linked]).await;
    scalar(
        app,
        "SELECT h.building_id FROM users u JOIN residents r ON r.id = u.resident_id \
         JOIN households h ON h.id = r.household_id WHERE u.username = $1",
        "resident",
    )
    .await
}

fn heating_off(building: i64) -> Value {
    json!({"level": "1", "reason": "寒潮停暖", "body": "今晚零下25度，3号楼供暖中断，抢修中。独居老人请保暖，有困难请拨打社区电话。",
           "area": "building", "building_id": building})
}

async fn current(app: &TestApp, token: &str) -> Vec<Value> {
    let (st, v) = app.get(token, "/api/v1/broadcasts/current").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v.as_array().unwrap().clone()
}

#[tokio::test]
async fn a_building_is_warned_at_night_through_every_channel_and_the_banner_stays_until_it_ends() {
    let r = rig(Provider::Aliyun, false).await;
    let app = &r.app;
    at_hour(app, 23);
    let secretary = app.token("secretary").await;
    let resident = app.token("resident").await;
    let building = home_building(app).await;
    assert!(current(app, &resident).await.is_empty());
    // someone of the building died: his number is not texted
    let gone = "UPDATE residents SET status = 'deceased' WHERE id = (SELECT MAX(r.id) FROM residents r \
                JOIN households h ON h.id = r.household_id WHERE h.building_id = $1 AND r.phone_sealed IS NOT NULL \
                AND r.id <> (SELECT resident_id FROM users WHERE username = 'resident'))";
    assert_eq!(exec(app, gone, &[building]).await, 1);

    let (st, b) = app.post(&secretary, "/api/v1/broadcasts", heating_off(building)).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["state"], "active");
    assert_eq!(b["level_name"], "一级");
    let id = b["id"].as_i64().unwrap();
    dispatch(app).await;

    // every resident of the building with a phone got one SMS, at 23:00
    let phones = scalar(
        app,
        "SELECT COUNT(*) FROM residents r JOIN households h ON h.id = r.household_id \
         WHERE r.phone_sealed IS NOT NULL AND r.status = 'present' AND h.building_id = CAST($1 AS BIGINT)",
        &building.to_string(),
    )
    .await;
    assert!(phones > 0, "the demo building has phones");
    let key = format!("broadcast:{id}");
    let to_residents = scalar(
        app,
        "SELECT COUNT(*) FROM deliveries WHERE event_key = $1 AND channel = 'sms' AND address_ref LIKE 'resident:%'",
        &key,
    )
    .await;
    assert_eq!(to_residents, phones);
    let waiting =
        scalar(app, "SELECT COUNT(*) FROM deliveries WHERE event_key = $1 AND state NOT IN ('sent', 'failed')", &key)
            .await;
    assert_eq!(waiting, 0, "quiet hours and the daily cap do not hold an emergency");
    let (_, log) = app.get(&secretary, "/api/v1/deliveries?state=failed&per_page=500").await;
    for d in log["items"].as_array().unwrap() {
        assert!(d["error"].as_str().unwrap().contains("not a mobile number"), "only a landline fails: {d}");
    }
    let got = r.sms.got();
    let sms = scalar(app, "SELECT COUNT(*) FROM deliveries WHERE event_key = $1 AND state = 'sent'", &key).await;
    assert_eq!(got.len() as i64, sms, "{:?}", r.sms.refused());
    for g in &got {
        assert_eq!(g.template, "emergency");
        assert_eq!(g.params["level"], "一级");
        assert_eq!(g.params["reason"], "寒潮停暖");
        assert_eq!(g.params["link"], format!("https://yijia.example.cn/broadcasts/{id}"));
    }
    // the resident's banner and bell
    let banner = current(app, &resident).await;
    assert_eq!(banner.len(), 1);
    assert_eq!(banner[0]["reason"], "寒潮停暖");
    assert!(banner[0].get("deliveries").is_none(), "a resident sees no counts");
    let (_, m) = app.get(&resident, "/api/v1/messages").await;
    assert_eq!(m["items"][0]["urgent"], true, "{m}");
    let (st, one) = app.get(&resident, &format!("/api/v1/broadcasts/{id}")).await;
    assert_eq!(st, StatusCode::OK, "one told may open it: {one}");
    let page = app.browser_as("resident").await.get(format!("{}/broadcasts/banner", app.url)).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("一级预警") && html.contains("寒潮停暖"), "{html}");

    // the secretary sees how it went; ending it takes the banner away
    let (_, mine) = app.get(&secretary, &format!("/api/v1/broadcasts/{id}")).await;
    assert!(mine["told_in_app"].as_i64().unwrap() >= 1, "{mine}");
    assert!(mine["deliveries"].as_array().unwrap().iter().any(|d| d["state"] == "sent"), "{mine}");
    // (one more lost his phone since)
    exec(
        app,
        "UPDATE residents SET phone_sealed = NULL WHERE id = (SELECT MIN(r.id) FROM residents r \
         JOIN households h ON h.id = r.household_id WHERE h.building_id = $1 \
         AND NOT EXISTS (SELECT 1 FROM users u WHERE u.resident_id = r.id))",
        &[building],
    )
    .await;
    let nobody = scalar(
        app,
        "SELECT COUNT(*) FROM residents r JOIN households h ON h.id = r.household_id WHERE r.phone_sealed IS NULL \
         AND h.building_id = CAST($1 AS BIGINT) AND NOT EXISTS (SELECT 1 FROM users u WHERE u.resident_id = r.id)",
        &building.to_string(),
    )
    .await;
    let (_, mine) = app.get(&secretary, &format!("/api/v1/broadcasts/{id}")).await;
    assert!(nobody > 0);
    assert_eq!(mine["unreachable"].as_i64(), Some(nobody), "those no channel reaches are counted: {mine}");
    // and listed by name and home, for the grid's workers to knock on their doors
    let (st, list) = app.get(&secretary, &format!("/api/v1/broadcasts/{id}/unreachable")).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let list = list.as_array().unwrap();
    assert_eq!(list.len() as i64, nobody, "{list:?}");
    assert!(
        list.iter().all(|p| p["address"].as_str().unwrap().contains("号楼") && p["grid_name"] == "第1网格"),
        "{list:?}"
    );
    let worker = app.token("worker1").await;
    assert_eq!(app.get(&worker, &format!("/api/v1/broadcasts/{id}/unreachable")).await.1, json!(list));
    let other = app.token("worker2").await;
    assert_eq!(app.get(&other, &format!("/api/v1/broadcasts/{id}/unreachable")).await.1, json!([]), "not her grid");
    assert_eq!(app.get(&resident, &format!("/api/v1/broadcasts/{id}/unreachable")).await.0, StatusCode::NOT_FOUND);
    let page =
        app.browser_as("worker1").await.get(format!("{}/broadcasts/{id}/unreachable", app.url)).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains(list[0]["name"].as_str().unwrap()) && html.contains("需上门告知"), "{html}");
    let reads = app.audit().await.into_iter().filter(|(a, o, obj)| a == "unreachable_read" && o == "ok" && *obj == key);
    assert_eq!(reads.count(), 4, "every list of names read is audited");
    let (st, ended) = app.post(&secretary, &format!("/api/v1/broadcasts/{id}/end"), json!({})).await;
    assert_eq!((st, ended["state"].as_str()), (StatusCode::OK, Some("ended")), "{ended}");
    assert!(current(app, &resident).await.is_empty());
    let (st, _) = app.post(&secretary, &format!("/api/v1/broadcasts/{id}/end"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let audit = app.audit().await;
    for action in ["broadcast_send", "broadcast_end"] {
        assert!(audit.iter().any(|(a, o, obj)| a == action && o == "ok" && *obj == key), "{action}");
    }
}

#[tokio::test]
async fn a_broadcast_is_checked_field_by_field_and_nothing_is_kept_on_error() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let building = home_building(&app).await;
    let with = |patch: Value| {
        let mut b = heating_off(building);
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    for (body, field) in [
        (with(json!({"reason": "一二三四五六七八九十一二三四五六七"})), "reason"),
        (with(json!({"reason": "  "})), "reason"),
        (with(json!({"body": ""})), "body"),
        (with(json!({"building_id": 999_999})), "building_id"),
        (with(json!({"area": "estate", "building_id": null})), "estate_id"),
        (with(json!({"area": "grids", "grids": ["no-such-grid"]})), "grids"),
        (with(json!({"area": "grids", "grids": []})), "grids"),
        (with(json!({"area": "subdistrict"})), "org"),
    ] {
        let (st, v) = app.post(&secretary, "/api/v1/broadcasts", body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert_eq!(v["error"]["field"], field, "{body}: {v}");
    }
    let (st, v) = app.post(&secretary, "/api/v1/broadcasts", with(json!({"level": "4"}))).await;
    assert_eq!((st, &v["error"]["field"]), (StatusCode::BAD_REQUEST, &json!("level")), "{v}");
    let (st, list) = app.get(&secretary, "/api/v1/broadcasts").await;
    assert_eq!((st, list.as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "nothing kept: {list}");

    // a grid worker does not send; a resident does not list
    let worker = app.token("worker1").await;
    let (st, _) = app.post(&worker, "/api/v1/broadcasts", heating_off(building)).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let resident = app.token("resident").await;
    let (st, _) = app.get(&resident, "/api/v1/broadcasts").await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // one not told of it, outside its area, gets a 404 and an audited denial
    let (_, b) = app.post(&secretary, "/api/v1/broadcasts", heating_off(building)).await;
    let id = b["id"].as_i64().unwrap();
    let (st, _) = app.get(&resident, &format!("/api/v1/broadcasts/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "not yet told: the dispatcher has not run");
    let denied = app.audit().await;
    assert!(
        denied.iter().any(|(a, o, obj)| a == "broadcast_read" && o == "denied" && *obj == format!("broadcast:{id}"))
    );
}

#[tokio::test]
async fn a_subdistrict_wide_broadcast_goes_only_when_a_second_officer_confirms() {
    let r = rig(Provider::Tencent, false).await;
    let app = &r.app;
    at_hour(app, 12);
    home_building(app).await;
    let officer = app.token("officer").await;
    let subdistrict = text(
        app,
        "SELECT o.code FROM grants g JOIN users u ON u.id = g.user_id JOIN org_nodes o ON o.id = g.org_id \
         WHERE u.username = $1 AND g.role = 'street_officer'",
        "officer",
    )
    .await;
    let body = json!({"level": "2", "reason": "暴雪预警", "body": "明日有暴雪，请减少外出。", "area": "subdistrict"});
    let (st, b) = app.post(&officer, "/api/v1/broadcasts", body).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["state"], "awaiting");
    assert_eq!(b["can_confirm"], false, "not by the one who sent it");
    let id = b["id"].as_i64().unwrap();
    dispatch(app).await;
    assert!(r.sms.got().is_empty(), "nothing goes before it is confirmed");

    let (st, v) = app.post(&officer, &format!("/api/v1/broadcasts/{id}/confirm"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let secretary = app.token("secretary").await;
    let (st, _) = app.post(&secretary, &format!("/api/v1/broadcasts/{id}/confirm"), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "a secretary does not confirm a subdistrict's broadcast");

    let second = app.add_user("officer2", Role::StreetOfficer, &subdistrict).await;
    let (_, seen) = app.get(&second, &format!("/api/v1/broadcasts/{id}")).await;
    assert_eq!(seen["can_confirm"], true, "{seen}");
    let (st, v) = app.post(&second, &format!("/api/v1/broadcasts/{id}/confirm"), json!({})).await;
    assert_eq!((st, v["state"].as_str()), (StatusCode::OK, Some("active")), "{v}");
    assert_eq!(v["confirmed_by"], "officer2 测试");
    dispatch(app).await;
    let got = r.sms.got();
    assert!(!got.is_empty());
    assert!(got.iter().all(|g| g.template == "emergency" && g.params[0] == "二级"), "{:?}", &got[..1]);
    let (st, again) = app.post(&second, &format!("/api/v1/broadcasts/{id}/confirm"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{again}");
    let audit = app.audit().await;
    assert!(audit.iter().any(|(a, o, _)| a == "broadcast_confirm" && o == "ok"));
}

#[tokio::test]
async fn a_rollcall_reaches_every_vulnerable_person_and_closes_when_all_are_reached() {
    let app = TestApp::spawn().await;
    home_building(&app).await;
    let secretary = app.token("secretary").await;
    let worker = app.token("worker1").await;
    let alone = "SELECT COUNT(*) FROM residents r JOIN org_nodes o ON o.id = r.grid_id JOIN resident_categories k \
                 ON k.resident_id = r.id AND k.category = 'elderly_alone' WHERE o.code LIKE $1";
    let total = scalar(&app, alone, "chengnan-g%").await;
    let in_grid1 = scalar(&app, alone, "chengnan-g01").await;
    assert!(total >= 5 && in_grid1 >= 1, "the demo has elderly people living alone: {total}, {in_grid1}");
    // the resident account answers for himself: one of them
    let own = scalar(
        &app,
        "SELECT r.id FROM residents r JOIN org_nodes o ON o.id = r.grid_id JOIN resident_categories k \
         ON k.resident_id = r.id AND k.category = 'elderly_alone' WHERE o.code = $1 ORDER BY r.id DESC LIMIT 1",
        "chengnan-g01",
    )
    .await;
    exec(&app, "UPDATE users SET resident_id = $1 WHERE username = 'resident'", &[own]).await;
    let resident = app.token("resident").await;

    let body = json!({"level": "1", "reason": "寒潮停暖", "body": "请各位网格员逐户确认独居老人平安。",
                      "area": "community", "rollcall": ["elderly_alone"]});
    let (st, b) = app.post(&secretary, "/api/v1/broadcasts", body).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    assert_eq!(b["rollcall"], true);
    let id = b["id"].as_i64().unwrap();
    dispatch(&app).await;
    let board = |token: String| {
        let app = &app;
        async move {
            let (st, v) = app.get(&token, &format!("/api/v1/broadcasts/{id}/rollcall")).await;
            assert_eq!(st, StatusCode::OK, "{v}");
            v
        }
    };
    let v = board(secretary.clone()).await;
    assert_eq!((v["all"]["total"].as_i64(), v["all"]["pending"].as_i64()), (Some(total), Some(total)), "{v}");
    assert_eq!(v["all"]["percent"], 0);
    assert_eq!(v["categories"], json!(["独居老人"]));

    // the worker's list: her grid's, each of them living alone
    let (st, people) = app.get(&worker, &format!("/api/v1/broadcasts/{id}/rollcall/people")).await;
    assert_eq!(st, StatusCode::OK, "{people}");
    let people = people.as_array().unwrap().clone();
    assert_eq!(people.len() as i64, in_grid1);
    assert!(people.iter().all(|p| p["categories"] == json!(["独居老人"]) && p["grid_name"] == "第1网格"), "{people:?}");
    let (_, everyone) = app.get(&secretary, &format!("/api/v1/broadcasts/{id}/rollcall/people")).await;
    let everyone = everyone.as_array().unwrap().clone();
    assert_eq!(everyone.len() as i64, total);
    let ids: Vec<i64> = everyone.iter().map(|p| p["resident_id"].as_i64().unwrap()).filter(|r| *r != own).collect();
    let answer = |who: i64, answer: &str| {
        let (app, worker) = (&app, secretary.clone());
        let body = json!({"resident_id": who, "answer": answer, "note": "家里暖气不热，老人咳嗽"});
        async move { app.post(&worker, &format!("/api/v1/broadcasts/{id}/rollcall/answer"), body).await }
    };
    let (st, a) = answer(ids[0], "safe").await;
    assert_eq!((st, a["case_id"].clone()), (StatusCode::OK, Value::Null), "{a}");
    let (st, help) = answer(ids[1], "needs_help").await;
    assert_eq!(st, StatusCode::OK, "{help}");
    let case = help["case_id"].as_i64().expect("an emergency case opens");
    let (_, k) = app.get(&secretary, &format!("/api/v1/cases/{case}")).await;
    assert_eq!(k["priority"], "emergency", "{k}");
    assert!(k["address"].as_str().is_some_and(|a| !a.is_empty()), "the place is filled in: {k}");
    let (_, again) = answer(ids[1], "needs_help").await;
    assert_eq!(again["case_id"].as_i64(), Some(case), "no second case for the same person");
    let (st, _) = answer(ids[2], "not_reached").await;
    assert_eq!(st, StatusCode::OK);
    let v = board(secretary.clone()).await;
    assert_eq!(v["all"]["not_reached"], 1, "{v}");
    let (st, _) = answer(ids[2], "safe").await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = answer(ids[0], "pending").await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("answer")), "{v}");

    // 我平安, from the resident himself
    let (_, seen) = app.get(&resident, &format!("/api/v1/broadcasts/{id}")).await;
    assert_eq!(seen["answer_for"][0]["own"], true, "{seen}");
    let (st, v) = app.post(&resident, &format!("/api/v1/broadcasts/{id}/safe"), json!({})).await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    let (st, _) = app.post(&resident, &format!("/api/v1/broadcasts/{id}/safe"), json!({"resident_id": ids[3]})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "not his household");

    // the rest, then the board stands at 100 % and the roll-call is closed
    for who in &ids[3..] {
        assert_eq!(answer(*who, "safe").await.0, StatusCode::OK);
    }
    let v = board(secretary.clone()).await;
    assert_eq!((v["all"]["percent"].as_i64(), v["all"]["needs_help"].as_i64()), (Some(100), Some(1)), "{v}");
    assert!(v["closed_at"].is_string(), "{v}");
    let (_, p) = app.get(&secretary, &format!("/api/v1/broadcasts/{id}/rollcall/people?state=safe")).await;
    assert_eq!(p.as_array().unwrap().len() as i64, total - 1);
    assert!(p.as_array().unwrap().iter().any(|x| x["answered_as"] == "本人"), "{p}");
    let audit = app.audit().await;
    for action in ["rollcall_open", "rollcall_answer", "rollcall_safe", "rollcall_read"] {
        assert!(audit.iter().any(|(a, o, _)| a == action && o == "ok"), "{action} audited");
    }
    assert!(audit.iter().any(|(a, o, _)| a == "rollcall_safe" && o == "denied"));

    // two answers of "needs help" at once open one case, not two
    let cases = "SELECT COUNT(*) FROM cases WHERE title LIKE $1";
    let before = scalar(&app, cases, "报平安%").await;
    let (x, y) = tokio::join!(answer(ids[0], "needs_help"), answer(ids[0], "needs_help"));
    assert_eq!((x.0, y.0), (StatusCode::OK, StatusCode::OK));
    assert_eq!(scalar(&app, cases, "报平安%").await, before + 1, "{} {}", x.1, y.1);
    // one who needs help is not turned safe by a button at home
    assert_eq!(answer(own, "needs_help").await.0, StatusCode::OK);
    let (st, v) = app.post(&resident, &format!("/api/v1/broadcasts/{id}/safe"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let (_, seen) = app.get(&resident, &format!("/api/v1/broadcasts/{id}")).await;
    assert_eq!(seen["answer_for"][0]["state"], "needs_help", "{seen}");
}

#[tokio::test]
async fn a_broadcast_ended_before_it_went_out_sends_nothing_more() {
    let r = rig(Provider::Aliyun, false).await;
    let app = &r.app;
    at_hour(app, 12);
    let secretary = app.token("secretary").await;
    let building = home_building(app).await;
    // ended before the dispatcher saw it: nobody is told
    let (_, b) = app.post(&secretary, "/api/v1/broadcasts", heating_off(building)).await;
    let id = b["id"].as_i64().unwrap();
    app.post(&secretary, &format!("/api/v1/broadcasts/{id}/end"), json!({})).await;
    dispatch(app).await;
    assert!(r.sms.got().is_empty());
    // ended while its SMS were queued: they are not sent
    let (_, b) = app.post(&secretary, "/api/v1/broadcasts", heating_off(building)).await;
    let id = b["id"].as_i64().unwrap();
    app.svc.fan_out().await.unwrap();
    let queued = scalar(app, "SELECT COUNT(*) FROM deliveries WHERE event_key = $1", &format!("broadcast:{id}")).await;
    assert!(queued > 0);
    app.post(&secretary, &format!("/api/v1/broadcasts/{id}/end"), json!({})).await;
    dispatch(app).await;
    assert!(r.sms.got().is_empty(), "a mistake ended at once reaches nobody");
}
