//! Telling people: case events reach the reporter by SMS through a provider
//! server that checks each signature, and staff by email through a real
//! SMTP server; once per (event, person, channel), retried with back-off
//! and parked, held by quiet hours, resent under the same id after a crash.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::time::{HOUR_MS, MINUTE_MS, start_of_day, to_local};
use yijia_service::Settings;
use yijia_service::notify::{NotifySettings, SmtpSettings};
use yijia_testkit::providers::{Provider, SmsServer, SmtpServer};

use crate::helpers::TestApp;
use crate::tallies::exec;

pub(crate) struct Rig {
    pub(crate) app: TestApp,
    pub(crate) sms: SmsServer,
    smtp: Option<SmtpServer>,
}

pub(crate) async fn rig(provider: Provider, with_email: bool) -> Rig {
    rig_capped(provider, with_email, NotifySettings::default().sms_daily_cap).await
}

async fn rig_capped(provider: Provider, with_email: bool, sms_daily_cap: i64) -> Rig {
    let sms = SmsServer::start(provider).await;
    let smtp = if with_email { Some(SmtpServer::start().await) } else { None };
    let notify = NotifySettings {
        public_url: "https://yijia.example.cn".into(),
        sms: Some(sms.settings()),
        smtp: smtp
            .as_ref()
            .map(|s| SmtpSettings { url: s.url.clone().into(), from: "驿家 <notify@yijia.example.cn>".into() }),
        sms_daily_cap,
        ..NotifySettings::default()
    };
    let app = TestApp::spawn_with(Settings { notify, ..Settings::default() }).await;
    at_hour(&app, 12);
    Rig { app, sms, smtp }
}

/// Today at `hour` o'clock, Beijing time: quiet hours depend on it.
pub(crate) fn at_hour(app: &TestApp, hour: i64) {
    let today = to_local(crate::helpers::now_ms()).date_naive();
    app.clock.set(start_of_day(today) + hour * HOUR_MS);
}

/// Runs the dispatcher until it has nothing to do.
pub(crate) async fn dispatch(app: &TestApp) {
    for _ in 0..50 {
        if app.svc.dispatch("test").await.unwrap().is_idle() {
            return;
        }
    }
    panic!("the dispatcher never went idle");
}

/// A walk-in request for grid 1, filed by the secretary for 王奶奶.
async fn walk_in(app: &TestApp) -> i64 {
    let secretary = app.token("secretary").await;
    let (st, v) = app
        .post(
            &secretary,
            "/api/v1/cases",
            json!({"category": "repair", "description": "楼道灯坏了", "grid": "chengnan-g01", "channel": "walk_in",
                   "reporter_name": "王奶奶", "reporter_phone": "138 0000 1111"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn act(app: &TestApp, token: &str, id: i64, action: &str) -> Value {
    let (_, k) = app.get(token, &format!("/api/v1/cases/{id}")).await;
    let (st, v) = app
        .post(
            token,
            &format!("/api/v1/cases/{id}/actions"),
            json!({"action": action, "version": k["version"], "note": "已修好"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{action}: {v}");
    v
}

/// A message's text as sent, quoted-printable decoded.
fn quoted_printable(mail: &str) -> String {
    let joined = mail.replace("=\r\n", "").replace("=\n", "");
    let mut bytes = Vec::new();
    let mut rest = joined.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        match (b, tail.get(..2).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())) {
            (b'=', Some(v)) => {
                bytes.push(v);
                rest = &tail[2..];
            }
            _ => {
                bytes.push(b);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

async fn deliveries(app: &TestApp, query: &str) -> Vec<Value> {
    let secretary = app.token("secretary").await;
    let (st, v) = app.get(&secretary, &format!("/api/v1/deliveries{query}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_resolved_case_texts_the_reporter_and_emails_the_worker_who_chose_email() {
    let r = rig(Provider::Aliyun, true).await;
    let app = &r.app;
    let worker = app.token("worker1").await;
    let (st, p) = app.get(&worker, "/api/v1/me/notifications").await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!((p["quiet_from"].as_str(), p["quiet_to"].as_str()), (Some("22:00"), Some("07:00")));
    assert_eq!(p["sms_available"], true);
    let (st, p) = app
        .send(
            reqwest::Method::PUT,
            &worker,
            "/api/v1/me/notifications",
            json!({"email": "li.wangge@example.cn", "topics": [{"topic": "case_assigned", "channels": ["in_app", "email"]}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["email"], "l***@example.cn");

    let id = walk_in(app).await;
    act(app, &worker, id, "accept").await;
    act(app, &worker, id, "resolve").await;
    dispatch(app).await;

    // the reporter, who has no account, is texted at her phone: accepted, resolved
    assert_eq!(r.sms.refused(), Vec::<String>::new(), "every signature checked out");
    let got = r.sms.got();
    let texts: Vec<(&str, &str)> = got.iter().map(|g| (g.phone.as_str(), g.template.as_str())).collect();
    assert_eq!(texts, [("13800001111", "case_accepted"), ("13800001111", "case_resolved")]);
    let resolved = &got[1];
    assert_eq!(resolved.sign_name, "驿家");
    assert_eq!(resolved.params, json!({"no": id.to_string(), "link": format!("https://yijia.example.cn/cases/{id}")}));
    assert!(!resolved.params.to_string().contains('王'), "no name goes out");

    // the worker chose email for new cases: one email, through the SMTP server
    let mail = r.smtp.as_ref().unwrap().received();
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0].contains("To: li.wangge@example.cn"), "{}", mail[0]);
    let body = quoted_printable(&mail[0]);
    assert!(body.contains(&format!("新派单：编号{id}")) && body.contains(&format!("New case no. {id}")), "{body}");
    let (_, messages) = app.get(&worker, "/api/v1/messages").await;
    assert_eq!(messages["unread"], 1, "and in the bell: {messages}");

    // the log shows each masked, with the provider's id
    let log = deliveries(app, "").await;
    let sms: Vec<&Value> = log.iter().filter(|d| d["channel"] == "sms").collect();
    assert_eq!(sms.len(), 2);
    assert!(sms.iter().all(|d| d["state"] == "sent" && d["to"] == "138****1111"), "{log:?}");
    assert_eq!(sms[0]["provider_id"], got[1].provider_id.as_str(), "newest first");
    assert_eq!(sms[0]["message_id"], got[1].message_id.as_str(), "the OutId is the message's own id");
    assert!(!serde_json::to_string(&log).unwrap().contains("13800001111"));
    assert!(app.audit().await.iter().any(|(a, _, _)| a == "notify_sent"));

    // the same events again send nothing
    exec(app, "UPDATE outbox SET told_at = NULL", &[]).await;
    dispatch(app).await;
    assert_eq!(r.sms.got().len(), 2);
    assert_eq!(r.smtp.as_ref().unwrap().received().len(), 1);
}

#[tokio::test]
async fn tencent_gets_the_variables_in_order_and_the_message_id_as_session_context() {
    let r = rig(Provider::Tencent, false).await;
    let app = &r.app;
    let worker = app.token("worker1").await;
    let id = walk_in(app).await;
    act(app, &worker, id, "accept").await;
    act(app, &worker, id, "resolve").await;
    dispatch(app).await;
    assert_eq!(r.sms.refused(), Vec::<String>::new());
    let got = r.sms.got();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1].template, "case_resolved");
    assert_eq!(got[1].params, json!([id.to_string(), format!("https://yijia.example.cn/cases/{id}")]));
    let log = deliveries(app, "").await;
    assert_eq!(log[0]["message_id"], got[1].message_id.as_str());
    assert_eq!(log[0]["provider_id"], got[1].provider_id.as_str());
}

#[tokio::test]
async fn a_failing_provider_is_retried_with_back_off_then_parked_and_sent_again_by_hand() {
    let r = rig(Provider::Aliyun, false).await;
    let app = &r.app;
    let worker = app.token("worker1").await;
    let id = walk_in(app).await;
    r.sms.log.lock().unwrap().fail_next = 3;
    act(app, &worker, id, "accept").await;
    dispatch(app).await;
    let d = &deliveries(app, "").await[0];
    assert_eq!((d["state"].as_str(), d["attempts"].as_i64()), (Some("queued"), Some(1)), "{d}");
    assert!(d["error"].as_str().unwrap().contains("503"), "{d}");

    // not before its back-off: 30 s, then 60 s
    dispatch(app).await;
    assert_eq!(r.sms.log.lock().unwrap().requests, 1);
    app.clock.advance(30_000);
    dispatch(app).await;
    assert_eq!(r.sms.log.lock().unwrap().requests, 2);
    app.clock.advance(30_000);
    dispatch(app).await;
    assert_eq!(r.sms.log.lock().unwrap().requests, 2, "the second wait is a minute");
    app.clock.advance(30_000);
    dispatch(app).await;
    assert_eq!(r.sms.log.lock().unwrap().requests, 3);
    let parked = deliveries(app, "?state=parked").await;
    assert_eq!(parked.len(), 1, "parked after three tries");
    app.clock.advance(HOUR_MS);
    dispatch(app).await;
    assert_eq!(r.sms.log.lock().unwrap().requests, 3, "a parked message waits for a person");
    let worker = app.token("worker1").await;

    // the secretary sends it again; a worker may not, nor may another community
    let pid = parked[0]["id"].as_i64().unwrap();
    let (st, _) = app.post(&worker, &format!("/api/v1/deliveries/{pid}/requeue"), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let secretary = app.token("secretary").await;
    let (st, v) = app.post(&secretary, &format!("/api/v1/deliveries/{pid}/requeue"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "queued");
    dispatch(app).await;
    assert_eq!(r.sms.got().len(), 1);
    let (st, _) = app.post(&secretary, &format!("/api/v1/deliveries/{pid}/requeue"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "sent already");
}

#[tokio::test]
async fn quiet_hours_hold_a_routine_message_until_morning() {
    let r = rig(Provider::Aliyun, false).await;
    let app = &r.app;
    let id = walk_in(app).await;
    at_hour(app, 23);
    let worker = app.token("worker1").await;
    act(app, &worker, id, "accept").await;
    dispatch(app).await;
    assert_eq!(r.sms.got().len(), 0, "not at 23:00");
    let d = &deliveries(app, "").await[0];
    assert!(d["next_at"].as_str().unwrap().ends_with("T07:00:00+08:00"), "{d}");
    app.clock.advance(7 * HOUR_MS + 59 * MINUTE_MS);
    dispatch(app).await;
    assert_eq!(r.sms.got().len(), 0, "not at 06:59");
    app.clock.advance(MINUTE_MS);
    dispatch(app).await;
    assert_eq!(r.sms.got().len(), 1, "sent at 07:00 the next day");
}

#[tokio::test]
async fn a_message_in_flight_when_its_server_dies_is_sent_again_under_the_same_id() {
    let r = rig(Provider::Aliyun, false).await;
    let app = &r.app;
    let worker = app.token("worker1").await;
    let first = walk_in(app).await;
    act(app, &worker, first, "accept").await;
    dispatch(app).await;
    assert_eq!(r.sms.got().len(), 1);

    // a second case's message is claimed by a server that then dies
    let second = walk_in(app).await;
    act(app, &worker, second, "accept").await;
    app.svc.fan_out().await.unwrap();
    let now = app.svc.now();
    let mut tx = app.db.db.write().await.unwrap();
    let claimed = yijia_store::notify::claim(&mut tx, "dead", now, now + MINUTE_MS, 10).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(claimed.len(), 1);
    dispatch(app).await;
    assert_eq!(r.sms.got().len(), 1, "another server leaves it while the lease holds");

    app.clock.advance(MINUTE_MS + 1000);
    dispatch(app).await;
    let got = r.sms.got();
    assert_eq!(got.len(), 2, "only the one in flight is sent again: {got:?}");
    assert_eq!(got[1].message_id, claimed[0].message_id, "under the id it had before the crash");
}

#[tokio::test]
async fn two_dispatchers_on_one_database_send_each_message_once() {
    let r = rig(Provider::Aliyun, false).await;
    let app = &r.app;
    let worker = app.token("worker1").await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        let id = walk_in(app).await;
        act(app, &worker, id, "accept").await;
        ids.push(id);
    }
    let (a, b) = (app.svc.clone(), app.svc.clone());
    for _ in 0..20 {
        let (x, y) = tokio::join!(a.dispatch("server-a"), b.dispatch("server-b"));
        if x.unwrap().is_idle() && y.unwrap().is_idle() {
            let log = deliveries(app, "").await;
            if log.iter().all(|d| d["state"] == "sent") {
                break;
            }
            // a send that failed on a loaded machine waits out its back-off
            app.clock.advance(10 * MINUTE_MS);
        }
    }
    let log = deliveries(app, "").await;
    let got = r.sms.got();
    let mut seen: Vec<&str> = got.iter().map(|g| g.message_id.as_str()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 6, "every message went: {got:?} {log:?}");
    // a message goes again only when its first try failed; two servers
    // never both send one
    for d in &log {
        let sent = got.iter().filter(|g| d["message_id"] == g.message_id.as_str()).count() as i64;
        assert!(sent <= d["attempts"].as_i64().unwrap(), "{d} went {sent} times: {got:?}");
    }
}

#[tokio::test]
async fn preferences_are_checked_field_by_field_and_messages_are_ones_own() {
    let app = TestApp::spawn().await;
    let resident = app.token("resident").await;
    let put = |body: Value| {
        let (app, resident) = (&app, resident.clone());
        async move { app.send(reqwest::Method::PUT, &resident, "/api/v1/me/notifications", body).await }
    };
    let (_, p) = app.get(&resident, "/api/v1/me/notifications").await;
    let topics: Vec<&str> = p["topics"].as_array().unwrap().iter().map(|t| t["topic"].as_str().unwrap()).collect();
    assert_eq!(
        topics,
        ["case_accepted", "case_resolved", "redemption_ready", "appointment_tomorrow", "vote_open", "notice"],
        "a resident is told of his own affairs and of where he lives, not of staff's work"
    );
    let channels =
        |t: &str| p["topics"].as_array().unwrap().iter().find(|x| x["topic"] == t).unwrap()["channels"].clone();
    assert_eq!(channels("case_resolved"), json!(["in_app", "sms"]));
    assert_eq!(channels("notice"), json!(["in_app"]), "a notice to a whole building goes by SMS only if asked");
    assert_eq!(p["sms_available"], false, "no provider set up here");
    for (body, field) in [
        (json!({"quiet_from": "25:00"}), "quiet_from"),
        (json!({"quiet_to": "7"}), "quiet_to"),
        (json!({"email": "not an address"}), "email"),
        (json!({"topics": [{"topic": "case_assigned", "channels": ["sms"]}]}), "topics[0].topic"),
    ] {
        let (st, e) = put(body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {e}");
        assert_eq!(e["error"]["field"], field, "{e}");
    }
    let (st, _) = put(json!({"topics": [{"topic": "case_resolved", "channels": ["carrier_pigeon"]}]})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "an unknown channel is refused");
    let (st, p) = put(json!({"quiet_from": "21:30", "quiet_to": "21:30",
                             "topics": [{"topic": "case_resolved", "channels": ["in_app"]}]}))
    .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!((p["quiet_from"].as_str(), p["quiet_to"].as_str()), (Some("21:30"), Some("21:30")));
    assert_eq!(p["topics"][1]["channels"], json!(["in_app"]));

    // a resident's own request resolved: in his bell, marked read by him only
    let worker = app.token("worker1").await;
    let (_, k) = app.post(&resident, "/api/v1/cases", json!({"category": "repair", "description": "楼道灯不亮"})).await;
    let id = k["id"].as_i64().unwrap();
    act(&app, &worker, id, "accept").await;
    act(&app, &worker, id, "resolve").await;
    dispatch(&app).await;
    let (_, m) = app.get(&resident, "/api/v1/messages").await;
    assert_eq!(m["unread"], 2, "accepted and resolved, in the bell: {m}");
    let msg = &m["items"][0];
    assert_eq!(msg["topic"], "case_resolved");
    assert_eq!(msg["link"], format!("/cases/{id}"));
    assert!(msg["text"].as_str().unwrap().contains(&format!("编号{id}")), "{msg}");
    let mid = msg["id"].as_i64().unwrap();
    let (st, _) = app.post(&worker, "/api/v1/messages/read", json!({"id": mid})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "not his message");
    let (st, v) = app.post(&resident, "/api/v1/messages/read", json!({"id": mid})).await;
    assert_eq!((st, v["changed"].as_i64()), (StatusCode::OK, Some(1)));
    let (_, u) = app.get(&resident, "/api/v1/messages/unread").await;
    assert_eq!(u["unread"], 1, "the other stays unread");
}

#[tokio::test]
async fn the_pages_ring_the_bell_open_a_message_and_save_preferences() {
    let r = rig(Provider::Aliyun, false).await;
    let app = &r.app;
    let worker = app.token("worker1").await;
    let id = walk_in(app).await;
    act(app, &worker, id, "accept").await;
    dispatch(app).await;

    // the bell on every page asks for the count; worker1 was told of the new case
    let b = app.browser_as("worker1").await;
    let home = b.get(format!("{}/", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(home.contains("id=\"bell\"") && home.contains("/static/bell.js"), "the bell is on the page");
    let count = b.get(format!("{}/messages/count", app.url)).send().await.unwrap().text().await.unwrap();
    assert_eq!(count, "<span class=\"count\">1</span>");
    let page = b.get(format!("{}/messages", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("新派单：编号{id}")), "{page}");
    let csrf = page.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let mid = page.split("data-id=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let res =
        b.post(format!("{}/messages/{mid}/open", app.url)).form(&[("_csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(res.headers()["location"], format!("/cases/{id}"), "it leads to the case");
    let count = b.get(format!("{}/messages/count", app.url)).send().await.unwrap().text().await.unwrap();
    assert_eq!(count, "", "read now");

    // preferences: a bad time is said so, and nothing is saved
    let form = [("_csrf", csrf.as_str()), ("quiet_from", "25:00"), ("quiet_to", "07:00"), ("case_overdue.sms", "1")];
    let res = b.post(format!("{}/notifications", app.url)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("22:00"), "the message shows the form of a time");
    let form = [("_csrf", csrf.as_str()), ("quiet_from", "23:00"), ("quiet_to", "06:30"), ("case_overdue.sms", "1")];
    let res = b.post(format!("{}/notifications", app.url)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (_, p) = app.get(&worker, "/api/v1/me/notifications").await;
    assert_eq!((p["quiet_from"].as_str(), p["quiet_to"].as_str()), (Some("23:00"), Some("06:30")));
    let overdue = p["topics"].as_array().unwrap().iter().find(|t| t["topic"] == "case_overdue").unwrap();
    assert_eq!(overdue["channels"], json!(["sms", "email"]), "what was ticked, and email kept: not set up here");

    // an email given once stays when the form is saved with the box empty, and goes when told to
    let (st, _) =
        app.send(reqwest::Method::PUT, &worker, "/api/v1/me/notifications", json!({"email": "li@example.cn"})).await;
    assert_eq!(st, StatusCode::OK);
    let save = |extra: Option<(&'static str, &'static str)>| {
        let mut form = vec![("_csrf", csrf.clone()), ("quiet_from", "23:00".into()), ("quiet_to", "06:30".into())];
        form.push(("email", String::new()));
        if let Some((k, v)) = extra {
            form.push((k, v.into()));
        }
        b.post(format!("{}/notifications", app.url)).form(&form).send()
    };
    assert_eq!(save(None).await.unwrap().status(), StatusCode::OK);
    let (_, p) = app.get(&worker, "/api/v1/me/notifications").await;
    assert_eq!(p["email"], "l***@example.cn", "an empty box keeps the address");
    assert_eq!(save(Some(("email_remove", "1"))).await.unwrap().status(), StatusCode::OK);
    let (_, p) = app.get(&worker, "/api/v1/me/notifications").await;
    assert_eq!(p["email"], Value::Null);

    // the secretary's delivery log, masked; a worker has none
    let s = app.browser_as("secretary").await;
    let log = s.get(format!("{}/deliveries", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(log.contains("138****1111") && !log.contains("13800001111"), "{log}");
    let res = b.get(format!("{}/deliveries", app.url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn receipts_mark_delivered_and_a_reply_of_td_stops_sms_to_that_phone() {
    use yijia_testkit::providers::CALLBACK_TOKEN;
    for provider in [Provider::Aliyun, Provider::Tencent] {
        let r = rig(provider, false).await;
        let app = &r.app;
        let worker = app.token("worker1").await;
        let id = walk_in(app).await;
        act(app, &worker, id, "accept").await;
        dispatch(app).await;
        let got = r.sms.got();
        assert_eq!(got.len(), 1);
        let client = app.client();
        let post = |path: String, body: Value| {
            let client = client.clone();
            async move {
                let res = client.post(format!("{}{path}", app.url)).json(&body).send().await.unwrap();
                (res.status(), res.json::<Value>().await.unwrap())
            }
        };
        let (receipt, ack, reply) = match provider {
            Provider::Aliyun => (
                json!([{"phone_number": "13800001111", "send_time": "2026-12-04 12:00:00", "report_time": "2026-12-04 12:00:05",
                        "success": true, "err_code": "DELIVERED", "err_msg": "用户接收成功", "sms_size": "1",
                        "biz_id": got[0].provider_id, "out_id": got[0].message_id}]),
                json!({"code": 0, "msg": "接收成功"}),
                json!([{"phone_number": "13800001111", "send_time": "2026-12-04 12:01:00", "content": "TD",
                        "sign_name": "驿家", "dest_code": "1234", "sequence_id": 1}]),
            ),
            Provider::Tencent => (
                json!([{"user_receive_time": "2026-12-04 12:00:05", "nationcode": "86", "mobile": "13800001111",
                        "report_status": "SUCCESS", "errmsg": "DELIVRD", "description": "用户短信送达成功", "sid": got[0].provider_id}]),
                json!({"result": 0, "errmsg": "OK"}),
                json!({"extend": "", "mobile": "13800001111", "nationcode": "86", "sign": "驿家", "text": "退订", "time": 1_764_820_860}),
            ),
        };
        // a wrong token is nobody's callback
        let (st, _) = post("/api/v1/sms/receipts/guess".into(), receipt.clone()).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        let (st, v) = post("/api/v1/sms/receipts/cb-7d1f0c2a".into(), json!([{"what": 1}])).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        let (st, v) = post(format!("/api/v1/sms/receipts/{CALLBACK_TOKEN}"), receipt).await;
        assert_eq!((st, &v), (StatusCode::OK, &ack), "{provider:?}");
        let log = deliveries(app, "").await;
        assert_eq!(log[0]["state"], "delivered", "{log:?}");
        assert!(log[0]["delivered_at"].is_string());

        // she replies TD: resolving her request sends her no SMS, and the log says why
        let (st, v) = post(format!("/api/v1/sms/replies/{CALLBACK_TOKEN}"), reply).await;
        assert_eq!((st, &v), (StatusCode::OK, &ack));
        act(app, &worker, id, "resolve").await;
        dispatch(app).await;
        assert_eq!(r.sms.got().len(), 1, "{provider:?}: stopped");
        let log = deliveries(app, "").await;
        assert_eq!(log[0]["state"], "failed");
        assert!(log[0]["error"].as_str().unwrap().contains("退订"), "{log:?}");
        assert!(app.audit().await.iter().any(|(a, _, o)| a == "sms_stop" && o == "phone:138****1111"));
    }
}

#[tokio::test]
async fn a_grids_work_groups_hear_of_its_new_cases_through_their_robots() {
    use yijia_testkit::providers::{DINGTALK_SECRET, RobotServer};
    let robots = RobotServer::start().await;
    let settings = Settings { webhooks_allow_private: true, ..Settings::default() };
    let app = TestApp::spawn_with(settings).await;
    at_hour(&app, 12);
    let secretary = app.token("secretary").await;
    let add = |body: Value| {
        let (app, secretary) = (&app, secretary.clone());
        async move { app.post(&secretary, "/api/v1/staff-groups", body).await }
    };
    let (st, w) = add(json!({"scope": "chengnan-g01", "kind": "wecom", "name": "第1网格工作群",
                              "url": format!("{}/cgi-bin/webhook/send?key=k1", robots.url)}))
    .await;
    assert_eq!(st, StatusCode::CREATED, "{w}");
    assert_eq!((w["host"].as_str(), w["scope_name"].as_str()), (Some("127.0.0.1"), Some("第1网格")));
    assert!(!w.to_string().contains("k1"), "the key is not shown again");
    let (st, d) = add(json!({"scope": "chengnan", "kind": "dingtalk", "name": "城南社区两委群",
                              "url": format!("{}/robot/send?access_token=t1", robots.url), "secret": DINGTALK_SECRET}))
    .await;
    assert_eq!(st, StatusCode::CREATED, "{d}");
    assert_eq!(d["signed"], true);
    for (body, field) in [
        (json!({"scope": "chengnan", "kind": "wecom", "name": "", "url": "https://x.cn/"}), "name"),
        (json!({"scope": "chengnan", "kind": "email", "name": "群", "url": "https://x.cn/"}), "kind"),
        (json!({"scope": "chengnan", "kind": "wecom", "name": "群", "url": "ftp://x.cn/"}), "url"),
        (
            json!({"scope": "chengnan", "kind": "wecom", "name": "群", "url": "https://x.cn/", "secret": "SEC1"}),
            "secret",
        ),
        (json!({"scope": "dongsheng", "kind": "wecom", "name": "群", "url": "https://x.cn/"}), "scope"),
    ] {
        let (st, e) = add(body.clone()).await;
        assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{body}: {e}");
    }

    // a case filed in grid 1: both groups hear of it, the DingTalk one signed
    walk_in(&app).await;
    dispatch(&app).await;
    let posts = robots.posts();
    assert_eq!(posts.len(), 2, "{posts:?}");
    let wecom = posts.iter().find(|p| p.path.starts_with("/cgi-bin")).unwrap();
    let ding = posts.iter().find(|p| p.path.starts_with("/robot")).unwrap();
    assert!(ding.signed && !wecom.signed);
    let text = wecom.body["text"]["content"].as_str().unwrap();
    assert!(text.starts_with("【驿家】新派单：编号"), "{text}");
    assert!(!text.contains('王'), "no name goes to a group");
    let log = deliveries(&app, "").await;
    let groups: Vec<&str> = log.iter().filter_map(|d| d["to"].as_str()).collect();
    assert!(groups.contains(&"第1网格 · 第1网格工作群") && groups.contains(&"城南社区 · 城南社区两委群"), "{log:?}");

    // removed: no more
    let id = w["id"].as_i64().unwrap();
    let (st, _) = app.post(&secretary, &format!("/api/v1/staff-groups/{id}/remove"), json!({})).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    walk_in(&app).await;
    dispatch(&app).await;
    assert_eq!(robots.posts().len(), 3, "only the community's group this time");
    let (_, list) = app.get(&secretary, "/api/v1/staff-groups").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn one_phone_gets_no_more_than_the_daily_cap() {
    let r = rig_capped(Provider::Aliyun, false, 1).await;
    let app = &r.app;
    let worker = app.token("worker1").await;
    let id = walk_in(app).await;
    act(app, &worker, id, "accept").await;
    act(app, &worker, id, "resolve").await;
    dispatch(app).await;
    assert_eq!(r.sms.got().len(), 1, "one a day");
    let log = deliveries(app, "?state=failed").await;
    assert_eq!(log.len(), 1);
    assert!(log[0]["error"].as_str().unwrap().contains("每日上限 1 条"), "{log:?}");
}

/// On PostgreSQL a transaction may commit an outbox entry with a lower id
/// after one with a higher id was told of: it is told of all the same.
#[tokio::test]
async fn an_event_that_commits_late_is_still_told() {
    let r = rig(Provider::Aliyun, false).await;
    let app = &r.app;
    let worker = app.token("worker1").await;
    let first = walk_in(app).await;
    act(app, &worker, first, "accept").await;
    // the acceptance is not visible yet (told_at -1 stands for "not committed")
    exec(app, "UPDATE outbox SET told_at = -1 WHERE event = 'case.accept'", &[]).await;
    let second = walk_in(app).await;
    act(app, &worker, second, "accept").await;
    dispatch(app).await;
    assert_eq!(r.sms.got().len(), 1, "the later event is told of first");
    exec(app, "UPDATE outbox SET told_at = NULL WHERE told_at = -1", &[]).await;
    dispatch(app).await;
    let got = r.sms.got();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[1].template.as_str(), &got[1].params["no"]), ("case_accepted", &json!(first.to_string())));
}
