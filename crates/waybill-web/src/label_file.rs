//! Label downloads shared by the seller pages and the API: the query (`format`, `size`) and
//! the rendered file with its content type and name.

use actix_web::HttpResponse;
use serde::Deserialize;

use crate::error::{AppError, PageError};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LabelQuery {
    pub format: String,
    pub size: String,
}

/// A rendered label file, made on the blocking pool (PDF drawing is CPU work).
pub struct LabelFile {
    body: Vec<u8>,
    content_type: &'static str,
    disposition: String,
}

impl LabelFile {
    pub fn render(
        labels: &[waybill_labels::Label],
        format: waybill_app::services::printing::Format,
        size: waybill_labels::Size,
    ) -> Result<LabelFile, PageError> {
        let name = match labels {
            [one] => one.tracking_number.clone(),
            many => format!("labels-{}", many.len()),
        };
        Ok(match format {
            waybill_app::services::printing::Format::Pdf => LabelFile {
                body: waybill_labels::render_pdf(labels, size).map_err(AppError::internal)?,
                content_type: "application/pdf",
                disposition: format!("inline; filename=\"{name}.pdf\""),
            },
            waybill_app::services::printing::Format::Zpl => LabelFile {
                body: labels
                    .iter()
                    .map(waybill_labels::render_zpl)
                    .collect::<String>()
                    .into_bytes(),
                content_type: "application/zpl; charset=utf-8",
                disposition: format!("attachment; filename=\"{name}.zpl\""),
            },
        })
    }

    pub fn into_response(self) -> HttpResponse {
        HttpResponse::Ok()
            .content_type(self.content_type)
            .insert_header(("Content-Disposition", self.disposition))
            .body(self.body)
    }
}

pub fn parse_label_query(
    q: &LabelQuery,
) -> Result<
    (
        waybill_app::services::printing::Format,
        waybill_labels::Size,
    ),
    PageError,
> {
    let format = waybill_app::services::printing::Format::parse(&q.format)
        .ok_or_else(|| AppError::BadRequest("format must be pdf or zpl.".into()))?;
    let size = waybill_labels::Size::parse(&q.size)
        .ok_or_else(|| AppError::BadRequest("size must be 4x6 or a4.".into()))?;
    Ok((format, size))
}
