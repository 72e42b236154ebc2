//! Weight-adjustment disputes: the open ones, oldest first, each with both measurements and
//! the seller's note; an admin refunds or upholds with a note the seller receives.

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::db::shipments::Shipment;
use crate::db::warehouse::Adjustment;
use crate::domain::{Money, format_weight};
use crate::error::AppError;
use crate::web::extract::{Admin, CsrfForm, PathId};
use crate::web::page::{PageCtx, flash};
use crate::web::{AppState, html, redirect};

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
async fn disputes_page(state: web::Data<AppState>, auth: Admin) -> Result<HttpResponse, AppError> {
    let currency = state.config.currency;
    let found = state
        .db(|c| {
            let open = crate::db::warehouse::open_disputes(c, 200)?;
            let mut rows = Vec::with_capacity(open.len());
            for (a, s) in open {
                let seller = crate::db::users::find(c, &a.seller_id)?
                    .map(|u| u.email)
                    .unwrap_or_default();
                rows.push((a, s, seller));
            }
            Ok(rows)
        })
        .await?;
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
) -> Result<HttpResponse, AppError> {
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
            crate::services::warehouse::resolve(c, &admin, &id, refund, &form.note, currency)
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
        Err(e) => return Err(e),
    }
    Ok(redirect("/admin/disputes"))
}
