//! The seller's notification mails about a shipment: weight adjustment, delivered, exception or
//! delivery failed, held at the warehouse (and a dispute's outcome). Each kind can be turned
//! off in Settings; they are queued in the transaction that makes the change, like every mail.

use askama::Template;

use crate::error::AppError;
use crate::mail::{BASE_URL_MARK, Rendered};
use waybill_db::shipments::Shipment;
use waybill_db::warehouse::Adjustment;
use waybill_db::{self as db, DbConn};
use waybill_domain::format_weight;
use waybill_domain::notice::NoticeKind;
use waybill_domain::{Currency, Money, Status};

/// The kinds a seller may turn off, with what Settings calls them.
pub const KINDS: [(NoticeKind, &str); 4] = [
    (
        NoticeKind::WeightAdjustment,
        "Weight adjustments and disputes",
    ),
    (NoticeKind::Delivered, "Parcel delivered"),
    (
        NoticeKind::Exception,
        "Delivery failed or a problem with a parcel",
    ),
    (NoticeKind::Held, "Parcel held at the warehouse"),
];

#[derive(Template)]
#[template(path = "mail/notice.txt")]
struct NoticeText<'a> {
    lines: &'a [String],
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/notice.html")]
struct NoticeHtml<'a> {
    lines: &'a [String],
    link: &'a str,
}

/// One notice: a subject, a few lines and a link to the shipment.
struct Notice {
    subject: String,
    lines: Vec<String>,
    link: String,
}

impl crate::mail::Mail for Notice {
    const KIND: &'static str = "notice";
    fn subject(&self) -> String {
        self.subject.clone()
    }
    fn text(&self) -> askama::Result<String> {
        NoticeText {
            lines: &self.lines,
            link: &self.link,
        }
        .render()
    }
    fn html(&self) -> askama::Result<String> {
        NoticeHtml {
            lines: &self.lines,
            link: &self.link,
        }
        .render()
    }
}

/// Queues a notice of `kind` to the shipment's seller unless the seller turned it off.
fn send(
    c: &mut DbConn,
    kind: NoticeKind,
    s: &Shipment,
    subject: String,
    lines: Vec<String>,
) -> Result<(), AppError> {
    if db::users::mail_opt_outs(c, &s.seller_id)?
        .iter()
        .any(|k| k == kind.as_str())
    {
        return Ok(());
    }
    let Some(seller) = db::users::find(c, &s.seller_id)? else {
        return Ok(());
    };
    let rendered = Rendered::of(&Notice {
        subject,
        lines,
        link: format!("{BASE_URL_MARK}/shipments/{}", s.id),
    })?
    .with_kind(kind.as_str());
    rendered.enqueue(c, &seller.email)?;
    Ok(())
}

fn money(minor: i64, currency: Currency) -> Money {
    Money::new(minor, currency)
}

/// After a status change: delivered, delivery failed, exception (held at the warehouse when
/// the warehouse raised it). Other statuses send nothing.
pub fn status_changed(c: &mut DbConn, s: &Shipment, to: Status) -> Result<(), AppError> {
    let (kind, subject, lines): (NoticeKind, String, Vec<String>) = match to {
        Status::Delivered => (
            NoticeKind::Delivered,
            format!("Delivered: {}", s.tracking_number),
            vec![format!(
                "{} to {} ({}) has been delivered.",
                s.tracking_number, s.recipient_city, s.recipient_country
            )],
        ),
        Status::DeliveryFailed | Status::Exception => {
            let last = db::shipments::events(c, &s.id)?
                .into_iter()
                .filter(|e| e.status == to)
                .max_by_key(|e| e.occurred_at);
            let why = last
                .as_ref()
                .map(|e| e.description.clone())
                .unwrap_or_default();
            let held = last
                .as_ref()
                .is_some_and(|e| e.source.starts_with("warehouse:"));
            if held {
                (
                    NoticeKind::Held,
                    format!("Held at the warehouse: {}", s.tracking_number),
                    vec![
                        format!("{} is held at the warehouse. {why}", s.tracking_number),
                        "It cannot travel on this channel as it is. Ask for it back, or book it again on a channel that takes it, from the shipment page.".into(),
                    ],
                )
            } else {
                (
                    NoticeKind::Exception,
                    format!("{}: {}", to.label(), s.tracking_number),
                    vec![
                        format!("{} ({}): {why}", s.tracking_number, to.label().to_lowercase()),
                        "Follow the tracking on the shipment page; contact support if it does not move on.".into(),
                    ],
                )
            }
        }
        _ => return Ok(()),
    };
    send(c, kind, s, subject, lines)
}

/// The warehouse measured the parcel and the freight changed.
pub fn weight_adjusted(
    c: &mut DbConn,
    s: &Shipment,
    a: &Adjustment,
    currency: Currency,
) -> Result<(), AppError> {
    let mut lines = vec![
        format!(
            "The warehouse measured {}: {} at {}×{}×{} mm (chargeable {}); you declared {} at {}×{}×{} mm (chargeable {}).",
            s.tracking_number,
            format_weight(a.measured_weight_g),
            a.measured_length_mm,
            a.measured_width_mm,
            a.measured_height_mm,
            format_weight(a.measured_chargeable_g),
            format_weight(a.declared_weight_g),
            a.declared_length_mm,
            a.declared_width_mm,
            a.declared_height_mm,
            format_weight(a.declared_chargeable_g),
        ),
        format!(
            "Freight as declared {}, as measured {}.",
            money(a.declared_price, currency),
            money(a.measured_price, currency)
        ),
    ];
    let subject = if a.amount > 0 {
        lines.push(format!(
            "{} has been charged to your wallet.",
            money(a.charged, currency)
        ));
        if a.due > 0 {
            lines.push(format!(
                "{} could not be covered by your balance and is due: your next top-up settles it first, and new bookings wait until it is settled.",
                money(a.due, currency)
            ));
        }
        lines.push(format!(
            "You can dispute this within {} days from the shipment page.",
            waybill_domain::weighing::DISPUTE_DAYS
        ));
        format!(
            "Weight adjustment: {} charged for {}",
            money(a.amount, currency),
            s.tracking_number
        )
    } else {
        lines.push(format!(
            "{} has been refunded to your wallet.",
            money(-a.amount, currency)
        ));
        format!(
            "Weight adjustment: {} refunded for {}",
            money(-a.amount, currency),
            s.tracking_number
        )
    };
    send(c, NoticeKind::WeightAdjustment, s, subject, lines)
}

/// An admin decided the seller's dispute.
pub fn dispute_resolved(
    c: &mut DbConn,
    s: &Shipment,
    a: &Adjustment,
    refunded: bool,
    note: &str,
    currency: Currency,
) -> Result<(), AppError> {
    let (subject, first) = if refunded {
        (
            format!("Dispute accepted: {} refunded", money(a.amount, currency)),
            format!(
                "Your dispute of the weight adjustment on {} was accepted: {} is given back.",
                s.tracking_number,
                money(a.amount, currency)
            ),
        )
    } else {
        (
            format!("Dispute declined: {}", s.tracking_number),
            format!(
                "Your dispute of the weight adjustment on {} was declined; the charge of {} stands.",
                s.tracking_number,
                money(a.amount, currency)
            ),
        )
    };
    send(
        c,
        NoticeKind::WeightAdjustment,
        s,
        subject,
        vec![first, format!("Note from Waybill: {note}")],
    )
}
