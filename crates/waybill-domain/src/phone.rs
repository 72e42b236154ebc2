/// A phone number as a courier would dial it: digits with optional `+`, spaces, dashes, brackets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("Enter a phone number.".into());
        }
        let digits = s.chars().filter(char::is_ascii_digit).count();
        let allowed = s.chars().enumerate().all(|(i, c)| {
            c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.') || (c == '+' && i == 0)
        });
        if !allowed || !(6..=20).contains(&digits) {
            return Err("Enter a phone number of 6 to 20 digits, like +86 138 0013 8000.".into());
        }
        Ok(Phone(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_forms() {
        for ok in ["+86 138 0013 8000", "(020) 8888-1234", "13800138000"] {
            assert!(Phone::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "12345",
            "call me",
            "86+138001380",
            "1".repeat(21).as_str(),
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }
}
