//! The approved channels as an admin runs them: listed, switched on and off, their limits and
//! rate cards changed, and their carrier webhook secret rotated.

use chrono::NaiveDateTime;
use waybill_db::{self as db, DbConn};
use waybill_domain::channel::Limits;
use waybill_domain::rates::RateCard;

pub use waybill_db::channels::Channel;

use crate::error::AppError;

pub fn list(conn: &mut DbConn) -> Result<Vec<Channel>, AppError> {
    Ok(db::channels::list(conn)?)
}

/// The channel with this code, if there is one (the carrier webhook asks before it checks a
/// signature).
pub fn find(conn: &mut DbConn, code: &str) -> Result<Option<Channel>, AppError> {
    Ok(db::channels::find(conn, code)?)
}

/// The channel with this code, or 404.
pub fn get(conn: &mut DbConn, code: &str) -> Result<Channel, AppError> {
    find(conn, code)?.ok_or(AppError::NotFound)
}

/// Whether a channel with this code was there to change.
pub fn set_enabled(conn: &mut DbConn, code: &str, enabled: bool) -> Result<bool, AppError> {
    Ok(db::channels::set_enabled(conn, code, enabled)?)
}

pub fn update_limits(conn: &mut DbConn, code: &str, limits: &Limits) -> Result<bool, AppError> {
    Ok(db::channels::update_limits(conn, code, limits)?)
}

pub fn update_rate_card(conn: &mut DbConn, code: &str, card: &RateCard) -> Result<bool, AppError> {
    Ok(db::channels::update_rate_card(conn, code, card)?)
}

/// Replaces the carrier webhook secret; the old one keeps verifying until `grace_until`.
pub fn rotate_secret(
    conn: &mut DbConn,
    code: &str,
    new_secret: &str,
    grace_until: NaiveDateTime,
) -> Result<bool, AppError> {
    Ok(db::channels::rotate_secret(
        conn,
        code,
        new_secret,
        grace_until,
    )?)
}
