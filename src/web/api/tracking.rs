//! `GET /api/v1/tracking/{number}`: the public tracking JSON (no key; rate-limited per client).

use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::error::{ApiError, AppError};
use crate::services::public_tracking::public_view;
use crate::web::AppState;

#[get("/tracking/{number}")]
pub async fn public_tracking(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: crate::web::extract::PathTrackingNumber,
) -> Result<HttpResponse, ApiError> {
    if !state.public_limit.allow(req.peer_addr().map(|a| a.ip())) {
        return Err(AppError::TooManyRequests(
            "Too many tracking requests from your address; try again in a minute.".into(),
        )
        .into());
    }
    let number = path.into_inner();
    let view = state.db(move |c| public_view(c, &number)).await?;
    match view {
        Some(v) => Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(v)),
        None => Err(AppError::NotFound.into()),
    }
}
