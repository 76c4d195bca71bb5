//! The fixture roster, as grid workers keep it, imported on both backends.

use std::collections::HashMap;

use yijia_service::Caller;
use yijia_service::import::report_workbook;

use crate::helpers::TestApp;

const ROSTER: &[u8] = include_bytes!("../../../../tests/fixtures/roster-chengnan-2024.xlsx");

#[tokio::test]
async fn the_fixture_imports_every_good_row_and_explains_every_bad_one() {
    let app = TestApp::spawn().await;
    let op = Caller::operator();
    let none = HashMap::new();

    // a dry run changes nothing
    let dry = app.svc.import_residents(&op, ROSTER, "chengnan", &none, true, &|_, _| {}).await.unwrap();
    assert_eq!((dry.rows, dry.imported), (1177, 1169));
    let s = app.token("secretary").await;
    let (_, list) = app.get(&s, "/api/v1/residents?per_page=1").await;
    assert_eq!(list["total"], 0, "dry run");

    let r = app.svc.import_residents(&op, ROSTER, "chengnan", &none, false, &|_, _| {}).await.unwrap();
    assert_eq!((r.sheets, r.rows, r.imported, r.unchanged), (3, 1177, 1169, 0), "{:?}", r.bad);
    let check_digits = r.bad.iter().filter(|b| b.field == "id_number" && b.reason_zh.contains("校验位")).count();
    let repeats = r.bad.iter().filter(|b| b.reason_zh.contains("同一人")).count();
    assert_eq!((r.bad.len(), check_digits, repeats), (8, 6, 2), "{:#?}", r.bad);
    assert!(r.bad.iter().all(|b| b.sheet.starts_with('第') && b.row > 3), "{:?}", r.bad);

    let (_, list) = app.get(&s, "/api/v1/residents?per_page=1").await;
    assert_eq!(list["total"], 1169);
    let (_, alone) = app.get(&s, "/api/v1/residents?category=elderly_alone&per_page=500").await;
    assert_eq!(alone["total"], 35, "独居老人 and 孤寡老人 are one category: {}", alone["total"]);
    // a grid worker sees their own grid's people only
    let w = app.token("worker1").await;
    let (_, mine) = app.get(&w, "/api/v1/residents?per_page=1").await;
    assert_eq!(mine["total"], 388, "the valid, first-seen people of sheet 第1网格");

    // the same file again changes nothing
    let again = app.svc.import_residents(&op, ROSTER, "chengnan", &none, false, &|_, _| {}).await.unwrap();
    assert_eq!((again.imported, again.unchanged, again.bad.len()), (0, 1169, 8));
    let (_, list) = app.get(&s, "/api/v1/residents?per_page=1").await;
    assert_eq!(list["total"], 1169);

    // the report is a workbook without personal data
    let book = report_workbook(&r, false).unwrap();
    assert!(book.starts_with(b"PK"));
    let (_, one) = app.get(&s, "/api/v1/residents?name=彭德&per_page=1").await;
    assert!(one["items"][0]["address"]["estate"].is_string(), "a ledger line carries its address: {one}");
}

#[tokio::test]
async fn a_sheet_without_a_grid_is_reported_and_nothing_breaks() {
    let app = TestApp::spawn().await;
    let op = Caller::operator();
    let map = HashMap::from([("第1网格".to_owned(), "chengnan-g04".to_owned())]);
    let r = app.svc.import_residents(&op, ROSTER, "chengnan", &map, true, &|_, _| {}).await.unwrap();
    assert!(r.imported > 1000);
    let err = app
        .svc
        .import_residents(&op, b"not a workbook", "chengnan", &HashMap::new(), false, &|_, _| {})
        .await
        .unwrap_err();
    assert!(matches!(err, yijia_service::ServiceError::Invalid(ref i) if i.field == "file"), "{err:?}");
    let err = app.svc.import_residents(&op, ROSTER, "nowhere", &HashMap::new(), false, &|_, _| {}).await.unwrap_err();
    assert!(matches!(err, yijia_service::ServiceError::Invalid(ref i) if i.field == "community"), "{err:?}");
}

#[tokio::test]
async fn people_without_an_id_number_are_recognised_on_a_second_import() {
    let app = TestApp::spawn().await;
    let op = Caller::operator();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("第2网格").unwrap();
    for (c, h) in ["姓名", "性别", "出生日期", "小区", "楼栋", "单元", "门牌号", "与户主关系"].iter().enumerate()
    {
        ws.write(0, c as u16, *h).unwrap();
    }
    for (r, row) in [
        ["赵小宝", "男", "2021.6.1", "丁香花园", "3", "1", "201", "子女"],
        ["赵小贝", "女", "2023年2月3日", "丁香花园", "3", "1", "201", "子女"],
        ["钱多多", "男", "20200909", "", "", "", "", ""],
    ]
    .iter()
    .enumerate()
    {
        for (c, v) in row.iter().enumerate() {
            ws.write(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    // the probe's overlong entrance, through a roster this time (a cell
    // holds at most 32,767 characters)
    let long = "单".repeat(30_000);
    for (c, v) in ["孙大伟", "男", "1980.1.1", "丁香花园", "3", long.as_str(), "202", "户主"].iter().enumerate()
    {
        ws.write(4, c as u16, *v).unwrap();
    }
    let book = wb.save_to_buffer().unwrap();
    let none = HashMap::new();
    let first = app.svc.import_residents(&op, &book, "chengnan", &none, false, &|_, _| {}).await.unwrap();
    assert_eq!(first.bad.len(), 1, "{:?}", first.bad);
    assert_eq!((first.bad[0].row, first.bad[0].field.as_str()), (5, "entrance"));
    assert_eq!((first.imported, first.unchanged), (3, 0));
    let again = app.svc.import_residents(&op, &book, "chengnan", &none, false, &|_, _| {}).await.unwrap();
    assert_eq!((again.imported, again.unchanged), (0, 3));
    let s = app.token("secretary").await;
    let (_, list) = app.get(&s, "/api/v1/residents?grid=chengnan-g02").await;
    assert_eq!(list["total"], 3);
}

#[tokio::test]
async fn a_roster_names_the_communitys_own_categories() {
    let app = TestApp::spawn().await;
    let s = app.token("secretary").await;
    let (_, def) =
        app.post(&s, "/api/v1/categories", serde_json::json!({"community": "chengnan", "name": "失独家庭"})).await;
    let code = def["code"].as_str().unwrap().to_owned();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("第1网格").unwrap();
    for (c, h) in ["姓名", "性别", "出生日期", "人员类别"].iter().enumerate() {
        ws.write(0, c as u16, *h).unwrap();
    }
    for (r, row) in
        [["吴秀兰", "女", "1950.3.2", "失独家庭、党员"], ["吴强", "男", "1960.1.1", "宠物"]].iter().enumerate()
    {
        for (c, v) in row.iter().enumerate() {
            ws.write(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    let book = wb.save_to_buffer().unwrap();
    let r = app.svc.import_residents(&Caller::operator(), &book, "chengnan", &HashMap::new(), false, &|_, _| {}).await;
    let r = r.unwrap();
    assert_eq!(r.imported, 1);
    assert_eq!((r.bad[0].field.as_str(), r.bad[0].reason_zh.contains("宠物")), ("categories", true), "{:?}", r.bad);
    let (_, list) = app.get(&s, &format!("/api/v1/residents?category={code}")).await;
    let mut cats: Vec<&str> =
        list["items"][0]["categories"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    cats.sort_unstable();
    assert_eq!(cats, ["党员", "失独家庭"]);

    // and the export names it, filtered by it
    let t = s.clone();
    let r = app
        .client()
        .get(format!("{}/residents/export?community=chengnan&category={code}", app.url))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    use calamine::Reader;
    let name = wb.sheet_names()[0].clone();
    let text = format!("{:?}", wb.worksheet_range(&name).unwrap());
    assert!(text.contains("吴秀兰") && text.contains("失独家庭"), "{text}");
}

#[tokio::test]
async fn an_import_spreads_first_visits_and_leaves_the_on_time_rate_alone() {
    let app = TestApp::spawn().await;
    app.seed_demo_months(60, 0).await;
    let op = Caller::operator();
    let none = HashMap::new();
    let worker = app.token("worker1").await;
    let secretary = app.token("secretary").await;
    let due = |w: &serde_json::Value| {
        w["due_today"].as_i64().unwrap() + w["overdue"].as_i64().unwrap() + w["escalated"].as_i64().unwrap()
    };
    let this_month = |c: &serde_json::Value| {
        let rows = c["totals"].as_array().unwrap();
        let last = rows.last().unwrap();
        (last["planned"].clone(), last["on_time"].clone())
    };
    let walk_before = due(&app.get(&worker, "/api/v1/walk-list").await.1);
    let cov_before = this_month(&app.get(&secretary, "/api/v1/coverage?org=chengnan").await.1);

    // a check says the same as the import, and imports nothing
    let dry = app.svc.import_residents(&op, ROSTER, "chengnan", &none, true, &|_, _| {}).await.unwrap();
    let r = app.svc.import_residents(&op, ROSTER, "chengnan", &none, false, &|_, _| {}).await.unwrap();
    // a check tells whose walks grow, too: the same people from the same day
    // (on PostgreSQL a check's rolled-back ids are not given again, so the
    // spread of the import itself may end a day later)
    let summary = |r: &yijia_service::import::ImportReport| -> Vec<(String, Vec<String>, usize, String)> {
        r.plans.iter().map(|p| (p.grid.clone(), p.workers.clone(), p.people, p.first_due_from.clone())).collect()
    };
    assert_eq!(summary(&dry), summary(&r));
    let g1 = r.plans.iter().find(|p| p.grid == "chengnan-g01").expect("grid 1 gains people under a plan");
    assert_eq!(g1.workers, ["李网格"], "{g1:?}");
    let today = yijia_domain::time::to_local(yijia_domain::time::Clock::now_ms(&*app.clock)).date_naive();
    let from = chrono::NaiveDate::parse_from_str(&g1.first_due_from, "%Y-%m-%d").unwrap();
    let to = chrono::NaiveDate::parse_from_str(&g1.first_due_to, "%Y-%m-%d").unwrap();
    assert_eq!(from, today, "{g1:?}");
    // a veteran is seen every 90 days: the longest interval
    assert!(to > today + chrono::Days::new(30) && to < today + chrono::Days::new(90), "over the intervals: {g1:?}");

    // her walk grows by a day's share of them, not by all of them
    let grown = due(&app.get(&worker, "/api/v1/walk-list").await.1) - walk_before;
    assert!(grown > 0 && grown * 4 < g1.people as i64, "{grown} of {} due today", g1.people);
    // nobody imported counts as on time (or late) before their first visit is due
    assert_eq!(this_month(&app.get(&secretary, "/api/v1/coverage?org=chengnan").await.1), cov_before);

    // a bad row names the person, with the ID masked
    let b = r.bad.iter().find(|b| b.field == "id_number").unwrap();
    assert!(!b.name.is_empty(), "{b:?}");
    assert!(b.id_masked.contains("****") && b.id_masked.chars().count() >= 17, "{b:?}");
}

#[tokio::test]
async fn the_blank_roster_reads_as_a_roster_with_no_one_yet() {
    let app = TestApp::spawn().await;
    let blank = yijia_service::import::roster_template(false).unwrap();
    let r = app
        .svc
        .import_residents(&Caller::operator(), &blank, "chengnan", &HashMap::new(), true, &|_, _| {})
        .await
        .unwrap();
    assert_eq!((r.rows, r.imported, r.bad.len()), (0, 0, 0), "{:?}", r.bad);
    // the page offers it
    let b = app.browser_as("secretary").await;
    let res = b.get(format!("{}/residents/import/template", app.url)).send().await.unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.contains(".xlsx"), "{disposition}");
    let body = res.bytes().await.unwrap();
    assert!(body.starts_with(b"PK"), "a workbook");
    let page = b.get(format!("{}/residents/import", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("/residents/import/template"), "the form links the blank roster");
}
