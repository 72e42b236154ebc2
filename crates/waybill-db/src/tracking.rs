//! Verified tracking as stored: the raw requests events came in, rejected requests for the
//! admin, and the transparency log beside the events (its head, stored hashes, checkpoints).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{
    channels, shipment_events, shipments, tracking_checkpoints, tracking_issues,
    tracking_log_hashes, tracking_log_head, tracking_requests,
};
use super::shipments::{Shipment, ShipmentEvent};
use super::{DbConn, in_chunks};
use waybill_domain::Status;

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = tracking_requests)]
pub struct TrackingRequest {
    pub id: String,
    pub source: String,
    /// SHA-256 of the body, hex.
    pub digest: String,
    /// The body exactly as received.
    pub body: String,
    pub received_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = tracking_issues)]
pub struct TrackingIssue {
    pub id: String,
    pub channel_code: Option<String>,
    pub source: String,
    pub event_id: Option<String>,
    pub tracking_number: Option<String>,
    pub reason: String,
    pub request_digest: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = tracking_checkpoints)]
pub struct StoredCheckpoint {
    pub id: String,
    pub tree_size: i64,
    /// Base64, as in the note.
    pub root_hash: String,
    /// The signed note, as published.
    pub note: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_request(conn: &mut DbConn, r: &TrackingRequest) -> QueryResult<()> {
    per_backend!(conn, |c| diesel::insert_into(tracking_requests::table)
        .values(r)
        .execute(c)
        .map(|_| ()))
}

pub fn insert_issue(conn: &mut DbConn, i: &TrackingIssue) -> QueryResult<()> {
    per_backend!(conn, |c| diesel::insert_into(tracking_issues::table)
        .values(i)
        .execute(c)
        .map(|_| ()))
}

pub fn insert_issues(conn: &mut DbConn, all: &[TrackingIssue]) -> QueryResult<()> {
    for chunk in all.chunks(500) {
        per_backend!(conn, |c| diesel::insert_into(tracking_issues::table)
            .values(chunk)
            .execute(c))?;
    }
    Ok(())
}

/// The newest rejections, for the admin's "Tracking issues" page.
pub fn recent_issues(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<TrackingIssue>> {
    tracking_issues::table
        .order((
            tracking_issues::created_at.desc(),
            tracking_issues::id.desc(),
        ))
        .limit(limit)
        .select(TrackingIssue::as_select())
        .load(conn)
}

/// Deletes raw carrier requests older than `before` that no stored event points at (replays
/// and batches of rejections kept before they stopped being stored); the bodies of logged
/// events stay, as the evidence `verify-chain` checks.
pub fn prune_unreferenced_requests(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    let referenced = shipment_events::table
        .filter(shipment_events::request_id.is_not_null())
        .select(shipment_events::request_id.assume_not_null());
    diesel::delete(
        tracking_requests::table
            .filter(tracking_requests::received_at.lt(before))
            .filter(tracking_requests::id.ne_all(referenced)),
    )
    .execute(conn)
}

/// Deletes the rejections older than `before`, and beyond the newest `keep`: the admin's
/// list of them stays bounded however many bad requests arrive. Returns how many went.
pub fn prune_issues(conn: &mut DbConn, before: NaiveDateTime, keep: i64) -> QueryResult<usize> {
    let mut deleted = diesel::delete(tracking_issues::table)
        .filter(tracking_issues::created_at.lt(before))
        .execute(conn)?;
    // The newest row past the limit, in the admin's order; it and every older one go.
    let edge: Option<(NaiveDateTime, String)> = tracking_issues::table
        .order((
            tracking_issues::created_at.desc(),
            tracking_issues::id.desc(),
        ))
        .offset(keep)
        .limit(1)
        .select((tracking_issues::created_at, tracking_issues::id))
        .get_result(conn)
        .optional()?;
    if let Some((at, id)) = edge {
        deleted += diesel::delete(tracking_issues::table)
            .filter(
                tracking_issues::created_at
                    .lt(at)
                    .or(tracking_issues::created_at
                        .eq(at)
                        .and(tracking_issues::id.le(id))),
            )
            .execute(conn)?;
    }
    Ok(deleted)
}

/// Inserts events in one statement per few hundred (a carrier batch arrives at once).
pub fn insert_events(conn: &mut DbConn, all: &[ShipmentEvent]) -> QueryResult<()> {
    for chunk in all.chunks(200) {
        let rows: Vec<ShipmentEvent> = chunk.to_vec();
        per_backend!(conn, |c| diesel::insert_into(shipment_events::table)
            .values(rows.clone())
            .execute(c))?;
    }
    Ok(())
}

/// Which of `ids` the source has already sent.
pub fn known_source_ids(conn: &mut DbConn, source: &str, ids: &[&str]) -> QueryResult<Vec<String>> {
    let found: Vec<Option<String>> = in_chunks(ids, |chunk| {
        shipment_events::table
            .filter(shipment_events::source.eq(source))
            .filter(shipment_events::source_event_id.eq_any(chunk))
            .select(shipment_events::source_event_id)
            .load(conn)
    })?;
    Ok(found.into_iter().flatten().collect())
}

/// Shipments by tracking number (unscoped: the carrier webhook and the public page ask).
pub fn shipments_by_number(conn: &mut DbConn, numbers: &[&str]) -> QueryResult<Vec<Shipment>> {
    in_chunks(numbers, |chunk| {
        shipments::table
            .filter(shipments::tracking_number.eq_any(chunk))
            .select(Shipment::as_select())
            .load(conn)
    })
}

/// Shipments by id (unscoped: tracking settles the statuses its events yield), by id.
pub fn shipments_by_id(conn: &mut DbConn, ids: &[&str]) -> QueryResult<Vec<Shipment>> {
    let mut found = in_chunks(ids, |chunk| {
        shipments::table
            .filter(shipments::id.eq_any(chunk))
            .select(Shipment::as_select())
            .load(conn)
    })?;
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

/// What a shipment's status is derived from, of one of its events.
#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = shipment_events)]
pub struct StatusInput {
    pub shipment_id: String,
    pub id: String,
    #[diesel(deserialize_as = String)]
    pub status: Status,
    pub occurred_at: NaiveDateTime,
    pub source: String,
    pub source_event_id: Option<String>,
}

/// The status inputs of every event of these shipments (one query per 500 shipments).
pub fn status_inputs(conn: &mut DbConn, shipment_ids: &[&str]) -> QueryResult<Vec<StatusInput>> {
    in_chunks(shipment_ids, |chunk| {
        shipment_events::table
            .filter(shipment_events::shipment_id.eq_any(chunk))
            .select(StatusInput::as_select())
            .load(conn)
    })
}

pub fn shipment_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Shipment>> {
    shipments::table
        .filter(shipments::id.eq(id))
        .select(Shipment::as_select())
        .get_result(conn)
        .optional()
}

/// What the public tracking view reads of a shipment: not the recipient's name, street,
/// postal code, phone or e-mail (of the sender only its city and country are shown).
#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = shipments)]
pub struct PublicShipment {
    pub id: String,
    pub tracking_number: String,
    #[diesel(deserialize_as = String)]
    pub status: Status,
    pub channel_code: String,
    #[diesel(deserialize_as = super::columns::Json<waybill_domain::address::Address>)]
    pub sender: waybill_domain::address::Address,
    pub recipient_city: String,
    pub recipient_country: String,
    pub created_at: NaiveDateTime,
}

/// What the public view shows of a channel: its name and transit days.
#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = channels)]
pub struct PublicChannel {
    pub carrier: String,
    pub service: String,
    pub transit_min_days: i32,
    pub transit_max_days: i32,
}

/// What the public view shows of a logged event (its record is read only when not in memory).
#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = shipment_events)]
pub struct PublicEventRow {
    #[diesel(deserialize_as = String)]
    pub status: Status,
    pub occurred_at: NaiveDateTime,
    pub location: Option<String>,
    pub description: String,
    pub verified: bool,
    pub log_index: Option<i64>,
}

/// A shipment by tracking number with its channel, for the public view.
pub fn public_shipment(
    conn: &mut DbConn,
    number: &str,
) -> QueryResult<Option<(PublicShipment, Option<PublicChannel>)>> {
    per_backend!(conn, |c| shipments::table
        .left_join(channels::table)
        .filter(shipments::tracking_number.eq(number))
        .select((
            PublicShipment::as_select(),
            Option::<PublicChannel>::as_select(),
        ))
        .get_result(c)
        .optional())
}

/// A shipment's logged events (the verified ones anyone can check), by time.
pub fn public_events(conn: &mut DbConn, shipment_id: &str) -> QueryResult<Vec<PublicEventRow>> {
    per_backend!(conn, |c| shipment_events::table
        .filter(shipment_events::shipment_id.eq(shipment_id))
        .filter(shipment_events::log_index.is_not_null())
        .order((
            shipment_events::occurred_at.asc(),
            shipment_events::received_at.asc(),
            shipment_events::id.asc(),
        ))
        .select(PublicEventRow::as_select())
        .load(c))
}

/// An event with what its log record is built from beyond its own columns.
pub type LoggedEvent = (ShipmentEvent, String, Option<String>);

/// Logged events with index in `from..to`, in log order.
pub fn logged_events(conn: &mut DbConn, from: i64, to: i64) -> QueryResult<Vec<LoggedEvent>> {
    shipment_events::table
        .inner_join(shipments::table)
        .left_join(tracking_requests::table)
        .filter(shipment_events::log_index.ge(from))
        .filter(shipment_events::log_index.lt(to))
        .order(shipment_events::log_index.asc())
        .select((
            ShipmentEvent::as_select(),
            shipments::tracking_number,
            tracking_requests::digest.nullable(),
        ))
        .load(conn)
}

/// The columns an event's log record is built from (with its shipment's tracking number
/// and its request's digest).
#[derive(Queryable, Selectable, Debug)]
#[diesel(table_name = shipment_events)]
pub struct RecordRow {
    #[diesel(deserialize_as = String)]
    pub status: Status,
    pub code: Option<String>,
    pub occurred_at: NaiveDateTime,
    pub location: Option<String>,
    pub description: String,
    pub source: String,
    pub source_event_id: Option<String>,
    pub received_at: NaiveDateTime,
    pub log_index: Option<i64>,
}

/// A shipment's logged events as their records are built, each with its request's digest.
pub fn record_rows(
    conn: &mut DbConn,
    shipment_id: &str,
) -> QueryResult<Vec<(RecordRow, Option<String>)>> {
    per_backend!(conn, |c| shipment_events::table
        .left_join(tracking_requests::table)
        .filter(shipment_events::shipment_id.eq(shipment_id))
        .filter(shipment_events::log_index.is_not_null())
        .select((RecordRow::as_select(), tracking_requests::digest.nullable()))
        .load(c))
}

/// Requests whose stored body no longer hashes to the stored digest are found by the
/// verifier; it reads them here.
pub fn requests(conn: &mut DbConn, ids: &[&str]) -> QueryResult<Vec<TrackingRequest>> {
    in_chunks(ids, |chunk| {
        tracking_requests::table
            .filter(tracking_requests::id.eq_any(chunk))
            .select(TrackingRequest::as_select())
            .load(conn)
    })
}

/// The log's size, with its head row locked until the transaction ends: the one sequencer
/// of every server on a PostgreSQL database. SQLite's single writer already serialises.
pub fn lock_head(conn: &mut DbConn) -> QueryResult<i64> {
    let q = tracking_log_head::table
        .find(1)
        .select(tracking_log_head::size);
    match conn {
        DbConn::Postgres(c) => q.for_update().get_result(c),
        DbConn::Sqlite(c) => q.get_result(c),
    }
}

/// The log's size as last committed (no lock).
pub fn head_size(conn: &mut DbConn) -> QueryResult<i64> {
    tracking_log_head::table
        .find(1)
        .select(tracking_log_head::size)
        .get_result(conn)
}

pub fn set_head(conn: &mut DbConn, size: i64) -> QueryResult<()> {
    diesel::update(tracking_log_head::table.find(1))
        .set((
            tracking_log_head::size.eq(size),
            tracking_log_head::updated_at.eq(super::now()),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn read_hashes(conn: &mut DbConn, idx: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    in_chunks(idx, |chunk| {
        tracking_log_hashes::table
            .filter(tracking_log_hashes::idx.eq_any(chunk))
            .select((tracking_log_hashes::idx, tracking_log_hashes::hash))
            .load::<(i64, String)>(conn)
    })
}

/// Every stored hash below `end`, in index order (the verifier compares them all).
pub fn all_hashes(conn: &mut DbConn, end: i64) -> QueryResult<Vec<(i64, String)>> {
    tracking_log_hashes::table
        .filter(tracking_log_hashes::idx.lt(end))
        .order(tracking_log_hashes::idx.asc())
        .select((tracking_log_hashes::idx, tracking_log_hashes::hash))
        .load(conn)
}

/// The stored hashes in `from..to`, in index order.
pub fn hashes_between(conn: &mut DbConn, from: i64, to: i64) -> QueryResult<Vec<(i64, String)>> {
    tracking_log_hashes::table
        .filter(tracking_log_hashes::idx.ge(from))
        .filter(tracking_log_hashes::idx.lt(to))
        .order(tracking_log_hashes::idx.asc())
        .select((tracking_log_hashes::idx, tracking_log_hashes::hash))
        .load(conn)
}

pub fn insert_hashes(conn: &mut DbConn, all: &[(i64, String)]) -> QueryResult<()> {
    for chunk in all.chunks(500) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(i, h)| {
                (
                    tracking_log_hashes::idx.eq(*i),
                    tracking_log_hashes::hash.eq(h.as_str()),
                )
            })
            .collect();
        per_backend!(conn, |c| diesel::insert_into(tracking_log_hashes::table)
            .values(&rows)
            .execute(c))?;
    }
    Ok(())
}

pub fn insert_checkpoint(conn: &mut DbConn, c: &StoredCheckpoint) -> QueryResult<()> {
    diesel::insert_into(tracking_checkpoints::table)
        .values(c)
        .execute(conn)
        .map(|_| ())
}

pub fn latest_checkpoint(conn: &mut DbConn) -> QueryResult<Option<StoredCheckpoint>> {
    tracking_checkpoints::table
        .order((
            tracking_checkpoints::tree_size.desc(),
            tracking_checkpoints::created_at.desc(),
        ))
        .limit(1)
        .select(StoredCheckpoint::as_select())
        .get_result(conn)
        .optional()
}

/// Every kept checkpoint, oldest first.
pub fn checkpoints(conn: &mut DbConn) -> QueryResult<Vec<StoredCheckpoint>> {
    tracking_checkpoints::table
        .order((
            tracking_checkpoints::created_at.asc(),
            tracking_checkpoints::id.asc(),
        ))
        .select(StoredCheckpoint::as_select())
        .load(conn)
}

/// Events from outside Waybill (carrier, courier, warehouse) that are not in the log: none
/// should exist, since each is logged in the transaction that stores it.
pub fn unlogged_events(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    shipment_events::table
        .filter(shipment_events::log_index.is_null())
        .filter(shipment_events::source.ne("system"))
        .order(shipment_events::received_at.asc())
        .limit(1)
        .select(shipment_events::id)
        .load(conn)
}

/// Shipments still on their way (booked, not finished), newest first: what the simulator plays.
pub fn open_shipments(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Shipment>> {
    let done: Vec<&str> = Status::ALL
        .iter()
        .filter(|s| s.is_terminal() || **s == Status::Draft)
        .map(|s| s.as_str())
        .collect();
    shipments::table
        .filter(shipments::status.ne_all(done))
        .order((shipments::created_at.desc(), shipments::id.desc()))
        .limit(limit)
        .select(Shipment::as_select())
        .load(conn)
}
