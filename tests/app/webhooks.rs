//! Seller webhooks: registration rules, signatures checked by an implementation of Standard
//! Webhooks written here (not the service's), retries with one `webhook-id`, 410, rotation,
//! the cancel hook, and claims that never hand one delivery to two workers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::fixtures::Booking;
use crate::helpers::{Options, TestApp, book, concurrently, eventually, spawn_app, spawn_app_with};

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// A loopback HTTP receiver answering with `script` in turn (the last status repeats).
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(script: Vec<u16>) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/waybill", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let log = got.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, len) = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break (None, 0);
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..at]).to_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map(|v| v.trim().parse::<usize>().unwrap())
                            .unwrap_or(0);
                        break (Some(at + 4), len);
                    }
                };
                let Some(start) = head_end else { continue };
                while buf.len() < start + len {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..start]).to_string();
                let headers = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
                    .collect();
                let n = {
                    let mut g = log.lock().unwrap();
                    g.push(Received {
                        headers,
                        body: buf[start..start + len].to_vec(),
                    });
                    g.len()
                };
                let code = script[(n - 1).min(script.len() - 1)];
                let reply =
                    format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = sock.write_all(reply.as_bytes()).await;
                let _ = sock.shutdown().await;
            }
        });
        Receiver { url, got }
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// Standard Webhooks, verified by hand: which of `secrets` signed the request (by index).
fn signed_by(secrets: &[&str], r: &Received) -> Vec<usize> {
    let id = &r.headers["webhook-id"];
    let ts = &r.headers["webhook-timestamp"];
    let now = chrono::Utc::now().timestamp();
    assert!(
        (ts.parse::<i64>().unwrap() - now).abs() < 300,
        "timestamp within the 5-minute tolerance"
    );
    let mut content = format!("{id}.{ts}.").into_bytes();
    content.extend_from_slice(&r.body);
    let sent: Vec<&str> = r.headers["webhook-signature"].split(' ').collect();
    let mut by = Vec::new();
    for (i, secret) in secrets.iter().enumerate() {
        let key = B64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
        assert!(key.len() >= 24, "a key of 24 bytes or more");
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).unwrap();
        mac.update(&content);
        let expected = format!("v1,{}", B64.encode(mac.finalize().into_bytes()));
        if sent.contains(&expected.as_str()) {
            by.push(i);
        }
    }
    by
}

async fn private_app() -> TestApp {
    spawn_app_with(Options {
        env: vec![
            ("WAYBILL_WEBHOOK_ALLOW_PRIVATE", "on"),
            ("WAYBILL_WEBHOOK_BACKOFF_SCALE", "0.001"),
            ("WAYBILL_WEBHOOK_TIMEOUT_SECONDS", "3"),
        ],
        ..Default::default()
    })
    .await
}

/// `api_get` that must answer 200: its JSON.
async fn api_get_ok(app: &TestApp, key: &str, path: &str) -> Value {
    let r = app.api_get(key, path).await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.json().await.unwrap()
}

async fn register(app: &TestApp, key: &str, body: Value) -> Value {
    let r = app.api_post(key, "/webhooks", &body).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    r.json().await.unwrap()
}

#[actix_web::test]
async fn a_cancel_is_delivered_signed_after_two_failures_with_one_webhook_id() {
    let app = private_app().await;
    let seller = app.api_seller("hooks@example.com", 200_000).await;
    let rx = Receiver::start(vec![500, 503, 204]).await;
    let hook = register(
        &app,
        seller.key(),
        json!({"url": rx.url, "events": ["shipment.status_changed"]}),
    )
    .await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(hook["status"], "active");
    assert_eq!(hook["events"], json!(["shipment.status_changed"]));

    let shipment = book(&app, seller.key(), Booking::on("CNPOST-RAM")).await;
    let id = shipment["id"].as_str().unwrap();
    let r = app
        .api_post(seller.key(), &format!("/shipments/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(r.status(), 200);

    let got = eventually(15, "three attempts", || {
        let g = rx.got();
        (g.len() >= 3).then_some(g)
    })
    .await;
    // Let a wrongly scheduled fourth attempt show itself.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let got_all = rx.got();
    assert_eq!(
        got_all.len(),
        3,
        "delivered on the third attempt, then no more"
    );
    let ids: Vec<&String> = got.iter().map(|r| &r.headers["webhook-id"]).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "one webhook-id: {ids:?}");
    for r in &got {
        assert_eq!(signed_by(&[&secret], r), vec![0], "signature verifies");
        assert_eq!(r.body, got[0].body, "the same bytes on every attempt");
    }
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(body["type"], "shipment.status_changed");
    assert!(body["timestamp"].as_str().is_some());
    assert_eq!(
        body["data"],
        json!({"shipment_id": id, "tracking_number": shipment["tracking_number"],
               "status": "cancelled", "previous_status": "booked"})
    );

    let hook_id = hook["id"].as_str().unwrap();
    let log = api_get_ok(
        &app,
        seller.key(),
        &format!("/webhooks/{hook_id}/deliveries"),
    )
    .await;
    let d = &log["deliveries"][0];
    assert_eq!(d["status"], "delivered");
    assert_eq!(d["attempts"], 3);
    assert_eq!(&d["webhook_id"], ids[0].as_str());
    let codes: Vec<i64> = d["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, vec![500, 503, 204]);

    // A tampered body no longer verifies: the check above can fail.
    let mut forged = got[0].clone();
    forged.body[0] = b' ';
    assert!(signed_by(&[&secret], &forged).is_empty());
}

#[actix_web::test]
async fn a_410_disables_the_endpoint() {
    let app = private_app().await;
    let seller = app.seller("gone@example.com").with_key().build().await;
    let rx = Receiver::start(vec![410]).await;
    let hook = register(&app, seller.key(), json!({"url": rx.url})).await;
    assert_eq!(
        hook["events"].as_array().unwrap().len(),
        3,
        "all by default"
    );
    let hook_id = hook["id"].as_str().unwrap();
    let r = app
        .api_post(
            seller.key(),
            &format!("/webhooks/{hook_id}/test"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let key = seller.key().to_string();
    let mut status = String::new();
    for _ in 0..100 {
        let list = api_get_ok(&app, &key, "/webhooks").await;
        status = list["webhooks"][0]["status"].as_str().unwrap().to_string();
        if status == "disabled" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, "disabled");
    assert_eq!(rx.got().len(), 1, "no retry after 410");
    let log = api_get_ok(&app, &key, &format!("/webhooks/{hook_id}/deliveries")).await;
    assert_eq!(log["deliveries"][0]["status"], "failed");
    assert_eq!(log["deliveries"][0]["attempt_log"][0]["status_code"], 410);
    let r = app
        .api_post(&key, &format!("/webhooks/{hook_id}/test"), &json!({}))
        .await;
    assert_eq!(r.status(), 409, "a disabled endpoint takes no test");
}

#[actix_web::test]
async fn private_and_plain_http_urls_are_refused_by_default() {
    let app = spawn_app().await;
    let seller = app.seller("ssrf@example.com").with_key().build().await;
    let rx = Receiver::start(vec![204]).await;
    for url in [
        rx.url.as_str(),
        "http://hooks.example.com/in",
        "https://127.0.0.1/in",
        "https://localhost/in",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.7/in",
        "https://[::1]/in",
        "https://[fd00::1]/in",
        "https://100.64.0.1/in",
        "ftp://hooks.example.com/in",
    ] {
        let r = app
            .api_post(seller.key(), "/webhooks", &json!({"url": url}))
            .await;
        assert_eq!(r.status(), 422, "{url}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{url}"
        );
    }
    let r = app
        .api_post(
            seller.key(),
            "/webhooks",
            &json!({"url": "https://hooks.example.com/in", "events": ["shipment.exploded"]}),
        )
        .await;
    assert_eq!(r.status(), 422, "unknown event type");
    let hook = register(
        &app,
        seller.key(),
        json!({"url": "https://hooks.example.com/in"}),
    )
    .await;
    let list = api_get_ok(&app, seller.key(), "/webhooks").await;
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 1);
    assert_eq!(list["webhooks"][0]["url"], "https://hooks.example.com/in");
    assert!(
        !list.to_string().contains("whsec_"),
        "the secret is never shown again"
    );
    let stored = waybill::db::webhooks::list_endpoints(&mut app.conn(), &seller.id).unwrap();
    let secret = B64
        .decode(
            hook["secret"]
                .as_str()
                .unwrap()
                .strip_prefix("whsec_")
                .unwrap(),
        )
        .unwrap();
    assert!(
        !stored[0].secret.windows(secret.len()).any(|w| w == secret),
        "the key is not stored in clear"
    );

    // A URL that got into the table anyway (say, registered while private targets were
    // allowed) is checked again when delivering: nothing reaches the loopback receiver.
    let conn = &mut app.conn();
    let loopback_url = rx.url.replace("http://", "https://");
    waybill::db::webhooks::insert_endpoint(
        conn,
        &waybill::db::webhooks::Endpoint {
            id: waybill::db::new_id(),
            url: loopback_url.clone(),
            ..stored[0].clone()
        },
    )
    .unwrap();
    let loopback = waybill::db::webhooks::list_endpoints(conn, &seller.id)
        .unwrap()
        .into_iter()
        .find(|e| e.url == loopback_url)
        .unwrap();
    let r = app
        .api_post(
            seller.key(),
            &format!("/webhooks/{}/test", loopback.id),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 202);
    let key = seller.key().to_string();
    let path = format!("/webhooks/{}/deliveries", loopback.id);
    let mut attempt = Value::Null;
    for _ in 0..100 {
        let log = api_get_ok(&app, &key, &path).await;
        attempt = log["deliveries"][0]["attempt_log"][0].clone();
        if !attempt.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(attempt["status_code"].is_null(), "{attempt}");
    assert!(
        attempt["error"].as_str().unwrap().contains("public"),
        "{attempt}"
    );
    assert!(
        rx.got().is_empty(),
        "the loopback receiver was never reached"
    );

    let hook_id = hook["id"].as_str().unwrap();
    let r = reqwest::Client::new()
        .delete(format!("{}/api/v1/webhooks/{hook_id}", app.address))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let list = api_get_ok(&app, &key, "/webhooks").await;
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn after_a_rotation_both_secrets_sign_until_the_grace_period_ends() {
    let app = private_app().await;
    let seller = app.seller("rotate@example.com").with_key().build().await;
    let rx = Receiver::start(vec![204]).await;
    let hook = register(&app, seller.key(), json!({"url": rx.url})).await;
    let (old, hook_id) = (
        hook["secret"].as_str().unwrap().to_string(),
        hook["id"].as_str().unwrap().to_string(),
    );
    let r = app
        .api_post(
            seller.key(),
            &format!("/webhooks/{hook_id}/rotate"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let new = r.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(old, new);
    let test = format!("/webhooks/{hook_id}/test");
    assert_eq!(
        app.api_post(seller.key(), &test, &json!({})).await.status(),
        202
    );
    let got = eventually(10, "the test event", || rx.got().first().cloned()).await;
    assert_eq!(got.headers["webhook-signature"].split(' ').count(), 2);
    assert_eq!(signed_by(&[&old, &new], &got), vec![0, 1], "both verify");
    let body: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(body["type"], "webhook.test");

    // Once the grace period is over, only the new secret signs.
    {
        use diesel::prelude::*;
        use waybill::db::schema::webhook_endpoints as we;
        diesel::update(we::table.find(&hook_id))
            .set(
                we::previous_secret_expires_at
                    .eq(waybill::db::now() - chrono::Duration::seconds(1)),
            )
            .execute(&mut *app.conn())
            .unwrap();
    }
    assert_eq!(
        app.api_post(seller.key(), &test, &json!({})).await.status(),
        202
    );
    let got = eventually(10, "the second test event", || rx.got().get(1).cloned()).await;
    assert_eq!(signed_by(&[&old, &new], &got), vec![1]);
}

#[actix_web::test]
async fn concurrent_workers_never_claim_the_same_delivery() {
    // No worker sends here (no endpoint is reachable): the claims themselves are raced.
    let app = spawn_app().await;
    let seller = app.seller("claims@example.com").with_key().build().await;
    let hook = register(
        &app,
        seller.key(),
        json!({"url": "https://hooks.example.com/in"}),
    )
    .await;
    let hook_id = hook["id"].as_str().unwrap().to_string();
    let far = waybill::db::now() + chrono::Duration::days(1);
    {
        let conn = &mut app.conn();
        for i in 0..60 {
            waybill::db::webhooks::insert_delivery(
                conn,
                &waybill::db::webhooks::Delivery {
                    id: waybill::db::new_id(),
                    endpoint_id: hook_id.clone(),
                    webhook_id: format!("msg_race_{i}"),
                    event_type: "webhook.test".into(),
                    payload: "{}".into(),
                    status: waybill::domain::delivery::DeliveryStatus::Pending,
                    attempts: 0,
                    // Due only for the racers below, who look a day ahead.
                    next_attempt_at: far,
                    last_status_code: None,
                    last_duration_ms: None,
                    last_error: None,
                    delivered_at: None,
                    claimed_by: None,
                    claimed_until: None,
                    created_at: waybill::db::now(),
                },
            )
            .unwrap();
        }
    }
    let pool = app.state.pool.clone();
    let claimed: Vec<Vec<String>> = concurrently(6, move |i| {
        let mut conn = pool.get().unwrap();
        let mut mine = Vec::new();
        loop {
            let now = far + chrono::Duration::seconds(1);
            let batch = waybill::db::write_tx(&mut conn, |c| {
                waybill::db::webhooks::claim_due(
                    c,
                    &format!("racer-{i}"),
                    now,
                    now + chrono::Duration::hours(1),
                    7,
                )
            })
            .unwrap();
            if batch.is_empty() {
                return mine;
            }
            mine.extend(batch.into_iter().map(|d| d.webhook_id));
        }
    });
    let mut all: Vec<String> = claimed.into_iter().flatten().collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(n, 60, "every delivery claimed once");
    assert_eq!(all.len(), 60, "and none twice");
}

#[actix_web::test]
async fn the_settings_page_registers_shows_the_secret_once_and_logs_deliveries() {
    let app = private_app().await;
    let seller = app.seller("page@example.com").signed_in().build().await;
    let v = seller.visitor();
    let rx = Receiver::start(vec![204]).await;
    let r = v
        .submit(
            "/seller/settings",
            "/seller/settings/webhooks",
            &[("url", rx.url.as_str()), ("shipment_status_changed", "on")],
        )
        .await;
    // Post, redirect, get: a reload of the page with the secret registers nothing twice.
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/seller/settings");
    let page = v.get_html("/seller/settings").await;
    let secret = page
        .split("id=\"new-webhook-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let again = v.get_html("/seller/settings").await;
    assert!(!again.contains(&secret), "shown once");
    assert!(again.contains(&rx.url) && again.contains("shipment.status_changed"));

    let hook = waybill::db::webhooks::list_endpoints(&mut app.conn(), &seller.id)
        .unwrap()
        .remove(0);
    assert_eq!(hook.event_list(), vec!["shipment.status_changed"]);
    let r = v
        .submit(
            "/seller/settings",
            &format!("/seller/settings/webhooks/{}/test", hook.id),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    let got = eventually(10, "the test event", || rx.got().first().cloned()).await;
    assert_eq!(signed_by(&[&secret], &got), vec![0]);
    let mut page = String::new();
    for _ in 0..50 {
        page = v.get_html("/seller/settings").await;
        if page.contains("webhook-log") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let log = page.split("id=\"webhook-log\"").nth(1).unwrap();
    assert!(
        log.contains("webhook.test") && log.contains("<td>204</td>"),
        "{log}"
    );

    let r = v
        .submit(
            "/seller/settings",
            "/seller/settings/webhooks",
            &[
                ("url", "https://127.0.0.1/x"),
                ("pickup_status_changed", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "allowed here: private targets are on");
    let r = v
        .submit(
            "/seller/settings",
            &format!("/seller/settings/webhooks/{}/delete", hook.id),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        waybill::db::webhooks::list_endpoints(&mut app.conn(), &seller.id)
            .unwrap()
            .len(),
        1
    );
}

#[actix_web::test]
async fn a_reweigh_and_a_pickup_reach_the_seller_signed() {
    let app = private_app().await;
    let seller = app.api_seller("events@example.com", 500_000).await;
    let rx = Receiver::start(vec![200]).await;
    let hook = register(
        &app,
        seller.key(),
        json!({"url": rx.url, "events": ["shipment.weight_adjusted", "pickup.status_changed"]}),
    )
    .await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    // A pickup booked and cancelled: scheduled, then cancelled.
    crate::pickups::add_area(&app, "Nanshan", "518", 5, "");
    let s = book(&app, seller.key(), Booking::on("CNPOST-RAM")).await;
    let addresses = api_get_ok(&app, seller.key(), "/addresses").await;
    let address = addresses["addresses"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .api_post(
            seller.key(),
            "/pickups",
            &json!({"address_id": address, "date": crate::pickups::tomorrow(), "window": "09:00-12:00"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let pickup: Value = r.json().await.unwrap();
    let id = pickup["id"].as_str().unwrap();
    let r = app
        .api_post(seller.key(), &format!("/pickups/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    // The warehouse measures the parcel heavier.
    let w = app.create_user(waybill::domain::Role::Warehouse, "events-dock@example.com");
    let wk = app.api_key(&w.id);
    let r = app
        .api_post(
            &wk,
            "/warehouse/scans",
            &json!({"scan_id": "e-1", "tracking_number": s["tracking_number"], "weight_g": 1500}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let got = eventually(15, "three events", || {
        let g = rx.got();
        (g.len() >= 3).then_some(g)
    })
    .await;
    let bodies: Vec<Value> = got
        .iter()
        .map(|r| {
            assert_eq!(
                signed_by(&[&secret], r),
                vec![0],
                "signed with the endpoint's secret"
            );
            serde_json::from_slice(&r.body).unwrap()
        })
        .collect();
    let pickups: Vec<&Value> = bodies
        .iter()
        .filter(|b| b["type"] == "pickup.status_changed")
        .collect();
    let statuses: Vec<&str> = pickups
        .iter()
        .map(|b| b["data"]["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"scheduled") && statuses.contains(&"cancelled"),
        "{statuses:?}"
    );
    assert!(pickups.iter().all(|b| b["data"]["pickup_id"] == id));
    let weighed = bodies
        .iter()
        .find(|b| b["type"] == "shipment.weight_adjusted")
        .expect("the weight adjustment");
    assert_eq!(weighed["data"]["shipment_id"], s["id"]);
    assert_eq!(weighed["data"]["declared"]["weight_g"], 455);
    assert_eq!(weighed["data"]["measured"]["weight_g"], 1500);
    assert!(weighed["data"]["adjustment"]["amount"].as_i64().unwrap() > 0);
    // Not subscribed: no status_changed.
    assert!(
        bodies
            .iter()
            .all(|b| b["type"] != "shipment.status_changed")
    );
}
