//! An approved logistics channel (carrier + service) and how it quotes a parcel.

use serde::{Deserialize, Serialize};

use super::parcel::{Parcel, format_weight};
use super::rates::{Breakdown, PriceError, RateCard};
use super::tracking_number::TrackingFormat;

/// The shape of a channel code (`CNPOST-RAM`, `UPS-SAVER`): upper-case ASCII letters and
/// digits, with hyphens between them, at most 32 characters. Anything else names no channel.
pub fn is_code(s: &str) -> bool {
    (2..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Postal,
    Express,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Postal => "postal",
            ChannelKind::Express => "express",
        }
    }
}

impl From<ChannelKind> for String {
    fn from(k: ChannelKind) -> String {
        k.as_str().to_string()
    }
}

impl TryFrom<String> for ChannelKind {
    type Error = String;
    fn try_from(s: String) -> Result<ChannelKind, String> {
        match s.as_str() {
            "postal" => Ok(ChannelKind::Postal),
            "express" => Ok(ChannelKind::Express),
            _ => Err(format!("unknown channel kind `{s}`")),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSpec {
    pub code: String,
    pub carrier: String,
    pub service: String,
    pub kind: ChannelKind,
    pub tracking: TrackingFormat,
    pub max_weight_g: i64,
    pub max_length_mm: i64,
    /// Length + width + height.
    pub max_sum_sides_mm: i64,
    /// cm³ per kg for volumetric weight (5000 for express); `None` for postal lines that
    /// charge actual weight only.
    pub volumetric_divisor: Option<i64>,
    pub transit_min_days: i32,
    pub transit_max_days: i32,
    pub door_pickup: bool,
    pub rate_card: RateCard,
}

/// A channel's answer for one parcel to one country.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Quote {
    pub eligible: bool,
    pub reasons: Vec<String>,
    pub chargeable_weight_g: i64,
    pub price: Option<Breakdown>,
}

impl ChannelSpec {
    pub fn quote(&self, parcel: &Parcel, country: &str) -> Quote {
        let chargeable = parcel.chargeable_g(self.volumetric_divisor, self.rate_card.round_to_g);
        let mut reasons = Vec::new();
        if parcel.weight_g > self.max_weight_g {
            reasons.push(format!(
                "Too heavy: {} is over this channel's limit of {}.",
                format_weight(parcel.weight_g),
                format_weight(self.max_weight_g)
            ));
        }
        if parcel.longest_side_mm() > self.max_length_mm {
            reasons.push(format!(
                "Too long: the longest side is {} mm; this channel takes at most {} mm.",
                parcel.longest_side_mm(),
                self.max_length_mm
            ));
        }
        if parcel.sum_of_sides_mm() > self.max_sum_sides_mm {
            reasons.push(format!(
                "Too big: length + width + height is {} mm; this channel takes at most {} mm.",
                parcel.sum_of_sides_mm(),
                self.max_sum_sides_mm
            ));
        }
        let price = match self.rate_card.price(country, chargeable) {
            Ok(b) => Some(b),
            Err(PriceError::NotServed) => {
                reasons.push(format!(
                    "Does not deliver to {}.",
                    country.to_ascii_uppercase()
                ));
                None
            }
            Err(PriceError::TooHeavyForCard { max_g }) => {
                reasons.push(format!(
                    "Too heavy: the chargeable weight {} is over the rate card's {}.",
                    format_weight(chargeable),
                    format_weight(max_g)
                ));
                None
            }
        };
        let eligible = reasons.is_empty();
        Quote {
            eligible,
            reasons,
            chargeable_weight_g: chargeable,
            price: if eligible { price } else { None },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rates::{Pricing, ZoneRate};

    #[test]
    fn channel_codes_have_one_shape() {
        for ok in ["CNPOST-RAM", "UPS-SAVER", "TNT-ECONOMY", "DHL"] {
            assert!(is_code(ok), "{ok}");
        }
        for bad in [
            "",
            "X",
            "cnpost-ram",
            "-RAM",
            "RAM-",
            "CN POST",
            "A\u{0}B",
            "ÄB",
        ] {
            assert!(!is_code(bad), "{bad:?}");
        }
        assert!(!is_code(&"A".repeat(33)));
    }

    fn small_packet() -> ChannelSpec {
        ChannelSpec {
            code: "CNPOST-RAM".into(),
            carrier: "China Post".into(),
            service: "Registered Air Mail".into(),
            kind: ChannelKind::Postal,
            tracking: TrackingFormat::S10 {
                service: "RR".into(),
                country: "CN".into(),
            },
            max_weight_g: 2_000,
            max_length_mm: 600,
            max_sum_sides_mm: 900,
            volumetric_divisor: None,
            transit_min_days: 10,
            transit_max_days: 25,
            door_pickup: true,
            rate_card: RateCard {
                round_to_g: 10,
                zones: vec![ZoneRate {
                    zone: "Europe".into(),
                    countries: vec!["DE".into(), "FR".into()],
                    pricing: Pricing::Steps {
                        first_g: 50,
                        first: 600,
                        step_g: 10,
                        step: 100,
                    },
                    per_piece: 1_800,
                }],
            },
        }
    }

    #[test]
    fn eligible_parcels_get_a_price_and_the_rest_get_every_reason() {
        let c = small_packet();
        let ok = c.quote(&Parcel::parse(455, 200, 150, 50).unwrap(), "de");
        assert!(ok.eligible, "{:?}", ok.reasons);
        assert_eq!(ok.chargeable_weight_g, 460);
        assert_eq!(ok.price.unwrap().total, 600 + 41 * 100 + 1_800);
        let bad = c.quote(&Parcel::parse(2_500, 700, 300, 100).unwrap(), "BR");
        assert!(!bad.eligible);
        assert!(bad.price.is_none());
        let text = bad.reasons.join(" | ");
        for part in [
            "Too heavy: 2.5 kg is over this channel's limit of 2 kg.",
            "Too long",
            "Too big",
            "Does not deliver to BR.",
        ] {
            assert!(text.contains(part), "{text}");
        }
    }
}

/// A channel's limits, transit days and whether it offers door pickup: what an admin edits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_weight_g: i64,
    pub max_length_mm: i64,
    pub max_sum_sides_mm: i64,
    pub volumetric_divisor: Option<i64>,
    pub transit_min_days: i32,
    pub transit_max_days: i32,
    pub door_pickup: bool,
}

fn take_field<T>(
    errors: &mut std::collections::BTreeMap<String, String>,
    field: &str,
    parsed: Result<T, String>,
) -> Option<T> {
    parsed.map_err(|e| errors.insert(field.to_string(), e)).ok()
}

/// The limits as an admin types them (text fields), before they are checked.
#[derive(serde::Deserialize, Default, Clone, Debug)]
#[serde(default)]
pub struct LimitsInput {
    pub max_weight_g: String,
    pub max_length_mm: String,
    pub max_sum_sides_mm: String,
    pub volumetric_divisor: String,
    pub transit_min_days: String,
    pub transit_max_days: String,
    pub door_pickup: Option<String>,
}

impl LimitsInput {
    /// The form filled with the limits in force.
    pub fn of(c: &Limits) -> LimitsInput {
        LimitsInput {
            max_weight_g: c.max_weight_g.to_string(),
            max_length_mm: c.max_length_mm.to_string(),
            max_sum_sides_mm: c.max_sum_sides_mm.to_string(),
            volumetric_divisor: c
                .volumetric_divisor
                .map(|d| d.to_string())
                .unwrap_or_default(),
            transit_min_days: c.transit_min_days.to_string(),
            transit_max_days: c.transit_max_days.to_string(),
            door_pickup: c.door_pickup.then(|| "1".into()),
        }
    }

    /// The ranges an admin may set: checked here, not in the handler.
    pub fn parse(&self) -> Result<Limits, std::collections::BTreeMap<String, String>> {
        let mut e = std::collections::BTreeMap::new();
        let int = |v: &str, lo: i64, hi: i64, what: &str| {
            v.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(|| format!("Enter {what} from {lo} to {hi}."))
        };
        let w = take_field(
            &mut e,
            "max_weight_g",
            int(&self.max_weight_g, 1, 70_000, "a weight in grams"),
        );
        let l = take_field(
            &mut e,
            "max_length_mm",
            int(&self.max_length_mm, 1, 3_000, "a length in mm"),
        );
        let s = take_field(
            &mut e,
            "max_sum_sides_mm",
            int(&self.max_sum_sides_mm, 1, 9_000, "a length in mm"),
        );
        let d = if self.volumetric_divisor.trim().is_empty() {
            Some(None)
        } else {
            take_field(
                &mut e,
                "volumetric_divisor",
                int(&self.volumetric_divisor, 1_000, 10_000, "a divisor"),
            )
            .map(Some)
        };
        let tmin = take_field(
            &mut e,
            "transit_min_days",
            int(&self.transit_min_days, 1, 90, "days"),
        );
        let tmax = take_field(
            &mut e,
            "transit_max_days",
            int(&self.transit_max_days, 1, 90, "days"),
        );
        if let (Some(a), Some(b)) = (tmin, tmax) {
            if b < a {
                e.insert(
                    "transit_max_days".into(),
                    "The longest transit cannot be shorter than the shortest.".into(),
                );
            }
        }
        match (w, l, s, d, tmin, tmax) {
            (Some(w), Some(l), Some(s), Some(d), Some(a), Some(b)) if e.is_empty() => Ok(Limits {
                max_weight_g: w,
                max_length_mm: l,
                max_sum_sides_mm: s,
                volumetric_divisor: d,
                transit_min_days: a as i32,
                transit_max_days: b as i32,
                door_pickup: self.door_pickup.is_some(),
            }),
            _ => Err(e),
        }
    }
}
