//! Money: integer minor units and an ISO 4217 code. No floats anywhere money moves.

/// An ISO 4217 currency code with its number of decimal places.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency {
    code: [u8; 3],
}

impl Currency {
    /// ISO 4217's code for "no currency": a placeholder while a form is being corrected.
    pub const NONE: Currency = Currency { code: *b"XXX" };

    pub fn parse(code: &str) -> Result<Currency, String> {
        let c = code.trim().to_ascii_uppercase();
        let b = c.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_uppercase) {
            return Err(format!("`{code}` is not an ISO 4217 currency code"));
        }
        Ok(Currency {
            code: [b[0], b[1], b[2]],
        })
    }

    pub fn code(&self) -> &str {
        // Only ASCII upper-case letters get in through `parse`.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Decimal places of the minor unit (ISO 4217).
    pub fn exponent(&self) -> u32 {
        match self.code() {
            "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" => 0,
            "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "IQD" | "LYD" => 3,
            _ => 2,
        }
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

    proptest! {
        #[test]
        fn decimal_round_trips(minor in 0i64..1_000_000_000) {
            let m = Money::new(minor, cny());
            prop_assert_eq!(Money::parse_decimal(&m.decimal(), cny()).unwrap(), m);
            prop_assert_eq!(Money::parse_decimal(&m.to_string(), cny()).unwrap(), m);
        }
    }
}
