//! The outside services yijia talks to, run by the tests: an SMS provider
//! that checks each request's signature exactly as Alibaba Cloud or Tencent
//! Cloud documents it and records what it got, and a real SMTP server
//! (`aiosmtpd` from PyPI) writing what it receives to a maildir.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use yijia_service::notify::send::TENCENT_CONTENT_TYPE;
use yijia_service::notify::sign;

pub const KEY_ID: &str = "LTAI-test-key";
pub const KEY_SECRET: &str = "test-secret-do-not-use";
/// Where the provider pushes receipts and replies: `/api/v1/sms/…/TOKEN`.
pub const CALLBACK_TOKEN: &str = "cb-7d1f0c2a";

/// One SMS the provider accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Got {
    pub phone: String,
    pub sign_name: String,
    pub template: String,
    /// Alibaba: the variables by name; Tencent: the list in order.
    pub params: Value,
    /// The message id yijia sent with it (OutId, SessionContext).
    pub message_id: String,
    /// The provider's id for it (BizId, SerialNo).
    pub provider_id: String,
}

#[derive(Debug, Default)]
pub struct Log {
    pub got: Vec<Got>,
    /// Requests refused, with why (a bad signature, a nonce used twice).
    pub refused: Vec<String>,
    /// Answer this many requests with 503 before accepting.
    pub fail_next: usize,
    /// How many requests arrived, accepted or not.
    pub requests: usize,
    nonces: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Aliyun,
    Tencent,
}

pub struct SmsServer {
    pub url: String,
    pub provider: Provider,
    pub log: Arc<Mutex<Log>>,
}

impl SmsServer {
    pub async fn start(provider: Provider) -> Self {
        Self::start_on(provider, "127.0.0.1:0").await
    }

    /// On a given address; besides the provider's API at `/`, `GET /got`
    /// answers what it accepted (for tests that drive a browser).
    pub async fn start_on(provider: Provider, addr: &str) -> Self {
        let log = Arc::new(Mutex::new(Log::default()));
        let l = log.clone();
        let seen = log.clone();
        let app = axum::Router::new().route(
            "/got",
            axum::routing::get(move || {
                let seen = seen.clone();
                async move {
                    let got: Vec<Value> = seen
                        .lock()
                        .unwrap()
                        .got
                        .iter()
                        .map(|g| json!({"phone": g.phone, "template": g.template, "params": g.params}))
                        .collect();
                    axum::Json(got)
                }
            }),
        );
        let app = app.route(
            "/",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let l = l.clone();
                async move {
                    let mut log = l.lock().unwrap();
                    log.requests += 1;
                    if log.fail_next > 0 {
                        log.fail_next -= 1;
                        return (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
                    }
                    let n = log.got.len() + 1;
                    let answer = match provider {
                        Provider::Aliyun => aliyun(&mut log, &body, n),
                        Provider::Tencent => tencent(&mut log, &headers, &body, n),
                    };
                    axum::Json(answer).into_response()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, provider, log }
    }

    /// The settings that point yijia at this server.
    pub fn settings(&self) -> yijia_service::notify::SmsSettings {
        use yijia_service::notify::SmsProvider;
        yijia_service::notify::SmsSettings {
            provider: match self.provider {
                Provider::Aliyun => SmsProvider::Aliyun,
                Provider::Tencent => SmsProvider::Tencent,
            },
            endpoint: self.url.clone(),
            key_id: KEY_ID.into(),
            key_secret: KEY_SECRET.to_owned().into(),
            sign_name: "驿家".into(),
            app_id: "1400006666".into(),
            region: "ap-guangzhou".into(),
            templates: vec![],
            callback_token: Some(CALLBACK_TOKEN.to_owned().into()),
        }
    }

    pub fn got(&self) -> Vec<Got> {
        self.log.lock().unwrap().got.clone()
    }

    pub fn refused(&self) -> Vec<String> {
        self.log.lock().unwrap().refused.clone()
    }
}

fn refuse(log: &mut Log, why: String, answer: Value) -> Value {
    log.refused.push(why);
    answer
}

/// Alibaba Cloud `SendSms`: a form whose `Signature` is checked as the
/// RPC signature of the other parameters, method POST.
fn aliyun(log: &mut Log, body: &[u8], n: usize) -> Value {
    let mut params: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let Some(at) = params.iter().position(|(k, _)| k == "Signature") else {
        return refuse(log, "no Signature".into(), json!({"Code": "MissingSignature"}));
    };
    let (_, signature) = params.remove(at);
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let expected = sign::aliyun("POST", &pairs, KEY_SECRET).unwrap();
    if signature != expected || get("AccessKeyId") != KEY_ID {
        return refuse(log, format!("signature {signature} != {expected}"), json!({"Code": "SignatureDoesNotMatch"}));
    }
    for (k, v) in [
        ("Action", "SendSms"),
        ("Version", "2017-05-25"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
    ] {
        if get(k) != v {
            return refuse(log, format!("{k} is '{}'", get(k)), json!({"Code": "InvalidParameter"}));
        }
    }
    let nonce = get("SignatureNonce");
    if nonce.is_empty() || log.nonces.contains(&nonce) {
        return refuse(log, format!("nonce '{nonce}' used again"), json!({"Code": "SignatureNonceUsed"}));
    }
    log.nonces.push(nonce);
    let provider_id = format!("biz-{n}");
    log.got.push(Got {
        phone: get("PhoneNumbers"),
        sign_name: get("SignName"),
        template: get("TemplateCode"),
        params: serde_json::from_str(&get("TemplateParam")).unwrap_or(Value::Null),
        message_id: get("OutId"),
        provider_id: provider_id.clone(),
    });
    json!({"Code": "OK", "Message": "OK", "BizId": provider_id, "RequestId": format!("req-{n}")})
}

/// Tencent Cloud `SendSms`: the `Authorization` header recomputed from the
/// headers and body as received.
fn tencent(log: &mut Log, headers: &HeaderMap, body: &[u8], n: usize) -> Value {
    let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let payload = String::from_utf8_lossy(body).into_owned();
    let timestamp: i64 = h("x-tc-timestamp").parse().unwrap_or_default();
    let host = h("host");
    let expected = sign::Tc3 {
        secret_id: KEY_ID,
        secret_key: KEY_SECRET,
        service: "sms",
        host: &host,
        content_type: &h("content-type"),
        timestamp,
        payload: &payload,
    }
    .authorization()
    .unwrap();
    let error =
        |code: &str| json!({"Response": {"Error": {"Code": code, "Message": code}, "RequestId": format!("req-{n}")}});
    if h("authorization") != expected || h("content-type") != TENCENT_CONTENT_TYPE {
        return refuse(
            log,
            format!("authorization {} != {expected}", h("authorization")),
            error("AuthFailure.SignatureFailure"),
        );
    }
    if h("x-tc-action") != "SendSms" || h("x-tc-version") != "2021-01-11" {
        return refuse(log, "action or version".into(), error("InvalidAction"));
    }
    let v: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
    let phone = v["PhoneNumberSet"][0].as_str().unwrap_or_default().trim_start_matches("+86").to_owned();
    let provider_id = format!("2019:{n}");
    let session = v["SessionContext"].as_str().unwrap_or_default().to_owned();
    log.got.push(Got {
        phone: phone.clone(),
        sign_name: v["SignName"].as_str().unwrap_or_default().into(),
        template: v["TemplateId"].as_str().unwrap_or_default().into(),
        params: v["TemplateParamSet"].clone(),
        message_id: session.clone(),
        provider_id: provider_id.clone(),
    });
    json!({"Response": {"SendStatusSet": [{"SerialNo": provider_id, "PhoneNumber": format!("+86{phone}"), "Fee": 1,
        "SessionContext": session, "Code": "Ok", "Message": "send success", "IsoCode": "CN"}],
        "RequestId": format!("req-{n}")}})
}

/// One message a group robot got: the query (DingTalk's `timestamp` and
/// `sign`) and the JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct RobotPost {
    pub path: String,
    pub signed: bool,
    pub body: Value,
}

/// A WeCom or DingTalk group robot: answers `{"errcode":0}`, checking a
/// DingTalk signature (`timestamp` + "\n" + secret, HMAC-SHA256, base64)
/// when the request carries one; a wrong signature gets errcode 310000.
pub struct RobotServer {
    pub url: String,
    pub posts: Arc<Mutex<Vec<RobotPost>>>,
}

pub const DINGTALK_SECRET: &str = "SECexample";

impl RobotServer {
    pub async fn start() -> Self {
        let posts = Arc::new(Mutex::new(Vec::new()));
        let p = posts.clone();
        let app =
            axum::Router::new().fallback(axum::routing::post(move |uri: axum::http::Uri, body: axum::Json<Value>| {
                let p = p.clone();
                async move {
                    let query: Vec<(String, String)> =
                        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
                    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                    let signed = match (get("timestamp"), get("sign")) {
                        (Some(t), Some(s)) => {
                            let expected = sign::dingtalk(t.parse().unwrap_or_default(), DINGTALK_SECRET).unwrap();
                            if s != expected {
                                return axum::Json(json!({"errcode": 310000, "errmsg": "sign not match"}));
                            }
                            true
                        }
                        _ => false,
                    };
                    p.lock().unwrap().push(RobotPost { path: uri.path().to_owned(), signed, body: body.0 });
                    axum::Json(json!({"errcode": 0, "errmsg": "ok"}))
                }
            }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, posts }
    }

    pub fn posts(&self) -> Vec<RobotPost> {
        self.posts.lock().unwrap().clone()
    }
}

/// A Python with `aiosmtpd`: `YIJIA_AIOSMTPD_PYTHON`, or a virtual
/// environment in the cache made once (PyPI is reachable where tests run).
fn aiosmtpd_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if let Ok(p) = std::env::var("YIJIA_AIOSMTPD_PYTHON") {
                return PathBuf::from(p);
            }
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .unwrap_or_else(std::env::temp_dir)
                .join("yijia-ci")
                .join("smtp-venv");
            let python = cache.join("bin").join("python");
            let has = |p: &PathBuf| {
                Command::new(p)
                    .args(["-c", "import aiosmtpd"])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            };
            if !has(&python) {
                let made = Command::new("python3").arg("-m").arg("venv").arg(&cache).status().unwrap();
                assert!(made.success(), "python3 -m venv {} failed", cache.display());
                let pip = Command::new(cache.join("bin").join("pip"))
                    .args(["install", "-q", "aiosmtpd>=1.4,<2"])
                    .status()
                    .unwrap();
                assert!(pip.success(), "pip install aiosmtpd failed");
            }
            python
        })
        .clone()
}

/// A real SMTP server on a free port, keeping each message it gets as a
/// file in a maildir; stopped when dropped.
pub struct SmtpServer {
    pub url: String,
    dir: tempfile::TempDir,
    child: Child,
}

impl SmtpServer {
    pub async fn start() -> Self {
        let python = aiosmtpd_python();
        let dir = tempfile::tempdir().unwrap();
        let port = crate::free_port();
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.path().join("mail"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(t.elapsed() < Duration::from_secs(30), "aiosmtpd did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { url: format!("smtp://127.0.0.1:{port}"), dir, child }
    }

    /// The messages received, each whole (headers and body).
    pub fn received(&self) -> Vec<String> {
        let new = self.dir.path().join("mail").join("new");
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(new).map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
        files.sort();
        files.iter().map(|f| std::fs::read_to_string(f).unwrap_or_default()).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
