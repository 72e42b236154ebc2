//! Customs declaration (CN22/CN23 fields): what is in the parcel, item by item.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Currency, Money, required_text};

pub const CONTENTS_TYPES: [&str; 6] = [
    "merchandise",
    "gift",
    "documents",
    "sample",
    "return",
    "other",
];
pub const MAX_ITEMS: usize = 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomsItem {
    pub description: String,
    pub quantity: i64,
    /// Minor units of `currency`, per unit.
    pub unit_value: i64,
    pub currency: String,
    pub weight_g: i64,
    pub hs_code: String,
    pub origin_country: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customs {
    pub contents_type: String,
    pub items: Vec<CustomsItem>,
    /// The seller's EU Import One-Stop Shop number ("IM" + 10 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ioss: Option<String>,
    /// The seller's VAT number (country prefix, then its digits and letters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_number: Option<String>,
    /// The seller's Economic Operators Registration and Identification number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eori: Option<String>,
}

/// Consignments to the EU up to this value (in euro cents) can clear under IOSS.
pub const IOSS_LIMIT_EUR_CENTS: i64 = 15_000;

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CustomsItemInput {
    pub description: String,
    pub quantity: Option<i64>,
    /// Decimal, as a person writes it ("12.50"), or a JSON number.
    pub unit_value: serde_json::Value,
    pub currency: String,
    pub weight_g: Option<i64>,
    pub hs_code: String,
    pub origin_country: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CustomsInput {
    pub contents_type: String,
    pub items: Vec<CustomsItemInput>,
    pub ioss: Option<String>,
    pub vat_number: Option<String>,
    pub eori: Option<String>,
}

/// A tax or trader number: upper-cased, spaces, dots and dashes dropped; `None` if blank.
fn tax_number(raw: &Option<String>) -> Option<String> {
    let n: String = raw
        .as_deref()
        .unwrap_or("")
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect::<String>()
        .to_ascii_uppercase();
    Some(n).filter(|n| !n.is_empty())
}

/// Checks `n` (already normalised): two letters, then `min..=max` letters or digits, or
/// for IOSS exactly "IM" and ten digits.
fn tax_number_problem(field: &str, n: &str) -> Option<String> {
    let (prefix, rest) = n.split_at(n.len().min(2));
    let ok = match field {
        "ioss" => prefix == "IM" && rest.len() == 10 && rest.bytes().all(|b| b.is_ascii_digit()),
        _ => {
            let max = if field == "eori" { 15 } else { 13 };
            prefix.len() == 2
                && prefix.bytes().all(|b| b.is_ascii_uppercase())
                && (2..=max).contains(&rest.len())
                && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        }
    };
    (!ok).then(|| {
        match field {
            "ioss" => "An IOSS number is IM followed by 10 digits, like IM2760000001.",
            "eori" => "An EORI number is a country code and up to 15 letters or digits, like DE123456789012345.",
            _ => "A VAT number is a country code and 2 to 13 letters or digits, like DE123456789.",
        }
        .to_string()
    })
}

/// Rough euro value of one unit of `currency`, in cents per 100 units: enough to tell
/// whether a consignment is near the IOSS limit, never used for money.
fn approx_eur_per_100(currency: &str) -> Option<i64> {
    Some(match currency {
        "EUR" => 100,
        "USD" => 92,
        "GBP" => 117,
        "CNY" => 13,
        "HKD" => 12,
        "CHF" => 105,
        "JPY" => 1,
        _ => return None,
    })
}

/// A warning (not an error) when an EU-bound consignment worth up to €150 carries no IOSS
/// number: without one the recipient pays the import VAT on delivery.
pub fn ioss_warning(customs: &Customs, destination: &str) -> Option<String> {
    if customs.ioss.is_some() || !super::country::EU.contains(&destination) {
        return None;
    }
    let mut cents = 0;
    for i in &customs.items {
        let rate = approx_eur_per_100(&i.currency)?;
        cents += i.unit_value * i.quantity * rate / 100;
    }
    (cents <= IOSS_LIMIT_EUR_CENTS).then(|| {
        "Worth €150 or less and going to the EU: give your IOSS number, or the recipient pays the import VAT on delivery."
            .to_string()
    })
}

impl CustomsItem {
    /// Quantity × unit value as declared, for people: `2 × US$12.50 = US$25.00`.
    pub fn value_text(&self) -> String {
        match crate::Currency::parse(&self.currency) {
            Ok(c) => format!(
                "{} × {} = {}",
                self.quantity,
                crate::Money::new(self.unit_value, c),
                crate::Money::new(self.unit_value.saturating_mul(self.quantity), c)
            ),
            Err(_) => format!("{} × {} {}", self.quantity, self.unit_value, self.currency),
        }
    }
}

impl Customs {
    /// Total declared value per currency.
    pub fn total_value(&self) -> Vec<Money> {
        let mut totals: BTreeMap<String, i64> = BTreeMap::new();
        for i in &self.items {
            *totals.entry(i.currency.clone()).or_default() += i.unit_value * i.quantity;
        }
        totals
            .into_iter()
            .filter_map(|(c, v)| Currency::parse(&c).ok().map(|c| Money::new(v, c)))
            .collect()
    }

    pub fn total_weight_g(&self) -> i64 {
        self.items.iter().map(|i| i.weight_g * i.quantity).sum()
    }
}

impl CustomsInput {
    /// `parcel_weight_g`: the items cannot weigh more than the parcel they are in.
    pub fn parse(&self, parcel_weight_g: Option<i64>) -> Result<Customs, BTreeMap<String, String>> {
        let mut errors = BTreeMap::new();
        let contents_type = self.contents_type.trim().to_ascii_lowercase();
        if !CONTENTS_TYPES.contains(&contents_type.as_str()) {
            errors.insert(
                "customs.contents_type".into(),
                format!("Choose one of: {}.", CONTENTS_TYPES.join(", ")),
            );
        }
        if self.items.is_empty() {
            errors.insert("customs.items".into(), "Declare at least one item.".into());
        }
        if self.items.len() > MAX_ITEMS {
            errors.insert(
                "customs.items".into(),
                format!("Declare at most {MAX_ITEMS} items."),
            );
        }
        let mut items = Vec::new();
        for (n, it) in self.items.iter().enumerate() {
            let mut put = |f: &str, m: String| {
                errors.insert(format!("customs.items.{n}.{f}"), m);
            };
            let description = match required_text(&it.description, "description", 60) {
                Ok(d) if super::address::is_latin(&d) => d,
                Ok(_) => {
                    put(
                        "description",
                        "Describe the item in English (Latin letters).".into(),
                    );
                    String::new()
                }
                Err(e) => {
                    put("description", e);
                    String::new()
                }
            };
            let quantity = it
                .quantity
                .filter(|q| (1..=9_999).contains(q))
                .unwrap_or_else(|| {
                    put("quantity", "Enter a quantity from 1 to 9999.".into());
                    0
                });
            let currency = Currency::parse(&it.currency).unwrap_or_else(|e| {
                put("currency", e);
                Currency::NONE
            });
            let raw_value = match &it.unit_value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            let unit_value = Money::parse_decimal(&raw_value, currency)
                .map(|m| m.minor)
                .unwrap_or_else(|e| {
                    put("unit_value", e);
                    0
                });
            let weight_g = it
                .weight_g
                .filter(|w| (1..=70_000).contains(w))
                .unwrap_or_else(|| {
                    put(
                        "weight_g",
                        "Enter the item's weight in grams (1 to 70000).".into(),
                    );
                    0
                });
            let hs: String = it
                .hs_code
                .chars()
                .filter(|c| !matches!(c, ' ' | '.'))
                .collect();
            if !(6..=10).contains(&hs.len()) || !hs.bytes().all(|b| b.is_ascii_digit()) {
                put("hs_code", "Enter the HS code: 6 to 10 digits.".into());
            }
            let origin = super::CountryCode::parse(&it.origin_country)
                .map(super::CountryCode::into_string)
                .unwrap_or_else(|e| {
                    put("origin_country", e);
                    String::new()
                });
            items.push(CustomsItem {
                description,
                quantity,
                unit_value,
                currency: currency.code().to_string(),
                weight_g,
                hs_code: hs,
                origin_country: origin,
            });
        }
        let mut numbers = [None, None, None];
        for (slot, (field, raw)) in numbers.iter_mut().zip([
            ("ioss", &self.ioss),
            ("vat_number", &self.vat_number),
            ("eori", &self.eori),
        ]) {
            if let Some(n) = tax_number(raw) {
                match tax_number_problem(field, &n) {
                    Some(e) => {
                        errors.insert(format!("customs.{field}"), e);
                    }
                    None => *slot = Some(n),
                }
            }
        }
        let [ioss, vat_number, eori] = numbers;
        let customs = Customs {
            contents_type,
            items,
            ioss,
            vat_number,
            eori,
        };
        if let Some(parcel) = parcel_weight_g {
            if errors.is_empty() && customs.total_weight_g() > parcel {
                errors.insert(
                    "customs.items".into(),
                    format!(
                        "The items weigh {} g together, more than the parcel's {parcel} g.",
                        customs.total_weight_g()
                    ),
                );
            }
        }
        if errors.is_empty() {
            Ok(customs)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> CustomsItemInput {
        CustomsItemInput {
            description: "Cotton T-shirt".into(),
            quantity: Some(2),
            unit_value: serde_json::json!("12.50"),
            currency: "USD".into(),
            weight_g: Some(180),
            hs_code: "6109.10".into(),
            origin_country: "cn".into(),
        }
    }

    #[test]
    fn a_good_declaration() {
        let c = CustomsInput {
            contents_type: "Merchandise".into(),
            items: vec![item()],
            ..Default::default()
        }
        .parse(Some(400))
        .unwrap();
        assert_eq!(c.items[0].hs_code, "610910");
        assert_eq!(c.items[0].unit_value, 1_250);
        assert_eq!(c.total_value()[0].to_string(), "$25.00");
        assert_eq!(c.total_weight_g(), 360);
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = CustomsItemInput {
            description: "".into(),
            quantity: Some(0),
            unit_value: serde_json::json!("abc"),
            currency: "dollars".into(),
            weight_g: None,
            hs_code: "12345".into(),
            origin_country: "Cathay".into(),
        };
        let e = CustomsInput {
            contents_type: "stuff".into(),
            items: vec![bad],
            ..Default::default()
        }
        .parse(None)
        .unwrap_err();
        for f in [
            "contents_type",
            "items.0.description",
            "items.0.quantity",
            "items.0.unit_value",
            "items.0.currency",
            "items.0.weight_g",
            "items.0.hs_code",
            "items.0.origin_country",
        ] {
            assert!(
                e.contains_key(&format!("customs.{f}")),
                "{f} missing: {e:?}"
            );
        }
        let heavy = CustomsInput {
            contents_type: "gift".into(),
            items: vec![item()],
            ..Default::default()
        }
        .parse(Some(300))
        .unwrap_err();
        assert!(heavy["customs.items"].contains("more than the parcel"));
    }

    #[test]
    fn tax_numbers_are_checked_and_normalised() {
        let with = |ioss: &str, vat: &str, eori: &str| CustomsInput {
            contents_type: "merchandise".into(),
            items: vec![item()],
            ioss: Some(ioss.into()),
            vat_number: Some(vat.into()),
            eori: Some(eori.into()),
        };
        let c = with("im 2760 000 001", "de123456789", "DE-1234567")
            .parse(None)
            .unwrap();
        assert_eq!(c.ioss.as_deref(), Some("IM2760000001"));
        assert_eq!(c.vat_number.as_deref(), Some("DE123456789"));
        assert_eq!(c.eori.as_deref(), Some("DE1234567"));
        let e = with("IM276000000", "123456789", "D")
            .parse(None)
            .unwrap_err();
        for f in ["customs.ioss", "customs.vat_number", "customs.eori"] {
            assert!(e.contains_key(f), "{f}: {e:?}");
        }
        assert!(with(" ", "", "").parse(None).unwrap().ioss.is_none());
    }

    #[test]
    fn ioss_is_expected_for_low_value_eu_consignments() {
        let mut c = CustomsInput {
            contents_type: "merchandise".into(),
            items: vec![item()],
            ..Default::default()
        }
        .parse(None)
        .unwrap();
        assert!(ioss_warning(&c, "DE").is_some(), "$25 to Germany");
        assert!(ioss_warning(&c, "US").is_none(), "not the EU");
        c.items[0].quantity = 100;
        assert!(ioss_warning(&c, "FR").is_none(), "$2,500 is over the limit");
        c.items[0].quantity = 1;
        c.ioss = Some("IM2760000001".into());
        assert!(ioss_warning(&c, "DE").is_none());
    }
}
