//! Shipping labels: PDF (100 × 150 mm thermal, or four to an A4 sheet) and ZPL for 203 dpi
//! printers. A pure function of a `Label` (what is printed, already formatted): no database,
//! no clock.

mod cn23;
mod manifest;
mod pdf;
mod pen;
mod zpl;

use serde::Serialize;

pub use manifest::{Manifest, ManifestParcel, render_manifest};
pub use pdf::render_pdf;
pub use zpl::render_zpl;

use waybill_domain::channel::ChannelKind;
use waybill_domain::customs::Customs;

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
