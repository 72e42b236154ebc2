//! Postal addresses. Recipients of international mail are written in Latin script, as the
//! UPU requires; senders may use any script (their labels embed a CJK font). Postal codes
//! are checked against each country's format where Waybill knows it. A sender also has a
//! Latin version (typed by the seller, or romanised) for labels and customs forms, and
//! `lines` writes an address in its country's own order. A sender may name a district
//! (区 / 县), the level between city and street that Chinese addresses have.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{EmailAddress, Phone, required_text};

mod latin;

pub use latin::{LatinAddress, LatinInput};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub name: String,
    pub company: Option<String>,
    pub street1: String,
    pub street2: Option<String>,
    /// Senders only: the district (区 / 县) between the city and the street.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    pub city: String,
    pub state: Option<String>,
    pub postal_code: String,
    pub country: String,
    pub phone: String,
    pub email: Option<String>,
    /// A sender's address in Latin script, when its own is not (or the seller typed one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latin: Option<LatinAddress>,
}

/// Fields as they arrive from a form, the API or a CSV row.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct AddressInput {
    pub name: String,
    pub company: Option<String>,
    pub street1: String,
    pub street2: Option<String>,
    /// Senders only (a recipient's district belongs in its street lines).
    pub district: Option<String>,
    pub city: String,
    pub state: Option<String>,
    pub postal_code: String,
    pub country: String,
    pub phone: String,
    pub email: Option<String>,
    /// Senders only: the Latin version; romanised when left out of a non-Latin address.
    pub latin: Option<LatinInput>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Sender,
    Recipient,
}

/// Letters, digits, punctuation and accents of the Latin script (Basic Latin, Latin-1,
/// Latin Extended-A/B).
pub fn is_latin(s: &str) -> bool {
    s.chars().all(|c| {
        let u = c as u32;
        (0x20..=0x7E).contains(&u) || (0xA0..=0x24F).contains(&u)
    })
}

fn optional(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Checks a postal code for `country`; returns it normalised (upper case, canonical space).
pub fn postal_code(country: &str, raw: &str) -> Result<String, String> {
    let compact: String = raw
        .trim()
        .to_ascii_uppercase()
        .chars()
        .filter(|c| *c != ' ')
        .collect();
    let fits = |patterns: &[&str]| {
        patterns.iter().any(|p| {
            p.len() == compact.len()
                && p.bytes().zip(compact.bytes()).all(|(p, c)| match p {
                    b'9' => c.is_ascii_digit(),
                    b'A' => c.is_ascii_uppercase(),
                    b'?' => c.is_ascii_alphanumeric(),
                    other => other == c,
                })
        })
    };
    let (ok, example, spaced_at) = match country {
        "CN" => (fits(&["999999"]), "100000", None),
        "RU" => (fits(&["999999"]), "101000", None),
        "US" => (
            fits(&["99999", "99999-9999", "999999999"]),
            "94105 or 94105-1234",
            None,
        ),
        "DE" => (fits(&["99999"]), "10115", None),
        "FR" => (fits(&["99999"]), "75008", None),
        "ES" => (
            fits(&["99999"])
                && compact[..2]
                    .parse::<u8>()
                    .is_ok_and(|p| (1..=52).contains(&p)),
            "28001",
            None,
        ),
        "BR" => (fits(&["99999999", "99999-999"]), "01310-100", None),
        "AU" => (fits(&["9999"]), "2000", None),
        "GB" => (
            fits(&["A99AA", "A999AA", "AA99AA", "AA999AA", "A9A9AA", "AA9A9AA"]),
            "SW1A 1AA",
            Some(3),
        ),
        "CA" => (
            fits(&["A9A9A9"]) && !compact.contains(['D', 'F', 'I', 'O', 'Q', 'U']),
            "K1A 0B1",
            Some(3),
        ),
        _ => {
            let ok = (2..=10).contains(&compact.len())
                && compact
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-');
            (ok, "", None)
        }
    };
    if compact.is_empty() {
        return Err("Enter the postal code.".into());
    }
    if !ok {
        return Err(if example.is_empty() {
            "Enter a valid postal code.".into()
        } else {
            format!("This is not a valid {country} postal code (for example {example}).")
        });
    }
    Ok(match (spaced_at, country) {
        (Some(n), _) => format!(
            "{} {}",
            &compact[..compact.len() - n],
            &compact[compact.len() - n..]
        ),
        (None, "BR") if compact.len() == 8 => format!("{}-{}", &compact[..5], &compact[5..]),
        _ => compact,
    })
}

impl AddressInput {
    /// Every problem, keyed by field name with `prefix` in front (`recipient.city`).
    pub fn parse(&self, party: Party, prefix: &str) -> Result<Address, BTreeMap<String, String>> {
        let mut errors = BTreeMap::new();
        let mut put = |field: &str, msg: String| {
            errors.insert(format!("{prefix}{field}"), msg);
        };
        let latin = |field: &str, v: &str, put: &mut dyn FnMut(&str, String)| {
            if party == Party::Recipient && !is_latin(v) {
                put(
                    field,
                    "Write the recipient's address in Latin letters (A–Z), as the UPU requires for international mail."
                        .into(),
                );
            }
        };
        let text =
            |field: &str, v: &str, what: &str, max: usize, put: &mut dyn FnMut(&str, String)| {
                match required_text(v, what, max) {
                    Ok(t) => {
                        latin(field, &t, put);
                        t
                    }
                    Err(e) => {
                        put(field, e);
                        String::new()
                    }
                }
            };
        let name = text("name", &self.name, "name", 70, &mut put);
        let street1 = text("street1", &self.street1, "street address", 100, &mut put);
        let city = text("city", &self.city, "city", 60, &mut put);
        let opt = |field: &str,
                   v: &Option<String>,
                   what: &str,
                   max: usize,
                   put: &mut dyn FnMut(&str, String)| {
            match super::optional_text(v.as_deref(), what, max) {
                Ok(t) => {
                    if let Some(t) = &t {
                        latin(field, t, put);
                    }
                    t
                }
                Err(e) => {
                    put(field, e);
                    None
                }
            }
        };
        let company = opt("company", &self.company, "company", 70, &mut put);
        let street2 = opt(
            "street2",
            &self.street2,
            "second address line",
            100,
            &mut put,
        );
        let state = opt("state", &self.state, "state or province", 60, &mut put);
        // Never read for a recipient: unknown there, as it always was (shipments store no
        // recipient district).
        let district = match party {
            Party::Sender => opt("district", &self.district, "district", 60, &mut put),
            Party::Recipient => None,
        };
        let country =
            match super::CountryCode::parse(&self.country).map(super::CountryCode::into_string) {
                Ok(c) => c,
                Err(e) => {
                    put("country", e);
                    String::new()
                }
            };
        let postal = if country.is_empty() {
            String::new()
        } else {
            postal_code(&country, &self.postal_code).unwrap_or_else(|e| {
                put("postal_code", e);
                String::new()
            })
        };
        let phone = Phone::parse(&self.phone)
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|e| {
                put("phone", e);
                String::new()
            });
        let email = match optional(&self.email) {
            Some(e) => match EmailAddress::parse(e) {
                Ok(e) => Some(e.as_str().to_string()),
                Err(msg) => {
                    put("email", msg);
                    None
                }
            },
            None => None,
        };
        let typed = match (party, &self.latin) {
            (Party::Sender, Some(l)) if !l.is_blank() => Some(l.parse(&mut put)),
            _ => None,
        };
        let mut address = Address {
            name,
            company,
            street1,
            street2,
            district,
            city,
            state,
            postal_code: postal,
            country,
            phone,
            email,
            latin: typed,
        };
        if party == Party::Sender && address.latin.is_none() && !address.is_latin() {
            let l = address.romanised();
            let clean = errors.is_empty();
            for (field, v) in [
                ("name", &l.name),
                ("street1", &l.street1),
                ("city", &l.city),
            ] {
                if v.is_empty() && clean {
                    errors.insert(
                        format!("{prefix}latin.{field}"),
                        "Waybill could not write this in Latin letters: type the Latin version."
                            .into(),
                    );
                }
            }
            address.latin = Some(l);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(address)
    }
}

impl Address {
    /// The city as read abroad: its Latin version where the address has one (深圳 → Shenzhen),
    /// else the city as written.
    pub fn latin_city(&self) -> &str {
        self.latin
            .as_ref()
            .map(|l| l.city.as_str())
            .filter(|c| !c.trim().is_empty())
            .unwrap_or(&self.city)
    }

    /// The district and the street on one line, in the address's own order:
    /// `南山区 科技园南路 18号`, or `Friedrichstraße 12, Mitte`.
    pub fn street_line(&self) -> String {
        match &self.district {
            Some(d) if largest_first(&self.country) => format!("{d} {}", self.street1),
            Some(d) => format!("{}, {d}", self.street1),
            None => self.street1.clone(),
        }
    }

    /// The lines of the address in its country's own order, ending with the country by
    /// name and code. No phone: the caller adds it where it is wanted.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![self.name.clone()];
        out.extend(self.company.clone());
        out.push(self.street1.clone());
        out.extend(self.street2.clone());
        // In English a district follows the street lines (`Nanshan District`).
        out.extend(self.district.clone());
        let pc = &self.postal_code;
        let state = self
            .state
            .as_deref()
            .filter(|s| !s.eq_ignore_ascii_case(&self.city));
        let join = |parts: &[&str], sep: &str| {
            parts
                .iter()
                .filter(|p| !p.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(sep)
        };
        match postal_order(&self.country) {
            PostalOrder::AfterState => {
                let tail = join(&[state.unwrap_or(""), pc], " ");
                let sep = if self.country == "AU" { " " } else { ", " };
                out.push(join(&[&self.city, &tail], sep));
            }
            PostalOrder::OwnLine => {
                out.push(self.city.clone());
                out.extend(state.map(String::from));
                out.push(pc.clone());
            }
            PostalOrder::BeforeCity => {
                out.push(join(&[pc, &self.city], " "));
                out.extend(state.map(String::from));
            }
        }
        out.retain(|l| !l.trim().is_empty());
        out.push(super::country::label_name(&self.country));
        out
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostalOrder {
    /// `10115 Berlin`
    BeforeCity,
    /// `Mountain View, CA 94043`
    AfterState,
    /// The postcode on a line of its own, under the town (`SW1A 1AA`).
    OwnLine,
}

/// Whether addresses of `country` are written from the largest place down — province, city,
/// district, street — as in China (Hong Kong, Macao and Taiwan alike): the address form asks
/// for a sender address in that order. `country` is an ISO code.
pub fn largest_first(country: &str) -> bool {
    LARGEST_FIRST_COUNTRIES.contains(&country)
}

pub const LARGEST_FIRST_COUNTRIES: [&str; 4] = ["CN", "HK", "MO", "TW"];

/// Where the postal code goes in an address of `country`, as its post writes it.
pub fn postal_order(country: &str) -> PostalOrder {
    match country {
        "US" | "CA" | "AU" => PostalOrder::AfterState,
        "GB" | "IE" | "JP" | "KR" | "RU" | "UA" | "BR" | "IN" | "SG" | "HK" => PostalOrder::OwnLine,
        _ => PostalOrder::BeforeCity,
    }
}

impl From<&Address> for AddressInput {
    fn from(a: &Address) -> Self {
        AddressInput {
            name: a.name.clone(),
            company: a.company.clone(),
            street1: a.street1.clone(),
            street2: a.street2.clone(),
            district: a.district.clone(),
            city: a.city.clone(),
            state: a.state.clone(),
            postal_code: a.postal_code.clone(),
            country: a.country.clone(),
            phone: a.phone.clone(),
            email: a.email.clone(),
            latin: a.latin.as_ref().map(LatinInput::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postal_codes_of_the_ten_countries() {
        let ok = [
            ("CN", "518000", "518000"),
            ("US", "94105", "94105"),
            ("US", "94105-1234", "94105-1234"),
            ("GB", "sw1a1aa", "SW1A 1AA"),
            ("GB", "M1 1AE", "M1 1AE"),
            ("DE", "10115", "10115"),
            ("FR", "75008", "75008"),
            ("ES", "28001", "28001"),
            ("RU", "101000", "101000"),
            ("BR", "01310100", "01310-100"),
            ("AU", "2000", "2000"),
            ("CA", "k1a0b1", "K1A 0B1"),
            ("JP", "100-0001", "100-0001"),
        ];
        for (c, raw, want) in ok {
            assert_eq!(postal_code(c, raw).as_deref(), Ok(want), "{c} {raw}");
        }
        let bad = [
            ("CN", "51800"),
            ("US", "9410"),
            ("GB", "12345"),
            ("DE", "1011"),
            ("FR", "7500A"),
            ("ES", "99001"),
            ("RU", "10100"),
            ("BR", "0131-0100"),
            ("AU", "20000"),
            ("CA", "D1A 0B1"),
            ("DE", ""),
        ];
        for (c, raw) in bad {
            assert!(postal_code(c, raw).is_err(), "{c} {raw} accepted");
        }
        // Each country's own example (a French seller was shown Berlin's).
        assert!(postal_code("FR", "7500A").unwrap_err().contains("75008"));
        assert!(postal_code("DE", "1011").unwrap_err().contains("10115"));
    }

    fn input() -> AddressInput {
        AddressInput {
            name: "Anna Müller".into(),
            street1: "Friedrichstraße 12".into(),
            city: "Berlin".into(),
            postal_code: "10117".into(),
            country: "de".into(),
            phone: "+49 30 1234567".into(),
            ..Default::default()
        }
    }

    #[test]
    fn recipients_must_be_latin_and_senders_need_not() {
        let a = input().parse(Party::Recipient, "recipient.").unwrap();
        assert_eq!(a.country, "DE");
        let mut chinese = input();
        chinese.name = "王小明".into();
        let e = chinese.parse(Party::Recipient, "recipient.").unwrap_err();
        assert!(e["recipient.name"].contains("Latin letters"));
        assert!(chinese.parse(Party::Sender, "").is_ok());
    }

    #[test]
    fn every_missing_field_is_named() {
        let e = AddressInput::default()
            .parse(Party::Recipient, "r.")
            .unwrap_err();
        for f in ["r.name", "r.street1", "r.city", "r.country", "r.phone"] {
            assert!(e.contains_key(f), "{f} in {e:?}");
        }
    }

    #[test]
    fn invisible_and_control_characters_are_field_errors() {
        for party in [Party::Sender, Party::Recipient] {
            let mut a = input();
            a.name = "\u{200B}\u{200B}".into();
            a.street1 = "\u{202E}\u{FEFF}".into();
            a.city = "\u{2060} \u{AD}".into();
            a.company = Some("A\u{0}B".into());
            a.state = Some("Berlin\u{202E}".into());
            let e = a.parse(party, "").unwrap_err();
            assert_eq!(e["name"], "Enter the name.");
            assert!(e["street1"].contains("U+202E"), "{e:?}");
            assert_eq!(e["city"], "Enter the city.");
            assert!(e["company"].contains("control character (U+0000)"), "{e:?}");
            assert!(e["state"].contains("text-direction"), "{e:?}");
        }
        // An optional field of nothing visible is simply left out.
        let mut a = input();
        a.street2 = Some("\u{200B}".into());
        assert_eq!(a.parse(Party::Sender, "").unwrap().street2, None);
    }

    fn recipient(country: &str, city: &str, state: Option<&str>, pc: &str) -> Address {
        Address {
            name: "A Person".into(),
            street1: "1 Street".into(),
            city: city.into(),
            state: state.map(String::from),
            postal_code: pc.into(),
            country: country.into(),
            ..Default::default()
        }
    }

    #[test]
    fn each_country_writes_its_own_order() {
        let de = recipient("DE", "Berlin", None, "10115").lines();
        assert_eq!(de[2..], ["10115 Berlin", "GERMANY (DE)"]);
        let us = recipient("US", "Mountain View", Some("CA"), "94043").lines();
        assert_eq!(us[2..], ["Mountain View, CA 94043", "UNITED STATES (US)"]);
        let au = recipient("AU", "Sydney", Some("NSW"), "2000").lines();
        assert_eq!(au[2], "Sydney NSW 2000");
        let gb = recipient("GB", "London", None, "SW1A 1AA").lines();
        assert_eq!(gb[2..], ["London", "SW1A 1AA", "UNITED KINGDOM (GB)"]);
        let it = recipient("IT", "Roma", Some("RM"), "00144").lines();
        assert_eq!(it[2..], ["00144 Roma", "RM", "ITALY (IT)"]);
        assert_eq!(postal_order("FR"), PostalOrder::BeforeCity);
        assert_eq!(postal_order("CN"), PostalOrder::BeforeCity);
    }

    #[test]
    fn a_district_is_kept_for_senders_and_printed_after_the_street() {
        let mut a = input();
        a.district = Some(" Mitte ".into());
        let sender = a.parse(Party::Sender, "").unwrap();
        assert_eq!(sender.district.as_deref(), Some("Mitte"));
        assert_eq!(
            sender.lines()[1..],
            [
                "Friedrichstraße 12",
                "Mitte",
                "10117 Berlin",
                "GERMANY (DE)"
            ]
        );
        assert_eq!(a.parse(Party::Recipient, "").unwrap().district, None);
        a.district = Some("x".repeat(61));
        assert!(
            a.parse(Party::Sender, "")
                .unwrap_err()
                .contains_key("district")
        );
        assert_eq!(sender.street_line(), "Friedrichstraße 12, Mitte");
        assert!(largest_first("CN") && largest_first("TW"));
        assert!(!largest_first("DE") && !largest_first("US"));
    }
}
