//! The admin's view of verified tracking: the log (size, latest checkpoint, whether this
//! server's key may checkpoint), a full verification on demand, and rejected carrier requests.

use actix_web::{HttpResponse, get, post, web};
use askama::Template;

use crate::db::shipments::{Filter, Shipment};
use crate::db::tracking::TrackingIssue;
use crate::domain::tracking_flags::TrackingFlag;
use crate::error::AppError;
use crate::web::extract::{Admin, CsrfOnly};
use crate::web::page::{PageCtx, flash};
use crate::web::{AppState, html, redirect};

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
async fn page(state: web::Data<AppState>, auth: Admin) -> Result<HttpResponse, AppError> {
    let key = state.log_key.clone();
    let cutoffs = state.config.tracking_rules.cutoffs(crate::db::now());
    let (log_size, checkpoint, can_checkpoint, issues, flagged) = state
        .db(move |c| {
            let mut flagged = Vec::new();
            for flag in [TrackingFlag::NoTracking, TrackingFlag::Stale] {
                let f = Filter {
                    tracking: Some((flag, cutoffs)),
                    ..Default::default()
                };
                flagged.push((
                    flag.label(),
                    crate::db::shipments::count_all(c, &f)?,
                    crate::db::shipments::list_all(c, &f, 50)?,
                ));
            }
            Ok((
                crate::db::tracking::head_size(c)?,
                crate::db::tracking::latest_checkpoint(c)?.map(|c| c.note),
                crate::services::tracking_log::can_checkpoint(c, &key)?,
                crate::db::tracking::recent_issues(c, 200)?,
                flagged,
            ))
        })
        .await?;
    html(&TrackingPage {
        ctx: PageCtx::new(&auth.viewer),
        log_size,
        checkpoint,
        can_checkpoint,
        verifier_key: state.log_key.verifier_key(),
        issues,
        flagged,
    })
}

/// Runs what `waybill verify-chain` runs and says the outcome.
#[post("/admin/tracking/verify")]
async fn verify(
    state: web::Data<AppState>,
    auth: Admin,
    _: CsrfOnly,
) -> Result<HttpResponse, AppError> {
    let key = state.log_key.clone();
    let v = state
        .db(move |c| crate::services::tracking_log::verify_chain(c, &key))
        .await?;
    match v.problem {
        None => flash(
            &auth.viewer.session,
            "ok",
            format!(
                "The log checks out: {} event(s), {} checkpoint(s).",
                v.events, v.checkpoints
            ),
        ),
        Some(p) => flash(
            &auth.viewer.session,
            "error",
            format!("Verification failed: {p}"),
        ),
    }
    Ok(redirect("/admin/tracking"))
}

/// Gives a channel a new carrier webhook secret, shown once; the old one keeps verifying
/// for 24 hours so the carrier can switch without losing events.
#[post("/admin/channels/{code}/rotate-secret")]
async fn rotate_secret(
    state: web::Data<AppState>,
    auth: Admin,
    path: crate::web::extract::PathCode,
    _: CsrfOnly,
) -> Result<HttpResponse, AppError> {
    let code = path.into_inner();
    let secret = crate::security::random_token(32)?;
    let until = crate::db::now() + chrono::Duration::hours(24);
    let (c, s) = (code.clone(), secret.clone());
    let done = state
        .db(move |conn| Ok(crate::db::channels::rotate_secret(conn, &c, &s, until)?))
        .await?;
    if !done {
        return Err(AppError::NotFound);
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
