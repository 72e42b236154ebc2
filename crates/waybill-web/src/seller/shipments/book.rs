//! The booking form: quote → choose a channel → book and pay.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;

use crate::error::{AppError, PageError};
use crate::extract::{CsrfForm, Seller};
use crate::page::{PageCtx, flash};
use crate::{AppState, html_status, redirect};
use waybill_app::services::addresses::AddressRow;
use waybill_app::services::booking::{self, BookingInput, Settings};
use waybill_domain::customs::{CONTENTS_TYPES, MAX_ITEMS};
use waybill_domain::{Money, format_weight};

use super::form::{ShipmentForm, form_field, message_for_form};

pub struct QuoteRow {
    pub code: String,
    /// The signed quote id: booking charges exactly `price` or changes nothing.
    pub id: String,
    pub amount: i64,
    pub name: String,
    pub eligible: bool,
    pub price: String,
    pub transit: String,
    pub chargeable: String,
    pub reasons: String,
}

pub struct ItemRow {
    pub n: usize,
    /// Messages for this row's fields, by field name (`hs_code`, …).
    pub errors: BTreeMap<String, String>,
    pub description: String,
    pub quantity: String,
    pub value: String,
    pub currency: String,
    pub weight_g: String,
    pub hs_code: String,
    pub origin: String,
}

#[derive(Template)]
#[template(path = "seller/shipment_new.html")]
struct NewPage {
    ctx: PageCtx,
    form: ShipmentForm,
    items: Vec<ItemRow>,
    addresses: Vec<AddressRow>,
    errors: BTreeMap<String, String>,
    quotes: Vec<QuoteRow>,
    contents_types: [&'static str; 6],
    balance: String,
    /// Advice that does not stop booking, by field (`ioss`).
    warnings: BTreeMap<String, String>,
    max_items: usize,
    /// The country picker: code and English name.
    countries: &'static [(&'static str, &'static str)],
}

fn items_of(form: &ShipmentForm, errors: &BTreeMap<String, String>) -> Vec<ItemRow> {
    (0..form.row_count())
        .map(|i| {
            let prefix = format!("item{}_", i + 1);
            let row_errors = errors
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|f| (f.to_string(), v.clone())))
                .collect();
            let g = |f: &str| form.item(i, f).to_string();
            let or = |v: String, d: &str| if v.is_empty() { d.to_string() } else { v };
            ItemRow {
                n: i + 1,
                errors: row_errors,
                description: g("description"),
                quantity: g("quantity"),
                value: g("value"),
                currency: or(g("currency"), "USD"),
                weight_g: g("weight_g"),
                hs_code: g("hs_code"),
                origin: or(g("origin"), "CN"),
            }
        })
        .collect()
}

pub(super) async fn render_new(
    state: &AppState,
    auth: &Seller,
    form: ShipmentForm,
    errors: BTreeMap<String, String>,
    quotes: Vec<QuoteRow>,
) -> Result<HttpResponse, PageError> {
    let seller = auth.user.id.clone();
    let currency = state.config.currency;
    let (addresses, balance) = state
        .db(move |c| {
            Ok((
                waybill_app::services::addresses::list(c, &seller)?,
                waybill_app::services::wallet::balance(c, &seller, currency)?,
            ))
        })
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut warnings = BTreeMap::new();
    if let Ok(b) = form.to_input(&mut BTreeMap::new()).parse_without_channel() {
        if let Some(w) = waybill_domain::customs::ioss_warning(&b.customs, &b.recipient.country) {
            warnings.insert("ioss".to_string(), w);
        }
    }
    html_status(
        status,
        &NewPage {
            warnings,
            max_items: MAX_ITEMS,
            ctx: PageCtx::new(&auth.viewer),
            items: items_of(&form, &errors),
            form,
            addresses,
            errors,
            quotes,
            contents_types: CONTENTS_TYPES,
            countries: &waybill_domain::country::NAMES,
            balance: balance.to_string(),
        },
    )
}

#[get("/shipments/new")]
pub(super) async fn new_form(
    state: web::Data<AppState>,
    auth: Seller,
) -> Result<HttpResponse, PageError> {
    let form = ShipmentForm {
        contents_type: "merchandise".into(),
        form_key: waybill_app::security::random_token(16)?,
        ..Default::default()
    };
    render_new(&state, &auth, form, BTreeMap::new(), Vec::new()).await
}

#[post("/shipments/new")]
pub(super) async fn submit(
    state: web::Data<AppState>,
    auth: Seller,
    CsrfForm(mut form): CsrfForm<ShipmentForm>,
) -> Result<HttpResponse, PageError> {
    if !waybill_app::security::is_token(&form.form_key) {
        form.form_key = waybill_app::security::random_token(16)?;
    }
    if form.edit_rows() {
        form.channel.clear();
        return render_new(&state, &auth, form, BTreeMap::new(), Vec::new()).await;
    }
    let mut errors = BTreeMap::new();
    let input = form.to_input(&mut errors);
    // Quoting needs only the parcel and the destination; the channel is chosen after.
    let parsed = input.parse_without_channel();
    let mut all_errors = BTreeMap::new();
    if let Err(e) = &parsed {
        all_errors.extend(e.iter().map(|(k, v)| (form_field(k), v.clone())));
    }
    // "Enter the weight as a number" says more than "This field is required".
    all_errors.extend(errors.clone());
    let quotes = quote_rows(&state, &auth, &input).await?;
    if form.action != "book" || !all_errors.is_empty() {
        if form.action == "book" && form.channel.is_empty() {
            all_errors.insert("channel".into(), "Choose a channel.".into());
        }
        return render_new(&state, &auth, form, all_errors, quotes).await;
    }
    // Only a quote the seller was shown can be booked: its id comes with the chosen channel.
    let mut input = input;
    input.quote_id = form
        .items
        .get(&format!("quote_id_{}", form.channel))
        .filter(|q| !q.is_empty())
        .cloned();
    if input.quote_id.is_none() {
        let mut e = BTreeMap::new();
        e.insert(
            "channel".into(),
            if form.channel.is_empty() {
                "Choose one of the channels below, then book.".into()
            } else {
                "Get quotes, then choose one of them to book.".into()
            },
        );
        return render_new(&state, &auth, form, e, quotes).await;
    }
    let booking = match input.parse() {
        Ok(b) => b,
        Err(e) => {
            let mapped = e.iter().map(|(k, v)| (form_field(k), v.clone())).collect();
            return render_new(&state, &auth, form, mapped, quotes).await;
        }
    };
    let user = auth.user.clone();
    let key = format!("form:{}", form.form_key);
    let (currency, base) = (state.config.currency, state.config.base_url.clone());
    let quote_key = state.quote_key.clone();
    let result = state
        .db(move |c| {
            booking::book(
                c,
                &user,
                &booking,
                Some(&key),
                &Settings {
                    currency,
                    base_url: &base,
                    quote_key: &quote_key[..],
                    confirm_by_mail: true,
                },
            )
        })
        .await;
    match result {
        Ok((s, replayed)) => {
            if !replayed {
                state.mail.wake();
                flash(
                    &auth.viewer.session,
                    "ok",
                    format!(
                        "Booked: tracking number {}. {} was charged to your wallet.",
                        s.tracking_number,
                        Money::new(s.price_amount, currency)
                    ),
                );
            }
            Ok(redirect(&format!("/shipments/{}", s.id)))
        }
        Err(e) => refused(&state, &auth, form, quotes, e).await,
    }
}

/// Every enabled channel's quote for the parcel and destination typed so far (none until
/// both read), with the signed quote id the booking must carry.
async fn quote_rows(
    state: &AppState,
    auth: &Seller,
    input: &BookingInput,
) -> Result<Vec<QuoteRow>, PageError> {
    let Some((parcel, country)) = input.parcel.parse(&mut BTreeMap::new()).zip(
        waybill_domain::CountryCode::parse(&input.recipient.country)
            .ok()
            .map(waybill_domain::CountryCode::into_string),
    ) else {
        return Ok(Vec::new());
    };
    let currency = state.config.currency;
    let (p, c) = (parcel, country.clone());
    let list = state
        .db(move |conn| waybill_app::services::quotes::quote_all(conn, &p, &c))
        .await?;
    Ok(list
        .into_iter()
        .map(|q| {
            let view = q.view(
                &state.quote_key[..],
                &auth.user.id,
                &parcel,
                &country,
                currency,
            );
            QuoteRow {
                name: format!("{} {}", q.channel.carrier, q.channel.service),
                eligible: q.quote.eligible,
                amount: q.quote.price.as_ref().map(|p| p.total).unwrap_or(0),
                price: q
                    .quote
                    .price
                    .as_ref()
                    .map(|p| Money::new(p.total, currency).to_string())
                    .unwrap_or_default(),
                transit: format!(
                    "{}–{} days",
                    q.spec.transit_min_days, q.spec.transit_max_days
                ),
                chargeable: format_weight(q.quote.chargeable_weight_g),
                reasons: q.quote.reasons.join(" "),
                id: view.id.unwrap_or_default(),
                code: q.channel.code,
            }
        })
        .collect())
}

/// A booking the use case refused, shown on the form with the quotes: field errors by the
/// form's names, a short wallet with what to top up, a changed or expired quote in words.
async fn refused(
    state: &AppState,
    auth: &Seller,
    form: ShipmentForm,
    quotes: Vec<QuoteRow>,
    error: AppError,
) -> Result<HttpResponse, PageError> {
    let currency = state.config.currency;
    match error {
        AppError::Validation { fields, .. } => {
            let mapped = fields
                .iter()
                .map(|(k, v)| (form_field(k), v.clone()))
                .collect();
            render_new(state, auth, form, mapped, quotes).await
        }
        AppError::PaymentRequired(msg) => {
            let mut e = BTreeMap::new();
            e.insert("booking".into(), msg);
            let price = quotes
                .iter()
                .find(|q| q.code == form.channel)
                .map(|q| q.amount)
                .unwrap_or(0);
            let seller = auth.user.id.clone();
            let balance = state
                .db(move |c| waybill_app::services::wallet::balance(c, &seller, currency))
                .await?;
            if price > balance.minor {
                e.insert(
                    "topup".into(),
                    Money::new(price - balance.minor, currency).decimal(),
                );
            }
            render_new(state, auth, form, e, quotes).await
        }
        AppError::ConflictWith { message, .. } => {
            // The parcel, destination or channel changed since the quote, or it expired:
            // nothing was charged; the quotes shown now are for the parcel as it is.
            let mut e = BTreeMap::new();
            e.insert("booking".into(), message_for_form(&message));
            render_new(state, auth, form, e, quotes).await
        }
        e => Err(e.into()),
    }
}
