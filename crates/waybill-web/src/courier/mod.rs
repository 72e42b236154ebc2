//! The courier's pages (phone-sized): the pickup queue of its areas by day, and one pickup
//! with accept / arrived / scan / complete / fail. Scanning is a plain form (a hardware
//! scanner types the code and Enter); `static/js/scan.js` sends it without a reload and beeps;
//! `static/js/camera.js` reads codes with the phone camera.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use crate::error::{AppError, PageError};
use crate::extract::{Courier, CsrfForm, CsrfOnly, PathId};
use crate::page::{PageCtx, flash};
use crate::{AppState, html, redirect};
use waybill_app::services::pickups::Outcome;
use waybill_app::services::pickups::{PickupView, Settings, courier};
use waybill_domain::PickupStatus;
use waybill_domain::pickup::FailureReason;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home)
        .service(pickup_page)
        .service(accept)
        .service(arrive)
        .service(scan)
        .service(complete)
        .service(fail);
}

pub struct Tab {
    pub date: String,
    pub label: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "courier/home.html")]
struct HomePage {
    ctx: PageCtx,
    tabs: Vec<Tab>,
    pickups: Vec<PickupView>,
    me: String,
    has_area: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DayQuery {
    date: Option<String>,
}

#[get("/courier")]
async fn home(
    state: web::Data<AppState>,
    auth: Courier,
    q: web::Query<DayQuery>,
) -> Result<HttpResponse, PageError> {
    let me = auth.user.id.clone();
    let asked = q
        .into_inner()
        .date
        .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
    let (today, date, pickups, has_area) = state
        .db(move |c| {
            let today = courier::today(c, &me)?;
            let date = asked.unwrap_or(today);
            let has_area = waybill_app::services::areas::courier_has_area(c, &me)?;
            Ok((today, date, courier::queue(c, &me, date)?, has_area))
        })
        .await?;
    let tabs = (0..7)
        .map(|i| {
            let d = today + Duration::days(i);
            Tab {
                date: d.to_string(),
                label: match i {
                    0 => "Today".into(),
                    1 => "Tomorrow".into(),
                    _ => d.format("%a %d").to_string(),
                },
                active: d == date,
            }
        })
        .collect();
    html(&HomePage {
        ctx: PageCtx::new(&auth.viewer),
        tabs,
        pickups,
        me: auth.user.id.to_string(),
        has_area,
    })
}

#[derive(Template)]
#[template(path = "courier/pickup.html")]
struct PickupPage {
    ctx: PageCtx,
    v: PickupView,
    mine: bool,
    reasons: [FailureReason; 6],
}

impl PickupPage {
    fn working(&self) -> bool {
        self.mine && self.v.pickup.status.is_open()
    }

    fn is_scheduled(&self) -> bool {
        self.v.pickup.status == PickupStatus::Scheduled
    }

    fn is_accepted(&self) -> bool {
        self.v.pickup.status == PickupStatus::Accepted
    }

    fn tick(&self, i: &waybill_app::services::pickups::Item) -> &'static str {
        match i.outcome() {
            Outcome::Collected => "collected",
            Outcome::NotCollected => "left with the seller",
            Outcome::Waiting if i.scanned_at.is_some() => "scanned",
            Outcome::Waiting => "to scan",
        }
    }
}

#[get("/courier/pickups/{id}")]
async fn pickup_page(
    state: web::Data<AppState>,
    auth: Courier,
    path: PathId,
) -> Result<HttpResponse, PageError> {
    let (me, id) = (auth.user.id.clone(), path.into_inner());
    let v = state.db(move |c| courier::view(c, &me, &id)).await?;
    let mine = v.pickup.courier_id.as_deref() == Some(auth.user.id.as_str());
    let mut resp = html(&PickupPage {
        ctx: PageCtx::new(&auth.viewer),
        v,
        mine,
        reasons: FailureReason::ALL,
    })?;
    // The camera decoder is WebAssembly (served from here) and reads the camera's stream.
    resp.headers_mut().insert(
        actix_web::http::header::CONTENT_SECURITY_POLICY,
        actix_web::http::header::HeaderValue::from_static(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' data: blob:; \
             media-src 'self' blob: mediastream:; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    Ok(resp)
}

/// After a form action: back to the pickup with the outcome on top (a refusal as an error).
fn done(auth: &Courier, id: &str, r: Result<String, AppError>) -> Result<HttpResponse, PageError> {
    match r {
        Ok(msg) => flash(&auth.viewer.session, "ok", msg),
        Err(AppError::Validation { message, .. } | AppError::Conflict(message)) => {
            flash(&auth.viewer.session, "error", message)
        }
        Err(e) => return Err(e.into()),
    }
    Ok(redirect(&format!("/courier/pickups/{id}")))
}

#[post("/courier/pickups/{id}/accept")]
async fn accept(
    state: web::Data<AppState>,
    auth: Courier,
    path: PathId,
    _: CsrfOnly,
) -> Result<HttpResponse, PageError> {
    let (me, id, base) = (
        auth.user.clone(),
        path.into_inner(),
        state.config.base_url.clone(),
    );
    let i = id.clone();
    let r = state
        .db(move |c| courier::accept(c, &me, &i, &Settings { base_url: &base }))
        .await
        .map(|_| "Accepted: this pickup is yours.".to_string());
    state.mail.wake();
    done(&auth, &id, r)
}

#[post("/courier/pickups/{id}/arrive")]
async fn arrive(
    state: web::Data<AppState>,
    auth: Courier,
    path: PathId,
    _: CsrfOnly,
) -> Result<HttpResponse, PageError> {
    let (me, id) = (auth.user.clone(), path.into_inner());
    let i = id.clone();
    let r = state
        .db(move |c| courier::arrive(c, &me, &i))
        .await
        .map(|_| "Arrival recorded.".to_string());
    done(&auth, &id, r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ScanForm {
    barcode: String,
}

/// A scan from the form: JSON for the page's script (it beeps and ticks the parcel off),
/// a redirect with a flash for a plain form post.
#[post("/courier/pickups/{id}/scan")]
async fn scan(
    state: web::Data<AppState>,
    auth: Courier,
    req: HttpRequest,
    path: PathId,
    CsrfForm(form): CsrfForm<ScanForm>,
) -> Result<HttpResponse, PageError> {
    let (me, id) = (auth.user.clone(), path.into_inner());
    let i = id.clone();
    let r = state
        .db(move |c| courier::scan(c, &me, &i, &form.barcode))
        .await;
    let wants_json = req
        .headers()
        .get("Accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    if wants_json {
        return Ok(match r {
            Ok(s) => HttpResponse::Ok().json(s),
            Err(AppError::Validation { message, .. } | AppError::Conflict(message)) => {
                HttpResponse::UnprocessableEntity().json(serde_json::json!({ "error": message }))
            }
            Err(e) => return Err(e.into()),
        });
    }
    done(
        &auth,
        &id,
        r.map(|s| {
            format!(
                "Scanned {} ({} of {}).",
                s.tracking_number, s.scanned, s.expected
            )
        }),
    )
}

#[post("/courier/pickups/{id}/complete")]
async fn complete(
    state: web::Data<AppState>,
    auth: Courier,
    path: PathId,
    _: CsrfOnly,
) -> Result<HttpResponse, PageError> {
    let (me, id, base) = (
        auth.user.clone(),
        path.into_inner(),
        state.config.base_url.clone(),
    );
    let i = id.clone();
    let r = state
        .db(move |c| courier::complete(c, &me, &i, &Settings { base_url: &base }))
        .await
        .map(|v| {
            format!(
                "Pickup {}: {} collected, {} left with the seller.",
                v.pickup.status.label().to_lowercase(),
                v.collected(),
                v.flagged()
            )
        });
    state.mail.wake();
    done(&auth, &id, r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FailForm {
    reason: String,
    note: String,
}

#[post("/courier/pickups/{id}/fail")]
async fn fail(
    state: web::Data<AppState>,
    auth: Courier,
    path: PathId,
    CsrfForm(form): CsrfForm<FailForm>,
) -> Result<HttpResponse, PageError> {
    let (me, id, base) = (
        auth.user.clone(),
        path.into_inner(),
        state.config.base_url.clone(),
    );
    let i = id.clone();
    let r = state
        .db(move |c| {
            courier::fail(
                c,
                &me,
                &i,
                &form.reason,
                Some(form.note.as_str()),
                &Settings { base_url: &base },
            )
        })
        .await
        .map(|_| "Pickup marked failed; the seller is told why.".to_string());
    state.mail.wake();
    done(&auth, &id, r)
}
