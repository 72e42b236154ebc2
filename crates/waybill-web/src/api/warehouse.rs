//! `POST /api/v1/warehouse/scans`: a dimensioning-weighing-scanning machine (or any client with
//! a warehouse key) reports a parcel received and measured.

use actix_web::{HttpResponse, post, web};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiWarehouse};
use waybill_app::services::warehouse::{self, ScanInput};

pub fn routes(scope: actix_web::Scope) -> actix_web::Scope {
    scope.service(scan)
}

/// What the scan service needs from the configuration.
pub fn settings(state: &AppState) -> warehouse::Settings {
    warehouse::Settings {
        tolerance_g: state.config.weight_tolerance_g,
        tolerance_percent: state.config.weight_tolerance_percent,
        currency: state.config.currency,
    }
}

#[post("/warehouse/scans")]
async fn scan(
    state: web::Data<AppState>,
    who: ApiWarehouse,
    body: ApiJson<ScanInput>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0.parse().map_err(crate::error::AppError::validation)?;
    let (me, s) = (who.user.id, settings(&state));
    let out = state
        .db(move |c| warehouse::scan(c, &me, &request, &s))
        .await?;
    if !out.replayed {
        state.mail.wake();
        state.webhooks.wake();
    }
    Ok(HttpResponse::Ok().json(out))
}
