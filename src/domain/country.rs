//! Country codes as Waybill takes them: two ISO 3166-1 alpha-2 letters, upper-cased.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(raw: &str) -> Result<CountryCode, String> {
        let c = raw.trim().to_ascii_uppercase();
        if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(CountryCode(c))
        } else {
            Err("Give the country as its two-letter ISO code, like US or DE.".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
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
}
