//! Shipping labels: PDF (100 × 150 mm thermal, or four to an A4 sheet) and ZPL for 203 dpi
//! printers. A pure function of the shipment: no database, no clock.

mod cn23;
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
    /// The recipient in the destination's own order, the country by name, then the phone.
    pub recipient: Vec<String>,
    /// The sender in Latin script, compact (five lines at most) for the label.
    pub sender: Vec<String>,
    /// The sender in Latin script, line by line, for the CN23.
    pub sender_full: Vec<String>,
    /// The sender as written locally (Chinese), when that differs from the Latin version:
    /// printed small for the collecting courier, never on ZPL.
    pub sender_local: Option<String>,
    pub weight: String,
    pub booked: String,
    pub reference: String,
    pub tracking_url: String,
    pub customs: Customs,
    pub customs_value: String,
    pub customs_weight: String,
}

/// The sender's lines for the label: at most five, street and locality joined.
fn compact_sender(a: &Address) -> Vec<String> {
    let mut out = vec![a.name.clone()];
    out.extend(a.company.clone());
    out.push(
        [Some(a.street1.clone()), a.street2.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
    );
    let lines = a.lines();
    // After name, company and streets come the locality lines and the country.
    let skip = 2 + usize::from(a.company.is_some()) + usize::from(a.street2.is_some());
    out.push(lines.get(skip..).unwrap_or_default().join(", "));
    out.push(format!("Tel {}", a.phone));
    out
}

impl Label {
    pub fn of(
        s: &Shipment,
        carrier: &str,
        service: &str,
        kind: ChannelKind,
        base_url: &str,
    ) -> Label {
        let local: Address = serde_json::from_str(&s.sender).unwrap_or_default();
        let sender = local.in_latin();
        let sender_local = (!local.is_latin()).then(|| {
            [
                Some(local.name.clone()),
                local.company.clone(),
                local.state.clone(),
                Some(local.city.clone()),
                local.district.clone(),
                Some(local.street1.clone()),
                local.street2.clone(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
        });
        let customs: Customs = serde_json::from_str(&s.customs).unwrap_or(Customs {
            contents_type: "other".into(),
            ..Customs::default()
        });
        let to = Address {
            name: s.recipient_name.clone(),
            company: s.recipient_company.clone(),
            street1: s.recipient_street1.clone(),
            street2: s.recipient_street2.clone(),
            city: s.recipient_city.clone(),
            state: s.recipient_state.clone(),
            postal_code: s.recipient_postal_code.clone(),
            country: s.recipient_country.clone(),
            ..Address::default()
        };
        let mut recipient = to.lines();
        recipient.push(format!("Tel {}", s.recipient_phone));
        let mut sender_full = sender.lines();
        sender_full.push(format!("Tel {}", sender.phone));
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
            sender: compact_sender(&sender),
            sender_full,
            sender_local,
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
