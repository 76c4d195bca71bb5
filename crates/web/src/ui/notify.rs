//! What people are told: the bell on every page and one's messages, how
//! one is told (preferences), and the delivery log of what went out.

use super::prelude::*;
use yijia_domain::notify::{DeliveryState, NotifyChannel};
use yijia_service::notify::{DeliveryView, MessageView, PreferencesInput, PreferencesView, TopicChoice};
use yijia_service::roles::DELIVERY_READERS;
use yijia_service::{Page, PageReq};

use super::form::{Flash, PageQuery, again};

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/messages", LoggedIn, Scope::Own, messages_page)
        .get("/messages/count", LoggedIn, Scope::Own, count)
        .post("/messages/read", LoggedIn, Scope::Own, read_all)
        .post("/messages/{id}/open", LoggedIn, Scope::Own, open)
        .get("/notifications", LoggedIn, Scope::Own, preferences_page)
        .post("/notifications", LoggedIn, Scope::Own, save_preferences)
        .get("/deliveries", Roles(DELIVERY_READERS), Scope::Grants, deliveries_page)
        .post("/deliveries/{id}/requeue", Roles(DELIVERY_READERS), Scope::Object, requeue)
}

// ---- the bell and the messages ---------------------------------------------

/// The bell's count, asked for by every page when it loads and every 30 s.
async fn count(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    let n = st.svc.unread_messages(&c).await.page(lang)?;
    let body = if n == 0 { String::new() } else { format!("<span class=\"count\">{n}</span>") };
    Ok(axum::response::Html(body).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "messages.html")]
struct MessagesPage {
    c: Chrome,
    items: Vec<MessageView>,
    unread: i64,
    page: i64,
    pages: i64,
}

impl MessagesPage {
    fn when(&self, at: &str) -> String {
        super::form::short_time(at)
    }
}

async fn messages_page(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let page = PageReq::new(q.page, Some(30)).page(lang)?;
    let m = st.svc.messages(&c, page).await.page(lang)?;
    let pages = (m.total + 29) / 30;
    let chrome = Chrome::for_caller(lang, &c, "/messages", "/messages");
    Ok(MessagesPage { c: chrome, items: m.items, unread: m.unread, page: page.page, pages }.into_response())
}

async fn read_all(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    st.svc.read_messages(&c, None).await.page(lang)?;
    Ok(Redirect::to("/messages").into_response())
}

/// Marks a message read and goes where it leads.
async fn open(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    st.svc.read_messages(&c, Some(id)).await.page(lang)?;
    let m = st.svc.messages(&c, PageReq::new(Some(1), Some(500)).page(lang)?).await.page(lang)?;
    let to = m.items.into_iter().find(|m| m.id == id).and_then(|m| m.link).filter(|l| l.starts_with('/'));
    Ok(Redirect::to(to.as_deref().unwrap_or("/messages")).into_response())
}

// ---- preferences ------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "notifications.html")]
struct PreferencesPage {
    c: Chrome,
    p: PreferencesView,
    channels: Vec<NotifyChannel>,
    flash: Flash,
}

impl PreferencesPage {
    /// A channel this deployment cannot use is shown, but cannot be chosen.
    fn available(&self, ch: &NotifyChannel) -> bool {
        match ch {
            NotifyChannel::InApp => true,
            NotifyChannel::Sms => self.p.sms_available,
            NotifyChannel::Email => self.p.email_available,
            NotifyChannel::WeCom | NotifyChannel::DingTalk => false,
        }
    }
}

async fn preferences_page(State(st): State<AppState>, Auth(c): Auth, lang: Lang) -> PageResult {
    render_preferences(&st, &c, lang, Flash::default()).await
}

async fn render_preferences(st: &AppState, c: &yijia_service::Caller, lang: Lang, flash: Flash) -> PageResult {
    let p = st.svc.preferences(c).await.page(lang)?;
    let status = flash.status();
    let chrome = Chrome::for_caller(lang, c, "/account", "/notifications");
    let page = PreferencesPage { c: chrome, p, channels: NotifyChannel::PERSONAL.to_vec(), flash };
    Ok((status, page).into_response())
}

/// The form: `email`, `quiet_from`, `quiet_to`, and a checkbox
/// `TOPIC.CHANNEL` for each channel chosen.
async fn save_preferences(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let field = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_owned());
    let current = st.svc.preferences(&c).await.page(lang)?;
    let available = |ch: &NotifyChannel| match ch {
        NotifyChannel::Sms => current.sms_available,
        NotifyChannel::Email => current.email_available,
        _ => true,
    };
    // a channel not set up here is shown but not sent: its choice stays
    let topics = current
        .topics
        .iter()
        .map(|t| TopicChoice {
            topic: t.topic,
            channels: NotifyChannel::PERSONAL
                .into_iter()
                .filter(|ch| match available(ch) {
                    true => pairs.iter().any(|(n, _)| *n == format!("{}.{}", t.topic.code(), ch.code())),
                    false => t.channels.contains(ch),
                })
                .collect(),
            digest: pairs.iter().any(|(n, _)| *n == format!("{}.digest", t.topic.code())),
        })
        .collect();
    // an empty box keeps the address; the tick removes it
    let email = match field("email_remove") {
        Some(_) => Some(String::new()),
        None => field("email").filter(|e| !e.is_empty()),
    };
    let input = PreferencesInput { email, quiet_from: field("quiet_from"), quiet_to: field("quiet_to"), topics };
    match st.svc.set_preferences(&c, &input).await {
        Ok(_) => {
            let ok = Flash { ok: Some(lang.t("已保存", "Saved").to_owned()), error: None };
            render_preferences(&st, &c, lang, ok).await
        }
        Err(e) => render_preferences(&st, &c, lang, again(e, lang)?).await,
    }
}

// ---- the delivery log -------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "deliveries.html")]
struct DeliveriesPage {
    c: Chrome,
    list: Page<DeliveryView>,
    state: Option<DeliveryState>,
    states: Vec<DeliveryState>,
    pages: i64,
}

impl DeliveriesPage {
    fn when(&self, at: &str) -> String {
        super::form::short_time(at)
    }

    fn is(&self, s: &DeliveryState) -> bool {
        self.state == Some(*s)
    }

    /// The list's address on another page, keeping the state chosen.
    fn at(&self, page: i64) -> String {
        match self.state {
            Some(s) => format!("/deliveries?state={}&page={page}", s.code()),
            None => format!("/deliveries?page={page}"),
        }
    }
}

#[derive(Deserialize)]
struct DeliveryQuery {
    state: Option<String>,
    page: Option<i64>,
}

async fn deliveries_page(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Query(q): Query<DeliveryQuery>,
) -> PageResult {
    let state = q.state.as_deref().filter(|s| !s.is_empty()).and_then(DeliveryState::from_code);
    let page = PageReq::new(q.page, Some(50)).page(lang)?;
    let list = st.svc.deliveries(&c, state, page, lang.en()).await.page(lang)?;
    let pages = (list.total + 49) / 50;
    let chrome = Chrome::for_caller(lang, &c, "/deliveries", "/deliveries");
    Ok(DeliveriesPage { c: chrome, list, state, states: DeliveryState::ALL.to_vec(), pages }.into_response())
}

async fn requeue(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    st.svc.requeue_delivery(&c, id).await.page(lang)?;
    Ok(Redirect::to("/deliveries").into_response())
}
