//! The warehouse operator's pages: inbound scan and re-weigh. A hardware scanner types the
//! label's number and Enter into the first field (`static/js/inbound.js` then moves on to the
//! weight instead of sending); the form posts and the page answers with what the scan did.
//! Each form carries its own scan id, so a double submit or a reload records one scan.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, PageError};
use crate::extract::{CsrfForm, Warehouse};
use crate::page::{PageCtx, flash};
use crate::{AppState, html, redirect};
use waybill_app::services::shipments::Shipment;
use waybill_app::services::warehouse::{
    self, Adjustment, AdjustmentOutcome, Scan, ScanInput, ScanOutcome, ScanResult,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home).service(scan);
}

/// The form as typed: text, so a bad number is an error on the form, not a 400.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct ScanForm {
    scan_id: String,
    tracking_number: String,
    weight_g: String,
    length_mm: String,
    width_mm: String,
    height_mm: String,
    location: String,
}

#[derive(Template)]
#[template(path = "warehouse/home.html")]
struct HomePage {
    ctx: PageCtx,
    form: ScanForm,
    errors: BTreeMap<String, String>,
    /// Each scan with what it did: charged, refunded, held, or nothing (measured before).
    recent: Vec<(Scan, Shipment, String)>,
}

impl HomePage {
    fn size(s: &Scan) -> String {
        match (s.length_mm, s.width_mm, s.height_mm) {
            (Some(l), Some(w), Some(h)) => format!("{l}×{w}×{h} mm"),
            _ => "—".into(),
        }
    }
    fn weight(g: &i64) -> String {
        waybill_domain::format_weight(*g)
    }
}

/// What a scan did, for the operator's list.
fn scan_result(sc: &Scan, a: Option<&Adjustment>) -> String {
    let Some(a) = a else {
        return "—".into();
    };
    if a.scan_id != sc.id {
        return if a.outcome == AdjustmentOutcome::Held {
            "Held (measured before)".into()
        } else {
            "Measured before: not billed again".into()
        };
    }
    let money = |m: i64| {
        waybill_domain::Currency::parse(&a.currency)
            .map(|c| waybill_domain::Money::new(m, c).to_string())
            .unwrap_or_else(|_| m.to_string())
    };
    match a.outcome {
        AdjustmentOutcome::Charged if a.due > 0 && a.charged == 0 => {
            format!("{} due (wallet empty)", money(a.due))
        }
        AdjustmentOutcome::Charged if a.due > 0 => {
            format!("Charged {}, {} due", money(a.charged), money(a.due))
        }
        AdjustmentOutcome::Charged => format!("Charged {}", money(a.amount)),
        AdjustmentOutcome::Refunded => format!("Refunded {}", money(-a.amount)),
        AdjustmentOutcome::Held => format!(
            "HOLD: {}",
            a.held_reason
                .as_deref()
                .unwrap_or("over the channel's limits")
        ),
        AdjustmentOutcome::WithinTolerance => "Within tolerance".into(),
    }
}

fn fresh_form(location: &str) -> ScanForm {
    ScanForm {
        scan_id: waybill_app::clock::new_id(),
        location: location.to_string(),
        ..ScanForm::default()
    }
}

async fn page(
    state: &AppState,
    auth: &Warehouse,
    form: ScanForm,
    errors: BTreeMap<String, String>,
) -> Result<HttpResponse, PageError> {
    let me = auth.user.id.clone();
    let recent = state
        .db(move |c| warehouse::recent_scans(c, &me, 20))
        .await?
        .into_iter()
        .map(|(sc, s, a)| {
            let result = scan_result(&sc, a.as_ref());
            (sc, s, result)
        })
        .collect();
    let status = if errors.is_empty() { 200 } else { 422 };
    let mut r = html(&HomePage {
        ctx: PageCtx::new(&auth.viewer),
        form,
        errors,
        recent,
    })?;
    *r.status_mut() = actix_web::http::StatusCode::from_u16(status).unwrap_or_default();
    Ok(r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HomeQuery {
    location: String,
}

#[get("/warehouse")]
async fn home(
    state: web::Data<AppState>,
    auth: Warehouse,
    q: web::Query<HomeQuery>,
) -> Result<HttpResponse, PageError> {
    let location: String = q
        .location
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    page(&state, &auth, fresh_form(&location), BTreeMap::new()).await
}

fn number(raw: &str, field: &str, errors: &mut BTreeMap<String, String>) -> Option<i64> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.insert(field.into(), "Enter a whole number.".into());
            None
        }
    }
}

fn said(o: &ScanOutcome) -> (&'static str, String) {
    let n = &o.tracking_number;
    let money = |m: &warehouse::MoneyJson| {
        waybill_domain::Currency::parse(&m.currency)
            .map(|c| waybill_domain::Money::new(m.amount.abs(), c).to_string())
            .unwrap_or_else(|_| m.amount.to_string())
    };
    match (o.result, &o.adjustment) {
        (ScanResult::Held, _) => (
            "error",
            format!(
                "{n}: HOLD — over the channel's limits. {}",
                o.held_reason.as_deref().unwrap_or("")
            ),
        ),
        (ScanResult::AlreadyMeasured, _) => ("ok", format!("{n}: measured before; scan recorded.")),
        (_, Some(a)) if a.amount > 0 => (
            "ok",
            format!(
                "{n}: received; heavier than declared, {} charged to the seller.",
                money(a)
            ),
        ),
        (_, Some(a)) => (
            "ok",
            format!(
                "{n}: received; lighter than declared, {} refunded to the seller.",
                money(a)
            ),
        ),
        _ => ("ok", format!("{n}: received, weight as declared.")),
    }
}

#[post("/warehouse/scans")]
async fn scan(
    state: web::Data<AppState>,
    auth: Warehouse,
    CsrfForm(form): CsrfForm<ScanForm>,
) -> Result<HttpResponse, PageError> {
    let mut errors = BTreeMap::new();
    let input = ScanInput {
        scan_id: Some(form.scan_id.clone()),
        tracking_number: Some(form.tracking_number.clone()),
        weight_g: number(&form.weight_g, "weight_g", &mut errors),
        length_mm: number(&form.length_mm, "length_mm", &mut errors),
        width_mm: number(&form.width_mm, "width_mm", &mut errors),
        height_mm: number(&form.height_mm, "height_mm", &mut errors),
        location: Some(form.location.clone()),
    };
    let request = match input.parse() {
        Ok(r) if errors.is_empty() => r,
        Ok(_) => return page(&state, &auth, form, errors).await,
        Err(mut e) => {
            e.append(&mut errors);
            return page(&state, &auth, form, e).await;
        }
    };
    let (me, s) = (
        auth.user.id.clone(),
        crate::api::warehouse::settings(&state),
    );
    let r = state
        .db(move |c| warehouse::scan(c, &me, &request, &s))
        .await;
    match r {
        Ok(o) => {
            let (kind, msg) = said(&o);
            flash(&auth.viewer.session, kind, msg);
            state.mail.wake();
            state.webhooks.wake();
        }
        Err(AppError::Validation { fields, .. }) => return page(&state, &auth, form, fields).await,
        Err(AppError::Conflict(message)) => {
            let mut e = BTreeMap::new();
            e.insert("tracking_number".to_string(), message);
            return page(&state, &auth, form, e).await;
        }
        Err(e) => return Err(e.into()),
    }
    let next = format!(
        "/warehouse?location={}",
        url::form_urlencoded::byte_serialize(form.location.trim().as_bytes()).collect::<String>()
    );
    Ok(redirect(&next))
}
