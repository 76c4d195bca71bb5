//! A person's requests about their record (PIPL art. 46–47): a correction,
//! with the evidence, answered by the secretary in the record's history; an
//! erasure beyond what must be kept, decided by the secretary with a
//! reason. A resident asks on his phone; staff ask for someone without one,
//! saying why.

use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::life::Status;
use yijia_domain::rights::{self, RequestKind, RequestState};
use yijia_store::{Tx, org, record_requests as store, residents};

use crate::audit::{Event, record};
use crate::erasure::ErasureOutcome;
use crate::roles::{RECORD_REQUEST_DECIDERS, RECORD_REQUEST_READERS, REGISTRARS};
use crate::{Caller, Result, ServiceError, Services};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RecordRequestInput {
    pub kind: RequestKind,
    /// What is wrong and what it should say, or why the data should go
    /// (2–1000 characters).
    pub body: String,
    /// The evidence: which document, where it can be seen (up to 1000).
    #[serde(default)]
    pub evidence: String,
    /// Staff asking for a resident without a phone say why (2–200); not
    /// for a resident asking himself.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RecordRequestAnswer {
    /// Done (corrected, or erased) or refused.
    pub done: bool,
    /// What was done, or why not (2–500 characters).
    pub answer: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RecordRequestView {
    pub id: i64,
    pub resident: i64,
    pub resident_name: String,
    pub kind: RequestKind,
    pub kind_name: String,
    pub body: String,
    pub evidence: String,
    pub for_reason: Option<String>,
    pub state: RequestState,
    pub state_name: String,
    pub asked_by: String,
    /// RFC 3339.
    pub asked_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub answer: Option<String>,
    /// Whether the caller may answer it now.
    pub can_answer: bool,
    /// When an erasure was done: what it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub erasure: Option<ErasureOutcome>,
}

fn view(q: store::RecordRequest, can_answer: bool) -> RecordRequestView {
    RecordRequestView {
        id: q.id,
        resident: q.resident_id,
        resident_name: q.resident_name,
        kind: q.kind,
        kind_name: q.kind.name_zh().to_owned(),
        body: q.body,
        evidence: q.evidence,
        for_reason: q.for_reason,
        state: q.state,
        state_name: q.state.name_zh().to_owned(),
        asked_by: q.asked_by_name,
        asked_at: yijia_domain::time::rfc3339(q.asked_at),
        decided_by: q.decided_by_name,
        decided_at: q.decided_at.map(yijia_domain::time::rfc3339),
        answer: q.answer,
        can_answer: can_answer && q.state == RequestState::Waiting,
        erasure: None,
    }
}

impl Services {
    /// A resident asks about his own record.
    pub async fn ask_about_my_record(&self, caller: &Caller, input: RecordRequestInput) -> Result<RecordRequestView> {
        let id = crate::invitations::own_resident_id(caller)?;
        if input.reason.as_deref().is_some_and(|r| !r.trim().is_empty()) {
            return Err(ServiceError::invalid(
                "reason",
                "本人申请无需填写代办原因",
                "a reason is for staff asking for someone else",
            ));
        }
        let mut conn = self.db.conn().await?;
        let r = residents::get(&mut conn, id).await?.ok_or(ServiceError::NotFound)?;
        drop(conn);
        self.ask(caller, &r, input, None).await
    }

    /// Staff ask for a resident (who has no phone), with a reason.
    pub async fn ask_for_resident(
        &self,
        caller: &Caller,
        id: i64,
        input: RecordRequestInput,
    ) -> Result<RecordRequestView> {
        let r = self.resident_in_scope(caller, id, REGISTRARS, "record_request").await?;
        let reason = rights::request_text("reason", input.reason.as_deref().unwrap_or_default(), 2, 200)?;
        self.ask(caller, &r, input, Some(reason)).await
    }

    async fn ask(
        &self,
        caller: &Caller,
        r: &residents::Resident,
        input: RecordRequestInput,
        reason: Option<String>,
    ) -> Result<RecordRequestView> {
        let body = rights::request_text("body", &input.body, 2, 1000)?;
        let evidence = rights::request_text("evidence", &input.evidence, 0, 1000)?;
        if r.erased_at.is_some() {
            return Err(ServiceError::NotFound);
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        // one person cannot flood the secretary's list; counted by kind, so
        // that corrections never stand in the way of an erasure
        if store::waiting_of(&mut tx, r.id, input.kind).await? >= rights::WAITING_REQUESTS {
            let n = rights::WAITING_REQUESTS;
            return Err(ServiceError::conflict(
                format!("已有 {n} 件同类申请在等待答复,请等社区答复后再提"),
                format!(
                    "{n} requests of this kind already wait for an answer; please wait for the community to answer them"
                ),
            ));
        }
        let community = crate::org::community_of(&mut tx, &r.grid_path).await?.ok_or(ServiceError::NotFound)?;
        let q = store::NewRequest {
            resident_id: r.id,
            community_id: community.id,
            kind: input.kind,
            body: &body,
            evidence: &evidence,
            for_reason: reason.as_deref(),
            asked_by: caller.user_id,
            asked_by_name: &caller.display_name,
            at: now,
        };
        let rid = store::insert(&mut tx, &q).await?;
        // the text stays on the request, not in the log
        let e = Event::ok("record_request", format!("resident:{}", r.id), &r.grid_path)
            .with(json!({ "request": rid, "kind": input.kind.code(), "reason": reason }));
        record(&mut tx, caller, now, &e).await?;
        let q = store::get(&mut tx, rid).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        Ok(view(q, false))
    }

    /// A resident's own requests and their answers.
    pub async fn my_record_requests(&self, caller: &Caller) -> Result<Vec<RecordRequestView>> {
        let id = crate::invitations::own_resident_id(caller)?;
        let mut conn = self.db.conn().await?;
        Ok(store::of_resident(&mut conn, id).await?.into_iter().map(|q| view(q, false)).collect())
    }

    /// The requests of the caller's communities, waiting ones first.
    pub async fn record_requests(&self, caller: &Caller) -> Result<Vec<RecordRequestView>> {
        let paths = caller.scope_paths(RECORD_REQUEST_READERS);
        if paths.is_empty() {
            return Err(ServiceError::forbidden());
        }
        let mut tx = self.db.read().await?;
        let ids: Vec<i64> = crate::org::communities_in(&mut tx, &paths).await?.iter().map(|c| c.id).collect();
        let list = store::of_communities(&mut tx, &ids, 300).await?;
        let mut out = Vec::with_capacity(list.len());
        for q in list {
            let c = org::by_id(&mut tx, q.community_id).await?;
            let can = caller.covers(RECORD_REQUEST_DECIDERS, &c.path);
            out.push(view(q, can));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The secretary answers: a correction done (staff correct the record
    /// through its edit form, audited as usual) or refused; an erasure
    /// granted (the person's data erased now, when they are no longer on
    /// the register) or refused with a reason.
    pub async fn answer_record_request(
        &self,
        caller: &Caller,
        rid: i64,
        input: RecordRequestAnswer,
    ) -> Result<RecordRequestView> {
        let answer = rights::request_text("answer", &input.answer, 2, 500)?;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let q = store::get(&mut tx, rid).await?.ok_or(ServiceError::NotFound)?;
            let c = org::by_id(&mut tx, q.community_id).await?;
            if !caller.covers(RECORD_REQUEST_DECIDERS, &c.path) {
                return Err(ServiceError::denied("record_request_answer", format!("record_request:{rid}")));
            }
            if q.state != RequestState::Waiting {
                return Err(ServiceError::conflict(
                    format!("这个申请{}", q.state.name_zh()),
                    format!("this request is {}", q.state.name_en().to_lowercase()),
                ));
            }
            let r = residents::get(&mut tx, q.resident_id).await?.ok_or(ServiceError::NotFound)?;
            let to = if input.done { RequestState::Done } else { RequestState::Refused };
            if !store::decide(&mut tx, rid, to, &caller.display_name, &answer, now).await? {
                return Err(ServiceError::conflict("这个申请刚被答复过", "this request was just answered"));
            }
            let e = Event::ok("record_request_answer", format!("resident:{}", r.id), &r.grid_path)
                .with(json!({ "request": rid, "kind": q.kind.code(), "state": to.code(), "answer": answer }));
            record(&mut tx, caller, now, &e).await?;
            let mut erased = None;
            if input.done && q.kind == RequestKind::Erasure {
                erased = Some(self.granted_erasure(&mut tx, caller, &r, rid, now).await?);
            }
            let q = store::get(&mut tx, rid).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            let mut v = view(q, true);
            if let Some((outcome, gone)) = erased {
                self.after_erasure(&gone).await;
                v.erasure = Some(outcome);
            }
            Ok(v)
        })
        .await
    }

    async fn granted_erasure(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        r: &residents::Resident,
        rid: i64,
        now: i64,
    ) -> Result<(ErasureOutcome, yijia_store::erasure::Erased)> {
        if r.status == Status::Present {
            return Err(ServiceError::conflict(
                "在册居民的登记信息依法保留;如已迁出或去世,请先登记在册变动,再同意删除",
                "the record of someone on the register is kept by law; record that they moved away or died first",
            ));
        }
        let why = json!({ "why": "request", "request": rid });
        self.erase_in(tx, caller, r, why, now)
            .await?
            .ok_or_else(|| ServiceError::conflict("此人的信息已删除", "this person's data was erased already"))
    }
}
