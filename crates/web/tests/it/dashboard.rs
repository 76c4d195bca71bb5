//! The dashboard over HTTP, on the demo's months of work: every figure is
//! the length of the list it counts, a subdistrict's rows are its
//! communities' totals, and nobody reads outside their scope.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;

async fn total(app: &TestApp, token: &str, path: &str) -> i64 {
    let (st, v) = app.get(token, path).await;
    assert_eq!(st, StatusCode::OK, "{path}: {v}");
    v["total"].as_i64().unwrap_or_else(|| panic!("{path}: {v}"))
}

fn rows(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap()
}

#[tokio::test]
async fn every_figure_is_the_length_of_its_list() {
    let app = TestApp::spawn().await;
    app.seed_demo_months(300, 120).await;
    let secretary = app.token("secretary").await;

    let (st, d) = app.get(&secretary, "/api/v1/dashboard").await;
    assert_eq!(
        (st, d["org"].as_str(), d["unit_kind"].as_str()),
        (StatusCode::OK, Some("chengnan"), Some("grid")),
        "{d}"
    );
    let units = rows(&d["units"]);
    assert!(units.len() >= 3, "the community's grids: {d}");
    let mut checked = 0;
    for u in units {
        let grid = u["code"].as_str().unwrap();
        assert_eq!(
            u["people"].as_i64().unwrap(),
            total(&app, &secretary, &format!("/api/v1/residents?grid={grid}&per_page=1")).await
        );
        for (category, n) in u["categories"].as_object().unwrap() {
            let list =
                total(&app, &secretary, &format!("/api/v1/residents?grid={grid}&category={category}&per_page=1")).await;
            assert_eq!(n.as_i64().unwrap(), list, "{grid} {category}");
            checked += 1;
        }
        for c in rows(&u["cases"]) {
            let kind = c["kind"].as_str().unwrap();
            for (figure, case_box) in [("open", "grids"), ("near", "near"), ("late", "overdue")] {
                let path = format!("/api/v1/cases?box={case_box}&kind={kind}&org={grid}&per_page=1");
                assert_eq!(c[figure].as_i64().unwrap(), total(&app, &secretary, &path).await, "{grid} {kind} {figure}");
                checked += 1;
            }
        }
        let (_, coverage) = app.get(&secretary, &format!("/api/v1/coverage?org={grid}&months=1")).await;
        assert_eq!(u["overdue"], coverage["overdue_total"], "{grid} overdue visits");
    }
    for c in rows(&d["unplaced"]) {
        let path = format!("/api/v1/cases?box=dispatch&kind={}&per_page=1", c["kind"].as_str().unwrap());
        assert_eq!(c["open"].as_i64().unwrap(), total(&app, &secretary, &path).await, "unplaced");
    }
    assert!(checked > 20, "the demo gives figures to check");
    let sum = |f: &str| units.iter().map(|u| u[f].as_i64().unwrap()).sum::<i64>();
    assert_eq!(d["total"]["people"].as_i64().unwrap(), sum("people"));
    assert_eq!(d["total"]["people"].as_i64().unwrap(), total(&app, &secretary, "/api/v1/residents?per_page=1").await);
    assert!(d["total"]["planned"].as_i64().unwrap() > 0 && d["total"]["overdue"].as_i64().unwrap() > 0, "{d}");

    // the months: cases filed per month are the cases created that month
    let (_, all) = app.get(&secretary, "/api/v1/cases?box=all&per_page=500").await;
    let months = rows(&d["months"]);
    assert_eq!(months.len(), 13);
    for m in months {
        let month = m["month"].as_str().unwrap();
        let created =
            rows(&all["items"]).iter().filter(|k| k["created_at"].as_str().unwrap().starts_with(month)).count();
        assert_eq!(m["filed"].as_i64().unwrap(), created as i64, "filed in {month}");
    }
    assert!(months.iter().any(|m| m["resolved"].as_i64().unwrap() > 0 && m["resolve_hours"].is_i64()), "{d}");
    assert!(months.iter().any(|m| m["visits"].as_i64().unwrap() > 0), "{d}");
    assert!(months.iter().any(|m| m["points_issued"].as_i64().unwrap() > 0), "{d}");

    // the street officer: the subdistrict by community, the same totals
    let officer = app.token("officer").await;
    let (st, s) = app.get(&officer, "/api/v1/dashboard").await;
    assert_eq!((st, s["unit_kind"].as_str()), (StatusCode::OK, Some("community")), "{s}");
    let chengnan = rows(&s["units"]).iter().find(|u| u["code"] == "chengnan").unwrap();
    for f in ["people", "planned", "overdue", "due_soon"] {
        assert_eq!(chengnan[f], d["total"][f], "{f}");
    }
    assert_eq!(chengnan["cases"], d["total"]["cases"], "a community's row includes its undispatched cases");
    assert_eq!(s["months"], d["months"], "one community in the subdistrict");

    // the pages: the secretary's grids link to their lists, the officer's communities to their dashboards
    let html = app.browser_as("secretary").await.get(format!("{}/dashboard", app.url)).send().await.unwrap();
    assert_eq!(html.status(), StatusCode::OK);
    let html = html.text().await.unwrap();
    assert!(html.contains("/cases?box=overdue&#38;org=chengnan-g01") && html.contains("<svg"), "links and the map");
    let html = app.browser_as("officer").await.get(format!("{}/dashboard", app.url)).send().await.unwrap();
    assert!(html.text().await.unwrap().contains("/dashboard?org=chengnan"), "a subdistrict's communities");

    // scope: not above your own, not to other roles, and not a grid
    assert_eq!(app.get(&secretary, "/api/v1/dashboard?org=zhengyang").await.0, StatusCode::NOT_FOUND);
    assert!(app.audit().await.iter().any(|(a, o, _)| a == "dashboard" && o == "denied"), "the denial is audited");
    assert_eq!(app.get(&app.token("worker1").await, "/api/v1/dashboard").await.0, StatusCode::NOT_FOUND);
    let (st, v) = app.get(&secretary, "/api/v1/dashboard?org=chengnan-g01").await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("org")), "{v}");
    let (st, v) = app.get(&secretary, "/api/v1/cases?box=grids&org=zhengyang").await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("org")), "{v}");
}
