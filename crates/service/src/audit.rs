//! Writing and reading the audit log.

use serde::Serialize;
use serde_json::Value;
use yijia_domain::audit::{GENESIS, KeptDigest, entry_hash};
use yijia_domain::phone::mask_mobiles;
use yijia_store::{Tx, audit as store};

use crate::roles::AUDIT_READERS;
use crate::{Caller, Page, PageReq, Result, ServiceError, Services};

/// What happened, for the audit log.
#[derive(Debug, Clone)]
pub(crate) struct Event<'a> {
    pub action: &'a str,
    pub outcome: &'a str,
    pub object: String,
    pub org_path: &'a str,
    pub detail: Value,
}

impl<'a> Event<'a> {
    pub fn ok(action: &'a str, object: String, org_path: &'a str) -> Self {
        Self { action, outcome: "ok", object, org_path, detail: Value::Null }
    }

    pub fn with(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }
}

/// Appends an entry about `caller`'s action in the caller's transaction, so
/// that the change and its record commit together or not at all.
pub(crate) async fn record(tx: &mut Tx, caller: &Caller, now: i64, e: &Event<'_>) -> Result<()> {
    record_many(tx, &[(caller, now, e.clone())]).await
}

/// Appends several entries at once, in order (several changes in one commit).
pub(crate) async fn record_many(tx: &mut Tx, items: &[(&Caller, i64, Event<'_>)]) -> Result<()> {
    // A resident's login name is his mobile number: the append-only log
    // never keeps one in full.
    let texts: Vec<[String; 3]> = items
        .iter()
        .map(|(caller, _, e)| {
            // what a family member does for a resident says so, whatever it is
            let detail = match (&caller.proxy, &e.detail) {
                (Some(p), Value::Object(m)) => {
                    let mut m = m.clone();
                    m.insert("proxy_for".into(), caller.resident_id.into());
                    m.insert("proxy".into(), p.id.into());
                    Value::Object(m).to_string()
                }
                (Some(p), d) if d.is_null() => {
                    serde_json::json!({ "proxy_for": caller.resident_id, "proxy": p.id }).to_string()
                }
                (Some(p), d) => {
                    serde_json::json!({ "proxy_for": caller.resident_id, "proxy": p.id, "detail": d }).to_string()
                }
                (None, d) if d.is_null() => String::new(),
                (None, d) => d.to_string(),
            };
            [mask_mobiles(&caller.username), mask_mobiles(&e.object), mask_mobiles(&detail)]
        })
        .collect();
    let entries: Vec<store::NewEntry<'_>> = items
        .iter()
        .zip(&texts)
        .map(|((caller, now, e), [actor, object, detail])| store::NewEntry {
            at: *now,
            actor_id: caller.user_id,
            actor_name: actor,
            action: e.action,
            outcome: e.outcome,
            object,
            org_path: e.org_path,
            ip: &caller.ip,
            detail,
        })
        .collect();
    if let [one] = entries.as_slice() {
        store::append(tx, one).await?;
    } else {
        store::append_many(tx, &entries).await?;
    }
    Ok(())
}

/// The audited actions that read a person's data.
const PERSONAL_READS: &[&str] = &["resident_view", "resident_unmask", "resident_export", "visit_read"];

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EntryView {
    pub seq: i64,
    /// RFC 3339, Asia/Shanghai.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub outcome: String,
    pub object: String,
    pub ip: String,
    pub detail: String,
}

fn entry_view(e: store::Entry) -> EntryView {
    EntryView {
        seq: e.seq,
        at: yijia_domain::time::rfc3339(e.at),
        actor: mask_mobiles(&e.actor_name),
        action: e.action,
        outcome: e.outcome,
        object: mask_mobiles(&e.object),
        ip: e.ip,
        detail: mask_mobiles(&e.detail),
    }
}

fn csv_error(e: csv::Error) -> ServiceError {
    ServiceError::caused("writing the CSV", e)
}

impl Services {
    /// Records that `caller` asked for something outside their scope. The
    /// caller gets a plain 404; the log keeps what was asked.
    pub async fn deny(&self, caller: &Caller, action: &str, object: &str) -> ServiceError {
        let result = async {
            let mut tx = self.db.write().await?;
            let e = Event { outcome: "denied", ..Event::ok(action, object.to_owned(), caller.home_path()) };
            record(&mut tx, caller, self.now(), &e).await?;
            tx.commit().await?;
            Ok::<_, ServiceError>(())
        }
        .await;
        match result {
            Ok(()) => ServiceError::NotFound,
            Err(e) => e,
        }
    }

    /// Refuses a read of personal data when the caller has read more than
    /// `personal_reads_per_hour` in the last hour (a scraping loop): the
    /// read waits, and the first refusal in an hour is audited where the
    /// caller's secretary reads the log.
    pub(crate) async fn within_read_limit(&self, caller: &Caller) -> Result<()> {
        let Some(user) = caller.user_id else { return Ok(()) };
        let now = self.now();
        let since = now - yijia_domain::time::HOUR_MS;
        let mut conn = self.db.conn().await?;
        let reads = store::count_since(&mut conn, user, since, PERSONAL_READS).await?;
        drop(conn);
        let limit = self.settings.personal_reads_per_hour;
        if reads < limit {
            return Ok(());
        }
        let mut tx = self.db.write().await?;
        if store::count_since(&mut tx, user, since, &["read_limit"]).await? == 0 {
            let e = Event { outcome: "limited", ..Event::ok("read_limit", format!("user:{user}"), caller.home_path()) };
            record(&mut tx, caller, now, &e.with(serde_json::json!({ "reads": reads, "limit": limit }))).await?;
        }
        tx.commit().await?;
        Err(ServiceError::RateLimited(yijia_domain::Msg::new(
            format!("一小时内查看个人信息已达 {limit} 次,请稍后再试;社区书记已收到提醒"),
            format!("you read personal data {limit} times within an hour: wait a while; your secretary was alerted"),
        )))
    }

    /// What a look answered, with a denial audited at once (for a use
    /// case that holds no transaction while it looks).
    pub(crate) async fn reached<T>(&self, caller: &Caller, looked: Result<T>) -> Result<T> {
        match looked {
            Err(ServiceError::Denied { action, object }) => Err(self.deny(caller, &action, &object).await),
            // a family proxy reaching beyond what the resident allowed is refused in words, and logged
            Err(ServiceError::Forbidden(m)) if caller.proxy.is_some() => {
                let object = format!("resident:{}", caller.resident_id.unwrap_or(0));
                let _ = self.deny(caller, "proxy_beyond", &object).await;
                Err(ServiceError::Forbidden(m))
            }
            r => r,
        }
    }

    /// Runs a use case; a denial inside it (`ServiceError::Denied`) is
    /// written to the audit log after the use case's transaction is gone
    /// (SQLite has one writer) and answers 404.
    pub(crate) async fn denials_audited<T>(
        &self,
        caller: &Caller,
        f: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        self.reached(caller, f.await).await
    }

    /// The log within the caller's scope, newest first.
    pub async fn audit_list(&self, caller: &Caller, action: Option<&str>, page: PageReq) -> Result<Page<EntryView>> {
        let paths = caller.scope_paths(AUDIT_READERS);
        let Some(path) = paths.first() else {
            return Err(ServiceError::forbidden());
        };
        // A reader with grants on several nodes sees the first; deployments
        // give secretaries and officers one node each.
        let filter = store::Filter { path: path.clone(), action: action.map(str::to_owned), actor_id: None };
        let mut tx = self.db.read().await?;
        let (rows, total) = store::list(&mut tx, &filter, page.per_page, page.offset()).await?;
        tx.commit().await?;
        Ok(Page::of(rows.into_iter().map(entry_view).collect(), total, page))
    }

    /// The log within the caller's scope from one day to another (both
    /// included, Beijing time), oldest first, as CSV for an auditor: UTF-8
    /// with a byte-order mark so that Excel reads the Chinese, each entry
    /// with its hash, to match against `yijia audit verify`. At most 366
    /// days at once; the export itself is audited.
    pub async fn audit_export(&self, caller: &Caller, from: &str, to: &str) -> Result<(String, Vec<u8>)> {
        let paths = caller.scope_paths(AUDIT_READERS);
        let Some(path) = paths.first() else {
            return Err(ServiceError::forbidden());
        };
        let (from_day, to_day) = (crate::fields::date("from", from)?, crate::fields::date("to", to)?);
        if to_day < from_day || (to_day - from_day).num_days() > 365 {
            return Err(ServiceError::invalid(
                "to",
                "结束日期须不早于开始日期,且一次最多导出 366 天",
                "'to' must not be before 'from', and one export covers at most 366 days",
            ));
        }
        let start = yijia_domain::time::start_of_day(from_day);
        let end = yijia_domain::time::start_of_day(to_day + chrono::Days::new(1));
        let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
        let header = ["seq", "at", "actor", "action", "outcome", "object", "ip", "detail", "hash"];
        out.write_record(header).map_err(csv_error)?;
        let (mut after, mut rows) = (0, 0_i64);
        let mut tx = self.db.read().await?;
        loop {
            let chunk = store::between(&mut tx, path, start, end, after, 5000).await?;
            let Some(last) = chunk.last() else { break };
            after = last.seq;
            for e in chunk {
                let hash = e.hash.clone();
                let v = entry_view(e);
                let seq = v.seq.to_string();
                let line = [&seq, &v.at, &v.actor, &v.action, &v.outcome, &v.object, &v.ip, &v.detail, &hash];
                out.write_record(line).map_err(csv_error)?;
                rows += 1;
            }
        }
        tx.commit().await?;
        let bytes = out.into_inner().map_err(|e| ServiceError::caused("writing the CSV", e))?;
        let mut tx = self.db.write().await?;
        let e = Event::ok("audit_export", format!("audit:{from_day}..{to_day}"), path);
        record(&mut tx, caller, self.now(), &e.with(serde_json::json!({ "rows": rows }))).await?;
        tx.commit().await?;
        Ok((format!("audit-{from_day}-{to_day}.csv"), bytes))
    }

    /// Walks the whole chain. `Ok(n)` when all `n` entries link up; otherwise
    /// the first broken link.
    pub async fn audit_verify(&self) -> Result<Verification> {
        let mut tx = self.db.read().await?;
        let mut prev = GENESIS.to_owned();
        let mut expected_seq = 1;
        let mut erasures = std::collections::HashMap::new();
        // per erasure, the digest of what the entries it emptied keep
        let mut kept: std::collections::HashMap<i64, KeptDigest> = std::collections::HashMap::new();
        loop {
            let chunk = store::chunk(&mut tx, expected_seq - 1, 1000).await?;
            if chunk.is_empty() {
                break;
            }
            for e in chunk {
                let problem = if e.seq != expected_seq {
                    Some(format!("entry {expected_seq} is missing (next is {})", e.seq))
                } else if e.prev_hash != prev {
                    Some(format!("entry {} does not point at entry {}", e.seq, e.seq - 1))
                } else if let Some(by) = e.erased_by {
                    // emptied by an erasure: what was in it can no longer be
                    // checked, but its hash is still bound into the next
                    // entry, and the erasure that emptied it must say so
                    let problem = erasure_problem(&mut tx, &e, by, &mut erasures).await?;
                    kept.entry(by).or_default().add(&e.fields(), &e.hash);
                    problem
                } else if entry_hash(&prev, &e.fields()) != e.hash {
                    Some(format!("entry {} was changed after it was written", e.seq))
                } else if e.action == "resident_erase" {
                    kept_problem(&e, kept.remove(&e.seq).unwrap_or_default())
                } else {
                    None
                };
                if let Some(problem) = problem {
                    return Ok(Verification::Broken { seq: expected_seq, problem });
                }
                prev = e.hash;
                expected_seq += 1;
            }
        }
        let (head_seq, head_hash) = store::head(&mut tx).await?;
        tx.commit().await?;
        if head_seq != expected_seq - 1 || head_hash != prev {
            return Ok(Verification::Broken {
                seq: expected_seq,
                problem: format!("the log ends at entry {} but the head says {head_seq}", expected_seq - 1),
            });
        }
        Ok(Verification::Intact { entries: expected_seq - 1 })
    }
}

/// Why an entry emptied by erasure `by` does not check out, if it does not:
/// `by` must come after it, be an erasure, and be about the same person
/// (the entry is about them, or their own account wrote it).
async fn erasure_problem(
    tx: &mut yijia_store::Tx,
    e: &store::Entry,
    by: i64,
    erasures: &mut std::collections::HashMap<i64, Option<(String, Option<i64>)>>,
) -> Result<Option<String>> {
    if let std::collections::hash_map::Entry::Vacant(slot) = erasures.entry(by) {
        let found = match store::get(tx, by).await? {
            Some(x) if x.action == "resident_erase" && x.erased_by.is_none() && x.seq > e.seq => {
                let user = match x.object.strip_prefix("resident:").and_then(|id| id.parse().ok()) {
                    Some(id) => yijia_store::users::user_of_resident(tx, id).await?,
                    None => None,
                };
                Some((x.object, user))
            }
            _ => None,
        };
        slot.insert(found);
    }
    Ok(match erasures.get(&by) {
        Some(Some((object, user))) if *object == e.object || (e.actor_id.is_some() && e.actor_id == *user) => {
            (!e.detail.is_empty()).then(|| format!("entry {} was emptied by erasure {by} but still holds text", e.seq))
        }
        _ => Some(format!("entry {} says erasure {by} emptied it, and no such erasure did", e.seq)),
    })
}

/// Whether what the entries emptied by erasure `e` keep matches the digest
/// written into it. An erasure from before the digest has none to check.
fn kept_problem(e: &store::Entry, found: KeptDigest) -> Option<String> {
    let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or_default();
    let said = detail.get("kept").and_then(|k| k.as_str())?;
    (said != found.finish())
        .then(|| format!("the entries erasure {} emptied were changed, added to or taken from since", e.seq))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Intact { entries: i64 },
    Broken { seq: i64, problem: String },
}
