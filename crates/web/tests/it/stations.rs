//! Service stations over HTTP: a clerk sets up a station and its services,
//! residents book and cancel on their own accounts, the clerk records what
//! was given, and the month's figures count it.

use chrono::Days;
use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::role::Role;
use yijia_domain::time::{HOUR_MS, MINUTE_MS, rfc3339, start_of_day, to_local};

use crate::helpers::TestApp;
use crate::me::{linked_resident, resident_token};

async fn slots(app: &TestApp, token: &str, service: i64, date: &str) -> Vec<Value> {
    let (st, v) = app.get(token, &format!("/api/v1/station-services/{service}/slots?date={date}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["slots"].as_array().unwrap().clone()
}

fn free_at(slots: &[Value], at: &str) -> i64 {
    slots.iter().find(|s| s["starts_at"] == at).map_or(-1, |s| s["free"].as_i64().unwrap())
}

#[tokio::test]
async fn a_resident_books_a_check_cancels_and_is_served_and_the_month_counts_it() {
    let app = TestApp::spawn().await;
    let clerk = app.token("clerk").await;
    let staff = app.token("staff").await;

    // hours that cannot be read are named, and no station is made
    let body = json!({"name": "春城驿家党群服务站", "address": "丁香花园三期南门", "hours": "周一到周五"});
    let (st, v) = app.post(&clerk, "/api/v1/stations", body).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("hours")), "{v}");
    assert_eq!(app.get(&clerk, "/api/v1/stations").await.1, json!([]));
    let body =
        json!({"name": "春城驿家党群服务站", "address": "丁香花园三期南门", "hours": "1-7 08:00-11:00,14:00-17:00"});
    let (st, station) = app.post(&clerk, "/api/v1/stations", body.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{station}");
    assert_eq!(station["hours_text"], "周一至周日 08:00-11:00、14:00-17:00");
    assert_eq!(app.post(&clerk, "/api/v1/stations", body).await.0, StatusCode::CONFLICT);
    let sid = station["id"].as_i64().unwrap();
    let services = format!("/api/v1/stations/{sid}/services");
    let bp = json!({"name": "量血压", "by_appointment": true, "slot_minutes": 20, "capacity": 1});
    let (st, v) = app.post(&clerk, &services, bp).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let bp = v["id"].as_i64().unwrap();
    let (st, v) = app.post(&clerk, &services, json!({"name": "老年人理发", "by_appointment": false})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let haircut = v["id"].as_i64().unwrap();
    let (st, v) =
        app.post(&clerk, &services, json!({"name": "法律咨询", "by_appointment": true, "slot_minutes": 0})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("slot_minutes")), "{v}");

    // residents see their community's station
    let (zhang, me) = linked_resident(&app, "张大爷", "13812345678").await;
    let (li, li_token) = linked_resident(&app, "李奶奶", "13912345678").await;
    let (st, mine) = app.get(&me, "/api/v1/me/stations").await;
    assert_eq!((st, mine[0]["services"].as_array().map(Vec::len)), (StatusCode::OK, Some(2)), "{mine}");

    // tomorrow at nine: one place, taken by the first
    let tomorrow = to_local(app.svc.now()).date_naive().checked_add_days(Days::new(1)).unwrap();
    let date = tomorrow.format("%Y-%m-%d").to_string();
    let nine = start_of_day(tomorrow) + 9 * HOUR_MS;
    let (at9, at920) = (rfc3339(nine), rfc3339(nine + 20 * MINUTE_MS));
    let list = slots(&app, &me, bp, &date).await;
    assert_eq!(list.len(), 18, "3 hours twice, in 20 minutes");
    assert_eq!(free_at(&list, &at9), 1);
    let book = format!("/api/v1/station-services/{bp}/appointments");
    let (st, first) = app.post(&me, &book, json!({"starts_at": at9})).await;
    assert_eq!((st, first["status"].as_str()), (StatusCode::CREATED, Some("booked")), "{first}");
    assert_eq!(free_at(&slots(&app, &me, bp, &date).await, &at9), 0);
    let (st, v) = app.post(&me, &book, json!({"starts_at": at920})).await;
    assert_eq!(st, StatusCode::CONFLICT, "one a day: {v}");
    let (st, v) = app.post(&li_token, &book, json!({"starts_at": at9})).await;
    assert_eq!(st, StatusCode::CONFLICT, "full: {v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("约满"), "{v}");
    let (st, v) = app.post(&li_token, &book, json!({"starts_at": rfc3339(nine + 5 * MINUTE_MS)})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("starts_at")), "{v}");
    let (st, v) = app.post(&li_token, &book, json!({"starts_at": rfc3339(app.svc.now() - HOUR_MS)})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("starts_at")), "{v}");
    let (st, v) = app
        .post(&li_token, &format!("/api/v1/station-services/{haircut}/appointments"), json!({"starts_at": at9}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "walk-in: {v}");
    // staff book for a resident who phoned; a resident cannot book for another
    let (st, v) = app.post(&me, &book, json!({"starts_at": at920, "resident_id": li})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let (st, li_appt) = app.post(&staff, &book, json!({"starts_at": at920, "resident_id": li})).await;
    assert_eq!(st, StatusCode::CREATED, "{li_appt}");
    assert_eq!(li_appt["name"], "李奶奶");

    // cancelling frees the place; nobody cancels another's
    let li_id = li_appt["id"].as_i64().unwrap();
    let (st, _) = app.post(&me, &format!("/api/v1/appointments/{li_id}/cancel"), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(app.audit().await.iter().any(|(a, o, _)| a == "appointment" && o == "denied"), "denial audited");
    let id = first["id"].as_i64().unwrap();
    let (st, v) = app.post(&me, &format!("/api/v1/appointments/{id}/cancel"), json!({})).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("cancelled")), "{v}");
    assert_eq!(free_at(&slots(&app, &me, bp, &date).await, &at9), 1);
    assert_eq!(app.post(&me, &format!("/api/v1/appointments/{id}/cancel"), json!({})).await.0, StatusCode::CONFLICT);
    let (st, again) = app.post(&me, &book, json!({"starts_at": at9})).await;
    assert_eq!(st, StatusCode::CREATED, "{again}");
    let again = again["id"].as_i64().unwrap();

    // another community's staff see nothing of it
    app.svc
        .org_create(
            &yijia_service::Caller::operator(),
            yijia_service::org::NewNode {
                code: "beiyuan".into(),
                kind: "community".into(),
                name: "北苑社区".into(),
                parent: "zhengyang".into(),
                boundary: None,
            },
        )
        .await
        .unwrap();
    let other = app.add_user("beiyuan-clerk", Role::StationClerk, "beiyuan").await;
    assert_eq!(app.get(&other, &format!("/api/v1/stations/{sid}")).await.0, StatusCode::NOT_FOUND);
    let rec = json!({"service_id": haircut, "person_name": "王大妈", "minutes": 15});
    assert_eq!(app.post(&other, &format!("/api/v1/stations/{sid}/records"), rec).await.0, StatusCode::NOT_FOUND);

    // tomorrow at 9:10 the clerk records the check; at 9:45 李奶奶 has not come
    app.clock.advance(nine + 10 * MINUTE_MS - app.svc.now());
    let clerk = app.token("clerk").await;
    let records = format!("/api/v1/stations/{sid}/records");
    let rec = json!({"service_id": bp, "appointment_id": again, "minutes": 10, "note": "130/85"});
    let (st, v) = app.post(&clerk, &records, rec.clone()).await;
    assert_eq!(
        (st, v["name"].as_str(), v["resident_id"].as_i64()),
        (StatusCode::CREATED, Some("张大爷"), Some(zhang)),
        "{v}"
    );
    assert_eq!(app.post(&clerk, &records, rec).await.0, StatusCode::CONFLICT, "served once");
    let (st, v) = app.post(&clerk, &records, json!({"service_id": haircut, "minutes": 15})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("person_name")), "{v}");
    let (st, v) =
        app.post(&clerk, &records, json!({"service_id": haircut, "person_name": "王大妈", "minutes": 0})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("minutes")), "{v}");
    let (st, v) =
        app.post(&clerk, &records, json!({"service_id": haircut, "person_name": "王大妈", "minutes": 15})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let miss = format!("/api/v1/appointments/{li_id}/missed");
    assert_eq!(app.post(&clerk, &miss, json!({})).await.0, StatusCode::CONFLICT, "not yet");
    app.clock.advance(35 * MINUTE_MS);
    let (clerk, me) = (app.token("clerk").await, resident_token(&app, "13812345678").await);
    let (st, v) = app.post(&clerk, &miss, json!({})).await;
    assert_eq!((st, v["status"].as_str()), (StatusCode::OK, Some("missed")), "{v}");

    let (_, mine) = app.get(&me, "/api/v1/me/appointments").await;
    let statuses: Vec<&str> = mine.as_array().unwrap().iter().map(|a| a["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["cancelled", "served"], "{mine}");
    let (st, day) = app.get(&clerk, &format!("/api/v1/stations/{sid}/day?date={date}")).await;
    assert_eq!(
        (st, day["appointments"].as_array().map(Vec::len), day["records"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(3), Some(2)),
        "{day}"
    );

    let month = &date[..7];
    let (st, m) = app.get(&app.token("officer").await, &format!("/api/v1/stations/{sid}/month?month={month}")).await;
    assert_eq!(st, StatusCode::OK, "{m}");
    let row = |name: &str| m["services"].as_array().unwrap().iter().find(|r| r["service"] == name).unwrap().clone();
    let b = row("量血压");
    assert_eq!(
        (
            b["served"].as_i64(),
            b["minutes"].as_i64(),
            b["appointments"].as_i64(),
            b["cancelled"].as_i64(),
            b["missed"].as_i64()
        ),
        (Some(1), Some(10), Some(2), Some(1), Some(1)),
        "{m}"
    );
    let h = row("老年人理发");
    assert_eq!((h["served"].as_i64(), h["people"].as_i64()), (Some(1), Some(1)), "{m}");
    assert_eq!((m["served"].as_i64(), m["minutes"].as_i64()), (Some(2), Some(25)));
    let (st, v) = app.get(&clerk, &format!("/api/v1/stations/{sid}/month?month=2026-13")).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("month")), "{v}");
}

#[tokio::test]
async fn a_clerk_books_on_the_page_for_a_resident_who_phones() {
    let app = TestApp::spawn().await;
    let clerk = app.token("clerk").await;
    let body = json!({"name": "春城驿家党群服务站", "address": "丁香花园三期南门", "hours": "1-7 08:00-11:00"});
    let sid = app.post(&clerk, "/api/v1/stations", body).await.1["id"].as_i64().unwrap();
    let bp = json!({"name": "量血压", "by_appointment": true, "slot_minutes": 20, "capacity": 2});
    let bp = app.post(&clerk, &format!("/api/v1/stations/{sid}/services"), bp).await.1["id"].as_i64().unwrap();
    let (zhang, me) = linked_resident(&app, "张大爷", "13812345678").await;
    let tomorrow = to_local(app.svc.now()).date_naive().checked_add_days(Days::new(1)).unwrap();
    let date = tomorrow.format("%Y-%m-%d").to_string();
    let nine = start_of_day(tomorrow) + 9 * HOUR_MS;

    let b = app.browser_as("clerk").await;
    let page = |path: String| {
        let b = b.clone();
        let url = format!("{}{path}", app.url);
        async move {
            let r = b.get(url).send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (_, day) = page(format!("/stations/{sid}?date={date}")).await;
    assert!(day.contains("id=\"book-for\""), "the station's day offers booking for a resident");
    let base = format!("/stations/{sid}/book?service={bp}&date={date}");
    let (st, found) = page(format!("{base}&who=%E5%BC%A0")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(found.contains(&format!("resident={zhang}")) && found.contains("张大爷"), "found by name");
    assert!(!found.contains("13812345678"), "the phone stays masked");
    let (_, none) = page(format!("{base}&who=%E6%9F%90%E6%9F%90")).await;
    assert!(none.contains("没有找到这位居民"), "a name not found is said so");
    let (st, chosen) = page(format!("{base}&resident={zhang}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(chosen.contains(&format!("data-at=\"{}\"", rfc3339(nine))), "the day's slots to choose");
    let csrf = chosen.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    let post = |resident: String, at: i64| {
        let (b, csrf) = (b.clone(), csrf.clone());
        let url = format!("{}/stations/{sid}/book", app.url);
        async move {
            let form = [
                ("_csrf", csrf),
                ("service_id", bp.to_string()),
                ("resident_id", resident),
                ("starts_at", rfc3339(at)),
            ];
            let r = b.post(url).form(&form).send().await.unwrap();
            let to = r.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
            (r.status(), to, r.text().await.unwrap())
        }
    };
    let (st, _, html) = post(String::new(), nine).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请先选定居民"), "no resident named: {html}");
    let (st, to, _) = post(zhang.to_string(), nine).await;
    assert_eq!((st, to), (StatusCode::SEE_OTHER, Some(format!("/stations/{sid}?date={date}&ok=booked"))));
    let (st, _, html) = post(zhang.to_string(), nine + 20 * MINUTE_MS).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "the page again");
    assert!(html.contains("当天已预约过"), "one a day, said on the page");

    // the resident sees it on their phone, booked by the clerk
    let (_, mine) = app.get(&me, "/api/v1/me/appointments").await;
    assert_eq!(
        (mine[0]["status"].as_str(), mine[0]["starts_at"].as_str()),
        (Some("booked"), Some(rfc3339(nine).as_str())),
        "{mine}"
    );
    let (_, day) = page(format!("/stations/{sid}?date={date}")).await;
    assert!(day.contains("张大爷"), "on the station's day");
}
