//! A sender's address in Latin script: typed by the seller, or romanised from Chinese.

use serde::{Deserialize, Serialize};

use super::{Address, is_latin, optional};
use crate::required_text;

/// The Latin-script version of a sender's address: what labels and customs forms print.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatinAddress {
    pub name: String,
    pub company: Option<String>,
    pub street1: String,
    pub street2: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    pub city: String,
    pub state: Option<String>,
}

/// The Latin version as typed; all blank means "romanise it for me".
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct LatinInput {
    pub name: String,
    pub company: Option<String>,
    pub street1: String,
    pub street2: Option<String>,
    pub district: Option<String>,
    pub city: String,
    pub state: Option<String>,
}

impl LatinInput {
    pub fn is_blank(&self) -> bool {
        [&self.name, &self.street1, &self.city]
            .iter()
            .all(|v| v.trim().is_empty())
            && [&self.company, &self.street2, &self.district, &self.state]
                .iter()
                .all(|v| optional(v).is_none())
    }

    /// Errors go under `latin.FIELD`.
    pub(super) fn parse(&self, put: &mut dyn FnMut(&str, String)) -> LatinAddress {
        const NOT_LATIN: &str = "Write the Latin version in Latin letters (A–Z).";
        let mut req =
            |field: &str, v: &str, what: &str, max: usize| match required_text(v, what, max) {
                Ok(t) if is_latin(&t) => t,
                Ok(_) => {
                    put(&format!("latin.{field}"), NOT_LATIN.into());
                    String::new()
                }
                Err(e) => {
                    put(&format!("latin.{field}"), e);
                    String::new()
                }
            };
        let name = req("name", &self.name, "name in Latin letters", 70);
        let street1 = req("street1", &self.street1, "street in Latin letters", 100);
        let city = req("city", &self.city, "city in Latin letters", 60);
        let mut opt =
            |field: &str, v: &Option<String>, what: &str, max: usize| match crate::optional_text(
                v.as_deref(),
                what,
                max,
            ) {
                Ok(Some(t)) if !is_latin(&t) => {
                    put(&format!("latin.{field}"), NOT_LATIN.into());
                    None
                }
                Ok(t) => t,
                Err(e) => {
                    put(&format!("latin.{field}"), e);
                    None
                }
            };
        LatinAddress {
            name,
            company: opt("company", &self.company, "company", 70),
            street1,
            street2: opt("street2", &self.street2, "second address line", 100),
            district: opt("district", &self.district, "district", 60),
            city,
            state: opt("state", &self.state, "province", 60),
        }
    }
}

impl From<&LatinAddress> for LatinInput {
    fn from(l: &LatinAddress) -> Self {
        LatinInput {
            name: l.name.clone(),
            company: l.company.clone(),
            street1: l.street1.clone(),
            street2: l.street2.clone(),
            district: l.district.clone(),
            city: l.city.clone(),
            state: l.state.clone(),
        }
    }
}

impl Address {
    /// Whether every written field is already in Latin script.
    pub fn is_latin(&self) -> bool {
        [&self.name, &self.street1, &self.city]
            .iter()
            .all(|v| is_latin(v))
            && [&self.company, &self.street2, &self.district, &self.state]
                .iter()
                .all(|v| v.as_deref().is_none_or(is_latin))
    }

    /// The address romanised field by field (pinyin for Chinese).
    pub fn romanised(&self) -> LatinAddress {
        use crate::romanise::{Kind, romanise};
        let opt = |v: &Option<String>, kind| {
            v.as_deref()
                .map(|v| romanise(v, kind))
                .filter(|v| !v.is_empty())
        };
        LatinAddress {
            name: romanise(&self.name, Kind::Name),
            company: opt(&self.company, Kind::Company),
            street1: romanise(&self.street1, Kind::Place),
            street2: opt(&self.street2, Kind::Place),
            district: opt(&self.district, Kind::Place),
            city: romanise(&self.city, Kind::City),
            state: opt(&self.state, Kind::Province),
        }
    }

    /// The address as labels and customs forms print it: its Latin version where it has
    /// one, romanised now where it needs one (shipments booked before Latin versions).
    pub fn in_latin(&self) -> Address {
        let latin = match &self.latin {
            Some(l) => l.clone(),
            None if self.is_latin() => return self.clone(),
            None => self.romanised(),
        };
        Address {
            name: latin.name,
            company: latin.company,
            street1: latin.street1,
            street2: latin.street2,
            district: latin.district,
            city: latin.city,
            state: latin.state,
            latin: None,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{AddressInput, Party};
    use super::*;

    fn chinese() -> AddressInput {
        AddressInput {
            name: "王小明".into(),
            street1: "科技园南路 18号".into(),
            city: "深圳".into(),
            state: Some("广东省".into()),
            postal_code: "518057".into(),
            country: "CN".into(),
            phone: "13800138000".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_chinese_sender_gets_a_latin_version() {
        let a = chinese().parse(Party::Sender, "").unwrap();
        let l = a.latin.clone().unwrap();
        assert_eq!(l.name, "Wang Xiaoming");
        assert_eq!(l.city, "Shenzhen");
        assert_eq!(l.state.as_deref(), Some("Guangdong"));
        assert_eq!(l.street1, "Keji Yuan Nan Lu 18 Hao");
        let printed = a.in_latin();
        assert!(printed.lines().iter().all(|l| l.is_ascii()), "{printed:?}");
    }

    #[test]
    fn a_district_is_romanised_and_printed_after_the_street() {
        let mut input = chinese();
        input.district = Some("南山区".into());
        let a = input.parse(Party::Sender, "").unwrap();
        let l = a.latin.clone().unwrap();
        assert_eq!(l.district.as_deref(), Some("Nanshan Qu"));
        assert_eq!(
            a.in_latin().lines()[1..4],
            ["Keji Yuan Nan Lu 18 Hao", "Nanshan Qu", "518057 Shenzhen"]
        );
    }

    #[test]
    fn a_typed_latin_version_is_kept_and_checked() {
        let mut a = chinese();
        a.latin = Some(LatinInput {
            name: "Xiaoming Wang".into(),
            street1: "18 Keyuan South Rd".into(),
            city: "Shenzhen".into(),
            ..Default::default()
        });
        let parsed = a.parse(Party::Sender, "").unwrap();
        assert_eq!(parsed.latin.unwrap().name, "Xiaoming Wang");
        a.latin = Some(LatinInput {
            name: "王".into(),
            city: "Shenzhen".into(),
            ..Default::default()
        });
        let e = a.parse(Party::Sender, "").unwrap_err();
        assert!(e["latin.name"].contains("Latin letters"), "{e:?}");
        assert!(e.contains_key("latin.street1"), "{e:?}");
    }

    #[test]
    fn a_latin_address_needs_no_latin_version() {
        let a = AddressInput {
            name: "Anna Müller".into(),
            street1: "Friedrichstraße 12".into(),
            city: "Berlin".into(),
            postal_code: "10117".into(),
            country: "DE".into(),
            phone: "+49 30 1234567".into(),
            ..Default::default()
        };
        assert!(a.parse(Party::Sender, "").unwrap().latin.is_none());
    }
}
