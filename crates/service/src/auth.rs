//! Logging in and out, sessions, passwords.
//!
//! Lockout is kept per username string, whether or not such a user exists,
//! and unknown usernames are checked against a dummy hash: both kinds of
//! name get the same answers in the same time.

use std::sync::LazyLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use yijia_domain::Msg;
use yijia_domain::user::validate_username;
use yijia_store::{Tx, sessions, users};

use crate::audit::{Event, record};
use crate::caller::Grant;
use crate::{Caller, Result, ServiceError, Services};

/// Refresh `last_seen_at` at most this often, so that reads stay reads.
const TOUCH_EVERY_MS: i64 = 60_000;

static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("this is not anybody's password").unwrap_or_default());

/// Argon2id with OWASP's 7 MiB / 5 passes / 1 lane profile: as strong as
/// the 19 MiB / 2 passes default by their reckoning, with a smaller working
/// area for a small server to hold. Verification reads the parameters from
/// each stored hash, so hashes made with other parameters still verify.
fn argon2() -> Argon2<'static> {
    match argon2::Params::new(7 * 1024, 5, 1, None) {
        Ok(p) => Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p),
        Err(_) => Argon2::default(),
    }
}

pub fn hash_password(password: &str) -> Result<String> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::caused("hashing a password failed", e))
}

fn verify_password(password: &str, hash: &str) -> bool {
    argon2().verify_password(password.as_bytes(), hash).is_ok()
}

/// Argon2 takes tens of milliseconds: keep it off the async threads.
type HashJob = Box<dyn FnOnce() + Send>;

/// Argon2 works in 19 MiB and takes tens of milliseconds: it runs on one
/// thread of its own, off the async threads, so that the memory an idle
/// server holds stays at one working area however many threads there are.
static HASHER: LazyLock<std::sync::Mutex<std::sync::mpsc::Sender<HashJob>>> = LazyLock::new(|| {
    let (tx, rx) = std::sync::mpsc::channel::<HashJob>();
    let spawned = std::thread::Builder::new().name("argon2".into()).spawn(move || {
        for job in rx {
            job();
        }
    });
    if let Err(e) = spawned {
        tracing::error!(error = %crate::error::Report(&e), "could not start the password hashing thread");
    }
    std::sync::Mutex::new(tx)
});

async fn on_hash_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: HashJob = Box::new(move || {
        let _ = tx.send(f());
    });
    HASHER
        .lock()
        .map_err(|_| ServiceError::internal("the password hashing thread is gone"))?
        .send(job)
        .map_err(|_| ServiceError::internal("the password hashing thread is gone"))?;
    rx.await.map_err(|_| ServiceError::internal("password hashing failed"))
}

/// Checks a password against a hash, or, for an unknown user (`None`),
/// against a dummy hash, so that both take the same time.
async fn verify_blocking(password: String, hash: Option<String>) -> Result<bool> {
    on_hash_thread(move || {
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        verify_password(&password, &hash)
    })
    .await
}

pub(crate) async fn hash_blocking(password: String) -> Result<String> {
    on_hash_thread(move || hash_password(&password)).await?
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn bad_credentials() -> ServiceError {
    ServiceError::Unauthenticated(Msg::new("用户名或密码不正确", "wrong username or password"))
}

/// What a failed login was, for `login_failed`.
pub(crate) struct Failed<'a> {
    pub key: &'a str,
    /// The audit's object: `user:ID`, or `login:` and a keyed hash.
    pub attempted: &'a str,
    pub outcome: &'static str,
    pub factor: Option<&'static str>,
    /// The name's lockout, if it had one: failures before its end are spent.
    pub lock: Option<(i64, i64)>,
}

pub(crate) fn too_many_from_address() -> ServiceError {
    ServiceError::RateLimited(Msg::new(
        "登录尝试过于频繁,请稍后再试",
        "too many login attempts from this address; try again later",
    ))
}

pub(crate) fn locked() -> ServiceError {
    ServiceError::Locked(Msg::new(
        "登录失败次数过多,该账户已暂时锁定,请 30 分钟后再试",
        "too many failed logins: this account is locked for 30 minutes",
    ))
}

fn session_over() -> ServiceError {
    ServiceError::Unauthenticated(Msg::new("登录已过期,请重新登录", "your session has ended; please log in again"))
}

/// Sessions this server checked against the database a moment ago.
#[derive(Debug, Default)]
pub(crate) struct SessionCache {
    map: std::sync::Mutex<std::collections::HashMap<String, (Caller, i64)>>,
}

const SESSION_CACHE_MAX: usize = 10_000;

impl SessionCache {
    fn get(&self, token_hash: &str, now: i64, ttl: i64) -> Option<Caller> {
        let map = self.map.lock().ok()?;
        map.get(token_hash).filter(|(_, at)| now - *at < ttl && now >= *at).map(|(c, _)| c.clone())
    }

    fn put(&self, token_hash: String, caller: Caller, now: i64) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= SESSION_CACHE_MAX {
                map.clear();
            }
            map.insert(token_hash, (caller, now));
        }
    }

    pub(crate) fn remove(&self, token_hash: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(token_hash);
        }
    }

    pub(crate) fn remove_user(&self, user_id: i64) {
        if let Ok(mut map) = self.map.lock() {
            map.retain(|_, (c, _)| c.user_id != Some(user_id));
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
    pub disabled: bool,
    /// Under the strict password profile: the password must be changed now.
    pub password_expired: bool,
    /// Logs in with a second factor.
    pub two_factor: bool,
    /// Staff: the phone residents call them on (in the user list; not in
    /// `/me`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_phone: Option<String>,
}

impl UserView {
    /// As others see it: a login name that is a mobile number (a
    /// resident's) masked, `138****5678`.
    pub fn masked(self) -> Self {
        Self { username: yijia_domain::phone::mask_mobiles(&self.username), ..self }
    }
}

#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub token: String,
    pub csrf_token: String,
    pub user: UserView,
    /// The session may only set up a second factor until it has one.
    pub must_enrol: bool,
}

/// Where a login comes from: the client's address and browser.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: String,
    /// The `User-Agent` header (the session keeps 200 characters of it).
    pub user_agent: String,
}

pub(crate) fn to_grants(rows: Vec<users::Grant>) -> Vec<Grant> {
    rows.into_iter()
        .map(|g| Grant {
            role: g.role,
            org_kind: g.org_kind,
            org_code: g.org_code,
            org_name: g.org_name,
            org_path: g.org_path,
        })
        .collect()
}

impl Services {
    pub(crate) async fn user_view(&self, tx: &mut Tx, u: users::User) -> Result<UserView> {
        let grants = to_grants(users::grants_of(tx, u.id).await?);
        let two_factor = has_totp(tx, u.id).await?;
        Ok(UserView {
            two_factor,
            id: u.id,
            password_expired: self.settings.password_policy.expired(u.password_set_at, self.now()),
            username: u.username,
            display_name: u.display_name,
            grants,
            disabled: u.disabled_at.is_some(),
            work_phone: u.work_phone,
        })
    }

    /// Logs in with a password and, for a user with a second factor, its
    /// code (`totp`): missing, `TotpRequired`; wrong, counted like a wrong
    /// password toward the lockout.
    pub async fn login(&self, username: &str, password: &str, totp: Option<&str>, from: &Origin) -> Result<LoggedIn> {
        let ip = from.ip.as_str();
        let name = username.trim().to_lowercase();
        let s = &self.settings;
        let now = self.now();
        let anonymous =
            Caller { user_id: None, username: String::new(), ip: ip.to_owned(), grants: vec![], ..Caller::operator() };

        let mut tx = self.db.read().await?;
        if sessions::attempts_from_ip(&mut tx, ip, now - s.ip_window_ms).await? >= s.ip_attempts {
            return Err(too_many_from_address());
        }
        // Attempts and lockouts are kept under a keyed hash of the name, so
        // that a password typed as a name is not kept either.
        let key = self.login_key(&name)?;
        let lock = sessions::lockout_until(&mut tx, &key).await?;
        let user = match validate_username(&name) {
            Ok(_) => users::by_username(&mut tx, &name).await?,
            Err(_) => None,
        };
        tx.commit().await?;

        // What was typed as a name may be a password or an ID number: the
        // append-only log keeps a real account's id, or a keyed hash.
        let attempted = match &user {
            Some(u) => format!("user:{}", u.id),
            None => format!("login:{}", &key[2..18]),
        };
        if let Some((_, until)) = lock.filter(|(_, until)| *until > now) {
            let mut tx = self.db.write().await?;
            sessions::record_attempt(&mut tx, &key, ip, now, false).await?;
            let e = Event { outcome: "locked", ..Event::ok("login", attempted.clone(), "/root/") };
            record(&mut tx, &anonymous, now, &e.with(json!({ "locked_until": until }))).await?;
            tx.commit().await?;
            return Err(locked());
        }

        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let password_ok = verify_blocking(password.to_owned(), hash).await?;
        let enabled = user.as_ref().is_some_and(|u| u.disabled_at.is_none());

        let mut tx = self.db.write().await?;
        // the password is right: a user with a second factor gives its code
        let factor = match (&user, password_ok && enabled) {
            (Some(u), true) if has_totp(&mut tx, u.id).await? => match totp.filter(|c| !c.trim().is_empty()) {
                None => {
                    tx.commit().await?;
                    return Err(crate::two_factor::totp_required());
                }
                Some(code) => self.take_second_factor(&mut tx, u.id, &u.username, code, now).await?.ok_or(()),
            },
            _ => Ok("password"),
        };
        let (Some(user), true, true, Ok(factor)) = (user, password_ok, enabled, factor) else {
            let outcome = match (password_ok, enabled) {
                (false, _) => "failed",
                (true, false) => "disabled",
                (true, true) => "totp_failed",
            };
            let failed = Failed { key: &key, attempted: &attempted, outcome, factor: None, lock };
            self.login_failed(&mut tx, &anonymous, &failed, now).await?;
            tx.commit().await?;
            if outcome == "totp_failed" {
                return Err(ServiceError::Unauthenticated(Msg::new(
                    "验证码不正确或已用过,请输入应用里最新的 6 位数字",
                    "wrong or already used code: enter the app's latest 6 digits",
                )));
            }
            return Err(bad_credentials());
        };

        self.open_session(tx, &key, user, factor, from, now).await
    }

    /// A failed login: the attempt recorded and audited with the failures
    /// since the last success or lockout, and the name locked at the limit
    /// (audited too). The password and the SMS code share it.
    pub(crate) async fn login_failed(&self, tx: &mut Tx, who: &Caller, f: &Failed<'_>, now: i64) -> Result<()> {
        let s = &self.settings;
        sessions::record_attempt(tx, f.key, &who.ip, now, false).await?;
        let since = [
            now - s.lockout_window_ms,
            sessions::last_success(tx, f.key).await?.unwrap_or(0) + 1,
            f.lock.map(|l| l.1).unwrap_or(0),
        ]
        .into_iter()
        .max()
        .unwrap_or(now);
        let failures = sessions::failures_since(tx, f.key, since).await?;
        let e = Event { outcome: f.outcome, ..Event::ok("login", f.attempted.to_owned(), "/root/") };
        let detail = match f.factor {
            Some(factor) => json!({ "failures": failures, "factor": factor }),
            None => json!({ "failures": failures }),
        };
        record(tx, who, now, &e.with(detail)).await?;
        if failures >= s.lockout_failures {
            sessions::set_lockout(tx, f.key, now, now + s.lockout_ms).await?;
            let e = Event::ok("lockout", f.attempted.to_owned(), "/root/");
            record(tx, who, now, &e.with(json!({ "until": now + s.lockout_ms }))).await?;
        }
        Ok(())
    }

    /// Attempts and lockouts of a login name (a resident's is her phone),
    /// kept under a keyed hash: the password and the SMS code count alike.
    pub(crate) fn login_key(&self, name: &str) -> Result<String> {
        Ok(format!("h:{}", &self.keys.blind("login", name)?[..32]))
    }

    /// A login that passed: the attempt recorded, the lockout cleared, a
    /// session opened and the login audited with how it was made.
    pub(crate) async fn open_session(
        &self,
        mut tx: Tx,
        key: &str,
        user: users::User,
        factor: &str,
        from: &Origin,
        now: i64,
    ) -> Result<LoggedIn> {
        let ip = from.ip.as_str();
        sessions::record_attempt(&mut tx, key, ip, now, true).await?;
        sessions::clear_lockout(&mut tx, key).await?;
        let token = random_token();
        let csrf_token = random_token();
        sessions::insert(
            &mut tx,
            &sessions::Session {
                token_hash: token_hash(&token),
                user_id: user.id,
                csrf_token: csrf_token.clone(),
                created_at: now,
                last_seen_at: now,
                ip: ip.to_owned(),
                user_agent: from.user_agent.chars().take(200).collect(),
            },
        )
        .await?;
        let view = self.user_view(&mut tx, user).await?;
        let must_enrol = factor == "password" && self.totp_required_for(&view.grants);
        let who = Caller {
            user_id: Some(view.id),
            username: view.username.clone(),
            ip: ip.to_owned(),
            grants: vec![],
            ..Caller::operator()
        };
        let home = view.grants.first().map(|g| g.org_path.clone()).unwrap_or_else(|| "/root/".to_owned());
        let e = Event::ok("login", format!("user:{}", view.id), &home);
        record(&mut tx, &who, now, &e.with(json!({ "factor": factor, "must_enrol": must_enrol }))).await?;
        tx.commit().await?;
        Ok(LoggedIn { token, csrf_token, user: view, must_enrol })
    }

    /// The caller behind a session token, or `Unauthenticated` when the
    /// session is unknown, idle too long, too old, or its user disabled.
    /// A session checked within the last `session_cache_ms` is answered from
    /// memory; every change that ends sessions clears it here at once.
    pub async fn authenticate(&self, token: &str, ip: &str) -> Result<Caller> {
        let now = self.now();
        let th = token_hash(token);
        if let Some(c) = self.sessions.get(&th, now, self.settings.session_cache_ms) {
            return Ok(Caller { ip: ip.to_owned(), ..c });
        }
        let mut conn = self.db.conn().await?;
        let Some(s) = sessions::with_user(&mut conn, &th).await? else {
            return Err(session_over());
        };
        let idle = now - s.last_seen_at > self.settings.session_idle_ms;
        let old = now - s.created_at > self.settings.session_absolute_ms;
        if idle || old || s.disabled_at.is_some() {
            drop(conn);
            let mut tx = self.db.write().await?;
            sessions::delete(&mut tx, &th).await?;
            tx.commit().await?;
            return Err(session_over());
        }
        let mut grants = to_grants(users::grants_of(&mut conn, s.user_id).await?);
        let proxy = match s.resident_id {
            Some(_) => None,
            None => crate::proxies::acting_for(&mut conn, s.user_id, &s.display_name, now).await?,
        };
        // a family member's account whose links ended or lapsed reaches nothing of the community
        if s.resident_id.is_none()
            && proxy.is_none()
            && yijia_store::proxies::ever_of_user(&mut conn, s.user_id).await?
        {
            grants.retain(|g| g.role != yijia_domain::role::Role::Resident);
        }
        drop(conn);
        let must_enrol = !s.totp && self.totp_required_for(&grants);
        if now - s.last_seen_at > TOUCH_EVERY_MS {
            let mut tx = self.db.write().await?;
            sessions::touch(&mut tx, &th, now).await?;
            tx.commit().await?;
        }
        let (resident_id, display_name, proxy) = match proxy {
            // what a family member does is recorded under both names
            Some((resident_id, grant)) => {
                (Some(resident_id), format!("{}(由家属{}代办)", grant.resident_name, grant.family_name), Some(grant))
            }
            None => (s.resident_id, s.display_name, None),
        };
        let caller = Caller {
            user_id: Some(s.user_id),
            username: s.username,
            display_name,
            grants,
            ip: ip.to_owned(),
            csrf_token: Some(s.csrf_token),
            token_hash: Some(th.clone()),
            password_set_at: s.password_set_at,
            api_key: None,
            resident_id,
            proxy,
            must_enrol,
            two_factor: s.totp,
        };
        self.sessions.put(th, caller.clone(), now);
        Ok(caller)
    }

    pub async fn logout(&self, caller: &Caller) -> Result<()> {
        let Some(th) = &caller.token_hash else {
            return Ok(());
        };
        self.sessions.remove(th);
        let mut tx = self.db.write().await?;
        sessions::delete(&mut tx, th).await?;
        record(
            &mut tx,
            caller,
            self.now(),
            &Event::ok("logout", format!("user:{}", caller.user_id.unwrap_or(0)), caller.home_path()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The caller as a user: all of it was read when the session was.
    pub fn me(&self, caller: &Caller) -> Result<UserView> {
        let id = caller.user_id.ok_or(ServiceError::NotFound)?;
        Ok(UserView {
            id,
            username: caller.username.clone(),
            display_name: caller.display_name.clone(),
            grants: caller.grants.clone(),
            disabled: false,
            password_expired: self.settings.password_policy.expired(caller.password_set_at, self.now()),
            two_factor: caller.two_factor,
            // the session does not carry it: the user list shows it
            work_phone: None,
        })
    }

    /// Changes the caller's own password; every session of theirs ends,
    /// this one included.
    pub async fn change_own_password(&self, caller: &Caller, current: &str, new: &str) -> Result<()> {
        let id = caller.user_id.ok_or(ServiceError::NotFound)?;
        let mut tx = self.db.read().await?;
        let u = users::by_id(&mut tx, id).await?;
        tx.commit().await?;
        if !verify_blocking(current.to_owned(), Some(u.password_hash.clone())).await? {
            return Err(ServiceError::invalid("current_password", "当前密码不正确", "the current password is wrong"));
        }
        if current == new {
            return Err(ServiceError::invalid(
                "new_password",
                "新密码不能与当前密码相同",
                "the new password must differ from the current one",
            ));
        }
        self.settings.password_policy.check(new, &u.username)?;
        let hash = hash_blocking(new.to_owned()).await?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        users::set_password(&mut tx, id, &hash, now).await?;
        let ended = sessions::delete_for_user(&mut tx, id).await?;
        self.sessions.remove_user(id);
        let e = Event::ok("password_change", format!("user:{id}"), caller.home_path());
        record(&mut tx, caller, now, &e.with(json!({ "sessions_ended": ended }))).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// One of a person's sessions, as they see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// Names the session for ending it; not its token.
    pub id: String,
    /// The browser and system, as its `User-Agent` tells them.
    pub device: String,
    pub ip: String,
    pub created_at: String,
    pub last_seen_at: String,
    /// The session this request came with.
    pub current: bool,
}

/// A session's public name: the start of its token's hash.
fn session_id(token_hash: &str) -> &str {
    token_hash.get(..16).unwrap_or(token_hash)
}

fn session_views(rows: Vec<sessions::Session>, current: Option<&str>) -> Vec<SessionView> {
    rows.into_iter()
        .map(|s| SessionView {
            id: session_id(&s.token_hash).to_owned(),
            device: yijia_domain::device::describe(&s.user_agent),
            current: current == Some(s.token_hash.as_str()),
            ip: s.ip,
            created_at: yijia_domain::time::rfc3339(s.created_at),
            last_seen_at: yijia_domain::time::rfc3339(s.last_seen_at),
        })
        .collect()
}

impl Services {
    /// The caller's own sessions, the latest used first.
    pub async fn my_sessions(&self, caller: &Caller) -> Result<Vec<SessionView>> {
        let id = caller.user_id.ok_or(ServiceError::NotFound)?;
        let mut tx = self.db.read().await?;
        let rows = sessions::of_user(&mut tx, id).await?;
        tx.commit().await?;
        Ok(session_views(rows, caller.token_hash.as_deref()))
    }

    /// Ends one of the caller's sessions (this one too, if named).
    pub async fn end_my_session(&self, caller: &Caller, session: &str) -> Result<()> {
        let id = caller.user_id.ok_or(ServiceError::NotFound)?;
        self.end_session_of(caller, id, Some(session)).await.map(|_| ())
    }

    /// A user's sessions, for who manages the user.
    pub async fn user_sessions(&self, caller: &Caller, username: &str) -> Result<Vec<SessionView>> {
        if !caller.has_any(crate::roles::USER_MANAGERS) {
            return Err(ServiceError::forbidden());
        }
        let u = self.managed_user(caller, username, "sessions_read").await?;
        let mut tx = self.db.read().await?;
        let rows = sessions::of_user(&mut tx, u.id).await?;
        tx.commit().await?;
        Ok(session_views(rows, caller.token_hash.as_deref()))
    }

    /// Ends one session of a user (`Some(id)`) or all of them; answers how
    /// many ended.
    pub async fn end_user_sessions(&self, caller: &Caller, username: &str, session: Option<&str>) -> Result<u64> {
        if !caller.has_any(crate::roles::USER_MANAGERS) {
            return Err(ServiceError::forbidden());
        }
        let u = self.managed_user(caller, username, "session_end").await?;
        self.end_session_of(caller, u.id, session).await
    }

    async fn end_session_of(&self, caller: &Caller, user_id: i64, session: Option<&str>) -> Result<u64> {
        let now = self.now();
        let mut tx = self.db.write().await?;
        let rows = sessions::of_user(&mut tx, user_id).await?;
        let chosen: Vec<&sessions::Session> =
            rows.iter().filter(|s| session.is_none_or(|id| session_id(&s.token_hash) == id)).collect();
        if let Some(id) = session
            && chosen.is_empty()
        {
            // not one of theirs: someone else's, or a guess (kept only
            // when it has a session id's shape: the log keeps no typed text)
            drop(tx);
            let shown = if id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) { id } else { "?" };
            return Err(self.deny(caller, "session_end", &format!("session:{shown}")).await);
        }
        for s in &chosen {
            sessions::delete(&mut tx, &s.token_hash).await?;
            self.sessions.remove(&s.token_hash);
        }
        let ended: Vec<&str> = chosen.iter().map(|s| session_id(&s.token_hash)).collect();
        let e = Event::ok("session_end", format!("user:{user_id}"), caller.home_path());
        record(&mut tx, caller, now, &e.with(json!({ "sessions": ended }))).await?;
        tx.commit().await?;
        Ok(ended.len() as u64)
    }
}

/// Whether a user has a confirmed second factor.
async fn has_totp(tx: &mut Tx, user_id: i64) -> Result<bool> {
    Ok(yijia_store::totp::get(tx, user_id).await?.is_some_and(|t| t.confirmed_at.is_some()))
}
