//! Integration tests: the real server on port 0 with a fresh database per
//! test (SQLite, or PostgreSQL when YIJIA_TEST_DATABASE_URL is set), driven
//! over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests and benches fail loudly

mod helpers;

mod import;

mod activities;
mod audit;
mod auth;
mod ballots;
mod broadcasts;
mod cases;
mod codes;
mod dashboard;
mod data_copy;
mod errors;
mod export;
mod jobs;
mod life;
mod me;
mod moves;
mod notices;
mod notify;
mod open311;
mod org;
mod pages;
mod pilot;
mod pledges;
mod points;
mod policy;
mod projects;
mod proxies;
mod reports;
mod residents;
mod rights;
mod shapes;
mod shop;
mod stations;
mod tallies;
mod told;
mod two_factor;
mod users;
mod visits;
mod webhooks;
