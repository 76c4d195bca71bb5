//! A resident's own account over HTTP: an invitation from their grid
//! worker, signing up with it, then their own points, activities and shop,
//! and nobody else's.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::time::{MINUTE_MS, rfc3339};
use yijia_service::Settings;

use crate::activities::resident;
use crate::helpers::TestApp;
use crate::shop::item;

pub(crate) const PASSWORD: &str = "Zhang-daye-1949";

pub(crate) async fn join(app: &TestApp, code: &str, phone: &str) -> (StatusCode, Value) {
    let r = app
        .client()
        .post(format!("{}/api/v1/join", app.url))
        .json(&json!({"code": code, "phone": phone, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn resident_token(app: &TestApp, phone: &str) -> String {
    let r = app.login_raw(phone, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

/// A resident record in grid 1 with an account of its own (joined with an
/// invitation from the grid worker): its id and the account's token.
pub(crate) async fn linked_resident(app: &TestApp, name: &str, phone: &str) -> (i64, String) {
    let id = resident(app, &app.token("staff").await, name).await;
    link(app, id, phone).await
}

/// An account for the resident record `id` (of grid 1), joined with an
/// invitation from the grid worker: the record's id and the token.
pub(crate) async fn link(app: &TestApp, id: i64, phone: &str) -> (i64, String) {
    let worker = app.token("worker1").await;
    let (st, inv) = app.post(&worker, &format!("/api/v1/residents/{id}/invitation"), json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{inv}");
    let (st, v) = join(app, inv["code"].as_str().unwrap(), phone).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    (id, resident_token(app, phone).await)
}

#[tokio::test]
async fn a_resident_joins_with_an_invitation_earns_points_and_redeems_for_themself_only() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let worker = app.token("worker1").await;
    let clerk = app.token("clerk").await;
    let zhang = resident(&app, &staff, "张大爷").await;
    let li = resident(&app, &staff, "李奶奶").await;

    // the grid worker gives the code; a clerk may not
    let invite = format!("/api/v1/residents/{zhang}/invitation");
    assert_eq!(app.post(&clerk, &invite, json!({})).await.0, StatusCode::NOT_FOUND);
    let (st, first) = app.post(&worker, &invite, json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{first}");
    // a second code ends the first
    let (_, inv) = app.post(&worker, &invite, json!({})).await;
    let code = inv["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 9, "{inv}");
    assert_ne!(first["code"], inv["code"]);

    // what is wrong is named, and nothing is made
    let (st, v) = join(&app, first["code"].as_str().unwrap(), "13812345678").await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("code")), "{v}");
    let (st, v) = join(&app, &code, "0431-81234567").await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("phone")), "{v}");
    assert_eq!(app.login_raw("13812345678", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);

    // typed in lower case without the dash, it works once
    let typed = code.replace('-', "").to_lowercase();
    let (st, user) = join(&app, &typed, "138 1234 5678").await;
    assert_eq!(st, StatusCode::CREATED, "{user}");
    assert_eq!(
        (user["username"].as_str(), user["grants"][0]["role"].as_str()),
        (Some("13812345678"), Some("resident"))
    );
    assert_eq!(join(&app, &code, "13912345678").await.0, StatusCode::UNPROCESSABLE_ENTITY, "used");
    // one account a record: a second code is for a forgotten password
    let (st, again) = app.post(&worker, &invite, json!({})).await;
    assert_eq!((st, again["for_reset"].as_bool()), (StatusCode::CREATED, Some(true)), "{again}");
    let me = resident_token(&app, "13812345678").await;

    // their own record only
    assert_eq!(app.get(&me, &format!("/api/v1/residents/{li}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&me, &format!("/api/v1/residents/{zhang}/points")).await.0, StatusCode::NOT_FOUND);
    let (st, p) = app.get(&me, "/api/v1/me/points").await;
    assert_eq!((st, p["account"]["balance"].as_i64()), (StatusCode::OK, Some(0)), "{p}");
    // an account not linked to a record is told so
    let demo = app.token("resident").await;
    let (st, v) = app.get(&demo, "/api/v1/me/points").await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");

    // signs up for an activity themself; the clerk signs up someone else
    let now = app.svc.now();
    let (starts, ends) = (now + MINUTE_MS, now + 121 * MINUTE_MS);
    let body = json!({"title": "楼道清扫", "place": "丁香花园 3 号楼", "capacity": 5,
        "starts_at": rfc3339(starts), "ends_at": rfc3339(ends), "points_rule": "per_hour", "points": 10});
    let (st, act) = app.post(&clerk, "/api/v1/activities", body).await;
    assert_eq!(st, StatusCode::CREATED, "{act}");
    let id = act["id"].as_i64().unwrap();
    let (st, s) = app.post(&me, &format!("/api/v1/me/activities/{id}/signup"), json!({})).await;
    assert_eq!((st, s["status"].as_str()), (StatusCode::CREATED, Some("signed_up")), "{s}");
    assert_eq!(app.post(&me, &format!("/api/v1/me/activities/{id}/signup"), json!({})).await.0, StatusCode::CONFLICT);
    app.post(&clerk, &format!("/api/v1/activities/{id}/signups"), json!({"resident_id": li})).await;
    let (_, list) = app.get(&me, "/api/v1/me/activities").await;
    let mine = list.as_array().unwrap().iter().find(|a| a["id"] == id).unwrap();
    assert_eq!((mine["signed_up"].as_i64(), mine["signups"].as_array().unwrap().len()), (Some(2), 1), "{mine}");
    assert_eq!(mine["signups"][0]["resident_id"], zhang, "only their own sign-up");

    // two hours later, checked in at the start from the paper list, out now
    app.clock.advance(122 * MINUTE_MS);
    let (clerk, staff, me) =
        (app.token("clerk").await, app.token("staff").await, resident_token(&app, "13812345678").await);
    let signup = format!("/api/v1/activities/{id}/signups/{zhang}");
    let future = urlencoding(&rfc3339(app.svc.now() + 5 * MINUTE_MS));
    let (st, v) = app.post(&clerk, &format!("{signup}/check-in?at={future}"), json!({})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("at")), "{v}");
    let (st, v) = app.post(&clerk, &format!("{signup}/check-in?at={}", urlencoding(&rfc3339(starts))), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = app.post(&clerk, &format!("{signup}/check-out"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = app.post(&staff, &format!("/api/v1/activities/{id}/confirm"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, p) = app.get(&me, "/api/v1/me/points").await;
    assert_eq!((p["account"]["balance"].as_i64(), p["lines"].as_array().unwrap().len()), (Some(20), 1), "{p}");

    // the shop: a bag of rice for themself, sent twice, taken once
    let rice = item(&app, &clerk, "大米 5kg", 15, 2, Some(2)).await;
    let (_, items) = app.get(&me, "/api/v1/me/shop/items").await;
    assert_eq!(items[0]["id"], rice, "{items}");
    let body = json!({"client_id": "phone-1", "item_id": rice});
    let (st, r) = app.post(&me, "/api/v1/me/shop/redemptions", body.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["redemption"]["resident_id"], zhang);
    assert_eq!(app.post(&me, "/api/v1/me/shop/redemptions", body).await.0, StatusCode::OK);
    let (_, p) = app.get(&me, "/api/v1/me/points").await;
    assert_eq!(p["account"]["balance"], 5);
    let (st, v) = app.post(&me, "/api/v1/me/shop/redemptions", json!({"client_id": "phone-2", "item_id": rice})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("insufficient_points")));
    let (_, mine) = app.get(&me, "/api/v1/me/shop/redemptions").await;
    let codes: Vec<&str> = mine.as_array().unwrap().iter().filter_map(|r| r["pickup_code"].as_str()).collect();
    assert_eq!(codes, [r["redemption"]["pickup_code"].as_str().unwrap()], "{mine}");
    // not for someone else, by either door
    let other = json!({"client_id": "phone-3", "resident_id": li, "item_id": rice});
    assert_eq!(app.post(&me, "/api/v1/shop/redemptions", other).await.0, StatusCode::NOT_FOUND);

    let audit = app.audit().await;
    for action in ["resident_invite", "resident_join", "activity_signup"] {
        assert!(audit.iter().any(|(a, o, _)| a == action && o == "ok"), "{action} audited");
    }
}

fn urlencoding(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn wrong_invitation_codes_are_limited_like_logins() {
    let settings = Settings { ip_attempts: 3, ..Settings::default() };
    let app = TestApp::spawn_with(settings).await;
    for _ in 0..3 {
        assert_eq!(join(&app, "AAAA-BBBB", "13812345678").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (st, v) = join(&app, "AAAA-BBBB", "13812345678").await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{v}");
}

/// A resident of grid 1 with an account of their own: (record id, token).
async fn joined(app: &TestApp, name: &str, phone: &str) -> (i64, String) {
    let staff = app.token("staff").await;
    let id = resident(app, &staff, name).await;
    let (_, inv) =
        app.post(&app.token("worker1").await, &format!("/api/v1/residents/{id}/invitation"), json!({})).await;
    let (st, v) = join(app, inv["code"].as_str().unwrap(), phone).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    (id, resident_token(app, phone).await)
}

#[tokio::test]
async fn shifts_at_a_duty_post_earn_points_checked_by_a_scanned_code_and_make_the_honours() {
    let app = TestApp::spawn().await;
    // the middle of a month, at ten in the morning: all three shifts fall in it
    app.clock.set(chrono::DateTime::parse_from_rfc3339("2026-11-14T10:00:00+08:00").unwrap().timestamp_millis());
    let (zhang, me) = joined(&app, "张大爷", "13812345678").await;
    let clerk = app.token("clerk").await;

    // a post, once by name, with what is missing named
    let (st, post) = app.post(&clerk, "/api/v1/duty/posts", json!({"name": "丁香花园南门岗", "place": "南门"})).await;
    assert_eq!(st, StatusCode::CREATED, "{post}");
    let post = post["id"].as_i64().unwrap();
    let (st, _) = app.post(&clerk, "/api/v1/duty/posts", json!({"name": "丁香花园南门岗", "place": "南门"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, v) = app.post(&clerk, "/api/v1/duty/posts", json!({"name": " ", "place": "北门"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("name")), "{v}");

    // three one-hour shifts; he signs up for each
    let now = app.svc.now();
    let mut shifts = vec![];
    for k in 0..3 {
        let (starts, ends) = (now + MINUTE_MS + k * 60 * MINUTE_MS, now + (k + 1) * 60 * MINUTE_MS + MINUTE_MS);
        let body = json!({"starts_at": rfc3339(starts), "ends_at": rfc3339(ends), "capacity": 2, "points": 10});
        let (st, s) = app.post(&clerk, &format!("/api/v1/duty/posts/{post}/shifts"), body).await;
        assert_eq!((st, s["post_id"].as_i64()), (StatusCode::CREATED, Some(post)), "{s}");
        let id = s["id"].as_i64().unwrap();
        assert_eq!(
            app.post(&me, &format!("/api/v1/me/activities/{id}/signup"), json!({})).await.0,
            StatusCode::CREATED
        );
        shifts.push((id, starts, ends));
    }
    let (_, posts) = app.get(&clerk, "/api/v1/duty/posts").await;
    assert_eq!(posts[0]["shifts"].as_array().unwrap().len(), 3, "{posts}");

    // the first shift: he scans the code to check in, and an hour later out
    let (id, ..) = shifts[0];
    app.clock.advance(2 * MINUTE_MS);
    let (st, code) = app.get(&clerk, &format!("/api/v1/activities/{id}/check-code")).await;
    assert_eq!(st, StatusCode::OK, "{code}");
    let token = code["token"].as_str().unwrap().to_owned();
    assert!(code["path"].as_str().unwrap().contains(&token));
    let check = format!("/api/v1/me/activities/{id}/check");
    let (st, v) = app.post(&me, &check, json!({"token": "0000000000000000"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("t")), "{v}");
    let (st, v) = app.post(&me, &check, json!({"token": token})).await;
    assert_eq!((st, v["checked_in_at"].is_string()), (StatusCode::OK, true), "{v}");
    app.clock.advance(60 * MINUTE_MS);
    let (me, clerk) = (resident_token(&app, "13812345678").await, app.token("clerk").await);
    let (st, v) = app.post(&me, &check, json!({"token": token})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "an old code does not work: {v}");
    let (_, code) = app.get(&clerk, &format!("/api/v1/activities/{id}/check-code")).await;
    let (st, v) = app.post(&me, &check, json!({"token": code["token"]})).await;
    assert_eq!((st, v["checked_out_at"].is_string()), (StatusCode::OK, true), "{v}");

    // the other two from the paper list, after the fact; all confirmed
    app.clock.advance(150 * MINUTE_MS);
    let (clerk, staff) = (app.token("clerk").await, app.token("staff").await);
    for (id, starts, ends) in &shifts[1..] {
        let signup = format!("/api/v1/activities/{id}/signups/{zhang}");
        let at = |t: i64| rfc3339(t).replace('+', "%2B").replace(':', "%3A");
        assert_eq!(
            app.post(&clerk, &format!("{signup}/check-in?at={}", at(*starts)), json!({})).await.0,
            StatusCode::OK
        );
        assert_eq!(
            app.post(&clerk, &format!("{signup}/check-out?at={}", at(*ends)), json!({})).await.0,
            StatusCode::OK
        );
    }
    for (id, ..) in &shifts {
        let (st, v) = app.post(&staff, &format!("/api/v1/activities/{id}/confirm"), json!({})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let me = resident_token(&app, "13812345678").await;
    let (_, p) = app.get(&me, "/api/v1/me/points").await;
    assert!(p["account"]["balance"].as_i64().unwrap() >= 28, "about three hours at 10 an hour: {p}");

    // the honours of the month: he is the champion, unnamed until he agrees
    let month = &rfc3339(shifts[0].1)[..7];
    let url = format!("{}/api/v1/honours?community=chengnan&month={month}", app.url);
    let b: Value = app.client().get(&url).send().await.unwrap().json().await.unwrap();
    let champion = &b["honours"][0];
    assert_eq!(
        (champion["code"].as_str(), champion["holders"].as_array().unwrap().len()),
        (Some("champion"), 1),
        "{b}"
    );
    assert!(champion["holders"][0]["name"].is_null(), "not named without consent: {b}");
    let (st, v) = app.send(reqwest::Method::PUT, &me, "/api/v1/me/honours", json!({"public": true})).await;
    assert_eq!((st, v["public"].as_bool()), (StatusCode::OK, Some(true)), "{v}");
    let b: Value = app.client().get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(b["honours"][0]["holders"][0]["name"], "张大爷");
    let url = format!("{}/api/v1/honours?community=nowhere", app.url);
    assert_eq!(app.client().get(url).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}
