//! Bulk CSV import: upload → preview of every row with its errors → book the valid rows in
//! the background, with progress → per-row results.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;

use crate::error::PageError;
use crate::extract::{CsrfOnly, PathId, Seller};
use crate::page::PageCtx;
use crate::{AppState, html, html_status, redirect};
use waybill_app::services::import::{self, COLUMNS, Import, Outcome, Row};
use waybill_domain::Money;
use waybill_domain::import::ImportStatus;

const MAX_UPLOAD: usize = 5 << 20;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(upload_page)
        .service(sample)
        .service(upload)
        .service(show)
        .service(book);
}

#[derive(Template)]
#[template(path = "seller/import.html")]
struct UploadPage {
    ctx: PageCtx,
    columns: [(&'static str, &'static str); 27],
    error: Option<String>,
}

#[get("/shipments/import")]
async fn upload_page(auth: Seller) -> Result<HttpResponse, PageError> {
    html(&UploadPage {
        ctx: PageCtx::new(&auth.viewer),
        columns: COLUMNS,
        error: None,
    })
}

#[get("/shipments/import/sample.csv")]
async fn sample(_auth: Seller) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"waybill-import-sample.csv\"",
        ))
        .body(import::sample_csv())
}

#[post("/shipments/import")]
async fn upload(
    state: web::Data<AppState>,
    auth: Seller,
    payload: Multipart,
) -> Result<HttpResponse, PageError> {
    let up = crate::upload::read(payload, &auth.viewer.session, MAX_UPLOAD).await?;
    let filename = up.filename.clone();
    let failed = |error: String| {
        html_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &UploadPage {
                ctx: PageCtx::new(&auth.viewer),
                columns: COLUMNS,
                error: Some(error),
            },
        )
    };
    let data = up.file;
    if data.is_empty() {
        return failed("Choose a CSV file to upload.".into());
    }
    // Kept as UTF-8 whatever the upload's encoding (GBK files included).
    let csv = match import::decode(&data) {
        Ok(t) => t,
        Err(e) => return failed(e),
    };
    let mut rows = match import::parse(csv.as_bytes()) {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    let seller = auth.user.id.clone();
    let id = state
        .db(move |c| import::preview(c, &seller, filename, csv, &mut rows))
        .await?;
    Ok(redirect(&format!("/shipments/import/{id}")))
}

#[derive(Template)]
#[template(path = "seller/import_show.html")]
struct ShowPage {
    ctx: PageCtx,
    import: Import,
    rows: Vec<Row>,
    outcomes: Vec<Outcome>,
    /// Rows whose reference was already booked: nothing new was made for them.
    already: usize,
    total_price: String,
    prices: Vec<String>,
}

#[get("/shipments/import/{id}")]
async fn show(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
) -> Result<HttpResponse, PageError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let import::Shown {
        import,
        rows,
        outcomes,
    } = state.db(move |c| import::show(c, &seller, &id)).await?;
    let currency = state.config.currency;
    let total: i64 = rows
        .iter()
        .filter(|r| r.bookable())
        .filter_map(|r| r.price)
        .sum();
    html(&ShowPage {
        ctx: PageCtx::new(&auth.viewer),
        prices: rows
            .iter()
            .map(|r| {
                r.price
                    .map(|p| Money::new(p, currency).to_string())
                    .unwrap_or_default()
            })
            .collect(),
        total_price: Money::new(total, currency).to_string(),
        already: outcomes.iter().filter(|o| o.earlier).count(),
        rows,
        outcomes,
        import,
    })
}

#[post("/shipments/import/{id}/book")]
async fn book(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
    _: CsrfOnly,
) -> Result<HttpResponse, PageError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let to = format!("/shipments/import/{id}");
    let i = id.clone();
    let started = state.db(move |c| import::start(c, &seller, &i)).await?;
    if started {
        let bg = import::Background {
            pool: state.pool.clone(),
            mail: state.mail.clone(),
            currency: state.config.currency,
            base_url: state.config.base_url.clone(),
            quote_key: state.quote_key.clone(),
        };
        import::run_in_background(bg, id, auth.user.clone());
    }
    Ok(redirect(&to))
}
