//! The city's work, loaded straight into the tables for the benchmarks that
//! need it: cases over a year, residents under a visiting plan, and
//! visits person by person.

use chrono::NaiveDate;
use yijia_domain::care::{Finding, VisitMode};
use yijia_store::Db;

use super::now_ms;
use yijia_store::visits::{self, NewVisit, Plan};

const DAY: i64 = 86_400_000;
const LOAD_TX: usize = 10_000;

pub fn today() -> NaiveDate {
    yijia_domain::time::to_local(now_ms()).date_naive()
}

pub fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Bulk cases: 97 in 100 closed over the past year (accepted within hours,
/// resolved within days, most of them rated), the rest open with deadlines
/// over the coming days, spread over the grids.
pub async fn fill_cases(db: &Db, n: usize) {
    type Grid = (i64, String, i64);
    let grids: Vec<Grid> = match db {
        Db::Sqlite(p) => {
            sqlx::query_as("SELECT g.id, g.path, g.parent_id FROM org_nodes g WHERE g.kind = 'grid' ORDER BY g.id")
                .fetch_all(p)
                .await
                .unwrap()
        }
        Db::Postgres(p) => {
            sqlx::query_as("SELECT g.id, g.path, g.parent_id FROM org_nodes g WHERE g.kind = 'grid' ORDER BY g.id")
                .fetch_all(p)
                .await
                .unwrap()
        }
    };
    let cats: Vec<(i64, i64, String)> = match db {
        Db::Sqlite(p) => {
            sqlx::query_as("SELECT id, community_id, kind FROM case_categories ORDER BY id").fetch_all(p).await.unwrap()
        }
        Db::Postgres(p) => {
            sqlx::query_as("SELECT id, community_id, kind FROM case_categories ORDER BY id").fetch_all(p).await.unwrap()
        }
    };
    let now = now_ms();
    const COLS: usize = 26;
    const BATCH: usize = 500;
    let cols = "community_id, grid_id, org_path, kind, category_id, priority, state, open, title, description, \
                channel, address, reporter_name, created_by_name, accept_due, resolve_due, due_at, near_at, \
                next_alarm_at, created_at, updated_at, accepted_at, resolved_at, closed_at, rated_at, rating";
    let rows: Vec<String> = (0..BATCH)
        .map(|r| match db {
            Db::Sqlite(_) => format!("({})", vec!["?"; COLS].join(", ")),
            Db::Postgres(_) => {
                let p: Vec<String> = (1..=COLS).map(|k| format!("${}", r * COLS + k)).collect();
                format!("({})", p.join(", "))
            }
        })
        .collect();
    let sql = format!("INSERT INTO cases ({cols}) VALUES {}", rows.join(", "));
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut done = 0;
    while done < n {
        let k = BATCH.min(n - done);
        let sql_k = if k == BATCH {
            sql.clone()
        } else {
            format!("INSERT INTO cases ({cols}) VALUES {}", rows[..k].join(", "))
        };
        macro_rules! batch {
            ($pool:expr) => {{
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql_k.as_str()));
                for i in 0..k {
                    let g = &grids[(done + i) % grids.len()];
                    let mine: Vec<&(i64, i64, String)> = cats.iter().filter(|c| c.1 == g.2).collect();
                    let cat = mine[(next() as usize) % mine.len()];
                    let open = next() % 100 < 3;
                    let created = if open {
                        now - (next() % (6 * DAY as u64)) as i64
                    } else {
                        now - (next() % (365 * DAY as u64)) as i64
                    };
                    let (accept_due, resolve_due) = (created + DAY, created + 7 * DAY);
                    let state = if !open {
                        "closed"
                    } else if next() % 3 == 0 {
                        "submitted"
                    } else {
                        "in_progress"
                    };
                    let due = if !open {
                        None
                    } else if state == "submitted" {
                        Some(accept_due)
                    } else {
                        Some(resolve_due)
                    };
                    let near = due.map(|d| d - DAY.min((d - created) / 5));
                    let alarm = near.map(|n| if n > now { n } else { due.unwrap() });
                    let accepted = (state != "submitted").then(|| created + (next() % (20 * 3_600_000)) as i64);
                    let resolved = (!open).then(|| accepted.unwrap_or(created) + (next() % (6 * DAY as u64)) as i64);
                    let rating = resolved.filter(|_| next() % 10 < 6).map(|_| 3 + (next() % 3) as i64);
                    let rated = rating.and(resolved.map(|r| r + 3_600_000));
                    q = q
                        .bind(g.2)
                        .bind(g.0)
                        .bind(&g.1)
                        .bind(&cat.2)
                        .bind(cat.0)
                        .bind("ordinary")
                        .bind(state)
                        .bind(i64::from(open))
                        .bind("楼道灯不亮")
                        .bind("楼道灯不亮,晚上看不见台阶")
                        .bind("phone")
                        .bind("丁香花园3号楼")
                        .bind("居民")
                        .bind("网格员")
                        .bind(accept_due)
                        .bind(resolve_due)
                        .bind(due)
                        .bind(near)
                        .bind(alarm)
                        .bind(created)
                        .bind(created)
                        .bind(accepted)
                        .bind(resolved)
                        .bind(resolved)
                        .bind(rated)
                        .bind(rating);
                }
                q.execute($pool).await.unwrap();
            }};
        }
        match db {
            Db::Sqlite(p) => batch!(p),
            Db::Postgres(p) => batch!(p),
        }
        done += k;
        if done % 200_000 < BATCH {
            eprintln!("  {done} cases");
        }
    }
}

/// Someone under a plan: (resident, household, grid, days).
pub type Planned = (i64, Option<i64>, i64, i64);

/// Everyone under a plan gets a last contact and a due date, one in ten of
/// them overdue; who they are.
pub async fn plan_everyone(db: &Db) -> Vec<Planned> {
    let planned: Vec<Planned> = rows!(
        db,
        Planned,
        "SELECT r.id, r.household_id, r.grid_id, cp.days FROM residents r JOIN care_plans cp ON cp.resident_id = r.id \
         WHERE cp.days IS NOT NULL ORDER BY r.id"
    );
    let today = today();
    let plans: Vec<Plan> = planned
        .iter()
        .enumerate()
        .map(|(i, (id, _, grid, days))| {
            // most were seen within their interval; one in ten is late
            let back = if i % 10 == 0 { days + (i as i64 % 20) } else { i as i64 % days };
            let last = today - chrono::Days::new(back as u64);
            Plan {
                resident_id: *id,
                grid_id: *grid,
                last_contact_on: Some(ymd(last)),
                due_on: Some(ymd(last + chrono::Days::new(*days as u64))),
                days: Some(*days),
                first_due_on: None,
            }
        })
        .collect();
    for chunk in plans.chunks(10_000) {
        let mut tx = db.write().await.unwrap();
        visits::set_plans(&mut tx, chunk).await.unwrap();
        tx.commit().await.unwrap();
    }
    eprintln!("{} residents under a plan", planned.len());
    planned
}

pub struct Gen {
    pub client_id: String,
    pub visited_on: String,
    pub visited_at: i64,
    pub resident: i64,
    pub household: Option<i64>,
    pub grid: i64,
}

/// How many visits each person under a plan gets in the bulk load.
pub const PER_PERSON: usize = 75;

/// Visit `i` of the city, person by person (as an old system's export lists
/// them), a week apart going back from today.
pub fn nth(planned: &[Planned], i: usize, today: NaiveDate, midnight: i64) -> Gen {
    let (resident, household, grid, _) = planned[(i / PER_PERSON) % planned.len()];
    let back = (i % PER_PERSON) as i64 * 7 + (i / PER_PERSON % 5) as i64 + 1;
    let on = today - chrono::Days::new(back as u64);
    Gen {
        client_id: format!("bulk-{i:010}"),
        visited_on: ymd(on),
        visited_at: midnight - back * 86_400_000 + 10 * 3_600_000,
        resident,
        household,
        grid,
    }
}

pub fn new_visit(g: &Gen) -> NewVisit<'_> {
    NewVisit {
        client_id: &g.client_id,
        resident_id: Some(g.resident),
        household_id: g.household,
        grid_id: g.grid,
        visitor_id: None,
        visitor_name: "网格员",
        visited_at: g.visited_at,
        visited_on: &g.visited_on,
        mode: VisitMode::AtHome,
        health: Finding::Well,
        living: Finding::Well,
        needs: Finding::Well,
        safety: Finding::Well,
        notes_sealed: None,
        next_visit_on: None,
        case_id: None,
        photo_file: None,
        photo_type: None,
        now: g.visited_at,
    }
}

pub async fn load_visits(db: &Db, planned: &[Planned], from: usize, to: usize) {
    let today = today();
    let midnight = now_ms();
    let mut i = from;
    while i < to {
        let end = (i + LOAD_TX).min(to);
        let gens: Vec<Gen> = (i..end).map(|k| nth(planned, k, today, midnight)).collect();
        let rows: Vec<NewVisit<'_>> = gens.iter().map(new_visit).collect();
        let mut tx = db.write().await.unwrap();
        visits::insert_many(&mut tx, &rows).await.unwrap();
        tx.commit().await.unwrap();
        i = end;
        if i % 1_000_000 < LOAD_TX {
            eprintln!("  {i} visits");
        }
    }
}
