//! A person's time zone (IANA name). Times are stored in UTC and shown in it.

use chrono::{NaiveDateTime, TimeZone as _};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

/// Offered first in the settings form; any IANA name is accepted.
pub const COMMON: [&str; 12] = [
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Sydney",
    "UTC",
];

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone(chrono_tz::Asia::Shanghai)
    }
}

impl TimeZone {
    pub fn parse(raw: &str) -> Result<TimeZone, String> {
        raw.trim()
            .parse::<chrono_tz::Tz>()
            .map(TimeZone)
            .map_err(|_| "Choose a time zone by its name, like Asia/Shanghai.".to_string())
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// A stored (UTC) time as the person reads it: `2026-11-30 18:05 CST`.
    pub fn show(&self, utc: &NaiveDateTime) -> String {
        self.0
            .from_utc_datetime(utc)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// The date part only, in this zone.
    pub fn day(&self, utc: &NaiveDateTime) -> String {
        self.0.from_utc_datetime(utc).format("%Y-%m-%d").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_utc_times_in_the_zone() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
            .unwrap()
            .and_hms_opt(16, 30, 0)
            .unwrap();
        assert_eq!(TimeZone::default().show(&t), "2026-12-01 00:30 CST");
        assert_eq!(TimeZone::default().day(&t), "2026-12-01");
        let berlin = TimeZone::parse("Europe/Berlin").unwrap();
        assert_eq!(berlin.show(&t), "2026-11-30 17:30 CET");
        assert!(TimeZone::parse("Mars/Olympus").is_err());
        for z in COMMON {
            assert!(TimeZone::parse(z).is_ok(), "{z}");
        }
    }
}
