//! Writing a new case's rows, and on SQLite doing it for several cases in
//! one commit (`group_writer`): each in a savepoint of its own, so one that
//! fails is undone alone and the others still commit. On PostgreSQL each
//! case commits by itself.

use serde_json::json;
use yijia_domain::case::EventKind;
use yijia_store::{Db, Tx, cases};

use super::{Logged, Stored, Subject, log_event, log_events, record_photos};
use crate::audit::{Event, record, record_many};
use crate::group_writer::Group;
use crate::{Caller, Result, ServiceError, Services};

/// Everything the rows of a new case are made from.
pub(crate) struct NewCaseRows {
    pub k: cases::Case,
    pub caller: Caller,
    pub residents: Vec<i64>,
    pub photos: Vec<Stored>,
    /// The first line of the timeline (where the case went).
    pub note: String,
}

type Written = Result<(i64, Vec<cases::Photo>)>;

/// What the insert of a case takes.
fn new_case(k: &cases::Case) -> cases::NewCase<'_> {
    cases::NewCase {
        community_id: k.community_id,
        grid_id: k.grid_id,
        org_path: &k.org_path,
        kind: k.kind,
        category_id: k.category_id,
        priority: k.priority,
        state: k.state,
        title: &k.title,
        description: &k.description,
        channel: k.channel,
        building_id: k.building_id,
        household_id: k.household_id,
        lon: k.lon,
        lat: k.lat,
        address: &k.address,
        reporter_user_id: k.reporter_user_id,
        reporter_resident_id: k.reporter_resident_id,
        reporter_name: &k.reporter_name,
        reporter_phone_sealed: k.reporter_phone_sealed.as_deref(),
        created_by: k.created_by,
        created_by_name: &k.created_by_name,
        accept_due: k.accept_due,
        resolve_due: k.resolve_due,
        due_at: k.due_at,
        near_at: k.near_at,
        next_alarm_at: k.next_alarm_at,
        at_risk: k.at_risk.as_deref(),
        dispute_sealed: k.dispute_sealed.as_deref(),
        token: k.token.as_deref(),
        now: k.created_at,
    }
}

fn audit_event(k: &cases::Case, id: i64) -> Event<'_> {
    let detail = json!({ "kind": k.kind, "category": k.category_code, "channel": k.channel, "grid": k.grid_code });
    Event::ok("case_create", format!("case:{id}"), &k.org_path).with(detail)
}

/// Several cases without residents or photos in a handful of statements:
/// the cases, their timeline lines, their outbox entries, their audit lines.
async fn write_group(tx: &mut Tx, rows: &[&NewCaseRows]) -> Result<Vec<i64>> {
    let news: Vec<cases::NewCase<'_>> = rows.iter().map(|r| new_case(&r.k)).collect();
    let ids = cases::insert_many(tx, &news).await?;
    let lines: Vec<Logged<'_>> = rows
        .iter()
        .zip(&ids)
        .map(|(r, id)| Logged {
            subject: Subject { id: *id, ..Subject::from(&r.k) },
            actor: (r.caller.user_id, r.caller.display_name.as_str()),
            action: EventKind::Created,
            from: None,
            note: &r.note,
            at: r.k.created_at,
        })
        .collect();
    log_events(tx, &lines).await?;
    let audit: Vec<(&Caller, i64, Event<'_>)> =
        rows.iter().zip(&ids).map(|(r, id)| (&r.caller, r.k.created_at, audit_event(&r.k, *id))).collect();
    record_many(tx, &audit).await?;
    Ok(ids)
}

/// The case, its residents and photos, the first timeline line, the outbox
/// entry and the audit line.
async fn write(tx: &mut Tx, r: &NewCaseRows) -> Written {
    let k = &r.k;
    let id = cases::insert(tx, &new_case(k)).await?;
    cases::add_residents(tx, id, &r.residents).await?;
    let photos = record_photos(tx, id, &r.caller, &r.photos, k.created_at).await?;
    let subject = Subject { id, ..Subject::from(k) };
    let actor = (r.caller.user_id, r.caller.display_name.as_str());
    log_event(tx, subject, actor, EventKind::Created, None, &r.note, k.created_at).await?;
    record(tx, &r.caller, k.created_at, &audit_event(k, id)).await?;
    Ok((id, photos))
}

/// New cases, written a group per commit.
pub(crate) struct NewCases;

impl Group for NewCases {
    type Job = NewCaseRows;
    type Answer = Written;
    const WHAT: &'static str = "new cases";

    async fn write(db: &Db, jobs: &[NewCaseRows]) -> Vec<Written> {
        // most groups are plain cases: a handful of statements for all
        let plain = jobs.len() > 1 && jobs.iter().all(|j| j.residents.is_empty() && j.photos.is_empty());
        if plain {
            let rows: Vec<&NewCaseRows> = jobs.iter().collect();
            let grouped = async {
                let mut tx = db.write().await?;
                let ids = write_group(&mut tx, &rows).await?;
                tx.commit().await?;
                Ok::<_, ServiceError>(ids)
            }
            .await;
            match grouped {
                Ok(ids) => return ids.into_iter().map(|id| Ok((id, vec![]))).collect(),
                // one of them is bad: each on its own, below
                Err(e) => tracing::debug!(error = %crate::error::Report(&e), "a group of new cases goes one by one"),
            }
        }
        let mut results: Vec<Written> = Vec::with_capacity(jobs.len());
        let committed = async {
            let mut tx = db.write().await?;
            for j in jobs {
                tx.savepoint().await?;
                let r = write(&mut tx, j).await;
                if r.is_ok() {
                    tx.release().await?;
                } else {
                    tx.rollback_to().await?;
                }
                results.push(r);
            }
            tx.commit().await?;
            Ok::<_, ServiceError>(())
        }
        .await;
        match committed {
            Ok(()) => results,
            Err(e) => {
                // each filer's answer carries the cause, logged where it becomes a 500
                let why = crate::error::Report(&e).to_string();
                jobs.iter().map(|_| Err(ServiceError::internal(format!("writing the case: {why}")))).collect()
            }
        }
    }
}

impl Services {
    /// Writes a new case's rows and commits them; answers its id and photos.
    pub(crate) async fn write_new_case(&self, rows: NewCaseRows) -> Written {
        if !matches!(self.db, Db::Sqlite(_)) {
            let mut tx = self.db.write().await?;
            let r = write(&mut tx, &rows).await?;
            tx.commit().await?;
            return Ok(r);
        }
        self.case_writer.send(&self.db, rows).await?
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use yijia_store::testing::TestDb;

    use super::*;
    use crate::cases::CaseInput;
    use crate::{Settings, SystemClock};

    #[tokio::test]
    async fn cases_written_together_commit_together_and_a_bad_one_alone_is_undone() {
        let db = TestDb::new().await;
        let keys = Arc::new(crate::keys::Keyring::generate());
        let svc = Services::new(db.db.clone(), Arc::new(SystemClock), Settings::default(), keys);
        svc.fixtures().seed_demo().await.unwrap();
        let staff = svc.fixtures().demo_caller("staff").await.unwrap();
        let input = CaseInput { category: "repair".into(), description: "门锁坏了".into(), ..Default::default() };
        let first = svc.create_case(&staff, &input).await.unwrap();
        let mut conn = db.db.conn().await.unwrap();
        let template = cases::get(&mut conn, first.summary.id).await.unwrap().unwrap();
        drop(conn);
        let rows = |category_id: i64, n: usize| NewCaseRows {
            k: cases::Case { category_id, token: Some(format!("t{n}")), ..template.clone() },
            caller: staff.clone(),
            residents: vec![],
            photos: vec![],
            note: "测试".into(),
        };
        // sent at once, they queue and go in as one group; the middle one
        // names a category that does not exist and fails in the database
        let (a, b, c) = tokio::join!(
            svc.write_new_case(rows(template.category_id, 1)),
            svc.write_new_case(rows(999_999, 2)),
            svc.write_new_case(rows(template.category_id, 3)),
        );
        let (a, c) = (a.unwrap().0, c.unwrap().0);
        assert!(b.is_err());
        let mut conn = db.db.conn().await.unwrap();
        for id in [a, c] {
            let k = cases::get(&mut conn, id).await.unwrap().unwrap();
            assert_eq!(cases::events(&mut conn, id).await.unwrap().len(), 1, "its timeline line");
            assert_eq!(cases::outbox_of(&mut conn, &format!("case:{}", k.id)).await.unwrap().len(), 1);
        }
        assert!(cases::by_token(&mut conn, "t2").await.unwrap().is_none(), "the bad one left nothing");
        drop(conn);
        // three good ones at once go in as one group, in a few statements
        let (d, e, f) = tokio::join!(
            svc.write_new_case(rows(template.category_id, 4)),
            svc.write_new_case(rows(template.category_id, 5)),
            svc.write_new_case(rows(template.category_id, 6)),
        );
        let ids = [d.unwrap().0, e.unwrap().0, f.unwrap().0];
        let mut conn = db.db.conn().await.unwrap();
        for (n, id) in ids.iter().enumerate() {
            let k = cases::by_token(&mut conn, &format!("t{}", n + 4)).await.unwrap().unwrap();
            assert_eq!(k.id, *id, "each gets its own id back");
            let events = cases::events(&mut conn, *id).await.unwrap();
            assert_eq!(events.iter().map(|e| e.action.code()).collect::<Vec<_>>(), ["created"]);
            assert_eq!(cases::outbox_of(&mut conn, &format!("case:{id}")).await.unwrap().len(), 1);
        }
        let log = yijia_store::audit::chunk(&mut conn, 0, 100_000).await.unwrap();
        for id in ids {
            assert_eq!(log.iter().filter(|e| e.object == format!("case:{id}")).count(), 1, "one audit line each");
        }
        drop(conn);
        // the audit chain has one line per case written, and holds
        let v = svc.audit_verify().await.unwrap();
        assert!(matches!(v, crate::audit::Verification::Intact { .. }), "{v:?}");
    }
}
