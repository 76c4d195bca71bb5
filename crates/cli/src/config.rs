//! Configuration: command-line flags, then `YIJIA_*` environment variables,
//! then `yijia.toml`, then defaults — the first that sets a value wins.
//! Secrets (the database URL may hold a password) are redacted in `Debug`.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

#[derive(Clone, Deserialize)]
pub struct Config {
    /// Address to listen on.
    pub addr: String,
    /// Where the SQLite database and the key file live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: SQLite in the data directory.
    pub database_url: Option<SecretString>,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    /// The stricter password profile: character classes.
    pub password_require_classes: bool,
    /// The stricter password profile: days until a password must change (0 = never).
    pub password_max_age_days: u32,
    /// Failed logins of one username within 15 minutes that lock it for 30.
    pub lockout_failures: i64,
    /// Login attempts one address may make within 5 minutes.
    pub login_attempts_per_ip: i64,
    /// Served behind TLS (a reverse proxy): Secure cookies and HSTS.
    pub tls: bool,
    /// Database connections per server.
    pub max_connections: u32,
    /// How long a server trusts a session it has just checked, in ms.
    pub session_cache_ms: i64,
    /// Days after a case is resolved during which its resident may reopen it.
    pub case_reopen_days: i64,
    /// What one person may move by hand into or out of one resident's
    /// account in a day before a second person approves.
    pub points_approval_limit: i64,
    /// Reverse proxies whose `X-Forwarded-For` is believed: a comma list of
    /// addresses (`127.0.0.1,10.0.0.5`); empty: none.
    pub trusted_proxies: String,
    /// Webhooks may point at loopback and private addresses (a test rig).
    pub webhooks_allow_private: bool,
    /// Records one person may read in an hour before reads wait.
    pub personal_reads_per_hour: i64,
    /// Roles that must log in with a second factor, a comma list, or
    /// `none`. Unset: secretaries, street officers and admins (the demo:
    /// none, so that its printed logins work).
    pub require_totp: Option<String>,
    /// The address people open yijia at; links in messages start with it.
    /// Unset: `http://` and `addr`.
    pub public_url: Option<String>,
    /// `aliyun` or `tencent`; unset: no SMS.
    pub sms_provider: Option<String>,
    /// The provider's base URL; unset: the provider's own.
    pub sms_endpoint: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub sms_key_id: Option<String>,
    pub sms_key_secret: Option<SecretString>,
    /// The signature registered with the provider, without 【】.
    pub sms_sign_name: Option<String>,
    /// Tencent: the SMS application's id (`SmsSdkAppId`).
    #[serde(default, deserialize_with = "text")]
    pub sms_app_id: Option<String>,
    /// Tencent: the region; unset: `ap-guangzhou`.
    pub sms_region: Option<String>,
    /// The provider's template for each topic: `case_resolved=SMS_1,…`.
    pub sms_templates: Option<String>,
    /// SMS one phone may get in a day (emergencies aside).
    pub sms_daily_cap: i64,
    /// The secret in the addresses the provider pushes receipts and
    /// replies to; unset: none are taken.
    pub sms_callback_token: Option<SecretString>,
    /// `smtp://host:port` or `smtps://user:password@host`; unset: no email.
    pub smtp_url: Option<SecretString>,
    pub smtp_from: Option<String>,
    /// Where the server puts its own backups; unset: it takes none.
    pub backup_dir: Option<PathBuf>,
    /// The age public keys (`age1…`, a comma list) backups are encrypted to.
    pub backup_recipients: Option<String>,
    /// Hours between scheduled backups.
    pub backup_every_hours: i64,
    /// Scheduled backups kept; older ones are removed.
    pub backup_keep: usize,
}

/// A value that is text even when it looks like a number: an environment
/// variable `1400006666` is read as an integer, but an app id is a name.
fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        S(String),
        U(u64),
        I(i64),
    }
    Ok(Option::<Text>::deserialize(d)?.map(|t| match t {
        Text::S(s) => s,
        Text::U(n) => n.to_string(),
        Text::I(n) => n.to_string(),
    }))
}

/// The roles that must log in with a second factor when nothing says otherwise.
pub const REQUIRE_TOTP_DEFAULT: &str = "secretary,street_officer,admin";

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|u| redact(u.expose_secret())))
            .field("session_idle_minutes", &self.session_idle_minutes)
            .field("session_absolute_hours", &self.session_absolute_hours)
            .field("password_require_classes", &self.password_require_classes)
            .field("password_max_age_days", &self.password_max_age_days)
            .field("lockout_failures", &self.lockout_failures)
            .field("login_attempts_per_ip", &self.login_attempts_per_ip)
            .field("tls", &self.tls)
            .field("max_connections", &self.max_connections)
            .field("session_cache_ms", &self.session_cache_ms)
            .field("case_reopen_days", &self.case_reopen_days)
            .field("points_approval_limit", &self.points_approval_limit)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("webhooks_allow_private", &self.webhooks_allow_private)
            .field("personal_reads_per_hour", &self.personal_reads_per_hour)
            .field("require_totp", &self.require_totp)
            .field("public_url", &self.public_url)
            .field("sms_provider", &self.sms_provider)
            .field("sms_endpoint", &self.sms_endpoint)
            .field("sms_key_id", &self.sms_key_id)
            .field("sms_sign_name", &self.sms_sign_name)
            .field("sms_app_id", &self.sms_app_id)
            .field("sms_templates", &self.sms_templates)
            .field("sms_daily_cap", &self.sms_daily_cap)
            .field("smtp_url", &self.smtp_url.as_ref().map(|u| redact(u.expose_secret())))
            .field("smtp_from", &self.smtp_from)
            .field("backup_dir", &self.backup_dir)
            .field("backup_recipients", &self.backup_recipients)
            .field("backup_every_hours", &self.backup_every_hours)
            .field("backup_keep", &self.backup_keep)
            .finish()
    }
}

pub use yijia_store::redact_url as redact;

#[derive(Serialize)]
struct Defaults {
    addr: &'static str,
    data_dir: &'static str,
    session_idle_minutes: i64,
    session_absolute_hours: i64,
    password_require_classes: bool,
    password_max_age_days: u32,
    lockout_failures: i64,
    login_attempts_per_ip: i64,
    tls: bool,
    max_connections: u32,
    session_cache_ms: i64,
    case_reopen_days: i64,
    points_approval_limit: i64,
    trusted_proxies: &'static str,
    webhooks_allow_private: bool,
    personal_reads_per_hour: i64,
    sms_daily_cap: i64,
    backup_every_hours: i64,
    backup_keep: usize,
}

/// Values given as flags; `None` leaves the lower layers' value.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

impl Config {
    pub fn load(file: Option<&Path>, flags: Overrides) -> Result<Self, Box<figment::Error>> {
        let defaults = Defaults {
            addr: "127.0.0.1:8080",
            data_dir: "yijia-data",
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            password_require_classes: false,
            password_max_age_days: 0,
            lockout_failures: 5,
            login_attempts_per_ip: 30,
            tls: false,
            max_connections: 16,
            session_cache_ms: 1_000,
            case_reopen_days: 7,
            points_approval_limit: yijia_domain::points::APPROVAL_LIMIT,
            trusted_proxies: "",
            webhooks_allow_private: false,
            personal_reads_per_hour: 300,
            sms_daily_cap: 10,
            backup_every_hours: 24,
            backup_keep: 7,
        };
        let file = file.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("yijia.toml"));
        Figment::from(Serialized::defaults(defaults))
            .merge(Toml::file(file))
            .merge(Env::prefixed("YIJIA_").ignore(&["test_database_url", "config"]))
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(Box::new)
    }

    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) if !u.expose_secret().is_empty() => u.expose_secret().to_owned(),
            _ => format!("sqlite://{}", self.data_dir.join("yijia.db").display()),
        }
    }

    /// The trusted proxies' addresses; a word that is not one is an error.
    pub fn trusted_proxies(&self) -> Result<Vec<std::net::IpAddr>, String> {
        self.trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(|a| a.parse().map_err(|_| format!("trusted_proxies: '{a}' is not an IP address")))
            .collect()
    }

    /// The roles `require_totp` names; an unknown word is an error.
    pub fn require_totp(&self) -> Result<Vec<yijia_domain::role::Role>, String> {
        let list = self.require_totp.as_deref().unwrap_or(REQUIRE_TOTP_DEFAULT).trim();
        if list.eq_ignore_ascii_case("none") {
            return Ok(Vec::new());
        }
        list.split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| r.parse().map_err(|_| format!("require_totp: '{r}' is not a role (or 'none')")))
            .collect()
    }

    /// How people are told; a provider half set up is an error that names
    /// what is missing.
    pub fn notify(&self) -> Result<yijia_service::notify::NotifySettings, String> {
        use yijia_service::notify::{NotifySettings, SmsProvider, SmsSettings, SmtpSettings};
        let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
        let sms = match given(&self.sms_provider) {
            None => None,
            Some(p) => {
                let provider: SmsProvider = p.parse()?;
                let need = |name: &str, v: Option<String>| {
                    v.ok_or_else(|| format!("sms_provider is set: {name} is needed too"))
                };
                let templates = given(&self.sms_templates)
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(|t| {
                        let (topic, code) =
                            t.split_once('=').ok_or(format!("sms_templates: '{t}' is not topic=TEMPLATE"))?;
                        let topic = yijia_domain::notify::Topic::from_code(topic.trim())
                            .ok_or(format!("sms_templates: '{topic}' is not a topic"))?;
                        Ok((topic, code.trim().to_owned()))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                let endpoint = given(&self.sms_endpoint).unwrap_or_else(|| match provider {
                    SmsProvider::Aliyun => "https://dysmsapi.aliyuncs.com/".into(),
                    SmsProvider::Tencent => "https://sms.tencentcloudapi.com/".into(),
                });
                let secret = self.sms_key_secret.clone().filter(|s| !s.expose_secret().is_empty());
                Some(SmsSettings {
                    provider,
                    endpoint,
                    key_id: need("sms_key_id", given(&self.sms_key_id))?,
                    key_secret: secret.ok_or("sms_provider is set: sms_key_secret is needed too")?,
                    sign_name: need("sms_sign_name", given(&self.sms_sign_name))?,
                    app_id: match provider {
                        SmsProvider::Tencent => need("sms_app_id", given(&self.sms_app_id))?,
                        SmsProvider::Aliyun => String::new(),
                    },
                    region: given(&self.sms_region).unwrap_or_else(|| "ap-guangzhou".into()),
                    templates,
                    callback_token: match self.sms_callback_token.clone().filter(|t| !t.expose_secret().is_empty()) {
                        Some(t) if t.expose_secret().len() < 16 => {
                            return Err("sms_callback_token: at least 16 characters (openssl rand -hex 16)".into());
                        }
                        t => t,
                    },
                })
            }
        };
        let smtp = match self.smtp_url.as_ref().filter(|u| !u.expose_secret().is_empty()) {
            None => None,
            Some(url) => {
                let from = given(&self.smtp_from).ok_or("smtp_url is set: smtp_from is needed too")?;
                let s = SmtpSettings { url: url.clone(), from };
                yijia_service::notify::send::Email::new(&s).map_err(|e| format!("smtp: {e}"))?;
                Some(s)
            }
        };
        let public_url = match given(&self.public_url) {
            Some(u) => u,
            // a link in an SMS must reach people, not this machine's listening address
            None if sms.is_some() || smtp.is_some() => {
                return Err("public_url: the address people open yijia at is needed for SMS and email links".into());
            }
            None => format!("http://{}", self.addr),
        };
        Ok(NotifySettings { public_url, sms, smtp, sms_daily_cap: self.sms_daily_cap, ..NotifySettings::default() })
    }

    pub fn settings(&self) -> Result<yijia_service::Settings, String> {
        use yijia_domain::time::{HOUR_MS, MINUTE_MS};
        Ok(yijia_service::Settings {
            session_idle_ms: self.session_idle_minutes * MINUTE_MS,
            session_absolute_ms: self.session_absolute_hours * HOUR_MS,
            password_policy: yijia_domain::password::PasswordPolicy {
                require_classes: self.password_require_classes,
                max_age_days: self.password_max_age_days,
            },
            lockout_failures: self.lockout_failures,
            ip_attempts: self.login_attempts_per_ip,
            session_cache_ms: self.session_cache_ms,
            case_reopen_window_ms: self.case_reopen_days * 24 * HOUR_MS,
            points_approval_limit: self.points_approval_limit,
            webhooks_allow_private: self.webhooks_allow_private,
            personal_reads_per_hour: self.personal_reads_per_hour,
            require_totp: self.require_totp()?,
            notify: self.notify()?,
            ..Default::default()
        })
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's own signature
mod tests {
    use super::*;

    #[test]
    fn flags_beat_env_beat_file_beat_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "yijia.toml",
                "addr = \"0.0.0.0:1\"\ndata_dir = \"from-file\"\nsession_idle_minutes = 5\n",
            )?;
            jail.set_env("YIJIA_DATA_DIR", "from-env");
            jail.set_env("YIJIA_DATABASE_URL", "postgres://u:hunter2@h/d");
            let c = Config::load(None, Overrides { addr: Some("127.0.0.1:9".into()), ..Default::default() })
                .map_err(|e| *e)?;
            assert_eq!(c.addr, "127.0.0.1:9");
            assert_eq!(c.data_dir, PathBuf::from("from-env"));
            assert_eq!(c.session_idle_minutes, 5);
            assert_eq!(c.session_absolute_hours, 12);
            let dbg = format!("{c:?}");
            assert!(!dbg.contains("hunter2"), "{dbg}");
            assert!(dbg.contains("postgres://u:***@h/d"), "{dbg}");
            Ok(())
        });
    }

    #[test]
    fn second_factor_roles_default_to_staff_who_see_most() {
        use yijia_domain::role::Role;
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None, Overrides::default()).map_err(|e| *e)?;
            assert_eq!(c.require_totp(), Ok(vec![Role::Secretary, Role::StreetOfficer, Role::Admin]));
            jail.set_env("YIJIA_REQUIRE_TOTP", "none");
            let c = Config::load(None, Overrides::default()).map_err(|e| *e)?;
            assert_eq!(c.require_totp(), Ok(vec![]));
            jail.set_env("YIJIA_REQUIRE_TOTP", "admin, grid_worker");
            let c = Config::load(None, Overrides::default()).map_err(|e| *e)?;
            assert_eq!(c.require_totp(), Ok(vec![Role::Admin, Role::GridWorker]));
            jail.set_env("YIJIA_REQUIRE_TOTP", "admin,boss");
            let c = Config::load(None, Overrides::default()).map_err(|e| *e)?;
            assert!(c.require_totp().unwrap_err().contains("'boss'"));
            Ok(())
        });
    }

    #[test]
    fn a_provider_half_set_up_names_what_is_missing() {
        figment::Jail::expect_with(|jail| {
            let c = Config::load(None, Overrides::default()).map_err(|e| *e)?;
            let n = c.notify().map_err(|e| e.to_string())?;
            assert!(n.sms.is_none() && n.smtp.is_none());
            assert_eq!(n.public_url, "http://127.0.0.1:8080");
            jail.set_env("YIJIA_PUBLIC_URL", "https://yijia.example.cn");
            jail.set_env("YIJIA_SMS_PROVIDER", "tencent");
            jail.set_env("YIJIA_SMS_KEY_ID", "AKID1");
            jail.set_env("YIJIA_SMS_KEY_SECRET", "s");
            jail.set_env("YIJIA_SMS_SIGN_NAME", "驿家");
            let c = Config::load(None, Overrides::default()).map_err(|e| *e)?;
            assert_eq!(c.notify().err().as_deref(), Some("sms_provider is set: sms_app_id is needed too"));
            jail.set_env("YIJIA_SMS_APP_ID", "1400006666");
            jail.set_env("YIJIA_SMS_TEMPLATES", "case_resolved=1111, case_lost=2");
            let c = Config::load(None, Overrides::default()).map_err(|e| *e)?;
            assert!(c.notify().unwrap_err().contains("'case_lost' is not a topic"));
            jail.set_env("YIJIA_SMS_TEMPLATES", "case_resolved=1111");
            jail.set_env("YIJIA_SMTP_URL", "smtp://mail.example.cn:587");
            let c = Config::load(None, Overrides::default()).map_err(|e| *e)?;
            assert_eq!(c.notify().err().as_deref(), Some("smtp_url is set: smtp_from is needed too"));
            jail.set_env("YIJIA_SMTP_FROM", "驿家 <notify@example.cn>");
            let c = Config::load(None, Overrides::default()).map_err(|e| *e)?;
            let n = c.notify().map_err(|e| e.to_string())?;
            let sms = n.sms.ok_or("sms")?;
            assert_eq!(sms.endpoint, "https://sms.tencentcloudapi.com/");
            assert_eq!(sms.templates, vec![(yijia_domain::notify::Topic::CaseResolved, "1111".to_owned())]);
            assert!(!format!("{c:?}").contains("key_secret"), "the secret is never printed");
            jail.set_env("YIJIA_SMS_CALLBACK_TOKEN", "short");
            let c = Config::load(None, Overrides::default()).map_err(|e| *e)?;
            assert!(c.notify().unwrap_err().contains("at least 16"));
            jail.set_env("YIJIA_SMS_CALLBACK_TOKEN", "");
            jail.set_env("YIJIA_PUBLIC_URL", "");
            let c = Config::load(None, Overrides::default()).map_err(|e| *e)?;
            assert!(c.notify().unwrap_err().starts_with("public_url"), "links must reach people");
            jail.set_env("YIJIA_SMS_PROVIDER", "yunpian");
            let c = Config::load(None, Overrides::default()).map_err(|e| *e)?;
            assert!(c.notify().unwrap_err().contains("'yunpian'"));
            Ok(())
        });
    }

    #[test]
    fn default_database_is_sqlite_in_the_data_dir() {
        figment::Jail::expect_with(|_| {
            let c =
                Config::load(None, Overrides { data_dir: Some("d".into()), ..Default::default() }).map_err(|e| *e)?;
            assert_eq!(c.database_url(), "sqlite://d/yijia.db");
            Ok(())
        });
    }
}
