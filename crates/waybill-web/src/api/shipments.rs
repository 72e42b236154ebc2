//! Addresses and shipments over the API: book (idempotent), list, get with events, cancel.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{ApiError, AppError};
use crate::extract::{ApiJson, ApiSeller, PathId};
use crate::label_file::LabelFile;
use crate::paging::Paging;
use waybill_app::services::addresses::{self, AddressRow};
use waybill_app::services::booking::{self, BookingInput, Settings};
use waybill_app::services::shipments::{self, Filter, Shipment, ShipmentEvent};
use waybill_domain::Status;
use waybill_domain::address::{Address, AddressInput, Party};

pub const PAGE_SIZE: i64 = 50;

pub fn routes(scope: actix_web::Scope) -> actix_web::Scope {
    scope
        .service(list_addresses)
        .service(create_address)
        .service(create_shipment)
        .service(list_shipments)
        .service(get_shipment)
        .service(cancel_shipment)
        .service(dispute_adjustment)
        .service(shipment_label)
        .service(batch_labels)
}

#[get("/shipments/{id}/label")]
async fn shipment_label(
    state: web::Data<AppState>,
    seller: ApiSeller,
    path: PathId,
    q: web::Query<crate::label_file::LabelQuery>,
) -> Result<HttpResponse, ApiError> {
    let (format, size) = crate::label_file::parse_label_query(&q)?;
    let (id, base) = (path.into_inner(), state.config.base_url.clone());
    let user = seller.user.id;
    let labels = state
        .db(move |c| {
            waybill_app::services::printing::labels(c, &user, &user, &[id], format, size, &base)
        })
        .await?;
    let file = web::block(move || LabelFile::render(&labels, format, size)).await??;
    Ok(file.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BatchIn {
    ids: Vec<String>,
    size: String,
    format: String,
}

#[post("/labels")]
async fn batch_labels(
    state: web::Data<AppState>,
    seller: ApiSeller,
    body: ApiJson<BatchIn>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let q = crate::label_file::LabelQuery {
        format: b.format,
        size: b.size,
    };
    let (format, size) = crate::label_file::parse_label_query(&q)?;
    let (base, user, ids) = (state.config.base_url.clone(), seller.user.id, b.ids);
    let labels = state
        .db(move |c| {
            waybill_app::services::printing::labels(c, &user, &user, &ids, format, size, &base)
        })
        .await?;
    let file = web::block(move || LabelFile::render(&labels, format, size)).await??;
    Ok(file.into_response())
}

#[derive(Serialize)]
struct AddressOut {
    id: String,
    #[serde(flatten)]
    address: Address,
    default: bool,
}

fn address_out(r: &AddressRow) -> AddressOut {
    AddressOut {
        id: r.id.to_string(),
        address: r.address(),
        default: r.is_default,
    }
}

#[get("/addresses")]
async fn list_addresses(
    state: web::Data<AppState>,
    seller: ApiSeller,
) -> Result<HttpResponse, ApiError> {
    let id = seller.user.id;
    let rows = state.db(move |c| addresses::list(c, &id)).await?;
    let out: Vec<AddressOut> = rows.iter().map(address_out).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "addresses": out })))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AddressIn {
    #[serde(flatten)]
    address: AddressInput,
    default: Option<bool>,
}

#[post("/addresses")]
async fn create_address(
    state: web::Data<AppState>,
    seller: ApiSeller,
    body: ApiJson<AddressIn>,
) -> Result<HttpResponse, ApiError> {
    let address = body
        .address
        .parse(Party::Sender, "")
        .map_err(AppError::validation)?;
    let (id, make_default) = (seller.user.id, body.default.unwrap_or(false));
    let row = state
        .db(move |c| addresses::add(c, &id, &address, make_default))
        .await?;
    Ok(HttpResponse::Created().json(address_out(&row)))
}

#[derive(Serialize)]
pub struct Amount {
    pub amount: i64,
    pub currency: String,
}

#[derive(Serialize)]
pub struct ParcelOut {
    pub weight_g: i64,
    pub length_mm: i64,
    pub width_mm: i64,
    pub height_mm: i64,
    pub chargeable_weight_g: i64,
}

#[derive(Serialize)]
pub struct EventOut {
    pub status: String,
    pub occurred_at: String,
    pub location: Option<String>,
    pub description: String,
    pub source: String,
    pub verified: bool,
    /// The carrier's own event code, when it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

#[derive(Serialize)]
pub struct ShipmentOut {
    pub id: String,
    pub tracking_number: String,
    pub status: String,
    pub channel: String,
    pub price: Amount,
    pub reference: Option<String>,
    pub sender: waybill_domain::address::Address,
    pub recipient: Address,
    pub parcel: ParcelOut,
    pub customs: waybill_domain::customs::Customs,
    pub label_count: i32,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventOut>>,
    /// The warehouse's measurement and what it cost or gave back (detail only, once measured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_adjustment: Option<serde_json::Value>,
}

/// A weight adjustment as the API shows it to its seller.
pub fn adjustment_out(a: &waybill_app::services::warehouse::Adjustment) -> serde_json::Value {
    let parcel = |w: i64, l: i64, wd: i64, h: i64, cw: i64| {
        serde_json::json!({"weight_g": w, "length_mm": l, "width_mm": wd, "height_mm": h,
            "chargeable_weight_g": cw})
    };
    let money = |m: i64| serde_json::json!({"amount": m, "currency": a.currency});
    serde_json::json!({
        "declared": parcel(a.declared_weight_g, a.declared_length_mm, a.declared_width_mm,
            a.declared_height_mm, a.declared_chargeable_g),
        "measured": parcel(a.measured_weight_g, a.measured_length_mm, a.measured_width_mm,
            a.measured_height_mm, a.measured_chargeable_g),
        "declared_price": money(a.declared_price),
        "measured_price": money(a.measured_price),
        "adjustment": money(a.amount),
        "charged": money(a.charged),
        "amount_due": money(a.due),
        "result": a.outcome,
        "held_reason": a.held_reason,
        "measured_at": a.created_at.and_utc().to_rfc3339(),
        "dispute": a.dispute().map(|st| serde_json::json!({
            "status": st,
            "note": a.dispute_note,
            "resolution_note": a.resolution_note,
        })),
    })
}

pub fn shipment_out(s: &Shipment, events: Option<&[ShipmentEvent]>) -> ShipmentOut {
    ShipmentOut {
        id: s.id.to_string(),
        tracking_number: s.tracking_number.clone(),
        status: s.status.to_string(),
        channel: s.channel_code.clone(),
        price: Amount {
            amount: s.price_amount,
            currency: s.currency.clone(),
        },
        reference: s.reference.clone(),
        sender: s.sender.clone(),
        recipient: Address {
            name: s.recipient_name.clone(),
            company: s.recipient_company.clone(),
            street1: s.recipient_street1.clone(),
            street2: s.recipient_street2.clone(),
            district: None,
            city: s.recipient_city.clone(),
            state: s.recipient_state.clone(),
            postal_code: s.recipient_postal_code.clone(),
            country: s.recipient_country.clone(),
            phone: s.recipient_phone.clone(),
            email: s.recipient_email.clone(),
            latin: None,
        },
        parcel: ParcelOut {
            weight_g: s.weight_g,
            length_mm: s.length_mm,
            width_mm: s.width_mm,
            height_mm: s.height_mm,
            chargeable_weight_g: s.chargeable_weight_g,
        },
        customs: s.customs.clone(),
        label_count: s.label_count,
        created_at: s.created_at.and_utc().to_rfc3339(),
        events: events.map(|es| {
            es.iter()
                .map(|e| EventOut {
                    status: e.status.to_string(),
                    occurred_at: e.occurred_at.and_utc().to_rfc3339(),
                    location: e.location.clone(),
                    description: e.description.clone(),
                    source: e.source.clone(),
                    verified: e.verified,
                    code: e.code.clone(),
                })
                .collect()
        }),
        weight_adjustment: None,
    }
}

#[post("/shipments")]
async fn create_shipment(
    state: web::Data<AppState>,
    seller: ApiSeller,
    req: HttpRequest,
    body: ApiJson<BookingInput>,
) -> Result<HttpResponse, ApiError> {
    let key = super::idempotency_key(&req)?;
    let booking = body.parse().map_err(AppError::validation)?;
    let warning =
        waybill_domain::customs::ioss_warning(&booking.customs, &booking.recipient.country);
    let user = seller.user;
    let (currency, base) = (state.config.currency, state.config.base_url.clone());
    let quote_key = state.quote_key.clone();
    let (shipment, replayed) = state
        .db(move |c| {
            booking::book(
                c,
                &user,
                &booking,
                key.as_deref(),
                &Settings {
                    currency,
                    base_url: &base,
                    quote_key: &quote_key[..],
                    confirm_by_mail: true,
                },
            )
        })
        .await?;
    if !replayed {
        state.mail.wake();
    }
    let mut resp = HttpResponse::Created();
    if replayed {
        resp.insert_header(("Idempotent-Replayed", "true"));
    }
    let mut out =
        serde_json::to_value(shipment_out(&shipment, None)).map_err(AppError::internal)?;
    // Advice, not a refusal: the shipment is booked either way.
    if let (Some(w), Some(o)) = (warning, out.as_object_mut()) {
        o.insert("warnings".into(), serde_json::json!({ "customs.ioss": w }));
    }
    Ok(resp.json(out))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ListQuery {
    status: Option<String>,
    channel: Option<String>,
    q: Option<String>,
    /// `no_tracking` or `stale`.
    tracking: Option<String>,
    /// Text, so that any value gets a page back (see `Paging`).
    page: Option<String>,
}

/// The list's filters from the query string, checked before any query runs.
fn filter_of(
    q: &ListQuery,
    rules: &waybill_domain::tracking_flags::TrackingRules,
) -> Result<Filter, AppError> {
    let mut errors = std::collections::BTreeMap::new();
    let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Status::parse(s).or_else(|| {
            errors.insert(
                "status".to_string(),
                "Unknown status: use one of the statuses PRODUCT.md lists, e.g. booked."
                    .to_string(),
            );
            None
        }),
    };
    let channel = match q
        .channel
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(c) => {
            let c = c.to_ascii_uppercase();
            if waybill_domain::channel::is_code(&c) {
                Some(c)
            } else {
                errors.insert(
                    "channel".to_string(),
                    "Not a channel code: use one like CNPOST-RAM.".to_string(),
                );
                None
            }
        }
    };
    let search = waybill_domain::text::search_term(q.q.as_deref()).unwrap_or_else(|e| {
        errors.insert("q".to_string(), e);
        None
    });
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    Ok(Filter {
        status,
        channel,
        q: search,
        tracking: q
            .tracking
            .as_deref()
            .and_then(waybill_domain::tracking_flags::TrackingFlag::parse)
            .map(|f| (f, rules.cutoffs(waybill_app::clock::now()))),
        ..Default::default()
    })
}

#[get("/shipments")]
async fn list_shipments(
    state: web::Data<AppState>,
    seller: ApiSeller,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let filter = filter_of(&q, &state.config.tracking_rules)?;
    let id = seller.user.id;
    let (rows, paging) = state
        .db(move |c| {
            let total = shipments::count(c, &id, &filter)?;
            let paging = Paging::clamp(q.page.as_deref(), total, PAGE_SIZE);
            let rows = shipments::list(c, &id, &filter, paging.offset(), paging.per_page)?;
            Ok((rows, paging))
        })
        .await?;
    let out: Vec<ShipmentOut> = rows.iter().map(|s| shipment_out(s, None)).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "shipments": out, "page": paging.page, "pages": paging.pages,
        "per_page": paging.per_page, "total": paging.total,
    })))
}

#[get("/shipments/{id}")]
async fn get_shipment(
    state: web::Data<AppState>,
    seller: ApiSeller,
    path: PathId,
) -> Result<HttpResponse, ApiError> {
    let (seller_id, id) = (seller.user.id, path.into_inner());
    let shipments::Detail {
        shipment: s,
        events,
        adjustment,
    } = state
        .db(move |c| shipments::detail(c, &seller_id, &id))
        .await?;
    let mut out = shipment_out(&s, Some(&events));
    out.weight_adjustment = adjustment.as_ref().map(adjustment_out);
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DisputeIn {
    note: String,
}

/// Disputes the shipment's weight charge (within 7 days, once) → 200 with the adjustment.
#[post("/shipments/{id}/dispute")]
async fn dispute_adjustment(
    state: web::Data<AppState>,
    seller: ApiSeller,
    path: PathId,
    body: ApiJson<DisputeIn>,
) -> Result<HttpResponse, ApiError> {
    let (seller_id, id, note) = (seller.user.id, path.into_inner(), body.0.note);
    let a = state
        .db(move |c| waybill_app::services::warehouse::dispute(c, &seller_id, &id, &note))
        .await?;
    Ok(HttpResponse::Ok().json(adjustment_out(&a)))
}

#[post("/shipments/{id}/cancel")]
async fn cancel_shipment(
    state: web::Data<AppState>,
    seller: ApiSeller,
    path: PathId,
) -> Result<HttpResponse, ApiError> {
    let (seller_id, id) = (seller.user.id, path.into_inner());
    let currency = state.config.currency;
    let s = state
        .db(move |c| booking::cancel(c, &seller_id, &id, currency))
        .await?;
    state.webhooks.wake();
    Ok(HttpResponse::Ok().json(shipment_out(&s, None)))
}
