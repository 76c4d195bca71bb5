//! Telling people what concerns them. Events come from the outbox; the
//! dispatcher (`dispatch.rs`, in the job runner) turns each into an in-app
//! message and a delivery per person and outbound channel, and sends those
//! through the providers (`send.rs`). Here: each person's own messages and
//! choices, and the delivery log.

mod daily;
mod dispatch;
pub mod send;
pub mod sign;

use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::Label;
use yijia_domain::notify::{Audience, DeliveryState, NotifyChannel, Params, QuietHours, Topic, render};
use yijia_domain::role::Role;
use yijia_domain::time::rfc3339;
use yijia_store::notify;

pub use dispatch::Dispatched;
pub use send::{SmsProvider, SmsSettings, SmtpSettings};

use crate::audit::{Event, record};
use crate::roles::DELIVERY_READERS;
use crate::{Caller, Page, PageReq, Result, ServiceError, Services};

/// How yijia reaches people (the CLI fills it from configuration).
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// The address people open yijia at; links in messages start with it.
    pub public_url: String,
    pub sms: Option<SmsSettings>,
    pub smtp: Option<SmtpSettings>,
    /// SMS one phone may get in a day; emergencies are not held back.
    pub sms_daily_cap: i64,
    /// Tries of one message before it is parked for an admin.
    pub attempts: i64,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self { public_url: "http://127.0.0.1:8080".into(), sms: None, smtp: None, sms_daily_cap: 10, attempts: 3 }
    }
}

/// The providers, built once from the settings.
#[derive(Debug, Default)]
pub(crate) struct Senders {
    pub sms: Option<Box<dyn send::Sender>>,
    pub email: Option<Box<dyn send::Sender>>,
    pub robots: send::Robots,
}

impl Senders {
    pub fn new(s: &NotifySettings) -> Result<Self> {
        Ok(Self {
            sms: s.sms.clone().map(send::sms_sender),
            email: match &s.smtp {
                Some(smtp) => Some(Box::new(send::Email::new(smtp)?)),
                None => None,
            },
            robots: send::Robots::default(),
        })
    }

    fn of(&self, channel: NotifyChannel) -> Option<&dyn send::Sender> {
        match channel {
            NotifyChannel::Sms => self.sms.as_deref(),
            NotifyChannel::Email => self.email.as_deref(),
            NotifyChannel::WeCom | NotifyChannel::DingTalk => Some(&self.robots),
            NotifyChannel::InApp => None,
        }
    }
}

/// A message in the bell.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub id: i64,
    pub topic: Topic,
    pub topic_name: String,
    pub topic_name_en: String,
    pub text: String,
    pub text_en: String,
    /// Where the message leads, inside yijia.
    pub link: Option<String>,
    pub urgent: bool,
    pub created_at: String,
    pub read: bool,
}

/// One's messages, newest first, and how many are unread.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Messages {
    pub items: Vec<MessageView>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub unread: i64,
}

/// A topic and the channels chosen for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TopicChoice {
    pub topic: Topic,
    pub channels: Vec<NotifyChannel>,
    /// Daily: its SMS and email wait for one summary each morning (its
    /// in-app messages still come at once).
    #[serde(default)]
    pub digest: bool,
}

/// What a person chose: where and when they are told.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PreferencesView {
    /// Masked (`z***@example.com`); set it to be told by email.
    pub email: Option<String>,
    /// Routine messages wait until quiet hours end; emergencies do not.
    pub quiet_from: String,
    pub quiet_to: String,
    pub topics: Vec<TopicView>,
    /// Whether an SMS provider and a mail server are set up here.
    pub sms_available: bool,
    pub email_available: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TopicView {
    pub topic: Topic,
    pub name: String,
    pub name_en: String,
    pub channels: Vec<NotifyChannel>,
    pub digest: bool,
}

/// A change to one's preferences; what is left out stays as it was.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesInput {
    /// An email address; an empty string removes it.
    #[serde(default)]
    pub email: Option<String>,
    /// `22:00`
    #[serde(default)]
    pub quiet_from: Option<String>,
    /// `07:00`; the same as `quiet_from` turns quiet hours off.
    #[serde(default)]
    pub quiet_to: Option<String>,
    #[serde(default)]
    pub topics: Vec<TopicChoice>,
}

/// One line of the delivery log.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    /// Sent to the provider with the message (OutId, SessionContext).
    pub message_id: String,
    pub channel: NotifyChannel,
    pub channel_name: String,
    pub topic: Topic,
    pub topic_name: String,
    pub state: DeliveryState,
    pub state_name: String,
    /// The address, masked, once the message was looked at for sending.
    pub to: Option<String>,
    pub attempts: i64,
    pub error: Option<String>,
    pub provider_id: Option<String>,
    pub urgent: bool,
    pub created_at: String,
    /// When it goes next (queued), or went last.
    pub next_at: String,
    pub sent_at: Option<String>,
    pub delivered_at: Option<String>,
}

fn delivery_view(d: notify::Delivery, en: bool) -> DeliveryView {
    DeliveryView {
        id: d.id,
        message_id: d.message_id,
        channel: d.channel,
        channel_name: d.channel.name(en).to_owned(),
        topic: d.topic,
        topic_name: d.topic.name(en).to_owned(),
        state: d.state,
        state_name: d.state.name(en).to_owned(),
        to: d.address_masked,
        attempts: d.attempts,
        error: d.error,
        provider_id: d.provider_id,
        urgent: d.urgent,
        created_at: rfc3339(d.created_at),
        next_at: rfc3339(d.next_at),
        sent_at: d.sent_at.map(rfc3339),
        delivered_at: d.delivered_at.map(rfc3339),
    }
}

fn message_view(m: notify::Message) -> MessageView {
    let mut params: Params = serde_json::from_str(&m.params).unwrap_or_default();
    let link = params.0.iter().find(|(k, _)| k == "path").map(|(_, v)| v.clone());
    // in the app the message is a link itself: its text need not spell one
    params.0.retain(|(k, _)| k != "link");
    let params = params.with("link", "");
    let words = |en: bool| render(m.topic, &params, en).trim_end_matches(['：', ':', ' ']).to_owned();
    MessageView {
        id: m.id,
        topic: m.topic,
        topic_name: m.topic.name_zh().to_owned(),
        topic_name_en: m.topic.name_en().to_owned(),
        text: words(false),
        text_en: words(true),
        link,
        urgent: m.urgent,
        created_at: rfc3339(m.created_at),
        read: m.read_at.is_some(),
    }
}

/// Channels as stored: a comma list of codes; an unknown code is an error.
pub(crate) fn decode_channels(stored: &str) -> Result<Vec<NotifyChannel>> {
    stored
        .split(',')
        .filter(|c| !c.is_empty())
        .map(|c| {
            NotifyChannel::from_code(c).ok_or_else(|| {
                ServiceError::internal(format!("unknown channel '{c}' stored in notify_choices.channels"))
            })
        })
        .collect()
}

fn encode_channels(channels: &[NotifyChannel]) -> String {
    NotifyChannel::PERSONAL.iter().filter(|c| channels.contains(c)).map(|c| c.code()).collect::<Vec<_>>().join(",")
}

fn aad_email(user_id: i64) -> String {
    format!("notify_settings.email:{user_id}")
}

/// `z***@example.com`
fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".into(),
    }
}

/// The topics a person may be told of.
fn topics_for(caller: &Caller) -> Vec<Topic> {
    let resident = caller.has_any(&[Role::Resident]);
    let staff = caller.grants.iter().any(|g| g.role != Role::Resident);
    Topic::ALL
        .into_iter()
        .filter(|t| match t.audience() {
            // only those who decide something hear that it waits for them
            _ if *t == Topic::ApprovalAsked => caller.has_any(crate::roles::APPROVERS),
            Audience::Residents => resident,
            Audience::Staff => staff,
            Audience::Everyone | Audience::Chosen | Audience::Asker => false,
        })
        .collect()
}

impl Services {
    fn own_id(caller: &Caller) -> Result<i64> {
        caller.user_id.ok_or_else(ServiceError::forbidden)
    }

    /// One's messages, newest first.
    pub async fn messages(&self, caller: &Caller, page: PageReq) -> Result<Messages> {
        let me = Self::own_id(caller)?;
        let mut tx = self.db.conn().await?;
        let (total, unread) = notify::message_counts(&mut tx, me).await?;
        let rows = notify::messages(&mut tx, me, page.per_page, page.offset()).await?;
        Ok(Messages {
            items: rows.into_iter().map(message_view).collect(),
            total,
            page: page.page,
            per_page: page.per_page,
            unread,
        })
    }

    /// How many of one's messages are unread (the bell).
    pub async fn unread_messages(&self, caller: &Caller) -> Result<i64> {
        let Some(me) = caller.user_id else { return Ok(0) };
        let mut tx = self.db.conn().await?;
        Ok(notify::unread(&mut tx, me).await?)
    }

    /// Marks one message read, or all of them with `None`.
    pub async fn read_messages(&self, caller: &Caller, id: Option<i64>) -> Result<u64> {
        let me = Self::own_id(caller)?;
        let mut tx = self.db.write().await?;
        if let Some(id) = id
            && !notify::message_exists(&mut tx, me, id).await?
        {
            return Err(ServiceError::NotFound);
        }
        let n = notify::mark_read(&mut tx, me, id, self.now()).await?;
        tx.commit().await?;
        Ok(n)
    }

    pub async fn preferences(&self, caller: &Caller) -> Result<PreferencesView> {
        let me = Self::own_id(caller)?;
        let mut tx = self.db.conn().await?;
        let settings = notify::settings_of(&mut tx, &[me]).await?.into_iter().next();
        let chosen = notify::choices_of(&mut tx, &[me]).await?;
        let quiet =
            settings.as_ref().map_or(QuietHours::default(), |s| QuietHours { from: s.quiet_from, to: s.quiet_to });
        let mut topics = Vec::new();
        for t in topics_for(caller) {
            let (channels, digest) = match chosen.iter().find(|(_, topic, _, _)| *topic == t) {
                Some((_, _, stored, digest)) => (decode_channels(stored)?, *digest),
                None => (t.default_channels().to_vec(), false),
            };
            let (name, name_en) = (t.name_zh().into(), t.name_en().into());
            topics.push(TopicView { topic: t, name, name_en, channels, digest });
        }
        Ok(PreferencesView {
            email: settings.and_then(|s| s.email_masked),
            quiet_from: QuietHours::show(quiet.from),
            quiet_to: QuietHours::show(quiet.to),
            topics,
            sms_available: self.senders.sms.is_some(),
            email_available: self.senders.email.is_some(),
        })
    }

    /// Changes one's own preferences; all or nothing.
    pub async fn set_preferences(&self, caller: &Caller, input: &PreferencesInput) -> Result<PreferencesView> {
        let me = Self::own_id(caller)?;
        let mine = topics_for(caller);
        for (i, c) in input.topics.iter().enumerate() {
            if let Some(ch) = c.channels.iter().find(|ch| !NotifyChannel::PERSONAL.contains(ch)) {
                return Err(ServiceError::invalid(
                    &format!("topics[{i}].channels"),
                    format!("「{}」由社区设置,不能个人选择", ch.name_zh()),
                    format!("'{}' is set up by the community, not chosen per person", ch.name_en()),
                ));
            }
            if c.digest && !c.topic.may_be_daily() {
                return Err(ServiceError::invalid(
                    &format!("topics[{i}].digest"),
                    format!("「{}」不能改为每日汇总", c.topic.name_zh()),
                    format!("'{}' cannot be told daily", c.topic.name_en()),
                ));
            }
            if !mine.contains(&c.topic) {
                return Err(ServiceError::invalid(
                    &format!("topics[{i}].topic"),
                    format!("「{}」不是发给您的消息", c.topic.name_zh()),
                    format!("'{}' is not told to you", c.topic.name_en()),
                ));
            }
        }
        let time = |field: &str, v: &Option<String>| -> Result<Option<i64>> {
            match v {
                None => Ok(None),
                Some(s) => QuietHours::parse_time(s).map(Some).ok_or_else(|| {
                    ServiceError::invalid(field, "时间须为 时:分,如 22:00", "a time of day such as 22:00")
                }),
            }
        };
        let from = time("quiet_from", &input.quiet_from)?;
        let to = time("quiet_to", &input.quiet_to)?;
        let email = match input.email.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(e) => {
                let ok = e.chars().count() <= 254 && e.parse::<lettre::Address>().is_ok();
                if !ok {
                    return Err(ServiceError::invalid(
                        "email",
                        "邮箱地址格式不对,如 name@example.com",
                        "not an email address such as name@example.com",
                    ));
                }
                Some(Some(e.to_owned()))
            }
        };
        let now = self.now();
        let mut tx = self.db.write().await?;
        let old = notify::settings_of(&mut tx, &[me]).await?.into_iter().next();
        let quiet = old.as_ref().map_or(QuietHours::default(), |s| QuietHours { from: s.quiet_from, to: s.quiet_to });
        let (email_sealed, email_masked) = match &email {
            None => {
                (old.as_ref().and_then(|s| s.email_sealed.clone()), old.as_ref().and_then(|s| s.email_masked.clone()))
            }
            Some(None) => (None, None),
            Some(Some(e)) => (Some(self.keys.seal(&aad_email(me), e)?), Some(mask_email(e))),
        };
        let saved = notify::Settings {
            user_id: me,
            email_sealed,
            email_masked,
            quiet_from: from.unwrap_or(quiet.from),
            quiet_to: to.unwrap_or(quiet.to),
        };
        notify::save_settings(&mut tx, &saved, now).await?;
        for c in &input.topics {
            notify::set_choice(&mut tx, me, c.topic, &encode_channels(&c.channels), c.digest).await?;
        }
        let detail = json!({
            "email": email.as_ref().map(|e| e.as_deref().map(mask_email)),
            "quiet": [QuietHours::show(saved.quiet_from), QuietHours::show(saved.quiet_to)],
            "topics": input.topics.len(),
        });
        let e = Event::ok("notify_preferences", format!("user:{me}"), caller.home_path());
        record(&mut tx, caller, now, &e.with(detail)).await?;
        tx.commit().await?;
        self.preferences(caller).await
    }

    /// The delivery log of the caller's area, newest first.
    pub async fn deliveries(
        &self,
        caller: &Caller,
        state: Option<DeliveryState>,
        page: PageReq,
        en: bool,
    ) -> Result<Page<DeliveryView>> {
        if !caller.has_any(DELIVERY_READERS) {
            return Err(ServiceError::forbidden());
        }
        let mut tx = self.db.conn().await?;
        let paths = caller.scope_paths(DELIVERY_READERS);
        let (rows, total) = notify::deliveries(&mut tx, &paths, state, page.per_page, page.offset()).await?;
        Ok(Page::of(rows.into_iter().map(|d| delivery_view(d, en)).collect(), total, page))
    }

    /// Puts a parked or failed message back in the queue.
    pub async fn requeue_delivery(&self, caller: &Caller, id: i64) -> Result<DeliveryView> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let d = notify::delivery(&mut tx, id).await?;
            let mine = |d: &notify::Delivery| caller.covers(DELIVERY_READERS, &d.org_path);
            let d = ServiceError::in_reach(d, mine, "delivery_requeue", format!("delivery:{id}"))?;
            if !notify::requeue(&mut tx, id, now).await? {
                return Err(ServiceError::conflict(
                    "只有已搁置或发送失败的消息可以重发",
                    "only a parked or failed message can be sent again",
                ));
            }
            let e = Event::ok("delivery_requeue", format!("delivery:{id}"), &d.org_path);
            record(&mut tx, caller, now, &e.with(json!({ "message_id": d.message_id }))).await?;
            let d = notify::delivery(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(delivery_view(d, false))
        })
        .await
    }
}

/// Words a reply may be to stop SMS (回复TD退订).
const STOP_WORDS: [&str; 5] = ["TD", "T", "N", "退订", "取消"];

/// A provider's delivery receipt: the message (by either id), and whether
/// the phone got it.
#[derive(Debug, Clone, PartialEq)]
struct Receipt {
    key: String,
    delivered: bool,
    error: Option<String>,
}

/// A provider's report of a reply from a phone.
#[derive(Debug, Clone, PartialEq)]
struct Reply {
    phone: String,
    text: String,
}

fn list_of(v: serde_json::Value) -> Vec<serde_json::Value> {
    match v {
        serde_json::Value::Array(items) => items,
        other => vec![other],
    }
}

fn field<'a>(v: &'a serde_json::Value, name: &str) -> &'a str {
    v.get(name).and_then(|x| x.as_str()).unwrap_or_default()
}

fn receipts(provider: SmsProvider, body: serde_json::Value) -> Result<Vec<Receipt>> {
    let mut out = Vec::new();
    for (i, r) in list_of(body).into_iter().enumerate() {
        let got = match provider {
            // help.aliyun.com/document_detail/101867.html
            SmsProvider::Aliyun => {
                let key = [field(&r, "out_id"), field(&r, "biz_id")].into_iter().find(|k| !k.is_empty());
                key.zip(r.get("success").and_then(|s| s.as_bool())).map(|(key, ok)| Receipt {
                    key: key.to_owned(),
                    delivered: ok,
                    error: (!ok).then(|| format!("{}: {}", field(&r, "err_code"), field(&r, "err_msg"))),
                })
            }
            // tencentcloud.com/document/product/382/43547
            SmsProvider::Tencent => match (field(&r, "sid"), field(&r, "report_status")) {
                ("", _) => None,
                (sid, status @ ("SUCCESS" | "FAIL")) => Some(Receipt {
                    key: sid.to_owned(),
                    delivered: status == "SUCCESS",
                    error: (status == "FAIL").then(|| format!("{}: {}", field(&r, "errmsg"), field(&r, "description"))),
                }),
                _ => None,
            },
        };
        let Some(got) = got else {
            return Err(ServiceError::invalid(&format!("[{i}]"), "不是回执", "not a delivery receipt"));
        };
        out.push(got);
    }
    Ok(out)
}

fn replies(provider: SmsProvider, body: serde_json::Value) -> Result<Vec<Reply>> {
    let mut out = Vec::new();
    for (i, r) in list_of(body).into_iter().enumerate() {
        let (phone, text) = match provider {
            SmsProvider::Aliyun => (field(&r, "phone_number"), field(&r, "content")),
            SmsProvider::Tencent => (field(&r, "mobile"), field(&r, "text")),
        };
        if phone.is_empty() {
            return Err(ServiceError::invalid(&format!("[{i}]"), "不是上行短信", "not a reply"));
        }
        out.push(Reply { phone: phone.to_owned(), text: text.to_owned() });
    }
    Ok(out)
}

impl Services {
    /// The SMS provider's callback is ours only with the token set up for
    /// it; any other token is not found.
    fn callback_provider(&self, token: &str) -> Result<SmsProvider> {
        use secrecy::ExposeSecret as _;
        use subtle::ConstantTimeEq as _;
        let sms = self.settings.notify.sms.as_ref().ok_or(ServiceError::NotFound)?;
        let mine = sms.callback_token.as_ref().ok_or(ServiceError::NotFound)?;
        if bool::from(mine.expose_secret().as_bytes().ct_eq(token.as_bytes())) {
            Ok(sms.provider)
        } else {
            Err(ServiceError::NotFound)
        }
    }

    /// Delivery receipts pushed by the provider; answers how many matched.
    pub async fn sms_receipts(&self, token: &str, body: serde_json::Value) -> Result<(SmsProvider, usize)> {
        let provider = self.callback_provider(token)?;
        let got = receipts(provider, body)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let mut matched = 0;
        for r in &got {
            if notify::receipt(&mut tx, &r.key, r.delivered, r.error.as_deref(), now).await? {
                matched += 1;
            }
        }
        tx.commit().await?;
        Ok((provider, matched))
    }

    /// Replies from phones pushed by the provider: 退订 / TD stops SMS to
    /// that phone; answers how many stopped.
    pub async fn sms_replies(&self, token: &str, body: serde_json::Value) -> Result<(SmsProvider, usize)> {
        let provider = self.callback_provider(token)?;
        let got = replies(provider, body)?;
        let now = self.now();
        let mut tx = self.db.write().await?;
        let mut stopped = 0;
        for r in &got {
            let word = r.text.trim().to_uppercase();
            if !STOP_WORDS.contains(&word.as_str()) {
                continue;
            }
            let Ok(phone) = yijia_domain::phone::Phone::parse(r.phone.trim_start_matches("+86")) else { continue };
            let index = self.keys.blind("phone", &phone.normalized())?;
            notify::stop_sms(&mut tx, &index, now).await?;
            let e = Event::ok("sms_stop", format!("phone:{}", phone.masked()), "/root/");
            record(&mut tx, &Caller::system(), now, &e.with(json!({ "reply": word }))).await?;
            stopped += 1;
        }
        tx.commit().await?;
        Ok((provider, stopped))
    }
}

pub(crate) fn aad_group(org_id: i64, name: &str) -> String {
    format!("staff_groups:{org_id}:{name}")
}

/// A staff work group told through its robot.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StaffGroupView {
    pub id: i64,
    /// The grid or community whose group it is.
    pub scope: String,
    pub scope_name: String,
    pub kind: NotifyChannel,
    pub kind_name: String,
    pub name: String,
    /// The robot's host; the key in its address is never shown again.
    pub host: String,
    /// DingTalk: requests are signed with the group's secret.
    pub signed: bool,
    pub created_by: String,
    pub created_at: String,
}

/// A work group's robot to add.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffGroupInput {
    /// A grid's or a community's code.
    pub scope: String,
    /// `wecom` or `dingtalk`.
    pub kind: NotifyChannel,
    /// What the group is called (第1网格工作群).
    pub name: String,
    /// The robot's webhook address, with its key.
    pub url: String,
    /// DingTalk's signing secret (`SEC…`), when the robot is set to sign.
    #[serde(default)]
    pub secret: Option<String>,
}

impl Services {
    fn group_view(&self, g: notify::StaffGroup, code: String, en: bool) -> Result<StaffGroupView> {
        let url = self.keys.open(&aad_group(g.org_id, &g.name), &g.url_sealed)?;
        Ok(StaffGroupView {
            id: g.id,
            scope: code,
            scope_name: g.org_name,
            kind: g.kind,
            kind_name: g.kind.name(en).to_owned(),
            name: g.name,
            host: reqwest::Url::parse(&url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default(),
            signed: g.secret_sealed.is_some(),
            created_by: g.created_by,
            created_at: rfc3339(g.created_at),
        })
    }

    /// Adds a work group's robot for a grid or a community.
    pub async fn add_staff_group(&self, caller: &Caller, input: &StaffGroupInput) -> Result<StaffGroupView> {
        use crate::roles::GROUP_KEEPERS;
        if !caller.has_any(GROUP_KEEPERS) {
            return Err(ServiceError::forbidden());
        }
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 40 {
            return Err(ServiceError::invalid("name", "群名须为 1–40 个字", "a name of 1–40 characters"));
        }
        let url = input.url.trim();
        let official = match input.kind {
            NotifyChannel::WeCom => "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=",
            NotifyChannel::DingTalk => "https://oapi.dingtalk.com/robot/send?access_token=",
            _ => {
                return Err(ServiceError::invalid("kind", "须为 wecom 或 dingtalk", "wecom or dingtalk"));
            }
        };
        // a test rig's robot listens on this machine (as webhooks may)
        let parsed = reqwest::Url::parse(url).ok().filter(|u| matches!(u.scheme(), "http" | "https"));
        let ok = url.len() <= 500
            && if self.settings.webhooks_allow_private {
                parsed.is_some()
            } else {
                url.starts_with(official) && url.len() > official.len()
            };
        if !ok {
            return Err(ServiceError::invalid(
                "url",
                format!("须为机器人的 Webhook 地址,以 {official} 开头"),
                format!("the robot's webhook address, starting {official}"),
            ));
        }
        let secret = input.secret.as_deref().map(str::trim).filter(|s| !s.is_empty());
        match (input.kind, secret) {
            (NotifyChannel::WeCom, Some(_)) => {
                return Err(ServiceError::invalid(
                    "secret",
                    "企业微信机器人没有加签密钥",
                    "a WeCom robot has no secret",
                ));
            }
            (NotifyChannel::DingTalk, Some(s)) if !s.starts_with("SEC") || s.len() > 100 => {
                return Err(ServiceError::invalid(
                    "secret",
                    "加签密钥以 SEC 开头",
                    "the signing secret starts with SEC",
                ));
            }
            _ => {}
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        let node = yijia_store::org::by_code(&mut tx, input.scope.trim())
            .await?
            .filter(|n| matches!(n.kind, yijia_domain::org::OrgKind::Grid | yijia_domain::org::OrgKind::Community))
            .filter(|n| caller.covers(GROUP_KEEPERS, &n.path));
        let Some(node) = node else {
            return Err(ServiceError::invalid(
                "scope",
                format!("您范围内没有网格或社区「{}」", input.scope),
                format!("no grid or community '{}' in your scope", input.scope),
            ));
        };
        let aad = aad_group(node.id, name);
        let url_sealed = self.keys.seal(&aad, url)?;
        let secret_sealed = secret.map(|s| self.keys.seal(&aad, s)).transpose()?;
        let id = notify::insert_group(
            &mut tx,
            &notify::NewStaffGroup {
                org_id: node.id,
                org_path: &node.path,
                kind: input.kind,
                name,
                url_sealed: &url_sealed,
                secret_sealed: secret_sealed.as_deref(),
                created_by: &caller.display_name,
                now,
            },
        )
        .await?;
        let e = Event::ok("staff_group_add", format!("staff_group:{id}"), &node.path);
        record(&mut tx, caller, now, &e.with(json!({ "kind": input.kind, "name": name }))).await?;
        let g = notify::group(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        self.group_view(g, node.code, false)
    }

    /// The work groups in the caller's reach.
    pub async fn staff_groups(&self, caller: &Caller, en: bool) -> Result<Vec<StaffGroupView>> {
        use crate::roles::GROUP_KEEPERS;
        if !caller.has_any(GROUP_KEEPERS) {
            return Err(ServiceError::forbidden());
        }
        let mut tx = self.db.conn().await?;
        let mut out = Vec::new();
        for g in notify::groups(&mut tx).await?.into_iter().filter(|g| caller.covers(GROUP_KEEPERS, &g.org_path)) {
            let code = yijia_store::org::by_id(&mut tx, g.org_id).await?.code;
            out.push(self.group_view(g, code, en)?);
        }
        Ok(out)
    }

    pub async fn remove_staff_group(&self, caller: &Caller, id: i64) -> Result<()> {
        use crate::roles::GROUP_KEEPERS;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let g = notify::group(&mut tx, id).await?;
            let mine = |g: &notify::StaffGroup| caller.covers(GROUP_KEEPERS, &g.org_path);
            let g = ServiceError::in_reach(g, mine, "staff_group_remove", format!("staff_group:{id}"))?;
            notify::remove_group(&mut tx, id, now).await?;
            record(&mut tx, caller, now, &Event::ok("staff_group_remove", format!("staff_group:{id}"), &g.org_path))
                .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }
}

/// Seals every email address and work group robot again under the active
/// key (after a rotation); answers how many values.
pub(crate) async fn reseal(tx: &mut yijia_store::Tx, keys: &crate::keys::Keyring) -> Result<usize> {
    let mut n = 0;
    for (user_id, sealed) in notify::sealed_emails(tx).await? {
        let plain = zeroize::Zeroizing::new(keys.open(&aad_email(user_id), &sealed)?);
        notify::set_email_sealed(tx, user_id, &keys.seal(&aad_email(user_id), &plain)?).await?;
        n += 1;
    }
    for (id, org_id, name, url, secret) in notify::sealed_groups(tx).await? {
        let aad = aad_group(org_id, &name);
        let url = zeroize::Zeroizing::new(keys.open(&aad, &url)?);
        let secret = secret.map(|s| keys.open(&aad, &s).map(zeroize::Zeroizing::new)).transpose()?;
        let secret = secret.map(|s| keys.seal(&aad, &s)).transpose()?;
        notify::set_group_sealed(tx, id, &keys.seal(&aad, &url)?, secret.as_deref()).await?;
        n += 1;
    }
    Ok(n)
}
