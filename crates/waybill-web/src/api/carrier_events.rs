//! `POST /api/v1/carrier-events`: carriers' signed tracking events. The HMAC covers the
//! timestamp and the body bytes exactly as received (never re-serialised JSON); anything
//! missing, unknown, stale or wrong is refused with 401 and nothing stored but a line for
//! the admin's "Tracking issues" page.

use actix_web::{HttpRequest, HttpResponse, post, web};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::AppState;
use crate::error::{ApiError, AppError};
use waybill_app::services::tracking::{self, CarrierBatch, MAX_EVENTS};

/// How far a request's timestamp may be from the server's clock.
const TOLERANCE_SECS: i64 = 300;

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Whether `signature` (`sha256=<hex>`) is the HMAC of `timestamp.body` under one of the
/// secrets; the MAC comparison takes the same time wherever the bytes differ.
pub fn signature_matches(secrets: &[&str], timestamp: &str, body: &[u8], signature: &str) -> bool {
    let Some(given) = signature
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let mut ok = false;
    for secret in secrets {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
            continue;
        };
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        // Every secret is tried, so the time does not tell which one matched.
        ok |= mac.verify_slice(&given).is_ok();
    }
    ok
}

#[post("/carrier-events")]
pub async fn carrier_events(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let channel_code = header(&req, "X-Waybill-Channel").map(|c| c.to_ascii_uppercase());
    let timestamp = header(&req, "X-Waybill-Timestamp").map(str::to_string);
    let signature = header(&req, "X-Waybill-Signature").map(str::to_string);
    let digest = waybill_app::security::sha256_hex_bytes(&body);
    let refuse = |state: web::Data<AppState>, channel: Option<String>, why: &'static str| async move {
        let d = digest.clone();
        let logged = state
            .db(move |c| tracking::log_refused_request(c, channel.as_deref(), why, Some(d)))
            .await;
        if let Err(e) = logged {
            tracing::warn!(error = %e, "could not log a refused carrier request");
        }
        tracing::info!(reason = why, "carrier request refused");
        Err::<HttpResponse, ApiError>(AppError::Unauthorized(why.to_string()).into())
    };
    let (Some(code), Some(ts), Some(sig)) = (channel_code.clone(), timestamp, signature) else {
        return refuse(
            state,
            channel_code,
            "X-Waybill-Channel, X-Waybill-Timestamp and X-Waybill-Signature are required",
        )
        .await;
    };
    let lookup = code.clone();
    let channel = state
        .db(move |c| waybill_app::services::channels::find(c, &lookup))
        .await?;
    let Some(channel) = channel else {
        return refuse(state, Some(code), "unknown channel").await;
    };
    let now = waybill_app::clock::now();
    let secrets = channel.webhook_secrets(now);
    if secrets.is_empty() || !signature_matches(&secrets, &ts, &body, &sig) {
        return refuse(state, Some(code), "bad signature").await;
    }
    let fresh = ts
        .parse::<i64>()
        .ok()
        .is_some_and(|t| (now.and_utc().timestamp() - t).abs() <= TOLERANCE_SECS);
    if !fresh {
        return refuse(state, Some(code), "timestamp more than 5 minutes off").await;
    }
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return Err(AppError::BadRequest("The body must be UTF-8 JSON.".into()).into());
    };
    let batch: CarrierBatch = serde_json::from_str(&text).map_err(|e| {
        AppError::BadRequest(format!(
            "The body must be {{\"events\": [...]}} as JSON: {e}"
        ))
    })?;
    if batch.events.is_empty() || batch.events.len() > MAX_EVENTS {
        return Err(AppError::validation(
            [(
                "events".to_string(),
                format!("Send 1 to {MAX_EVENTS} events per request."),
            )]
            .into(),
        )
        .into());
    }
    let results = state
        .db(move |c| tracking::ingest_carrier_events(c, &channel, &text, &batch))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "results": results })))
}
