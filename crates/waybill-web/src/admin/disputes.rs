//! Weight-adjustment disputes: the open ones, oldest first, each with both measurements and
//! the seller's note; an admin refunds or upholds with a note the seller receives.

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, PageError};
use crate::extract::{Admin, CsrfForm, PathId};
use crate::page::{PageCtx, flash};
use crate::{AppState, html, redirect};
use waybill_app::services::shipments::Shipment;
use waybill_app::services::warehouse::{self, Adjustment};
use waybill_domain::{Money, format_weight};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(disputes_page).service(resolve);
}

pub struct DisputeRow {
    pub a: Adjustment,
    pub s: Shipment,
    pub seller: String,
    pub amount: String,
    pub declared: String,
    pub measured: String,
}

#[derive(Template)]
#[template(path = "admin/disputes.html")]
struct DisputesPage {
    ctx: PageCtx,
    rows: Vec<DisputeRow>,
}

#[get("/admin/disputes")]
async fn disputes_page(state: web::Data<AppState>, auth: Admin) -> Result<HttpResponse, PageError> {
    let currency = state.config.currency;
    let found = state.db(|c| warehouse::open_disputes(c, 200)).await?;
    let rows = found
        .into_iter()
        .map(|(a, s, seller)| DisputeRow {
            amount: Money::new(a.amount, currency).to_string(),
            declared: format!(
                "{} · {}×{}×{} mm",
                format_weight(a.declared_weight_g),
                a.declared_length_mm,
                a.declared_width_mm,
                a.declared_height_mm
            ),
            measured: format!(
                "{} · {}×{}×{} mm",
                format_weight(a.measured_weight_g),
                a.measured_length_mm,
                a.measured_width_mm,
                a.measured_height_mm
            ),
            a,
            s,
            seller,
        })
        .collect();
    html(&DisputesPage {
        ctx: PageCtx::new(&auth.viewer),
        rows,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResolveForm {
    decision: String,
    note: String,
}

#[post("/admin/disputes/{id}")]
async fn resolve(
    state: web::Data<AppState>,
    auth: Admin,
    path: PathId,
    CsrfForm(form): CsrfForm<ResolveForm>,
) -> Result<HttpResponse, PageError> {
    let refund = match form.decision.as_str() {
        "refund" => true,
        "uphold" => false,
        _ => {
            flash(&auth.viewer.session, "error", "Choose refund or uphold.");
            return Ok(redirect("/admin/disputes"));
        }
    };
    let (admin, id, currency) = (
        auth.user.id.clone(),
        path.into_inner(),
        state.config.currency,
    );
    let r = state
        .db(move |c| {
            waybill_app::services::warehouse::resolve(c, &admin, &id, refund, &form.note, currency)
        })
        .await;
    match r {
        Ok(a) => {
            state.mail.wake();
            flash(
                &auth.viewer.session,
                "ok",
                if refund {
                    format!("Refunded {}.", Money::new(a.amount, currency))
                } else {
                    "Upheld; the seller is told.".to_string()
                },
            )
        }
        Err(AppError::Validation { fields, message }) => flash(
            &auth.viewer.session,
            "error",
            fields.into_values().next().unwrap_or(message),
        ),
        Err(AppError::Conflict(m)) => flash(&auth.viewer.session, "error", m),
        Err(e) => return Err(e.into()),
    }
    Ok(redirect("/admin/disputes"))
}
