//! The demo's service station: the COVID test hut that became 春城驿家党群
//! 服务站, its services, and a month of appointments and services given,
//! through the same use cases as the real thing on a clock set back. A few
//! appointments are booked for the coming days. Never real people.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use yijia_domain::station::AppointmentStatus;
use yijia_domain::time::{DAY_MS, HOUR_MS, MINUTE_MS, rfc3339, start_of_day, to_local};
use yijia_store::residents::{self, Filter};
use yijia_store::{meta, org};

use crate::clock::ManualClock;
use crate::stations::{BookingInput, RecordInput, ServiceInput, StationInput};
use crate::{Result, Services};

/// (name, description, slot minutes, places a slot; 0 minutes: walk-in)
const SERVICES: &[(&str, &str, i64, i64)] = &[
    ("量血压", "免费测量血压、血糖", 15, 2),
    ("老年人理发", "60 岁以上免费", 30, 1),
    ("法律咨询", "律师志愿者坐班", 30, 1),
    ("代办证明材料", "居住证明、社保认证等", 0, 0),
    ("便民维修", "小家电、雨伞、钥匙", 0, 0),
];

impl Services {
    /// Seeds the station and its month, once; how many services were given.
    pub async fn seed_demo_stations(&self) -> Result<usize> {
        let mut tx = self.db.read().await?;
        let done = meta::get(&mut tx, "demo_stations").await?.is_some();
        let community = org::by_code(&mut tx, "chengnan").await?;
        tx.commit().await?;
        let Some(community) = community.filter(|_| !done) else { return Ok(0) };
        let mut tx = self.db.read().await?;
        let filter = Filter { paths: vec![community.path.clone()], ..Default::default() };
        let (people, _) = residents::list(&mut tx, &filter, 600, 0).await?;
        tx.commit().await?;
        if people.is_empty() {
            return Ok(0);
        }
        let mut tx = self.db.write().await?;
        meta::set(&mut tx, "demo_stations", "1").await?;
        tx.commit().await?;

        let clerk = self.demo_caller("clerk").await?;
        let now = self.now();
        let today = to_local(now).date_naive();
        let first = start_of_day(today) - 30 * DAY_MS;
        let clock = Arc::new(ManualClock::new(first - DAY_MS));
        let past = self.on_clock(clock.clone());
        let station = StationInput {
            name: "春城驿家党群服务站".into(),
            address: "丁香花园三期南门(原核酸检测亭)".into(),
            hours: "1-5 08:30-11:30,14:00-17:30; 6 09:00-11:30".into(),
        };
        let station = past.add_station(&clerk, Some("chengnan"), station).await?;
        let mut services = Vec::new();
        for (name, about, minutes, places) in SERVICES {
            let input = ServiceInput {
                name: (*name).into(),
                description: Some((*about).into()),
                by_appointment: *minutes > 0,
                slot_minutes: *minutes,
                capacity: *places,
                active: true,
            };
            services.push(past.add_service(&clerk, station.id, input).await?);
        }
        let mut rng = StdRng::seed_from_u64(2020);
        let mut given = 0;
        for d in 0..37 {
            let day = first + d * DAY_MS;
            let date = to_local(day).date_naive().format("%Y-%m-%d").to_string();
            // the day before, residents phone in and staff book for them
            let on_past = day < start_of_day(today);
            let svc = if on_past { &past } else { self };
            if on_past {
                clock.set(day - 6 * HOUR_MS);
            } else if d % 2 == 1 {
                // the coming days are booked more thinly
                continue;
            }
            let mut booked = Vec::new();
            for s in services.iter().filter(|s| s.by_appointment) {
                let slots = svc.service_slots(&clerk, s.id, Some(&date)).await?.slots;
                let free: Vec<_> = slots.iter().filter(|x| x.free > 0).collect();
                let n = rng.random_range(1..=4usize).min(free.len());
                for slot in free.choose_multiple(&mut rng, n) {
                    let Some(p) = people.choose(&mut rng) else { continue };
                    let input = BookingInput { starts_at: slot.starts_at.clone(), resident_id: Some(p.id) };
                    match svc.book(&clerk, s.id, input).await {
                        Ok(a) => booked.push(a),
                        // one a day for a resident: another is chosen next time
                        Err(crate::ServiceError::Conflict(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            if !on_past {
                continue;
            }
            // one in ten cancels the same evening
            for a in &booked {
                if rng.random_bool(0.1) {
                    past.cancel_appointment(&clerk, a.id).await?;
                }
            }
            // the day itself, recorded in the evening
            clock.set(day + 18 * HOUR_MS);
            for a in &booked {
                let Ok(start) = chrono::DateTime::parse_from_rfc3339(&a.starts_at) else { continue };
                let start = start.timestamp_millis();
                let still = past.demo_appointment_status(a.id).await?;
                if still != Some(AppointmentStatus::Booked) {
                    continue;
                }
                if rng.random_bool(0.85) {
                    let input = RecordInput {
                        service_id: a.service_id,
                        appointment_id: Some(a.id),
                        resident_id: None,
                        person_name: None,
                        minutes: rng.random_range(8..25),
                        note: None,
                        given_at: Some(rfc3339(start + rng.random_range(0..10) * MINUTE_MS)),
                    };
                    past.record_service(&clerk, station.id, input).await?;
                    given += 1;
                } else {
                    past.miss_appointment(&clerk, a.id).await?;
                }
            }
            // walk-ins on weekdays
            if !station_open_weekday(day) {
                continue;
            }
            for _ in 0..rng.random_range(2..6) {
                let Some(s) =
                    services.iter().filter(|s| !s.by_appointment).collect::<Vec<_>>().choose(&mut rng).copied()
                else {
                    continue;
                };
                let Some(p) = people.choose(&mut rng) else { continue };
                let input = RecordInput {
                    service_id: s.id,
                    appointment_id: None,
                    resident_id: Some(p.id),
                    person_name: None,
                    minutes: rng.random_range(5..40),
                    note: None,
                    given_at: Some(rfc3339(day + 9 * HOUR_MS + rng.random_range(0..480) * MINUTE_MS)),
                };
                past.record_service(&clerk, station.id, input).await?;
                given += 1;
            }
        }
        Ok(given)
    }

    /// An appointment's status, for the demo's own bookkeeping.
    async fn demo_appointment_status(&self, id: i64) -> Result<Option<AppointmentStatus>> {
        let mut tx = self.db.read().await?;
        let a = yijia_store::stations::appointment(&mut tx, id).await?;
        tx.commit().await?;
        Ok(a.map(|a| a.status))
    }
}

/// Monday to Friday.
fn station_open_weekday(day: i64) -> bool {
    use chrono::Datelike;
    to_local(day).weekday().num_days_from_monday() < 5
}
