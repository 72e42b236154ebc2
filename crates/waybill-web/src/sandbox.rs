//! The sandbox payment gateway's own pages: what a real gateway's hosted checkout would show.
//! It knows only what the signed checkout link tells it, and answers the way a real gateway
//! does: a signed notification to Waybill's server and a signed redirect of the browser.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, PageError};
use crate::{AppState, html_status};
use waybill_app::services::payments::Checkout;
use waybill_app::services::payments::Notification;
use waybill_domain::{Currency, Money};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(checkout_page).service(checkout_answer);
}

#[derive(Template)]
#[template(path = "sandbox/checkout.html")]
struct CheckoutPage {
    checkout: Option<Checkout>,
    amount: String,
    error: Option<String>,
}

fn amount_of(c: &Checkout) -> String {
    Currency::parse(&c.currency)
        .map(|cur| Money::new(c.amount, cur).to_string())
        .unwrap_or_default()
}

#[get("/sandbox/checkout")]
async fn checkout_page(
    state: web::Data<AppState>,
    q: web::Query<Checkout>,
) -> Result<HttpResponse, PageError> {
    if !state.config.sandbox_payments {
        return Err(AppError::NotFound.into());
    }
    let c = q.into_inner();
    let now = chrono::Utc::now().timestamp();
    match state.sandbox.verify_checkout(&c, now) {
        Ok(()) => html_status(
            StatusCode::OK,
            &CheckoutPage {
                amount: amount_of(&c),
                checkout: Some(c),
                error: None,
            },
        ),
        Err(e) => html_status(
            StatusCode::BAD_REQUEST,
            &CheckoutPage {
                amount: String::new(),
                checkout: None,
                error: Some(e),
            },
        ),
    }
}

// Spelled out: serde's `flatten` cannot read numbers from a url-encoded form.
#[derive(Deserialize)]
struct Answer {
    intent_id: String,
    amount: i64,
    currency: String,
    expires: i64,
    sig: String,
    action: String,
}

#[post("/sandbox/checkout")]
async fn checkout_answer(
    state: web::Data<AppState>,
    form: web::Form<Answer>,
) -> Result<HttpResponse, PageError> {
    if !state.config.sandbox_payments {
        return Err(AppError::NotFound.into());
    }
    let Answer {
        intent_id,
        amount,
        currency,
        expires,
        sig,
        action,
    } = form.into_inner();
    let c = Checkout {
        intent_id,
        amount,
        currency,
        expires,
        sig,
    };
    let now = chrono::Utc::now().timestamp();
    if let Err(e) = state.sandbox.verify_checkout(&c, now) {
        return html_status(
            StatusCode::BAD_REQUEST,
            &CheckoutPage {
                amount: String::new(),
                checkout: None,
                error: Some(e),
            },
        );
    }
    let status = if action == "pay" {
        "succeeded"
    } else {
        "declined"
    };
    let n = Notification {
        intent_id: c.intent_id.clone(),
        status: status.into(),
        amount: c.amount,
        currency: c.currency.clone(),
        provider_ref: format!("SBX-{}", uuid::Uuid::new_v4().simple()),
    };
    // Server to server first, as gateways do; the browser return settles it too if this fails.
    let (ts, sig, body) = state.sandbox.notification(&n, now);
    let sent = awc::Client::default()
        .post(state.sandbox.notify_url())
        .insert_header(("Content-Type", "application/json"))
        .insert_header(("X-Sandbox-Timestamp", ts))
        .insert_header(("X-Sandbox-Signature", sig))
        .send_body(body)
        .await;
    match sent {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => tracing::warn!(status = r.status().as_u16(), "sandbox notification refused"),
        Err(e) => tracing::warn!(error = %e, "sandbox notification not delivered"),
    }
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", state.sandbox.return_url(&n, now)))
        .finish())
}
