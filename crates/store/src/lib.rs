//! Everything that touches the database. Both backends run the same SQL
//! (written with `$1` placeholders, which SQLite and PostgreSQL both take);
//! only dialect-specific statements are written twice, side by side. The
//! shared storage suite (`tests/story.rs`) runs every query on both.

mod db;
mod error;
mod sql;

pub mod activities;
pub mod audit;
pub mod ballots;
pub mod broadcasts;
pub mod cases;
pub mod dashboard;
pub mod erasure;
pub mod exports;
pub mod jobs;
pub mod meta;
pub mod notices;
pub mod notify;
pub mod org;
pub mod places;
pub mod pledges;
pub mod points;
pub mod projects;
pub mod proxies;
pub mod record_requests;
pub mod residents;
pub mod sessions;
pub mod shop;
pub mod stations;
pub mod tallies;
pub mod totp;
pub mod transfers;
pub mod users;
pub mod visits;

#[cfg(feature = "testing")]
pub mod testing;

pub use db::{Backend, Db, DbOptions, Tx, redact_url};
pub use error::StoreError;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
