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

/// A year at work with one committed pledge; its id.
async fn working_year(app: &TestApp, secretary: &str, staff: &str) -> i64 {
    app.post(secretary, "/api/v1/pledges/years", json!({"year": 2026})).await;
    let (_, p) = app.post(staff, "/api/v1/pledges", json!({"title": "楼道装扶手"})).await;
    let id = p["id"].as_i64().unwrap();
    app.post(secretary, &format!("/api/v1/pledges/{id}/shortlist"), json!({"shortlisted": true})).await;
    app.post(secretary, "/api/v1/pledges/years/2026/advance", json!({})).await;
    let (st, y) = app.post(secretary, "/api/v1/pledges/years/2026/advance", json!({})).await;
    assert_eq!((st, y["phase"].as_str()), (StatusCode::OK, Some("working")), "{y}");
    id
}

#[tokio::test]
async fn committed_pledges_have_milestones_and_photos_of_the_work_on_the_board() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let staff = app.token("staff").await;
    let grid = app.token("worker1").await;
    let rails = working_year(&app, &secretary, &staff).await;
    let today = yijia_domain::time::to_local(app.svc.now()).date_naive();
    let ymd = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();

    // milestones: staff add them with a day due, and mark them done
    let add = format!("/api/v1/pledges/{rails}/milestones");
    let (st, v) = app.post(&staff, &add, json!({"title": "采购扶手", "due_on": "下个月"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("due_on")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("下个月"), "the message names what was typed: {v}");
    assert_eq!(app.post(&grid, &add, json!({"title": "x", "due_on": ymd(today)})).await.0, StatusCode::NOT_FOUND);
    let (st, m) = app.post(&staff, &add, json!({"title": "采购扶手", "due_on": ymd(today)})).await;
    assert_eq!((st, m["done_on"].clone()), (StatusCode::CREATED, Value::Null), "{m}");
    let done = format!("/api/v1/pledges/milestones/{}/done", m["id"]);
    let tomorrow = ymd(today.succ_opt().unwrap());
    let (st, v) = app.post(&staff, &done, json!({"done_on": tomorrow})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("done_on")), "{v}");
    let (st, v) = app.post(&staff, &done, json!({})).await;
    assert_eq!((st, v["done_on"].as_str()), (StatusCode::OK, Some(ymd(today).as_str())), "{v}");
    assert_eq!(app.post(&staff, &done, json!({})).await.0, StatusCode::CONFLICT, "done once");

    // progress, then photos of the work: cleaned, refused when not photos
    let (st, _) = app
        .post(&staff, &format!("/api/v1/pledges/{rails}/progress"), json!({"progress": 40, "text": "已装 2 栋"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, y) = app.get(&staff, "/api/v1/pledges").await;
    let update = y["updates"][0]["id"].as_i64().unwrap();
    let upload = |name: &'static str, bytes: Vec<u8>| {
        let (app, s) = (&app, staff.clone());
        async move {
            let form =
                reqwest::multipart::Form::new().part("photo", reqwest::multipart::Part::bytes(bytes).file_name(name));
            let r = app
                .client()
                .post(format!("{}/api/v1/pledges/updates/{update}/photos", app.url))
                .bearer_auth(&s)
                .multipart(form)
                .send()
                .await
                .unwrap();
            let st = r.status();
            (st, r.json::<Value>().await.unwrap())
        }
    };
    let (st, v) = upload("x.jpg", b"<html>".to_vec()).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("photo")), "{v}");
    let (st, v) = upload("IMG_0001.jpg", yijia_service::photos::sample_jpeg_with_gps(64, 48)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["photos"].as_array().unwrap().len(), 1, "nothing kept of the refused upload: {v}");
    let photo = v["photos"][0].as_i64().unwrap();

    // the board: the steps and the photo, public and without metadata
    let pb = board(&app).await;
    let year = &pb["years"][0];
    assert_eq!(year["milestones"][0]["title"], "采购扶手", "{pb}");
    assert_eq!(year["updates"][0]["photos"], json!([photo]), "{pb}");
    let r = reqwest::get(format!("{}/api/v1/boards/pledge-photos/{photo}", app.url)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!r.bytes().await.unwrap().windows(4).any(|w| w == b"Exif"), "no EXIF left");
    let r = reqwest::get(format!("{}/api/v1/boards/pledge-photos/{}", app.url, photo + 1)).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let html =
        reqwest::get(format!("{}/boards/pledges?community=chengnan", app.url)).await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("/api/v1/boards/pledge-photos/{photo}")), "the board page shows the photo");
    assert!(html.contains("采购扶手"), "and the milestone");

    // the page form: progress with a photo in one multipart form
    let b = app.browser_as("staff").await;
    let page = b.get(format!("{}/pledges", app.url)).send().await.unwrap().text().await.unwrap();
    let csrf = page.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let form = |progress: &'static str| {
        reqwest::multipart::Form::new()
            .text("_csrf", csrf.clone())
            .text("progress", progress)
            .text("text", "已装 4 栋")
            .part("photo", reqwest::multipart::Part::bytes(yijia_service::photos::sample_jpeg_with_gps(32, 32)))
    };
    let r = b.post(format!("{}/pledges/{rails}/progress", app.url)).multipart(form("百分之八十")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "the page again, with the reason");
    let r = b.post(format!("{}/pledges/{rails}/progress", app.url)).multipart(form("80")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, y) = app.get(&staff, "/api/v1/pledges").await;
    assert_eq!(y["updates"].as_array().unwrap().len(), 2, "the refused form left nothing: {y}");
    assert_eq!(
        (y["updates"][0]["progress"].as_i64(), y["updates"][0]["photos"].as_array().map(Vec::len)),
        (Some(80), Some(1))
    );

    // at the year's end the steps are fixed
    app.post(&secretary, "/api/v1/pledges/years/2026/advance", json!({})).await;
    assert_eq!(app.post(&staff, &add, json!({"title": "x", "due_on": ymd(today)})).await.0, StatusCode::CONFLICT);
    assert_eq!(upload("IMG_0002.jpg", yijia_service::photos::sample_jpeg_with_gps(8, 8)).await.0, StatusCode::CONFLICT);
}
