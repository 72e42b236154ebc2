//! What the tracking transparency log holds for one event: a UTF-8 JSON record of its public
//! fields (never personal data), built the same way when an event is appended and whenever
//! the verifier rebuilds it from the stored row, so an edited column changes the record.

use chrono::NaiveDateTime;
use serde::Serialize;

/// The public fields of one event, in a fixed order (serde keeps declaration order).
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct LogRecord<'a> {
    pub tracking_number: &'a str,
    pub status: &'a str,
    pub code: Option<&'a str>,
    pub occurred_at: String,
    pub location: Option<&'a str>,
    pub description: &'a str,
    /// `carrier:<channel>`, `courier:<id>`, `warehouse:<id>` or `system`.
    pub source: &'a str,
    pub source_event_id: Option<&'a str>,
    /// SHA-256 (hex) of the raw request the event came in, when it came in one.
    pub request_sha256: Option<&'a str>,
    pub received_at: String,
}

/// Timestamps as logged: UTC, microseconds (what both databases keep).
pub fn log_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl LogRecord<'_> {
    /// The exact bytes appended to the log.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain strings and options cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The log's name on its checkpoints and key: the host of the public address (without a
/// port, so a server moved to another port keeps its log) + `/tracking-log`.
pub fn default_origin(base_url: &str) -> String {
    let rest = base_url
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(base_url);
    let host_port = rest.split('/').next().unwrap_or("");
    let host = match host_port.find(']') {
        Some(end) => &host_port[..=end],
        None => host_port.split(':').next().unwrap_or(""),
    };
    let host = if host.is_empty() { "localhost" } else { host };
    format!("{host}/tracking-log")
}

/// A key name (and so a log origin) as C2SP signed-note allows it: non-empty, no spaces, no '+'.
pub fn valid_origin(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(char::is_whitespace) && !name.contains('+')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_stable_json_of_public_fields() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_micro_opt(8, 30, 0, 120)
            .unwrap();
        let r = LogRecord {
            tracking_number: "RR000000080CN",
            status: "picked_up",
            code: Some("EMA"),
            occurred_at: log_time(at),
            location: Some("Shenzhen, CN"),
            description: "Posted",
            source: "carrier:CNPOST-RAM",
            source_event_id: Some("e1"),
            request_sha256: None,
            received_at: log_time(at),
        };
        let text = String::from_utf8(r.to_bytes()).unwrap();
        assert!(text.starts_with(r#"{"tracking_number":"RR000000080CN","status":"picked_up""#));
        assert!(text.contains(r#""occurred_at":"2026-12-01T08:30:00.000120Z""#));
        assert_eq!(r.to_bytes(), r.clone().to_bytes());
    }

    #[test]
    fn origins_drop_the_port() {
        assert_eq!(
            default_origin("http://127.0.0.1:8080"),
            "127.0.0.1/tracking-log"
        );
        assert_eq!(
            default_origin("https://waybill.example.com/"),
            "waybill.example.com/tracking-log"
        );
        assert!(valid_origin("waybill.example.com/tracking-log"));
        assert!(!valid_origin("a b"));
    }
}
