//! Volunteer activities over HTTP: a waiting list when full, a place given
//! up going to the first one waiting, check-in and check-out, and minutes
//! turned into points once, when the organiser confirms.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::time::{MINUTE_MS, rfc3339};

use crate::helpers::TestApp;

pub(crate) async fn resident(app: &TestApp, token: &str, name: &str) -> i64 {
    let body = json!({"name": name, "grid": "chengnan-g01", "relation": "户主", "residence": "permanent"});
    let (st, v) = app.post(token, "/api/v1/residents", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

fn activity(app: &TestApp, capacity: i64, rule: &str, points: i64) -> Value {
    let now = app.svc.now();
    json!({
        "title": "清理楼道杂物", "place": "丁香花园三期 8号楼", "capacity": capacity,
        "starts_at": rfc3339(now + 60 * MINUTE_MS), "ends_at": rfc3339(now + 180 * MINUTE_MS),
        "points_rule": rule, "points": points,
    })
}

async fn balance(app: &TestApp, token: &str, resident: i64) -> i64 {
    let (_, a) = app.get(token, &format!("/api/v1/residents/{resident}/points")).await;
    a["balance"].as_i64().unwrap()
}

#[tokio::test]
async fn volunteers_sign_up_wait_check_in_and_earn_points_once() {
    let app = TestApp::spawn().await;
    let mut staff = app.token("staff").await;
    let mut clerk = app.token("clerk").await;
    let (a, b, c) = (
        resident(&app, &staff, "赵阿姨").await,
        resident(&app, &staff, "钱叔叔").await,
        resident(&app, &staff, "孙奶奶").await,
    );

    // what is wrong is named
    let mut bad = activity(&app, 2, "per_hour", 10);
    bad["ends_at"] = bad["starts_at"].clone();
    let (st, v) = app.post(&staff, "/api/v1/activities", bad).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("ends_at")), "{v}");
    let (st, v) = app.post(&staff, "/api/v1/activities", activity(&app, 2, "daily", 10)).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("points_rule")), "{v}");
    let mut bad = activity(&app, 2, "fixed", 10);
    bad["starts_at"] = json!("明天上午");
    let (st, v) = app.post(&staff, "/api/v1/activities", bad).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("starts_at")), "{v}");
    let mut bad = activity(&app, 2, "fixed", 10);
    bad["description"] = json!("说".repeat(2001));
    let (st, v) = app.post(&staff, "/api/v1/activities", bad).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("description")), "{v}");
    let worker = app.token("worker1").await;
    assert_eq!(app.post(&worker, "/api/v1/activities", activity(&app, 2, "fixed", 10)).await.0, StatusCode::NOT_FOUND);

    // two places, three people: the third waits
    let (st, act) = app.post(&clerk, "/api/v1/activities", activity(&app, 2, "per_hour", 10)).await;
    assert_eq!(st, StatusCode::CREATED, "{act}");
    let id = act["id"].as_i64().unwrap();
    let signups = format!("/api/v1/activities/{id}/signups");
    let mut statuses = vec![];
    for r in [a, b, c] {
        let (st, v) = app.post(&clerk, &signups, json!({"resident_id": r})).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        statuses.push(v["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(statuses, ["signed_up", "signed_up", "waiting"]);
    assert_eq!(app.post(&clerk, &signups, json!({"resident_id": a})).await.0, StatusCode::CONFLICT, "once each");
    // the first gives up her place: the one waiting gets it
    let (st, v) = app.post(&clerk, &format!("{signups}/{a}/cancel"), json!({})).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("cancelled")), "{v}");
    let (_, detail) = app.get(&clerk, &format!("/api/v1/activities/{id}")).await;
    assert_eq!((detail["signed_up"].as_i64(), detail["waiting"].as_i64()), (Some(2), Some(0)), "{detail}");

    // checked in at the start; one stays 90 minutes, the other 30
    // (sessions time out when idle, and the clock moves by hours here)
    app.clock.advance(60 * MINUTE_MS);
    clerk = app.token("clerk").await;
    assert_eq!(
        app.post(&clerk, &format!("{signups}/{b}/check-out"), json!({})).await.0,
        StatusCode::CONFLICT,
        "not in yet"
    );
    for r in [b, c] {
        let (st, v) = app.post(&clerk, &format!("{signups}/{r}/check-in"), json!({})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    assert_eq!(app.post(&clerk, &format!("{signups}/{b}/check-in"), json!({})).await.0, StatusCode::CONFLICT);
    app.clock.advance(30 * MINUTE_MS);
    clerk = app.token("clerk").await;
    assert_eq!(app.post(&clerk, &format!("{signups}/{c}/check-out"), json!({})).await.0, StatusCode::OK);
    app.clock.advance(60 * MINUTE_MS);
    clerk = app.token("clerk").await;
    staff = app.token("staff").await;
    assert_eq!(app.post(&clerk, &format!("{signups}/{b}/check-out"), json!({})).await.0, StatusCode::OK);

    // not before the end: whoever came later would get nothing
    let (st, v) = app.post(&staff, &format!("/api/v1/activities/{id}/confirm"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("结束后才能确认"), "{v}");
    let b2 = app.browser_as("staff").await;
    let html = b2.get(format!("{}/activities/{id}", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"confirm\" disabled") && html.contains("活动结束后才能确认"), "the page says so");
    let phase = |html: &str| html.split("data-phase=\"").nth(1).map(|s| s.split('"').next().unwrap_or("").to_owned());
    let url = format!("{}/activities", app.url);
    let list = |b: reqwest::Client| {
        let url = url.clone();
        async move { b.get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert_eq!(phase(&list(b2).await).as_deref(), Some("under_way"), "under way, not yet waiting for points");
    let (_, v) = app.get(&staff, &format!("/api/v1/activities/{id}")).await;
    assert_eq!(v["phase"], "under_way");
    app.clock.advance(60 * MINUTE_MS);
    clerk = app.token("clerk").await;
    staff = app.token("staff").await;
    let html = list(app.browser_as("staff").await).await;
    assert_eq!(phase(&html).as_deref(), Some("ended"), "{html}");
    assert!(html.contains("待确认积分"), "over: its points wait to be confirmed");

    // a clerk does not give points; the staff confirm, once
    assert_eq!(app.post(&clerk, &format!("/api/v1/activities/{id}/confirm"), json!({})).await.0, StatusCode::NOT_FOUND);
    let (st, done) = app.post(&staff, &format!("/api/v1/activities/{id}/confirm"), json!({})).await;
    assert_eq!((st, done["status"].as_str()), (StatusCode::OK, Some("confirmed")), "{done}");
    let got: Vec<(i64, i64)> = done["signups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "signed_up")
        .map(|s| (s["minutes"].as_i64().unwrap(), s["points"].as_i64().unwrap()))
        .collect();
    assert_eq!(got, [(90, 15), (30, 5)]);
    assert_eq!(
        (balance(&app, &staff, b).await, balance(&app, &staff, c).await, balance(&app, &staff, a).await),
        (15, 5, 0)
    );
    assert_eq!(app.post(&staff, &format!("/api/v1/activities/{id}/confirm"), json!({})).await.0, StatusCode::CONFLICT);
    assert_eq!((balance(&app, &staff, b).await, balance(&app, &staff, c).await), (15, 5), "points given once");
    assert_eq!(app.post(&clerk, &signups, json!({"resident_id": a})).await.0, StatusCode::CONFLICT, "closed");

    // only residents of the category join an activity for it
    let mut members = activity(&app, 5, "fixed", 20);
    members["who_may_join"] = json!("party_member");
    let (_, m) = app.post(&staff, "/api/v1/activities", members).await;
    let (st, v) = app.post(&staff, &format!("/api/v1/activities/{}/signups", m["id"]), json!({"resident_id": a})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("resident_id")), "{v}");
    let audit = app.audit().await;
    for action in [
        "activity",
        "activity_signup",
        "activity_cancel",
        "activity_check_in",
        "activity_check_out",
        "activity_confirm",
    ] {
        assert!(audit.iter().any(|(x, _, _)| x == action), "{action} audited");
    }
}

/// The probe's review: one person could put up an activity worth 10,000
/// points, sign a friend up, check him in and out and confirm. Above the
/// limit, the one who put the activity up does not also confirm it.
#[tokio::test]
async fn a_big_award_is_confirmed_by_another_than_who_put_the_activity_up() {
    let app = TestApp::spawn().await;
    let mut staff = app.token("staff").await;
    let friend = resident(&app, &staff, "周朋友").await;
    let (st, act) = app.post(&staff, "/api/v1/activities", activity(&app, 5, "fixed", 10_000)).await;
    assert_eq!(st, StatusCode::CREATED, "{act}");
    let id = act["id"].as_i64().unwrap();
    let signups = format!("/api/v1/activities/{id}/signups");
    assert_eq!(app.post(&staff, &signups, json!({"resident_id": friend})).await.0, StatusCode::CREATED);
    app.clock.advance(60 * MINUTE_MS);
    staff = app.token("staff").await;
    assert_eq!(app.post(&staff, &format!("{signups}/{friend}/check-in"), json!({})).await.0, StatusCode::OK);
    app.clock.advance(120 * MINUTE_MS);
    staff = app.token("staff").await;
    assert_eq!(app.post(&staff, &format!("{signups}/{friend}/check-out"), json!({})).await.0, StatusCode::OK);
    let (st, v) = app.post(&staff, &format!("/api/v1/activities/{id}/confirm"), json!({})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{v}");
    assert_eq!(balance(&app, &staff, friend).await, 0, "nothing moved");
    let secretary = app.token("secretary").await;
    let (st, v) = app.post(&secretary, &format!("/api/v1/activities/{id}/confirm"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "a second person confirms: {v}");
    assert_eq!(balance(&app, &staff, friend).await, 10_000);
    // nor is a reversal above the limit one person's: it takes an adjustment
    let (_, s) = app.get(&staff, &format!("/api/v1/residents/{friend}/points")).await;
    let (_, st_) = app.get(&staff, &format!("/api/v1/points/accounts/{}/statement", s["id"])).await;
    let award = st_["lines"][0]["id"].as_i64().unwrap();
    let (st, v) = app
        .post(
            &staff,
            &format!("/api/v1/points/transfers/{award}/reversal"),
            json!({"client_id": "rev-big", "reason": "误发"}),
        )
        .await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{v}");
}
