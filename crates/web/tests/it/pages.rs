use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp};

async fn login(app: &TestApp, username: &str) -> reqwest::Client {
    app.browser_as(username).await
}

async fn page(b: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let r = b.get(format!("{}{path}", app.url)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn the_login_page_logs_in_and_says_what_went_wrong() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    let r = b.get(format!("{}/", app.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2F");
    let (s, html) = page(&b, &app, "/login").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("登录驿家") && html.contains("name=\"password\""));
    let r = b
        .post(format!("{}/login", app.url))
        .form(&[("username", "secretary"), ("password", "wrong-password"), ("next", "https://evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let html = r.text().await.unwrap();
    assert!(html.contains("用户名或密码不正确"));
    assert!(!html.contains("evil.example"), "an outside next is dropped");
    let r = b
        .post(format!("{}/login", app.url))
        .form(&[("username", "secretary"), ("password", PASSWORD), ("next", "/org")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/org");
}

#[tokio::test]
async fn each_role_gets_a_home_page_that_links_only_to_what_it_may_open() {
    let app = TestApp::spawn().await;
    for (user, name, may, may_not) in [
        ("secretary", "王小红", vec!["/org", "/residents", "/users", "/audit"], vec![]),
        ("admin", "系统管理员", vec!["/org", "/users", "/audit"], vec!["/residents"]),
        ("officer", "赵街道", vec!["/org", "/residents", "/audit"], vec!["/users"]),
        ("worker1", "李网格", vec!["/org", "/residents"], vec!["/users", "/audit"]),
        ("clerk", "孙站长", vec!["/org", "/residents"], vec!["/users", "/audit"]),
        ("staff", "刘社工", vec!["/org", "/residents"], vec!["/users", "/audit"]),
        ("resident", "张大爷", vec![], vec!["/org", "/residents", "/users", "/audit"]),
    ] {
        let b = login(&app, user).await;
        let (s, html) = page(&b, &app, "/").await;
        assert_eq!(s, StatusCode::OK, "{user}");
        assert!(html.contains(name), "{user}");
        for p in may {
            assert!(html.contains(&format!("href=\"{p}\"")), "{user} should see {p}");
            assert_eq!(page(&b, &app, p).await.0, StatusCode::OK, "{user} opens {p}");
        }
        for p in may_not {
            assert!(!html.contains(&format!("href=\"{p}\"")), "{user} should not see {p}");
            assert_eq!(page(&b, &app, p).await.0, StatusCode::NOT_FOUND, "{user} opens {p}");
        }
    }
}

#[tokio::test]
async fn pages_show_the_tree_users_and_audit_log() {
    let app = TestApp::spawn().await;
    let b = login(&app, "secretary").await;
    let (_, html) = page(&b, &app, "/org").await;
    assert!(html.contains("城南社区") && html.contains("第6网格"));
    let (_, html) = page(&b, &app, "/org/chengnan-g03").await;
    assert!(html.contains("<svg") && html.contains("grid-shape"), "the grid is drawn from its boundary");
    // codes are for those who edit the tree; a grid worker reads names
    let w = login(&app, "worker1").await;
    for path in ["/org", "/org/chengnan-g01"] {
        let (_, html) = page(&w, &app, path).await;
        assert!(html.contains("第1网格") && !html.contains("<code>"), "{path}: {html}");
    }
    let (_, html) = page(&b, &app, "/users").await;
    assert!(html.contains("worker1") && !html.contains("officer"));
    let (_, html) = page(&b, &app, "/audit").await;
    assert!(html.contains("login"));

    // add a user through the form (the CSRF token is on the page)
    let csrf = html.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let r = b
        .post(format!("{}/users", app.url))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", "worker9"),
            ("display_name", "钱网格"),
            ("password", "short"),
            ("role", "grid_worker"),
            ("scope", "chengnan-g05"),
        ])
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("密码至少需要 10 个字符"), "the form says what was wrong");
    let r = b
        .post(format!("{}/users", app.url))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", "worker9"),
            ("display_name", "钱网格"),
            ("password", "stairwell-walker-5"),
            ("role", "grid_worker"),
            ("scope", "chengnan-g05"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("已新建用户 worker9"));

    // an htmx request gets just the row back
    let r = b
        .post(format!("{}/users/worker9/disable", app.url))
        .header("hx-request", "true")
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    let row = r.text().await.unwrap();
    assert!(
        row.trim_start().starts_with("<tr id=\"user-") && row.contains("worker9") && row.contains("已停用"),
        "{row}"
    );
}

#[tokio::test]
async fn english_on_request_and_readable_error_pages() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    let r = b.get(format!("{}/lang/en?next=/login", app.url)).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/login");
    let (_, html) = page(&b, &app, "/login").await;
    assert!(html.contains("Log in to yijia") && html.contains("lang=\"en\""));
    let (s, html) = page(&b, &app, "/no/such/page").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(html.contains("Not found") && html.contains("<html"));
    let r = app.client().get(format!("{}/static/htmx.min.js", app.url)).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/javascript");
}

#[tokio::test]
async fn large_text_is_one_switch_away_remembered_with_the_language_and_never_leaves_the_site() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    let (_, html) = page(&b, &app, "/login").await;
    assert!(!html.contains("class=\"large\"") && html.contains("href=\"/large/1?next=/login\""), "{html}");
    let r = b.get(format!("{}/large/1?next=/login", app.url)).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/login");
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("large=1;") && cookie.contains("Max-Age=31536000"), "{cookie}");
    b.get(format!("{}/lang/en?next=/", app.url)).send().await.unwrap();
    let (_, html) = page(&b, &app, "/login").await;
    assert!(html.contains("<html lang=\"en\" class=\"large\">"), "both choices hold: {html}");
    assert!(html.contains("href=\"/large/0?next=/login\""), "the switch turns it off: {html}");
    let r = b.get(format!("{}/large/0?next=https://evil.example/", app.url)).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/", "never to another site");
    let (_, html) = page(&b, &app, "/login").await;
    assert!(html.contains("<html lang=\"en\">"), "{html}");
}

#[tokio::test]
async fn the_vendored_charts_script_goes_gzipped_to_browsers_that_take_it() {
    let app = TestApp::spawn().await;
    let url = format!("{}/static/echarts.common.min.js", app.url);
    let r = app.client().get(&url).header("accept-encoding", "gzip, deflate, br").send().await.unwrap();
    assert_eq!((r.status(), r.headers()["content-encoding"].to_str().unwrap()), (reqwest::StatusCode::OK, "gzip"));
    let gz = r.bytes().await.unwrap();
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "gzip bytes");
    let r = app.client().get(&url).send().await.unwrap();
    assert!(r.headers().get("content-encoding").is_none());
    assert_eq!(r.headers()["content-type"], "text/javascript");
    let plain = r.bytes().await.unwrap();
    assert!(plain.len() > 2 * gz.len() && plain.windows(7).any(|w| w == b"echarts"), "unpacked for the others");
}
