//! The monthly report: its figures are the dashboard's, in the JSON, the
//! workbook and the page; it holds counts only; and it is scoped.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, sheets};

/// The month's lines of the first sheet, in the order of `MONTH_LINES`.
const LINES: [&str; 10] = [
    "filed",
    "accepted",
    "accept_minutes",
    "resolved",
    "resolve_hours",
    "rated",
    "satisfaction",
    "visits",
    "points_issued",
    "points_redeemed",
];

/// A month's figure as the workbook writes it.
fn cell(m: &Value, line: &str) -> String {
    let v = if line == "satisfaction" {
        m["satisfaction_tenths"].as_i64().map(|t| t as f64 / 10.0)
    } else {
        m[line].as_i64().map(|v| v as f64)
    };
    v.map_or_else(|| "—".to_owned(), |v| v.to_string())
}

async fn workbook(app: &TestApp, token: &str, query: &str) -> Vec<(String, Vec<Vec<String>>)> {
    let r =
        app.client().get(format!("{}/api/v1/reports/monthly.xlsx?{query}", app.url)).bearer_auth(token).send().await;
    let r = r.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{query}");
    assert!(r.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
    sheets(&r.bytes().await.unwrap())
}

#[tokio::test]
async fn the_workbook_holds_the_dashboards_figures_and_no_one_by_name() {
    let app = TestApp::spawn().await;
    app.seed_demo_months(300, 120).await;
    let secretary = app.token("secretary").await;
    let (_, d) = app.get(&secretary, "/api/v1/dashboard").await;
    let month = &d["today"].as_str().unwrap()[..7];
    let months = d["months"].as_array().unwrap();
    assert_eq!(months.len(), 13);

    // the JSON: this month, the one before and last year's are the dashboard's
    let (st, r) = app.get(&secretary, &format!("/api/v1/reports/monthly?month={month}")).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["this_month"], months[12]);
    assert_eq!(r["month_before"], months[11]);
    assert_eq!(r["year_before"], months[0]);
    assert_eq!(r["dashboard"]["units"], d["units"]);
    assert!(r["this_month"]["filed"].as_i64().unwrap() > 0 && r["this_month"]["visits"].as_i64().unwrap() > 0, "{r}");

    // the workbook: the same figures, cell by cell
    let book = workbook(&app, &secretary, &format!("month={month}")).await;
    let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["本月概况", "现状", "分单位本月"]);
    let first = &book[0].1;
    assert!(first[0][0].contains("城南社区") && first[0][0].contains("月报"), "{:?}", first[0]);
    for (i, line) in LINES.iter().enumerate() {
        let row = &first[3 + i];
        assert_eq!(row[1], cell(&months[12], line), "this month's {line}");
        assert_eq!(row[2], cell(&months[11], line), "the month before's {line}");
        assert_eq!(row[4], cell(&months[0], line), "last year's {line}");
    }
    let state = &book[1].1;
    let categories: Vec<&str> =
        d["categories"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
    let units = d["units"].as_array().unwrap();
    for (i, u) in units.iter().enumerate() {
        let row = &state[2 + i];
        assert_eq!(row[0], u["name"].as_str().unwrap());
        assert_eq!(row[1], u["people"].to_string(), "people of {}", u["code"]);
        for (k, c) in categories.iter().enumerate() {
            assert_eq!(row[2 + k], u["categories"][c].as_i64().unwrap_or(0).to_string(), "{c} of {}", u["code"]);
        }
        let at = 2 + categories.len();
        assert_eq!(row[at..at + 3], [u["planned"].to_string(), u["overdue"].to_string(), u["due_soon"].to_string()]);
        let open: i64 = u["cases"].as_array().unwrap().iter().map(|c| c["open"].as_i64().unwrap()).sum();
        let open_cells: i64 = (0..3).map(|k| row[at + 4 + 3 * k].parse::<i64>().unwrap()).sum();
        assert_eq!(open_cells, open, "open cases of {}", u["code"]);
    }
    let total = state.last().unwrap();
    assert_eq!((total[0].as_str(), total[1].clone()), ("合计", d["total"]["people"].to_string()));
    // the cases not dispatched yet: their cases, and blanks where people, plans and pledges go
    let dispatch = &state[2 + units.len()];
    assert_eq!(dispatch[0], "待分派");
    let at = 2 + categories.len();
    assert!(dispatch[1..at + 4].iter().chain(dispatch.get(at + 13..).into_iter().flatten()).all(String::is_empty));
    let unplaced: i64 = d["unplaced"].as_array().unwrap().iter().map(|c| c["open"].as_i64().unwrap()).sum();
    let open_cells: i64 = (0..3).map(|k| dispatch[at + 4 + 3 * k].parse::<i64>().unwrap()).sum();
    assert_eq!(open_cells, unplaced, "open cases not dispatched yet");
    // each grid's visits of the month add up to the month's
    let per_grid = &book[2].1;
    let visits: i64 = per_grid[2..].iter().map(|row| row[1].parse::<i64>().unwrap()).sum();
    assert_eq!(visits, months[12]["visits"].as_i64().unwrap());

    // counts only: no resident's name in any cell
    let (_, people) = app.get(&secretary, "/api/v1/residents?per_page=500").await;
    let people: Vec<String> =
        people["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    assert!(people.len() >= 300);
    let cells: Vec<&String> = book.iter().flat_map(|(_, rows)| rows.iter().flatten()).collect();
    for name in &people {
        assert!(!cells.iter().any(|c| c.contains(name.as_str())), "{name} is in the report");
    }

    // the printable page shows the same month
    let page = app.browser_as("secretary").await.get(format!("{}/reports/monthly?month={month}", app.url)).send().await;
    let page = page.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let filed =
        format!("<tr data-line=\"filed\"><th>新登记事件(件)</th><td class=\"num\">{}</td>", months[12]["filed"]);
    assert!(html.contains(&filed), "{html}");
    assert!(html.contains("<tr><th>待分派</th>\n<td></td>"), "no people for the cases not dispatched yet");
    assert!(html.contains(&format!("/reports/monthly.xlsx?org=chengnan&month={month}")), "the download link");
}

#[tokio::test]
async fn a_subdistricts_report_goes_by_community_and_refuses_what_it_should() {
    let app = TestApp::spawn().await;
    app.seed_demo_months(100, 60).await;
    let secretary = app.token("secretary").await;
    let officer = app.token("officer").await;
    let (_, d) = app.get(&secretary, "/api/v1/dashboard").await;
    let month = &d["today"].as_str().unwrap()[..7];

    // the officer's report: a row per community, chengnan's month the community's
    let (st, s) = app.get(&officer, &format!("/api/v1/reports/monthly?month={month}")).await;
    assert_eq!((st, s["dashboard"]["unit_kind"].as_str()), (StatusCode::OK, Some("community")), "{s}");
    let (_, c) = app.get(&secretary, &format!("/api/v1/reports/monthly?month={month}")).await;
    let chengnan = s["unit_months"].as_array().unwrap().iter().find(|u| u["code"] == "chengnan").unwrap();
    assert_eq!(chengnan["this_month"], c["this_month"]);
    assert_eq!(chengnan["year_before"], c["year_before"]);
    let r = app.browser_as("officer").await.get(format!("{}/reports/monthly.xlsx?month={month}", app.url)).send().await;
    let r = r.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains(&format!("report-zhengyang-{month}.xlsx")), "{disposition}");
    let book = sheets(&r.bytes().await.unwrap());
    let row = book[2].1.iter().find(|row| row[0] == chengnan["name"].as_str().unwrap()).unwrap();
    assert_eq!(row[1], c["this_month"]["filed"].to_string(), "filed, by community");

    // by default the month before this one
    let (_, r) = app.get(&secretary, "/api/v1/reports/monthly").await;
    assert_eq!(r["month"], d["months"][11]["month"], "{r}");

    // bad months, other places and other roles
    for bad in ["2026-13", "11-2026", "2999-01", "1999-12"] {
        let (st, v) = app.get(&secretary, &format!("/api/v1/reports/monthly?month={bad}")).await;
        assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("month")), "{bad}: {v}");
    }
    assert_eq!(app.get(&secretary, "/api/v1/reports/monthly?org=zhengyang").await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&app.token("worker1").await, "/api/v1/reports/monthly").await.0, StatusCode::NOT_FOUND);
    let page = app.browser_as("secretary").await.get(format!("{}/reports/monthly?month=2026-13", app.url)).send().await;
    assert_eq!(page.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
}
