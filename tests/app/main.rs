//! One integration binary: every test starts the real server on port 0 with its own
//! database (SQLite by default; PostgreSQL with WAYBILL_TEST_BACKEND=postgres).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixtures;
mod helpers;

mod customs_labels;
mod import;
mod labels;
mod load;

mod accounts;
mod api_keys;
mod booking;
mod browser;
mod cli;
mod hardening;
mod hostile;
mod mail;
mod pages;
mod pickups;
mod quotes;
mod schema;
mod security;
mod sessions;
mod shipment_pages;
mod tracking;
mod wallet;
mod warehouse;
mod webhooks;
mod writes;
