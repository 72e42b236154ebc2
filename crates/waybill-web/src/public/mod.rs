//! Pages anyone may open: sign-in, sign-up, password reset, the health check.

mod auth;
mod payments;
mod tracking;

use actix_web::{HttpResponse, get, web};

use super::extract::Viewer;
use super::{AppState, redirect};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home).service(healthz);
    auth::routes(cfg);
    payments::routes(cfg);
    tracking::routes(cfg);
}

/// `/` sends each user to the home of its role, and strangers to sign in.
#[get("/")]
async fn home(viewer: Viewer) -> HttpResponse {
    match &viewer.user {
        Some(u) => redirect(u.role().home()),
        None => redirect("/login"),
    }
}

/// Liveness and database reachability, for load balancers and monitors.
#[get("/healthz")]
async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let backend = state.config.database_url.backend();
    let check = state.db(waybill_app::services::health::database).await;
    match check {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({
            "status": "ok", "database": "ok", "backend": backend,
        })),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({
                "status": "unavailable", "database": "unreachable", "backend": backend,
            }))
        }
    }
}
