//! The channels that go out through a provider, each behind `Sender`: SMS
//! through Alibaba Cloud or Tencent Cloud, email over SMTP.

use std::time::Duration;

use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use yijia_domain::notify::{Params, Topic, render};

use super::sign;
use crate::{Result, ServiceError};

/// One message on its way out.
pub struct Outgoing<'a> {
    /// Stable across resends: the provider sees the same id again.
    pub message_id: &'a str,
    /// A mobile number (`13800000000`) or an email address.
    pub to: &'a str,
    pub topic: Topic,
    pub params: &'a Params,
    /// A DingTalk robot's signing secret.
    pub secret: Option<&'a str>,
}

/// Why a message did not go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again (the network, the provider busy or down).
    Retry(String),
    /// Will never go (a bad number, a template the provider refuses).
    Refused(String),
}

pub trait Sender: Send + Sync + std::fmt::Debug {
    /// Sends one message; answers the provider's id for it.
    fn send<'a>(&'a self, m: &'a Outgoing<'a>) -> BoxFuture<'a, Result<String, SendError>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmsProvider {
    Aliyun,
    Tencent,
}

impl std::str::FromStr for SmsProvider {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim() {
            "aliyun" => Ok(Self::Aliyun),
            "tencent" => Ok(Self::Tencent),
            other => Err(format!("sms_provider: '{other}' is neither 'aliyun' nor 'tencent'")),
        }
    }
}

/// An SMS provider's account (DESIGN section 7: `YIJIA_SMS_*`).
#[derive(Debug, Clone)]
pub struct SmsSettings {
    pub provider: SmsProvider,
    /// The provider's base URL (a local server in tests).
    pub endpoint: String,
    pub key_id: String,
    pub key_secret: SecretString,
    /// The signature registered with the provider (【驿家】 without brackets).
    pub sign_name: String,
    /// Tencent: the SMS application (`SmsSdkAppId`).
    pub app_id: String,
    /// Tencent: the region (`ap-guangzhou`).
    pub region: String,
    /// The provider's template for each topic; a topic not listed is sent
    /// with its own code as the template's.
    pub templates: Vec<(Topic, String)>,
    /// The secret part of the addresses the provider pushes receipts and
    /// replies to (`/api/v1/sms/receipts/TOKEN`); unset: none are taken.
    pub callback_token: Option<SecretString>,
}

impl SmsSettings {
    fn template(&self, topic: Topic) -> &str {
        self.templates.iter().find(|(t, _)| *t == topic).map_or(topic.code(), |(_, code)| code.as_str())
    }
}

/// The mail server (`YIJIA_SMTP_URL`, `YIJIA_SMTP_FROM`).
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// `smtp://host:port`, `smtps://user:password@host`: may hold a password.
    pub url: SecretString,
    pub from: String,
}

fn http() -> reqwest::Client {
    crate::webhooks::install_tls();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("yijia-notify/1")
        .build()
        .unwrap_or_default()
}

/// A network error, without its address: a robot's holds its key.
fn network(e: reqwest::Error) -> SendError {
    SendError::Retry(format!("network: {}", e.without_url()))
}

async fn answer(r: reqwest::Response) -> Result<Value, SendError> {
    let status = r.status();
    let body = r.text().await.map_err(network)?;
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Err(SendError::Retry(format!("HTTP {status}")));
    }
    serde_json::from_str(&body).map_err(|_| {
        SendError::Retry(format!("HTTP {status}: not JSON: {}", body.chars().take(120).collect::<String>()))
    })
}

/// Alibaba Cloud SMS (`dysmsapi`, `SendSms` of 2017-05-25).
#[derive(Debug)]
pub struct Aliyun {
    s: SmsSettings,
    client: reqwest::Client,
}

/// Codes after which a message will never go.
const ALIYUN_REFUSED: [&str; 5] = [
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.PARAM_LENGTH_LIMIT",
];

impl Aliyun {
    pub fn new(s: SmsSettings) -> Self {
        Self { s, client: http() }
    }

    async fn go(&self, m: &Outgoing<'_>) -> Result<String, SendError> {
        let vars: serde_json::Map<String, Value> = m
            .topic
            .variables()
            .into_iter()
            .map(|k| (k.to_owned(), Value::String(m.params.get(k).to_owned())))
            .collect();
        let vars = Value::Object(vars).to_string();
        let nonce = uuid::Uuid::new_v4().to_string();
        let timestamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut params = vec![
            ("AccessKeyId", self.s.key_id.as_str()),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("OutId", m.message_id),
            ("PhoneNumbers", m.to),
            ("RegionId", "cn-hangzhou"),
            ("SignName", self.s.sign_name.as_str()),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", nonce.as_str()),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", self.s.template(m.topic)),
            ("TemplateParam", vars.as_str()),
            ("Timestamp", timestamp.as_str()),
            ("Version", "2017-05-25"),
        ];
        let signature = sign::aliyun("POST", &params, self.s.key_secret.expose_secret())
            .map_err(|e| SendError::Refused(e.to_string()))?;
        params.push(("Signature", signature.as_str()));
        let r = self.client.post(&self.s.endpoint).form(&params).send().await.map_err(network)?;
        let v = answer(r).await?;
        let code = v["Code"].as_str().unwrap_or_default();
        if code == "OK" {
            return Ok(v["BizId"].as_str().unwrap_or(m.message_id).to_owned());
        }
        let why = format!("{code}: {}", v["Message"].as_str().unwrap_or_default());
        if ALIYUN_REFUSED.contains(&code) { Err(SendError::Refused(why)) } else { Err(SendError::Retry(why)) }
    }
}

impl Sender for Aliyun {
    fn send<'a>(&'a self, m: &'a Outgoing<'a>) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(self.go(m))
    }
}

/// Tencent Cloud SMS (`SendSms` of 2021-01-11, signed TC3-HMAC-SHA256).
#[derive(Debug)]
pub struct Tencent {
    s: SmsSettings,
    client: reqwest::Client,
}

const TENCENT_REFUSED: [&str; 4] = [
    "InvalidParameterValue.IncorrectPhoneNumber",
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
    "FailedOperation.SignatureIncorrectOrUnapproved",
    "FailedOperation.TemplateIncorrectOrUnapproved",
];

pub const TENCENT_CONTENT_TYPE: &str = "application/json; charset=utf-8";

impl Tencent {
    pub fn new(s: SmsSettings) -> Self {
        Self { s, client: http() }
    }

    async fn go(&self, m: &Outgoing<'_>) -> Result<String, SendError> {
        let values: Vec<&str> = m.topic.variables().into_iter().map(|v| m.params.get(v)).collect();
        let payload = json!({
            "PhoneNumberSet": [format!("+86{}", m.to)],
            "SmsSdkAppId": self.s.app_id,
            "SignName": self.s.sign_name,
            "TemplateId": self.s.template(m.topic),
            "TemplateParamSet": values,
            "SessionContext": m.message_id,
        })
        .to_string();
        let url = reqwest::Url::parse(&self.s.endpoint).map_err(|e| SendError::Refused(format!("endpoint: {e}")))?;
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => return Err(SendError::Refused("endpoint has no host".into())),
        };
        let timestamp = chrono::Utc::now().timestamp();
        let authorization = sign::Tc3 {
            secret_id: &self.s.key_id,
            secret_key: self.s.key_secret.expose_secret(),
            service: "sms",
            host: &host,
            content_type: TENCENT_CONTENT_TYPE,
            timestamp,
            payload: &payload,
        }
        .authorization()
        .map_err(|e| SendError::Refused(e.to_string()))?;
        let r = self
            .client
            .post(url)
            .header("authorization", authorization)
            .header("content-type", TENCENT_CONTENT_TYPE)
            .header("host", &host)
            .header("x-tc-action", "SendSms")
            .header("x-tc-version", "2021-01-11")
            .header("x-tc-timestamp", timestamp.to_string())
            .header("x-tc-region", &self.s.region)
            .body(payload)
            .send()
            .await
            .map_err(network)?;
        let v = answer(r).await?;
        let response = &v["Response"];
        if let Some(code) = response["Error"]["Code"].as_str() {
            let why = format!("{code}: {}", response["Error"]["Message"].as_str().unwrap_or_default());
            return Err(if TENCENT_REFUSED.contains(&code) { SendError::Refused(why) } else { SendError::Retry(why) });
        }
        let status = &response["SendStatusSet"][0];
        let code = status["Code"].as_str().unwrap_or_default();
        if code == "Ok" {
            return Ok(status["SerialNo"].as_str().unwrap_or(m.message_id).to_owned());
        }
        let why = format!("{code}: {}", status["Message"].as_str().unwrap_or_default());
        Err(if TENCENT_REFUSED.contains(&code) { SendError::Refused(why) } else { SendError::Retry(why) })
    }
}

impl Sender for Tencent {
    fn send<'a>(&'a self, m: &'a Outgoing<'a>) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(self.go(m))
    }
}

pub fn sms_sender(s: SmsSettings) -> Box<dyn Sender> {
    match s.provider {
        SmsProvider::Aliyun => Box::new(Aliyun::new(s)),
        SmsProvider::Tencent => Box::new(Tencent::new(s)),
    }
}

/// Email over SMTP, in Chinese with the English below.
pub struct Email {
    from: lettre::message::Mailbox,
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Email {
    pub fn new(s: &SmtpSettings) -> Result<Self> {
        let from = s.from.parse().map_err(|e| ServiceError::caused("smtp_from", e))?;
        let transport = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(s.url.expose_secret())
            .map_err(|e| ServiceError::caused("smtp_url", e))?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        Ok(Self { from, transport })
    }

    async fn go(&self, m: &Outgoing<'_>) -> Result<String, SendError> {
        use lettre::AsyncTransport as _;
        let to = m.to.parse().map_err(|e| SendError::Refused(format!("address: {e}")))?;
        let subject =
            format!("驿家 · {} / {}", yijia_domain::Label::name_zh(m.topic), yijia_domain::Label::name_en(m.topic));
        let body = format!("{}\n\n{}\n", render(m.topic, m.params, false), render(m.topic, m.params, true));
        let id = format!("<{}@yijia>", m.message_id);
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(id.clone()))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| SendError::Refused(format!("message: {e}")))?;
        match self.transport.send(email).await {
            Ok(_) => Ok(id),
            Err(e) if e.is_permanent() => Err(SendError::Refused(format!("smtp: {e}"))),
            Err(e) => Err(SendError::Retry(format!("smtp: {e}"))),
        }
    }
}

impl Sender for Email {
    fn send<'a>(&'a self, m: &'a Outgoing<'a>) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(self.go(m))
    }
}

/// The robots of staff work groups: WeCom (企业微信) and DingTalk (钉钉), a
/// JSON text message posted to the group's address; DingTalk's signed with
/// the group's secret when it has one.
#[derive(Debug)]
pub struct Robots {
    client: reqwest::Client,
}

impl Default for Robots {
    fn default() -> Self {
        Self { client: http() }
    }
}

/// Answers that mean "too many, try later": WeCom 45009, DingTalk 130101.
const ROBOT_BUSY: [i64; 2] = [45009, 130101];

impl Robots {
    async fn go(&self, m: &Outgoing<'_>) -> Result<String, SendError> {
        let mut url = reqwest::Url::parse(m.to).map_err(|e| SendError::Refused(format!("address: {e}")))?;
        if let Some(secret) = m.secret {
            let timestamp = chrono::Utc::now().timestamp_millis();
            let sign = sign::dingtalk(timestamp, secret).map_err(|e| SendError::Refused(e.to_string()))?;
            url.query_pairs_mut().append_pair("timestamp", &timestamp.to_string()).append_pair("sign", &sign);
        }
        let content = format!("【驿家】{}", render(m.topic, m.params, false));
        let body = json!({"msgtype": "text", "text": {"content": content}});
        let r = self.client.post(url).json(&body).send().await.map_err(network)?;
        let v = answer(r).await?;
        match v["errcode"].as_i64() {
            Some(0) => Ok(m.message_id.to_owned()),
            Some(code) if ROBOT_BUSY.contains(&code) => {
                Err(SendError::Retry(format!("{code}: {}", v["errmsg"].as_str().unwrap_or_default())))
            }
            Some(code) => Err(SendError::Refused(format!("{code}: {}", v["errmsg"].as_str().unwrap_or_default()))),
            None => {
                Err(SendError::Retry(format!("no errcode: {}", v.to_string().chars().take(120).collect::<String>())))
            }
        }
    }
}

impl Sender for Robots {
    fn send<'a>(&'a self, m: &'a Outgoing<'a>) -> BoxFuture<'a, Result<String, SendError>> {
        Box::pin(self.go(m))
    }
}
