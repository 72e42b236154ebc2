//! Pickups over the API: the seller's windows, book (idempotent), list, get, cancel,
//! reschedule and the handover sheet; the courier's queue and its actions under
//! `/courier/pickups` (courier API key).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{ApiError, AppError};
use crate::extract::{ApiCourier, ApiSeller, PathId};
use waybill_app::DbConn;
use waybill_app::services::accounts::User;
use waybill_app::services::pickups::{self, BookInput, PickupView, Settings, WindowOffer, courier};
use waybill_domain::address::Address;

pub fn routes(scope: actix_web::Scope) -> actix_web::Scope {
    scope
        .service(windows)
        .service(create)
        .service(list)
        .service(get_one)
        .service(cancel)
        .service(reschedule)
        .service(manifest)
        .service(courier_queue)
        .service(accept)
        .service(arrive)
        .service(scan)
        .service(complete)
        .service(fail)
}

#[derive(Serialize)]
struct Person {
    name: String,
    phone: String,
}

#[derive(Serialize)]
struct Failure {
    reason: String,
    note: Option<String>,
}

#[derive(Serialize)]
struct Event {
    status: String,
    at: String,
}

#[derive(Serialize)]
pub struct PickupOut {
    id: String,
    status: String,
    address_id: String,
    date: String,
    window: String,
    area: String,
    shipment_ids: Vec<String>,
    scanned_ids: Vec<String>,
    collected_ids: Vec<String>,
    not_collected_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    courier: Option<Person>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<Failure>,
    events: Vec<Event>,
    created_at: String,
}

fn rfc3339(t: chrono::NaiveDateTime) -> String {
    t.and_utc().to_rfc3339()
}

pub fn pickup_out(v: &PickupView) -> PickupOut {
    use waybill_app::services::pickups::Outcome;
    let p = &v.pickup;
    let ids = |f: &dyn Fn(&waybill_app::services::pickups::Item) -> bool| -> Vec<String> {
        v.items
            .iter()
            .filter(|(i, _)| f(i))
            .map(|(_, s)| s.id.to_string())
            .collect()
    };
    // What happened when, from the pickup's own timestamps.
    let mut events = vec![Event {
        status: waybill_domain::PickupStatus::Scheduled.to_string(),
        at: rfc3339(p.created_at),
    }];
    if let Some(t) = p.accepted_at {
        events.push(Event {
            status: waybill_domain::PickupStatus::Accepted.to_string(),
            at: rfc3339(t),
        });
    }
    if let Some(t) = p.arrived_at {
        events.push(Event {
            status: waybill_domain::PickupStatus::Arrived.to_string(),
            at: rfc3339(t),
        });
    }
    if let Some(t) = p.closed_at {
        events.push(Event {
            status: p.status.to_string(),
            at: rfc3339(t),
        });
    }
    PickupOut {
        id: p.id.to_string(),
        status: p.status.to_string(),
        address_id: p.address_id.to_string(),
        date: p.date.clone(),
        window: p.window_label.clone(),
        area: v.area.clone(),
        shipment_ids: ids(&|_| true),
        scanned_ids: ids(&|i| i.scanned_at.is_some()),
        collected_ids: ids(&|i| i.outcome() == Outcome::Collected),
        not_collected_ids: ids(&|i| i.outcome() == Outcome::NotCollected),
        courier: v.courier.as_ref().map(|c| Person {
            name: c.name.clone(),
            phone: c.phone.clone(),
        }),
        failure: p.failure_reason.as_ref().map(|r| Failure {
            reason: r.clone(),
            note: p.failure_note.clone(),
        }),
        events,
        created_at: rfc3339(p.created_at),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WindowsQuery {
    address_id: String,
    date: Option<String>,
}

#[derive(Serialize)]
struct WindowsOut {
    area: String,
    timezone: String,
    windows: Vec<WindowOffer>,
}

fn parse_date(raw: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| pickups::refuse("date", "Give the date as 2026-12-01."))
}

#[get("/pickups/windows")]
async fn windows(
    state: web::Data<AppState>,
    seller: ApiSeller,
    q: web::Query<WindowsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let date = match q.date.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(d) => Some(parse_date(d)?),
        None => None,
    };
    let id = seller.user.id;
    let offer = state
        .db(move |c| pickups::windows(c, &id, &q.address_id, date, Utc::now()))
        .await?;
    Ok(HttpResponse::Ok().json(WindowsOut {
        area: offer.area.name,
        timezone: offer.area.timezone,
        windows: offer.windows,
    }))
}

#[post("/pickups")]
async fn create(
    state: web::Data<AppState>,
    seller: ApiSeller,
    req: HttpRequest,
    body: web::Json<BookInput>,
) -> Result<HttpResponse, ApiError> {
    let key = super::idempotency_key(&req)?;
    let request = body.parse().map_err(AppError::validation)?;
    let (user, base) = (seller.user, state.config.base_url.clone());
    let (view, replayed) = state
        .db(move |c| {
            let (p, replayed) = pickups::book(
                c,
                &user,
                &request,
                key.as_deref(),
                &Settings { base_url: &base },
                Utc::now(),
            )?;
            Ok((pickups::view_for_seller(c, &user.id, &p.id)?, replayed))
        })
        .await?;
    if !replayed {
        state.mail.wake();
    }
    let mut resp = HttpResponse::Created();
    if replayed {
        resp.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(resp.json(pickup_out(&view)))
}

#[get("/pickups")]
async fn list(state: web::Data<AppState>, seller: ApiSeller) -> Result<HttpResponse, ApiError> {
    let id = seller.user.id;
    let views = state.db(move |c| pickups::list_for_seller(c, &id)).await?;
    let out: Vec<PickupOut> = views.iter().map(pickup_out).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "pickups": out })))
}

/// Does `f` to the seller's pickup `path`, then answers the pickup as it is now.
async fn seller_pickup<F>(
    state: &AppState,
    seller: ApiSeller,
    path: PathId,
    f: F,
) -> Result<PickupView, ApiError>
where
    F: FnOnce(&mut DbConn, &str, &str) -> Result<(), AppError> + Send + 'static,
{
    let (seller_id, id) = (seller.user.id, path.into_inner());
    Ok(state
        .db(move |c| {
            f(c, &seller_id, &id)?;
            pickups::view_for_seller(c, &seller_id, &id)
        })
        .await?)
}

#[get("/pickups/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    seller: ApiSeller,
    path: PathId,
) -> Result<HttpResponse, ApiError> {
    let v = seller_pickup(&state, seller, path, |_, _, _| Ok(())).await?;
    Ok(HttpResponse::Ok().json(pickup_out(&v)))
}

#[post("/pickups/{id}/cancel")]
async fn cancel(
    state: web::Data<AppState>,
    seller: ApiSeller,
    path: PathId,
) -> Result<HttpResponse, ApiError> {
    let v = seller_pickup(&state, seller, path, |c, seller_id, id| {
        pickups::cancel(c, seller_id, id, Utc::now()).map(|_| ())
    })
    .await?;
    Ok(HttpResponse::Ok().json(pickup_out(&v)))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RescheduleIn {
    date: String,
    window: String,
}

#[post("/pickups/{id}/reschedule")]
async fn reschedule(
    state: web::Data<AppState>,
    seller: ApiSeller,
    path: PathId,
    body: web::Json<RescheduleIn>,
) -> Result<HttpResponse, ApiError> {
    let (b, base) = (body.into_inner(), state.config.base_url.clone());
    let v = seller_pickup(&state, seller, path, move |c, seller_id, id| {
        let settings = Settings { base_url: &base };
        pickups::reschedule(c, seller_id, id, &b.date, &b.window, Utc::now(), &settings).map(|_| ())
    })
    .await?;
    Ok(HttpResponse::Ok().json(pickup_out(&v)))
}

#[get("/pickups/{id}/manifest")]
async fn manifest(
    state: web::Data<AppState>,
    seller: ApiSeller,
    path: PathId,
) -> Result<HttpResponse, ApiError> {
    let v = seller_pickup(&state, seller, path, |_, _, _| Ok(())).await?;
    Ok(crate::seller::pickups::manifest_response(v).await?)
}

#[derive(Serialize)]
struct QueueItem {
    id: String,
    status: String,
    date: String,
    window: String,
    seller: String,
    address: Address,
    phone: String,
    parcels: Vec<String>,
    accepted_by_me: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct QueueQuery {
    date: Option<String>,
}

#[get("/courier/pickups")]
async fn courier_queue(
    state: web::Data<AppState>,
    who: ApiCourier,
    q: web::Query<QueueQuery>,
) -> Result<HttpResponse, ApiError> {
    let date = match q.date.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(d) => Some(parse_date(d)?),
        None => None,
    };
    let me = who.user.id;
    let views = state
        .db(move |c| {
            let date = match date {
                Some(d) => d,
                None => courier::today(c, &me)?,
            };
            courier::queue(c, &me, date).map(|v| (v, me))
        })
        .await?;
    let (views, me) = views;
    let out: Vec<QueueItem> = views
        .iter()
        .map(|v| QueueItem {
            id: v.pickup.id.to_string(),
            status: v.pickup.status.to_string(),
            date: v.pickup.date.clone(),
            window: v.pickup.window_label.clone(),
            seller: v
                .seller
                .as_ref()
                .map(|s| s.display_name().to_string())
                .unwrap_or_default(),
            phone: v.address.phone.clone(),
            address: v.address.clone(),
            parcels: v
                .items
                .iter()
                .map(|(_, s)| s.tracking_number.clone())
                .collect(),
            accepted_by_me: v.pickup.courier_id.as_deref() == Some(me.as_str()),
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "pickups": out })))
}

/// Does a courier's action on pickup `path` and answers the pickup as it is now; the mail
/// worker is woken for the mail the action queued.
async fn courier_action<F>(
    state: &AppState,
    who: ApiCourier,
    path: PathId,
    f: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut DbConn, &User, &str, &Settings) -> Result<PickupView, AppError> + Send + 'static,
{
    let (me, id, base) = (who.user, path.into_inner(), state.config.base_url.clone());
    let v = state
        .db(move |c| f(c, &me, &id, &Settings { base_url: &base }))
        .await?;
    state.mail.wake();
    Ok(HttpResponse::Ok().json(pickup_out(&v)))
}

#[post("/courier/pickups/{id}/accept")]
async fn accept(
    state: web::Data<AppState>,
    who: ApiCourier,
    path: PathId,
) -> Result<HttpResponse, ApiError> {
    courier_action(&state, who, path, courier::accept).await
}

#[post("/courier/pickups/{id}/arrive")]
async fn arrive(
    state: web::Data<AppState>,
    who: ApiCourier,
    path: PathId,
) -> Result<HttpResponse, ApiError> {
    courier_action(&state, who, path, |c, me, id, _| courier::arrive(c, me, id)).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ScanIn {
    barcode: String,
}

#[post("/courier/pickups/{id}/scan")]
async fn scan(
    state: web::Data<AppState>,
    who: ApiCourier,
    path: PathId,
    body: web::Json<ScanIn>,
) -> Result<HttpResponse, ApiError> {
    let (me, id, code) = (who.user, path.into_inner(), body.into_inner().barcode);
    let out = state.db(move |c| courier::scan(c, &me, &id, &code)).await?;
    Ok(HttpResponse::Ok().json(out))
}

#[post("/courier/pickups/{id}/complete")]
async fn complete(
    state: web::Data<AppState>,
    who: ApiCourier,
    path: PathId,
) -> Result<HttpResponse, ApiError> {
    courier_action(&state, who, path, courier::complete).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FailIn {
    reason: String,
    note: Option<String>,
}

#[post("/courier/pickups/{id}/fail")]
async fn fail(
    state: web::Data<AppState>,
    who: ApiCourier,
    path: PathId,
    body: web::Json<FailIn>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    courier_action(&state, who, path, move |c, me, id, settings| {
        courier::fail(c, me, id, &b.reason, b.note.as_deref(), settings)
    })
    .await
}
