//! Erasing a person (PIPL art. 47): when their community's retention runs
//! out after they left or died, or when the secretary grants their request.
//! Their personal fields are emptied everywhere and their own data key is
//! destroyed, so that copies in old backups stop opening too; their row,
//! categories and history stay, nameless, so that counts add up. The audit
//! entries about them keep their hashes and links, their personal fields
//! emptied (see docs/security.md).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use yijia_domain::audit::KeptDigest;
use yijia_domain::life::Status;
use yijia_domain::org::OrgKind;
use yijia_domain::rights;
use yijia_store::{Tx, audit as store_audit, erasure, org, residents};

use crate::audit::{Event, record};
use crate::keys::DataKey;
use crate::roles::RETENTION_SETTERS;
use crate::{Caller, Result, ServiceError, Services};

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ErasureOutcome {
    pub resident: i64,
    /// Audit entries about the person whose personal fields were emptied.
    pub audit_entries_emptied: u64,
    /// Photos of the person removed from the file store.
    pub files_removed: usize,
}

/// How long a community keeps the data of people who left or died.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RetentionView {
    pub community: String,
    pub community_name: String,
    pub years: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RetentionInput {
    /// 1–30 years.
    pub years: i64,
}

/// An erased record takes no change: what is left of it is counts.
pub(crate) fn not_erased(r: &residents::Resident) -> Result<()> {
    match r.erased_at {
        Some(_) => Err(ServiceError::conflict(
            "此人的个人信息已删除,记录不能再修改",
            "this person's data was erased; the record takes no change",
        )),
        None => Ok(()),
    }
}

impl Services {
    /// The person's own data key, when they have one (records from before
    /// keys of their own get one at `yijia keys rotate`).
    pub(crate) async fn own_key(&self, tx: &mut Tx, id: i64) -> Result<Option<DataKey>> {
        Ok(self.own_keys(tx, &[id]).await?.remove(&id))
    }

    pub(crate) async fn own_keys(&self, tx: &mut Tx, ids: &[i64]) -> Result<HashMap<i64, DataKey>> {
        let keys = &self.keys;
        erasure::keys_of(tx, ids)
            .await?
            .into_iter()
            .map(|(id, uid, wrapped)| Ok((id, keys.unwrap_data_key(&uid, &wrapped)?)))
            .collect()
    }

    /// The person's own key, made now when they have none (in a write
    /// transaction).
    pub(crate) async fn own_key_or_new(&self, tx: &mut Tx, id: i64, uid: &str) -> Result<DataKey> {
        if let Some(k) = self.own_key(tx, id).await? {
            return Ok(k);
        }
        let (k, wrapped) = self.keys.new_data_key(uid)?;
        erasure::insert_keys(tx, &[(id, wrapped)]).await?;
        Ok(k)
    }

    /// Erases the person in `tx`: an audit entry that says so (with `why`,
    /// never who they were), then their fields, their key, and the personal
    /// fields of the audit entries about them and by their own account.
    /// Removing files and emptying the write-ahead log come after the
    /// commit (`after_erasure`). None when erased already.
    pub(crate) async fn erase_in(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        r: &residents::Resident,
        why: Value,
        now: i64,
    ) -> Result<Option<(ErasureOutcome, erasure::Erased)>> {
        if r.erased_at.is_some() {
            return Ok(None);
        }
        let object = format!("resident:{}", r.id);
        // the head held to the end: what will be emptied stays as read, and
        // a second erasure of him waits, then finds him erased
        store_audit::lock_head(tx).await?;
        let Some(gone) = erasure::erase(tx, r.id, &rights::erased_name(r.id), now).await? else {
            return Ok(None);
        };
        // a digest of what the emptied entries keep goes into the erasure's
        // own entry (audit verify checks it)
        let mut kept = KeptDigest::default();
        let entries = store_audit::to_erase(tx, &object, gone.user_id).await?;
        for e in &entries {
            kept.add(&e.fields(), &e.hash);
        }
        let mut why = why;
        if let Some(o) = why.as_object_mut() {
            o.insert("emptied".into(), entries.len().into());
            o.insert("kept".into(), kept.finish().into());
        }
        record(tx, caller, now, &Event::ok("resident_erase", object.clone(), &r.grid_path).with(why)).await?;
        let (seq, _) = store_audit::head(tx).await?;
        let emptied = store_audit::erase_about(tx, &object, gone.user_id, seq).await?;
        if emptied != entries.len() as u64 {
            let said = format!("an erasure emptied {emptied} audit entries and digested {}", entries.len());
            return Err(ServiceError::internal(said));
        }
        let outcome =
            ErasureOutcome { resident: r.id, audit_entries_emptied: emptied, files_removed: gone.files.len() };
        Ok(Some((outcome, gone)))
    }

    /// What an erasure leaves to do once committed: the photos removed, the
    /// account's sessions dropped, the write-ahead log emptied into the
    /// database (where what was overwritten is zeros).
    pub(crate) async fn after_erasure(&self, gone: &erasure::Erased) {
        for name in &gone.files {
            if let Err(e) = self.files.remove(name).await {
                tracing::warn!(error = %e, "a photo of an erased person could not be removed; the cleaner will");
            }
        }
        if let Some(u) = gone.user_id {
            self.sessions.remove_user(u);
        }
        for _ in 0..50 {
            match self.db.checkpoint().await {
                Ok(true) => return,
                Ok(false) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
                Err(e) => {
                    tracing::warn!(error = %e, "emptying the write-ahead log after an erasure");
                    return;
                }
            }
        }
        tracing::warn!("the write-ahead log stayed busy after an erasure; it is emptied at the next checkpoint");
    }

    /// Erases the people whose community's retention ran out since they
    /// left or died; how many. Run daily by the server.
    pub async fn erase_expired(&self) -> Result<usize> {
        let now = self.now();
        let today = yijia_domain::time::to_local(now).date_naive();
        let min_years = *rights::RETENTION_YEARS.start();
        let cutoff = (today - chrono::Months::new(12 * min_years)).format("%Y-%m-%d").to_string();
        let (mut erased, mut after) = (0, (String::new(), 0));
        loop {
            let mut tx = self.db.write().await?;
            let rows = erasure::left_before(&mut tx, &cutoff, (&after.0, after.1), 200).await?;
            let Some(last) = rows.last() else {
                tx.commit().await?;
                return Ok(erased);
            };
            after = (last.1.clone(), last.0);
            // each community keeps them its own number of years
            let due: Vec<i64> = rows
                .into_iter()
                .filter(|(_, on, years)| {
                    chrono::NaiveDate::parse_from_str(on, "%Y-%m-%d")
                        .is_ok_and(|d| rights::retention_ran_out(d, *years as u32, today))
                })
                .map(|(id, _, _)| id)
                .collect();
            let mut gone = Vec::new();
            for id in &due {
                let Some(r) = residents::get(&mut tx, *id).await? else { continue };
                if r.status == Status::Present {
                    continue;
                }
                let why = json!({ "why": "retention", "left_on": r.status_on });
                if let Some((_, g)) = self.erase_in(&mut tx, &Caller::system(), &r, why, now).await? {
                    gone.push(g);
                }
            }
            tx.commit().await?;
            for g in &gone {
                self.after_erasure(g).await;
            }
            erased += gone.len();
        }
    }

    /// How long the caller's community keeps the data of people who left.
    pub async fn retention(&self, caller: &Caller, community: &str) -> Result<RetentionView> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let c = community_for(&mut tx, caller, community, crate::roles::LIFE_READERS).await?;
            let years = erasure::retention(&mut tx, c.id).await?;
            tx.commit().await?;
            Ok(RetentionView { community: c.code, community_name: c.name, years })
        })
        .await
    }

    /// The retention of every community the caller may set it for.
    pub async fn retentions(&self, caller: &Caller) -> Result<Vec<RetentionView>> {
        let mut tx = self.db.read().await?;
        let mut out = Vec::new();
        for c in crate::org::communities_in(&mut tx, &caller.scope_paths(RETENTION_SETTERS)).await? {
            let years = erasure::retention(&mut tx, c.id).await?;
            out.push(RetentionView { community: c.code, community_name: c.name, years });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Sets it (the secretary), audited.
    pub async fn set_retention(
        &self,
        caller: &Caller,
        community: &str,
        input: RetentionInput,
    ) -> Result<RetentionView> {
        let range = rights::RETENTION_YEARS;
        if !(i64::from(*range.start())..=i64::from(*range.end())).contains(&input.years) {
            return Err(ServiceError::invalid("years", "保存期限为 1–30 年", "the retention is 1 to 30 years"));
        }
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let c = community_for(&mut tx, caller, community, RETENTION_SETTERS).await?;
            let before = erasure::retention(&mut tx, c.id).await?;
            erasure::set_retention(&mut tx, c.id, input.years).await?;
            let e = Event::ok("retention_set", format!("org:{}", c.code), &c.path)
                .with(json!({ "from": before, "to": input.years }));
            record(&mut tx, caller, self.now(), &e).await?;
            tx.commit().await?;
            Ok(RetentionView { community: c.code, community_name: c.name, years: input.years })
        })
        .await
    }
}

async fn community_for(
    tx: &mut Tx,
    caller: &Caller,
    code: &str,
    roles: &[yijia_domain::role::Role],
) -> Result<org::OrgNode> {
    match org::by_code(tx, code.trim()).await? {
        Some(c) if c.kind == OrgKind::Community && caller.covers(roles, &c.path) => Ok(c),
        Some(c) if c.kind == OrgKind::Community => Err(ServiceError::denied("retention", format!("org:{}", c.code))),
        _ => Err(ServiceError::NotFound),
    }
}
