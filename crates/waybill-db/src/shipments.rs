//! Shipments and their timeline; every query is scoped by the seller's id.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::columns::Json;
use super::schema::{channels, shipment_events, shipments};
use waybill_domain::address::Address;
use waybill_domain::customs::Customs;
use waybill_domain::ids::{ShipmentId, UserId};
use waybill_domain::rates::Breakdown;
use waybill_domain::tracking_flags::{Cutoffs, TrackingFlag, is_live};
use waybill_domain::{PickupStatus, Status};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = shipments)]
pub struct Shipment {
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub id: ShipmentId,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub seller_id: UserId,
    pub channel_code: String,
    pub tracking_number: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: Status,
    pub reference: Option<String>,
    /// As the seller wrote it (local script), with its Latin version.
    #[diesel(deserialize_as = Json<Address>, serialize_as = Json<Address>)]
    pub sender: Address,
    pub recipient_name: String,
    pub recipient_company: Option<String>,
    pub recipient_street1: String,
    pub recipient_street2: Option<String>,
    pub recipient_city: String,
    pub recipient_state: Option<String>,
    pub recipient_postal_code: String,
    pub recipient_country: String,
    pub recipient_phone: String,
    pub recipient_email: Option<String>,
    pub weight_g: i64,
    pub length_mm: i64,
    pub width_mm: i64,
    pub height_mm: i64,
    pub chargeable_weight_g: i64,
    pub price_amount: i64,
    pub currency: String,
    #[diesel(deserialize_as = Json<Breakdown>, serialize_as = Json<Breakdown>)]
    pub price_breakdown: Breakdown,
    #[diesel(deserialize_as = Json<Customs>, serialize_as = Json<Customs>)]
    pub customs: Customs,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub label_count: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub cancelled_at: Option<NaiveDateTime>,
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = shipment_events)]
pub struct ShipmentEvent {
    pub id: String,
    pub shipment_id: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: Status,
    pub occurred_at: NaiveDateTime,
    pub location: Option<String>,
    pub description: String,
    pub source: String,
    pub verified: bool,
    pub created_at: NaiveDateTime,
    /// The carrier's own event code (e.g. UPU `EMA`), kept as sent.
    pub code: Option<String>,
    /// The source's id for this event: each is accepted once per source.
    pub source_event_id: Option<String>,
    pub received_at: NaiveDateTime,
    /// The raw request the event came in (`tracking_requests`).
    pub request_id: Option<String>,
    /// The event's leaf in the tracking transparency log.
    pub log_index: Option<i64>,
}

impl ShipmentEvent {
    /// One of Waybill's own events (booking, cancellation), outside any carrier request.
    pub fn system(
        shipment_id: &str,
        status: Status,
        at: NaiveDateTime,
        location: Option<String>,
        description: String,
    ) -> ShipmentEvent {
        ShipmentEvent {
            id: super::new_id(),
            shipment_id: shipment_id.to_string(),
            status,
            occurred_at: at,
            location,
            description,
            source: "system".into(),
            verified: true,
            created_at: at,
            code: None,
            source_event_id: None,
            received_at: at,
            request_id: None,
            log_index: None,
        }
    }
}

pub fn insert(conn: &mut DbConn, s: &Shipment) -> QueryResult<()> {
    // `serialize_as` (the status as text) makes only the owned row insertable.
    per_backend!(conn, |c| diesel::insert_into(shipments::table)
        .values(s.clone())
        .execute(c)
        .map(|_| ()))
}

pub fn insert_event(conn: &mut DbConn, e: &ShipmentEvent) -> QueryResult<()> {
    per_backend!(conn, |c| diesel::insert_into(shipment_events::table)
        .values(e.clone())
        .execute(c)
        .map(|_| ()))
}

pub fn find(conn: &mut DbConn, seller_id: &str, id: &str) -> QueryResult<Option<Shipment>> {
    shipments::table
        .filter(shipments::seller_id.eq(seller_id))
        .filter(shipments::id.eq(id))
        .select(Shipment::as_select())
        .get_result(conn)
        .optional()
}

pub fn find_by_key(conn: &mut DbConn, seller_id: &str, key: &str) -> QueryResult<Option<Shipment>> {
    per_backend!(conn, |c| shipments::table
        .filter(shipments::seller_id.eq(seller_id))
        .filter(shipments::idempotency_key.eq(key))
        .select(Shipment::as_select())
        .get_result(c)
        .optional())
}

/// The seller's first shipment with this reference that is not cancelled, if any.
///
/// The matches are loaded and the first picked here: asked to `ORDER BY created_at LIMIT 1`,
/// SQLite walks the seller's (seller_id, created_at) index to skip the sort and reads every
/// one of the seller's shipments looking for the reference (a new reference, the usual case,
/// matches none), inside the booking's write transaction. Without the order it takes the
/// (seller_id, reference) index, and a reference has a handful of shipments at most.
pub fn find_open_by_reference(
    conn: &mut DbConn,
    seller_id: &str,
    reference: &str,
) -> QueryResult<Option<Shipment>> {
    let found: Vec<Shipment> = shipments::table
        .filter(shipments::seller_id.eq(seller_id))
        .filter(shipments::reference.eq(reference))
        .filter(shipments::status.ne(Status::Cancelled.as_str()))
        .select(Shipment::as_select())
        .load(conn)?;
    Ok(found
        .into_iter()
        .min_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id))))
}

/// The timeline, in the order things happened.
pub fn events(conn: &mut DbConn, shipment_id: &str) -> QueryResult<Vec<ShipmentEvent>> {
    shipment_events::table
        .filter(shipment_events::shipment_id.eq(shipment_id))
        .order((
            shipment_events::occurred_at.asc(),
            shipment_events::created_at.asc(),
        ))
        .select(ShipmentEvent::as_select())
        .load(conn)
}

/// Booked and not yet handed over: the parcel is still with the seller.
fn with_the_seller() -> [&'static str; 2] {
    [Status::Booked.as_str(), Status::PickupScheduled.as_str()]
}

#[derive(Default, Clone, Debug)]
pub struct Filter {
    pub status: Option<Status>,
    pub channel: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    /// Tracking number, reference or recipient name.
    pub q: Option<String>,
    /// Only shipments with this tracking flag at these cutoffs.
    pub tracking: Option<(TrackingFlag, Cutoffs)>,
    /// Only shipments still with the seller whose label was never printed (what the
    /// dashboard counts).
    pub unprinted: bool,
}

fn filtered<'a>(
    seller_id: &'a str,
    f: &'a Filter,
) -> shipments::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend> {
    scoped(Some(seller_id), f)
}

/// The filter over one seller's shipments, or every seller's (`None`: the admin's view).
fn scoped<'a>(
    seller_id: Option<&'a str>,
    f: &'a Filter,
) -> shipments::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend> {
    let mut q = shipments::table.into_boxed();
    if let Some(id) = seller_id {
        q = q.filter(shipments::seller_id.eq(id));
    }
    if let Some((flag, c)) = &f.tracking {
        use diesel::dsl::{exists, not};
        let live: Vec<&'static str> = Status::ALL
            .into_iter()
            .filter(|s| is_live(*s))
            .map(Status::as_str)
            .collect();
        q = q.filter(shipments::status.eq_any(live));
        // Verified scans from outside Waybill (courier, warehouse, carrier).
        let scans = || {
            shipment_events::table
                .filter(shipment_events::shipment_id.eq(shipments::id))
                .filter(shipment_events::source.ne("system"))
        };
        let postal = || {
            channels::table
                .filter(channels::kind.eq("postal"))
                .select(channels::code)
        };
        match flag {
            TrackingFlag::NoTracking => {
                q = q
                    .filter(shipments::created_at.lt(c.booked_before))
                    .filter(not(exists(scans())));
            }
            TrackingFlag::Stale => {
                q = q.filter(exists(scans())).filter(
                    shipments::channel_code
                        .eq_any(postal())
                        .and(not(exists(scans().filter(
                            shipment_events::occurred_at.ge(c.stale_postal_before),
                        ))))
                        .or(shipments::channel_code.ne_all(postal()).and(not(exists(
                            scans().filter(shipment_events::occurred_at.ge(c.stale_express_before)),
                        )))),
                );
            }
        }
    }
    if f.unprinted {
        q = q
            .filter(shipments::status.eq_any(with_the_seller()))
            .filter(shipments::label_count.eq(0));
    }
    if let Some(s) = &f.status {
        q = q.filter(shipments::status.eq(s.as_str()));
    }
    if let Some(c) = &f.channel {
        q = q.filter(shipments::channel_code.eq(c));
    }
    if let Some(from) = f.from {
        q = q.filter(shipments::created_at.ge(from));
    }
    if let Some(to) = f.to {
        q = q.filter(shipments::created_at.lt(to));
    }
    if let Some(text) = &f.q {
        let like = format!("%{}%", text.to_lowercase().replace(['%', '_'], ""));
        q = q.filter(
            shipments::tracking_number
                .eq(text.to_uppercase())
                .or(lower(shipments::reference.assume_not_null()).like(like.clone()))
                .or(lower(shipments::recipient_name).like(like)),
        );
    }
    q
}

pub fn list(
    conn: &mut DbConn,
    seller_id: &str,
    f: &Filter,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<Shipment>> {
    filtered(seller_id, f)
        .order((shipments::created_at.desc(), shipments::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(Shipment::as_select())
        .load(conn)
}

pub fn count(conn: &mut DbConn, seller_id: &str, f: &Filter) -> QueryResult<i64> {
    filtered(seller_id, f).count().get_result(conn)
}

/// What a seller's dashboard lists under "Needs action".
#[derive(Clone, Copy, Debug, Default)]
pub struct ActionCounts {
    /// Open shipments whose label was never printed.
    pub unprinted: i64,
    /// Booked or in a scheduled pickup: not yet handed to a courier.
    pub awaiting: i64,
    /// Held at the warehouse or stopped by an exception.
    pub exceptions: i64,
    /// Pickups that failed or were missed in the last seven days.
    pub failed_pickups: i64,
}

pub fn action_counts(conn: &mut DbConn, seller_id: &str) -> QueryResult<ActionCounts> {
    use super::schema::pickups;
    let unprinted = count(
        conn,
        seller_id,
        &Filter {
            unprinted: true,
            ..Filter::default()
        },
    )?;
    let of_seller = |statuses: Vec<&'static str>| {
        shipments::table
            .filter(shipments::seller_id.eq(seller_id))
            .filter(shipments::status.eq_any(statuses))
            .count()
    };
    let awaiting = of_seller(with_the_seller().to_vec()).get_result(conn)?;
    let exceptions = of_seller(vec![Status::Exception.as_str()]).get_result(conn)?;
    let failed_pickups = pickups::table
        .filter(pickups::seller_id.eq(seller_id))
        .filter(
            pickups::status.eq_any([PickupStatus::Failed.as_str(), PickupStatus::Missed.as_str()]),
        )
        .filter(pickups::window_start.ge(super::now() - chrono::Duration::days(7)))
        .count()
        .get_result(conn)?;
    Ok(ActionCounts {
        unprinted,
        awaiting,
        exceptions,
        failed_pickups,
    })
}

/// Every seller's shipments matching `f`, oldest first (the admin's flagged view).
pub fn list_all(conn: &mut DbConn, f: &Filter, limit: i64) -> QueryResult<Vec<Shipment>> {
    scoped(None, f)
        .order((shipments::created_at.asc(), shipments::id.asc()))
        .limit(limit)
        .select(Shipment::as_select())
        .load(conn)
}

pub fn count_all(conn: &mut DbConn, f: &Filter) -> QueryResult<i64> {
    scoped(None, f).count().get_result(conn)
}

/// The time of each shipment's latest verified scan from outside Waybill.
pub fn last_scans(
    conn: &mut DbConn,
    ids: &[&str],
) -> QueryResult<Vec<(String, Option<NaiveDateTime>)>> {
    use diesel::dsl::max;
    shipment_events::table
        .filter(shipment_events::shipment_id.eq_any(ids))
        .filter(shipment_events::source.ne("system"))
        .group_by(shipment_events::shipment_id)
        .select((
            shipment_events::shipment_id,
            max(shipment_events::occurred_at),
        ))
        .load(conn)
}

/// Moves a shipment from `from` to `to`, the one way any status changes. The lifecycle rule
/// is checked here, and the update applies only if the shipment is still in `from`, in the
/// caller's transaction: `Ok(false)` if it moved meanwhile (reload and decide again).
/// Services call `services::shipments::change_status`, which also queues the seller's webhook.
pub fn set_status(conn: &mut DbConn, id: &str, from: Status, to: Status) -> QueryResult<bool> {
    if !from.can_move_to(to) {
        return Err(diesel::result::Error::QueryBuilderError(
            format!("the lifecycle does not allow {from} → {to}").into(),
        ));
    }
    let now = super::now();
    let n = diesel::update(
        shipments::table
            .filter(shipments::id.eq(id))
            .filter(shipments::status.eq(from.as_str())),
    )
    .set((
        shipments::status.eq(to.as_str()),
        shipments::updated_at.eq(now),
        // Only a cancellation stamps `cancelled_at`; other moves leave it alone.
        (to == Status::Cancelled).then(|| shipments::cancelled_at.eq(now)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Takes the channel's next tracking serial (inside the booking transaction).
pub fn take_serial(conn: &mut DbConn, channel_code: &str) -> QueryResult<i64> {
    let bump = super::prepared::BumpSerial { code: channel_code };
    let next: i64 = per_backend!(conn, |c| bump.get_result(c))?;
    Ok(next - 1)
}

/// Records one print of a shipment's label and counts it on the shipment.
pub fn record_print(
    conn: &mut DbConn,
    shipment_id: &str,
    user_id: &str,
    format: &str,
    size: &str,
) -> QueryResult<()> {
    use super::schema::label_prints;
    diesel::insert_into(label_prints::table)
        .values((
            label_prints::id.eq(super::new_id()),
            label_prints::shipment_id.eq(shipment_id),
            label_prints::user_id.eq(user_id),
            label_prints::format.eq(format),
            label_prints::size.eq(size),
            label_prints::created_at.eq(super::now()),
        ))
        .execute(conn)?;
    diesel::update(shipments::table.find(shipment_id))
        .set(shipments::label_count.eq(shipments::label_count + 1))
        .execute(conn)
        .map(|_| ())
}
