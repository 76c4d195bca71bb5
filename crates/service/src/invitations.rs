//! A resident's own account: staff give a one-time invitation code for a
//! record in the registry; the resident signs up with it, their mobile
//! number and a password, and the account sees that record only.

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::Msg;
use yijia_domain::phone::Phone;
use yijia_domain::proxy::Act;
use yijia_domain::role::Role;
use yijia_domain::time::{DAY_MS, rfc3339};
use yijia_domain::user::{invitation_code, normalize_invitation_code};
use yijia_store::{Tx, org, residents, sessions, users};

use crate::audit::{Event, record};
use crate::auth::{UserView, hash_blocking, token_hash};
use crate::error::on_conflict;
use crate::org::community_of;
use crate::roles::REGISTRARS;
use crate::{Caller, Result, ServiceError, Services};

/// How long a code works.
pub const INVITATION_DAYS: i64 = 14;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvitationView {
    /// Shown once: only its hash is kept.
    pub code: String,
    pub resident_id: i64,
    pub name: String,
    /// RFC 3339.
    pub expires_at: String,
    /// They have an account: the code sets a new password for it (with
    /// the mobile number they log in with).
    pub for_reset: bool,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct JoinInput {
    /// The code from the invitation, with or without its dash.
    pub code: String,
    /// The resident's mobile number: it becomes the login name.
    pub phone: String,
    pub password: String,
}

pub(crate) fn bad_code() -> ServiceError {
    ServiceError::invalid(
        "code",
        "邀请码不正确、已使用或已过期,请向网格员索取新的邀请码",
        "the invitation code is wrong, used or expired; ask your grid worker for a new one",
    )
}

impl Services {
    /// A new invitation code for a resident in the caller's grids; an
    /// earlier unused one stops working.
    pub async fn invite_resident(&self, caller: &Caller, resident_id: i64) -> Result<InvitationView> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let Some(r) = residents::get(&mut tx, resident_id).await? else { return Err(ServiceError::NotFound) };
            if !caller.covers(REGISTRARS, &r.grid_path) {
                return Err(ServiceError::denied("resident_invite", format!("resident:{resident_id}")));
            }
            crate::life::on_register(&r)?;
            // with an account already, the code is the way back in after a
            // forgotten password: it sets a new one
            let for_reset = users::user_of_resident(&mut tx, r.id).await?.is_some();
            let code = invitation_code(rand::rng().random());
            let expires_at = now + INVITATION_DAYS * DAY_MS;
            users::expire_invitations(&mut tx, r.id, now).await?;
            users::insert_invitation(&mut tx, &token_hash(&code), r.id, caller.user_id, now, expires_at).await?;
            let e = Event::ok("resident_invite", format!("resident:{}", r.id), &r.grid_path);
            record(&mut tx, caller, now, &e.with(json!({ "for_reset": for_reset }))).await?;
            tx.commit().await?;
            Ok(InvitationView { code, resident_id: r.id, name: r.name, expires_at: rfc3339(expires_at), for_reset })
        })
        .await
    }

    /// A resident signs up with an invitation code. Wrong codes count as
    /// failed logins of the address, so codes cannot be guessed.
    pub async fn join(&self, input: JoinInput, ip: &str) -> Result<UserView> {
        let s = &self.settings;
        let now = self.now();
        let mut tx = self.db.read().await?;
        let tries = sessions::attempts_from_ip(&mut tx, ip, now - s.ip_window_ms).await?;
        tx.commit().await?;
        if tries >= s.ip_attempts {
            return Err(ServiceError::RateLimited(Msg::new(
                "尝试过于频繁,请稍后再试",
                "too many attempts from this address; try again later",
            )));
        }
        let phone = match Phone::parse(&input.phone) {
            Ok(p @ Phone::Mobile(_)) => p.normalized(),
            _ => {
                return Err(ServiceError::invalid(
                    "phone",
                    "请填写 11 位手机号,它就是登录名",
                    "give your 11-digit mobile number: it is your login name",
                ));
            }
        };
        let Some(code) = normalize_invitation_code(&input.code) else {
            return self.join_refused(ip, now).await;
        };
        let mut tx = self.db.read().await?;
        let inv = users::invitation(&mut tx, &token_hash(&code)).await?;
        tx.commit().await?;
        let Some(inv) = inv.filter(|i| i.used_at.is_none() && i.expires_at > now) else {
            // a family member's code, given when staff linked them to a resident
            let mut tx = self.db.read().await?;
            let proxy = yijia_store::proxies::by_code(&mut tx, &token_hash(&code), now).await?;
            tx.commit().await?;
            return match proxy {
                Some(p) => self.join_as_family(p, &phone, &input.password, ip, now).await,
                None => self.join_refused(ip, now).await,
            };
        };
        self.settings.password_policy.check(&input.password, &phone)?;
        let hash = hash_blocking(input.password.clone()).await?;

        let mut tx = self.db.write().await?;
        let r = residents::get(&mut tx, inv.resident_id).await?.ok_or(ServiceError::NotFound)?;
        crate::life::on_register(&r)?;
        if let Some(user_id) = users::user_of_resident(&mut tx, r.id).await? {
            return self.reset_by_code(tx, &inv.code_hash, (user_id, &r.grid_path), &phone, &hash, ip, now).await;
        }
        let taken = || Msg::new(format!("手机号 {phone} 已注册,请直接登录"), format!("{phone} has an account: log in"));
        let user = on_conflict(users::insert(&mut tx, &phone, &r.name, &hash, now).await, taken)?;
        if !users::use_invitation(&mut tx, &inv.code_hash, user.id, now).await?
            || users::user_of_resident(&mut tx, r.id).await?.is_some()
        {
            return Err(bad_code());
        }
        users::add_grant(&mut tx, user.id, Role::Resident.code(), r.grid_id, now).await?;
        users::link_resident(&mut tx, user.id, r.id).await?;
        let who = Caller { resident_id: Some(r.id), ..resident_at(&user, ip) };
        let e = Event::ok("resident_join", format!("user:{}", user.id), &r.grid_path);
        record(&mut tx, &who, now, &e.with(json!({ "resident": r.id }))).await?;
        let view = self.user_view(&mut tx, user).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// A code given to a resident who has an account: a new password for it,
    /// if the number is the one they log in with. Their sessions end.
    #[allow(clippy::too_many_arguments)]
    async fn reset_by_code(
        &self,
        mut tx: Tx,
        code_hash: &str,
        (user_id, grid_path): (i64, &str),
        phone: &str,
        hash: &str,
        ip: &str,
        now: i64,
    ) -> Result<UserView> {
        let user = users::by_id(&mut tx, user_id).await?;
        if user.username != phone {
            return Err(ServiceError::invalid(
                "phone",
                "请填写您登录用的手机号(注册账号时的号码)",
                "give the mobile number you log in with (the one you signed up with)",
            ));
        }
        if !users::use_invitation(&mut tx, code_hash, user.id, now).await? {
            return Err(bad_code());
        }
        users::set_password(&mut tx, user.id, hash, now).await?;
        let ended = sessions::delete_for_user(&mut tx, user.id).await?;
        self.sessions.remove_user(user.id);
        let who = resident_at(&user, ip);
        let e = Event::ok("password_reset_by_code", format!("user:{}", user.id), grid_path);
        record(&mut tx, &who, now, &e.with(json!({ "sessions_ended": ended }))).await?;
        let view = self.user_view(&mut tx, user).await?;
        tx.commit().await?;
        Ok(view)
    }

    pub(crate) async fn join_refused<T>(&self, ip: &str, now: i64) -> Result<T> {
        let mut tx = self.db.write().await?;
        sessions::record_attempt(&mut tx, "join", ip, now, false).await?;
        tx.commit().await?;
        Err(bad_code())
    }
}

/// A resident acting with a code, before any session: the audit's actor.
pub(crate) fn resident_at(user: &users::User, ip: &str) -> Caller {
    Caller {
        user_id: Some(user.id),
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        grants: vec![],
        ip: ip.to_owned(),
        ..Caller::operator()
    }
}

/// Someone a resident can call about their grid.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GridContact {
    pub name: String,
    pub role: Role,
    pub role_name: String,
    pub grid_name: String,
    /// The phone they are called on at work; none set yet when missing.
    pub work_phone: Option<String>,
}

impl Services {
    /// For a resident: the grid workers of their grid, by name, with their
    /// work phones.
    pub async fn my_grid_workers(&self, caller: &Caller) -> Result<Vec<GridContact>> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (r, _) = own_record(&mut tx, caller).await?;
            let grid = org::by_id(&mut tx, r.grid_id).await?;
            let workers = users::holders(&mut tx, Role::GridWorker, &[r.grid_id]).await?;
            tx.commit().await?;
            Ok(workers
                .into_iter()
                .map(|h| GridContact {
                    name: h.user.display_name,
                    role: Role::GridWorker,
                    role_name: Role::GridWorker.name_zh().to_owned(),
                    grid_name: grid.name.clone(),
                    work_phone: h.user.work_phone,
                })
                .collect())
        })
        .await
    }
}

/// The caller's own resident record and its community, for a resident's
/// account; any other account is refused.
pub(crate) async fn own_record(tx: &mut Tx, caller: &Caller) -> Result<(residents::Resident, org::OrgNode)> {
    record_of(tx, own_resident_id(caller)?).await
}

/// The resident record the caller acts as for `act` (a family member
/// acting for him only when he allowed it).
pub(crate) async fn own_record_as(
    tx: &mut Tx,
    caller: &Caller,
    act: Act,
) -> Result<(residents::Resident, org::OrgNode)> {
    record_of(tx, own_resident_as(caller, Some(act))?).await
}

async fn record_of(tx: &mut Tx, id: i64) -> Result<(residents::Resident, org::OrgNode)> {
    let r = residents::get(tx, id).await?.ok_or(ServiceError::NotFound)?;
    let com = community_of(tx, &r.grid_path).await?.ok_or(ServiceError::NotFound)?;
    Ok((r, com))
}

/// The resident record a resident's account is linked to (a family
/// member's session reaches it only through `own_resident_as`).
pub(crate) fn own_resident_id(caller: &Caller) -> Result<i64> {
    own_resident_as(caller, None)
}

/// The resident the caller acts as for `act`: their own record, or the
/// resident a family member acts for when he allowed `act`.
pub(crate) fn own_resident_as(caller: &Caller, act: Option<Act>) -> Result<i64> {
    if let Some(p) = &caller.proxy
        && !act.is_some_and(|a| p.acts.allows(a))
    {
        return Err(ServiceError::Forbidden(Msg::new(
            format!("{} 没有授权您代办这件事", p.resident_name),
            format!("{} has not let you do this for them", p.resident_name),
        )));
    }
    caller.resident_id.filter(|_| caller.has_any(&[Role::Resident])).ok_or_else(|| {
        ServiceError::Forbidden(Msg::new(
            "这个账号没有关联居民档案,请向网格员索取邀请码",
            "this account is not linked to a resident record: ask your grid worker for an invitation code",
        ))
    })
}
