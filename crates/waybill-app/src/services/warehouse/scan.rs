//! Recording an inbound scan: the verified event, the measurement priced on the rate card,
//! and the freight difference settled through the wallet once.

use std::collections::BTreeMap;

use crate::error::AppError;
use crate::services::notices;
use crate::services::tracking::{self, EventInput, Recorded};
use crate::services::wallet::{self, Kind, Posting};
use waybill_db::shipments::Shipment;
use waybill_db::warehouse::{self as store, Adjustment, AmountDue, Scan};
use waybill_db::{self as db, DbConn};
use waybill_domain::{Currency, Money, Status};
use waybill_domain::{Parcel, format_weight};

use super::*;

/// Records one inbound scan. A replayed `scan_id` answers what the first one did.
pub fn scan(
    conn: &mut DbConn,
    warehouse_id: &str,
    r: &ScanRequest,
    s: &Settings,
) -> Result<ScanOutcome, AppError> {
    if let Some(done) = store::find_scan(conn, warehouse_id, &r.scan_id)? {
        return replay(conn, &done, r);
    }
    match db::write_tx(conn, |c| scan_once(c, warehouse_id, r, s)) {
        Err(e) if e.is_unique_violation() => {
            match store::find_scan(conn, warehouse_id, &r.scan_id)? {
                // The same scan id sent twice at once: the other one did it.
                Some(done) => replay(conn, &done, r),
                // Another scan of this parcel measured it at the same moment.
                None => Err(AppError::Conflict(
                    "This parcel was scanned somewhere else at the same moment; scan it again."
                        .into(),
                )),
            }
        }
        other => other,
    }
}

fn replay(conn: &mut DbConn, done: &Scan, r: &ScanRequest) -> Result<ScanOutcome, AppError> {
    let shipment = tracking_shipment(conn, &done.shipment_id)?.ok_or(AppError::NotFound)?;
    if !shipment
        .tracking_number
        .eq_ignore_ascii_case(&r.tracking_number)
        || (done.weight_g, done.length_mm, done.width_mm, done.height_mm)
            != (r.weight_g, r.length_mm, r.width_mm, r.height_mm)
    {
        return Err(AppError::Conflict(
            "This scan_id was already used for another scan.".into(),
        ));
    }
    let adjustment = store::adjustment_of(conn, &shipment.id)?.filter(|a| a.scan_id == done.id);
    Ok(outcome(&shipment, done, adjustment.as_ref(), true))
}

fn outcome(
    shipment: &Shipment,
    scan: &Scan,
    a: Option<&Adjustment>,
    replayed: bool,
) -> ScanOutcome {
    let currency = Currency::parse(&shipment.currency).ok();
    let money = |minor: i64| {
        currency
            .map(|c| MoneyJson::from(Money::new(minor, c)))
            .unwrap_or(MoneyJson {
                amount: minor,
                currency: shipment.currency.clone(),
            })
    };
    let (result, adjustment, due, chargeable, held) = match a {
        None => (
            ScanResult::AlreadyMeasured,
            None,
            None,
            shipment.chargeable_weight_g,
            None,
        ),
        Some(a) => (
            match a.outcome {
                AdjustmentOutcome::Held => ScanResult::Held,
                AdjustmentOutcome::WithinTolerance => ScanResult::WithinTolerance,
                AdjustmentOutcome::Charged | AdjustmentOutcome::Refunded => ScanResult::Adjusted,
            },
            (a.amount != 0).then(|| money(a.amount)),
            (a.due > 0).then(|| money(a.due)),
            a.measured_chargeable_g,
            a.held_reason.clone(),
        ),
    };
    ScanOutcome {
        shipment_id: shipment.id.to_string(),
        tracking_number: shipment.tracking_number.clone(),
        status: shipment.status.as_str(),
        declared: declared(shipment),
        measured: Measured {
            weight_g: scan.weight_g,
            length_mm: scan.length_mm,
            width_mm: scan.width_mm,
            height_mm: scan.height_mm,
        },
        chargeable_weight_g: chargeable,
        adjustment,
        amount_due: due,
        result,
        held_reason: held,
        replayed,
    }
}

fn scan_once(
    c: &mut DbConn,
    warehouse_id: &str,
    r: &ScanRequest,
    s: &Settings,
) -> Result<ScanOutcome, AppError> {
    let found = waybill_db::tracking::shipments_by_number(c, &[r.tracking_number.as_str()])?
        .into_iter()
        .next()
        .ok_or_else(|| {
            AppError::validation(BTreeMap::from([(
                "tracking_number".to_string(),
                format!("No shipment has the tracking number {}.", r.tracking_number),
            )]))
        })?;
    // The seller's wallet is locked first, as a cancellation locks it before it moves the
    // status: the status read after it is final (a parcel cancelled meanwhile is refused, not
    // charged). Every change to what the seller owes happens under this lock.
    waybill_db::ledger::lock_wallet(c, &found.seller_id)?
        .ok_or_else(|| AppError::internal("a booked shipment's seller has no wallet"))?;
    let shipment = tracking_shipment(c, &found.id)?.ok_or(AppError::NotFound)?;
    if matches!(
        shipment.status,
        Status::Cancelled | Status::Delivered | Status::Returned | Status::Draft
    ) {
        return Err(AppError::Conflict(format!(
            "{} is {}: set it aside for the seller, do not ship it.",
            shipment.tracking_number,
            shipment.status.label().to_lowercase()
        )));
    }
    let now = db::now();
    let scan = Scan {
        id: db::new_id(),
        scan_id: r.scan_id.clone(),
        warehouse_id: warehouse_id.to_string(),
        shipment_id: shipment.id.to_string(),
        weight_g: r.weight_g,
        length_mm: r.length_mm,
        width_mm: r.width_mm,
        height_mm: r.height_mm,
        location: r.location.clone(),
        created_at: now,
    };
    store::insert_scan(c, &scan)?;
    // A parcel measured before: the scan is kept, nothing else happens (a held parcel is
    // still said to be held).
    if let Some(earlier) = store::adjustment_of(c, &shipment.id)? {
        let held = (earlier.outcome == AdjustmentOutcome::Held).then_some(&earlier);
        let mut o = outcome(&shipment, &scan, held, false);
        if held.is_some() {
            o.adjustment = None;
            o.amount_due = None;
        }
        return Ok(o);
    }
    let mut adjustment = measure(c, &shipment, &scan, s)?;
    // Claims the shipment's one adjustment: a concurrent scan of the parcel fails here.
    store::insert_adjustment(c, &adjustment)?;
    settle_money(c, &shipment, &mut adjustment, s)?;
    record_receipt(c, &shipment, warehouse_id, r, &scan, &adjustment)?;
    if adjustment.held_reason.is_none() && adjustment.amount != 0 {
        notices::weight_adjusted(c, &shipment, &adjustment, s.currency)?;
    }
    let after = tracking_shipment(c, &shipment.id)?.unwrap_or(shipment);
    crate::services::shipments::weight_adjusted(c, &after, &adjustment)?;
    Ok(outcome(&after, &scan, Some(&adjustment), false))
}

/// The scan's verified `at_origin_facility` event, and the `exception` that holds the parcel
/// when the measurement put it over the channel's limits.
fn record_receipt(
    c: &mut DbConn,
    shipment: &Shipment,
    warehouse_id: &str,
    r: &ScanRequest,
    scan: &Scan,
    adjustment: &Adjustment,
) -> Result<(), AppError> {
    let source = tracking::warehouse_source(warehouse_id);
    let size = match (r.length_mm, r.width_mm, r.height_mm) {
        (Some(l), Some(w), Some(h)) => format!(", {l}×{w}×{h} mm"),
        _ => String::new(),
    };
    let recorded = tracking::record_in(
        c,
        shipment,
        EventInput {
            source: source.clone(),
            source_event_id: Some(r.scan_id.clone()),
            status: Status::AtOriginFacility,
            code: None,
            occurred_at: scan.created_at,
            location: r.location.clone(),
            description: format!(
                "Received at the warehouse and measured: {}{size}.",
                format_weight(r.weight_g)
            ),
            raw: None,
        },
    )?;
    if recorded == Recorded::Duplicate {
        return Err(AppError::Conflict(
            "This scan id was already used; send a new one for a new scan.".into(),
        ));
    }
    let Some(why) = &adjustment.held_reason else {
        return Ok(());
    };
    let held = tracking::record_in(
        c,
        shipment,
        EventInput {
            source,
            // Waybill's own id for the scan: no scanner-chosen id can take it first.
            source_event_id: Some(format!("held:{}", scan.id)),
            status: Status::Exception,
            code: None,
            occurred_at: scan.created_at + chrono::Duration::milliseconds(1),
            location: r.location.clone(),
            description: format!("Held at the warehouse: {why}"),
            raw: None,
        },
    )?;
    if held == Recorded::Duplicate {
        return Err(AppError::internal("the held event was already recorded"));
    }
    Ok(())
}

/// Prices the parcel as declared and as measured on the channel's current rate card.
fn measure(
    c: &mut DbConn,
    shipment: &Shipment,
    scan: &Scan,
    s: &Settings,
) -> Result<Adjustment, AppError> {
    let channel =
        waybill_db::channels::find(c, &shipment.channel_code)?.ok_or(AppError::NotFound)?;
    let spec = channel.spec()?;
    let was = declared(shipment);
    let now = Parcel {
        weight_g: scan.weight_g,
        length_mm: scan.length_mm.unwrap_or(was.length_mm),
        width_mm: scan.width_mm.unwrap_or(was.width_mm),
        height_mm: scan.height_mm.unwrap_or(was.height_mm),
    };
    let before = spec.quote(&was, &shipment.recipient_country);
    let after = spec.quote(&now, &shipment.recipient_country);
    let declared_price = before
        .price
        .as_ref()
        .map(|p| p.total)
        .unwrap_or(shipment.price_amount);
    // Held only for what the measurement shows (too heavy, too long…): a reason the parcel
    // as declared shares — the channel stopped serving the destination, its limits changed —
    // is not the parcel's doing.
    let measured_reasons: Vec<&str> = after
        .reasons
        .iter()
        .filter(|r| !before.reasons.contains(r))
        .map(String::as_str)
        .collect();
    let (measured_price, amount, outcome, held) = match &after.price {
        Some(p) if after.eligible => {
            let diff_g = (after.chargeable_weight_g - before.chargeable_weight_g).abs();
            let allowed = s
                .tolerance_g
                .max(before.chargeable_weight_g * s.tolerance_percent / 100);
            // A refund gives back at most what the shipment still holds (a rate card raised
            // since booking can make the difference larger than the freight paid).
            let mut amount = p.total - declared_price;
            if amount < 0 {
                let holds = waybill_db::ledger::net_charged_for_shipment(c, &shipment.id)?;
                amount = amount.max(-holds.max(0));
            }
            if diff_g <= allowed || amount == 0 {
                (p.total, 0, AdjustmentOutcome::WithinTolerance, None)
            } else if amount > 0 {
                (p.total, amount, AdjustmentOutcome::Charged, None)
            } else {
                (p.total, amount, AdjustmentOutcome::Refunded, None)
            }
        }
        _ if !measured_reasons.is_empty() => (
            declared_price,
            0,
            AdjustmentOutcome::Held,
            Some(measured_reasons.join(" ")),
        ),
        // Not priced as measured, but for a reason the declared parcel shares: nothing moves.
        _ => (declared_price, 0, AdjustmentOutcome::WithinTolerance, None),
    };
    Ok(Adjustment {
        shipment_id: shipment.id.to_string(),
        seller_id: shipment.seller_id.to_string(),
        scan_id: scan.id.clone(),
        declared_weight_g: was.weight_g,
        declared_length_mm: was.length_mm,
        declared_width_mm: was.width_mm,
        declared_height_mm: was.height_mm,
        declared_chargeable_g: before.chargeable_weight_g,
        measured_weight_g: now.weight_g,
        measured_length_mm: now.length_mm,
        measured_width_mm: now.width_mm,
        measured_height_mm: now.height_mm,
        measured_chargeable_g: after.chargeable_weight_g,
        declared_price,
        measured_price,
        amount,
        charged: 0,
        due: 0,
        currency: shipment.currency.clone(),
        outcome,
        held_reason: held,
        created_at: scan.created_at,
        dispute_status: None,
        dispute_note: None,
        disputed_at: None,
        resolution_note: None,
        resolved_by: None,
        resolved_at: None,
    })
}

/// Charges or refunds the difference; what the balance cannot cover becomes an amount due.
/// Writes what happened back onto `a` (already inserted).
fn settle_money(
    c: &mut DbConn,
    shipment: &Shipment,
    a: &mut Adjustment,
    s: &Settings,
) -> Result<(), AppError> {
    let key = format!("weight-adjust:{}", shipment.id);
    let note = format!(
        "Measured {} (declared {})",
        format_weight(a.measured_weight_g),
        format_weight(a.declared_weight_g)
    );
    let posting = |kind, amount| Posting {
        key: &key,
        kind,
        seller_id: &shipment.seller_id,
        amount: Money::new(amount, s.currency),
        shipment_id: Some(&shipment.id),
        payment_intent_id: None,
        note: Some(&note),
        actor_id: None,
    };
    if a.amount < 0 {
        wallet::post_in(c, &posting(Kind::AdjustRefund, -a.amount))?;
        return Ok(());
    }
    if a.amount == 0 {
        return Ok(());
    }
    let (balance, _) = waybill_db::ledger::lock_wallet(c, &shipment.seller_id)?
        .ok_or_else(|| AppError::internal("a booked shipment's seller has no wallet"))?;
    let charged = a.amount.min(balance);
    let due = a.amount - charged;
    if charged > 0 {
        wallet::post_in(c, &posting(Kind::AdjustCharge, charged))?;
    }
    if due > 0 {
        store::insert_due(
            c,
            &AmountDue {
                id: db::new_id(),
                seller_id: shipment.seller_id.to_string(),
                shipment_id: shipment.id.to_string(),
                amount: due,
                outstanding: due,
                currency: shipment.currency.clone(),
                created_at: db::now(),
                settled_at: None,
            },
        )?;
        waybill_db::ledger::add_due(c, &shipment.seller_id, due)?;
    }
    store::set_settled(c, &shipment.id, charged, due)?;
    a.charged = charged;
    a.due = due;
    Ok(())
}

/// The warehouse's latest scans with their parcels and the adjustment each parcel got.
pub fn recent_scans(
    conn: &mut DbConn,
    warehouse_id: &str,
    limit: i64,
) -> Result<Vec<(Scan, Shipment, Option<Adjustment>)>, AppError> {
    let scans = store::recent_scans(conn, warehouse_id, limit)?;
    let ids: Vec<&str> = scans.iter().map(|(_, s)| s.id.as_str()).collect();
    let adjustments: std::collections::HashMap<String, Adjustment> =
        store::adjustments_of(conn, &ids)?
            .into_iter()
            .map(|a| (a.shipment_id.clone(), a))
            .collect();
    Ok(scans
        .into_iter()
        .map(|(sc, s)| {
            // A parcel scanned twice shows its adjustment on both lines.
            let a = adjustments.get(s.id.as_str()).cloned();
            (sc, s, a)
        })
        .collect())
}
