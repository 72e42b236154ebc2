//! A seller's sender addresses: listed, added, edited, removed, one of them the default.

use waybill_db::{self as db, DbConn};
use waybill_domain::address::Address;

pub use waybill_db::addresses::AddressRow;

use crate::error::AppError;

pub fn list(conn: &mut DbConn, seller_id: &str) -> Result<Vec<AddressRow>, AppError> {
    Ok(db::addresses::list(conn, seller_id)?)
}

/// One of the seller's addresses; another seller's is not found.
pub fn find(conn: &mut DbConn, seller_id: &str, id: &str) -> Result<AddressRow, AppError> {
    db::addresses::find(conn, seller_id, id)?.ok_or(AppError::NotFound)
}

pub fn add(
    conn: &mut DbConn,
    seller_id: &str,
    address: &Address,
    make_default: bool,
) -> Result<AddressRow, AppError> {
    Ok(db::addresses::insert(
        conn,
        seller_id,
        address,
        make_default,
    )?)
}

/// Whether the address was the seller's (and so changed).
pub fn update(
    conn: &mut DbConn,
    seller_id: &str,
    id: &str,
    address: &Address,
) -> Result<bool, AppError> {
    Ok(db::addresses::update(conn, seller_id, id, address)?)
}

pub fn delete(conn: &mut DbConn, seller_id: &str, id: &str) -> Result<bool, AppError> {
    Ok(db::addresses::delete(conn, seller_id, id)?)
}

pub fn set_default(conn: &mut DbConn, seller_id: &str, id: &str) -> Result<bool, AppError> {
    Ok(db::addresses::set_default(conn, seller_id, id)?)
}
