//! A parcel held at the warehouse, released as its seller chose.

use crate::error::AppError;
use crate::services::wallet::{self, Kind, Posting};
use waybill_db::shipments::Shipment;
use waybill_db::{self as db, DbConn};
use waybill_domain::{Currency, Money, Status};

use super::*;

/// What the seller does with a parcel held at the warehouse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeldChoice {
    /// Sent back to the seller (`returned`).
    SendBack,
    /// Given up on this channel to be booked on another (`cancelled`).
    Rebook,
}

/// Settles a held parcel as the seller chose: its freight (with any weight charge on it) is
/// refunded — it never travelled — and the shipment is returned or cancelled. Returns the
/// shipment as it was and the amount refunded.
pub fn release_held(
    conn: &mut DbConn,
    seller_id: &str,
    shipment_id: &str,
    choice: HeldChoice,
    currency: Currency,
) -> Result<(Shipment, i64), AppError> {
    db::write_tx(conn, |c| {
        let a = adjustment_for_seller(c, seller_id, shipment_id)?.ok_or(AppError::NotFound)?;
        waybill_db::ledger::lock_wallet(c, seller_id)?;
        let s = tracking_shipment(c, shipment_id)?.ok_or(AppError::NotFound)?;
        if a.outcome != AdjustmentOutcome::Held || s.status != Status::Exception {
            return Err(AppError::Conflict(
                "Only a parcel held at the warehouse can be sent back or booked again from here."
                    .into(),
            ));
        }
        let (to, note, said) = match choice {
            HeldChoice::SendBack => (
                Status::Returned,
                "Held at the warehouse and returned to the seller",
                "The seller asked for the held parcel back; the freight was refunded.",
            ),
            HeldChoice::Rebook => (
                Status::Cancelled,
                "Held at the warehouse; cancelled to be booked on another channel",
                "The seller cancelled the held parcel to book it on another channel; the freight was refunded.",
            ),
        };
        if !crate::services::shipments::change_status(c, &s, to)? {
            return Err(AppError::Conflict(
                "This shipment changed meanwhile; reload and try again.".into(),
            ));
        }
        let held = waybill_db::ledger::net_charged_for_shipment(c, shipment_id)?;
        if held > 0 {
            let key = format!("refund:{shipment_id}");
            wallet::post_in(
                c,
                &Posting {
                    key: &key,
                    kind: Kind::Refund,
                    seller_id,
                    amount: Money::new(held, currency),
                    shipment_id: Some(shipment_id),
                    payment_intent_id: None,
                    note: Some(note),
                    actor_id: None,
                },
            )?;
        }
        waybill_db::shipments::insert_event(
            c,
            &waybill_db::shipments::ShipmentEvent::system(
                shipment_id,
                to,
                db::now(),
                None,
                said.into(),
            ),
        )?;
        Ok((s, held))
    })
}
