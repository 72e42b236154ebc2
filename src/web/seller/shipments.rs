//! The seller's shipments: list with filters and search, the booking form (quote → choose a
//! channel → book and pay), the detail page with its timeline, cancellation.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::booking::{self, BookingInput, Settings};
use crate::db::addresses::AddressRow;
use crate::db::shipments::{Filter, Shipment, ShipmentEvent};
use crate::domain::address::AddressInput;
use crate::domain::customs::{CONTENTS_TYPES, CustomsInput, CustomsItemInput};
use crate::domain::{Currency, Money, ParcelInput, format_weight};
use crate::error::AppError;
use crate::web::extract::{CsrfForm, CsrfOnly, Seller};
use crate::web::page::{PageCtx, flash};
use crate::web::{AppState, html, html_status, redirect};

pub const PAGE_SIZE: i64 = 25;
pub const STATUSES: [&str; 12] = [
    "booked",
    "pickup_scheduled",
    "picked_up",
    "at_origin_facility",
    "in_transit",
    "customs",
    "out_for_delivery",
    "delivered",
    "delivery_failed",
    "returned",
    "exception",
    "cancelled",
];
const ITEM_ROWS: usize = 3;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_page)
        .service(new_form)
        .service(submit)
        .service(bulk_labels)
        .service(label_file)
        .service(detail)
        .service(cancel);
}

pub fn status_label(s: &str) -> String {
    let mut out = s.replace('_', " ");
    if let Some(first) = out.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    out
}

pub struct Row {
    pub id: String,
    pub tracking_number: String,
    pub status: String,
    pub channel: String,
    pub recipient: String,
    pub reference: String,
    pub price: String,
    pub created: String,
}

fn row(s: &Shipment, currency: Currency) -> Row {
    Row {
        id: s.id.clone(),
        tracking_number: s.tracking_number.clone(),
        status: status_label(&s.status),
        channel: s.channel_code.clone(),
        recipient: format!(
            "{}, {} {}",
            s.recipient_name, s.recipient_city, s.recipient_country
        ),
        reference: s.reference.clone().unwrap_or_default(),
        price: Money::new(s.price_amount, currency).to_string(),
        created: s.created_at.format("%Y-%m-%d %H:%M").to_string(),
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct ListQuery {
    status: String,
    channel: String,
    from: String,
    to: String,
    q: String,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "seller/shipments.html")]
struct ListPage {
    ctx: PageCtx,
    rows: Vec<Row>,
    query: ListQuery,
    statuses: Vec<(&'static str, String)>,
    channels: Vec<String>,
    page: i64,
    pages: i64,
    total: i64,
    /// The query string without `page`, for the pager links.
    base_query: String,
}

#[get("/shipments")]
async fn list_page(
    state: web::Data<AppState>,
    auth: Seller,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let query = q.into_inner();
    let day = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
    let filter = Filter {
        status: Some(query.status.clone()).filter(|s| STATUSES.contains(&s.as_str())),
        channel: Some(query.channel.trim().to_ascii_uppercase()).filter(|s| !s.is_empty()),
        from: day(&query.from).map(|d| d.and_time(NaiveTime::MIN)),
        to: day(&query.to).map(|d| (d + chrono::Duration::days(1)).and_time(NaiveTime::MIN)),
        q: Some(query.q.trim().to_string()).filter(|s| !s.is_empty()),
    };
    let page = query.page.unwrap_or(1).max(1);
    let seller = auth.user.id.clone();
    let (rows, total, channels) = state
        .db(move |c| {
            Ok((
                crate::db::shipments::list(c, &seller, &filter, (page - 1) * PAGE_SIZE, PAGE_SIZE)?,
                crate::db::shipments::count(c, &seller, &filter)?,
                crate::db::channels::list(c)?,
            ))
        })
        .await?;
    let currency = state.config.currency;
    let mut pager = query.clone();
    pager.page = None;
    let base_query = serde_urlencoded::to_string([
        ("status", &pager.status),
        ("channel", &pager.channel),
        ("from", &pager.from),
        ("to", &pager.to),
        ("q", &pager.q),
    ])
    .unwrap_or_default();
    html(&ListPage {
        ctx: PageCtx::new(&auth.viewer),
        rows: rows.iter().map(|s| row(s, currency)).collect(),
        query,
        statuses: STATUSES.iter().map(|s| (*s, status_label(s))).collect(),
        channels: channels.into_iter().map(|c| c.code).collect(),
        page,
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        total,
        base_query,
    })
}

/// The booking form as posted: every field a string, units a person uses (kg, cm).
#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
pub struct ShipmentForm {
    pub sender_address_id: String,
    pub recipient_name: String,
    pub recipient_company: String,
    pub recipient_street1: String,
    pub recipient_street2: String,
    pub recipient_city: String,
    pub recipient_state: String,
    pub recipient_postal_code: String,
    pub recipient_country: String,
    pub recipient_phone: String,
    pub recipient_email: String,
    pub weight_kg: String,
    pub length_cm: String,
    pub width_cm: String,
    pub height_cm: String,
    pub reference: String,
    pub contents_type: String,
    pub channel: String,
    pub action: String,
    /// One per rendered form: the idempotency key, so a double submit books once.
    pub form_key: String,
    /// Customs item rows: `item1_description`, `item2_hs_code`, … (all strings, so `flatten`
    /// can read them from a url-encoded form).
    #[serde(flatten)]
    pub items: BTreeMap<String, String>,
}

/// "1.25" (kg) → 1250 (g): a decimal with at most `scale` places, times 10^scale.
pub fn scaled(raw: &str, scale: u32) -> Option<i64> {
    let s = raw.trim().replace(',', ".");
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    if (whole.is_empty() && frac.is_empty())
        || frac.len() > scale as usize
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let w: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let f: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<width$}", width = scale as usize)
            .parse()
            .ok()?
    };
    w.checked_mul(10i64.pow(scale))?.checked_add(f)
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

impl ShipmentForm {
    /// Field `name` of item row `i` (0-based).
    pub fn item(&self, i: usize, name: &str) -> &str {
        self.items
            .get(&format!("item{}_{name}", i + 1))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The API's input from the form; unit errors are reported under the form's names.
    pub fn to_input(&self, errors: &mut BTreeMap<String, String>) -> BookingInput {
        let mut unit = |field: &str, raw: &str, scale: u32, what: &str| {
            if raw.trim().is_empty() {
                return None;
            }
            let v = scaled(raw, scale);
            if v.is_none() {
                errors.insert(
                    field.into(),
                    format!(
                        "Enter the {what} as a number, like {}.",
                        if scale == 3 { "0.45" } else { "20" }
                    ),
                );
            }
            v
        };
        let parcel = ParcelInput {
            weight_g: unit("weight_kg", &self.weight_kg, 3, "weight in kg"),
            length_mm: unit("length_cm", &self.length_cm, 1, "length in cm"),
            width_mm: unit("width_cm", &self.width_cm, 1, "width in cm"),
            height_mm: unit("height_cm", &self.height_cm, 1, "height in cm"),
        };
        let items = (0..ITEM_ROWS)
            .filter(|i| {
                ["description", "quantity", "value", "weight_g", "hs_code"]
                    .iter()
                    .any(|f| !self.item(*i, f).trim().is_empty())
            })
            .map(|i| CustomsItemInput {
                description: self.item(i, "description").into(),
                quantity: self.item(i, "quantity").trim().parse().ok(),
                unit_value: serde_json::Value::String(self.item(i, "value").into()),
                currency: self.item(i, "currency").into(),
                weight_g: self.item(i, "weight_g").trim().parse().ok(),
                hs_code: self.item(i, "hs_code").into(),
                origin_country: self.item(i, "origin").into(),
            })
            .collect();
        BookingInput {
            channel: self.channel.clone(),
            sender_address_id: opt(&self.sender_address_id),
            recipient: AddressInput {
                name: self.recipient_name.clone(),
                company: opt(&self.recipient_company),
                street1: self.recipient_street1.clone(),
                street2: opt(&self.recipient_street2),
                city: self.recipient_city.clone(),
                state: opt(&self.recipient_state),
                postal_code: self.recipient_postal_code.clone(),
                country: self.recipient_country.clone(),
                phone: self.recipient_phone.clone(),
                email: opt(&self.recipient_email),
            },
            parcel,
            reference: opt(&self.reference),
            customs: CustomsInput {
                contents_type: self.contents_type.clone(),
                items,
            },
        }
    }
}

/// The form's name for an API field name (`recipient.city` → `recipient_city`).
pub fn form_field(api: &str) -> String {
    match api {
        "parcel.weight_g" => "weight_kg".into(),
        "parcel.length_mm" => "length_cm".into(),
        "parcel.width_mm" => "width_cm".into(),
        "parcel.height_mm" => "height_cm".into(),
        "customs.contents_type" => "contents_type".into(),
        "customs.items" => "items".into(),
        other => {
            if let Some(rest) = other.strip_prefix("customs.items.") {
                if let Some((n, f)) = rest.split_once('.') {
                    let row = n.parse::<usize>().map(|n| n + 1).unwrap_or(1);
                    let f = match f {
                        "unit_value" => "value",
                        "origin_country" => "origin",
                        f => f,
                    };
                    return format!("item{row}_{f}");
                }
            }
            other.replace('.', "_")
        }
    }
}

pub struct QuoteRow {
    pub code: String,
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
}

fn items_of(form: &ShipmentForm, errors: &BTreeMap<String, String>) -> Vec<ItemRow> {
    (0..ITEM_ROWS)
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

async fn render_new(
    state: &AppState,
    auth: &Seller,
    form: ShipmentForm,
    errors: BTreeMap<String, String>,
    quotes: Vec<QuoteRow>,
) -> Result<HttpResponse, AppError> {
    let seller = auth.user.id.clone();
    let currency = state.config.currency;
    let (addresses, balance) = state
        .db(move |c| {
            Ok((
                crate::db::addresses::list(c, &seller)?,
                crate::wallet::balance(c, &seller, currency)?,
            ))
        })
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_status(
        status,
        &NewPage {
            ctx: PageCtx::new(&auth.viewer),
            items: items_of(&form, &errors),
            form,
            addresses,
            errors,
            quotes,
            contents_types: CONTENTS_TYPES,
            balance: balance.to_string(),
        },
    )
}

#[get("/shipments/new")]
async fn new_form(state: web::Data<AppState>, auth: Seller) -> Result<HttpResponse, AppError> {
    let form = ShipmentForm {
        contents_type: "merchandise".into(),
        form_key: crate::security::random_token(16)?,
        ..Default::default()
    };
    render_new(&state, &auth, form, BTreeMap::new(), Vec::new()).await
}

#[post("/shipments/new")]
async fn submit(
    state: web::Data<AppState>,
    auth: Seller,
    CsrfForm(mut form): CsrfForm<ShipmentForm>,
) -> Result<HttpResponse, AppError> {
    if form.form_key.len() < 16 {
        form.form_key = crate::security::random_token(16)?;
    }
    let mut errors = BTreeMap::new();
    let input = form.to_input(&mut errors);
    // Quoting needs only the parcel and the destination; the rest is checked at booking.
    let mut quote_input = input.clone();
    quote_input.channel = "QUOTE".into();
    let parsed = quote_input.parse();
    let mut all_errors = BTreeMap::new();
    if let Err(e) = &parsed {
        all_errors.extend(e.iter().map(|(k, v)| (form_field(k), v.clone())));
    }
    // "Enter the weight as a number" says more than "This field is required".
    all_errors.extend(errors.clone());
    let quotes = match input
        .parcel
        .parse(&mut BTreeMap::new())
        .zip(crate::quotes::parse_country(&input.recipient.country).ok())
    {
        Some((parcel, country)) => {
            let currency = state.config.currency;
            let list = state
                .db(move |c| crate::quotes::quote_all(c, &parcel, &country))
                .await?;
            list.into_iter()
                .map(|q| QuoteRow {
                    name: format!("{} {}", q.channel.carrier, q.channel.service),
                    eligible: q.quote.eligible,
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
                    code: q.channel.code,
                })
                .collect()
        }
        None => Vec::new(),
    };
    if form.action != "book" || !all_errors.is_empty() {
        if form.action == "book" && form.channel.is_empty() {
            all_errors.insert("channel".into(), "Choose a channel.".into());
        }
        return render_new(&state, &auth, form, all_errors, quotes).await;
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
        Err(AppError::Validation { fields, .. }) => {
            let mapped = fields
                .iter()
                .map(|(k, v)| (form_field(k), v.clone()))
                .collect();
            render_new(&state, &auth, form, mapped, quotes).await
        }
        Err(AppError::PaymentRequired(msg)) => {
            let mut e = BTreeMap::new();
            e.insert("channel".into(), format!("{msg} (Wallet page)"));
            render_new(&state, &auth, form, e, quotes).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "seller/shipment.html")]
struct DetailPage {
    ctx: PageCtx,
    s: Shipment,
    channel_name: String,
    status: String,
    price: String,
    weight: String,
    chargeable: String,
    sender: crate::domain::address::Address,
    customs: crate::domain::customs::Customs,
    events: Vec<ShipmentEvent>,
    cancellable: bool,
}

#[get("/shipments/{id}")]
async fn detail(
    state: web::Data<AppState>,
    auth: Seller,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let (s, events, channel) = state
        .db(move |c| {
            let s = crate::db::shipments::find(c, &seller, &id)?.ok_or(AppError::NotFound)?;
            let events = crate::db::shipments::events(c, &s.id)?;
            let channel = crate::db::channels::find(c, &s.channel_code)?;
            Ok((s, events, channel))
        })
        .await?;
    let currency = state.config.currency;
    html(&DetailPage {
        ctx: PageCtx::new(&auth.viewer),
        channel_name: channel
            .map(|c| format!("{} {}", c.carrier, c.service))
            .unwrap_or_default(),
        status: status_label(&s.status),
        price: Money::new(s.price_amount, currency).to_string(),
        weight: format_weight(s.weight_g),
        chargeable: format_weight(s.chargeable_weight_g),
        sender: serde_json::from_str(&s.sender).map_err(AppError::internal)?,
        customs: serde_json::from_str(&s.customs).map_err(AppError::internal)?,
        cancellable: booking::CANCELLABLE.contains(&s.status.as_str()),
        events,
        s,
    })
}

#[post("/shipments/{id}/cancel")]
async fn cancel(
    state: web::Data<AppState>,
    auth: Seller,
    path: web::Path<String>,
    _: CsrfOnly,
) -> Result<HttpResponse, AppError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let currency = state.config.currency;
    let to = format!("/shipments/{id}");
    let s = state
        .db(move |c| booking::cancel(c, &seller, &id, currency))
        .await?;
    flash(
        &auth.viewer.session,
        "ok",
        format!(
            "Cancelled. {} is back in your wallet.",
            Money::new(s.price_amount, currency)
        ),
    );
    Ok(redirect(&to))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LabelQuery {
    pub format: String,
    pub size: String,
}

/// A rendered label file, made on the blocking pool (PDF drawing is CPU work).
pub struct LabelFile {
    body: Vec<u8>,
    content_type: &'static str,
    disposition: String,
}

impl LabelFile {
    pub fn render(
        labels: &[crate::labels::Label],
        format: crate::printing::Format,
        size: crate::labels::Size,
    ) -> Result<LabelFile, AppError> {
        let name = match labels {
            [one] => one.tracking_number.clone(),
            many => format!("labels-{}", many.len()),
        };
        Ok(match format {
            crate::printing::Format::Pdf => LabelFile {
                body: crate::labels::render_pdf(labels, size).map_err(AppError::internal)?,
                content_type: "application/pdf",
                disposition: format!("inline; filename=\"{name}.pdf\""),
            },
            crate::printing::Format::Zpl => LabelFile {
                body: labels
                    .iter()
                    .map(crate::labels::render_zpl)
                    .collect::<String>()
                    .into_bytes(),
                content_type: "application/zpl; charset=utf-8",
                disposition: format!("attachment; filename=\"{name}.zpl\""),
            },
        })
    }

    pub fn into_response(self) -> HttpResponse {
        HttpResponse::Ok()
            .content_type(self.content_type)
            .insert_header(("Content-Disposition", self.disposition))
            .body(self.body)
    }
}

pub fn parse_label_query(
    q: &LabelQuery,
) -> Result<(crate::printing::Format, crate::labels::Size), AppError> {
    let format = crate::printing::Format::parse(&q.format)
        .ok_or_else(|| AppError::BadRequest("format must be pdf or zpl.".into()))?;
    let size = crate::labels::Size::parse(&q.size)
        .ok_or_else(|| AppError::BadRequest("size must be 4x6 or a4.".into()))?;
    Ok((format, size))
}

#[get("/shipments/{id}/label")]
async fn label_file(
    state: web::Data<AppState>,
    auth: Seller,
    path: web::Path<String>,
    q: web::Query<LabelQuery>,
) -> Result<HttpResponse, AppError> {
    let (format, size) = parse_label_query(&q)?;
    let (seller, id, base) = (
        auth.user.id.clone(),
        path.into_inner(),
        state.config.base_url.clone(),
    );
    let labels = state
        .db(move |c| crate::printing::labels(c, &seller, &seller, &[id], format, size, &base))
        .await?;
    let file = web::block(move || LabelFile::render(&labels, format, size)).await??;
    Ok(file.into_response())
}

/// The Shipments page's "print selected": one PDF with every chosen label.
#[post("/shipments/labels")]
async fn bulk_labels(
    state: web::Data<AppState>,
    auth: Seller,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let ids: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| v.clone())
        .collect();
    let size = pairs
        .iter()
        .find(|(k, _)| k == "size")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let q = LabelQuery {
        format: "pdf".into(),
        size: size.into(),
    };
    let (format, size) = parse_label_query(&q)?;
    let (seller, base) = (auth.user.id.clone(), state.config.base_url.clone());
    let labels = state
        .db(move |c| crate::printing::labels(c, &seller, &seller, &ids, format, size, &base))
        .await?;
    let file = web::block(move || LabelFile::render(&labels, format, size)).await??;
    Ok(file.into_response())
}
