use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn codes(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|n| n["code"].as_str().unwrap().to_owned()).collect()
}

const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[126.55,44.81],[126.56,44.81],[126.56,44.82],[126.55,44.82],[126.55,44.81]]]}"#;

#[tokio::test]
async fn each_role_sees_its_part_of_the_tree() {
    let app = TestApp::spawn().await;
    let (s, v) = app.get(&app.token("secretary").await, "/api/v1/org").await;
    assert_eq!(s, StatusCode::OK);
    let c = codes(&v);
    assert_eq!(&c[..3], ["root", "zhengyang", "chengnan"]);
    assert_eq!(c.len(), 9, "root, subdistrict, community and six grids: {c:?}");
    assert!(v[3]["boundary"]["type"].is_string(), "grids carry their boundary");

    let (_, v) = app.get(&app.token("worker1").await, "/api/v1/org").await;
    assert_eq!(codes(&v), ["root", "zhengyang", "chengnan", "chengnan-g01"]);
}

#[tokio::test]
async fn a_node_outside_the_scope_is_not_found_and_the_denial_audited() {
    let app = TestApp::spawn().await;
    let t = app.token("worker1").await;
    let (s, v) = app.get(&t, "/api/v1/org/chengnan-g01").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["node"]["name"], "第1网格");
    assert_eq!(v["node"]["parent"], "chengnan");
    let (s1, v1) = app.get(&t, "/api/v1/org/chengnan-g02").await;
    let (s2, v2) = app.get(&t, "/api/v1/org/no-such-grid").await;
    assert_eq!((s1, s2), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(v1, v2, "outside the scope looks exactly like nonexistent");
    let audit = app.audit().await;
    assert!(audit.contains(&("org_read".into(), "denied".into(), "org:chengnan-g02".into())), "{audit:?}");
}

#[tokio::test]
async fn admins_edit_the_tree_with_checks() {
    let app = TestApp::spawn().await;
    let a = app.token("admin").await;
    let grid = |code: &str, parent: &str, boundary: Value| json!({"code": code, "kind": "grid", "name": "第7网格", "parent": parent, "boundary": boundary});
    let sq: Value = serde_json::from_str(SQUARE).unwrap();

    let (s, v) = app.post(&a, "/api/v1/org", grid("chengnan-g07", "chengnan", sq.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["boundary"]["type"], "MultiPolygon");

    let (s, v) = app.post(&a, "/api/v1/org", grid("chengnan-g07", "chengnan", Value::Null)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, v) = app.post(&a, "/api/v1/org", grid("chengnan-g08", "zhengyang", Value::Null)).await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("parent")));
    let (s, v) = app.post(&a, "/api/v1/org", grid("Chengnan G8", "chengnan", Value::Null)).await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("code")));
    let (s, v) = app
        .post(&a, "/api/v1/org", grid("chengnan-g08", "chengnan", json!({"type": "Point", "coordinates": [1, 2]})))
        .await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("boundary")));

    let (s, v) = app.send(Method::PATCH, &a, "/api/v1/org/chengnan-g07", json!({"name": "第七网格"})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["name"], "第七网格");
    assert!(v["boundary"].is_object(), "a rename keeps the boundary");
    let (_, v) = app.send(Method::PATCH, &a, "/api/v1/org/chengnan-g07", json!({"boundary": null})).await;
    assert!(v["boundary"].is_null());

    let (s, _) = app.send(Method::DELETE, &a, "/api/v1/org/chengnan-g01", json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "grid workers hold grants there");
    let (s, _) = app.send(Method::DELETE, &a, "/api/v1/org/chengnan-g07", json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // a secretary cannot edit the tree
    let sec = app.token("secretary").await;
    let (s, _) = app.post(&sec, "/api/v1/org", grid("chengnan-g09", "chengnan", Value::Null)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let actions: Vec<String> = app.audit().await.into_iter().map(|a| a.0).collect();
    for a in ["org_create", "org_update", "org_delete"] {
        assert!(actions.iter().any(|x| x == a), "{a} audited");
    }
}

#[tokio::test]
async fn the_demo_estates_lie_in_the_grids_that_hold_them() {
    let app = TestApp::spawn().await;
    let t = app.token("secretary").await;
    let (s, v) = app.get(&t, "/api/v1/org/chengnan").await;
    assert_eq!(s, StatusCode::OK);
    let estates = v["estates"].as_array().unwrap();
    let names: Vec<&str> = estates.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(estates.len(), 5, "{names:?}");
    assert!(names.contains(&"丁香花园三期"));
    // every estate's point is inside its grid's boundary
    for e in estates {
        let (lon, lat) = (e["lon"].as_f64().unwrap(), e["lat"].as_f64().unwrap());
        let (_, g) = app.get(&t, &format!("/api/v1/org/{}", e["grid"].as_str().unwrap())).await;
        let b = yijia_domain::org::Boundary::parse(&g["node"]["boundary"].to_string()).unwrap();
        assert!(b.contains(lon, lat), "{e}");
        assert!(g["estates"].as_array().unwrap().iter().any(|x| x["name"] == e["name"]));
    }
    // a point outside every grid is refused, saying why
    let err = app.svc.add_estate_at(&yijia_service::Caller::operator(), "城外小区", 120.0, 30.0).await.unwrap_err();
    assert!(matches!(err, yijia_service::ServiceError::Invalid(ref i) if i.field == "location"), "{err:?}");
    // a grid with estates cannot be removed
    let a = app.token("admin").await;
    let g = estates[0]["grid"].as_str().unwrap();
    let (s, v) = app.send(Method::DELETE, &a, &format!("/api/v1/org/{g}"), json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
}

fn grid(code: &str, parent: &str, boundary: Value) -> Value {
    let name = format!("第{}网格", code.rsplit("-g").next().unwrap().trim_start_matches('0'));
    json!({"code": code, "kind": "grid", "name": name, "parent": parent, "boundary": boundary})
}

/// The probe sent a boundary position of `[1]` and the connection closed
/// with no answer (a panic inside geojson); then removed a grid that held
/// residents and got a 500.
#[tokio::test]
async fn a_malformed_boundary_is_refused_and_a_grid_with_people_is_kept() {
    let app = TestApp::spawn().await;
    let a = app.token("admin").await;
    let one = json!({"type": "Polygon", "coordinates": [[[1], [126.5, 43.8], [126.6, 43.9], [126.5, 43.8]]]});
    let (s, v) = app.post(&a, "/api/v1/org", grid("chengnan-g08", "chengnan", one.clone())).await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("boundary")), "{v}");
    let (s, v) = app.send(Method::PATCH, &a, "/api/v1/org/chengnan-g02", json!({"boundary": one})).await;
    assert_eq!((s, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("boundary")), "{v}");
    assert_eq!(app.get(&a, "/healthz").await.0, StatusCode::OK, "the server is still there");

    // a new grid, a resident in it (no address): removing it says what is there
    let (s, v) = app.post(&a, "/api/v1/org", grid("chengnan-g09", "chengnan", Value::Null)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let staff = app.token("staff").await;
    let body = json!({"name": "赵大妈", "grid": "chengnan-g09", "relation": "户主", "residence": "permanent"});
    let (s, v) = app.post(&staff, "/api/v1/residents", body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = app.send(Method::DELETE, &a, "/api/v1/org/chengnan-g09", json!({})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("居民 1 人"), "{v}");
    let (s, _) = app.get(&a, "/api/v1/org/chengnan-g09").await;
    assert_eq!(s, StatusCode::OK, "still there");
    // an empty one goes
    let (s, _) = app.post(&a, "/api/v1/org", grid("chengnan-g10", "chengnan", Value::Null)).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = app.send(Method::DELETE, &a, "/api/v1/org/chengnan-g10", json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
}
