//! What else people are told: a resident of her item ready, her notices
//! (when they are published), a vote on her building and tomorrow's
//! appointment; staff each morning of what is late, near and waiting, and
//! on Mondays of the visits overdue. Each only while it still holds, and
//! once.

use chrono::{Datelike, Days, Weekday};
use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::time::{HOUR_MS, rfc3339, start_of_day, to_local};
use yijia_testkit::providers::Provider;

use crate::helpers::TestApp;
use crate::me::{link, resident_token};
use crate::notify::{at_hour, dispatch, rig};
use crate::shop::{award, item};
use crate::tallies::exec;

/// A resident of 8号楼 in grid 1 with a phone and an account: (record, building, token).
async fn neighbour(app: &TestApp, name: &str, phone: &str, door: &str) -> (i64, i64, String) {
    let staff = app.token("staff").await;
    let body = json!({"name": name, "grid": "chengnan-g01", "relation": "户主", "residence": "permanent", "phone": phone,
        "household": {"estate": "丁香花园三期", "building": "8号楼", "entrance": "1单元", "door": door}});
    let (st, r) = app.post(&staff, "/api/v1/residents", body).await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let building = r["address"]["building_id"].as_i64().unwrap();
    let (id, token) = link(app, r["id"].as_i64().unwrap(), phone).await;
    (id, building, token)
}

/// One's messages, newest first, logged in afresh (the clock moves on past
/// sessions): `who` is a phone for a resident, else a username.
async fn messages(app: &TestApp, who: &str) -> Vec<Value> {
    let token = match who.starts_with('1') {
        true => resident_token(app, who).await,
        false => app.token(who).await,
    };
    let (st, v) = app.get(&token, "/api/v1/messages").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().clone()
}

fn topics(list: &[Value]) -> Vec<&str> {
    list.iter().map(|m| m["topic"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_resident_hears_of_her_item_ready_her_notices_when_published_and_a_vote_on_her_building() {
    let r = rig(Provider::Aliyun, false).await;
    let app = &r.app;
    let (staff, clerk, secretary) = (app.token("staff").await, app.token("clerk").await, app.token("secretary").await);
    let (zhang, building, me) = neighbour(app, "张大爷", "13812345678", "101").await;
    neighbour(app, "李奶奶", "13912345678", "102").await;
    dispatch(app).await;
    let before = r.sms.got().len();

    // an item he redeems waits for him: one SMS and the bell, leading to his shop page
    award(app, &staff, zhang, 500).await;
    let rice = item(app, &clerk, "大米 5kg", 200, 5, None).await;
    let (st, v) = app.post(&me, "/api/v1/me/shop/redemptions", json!({"client_id": "phone-1", "item_id": rice})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    dispatch(app).await;
    let got = r.sms.got();
    assert_eq!(got.len(), before + 1, "{got:?}");
    let sms = got.last().unwrap();
    assert_eq!((sms.phone.as_str(), sms.template.as_str()), ("13812345678", "redemption_ready"));
    assert_eq!(sms.params, json!({"link": "https://yijia.example.cn/me/shop"}), "no item, no code, no name");
    let mine = messages(app, "13812345678").await;
    assert_eq!(topics(&mine), ["redemption_ready"]);
    assert_eq!(mine[0]["link"], "/me/shop");

    // one handed over at the counter before the dispatcher came is not told
    let body = json!({"client_id": "counter-1", "resident_id": zhang, "item_id": rice});
    let (st, v) = app.post(&clerk, "/api/v1/shop/redemptions", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["redemption"]["id"].as_i64().unwrap();
    let (st, v) = app.post(&clerk, &format!("/api/v1/shop/redemptions/{id}/handover"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    dispatch(app).await;
    assert_eq!(r.sms.got().len(), before + 1);
    assert_eq!(messages(app, "13812345678").await.len(), 1);

    // a notice for his building posted for two hours on: told then, in the app only
    let from = rfc3339(app.svc.now() + 2 * HOUR_MS);
    let body =
        json!({"title": "8号楼停水通知", "body": "明日9点至12点停水", "building_id": building, "publish_from": from});
    let (st, n) = app.post(&secretary, "/api/v1/notices", body).await;
    assert_eq!(st, StatusCode::CREATED, "{n}");
    let notice = n["id"].as_i64().unwrap();
    let (st, v) =
        app.post(&secretary, "/api/v1/notices", json!({"title": "二网格", "body": "x", "grid": "chengnan-g02"})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    dispatch(app).await;
    assert_eq!(messages(app, "13812345678").await.len(), 1, "not yet published, not his grid");
    app.clock.advance(2 * HOUR_MS);
    dispatch(app).await;
    let mine = messages(app, "13812345678").await;
    assert_eq!(topics(&mine), ["notice", "redemption_ready"]);
    assert_eq!(mine[0]["link"], format!("/me/notices/{notice}"));
    assert_eq!(topics(&messages(app, "13912345678").await), ["notice"], "his neighbour too");
    assert_eq!(r.sms.got().len(), before + 1, "notices go by SMS only to those who ask");

    // a withdrawn notice tells nobody
    let secretary = app.token("secretary").await;
    let from = rfc3339(app.svc.now() + HOUR_MS);
    let body = json!({"title": "撤回的通知", "body": "x", "building_id": building, "publish_from": from});
    let (_, n) = app.post(&secretary, "/api/v1/notices", body).await;
    let (st, v) = app.post(&secretary, &format!("/api/v1/notices/{}/withdraw", n["id"]), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    app.clock.advance(HOUR_MS);
    dispatch(app).await;
    assert_eq!(messages(app, "13812345678").await.len(), 2);

    // the repair on his building is finished: the vote is open
    let secretary = app.token("secretary").await;
    let body = json!({"title": "丁香花园三期修缮", "buildings": [building], "cases": [], "quorum": 2});
    let (st, p) = app.post(&secretary, "/api/v1/projects", body).await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    let project = p["id"].as_i64().unwrap();
    // (the money and the work are the projects tests' story)
    exec(app, "UPDATE projects SET stage = 'working' WHERE id = $1", &[project]).await;
    let (st, v) = app.post(&secretary, &format!("/api/v1/projects/{project}/stage"), json!({"to": "voting"})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    dispatch(app).await;
    let mine = messages(app, "13812345678").await;
    assert_eq!(topics(&mine)[0], "vote_open");
    assert_eq!(mine[0]["link"], "/me/projects");
    assert!(mine[0]["text"].as_str().unwrap().contains("验收投票"), "{}", mine[0]);
    assert_eq!(topics(&messages(app, "13912345678").await)[0], "vote_open");
    assert!(messages(app, "resident").await.is_empty(), "a resident elsewhere hears of none of it");

    // told once: the same events again add nothing
    exec(app, "UPDATE outbox SET told_at = NULL", &[]).await;
    dispatch(app).await;
    assert_eq!(messages(app, "13812345678").await.len(), 3);
    assert_eq!(r.sms.got().len(), before + 1);
    assert_eq!(r.sms.refused(), Vec::<String>::new());
}

#[tokio::test]
async fn an_appointment_is_told_the_evening_before_once_and_not_if_cancelled() {
    let r = rig(Provider::Tencent, false).await;
    let app = &r.app;
    let clerk = app.token("clerk").await;
    let body =
        json!({"name": "春城驿家党群服务站", "address": "丁香花园三期南门", "hours": "1-7 08:00-11:00,14:00-17:00"});
    let (st, station) = app.post(&clerk, "/api/v1/stations", body).await;
    assert_eq!(st, StatusCode::CREATED, "{station}");
    let services = format!("/api/v1/stations/{}/services", station["id"]);
    let bp = json!({"name": "量血压", "by_appointment": true, "slot_minutes": 20, "capacity": 2});
    let (st, v) = app.post(&clerk, &services, bp).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let book = format!("/api/v1/station-services/{}/appointments", v["id"]);
    let (_, _, zhang) = neighbour(app, "张大爷", "13812345678", "101").await;
    let (_, _, li) = neighbour(app, "李奶奶", "13912345678", "102").await;
    let (_, _, wang) = neighbour(app, "王叔", "13712345678", "201").await;
    dispatch(app).await;
    let before = r.sms.got().len();

    let tomorrow = to_local(app.svc.now()).date_naive().checked_add_days(Days::new(1)).unwrap();
    let nine = start_of_day(tomorrow) + 9 * HOUR_MS;
    let (st, v) = app.post(&zhang, &book, json!({"starts_at": rfc3339(nine)})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, cancelled) = app.post(&li, &book, json!({"starts_at": rfc3339(nine)})).await;
    assert_eq!(st, StatusCode::CREATED, "{cancelled}");
    let (st, v) = app.post(&li, &format!("/api/v1/appointments/{}/cancel", cancelled["id"]), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = app.post(&wang, &book, json!({"starts_at": rfc3339(nine + 24 * HOUR_MS + 20 * 60_000)})).await;
    assert_eq!(st, StatusCode::CREATED, "the day after: {v}");

    at_hour(app, 18);
    let told = app.svc.tell_appointments_tomorrow().await.unwrap();
    assert_eq!(told.messages, 1, "{told:?}");
    dispatch(app).await;
    let got = r.sms.got();
    assert_eq!(got.len(), before + 1, "{got:?}");
    let sms = got.last().unwrap();
    assert_eq!((sms.phone.as_str(), sms.template.as_str()), ("13812345678", "appointment_tomorrow"));
    let when = format!("{} 09:00", tomorrow.format("%m-%d"));
    assert_eq!(sms.params, json!([when, "https://yijia.example.cn/me/stations"]), "Tencent's list, in order");
    let mine = messages(app, "13812345678").await;
    assert_eq!(topics(&mine), ["appointment_tomorrow"]);
    assert!(mine[0]["text"].as_str().unwrap().contains(&when), "{}", mine[0]);
    assert!(messages(app, "13912345678").await.is_empty() && messages(app, "13712345678").await.is_empty());

    // the job run again (a second server) tells nobody twice
    assert_eq!(app.svc.tell_appointments_tomorrow().await.unwrap().queued, 0);
    dispatch(app).await;
    assert_eq!(r.sms.got().len(), before + 1);
}

async fn count(app: &TestApp, sql: &str, arg: &str) -> i64 {
    let mut tx = app.svc.db.read().await.unwrap();
    let n = yijia_store::on_tx!(&mut tx, c => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(arg).fetch_one(c).await.unwrap());
    tx.commit().await.unwrap();
    n
}

#[tokio::test]
async fn staff_hear_each_morning_what_is_late_near_and_waiting_and_on_mondays_the_visits_overdue() {
    let r = rig(Provider::Aliyun, false).await;
    let app = &r.app;
    app.svc.fixtures().seed_demo_residents(300).await.unwrap();
    let secretary = app.token("secretary").await;
    let body = json!({"category": "repair", "description": "楼道灯坏了", "grid": "chengnan-g01", "channel": "walk_in",
                      "reporter_name": "王奶奶"});
    let (st, v) = app.post(&secretary, "/api/v1/cases", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // an export of everyone's records waits for a second approver
    let body = json!({"community": "chengnan", "reason": "报送街道年度统计名单"});
    let (st, v) = app.post(&secretary, "/api/v1/exports", body).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::CREATED, Some("pending")), "{v}");
    dispatch(app).await;
    let seen = |list: Vec<Value>| list.len();
    let (w0, s0, o0) = (
        seen(messages(app, "worker1").await),
        seen(messages(app, "secretary").await),
        seen(messages(app, "officer").await),
    );

    // the first Monday more than a week on, at eight: the case is late by then
    let mut day = to_local(app.svc.now()).date_naive().checked_add_days(Days::new(8)).unwrap();
    while day.weekday() != Weekday::Mon {
        day = day.succ_opt().unwrap();
    }
    app.clock.set(start_of_day(day) + 13 * HOUR_MS);
    assert_eq!(app.svc.tell_morning().await.unwrap().messages, 0, "after noon it waits for tomorrow");
    app.clock.set(start_of_day(day) + 8 * HOUR_MS);
    app.svc.tell_morning().await.unwrap();

    let yesterday = day.pred_opt().unwrap().to_string();
    let overdue = count(
        app,
        "SELECT COUNT(*) FROM care_plans p JOIN org_nodes o ON o.id = p.grid_id \
         WHERE o.code = 'chengnan-g01' AND p.due_on IS NOT NULL AND p.due_on <= $1",
        &yesterday,
    )
    .await;
    let everywhere =
        count(app, "SELECT COUNT(*) FROM care_plans WHERE due_on IS NOT NULL AND due_on <= $1", &yesterday).await;
    assert!(overdue > 0, "the demo's plans fall due within a week");

    let fresh = |list: Vec<Value>, n: usize| list[..list.len() - n].to_vec();
    let w = fresh(messages(app, "worker1").await, w0);
    assert_eq!(topics(&w), ["visits_overdue", "daily_digest"], "{w:?}");
    assert!(w[0]["text"].as_str().unwrap().contains(&format!("{overdue}人")), "{}", w[0]);
    assert_eq!(w[0]["link"], "/walk");
    let text = w[1]["text"].as_str().unwrap();
    assert!(
        text.contains("超期1件") && text.contains("待审批0项") && text.contains(&format!("未走访{overdue}人")),
        "{text}"
    );
    let s = fresh(messages(app, "secretary").await, s0);
    assert_eq!(topics(&s), ["daily_digest"], "a secretary's Monday has no walk: {s:?}");
    let text = s[0]["text"].as_str().unwrap();
    assert!(text.contains("超期1件") && text.contains("待审批0项"), "her own export is not hers to approve: {text}");
    assert!(text.contains(&format!("未走访{everywhere}人")), "the whole community: {text}");
    let o = fresh(messages(app, "officer").await, o0);
    assert!(o[0]["text"].as_str().unwrap().contains("待审批1项"), "the officer approves the export: {o:?}");

    // once a day, however often the job runs
    assert_eq!(app.svc.tell_morning().await.unwrap().queued, 0);
    assert_eq!(messages(app, "worker1").await.len(), w0 + 2);
    dispatch(app).await;
    assert_eq!(r.sms.refused(), Vec::<String>::new());
}

#[tokio::test]
async fn notices_chosen_daily_ring_the_bell_at_once_and_come_as_one_sms_next_morning() {
    let r = rig(Provider::Aliyun, false).await;
    let app = &r.app;
    let (_, building, me) = neighbour(app, "张大爷", "13812345678", "101").await;
    dispatch(app).await;
    let before = r.sms.got().len();
    let body = json!({"topics": [{"topic": "notice", "channels": ["in_app", "sms"], "digest": true}]});
    let (st, p) = app.send(reqwest::Method::PUT, &me, "/api/v1/me/notifications", body).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    // tomorrow's appointment in the next morning's summary would come too late
    let late = json!({"topics": [{"topic": "appointment_tomorrow", "channels": ["sms"], "digest": true}]});
    let (st, v) = app.send(reqwest::Method::PUT, &me, "/api/v1/me/notifications", late).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("topics[0].digest")), "{v}");
    let chosen = p["topics"].as_array().unwrap().iter().find(|t| t["topic"] == "notice").unwrap().clone();
    assert_eq!((chosen["digest"].clone(), chosen["channels"].clone()), (json!(true), json!(["in_app", "sms"])));

    let secretary = app.token("secretary").await;
    for title in ["8号楼停水通知", "8号楼电梯检修"] {
        let (st, n) = app
            .post(&secretary, "/api/v1/notices", json!({"title": title, "body": "x", "building_id": building}))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{n}");
    }
    dispatch(app).await;
    assert_eq!(r.sms.got().len(), before, "no SMS at once");
    assert_eq!(topics(&messages(app, "13812345678").await), ["notice", "notice"], "the bell at once");

    // the next morning at eight: one SMS for both, once
    let tomorrow = to_local(app.svc.now()).date_naive().checked_add_days(Days::new(1)).unwrap();
    app.clock.set(start_of_day(tomorrow) + 8 * HOUR_MS);
    app.svc.tell_morning().await.unwrap();
    dispatch(app).await;
    let got = r.sms.got();
    assert_eq!(got.len(), before + 1, "{got:?}");
    let sms = got.last().unwrap();
    assert_eq!((sms.phone.as_str(), sms.template.as_str()), ("13812345678", "summary"));
    assert_eq!(sms.params, json!({"count": "2", "link": "https://yijia.example.cn/messages"}));
    assert_eq!(
        topics(&messages(app, "13812345678").await),
        ["notice", "notice"],
        "the summary is not a message itself"
    );
    assert_eq!(app.svc.tell_morning().await.unwrap().queued, 0);

    // read them, and the morning after says nothing
    let me = resident_token(app, "13812345678").await;
    let (st, v) = app.post(&me, "/api/v1/messages/read", json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    app.clock.advance(24 * HOUR_MS);
    assert_eq!(app.svc.tell_morning().await.unwrap().queued, 0);
    dispatch(app).await;
    assert_eq!(r.sms.got().len(), before + 1);
}

#[tokio::test]
async fn those_who_decide_hear_when_something_is_asked_of_them_but_not_the_asker_nor_once_it_is_decided() {
    let r = rig(Provider::Aliyun, false).await;
    let app = &r.app;
    let (staff, secretary, officer) =
        (app.token("staff").await, app.token("secretary").await, app.token("officer").await);
    let (_, building, _) = neighbour(app, "张大爷", "13812345678", "101").await;
    dispatch(app).await;
    let before = |who: &'static str| async move { messages(app, who).await.len() };
    let (s0, o0, st0) = (before("secretary").await, before("officer").await, before("staff").await);

    // money asked of the street officer: he hears of it, with a link to 待我审批
    let (st, p) =
        app.post(&secretary, "/api/v1/projects", json!({"title": "8号楼屋面防水", "buildings": [building]})).await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    let fundings = format!("/api/v1/projects/{}/fundings", p["id"]);
    let (st, v) = app.post(&secretary, &fundings, json!({"source": "city", "asked": 3_000_000})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // an export in full asked by staff: the secretary and the officer may decide it
    let body = json!({"community": "chengnan", "reason": "报送街道年度统计名单"});
    let (st, v) = app.post(&staff, "/api/v1/exports", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    dispatch(app).await;

    let o = messages(app, "officer").await;
    assert_eq!(o.len(), o0 + 2, "{o:?}");
    assert_eq!(topics(&o[..2]), ["approval_asked", "approval_asked"]);
    let texts: Vec<&str> = o[..2].iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert!(texts.contains(&"有一项资金申请等您审批"), "{texts:?}");
    assert!(texts.contains(&"有一项完整信息导出等您审批"), "{texts:?}");
    assert_eq!(o[0]["link"], "/approvals");
    let s = messages(app, "secretary").await;
    assert_eq!(topics(&s[..s.len() - s0]), ["approval_asked"], "the export, not her own application: {s:?}");
    assert_eq!(messages(app, "staff").await.len(), st0, "not the one who asked");

    // one decided before the dispatcher comes to it tells nobody
    let (_, v) = app.post(&secretary, &fundings, json!({"source": "residents", "asked": 100_000})).await;
    let id = v["fundings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["status"] == "applied" && f["asked"] == 100_000)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (st, v) = app
        .post(&officer, &format!("/api/v1/fundings/{id}/decision"), json!({"approve": false, "note": "居民自筹另议"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    dispatch(app).await;
    assert_eq!(messages(app, "officer").await.len(), o0 + 2);

    // only those who decide something are offered the choice
    let (_, prefs) = app.get(&app.token("worker1").await, "/api/v1/me/notifications").await;
    assert!(!prefs.to_string().contains("approval_asked"), "{prefs}");
    let (_, prefs) = app.get(&app.token("officer").await, "/api/v1/me/notifications").await;
    assert!(prefs.to_string().contains("approval_asked"), "{prefs}");
}
