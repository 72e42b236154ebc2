//! Booking through the API: addresses, book (idempotent, charged, 402 when short), list,
//! get with events, cancel with one refund, and sellers kept apart.

use serde_json::{Value, json};
use waybill::domain::Role;
use waybill::domain::tracking_number::TrackingFormat;
use waybill::services::wallet::Kind;

use crate::helpers::*;

pub fn booking(channel: &str) -> Value {
    crate::fixtures::Booking::on(channel).json()
}

/// A seller with a default sender address, money in the wallet and an API key.
pub async fn funded_seller(app: &TestApp, email: &str, fen: i64) -> (String, String) {
    let s = app
        .seller(email)
        .funded(fen)
        .with_key()
        .with_address()
        .build()
        .await;
    let key = s.key().to_string();
    (s.id, key)
}

async fn book(app: &TestApp, key: &str, body: &Value, idem: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}/api/v1/shipments", app.address))
        .bearer_auth(key)
        .json(body);
    if let Some(k) = idem {
        req = req.header("Idempotency-Key", k);
    }
    req.send().await.unwrap()
}

async fn get(app: &TestApp, key: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/api/v1{path}", app.address))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn book_list_get_and_cancel_through_the_api() {
    let app = spawn_app().await;
    let (seller, key) = funded_seller(&app, "api-seller@example.com", 50_000).await;
    let r = book(&app, &key, &booking("CNPOST-RAM"), Some("order-10042")).await;
    assert_eq!(r.status(), 201);
    let s: Value = r.json().await.unwrap();
    let tn = s["tracking_number"].as_str().unwrap();
    let ram = TrackingFormat::S10 {
        service: "RR".into(),
        country: "CN".into(),
    };
    assert!(ram.accepts(tn), "{tn}");
    assert_eq!(s["status"], "booked");
    assert_eq!(s["channel"], "CNPOST-RAM");
    let price = s["price"]["amount"].as_i64().unwrap();
    assert_eq!(price, 720 + 41 * 144 + 2_880, "the quoted price");
    assert_eq!(s["recipient"]["postal_code"], "10117");
    assert_eq!(s["sender"]["name"], "李伟 Li Wei");
    assert_eq!(
        app.balance(&seller),
        50_000 - price,
        "freight charged from the wallet"
    );

    let list: Value = get(&app, &key, "/shipments?status=booked")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["shipments"][0]["tracking_number"], tn);
    let found: Value = get(&app, &key, &format!("/shipments?q={}", "anna"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["total"], 1, "search by recipient name, any case");
    let reference = s["reference"].as_str().unwrap();
    let found: Value = get(&app, &key, &format!("/shipments?q={reference}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["total"], 1, "search by reference");
    let none: Value = get(&app, &key, "/shipments?status=delivered")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["total"], 0);

    let id = s["id"].as_str().unwrap();
    let one: Value = get(&app, &key, &format!("/shipments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["events"][0]["status"], "booked");
    assert_eq!(one["events"][0]["verified"], true);

    for _ in 0..3 {
        let r = app
            .api_post(&key, &format!("/shipments/{id}/cancel"), &json!({}))
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "cancelled");
    }
    assert_eq!(
        app.balance(&seller),
        50_000,
        "refunded once, however often cancelled"
    );
    let one: Value = get(&app, &key, &format!("/shipments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["events"][1]["status"], "cancelled");
    app.assert_ledger_consistent(&seller);
    let mail = eventually(10, "the booking confirmation", || {
        mails_in(&app.mail_dir)
            .into_iter()
            .find(|m| m.contains("Booked: "))
    })
    .await;
    assert!(mail.contains(tn));
}

#[actix_web::test]
async fn the_same_idempotency_key_books_once() {
    let app = spawn_app().await;
    let (seller, key) = funded_seller(&app, "retry@example.com", 100_000).await;
    let body = booking("UPS-SAVER");
    let first: Value = book(&app, &key, &body, Some("k-1"))
        .await
        .json()
        .await
        .unwrap();
    let r = book(&app, &key, &body, Some("k-1")).await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    let again: Value = r.json().await.unwrap();
    assert_eq!(again, first, "same key and body: the same response");
    let r = book(&app, &key, &booking("DHL-EXPRESS"), Some("k-1")).await;
    assert_eq!(r.status(), 409);
    let price = first["price"]["amount"].as_i64().unwrap();
    assert_eq!(app.balance(&seller), 100_000 - price, "charged once");
    let list: Value = get(&app, &key, "/shipments").await.json().await.unwrap();
    assert_eq!(list["total"], 1);
    // Without a key, two requests are two shipments with different tracking numbers.
    let a: Value = book(&app, &key, &booking("UPS-SAVER"), None)
        .await
        .json()
        .await
        .unwrap();
    let b: Value = book(&app, &key, &booking("UPS-SAVER"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(a["tracking_number"], b["tracking_number"]);
    assert_ne!(a["tracking_number"], first["tracking_number"]);
}

#[actix_web::test]
async fn a_short_wallet_gets_402_and_books_nothing() {
    let app = spawn_app().await;
    let (seller, key) = funded_seller(&app, "poor@example.com", 1_000).await;
    let r = book(&app, &key, &booking("CNPOST-RAM"), Some("k")).await;
    assert_eq!(r.status(), 402);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("Top up at least"),
        "{body}"
    );
    assert_eq!(app.balance(&seller), 1_000);
    let list: Value = get(&app, &key, "/shipments").await.json().await.unwrap();
    assert_eq!(list["total"], 0);
    // The key was not used up by the failure: after a top-up the same request books.
    app.post(&seller, Kind::TopUp, 50_000, "more").unwrap();
    assert_eq!(
        book(&app, &key, &booking("CNPOST-RAM"), Some("k"))
            .await
            .status(),
        201
    );
}

#[actix_web::test]
async fn invalid_bookings_get_every_field_error() {
    let app = spawn_app().await;
    let (_, key) = funded_seller(&app, "careless@example.com", 100_000).await;
    let mut b = booking("CNPOST-RAM");
    b["recipient"]["name"] = json!("王小明");
    b["recipient"]["postal_code"] = json!("1011");
    b["parcel"]["weight_g"] = json!(0);
    b["customs"]["items"][0]["hs_code"] = json!("12");
    let r = book(&app, &key, &b, None).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    let f = &body["fields"];
    assert!(
        f["recipient.name"]
            .as_str()
            .unwrap()
            .contains("Latin letters")
    );
    assert!(
        f["recipient.postal_code"]
            .as_str()
            .unwrap()
            .contains("DE postal code")
    );
    assert!(f["parcel.weight_g"].is_string());
    assert!(f["customs.items.0.hs_code"].is_string());
    // Eligibility is checked on the chosen channel: a 2.5 kg parcel cannot go as a small packet.
    let mut heavy = booking("CNPOST-RAM");
    heavy["parcel"]["weight_g"] = json!(2_500);
    let body: Value = book(&app, &key, &heavy, None).await.json().await.unwrap();
    assert!(
        body["fields"]["channel"]
            .as_str()
            .unwrap()
            .contains("Too heavy"),
        "{body}"
    );
    let body: Value = book(&app, &key, &booking("NOPE"), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        body["fields"]["channel"]
            .as_str()
            .unwrap()
            .contains("not an approved channel")
    );
}

#[actix_web::test]
async fn sellers_cannot_see_cancel_or_book_with_each_other_s_things() {
    let app = spawn_app().await;
    let (_, key_a) = funded_seller(&app, "a@example.com", 100_000).await;
    let (b_id, key_b) = funded_seller(&app, "b@example.com", 100_000).await;
    let s: Value = book(&app, &key_a, &booking("DHL-EXPRESS"), None)
        .await
        .json()
        .await
        .unwrap();
    let id = s["id"].as_str().unwrap();
    assert_eq!(
        get(&app, &key_b, &format!("/shipments/{id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.api_post(&key_b, &format!("/shipments/{id}/cancel"), &json!({}))
            .await
            .status(),
        404
    );
    let list: Value = get(&app, &key_b, "/shipments").await.json().await.unwrap();
    assert_eq!(list["total"], 0);
    let a_addresses: Value = get(&app, &key_a, "/addresses").await.json().await.unwrap();
    let a_address = a_addresses["addresses"][0]["id"].as_str().unwrap();
    let mut with_a_address = booking("DHL-EXPRESS");
    with_a_address["sender_address_id"] = json!(a_address);
    let r = book(&app, &key_b, &with_a_address, None).await;
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["fields"]["sender_address_id"].is_string());
    assert_eq!(app.balance(&b_id), 100_000);
    let got: Value = get(&app, &key_a, &format!("/shipments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["status"], "booked");
}

#[actix_web::test]
async fn a_seller_without_a_sender_address_is_told_to_add_one() {
    let app = spawn_app().await;
    app.load_channels();
    let id = app.create_user(Role::Seller, "new@example.com").id;
    let key = app.api_key(&id);
    app.post(&id, Kind::TopUp, 100_000, "f").unwrap();
    let body: Value = book(&app, &key, &booking("DHL-EXPRESS"), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        body["fields"]["sender_address_id"]
            .as_str()
            .unwrap()
            .contains("Add a sender address")
    );
    let r = app
        .api_post(&key, "/addresses", &json!({"name": "x"}))
        .await;
    assert_eq!(r.status(), 422);
    let list: Value = get(&app, &key, "/addresses").await.json().await.unwrap();
    assert_eq!(list["addresses"].as_array().unwrap().len(), 0);
}

async fn quote_for(app: &TestApp, key: &str, body: &Value, channel: &str) -> Value {
    let r = app
        .api_post(
            key,
            "/quotes",
            &json!({"recipient": body["recipient"], "parcel": body["parcel"]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let all: Value = r.json().await.unwrap();
    all["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["channel"] == channel)
        .unwrap()
        .clone()
}

#[actix_web::test]
async fn a_quote_id_charges_exactly_the_quoted_price_or_409_with_a_fresh_quote() {
    let app = spawn_app().await;
    let (seller, key) = funded_seller(&app, "quoted@example.com", 500_000).await;
    let mut body = booking("CNPOST-EPACKET");
    let quote = quote_for(&app, &key, &body, "CNPOST-EPACKET").await;
    let id = quote["id"].as_str().unwrap().to_string();
    assert!(quote["expires_at"].is_string());
    let price = quote["price"]["amount"].as_i64().unwrap();

    // A heavier parcel than quoted: 409 with the quote for what is being booked, no charge.
    body["quote_id"] = json!(id);
    body["parcel"]["weight_g"] = json!(1_900);
    let r = book(&app, &key, &body, None).await;
    assert_eq!(r.status(), 409);
    let conflict: Value = r.json().await.unwrap();
    assert!(conflict["error"].as_str().unwrap().contains("differs"));
    assert_eq!(conflict["quote"]["channel"], "CNPOST-EPACKET");
    assert!(conflict["quote"]["price"]["amount"].as_i64().unwrap() > price);
    assert_eq!(app.balance(&seller), 500_000, "nothing charged");
    // Another destination: 409 as well.
    body["parcel"]["weight_g"] = json!(455);
    body["recipient"]["country"] = json!("FR");
    body["recipient"]["postal_code"] = json!("75004");
    body["recipient"]["city"] = json!("Paris");
    assert_eq!(book(&app, &key, &body, None).await.status(), 409);

    // The parcel as quoted: charged exactly the quoted price.
    let mut body = booking("CNPOST-EPACKET");
    body["quote_id"] = json!(id);
    let r = book(&app, &key, &body, None).await;
    assert_eq!(r.status(), 201);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["price"]["amount"].as_i64().unwrap(), price);
    assert_eq!(app.balance(&seller), 500_000 - price);

    // A tampered price is not a quote at all.
    let mut body = booking("CNPOST-EPACKET");
    body["quote_id"] = json!(id.replacen(&format!("_{price}_"), "_1_", 1));
    assert_eq!(book(&app, &key, &body, None).await.status(), 409);

    // An expired quote: 409 with a fresh one (ids carry their deadline, signed).
    let parts: Vec<&str> = id.splitn(4, '_').collect();
    let stale = format!("q1_{}_{}_{}", 1, parts[2], parts[3]);
    let mut body = booking("CNPOST-EPACKET");
    body["quote_id"] = json!(stale);
    let r = book(&app, &key, &body, None).await;
    assert_eq!(r.status(), 409, "a changed deadline breaks the signature");
    let fresh: Value = r.json().await.unwrap();
    let fresh_id = fresh["quote"]["id"].as_str().unwrap();
    body["quote_id"] = json!(fresh_id);
    assert_eq!(book(&app, &key, &body, None).await.status(), 201);
}

#[actix_web::test]
async fn a_reference_is_booked_once_unless_the_seller_says_again() {
    let app = spawn_app().await;
    let (seller, key) = funded_seller(&app, "refs@example.com", 500_000).await;
    let body = booking("CNPOST-RAM");
    let first: Value = book(&app, &key, &body, None).await.json().await.unwrap();
    let balance = app.balance(&seller);
    let r = book(&app, &key, &body, None).await;
    assert_eq!(r.status(), 409);
    let dup: Value = r.json().await.unwrap();
    assert_eq!(dup["shipment_id"], first["id"]);
    assert_eq!(
        app.balance(&seller),
        balance,
        "nothing charged for the repeat"
    );
    let mut again = body.clone();
    again["allow_duplicate_reference"] = json!(true);
    assert_eq!(book(&app, &key, &again, None).await.status(), 201);
    // Once the first is cancelled, the reference is free again.
    let id = first["id"].as_str().unwrap();
    let r = app
        .api_post(&key, &format!("/shipments/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let other = app
        .seller("refs2@example.com")
        .funded(500_000)
        .with_key()
        .with_address()
        .build()
        .await;
    assert_eq!(
        book(&app, other.key(), &body, None).await.status(),
        201,
        "another seller's references are its own"
    );
    // Concurrent repeats: exactly one is booked.
    let mut race = booking("CNPOST-RAM");
    race["reference"] = json!("RACE-1");
    let (addr, key2) = (app.address.clone(), key.clone());
    let statuses = concurrently_async(8, |_| {
        let (addr, key, race) = (addr.clone(), key2.clone(), race.clone());
        async move {
            reqwest::Client::new()
                .post(format!("{addr}/api/v1/shipments"))
                .bearer_auth(key)
                .json(&race)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    })
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
}

#[actix_web::test]
async fn a_destination_may_be_named_as_well_as_coded() {
    let app = spawn_app().await;
    let (_, key) = funded_seller(&app, "names@example.com", 500_000).await;
    let mut body = booking("CNPOST-RAM");
    body["recipient"]["country"] = json!("Germany");
    let r = book(&app, &key, &body, None).await;
    assert_eq!(r.status(), 201);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["recipient"]["country"], "DE");
    body["recipient"]["country"] = json!("Atlantis");
    body["reference"] = json!("ATL-1");
    let r = book(&app, &key, &body, None).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["fields"]["recipient.country"]
            .as_str()
            .unwrap()
            .contains("English name")
    );
}
