//! Label downloads shared by the seller pages and the API: the query (`format`, `size`) and
//! the rendered file with its content type and name.

use actix_web::HttpResponse;
use serde::Deserialize;

use crate::error::AppError;

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
        labels: &[crate::labels::Label],
        format: crate::services::printing::Format,
        size: crate::labels::Size,
    ) -> Result<LabelFile, AppError> {
        let name = match labels {
            [one] => one.tracking_number.clone(),
            many => format!("labels-{}", many.len()),
        };
        Ok(match format {
            crate::services::printing::Format::Pdf => LabelFile {
                body: crate::labels::render_pdf(labels, size).map_err(AppError::internal)?,
                content_type: "application/pdf",
                disposition: format!("inline; filename=\"{name}.pdf\""),
            },
            crate::services::printing::Format::Zpl => LabelFile {
                body: labels
                    .iter()
                    .map(crate::labels::render_zpl)
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
) -> Result<(crate::services::printing::Format, crate::labels::Size), AppError> {
    let format = crate::services::printing::Format::parse(&q.format)
        .ok_or_else(|| AppError::BadRequest("format must be pdf or zpl.".into()))?;
    let size = crate::labels::Size::parse(&q.size)
        .ok_or_else(|| AppError::BadRequest("size must be 4x6 or a4.".into()))?;
    Ok((format, size))
}
