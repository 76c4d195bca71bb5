use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;

async fn raw(app: &TestApp, token: &str, ct: Option<&str>, body: Vec<u8>) -> (StatusCode, Value) {
    let mut rb = app.client().post(format!("{}/api/v1/users", app.url)).bearer_auth(token).body(body);
    if let Some(ct) = ct {
        rb = rb.header("content-type", ct);
    }
    let r = rb.send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn bodies_are_checked_with_precise_answers() {
    let app = TestApp::spawn().await;
    let t = app.token("secretary").await;
    let json = Some("application/json");

    let (s, v) = raw(&app, &t, json, b"{\"username\": ".to_vec()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["code"], "bad_request");

    let (s, v) = raw(
        &app,
        &t,
        json,
        br#"{"username":"a1","display_name":"x","password":"long enough pw","grants":[],"age":3}"#.to_vec(),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["field"], "age", "{v}");

    let (s, v) = raw(&app, &t, json, br#"{"username":"a1","display_name":"x","password":"long enough pw","grants":[{"role":"mayor","scope":"chengnan"}]}"#.to_vec()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["field"], "grants[0].role", "{v}");

    let (s, v) = raw(&app, &t, Some("text/plain"), b"{}".to_vec()).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(v["error"]["code"], "unsupported_media_type");
    let (s, _) = raw(&app, &t, None, b"{}".to_vec()).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let mut big = b"{\"username\":\"".to_vec();
    big.extend(std::iter::repeat_n(b'a', yijia_web::BODY_LIMIT + 10));
    big.extend(b"\"}");
    let (s, v) = raw(&app, &t, json, big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(v["error"]["code"], "payload_too_large");

    // nothing of the above created a user
    let (_, list) = app.get(&t, "/api/v1/users?per_page=500").await;
    assert!(!list["items"].as_array().unwrap().iter().any(|u| u["username"] == "a1"));
}

#[tokio::test]
async fn lists_check_their_paging() {
    let app = TestApp::spawn().await;
    let t = app.token("admin").await;
    let (s, v) = app.get(&t, "/api/v1/users?per_page=501").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["field"], "per_page");
    let (s, v) = app.get(&t, "/api/v1/users?page=0").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["field"], "page");
    let (s, v) = app.get(&t, "/api/v1/users?page=9223372036854775807").await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("page")), "no overflow");
    let (s, v) = app.get(&t, "/api/v1/users?sort=name").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["field"], "sort");
    let (s, v) = app.get(&t, "/api/v1/users?page=2&per_page=3").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((v["page"].as_i64(), v["per_page"].as_i64(), v["total"].as_i64()), (Some(2), Some(3), Some(12)));
    assert_eq!(v["items"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn errors_speak_english_on_request() {
    let app = TestApp::spawn().await;
    let r = app
        .client()
        .post(format!("{}/api/v1/auth/login", app.url))
        .header("accept-language", "en-US,en;q=0.9")
        .json(&serde_json::json!({"username": "x", "password": "y"}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["message"], "wrong username or password");
    let v: Value = app.login_raw("x", "y").await.json().await.unwrap();
    assert_eq!(v["error"]["message"], "用户名或密码不正确");
}

#[tokio::test]
async fn unknown_api_paths_answer_json_404() {
    let app = TestApp::spawn().await;
    let r = app.client().get(format!("{}/api/v1/nothing-here", app.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "not_found");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/login", "/healthz", "/api/openapi.json", "/static/app.css", "/nope"] {
        let r = app.client().get(format!("{}{path}", app.url)).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
        assert!(!h.contains_key("strict-transport-security"), "no HSTS without TLS");
        if path.starts_with("/static/") {
            assert_ne!(h["cache-control"], "no-store");
        } else {
            assert_eq!(h["cache-control"], "no-store", "{path}");
        }
    }
}

#[tokio::test]
async fn the_openapi_document_covers_every_api_route() {
    let app = TestApp::spawn().await;
    let doc: Value =
        app.client().get(format!("{}/api/openapi.json", app.url)).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    // a labelled enum is documented by the codes the API sends, not by the
    // names of its Rust variants (schemathesis found `Open` where `open` goes)
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["ActivityStatus"]["enum"], serde_json::json!(["open", "cancelled", "confirmed"]));
    assert_eq!(schemas["CaseState"]["enum"][2], "in_progress");
    assert_eq!(schemas["RuleKind"]["enum"], serde_json::json!(["per_hour", "fixed"]));
    // two types of one name share one schema, and one of them is documented wrong
    // (an activity's `Phase` overwrote the pledges' year phase)
    assert_eq!(schemas["Phase"]["enum"][0], "proposing");
    assert_eq!(schemas["ActivityPhase"]["enum"][0], "upcoming");
    let (_, table) = yijia_web::app(yijia_web::AppState {
        svc: app.svc.clone(),
        cfg: yijia_web::WebConfig { tls: false, trusted_proxies: vec![] },
    });
    for r in table.iter().filter(|r| r.path.starts_with("/api/v1/")) {
        let op = &doc["paths"][r.path.as_str()][r.method.as_str().to_lowercase()];
        assert!(op.is_object(), "{} {} is not documented", r.method, r.path);
        for (status, resp) in op["responses"].as_object().unwrap() {
            assert!(resp["description"].as_str().is_some_and(|d| !d.is_empty()), "{} {} {status}", r.method, r.path);
        }
        // a route behind a login documents the 401, and a JSON body can be
        // too large or not JSON: the route table documents all three
        if r.policy != yijia_web::policy::Policy::Public {
            assert_eq!(op["responses"]["401"]["description"], "Not logged in", "{} {}", r.method, r.path);
            assert!(op["security"].is_null(), "{} {} needs a login", r.method, r.path);
        } else {
            // a public route says so: no login at all
            assert_eq!(op["security"], serde_json::json!([]), "{} {} is public", r.method, r.path);
        }
        if op["requestBody"]["content"]["application/json"].is_object() {
            for status in ["413", "415"] {
                assert!(op["responses"][status].is_object(), "{} {} does not document {status}", r.method, r.path);
            }
        }
    }
    // operation ids are unique (schemathesis refuses a document where they are not)
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|p| p.as_object().unwrap().values().filter_map(|op| op["operationId"].as_str()))
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "operation ids repeat");
    let documented: usize = doc["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum();
    let routed = table.iter().filter(|r| r.path.starts_with("/api/v1/")).count();
    assert_eq!(documented, routed, "documented operations that no route serves");
    // every schema referred to is in the document
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in all {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(doc["components"]["schemas"][name].is_object(), "{r} is referred to and not defined");
    }
}

/// utoipa names a schema after its type alone: two types of one name would
/// silently share one schema in the document, and one side would be wrong.
#[test]
fn openapi_schema_names_are_unique() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut names: Vec<(String, String)> = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() && !p.ends_with("target") && !p.ends_with("tests") {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                let lines: Vec<&str> = text.lines().collect();
                for (i, l) in lines.iter().enumerate() {
                    // a labelled enum is a schema too (the macro implements it)
                    if !(l.contains("derive(") && l.contains("ToSchema") || l.contains("labelled! {")) {
                        continue;
                    }
                    let decl = lines[i + 1..].iter().find(|l| l.contains("pub struct ") || l.contains("pub enum "));
                    if let Some(name) = decl.and_then(|l| l.split_whitespace().nth(2)) {
                        let name = name.trim_end_matches(['{', '(', ';']).to_owned();
                        names.push((name, p.display().to_string()));
                    }
                }
            }
        }
    }
    names.sort();
    assert!(names.len() > 50, "found the schema types: {}", names.len());
    for w in names.windows(2) {
        assert_ne!(w[0].0, w[1].0, "one schema name for two types: {} and {}", w[0].1, w[1].1);
    }
}

/// The probe sent bytes that are not UTF-8 in a path and got plain text:
/// every API route answers the JSON error.
#[tokio::test]
async fn a_path_that_is_not_utf8_answers_the_json_error() {
    let app = TestApp::spawn().await;
    let t = app.token("admin").await;
    let (_, table) = yijia_web::app(yijia_web::AppState {
        svc: app.svc.clone(),
        cfg: yijia_web::WebConfig { tls: false, trusted_proxies: vec![] },
    });
    let mut plain = Vec::new();
    for r in table.iter().filter(|r| r.method == reqwest::Method::GET && r.path.starts_with("/api/v1/")) {
        let Some(at) = r.path.find('{') else { continue };
        let end = r.path[at..].find('}').unwrap() + at + 1;
        let path = format!("{}%FF%FE{}", &r.path[..at], &r.path[end..]);
        let res = app.client().get(format!("{}{path}", app.url)).bearer_auth(&t).send().await.unwrap();
        let st = res.status();
        if res.json::<Value>().await.ok().filter(|v| v["error"]["code"].is_string()).is_none() {
            plain.push(format!("{st} {}", r.path));
        }
    }
    assert!(plain.is_empty(), "not the JSON error:\n{}", plain.join("\n"));
}
