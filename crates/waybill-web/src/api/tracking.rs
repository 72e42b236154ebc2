//! `GET /api/v1/tracking/{number}`: the public tracking JSON (no key; rate-limited per client).

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::AppState;
use crate::error::{ApiError, AppError};
use waybill_app::services::public_tracking::public_view;

#[get("/tracking/{number}")]
pub async fn public_tracking(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: crate::extract::PathTrackingNumber,
) -> Result<HttpResponse, ApiError> {
    if !state.public_limit.allow(req.peer_addr().map(|a| a.ip())) {
        return Err(AppError::TooManyRequests(
            "Too many tracking requests from your address; try again in a minute.".into(),
        )
        .into());
    }
    let number = path.into_inner();
    let cache = state.tracking_cache.clone();
    let view = state.db(move |c| public_view(c, &cache, &number)).await?;
    let Some(v) = view else {
        return Err(AppError::NotFound.into());
    };
    // Sized up front: with its proofs an event is some 1.5 KB of JSON, and a buffer grown by
    // doubling copies a long timeline over and over.
    let mut body = Vec::with_capacity(1024 + 1536 * v.events.len());
    serde_json::to_writer(&mut body, &v).map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .insert_header(("Cache-Control", "no-store"))
        .body(body))
}
