//! Warehouse receipt: an inbound scan records a verified `at_origin_facility` event with the
//! measured parcel, and the first scan that measures a shipment settles its freight
//! difference through the wallet (once, whatever is replayed): charged, refunded, or — when
//! the balance cannot cover it — recorded as an amount due that later credits settle first.
//! A parcel over its channel's limits is held (`exception`), not adjusted. Sellers may
//! dispute a charge within 7 days; admins refund or uphold it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::services::notices;
use crate::services::tracking::{self, EventInput, Recorded};
use crate::services::wallet::{self, Kind, Posting};
use waybill_db::shipments::Shipment;
use waybill_db::warehouse::{self as store, AmountDue};
pub use waybill_db::warehouse::{Adjustment, Scan};
use waybill_db::{self as db, DbConn};
use waybill_domain::{Currency, Money, Status};
use waybill_domain::{MAX_SIDE_MM, MAX_WEIGHT_G, Parcel, format_weight};

/// How long after an adjustment the seller may dispute it.
pub const DISPUTE_DAYS: i64 = 7;

/// What the scan service needs from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// A chargeable-weight difference up to the larger of these moves no money.
    pub tolerance_g: i64,
    pub tolerance_percent: i64,
    pub currency: Currency,
}

/// A scan as a machine (JSON) or the scan page (form) sends it.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct ScanInput {
    pub scan_id: Option<String>,
    pub tracking_number: Option<String>,
    pub weight_g: Option<i64>,
    pub length_mm: Option<i64>,
    pub width_mm: Option<i64>,
    pub height_mm: Option<i64>,
    pub location: Option<String>,
}

/// A checked scan.
#[derive(Clone, Debug)]
pub struct ScanRequest {
    pub scan_id: String,
    pub tracking_number: String,
    pub weight_g: i64,
    pub length_mm: Option<i64>,
    pub width_mm: Option<i64>,
    pub height_mm: Option<i64>,
    pub location: Option<String>,
}

impl ScanInput {
    pub fn parse(&self) -> Result<ScanRequest, BTreeMap<String, String>> {
        let mut errors = BTreeMap::new();
        let scan_id = match self.scan_id.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() && s.len() <= 128 && !s.chars().any(char::is_control) => {
                s.to_string()
            }
            _ => {
                errors.insert(
                    "scan_id".into(),
                    "Send the scan's own id (1 to 128 characters): a retry with it changes nothing."
                        .into(),
                );
                String::new()
            }
        };
        let number = crate::services::pickups::courier::normalise_barcode(
            self.tracking_number.as_deref().unwrap_or(""),
        );
        if number.is_empty()
            || number.len() > 40
            || !number.chars().all(|c| c.is_ascii_alphanumeric())
        {
            errors.insert(
                "tracking_number".into(),
                "Scan the label's tracking number.".into(),
            );
        }
        let weight_g = match self.weight_g {
            Some(w) if (1..=MAX_WEIGHT_G).contains(&w) => w,
            _ => {
                errors.insert(
                    "weight_g".into(),
                    format!("Enter the measured weight in grams, 1 to {MAX_WEIGHT_G}."),
                );
                0
            }
        };
        let mut side = |name: &str, v: Option<i64>| match v {
            None => None,
            Some(v) if (1..=MAX_SIDE_MM).contains(&v) => Some(v),
            Some(_) => {
                errors.insert(
                    name.to_string(),
                    format!("Enter a size in millimetres, 1 to {MAX_SIDE_MM}, or leave it out."),
                );
                None
            }
        };
        let length_mm = side("length_mm", self.length_mm);
        let width_mm = side("width_mm", self.width_mm);
        let height_mm = side("height_mm", self.height_mm);
        let given = [length_mm, width_mm, height_mm]
            .iter()
            .filter(|v| v.is_some())
            .count();
        if given != 0 && given != 3 {
            errors.insert(
                "length_mm".into(),
                "Give all three sizes (length, width, height) or none.".into(),
            );
        }
        let location =
            match waybill_domain::text::optional_text(self.location.as_deref(), "location", 200) {
                Ok(l) => l,
                Err(e) => {
                    errors.insert("location".into(), e);
                    None
                }
            };
        if errors.is_empty() {
            Ok(ScanRequest {
                scan_id,
                tracking_number: number,
                weight_g,
                length_mm,
                width_mm,
                height_mm,
                location,
            })
        } else {
            Err(errors)
        }
    }
}

/// A parcel as measured: sizes the scanner did not give are left out.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measured {
    pub weight_g: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length_mm: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width_mm: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height_mm: Option<i64>,
}

/// What a scan did (the JSON answer of `POST /api/v1/warehouse/scans`).
#[derive(Serialize, Clone, Debug)]
pub struct ScanOutcome {
    pub shipment_id: String,
    pub tracking_number: String,
    pub status: &'static str,
    pub declared: Parcel,
    pub measured: Measured,
    pub chargeable_weight_g: i64,
    /// Positive: owed by the seller; negative: refunded; `null` when nothing moved by this scan.
    pub adjustment: Option<MoneyJson>,
    /// Of a positive adjustment, what the wallet could not cover (recorded as due).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_due: Option<MoneyJson>,
    /// `adjusted`, `within_tolerance`, `held` or `already_measured`.
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_reason: Option<String>,
    /// True when this scan id was seen before: nothing happened this time.
    pub replayed: bool,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct MoneyJson {
    pub amount: i64,
    pub currency: String,
}

impl From<Money> for MoneyJson {
    fn from(m: Money) -> MoneyJson {
        MoneyJson {
            amount: m.minor,
            currency: m.currency.code().to_string(),
        }
    }
}

fn declared(s: &Shipment) -> Parcel {
    Parcel {
        weight_g: s.weight_g,
        length_mm: s.length_mm,
        width_mm: s.width_mm,
        height_mm: s.height_mm,
    }
}

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

fn tracking_shipment(conn: &mut DbConn, id: &str) -> Result<Option<Shipment>, AppError> {
    Ok(waybill_db::tracking::shipment_by_id(conn, id)?)
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
            "already_measured",
            None,
            None,
            shipment.chargeable_weight_g,
            None,
        ),
        Some(a) => (
            match a.outcome.as_str() {
                "held" => "held",
                "within_tolerance" => "within_tolerance",
                _ => "adjusted",
            },
            (a.amount != 0).then(|| money(a.amount)),
            (a.due > 0).then(|| money(a.due)),
            a.measured_chargeable_g,
            a.held_reason.clone(),
        ),
    };
    ScanOutcome {
        shipment_id: shipment.id.clone(),
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
        shipment_id: shipment.id.clone(),
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
        let held = (earlier.outcome == "held").then_some(&earlier);
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
    let source = tracking::warehouse_source(warehouse_id);
    let size = match (r.length_mm, r.width_mm, r.height_mm) {
        (Some(l), Some(w), Some(h)) => format!(", {l}×{w}×{h} mm"),
        _ => String::new(),
    };
    let recorded = tracking::record_in(
        c,
        &shipment,
        EventInput {
            source: source.clone(),
            source_event_id: Some(r.scan_id.clone()),
            status: Status::AtOriginFacility,
            code: None,
            occurred_at: now,
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
    if let Some(why) = &adjustment.held_reason {
        let held = tracking::record_in(
            c,
            &shipment,
            EventInput {
                source,
                // Waybill's own id for the scan: no scanner-chosen id can take it first.
                source_event_id: Some(format!("held:{}", scan.id)),
                status: Status::Exception,
                code: None,
                occurred_at: now + chrono::Duration::milliseconds(1),
                location: r.location.clone(),
                description: format!("Held at the warehouse: {why}"),
                raw: None,
            },
        )?;
        if held == Recorded::Duplicate {
            return Err(AppError::internal("the held event was already recorded"));
        }
    } else if adjustment.amount != 0 {
        notices::weight_adjusted(c, &shipment, &adjustment, s.currency)?;
    }
    let after = tracking_shipment(c, &shipment.id)?.unwrap_or(shipment);
    crate::services::shipments::weight_adjusted(c, &after, &adjustment)?;
    Ok(outcome(&after, &scan, Some(&adjustment), false))
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
                (p.total, 0, "within_tolerance", None)
            } else if amount > 0 {
                (p.total, amount, "charged", None)
            } else {
                (p.total, amount, "refunded", None)
            }
        }
        _ if !measured_reasons.is_empty() => {
            (declared_price, 0, "held", Some(measured_reasons.join(" ")))
        }
        // Not priced as measured, but for a reason the declared parcel shares: nothing moves.
        _ => (declared_price, 0, "within_tolerance", None),
    };
    Ok(Adjustment {
        shipment_id: shipment.id.clone(),
        seller_id: shipment.seller_id.clone(),
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
        outcome: outcome.to_string(),
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
                seller_id: shipment.seller_id.clone(),
                shipment_id: shipment.id.clone(),
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
        let status = if refund { "refunded" } else { "upheld" };
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
        if a.outcome != "held" || s.status != Status::Exception {
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
            let a = adjustments.get(&s.id).cloned();
            (sc, s, a)
        })
        .collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn charged(amount: i64, at: chrono::NaiveDateTime) -> Adjustment {
        Adjustment {
            shipment_id: "s".into(),
            seller_id: "u".into(),
            scan_id: "x".into(),
            declared_weight_g: 455,
            declared_length_mm: 200,
            declared_width_mm: 150,
            declared_height_mm: 50,
            declared_chargeable_g: 460,
            measured_weight_g: 1_200,
            measured_length_mm: 200,
            measured_width_mm: 150,
            measured_height_mm: 50,
            measured_chargeable_g: 1_200,
            declared_price: 6_000,
            measured_price: 13_400,
            amount,
            charged: amount.max(0),
            due: 0,
            currency: "CNY".into(),
            outcome: "charged".into(),
            held_reason: None,
            created_at: at,
            dispute_status: None,
            dispute_note: None,
            disputed_at: None,
            resolution_note: None,
            resolved_by: None,
            resolved_at: None,
        }
    }

    #[test]
    fn a_charge_can_be_disputed_once_within_seven_days() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .and_then(|d| d.and_hms_opt(8, 0, 0))
            .unwrap_or_default();
        let a = charged(7_400, t);
        assert_eq!(dispute_refusal(&a, t + chrono::Duration::days(7)), None);
        assert!(
            dispute_refusal(
                &a,
                t + chrono::Duration::days(7) + chrono::Duration::seconds(1)
            )
            .is_some()
        );
        assert!(
            dispute_refusal(&charged(-500, t), t).is_some(),
            "a refund is not disputed"
        );
        let disputed = Adjustment {
            dispute_status: Some("open".into()),
            ..charged(7_400, t)
        };
        assert!(dispute_refusal(&disputed, t).is_some());
    }

    #[test]
    fn a_scan_names_every_bad_field() {
        let bad = ScanInput {
            scan_id: Some("a\u{0}b".into()),
            tracking_number: Some("RR 12".into()),
            weight_g: Some(MAX_WEIGHT_G + 1),
            length_mm: Some(10),
            width_mm: None,
            height_mm: Some(0),
            location: Some("dock\u{202E}".into()),
        }
        .parse()
        .err()
        .unwrap_or_default();
        for f in ["scan_id", "weight_g", "length_mm", "height_mm", "location"] {
            assert!(bad.contains_key(f), "{f}: {bad:?}");
        }
        let ok = ScanInput {
            scan_id: Some(" m-1 ".into()),
            tracking_number: Some(" rr123456785cn ".into()),
            weight_g: Some(900),
            ..ScanInput::default()
        }
        .parse();
        let ok = ok.ok().map(|r| (r.scan_id, r.tracking_number, r.length_mm));
        assert_eq!(ok, Some(("m-1".into(), "RR123456785CN".into(), None)));
    }
}
