//! The roster back out: masked, scoped, stamped with who exported it.

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use reqwest::StatusCode;

use crate::helpers::TestApp;

fn sheets(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    let mut wb: Xlsx<_> = open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    wb.sheet_names()
        .into_iter()
        .map(|name| {
            let range = wb.worksheet_range(&name).unwrap();
            let rows = range
                .rows()
                .map(|r| {
                    r.iter()
                        .map(|c| match c {
                            Data::Empty => String::new(),
                            c => c.to_string(),
                        })
                        .collect()
                })
                .collect();
            (name, rows)
        })
        .collect()
}

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
    app.svc.seed_demo_residents(300).await.unwrap();

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
            assert!(row[10].contains("独居老人"), "{row:?}");
        }
    }
    let audit = app.audit().await;
    assert_eq!(audit.iter().filter(|(a, o, _)| a == "resident_export" && o == "ok").count(), 3);
    // no export of a community outside the scope: a resident cannot at all
    let (st, _) = export(&app, "resident", "community=chengnan").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
