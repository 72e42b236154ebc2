//! The seller's sender address book: add, edit, delete, choose the default. A Chinese
//! address is asked for as it is written — province, city, district, street — any other
//! street first.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::error::{AppError, PageError};
use crate::extract::{CsrfForm, CsrfOnly, PathId, Seller};
use crate::page::{PageCtx, flash};
use crate::{AppState, html_status, redirect};
use waybill_app::services::addresses::{self, AddressRow};
use waybill_domain::CountryCode;
use waybill_domain::address::{
    AddressInput, LARGEST_FIRST_COUNTRIES, LatinInput, Party, largest_first,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(page)
        .service(create)
        .service(edit_page)
        .service(update)
        .service(delete)
        .service(default_address);
}

/// The form's place fields as a Chinese address is written, largest place first…
const LARGEST_FIRST: [&str; 7] = [
    "country",
    "state",
    "city",
    "district",
    "street1",
    "street2",
    "postal_code",
];
/// …and as most of the world writes one, street first.
const STREET_FIRST: [&str; 7] = [
    "street1",
    "street2",
    "district",
    "city",
    "state",
    "postal_code",
    "country",
];

#[derive(Template)]
#[template(path = "seller/addresses.html")]
struct AddressesPage {
    ctx: PageCtx,
    rows: Vec<AddressRow>,
    form: AddressInput,
    /// The Latin version as shown for editing (labels and customs forms print it).
    latin: LatinInput,
    errors: BTreeMap<String, String>,
    /// Set when editing an existing address.
    editing: Option<String>,
    /// Where a new address sends the seller back to (the booking form), already checked.
    next: String,
    /// The place fields in the order the address's country writes them.
    order: [&'static str; 7],
    largest_first: [&'static str; 7],
    street_first: [&'static str; 7],
    largest_first_countries: [&'static str; 4],
}

async fn render(
    state: &AppState,
    auth: &Seller,
    form: AddressInput,
    errors: BTreeMap<String, String>,
    editing: Option<String>,
    next: &str,
) -> Result<HttpResponse, PageError> {
    let id = auth.user.id.clone();
    let rows = state.db(move |c| addresses::list(c, &id)).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    // `latin.name` is the field `latin_name` on the page.
    let errors = errors
        .into_iter()
        .map(|(k, v)| (k.replace("latin.", "latin_"), v))
        .collect();
    // A new address starts in China (the marketplace's sellers ship from there); an address
    // whose country is not understood yet keeps the street-first order.
    let chinese = CountryCode::parse(&form.country).is_ok_and(|c| largest_first(c.as_str()));
    html_status(
        status,
        &AddressesPage {
            order: if chinese { LARGEST_FIRST } else { STREET_FIRST },
            largest_first: LARGEST_FIRST,
            street_first: STREET_FIRST,
            largest_first_countries: LARGEST_FIRST_COUNTRIES,
            ctx: PageCtx::new(&auth.viewer),
            rows,
            latin: form.latin.clone().unwrap_or_default(),
            form,
            errors,
            editing,
            next: crate::safe_next(next).unwrap_or_default().to_string(),
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NextQuery {
    next: String,
}

/// The address book; `?next=/shipments/new` (the booking form of a seller with no address
/// yet) comes back there once an address is added.
#[get("/seller/addresses")]
async fn page(
    state: web::Data<AppState>,
    auth: Seller,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    let blank = AddressInput {
        country: "CN".into(),
        ..Default::default()
    };
    render(&state, &auth, blank, BTreeMap::new(), None, &q.next).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AddressForm {
    #[serde(flatten)]
    address: AddressInput,
    default: Option<String>,
    latin_name: String,
    latin_company: String,
    latin_street1: String,
    latin_street2: String,
    latin_district: String,
    latin_city: String,
    latin_state: String,
    /// Where to go once the address is added (checked by `safe_next`).
    next: String,
}

impl AddressForm {
    /// The address with its Latin version from the page's flat `latin_*` fields; left
    /// all blank, Waybill romanises it.
    fn input(&self) -> AddressInput {
        let opt = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
        AddressInput {
            latin: Some(LatinInput {
                name: self.latin_name.clone(),
                company: opt(&self.latin_company),
                street1: self.latin_street1.clone(),
                street2: opt(&self.latin_street2),
                district: opt(&self.latin_district),
                city: self.latin_city.clone(),
                state: opt(&self.latin_state),
            }),
            ..self.address.clone()
        }
    }
}

#[post("/seller/addresses")]
async fn create(
    state: web::Data<AppState>,
    auth: Seller,
    CsrfForm(form): CsrfForm<AddressForm>,
) -> Result<HttpResponse, PageError> {
    let input = form.input();
    let address = match input.parse(Party::Sender, "") {
        Ok(a) => a,
        Err(errors) => return render(&state, &auth, input, errors, None, &form.next).await,
    };
    let (id, make_default) = (auth.user.id.clone(), form.default.is_some());
    state
        .db(move |c| addresses::add(c, &id, &address, make_default))
        .await?;
    flash(&auth.viewer.session, "ok", "Address added.");
    Ok(redirect(
        crate::safe_next(&form.next).unwrap_or("/seller/addresses"),
    ))
}

#[get("/seller/addresses/{id}/edit")]
async fn edit_page(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
) -> Result<HttpResponse, PageError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let row = state.db(move |c| addresses::find(c, &seller, &id)).await?;
    let form = AddressInput::from(&row.address());
    render(
        &state,
        &auth,
        form,
        BTreeMap::new(),
        Some(row.id.into_string()),
        "",
    )
    .await
}

#[post("/seller/addresses/{id}")]
async fn update(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
    CsrfForm(form): CsrfForm<AddressForm>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let input = form.input();
    let address = match input.parse(Party::Sender, "") {
        Ok(a) => a,
        Err(errors) => return render(&state, &auth, input, errors, Some(id), "").await,
    };
    let seller = auth.user.id.clone();
    let found = state
        .db(move |c| addresses::update(c, &seller, &id, &address))
        .await?;
    if !found {
        return Err(AppError::NotFound.into());
    }
    flash(&auth.viewer.session, "ok", "Address saved.");
    Ok(redirect("/seller/addresses"))
}

#[post("/seller/addresses/{id}/delete")]
async fn delete(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
    _: CsrfOnly,
) -> Result<HttpResponse, PageError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    if !state
        .db(move |c| addresses::delete(c, &seller, &id))
        .await?
    {
        return Err(AppError::NotFound.into());
    }
    flash(
        &auth.viewer.session,
        "ok",
        "Address deleted. Shipments booked from it keep their copy.",
    );
    Ok(redirect("/seller/addresses"))
}

#[post("/seller/addresses/{id}/default")]
async fn default_address(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
    _: CsrfOnly,
) -> Result<HttpResponse, PageError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    if !state
        .db(move |c| addresses::set_default(c, &seller, &id))
        .await?
    {
        return Err(AppError::NotFound.into());
    }
    flash(
        &auth.viewer.session,
        "ok",
        "Default sender address changed.",
    );
    Ok(redirect("/seller/addresses"))
}
