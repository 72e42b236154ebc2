//! One shipment: details, timeline, cancellation.

use actix_web::{HttpResponse, get, post, web};
use askama::Template;

use crate::error::{AppError, PageError};
use crate::extract::{CsrfOnly, PathId, Seller};
use crate::page::{PageCtx, flash};
use crate::{AppState, html, redirect};
use waybill_app::services::booking::{self};
use waybill_app::services::channels;
use waybill_app::services::shipments::{self, Shipment, ShipmentEvent};
use waybill_domain::weighing::{AdjustmentOutcome, DisputeStatus};
use waybill_domain::{Money, Status, format_weight};

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
    sender: waybill_domain::address::Address,
    customs: waybill_domain::customs::Customs,
    events: Vec<ShipmentEvent>,
    cancellable: bool,
    measurement: Option<Measurement>,
}

/// What the warehouse measured, and what it cost or gave back.
struct Measurement {
    a: waybill_app::services::warehouse::Adjustment,
    declared_price: String,
    measured_price: String,
    /// "¥12.00 charged", "¥3.00 refunded", "none (within tolerance)"…
    difference: String,
    due: Option<String>,
    /// Why a dispute cannot be opened now (`None`: the form is shown).
    dispute_refusal: Option<String>,
    held: bool,
}

impl Measurement {
    fn held_outcome(&self) -> bool {
        self.a.outcome == AdjustmentOutcome::Held
    }
}

impl DetailPage {
    fn grams(g: &i64) -> String {
        format_weight(*g)
    }
}

fn measurement(
    a: waybill_app::services::warehouse::Adjustment,
    s: &Shipment,
    currency: waybill_domain::Currency,
) -> Measurement {
    let m = |minor: i64| Money::new(minor, currency).to_string();
    let difference = match a.outcome {
        AdjustmentOutcome::Charged => format!("{} charged", m(a.amount)),
        AdjustmentOutcome::Refunded => format!("{} refunded", m(-a.amount)),
        AdjustmentOutcome::Held => "none: the parcel is held".into(),
        AdjustmentOutcome::WithinTolerance => "none (within tolerance)".into(),
    };
    Measurement {
        declared_price: m(a.declared_price),
        measured_price: m(a.measured_price),
        difference,
        due: (a.due > 0).then(|| m(a.due)),
        dispute_refusal: waybill_app::services::warehouse::dispute_refusal(
            &a,
            waybill_app::clock::now(),
        ),
        held: a.outcome == AdjustmentOutcome::Held && s.status == Status::Exception,
        a,
    }
}

#[get("/shipments/{id}")]
pub(super) async fn detail(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
) -> Result<HttpResponse, PageError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let (d, channel) = state
        .db(move |c| {
            let d = shipments::detail(c, &seller, &id)?;
            let channel = channels::find(c, &d.shipment.channel_code)?;
            Ok((d, channel))
        })
        .await?;
    let shipments::Detail {
        shipment: s,
        events,
        adjustment,
    } = d;
    let currency = state.config.currency;
    let measurement = adjustment.map(|a| measurement(a, &s, currency));
    html(&DetailPage {
        ctx: PageCtx::new(&auth.viewer),
        channel_name: channel
            .map(|c| format!("{} {}", c.carrier, c.service))
            .unwrap_or_default(),
        status: s.status.label().to_string(),
        price: Money::new(s.price_amount, currency).to_string(),
        weight: format_weight(s.weight_g),
        chargeable: format_weight(s.chargeable_weight_g),
        sender: s.sender.clone(),
        customs: s.customs.clone(),
        cancellable: s.status.is_cancellable(),
        events,
        measurement,
        s,
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(super) struct DisputeForm {
    note: String,
}

#[post("/shipments/{id}/dispute")]
pub(super) async fn dispute(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
    crate::extract::CsrfForm(form): crate::extract::CsrfForm<DisputeForm>,
) -> Result<HttpResponse, PageError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let to = format!("/shipments/{id}");
    let r = state
        .db(move |c| waybill_app::services::warehouse::dispute(c, &seller, &id, &form.note))
        .await;
    match r {
        Ok(_) => flash(
            &auth.viewer.session,
            "ok",
            "Dispute sent. Waybill reviews it and mails you the decision.",
        ),
        Err(AppError::Validation { fields, message }) => flash(
            &auth.viewer.session,
            "error",
            fields.into_values().next().unwrap_or(message),
        ),
        Err(AppError::Conflict(m)) => flash(&auth.viewer.session, "error", m),
        Err(e) => return Err(e.into()),
    }
    Ok(redirect(&to))
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(super) struct HeldForm {
    /// `send_back` or `rebook`.
    choice: String,
}

/// A held parcel: sent back (refunded), or given up on its channel and the booking form
/// opened with the parcel as measured, to choose another channel.
#[post("/shipments/{id}/held")]
pub(super) async fn release_held(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
    crate::extract::CsrfForm(form): crate::extract::CsrfForm<HeldForm>,
) -> Result<HttpResponse, PageError> {
    use waybill_app::services::warehouse::HeldChoice;
    let choice = match form.choice.as_str() {
        "send_back" => HeldChoice::SendBack,
        "rebook" => HeldChoice::Rebook,
        _ => {
            return Err(
                AppError::BadRequest("Choose to send it back or book it again.".into()).into(),
            );
        }
    };
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let currency = state.config.currency;
    let to = format!("/shipments/{id}");
    let r = state
        .db(move |c| {
            let (s, refund) =
                waybill_app::services::warehouse::release_held(c, &seller, &id, choice, currency)?;
            let a = waybill_app::services::warehouse::adjustment_for_seller(c, &seller, &id)?;
            Ok((s, refund, a))
        })
        .await;
    let (s, refund, a) = match r {
        Ok(done) => done,
        Err(AppError::Conflict(m)) => {
            flash(&auth.viewer.session, "error", m);
            return Ok(redirect(&to));
        }
        Err(e) => return Err(e.into()),
    };
    state.webhooks.wake();
    state.mail.wake();
    let refund = Money::new(refund, currency);
    if choice == HeldChoice::SendBack {
        flash(
            &auth.viewer.session,
            "ok",
            format!("The warehouse sends the parcel back to you; {refund} is back in your wallet."),
        );
        return Ok(redirect(&to));
    }
    flash(
        &auth.viewer.session,
        "ok",
        format!(
            "{} is cancelled and {refund} is back in your wallet. Here is the parcel as the warehouse measured it: choose a channel that takes it.",
            s.tracking_number
        ),
    );
    let parcel = a
        .map(|a| waybill_domain::Parcel {
            weight_g: a.measured_weight_g,
            length_mm: a.measured_length_mm,
            width_mm: a.measured_width_mm,
            height_mm: a.measured_height_mm,
        })
        .unwrap_or(waybill_domain::Parcel {
            weight_g: s.weight_g,
            length_mm: s.length_mm,
            width_mm: s.width_mm,
            height_mm: s.height_mm,
        });
    let mut form = super::form::ShipmentForm::from_shipment(&s, &parcel);
    form.form_key = waybill_app::security::random_token(16)?;
    super::book::render_new(
        &state,
        &auth,
        form,
        std::collections::BTreeMap::new(),
        Vec::new(),
    )
    .await
}

#[post("/shipments/{id}/cancel")]
pub(super) async fn cancel(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
    _: CsrfOnly,
) -> Result<HttpResponse, PageError> {
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
