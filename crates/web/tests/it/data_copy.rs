//! A copy of everything held about a person: the resident asks on his
//! phone and gets his record in full, categories, history, visits (without
//! the sealed notes), requests, points, votes and who looked at his record
//! and why, as JSON, a page and a workbook, and nothing about anyone else;
//! staff make one for him only with a reason, which he then sees.

use chrono::NaiveDate;
use reqwest::StatusCode;
use serde_json::{Value, json};
use yijia_domain::id_number::{IdNumber, Sex};

use crate::helpers::{TestApp, csrf_of, sheets};

fn id_number(serial: u16, sex: Sex) -> String {
    IdNumber::from_parts("220182", NaiveDate::from_ymd_opt(1945, 3, 2).unwrap(), serial, sex)
        .unwrap()
        .as_str()
        .to_owned()
}

fn person(name: &str, id: &str, phone: &str, door: &str) -> Value {
    json!({
        "name": name, "grid": "chengnan-g01", "id_number": id, "phone": phone,
        "household": {"estate": "丁香花园三期", "building": "8号楼", "entrance": "2单元", "door": door},
        "relation": "户主", "residence": "permanent",
        "categories": [{"category": "elderly_alone"}, {"category": "disabled", "details": {"kind": "肢体", "grade": "二级"}}]
    })
}

#[tokio::test]
async fn a_resident_gets_everything_held_about_him_and_nothing_about_anyone_else() {
    let app = TestApp::spawn().await;
    let (staff, worker, secretary) =
        (app.token("staff").await, app.token("worker1").await, app.token("secretary").await);
    let (zhang_id, li_id) = (id_number(517, Sex::Male), id_number(628, Sex::Female));
    let (st, v) = app.post(&staff, "/api/v1/residents", person("张守义", &zhang_id, "13912345678", "502")).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let zhang = v["id"].as_i64().unwrap();
    let (st, v) = app.post(&staff, "/api/v1/residents", person("李桂兰", &li_id, "13987650000", "503")).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let li = v["id"].as_i64().unwrap();
    let (_, token) = crate::me::link(&app, zhang, "13912345678").await;
    // a visit each, his request, his points
    for (k, who) in [(1, zhang), (2, li)] {
        let body =
            json!({"client_id": format!("copy-visit-000{k}"), "resident_id": who, "notes": format!("密封备注{k}")});
        let (st, v) = app.post(&worker, "/api/v1/visits", body).await;
        assert!(st.is_success(), "{v}");
    }
    // a visit to his door that names nobody is not about him
    let household = app.get(&staff, &format!("/api/v1/residents/{zhang}")).await.1["address"]["household_id"].clone();
    let body = json!({"client_id": "copy-visit-door", "household_id": household});
    let (st, v) = app.post(&worker, "/api/v1/visits", body).await;
    assert!(st.is_success(), "{v}");
    let (st, k) = app.post(&token, "/api/v1/cases", json!({"category": "repair", "description": "厨房水管滴水"})).await;
    assert_eq!(st, StatusCode::CREATED, "{k}");
    crate::shop::award(&app, &staff, zhang, 30).await;
    crate::shop::award(&app, &staff, li, 40).await;
    // the secretary reads his record and shows his phone, with a reason
    app.get(&secretary, &format!("/api/v1/residents/{zhang}")).await;
    let body = json!({"field": "phone", "reason": "核实高龄津贴联系方式"});
    assert_eq!(app.post(&secretary, &format!("/api/v1/residents/{zhang}/unmask"), body).await.0, StatusCode::OK);

    let (st, copy) = app.get(&token, "/api/v1/me/data-copy").await;
    assert_eq!(st, StatusCode::OK, "{copy}");
    let r = &copy["record"];
    assert_eq!(
        (r["name"].as_str(), r["id_number"].as_str(), r["phone"].as_str()),
        (Some("张守义"), Some(zhang_id.as_str()), Some("13912345678")),
        "in full: {r}"
    );
    assert_eq!(copy["category_details"]["disabled"]["grade"], "二级");
    assert!(!copy["category_history"].as_array().unwrap().is_empty(), "{copy}");
    assert_eq!(copy["visits"].as_array().map(Vec::len), Some(1));
    assert_eq!(copy["visits"][0]["by_name"], "李网格");
    assert_eq!(copy["cases"][0]["id"], k["id"]);
    assert_eq!(copy["points"]["closing"], 30);
    let looked = copy["looked"].as_array().unwrap();
    let unmask = looked.iter().find(|l| l["action"] == "resident_unmask").unwrap_or_else(|| panic!("{copy}"));
    assert_eq!(
        (unmask["who_name"].as_str(), unmask["reason"].as_str()),
        (Some("王小红"), Some("核实高龄津贴联系方式"))
    );
    assert!(looked.iter().any(|l| l["action"] == "resident_view" && l["who_name"] == "王小红"));
    // nothing about his neighbour, no sealed notes, no logins
    let text = copy.to_string();
    for other in ["李桂兰", li_id.as_str(), "13987650000", "密封备注", "worker1", "\"staff\""] {
        assert!(!text.contains(other), "{other} is in his copy: {text}");
    }
    assert!(
        app.audit()
            .await
            .iter()
            .any(|(a, o, obj)| a == "data_copy" && o == "ok" && *obj == format!("resident:{zhang}"))
    );

    // the workbook: a sheet per part, the ID number as text
    let r = app.client().get(format!("{}/api/v1/me/data-copy.xlsx", app.url)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let book = sheets(&r.bytes().await.unwrap());
    let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["档案", "类别变动", "在册变动", "走访", "诉求", "积分", "投票", "查看记录"]);
    assert!(book[0].1.iter().any(|row| row == &["身份证号".to_owned(), zhang_id.clone()]), "{:?}", book[0].1);
    assert!(book[7].1.iter().any(|row| row.contains(&"核实高龄津贴联系方式".to_owned())), "{:?}", book[7].1);

    // staff make one for him only with a reason, in their grids; he sees it
    let url = format!("/api/v1/residents/{zhang}/data-copy");
    let (st, v) = app.post(&worker, &url, json!({"reason": " "})).await;
    assert_eq!((st, v["error"]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("reason")), "{v}");
    assert_eq!(
        app.post(&app.token("worker2").await, &url, json!({"reason": "本人申请"})).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.post(&app.token("clerk").await, &url, json!({"reason": "本人申请"})).await.0, StatusCode::NOT_FOUND);
    let (st, v) = app.post(&worker, &url, json!({"reason": "张守义本人到社区申请查阅"})).await;
    assert_eq!((st, v["record"]["id_number"].as_str()), (StatusCode::OK, Some(zhang_id.as_str())), "{v}");
    let (_, seen) = app.get(&token, "/api/v1/me/record-views").await;
    assert_eq!(
        (seen[0]["action"].as_str(), seen[0]["reason"].as_str()),
        (Some("data_copy"), Some("张守义本人到社区申请查阅")),
        "{seen}"
    );

    // his page, to print, with the workbook's link
    let b = app.browser();
    let form = [("username", "13912345678"), ("password", crate::me::PASSWORD), ("next", "/")];
    assert_eq!(b.post(format!("{}/login", app.url)).form(&form).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    let html = b.get(format!("{}/me/data", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(
        html.contains(&zhang_id) && html.contains("核实高龄津贴联系方式") && html.contains("/me/data.xlsx"),
        "{html}"
    );
    assert!(!html.contains("李桂兰"));
    assert!(html.contains("grade: 二级") && !html.contains("{&quot;"), "details in words, not JSON: {html}");
    let r = b.get(format!("{}/me/data.xlsx", app.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // the worker's form: a reason, then the page or the workbook
    let w = app.browser_as("worker1").await;
    let page = w.get(format!("{}/residents/{zhang}/data-copy", app.url)).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    let post = |reason: &'static str, format: &'static str| {
        let (w, csrf) = (w.clone(), csrf.clone());
        let url = format!("{}/residents/{zhang}/data-copy", app.url);
        async move {
            w.post(url).form(&[("_csrf", csrf.as_str()), ("reason", reason), ("format", format)]).send().await.unwrap()
        }
    };
    let r = post("", "page").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("id=\"error\""));
    let r = post("本人电话申请,打印后送上门", "page").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains(&zhang_id));
    let r = post("本人电话申请,打印后送上门", "xlsx").await;
    assert_eq!(sheets(&r.bytes().await.unwrap()).len(), 8);
}
