//! The admin's view of verified tracking: the log (size, latest checkpoint, whether this
//! server's key may checkpoint), a full verification on demand, and rejected carrier requests.

use actix_web::{HttpResponse, get, post, web};
use askama::Template;

use crate::error::{AppError, PageError};
use crate::extract::{Admin, CsrfOnly};
use crate::page::{PageCtx, flash};
use crate::{AppState, html, redirect};
use waybill_app::services::shipments::Shipment;
use waybill_app::services::tracking::TrackingIssue;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(page).service(verify).service(rotate_secret);
}

#[derive(Template)]
#[template(path = "admin/tracking.html")]
struct TrackingPage {
    ctx: PageCtx,
    log_size: i64,
    checkpoint: Option<String>,
    can_checkpoint: bool,
    verifier_key: String,
    issues: Vec<TrackingIssue>,
    /// (label, total, oldest shipments) per flag, across sellers.
    flagged: Vec<(&'static str, i64, Vec<Shipment>)>,
}

#[get("/admin/tracking")]
async fn page(state: web::Data<AppState>, auth: Admin) -> Result<HttpResponse, PageError> {
    let key = state.log_key.clone();
    let cutoffs = state
        .config
        .tracking_rules
        .cutoffs(waybill_app::clock::now());
    let o = state
        .db(move |c| waybill_app::services::tracking::overview(c, &key, cutoffs))
        .await?;
    html(&TrackingPage {
        ctx: PageCtx::new(&auth.viewer),
        log_size: o.log_size,
        checkpoint: o.checkpoint,
        can_checkpoint: o.can_checkpoint,
        verifier_key: state.log_key.verifier_key(),
        issues: o.issues,
        flagged: o
            .flagged
            .into_iter()
            .map(|(flag, n, rows)| (flag.label(), n, rows))
            .collect(),
    })
}

/// Runs what `waybill verify-chain` runs and says the outcome.
#[post("/admin/tracking/verify")]
async fn verify(
    state: web::Data<AppState>,
    auth: Admin,
    _: CsrfOnly,
) -> Result<HttpResponse, PageError> {
    let key = state.log_key.clone();
    let v = state
        .db(move |c| waybill_app::services::tracking_log::verify_chain(c, &key))
        .await?;
    if v.holds() {
        flash(
            &auth.viewer.session,
            "ok",
            format!(
                "The log checks out: {} event(s), {} checkpoint(s).",
                v.events, v.checkpoints
            ),
        );
    } else {
        flash(
            &auth.viewer.session,
            "error",
            // The first few (a flash lives in the session cookie); the CLI lists them all.
            format!(
                "Verification failed ({} problem(s)): {}",
                v.problems.len(),
                v.problems
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        );
    }
    Ok(redirect("/admin/tracking"))
}

/// Gives a channel a new carrier webhook secret, shown once; the old one keeps verifying
/// for 24 hours so the carrier can switch without losing events.
#[post("/admin/channels/{code}/rotate-secret")]
async fn rotate_secret(
    state: web::Data<AppState>,
    auth: Admin,
    path: crate::extract::PathCode,
    _: CsrfOnly,
) -> Result<HttpResponse, PageError> {
    let code = path.into_inner();
    let secret = waybill_app::security::random_token(32)?;
    let until = waybill_app::clock::now() + chrono::Duration::hours(24);
    let (c, s) = (code.clone(), secret.clone());
    let done = state
        .db(move |conn| waybill_app::services::channels::rotate_secret(conn, &c, &s, until))
        .await?;
    if !done {
        return Err(AppError::NotFound.into());
    }
    tracing::info!(admin = %auth.user.id, channel = %code, "webhook secret rotated");
    flash(
        &auth.viewer.session,
        "ok",
        format!(
            "New webhook secret for {code} (shown only now; the old one works until {} UTC): {secret}",
            until.format("%Y-%m-%d %H:%M")
        ),
    );
    Ok(redirect(&format!("/admin/channels/{code}")))
}
