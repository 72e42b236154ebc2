//! The time and new ids as Waybill stores them: UTC to the microsecond (what both databases
//! keep), and UUIDv7 ids (time-ordered).

pub use waybill_db::{new_id, now};
