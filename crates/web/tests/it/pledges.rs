//! Pledges over HTTP: a year opened, residents propose, the secretary
//! shortlists, residents vote within their limit, the most voted are
//! committed, progress is reported, residents judge them, and the public
//! board shows this year's and last year's.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::me::linked_resident;

fn by_title<'a>(list: &'a Value, title: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|p| p["title"] == title).unwrap()
}

async fn board(app: &TestApp) -> Value {
    let r = reqwest::get(format!("{}/api/v1/boards/pledges?community=chengnan", app.url)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

#[tokio::test]
async fn residents_propose_vote_and_judge_and_the_board_shows_it() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let staff = app.token("staff").await;
    let (_, a) = linked_resident(&app, "张大爷", "13812345678").await;
    let (_, b) = linked_resident(&app, "李奶奶", "13912345678").await;

    assert_eq!(app.get(&secretary, "/api/v1/pledges").await.0, StatusCode::CONFLICT, "no year yet");
    assert_eq!(app.post(&a, "/api/v1/me/pledges", json!({"title": "x"})).await.0, StatusCode::CONFLICT);
    let (st, v) = app.post(&secretary, "/api/v1/pledges/years", json!({"year": 1999})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("year")), "{v}");
    assert_eq!(
        app.post(&staff, "/api/v1/pledges/years", json!({"year": 2026})).await.0,
        StatusCode::NOT_FOUND,
        "the secretary's"
    );
    let (st, y) = app.post(&secretary, "/api/v1/pledges/years", json!({"year": 2026, "votes_per_resident": 2})).await;
    assert_eq!((st, y["phase"].as_str()), (StatusCode::CREATED, Some("proposing")), "{y}");
    assert_eq!(app.post(&secretary, "/api/v1/pledges/years", json!({"year": 2026})).await.0, StatusCode::CONFLICT);

    // proposals from phones, and one entered by staff for someone without one
    for (t, title) in [(&a, "楼道装扶手"), (&b, "增设充电桩")] {
        let (st, v) = app.post(t, "/api/v1/me/pledges", json!({"title": title})).await;
        assert_eq!((st, v["from_resident"].as_bool()), (StatusCode::CREATED, Some(true)), "{v}");
    }
    let (st, v) = app.post(&b, "/api/v1/me/pledges", json!({"title": "楼道装扶手"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let (st, v) = app.post(&a, "/api/v1/me/pledges", json!({"title": ""})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("title")), "{v}");
    let (st, _) =
        app.post(&staff, "/api/v1/pledges", json!({"title": "老年食堂", "description": "中午一顿热饭"})).await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, y) = app.get(&secretary, "/api/v1/pledges").await;
    let id = |t: &str| by_title(&y["pledges"], t)["id"].as_i64().unwrap();
    let (rails, chargers, canteen) = (id("楼道装扶手"), id("增设充电桩"), id("老年食堂"));

    // the secretary shortlists two; nothing on the ballot means no vote
    let advance = |body: Value| {
        let (app, s) = (&app, secretary.clone());
        async move { app.post(&s, "/api/v1/pledges/years/2026/advance", body).await }
    };
    assert_eq!(advance(json!({})).await.0, StatusCode::CONFLICT);
    for p in [rails, canteen] {
        let (st, v) =
            app.post(&secretary, &format!("/api/v1/pledges/{p}/shortlist"), json!({"shortlisted": true})).await;
        assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("shortlisted")), "{v}");
    }
    assert_eq!(board(&app).await["years"][0]["pledges"], json!([]), "proposals are not public");
    let (st, y) = advance(json!({})).await;
    assert_eq!((st, y["phase"].as_str()), (StatusCode::OK, Some("voting")), "{y}");
    assert_eq!(app.post(&a, "/api/v1/me/pledges", json!({"title": "晚了"})).await.0, StatusCode::CONFLICT);

    // one vote a pledge, two a resident, only on the ballot
    let vote = |t: &String, p: i64| {
        let (app, t) = (&app, t.clone());
        async move { app.post(&t, &format!("/api/v1/me/pledges/{p}/vote"), json!({})).await }
    };
    assert_eq!(vote(&a, rails).await.0, StatusCode::OK);
    assert_eq!(vote(&a, rails).await.0, StatusCode::CONFLICT, "once");
    assert_eq!(vote(&a, chargers).await.0, StatusCode::CONFLICT, "not on the ballot");
    assert_eq!(vote(&a, canteen).await.0, StatusCode::OK);
    let (_, mine) = app.get(&a, "/api/v1/me/pledges").await;
    assert_eq!(mine["my_votes_left"], 0, "{mine}");
    assert_eq!(vote(&b, rails).await.0, StatusCode::OK);
    let pb = board(&app).await;
    let ballot = &pb["years"][0]["pledges"];
    assert_eq!(ballot.as_array().unwrap().len(), 2, "the ballot: {pb}");
    assert_eq!((ballot[0]["title"].as_str(), ballot[0]["votes"].as_i64()), (Some("楼道装扶手"), Some(2)));

    // the most voted is committed; progress is reported
    let (st, y) = advance(json!({"commit": 1})).await;
    assert_eq!((st, y["phase"].as_str()), (StatusCode::OK, Some("working")), "{y}");
    assert_eq!(by_title(&y["pledges"], "楼道装扶手")["status"], "committed");
    assert_eq!(by_title(&y["pledges"], "老年食堂")["status"], "not_chosen");
    assert_eq!(by_title(&y["pledges"], "增设充电桩")["status"], "not_chosen");
    let (st, _) = app
        .send(reqwest::Method::PUT, &secretary, &format!("/api/v1/pledges/{rails}/owner"), json!({"owner": "刘社工"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) =
        app.post(&staff, &format!("/api/v1/pledges/{rails}/progress"), json!({"progress": 101, "text": "x"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("progress")), "{v}");
    let (st, v) = app
        .post(&staff, &format!("/api/v1/pledges/{rails}/progress"), json!({"progress": 60, "text": "1-4 号楼已装"}))
        .await;
    assert_eq!((st, v["progress"].as_i64()), (StatusCode::OK, Some(60)), "{v}");
    assert_eq!(
        app.post(&staff, &format!("/api/v1/pledges/{canteen}/progress"), json!({"progress": 10, "text": "x"})).await.0,
        StatusCode::CONFLICT
    );
    let pb = board(&app).await;
    assert_eq!(pb["years"][0]["pledges"].as_array().unwrap().len(), 1, "only what was committed: {pb}");
    assert_eq!(pb["years"][0]["updates"][0]["text"], "1-4 号楼已装");

    // the year's end: residents judge
    advance(json!({})).await;
    let judge = |t: &String, kept: bool, s: i64| {
        let (app, t) = (&app, t.clone());
        async move {
            app.post(&t, &format!("/api/v1/me/pledges/{rails}/verdict"), json!({"kept": kept, "satisfaction": s})).await
        }
    };
    let (st, v) = judge(&a, true, 6).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("satisfaction")), "{v}");
    assert_eq!(judge(&a, true, 5).await.0, StatusCode::OK);
    assert_eq!(judge(&a, false, 1).await.0, StatusCode::CONFLICT, "once");
    assert_eq!(judge(&b, false, 3).await.0, StatusCode::OK);
    let (_, y) = advance(json!({})).await;
    assert_eq!(y["phase"], "closed");
    assert_eq!(advance(json!({})).await.0, StatusCode::CONFLICT);

    // next year opens; last year's stay on the board with their verdicts
    app.post(&secretary, "/api/v1/pledges/years", json!({"year": 2027})).await;
    let pb = board(&app).await;
    let years: Vec<i64> = pb["years"].as_array().unwrap().iter().map(|y| y["year"].as_i64().unwrap()).collect();
    assert_eq!(years, [2027, 2026]);
    let v = &pb["years"][1]["pledges"][0]["verdict"];
    assert_eq!(
        (v["kept"].as_bool(), v["satisfaction_tenths"].as_i64(), v["judged"].as_i64()),
        (Some(false), Some(40), Some(2)),
        "a tie is not kept: {pb}"
    );
    assert!(!pb.to_string().contains("张大爷"), "no names on the board");
}
