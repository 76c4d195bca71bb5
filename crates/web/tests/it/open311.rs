//! Open311 GeoReport v2: the catalogue as services, cases as requests, in
//! JSON and XML, public reading without personal data, filing with a key.

use reqwest::StatusCode;
use serde_json::Value;
use yijia_service::Caller;

use crate::helpers::TestApp;

async fn get(app: &TestApp, path: &str) -> (StatusCode, String, String) {
    let r = app.client().get(format!("{}/open311/v2/{path}", app.url)).send().await.unwrap();
    let s = r.status();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (s, ct, r.text().await.unwrap())
}

async fn json(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let (s, ct, body) = get(app, path).await;
    assert!(ct.starts_with("application/json"), "{path}: {ct}");
    (s, serde_json::from_str(&body).unwrap())
}

async fn post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let r = app.client().post(format!("{}/open311/v2/{path}", app.url)).form(form).send().await.unwrap();
    let s = r.status();
    (s, r.text().await.unwrap())
}

#[tokio::test]
async fn services_definitions_and_discovery_in_json_and_xml() {
    let app = TestApp::spawn().await;
    let (st, v) = json(&app, "discovery.json").await;
    assert_eq!(st, StatusCode::OK);
    assert!(v["endpoints"][0]["url"].as_str().unwrap().ends_with("/open311/v2"));
    let (st, ct, xml) = get(&app, "discovery.xml").await;
    assert_eq!(st, StatusCode::OK);
    assert!(ct.starts_with("text/xml"));
    assert!(xml.contains("<discovery><changeset>") && xml.contains("<format>text/xml</format>"), "{xml}");

    // one community: jurisdiction_id may be left out
    let (st, v) = json(&app, "services.json").await;
    assert_eq!(st, StatusCode::OK);
    let list = v.as_array().unwrap();
    let gas = list.iter().find(|s| s["service_code"] == "gas").unwrap();
    assert_eq!(
        (gas["service_name"].as_str(), gas["metadata"].as_bool(), gas["type"].as_str()),
        (Some("燃气隐患"), Some(true), Some("realtime"))
    );
    assert_eq!(gas["group"], "安全隐患");
    let (_, _, xml) = get(&app, "services.xml?jurisdiction_id=chengnan").await;
    assert!(xml.contains("<services><service><service_code>"), "{xml}");

    let (st, d) = json(&app, "services/structure.json").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(d["service_code"], "structure");
    let codes: Vec<&str> = d["attributes"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["priority", "at_risk"]);
    assert_eq!(d["attributes"][0]["values"].as_array().unwrap().len(), 4);
    let (_, _, xml) = get(&app, "services/structure.xml").await;
    assert!(
        xml.contains(
            "<service_definition><service_code>structure</service_code><attributes><attribute><variable>true</variable>"
        ) && xml.contains("<values><value><key>emergency</key>"),
        "{xml}"
    );

    // errors are lists, with the status as their code
    let (st, e) = json(&app, "services/nope.json").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(e[0]["code"], 404);
    let (st, e) = json(&app, "services.json?jurisdiction_id=atlantis").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(e[0]["description"].as_str().unwrap().contains("atlantis"));
    let (st, _, xml) = get(&app, "services.xml?jurisdiction_id=atlantis").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(xml.contains("<errors><error><code>400</code><description>"), "{xml}");
    let (st, _, _) = get(&app, "services.csv").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn filing_needs_a_key_and_reading_shows_no_personal_data() {
    let app = TestApp::spawn().await;
    let key = app.svc.issue_api_key(&Caller::operator(), "街道 App", "chengnan").await.unwrap().key.unwrap();
    let description = "3号楼门口路灯不亮,王五家门前很黑";
    let form = [
        ("service_code", "facility"),
        ("lat", "44.8170"),
        ("long", "126.5400"),
        ("first_name", "五"),
        ("last_name", "王"),
        ("phone", "13912345678"),
        ("description", description),
        ("attribute[priority]", "urgent"),
    ];
    // no key, a wrong key: refused, nothing filed
    let (st, body) = post(&app, "requests.json", &form).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    let mut with_bad = form.to_vec();
    with_bad.push(("api_key", "y311_wrong"));
    let (st, _) = post(&app, "requests.json", &with_bad).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let mut with_key = form.to_vec();
    with_key.push(("api_key", key.as_str()));
    let mut bad_priority = with_key.clone();
    bad_priority.retain(|(k, _)| *k != "attribute[priority]");
    bad_priority.push(("attribute[priority]", "whenever"));
    let (st, e) = post(&app, "requests.json", &bad_priority).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    let (_, list) = json(&app, "requests.json").await;
    assert_eq!(list, serde_json::json!([]), "nothing was filed");

    let (st, body) = post(&app, "requests.json", &with_key).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    let id = created[0]["service_request_id"].as_str().unwrap().to_owned();
    let token = created[0]["token"].as_str().unwrap().to_owned();

    // staff see it in full, routed by its point, from the Open311 channel
    let staff = app.token("staff").await;
    let (_, k) = app.get(&staff, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(k["channel"], "open311");
    assert_eq!(k["priority"], "urgent");
    assert_eq!(k["reporter_name"], "王五");
    assert_eq!(k["reporter_phone"], "139****5678");
    assert_eq!(k["grid"], "chengnan-g01");

    // everyone else sees the request without personal data
    for path in ["requests.json", &format!("requests/{id}.json"), "requests.json?status=open&service_code=facility"] {
        let (st, ct, body) = get(&app, path).await;
        assert_eq!(st, StatusCode::OK, "{path}");
        assert!(ct.starts_with("application/json"));
        assert!(!body.contains("王") && !body.contains("5678") && !body.contains("路灯不亮"), "{path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v[0]["service_request_id"], id.as_str(), "{path}");
        assert_eq!(v[0]["status"], "open");
        assert_eq!(v[0]["lat"], 44.817, "rounded to about 100 m");
    }
    let (_, _, xml) = get(&app, &format!("requests/{id}.xml")).await;
    assert!(
        xml.contains(&format!("<service_requests><request><service_request_id>{id}</service_request_id>")),
        "{xml}"
    );
    let (_, v) = json(&app, &format!("tokens/{token}.json")).await;
    assert_eq!(v[0]["service_request_id"], id.as_str());
    let (_, v) = json(&app, "requests.json?status=closed").await;
    assert_eq!(v, serde_json::json!([]));
    let (st, _) = json(&app, "requests.json?status=pending").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, e) = json(&app, "requests.json?start_date=2020-01-01T00:00:00Z&end_date=2021-01-01T00:00:00Z").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    let (st, _) = json(&app, "requests/999999.json").await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // a revoked key files nothing more
    let keys = app.svc.api_keys(&Caller::operator()).await.unwrap();
    app.svc.revoke_api_key(&Caller::operator(), keys[0].id).await.unwrap();
    let (st, _) = post(&app, "requests.xml", &with_key).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // keys are an admin's to issue
    let secretary = app.token("secretary").await;
    let (st, _) =
        app.post(&secretary, "/api/v1/api-keys", serde_json::json!({"name": "x app", "scope": "chengnan"})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let admin = app.token("admin").await;
    let (st, v) =
        app.post(&admin, "/api/v1/api-keys", serde_json::json!({"name": "区级平台", "scope": "zhengyang"})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert!(v["key"].as_str().unwrap().starts_with("y311_"));
    let (_, list) = app.get(&admin, "/api/v1/api-keys").await;
    assert!(list.as_array().unwrap().iter().all(|k| k.get("key").is_none()), "never shown again");
}
