use std::sync::Arc;

use calamine::Reader as _;
use chrono::Datelike as _;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use yijia_domain::time::Clock as _;
use yijia_service::keys::Keyring;
use yijia_service::{ManualClock, Services, Settings};
use yijia_store::testing::TestDb;
use yijia_web::{AppState, WebConfig};

pub const PASSWORD: &str = yijia_service::fixtures::demo::PASSWORD;

pub struct TestApp {
    pub url: String,
    pub clock: Arc<ManualClock>,
    pub svc: Services,
    pub db: TestDb,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

impl TestApp {
    /// The demo community on a fresh database, served on port 0.
    pub async fn spawn() -> Self {
        Self::spawn_with(Settings::default()).await
    }

    pub async fn spawn_with(settings: Settings) -> Self {
        let db = TestDb::new().await;
        Self::serve(db, settings, true).await
    }

    pub async fn serve(db: TestDb, settings: Settings, demo: bool) -> Self {
        Self::serve_with(db, settings, demo, WebConfig { tls: false, trusted_proxies: vec![] }).await
    }

    /// Served as if behind a reverse proxy on this machine.
    pub async fn spawn_behind_proxy(settings: Settings) -> Self {
        let web = WebConfig { tls: false, trusted_proxies: vec!["127.0.0.1".parse().unwrap()] };
        Self::serve_with(TestDb::new().await, settings, true, web).await
    }

    pub async fn serve_with(db: TestDb, settings: Settings, demo: bool, web: WebConfig) -> Self {
        let clock = Arc::new(ManualClock::new(now_ms()));
        let svc = Services::new(db.db.clone(), clock.clone(), settings, Arc::new(Keyring::generate()));
        if demo {
            svc.fixtures().seed_demo().await.unwrap();
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = AppState { svc: svc.clone(), cfg: web };
        tokio::spawn(async move {
            yijia_web::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Self { url, clock, svc, db, stop: Some(tx) }
    }

    pub fn client(&self) -> Client {
        yijia_testkit::client()
    }

    /// A client that keeps cookies, as a browser does.
    pub fn browser(&self) -> Client {
        yijia_service::webhooks::install_tls();
        Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
    }

    /// A browser-like client logged in through the login page.
    pub async fn browser_as(&self, username: &str) -> Client {
        let b = self.browser();
        let r = b
            .post(format!("{}/login", self.url))
            .form(&[("username", username), ("password", PASSWORD), ("next", "/")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "login as {username}");
        b
    }

    pub async fn login_raw(&self, username: &str, password: &str) -> Response {
        yijia_testkit::login_raw(&self.client(), &self.url, username, password).await
    }

    /// Logs in and answers the bearer token.
    /// The demo community's months of work: residents, cases, visits and
    /// points.
    /// Early in a month its own figures are still zeros: the clock goes on
    /// to the 20th (Beijing time, noon), so that a demo seeded after this has
    /// data in "this month" whatever day the tests run on.
    pub fn clock_to_the_20th(&self) {
        let today = yijia_domain::time::to_local(self.clock.now_ms()).date_naive();
        if let Some(twentieth) = today.with_day(20).filter(|d| *d > today) {
            self.clock.set(yijia_domain::time::start_of_day(twentieth) + 12 * 3_600_000);
        }
    }

    pub async fn seed_demo_months(&self, residents: usize, cases: usize) {
        self.clock_to_the_20th();
        self.svc.fixtures().seed_demo_residents(residents).await.unwrap();
        self.svc.fixtures().seed_demo_cases(cases).await.unwrap();
        self.svc.fixtures().seed_demo_visits().await.unwrap();
        self.svc.fixtures().seed_demo_points().await.unwrap();
    }

    /// The demo months, and the notices, projects, pledges and stations too.
    pub async fn seed_demo_all(&self) {
        self.seed_demo_months(60, 40).await;
        self.svc.fixtures().seed_demo_notices().await.unwrap();
        self.svc.fixtures().seed_demo_projects().await.unwrap();
        self.svc.fixtures().seed_demo_pledges().await.unwrap();
        self.svc.fixtures().seed_demo_stations().await.unwrap();
    }

    pub async fn token(&self, username: &str) -> String {
        yijia_testkit::login(&self.client(), &self.url, username, PASSWORD).await
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        yijia_testkit::call(&self.client(), reqwest::Method::GET, &format!("{}{path}", self.url), token, None).await
    }

    /// A GET answered as it is (a file, a page), with the token.
    pub async fn fetch(&self, token: &str, path: &str) -> reqwest::Response {
        self.client().get(format!("{}{path}", self.url)).bearer_auth(token).send().await.unwrap()
    }

    pub async fn send(&self, method: reqwest::Method, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        yijia_testkit::call(&self.client(), method, &format!("{}{path}", self.url), token, Some(&body)).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, token, path, body).await
    }

    /// Makes a user with one grant (password `PASSWORD`) and answers their token.
    pub async fn add_user(&self, username: &str, role: yijia_domain::role::Role, scope: &str) -> String {
        self.svc
            .add_user(
                &yijia_service::Caller::operator(),
                yijia_service::users::NewUser {
                    username: username.into(),
                    display_name: format!("{username} 测试"),
                    password: PASSWORD.into(),
                    grants: vec![yijia_service::users::NewGrant { role, scope: scope.into() }],
                },
            )
            .await
            .unwrap();
        self.token(username).await
    }

    /// The audit entries (all of them, oldest first) as (action, outcome, object).
    pub async fn audit(&self) -> Vec<(String, String, String)> {
        let mut tx = self.db.db.read().await.unwrap();
        let rows = yijia_store::audit::chunk(&mut tx, 0, 100_000).await.unwrap();
        rows.into_iter().map(|e| (e.action, e.outcome, e.object)).collect()
    }
}

/// A workbook's sheets: (name, rows of cells as text).
pub fn sheets(bytes: &[u8]) -> Vec<(String, Vec<Vec<String>>)> {
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    wb.sheet_names()
        .into_iter()
        .map(|name| {
            let range = wb.worksheet_range(&name).unwrap();
            let rows = range
                .rows()
                .map(|r| {
                    r.iter()
                        .map(|c| match c {
                            calamine::Data::Empty => String::new(),
                            c => c.to_string(),
                        })
                        .collect()
                })
                .collect();
            (name, rows)
        })
        .collect()
}

/// The CSRF token of a page's forms.
pub fn csrf_of(html: &str) -> String {
    html.split("name=\"_csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
}
