//! A measured shipment as its seller sees it, and the seller's dispute of a charge, decided
//! by an admin.

use std::collections::BTreeMap;

use crate::error::AppError;
use crate::services::notices;
use crate::services::wallet::{self, Kind, Posting};
use waybill_db::shipments::Shipment;
use waybill_db::warehouse::{self as store, Adjustment};
use waybill_db::{self as db, DbConn};
use waybill_domain::{Currency, Money};

use super::*;

/// A shipment's measurement and adjustment, for its seller, with `due` as what is still owed
/// now (the record keeps what was due when measured; later credits settle it).
pub fn adjustment_for_seller(
    conn: &mut DbConn,
    seller_id: &str,
    shipment_id: &str,
) -> Result<Option<Adjustment>, AppError> {
    let Some(mut a) = store::adjustment_of(conn, shipment_id)?.filter(|a| a.seller_id == seller_id)
    else {
        return Ok(None);
    };
    if a.due > 0 {
        a.due = store::open_due_of(conn, shipment_id)?.map_or(0, |d| d.outstanding);
    }
    Ok(Some(a))
}

/// Whether the seller may still dispute this adjustment, and if not, why.
pub fn dispute_refusal(a: &Adjustment, now: chrono::NaiveDateTime) -> Option<String> {
    if a.amount <= 0 {
        return Some("Only a charge can be disputed.".into());
    }
    if a.dispute_status.is_some() {
        return Some("This adjustment has been disputed already.".into());
    }
    if now > a.created_at + chrono::Duration::days(DISPUTE_DAYS) {
        return Some(format!(
            "Adjustments can be disputed within {DISPUTE_DAYS} days; this one is older."
        ));
    }
    None
}

/// The seller disputes a weight charge with a note (within 7 days, once).
pub fn dispute(
    conn: &mut DbConn,
    seller_id: &str,
    shipment_id: &str,
    note: &str,
) -> Result<Adjustment, AppError> {
    let note = match waybill_domain::text::clean_lines(note, "note", 1_000) {
        Ok(Some(n)) => n,
        Ok(None) => {
            return Err(AppError::validation(BTreeMap::from([(
                "note".to_string(),
                "Say why the measurement is wrong (e.g. the parcel's real weight and how you weighed it)."
                    .to_string(),
            )])));
        }
        Err(e) => {
            return Err(AppError::validation(BTreeMap::from([(
                "note".to_string(),
                e,
            )])));
        }
    };
    db::write_tx(conn, |c| {
        let a = adjustment_for_seller(c, seller_id, shipment_id)?.ok_or(AppError::NotFound)?;
        let now = db::now();
        if let Some(why) = dispute_refusal(&a, now) {
            return Err(AppError::Conflict(why));
        }
        if !store::open_dispute(c, shipment_id, &note, now)? {
            return Err(AppError::Conflict(
                "This adjustment has been disputed already.".into(),
            ));
        }
        Ok(())
    })?;
    store::adjustment_of(conn, shipment_id)?.ok_or(AppError::NotFound)
}

/// An admin closes a dispute: `refund` gives the whole adjustment back (first taking it off
/// what is still due for the shipment), otherwise it is upheld. Both keep the admin's note.
pub fn resolve(
    conn: &mut DbConn,
    admin_id: &str,
    shipment_id: &str,
    refund: bool,
    note: &str,
    currency: Currency,
) -> Result<Adjustment, AppError> {
    let note = match waybill_domain::text::clean(note, "note", 1_000) {
        Ok(Some(n)) => n.to_string(),
        Ok(None) => {
            return Err(AppError::validation(BTreeMap::from([(
                "note".to_string(),
                "Write the reason for the decision: the seller reads it.".to_string(),
            )])));
        }
        Err(e) => {
            return Err(AppError::validation(BTreeMap::from([(
                "note".to_string(),
                e,
            )])));
        }
    };
    db::write_tx(conn, |c| {
        let a = store::adjustment_of(c, shipment_id)?.ok_or(AppError::NotFound)?;
        // What the seller owes changes only under the wallet's lock (credits settle dues
        // under it too), taken before the amount due is read.
        waybill_db::ledger::lock_wallet(c, &a.seller_id)?;
        let status = if refund {
            DisputeStatus::Refunded
        } else {
            DisputeStatus::Upheld
        };
        let now = db::now();
        if !store::resolve_dispute(c, shipment_id, status, &note, admin_id, now)? {
            return Err(AppError::Conflict(
                "This dispute is not open (resolved meanwhile?).".into(),
            ));
        }
        if refund {
            let mut left = a.amount;
            if let Some(due) = store::open_due_of(c, shipment_id)? {
                let take = due.outstanding.min(left);
                store::reduce_due(c, &due.id, take, now)?;
                waybill_db::ledger::add_due(c, &a.seller_id, -take)?;
                left -= take;
            }
            if left > 0 {
                let key = format!("dispute-refund:{shipment_id}");
                wallet::post_in(
                    c,
                    &Posting {
                        key: &key,
                        kind: Kind::AdjustRefund,
                        seller_id: &a.seller_id,
                        amount: Money::new(left, currency),
                        shipment_id: Some(shipment_id),
                        payment_intent_id: None,
                        note: Some(&note),
                        actor_id: Some(admin_id),
                    },
                )?;
            }
        }
        let shipment = tracking_shipment(c, shipment_id)?.ok_or(AppError::NotFound)?;
        notices::dispute_resolved(c, &shipment, &a, refund, &note, currency)?;
        Ok(())
    })?;
    store::adjustment_of(conn, shipment_id)?.ok_or(AppError::NotFound)
}

/// Open disputes, oldest first, with their shipments and the seller's e-mail.
pub fn open_disputes(
    conn: &mut DbConn,
    limit: i64,
) -> Result<Vec<(Adjustment, Shipment, String)>, AppError> {
    let open = store::open_disputes(conn, limit)?;
    let mut rows = Vec::with_capacity(open.len());
    for (a, s) in open {
        let seller = db::users::find(conn, &a.seller_id)?
            .map(|u| u.email)
            .unwrap_or_default();
        rows.push((a, s, seller));
    }
    Ok(rows)
}
