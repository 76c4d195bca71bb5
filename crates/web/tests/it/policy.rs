//! Every route declares a policy; the public ones are few and named here;
//! every other one refuses a caller without a session.

use reqwest::{Method, StatusCode};
use yijia_web::policy::Policy;

use crate::helpers::TestApp;

/// The only routes anyone may call without logging in.
const PUBLIC: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/api/openapi.json"),
    ("POST", "/api/v1/auth/login"),
    // a resident opens their account with the code their grid worker gave
    ("POST", "/api/v1/join"),
    ("GET", "/join"),
    ("POST", "/join"),
    // the honours board names only residents who chose so
    ("GET", "/api/v1/honours"),
    ("GET", "/api/v1/boards/spending"),
    ("GET", "/api/v1/boards/photos/{id}"),
    ("GET", "/api/v1/boards/pledges"),
    ("GET", "/api/v1/boards/pledge-photos/{id}"),
    ("GET", "/boards/pledges"),
    ("GET", "/boards/spending"),
    ("GET", "/honours"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/lang/{lang}"),
    // Open311 GeoReport v2: reading is public (no personal data), filing takes an api_key
    ("GET", "/open311/v2/{resource}"),
    ("POST", "/open311/v2/{resource}"),
    ("GET", "/open311/v2/services/{code}"),
    ("GET", "/open311/v2/requests/{id}"),
    ("GET", "/open311/v2/tokens/{token}"),
];

fn concrete(path: &str) -> String {
    path.replace("{code}", "chengnan").replace("{username}", "worker1").replace("{lang}", "en").replace("{id}", "1")
}

#[tokio::test]
async fn every_route_has_a_policy_and_only_the_allowlist_is_public() {
    let app = TestApp::spawn().await;
    let (_, table) =
        yijia_web::app(yijia_web::AppState { svc: app.svc.clone(), cfg: yijia_web::WebConfig { tls: false } });
    assert!(table.len() > 20, "the table lists the routes: {}", table.len());
    let client = app.client();
    for r in &table {
        let key = (r.method.as_str(), r.path);
        if r.policy == Policy::Public {
            assert!(PUBLIC.contains(&key), "{key:?} is public but not on the allowlist");
            continue;
        }
        let method = Method::from_bytes(r.method.as_str().as_bytes()).unwrap();
        let res = client
            .request(method, format!("{}{}", app.url, concrete(r.path)))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        if r.path.starts_with("/api/") {
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{key:?} without a session");
        } else {
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{key:?} without a session");
            assert!(res.headers()["location"].to_str().unwrap().starts_with("/login?next="), "{key:?}");
        }
    }
    for p in PUBLIC {
        assert!(table.iter().any(|r| (r.method.as_str(), r.path) == *p), "{p:?} on the allowlist but not routed");
    }
}

#[tokio::test]
async fn a_role_without_the_route_gets_404_and_the_denial_is_audited() {
    let app = TestApp::spawn().await;
    let t = app.token("resident").await;
    for path in ["/api/v1/org", "/api/v1/users", "/api/v1/audit"] {
        let (s, v) = app.get(&t, path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(v["error"]["code"], "not_found");
    }
    let denials: Vec<_> = app.audit().await.into_iter().filter(|(a, o, _)| a == "route" && o == "denied").collect();
    assert_eq!(denials.len(), 3, "{denials:?}");
    // admins manage the deployment, not residents' data: the audit log is
    // open to them, user pages too, but a clerk reads neither
    let c = app.token("clerk").await;
    assert_eq!(app.get(&c, "/api/v1/audit").await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&c, "/api/v1/users").await.0, StatusCode::NOT_FOUND);
}
