//! Shipping labels: PDF (100 × 150 mm thermal, or four to an A4 sheet) and ZPL for 203 dpi
//! printers. A pure function of the shipment: no database, no clock.

mod manifest;
mod pdf;
mod zpl;

use serde::Serialize;

pub use manifest::{Manifest, ManifestParcel, render_manifest};
pub use pdf::render_pdf;
pub use zpl::render_zpl;

use crate::db::shipments::Shipment;
use crate::domain::address::Address;
use crate::domain::channel::ChannelKind;
use crate::domain::customs::Customs;
use crate::domain::{Money, format_weight};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Size {
    /// 100 × 150 mm, one label a page (4 × 6 in thermal stock).
    FourBySix,
    /// Four labels a page at A6 size on A4.
    A4,
}

impl Size {
    pub fn as_str(self) -> &'static str {
        match self {
            Size::FourBySix => "4x6",
            Size::A4 => "a4",
        }
    }

    pub fn parse(s: &str) -> Option<Size> {
        match s {
            "" | "4x6" => Some(Size::FourBySix),
            "a4" | "A4" => Some(Size::A4),
            _ => None,
        }
    }
}

/// Everything printed on one label, already formatted.
#[derive(Clone, Debug)]
pub struct Label {
    pub tracking_number: String,
    pub carrier: String,
    pub service: String,
    pub kind: ChannelKind,
    pub country: String,
    pub postal_code: String,
    pub recipient: Vec<String>,
    pub sender: Vec<String>,
    pub weight: String,
    pub booked: String,
    pub reference: String,
    pub tracking_url: String,
    pub customs: Customs,
    pub customs_value: String,
    pub customs_weight: String,
}

impl Label {
    pub fn of(
        s: &Shipment,
        carrier: &str,
        service: &str,
        kind: ChannelKind,
        base_url: &str,
    ) -> Label {
        let sender: Address = serde_json::from_str(&s.sender).unwrap_or_default();
        let customs: Customs = serde_json::from_str(&s.customs).unwrap_or(Customs {
            contents_type: "other".into(),
            items: vec![],
        });
        let mut recipient = vec![s.recipient_name.clone()];
        recipient.extend(s.recipient_company.clone());
        recipient.push(s.recipient_street1.clone());
        recipient.extend(s.recipient_street2.clone());
        let mut city = format!("{} {}", s.recipient_city, s.recipient_postal_code);
        if let Some(st) = &s.recipient_state {
            city = format!("{} {st} {}", s.recipient_city, s.recipient_postal_code);
        }
        recipient.push(city);
        recipient.push(s.recipient_country.clone());
        recipient.push(format!("Tel {}", s.recipient_phone));
        let mut from = vec![sender.name.clone()];
        from.extend(sender.company.clone());
        from.push(sender.street1.clone());
        from.push(format!(
            "{} {} {}",
            sender.city, sender.postal_code, sender.country
        ));
        from.push(format!("Tel {}", sender.phone));
        let customs_value = customs
            .total_value()
            .iter()
            .map(Money::to_string)
            .collect::<Vec<_>>()
            .join(" + ");
        Label {
            tracking_number: s.tracking_number.clone(),
            carrier: carrier.to_string(),
            service: service.to_string(),
            kind,
            country: s.recipient_country.clone(),
            postal_code: s.recipient_postal_code.clone(),
            recipient,
            sender: from,
            weight: format_weight(s.weight_g),
            booked: s.created_at.format("%Y-%m-%d").to_string(),
            reference: s.reference.clone().unwrap_or_default(),
            tracking_url: format!("{base_url}/track/{}", s.tracking_number),
            customs_weight: format_weight(customs.total_weight_g()),
            customs,
            customs_value,
        }
    }
}
