//! What the web tests, the command line's tests and the benchmarks share to
//! reach a running yijia over HTTP: a free port, a server process that is
//! stopped when dropped, waiting for it to answer, logging in, and JSON
//! calls with a bearer token. Tests fail loudly: every helper panics with
//! what it was doing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod providers;

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};

/// A client that follows no redirects (a test looks at each answer).
pub fn client() -> Client {
    yijia_service::webhooks::install_tls();
    Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A port nobody listens on at this moment.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits for `base/healthz` to answer 200; how long it took.
pub async fn wait_ready(client: &Client, base: &str) -> Duration {
    let t = Instant::now();
    let url = format!("{base}/healthz");
    loop {
        if client.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
            return t.elapsed();
        }
        assert!(t.elapsed() < Duration::from_secs(60), "the server at {base} did not come up");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The answer to a login through the API, whatever it is.
pub async fn login_raw(client: &Client, base: &str, username: &str, password: &str) -> Response {
    client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap()
}

/// Logs in through the API and answers the bearer token.
pub async fn login(client: &Client, base: &str, username: &str, password: &str) -> String {
    let r = login_raw(client, base, username, password).await;
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "login as {username}: {v}");
    v["token"].as_str().unwrap_or_else(|| panic!("login as {username}: {v}")).to_owned()
}

/// A JSON call with a bearer token: the status and the body (`null` when
/// the body is not JSON).
pub async fn call(
    client: &Client,
    method: Method,
    url: &str,
    token: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut req = client.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(b);
    }
    let r = req.send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// A `yijia serve` process, killed when dropped.
pub struct Served {
    pub child: Child,
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub url: String,
}

impl Served {
    /// Starts `cmd` (a `yijia serve … --addr 127.0.0.1:0`) and reads the
    /// address it listens on from its first line of output.
    pub fn start(mut cmd: Command) -> Self {
        let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) else {
            let _ = child.kill();
            panic!("yijia serve did not say where it listens: {line:?}");
        };
        let url = url.trim_end_matches('/').to_owned();
        // keep reading, or the server's next line meets a closed pipe
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Self { child, url }
    }

    /// Stops the server and waits for it to end.
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
