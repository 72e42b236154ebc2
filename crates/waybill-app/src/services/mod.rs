//! Services: the use cases between the web handlers and the database. Each takes a connection
//! (or the pool), applies the rules from `domain/` and calls the query functions in `db/`.

pub mod accounts;
pub mod addresses;
pub mod api_keys;
pub mod areas;
pub mod booking;
pub mod channels;
pub mod demo_catalogue;
pub mod health;
pub mod import;
pub mod notices;
pub mod payments;
pub mod pickups;
pub mod printing;
pub mod public_tracking;
pub mod quotes;
pub mod sessions;
pub mod shipments;
pub mod simulator;
pub mod tracking;
pub mod tracking_log;
pub mod wallet;
pub mod warehouse;
pub mod webhooks;
