//! A person's time zone (IANA name). Times are stored in UTC and shown in it.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone as _};

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

    /// A stored (UTC) time as the person reads it, with its offset from UTC (abbreviations
    /// like CST name zones on three continents): `2026-11-30 18:05 UTC+8`.
    pub fn show(&self, utc: &NaiveDateTime) -> String {
        let t = self.0.from_utc_datetime(utc);
        format!(
            "{} {}",
            t.format("%Y-%m-%d %H:%M"),
            offset_name(t.offset().fix().local_minus_utc())
        )
    }

    /// The date part only, in this zone.
    pub fn day(&self, utc: &NaiveDateTime) -> String {
        self.0.from_utc_datetime(utc).format("%Y-%m-%d").to_string()
    }

    /// The date it is in this zone at `utc`.
    pub fn date_of(&self, utc: &NaiveDateTime) -> NaiveDate {
        self.0.from_utc_datetime(utc).date_naive()
    }

    /// The UTC time `date` begins in this zone (its first existing minute where a clock change
    /// skips midnight).
    pub fn start_of(&self, date: NaiveDate) -> NaiveDateTime {
        (0..=3)
            .find_map(|h| {
                self.0
                    .from_local_datetime(&date.and_time(NaiveTime::from_hms_opt(h, 0, 0)?))
                    .earliest()
            })
            .map(|t| t.naive_utc())
            .unwrap_or_else(|| date.and_time(NaiveTime::MIN))
    }
}

/// `UTC`, `UTC+8`, `UTC-3:30`.
fn offset_name(secs: i32) -> String {
    if secs == 0 {
        return "UTC".into();
    }
    let sign = if secs < 0 { '-' } else { '+' };
    let (h, m) = (secs.abs() / 3600, secs.abs() % 3600 / 60);
    if m == 0 {
        format!("UTC{sign}{h}")
    } else {
        format!("UTC{sign}{h}:{m:02}")
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
        assert_eq!(TimeZone::default().show(&t), "2026-12-01 00:30 UTC+8");
        assert_eq!(TimeZone::default().day(&t), "2026-12-01");
        let berlin = TimeZone::parse("Europe/Berlin").unwrap();
        assert_eq!(berlin.show(&t), "2026-11-30 17:30 UTC+1");
        assert_eq!(
            TimeZone::parse("UTC").unwrap().show(&t),
            "2026-11-30 16:30 UTC"
        );
        let adelaide = TimeZone::parse("Australia/Adelaide").unwrap();
        assert_eq!(adelaide.show(&t), "2026-12-01 03:00 UTC+10:30");
        let ny = TimeZone::parse("America/New_York").unwrap();
        assert_eq!(ny.show(&t), "2026-11-30 11:30 UTC-5");
        assert!(TimeZone::parse("Mars/Olympus").is_err());
        // Days begin at the zone's midnight: Shanghai's 1 December is 30 November 16:00 UTC.
        let dec1 = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(
            TimeZone::default().start_of(dec1),
            t - chrono::Duration::minutes(30)
        );
        assert_eq!(TimeZone::default().date_of(&t), dec1);
        // São Paulo skipped midnight on 4 November 2018: the day began at 01:00 local.
        let sp = TimeZone::parse("America/Sao_Paulo").unwrap();
        let d = NaiveDate::from_ymd_opt(2018, 11, 4).unwrap();
        assert_eq!(sp.start_of(d), d.and_hms_opt(3, 0, 0).unwrap());
        for z in COMMON {
            assert!(TimeZone::parse(z).is_ok(), "{z}");
        }
    }
}
