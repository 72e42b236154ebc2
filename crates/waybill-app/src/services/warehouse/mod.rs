//! Warehouse receipt: an inbound scan records a verified `at_origin_facility` event with the
//! measured parcel, and the first scan that measures a shipment settles its freight
//! difference through the wallet (once, whatever is replayed): charged, refunded, or — when
//! the balance cannot cover it — recorded as an amount due that later credits settle first.
//! A parcel over its channel's limits is held (`exception`), not adjusted. Sellers may
//! dispute a charge within 7 days; admins refund or uphold it.

mod disputes;
mod held;
mod scan;

pub use disputes::{adjustment_for_seller, dispute, dispute_refusal, open_disputes, resolve};
pub use held::{HeldChoice, release_held};
pub use scan::{recent_scans, scan};
pub use waybill_db::warehouse::{Adjustment, Scan};
pub use waybill_domain::weighing::{AdjustmentOutcome, DISPUTE_DAYS, DisputeStatus, ScanResult};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use waybill_db::DbConn;
use waybill_db::shipments::Shipment;
use waybill_domain::{Currency, Money};
use waybill_domain::{MAX_SIDE_MM, MAX_WEIGHT_G, Parcel};

/// What the scan service needs from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// A chargeable-weight difference up to the larger of these moves no money.
    pub tolerance_g: i64,
    pub tolerance_percent: i64,
    pub currency: Currency,
}

/// A scan as a machine (JSON) or the scan page (form) sends it.
#[derive(Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct ScanInput {
    pub scan_id: Option<String>,
    pub tracking_number: Option<String>,
    pub weight_g: Option<i64>,
    pub length_mm: Option<i64>,
    pub width_mm: Option<i64>,
    pub height_mm: Option<i64>,
    pub location: Option<String>,
}

/// A checked scan.
#[derive(Clone, Debug)]
pub struct ScanRequest {
    pub scan_id: String,
    pub tracking_number: String,
    pub weight_g: i64,
    pub length_mm: Option<i64>,
    pub width_mm: Option<i64>,
    pub height_mm: Option<i64>,
    pub location: Option<String>,
}

impl ScanInput {
    pub fn parse(&self) -> Result<ScanRequest, BTreeMap<String, String>> {
        let mut errors = BTreeMap::new();
        let scan_id = match self.scan_id.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() && s.len() <= 128 && !s.chars().any(char::is_control) => {
                s.to_string()
            }
            _ => {
                errors.insert(
                    "scan_id".into(),
                    "Send the scan's own id (1 to 128 characters): a retry with it changes nothing."
                        .into(),
                );
                String::new()
            }
        };
        let number = waybill_domain::tracking_number::normalise_scan(
            self.tracking_number.as_deref().unwrap_or(""),
        );
        if number.is_empty()
            || number.len() > 40
            || !number.chars().all(|c| c.is_ascii_alphanumeric())
        {
            errors.insert(
                "tracking_number".into(),
                "Scan the label's tracking number.".into(),
            );
        }
        let weight_g = match self.weight_g {
            Some(w) if (1..=MAX_WEIGHT_G).contains(&w) => w,
            _ => {
                errors.insert(
                    "weight_g".into(),
                    format!("Enter the measured weight in grams, 1 to {MAX_WEIGHT_G}."),
                );
                0
            }
        };
        let mut side = |name: &str, v: Option<i64>| match v {
            None => None,
            Some(v) if (1..=MAX_SIDE_MM).contains(&v) => Some(v),
            Some(_) => {
                errors.insert(
                    name.to_string(),
                    format!("Enter a size in millimetres, 1 to {MAX_SIDE_MM}, or leave it out."),
                );
                None
            }
        };
        let length_mm = side("length_mm", self.length_mm);
        let width_mm = side("width_mm", self.width_mm);
        let height_mm = side("height_mm", self.height_mm);
        let given = [length_mm, width_mm, height_mm]
            .iter()
            .filter(|v| v.is_some())
            .count();
        if given != 0 && given != 3 {
            errors.insert(
                "length_mm".into(),
                "Give all three sizes (length, width, height) or none.".into(),
            );
        }
        let location =
            match waybill_domain::text::optional_text(self.location.as_deref(), "location", 200) {
                Ok(l) => l,
                Err(e) => {
                    errors.insert("location".into(), e);
                    None
                }
            };
        if errors.is_empty() {
            Ok(ScanRequest {
                scan_id,
                tracking_number: number,
                weight_g,
                length_mm,
                width_mm,
                height_mm,
                location,
            })
        } else {
            Err(errors)
        }
    }
}

/// A parcel as measured: sizes the scanner did not give are left out.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measured {
    pub weight_g: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length_mm: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width_mm: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height_mm: Option<i64>,
}

/// What a scan did (the JSON answer of `POST /api/v1/warehouse/scans`).
#[derive(Serialize, Clone, Debug)]
pub struct ScanOutcome {
    pub shipment_id: String,
    pub tracking_number: String,
    pub status: &'static str,
    pub declared: Parcel,
    pub measured: Measured,
    pub chargeable_weight_g: i64,
    /// Positive: owed by the seller; negative: refunded; `null` when nothing moved by this scan.
    pub adjustment: Option<MoneyJson>,
    /// Of a positive adjustment, what the wallet could not cover (recorded as due).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_due: Option<MoneyJson>,
    pub result: ScanResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_reason: Option<String>,
    /// True when this scan id was seen before: nothing happened this time.
    pub replayed: bool,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct MoneyJson {
    pub amount: i64,
    pub currency: String,
}

impl From<Money> for MoneyJson {
    fn from(m: Money) -> MoneyJson {
        MoneyJson {
            amount: m.minor,
            currency: m.currency.code().to_string(),
        }
    }
}

fn declared(s: &Shipment) -> Parcel {
    Parcel {
        weight_g: s.weight_g,
        length_mm: s.length_mm,
        width_mm: s.width_mm,
        height_mm: s.height_mm,
    }
}

/// The shipment as the tracking log reads it (whoever owns it).
fn tracking_shipment(conn: &mut DbConn, id: &str) -> Result<Option<Shipment>, AppError> {
    Ok(waybill_db::tracking::shipment_by_id(conn, id)?)
}

#[cfg(test)]
mod tests;
