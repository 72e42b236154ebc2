//! Status changes with their consequences. `change_status` is the one way a service moves a
//! shipment: it applies the lifecycle rule (`db::shipments::set_status`) and, in the same
//! transaction, queues the `shipment.status_changed` webhook. Pickups, courier scans, warehouse
//! scans and carrier tracking must call it, not `set_status`, or sellers miss the event.

use serde::Serialize;

use crate::db::shipments::Shipment;
use crate::db::{self, DbConn};
use crate::domain::Status;
use crate::services::webhooks;

#[derive(Serialize)]
struct StatusChanged<'a> {
    shipment_id: &'a str,
    tracking_number: &'a str,
    status: &'a str,
    previous_status: &'a str,
}

/// Moves `shipment` (as loaded, in `shipment.status`) to `to` inside the caller's transaction
/// and queues the webhook. `Ok(false)` if the shipment moved meanwhile (reload and decide
/// again); nothing is queued then.
pub fn change_status(
    conn: &mut DbConn,
    shipment: &Shipment,
    to: Status,
) -> diesel::QueryResult<bool> {
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
    Ok(true)
}
