//! The warehouse operator's pages: inbound scan and re-weigh.

use actix_web::{HttpResponse, get, web};
use askama::Template;

use crate::error::AppError;
use crate::web::extract::Warehouse;
use crate::web::html;
use crate::web::page::PageCtx;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home);
}

#[derive(Template)]
#[template(path = "warehouse/home.html")]
struct HomePage {
    ctx: PageCtx,
}

#[get("/warehouse")]
async fn home(auth: Warehouse) -> Result<HttpResponse, AppError> {
    html(&HomePage {
        ctx: PageCtx::new(&auth.viewer),
    })
}
