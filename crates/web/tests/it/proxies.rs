//! Family proxies (代办) over HTTP: staff link a son to his father with the
//! father's consent; the son signs up with the code, files a request and
//! votes for him, and nothing he was not allowed; staff and the father see
//! "由家属代办"; the father ends it, and a link lapses after a year unless
//! renewed.

use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::time::DAY_MS;

use crate::ballots::voting_project;
use crate::cases::ids;
use crate::helpers::TestApp;
use crate::me::{join, resident_token};
use crate::projects::neighbour;

/// Links a family member as the form does; the status and the answer.
async fn link(
    app: &TestApp,
    token: &str,
    resident: i64,
    fields: &[(&str, &str)],
    photo: Option<Vec<u8>>,
) -> (StatusCode, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    if let Some(b) = photo {
        form = form.part("consent_photo", reqwest::multipart::Part::bytes(b).file_name("consent.jpg"));
    }
    let url = format!("{}/api/v1/residents/{resident}/proxies", app.url);
    let r = app.client().post(url).bearer_auth(token).multipart(form).send().await.unwrap();
    let st = r.status();
    (st, r.json::<Value>().await.unwrap_or(Value::Null))
}

fn field(v: &Value) -> Option<&str> {
    v["error"]["field"].as_str()
}

#[tokio::test]
async fn a_son_acts_for_his_father_within_what_he_allowed_and_everyone_sees_it() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let worker = app.token("worker1").await;
    let other_grid = app.token("worker2").await;
    let (father, building, father_token) = neighbour(&app, &staff, "张大爷", "13812345678", "101").await;
    let son_phone = "13600001111";
    let base = [("family_name", "张小明"), ("phone", son_phone), ("relation", "儿子"), ("acts", "requests,vote")];

    // what the form must carry, each refused by name
    let with = |extra: &[(&'static str, &'static str)]| [&base[..], extra].concat();
    let (st, v) = link(&app, &worker, father, &with(&[("consent", "paper")]), None).await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some("consent_photo")), "{v}");
    let (st, v) = link(&app, &worker, father, &with(&[("consent", "by_phone")]), None).await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some("consent")), "{v}");
    let no_acts = [("family_name", "张小明"), ("phone", son_phone), ("relation", "儿子"), ("consent", "in_person")];
    let (st, v) = link(&app, &worker, father, &no_acts, None).await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some("acts")), "{v}");
    let bad_phone = [
        ("family_name", "张小明"),
        ("phone", "0431-1234"),
        ("relation", "儿子"),
        ("acts", "vote"),
        ("consent", "in_person"),
    ];
    let (st, v) = link(&app, &worker, father, &bad_phone, None).await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some("phone")), "{v}");
    // another grid's worker cannot link him, and the denial is audited
    let (st, _) = link(&app, &other_grid, father, &with(&[("consent", "in_person")]), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(app.audit().await.iter().any(|(a, o, _)| a == "proxy_link" && o == "denied"));

    // his signed consent, photographed: a code for the son to sign up with
    let form = yijia_service::photos::sample_jpeg_with_gps(64, 48);
    let (st, p) = link(&app, &worker, father, &with(&[("consent", "paper")]), Some(form)).await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    assert_eq!((p["joined"].as_bool(), p["acts"].clone()), (Some(false), json!(["requests", "vote"])), "{p}");
    let code = p["code"].as_str().unwrap().to_owned();
    let proxy = p["id"].as_i64().unwrap();
    // the code is shown once: the list never carries it
    let (_, list) = app.get(&worker, &format!("/api/v1/residents/{father}/proxies")).await;
    assert!(list["proxies"][0]["code"].is_null() && list["proxies"][0]["consent_photo"] == true, "{list}");

    // the son signs up with his own number only
    let (st, v) = join(&app, &code, "13600002222").await;
    assert_eq!((st, field(&v)), (StatusCode::UNPROCESSABLE_ENTITY, Some("phone")), "{v}");
    let (st, v) = join(&app, &code, son_phone).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let son = resident_token(&app, son_phone).await;

    // he files a request for his father: staff see who did
    let body = json!({"category": "repair", "description": "父亲家水管漏水", "building_id": building});
    let (st, k) = app.post(&son, "/api/v1/cases", body).await;
    assert_eq!(st, StatusCode::CREATED, "{k}");
    let (_, seen) = app.get(&staff, &format!("/api/v1/cases/{}", k["id"])).await;
    assert!(seen.to_string().contains("张大爷(由家属张小明代办)"), "{seen}");
    // the father has it among his own requests, and the son follows the father's own
    let (st, own) =
        app.post(&father_token, "/api/v1/cases", json!({"category": "repair", "description": "门铃坏了"})).await;
    assert_eq!(st, StatusCode::CREATED, "{own}");
    let (_, his) = app.get(&father_token, "/api/v1/cases").await;
    assert_eq!(ids(&his), [own["id"].as_i64().unwrap(), k["id"].as_i64().unwrap()], "{his}");
    let (st, v) = app.get(&father_token, &format!("/api/v1/cases/{}", k["id"])).await;
    assert_eq!((st, v["reporter_name"].as_str()), (StatusCode::OK, Some("张大爷(由家属张小明代办)")), "{v}");
    let (_, sons) = app.get(&son, "/api/v1/cases").await;
    assert_eq!(ids(&sons), ids(&his), "{sons}");
    let (st, _) = app.get(&son, &format!("/api/v1/cases/{}", own["id"])).await;
    assert_eq!(st, StatusCode::OK);
    // and votes for him: it counts as a proxy vote, once
    let id = voting_project(&app, building, 1).await;
    let (st, v) = app.post(&son, &format!("/api/v1/me/projects/{id}/vote"), json!({"accept": true})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["by_channel"], json!({"phone": 0, "proxy": 1, "paper": 0}), "{v}");
    let (st, v) = app.post(&father_token, &format!("/api/v1/me/projects/{id}/vote"), json!({"accept": false})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("张小明"), "his father is told who voted: {v}");
    let (_, mine) = app.get(&father_token, "/api/v1/me/projects").await;
    let p = mine.as_array().unwrap().iter().find(|p| p["id"] == id).unwrap();
    assert_eq!(
        (&p["my_vote"], &p["my_vote_by"]),
        (&json!(true), &json!({"channel": "proxy", "recorded_by": "张小明"}))
    );
    // what the father did not allow stays closed: his points
    let (st, v) = app.get(&son, "/api/v1/me/points").await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("没有授权"), "{v}");
    assert!(app.audit().await.iter().any(|(a, o, _)| a == "proxy_beyond" && o == "denied"), "and it is logged");
    // the log says a family member did it, for whom
    let mut tx = app.db.db.read().await.unwrap();
    let log = yijia_store::audit::chunk(&mut tx, 0, 100_000).await.unwrap();
    drop(tx);
    let vote = log.iter().find(|e| e.action == "project_vote").unwrap();
    assert!(vote.detail.contains(&format!("\"proxy_for\":{father}")), "{vote:?}");

    // the father sees the link, and ends it; the son acts for nobody then
    let (_, mine) = app.get(&father_token, "/api/v1/me/proxies").await;
    assert_eq!(mine[0]["family_name"], "张小明", "{mine}");
    let (st, v) = app.post(&son, &format!("/api/v1/proxies/{proxy}/renew"), json!({})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "only staff renew: {v}");
    let (st, v) =
        app.post(&father_token, &format!("/api/v1/proxies/{proxy}/end"), json!({"reason": "我自己能办"})).await;
    assert_eq!((st, v["live"].as_bool()), (StatusCode::OK, Some(false)), "{v}");
    let body = json!({"category": "repair", "description": "再报一件", "building_id": building});
    let filed_as = |token: String| {
        let (app, body) = (&app, body.clone());
        async move {
            let (st, k) = app.post(&token, "/api/v1/cases", body).await;
            assert_eq!(st, StatusCode::CREATED, "{k}");
            k["reporter_name"].as_str().unwrap().to_owned()
        }
    };
    let (st, _) = app.post(&son, "/api/v1/cases", body.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "ended: his account reaches nothing of the community");
    let (st, _) = app.get(&son, &format!("/api/v1/cases/{}", own["id"])).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "nor his father's requests");
    assert!(
        app.audit().await.iter().any(|(a, o, obj)| a == "proxy_end" && o == "ok" && *obj == format!("proxy:{proxy}"))
    );

    // linked again (in person this time), the link lapses after a year unless renewed
    let (st, p) = link(&app, &worker, father, &with(&[("consent", "in_person")]), None).await;
    assert_eq!((st, p["joined"].as_bool()), (StatusCode::CREATED, Some(true)), "his account is linked at once: {p}");
    let again = p["id"].as_i64().unwrap();
    let son = resident_token(&app, son_phone).await;
    assert_eq!(filed_as(son).await, "张大爷(由家属张小明代办)");
    app.clock.advance(300 * DAY_MS);
    let worker = app.token("worker1").await;
    let (st, v) = app.post(&worker, &format!("/api/v1/proxies/{again}/renew"), json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    app.clock.advance(300 * DAY_MS);
    let son = resident_token(&app, son_phone).await;
    assert_eq!(filed_as(son).await, "张大爷(由家属张小明代办)", "renewed: still live");
    app.clock.advance(100 * DAY_MS);
    let son = resident_token(&app, son_phone).await;
    let (st, _) = app.post(&son, "/api/v1/cases", body).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "a year after renewal: lapsed");
    let worker = app.token("worker1").await;
    let (st, v) = app.post(&worker, &format!("/api/v1/proxies/{again}/renew"), json!({})).await;
    assert_eq!(st, StatusCode::CONFLICT, "a lapsed link needs consent again: {v}");
}
