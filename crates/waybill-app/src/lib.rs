//! Waybill's use cases: what a seller, courier, operator or admin can do, each in one
//! transaction over `waybill-db`; the mail outbox and its worker; webhook delivery; timed jobs.
//! No HTTP here: `waybill-web` turns requests into these calls and their answers into pages.

pub mod clock;
pub mod config;
pub mod error;
pub mod jobs;
pub mod mail;
pub mod security;
pub mod services;
pub mod webhooks;

/// The database as the layers above hold it: a pool, and the connection a use case runs on.
pub use waybill_db::{DbConn, Pool};
