//! Waybill: online delivery for a cross-border marketplace. The binary's own part — the
//! command line, reading the configuration and assembling the server — over the crates
//! under `crates/`, which it re-exports for the integration tests and benches.

pub mod cli;
pub mod config;
pub mod startup;
pub mod telemetry;

pub use waybill_app::{error, jobs, mail, security, services, webhooks};
pub use waybill_db as db;
pub use waybill_domain as domain;
pub use waybill_labels as labels;
pub use waybill_web as web;
