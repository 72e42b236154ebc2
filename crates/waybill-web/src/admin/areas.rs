//! Pickup service areas: the list with their couriers, adding an area, assigning a courier.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use crate::error::PageError;
use crate::extract::{Admin, CsrfForm};
use crate::page::{PageCtx, flash};
use crate::{AppState, html_status, redirect};
use waybill_app::services::accounts::User;
use waybill_app::services::areas::{self, AreaRow};
use waybill_domain::Role;
use waybill_domain::pickup::AreaInput;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(page).service(add).service(assign);
}

pub struct AreaLine {
    pub area: AreaRow,
    pub couriers: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/areas.html")]
struct AreasPage {
    ctx: PageCtx,
    areas: Vec<AreaLine>,
    couriers: Vec<User>,
    form: AreaInput,
    errors: BTreeMap<String, String>,
}

async fn render(
    state: &AppState,
    auth: &Admin,
    form: AreaInput,
    errors: BTreeMap<String, String>,
) -> Result<HttpResponse, PageError> {
    let areas::AreasPage {
        areas: rows,
        assigned,
        users,
    } = state.db(areas::page).await?;
    let areas = rows
        .into_iter()
        .map(|area| AreaLine {
            couriers: assigned
                .iter()
                .filter(|(a, _)| *a == area.id)
                .map(|(_, u)| format!("{} ({})", u.name, u.email))
                .collect(),
            area,
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_status(
        status,
        &AreasPage {
            ctx: PageCtx::new(&auth.viewer),
            areas,
            couriers: users
                .into_iter()
                .filter(|u| u.role() == Role::Courier)
                .collect(),
            form,
            errors,
        },
    )
}

#[get("/admin/areas")]
async fn page(state: web::Data<AppState>, auth: Admin) -> Result<HttpResponse, PageError> {
    let blank = AreaInput {
        windows: waybill_domain::pickup::DEFAULT_WINDOWS.into(),
        timezone: waybill_domain::pickup::DEFAULT_TIMEZONE.into(),
        cutoff: waybill_domain::pickup::DEFAULT_CUTOFF.into(),
        ..Default::default()
    };
    render(&state, &auth, blank, BTreeMap::new()).await
}

#[post("/admin/areas")]
async fn add(
    state: web::Data<AppState>,
    auth: Admin,
    CsrfForm(form): CsrfForm<AreaInput>,
) -> Result<HttpResponse, PageError> {
    let spec = match form.parse() {
        Ok(s) => s,
        Err(errors) => return render(&state, &auth, form, errors).await,
    };
    let added = {
        let spec = spec.clone();
        state.db(move |c| areas::add(c, &spec)).await?
    };
    if !added {
        let errors = [(
            "name".to_string(),
            "An area with this name exists.".to_string(),
        )]
        .into();
        return render(&state, &auth, form, errors).await;
    }
    tracing::info!(admin = %auth.user.id, area = %spec.name, "service area added");
    flash(
        &auth.viewer.session,
        "ok",
        format!("Area {} added.", spec.name),
    );
    Ok(redirect("/admin/areas"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AssignForm {
    courier_id: String,
    area_id: String,
}

#[post("/admin/areas/assign")]
async fn assign(
    state: web::Data<AppState>,
    auth: Admin,
    CsrfForm(form): CsrfForm<AssignForm>,
) -> Result<HttpResponse, PageError> {
    let ok = state
        .db(move |c| areas::assign(c, &form.courier_id, &form.area_id))
        .await?;
    match ok {
        Some(msg) => flash(&auth.viewer.session, "ok", msg),
        None => flash(
            &auth.viewer.session,
            "error",
            "Choose a courier and an area.",
        ),
    }
    Ok(redirect("/admin/areas"))
}
