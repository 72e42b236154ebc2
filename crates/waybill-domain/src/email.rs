/// An e-mail address, normalised (trimmed, lower-case) so uniqueness is case-insensitive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err("Enter an e-mail address.".into());
        }
        let invalid = || Err("Enter a valid e-mail address, like name@example.com.".into());
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return invalid();
        }
        let Some((local, domain)) = s.split_once('@') else {
            return invalid();
        };
        if local.is_empty()
            || local.len() > 64
            || domain.contains('@')
            || local.contains(['<', '>', ',', ';', '"', '(', ')', '[', ']', '\\'])
            || !domain.contains('.')
            || domain.starts_with(['.', '-'])
            || domain.ends_with(['.', '-'])
            || domain.contains("..")
            || !domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        {
            return invalid();
        }
        Ok(EmailAddress(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_case_and_space() {
        let e = EmailAddress::parse("  Li.Wei@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "li.wei@example.com");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "no-at",
            "@example.com",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@.com",
            "a@b..com",
            "<a>@b.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad} accepted");
        }
    }

    /// Addresses as people write them: mixed case, dots and dashes, spaces around.
    fn valid_address() -> impl Strategy<Value = String> {
        (
            "[ ]{0,2}",
            "[A-Za-z0-9][A-Za-z0-9._+-]{0,20}",
            "[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?",
            "(com|CN|de|co\\.uk|example)",
            "[ ]{0,2}",
        )
            .prop_map(|(pre, local, host, tld, post)| format!("{pre}{local}@{host}.{tld}{post}"))
    }

    proptest! {
        #[test]
        fn valid_addresses_parse_normalised_and_idempotent(s in valid_address()) {
            let e = EmailAddress::parse(&s);
            prop_assert!(e.is_ok(), "{s:?} refused: {e:?}");
            let e = e.unwrap();
            prop_assert_eq!(e.as_str(), s.trim().to_lowercase());
            prop_assert_eq!(EmailAddress::parse(e.as_str()).unwrap(), e.clone());
        }

        #[test]
        fn anything_accepted_is_idempotent(s in "\\PC{0,40}") {
            // Most random strings are refused; what is accepted must round-trip.
            if let Ok(e) = EmailAddress::parse(&s) {
                prop_assert_eq!(EmailAddress::parse(e.as_str()).unwrap(), e.clone());
            }
        }

        #[test]
        fn an_address_without_its_at_sign_is_refused(s in valid_address()) {
            prop_assert!(EmailAddress::parse(&s.replace('@', "")).is_err());
        }
    }
}
