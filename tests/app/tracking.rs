//! Verified tracking: the signed carrier webhook (and everything it must refuse), status from
//! events whatever order they arrive in, the public page and JSON (no personal data), and the
//! transparency log checked here by code written from RFC 9162 and C2SP signed-note, not by
//! the crates that produced it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use diesel::connection::SimpleConnection;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::fixtures::Booking;
use crate::helpers::*;

pub fn secret_of(app: &TestApp, code: &str) -> String {
    waybill::db::channels::find(&mut app.conn(), code)
        .unwrap()
        .unwrap()
        .webhook_secret
}

pub fn sign(secret: &str, ts: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn now_ts() -> String {
    chrono::Utc::now().timestamp().to_string()
}

/// Posts `body` as the carrier webhook with the given headers (None: header left out).
async fn post_raw(
    app: &TestApp,
    channel: Option<&str>,
    ts: Option<&str>,
    sig: Option<&str>,
    body: &str,
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}/api/v1/carrier-events", app.address))
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(c) = channel {
        req = req.header("X-Waybill-Channel", c);
    }
    if let Some(t) = ts {
        req = req.header("X-Waybill-Timestamp", t);
    }
    if let Some(s) = sig {
        req = req.header("X-Waybill-Signature", s);
    }
    req.send().await.unwrap()
}

/// Posts events signed as `channel` would, returning the per-event results.
pub async fn post_events(app: &TestApp, channel: &str, events: Value) -> Vec<Value> {
    let body = json!({ "events": events }).to_string();
    let ts = now_ts();
    let sig = sign(&secret_of(app, channel), &ts, body.as_bytes());
    let r = post_raw(app, Some(channel), Some(&ts), Some(&sig), &body).await;
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let v: Value = r.json().await.unwrap();
    v["results"].as_array().unwrap().clone()
}

/// Books a shipment on `channel` through the API: (shipment id, tracking number).
pub async fn book_on(app: &TestApp, key: &str, channel: &str) -> (String, String) {
    let v = book(app, key, Booking::on(channel)).await;
    (
        v["id"].as_str().unwrap().to_string(),
        v["tracking_number"].as_str().unwrap().to_string(),
    )
}

fn event_count(app: &TestApp, shipment_id: &str) -> usize {
    waybill::db::shipments::events(&mut app.conn(), shipment_id)
        .unwrap()
        .len()
}

fn status_of(app: &TestApp, seller: &str, id: &str) -> String {
    waybill::db::shipments::find(&mut app.conn(), seller, id)
        .unwrap()
        .unwrap()
        .status
        .to_string()
}

fn ev(id: &str, number: &str, code: &str, at: &str) -> Value {
    json!({"id": id, "tracking_number": number, "code": code, "occurred_at": at,
           "location": "Shenzhen, CN", "description": format!("scan {code}")})
}

/// What is sent: a name, then the channel, timestamp and signature headers and the body.
type Case<'a> = (
    &'a str,
    Option<&'a str>,
    Option<String>,
    Option<String>,
    String,
);

#[actix_web::test]
async fn the_webhook_refuses_anything_not_signed_fresh_and_known_and_stores_nothing() {
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (id, number) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    let secret = secret_of(&app, "CNPOST-RAM");
    let body = json!({"events": [ev("e1", &number, "EMA", "2026-11-30T08:00:00Z")]}).to_string();
    let ts = now_ts();
    let good = sign(&secret, &ts, body.as_bytes());
    // The same JSON re-serialised (spaces, key order): a signature over it must not pass.
    let reserialised =
        serde_json::to_string_pretty(&serde_json::from_str::<Value>(&body).unwrap()).unwrap();
    let stale = (chrono::Utc::now().timestamp() - 301).to_string();
    let cases: Vec<Case> = vec![
        (
            "forged",
            Some("CNPOST-RAM"),
            Some(ts.clone()),
            Some(sign("not-the-secret", &ts, body.as_bytes())),
            body.clone(),
        ),
        (
            "re-serialised body",
            Some("CNPOST-RAM"),
            Some(ts.clone()),
            Some(good.clone()),
            reserialised,
        ),
        (
            "stale",
            Some("CNPOST-RAM"),
            Some(stale.clone()),
            Some(sign(&secret, &stale, body.as_bytes())),
            body.clone(),
        ),
        (
            "unknown channel",
            Some("NOPE-X"),
            Some(ts.clone()),
            Some(good.clone()),
            body.clone(),
        ),
        (
            "other channel's secret",
            Some("SF-INTL"),
            Some(ts.clone()),
            Some(good.clone()),
            body.clone(),
        ),
        (
            "no channel",
            None,
            Some(ts.clone()),
            Some(good.clone()),
            body.clone(),
        ),
        (
            "no timestamp",
            Some("CNPOST-RAM"),
            None,
            Some(good.clone()),
            body.clone(),
        ),
        (
            "no signature",
            Some("CNPOST-RAM"),
            Some(ts.clone()),
            None,
            body.clone(),
        ),
        (
            "bare hex",
            Some("CNPOST-RAM"),
            Some(ts.clone()),
            Some(good.trim_start_matches("sha256=").to_string()),
            body.clone(),
        ),
    ];
    for (what, ch, t, s, b) in &cases {
        let r = post_raw(&app, *ch, t.as_deref(), s.as_deref(), b).await;
        assert_eq!(r.status(), 401, "{what}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"].is_string(), "{what}: {v}");
    }
    assert_eq!(event_count(&app, &id), 1, "only the booking event");
    assert_eq!(status_of(&app, &seller.id, &id), "booked");
    let issues = waybill::db::tracking::recent_issues(&mut app.conn(), 100).unwrap();
    assert_eq!(
        issues.len(),
        cases.len(),
        "every refusal is logged for the admin"
    );
    // The correctly signed request is taken.
    let r = post_raw(&app, Some("CNPOST-RAM"), Some(&ts), Some(&good), &body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(event_count(&app, &id), 2);
    assert_eq!(status_of(&app, &seller.id, &id), "picked_up");
}

#[actix_web::test]
async fn each_event_is_taken_once_and_only_for_a_number_booked_on_the_channel() {
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (id, number) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    let (sf_id, sf_number) = book_on(&app, seller.key(), "SF-INTL").await;
    let batch = json!([
        ev("e1", &number, "EMA", "2026-11-30T08:00:00Z"),
        ev("e2", &number, "EMC", "2026-11-30T20:00:00Z"),
        ev("e2", &number, "EMC", "2026-11-30T20:00:00Z"),
        ev("e3", &sf_number, "EMD", "2026-11-30T21:00:00Z"),
        ev("e4", "RR999999995CN", "EMD", "2026-11-30T21:00:00Z"),
        ev("e5", &number, "ZZZ", "2026-11-30T21:00:00Z"),
        json!({"id": "e6", "tracking_number": number, "status": "delivered", "code": "EMA",
               "occurred_at": "2026-11-30T21:00:00Z"}),
        json!({"id": "e7", "tracking_number": number, "status": "in_transit", "occurred_at": "yesterday"}),
    ]);
    let results = post_events(&app, "CNPOST-RAM", batch.clone()).await;
    let got: Vec<(&str, &str)> = results
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["result"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("e1", "accepted"),
            ("e2", "accepted"),
            ("e2", "duplicate"),
            ("e3", "rejected"),
            ("e4", "rejected"),
            ("e5", "rejected"),
            ("e6", "rejected"),
            ("e7", "rejected"),
        ]
    );
    // Another channel's number and an unknown one get the same answer.
    assert_eq!(
        results[3]["reason"]
            .as_str()
            .unwrap()
            .replace(&sf_number, "N"),
        results[4]["reason"]
            .as_str()
            .unwrap()
            .replace("RR999999995CN", "N")
    );
    assert_eq!(event_count(&app, &id), 3);
    assert_eq!(event_count(&app, &sf_id), 1, "nothing for the SF shipment");
    assert_eq!(status_of(&app, &seller.id, &id), "in_transit");
    // A replay of the whole request: every event acknowledged as a duplicate, none stored.
    let again = post_events(&app, "CNPOST-RAM", batch).await;
    assert_eq!(again[0]["result"], "duplicate");
    assert_eq!(again[1]["result"], "duplicate");
    assert_eq!(event_count(&app, &id), 3);
    let events = waybill::db::shipments::events(&mut app.conn(), &id).unwrap();
    let e1 = events
        .iter()
        .find(|e| e.source_event_id.as_deref() == Some("e1"))
        .unwrap();
    assert_eq!(
        e1.code.as_deref(),
        Some("EMA"),
        "the carrier's code is kept"
    );
    assert_eq!(e1.source, "carrier:CNPOST-RAM");
    assert!(e1.request_id.is_some() && e1.log_index.is_some());
    // Express codes map through their carrier's own table.
    let sf = post_events(
        &app,
        "SF-INTL",
        json!([ev("s1", &sf_number, "50", "2026-11-30T08:00:00Z")]),
    )
    .await;
    assert_eq!(sf[0]["result"], "accepted");
    assert_eq!(status_of(&app, &seller.id, &sf_id), "picked_up");
    // Over 1,000 events in one request is refused as a whole.
    let many: Vec<Value> = (0..1001)
        .map(|i| ev(&format!("m{i}"), &number, "EDD", "2026-12-01T00:00:00Z"))
        .collect();
    let body = json!({ "events": many }).to_string();
    let ts = now_ts();
    let sig = sign(&secret_of(&app, "CNPOST-RAM"), &ts, body.as_bytes());
    let r = post_raw(&app, Some("CNPOST-RAM"), Some(&ts), Some(&sig), &body).await;
    assert_eq!(r.status(), 422);
    assert_eq!(event_count(&app, &id), 3);
}

#[actix_web::test]
async fn the_status_does_not_depend_on_arrival_order_and_never_moves_back() {
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (a, na) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    let (b, nb) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    let script = [
        ("EMA", "2026-11-20T08:00:00Z"),
        ("EMC", "2026-11-21T08:00:00Z"),
        ("EME", "2026-11-23T08:00:00Z"),
        ("EDG", "2026-11-25T08:00:00Z"),
        ("EMH", "2026-11-25T18:00:00Z"),
    ];
    for (i, (code, at)) in script.iter().enumerate() {
        post_events(
            &app,
            "CNPOST-RAM",
            json!([ev(&format!("a{i}"), &na, code, at)]),
        )
        .await;
    }
    for (i, (code, at)) in script.iter().enumerate().rev() {
        post_events(
            &app,
            "CNPOST-RAM",
            json!([ev(&format!("b{i}"), &nb, code, at)]),
        )
        .await;
    }
    assert_eq!(status_of(&app, &seller.id, &a), "delivery_failed");
    assert_eq!(status_of(&app, &seller.id, &b), "delivery_failed");
    let timeline = |n: &str| {
        let n = n.to_string();
        let app = &app;
        async move {
            let v: Value = app
                .visitor()
                .get(&format!("/api/v1/tracking/{n}"))
                .await
                .json()
                .await
                .unwrap();
            v["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["status"].clone(), e["occurred_at"].clone()))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        timeline(&na).await,
        timeline(&nb).await,
        "the same timeline"
    );
    // A late scan from before the failure is stored and shown but moves nothing back.
    post_events(
        &app,
        "CNPOST-RAM",
        json!([ev("late", &na, "EDD", "2026-11-24T08:00:00Z")]),
    )
    .await;
    assert_eq!(status_of(&app, &seller.id, &a), "delivery_failed");
    assert_eq!(event_count(&app, &a), 7);
    // Delivered is terminal: a later transit scan changes nothing.
    post_events(
        &app,
        "CNPOST-RAM",
        json!([
            ev("a-del", &na, "EMI", "2026-11-26T10:00:00Z"),
            ev("a-odd", &na, "EMD", "2026-11-27T10:00:00Z")
        ]),
    )
    .await;
    assert_eq!(status_of(&app, &seller.id, &a), "delivered");
    let page = app.visitor().get_html(&format!("/track/{na}")).await;
    assert!(
        page.contains("Delivered") && page.contains("verified"),
        "{page}"
    );
}

#[actix_web::test]
async fn the_public_page_and_json_show_no_personal_data() {
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (_, number) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    post_events(
        &app,
        "CNPOST-RAM",
        json!([ev("e1", &number, "EMA", "2026-11-30T08:00:00Z")]),
    )
    .await;
    let r = app
        .visitor()
        .get(&format!("/api/v1/tracking/{number}"))
        .await;
    assert_eq!(r.status(), 200);
    let json_text = r.text().await.unwrap();
    let v: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(v["status"], "picked_up");
    assert_eq!(v["channel"]["code"], "CNPOST-RAM");
    assert_eq!(v["origin"], json!({"city": "Shenzhen", "country": "CN"}));
    assert_eq!(v["destination"], json!({"city": "Berlin", "country": "DE"}));
    assert!(v["estimated_delivery"]["from"].is_string());
    assert_eq!(v["events"][0]["verified"], true);
    let page = app.visitor().get_html(&format!("/track/{number}")).await;
    assert!(
        page.contains("Berlin") && page.contains("Picked up"),
        "{page}"
    );
    let sender = crate::fixtures::sender();
    let recipient = Booking::on("CNPOST-RAM").json()["recipient"].clone();
    for party in [&sender, &recipient] {
        for (field, value) in party.as_object().unwrap() {
            if field == "city" || field == "country" {
                continue;
            }
            let s = value.as_str().unwrap();
            assert!(!json_text.contains(s), "the JSON shows {field} {s}");
            assert!(!page.contains(s), "the page shows {field} {s}");
        }
    }
    // The record inside the log carries no personal data either.
    let record = B64
        .decode(v["events"][0]["log"]["record"].as_str().unwrap_or(""))
        .unwrap_or_default();
    let record = String::from_utf8(record).unwrap();
    for s in [
        "Anna",
        "Friedrich",
        "10117",
        "+49",
        "anna@",
        "Li Wei",
        "518057",
    ] {
        assert!(!record.contains(s), "{record}");
    }
    // Unknown numbers: a friendly 404 page and a JSON 404.
    let r = app.visitor().get("/track/RR000000000XX").await;
    assert_eq!(r.status(), 404);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("could not find that parcel")
    );
    let r = app.visitor().get("/api/v1/tracking/RR000000000XX").await;
    assert_eq!(r.status(), 404);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    // The search box leads to the page.
    let r = app
        .visitor()
        .get(&format!("/track?number={}", number.to_lowercase()))
        .await;
    assert_eq!(location(&r), format!("/track/{number}"));
    assert!(
        app.visitor()
            .get_html("/login")
            .await
            .contains("action=\"/track\"")
    );
}

#[actix_web::test]
async fn the_public_tracking_is_rate_limited_per_client() {
    let app = spawn_app_with(Options {
        env: vec![("WAYBILL_PUBLIC_RATE_LIMIT", "3")],
        ..Default::default()
    })
    .await;
    let v = app.visitor();
    for _ in 0..2 {
        assert_eq!(v.get("/api/v1/tracking/RR000000000XX").await.status(), 404);
    }
    assert_eq!(v.get("/track/RR000000000XX").await.status(), 404);
    assert_eq!(v.get("/api/v1/tracking/RR000000000XX").await.status(), 429);
    assert_eq!(v.get("/track/RR000000000XX").await.status(), 429);
}

fn leaf_hash(record: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(record);
    h.finalize().into()
}

fn node_hash(l: &[u8; 32], r: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(l);
    h.update(r);
    h.finalize().into()
}

/// RFC 9162 §2.1.3.2: the root an audit path leads to from leaf `index` of `size`.
fn root_from_inclusion(
    index: u64,
    size: u64,
    leaf: [u8; 32],
    path: &[[u8; 32]],
) -> Option<[u8; 32]> {
    if index >= size {
        return None;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = leaf;
    for p in path {
        if sn == 0 {
            return None;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(r)
}

/// Checks a C2SP signed note against a verifier key `name+id+base64(0x01 ‖ key)` by hand;
/// returns the note's body lines.
fn verify_note(note: &str, vkey: &str) -> Result<Vec<String>, String> {
    let mut parts = vkey.trim().splitn(3, '+');
    let (name, id_hex, key64) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let key = B64.decode(key64).unwrap();
    assert_eq!(key[0], 1, "Ed25519");
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(&key);
    let id: [u8; 4] = h.finalize()[..4].try_into().unwrap();
    assert_eq!(
        hex::encode(id),
        id_hex,
        "the key id is SHA-256(name ‖ \\n ‖ 0x01 ‖ key)[:4]"
    );
    let split = note.rfind("\n\n").ok_or("no blank line")?;
    let (body, sigs) = (&note[..split + 1], &note[split + 2..]);
    let vk = ed25519_dalek::VerifyingKey::from_bytes(key[1..].try_into().unwrap()).unwrap();
    for line in sigs.lines() {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or("not an em-dash signature line")?;
        let (who, sig64) = rest.split_once(' ').ok_or("no signature")?;
        let sig = B64.decode(sig64).map_err(|e| e.to_string())?;
        if who != name || sig[..4] != id {
            continue;
        }
        let s = ed25519_dalek::Signature::from_slice(&sig[4..]).map_err(|e| e.to_string())?;
        use ed25519_dalek::Verifier;
        vk.verify(body.as_bytes(), &s).map_err(|e| e.to_string())?;
        return Ok(body.lines().map(str::to_string).collect());
    }
    Err("no signature by this key".into())
}

#[actix_web::test]
async fn inclusion_proofs_and_the_checkpoint_check_out_by_hand() {
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (_, n1) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    let (_, n2) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    let mut events = Vec::new();
    for i in 0..6 {
        events.push(ev(
            &format!("x{i}"),
            if i % 2 == 0 { &n1 } else { &n2 },
            ["EMA", "EMA", "EMC", "EMC", "EMD", "EMD"][i],
            &format!("2026-11-2{i}T08:00:00Z"),
        ));
    }
    post_events(&app, "CNPOST-RAM", json!(events)).await;
    let before: Value = app
        .visitor()
        .get(&format!("/api/v1/tracking/{n1}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(before["checkpoint"].is_null());
    assert!(
        before["events"][0]["log"].is_null(),
        "newer than any checkpoint"
    );
    waybill::services::tracking_log::take_checkpoint(&mut app.conn(), &app.state.log_key).unwrap();
    // One more event after the checkpoint: shown, with no proof yet.
    post_events(
        &app,
        "CNPOST-RAM",
        json!([ev("x9", &n1, "EDD", "2026-11-29T08:00:00Z")]),
    )
    .await;
    let vkey = app.visitor().get_html("/.well-known/waybill-log-key").await;
    assert!(vkey.starts_with("127.0.0.1/tracking-log+"), "{vkey}");
    for n in [&n1, &n2] {
        let v: Value = app
            .visitor()
            .get(&format!("/api/v1/tracking/{n}"))
            .await
            .json()
            .await
            .unwrap();
        let lines = verify_note(v["checkpoint"].as_str().unwrap(), &vkey).unwrap();
        assert_eq!(lines[0], "127.0.0.1/tracking-log");
        let size: u64 = lines[1].parse().unwrap();
        assert_eq!(size, 6);
        let root: [u8; 32] = B64.decode(&lines[2]).unwrap().try_into().unwrap();
        let mut proven = 0;
        for e in v["events"].as_array().unwrap() {
            if e["log"].is_null() {
                assert_eq!(e["status"], "in_transit", "only the post-checkpoint event");
                continue;
            }
            let record = B64.decode(e["log"]["record"].as_str().unwrap()).unwrap();
            let r: Value = serde_json::from_slice(&record).unwrap();
            assert_eq!(r["tracking_number"], n.as_str());
            assert_eq!(r["status"], e["status"]);
            assert_eq!(r["location"], e["location"]);
            assert_eq!(r["description"], e["description"]);
            let path: Vec<[u8; 32]> = e["log"]["inclusion"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| B64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
                .collect();
            let index = e["log"]["index"].as_u64().unwrap();
            assert_eq!(
                root_from_inclusion(index, size, leaf_hash(&record), &path),
                Some(root),
                "event {index}"
            );
            let mut tampered = record.clone();
            tampered[5] ^= 1;
            assert_ne!(
                root_from_inclusion(index, size, leaf_hash(&tampered), &path),
                Some(root)
            );
            proven += 1;
        }
        assert_eq!(proven, 3);
    }
    // A note signed by another key does not pass the check.
    let other = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let forged = resign(
        "127.0.0.1/tracking-log\n6\nAAAA\n",
        &other,
        "127.0.0.1/tracking-log",
    );
    assert!(verify_note(&forged, &vkey).is_err());
}

/// A checkpoint body signed with `key` under `name`, as another server would.
fn resign(body: &str, key: &ed25519_dalek::SigningKey, name: &str) -> String {
    use ed25519_dalek::Signer;
    let mut pk = vec![1u8];
    pk.extend_from_slice(key.verifying_key().as_bytes());
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(&pk);
    let id = &h.finalize()[..4];
    let mut sig = id.to_vec();
    sig.extend_from_slice(&key.sign(body.as_bytes()).to_bytes());
    format!("{body}\n\u{2014} {name} {}\n", B64.encode(sig))
}

fn verify_cli(app: &TestApp) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_waybill"))
        .arg("verify-chain")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.db.url)
        .env("WAYBILL_DATA_DIR", app.db.dir.path())
        .current_dir(app.db.dir.path())
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// What someone with write access to the database does first: lift the append-only guard.
fn lift_guard(app: &TestApp) {
    let sql = if backend_is_postgres() {
        "DROP TRIGGER shipment_events_no_change ON shipment_events"
    } else {
        "DROP TRIGGER shipment_events_no_update; DROP TRIGGER shipment_events_no_delete"
    };
    app.conn().batch_execute(sql).unwrap();
}

#[actix_web::test]
async fn verify_chain_finds_an_edited_column_a_deleted_row_and_a_foreign_checkpoint() {
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (_, n1) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    let evs: Vec<Value> = (0..5)
        .map(|i| {
            ev(
                &format!("v{i}"),
                &n1,
                ["EMA", "EMC", "EMD", "EDD", "EDG"][i],
                &format!("2026-11-2{i}T08:00:00Z"),
            )
        })
        .collect();
    post_events(&app, "CNPOST-RAM", json!(evs)).await;
    waybill::services::tracking_log::take_checkpoint(&mut app.conn(), &app.state.log_key).unwrap();
    post_events(
        &app,
        "CNPOST-RAM",
        json!([ev("v9", &n1, "EMI", "2026-11-28T08:00:00Z")]),
    )
    .await;
    waybill::services::tracking_log::take_checkpoint(&mut app.conn(), &app.state.log_key).unwrap();
    let (ok, out) = verify_cli(&app);
    assert!(ok, "{out}");
    assert!(out.contains("ok: 6 event(s)"), "{out}");
    // The store refuses edits as it stands.
    let edit = "UPDATE shipment_events SET location = 'Elsewhere' WHERE source_event_id = 'v2'";
    assert!(app.conn().batch_execute(edit).is_err(), "append-only");
    lift_guard(&app);
    let id_of = |sid: &str| {
        waybill::db::tracking::logged_events(&mut app.conn(), 0, 100)
            .unwrap()
            .into_iter()
            .find(|(e, _, _)| e.source_event_id.as_deref() == Some(sid))
            .unwrap()
            .0
            .id
    };
    let (v2, v3) = (id_of("v2"), id_of("v3"));
    // An edited column.
    app.conn().batch_execute(edit).unwrap();
    let (ok, out) = verify_cli(&app);
    assert!(!ok, "{out}");
    assert!(out.contains(&v2) && out.contains("edited"), "{out}");
    app.conn()
        .batch_execute(
            "UPDATE shipment_events SET location = 'Shenzhen, CN' WHERE source_event_id = 'v2'",
        )
        .unwrap();
    assert!(verify_cli(&app).0, "restored");
    // A deleted row.
    app.conn()
        .batch_execute(&format!("CREATE TABLE kept AS SELECT * FROM shipment_events WHERE id = '{v3}'; DELETE FROM shipment_events WHERE id = '{v3}'"))
        .unwrap();
    let (ok, out) = verify_cli(&app);
    assert!(!ok, "{out}");
    assert!(
        out.contains("log record 3") && out.contains("deleted"),
        "{out}"
    );
    app.conn()
        .batch_execute("INSERT INTO shipment_events SELECT * FROM kept; DROP TABLE kept")
        .unwrap();
    assert!(verify_cli(&app).0, "restored");
    // A checkpoint re-signed with another key.
    let latest = waybill::db::tracking::latest_checkpoint(&mut app.conn())
        .unwrap()
        .unwrap();
    let body = &latest.note[..latest.note.rfind("\n\n").unwrap() + 1];
    let forged = resign(
        body,
        &ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]),
        "127.0.0.1/tracking-log",
    );
    waybill::db::tracking::insert_checkpoint(
        &mut app.conn(),
        &waybill::db::tracking::StoredCheckpoint {
            id: waybill::db::new_id(),
            tree_size: latest.tree_size,
            root_hash: latest.root_hash.clone(),
            note: forged,
            created_at: waybill::db::now(),
        },
    )
    .unwrap();
    let (ok, out) = verify_cli(&app);
    assert!(!ok, "{out}");
    assert!(
        out.contains("checkpoint 3") && out.contains("not signed by this log's key"),
        "{out}"
    );
    // And this server no longer checkpoints over it.
    assert!(
        waybill::services::tracking_log::take_checkpoint(&mut app.conn(), &app.state.log_key)
            .is_err()
    );
}

#[actix_web::test]
async fn the_cli_prints_the_secret_rotates_it_and_takes_checkpoints() {
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (_, n1) = book_on(&app, seller.key(), "DHL-EXPRESS").await;
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_waybill"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &app.db.url)
            .env("WAYBILL_DATA_DIR", app.db.dir.path())
            .current_dir(app.db.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let printed = cli(&["channel", "secret", "DHL-EXPRESS"]);
    assert_eq!(printed.trim(), secret_of(&app, "DHL-EXPRESS"));
    let ok = post_events(
        &app,
        "DHL-EXPRESS",
        json!([ev("d1", &n1, "PU", "2026-11-30T08:00:00Z")]),
    )
    .await;
    assert_eq!(ok[0]["result"], "accepted");
    let note = cli(&["checkpoint"]);
    let vkey = app.visitor().get_html("/.well-known/waybill-log-key").await;
    let lines = verify_note(&note, &vkey).unwrap();
    assert_eq!(lines[1], "1");
    // Within 5 s the server shows the checkpoint the CLI took.
    let v: Value = app
        .visitor()
        .get(&format!("/api/v1/tracking/{n1}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["checkpoint"].as_str().unwrap(), note);
    // Rotation: the old secret still signs during the grace period, the new one too.
    let old = printed.trim().to_string();
    let new = cli(&["channel", "rotate-secret", "DHL-EXPRESS"]);
    assert_ne!(new.trim(), old);
    for (i, secret) in [old.as_str(), new.trim()].into_iter().enumerate() {
        let body = json!({"events": [ev(&format!("r{i}"), &n1, "AF", "2026-11-30T09:00:00Z")]})
            .to_string();
        let ts = now_ts();
        let r = post_raw(
            &app,
            Some("DHL-EXPRESS"),
            Some(&ts),
            Some(&sign(secret, &ts, body.as_bytes())),
            &body,
        )
        .await;
        assert_eq!(r.status(), 200, "secret {i}");
    }
}

#[actix_web::test]
async fn concurrent_batches_make_one_gap_free_log() {
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let mut numbers = Vec::new();
    for _ in 0..4 {
        numbers.push(book_on(&app, seller.key(), "CNPOST-RAM").await.1);
    }
    let posts = (0..8).map(|b| {
        let events: Vec<Value> = (0..25)
            .map(|i| {
                ev(
                    &format!("c{b}-{i}"),
                    &numbers[(b + i) % 4],
                    "EDD",
                    &format!("2026-11-2{}T08:{:02}:00Z", b % 9, i),
                )
            })
            .collect();
        post_events(&app, "CNPOST-RAM", json!(events))
    });
    let results = futures_util::future::join_all(posts).await;
    assert!(results.iter().flatten().all(|r| r["result"] == "accepted"));
    let logged = waybill::db::tracking::logged_events(&mut app.conn(), 0, 1_000).unwrap();
    let indexes: Vec<i64> = logged
        .iter()
        .map(|(e, _, _)| e.log_index.unwrap())
        .collect();
    assert_eq!(indexes, (0..200).collect::<Vec<i64>>());
    assert_eq!(
        waybill::db::tracking::head_size(&mut app.conn()).unwrap(),
        200
    );
    waybill::services::tracking_log::take_checkpoint(&mut app.conn(), &app.state.log_key).unwrap();
    let v =
        waybill::services::tracking_log::verify_chain(&mut app.conn(), &app.state.log_key).unwrap();
    assert!(v.holds(), "{:?}", v.problems);
    assert_eq!(v.events, 200);
}

#[actix_web::test]
async fn a_courier_scan_is_recorded_once_logged_and_checkpointed_by_the_job() {
    use waybill::services::tracking::{EventInput, Recorded, courier_source, record};
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (id, number) = book_on(&app, seller.key(), "SF-INTL").await;
    let shipment = waybill::db::shipments::find(&mut app.conn(), &seller.id, &id)
        .unwrap()
        .unwrap();
    let input = EventInput {
        source: courier_source("courier-1"),
        source_event_id: Some("scan-1".into()),
        status: waybill::domain::Status::PickedUp,
        code: None,
        occurred_at: waybill::db::now(),
        location: Some("Shenzhen, CN".into()),
        description: "Collected by the courier".into(),
        raw: Some(r#"{"barcode":"x"}"#.into()),
    };
    let first = record(&mut app.conn(), &shipment, input.clone()).unwrap();
    assert!(
        matches!(
            first,
            Recorded::Accepted {
                status: waybill::domain::Status::PickedUp,
                ..
            }
        ),
        "{first:?}"
    );
    assert_eq!(
        record(&mut app.conn(), &shipment, input).unwrap(),
        Recorded::Duplicate
    );
    assert_eq!(status_of(&app, &seller.id, &id), "picked_up");
    // The periodic job checkpoints a log that has grown.
    waybill::jobs::run_due_at(
        &app.state.pool,
        waybill::services::sessions::Lifetimes::of(&app.state.config),
        "",
        chrono::Utc::now(),
        Some(&app.state.log_key),
    )
    .unwrap();
    let v: Value = app
        .visitor()
        .get(&format!("/api/v1/tracking/{number}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(v["checkpoint"].as_str().unwrap().contains("\n1\n"), "{v}");
    assert_eq!(v["events"][0]["log"]["index"], 0);
    // The seller sees the verified timeline on the page and in the API.
    let api: Value = app
        .api_get(seller.key(), &format!("/shipments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let evs = api["events"].as_array().unwrap();
    assert!(
        evs.iter()
            .any(|e| e["source"] == "courier:courier-1" && e["verified"] == true),
        "{api}"
    );
}

#[actix_web::test]
async fn simulate_moves_tracking_through_the_real_webhook() {
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 200_000).await;
    let mut booked = Vec::new();
    for ch in ["CNPOST-RAM", "SF-INTL", "UPS-SAVER"] {
        booked.push(book_on(&app, seller.key(), ch).await);
    }
    // Booked two weeks ago, so the carriers have had time to scan.
    let mut c = app.conn();
    let past = "2026-11-10 08:00:00";
    c.batch_execute(&format!("UPDATE shipments SET created_at = '{past}'"))
        .unwrap();
    drop(c);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_waybill"))
        .args(["simulate", "--url", &app.address])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.db.url)
        .env("WAYBILL_DATA_DIR", app.db.dir.path())
        .current_dir(app.db.dir.path())
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("3 shipment(s)")
            && text.contains("3 duplicate")
            && text.contains("0 rejected"),
        "{text}"
    );
    for (id, _) in &booked {
        assert_ne!(status_of(&app, &seller.id, id), "booked", "{text}");
        assert!(event_count(&app, id) >= 3);
    }
    // Run again: everything is a duplicate, nothing new is stored.
    let counts: Vec<usize> = booked.iter().map(|(id, _)| event_count(&app, id)).collect();
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_waybill"))
        .args(["simulate", "--url", &app.address])
        .env_clear()
        .env("DATABASE_URL", &app.db.url)
        .env("WAYBILL_DATA_DIR", app.db.dir.path())
        .current_dir(app.db.dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains(" 0 accepted"));
    assert_eq!(
        counts,
        booked
            .iter()
            .map(|(id, _)| event_count(&app, id))
            .collect::<Vec<_>>()
    );
}

#[actix_web::test]
async fn sellers_and_admins_see_no_tracking_and_stale_shipments() {
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 200_000).await;
    let (quiet, quiet_n) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    let (stale, stale_n) = book_on(&app, seller.key(), "SF-INTL").await;
    let (moving, moving_n) = book_on(&app, seller.key(), "SF-INTL").await;
    let (fresh, fresh_n) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    // Three booked three weeks ago; one just now.
    app.conn()
        .batch_execute(&format!(
            "UPDATE shipments SET created_at = '2026-11-01 08:00:00' WHERE id <> '{fresh}'"
        ))
        .unwrap();
    let recent = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    post_events(
        &app,
        "SF-INTL",
        json!([
            ev("s1", &stale_n, "50", "2026-11-02T08:00:00Z"),
            ev("m1", &moving_n, "50", "2026-11-02T08:00:00Z"),
            ev("m2", &moving_n, "36", &recent),
        ]),
    )
    .await;
    let api = |q: &'static str| {
        let (app, key) = (&app, seller.key());
        async move {
            let v: Value = app
                .api_get(key, &format!("/shipments?tracking={q}"))
                .await
                .json()
                .await
                .unwrap();
            v["shipments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(api("no_tracking").await, vec![quiet.clone()]);
    assert_eq!(api("stale").await, vec![stale.clone()]);
    let _ = (&moving, &fresh_n, &quiet_n, &seller.id);
    // The seller's list shows the flags and filters by them.
    let v = app.visitor();
    v.login("s@example.com", PASSWORD).await;
    let page = v.get_html("/shipments?tracking=no_tracking").await;
    assert!(
        page.contains(&quiet_n) && !page.contains(&stale_n) && !page.contains(&fresh_n),
        "{page}"
    );
    let all = v.get_html("/shipments").await;
    assert_eq!(all.matches("data-flag=\"No tracking\"").count(), 1, "{all}");
    assert_eq!(all.matches("data-flag=\"Stale\"").count(), 1);
    // The admin sees both across sellers.
    let admin = app
        .signed_in(waybill::domain::Role::Admin, "admin@example.com")
        .await;
    let page = admin.get_html("/admin/tracking").await;
    assert!(
        page.contains("No tracking (1)") && page.contains("Stale (1)"),
        "{page}"
    );
    assert!(page.contains(&quiet_n) && page.contains(&stale_n) && !page.contains(&moving_n));
}

#[actix_web::test]
async fn an_admin_rotates_a_secret_with_a_grace_period() {
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (_, number) = book_on(&app, seller.key(), "UPS-SAVER").await;
    let old = secret_of(&app, "UPS-SAVER");
    let admin = app
        .signed_in(waybill::domain::Role::Admin, "admin@example.com")
        .await;
    let r = admin
        .submit(
            "/admin/channels/UPS-SAVER",
            "/admin/channels/UPS-SAVER/rotate-secret",
            &[],
        )
        .await;
    assert_eq!(location(&r), "/admin/channels/UPS-SAVER");
    let new = secret_of(&app, "UPS-SAVER");
    assert_ne!(new, old);
    let page = admin.get_html("/admin/channels/UPS-SAVER").await;
    assert!(page.contains(&new), "the new secret is shown once");
    assert!(
        !admin
            .get_html("/admin/channels/UPS-SAVER")
            .await
            .contains(&new)
    );
    for (i, secret) in [&old, &new].into_iter().enumerate() {
        let body = json!({"events": [ev(&format!("u{i}"), &number, "PU", "2026-11-30T08:00:00Z")]})
            .to_string();
        let ts = now_ts();
        let r = post_raw(
            &app,
            Some("UPS-SAVER"),
            Some(&ts),
            Some(&sign(secret, &ts, body.as_bytes())),
            &body,
        )
        .await;
        assert_eq!(r.status(), 200);
    }
    // After the grace period only the new secret signs.
    app.conn()
        .batch_execute("UPDATE channels SET previous_secret_expires_at = '2000-01-01 00:00:00'")
        .unwrap();
    let body = json!({"events": [ev("u9", &number, "AR", "2026-11-30T09:00:00Z")]}).to_string();
    let ts = now_ts();
    let r = post_raw(
        &app,
        Some("UPS-SAVER"),
        Some(&ts),
        Some(&sign(&old, &ts, body.as_bytes())),
        &body,
    )
    .await;
    assert_eq!(r.status(), 401);
}

/// The tracking migration reverts (after the ones above it) with events logged and
/// checkpointed, and applies again.
#[actix_web::test]
async fn the_tracking_migration_reverts_with_logged_events_in_place() {
    use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
    const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
    const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (_, n1) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    let stored = post_events(
        &app,
        "CNPOST-RAM",
        json!([ev("m1", &n1, "EMA", "2026-11-20T08:00:00Z")]),
    )
    .await;
    assert_eq!(stored[0]["result"], "accepted");
    waybill::services::tracking_log::take_checkpoint(&mut app.conn(), &app.state.log_key).unwrap();
    let mut conn = app.conn();
    let mut reverted = 0;
    loop {
        let version = match &mut *conn {
            waybill::db::DbConn::Sqlite(c) => c.revert_last_migration(SQLITE),
            waybill::db::DbConn::Postgres(c) => c.revert_last_migration(POSTGRES),
        }
        .unwrap_or_else(|e| panic!("reverting: {e}"))
        .to_string();
        reverted += 1;
        // Diesel names a migration by the digits of its folder's name.
        if version == "20261130200000" {
            break;
        }
        assert!(reverted < 20, "the tracking migration was never reverted");
    }
    assert!(
        conn.batch_execute("SELECT size FROM tracking_log_head")
            .is_err(),
        "its tables are gone"
    );
    assert_eq!(waybill::db::migrate(&mut conn).unwrap().len(), reverted);
}

/// Rejected requests are kept for the admin only so long and so many: the periodic job
/// deletes those older than the limit, and any beyond the newest N.
#[actix_web::test]
async fn the_jobs_keep_the_tracking_issues_bounded() {
    use waybill::db::tracking::{TrackingIssue, insert_issues, prune_issues, recent_issues};
    let app = spawn_app().await;
    let now = waybill::db::now();
    let issue = |id: &str, days_ago: i64| TrackingIssue {
        id: id.into(),
        channel_code: Some("CNPOST-RAM".into()),
        source: "carrier-webhook".into(),
        event_id: None,
        tracking_number: None,
        reason: "bad signature".into(),
        request_digest: None,
        created_at: now - chrono::Duration::days(days_ago),
    };
    let days = waybill::services::tracking::ISSUES_KEPT_DAYS;
    insert_issues(
        &mut app.conn(),
        &[
            issue("old-1", days + 10),
            issue("old-2", days + 1),
            issue("a", days - 1),
            issue("b", 0),
            issue("c", 0),
            issue("d", 0),
        ],
    )
    .unwrap();
    waybill::jobs::run_due(
        &app.state.pool,
        waybill::services::sessions::Lifetimes::of(&app.state.config),
    )
    .unwrap();
    let ids = |app: &TestApp| -> Vec<String> {
        recent_issues(&mut app.conn(), 100)
            .unwrap()
            .into_iter()
            .map(|i| i.id)
            .collect()
    };
    assert_eq!(ids(&app), ["d", "c", "b", "a"], "the old ones went");
    // Beyond the newest N (ties on the time broken by id, as the admin page lists them).
    let deleted = prune_issues(&mut app.conn(), now - chrono::Duration::days(days), 2).unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(ids(&app), ["d", "c"]);
    assert_eq!(
        prune_issues(&mut app.conn(), now - chrono::Duration::days(days), 2).unwrap(),
        0,
        "nothing more to delete"
    );
}

/// Checks every proof in a tracking JSON against its checkpoint by hand; returns the
/// checkpoint's size and how many events it proved.
fn check_proofs(v: &Value, vkey: &str) -> (u64, usize) {
    let lines = verify_note(v["checkpoint"].as_str().unwrap(), vkey).unwrap();
    let size: u64 = lines[1].parse().unwrap();
    let root: [u8; 32] = B64.decode(&lines[2]).unwrap().try_into().unwrap();
    let mut proven = 0;
    for e in v["events"].as_array().unwrap() {
        if e["log"].is_null() {
            continue;
        }
        let record = B64.decode(e["log"]["record"].as_str().unwrap()).unwrap();
        let path: Vec<[u8; 32]> = e["log"]["inclusion"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| B64.decode(h.as_str().unwrap()).unwrap().try_into().unwrap())
            .collect();
        let index = e["log"]["index"].as_u64().unwrap();
        assert_eq!(
            root_from_inclusion(index, size, leaf_hash(&record), &path),
            Some(root),
            "event {index} in a tree of {size}"
        );
        proven += 1;
    }
    (size, proven)
}

/// Proofs served from memory (again and again, and after the log grows and a new checkpoint
/// is taken) check out by hand, and are the very proofs a cache that keeps nothing builds.
#[actix_web::test]
async fn cached_proofs_check_out_across_checkpoints_and_repeat_reads() {
    use waybill::services::public_tracking::public_view;
    use waybill::services::tracking_log::cache::TrackingCache;
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (_, n1) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    let (_, n2) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    let vkey = app.visitor().get_html("/.well-known/waybill-log-key").await;
    let get = |n: String| {
        let app = &app;
        async move {
            app.visitor()
                .get(&format!("/api/v1/tracking/{n}"))
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let mut posted = 0;
    for (round, events) in [5, 4, 6].into_iter().enumerate() {
        let batch: Vec<Value> = (0..events)
            .map(|i| {
                posted += 1;
                ev(
                    &format!("k{round}-{i}"),
                    if i % 2 == 0 { &n1 } else { &n2 },
                    ["EMA", "EMC", "EMD", "EDD"][i % 4],
                    &format!("2026-11-{:02}T08:{i:02}:00Z", 10 + round),
                )
            })
            .collect();
        post_events(&app, "CNPOST-RAM", json!(batch)).await;
        waybill::services::tracking_log::take_checkpoint(&mut app.conn(), &app.state.log_key)
            .unwrap();
        for _ in 0..2 {
            let (v1, v2) = (get(n1.clone()).await, get(n2.clone()).await);
            let (s1, p1) = check_proofs(&v1, &vkey);
            let (s2, p2) = check_proofs(&v2, &vkey);
            assert_eq!(
                (s1, s2),
                (posted, posted),
                "the new checkpoint shows at once"
            );
            assert_eq!(p1 + p2, posted as usize, "every event is proven");
        }
    }
    let nothing_kept = TrackingCache::new(1, 1, std::time::Duration::ZERO);
    for n in [&n1, &n2] {
        let fresh = public_view(&mut app.conn(), &nothing_kept, n)
            .unwrap()
            .unwrap();
        assert_eq!(serde_json::to_value(fresh).unwrap(), get(n.clone()).await);
    }
}

/// The latest checkpoint is kept in memory for a moment: one this process takes shows at
/// once, one another server or the CLI takes as soon as the moment is over.
#[actix_web::test]
async fn the_latest_checkpoint_is_kept_only_briefly() {
    use waybill::services::tracking_log::cache::TrackingCache;
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (_, n1) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    post_events(
        &app,
        "CNPOST-RAM",
        json!([ev("b1", &n1, "EMA", "2026-11-20T08:00:00Z")]),
    )
    .await;
    let ttl = std::time::Duration::from_millis(300);
    let cache = TrackingCache::new(16, 1 << 20, ttl);
    let size = |cache: &TrackingCache| {
        cache
            .latest_checkpoint(&mut app.conn())
            .unwrap()
            .map(|c| c.tree_size)
    };
    assert_eq!(size(&cache), None);
    waybill::services::tracking_log::take_checkpoint(&mut app.conn(), &app.state.log_key).unwrap();
    assert_eq!(
        size(&cache),
        Some(1),
        "this process's checkpoint shows at once"
    );
    // Another server's checkpoint, straight into the shared database.
    let latest = waybill::db::tracking::latest_checkpoint(&mut app.conn())
        .unwrap()
        .unwrap();
    waybill::db::tracking::insert_checkpoint(
        &mut app.conn(),
        &waybill::db::tracking::StoredCheckpoint {
            id: waybill::db::new_id(),
            tree_size: 2,
            created_at: waybill::db::now(),
            ..latest
        },
    )
    .unwrap();
    std::thread::sleep(ttl + std::time::Duration::from_millis(50));
    assert_eq!(size(&cache), Some(2), "another's shows within the TTL");
}

/// The public page is read abroad: the origin city in Latin letters (深圳 → Shenzhen); a
/// cancelled shipment says so instead of waiting for a first scan.
#[actix_web::test]
async fn the_public_page_names_the_origin_in_latin_and_says_when_cancelled() {
    let app = spawn_app().await;
    let seller = app
        .seller("abroad@example.com")
        .funded(500_000)
        .with_key()
        .build()
        .await;
    let r = app
        .api_post(
            seller.key(),
            "/addresses",
            &json!({"name": "王小明", "street1": "科技园南路 18号", "city": "深圳",
                    "postal_code": "518057", "country": "CN", "phone": "13800138000"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let s = book(
        &app,
        seller.key(),
        crate::fixtures::Booking::on("CNPOST-RAM"),
    )
    .await;
    let tn = s["tracking_number"].as_str().unwrap();
    let page = app.visitor().get_html(&format!("/track/{tn}")).await;
    assert!(page.contains("id=\"origin\">Shenzhen, CN<"), "{page}");
    assert!(!page.contains("深圳"), "{page}");
    let json: Value = app
        .visitor()
        .get(&format!("/api/v1/tracking/{tn}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["origin"]["city"], "Shenzhen");
    assert!(
        !page.contains("id=\"late\""),
        "booked today, on time: {page}"
    );

    // Booked 60 days ago and not delivered: past the channel's longest transit.
    let id = s["id"].as_str().unwrap();
    {
        use diesel::prelude::*;
        use waybill::db::schema::shipments;
        diesel::update(shipments::table.find(id))
            .set(shipments::created_at.eq(waybill::db::now() - chrono::Duration::days(60)))
            .execute(&mut *app.conn())
            .unwrap();
    }
    let page = app.visitor().get_html(&format!("/track/{tn}")).await;
    assert!(page.contains("id=\"late\">running late"), "{page}");

    let r = app
        .api_post(seller.key(), &format!("/shipments/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let page = app.visitor().get_html(&format!("/track/{tn}")).await;
    assert!(page.contains("id=\"cancelled\""), "{page}");
    assert!(!page.contains("id=\"milestones\"") && !page.contains("id=\"no-events\""));
}

#[actix_web::test]
async fn a_leap_second_is_stored_as_logged_and_the_chain_still_verifies() {
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (id, n) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    let results = post_events(
        &app,
        "CNPOST-RAM",
        json!([ev("leap", &n, "EMA", "2026-12-07T23:59:60Z")]),
    )
    .await;
    assert_eq!(results[0]["result"], "accepted", "{results:?}");
    let stored = waybill::db::shipments::events(&mut app.conn(), &id)
        .unwrap()
        .into_iter()
        .find(|e| e.source_event_id.as_deref() == Some("leap"))
        .unwrap();
    assert_eq!(
        stored.occurred_at.to_string(),
        "2026-12-07 23:59:59.999999",
        "a leap second is kept as the last microsecond of its minute"
    );
    waybill::services::tracking_log::take_checkpoint(&mut app.conn(), &app.state.log_key).unwrap();
    let (ok, out) = verify_cli(&app);
    assert!(ok, "{out}");
}

#[actix_web::test]
async fn verify_chain_names_every_edited_event_not_only_the_first() {
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (_, n) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    let evs: Vec<Value> = (0..4)
        .map(|i| {
            ev(
                &format!("e{i}"),
                &n,
                ["EMA", "EMC", "EMD", "EDD"][i],
                &format!("2026-11-2{i}T08:00:00Z"),
            )
        })
        .collect();
    post_events(&app, "CNPOST-RAM", json!(evs)).await;
    lift_guard(&app);
    app.conn()
        .batch_execute(
            "UPDATE shipment_events SET location = 'Elsewhere' WHERE source_event_id IN ('e1', 'e3')",
        )
        .unwrap();
    let ids: Vec<String> = waybill::db::tracking::logged_events(&mut app.conn(), 0, 100)
        .unwrap()
        .into_iter()
        .filter(|(e, _, _)| matches!(e.source_event_id.as_deref(), Some("e1" | "e3")))
        .map(|(e, _, _)| e.id)
        .collect();
    assert_eq!(ids.len(), 2);
    let (ok, out) = verify_cli(&app);
    assert!(!ok, "{out}");
    for id in &ids {
        assert!(
            out.contains(&format!("bad: event {id}")),
            "{id} not named: {out}"
        );
    }
    assert!(out.contains("2 problem(s)"), "{out}");
}

#[actix_web::test]
async fn control_and_direction_characters_reject_their_event_and_keep_the_batch() {
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (id, n) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    let mut nul = ev("nul", &n, "EMC", "2026-11-21T08:00:00Z");
    nul["description"] = json!("Departed\u{0}facility");
    let mut bel = ev("bel", &n, "EMD", "2026-11-22T08:00:00Z");
    bel["location"] = json!("Shenzhen\u{7}");
    let mut esc = ev("esc", &n, "EDD", "2026-11-23T08:00:00Z");
    esc["code"] = json!("E\u{1b}DD");
    let mut rlo = ev("rlo", &n, "EDD", "2026-11-23T09:00:00Z");
    rlo["location"] = json!("\u{202e}NC ,nehznehS");
    let mut bad_id = ev("x", &n, "EMC", "2026-11-21T09:00:00Z");
    bad_id["id"] = json!("id\u{0}with a nul");
    let good = ev("good", &n, "EMA", "2026-11-20T08:00:00Z");
    let results = post_events(
        &app,
        "CNPOST-RAM",
        json!([nul, bel, good, esc, rlo, bad_id]),
    )
    .await;
    let by_id = |want: &str| {
        results
            .iter()
            .find(|r| r["id"].as_str() == Some(want))
            .unwrap_or_else(|| panic!("no result for {want}: {results:?}"))
            .clone()
    };
    assert_eq!(by_id("good")["result"], "accepted", "{results:?}");
    for (which, field) in [
        ("nul", "description"),
        ("bel", "location"),
        ("esc", "code"),
        ("rlo", "location"),
    ] {
        let r = by_id(which);
        assert_eq!(r["result"], "rejected", "{which}: {r}");
        let reason = r["reason"].as_str().unwrap();
        assert!(reason.contains(field), "{which}: {reason}");
    }
    // The id itself is answered and kept cleaned.
    let cleaned = "id\u{fffd}with a nul";
    assert_eq!(by_id(cleaned)["result"], "rejected", "{results:?}");
    let events = waybill::db::shipments::events(&mut app.conn(), &id).unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.source_event_id.as_deref() == Some("good"))
    );
    assert!(
        !events.iter().any(|e| e.description.contains('\u{0}')
            || e.location
                .as_deref()
                .is_some_and(|l| l.contains('\u{202e}'))),
        "nothing bad stored"
    );
    let issues = waybill::db::tracking::recent_issues(&mut app.conn(), 50).unwrap();
    assert_eq!(issues.len(), 5, "{issues:?}");
    assert!(issues.iter().all(|i| {
        !i.event_id
            .as_deref()
            .unwrap_or("")
            .chars()
            .any(char::is_control)
    }));
    let page = app.visitor().get_html(&format!("/track/{n}")).await;
    assert!(
        !page.contains('\u{202e}'),
        "the public page shows no override"
    );
}

#[actix_web::test]
async fn a_replayed_batch_stores_no_second_copy_of_its_body() {
    use diesel::prelude::*;
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (_, n) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    let bodies = || -> i64 {
        waybill::db::schema::tracking_requests::table
            .count()
            .get_result(&mut *app.conn())
            .unwrap()
    };
    let batch = json!([
        ev("r1", &n, "EMA", "2026-11-20T08:00:00Z"),
        ev("r2", &n, "EMC", "2026-11-21T08:00:00Z"),
    ]);
    let results = post_events(&app, "CNPOST-RAM", batch.clone()).await;
    assert!(
        results.iter().all(|r| r["result"] == "accepted"),
        "{results:?}"
    );
    assert_eq!(bodies(), 1);
    for _ in 0..3 {
        let results = post_events(&app, "CNPOST-RAM", batch.clone()).await;
        assert!(
            results.iter().all(|r| r["result"] == "duplicate"),
            "{results:?}"
        );
    }
    let results = post_events(
        &app,
        "CNPOST-RAM",
        json!([ev("r3", "RR999999999CN", "EMA", "2026-11-22T08:00:00Z")]),
    )
    .await;
    assert_eq!(results[0]["result"], "rejected");
    assert_eq!(bodies(), 1, "replays and rejections keep no body");
    let (ok, out) = verify_cli(&app);
    assert!(ok, "{out}");
}

#[actix_web::test]
async fn an_event_a_month_before_the_booking_is_refused_and_a_day_before_is_taken() {
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (_, n) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    let at = |days: i64| {
        (chrono::Utc::now() - chrono::Duration::days(days))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let results = post_events(
        &app,
        "CNPOST-RAM",
        json!([
            ev("ancient", &n, "EMA", "0001-01-01T00:00:00Z"),
            ev("month", &n, "EMA", &at(31)),
            ev("day", &n, "EMA", &at(1)),
        ]),
    )
    .await;
    assert_eq!(results[0]["result"], "rejected", "{results:?}");
    assert_eq!(results[1]["result"], "rejected", "{results:?}");
    assert!(results[1]["reason"].as_str().unwrap().contains("30 days"));
    assert_eq!(results[2]["result"], "accepted", "{results:?}");
}

#[actix_web::test]
async fn the_jobs_prune_old_raw_requests_no_event_points_at() {
    use diesel::prelude::*;
    use waybill::db::schema::tracking_requests;
    let app = spawn_app().await;
    let seller = app.api_seller("s@example.com", 100_000).await;
    let (_, n) = book_on(&app, seller.key(), "CNPOST-RAM").await;
    post_events(
        &app,
        "CNPOST-RAM",
        json!([ev("p1", &n, "EMA", "2026-11-20T08:00:00Z")]),
    )
    .await;
    let days = waybill::services::tracking::ISSUES_KEPT_DAYS;
    let old = waybill::db::now() - chrono::Duration::days(days + 1);
    // A body kept before replays stopped being stored, and the logged one, both old.
    waybill::db::tracking::insert_request(
        &mut app.conn(),
        &waybill::db::tracking::TrackingRequest {
            id: "orphan".into(),
            source: "carrier:CNPOST-RAM".into(),
            digest: "0".repeat(64),
            body: "{}".into(),
            received_at: old,
        },
    )
    .unwrap();
    diesel::update(tracking_requests::table)
        .set(tracking_requests::received_at.eq(old))
        .execute(&mut *app.conn())
        .unwrap();
    waybill::jobs::run_due(
        &app.state.pool,
        waybill::services::sessions::Lifetimes::of(&app.state.config),
    )
    .unwrap();
    let left: Vec<String> = tracking_requests::table
        .select(tracking_requests::id)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_ne!(left[0], "orphan");
    waybill::services::tracking_log::take_checkpoint(&mut app.conn(), &app.state.log_key).unwrap();
    let (ok, out) = verify_cli(&app);
    assert!(ok, "{out}");
}
