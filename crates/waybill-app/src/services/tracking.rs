//! Recording verified tracking events: from a courier's or warehouse's scan (`record`) or a
//! signed carrier request (`ingest_carrier_events`). Each event is stored once per source
//! event id, appended to the transparency log in the same transaction, and the shipment's
//! status is recomputed from all its events with the lifecycle rules (never backwards).

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::services::tracking_log::{Appender, record_of};
use waybill_db::channels::Channel;
use waybill_db::shipments::{Shipment, ShipmentEvent};
pub use waybill_db::tracking::TrackingIssue;
use waybill_db::tracking::{self as store, TrackingRequest};
use waybill_db::{self as db, DbConn};
use waybill_domain::Status;
use waybill_domain::carrier_events::{CodeFamily, resolve_status};
use waybill_domain::status::{Happening, derive_status};
use waybill_domain::tracking_flags::{Cutoffs, TrackingFlag};

/// One event as a courier, warehouse or carrier reports it.
#[derive(Clone, Debug)]
pub struct EventInput {
    /// `courier:<user id>`, `warehouse:<user id>`, `carrier:<channel>` or `system`.
    pub source: String,
    /// The source's own id for the event: accepted once per source.
    pub source_event_id: Option<String>,
    pub status: Status,
    /// The carrier's event code, kept as sent.
    pub code: Option<String>,
    pub occurred_at: NaiveDateTime,
    pub location: Option<String>,
    pub description: String,
    /// The raw request body the event came in, kept beside it.
    pub raw: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Stored and logged; the shipment's status after it.
    Accepted { event_id: String, status: Status },
    /// This source sent this event id before: nothing new stored.
    Duplicate,
}

pub fn courier_source(user_id: &str) -> String {
    format!("courier:{user_id}")
}

pub fn warehouse_source(user_id: &str) -> String {
    format!("warehouse:{user_id}")
}

pub fn carrier_source(channel: &str) -> String {
    format!("carrier:{channel}")
}

/// Records one verified event for `shipment` (a courier's pickup scan, a warehouse receipt…)
/// in its own write transaction.
pub fn record(
    conn: &mut DbConn,
    shipment: &Shipment,
    input: EventInput,
) -> Result<Recorded, AppError> {
    db::write_tx(conn, |c| record_in(c, shipment, input))
}

/// The same inside the caller's write transaction (for a scan that writes more besides).
pub fn record_in(
    c: &mut DbConn,
    shipment: &Shipment,
    mut input: EventInput,
) -> Result<Recorded, AppError> {
    let mut batch = Batch::open(c)?;
    // A replay stores nothing, not even its request (the head lock makes this check final).
    if let Some(sid) = &input.source_event_id {
        if !store::known_source_ids(c, &input.source, &[sid.as_str()])?.is_empty() {
            return Ok(Recorded::Duplicate);
        }
    }
    let request_id = match input.raw.take() {
        Some(body) => Some(store_request(c, &input.source, body)?),
        None => None,
    };
    let out = batch.add(c, shipment, input, request_id)?;
    let statuses = batch.close(c)?;
    Ok(match out {
        Some(event_id) => Recorded::Accepted {
            event_id,
            status: statuses
                .get(shipment.id.as_str())
                .copied()
                .unwrap_or(shipment.status),
        },
        None => Recorded::Duplicate,
    })
}

fn store_request(c: &mut DbConn, source: &str, body: String) -> Result<String, AppError> {
    let r = TrackingRequest {
        id: db::new_id(),
        source: source.to_string(),
        digest: crate::security::sha256_hex(&body),
        body,
        received_at: db::now(),
    };
    store::insert_request(c, &r)?;
    Ok(r.id)
}

/// Events added in one transaction: the log's head is locked from `open` to `close`.
struct Batch {
    log: Appender,
    events: Vec<ShipmentEvent>,
    seen: HashSet<(String, String)>,
    touched: BTreeSet<String>,
}

impl Batch {
    fn open(c: &mut DbConn) -> Result<Batch, AppError> {
        Ok(Batch {
            log: Appender::open(c)?,
            events: Vec::new(),
            seen: HashSet::new(),
            touched: BTreeSet::new(),
        })
    }

    /// Adds one event unless its source sent its id before; `None` for a duplicate.
    fn add(
        &mut self,
        c: &mut DbConn,
        shipment: &Shipment,
        input: EventInput,
        request_id: Option<String>,
    ) -> Result<Option<String>, AppError> {
        if let Some(sid) = &input.source_event_id {
            let key = (input.source.clone(), sid.clone());
            if self.seen.contains(&key)
                || !store::known_source_ids(c, &input.source, &[sid.as_str()])?.is_empty()
            {
                return Ok(None);
            }
            self.seen.insert(key);
        }
        Ok(Some(self.add_new(c, shipment, input, request_id, None)?))
    }

    /// Adds an event already known to be new (the carrier path checks a whole batch at once).
    fn add_new(
        &mut self,
        c: &mut DbConn,
        shipment: &Shipment,
        input: EventInput,
        request_id: Option<String>,
        digest: Option<&str>,
    ) -> Result<String, AppError> {
        let now = db::now();
        let mut e = ShipmentEvent {
            id: db::new_id(),
            shipment_id: shipment.id.to_string(),
            status: input.status,
            occurred_at: input.occurred_at,
            location: input.location,
            description: input.description,
            source: input.source,
            verified: true,
            created_at: now,
            code: input.code,
            source_event_id: input.source_event_id,
            received_at: now,
            request_id,
            log_index: Some(self.log.next_index()),
        };
        let digest = match (digest, &e.request_id) {
            (Some(d), _) => Some(d.to_string()),
            (None, Some(rid)) => store::requests(c, &[rid.as_str()])?
                .first()
                .map(|r| r.digest.clone()),
            (None, None) => None,
        };
        let index = self.log.append(
            c,
            &record_of(&e, &shipment.tracking_number, digest.as_deref()),
        )?;
        e.log_index = Some(index);
        let id = e.id.clone();
        self.touched.insert(shipment.id.to_string());
        self.events.push(e);
        Ok(id)
    }

    /// Stores the events and the log's new hashes, then moves each touched shipment to the
    /// status its events yield. Returns the statuses after.
    fn close(self, c: &mut DbConn) -> Result<HashMap<String, Status>, AppError> {
        store::insert_events(c, &self.events)?;
        self.log.close(c)?;
        let touched: Vec<&str> = self.touched.iter().map(String::as_str).collect();
        settle_statuses(c, &touched)
    }
}

/// Moves a shipment to the status its events yield, in timeline order whatever order they
/// arrived in; a status the lifecycle does not allow from the current one (a late event that
/// would move it back) leaves it where it is.
pub fn settle_status(c: &mut DbConn, shipment_id: &str) -> Result<Status, AppError> {
    settle_statuses(c, &[shipment_id])?
        .remove(shipment_id)
        .ok_or(AppError::NotFound)
}

/// `settle_status` for several shipments at once: their rows and their events' status inputs
/// in one query each (per 500), then each change through `change_status`, in id order
/// (writers of events hold the tracking log's head, so they do not interleave here; other
/// writers may, see `move_to`). Returns the statuses after, by shipment id.
pub fn settle_statuses(
    c: &mut DbConn,
    shipment_ids: &[&str],
) -> Result<HashMap<String, Status>, AppError> {
    let shipments = store::shipments_by_id(c, shipment_ids)?;
    let mut happenings: HashMap<String, Vec<Happening<NaiveDateTime>>> = HashMap::new();
    for e in store::status_inputs(c, shipment_ids)? {
        let key = format!(
            "{}:{}",
            e.source,
            e.source_event_id.as_deref().unwrap_or(&e.id)
        );
        happenings
            .entry(e.shipment_id)
            .or_default()
            .push(Happening {
                at: e.occurred_at,
                status: e.status,
                key,
            });
    }
    let mut after = HashMap::with_capacity(shipments.len());
    for s in shipments {
        let mut events = happenings.remove(s.id.as_str()).unwrap_or_default();
        let target = derive_status(Status::Booked, &mut events);
        let id = s.id.to_string();
        after.insert(id, move_to(c, s, target)?);
    }
    Ok(after)
}

/// Moves `s` to `target` if the lifecycle allows it from where the shipment is. The rows were
/// read without a lock: when another writer moved one meanwhile (a pickup booked, a
/// cancellation), it is read again and decided again, rather than failing the whole batch.
fn move_to(c: &mut DbConn, mut s: Shipment, target: Status) -> Result<Status, AppError> {
    for _ in 0..3 {
        if target == s.status || !s.status.can_move_to(target) {
            return Ok(s.status);
        }
        if crate::services::shipments::change_status(c, &s, target)? {
            return Ok(target);
        }
        s = store::shipment_by_id(c, &s.id)?.ok_or(AppError::NotFound)?;
    }
    Err(AppError::Conflict(
        "The shipment keeps changing; retry.".into(),
    ))
}

/// The body of `POST /api/v1/carrier-events` (unknown fields ignored).
#[derive(Deserialize)]
pub struct CarrierBatch {
    pub events: Vec<CarrierEvent>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CarrierEvent {
    pub id: Option<serde_json::Value>,
    pub tracking_number: Option<String>,
    pub status: Option<String>,
    pub occurred_at: Option<String>,
    pub location: Option<String>,
    pub description: Option<String>,
    pub code: Option<String>,
    pub weight_g: Option<i64>,
}

#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct EventResult {
    pub id: String,
    /// `accepted`, `duplicate` or `rejected`.
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Most events one carrier request may carry.
pub const MAX_EVENTS: usize = 1_000;

/// How long before its booking a carrier event may have happened.
pub const EARLIEST_DAYS: i64 = 30;

/// Why one carrier event cannot be taken, before any database lookup.
fn parse_carrier_event(
    e: &CarrierEvent,
    family: Option<CodeFamily>,
    now: NaiveDateTime,
) -> Result<(String, String, EventInput), (String, String)> {
    let id = match &e.id {
        Some(serde_json::Value::String(s)) => s.trim().to_string(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let number = e
        .tracking_number
        .as_deref()
        .unwrap_or("")
        .trim()
        .to_ascii_uppercase();
    let bad = |why: &str| Err((waybill_domain::text::printable(&id), why.to_string()));
    // Every string of the event under the rules all other input keeps: no control
    // characters (a NUL would fail the whole batch on PostgreSQL) and no direction overrides.
    for (field, value) in [
        ("id", Some(id.as_str())),
        ("tracking_number", e.tracking_number.as_deref()),
        ("status", e.status.as_deref()),
        ("occurred_at", e.occurred_at.as_deref()),
        ("location", e.location.as_deref()),
        ("description", e.description.as_deref()),
        ("code", e.code.as_deref()),
    ] {
        if let Some(Err(why)) = value.map(|v| waybill_domain::text::clean(v, field, usize::MAX)) {
            return bad(&format!("`{field}`: {why}"));
        }
    }
    if id.is_empty() || id.len() > 128 {
        return bad("`id` must be 1 to 128 characters");
    }
    if number.is_empty() || number.len() > 40 {
        return bad("`tracking_number` is missing");
    }
    let named = match e.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match Status::parse(s) {
            Some(st) if st != Status::Draft => Some(st),
            _ => return bad(&format!("unknown status `{s}`")),
        },
    };
    let status = match resolve_status(family, e.code.as_deref(), named) {
        Ok(s) => s,
        Err(why) => return bad(&why),
    };
    if matches!(
        status,
        Status::Booked | Status::PickupScheduled | Status::Cancelled
    ) {
        return bad(&format!("a carrier cannot report `{status}`"));
    }
    let occurred_at = match e.occurred_at.as_deref().map(DateTime::parse_from_rfc3339) {
        Some(Ok(t)) => {
            let t = t.naive_utc();
            // Both databases keep microseconds, and neither keeps a leap second (PostgreSQL
            // turns 23:59:60 into the next day's 00:00:00): a leap second is taken as
            // 23:59:59.999999, so the stored time is the one the log record holds.
            let micros = t.and_utc().timestamp_subsec_micros().min(999_999);
            chrono::Timelike::with_nanosecond(&t, micros * 1000).unwrap_or(t)
        }
        _ => return bad("`occurred_at` must be an RFC 3339 time, e.g. 2026-12-01T08:30:00Z"),
    };
    if occurred_at > now + chrono::Duration::hours(24) {
        return bad("`occurred_at` is in the future");
    }
    let location = e
        .location
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string);
    if location.as_ref().is_some_and(|l| l.chars().count() > 200) {
        return bad("`location` must be at most 200 characters");
    }
    let description = e.description.as_deref().unwrap_or("").trim().to_string();
    if description.chars().count() > 500 {
        return bad("`description` must be at most 500 characters");
    }
    let description = if description.is_empty() {
        status.label().to_string()
    } else {
        description
    };
    let code = e
        .code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c.chars().take(16).collect());
    Ok((
        id.clone(),
        number,
        EventInput {
            source: String::new(),
            source_event_id: Some(id),
            status,
            code,
            occurred_at,
            location,
            description,
            raw: None,
        },
    ))
}

/// Takes the events of one authenticated carrier request (signature, channel and timestamp
/// already checked): keeps the raw body, stores each new event of a shipment booked on
/// `channel`, acknowledges replays as duplicates and logs every rejection. One transaction.
pub fn ingest_carrier_events(
    conn: &mut DbConn,
    channel: &Channel,
    body: &str,
    batch: &CarrierBatch,
) -> Result<Vec<EventResult>, AppError> {
    let source = carrier_source(&channel.code);
    let family = CodeFamily::of_carrier(&channel.carrier);
    let digest = crate::security::sha256_hex(body);
    let now = db::now();
    let parsed: Vec<_> = batch
        .events
        .iter()
        .map(|e| parse_carrier_event(e, family, now))
        .collect();
    db::write_tx(conn, |c| {
        let mut b = Batch::open(c)?;
        // The raw body is kept with the first new event it brings: a replay, or a batch of
        // rejections only, stores no copy (20 replays of a 527 KB batch added 10.5 MB).
        let mut request_id: Option<String> = None;
        let numbers: Vec<&str> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok().map(|(_, n, _)| n.as_str()))
            .collect();
        let shipments: HashMap<String, Shipment> = store::shipments_by_number(c, &numbers)?
            .into_iter()
            .map(|s| (s.tracking_number.clone(), s))
            .collect();
        let ids: Vec<&str> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok().map(|(id, _, _)| id.as_str()))
            .collect();
        let known: HashSet<String> = store::known_source_ids(c, &source, &ids)?
            .into_iter()
            .collect();
        let mut results = Vec::with_capacity(parsed.len());
        let mut issues = Vec::new();
        let mut seen = HashSet::new();
        for (raw, p) in batch.events.iter().zip(parsed) {
            let (id, number, mut input) = match p {
                Ok(ok) => ok,
                Err((id, why)) => {
                    issues.push(issue(
                        channel,
                        &source,
                        &id,
                        raw.tracking_number.as_deref(),
                        &why,
                        &digest,
                    ));
                    results.push(rejected(id, why));
                    continue;
                }
            };
            if known.contains(&id) || !seen.insert(id.clone()) {
                results.push(EventResult {
                    id,
                    result: "duplicate",
                    reason: None,
                });
                continue;
            }
            // The same answer for an unknown number and another channel's: numbers are guessable.
            let Some(s) = shipments
                .get(&number)
                .filter(|s| s.channel_code == channel.code)
            else {
                let why = format!("{number} is not booked on {}", channel.code);
                issues.push(issue(channel, &source, &id, Some(&number), &why, &digest));
                results.push(rejected(id, why));
                continue;
            };
            // A carrier's clock, or a parcel handed over before it was declared, can put an
            // event shortly before the booking; a month before is no event of this parcel.
            if input.occurred_at < s.created_at - chrono::Duration::days(EARLIEST_DAYS) {
                let why = format!(
                    "`occurred_at` is more than {EARLIEST_DAYS} days before {number} was booked"
                );
                issues.push(issue(channel, &source, &id, Some(&number), &why, &digest));
                results.push(rejected(id, why));
                continue;
            }
            input.source = source.clone();
            let rid = match &request_id {
                Some(r) => r.clone(),
                None => request_id
                    .insert(store_request(c, &source, body.to_string())?)
                    .clone(),
            };
            b.add_new(c, s, input, Some(rid), Some(&digest))?;
            results.push(EventResult {
                id,
                result: "accepted",
                reason: None,
            });
        }
        b.close(c)?;
        store::insert_issues(c, &issues)?;
        Ok(results)
    })
}

fn rejected(id: String, why: String) -> EventResult {
    EventResult {
        id,
        result: "rejected",
        reason: Some(why),
    }
}

fn issue(
    channel: &Channel,
    source: &str,
    event_id: &str,
    number: Option<&str>,
    why: &str,
    digest: &str,
) -> TrackingIssue {
    TrackingIssue {
        id: db::new_id(),
        channel_code: Some(channel.code.clone()),
        source: source.to_string(),
        event_id: Some(
            waybill_domain::text::printable(event_id)
                .chars()
                .take(128)
                .collect(),
        )
        .filter(|s: &String| !s.is_empty()),
        tracking_number: number.map(|n| {
            waybill_domain::text::printable(n)
                .chars()
                .take(40)
                .collect()
        }),
        reason: why.to_string(),
        request_digest: Some(digest.to_string()),
        created_at: db::now(),
    }
}

/// Logs a request refused as a whole (bad signature, unknown channel, stale timestamp…):
/// nothing of it is stored but this line for the admin.
pub fn log_refused_request(
    conn: &mut DbConn,
    channel: Option<&str>,
    why: &str,
    digest: Option<String>,
) -> Result<(), AppError> {
    store::insert_issue(
        conn,
        &TrackingIssue {
            id: db::new_id(),
            channel_code: channel.map(|c| c.chars().take(64).collect()),
            source: "carrier-webhook".into(),
            event_id: None,
            tracking_number: None,
            reason: why.to_string(),
            request_digest: digest,
            created_at: db::now(),
        },
    )?;
    Ok(())
}

/// Rejected requests kept for the admin: those of the last `ISSUES_KEPT_DAYS` days, and never
/// more than the newest `ISSUES_KEPT`, however many bad requests arrive.
pub const ISSUES_KEPT_DAYS: i64 = 30;
pub const ISSUES_KEPT: i64 = 50_000;

/// Deletes the rejections past those limits, and raw requests as old that no event points at
/// (a periodic job); returns how many went.
pub fn prune_issues(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, AppError> {
    let before = now - chrono::Duration::days(ISSUES_KEPT_DAYS);
    db::write_tx(conn, |c| {
        Ok::<_, AppError>(
            store::prune_issues(c, before, ISSUES_KEPT)?
                + store::prune_unreferenced_requests(c, before)?,
        )
    })
}

/// What the admin's Tracking page shows: the log's size and latest checkpoint, whether this
/// server may sign the next one, refused requests, and the shipments flagged as having no
/// or stale tracking (count and the oldest 50 of each, across sellers).
pub struct Overview {
    pub log_size: i64,
    pub checkpoint: Option<String>,
    pub can_checkpoint: bool,
    pub issues: Vec<TrackingIssue>,
    pub flagged: Vec<(TrackingFlag, i64, Vec<Shipment>)>,
}

pub fn overview(
    conn: &mut DbConn,
    key: &crate::services::tracking_log::LogKey,
    cutoffs: Cutoffs,
) -> Result<Overview, AppError> {
    let mut flagged = Vec::new();
    for flag in [TrackingFlag::NoTracking, TrackingFlag::Stale] {
        let f = db::shipments::Filter {
            tracking: Some((flag, cutoffs)),
            ..Default::default()
        };
        flagged.push((
            flag,
            db::shipments::count_all(conn, &f)?,
            db::shipments::list_all(conn, &f, 50)?,
        ));
    }
    Ok(Overview {
        log_size: store::head_size(conn)?,
        checkpoint: store::latest_checkpoint(conn)?.map(|c| c.note),
        can_checkpoint: crate::services::tracking_log::can_checkpoint(conn, key)?,
        issues: store::recent_issues(conn, 200)?,
        flagged,
    })
}
