//! Pickup service areas and the couriers who work them, as the admin keeps them.

use waybill_db::{self as db, DbConn};
use waybill_domain::Role;
use waybill_domain::pickup::AreaSpec;

pub use waybill_db::areas::AreaRow;
use waybill_db::users::User;

use crate::error::AppError;

/// What the admin's Areas page shows: every area, which courier works which area, and every
/// account (to choose couriers from).
pub struct AreasPage {
    pub areas: Vec<AreaRow>,
    pub assigned: Vec<(String, User)>,
    pub users: Vec<User>,
}

pub fn page(conn: &mut DbConn) -> Result<AreasPage, AppError> {
    Ok(AreasPage {
        areas: db::areas::list(conn)?,
        assigned: db::areas::couriers(conn)?,
        users: db::users::list(conn)?,
    })
}

/// Adds an area; false when one with its name exists.
pub fn add(conn: &mut DbConn, spec: &AreaSpec) -> Result<bool, AppError> {
    Ok(db::areas::insert(conn, &AreaRow::new(spec, db::now()))?)
}

/// Lets a courier work an area: the sentence to tell the admin, or `None` when either is not
/// there (or the account is not a courier's).
pub fn assign(
    conn: &mut DbConn,
    courier_id: &str,
    area_id: &str,
) -> Result<Option<String>, AppError> {
    if !(waybill_domain::is_id(courier_id) && waybill_domain::is_id(area_id)) {
        return Ok(None);
    }
    let courier = db::users::find(conn, courier_id)?.filter(|u| u.role() == Role::Courier);
    let area = db::areas::find(conn, area_id)?;
    match (courier, area) {
        (Some(u), Some(a)) => {
            db::areas::assign(conn, &u.id, &a.id)?;
            Ok(Some(format!("{} now works {}.", u.name, a.name)))
        }
        _ => Ok(None),
    }
}

/// Whether a courier works any area.
pub fn courier_has_area(conn: &mut DbConn, courier_id: &str) -> Result<bool, AppError> {
    Ok(!db::areas::of_courier(conn, courier_id)?.is_empty())
}
