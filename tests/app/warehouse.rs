//! Warehouse receipt: inbound scans (API and page), weight adjustments charged or refunded
//! exactly once, amounts due that block bookings until a top-up settles them, held parcels,
//! disputes, and the notification mails with their opt-outs.

use serde_json::{Value, json};
use waybill::domain::Role;
use waybill::services::wallet::Kind;

use crate::fixtures::Booking;
use crate::helpers::{
    TestApp, api_post_at, book, cny, concurrently_async, csrf_in, location, spawn_app,
};

/// A warehouse account and its machine's API key.
fn warehouse_key(app: &TestApp, email: &str) -> String {
    let w = app.create_user(Role::Warehouse, email);
    app.api_key(&w.id)
}

/// The freight of a CNPOST-RAM parcel to Germany at `weight_g` (the fixture's size).
async fn price_at(app: &TestApp, key: &str, weight_g: i64) -> i64 {
    let r = app
        .api_post(
            key,
            "/quotes",
            &json!({"recipient": {"country": "DE"},
                    "parcel": {"weight_g": weight_g, "length_mm": 200, "width_mm": 150, "height_mm": 50}}),
        )
        .await;
    let body: Value = r.json().await.unwrap();
    body["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["channel"] == "CNPOST-RAM")
        .unwrap()["price"]["amount"]
        .as_i64()
        .unwrap()
}

async fn scan(app: &TestApp, key: &str, body: Value) -> reqwest::Response {
    app.api_post(key, "/warehouse/scans", &body).await
}

/// A scan through the API, its answer's JSON.
async fn scan_json(app: &TestApp, key: &str, body: Value) -> Value {
    scan(app, key, body).await.json().await.unwrap()
}

async fn wallet(app: &TestApp, key: &str) -> Value {
    app.api_get(key, "/wallet").await.json().await.unwrap()
}

fn mails_of_kind(app: &TestApp, kind: &str) -> Vec<waybill::db::outbox::OutboxMail> {
    app.outbox()
        .into_iter()
        .filter(|m| m.kind == kind)
        .collect()
}

#[actix_web::test]
async fn a_heavier_parcel_is_charged_once_whatever_is_replayed() {
    let app = spawn_app().await;
    let seller = app.api_seller("heavy@example.com", 500_000).await;
    let wh = warehouse_key(&app, "dock@example.com");
    let s = book(&app, seller.key(), Booking::on("CNPOST-RAM").weight(455)).await;
    let (declared, measured) = (
        price_at(&app, seller.key(), 455).await,
        price_at(&app, seller.key(), 1_200).await,
    );
    let before = app.balance(&seller.id);
    let body = json!({"scan_id": "dws-1", "tracking_number": s["tracking_number"],
                      "weight_g": 1200, "length_mm": 200, "width_mm": 150, "height_mm": 50,
                      "location": "Shenzhen hub"});
    let r = scan(&app, &wh, body.clone()).await;
    assert_eq!(r.status(), 200);
    let out: Value = r.json().await.unwrap();
    assert_eq!(out["status"], "at_origin_facility");
    assert_eq!(out["result"], "adjusted");
    assert_eq!(out["declared"]["weight_g"], 455);
    assert_eq!(out["measured"]["weight_g"], 1200);
    assert_eq!(out["adjustment"]["amount"], measured - declared);
    assert_eq!(out["adjustment"]["currency"], "CNY");
    assert_eq!(out["replayed"], false);
    assert_eq!(app.balance(&seller.id), before - (measured - declared));

    // The same scan again (a retry), three times: answered the same, nothing moves.
    for _ in 0..3 {
        let again: Value = scan(&app, &wh, body.clone()).await.json().await.unwrap();
        assert_eq!(again["replayed"], true);
        assert_eq!(again["adjustment"], out["adjustment"]);
    }
    // The same scan_id with other sizes is not a retry: refused, not answered as one.
    let mut other = body.clone();
    other["height_mm"] = json!(90);
    assert_eq!(scan(&app, &wh, other).await.status(), 409);
    // Another scan of the parcel later (a second machine): recorded, no second adjustment.
    let later: Value = scan_json(
        &app,
        &wh,
        json!({"scan_id": "dws-2", "tracking_number": s["tracking_number"], "weight_g": 1900}),
    )
    .await;
    assert_eq!(later["result"], "already_measured");
    assert_eq!(later["adjustment"], Value::Null);
    assert_eq!(app.balance(&seller.id), before - (measured - declared));
    app.assert_ledger_consistent(&seller.id);

    // The ledger entry carries the shipment; the seller sees both measurements.
    let w = wallet(&app, seller.key()).await;
    let entry = &w["entries"][0];
    assert_eq!(entry["kind"], "weight_adjustment_charge");
    assert_eq!(entry["shipment_id"], s["id"]);
    let detail: Value = app
        .api_get(
            seller.key(),
            &format!("/shipments/{}", s["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["status"], "at_origin_facility");
    let a = &detail["weight_adjustment"];
    assert_eq!(a["declared"]["weight_g"], 455);
    assert_eq!(a["measured"]["weight_g"], 1200);
    assert_eq!(a["adjustment"]["amount"], measured - declared);
    let events = detail["events"].as_array().unwrap();
    let received = events
        .iter()
        .find(|e| e["status"] == "at_origin_facility")
        .expect("a verified warehouse event");
    assert_eq!(received["verified"], true);
    assert_eq!(received["location"], "Shenzhen hub");

    // The seller is mailed both measurements and the amount.
    let mails = mails_of_kind(&app, "weight_adjustment");
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].body_text.contains("1.2 kg"),
        "{}",
        mails[0].body_text
    );
    assert!(
        mails[0].body_text.contains("455 g"),
        "{}",
        mails[0].body_text
    );
}

#[actix_web::test]
async fn concurrent_scans_of_a_lighter_parcel_refund_exactly_once() {
    let app = spawn_app().await;
    let seller = app.api_seller("light@example.com", 500_000).await;
    let wh = warehouse_key(&app, "dock2@example.com");
    let s = book(&app, seller.key(), Booking::on("CNPOST-RAM").weight(1_500)).await;
    let refund =
        price_at(&app, seller.key(), 1_500).await - price_at(&app, seller.key(), 300).await;
    let before = app.balance(&seller.id);
    let number = s["tracking_number"].as_str().unwrap().to_string();
    // Eight machines at once, each its own scan id, and each scan sent twice.
    let addr = app.address.clone();
    let results = concurrently_async(16, |i| {
        let (addr, wh, number) = (addr.clone(), wh.clone(), number.clone());
        async move {
            let body = json!({"scan_id": format!("m-{}", i / 2), "tracking_number": number, "weight_g": 300});
            let r = api_post_at(&addr, &wh, "/warehouse/scans", body, None).await;
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap();
            (status, body)
        }
    })
    .await;
    let adjusted: Vec<&Value> = results
        .iter()
        .filter(|(st, b)| *st == 200 && b["result"] == "adjusted")
        .map(|(_, b)| b)
        .collect();
    for (st, b) in &results {
        assert!(*st == 200 || *st == 409, "{st} {b}");
    }
    // One scan adjusted (and its twin replayed the same answer); the rest measured nothing.
    let first = adjusted.iter().filter(|b| b["replayed"] == false).count();
    assert_eq!(first, 1, "{results:?}");
    assert_eq!(adjusted[0]["adjustment"]["amount"], -refund);
    assert_eq!(app.balance(&seller.id), before + refund);
    app.assert_ledger_consistent(&seller.id);
}

#[actix_web::test]
async fn a_difference_within_tolerance_moves_no_money() {
    let app = spawn_app().await;
    let seller = app.api_seller("close@example.com", 500_000).await;
    let wh = warehouse_key(&app, "dock3@example.com");
    let s = book(&app, seller.key(), Booking::on("CNPOST-RAM").weight(455)).await;
    let before = app.balance(&seller.id);
    let out: Value = scan_json(
        &app,
        &wh,
        json!({"scan_id": "t-1", "tracking_number": s["tracking_number"], "weight_g": 490}),
    )
    .await;
    assert_eq!(out["result"], "within_tolerance");
    assert_eq!(out["adjustment"], Value::Null);
    assert_eq!(app.balance(&seller.id), before);
    assert!(mails_of_kind(&app, "weight_adjustment").is_empty());
}

#[actix_web::test]
async fn an_adjustment_the_balance_cannot_cover_is_due_and_blocks_booking_until_a_top_up() {
    let app = spawn_app().await;
    let seller = app
        .seller("short@example.com")
        .with_key()
        .with_address()
        .build()
        .await;
    let price = price_at(&app, seller.key(), 455).await;
    app.post(&seller.id, Kind::TopUp, price, "exact").unwrap();
    let s = book(&app, seller.key(), Booking::on("CNPOST-RAM").weight(455)).await;
    assert_eq!(app.balance(&seller.id), 0);
    let owed = price_at(&app, seller.key(), 1_800).await - price;
    let wh = warehouse_key(&app, "dock4@example.com");
    let out: Value = scan_json(
        &app,
        &wh,
        json!({"scan_id": "due-1", "tracking_number": s["tracking_number"], "weight_g": 1800}),
    )
    .await;
    assert_eq!(out["adjustment"]["amount"], owed);
    assert_eq!(out["amount_due"]["amount"], owed);
    assert_eq!(
        app.balance(&seller.id),
        0,
        "the balance never goes below zero"
    );
    assert_eq!(
        wallet(&app, seller.key()).await["amount_due"]["amount"],
        owed
    );

    // A top-up smaller than what is due: all of it settles the due, bookings still wait.
    app.post(&seller.id, Kind::TopUp, owed / 2, "half").unwrap();
    assert_eq!(app.balance(&seller.id), 0);
    let left = owed - owed / 2;
    assert_eq!(
        wallet(&app, seller.key()).await["amount_due"]["amount"],
        left
    );
    let r = app
        .api_post(seller.key(), "/shipments", Booking::on("CNPOST-RAM"))
        .await;
    assert_eq!(r.status(), 402);
    let err: Value = r.json().await.unwrap();
    assert!(err["error"].as_str().unwrap().contains("due"), "{err}");
    let dashboard = app
        .signed_in_existing(&seller.email)
        .await
        .get("/seller")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        dashboard.contains("id=\"amount-due\""),
        "the dashboard says so"
    );
    // The shipment says what is still due; the operator's list what the scan charged and left.
    let id = s["id"].as_str().unwrap();
    let shipment = || {
        let (app, key) = (&app, seller.key());
        async move {
            app.api_get(key, &format!("/shipments/{id}"))
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        shipment().await["weight_adjustment"]["amount_due"]["amount"],
        left
    );
    let scans = app
        .signed_in_existing("dock4@example.com")
        .await
        .get_html("/warehouse")
        .await;
    assert!(
        scans.contains(&format!(
            "<td class=\"scan-result\">{} due (wallet empty)</td>",
            cny(owed)
        )),
        "{scans}"
    );

    // A top-up that covers the rest: the due is settled first, then booking works.
    app.post(&seller.id, Kind::TopUp, 100_000, "plenty")
        .unwrap();
    assert_eq!(app.balance(&seller.id), 100_000 - left);
    let w = wallet(&app, seller.key()).await;
    assert_eq!(w["amount_due"]["amount"], 0);
    assert_eq!(
        shipment().await["weight_adjustment"]["amount_due"]["amount"],
        0,
        "settled: nothing due on the shipment either"
    );
    let page = app
        .signed_in_existing(&seller.email)
        .await
        .get_html(&format!("/shipments/{id}"))
        .await;
    assert!(!page.contains("of it is due"), "{page}");
    let settlements: Vec<&Value> = w["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "amount_due_settlement")
        .collect();
    assert_eq!(settlements.len(), 2);
    assert!(settlements.iter().all(|e| e["shipment_id"] == s["id"]));
    book(&app, seller.key(), Booking::on("CNPOST-RAM")).await;
    app.assert_ledger_consistent(&seller.id);
}

#[actix_web::test]
async fn a_parcel_over_the_channel_limits_is_held_and_can_be_sent_back() {
    let app = spawn_app().await;
    let seller = app.api_seller("held@example.com", 500_000).await;
    let wh = warehouse_key(&app, "dock5@example.com");
    let s = book(&app, seller.key(), Booking::on("CNPOST-RAM").weight(455)).await;
    let before = app.balance(&seller.id);
    let out: Value = scan_json(
        &app,
        &wh,
        json!({"scan_id": "big-1", "tracking_number": s["tracking_number"], "weight_g": 2600}),
    )
    .await;
    assert_eq!(out["result"], "held");
    assert_eq!(out["status"], "exception");
    assert!(
        out["held_reason"].as_str().unwrap().contains("Too heavy"),
        "{out}"
    );
    assert_eq!(out["adjustment"], Value::Null);
    assert_eq!(app.balance(&seller.id), before);
    let held = mails_of_kind(&app, "held");
    assert_eq!(held.len(), 1, "the seller is told");
    assert!(held[0].body_text.contains("Too heavy"));
    assert!(mails_of_kind(&app, "exception").is_empty());

    let v = app.signed_in_existing(&seller.email).await;
    let id = s["id"].as_str().unwrap();
    let page = v
        .get(&format!("/shipments/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"held\""), "{page}");
    assert!(
        !page.contains("id=\"print-label\""),
        "a held parcel is not labelled again"
    );
    let measured = page.split("id=\"measured-row\"").nth(1).unwrap();
    assert!(
        measured[..measured.find("</tr>").unwrap()].contains("not carried on this channel"),
        "no price for a parcel the channel cannot take"
    );
    let dashboard = v.get_html("/seller").await;
    assert!(
        dashboard.contains("id=\"exceptions\" class=\"alert\">1 shipment held"),
        "the dashboard lists it under Needs action: {dashboard}"
    );
    let items = page
        .split("id=\"customs-items\"")
        .nth(1)
        .and_then(|p| p.split("</ul>").next())
        .unwrap();
    assert!(
        items.contains(" × ") && items.contains(" = "),
        "declared values shown: {items}"
    );
    let r = v
        .submit(
            &format!("/shipments/{id}"),
            &format!("/shipments/{id}/held"),
            &[("choice", "send_back")],
        )
        .await;
    assert_eq!(location(&r), format!("/shipments/{id}"));
    assert_eq!(
        app.balance(&seller.id),
        before + s["price"]["amount"].as_i64().unwrap()
    );
    let page = v
        .get(&format!("/shipments/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Returned"), "{page}");
    app.assert_ledger_consistent(&seller.id);
}

#[actix_web::test]
async fn a_disputed_charge_is_refunded_by_an_admin_once() {
    let app = spawn_app().await;
    let seller = app.api_seller("disputer@example.com", 500_000).await;
    let wh = warehouse_key(&app, "dock6@example.com");
    let s = book(&app, seller.key(), Booking::on("CNPOST-RAM").weight(455)).await;
    let before = app.balance(&seller.id);
    let out: Value = scan_json(
        &app,
        &wh,
        json!({"scan_id": "d-1", "tracking_number": s["tracking_number"], "weight_g": 1500}),
    )
    .await;
    let charged = out["adjustment"]["amount"].as_i64().unwrap();
    assert!(charged > 0);
    let id = s["id"].as_str().unwrap();

    // An empty note is an error on the form; a note opens the dispute; a second is refused.
    let v = app.signed_in_existing(&seller.email).await;
    let page = format!("/shipments/{id}");
    v.submit(&page, &format!("{page}/dispute"), &[("note", "  ")])
        .await;
    let html = v.get(&page).await.text().await.unwrap();
    assert!(html.contains("Say why the measurement is wrong"), "{html}");
    v.submit(
        &page,
        &format!("{page}/dispute"),
        &[(
            "note",
            // Two lines, as a text area sends them.
            "Weighed at 460 g on a calibrated scale.\r\nPhoto sent to support.",
        )],
    )
    .await;
    let html = v.get(&page).await.text().await.unwrap();
    assert!(html.contains("waiting for Waybill"), "{html}");
    let again = app
        .api_post(
            seller.key(),
            &format!("/shipments/{id}/dispute"),
            &json!({"note": "again"}),
        )
        .await;
    assert_eq!(again.status(), 409);

    // The admin sees it and refunds it.
    let admin = app.signed_in(Role::Admin, "ops@example.com").await;
    let list = admin.get("/admin/disputes").await.text().await.unwrap();
    assert!(
        list.contains(s["tracking_number"].as_str().unwrap()),
        "{list}"
    );
    assert!(
        list.contains("calibrated scale.\nPhoto sent to support."),
        "both lines kept: {list}"
    );
    assert!(
        list.contains("data-confirm=\"Send this decision to the seller?"),
        "a decision asks first"
    );
    let r = admin
        .submit(
            "/admin/disputes",
            &format!("/admin/disputes/{id}"),
            &[("decision", "refund"), ("note", "Photo checks out.")],
        )
        .await;
    assert_eq!(location(&r), "/admin/disputes");
    assert_eq!(app.balance(&seller.id), before);
    // Deciding again changes nothing.
    admin
        .submit(
            "/admin/disputes",
            &format!("/admin/disputes/{id}"),
            &[("decision", "refund"), ("note", "Twice?")],
        )
        .await;
    assert_eq!(app.balance(&seller.id), before);
    let html = v.get(&page).await.text().await.unwrap();
    assert!(html.contains("accepted, refunded"), "{html}");
    assert!(html.contains("Photo checks out."));
    assert!(
        mails_of_kind(&app, "weight_adjustment")
            .iter()
            .any(|m| m.subject.starts_with("Dispute accepted"))
    );
    app.assert_ledger_consistent(&seller.id);
}

#[actix_web::test]
async fn a_seller_can_turn_off_each_notification_kind() {
    let app = spawn_app().await;
    let seller = app
        .seller("quiet@example.com")
        .funded(500_000)
        .with_key()
        .with_address()
        .signed_in()
        .build()
        .await;
    let v = seller.visitor();
    // Everything on but weight adjustments.
    let r = v
        .submit(
            "/seller/settings",
            "/seller/settings/notifications",
            &[("delivered", "on"), ("exception", "on"), ("held", "on")],
        )
        .await;
    assert_eq!(location(&r), "/seller/settings#notifications");
    let html = v.get("/seller/settings").await.text().await.unwrap();
    assert!(
        html.contains("id=\"notice-weight_adjustment\">"),
        "unchecked: {html}"
    );
    assert!(html.contains("id=\"notice-delivered\" checked"));

    let wh = warehouse_key(&app, "dock7@example.com");
    let s = book(&app, seller.key(), Booking::on("CNPOST-RAM").weight(455)).await;
    let out: Value = scan_json(
        &app,
        &wh,
        json!({"scan_id": "q-1", "tracking_number": s["tracking_number"], "weight_g": 1500}),
    )
    .await;
    assert_eq!(out["result"], "adjusted");
    assert!(mails_of_kind(&app, "weight_adjustment").is_empty());
    // The held kind is still on.
    let s2 = book(&app, seller.key(), Booking::on("CNPOST-RAM").weight(455)).await;
    scan_json(
        &app,
        &wh,
        json!({"scan_id": "q-2", "tracking_number": s2["tracking_number"], "weight_g": 2600}),
    )
    .await;
    assert_eq!(mails_of_kind(&app, "held").len(), 1);
}

#[actix_web::test]
async fn scans_are_refused_clearly() {
    let app = spawn_app().await;
    let seller = app.api_seller("refused@example.com", 500_000).await;
    let wh = warehouse_key(&app, "dock8@example.com");
    let s = book(&app, seller.key(), Booking::on("CNPOST-RAM")).await;
    // A seller's key is not a warehouse key.
    let r = scan(
        &app,
        seller.key(),
        json!({"scan_id": "x", "tracking_number": s["tracking_number"], "weight_g": 500}),
    )
    .await;
    assert_eq!(r.status(), 401);
    // Missing and bad fields, each named.
    let r = scan(
        &app,
        &wh,
        json!({"tracking_number": "", "weight_g": -5, "length_mm": 10}),
    )
    .await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    for f in ["scan_id", "tracking_number", "weight_g", "length_mm"] {
        assert!(body["fields"][f].is_string(), "{f}: {body}");
    }
    // An unknown number.
    let r = scan(
        &app,
        &wh,
        json!({"scan_id": "u", "tracking_number": "RR999999995CN", "weight_g": 500}),
    )
    .await;
    assert_eq!(r.status(), 422);
    // A cancelled parcel is set aside, not measured.
    let id = s["id"].as_str().unwrap();
    let r = app
        .api_post(seller.key(), &format!("/shipments/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(r.status(), 200);
    let r = scan(
        &app,
        &wh,
        json!({"scan_id": "c", "tracking_number": s["tracking_number"], "weight_g": 500}),
    )
    .await;
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("cancelled"),
        "{body}"
    );
}

#[actix_web::test]
async fn the_inbound_page_records_a_scan_and_reloading_it_records_nothing_twice() {
    let app = spawn_app().await;
    let seller = app.api_seller("page@example.com", 500_000).await;
    let s = book(&app, seller.key(), Booking::on("CNPOST-RAM").weight(455)).await;
    let number = s["tracking_number"].as_str().unwrap();
    let before = app.balance(&seller.id);
    let op = app.signed_in(Role::Warehouse, "op@example.com").await;
    let html = op.get("/warehouse").await.text().await.unwrap();
    let token = csrf_in(&html);
    let scan_id = html
        .split("name=\"scan_id\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    // A weight typed wrong: the form says so and keeps the number.
    let r = op
        .post_form(
            "/warehouse/scans",
            &[
                ("csrf_token", &token),
                ("scan_id", &scan_id),
                ("tracking_number", number),
                ("weight_g", "1,2kg"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Enter a whole number"), "{html}");
    assert!(html.contains(number));
    // Sent right, twice (a double press): one scan, one adjustment.
    let typed = number.to_lowercase();
    let form = [
        ("csrf_token", token.as_str()),
        ("scan_id", scan_id.as_str()),
        ("tracking_number", typed.as_str()),
        ("weight_g", "1200"),
        ("location", "Dock 3"),
    ];
    for _ in 0..2 {
        let r = op.post_form("/warehouse/scans", &form).await;
        assert_eq!(location(&r), "/warehouse?location=Dock+3");
    }
    let charged =
        price_at(&app, seller.key(), 1_200).await - price_at(&app, seller.key(), 455).await;
    assert_eq!(app.balance(&seller.id), before - charged);
    let html = op
        .get("/warehouse?location=Dock+3")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("charged to the seller"), "{html}");
    assert_eq!(
        html.matches(&format!("<code>{number}</code>")).count(),
        1,
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "<td class=\"scan-result\">Charged {}</td>",
            cny(charged)
        )),
        "the list says what the scan did: {html}"
    );
    assert!(
        html.contains("value=\"Dock 3\""),
        "the location is kept for the next parcel"
    );
    // A seller cannot open the page.
    let sv = app.signed_in_existing(&seller.email).await;
    assert_eq!(sv.get("/warehouse").await.status(), 403);
}

#[actix_web::test]
async fn an_operator_scans_with_keystrokes_in_chromium() {
    use crate::browser::{browser_sized, find, login, text};
    let app = spawn_app().await;
    let seller = app.api_seller("keys@example.com", 500_000).await;
    let s = book(&app, seller.key(), Booking::on("CNPOST-RAM").weight(1_500)).await;
    let number = s["tracking_number"].as_str().unwrap();
    app.create_user(Role::Warehouse, "keys-op@example.com");
    let (_driver, c) = browser_sized(1024, 768).await;
    login(&c, &app, "keys-op@example.com", crate::helpers::PASSWORD).await;
    c.goto(&format!("{}/warehouse", app.address)).await.unwrap();
    // The scanner types the number and Enter: the page moves on to the weight, sends nothing.
    find(&c, "#tracking_number")
        .await
        .send_keys(&format!("{}\u{E007}", number.to_lowercase()))
        .await
        .unwrap();
    let focused = c
        .execute("return document.activeElement.id", vec![])
        .await
        .unwrap();
    assert_eq!(focused, "weight_g");
    assert_eq!(
        app.balance(&seller.id),
        500_000 - s["price"]["amount"].as_i64().unwrap()
    );
    // The weight and Enter send it.
    find(&c, "#weight_g")
        .await
        .send_keys("300\u{E007}")
        .await
        .unwrap();
    let flash = text(&c, ".flash-ok").await;
    assert!(flash.contains("refunded to the seller"), "{flash}");
    assert!(flash.contains(number), "{flash}");
    assert!(text(&c, "#recent-scans").await.contains(number));
    assert!(app.balance(&seller.id) > 500_000 - s["price"]["amount"].as_i64().unwrap());
}

#[actix_web::test]
async fn a_held_parcel_can_be_booked_again_on_another_channel() {
    let app = spawn_app().await;
    let seller = app
        .seller("rebook@example.com")
        .funded(500_000)
        .with_key()
        .with_address()
        .signed_in()
        .build()
        .await;
    let wh = warehouse_key(&app, "dock9@example.com");
    let s = book(
        &app,
        seller.key(),
        Booking::on("CNPOST-RAM")
            .weight(455)
            .reference("ORD-HELD-1"),
    )
    .await;
    let before = app.balance(&seller.id);
    scan(
        &app,
        &wh,
        json!({"scan_id": "rb-1", "tracking_number": s["tracking_number"], "weight_g": 2600}),
    )
    .await;
    // Scanning it again still says it is held.
    let again = scan_json(
        &app,
        &wh,
        json!({"scan_id": "rb-2", "tracking_number": s["tracking_number"], "weight_g": 2600}),
    )
    .await;
    assert_eq!(again["result"], "held", "{again}");
    let v = seller.visitor();
    let id = s["id"].as_str().unwrap();
    let r = v
        .submit(
            &format!("/shipments/{id}"),
            &format!("/shipments/{id}/held"),
            &[("choice", "rebook")],
        )
        .await;
    assert_eq!(r.status(), 200);
    let form = r.text().await.unwrap();
    // The booking form, filled with the recipient and the parcel as measured.
    assert!(form.contains("value=\"2.6\""), "{form}");
    assert!(form.contains("Anna Müller"));
    assert!(form.contains("ORD-HELD-1"));
    assert!(form.contains("is cancelled"));
    let price = s["price"]["amount"].as_i64().unwrap();
    assert_eq!(app.balance(&seller.id), before + price);
    // The reference is free again: booking it on a channel that takes 2.6 kg works.
    book(
        &app,
        seller.key(),
        Booking::on("CNPOST-EMS")
            .weight(2_600)
            .reference("ORD-HELD-1"),
    )
    .await;
    app.assert_ledger_consistent(&seller.id);
}

#[actix_web::test]
async fn delivered_and_failed_deliveries_are_mailed_unless_turned_off() {
    use crate::tracking::post_events;
    let app = spawn_app().await;
    let seller = app
        .seller("told@example.com")
        .funded(500_000)
        .with_key()
        .with_address()
        .signed_in()
        .build()
        .await;
    let a = book(&app, seller.key(), Booking::on("CNPOST-RAM")).await;
    let b = book(&app, seller.key(), Booking::on("CNPOST-RAM")).await;
    let at = |h: i64| (chrono::Utc::now() - chrono::Duration::hours(h)).to_rfc3339();
    let ev = |id: &str, n: &Value, status: &str, at: String| {
        json!({"id": id, "tracking_number": n, "status": status, "occurred_at": at,
               "location": "Berlin, DE", "description": format!("carrier says {status}")})
    };
    let results = post_events(
        &app,
        "CNPOST-RAM",
        json!([
            ev("a1", &a["tracking_number"], "out_for_delivery", at(3)),
            ev("a2", &a["tracking_number"], "delivered", at(2)),
            ev("b1", &b["tracking_number"], "out_for_delivery", at(3)),
            ev("b2", &b["tracking_number"], "delivery_failed", at(2)),
        ]),
    )
    .await;
    assert!(
        results.iter().all(|r| r["result"] == "accepted"),
        "{results:?}"
    );
    let delivered = mails_of_kind(&app, "delivered");
    assert_eq!(delivered.len(), 1);
    assert!(
        delivered[0]
            .subject
            .contains(a["tracking_number"].as_str().unwrap())
    );
    let failed = mails_of_kind(&app, "exception");
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0].body_text.contains("carrier says delivery_failed"),
        "{}",
        failed[0].body_text
    );
    // Delivered mails turned off: the next delivery is not mailed.
    seller
        .visitor()
        .submit(
            "/seller/settings",
            "/seller/settings/notifications",
            &[
                ("weight_adjustment", "on"),
                ("exception", "on"),
                ("held", "on"),
            ],
        )
        .await;
    let c = book(&app, seller.key(), Booking::on("CNPOST-RAM")).await;
    post_events(
        &app,
        "CNPOST-RAM",
        json!([ev("c1", &c["tracking_number"], "delivered", at(1))]),
    )
    .await;
    assert_eq!(mails_of_kind(&app, "delivered").len(), 1);
}

#[actix_web::test]
async fn the_inbound_page_and_a_measured_shipment_fit_a_phone() {
    use crate::browser::{login, overflow, phone};
    let app = spawn_app().await;
    let seller = app.api_seller("phone-w@example.com", 500_000).await;
    let s = book(&app, seller.key(), Booking::on("CNPOST-RAM").weight(455)).await;
    let wh = warehouse_key(&app, "phone-dock@example.com");
    scan(
        &app,
        &wh,
        json!({"scan_id": "p-1", "tracking_number": s["tracking_number"], "weight_g": 1500,
               "length_mm": 300, "width_mm": 200, "height_mm": 100, "location": "Shenzhen hub, dock 3"}),
    )
    .await;
    app.create_user(Role::Warehouse, "phone-op@example.com");
    for (email, page) in [
        ("phone-op@example.com", "/warehouse".to_string()),
        (
            "phone-w@example.com",
            format!("/shipments/{}", s["id"].as_str().unwrap()),
        ),
    ] {
        let (_driver, c) = phone(390, 844).await;
        login(&c, &app, email, crate::helpers::PASSWORD).await;
        c.goto(&format!("{}{page}", app.address)).await.unwrap();
        crate::browser::find(&c, "main").await;
        let (scroll, inner) = overflow(&c).await;
        assert!(scroll <= inner, "{page} is {scroll} px wide in {inner} px");
    }
}

/// A rate card raised after booking can make the difference on the new card larger than the
/// freight paid: the refund stops at what the shipment holds (it was refused with 409 on every
/// scan, so the parcel could never be received).
#[actix_web::test]
async fn a_refund_never_exceeds_the_freight_paid_after_the_card_changed() {
    let app = spawn_app().await;
    let seller = app.api_seller("card-moved@example.com", 500_000).await;
    let wh = warehouse_key(&app, "dock-card@example.com");
    let before_booking = app.balance(&seller.id);
    let s = book(&app, seller.key(), Booking::on("CNPOST-RAM").weight(1_500)).await;
    let paid = s["price"]["amount"].as_i64().unwrap();

    // The admin multiplies Europe's step price by ten.
    let admin = app.signed_in(Role::Admin, "card-admin@example.com").await;
    let page = "/admin/channels/CNPOST-RAM";
    let csv = admin.get_html(&format!("{page}/rates.csv")).await;
    let europe = csv.lines().find(|l| l.starts_with("Europe,")).unwrap();
    let mut fields: Vec<String> = europe.split(',').map(str::to_string).collect();
    let step: f64 = fields[6].parse().unwrap();
    fields[6] = format!("{:.2}", step * 10.0);
    let edited = csv.replace(europe, &fields.join(","));
    let r = admin.upload_rate_card(page, edited).await;
    assert_eq!(location(&r), page);

    let body =
        json!({"scan_id": "card-1", "tracking_number": s["tracking_number"], "weight_g": 455});
    let out = scan_json(&app, &wh, body.clone()).await;
    assert_eq!(out["result"], "adjusted", "{out}");
    assert_eq!(out["adjustment"]["amount"], -paid, "{out}");
    assert_eq!(
        app.balance(&seller.id),
        before_booking,
        "the freight back, no more"
    );
    let again = scan_json(&app, &wh, body).await;
    assert_eq!(again["adjustment"]["amount"], -paid, "{again}");
    assert_eq!(app.balance(&seller.id), before_booking);
    app.assert_ledger_consistent(&seller.id);
}
