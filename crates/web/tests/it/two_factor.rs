//! Two-step login (TOTP with recovery codes) and each person's sessions.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::role::Role;
use yijia_domain::time::Clock as _;
use yijia_service::Settings;

use crate::helpers::{PASSWORD, TestApp};

fn staff_need_it() -> Settings {
    Settings { require_totp: vec![Role::Secretary, Role::StreetOfficer, Role::Admin], ..Settings::default() }
}

/// The code an authenticator app shows for `secret` at the app's clock.
fn code(app: &TestApp, secret: &str) -> String {
    let bytes = totp_rs::Secret::try_from_base32(secret).unwrap();
    let t = totp_rs::Builder::new().with_secret(bytes).build().unwrap();
    t.generate((app.clock.now_ms() / 1000) as u64).to_string()
}

async fn login(app: &TestApp, username: &str, totp: Option<&str>) -> (StatusCode, Value) {
    let mut body = json!({ "username": username, "password": PASSWORD });
    if let Some(t) = totp {
        body["totp"] = json!(t);
    }
    let r = app.client().post(format!("{}/api/v1/auth/login", app.url)).json(&body).send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap())
}

/// Sets up a factor for `username` and answers (its secret, recovery codes).
async fn enrol(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let (s, e) = app.post(token, "/api/v1/me/two-factor/setup", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let secret = e["secret"].as_str().unwrap().to_owned();
    assert!(e["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/yijia:"), "{e}");
    let (s, r) = app.post(token, "/api/v1/me/two-factor/confirm", json!({ "code": code(app, &secret) })).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let codes = r["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    (secret, codes)
}

#[tokio::test]
async fn a_secretary_sets_up_a_second_factor_and_then_needs_it() {
    let app = TestApp::spawn_with(staff_need_it()).await;

    // with a password alone, the secretary may only set the factor up
    let (s, li) = login(&app, "secretary", None).await;
    assert_eq!(s, StatusCode::OK, "{li}");
    assert_eq!(li["totp_enrolment_required"], true);
    let t = li["token"].as_str().unwrap().to_owned();
    let (s, e) = app.get(&t, "/api/v1/residents").await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("totp_enrolment_required")), "{e}");
    let (s, me) = app.get(&t, "/api/v1/me/two-factor").await;
    assert_eq!((s, &me["enabled"], &me["required"]), (StatusCode::OK, &json!(false), &json!(true)));

    // a wrong first code does not turn it on
    let (s, e) = app.post(&t, "/api/v1/me/two-factor/setup", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let secret = e["secret"].as_str().unwrap().to_owned();
    let right = code(&app, &secret);
    let wrong = if right == "123456" { "654321" } else { "123456" };
    let (s, e) = app.post(&t, "/api/v1/me/two-factor/confirm", json!({ "code": wrong })).await;
    assert_eq!((s, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("code")), "{e}");
    let (s, r) = app.post(&t, "/api/v1/me/two-factor/confirm", json!({ "code": right })).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let recovery: Vec<String> = r["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().into()).collect();
    assert_eq!(recovery.len(), 10);
    // the same session goes on at once
    assert_eq!(app.get(&t, "/api/v1/residents").await.0, StatusCode::OK);
    assert_eq!(app.get(&t, "/api/v1/me/two-factor").await.1["recovery_codes_left"], 10);

    // from now on the password alone is not enough
    let (s, e) = login(&app, "secretary", None).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("totp_required")), "{e}");
    assert!(e.get("token").is_none());
    // the code that turned it on was taken: it does not log in again
    let (s, e) = login(&app, "secretary", Some(&right)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "a code is accepted once: {e}");
    app.clock.advance(30_000);
    let (s, li) = login(&app, "secretary", Some(&code(&app, &secret))).await;
    assert_eq!(s, StatusCode::OK, "{li}");
    assert_eq!(li["totp_enrolment_required"], false);
    assert_eq!(app.get(li["token"].as_str().unwrap(), "/api/v1/residents").await.0, StatusCode::OK);

    // a recovery code, however typed, logs in once
    let typed = recovery[0].to_uppercase().replace('-', " ");
    assert_eq!(login(&app, "secretary", Some(&typed)).await.0, StatusCode::OK);
    assert_eq!(login(&app, "secretary", Some(&recovery[0])).await.0, StatusCode::UNAUTHORIZED);

    // the factor cannot be turned off where the role requires it
    app.clock.advance(30_000);
    let (s, e) = app.post(&t, "/api/v1/me/two-factor/disable", json!({ "code": code(&app, &secret) })).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");

    let audit = app.audit().await;
    assert!(audit.iter().any(|(a, o, _)| a == "totp_enrol" && o == "ok"));
    assert!(audit.iter().any(|(a, o, _)| a == "login" && o == "totp_failed"), "a wrong code is a failed login");
}

#[tokio::test]
async fn wrong_codes_lock_the_account_like_wrong_passwords() {
    let app = TestApp::spawn_with(staff_need_it()).await;
    let t = app.token("secretary").await;
    let (secret, _) = enrol(&app, &t).await;
    app.clock.advance(30_000);
    let right = code(&app, &secret);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(login(&app, "secretary", Some(wrong)).await.0, StatusCode::UNAUTHORIZED);
    }
    let (s, e) = login(&app, "secretary", Some(&right)).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("account_locked")), "{e}");
}

#[tokio::test]
async fn another_manager_resets_a_lost_factor_never_ones_own() {
    let app = TestApp::spawn_with(staff_need_it()).await;
    let sec = app.token("secretary").await;
    enrol(&app, &sec).await;
    let admin = app.token("admin").await;
    let (secret, _) = enrol(&app, &admin).await;

    // a secretary may not reset the admin's, nor anyone her own
    let (s, _) = app.post(&sec, "/api/v1/users/admin/two-factor/reset", json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(app.audit().await.iter().any(|(a, o, _)| a == "totp_reset" && o == "denied"));
    app.clock.advance(30_000);
    let (s, li) = login(&app, "admin", Some(&code(&app, &secret))).await;
    assert_eq!(s, StatusCode::OK);
    let admin = li["token"].as_str().unwrap().to_owned();
    let (s, _) = app.post(&admin, "/api/v1/users/admin/two-factor/reset", json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "one's own takes a second person");

    // the admin resets the secretary's: her sessions end, she enrols again
    assert_eq!(app.get(&admin, "/api/v1/users/secretary").await.1["two_factor"], true);
    assert_eq!(app.get(&admin, "/api/v1/me").await.1["two_factor"], true);
    let (s, _) = app.post(&admin, "/api/v1/users/secretary/two-factor/reset", json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&sec, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get(&admin, "/api/v1/users/secretary").await.1["two_factor"], false);
    let (s, li) = login(&app, "secretary", None).await;
    assert_eq!((s, &li["totp_enrolment_required"]), (StatusCode::OK, &json!(true)), "{li}");
    assert!(app.audit().await.iter().any(|(a, o, _)| a == "totp_reset" && o == "ok"));
}

#[tokio::test]
async fn optional_for_other_roles_and_turned_off_with_a_code() {
    let app = TestApp::spawn_with(staff_need_it()).await;
    let (s, li) = login(&app, "worker1", None).await;
    assert_eq!((s, &li["totp_enrolment_required"]), (StatusCode::OK, &json!(false)));
    let t = li["token"].as_str().unwrap().to_owned();
    let (secret, _) = enrol(&app, &t).await;
    assert_eq!(login(&app, "worker1", None).await.1["error"]["code"], "totp_required");
    app.clock.advance(30_000);
    let (s, e) = app.post(&t, "/api/v1/me/two-factor/disable", json!({ "code": "12" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, _) = app.post(&t, "/api/v1/me/two-factor/disable", json!({ "code": code(&app, &secret) })).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(login(&app, "worker1", None).await.0, StatusCode::OK);
    assert!(app.audit().await.iter().any(|(a, _, _)| a == "totp_disable"));
}

async fn login_from(app: &TestApp, username: &str, agent: &str) -> String {
    let r = app
        .client()
        .post(format!("{}/api/v1/auth/login", app.url))
        .header("user-agent", agent)
        .json(&json!({ "username": username, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
}

const PHONE: &str =
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36";
const DESK: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Gecko/20100101 Firefox/121.0";

#[tokio::test]
async fn each_person_sees_and_ends_their_sessions_and_a_manager_ends_a_users() {
    let app = TestApp::spawn().await;
    let phone = login_from(&app, "worker1", PHONE).await;
    let desk = login_from(&app, "worker1", DESK).await;

    let (s, list) = app.get(&desk, "/api/v1/me/sessions").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["total"], 2);
    let items = list["items"].as_array().unwrap();
    let this = items.iter().find(|s| s["current"] == true).unwrap();
    assert_eq!(this["device"], "Firefox · Windows");
    let other = items.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["device"], "Chrome · Android");
    assert_eq!(other["ip"], "127.0.0.1");
    assert!(!other.to_string().contains(&phone), "no token in the list");

    // the phone was lost: end it from the desk
    let id = other["id"].as_str().unwrap();
    let (s, _) = app.send(reqwest::Method::DELETE, &desk, &format!("/api/v1/me/sessions/{id}"), json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&phone, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    let (s, _) = app.send(reqwest::Method::DELETE, &desk, &format!("/api/v1/me/sessions/{id}"), json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "gone already");

    // another person's session is not theirs to end
    let staff = app.token("staff").await;
    let staff_id = app.get(&staff, "/api/v1/me/sessions").await.1["items"][0]["id"].as_str().unwrap().to_owned();
    let (s, _) = app.send(reqwest::Method::DELETE, &desk, &format!("/api/v1/me/sessions/{staff_id}"), json!({})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&staff, "/api/v1/me").await.0, StatusCode::OK);

    // the secretary sees the worker's sessions and ends them all
    let sec = app.token("secretary").await;
    let (s, list) = app.get(&sec, "/api/v1/users/worker1/sessions").await;
    assert_eq!((s, &list["total"]), (StatusCode::OK, &json!(1)), "{list}");
    let (s, ended) = app.send(reqwest::Method::DELETE, &sec, "/api/v1/users/worker1/sessions", json!({})).await;
    assert_eq!((s, &ended["ended"]), (StatusCode::OK, &json!(1)));
    assert_eq!(app.get(&desk, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    // not the admin's: out of her reach, and audited
    let (s, _) = app.get(&sec, "/api/v1/users/admin/sessions").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // a worker manages nobody
    let w = app.token("worker1").await;
    assert_eq!(app.get(&w, "/api/v1/users/staff/sessions").await.0, StatusCode::NOT_FOUND);

    let audit = app.audit().await;
    assert_eq!(audit.iter().filter(|(a, o, _)| a == "session_end" && o == "ok").count(), 2);
    assert!(audit.iter().any(|(a, o, _)| a == "sessions_read" && o == "denied"));
}

#[tokio::test]
async fn the_login_page_asks_for_the_code_in_a_second_step() {
    let app = TestApp::spawn_with(staff_need_it()).await;
    // first login by the page: straight to setting the factor up
    let b = app.browser();
    let r = b
        .post(format!("{}/login", app.url))
        .form(&[("username", "secretary"), ("password", PASSWORD), ("next", "/residents")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/two-factor");
    let r = b.get(format!("{}/residents", app.url)).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/two-factor", "nothing else until it is set up");
    let page = b.get(format!("{}/two-factor", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("/two-factor/setup"), "{page}");
    assert!(!page.contains("href=\"/residents\""), "no menu into pages that send her back");

    let t = app.token("secretary").await;
    let (secret, _) = enrol(&app, &t).await;
    app.clock.advance(30_000);
    let b = app.browser();
    let r = b
        .post(format!("{}/login", app.url))
        .form(&[("username", "secretary"), ("password", PASSWORD), ("next", "/residents")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "being asked for the code is no error");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    assert!(page.contains("name=\"totp\""), "{page}");
    let r = b
        .post(format!("{}/login", app.url))
        .form(&[
            ("username", "secretary"),
            ("password", PASSWORD),
            ("totp", &code(&app, &secret)),
            ("next", "/residents"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/residents");
    assert_eq!(b.get(format!("{}/residents", app.url)).send().await.unwrap().status(), StatusCode::OK);
    let account = b.get(format!("{}/account", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(account.contains("/account/sessions/"), "{account}");
}
