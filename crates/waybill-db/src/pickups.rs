//! Pickups, the shipments handed over in each, and the per-window capacity counters.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::columns::Json;
use super::schema::{pickup_items, pickup_slots, pickups, shipments};
use super::shipments::Shipment;
use waybill_domain::PickupStatus;
use waybill_domain::address::Address;
use waybill_domain::ids::{AddressId, PickupId, UserId};

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = pickups)]
pub struct Pickup {
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub id: PickupId,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub seller_id: UserId,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub address_id: AddressId,
    pub area_id: String,
    pub date: String,
    pub window_label: String,
    pub window_start: NaiveDateTime,
    pub window_end: NaiveDateTime,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: PickupStatus,
    /// The sender address as booked (JSON of `domain::address::Address`), in its own script.
    /// The address as it was when booked (the courier goes there).
    #[diesel(deserialize_as = Json<Address>, serialize_as = Json<Address>)]
    pub address: Address,
    pub postal_code: String,
    pub courier_id: Option<String>,
    pub failure_reason: Option<String>,
    pub failure_note: Option<String>,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub reminder_sent_at: Option<NaiveDateTime>,
    pub accepted_at: Option<NaiveDateTime>,
    pub arrived_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Pickup {
    /// Why the pickup failed, in words (the stored code as it is if it is not one we know).
    pub fn failure_label(&self) -> Option<&str> {
        self.failure_reason
            .as_deref()
            .map(|r| waybill_domain::pickup::FailureReason::parse(r).map_or(r, |f| f.label()))
    }
}

/// What became of one shipment in a pickup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The pickup is open: not collected yet.
    Waiting,
    Collected,
    /// The pickup closed without this parcel: it stays with the seller, flagged.
    NotCollected,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Waiting => "waiting",
            Outcome::Collected => "collected",
            Outcome::NotCollected => "not_collected",
        }
    }

    pub fn parse(s: &str) -> Outcome {
        match s {
            "collected" => Outcome::Collected,
            "not_collected" => Outcome::NotCollected,
            _ => Outcome::Waiting,
        }
    }
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = pickup_items)]
pub struct Item {
    pub pickup_id: String,
    pub shipment_id: String,
    pub open: bool,
    pub outcome: String,
    pub scanned_at: Option<NaiveDateTime>,
}

impl Item {
    pub fn outcome(&self) -> Outcome {
        Outcome::parse(&self.outcome)
    }
}

pub fn insert(conn: &mut DbConn, p: &Pickup) -> QueryResult<()> {
    per_backend!(conn, |c| diesel::insert_into(pickups::table)
        .values(p.clone())
        .execute(c)
        .map(|_| ()))
}

/// Puts shipments in a pickup. A shipment already in another open pickup makes this fail
/// with a unique violation (`pickup_items_one_open`).
pub fn insert_items(
    conn: &mut DbConn,
    pickup_id: &str,
    shipment_ids: &[String],
) -> QueryResult<()> {
    for id in shipment_ids {
        diesel::insert_into(pickup_items::table)
            .values((
                pickup_items::pickup_id.eq(pickup_id),
                pickup_items::shipment_id.eq(id),
                pickup_items::open.eq(true),
                pickup_items::outcome.eq(Outcome::Waiting.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Pickup>> {
    pickups::table
        .find(id)
        .select(Pickup::as_select())
        .get_result(conn)
        .optional()
}

pub fn find_for_seller(
    conn: &mut DbConn,
    seller_id: &str,
    id: &str,
) -> QueryResult<Option<Pickup>> {
    pickups::table
        .filter(pickups::seller_id.eq(seller_id))
        .filter(pickups::id.eq(id))
        .select(Pickup::as_select())
        .get_result(conn)
        .optional()
}

pub fn find_by_key(conn: &mut DbConn, seller_id: &str, key: &str) -> QueryResult<Option<Pickup>> {
    pickups::table
        .filter(pickups::seller_id.eq(seller_id))
        .filter(pickups::idempotency_key.eq(key))
        .select(Pickup::as_select())
        .get_result(conn)
        .optional()
}

/// A seller's pickups, the latest window first.
pub fn list_for_seller(conn: &mut DbConn, seller_id: &str, limit: i64) -> QueryResult<Vec<Pickup>> {
    pickups::table
        .filter(pickups::seller_id.eq(seller_id))
        .order((pickups::window_start.desc(), pickups::created_at.desc()))
        .limit(limit)
        .select(Pickup::as_select())
        .load(conn)
}

/// The courier queue: pickups of these areas on `date` that are not cancelled, ordered by
/// window then postal code.
pub fn queue(conn: &mut DbConn, area_ids: &[String], date: &str) -> QueryResult<Vec<Pickup>> {
    pickups::table
        .filter(pickups::area_id.eq_any(area_ids))
        .filter(pickups::date.eq(date))
        .filter(pickups::status.ne(PickupStatus::Cancelled.as_str()))
        .order((
            pickups::window_start.asc(),
            pickups::postal_code.asc(),
            pickups::id.asc(),
        ))
        .select(Pickup::as_select())
        .load(conn)
}

/// Each pickup's shipments, in the order they were put in.
pub fn items(conn: &mut DbConn, pickup_ids: &[String]) -> QueryResult<Vec<(Item, Shipment)>> {
    pickup_items::table
        .inner_join(shipments::table)
        .filter(pickup_items::pickup_id.eq_any(pickup_ids))
        .order((pickup_items::pickup_id.asc(), shipments::created_at.asc()))
        .select((Item::as_select(), Shipment::as_select()))
        .load(conn)
}

/// The open pickup a shipment is in, if any.
pub fn open_pickup_of(conn: &mut DbConn, shipment_id: &str) -> QueryResult<Option<String>> {
    pickup_items::table
        .filter(pickup_items::shipment_id.eq(shipment_id))
        .filter(pickup_items::open.eq(true))
        .select(pickup_items::pickup_id)
        .get_result(conn)
        .optional()
}

/// Takes one place in a window: `Ok(false)` when it is full. The conditional UPDATE holds
/// the counter row until commit, so concurrent bookings (any number of servers on one
/// PostgreSQL, or SQLite's single writer) are counted one after the other.
pub fn take_slot(
    conn: &mut DbConn,
    area_id: &str,
    date: &str,
    window: &str,
    capacity: i32,
) -> QueryResult<bool> {
    per_backend!(conn, |c| diesel::insert_into(pickup_slots::table)
        .values((
            pickup_slots::area_id.eq(area_id),
            pickup_slots::date.eq(date),
            pickup_slots::window_label.eq(window),
            pickup_slots::booked.eq(0),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    let n = diesel::update(
        pickup_slots::table
            .filter(pickup_slots::area_id.eq(area_id))
            .filter(pickup_slots::date.eq(date))
            .filter(pickup_slots::window_label.eq(window))
            .filter(pickup_slots::booked.lt(capacity)),
    )
    .set(pickup_slots::booked.eq(pickup_slots::booked + 1))
    .execute(conn)?;
    Ok(n == 1)
}

/// Gives a place back (a cancelled or rescheduled pickup).
pub fn release_slot(conn: &mut DbConn, area_id: &str, date: &str, window: &str) -> QueryResult<()> {
    diesel::update(
        pickup_slots::table
            .filter(pickup_slots::area_id.eq(area_id))
            .filter(pickup_slots::date.eq(date))
            .filter(pickup_slots::window_label.eq(window))
            .filter(pickup_slots::booked.gt(0)),
    )
    .set(pickup_slots::booked.eq(pickup_slots::booked - 1))
    .execute(conn)
    .map(|_| ())
}

/// Places taken per (date, window) in an area on the given dates.
pub fn slots(
    conn: &mut DbConn,
    area_id: &str,
    dates: &[String],
) -> QueryResult<Vec<(String, String, i32)>> {
    pickup_slots::table
        .filter(pickup_slots::area_id.eq(area_id))
        .filter(pickup_slots::date.eq_any(dates))
        .select((
            pickup_slots::date,
            pickup_slots::window_label,
            pickup_slots::booked,
        ))
        .load(conn)
}

/// Moves a pickup from `from` to `to` if it is still in `from`, the one way a pickup's status
/// changes; `Ok(false)` if it moved meanwhile.
pub fn set_status(
    conn: &mut DbConn,
    id: &str,
    from: PickupStatus,
    to: PickupStatus,
) -> QueryResult<bool> {
    if !from.can_move_to(to) {
        return Err(diesel::result::Error::QueryBuilderError(
            format!("a pickup cannot move from {from} to {to}").into(),
        ));
    }
    let now = super::now();
    let n = diesel::update(
        pickups::table
            .filter(pickups::id.eq(id))
            .filter(pickups::status.eq(from.as_str())),
    )
    .set((
        pickups::status.eq(to.as_str()),
        pickups::updated_at.eq(now),
        (to == PickupStatus::Arrived).then(|| pickups::arrived_at.eq(now)),
        (!to.is_open()).then(|| pickups::closed_at.eq(now)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Accepts a scheduled pickup for a courier: exactly one of concurrent accepts gets `true`.
pub fn accept(conn: &mut DbConn, id: &str, courier_id: &str) -> QueryResult<bool> {
    let now = super::now();
    let n = diesel::update(
        pickups::table
            .filter(pickups::id.eq(id))
            .filter(pickups::status.eq(PickupStatus::Scheduled.as_str()))
            .filter(pickups::courier_id.is_null()),
    )
    .set((
        pickups::status.eq(PickupStatus::Accepted.as_str()),
        pickups::courier_id.eq(courier_id),
        pickups::accepted_at.eq(now),
        pickups::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Moves a scheduled or accepted pickup to another window; it goes back to scheduled, with no
/// courier, since the new window may not suit the one who accepted.
pub fn reschedule(
    conn: &mut DbConn,
    p: &Pickup,
    date: &str,
    window: &str,
    range: (NaiveDateTime, NaiveDateTime),
) -> QueryResult<bool> {
    if p.status != PickupStatus::Scheduled && !p.status.can_move_to(PickupStatus::Scheduled) {
        return Ok(false);
    }
    let n = diesel::update(
        pickups::table
            .filter(pickups::id.eq(p.id.as_str()))
            .filter(pickups::status.eq(p.status.as_str())),
    )
    .set((
        pickups::status.eq(PickupStatus::Scheduled.as_str()),
        pickups::date.eq(date),
        pickups::window_label.eq(window),
        pickups::window_start.eq(range.0),
        pickups::window_end.eq(range.1),
        pickups::courier_id.eq(None::<String>),
        pickups::accepted_at.eq(None::<NaiveDateTime>),
        pickups::reminder_sent_at.eq(None::<NaiveDateTime>),
        pickups::updated_at.eq(super::now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn set_failure(
    conn: &mut DbConn,
    id: &str,
    reason: &str,
    note: Option<&str>,
) -> QueryResult<()> {
    diesel::update(pickups::table.find(id))
        .set((
            pickups::failure_reason.eq(reason),
            pickups::failure_note.eq(note),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Ticks a parcel off (the first scan's time is kept).
pub fn mark_scanned(conn: &mut DbConn, pickup_id: &str, shipment_id: &str) -> QueryResult<()> {
    diesel::update(
        pickup_items::table
            .filter(pickup_items::pickup_id.eq(pickup_id))
            .filter(pickup_items::shipment_id.eq(shipment_id))
            .filter(pickup_items::scanned_at.is_null()),
    )
    .set(pickup_items::scanned_at.eq(super::now()))
    .execute(conn)
    .map(|_| ())
}

/// Takes a shipment out of a pickup (the seller cancelled it before it was collected).
pub fn remove_item(conn: &mut DbConn, pickup_id: &str, shipment_id: &str) -> QueryResult<()> {
    diesel::delete(
        pickup_items::table
            .filter(pickup_items::pickup_id.eq(pickup_id))
            .filter(pickup_items::shipment_id.eq(shipment_id)),
    )
    .execute(conn)
    .map(|_| ())
}

/// Closes one shipment's place in a pickup with its outcome.
pub fn close_item(
    conn: &mut DbConn,
    pickup_id: &str,
    shipment_id: &str,
    outcome: Outcome,
) -> QueryResult<()> {
    diesel::update(
        pickup_items::table
            .filter(pickup_items::pickup_id.eq(pickup_id))
            .filter(pickup_items::shipment_id.eq(shipment_id)),
    )
    .set((
        pickup_items::open.eq(false),
        pickup_items::outcome.eq(outcome.as_str()),
    ))
    .execute(conn)
    .map(|_| ())
}

/// Open pickups whose window ended before `now` with nobody at the door.
pub fn due_missed(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Vec<Pickup>> {
    pickups::table
        .filter(pickups::status.eq_any([
            PickupStatus::Scheduled.as_str(),
            PickupStatus::Accepted.as_str(),
        ]))
        .filter(pickups::window_end.lt(now))
        .select(Pickup::as_select())
        .load(conn)
}

/// Open pickups starting in `[from, to)` whose reminder has not gone out.
pub fn due_reminders(
    conn: &mut DbConn,
    area_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<Pickup>> {
    pickups::table
        .filter(pickups::status.eq_any([
            PickupStatus::Scheduled.as_str(),
            PickupStatus::Accepted.as_str(),
        ]))
        .filter(pickups::area_id.eq(area_id))
        .filter(pickups::reminder_sent_at.is_null())
        .filter(pickups::window_start.ge(from))
        .filter(pickups::window_start.lt(to))
        .select(Pickup::as_select())
        .load(conn)
}

/// Claims a pickup's reminder: `true` for exactly one caller, however many servers ask.
pub fn claim_reminder(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    let n = diesel::update(
        pickups::table
            .filter(pickups::id.eq(id))
            .filter(pickups::reminder_sent_at.is_null()),
    )
    .set(pickups::reminder_sent_at.eq(super::now()))
    .execute(conn)?;
    Ok(n == 1)
}
