//! The seller's pickups: book a window at an address for its waiting shipments, follow the
//! pickups (courier, collected and flagged parcels), cancel or reschedule until the window
//! starts, rebook after a failed or missed one, print the handover sheet.

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use crate::error::{AppError, PageError};
use crate::extract::{CsrfForm, CsrfOnly, PathId, Seller};
use crate::page::{PageCtx, flash};
use crate::{AppState, html, redirect};
use waybill_app::services::addresses::AddressRow;
use waybill_app::services::pickups::Outcome;
use waybill_app::services::pickups::{self, BookInput, PickupView, Settings, WindowOffer};
use waybill_app::services::shipments::Shipment;
use waybill_labels::{Manifest, ManifestParcel};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(page)
        .service(book)
        .service(detail)
        .service(cancel)
        .service(reschedule)
        .service(manifest);
}

/// The booking form's state for the chosen address.
struct Booking {
    address: AddressRow,
    /// `None`: the address is in no service area (the message says what to do instead).
    area: Option<String>,
    slots: Vec<WindowOffer>,
    shipments: Vec<Shipment>,
}

#[derive(Template)]
#[template(path = "seller/pickups.html")]
struct PickupsPage {
    ctx: PageCtx,
    addresses: Vec<AddressRow>,
    booking: Option<Booking>,
    pickups: Vec<PickupView>,
    no_area: &'static str,
}

impl PickupsPage {
    fn can_change(&self, v: &PickupView) -> bool {
        matches!(
            v.pickup.status,
            waybill_domain::PickupStatus::Scheduled | waybill_domain::PickupStatus::Accepted
        ) && Utc::now().naive_utc() < v.pickup.window_start
    }

    fn can_rebook(&self, v: &PickupView) -> bool {
        matches!(
            v.pickup.status,
            waybill_domain::PickupStatus::Failed | waybill_domain::PickupStatus::Missed
        )
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PageQuery {
    address_id: Option<String>,
}

#[get("/pickups")]
async fn page(
    state: web::Data<AppState>,
    auth: Seller,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let seller = auth.user.id.clone();
    let chosen = q.into_inner().address_id;
    let (addresses, booking, pickups) = state
        .db(move |c| {
            let addresses = waybill_app::services::addresses::list(c, &seller)?;
            let address = match chosen {
                Some(id) => addresses.iter().find(|a| a.id == id).cloned(),
                None => addresses.first().cloned(),
            };
            let booking = match address {
                Some(a) => {
                    let shipments = pickups::waiting_at(c, &seller, &a)?;
                    match pickups::windows(c, &seller, &a.id, None, Utc::now()) {
                        Ok(offer) => Some(Booking {
                            address: a,
                            area: Some(offer.area.name),
                            slots: offer.windows.into_iter().filter(|w| w.open).collect(),
                            shipments,
                        }),
                        Err(AppError::Validation { .. }) => Some(Booking {
                            address: a,
                            area: None,
                            slots: vec![],
                            shipments,
                        }),
                        Err(e) => return Err(e),
                    }
                }
                None => None,
            };
            Ok((addresses, booking, pickups::list_for_seller(c, &seller)?))
        })
        .await?;
    html(&PickupsPage {
        ctx: PageCtx::new(&auth.viewer),
        addresses,
        booking,
        pickups,
        no_area: "No courier collects at this address yet: drop the parcels at the warehouse instead.",
    })
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// A failed form post goes back to the page with the reason on top.
fn back(auth: &Seller, to: &str, e: AppError) -> Result<HttpResponse, PageError> {
    match e {
        AppError::Validation { message, .. } | AppError::Conflict(message) => {
            flash(&auth.viewer.session, "error", message);
            Ok(redirect(to))
        }
        other => Err(other.into()),
    }
}

#[post("/pickups")]
async fn book(
    state: web::Data<AppState>,
    auth: Seller,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let address_id = field(&pairs, "address_id").to_string();
    let (date, window) = field(&pairs, "slot").split_once('|').unwrap_or(("", ""));
    let input = BookInput {
        address_id: address_id.clone(),
        date: date.into(),
        window: window.into(),
        shipment_ids: Some(
            pairs
                .iter()
                .filter(|(k, _)| k == "shipment_ids")
                .map(|(_, v)| v.clone())
                .collect(),
        ),
    };
    // Only an id goes back into the Location header: anything else is no address of this
    // seller's, and 100 KB of it would be echoed into a header.
    let back_to = if waybill_domain::is_id(&address_id) {
        format!("/pickups?address_id={address_id}")
    } else {
        "/pickups".to_string()
    };
    let request = match input.parse() {
        Ok(r) => r,
        Err(fields) => {
            let msg = fields.values().cloned().collect::<Vec<_>>().join(" ");
            return back(&auth, &back_to, AppError::Conflict(msg));
        }
    };
    let (user, base) = (auth.user.clone(), state.config.base_url.clone());
    let result = state
        .db(move |c| {
            pickups::book(
                c,
                &user,
                &request,
                None,
                &Settings { base_url: &base },
                Utc::now(),
            )
        })
        .await;
    match result {
        Ok((p, _)) => {
            state.mail.wake();
            flash(
                &auth.viewer.session,
                "ok",
                format!("Pickup booked for {} {}.", p.date, p.window_label),
            );
            Ok(redirect(&format!("/pickups/{}", p.id)))
        }
        Err(e) => back(&auth, &back_to, e),
    }
}

#[derive(Template)]
#[template(path = "seller/pickup.html")]
struct DetailPage {
    ctx: PageCtx,
    v: PickupView,
    can_change: bool,
    /// Failed or missed: offer to book again.
    rebook: bool,
    slots: Vec<WindowOffer>,
}

impl DetailPage {
    fn outcome(&self, i: &waybill_app::services::pickups::Item) -> &'static str {
        match i.outcome() {
            Outcome::Waiting if i.scanned_at.is_some() => "scanned",
            Outcome::Waiting => "waiting",
            Outcome::Collected => "collected",
            Outcome::NotCollected => "not collected: stays with you",
        }
    }
}

#[get("/pickups/{id}")]
async fn detail(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
) -> Result<HttpResponse, PageError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let (v, slots) = state
        .db(move |c| {
            let v = pickups::view_for_seller(c, &seller, &id)?;
            let slots = match pickups::windows(c, &seller, &v.pickup.address_id, None, Utc::now()) {
                Ok(o) => o.windows.into_iter().filter(|w| w.open).collect(),
                Err(_) => vec![],
            };
            Ok((v, slots))
        })
        .await?;
    let can_change = matches!(
        v.pickup.status,
        waybill_domain::PickupStatus::Scheduled | waybill_domain::PickupStatus::Accepted
    ) && Utc::now().naive_utc() < v.pickup.window_start;
    let rebook = matches!(
        v.pickup.status,
        waybill_domain::PickupStatus::Failed | waybill_domain::PickupStatus::Missed
    );
    html(&DetailPage {
        ctx: PageCtx::new(&auth.viewer),
        v,
        can_change,
        rebook,
        slots,
    })
}

#[post("/pickups/{id}/cancel")]
async fn cancel(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
    _: CsrfOnly,
) -> Result<HttpResponse, PageError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let to = format!("/pickups/{id}");
    match state
        .db(move |c| pickups::cancel(c, &seller, &id, Utc::now()))
        .await
    {
        Ok(_) => {
            flash(
                &auth.viewer.session,
                "ok",
                "Pickup cancelled; its parcels are free to book again.",
            );
            Ok(redirect(&to))
        }
        Err(e) => back(&auth, &to, e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SlotForm {
    slot: String,
}

#[post("/pickups/{id}/reschedule")]
async fn reschedule(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
    CsrfForm(form): CsrfForm<SlotForm>,
) -> Result<HttpResponse, PageError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let to = format!("/pickups/{id}");
    let (date, window) = form.slot.split_once('|').unwrap_or(("", ""));
    let (date, window) = (date.to_string(), window.to_string());
    let base = state.config.base_url.clone();
    match state
        .db(move |c| {
            pickups::reschedule(
                c,
                &seller,
                &id,
                &date,
                &window,
                Utc::now(),
                &Settings { base_url: &base },
            )
        })
        .await
    {
        Ok(p) => {
            flash(
                &auth.viewer.session,
                "ok",
                format!("Pickup moved to {} {}.", p.date, p.window_label),
            );
            Ok(redirect(&to))
        }
        Err(e) => back(&auth, &to, e),
    }
}

/// The handover sheet of a pickup as a PDF response (drawn on the blocking pool).
pub async fn manifest_response(v: PickupView) -> Result<HttpResponse, PageError> {
    let mut address = vec![v.address.name.clone()];
    address.extend(v.address.company.clone());
    address.push(v.address.street_line());
    address.push(format!(
        "{} {} · Tel {}",
        v.address.city, v.address.postal_code, v.address.phone
    ));
    let m = Manifest {
        pickup_id: v.pickup.id.to_string(),
        seller: v
            .seller
            .as_ref()
            .map(|s| s.display_name().to_string())
            .unwrap_or_default(),
        address,
        when: format!("{} {}", v.pickup.date, v.pickup.window_label),
        area: v.area.clone(),
        courier: v
            .courier
            .as_ref()
            .map(|c| format!("{} {}", c.name, c.phone))
            .unwrap_or_else(|| "not yet assigned".into()),
        parcels: v
            .items
            .iter()
            .map(|(_, s)| ManifestParcel {
                tracking_number: s.tracking_number.clone(),
                destination: format!("{} {}", s.recipient_country, s.recipient_city),
                weight_g: s.weight_g,
            })
            .collect(),
    };
    let name = format!("pickup-{}.pdf", v.pickup.date);
    let pdf = web::block(move || waybill_labels::render_manifest(&m))
        .await?
        .map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{name}\""),
        ))
        .body(pdf))
}

#[get("/pickups/{id}/manifest")]
async fn manifest(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
) -> Result<HttpResponse, PageError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let v = state
        .db(move |c| pickups::view_for_seller(c, &seller, &id))
        .await?;
    manifest_response(v).await
}
