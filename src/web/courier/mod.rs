//! The courier's pages (phone-sized): today's pickup queue.

use actix_web::{HttpResponse, get, web};
use askama::Template;

use crate::error::AppError;
use crate::web::extract::Courier;
use crate::web::html;
use crate::web::page::PageCtx;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(home);
}

#[derive(Template)]
#[template(path = "courier/home.html")]
struct HomePage {
    ctx: PageCtx,
}

#[get("/courier")]
async fn home(auth: Courier) -> Result<HttpResponse, AppError> {
    html(&HomePage {
        ctx: PageCtx::new(&auth.viewer),
    })
}
