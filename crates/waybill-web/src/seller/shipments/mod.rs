//! The seller's shipments, a file per page: the list with filters and search (`list`), the
//! booking form — quote → choose a channel → book and pay (`book`), the detail page with its
//! timeline and cancellation (`detail`), and label printing (`labels`).

mod book;
mod detail;
mod form;
mod labels;
mod list;

use actix_web::web;

use waybill_app::services::shipments::Shipment;
use waybill_domain::{Currency, Money};

pub use form::{ShipmentForm, form_field};

pub const PAGE_SIZE: i64 = 25;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list::list_page)
        .service(book::new_form)
        .service(book::submit)
        .service(labels::bulk_labels)
        .service(labels::label_file)
        .service(detail::detail)
        .service(detail::cancel)
        .service(detail::dispute)
        .service(detail::release_held);
}

pub struct Row {
    pub id: String,
    pub tracking_number: String,
    pub status: String,
    pub channel: String,
    pub recipient: String,
    pub reference: String,
    pub price: String,
    pub created: String,
    /// "No tracking" or "Stale", when the tracking has not moved.
    pub flag: Option<&'static str>,
}

pub(in crate::seller) fn row(
    s: &Shipment,
    currency: Currency,
    tz: waybill_domain::TimeZone,
) -> Row {
    Row {
        id: s.id.to_string(),
        tracking_number: s.tracking_number.clone(),
        status: s.status.label().to_string(),
        channel: s.channel_code.clone(),
        recipient: format!(
            "{}, {} {}",
            s.recipient_name, s.recipient_city, s.recipient_country
        ),
        reference: s.reference.clone().unwrap_or_default(),
        price: Money::new(s.price_amount, currency).to_string(),
        created: tz.show(&s.created_at),
        flag: None,
    }
}
