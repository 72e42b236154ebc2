//! Quotes over the approved channels, through the API, and switching channels off.

use serde_json::{Value, json};
use waybill::domain::Role;

use crate::helpers::*;

fn find<'a>(quotes: &'a [Value], code: &str) -> &'a Value {
    quotes
        .iter()
        .find(|q| q["channel"] == code)
        .unwrap_or_else(|| panic!("no {code}"))
}

async fn quote(app: &TestApp, key: &str, country: &str, parcel: Value) -> Vec<Value> {
    let r = app
        .api_post(
            key,
            "/quotes",
            &json!({"recipient": {"country": country}, "parcel": parcel}),
        )
        .await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["quotes"]
        .as_array()
        .unwrap()
        .clone()
}

#[actix_web::test]
async fn every_enabled_channel_answers_with_price_or_reasons() {
    let app = spawn_app().await;
    app.load_channels();
    let key = app.api_key(&app.create_user(Role::Seller, "quoter@example.com").id);
    let small = json!({"weight_g": 455, "length_mm": 200, "width_mm": 150, "height_mm": 50});
    let quotes = quote(&app, &key, "de", small).await;
    assert_eq!(quotes.len(), 9);
    // Eligible first, cheapest first; then the ineligible ones.
    let eligible: Vec<&Value> = quotes
        .iter()
        .take_while(|q| q["eligible"] == true)
        .collect();
    assert_eq!(
        eligible.len(),
        8,
        "all but TOLL, which does not serve Europe"
    );
    let prices: Vec<i64> = eligible
        .iter()
        .map(|q| q["price"]["amount"].as_i64().unwrap())
        .collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "{prices:?}");
    let ram = find(&quotes, "CNPOST-RAM");
    assert_eq!(ram["chargeable_weight_g"], 460);
    // Europe is 160% of the base: 50 g first at ¥7.20, 41 steps of 10 g at ¥1.44, ¥28.80 registration.
    assert_eq!(
        ram["price"],
        json!({"amount": 720 + 41 * 144 + 2_880, "currency": "CNY"})
    );
    assert_eq!(ram["breakdown"]["zone"], "Europe");
    assert_eq!(ram["transit_days"], json!({"min": 10, "max": 25}));
    let toll = find(&quotes, "TOLL-PRIORITY");
    assert_eq!(toll["eligible"], false);
    assert_eq!(toll["price"], Value::Null);
    assert_eq!(toll["reasons"], json!(["Does not deliver to DE."]));
    let ups = find(&quotes, "UPS-SAVER");
    assert_eq!(ups["chargeable_weight_g"], 500);
    assert_eq!(ups["carrier"], "UPS");
}

#[actix_web::test]
async fn heavy_and_bulky_parcels_are_refused_with_reasons_and_charged_by_volume() {
    let app = spawn_app().await;
    app.load_channels();
    let key = app.api_key(&app.create_user(Role::Seller, "bulky@example.com").id);
    let box_ = json!({"weight_g": 2_500, "length_mm": 400, "width_mm": 300, "height_mm": 200});
    let quotes = quote(&app, &key, "US", box_).await;
    let ram = find(&quotes, "CNPOST-RAM");
    assert_eq!(ram["eligible"], false);
    assert_eq!(
        ram["reasons"],
        json!(["Too heavy: 2.5 kg is over this channel's limit of 2 kg."])
    );
    // 400×300×200 mm at divisor 5000 is 4.8 kg: charged as 5 kg, not the actual 2.5 kg.
    let dhl = find(&quotes, "DHL-EXPRESS");
    assert_eq!(dhl["eligible"], true);
    assert_eq!(dhl["chargeable_weight_g"], 5_000);
    let ems = find(&quotes, "CNPOST-EMS");
    assert_eq!(ems["chargeable_weight_g"], 4_000, "EMS uses divisor 6000");
    for q in &quotes {
        assert!(q["chargeable_weight_g"].as_i64().unwrap() >= 2_500);
    }
}

#[actix_web::test]
async fn bad_quote_requests_get_field_errors() {
    let app = spawn_app().await;
    app.load_channels();
    let key = app.api_key(&app.create_user(Role::Seller, "sloppy@example.com").id);
    let r = app.api_post(&key, "/quotes", &json!({"recipient": {"country": "Germania"}, "parcel": {"weight_g": 0, "length_mm": 10}})).await;
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "Some fields are not valid");
    for f in ["recipient.country", "parcel.width_mm", "parcel.height_mm"] {
        assert!(body["fields"][f].is_string(), "{f}: {body}");
    }
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/quotes", app.address))
        .bearer_auth(&key)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
    let r = app.api_post("wb_nope", "/quotes", &json!({})).await;
    assert_eq!(r.status(), 401);
}

#[actix_web::test]
async fn a_disabled_channel_is_no_longer_quoted() {
    let app = spawn_app().await;
    app.load_channels();
    let key = app.api_key(&app.create_user(Role::Seller, "watcher@example.com").id);
    let admin = app.signed_in(Role::Admin, "ops@example.com").await;
    let page = admin.get_html("/admin/channels").await;
    assert!(page.contains("China Post Registered Air Mail") && page.contains("actual weight"));
    let r = admin
        .submit(
            "/admin/channels",
            "/admin/channels/FEDEX-IP/enabled",
            &[("enabled", "false")],
        )
        .await;
    assert_eq!(location(&r), "/admin/channels");
    assert!(
        admin
            .get_html("/admin/channels")
            .await
            .contains("FEDEX-IP disabled")
    );
    let parcel = json!({"weight_g": 800, "length_mm": 300, "width_mm": 200, "height_mm": 100});
    let quotes = quote(&app, &key, "US", parcel.clone()).await;
    assert_eq!(quotes.len(), 8);
    assert!(quotes.iter().all(|q| q["channel"] != "FEDEX-IP"));
    admin
        .submit(
            "/admin/channels",
            "/admin/channels/FEDEX-IP/enabled",
            &[("enabled", "true")],
        )
        .await;
    assert_eq!(quote(&app, &key, "US", parcel).await.len(), 9);
    let r = admin
        .submit(
            "/admin/channels",
            "/admin/channels/NOPE/enabled",
            &[("enabled", "true")],
        )
        .await;
    assert_eq!(r.status(), 404);
}

#[actix_web::test]
async fn operators_edit_limits_and_replace_the_rate_card() {
    let app = spawn_app().await;
    app.load_channels();
    let key = app.api_key(&app.create_user(Role::Seller, "price-watch@example.com").id);
    let admin = app.signed_in(Role::Admin, "rates@example.com").await;
    let page = "/admin/channels/CNPOST-RAM";
    let limits = |w: &'static str| {
        vec![
            ("max_weight_g", w),
            ("max_length_mm", "600"),
            ("max_sum_sides_mm", "900"),
            ("volumetric_divisor", ""),
            ("transit_min_days", "10"),
            ("transit_max_days", "25"),
            ("door_pickup", "1"),
        ]
    };
    // Quoted once before the edit, so the channel's parsed terms are already cached.
    let parcel = json!({"weight_g": 1_800, "length_mm": 200, "width_mm": 150, "height_mm": 50});
    let ram = quote(&app, &key, "DE", parcel.clone())
        .await
        .into_iter()
        .find(|q| q["channel"] == "CNPOST-RAM")
        .unwrap();
    assert_eq!(ram["eligible"], true, "{ram}");
    let bad = admin.submit(page, page, &limits("heavy")).await;
    assert_eq!(bad.status(), 422);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("id=\"max_weight_g-error\"")
    );
    assert_eq!(
        location(&admin.submit(page, page, &limits("1500")).await),
        page
    );
    let ram = quote(&app, &key, "DE", parcel)
        .await
        .into_iter()
        .find(|q| q["channel"] == "CNPOST-RAM")
        .unwrap();
    assert_eq!(
        ram["reasons"],
        json!(["Too heavy: 1.8 kg is over this channel's limit of 1.5 kg."])
    );

    // Download the card, raise Europe's registration fee, upload it again.
    let csv = admin.get_html(&format!("{page}/rates.csv")).await;
    assert!(csv.starts_with(waybill::domain::rates::CSV_HEADER));
    let europe = csv
        .lines()
        .find(|l| l.starts_with("Europe,"))
        .unwrap()
        .to_string();
    assert!(europe.ends_with(",28.80"), "{europe}");
    let edited = csv.replace(&europe, &europe.replace(",28.80", ",40.00"));
    let upload = |body: String| admin.upload_rate_card(page, body);
    let r = upload(edited).await;
    assert_eq!(location(&r), page);
    let small = json!({"weight_g": 455, "length_mm": 200, "width_mm": 150, "height_mm": 50});
    let ram = quote(&app, &key, "DE", small)
        .await
        .into_iter()
        .find(|q| q["channel"] == "CNPOST-RAM")
        .unwrap();
    assert_eq!(ram["price"]["amount"], 720 + 41 * 144 + 4_000);
    let r = upload(csv.replace("steps", "stairs")).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("pricing must be `steps` or `bands`")
    );
}
