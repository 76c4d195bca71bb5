use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn user(username: &str, role: &str, scope: &str) -> Value {
    json!({"username": username, "display_name": "新网格员", "password": "stairwell-walker-7", "grants": [{"role": role, "scope": scope}]})
}

#[tokio::test]
async fn a_secretary_manages_the_users_of_her_community() {
    let app = TestApp::spawn().await;
    let s = app.token("secretary").await;
    let (st, v) = app.post(&s, "/api/v1/users", user("worker2", "grid_worker", "chengnan-g02")).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["grants"][0]["org_code"], "chengnan-g02");
    assert_eq!(app.login_raw("worker2", "stairwell-walker-7").await.status(), StatusCode::OK);

    let (st, _) = app.post(&s, "/api/v1/users", user("worker2", "grid_worker", "chengnan-g02")).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, v) = app.post(&s, "/api/v1/users", user("boss", "secretary", "chengnan")).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = app.post(&s, "/api/v1/users", user("far", "grid_worker", "zhengyang")).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("grants[0].scope")), "{v}");
    let (st, v) = app.post(&s, "/api/v1/users", user("worker3", "grid_worker", "chengnan")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a grid worker belongs on a grid: {v}");
    let mut weak = user("worker4", "grid_worker", "chengnan-g03");
    weak["password"] = json!("password123");
    let (st, v) = app.post(&s, "/api/v1/users", weak).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("password")));

    let (_, list) = app.get(&s, "/api/v1/users").await;
    let names: Vec<&str> = list["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert!(names.contains(&"worker2") && names.contains(&"resident"));
    assert!(!names.contains(&"admin") && !names.contains(&"officer"), "outside her community: {names:?}");
    assert_eq!(list["total"].as_i64(), Some(names.len() as i64));

    // the admin and the officer are outside her scope: 404, audited
    let (st, _) = app.post(&s, "/api/v1/users/officer/disable", json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = app.get(&s, "/api/v1/users/admin").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let audit = app.audit().await;
    assert!(audit.iter().any(|(a, o, _)| a == "user_disable" && o == "denied"));
    assert!(audit.iter().any(|(a, o, _)| a == "user_add" && o == "ok"));
    // she cannot disable herself
    let (st, _) = app.post(&s, "/api/v1/users/secretary/disable", json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "secretaries are not in a secretary's scope");
}

#[tokio::test]
async fn a_street_officer_reads_the_audit_log_of_the_subdistrict() {
    let app = TestApp::spawn().await;
    let _ = app.token("worker1").await;
    let o = app.token("officer").await;
    let (s, v) = app.get(&o, "/api/v1/audit?action=login").await;
    assert_eq!(s, StatusCode::OK);
    let actors: Vec<&str> = v["items"].as_array().unwrap().iter().map(|e| e["actor"].as_str().unwrap()).collect();
    assert!(actors.contains(&"worker1") && actors.contains(&"officer"), "{actors:?}");
    assert!(v["items"][0]["at"].as_str().unwrap().ends_with("+08:00"));
    // the officer does not manage users
    assert_eq!(app.get(&o, "/api/v1/users").await.0, StatusCode::NOT_FOUND);
}
