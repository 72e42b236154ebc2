//! `POST /api/v1/quotes`: every enabled channel with price, chargeable weight and transit
//! days, and for the ineligible ones the reasons.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};

use crate::domain::ParcelInput;
use crate::domain::rates::Breakdown;
use crate::error::{ApiError, AppError};
use crate::services::quotes;
use crate::web::AppState;
use crate::web::extract::{ApiJson, ApiSeller};

/// For a quote only the destination matters; the rest of the address is checked at booking.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RecipientIn {
    country: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct QuoteRequest {
    recipient: RecipientIn,
    parcel: ParcelInput,
}

#[derive(Serialize)]
pub struct Price {
    pub amount: i64,
    pub currency: String,
}

#[derive(Serialize)]
struct Transit {
    min: i32,
    max: i32,
}

#[derive(Serialize)]
struct QuoteOut {
    channel: String,
    carrier: String,
    service: String,
    eligible: bool,
    price: Option<Price>,
    breakdown: Option<Breakdown>,
    chargeable_weight_g: i64,
    transit_days: Transit,
    door_pickup: bool,
    reasons: Vec<String>,
}

#[post("/quotes")]
pub async fn create_quotes(
    state: web::Data<AppState>,
    _seller: ApiSeller,
    body: ApiJson<QuoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = BTreeMap::new();
    let country = crate::domain::CountryCode::parse(&body.recipient.country)
        .map(crate::domain::CountryCode::into_string)
        .map_err(|e| errors.insert("recipient.country".into(), e))
        .ok();
    let parcel = body.parcel.parse(&mut errors);
    let (Some(country), Some(parcel)) = (country, parcel) else {
        return Err(AppError::validation(errors).into());
    };
    let currency = state.config.currency.code().to_string();
    let list = state
        .db(move |c| quotes::quote_all(c, &parcel, &country))
        .await?;
    let out: Vec<QuoteOut> = list
        .into_iter()
        .map(|q| QuoteOut {
            channel: q.channel.code,
            carrier: q.channel.carrier,
            service: q.channel.service,
            eligible: q.quote.eligible,
            price: q.quote.price.as_ref().map(|p| Price {
                amount: p.total,
                currency: currency.clone(),
            }),
            breakdown: q.quote.price,
            chargeable_weight_g: q.quote.chargeable_weight_g,
            transit_days: Transit {
                min: q.spec.transit_min_days,
                max: q.spec.transit_max_days,
            },
            door_pickup: q.spec.door_pickup,
            reasons: q.quote.reasons,
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "quotes": out })))
}
