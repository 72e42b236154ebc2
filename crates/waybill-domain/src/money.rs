//! Money: integer minor units and an ISO 4217 code. No floats anywhere money moves.

/// An ISO 4217 currency code with its number of decimal places.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// ISO 4217 List One, the codes of actual currencies in use (as amended to 2025), with the
/// decimal places of each one's minor unit. Left out on purpose: codes that name no currency
/// (XXX), the testing code (XTS), precious metals (XAU XAG XPT XPD), the SDR and other units of
/// account (XDR XSU XUA, the bond-market units XBA–XBD), the fund codes (BOV CHE CHW CLF COU
/// MXV USN UYI UYW) and withdrawn currencies (ANG HRK SLL ZWL CUC…).
#[rustfmt::skip]
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("AOA", 2), ("ARS", 2), ("AUD", 2),
    ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2), ("BGN", 2), ("BHD", 3),
    ("BIF", 0), ("BMD", 2), ("BND", 2), ("BOB", 2), ("BRL", 2), ("BSD", 2), ("BTN", 2),
    ("BWP", 2), ("BYN", 2), ("BZD", 2), ("CAD", 2), ("CDF", 2), ("CHF", 2), ("CLP", 0),
    ("CNY", 2), ("COP", 2), ("CRC", 2), ("CUP", 2), ("CVE", 2), ("CZK", 2), ("DJF", 0),
    ("DKK", 2), ("DOP", 2), ("DZD", 2), ("EGP", 2), ("ERN", 2), ("ETB", 2), ("EUR", 2),
    ("FJD", 2), ("FKP", 2), ("GBP", 2), ("GEL", 2), ("GHS", 2), ("GIP", 2), ("GMD", 2),
    ("GNF", 0), ("GTQ", 2), ("GYD", 2), ("HKD", 2), ("HNL", 2), ("HTG", 2), ("HUF", 2),
    ("IDR", 2), ("ILS", 2), ("INR", 2), ("IQD", 3), ("IRR", 2), ("ISK", 0), ("JMD", 2),
    ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2), ("KHR", 2), ("KMF", 0), ("KPW", 2),
    ("KRW", 0), ("KWD", 3), ("KYD", 2), ("KZT", 2), ("LAK", 2), ("LBP", 2), ("LKR", 2),
    ("LRD", 2), ("LSL", 2), ("LYD", 3), ("MAD", 2), ("MDL", 2), ("MGA", 2), ("MKD", 2),
    ("MMK", 2), ("MNT", 2), ("MOP", 2), ("MRU", 2), ("MUR", 2), ("MVR", 2), ("MWK", 2),
    ("MXN", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2), ("NOK", 2),
    ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2), ("PGK", 2), ("PHP", 2),
    ("PKR", 2), ("PLN", 2), ("PYG", 0), ("QAR", 2), ("RON", 2), ("RSD", 2), ("RUB", 2),
    ("RWF", 0), ("SAR", 2), ("SBD", 2), ("SCR", 2), ("SDG", 2), ("SEK", 2), ("SGD", 2),
    ("SHP", 2), ("SLE", 2), ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2), ("SVC", 2),
    ("SYP", 2), ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3), ("TOP", 2),
    ("TRY", 2), ("TTD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2), ("UGX", 0), ("USD", 2),
    ("UYU", 2), ("UZS", 2), ("VED", 2), ("VES", 2), ("VND", 0), ("VUV", 0), ("WST", 2),
    ("XAF", 0), ("XCD", 2), ("XCG", 2), ("XOF", 0), ("XPF", 0), ("YER", 2), ("ZAR", 2),
    ("ZMW", 2), ("ZWG", 2),
];

impl Currency {
    /// ISO 4217's code for "no currency": a placeholder while a form is being corrected.
    /// `parse` never returns it.
    pub const NONE: Currency = Currency {
        code: *b"XXX",
        exponent: 2,
    };

    /// A currency of ISO 4217 List One; case and surrounding spaces do not matter.
    pub fn parse(code: &str) -> Result<Currency, String> {
        let c = code.trim().to_ascii_uppercase();
        let b = c.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_uppercase) {
            return Err(format!("`{code}` is not an ISO 4217 currency code"));
        }
        match ISO_4217.binary_search_by(|(k, _)| k.as_bytes().cmp(b)) {
            Ok(i) => Ok(Currency {
                code: [b[0], b[1], b[2]],
                exponent: ISO_4217[i].1,
            }),
            Err(_) => Err(format!(
                "`{c}` is not the code of a currency in use: give an ISO 4217 currency such as USD, EUR or CNY."
            )),
        }
    }

    pub fn code(&self) -> &str {
        // Only ASCII upper-case letters get in through `parse`.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Decimal places of the minor unit (ISO 4217).
    pub fn exponent(&self) -> u32 {
        u32::from(self.exponent)
    }

    fn symbol(&self) -> Option<&'static str> {
        match self.code() {
            "CNY" => Some("¥"),
            "USD" => Some("$"),
            "EUR" => Some("€"),
            "GBP" => Some("£"),
            "HKD" => Some("HK$"),
            "JPY" => Some("JP¥"),
            _ => None,
        }
    }
}

/// An amount of money in minor units (fen for CNY). May be negative (a debit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

/// Largest amount a single form or request may name: 10 million major units.
const MAX_MAJOR: i64 = 10_000_000;

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Parses a decimal amount a person typed ("100", "100.5", "1,234.56") into minor units.
    /// Refuses more decimals than the currency has, signs, and absurd sizes.
    pub fn parse_decimal(raw: &str, currency: Currency) -> Result<Money, String> {
        let s = raw.trim().trim_start_matches(['¥', '$', '€', '£']);
        if s.trim().is_empty() {
            return Err("Enter an amount.".into());
        }
        let exp = currency.exponent() as usize;
        let Some((whole, frac)) = super::decimal::split(s) else {
            return Err(format!(
                "Enter an amount like 100.00 ({}).",
                currency.code()
            ));
        };
        if frac.len() > exp {
            return Err(format!(
                "{} amounts have at most {exp} decimal place{}.",
                currency.code(),
                if exp == 1 { "" } else { "s" }
            ));
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole
                .parse()
                .ok()
                .filter(|w| *w <= MAX_MAJOR)
                .ok_or_else(|| "That amount is too large.".to_string())?
        };
        let scale = 10i64.pow(exp as u32);
        let frac_minor: i64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<exp$}")
                .parse()
                .map_err(|_| "Enter a valid amount.".to_string())?
        };
        Ok(Money::new(whole * scale + frac_minor, currency))
    }

    /// Plain decimal, no symbol: "1234.56", "-0.50". For CSV and JSON.
    pub fn decimal(&self) -> String {
        let exp = self.currency.exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exp == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10u64.pow(exp);
        format!(
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = exp as usize
        )
    }
}

impl std::fmt::Display for Money {
    /// "¥1,234.56", "−¥0.50", "CHF 12.00".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plain = Money::new(self.minor.abs(), self.currency).decimal();
        let (int, frac) = plain.split_once('.').unwrap_or((&plain, ""));
        let mut grouped = String::new();
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if !frac.is_empty() {
            grouped.push('.');
            grouped.push_str(frac);
        }
        let sign = if self.minor < 0 { "−" } else { "" };
        match self.currency.symbol() {
            Some(sym) => write!(f, "{sign}{sym}{grouped}"),
            None => write!(f, "{sign}{} {grouped}", self.currency.code()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cny() -> Currency {
        Currency::parse("CNY").unwrap()
    }

    #[test]
    fn parses_what_people_type() {
        let m = |s| Money::parse_decimal(s, cny()).map(|m| m.minor);
        assert_eq!(m("100"), Ok(10_000));
        assert_eq!(m("100.5"), Ok(10_050));
        assert_eq!(m("1,234.56"), Ok(123_456));
        assert_eq!(m("¥0.01"), Ok(1));
        assert_eq!(m(".5"), Ok(50));
        for bad in ["", "abc", "1.234", "-5", "1e3", "12.3.4", "99999999999"] {
            assert!(m(bad).is_err(), "{bad}");
        }
        let jpy = Currency::parse("jpy").unwrap();
        assert_eq!(Money::parse_decimal("1500", jpy).unwrap().minor, 1500);
        assert!(Money::parse_decimal("1500.5", jpy).is_err());
    }

    #[test]
    fn displays_with_symbol_grouping_and_sign() {
        assert_eq!(Money::new(123_456, cny()).to_string(), "¥1,234.56");
        assert_eq!(Money::new(-50, cny()).to_string(), "−¥0.50");
        assert_eq!(Money::new(100_000_000, cny()).to_string(), "¥1,000,000.00");
        let chf = Currency::parse("CHF").unwrap();
        assert_eq!(Money::new(1200, chf).to_string(), "CHF 12.00");
        assert_eq!(Money::new(-5, cny()).decimal(), "-0.05");
        assert!(Currency::parse("yuan").is_err());
    }

    #[test]
    fn only_currencies_in_use_are_currencies() {
        assert!(
            ISO_4217.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no repeats"
        );
        assert!(ISO_4217.iter().all(|(c, e)| c.len() == 3 && *e <= 3));
        for (code, exp) in [
            ("CNY", 2),
            ("usd", 2),
            (" EUR ", 2),
            ("JPY", 0),
            ("KWD", 3),
            ("XOF", 0),
            ("XCD", 2),
        ] {
            assert_eq!(
                Currency::parse(code).map(|c| c.exponent()),
                Ok(exp),
                "{code}"
            );
        }
        for not_money in [
            "XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "XDR", "XBA", "XBB", "XBC", "XBD", "XSU",
            "XUA", "BOV", "CLF", "USN", "ZZZ", "ABC", "HRK",
        ] {
            let e = Currency::parse(not_money).unwrap_err();
            assert!(e.contains("not the code of a currency"), "{not_money}: {e}");
        }
    }

    proptest! {
        #[test]
        fn decimal_round_trips(minor in 0i64..1_000_000_000) {
            let m = Money::new(minor, cny());
            prop_assert_eq!(Money::parse_decimal(&m.decimal(), cny()).unwrap(), m);
            prop_assert_eq!(Money::parse_decimal(&m.to_string(), cny()).unwrap(), m);
        }
    }
}
