//! The love-points shop over HTTP: items and stock with reasons,
//! redemptions with pickup codes, handing over, cancelling, limits, the
//! monthly report; and a thousand redemptions at once.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

async fn resident_with_points(app: &TestApp, token: &str, name: &str, points: i64) -> (i64, i64) {
    let body = json!({"name": name, "grid": "chengnan-g01", "relation": "户主", "residence": "permanent"});
    let (st, v) = app.post(token, "/api/v1/residents", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    (id, award(app, token, id, points).await)
}

/// Gives a resident points from the pool; answers their account.
pub(crate) async fn award(app: &TestApp, token: &str, id: i64, points: i64) -> i64 {
    let account = app.get(token, &format!("/api/v1/residents/{id}/points")).await.1["id"].as_i64().unwrap();
    if points > 0 {
        let (_, accounts) = app.get(token, "/api/v1/points/accounts").await;
        let pool = accounts.as_array().unwrap().iter().find(|a| a["kind"] == "pool").unwrap()["id"].as_i64().unwrap();
        let award = json!({"client_id": format!("seed-{id}"), "transfers": [{"from": pool, "to": account, "amount": points, "memo": "志愿服务"}]});
        let (st, v) = app.post(token, "/api/v1/points/transfers", award).await;
        if points > yijia_domain::points::APPROVAL_LIMIT {
            assert_eq!(st, StatusCode::ACCEPTED, "a second person approves: {v}");
            let secretary = app.token("secretary").await;
            let (st, v) = app.post(&secretary, &format!("/api/v1/points/approvals/seed-{id}/approve"), json!({})).await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
        } else {
            assert_eq!(st, StatusCode::CREATED, "{v}");
        }
    }
    account
}

pub(crate) async fn item(app: &TestApp, token: &str, name: &str, price: i64, stock: i64, limit: Option<i64>) -> i64 {
    let (st, v) =
        app.post(token, "/api/v1/shop/items", json!({"name": name, "price": price, "monthly_limit": limit})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["stock"], 0, "stock comes in with a reason");
    if stock > 0 {
        let (st, v) = app
            .post(token, &format!("/api/v1/shop/items/{id}/stock"), json!({"change": stock, "reason": "到货"}))
            .await;
        assert_eq!((st, v["stock"].as_i64()), (StatusCode::OK, Some(stock)), "{v}");
    }
    id
}

async fn balance(app: &TestApp, token: &str, account: i64) -> i64 {
    app.get(token, &format!("/api/v1/points/accounts/{account}/statement")).await.1["closing"].as_i64().unwrap()
}

async fn stock(app: &TestApp, token: &str, id: i64) -> i64 {
    let (_, items) = app.get(token, "/api/v1/shop/items").await;
    items.as_array().unwrap().iter().find(|i| i["id"] == id).unwrap()["stock"].as_i64().unwrap()
}

fn redeem(id: &str, resident: i64, item: i64, quantity: i64) -> Value {
    json!({"client_id": id, "resident_id": resident, "item_id": item, "quantity": quantity})
}

#[tokio::test]
async fn a_bag_of_rice_is_redeemed_handed_over_or_cancelled() {
    let app = TestApp::spawn().await;
    let clerk = app.token("clerk").await;
    let staff = app.token("staff").await;
    let (zhang, account) = resident_with_points(&app, &staff, "张阿姨", 500).await;
    let rice = item(&app, &clerk, "大米 5kg", 200, 3, Some(2)).await;
    let oil = item(&app, &clerk, "食用油 1.8L", 150, 1, None).await;

    // stock out needs a reason, and never goes below zero
    let (st, v) =
        app.post(&clerk, &format!("/api/v1/shop/items/{rice}/stock"), json!({"change": -1, "reason": ""})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")), "{v}");
    let (st, v) =
        app.post(&clerk, &format!("/api/v1/shop/items/{rice}/stock"), json!({"change": -4, "reason": "盘点"})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("change")), "{v}");
    let (st, _) = app.post(&clerk, "/api/v1/shop/items", json!({"name": "大米 5kg", "price": 1})).await;
    assert_eq!(st, StatusCode::CONFLICT, "one item of a name");

    // a redemption takes points and stock together and gives a pickup code
    let (st, r) = app.post(&clerk, "/api/v1/shop/redemptions", redeem("r-1", zhang, rice, 1)).await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let code = r["redemption"]["pickup_code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    assert_eq!(r["redemption"]["status"], "waiting");
    assert_eq!((balance(&app, &clerk, account).await, stock(&app, &clerk, rice).await), (300, 2));
    // sent again: the same redemption, nothing taken twice
    let (st, again) = app.post(&clerk, "/api/v1/shop/redemptions", redeem("r-1", zhang, rice, 1)).await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(again["redemption"], r["redemption"]);
    assert_eq!((balance(&app, &clerk, account).await, stock(&app, &clerk, rice).await), (300, 2));
    let (st, _) = app.post(&clerk, "/api/v1/shop/redemptions", redeem("r-1", zhang, rice, 2)).await;
    assert_eq!(st, StatusCode::CONFLICT, "the same id for another redemption");

    // at the counter: found by its code, handed over once
    let (st, found) = app.get(&clerk, &format!("/api/v1/shop/redemptions?code={code}")).await;
    assert_eq!((st, found[0]["id"].clone()), (StatusCode::OK, r["redemption"]["id"].clone()), "{found}");
    let rid = r["redemption"]["id"].as_i64().unwrap();
    let (st, v) = app.post(&clerk, &format!("/api/v1/shop/redemptions/{rid}/handover"), json!({})).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("handed_over")), "{v}");
    let (st, _) = app.post(&clerk, &format!("/api/v1/shop/redemptions/{rid}/handover"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, _) = app.post(&clerk, &format!("/api/v1/shop/redemptions/{rid}/cancel"), json!({"reason": "x"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "handed over is not cancelled");
    assert_eq!(app.get(&clerk, &format!("/api/v1/shop/redemptions?code={code}")).await.0, StatusCode::NOT_FOUND);

    // the monthly limit of two bags: the third is refused, and stays refused
    let (st, _) = app.post(&clerk, "/api/v1/shop/redemptions", redeem("r-2", zhang, rice, 1)).await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, v) = app.post(&clerk, "/api/v1/shop/redemptions", redeem("r-3", zhang, rice, 1)).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("over_limit")), "{v}");
    assert_eq!((balance(&app, &clerk, account).await, stock(&app, &clerk, rice).await), (100, 1));

    // not enough points; then out of stock; each failure moves nothing
    let (st, v) = app.post(&clerk, "/api/v1/shop/redemptions", redeem("r-4", zhang, oil, 1)).await;
    assert_eq!(
        (st, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("insufficient_points")),
        "{v}"
    );
    let (li, _) = resident_with_points(&app, &staff, "李叔叔", 1000).await;
    let (st, v) = app.post(&clerk, "/api/v1/shop/redemptions", redeem("r-5", li, oil, 2)).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("out_of_stock")), "{v}");
    let (st, v) = app.post(&clerk, "/api/v1/shop/redemptions", redeem("r-5", li, oil, 2)).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("out_of_stock")), "replayed");
    assert_eq!(stock(&app, &clerk, oil).await, 1);

    // cancelled: the points and the bag go back
    let (_, r2) = app.post(&clerk, "/api/v1/shop/redemptions", redeem("r-2", zhang, rice, 1)).await;
    let rid2 = r2["redemption"]["id"].as_i64().unwrap();
    let (st, v) = app.post(&clerk, &format!("/api/v1/shop/redemptions/{rid2}/cancel"), json!({"reason": " "})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")), "{v}");
    let (st, v) =
        app.post(&clerk, &format!("/api/v1/shop/redemptions/{rid2}/cancel"), json!({"reason": "居民不要了"})).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("cancelled")), "{v}");
    assert_eq!((balance(&app, &clerk, account).await, stock(&app, &clerk, rice).await), (300, 2));

    // the month: 1500 issued, one bag (200) redeemed, 1300 held; one bag handed out
    let (st, rep) = app.get(&clerk, "/api/v1/shop/report").await;
    assert_eq!(st, StatusCode::OK, "{rep}");
    assert_eq!(
        (rep["issued"].as_i64(), rep["redeemed"].as_i64(), rep["outstanding"].as_i64()),
        (Some(1500), Some(200), Some(1300)),
        "{rep}"
    );
    assert_eq!(rep["handed_out"], json!([{"item": "大米 5kg", "quantity": 1}]));
    // a grid worker does not keep the shop
    let worker = app.token("worker1").await;
    assert_eq!(
        app.post(&worker, "/api/v1/shop/redemptions", redeem("w-1", zhang, rice, 1)).await.0,
        StatusCode::NOT_FOUND
    );
    let audit = app.audit().await;
    for action in ["shop_item", "shop_stock", "shop_redeem", "shop_hand_over", "shop_cancel"] {
        assert!(audit.iter().any(|(a, _, _)| a == action), "{action} audited");
    }
}

/// A thousand redemptions sent at once.
async fn at_once(app: &TestApp, token: &str, bodies: Vec<Value>) -> (usize, usize) {
    let client = app.client();
    let futures = bodies.into_iter().map(|b| {
        let c = client.clone();
        let url = format!("{}/api/v1/shop/redemptions", app.url);
        let token = token.to_owned();
        async move { c.post(url).bearer_auth(token).json(&b).send().await.unwrap().status() }
    });
    let statuses = futures_util::future::join_all(futures).await;
    let ok = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY).count();
    (ok, refused)
}

#[tokio::test]
async fn a_thousand_redemptions_at_once_take_exactly_what_there_is() {
    let app = TestApp::spawn().await;
    let clerk = app.token("clerk").await;
    let staff = app.token("staff").await;
    // the stock covers 37 of 1000
    let mut people = Vec::new();
    for name in ["赵一", "钱二", "孙三", "李四", "周五"] {
        people.push(resident_with_points(&app, &staff, name, 100_000).await.0);
    }
    let soap = item(&app, &clerk, "肥皂", 10, 37, None).await;
    let bodies = (0..1000).map(|i| redeem(&format!("soap-{i}"), people[i % 5], soap, 1)).collect();
    assert_eq!(at_once(&app, &clerk, bodies).await, (37, 963));
    assert_eq!(stock(&app, &clerk, soap).await, 0);

    // a balance that covers 23 of 1000
    let (poor, account) = resident_with_points(&app, &staff, "王奶奶", 23 * 7).await;
    let towel = item(&app, &clerk, "毛巾", 7, 5000, None).await;
    let bodies = (0..1000).map(|i| redeem(&format!("towel-{i}"), poor, towel, 1)).collect();
    assert_eq!(at_once(&app, &clerk, bodies).await, (23, 977));
    assert_eq!((balance(&app, &clerk, account).await, stock(&app, &clerk, towel).await), (0, 5000 - 23));

    let mut tx = app.db.db.read().await.unwrap();
    assert_eq!(yijia_store::points::verify(&mut tx).await.unwrap(), (vec![], 0), "the books balance");
    for id in [soap, towel] {
        let item = yijia_store::shop::item(&mut tx, id).await.unwrap().unwrap();
        assert_eq!(
            yijia_store::shop::stock_from_changes(&mut tx, id).await.unwrap(),
            item.stock,
            "stock = its changes"
        );
    }
}

#[tokio::test]
async fn an_item_has_a_photo_cleaned_and_shown_to_the_shop_and_not_beyond() {
    let app = TestApp::spawn().await;
    let clerk = app.token("clerk").await;
    let soap = item(&app, &clerk, "肥皂", 4, 10, None).await;
    let upload = |bytes: Vec<u8>| {
        reqwest::multipart::Form::new().part("photo", reqwest::multipart::Part::bytes(bytes).file_name("soap.jpg"))
    };
    let url = format!("{}/api/v1/shop/items/{soap}/photo", app.url);
    let post = |form| app.client().post(&url).bearer_auth(&clerk).multipart(form).send();
    let r = post(upload(b"<html>".to_vec())).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "not a picture");
    let (_, items) = app.get(&clerk, "/api/v1/shop/items").await;
    assert_eq!(items[0]["has_photo"], false, "nothing kept of a refused upload");

    let r = post(upload(yijia_service::photos::sample_jpeg_with_gps(64, 48))).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["has_photo"], true);
    let r = app.client().get(&url).bearer_auth(&clerk).send().await.unwrap();
    assert_eq!((r.status(), r.headers()["content-type"].to_str().unwrap()), (StatusCode::OK, "image/jpeg"));
    let bytes = r.bytes().await.unwrap();
    assert!(!bytes.windows(6).any(|w| w == b"GPSLAT"), "the location is gone");
    // an admin sees no shop; a grid worker has no part in it
    for who in ["admin", "worker1"] {
        let t = app.token(who).await;
        assert_eq!(app.client().get(&url).bearer_auth(&t).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }
    // a resident's account not linked to a record of this community: 404, and the denial audited
    let t = app.token("resident").await;
    assert_eq!(app.client().get(&url).bearer_auth(&t).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let audit = app.audit().await;
    assert!(audit.iter().any(|(a, o, obj)| a == "shop" && o == "denied" && *obj == format!("item:{soap}")));
}

#[tokio::test]
async fn the_counter_page_names_a_number_that_is_not_one_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let clerk = app.token("clerk").await;
    let soap = item(&app, &clerk, "肥皂", 4, 10, None).await;
    let b = app.browser_as("clerk").await;
    let html = b.get(format!("{}/shop", app.url)).send().await.unwrap().text().await.unwrap();
    let csrf = html.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let r = b
        .post(format!("{}/shop/items/{soap}/stock", app.url))
        .form(&[("_csrf", csrf.as_str()), ("change", "十"), ("reason", "到货")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("不是有效的数字: 十"));
    let (_, items) = app.get(&clerk, "/api/v1/shop/items").await;
    assert_eq!(items[0]["stock"], 10, "nothing moved");
}
