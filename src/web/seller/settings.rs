//! Seller settings: API keys (created and shown once, stored hashed, revocable).

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::db::api_keys::{ApiKey, NewApiKey};
use crate::domain::required_text;
use crate::error::AppError;
use crate::web::extract::{CsrfForm, CsrfOnly, PathId, Seller};
use crate::web::page::{PageCtx, flash};
use crate::web::{AppState, html, redirect};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(settings)
        .service(create_key)
        .service(revoke_key);
}

#[derive(Template)]
#[template(path = "seller/settings.html")]
struct SettingsPage {
    ctx: PageCtx,
    keys: Vec<ApiKey>,
    /// Present only on the response that created it: the key is never shown again.
    new_key: Option<String>,
    name_error: Option<String>,
}

async fn render(
    state: &AppState,
    auth: &Seller,
    new_key: Option<String>,
    name_error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let seller = auth.user.id.clone();
    let keys = state
        .db(move |c| Ok(crate::db::api_keys::list_for_seller(c, &seller)?))
        .await?;
    html(&SettingsPage {
        ctx: PageCtx::new(&auth.viewer),
        keys,
        new_key,
        name_error,
    })
}

/// Where a new key waits for the one page view that shows it (the session is encrypted and
/// HttpOnly; the entry is removed as it is read).
const NEW_KEY: &str = "new_api_key";

#[get("/seller/settings")]
async fn settings(state: web::Data<AppState>, auth: Seller) -> Result<HttpResponse, AppError> {
    let new_key = auth
        .viewer
        .session
        .remove_as::<String>(NEW_KEY)
        .and_then(Result::ok);
    render(&state, &auth, new_key, None).await
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
) -> Result<HttpResponse, AppError> {
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
) -> Result<String, AppError> {
    let (key, prefix, hash) = crate::security::new_api_key()?;
    let (seller, name) = (seller_id.to_string(), name.to_string());
    state
        .db(move |c| {
            crate::db::api_keys::insert(
                c,
                &NewApiKey {
                    id: &crate::db::new_id(),
                    seller_id: &seller,
                    name: &name,
                    prefix: &prefix,
                    key_hash: &hash,
                    created_at: crate::db::now(),
                },
            )?;
            Ok(())
        })
        .await?;
    Ok(key)
}

#[post("/seller/settings/api-keys/{id}/revoke")]
async fn revoke_key(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
    _: CsrfOnly,
) -> Result<HttpResponse, AppError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    // Reached through the seller's id: another seller's key is simply not found.
    let revoked = state
        .db(move |c| Ok(crate::db::api_keys::revoke(c, &seller, &id)?))
        .await?;
    if !revoked {
        return Err(AppError::NotFound);
    }
    flash(&auth.viewer.session, "ok", "The API key has been revoked.");
    Ok(redirect("/seller/settings"))
}
