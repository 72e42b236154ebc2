//! Status changes with their consequences. `change_status` is the one way a service moves a
//! shipment: it applies the lifecycle rule (`db::shipments::set_status`) and, in the same
//! transaction, queues the `shipment.status_changed` webhook. Pickups, courier scans, warehouse
//! scans and carrier tracking must call it, not `set_status`, or sellers miss the event.

use serde::Serialize;

use crate::error::AppError;
use crate::services::{notices, wallet, warehouse, webhooks};
pub use waybill_db::shipments::{ActionCounts, Filter, Shipment, ShipmentEvent};
use waybill_db::warehouse::Adjustment;
use waybill_db::{self as db, DbConn};
use waybill_domain::Status;

#[derive(Serialize)]
struct StatusChanged<'a> {
    shipment_id: &'a str,
    tracking_number: &'a str,
    status: &'a str,
    previous_status: &'a str,
}

/// Moves `shipment` (as loaded, in `shipment.status`) to `to` inside the caller's transaction
/// and queues the webhook. `Ok(false)` if the shipment moved meanwhile (reload and decide
/// again); nothing is queued then. Delivered, delivery failed and exception also mail the
/// seller (`services::notices`, unless turned off).
pub fn change_status(conn: &mut DbConn, shipment: &Shipment, to: Status) -> Result<bool, AppError> {
    if !db::shipments::set_status(conn, &shipment.id, shipment.status, to)? {
        return Ok(false);
    }
    webhooks::enqueue(
        conn,
        &shipment.seller_id,
        "shipment.status_changed",
        &StatusChanged {
            shipment_id: &shipment.id,
            tracking_number: &shipment.tracking_number,
            status: to.as_str(),
            previous_status: shipment.status.as_str(),
        },
    )?;
    notices::status_changed(conn, shipment, to)?;
    Ok(true)
}

#[derive(Serialize)]
struct Measurement {
    weight_g: i64,
    length_mm: i64,
    width_mm: i64,
    height_mm: i64,
    chargeable_weight_g: i64,
}

#[derive(Serialize)]
struct MoneyOut<'a> {
    amount: i64,
    currency: &'a str,
}

#[derive(Serialize)]
struct WeightAdjusted<'a> {
    shipment_id: &'a str,
    tracking_number: &'a str,
    status: &'a str,
    declared: Measurement,
    measured: Measurement,
    /// Positive: charged to the seller; negative: refunded; zero: within tolerance or held.
    adjustment: MoneyOut<'a>,
    amount_due: MoneyOut<'a>,
    result: &'a str,
    held_reason: Option<&'a str>,
}

/// Queues `shipment.weight_adjusted` (the warehouse measured the parcel) in the caller's
/// transaction.
pub fn weight_adjusted(
    conn: &mut DbConn,
    shipment: &Shipment,
    a: &Adjustment,
) -> Result<(), AppError> {
    webhooks::enqueue(
        conn,
        &shipment.seller_id,
        "shipment.weight_adjusted",
        &WeightAdjusted {
            shipment_id: &shipment.id,
            tracking_number: &shipment.tracking_number,
            status: shipment.status.as_str(),
            declared: Measurement {
                weight_g: a.declared_weight_g,
                length_mm: a.declared_length_mm,
                width_mm: a.declared_width_mm,
                height_mm: a.declared_height_mm,
                chargeable_weight_g: a.declared_chargeable_g,
            },
            measured: Measurement {
                weight_g: a.measured_weight_g,
                length_mm: a.measured_length_mm,
                width_mm: a.measured_width_mm,
                height_mm: a.measured_height_mm,
                chargeable_weight_g: a.measured_chargeable_g,
            },
            adjustment: MoneyOut {
                amount: a.amount,
                currency: &a.currency,
            },
            amount_due: MoneyOut {
                amount: a.due,
                currency: &a.currency,
            },
            result: a.outcome.as_str(),
            held_reason: a.held_reason.as_deref(),
        },
    )?;
    Ok(())
}

/// How many of the seller's shipments the filter finds.
pub fn count(conn: &mut DbConn, seller_id: &str, f: &Filter) -> Result<i64, AppError> {
    Ok(db::shipments::count(conn, seller_id, f)?)
}

/// One page of the seller's shipments the filter finds, newest first.
pub fn list(
    conn: &mut DbConn,
    seller_id: &str,
    f: &Filter,
    offset: i64,
    limit: i64,
) -> Result<Vec<Shipment>, AppError> {
    Ok(db::shipments::list(conn, seller_id, f, offset, limit)?)
}

/// When each of these shipments was last scanned (by anyone), by shipment id.
pub fn last_scans(
    conn: &mut DbConn,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, Option<chrono::NaiveDateTime>>, AppError> {
    Ok(db::shipments::last_scans(conn, ids)?.into_iter().collect())
}

/// One of the seller's shipments with its events and its weight adjustment, if measured.
pub struct Detail {
    pub shipment: Shipment,
    pub events: Vec<ShipmentEvent>,
    pub adjustment: Option<Adjustment>,
}

pub fn detail(conn: &mut DbConn, seller_id: &str, id: &str) -> Result<Detail, AppError> {
    let shipment = db::shipments::find(conn, seller_id, id)?.ok_or(AppError::NotFound)?;
    let events = db::shipments::events(conn, &shipment.id)?;
    let adjustment = warehouse::adjustment_for_seller(conn, seller_id, &shipment.id)?;
    Ok(Detail {
        shipment,
        events,
        adjustment,
    })
}

/// What the seller's dashboard shows.
pub struct Dashboard {
    /// Owed beyond the balance (minor units); bookings wait until it is paid.
    pub due: i64,
    pub balance: waybill_domain::Money,
    pub recent: Vec<Shipment>,
    pub total: i64,
    pub actions: ActionCounts,
    pub has_address: bool,
    pub topped_up: bool,
}

pub fn dashboard(
    conn: &mut DbConn,
    seller_id: &str,
    currency: waybill_domain::Currency,
) -> Result<Dashboard, AppError> {
    let filter = Filter::default();
    Ok(Dashboard {
        due: db::ledger::balance_and_due(conn, seller_id)?.1,
        balance: wallet::balance(conn, seller_id, currency)?,
        recent: db::shipments::list(conn, seller_id, &filter, 0, 5)?,
        total: db::shipments::count(conn, seller_id, &filter)?,
        actions: db::shipments::action_counts(conn, seller_id)?,
        has_address: !db::addresses::list(conn, seller_id)?.is_empty(),
        topped_up: db::ledger::statement_count(conn, seller_id)? > 0,
    })
}
