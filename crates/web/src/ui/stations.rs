//! Service stations on a phone: the resident books a service in a free
//! slot and cancels; the clerk sees the station's day, records each service
//! given, marks who did not come, and reads the month's figures.

use super::prelude::*;
use chrono::Days;
use yijia_service::registry::{ResidentFilter, ResidentView};
use yijia_service::roles::{RESIDENTS, STATION_CLERKS, STATION_READERS};
use yijia_service::stations::{
    AppointmentView, BookingInput, RecordInput, ServiceInput, SlotsView, StationDay, StationInput, StationMonth,
    StationView,
};
use yijia_service::{Caller, PageReq, ServiceError};

use super::form::{Flash, again, local_time, then_to, whole};

pub fn routes(r: Routes) -> Routes {
    use Policy::*;
    r.get("/me/stations", Roles(RESIDENTS), Scope::Own, my_stations)
        .get("/me/stations/services/{id}", Roles(RESIDENTS), Scope::Own, my_slots)
        .post("/me/stations/services/{id}", Roles(RESIDENTS), Scope::Own, my_book)
        .post("/me/appointments/{id}/cancel", Roles(RESIDENTS), Scope::Own, my_cancel)
        .get("/stations", Roles(STATION_READERS), Scope::Grants, stations)
        .post("/stations", Roles(STATION_CLERKS), Scope::Named, station_add)
        .get("/stations/{id}", Roles(STATION_READERS), Scope::Object, station)
        .post("/stations/{id}/services", Roles(STATION_CLERKS), Scope::Object, service_add)
        .post("/stations/{id}/records", Roles(STATION_CLERKS), Scope::Object, record_add)
        .get("/stations/{id}/book", Roles(STATION_CLERKS), Scope::Object, book_for)
        .post("/stations/{id}/book", Roles(STATION_CLERKS), Scope::Object, book_for_post)
        .post("/stations/{id}/appointments/{appointment}/missed", Roles(STATION_CLERKS), Scope::Object, missed)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Params {
    ok: Option<String>,
    date: Option<String>,
    month: Option<String>,
    community: Option<String>,
}

fn saved(ok: Option<String>, l: Lang) -> Flash {
    let ok = ok.map(|o| match o.as_str() {
        "booked" => l.t("预约成功,请按时到服务站。", "Booked: please come on time.").to_owned(),
        "cancelled" => l.t("已取消预约。", "The appointment is cancelled.").to_owned(),
        "recorded" => l.t("已记录这次服务。", "The service is recorded.").to_owned(),
        _ => l.t("已保存。", "Saved.").to_owned(),
    });
    Flash { ok, error: None }
}

// ---- the resident ----------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "my_stations.html")]
struct MyStationsPage {
    c: Chrome,
    stations: Vec<StationView>,
    mine: Vec<AppointmentView>,
    now: String,
    flash: Flash,
}

async fn render_my_stations(st: &AppState, c: &Caller, lang: Lang, flash: Flash) -> PageResult {
    let stations = st.svc.my_stations(c).await.page(lang)?;
    let mine = st.svc.my_appointments(c).await.page(lang)?;
    let now = yijia_domain::time::rfc3339(st.svc.now());
    let status = flash.status();
    let page =
        MyStationsPage { c: Chrome::for_caller(lang, c, "/me/stations", "/me/stations"), stations, mine, now, flash };
    Ok((status, page).into_response())
}

async fn my_stations(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    render_my_stations(&st, &c, lang, saved(q.ok, lang)).await
}

async fn my_cancel(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Path(id): Path<i64>) -> PageResult {
    let r = st.svc.cancel_appointment(&c, id).await;
    then_to(r, "/me/stations?ok=cancelled", lang, |f| render_my_stations(&st, &c, lang, f)).await
}

#[derive(Template, WebTemplate)]
#[template(path = "my_booking.html")]
struct MyBookingPage {
    c: Chrome,
    slots: SlotsView,
    /// The next week's days: (`2026-12-05`, `12-05 周六`).
    days: Vec<(String, String)>,
    flash: Flash,
}

const WEEKDAYS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
const WEEKDAYS_EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn next_days(now: i64, l: Lang) -> Vec<(String, String)> {
    use chrono::Datelike;
    let today = yijia_domain::time::to_local(now).date_naive();
    (0..7)
        .filter_map(|i| today.checked_add_days(Days::new(i)))
        .map(|d| {
            let w = d.weekday().num_days_from_monday() as usize;
            let name = if l.en() { WEEKDAYS_EN[w] } else { WEEKDAYS[w] };
            (d.format("%Y-%m-%d").to_string(), format!("{} {name}", d.format("%m-%d")))
        })
        .collect()
}

async fn render_booking(
    st: &AppState,
    c: &Caller,
    lang: Lang,
    id: i64,
    date: Option<&str>,
    flash: Flash,
) -> PageResult {
    let slots = st.svc.service_slots(c, id, date).await.page(lang)?;
    let days = next_days(st.svc.now(), lang);
    let status = flash.status();
    let page = MyBookingPage { c: Chrome::for_caller(lang, c, "/me/stations", "/me/stations"), slots, days, flash };
    Ok((status, page).into_response())
}

async fn my_slots(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Query(q): Query<Params>,
) -> PageResult {
    render_booking(&st, &c, lang, id, q.date.as_deref(), Flash::default()).await
}

#[derive(Deserialize)]
struct BookForm {
    starts_at: String,
}

async fn my_book(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<BookForm>,
) -> PageResult {
    let date = f.starts_at.get(..10).map(str::to_owned);
    let r = st.svc.book(&c, id, BookingInput { starts_at: f.starts_at, resident_id: None }).await;
    then_to(r, "/me/stations?ok=booked", lang, |fl| render_booking(&st, &c, lang, id, date.as_deref(), fl)).await
}

// ---- the clerk ---------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "stations.html")]
struct StationsPage {
    c: Chrome,
    stations: Vec<StationView>,
    may_edit: bool,
    flash: Flash,
}

async fn render_stations(st: &AppState, c: &Caller, lang: Lang, community: Option<&str>, flash: Flash) -> PageResult {
    let stations = st.svc.stations(c, community).await.page(lang)?;
    let status = flash.status();
    let may_edit = c.has_any(STATION_CLERKS);
    let page = StationsPage { c: Chrome::for_caller(lang, c, "/stations", "/stations"), stations, may_edit, flash };
    Ok((status, page).into_response())
}

async fn stations(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Query(q): Query<Params>) -> PageResult {
    if super::must_choose_community(&c, STATION_READERS, q.community.as_deref()) {
        return super::choose_community(&st, &c, lang, "/stations", lang.t("党群服务站", "Service stations")).await;
    }
    render_stations(&st, &c, lang, q.community.as_deref(), saved(q.ok, lang)).await
}

#[derive(Deserialize)]
struct StationForm {
    name: String,
    address: String,
    hours: String,
}

async fn station_add(State(st): State<AppState>, Auth(c): Auth, lang: Lang, Form(f): Form<StationForm>) -> PageResult {
    let input = StationInput { name: f.name, address: f.address, hours: f.hours };
    match st.svc.add_station(&c, None, input).await {
        Ok(s) => Ok(Redirect::to(&format!("/stations/{}?ok=saved", s.id)).into_response()),
        Err(e) => render_stations(&st, &c, lang, None, again(e, lang)?).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "station.html")]
struct StationPage {
    c: Chrome,
    day: StationDay,
    month: StationMonth,
    before: String,
    after: String,
    may_edit: bool,
    /// Some service takes appointments: staff can book for a resident.
    may_book: bool,
    now: String,
    flash: Flash,
}

async fn render_station(st: &AppState, c: &Caller, lang: Lang, id: i64, q: &Params, flash: Flash) -> PageResult {
    let day = st.svc.station_day(c, id, q.date.as_deref()).await.page(lang)?;
    let month = st.svc.station_month(c, id, q.month.as_deref().or(day.date.get(..7))).await.page(lang)?;
    let step = |by: i64| {
        chrono::NaiveDate::parse_from_str(&day.date, "%Y-%m-%d")
            .ok()
            .and_then(|d| if by < 0 { d.checked_sub_days(Days::new(1)) } else { d.checked_add_days(Days::new(1)) })
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let (before, after) = (step(-1), step(1));
    let now = yijia_domain::time::rfc3339(st.svc.now());
    let status = flash.status();
    let here = format!("/stations/{id}");
    let may_edit = c.has_any(STATION_CLERKS);
    let may_book = day.station.services.iter().any(|v| v.by_appointment && v.active);
    let page = StationPage {
        c: Chrome::for_caller(lang, c, "/stations", &here),
        day,
        month,
        before,
        after,
        may_edit,
        may_book,
        now,
        flash,
    };
    Ok((status, page).into_response())
}

async fn station(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Query(q): Query<Params>,
) -> PageResult {
    let flash = saved(q.ok.clone(), lang);
    render_station(&st, &c, lang, id, &q, flash).await
}

async fn after_station_change<T>(
    st: &AppState,
    c: &Caller,
    lang: Lang,
    id: i64,
    ok: &str,
    r: Result<T, ServiceError>,
) -> PageResult {
    let (to, none) = (format!("/stations/{id}?ok={ok}"), Params::default());
    then_to(r, &to, lang, |f| render_station(st, c, lang, id, &none, f)).await
}

#[derive(Deserialize)]
struct ServiceForm {
    name: String,
    #[serde(default)]
    description: String,
    /// `appointment` or `walk_in`.
    kind: String,
    #[serde(default)]
    slot_minutes: String,
    #[serde(default)]
    capacity: String,
}

async fn service_add(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<ServiceForm>,
) -> PageResult {
    let r = async {
        let by_appointment = f.kind == "appointment";
        let (slot_minutes, capacity) = if by_appointment {
            (whole("slot_minutes", &f.slot_minutes, lang)?, whole("capacity", &f.capacity, lang)?)
        } else {
            (0, 0)
        };
        let input = ServiceInput {
            name: f.name,
            description: Some(f.description),
            by_appointment,
            slot_minutes,
            capacity,
            active: true,
        };
        st.svc.add_service(&c, id, input).await
    };
    let r = r.await;
    after_station_change(&st, &c, lang, id, "saved", r).await
}

#[derive(Deserialize)]
struct RecordForm {
    service_id: String,
    #[serde(default)]
    appointment_id: String,
    #[serde(default)]
    person_name: String,
    minutes: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    given_at: String,
}

async fn record_add(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<RecordForm>,
) -> PageResult {
    let r = async {
        let appointment_id = match f.appointment_id.trim() {
            "" => None,
            a => Some(whole("appointment_id", a, lang)?),
        };
        let input = RecordInput {
            service_id: whole("service_id", &f.service_id, lang)?,
            appointment_id,
            resident_id: None,
            person_name: Some(f.person_name),
            minutes: whole("minutes", &f.minutes, lang)?,
            note: Some(f.note),
            given_at: Some(local_time(&f.given_at)).filter(|s| !s.is_empty()),
        };
        st.svc.record_service(&c, id, input).await
    };
    let r = r.await;
    after_station_change(&st, &c, lang, id, "recorded", r).await
}

async fn missed(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path((id, appointment)): Path<(i64, i64)>,
) -> PageResult {
    let r = st.svc.miss_appointment(&c, appointment).await;
    after_station_change(&st, &c, lang, id, "saved", r).await
}

// ---- the clerk books for a resident who phones or comes to the desk -------------

#[derive(Deserialize, Default)]
#[serde(default)]
struct BookForParams {
    service: Option<i64>,
    date: Option<String>,
    /// A name, or an exact phone or ID number, to find the resident.
    who: Option<String>,
    resident: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "station_book.html")]
struct BookForPage {
    c: Chrome,
    station: StationView,
    /// The service chosen (by appointment, offered now), with the day's slots.
    slots: Option<SlotsView>,
    days: Vec<(String, String)>,
    who: String,
    found: Vec<ResidentView>,
    searched: bool,
    resident: Option<ResidentView>,
    flash: Flash,
}

impl BookForPage {
    fn with_service(&self, service: &i64) -> String {
        self.href(Some(*service), None, self.resident_id())
    }

    fn on_day(&self, date: &str) -> String {
        self.href(None, Some(date), self.resident_id())
    }

    fn for_resident(&self, resident: &i64) -> String {
        self.href(None, None, Some(*resident))
    }

    fn resident_id(&self) -> Option<i64> {
        self.resident.as_ref().map(|r| r.id)
    }

    /// This page for choosing another resident.
    fn without_resident(&self) -> String {
        self.href(None, None, None)
    }

    fn href(&self, service: Option<i64>, date: Option<&str>, resident: Option<i64>) -> String {
        let service = service.or(self.slots.as_ref().map(|s| s.service.id));
        let date = date.or(self.slots.as_ref().map(|s| s.date.as_str()));
        let mut q = vec![];
        if let Some(s) = service {
            q.push(format!("service={s}"));
        }
        if let Some(d) = date {
            q.push(format!("date={d}"));
        }
        if let Some(r) = resident {
            q.push(format!("resident={r}"));
        }
        format!("/stations/{}/book?{}", self.station.id, q.join("&"))
    }
}

async fn render_book_for(
    st: &AppState,
    c: &Caller,
    lang: Lang,
    id: i64,
    q: &BookForParams,
    flash: Flash,
) -> PageResult {
    let station = st.svc.station(c, id).await.page(lang)?;
    let bookable: Vec<i64> = station.services.iter().filter(|v| v.by_appointment && v.active).map(|v| v.id).collect();
    let service = q.service.filter(|s| bookable.contains(s)).or(bookable.first().copied());
    let slots = match service {
        Some(s) => Some(st.svc.service_slots(c, s, q.date.as_deref()).await.page(lang)?),
        None => None,
    };
    let resident = match q.resident {
        Some(r) => Some(st.svc.get_resident(c, r).await.page(lang)?),
        None => None,
    };
    let who = q.who.as_deref().unwrap_or("").trim().to_owned();
    let found = if who.is_empty() || resident.is_some() {
        vec![]
    } else {
        // digits are a phone or ID number, found exactly; anything else a name
        let exact = who.chars().all(|ch| ch.is_ascii_digit() || ch == 'X' || ch == 'x');
        let filter = if exact {
            ResidentFilter { q: Some(who.clone()), ..Default::default() }
        } else {
            ResidentFilter { name: Some(who.clone()), ..Default::default() }
        };
        let page = PageReq::new(Some(1), Some(10)).page(lang)?;
        st.svc.list_residents(c, filter, page).await.page(lang)?.items
    };
    let status = flash.status();
    let page = BookForPage {
        c: Chrome::for_caller(lang, c, "/stations", &format!("/stations/{id}/book")),
        station,
        slots,
        days: next_days(st.svc.now(), lang),
        searched: !who.is_empty(),
        who,
        found,
        resident,
        flash,
    };
    Ok((status, page).into_response())
}

async fn book_for(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Query(q): Query<BookForParams>,
) -> PageResult {
    render_book_for(&st, &c, lang, id, &q, Flash::default()).await
}

#[derive(Deserialize)]
struct BookForForm {
    service_id: String,
    resident_id: String,
    starts_at: String,
}

async fn book_for_post(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    Path(id): Path<i64>,
    Form(f): Form<BookForForm>,
) -> PageResult {
    let date = f.starts_at.get(..10).map(str::to_owned);
    let service = whole("service_id", &f.service_id, lang).ok();
    let resident = whole("resident_id", &f.resident_id, lang).ok();
    let r = async {
        let (Some(service), Some(resident)) = (service, resident) else {
            return Err(ServiceError::invalid(
                "resident_id",
                "请先选定居民和服务",
                "choose the resident and the service",
            ));
        };
        st.svc.book(&c, service, BookingInput { starts_at: f.starts_at.clone(), resident_id: Some(resident) }).await
    };
    let r = r.await;
    let back = format!("/stations/{id}?date={}&ok=booked", date.as_deref().unwrap_or(""));
    let q = BookForParams { service, date, who: None, resident };
    then_to(r, &back, lang, |fl| render_book_for(&st, &c, lang, id, &q, fl)).await
}

/// `2026-12-05T09:00:00+08:00` as `09:00`.
pub(crate) fn hour(s: &str) -> &str {
    s.get(11..16).unwrap_or(s)
}
