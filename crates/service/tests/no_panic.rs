//! No input reaches a panic: random and mangled input fed to the parsers
//! (boundaries, ID numbers, phones, amounts, roster cells), to the photo
//! cleaning and to the roster importer. Each answers a value or a clear
//! error; a panic fails the test. The probe closed a connection with a
//! boundary position of `[1]`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use yijia_domain::roster::{self, Cell};
use yijia_service::keys::Keyring;
use yijia_service::{ManualClock, ServiceError, Services, Settings};
use yijia_store::testing::TestDb;

/// JSON of any shape, numbers of any size: what a client may send.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        "[a-zA-Z]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::hash_map("[a-z]{1,6}", inner, 0..4).prop_map(|m| json!(m)),
        ]
    })
}

/// A geometry whose coordinates are anything at all.
fn any_geometry() -> impl Strategy<Value = String> {
    let kinds = prop_oneof![Just("Polygon"), Just("MultiPolygon"), Just("Point"), Just("LineString"), Just("Feature")];
    (kinds, any_json()).prop_map(|(kind, coordinates)| {
        if kind == "Feature" {
            json!({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": coordinates}})
                .to_string()
        } else {
            json!({"type": kind, "coordinates": coordinates}).to_string()
        }
    })
}

fn any_cell() -> impl Strategy<Value = Cell> {
    prop_oneof![
        Just(Cell::Empty),
        ".{0,40}".prop_map(Cell::Text),
        any::<f64>().prop_map(Cell::Number),
        (1i32..9999, 1u32..13, 1u32..29)
            .prop_map(|(y, m, d)| chrono::NaiveDate::from_ymd_opt(y, m, d).map_or(Cell::Empty, Cell::Date)),
    ]
}

#[test]
fn parsers_answer_every_input_without_a_panic() {
    let mut runner = TestRunner::new(Config { cases: 2_000, ..Config::default() });
    runner
        .run(&any_geometry(), |text| {
            let _ = yijia_domain::org::Boundary::parse(&text);
            Ok(())
        })
        .unwrap();
    runner
        .run(&(".{0,40}", ".{0,20}"), |(a, b)| {
            let _ = yijia_domain::id_number::IdNumber::parse(&a);
            let _ = yijia_domain::phone::Phone::parse(&a);
            let _ = yijia_domain::phone::mask_mobiles(&a);
            let _ = yijia_domain::project::Fen::parse_yuan("amount", &a);
            let _ = yijia_domain::org::Boundary::parse(&a);
            let _ = yijia_domain::roster::header_column(&b);
            Ok(())
        })
        .unwrap();
    runner
        .run(&any_cell(), |cell| {
            let _ = roster::parse_date(&cell, "birth_date");
            let _ = roster::parse_categories(&cell);
            let _ = roster::building_name(&cell);
            let _ = roster::entrance_name(&cell);
            let _ = roster::id_text(&cell);
            Ok(())
        })
        .unwrap();
}

#[test]
fn photos_answer_mangled_uploads_without_a_panic() {
    let img = image::RgbImage::from_fn(48, 32, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut samples = vec![yijia_service::photos::sample_jpeg_with_gps(48, 32)];
    for format in [image::ImageFormat::Png, image::ImageFormat::WebP] {
        let mut out = Vec::new();
        image::DynamicImage::ImageRgb8(img.clone()).to_rgba8().write_to(&mut Cursor::new(&mut out), format).unwrap();
        samples.push(out);
    }
    let mut runner = TestRunner::new(Config { cases: 600, ..Config::default() });
    let strategy =
        (0..samples.len(), prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12), 0..4u8);
    runner
        .run(&strategy, |(which, flips, cut)| {
            let mut bytes = samples[which].clone();
            for (at, b) in flips {
                let i = at.index(bytes.len());
                bytes[i] = b;
            }
            if cut > 0 {
                bytes.truncate(bytes.len() * usize::from(cut) / 4);
            }
            match yijia_service::photos::clean(&bytes) {
                Ok(_) | Err(ServiceError::Invalid(_)) => Ok(()),
                Err(e) => panic!("{e:?}"),
            }
        })
        .unwrap();
}

/// A roster of random cells under the fixture's headers, and the fixture
/// with bytes changed: the importer (checking only) answers each.
#[tokio::test]
async fn the_importer_answers_random_rosters_without_a_panic() {
    let t = TestDb::new().await;
    let svc = Services::new(
        t.db.clone(),
        Arc::new(ManualClock::new(1_764_460_800_000)),
        Settings::default(),
        Arc::new(Keyring::generate()),
    );
    svc.fixtures().seed_demo().await.unwrap();
    let caller = svc.fixtures().demo_caller("secretary").await.unwrap();
    let headers = yijia_service::export::HEADERS;
    let rows = prop::collection::vec(prop::collection::vec(any_cell(), headers.len()), 1..12);
    let mut runner = TestRunner::new(Config { cases: 40, ..Config::default() });
    let books = std::cell::RefCell::new(Vec::new());
    runner
        .run(&rows, |rows| {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet().set_name("第1网格").unwrap();
            for (c, h) in headers.iter().enumerate() {
                ws.write(0, c as u16, *h).unwrap();
            }
            for (r, row) in rows.iter().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    let (r, c) = (r as u32 + 1, c as u16);
                    match cell {
                        Cell::Empty => {}
                        Cell::Text(s) => {
                            ws.write(r, c, s.as_str()).unwrap();
                        }
                        Cell::Number(n) if n.is_finite() => {
                            ws.write(r, c, *n).unwrap();
                        }
                        Cell::Number(_) => {}
                        Cell::Date(d) => {
                            ws.write(r, c, d.format("%Y-%m-%d").to_string()).unwrap();
                        }
                    }
                }
            }
            books.borrow_mut().push(wb.save_to_buffer().unwrap());
            Ok(())
        })
        .unwrap();
    let mut books = books.into_inner();
    let fixture = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/roster-chengnan-2024.xlsx"))
        .expect("the shared roster fixture");
    for i in 0..20 {
        let mut b = fixture.clone();
        let at = (i * 7919 + 131) % b.len();
        b[at] ^= 0x5a;
        books.push(b);
        books.push(fixture[..fixture.len() * (i + 1) / 21].to_vec());
    }
    books.push(b"not a workbook at all".to_vec());
    books.push(vec![]);
    for book in &books {
        match svc.import_residents(&caller, book, "chengnan", &HashMap::new(), true, &|_, _| {}).await {
            Ok(_) | Err(ServiceError::Invalid(_)) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
}
