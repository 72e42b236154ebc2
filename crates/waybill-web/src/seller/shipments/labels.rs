//! Printing one label or the selected ones from the seller pages.

use actix_web::{HttpResponse, get, post, web};

use crate::AppState;
use crate::error::PageError;
use crate::extract::{CsrfForm, PathId, Seller};

use crate::label_file::{LabelFile, LabelQuery, parse_label_query};

#[get("/shipments/{id}/label")]
pub(super) async fn label_file(
    state: web::Data<AppState>,
    auth: Seller,
    path: PathId,
    q: web::Query<LabelQuery>,
) -> Result<HttpResponse, PageError> {
    let mut q = q.into_inner();
    if q.size.is_empty() {
        // No size asked for: the seller's default (Settings).
        q.size = auth.user.label_size.clone();
    }
    let (format, size) = parse_label_query(&q)?;
    let (seller, id, base) = (
        auth.user.id.clone(),
        path.into_inner(),
        state.config.base_url.clone(),
    );
    let labels = state
        .db(move |c| {
            waybill_app::services::printing::labels(c, &seller, &seller, &[id], format, size, &base)
        })
        .await?;
    let file = web::block(move || LabelFile::render(&labels, format, size)).await??;
    Ok(file.into_response())
}

/// The Shipments page's "print selected": one PDF with every chosen label.
#[post("/shipments/labels")]
pub(super) async fn bulk_labels(
    state: web::Data<AppState>,
    auth: Seller,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let ids: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| v.clone())
        .collect();
    // Nothing ticked: back to the list with a word, not an error page.
    if ids.is_empty() {
        crate::page::flash(
            &auth.viewer.session,
            "error",
            "Tick the shipments whose labels you want, then print.",
        );
        return Ok(crate::redirect("/shipments"));
    }
    let size = pairs
        .iter()
        .find(|(k, _)| k == "size")
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
        .unwrap_or(&auth.user.label_size);
    let q = LabelQuery {
        format: "pdf".into(),
        size: size.into(),
    };
    let (format, size) = parse_label_query(&q)?;
    let (seller, base) = (auth.user.id.clone(), state.config.base_url.clone());
    let labels = state
        .db(move |c| {
            waybill_app::services::printing::labels(c, &seller, &seller, &ids, format, size, &base)
        })
        .await?;
    let file = web::block(move || LabelFile::render(&labels, format, size)).await??;
    Ok(file.into_response())
}
