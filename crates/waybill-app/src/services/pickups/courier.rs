//! Door pickups, the courier's side: the queue of the courier's areas, accept (one courier
//! wins), arrive, scan parcels of this pickup only, complete (scanned parcels picked up with a
//! verified event, the rest left with the seller and flagged) or fail with a reason.
//! A pickup outside the courier's areas does not exist for it (404).

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use super::{PickupView, Settings, mail, refuse, release_items, views};
use crate::error::AppError;
use waybill_db::pickups::{Outcome, Pickup};
use waybill_db::shipments::Shipment;
use waybill_db::users::User;
use waybill_db::{self as db, DbConn};
use waybill_domain::pickup::{DEFAULT_TIMEZONE, FailureReason, timezone_offset};
use waybill_domain::{PickupStatus, Status};

/// Today in the time zone of the courier's first area (China's when it has none yet).
pub fn today(conn: &mut DbConn, courier_id: &str) -> Result<NaiveDate, AppError> {
    let tz = match db::areas::of_courier(conn, courier_id)?.first() {
        Some(a) => db::areas::find(conn, a)?.map(|a| a.timezone),
        None => None,
    };
    let offset = tz
        .as_deref()
        .and_then(timezone_offset)
        .or_else(|| timezone_offset(DEFAULT_TIMEZONE))
        .ok_or_else(|| AppError::internal("no time zone"))?;
    Ok(chrono::Utc::now().with_timezone(&offset).date_naive())
}

/// The courier's pickups on `date` in its areas, by window then postal code.
pub fn queue(
    conn: &mut DbConn,
    courier_id: &str,
    date: NaiveDate,
) -> Result<Vec<PickupView>, AppError> {
    let areas = db::areas::of_courier(conn, courier_id)?;
    if areas.is_empty() {
        return Ok(Vec::new());
    }
    let ps = db::pickups::queue(conn, &areas, &date.to_string())?;
    views(conn, ps)
}

/// A pickup in one of the courier's areas; any other is "not found".
fn in_my_area(conn: &mut DbConn, courier_id: &str, id: &str) -> Result<Pickup, AppError> {
    let p = db::pickups::find(conn, id)?.ok_or(AppError::NotFound)?;
    if !db::areas::of_courier(conn, courier_id)?.contains(&p.area_id) {
        return Err(AppError::NotFound);
    }
    Ok(p)
}

/// A pickup this courier has accepted and that is still open.
fn mine(conn: &mut DbConn, courier_id: &str, id: &str) -> Result<Pickup, AppError> {
    let p = in_my_area(conn, courier_id, id)?;
    if p.courier_id.as_deref() != Some(courier_id) {
        return Err(AppError::Conflict(match p.courier_id {
            Some(_) => "Another courier has this pickup.".into(),
            None => "Accept this pickup first.".into(),
        }));
    }
    if !p.status.is_open() {
        return Err(AppError::Conflict(format!(
            "This pickup is already {}.",
            p.status.label().to_lowercase()
        )));
    }
    Ok(p)
}

pub fn view(conn: &mut DbConn, courier_id: &str, id: &str) -> Result<PickupView, AppError> {
    let p = in_my_area(conn, courier_id, id)?;
    views(conn, vec![p])?.pop().ok_or(AppError::NotFound)
}

fn reload(conn: &mut DbConn, id: &str) -> Result<PickupView, AppError> {
    let p = db::pickups::find(conn, id)?.ok_or(AppError::NotFound)?;
    views(conn, vec![p])?.pop().ok_or(AppError::NotFound)
}

/// Takes a scheduled pickup: of couriers accepting at once exactly one gets it, the others a
/// conflict. Accepting one's own pickup again is a no-op.
pub fn accept(
    conn: &mut DbConn,
    courier: &User,
    id: &str,
    s: &Settings,
) -> Result<PickupView, AppError> {
    db::write_tx(conn, |c| {
        let p = in_my_area(c, &courier.id, id)?;
        if p.courier_id.as_deref() == Some(&courier.id) && p.status.is_open() {
            return Ok(());
        }
        if p.status != PickupStatus::Scheduled {
            return Err(AppError::Conflict(match p.courier_id {
                Some(_) => "Another courier has taken this pickup.".into(),
                None => format!("This pickup is {}.", p.status.label().to_lowercase()),
            }));
        }
        if !db::pickups::accept(c, &p.id, &courier.id)? {
            return Err(AppError::Conflict(
                "Another courier has taken this pickup.".into(),
            ));
        }
        super::announce(c, &p, Some(p.status), PickupStatus::Accepted)?;
        let v = reload(c, &p.id)?;
        let m = mail::accepted(&v, courier, s)?;
        let to = v
            .seller
            .as_ref()
            .map(|u| u.email.clone())
            .unwrap_or_default();
        m.enqueue(c, &to)?;
        Ok(())
    })?;
    reload(conn, id)
}

/// At the door (early arrival is allowed and recorded as such by its time).
pub fn arrive(conn: &mut DbConn, courier: &User, id: &str) -> Result<PickupView, AppError> {
    db::write_tx(conn, |c| {
        let p = mine(c, &courier.id, id)?;
        if p.status == PickupStatus::Arrived {
            return Ok(());
        }
        if !super::set_status(c, &p, PickupStatus::Arrived)? {
            return Err(AppError::Conflict(
                "This pickup just changed; reload it.".into(),
            ));
        }
        Ok(())
    })?;
    reload(conn, id)
}

#[derive(Serialize)]
pub struct Scanned {
    pub shipment_id: String,
    pub tracking_number: String,
    pub scanned: usize,
    pub expected: usize,
}

/// Ticks off a parcel of this pickup; any other barcode is refused (422).
pub fn scan(
    conn: &mut DbConn,
    courier: &User,
    id: &str,
    barcode: &str,
) -> Result<Scanned, AppError> {
    let code = waybill_domain::tracking_number::normalise_scan(barcode);
    if code.is_empty() {
        return Err(refuse("barcode", "Scan a parcel's barcode."));
    }
    db::write_tx(conn, |c| {
        let p = mine(c, &courier.id, id)?;
        let items = db::pickups::items(c, &[p.id.to_string()])?;
        let Some((_, s)) = items.iter().find(|(_, s)| s.tracking_number == code) else {
            return Err(refuse(
                "barcode",
                format!("{code} is not a parcel of this pickup: do not take it."),
            ));
        };
        db::pickups::mark_scanned(c, &p.id, &s.id)?;
        let scanned = items
            .iter()
            .filter(|(i, x)| i.scanned_at.is_some() || x.id == s.id)
            .count();
        Ok(Scanned {
            shipment_id: s.id.to_string(),
            tracking_number: s.tracking_number.clone(),
            scanned,
            expected: items.len(),
        })
    })
}

/// The collection scan of one parcel, as a verified tracking event. Every courier collection
/// goes through here, so it can be routed to the tracking service in one place.
pub fn record_collection(
    conn: &mut DbConn,
    shipment: &Shipment,
    courier_id: &str,
    at: NaiveDateTime,
    location: &str,
) -> Result<(), AppError> {
    // Through the tracking service: the event joins the transparency log like a carrier's.
    crate::services::tracking::record_in(
        conn,
        shipment,
        crate::services::tracking::EventInput {
            source: format!("courier:{courier_id}"),
            source_event_id: Some(format!("collect:{}", shipment.id)),
            status: Status::PickedUp,
            code: None,
            occurred_at: at,
            location: Some(location.to_string()),
            description: "Collected from the seller by a Waybill courier.".into(),
            raw: None,
        },
    )?;
    Ok(())
}

/// Closes a pickup with what was scanned: those parcels are picked up, the others stay with
/// the seller, flagged. Nothing scanned is refused: that is a failed pickup.
pub fn complete(
    conn: &mut DbConn,
    courier: &User,
    id: &str,
    s: &Settings,
) -> Result<PickupView, AppError> {
    db::write_tx(conn, |c| {
        // The tracking log's head first, then shipment rows, as every writer of events takes
        // them (a carrier batch holds the head while it settles statuses): the other order
        // deadlocks on PostgreSQL.
        waybill_db::tracking::lock_head(c)?;
        let p = mine(c, &courier.id, id)?;
        let v = reload(c, &p.id)?;
        if v.scanned() == 0 {
            return Err(refuse(
                "barcode",
                "Nothing is scanned: scan the parcels you take, or fail the pickup with a reason.",
            ));
        }
        // The public timeline is read abroad.
        let location = format!("{}, {}", v.address.latin_city(), v.address.country);
        let (mut collected, mut left) = (0, 0);
        for (item, sh) in &v.items {
            let taken = item.scanned_at.is_some()
                && match sh.status {
                    Status::Booked | Status::PickupScheduled => {
                        crate::services::shipments::change_status(c, sh, Status::PickedUp)?
                    }
                    Status::Draft | Status::Cancelled => false,
                    // Scanned at the door and already further on (the warehouse scanned it in
                    // before the courier closed the pickup): collected all the same.
                    _ => true,
                };
            if taken {
                record_collection(
                    c,
                    sh,
                    &courier.id,
                    item.scanned_at.unwrap_or_else(db::now),
                    &location,
                )?;
                db::pickups::close_item(c, &p.id, &sh.id, Outcome::Collected)?;
                collected += 1;
            } else {
                if sh.status == Status::PickupScheduled {
                    crate::services::shipments::change_status(c, sh, Status::Booked)?;
                }
                db::pickups::close_item(c, &p.id, &sh.id, Outcome::NotCollected)?;
                left += 1;
            }
        }
        let to = if left == 0 {
            PickupStatus::Completed
        } else {
            PickupStatus::PartiallyCompleted
        };
        if !super::set_status(c, &p, to)? {
            return Err(AppError::Conflict(
                "This pickup just changed; reload it.".into(),
            ));
        }
        let m = mail::completed(&v, collected, left, s)?;
        let to = v
            .seller
            .as_ref()
            .map(|u| u.email.clone())
            .unwrap_or_default();
        m.enqueue(c, &to)?;
        Ok(())
    })?;
    reload(conn, id)
}

/// Fails a pickup with a reason; every parcel stays with the seller.
pub fn fail(
    conn: &mut DbConn,
    courier: &User,
    id: &str,
    reason: &str,
    note: Option<&str>,
    s: &Settings,
) -> Result<PickupView, AppError> {
    let (reason, note) =
        FailureReason::with_note(reason, note).map_err(|fields| AppError::Validation {
            message: fields.values().cloned().collect::<Vec<_>>().join(" "),
            fields,
        })?;
    db::write_tx(conn, |c| {
        let p = mine(c, &courier.id, id)?;
        if !super::set_status(c, &p, PickupStatus::Failed)? {
            return Err(AppError::Conflict(
                "This pickup just changed; reload it.".into(),
            ));
        }
        db::pickups::set_failure(c, &p.id, reason.as_str(), note.as_deref())?;
        release_items(c, &p.id)?;
        let v = reload(c, &p.id)?;
        let m = mail::failed(&v, reason.label(), note.as_deref(), s)?;
        let to = v
            .seller
            .as_ref()
            .map(|u| u.email.clone())
            .unwrap_or_default();
        m.enqueue(c, &to)?;
        Ok(())
    })?;
    reload(conn, id)
}
