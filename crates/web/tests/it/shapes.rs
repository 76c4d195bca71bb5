//! The shapes of the API's main views, one snapshot per capability (insta):
//! a field added, renamed, retyped or dropped shows in review as a changed
//! snapshot. Values are redacted to their types (`"string"`, `"integer"`,
//! …; a list to the shape of its items), so the snapshots hold whatever the
//! data and the backend; the clock is fixed, so the seeded data is too.

use serde_json::{Map, Value, json};

use crate::helpers::TestApp;

/// A value with every leaf replaced by its type; a list by one item whose
/// shape merges all of them (a field that is null in one item and a string
/// in another is a string).
fn shape(v: &Value) -> Value {
    match v {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(n) => json!(if n.is_f64() { "number" } else { "integer" }),
        Value::String(_) => json!("string"),
        Value::Array(items) => match items.iter().map(shape).reduce(merge) {
            Some(one) => json!([one]),
            None => json!([]),
        },
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
    }
}

fn merge(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(mut a), Value::Object(b)) => {
            for (k, v) in b {
                let merged = match a.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                a.insert(k, merged);
            }
            Value::Object(a.into_iter().collect::<Map<_, _>>())
        }
        (Value::Array(a), Value::Array(b)) => match a.into_iter().chain(b).reduce(merge) {
            Some(one) => json!([one]),
            None => json!([]),
        },
        (a, b) if a == json!("null") => b,
        (a, _) => a,
    }
}

async fn view(app: &TestApp, token: &str, path: &str) -> Value {
    let (st, v) = app.get(token, path).await;
    assert!(st.is_success(), "{path}: {st} {v}");
    shape(&v)
}

fn first_id(v: &Value) -> i64 {
    v["items"][0]["id"].as_i64().or_else(|| v[0]["id"].as_i64()).expect("a first item")
}

/// The first hazard still in the community's hands at a known place: one
/// with every part of a case's view filled (its actions, its building,
/// who is at risk).
fn waiting_case(v: &Value) -> i64 {
    let items = v["items"].as_array().expect("a list");
    let open = ["submitted", "accepted", "in_progress"];
    let waiting = items.iter().find(|k| {
        k["kind"] == "hazard" && k["address"].is_string() && open.contains(&k["state"].as_str().unwrap_or(""))
    });
    waiting.and_then(|k| k["id"].as_i64()).expect("a hazard in hand")
}

#[tokio::test]
async fn the_main_views_keep_their_shape() {
    let app = TestApp::spawn().await;
    // a fixed day, so that the seeded months (and which fields are null in
    // the first item of a list) are the same whenever the test runs
    app.clock.set(chrono::DateTime::parse_from_rfc3339("2026-11-20T12:00:00+08:00").unwrap().timestamp_millis());
    app.seed_demo_all().await;
    let secretary = app.token("secretary").await;
    let worker = app.token("worker1").await;
    let resident = app.token("resident").await;

    let (_, residents) = app.get(&secretary, "/api/v1/residents?per_page=20").await;
    let (_, cases) = app.get(&secretary, "/api/v1/cases?box=all&per_page=50").await;
    let (_, projects) = app.get(&secretary, "/api/v1/projects").await;
    // a case open at the walk's first door, so that its shape is in the walk list
    let (_, walk) = app.get(&worker, "/api/v1/walk-list").await;
    let household = walk["stops"][0]["people"][0]["household_id"].clone();
    let body = json!({"category": "fire", "description": "楼道内电动车充电", "household_id": household});
    let (st, v) = app.post(&worker, "/api/v1/cases", body).await;
    assert_eq!(st, reqwest::StatusCode::CREATED, "{v}");
    let views = json!({
        "me": view(&app, &secretary, "/api/v1/me").await,
        "org": view(&app, &secretary, "/api/v1/org").await,
        "users": view(&app, &secretary, "/api/v1/users").await,
        "audit": view(&app, &secretary, "/api/v1/audit?per_page=50").await,
        "residents": shape(&residents),
        "resident": view(&app, &secretary, &format!("/api/v1/residents/{}", first_id(&residents))).await,
        "cases": shape(&cases),
        "case": view(&app, &secretary, &format!("/api/v1/cases/{}", waiting_case(&cases))).await,
        "walk_list": view(&app, &worker, "/api/v1/walk-list").await,
        "coverage": view(&app, &secretary, "/api/v1/coverage").await,
        "point_accounts": view(&app, &secretary, "/api/v1/points/accounts").await,
        "my_points": view(&app, &resident, "/api/v1/me/points").await,
        "activities": view(&app, &secretary, "/api/v1/activities").await,
        "shop_items": view(&app, &secretary, "/api/v1/shop/items").await,
        "redemptions": view(&app, &secretary, "/api/v1/shop/redemptions").await,
        "stations": view(&app, &secretary, "/api/v1/stations").await,
        "notices": view(&app, &secretary, "/api/v1/notices").await,
        "projects": shape(&projects),
        "project": view(&app, &secretary, &format!("/api/v1/projects/{}", first_id(&projects))).await,
        "pledges": view(&app, &secretary, "/api/v1/pledges").await,
        "dashboard": view(&app, &secretary, "/api/v1/dashboard").await,
    });
    for (name, shape) in views.as_object().unwrap() {
        insta::assert_json_snapshot!(name.as_str(), shape);
    }
}
