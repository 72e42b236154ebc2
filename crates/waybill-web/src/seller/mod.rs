//! The seller's pages: dashboard and settings (API keys).

mod addresses;
mod import;
pub mod pickups;
mod settings;
pub mod shipments;
pub mod wallet;

use actix_web::{HttpResponse, get, web};
use askama::Template;

use crate::error::PageError;
use crate::extract::Seller;
use crate::page::PageCtx;
use crate::{AppState, html};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(dashboard);
    settings::routes(cfg);
    addresses::routes(cfg);
    import::routes(cfg);
    pickups::routes(cfg);
    shipments::routes(cfg);
    wallet::routes(cfg);
}

#[derive(Template)]
#[template(path = "seller/dashboard.html")]
struct DashboardPage {
    ctx: PageCtx,
    store_name: String,
    contact: String,
    balance: String,
    /// What weight adjustments left owing beyond the balance; bookings wait until it is paid.
    due: Option<String>,
    recent: Vec<shipments::Row>,
    /// Unprinted labels, parcels waiting for a courier, parcels in trouble, failed pickups.
    actions: waybill_app::services::shipments::ActionCounts,
    /// The first-run checklist: a sender address, money in the wallet, a first shipment.
    has_address: bool,
    has_money: bool,
    has_shipment: bool,
}

#[get("/seller")]
async fn dashboard(state: web::Data<AppState>, auth: Seller) -> Result<HttpResponse, PageError> {
    let seller = auth.user.id.clone();
    let currency = state.config.currency;
    let d = state
        .db(move |c| waybill_app::services::shipments::dashboard(c, &seller, currency))
        .await?;
    html(&DashboardPage {
        ctx: PageCtx::new(&auth.viewer),
        store_name: auth.user.display_name().to_string(),
        contact: auth.user.name.clone(),
        has_money: d.topped_up || d.balance.minor > 0,
        balance: d.balance.to_string(),
        due: (d.due > 0).then(|| waybill_domain::Money::new(d.due, currency).to_string()),
        recent: d
            .recent
            .iter()
            .map(|s| shipments::row(s, currency, auth.user.time_zone()))
            .collect(),
        actions: d.actions,
        has_address: d.has_address,
        has_shipment: d.total > 0,
    })
}
