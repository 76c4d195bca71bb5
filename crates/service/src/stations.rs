//! Service stations (党群服务站): stations with opening hours and a
//! catalogue of services; residents book the services that take
//! appointments and cancel on a phone; clerks record each service given
//! (to whom, what, how long); monthly figures per station and service.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use yijia_domain::Msg;
use yijia_domain::proxy::Act;
use yijia_domain::role::Role;
use yijia_domain::station::{self as rules, AppointmentStatus, Booking, OpeningHours};
use yijia_domain::time::{DAY_MS, MINUTE_MS, rfc3339, start_of_day, to_local};
use yijia_store::stations::{self as store, Appointment, NewRecord, ServiceFields, Station};
use yijia_store::{Tx, org};

use crate::audit::{Event, record};
use crate::error::on_conflict;
use crate::fields::{date_or_today, text, time as time_field};
use crate::invitations::own_record_as;
use crate::roles::{STATION_CLERKS, STATION_READERS};
use crate::{Caller, Result, ServiceError, Services};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct StationInput {
    /// 春城驿家党群服务站
    pub name: String,
    pub address: String,
    /// Opening hours by weekday (1 Monday … 7 Sunday): `1-5 08:30-11:30,14:00-17:30; 6 09:00-11:30`.
    pub hours: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ServiceInput {
    /// 量血压
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Booked in time slots; otherwise walk-in.
    pub by_appointment: bool,
    /// For appointments: minutes a slot.
    #[serde(default)]
    pub slot_minutes: i64,
    /// For appointments: places in each slot.
    #[serde(default)]
    pub capacity: i64,
    /// Offered now; a service no longer offered keeps its records.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceView {
    pub id: i64,
    pub station_id: i64,
    pub name: String,
    pub description: String,
    pub by_appointment: bool,
    pub slot_minutes: i64,
    pub capacity: i64,
    pub active: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StationView {
    pub id: i64,
    pub community: String,
    pub name: String,
    pub address: String,
    /// The hours as written: `1-5 08:30-11:30,14:00-17:30`.
    pub hours: String,
    /// The hours to read: `周一至周五 08:30-11:30、14:00-17:30`.
    pub hours_text: String,
    pub services: Vec<ServiceView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SlotView {
    pub starts_at: String,
    pub ends_at: String,
    /// Places left.
    pub free: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SlotsView {
    pub service: ServiceView,
    pub date: String,
    pub slots: Vec<SlotView>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct BookingInput {
    /// The slot's start, RFC 3339.
    pub starts_at: String,
    /// Staff booking for a resident (on the phone, at the desk); a
    /// resident books for themself and leaves this out.
    #[serde(default)]
    pub resident_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AppointmentView {
    pub id: i64,
    pub station_id: i64,
    pub service_id: i64,
    pub service: String,
    pub resident_id: i64,
    pub name: String,
    pub starts_at: String,
    /// `booked`, `cancelled`, `served` or `missed`.
    pub status: AppointmentStatus,
    pub status_name: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RecordInput {
    pub service_id: i64,
    /// The appointment this service answers, which is then served.
    #[serde(default)]
    pub appointment_id: Option<i64>,
    /// A resident of the registry…
    #[serde(default)]
    pub resident_id: Option<i64>,
    /// …or the name of someone who is not in it.
    #[serde(default)]
    pub person_name: Option<String>,
    /// How long it took.
    pub minutes: i64,
    #[serde(default)]
    pub note: Option<String>,
    /// When it was given, RFC 3339; default now.
    #[serde(default)]
    pub given_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceRecordView {
    pub id: i64,
    pub service_id: i64,
    pub service: String,
    pub resident_id: Option<i64>,
    pub name: String,
    pub appointment_id: Option<i64>,
    pub given_at: String,
    pub minutes: i64,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StationDay {
    pub station: StationView,
    pub date: String,
    pub appointments: Vec<AppointmentView>,
    pub records: Vec<ServiceRecordView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceMonth {
    pub service_id: i64,
    pub service: String,
    /// Services given.
    pub served: i64,
    /// Minutes they took.
    pub minutes: i64,
    /// Different people served.
    pub people: i64,
    /// Appointments made for the month (not cancelled), and how many
    /// were cancelled or missed.
    pub appointments: i64,
    pub cancelled: i64,
    pub missed: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StationMonth {
    pub station_id: i64,
    pub station: String,
    /// `2026-11`.
    pub month: String,
    pub services: Vec<ServiceMonth>,
    pub served: i64,
    pub minutes: i64,
}

fn station_view(s: &Station, community: &str, services: &[store::Service]) -> StationView {
    let hours_text = OpeningHours::parse(&s.hours).map(|h| h.display_zh()).unwrap_or_else(|_| s.hours.clone());
    StationView {
        id: s.id,
        community: community.to_owned(),
        name: s.name.clone(),
        address: s.address.clone(),
        hours: s.hours.clone(),
        hours_text,
        services: services.iter().map(service_view).collect(),
    }
}

fn service_view(s: &store::Service) -> ServiceView {
    ServiceView {
        id: s.id,
        station_id: s.station_id,
        name: s.name.clone(),
        description: s.description.clone(),
        by_appointment: s.by_appointment,
        slot_minutes: s.slot_minutes,
        capacity: s.capacity,
        active: s.active,
    }
}

fn appointment_view(a: &Appointment) -> AppointmentView {
    let status = a.status;
    AppointmentView {
        id: a.id,
        station_id: a.station_id,
        service_id: a.service_id,
        service: a.service_name.clone(),
        resident_id: a.resident_id,
        name: a.resident_name.clone(),
        starts_at: rfc3339(a.starts_at),
        status: a.status,
        status_name: status.name_zh().to_owned(),
    }
}

fn record_view(r: &store::Record) -> ServiceRecordView {
    ServiceRecordView {
        id: r.id,
        service_id: r.service_id,
        service: r.service_name.clone(),
        resident_id: r.resident_id,
        name: r.person_name.clone(),
        appointment_id: r.appointment_id,
        given_at: rfc3339(r.given_at),
        minutes: r.minutes,
        note: r.note.clone(),
    }
}

struct Checked {
    name: String,
    description: String,
    booking: Booking,
    active: bool,
}

fn check_service(input: &ServiceInput) -> Result<Checked> {
    let name = text("name", &input.name, 30)?;
    let description = input.description.as_deref().unwrap_or("").trim().to_owned();
    if description.chars().count() > 500 {
        return Err(ServiceError::invalid("description", "说明不超过 500 字", "at most 500 characters"));
    }
    let booking = Booking::new(input.by_appointment, input.slot_minutes, input.capacity)?;
    Ok(Checked { name, description, booking, active: input.active })
}

impl Checked {
    fn fields(&self) -> ServiceFields<'_> {
        let (by_appointment, slot_minutes, capacity) = match self.booking {
            Booking::WalkIn => (false, 0, 0),
            Booking::Appointment { slot_minutes, capacity } => (true, i64::from(slot_minutes), i64::from(capacity)),
        };
        ServiceFields {
            name: &self.name,
            description: &self.description,
            by_appointment,
            slot_minutes,
            capacity,
            active: self.active,
        }
    }
}

fn check_station(input: &StationInput) -> Result<(String, String, String)> {
    let name = text("name", &input.name, 50)?;
    let address = text("address", &input.address, 100)?;
    let hours = OpeningHours::parse(&input.hours)?.code();
    Ok((name, address, hours))
}

/// A station the caller may act on with `roles`, and its community; a
/// resident may read the stations of their own community.
async fn station_in_scope(tx: &mut Tx, caller: &Caller, id: i64, roles: &[Role]) -> Result<(Station, org::OrgNode)> {
    let Some(s) = store::station(tx, id).await? else { return Err(ServiceError::NotFound) };
    let com = org::by_id(tx, s.community_id).await?;
    if !caller.covers(roles, &com.path) {
        return Err(ServiceError::denied("station", format!("station:{id}")));
    }
    Ok((s, com))
}

async fn service_in_scope(
    tx: &mut Tx,
    caller: &Caller,
    id: i64,
    roles: &[Role],
) -> Result<(store::Service, Station, org::OrgNode)> {
    let Some(svc) = store::service(tx, id).await? else { return Err(ServiceError::NotFound) };
    let (st, com) = station_in_scope(tx, caller, svc.station_id, roles).await.map_err(|e| match e {
        ServiceError::Denied { action, .. } => ServiceError::Denied { action, object: format!("service:{id}") },
        e => e,
    })?;
    Ok((svc, st, com))
}

/// A resident's own station service: one of their community's.
async fn own_service(tx: &mut Tx, caller: &Caller, id: i64) -> Result<(store::Service, Station, i64)> {
    let (r, com) = own_record_as(tx, caller, Act::Book).await?;
    let Some(svc) = store::service(tx, id).await? else { return Err(ServiceError::NotFound) };
    let found = store::station(tx, svc.station_id).await?;
    let st = ServiceError::in_reach(found, |s| s.community_id == com.id, "station_service", format!("service:{id}"))?;
    Ok((svc, st, r.id))
}

fn slot_minutes(svc: &store::Service) -> Result<u32> {
    if !svc.by_appointment || !svc.active {
        return Err(ServiceError::conflict(
            format!("「{}」{}", svc.name, if svc.active { "无需预约,开放时间直接来" } else { "已停办" }),
            format!(
                "'{}' {}",
                svc.name,
                if svc.active { "takes no appointments: just come" } else { "is no longer offered" }
            ),
        ));
    }
    Ok(u32::try_from(svc.slot_minutes).unwrap_or(0))
}

async fn slots_of(tx: &mut Tx, svc: &store::Service, st: &Station, date: NaiveDate, now: i64) -> Result<Vec<SlotView>> {
    let minutes = slot_minutes(svc)?;
    let hours = OpeningHours::parse(&st.hours)?;
    let day = start_of_day(date);
    let taken = store::taken(tx, svc.id, day, day + DAY_MS).await?;
    Ok(hours
        .slots(date, minutes)
        .into_iter()
        .filter(|t| rules::check_booking_time(now, *t).is_ok())
        .map(|t| {
            let used = taken.iter().find(|(s, _)| *s == t).map_or(0, |(_, n)| *n);
            SlotView {
                starts_at: rfc3339(t),
                ends_at: rfc3339(t + i64::from(minutes) * MINUTE_MS),
                free: (svc.capacity - used).max(0),
            }
        })
        .collect())
}

impl Services {
    pub async fn add_station(
        &self,
        caller: &Caller,
        community: Option<&str>,
        input: StationInput,
    ) -> Result<StationView> {
        let (name, address, hours) = check_station(&input)?;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let com = self.caller_community(&mut tx, caller, STATION_CLERKS, community).await?;
            let id = on_conflict(store::insert_station(&mut tx, com.id, &name, &address, &hours, now).await, || {
                Msg::new(format!("已有服务站「{name}」"), format!("there is a station '{name}' already"))
            })?;
            let e = Event::ok("station", format!("station:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "name": name, "hours": hours }))).await?;
            let s = store::station(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(station_view(&s, &com.code, &[]))
        })
        .await
    }

    pub async fn update_station(&self, caller: &Caller, id: i64, input: StationInput) -> Result<StationView> {
        let (name, address, hours) = check_station(&input)?;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (_, com) = station_in_scope(&mut tx, caller, id, STATION_CLERKS).await?;
            on_conflict(store::update_station(&mut tx, id, &name, &address, &hours).await, || {
                Msg::new(format!("已有服务站「{name}」"), format!("there is a station '{name}' already"))
            })?;
            let e = Event::ok("station_change", format!("station:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "name": name, "hours": hours }))).await?;
            let s = store::station(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            let services = store::services(&mut tx, id).await?;
            tx.commit().await?;
            Ok(station_view(&s, &com.code, &services))
        })
        .await
    }

    /// A community's stations with their services.
    pub async fn stations(&self, caller: &Caller, community: Option<&str>) -> Result<Vec<StationView>> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let com = self.caller_community(&mut tx, caller, STATION_READERS, community).await?;
            let out = stations_of(&mut tx, &com, false).await?;
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    /// For a resident: their community's stations and the services offered now.
    pub async fn my_stations(&self, caller: &Caller) -> Result<Vec<StationView>> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (_, com) = own_record_as(&mut tx, caller, Act::Book).await?;
            let out = stations_of(&mut tx, &com, true).await?;
            tx.commit().await?;
            Ok(out)
        })
        .await
    }

    pub async fn station(&self, caller: &Caller, id: i64) -> Result<StationView> {
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (s, com) = station_in_scope(&mut tx, caller, id, STATION_READERS).await?;
            let services = store::services(&mut tx, id).await?;
            tx.commit().await?;
            Ok(station_view(&s, &com.code, &services))
        })
        .await
    }

    pub async fn add_service(&self, caller: &Caller, station_id: i64, input: ServiceInput) -> Result<ServiceView> {
        let c = check_service(&input)?;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (_, com) = station_in_scope(&mut tx, caller, station_id, STATION_CLERKS).await?;
            let id = on_conflict(store::insert_service(&mut tx, station_id, &c.fields(), now).await, || {
                Msg::new(format!("这个服务站已有「{}」", c.name), format!("the station offers '{}' already", c.name))
            })?;
            let e = Event::ok("station_service", format!("service:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "name": c.name }))).await?;
            let s = store::service(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(service_view(&s))
        })
        .await
    }

    /// Changes a service; booked appointments stay as they are.
    pub async fn update_service(&self, caller: &Caller, id: i64, input: ServiceInput) -> Result<ServiceView> {
        let c = check_service(&input)?;
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (_, _, com) = service_in_scope(&mut tx, caller, id, STATION_CLERKS).await?;
            on_conflict(store::update_service(&mut tx, id, &c.fields()).await, || {
                Msg::new(format!("这个服务站已有「{}」", c.name), format!("the station offers '{}' already", c.name))
            })?;
            let e = Event::ok("station_service_change", format!("service:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "name": c.name, "active": c.active }))).await?;
            let s = store::service(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(service_view(&s))
        })
        .await
    }

    /// A day's slots of a service and the places left in each: for staff,
    /// and for the residents of the station's community.
    pub async fn service_slots(&self, caller: &Caller, service_id: i64, date: Option<&str>) -> Result<SlotsView> {
        let now = self.now();
        let date = date_or_today("date", date, now)?;
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (svc, st) = if caller.has_any(&[Role::Resident]) && !caller.has_any(STATION_READERS) {
                let (svc, st, _) = own_service(&mut tx, caller, service_id).await?;
                (svc, st)
            } else {
                let (svc, st, _) = service_in_scope(&mut tx, caller, service_id, STATION_READERS).await?;
                (svc, st)
            };
            let slots = slots_of(&mut tx, &svc, &st, date, now).await?;
            tx.commit().await?;
            Ok(SlotsView { service: service_view(&svc), date: date.format("%Y-%m-%d").to_string(), slots })
        })
        .await
    }

    /// Books a place in a slot: a resident for themself, staff for a
    /// resident of the community.
    pub async fn book(&self, caller: &Caller, service_id: i64, input: BookingInput) -> Result<AppointmentView> {
        let at = time_field("starts_at", &input.starts_at)?;
        if input.resident_id.is_none() && caller.resident_id.is_none() && caller.has_any(STATION_CLERKS) {
            return Err(ServiceError::invalid(
                "resident_id",
                "请指明为哪位居民预约",
                "say which resident the booking is for",
            ));
        }
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (svc, st, resident_id, com_path) = match input.resident_id {
                None => {
                    let (_, st, rid) = own_service(&mut tx, caller, service_id).await?;
                    let com = org::by_id(&mut tx, st.community_id).await?;
                    (store::service_for_booking(&mut tx, service_id).await?, st, rid, com.path)
                }
                Some(rid) => {
                    let (_, st, com) = service_in_scope(&mut tx, caller, service_id, STATION_CLERKS).await?;
                    let r = yijia_store::residents::get(&mut tx, rid).await?;
                    let Some(r) = r.filter(|r| yijia_domain::org::path_covers(&com.path, &r.grid_path)) else {
                        return Err(ServiceError::invalid(
                            "resident_id",
                            "本社区没有这位居民",
                            "no such resident in this community",
                        ));
                    };
                    crate::life::on_register(&r)?;
                    (store::service_for_booking(&mut tx, service_id).await?, st, rid, com.path)
                }
            };
            let svc = svc.ok_or(ServiceError::NotFound)?;
            let minutes = slot_minutes(&svc)?;
            rules::check_booking_time(now, at)?;
            if !OpeningHours::parse(&st.hours)?.is_slot(at, minutes) {
                return Err(ServiceError::invalid(
                    "starts_at",
                    "这不是可预约的时段,请从列出的时段中选",
                    "that is not one of the service's slots: choose one listed",
                ));
            }
            let day = start_of_day(to_local(at).date_naive());
            let mine = store::resident_appointments(&mut tx, resident_id, day).await?;
            if mine
                .iter()
                .any(|a| a.service_id == svc.id && a.starts_at < day + DAY_MS && a.status == AppointmentStatus::Booked)
            {
                return Err(ServiceError::conflict(
                    format!("当天已预约过「{}」", svc.name),
                    format!("already booked for '{}' that day", svc.name),
                ));
            }
            let used = store::taken(&mut tx, svc.id, at, at + 1).await?.first().map_or(0, |(_, n)| *n);
            if used >= svc.capacity {
                return Err(ServiceError::conflict("这个时段已约满,请换一个时段", "that slot is full: choose another"));
            }
            let id = store::insert_appointment(&mut tx, svc.id, resident_id, at, caller.user_id, now).await?;
            let e = Event::ok("appointment", format!("appointment:{id}"), &com_path);
            record(&mut tx, caller, now, &e.with(json!({ "service": svc.name, "starts_at": rfc3339(at) }))).await?;
            let a = store::appointment(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(appointment_view(&a))
        })
        .await
    }

    /// Cancels an appointment before its time: a resident their own, staff
    /// any of the community's.
    pub async fn cancel_appointment(&self, caller: &Caller, id: i64) -> Result<AppointmentView> {
        self.appointment_change(caller, id, AppointmentStatus::Cancelled).await
    }

    /// Marks an appointment whose time has passed as missed (the resident
    /// did not come).
    pub async fn miss_appointment(&self, caller: &Caller, id: i64) -> Result<AppointmentView> {
        self.appointment_change(caller, id, AppointmentStatus::Missed).await
    }

    async fn appointment_change(&self, caller: &Caller, id: i64, to: AppointmentStatus) -> Result<AppointmentView> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let Some(a) = store::appointment(&mut tx, id).await? else { return Err(ServiceError::NotFound) };
            let st = store::station(&mut tx, a.station_id).await?.ok_or(ServiceError::NotFound)?;
            let com = org::by_id(&mut tx, st.community_id).await?;
            let own = caller.resident_for(Act::Book) == Some(a.resident_id) && caller.has_any(&[Role::Resident]);
            if !own && !caller.covers(STATION_CLERKS, &com.path) {
                return Err(ServiceError::denied("appointment", format!("appointment:{id}")));
            }
            if to == AppointmentStatus::Missed && (own && !caller.covers(STATION_CLERKS, &com.path)) {
                return Err(ServiceError::forbidden());
            }
            match to {
                AppointmentStatus::Cancelled if a.starts_at <= now => {
                    return Err(ServiceError::conflict(
                        "时段已开始,不能再取消",
                        "the slot has begun: too late to cancel",
                    ));
                }
                AppointmentStatus::Missed if a.starts_at > now => {
                    return Err(ServiceError::conflict("时段还没到", "the slot has not come yet"));
                }
                _ => {}
            }
            if !store::set_appointment_status(&mut tx, id, to, now).await? {
                let was = a.status.name_zh();
                return Err(ServiceError::conflict(
                    format!("这个预约{was}"),
                    format!("the appointment is {} already", a.status.code()),
                ));
            }
            let action = if to == AppointmentStatus::Cancelled { "appointment_cancel" } else { "appointment_missed" };
            record(&mut tx, caller, now, &Event::ok(action, format!("appointment:{id}"), &com.path)).await?;
            let a = store::appointment(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
            tx.commit().await?;
            Ok(appointment_view(&a))
        })
        .await
    }

    /// A resident's appointments from a week ago on.
    pub async fn my_appointments(&self, caller: &Caller) -> Result<Vec<AppointmentView>> {
        let now = self.now();
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (r, _) = own_record_as(&mut tx, caller, Act::Book).await?;
            let list = store::resident_appointments(&mut tx, r.id, now - 7 * DAY_MS).await?;
            tx.commit().await?;
            Ok(list.iter().map(appointment_view).collect())
        })
        .await
    }

    /// A station's day: its appointments and the services recorded.
    pub async fn station_day(&self, caller: &Caller, id: i64, date: Option<&str>) -> Result<StationDay> {
        let date = date_or_today("date", date, self.now())?;
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (s, com) = station_in_scope(&mut tx, caller, id, STATION_READERS).await?;
            let services = store::services(&mut tx, id).await?;
            let day = start_of_day(date);
            let appointments = store::station_appointments(&mut tx, id, day, day + DAY_MS).await?;
            let records = store::records(&mut tx, id, day, day + DAY_MS, 500).await?;
            tx.commit().await?;
            Ok(StationDay {
                station: station_view(&s, &com.code, &services),
                date: date.format("%Y-%m-%d").to_string(),
                appointments: appointments.iter().map(appointment_view).collect(),
                records: records.iter().map(record_view).collect(),
            })
        })
        .await
    }

    /// Records a service given; for an appointment, the appointment is then
    /// served.
    pub async fn record_service(
        &self,
        caller: &Caller,
        station_id: i64,
        input: RecordInput,
    ) -> Result<ServiceRecordView> {
        rules::check_minutes(input.minutes)?;
        let now = self.now();
        let given_at = match input.given_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => time_field("given_at", s)?,
            None => now,
        };
        if given_at > now + 5 * MINUTE_MS {
            return Err(ServiceError::invalid(
                "given_at",
                "服务时间不能在将来",
                "a service cannot be given in the future",
            ));
        }
        let note = input.note.as_deref().unwrap_or("").trim().to_owned();
        if note.chars().count() > 500 {
            return Err(ServiceError::invalid("note", "备注不超过 500 字", "at most 500 characters"));
        }
        self.denials_audited(caller, async {
            let mut tx = self.db.write().await?;
            let (_, com) = station_in_scope(&mut tx, caller, station_id, STATION_CLERKS).await?;
            let Some(svc) = store::service(&mut tx, input.service_id).await?.filter(|s| s.station_id == station_id)
            else {
                return Err(ServiceError::invalid(
                    "service_id",
                    "这个服务站没有这项服务",
                    "the station offers no such service",
                ));
            };
            let (resident_id, name) = match input.appointment_id {
                Some(aid) => {
                    let Some(a) = store::appointment(&mut tx, aid).await?.filter(|a| a.service_id == svc.id) else {
                        return Err(ServiceError::invalid(
                            "appointment_id",
                            "没有这个预约",
                            "no such appointment for this service",
                        ));
                    };
                    if !store::set_appointment_status(&mut tx, aid, AppointmentStatus::Served, now).await? {
                        let was = a.status.name_zh();
                        return Err(ServiceError::conflict(
                            format!("这个预约{was}"),
                            format!("the appointment is {}", a.status.code()),
                        ));
                    }
                    (Some(a.resident_id), a.resident_name)
                }
                None => {
                    match (input.resident_id, input.person_name.as_deref().map(str::trim).filter(|n| !n.is_empty())) {
                        (Some(rid), _) => {
                            let r = yijia_store::residents::get(&mut tx, rid).await?;
                            match r.filter(|r| yijia_domain::org::path_covers(&com.path, &r.grid_path)) {
                                Some(r) => {
                                    crate::life::on_register(&r)?;
                                    (Some(r.id), r.name)
                                }
                                None => {
                                    return Err(ServiceError::invalid(
                                        "resident_id",
                                        "本社区没有这位居民",
                                        "no such resident in this community",
                                    ));
                                }
                            }
                        }
                        (None, Some(n)) => (None, text("person_name", n, 30)?),
                        (None, None) => {
                            return Err(ServiceError::invalid(
                                "person_name",
                                "请写明为谁服务",
                                "say whom the service was for",
                            ));
                        }
                    }
                }
            };
            let new = NewRecord {
                station_id,
                service_id: svc.id,
                resident_id,
                person_name: &name,
                appointment_id: input.appointment_id,
                given_at,
                minutes: input.minutes,
                note: &note,
                recorded_by: caller.user_id,
                now,
            };
            let id = store::insert_record(&mut tx, &new).await?;
            let e = Event::ok("service_record", format!("service_record:{id}"), &com.path);
            record(&mut tx, caller, now, &e.with(json!({ "service": svc.name, "minutes": input.minutes }))).await?;
            tx.commit().await?;
            Ok(ServiceRecordView {
                id,
                service_id: svc.id,
                service: svc.name,
                resident_id,
                name,
                appointment_id: input.appointment_id,
                given_at: rfc3339(given_at),
                minutes: input.minutes,
                note,
            })
        })
        .await
    }

    /// A month's figures of a station, per service.
    pub async fn station_month(&self, caller: &Caller, id: i64, month: Option<&str>) -> Result<StationMonth> {
        let (month, first, last) = crate::points::month_range(month, self.now())?;
        let (from, to) = crate::honours::month_ms(&first, &last)?;
        self.denials_audited(caller, async {
            let mut tx = self.db.read().await?;
            let (s, _) = station_in_scope(&mut tx, caller, id, STATION_READERS).await?;
            let services = store::services(&mut tx, id).await?;
            let figures = store::figures(&mut tx, id, from, to).await?;
            let counts = store::appointment_counts(&mut tx, id, from, to).await?;
            tx.commit().await?;
            let count = |sid: i64, st: AppointmentStatus| {
                counts.iter().filter(|(s, c, _)| *s == sid && c == st.code()).map(|(_, _, n)| *n).sum::<i64>()
            };
            let rows: Vec<ServiceMonth> = services
                .iter()
                .map(|svc| {
                    let f = figures.iter().find(|f| f.service_id == svc.id);
                    ServiceMonth {
                        service_id: svc.id,
                        service: svc.name.clone(),
                        served: f.map_or(0, |f| f.served),
                        minutes: f.map_or(0, |f| f.minutes),
                        people: f.map_or(0, |f| f.people),
                        appointments: count(svc.id, AppointmentStatus::Booked)
                            + count(svc.id, AppointmentStatus::Served)
                            + count(svc.id, AppointmentStatus::Missed),
                        cancelled: count(svc.id, AppointmentStatus::Cancelled),
                        missed: count(svc.id, AppointmentStatus::Missed),
                    }
                })
                .collect();
            Ok(StationMonth {
                station_id: s.id,
                station: s.name,
                month,
                served: rows.iter().map(|r| r.served).sum(),
                minutes: rows.iter().map(|r| r.minutes).sum(),
                services: rows,
            })
        })
        .await
    }
}

async fn stations_of(tx: &mut Tx, com: &org::OrgNode, offered_only: bool) -> Result<Vec<StationView>> {
    let list = store::stations(tx, com.id).await?;
    let mut out = Vec::with_capacity(list.len());
    for s in &list {
        let mut services = store::services(tx, s.id).await?;
        if offered_only {
            services.retain(|x| x.active);
        }
        out.push(station_view(s, &com.code, &services));
    }
    Ok(out)
}
