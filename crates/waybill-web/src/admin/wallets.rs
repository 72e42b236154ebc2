//! Operators credit or debit a seller's wallet, with a mandatory note and their name on it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, PageError};
use crate::extract::{Admin, CsrfForm};
use crate::page::{PageCtx, flash};
use crate::{AppState, html_status, redirect};
use waybill_app::services::accounts::{self, FieldErrors, take};
use waybill_app::services::wallet::{self, Kind, Posting};
use waybill_domain::{EmailAddress, Money, required_text};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(wallets_page).service(adjust);
}

pub struct SellerRow {
    pub email: String,
    pub store: String,
    pub balance: String,
}

pub struct CorrectionRow {
    pub date: String,
    pub seller: String,
    pub kind: &'static str,
    pub amount: String,
    pub note: String,
    pub by: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AdjustForm {
    email: String,
    direction: String,
    amount: String,
    note: String,
    /// One per rendered form: submitting it twice moves money once.
    nonce: String,
}

#[derive(Template)]
#[template(path = "admin/wallets.html")]
struct WalletsPage {
    ctx: PageCtx,
    sellers: Vec<SellerRow>,
    corrections: Vec<CorrectionRow>,
    form: AdjustForm,
    errors: FieldErrors,
    currency: String,
}

async fn render(
    state: &AppState,
    auth: &Admin,
    mut form: AdjustForm,
    errors: FieldErrors,
) -> Result<HttpResponse, PageError> {
    let currency = state.config.currency;
    let (balances, txs, users) = state
        .db(|c| {
            Ok((
                wallet::seller_balances(c)?,
                wallet::recent_of_kinds(
                    c,
                    &[Kind::ManualCredit.as_str(), Kind::ManualDebit.as_str()],
                    20,
                )?,
                accounts::users(c)?,
            ))
        })
        .await?;
    let email_of = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| users.iter().find(|u| &u.id == id))
            .map(|u| u.email.clone())
            .unwrap_or_else(|| "command line".into())
    };
    let corrections = txs
        .iter()
        .map(|t| CorrectionRow {
            date: auth.user.time_zone().show(&t.created_at),
            seller: email_of(&Some(t.seller_id.clone())),
            kind: wallet::kind_label(&t.kind),
            amount: Money::new(t.amount, currency).to_string(),
            note: t.note.clone().unwrap_or_default(),
            by: email_of(&t.actor_id),
        })
        .collect();
    let sellers = balances
        .into_iter()
        .map(|(u, b)| SellerRow {
            store: u.display_name().to_string(),
            email: u.email,
            balance: Money::new(b.unwrap_or(0), currency).to_string(),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    if errors.is_empty() || !waybill_app::security::is_token(&form.nonce) {
        form.nonce = waybill_app::security::random_token(16)?;
    }
    html_status(
        status,
        &WalletsPage {
            ctx: PageCtx::new(&auth.viewer),
            sellers,
            corrections,
            form,
            errors,
            currency: currency.code().to_string(),
        },
    )
}

#[get("/admin/wallets")]
async fn wallets_page(state: web::Data<AppState>, auth: Admin) -> Result<HttpResponse, PageError> {
    render(&state, &auth, AdjustForm::default(), FieldErrors::new()).await
}

#[post("/admin/wallets")]
async fn adjust(
    state: web::Data<AppState>,
    auth: Admin,
    CsrfForm(form): CsrfForm<AdjustForm>,
) -> Result<HttpResponse, PageError> {
    let currency = state.config.currency;
    let mut errors = FieldErrors::new();
    let e = &mut errors;
    let email = take(e, "email", EmailAddress::parse(&form.email));
    let kind = take(
        e,
        "direction",
        match form.direction.as_str() {
            "credit" => Ok(Kind::ManualCredit),
            "debit" => Ok(Kind::ManualDebit),
            _ => Err("Choose credit or debit.".to_string()),
        },
    );
    let amount = take(
        e,
        "amount",
        Money::parse_decimal(&form.amount, currency).and_then(|m| {
            (m.minor > 0)
                .then_some(m)
                .ok_or_else(|| "Enter an amount above zero.".to_string())
        }),
    );
    let note = take(e, "note", required_text(&form.note, "note saying why", 500));
    if !waybill_app::security::is_token(&form.nonce) {
        errors.insert("nonce".into(), "Reload the page and try again.".into());
    }
    let (Some(email), Some(kind), Some(amount), Some(note)) = (email, kind, amount, note) else {
        return render(&state, &auth, form, errors).await;
    };
    // Without its nonce the form has no idempotency key of its own: no money moves.
    if errors.contains_key("nonce") {
        return render(&state, &auth, form, errors).await;
    }
    let admin_id = auth.user.id.clone();
    let key = format!("manual:{}", form.nonce);
    let result = state
        .db(move |c| {
            let seller = accounts::find_seller(c, email.as_str())?.ok_or_else(|| {
                let mut f = FieldErrors::new();
                f.insert("email".into(), "No seller has this e-mail.".into());
                AppError::validation(f)
            })?;
            let posted = wallet::post(
                c,
                &Posting {
                    key: &key,
                    kind,
                    seller_id: &seller.id,
                    amount,
                    shipment_id: None,
                    payment_intent_id: None,
                    note: Some(&note),
                    actor_id: Some(&admin_id),
                },
            )?;
            Ok((seller, posted))
        })
        .await;
    match result {
        Ok((seller, posted)) => {
            tracing::info!(admin = %auth.user.id, seller = %seller.id, kind = kind.as_str(), amount = amount.minor, replayed = posted.replayed, "manual wallet movement");
            let msg = if posted.replayed {
                "That movement was already recorded; nothing moved twice.".to_string()
            } else {
                format!(
                    "{} of {amount} recorded for {}. New balance {}.",
                    kind.label(),
                    seller.email,
                    Money::new(posted.balance_after, currency)
                )
            };
            flash(&auth.viewer.session, "ok", msg);
            Ok(redirect("/admin/wallets"))
        }
        Err(AppError::Validation { fields, .. }) => render(&state, &auth, form, fields).await,
        Err(AppError::PaymentRequired(msg)) => {
            let mut f = FieldErrors::new();
            f.insert("amount".into(), msg);
            render(&state, &auth, form, f).await
        }
        Err(e) => Err(e.into()),
    }
}
