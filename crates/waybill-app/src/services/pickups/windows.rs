//! The pickup windows an address can book: its service area, the next days' windows and the
//! places left in each.

use crate::error::AppError;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::HashMap;
use waybill_db::addresses::AddressRow;
use waybill_db::areas::AreaRow;
use waybill_db::{self as db, DbConn};
use waybill_domain::pickup::{AreaSpec, best_area};

use super::*;

/// The area an address belongs to, with its parsed rules.
pub fn area_for(
    conn: &mut DbConn,
    postal_code: &str,
    city: &str,
) -> Result<Option<(AreaRow, AreaSpec)>, AppError> {
    let mut parsed = Vec::new();
    for row in db::areas::list(conn)? {
        let spec = row.spec().map_err(AppError::internal)?;
        parsed.push((row, spec));
    }
    let best = best_area(
        &parsed,
        |(row, spec)| (spec, (row.created_at, row.id.clone())),
        postal_code,
        city,
    )
    .cloned();
    Ok(best)
}

const NO_AREA: &str =
    "No courier collects at this address yet: drop the parcels at the warehouse instead.";

pub(super) fn address_and_area(
    conn: &mut DbConn,
    seller_id: &str,
    address_id: &str,
) -> Result<(AddressRow, AreaRow, AreaSpec), AppError> {
    let no_address = || refuse("address_id", "You have no sender address with this id.");
    // Not a Waybill id (a NUL, 100 KB of text…): refused before any query.
    if !waybill_domain::is_id(address_id) {
        return Err(no_address());
    }
    let address = db::addresses::find(conn, seller_id, address_id)?.ok_or_else(no_address)?;
    let (area, spec) = area_for(conn, &address.postal_code, &address.city)?
        .ok_or_else(|| refuse("address_id", NO_AREA))?;
    Ok((address, area, spec))
}

#[derive(Clone, Debug, Serialize)]
pub struct WindowOffer {
    pub date: String,
    pub window: String,
    pub remaining: i32,
    pub open: bool,
}

impl WindowOffer {
    /// The date as people plan by it: `Tue 1 Dec` (the ISO date as it is if it is not one).
    pub fn day_label(&self) -> String {
        chrono::NaiveDate::parse_from_str(&self.date, "%Y-%m-%d")
            .map(|d| d.format("%a %-d %b").to_string())
            .unwrap_or_else(|_| self.date.clone())
    }
}

pub struct Offer {
    pub area: AreaRow,
    pub spec: AreaSpec,
    pub windows: Vec<WindowOffer>,
}

/// Every window of the address's area on `date` (or the next 7 days) with places left;
/// `open` only if it can be booked now.
pub fn windows(
    conn: &mut DbConn,
    seller_id: &str,
    address_id: &str,
    date: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Offer, AppError> {
    let (_, area, spec) = address_and_area(conn, seller_id, address_id)?;
    let dates = match date {
        Some(d) => vec![d],
        None => spec.bookable_dates(now),
    };
    let keys: Vec<String> = dates.iter().map(|d| d.to_string()).collect();
    let taken: HashMap<(String, String), i32> = db::pickups::slots(conn, &area.id, &keys)?
        .into_iter()
        .map(|(d, w, n)| ((d, w), n))
        .collect();
    let mut out = Vec::new();
    for d in dates {
        for w in &spec.windows {
            let label = w.label();
            let booked = taken
                .get(&(d.to_string(), label.clone()))
                .copied()
                .unwrap_or(0);
            let remaining = (spec.capacity - booked).max(0);
            let open = remaining > 0 && spec.check(d, &label, now).is_ok();
            out.push(WindowOffer {
                date: d.to_string(),
                window: label,
                remaining,
                open,
            });
        }
    }
    Ok(Offer {
        area,
        spec,
        windows: out,
    })
}
