//! Family members acting for residents (代办). Staff link a family
//! member's own account to a resident with his consent recorded (a signed
//! form photographed, or in person), for the acts he chose; the family
//! member then acts for him, and everything they do is recorded as
//! "张大爷(由家属王小明代办)". The link ends when either asks, when staff
//! end it, or by itself a year on unless renewed.

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::Msg;
use yijia_domain::phone::Phone;
use yijia_domain::proxy::{self as rules, Act, Acts, Consent};
use yijia_domain::role::Role;
use yijia_domain::time::{DAY_MS, rfc3339};
use yijia_domain::user::invitation_code;
use yijia_store::proxies::{self as store, NewProxy, Proxy};
use yijia_store::{Tx, residents, users};

use crate::audit::{Event, record};
use crate::auth::{UserView, hash_blocking, token_hash};
use crate::caller::ProxyGrant;
use crate::error::on_conflict;
use crate::invitations::{INVITATION_DAYS, bad_code, resident_at};
use crate::roles::{REGISTRARS, RESIDENT_READERS};
use crate::{Caller, Result, ServiceError, Services};

/// Staff link a family member: who, how related, what they may do, and how the resident consented.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ProxyInput {
    /// The family member's name, as the resident and staff will see it.
    pub family_name: String,
    /// The mobile number the family member logs in with.
    pub phone: String,
    /// 儿子, 女儿, 外孙女: at most 10 characters.
    pub relation: String,
    /// What they may do: `requests`, `points`, `book`, `vote`.
    pub acts: Vec<String>,
    /// `paper` (a signed form, photographed: the photo is needed) or `in_person`.
    pub consent: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProxyView {
    pub id: i64,
    pub resident_id: i64,
    pub resident_name: String,
    pub family_name: String,
    pub relation: String,
    pub acts: Vec<Act>,
    pub consent: Consent,
    /// Whether a photo of the signed consent form is kept.
    pub consent_photo: bool,
    pub linked_by: String,
    /// RFC 3339.
    pub linked_at: String,
    /// When it ends by itself unless renewed.
    pub expires_at: String,
    /// The family member has their account (false while the code waits).
    pub joined: bool,
    pub live: bool,
    pub ended_at: Option<String>,
    pub ended_by: Option<String>,
    pub end_reason: Option<String>,
    /// Only when just linked to a number without an account: the one-time code the family member
    /// signs up with (at /join), valid 14 days.
    pub code: Option<String>,
}

/// A resident and his family links, live first.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ResidentProxies {
    pub resident_id: i64,
    pub name: String,
    pub proxies: Vec<ProxyView>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct EndProxyInput {
    /// Why it ends (at most 200 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

fn view(p: Proxy, resident_name: &str, now: i64) -> Result<ProxyView> {
    let acts = Acts::from_stored(&p.acts).map_err(|e| ServiceError::caused("reading a proxy's acts", e))?;
    Ok(ProxyView {
        id: p.id,
        resident_id: p.resident_id,
        resident_name: resident_name.to_owned(),
        live: p.ended_at.is_none()
            && p.expires_at > now
            && (p.user_id.is_some() || p.code_expires_at.is_some_and(|t| t > now)),
        family_name: p.family_name,
        relation: p.relation,
        acts: acts.list().to_vec(),
        consent: p.consent,
        consent_photo: p.consent_file.is_some(),
        linked_by: p.linked_by,
        linked_at: rfc3339(p.linked_at),
        expires_at: rfc3339(p.expires_at),
        joined: p.user_id.is_some(),
        ended_at: p.ended_at.map(rfc3339),
        ended_by: p.ended_by,
        end_reason: p.end_reason,
        code: None,
    })
}

/// The resident a family member's account acts for now, if any: the
/// oldest live link (one at a time; see `link_proxy`).
pub(crate) async fn acting_for(
    tx: &mut Tx,
    user_id: i64,
    family_name: &str,
    now: i64,
) -> Result<Option<(i64, ProxyGrant)>> {
    let Some(p) = store::live_of_user(tx, user_id, now).await?.into_iter().next() else { return Ok(None) };
    let acts = Acts::from_stored(&p.acts).map_err(|e| ServiceError::caused("reading a proxy's acts", e))?;
    let Some(r) = residents::get(tx, p.resident_id).await? else { return Ok(None) };
    let grant = ProxyGrant { id: p.id, acts, family_name: family_name.to_owned(), resident_name: r.name };
    Ok(Some((p.resident_id, grant)))
}

impl Services {
    /// Links a family member to a resident: to the account of that mobile
    /// number, or, where there is none, with a code they sign up with.
    pub async fn link_proxy(
        &self,
        caller: &Caller,
        resident_id: i64,
        input: ProxyInput,
        uploads: Vec<Vec<u8>>,
    ) -> Result<ProxyView> {
        let family_name = crate::fields::text("family_name", &input.family_name, 20)?;
        let phone = match Phone::parse(&input.phone) {
            Ok(p @ Phone::Mobile(_)) => p.normalized(),
            _ => {
                return Err(ServiceError::invalid(
                    "phone",
                    "请填写家属的 11 位手机号",
                    "give the family member's 11-digit mobile",
                ));
            }
        };
        let relation = rules::relation(&input.relation)?;
        let acts = Acts::chosen(&input.acts)?;
        let consent = Consent::from_code(input.consent.trim()).ok_or_else(|| {
            ServiceError::invalid("consent", "同意方式只能是 paper 或 in_person", "consent is paper or in_person")
        })?;
        if uploads.len() > 1 {
            return Err(ServiceError::invalid("consent_photo", "只需一张同意书照片", "one photo of the form"));
        }
        if consent == Consent::Paper && uploads.is_empty() {
            return Err(ServiceError::invalid(
                "consent_photo",
                "请拍下居民签字的同意书",
                "photograph the consent form the resident signed",
            ));
        }
        let phone_key = self.login_key(&phone)?;
        let file = match uploads.into_iter().next() {
            Some(u) => {
                let photo = crate::photos::clean_gated(u, crate::photos::clean).await?;
                let name = format!("consent-{}.{}", uuid::Uuid::new_v4().simple(), photo.extension);
                self.files.put(&name, photo.bytes).await?;
                Some(name)
            }
            None => None,
        };
        let now = self.now();
        let r = self
            .denials_audited(caller, async {
                let mut tx = self.db.write().await?;
                let r = residents::get(&mut tx, resident_id).await?;
                let Some(r) = r.filter(|r| caller.covers(REGISTRARS, &r.grid_path)) else {
                    return Err(ServiceError::denied("proxy_link", format!("resident:{resident_id}")));
                };
                crate::life::on_register(&r)?;
                let account = users::by_username(&mut tx, &phone).await?;
                let user_id = match &account {
                    Some(u) => {
                        let grants = users::grants_of(&mut tx, u.id).await?;
                        if grants.iter().any(|g| g.role != Role::Resident) || u.disabled_at.is_some() {
                            return Err(ServiceError::invalid(
                                "phone",
                                "这个手机号是工作人员账号或已停用,不能代办",
                                "that number belongs to a staff or disabled account: it cannot act for a resident",
                            ));
                        }
                        if users::resident_of(&mut tx, u.id).await?.is_some() {
                            return Err(ServiceError::invalid(
                                "phone",
                                "这个手机号是居民本人的账号,请家属用另一个手机号",
                                "that number is a resident's own account: the family member needs another number",
                            ));
                        }
                        if !store::live_of_user(&mut tx, u.id, now).await?.is_empty() {
                            return Err(ServiceError::conflict(
                                "这位家属已在代办另一位居民,一个家属账号目前只能代办一位",
                                "that family member acts for another resident already: one at a time for now",
                            ));
                        }
                        Some(u.id)
                    }
                    None => None,
                };
                let code = user_id.is_none().then(|| invitation_code(rand::rng().random()));
                let code_hash = code.as_deref().map(token_hash);
                let code_expires = now + INVITATION_DAYS * DAY_MS;
                let acts_stored = acts.stored();
                let new = NewProxy {
                    resident_id: r.id,
                    user_id,
                    family_name: &family_name,
                    relation: &relation,
                    phone_key: &phone_key,
                    acts: &acts_stored,
                    consent,
                    consent_file: file.as_deref(),
                    linked_by: &caller.display_name,
                    now,
                    expires_at: now + rules::PROXY_MS,
                    code: code_hash.as_deref().map(|h| (h, code_expires)),
                };
                let id = store::insert(&mut tx, &new).await?;
                if let Some(u) = user_id
                    && !users::grants_of(&mut tx, u).await?.iter().any(|g| g.org_id == r.grid_id)
                {
                    users::add_grant(&mut tx, u, Role::Resident.code(), r.grid_id, now).await?;
                }
                let e = Event::ok("proxy_link", format!("resident:{}", r.id), &r.grid_path).with(json!({
                    "proxy": id, "relation": relation, "acts": acts_stored, "consent": consent.code(),
                    "account": user_id,
                }));
                record(&mut tx, caller, now, &e).await?;
                let p = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
                tx.commit().await?;
                if let Some(u) = user_id {
                    self.sessions.remove_user(u);
                }
                Ok(ProxyView { code, ..view(p, &r.name, now)? })
            })
            .await;
        if r.is_err()
            && let Some(name) = &file
            && let Err(e) = self.files.remove(name).await
        {
            tracing::warn!(file = %name, error = %crate::error::Report(&e), "an unrecorded consent form stays behind");
        }
        r
    }

    /// A resident's family links, for staff over his grid.
    pub async fn proxies_of(&self, caller: &Caller, resident_id: i64) -> Result<ResidentProxies> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let r = residents::get(&mut tx, resident_id).await?;
            let Some(r) = r.filter(|r| caller.covers(RESIDENT_READERS, &r.grid_path)) else {
                return Err(ServiceError::denied("proxy_list", format!("resident:{resident_id}")));
            };
            let list = store::of_resident(&mut tx, r.id).await?;
            tx.commit().await?;
            let proxies = list.into_iter().map(|p| view(p, &r.name, now)).collect::<Result<_>>()?;
            Ok(ResidentProxies { resident_id: r.id, name: r.name, proxies })
        })
        .await
    }

    /// For a resident: who may act for him. For a family member: whom they act for.
    pub async fn my_proxies(&self, caller: &Caller) -> Result<Vec<ProxyView>> {
        let now = self.now();
        let mut tx = self.db.read().await?;
        let list = match (&caller.proxy, caller.resident_id, caller.user_id) {
            (Some(p), Some(r), _) => {
                let name = &p.resident_name;
                store::of_resident(&mut tx, r)
                    .await?
                    .into_iter()
                    .filter(|x| x.id == p.id)
                    .map(|x| view(x, name, now))
                    .collect::<Result<Vec<_>>>()?
            }
            (None, Some(_), _) => {
                let (r, _) = crate::invitations::own_record(&mut tx, caller).await?;
                let list = store::of_resident(&mut tx, r.id).await?;
                list.into_iter().map(|x| view(x, &r.name, now)).collect::<Result<Vec<_>>>()?
            }
            _ => vec![],
        };
        tx.commit().await?;
        Ok(list)
    }

    /// Ends a link: the resident, the family member, or staff over his grid.
    pub async fn end_proxy(&self, caller: &Caller, id: i64, input: EndProxyInput) -> Result<ProxyView> {
        let reason = crate::fields::optional_text("reason", input.reason.as_deref(), 200)?;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let p = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            let r = residents::get(&mut tx, p.resident_id).await?.ok_or(ServiceError::NotFound)?;
            let himself = caller.proxy.is_none() && caller.resident_id == Some(r.id);
            let family = p.user_id.is_some() && caller.user_id == p.user_id;
            if !(himself || family || caller.covers(REGISTRARS, &r.grid_path)) {
                return Err(ServiceError::denied("proxy_end", format!("proxy:{id}")));
            }
            if !store::end(&mut tx, id, &caller.display_name, &reason, now).await? {
                return Err(ServiceError::conflict("代办已经结束", "it has ended already"));
            }
            let e = Event::ok("proxy_end", format!("proxy:{id}"), &r.grid_path)
                .with(json!({ "resident": r.id, "by_resident": himself, "by_family": family }));
            self.proxy_changed(tx, caller, &e, id, &r.name, now).await
        })
        .await
    }

    /// Renews a live link for another year, for staff over the resident's grid.
    pub async fn renew_proxy(&self, caller: &Caller, id: i64) -> Result<ProxyView> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let p = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            let r = residents::get(&mut tx, p.resident_id).await?.ok_or(ServiceError::NotFound)?;
            if !caller.covers(REGISTRARS, &r.grid_path) {
                return Err(ServiceError::denied("proxy_renew", format!("proxy:{id}")));
            }
            crate::life::on_register(&r)?;
            if !store::renew(&mut tx, id, now + rules::PROXY_MS, now).await? {
                return Err(ServiceError::conflict(
                    "代办已经结束或过期,请重新征得居民同意后登记",
                    "it has ended or lapsed: link them again with the resident's consent",
                ));
            }
            let e = Event::ok("proxy_renew", format!("proxy:{id}"), &r.grid_path).with(json!({ "resident": r.id }));
            self.proxy_changed(tx, caller, &e, id, &r.name, now).await
        })
        .await
    }

    /// Records a change of a link and commits it; the family member's
    /// sessions read the link afresh.
    async fn proxy_changed(
        &self,
        mut tx: Tx,
        caller: &Caller,
        e: &Event<'_>,
        id: i64,
        resident_name: &str,
        now: i64,
    ) -> Result<ProxyView> {
        record(&mut tx, caller, now, e).await?;
        let p = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        if let Some(u) = p.user_id {
            self.sessions.remove_user(u);
        }
        view(p, resident_name, now)
    }

    /// A family member signs up with the code staff gave them: their own
    /// account (the mobile is the login name), acting for the resident.
    pub(crate) async fn join_as_family(
        &self,
        p: Proxy,
        phone: &str,
        password: &str,
        ip: &str,
        now: i64,
    ) -> Result<UserView> {
        if self.login_key(phone)? != p.phone_key {
            return Err(ServiceError::invalid(
                "phone",
                "请填写社区登记的那个手机号",
                "give the mobile number the community recorded for you",
            ));
        }
        self.settings.password_policy.check(password, phone)?;
        let hash = hash_blocking(password.to_owned()).await?;
        let mut tx = self.db.write().await?;
        let r = residents::get(&mut tx, p.resident_id).await?.ok_or(ServiceError::NotFound)?;
        crate::life::on_register(&r)?;
        let taken = || Msg::new(format!("手机号 {phone} 已注册,请直接登录"), format!("{phone} has an account: log in"));
        let user = on_conflict(users::insert(&mut tx, phone, &p.family_name, &hash, now).await, taken)?;
        if !store::activate(&mut tx, p.id, user.id).await? {
            return Err(bad_code());
        }
        users::add_grant(&mut tx, user.id, Role::Resident.code(), r.grid_id, now).await?;
        let who = resident_at(&user, ip);
        let e = Event::ok("proxy_join", format!("user:{}", user.id), &r.grid_path);
        record(&mut tx, &who, now, &e.with(json!({ "proxy": p.id, "resident": r.id }))).await?;
        let view = self.user_view(&mut tx, user).await?;
        tx.commit().await?;
        Ok(view)
    }
}
