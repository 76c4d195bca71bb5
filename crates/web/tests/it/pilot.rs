//! A resident's day as a pilot found it: the result before the rating and
//! nothing preselected, buttons named by what they do, his own building to
//! begin a request with, his grid worker to call, older notices, and a way
//! back in after a forgotten password.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;
use crate::me::{PASSWORD, link};

/// A browser-like client logged in with a resident's number.
async fn browser(app: &TestApp, phone: &str) -> reqwest::Client {
    let b = app.browser();
    let r = b
        .post(format!("{}/login", app.url))
        .form(&[("username", phone), ("password", PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login as {phone}");
    b
}

async fn page(b: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let r = b.get(format!("{}{path}", app.url)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// A resident at 丁香花园三期 8号楼 2单元 502 with an account.
async fn at_home(app: &TestApp) -> (i64, String, i64) {
    let staff = app.token("staff").await;
    let body = json!({"name": "孙大爷", "grid": "chengnan-g01", "relation": "户主", "residence": "permanent",
        "household": {"estate": "丁香花园三期", "building": "8号楼", "entrance": "2单元", "door": "502"}});
    let (st, v) = app.post(&staff, "/api/v1/residents", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let building = v["address"]["building_id"].as_i64().unwrap();
    let (_, token) = link(app, id, "13912345678").await;
    (id, token, building)
}

#[tokio::test]
async fn a_resident_rates_after_reading_the_result_and_nothing_is_chosen_for_him() {
    let app = TestApp::spawn().await;
    let (_, me, building) = at_home(&app).await;
    let b = browser(&app, "13912345678").await;

    // his request begins at his own building, and the hint asks without the token
    let (st, html) = page(&b, &app, "/cases/new").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains(&format!("<option value=\"{building}\" selected>")), "his building is chosen");
    let form = html.split("<form").find(|f| f.contains("id=\"case-new\"")).unwrap().split('>').next().unwrap();
    assert!(!form.contains("hx-get"), "the form itself does not ask: a GET of the form carries the CSRF token");
    let hint = html.split("id=\"similar\"").nth(1).unwrap().split('>').next().unwrap();
    assert!(hint.contains("hx-get=\"/cases/similar\"") && hint.contains("description"), "{hint}");

    let (st, v) = app
        .post(
            &me,
            "/api/v1/cases",
            json!({"category": "repair", "description": "楼道灯不亮,晚上看不见台阶", "building_id": building}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let worker = app.token("worker1").await;
    for (action, version, note) in [("accept", 1, ""), ("start", 2, ""), ("resolve", 3, "已更换声控灯,亮了")] {
        let (st, v) = app
            .post(
                &worker,
                &format!("/api/v1/cases/{id}/actions"),
                json!({"action": action, "version": version, "note": note}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{action}: {v}");
    }
    let (st, html) = page(&b, &app, &format!("/cases/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    let (result, rate, actions) =
        (html.find("id=\"result\"").unwrap(), html.find("id=\"rate\"").unwrap(), html.find("id=\"actions\"").unwrap());
    assert!(result < rate && rate < actions, "the result, then the rating, then his decision");
    assert!(html[result..rate].contains("已更换声控灯,亮了"));
    let stars = &html[rate..actions];
    assert_eq!(stars.matches("name=\"rating\"").count(), 5);
    assert!(!stars.contains("checked"), "no rating chosen for him");
    assert!(html.contains("问题已解决,结案") && html.contains("没有解决,请重新办理"), "buttons say what they do");
    assert!(!html.contains("/buildings/"), "no link to a staff page he cannot open");
    assert_eq!(page(&b, &app, &format!("/buildings/{building}")).await.0, StatusCode::NOT_FOUND);
    // staff still get the building
    let sec = app.browser_as("secretary").await;
    assert!(page(&sec, &app, &format!("/cases/{id}")).await.1.contains(&format!("/buildings/{building}")));
}

async fn who_phone(app: &TestApp, me: &str) -> String {
    let (st, who) = app.get(me, "/api/v1/me/grid-workers").await;
    assert_eq!((st, who[0]["name"].as_str()), (StatusCode::OK, Some("李网格")), "{who}");
    who[0]["work_phone"].as_str().expect("the demo gives her a work phone").to_owned()
}

#[tokio::test]
async fn a_resident_sees_whom_to_call_and_every_notice_and_staff_see_names_not_codes() {
    let app = TestApp::spawn().await;
    let (_, me, _) = at_home(&app).await;
    let b = browser(&app, "13912345678").await;
    let (_, html) = page(&b, &app, "/").await;
    assert!(html.contains("id=\"my-grid-worker\"") && html.contains("李网格"), "his grid worker by name");
    let phone = who_phone(&app, &me).await;
    assert!(html.contains(&format!("href=\"tel:{phone}\"")), "his worker's work phone to call: {phone}");
    assert!(!html.contains("chengnan-g01"), "no codes");

    // a notice that has ended still has a page
    let staff = app.token("staff").await;
    let now = app.svc.now();
    let (st, n) = app
        .post(
            &staff,
            "/api/v1/notices",
            json!({"title": "停水通知", "body": "周三 9:00–12:00 停水",
            "publish_until": yijia_domain::time::rfc3339(now + 60_000)}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{n}");
    app.clock.advance(120_000);
    let b = browser(&app, "13912345678").await;
    let (st, html) = page(&b, &app, "/me/notices").await;
    assert_eq!(st, StatusCode::OK);
    let past = html.split("id=\"past\"").nth(1).unwrap();
    assert!(past.contains("停水通知"), "{html}");
    let me = app.login_raw("13912345678", PASSWORD).await.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, ended) = app.get(&me, "/api/v1/me/notices?ended=true").await;
    assert_eq!(ended[0]["title"], "停水通知", "{ended}");
    assert_eq!(page(&b, &app, &format!("/me/notices/{}", n["id"])).await.0, StatusCode::OK);

    // staff read names on their home page too
    let sec = app.browser_as("secretary").await;
    let (_, html) = page(&sec, &app, "/").await;
    assert!(html.contains("城南社区") && !html.contains("(chengnan)"), "names, not codes");
}

#[tokio::test]
async fn a_forgotten_password_comes_back_with_a_new_code_from_staff() {
    let app = TestApp::spawn().await;
    let (id, old_token, _) = at_home(&app).await;
    let worker = app.token("worker1").await;
    let (st, inv) = app.post(&worker, &format!("/api/v1/residents/{id}/invitation"), json!({})).await;
    assert_eq!((st, inv["for_reset"].as_bool()), (StatusCode::CREATED, Some(true)), "{inv}");
    let code = inv["code"].as_str().unwrap();
    let reset = |phone: &'static str, password: &'static str| {
        let client = app.client();
        let url = format!("{}/api/v1/join", app.url);
        let body = json!({"code": code, "phone": phone, "password": password});
        async move {
            let r = client.post(url).json(&body).send().await.unwrap();
            (r.status(), r.json::<serde_json::Value>().await.unwrap_or_default())
        }
    };
    // someone else's number does not take his account
    let (st, e) = reset("13800001111", "Sun-daye-new-2026").await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("phone")), "{e}");
    let (st, u) = reset("13912345678", "Sun-daye-new-2026").await;
    assert_eq!((st, u["username"].as_str()), (StatusCode::CREATED, Some("13912345678")), "{u}");
    assert_eq!(app.login_raw("13912345678", PASSWORD).await.status(), StatusCode::UNAUTHORIZED, "the old one is gone");
    assert_eq!(app.login_raw("13912345678", "Sun-daye-new-2026").await.status(), StatusCode::OK);
    assert_eq!(app.get(&old_token, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED, "his sessions ended");
    assert_eq!(reset("13912345678", "Sun-daye-other-2026").await.0, StatusCode::UNPROCESSABLE_ENTITY, "once");
    assert!(app.audit().await.iter().any(|(a, o, _)| a == "password_reset_by_code" && o == "ok"));
}

#[tokio::test]
async fn a_work_phone_is_set_by_who_manages_the_user_and_checked() {
    let app = TestApp::spawn().await;
    let sec = app.token("secretary").await;
    let (st, u) = app
        .send(reqwest::Method::PUT, &sec, "/api/v1/users/worker1/work-phone", json!({"work_phone": "138 0431 2222"}))
        .await;
    assert_eq!((st, u["work_phone"].as_str()), (StatusCode::OK, Some("13804312222")), "{u}");
    let (st, e) =
        app.send(reqwest::Method::PUT, &sec, "/api/v1/users/worker1/work-phone", json!({"work_phone": "12345"})).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("work_phone")), "{e}");
    let worker = app.token("worker1").await;
    let (st, _) =
        app.send(reqwest::Method::PUT, &worker, "/api/v1/users/worker1/work-phone", json!({"work_phone": ""})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "a grid worker manages no users");
    let (_, list) = app.get(&sec, "/api/v1/users?per_page=100").await;
    let w = list["items"].as_array().unwrap().iter().find(|u| u["username"] == "worker1").unwrap().clone();
    assert_eq!(w["work_phone"], "13804312222");
}

/// A resident of grid 3 at a door of 8号楼, with a whole ID number.
async fn registered(app: &TestApp, token: &str, name: &str, door: &str, serial: u16) -> i64 {
    use yijia_domain::id_number::{IdNumber, Sex};
    let born = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
    let id = IdNumber::from_parts("220182", born, serial, Sex::Male).unwrap();
    let body = json!({"name": name, "grid": "chengnan-g03", "id_number": id.as_str(), "relation": "户主", "residence": "permanent",
        "household": {"estate": "丁香花园三期", "building": "8号楼", "entrance": "2单元", "door": door},
        "categories": [{"category": "elderly_alone"}]});
    let (st, v) = app.post(token, "/api/v1/residents", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

#[tokio::test]
async fn the_secretary_reads_a_ledger_in_pinyin_order_and_a_record_in_plain_words() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let yu = registered(&app, &secretary, "于敏", "301", 511).await;
    registered(&app, &secretary, "丁红", "302", 513).await;
    let b = app.browser_as("secretary").await;
    let (st, html) = page(&b, &app, "/residents?sort=name").await;
    assert_eq!(st, StatusCode::OK);
    let table = html.split("<table class=\"ledger").nth(1).expect("a ledger table");
    assert!(table.find("丁红").unwrap() < table.find("于敏").unwrap(), "丁 ding before 于 yu");
    assert!(
        table.contains("220182********") && table.contains("丁香花园三期 8号楼 2单元 301"),
        "masked ID and address"
    );
    assert!(table.contains("第3网格") && !table.contains("chengnan-g03"), "the grid by name");
    assert!(html.contains("<details class=\"filters-box\">"), "the filters fold away until used");
    let (_, api) = app.get(&secretary, "/api/v1/residents?sort=name").await;
    assert_eq!(api["items"][0]["name"], "丁红", "{api}");
    assert_eq!(api["items"][0]["address"]["door"], "302", "a ledger line carries its address");

    // a few digits are not a search: say what to type, never a parameter's name
    let (st, html) = page(&b, &app, "/residents?q=1381234").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("11 位手机号") && html.contains("「姓名」"), "{html}");
    assert!(!html.contains("用 name"));

    // the record: times as people write them, names instead of usernames, the reason in words
    let worker = app.token("worker3").await;
    assert_eq!(app.get(&worker, &format!("/api/v1/residents/{yu}")).await.0, StatusCode::OK);
    let csrf = html.split("hx-headers='{\"X-CSRF-Token\": \"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let r = b
        .post(format!("{}/residents/{yu}/unmask", app.url))
        .header("x-csrf-token", &csrf)
        .header("hx-request", "true")
        .form(&[("field", "id_number"), ("reason", "办理高龄补贴")])
        .send()
        .await
        .unwrap();
    let fragment = r.text().await.unwrap();
    assert!(fragment.contains("id=\"v-id_number\" hx-swap-oob=\"true\""), "shown in place: {fragment}");
    let (_, html) = page(&b, &app, &format!("/residents/{yu}")).await;
    assert!(html.contains("第3网格"));
    let looked = html.split("谁查看过").nth(1).unwrap();
    assert!(looked.contains("王小红") && looked.contains("社区书记"), "viewers by name and role: {looked}");
    assert!(looked.contains("办理高龄补贴") && !looked.contains("{\""), "the reason, not JSON");
    assert!(!html.contains("T0") && !html.contains("+08:00"), "no ISO timestamps");
    assert!(html.contains(">登记<") || html.contains(" 登记 "), "a machine word in words");
    assert!(!html.contains("登记 / registered"));
}

#[tokio::test]
async fn the_inbox_speaks_to_who_reads_it_and_shows_what_is_urgent() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let (st, v) = app
        .post(&staff, "/api/v1/cases", json!({"category": "repair", "description": "电梯困人,老人被困轿厢", "grid": "chengnan-g01", "priority": "urgent"}))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let sec = app.browser_as("secretary").await;
    let (_, html) = page(&sec, &app, "/cases").await;
    assert!(html.contains("本社区") && !html.contains("我的网格"), "a secretary has no grid");
    assert!(html.contains("class=\"tag late priority\">加急"), "urgent shows in the list");
    let worker = app.browser_as("worker1").await;
    assert!(page(&worker, &app, "/cases").await.1.contains("我的网格"));
    let officer = app.browser_as("officer").await;
    assert!(page(&officer, &app, "/cases").await.1.contains("本街道"));
}

#[tokio::test]
async fn a_button_that_can_only_be_refused_is_shown_disabled_with_the_reason() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let secretary = app.token("secretary").await;
    let (_, building, _) = crate::projects::neighbour(&app, &staff, "张大爷", "13812345678", "101").await;
    let ceiling = crate::projects::hazard(&app, &staff, building, "吊顶脱落").await;
    let body = json!({"title": "丁香花园三期修缮", "buildings": [building], "cases": [ceiling]});
    let (st, p) = app.post(&secretary, "/api/v1/projects", body).await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    let sec = app.browser_as("secretary").await;
    let (_, html) = page(&sec, &app, &format!("/projects/{}", p["id"])).await;
    assert!(html.contains("id=\"start-work\" disabled"), "no money approved: 开工 cannot be pressed");
    assert!(html.contains("资金申请获批后才能开工"), "and it says why");
    assert!(!html.contains("name=\"to\" value=\"working\""), "no form that could only be refused");
}

#[tokio::test]
async fn the_plain_board_addresses_work_and_each_community_has_a_poster() {
    let app = TestApp::spawn().await;
    let visitor = app.browser();
    let get = |path: &str| visitor.get(format!("{}{path}", app.url)).send();
    // one community: straight to its board
    for path in ["/boards/spending", "/boards/pledges", "/honours"] {
        let r = get(path).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers()["location"], format!("{path}?community=chengnan").as_str());
    }
    // two: a chooser, by name
    let admin = app.token("admin").await;
    let (st, v) = app
        .post(
            &admin,
            "/api/v1/org",
            json!({"code": "chunfeng", "kind": "community", "name": "春风社区", "parent": "zhengyang"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let r = get("/boards/pledges").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("/boards/pledges?community=chunfeng") && html.contains("春风社区") && html.contains("城南社区")
    );
    assert_eq!(get("/honours").await.unwrap().status(), StatusCode::OK, "a chooser, not a 404");

    // the poster: a QR code for each board, each to the full address of this community's
    let r = get("/boards/poster?community=chengnan").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert_eq!(html.matches("<svg").count(), 3, "three codes");
    for path in ["/boards/spending", "/boards/pledges", "/honours"] {
        assert!(html.contains(&format!("{}{path}?community=chengnan", app.url)), "{path}");
    }
    assert_eq!(get("/boards/poster?community=nowhere").await.unwrap().status(), StatusCode::NOT_FOUND);
    let html = get("/boards").await.unwrap().text().await.unwrap();
    assert!(html.contains("/boards/poster?community=chunfeng"), "every community's boards and poster");
}

#[tokio::test]
async fn the_street_officer_is_spoken_to_as_such_and_the_map_and_charts_read_true() {
    let app = TestApp::spawn().await;
    let officer = app.browser_as("officer").await;
    let (_, home) = page(&officer, &app, "/").await;
    assert!(!home.contains("href=\"/walk\""), "a walk is a grid worker's, not the street office's");
    assert!(home.contains("href=\"/coverage\""));
    let (_, html) = page(&officer, &app, "/dashboard?org=zhengyang").await;
    assert!(!html.contains("GeoJSON"), "no jargon meant for administrators");
    // the month under way is marked in the charts: its low bars are a part
    let sec = app.browser_as("secretary").await;
    let (_, html) = page(&sec, &app, "/dashboard").await;
    let month = yijia_domain::time::to_local(app.svc.now()).format("%Y-%m").to_string();
    assert!(html.contains(&format!("{month} (至今)")), "the current month is marked as partial");
    // the grid labels are drawn over the estate dots, not under them
    let svg = html.split("<svg").nth(1).unwrap().split("</svg>").next().unwrap();
    if let (Some(dot), Some(label)) = (svg.rfind("<circle"), svg.find("class=\"area-label\"")) {
        assert!(dot < label, "labels after the dots");
    }
}

/// A browser's form post, with the page's CSRF token; the answer is not
/// followed.
async fn send_form(b: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let html = page(b, app, "/").await.1;
    let csrf = html.split("hx-headers='{\"X-CSRF-Token\": \"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let mut form = form.to_vec();
    form.push(("_csrf", &csrf));
    let r = b.post(format!("{}{path}", app.url)).form(&form).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn the_officer_clears_what_awaits_him_and_money_is_confirmed_by_its_amount() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let secretary = app.token("secretary").await;
    let officer = app.token("officer").await;
    let (_, building, _) = crate::projects::neighbour(&app, &staff, "张大爷", "13812345678", "101").await;
    let (st, p) =
        app.post(&secretary, "/api/v1/projects", json!({"title": "三期院墙重建", "buildings": [building]})).await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    let url = |s: &str| format!("/api/v1/projects/{}{s}", p["id"]);
    let (_, v) = app.post(&secretary, &url("/budget"), json!({"name": "院墙砌筑", "amount": 12_000_000})).await;
    let line = v["lines"][0]["id"].as_i64().unwrap();
    let (_, v) = app.post(&secretary, &url("/fundings"), json!({"source": "city", "asked": 12_000_000})).await;
    let funding = v["fundings"][0]["id"].as_i64().unwrap();

    // his home and his menu say one thing waits; a resident has no such list
    let b = app.browser_as("officer").await;
    let (_, home) = page(&b, &app, "/").await;
    assert!(home.contains("id=\"approvals-waiting\"") && home.contains("待我审批:1"), "the home page counts it");
    assert!(home.contains("hx-get=\"/approvals/count\""), "the menu asks for the figure");
    assert_eq!(page(&b, &app, "/approvals/count").await.1, "<span class=\"count\">1</span>");
    let (_, mine) = app.get(&officer, "/api/v1/me/approvals").await;
    assert_eq!(
        (mine["waiting"][0]["kind"].as_str(), mine["waiting"][0]["amount"].as_i64()),
        (Some("funding"), Some(12_000_000))
    );
    let (_, html) = page(&b, &app, "/approvals").await;
    assert!(
        html.contains("三期院墙重建") && html.contains("¥120,000.00") && html.contains("市级专项"),
        "named, with its amount"
    );

    // approving money first repeats the amount, in figures and in capitals; nothing moves yet
    let at = format!("/approvals/funding/{funding}");
    let (st, html) = send_form(&b, &app, &at, &[("decision", "approve"), ("note", "同意,专款专用")]).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("¥120,000.00") && html.contains("壹拾贰万元整"), "the confirmation repeats the amount");
    assert!(html.contains("name=\"confirmed\" value=\"12000000\""));
    let (_, v) = app.get(&secretary, &url("")).await;
    assert_eq!(v["fundings"][0]["status"], "applied", "not decided before it is confirmed");
    // a confirmation of another amount is asked again
    let (st, html) =
        send_form(&b, &app, &at, &[("decision", "approve"), ("approved", "100000"), ("confirmed", "12000000")]).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("壹拾万元整") && html.contains("金额与确认的不一致"), "{html}");
    let form =
        [("decision", "approve"), ("approved", "120,000.00"), ("confirmed", "12000000"), ("note", "同意,专款专用")];
    let (st, _) = send_form(&b, &app, &at, &form).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, v) = app.get(&secretary, &url("")).await;
    assert_eq!(
        (v["fundings"][0]["status"].as_str(), v["fundings"][0]["approved"].as_i64()),
        (Some("approved"), Some(12_000_000))
    );
    // his comment stays, on the project and in his list of what he decided
    let (_, html) = page(&app.browser_as("secretary").await, &app, &format!("/projects/{}", p["id"])).await;
    assert!(html.contains("同意,专款专用"), "the comment is on the project page");
    assert_eq!(page(&b, &app, "/approvals/count").await.1, "", "nothing waits now");

    // a large expense: refused with a comment that stays
    let (_, v) = app
        .post(
            &secretary,
            &url("/expenses"),
            json!({"line_id": line, "amount": 6_000_000, "payee": "某建筑公司",
            "description": "院墙砌筑首付款", "spent_on": "2026-11-30"}),
        )
        .await;
    let expense = v["expenses"][0]["id"].as_i64().unwrap();
    assert_eq!(v["expenses"][0]["status"], "pending", "{v}");
    let (st, _) =
        send_form(&b, &app, &format!("/approvals/expense/{expense}"), &[("decision", "reject"), ("note", "缺少合同")])
            .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, v) = app.get(&secretary, &url("")).await;
    assert_eq!(
        (v["expenses"][0]["status"].as_str(), v["expenses"][0]["decision_note"].as_str()),
        (Some("rejected"), Some("缺少合同"))
    );
    let (_, html) = page(&b, &app, "/approvals").await;
    let decided = html.split("id=\"decided\"").nth(1).unwrap();
    assert!(decided.contains("缺少合同") && decided.contains("同意,专款专用"), "both decisions with their comments");

    // the resident approves nothing
    let (st, _) = app.get(&app.token("resident").await, "/api/v1/me/approvals").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_secretary_decides_exports_and_points_others_asked_for() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let secretary = app.token("secretary").await;
    let (pool, _) = crate::points::accounts(&app, &staff).await;
    let zhang = crate::points::resident(&app, &staff, "张阿姨").await;
    let (st, v) =
        app.post(&staff, "/api/v1/points/transfers", crate::points::one("flood", pool, zhang, 600, "award")).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::ACCEPTED, Some("pending")), "{v}");
    let body = json!({"community": "chengnan", "category": "独居老人", "reason": "民政办核对高龄津贴"});
    let (st, v) = app.post(&staff, "/api/v1/exports", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let export = v["id"].as_i64().unwrap();

    // the one who asked does not wait on his own request
    let (_, mine) = app.get(&staff, "/api/v1/me/approvals").await;
    assert_eq!(mine["waiting"], json!([]), "{mine}");
    let (_, hers) = app.get(&secretary, "/api/v1/me/approvals").await;
    let waits = |kind: &str| hers["waiting"].as_array().unwrap().iter().find(|a| a["kind"] == kind).cloned();
    assert_eq!(waits("points").map(|a| a["amount"].clone()), Some(json!(600)), "{hers}");
    assert_eq!(waits("points").map(|a| a["detail"].clone()), Some(json!("张阿姨 +600")), "to whom: {hers}");
    assert_eq!(waits("export").map(|a| a["title"].clone()), Some(json!("独居老人")), "{hers}");
    assert_eq!(waits("export").map(|a| a["title_en"].clone()), Some(json!("Elderly living alone")), "{hers}");

    let b = app.browser_as("secretary").await;
    // a refusal of points needs its reason, and says so; nothing is decided
    let (st, html) = send_form(&b, &app, "/approvals/points/flood", &[("decision", "reject"), ("note", "")]).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请写明驳回原因"), "{html}");
    let (st, _) =
        send_form(&b, &app, "/approvals/points/flood", &[("decision", "reject"), ("note", "请附值班表")]).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _) =
        send_form(&b, &app, &format!("/approvals/export/{export}"), &[("decision", "approve"), ("note", "限当日使用")])
            .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, list) = app.get(&staff, "/api/v1/exports").await;
    assert_eq!((list[0]["status"].as_str(), list[0]["decision_note"].as_str()), (Some("approved"), Some("限当日使用")));
    // decided twice: said plainly
    let (st, html) = send_form(&b, &app, "/approvals/points/flood", &[("decision", "approve")]).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("已审批"), "{html}");
    // an unknown kind is not found
    assert_eq!(send_form(&b, &app, "/approvals/lottery/1", &[("decision", "approve")]).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn points_waiting_whose_stored_transfers_cannot_be_read_are_an_error_never_zero() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let (pool, _) = crate::points::accounts(&app, &staff).await;
    let zhang = crate::points::resident(&app, &staff, "张阿姨").await;
    let (st, _) =
        app.post(&staff, "/api/v1/points/transfers", crate::points::one("flood", pool, zhang, 600, "award")).await;
    assert_eq!(st, StatusCode::ACCEPTED);
    let n = crate::tallies::exec(&app, "UPDATE point_approvals SET legs = '[{\"points\": 600}]'", &[]).await;
    assert_eq!(n, 1);
    let secretary = app.token("secretary").await;
    for path in ["/api/v1/me/approvals", "/api/v1/points/approvals"] {
        let (st, v) = app.get(&secretary, path).await;
        assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{path}: {v}");
    }
}

#[tokio::test]
async fn a_timeline_line_yijia_wrote_reads_in_english_and_a_typed_one_as_typed() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let (_, building, _) = crate::projects::neighbour(&app, &staff, "张大爷", "13812345678", "101").await;
    let case = crate::projects::hazard(&app, &staff, building, "吊顶脱落").await;
    let (st, v) =
        app.post(&staff, &format!("/api/v1/cases/{case}/notes"), json!({"note": "已联系物业,明天上门"})).await;
    assert!(st.is_success(), "{v}");
    let (_, k) = app.get(&staff, &format!("/api/v1/cases/{case}")).await;
    assert_eq!(k["timeline"][0]["note_en"].as_str().map(|s| s.starts_with("Assigned to ")), Some(true), "{k}");

    let b = app.browser_as("staff").await;
    b.get(format!("{}/lang/en?next=/", app.url)).send().await.unwrap();
    let (_, html) = page(&b, &app, &format!("/cases/{case}")).await;
    let timeline = html.split("class=\"ev-created\"").nth(1).unwrap();
    assert!(timeline.contains("Assigned to ") && !timeline.contains("分派至"), "the line yijia wrote, in English");
    assert!(html.contains("已联系物业,明天上门"), "what a person typed stays as typed");
}

#[tokio::test]
async fn a_promise_s_steps_fit_its_kind() {
    let app = TestApp::spawn().await;
    app.seed_demo_all().await;
    let (st, v) = app.get(&app.token("secretary").await, "/api/v1/pledges?community=chengnan").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let steps_of = |id: &serde_json::Value| -> Vec<String> {
        let all = v["milestones"].as_array().unwrap();
        all.iter().filter(|m| &m["pledge_id"] == id).map(|m| m["title"].as_str().unwrap().to_owned()).collect()
    };
    let (mut services, mut works) = (0, 0);
    for p in v["pledges"].as_array().unwrap().iter().filter(|p| p["status"] == "committed") {
        let (title, steps) = (p["title"].as_str().unwrap(), steps_of(&p["id"]));
        if ["讲座", "食堂", "开放"].iter().any(|w| title.contains(w)) {
            services += 1;
            assert!(
                steps.iter().all(|m| !m.contains("招标") && !m.contains("施工")),
                "{title} is not built: {steps:?}"
            );
        }
        if title.contains("屋面") || title.contains("充电棚") {
            works += 1;
            assert!(steps.iter().any(|m| m.contains("招标")), "{title} is tendered: {steps:?}");
        }
    }
    assert!(services > 0 && works > 0, "the demo commits both kinds: {v}");
}

#[tokio::test]
async fn the_street_office_sees_a_subdistrict_of_several_communities() {
    let app = TestApp::spawn().await;
    app.seed_demo_months(100, 40).await;
    assert!(app.svc.fixtures().seed_demo_street().await.unwrap() > 300, "people in the other communities");
    assert_eq!(app.svc.fixtures().seed_demo_street().await.unwrap(), 0, "once");
    let officer = app.token("officer").await;
    let (_, d) = app.get(&officer, "/api/v1/dashboard").await;
    let month = &d["today"].as_str().unwrap()[..7];
    let (st, r) = app.get(&officer, &format!("/api/v1/reports/monthly?month={month}")).await;
    assert_eq!(st, StatusCode::OK, "{r}");
    let units = r["unit_months"].as_array().unwrap();
    assert_eq!(units.len(), 5, "城南 and four more: {r}");
    for u in units {
        assert!(u["this_month"]["filed"].as_i64().unwrap() > 0, "each files cases: {u}");
    }
    // every grid is drawn, every community has people under plans and visits
    let (_, tree) = app.get(&officer, "/api/v1/org").await;
    let grids: Vec<&serde_json::Value> = tree.as_array().unwrap().iter().filter(|n| n["kind"] == "grid").collect();
    assert!(grids.len() >= 6 + 4 * 3 && grids.iter().all(|g| g["boundary"].is_object()), "{tree}");
    let (st, cov) = app.get(&officer, "/api/v1/coverage").await;
    assert_eq!(st, StatusCode::OK, "{cov}");
    let rows = cov["rows"].as_array().unwrap();
    for code in ["dongsheng", "xinhua", "xiguan", "beiyuan"] {
        let grid = format!("{code}-g01");
        assert!(rows.iter().any(|r| r["grid"] == grid.as_str() && r["planned"].as_i64() > Some(0)), "{code} visited");
    }
    // 第1网格 is in every community: the officer's rows say which
    let names: std::collections::BTreeSet<&str> = rows.iter().map(|r| r["grid_name"].as_str().unwrap()).collect();
    assert!(names.contains("东盛社区 第1网格") && names.contains("城南社区 第1网格"), "{names:?}");
    assert!(
        cov["overdue"].as_array().unwrap().iter().all(|r| r["grid"].as_str().unwrap().contains("社区 第")),
        "{cov}"
    );
    let b = app.browser_as("officer").await;
    b.get(format!("{}/lang/en?next=/", app.url)).send().await.unwrap();
    let (_, html) = page(&b, &app, "/coverage").await;
    assert!(html.contains("Elderly living alone") && !html.contains("独居老人"), "categories in English");
    // a secretary's own community needs no prefix
    let (_, cov) = app.get(&app.token("secretary").await, "/api/v1/coverage").await;
    assert!(
        cov["rows"].as_array().unwrap().iter().all(|r| r["grid_name"].as_str().unwrap().starts_with('第')),
        "{cov}"
    );
}

#[tokio::test]
async fn the_subdistrict_map_draws_each_community_by_its_grids() {
    let app = TestApp::spawn().await;
    app.seed_demo_months(60, 10).await;
    app.svc.fixtures().seed_demo_street().await.unwrap();
    let (_, d) = app.get(&app.token("officer").await, "/api/v1/dashboard").await;
    let units = d["units"].as_array().unwrap();
    assert_eq!(units.len(), 5);
    for u in units {
        assert_eq!(u["boundary"]["type"], "MultiPolygon", "{} is drawn", u["name"]);
    }
    let (_, html) = page(&app.browser_as("officer").await, &app, "/dashboard").await;
    assert!(html.contains("<svg") && !html.contains("还没有画出"), "the officer's map is drawn");
    assert!(html.contains("东盛社区"), "named on the map");
    // a snapshot's share is not called the month's on-time rate, which coverage gives
    assert!(html.contains("未超期") && !html.contains("按时率") && html.contains("id=\"glance-note\""), "{html}");
}

#[tokio::test]
async fn a_case_sent_up_has_a_time_for_the_street_office_and_is_flagged_when_it_passes() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let (_, building, _) = crate::projects::neighbour(&app, &staff, "张大爷", "13812345678", "101").await;
    let id = crate::projects::hazard(&app, &staff, building, "外墙空鼓").await;
    let (_, v) = app.get(&staff, &format!("/api/v1/cases/{id}")).await;
    let window =
        chrono::DateTime::parse_from_rfc3339(v["due_at"].as_str().unwrap()).unwrap().timestamp_millis() - app.svc.now();
    let body = json!({"action": "escalate", "version": v["version"], "note": "需街道协调资金"});
    let (st, v) = app.post(&staff, &format!("/api/v1/cases/{id}/actions"), body).await;
    assert_eq!((st, v["state"].as_str()), (StatusCode::OK, Some("escalated")), "{v}");
    assert!(v["due_at"].is_string() && v["timeliness"] == "on_time", "{v}");

    app.clock.advance(window + 60_000);
    app.svc.sweep_case_deadlines().await.unwrap();
    let officer = app.token("officer").await;
    let (_, v) = app.get(&officer, &format!("/api/v1/cases/{id}")).await;
    assert_eq!(v["timeliness"], "overdue", "{v}");
    let last = v["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "overdue");
    assert!(last["note"].as_str().unwrap().starts_with("已超过街道受理时限"), "{last}");
    assert!(last["note_en"].as_str().unwrap().contains("street office's time"), "{last}");
    let (_, late) = app.get(&officer, "/api/v1/cases?box=overdue").await;
    assert!(late["items"].as_array().unwrap().iter().any(|k| k["id"] == id), "in the officer's late box");
}

#[tokio::test]
async fn approving_money_that_does_not_wait_for_you_is_refused_and_audited() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let secretary = app.token("secretary").await;
    let (_, building, _) = crate::projects::neighbour(&app, &staff, "张大爷", "13812345678", "101").await;
    let (_, p) = app.post(&secretary, "/api/v1/projects", json!({"title": "院墙重建", "buildings": [building]})).await;
    let (_, v) = app
        .post(&secretary, &format!("/api/v1/projects/{}/fundings", p["id"]), json!({"source": "city", "asked": 100}))
        .await;
    let funding = v["fundings"][0]["id"].as_i64().unwrap().to_string();
    // the secretary asks; only the street office decides money
    let b = app.browser_as("secretary").await;
    let (st, html) = send_form(&b, &app, &format!("/approvals/funding/{funding}"), &[("decision", "approve")]).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("这一项已不在待审批中"), "said plainly");
    assert!(!html.contains("壹元整"), "no confirmation of money she may not approve");
    let denied = app.audit().await;
    let object = format!("funding:{funding}");
    assert!(
        denied
            .iter()
            .any(|(action, outcome, obj)| action == "approval_decide" && *obj == object && outcome == "denied"),
        "{denied:?}"
    );
}
