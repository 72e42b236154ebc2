//! Seller settings: time zone and default label size, password, API keys (created and
//! shown once, stored hashed, revocable) and webhook endpoints (secret shown once, rotate,
//! test, delete, the delivery log).

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, PageError};
use crate::extract::{CsrfForm, CsrfOnly, PathId, Seller};
use crate::page::{PageCtx, flash};
use crate::{AppState, redirect};
use waybill_app::services::accounts;
use waybill_app::services::api_keys::{self, ApiKey};
use waybill_app::services::webhooks::{self, LogLine};
use waybill_domain::delivery::EndpointStatus;
use waybill_domain::required_text;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(settings)
        .service(save_preferences)
        .service(save_notifications)
        .service(change_password)
        .service(create_key)
        .service(revoke_key)
        .service(create_webhook)
        .service(rotate_webhook)
        .service(test_webhook)
        .service(delete_webhook);
}

/// An endpoint as the page shows it.
struct WebhookView {
    id: String,
    url: String,
    events: String,
    status: EndpointStatus,
    created_at: chrono::NaiveDateTime,
}

/// A secret shown once, with the endpoint it belongs to.
#[derive(serde::Serialize, Deserialize)]
struct NewSecret {
    url: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "seller/settings.html")]
struct SettingsPage {
    ctx: PageCtx,
    keys: Vec<ApiKey>,
    /// Present only on the response that created it: the key is never shown again.
    new_key: Option<String>,
    name_error: Option<String>,
    /// Errors of the preferences and password forms, by field.
    errors: std::collections::BTreeMap<String, String>,
    timezone: String,
    label_size: String,
    zones: [&'static str; 12],
    webhooks: Vec<WebhookView>,
    event_types: &'static [&'static str],
    /// Present only on the response that created or rotated it.
    new_secret: Option<NewSecret>,
    webhook_error: Option<String>,
    log: Vec<LogLine>,
    /// Each notification kind, what it is called, and whether it is sent.
    notices: Vec<(&'static str, &'static str, bool)>,
}

/// What the page shows beside the API keys.
#[derive(Default)]
struct WebhookPart {
    new_secret: Option<NewSecret>,
    error: Option<String>,
    /// Errors of the preferences and password forms, by field.
    form_errors: std::collections::BTreeMap<String, String>,
}

async fn render(
    state: &AppState,
    auth: &Seller,
    new_key: Option<String>,
    name_error: Option<String>,
) -> Result<HttpResponse, PageError> {
    render_with(state, auth, new_key, name_error, WebhookPart::default()).await
}

async fn render_with(
    state: &AppState,
    auth: &Seller,
    new_key: Option<String>,
    name_error: Option<String>,
    hooks: WebhookPart,
) -> Result<HttpResponse, PageError> {
    let status = if hooks.form_errors.is_empty() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let seller = auth.user.id.clone();
    let (keys, endpoints, log, off) = state
        .db(move |c| {
            Ok((
                api_keys::list(c, &seller)?,
                webhooks::endpoints(c, &seller)?,
                webhooks::log(c, &seller, 50)?,
                accounts::mail_opt_outs(c, &seller)?,
            ))
        })
        .await?;
    let notices = waybill_app::services::notices::KINDS
        .iter()
        .map(|(kind, label)| {
            (
                kind.as_str(),
                *label,
                !off.iter().any(|o| o == kind.as_str()),
            )
        })
        .collect();
    crate::html_status(
        status,
        &SettingsPage {
            ctx: PageCtx::new(&auth.viewer),
            errors: hooks.form_errors,
            timezone: auth.user.timezone.clone(),
            label_size: auth.user.label_size.clone(),
            zones: waybill_domain::timezone::COMMON,
            keys,
            new_key,
            name_error,
            webhooks: endpoints
                .iter()
                .map(|e| WebhookView {
                    id: e.id.clone(),
                    url: e.url.clone(),
                    events: e.event_list().join(", "),
                    status: e.status,
                    created_at: e.created_at,
                })
                .collect(),
            event_types: &webhooks::EVENT_TYPES,
            new_secret: hooks.new_secret,
            webhook_error: hooks.error,
            log,
            notices,
        },
    )
}

/// Where a new key waits for the one page view that shows it (the session is encrypted and
/// HttpOnly; the entry is removed as it is read).
const NEW_KEY: &str = "new_api_key";

#[get("/seller/settings")]
async fn settings(state: web::Data<AppState>, auth: Seller) -> Result<HttpResponse, PageError> {
    let new_key = auth
        .viewer
        .session
        .remove_as::<String>(NEW_KEY)
        .and_then(Result::ok);
    let new_secret = auth
        .viewer
        .session
        .remove_as::<NewSecret>(NEW_SECRET)
        .and_then(Result::ok);
    let part = WebhookPart {
        new_secret,
        ..Default::default()
    };
    render_with(&state, &auth, new_key, None, part).await
}

/// A new or rotated webhook secret waits here for the one page view that shows it, like a
/// new API key: reloading that page registers or rotates nothing twice.
const NEW_SECRET: &str = "new_webhook_secret";

fn show_secret_once(auth: &Seller, url: String, secret: String) -> Result<HttpResponse, PageError> {
    auth.viewer
        .session
        .insert(NEW_SECRET, NewSecret { url, secret })
        .map_err(AppError::internal)?;
    Ok(redirect("/seller/settings"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KeyForm {
    name: String,
}

#[post("/seller/settings/api-keys")]
async fn create_key(
    state: web::Data<AppState>,
    auth: Seller,
    CsrfForm(form): CsrfForm<KeyForm>,
) -> Result<HttpResponse, PageError> {
    let name = match required_text(&form.name, "key name", 60) {
        Ok(n) => n,
        Err(e) => return render(&state, &auth, None, Some(e)).await,
    };
    let key = create_api_key(&state, &auth.user.id, &name).await?;
    tracing::info!(seller = %auth.user.id, "API key created");
    // Post, redirect, get: reloading the page that shows the key creates no second key.
    auth.viewer
        .session
        .insert(NEW_KEY, key)
        .map_err(AppError::internal)?;
    Ok(redirect("/seller/settings"))
}

/// Creates a key for a seller and returns it in clear (the only time it exists in clear).
pub async fn create_api_key(
    state: &AppState,
    seller_id: &str,
    name: &str,
) -> Result<String, PageError> {
    let (seller, name) = (seller_id.to_string(), name.to_string());
    Ok(state
        .db(move |c| api_keys::create(c, &seller, &name))
        .await?)
}

#[post("/seller/settings/api-keys/{id}/revoke")]
async fn revoke_key(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
    _: CsrfOnly,
) -> Result<HttpResponse, PageError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    // Reached through the seller's id: another seller's key is simply not found.
    let revoked = state.db(move |c| api_keys::revoke(c, &seller, &id)).await?;
    if !revoked {
        return Err(AppError::NotFound.into());
    }
    flash(&auth.viewer.session, "ok", "The API key has been revoked.");
    Ok(redirect("/seller/settings"))
}

/// Which notification mails to send: a checked box (`on`) keeps a kind on.
#[post("/seller/settings/notifications")]
async fn save_notifications(
    state: web::Data<AppState>,
    auth: Seller,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let off: Vec<&'static str> = waybill_app::services::notices::KINDS
        .iter()
        .map(|(kind, _)| kind.as_str())
        .filter(|kind| !form.iter().any(|(k, v)| k == kind && v == "on"))
        .collect();
    let id = auth.user.id.clone();
    let n = off.len();
    state
        .db(move |c| accounts::set_mail_opt_outs(c, &id, &off))
        .await?;
    flash(
        &auth.viewer.session,
        "ok",
        if n == 0 {
            "Saved: every notification mail is on.".to_string()
        } else {
            format!("Saved: {n} kind(s) of notification mail turned off.")
        },
    );
    Ok(redirect("/seller/settings#notifications"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PreferencesForm {
    timezone: String,
    label_size: String,
}

#[post("/seller/settings/preferences")]
async fn save_preferences(
    state: web::Data<AppState>,
    auth: Seller,
    CsrfForm(form): CsrfForm<PreferencesForm>,
) -> Result<HttpResponse, PageError> {
    let mut errors = std::collections::BTreeMap::new();
    let tz = waybill_domain::TimeZone::parse(&form.timezone)
        .map_err(|e| errors.insert("timezone".to_string(), e))
        .ok();
    let size = waybill_labels::Size::parse(&form.label_size)
        .filter(|_| !form.label_size.trim().is_empty())
        .ok_or_else(|| errors.insert("label_size".to_string(), "Choose 4x6 or A4.".into()))
        .ok();
    let (Some(tz), Some(size)) = (tz, size) else {
        return render_with(
            &state,
            &auth,
            None,
            None,
            WebhookPart {
                form_errors: errors,
                ..Default::default()
            },
        )
        .await;
    };
    let (id, size) = (auth.user.id.clone(), size.as_str());
    state
        .db(move |c| accounts::set_preferences(c, &id, tz.name(), size))
        .await?;
    flash(
        &auth.viewer.session,
        "ok",
        format!("Saved: times are shown in {}.", tz.name()),
    );
    Ok(redirect("/seller/settings"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    current_password: String,
    password: String,
    password_confirm: String,
}

#[post("/seller/settings/password")]
async fn change_password(
    state: web::Data<AppState>,
    auth: Seller,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let mut errors = std::collections::BTreeMap::new();
    if !waybill_app::security::verify_password(&form.current_password, &auth.user.password_hash) {
        errors.insert(
            "current_password".to_string(),
            "That is not your current password.".to_string(),
        );
    }
    waybill_app::services::accounts::check_new_password(
        &mut errors,
        &form.password,
        &form.password_confirm,
    );
    if !errors.is_empty() {
        return render_with(
            &state,
            &auth,
            None,
            None,
            WebhookPart {
                form_errors: errors,
                ..Default::default()
            },
        )
        .await;
    }
    let (id, password) = (auth.user.id.clone(), form.password);
    state
        .db(move |c| {
            let hash = waybill_app::security::hash_password(&password)?;
            waybill_app::services::accounts::set_password(c, &id, &hash)
        })
        .await?;
    // Every session ended with the old password, this one too: sign this browser back in.
    auth.viewer.sign_in(&state, &auth.user).await?;
    tracing::info!(user = %auth.user.id, "password changed");
    flash(
        &auth.viewer.session,
        "ok",
        "Your password has been changed; you were signed out everywhere else.",
    );
    Ok(redirect("/seller/settings"))
}

/// The register form: one checkbox per event type (named as the type, dots as underscores).
#[derive(Deserialize, Default)]
#[serde(default)]
struct WebhookForm {
    url: String,
    shipment_status_changed: Option<String>,
    shipment_weight_adjusted: Option<String>,
    pickup_status_changed: Option<String>,
}

#[post("/seller/settings/webhooks")]
async fn create_webhook(
    state: web::Data<AppState>,
    auth: Seller,
    CsrfForm(form): CsrfForm<WebhookForm>,
) -> Result<HttpResponse, PageError> {
    let events: Vec<String> = [
        (&form.shipment_status_changed, "shipment.status_changed"),
        (&form.shipment_weight_adjusted, "shipment.weight_adjusted"),
        (&form.pickup_status_changed, "pickup.status_changed"),
    ]
    .into_iter()
    .filter(|(on, _)| on.is_some())
    .map(|(_, t)| t.to_string())
    .collect();
    let (sbox, allow) = (
        state.webhook_secrets.clone(),
        state.config.webhook_allow_private,
    );
    let (seller, url) = (auth.user.id.clone(), form.url);
    let done = state
        .db(move |c| webhooks::register(c, &sbox, &seller, &url, Some(&events), allow))
        .await;
    let part = match done {
        Ok((endpoint, secret)) => {
            tracing::info!(endpoint = %endpoint.id, "webhook endpoint registered");
            return show_secret_once(&auth, endpoint.url, secret);
        }
        Err(AppError::Validation { message, .. } | AppError::Conflict(message)) => WebhookPart {
            new_secret: None,
            error: Some(message),
            ..Default::default()
        },
        Err(e) => return Err(e.into()),
    };
    render_with(&state, &auth, None, None, part).await
}

#[post("/seller/settings/webhooks/{id}/rotate")]
async fn rotate_webhook(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
    _: CsrfOnly,
) -> Result<HttpResponse, PageError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let sbox = state.webhook_secrets.clone();
    let (url, secret) = state
        .db(move |c| {
            let secret = webhooks::rotate(c, &sbox, &seller, &id)?;
            let e = webhooks::endpoint(c, &seller, &id)?;
            Ok((e.url, secret))
        })
        .await?;
    show_secret_once(&auth, url, secret)
}

#[post("/seller/settings/webhooks/{id}/test")]
async fn test_webhook(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
    _: CsrfOnly,
) -> Result<HttpResponse, PageError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    state
        .db(move |c| webhooks::send_test(c, &seller, &id))
        .await?;
    state.webhooks.wake();
    flash(
        &auth.viewer.session,
        "ok",
        "A test event is on its way; its delivery shows in the log below.",
    );
    Ok(redirect("/seller/settings"))
}

#[post("/seller/settings/webhooks/{id}/delete")]
async fn delete_webhook(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
    _: CsrfOnly,
) -> Result<HttpResponse, PageError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    state.db(move |c| webhooks::delete(c, &seller, &id)).await?;
    flash(
        &auth.viewer.session,
        "ok",
        "The webhook endpoint has been deleted.",
    );
    Ok(redirect("/seller/settings"))
}
