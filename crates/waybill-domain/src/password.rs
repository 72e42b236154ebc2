/// A password a user chose, checked against the policy before it is hashed.
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_BYTES: usize = 256;

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(format!(
                "Use at least {} characters for the password.",
                Self::MIN_CHARS
            ));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(format!(
                "Use at most {} characters for the password.",
                Self::MAX_BYTES
            ));
        }
        if raw.trim().is_empty() || raw.chars().all(|c| raw.starts_with(c)) {
            return Err("Choose a password that is not a single repeated character.".into());
        }
        Ok(NewPassword(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert!(NewPassword::parse("short").is_err());
        assert!(NewPassword::parse("aaaaaaaaaaaa").is_err());
        assert!(NewPassword::parse(&"x".repeat(300)).is_err());
        assert!(NewPassword::parse("correct horse").is_ok());
        assert_eq!(
            format!("{:?}", NewPassword::parse("correct horse").unwrap()),
            "NewPassword([redacted])"
        );
    }
}
