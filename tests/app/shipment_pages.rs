//! The seller's booking pages over HTTP: address book, form errors, quote and book, list
//! filters, cancel, and one seller never reaching another's shipment.

use waybill::domain::Role;

use crate::helpers::*;

fn form_fields<'a>(action: &'a str, channel: &'a str, key: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("recipient_name", "Marie Dubois"),
        ("recipient_street1", "12 Rue de Rivoli"),
        ("recipient_city", "Paris"),
        ("recipient_postal_code", "75004"),
        ("recipient_country", "FR"),
        ("recipient_phone", "+33 1 23 45 67 89"),
        ("weight_kg", "0.8"),
        ("length_cm", "25"),
        ("width_cm", "18"),
        ("height_cm", "8"),
        ("reference", "FR-1"),
        ("contents_type", "gift"),
        ("item1_description", "Tea set"),
        ("item1_quantity", "1"),
        ("item1_value", "30"),
        ("item1_currency", "EUR"),
        ("item1_weight_g", "700"),
        ("item1_hs_code", "691110"),
        ("item1_origin", "CN"),
        ("action", action),
        ("channel", channel),
        ("form_key", key),
    ]
}

/// Presses "Get quotes" on the booking form filled in with `form_fields`: the signed quote id
/// it shows for CNPOST-EPACKET.
async fn quote_on_form(v: &Visitor, key: &str) -> String {
    let page = v
        .submit(
            "/shipments/new",
            "/shipments/new",
            &form_fields("quote", "", key),
        )
        .await
        .text()
        .await
        .unwrap();
    quote_id_in(&page, "CNPOST-EPACKET")
}

/// Presses "Book and pay" on CNPOST-EPACKET with the quote the form carries.
async fn book_on_form(v: &Visitor, key: &str, quote: &str) -> reqwest::Response {
    let mut fields = form_fields("book", "CNPOST-EPACKET", key);
    fields.push(("quote_id_CNPOST-EPACKET", quote));
    v.submit("/shipments/new", "/shipments/new", &fields).await
}

/// The signed quote id the booking form carries for `channel`.
pub fn quote_id_in(page: &str, channel: &str) -> String {
    let marker = format!("name=\"quote_id_{channel}\" value=\"");
    let start = page.find(&marker).expect("no quote id for the channel") + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

#[actix_web::test]
async fn the_form_never_charges_a_price_the_seller_was_not_shown() {
    let app = spawn_app().await;
    let (v, seller) = app.seller_with_address("unseen@example.com").await;
    let key = "fedcba9876543210fedcba9876543210";
    let quote = quote_on_form(&v, key).await;
    let before = app.balance(&seller);
    // The seller changes the weight after quoting and presses "Book and pay".
    let mut fields: Vec<(&str, &str)> = form_fields("book", "CNPOST-EPACKET", key)
        .into_iter()
        .map(|(k, v)| if k == "weight_kg" { (k, "1.9") } else { (k, v) })
        .collect();
    fields.push(("quote_id_CNPOST-EPACKET", &quote));
    let r = v.submit("/shipments/new", "/shipments/new", &fields).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"booking-alert\"") && page.contains("Nothing was charged"));
    assert_eq!(app.balance(&seller), before, "nothing charged");
    // The page now shows the price for 1.9 kg; booking that quote charges exactly it.
    let fresh = quote_id_in(&page, "CNPOST-EPACKET");
    assert_ne!(fresh, quote);
    let mut fields: Vec<(&str, &str)> = form_fields("book", "CNPOST-EPACKET", key)
        .into_iter()
        .map(|(k, v)| if k == "weight_kg" { (k, "1.9") } else { (k, v) })
        .collect();
    fields.push(("quote_id_CNPOST-EPACKET", &fresh));
    let r = v.submit("/shipments/new", "/shipments/new", &fields).await;
    assert_eq!(r.status(), 303);
    let shown: i64 = fresh.split('_').nth(2).unwrap().parse().unwrap();
    assert_eq!(
        app.balance(&seller),
        before - shown,
        "charged the price shown"
    );
    // Booking without any quote id is refused too.
    let r = v
        .submit(
            "/shipments/new",
            "/shipments/new",
            &form_fields("book", "CNPOST-EPACKET", "0000000000000000aaaa"),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(app.balance(&seller), before - shown);
}

#[actix_web::test]
async fn a_short_wallet_says_so_at_the_top_with_a_top_up_link() {
    let app = spawn_app().await;
    let (v, seller) = app.seller_with_address("short@example.com").await;
    let drain = app.balance(&seller) - 100;
    app.post(
        &seller,
        waybill::services::wallet::Kind::Charge,
        drain,
        "drain",
    )
    .unwrap();
    let key = "aaaabbbbccccddddaaaabbbbccccdddd";
    let quote = quote_on_form(&v, key).await;
    let page = book_on_form(&v, key, &quote).await.text().await.unwrap();
    let alert = page.find("id=\"booking-alert\"").expect("alert at the top");
    assert!(alert < page.find("id=\"shipment-form\"").unwrap());
    let price: i64 = quote.split('_').nth(2).unwrap().parse().unwrap();
    let short = format!("{}.{:02}", (price - 100) / 100, (price - 100) % 100);
    assert!(
        page.contains(&format!("href=\"/wallet?amount={short}\"")),
        "a link to top up the difference"
    );
    assert!(
        v.get_html(&format!("/wallet?amount={short}"))
            .await
            .contains(&format!("value=\"{short}\""))
    );
}

#[actix_web::test]
async fn the_address_book_adds_edits_defaults_and_deletes() {
    let app = spawn_app().await;
    let (v, seller) = app.seller_with_address("book@example.com").await;
    let bad = v
        .submit(
            "/seller/addresses",
            "/seller/addresses",
            &[("name", ""), ("country", "GB"), ("postal_code", "123")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let page = bad.text().await.unwrap();
    assert!(page.contains("id=\"name-error\"") && page.contains("not a valid GB postal code"));
    v.submit(
        "/seller/addresses",
        "/seller/addresses",
        &[
            ("name", "Warehouse 2"),
            ("street1", "9 Port Rd"),
            ("city", "Ningbo"),
            ("postal_code", "315000"),
            ("country", "CN"),
            ("phone", "13900139000"),
            ("default", "1"),
        ],
    )
    .await;
    let rows = waybill::db::addresses::list(&mut app.conn(), &seller).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].name, "Warehouse 2", "the new default comes first");
    let first = rows[1].id.clone();
    let r = v
        .submit(
            &format!("/seller/addresses/{first}/edit"),
            &format!("/seller/addresses/{first}"),
            &[
                ("name", "Li Wei (front desk)"),
                ("street1", "18 Keyuan Rd"),
                ("city", "Shenzhen"),
                ("postal_code", "518057"),
                ("country", "CN"),
                ("phone", "13800138000"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/seller/addresses");
    v.submit(
        "/seller/addresses",
        &format!("/seller/addresses/{first}/default"),
        &[],
    )
    .await;
    let d = waybill::db::addresses::default_for(&mut app.conn(), &seller)
        .unwrap()
        .unwrap();
    assert_eq!(d.name, "Li Wei (front desk)");
    v.submit(
        "/seller/addresses",
        &format!("/seller/addresses/{first}/delete"),
        &[],
    )
    .await;
    let rows = waybill::db::addresses::list(&mut app.conn(), &seller).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0].is_default,
        "the remaining address becomes the default"
    );
    // Another seller cannot touch it.
    let other = app.signed_in(Role::Seller, "other@example.com").await;
    let id = &rows[0].id;
    assert_eq!(
        other
            .get(&format!("/seller/addresses/{id}/edit"))
            .await
            .status(),
        404
    );
    assert_eq!(
        other
            .submit(
                "/seller/addresses",
                &format!("/seller/addresses/{id}/delete"),
                &[]
            )
            .await
            .status(),
        404
    );
}

#[actix_web::test]
async fn quote_then_book_then_cancel_on_the_pages() {
    let app = spawn_app().await;
    let (v, seller) = app.seller_with_address("pages@example.com").await;
    let key = "0123456789abcdef0123456789abcdef";
    let r = v
        .submit(
            "/shipments/new",
            "/shipments/new",
            &form_fields("quote", "", key),
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"channel-CNPOST-RAM\"") && page.contains("Book and pay"));
    let quote = quote_id_in(&page, "CNPOST-EPACKET");
    let r = book_on_form(&v, key, &quote).await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    // A double submit of the same form books once.
    let again = book_on_form(&v, key, &quote).await;
    assert_eq!(location(&again), to);
    let detail = v.get_html(&to).await;
    assert!(detail.contains("Marie Dubois") && detail.contains("Tea set"));
    let list = v.get_html("/shipments?q=marie").await;
    assert!(list.contains("FR-1") && list.contains("1 shipment<"));
    assert!(
        v.get_html("/shipments?status=cancelled")
            .await
            .contains("0 shipments")
    );
    // Filters by channel and by booking date.
    assert!(
        v.get_html("/shipments?channel=CNPOST-EPACKET")
            .await
            .contains("1 shipment<")
    );
    assert!(
        v.get_html("/shipments?channel=DHL-EXPRESS")
            .await
            .contains("0 shipments")
    );
    let today = seller_today();
    let tomorrow = today + chrono::Duration::days(1);
    assert!(
        v.get_html(&format!("/shipments?from={today}&to={today}"))
            .await
            .contains("1 shipment<")
    );
    assert!(
        v.get_html(&format!("/shipments?from={tomorrow}"))
            .await
            .contains("0 shipments")
    );
    let before = app.balance(&seller);
    let id = to.trim_start_matches("/shipments/");
    let r = v.submit(&to, &format!("/shipments/{id}/cancel"), &[]).await;
    assert_eq!(location(&r), to);
    let detail = v.get_html(&to).await;
    assert!(
        detail.contains("is back in your wallet") && detail.contains("id=\"status\">Cancelled<")
    );
    assert!(before < app.balance(&seller));
    assert_eq!(app.balance(&seller), 200_000);
    assert!(
        v.get_html("/shipments?status=cancelled")
            .await
            .contains("1 shipment<")
    );
    let other = app.signed_in(Role::Seller, "nosy@example.com").await;
    assert_eq!(other.get(&to).await.status(), 404);
    assert!(other.get_html("/shipments").await.contains("0 shipments"));
}

#[actix_web::test]
async fn the_form_shows_each_error_next_to_its_field() {
    let app = spawn_app().await;
    let (v, _) = app.seller_with_address("typo@example.com").await;
    let mut fields = form_fields("book", "", "0123456789abcdef0123456789abcdef");
    for f in fields.iter_mut() {
        match f.0 {
            "recipient_name" => f.1 = "Мария",
            "recipient_postal_code" => f.1 = "7500",
            "weight_kg" => f.1 = "heavy",
            "item1_hs_code" => f.1 = "12",
            _ => {}
        }
    }
    let r = v.submit("/shipments/new", "/shipments/new", &fields).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    for (id, msg) in [
        ("recipient_name-error", "Latin letters"),
        ("recipient_postal_code-error", "FR postal code"),
        ("weight_kg-error", "weight in kg"),
        ("item1_hs_code-error", "6 to 10 digits"),
    ] {
        let at = page
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no {id}"));
        assert!(
            page[at..at + 250].contains(msg),
            "{id}: {}",
            &page[at..at + 250]
        );
    }
    assert!(page.contains("value=\"Мария\""), "what was typed stays");
    // The banner at the top links to the first error, which is on the page.
    let first = page
        .split("id=\"first-error\"")
        .next()
        .and_then(|h| h.rsplit("href=\"#").next())
        .and_then(|h| h.split('"').next())
        .unwrap_or_else(|| panic!("no link to the first error: {page}"));
    assert!(
        page.contains(&format!("id=\"{first}\"")),
        "#{first} is not on the page"
    );
}

#[actix_web::test]
async fn the_dashboard_shows_balance_recent_shipments_and_what_needs_doing() {
    let app = spawn_app().await;
    let fresh = app.seller("new@example.com").signed_in().build().await;
    let page = fresh.visitor().get_html("/seller").await;
    assert!(page.contains("id=\"checklist\""), "first-run checklist");
    assert!(page.contains("href=\"/seller/addresses\"") && page.contains("Top up your wallet"));
    assert!(page.contains("href=\"/shipments/new\" class=\"button-link\" id=\"ship\""));

    let (v, _) = app.seller_with_address("busy-dash@example.com").await;
    let key = "dashdashdashdashdashdashdashdash";
    let quote = quote_on_form(&v, key).await;
    let to = location(&book_on_form(&v, key, &quote).await);
    let page = v.get_html("/seller").await;
    assert!(!page.contains("id=\"checklist\""), "all three steps done");
    assert!(
        page.contains("id=\"unprinted\">1 label not printed yet"),
        "{page}"
    );
    assert!(page.contains("id=\"awaiting\">1 shipment waiting"));
    assert!(page.contains("Marie Dubois, Paris FR"));
    // The link lists exactly those labels.
    let href = page
        .split("id=\"unprinted\"")
        .next()
        .and_then(|h| h.rsplit("href=\"").next())
        .and_then(|h| h.split('"').next())
        .unwrap()
        .to_string();
    assert_eq!(href, "/shipments?labels=unprinted");
    let list = v.get_html(&href).await;
    assert!(list.contains("1 shipment<"), "{list}");
    assert!(list.contains(&format!("href=\"{to}\"")), "{list}");
    // Printing the label clears "not printed".
    assert_eq!(v.get(&format!("{to}/label")).await.status(), 200);
    assert!(v.get_html("/seller").await.contains("All labels printed"));
    assert!(v.get_html(&href).await.contains("0 shipments<"));
}

#[actix_web::test]
async fn settings_change_time_zone_label_size_and_password() {
    let app = spawn_app().await;
    let (v, seller) = app.seller_with_address("prefs@example.com").await;
    // Times are shown in Asia/Shanghai until the seller picks another zone.
    let key = "prefsprefsprefsprefsprefsprefspr";
    let quote = quote_on_form(&v, key).await;
    let to = location(&book_on_form(&v, key, &quote).await);
    assert!(v.get_html(&to).await.contains(" UTC+8</dd>"));
    let bad = v
        .submit(
            "/seller/settings",
            "/seller/settings/preferences",
            &[("timezone", "Mars/Olympus"), ("label_size", "a4")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("id=\"timezone-error\""));
    let r = v
        .submit(
            "/seller/settings",
            "/seller/settings/preferences",
            &[("timezone", "Europe/Berlin"), ("label_size", "a4")],
        )
        .await;
    assert_eq!(location(&r), "/seller/settings");
    assert!(
        v.get_html(&to).await.contains(" UTC+1</dd>"),
        "shown in Berlin time"
    );
    // The default size applies when none is asked for: an A4 page.
    let pdf = v.get(&format!("{to}/label")).await.bytes().await.unwrap();
    let info = crate::labels::pdf_info(&pdf);
    assert!(info.contains("(A4)"), "{info}");

    // Password: the current one is required, and the change ends other sessions.
    let other_device = app.visitor();
    assert_eq!(
        other_device
            .login("prefs@example.com", PASSWORD)
            .await
            .status(),
        303
    );
    let wrong = v
        .submit(
            "/seller/settings",
            "/seller/settings/password",
            &[
                ("current_password", "not-it-at-all"),
                ("password", "a-new-long-password"),
                ("password_confirm", "a-new-long-password"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    let r = v
        .submit(
            "/seller/settings",
            "/seller/settings/password",
            &[
                ("current_password", PASSWORD),
                ("password", "a-new-long-password"),
                ("password_confirm", "a-new-long-password"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/seller/settings");
    assert_eq!(
        v.get("/seller").await.status(),
        200,
        "this browser stays in"
    );
    assert_eq!(
        other_device.get("/seller").await.status(),
        303,
        "the other device is signed out"
    );
    assert_eq!(
        app.visitor()
            .login("prefs@example.com", "a-new-long-password")
            .await
            .status(),
        303
    );
    let _ = seller;
}

#[actix_web::test]
async fn a_seller_with_no_address_adds_one_and_comes_back_to_the_booking_form() {
    let app = spawn_app().await;
    let v = app
        .signed_in(Role::Seller, "first-parcel@example.com")
        .await;
    let page = v.get_html("/shipments/new").await;
    assert!(page.contains("id=\"needs-address\""), "{page}");
    assert!(
        !page.contains("id=\"shipment-form\""),
        "no form to fill in vain"
    );
    assert!(page.contains("href=\"/seller/addresses?next=/shipments/new\""));

    let address = [
        ("name", "王小明"),
        ("street1", "科技园南路 18号"),
        ("city", "深圳"),
        ("postal_code", "518057"),
        ("country", "CN"),
        ("phone", "13800138000"),
    ];
    // A mistake keeps the way back on the form.
    let r = v
        .submit(
            "/seller/addresses?next=/shipments/new",
            "/seller/addresses",
            &[("next", "/shipments/new"), ("country", "CN")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("name=\"next\" value=\"/shipments/new\"")
    );
    let mut form = address.to_vec();
    form.push(("next", "/shipments/new"));
    let r = v
        .submit(
            "/seller/addresses?next=/shipments/new",
            "/seller/addresses",
            &form,
        )
        .await;
    assert_eq!(location(&r), "/shipments/new");
    let page = v.get_html("/shipments/new").await;
    assert!(page.contains("id=\"shipment-form\""), "{page}");
    assert!(
        page.contains("Wang Xiaoming") || page.contains("王小明"),
        "{page}"
    );

    // Only a path on this site is followed.
    let mut form = address.to_vec();
    form.push(("next", "//evil.example/x"));
    let r = v
        .submit("/seller/addresses", "/seller/addresses", &form)
        .await;
    assert_eq!(location(&r), "/seller/addresses");
    let page = v
        .get_html("/seller/addresses?next=https://evil.example/")
        .await;
    assert!(!page.contains("evil.example"), "{page}");
}
