//! Bulk CSV import: upload → preview of every row with its errors → book the valid rows in
//! the background, with progress → per-row results.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;

use crate::db::imports::Import;
use crate::domain::Money;
use crate::error::AppError;
use crate::services::booking::Settings;
use crate::services::import::{self, COLUMNS, Outcome, Row};
use crate::web::extract::{CsrfOnly, PathId, Seller};
use crate::web::page::PageCtx;
use crate::web::{AppState, html, html_status, redirect};

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
async fn upload_page(auth: Seller) -> Result<HttpResponse, AppError> {
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
) -> Result<HttpResponse, AppError> {
    let up = crate::web::upload::read(payload, &auth.viewer.session, MAX_UPLOAD).await?;
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
        .db(move |c| {
            import::check(c, &seller, &mut rows)?;
            let now = crate::db::now();
            let import = Import {
                id: crate::db::new_id(),
                seller_id: seller,
                filename,
                csv,
                status: "previewed".into(),
                total_rows: rows.len() as i32,
                valid_rows: rows.iter().filter(|r| r.bookable()).count() as i32,
                booked: 0,
                failed: 0,
                results: None,
                created_at: now,
                updated_at: now,
            };
            crate::db::imports::insert(c, &import)?;
            Ok(import.id)
        })
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
) -> Result<HttpResponse, AppError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let (import, rows) = state
        .db(move |c| {
            let import = crate::db::imports::find(c, &seller, &id)?.ok_or(AppError::NotFound)?;
            let mut rows = Vec::new();
            if import.status == "previewed" {
                rows = import::parse(import.csv.as_bytes()).map_err(AppError::BadRequest)?;
                import::check(c, &seller, &mut rows)?;
            }
            Ok((import, rows))
        })
        .await?;
    let currency = state.config.currency;
    let outcomes: Vec<Outcome> = import
        .results
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(AppError::internal)?
        .unwrap_or_default();
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
) -> Result<HttpResponse, AppError> {
    let (seller, id) = (auth.user.id.clone(), path.into_inner());
    let to = format!("/shipments/import/{id}");
    let i = id.clone();
    let started = state
        .db(move |c| {
            crate::db::imports::find(c, &seller, &i)?.ok_or(AppError::NotFound)?;
            Ok(crate::db::imports::start(c, &seller, &i)?)
        })
        .await?;
    if started {
        let (pool, user, mail) = (state.pool.clone(), auth.user.clone(), state.mail.clone());
        let (currency, base) = (state.config.currency, state.config.base_url.clone());
        let quote_key = state.quote_key.clone();
        tokio::task::spawn_blocking(move || {
            let settings = Settings {
                currency,
                base_url: &base,
                quote_key: &quote_key[..],
                confirm_by_mail: false,
            };
            if let Err(e) = import::run(&pool, &id, &user, &settings) {
                tracing::error!(import = %id, error = format!("{e:#}"), "import run failed");
                if let Ok(mut c) = pool.get() {
                    let _ = crate::db::imports::finish(&mut c, &id, 0, 0, "[]");
                }
            }
            mail.wake();
        });
    }
    Ok(redirect(&to))
}
