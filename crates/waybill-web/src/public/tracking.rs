//! The public tracking page (`/track/{number}`, search at `/track`) and the tracking log's
//! verifier key. Rate-limited per client like the JSON.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, PageError};
use crate::extract::Viewer;
use crate::page::PageCtx;
use crate::{AppState, html, html_status, redirect, urlencode};
use waybill_app::services::public_tracking::{PublicTracking, page_view};
use waybill_domain::Status;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(search).service(track).service(log_key);
}

pub struct Milestone {
    pub label: &'static str,
    pub reached: bool,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "public/track.html")]
struct TrackPage {
    ctx: PageCtx,
    t: PublicTracking,
    status: &'static str,
    milestones: Vec<Milestone>,
    /// Newest first, as people read a timeline.
    events: Vec<(String, &'static str, Option<String>, String, bool)>,
    /// The estimate's last day has passed and the parcel is not delivered yet.
    late: bool,
    cancelled: bool,
}

#[derive(Template)]
#[template(path = "public/track_search.html")]
struct SearchPage {
    ctx: PageCtx,
    number: String,
    not_found: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SearchQuery {
    number: String,
}

/// The search box's target: a number goes to its page.
#[get("/track")]
async fn search(viewer: Viewer, q: web::Query<SearchQuery>) -> Result<HttpResponse, PageError> {
    let number: String = q
        .number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(40)
        .collect::<String>()
        .to_ascii_uppercase();
    if !number.is_empty() {
        return Ok(redirect(&format!("/track/{}", urlencode(&number))));
    }
    html(&SearchPage {
        ctx: PageCtx::new(&viewer),
        number,
        not_found: false,
    })
}

#[get("/track/{number}")]
async fn track(
    state: web::Data<AppState>,
    viewer: Viewer,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    if !state.public_limit.allow(req.peer_addr().map(|a| a.ip())) {
        return Err(AppError::TooManyRequests(
            "Too many tracking requests from your address; try again in a minute.".into(),
        )
        .into());
    }
    let number = path.into_inner();
    let lookup = number.clone();
    // Anything that is not letters and digits names no parcel: the friendly 404, no query.
    let found = if crate::extract::is_tracking_number(&number) {
        state.db(move |c| page_view(c, &lookup)).await?
    } else {
        None
    };
    let Some(t) = found else {
        return html_status(
            StatusCode::NOT_FOUND,
            &SearchPage {
                ctx: PageCtx::new(&viewer),
                number: number
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(40)
                    .collect(),
                not_found: true,
            },
        );
    };
    let stage = t.status.stage().unwrap_or(0);
    let milestones = Status::MILESTONES
        .iter()
        .map(|m| Milestone {
            label: m.label(),
            reached: m.stage().is_some_and(|s| s <= stage),
            current: *m == t.status,
        })
        .collect();
    let events = t
        .events
        .iter()
        .rev()
        .map(|e| {
            let at = chrono::DateTime::parse_from_rfc3339(&e.occurred_at)
                .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|_| e.occurred_at.clone());
            (
                at,
                e.status.label(),
                e.location.clone(),
                e.description.clone(),
                e.verified,
            )
        })
        .collect();
    let today = waybill_app::clock::now().date();
    html(&TrackPage {
        ctx: PageCtx::new(&viewer),
        status: t.status.label(),
        milestones,
        events,
        late: t.estimated_delivery.as_ref().is_some_and(|e| e.to < today),
        cancelled: t.status == Status::Cancelled,
        t,
    })
}

/// The checkpoint verifier key: `<name>+<key id>+<base64(0x01 ‖ Ed25519 public key)>`.
#[get("/.well-known/waybill-log-key")]
async fn log_key(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{}\n", state.log_key.verifier_key()))
}
