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
    let (st, v) = app.post(&s, "/api/v1/users", user("worker7", "grid_worker", "chengnan-g02")).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["grants"][0]["org_code"], "chengnan-g02");
    assert_eq!(app.login_raw("worker7", "stairwell-walker-7").await.status(), StatusCode::OK);

    let (st, _) = app.post(&s, "/api/v1/users", user("worker7", "grid_worker", "chengnan-g02")).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, v) = app.post(&s, "/api/v1/users", user("boss", "secretary", "chengnan")).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = app.post(&s, "/api/v1/users", user("far", "grid_worker", "zhengyang")).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("grants[0].scope")), "{v}");
    let (st, v) = app.post(&s, "/api/v1/users", user("worker8", "grid_worker", "chengnan")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "a grid worker belongs on a grid: {v}");
    let mut weak = user("worker9", "grid_worker", "chengnan-g03");
    weak["password"] = json!("password123");
    let (st, v) = app.post(&s, "/api/v1/users", weak).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("password")));

    let (_, list) = app.get(&s, "/api/v1/users").await;
    let names: Vec<&str> = list["items"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert!(names.contains(&"worker7") && names.contains(&"resident"));
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

/// The probe read residents' mobile numbers (their login names) in full
/// in the users list and page and in the audit log, as admin, secretary
/// and officer. Each shows them masked; the pages link by the account's id.
#[tokio::test]
async fn a_residents_mobile_number_is_masked_wherever_others_see_his_account() {
    let app = TestApp::spawn().await;
    let (_, resident) = crate::me::linked_resident(&app, "张大爷", "13812345678").await;
    let (st, _) = app.get(&resident, "/api/v1/me/points").await;
    assert_eq!(st, StatusCode::OK);
    let secretary = app.token("secretary").await;
    let (_, list) = app.get(&secretary, "/api/v1/users?per_page=500").await;
    let mine = list["items"].as_array().unwrap().iter().find(|u| u["display_name"] == "张大爷").unwrap().clone();
    assert_eq!(mine["username"], "138****5678");
    let id = mine["id"].as_i64().unwrap();
    let (st, one) = app.get(&secretary, &format!("/api/v1/users/~{id}")).await;
    assert_eq!((st, one["username"].as_str()), (StatusCode::OK, Some("138****5678")), "{one}");
    let (st, _) = app.get(&secretary, "/api/v1/users/~x").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    for who in ["admin", "secretary", "officer"] {
        let token = app.token(who).await;
        for path in ["/api/v1/users?per_page=500", "/api/v1/audit?per_page=500"] {
            let r = app.client().get(format!("{}{path}", app.url)).bearer_auth(&token).send().await.unwrap();
            let body = r.text().await.unwrap();
            assert!(!body.contains("13812345678"), "{who} {path}");
        }
    }
    let b = app.browser_as("secretary").await;
    for page in ["/users", "/audit"] {
        let html = b.get(format!("{}{page}", app.url)).send().await.unwrap().text().await.unwrap();
        assert!(!html.contains("13812345678"), "{page}");
    }
    let html = b.get(format!("{}/users", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("138****5678") && html.contains(&format!("/users/~{id}/disable")), "{html}");
    // nor does the stored log keep it
    let mut tx = app.db.db.read().await.unwrap();
    let rows = yijia_store::audit::chunk(&mut tx, 0, 100_000).await.unwrap();
    assert!(rows.iter().all(|e| !format!("{} {} {}", e.actor_name, e.object, e.detail).contains("13812345678")));
}
