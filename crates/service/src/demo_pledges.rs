//! The demo's pledges (十件实事): last year's ten, judged by residents, and
//! this year's ten under way at various stages, through the real use cases
//! on a clock set back: residents propose and vote, the secretary commits,
//! staff report progress. Never real people.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use yijia_domain::time::{DAY_MS, to_local};
use yijia_store::residents::{self, Filter};
use yijia_store::{meta, org};

use crate::clock::ManualClock;
use crate::demo_points::placeholder;
use crate::demo_projects::resident_caller;
use crate::pledges::{
    AdvanceInput, MilestoneDone, MilestoneInput, OwnerInput, ProgressInput, ProposalInput, VerdictInput, YearInput,
};
use crate::{Result, Services};

const LAST_YEAR: &[&str] = &[
    "楼道声控灯全部修好",
    "老年食堂开张",
    "小区增设电动车充电桩",
    "修好三期院墙",
    "健身器材更新",
    "每月一次义诊",
    "垃圾分类亭改造",
    "楼道杂物清理",
    "增设休息座椅",
    "儿童托管四点半课堂",
    "修缮单元门禁",
    "增加路灯",
];

const THIS_YEAR: &[(&str, &str)] = &[
    ("楼道加装扶手", "老人上下楼有个扶的地方"),
    ("丁香花园三期屋面修缮", "顶层不再漏雨"),
    ("适老化改造 20 户", "卫生间扶手、防滑地面"),
    ("社区食堂延长到晚餐", "独居老人吃上热乎饭"),
    ("小区监控补盲", "北门和车棚"),
    ("增设电动车集中充电棚", "不再飞线充电"),
    ("党群服务站周末开放", "上班族也能办事"),
    ("每季度一次法律讲座", ""),
    ("绿化补种", "三期中心绿地"),
    ("楼道消防器材配齐", ""),
    ("增设快递柜", ""),
    ("停车位划线", ""),
    ("宠物便袋箱", ""),
];

/// What progress reports say, step by step.
const PROGRESS: &[&str] = &["已完成方案", "已招标", "施工过半", "主体完工", "全部完成"];
/// A milestone for each step of progress, done when it is reported.
const MILESTONES: &[&str] = &["确定方案", "完成招标", "施工过半", "主体完工", "验收交付"];

impl Services {
    /// Seeds last year's and this year's pledges, once; how many committed.
    pub async fn seed_demo_pledges(&self) -> Result<usize> {
        let mut tx = self.db.read().await?;
        let done = meta::get(&mut tx, "demo_pledges").await?.is_some();
        let community = org::by_code(&mut tx, "chengnan").await?;
        let Some(community) = community.filter(|_| !done) else { return Ok(0) };
        let filter = Filter { paths: vec![community.path.clone()], ..Default::default() };
        let (people, _) = residents::list(&mut tx, &filter, 60, 0).await?;
        tx.commit().await?;
        if people.is_empty() {
            return Ok(0);
        }
        let mut tx = self.db.write().await?;
        meta::set(&mut tx, "demo_pledges", "1").await?;
        tx.commit().await?;

        let secretary = self.demo_caller("secretary").await?;
        let staff = self.demo_caller("staff").await?;
        let now = self.now();
        let year = yijia_domain::time::year_of(now);
        let clock = Arc::new(ManualClock::new(now - 700 * DAY_MS));
        let past = self.on_clock(clock.clone());
        let mut rng = StdRng::seed_from_u64(10);
        let com = Some("chengnan");
        let mut committed = 0;
        for (y, proposals, days_ago) in
            [(year - 1, LAST_YEAR.iter().map(|t| (*t, "")).collect::<Vec<_>>(), 400), (year, THIS_YEAR.to_vec(), 300)]
        {
            clock.set(now - days_ago * DAY_MS);
            past.open_pledge_year(&secretary, com, YearInput { year: y, votes_per_resident: Some(3) }).await?;
            for (i, (title, about)) in proposals.iter().enumerate() {
                let input = ProposalInput { title: (*title).into(), description: Some((*about).into()) };
                // most come from residents' phones
                let p = match people.get(i * 3).filter(|_| i % 4 != 3) {
                    Some(r) => past.propose_my_pledge(&resident_caller(r), input).await?,
                    None => past.propose_pledge(&staff, com, input).await?,
                };
                past.shortlist_pledge(&secretary, p.id, crate::pledges::ShortlistInput { shortlisted: true }).await?;
            }
            clock.set(now - (days_ago - 20) * DAY_MS);
            past.advance_pledge_year(&secretary, com, y, AdvanceInput { commit: None }).await?;
            let ballot = past.pledge_year(&secretary, com, Some(y)).await?.pledges;
            for r in &people {
                let mut picks: Vec<i64> = ballot.iter().map(|p| p.id).collect();
                picks.shuffle(&mut rng);
                picks.truncate(3);
                for p in picks {
                    past.vote_for_pledge(&resident_caller(r), p).await?;
                }
            }
            clock.set(now - (days_ago - 40) * DAY_MS);
            let y_view = past.advance_pledge_year(&secretary, com, y, AdvanceInput { commit: Some(10) }).await?;
            let mine: Vec<_> =
                y_view.pledges.iter().filter(|p| p.status == yijia_domain::pledge::PledgeStatus::Committed).collect();
            committed += mine.len();
            // how far each got: last year's all the way, this year's at various stages
            let reach = |i: usize| if y < year { PROGRESS.len() } else { ((i % 5) + 1).min(4) };
            let mut steps_of = Vec::new();
            for (i, p) in mine.iter().enumerate() {
                let owner = if i % 2 == 0 { "王小红(社区书记)" } else { "刘社工" };
                past.set_pledge_owner(&secretary, p.id, OwnerInput { owner: owner.into() }).await?;
                let mut ids = Vec::new();
                for (s, title) in MILESTONES.iter().enumerate() {
                    // steps reached are due just after they were done; the rest lie ahead
                    let at = match s.checked_sub(reach(i)) {
                        None => now - (days_ago - 65 - 50 * s as i64) * DAY_MS,
                        Some(ahead) => now + (ahead as i64 + 1) * 20 * DAY_MS,
                    };
                    let due = to_local(at).format("%Y-%m-%d").to_string();
                    let input = MilestoneInput { title: (*title).into(), due_on: due };
                    ids.push(past.add_pledge_milestone(&staff, p.id, input).await?.id);
                }
                steps_of.push(ids);
            }
            // progress through the year: this year's at various stages
            let steps = if y < year { PROGRESS.len() } else { 4 };
            for (s, said) in PROGRESS.iter().enumerate().take(steps) {
                clock.set(now - (days_ago - 60 - 50 * s as i64) * DAY_MS);
                for (i, p) in mine.iter().enumerate() {
                    if s < reach(i) {
                        let pct = ((s + 1) * 100 / PROGRESS.len()) as i64;
                        let input = ProgressInput { progress: pct, text: (*said).into() };
                        // a photo of the work halfway and at the end (generated pictures)
                        let photos = if s % 2 == 0 && s > 0 { vec![placeholder(i + s)] } else { vec![] };
                        past.report_pledge_progress(&staff, p.id, input, photos).await?;
                        let done = MilestoneDone { done_on: None, note: None };
                        past.finish_pledge_milestone(&staff, steps_of[i][s], done).await?;
                    }
                }
            }
            if y < year {
                clock.set(now - (days_ago - 330) * DAY_MS);
                past.advance_pledge_year(&secretary, com, y, AdvanceInput { commit: None }).await?;
                let mut judges = people.clone();
                judges.shuffle(&mut rng);
                for r in judges.iter().take(30) {
                    for (i, p) in mine.iter().enumerate() {
                        // one was judged not kept by most
                        let kept = if i == 7 { rng.random_bool(0.3) } else { rng.random_bool(0.9) };
                        let satisfaction = if kept { rng.random_range(4..=5) } else { rng.random_range(1..=3) };
                        past.judge_pledge(&resident_caller(r), p.id, VerdictInput { kept, satisfaction }).await?;
                    }
                }
                past.advance_pledge_year(&secretary, com, y, AdvanceInput { commit: None }).await?;
            }
        }
        Ok(committed)
    }
}
