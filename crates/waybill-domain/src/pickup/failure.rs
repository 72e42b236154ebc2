//! Why a courier could not collect a pickup.

use std::collections::BTreeMap;

/// Why a courier could not collect, as the trade names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureReason {
    SellerAbsent,
    ParcelsNotReady,
    OversizeOverweight,
    ProhibitedItems,
    AddressNotFound,
    Other,
}

impl FailureReason {
    pub const ALL: [FailureReason; 6] = [
        FailureReason::SellerAbsent,
        FailureReason::ParcelsNotReady,
        FailureReason::OversizeOverweight,
        FailureReason::ProhibitedItems,
        FailureReason::AddressNotFound,
        FailureReason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::SellerAbsent => "seller_absent",
            FailureReason::ParcelsNotReady => "parcels_not_ready",
            FailureReason::OversizeOverweight => "oversize_overweight",
            FailureReason::ProhibitedItems => "prohibited_items",
            FailureReason::AddressNotFound => "address_not_found",
            FailureReason::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            FailureReason::SellerAbsent => "Seller absent or closed",
            FailureReason::ParcelsNotReady => "Parcels not ready",
            FailureReason::OversizeOverweight => "Oversize or overweight",
            FailureReason::ProhibitedItems => "Prohibited items",
            FailureReason::AddressNotFound => "Address not found",
            FailureReason::Other => "Other",
        }
    }

    pub fn parse(s: &str) -> Option<FailureReason> {
        FailureReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
    }

    /// A reason with its note checked: "other" needs one, every note is short plain text.
    pub fn with_note(
        reason: &str,
        note: Option<&str>,
    ) -> Result<(FailureReason, Option<String>), BTreeMap<String, String>> {
        let mut errors = BTreeMap::new();
        let r = FailureReason::parse(reason);
        if r.is_none() {
            let all: Vec<&str> = FailureReason::ALL.iter().map(|r| r.as_str()).collect();
            errors.insert(
                "reason".into(),
                format!("Choose a reason: {}.", all.join(", ")),
            );
        }
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        let note = match note {
            Some(n) => match crate::required_text(n, "note", 500) {
                Ok(n) => Some(n),
                Err(e) => {
                    errors.insert("note".into(), e);
                    None
                }
            },
            None if r == Some(FailureReason::Other) => {
                errors.insert("note".into(), "Say what went wrong.".into());
                None
            }
            None => None,
        };
        match r {
            Some(r) if errors.is_empty() => Ok((r, note)),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_reasons() {
        assert!(FailureReason::with_note("seller_absent", None).is_ok());
        assert!(
            FailureReason::with_note("other", None)
                .unwrap_err()
                .contains_key("note")
        );
        assert_eq!(
            FailureReason::with_note("other", Some("gate locked"))
                .unwrap()
                .1
                .as_deref(),
            Some("gate locked")
        );
        assert!(
            FailureReason::with_note("bored", None)
                .unwrap_err()
                .contains_key("reason")
        );
    }
}
