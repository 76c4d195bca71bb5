//! The deadline sweep: reminds before a deadline, flags a case not accepted
//! in time, and sends a case not resolved in time up to the subdistrict.
//! Each case carries the next time the sweep must look at it, so a sweep
//! reads only the cases that are due, however many there are.

use serde::Serialize;
use serde_json::json;
use yijia_domain::case::{CaseState, EventKind};
use yijia_store::cases;

use super::{Logged, Subject, log_events, reschedule};
use crate::audit::{Event, record_many};
use crate::{Caller, Result, Services};

/// Cases looked at per transaction.
const BATCH: i64 = 500;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub reminded: usize,
    pub overdue: usize,
    pub escalated: usize,
}

impl Services {
    /// Runs the sweep until no case is due.
    pub async fn sweep_case_deadlines(&self) -> Result<SweepReport> {
        let mut report = SweepReport::default();
        let system = Caller::system();
        loop {
            let now = self.now();
            let mut tx = self.db.write().await?;
            let due = cases::alarms_due(&mut tx, now, BATCH).await?;
            // the cases first, then their timeline and outbox lines at once
            let mut changed: Vec<(cases::Case, EventKind, CaseState, String)> = Vec::new();
            for mut k in due.iter().cloned() {
                let from = k.state;
                let Some(due_at) = k.due_at.filter(|_| from.is_open()) else {
                    k.next_alarm_at = None;
                    cases::save(&mut tx, &k, now).await?;
                    continue;
                };
                let hours = |ms: i64| format!("{:.1}", ms as f64 / 3_600_000.0);
                let (action, note) = if now < due_at {
                    k.next_alarm_at = Some(due_at);
                    report.reminded += 1;
                    let what = match from {
                        CaseState::Submitted => "受理",
                        CaseState::Escalated => "街道受理",
                        _ => "办结",
                    };
                    (EventKind::Reminder, format!("距{what}时限还有 {} 小时", hours(due_at - now)))
                } else if from == CaseState::Escalated {
                    // the street office has not taken it on in time: flagged once
                    k.next_alarm_at = None;
                    report.overdue += 1;
                    (EventKind::Overdue, format!("已超过街道受理时限 {} 小时", hours(now - due_at)))
                } else if from == CaseState::Submitted {
                    k.next_alarm_at = None;
                    report.overdue += 1;
                    (EventKind::Overdue, format!("已超过受理时限 {} 小时,请社区督办", hours(now - due_at)))
                } else if k.escalated_at.is_some() {
                    // with the subdistrict already: flagged, not sent up again
                    k.next_alarm_at = None;
                    report.overdue += 1;
                    (EventKind::Overdue, format!("已超过办结时限 {} 小时", hours(now - due_at)))
                } else {
                    k.state = CaseState::Escalated;
                    k.escalated_at = Some(now);
                    reschedule(&mut k, now);
                    report.escalated += 1;
                    (EventKind::Escalate, "超过办结时限,自动上报街道".to_owned())
                };
                if !cases::save(&mut tx, &k, now).await? {
                    continue;
                }
                k.version += 1;
                changed.push((k, action, from, note));
            }
            let lines: Vec<Logged<'_>> = changed
                .iter()
                .map(|(k, action, from, note)| Logged {
                    subject: Subject::from(k),
                    actor: (None, yijia_domain::case::SYSTEM_ACTOR),
                    action: *action,
                    from: Some(*from),
                    note,
                    at: now,
                })
                .collect();
            if !lines.is_empty() {
                log_events(&mut tx, &lines).await?;
            }
            let escalations: Vec<(&Caller, i64, Event<'_>)> = changed
                .iter()
                .filter(|(_, action, _, _)| *action == EventKind::Escalate)
                .map(|(k, _, from, _)| {
                    let e = Event::ok("case_escalate", format!("case:{}", k.id), &k.org_path);
                    (&system, now, e.with(json!({ "from": from, "automatic": true })))
                })
                .collect();
            if !escalations.is_empty() {
                record_many(&mut tx, &escalations).await?;
            }
            tx.commit().await?;
            if (due.len() as i64) < BATCH {
                return Ok(report);
            }
        }
    }
}
