//! `waybill simulate`: plays realistic carrier event sequences for booked shipments through
//! the real webhook, signed with each channel's secret — UPU codes for the postal lines, the
//! carrier's own codes for express — with some events sent late and out of order and some
//! sent twice, so a newcomer sees tracking move (and the duplicates acknowledged).

use chrono::{Duration, NaiveDateTime};
use serde_json::{Value, json};

use waybill_db::DbConn;
use waybill_domain::Status;
use waybill_domain::carrier_events::CodeFamily;

/// The main line a parcel follows, with hours after booking.
const SCRIPT: [(Status, i64); 8] = [
    (Status::PickedUp, 4),
    (Status::AtOriginFacility, 10),
    (Status::InTransit, 20),
    (Status::Customs, 30),
    (Status::InTransit, 60),
    (Status::Customs, 90),
    (Status::OutForDelivery, 120),
    (Status::Delivered, 126),
];

/// One shipment's events, in the order they happened: (id, code, status, when, where).
pub fn plan(
    number: &str,
    family: CodeFamily,
    booked_at: NaiveDateTime,
    origin: &str,
    destination: &str,
    now: NaiveDateTime,
) -> Vec<Value> {
    // How far each parcel has got varies with its number (stable across runs).
    let seed = number
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
    let steps = 2 + (seed % (SCRIPT.len() as u64 - 1)) as usize;
    let mut out = Vec::new();
    for (k, (status, hours)) in SCRIPT.iter().take(steps).enumerate() {
        let at = booked_at + Duration::hours(*hours) + Duration::minutes((seed % 50) as i64);
        if at > now {
            break;
        }
        let codes: Vec<&str> = family.codes_for(*status).collect();
        let Some(code) = codes.get((seed as usize + k) % codes.len().max(1)).copied() else {
            continue;
        };
        let place = if k < 4 { origin } else { destination };
        let meaning = family
            .table()
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|(_, _, m)| *m)
            .unwrap_or("");
        out.push(json!({
            "id": format!("sim-{number}-{k}"),
            "tracking_number": number,
            "code": code,
            "status": status.as_str(),
            "occurred_at": at.and_utc().to_rfc3339(),
            "location": place,
            "description": meaning,
        }));
    }
    out
}

/// What one run did.
#[derive(Default, Debug)]
pub struct Summary {
    pub shipments: usize,
    pub requests: usize,
    pub accepted: usize,
    pub duplicate: usize,
    pub rejected: usize,
}

/// Builds the requests for up to `limit` open shipments: per channel, one request with every
/// event but the latest of each parcel, shuffled (arrival order is not event order); then one
/// with the late ones and a replay of a few already sent.
pub fn requests(conn: &mut DbConn, limit: i64) -> anyhow::Result<(usize, Vec<(String, String)>)> {
    let now = waybill_db::now();
    let open = waybill_db::tracking::open_shipments(conn, limit)?;
    let mut by_channel: std::collections::BTreeMap<String, (Vec<Value>, Vec<Value>)> =
        Default::default();
    for s in &open {
        let Some(channel) = waybill_db::channels::find(conn, &s.channel_code)? else {
            continue;
        };
        let Some(family) = CodeFamily::of_carrier(&channel.carrier) else {
            continue;
        };
        let sender = &s.sender;
        let origin = format!("{}, {}", sender.latin_city(), sender.country);
        let destination = format!("{}, {}", s.recipient_city, s.recipient_country);
        let mut events = plan(
            &s.tracking_number,
            family,
            s.created_at,
            &origin,
            &destination,
            now,
        );
        let entry = by_channel.entry(s.channel_code.clone()).or_default();
        if let Some(last) = events.pop() {
            entry.1.push(last);
        }
        // A replay of the first event: acknowledged as a duplicate the second time.
        if let Some(first) = events.first() {
            entry.1.push(first.clone());
        }
        entry.0.extend(events);
    }
    let mut out = Vec::new();
    for (code, (mut early, late)) in by_channel {
        early.reverse();
        if !early.is_empty() {
            out.push((code.clone(), json!({ "events": early }).to_string()));
        }
        if !late.is_empty() {
            out.push((code.clone(), json!({ "events": late }).to_string()));
        }
    }
    Ok((open.len(), out))
}

/// Signs and posts the requests to `base_url`'s webhook.
pub async fn post_all(
    base_url: &str,
    secrets: &std::collections::HashMap<String, String>,
    requests: Vec<(String, String)>,
) -> anyhow::Result<Summary> {
    let client = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .finish();
    let mut sum = Summary::default();
    for (channel, body) in requests {
        let secret = secrets
            .get(&channel)
            .ok_or_else(|| anyhow::anyhow!("no secret for {channel}"))?;
        let ts = chrono::Utc::now().timestamp().to_string();
        let sig =
            crate::security::hmac_sha256_hex(secret.as_bytes(), format!("{ts}.{body}").as_bytes());
        let mut resp = client
            .post(format!("{base_url}/api/v1/carrier-events"))
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("X-Waybill-Channel", channel.as_str()))
            .insert_header(("X-Waybill-Timestamp", ts.as_str()))
            .insert_header(("X-Waybill-Signature", format!("sha256={sig}")))
            .send_body(body)
            .await
            .map_err(|e| anyhow::anyhow!("POST {base_url}/api/v1/carrier-events: {e}"))?;
        let status = resp.status();
        let v: Value = resp
            .json()
            .limit(8 << 20)
            .await
            .map_err(|e| anyhow::anyhow!("reading the webhook's answer: {e}"))?;
        if !status.is_success() {
            anyhow::bail!("the webhook answered {status} for {channel}: {v}");
        }
        sum.requests += 1;
        for r in v["results"].as_array().into_iter().flatten() {
            match r["result"].as_str() {
                Some("accepted") => sum.accepted += 1,
                Some("duplicate") => sum.duplicate += 1,
                _ => sum.rejected += 1,
            }
        }
    }
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_use_the_family_codes_in_time_order_and_never_the_future() {
        let booked = chrono::NaiveDate::from_ymd_opt(2026, 11, 1)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap();
        let now = booked + Duration::days(30);
        let p = plan(
            "RR000000080CN",
            CodeFamily::Upu,
            booked,
            "Shenzhen, CN",
            "Berlin, DE",
            now,
        );
        assert!(p.len() >= 2);
        assert_eq!(p[0]["code"], "EMA");
        for e in &p {
            let code = e["code"].as_str().unwrap();
            let st = CodeFamily::Upu.status_of(code).unwrap();
            assert_eq!(e["status"], st.as_str());
        }
        let early = plan("RR000000080CN", CodeFamily::Upu, booked, "a", "b", booked);
        assert!(early.is_empty(), "nothing happens before it happens");
    }
}
