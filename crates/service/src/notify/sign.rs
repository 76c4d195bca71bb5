//! The providers' request signing, exactly as each documents it; the tests
//! check each against the provider's published worked example.

use base64::Engine as _;
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::{Result, ServiceError};

fn mac<M: Mac + KeyInit>(key: &[u8], data: &str) -> Result<Vec<u8>> {
    let mut mac = <M as KeyInit>::new_from_slice(key).map_err(|e| ServiceError::caused("hmac key", e))?;
    mac.update(data.as_bytes());
    Ok(mac.finalize().into_bytes().to_vec())
}

fn hmac256(key: &[u8], data: &str) -> Result<Vec<u8>> {
    mac::<hmac::Hmac<Sha256>>(key, data)
}

/// Alibaba Cloud's percent-encoding (RFC 3986): everything but
/// `A-Z a-z 0-9 - _ . ~` as `%XY`, upper case, from UTF-8.
pub fn aliyun_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Alibaba Cloud's RPC signature (HMAC-SHA1, version 1.0) of a request's
/// parameters, `Signature` itself not among them: the sorted, encoded
/// query, encoded again behind `METHOD&%2F&`, keyed with `secret&`.
pub fn aliyun(method: &str, params: &[(&str, &str)], secret: &str) -> Result<String> {
    let mut sorted: Vec<(String, String)> = params.iter().map(|(k, v)| (aliyun_encode(k), aliyun_encode(v))).collect();
    sorted.sort();
    let query = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let to_sign = format!("{method}&{}&{}", aliyun_encode("/"), aliyun_encode(&query));
    let sig = mac::<hmac::Hmac<sha1::Sha1>>(format!("{secret}&").as_bytes(), &to_sign)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sig))
}

/// A DingTalk group robot's signature: HMAC-SHA256 of `timestamp\nsecret`
/// keyed with the secret, in base64 (the caller URL-encodes it).
pub fn dingtalk(timestamp_ms: i64, secret: &str) -> Result<String> {
    let sig = hmac256(secret.as_bytes(), &format!("{timestamp_ms}\n{secret}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sig))
}

/// What Tencent Cloud's TC3-HMAC-SHA256 signs.
pub struct Tc3<'a> {
    pub secret_id: &'a str,
    pub secret_key: &'a str,
    /// `sms`, `cvm`: the first label of the host at Tencent.
    pub service: &'a str,
    /// The `Host` header as sent.
    pub host: &'a str,
    pub content_type: &'a str,
    pub timestamp: i64,
    pub payload: &'a str,
}

impl Tc3<'_> {
    /// The `Authorization` header for a POST to `/` signing `content-type`
    /// and `host`.
    pub fn authorization(&self) -> Result<String> {
        let date = chrono::DateTime::from_timestamp(self.timestamp, 0).unwrap_or_default().format("%Y-%m-%d");
        let canonical = format!(
            "POST\n/\n\ncontent-type:{}\nhost:{}\n\ncontent-type;host\n{}",
            self.content_type,
            self.host,
            hex::encode(Sha256::digest(self.payload.as_bytes()))
        );
        let scope = format!("{date}/{}/tc3_request", self.service);
        let to_sign = format!(
            "TC3-HMAC-SHA256\n{}\n{scope}\n{}",
            self.timestamp,
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let k_date = hmac256(format!("TC3{}", self.secret_key).as_bytes(), &date.to_string())?;
        let k_service = hmac256(&k_date, self.service)?;
        let k_signing = hmac256(&k_service, "tc3_request")?;
        let signature = hex::encode(hmac256(&k_signing, &to_sign)?);
        Ok(format!(
            "TC3-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=content-type;host, Signature={signature}",
            self.secret_id
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// help.aliyun.com/document_detail/56189.html, the SMS signing example.
    #[test]
    fn aliyun_matches_the_published_send_sms_example() {
        let params = [
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", "{\"customer\":\"test\"}"),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ];
        assert_eq!(aliyun("GET", &params, "testSecret").unwrap(), "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
        // the order they are given in does not matter
        let mut reversed = params;
        reversed.reverse();
        assert_eq!(aliyun("GET", &reversed, "testSecret").unwrap(), "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
    }

    /// The general RPC example (ECS DescribeRegions).
    #[test]
    fn aliyun_matches_the_published_rpc_example() {
        let params = [
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ];
        assert_eq!(aliyun("GET", &params, "testsecret").unwrap(), "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    }

    #[test]
    fn aliyun_encodes_as_rfc_3986() {
        assert_eq!(aliyun_encode("a b*c~d+é"), "a%20b%2Ac~d%2B%C3%A9");
    }

    /// DingTalk documents the steps but no values: these were checked with
    /// `openssl dgst -sha256 -hmac`; the second has both `+` and `/`.
    #[test]
    fn dingtalk_signs_the_time_and_the_secret() {
        assert_eq!(dingtalk(1700000000000, "this is secret").unwrap(), "sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0=");
        assert_eq!(dingtalk(1577262236757, "SECexample").unwrap(), "3O/+JkmT6LIkyEifgagk27DzxKJTl4agVk3rjPORAak=");
    }

    /// Tencent Cloud's "Signature v3" worked example (cvm DescribeInstances).
    #[test]
    fn tencent_matches_the_published_example() {
        let t = Tc3 {
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            secret_key: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            service: "cvm",
            host: "cvm.tencentcloudapi.com",
            content_type: "application/json; charset=utf-8",
            timestamp: 1551113065,
            payload: r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#,
        };
        assert_eq!(
            t.authorization().unwrap(),
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, \
             SignedHeaders=content-type;host, \
             Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
        let masked = Tc3 {
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
            secret_key: "Gu5t9xGARNpq86cd98joQYCN3*******",
            ..t
        };
        assert!(
            masked
                .authorization()
                .unwrap()
                .ends_with("Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c")
        );
    }
}
