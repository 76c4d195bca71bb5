//! Webhooks: case events go out signed, in order; a receiver that fails is
//! retried after a back-off, and the same event comes again.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode as AxumStatus};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

#[derive(Default)]
struct Receiver {
    /// (event, delivery, timestamp, signature, body)
    got: Vec<(String, String, String, String, String)>,
    fail_next: usize,
}

async fn receiver() -> (String, Arc<Mutex<Receiver>>) {
    let state = Arc::new(Mutex::new(Receiver { fail_next: 1, ..Default::default() }));
    let s = state.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let s = s.clone();
            async move {
                let h = |k: &str| headers.get(k).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
                let mut r = s.lock().unwrap();
                r.got.push((
                    h("x-yijia-event"),
                    h("x-yijia-delivery"),
                    h("x-yijia-timestamp"),
                    h("x-yijia-signature"),
                    body,
                ));
                if r.fail_next > 0 {
                    r.fail_next -= 1;
                    AxumStatus::SERVICE_UNAVAILABLE
                } else {
                    AxumStatus::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, state)
}

async fn run_deliveries(app: &TestApp) {
    app.svc.enqueue(yijia_service::jobs::WEBHOOKS, json!({}), None, app.svc.now()).await.unwrap();
    while app.svc.run_one_job("test").await.unwrap() {}
}

#[tokio::test]
async fn events_go_out_signed_in_order_and_failures_back_off() {
    // the receiver listens on loopback, which a deployment refuses by default
    let settings = yijia_service::Settings { webhooks_allow_private: true, ..Default::default() };
    let app = TestApp::spawn_with(settings).await;
    let (url, rx) = receiver().await;
    let secretary = app.token("secretary").await;
    let (st, e) = app.post(&secretary, "/api/v1/webhooks", json!({"scope": "chengnan", "url": "ftp://x"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (st, e) = app.post(&secretary, "/api/v1/webhooks", json!({"scope": "zhengyang", "url": url})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "the subdistrict is not the secretary's: {e}");
    let (st, hook) = app.post(&secretary, "/api/v1/webhooks", json!({"scope": "chengnan", "url": url})).await;
    assert_eq!(st, StatusCode::CREATED, "{hook}");
    let secret = hook["secret"].as_str().unwrap().to_owned();
    let worker = app.token("worker1").await;
    let (_, list) = app.get(&worker, "/api/v1/webhooks").await;
    assert_eq!(list["error"]["code"], "not_found", "grid workers do not see webhooks");

    let resident = app.token("resident").await;
    let (_, k) = app.post(&resident, "/api/v1/cases", json!({"category": "repair", "description": "门锁坏了"})).await;
    let id = k["id"].as_i64().unwrap();
    let (_, _) =
        app.post(&worker, &format!("/api/v1/cases/{id}/actions"), json!({"action": "accept", "version": 1})).await;

    // the first attempt fails: nothing is lost, the webhook backs off
    run_deliveries(&app).await;
    assert_eq!(rx.lock().unwrap().got.len(), 1);
    let (_, list) = app.get(&secretary, "/api/v1/webhooks").await;
    assert_eq!(list[0]["failures"], 1);
    assert!(list[0]["last_error"].as_str().unwrap().contains("503"));
    assert!(list[0].get("secret").is_none(), "the secret is shown once");
    run_deliveries(&app).await;
    assert_eq!(rx.lock().unwrap().got.len(), 1, "backing off: nothing sent yet");

    app.clock.advance(31_000);
    run_deliveries(&app).await;
    let got = rx.lock().unwrap().got.clone();
    let events: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
    assert_eq!(events, ["case.created", "case.created", "case.accept"], "the failed one again, then the next");
    assert_eq!(got[0].1, got[1].1, "the same delivery id when it comes again");
    for (_, _, ts, sig, body) in &got {
        assert_eq!(sig, &yijia_service::webhooks::signature(&secret, ts, body).unwrap());
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["case"], id);
        assert!(!body.contains("门锁") && !body.contains("张大爷"), "no personal data: {body}");
    }
    let secretary = app.token("secretary").await;
    let (_, list) = app.get(&secretary, "/api/v1/webhooks").await;
    assert_eq!(list[0]["failures"], 0);

    // disabled: nothing more goes out
    let hook_id = list[0]["id"].as_i64().unwrap();
    let (st, _) = app.post(&secretary, &format!("/api/v1/webhooks/{hook_id}/disable"), json!({})).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, _) = app.post(&resident, "/api/v1/cases", json!({"category": "repair", "description": "又坏了"})).await;
    run_deliveries(&app).await;
    assert_eq!(rx.lock().unwrap().got.len(), 3);
}

/// The probe pointed a webhook at loopback and private addresses: by
/// default refused, when added and again when sending.
#[tokio::test]
async fn a_webhook_may_not_reach_into_the_servers_network() {
    let app = TestApp::spawn().await;
    let (url, rx) = receiver().await;
    let secretary = app.token("secretary").await;
    for bad in [url.as_str(), "http://localhost:9/x", "http://10.0.0.8/x", "http://169.254.169.254/latest/meta-data"] {
        let (st, e) = app.post(&secretary, "/api/v1/webhooks", json!({"scope": "chengnan", "url": bad})).await;
        assert_eq!((st, e["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("url")), "{bad}: {e}");
    }
    let _ = rx;
}
