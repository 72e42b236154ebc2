//! Approved channels: the list with limits, zones and transit, and switching one on or off.
//! Only enabled channels are quoted or booked.

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::domain::format_weight;
use crate::error::AppError;
use crate::web::extract::{Admin, CsrfForm};
use crate::web::page::{PageCtx, flash};
use crate::web::{AppState, html, redirect};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(channels_page).service(toggle);
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
async fn channels_page(state: web::Data<AppState>, auth: Admin) -> Result<HttpResponse, AppError> {
    let channels = state.db(|c| Ok(crate::db::channels::list(c)?)).await?;
    let mut rows = Vec::new();
    for c in channels {
        let spec = c.spec()?;
        rows.push(Row {
            name: format!("{} {}", c.carrier, c.service),
            kind: c.kind.clone(),
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
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<ToggleForm>,
) -> Result<HttpResponse, AppError> {
    let code = path.into_inner();
    let enabled = form.enabled == "true";
    let c = code.clone();
    let found = state
        .db(move |conn| Ok(crate::db::channels::set_enabled(conn, &c, enabled)?))
        .await?;
    if !found {
        return Err(AppError::NotFound);
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
