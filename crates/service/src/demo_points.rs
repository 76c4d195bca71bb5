//! Demo volunteering and shop: a year of weekly activities with attendance
//! and the points they gave, a shop of everyday goods with its deliveries,
//! and redemptions handed over at the counter; the demo resident's account
//! (张大爷) linked to a record in the first grid, with an activity today to
//! join. All of it goes through the same use cases as the real thing, on a
//! clock set back in time. Never real people.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use yijia_domain::time::{DAY_MS, HOUR_MS, MINUTE_MS, rfc3339, to_local};
use yijia_store::residents::{self, Filter};
use yijia_store::{meta, org, users};

use crate::activities::{ActivityInput, SignupInput};
use crate::clock::ManualClock;
use crate::duty::{PostInput, ShiftInput};
use crate::shop::{ItemInput, RedeemInput, StockInput};
use crate::{Result, Services};
use yijia_domain::time::Clock;

/// (name, points, monthly limit, description, stock a delivery brings)
const ITEMS: &[(&str, i64, Option<i64>, &str, i64)] = &[
    ("大米 5kg", 30, Some(2), "东北大米", 20),
    ("食用油 1.8L", 25, Some(2), "", 15),
    ("肥皂", 4, None, "", 40),
    ("毛巾", 8, Some(4), "纯棉", 30),
    ("洗衣粉", 10, None, "", 20),
    ("酱油 500ml", 6, None, "", 20),
];

/// (title, place, points an hour)
const ACTIVITIES: &[(&str, &str, i64)] = &[
    ("楼道清扫", "丁香花园 3 号楼", 10),
    ("陪独居老人聊天", "城南社区活动室", 10),
    ("垃圾分类宣传", "丁香花园南门", 10),
    ("义务理发", "春城驿家党群服务站", 15),
    ("小区绿化补种", "丁香花园三期", 10),
    ("防诈骗宣讲", "社区会议室", 8),
];

/// (name, place) of the gates kept on duty.
const POSTS: &[(&str, &str)] = &[("丁香花园南门岗", "丁香花园南门"), ("丁香花园三期北门岗", "丁香花园三期北门")];

/// The demo resident's account: an older man of the first grid.
const DEMO_RESIDENT_GRID: &str = "chengnan-g01";

/// Nine in the morning, Beijing time, of the day `ms` falls on.
fn nine_am(ms: i64) -> i64 {
    let local = to_local(ms);
    let midnight = local.date_naive().and_hms_opt(9, 0, 0).map(|t| t.and_utc().timestamp_millis());
    midnight.map(|t| t - 8 * HOUR_MS).unwrap_or(ms)
}

/// A generated picture for a demo item (a soft colour of its own with a
/// lighter band): never a real photo.
pub(crate) fn placeholder(k: usize) -> Vec<u8> {
    const COLOURS: [[u8; 3]; 6] =
        [[236, 226, 198], [240, 200, 90], [180, 210, 235], [200, 230, 200], [230, 190, 210], [160, 110, 70]];
    let [r, g, b] = COLOURS[k % COLOURS.len()];
    let img = image::RgbImage::from_fn(240, 240, |_, y| {
        let lift = if (90..150).contains(&y) { 30 } else { 0 };
        image::Rgb([r.saturating_add(lift), g.saturating_add(lift), b.saturating_add(lift)])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    // an in-memory PNG of a fixed size always encodes
    let _ = img.write_to(&mut out, image::ImageFormat::Png);
    out.into_inner()
}

/// Moves the demo's clock on to `t`, never back: the ledger is in time order.
fn later(clock: &ManualClock, t: i64) {
    clock.set(t.max(clock.now_ms()));
}

impl Services {
    /// Seeds the year of volunteering and the shop, once; how many
    /// activities.
    pub async fn seed_demo_points(&self) -> Result<usize> {
        let mut tx = self.db.read().await?;
        let done = meta::get(&mut tx, "demo_points").await?.is_some();
        let community = org::by_code(&mut tx, "chengnan").await?;
        let demo_user = users::by_username(&mut tx, "resident").await?;
        tx.commit().await?;
        let (Some(community), Some(demo_user)) = (community.filter(|_| !done), demo_user) else {
            return Ok(0);
        };
        let mut tx = self.db.read().await?;
        let filter = Filter { paths: vec![community.path.clone()], ..Default::default() };
        let (people, _) = residents::list(&mut tx, &filter, 2000, 0).await?;
        tx.commit().await?;
        if people.is_empty() {
            return Ok(0);
        }
        let grid1: Vec<_> = people.iter().filter(|p| p.grid_code == DEMO_RESIDENT_GRID).collect();
        let linked = grid1
            .iter()
            .filter(|p| p.name.starts_with('张') && p.sex == Some(yijia_domain::id_number::Sex::Male))
            .min_by_key(|p| p.birth_date.clone())
            .or_else(|| grid1.first())
            .map(|p| p.id)
            .unwrap_or(people[0].id);
        // marked first: a seed cut short is not tried again over what it made
        let mut tx = self.db.write().await?;
        users::link_resident(&mut tx, demo_user.id, linked).await?;
        meta::set(&mut tx, "demo_points", "1").await?;
        tx.commit().await?;

        let secretary = self.demo_caller("secretary").await?;
        let clerk = self.demo_caller("clerk").await?;
        let now = self.now();
        let start = nine_am(now - 365 * DAY_MS);
        let clock = Arc::new(ManualClock::new(start - 4 * DAY_MS));
        let past = self.on_clock(clock.clone());
        let com = Some("chengnan");
        let mut items = Vec::new();
        for (name, price, limit, about, _) in ITEMS {
            let input = ItemInput {
                name: (*name).into(),
                description: Some((*about).into()),
                price: *price,
                monthly_limit: *limit,
                active: Some(true),
            };
            let item = past.add_item(&clerk, com, input).await?;
            past.set_item_photo(&clerk, item.id, vec![placeholder(items.len())]).await?;
            items.push(item);
        }

        let mut posts = Vec::new();
        for (name, place) in POSTS {
            let input = PostInput { name: (*name).into(), place: (*place).into() };
            posts.push(past.add_post(&secretary, com, input).await?.id);
        }
        let mut rng = StdRng::seed_from_u64(2024);
        let mut volunteers: Vec<i64> = people.iter().map(|p| p.id).filter(|id| *id != linked).collect();
        volunteers.shuffle(&mut rng);
        volunteers.truncate(20);
        let mut tx = self.db.write().await?;
        for rid in volunteers.iter().step_by(2).chain([&linked]) {
            yijia_store::activities::set_consent(&mut tx, *rid, true, start).await?;
        }
        tx.commit().await?;
        let mut made = 0;
        for week in 0..52 {
            let day = nine_am(start + week * 7 * DAY_MS);
            if week % 4 == 0 {
                later(&clock, day - 2 * DAY_MS);
                // topped up to the shelf's size once a month
                let stock = past.shop_items(&clerk, com).await?;
                for (item, (.., shelf)) in items.iter().zip(ITEMS) {
                    let now_in = stock.iter().find(|i| i.id == item.id).map(|i| i.stock).unwrap_or(0);
                    if now_in < *shelf {
                        let input = StockInput { change: shelf - now_in, reason: "新到货".into() };
                        past.change_stock(&clerk, item.id, input).await?;
                    }
                }
            }
            let (title, place, per_hour) = ACTIVITIES[week as usize % ACTIVITIES.len()];
            // every other week the volunteers keep a gate instead
            let shift = (week % 2 == 1).then(|| posts[week as usize / 2 % posts.len()]);
            let (starts, ends) = (day, day + 2 * HOUR_MS);
            later(&clock, day - 3 * DAY_MS);
            let a = match shift {
                Some(post) => {
                    let input =
                        ShiftInput { starts_at: rfc3339(starts), ends_at: rfc3339(ends), capacity: 12, points: 10 };
                    past.add_shift(&secretary, post, input).await?
                }
                None => {
                    let input = ActivityInput {
                        title: title.into(),
                        description: None,
                        place: place.into(),
                        starts_at: rfc3339(starts),
                        ends_at: rfc3339(ends),
                        capacity: 12,
                        who_may_join: None,
                        points_rule: "per_hour".into(),
                        points: per_hour,
                    };
                    past.create_activity(&secretary, com, input).await?
                }
            };
            made += 1;
            volunteers.shuffle(&mut rng);
            let n = rng.random_range(4..10usize).min(volunteers.len());
            let mut coming: Vec<i64> = volunteers[..n].to_vec();
            // the demo resident comes most weeks
            if rng.random_bool(0.8) {
                coming.push(linked);
            }
            for rid in &coming {
                past.sign_up(&secretary, a.id, SignupInput { resident_id: *rid }).await?;
            }
            later(&clock, ends + 30 * MINUTE_MS);
            for rid in &coming {
                if rng.random_bool(0.1) {
                    continue;
                }
                let came = rfc3339(starts + rng.random_range(0..20) * MINUTE_MS);
                let left = rfc3339(ends - rng.random_range(0..20) * MINUTE_MS);
                // a full activity put some on the waiting list: they have no place to check into
                if past.check(&secretary, a.id, *rid, false, Some(&came)).await.is_ok() {
                    past.check(&secretary, a.id, *rid, true, Some(&left)).await?;
                }
            }
            let confirmed = past.confirm_activity(&secretary, a.id).await?;
            // in the days after, some spend their points at the counter
            for s in confirmed.signups.iter().filter(|s| s.points.is_some()) {
                // the demo resident spends now and then, never this month: his limits stay free
                let chance = if s.resident_id == linked { if week < 46 { 0.4 } else { 0.0 } } else { 0.5 };
                if !rng.random_bool(chance) {
                    continue;
                }
                later(&clock, nine_am(ends + rng.random_range(1..4) * DAY_MS) + rng.random_range(0..6) * HOUR_MS);
                let item = &items[rng.random_range(0..items.len())];
                let input = RedeemInput {
                    client_id: format!("demo-{}-{}", a.id, s.resident_id),
                    resident_id: s.resident_id,
                    item_id: item.id,
                    quantity: Some(1),
                };
                let r = past.redeem(&clerk, input).await?;
                // the last fortnight's are still waiting at the counter
                if let Some(red) = r.redemption.filter(|_| week < 50) {
                    clock.advance(rng.random_range(1..3) * HOUR_MS);
                    past.hand_over(&clerk, red.id).await?;
                }
            }
        }
        // today: a volunteer day under way, and one next week
        for (title, place, from) in [
            ("社区志愿服务日", "城南社区广场", now - now % HOUR_MS - HOUR_MS),
            ("楼道清扫", "丁香花园 3 号楼", nine_am(now + 7 * DAY_MS)),
        ] {
            self.create_activity(
                &secretary,
                com,
                ActivityInput {
                    title: title.into(),
                    description: Some("欢迎报名,按服务时长计积分".into()),
                    place: place.into(),
                    starts_at: rfc3339(from),
                    ends_at: rfc3339(from + 3 * HOUR_MS),
                    capacity: 30,
                    who_may_join: None,
                    points_rule: "per_hour".into(),
                    points: 10,
                },
            )
            .await?;
        }
        // the gates tomorrow morning and evening
        for (from, hours) in [(nine_am(now + DAY_MS) - 2 * HOUR_MS, 2), (nine_am(now + DAY_MS) + 8 * HOUR_MS, 3)] {
            let input = ShiftInput {
                starts_at: rfc3339(from),
                ends_at: rfc3339(from + hours * HOUR_MS),
                capacity: 2,
                points: 10,
            };
            self.add_shift(&secretary, posts[0], input).await?;
        }
        Ok(made)
    }
}
