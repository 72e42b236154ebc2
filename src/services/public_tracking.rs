//! What anyone may see of a shipment by its tracking number: status, channel, origin and
//! destination city and country, the verified timeline with each event's log record and
//! inclusion proof, and the latest signed checkpoint. Never names, streets, postal codes,
//! phones or e-mails: the view is built field by field from what may be shown.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::NaiveDate;
use serde::Serialize;

use crate::db::DbConn;
use crate::db::tracking as store;
use crate::domain::Status;
use crate::error::AppError;
use crate::services::tracking_log::{inclusion_proof, record_of};

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
pub struct LogProof {
    pub index: i64,
    /// Base64 of the exact bytes logged.
    pub record: String,
    /// The RFC 9162 audit path from the leaf up, base64 hashes.
    pub inclusion: Vec<String>,
}

#[derive(Serialize, Clone, Debug)]
pub struct PublicEvent {
    #[serde(serialize_with = "as_name")]
    pub status: Status,
    pub occurred_at: String,
    pub location: Option<String>,
    pub description: String,
    pub verified: bool,
    /// Null while the event is newer than the latest checkpoint.
    pub log: Option<LogProof>,
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

pub fn public_view(conn: &mut DbConn, number: &str) -> Result<Option<PublicTracking>, AppError> {
    let number = number.trim().to_ascii_uppercase();
    if number.is_empty() || number.len() > 40 {
        return Ok(None);
    }
    let Some(s) = store::shipments_by_number(conn, &[number.as_str()])?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let channel = crate::db::channels::find(conn, &s.channel_code)?;
    let sender: crate::domain::address::Address =
        serde_json::from_str(&s.sender).map_err(AppError::internal)?;
    let checkpoint = store::latest_checkpoint(conn)?;
    let proven = checkpoint.as_ref().map(|c| c.tree_size).unwrap_or(0);
    let mut events = Vec::new();
    for (e, tn, digest) in store::events_with_digests(conn, &s.id)? {
        // Only events in the log are shown: they are the verified ones anyone can check.
        let Some(index) = e.log_index else { continue };
        let log = if index < proven {
            let proof = inclusion_proof(conn, proven as u64, index as u64)?;
            Some(LogProof {
                index,
                record: B64.encode(record_of(&e, &tn, digest.as_deref())),
                inclusion: proof.iter().map(|h| B64.encode(h.0)).collect(),
            })
        } else {
            None
        };
        events.push(PublicEvent {
            status: e.status,
            occurred_at: e.occurred_at.and_utc().to_rfc3339(),
            location: e.location.clone(),
            description: e.description.clone(),
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
        tracking_number: s.tracking_number.clone(),
        status: s.status,
        channel: ChannelRef {
            code: s.channel_code.clone(),
            name: channel
                .map(|c| format!("{} {}", c.carrier, c.service))
                .unwrap_or_else(|| s.channel_code.clone()),
        },
        origin: Place {
            city: sender.city,
            country: sender.country,
        },
        destination: Place {
            city: s.recipient_city.clone(),
            country: s.recipient_country.clone(),
        },
        estimated_delivery,
        events,
        checkpoint: checkpoint.map(|c| c.note),
    }))
}
