//! One shipment: details, timeline, cancellation.

use actix_web::{HttpResponse, get, post, web};
use askama::Template;

use crate::db::shipments::{Shipment, ShipmentEvent};
use crate::domain::{Money, Status, format_weight};
use crate::error::AppError;
use crate::services::booking::{self};
use crate::web::extract::{CsrfOnly, PathId, Seller};
use crate::web::page::{PageCtx, flash};
use crate::web::{AppState, html, redirect};

#[derive(Template)]
#[template(path = "seller/shipment.html")]
struct DetailPage {
    ctx: PageCtx,
    s: Shipment,
    channel_name: String,
    status: String,
    price: String,
    weight: String,
    chargeable: String,
    sender: crate::domain::address::Address,
    customs: crate::domain::customs::Customs,
    events: Vec<ShipmentEvent>,
    cancellable: bool,
}

#[get("/shipments/{id}")]
pub(super) async fn detail(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
) -> Result<HttpResponse, AppError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let (s, events, channel) = state
        .db(move |c| {
            let s = crate::db::shipments::find(c, &seller, &id)?.ok_or(AppError::NotFound)?;
            let events = crate::db::shipments::events(c, &s.id)?;
            let channel = crate::db::channels::find(c, &s.channel_code)?;
            Ok((s, events, channel))
        })
        .await?;
    let currency = state.config.currency;
    html(&DetailPage {
        ctx: PageCtx::new(&auth.viewer),
        channel_name: channel
            .map(|c| format!("{} {}", c.carrier, c.service))
            .unwrap_or_default(),
        status: s.status.label().to_string(),
        price: Money::new(s.price_amount, currency).to_string(),
        weight: format_weight(s.weight_g),
        chargeable: format_weight(s.chargeable_weight_g),
        sender: serde_json::from_str(&s.sender).map_err(AppError::internal)?,
        customs: serde_json::from_str(&s.customs).map_err(AppError::internal)?,
        cancellable: s.status.is_cancellable(),
        events,
        s,
    })
}

#[post("/shipments/{id}/cancel")]
pub(super) async fn cancel(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
    _: CsrfOnly,
) -> Result<HttpResponse, AppError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let currency = state.config.currency;
    let to = format!("/shipments/{id}");
    let s = state
        .db(move |c| booking::cancel(c, &seller, &id, currency))
        .await?;
    state.webhooks.wake();
    flash(
        &auth.viewer.session,
        "ok",
        format!(
            "Cancelled. {} is back in your wallet.",
            Money::new(s.price_amount, currency)
        ),
    );
    Ok(redirect(&to))
}
