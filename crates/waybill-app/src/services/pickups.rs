//! Door pickups, the seller's side: which area and windows an address has, booking a window
//! (capacity taken with a conditional counter update in the same transaction), cancelling and
//! rescheduling until the window starts. The courier's side is in `courier.rs`, the periodic
//! jobs (missed windows, reminders) in `jobs.rs`, the e-mails in `mail.rs`.

pub mod courier;
pub mod jobs;
mod mail;
mod views;
mod windows;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub use mail::PickupMail;
pub use views::{PickupView, list_for_seller, view_for_seller, views};
use windows::address_and_area;
pub use windows::{Offer, WindowOffer, area_for, windows};

use crate::error::AppError;
use waybill_db::addresses::AddressRow;
pub use waybill_db::pickups::{Item, Outcome, Pickup};
use waybill_db::shipments::{Filter, Shipment};
use waybill_db::users::User;
use waybill_db::{self as db, DbConn};
use waybill_domain::pickup::Refusal;
use waybill_domain::{PickupStatus, Status};

pub struct Settings<'a> {
    pub base_url: &'a str,
}

#[derive(Serialize)]
struct PickupChanged<'a> {
    pickup_id: &'a str,
    status: &'a str,
    previous_status: Option<&'a str>,
    date: &'a str,
    window: &'a str,
}

/// Queues `pickup.status_changed` for a pickup that just moved from `previous` (`None`: it
/// was just booked) to `to`, in the caller's transaction.
pub(crate) fn announce(
    c: &mut DbConn,
    p: &Pickup,
    previous: Option<PickupStatus>,
    to: PickupStatus,
) -> Result<(), AppError> {
    crate::services::webhooks::enqueue(
        c,
        &p.seller_id,
        "pickup.status_changed",
        &PickupChanged {
            pickup_id: &p.id,
            status: to.as_str(),
            previous_status: previous.map(PickupStatus::as_str),
            date: &p.date,
            window: &p.window_label,
        },
    )?;
    Ok(())
}

/// Moves a pickup (as loaded) to `to` and queues its webhook; `false` if it moved meanwhile.
/// The one way services change a pickup's status.
pub(crate) fn set_status(c: &mut DbConn, p: &Pickup, to: PickupStatus) -> Result<bool, AppError> {
    if !db::pickups::set_status(c, &p.id, p.status, to)? {
        return Ok(false);
    }
    announce(c, p, Some(p.status), to)?;
    Ok(true)
}

/// A 422 with its own message and the field it is about.
pub fn refuse(field: &str, message: impl Into<String>) -> AppError {
    let message = message.into();
    AppError::Validation {
        fields: [(field.to_string(), message.clone())].into(),
        message,
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct BookInput {
    pub address_id: String,
    pub date: String,
    pub window: String,
    pub shipment_ids: Option<Vec<String>>,
}

/// A booking request with its fields checked; its JSON is what the idempotency hash covers.
#[derive(Clone, Debug, Serialize)]
pub struct BookRequest {
    pub address_id: String,
    pub date: NaiveDate,
    pub window: String,
    pub shipment_ids: Option<Vec<String>>,
}

impl BookInput {
    pub fn parse(&self) -> Result<BookRequest, BTreeMap<String, String>> {
        let mut errors = BTreeMap::new();
        if self.address_id.trim().is_empty() {
            errors.insert(
                "address_id".into(),
                "Choose the address to collect from.".into(),
            );
        }
        let date = NaiveDate::parse_from_str(self.date.trim(), "%Y-%m-%d")
            .map_err(|_| {
                errors.insert("date".into(), "Give the date as 2026-12-01.".into());
            })
            .ok();
        if self.window.trim().is_empty() {
            errors.insert("window".into(), "Choose a window, e.g. 09:00-12:00.".into());
        }
        let shipment_ids = self.shipment_ids.as_ref().map(|ids| {
            let mut ids: Vec<String> = ids.iter().map(|s| s.trim().to_string()).collect();
            ids.sort();
            ids.dedup();
            ids
        });
        if shipment_ids.as_ref().is_some_and(Vec::is_empty) {
            errors.insert(
                "shipment_ids".into(),
                "Choose at least one shipment.".into(),
            );
        }
        match date {
            Some(date) if errors.is_empty() => Ok(BookRequest {
                address_id: self.address_id.trim().to_string(),
                date,
                window: self.window.trim().to_string(),
                shipment_ids,
            }),
            _ => Err(errors),
        }
    }
}

/// Whether a shipment was booked from this address (shipments keep a copy of their sender).
fn sent_from(s: &Shipment, a: &AddressRow) -> bool {
    let sender = &s.sender;
    sender.street1 == a.street1
        && sender.postal_code == a.postal_code
        && sender.city == a.city
        && sender.country == a.country
}

/// Booked shipments of a seller's address not yet in a pickup: what a pickup takes by default.
pub fn waiting_at(
    conn: &mut DbConn,
    seller_id: &str,
    address: &AddressRow,
) -> Result<Vec<Shipment>, AppError> {
    let filter = Filter {
        status: Some(Status::Booked),
        ..Default::default()
    };
    Ok(db::shipments::list(conn, seller_id, &filter, 0, 500)?
        .into_iter()
        .filter(|s| sent_from(s, address))
        .collect())
}

fn chosen_shipments(
    conn: &mut DbConn,
    seller_id: &str,
    address: &AddressRow,
    ids: Option<&[String]>,
) -> Result<Vec<Shipment>, AppError> {
    let Some(ids) = ids else {
        let all = waiting_at(conn, seller_id, address)?;
        if all.is_empty() {
            return Err(refuse(
                "shipment_ids",
                "No booked shipments from this address are waiting for a pickup.",
            ));
        }
        return Ok(all);
    };
    let mut out = Vec::new();
    for id in ids {
        // Not a Waybill id: refused before any query, and not echoed back whole.
        if !waybill_domain::is_id(id) {
            return Err(refuse(
                "shipment_ids",
                "Give the ids of your booked shipments (from GET /api/v1/shipments).",
            ));
        }
        let s = db::shipments::find(conn, seller_id, id)?
            .ok_or_else(|| refuse("shipment_ids", format!("You have no shipment {id}.")))?;
        // The courier goes to this address: a parcel sent from another one is not there.
        if !sent_from(&s, address) {
            return Err(refuse(
                "shipment_ids",
                format!(
                    "{} is sent from another address ({}); book its pickup there.",
                    s.tracking_number, s.sender.city
                ),
            ));
        }
        match s.status {
            Status::Booked => out.push(s),
            Status::PickupScheduled => {
                return Err(AppError::Conflict(format!(
                    "{} is already in an open pickup.",
                    s.tracking_number
                )));
            }
            other => {
                return Err(refuse(
                    "shipment_ids",
                    format!(
                        "{} is {}: only booked parcels are collected.",
                        s.tracking_number,
                        other.label()
                    ),
                ));
            }
        }
    }
    Ok(out)
}

fn refusal(r: Refusal) -> AppError {
    let field = match r {
        Refusal::UnknownWindow => "window",
        _ => "date",
    };
    refuse(field, r.message())
}

const FULL: &str = "This window is full; choose another one.";

/// Books a pickup. With an idempotency key, the same request again returns the pickup it made
/// (`true` = replayed); another request with that key is a conflict.
pub fn book(
    conn: &mut DbConn,
    seller: &User,
    req: &BookRequest,
    key: Option<&str>,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<(Pickup, bool), AppError> {
    let hash = crate::security::sha256_hex(&serde_json::to_string(req).unwrap_or_default());
    if let Some(k) = key {
        if let Some(done) = replay(conn, &seller.id, k, &hash)? {
            return Ok((done, true));
        }
    }
    match book_once(conn, seller, req, key, &hash, settings, now) {
        Err(e) if key.is_some() && e.is_unique_violation() => {
            match replay(conn, &seller.id, key.unwrap_or_default(), &hash)? {
                Some(done) => Ok((done, true)),
                None => Err(e),
            }
        }
        other => other.map(|p| (p, false)),
    }
}

fn replay(
    conn: &mut DbConn,
    seller_id: &str,
    key: &str,
    hash: &str,
) -> Result<Option<Pickup>, AppError> {
    match db::pickups::find_by_key(conn, seller_id, key)? {
        Some(p) if p.request_hash.as_deref() == Some(hash) => Ok(Some(p)),
        Some(_) => Err(AppError::Conflict(
            "This Idempotency-Key was already used for a different pickup.".into(),
        )),
        None => Ok(None),
    }
}

fn book_once(
    conn: &mut DbConn,
    seller: &User,
    req: &BookRequest,
    key: Option<&str>,
    hash: &str,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<Pickup, AppError> {
    let (address, area, spec) = address_and_area(conn, &seller.id, &req.address_id)?;
    let window = spec.check(req.date, &req.window, now).map_err(refusal)?;
    let shipments = chosen_shipments(conn, &seller.id, &address, req.shipment_ids.as_deref())?;
    let (start, end) = spec.utc_range(req.date, window);
    let at = db::now();
    let pickup = Pickup {
        id: db::new_id().into(),
        seller_id: seller.id.clone(),
        address_id: address.id.clone(),
        area_id: area.id.clone(),
        date: req.date.to_string(),
        window_label: window.label(),
        window_start: start,
        window_end: end,
        status: PickupStatus::Scheduled,
        address: address.address(),
        postal_code: address.postal_code.clone(),
        courier_id: None,
        failure_reason: None,
        failure_note: None,
        idempotency_key: key.map(str::to_string),
        request_hash: key.map(|_| hash.to_string()),
        reminder_sent_at: None,
        accepted_at: None,
        arrived_at: None,
        closed_at: None,
        created_at: at,
        updated_at: at,
    };
    let ids: Vec<String> = shipments.iter().map(|s| s.id.to_string()).collect();
    let mail = mail::booked(&pickup, &area.name, shipments.len(), settings)?;
    db::write_tx(conn, |c| {
        if !db::pickups::take_slot(
            c,
            &area.id,
            &pickup.date,
            &pickup.window_label,
            spec.capacity,
        )? {
            return Err(AppError::Conflict(FULL.into()));
        }
        db::pickups::insert(c, &pickup)?;
        announce(c, &pickup, None, PickupStatus::Scheduled)?;
        for s in &shipments {
            if s.status != Status::Booked
                || !crate::services::shipments::change_status(c, s, Status::PickupScheduled)?
            {
                return Err(AppError::Conflict(format!(
                    "{} is already in an open pickup (or no longer booked).",
                    s.tracking_number
                )));
            }
        }
        match db::pickups::insert_items(c, &pickup.id, &ids) {
            Err(e) if db::is_unique_violation(&e) => {
                return Err(AppError::Conflict(
                    "A shipment is already in an open pickup.".into(),
                ));
            }
            other => other?,
        }
        mail.enqueue(c, &seller.email)?;
        Ok(())
    })?;
    Ok(pickup)
}

/// Until the window starts a seller may still change its mind.
fn changeable(p: &Pickup, now: DateTime<Utc>, what: &str) -> Result<(), AppError> {
    if !matches!(p.status, PickupStatus::Scheduled | PickupStatus::Accepted) {
        return Err(AppError::Conflict(format!(
            "This pickup is {}: it can no longer be {what}.",
            p.status.label().to_lowercase()
        )));
    }
    if now.naive_utc() >= p.window_start {
        return Err(AppError::Conflict(format!(
            "The window has started: the pickup can no longer be {what}."
        )));
    }
    Ok(())
}

/// Hands every parcel still open in a pickup back to the seller (booked again).
pub(crate) fn release_items(conn: &mut DbConn, pickup_id: &str) -> Result<(), AppError> {
    for (item, s) in db::pickups::items(conn, &[pickup_id.to_string()])? {
        if !item.open {
            continue;
        }
        db::pickups::close_item(conn, pickup_id, &s.id, Outcome::NotCollected)?;
        // A parcel the seller cancelled meanwhile stays cancelled.
        if s.status == Status::PickupScheduled {
            crate::services::shipments::change_status(conn, &s, Status::Booked)?;
        }
    }
    Ok(())
}

/// A shipment the seller cancelled leaves its open pickup, in the transaction that cancels
/// it: the courier no longer sees or scans it. A pickup left with no parcel is cancelled, its
/// place freed, and the courier who accepted it is mailed. One the courier has arrived at
/// stays, for the courier to close.
pub(crate) fn shipment_cancelled(c: &mut DbConn, shipment_id: &str) -> Result<(), AppError> {
    let Some(pickup_id) = db::pickups::open_pickup_of(c, shipment_id)? else {
        return Ok(());
    };
    db::pickups::remove_item(c, &pickup_id, shipment_id)?;
    let left = db::pickups::items(c, std::slice::from_ref(&pickup_id))?
        .iter()
        .filter(|(i, _)| i.open)
        .count();
    let Some(p) = db::pickups::find(c, &pickup_id)? else {
        return Ok(());
    };
    if left > 0 || !p.status.can_move_to(PickupStatus::Cancelled) {
        return Ok(());
    }
    if !set_status(c, &p, PickupStatus::Cancelled)? {
        return Err(AppError::Conflict(
            "The pickup of this shipment just changed; reload and try again.".into(),
        ));
    }
    db::pickups::release_slot(c, &p.area_id, &p.date, &p.window_label)?;
    if let Some(courier) = p.courier_id.as_deref() {
        if let Some(courier) = db::users::find(c, courier)? {
            mail::emptied(&p)?.enqueue(c, &courier.email)?;
        }
    }
    Ok(())
}

/// Cancels a pickup until its window starts; its place and parcels are freed.
pub fn cancel(
    conn: &mut DbConn,
    seller_id: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Pickup, AppError> {
    db::write_tx(conn, |c| {
        let p = db::pickups::find_for_seller(c, seller_id, id)?.ok_or(AppError::NotFound)?;
        if p.status == PickupStatus::Cancelled {
            return Ok(());
        }
        changeable(&p, now, "cancelled")?;
        if !set_status(c, &p, PickupStatus::Cancelled)? {
            return Err(AppError::Conflict(
                "This pickup just changed; reload and try again.".into(),
            ));
        }
        db::pickups::release_slot(c, &p.area_id, &p.date, &p.window_label)?;
        release_items(c, &p.id)
    })?;
    db::pickups::find_for_seller(conn, seller_id, id)?.ok_or(AppError::NotFound)
}

/// Moves a pickup to another date and window of its area until the old window starts.
pub fn reschedule(
    conn: &mut DbConn,
    seller_id: &str,
    id: &str,
    date: &str,
    window: &str,
    now: DateTime<Utc>,
    settings: &Settings,
) -> Result<Pickup, AppError> {
    let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
        .map_err(|_| refuse("date", "Give the date as 2026-12-01."))?;
    let p = db::pickups::find_for_seller(conn, seller_id, id)?.ok_or(AppError::NotFound)?;
    let area = db::areas::find(conn, &p.area_id)?.ok_or(AppError::NotFound)?;
    let spec = area.spec().map_err(AppError::internal)?;
    let w = spec.check(date, window, now).map_err(refusal)?;
    let (start, end) = spec.utc_range(date, w);
    let (new_date, new_window) = (date.to_string(), w.label());
    // The seller is told the new time (the "booked" mail names the old one); rendered before
    // the transaction, queued in it.
    let seller = db::users::find(conn, seller_id)?.ok_or(AppError::NotFound)?;
    let parcels = db::pickups::items(conn, &[p.id.to_string()])?.len();
    let notice = mail::rescheduled(
        &Pickup {
            date: new_date.clone(),
            window_label: new_window.clone(),
            ..p.clone()
        },
        &area.name,
        parcels,
        settings,
    )?;
    db::write_tx(conn, |c| {
        let p = db::pickups::find_for_seller(c, seller_id, id)?.ok_or(AppError::NotFound)?;
        changeable(&p, now, "rescheduled")?;
        if p.date == new_date && p.window_label == new_window {
            return Ok(());
        }
        // Both counter rows are locked in key order, so two pickups swapping windows at
        // once cannot deadlock on PostgreSQL (a failed take rolls the release back).
        let release_first =
            (p.date.as_str(), p.window_label.as_str()) < (new_date.as_str(), new_window.as_str());
        if release_first {
            db::pickups::release_slot(c, &p.area_id, &p.date, &p.window_label)?;
        }
        if !db::pickups::take_slot(c, &p.area_id, &new_date, &new_window, spec.capacity)? {
            return Err(AppError::Conflict(FULL.into()));
        }
        if !release_first {
            db::pickups::release_slot(c, &p.area_id, &p.date, &p.window_label)?;
        }
        if !db::pickups::reschedule(c, &p, &new_date, &new_window, (start, end))? {
            return Err(AppError::Conflict(
                "This pickup just changed; reload and try again.".into(),
            ));
        }
        if p.status != PickupStatus::Scheduled {
            let moved = Pickup {
                date: new_date.clone(),
                window_label: new_window.clone(),
                ..p.clone()
            };
            announce(c, &moved, Some(p.status), PickupStatus::Scheduled)?;
        }
        notice.enqueue(c, &seller.email)?;
        Ok(())
    })?;
    db::pickups::find_for_seller(conn, seller_id, id)?.ok_or(AppError::NotFound)
}
