//! Demo visits: a year of visits to everyone under a care plan in the demo
//! community, mostly on time, a few late, and some residents left overdue
//! so that today's walk list has work in it. Never real people.

use std::collections::HashMap;

use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use yijia_domain::care::{Finding, VisitMode, due_on};
use yijia_domain::time::{HOUR_MS, to_local};
use yijia_store::visits::{self, NewVisit, Plan, Whose};
use yijia_store::{meta, org, users};

use crate::{Result, Services};

/// Who walks each demo grid: the demo's own grid worker walks the first.
const WALKERS: &[&str] = &["李网格", "陈网格", "赵网格", "周网格", "吴网格", "郑网格"];
const NOTES: &[&str] = &["血压偏高,提醒按时服药", "腿脚不便,需要代买菜", "屋内电线老化,已提醒子女", "情绪低落,多陪聊"];

struct DemoVisit {
    client_id: String,
    resident_id: i64,
    household_id: Option<i64>,
    grid_id: i64,
    at: i64,
    on: String,
    mode: VisitMode,
    findings: [Finding; 4],
    notes: Option<String>,
}

impl Services {
    /// Seeds a year of visits in the demo community, once; how many.
    pub async fn seed_demo_visits(&self) -> Result<usize> {
        let mut tx = self.db.conn().await?;
        let done = meta::get(&mut tx, "demo_visits").await?.is_some();
        let community = org::by_code(&mut tx, "chengnan").await?;
        let worker = users::by_username(&mut tx, "worker1").await?;
        drop(tx);
        let Some(community) = community.filter(|_| !done) else {
            return Ok(0);
        };
        let mut tx = self.db.write().await?;
        let people = visits::plan_inputs(&mut tx, Whose::Community(community.id)).await?;
        let grids = org::children(&mut tx, community.id).await?;
        let intervals = visits::intervals(&mut tx, community.id).await?;
        let walker: HashMap<i64, (Option<i64>, &str)> = grids
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let id = if i == 0 { worker.as_ref().map(|w| w.id) } else { None };
                (g.id, (id, WALKERS[i % WALKERS.len()]))
            })
            .collect();
        let now = self.now();
        let today = to_local(now).date_naive();
        let mut rng = StdRng::seed_from_u64(2025);
        let mut rows: Vec<DemoVisit> = Vec::new();
        let mut plans = Vec::new();
        for p in &people {
            let Some(days) = yijia_domain::care::plan_interval(
                p.categories.iter().map(String::as_str),
                &intervals,
                p.visit_interval_days,
            ) else {
                continue;
            };
            let days = i64::from(days);
            // about one in eight has been let slip: their last visit is a while back
            // and about one in five is due about now
            let stop = match rng.random_range(0..100) {
                0..12 => today - chrono::Days::new(rng.random_range(days + 1..=days * 3) as u64),
                12..32 => today - chrono::Days::new(days as u64),
                _ => today,
            };
            let mut d = today - chrono::Days::new(365 - rng.random_range(0..days.min(30)) as u64);
            let mut last: Option<NaiveDate> = None;
            while d <= stop {
                if d < today || rng.random_bool(0.3) {
                    let at = crate::visits::start_of_day(d)
                        + rng.random_range(9..18) * HOUR_MS
                        + rng.random_range(0..60) * 60_000;
                    if at < now {
                        let mode = match rng.random_range(0..10) {
                            0..=6 => VisitMode::AtHome,
                            7..=8 => VisitMode::Phone,
                            _ => VisitMode::Outside,
                        };
                        let mut f = [Finding::Well; 4];
                        if rng.random_bool(0.06) {
                            f[rng.random_range(0..4)] =
                                if rng.random_bool(0.2) { Finding::Act } else { Finding::Watch };
                        }
                        let notes =
                            (f != [Finding::Well; 4]).then(|| NOTES[rng.random_range(0..NOTES.len())].to_owned());
                        rows.push(DemoVisit {
                            client_id: crate::visits::new_client_id("demo"),
                            resident_id: p.resident_id,
                            household_id: p.household_id,
                            grid_id: p.grid_id,
                            at,
                            on: d.format("%Y-%m-%d").to_string(),
                            mode,
                            findings: f,
                            notes,
                        });
                        last = Some(d);
                    }
                }
                // mostly on time; now and then a few days late
                let step = if rng.random_bool(0.85) {
                    rng.random_range((days * 2 / 3).max(1)..=days)
                } else {
                    days + rng.random_range(1..=5)
                };
                d = d + chrono::Days::new(step as u64);
            }
            plans.push(Plan {
                resident_id: p.resident_id,
                grid_id: p.grid_id,
                last_contact_on: last.map(|l| l.format("%Y-%m-%d").to_string()),
                due_on: Some(due_on(last, days as u32, today).format("%Y-%m-%d").to_string()),
                days: Some(days),
            });
        }
        let sealed: Vec<Option<String>> = rows
            .iter()
            .map(|r| r.notes.as_deref().map(|n| self.keys.seal(&crate::visits::aad_notes(&r.client_id), n)).transpose())
            .collect::<Result<_>>()?;
        let new: Vec<NewVisit<'_>> = rows
            .iter()
            .zip(&sealed)
            .map(|(r, s)| {
                let (visitor_id, visitor_name) = walker.get(&r.grid_id).copied().unwrap_or((None, WALKERS[0]));
                NewVisit {
                    client_id: &r.client_id,
                    resident_id: Some(r.resident_id),
                    household_id: r.household_id,
                    grid_id: r.grid_id,
                    visitor_id,
                    visitor_name,
                    visited_at: r.at,
                    visited_on: &r.on,
                    mode: r.mode,
                    health: r.findings[0],
                    living: r.findings[1],
                    needs: r.findings[2],
                    safety: r.findings[3],
                    notes_sealed: s.as_deref(),
                    next_visit_on: None,
                    case_id: None,
                    photo_file: None,
                    photo_type: None,
                    now: r.at,
                }
            })
            .collect();
        visits::insert_many(&mut tx, &new).await?;
        visits::set_plans(&mut tx, &plans).await?;
        // dispute revisits of the past were made; those of the last days wait on the walk list
        let grid_ids: Vec<i64> = grids.iter().map(|g| g.id).collect();
        for r in visits::revisits_due(&mut tx, &grid_ids, now - 3 * yijia_domain::time::DAY_MS).await? {
            let (_, name) = walker.get(&r.grid_id).copied().unwrap_or((None, WALKERS[0]));
            yijia_store::cases::finish_revisit(&mut tx, r.id, name, "已回访,双方履行协议", r.due_at + 2 * HOUR_MS)
                .await?;
        }
        meta::set(&mut tx, "demo_visits", &new.len().to_string()).await?;
        tx.commit().await?;
        Ok(new.len())
    }
}
