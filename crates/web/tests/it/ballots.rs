//! Votes for residents without a phone: the grid worker's ballot of a
//! building, paper votes recorded with a slip's photo or a witness, one
//! vote a resident whatever the channel, totals by channel, and the
//! quorum counting them all.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, csrf_of};
use crate::projects::neighbour;

/// A project on `building` with its work finished and the vote open.
pub(crate) async fn voting_project(app: &TestApp, building: i64, quorum: i64) -> i64 {
    let secretary = app.token("secretary").await;
    let officer = app.token("officer").await;
    let body = json!({"title": "8号楼屋面防水", "buildings": [building], "quorum": quorum});
    let (st, p) = app.post(&secretary, "/api/v1/projects", body).await;
    assert_eq!(st, StatusCode::CREATED, "{p}");
    let id = p["id"].as_i64().unwrap();
    let url = |s: &str| format!("/api/v1/projects/{id}{s}");
    app.post(&secretary, &url("/budget"), json!({"name": "屋面", "amount": 1_000_000})).await;
    let (_, p) = app.post(&secretary, &url("/fundings"), json!({"source": "subdistrict", "asked": 1_000_000})).await;
    let funding = p["fundings"][0]["id"].as_i64().unwrap();
    app.post(&officer, &format!("/api/v1/fundings/{funding}/decision"), json!({"approve": true})).await;
    let (st, p) = app.post(&secretary, &url("/stage"), json!({"to": "working"})).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let (st, p) = app.post(&secretary, &url("/stage"), json!({"to": "voting"})).await;
    assert_eq!((st, p["stage"].as_str()), (StatusCode::OK, Some("voting")), "{p}");
    id
}

/// A resident of 8号楼 in grid 1 with no account and no phone.
async fn without_phone(app: &TestApp, staff: &str, name: &str, door: &str) -> i64 {
    let id_number = if door == "201" { json!("110101194501010019") } else { Value::Null };
    let body = json!({"name": name, "grid": "chengnan-g01", "relation": "户主", "residence": "permanent",
        "id_number": id_number,
        "household": {"estate": "丁香花园三期", "building": "8号楼", "entrance": "1单元", "door": door}});
    let (st, r) = app.post(staff, "/api/v1/residents", body).await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    r["id"].as_i64().unwrap()
}

/// A paper vote as a multipart form: the resident, `true`/`false`, a witness (or none), a slip (or none).
async fn paper(
    app: &TestApp,
    token: &str,
    project: i64,
    vote: (i64, &str, &str),
    slip: Option<Vec<u8>>,
) -> (StatusCode, Value) {
    let (resident, accept, witness) = vote;
    let fields =
        [("resident_id", resident.to_string()), ("accept", accept.to_owned()), ("witness", witness.to_owned())];
    multipart(app, token, &format!("/api/v1/projects/{project}/paper-votes"), &fields, slip).await
}

/// Posts a form with text fields and, maybe, a slip's photo.
async fn multipart(
    app: &TestApp,
    token: &str,
    path: &str,
    fields: &[(&str, String)],
    slip: Option<Vec<u8>>,
) -> (StatusCode, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.clone());
    }
    if let Some(b) = slip {
        form = form.part("slip", reqwest::multipart::Part::bytes(b).file_name("slip.jpg"));
    }
    let r = app.client().post(format!("{}{path}", app.url)).bearer_auth(token).multipart(form).send().await.unwrap();
    let st = r.status();
    (st, r.json::<Value>().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_worker_records_paper_votes_once_each_and_the_quorum_counts_every_channel() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let worker = app.token("worker1").await;
    let other_grid = app.token("worker2").await;
    let secretary = app.token("secretary").await;
    let (zhang_id, building, zhang) = neighbour(&app, &staff, "张大爷", "13812345678", "101").await;
    let (li_id, _, li) = neighbour(&app, &staff, "李奶奶", "13912345678", "102").await;
    let liu = without_phone(&app, &staff, "刘奶奶", "201").await;
    let id = voting_project(&app, building, 3).await;

    // the ballot: names door by door, no ID numbers, audited
    let (st, b) = app.get(&worker, &format!("/api/v1/projects/{id}/ballots/{building}")).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let names: Vec<&str> = b["doors"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["people"].as_array().unwrap())
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["张大爷", "李奶奶", "刘奶奶"], "{b}");
    assert!(!b.to_string().contains("110101"), "no ID numbers on a ballot: {b}");
    assert!(
        app.audit()
            .await
            .iter()
            .any(|(a, o, obj)| a == "project_ballot" && o == "ok" && *obj == format!("project:{id}"))
    );
    // another grid's worker reaches neither the ballot nor the vote, and the denial is audited
    let (st, _) = app.get(&other_grid, &format!("/api/v1/projects/{id}/ballots/{building}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = paper(&app, &other_grid, id, (liu, "true", "邻居"), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let denied = app.audit().await;
    assert!(denied.iter().any(|(a, o, _)| a == "project_ballot" && o == "denied"), "{denied:?}");
    assert!(denied.iter().any(|(a, o, _)| a == "project_vote_record" && o == "denied"), "{denied:?}");

    // neither slip nor witness: refused by name, nothing kept
    let (st, v) = paper(&app, &worker, id, (liu, "true", ""), None).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("witness")), "{v}");
    let (st, v) = paper(&app, &worker, id, (liu, "maybe", "邻居"), None).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("accept")), "{v}");
    let (st, v) = paper(&app, &worker, id, (liu, "true", ""), Some(b"not a photo".to_vec())).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("photo")), "{v}");
    let (_, p) = app.get(&secretary, &format!("/api/v1/projects/{id}")).await;
    assert_eq!(p["votes"]["by_channel"], json!({"phone": 0, "proxy": 0, "paper": 0}), "{p}");

    // 刘奶奶's signed slip, photographed
    let slip = yijia_service::photos::sample_jpeg_with_gps(64, 48);
    let (st, v) = paper(&app, &worker, id, (liu, "true", ""), Some(slip)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!((v["accept"].as_i64(), v["by_channel"]["paper"].as_i64()), (Some(1), Some(1)), "{v}");
    // and only once
    let (st, v) = paper(&app, &worker, id, (liu, "false", "女儿"), None).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("已经记下"), "{v}");

    // 张大爷 voted at the door before a witness; his phone is then told his vote is in
    let (st, _) = paper(&app, &worker, id, (zhang_id, "false", "邻居王阿姨"), None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = app.post(&zhang, &format!("/api/v1/me/projects/{id}/vote"), json!({"accept": true})).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(msg.contains("已经记下") && msg.contains("李网格"), "{msg}");
    // 李奶奶 voted on her phone; the worker's paper vote for her is refused
    let (st, _) = app.post(&li, &format!("/api/v1/me/projects/{id}/vote"), json!({"accept": true})).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = paper(&app, &worker, id, (li_id, "true", "邻居"), None).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("手机"), "{v}");

    // the totals by channel, the ballot showing who voted how
    let (_, p) = app.get(&secretary, &format!("/api/v1/projects/{id}")).await;
    assert_eq!(p["votes"]["by_channel"], json!({"phone": 1, "proxy": 0, "paper": 2}), "{p}");
    let (_, b) = app.get(&worker, &format!("/api/v1/projects/{id}/ballots/{building}")).await;
    let liu_line = &b["doors"][2]["people"][0];
    assert_eq!(
        (
            liu_line["vote"]["channel"].as_str(),
            liu_line["vote"]["recorded_by"].as_str(),
            liu_line["vote"]["slip"].as_bool()
        ),
        (Some("paper"), Some("李网格"), Some(true)),
        "{b}"
    );
    // the slip photo, cleaned of its GPS, to staff over the grid only
    let r = app.fetch(&secretary, &format!("/api/v1/projects/{id}/votes/{liu}/slip")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(&[0xff, 0xd8]) && !bytes.windows(4).any(|w| w == b"GPS\0"), "a cleaned JPEG");
    let r = app.fetch(&other_grid, &format!("/api/v1/projects/{id}/votes/{liu}/slip")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app.fetch(&secretary, &format!("/api/v1/projects/{id}/votes/{zhang_id}/slip")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "a witnessed vote has no slip");

    // every vote recorded is audited with the resident it was for
    let recorded = app.audit().await.into_iter().filter(|(a, o, _)| a == "project_vote_record" && o == "ok").count();
    assert_eq!(recorded, 2);

    // three votes of three channels meet the quorum of three: 2 accept, 1 not
    let (st, p) = app.post(&secretary, &format!("/api/v1/projects/{id}/count-votes"), json!({})).await;
    assert_eq!((st, p["stage"].as_str()), (StatusCode::OK, Some("accepted")), "{p}");
    // recorded after the vote closed: refused
    let late = without_phone(&app, &staff, "赵爷爷", "202").await;
    let (st, _) = paper(&app, &worker, id, (late, "true", "邻居"), None).await;
    assert_eq!(st, StatusCode::CONFLICT);
}

#[tokio::test]
async fn pledge_votes_and_verdicts_on_paper_count_once_within_the_limit() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let worker = app.token("worker1").await;
    let secretary = app.token("secretary").await;
    let (zhang_id, _, zhang) = neighbour(&app, &staff, "张大爷", "13812345678", "101").await;
    let liu = without_phone(&app, &staff, "刘奶奶", "201").await;
    app.post(&secretary, "/api/v1/pledges/years", json!({"year": 2026, "votes_per_resident": 1})).await;
    let mut ids = Vec::new();
    for title in ["楼道装扶手", "老年食堂"] {
        let (_, p) = app.post(&staff, "/api/v1/pledges", json!({"title": title})).await;
        let id = p["id"].as_i64().unwrap();
        app.post(&secretary, &format!("/api/v1/pledges/{id}/shortlist"), json!({"shortlisted": true})).await;
        ids.push(id);
    }
    let (rails, canteen) = (ids[0], ids[1]);
    let vote = |id: i64, resident: i64, witness: &str| {
        let fields = [("resident_id", resident.to_string()), ("witness", witness.to_owned())];
        let (app, worker) = (&app, worker.clone());
        async move { multipart(app, &worker, &format!("/api/v1/pledges/{id}/paper-votes"), &fields, None).await }
    };
    // not while proposals are still coming in
    assert_eq!(vote(rails, liu, "邻居").await.0, StatusCode::CONFLICT);
    let (st, y) = app.post(&secretary, "/api/v1/pledges/years/2026/advance", json!({})).await;
    assert_eq!((st, y["phase"].as_str()), (StatusCode::OK, Some("voting")), "{y}");

    // 刘奶奶's one vote, at the door before a witness; a second is beyond her limit
    let (st, v) = vote(rails, liu, "").await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("witness")), "{v}");
    let (st, p) = vote(rails, liu, "邻居王阿姨").await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["votes_by_channel"], json!({"phone": 0, "proxy": 0, "paper": 1}), "{p}");
    let (st, v) = vote(canteen, liu, "邻居王阿姨").await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("这位居民的票已用完"), "{v}");
    // 张大爷 voted on his phone: his paper vote for the same is refused
    let (st, _) = app.post(&zhang, &format!("/api/v1/me/pledges/{rails}/vote"), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = vote(rails, zhang_id, "邻居").await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let (_, y) = app.get(&secretary, "/api/v1/pledges").await;
    let p = y["pledges"].as_array().unwrap().iter().find(|p| p["id"] == rails).unwrap().clone();
    assert_eq!(
        (p["votes"].as_i64(), p["votes_by_channel"].clone()),
        (Some(2), json!({"phone": 1, "proxy": 0, "paper": 1}))
    );

    // at the year's end her verdict, with the signed slip photographed
    app.post(&secretary, "/api/v1/pledges/years/2026/advance", json!({"commit": 1})).await;
    let (st, y) = app.post(&secretary, "/api/v1/pledges/years/2026/advance", json!({})).await;
    assert_eq!((st, y["phase"].as_str()), (StatusCode::OK, Some("judging")), "{y}");
    let verdict = |satisfaction: &str| {
        let fields =
            [("resident_id", liu.to_string()), ("kept", "true".to_owned()), ("satisfaction", satisfaction.to_owned())];
        let (app, worker) = (&app, worker.clone());
        let slip = yijia_service::photos::sample_jpeg_with_gps(64, 48);
        async move { multipart(app, &worker, &format!("/api/v1/pledges/{rails}/paper-verdicts"), &fields, Some(slip)).await }
    };
    let (st, v) = verdict("9").await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("satisfaction")), "{v}");
    let (st, p) = verdict("5").await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["verdict"]["judged_by_channel"]["paper"], 1, "{p}");
    assert_eq!(verdict("4").await.0, StatusCode::CONFLICT, "once");
    // 张大爷's verdict given at the door: his own page says who recorded it, his phone vote says nothing
    let fields = [
        ("resident_id", zhang_id.to_string()),
        ("kept", "false".to_owned()),
        ("satisfaction", "2".to_owned()),
        ("witness", "邻居".to_owned()),
    ];
    let (st, v) = multipart(&app, &worker, &format!("/api/v1/pledges/{rails}/paper-verdicts"), &fields, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, y) = app.get(&zhang, "/api/v1/me/pledges").await;
    let p = y["pledges"].as_array().unwrap().iter().find(|p| p["id"] == rails).unwrap().clone();
    assert_eq!((&p["my_vote"], &p["my_vote_by"]), (&json!(true), &Value::Null), "{p}");
    assert_eq!(p["my_verdict_by"], json!({"channel": "paper", "recorded_by": "李网格"}), "{p}");
    let log = app.audit().await;
    assert_eq!(log.iter().filter(|(a, o, _)| a == "pledge_vote_record" && o == "ok").count(), 1);
    assert_eq!(log.iter().filter(|(a, o, _)| a == "pledge_verdict_record" && o == "ok").count(), 2);
}

#[tokio::test]
async fn a_worker_carries_a_pledge_ballot_and_records_a_slip_of_choices_at_once() {
    let app = TestApp::spawn().await;
    let staff = app.token("staff").await;
    let worker = app.token("worker1").await;
    let secretary = app.token("secretary").await;
    let (zhang_id, building, zhang) = neighbour(&app, &staff, "张大爷", "13812345678", "101").await;
    let liu = without_phone(&app, &staff, "刘奶奶", "201").await;
    app.post(&secretary, "/api/v1/pledges/years", json!({"year": 2026, "votes_per_resident": 2})).await;
    let mut ids = Vec::new();
    for title in ["楼道装扶手", "老年食堂", "加装电梯"] {
        let (_, p) = app.post(&staff, "/api/v1/pledges", json!({"title": title})).await;
        let id = p["id"].as_i64().unwrap();
        app.post(&secretary, &format!("/api/v1/pledges/{id}/shortlist"), json!({"shortlisted": true})).await;
        ids.push(id);
    }
    app.post(&secretary, "/api/v1/pledges/years/2026/advance", json!({})).await;
    app.post(&zhang, &format!("/api/v1/me/pledges/{}/vote", ids[1]), json!({})).await;

    // the ballot: the shortlist numbered as printed, the doors with names only
    let (st, b) = app.get(&worker, &format!("/api/v1/pledges/ballots/{building}")).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    let titles: Vec<_> =
        b["choices"].as_array().unwrap().iter().map(|c| (c["no"].clone(), c["title"].clone())).collect();
    assert_eq!(titles, [(json!(1), json!("楼道装扶手")), (json!(2), json!("老年食堂")), (json!(3), json!("加装电梯"))]);
    assert!(!b.to_string().contains("110101194501010019"), "no ID numbers on a ballot");
    let line = |b: &Value, id: i64| {
        let doors = b["doors"].as_array().unwrap();
        doors.iter().flat_map(|d| d["people"].as_array().unwrap().clone()).find(|p| p["resident_id"] == id).unwrap()
    };
    assert_eq!(line(&b, zhang_id)["casts"][0]["no"], 2, "{b}");
    assert_eq!((line(&b, zhang_id)["left"].as_i64(), line(&b, liu)["left"].as_i64()), (Some(1), Some(2)));
    // another grid's worker has no ballot here, and the denial is audited
    let (st, _) = app.get(&app.token("worker2").await, &format!("/api/v1/pledges/ballots/{building}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(app.audit().await.iter().any(|(a, o, _)| a == "pledge_ballot" && o == "denied"));

    // on the page: 刘奶奶's slip, two choices ticked, recorded at once
    let page = app.browser_as("worker1").await;
    let url = format!("{}/pledges/ballots/{building}", app.url);
    let html = page.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("刘奶奶") && html.contains("加装电梯"), "{html}");
    let form = |chosen: &[i64]| {
        let mut f = reqwest::multipart::Form::new()
            .text("_csrf", csrf_of(&html))
            .text("resident_id", liu.to_string())
            .text("witness", "")
            .part(
                "slip",
                reqwest::multipart::Part::bytes(yijia_service::photos::sample_jpeg_with_gps(64, 48)).file_name("s.jpg"),
            );
        for p in chosen {
            f = f.text("pledge", p.to_string());
        }
        f
    };
    // three ticks for two votes: refused whole, nothing kept
    let r = page.post(&url).multipart(form(&ids)).send().await.unwrap();
    let (st, text) = (r.status(), r.text().await.unwrap());
    assert!(st.is_client_error() && text.contains("票已用完"), "{st} {text}");
    assert_eq!(line(&app.get(&worker, &format!("/api/v1/pledges/ballots/{building}")).await.1, liu)["left"], 2);
    let r = page.post(&url).multipart(form(&[ids[0], ids[2]])).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, b) = app.get(&worker, &format!("/api/v1/pledges/ballots/{building}")).await;
    let nos: Vec<_> = line(&b, liu)["casts"].as_array().unwrap().iter().map(|c| c["no"].as_i64().unwrap()).collect();
    assert_eq!((nos, line(&b, liu)["left"].as_i64()), (vec![1, 3], Some(0)), "{b}");
    assert_eq!(line(&b, liu)["casts"][0]["slip"], true);
    let (_, y) = app.get(&secretary, "/api/v1/pledges").await;
    let paper: i64 =
        y["pledges"].as_array().unwrap().iter().map(|p| p["votes_by_channel"]["paper"].as_i64().unwrap()).sum();
    assert_eq!(paper, 2);
    // the pledges page offers the ballot of each building in her grids
    let html = page.get(format!("{}/pledges", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("href=\"/pledges/ballots/{building}\"")), "{html}");
}
