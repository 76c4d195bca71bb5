//! Logging in with a one-time SMS code: for residents, who need no password
//! to remember (staff keep passwords and, where required, a second factor).
//!
//! A code is six digits, lives five minutes, is used once, and five wrong
//! tries end it; asking again retires the one before. A phone gets one a
//! minute and five an hour, an address twenty an hour. The phone and the
//! code are kept only as keyed hashes. The answer to "send me a code" is
//! the same whether or not the number has an account, and a wrong code
//! counts toward the same lockout as a wrong password.

use serde_json::json;
use yijia_domain::Msg;
use yijia_domain::notify::{Params, Topic};
use yijia_domain::phone::Phone;
use yijia_domain::role::Role;
use yijia_domain::time::{HOUR_MS, MINUTE_MS};
use yijia_store::{sessions, users};

use crate::audit::{Event, record};
use crate::auth::{Failed, LoggedIn, Origin, locked, too_many_from_address};
use crate::notify::send::Outgoing;
use crate::{Caller, Result, ServiceError, Services};

pub const CODE_TTL_MS: i64 = 5 * MINUTE_MS;
const CODE_TRIES: i64 = 5;
const RESEND_AFTER_MS: i64 = MINUTE_MS;
const PER_PHONE_HOUR: i64 = 5;
const PER_IP_HOUR: i64 = 20;

fn bad_code() -> ServiceError {
    ServiceError::Unauthenticated(Msg::new(
        "验证码不正确或已过期,请重新获取",
        "wrong or expired code: ask for a new one",
    ))
}

fn phone_field(input: &str) -> Result<Phone> {
    Phone::parse(input).map_err(|e| ServiceError::Invalid(yijia_domain::Invalid { field: "phone".into(), ..e }))
}

/// Who acts before anyone is logged in: the audit's actor.
fn anonymous(ip: &str) -> Caller {
    Caller { user_id: None, username: String::new(), ip: ip.to_owned(), grants: vec![], ..Caller::operator() }
}

impl Services {
    /// Whether residents may ask for a login code: the site sends SMS.
    pub fn sends_sms(&self) -> bool {
        self.senders.sms.is_some()
    }

    /// The SMS that carries a code goes only to a resident's own account.
    async fn resident_by_phone(&self, tx: &mut yijia_store::Tx, phone: &str) -> Result<Option<users::User>> {
        let Some(u) = users::by_username(tx, phone).await?.filter(|u| u.disabled_at.is_none()) else {
            return Ok(None);
        };
        let grants = users::grants_of(tx, u.id).await?;
        let resident_only = !grants.is_empty() && grants.iter().all(|g| g.role == Role::Resident);
        Ok(resident_only.then_some(u))
    }

    /// Sends a login code to a resident's phone. Answers alike whether or
    /// not the number has an account.
    pub async fn send_login_code(&self, phone: &str, from: &Origin) -> Result<()> {
        let phone = phone_field(phone)?.normalized();
        let Some(sms) = self.senders.sms.as_deref() else {
            return Err(ServiceError::conflict(
                "本站尚未开通短信,请用密码或工作人员给的邀请码登录",
                "this site sends no SMS yet: log in with your password or an invitation code from staff",
            ));
        };
        let ip = from.ip.as_str();
        let now = self.now();
        let key = self.login_key(&phone)?;
        let mut tx = self.db.write().await?;
        let (sent, last) = sessions::login_codes_to(&mut tx, &key, now - HOUR_MS).await?;
        if last.is_some_and(|t| now - t < RESEND_AFTER_MS) {
            return Err(ServiceError::RateLimited(Msg::new(
                "验证码刚刚发过,请等 1 分钟再获取",
                "a code was sent a moment ago: wait a minute before asking again",
            )));
        }
        if sent >= PER_PHONE_HOUR || sessions::login_codes_from(&mut tx, ip, now - HOUR_MS).await? >= PER_IP_HOUR {
            return Err(ServiceError::RateLimited(Msg::new(
                "获取验证码过于频繁,请一小时后再试",
                "too many codes asked for: try again in an hour",
            )));
        }
        let code = format!("{:06}", rand::random_range(0..1_000_000u32));
        let user = self.resident_by_phone(&mut tx, &phone).await?;
        // a number with no account keeps a code no one can know
        let hashed = match &user {
            Some(_) => self.keys.blind("login_code", &format!("{phone}:{code}"))?,
            None => self.keys.blind("login_code", &format!("{phone}:{}", rand::random::<u64>()))?,
        };
        sessions::insert_login_code(&mut tx, &key, &hashed, ip, now, now + CODE_TTL_MS).await?;
        let Some(user) = user else {
            let e =
                Event { outcome: "no_account", ..Event::ok("login_code", format!("login:{}", &key[2..18]), "/root/") };
            record(&mut tx, &anonymous(ip), now, &e).await?;
            tx.commit().await?;
            return Ok(());
        };
        tx.commit().await?;

        let message_id = format!("code-{}", hex::encode(rand::random::<[u8; 8]>()));
        let params = Params::default().with("code", code);
        let out =
            Outgoing { message_id: &message_id, to: &phone, topic: Topic::LoginCode, params: &params, secret: None };
        let result = sms.send(&out).await;
        let masked = phone_field(&phone)?.masked();
        let (outcome, detail) = match &result {
            Ok(provider_id) => ("ok", json!({ "to": masked, "message_id": message_id, "provider_id": provider_id })),
            Err(e) => ("failed", json!({ "to": masked, "message_id": message_id, "error": format!("{e:?}") })),
        };
        let mut tx = self.db.write().await?;
        let e = Event { outcome, ..Event::ok("login_code", format!("user:{}", user.id), "/root/") };
        record(&mut tx, &anonymous(ip), self.now(), &e.with(detail)).await?;
        tx.commit().await?;
        match result {
            Ok(_) => Ok(()),
            Err(_) => Err(ServiceError::conflict(
                "短信没有发出去,请稍后再试,或用密码登录",
                "the SMS did not go out: try again later, or log in with your password",
            )),
        }
    }

    /// Logs a resident in with the code sent to her phone.
    pub async fn login_with_code(&self, phone: &str, code: &str, from: &Origin) -> Result<LoggedIn> {
        let phone = phone_field(phone)?.normalized();
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ServiceError::invalid("code", "验证码是 6 位数字", "the code is 6 digits"));
        }
        let ip = from.ip.as_str();
        let now = self.now();
        let s = &self.settings;
        let key = self.login_key(&phone)?;
        let mut tx = self.db.write().await?;
        if sessions::attempts_from_ip(&mut tx, ip, now - s.ip_window_ms).await? >= s.ip_attempts {
            return Err(too_many_from_address());
        }
        let lock = sessions::lockout_until(&mut tx, &key).await?;
        if lock.is_some_and(|(_, until)| until > now) {
            return Err(locked());
        }
        let live = sessions::live_login_code(&mut tx, &key, now).await?.filter(|c| c.attempts < CODE_TRIES);
        let right = self.keys.blind("login_code", &format!("{phone}:{code}"))?;
        let user = self.resident_by_phone(&mut tx, &phone).await?;
        let passed = match (&live, &user) {
            (Some(c), Some(_)) if c.code_hash == right => sessions::use_login_code(&mut tx, c.id, now).await?,
            _ => false,
        };
        let (Some(user), true) = (user, passed) else {
            if let Some(c) = &live {
                sessions::count_login_code_attempt(&mut tx, c.id).await?;
            }
            let attempted = format!("login:{}", &key[2..18]);
            let failed = Failed { key: &key, attempted: &attempted, outcome: "failed", factor: Some("sms_code"), lock };
            self.login_failed(&mut tx, &anonymous(ip), &failed, now).await?;
            tx.commit().await?;
            return Err(bad_code());
        };
        self.open_session(tx, &key, user, "sms_code", from, now).await
    }
}
