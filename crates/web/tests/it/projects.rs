//! Repair projects over HTTP: the secretary files for money, the street
//! officer approves it, expenses are entered (a large one approved by the
//! street officer), the residents of the building accept the work and the
//! hazards it fixes close; the public board's every amount equals the
//! ledger of expenses.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::time::{DAY_MS, rfc3339, to_local};

use crate::helpers::TestApp;
use crate::me::link;

/// A resident of 8号楼 in grid 1 with an account.
pub(crate) async fn neighbour(app: &TestApp, staff: &str, name: &str, phone: &str, door: &str) -> (i64, i64, String) {
    let body = json!({"name": name, "grid": "chengnan-g01", "relation": "户主", "residence": "permanent",
        "household": {"estate": "丁香花园三期", "building": "8号楼", "entrance": "1单元", "door": door}});
    let (st, r) = app.post(staff, "/api/v1/residents", body).await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let building = r["address"]["building_id"].as_i64().unwrap();
    let (id, token) = link(app, r["id"].as_i64().unwrap(), phone).await;
    (id, building, token)
}

pub(crate) async fn hazard(app: &TestApp, token: &str, building: i64, title: &str) -> i64 {
    let body = json!({"category": "structure", "title": title, "description": "三期 8 号楼", "building_id": building});
    let (st, v) = app.post(token, "/api/v1/cases", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

fn field(v: &Value) -> Option<&str> {
    v["error"]["field"].as_str()
}

#[tokio::test]
async fn funding_approved_spent_accepted_by_residents_closes_the_hazards_and_the_board_adds_up() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let officer = app.token("officer").await;
    let staff = app.token("staff").await;
    let (_, building, zhang) = neighbour(&app, &staff, "张大爷", "13812345678", "101").await;
    let (_, _, li) = neighbour(&app, &staff, "李奶奶", "13912345678", "102").await;
    let (_, _, wang) = neighbour(&app, &staff, "王叔", "13712345678", "201").await;
    let ceiling = hazard(&app, &staff, building, "吊顶脱落").await;
    let roof = hazard(&app, &staff, building, "屋顶漏雨").await;

    // a project needs its buildings; a case of another kind is refused by name
    let body = json!({"title": "丁香花园三期修缮", "buildings": [], "cases": [ceiling]});
    let (st, v) = app.post(&secretary, "/api/v1/projects", body).await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some("buildings")), "{v}");
    let body = json!({"title": "丁香花园三期修缮", "buildings": [building], "cases": [ceiling, 999_999]});
    let (st, v) = app.post(&secretary, "/api/v1/projects", body).await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some("cases[1]")), "{v}");
    let body = json!({"title": "丁香花园三期修缮", "buildings": [building], "cases": [ceiling, roof], "quorum": 3});
    let (st, p) = app.post(&secretary, "/api/v1/projects", body).await;
    assert_eq!((st, p["stage"].as_str()), (StatusCode::CREATED, Some("planning")), "{p}");
    let id = p["id"].as_i64().unwrap();
    let url = |s: &str| format!("/api/v1/projects/{id}{s}");
    assert_eq!(p["buildings"][0]["households"], 3);

    // the budget, in fen
    for (name, fen) in [("屋面防水", 8_000_000), ("外墙粉刷", 4_500_000), ("单元防盗门", 3_600_000)] {
        let (st, v) = app.post(&secretary, &url("/budget"), json!({"name": name, "amount": fen})).await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }
    let (st, v) = app.post(&secretary, &url("/budget"), json!({"name": "其他", "amount": 0})).await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some("amount")), "{v}");
    let (_, p) = app.get(&secretary, &url("")).await;
    let line =
        |name: &str| p["lines"].as_array().unwrap().iter().find(|l| l["name"] == name).unwrap()["id"].as_i64().unwrap();
    let (roofing, walls, doors) = (line("屋面防水"), line("外墙粉刷"), line("单元防盗门"));

    // no work without money; the secretary files, the street officer approves
    let (st, _) = app.post(&secretary, &url("/stage"), json!({"to": "working"})).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (st, p) = app
        .post(&secretary, &url("/fundings"), json!({"source": "subdistrict", "asked": 12_000_000, "note": "街道专项"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let (_, p) =
        app.post(&secretary, &url("/fundings"), json!({"source": "maintenance_fund", "asked": 5_000_000})).await;
    let (st, v) = app.post(&secretary, &url("/fundings"), json!({"source": "lottery", "asked": 1})).await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some("source")), "{v}");
    let f1 = p["fundings"][0]["id"].as_i64().unwrap();
    let f2 = p["fundings"][1]["id"].as_i64().unwrap();
    // the secretary may not approve her own application
    assert_eq!(
        app.post(&secretary, &format!("/api/v1/fundings/{f1}/decision"), json!({"approve": true})).await.0,
        StatusCode::NOT_FOUND
    );
    let (st, v) = app
        .post(&officer, &format!("/api/v1/fundings/{f1}/decision"), json!({"approve": true, "approved": 13_000_000}))
        .await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some("approved")), "more than asked: {v}");
    let (st, p) = app.post(&officer, &format!("/api/v1/fundings/{f1}/decision"), json!({"approve": true})).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let (_, p) = app
        .post(
            &officer,
            &format!("/api/v1/fundings/{f2}/decision"),
            json!({"approve": true, "approved": 3_000_000, "note": "按实际"}),
        )
        .await;
    assert_eq!(
        app.post(&officer, &format!("/api/v1/fundings/{f2}/decision"), json!({"approve": false})).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(p["money"]["approved"], 15_000_000, "{p}");
    let (st, p) = app.post(&secretary, &url("/stage"), json!({"to": "working"})).await;
    assert_eq!((st, p["stage"].as_str()), (StatusCode::OK, Some("working")), "{p}");

    // expenses: small ones recorded, a large one waits for the street officer
    let today = to_local(app.svc.now()).date_naive().format("%Y-%m-%d").to_string();
    let spend = |line: i64, amount: i64, what: &str| json!({"line_id": line, "amount": amount, "payee": "长春市宏达建筑公司", "description": what, "spent_on": today});
    let (st, p) = app.post(&secretary, &url("/expenses"), spend(walls, 4_250_050, "外墙粉刷 2100㎡")).await;
    assert_eq!((st, p["expenses"][0]["status"].as_str()), (StatusCode::OK, Some("recorded")), "{p}");
    let (_, p) = app.post(&secretary, &url("/expenses"), spend(roofing, 7_800_000, "屋面防水卷材及施工")).await;
    let big = p["expenses"].as_array().unwrap().iter().find(|x| x["amount"] == 7_800_000).unwrap().clone();
    assert_eq!(big["status"], "pending", "above the limit: {big}");
    app.post(&secretary, &url("/expenses"), spend(doors, 999, "门禁卡")).await;
    let (st, v) = app.post(&secretary, &url("/expenses"), spend(doors, 5_000_000, "单元防盗门 12 樘")).await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some("amount")), "beyond the approved money: {v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("还可支出"), "{v}");
    let (st, v) = app.post(&secretary, &url("/expenses"), json!({"line_id": doors, "amount": 100, "payee": "x", "description": "x", "spent_on": rfc3339(app.svc.now() + DAY_MS)[..10]})).await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some("spent_on")), "{v}");
    let (st, p) =
        app.post(&officer, &format!("/api/v1/expenses/{}/decision", big["id"]), json!({"approve": true})).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    app.post(&secretary, &url("/expenses"), spend(doors, 2_900_000, "单元防盗门 12 樘")).await;

    // finished: the residents of the building vote
    let (st, m) = app.post(&secretary, &url("/milestones"), json!({"title": "屋面防水完工", "due_on": today})).await;
    assert_eq!(st, StatusCode::OK, "{m}");
    let mid = m["milestones"][0]["id"].as_i64().unwrap();
    let (_, m) = app.post(&secretary, &format!("/api/v1/milestones/{mid}/done"), json!({})).await;
    assert_eq!(m["milestones"][0]["done_on"], today.as_str());
    let vote = |accept: bool| json!({ "accept": accept });
    assert_eq!(
        app.post(&zhang, &format!("/api/v1/me/projects/{id}/vote"), vote(true)).await.0,
        StatusCode::CONFLICT,
        "not yet"
    );
    app.post(&secretary, &url("/stage"), json!({"to": "voting"})).await;
    let (st, v) = app.post(&zhang, &format!("/api/v1/me/projects/{id}/vote"), vote(true)).await;
    assert_eq!((st, v["accept"].as_i64()), (StatusCode::OK, Some(1)), "{v}");
    assert_eq!(
        app.post(&zhang, &format!("/api/v1/me/projects/{id}/vote"), vote(false)).await.0,
        StatusCode::CONFLICT,
        "once"
    );
    // a resident of another building has no say
    let (_, outsider) = crate::me::linked_resident(&app, "赵先生", "13612345678").await;
    assert_eq!(
        app.post(&outsider, &format!("/api/v1/me/projects/{id}/vote"), vote(false)).await.0,
        StatusCode::NOT_FOUND
    );
    // two votes miss the quorum of three: the work goes on
    app.post(&li, &format!("/api/v1/me/projects/{id}/vote"), vote(true)).await;
    let (st, p) = app.post(&secretary, &url("/count-votes"), json!({})).await;
    assert_eq!((st, p["stage"].as_str()), (StatusCode::OK, Some("working")), "{p}");
    app.post(&secretary, &url("/stage"), json!({"to": "voting"})).await;
    for t in [&zhang, &li] {
        app.post(t, &format!("/api/v1/me/projects/{id}/vote"), vote(true)).await;
    }
    app.post(&wang, &format!("/api/v1/me/projects/{id}/vote"), vote(false)).await;
    let (_, mine) = app.get(&wang, "/api/v1/me/projects").await;
    assert_eq!(
        (mine[0]["my_vote"].as_bool(), mine[0]["expenses"][0]["payee"].as_str()),
        (Some(false), Some("")),
        "{mine}"
    );
    let (st, p) = app.post(&secretary, &url("/count-votes"), json!({})).await;
    assert_eq!((st, p["stage"].as_str()), (StatusCode::OK, Some("accepted")), "{p}");
    assert!(p["warranty_until"].as_str().is_some());
    for k in [ceiling, roof] {
        let (_, c) = app.get(&staff, &format!("/api/v1/cases/{k}")).await;
        assert_eq!(c["state"], "closed", "{c}");
        // by the workflow's own moves, never a jump from 待受理 to 已关闭
        let moves: Vec<(&str, &str)> = c["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] != "created")
            .map(|e| (e["from_state"].as_str().unwrap_or(""), e["to_state"].as_str().unwrap_or("")))
            .collect();
        let expected = [
            ("submitted", "accepted"),
            ("accepted", "in_progress"),
            ("in_progress", "resolved"),
            ("resolved", "closed"),
        ];
        assert_eq!(moves, expected, "{c}");
    }
    // a new hazard on the building during the warranty links back
    let leak = hazard(&app, &staff, building, "屋顶又漏").await;
    let (_, p) = app.get(&secretary, &url("")).await;
    assert_eq!(p["warranty_cases"][0]["id"], leak, "{p}");

    // the public board, without logging in: every amount equals the ledger
    let r = reqwest::get(format!("{}/api/v1/boards/spending?community=chengnan", app.url)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(
        !text.contains("长春市宏达建筑公司") && !text.contains("张大爷") && !text.contains("138"),
        "no payees, names or phones"
    );
    let board: Value = serde_json::from_str(&text).unwrap();
    let (_, ledger) = app.get(&secretary, &url("")).await;
    let spent: Vec<&Value> = ledger["expenses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["status"] == "recorded" || x["status"] == "approved")
        .collect();
    let sum: i64 = spent.iter().map(|x| x["amount"].as_i64().unwrap()).sum();
    assert_eq!(sum, 4_250_050 + 7_800_000 + 999 + 2_900_000);
    let bp = &board["projects"][0];
    assert_eq!(bp["spent"], sum);
    assert_eq!(board["spent"], sum);
    let listed: i64 = bp["expenses"].as_array().unwrap().iter().map(|x| x["amount"].as_i64().unwrap()).sum();
    assert_eq!(listed, sum, "the expenses listed add up to the total");
    let by_line: i64 = bp["lines"].as_array().unwrap().iter().map(|l| l["spent"].as_i64().unwrap()).sum();
    assert_eq!(by_line, sum, "the lines add up to the total");
    assert_eq!(bp["approved"], 15_000_000);
    assert_eq!(bp["remaining"], 15_000_000 - sum);
    assert_eq!(bp["per_household"], sum / 3);
    let year = &today[..4];
    let y = board["years"].as_array().unwrap().iter().find(|y| y["year"] == year).unwrap();
    assert_eq!((y["approved"].as_i64(), y["spent"].as_i64()), (Some(15_000_000), Some(sum)));
    assert_eq!(
        reqwest::get(format!("{}/api/v1/boards/spending?community=nowhere", app.url)).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn receipts_and_photos_are_kept_cleaned_and_only_photos_of_the_work_are_public() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let officer = app.token("officer").await;
    let staff = app.token("staff").await;
    let (_, building, resident) = neighbour(&app, &staff, "张大爷", "13812345678", "101").await;
    let body = json!({"title": "8号楼屋面", "buildings": [building]});
    let (_, p) = app.post(&secretary, "/api/v1/projects", body).await;
    let id = p["id"].as_i64().unwrap();
    let url = |s: &str| format!("/api/v1/projects/{id}{s}");
    app.post(&secretary, &url("/budget"), json!({"name": "屋面", "amount": 1_000_000})).await;
    let (_, p) = app.post(&secretary, &url("/fundings"), json!({"source": "subdistrict", "asked": 1_000_000})).await;
    let funding = p["fundings"][0]["id"].as_i64().unwrap();
    app.post(&officer, &format!("/api/v1/fundings/{funding}/decision"), json!({"approve": true})).await;
    let today = to_local(app.svc.now()).date_naive().format("%Y-%m-%d").to_string();
    let line = p["lines"][0]["id"].as_i64().unwrap();
    let spend =
        json!({"line_id": line, "amount": 500_000, "payee": "某公司", "description": "防水", "spent_on": today});
    let (_, p) = app.post(&secretary, &url("/expenses"), spend).await;
    let expense = p["expenses"][0]["id"].as_i64().unwrap();
    let (_, p) = app.post(&secretary, &url("/milestones"), json!({"title": "防水完工", "due_on": today})).await;
    let milestone = p["milestones"][0]["id"].as_i64().unwrap();

    let upload = |query: String, name: &'static str, bytes: Vec<u8>| {
        let (app, s) = (&app, secretary.clone());
        async move {
            let form =
                reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name));
            let r = app
                .client()
                .post(format!("{}{}", app.url, query))
                .bearer_auth(&s)
                .multipart(form)
                .send()
                .await
                .unwrap();
            let st = r.status();
            (st, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec();
    let (st, v) = upload(url(&format!("/files?kind=receipt&of={expense}")), "receipt.pdf", pdf.clone()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let receipt = v["files"][0]["id"].as_i64().unwrap();
    let (st, v) = upload(url(&format!("/files?kind=receipt&of={expense}")), "notes.txt", b"hello".to_vec()).await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some("file")), "{v}");
    let (st, v) = upload(url(&format!("/files?kind=before&of={milestone}")), "roof.pdf", pdf).await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some("photo")), "a PDF is no photo: {v}");
    let (st, v) = upload(url(&format!("/files?kind=receipt&of={}", expense + 99)), "r.pdf", b"%PDF-1.4".to_vec()).await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some("of")), "{v}");
    let photo = yijia_service::photos::sample_jpeg_with_gps(64, 48);
    let (st, v) = upload(url(&format!("/files?kind=before&of={milestone}")), "roof.jpg", photo).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let before = v["files"].as_array().unwrap().iter().find(|f| f["kind"] == "before").unwrap()["id"].as_i64().unwrap();
    assert_eq!(v["files"].as_array().unwrap().len(), 2, "nothing kept of the refused uploads: {v}");

    // the receipt: to the project's readers only
    let r = app
        .client()
        .get(format!("{}/api/v1/project-files/{receipt}", app.url))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(app.get(&resident, &format!("/api/v1/project-files/{receipt}")).await.0, StatusCode::NOT_FOUND);
    let public = |fid: i64| reqwest::get(format!("{}/api/v1/boards/photos/{fid}", app.url));
    assert_eq!(public(receipt).await.unwrap().status(), StatusCode::NOT_FOUND, "receipts are not public");
    // the photo of the work: public, cleaned of where it was taken
    let r = public(before).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    assert!(!bytes.windows(4).any(|w| w == b"Exif"), "no EXIF left");
    let board: Value = reqwest::get(format!("{}/api/v1/boards/spending?community=chengnan", app.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let photos: Vec<i64> =
        board["projects"][0]["photos"].as_array().unwrap().iter().map(|f| f["id"].as_i64().unwrap()).collect();
    assert_eq!(photos, [before], "the board lists the photo, not the receipt");
}
