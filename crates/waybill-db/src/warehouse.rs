//! Warehouse receipt: inbound scans, the one weight adjustment a shipment may get (with its
//! dispute), and amounts a wallet could not cover.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use waybill_domain::weighing::{AdjustmentOutcome, DisputeStatus};

use super::DbConn;
use super::schema::{amounts_due, shipments, warehouse_scans, weight_adjustments};
use super::shipments::Shipment;

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = warehouse_scans)]
pub struct Scan {
    pub id: String,
    pub scan_id: String,
    pub warehouse_id: String,
    pub shipment_id: String,
    pub weight_g: i64,
    pub length_mm: Option<i64>,
    pub width_mm: Option<i64>,
    pub height_mm: Option<i64>,
    pub location: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = weight_adjustments)]
pub struct Adjustment {
    pub shipment_id: String,
    pub seller_id: String,
    /// The `warehouse_scans` row that measured the parcel.
    pub scan_id: String,
    pub declared_weight_g: i64,
    pub declared_length_mm: i64,
    pub declared_width_mm: i64,
    pub declared_height_mm: i64,
    pub declared_chargeable_g: i64,
    pub measured_weight_g: i64,
    pub measured_length_mm: i64,
    pub measured_width_mm: i64,
    pub measured_height_mm: i64,
    pub measured_chargeable_g: i64,
    pub declared_price: i64,
    pub measured_price: i64,
    /// Positive: owed by the seller; negative: refunded; zero: nothing moved.
    pub amount: i64,
    pub charged: i64,
    pub due: i64,
    pub currency: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub outcome: AdjustmentOutcome,
    pub held_reason: Option<String>,
    pub created_at: NaiveDateTime,
    /// A `DisputeStatus` (read through `dispute()`); `None` when never disputed.
    pub dispute_status: Option<String>,
    pub dispute_note: Option<String>,
    pub disputed_at: Option<NaiveDateTime>,
    pub resolution_note: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<NaiveDateTime>,
}

impl Adjustment {
    /// Where the seller's dispute stands; `None` when never disputed. A stored word that names
    /// no status reads as open, so the dispute is not lost from the admin's list.
    pub fn dispute(&self) -> Option<DisputeStatus> {
        self.dispute_status.as_deref().map(|s| {
            DisputeStatus::parse(s).unwrap_or_else(|| {
                tracing::error!(shipment = %self.shipment_id, status = s, "unknown dispute status");
                DisputeStatus::Open
            })
        })
    }
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = amounts_due)]
pub struct AmountDue {
    pub id: String,
    pub seller_id: String,
    pub shipment_id: String,
    pub amount: i64,
    pub outstanding: i64,
    pub currency: String,
    pub created_at: NaiveDateTime,
    pub settled_at: Option<NaiveDateTime>,
}

pub fn insert_scan(conn: &mut DbConn, s: &Scan) -> QueryResult<()> {
    per_backend!(conn, |c| diesel::insert_into(warehouse_scans::table)
        .values(s)
        .execute(c)
        .map(|_| ()))
}

/// A warehouse's earlier scan with this scan id.
pub fn find_scan(
    conn: &mut DbConn,
    warehouse_id: &str,
    scan_id: &str,
) -> QueryResult<Option<Scan>> {
    warehouse_scans::table
        .filter(warehouse_scans::warehouse_id.eq(warehouse_id))
        .filter(warehouse_scans::scan_id.eq(scan_id))
        .select(Scan::as_select())
        .first(conn)
        .optional()
}

/// A warehouse's latest scans with their shipments, newest first.
pub fn recent_scans(
    conn: &mut DbConn,
    warehouse_id: &str,
    limit: i64,
) -> QueryResult<Vec<(Scan, Shipment)>> {
    warehouse_scans::table
        .inner_join(shipments::table)
        .filter(warehouse_scans::warehouse_id.eq(warehouse_id))
        .order(warehouse_scans::created_at.desc())
        .limit(limit)
        .select((Scan::as_select(), Shipment::as_select()))
        .load(conn)
}

pub fn insert_adjustment(conn: &mut DbConn, a: &Adjustment) -> QueryResult<()> {
    per_backend!(conn, |c| diesel::insert_into(weight_adjustments::table)
        .values(a.clone())
        .execute(c)
        .map(|_| ()))
}

/// The adjustments of these shipments (those measured), in one query per 500.
pub fn adjustments_of(conn: &mut DbConn, shipment_ids: &[&str]) -> QueryResult<Vec<Adjustment>> {
    super::in_chunks(shipment_ids, |chunk| {
        weight_adjustments::table
            .filter(weight_adjustments::shipment_id.eq_any(chunk))
            .select(Adjustment::as_select())
            .load(conn)
    })
}

pub fn adjustment_of(conn: &mut DbConn, shipment_id: &str) -> QueryResult<Option<Adjustment>> {
    weight_adjustments::table
        .find(shipment_id)
        .select(Adjustment::as_select())
        .first(conn)
        .optional()
}

/// Opens a dispute if the adjustment is still undisputed; `false` if it is not.
pub fn open_dispute(
    conn: &mut DbConn,
    shipment_id: &str,
    note: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        weight_adjustments::table
            .find(shipment_id)
            .filter(weight_adjustments::dispute_status.is_null()),
    )
    .set((
        weight_adjustments::dispute_status.eq(DisputeStatus::Open.as_str()),
        weight_adjustments::dispute_note.eq(note),
        weight_adjustments::disputed_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Closes an open dispute as `refunded` or `upheld`; `false` if it is not open (any more).
pub fn resolve_dispute(
    conn: &mut DbConn,
    shipment_id: &str,
    status: DisputeStatus,
    note: &str,
    admin_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        weight_adjustments::table
            .find(shipment_id)
            .filter(weight_adjustments::dispute_status.eq(DisputeStatus::Open.as_str())),
    )
    .set((
        weight_adjustments::dispute_status.eq(status.as_str()),
        weight_adjustments::resolution_note.eq(note),
        weight_adjustments::resolved_by.eq(admin_id),
        weight_adjustments::resolved_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Disputes waiting for an admin, oldest first, with their shipments.
pub fn open_disputes(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<(Adjustment, Shipment)>> {
    weight_adjustments::table
        .inner_join(shipments::table)
        .filter(weight_adjustments::dispute_status.eq(DisputeStatus::Open.as_str()))
        .order(weight_adjustments::disputed_at.asc())
        .limit(limit)
        .select((Adjustment::as_select(), Shipment::as_select()))
        .load(conn)
}

pub fn insert_due(conn: &mut DbConn, d: &AmountDue) -> QueryResult<()> {
    per_backend!(conn, |c| diesel::insert_into(amounts_due::table)
        .values(d)
        .execute(c)
        .map(|_| ()))
}

/// The seller's amounts still owed, oldest first (settled in that order).
pub fn open_dues(conn: &mut DbConn, seller_id: &str) -> QueryResult<Vec<AmountDue>> {
    amounts_due::table
        .filter(amounts_due::seller_id.eq(seller_id))
        .filter(amounts_due::outstanding.gt(0))
        .order((amounts_due::created_at.asc(), amounts_due::id.asc()))
        .select(AmountDue::as_select())
        .load(conn)
}

/// The amount still owed for one shipment.
pub fn open_due_of(conn: &mut DbConn, shipment_id: &str) -> QueryResult<Option<AmountDue>> {
    amounts_due::table
        .filter(amounts_due::shipment_id.eq(shipment_id))
        .filter(amounts_due::outstanding.gt(0))
        .select(AmountDue::as_select())
        .first(conn)
        .optional()
}

/// Takes `amount` off what one row still owes.
pub fn reduce_due(conn: &mut DbConn, id: &str, amount: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(amounts_due::table.find(id))
        .set(amounts_due::outstanding.eq(amounts_due::outstanding - amount))
        .execute(conn)?;
    diesel::update(
        amounts_due::table
            .find(id)
            .filter(amounts_due::outstanding.eq(0)),
    )
    .set(amounts_due::settled_at.eq(now))
    .execute(conn)
    .map(|_| ())
}

/// Writes down what a positive adjustment took from the wallet and left due.
pub fn set_settled(
    conn: &mut DbConn,
    shipment_id: &str,
    charged: i64,
    due: i64,
) -> QueryResult<()> {
    diesel::update(weight_adjustments::table.find(shipment_id))
        .set((
            weight_adjustments::charged.eq(charged),
            weight_adjustments::due.eq(due),
        ))
        .execute(conn)
        .map(|_| ())
}
