//! A resident's life in the registry over HTTP: a 独居老人 who died is gone
//! from the walk list, the dashboard and the coverage in the same request,
//! his account is refused, his points go back to the pool and his open
//! request is closed; the tallies equal a recount; a wrong entry undone
//! brings him back with his history.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;
use crate::visits::{add, people, person};

/// The dashboard's people in grid 1, and its 独居老人.
async fn grid_one(app: &TestApp, token: &str) -> (i64, i64) {
    let (_, d) = app.get(token, "/api/v1/dashboard").await;
    let u = d["units"].as_array().unwrap().iter().find(|u| u["code"] == "chengnan-g01").unwrap().clone();
    (u["people"].as_i64().unwrap(), u["categories"]["elderly_alone"].as_i64().unwrap_or(0))
}

/// Who the coverage of grid 1 lists as overdue.
async fn overdue(app: &TestApp, token: &str) -> Vec<String> {
    let (_, cov) = app.get(token, "/api/v1/coverage?org=chengnan-g01&months=1").await;
    let rows = cov["overdue"].as_array().unwrap_or_else(|| panic!("{cov}"));
    rows.iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_deceased_elder_leaves_every_count_at_once_and_a_wrong_entry_undone_brings_him_back() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let (sun, _) = add(&app, &secretary, person("孙大爷", "chengnan-g01", "502", &["elderly_alone"])).await;
    crate::me::link(&app, sun, "13912340000").await;
    // a week and a day without a visit: overdue
    app.clock.advance(8 * yijia_domain::time::DAY_MS);
    let (secretary, staff) = (app.token("secretary").await, app.token("staff").await);
    let worker = app.token("worker1").await;
    let token = crate::me::resident_token(&app, "13912340000").await;
    // ten points earned, and a request of his still open
    let (pool, _) = crate::points::accounts(&app, &staff).await;
    let (_, account) = app.get(&staff, &format!("/api/v1/residents/{sun}/points")).await;
    let account = account["id"].as_i64().unwrap();
    let (st, v) =
        app.post(&staff, "/api/v1/points/transfers", crate::points::one("sun-1", pool, account, 10, "award")).await;
    assert!(st.is_success(), "{v}");
    let (st, k) = app.post(&token, "/api/v1/cases", json!({"category": "repair", "description": "厨房水管滴水"})).await;
    assert_eq!(st, StatusCode::CREATED, "{k}");
    let before = grid_one(&app, &secretary).await;
    assert!(overdue(&app, &secretary).await.contains(&"孙大爷".to_owned()));
    assert!(people(&app.get(&worker, "/api/v1/walk-list").await.1).contains(&"孙大爷".to_owned()));
    let (_, r) = app.get(&worker, &format!("/api/v1/residents/{sun}")).await;
    let version = r["version"].as_i64().unwrap();

    // what the change must carry, each refused by name, nothing changed
    let life = |change: &str, on: &str, reason: &str, version: i64| json!({"change": change, "on": on, "reason": reason, "source": "family", "version": version});
    let today = yijia_domain::time::to_local(app.svc.now()).date_naive();
    let tomorrow = (today + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    let today = today.format("%Y-%m-%d").to_string();
    let url = format!("/api/v1/residents/{sun}/life");
    for (body, field) in [
        (life("deceased", &tomorrow, "家属告知病故", version), "on"),
        (life("deceased", &today, "", version), "reason"),
        (life("returned", &today, "搬回来了", version), "change"),
    ] {
        let (st, v) = app.post(&worker, &url, body).await;
        assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{v}");
    }
    let (st, _) = app.post(&worker, &url, life("deceased", &today, "家属告知病故", version - 1)).await;
    assert_eq!(st, StatusCode::CONFLICT, "a stale record");
    let (st, _) = app.post(&app.token("worker2").await, &url, life("deceased", &today, "家属告知病故", version)).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "another grid's worker");
    assert!(app.audit().await.iter().any(|(a, o, _)| a == "resident_life" && o == "denied"));
    assert_eq!(grid_one(&app, &secretary).await, before, "nothing changed");

    // the family says he died today
    let (st, out) = app.post(&worker, &url, life("deceased", &today, "家属告知病故", version)).await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert_eq!((out["status"].as_str(), out["status_on"].as_str()), (Some("deceased"), Some(today.as_str())));
    assert_eq!(out["effects"]["points_settled"], 10, "{out}");
    assert_eq!(out["effects"]["cases_closed"], json!([k["id"]]), "{out}");
    assert!(out["effects"]["account"].is_i64(), "{out}");
    // gone from the walk list, the dashboard and the coverage at once
    assert!(!people(&app.get(&worker, "/api/v1/walk-list").await.1).contains(&"孙大爷".to_owned()));
    let (people_before, alone_before) = before;
    assert_eq!(grid_one(&app, &secretary).await, (people_before - 1, alone_before - 1));
    assert!(!overdue(&app, &secretary).await.contains(&"孙大爷".to_owned()));
    // his record still opens, saying so, with no plan and his visits kept
    let (st, plan) = app.get(&worker, &format!("/api/v1/residents/{sun}/plan")).await;
    assert_eq!((st, plan["due_on"].clone()), (StatusCode::OK, json!(null)), "{plan}");
    let page = app.browser_as("worker1").await.get(format!("{}/residents/{sun}", app.url)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"status\"") && html.contains("已故") && html.contains("家属告知病故"), "{html}");
    // no account or family link is given to someone off the register
    let (st, v) = app.post(&worker, &format!("/api/v1/residents/{sun}/invitation"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("不在册"), "{v}");
    let (_, list) = app.get(&worker, "/api/v1/residents?name=孙大爷").await;
    assert_eq!(list["total"], 0, "not on the register: {list}");
    let (_, list) = app.get(&worker, "/api/v1/residents?name=孙大爷&status=deceased").await;
    assert_eq!(list["items"][0]["status"], "deceased", "{list}");
    // his account is refused, his points went to the pool, his request is closed with a note
    let (st, _) = app.get(&token, "/api/v1/me/points").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let r = app.login_raw("13912340000", crate::me::PASSWORD).await;
    assert!(r.status().is_client_error(), "{}", r.status());
    let (_, a) = app.get(&staff, &format!("/api/v1/residents/{sun}/points")).await;
    assert_eq!(a["balance"], 0, "{a}");
    let (_, case) = app.get(&staff, &format!("/api/v1/cases/{}", k["id"])).await;
    assert_eq!(case["state"], "closed", "{case}");
    assert!(case.to_string().contains(yijia_domain::life::DECEASED_NOTE), "{case}");
    assert_eq!(app.svc.tallies_check().await.unwrap().1, Vec::<String>::new(), "the tallies equal a recount");
    // the worker is offered a last visit to his home, until someone calls
    let (_, walk) = app.get(&worker, "/api/v1/walk-list").await;
    let last = walk["last_visits"].as_array().unwrap_or_else(|| panic!("{walk}"));
    assert_eq!((last.len(), last[0]["name"].as_str()), (1, Some("孙大爷")), "{walk}");
    let html = app.browser_as("worker1").await.get(format!("{}/walk", app.url)).send().await.unwrap();
    assert!(html.text().await.unwrap().contains("id=\"last-visits\""), "on the walk page");
    let body = json!({"client_id": "sun-last-visit-1", "household_id": last[0]["household_id"], "notes": "慰问家属"});
    let (st, v) = app.post(&worker, "/api/v1/visits", body).await;
    assert!(st.is_success(), "{v}");
    let (_, walk) = app.get(&worker, "/api/v1/walk-list").await;
    assert_eq!(walk["last_visits"], json!([]), "visited: off the list");

    // a wrong entry: he is back, planned, counted and able to log in; the history keeps both
    let (_, r) = app.get(&worker, &format!("/api/v1/residents/{sun}")).await;
    let v2 = r["version"].as_i64().unwrap();
    let (st, out) = app.post(&worker, &url, life("returned", &today, "登记有误,系同名邻居", v2)).await;
    assert_eq!((st, out["status"].as_str()), (StatusCode::OK, Some("present")), "{out}");
    assert_eq!(grid_one(&app, &secretary).await, (people_before, alone_before));
    // planned again (the visit to his home just now counts as contact)
    let (_, plan) = app.get(&worker, &format!("/api/v1/residents/{sun}/plan")).await;
    assert!(plan["due_on"].is_string(), "{plan}");
    assert!(out["effects"]["account"].is_i64(), "his account comes back: {out}");
    let r = app.login_raw("13912340000", crate::me::PASSWORD).await;
    assert!(r.status().is_success(), "{} {}", r.status(), r.text().await.unwrap());
    let (_, h) = app.get(&worker, &url).await;
    let kinds: Vec<_> = h.as_array().unwrap().iter().map(|e| e["change"].clone()).collect();
    assert_eq!(kinds, [json!("deceased"), json!("returned")], "{h}");
    assert_eq!(h[0]["source"], "family");
    assert_eq!(app.svc.tallies_check().await.unwrap().1, Vec::<String>::new());
    let log = app.audit().await;
    assert_eq!(log.iter().filter(|(a, o, _)| a == "resident_life" && o == "ok").count(), 2);
}

#[tokio::test]
async fn a_resident_sees_on_his_phone_who_read_and_unmasked_his_record_and_why() {
    let app = TestApp::spawn().await;
    let secretary = app.token("secretary").await;
    let (zhang, token) = crate::me::linked_resident(&app, "张大爷", "13912345678").await;
    let (other, _) = crate::me::linked_resident(&app, "李奶奶", "13912345679").await;
    let (st, none) = app.get(&token, "/api/v1/me/record-views").await;
    assert_eq!(st, StatusCode::OK, "{none}");
    let before = none.as_array().unwrap().len();

    // the secretary reads his record and shows his phone, with a reason; and reads a neighbour's
    app.get(&secretary, &format!("/api/v1/residents/{zhang}")).await;
    let body = json!({"field": "phone", "reason": "核实高龄津贴联系方式"});
    let (st, _) = app.post(&secretary, &format!("/api/v1/residents/{zhang}/unmask"), body).await;
    assert_eq!(st, StatusCode::OK);
    app.get(&secretary, &format!("/api/v1/residents/{other}")).await;
    // another grid's worker tries and is refused: she read nothing of his
    let (st, _) = app.get(&app.token("worker2").await, &format!("/api/v1/residents/{zhang}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let (_, seen) = app.get(&token, "/api/v1/me/record-views").await;
    let seen = seen.as_array().unwrap();
    assert_eq!(seen.len(), before + 2, "his two, not his neighbour's: {seen:?}");
    let unmask = &seen[0];
    assert_eq!(
        (unmask["action"].as_str(), unmask["field"].as_str(), unmask["reason"].as_str()),
        (Some("resident_unmask"), Some("phone"), Some("核实高龄津贴联系方式"))
    );
    assert_eq!((unmask["who_name"].as_str(), unmask["who_role"].as_str()), (Some("王小红"), Some("secretary")));
    assert!(unmask.get("who").is_none() && unmask.get("detail").is_none(), "no logins, no raw detail: {unmask}");
    assert_eq!(seen[1]["action"], "resident_view");
    // the same on his page, in words
    let b = app.browser();
    let r = b
        .post(format!("{}/login", app.url))
        .form(&[("username", "13912345678"), ("password", crate::me::PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = b.get(format!("{}/me/record", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains("查看了完整信息") && html.contains("核实高龄津贴联系方式") && html.contains("王小红"),
        "{html}"
    );
    // staff have no such page of their own
    assert_eq!(app.get(&secretary, "/api/v1/me/record-views").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn leaving_the_register_cancels_what_waits_and_nothing_new_is_given_until_she_returns() {
    use chrono::Days;
    use yijia_domain::time::{HOUR_MS, rfc3339, start_of_day, to_local};
    let app = TestApp::spawn().await;
    let (staff, clerk, worker) = (app.token("staff").await, app.token("clerk").await, app.token("worker1").await);
    let (zhou, token) = crate::me::linked_resident(&app, "周奶奶", "13912340001").await;
    let account = crate::shop::award(&app, &staff, zhou, 50).await;
    // rice waiting at the counter, a check booked for tomorrow, a hazard and a request she reported
    let rice = crate::shop::item(&app, &clerk, "大米 5kg", 20, 3, None).await;
    let body = json!({"client_id": "zhou-1", "resident_id": zhou, "item_id": rice, "quantity": 1});
    let (st, v) = app.post(&clerk, "/api/v1/shop/redemptions", body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let body = json!({"name": "春城驿家党群服务站", "address": "丁香花园三期南门", "hours": "1-7 08:00-11:00"});
    let sid = app.post(&clerk, "/api/v1/stations", body).await.1["id"].as_i64().unwrap();
    let bp = json!({"name": "量血压", "by_appointment": true, "slot_minutes": 20, "capacity": 2});
    let bp = app.post(&clerk, &format!("/api/v1/stations/{sid}/services"), bp).await.1["id"].as_i64().unwrap();
    let tomorrow = to_local(app.svc.now()).date_naive().checked_add_days(Days::new(1)).unwrap();
    let nine = rfc3339(start_of_day(tomorrow) + 9 * HOUR_MS);
    let book = format!("/api/v1/station-services/{bp}/appointments");
    let (st, appt) = app.post(&token, &book, json!({"starts_at": nine})).await;
    assert_eq!(st, StatusCode::CREATED, "{appt}");
    let mut kinds = vec![];
    for category in ["fire", "repair"] {
        let body = json!({"category": category, "description": "楼道里堆满了纸箱"});
        let (st, k) = app.post(&token, "/api/v1/cases", body).await;
        assert_eq!(st, StatusCode::CREATED, "{k}");
        kinds.push(k["id"].as_i64().unwrap());
    }
    let [hazard, request] = kinds[..] else { unreachable!() };

    // she moved away last week: the rice is cancelled and its points go to the pool with the rest
    let url = format!("/api/v1/residents/{zhou}/life");
    let day = |n: u64| to_local(app.svc.now()).date_naive().checked_sub_days(Days::new(n)).unwrap().to_string();
    let life = |change: &str, on: String, v: i64| json!({"change": change, "on": on, "reason": "女儿接去外地同住", "source": "family", "version": v});
    let (st, out) = app.post(&worker, &url, life("moved_away", day(7), version(&app, &worker, zhou).await)).await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert_eq!(
        (&out["effects"]["redemptions_cancelled"], &out["effects"]["appointments_cancelled"]),
        (&json!(1), &json!(1)),
        "{out}"
    );
    assert_eq!(out["effects"]["points_settled"], 50, "the refund is settled too: {out}");
    assert!(out["effects"]["cases_closed"].as_array().unwrap().is_empty(), "moving away closes nothing");
    let (_, a) = app.get(&staff, &format!("/api/v1/points/accounts/{account}/statement")).await;
    assert_eq!(a["closing"], 0, "{a}");
    let (_, d) = app.get(&clerk, &format!("/api/v1/stations/{sid}/day?date={tomorrow}")).await;
    let a = d["appointments"].as_array().unwrap().iter().find(|a| a["id"] == appt["id"]).cloned();
    assert_eq!(a.map(|a| a["status"].clone()), Some(json!("cancelled")), "{d}");

    // nothing new is given to her: a booking, a sign-up, her account by hand
    let body = json!({"starts_at": nine, "resident_id": zhou});
    let (st, v) = app.post(&clerk, &book, body).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("不在册"), "{v}");
    let now = app.svc.now();
    let act = json!({"title": "清理楼道杂物", "place": "8号楼", "capacity": 5,
        "starts_at": rfc3339(now + HOUR_MS), "ends_at": rfc3339(now + 3 * HOUR_MS), "points_rule": "fixed", "points": 5});
    let act = app.post(&clerk, "/api/v1/activities", act).await.1["id"].as_i64().unwrap();
    let (st, v) = app.post(&clerk, &format!("/api/v1/activities/{act}/signups"), json!({"resident_id": zhou})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let admin = app.token("admin").await;
    let (st, v) = app.post(&admin, "/api/v1/users/13912340001/enable", json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "her account comes back with her, not by hand: {v}");

    // then recorded dead: not before the move; her request closes, the hazard stays for the others
    let (st, v) = app.post(&worker, &url, life("deceased", day(8), version(&app, &worker, zhou).await)).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("on")), "{v}");
    let (st, out) = app.post(&worker, &url, life("deceased", day(2), version(&app, &worker, zhou).await)).await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert_eq!(out["effects"]["cases_closed"], json!([request]), "{out}");
    assert_eq!(app.get(&staff, &format!("/api/v1/cases/{hazard}")).await.1["state"], "submitted");

    // why she left is read by her worker and the office, audited, and not by the station's clerk
    assert_eq!(app.get(&clerk, &url).await.0, StatusCode::NOT_FOUND);
    let page = app.browser_as("clerk").await.get(format!("{}/residents/{zhou}", app.url)).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("已故") && !html.contains("女儿接去外地同住"), "the clerk sees the status, not why: {html}");
    let (st, h) = app.get(&staff, &url).await;
    assert_eq!((st, h.as_array().map(Vec::len)), (StatusCode::OK, Some(2)), "{h}");
    assert!(
        app.audit()
            .await
            .iter()
            .any(|(a, o, obj)| a == "resident_life_read" && o == "ok" && *obj == format!("resident:{zhou}"))
    );

    // it was a wrong entry after all: back on the register, the account the move disabled comes back
    let (st, out) = app.post(&worker, &url, life("returned", day(0), version(&app, &worker, zhou).await)).await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert!(out["effects"]["account"].is_i64(), "{out}");
    let r = app.login_raw("13912340001", crate::me::PASSWORD).await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(app.svc.tallies_check().await.unwrap().1, Vec::<String>::new());
}

async fn version(app: &TestApp, token: &str, id: i64) -> i64 {
    app.get(token, &format!("/api/v1/residents/{id}")).await.1["version"].as_i64().unwrap()
}
