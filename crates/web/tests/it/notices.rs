//! Notices over HTTP: staff post to the community, a grid or a building,
//! within a publication window; residents see only those for where they
//! live, and opening one counts it read once.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::time::{HOUR_MS, rfc3339};

use crate::helpers::TestApp;
use crate::me::{link, resident_token};

fn titles(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn notices_reach_the_community_a_grid_or_a_building_in_their_window_and_reads_are_counted() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let worker = app.token("worker1").await;
    // a resident of grid 1 living in 8号楼, with an account
    let body = json!({"name": "张大爷", "grid": "chengnan-g01", "relation": "户主", "residence": "permanent",
        "household": {"estate": "丁香花园三期", "building": "8号楼", "entrance": "2单元", "door": "502"}});
    let (st, r) = app.post(&staff, "/api/v1/residents", body).await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let building = r["address"]["building_id"].as_i64().unwrap();
    let (_, me) = link(&app, r["id"].as_i64().unwrap(), "13812345678").await;

    // what is wrong is named, and nothing is posted
    let (st, v) = app.post(&staff, "/api/v1/notices", json!({"title": " ", "body": "x"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("title")), "{v}");
    let (st, v) = app.post(&staff, "/api/v1/notices", json!({"title": "t", "body": "x", "grid": "nowhere"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("grid")), "{v}");
    let now = app.svc.now();
    let past = json!({"title": "t", "body": "x", "publish_until": rfc3339(now - HOUR_MS)});
    let (st, v) = app.post(&staff, "/api/v1/notices", past).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("publish_until")), "{v}");
    // a grid worker posts to their own grid only
    let (st, v) = app.post(&worker, "/api/v1/notices", json!({"title": "全社区", "body": "x"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) =
        app.post(&worker, "/api/v1/notices", json!({"title": "二网格", "body": "x", "grid": "chengnan-g02"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(app.get(&staff, "/api/v1/notices").await.1, json!([]));

    let post = |token: String, body: Value| {
        let app = &app;
        async move {
            let (st, v) = app.post(&token, "/api/v1/notices", body).await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
            v
        }
    };
    let water = post(staff.clone(), json!({"title": "停水通知", "body": "12月2日 9:00-15:00 停水"})).await;
    post(staff.clone(), json!({"title": "冬季防火", "body": "请勿在楼道堆放杂物", "pinned": true})).await;
    let g1 =
        post(worker.clone(), json!({"title": "一网格走访", "body": "本周走访独居老人", "grid": "chengnan-g01"})).await;
    assert_eq!((g1["audience"].as_str(), g1["status"].as_str()), (Some("grid"), Some("current")), "{g1}");
    let g2 = post(staff.clone(), json!({"title": "二网格议事会", "body": "x", "grid": "chengnan-g02"})).await;
    let b8 = post(worker.clone(), json!({"title": "8号楼电梯检修", "body": "x", "building_id": building})).await;
    assert_eq!(b8["audience"], "building");
    let later =
        post(staff.clone(), json!({"title": "元旦联欢", "body": "x", "publish_from": rfc3339(now + 2 * HOUR_MS)}))
            .await;
    assert_eq!(later["status"], "scheduled");

    // the resident: the pinned one first, then the newest; not grid 2's, not the scheduled one
    let (st, mine) = app.get(&me, "/api/v1/me/notices").await;
    assert_eq!(st, StatusCode::OK, "{mine}");
    assert_eq!(titles(&mine), ["冬季防火", "8号楼电梯检修", "一网格走访", "停水通知"]);
    assert!(mine.as_array().unwrap().iter().all(|n| n["read"] == false));
    let g2_id = g2["id"].as_i64().unwrap();
    assert_eq!(app.post(&me, &format!("/api/v1/me/notices/{g2_id}/read"), json!({})).await.0, StatusCode::NOT_FOUND);
    let id = water["id"].as_i64().unwrap();
    for _ in 0..2 {
        let (st, v) = app.post(&me, &format!("/api/v1/me/notices/{id}/read"), json!({})).await;
        assert_eq!((st, v["read"].as_bool()), (StatusCode::OK, Some(true)), "{v}");
    }
    let (_, list) = app.get(&staff, "/api/v1/notices").await;
    assert_eq!(titles(&list)[0], "冬季防火", "pinned heads the staff's list too, before the newer scheduled one");
    let reads =
        |list: &Value, id: i64| list.as_array().unwrap().iter().find(|n| n["id"] == id).unwrap()["reads"].clone();
    assert_eq!(reads(&list, id), 1, "read once however often opened");
    assert_eq!(reads(&list, g2_id), 0);

    // withdrawn, it is gone from the resident's list; the scheduled one comes in its time
    let (st, v) = app.post(&staff, &format!("/api/v1/notices/{id}/withdraw"), json!({})).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("withdrawn")), "{v}");
    assert_eq!(app.post(&staff, &format!("/api/v1/notices/{id}/withdraw"), json!({})).await.0, StatusCode::CONFLICT);
    // a grid worker changes nothing of another grid's
    assert_eq!(
        app.post(&worker, &format!("/api/v1/notices/{g2_id}/withdraw"), json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    assert!(app.audit().await.iter().any(|(a, o, _)| a == "notice" && o == "denied"), "denial audited");
    let (st, v) = app
        .send(reqwest::Method::PUT, &worker, &format!("/api/v1/notices/{}/pin", g1["id"]), json!({"pinned": true}))
        .await;
    assert_eq!((st, v["pinned"].as_bool()), (StatusCode::OK, Some(true)), "{v}");
    app.clock.advance(3 * HOUR_MS);
    let me = resident_token(&app, "13812345678").await;
    let (_, mine) = app.get(&me, "/api/v1/me/notices").await;
    assert_eq!(titles(&mine), ["一网格走访", "冬季防火", "元旦联欢", "8号楼电梯检修"]);

    // the home page lists them, and opening one shows it
    let page = app.browser();
    let login = [("username", "13812345678"), ("password", crate::me::PASSWORD), ("next", "/")];
    let r = page.post(format!("{}/login", app.url)).form(&login).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = page.get(format!("{}/", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("元旦联欢") && !html.contains("停水通知"), "{html}");
    let r = page.get(format!("{}/me/notices/{}", app.url, later["id"])).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("元旦联欢"));
}
