//! Webhooks: events from the outbox carried out to another system, signed
//! with HMAC-SHA256, in order, each webhook at its own pace; a failure
//! backs that webhook off (30 s, 1 min, 2 min, … up to an hour) and the
//! same event is sent again.

use std::sync::OnceLock;
use std::time::Duration;

use hmac::{KeyInit, Mac};
use serde::Serialize;
use serde_json::json;
use yijia_domain::time::{MINUTE_MS, rfc3339};
use yijia_store::{cases, org};

use crate::audit::{Event, record};
use crate::roles::WEBHOOK_MAKERS;
use crate::{Caller, Result, ServiceError, Services};

/// Entries sent per webhook per run.
const BATCH: i64 = 100;
const FIRST_BACKOFF_MS: i64 = 30_000;
const MAX_BACKOFF_MS: i64 = 60 * MINUTE_MS;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: i64,
    pub scope: String,
    pub url: String,
    pub created_by: String,
    pub created_at: String,
    pub disabled_at: Option<String>,
    /// Failures in a row; 0 when the last delivery went through.
    pub failures: i64,
    pub last_error: Option<String>,
    /// The signing secret, shown once, when the webhook is made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// What one run of the delivery job did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Delivered {
    pub sent: usize,
    pub failed: usize,
}

fn aad(org_id: i64, url: &str) -> String {
    format!("webhooks.secret:{org_id}:{url}")
}

/// The signature a receiver checks: HMAC-SHA256 of `timestamp.body`.
pub fn signature(secret: &str, timestamp: &str, body: &str) -> Result<String> {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|e| ServiceError::caused("hmac key", e))?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Ok(format!("sha256={}", hex::encode(mac.finalize().into_bytes())))
}

fn backoff(failures: i64) -> i64 {
    (FIRST_BACKOFF_MS << (failures - 1).clamp(0, 20)).min(MAX_BACKOFF_MS)
}

/// Chooses the process's TLS implementation (ring), once; every HTTP
/// client in the process needs it, so the server does it at start and
/// tests before their first client.
pub fn install_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The client that sends webhooks; unless private addresses are allowed,
/// it connects only to addresses outside (`OutsideOnly`).
fn client(allow_private: bool) -> &'static reqwest::Client {
    static OUTSIDE: OnceLock<reqwest::Client> = OnceLock::new();
    static ANYWHERE: OnceLock<reqwest::Client> = OnceLock::new();
    let build = |outside: bool| {
        install_tls();
        let b = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("yijia-webhooks/1");
        let b = if outside { b.dns_resolver(OutsideOnly) } else { b };
        b.build().unwrap_or_default()
    };
    if allow_private { ANYWHERE.get_or_init(|| build(false)) } else { OUTSIDE.get_or_init(|| build(true)) }
}

/// Resolves a webhook's host for the connection itself and keeps only the
/// addresses outside: a name that pointed outside when it was checked
/// cannot point inside by the time of connecting (DNS rebinding).
struct OutsideOnly;

impl reqwest::dns::Resolve for OutsideOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.filter(|a| !inside(a.ip())).collect();
            if found.is_empty() {
                return Err(format!("{host} resolves only to addresses on this machine or a private network").into());
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

fn view(w: cases::Webhook, secret: Option<String>) -> WebhookView {
    WebhookView {
        id: w.id,
        scope: w.org_code,
        url: w.url,
        created_by: w.created_by,
        created_at: rfc3339(w.created_at),
        disabled_at: w.disabled_at.map(rfc3339),
        failures: w.failures,
        last_error: w.last_error,
        secret,
    }
}

impl Services {
    /// Adds a webhook for what happens under `scope` from now on; the
    /// signing secret is shown once.
    pub async fn add_webhook(&self, caller: &Caller, scope: &str, url: &str) -> Result<WebhookView> {
        if !caller.has_any(WEBHOOK_MAKERS) {
            return Err(ServiceError::forbidden());
        }
        let url = url.trim();
        let ok = reqwest::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some() && url.len() <= 500);
        if !ok {
            return Err(ServiceError::invalid(
                "url",
                "须为 http:// 或 https:// 开头的完整地址",
                "a full http:// or https:// address",
            ));
        }
        if !self.settings.webhooks_allow_private && reaches_inside(url).await {
            return Err(ServiceError::invalid(
                "url",
                "不能指向本机或内网地址",
                "a webhook may not point at this machine or a private network",
            ));
        }
        let now = self.now();
        let mut tx = self.db.write().await?;
        let node = org::by_code(&mut tx, scope.trim()).await?.filter(|n| caller.covers(WEBHOOK_MAKERS, &n.path));
        let Some(node) = node else {
            return Err(ServiceError::invalid(
                "scope",
                format!("没有「{scope}」或不在您的范围"),
                format!("no '{scope}' in your scope"),
            ));
        };
        let secret = hex::encode(rand::random::<[u8; 32]>());
        let sealed = self.keys.seal(&aad(node.id, url), &secret)?;
        let id = cases::insert_webhook(&mut tx, node.id, url, &sealed, &caller.username, now).await?;
        let e = Event::ok("webhook_add", format!("webhook:{id}"), &node.path);
        record(&mut tx, caller, now, &e.with(json!({ "url": url }))).await?;
        let w = cases::webhooks(&mut tx).await?.into_iter().find(|w| w.id == id).ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        Ok(view(w, Some(secret)))
    }

    pub async fn webhooks(&self, caller: &Caller) -> Result<Vec<WebhookView>> {
        if !caller.has_any(WEBHOOK_MAKERS) {
            return Err(ServiceError::forbidden());
        }
        let mut tx = self.db.conn().await?;
        let all = cases::webhooks(&mut tx).await?;
        Ok(all.into_iter().filter(|w| caller.covers(WEBHOOK_MAKERS, &w.org_path)).map(|w| view(w, None)).collect())
    }

    pub async fn disable_webhook(&self, caller: &Caller, id: i64) -> Result<()> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let w = cases::webhooks(&mut tx).await?.into_iter().find(|w| w.id == id);
            let mine = |w: &cases::Webhook| caller.covers(WEBHOOK_MAKERS, &w.org_path);
            let w = ServiceError::in_reach(w, mine, "webhook_disable", format!("webhook:{id}"))?;
            cases::disable_webhook(&mut tx, id, now).await?;
            record(&mut tx, caller, now, &Event::ok("webhook_disable", format!("webhook:{id}"), &w.org_path)).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Sends what each webhook has not had yet, unless it is backing off.
    pub async fn deliver_webhooks(&self) -> Result<Delivered> {
        let mut done = Delivered::default();
        let mut tx = self.db.conn().await?;
        let hooks = cases::webhooks(&mut tx).await?;
        drop(tx);
        for w in hooks.into_iter().filter(|w| w.disabled_at.is_none() && w.next_attempt_at <= self.now()) {
            let mut tx = self.db.conn().await?;
            let entries = cases::outbox_after(&mut tx, w.cursor, &w.org_path, BATCH).await?;
            drop(tx);
            if entries.is_empty() {
                continue;
            }
            let secret = self.keys.open(&aad(w.org_id, &w.url), &w.secret_sealed)?;
            let mut cursor = w.cursor;
            let mut error = None;
            for e in &entries {
                match self.send(&w.url, &secret, e).await {
                    Ok(()) => {
                        cursor = e.id;
                        done.sent += 1;
                    }
                    Err(msg) => {
                        error = Some(msg);
                        done.failed += 1;
                        break;
                    }
                }
            }
            let (failures, next) = match &error {
                None => (0, 0),
                Some(_) => (w.failures + 1, self.now() + backoff(w.failures + 1)),
            };
            if let Some(msg) = &error {
                tracing::warn!(webhook = w.id, url = %w.url, failures, error = %msg, "webhook delivery failed");
            }
            let mut tx = self.db.write().await?;
            cases::webhook_attempted(&mut tx, w.id, cursor, failures, next, error.as_deref()).await?;
            tx.commit().await?;
        }
        Ok(done)
    }

    async fn send(&self, url: &str, secret: &str, e: &cases::OutboxEntry) -> std::result::Result<(), String> {
        // a name may resolve elsewhere since it was added
        if !self.settings.webhooks_allow_private && reaches_inside(url).await {
            return Err("refused: the address is on this machine or a private network".into());
        }
        let timestamp = (self.now() / 1000).to_string();
        let sig = signature(secret, &timestamp, &e.payload).map_err(|e| e.to_string())?;
        let r = client(self.settings.webhooks_allow_private)
            .post(url)
            .header("content-type", "application/json")
            .header("x-yijia-event", &e.event)
            .header("x-yijia-delivery", e.id.to_string())
            .header("x-yijia-timestamp", &timestamp)
            .header("x-yijia-signature", sig)
            .body(e.payload.clone())
            .send()
            .await
            .map_err(|err| format!("{err}"))?;
        if r.status().is_success() { Ok(()) } else { Err(format!("HTTP {}", r.status())) }
    }
}

/// Whether `url`'s host is, or resolves to, an address inside: loopback,
/// private, link-local (cloud metadata), unspecified, shared or multicast.
/// A name that does not resolve now is looked at again when sending.
async fn reaches_inside(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else { return true };
    let port = u.port_or_known_default().unwrap_or(80);
    let addrs: Vec<std::net::IpAddr> = match u.host() {
        Some(url::Host::Ipv4(ip)) => vec![ip.into()],
        Some(url::Host::Ipv6(ip)) => vec![ip.into()],
        Some(url::Host::Domain(d)) => match tokio::net::lookup_host((d, port)).await {
            Ok(found) => found.map(|a| a.ip()).collect(),
            Err(_) => return d.eq_ignore_ascii_case("localhost") || d.ends_with(".localhost"),
        },
        None => return true,
    };
    addrs.iter().any(|ip| inside(*ip))
}

fn inside(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v) => {
            let [a, b, ..] = v.octets();
            v.is_loopback()
                || v.is_private()
                || v.is_link_local()
                || v.is_unspecified()
                || v.is_broadcast()
                || v.is_multicast()
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (18..20).contains(&b))
                || (a == 192 && b == 0 && v.octets()[2] == 0)
                || a == 0
                || a >= 240
        }
        std::net::IpAddr::V6(v) => {
            let first = v.segments()[0];
            v.is_loopback()
                || v.is_unspecified()
                || v.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2002
                || v.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
                || v.to_ipv4().is_some_and(|m| inside(m.into()))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn addresses_inside_are_refused() {
        for url in [
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "http://10.1.2.3/",
            "http://192.168.1.1/",
            "http://172.16.0.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
            "http://100.64.0.1/",
            "http://198.18.0.1/",
            "http://[::7f00:1]/",
            "http://[64:ff9b::a00:1]/",
        ] {
            assert!(reaches_inside(url).await, "{url}");
        }
        for url in ["https://8.8.8.8/hook", "http://[2001:4860:4860::8888]/"] {
            assert!(!reaches_inside(url).await, "{url}");
        }
    }

    #[tokio::test]
    async fn the_connection_itself_never_resolves_inside() {
        use reqwest::dns::Resolve as _;
        for name in ["localhost", "127.0.0.1", "ip6-localhost"] {
            let Ok(n) = name.parse() else { continue };
            assert!(OutsideOnly.resolve(n).await.is_err(), "{name}");
        }
        // a send to a name that now points inside fails at the connection
        install_tls();
        let err = client(false).get("http://localhost:9/").send().await.unwrap_err();
        assert!(format!("{err:?}").contains("private network"), "{err:?}");
    }

    #[test]
    fn back_off_doubles_up_to_an_hour() {
        assert_eq!(backoff(1), 30_000);
        assert_eq!(backoff(2), 60_000);
        assert_eq!(backoff(3), 120_000);
        assert_eq!(backoff(30), MAX_BACKOFF_MS);
    }

    #[test]
    fn the_signature_covers_the_time_and_the_body() {
        let a = signature("s3cret", "1700000000", "{\"a\":1}").unwrap();
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_ne!(a, signature("s3cret", "1700000001", "{\"a\":1}").unwrap());
        assert_ne!(a, signature("s3cret", "1700000000", "{\"a\":2}").unwrap());
        assert_ne!(a, signature("other", "1700000000", "{\"a\":1}").unwrap());
    }
}
