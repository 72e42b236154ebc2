//! Issue 21's findings that reach the database through pickups and the admin's forms: input
//! that is no id never reaches a query (a NUL was a 500 on PostgreSQL), a parcel is collected
//! only from the address it is sent from, and the wallet form moves no money without its nonce.

use serde_json::{Value, json};
use waybill::domain::Role;

use crate::fixtures::{Booking, sender};
use crate::helpers::*;
use crate::pickups::{add_area, address_of, booked_pickup, courier_in, tomorrow};

#[actix_web::test]
async fn pickup_input_that_is_no_id_is_refused_before_any_query() {
    let app = spawn_app().await;
    add_area(&app, "Shenzhen", "518", 10, "");
    let seller = app.api_seller("s@example.com", 100_000).await;
    let key = seller.key();
    book(&app, key, Booking::on("CNPOST-RAM")).await;
    let address = address_of(&app, key).await;
    let pickup = |address_id: &str, ids: Option<Vec<&str>>| {
        let mut body =
            json!({"address_id": address_id, "date": tomorrow(), "window": "09:00-12:00"});
        if let Some(ids) = ids {
            body["shipment_ids"] = json!(ids);
        }
        body
    };
    let long = "a".repeat(100_000);
    for (what, body) in [
        ("a NUL address", pickup("\u{0}", None)),
        ("a NUL in an id", pickup("\u{0}abc", None)),
        ("100 KB of address", pickup(&long, None)),
        ("a NUL shipment id", pickup(&address, Some(vec!["\u{0}"]))),
        (
            "a shipment id of text",
            pickup(&address, Some(vec!["not-an-id"])),
        ),
    ] {
        let r = app.api_post(key, "/pickups", &body).await;
        assert_eq!(r.status(), 422, "{what}");
        assert!(r.headers().get("location").is_none(), "{what}");
        let v: Value = r.json().await.unwrap();
        assert!(v["fields"].is_object(), "{what}: {v}");
        assert!(
            !v.to_string().contains(&long),
            "{what}: the input is not echoed whole"
        );
    }
    let r = app.api_get(key, "/pickups/windows?address_id=%00").await;
    assert_eq!(r.status(), 422);
    // The page books through the same use case.
    let (visitor, _) = app.seller_with_address("page@example.com").await;
    let r = visitor
        .submit(
            "/pickups",
            "/pickups",
            &[
                ("address_id", "\u{0}"),
                ("date", &tomorrow()),
                ("window", "09:00-12:00"),
            ],
        )
        .await;
    assert!(r.status().as_u16() < 500, "{}", r.status());
}

#[actix_web::test]
async fn a_parcel_sent_from_another_address_is_not_put_in_this_pickup() {
    let app = spawn_app().await;
    add_area(&app, "Shenzhen", "518", 10, "");
    add_area(&app, "Guangzhou", "510", 10, "");
    let seller = app.api_seller("s@example.com", 100_000).await;
    let key = seller.key();
    let from_shenzhen = book(&app, key, Booking::on("CNPOST-RAM")).await;
    let mut gz = sender();
    gz["city"] = json!("Guangzhou");
    gz["postal_code"] = json!("510000");
    gz["street1"] = json!("天河路 1号");
    let r = app.api_post(key, "/addresses", &gz).await;
    assert_eq!(r.status(), 201);
    let guangzhou: Value = r.json().await.unwrap();
    let r = app
        .api_post(
            key,
            "/pickups",
            &json!({"address_id": guangzhou["id"], "date": tomorrow(), "window": "09:00-12:00",
                    "shipment_ids": [from_shenzhen["id"]]}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["fields"]["shipment_ids"]
            .as_str()
            .unwrap()
            .contains("another address"),
        "{v}"
    );
    let list: Value = app.api_get(key, "/pickups").await.json().await.unwrap();
    assert_eq!(
        list["pickups"].as_array().unwrap().len(),
        0,
        "nothing booked"
    );
}

#[actix_web::test]
async fn admin_forms_refuse_a_nul_and_a_missing_nonce_without_a_500_or_money() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin, "ops@example.com").await;
    let r = admin
        .submit(
            "/admin/areas",
            "/admin/areas",
            &[
                ("name", "Futian"),
                ("cities", "Shen\u{0}zhen"),
                ("capacity", "6"),
                ("windows", "09:00-12:00"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("control character"));
    assert!(
        waybill::db::areas::find_by_name(&mut app.conn(), "Futian")
            .unwrap()
            .is_none()
    );
    let r = admin
        .submit(
            "/admin/areas",
            "/admin/areas/assign",
            &[("courier_id", "\u{0}"), ("area_id", "\u{0}")],
        )
        .await;
    assert_eq!(location(&r), "/admin/areas");
    let seller = app.create_user(Role::Seller, "target@example.com").id;
    for nonce in ["", "\u{0}", "short"] {
        let r = admin
            .submit(
                "/admin/wallets",
                "/admin/wallets",
                &[
                    ("email", "target@example.com"),
                    ("direction", "credit"),
                    ("amount", "10.00"),
                    ("note", "goodwill"),
                    ("nonce", nonce),
                ],
            )
            .await;
        assert_eq!(r.status(), 422, "nonce {nonce:?}");
        assert!(r.text().await.unwrap().contains("Reload the page"));
    }
    assert_eq!(app.balance(&seller), 0, "no money moved");
}

/// Places left tomorrow in the 12:00-15:00 window of the seller's address.
async fn places_left(app: &TestApp, key: &str) -> i64 {
    let address = address_of(app, key).await;
    let w: Value = app
        .api_get(
            key,
            &format!("/pickups/windows?address_id={address}&date={}", tomorrow()),
        )
        .await
        .json()
        .await
        .unwrap();
    w["windows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["window"] == "12:00-15:00")
        .unwrap()["remaining"]
        .as_i64()
        .unwrap()
}

#[actix_web::test]
async fn a_cancelled_parcel_leaves_its_pickup_and_the_last_one_cancels_it() {
    let app = spawn_app().await;
    let area = add_area(&app, "Shenzhen", "518", 10, "");
    let (key, pickup) = booked_pickup(&app, "s@example.com", 2).await;
    let (_, courier) = courier_in(&app, "rider@example.com", &area);
    let id = pickup["id"].as_str().unwrap();
    let r = app
        .api_post(
            &courier,
            &format!("/courier/pickups/{id}/accept"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let ids: Vec<String> = pickup["shipment_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let before = places_left(&app, &key).await;
    let first: Value = app
        .api_get(&key, &format!("/shipments/{}", ids[0]))
        .await
        .json()
        .await
        .unwrap();
    let r = app
        .api_post(&key, &format!("/shipments/{}/cancel", ids[0]), &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let p: Value = app
        .api_get(&key, &format!("/pickups/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["shipment_ids"], json!([ids[1]]), "{p}");
    assert_eq!(p["status"], "accepted");
    let q: Value = app
        .api_get(&courier, &format!("/courier/pickups?date={}", tomorrow()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        q["pickups"][0]["parcels"].as_array().unwrap().len(),
        1,
        "{q}"
    );
    let r = app
        .api_post(
            &courier,
            &format!("/courier/pickups/{id}/scan"),
            &json!({"barcode": first["tracking_number"]}),
        )
        .await;
    assert_eq!(r.status(), 422, "a cancelled parcel is not scanned");
    assert_eq!(
        places_left(&app, &key).await,
        before,
        "the pickup still holds its place"
    );
    let r = app
        .api_post(&key, &format!("/shipments/{}/cancel", ids[1]), &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let p: Value = app
        .api_get(&key, &format!("/pickups/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["status"], "cancelled", "{p}");
    assert_eq!(
        places_left(&app, &key).await,
        before + 1,
        "its place is free"
    );
    assert!(
        app.outbox()
            .iter()
            .any(|m| m.to_addr == "rider@example.com" && m.subject.starts_with("Pickup cancelled")),
        "the courier is told"
    );
}

/// The session cookie a response sets, in bytes (0 when it sets none).
fn cookie_len(r: &reqwest::Response) -> usize {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.len())
        .max()
        .unwrap_or(0)
}

#[actix_web::test]
async fn echoed_input_neither_overflows_the_cookie_nor_fills_a_header() {
    let app = spawn_app().await;
    let area = add_area(&app, "Shenzhen", "518", 10, "");
    let (_, pickup) = booked_pickup(&app, "s@example.com", 1).await;
    let id = pickup["id"].as_str().unwrap();
    // A courier's page: a 5,000-character barcode, and flashes of redirects nobody follows.
    let courier = app.signed_in(Role::Courier, "rider@example.com").await;
    let uid = waybill::db::users::find_by_email(&mut app.conn(), "rider@example.com")
        .unwrap()
        .unwrap()
        .id;
    waybill::db::areas::assign(&mut app.conn(), &uid, &area).unwrap();
    let accept_page = format!("/courier/pickups/{id}");
    let r = courier
        .submit(&accept_page, &format!("/courier/pickups/{id}/accept"), &[])
        .await;
    assert_eq!(r.status(), 303);
    let barcode = "X".repeat(5_000);
    for _ in 0..12 {
        let r = courier
            .submit(
                &accept_page,
                &format!("/courier/pickups/{id}/scan"),
                &[("barcode", &barcode)],
            )
            .await;
        assert_eq!(r.status(), 303, "a long barcode is a flash, not a 500");
        assert!(cookie_len(&r) < 4_096, "cookie of {} bytes", cookie_len(&r));
    }
    let html = courier.get_html(&accept_page).await;
    assert!(html.contains('…'), "the echoed barcode is cut short");
    // A seller's pickup page: 5,000 characters of shipment ids and a 100 KB address id.
    let (seller, _) = app.seller_with_address("page@example.com").await;
    let long_ids = "a".repeat(5_000);
    let long_address = "b".repeat(100_000);
    for (address, ids) in [("", long_ids.as_str()), (long_address.as_str(), "")] {
        let r = seller
            .submit(
                "/pickups",
                "/pickups",
                &[
                    ("address_id", address),
                    ("date", &tomorrow()),
                    ("window", "09:00-12:00"),
                    ("shipment_ids", ids),
                ],
            )
            .await;
        assert!(r.status().as_u16() < 500, "{}", r.status());
        let location = r.headers().get("location").map(|l| l.len()).unwrap_or(0);
        assert!(location < 200, "Location of {location} bytes");
        assert!(cookie_len(&r) < 4_096, "cookie of {} bytes", cookie_len(&r));
    }
}
