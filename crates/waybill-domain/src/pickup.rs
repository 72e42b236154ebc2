//! Door-pickup rules: service areas (postal prefixes, cities, windows in local time, closed
//! days, a same-day cut-off), which area an address belongs to, and why a pickup failed.

mod failure;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, Utc,
    Weekday,
};

pub use failure::FailureReason;

/// How many days ahead (today included) a seller may book.
pub const BOOKING_DAYS: i64 = 7;
pub const DEFAULT_WINDOWS: &str = "09:00-12:00,12:00-15:00,15:00-18:00";
pub const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";
pub const DEFAULT_CUTOFF: &str = "12:00";

/// Time zones an area may be in, with their UTC offsets. Only zones without daylight saving
/// are listed, so a fixed offset is exact for every date (no tz database is bundled).
const ZONES: [(&str, i32); 12] = [
    ("Asia/Shanghai", 480),
    ("Asia/Urumqi", 360),
    ("Asia/Hong_Kong", 480),
    ("Asia/Macau", 480),
    ("Asia/Taipei", 480),
    ("Asia/Singapore", 480),
    ("Asia/Kuala_Lumpur", 480),
    ("Asia/Manila", 480),
    ("Asia/Tokyo", 540),
    ("Asia/Seoul", 540),
    ("Asia/Bangkok", 420),
    ("UTC", 0),
];

pub fn timezone_offset(name: &str) -> Option<FixedOffset> {
    ZONES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
        .and_then(|(_, m)| FixedOffset::east_opt(m * 60))
}

/// A pickup window in the area's local time, e.g. 09:00–12:00.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Window {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Window {
    pub fn parse(raw: &str) -> Result<Window, String> {
        let bad = || format!("`{}` is not a window like 09:00-12:00.", raw.trim());
        let (a, b) = raw.trim().split_once('-').ok_or_else(bad)?;
        let start = NaiveTime::parse_from_str(a.trim(), "%H:%M").map_err(|_| bad())?;
        let end = NaiveTime::parse_from_str(b.trim(), "%H:%M").map_err(|_| bad())?;
        if end <= start {
            return Err(format!(
                "The window {} must end after it starts.",
                raw.trim()
            ));
        }
        Ok(Window { start, end })
    }

    pub fn label(&self) -> String {
        format!(
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

fn items(raw: &str) -> impl Iterator<Item = &str> {
    raw.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn weekday_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

/// An area's rules, every field checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AreaSpec {
    pub name: String,
    pub postal_prefixes: Vec<String>,
    /// Lower case, for matching.
    pub cities: Vec<String>,
    pub timezone: String,
    pub windows: Vec<Window>,
    /// Pickups per window per day.
    pub capacity: i32,
    pub closed_weekdays: Vec<Weekday>,
    pub holidays: Vec<NaiveDate>,
    /// Today's windows can be booked only before this local time.
    pub cutoff: NaiveTime,
}

/// An area as typed on the admin form or given to the CLI (lists comma-separated).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AreaInput {
    pub name: String,
    pub postal_prefixes: String,
    pub cities: String,
    pub timezone: String,
    pub windows: String,
    pub capacity: String,
    pub closed_weekdays: String,
    pub holidays: String,
    pub cutoff: String,
}

/// Why a date and window cannot be booked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    UnknownWindow,
    ClosedDay,
    PastCutoff,
    OutOfRange,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::UnknownWindow => "This area has no such window; choose one of its windows.",
            Refusal::ClosedDay => "Couriers do not collect in this area on that day.",
            Refusal::PastCutoff => {
                "Too late to book this window: the same-day cut-off has passed or the window has started."
            }
            Refusal::OutOfRange => "Choose a date within the next 7 days.",
        }
    }
}

impl AreaInput {
    pub fn parse(&self) -> Result<AreaSpec, BTreeMap<String, String>> {
        let mut errors = BTreeMap::new();
        let mut err = |f: &str, m: String| {
            errors.insert(f.to_string(), m);
        };
        let name = super::required_text(&self.name, "area name", 100)
            .map_err(|e| err("name", e))
            .unwrap_or_default();
        let mut postal_prefixes = Vec::new();
        for p in items(&self.postal_prefixes) {
            let p = p.to_ascii_uppercase();
            if p.len() > 10 || !p.chars().all(|c| c.is_ascii_alphanumeric()) {
                err(
                    "postal_prefixes",
                    format!("`{p}` is not a postal-code prefix."),
                );
            } else if !postal_prefixes.contains(&p) {
                postal_prefixes.push(p);
            }
        }
        let mut cities: Vec<String> = Vec::new();
        for c in items(&self.cities) {
            match crate::text::clean(c, "city", 100) {
                Ok(Some(c)) => cities.push(c.to_lowercase()),
                Ok(None) => {}
                Err(e) => err("cities", e),
            }
        }
        if postal_prefixes.is_empty() && cities.is_empty() {
            err(
                "postal_prefixes",
                "Give postal-code prefixes, cities, or both.".into(),
            );
        }
        let tz = if self.timezone.trim().is_empty() {
            DEFAULT_TIMEZONE
        } else {
            self.timezone.trim()
        };
        let timezone = match ZONES.iter().find(|(n, _)| n.eq_ignore_ascii_case(tz)) {
            Some((n, _)) => n.to_string(),
            None => {
                let known: Vec<&str> = ZONES.iter().map(|(n, _)| *n).collect();
                err(
                    "timezone",
                    format!("Unknown time zone; use one of {}.", known.join(", ")),
                );
                String::new()
            }
        };
        let raw_windows = if self.windows.trim().is_empty() {
            DEFAULT_WINDOWS
        } else {
            self.windows.as_str()
        };
        let mut windows = Vec::new();
        for w in items(raw_windows) {
            match Window::parse(w) {
                Ok(w) => windows.push(w),
                Err(e) => err("windows", e),
            }
        }
        windows.sort();
        if windows.windows(2).any(|p| p[1].start < p[0].end) {
            err("windows", "Windows must not overlap.".into());
        }
        let capacity = match self.capacity.trim().parse::<i32>() {
            Ok(n) if (1..=10_000).contains(&n) => n,
            _ => {
                err(
                    "capacity",
                    "Capacity is a whole number of pickups per window per day (1 to 10000).".into(),
                );
                0
            }
        };
        let mut closed_weekdays = Vec::new();
        for d in items(&self.closed_weekdays) {
            match d.parse::<Weekday>() {
                Ok(w) if !closed_weekdays.contains(&w) => closed_weekdays.push(w),
                Ok(_) => {}
                Err(_) => err(
                    "closed_weekdays",
                    format!("`{d}` is not a weekday (mon … sun)."),
                ),
            }
        }
        let mut holidays = Vec::new();
        for d in items(&self.holidays) {
            match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                Ok(day) => holidays.push(day),
                Err(_) => err("holidays", format!("`{d}` is not a date like 2026-12-25.")),
            }
        }
        holidays.sort();
        holidays.dedup();
        let raw_cutoff = if self.cutoff.trim().is_empty() {
            DEFAULT_CUTOFF
        } else {
            self.cutoff.trim()
        };
        let cutoff = NaiveTime::parse_from_str(raw_cutoff, "%H:%M")
            .map_err(|_| err("cutoff", "The cut-off is a time like 12:00.".into()))
            .unwrap_or_default();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(AreaSpec {
            name,
            postal_prefixes,
            cities,
            timezone,
            windows,
            capacity,
            closed_weekdays,
            holidays,
            cutoff,
        })
    }
}

impl AreaSpec {
    pub fn offset(&self) -> FixedOffset {
        // Parsing admitted only known zones, so the UTC fallback is never taken.
        timezone_offset(&self.timezone).unwrap_or_else(|| Utc.fix())
    }

    /// The local date and time now.
    pub fn local_now(&self, now: DateTime<Utc>) -> NaiveDateTime {
        now.with_timezone(&self.offset()).naive_local()
    }

    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        self.local_now(now).date()
    }

    /// The dates a seller may book from now: today and the next six days.
    pub fn bookable_dates(&self, now: DateTime<Utc>) -> Vec<NaiveDate> {
        let today = self.today(now);
        (0..BOOKING_DAYS)
            .map(|i| today + Duration::days(i))
            .collect()
    }

    pub fn window(&self, label: &str) -> Option<Window> {
        let w = Window::parse(label).ok()?;
        self.windows.iter().copied().find(|x| *x == w)
    }

    pub fn is_closed(&self, date: NaiveDate) -> bool {
        self.closed_weekdays.contains(&date.weekday()) || self.holidays.contains(&date)
    }

    /// Whether `date` and `window` can be booked now (capacity aside).
    pub fn check(
        &self,
        date: NaiveDate,
        window: &str,
        now: DateTime<Utc>,
    ) -> Result<Window, Refusal> {
        let w = self.window(window).ok_or(Refusal::UnknownWindow)?;
        let local = self.local_now(now);
        let today = local.date();
        if date < today || date >= today + Duration::days(BOOKING_DAYS) {
            return Err(Refusal::OutOfRange);
        }
        if self.is_closed(date) {
            return Err(Refusal::ClosedDay);
        }
        if date == today && (local.time() >= self.cutoff || local.time() >= w.start) {
            return Err(Refusal::PastCutoff);
        }
        Ok(w)
    }

    /// The window's start and end in UTC, as stored.
    pub fn utc_range(&self, date: NaiveDate, w: Window) -> (NaiveDateTime, NaiveDateTime) {
        let shift = Duration::seconds(i64::from(self.offset().local_minus_utc()));
        (date.and_time(w.start) - shift, date.and_time(w.end) - shift)
    }

    /// Storage forms of the lists (comma-separated).
    pub fn prefixes_text(&self) -> String {
        self.postal_prefixes.join(",")
    }
    pub fn cities_text(&self) -> String {
        self.cities.join(",")
    }
    pub fn windows_text(&self) -> String {
        self.windows
            .iter()
            .map(Window::label)
            .collect::<Vec<_>>()
            .join(",")
    }
    pub fn weekdays_text(&self) -> String {
        self.closed_weekdays
            .iter()
            .map(|d| weekday_name(*d))
            .collect::<Vec<_>>()
            .join(",")
    }
    pub fn holidays_text(&self) -> String {
        self.holidays
            .iter()
            .map(|d| d.format("%Y-%m-%d").to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
    pub fn cutoff_text(&self) -> String {
        self.cutoff.format("%H:%M").to_string()
    }
}

/// How well an area covers an address: any postal-prefix match beats a city match, a longer
/// prefix beats a shorter one. `None`: the area does not cover it.
pub fn coverage(spec: &AreaSpec, postal_code: &str, city: &str) -> Option<(u8, usize)> {
    let postal = postal_code.trim().to_ascii_uppercase().replace(' ', "");
    let best_prefix = spec
        .postal_prefixes
        .iter()
        .filter(|p| postal.starts_with(p.as_str()))
        .map(String::len)
        .max();
    if let Some(len) = best_prefix {
        return Some((1, len));
    }
    let city = city.trim().to_lowercase();
    spec.cities.contains(&city).then_some((0, 0))
}

/// The area an address belongs to: the longest matching postal prefix, a city match below
/// any prefix, ties to the newest area (`created` orders areas by age).
pub fn best_area<'a, T, K: Ord>(
    areas: &'a [T],
    spec_of: impl Fn(&T) -> (&AreaSpec, K),
    postal_code: &str,
    city: &str,
) -> Option<&'a T> {
    areas
        .iter()
        .filter_map(|a| {
            let (spec, created) = spec_of(a);
            coverage(spec, postal_code, city).map(|c| ((c, created), a))
        })
        .max_by(|x, y| x.0.cmp(&y.0))
        .map(|(_, a)| a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(prefixes: &str, cities: &str) -> AreaSpec {
        AreaInput {
            name: "A".into(),
            postal_prefixes: prefixes.into(),
            cities: cities.into(),
            capacity: "3".into(),
            ..Default::default()
        }
        .parse()
        .unwrap()
    }

    #[test]
    fn defaults_and_bad_fields() {
        let s = spec("518", "");
        assert_eq!(s.windows_text(), DEFAULT_WINDOWS);
        assert_eq!(s.timezone, "Asia/Shanghai");
        assert_eq!(s.cutoff_text(), "12:00");
        let bad = AreaInput {
            name: "".into(),
            capacity: "0".into(),
            windows: "12:00-09:00".into(),
            timezone: "Mars/Base".into(),
            closed_weekdays: "funday".into(),
            ..Default::default()
        }
        .parse()
        .unwrap_err();
        for f in [
            "name",
            "capacity",
            "windows",
            "timezone",
            "closed_weekdays",
            "postal_prefixes",
        ] {
            assert!(bad.contains_key(f), "{f}: {bad:?}");
        }
    }

    #[test]
    fn longest_prefix_then_city_then_newest() {
        let areas = vec![
            (spec("518", ""), 1),
            (spec("5180", ""), 2),
            (spec("", "Shenzhen"), 3),
            (spec("51", ""), 4),
        ];
        fn of(a: &(AreaSpec, i32)) -> (&AreaSpec, i32) {
            (&a.0, a.1)
        }
        assert_eq!(best_area(&areas, of, "518057", "Shenzhen").unwrap().1, 2);
        assert_eq!(best_area(&areas, of, "518157", "Shenzhen").unwrap().1, 1);
        assert_eq!(best_area(&areas, of, "519000", "shenzhen ").unwrap().1, 4);
        assert_eq!(best_area(&areas, of, "600000", "SHENZHEN").unwrap().1, 3);
        assert!(best_area(&areas, of, "600000", "Beijing").is_none());
        let ties = vec![(spec("518", ""), 1), (spec("518", ""), 9)];
        assert_eq!(
            best_area(&ties, of, "518000", "").unwrap().1,
            9,
            "newest wins"
        );
    }

    #[test]
    fn closed_days_cutoff_and_range() {
        let mut s = spec("518", "");
        s.closed_weekdays = vec![Weekday::Sun];
        // 2026-12-01 is a Tuesday; 08:00 in Shanghai is 00:00 UTC.
        let now = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        assert!(s.check(day(1), "09:00-12:00", now).is_ok());
        assert_eq!(
            s.check(day(1), "09:00-11:00", now),
            Err(Refusal::UnknownWindow)
        );
        assert_eq!(s.check(day(6), "09:00-12:00", now), Err(Refusal::ClosedDay));
        assert_eq!(
            s.check(day(8), "09:00-12:00", now),
            Err(Refusal::OutOfRange)
        );
        assert_eq!(
            s.check(day(30).pred_opt().unwrap(), "09:00-12:00", now),
            Err(Refusal::OutOfRange)
        );
        // 10:00 local: the 09:00 window has started; 12:00 is still before the cut-off.
        let ten = now + Duration::hours(2);
        assert_eq!(
            s.check(day(1), "09:00-12:00", ten),
            Err(Refusal::PastCutoff)
        );
        assert!(s.check(day(1), "12:00-15:00", ten).is_ok());
        let noon = now + Duration::hours(4);
        assert_eq!(
            s.check(day(1), "15:00-18:00", noon),
            Err(Refusal::PastCutoff)
        );
        assert!(s.check(day(2), "09:00-12:00", noon).is_ok());
        let (a, b) = s.utc_range(day(2), s.windows[0]);
        assert_eq!(a.to_string(), "2026-12-02 01:00:00");
        assert_eq!(b.to_string(), "2026-12-02 04:00:00");
    }
}
