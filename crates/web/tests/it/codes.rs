//! A resident logs in with a one-time SMS code: the provider server (which
//! checks the request's signature) gets it; it works once, for five
//! minutes, for five tries; staff get none; a number without an account is
//! answered alike; wrong codes lock like wrong passwords.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::role::Role;
use yijia_domain::time::MINUTE_MS;
use yijia_testkit::providers::Provider;

use crate::helpers::TestApp;
use crate::me::linked_resident;
use crate::notify::rig;

/// A call with no session, as from the login page.
async fn public(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let r = app.client().post(format!("{}{path}", app.url)).json(&body).send().await.unwrap();
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

async fn ask(app: &TestApp, phone: &str) -> (StatusCode, Value) {
    public(app, "/api/v1/auth/sms-code", json!({ "phone": phone })).await
}

async fn enter(app: &TestApp, phone: &str, code: &str) -> (StatusCode, Value) {
    public(app, "/api/v1/auth/sms-login", json!({ "phone": phone, "code": code })).await
}

/// The code in the provider's last SMS to `phone`.
fn last_code(sms: &yijia_testkit::providers::SmsServer, phone: &str) -> String {
    let got = sms.got();
    let m = got.iter().rev().find(|g| g.phone == phone).expect("an SMS to the phone");
    assert_eq!(m.template, "login_code");
    m.params["code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_resident_logs_in_with_an_sms_code_once_within_five_minutes() {
    let r = rig(Provider::Aliyun, false).await;
    let app = &r.app;
    linked_resident(app, "张大爷", "13812345678").await;
    let before = r.sms.got().len();

    let (st, v) = ask(app, "138 1234 5678").await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    assert_eq!(r.sms.got().len(), before + 1);
    let code = last_code(&r.sms, "13812345678");
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    assert_eq!(r.sms.refused(), Vec::<String>::new(), "the signature checked out");
    let (st, v) = ask(app, "13812345678").await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")), "{v}");

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (st, v) = enter(app, "13812345678", wrong).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
    let (st, v) = enter(app, "13812345678", "12ab").await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("code")), "{v}");
    let (st, v) = enter(app, "13812345678", &code).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["user"]["display_name"], "张大爷");
    let token = v["token"].as_str().unwrap();
    assert_eq!(app.get(token, "/api/v1/me").await.0, StatusCode::OK);
    assert_eq!(enter(app, "13812345678", &code).await.0, StatusCode::UNAUTHORIZED, "used once");

    // a code not used within five minutes is dead
    app.clock.advance(2 * MINUTE_MS);
    assert_eq!(ask(app, "13812345678").await.0, StatusCode::ACCEPTED);
    let code = last_code(&r.sms, "13812345678");
    app.clock.advance(5 * MINUTE_MS + 1000);
    assert_eq!(enter(app, "13812345678", &code).await.0, StatusCode::UNAUTHORIZED, "expired");

    // the SMS and the audit show the number masked and never the code
    let mut tx = app.db.db.read().await.unwrap();
    let rows = yijia_store::audit::chunk(&mut tx, 0, 100_000).await.unwrap();
    drop(tx);
    let sent: Vec<_> = rows.iter().filter(|e| e.action == "login_code" && e.outcome == "ok").collect();
    assert_eq!(sent.len(), 2);
    for e in &sent {
        assert!(e.detail.contains("138****5678") && !e.detail.contains(&code), "{}", e.detail);
    }
    assert!(rows.iter().any(|e| e.action == "login" && e.outcome == "ok" && e.detail.contains("sms_code")));
}

#[tokio::test]
async fn staff_and_numbers_without_an_account_get_no_code_and_the_same_answer() {
    let r = rig(Provider::Tencent, false).await;
    let app = &r.app;
    app.add_user("13700001111", Role::GridWorker, "chengnan-g01").await;
    let before = r.sms.got().len();
    for phone in ["13700001111", "13900000000"] {
        let (st, v) = ask(app, phone).await;
        assert_eq!(st, StatusCode::ACCEPTED, "{phone}: {v}");
        assert_eq!(enter(app, phone, "123456").await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(r.sms.got().len(), before, "staff keep their passwords");
    let (st, v) = ask(app, "12345").await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("phone")), "{v}");
    let no_account = app.audit().await.into_iter().filter(|(a, o, _)| a == "login_code" && o == "no_account");
    assert_eq!(no_account.count(), 2, "asked, and audited under a keyed hash");

    // a site that sends no SMS says so, and its login page offers no code
    let plain = TestApp::spawn().await;
    let (st, v) = ask(&plain, "13812345678").await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let html = plain.browser().get(format!("{}/login", plain.url)).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("id=\"sms-login\""));
}

#[tokio::test]
async fn five_wrong_codes_end_the_code_and_lock_the_account_like_wrong_passwords() {
    let r = rig(Provider::Aliyun, false).await;
    let app = &r.app;
    linked_resident(app, "李奶奶", "13912345678").await;
    // failures count from after the last success (joining logged her in)
    app.clock.advance(1000);
    assert_eq!(ask(app, "13912345678").await.0, StatusCode::ACCEPTED);
    let code = last_code(&r.sms, "13912345678");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(enter(app, "13912345678", wrong).await.0, StatusCode::UNAUTHORIZED);
    }
    let (st, v) = enter(app, "13912345678", &code).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("account_locked")), "{v}");
    let r2 = app.login_raw("13912345678", crate::helpers::PASSWORD).await;
    assert_eq!(r2.status(), StatusCode::UNAUTHORIZED, "the password is locked out too");
    let audit = app.audit().await;
    assert!(audit.iter().any(|(a, _, _)| a == "lockout"), "the lockout is audited, as for passwords");
}

#[tokio::test]
async fn the_login_page_sends_the_code_and_takes_it() {
    let r = rig(Provider::Aliyun, false).await;
    let app = &r.app;
    linked_resident(app, "张大爷", "13812345678").await;
    let b = app.browser();
    let html = b.get(format!("{}/login", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"sms-login\"") && html.contains("获取验证码"), "{html}");
    let form = [("phone", "13812345678"), ("action", "send"), ("next", "/me/points")];
    let r1 = b.post(format!("{}/login/sms", app.url)).form(&form).send().await.unwrap();
    assert_eq!(r1.status(), StatusCode::OK);
    let html = r1.text().await.unwrap();
    assert!(html.contains("验证码已发送到 138****5678") && html.contains("name=\"code\""), "{html}");
    let code = last_code(&r.sms, "13812345678");
    let form = [("phone", "13812345678"), ("action", "login"), ("code", "000001"), ("next", "/me/points")];
    let r2 = b.post(format!("{}/login/sms", app.url)).form(&form).send().await.unwrap();
    let html = r2.text().await.unwrap();
    assert!(html.contains("验证码不正确或已过期") && html.contains("name=\"code\""), "the field stays: {html}");
    let form = [("phone", "13812345678"), ("action", "login"), ("code", code.as_str()), ("next", "/me/points")];
    let r3 = b.post(format!("{}/login/sms", app.url)).form(&form).send().await.unwrap();
    assert_eq!(r3.status(), StatusCode::SEE_OTHER);
    assert_eq!(r3.headers()["location"], "/me/points");
    let me = b.get(format!("{}/me/points", app.url)).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK, "logged in by the cookie");
}
