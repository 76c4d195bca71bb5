use std::time::Instant;

use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::time::MINUTE_MS;
use yijia_service::Settings;

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn login_gives_a_token_and_a_session_cookie() {
    let app = TestApp::spawn().await;
    let r = app.login_raw("secretary", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("yijia_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["user"]["username"], "secretary");
    assert_eq!(v["user"]["grants"][0]["role"], "secretary");
    assert_eq!(v["user"]["grants"][0]["org_code"], "chengnan");
    let token = v["token"].as_str().unwrap();
    // 128 bits, base64url without padding
    assert_eq!(token.len(), 22);
    let (s, me) = app.get(token, "/api/v1/me").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["display_name"], "王小红");
    // the token itself is never stored, only its hash
    let mut tx = app.db.db.read().await.unwrap();
    assert!(yijia_store::sessions::get(&mut tx, token).await.unwrap().is_none());
    assert!(yijia_store::sessions::get(&mut tx, &yijia_service::auth::token_hash(token)).await.unwrap().is_some());
}

#[tokio::test]
async fn unknown_and_known_usernames_get_the_same_answer_in_the_same_time() {
    let app = TestApp::spawn().await;
    let _ = app.login_raw("warmup", "x").await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    let mut bodies = Vec::new();
    for i in 0..4 {
        let t = Instant::now();
        let r = app.login_raw("secretary", &format!("wrong-password-{i}")).await;
        known.push(t.elapsed().as_secs_f64());
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        bodies.push(r.text().await.unwrap());
        let t = Instant::now();
        let r = app.login_raw(&format!("nobody{i}"), "wrong-password").await;
        unknown.push(t.elapsed().as_secs_f64());
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        bodies.push(r.text().await.unwrap());
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    known.sort_by(f64::total_cmp);
    unknown.sort_by(f64::total_cmp);
    let (k, u) = (known[1], unknown[1]);
    // Without the dummy hash an unknown name answers many times faster.
    assert!(k / u < 3.0 && u / k < 3.0, "known {k:.4}s vs unknown {u:.4}s");
}

#[tokio::test]
async fn five_failures_lock_the_account_for_thirty_minutes() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        assert_eq!(app.login_raw("worker1", "not-the-password").await.status(), StatusCode::UNAUTHORIZED);
    }
    let r = app.login_raw("worker1", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "account_locked");
    // an unknown name locks the same way, so lockout does not reveal who exists
    for _ in 0..6 {
        let _ = app.login_raw("ghost", "not-the-password").await;
    }
    let v: Value = app.login_raw("ghost", "x").await.json().await.unwrap();
    assert_eq!(v["error"]["code"], "account_locked");

    app.clock.advance(29 * MINUTE_MS);
    assert_eq!(app.login_raw("worker1", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    app.clock.advance(2 * MINUTE_MS);
    let r = app.login_raw("worker1", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let id = r.json::<Value>().await.unwrap()["user"]["id"].as_i64().unwrap();
    let audit = app.audit().await;
    assert!(audit.iter().any(|(a, _, o)| a == "lockout" && *o == format!("user:{id}")), "{audit:?}");
    assert!(audit.iter().any(|(a, out, _)| a == "login" && out == "locked"));
}

/// The probe typed a password and an ID number into the name field: the
/// append-only log must not keep them. A real account is named by its id,
/// anything else by a keyed hash, the same for the same text.
#[tokio::test]
async fn a_failed_login_keeps_no_typed_secret_in_the_audit_log() {
    let app = TestApp::spawn().await;
    for typed in ["S3cret-passw0rd!", "220182199001011234", "220182199001011234"] {
        assert_eq!(app.login_raw(typed, "x").await.status(), StatusCode::UNAUTHORIZED);
    }
    let mut tx = app.db.db.read().await.unwrap();
    let rows = yijia_store::audit::chunk(&mut tx, 0, 100_000).await.unwrap();
    let logins: Vec<_> = rows.iter().filter(|e| e.action == "login").collect();
    assert_eq!(logins.len(), 3);
    for e in &rows {
        let all = format!("{} {} {}", e.actor_name, e.object, e.detail).to_lowercase();
        assert!(!all.contains("s3cret") && !all.contains("220182199001011234"), "{all}");
    }
    assert!(logins.iter().all(|e| e.object.starts_with("login:")), "{:?}", logins[0].object);
    assert_ne!(logins[0].object, logins[1].object);
    assert_eq!(logins[1].object, logins[2].object, "the same text, the same hash: a guessing run shows");
}

#[tokio::test]
async fn failures_spread_over_more_than_fifteen_minutes_do_not_lock() {
    let app = TestApp::spawn().await;
    for _ in 0..4 {
        let _ = app.login_raw("worker1", "not-the-password").await;
    }
    app.clock.advance(16 * MINUTE_MS);
    let _ = app.login_raw("worker1", "not-the-password").await;
    assert_eq!(app.login_raw("worker1", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn too_many_attempts_from_one_address_answer_429() {
    let app = TestApp::spawn_with(Settings { ip_attempts: 3, ..Settings::default() }).await;
    for i in 0..3 {
        assert_eq!(app.login_raw(&format!("u{i}"), "x").await.status(), StatusCode::UNAUTHORIZED);
    }
    let r = app.login_raw("secretary", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");
}

#[tokio::test]
async fn sessions_end_when_idle_and_when_old() {
    let app = TestApp::spawn().await;
    let t = app.token("staff").await;
    app.clock.advance(29 * MINUTE_MS);
    assert_eq!(app.get(&t, "/api/v1/me").await.0, StatusCode::OK, "29 minutes idle is fine");
    app.clock.advance(29 * MINUTE_MS);
    assert_eq!(app.get(&t, "/api/v1/me").await.0, StatusCode::OK, "the last request refreshed it");
    app.clock.advance(31 * MINUTE_MS);
    let (s, v) = app.get(&t, "/api/v1/me").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "31 minutes idle");
    assert_eq!(v["error"]["code"], "unauthenticated");

    // absolute: active every 20 minutes, still over after 12 hours
    let t = app.token("staff").await;
    for _ in 0..35 {
        app.clock.advance(20 * MINUTE_MS);
        assert_eq!(app.get(&t, "/api/v1/me").await.0, StatusCode::OK);
    }
    app.clock.advance(21 * MINUTE_MS);
    assert_eq!(app.get(&t, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED, "over 12 hours old");
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let t = app.token("staff").await;
    let (s, _) = app.post(&t, "/api/v1/auth/logout", json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&t, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_password_change_ends_every_session() {
    let app = TestApp::spawn().await;
    let a = app.token("staff").await;
    let b = app.token("staff").await;
    let (s, v) =
        app.post(&a, "/api/v1/me/password", json!({"current_password": PASSWORD, "new_password": "1234567890"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["field"], "password");
    let (s, v) = app
        .post(
            &a,
            "/api/v1/me/password",
            json!({"current_password": "wrong-one-here", "new_password": "a much better one"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["field"], "current_password");
    assert_eq!(app.get(&b, "/api/v1/me").await.0, StatusCode::OK, "failed changes end nothing");

    let (s, _) = app
        .post(&a, "/api/v1/me/password", json!({"current_password": PASSWORD, "new_password": "a much better one"}))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&a, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get(&b, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login_raw("staff", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login_raw("staff", "a much better one").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn disabling_an_account_ends_its_sessions_and_logins() {
    let app = TestApp::spawn().await;
    let w = app.token("worker1").await;
    let s = app.token("secretary").await;
    let (st, v) = app.post(&s, "/api/v1/users/worker1/disable", json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["disabled"], true);
    assert_eq!(app.get(&w, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login_raw("worker1", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
    app.post(&s, "/api/v1/users/worker1/enable", json!({})).await;
    assert_eq!(app.login_raw("worker1", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn strict_profile_flags_expired_passwords() {
    let mut settings = Settings::default();
    settings.password_policy.max_age_days = 90;
    let app = TestApp::spawn_with(settings).await;
    app.clock.advance(91 * 24 * 60 * MINUTE_MS);
    let v: Value = app.login_raw("staff", PASSWORD).await.json().await.unwrap();
    assert_eq!(v["user"]["password_expired"], true);
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_token_for_unsafe_requests() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let r = browser
        .post(format!("{}/api/v1/auth/login", app.url))
        .json(&json!({"username": "secretary", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let csrf = r.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_owned();
    // reads need no token
    let r = browser.get(format!("{}/api/v1/me", app.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // an unsafe request without it is refused and audited
    let r = browser.post(format!("{}/api/v1/users/worker1/disable", app.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = browser
        .post(format!("{}/api/v1/users/worker1/disable", app.url))
        .header("x-csrf-token", "not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(app.audit().await.iter().any(|(a, o, _)| a == "csrf" && o == "denied"));
    // a form post carries it as a field
    let r = browser
        .post(format!("{}/users/worker1/disable", app.url))
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = browser
        .post(format!("{}/api/v1/users/worker1/enable", app.url))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["disabled"], false);
}

#[tokio::test]
async fn another_server_notices_a_logout_within_the_session_cache_time() {
    let app = TestApp::spawn().await;
    // a second server on the same database, with its own memory and clock
    let clock = std::sync::Arc::new(yijia_service::ManualClock::new(app.svc.now()));
    let other = yijia_service::Services::new(
        app.db.another_pool().await,
        clock.clone(),
        Settings::default(),
        std::sync::Arc::new(yijia_service::keys::Keyring::generate()),
    );
    let t = app.token("staff").await;
    let caller = other.authenticate(&t, "127.0.0.1").await.unwrap();
    assert_eq!(caller.username, "staff");
    let (s, _) = app.post(&t, "/api/v1/auth/logout", json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // this server forgot at once; the other still trusts its check of a moment ago
    assert_eq!(app.get(&t, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    assert!(other.authenticate(&t, "127.0.0.1").await.is_ok());
    clock.advance(1_000);
    assert!(other.authenticate(&t, "127.0.0.1").await.is_err(), "within a second it asks again");
}

/// Behind a proxy every client shares the proxy's address: the login limit
/// counts the address the proxy was asked from, and believes
/// `X-Forwarded-For` only from a configured proxy.
#[tokio::test]
async fn the_login_limit_counts_the_client_behind_a_trusted_proxy_only() {
    let settings = Settings { ip_attempts: 3, ..Settings::default() };
    let try_as = |app: &TestApp, from: &'static str| {
        let (c, url) = (app.client(), format!("{}/api/v1/auth/login", app.url));
        async move {
            c.post(url)
                .header("x-forwarded-for", from)
                .json(&serde_json::json!({"username": "worker1", "password": "wrong-password"}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let app = TestApp::spawn_behind_proxy(settings.clone()).await;
    for _ in 0..3 {
        assert_eq!(try_as(&app, "203.0.113.5").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(try_as(&app, "203.0.113.5").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(try_as(&app, "203.0.113.6").await, StatusCode::UNAUTHORIZED, "another client, its own bucket");
    // a client cannot escape by writing addresses to the left
    assert_eq!(try_as(&app, "198.51.100.1, 203.0.113.5").await, StatusCode::TOO_MANY_REQUESTS);
    // without a configured proxy the header is not believed
    let app = TestApp::spawn_with(settings).await;
    for from in ["203.0.113.7", "203.0.113.8", "203.0.113.9"] {
        assert_eq!(try_as(&app, from).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(try_as(&app, "203.0.113.10").await, StatusCode::TOO_MANY_REQUESTS);
}

/// Login CSRF: a page on another site posting the login form would log the
/// browser in as the attacker.
#[tokio::test]
async fn the_login_and_join_forms_refuse_a_post_from_another_site() {
    let app = TestApp::spawn().await;
    let form = [("username", "worker1"), ("password", PASSWORD), ("next", "/")];
    for (name, value) in [("origin", "http://evil.example"), ("origin", "null"), ("sec-fetch-site", "cross-site")] {
        let r = app.browser().post(format!("{}/login", app.url)).header(name, value).form(&form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{name}: {value}");
        assert!(r.headers().get("set-cookie").is_none());
        let r = app
            .browser()
            .post(format!("{}/join", app.url))
            .header(name, value)
            .form(&[("code", "x"), ("phone", "13800000000"), ("password", "x")])
            .send()
            .await;
        assert_eq!(r.unwrap().status(), StatusCode::FORBIDDEN, "join {name}: {value}");
    }
    let own = app.url.clone();
    let r = app.browser().post(format!("{}/login", app.url)).header("origin", own).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "from its own page");
    let r = app.browser().post(format!("{}/login", app.url)).header("sec-fetch-site", "same-origin").form(&form).send();
    assert_eq!(r.await.unwrap().status(), StatusCode::SEE_OTHER);
}
