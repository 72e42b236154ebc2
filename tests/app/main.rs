//! One integration binary: every test starts the real server on port 0 with its own
//! database (SQLite by default; PostgreSQL with WAYBILL_TEST_BACKEND=postgres).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod import;
mod labels;
mod load;

mod accounts;
mod api_keys;
mod booking;
mod browser;
mod cli;
mod mail;
mod pages;
mod quotes;
mod schema;
mod security;
mod shipment_pages;
mod wallet;
mod writes;
