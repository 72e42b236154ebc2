//! What anyone may see of a shipment by its tracking number: status, channel, origin and
//! destination city and country, the verified timeline with each event's log record and
//! inclusion proof, and the latest signed checkpoint. Never names, streets, postal codes,
//! phones or e-mails: the view is built field by field from what may be shown.

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::AppError;
use crate::services::tracking_log::cache::{LogEntry, TrackingCache};
use waybill_db::DbConn;
use waybill_db::tracking as store;
use waybill_domain::Status;

#[derive(Serialize, Clone, Debug)]
pub struct Place {
    pub city: String,
    pub country: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct ChannelRef {
    pub code: String,
    pub name: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct Estimate {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Serialize, Clone, Debug)]
pub struct PublicEvent {
    #[serde(serialize_with = "as_name")]
    pub status: Status,
    pub occurred_at: String,
    pub location: Option<String>,
    pub description: String,
    pub verified: bool,
    /// `{"index", "record", "inclusion"}`; null while the event is newer than the latest
    /// checkpoint.
    pub log: Option<LogEntry>,
}

fn as_name<S: serde::Serializer>(s: &Status, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.as_str())
}

#[derive(Serialize, Clone, Debug)]
pub struct PublicTracking {
    pub tracking_number: String,
    #[serde(serialize_with = "as_name")]
    pub status: Status,
    pub channel: ChannelRef,
    pub origin: Place,
    pub destination: Place,
    pub estimated_delivery: Option<Estimate>,
    pub events: Vec<PublicEvent>,
    /// The latest signed checkpoint of the tracking log (C2SP tlog-checkpoint, signed note).
    pub checkpoint: Option<String>,
}

/// The public view with each logged event's record and inclusion proof and the latest
/// checkpoint (the JSON): a query for the shipment and one for its events; records, proofs
/// and the checkpoint come from `cache`.
pub fn public_view(
    conn: &mut DbConn,
    cache: &TrackingCache,
    number: &str,
) -> Result<Option<PublicTracking>, AppError> {
    view(conn, number, Some(cache))
}

/// The public view without the log (no records, proofs or checkpoint): what the tracking
/// page prints.
pub fn page_view(conn: &mut DbConn, number: &str) -> Result<Option<PublicTracking>, AppError> {
    view(conn, number, None)
}

fn view(
    conn: &mut DbConn,
    number: &str,
    log: Option<&TrackingCache>,
) -> Result<Option<PublicTracking>, AppError> {
    let number = number.trim().to_ascii_uppercase();
    if number.is_empty() || number.len() > 40 {
        return Ok(None);
    }
    let Some((s, channel)) = store::public_shipment(conn, &number)? else {
        return Ok(None);
    };
    let stored = store::public_events(conn, &s.id)?;
    let checkpoint = match log {
        Some(cache) => cache.latest_checkpoint(conn)?,
        None => None,
    };
    let proven = checkpoint.as_ref().map(|c| c.tree_size).unwrap_or(0);
    let indexes: Vec<u64> = stored
        .iter()
        .filter_map(|e| e.log_index)
        .filter(|&i| i < proven)
        .map(|i| i as u64)
        .collect();
    let entries = match log {
        Some(cache) if !indexes.is_empty() => {
            cache.log_entries(conn, proven as u64, (&s.id, &s.tracking_number), &indexes)?
        }
        _ => Vec::new(),
    };
    let mut entries = entries.into_iter();
    let mut events = Vec::with_capacity(stored.len());
    for e in stored {
        let log =
            match e.log_index {
                Some(index) if index < proven => Some(entries.next().ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!("a log entry went missing"))
                })?),
                _ => None,
            };
        events.push(PublicEvent {
            status: e.status,
            occurred_at: e.occurred_at.and_utc().to_rfc3339(),
            location: e.location,
            description: e.description,
            verified: e.verified,
            log,
        });
    }
    let estimated_delivery = match &channel {
        Some(c) if !s.status.is_terminal() => {
            let booked = s.created_at.date();
            Some(Estimate {
                from: booked + chrono::Days::new(c.transit_min_days.max(0) as u64),
                to: booked + chrono::Days::new(c.transit_max_days.max(0) as u64),
            })
        }
        _ => None,
    };
    Ok(Some(PublicTracking {
        channel: ChannelRef {
            name: channel
                .map(|c| format!("{} {}", c.carrier, c.service))
                .unwrap_or_else(|| s.channel_code.clone()),
            code: s.channel_code,
        },
        tracking_number: s.tracking_number,
        status: s.status,
        // The city in Latin letters where the address has them: the buyer abroad reads
        // Shenzhen, not 深圳.
        origin: Place {
            city: s.sender.latin_city().to_string(),
            country: s.sender.country.clone(),
        },
        destination: Place {
            city: s.recipient_city,
            country: s.recipient_country,
        },
        estimated_delivery,
        events,
        checkpoint: checkpoint.map(|c| c.note.clone()),
    }))
}
