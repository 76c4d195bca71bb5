//! The demo's repair projects: 丁香花园三期 (ceilings coming down, roofs
//! leaking, a wall fallen), funded by the street office and the
//! maintenance fund, repaired, accepted by its residents this autumn; the
//! stairwell lighting of 丁香花园 under way; new unit doors waiting for the
//! street office's money. Through the real use cases on a clock set back.
//! Never real people or firms.

use std::sync::Arc;

use yijia_domain::org::OrgKind;
use yijia_domain::role::Role;
use yijia_domain::time::{DAY_MS, HOUR_MS, to_local};
use yijia_store::residents::{self, Filter};
use yijia_store::{meta, org, places};

use crate::caller::Grant;
use crate::cases::CaseInput;
use crate::clock::ManualClock;
use crate::demo_points::placeholder;
use crate::projects::{
    ExpenseDecision, ExpenseInput, FileTarget, FundingDecision, FundingInput, LineInput, MilestoneDone, MilestoneInput,
    ProjectInput, StageInput, VoteInput,
};
use crate::{Caller, Result, Services};

/// (line, budget in yuan)
const LINES: &[(&str, i64)] =
    &[("屋面防水", 80_000), ("吊顶及外墙修补粉刷", 48_000), ("单元防盗门", 36_000), ("设计与监理", 9_000)];

/// (line index, yuan ×100 i.e. fen, payee, what, days before now)
const EXPENSES: &[(usize, i64, &str, &str, i64)] = &[
    (3, 680_000, "吉林某工程设计所", "现场勘察与修缮设计", 200),
    (0, 7_860_000, "长春某防水工程公司", "三栋楼屋面 SBS 防水卷材及施工", 150),
    (1, 2_150_050, "长春某建筑装饰公司", "楼道吊顶拆除重做", 130),
    (1, 2_400_000, "长春某建筑装饰公司", "外墙修补及粉刷 2100㎡", 110),
    (2, 3_480_000, "某安防门业公司", "单元防盗门 12 樘(含安装)", 95),
    (3, 180_000, "吉林某工程监理公司", "竣工验收检测", 80),
];

/// A demo resident acting for themself, as if through their own account.
pub(crate) fn resident_caller(r: &residents::Resident) -> Caller {
    Caller {
        username: format!("demo-resident-{}", r.id),
        display_name: r.name.clone(),
        grants: vec![Grant {
            role: Role::Resident,
            org_code: r.grid_code.clone(),
            org_name: r.grid_code.clone(),
            org_kind: OrgKind::Grid,
            org_path: r.grid_path.clone(),
        }],
        ip: "demo".to_owned(),
        resident_id: Some(r.id),
        ..Caller::system()
    }
}

impl Services {
    /// Seeds the projects, once; how many.
    pub async fn seed_demo_projects(&self) -> Result<usize> {
        let mut tx = self.db.read().await?;
        let done = meta::get(&mut tx, "demo_projects").await?.is_some();
        let community = org::by_code(&mut tx, "chengnan").await?;
        let Some(community) = community.filter(|_| !done) else { return Ok(0) };
        let buildings = places::buildings_of(&mut tx, community.id).await?;
        let phase3: Vec<_> = buildings.iter().filter(|b| b.estate == "丁香花园三期").take(3).cloned().collect();
        // those who live in them, who vote on the repair
        let mut people = Vec::new();
        for b in &phase3 {
            let filter = Filter {
                paths: vec![community.path.clone()],
                estate: Some(b.estate.clone()),
                building: Some(b.name.clone()),
                ..Default::default()
            };
            people.extend(residents::list(&mut tx, &filter, 12, 0).await?.0);
        }
        tx.commit().await?;
        let lit: Vec<i64> = buildings.iter().filter(|b| b.estate == "丁香花园").take(4).map(|b| b.id).collect();
        if phase3.is_empty() {
            return Ok(0);
        }
        let mut tx = self.db.write().await?;
        meta::set(&mut tx, "demo_projects", "1").await?;
        tx.commit().await?;

        let secretary = self.demo_caller("secretary").await?;
        let staff = self.demo_caller("staff").await?;
        let officer = self.demo_caller("officer").await?;
        let now = self.now();
        let clock = Arc::new(ManualClock::new(now - 240 * DAY_MS));
        let past = self.on_clock(clock.clone());
        let at = |days_ago: i64| clock.set(now - days_ago * DAY_MS + 10 * HOUR_MS);
        let com = Some("chengnan");

        // the hazards residents reported
        at(240);
        let mut hazards = Vec::new();
        for (b, (title, what)) in phase3.iter().zip([
            ("楼道吊顶脱落", "三楼楼道吊顶大块脱落,险些砸到老人"),
            ("屋顶漏雨", "顶层住户家中雨天漏水,墙面发霉"),
            ("院墙倒塌", "北侧院墙倒塌一段,夜间无照明"),
        ]) {
            let input = CaseInput {
                community: com.map(str::to_owned),
                category: "structure".into(),
                priority: None,
                title: Some(title.into()),
                description: what.into(),
                channel: None,
                household_id: None,
                building_id: Some(b.id),
                lon: None,
                lat: None,
                grid: None,
                reporter_name: None,
                reporter_phone: None,
                residents: vec![],
                at_risk: Some("住户及行人".into()),
                parties: None,
            };
            hazards.push(past.create_case(&staff, &input).await?.summary.id);
        }

        at(230);
        let input = ProjectInput {
            title: "丁香花园三期屋面及外墙修缮".into(),
            description: Some("弃管楼:吊顶脱落、屋顶漏雨、院墙倒塌。修屋面、补吊顶、刷外墙、换单元防盗门。".into()),
            buildings: phase3.iter().map(|b| b.id).collect(),
            cases: hazards,
            warranty_months: Some(24),
            quorum: Some(5),
        };
        let p = past.create_project(&secretary, com, input).await?;
        for (name, yuan) in LINES {
            past.add_budget_line(&secretary, p.id, LineInput { name: (*name).into(), amount: yuan * 100 }).await?;
        }
        for (source, yuan, note) in [
            ("subdistrict", 120_000, "街道老旧小区改造专项"),
            ("maintenance_fund", 60_000, "三期住宅专项维修资金"),
            ("residents", 8_000, "住户自愿筹集"),
        ] {
            let input = FundingInput { source: source.into(), asked: yuan * 100, note: Some(note.into()) };
            past.apply_for_funding(&secretary, p.id, input).await?;
        }
        at(215);
        let p = past.project(&secretary, p.id).await?;
        for (f, part) in p.fundings.iter().zip([None, Some(4_500_000), None]) {
            let d = FundingDecision { approve: true, approved: part, note: Some("同意".into()) };
            past.decide_funding(&officer, f.id, d).await?;
        }
        at(210);
        past.move_project(&secretary, p.id, StageInput { to: "working".into() }).await?;
        for (title, due) in [("屋面防水完工", 150), ("吊顶、外墙完工", 110), ("防盗门安装完毕", 95), ("竣工验收", 80)]
        {
            let due_on = to_local(now - due * DAY_MS).format("%Y-%m-%d").to_string();
            past.add_milestone(&secretary, p.id, MilestoneInput { title: title.into(), due_on }).await?;
        }
        let lines = past.project(&secretary, p.id).await?.lines;
        let milestones = past.project(&secretary, p.id).await?.milestones;
        for (i, (line, fen, payee, what, ago)) in EXPENSES.iter().enumerate() {
            at(*ago);
            let spent_on = to_local(now - ago * DAY_MS).format("%Y-%m-%d").to_string();
            let input = ExpenseInput {
                line_id: lines[*line].id,
                amount: *fen,
                payee: (*payee).into(),
                description: (*what).into(),
                spent_on,
            };
            let v = past.record_expense(&secretary, p.id, input).await?;
            if let Some(x) = v.expenses.iter().find(|x| x.status == yijia_domain::project::ExpenseStatus::Pending) {
                past.decide_expense(&officer, x.id, ExpenseDecision { approve: true }).await?;
            }
            // the roof, the walls, the doors and the inspection each finish a milestone
            let done = [(1, 0), (3, 1), (4, 2), (5, 3)].iter().find(|(x, _)| *x == i).map(|(_, m)| *m);
            if let Some(m) = done.and_then(|m| milestones.get(m)) {
                past.finish_milestone(&secretary, m.id, MilestoneDone { done_on: None, note: None }).await?;
            }
        }
        // receipts for the expenses, before and after photos for the milestones (generated pictures)
        let done = past.project(&secretary, p.id).await?;
        for x in &done.expenses {
            let target = FileTarget { kind: "receipt".into(), of: x.id };
            past.add_project_file(&secretary, p.id, target, vec![placeholder(0)]).await?;
        }
        for m in &done.milestones {
            for (kind, colour) in [("before", 5), ("after", 2)] {
                let target = FileTarget { kind: kind.into(), of: m.id };
                past.add_project_file(&secretary, p.id, target, vec![placeholder(colour)]).await?;
            }
        }
        at(75);
        past.move_project(&secretary, p.id, StageInput { to: "voting".into() }).await?;
        for (i, r) in people.iter().enumerate() {
            // most accept; a few want the doors seen to again
            let accept = i % 7 != 3;
            past.vote_on_project(&resident_caller(r), p.id, VoteInput { accept }).await?;
        }
        at(60);
        past.close_vote(&secretary, p.id).await?;

        // under way: stairwell lights in 丁香花园
        let mut made = 1;
        if !lit.is_empty() {
            at(40);
            let input = ProjectInput {
                title: "丁香花园楼道照明改造".into(),
                description: Some("楼道声控灯全部换为 LED 感应灯。".into()),
                buildings: lit,
                cases: vec![],
                warranty_months: Some(12),
                quorum: Some(5),
            };
            let q = past.create_project(&secretary, com, input).await?;
            past.add_budget_line(&secretary, q.id, LineInput { name: "灯具及安装".into(), amount: 1_860_000 }).await?;
            let input = FundingInput { source: "subdistrict".into(), asked: 1_860_000, note: None };
            past.apply_for_funding(&secretary, q.id, input).await?;
            at(30);
            let f = past.project(&secretary, q.id).await?.fundings[0].id;
            past.decide_funding(&officer, f, FundingDecision { approve: true, approved: None, note: None }).await?;
            past.move_project(&secretary, q.id, StageInput { to: "working".into() }).await?;
            at(10);
            let line = past.project(&secretary, q.id).await?.lines[0].id;
            let input = ExpenseInput {
                line_id: line,
                amount: 920_000,
                payee: "某照明器材商店".into(),
                description: "LED 感应灯 80 套".into(),
                spent_on: to_local(now - 10 * DAY_MS).format("%Y-%m-%d").to_string(),
            };
            past.record_expense(&secretary, q.id, input).await?;
            made += 1;
        }
        // waiting for the street office
        at(5);
        let input = ProjectInput {
            title: "三期北侧院墙重建".into(),
            description: Some("倒塌院墙临时围挡,申请资金重建。".into()),
            buildings: vec![phase3[0].id],
            cases: vec![],
            warranty_months: Some(24),
            quorum: Some(5),
        };
        let w = past.create_project(&secretary, com, input).await?;
        past.add_budget_line(&secretary, w.id, LineInput { name: "院墙砌筑".into(), amount: 2_600_000 }).await?;
        let input = FundingInput {
            source: "city".into(), asked: 2_600_000, note: Some("申请市级老旧小区专项".into())
        };
        past.apply_for_funding(&secretary, w.id, input).await?;
        Ok(made + 1)
    }
}
