//! Printing labels for a seller: only its own shipments, never a cancelled one, and every
//! print recorded (who, when, format).

use crate::error::AppError;
use waybill_db::shipments::Shipment;
use waybill_db::{self as db, DbConn};
use waybill_domain::address::Address;
use waybill_domain::channel::ChannelKind;
use waybill_domain::{Money, format_weight};
use waybill_labels::{Label, Size};

/// Distinct shipments in one file: a day's parcels for a busy seller, and the limit of what
/// one request should render.
pub const MAX_BATCH: usize = 1_000;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Zpl,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "" | "pdf" => Some(Format::Pdf),
            "zpl" => Some(Format::Zpl),
            _ => None,
        }
    }
}

/// `ids` once each, in the order first seen: the same shipment chosen twice is one label,
/// printed (and counted) once. An id of the wrong shape names no shipment (404, before any
/// query); more than `MAX_BATCH` distinct ones is refused whole (422).
pub fn distinct_ids(ids: &[String]) -> Result<Vec<&str>, AppError> {
    if ids.is_empty() {
        return Err(AppError::BadRequest("Choose at least one shipment.".into()));
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for id in ids {
        if !waybill_domain::is_id(id) {
            return Err(AppError::NotFound);
        }
        if seen.insert(id.as_str()) {
            out.push(id.as_str());
            if out.len() > MAX_BATCH {
                let message = format!(
                    "At most {MAX_BATCH} different shipments in one label file: print them in parts."
                );
                return Err(AppError::Validation {
                    fields: [("ids".to_string(), message.clone())].into(),
                    message,
                });
            }
        }
    }
    Ok(out)
}

/// The labels of `ids` (in that order, each once) for `seller_id`, recorded as printed by
/// `user_id`.
pub fn labels(
    conn: &mut DbConn,
    seller_id: &str,
    user_id: &str,
    ids: &[String],
    format: Format,
    size: Size,
    base_url: &str,
) -> Result<Vec<Label>, AppError> {
    let ids = distinct_ids(ids)?;
    let mut out = Vec::with_capacity(ids.len());
    let channels: std::collections::BTreeMap<String, db::channels::Channel> =
        db::channels::list(conn)?
            .into_iter()
            .map(|c| (c.code.clone(), c))
            .collect();
    db::write_tx(conn, |c| {
        for id in ids {
            let s = db::shipments::find(c, seller_id, id)?.ok_or(AppError::NotFound)?;
            if s.status == waybill_domain::Status::Cancelled {
                return Err(AppError::Conflict(format!(
                    "{} is cancelled: it has no label.",
                    s.tracking_number
                )));
            }
            let ch = channels.get(&s.channel_code).ok_or(AppError::NotFound)?;
            // The kind is a column: no need to parse the channel's rate card per label.
            out.push(label_of(&s, &ch.carrier, &ch.service, ch.kind, base_url));
            let (f, z) = (
                if format == Format::Pdf { "pdf" } else { "zpl" },
                if size == Size::A4 { "a4" } else { "4x6" },
            );
            db::shipments::record_print(c, &s.id, user_id, f, z)?;
        }
        Ok(())
    })?;
    Ok(out)
}

/// The sender's lines for the label: at most five, street and locality joined.
fn compact_sender(a: &Address) -> Vec<String> {
    let mut out = vec![a.name.clone()];
    out.extend(a.company.clone());
    out.push(
        [Some(a.street1.clone()), a.street2.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
    );
    let lines = a.lines();
    // After name, company and streets come the locality lines and the country.
    let skip = 2 + usize::from(a.company.is_some()) + usize::from(a.street2.is_some());
    out.push(lines.get(skip..).unwrap_or_default().join(", "));
    out.push(format!("Tel {}", a.phone));
    out
}

/// What the label of shipment `s` prints.
pub fn label_of(
    s: &Shipment,
    carrier: &str,
    service: &str,
    kind: ChannelKind,
    base_url: &str,
) -> Label {
    let local = &s.sender;
    let sender = local.in_latin();
    let sender_local = (!local.is_latin()).then(|| {
        [
            Some(local.name.clone()),
            local.company.clone(),
            local.state.clone(),
            Some(local.city.clone()),
            local.district.clone(),
            Some(local.street1.clone()),
            local.street2.clone(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
    });
    let customs = s.customs.clone();
    let to = Address {
        name: s.recipient_name.clone(),
        company: s.recipient_company.clone(),
        street1: s.recipient_street1.clone(),
        street2: s.recipient_street2.clone(),
        city: s.recipient_city.clone(),
        state: s.recipient_state.clone(),
        postal_code: s.recipient_postal_code.clone(),
        country: s.recipient_country.clone(),
        ..Address::default()
    };
    let mut recipient = to.lines();
    recipient.push(format!("Tel {}", s.recipient_phone));
    let mut sender_full = sender.lines();
    sender_full.push(format!("Tel {}", sender.phone));
    let customs_value = customs
        .total_value()
        .iter()
        .map(Money::to_string)
        .collect::<Vec<_>>()
        .join(" + ");
    Label {
        tracking_number: s.tracking_number.clone(),
        carrier: carrier.to_string(),
        service: service.to_string(),
        kind,
        country: s.recipient_country.clone(),
        postal_code: s.recipient_postal_code.clone(),
        recipient,
        sender: compact_sender(&sender),
        sender_full,
        sender_local,
        weight: format_weight(s.weight_g),
        booked: s.created_at.format("%Y-%m-%d").to_string(),
        reference: s.reference.clone().unwrap_or_default(),
        tracking_url: format!("{base_url}/track/{}", s.tracking_number),
        customs_weight: format_weight(customs.total_weight_g()),
        customs,
        customs_value,
    }
}
