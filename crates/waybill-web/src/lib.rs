//! HTTP handlers by area, the shared state they reach the database through, and route wiring.

pub mod admin;
pub mod api;
mod assets;
pub mod courier;
pub mod error;
pub mod extract;
pub mod label_file;
pub mod page;
pub mod paging;
pub mod public;
pub mod rate_limit;
mod sandbox;
pub mod seller;
pub mod upload;
pub mod warehouse;

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use waybill_app::config::Config;
use waybill_app::mail::MailWorker;
use waybill_app::services::payments::{PaymentProvider, Sandbox};
use waybill_app::{DbConn, Pool};

use crate::error::{ApiError, AppError, PageError};

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub config: Arc<Config>,
    pub mail: MailWorker,
    /// The gateway top-ups go through.
    pub payments: Arc<dyn PaymentProvider>,
    /// The built-in gateway's own pages (`/sandbox`).
    pub sandbox: Arc<Sandbox>,
    /// Signs quote ids (derived from the session secret).
    pub quote_key: Arc<[u8; 32]>,
    /// Sends seller webhooks from their outbox.
    pub webhooks: waybill_app::webhooks::WebhookWorker,
    /// Seals webhook signing keys at rest (derived from the session secret).
    pub webhook_secrets: waybill_app::services::webhooks::SecretBox,
    /// The tracking log's signing key (from its file) and name.
    pub log_key: Arc<waybill_app::services::tracking_log::LogKey>,
    /// The tracking log's stored hashes, inclusion proofs and latest checkpoint, in memory
    /// for the public tracking reads (bounded; see `tracking_log::cache`).
    pub tracking_cache: Arc<waybill_app::services::tracking_log::cache::TrackingCache>,
    /// Requests per client on the public tracking page and JSON.
    pub public_limit: Arc<rate_limit::RateLimiter>,
}

impl AppState {
    /// Runs `f` on a pooled connection on the blocking thread pool (never on the event loop).
    pub async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await
        .map_err(AppError::internal)?
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(assets::routes)
        .configure(api::routes)
        .configure(public::routes)
        .configure(sandbox::routes)
        .configure(seller::routes)
        .configure(courier::routes)
        .configure(warehouse::routes)
        .configure(admin::routes);
}

/// Unknown paths: JSON under `/api`, the HTML 404 page elsewhere.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    use actix_web::ResponseError;
    if req.path().starts_with("/api/") {
        ApiError(AppError::NotFound).error_response()
    } else {
        PageError(AppError::NotFound).error_response()
    }
}

pub fn html(page: &impl Template) -> Result<HttpResponse, PageError> {
    html_status(actix_web::http::StatusCode::OK, page)
}

pub fn html_status(
    status: actix_web::http::StatusCode,
    page: &impl Template,
) -> Result<HttpResponse, PageError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page.render()?))
}

/// 303 See Other: the answer to a successful form POST.
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", to))
        .finish()
}

pub fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A `next` target is followed only when it is a path on this site (no open redirects).
/// Browsers drop tabs and line breaks from a `Location` (so `/\t/evil.example` becomes
/// `//evil.example`), and other control characters make no valid header at all: a target
/// holding any control character or white space is not followed.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || waybill_domain::text::is_invisible(c))
        && next != "/logout";
    ok.then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_targets_stay_on_site() {
        assert_eq!(
            safe_next("/seller/settings?x=1"),
            Some("/seller/settings?x=1")
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "",
            "seller",
            "/\t/evil.example",
            "/\t\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/\x0b",
            "/\x0c/evil.example",
            "/\u{0}",
            "/\u{7f}/evil.example",
            "/\u{85}/evil.example",
            "/ /evil.example",
            "/seller settings",
            "/\u{a0}/evil.example",
            "/\u{2028}/evil.example",
            "/\u{3000}/evil.example",
            "/\u{200b}/evil.example",
            "/\u{feff}/evil.example",
        ] {
            assert_eq!(safe_next(bad), None, "{bad}");
        }
    }
}
