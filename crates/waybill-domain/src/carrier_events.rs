//! Carriers' own event codes and the Waybill status each one means: one table per code
//! family (UPU EDI for the postal lines, EMS included, and one per express carrier). A
//! channel names its family through its carrier.

use super::Status;

/// A vocabulary of carrier event codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodeFamily {
    /// UPU EDI (EMSEVT) event codes, used by the postal operators (China Post RAM, ePacket, EMS).
    Upu,
    Ups,
    Dhl,
    Fedex,
    Sf,
    Tnt,
    Toll,
}

use Status::*;

/// UPU EDI event codes (DOMAIN-NOTES.md).
const UPU: &[(&str, Status, &str)] = &[
    ("EMA", PickedUp, "Posting / collection"),
    ("EMB", InTransit, "Arrival at outward office of exchange"),
    ("EXA", Customs, "Presented to export customs"),
    ("EXB", Customs, "Held by export customs"),
    ("EXC", Customs, "Released from export customs"),
    (
        "EMC",
        InTransit,
        "Departure from outward office of exchange",
    ),
    ("EMJ", InTransit, "Arrival at transit office of exchange"),
    (
        "EMK",
        InTransit,
        "Departure from transit office of exchange",
    ),
    ("EMD", InTransit, "Arrival at inward office of exchange"),
    ("EDA", Customs, "Held at inward office of exchange"),
    ("EDB", Customs, "Presented to import customs"),
    ("EME", Customs, "Held by import customs"),
    ("EDC", InTransit, "Returned from customs"),
    ("EMF", InTransit, "Departure from inward office of exchange"),
    ("EDD", InTransit, "Into sorting centre"),
    ("EDE", InTransit, "Out of sorting centre"),
    ("EMG", InTransit, "Arrival at delivery office"),
    ("EDG", OutForDelivery, "Out for delivery"),
    (
        "EDH",
        OutForDelivery,
        "At a collection point for the recipient",
    ),
    ("EMH", DeliveryFailed, "Unsuccessful delivery attempt"),
    ("EMI", Delivered, "Final delivery"),
];

const UPS: &[(&str, Status, &str)] = &[
    ("PU", PickedUp, "Pickup scan"),
    ("OR", AtOriginFacility, "Origin scan"),
    ("DP", InTransit, "Departure scan"),
    ("AR", InTransit, "Arrival scan"),
    ("IT", InTransit, "In transit"),
    ("CC", Customs, "Import customs clearance in progress"),
    ("CR", InTransit, "Released by customs"),
    ("OT", OutForDelivery, "Out for delivery"),
    ("DA", DeliveryFailed, "Delivery attempted"),
    ("DL", Delivered, "Delivered"),
    ("RS", Returned, "Returned to shipper"),
    ("EX", Exception, "Exception"),
];

const DHL: &[(&str, Status, &str)] = &[
    ("PU", PickedUp, "Shipment picked up"),
    ("PL", AtOriginFacility, "Processed at origin location"),
    ("DF", InTransit, "Departed facility"),
    ("AF", InTransit, "Arrived at facility"),
    ("AR", InTransit, "Arrived at delivery facility"),
    ("CC", Customs, "Customs status updated"),
    ("CR", InTransit, "Clearance released"),
    ("WC", OutForDelivery, "With delivery courier"),
    ("NH", DeliveryFailed, "Recipient not at home"),
    ("OK", Delivered, "Delivered"),
    ("RT", Returned, "Returned to shipper"),
    ("OH", Exception, "On hold"),
];

const FEDEX: &[(&str, Status, &str)] = &[
    ("PU", PickedUp, "Picked up"),
    ("OC", AtOriginFacility, "At origin facility"),
    ("DP", InTransit, "Departed FedEx location"),
    ("AR", InTransit, "Arrived at FedEx location"),
    ("IT", InTransit, "In transit"),
    ("CD", Customs, "Clearance delay"),
    ("CC", InTransit, "International shipment release"),
    ("OD", OutForDelivery, "On FedEx vehicle for delivery"),
    ("DE", DeliveryFailed, "Delivery exception"),
    ("DL", Delivered, "Delivered"),
    ("RS", Returned, "Return to shipper"),
    ("SE", Exception, "Shipment exception"),
];

const SF: &[(&str, Status, &str)] = &[
    ("50", PickedUp, "Collected"),
    ("51", AtOriginFacility, "Arrived at origin hub"),
    ("30", InTransit, "Departed hub"),
    ("31", InTransit, "Arrived at hub"),
    ("36", InTransit, "In transit"),
    ("605", Customs, "Export customs declaration"),
    ("607", Customs, "Import customs clearance"),
    ("608", InTransit, "Customs cleared"),
    ("44", OutForDelivery, "Out for delivery"),
    ("70", DeliveryFailed, "Delivery failed"),
    ("80", Delivered, "Signed for"),
    ("99", Returned, "Returned to sender"),
    ("33", Exception, "Exception"),
];

const TNT: &[(&str, Status, &str)] = &[
    ("CO", PickedUp, "Collected"),
    ("IR", AtOriginFacility, "Received at origin depot"),
    ("DP", InTransit, "Departed depot"),
    ("AR", InTransit, "Arrived at depot"),
    ("CS", Customs, "Held for customs"),
    ("CL", InTransit, "Customs cleared"),
    ("OD", OutForDelivery, "Out for delivery"),
    ("CA", DeliveryFailed, "Closed on arrival"),
    ("OK", Delivered, "Delivered"),
    ("RS", Returned, "Returned to sender"),
    ("EX", Exception, "Exception"),
];

const TOLL: &[(&str, Status, &str)] = &[
    ("PCK", PickedUp, "Picked up"),
    ("RCV", AtOriginFacility, "Received at origin depot"),
    ("DEP", InTransit, "Departed"),
    ("ARR", InTransit, "Arrived"),
    ("CUS", Customs, "In customs"),
    ("CLR", InTransit, "Customs cleared"),
    ("ONB", OutForDelivery, "On board for delivery"),
    ("ATT", DeliveryFailed, "Delivery attempted"),
    ("DEL", Delivered, "Delivered"),
    ("RTS", Returned, "Returned to sender"),
    ("EXC", Exception, "Exception"),
];

impl CodeFamily {
    pub const ALL: [CodeFamily; 7] = [
        CodeFamily::Upu,
        CodeFamily::Ups,
        CodeFamily::Dhl,
        CodeFamily::Fedex,
        CodeFamily::Sf,
        CodeFamily::Tnt,
        CodeFamily::Toll,
    ];

    /// The family of a channel's carrier (as the catalogue and admins name carriers).
    pub fn of_carrier(carrier: &str) -> Option<CodeFamily> {
        let c = carrier.to_ascii_lowercase();
        let c = c.trim();
        Some(match c {
            _ if c.contains("post") || c == "ems" => CodeFamily::Upu,
            _ if c.starts_with("ups") => CodeFamily::Ups,
            _ if c.starts_with("dhl") => CodeFamily::Dhl,
            _ if c.starts_with("fedex") => CodeFamily::Fedex,
            _ if c.starts_with("sf") => CodeFamily::Sf,
            _ if c.starts_with("tnt") => CodeFamily::Tnt,
            _ if c.starts_with("toll") => CodeFamily::Toll,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            CodeFamily::Upu => "UPU EDI",
            CodeFamily::Ups => "UPS",
            CodeFamily::Dhl => "DHL",
            CodeFamily::Fedex => "FedEx",
            CodeFamily::Sf => "SF Express",
            CodeFamily::Tnt => "TNT",
            CodeFamily::Toll => "TOLL",
        }
    }

    /// Every code of the family with its status and meaning.
    pub fn table(self) -> &'static [(&'static str, Status, &'static str)] {
        match self {
            CodeFamily::Upu => UPU,
            CodeFamily::Ups => UPS,
            CodeFamily::Dhl => DHL,
            CodeFamily::Fedex => FEDEX,
            CodeFamily::Sf => SF,
            CodeFamily::Tnt => TNT,
            CodeFamily::Toll => TOLL,
        }
    }

    /// The status a code means, matched without regard to case.
    pub fn status_of(self, code: &str) -> Option<Status> {
        let code = code.trim();
        self.table()
            .iter()
            .find(|(c, _, _)| c.eq_ignore_ascii_case(code))
            .map(|(_, s, _)| *s)
    }

    /// Codes of the family that mean `status` (for the simulator).
    pub fn codes_for(self, status: Status) -> impl Iterator<Item = &'static str> {
        self.table()
            .iter()
            .filter(move |(_, s, _)| *s == status)
            .map(|(c, _, _)| *c)
    }
}

/// What an event's status is, from its code (authoritative when the family knows it) and
/// the status the sender named. A code the family does not know, or a status that contradicts
/// the code, is refused with the reason.
pub fn resolve_status(
    family: Option<CodeFamily>,
    code: Option<&str>,
    named: Option<Status>,
) -> Result<Status, String> {
    match (code.map(str::trim).filter(|c| !c.is_empty()), family) {
        (Some(code), Some(f)) => {
            let by_code = f
                .status_of(code)
                .ok_or_else(|| format!("unknown {} event code `{code}`", f.name()))?;
            match named {
                Some(n) if n != by_code => Err(format!(
                    "status `{n}` contradicts {} code `{code}` ({by_code})",
                    f.name()
                )),
                _ => Ok(by_code),
            }
        }
        _ => named.ok_or_else(|| "give a known `status` or a carrier `code`".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upu_table_matches_the_notes() {
        let f = CodeFamily::Upu;
        assert_eq!(f.status_of("EMA"), Some(PickedUp));
        assert_eq!(f.status_of("emi"), Some(Delivered));
        assert_eq!(f.status_of("EXB"), Some(Customs));
        assert_eq!(f.status_of("EDG"), Some(OutForDelivery));
        assert_eq!(f.status_of("EMH"), Some(DeliveryFailed));
        assert_eq!(f.status_of("ZZZ"), None);
    }

    #[test]
    fn every_family_reaches_the_main_milestones_and_codes_are_unique() {
        for f in CodeFamily::ALL {
            for s in [PickedUp, InTransit, Customs, OutForDelivery, Delivered] {
                assert!(f.codes_for(s).next().is_some(), "{} lacks {s}", f.name());
            }
            let mut codes: Vec<_> = f.table().iter().map(|(c, _, _)| *c).collect();
            codes.sort();
            codes.dedup();
            assert_eq!(codes.len(), f.table().len(), "{}", f.name());
        }
    }

    #[test]
    fn codes_win_and_contradictions_are_refused() {
        let upu = Some(CodeFamily::Upu);
        assert_eq!(resolve_status(upu, Some("EMA"), None), Ok(PickedUp));
        assert_eq!(
            resolve_status(upu, Some("EMA"), Some(PickedUp)),
            Ok(PickedUp)
        );
        assert!(resolve_status(upu, Some("EMA"), Some(Delivered)).is_err());
        assert!(resolve_status(upu, Some("XYZ"), Some(Delivered)).is_err());
        assert_eq!(resolve_status(upu, None, Some(InTransit)), Ok(InTransit));
        assert!(resolve_status(upu, None, None).is_err());
    }
}
