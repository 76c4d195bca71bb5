//! Accounts and their grants.

use serde::Deserialize;
use serde_json::json;
use yijia_domain::role::Role;
use yijia_domain::user::{validate_display_name, validate_username};
use yijia_store::{StoreError, Tx, org, sessions, users};

use crate::audit::{Event, record};
use crate::auth::{UserView, hash_blocking};
use crate::error::on_conflict;
use crate::roles::USER_MANAGERS;
use crate::{Caller, Page, PageReq, Result, ServiceError, Services};

/// The roles a secretary may hand out; the rest need an admin.
const SECRETARY_GIVES: &[Role] = &[Role::Resident, Role::GridWorker, Role::StationClerk, Role::CommunityStaff];

#[derive(Debug, Clone, Deserialize)]
pub struct NewGrant {
    pub role: Role,
    pub scope: String,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub grants: Vec<NewGrant>,
}

fn may_give(caller: &Caller, role: Role, path: &str) -> bool {
    caller.covers(&[Role::Admin], path) || (SECRETARY_GIVES.contains(&role) && caller.covers(&[Role::Secretary], path))
}

impl Services {
    /// Resolves and checks one grant: the node exists, suits the role, and
    /// the caller may give that role there. An unknown node and one outside
    /// the caller's scope look the same.
    async fn check_grant(&self, tx: &mut Tx, caller: &Caller, g: &NewGrant, i: usize) -> Result<org::OrgNode> {
        let field = format!("grants[{i}].scope");
        let node = org::by_code(tx, g.scope.trim()).await?;
        let Some(node) = node.filter(|n| caller.is_operator() || caller.covers(USER_MANAGERS, &n.path)) else {
            return Err(ServiceError::invalid(
                &field,
                format!("找不到组织编码「{}」", g.scope),
                format!("no org node with code '{}'", g.scope),
            ));
        };
        let kind = node.kind;
        if !g.role.scope_kinds().contains(&kind) {
            let kinds: Vec<&str> = g.role.scope_kinds().iter().map(|k| k.code()).collect();
            return Err(ServiceError::invalid(
                &field,
                format!(
                    "角色「{}」须授予在{}上,而「{}」是{}",
                    g.role.name_zh(),
                    g.role.scope_kinds().iter().map(|k| k.name_zh()).collect::<Vec<_>>().join("或"),
                    node.code,
                    kind.name_zh()
                ),
                format!(
                    "role '{}' is granted on a {}, but '{}' is a {}",
                    g.role,
                    kinds.join(" or "),
                    node.code,
                    kind.code()
                ),
            ));
        }
        if !may_give(caller, g.role, &node.path) {
            return Err(ServiceError::Forbidden(yijia_domain::Msg::new(
                format!("您不能授予「{}」角色", g.role.name_zh()),
                format!("you may not grant the role '{}'", g.role),
            )));
        }
        Ok(node)
    }

    pub async fn add_user(&self, caller: &Caller, new: NewUser) -> Result<UserView> {
        if !caller.has_any(USER_MANAGERS) {
            return Err(ServiceError::forbidden());
        }
        let username = validate_username(&new.username)?;
        let display_name = validate_display_name(&new.display_name)?;
        if new.grants.is_empty() {
            return Err(ServiceError::invalid("grants", "至少需要一个角色授权", "at least one grant is needed"));
        }
        self.settings.password_policy.check(&new.password, &username)?;
        let hash = hash_blocking(new.password.clone()).await?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let mut nodes = Vec::new();
        for (i, g) in new.grants.iter().enumerate() {
            nodes.push((g.role, self.check_grant(&mut tx, caller, g, i).await?));
        }
        let user = on_conflict(users::insert(&mut tx, &username, &display_name, &hash, now).await, || {
            yijia_domain::Msg::new(
                format!("用户名「{username}」已被使用"),
                format!("the username '{username}' is taken"),
            )
        })?;
        for (role, node) in &nodes {
            match users::add_grant(&mut tx, user.id, role.code(), node.id, now).await {
                Err(StoreError::Conflict(_)) => {
                    return Err(ServiceError::invalid("grants", "同一授权重复出现", "the same grant appears twice"));
                }
                r => r?,
            };
        }
        let home = nodes[0].1.path.clone();
        let grants: Vec<String> = nodes.iter().map(|(r, n)| format!("{r}@{}", n.code)).collect();
        let e = Event::ok("user_add", format!("user:{}", user.id), &home);
        record(&mut tx, caller, now, &e.with(json!({ "username": username, "grants": grants }))).await?;
        let view = self.user_view(&mut tx, user).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Users with a grant inside the caller's scope.
    pub async fn list_users(&self, caller: &Caller, page: PageReq) -> Result<Page<UserView>> {
        let paths = caller.scope_paths(USER_MANAGERS);
        let Some(path) = paths.first() else {
            return Err(ServiceError::forbidden());
        };
        let mut tx = self.db.read().await?;
        let (rows, total) = users::list_within(&mut tx, path, page.per_page, page.offset()).await?;
        let mut items = Vec::with_capacity(rows.len());
        for u in rows {
            items.push(self.user_view(&mut tx, u).await?.masked());
        }
        tx.commit().await?;
        Ok(Page::of(items, total, page))
    }

    /// A user the caller may manage: every grant of theirs lies inside the
    /// caller's scope. Anyone else is "not found", and the attempt audited.
    /// Looks in a transaction of its own, so that a denial can be audited
    /// without waiting on the caller's.
    /// `who` is a username, or `~ID` (what pages link by, so that a
    /// resident's mobile number never sits in a link).
    pub(crate) async fn managed_user(&self, caller: &Caller, who: &str, action: &str) -> Result<users::User> {
        let name = who.trim().to_lowercase();
        let mut tx = self.db.read().await?;
        let user = match name.strip_prefix('~').map(str::parse::<i64>) {
            Some(Ok(id)) => users::find_by_id(&mut tx, id).await?,
            Some(Err(_)) => None,
            None => users::by_username(&mut tx, &name).await?,
        };
        let Some(user) = user else {
            return Err(ServiceError::NotFound);
        };
        let grants = users::grants_of(&mut tx, user.id).await?;
        tx.commit().await?;
        let in_scope = caller.is_operator()
            || caller.covers(&[Role::Admin], "/root/")
            || (!grants.is_empty() && grants.iter().all(|g| may_give(caller, g.role, &g.org_path)));
        if !in_scope {
            return Err(self.deny(caller, action, &format!("user:{}", user.id)).await);
        }
        Ok(user)
    }

    pub async fn get_user(&self, caller: &Caller, username: &str) -> Result<UserView> {
        if !caller.has_any(USER_MANAGERS) {
            return Err(ServiceError::forbidden());
        }
        let u = self.managed_user(caller, username, "user_read").await?;
        let mut tx = self.db.read().await?;
        let v = self.user_view(&mut tx, u).await?;
        tx.commit().await?;
        Ok(v.masked())
    }

    /// Disables (or re-enables) an account; disabling ends its sessions.
    pub async fn set_user_disabled(&self, caller: &Caller, username: &str, disabled: bool) -> Result<UserView> {
        if !caller.has_any(USER_MANAGERS) {
            return Err(ServiceError::forbidden());
        }
        let u = self.managed_user(caller, username, "user_disable").await?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        if caller.user_id == Some(u.id) && disabled {
            return Err(ServiceError::invalid("username", "不能停用自己的账户", "you cannot disable your own account"));
        }
        if !disabled && let Some(rid) = users::resident_of(&mut tx, u.id).await? {
            // a resident's account comes back with the person, not by hand
            let r = yijia_store::residents::get(&mut tx, rid).await?.ok_or(ServiceError::NotFound)?;
            crate::life::on_register(&r)?;
        }
        users::set_disabled(&mut tx, u.id, disabled.then_some(now)).await?;
        let ended = if disabled { sessions::delete_for_user(&mut tx, u.id).await? } else { 0 };
        self.sessions.remove_user(u.id);
        let action = if disabled { "user_disable" } else { "user_enable" };
        let e = Event::ok(action, format!("user:{}", u.id), caller.home_path());
        record(&mut tx, caller, now, &e.with(json!({ "sessions_ended": ended }))).await?;
        let u = users::by_id(&mut tx, u.id).await?;
        let v = self.user_view(&mut tx, u).await?;
        tx.commit().await?;
        Ok(v.masked())
    }

    /// Sets the phone a staff member's residents call them on (empty: none).
    pub async fn set_work_phone(&self, caller: &Caller, username: &str, phone: &str) -> Result<UserView> {
        if !caller.has_any(USER_MANAGERS) {
            return Err(ServiceError::forbidden());
        }
        let phone = match phone.trim() {
            "" => None,
            p => Some(
                yijia_domain::phone::Phone::parse(p)
                    .map_err(|e| ServiceError::Invalid(yijia_domain::Invalid { field: "work_phone".into(), ..e }))?,
            ),
        };
        let u = self.managed_user(caller, username, "user_work_phone").await?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let shown = phone.as_ref().map(|p| p.normalized());
        users::set_work_phone(&mut tx, u.id, shown.as_deref()).await?;
        let e = Event::ok("user_work_phone", format!("user:{}", u.id), caller.home_path());
        record(&mut tx, caller, now, &e.with(json!({ "work_phone": shown }))).await?;
        let u = users::by_id(&mut tx, u.id).await?;
        let v = self.user_view(&mut tx, u).await?;
        tx.commit().await?;
        Ok(v.masked())
    }

    /// Sets another user's password (an admin, a secretary for their
    /// community, or the operator); their sessions end.
    pub async fn reset_password(&self, caller: &Caller, username: &str, password: &str) -> Result<()> {
        if !caller.has_any(USER_MANAGERS) {
            return Err(ServiceError::forbidden());
        }
        let u = self.managed_user(caller, username, "password_reset").await?;
        self.settings.password_policy.check(password, &u.username)?;
        let hash = hash_blocking(password.to_owned()).await?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        users::set_password(&mut tx, u.id, &hash, now).await?;
        let ended = sessions::delete_for_user(&mut tx, u.id).await?;
        self.sessions.remove_user(u.id);
        let e = Event::ok("password_reset", format!("user:{}", u.id), caller.home_path());
        record(&mut tx, caller, now, &e.with(json!({ "sessions_ended": ended }))).await?;
        tx.commit().await?;
        Ok(())
    }
}
