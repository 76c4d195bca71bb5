//! The points ledger over HTTP: awards, linked transfers, failing for lack
//! of points (and staying failed), replays and reused ids, reversals,
//! statements, scope.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::role::Role;

use crate::helpers::TestApp;

pub(crate) async fn accounts(app: &TestApp, token: &str) -> (i64, i64) {
    let (st, v) = app.get(token, "/api/v1/points/accounts").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let of = |kind: &str| v.as_array().unwrap().iter().find(|a| a["kind"] == kind).unwrap()["id"].as_i64().unwrap();
    (of("pool"), of("adjustment"))
}

pub(crate) async fn resident(app: &TestApp, token: &str, name: &str) -> i64 {
    let body = json!({"name": name, "grid": "chengnan-g01", "relation": "户主", "residence": "permanent"});
    let (st, v) = app.post(token, "/api/v1/residents", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, a) = app.get(token, &format!("/api/v1/residents/{}/points", v["id"])).await;
    assert_eq!(st, StatusCode::OK, "{a}");
    assert_eq!(a["balance"], 0);
    a["id"].as_i64().unwrap()
}

pub(crate) fn one(id: &str, from: i64, to: i64, amount: i64, kind: &str) -> Value {
    json!({"client_id": id, "transfers": [{"from": from, "to": to, "amount": amount, "kind": kind, "memo": "志愿服务 2 小时"}]})
}

async fn balance(app: &TestApp, token: &str, account: i64) -> i64 {
    let (st, s) = app.get(token, &format!("/api/v1/points/accounts/{account}/statement")).await;
    assert_eq!(st, StatusCode::OK, "{s}");
    s["closing"].as_i64().unwrap()
}

#[tokio::test]
async fn points_move_once_per_id_and_never_below_zero() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let (pool, adjust) = accounts(&app, &staff).await;
    let zhang = resident(&app, &staff, "张阿姨").await;
    let li = resident(&app, &staff, "李叔叔").await;

    // an award: 201, then the same id again: 200 and the same transfer
    let (st, first) = app.post(&staff, "/api/v1/points/transfers", one("award-1", pool, zhang, 20, "award")).await;
    assert_eq!(st, StatusCode::CREATED, "{first}");
    assert_eq!(first["status"], "done");
    let (st, again) = app.post(&staff, "/api/v1/points/transfers", one("award-1", pool, zhang, 20, "award")).await;
    assert_eq!(st, StatusCode::OK, "{again}");
    assert_eq!(again["replayed"], true);
    assert_eq!(again["transfers"], first["transfers"]);
    assert_eq!(balance(&app, &staff, zhang).await, 20, "moved once");
    // the same id with other contents is refused
    let (st, v) = app.post(&staff, "/api/v1/points/transfers", one("award-1", pool, zhang, 25, "award")).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{v}");

    // spending more than she has fails, moves nothing, and stays failed
    let (st, v) = app.post(&staff, "/api/v1/points/transfers", one("spend-1", zhang, adjust, 30, "adjust")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["code"], "insufficient_points");
    assert_eq!(v["error"]["field"], "transfers[0].amount");
    app.post(&staff, "/api/v1/points/transfers", one("award-2", pool, zhang, 20, "award")).await;
    let (st, _) = app.post(&staff, "/api/v1/points/transfers", one("spend-1", zhang, adjust, 30, "adjust")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a failed id stays failed though she has 40 now");
    assert_eq!(balance(&app, &staff, zhang).await, 40);

    // linked transfers: all or none
    let linked = |id: &str, amount: i64| {
        json!({"client_id": id, "transfers": [
            {"from": zhang, "to": adjust, "amount": amount, "kind": "adjust", "memo": "转给李叔叔"},
            {"from": adjust, "to": li, "amount": amount, "kind": "adjust", "memo": "张阿姨转来"},
        ]})
    };
    let (st, v) = app.post(&staff, "/api/v1/points/transfers", linked("link-1", 50)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!((balance(&app, &staff, zhang).await, balance(&app, &staff, li).await), (40, 0), "none happened");
    let (st, v) = app.post(&staff, "/api/v1/points/transfers", linked("link-2", 15)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!((balance(&app, &staff, zhang).await, balance(&app, &staff, li).await), (25, 15), "both happened");

    // a reversal needs a reason, happens once, and is not itself reversed
    let award = first["transfers"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/points/transfers/{award}/reversal");
    let (st, v) = app.post(&staff, &path, json!({"client_id": "rev-1", "reason": " "})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")), "{v}");
    let (st, rev) = app.post(&staff, &path, json!({"client_id": "rev-1", "reason": "重复录入"})).await;
    assert_eq!(st, StatusCode::CREATED, "{rev}");
    assert_eq!(rev["transfers"][0]["reverses"], award);
    assert_eq!((rev["transfers"][0]["from"].as_i64(), rev["transfers"][0]["to"].as_i64()), (Some(zhang), Some(pool)));
    assert_eq!(balance(&app, &staff, zhang).await, 5);
    let (st, _) = app.post(&staff, &path, json!({"client_id": "rev-1", "reason": "重复录入"})).await;
    assert_eq!(st, StatusCode::OK, "the same reversal sent again");
    let (st, v) = app.post(&staff, &path, json!({"client_id": "rev-2", "reason": "再冲一次"})).await;
    assert_eq!(st, StatusCode::CONFLICT, "reversed once only: {v}");
    let rid = rev["transfers"][0]["id"].as_i64().unwrap();
    let (st, v) = app
        .post(&staff, &format!("/api/v1/points/transfers/{rid}/reversal"), json!({"client_id": "rev-3", "reason": "x"}))
        .await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("transfer")), "{v}");

    // the statement: every line with the balance after it
    let (_, s) = app.get(&staff, &format!("/api/v1/points/accounts/{zhang}/statement")).await;
    let changes: Vec<i64> = s["lines"].as_array().unwrap().iter().map(|l| l["change"].as_i64().unwrap()).collect();
    assert_eq!(changes, [20, 20, -15, -20]);
    assert_eq!(
        (s["opening"].as_i64(), s["points_in"].as_i64(), s["points_out"].as_i64()),
        (Some(0), Some(40), Some(35))
    );
    assert_eq!(s["lines"][3]["balance"], 5);
    let (st, v) = app.get(&staff, &format!("/api/v1/points/accounts/{zhang}/statement?month=11-2026")).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("month")), "{v}");

    // the pool went below zero by what residents hold: the books balance
    assert_eq!(balance(&app, &staff, pool).await + balance(&app, &staff, adjust).await + 5 + 15, 0);
    let audit = app.audit().await;
    assert_eq!(audit.iter().filter(|(a, _, _)| a == "points_transfer").count(), 3, "the done ones, once each");
    assert_eq!(audit.iter().filter(|(a, _, _)| a == "points_reverse").count(), 1);
}

#[tokio::test]
async fn points_stay_in_their_community() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let (pool, _) = accounts(&app, &staff).await;
    let zhang = resident(&app, &staff, "张阿姨").await;
    // a grid worker and a resident do not move points; a clerk reads but does not move
    let worker = app.token("worker1").await;
    let (st, _) = app.post(&worker, "/api/v1/points/transfers", one("w-1", pool, zhang, 5, "award")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let clerk = app.token("clerk").await;
    assert_eq!(app.get(&clerk, &format!("/api/v1/points/accounts/{zhang}/statement")).await.0, StatusCode::OK);
    assert_eq!(
        app.post(&clerk, "/api/v1/points/transfers", one("c-1", pool, zhang, 5, "award")).await.0,
        StatusCode::NOT_FOUND
    );
    // staff of another community see nothing of this one's, and the denial is audited
    let svc = &app.svc;
    svc.org_create(
        &yijia_service::Caller::operator(),
        yijia_service::org::NewNode {
            code: "beiyuan".into(),
            kind: "community".into(),
            name: "北苑社区".into(),
            parent: "zhengyang".into(),
            boundary: None,
        },
    )
    .await
    .unwrap();
    let other = app.add_user("beiyuan-staff", Role::CommunityStaff, "beiyuan").await;
    let (st, _) = app.post(&other, "/api/v1/points/transfers", one("o-1", pool, zhang, 5, "award")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&other, &format!("/api/v1/points/accounts/{zhang}/statement")).await.0, StatusCode::NOT_FOUND);
    let (other_pool, _) = accounts(&app, &other).await;
    // an account of another community in the same request is refused by name
    let (st, v) = app.post(&other, "/api/v1/points/transfers", one("o-2", other_pool, zhang, 5, "award")).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("transfers[0].to")), "{v}");
    assert_eq!(balance(&app, &staff, zhang).await, 0);
    assert!(app.audit().await.iter().any(|(a, o, _)| a == "points" && o == "denied"), "denial audited");
    // shop and activity kinds are not made by hand
    let (st, v) = app.post(&staff, "/api/v1/points/transfers", one("k-1", pool, zhang, 5, "redeem")).await;
    assert_eq!(
        (st, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("transfers[0].kind")),
        "{v}"
    );
}

#[tokio::test]
async fn a_large_adjustment_waits_for_a_second_person() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let secretary = app.token("secretary").await;
    let (pool, adjust) = accounts(&app, &staff).await;
    let zhang = resident(&app, &staff, "张阿姨").await;
    let transfers = "/api/v1/points/transfers";
    // an award up to the limit goes at once
    assert_eq!(app.post(&staff, transfers, one("big-award", pool, zhang, 400, "award")).await.0, StatusCode::CREATED);
    // an adjustment above the limit (500) waits, moving nothing
    let (st, v) = app.post(&staff, transfers, one("adj-1", adjust, zhang, 600, "adjust")).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::ACCEPTED, Some("pending")), "{v}");
    assert_eq!(balance(&app, &staff, zhang).await, 400);
    let (st, v) = app.post(&staff, transfers, one("adj-1", adjust, zhang, 600, "adjust")).await;
    assert_eq!((st, v["replayed"].as_bool()), (StatusCode::ACCEPTED, Some(true)), "still waiting: {v}");
    assert_eq!(app.post(&staff, transfers, one("adj-1", adjust, zhang, 601, "adjust")).await.0, StatusCode::CONFLICT);
    let (_, waiting) = app.get(&secretary, "/api/v1/points/approvals").await;
    assert_eq!(waiting[0]["client_id"], "adj-1", "{waiting}");
    assert_eq!(waiting[0]["transfers"][0]["amount"], 600);

    // not by the one who asked; by the secretary, once
    let (st, _) = app.post(&staff, "/api/v1/points/approvals/adj-1/approve", json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, v) = app.post(&secretary, "/api/v1/points/approvals/adj-1/approve", json!({})).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::CREATED, Some("done")), "{v}");
    assert_eq!(balance(&app, &staff, zhang).await, 1000);
    assert_eq!(app.post(&secretary, "/api/v1/points/approvals/adj-1/approve", json!({})).await.0, StatusCode::CONFLICT);
    let (st, v) = app.post(&staff, transfers, one("adj-1", adjust, zhang, 600, "adjust")).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("done")), "the asker's resend finds it done: {v}");
    assert_eq!(balance(&app, &staff, zhang).await, 1000);

    // rejected, with a reason; sent again it stays rejected
    app.post(&staff, transfers, one("adj-2", adjust, zhang, 700, "adjust")).await;
    let (st, _) = app.post(&secretary, "/api/v1/points/approvals/adj-2/reject", json!({"reason": " "})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, v) = app.post(&secretary, "/api/v1/points/approvals/adj-2/reject", json!({"reason": "没有依据"})).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("rejected")), "{v}");
    let (st, v) = app.post(&staff, transfers, one("adj-2", adjust, zhang, 700, "adjust")).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("rejected")), "{v}");
    assert_eq!(balance(&app, &staff, zhang).await, 1000);

    // approved but short of points: it fails, and stays failed
    app.post(&staff, transfers, one("adj-3", zhang, adjust, 2000, "adjust")).await;
    let (st, v) = app.post(&secretary, "/api/v1/points/approvals/adj-3/approve", json!({})).await;
    assert_eq!(
        (st, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("insufficient_points")),
        "{v}"
    );
    assert_eq!(
        app.post(&staff, transfers, one("adj-3", zhang, adjust, 2000, "adjust")).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(balance(&app, &staff, zhang).await, 1000);
    let audit = app.audit().await;
    assert_eq!(audit.iter().filter(|(a, _, _)| a == "points_approval_ask").count(), 3);
    assert_eq!(audit.iter().filter(|(a, _, _)| a == "points_approval").count(), 3);
}

/// The probe minted a million points with one award, and 10,000 with
/// twenty legs of 500: the second person's rule holds for what one person
/// moves to one account in a request and in a day, whatever the kind, and
/// two requests at once count each other.
#[tokio::test]
async fn the_two_person_rule_holds_for_every_kind_and_adds_up_over_a_day() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let (pool, adjust) = accounts(&app, &staff).await;
    let zhang = resident(&app, &staff, "张阿姨").await;
    let li = resident(&app, &staff, "李叔叔").await;
    let transfers = "/api/v1/points/transfers";
    let (st, v) = app.post(&staff, transfers, one("mint", pool, zhang, 1_000_000, "award")).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::ACCEPTED, Some("pending")), "{v}");
    let legs: Vec<Value> = (0..20)
        .map(|_| json!({"from": adjust, "to": zhang, "amount": 500, "kind": "adjust", "memo": "补录"}))
        .collect();
    let (st, v) = app.post(&staff, transfers, json!({"client_id": "twenty", "transfers": legs})).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::ACCEPTED, Some("pending")), "{v}");
    let small: Vec<Value> = (0..20)
        .map(|_| json!({"from": pool, "to": zhang, "amount": 30, "kind": "award", "memo": "志愿服务"}))
        .collect();
    let (st, v) = app.post(&staff, transfers, json!({"client_id": "small", "transfers": small})).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::ACCEPTED, Some("pending")), "600 in small legs: {v}");
    assert_eq!(balance(&app, &staff, zhang).await, 0, "nothing moved");

    // awards come from the pool only, to residents only
    let (st, v) = app.post(&staff, transfers, one("from-li", li, zhang, 5, "award")).await;
    assert_eq!(
        (st, v["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("transfers[0].from")),
        "{v}"
    );
    let (st, v) = app.post(&staff, transfers, one("to-adjust", pool, adjust, 5, "award")).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("transfers[0].to")), "{v}");
    let (st, v) = app.post(&staff, transfers, one("li-zhang", li, zhang, 5, "adjust")).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("transfers[0].to")), "{v}");

    // ten requests of 100 at once: five go, the rest wait
    let sends = (0..10).map(|i| {
        let (app, staff) = (&app, &staff);
        async move { app.post(staff, transfers, one(&format!("race-{i}"), pool, zhang, 100, "award")).await }
    });
    let answers = futures_util::future::join_all(sends).await;
    let done = answers.iter().filter(|(st, _)| *st == StatusCode::CREATED).count();
    let waiting = answers.iter().filter(|(st, _)| *st == StatusCode::ACCEPTED).count();
    assert_eq!((done, waiting), (5, 5), "{answers:?}");
    assert_eq!(balance(&app, &staff, zhang).await, 500);
    // another account the same day, and the same account the next day
    assert_eq!(app.post(&staff, transfers, one("li-1", pool, li, 500, "award")).await.0, StatusCode::CREATED);
    app.clock.advance(24 * 3_600_000);
    let staff = app.token("staff").await;
    assert_eq!(app.post(&staff, transfers, one("next-day", pool, zhang, 100, "award")).await.0, StatusCode::CREATED);
}
