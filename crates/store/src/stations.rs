//! Service stations, their services, appointments and records of service.

use serde::Serialize;

use yijia_domain::station::AppointmentStatus;

use crate::{Result, Tx, on_tx};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Station {
    pub id: i64,
    pub community_id: i64,
    pub name: String,
    pub address: String,
    pub hours: String,
}

pub async fn insert_station(
    tx: &mut Tx,
    community_id: i64,
    name: &str,
    address: &str,
    hours: &str,
    now: i64,
) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO stations (community_id, name, address, hours, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
        .bind(community_id).bind(name).bind(address).bind(hours).bind(now).fetch_one(c).await?))
}

pub async fn update_station(tx: &mut Tx, id: i64, name: &str, address: &str, hours: &str) -> Result<()> {
    on_tx!(tx, c => sqlx::query("UPDATE stations SET name = $2, address = $3, hours = $4 WHERE id = $1")
        .bind(id).bind(name).bind(address).bind(hours).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn station(tx: &mut Tx, id: i64) -> Result<Option<Station>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT id, community_id, name, address, hours FROM stations WHERE id = $1")
        .bind(id).fetch_optional(c).await?))
}

pub async fn stations(tx: &mut Tx, community_id: i64) -> Result<Vec<Station>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT id, community_id, name, address, hours FROM stations WHERE community_id = $1 ORDER BY id")
        .bind(community_id).fetch_all(c).await?))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Service {
    pub id: i64,
    pub station_id: i64,
    pub name: String,
    pub description: String,
    pub by_appointment: bool,
    pub slot_minutes: i64,
    pub capacity: i64,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct ServiceFields<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub by_appointment: bool,
    pub slot_minutes: i64,
    pub capacity: i64,
    pub active: bool,
}

const SERVICE_COLS: &str = "id, station_id, name, description, by_appointment, slot_minutes, capacity, active";

pub async fn insert_service(tx: &mut Tx, station_id: i64, f: &ServiceFields<'_>, now: i64) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO station_services (station_id, name, description, by_appointment, slot_minutes, capacity, active, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
        .bind(station_id).bind(f.name).bind(f.description).bind(f.by_appointment).bind(f.slot_minutes)
        .bind(f.capacity).bind(f.active).bind(now).fetch_one(c).await?))
}

pub async fn update_service(tx: &mut Tx, id: i64, f: &ServiceFields<'_>) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE station_services SET name = $2, description = $3, by_appointment = $4, slot_minutes = $5, \
         capacity = $6, active = $7 WHERE id = $1")
        .bind(id).bind(f.name).bind(f.description).bind(f.by_appointment).bind(f.slot_minutes).bind(f.capacity)
        .bind(f.active).execute(&mut *c).await?.rows_affected());
    Ok(())
}

pub async fn service(tx: &mut Tx, id: i64) -> Result<Option<Service>> {
    let sql = format!("SELECT {SERVICE_COLS} FROM station_services WHERE id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// The service, its row locked until the transaction ends (PostgreSQL;
/// a SQLite write transaction holds the whole database already), so that
/// two bookings of its last place queue one behind the other.
pub async fn service_for_booking(tx: &mut Tx, id: i64) -> Result<Option<Service>> {
    let lock = if tx.backend() == crate::Backend::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {SERVICE_COLS} FROM station_services WHERE id = $1{lock}");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

pub async fn services(tx: &mut Tx, station_id: i64) -> Result<Vec<Service>> {
    let sql = format!("SELECT {SERVICE_COLS} FROM station_services WHERE station_id = $1 ORDER BY id");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(station_id).fetch_all(c).await?))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Appointment {
    pub id: i64,
    pub service_id: i64,
    pub service_name: String,
    pub station_id: i64,
    pub resident_id: i64,
    pub resident_name: String,
    pub starts_at: i64,
    pub status: AppointmentStatus,
    pub booked_at: i64,
}

const APPOINTMENT_SELECT: &str = "SELECT a.id, a.service_id, s.name AS service_name, s.station_id, a.resident_id, \
     r.name AS resident_name, a.starts_at, a.status, a.booked_at FROM appointments a \
     JOIN station_services s ON s.id = a.service_id JOIN residents r ON r.id = a.resident_id";

pub async fn insert_appointment(
    tx: &mut Tx,
    service_id: i64,
    resident_id: i64,
    starts_at: i64,
    by: Option<i64>,
    now: i64,
) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO appointments (service_id, resident_id, starts_at, status, booked_at, booked_by, changed_at) \
         VALUES ($1, $2, $3, 'booked', $4, $5, $4) RETURNING id")
        .bind(service_id).bind(resident_id).bind(starts_at).bind(now).bind(by).fetch_one(c).await?))
}

pub async fn appointment(tx: &mut Tx, id: i64) -> Result<Option<Appointment>> {
    let sql = format!("{APPOINTMENT_SELECT} WHERE a.id = $1");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(c).await?))
}

/// Moves a booked appointment on; false when it was not booked.
pub async fn set_appointment_status(tx: &mut Tx, id: i64, status: AppointmentStatus, at: i64) -> Result<bool> {
    let n = on_tx!(tx, c => sqlx::query(
        "UPDATE appointments SET status = $2, changed_at = $3 WHERE id = $1 AND status = 'booked'")
        .bind(id).bind(status).bind(at).execute(&mut *c).await?.rows_affected());
    Ok(n == 1)
}

/// Places taken in each slot of a service between two times (booked or
/// served: a cancelled place is free again).
pub async fn taken(tx: &mut Tx, service_id: i64, from: i64, to: i64) -> Result<Vec<(i64, i64)>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT starts_at, COUNT(*) FROM appointments WHERE service_id = $1 AND starts_at >= $2 AND starts_at < $3 \
         AND status IN ('booked', 'served') GROUP BY starts_at ORDER BY starts_at")
        .bind(service_id).bind(from).bind(to).fetch_all(c).await?))
}

/// A station's appointments between two times, in order.
pub async fn station_appointments(tx: &mut Tx, station_id: i64, from: i64, to: i64) -> Result<Vec<Appointment>> {
    let sql = format!(
        "{APPOINTMENT_SELECT} WHERE s.station_id = $1 AND a.starts_at >= $2 AND a.starts_at < $3 \
         ORDER BY a.starts_at, a.id"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(station_id).bind(from).bind(to)
        .fetch_all(c).await?))
}

/// Every appointment still booked that starts between two times.
pub async fn booked_between(tx: &mut Tx, from: i64, to: i64) -> Result<Vec<Appointment>> {
    let sql = format!(
        "{APPOINTMENT_SELECT} WHERE a.starts_at >= $1 AND a.starts_at < $2 AND a.status = 'booked' \
         ORDER BY a.starts_at, a.id"
    );
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from).bind(to).fetch_all(c).await?))
}

/// A resident's appointments from `from` on (and those just past), soonest first.
pub async fn resident_appointments(tx: &mut Tx, resident_id: i64, from: i64) -> Result<Vec<Appointment>> {
    let sql = format!("{APPOINTMENT_SELECT} WHERE a.resident_id = $1 AND a.starts_at >= $2 ORDER BY a.starts_at, a.id");
    Ok(on_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(resident_id).bind(from).fetch_all(c).await?))
}

#[derive(Debug, Clone)]
pub struct NewRecord<'a> {
    pub station_id: i64,
    pub service_id: i64,
    pub resident_id: Option<i64>,
    pub person_name: &'a str,
    pub appointment_id: Option<i64>,
    pub given_at: i64,
    pub minutes: i64,
    pub note: &'a str,
    pub recorded_by: Option<i64>,
    pub now: i64,
}

pub async fn insert_record(tx: &mut Tx, r: &NewRecord<'_>) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar(
        "INSERT INTO service_records (station_id, service_id, resident_id, person_name, appointment_id, given_at, \
         minutes, note, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
        .bind(r.station_id).bind(r.service_id).bind(r.resident_id).bind(r.person_name).bind(r.appointment_id)
        .bind(r.given_at).bind(r.minutes).bind(r.note).bind(r.recorded_by).bind(r.now).fetch_one(c).await?))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Record {
    pub id: i64,
    pub service_id: i64,
    pub service_name: String,
    pub resident_id: Option<i64>,
    pub person_name: String,
    pub appointment_id: Option<i64>,
    pub given_at: i64,
    pub minutes: i64,
    pub note: String,
}

/// A station's records of service between two times, newest first.
pub async fn records(tx: &mut Tx, station_id: i64, from: i64, to: i64, limit: i64) -> Result<Vec<Record>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT r.id, r.service_id, s.name AS service_name, r.resident_id, r.person_name, r.appointment_id, \
         r.given_at, r.minutes, r.note FROM service_records r JOIN station_services s ON s.id = r.service_id \
         WHERE r.station_id = $1 AND r.given_at >= $2 AND r.given_at < $3 ORDER BY r.given_at DESC, r.id DESC LIMIT $4")
        .bind(station_id).bind(from).bind(to).bind(limit).fetch_all(c).await?))
}

/// A month's figures for one service of a station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ServiceFigures {
    pub service_id: i64,
    pub served: i64,
    pub minutes: i64,
    pub people: i64,
}

/// Services given between two times, per service: how many times, the
/// minutes, and how many different residents (a name-only person counts once
/// a time).
pub async fn figures(tx: &mut Tx, station_id: i64, from: i64, to: i64) -> Result<Vec<ServiceFigures>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT service_id, COUNT(*) AS served, CAST(COALESCE(SUM(minutes), 0) AS BIGINT) AS minutes, \
         CAST(COUNT(DISTINCT resident_id) + SUM(CASE WHEN resident_id IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS people \
         FROM service_records WHERE station_id = $1 AND given_at >= $2 AND given_at < $3 GROUP BY service_id")
        .bind(station_id).bind(from).bind(to).fetch_all(c).await?))
}

/// Appointments in a time range per service and status.
pub async fn appointment_counts(tx: &mut Tx, station_id: i64, from: i64, to: i64) -> Result<Vec<(i64, String, i64)>> {
    Ok(on_tx!(tx, c => sqlx::query_as(
        "SELECT a.service_id, a.status, COUNT(*) FROM appointments a JOIN station_services s ON s.id = a.service_id \
         WHERE s.station_id = $1 AND a.starts_at >= $2 AND a.starts_at < $3 GROUP BY a.service_id, a.status")
        .bind(station_id).bind(from).bind(to).fetch_all(c).await?))
}
