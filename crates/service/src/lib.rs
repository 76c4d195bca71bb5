//! The use cases. Every function takes the caller, checks role and scope,
//! runs its transaction and writes the audit entry, so that a rule holds the
//! same way for the API, the pages and the command line.

pub mod activities;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod ballots;
pub mod broadcasts;
pub mod caller;
pub mod cases;
pub mod categories;
pub mod clock;
pub mod dashboard;
pub mod data_copy;
pub mod duty;
pub mod erasure;
pub mod error;
pub mod export;
mod fields;
pub mod files;
pub mod fixtures;
mod group_writer;
pub mod honours;
pub mod households;
pub mod import;
pub mod invitations;
pub mod jobs;
pub mod keys;
pub mod life;
pub mod login_codes;
pub mod moves;
pub mod notices;
pub mod notify;
pub mod org;
pub mod photos;
pub mod pledges;
pub mod points;
pub mod projects;
pub mod proxies;
pub mod record_requests;
pub mod registry;
pub mod reports;
pub mod roles;
pub mod shop;
mod shop_writer;
pub mod stations;
pub mod two_factor;
pub mod users;
pub mod visits;
pub mod webhooks;

use std::sync::Arc;

pub use caller::Caller;
pub use clock::{ManualClock, SystemClock};
pub use error::ServiceError;
use yijia_domain::password::PasswordPolicy;
use yijia_domain::time::{Clock, HOUR_MS, MINUTE_MS};
pub use yijia_store::Db;

use crate::group_writer::GroupWriter;

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Settings the use cases need (the CLI fills them from configuration).
#[derive(Debug, Clone)]
pub struct Settings {
    pub session_idle_ms: i64,
    pub session_absolute_ms: i64,
    pub password_policy: PasswordPolicy,
    /// Failed logins of one username within `lockout_window_ms` that lock it.
    pub lockout_failures: i64,
    pub lockout_window_ms: i64,
    pub lockout_ms: i64,
    /// Login attempts one IP address may make within `ip_window_ms`.
    pub ip_attempts: i64,
    pub ip_window_ms: i64,
    /// How long a server may answer from its memory that a session is
    /// valid before asking the database again (0: always ask).
    pub session_cache_ms: i64,
    /// How long after a case is resolved its resident may reopen it.
    pub case_reopen_window_ms: i64,
    /// What one person may move by hand into or out of one resident's
    /// account in a day before a second person approves.
    pub points_approval_limit: i64,
    /// Webhooks may point at loopback, private and link-local addresses
    /// (off by default: a webhook must not reach into the server's network).
    pub webhooks_allow_private: bool,
    /// Records one person may read (views, unmasks, exports, visit notes)
    /// in an hour; then reads wait and the secretary is alerted.
    pub personal_reads_per_hour: i64,
    /// Roles that must log in with a second factor. Empty here (tests, the
    /// library); the server's configuration defaults to secretaries,
    /// street officers and admins.
    pub require_totp: Vec<yijia_domain::role::Role>,
    /// How people are told: the providers and their limits.
    pub notify: notify::NotifySettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            session_idle_ms: 30 * MINUTE_MS,
            session_absolute_ms: 12 * HOUR_MS,
            password_policy: PasswordPolicy::default(),
            lockout_failures: 5,
            lockout_window_ms: 15 * MINUTE_MS,
            lockout_ms: 30 * MINUTE_MS,
            ip_attempts: 30,
            ip_window_ms: 5 * MINUTE_MS,
            session_cache_ms: 1_000,
            case_reopen_window_ms: 7 * 24 * HOUR_MS,
            points_approval_limit: yijia_domain::points::APPROVAL_LIMIT,
            webhooks_allow_private: false,
            personal_reads_per_hour: 300,
            require_totp: Vec::new(),
            notify: notify::NotifySettings::default(),
        }
    }
}

/// Everything a use case needs: the database, the clock and the settings.
#[derive(Debug, Clone)]
pub struct Services {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    pub(crate) sessions: Arc<auth::SessionCache>,
    /// The keys that seal personal data; never in the database.
    pub(crate) keys: Arc<keys::Keyring>,
    /// Uploaded files (photos).
    pub files: Arc<dyn files::FileStore>,
    /// New cases to write, a group per commit (SQLite).
    pub(crate) case_writer: Arc<GroupWriter<cases::writer::NewCases>>,
    /// Redemptions to settle, a group per commit (SQLite).
    pub(crate) shop_writer: Arc<GroupWriter<shop_writer::Redemptions>>,
    /// The SMS provider and the mail server, when set up.
    pub(crate) senders: Arc<notify::Senders>,
}

impl Services {
    pub fn new(db: Db, clock: Arc<dyn Clock>, settings: Settings, keys: Arc<keys::Keyring>) -> Self {
        // until told otherwise (`with_files`), a folder of its own under the
        // system's temporary directory
        let scratch = std::env::temp_dir().join(format!("yijia-files-{}", uuid::Uuid::new_v4().simple()));
        let files = Arc::new(files::LocalFolder::new(scratch));
        webhooks::install_tls();
        let senders = notify::Senders::new(&settings.notify).unwrap_or_else(|e| {
            // the server checks the settings before it starts; a library
            // user with a bad mail server gets no email, and the log says why
            tracing::error!(error = %error::Report(&e), "notifications: a provider could not be set up");
            notify::Senders::default()
        });
        Self {
            db,
            clock,
            settings: Arc::new(settings),
            sessions: Arc::default(),
            keys,
            files,
            case_writer: Arc::default(),
            shop_writer: Arc::default(),
            senders: Arc::new(senders),
        }
    }

    /// The same services on another clock (the demo's past). The writers
    /// are shared: a queued job carries its own time, not the writer's.
    pub fn on_clock(&self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self.clone() }
    }

    /// Writes what the queues hold and stops their writers; the services
    /// answer no more writes of queued kinds after this.
    pub async fn stop(&self) {
        self.case_writer.stop().await;
        self.shop_writer.stop().await;
    }

    /// Keeps uploaded files in this store.
    pub fn with_files(mut self, files: Arc<dyn files::FileStore>) -> Self {
        self.files = files;
        self
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// A page request as in DESIGN section 7: `page` from 1, `per_page` 1–500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageReq {
    pub page: i64,
    pub per_page: i64,
}

impl PageReq {
    pub const MAX: i64 = 500;
    pub const MAX_PAGE: i64 = 1_000_000;

    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Result<Self> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(50);
        if !(1..=Self::MAX_PAGE).contains(&page) {
            return Err(ServiceError::invalid("page", "页码须在 1 到 1000000 之间", "page is between 1 and 1000000"));
        }
        if !(1..=Self::MAX).contains(&per_page) {
            return Err(ServiceError::invalid(
                "per_page",
                "每页条数须在 1 到 500 之间",
                "per_page must be between 1 and 500",
            ));
        }
        Ok(Self { page, per_page })
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

impl<T> Page<T> {
    pub fn of(items: Vec<T>, total: i64, req: PageReq) -> Self {
        Self { items, total, page: req.page, per_page: req.per_page }
    }

    /// The requested page of a short list held whole.
    pub fn slice(all: Vec<T>, req: PageReq) -> Self {
        let total = all.len() as i64;
        let items = all.into_iter().skip(req.offset() as usize).take(req.per_page as usize).collect();
        Self::of(items, total, req)
    }
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}
