//! Flags on tracking that does not move: *no tracking* (no verified scan from a courier,
//! warehouse or carrier within N working days of booking) and *stale* (a parcel on its way
//! with no news for N days; postal lines get longer than express).

use chrono::{Datelike, Duration, NaiveDateTime, Weekday};

use super::Status;
use super::channel::ChannelKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackingFlag {
    NoTracking,
    Stale,
}

impl TrackingFlag {
    pub fn parse(s: &str) -> Option<TrackingFlag> {
        match s {
            "no_tracking" => Some(TrackingFlag::NoTracking),
            "stale" => Some(TrackingFlag::Stale),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TrackingFlag::NoTracking => "no_tracking",
            TrackingFlag::Stale => "stale",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TrackingFlag::NoTracking => "No tracking",
            TrackingFlag::Stale => "Stale",
        }
    }
}

/// The configured limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrackingRules {
    pub no_tracking_working_days: u32,
    pub stale_days_postal: u32,
    pub stale_days_express: u32,
}

impl Default for TrackingRules {
    fn default() -> Self {
        TrackingRules {
            no_tracking_working_days: 5,
            stale_days_postal: 10,
            stale_days_express: 5,
        }
    }
}

/// The moments before which a shipment counts as flagged, for a given `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cutoffs {
    /// Booked before this and no verified scan: no tracking.
    pub booked_before: NaiveDateTime,
    pub stale_postal_before: NaiveDateTime,
    pub stale_express_before: NaiveDateTime,
}

/// `now` less `n` working days (Saturdays and Sundays do not count).
pub fn working_days_before(now: NaiveDateTime, n: u32) -> NaiveDateTime {
    let mut t = now;
    let mut left = n;
    while left > 0 {
        t -= Duration::days(1);
        if !matches!(t.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    t
}

impl TrackingRules {
    pub fn cutoffs(&self, now: NaiveDateTime) -> Cutoffs {
        Cutoffs {
            booked_before: working_days_before(now, self.no_tracking_working_days),
            stale_postal_before: now - Duration::days(i64::from(self.stale_days_postal)),
            stale_express_before: now - Duration::days(i64::from(self.stale_days_express)),
        }
    }
}

/// Whether a status still waits for the carrier (finished and cancelled parcels are not flagged).
pub fn is_live(status: Status) -> bool {
    !status.is_terminal() && status != Status::Draft
}

/// The flag of one shipment, from its status, booking time, channel kind and the time of its
/// latest verified scan from outside Waybill.
pub fn flag_of(
    status: Status,
    booked_at: NaiveDateTime,
    kind: ChannelKind,
    last_scan: Option<NaiveDateTime>,
    c: &Cutoffs,
) -> Option<TrackingFlag> {
    if !is_live(status) {
        return None;
    }
    match last_scan {
        None if booked_at < c.booked_before => Some(TrackingFlag::NoTracking),
        None => None,
        Some(t) => {
            let before = match kind {
                ChannelKind::Postal => c.stale_postal_before,
                ChannelKind::Express => c.stale_express_before,
            };
            (t < before).then_some(TrackingFlag::Stale)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(d: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, d)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
    }

    #[test]
    fn working_days_skip_weekends() {
        // 2026-11-30 is a Monday: five working days back is Monday the 23rd.
        assert_eq!(working_days_before(at(30), 5), at(23));
        assert_eq!(working_days_before(at(30), 1), at(27), "Friday");
    }

    #[test]
    fn flags() {
        let c = TrackingRules::default().cutoffs(at(30));
        use ChannelKind::*;
        assert_eq!(
            flag_of(Status::Booked, at(20), Postal, None, &c),
            Some(TrackingFlag::NoTracking)
        );
        assert_eq!(flag_of(Status::Booked, at(26), Postal, None, &c), None);
        assert_eq!(flag_of(Status::Cancelled, at(1), Postal, None, &c), None);
        assert_eq!(
            flag_of(Status::InTransit, at(1), Express, Some(at(24)), &c),
            Some(TrackingFlag::Stale)
        );
        assert_eq!(
            flag_of(Status::InTransit, at(1), Postal, Some(at(24)), &c),
            None,
            "postal waits longer"
        );
        assert_eq!(
            flag_of(Status::Delivered, at(1), Postal, Some(at(2)), &c),
            None
        );
    }
}
