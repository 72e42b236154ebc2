//! Printing labels for a seller: only its own shipments, never a cancelled one, and every
//! print recorded (who, when, format).

use crate::db::{self, DbConn};
use crate::error::AppError;
use crate::labels::{Label, Size};

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
        if !crate::domain::is_id(id) {
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
            if s.status == crate::domain::Status::Cancelled {
                return Err(AppError::Conflict(format!(
                    "{} is cancelled: it has no label.",
                    s.tracking_number
                )));
            }
            let ch = channels.get(&s.channel_code).ok_or(AppError::NotFound)?;
            // The kind is a column: no need to parse the channel's rate card per label.
            out.push(Label::of(&s, &ch.carrier, &ch.service, ch.kind, base_url));
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
