//! The SMS provider the browser tests' demo server sends to: Alibaba
//! Cloud's `SendSms`, each request's signature checked as documented;
//! `GET /got` answers what it accepted. `sms-provider 127.0.0.1:PORT`.

use yijia_testkit::providers::{Provider, SmsServer};

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let server = SmsServer::start_on(Provider::Aliyun, &addr).await;
    println!("{}", server.url);
    // until the tests stop it
    let _ = tokio::signal::ctrl_c().await;
}
