//! Seller webhooks: registering endpoints (URL rules, secrets shown once, rotation), and the
//! outbox — `enqueue` writes one delivery per subscribed endpoint in the caller's transaction.
//! Deliveries follow Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature:
//! v1,<base64 HMAC-SHA256(key, id.timestamp.body)>`; the worker in `crate::webhooks` sends them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aes_gcm::aead::{Aead, KeyInit};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::NaiveDateTime;
use serde::Serialize;

use crate::error::AppError;
pub use waybill_db::webhooks::{Attempt, Delivery, Endpoint, LogLine};
use waybill_db::{self as db, DbConn};
use waybill_domain::delivery::{DeliveryStatus, EndpointStatus};

/// The event types a seller can subscribe to.
pub const EVENT_TYPES: [&str; 3] = [
    "shipment.status_changed",
    "shipment.weight_adjusted",
    "pickup.status_changed",
];

/// What `POST /{id}/test` sends: to the endpoint it names, whatever it subscribes to.
pub const TEST_EVENT: &str = "webhook.test";

/// How long the old key keeps signing after a rotation.
pub const ROTATION_GRACE: chrono::Duration = chrono::Duration::hours(24);

/// Endpoints a seller may register.
pub const MAX_ENDPOINTS: usize = 10;

/// Random bytes behind `whsec_` (the convention asks for at least 24).
const KEY_BYTES: usize = 32;

/// Seals webhook keys at rest (AES-256-GCM; a fresh nonce per seal, stored before the
/// ciphertext), so a copy of the database signs nothing.
#[derive(Clone)]
pub struct SecretBox([u8; 32]);

impl SecretBox {
    pub fn new(key: [u8; 32]) -> SecretBox {
        SecretBox(key)
    }

    fn cipher(&self) -> aes_gcm::Aes256Gcm {
        aes_gcm::Aes256Gcm::new((&self.0).into())
    }

    pub fn seal(&self, plain: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let sealed = self
            .cipher()
            .encrypt((&nonce).into(), plain)
            .map_err(|_| anyhow::anyhow!("sealing a webhook key failed"))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    pub fn open(&self, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        let (nonce, body) = sealed
            .split_at_checked(12)
            .ok_or_else(|| anyhow::anyhow!("a sealed webhook key is too short"))?;
        let nonce: &[u8; 12] = nonce
            .try_into()
            .map_err(|_| anyhow::anyhow!("bad nonce length"))?;
        self.cipher().decrypt(nonce.into(), body).map_err(|_| {
            anyhow::anyhow!("a webhook key does not open: was the session secret changed?")
        })
    }
}

/// A new signing key and its `whsec_` form (shown to the seller once).
pub fn new_key() -> anyhow::Result<(Vec<u8>, String)> {
    let mut key = vec![0u8; KEY_BYTES];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let shown = format!("whsec_{}", B64.encode(&key));
    Ok((key, shown))
}

/// `v1,<base64 HMAC-SHA256(key, id.timestamp.body)>`.
pub fn signature(key: &[u8], webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    #[allow(clippy::expect_used)]
    let mut mac =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(webhook_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` value: one signature per key in use, space-separated.
pub fn signature_header(keys: &[Vec<u8>], webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|k| signature(k, webhook_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The keys an endpoint signs with now: the current one, and the previous one while its
/// grace period lasts.
pub fn signing_keys(
    sbox: &SecretBox,
    e: &Endpoint,
    now: NaiveDateTime,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut keys = vec![sbox.open(&e.secret)?];
    if let (Some(old), Some(until)) = (&e.previous_secret, e.previous_secret_expires_at) {
        if now < until {
            keys.push(sbox.open(old)?);
        }
    }
    Ok(keys)
}

/// Whether an address is one a webhook may reach: not loopback, private, link-local (cloud
/// metadata lives there), CGNAT, unique-local, multicast, documentation or reserved — and for
/// IPv6 forms that embed an IPv4 address, the embedded address is judged.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10 (Alibaba metadata too)
        || (a == 169 && b == 254) // link-local, 169.254.169.254 metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) and IPv4-translated (::ffff:0:0:0/96) addresses carry an IPv4
    // address in their last 32 bits.
    if (s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0])
        || s[0..6] == [0, 0, 0, 0, 0xffff, 0]
    {
        return is_public_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    // 6to4 (2002::/16) carries one in bits 16..48.
    if s[0] == 0x2002 {
        return is_public_v4(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || s[0..6] == [0, 0, 0, 0, 0, 0] // IPv4-compatible (deprecated) and ::/96
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] == 0) // Teredo
        || s[0] == 0x0100) // discard-only
}

/// A checked endpoint URL. `allow_private` (`WAYBILL_WEBHOOK_ALLOW_PRIVATE=on`) also admits
/// `http://` and private targets, for development and tests.
pub fn check_url(raw: &str, allow_private: bool) -> Result<url::Url, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("Give the URL to send webhooks to.".into());
    }
    if raw.len() > 2000 {
        return Err("The URL is too long (2000 characters at most).".into());
    }
    let url = url::Url::parse(raw).map_err(|e| format!("Not a valid URL: {e}."))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err("Webhook URLs must use https://.".into()),
        _ => return Err("Webhook URLs must start with https://.".into()),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Put no user name or password in the URL.".into());
    }
    let private = match url.host() {
        None => return Err("The URL has no host.".into()),
        Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost"
                || d.ends_with(".localhost")
                || d.ends_with(".local")
                || d.ends_with(".internal")
                || !d.contains('.')
        }
    };
    if private && !allow_private {
        return Err(
            "Webhook URLs must point to a public address, not a loopback, private or local one."
                .into(),
        );
    }
    Ok(url)
}

/// The event types asked for, checked; none given means all of them.
pub fn parse_events(asked: Option<&[String]>) -> Result<Vec<String>, String> {
    let Some(asked) = asked else {
        return Ok(EVENT_TYPES.iter().map(|s| s.to_string()).collect());
    };
    let mut out = Vec::new();
    for e in asked {
        let e = e.trim();
        if !EVENT_TYPES.contains(&e) {
            return Err(format!(
                "Unknown event type `{}`: use {}.",
                e.chars().take(60).collect::<String>(),
                EVENT_TYPES.join(", ")
            ));
        }
        if !out.iter().any(|o| o == e) {
            out.push(e.to_string());
        }
    }
    if out.is_empty() {
        return Err("Choose at least one event type.".into());
    }
    Ok(out)
}

fn url_error(msg: String) -> AppError {
    AppError::Validation {
        message: msg.clone(),
        fields: [("url".to_string(), msg)].into_iter().collect(),
    }
}

/// Registers an endpoint; returns it with its secret in `whsec_` form (the only time it exists
/// in clear outside the worker).
pub fn register(
    conn: &mut DbConn,
    sbox: &SecretBox,
    seller_id: &str,
    raw_url: &str,
    events: Option<&[String]>,
    allow_private: bool,
) -> Result<(Endpoint, String), AppError> {
    let url = check_url(raw_url, allow_private).map_err(url_error)?;
    let events = parse_events(events).map_err(|m| AppError::Validation {
        message: m.clone(),
        fields: [("events".to_string(), m)].into_iter().collect(),
    })?;
    let (key, shown) = new_key()?;
    let endpoint = Endpoint {
        id: db::new_id(),
        seller_id: seller_id.to_string(),
        url: url.to_string(),
        events: events.join(","),
        secret: sbox.seal(&key)?,
        previous_secret: None,
        previous_secret_expires_at: None,
        status: EndpointStatus::Active,
        disabled_reason: None,
        created_at: db::now(),
    };
    db::write_tx(conn, |c| {
        if db::webhooks::list_endpoints(c, seller_id)?.len() >= MAX_ENDPOINTS {
            return Err(AppError::Conflict(format!(
                "A seller can register at most {MAX_ENDPOINTS} webhook endpoints."
            )));
        }
        db::webhooks::insert_endpoint(c, &endpoint)?;
        Ok(())
    })?;
    Ok((endpoint, shown))
}

/// A new key for the endpoint; the current one keeps signing beside it for 24 hours.
pub fn rotate(
    conn: &mut DbConn,
    sbox: &SecretBox,
    seller_id: &str,
    id: &str,
) -> Result<String, AppError> {
    let (key, shown) = new_key()?;
    let sealed = sbox.seal(&key)?;
    db::write_tx(conn, |c| {
        let e = db::webhooks::find_endpoint(c, seller_id, id)?.ok_or(AppError::NotFound)?;
        let until = db::now() + ROTATION_GRACE;
        db::webhooks::rotate_secret(c, seller_id, id, &sealed, &e.secret, until)?;
        Ok::<_, AppError>(())
    })?;
    Ok(shown)
}

pub fn delete(conn: &mut DbConn, seller_id: &str, id: &str) -> Result<(), AppError> {
    if !db::write_tx(conn, |c| db::webhooks::delete_endpoint(c, seller_id, id))? {
        return Err(AppError::NotFound);
    }
    Ok(())
}

#[derive(Serialize)]
struct Body<'a, T: Serialize> {
    #[serde(rename = "type")]
    event_type: &'a str,
    timestamp: String,
    data: &'a T,
}

/// The exact body of an event, as it is stored and signed.
fn body<T: Serialize>(event_type: &str, at: NaiveDateTime, data: &T) -> QueryResultOr<String> {
    serde_json::to_string(&Body {
        event_type,
        timestamp: at
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        data,
    })
    .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
}

type QueryResultOr<T> = Result<T, diesel::result::Error>;

fn delivery(endpoint_id: &str, event_type: &str, payload: String, now: NaiveDateTime) -> Delivery {
    Delivery {
        id: db::new_id(),
        endpoint_id: endpoint_id.to_string(),
        webhook_id: format!("msg_{}", uuid::Uuid::now_v7().simple()),
        event_type: event_type.to_string(),
        payload,
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: now,
        last_status_code: None,
        last_duration_ms: None,
        last_error: None,
        delivered_at: None,
        claimed_by: None,
        claimed_until: None,
        created_at: now,
    }
}

/// Queues `event_type` with `data` for every active endpoint of the seller that subscribes to
/// it, in the caller's transaction (the outbox: the event is sent if and only if the change
/// commits). Returns how many deliveries were queued.
pub fn enqueue<T: Serialize>(
    conn: &mut DbConn,
    seller_id: &str,
    event_type: &str,
    data: &T,
) -> QueryResultOr<usize> {
    let endpoints = db::webhooks::active_endpoints(conn, seller_id)?;
    let wanted: Vec<&Endpoint> = endpoints.iter().filter(|e| e.wants(event_type)).collect();
    if wanted.is_empty() {
        return Ok(0);
    }
    let now = db::now();
    let payload = body(event_type, now, data)?;
    for e in &wanted {
        db::webhooks::insert_delivery(conn, &delivery(&e.id, event_type, payload.clone(), now))?;
    }
    Ok(wanted.len())
}

/// Queues a test event to one endpoint, whatever it subscribes to.
pub fn send_test(conn: &mut DbConn, seller_id: &str, id: &str) -> Result<Delivery, AppError> {
    db::write_tx(conn, |c| {
        let e = db::webhooks::find_endpoint(c, seller_id, id)?.ok_or(AppError::NotFound)?;
        if e.status != EndpointStatus::Active {
            return Err(AppError::Conflict(
                "This endpoint is disabled; register it again to receive events.".into(),
            ));
        }
        let now = db::now();
        let payload = body(
            TEST_EVENT,
            now,
            &serde_json::json!({ "endpoint_id": e.id, "message": "A test event from Waybill." }),
        )?;
        let d = delivery(&e.id, TEST_EVENT, payload, now);
        db::webhooks::insert_delivery(c, &d)?;
        Ok(d)
    })
}

pub fn endpoints(conn: &mut DbConn, seller_id: &str) -> Result<Vec<Endpoint>, AppError> {
    Ok(db::webhooks::list_endpoints(conn, seller_id)?)
}

/// One of the seller's endpoints; another seller's is not found.
pub fn endpoint(conn: &mut DbConn, seller_id: &str, id: &str) -> Result<Endpoint, AppError> {
    db::webhooks::find_endpoint(conn, seller_id, id)?.ok_or(AppError::NotFound)
}

/// The latest deliveries to all of the seller's endpoints, for its Settings page.
pub fn log(conn: &mut DbConn, seller_id: &str, limit: i64) -> Result<Vec<LogLine>, AppError> {
    Ok(db::webhooks::log_for_seller(conn, seller_id, limit)?)
}

/// The latest deliveries to one of the seller's endpoints, with every attempt of each.
pub fn deliveries(
    conn: &mut DbConn,
    seller_id: &str,
    endpoint_id: &str,
    limit: i64,
) -> Result<(Vec<Delivery>, Vec<Attempt>), AppError> {
    let e = endpoint(conn, seller_id, endpoint_id)?;
    let deliveries = db::webhooks::deliveries(conn, &e.id, limit)?;
    let ids: Vec<String> = deliveries.iter().map(|d| d.id.clone()).collect();
    let attempts = db::webhooks::attempts_of(conn, &ids)?;
    Ok((deliveries, attempts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_carried_in_ipv6_is_judged_as_the_ipv4_address() {
        for private in [
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0.0.0.0",
            "::ffff:0:127.0.0.1",
            "::ffff:0:192.168.1.1",
            "64:ff9b::10.1.2.3",
        ] {
            let ip: IpAddr = private.parse().unwrap();
            assert!(!is_public(ip), "{private}");
        }
        for public in ["::ffff:8.8.8.8", "::ffff:0:8.8.8.8", "2606:4700::1111"] {
            let ip: IpAddr = public.parse().unwrap();
            assert!(is_public(ip), "{public}");
        }
    }

    #[test]
    fn urls_must_be_https_and_public() {
        assert!(check_url("https://hooks.example.com/waybill", false).is_ok());
        for bad in [
            "http://hooks.example.com/x",
            "ftp://hooks.example.com/x",
            "https://localhost/x",
            "https://api.localhost./x",
            "https://127.0.0.1/x",
            "https://127.1/x",
            "https://0x7f000001/x",
            "https://2130706433/x",
            "https://10.1.2.3/x",
            "https://172.20.0.1/x",
            "https://192.168.1.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://100.100.100.200/x",
            "https://0.0.0.0/x",
            "https://[::1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://[fd00:ec2::254]/x",
            "https://[fe80::1]/x",
            "https://[64:ff9b::a9fe:a9fe]/x",
            "https://[2002:7f00:1::]/x",
            "https://user:pw@hooks.example.com/x",
            "https://intranet/x",
            "not a url",
        ] {
            assert!(check_url(bad, false).is_err(), "{bad}");
        }
        assert!(check_url("http://127.0.0.1:9/x", true).is_ok());
        assert!(is_public("93.184.216.34".parse().unwrap()));
        assert!(is_public("2606:4700::1111".parse().unwrap()));
    }

    #[test]
    fn keys_seal_and_sign() {
        let sbox = SecretBox::new([7; 32]);
        let (key, shown) = new_key().unwrap();
        assert!(shown.starts_with("whsec_"));
        assert_eq!(B64.decode(&shown[6..]).unwrap(), key);
        let sealed = sbox.seal(&key).unwrap();
        assert_ne!(&sealed[12..], &key[..]);
        assert_eq!(sbox.open(&sealed).unwrap(), key);
        assert!(SecretBox::new([8; 32]).open(&sealed).is_err());
        // The Standard Webhooks reference vector.
        let key = B64.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn events_default_to_all_and_unknown_ones_are_refused() {
        assert_eq!(parse_events(None).unwrap().len(), 3);
        let asked = vec!["shipment.status_changed".to_string()];
        assert_eq!(parse_events(Some(&asked)).unwrap(), asked);
        assert!(parse_events(Some(&["shipment.exploded".to_string()])).is_err());
        assert!(parse_events(Some(&[])).is_err());
    }
}
