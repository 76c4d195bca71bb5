//! The dashboard's monthly tallies (and people per grid and category) stay
//! exact: after the demo's months of
//! work through the use cases, and after random changes made straight to
//! the rows (the paths a use case never takes: a correction, a restore, a
//! bulk load), they equal a full recount.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use yijia_store::tallies::{self, Tally};

use crate::helpers::TestApp;

async fn kept_and_recounted(app: &TestApp) -> (Vec<Tally>, Vec<Tally>) {
    let mut tx = app.svc.db.read().await.unwrap();
    let mut kept = tallies::kept(&mut tx).await.unwrap();
    let mut recount: Vec<Tally> =
        tallies::recount(&mut tx).await.unwrap().into_iter().filter(|t| t.n != 0 || t.total != 0).collect();
    tx.commit().await.unwrap();
    // in one order, whatever the database's collation
    kept.sort();
    recount.sort();
    (kept, recount)
}

/// Runs one statement with integer parameters.
pub(crate) async fn exec(app: &TestApp, sql: &str, args: &[i64]) -> u64 {
    let mut tx = app.svc.db.write().await.unwrap();
    let n = yijia_store::on_tx!(&mut tx, c => {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
        for a in args {
            q = q.bind(*a);
        }
        q.execute(&mut *c).await.unwrap().rows_affected()
    });
    tx.commit().await.unwrap();
    n
}

async fn ids(app: &TestApp, sql: &'static str) -> Vec<i64> {
    let mut tx = app.svc.db.read().await.unwrap();
    let v = yijia_store::on_tx!(&mut tx, c => sqlx::query_scalar(sql).fetch_all(c).await.unwrap());
    tx.commit().await.unwrap();
    v
}

#[tokio::test]
async fn tallies_equal_a_full_recount_after_the_demo_and_random_changes() {
    let app = TestApp::spawn().await;
    app.seed_demo_months(300, 120).await;

    let (kept, recount) = kept_and_recounted(&app).await;
    assert_eq!(kept, recount, "after the demo");
    let families = ["cases_filed:", "cases_accepted:", "cases_resolved:", "cases_rated:", "visits", "points_issued"];
    for family in families.into_iter().chain(["people:", "people:elderly_alone"]) {
        assert!(kept.iter().any(|t| t.figure.starts_with(family)), "the demo gives {family} something to count");
    }
    let months: std::collections::BTreeSet<&str> = kept.iter().map(|t| t.month.as_str()).collect();
    assert!(months.len() >= 6, "months of work: {months:?}");

    // random corrections, moves and deletions, straight to the rows
    let cases = ids(&app, "SELECT id FROM cases ORDER BY id").await;
    let visits = ids(&app, "SELECT id FROM visits ORDER BY id").await;
    let grids = ids(&app, "SELECT id FROM org_nodes WHERE kind = 'grid' ORDER BY id").await;
    let people = ids(&app, "SELECT id FROM residents ORDER BY id").await;
    let mut rng = StdRng::seed_from_u64(2026);
    const DAY: i64 = 86_400_000;
    for round in 0..600 {
        let case = cases[rng.random_range(0..cases.len())];
        let person = people[rng.random_range(0..people.len())];
        let grid = grids[rng.random_range(0..grids.len())];
        let visit = visits[rng.random_range(0..visits.len())];
        let later = rng.random_range(0..90) * DAY + rng.random_range(0..DAY);
        match rng.random_range(0..14) {
            0 => exec(&app, "UPDATE cases SET accepted_at = created_at + $1 WHERE id = $2", &[later, case]).await,
            1 => exec(&app, "UPDATE cases SET accepted_at = NULL WHERE id = $1", &[case]).await,
            2 => exec(&app, "UPDATE cases SET resolved_at = created_at + $1 WHERE id = $2", &[later, case]).await,
            3 => {
                exec(&app, "UPDATE cases SET resolved_at = NULL, rated_at = NULL, rating = NULL WHERE id = $1", &[case])
                    .await
            }
            4 => {
                let rating = rng.random_range(1..=5);
                exec(
                    &app,
                    "UPDATE cases SET rating = $1, rated_at = created_at + $2 WHERE id = $3",
                    &[rating, later, case],
                )
                .await
            }
            5 => exec(&app, "UPDATE visits SET grid_id = $1 WHERE id = $2", &[grid, visit]).await,
            6 => {
                let month: u32 = rng.random_range(1..=12);
                exec(&app, &format!("UPDATE visits SET visited_on = '2025-{month:02}-15' WHERE id = $1"), &[visit])
                    .await
            }
            7 => exec(&app, "DELETE FROM visits WHERE id = $1", &[visit]).await,
            // people: moved to another grid, given a category, losing one, one renamed
            8 => exec(&app, "UPDATE residents SET grid_id = $1 WHERE id = $2", &[grid, person]).await,
            9 => {
                let sql = "INSERT INTO resident_categories (resident_id, category, since) VALUES ($1, 'elderly_alone', 0) \
                           ON CONFLICT DO NOTHING";
                exec(&app, sql, &[person]).await
            }
            10 => exec(&app, "DELETE FROM resident_categories WHERE resident_id = $1", &[person]).await,
            // off the register and back, sometimes moving grid in the same statement
            11 => {
                let status = ["moved_away", "deceased"][usize::from(rng.random_bool(0.5))];
                exec(&app, &format!("UPDATE residents SET status = '{status}' WHERE id = $1"), &[person]).await
            }
            12 => {
                exec(&app, "UPDATE residents SET status = 'present', grid_id = $1 WHERE id = $2", &[grid, person]).await
            }
            _ => {
                let sql = format!(
                    "UPDATE resident_categories SET category = 'custom_{round}' WHERE resident_id = $1 \
                     AND category = (SELECT MIN(category) FROM resident_categories WHERE resident_id = $1)"
                );
                exec(&app, &sql, &[person]).await
            }
        };
    }
    // several rows at once, as a bulk correction would
    exec(&app, "UPDATE residents SET grid_id = $1 WHERE id % 9 = 0", &[grids[0]]).await;
    exec(&app, "UPDATE residents SET status = 'moved_away' WHERE id % 11 = 0", &[]).await;
    exec(
        &app,
        "UPDATE cases SET resolved_at = resolved_at + $1 WHERE resolved_at IS NOT NULL AND id % 7 = 0",
        &[40 * DAY],
    )
    .await;

    let (kept, recount) = kept_and_recounted(&app).await;
    assert_eq!(kept, recount, "after random changes");

    // a rebuild gives the same again
    let mut tx = app.svc.db.write().await.unwrap();
    let n = tallies::rebuild(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert!(n as usize >= recount.len());
    assert_eq!(kept_and_recounted(&app).await.0, recount, "after a rebuild");
}
