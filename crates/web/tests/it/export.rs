//! The roster back out: masked, scoped, stamped with who exported it.

use reqwest::StatusCode;

use crate::helpers::{TestApp, sheets};

fn has_plain(text: &str) -> bool {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(10))
        .any(|i| b[i] == b'1' && (b'3'..=b'9').contains(&b[i + 1]) && b[i + 2..i + 11].iter().all(u8::is_ascii_digit))
        || (0..b.len().saturating_sub(17)).any(|i| b[i..i + 17].iter().all(u8::is_ascii_digit))
}

async fn export(app: &TestApp, user: &str, query: &str) -> (StatusCode, Vec<u8>) {
    let t = app.token(user).await;
    let r = app.client().get(format!("{}/residents/export?{query}", app.url)).bearer_auth(&t).send().await.unwrap();
    (r.status(), r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn exports_are_masked_scoped_stamped_and_audited() {
    let app = TestApp::spawn().await;
    app.svc.fixtures().seed_demo_residents(300).await.unwrap();

    let (st, book) = export(&app, "secretary", "community=chengnan").await;
    assert_eq!(st, StatusCode::OK);
    let all = sheets(&book);
    assert_eq!(all.len(), 6, "one sheet per grid");
    let mut people = 0;
    for (name, rows) in &all {
        assert!(name.starts_with('第') && name.ends_with("网格"), "{name}");
        assert_eq!(rows[0][0], format!("城南社区{name}居民信息台账"));
        assert!(rows[1][0].contains("王小红") && rows[1][0].contains("脱敏"), "{}", rows[1][0]);
        assert_eq!(rows[2][1], "姓名");
        let last = rows.last().unwrap();
        assert_eq!(last[0], "合计");
        people += rows.len() - 4;
        for row in rows {
            assert!(!has_plain(&row.join(" ")), "{name}: {row:?}");
        }
        assert!(rows[3][3].contains("********"), "masked: {:?}", rows[3]);
    }
    assert_eq!(people, 300);

    // a grid worker gets their grid only; a clerk no ID numbers at all
    let (_, book) = export(&app, "worker1", "community=chengnan").await;
    let mine = sheets(&book);
    assert_eq!(mine.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), ["第1网格"]);
    let (_, book) = export(&app, "clerk", "community=chengnan&category=elderly_alone").await;
    for (_, rows) in sheets(&book) {
        for row in rows.iter().skip(3).take(rows.len().saturating_sub(4)) {
            assert_eq!(row[3], "", "no ID number for a clerk: {row:?}");
            assert_eq!(row[5], "", "nor a phone: {row:?}");
            assert!(row[10].contains("独居老人"), "{row:?}");
        }
    }
    let audit = app.audit().await;
    assert_eq!(audit.iter().filter(|(a, o, _)| a == "resident_export" && o == "ok").count(), 3);
    // no export of a community outside the scope: a resident cannot at all
    let (st, _) = export(&app, "resident", "community=chengnan").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_export_in_full_needs_another_persons_approval_and_is_downloaded_once() {
    use serde_json::json;
    let app = &TestApp::spawn().await;
    app.svc.fixtures().seed_demo_residents(60).await.unwrap();
    let (staff, secretary, clerk, worker) =
        (app.token("staff").await, app.token("secretary").await, app.token("clerk").await, app.token("worker1").await);
    let ask = |t: &str, reason: &str| {
        let body = json!({"community": "chengnan", "category": "elderly_alone", "reason": reason});
        let t = t.to_owned();
        async move { app.post(&t, "/api/v1/exports", body).await }
    };
    let (st, e) = ask(&staff, "要").await;
    assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")));
    assert_eq!(ask(&clerk, "报送高龄补贴名单").await.0, StatusCode::NOT_FOUND, "clerks never see ID numbers");
    assert_eq!(ask(&worker, "报送高龄补贴名单").await.0, StatusCode::NOT_FOUND, "a grid is not the community");
    let (st, r) = ask(&staff, "报送民政局高龄补贴名单").await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!(r["status"], "pending");
    let id = r["id"].as_i64().unwrap();
    let download = |t: &str| {
        let url = format!("{}/api/v1/exports/{id}/download", app.url);
        let c = app.client();
        let t = t.to_owned();
        async move {
            let r = c.get(url).bearer_auth(t).send().await.unwrap();
            (r.status(), r.bytes().await.unwrap().to_vec())
        }
    };
    assert_eq!(download(&staff).await.0, StatusCode::CONFLICT, "not approved yet");

    // staff do not approve; the secretary does, but not her own request
    let decide = |t: &str, id: i64, approve: bool| {
        let t = t.to_owned();
        async move { app.post(&t, &format!("/api/v1/exports/{id}/decision"), json!({"approve": approve})).await }
    };
    assert_eq!(decide(&staff, id, true).await.0, StatusCode::NOT_FOUND);
    let (_, own) = ask(&secretary, "核对低保名单需要电话").await;
    let own_id = own["id"].as_i64().unwrap();
    assert_eq!(decide(&secretary, own_id, true).await.0, StatusCode::FORBIDDEN);
    let (st, ok) = decide(&secretary, id, true).await;
    assert_eq!((st, ok["status"].as_str()), (StatusCode::OK, Some("approved")), "{ok}");
    assert_eq!(decide(&secretary, id, false).await.0, StatusCode::CONFLICT, "decided already");
    assert_eq!(download(&secretary).await.0, StatusCode::NOT_FOUND, "only the one who asked downloads");

    let (st, book) = download(&staff).await;
    assert_eq!(st, StatusCode::OK);
    let sheets = sheets(&book);
    let text = format!("{sheets:?}");
    assert!(has_plain(&text), "the ID numbers and phones are in full");
    assert!(text.contains("刘社工") && text.contains("王小红") && text.contains("报送民政局高龄补贴名单"), "{text}");
    assert_eq!(download(&staff).await.0, StatusCode::CONFLICT, "once only");

    let log = app.audit().await;
    for action in ["export_request", "export_approve", "resident_export"] {
        assert!(log.iter().any(|(a, o, _)| a == action && o == "ok"), "{action}: {log:?}");
    }
    // the approver's secretary's list shows both, and what she may do
    let (_, list) = app.get(&secretary, "/api/v1/exports").await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|r| r["can_download"] == false));
}
