//! `POST /api/v1/quotes`: every enabled channel with price, chargeable weight and transit
//! days, and for the ineligible ones the reasons.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;

use crate::AppState;
use crate::error::{ApiError, AppError};
use crate::extract::{ApiJson, ApiSeller};
use waybill_app::services::quotes;
use waybill_domain::ParcelInput;

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

#[post("/quotes")]
pub async fn create_quotes(
    state: web::Data<AppState>,
    seller: ApiSeller,
    body: ApiJson<QuoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut errors = BTreeMap::new();
    let country = waybill_domain::CountryCode::parse(&body.recipient.country)
        .map(waybill_domain::CountryCode::into_string)
        .map_err(|e| errors.insert("recipient.country".into(), e))
        .ok();
    let parcel = body.parcel.parse(&mut errors);
    let (Some(country), Some(parcel)) = (country, parcel) else {
        return Err(AppError::validation(errors).into());
    };
    let currency = state.config.currency;
    let (p, c) = (parcel, country.clone());
    let list = state
        .db(move |conn| quotes::quote_all(conn, &p, &c))
        .await?;
    let out: Vec<_> = list
        .iter()
        .map(|q| {
            q.view(
                &state.quote_key[..],
                &seller.user.id,
                &parcel,
                &country,
                currency,
            )
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "quotes": out })))
}
