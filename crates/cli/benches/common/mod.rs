//! What both benchmarks need to drive a server.

use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits for `base/healthz` to answer; how long it took.
pub async fn wait_ready(client: &reqwest::Client, base: &str) -> Duration {
    let t = Instant::now();
    let url = format!("{base}/healthz");
    loop {
        if let Ok(r) = client.get(&url).send().await
            && r.status().is_success()
        {
            return t.elapsed();
        }
        assert!(t.elapsed() < Duration::from_secs(60), "server did not come up");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A bearer token for `user`.
pub async fn login(client: &reqwest::Client, base: &str, user: &str, password: &str) -> String {
    let v: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["token"].as_str().unwrap_or_else(|| panic!("login {user}: {v}")).to_owned()
}
