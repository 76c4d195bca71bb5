//! Service stations: their services, residents' appointments, records of
//! service given and the month's figures.

use super::prelude::*;
use yijia_service::stations::{
    AppointmentView, BookingInput, RecordInput, ServiceInput, ServiceRecordView, ServiceView, SlotsView, StationDay,
    StationInput, StationMonth, StationView,
};

use super::points::{CommunityParam, MonthParam};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DateParam {
    /// `2026-12-05`; default: today.
    pub date: Option<String>,
}

/// A community's service stations with their services.
#[utoipa::path(get, path = "/api/v1/stations", tag = "stations", params(CommunityParam),
    responses(
        (status = 200, description = "The stations", body = Vec<StationView>),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 422, description = "Name the community", body = ErrorBody),
    ))]
pub async fn list_stations(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
) -> Result<Json<Vec<StationView>>, ApiError> {
    Ok(Json(st.svc.stations(&c, q.community.as_deref()).await.api(lang)?))
}

/// Open a service station.
#[utoipa::path(post, path = "/api/v1/stations", tag = "stations", params(CommunityParam), request_body = StationInput,
    responses(
        (status = 201, description = "The station", body = StationView),
        (status = 404, description = "Not your community", body = ErrorBody),
        (status = 409, description = "A station of that name is there", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn add_station(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiQuery(q): ApiQuery<CommunityParam>,
    ApiJson(b): ApiJson<StationInput>,
) -> Result<(StatusCode, Json<StationView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.add_station(&c, q.community.as_deref(), b).await.api(lang)?)))
}

/// One station with its services.
#[utoipa::path(get, path = "/api/v1/stations/{id}", tag = "stations",
    params(("id" = i64, Path, description = "Station id")),
    responses(
        (status = 200, description = "The station", body = StationView),
        (status = 404, description = "No such station in your scope", body = ErrorBody),
    ))]
pub async fn get_station(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<StationView>, ApiError> {
    Ok(Json(st.svc.station(&c, id).await.api(lang)?))
}

/// Change a station's name, address or opening hours.
#[utoipa::path(put, path = "/api/v1/stations/{id}", tag = "stations",
    params(("id" = i64, Path, description = "Station id")), request_body = StationInput,
    responses(
        (status = 200, description = "The station", body = StationView),
        (status = 404, description = "No such station in your community", body = ErrorBody),
        (status = 409, description = "A station of that name is there", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn update_station(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<StationInput>,
) -> Result<Json<StationView>, ApiError> {
    Ok(Json(st.svc.update_station(&c, id, b).await.api(lang)?))
}

/// Offer a service at a station: walk-in, or by appointment in slots.
#[utoipa::path(post, path = "/api/v1/stations/{id}/services", tag = "stations",
    params(("id" = i64, Path, description = "Station id")), request_body = ServiceInput,
    responses(
        (status = 201, description = "The service", body = ServiceView),
        (status = 404, description = "No such station in your community", body = ErrorBody),
        (status = 409, description = "The station offers it already", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn add_service(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ServiceInput>,
) -> Result<(StatusCode, Json<ServiceView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.add_service(&c, id, b).await.api(lang)?)))
}

/// Change a service, or stop offering it (`active: false`).
#[utoipa::path(put, path = "/api/v1/station-services/{id}", tag = "stations",
    params(("id" = i64, Path, description = "Service id")), request_body = ServiceInput,
    responses(
        (status = 200, description = "The service", body = ServiceView),
        (status = 404, description = "No such service in your community", body = ErrorBody),
        (status = 409, description = "The station offers one of that name", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn update_service(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ServiceInput>,
) -> Result<Json<ServiceView>, ApiError> {
    Ok(Json(st.svc.update_service(&c, id, b).await.api(lang)?))
}

/// A day's slots of a service that takes appointments, with the places left in each.
#[utoipa::path(get, path = "/api/v1/station-services/{id}/slots", tag = "stations",
    params(("id" = i64, Path, description = "Service id"), DateParam),
    responses(
        (status = 200, description = "The slots", body = SlotsView),
        (status = 404, description = "No such service in your community", body = ErrorBody),
        (status = 409, description = "The service takes no appointments", body = ErrorBody),
        (status = 422, description = "The date is not like 2026-12-05", body = ErrorBody),
    ))]
pub async fn service_slots(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DateParam>,
) -> Result<Json<SlotsView>, ApiError> {
    Ok(Json(st.svc.service_slots(&c, id, q.date.as_deref()).await.api(lang)?))
}

/// Book a place in a slot: a resident for themself, staff for a resident (`resident_id`).
#[utoipa::path(post, path = "/api/v1/station-services/{id}/appointments", tag = "stations",
    params(("id" = i64, Path, description = "Service id")), request_body = BookingInput,
    responses(
        (status = 201, description = "The appointment", body = AppointmentView),
        (status = 403, description = "A resident's account not linked to a record", body = ErrorBody),
        (status = 404, description = "No such service in your community", body = ErrorBody),
        (status = 409, description = "The slot is full, or booked that day already", body = ErrorBody),
        (status = 422, description = "Not a slot of the service, past, or too far ahead", body = ErrorBody),
    ))]
pub async fn book(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<BookingInput>,
) -> Result<(StatusCode, Json<AppointmentView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.book(&c, id, b).await.api(lang)?)))
}

/// Cancel an appointment before its time: a resident their own, staff any of the community's.
#[utoipa::path(post, path = "/api/v1/appointments/{id}/cancel", tag = "stations",
    params(("id" = i64, Path, description = "Appointment id")),
    responses(
        (status = 200, description = "The appointment, cancelled", body = AppointmentView),
        (status = 404, description = "No such appointment of yours", body = ErrorBody),
        (status = 409, description = "Begun, or not booked", body = ErrorBody),
    ))]
pub async fn cancel_appointment(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AppointmentView>, ApiError> {
    Ok(Json(st.svc.cancel_appointment(&c, id).await.api(lang)?))
}

/// Mark an appointment whose time has passed as missed: the resident did not come.
#[utoipa::path(post, path = "/api/v1/appointments/{id}/missed", tag = "stations",
    params(("id" = i64, Path, description = "Appointment id")),
    responses(
        (status = 200, description = "The appointment, missed", body = AppointmentView),
        (status = 403, description = "Only station staff may", body = ErrorBody),
        (status = 404, description = "No such appointment in your community", body = ErrorBody),
        (status = 409, description = "Not come yet, or not booked", body = ErrorBody),
    ))]
pub async fn miss_appointment(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AppointmentView>, ApiError> {
    Ok(Json(st.svc.miss_appointment(&c, id).await.api(lang)?))
}

/// A station's day: appointments and the services recorded.
#[utoipa::path(get, path = "/api/v1/stations/{id}/day", tag = "stations",
    params(("id" = i64, Path, description = "Station id"), DateParam),
    responses(
        (status = 200, description = "The day", body = StationDay),
        (status = 404, description = "No such station in your scope", body = ErrorBody),
        (status = 422, description = "The date is not like 2026-12-05", body = ErrorBody),
    ))]
pub async fn station_day(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DateParam>,
) -> Result<Json<StationDay>, ApiError> {
    Ok(Json(st.svc.station_day(&c, id, q.date.as_deref()).await.api(lang)?))
}

/// Record a service given (to whom, what, how long); for an appointment, it is then served.
#[utoipa::path(post, path = "/api/v1/stations/{id}/records", tag = "stations",
    params(("id" = i64, Path, description = "Station id")), request_body = RecordInput,
    responses(
        (status = 201, description = "The record", body = ServiceRecordView),
        (status = 404, description = "No such station in your community", body = ErrorBody),
        (status = 409, description = "The appointment is not booked", body = ErrorBody),
        (status = 422, description = "A field is wrong: which and why", body = ErrorBody),
    ))]
pub async fn record_service(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<RecordInput>,
) -> Result<(StatusCode, Json<ServiceRecordView>), ApiError> {
    Ok((StatusCode::CREATED, Json(st.svc.record_service(&c, id, b).await.api(lang)?)))
}

/// A station's month: per service, services given, minutes, people, appointments.
#[utoipa::path(get, path = "/api/v1/stations/{id}/month", tag = "stations",
    params(("id" = i64, Path, description = "Station id"), MonthParam),
    responses(
        (status = 200, description = "The month's figures", body = StationMonth),
        (status = 404, description = "No such station in your scope", body = ErrorBody),
        (status = 422, description = "The month is not like 2026-11", body = ErrorBody),
    ))]
pub async fn station_month(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<MonthParam>,
) -> Result<Json<StationMonth>, ApiError> {
    Ok(Json(st.svc.station_month(&c, id, q.month.as_deref()).await.api(lang)?))
}

/// For a resident: the stations of their community and the services offered.
#[utoipa::path(get, path = "/api/v1/me/stations", tag = "me",
    responses(
        (status = 200, description = "The stations", body = Vec<StationView>),
        (status = 403, description = "No resident record linked", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
    ))]
pub async fn my_stations(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<StationView>>, ApiError> {
    Ok(Json(st.svc.my_stations(&c).await.api(lang)?))
}

/// For a resident: their appointments from a week ago on.
#[utoipa::path(get, path = "/api/v1/me/appointments", tag = "me",
    responses(
        (status = 200, description = "The appointments", body = Vec<AppointmentView>),
        (status = 403, description = "No resident record linked", body = ErrorBody),
        (status = 404, description = "Not a resident's account", body = ErrorBody),
    ))]
pub async fn my_appointments(
    State(st): State<AppState>,
    Auth(c): Auth,
    lang: Lang,
) -> Result<Json<Vec<AppointmentView>>, ApiError> {
    Ok(Json(st.svc.my_appointments(&c).await.api(lang)?))
}
