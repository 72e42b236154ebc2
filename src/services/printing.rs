//! Printing labels for a seller: only its own shipments, never a cancelled one, and every
//! print recorded (who, when, format).

use crate::db::{self, DbConn};
use crate::error::AppError;
use crate::labels::{Label, Size};

pub const MAX_BATCH: usize = 2_000;

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

/// The labels of `ids` (in that order) for `seller_id`, recorded as printed by `user_id`.
pub fn labels(
    conn: &mut DbConn,
    seller_id: &str,
    user_id: &str,
    ids: &[String],
    format: Format,
    size: Size,
    base_url: &str,
) -> Result<Vec<Label>, AppError> {
    if ids.is_empty() {
        return Err(AppError::BadRequest("Choose at least one shipment.".into()));
    }
    if ids.len() > MAX_BATCH {
        return Err(AppError::BadRequest(format!(
            "At most {MAX_BATCH} labels in one file."
        )));
    }
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
