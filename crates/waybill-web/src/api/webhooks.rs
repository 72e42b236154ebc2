//! Seller webhooks over the API: register (secret shown once), list, delete, rotate the
//! secret, send a test event, and each endpoint's deliveries with their attempts.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiSeller, PathId};
use waybill_app::services::webhooks::{self, Attempt, Delivery, Endpoint};
use waybill_domain::delivery::{DeliveryStatus, EndpointStatus};

pub fn routes(scope: actix_web::Scope) -> actix_web::Scope {
    scope
        .service(create_webhook)
        .service(list_webhooks)
        .service(delete_webhook)
        .service(rotate_webhook)
        .service(test_webhook)
        .service(webhook_deliveries)
}

#[derive(Serialize)]
struct EndpointOut {
    id: String,
    url: String,
    events: Vec<String>,
    status: EndpointStatus,
    created_at: String,
}

fn endpoint_out(e: &Endpoint) -> EndpointOut {
    EndpointOut {
        id: e.id.clone(),
        url: e.url.clone(),
        events: e.event_list(),
        status: e.status,
        created_at: e.created_at.and_utc().to_rfc3339(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CreateIn {
    url: String,
    events: Option<Vec<String>>,
}

#[post("/webhooks")]
async fn create_webhook(
    state: web::Data<AppState>,
    seller: ApiSeller,
    body: ApiJson<CreateIn>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let (sbox, allow) = (
        state.webhook_secrets.clone(),
        state.config.webhook_allow_private,
    );
    let seller_id = seller.user.id;
    let (endpoint, secret) = state
        .db(move |c| webhooks::register(c, &sbox, &seller_id, &b.url, b.events.as_deref(), allow))
        .await?;
    tracing::info!(endpoint = %endpoint.id, "webhook endpoint registered");
    let mut out = serde_json::to_value(endpoint_out(&endpoint)).map_err(anyhow::Error::from)?;
    if let Some(o) = out.as_object_mut() {
        o.insert("secret".into(), secret.into());
    }
    Ok(HttpResponse::Created().json(out))
}

#[get("/webhooks")]
async fn list_webhooks(
    state: web::Data<AppState>,
    seller: ApiSeller,
) -> Result<HttpResponse, ApiError> {
    let id = seller.user.id;
    let rows = state.db(move |c| webhooks::endpoints(c, &id)).await?;
    let out: Vec<EndpointOut> = rows.iter().map(endpoint_out).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "webhooks": out })))
}

#[delete("/webhooks/{id}")]
async fn delete_webhook(
    state: web::Data<AppState>,
    seller: ApiSeller,
    path: PathId,
) -> Result<HttpResponse, ApiError> {
    let (seller_id, id) = (seller.user.id, path.into_inner());
    state
        .db(move |c| webhooks::delete(c, &seller_id, &id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[post("/webhooks/{id}/rotate")]
async fn rotate_webhook(
    state: web::Data<AppState>,
    seller: ApiSeller,
    path: PathId,
) -> Result<HttpResponse, ApiError> {
    let (seller_id, id) = (seller.user.id, path.into_inner());
    let sbox = state.webhook_secrets.clone();
    let secret = state
        .db(move |c| webhooks::rotate(c, &sbox, &seller_id, &id))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "secret": secret })))
}

#[post("/webhooks/{id}/test")]
async fn test_webhook(
    state: web::Data<AppState>,
    seller: ApiSeller,
    path: PathId,
) -> Result<HttpResponse, ApiError> {
    let (seller_id, id) = (seller.user.id, path.into_inner());
    let d = state
        .db(move |c| webhooks::send_test(c, &seller_id, &id))
        .await?;
    state.webhooks.wake();
    Ok(HttpResponse::Accepted().json(delivery_out(&d, &[])))
}

#[derive(Serialize)]
struct AttemptOut {
    attempt: i32,
    attempted_at: String,
    status_code: Option<i32>,
    duration_ms: i64,
    error: Option<String>,
}

#[derive(Serialize)]
struct DeliveryOut {
    id: String,
    webhook_id: String,
    #[serde(rename = "type")]
    event_type: String,
    status: DeliveryStatus,
    attempts: i32,
    next_attempt_at: Option<String>,
    last_status_code: Option<i32>,
    delivered_at: Option<String>,
    created_at: String,
    attempt_log: Vec<AttemptOut>,
}

fn delivery_out(d: &Delivery, attempts: &[Attempt]) -> DeliveryOut {
    DeliveryOut {
        id: d.id.clone(),
        webhook_id: d.webhook_id.clone(),
        event_type: d.event_type.clone(),
        status: d.status,
        attempts: d.attempts,
        next_attempt_at: (d.status == DeliveryStatus::Pending)
            .then(|| d.next_attempt_at.and_utc().to_rfc3339()),
        last_status_code: d.last_status_code,
        delivered_at: d.delivered_at.map(|t| t.and_utc().to_rfc3339()),
        created_at: d.created_at.and_utc().to_rfc3339(),
        attempt_log: attempts
            .iter()
            .filter(|a| a.delivery_id == d.id)
            .map(|a| AttemptOut {
                attempt: a.attempt,
                attempted_at: a.attempted_at.and_utc().to_rfc3339(),
                status_code: a.status_code,
                duration_ms: a.duration_ms,
                error: a.error.clone(),
            })
            .collect(),
    }
}

/// The endpoint's 100 most recent deliveries, newest first, each with its attempts.
#[get("/webhooks/{id}/deliveries")]
async fn webhook_deliveries(
    state: web::Data<AppState>,
    seller: ApiSeller,
    path: PathId,
) -> Result<HttpResponse, ApiError> {
    let (seller_id, id) = (seller.user.id, path.into_inner());
    let (deliveries, attempts) = state
        .db(move |c| webhooks::deliveries(c, &seller_id, &id, 100))
        .await?;
    let out: Vec<DeliveryOut> = deliveries
        .iter()
        .map(|d| delivery_out(d, &attempts))
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deliveries": out })))
}
