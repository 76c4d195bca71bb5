//! A second factor at login: TOTP (RFC 6238, by `totp-rs`) with one-time
//! recovery codes. Required for the roles in `Settings::require_totp`,
//! optional for everyone else. Whoever must have one and has none yet may
//! only enrol (the web layer lets such a session reach nothing else). A
//! lost factor is removed by another manager (`reset_totp`), audited; the
//! person enrols again at their next login.

use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Secret, Totp};
use yijia_domain::Msg;
use yijia_store::{Tx, sessions, totp};

use crate::audit::{Event, record};
use crate::caller::Grant;
use crate::roles::USER_MANAGERS;
use crate::{Caller, Result, ServiceError, Services};

const ISSUER: &str = "yijia";
const RECOVERY_CODES: usize = 10;
/// Base32 without the letters people confuse (no 0/o, 1/l/i).
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TwoFactorStatus {
    /// A second factor is set up and asked at every login.
    pub enabled: bool,
    /// One of the caller's roles must log in with one.
    pub required: bool,
    /// Recovery codes not used yet.
    pub recovery_codes_left: i64,
}

/// What an authenticator app needs: scan the QR code or type the secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// The secret in base32, for typing into the app.
    pub secret: String,
    /// The `otpauth://` address, for a QR code.
    pub otpauth_url: String,
}

/// Shown once: each code logs in once in place of the app's code.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

fn aad(user_id: i64) -> String {
    format!("user_totp.secret:{user_id}")
}

fn totp_of(secret_b32: &str, account: &str) -> Result<Totp> {
    let bytes = Secret::try_from_base32(secret_b32)
        .map_err(|_| ServiceError::internal("a stored second-factor secret is not base32"))?;
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_secret(bytes)
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| ServiceError::caused("a second-factor secret is unusable", e))
}

/// A recovery code as people type it: spaces, dashes and case ignored.
fn normalize_recovery(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

fn recovery_hash(user_id: i64, code: &str) -> String {
    hex::encode(Sha256::digest(format!("yijia recovery {user_id} {}", normalize_recovery(code)).as_bytes()))
}

/// Ten codes of 16 characters (80 bits each), written `abcd-efgh-jkmn-pqrs`.
fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String =
                (0..16).map(|_| RECOVERY_ALPHABET[rand::random_range(0..RECOVERY_ALPHABET.len())] as char).collect();
            raw.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-")
        })
        .collect()
}

fn wrong_code() -> ServiceError {
    ServiceError::invalid(
        "code",
        "验证码不正确或已用过,请看应用里最新的 6 位数字",
        "wrong or already used code: enter the app's latest 6 digits",
    )
}

pub(crate) fn totp_required() -> ServiceError {
    ServiceError::TotpRequired(Msg::new(
        "请输入身份验证器应用里的 6 位验证码(或一个恢复码)",
        "enter the 6-digit code from your authenticator app (or a recovery code)",
    ))
}

/// Seals every second-factor secret again under the active key.
pub(crate) async fn reseal(tx: &mut Tx, keys: &crate::keys::Keyring) -> Result<usize> {
    let all = totp::all(tx).await?;
    for t in &all {
        let plain = zeroize::Zeroizing::new(keys.open(&aad(t.user_id), &t.secret_sealed)?);
        totp::set_sealed(tx, t.user_id, &keys.seal(&aad(t.user_id), &plain)?).await?;
    }
    Ok(all.len())
}

impl Services {
    /// Whether any of these grants' roles must log in with a second factor.
    pub(crate) fn totp_required_for(&self, grants: &[Grant]) -> bool {
        grants.iter().any(|g| self.settings.require_totp.contains(&g.role))
    }

    /// Checks a code (the app's, or a recovery code) for a user with a
    /// confirmed factor, taking it so it is not accepted again. `Ok(None)`:
    /// the code is wrong; otherwise which kind it was.
    pub(crate) async fn take_second_factor(
        &self,
        tx: &mut Tx,
        user_id: i64,
        username: &str,
        code: &str,
        now: i64,
    ) -> Result<Option<&'static str>> {
        let Some(t) = totp::get(tx, user_id).await?.filter(|t| t.confirmed_at.is_some()) else {
            return Ok(None);
        };
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
            let secret = self.keys.open(&aad(user_id), &t.secret_sealed)?;
            let step = totp_of(&secret, username)?.check(&digits, (now / 1000).max(0) as u64);
            return Ok(match step {
                Some(step) if totp::take_step(tx, user_id, step as i64).await? => Some("totp"),
                _ => None,
            });
        }
        if normalize_recovery(code).len() == 16
            && totp::use_recovery(tx, user_id, &recovery_hash(user_id, code), now).await?
        {
            return Ok(Some("recovery_code"));
        }
        Ok(None)
    }

    pub async fn two_factor_status(&self, caller: &Caller) -> Result<TwoFactorStatus> {
        let id = caller.user_id.ok_or(ServiceError::NotFound)?;
        let mut tx = self.db.read().await?;
        let t = totp::get(&mut tx, id).await?;
        let left = totp::recovery_left(&mut tx, id).await?;
        tx.commit().await?;
        Ok(TwoFactorStatus {
            enabled: t.is_some_and(|t| t.confirmed_at.is_some()),
            required: self.totp_required_for(&caller.grants),
            recovery_codes_left: left,
        })
    }

    /// A new secret to scan; it takes effect once `confirm_totp` is given a
    /// code from it. Asking again before then replaces it.
    pub async fn begin_totp(&self, caller: &Caller) -> Result<Enrolment> {
        let id = caller.user_id.ok_or(ServiceError::NotFound)?;
        let secret = Secret::from(rand::random::<[u8; 20]>()).to_base32();
        let t = totp_of(&secret, &caller.username)?;
        let otpauth_url = t.to_url().map_err(|e| ServiceError::caused("otpauth url", e))?;
        let sealed = self.keys.seal(&aad(id), &secret)?;
        let mut tx = self.db.write().await?;
        if totp::get(&mut tx, id).await?.is_some_and(|t| t.confirmed_at.is_some()) {
            return Err(ServiceError::conflict(
                "两步验证已开启;要换手机,请先关闭或请管理员重置",
                "two-step login is on already: turn it off, or ask an administrator to reset it, to move to a new phone",
            ));
        }
        totp::put_pending(&mut tx, id, &sealed, self.now()).await?;
        tx.commit().await?;
        Ok(Enrolment { secret, otpauth_url })
    }

    /// Turns the factor on with a first code from the app; answers the
    /// recovery codes, shown this once.
    pub async fn confirm_totp(&self, caller: &Caller, code: &str) -> Result<RecoveryCodes> {
        let id = caller.user_id.ok_or(ServiceError::NotFound)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let Some(t) = totp::get(&mut tx, id).await? else {
            return Err(ServiceError::conflict("请先扫描二维码", "scan the QR code first"));
        };
        if t.confirmed_at.is_some() {
            return Err(ServiceError::conflict("两步验证已开启", "two-step login is on already"));
        }
        let secret = self.keys.open(&aad(id), &t.secret_sealed)?;
        let step = totp_of(&secret, &caller.username)?.check(code.trim(), (now / 1000).max(0) as u64);
        let Some(step) = step else {
            return Err(wrong_code());
        };
        totp::take_step(&mut tx, id, step as i64).await?;
        totp::confirm(&mut tx, id, now).await?;
        let codes = new_recovery_codes();
        totp::set_recovery(&mut tx, id, &codes.iter().map(|c| recovery_hash(id, c)).collect::<Vec<_>>()).await?;
        record(&mut tx, caller, now, &Event::ok("totp_enrol", format!("user:{id}"), caller.home_path())).await?;
        tx.commit().await?;
        self.sessions.remove_user(id);
        Ok(RecoveryCodes { codes })
    }

    /// New recovery codes in place of the old, with a code from the app.
    pub async fn new_recovery_codes(&self, caller: &Caller, code: &str) -> Result<RecoveryCodes> {
        let id = caller.user_id.ok_or(ServiceError::NotFound)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        if self.take_second_factor(&mut tx, id, &caller.username, code, now).await? != Some("totp") {
            return Err(wrong_code());
        }
        let codes = new_recovery_codes();
        totp::set_recovery(&mut tx, id, &codes.iter().map(|c| recovery_hash(id, c)).collect::<Vec<_>>()).await?;
        record(&mut tx, caller, now, &Event::ok("recovery_codes", format!("user:{id}"), caller.home_path())).await?;
        tx.commit().await?;
        Ok(RecoveryCodes { codes })
    }

    /// Turns one's own factor off, with a code; not where a role requires it.
    pub async fn disable_totp(&self, caller: &Caller, code: &str) -> Result<()> {
        let id = caller.user_id.ok_or(ServiceError::NotFound)?;
        if self.totp_required_for(&caller.grants) {
            return Err(ServiceError::Forbidden(Msg::new(
                "您的角色必须使用两步验证,不能关闭;换手机请找管理员重置",
                "your role must log in with two steps: it cannot be turned off (an administrator can reset it for a new phone)",
            )));
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        if self.take_second_factor(&mut tx, id, &caller.username, code, now).await?.is_none() {
            return Err(wrong_code());
        }
        totp::delete(&mut tx, id).await?;
        record(&mut tx, caller, now, &Event::ok("totp_disable", format!("user:{id}"), caller.home_path())).await?;
        tx.commit().await?;
        self.sessions.remove_user(id);
        Ok(())
    }

    /// Removes another person's lost factor (an admin, or a secretary for
    /// those she manages) and ends their sessions: they enrol again at
    /// their next login. Never one's own: that takes a second person.
    pub async fn reset_totp(&self, caller: &Caller, username: &str) -> Result<()> {
        if !caller.has_any(USER_MANAGERS) {
            return Err(ServiceError::forbidden());
        }
        let u = self.managed_user(caller, username, "totp_reset").await?;
        if caller.user_id == Some(u.id) {
            return Err(ServiceError::Forbidden(Msg::new(
                "不能重置自己的两步验证,请另一位管理员处理",
                "you cannot reset your own two-step login: another administrator must",
            )));
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        let had = totp::delete(&mut tx, u.id).await?;
        let ended = sessions::delete_for_user(&mut tx, u.id).await?;
        let e = Event::ok("totp_reset", format!("user:{}", u.id), caller.home_path());
        record(&mut tx, caller, now, &e.with(json!({ "had_factor": had, "sessions_ended": ended }))).await?;
        tx.commit().await?;
        self.sessions.remove_user(u.id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_long_distinct_and_typed_loosely() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), RECOVERY_CODES);
        for c in &codes {
            assert_eq!(c.len(), 19, "{c}");
            assert_eq!(recovery_hash(7, c), recovery_hash(7, &c.to_uppercase().replace('-', " ")));
            assert_ne!(recovery_hash(7, c), recovery_hash(8, c), "bound to the user");
        }
    }

    #[test]
    fn rfc_6238_sha1_vector() {
        // RFC 6238 appendix B: the ASCII secret "12345678901234567890",
        // T = 59 s gives 94287082 in 8 digits; its last 6 are 287082.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        let t = totp_of(&secret, "sec").unwrap();
        assert_eq!(t.generate(59).to_string(), "287082");
        assert!(t.check("287082", 59).is_some());
        assert!(t.check("287083", 59).is_none());
    }
}
