//! The payment provider's server-to-server notification. Not a page: no session, no CSRF;
//! the provider's signature is what makes it trustworthy.

use actix_web::{HttpRequest, HttpResponse, post, web};

use crate::AppState;
use crate::error::{ApiError, AppError};
use waybill_app::services::payments::{self, Settled};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(notify);
}

#[post("/payments/sandbox/notify")]
async fn notify(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    if !state.config.sandbox_payments {
        return Err(AppError::NotFound.into());
    }
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let now = chrono::Utc::now().timestamp();
    let verified = state.payments.verify_notify(
        &header("X-Sandbox-Timestamp"),
        &header("X-Sandbox-Signature"),
        &body,
        now,
    );
    let n = match verified {
        Ok(n) => n,
        Err(reason) => {
            let peer = req
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default();
            tracing::warn!(%reason, %peer, "payment notification rejected");
            return Err(AppError::Unauthorized("Invalid signature.".into()).into());
        }
    };
    let settled = state.db(move |c| payments::settle(c, &n)).await;
    match settled {
        Ok(Settled::Credited(p)) => {
            if !p.replayed {
                state.mail.wake();
            }
            Ok(HttpResponse::Ok().json(serde_json::json!({"ok": true, "replayed": p.replayed})))
        }
        Ok(Settled::Declined) => Ok(HttpResponse::Ok().json(serde_json::json!({"ok": true}))),
        Err(e) => {
            tracing::warn!(error = %e, "payment notification not applied");
            Err(e.into())
        }
    }
}
