//! Status changes with their consequences. `change_status` is the one way a service moves a
//! shipment: it applies the lifecycle rule (`db::shipments::set_status`) and, in the same
//! transaction, queues the `shipment.status_changed` webhook. Pickups, courier scans, warehouse
//! scans and carrier tracking must call it, not `set_status`, or sellers miss the event.

use serde::Serialize;

use crate::db::shipments::Shipment;
use crate::db::warehouse::Adjustment;
use crate::db::{self, DbConn};
use crate::domain::Status;
use crate::error::AppError;
use crate::services::{notices, webhooks};

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
            result: &a.outcome,
            held_reason: a.held_reason.as_deref(),
        },
    )?;
    Ok(())
}
