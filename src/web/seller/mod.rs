//! The seller's pages: dashboard and settings (API keys).

mod addresses;
mod import;
pub mod pickups;
mod settings;
pub mod shipments;
pub mod wallet;

use actix_web::{HttpResponse, get, web};
use askama::Template;

use crate::error::AppError;
use crate::web::extract::Seller;
use crate::web::page::PageCtx;
use crate::web::{AppState, html};

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
    actions: crate::db::shipments::ActionCounts,
    /// The first-run checklist: a sender address, money in the wallet, a first shipment.
    has_address: bool,
    has_money: bool,
    has_shipment: bool,
}

#[get("/seller")]
async fn dashboard(state: web::Data<AppState>, auth: Seller) -> Result<HttpResponse, AppError> {
    let seller = auth.user.id.clone();
    let currency = state.config.currency;
    let (due, balance, recent, total, counts, has_address, topped_up) = state
        .db(move |c| {
            let filter = crate::db::shipments::Filter::default();
            Ok((
                crate::db::ledger::balance_and_due(c, &seller)?.1,
                crate::services::wallet::balance(c, &seller, currency)?,
                crate::db::shipments::list(c, &seller, &filter, 0, 5)?,
                crate::db::shipments::count(c, &seller, &filter)?,
                crate::db::shipments::action_counts(c, &seller)?,
                !crate::db::addresses::list(c, &seller)?.is_empty(),
                crate::db::ledger::statement_count(c, &seller)? > 0,
            ))
        })
        .await?;
    html(&DashboardPage {
        ctx: PageCtx::new(&auth.viewer),
        store_name: auth.user.display_name().to_string(),
        contact: auth.user.name.clone(),
        has_money: topped_up || balance.minor > 0,
        balance: balance.to_string(),
        due: (due > 0).then(|| crate::domain::Money::new(due, currency).to_string()),
        recent: recent
            .iter()
            .map(|s| shipments::row(s, currency, auth.user.time_zone()))
            .collect(),
        actions: counts,
        has_address,
        has_shipment: total > 0,
    })
}
