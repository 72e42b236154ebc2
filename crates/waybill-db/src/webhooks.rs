//! Seller webhook endpoints, their delivery outbox and the attempts log. Endpoint queries are
//! scoped by the seller's id; the worker's claim is the one place the backends differ.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use waybill_domain::delivery::{DeliveryStatus, EndpointStatus};

use super::DbConn;
use super::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints};

#[derive(Queryable, Selectable, Insertable, Clone)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    pub id: String,
    pub seller_id: String,
    pub url: String,
    pub events: String,
    /// Sealed (see `services::webhooks::SecretBox`); never shown after creation.
    pub secret: Vec<u8>,
    pub previous_secret: Option<Vec<u8>>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: EndpointStatus,
    pub disabled_reason: Option<String>,
    pub created_at: NaiveDateTime,
}

impl std::fmt::Debug for Endpoint {
    // The sealed keys stay out of logs as well.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    pub fn event_list(&self) -> Vec<String> {
        self.events
            .split(',')
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .collect()
    }

    pub fn wants(&self, event_type: &str) -> bool {
        self.events.split(',').any(|e| e == event_type)
    }
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: String,
    pub endpoint_id: String,
    pub webhook_id: String,
    pub event_type: String,
    pub payload: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_status_code: Option<i32>,
    pub last_duration_ms: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
    pub claimed_by: Option<String>,
    pub claimed_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable, Clone, Debug)]
#[diesel(table_name = webhook_attempts)]
pub struct Attempt {
    pub id: String,
    pub delivery_id: String,
    pub attempt: i32,
    pub attempted_at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub duration_ms: i64,
    pub error: Option<String>,
}

/// One line of the delivery log: an attempt and what it delivered.
#[derive(Clone, Debug)]
pub struct LogLine {
    pub attempt: Attempt,
    pub webhook_id: String,
    pub event_type: String,
    pub delivery_status: DeliveryStatus,
}

pub fn insert_endpoint(conn: &mut DbConn, e: &Endpoint) -> QueryResult<()> {
    diesel::insert_into(webhook_endpoints::table)
        .values(e.clone())
        .execute(conn)
        .map(|_| ())
}

pub fn list_endpoints(conn: &mut DbConn, seller_id: &str) -> QueryResult<Vec<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::seller_id.eq(seller_id))
        .order((
            webhook_endpoints::created_at.asc(),
            webhook_endpoints::id.asc(),
        ))
        .select(Endpoint::as_select())
        .load(conn)
}

pub fn find_endpoint(
    conn: &mut DbConn,
    seller_id: &str,
    id: &str,
) -> QueryResult<Option<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::seller_id.eq(seller_id))
        .filter(webhook_endpoints::id.eq(id))
        .select(Endpoint::as_select())
        .get_result(conn)
        .optional()
}

/// The seller's active endpoints: where an event may go.
pub fn active_endpoints(conn: &mut DbConn, seller_id: &str) -> QueryResult<Vec<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::seller_id.eq(seller_id))
        .filter(webhook_endpoints::status.eq(EndpointStatus::Active.as_str()))
        .select(Endpoint::as_select())
        .load(conn)
}

/// Endpoints by id, whoever's (the worker's lookup for the deliveries it claimed).
pub fn endpoints_by_id(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::id.eq_any(ids))
        .select(Endpoint::as_select())
        .load(conn)
}

/// Deletes an endpoint with its deliveries and their log; `false` if the seller has none so.
pub fn delete_endpoint(conn: &mut DbConn, seller_id: &str, id: &str) -> QueryResult<bool> {
    let n = diesel::delete(
        webhook_endpoints::table
            .filter(webhook_endpoints::seller_id.eq(seller_id))
            .filter(webhook_endpoints::id.eq(id)),
    )
    .execute(conn)?;
    Ok(n == 1)
}

/// Puts a new key in place and keeps the old one signing until `old_until`.
pub fn rotate_secret(
    conn: &mut DbConn,
    seller_id: &str,
    id: &str,
    new_secret: &[u8],
    old_secret: &[u8],
    old_until: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        webhook_endpoints::table
            .filter(webhook_endpoints::seller_id.eq(seller_id))
            .filter(webhook_endpoints::id.eq(id)),
    )
    .set((
        webhook_endpoints::secret.eq(new_secret),
        webhook_endpoints::previous_secret.eq(Some(old_secret)),
        webhook_endpoints::previous_secret_expires_at.eq(Some(old_until)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Disables an endpoint (the receiver answered 410 Gone) and gives up its pending deliveries.
pub fn disable_endpoint(conn: &mut DbConn, id: &str, reason: &str) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.find(id))
        .set((
            webhook_endpoints::status.eq(EndpointStatus::Disabled.as_str()),
            webhook_endpoints::disabled_reason.eq(reason),
        ))
        .execute(conn)?;
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(id))
            .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str())),
    )
    .set((
        webhook_deliveries::status.eq(DeliveryStatus::Failed.as_str()),
        webhook_deliveries::last_error.eq("endpoint disabled"),
        webhook_deliveries::claimed_by.eq(None::<String>),
        webhook_deliveries::claimed_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
    .map(|_| ())
}

pub fn insert_delivery(conn: &mut DbConn, d: &Delivery) -> QueryResult<()> {
    diesel::insert_into(webhook_deliveries::table)
        .values(d.clone())
        .execute(conn)
        .map(|_| ())
}

/// Takes up to `limit` due deliveries for worker `me` until `until`. On PostgreSQL the due
/// rows are locked with `FOR UPDATE SKIP LOCKED`, so servers claiming at once take different
/// rows; the conditional update then holds them by lease for the length of the attempt.
/// SQLite has one writer per file (`write_tx`), so the same statements are enough there.
pub fn claim_due(
    conn: &mut DbConn,
    me: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Delivery>> {
    let due = webhook_deliveries::table
        .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(
            webhook_deliveries::claimed_until
                .is_null()
                .or(webhook_deliveries::claimed_until.lt(now)),
        )
        .order(webhook_deliveries::next_attempt_at.asc())
        .limit(limit)
        .select(webhook_deliveries::id);
    let ids: Vec<String> = match conn {
        DbConn::Postgres(c) => due.for_update().skip_locked().load(c)?,
        DbConn::Sqlite(c) => due.load(c)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq_any(&ids))
            .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
            .filter(
                webhook_deliveries::claimed_until
                    .is_null()
                    .or(webhook_deliveries::claimed_until.lt(now)),
            ),
    )
    .set((
        webhook_deliveries::claimed_by.eq(me),
        webhook_deliveries::claimed_until.eq(until),
    ))
    .execute(conn)?;
    webhook_deliveries::table
        .filter(webhook_deliveries::id.eq_any(&ids))
        .filter(webhook_deliveries::claimed_by.eq(me))
        .filter(webhook_deliveries::claimed_until.eq(until))
        .select(Delivery::as_select())
        .load(conn)
}

/// When the next pending delivery falls due (for the worker's sleep).
pub fn next_due(conn: &mut DbConn) -> QueryResult<Option<NaiveDateTime>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
        .select(diesel::dsl::min(webhook_deliveries::next_attempt_at))
        .get_result(conn)
}

/// What one attempt came to, as the worker records it.
pub struct Outcome<'a> {
    pub attempt: &'a Attempt,
    /// Delivered, pending (retry at `next_attempt_at`) or failed (given up).
    pub status: DeliveryStatus,
    pub next_attempt_at: NaiveDateTime,
}

/// Records an attempt and its outcome, if worker `me` still holds the delivery's lease
/// (`false` otherwise: the lease ran out and the attempt is not counted twice).
pub fn record_attempt(conn: &mut DbConn, me: &str, o: &Outcome) -> QueryResult<bool> {
    let a = o.attempt;
    let n = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(&a.delivery_id))
            .filter(webhook_deliveries::claimed_by.eq(me))
            .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str())),
    )
    .set((
        webhook_deliveries::status.eq(o.status.as_str()),
        webhook_deliveries::attempts.eq(a.attempt),
        webhook_deliveries::next_attempt_at.eq(o.next_attempt_at),
        webhook_deliveries::last_status_code.eq(a.status_code),
        webhook_deliveries::last_duration_ms.eq(a.duration_ms),
        webhook_deliveries::last_error.eq(&a.error),
        webhook_deliveries::delivered_at
            .eq((o.status == DeliveryStatus::Delivered).then_some(a.attempted_at)),
        webhook_deliveries::claimed_by.eq(None::<String>),
        webhook_deliveries::claimed_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    diesel::insert_into(webhook_attempts::table)
        .values(a.clone())
        .execute(conn)?;
    Ok(true)
}

/// Gives up a claimed delivery without an attempt (its endpoint went away or was disabled).
pub fn abandon(conn: &mut DbConn, me: &str, id: &str, reason: &str) -> QueryResult<()> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::claimed_by.eq(me)),
    )
    .set((
        webhook_deliveries::status.eq(DeliveryStatus::Failed.as_str()),
        webhook_deliveries::last_error.eq(reason),
        webhook_deliveries::claimed_by.eq(None::<String>),
        webhook_deliveries::claimed_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
    .map(|_| ())
}

/// The endpoint's deliveries, newest first.
pub fn deliveries(conn: &mut DbConn, endpoint_id: &str, limit: i64) -> QueryResult<Vec<Delivery>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .order((
            webhook_deliveries::created_at.desc(),
            webhook_deliveries::id.desc(),
        ))
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)
}

/// The attempts of the given deliveries, oldest first.
pub fn attempts_of(conn: &mut DbConn, delivery_ids: &[String]) -> QueryResult<Vec<Attempt>> {
    webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(delivery_ids))
        .order((
            webhook_attempts::attempted_at.asc(),
            webhook_attempts::attempt.asc(),
        ))
        .select(Attempt::as_select())
        .load(conn)
}

/// The seller's delivery log across endpoints, newest attempt first.
pub fn log_for_seller(conn: &mut DbConn, seller_id: &str, limit: i64) -> QueryResult<Vec<LogLine>> {
    let rows: Vec<(Attempt, String, String, String)> = webhook_attempts::table
        .inner_join(webhook_deliveries::table.inner_join(webhook_endpoints::table))
        .filter(webhook_endpoints::seller_id.eq(seller_id))
        .order((
            webhook_attempts::attempted_at.desc(),
            webhook_attempts::id.desc(),
        ))
        .limit(limit)
        .select((
            Attempt::as_select(),
            webhook_deliveries::webhook_id,
            webhook_deliveries::event_type,
            webhook_deliveries::status,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(
            |(attempt, webhook_id, event_type, delivery_status): (_, _, _, String)| {
                Ok(LogLine {
                    attempt,
                    webhook_id,
                    event_type,
                    delivery_status: DeliveryStatus::try_from(delivery_status)
                        .map_err(|e| diesel::result::Error::DeserializationError(e.into()))?,
                })
            },
        )
        .collect()
}

/// The endpoint a delivery goes to.
pub fn endpoint_of(conn: &mut DbConn, delivery_id: &str) -> QueryResult<Option<String>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(delivery_id))
        .select(webhook_deliveries::endpoint_id)
        .get_result(conn)
        .optional()
}
