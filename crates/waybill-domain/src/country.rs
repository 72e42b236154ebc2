//! Country codes as Waybill takes them: two ISO 3166-1 alpha-2 letters, upper-cased.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode(String);

impl CountryCode {
    /// Two letters (`de`, `DE`), or a country's English name as the pickers show it
    /// (`Germany`, `germany`, `DE — Germany`).
    pub fn parse(raw: &str) -> Result<CountryCode, String> {
        let t = raw.trim();
        let code = t
            .split(" — ")
            .next()
            .unwrap_or(t)
            .trim()
            .to_ascii_uppercase();
        if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Ok(CountryCode(code));
        }
        NAMES
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(t))
            .map(|(c, _)| CountryCode((*c).to_string()))
            .ok_or_else(|| {
                "Give the country as its two-letter ISO code (US, DE) or its English name.".into()
            })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// English short names of the countries Waybill ships to most, for labels and pickers.
pub const NAMES: [(&str, &str); 60] = [
    ("AE", "United Arab Emirates"),
    ("AR", "Argentina"),
    ("AT", "Austria"),
    ("AU", "Australia"),
    ("BE", "Belgium"),
    ("BG", "Bulgaria"),
    ("BR", "Brazil"),
    ("CA", "Canada"),
    ("CH", "Switzerland"),
    ("CL", "Chile"),
    ("CN", "China"),
    ("CO", "Colombia"),
    ("CY", "Cyprus"),
    ("CZ", "Czechia"),
    ("DE", "Germany"),
    ("DK", "Denmark"),
    ("EE", "Estonia"),
    ("EG", "Egypt"),
    ("ES", "Spain"),
    ("FI", "Finland"),
    ("FR", "France"),
    ("GB", "United Kingdom"),
    ("GR", "Greece"),
    ("HK", "Hong Kong"),
    ("HR", "Croatia"),
    ("HU", "Hungary"),
    ("ID", "Indonesia"),
    ("IE", "Ireland"),
    ("IL", "Israel"),
    ("IN", "India"),
    ("IS", "Iceland"),
    ("IT", "Italy"),
    ("JP", "Japan"),
    ("KR", "South Korea"),
    ("LT", "Lithuania"),
    ("LU", "Luxembourg"),
    ("LV", "Latvia"),
    ("MT", "Malta"),
    ("MX", "Mexico"),
    ("MY", "Malaysia"),
    ("NL", "Netherlands"),
    ("NO", "Norway"),
    ("NZ", "New Zealand"),
    ("PH", "Philippines"),
    ("PL", "Poland"),
    ("PT", "Portugal"),
    ("RO", "Romania"),
    ("RU", "Russia"),
    ("SA", "Saudi Arabia"),
    ("SE", "Sweden"),
    ("SG", "Singapore"),
    ("SI", "Slovenia"),
    ("SK", "Slovakia"),
    ("TH", "Thailand"),
    ("TR", "Turkey"),
    ("TW", "Taiwan"),
    ("UA", "Ukraine"),
    ("US", "United States"),
    ("VN", "Vietnam"),
    ("ZA", "South Africa"),
];

/// Members of the European Union: destinations where IOSS applies.
pub const EU: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// The English name of a country code, if Waybill knows it.
pub fn name(code: &str) -> Option<&'static str> {
    NAMES
        .binary_search_by(|(c, _)| (*c).cmp(code))
        .ok()
        .map(|i| NAMES[i].1)
}

/// The country line of an address: the name in capitals, as the UPU asks, and the code
/// (`GERMANY (DE)`); the code alone when the name is unknown.
pub fn label_name(code: &str) -> String {
    match name(code) {
        Some(n) => format!("{} ({code})", n.to_uppercase()),
        None => code.to_string(),
    }
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn names_and_codes_both_work() {
        for (raw, code) in [
            ("China", "CN"),
            ("germany", "DE"),
            ("DE — Germany", "DE"),
            (" us ", "US"),
        ] {
            assert_eq!(CountryCode::parse(raw).unwrap().as_str(), code, "{raw}");
        }
        assert!(CountryCode::parse("Atlantis").is_err());
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_letters_upper_cased() {
        assert_eq!(CountryCode::parse(" de ").unwrap().as_str(), "DE");
        for bad in ["", "D", "DEU", "D1", "ÄÖ"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_sorted_for_the_search_and_found() {
        assert!(NAMES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(name("DE"), Some("Germany"));
        assert_eq!(label_name("US"), "UNITED STATES (US)");
        assert_eq!(label_name("XK"), "XK");
        assert!(EU.iter().all(|c| name(c).is_some()));
    }
}
