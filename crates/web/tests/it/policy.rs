//! Every route declares a policy; the public ones are few and named here;
//! every other one refuses a caller without a session.

use reqwest::{Method, StatusCode};
use yijia_web::policy::{Policy, RouteSpec, Scope};

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
    ("GET", "/boards"),
    ("GET", "/boards/poster"),
    ("GET", "/honours"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/lang/{lang}"),
    ("GET", "/large/{on}"),
    // a resident's login with a one-time SMS code
    ("POST", "/login/sms"),
    ("POST", "/api/v1/auth/sms-code"),
    ("POST", "/api/v1/auth/sms-login"),
    // Open311 GeoReport v2: reading is public (no personal data), filing takes an api_key
    ("GET", "/open311/v2/{resource}"),
    ("POST", "/open311/v2/{resource}"),
    ("GET", "/open311/v2/services/{code}"),
    ("GET", "/open311/v2/requests/{id}"),
    ("GET", "/open311/v2/tokens/{token}"),
    // the SMS provider pushes receipts and replies, with the secret set up for it in the path
    ("POST", "/api/v1/sms/receipts/{token}"),
    ("POST", "/api/v1/sms/replies/{token}"),
];

fn concrete(path: &str) -> String {
    let year = chrono::Datelike::year(&chrono::Utc::now()).to_string();
    path.replace("{code}", "chengnan")
        .replace("{username}", "worker1")
        .replace("{lang}", "en")
        .replace("{on}", "1")
        .replace("{id}", "1")
        .replace("{resident}", "1")
        .replace("{photo}", "1")
        .replace("{revisit}", "1")
        .replace("{year}", &year)
        .replace("{client_id}", "big-1")
}

#[tokio::test]
async fn every_route_has_a_policy_and_only_the_allowlist_is_public() {
    let app = TestApp::spawn().await;
    let (_, table) = yijia_web::app(yijia_web::AppState {
        svc: app.svc.clone(),
        cfg: yijia_web::WebConfig { tls: false, trusted_proxies: vec![] },
    });
    assert!(table.len() > 20, "the table lists the routes: {}", table.len());
    let client = app.client();
    for r in &table {
        let key = (r.method.as_str(), r.path.as_str());
        if r.policy == Policy::Public {
            assert!(PUBLIC.contains(&key), "{key:?} is public but not on the allowlist");
            continue;
        }
        let method = Method::from_bytes(r.method.as_str().as_bytes()).unwrap();
        let res = client
            .request(method, format!("{}{}", app.url, concrete(&r.path)))
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
        assert!(
            table.iter().any(|r| (r.method.as_str(), r.path.as_str()) == *p),
            "{p:?} on the allowlist but not routed"
        );
    }
}

/// A route's scope is what its path says: an `Object` route names its
/// object's id (and the test below holds every one of them to its check),
/// a route naming none of anybody's is public, a list only reads.
#[tokio::test]
async fn every_route_s_scope_matches_its_path() {
    let app = TestApp::spawn().await;
    let (_, table) = yijia_web::app(yijia_web::AppState {
        svc: app.svc.clone(),
        cfg: yijia_web::WebConfig { tls: false, trusted_proxies: vec![] },
    });
    let mut wrong = Vec::new();
    for r in &table {
        let id = r.path.contains('{');
        let fits = match r.scope {
            Scope::None => r.policy == Policy::Public,
            Scope::Own => r.policy != Policy::Public,
            Scope::Grants => r.method == reqwest::Method::GET && r.policy != Policy::Public,
            Scope::Object => id && r.policy != Policy::Public,
            Scope::Named => !id && r.policy != Policy::Public,
        };
        // a route of somebody's object with an id in its path is held to it
        let held = !id || matches!(r.scope, Scope::Object | Scope::Own | Scope::None);
        if !fits || !held {
            wrong.push(format!("{} {} {:?} {:?}", r.method, r.path, r.policy, r.scope));
        }
    }
    assert!(wrong.is_empty(), "scopes that do not fit their routes:\n{}", wrong.join("\n"));
    // the API as schemathesis walks it: every operation is routed once
    let api = table.iter().filter(|r| r.path.starts_with("/api/v1/")).count();
    let mut keys: Vec<_> = table.iter().map(|r| (r.method.as_str(), r.path.as_str())).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), table.len(), "a method and path routed twice");
    assert_eq!(api, 232, "the API's operations");
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

/// Another community's secretary and resident call every API route that
/// names an object, with the ids of Chengnan's: nothing succeeds, and every
/// 404 is a denial in the audit log (the probe found 15 that were not).
#[tokio::test]
async fn every_route_audits_a_denial_of_another_communitys_object() {
    let app = TestApp::spawn().await;
    // Chengnan's objects come first, so that id 1 of each is theirs
    app.seed_demo_all().await;
    let secretary = app.token("secretary").await;
    let staff = app.token("staff").await;
    let asks = [
        ("/api/v1/exports", serde_json::json!({"community": "chengnan", "reason": "核对低保名单"})),
        ("/api/v1/webhooks", serde_json::json!({"scope": "chengnan", "url": "https://hooks.example.com/yijia"})),
        (
            "/api/v1/staff-groups",
            serde_json::json!({"scope": "chengnan", "kind": "wecom", "name": "两委群",
            "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}),
        ),
        (
            "/api/v1/broadcasts",
            serde_json::json!({"level": "3", "reason": "消防演练", "body": "今天下午三点消防演练。", "area": "community",
                "rollcall": ["elderly_alone"]}),
        ),
    ];
    for (path, body) in asks {
        let (st, v) = app.post(&secretary, path, body).await;
        assert!(st.is_success(), "{path}: {v}");
    }
    // a message that went out to one of Chengnan's people (no provider is set up here)
    crate::tallies::exec(
        &app,
        "INSERT INTO deliveries (message_id, event_key, recipient, channel, topic, params, org_path, address_ref, \
         state, next_at, created_at) SELECT 'policy-1', 'outbox:1', 'case:1:reporter', 'sms', 'case_accepted', '[]', \
         org_path, 'case:1', 'parked', 0, 0 FROM cases WHERE id = 1",
        &[],
    )
    .await;
    let (_, accounts) = app.get(&staff, "/api/v1/points/accounts").await;
    let (_, residents) = app.get(&staff, "/api/v1/residents?per_page=1").await;
    let rid = residents["items"][0]["id"].as_i64().unwrap();
    let (_, account) = app.get(&staff, &format!("/api/v1/residents/{rid}/points")).await;
    // a family proxy of one of Chengnan's residents
    let form = reqwest::multipart::Form::new()
        .text("family_name", "家属")
        .text("phone", "13600009999")
        .text("relation", "女儿")
        .text("acts", "vote")
        .text("consent", "in_person");
    let url = format!("{}/api/v1/residents/{rid}/proxies", app.url);
    let res = app.client().post(url).bearer_auth(&staff).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let pool = accounts.as_array().unwrap().iter().find(|a| a["kind"] == "pool").unwrap()["id"].clone();
    let big = serde_json::json!({"client_id": "big-1", "transfers": [{"from": pool, "to": account["id"], "amount": 900, "memo": "表彰"}]});
    assert_eq!(app.post(&staff, "/api/v1/points/transfers", big).await.0, StatusCode::ACCEPTED);
    let admin = app.token("admin").await;
    for (code, kind, parent) in [("chengbei", "community", "zhengyang"), ("chengbei-g01", "grid", "chengbei")] {
        let body = serde_json::json!({"code": code, "kind": kind, "name": format!("{code}名"), "parent": parent});
        let (st, v) = app.post(&admin, "/api/v1/org", body).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let sec2 = app.add_user("sec2", yijia_domain::role::Role::Secretary, "chengbei").await;
    let body =
        serde_json::json!({"name": "北居民", "grid": "chengbei-g01", "relation": "户主", "residence": "permanent"});
    let (st, r) = app.post(&sec2, "/api/v1/residents", body).await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let (st, inv) = app.post(&sec2, &format!("/api/v1/residents/{}/invitation", r["id"]), serde_json::json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{inv}");
    let join = serde_json::json!({"code": inv["code"], "phone": "13900001111", "password": "Bei-ju-min-2024"});
    let res = app.client().post(format!("{}/api/v1/join", app.url)).json(&join).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res2 = app.login_raw("13900001111", "Bei-ju-min-2024").await.json::<serde_json::Value>().await.unwrap();
    let res2 = res2["token"].as_str().unwrap().to_owned();

    let (_, table) = yijia_web::app(yijia_web::AppState {
        svc: app.svc.clone(),
        cfg: yijia_web::WebConfig { tls: false, trusted_proxies: vec![] },
    });
    let denials = |audit: Vec<(String, String, String)>| audit.iter().filter(|(_, o, _)| o == "denied").count();
    let mut unaudited = Vec::new();
    // the routes whose scope says the id in their path is checked
    let named = |r: &&RouteSpec| matches!(r.scope, Scope::Object | Scope::Own) && r.path.contains('{');
    for r in table.iter().filter(|r| r.path.starts_with("/api/v1/")).filter(named) {
        for (who, token) in [("sec2", &sec2), ("res2", &res2)] {
            let before = denials(app.audit().await);
            let method = Method::from_bytes(r.method.as_str().as_bytes()).unwrap();
            let res = app
                .client()
                .request(method, format!("{}{}?community=chengnan", app.url, concrete(&r.path)))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let st = res.status();
            assert!(!st.is_success(), "{who} {} {} answered {st}: {}", r.method, r.path, res.text().await.unwrap());
            assert_ne!(st, StatusCode::FORBIDDEN, "{who} {} {}: out of scope is 404, not 403", r.method, r.path);
            if st == StatusCode::NOT_FOUND && denials(app.audit().await) == before {
                unaudited.push(format!("{who} {} {}", r.method, r.path));
            }
        }
    }
    assert!(unaudited.is_empty(), "404 without an audited denial:\n{}", unaudited.join("\n"));
    // an export of another community is out of scope like any other object
    let before = denials(app.audit().await);
    let body = serde_json::json!({"community": "chengnan", "reason": "核对低保名单"});
    let (st, v) = app.post(&sec2, "/api/v1/exports", body).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(denials(app.audit().await), before + 1);
}
