//! Approved channels: the list with limits, zones and transit, and switching one on or off.
//! Only enabled channels are quoted or booked.

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;

use crate::error::{AppError, PageError};
use crate::extract::{Admin, CsrfForm, PathCode};
use crate::page::{PageCtx, flash};
use crate::{AppState, html, html_status, redirect};
use waybill_app::services::channels::{self, Channel};
use waybill_domain::channel::LimitsInput as LimitsForm;
use waybill_domain::format_weight;
use waybill_domain::rates::RateCard;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(channels_page)
        .service(toggle)
        .service(edit_page)
        .service(save_limits)
        .service(rates_csv)
        .service(upload_rates);
}

pub struct Row {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub limits: String,
    pub divisor: String,
    pub zones: String,
    pub transit: String,
    pub enabled: bool,
}

#[derive(Template)]
#[template(path = "admin/channels.html")]
struct ChannelsPage {
    ctx: PageCtx,
    rows: Vec<Row>,
}

#[get("/admin/channels")]
async fn channels_page(state: web::Data<AppState>, auth: Admin) -> Result<HttpResponse, PageError> {
    let channels = state.db(channels::list).await?;
    let mut rows = Vec::new();
    for c in channels {
        let spec = c.spec()?;
        rows.push(Row {
            name: format!("{} {}", c.carrier, c.service),
            kind: c.kind.as_str().to_string(),
            limits: format!(
                "{} · longest side {} mm · L+W+H {} mm",
                format_weight(c.max_weight_g),
                c.max_length_mm,
                c.max_sum_sides_mm
            ),
            divisor: c
                .volumetric_divisor
                .map(|d| d.to_string())
                .unwrap_or_else(|| "actual weight".into()),
            zones: spec
                .rate_card
                .zones
                .iter()
                .map(|z| format!("{} ({})", z.zone, z.countries.len()))
                .collect::<Vec<_>>()
                .join(", "),
            transit: format!("{}–{} days", c.transit_min_days, c.transit_max_days),
            enabled: c.enabled,
            code: c.code,
        });
    }
    html(&ChannelsPage {
        ctx: PageCtx::new(&auth.viewer),
        rows,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ToggleForm {
    enabled: String,
}

#[post("/admin/channels/{code}/enabled")]
async fn toggle(
    state: web::Data<AppState>,
    auth: Admin,
    path: PathCode,
    CsrfForm(form): CsrfForm<ToggleForm>,
) -> Result<HttpResponse, PageError> {
    let code = path.into_inner();
    let enabled = form.enabled == "true";
    let c = code.clone();
    let found = state
        .db(move |conn| channels::set_enabled(conn, &c, enabled))
        .await?;
    if !found {
        return Err(AppError::NotFound.into());
    }
    tracing::info!(admin = %auth.user.id, channel = %code, enabled, "channel switched");
    let word = if enabled {
        "enabled: it can be quoted and booked"
    } else {
        "disabled: it is no longer quoted or booked"
    };
    flash(&auth.viewer.session, "ok", format!("{code} {word}."));
    Ok(redirect("/admin/channels"))
}

#[derive(Template)]
#[template(path = "admin/channel.html")]
struct EditPage {
    ctx: PageCtx,
    channel: Channel,
    form: LimitsForm,
    errors: BTreeMap<String, String>,
    rates_error: Option<String>,
    zones: Vec<String>,
    round_to_g: i64,
}

async fn render_edit(
    state: &AppState,
    auth: &Admin,
    code: String,
    form: Option<LimitsForm>,
    errors: BTreeMap<String, String>,
    rates_error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let channel = state.db(move |c| channels::get(c, &code)).await?;
    let card = channel.spec()?.rate_card.clone();
    let status = if errors.is_empty() && rates_error.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_status(
        status,
        &EditPage {
            ctx: PageCtx::new(&auth.viewer),
            form: form.unwrap_or_else(|| LimitsForm::of(&channel.limits())),
            zones: card
                .zones
                .iter()
                .map(|z| format!("{}: {}", z.zone, z.countries.join(" ")))
                .collect(),
            round_to_g: card.round_to_g,
            channel,
            errors,
            rates_error,
        },
    )
}

#[get("/admin/channels/{code}")]
async fn edit_page(
    state: web::Data<AppState>,
    auth: Admin,
    path: PathCode,
) -> Result<HttpResponse, PageError> {
    render_edit(
        &state,
        &auth,
        path.into_inner(),
        None,
        BTreeMap::new(),
        None,
    )
    .await
}

#[post("/admin/channels/{code}")]
async fn save_limits(
    state: web::Data<AppState>,
    auth: Admin,
    path: PathCode,
    CsrfForm(form): CsrfForm<LimitsForm>,
) -> Result<HttpResponse, PageError> {
    let code = path.into_inner();
    let limits = match form.parse() {
        Ok(l) => l,
        Err(e) => return render_edit(&state, &auth, code, Some(form), e, None).await,
    };
    let c = code.clone();
    if !state
        .db(move |conn| channels::update_limits(conn, &c, &limits))
        .await?
    {
        return Err(AppError::NotFound.into());
    }
    tracing::info!(admin = %auth.user.id, channel = %code, "channel limits changed");
    flash(&auth.viewer.session, "ok", format!("{code}: limits saved."));
    Ok(redirect(&format!("/admin/channels/{code}")))
}

#[get("/admin/channels/{code}/rates.csv")]
async fn rates_csv(
    state: web::Data<AppState>,
    _auth: Admin,
    path: PathCode,
) -> Result<HttpResponse, PageError> {
    let code = path.into_inner();
    let c = code.clone();
    let channel = state.db(move |conn| channels::get(conn, &c)).await?;
    let csv = channel.spec()?.rate_card.to_csv(state.config.currency);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{code}-rates.csv\""),
        ))
        .body(csv))
}

#[post("/admin/channels/{code}/rates")]
async fn upload_rates(
    state: web::Data<AppState>,
    auth: Admin,
    path: PathCode,
    payload: Multipart,
) -> Result<HttpResponse, PageError> {
    let code = path.into_inner();
    let up = crate::upload::read(payload, &auth.viewer.session, 1 << 20).await?;
    let round_to_g = up
        .fields
        .get("round_to_g")
        .and_then(|r| r.trim().parse::<i64>().ok())
        .filter(|r| (1..=1_000).contains(r));
    let parsed = match (round_to_g, std::str::from_utf8(&up.file)) {
        (None, _) => Err("Enter the rounding step in grams (1 to 1000).".to_string()),
        (_, Err(_)) => Err("The file is not UTF-8 text.".to_string()),
        (Some(r), Ok(text)) => RateCard::from_csv(text, r, state.config.currency),
    };
    let card = match parsed {
        Ok(card) => card,
        Err(e) => return render_edit(&state, &auth, code, None, BTreeMap::new(), Some(e)).await,
    };
    let c = code.clone();
    let zones = card.zones.len();
    if !state
        .db(move |conn| channels::update_rate_card(conn, &c, &card))
        .await?
    {
        return Err(AppError::NotFound.into());
    }
    tracing::info!(admin = %auth.user.id, channel = %code, zones, "rate card replaced");
    flash(
        &auth.viewer.session,
        "ok",
        format!("{code}: new rate card with {zones} zones in force for new quotes and bookings."),
    );
    Ok(redirect(&format!("/admin/channels/{code}")))
}
