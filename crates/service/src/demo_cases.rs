//! Demo cases: three months of requests, disputes and hazards in the demo
//! community, in every state, filed and handled through the same use cases
//! as real ones (with the clock set back), and the 丁香花园三期 hazards from
//! the story. Never real people.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use yijia_domain::case::Action;
use yijia_domain::time::{DAY_MS, HOUR_MS, MINUTE_MS};
use yijia_store::{meta, org, places, users};

use crate::auth::to_grants;
use crate::cases::{ActionInput, CaseInput, RatingInput};
use crate::{Caller, ManualClock, Result, ServiceError, Services};

/// What happens to a demo case, and when (ms after it was filed).
#[derive(Debug, Clone)]
enum Step {
    File(Box<CaseInput>, &'static str),
    Act(Action, &'static str, Option<String>),
    Rate(i64, &'static str),
}

const NOTES: &[&str] = &["已上门处理", "已联系物业修复", "已协调相关部门解决", "已清理完毕", "双方达成一致"];
const COMMENTS: &[&str] = &["很及时,谢谢", "处理得不错", "", "态度好", "比以前快多了"];

/// (category, what happened) for generated cases.
const STORIES: &[(&str, &str)] = &[
    ("repair", "楼道灯不亮,晚上看不清台阶"),
    ("repair", "单元门锁坏了,关不上"),
    ("repair", "暖气管漏水,滴到楼下"),
    ("sanitation", "垃圾桶满了两天没人清运"),
    ("sanitation", "楼道堆放杂物,影响通行"),
    ("utilities", "单元停水,没有通知"),
    ("utilities", "暖气不热,室温只有 14 度"),
    ("elderly_help", "独居老人需要代买药品"),
    ("paperwork", "需要开具居住证明"),
    ("other_request", "小区健身器材需要增设"),
    ("neighbour", "楼上深夜噪音,多次沟通无果"),
    ("neighbour", "邻居占用公共楼道放置鞋柜"),
    ("family", "老人赡养问题子女有争执"),
    ("property", "物业费收费标准有异议"),
    ("fire", "楼道内电动车充电"),
    ("fire", "消防通道被车辆堵塞"),
    ("gas", "厨房有燃气异味"),
    ("wiring", "一楼住户私拉电线给电动车充电"),
    ("facility", "小区井盖松动"),
];

impl Services {
    /// A caller for a user, as if they had logged in (the demo acts as them).
    pub async fn demo_caller(&self, username: &str) -> Result<Caller> {
        let mut tx = self.db.conn().await?;
        let u = users::by_username(&mut tx, username).await?.ok_or(ServiceError::NotFound)?;
        let grants = to_grants(users::grants_of(&mut tx, u.id).await?);
        Ok(Caller {
            user_id: Some(u.id),
            username: u.username,
            display_name: u.display_name,
            grants,
            ip: "demo".to_owned(),
            resident_id: users::resident_of(&mut tx, u.id).await?,
            ..Caller::operator()
        })
    }

    /// Files and handles `n` cases over the last 90 days, once.
    pub async fn seed_demo_cases(&self, n: usize) -> Result<usize> {
        let mut tx = self.db.conn().await?;
        let done = meta::get(&mut tx, "demo_cases").await?.is_some();
        let community = org::by_code(&mut tx, "chengnan").await?;
        let Some(community) = community.filter(|_| !done) else {
            return Ok(0);
        };
        let buildings = places::buildings_of(&mut tx, community.id).await?;
        let grids: Vec<String> = org::children(&mut tx, community.id).await?.into_iter().map(|g| g.code).collect();
        drop(tx);
        if buildings.is_empty() || grids.is_empty() {
            return Ok(0);
        }
        let mut people = std::collections::HashMap::new();
        for u in ["resident", "worker1", "staff", "officer"] {
            people.insert(u, self.demo_caller(u).await?);
        }
        let end = self.now();
        let start = end - 90 * DAY_MS;
        let mut rng = StdRng::seed_from_u64(2025);
        let mut plan: Vec<(i64, usize, Step)> = Vec::new();

        // the story: 丁香花园三期, an abandoned-property building falling apart
        let sanqi: Vec<i64> = buildings.iter().filter(|b| b.estate == "丁香花园三期").map(|b| b.id).collect();
        let story = [
            ("楼道吊顶脱落", "3 单元楼道吊顶大面积脱落,随时可能砸到人", "上下楼的居民,尤其老人和孩子"),
            ("屋顶漏雨", "顶层多户屋顶漏雨,墙皮发霉", "顶层住户的房屋和电器"),
            ("围墙倒塌", "小区北侧围墙倒塌约 8 米,砖块散落在路边", "路过的行人和停放的车辆"),
        ];
        for (i, (title, text, at_risk)) in story.into_iter().enumerate() {
            let t0 = start + (5 + i as i64 * 3) * DAY_MS;
            let input = CaseInput {
                category: "structure".into(),
                priority: Some(yijia_domain::case::Priority::Complex),
                title: Some(format!("丁香花园三期{title}")),
                description: text.into(),
                channel: Some(yijia_domain::case::Channel::Visit),
                building_id: sanqi.get(i % sanqi.len().max(1)).copied(),
                grid: Some("chengnan-g01".to_owned()),
                at_risk: Some(at_risk.into()),
                ..Default::default()
            };
            let k = plan.len();
            plan.push((t0, k, Step::File(Box::new(input), "worker1")));
            plan.push((t0 + 2 * HOUR_MS, k, Step::Act(Action::Accept, "worker1", None)));
            plan.push((t0 + DAY_MS, k, Step::Act(Action::Start, "worker1", None)));
            let why = "弃管楼无物业,维修资金需街道协调".to_owned();
            plan.push((t0 + 3 * DAY_MS, k, Step::Act(Action::Escalate, "worker1", Some(why))));
            plan.push((t0 + 4 * DAY_MS, k, Step::Act(Action::Accept, "officer", None)));
            plan.push((t0 + 5 * DAY_MS, k, Step::Act(Action::Start, "officer", None)));
        }

        for _ in 0..n.saturating_sub(story.len()) {
            let k = plan.len();
            let t0 = rng.random_range(start..end - HOUR_MS);
            let age = end - t0;
            let (category, text) = STORIES[rng.random_range(0..STORIES.len())];
            let roll: f64 = rng.random();
            let by_resident = roll < 0.06;
            let building = buildings[rng.random_range(0..buildings.len())].id;
            let (filer, input) = if by_resident {
                let input = CaseInput { category: category.into(), description: text.into(), ..Default::default() };
                ("resident", input)
            } else {
                let channel = [
                    yijia_domain::case::Channel::Phone,
                    yijia_domain::case::Channel::WalkIn,
                    yijia_domain::case::Channel::Visit,
                ][rng.random_range(0..3)];
                let unplaced = roll > 0.92;
                let input = CaseInput {
                    category: category.into(),
                    description: text.into(),
                    channel: Some(channel),
                    building_id: (!unplaced).then_some(building),
                    reporter_name: Some(
                        ["陈女士", "刘师傅", "赵大爷", "孙阿姨", "周先生"][rng.random_range(0..5)].into(),
                    ),
                    ..Default::default()
                };
                ("staff", input)
            };
            plan.push((t0, k, Step::File(Box::new(input), filer)));
            // what became of it, by how long ago it was filed
            let fate: f64 = rng.random();
            let h = |x: i64| t0 + x;
            let accept_at = h(rng.random_range(10 * MINUTE_MS..20 * HOUR_MS));
            let resolve_at = accept_at + rng.random_range(2 * HOUR_MS..6 * DAY_MS);
            let handler = "staff";
            if age < 6 * HOUR_MS || (age < 3 * DAY_MS && fate < 0.3) {
                continue; // still waiting to be accepted
            }
            if fate < 0.05 {
                plan.push((
                    accept_at,
                    k,
                    Step::Act(Action::Reject, handler, Some("不属于社区受理范围,已告知去向".into())),
                ));
                continue;
            }
            if accept_at >= end {
                continue;
            }
            plan.push((accept_at, k, Step::Act(Action::Accept, handler, None)));
            if fate < 0.1 && age > 10 * DAY_MS {
                let why = "需街道协调多部门".to_owned();
                plan.push((accept_at + DAY_MS, k, Step::Act(Action::Escalate, handler, Some(why))));
                plan.push((accept_at + 2 * DAY_MS, k, Step::Act(Action::Accept, "officer", None)));
                let done = NOTES[rng.random_range(0..NOTES.len())].to_owned();
                plan.push((accept_at + 5 * DAY_MS, k, Step::Act(Action::Resolve, "officer", Some(done))));
                continue;
            }
            // in progress: recent ones, and a few old ones the sweep finds late
            if resolve_at >= end || (fate < 0.2 && age < 6 * DAY_MS) || (0.1..0.115).contains(&fate) {
                if fate < 0.6 {
                    plan.push((accept_at + HOUR_MS, k, Step::Act(Action::Start, handler, None)));
                }
                continue; // in progress (some of them late)
            }
            let done = NOTES[rng.random_range(0..NOTES.len())].to_owned();
            plan.push((resolve_at, k, Step::Act(Action::Resolve, handler, Some(done))));
            let rate_at = resolve_at + rng.random_range(HOUR_MS..3 * DAY_MS);
            if by_resident && rate_at < end {
                let stars = [5, 5, 5, 4, 4, 3, 2][rng.random_range(0..7)];
                plan.push((rate_at, k, Step::Rate(stars, COMMENTS[rng.random_range(0..COMMENTS.len())])));
            } else if rate_at < end && fate > 0.4 {
                plan.push((rate_at, k, Step::Act(Action::Close, handler, None)));
            }
        }
        plan.sort_by_key(|(t, k, _)| (*t, *k));

        // replay the plan on a clock of its own
        let clock = Arc::new(ManualClock::new(start));
        let past = Services { clock: clock.clone(), ..self.clone() };
        let mut filed: std::collections::HashMap<usize, (i64, i64)> = Default::default();
        for (t, k, step) in plan {
            clock.set(t);
            match step {
                Step::File(input, who) => {
                    let v = past.create_case(&people[who], &input).await?;
                    filed.insert(k, (v.summary.id, v.summary.version));
                }
                Step::Act(action, who, note) => {
                    let Some((id, version)) = filed.get(&k).copied() else { continue };
                    let input = ActionInput { action, version, note, grid: None };
                    let v = past.act_on_case(&people[who], id, &input).await?;
                    filed.insert(k, (id, v.summary.version));
                }
                Step::Rate(stars, comment) => {
                    let Some((id, _)) = filed.get(&k).copied() else { continue };
                    let input = RatingInput { rating: stars, comment: Some(comment.into()) };
                    let v = past.rate_case(&people["resident"], id, &input).await?;
                    filed.insert(k, (id, v.summary.version));
                }
            }
        }
        let mut tx = self.db.write().await?;
        meta::set(&mut tx, "demo_cases", &filed.len().to_string()).await?;
        tx.commit().await?;
        // what fell due while the plan was replayed is flagged by the sweep
        self.sweep_case_deadlines().await?;
        Ok(filed.len())
    }
}
