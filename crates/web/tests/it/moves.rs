//! A resident who moves over HTTP: within the community his plan, his open
//! request and the walk list follow him to the new grid; to another
//! community the record goes over once that community accepts it, with its
//! categories and history but not the last community's visit notes, and the
//! first community no longer sees him; moving back brings him back.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::role::Role;

use crate::helpers::TestApp;
use crate::visits::{add, person};

fn today(app: &TestApp) -> String {
    yijia_domain::time::to_local(app.svc.now()).date_naive().format("%Y-%m-%d").to_string()
}

async fn version(app: &TestApp, token: &str, id: i64) -> i64 {
    app.get(token, &format!("/api/v1/residents/{id}")).await.1["version"].as_i64().unwrap()
}

fn home(estate: &str, building: &str, door: &str) -> Value {
    json!({"estate": estate, "building": building, "entrance": "", "door": door})
}

/// A second community, 北苑社区, with one grid, one estate and its staff.
async fn beiyuan(app: &TestApp) -> String {
    let op = yijia_service::Caller::operator();
    for (code, kind, name, parent) in
        [("beiyuan", "community", "北苑社区", "zhengyang"), ("beiyuan-g01", "grid", "北苑第1网格", "beiyuan")]
    {
        let node = yijia_service::org::NewNode {
            code: code.into(),
            kind: kind.into(),
            name: name.into(),
            parent: parent.into(),
            boundary: None,
        };
        app.svc.org_create(&op, node).await.unwrap();
    }
    let mut tx = app.db.db.write().await.unwrap();
    let community = yijia_store::org::by_code(&mut tx, "beiyuan").await.unwrap().unwrap().id;
    let estate = yijia_store::places::NewEstate {
        community_id: community,
        grid_id: None,
        name: "北苑小区",
        point: None,
        now: app.svc.now(),
    };
    yijia_store::places::insert_estate(&mut tx, &estate).await.unwrap();
    tx.commit().await.unwrap();
    app.add_user("beiyuan-staff", Role::CommunityStaff, "beiyuan").await
}

#[tokio::test]
async fn a_resident_moves_within_the_community_and_to_another_and_back() {
    let app = TestApp::spawn().await;
    let (staff, worker1) = (app.token("staff").await, app.token("worker1").await);
    let (zhou, _) = add(&app, &staff, person("周大爷", "chengnan-g01", "502", &["elderly_alone"])).await;
    let (_, token) = crate::me::link(&app, zhou, "13912340002").await;
    let (st, k) = app.post(&token, "/api/v1/cases", json!({"category": "repair", "description": "厨房水管滴水"})).await;
    assert_eq!(st, StatusCode::CREATED, "{k}");
    let body = json!({"client_id": "move-visit-0001", "resident_id": zhou, "notes": "老人说起女儿想接他去北苑"});
    assert!(app.post(&worker1, "/api/v1/visits", body).await.0.is_success());
    crate::shop::award(&app, &staff, zhou, 20).await;

    // within the community: only into a grid of one's own; with staff, the plan and his request follow
    let url = format!("/api/v1/residents/{zhou}/move");
    let mv = |grid: &str, v: i64| json!({"grid": grid, "household": home("丁香花园三期", "9号楼", "101"), "on": today(&app), "reason": "搬到儿子家楼下", "source": "resident", "version": v});
    let v = version(&app, &staff, zhou).await;
    let (st, e) = app.post(&worker1, &url, mv("chengnan-g02", v)).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("grid")), "{e}");
    let (st, e) = app.post(&staff, &url, mv("beiyuan-g01", v)).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("grid")), "{e}");
    let (st, out) = app.post(&staff, &url, mv("chengnan-g02", v)).await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert_eq!((out["grid"].as_str(), out["cases_moved"].clone()), (Some("chengnan-g02"), json!([k["id"]])));
    // his plan is the new grid's now: its worker reads it, the old one does not
    let worker2 = app.token("worker2").await;
    assert_eq!(app.get(&worker2, &format!("/api/v1/residents/{zhou}/plan")).await.0, StatusCode::OK);
    assert_eq!(app.get(&worker1, &format!("/api/v1/residents/{zhou}/plan")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&worker2, &format!("/api/v1/cases/{}", k["id"])).await.0, StatusCode::OK, "his request follows");
    assert_eq!(app.get(&worker1, &format!("/api/v1/residents/{zhou}")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.svc.tallies_check().await.unwrap().1, Vec::<String>::new());
    assert!(app.login_raw("13912340002", crate::me::PASSWORD).await.status().is_success(), "his account follows");

    // to another community: asked here, waiting until it accepts
    let other = beiyuan(&app).await;
    let url = format!("/api/v1/residents/{zhou}/transfer");
    let ask = |community: &str| json!({"community": community, "on": today(&app), "reason": "女儿接去北苑同住", "source": "family", "address": "北苑小区 3号楼 201"});
    let (st, e) = app.post(&staff, &url, ask("chengnan")).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("community")), "{e}");
    let (st, t) = app.post(&staff, &url, ask("beiyuan")).await;
    assert_eq!((st, t["state"].as_str()), (StatusCode::CREATED, Some("pending")), "{t}");
    assert_eq!(app.post(&staff, &url, ask("beiyuan")).await.0, StatusCode::CONFLICT, "one waiting at a time");
    let tid = t["id"].as_i64().unwrap();
    let (_, theirs) = app.get(&other, "/api/v1/transfers").await;
    assert_eq!((theirs[0]["id"].as_i64(), theirs[0]["incoming"].as_bool()), (Some(tid), Some(true)), "{theirs}");
    assert_eq!(app.get(&staff, "/api/v1/transfers").await.1[0]["incoming"], false);
    assert_eq!(app.get(&other, &format!("/api/v1/residents/{zhou}")).await.0, StatusCode::NOT_FOUND, "not theirs yet");

    // only the receiving community decides, into a grid of its own
    let accept = |grid: &str| json!({"grid": grid, "household": home("北苑小区", "3号楼", "201")});
    let (st, _) = app.post(&staff, &format!("/api/v1/transfers/{tid}/accept"), accept("chengnan-g01")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "the sender does not accept its own");
    assert!(app.audit().await.iter().any(|(a, o, _)| a == "transfer_decide" && o == "denied"));
    let (st, e) = app.post(&other, &format!("/api/v1/transfers/{tid}/accept"), accept("chengnan-g01")).await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("grid")), "{e}");
    let (st, done) = app.post(&other, &format!("/api/v1/transfers/{tid}/accept"), accept("beiyuan-g01")).await;
    assert_eq!((st, done["state"].as_str()), (StatusCode::OK, Some("accepted")), "{done}");

    // the first community no longer sees him; the second has his record, categories and history
    assert_eq!(app.get(&staff, &format!("/api/v1/residents/{zhou}")).await.0, StatusCode::NOT_FOUND);
    let (st, r) = app.get(&other, &format!("/api/v1/residents/{zhou}")).await;
    assert_eq!(
        (st, r["grid"].as_str(), r["name"].as_str()),
        (StatusCode::OK, Some("beiyuan-g01"), Some("周大爷")),
        "{r}"
    );
    assert!(r["categories"].to_string().contains("elderly_alone"), "{r}");
    let (_, h) = app.get(&other, &format!("/api/v1/residents/{zhou}/life")).await;
    let kinds: Vec<_> = h.as_array().unwrap().iter().map(|e| e["change"].clone()).collect();
    assert_eq!(kinds, [json!("moved"), json!("transferred")], "{h}");
    // his visits came with him, the last community's notes did not; his points stayed with it
    let (_, plan) = app.get(&other, &format!("/api/v1/residents/{zhou}/plan")).await;
    assert_eq!(plan["visits"].as_array().map(Vec::len), Some(1), "{plan}");
    assert!(plan["visits"][0]["notes"].is_null() && !plan.to_string().contains("北苑"), "{plan}");
    let (_, a) = app.get(&other, &format!("/api/v1/residents/{zhou}/points")).await;
    assert_eq!(a["balance"], 0, "{a}");
    assert_eq!(app.svc.tallies_check().await.unwrap().1, Vec::<String>::new());

    // moving back: the same way round, and the first community sees him again
    let (st, back) = app
        .post(
            &other,
            &url,
            json!({"community": "chengnan", "on": today(&app), "reason": "女儿家住不惯,搬回来了", "source": "family"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{back}");
    let secretary = app.token("secretary").await;
    let body = json!({"grid": "chengnan-g01", "household": home("丁香花园三期", "8号楼", "502")});
    let (st, v) = app.post(&secretary, &format!("/api/v1/transfers/{}/accept", back["id"]), body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(app.get(&staff, &format!("/api/v1/residents/{zhou}")).await.0, StatusCode::OK);
    assert_eq!(app.get(&other, &format!("/api/v1/residents/{zhou}")).await.0, StatusCode::NOT_FOUND);
    let (_, plan) = app.get(&worker1, &format!("/api/v1/residents/{zhou}/plan")).await;
    assert_eq!(
        plan["visits"][0]["notes"], "老人说起女儿想接他去北苑",
        "back where it was written, the note opens again"
    );
    assert_eq!(app.svc.tallies_check().await.unwrap().1, Vec::<String>::new());
    let log = app.audit().await;
    for action in ["resident_move", "transfer_request", "transfer_accept"] {
        assert!(log.iter().any(|(a, o, _)| a == action && o == "ok"), "{action} audited");
    }
}

/// The same on the pages: the record's moving page, a refusal said on the
/// page, the transfer sent, and the other community taking him over from
/// its inbox.
#[tokio::test]
async fn moving_and_transfers_work_from_the_pages() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let (wu, _) = add(&app, &staff, person("吴大娘", "chengnan-g01", "603", &["elderly_alone"])).await;
    beiyuan(&app).await;
    let b = app.browser_as("staff").await;
    let page = b.get(format!("{}/residents/{wu}", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("/residents/{wu}/move")), "the record links to moving");
    let page = b.get(format!("{}/residents/{wu}/move", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("北苑社区") && page.contains("move-form") && page.contains("transfer-form"), "{page}");
    assert!(!page.contains("(chengnan-g0"), "grids by name, not code: {page}");
    let csrf = crate::helpers::csrf_of(&page);
    let version = version(&app, &staff, wu).await.to_string();
    let day = today(&app);
    let within = |reason: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("version", version.clone()),
            ("grid", "chengnan-g02".into()),
            ("estate", "丁香花园三期".into()),
            ("building", "9号楼".into()),
            ("entrance", String::new()),
            ("door", "202".into()),
            ("on", day.clone()),
            ("source", "resident".into()),
            ("reason", reason.into()),
        ]
    };
    let r = b.post(format!("{}/residents/{wu}/move", app.url)).form(&within("")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("id=\"error\""), "said on the page");
    let r = b.post(format!("{}/residents/{wu}/move", app.url)).form(&within("搬到女儿家")).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let (_, rec) = app.get(&staff, &format!("/api/v1/residents/{wu}")).await;
    assert_eq!(rec["grid"], "chengnan-g02");

    let transfer = [
        ("_csrf", csrf.as_str()),
        ("community", "beiyuan"),
        ("address", "北苑小区5号楼"),
        ("on", day.as_str()),
        ("source", "family"),
        ("reason", "随女儿迁往北苑"),
    ];
    let r = b.post(format!("{}/residents/{wu}/transfer", app.url)).form(&transfer).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let page = b.get(format!("{}/transfers", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("吴大娘") && !page.contains("accept-"), "sent, not ours to accept: {page}");

    let other = app.browser_as("beiyuan-staff").await;
    let page = other.get(format!("{}/transfers", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("吴大娘") && page.contains("accept-"), "{page}");
    let tid = page.split("id=\"accept-").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let csrf = crate::helpers::csrf_of(&page);
    let accept = [
        ("_csrf", csrf.as_str()),
        ("grid", "beiyuan-g01"),
        ("estate", "北苑小区"),
        ("building", "5号楼"),
        ("entrance", ""),
        ("door", "301"),
    ];
    let r = other.post(format!("{}/transfers/{tid}/accept", app.url)).form(&accept).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let (st, _) = app.get(&staff, &format!("/api/v1/residents/{wu}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "no longer ours");
    assert_eq!(app.svc.tallies_check().await.unwrap().1, Vec::<String>::new());
}
