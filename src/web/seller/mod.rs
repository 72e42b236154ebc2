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
use crate::web::html;
use crate::web::page::PageCtx;

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
}

#[get("/seller")]
async fn dashboard(auth: Seller) -> Result<HttpResponse, AppError> {
    html(&DashboardPage {
        ctx: PageCtx::new(&auth.viewer),
        store_name: auth.user.display_name().to_string(),
        contact: auth.user.name.clone(),
    })
}
