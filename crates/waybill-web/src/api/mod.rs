//! JSON API under `/api/v1`, authenticated by API keys (seller's; `/courier/…` courier's). Errors are
//! `{"error", "fields"}` with a fitting status, never an HTML page.

mod carrier_events;
mod pickups;
mod quotes;
pub mod shipments;
mod tracking;
pub mod warehouse;
pub mod webhooks;

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;

use crate::error::{ApiError, AppError};
use crate::extract::ApiSeller;
use waybill_domain::Money;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(warehouse::routes(webhooks::routes(pickups::routes(
        shipments::routes(
            web::scope("/api/v1")
                .app_data(
                    web::JsonConfig::default()
                        .limit(1 << 20)
                        .error_handler(json_error),
                )
                .app_data(web::QueryConfig::default().error_handler(query_error))
                .app_data(web::PathConfig::default().error_handler(path_error))
                .service(me)
                .service(wallet)
                .service(quotes::create_quotes)
                .service(carrier_events::carrier_events)
                .service(tracking::public_tracking),
        ),
    ))));
}

fn json_error(err: actix_web::error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let msg = match &err {
        actix_web::error::JsonPayloadError::ContentType => {
            "Send the body as JSON with `Content-Type: application/json`.".to_string()
        }
        actix_web::error::JsonPayloadError::Overflow { .. }
        | actix_web::error::JsonPayloadError::OverflowKnownLength { .. } => {
            "The request body is too large.".to_string()
        }
        other => format!("The request body is not valid JSON for this endpoint: {other}"),
    };
    ApiError(AppError::BadRequest(msg)).into()
}

fn query_error(err: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError(AppError::BadRequest(format!("Invalid query string: {err}"))).into()
}

fn path_error(err: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    ApiError(AppError::BadRequest(format!("Invalid path: {err}"))).into()
}

#[derive(Serialize)]
struct Me {
    id: String,
    email: String,
    store_name: Option<String>,
    contact_name: String,
    role: String,
}

/// The seller the API key belongs to: a cheap way for an integration to check its key.
#[get("/me")]
async fn me(seller: ApiSeller) -> Result<HttpResponse, ApiError> {
    let u = seller.user;
    Ok(HttpResponse::Ok().json(Me {
        id: u.id.into_string(),
        email: u.email,
        store_name: u.store_name,
        contact_name: u.name,
        role: u.role,
    }))
}

#[derive(Serialize)]
struct Amount {
    amount: i64,
    currency: String,
}

#[derive(Serialize)]
struct WalletEntry {
    id: String,
    kind: String,
    amount: i64,
    balance_after: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    shipment_id: Option<String>,
    created_at: String,
}

#[derive(Serialize)]
struct Wallet {
    balance: Amount,
    /// Owed beyond the balance (weight adjustments it could not cover); bookings wait until 0.
    amount_due: Amount,
    entries: Vec<WalletEntry>,
}

/// Balance and the 50 most recent wallet entries, newest first (amounts in minor units).
#[get("/wallet")]
async fn wallet(
    state: web::Data<crate::AppState>,
    seller: ApiSeller,
) -> Result<HttpResponse, ApiError> {
    let currency = state.config.currency;
    let id = seller.user.id;
    let (due, balance, lines): (i64, Money, _) = state
        .db(move |c| {
            Ok((
                waybill_app::services::wallet::amount_due(c, &id)?,
                waybill_app::services::wallet::balance(c, &id, currency)?,
                waybill_app::services::wallet::statement_page(c, &id, 0, 50)?,
            ))
        })
        .await?;
    Ok(HttpResponse::Ok().json(Wallet {
        balance: Amount {
            amount: balance.minor,
            currency: currency.code().to_string(),
        },
        amount_due: Amount {
            amount: due,
            currency: currency.code().to_string(),
        },
        entries: lines
            .into_iter()
            .map(|l| WalletEntry {
                id: l.entry.transaction_id,
                kind: l.kind,
                amount: l.entry.amount,
                balance_after: l.entry.balance_after.unwrap_or(0),
                shipment_id: l.shipment_id,
                created_at: l.entry.created_at.and_utc().to_rfc3339(),
            })
            .collect(),
    }))
}

/// The request's `Idempotency-Key`, if it sent one: 1 to 255 visible characters, or 400.
fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, AppError> {
    let Some(v) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let k = v.to_str().unwrap_or("").trim().to_string();
    if k.is_empty() || k.len() > 255 {
        return Err(AppError::BadRequest(
            "Idempotency-Key must be 1 to 255 visible characters.".into(),
        ));
    }
    Ok(Some(k))
}
