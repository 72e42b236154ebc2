//! Door pickups through the API: windows and booking (capacity under concurrent requests, one
//! open pickup per shipment, idempotency), cancel and reschedule, the courier's queue kept to
//! its areas, the accept race, scanning, completing, failing, missed windows, reminders and
//! the handover sheet.

use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};
use waybill::domain::Role;
use waybill::domain::pickup::AreaInput;

use crate::fixtures::Booking;
use crate::helpers::*;

/// Today in Shanghai.
pub fn today() -> NaiveDate {
    seller_today()
}

pub fn tomorrow() -> String {
    (today() + Duration::days(1)).to_string()
}

/// A service area added directly (a fixture; the CLI and admin page are tested elsewhere).
pub fn add_area(
    app: &TestApp,
    name: &str,
    prefixes: &str,
    capacity: i32,
    holidays: &str,
) -> String {
    let spec = AreaInput {
        name: name.into(),
        postal_prefixes: prefixes.into(),
        capacity: capacity.to_string(),
        holidays: holidays.into(),
        ..Default::default()
    }
    .parse()
    .unwrap();
    let row = waybill::db::areas::AreaRow::new(&spec, waybill::db::now());
    assert!(waybill::db::areas::insert(&mut app.conn(), &row).unwrap());
    row.id
}

/// A courier working `area_id`, with an API key.
pub fn courier_in(app: &TestApp, email: &str, area_id: &str) -> (String, String) {
    let id = app.create_user(Role::Courier, email).id;
    waybill::db::areas::assign(&mut app.conn(), &id, area_id).unwrap();
    (id.to_string(), app.api_key(&id))
}

pub async fn address_of(app: &TestApp, key: &str) -> String {
    let a: Value = app.api_get(key, "/addresses").await.json().await.unwrap();
    a["addresses"][0]["id"].as_str().unwrap().to_string()
}

async fn book_pickup(
    app: &TestApp,
    key: &str,
    body: &Value,
    idem: Option<&str>,
) -> reqwest::Response {
    app.api_post_idempotent(key, "/pickups", body, idem).await
}

/// Tomorrow's pickup windows for the address, with what each has left.
async fn windows_tomorrow(app: &TestApp, key: &str, address: &str) -> Value {
    let path = format!("/pickups/windows?address_id={address}&date={}", tomorrow());
    app.api_get(key, &path).await.json().await.unwrap()
}

/// Moves pickup `id` to tomorrow's `window`.
async fn reschedule_tomorrow(
    app: &TestApp,
    key: &str,
    id: &str,
    window: &str,
) -> reqwest::Response {
    let body = json!({"date": tomorrow(), "window": window});
    app.api_post(key, &format!("/pickups/{id}/reschedule"), &body)
        .await
}

async fn shipment_status(app: &TestApp, key: &str, id: &str) -> Value {
    app.api_get(key, &format!("/shipments/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

#[actix_web::test]
async fn windows_booking_cancel_and_reschedule() {
    let app = spawn_app().await;
    add_area(
        &app,
        "Shenzhen",
        "518",
        2,
        &(today() + Duration::days(3)).to_string(),
    );
    let seller = app.api_seller("pickup-seller@example.com", 100_000).await;
    let address = address_of(&app, seller.key()).await;
    let (s1, s2) = (
        book(&app, seller.key(), Booking::on("CNPOST-RAM")).await,
        book(&app, seller.key(), Booking::on("CNPOST-RAM")).await,
    );

    let r = app
        .api_get(
            seller.key(),
            &format!("/pickups/windows?address_id={address}"),
        )
        .await;
    assert_eq!(r.status(), 200);
    let w: Value = r.json().await.unwrap();
    assert_eq!(w["area"], "Shenzhen");
    assert_eq!(w["timezone"], "Asia/Shanghai");
    let windows = w["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 21, "7 days × 3 windows");
    let holiday = (today() + Duration::days(3)).to_string();
    assert!(
        windows
            .iter()
            .filter(|x| x["date"] == holiday)
            .all(|x| x["open"] == false)
    );
    assert!(
        windows
            .iter()
            .any(|x| x["date"] == tomorrow() && x["open"] == true && x["remaining"] == 2)
    );

    // An address in no area: a clear 422.
    let beijing = json!({"name": "Wang", "street1": "1 Chang'an Ave", "city": "Beijing",
        "postal_code": "100000", "country": "CN", "phone": "+86 10 8888 0000"});
    let far: Value = app
        .api_post(seller.key(), "/addresses", &beijing)
        .await
        .json()
        .await
        .unwrap();
    let r = app
        .api_get(
            seller.key(),
            &format!(
                "/pickups/windows?address_id={}",
                far["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert!(e["error"].as_str().unwrap().contains("warehouse"), "{e}");

    // Refusals: unknown window, closed day, too far ahead.
    for (date, window, field) in [
        (tomorrow(), "09:00-11:00".to_string(), "window"),
        (holiday.clone(), "09:00-12:00".to_string(), "date"),
        (
            (today() + Duration::days(9)).to_string(),
            "09:00-12:00".to_string(),
            "date",
        ),
    ] {
        let r = book_pickup(
            &app,
            seller.key(),
            &json!({"address_id": address, "date": date, "window": window}),
            None,
        )
        .await;
        assert_eq!(r.status(), 422, "{date} {window}");
        let e: Value = r.json().await.unwrap();
        assert!(e["fields"][field].is_string(), "{e}");
    }

    // Default: every booked shipment from that address.
    let body = json!({"address_id": address, "date": tomorrow(), "window": "09:00-12:00"});
    let r = book_pickup(&app, seller.key(), &body, Some("pickup-1")).await;
    assert_eq!(r.status(), 201);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["status"], "scheduled");
    assert_eq!(p["area"], "Shenzhen");
    assert_eq!(p["shipment_ids"].as_array().unwrap().len(), 2);
    let id = p["id"].as_str().unwrap();
    for s in [&s1, &s2] {
        assert_eq!(
            shipment_status(&app, seller.key(), s["id"].as_str().unwrap()).await["status"],
            "pickup_scheduled"
        );
    }
    // The same request again is the same pickup; the key with another request is a conflict.
    let again = book_pickup(&app, seller.key(), &body, Some("pickup-1")).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["id"], id);
    let other = json!({"address_id": address, "date": tomorrow(), "window": "12:00-15:00"});
    assert_eq!(
        book_pickup(&app, seller.key(), &other, Some("pickup-1"))
            .await
            .status(),
        409
    );
    // A shipment in an open pickup cannot be in a second one.
    let twice = json!({"address_id": address, "date": tomorrow(), "window": "12:00-15:00",
                       "shipment_ids": [s1["id"]]});
    let r = book_pickup(&app, seller.key(), &twice, None).await;
    assert_eq!(r.status(), 409);
    // Nothing left to collect by default either.
    assert_eq!(
        book_pickup(&app, seller.key(), &other, None).await.status(),
        422
    );

    let remaining = |w: &Value, window: &str| {
        w["windows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["date"] == tomorrow() && x["window"] == window)
            .unwrap()["remaining"]
            .clone()
    };
    let w = windows_tomorrow(&app, seller.key(), &address).await;
    assert_eq!(remaining(&w, "09:00-12:00"), 1);

    // Reschedule: the place moves with it.
    let r = reschedule_tomorrow(&app, seller.key(), id, "15:00-18:00").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["window"], "15:00-18:00");
    let w = windows_tomorrow(&app, seller.key(), &address).await;
    assert_eq!(remaining(&w, "09:00-12:00"), 2);
    assert_eq!(remaining(&w, "15:00-18:00"), 1);
    // The seller is told the new time (the booking mail named the old one); moving it to the
    // window it is already in tells nothing.
    let r = reschedule_tomorrow(&app, seller.key(), id, "15:00-18:00").await;
    assert_eq!(r.status(), 200);
    let moved: Vec<_> = app
        .outbox()
        .into_iter()
        .filter(|m| m.subject.starts_with("Pickup moved"))
        .collect();
    assert_eq!(moved.len(), 1, "one mail for one move");
    assert_eq!(
        moved[0].subject,
        format!("Pickup moved: {} 15:00-18:00", tomorrow())
    );

    // Cancel: the place and the parcels are free again; twice is harmless.
    for _ in 0..2 {
        let r = app
            .api_post(seller.key(), &format!("/pickups/{id}/cancel"), &json!({}))
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "cancelled");
    }
    assert_eq!(
        shipment_status(&app, seller.key(), s1["id"].as_str().unwrap()).await["status"],
        "booked"
    );
    let w = windows_tomorrow(&app, seller.key(), &address).await;
    assert_eq!(remaining(&w, "15:00-18:00"), 2);
    assert_eq!(
        reschedule_tomorrow(&app, seller.key(), id, "09:00-12:00")
            .await
            .status(),
        409
    );

    let list: Value = app
        .api_get(seller.key(), "/pickups")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["pickups"].as_array().unwrap().len(), 1);
    // Another seller sees none of it.
    let other = app.api_seller("other-seller@example.com", 0).await;
    assert_eq!(
        app.api_get(other.key(), &format!("/pickups/{id}"))
            .await
            .status(),
        404
    );
}

#[actix_web::test]
async fn concurrent_bookings_never_exceed_a_windows_capacity() {
    let app = spawn_app().await;
    add_area(&app, "Shenzhen", "518", 3, "");
    let seller = app.api_seller("race-seller@example.com", 500_000).await;
    let address = address_of(&app, seller.key()).await;
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(
            book(&app, seller.key(), Booking::on("CNPOST-RAM")).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let mut tasks = Vec::new();
    for id in ids {
        let (base, key, address) = (
            app.address.clone(),
            seller.key().to_string(),
            address.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let body = json!({"address_id": address, "date": tomorrow(), "window": "09:00-12:00", "shipment_ids": [id]});
            let r = api_post_at(&base, &key, "/pickups", body, None).await;
            r.status().as_u16()
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    codes.sort();
    assert_eq!(codes, [201, 201, 201, 409, 409, 409, 409, 409, 409, 409]);
    let stored = waybill::db::pickups::list_for_seller(&mut app.conn(), &seller.id, 100).unwrap();
    assert_eq!(stored.len(), 3, "never over capacity");
}

/// A seller with `n` booked shipments in a pickup for tomorrow; returns (seller key, pickup).
pub async fn booked_pickup(app: &TestApp, email: &str, n: usize) -> (String, Value) {
    let key = app.api_seller(email, 500_000).await.key().to_string();
    let address = address_of(app, &key).await;
    for _ in 0..n {
        book(app, &key, Booking::on("CNPOST-RAM")).await;
    }
    let r = book_pickup(
        app,
        &key,
        &json!({"address_id": address, "date": tomorrow(), "window": "12:00-15:00"}),
        None,
    )
    .await;
    assert_eq!(r.status(), 201);
    (key, r.json().await.unwrap())
}

#[actix_web::test]
async fn exactly_one_courier_wins_an_accept_race() {
    let app = spawn_app().await;
    let area = add_area(&app, "Shenzhen", "518", 10, "");
    let (_, pickup) = booked_pickup(&app, "accept-race@example.com", 1).await;
    let id = pickup["id"].as_str().unwrap().to_string();
    let mut tasks = Vec::new();
    for i in 0..4 {
        let (_, ckey) = courier_in(&app, &format!("rider{i}@example.com"), &area);
        let (base, id) = (app.address.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let r = reqwest::Client::new()
                .post(format!("{base}/api/v1/courier/pickups/{id}/accept"))
                .bearer_auth(&ckey)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), ckey)
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let winners: Vec<_> = results.iter().filter(|(c, _)| *c == 200).collect();
    assert_eq!(
        winners.len(),
        1,
        "{:?}",
        results.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    assert_eq!(results.iter().filter(|(c, _)| *c == 409).count(), 3);
    // The winner sees it as its own; a loser sees it taken.
    let q: Value = app
        .api_get(
            &winners[0].1,
            &format!("/courier/pickups?date={}", tomorrow()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(q["pickups"][0]["accepted_by_me"], true);
    assert_eq!(q["pickups"][0]["status"], "accepted");
    let loser = &results.iter().find(|(c, _)| *c == 409).unwrap().1;
    let q: Value = app
        .api_get(loser, &format!("/courier/pickups?date={}", tomorrow()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(q["pickups"][0]["accepted_by_me"], false);
    assert_eq!(
        app.api_post(loser, &format!("/courier/pickups/{id}/arrive"), &json!({}))
            .await
            .status(),
        409
    );
}

#[actix_web::test]
async fn a_courier_never_sees_or_acts_on_another_areas_pickups() {
    let app = spawn_app().await;
    let sz = add_area(&app, "Shenzhen", "518", 10, "");
    let gz = add_area(&app, "Guangzhou", "510", 10, "");
    let (seller_key, pickup) = booked_pickup(&app, "isolated@example.com", 1).await;
    let id = pickup["id"].as_str().unwrap();
    let (_, inside) = courier_in(&app, "sz-rider@example.com", &sz);
    let (_, outside) = courier_in(&app, "gz-rider@example.com", &gz);

    let q: Value = app
        .api_get(&inside, &format!("/courier/pickups?date={}", tomorrow()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(q["pickups"].as_array().unwrap().len(), 1);
    let card = &q["pickups"][0];
    assert_eq!(card["seller"], "Test Store");
    assert_eq!(card["address"]["street1"], "科技园南路 18号");
    assert_eq!(card["parcels"].as_array().unwrap().len(), 1);
    let q: Value = app
        .api_get(&outside, &format!("/courier/pickups?date={}", tomorrow()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(q["pickups"].as_array().unwrap().len(), 0);
    for action in ["accept", "arrive", "complete"] {
        let r = app
            .api_post(
                &outside,
                &format!("/courier/pickups/{id}/{action}"),
                &json!({}),
            )
            .await;
        assert_eq!(r.status(), 404, "{action}");
    }
    let r = app
        .api_post(
            &outside,
            &format!("/courier/pickups/{id}/scan"),
            &json!({"barcode": "X"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    // Keys open only their own role's API.
    assert_eq!(
        app.api_get(&seller_key, "/courier/pickups").await.status(),
        401
    );
    assert_eq!(app.api_get(&inside, "/pickups").await.status(), 401);

    // The same through the pages.
    for (email, status) in [("sz-page@example.com", 200), ("gz-page@example.com", 404)] {
        let area = if status == 200 { &sz } else { &gz };
        let v = app.signed_in(Role::Courier, email).await;
        let uid = waybill::db::users::find_by_email(&mut app.conn(), email)
            .unwrap()
            .unwrap()
            .id;
        waybill::db::areas::assign(&mut app.conn(), &uid, area).unwrap();
        let html = v.get_html(&format!("/courier?date={}", tomorrow())).await;
        assert_eq!(
            html.contains(&format!("/courier/pickups/{id}")),
            status == 200,
            "{email}"
        );
        assert_eq!(
            v.get(&format!("/courier/pickups/{id}")).await.status(),
            status
        );
        let page = format!("/courier?date={}", tomorrow());
        let r = v
            .submit(&page, &format!("/courier/pickups/{id}/accept"), &[])
            .await;
        assert_eq!(r.status(), if status == 200 { 303 } else { 404 }, "{email}");
    }
}

#[actix_web::test]
async fn scanned_parcels_are_picked_up_and_the_rest_flagged() {
    let app = spawn_app().await;
    let area = add_area(&app, "Shenzhen", "518", 10, "");
    let (key, pickup) = booked_pickup(&app, "handover@example.com", 3).await;
    let (_, other_pickup) = booked_pickup(&app, "neighbour@example.com", 1).await;
    let id = pickup["id"].as_str().unwrap();
    let (courier, ckey) = courier_in(&app, "collector@example.com", &area);
    let post = |path: String, body: Value| {
        let (app, ckey) = (&app, ckey.clone());
        async move { app.api_post(&ckey, &path, &body).await }
    };
    assert_eq!(
        post(
            format!("/courier/pickups/{id}/scan"),
            json!({"barcode": "x"})
        )
        .await
        .status(),
        409,
        "accept first"
    );
    assert_eq!(
        post(format!("/courier/pickups/{id}/accept"), json!({}))
            .await
            .status(),
        200
    );
    assert_eq!(
        post(format!("/courier/pickups/{id}/accept"), json!({}))
            .await
            .status(),
        200,
        "again: a no-op"
    );
    assert_eq!(
        post(format!("/courier/pickups/{id}/complete"), json!({}))
            .await
            .status(),
        422,
        "nothing scanned"
    );
    let r = post(format!("/courier/pickups/{id}/arrive"), json!({})).await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "arrived");

    let ids: Vec<String> = pickup["shipment_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut tns = Vec::new();
    for s in &ids {
        tns.push(
            shipment_status(&app, &key, s).await["tracking_number"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // Another seller's parcel, in another pickup: refused loudly.
    let foreign = other_pickup["shipment_ids"][0].as_str().unwrap();
    let foreign_tn = waybill::db::shipments::list(
        &mut app.conn(),
        &waybill::db::pickups::find(&mut app.conn(), other_pickup["id"].as_str().unwrap())
            .unwrap()
            .unwrap()
            .seller_id,
        &Default::default(),
        0,
        10,
    )
    .unwrap()
    .into_iter()
    .find(|s| s.id == foreign)
    .unwrap()
    .tracking_number;
    let r = post(
        format!("/courier/pickups/{id}/scan"),
        json!({"barcode": foreign_tn}),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("not a parcel of this pickup")
    );

    for (n, tn) in tns.iter().take(2).enumerate() {
        // As a scanner might send it: lower case, a stray space.
        let r = post(
            format!("/courier/pickups/{id}/scan"),
            json!({"barcode": format!(" {}", tn.to_lowercase())}),
        )
        .await;
        assert_eq!(r.status(), 200);
        let s: Value = r.json().await.unwrap();
        assert_eq!(s["tracking_number"], tn.as_str());
        assert_eq!(
            (s["scanned"].as_u64(), s["expected"].as_u64()),
            (Some(n as u64 + 1), Some(3))
        );
    }
    let r = post(format!("/courier/pickups/{id}/complete"), json!({})).await;
    assert_eq!(r.status(), 200);
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["status"], "partially_completed");
    assert_eq!(done["collected_ids"].as_array().unwrap().len(), 2);
    assert_eq!(done["not_collected_ids"].as_array().unwrap().len(), 1);
    assert_eq!(
        post(
            format!("/courier/pickups/{id}/scan"),
            json!({"barcode": tns[2]})
        )
        .await
        .status(),
        409,
        "closed"
    );

    for (i, s) in ids.iter().enumerate() {
        let sh = shipment_status(&app, &key, s).await;
        if i < 2 {
            assert_eq!(sh["status"], "picked_up");
            let ev = sh["events"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["status"] == "picked_up")
                .unwrap();
            assert_eq!(ev["verified"], true);
            assert_eq!(ev["source"], format!("courier:{courier}"));
        } else {
            assert_eq!(sh["status"], "booked", "left with the seller");
            assert!(
                !sh["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["status"] == "picked_up")
            );
        }
    }
    let seen: Value = app
        .api_get(&key, &format!("/pickups/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["courier"]["name"], "Test Person");
    assert_eq!(seen["not_collected_ids"][0], ids[2].as_str());

    let subjects: Vec<String> = app.outbox().into_iter().map(|m| m.subject).collect();
    for want in [
        "Pickup booked",
        "Courier assigned",
        "Pickup completed: 2 collected, 1 left",
    ] {
        assert!(
            subjects.iter().any(|s| s.starts_with(want)),
            "{want} in {subjects:?}"
        );
    }
}

#[actix_web::test]
async fn a_failed_pickup_keeps_the_reason_and_frees_the_parcels() {
    let app = spawn_app().await;
    let area = add_area(&app, "Shenzhen", "518", 10, "");
    let (key, pickup) = booked_pickup(&app, "failing@example.com", 2).await;
    let id = pickup["id"].as_str().unwrap();
    let (_, ckey) = courier_in(&app, "unlucky@example.com", &area);
    // Rescheduling starts from the window booked, named by its weekday.
    let page = app
        .signed_in_existing("failing@example.com")
        .await
        .get_html(&format!("/pickups/{id}"))
        .await;
    let selected = page
        .split("<option")
        .find(|o| o.contains(" selected>"))
        .unwrap_or_else(|| panic!("no window selected: {page}"));
    let day = tomorrow();
    assert!(
        selected.contains(&format!("\"{day}|{}\"", pickup["window"].as_str().unwrap())),
        "{selected}"
    );
    let weekday = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
        .unwrap()
        .format("%a")
        .to_string();
    assert!(selected.contains(&format!(">{weekday} ")), "{selected}");
    assert_eq!(
        app.api_post(&ckey, &format!("/courier/pickups/{id}/accept"), &json!({}))
            .await
            .status(),
        200
    );
    let r = app
        .api_post(
            &ckey,
            &format!("/courier/pickups/{id}/fail"),
            &json!({"reason": "other"}),
        )
        .await;
    assert_eq!(r.status(), 422, "other needs a note");
    let r = app
        .api_post(
            &ckey,
            &format!("/courier/pickups/{id}/fail"),
            &json!({"reason": "bored"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = app
        .api_post(
            &ckey,
            &format!("/courier/pickups/{id}/fail"),
            &json!({"reason": "seller_absent", "note": "shop shut"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["status"], "failed");
    assert_eq!(p["failure"]["reason"], "seller_absent");
    assert_eq!(p["failure"]["note"], "shop shut");
    for s in p["shipment_ids"].as_array().unwrap() {
        assert_eq!(
            shipment_status(&app, &key, s.as_str().unwrap()).await["status"],
            "booked"
        );
    }
    assert!(
        app.outbox()
            .iter()
            .any(|m| m.subject == "Pickup failed: Seller absent or closed")
    );
    // The seller's page says why in words, not the stored code, and the dashboard lists it.
    let seller = app.signed_in_existing("failing@example.com").await;
    assert!(
        seller
            .get_html("/seller")
            .await
            .contains("id=\"failed-pickups\" class=\"alert\">1 pickup failed or missed")
    );
    let page = seller.get_html(&format!("/pickups/{id}")).await;
    assert!(
        page.contains("id=\"failure\">Seller absent or closed: shop shut<"),
        "{page}"
    );
    // Rebooking is a new pickup for the same parcels.
    let address = address_of(&app, &key).await;
    let r = book_pickup(
        &app,
        &key,
        &json!({"address_id": address, "date": tomorrow(), "window": "15:00-18:00"}),
        None,
    )
    .await;
    assert_eq!(r.status(), 201);
}

#[actix_web::test]
async fn missed_windows_and_one_reminder_the_evening_before() {
    let app = spawn_app().await;
    add_area(&app, "Shenzhen", "518", 10, "");
    let (key, pickup) = booked_pickup(&app, "sleepy@example.com", 1).await;
    let id = pickup["id"].as_str().unwrap();
    let pool = app.state.pool.clone();
    let lifetimes = waybill::services::sessions::Lifetimes::of(&app.state.config);
    let date = NaiveDate::parse_from_str(&tomorrow(), "%Y-%m-%d").unwrap();
    // 18:30 in Shanghai the evening before: the reminder, once however often the job runs,
    // even from several servers at once.
    let evening = (date - Duration::days(1))
        .and_hms_opt(10, 30, 0)
        .unwrap()
        .and_utc();
    let mut runs = Vec::new();
    for _ in 0..4 {
        let pool = pool.clone();
        runs.push(std::thread::spawn(move || {
            waybill::jobs::run_due_at(&pool, lifetimes, "http://x", evening, None).unwrap()
        }));
    }
    for r in runs {
        r.join().unwrap();
    }
    waybill::jobs::run_due_at(&pool, lifetimes, "http://x", evening, None).unwrap();
    let reminders = app
        .outbox()
        .into_iter()
        .filter(|m| m.subject.starts_with("Reminder: pickup tomorrow"))
        .count();
    assert_eq!(reminders, 1);
    // The window (12:00-15:00 local = 04:00-07:00 UTC) passes with nobody.
    let before = date.and_hms_opt(6, 59, 0).unwrap().and_utc();
    waybill::jobs::run_due_at(&pool, lifetimes, "http://x", before, None).unwrap();
    assert_eq!(
        app.api_get(&key, &format!("/pickups/{id}"))
            .await
            .json::<Value>()
            .await
            .unwrap()["status"],
        "scheduled"
    );
    let after = date.and_hms_opt(7, 1, 0).unwrap().and_utc();
    waybill::jobs::run_due_at(&pool, lifetimes, "http://x", after, None).unwrap();
    let p: Value = app
        .api_get(&key, &format!("/pickups/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["status"], "missed");
    assert_eq!(
        shipment_status(&app, &key, p["shipment_ids"][0].as_str().unwrap()).await["status"],
        "booked"
    );
    assert!(
        app.outbox()
            .iter()
            .any(|m| m.subject.starts_with("Pickup missed"))
    );
}

#[actix_web::test]
async fn the_handover_sheet_scans_and_totals() {
    let app = spawn_app().await;
    add_area(&app, "Shenzhen", "518", 10, "");
    let (key, pickup) = booked_pickup(&app, "manifest@example.com", 3).await;
    let id = pickup["id"].as_str().unwrap();
    let r = app.api_get(&key, &format!("/pickups/{id}/manifest")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap();
    let symbols = crate::labels::scan(&pdf);
    for s in pickup["shipment_ids"].as_array().unwrap() {
        let tn = shipment_status(&app, &key, s.as_str().unwrap()).await["tracking_number"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            symbols.contains(&format!("CODE-128:{tn}")),
            "{tn} in {symbols:?}"
        );
    }
    let text = crate::labels::text_of(&pdf);
    for want in [
        "PICKUP HANDOVER SHEET",
        "Parcels: 3",
        "Total declared weight: 1.365 kg",
        "Handed over by (seller)",
        "Collected by (courier)",
    ] {
        assert!(text.contains(want), "{want} in\n{text}");
    }
}

/// The whole handover on phone-sized pages: the seller books three parcels, the courier
/// accepts, scans two by typing into the scan input as a scanner does, completes; the seller
/// sees two collected and one flagged.
#[actix_web::test]
async fn a_pickup_on_the_pages_at_phone_size() {
    use crate::browser::{click, fill, find, login, phone, wait_path};
    // The text of an element, waiting out a page that is being replaced.
    async fn text(c: &fantoccini::Client, css: &str) -> String {
        for _ in 0..100 {
            if let Ok(t) = find(c, css).await.text().await {
                return t;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{css} kept going stale");
    }
    let app = spawn_app().await;
    let area = add_area(&app, "Shenzhen", "518", 10, "");
    let seller = app.api_seller("door@example.com", 500_000).await;
    let mut tns = Vec::new();
    for _ in 0..3 {
        tns.push(
            book(&app, seller.key(), Booking::on("CNPOST-RAM")).await["tracking_number"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let courier = app.create_user(Role::Courier, "phone-rider@example.com").id;
    waybill::db::areas::assign(&mut app.conn(), &courier, &area).unwrap();

    let (_driver, c) = phone(390, 844).await;
    login(&c, &app, "door@example.com", PASSWORD).await;
    wait_path(&c, "/seller").await;
    click(&c, "nav a[href='/pickups']").await;
    wait_path(&c, "/pickups").await;
    click(
        &c,
        &format!("input[name=slot][value='{}|12:00-15:00']", tomorrow()),
    )
    .await;
    let boxes = c
        .find_all(fantoccini::Locator::Css("input[name=shipment_ids]:checked"))
        .await
        .unwrap();
    assert_eq!(boxes.len(), 3, "every waiting parcel by default");
    click(&c, "#book").await;
    let flash = text(&c, ".flash-ok").await;
    assert!(flash.starts_with("Pickup booked"), "{flash}");
    let pickup_path = c.current_url().await.unwrap().path().to_string();
    click(&c, "form.signout button").await;
    wait_path(&c, "/login").await;

    login(&c, &app, "phone-rider@example.com", PASSWORD).await;
    wait_path(&c, "/courier").await;
    c.goto(&format!("{}/courier?date={}", app.address, tomorrow()))
        .await
        .unwrap();
    // All seven day tabs in view, none off the edge of the phone.
    let tabs = c
        .execute(
            "return [...document.querySelectorAll('nav.tabs a')].map(a => a.getBoundingClientRect().right <= window.innerWidth)",
            vec![],
        )
        .await
        .unwrap();
    let tabs: Vec<bool> = serde_json::from_value(tabs).unwrap();
    assert_eq!(tabs, vec![true; 7], "day tabs within 390 px");
    let card = text(&c, "#queue .pickup-card").await;
    assert!(
        card.contains("Test Store")
            && card.contains("科技园南路 18号")
            && card.contains("3 parcel(s)"),
        "{card}"
    );
    click(&c, "#queue .pickup-card a.open").await;
    click(&c, "#accept").await;
    assert_eq!(
        text(&c, ".flash-ok").await,
        "Accepted: this pickup is yours."
    );
    for (n, tn) in tns.iter().take(2).enumerate() {
        let input = find(&c, "#barcode").await;
        input.send_keys(&format!("{tn}\u{E007}")).await.unwrap();
        let want = format!("{} of 3 scanned", n + 1);
        for _ in 0..100 {
            if text(&c, "#scan-count").await == want {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(text(&c, "#scan-count").await, want);
        assert!(text(&c, "#scan-result").await.contains(tn.as_str()));
    }
    // Another parcel's code is refused, loudly.
    fill(&c, "#barcode", "RR000000080CN\u{E007}").await;
    for _ in 0..100 {
        if text(&c, "#scan-result").await.contains("not a parcel") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let refused = find(&c, "#scan-result").await;
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("not a parcel of this pickup")
    );
    assert_eq!(refused.attr("class").await.unwrap().as_deref(), Some("bad"));
    click(&c, "#complete").await;
    // Two of three scanned: the page asks before it leaves one with the seller.
    let mut asked = None;
    for _ in 0..100 {
        if let Ok(t) = c.get_alert_text().await {
            asked = Some(t);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let asked = asked.expect("a confirmation before completing with a parcel unscanned");
    assert!(asked.contains("2 of 3"), "{asked}");
    c.accept_alert().await.unwrap();
    // The accept flash is on the page until the completed one replaces it.
    let mut flash = String::new();
    for _ in 0..100 {
        flash = text(&c, ".flash-ok").await;
        if flash.contains("collected") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        flash.contains("2 collected, 1 left with the seller"),
        "{flash}"
    );
    click(&c, "form.signout button").await;
    wait_path(&c, "/login").await;

    login(&c, &app, "door@example.com", PASSWORD).await;
    wait_path(&c, "/seller").await;
    c.goto(&format!("{}{pickup_path}", app.address))
        .await
        .unwrap();
    assert_eq!(text(&c, "#status").await, "Partially completed");
    assert_eq!(
        text(&c, "#counts").await,
        "2 collected, 1 not collected, 3 in all"
    );
    assert!(text(&c, "#courier").await.contains("Test Person"));
    let flagged = text(&c, "#parcels .parcel-not_collected").await;
    assert!(flagged.contains(&tns[2]), "{flagged}");
    c.close().await.unwrap();
}

#[actix_web::test]
async fn seller_pages_book_reschedule_cancel_and_keep_sellers_apart() {
    let app = spawn_app().await;
    add_area(&app, "Shenzhen", "518", 5, "");
    let (v, seller) = app.seller_with_address("pages@example.com").await;
    let key = app.api_key(&seller);
    let s = book(&app, &key, Booking::on("CNPOST-RAM")).await;
    let html = v.get_html("/pickups").await;
    assert!(
        html.contains("Shenzhen, next 7 days")
            && html.contains(s["tracking_number"].as_str().unwrap()),
        "{html}"
    );
    let shipment_page = v
        .get_html(&format!("/shipments/{}", s["id"].as_str().unwrap()))
        .await;
    assert!(shipment_page.contains("href=\"/pickups\" id=\"book-pickup\""));
    let address = address_of(&app, &key).await;
    let slot = format!("{}|12:00-15:00", tomorrow());
    let r = v
        .submit(
            "/pickups",
            "/pickups",
            &[
                ("address_id", &address),
                ("slot", &slot),
                ("shipment_ids", s["id"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let detail = location(&r);
    assert!(detail.starts_with("/pickups/"), "{detail}");
    let page = v.get_html(&detail).await;
    assert!(
        page.contains("Scheduled") && page.contains("/manifest"),
        "{page}"
    );
    let r = v.get(&format!("{detail}/manifest")).await;
    assert_eq!(r.headers()["content-type"], "application/pdf");

    let later = format!("{}|15:00-18:00", tomorrow());
    let r = v
        .submit(
            &detail,
            &format!("{detail}/reschedule"),
            &[("slot", &later)],
        )
        .await;
    assert_eq!(location(&r), detail);
    assert!(v.get_html(&detail).await.contains("Pickup moved to"));
    let r = v.submit(&detail, &format!("{detail}/cancel"), &[]).await;
    assert_eq!(location(&r), detail);
    let page = v.get_html(&detail).await;
    assert!(
        page.contains("Pickup cancelled") && page.contains("Cancelled"),
        "{page}"
    );

    // Another seller: no access to this pickup, and an address in no area is told why.
    let other = app.signed_in(Role::Seller, "elsewhere@example.com").await;
    assert_eq!(other.get(&detail).await.status(), 404);
    assert_eq!(other.get(&format!("{detail}/manifest")).await.status(), 404);
    other
        .submit(
            "/seller/addresses",
            "/seller/addresses",
            &[
                ("name", "Wang"),
                ("street1", "1 Chang'an Ave"),
                ("city", "Beijing"),
                ("postal_code", "100000"),
                ("country", "CN"),
                ("phone", "13800138000"),
            ],
        )
        .await;
    let html = other.get_html("/pickups").await;
    assert!(html.contains("drop the parcels at the warehouse"), "{html}");
}

#[actix_web::test]
async fn the_admin_adds_areas_and_assigns_couriers_on_the_areas_page() {
    let app = spawn_app().await;
    let admin = app.signed_in(Role::Admin, "ops@example.com").await;
    let courier = app.create_user(Role::Courier, "area-rider@example.com").id;
    let r = admin
        .submit(
            "/admin/areas",
            "/admin/areas",
            &[
                ("name", "Futian"),
                ("postal_prefixes", "51804"),
                ("capacity", "0"),
                ("windows", "09:00-12:00"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Capacity is a whole number")
    );
    let r = admin
        .submit(
            "/admin/areas",
            "/admin/areas",
            &[
                ("name", "Futian"),
                ("postal_prefixes", "51804"),
                ("cities", ""),
                ("capacity", "6"),
                ("windows", "09:00-12:00,14:00-18:00"),
                ("timezone", "Asia/Shanghai"),
                ("closed_weekdays", "sat,sun"),
                ("holidays", ""),
                ("cutoff", "11:00"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/areas");
    let area = waybill::db::areas::find_by_name(&mut app.conn(), "Futian")
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            area.capacity,
            area.closed_weekdays.as_str(),
            area.cutoff.as_str()
        ),
        (6, "sat,sun", "11:00")
    );
    let r = admin
        .submit(
            "/admin/areas",
            "/admin/areas/assign",
            &[("courier_id", &courier), ("area_id", &area.id)],
        )
        .await;
    assert_eq!(location(&r), "/admin/areas");
    let html = admin.get_html("/admin/areas").await;
    assert!(
        html.contains("Futian")
            && html.contains("area-rider@example.com")
            && html.contains("now works Futian"),
        "{html}"
    );
    let seller = app.signed_in(Role::Seller, "nosy@example.com").await;
    assert_eq!(seller.get("/admin/areas").await.status(), 403);
}

#[actix_web::test]
async fn rescheduling_into_a_full_window_changes_nothing() {
    let app = spawn_app().await;
    add_area(&app, "Shenzhen", "518", 1, "");
    let seller = app.api_seller("full@example.com", 500_000).await;
    let address = address_of(&app, seller.key()).await;
    let mut pickups = Vec::new();
    for window in ["09:00-12:00", "12:00-15:00"] {
        let s = book(&app, seller.key(), Booking::on("CNPOST-RAM")).await;
        let body = json!({"address_id": address, "date": tomorrow(), "window": window, "shipment_ids": [s["id"]]});
        let r = book_pickup(&app, seller.key(), &body, None).await;
        assert_eq!(r.status(), 201);
        pickups.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // Both directions (the counter rows are taken in key order either way).
    for (id, to) in [(&pickups[0], "12:00-15:00"), (&pickups[1], "09:00-12:00")] {
        let r = reschedule_tomorrow(&app, seller.key(), id, to).await;
        assert_eq!(r.status(), 409, "{to}");
    }
    let w = windows_tomorrow(&app, seller.key(), &address).await;
    let left: Vec<i64> = w["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["remaining"].as_i64().unwrap())
        .collect();
    assert_eq!(left, [0, 0, 1], "nothing moved");
    let p: Value = app
        .api_get(seller.key(), &format!("/pickups/{}", pickups[0]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["window"], "09:00-12:00");
}

/// Standard base64, for handing an image to the browser as a data URL.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The camera path's decoder, vendored with its WebAssembly served by Waybill, reads the
/// Code 128 of a rendered label inside headless Chromium (which has no native detector),
/// and nothing is fetched from anywhere else.
#[actix_web::test]
async fn the_camera_decoder_reads_a_label_with_nothing_from_outside() {
    use crate::browser::{find, login, phone, wait_path};
    let app = spawn_app().await;
    let area = add_area(&app, "Shenzhen", "518", 10, "");
    let (key, pickup) = booked_pickup(&app, "camera@example.com", 1).await;
    let sid = pickup["shipment_ids"][0].as_str().unwrap();
    let tn = shipment_status(&app, &key, sid).await["tracking_number"]
        .as_str()
        .unwrap()
        .to_string();
    let courier = app
        .create_user(Role::Courier, "camera-rider@example.com")
        .id;
    waybill::db::areas::assign(&mut app.conn(), &courier, &area).unwrap();
    let pdf = app
        .api_get(&key, &format!("/shipments/{sid}/label"))
        .await
        .bytes()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("label.pdf"), &pdf).unwrap();
    let status = std::process::Command::new("pdftoppm")
        .args(["-r", "203", "-gray", "-png", "-singlefile"])
        .arg(dir.path().join("label.pdf"))
        .arg(dir.path().join("label"))
        .status()
        .unwrap();
    assert!(status.success());
    let png = std::fs::read(dir.path().join("label.png")).unwrap();

    let (_driver, c) = phone(390, 844).await;
    login(&c, &app, "camera-rider@example.com", PASSWORD).await;
    wait_path(&c, "/courier").await;
    c.goto(&format!(
        "{}/courier/pickups/{}",
        app.address,
        pickup["id"].as_str().unwrap()
    ))
    .await
    .unwrap();
    find(&c, "#accept").await;
    let decoded = c
        .execute_async(
            "const [data, done] = arguments;
             const img = new Image();
             img.onload = () => window.waybillDecode(img).then(done, e => done('error: ' + e));
             img.onerror = () => done('error: image');
             img.src = data;",
            vec![json!(format!("data:image/png;base64,{}", base64(&png)))],
        )
        .await
        .unwrap();
    assert_eq!(decoded, json!([tn]));
    let fetched = c
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name)",
            vec![],
        )
        .await
        .unwrap();
    let fetched: Vec<String> = serde_json::from_value(fetched).unwrap();
    assert!(
        fetched
            .iter()
            .any(|u| u.ends_with("/static/vendor/zxing-wasm/zxing_reader.wasm")),
        "{fetched:?}"
    );
    assert!(
        fetched.iter().all(|u| u.starts_with(&app.address)),
        "{fetched:?}"
    );
    c.close().await.unwrap();
}

/// The warehouse may scan a parcel in before the courier closes the pickup (the courier
/// drops the parcels at the depot, then taps Complete): the pickup still completes, and the
/// parcel keeps its later status.
#[actix_web::test]
async fn a_pickup_completes_after_the_warehouse_scanned_a_parcel_in() {
    let app = spawn_app().await;
    let area = add_area(&app, "Shenzhen", "518", 10, "");
    let (key, pickup) = booked_pickup(&app, "depot-first@example.com", 2).await;
    let id = pickup["id"].as_str().unwrap();
    let (_, ckey) = courier_in(&app, "depot-rider@example.com", &area);
    let dock = app.create_user(Role::Warehouse, "depot-dock@example.com");
    let wkey = app.api_key(&dock.id);
    let post = |k: &String, path: String, body: Value| {
        let (app, k) = (&app, k.clone());
        async move { app.api_post(&k, &path, &body).await }
    };
    for action in ["accept", "arrive"] {
        let r = post(&ckey, format!("/courier/pickups/{id}/{action}"), json!({})).await;
        assert_eq!(r.status(), 200, "{action}");
    }
    let ids: Vec<String> = pickup["shipment_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut tns = Vec::new();
    for s in &ids {
        let tn = shipment_status(&app, &key, s).await["tracking_number"]
            .as_str()
            .unwrap()
            .to_string();
        let r = post(
            &ckey,
            format!("/courier/pickups/{id}/scan"),
            json!({ "barcode": tn }),
        )
        .await;
        assert_eq!(r.status(), 200);
        tns.push(tn);
    }
    let r = post(
        &wkey,
        "/warehouse/scans".into(),
        json!({"scan_id": "depot-1", "tracking_number": tns[0], "weight_g": 455}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(
        shipment_status(&app, &key, &ids[0]).await["status"],
        "at_origin_facility"
    );

    let r = post(&ckey, format!("/courier/pickups/{id}/complete"), json!({})).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let done: Value = r.json().await.unwrap();
    assert_eq!(done["status"], "completed");
    assert_eq!(done["collected_ids"].as_array().unwrap().len(), 2);
    assert_eq!(
        shipment_status(&app, &key, &ids[0]).await["status"],
        "at_origin_facility",
        "never moved back"
    );
    assert_eq!(
        shipment_status(&app, &key, &ids[1]).await["status"],
        "picked_up"
    );
}
