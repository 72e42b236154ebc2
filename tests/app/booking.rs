//! Booking through the API: addresses, book (idempotent, charged, 402 when short), list,
//! get with events, cancel with one refund, and sellers kept apart.

use serde_json::{Value, json};
use waybill::domain::tracking_number::TrackingFormat;
use waybill::services::wallet::Kind;

use crate::fixtures::Booking;
use crate::helpers::*;

#[actix_web::test]
async fn book_list_get_and_cancel_through_the_api() {
    let app = spawn_app().await;
    let seller = app.api_seller("api-seller@example.com", 50_000).await;
    let r = app
        .api_post_idempotent(
            seller.key(),
            "/shipments",
            Booking::on("CNPOST-RAM"),
            Some("order-10042"),
        )
        .await;
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
        app.balance(&seller.id),
        50_000 - price,
        "freight charged from the wallet"
    );

    let list: Value = app
        .api_get(seller.key(), "/shipments?status=booked")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["shipments"][0]["tracking_number"], tn);
    let found: Value = app
        .api_get(seller.key(), &format!("/shipments?q={}", "anna"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["total"], 1, "search by recipient name, any case");
    let reference = s["reference"].as_str().unwrap();
    let found: Value = app
        .api_get(seller.key(), &format!("/shipments?q={reference}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["total"], 1, "search by reference");
    let none: Value = app
        .api_get(seller.key(), "/shipments?status=delivered")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["total"], 0);

    let id = s["id"].as_str().unwrap();
    let one: Value = app
        .api_get(seller.key(), &format!("/shipments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["events"][0]["status"], "booked");
    assert_eq!(one["events"][0]["verified"], true);

    for _ in 0..3 {
        let r = app
            .api_post(seller.key(), &format!("/shipments/{id}/cancel"), &json!({}))
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "cancelled");
    }
    assert_eq!(
        app.balance(&seller.id),
        50_000,
        "refunded once, however often cancelled"
    );
    let one: Value = app
        .api_get(seller.key(), &format!("/shipments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["events"][1]["status"], "cancelled");
    app.assert_ledger_consistent(&seller.id);
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
    let seller = app.api_seller("retry@example.com", 100_000).await;
    let body = Booking::on("UPS-SAVER").json();
    let first: Value = app
        .api_post_idempotent(seller.key(), "/shipments", &body, Some("k-1"))
        .await
        .json()
        .await
        .unwrap();
    let r = app
        .api_post_idempotent(seller.key(), "/shipments", &body, Some("k-1"))
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    let again: Value = r.json().await.unwrap();
    assert_eq!(again, first, "same key and body: the same response");
    let r = app
        .api_post_idempotent(
            seller.key(),
            "/shipments",
            Booking::on("DHL-EXPRESS"),
            Some("k-1"),
        )
        .await;
    assert_eq!(r.status(), 409);
    let price = first["price"]["amount"].as_i64().unwrap();
    assert_eq!(app.balance(&seller.id), 100_000 - price, "charged once");
    let list: Value = app
        .api_get(seller.key(), "/shipments")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    // Without a key, two requests are two shipments with different tracking numbers.
    let a: Value = app
        .api_post(seller.key(), "/shipments", Booking::on("UPS-SAVER"))
        .await
        .json()
        .await
        .unwrap();
    let b: Value = app
        .api_post(seller.key(), "/shipments", Booking::on("UPS-SAVER"))
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
    let seller = app.api_seller("poor@example.com", 1_000).await;
    let r = app
        .api_post_idempotent(
            seller.key(),
            "/shipments",
            Booking::on("CNPOST-RAM"),
            Some("k"),
        )
        .await;
    assert_eq!(r.status(), 402);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("Top up at least"),
        "{body}"
    );
    assert_eq!(app.balance(&seller.id), 1_000);
    let list: Value = app
        .api_get(seller.key(), "/shipments")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
    // The key was not used up by the failure: after a top-up the same request books.
    app.post(&seller.id, Kind::TopUp, 50_000, "more").unwrap();
    assert_eq!(
        app.api_post_idempotent(
            seller.key(),
            "/shipments",
            Booking::on("CNPOST-RAM"),
            Some("k")
        )
        .await
        .status(),
        201
    );
}

#[actix_web::test]
async fn invalid_bookings_get_every_field_error() {
    let app = spawn_app().await;
    let seller = app.api_seller("careless@example.com", 100_000).await;
    let mut b = Booking::on("CNPOST-RAM").json();
    b["recipient"]["name"] = json!("王小明");
    b["recipient"]["postal_code"] = json!("1011");
    b["parcel"]["weight_g"] = json!(0);
    b["customs"]["items"][0]["hs_code"] = json!("12");
    let r = app.api_post(seller.key(), "/shipments", &b).await;
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
    let mut heavy = Booking::on("CNPOST-RAM").json();
    heavy["parcel"]["weight_g"] = json!(2_500);
    let body: Value = app
        .api_post(seller.key(), "/shipments", &heavy)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        body["fields"]["channel"]
            .as_str()
            .unwrap()
            .contains("Too heavy"),
        "{body}"
    );
    let body: Value = app
        .api_post(seller.key(), "/shipments", Booking::on("NOPE"))
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
    let a = app.api_seller("a@example.com", 100_000).await;
    let b = app.api_seller("b@example.com", 100_000).await;
    let s: Value = app
        .api_post(a.key(), "/shipments", Booking::on("DHL-EXPRESS"))
        .await
        .json()
        .await
        .unwrap();
    let id = s["id"].as_str().unwrap();
    assert_eq!(
        app.api_get(b.key(), &format!("/shipments/{id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.api_post(b.key(), &format!("/shipments/{id}/cancel"), &json!({}))
            .await
            .status(),
        404
    );
    let list: Value = app
        .api_get(b.key(), "/shipments")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
    let a_addresses: Value = app
        .api_get(a.key(), "/addresses")
        .await
        .json()
        .await
        .unwrap();
    let a_address = a_addresses["addresses"][0]["id"].as_str().unwrap();
    let mut with_a_address = Booking::on("DHL-EXPRESS").json();
    with_a_address["sender_address_id"] = json!(a_address);
    let r = app.api_post(b.key(), "/shipments", &with_a_address).await;
    assert_eq!(r.status(), 422);
    assert!(r.json::<Value>().await.unwrap()["fields"]["sender_address_id"].is_string());
    assert_eq!(app.balance(&b.id), 100_000);
    let got: Value = app
        .api_get(a.key(), &format!("/shipments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["status"], "booked");
}

#[actix_web::test]
async fn a_seller_without_a_sender_address_is_told_to_add_one() {
    let app = spawn_app().await;
    let seller = app
        .seller("new@example.com")
        .funded(100_000)
        .with_key()
        .build()
        .await;
    let key = seller.key();
    let body: Value = app
        .api_post(key, "/shipments", Booking::on("DHL-EXPRESS"))
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
    let r = app.api_post(key, "/addresses", &json!({"name": "x"})).await;
    assert_eq!(r.status(), 422);
    let list: Value = app.api_get(key, "/addresses").await.json().await.unwrap();
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
    let seller = app.api_seller("quoted@example.com", 500_000).await;
    let mut body = Booking::on("CNPOST-EPACKET").json();
    let quote = quote_for(&app, seller.key(), &body, "CNPOST-EPACKET").await;
    let id = quote["id"].as_str().unwrap().to_string();
    assert!(quote["expires_at"].is_string());
    let price = quote["price"]["amount"].as_i64().unwrap();

    // A heavier parcel than quoted: 409 with the quote for what is being booked, no charge.
    body["quote_id"] = json!(id);
    body["parcel"]["weight_g"] = json!(1_900);
    let r = app.api_post(seller.key(), "/shipments", &body).await;
    assert_eq!(r.status(), 409);
    let conflict: Value = r.json().await.unwrap();
    assert!(conflict["error"].as_str().unwrap().contains("differs"));
    assert_eq!(conflict["quote"]["channel"], "CNPOST-EPACKET");
    assert!(conflict["quote"]["price"]["amount"].as_i64().unwrap() > price);
    assert_eq!(app.balance(&seller.id), 500_000, "nothing charged");
    // Another destination: 409 as well.
    body["parcel"]["weight_g"] = json!(455);
    body["recipient"]["country"] = json!("FR");
    body["recipient"]["postal_code"] = json!("75004");
    body["recipient"]["city"] = json!("Paris");
    assert_eq!(
        app.api_post(seller.key(), "/shipments", &body)
            .await
            .status(),
        409
    );

    // The parcel as quoted: charged exactly the quoted price.
    let mut body = Booking::on("CNPOST-EPACKET").json();
    body["quote_id"] = json!(id);
    let r = app.api_post(seller.key(), "/shipments", &body).await;
    assert_eq!(r.status(), 201);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["price"]["amount"].as_i64().unwrap(), price);
    assert_eq!(app.balance(&seller.id), 500_000 - price);

    // A tampered price is not a quote at all.
    let mut body = Booking::on("CNPOST-EPACKET").json();
    body["quote_id"] = json!(id.replacen(&format!("_{price}_"), "_1_", 1));
    assert_eq!(
        app.api_post(seller.key(), "/shipments", &body)
            .await
            .status(),
        409
    );

    // An expired quote: 409 with a fresh one (ids carry their deadline, signed).
    let parts: Vec<&str> = id.splitn(4, '_').collect();
    let stale = format!("q1_{}_{}_{}", 1, parts[2], parts[3]);
    let mut body = Booking::on("CNPOST-EPACKET").json();
    body["quote_id"] = json!(stale);
    let r = app.api_post(seller.key(), "/shipments", &body).await;
    assert_eq!(r.status(), 409, "a changed deadline breaks the signature");
    let fresh: Value = r.json().await.unwrap();
    let fresh_id = fresh["quote"]["id"].as_str().unwrap();
    body["quote_id"] = json!(fresh_id);
    assert_eq!(
        app.api_post(seller.key(), "/shipments", &body)
            .await
            .status(),
        201
    );
}

#[actix_web::test]
async fn a_reference_is_booked_once_unless_the_seller_says_again() {
    let app = spawn_app().await;
    let seller = app.api_seller("refs@example.com", 500_000).await;
    let body = Booking::on("CNPOST-RAM").json();
    let first: Value = app
        .api_post(seller.key(), "/shipments", &body)
        .await
        .json()
        .await
        .unwrap();
    let balance = app.balance(&seller.id);
    let r = app.api_post(seller.key(), "/shipments", &body).await;
    assert_eq!(r.status(), 409);
    let dup: Value = r.json().await.unwrap();
    assert_eq!(dup["shipment_id"], first["id"]);
    assert_eq!(
        app.balance(&seller.id),
        balance,
        "nothing charged for the repeat"
    );
    let mut again = body.clone();
    again["allow_duplicate_reference"] = json!(true);
    assert_eq!(
        app.api_post(seller.key(), "/shipments", &again)
            .await
            .status(),
        201
    );
    // Once the first is cancelled, the reference is free again.
    let id = first["id"].as_str().unwrap();
    let r = app
        .api_post(seller.key(), &format!("/shipments/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let other = app.api_seller("refs2@example.com", 500_000).await;
    assert_eq!(
        app.api_post(other.key(), "/shipments", &body)
            .await
            .status(),
        201,
        "another seller's references are its own"
    );
    // Concurrent repeats: exactly one is booked.
    let mut race = Booking::on("CNPOST-RAM").json();
    race["reference"] = json!("RACE-1");
    let (addr, key2) = (app.address.clone(), seller.key().to_string());
    let statuses = concurrently_async(8, |_| {
        let (addr, key, race) = (addr.clone(), key2.clone(), race.clone());
        async move {
            let r = api_post_at(&addr, &key, "/shipments", race, None).await;
            r.status().as_u16()
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
    let seller = app.api_seller("names@example.com", 500_000).await;
    let mut body = Booking::on("CNPOST-RAM").json();
    body["recipient"]["country"] = json!("Germany");
    let r = app.api_post(seller.key(), "/shipments", &body).await;
    assert_eq!(r.status(), 201);
    let s: Value = r.json().await.unwrap();
    assert_eq!(s["recipient"]["country"], "DE");
    body["recipient"]["country"] = json!("Atlantis");
    body["reference"] = json!("ATL-1");
    let r = app.api_post(seller.key(), "/shipments", &body).await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["fields"]["recipient.country"]
            .as_str()
            .unwrap()
            .contains("English name")
    );
}
