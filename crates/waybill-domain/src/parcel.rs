//! A parcel's weight and size, and the weight a carrier charges for.

use serde::{Deserialize, Serialize};

/// Weight in grams and dimensions in millimetres, all positive and within what any
/// channel could carry (70 kg, 3 m).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parcel {
    pub weight_g: i64,
    pub length_mm: i64,
    pub width_mm: i64,
    pub height_mm: i64,
}

/// Parcel fields as they arrive; missing ones become field errors, not parse failures.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ParcelInput {
    pub weight_g: Option<i64>,
    pub length_mm: Option<i64>,
    pub width_mm: Option<i64>,
    pub height_mm: Option<i64>,
}

impl ParcelInput {
    pub fn parse(&self, errors: &mut std::collections::BTreeMap<String, String>) -> Option<Parcel> {
        let mut get = |name: &str, v: Option<i64>| {
            v.or_else(|| {
                errors.insert(format!("parcel.{name}"), "This field is required.".into());
                None
            })
        };
        let (w, l, wi, h) = (
            get("weight_g", self.weight_g),
            get("length_mm", self.length_mm),
            get("width_mm", self.width_mm),
            get("height_mm", self.height_mm),
        );
        let (w, l, wi, h) = (w?, l?, wi?, h?);
        Parcel::parse(w, l, wi, h)
            .map_err(|es| {
                for (f, m) in es {
                    errors.insert(format!("parcel.{f}"), m);
                }
            })
            .ok()
    }
}

pub const MAX_WEIGHT_G: i64 = 70_000;
pub const MAX_SIDE_MM: i64 = 3_000;

impl Parcel {
    /// Checks each field; the errors name the field they belong to.
    pub fn parse(
        weight_g: i64,
        length_mm: i64,
        width_mm: i64,
        height_mm: i64,
    ) -> Result<Parcel, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        if !(1..=MAX_WEIGHT_G).contains(&weight_g) {
            errors.push((
                "weight_g",
                format!("Enter a weight between 1 g and {} kg.", MAX_WEIGHT_G / 1000),
            ));
        }
        for (field, v) in [
            ("length_mm", length_mm),
            ("width_mm", width_mm),
            ("height_mm", height_mm),
        ] {
            if !(1..=MAX_SIDE_MM).contains(&v) {
                errors.push((
                    field,
                    format!("Enter a size between 1 mm and {MAX_SIDE_MM} mm."),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Parcel {
                weight_g,
                length_mm,
                width_mm,
                height_mm,
            })
        } else {
            Err(errors)
        }
    }

    pub fn longest_side_mm(&self) -> i64 {
        self.length_mm.max(self.width_mm).max(self.height_mm)
    }

    pub fn sum_of_sides_mm(&self) -> i64 {
        self.length_mm + self.width_mm + self.height_mm
    }

    /// Volumetric weight in grams: L×W×H (mm³) / divisor, rounded up. The divisor is the
    /// carrier's cm³ per kg (5000 for express): mm³ / 1000 / divisor kg = mm³ / divisor g.
    pub fn volumetric_g(&self, divisor: i64) -> i64 {
        let volume = self.length_mm * self.width_mm * self.height_mm;
        (volume + divisor - 1) / divisor
    }

    /// max(actual, volumetric), rounded up to `round_to_g`.
    pub fn chargeable_g(&self, divisor: Option<i64>, round_to_g: i64) -> i64 {
        let vol = divisor
            .filter(|d| *d > 0)
            .map(|d| self.volumetric_g(d))
            .unwrap_or(0);
        let w = self.weight_g.max(vol);
        let step = round_to_g.max(1);
        (w + step - 1) / step * step
    }
}

/// "1.25 kg", "850 g".
pub fn format_weight(grams: i64) -> String {
    if grams < 1000 {
        format!("{grams} g")
    } else {
        let kg = format!("{}.{:03}", grams / 1000, grams % 1000);
        format!("{} kg", kg.trim_end_matches('0').trim_end_matches('.'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn volumetric_and_rounding() {
        let p = Parcel::parse(1_200, 400, 300, 200).unwrap();
        assert_eq!(p.volumetric_g(5000), 4_800);
        assert_eq!(p.chargeable_g(Some(5000), 500), 5_000);
        assert_eq!(p.chargeable_g(None, 1), 1_200);
        assert_eq!(p.chargeable_g(Some(6000), 100), 4_000);
        assert_eq!(format_weight(850), "850 g");
        assert_eq!(format_weight(1_250), "1.25 kg");
        assert_eq!(format_weight(2_000), "2 kg");
        let errors = Parcel::parse(0, 0, 10, 99_999).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.0).collect();
        assert_eq!(fields, ["weight_g", "length_mm", "height_mm"]);
    }

    proptest! {
        #[test]
        fn chargeable_is_at_least_actual(w in 1i64..70_000, l in 1i64..1500, wi in 1i64..1500, h in 1i64..1500,
                                         div in prop::option::of(1000i64..10_000), step in 1i64..1000) {
            let p = Parcel::parse(w, l, wi, h).unwrap();
            let c = p.chargeable_g(div, step);
            prop_assert!(c >= w);
            prop_assert_eq!(c % step, 0);
            prop_assert!(c - p.weight_g.max(div.map(|d| p.volumetric_g(d)).unwrap_or(0)) < step);
        }
    }
}
