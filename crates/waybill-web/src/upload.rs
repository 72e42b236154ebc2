//! Reading a multipart form (a file upload) with its CSRF token checked like any other form.

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_session::Session;
use futures_util::TryStreamExt;

use crate::error::{AppError, PageError};
use crate::extract::check_csrf;
use waybill_domain::text;

pub struct Upload {
    pub filename: String,
    /// The `file` field; empty when none was chosen.
    pub file: Vec<u8>,
    /// Every other field, as text.
    pub fields: BTreeMap<String, String>,
}

fn unreadable(e: impl std::fmt::Display) -> AppError {
    AppError::BadRequest(format!("The upload could not be read: {e}"))
}

/// Reads the whole form (at most `limit` bytes per field) and refuses it without the
/// session's CSRF token.
pub async fn read(
    mut payload: Multipart,
    session: &Session,
    limit: usize,
) -> Result<Upload, PageError> {
    let mut up = Upload {
        filename: "upload.csv".into(),
        file: Vec::new(),
        fields: BTreeMap::new(),
    };
    while let Some(mut field) = payload.try_next().await.map_err(unreadable)? {
        let name = field.name().unwrap_or("").to_string();
        if let Some(f) = field.content_disposition().and_then(|cd| cd.get_filename()) {
            // The name is shown and stored: nothing in it may hide or reorder text.
            let name: String = f
                .chars()
                .filter(|c| !c.is_control() && !text::is_direction_override(*c))
                .take(120)
                .collect();
            if !name.trim_matches(text::is_invisible).is_empty() {
                up.filename = name;
            }
        }
        let mut data = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(unreadable)? {
            data.extend_from_slice(&chunk);
            if data.len() > limit {
                return Err(AppError::BadRequest(format!(
                    "The upload is larger than {} MB.",
                    limit >> 20
                ))
                .into());
            }
        }
        if name == "file" {
            up.file = data;
        } else {
            up.fields
                .insert(name, String::from_utf8_lossy(&data).into_owned());
        }
    }
    check_csrf(session, up.fields.get("csrf_token").map(String::as_str))?;
    Ok(up)
}
